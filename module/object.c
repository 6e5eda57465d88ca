// SPDX-License-Identifier: GPL-2.0
/*
 * The per-context object registry.
 *
 * An object's slot in ictx->objects tells its stage:
 *
 *   XA_ZERO_ENTRY, object being built    iommufd_object_alloc() took the id;
 *                                        nobody else can see the object
 *   the object                           published: lookups find it
 *   XA_ZERO_ENTRY, object being retired  unpublished: lookups and
 *                                        IOMMU_DESTROY miss it; the id stays
 *                                        taken until the memory is freed, so
 *                                        it is never handed out twice while
 *                                        anything may still name it
 *   empty                                freed
 *
 * An object is retired in one of two ways.  User space (IOMMU_DESTROY, or
 * the release of the file) may retire it only while the registry's hold is
 * the only one.  A kernel owner (the backend of a device, the devices of
 * an automatic HWPT, the creator of an access) keeps a hold of its own,
 * which makes IOMMU_DESTROY answer EBUSY, and gives it up in the same
 * xa_lock section that unpublishes the object: there is no moment in which
 * user space could retire an object its owner is still letting go of.
 * See iommufd_private.h for the two counters.
 */
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

typedef void (*iommufd_destroy_fn)(struct iommufd_object *obj);

/* What tearing down each type takes, besides freeing its memory. */
static const iommufd_destroy_fn iommufd_destroy_fns[IOMMUFD_OBJ_MAX] = {
	[IOMMUFD_OBJ_DEVICE] = iommufd_device_destroy,
	[IOMMUFD_OBJ_HWPT_PAGING] = iommufd_hwpt_paging_destroy,
	[IOMMUFD_OBJ_HWPT_NESTED] = iommufd_hwpt_nested_destroy,
	[IOMMUFD_OBJ_IOAS] = iommufd_ioas_destroy,
	[IOMMUFD_OBJ_ACCESS] = iommufd_access_destroy_object,
	[IOMMUFD_OBJ_SELFTEST] = iommufd_selftest_destroy,
	[IOMMUFD_OBJ_FAULT] = iommufd_fault_destroy,
	[IOMMUFD_OBJ_VIOMMU] = iommufd_viommu_destroy,
	[IOMMUFD_OBJ_VDEVICE] = iommufd_vdevice_destroy,
	[IOMMUFD_OBJ_VEVENTQ] = iommufd_veventq_destroy,
	[IOMMUFD_OBJ_HW_QUEUE] = iommufd_hw_queue_destroy,
};

struct iommufd_object *
_iommufd_object_alloc(struct iommufd_ctx *ictx, size_t size,
		      enum iommufd_object_type type)
{
	struct iommufd_object *obj = kzalloc(size, GFP_KERNEL_ACCOUNT);
	int rc = -ENOMEM;

	if (!obj)
		goto out_fail;
	/*
	 * XA_FLAGS_ALLOC1 keeps id 0 out: the ABI uses 0 for "no object".
	 * The slot stays XA_ZERO_ENTRY until the object is published.
	 */
	rc = xa_alloc(&ictx->objects, &obj->id, XA_ZERO_ENTRY, xa_limit_31b,
		      GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_free;
	/* The registry's hold, and the bias that lets lookups in. */
	refcount_set(&obj->shortterm_users, 1);
	refcount_set(&obj->users, 1);
	obj->type = type;
	return obj;

out_free:
	kfree(obj);
out_fail:
	return ERR_PTR(rc);
}

void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj)
{
	/* Replaces the reservation: no allocation, so no failure. */
	WARN_ON(xa_store(&ictx->objects, obj->id, obj, GFP_KERNEL));
	atomic_inc(&ictx->published[obj->type]);
}

/* Give back the id and the memory of an object never published. */
void iommufd_object_abort(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	WARN_ON(xa_erase(&ictx->objects, obj->id));
	kfree(obj);
}

/* The same, for an object whose own part was set up already. */
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj)
{
	iommufd_destroy_fns[obj->type](obj);
	iommufd_object_abort(ictx, obj);
}

struct iommufd_object *
iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
		   enum iommufd_object_type type)
{
	struct iommufd_object *obj;
	bool found;

	xa_lock(&ictx->objects);
	obj = xa_load(&ictx->objects, id);
	found = obj && !xa_is_zero(obj) &&
		(type == IOMMUFD_OBJ_ANY || obj->type == type) &&
		refcount_inc_not_zero(&obj->shortterm_users);
	/* Published means the registry holds it: users cannot be zero. */
	if (found)
		refcount_inc(&obj->users);
	xa_unlock(&ictx->objects);
	return found ? obj : ERR_PTR(-ENOENT);
}

void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj)
{
	/*
	 * users goes first: whoever waits for shortterm_users to reach zero
	 * then finds users already back where this lookup found it.
	 */
	refcount_dec(&obj->users);
	if (refcount_dec_and_test(&obj->shortterm_users))
		wake_up_all(&ictx->destroy_wait);
}

/*
 * Drop the bias on shortterm_users (lookups fail from now on) and wait
 * for the ioctls that found the object before to put it.
 */
static void iommufd_object_wait_ioctls(struct iommufd_ctx *ictx,
				       struct iommufd_object *obj)
{
	if (refcount_dec_and_test(&obj->shortterm_users))
		return;
	wait_event(ictx->destroy_wait,
		   refcount_read(&obj->shortterm_users) == 0);
}

/* Tear down an unpublished object that nothing holds any more. */
static void iommufd_object_free(struct iommufd_ctx *ictx,
				struct iommufd_object *obj)
{
	iommufd_destroy_fns[obj->type](obj);
	/* The id is free for reuse only now. */
	xa_erase(&ictx->objects, obj->id);
	kfree(obj);
}

/* Under the xa_lock: the object's slot back to "reserved". */
static void iommufd_object_unpublish(struct iommufd_ctx *ictx,
				     struct xa_state *xas,
				     struct iommufd_object *obj)
{
	xas_store(xas, XA_ZERO_ENTRY);
	atomic_dec(&ictx->published[obj->type]);
	/* Not a reference of its own (see iommufd_ctx): forget it with it. */
	if (ictx->vfio_ioas && &ictx->vfio_ioas->obj == obj)
		ictx->vfio_ioas = NULL;
}

/*
 * IOMMU_DESTROY: retire object @id if nothing but the registry holds it.
 * ENOENT for an id that names no published object, EBUSY while anything
 * else holds it (an object depending on it, its kernel owner, an ioctl
 * using it right now), as upstream answers.
 */
int iommufd_object_retire(struct iommufd_ctx *ictx, u32 id)
{
	XA_STATE(xas, &ictx->objects, id);
	struct iommufd_object *obj;

	xa_lock(&ictx->objects);
	obj = xas_load(&xas);
	if (!obj || xa_is_zero(obj)) {
		xa_unlock(&ictx->objects);
		return -ENOENT;
	}
	/* Taking the registry's hold leaves users at zero. */
	if (!refcount_dec_if_one(&obj->users)) {
		xa_unlock(&ictx->objects);
		return -EBUSY;
	}
	iommufd_object_unpublish(ictx, &xas, obj);
	xa_unlock(&ictx->objects);

	/* Only the tail of a finishing iommufd_put_object() can be left. */
	iommufd_object_wait_ioctls(ictx, obj);
	iommufd_object_free(ictx, obj);
	return 0;
}

/**
 * iommufd_object_owner_retire() - the kernel owner of @obj lets it go
 * @ictx: the context
 * @obj: a published object the caller holds one users reference on (taken
 *       with iommufd_object_ref_user() before it was published)
 *
 * The owner's reference is dropped in the same step that unpublishes the
 * object: IOMMU_DESTROY saw EBUSY up to then and ENOENT from then on, and
 * can never retire it first.  Ioctls that found it earlier are waited
 * for; the object is then destroyed.  Must not be called with a lock those
 * ioctls may take.
 */
void iommufd_object_owner_retire(struct iommufd_ctx *ictx,
				 struct iommufd_object *obj)
{
	XA_STATE(xas, &ictx->objects, obj->id);

	xa_lock(&ictx->objects);
	/* The owner's hold kept IOMMU_DESTROY away: it must still be here. */
	if (WARN_ON(xas_load(&xas) != obj)) {
		xa_unlock(&ictx->objects);
		return;
	}
	iommufd_object_unpublish(ictx, &xas, obj);
	refcount_dec(&obj->users);
	xa_unlock(&ictx->objects);

	iommufd_object_wait_ioctls(ictx, obj);
	/*
	 * The ioctls are gone; the registry's hold, now ours, must be the
	 * last.  Anything else is a dependency nobody told the owner about:
	 * publish the object again so that release of the file finds it,
	 * rather than free what is in use.
	 */
	if (WARN(!refcount_dec_if_one(&obj->users),
		 "iommufd: object %u (type %d) still held %u times after its owner let go\n",
		 obj->id, obj->type, refcount_read(&obj->users))) {
		refcount_set(&obj->shortterm_users, 1);
		iommufd_object_finalize(ictx, obj);
		return;
	}
	iommufd_object_free(ictx, obj);
}

/**
 * iommufd_object_tombstone() - destroy an object for the kernel, keep its id
 * @ictx: the context
 * @id: the object's id, read by the caller while @obj could not go away
 * @obj: the object, which the caller holds no reference on
 *
 * For an object whose reason to exist went away under it (the vDEVICE of
 * a device being destroyed).  If it is still published it is unpublished,
 * the ioctls using it are waited for, and it is destroyed; its id stays
 * reserved until the context is released, so that user space, which may
 * still hold the id, can never meet a newer object under it.  @obj is only
 * touched once the registry showed it published, so it may have been
 * freed by then.  Returns false when it was not published any more:
 * whoever retired it first destroys it.
 */
bool iommufd_object_tombstone(struct iommufd_ctx *ictx, u32 id,
			      struct iommufd_object *obj)
{
	XA_STATE(xas, &ictx->objects, id);

	xa_lock(&ictx->objects);
	if (xas_load(&xas) != obj) {
		xa_unlock(&ictx->objects);
		return false;
	}
	iommufd_object_unpublish(ictx, &xas, obj);
	xa_unlock(&ictx->objects);

	iommufd_object_wait_ioctls(ictx, obj);
	/* Lookups drop users with shortterm_users: the registry's is left. */
	WARN_ON(!refcount_dec_if_one(&obj->users));
	iommufd_destroy_fns[obj->type](obj);
	/* The reservation stays behind: release of the file drops it. */
	kfree(obj);
	return true;
}

int iommufd_destroy(struct iommufd_ucmd *ucmd)
{
	struct iommu_destroy *cmd = ucmd->cmd;

	return iommufd_object_retire(ucmd->ictx, cmd->id);
}

/*
 * Release of the file: no ioctl runs any more, so an object may go as soon
 * as nothing depends on it.  Each sweep retires what is free and thereby
 * frees what those held; chains are a few objects long (access or device,
 * HWPT, IOAS).  A sweep that retires nothing while objects remain means a
 * reference leaked.
 */
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx)
{
	struct iommufd_object *obj;
	unsigned long index;
	unsigned int retired;

	/* Not a reference, and about to dangle. */
	ictx->vfio_ioas = NULL;
	do {
		retired = 0;
		xa_for_each(&ictx->objects, index, obj) {
			if (!refcount_dec_if_one(&obj->users))
				continue;
			/* xa_for_each skips the reservation this leaves. */
			xa_store(&ictx->objects, index, XA_ZERO_ENTRY,
				 GFP_KERNEL);
			atomic_dec(&ictx->published[obj->type]);
			iommufd_object_free(ictx, obj);
			retired++;
			cond_resched();
		}
	} while (retired);

	/* Only the reservations of tombstoned objects may be left. */
	xa_for_each(&ictx->objects, index, obj) {
		WARN(1, "iommufd: objects still referenced at release\n");
		break;
	}
	xa_destroy(&ictx->objects);
}

