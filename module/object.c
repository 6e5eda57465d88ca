// SPDX-License-Identifier: GPL-2.0
/*
 * The per-context object registry: id allocation, publication, lookup,
 * destruction and the teardown of everything when the file is released.
 * See iommufd_private.h for the meaning of the two counters.
 */
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

struct iommufd_object_ops {
	void (*destroy)(struct iommufd_object *obj);
};

static const struct iommufd_object_ops iommufd_object_ops[] = {
	[IOMMUFD_OBJ_DEVICE] = {
		.destroy = iommufd_device_destroy,
	},
	[IOMMUFD_OBJ_HWPT_PAGING] = {
		.destroy = iommufd_hwpt_paging_destroy,
	},
	[IOMMUFD_OBJ_IOAS] = {
		.destroy = iommufd_ioas_destroy,
	},
	[IOMMUFD_OBJ_ACCESS] = {
		.destroy = iommufd_access_destroy_object,
	},
	[IOMMUFD_OBJ_SELFTEST] = {
		.destroy = iommufd_selftest_destroy,
	},
};

/*
 * Reserve an id and allocate the object.  The id stays invisible to lookups
 * (XA_ZERO_ENTRY) until iommufd_object_finalize(), so no other thread can
 * reach a half-built object.
 */
struct iommufd_object *_iommufd_object_alloc(struct iommufd_ctx *ictx,
					     size_t size,
					     enum iommufd_object_type type)
{
	struct iommufd_object *obj;
	int rc;

	obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	if (!obj)
		return ERR_PTR(-ENOMEM);
	obj->type = type;
	refcount_set(&obj->shortterm_users, 1);
	refcount_set(&obj->users, 1);

	/* Id 0 is never handed out: user space uses it to mean "none". */
	rc = xa_alloc(&ictx->objects, &obj->id, XA_ZERO_ENTRY, xa_limit_31b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto err_free;
	return obj;

err_free:
	kfree(obj);
	return ERR_PTR(rc);
}

void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	void *old;

	old = xa_store(&ictx->objects, obj->id, obj, GFP_KERNEL);
	/* The id was reserved at allocation, so the store cannot fail. */
	WARN_ON(old);
}

/* Undo iommufd_object_alloc() for an object that was never finalized. */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	void *old;

	old = xa_erase(&ictx->objects, obj->id);
	WARN_ON(old);
	kfree(obj);
}

/*
 * For an object whose type-specific part was already set up: run its
 * destroy callback, then release the id and memory.
 */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	iommufd_object_ops[obj->type].destroy(obj);
	iommufd_object_abort(ictx, obj);
}

struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type)
{
	struct iommufd_object *obj;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, id);
	if (!obj || xa_is_zero(obj) ||
	    (type != IOMMUFD_OBJ_ANY && obj->type != type) ||
	    !refcount_inc_not_zero(&obj->shortterm_users)) {
		obj = ERR_PTR(-ENOENT);
	} else {
		/* Published objects always hold the registry's user. */
		refcount_inc(&obj->users);
	}
	xa_unlock(&ictx->objects);
	return obj;
}

void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	/*
	 * users first, as upstream does: a destroy that finds users at one
	 * may then only have to wait for this shortterm_users to follow.
	 */
	refcount_dec(&obj->users);
	if (refcount_dec_and_test(&obj->shortterm_users))
		wake_up_all(&ictx->destroy_wait);
}

static void iommufd_object_free(struct iommufd_object *obj)
{
	iommufd_object_ops[obj->type].destroy(obj);
	kfree(obj);
}

/*
 * Drop the registry's bias on @obj->shortterm_users and wait until no
 * ioctl holds it.  Lookups take shortterm_users with inc_not_zero, so once
 * it is zero none can start.
 */
static void iommufd_object_drain_shortterm(struct iommufd_ctx *ictx,
					   struct iommufd_object *obj)
{
	if (!refcount_dec_and_test(&obj->shortterm_users))
		wait_event(ictx->destroy_wait,
			   refcount_read(&obj->shortterm_users) == 0);
}

/*
 * Take object @id out of the registry and destroy it.  ENOENT if there is
 * no such object; EBUSY if anything else holds it, another object that
 * depends on it or an ioctl using it right now, as upstream answers.
 * With @owned (the kernel destroying an object it owns, which must be the
 * one at @id) running ioctls are waited for instead of refused.
 */
static int iommufd_object_remove_id(struct iommufd_ctx *ictx, u32 id,
				    struct iommufd_object *owned)
{
	XA_STATE(xas, &ictx->objects, id);
	struct iommufd_object *obj;
	int rc;

	if (owned)
		iommufd_object_drain_shortterm(ictx, owned);

	xa_lock(&ictx->objects);
	obj = xas_load(&xas);
	if (!obj || xa_is_zero(obj) || (owned && obj != owned)) {
		rc = -ENOENT;
		goto err_unlock;
	}
	if (!refcount_dec_if_one(&obj->users)) {
		rc = -EBUSY;
		goto err_unlock;
	}
	xas_store(&xas, NULL);
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
	xa_unlock(&ictx->objects);

	/* users is zero: only puts of finishing ioctls can be in flight. */
	if (!owned)
		iommufd_object_drain_shortterm(ictx, obj);
	iommufd_object_free(obj);
	return 0;

err_unlock:
	if (owned)
		refcount_set(&owned->shortterm_users, 1);
	xa_unlock(&ictx->objects);
	return rc;
}

int iommufd_object_remove(struct iommufd_ctx *ictx, u32 id)
{
	return iommufd_object_remove_id(ictx, id, NULL);
}

/*
 * Destroy an object on behalf of the kernel object that owned it (an auto
 * HWPT after its last device, a device after its backend unbound it).  The
 * owner already dropped its reference; user space may have destroyed the
 * object first, which is fine.
 */
void iommufd_object_destroy_owned(struct iommufd_ctx *ictx,
				  struct iommufd_object *obj)
{
	int rc = iommufd_object_remove_id(ictx, obj->id, obj);

	WARN_ON(rc && rc != -ENOENT);
}

int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;

	return iommufd_object_remove(ucmd->ictx, cmd->id);
}

/*
 * Release of the file: no ioctl can be running, so only long-term users
 * matter.  Each pass frees the objects nothing depends on, which releases
 * their hold on others; dependency chains are short, so this converges in
 * a few passes.  A pass that frees nothing means a reference leaked.
 */
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx)
{
	struct iommufd_object *obj;
	unsigned long index;
	bool progress;

	/* Not a reference, and about to dangle. */
	ictx->vfio_ioas = NULL;
	do {
		progress = false;
		xa_for_each(&ictx->objects, index, obj) {
			if (!refcount_dec_if_one(&obj->users))
				continue;
			progress = true;
			xa_erase(&ictx->objects, index);
			iommufd_object_free(obj);
			cond_resched();
		}
	} while (progress);

	WARN(!xa_empty(&ictx->objects),
	     "iommufd: objects still referenced at release\n");
	xa_destroy(&ictx->objects);
}
