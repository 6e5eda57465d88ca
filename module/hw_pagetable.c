// SPDX-License-Identifier: GPL-2.0
/*
 * Paging HWPTs: an IOMMU domain made by a device's backend, holding every
 * mapping of one IOAS and kept in step with it by the io_pagetable; the
 * device uses every kind of HWPT takes (here); and IOMMU_HWPT_ALLOC, which
 * makes a paging HWPT on an IOAS or a nested one on a nest parent
 * (hwpt_nested.c).
 *
 * One structure, two kinds of owner.  A HWPT from IOMMU_HWPT_ALLOC
 * belongs to user space, which destroys it once no device uses it.  An
 * automatic HWPT, made when a device attaches to the IOAS itself, belongs
 * to the devices using it: the last one to leave retires it, and from that
 * moment no attach may pick it up again.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt =
		container_of(obj, struct iommufd_hwpt_paging, common.obj);
	struct iommufd_ioas *ioas = hwpt->common.ioas;
	const struct iommufd_device_ops *ops = hwpt->common.ops;

	/* @ioas is set once the domain mirrors it (see the allocation). */
	if (ioas) {
		mutex_lock(&ioas->mutex);
		list_del_init(&hwpt->hwpt_item);
		mutex_unlock(&ioas->mutex);
		/* Empties the domain before it can be freed. */
		iopt_table_remove_domain(&ioas->iopt, hwpt->common.domain);
		iommufd_object_unref_user(&ioas->obj);
	}
	if (!ops)
		return;
	if (hwpt->common.domain)
		ops->domain_free(hwpt->common.domain);
	/* The last use of the backend's code. */
	module_put(ops->owner);
}

/**
 * iommufd_hwpt_paging_alloc() - a new paging domain filled from @ioas
 * @ictx: the context
 * @ioas: the IOAS the domain mirrors; its mutex held by the caller, so
 *        that the HWPT is found on its list from the start
 * @idev: a device whose backend makes the domain
 * @flags: IOMMU_HWPT_ALLOC_* flags
 * @auto_domain: an automatic HWPT for @idev, which then holds the HWPT's
 *               first device use
 *
 * Returns the HWPT not yet published: the caller finalizes it, or aborts
 * and destroys it after dropping @ioas->mutex.
 */
struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, u32 flags,
			  bool auto_domain)
{
	struct iommufd_hwpt_paging *hwpt;
	struct iommu_domain *domain;
	int rc;

	lockdep_assert_held(&ioas->mutex);

	hwpt = iommufd_object_alloc_at(ictx, hwpt, IOMMUFD_OBJ_HWPT_PAGING,
				       common.obj);
	if (IS_ERR(hwpt))
		return hwpt;
	INIT_LIST_HEAD(&hwpt->hwpt_item);
	hwpt->auto_domain = auto_domain;
	hwpt->nest_parent = flags & IOMMU_HWPT_ALLOC_NEST_PARENT;

	/*
	 * The domain is freed through the backend when the HWPT goes, which
	 * may be long after every device of that backend went.
	 */
	if (!try_module_get(idev->ops->owner)) {
		rc = -ENODEV;
		goto out_abort;
	}
	hwpt->common.ops = idev->ops;

	/*
	 * PASID compatibility is the core's to keep (device_pasid.c): the
	 * drivers of the supported kernels predate the flag and have no
	 * domain format to pick for it.
	 */
	domain = idev->ops->domain_alloc_paging(idev,
						flags & ~IOMMU_HWPT_ALLOC_PASID);
	if (IS_ERR(domain)) {
		rc = PTR_ERR(domain);
		goto out_destroy;
	}
	hwpt->common.domain = domain;
	/* A backend that made the domain promised to track its writes. */
	hwpt->dirty_tracking = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	/*
	 * Every mapping is IOMMU_CACHE; where the IOMMU can also keep the
	 * device from using no-snoop (VT-d with snoop control), have it do
	 * so, and coherency no longer depends on the device.  Drivers want
	 * this asked while the domain is still empty.
	 */
	if (domain->ops->enforce_cache_coherency &&
	    idev->ops->can_enforce_coherency(idev))
		hwpt->enforce_cc = domain->ops->enforce_cache_coherency(domain);

	/*
	 * Fill the domain with the IOAS's mappings, keeping out of the
	 * device's reserved IOVA meanwhile (it must stay unmapped).
	 */
	rc = idev->ops->reserve_regions(idev, &ioas->iopt, hwpt);
	if (rc)
		goto out_destroy;
	rc = iopt_table_add_domain(&ioas->iopt, domain);
	iopt_remove_reserved_iova(&ioas->iopt, hwpt);
	if (rc)
		goto out_destroy;

	iommufd_object_ref_user(&ioas->obj);
	hwpt->common.ioas = ioas;
	list_add_tail(&hwpt->hwpt_item, &ioas->hwpt_list);
	if (auto_domain) {
		hwpt->common.ndevices = 1;
		iommufd_object_ref_user(&hwpt->common.obj);
	}
	return hwpt;

out_destroy:
	iommufd_object_abort_and_destroy(ictx, &hwpt->common.obj);
	return ERR_PTR(rc);
out_abort:
	iommufd_object_abort(ictx, &hwpt->common.obj);
	return ERR_PTR(rc);
}

/* An automatic HWPT is retired by its last device; no other kind is. */
static bool hwpt_is_auto(struct iommufd_hwpt *hwpt)
{
	struct iommufd_hwpt_paging *paging = iommufd_hwpt_to_paging(hwpt);

	return paging && paging->auto_domain;
}

/*
 * A device starts using @hwpt, of any kind (ioas->mutex held).  False for
 * an automatic HWPT whose last device has left: it is being retired.
 */
bool iommufd_hwpt_get_device(struct iommufd_hwpt *hwpt)
{
	lockdep_assert_held(&hwpt->ioas->mutex);

	if (hwpt_is_auto(hwpt) && !hwpt->ndevices)
		return false;
	hwpt->ndevices++;
	iommufd_object_ref_user(&hwpt->obj);
	return true;
}

/*
 * A device stops using @hwpt; the last one out retires an automatic one.
 *
 * ndevices and the device uses in hwpt->obj.users move together, under
 * ioas->mutex, as in iommufd_hwpt_get_device().  Were a device that is
 * not the last to drop its use only after the mutex, the last device
 * could find ndevices at zero and retire the HWPT while that use is still
 * counted: no lookup covers it, so the retirement would not wait for it.
 */
void iommufd_hwpt_put_device(struct iommufd_ctx *ictx,
			     struct iommufd_hwpt *hwpt)
{
	struct iommufd_ioas *ioas = hwpt->ioas;
	bool last;

	mutex_lock(&ioas->mutex);
	last = !--hwpt->ndevices && hwpt_is_auto(hwpt);
	/*
	 * The last one takes the HWPT off the list, so that the next attach
	 * to the IOAS makes a new one; any other drops its use (never the
	 * last users reference: the registry holds one).
	 */
	if (last)
		list_del_init(&iommufd_hwpt_to_paging(hwpt)->hwpt_item);
	else
		iommufd_object_unref_user(&hwpt->obj);
	mutex_unlock(&ioas->mutex);

	/* Not under the mutex: destroying the HWPT takes it. */
	if (last)
		iommufd_object_owner_retire(ictx, &hwpt->obj);
}

/**
 * iommufd_hwpt_check_alloc_flags() - may a HWPT of @kind be made with @flags?
 * @kind: IOMMUFD_OBJ_HWPT_PAGING or IOMMUFD_OBJ_HWPT_NESTED
 * @flags: IOMMU_HWPT_ALLOC_* flags from user space
 *
 * The one place that knows which IOMMU_HWPT_ALLOC flags each kind takes;
 * any other is EOPNOTSUPP before a backend is asked.  What a flag asks
 * of the hardware (nesting, dirty tracking) is then the backend's to
 * grant or refuse.
 */
int iommufd_hwpt_check_alloc_flags(enum iommufd_object_type kind, u32 flags)
{
	/*
	 * A fault queue only on a nested HWPT, as in 6.12: the stage-1 is
	 * what a guest's SVA faults on (later upstreams take it on paging
	 * HWPTs too).
	 */
	u32 takes = IOMMU_HWPT_FAULT_ID_VALID | IOMMU_HWPT_ALLOC_PASID;

	if (kind == IOMMUFD_OBJ_HWPT_PAGING)
		takes = IOMMU_HWPT_ALLOC_NEST_PARENT |
			IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
			IOMMU_HWPT_ALLOC_PASID;
	if (flags & ~takes)
		return -EOPNOTSUPP;
	return 0;
}

/* IOMMU_HWPT_ALLOC on an IOAS: a paging HWPT, not yet published. */
static struct iommufd_hwpt *
hwpt_alloc_on_ioas(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
		   struct iommufd_device *idev, u32 flags,
		   const struct iommufd_user_data *data)
{
	struct iommufd_hwpt_paging *hwpt;
	int rc;

	rc = iommufd_hwpt_check_alloc_flags(IOMMUFD_OBJ_HWPT_PAGING, flags);
	if (rc)
		return ERR_PTR(rc);
	/*
	 * No driver of the supported kernels reads data for a paging domain
	 * (VT-d, AMD-Vi and the mock all answer EOPNOTSUPP to it).
	 */
	if (data->len)
		return ERR_PTR(-EOPNOTSUPP);

	mutex_lock(&ioas->mutex);
	hwpt = iommufd_hwpt_paging_alloc(ictx, ioas, idev, flags, false);
	mutex_unlock(&ioas->mutex);
	return IS_ERR(hwpt) ? ERR_CAST(hwpt) : &hwpt->common;
}

/* IOMMU_HWPT_ALLOC on a paging HWPT: a nested HWPT, not yet published. */
static struct iommufd_hwpt *
hwpt_alloc_on_parent(struct iommufd_ctx *ictx,
		     struct iommufd_hwpt_paging *parent,
		     struct iommufd_device *idev, u32 flags,
		     const struct iommufd_user_data *data)
{
	struct iommufd_hwpt_nested *hwpt;

	hwpt = iommufd_hwpt_nested_alloc(ictx, parent, idev, flags, data);
	return IS_ERR(hwpt) ? ERR_CAST(hwpt) : &hwpt->common;
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	const struct iommufd_user_data data = {
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
		.type = cmd->data_type,
	};
	struct iommufd_object *dev_obj, *parent;
	struct iommufd_device *idev;
	struct iommufd_hwpt *hwpt;
	int rc;

	/* As upstream: the argument's shape, then the objects, then support. */
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	/* Driver data comes with a type, and only then. */
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE) != !cmd->data_len)
		return -EINVAL;

	dev_obj = iommufd_get_object(ucmd->ictx, cmd->dev_id,
				     IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(dev_obj))
		return PTR_ERR(dev_obj);
	idev = container_of(dev_obj, struct iommufd_device, obj);
	/* Upstream's answer to a @pt_id naming nothing is EINVAL, not ENOENT. */
	parent = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(parent)) {
		rc = -EINVAL;
		goto out_put_device;
	}

	switch (parent->type) {
	case IOMMUFD_OBJ_IOAS:
		hwpt = hwpt_alloc_on_ioas(ucmd->ictx,
					  container_of(parent,
						       struct iommufd_ioas,
						       obj),
					  idev, cmd->flags, &data);
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		hwpt = hwpt_alloc_on_parent(ucmd->ictx,
					    container_of(parent,
							 struct iommufd_hwpt_paging,
							 common.obj),
					    idev, cmd->flags, &data);
		break;
	case IOMMUFD_OBJ_VIOMMU:
		hwpt = iommufd_viommu_alloc_hwpt_nested(ucmd->ictx,
							container_of(parent,
								     struct iommufd_viommu,
								     obj),
							idev, cmd->flags, &data);
		break;
	default:
		/* A nested HWPT cannot be a parent; nor can anything else. */
		hwpt = ERR_PTR(-EINVAL);
		break;
	}
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_put_parent;
	}

	/* Whatever its kind; device_pasid.c holds attachments to it. */
	hwpt->pasid_compat = cmd->flags & IOMMU_HWPT_ALLOC_PASID;

	/* As upstream, the queue is looked up once the HWPT could be made. */
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		hwpt->fault = iommufd_fault_get(ucmd->ictx, cmd->fault_id);
		if (IS_ERR(hwpt->fault)) {
			rc = PTR_ERR(hwpt->fault);
			hwpt->fault = NULL;
			iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
			goto out_put_parent;
		}
	}

	/*
	 * Answer before publishing, so that a reply that cannot be written
	 * drops a HWPT nobody saw.  No lock is held: destroying a paging
	 * HWPT takes ioas->mutex.
	 */
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
	else
		iommufd_object_finalize(ucmd->ictx, &hwpt->obj);

out_put_parent:
	iommufd_put_object(ucmd->ictx, parent);
out_put_device:
	iommufd_put_object(ucmd->ictx, dev_obj);
	return rc;
}
