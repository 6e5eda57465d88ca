// SPDX-License-Identifier: GPL-2.0
/*
 * Paging HWPTs: an IOMMU domain made by a device's backend, holding every
 * mapping of one IOAS and kept in step with it by the io_pagetable.
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
		container_of(obj, struct iommufd_hwpt_paging, obj);
	struct iommufd_ioas *ioas = hwpt->ioas;

	/* @ioas is set once the domain mirrors it (see the allocation). */
	if (ioas) {
		mutex_lock(&ioas->mutex);
		list_del_init(&hwpt->hwpt_item);
		mutex_unlock(&ioas->mutex);
		/* Empties the domain before it can be freed. */
		iopt_table_remove_domain(&ioas->iopt, hwpt->domain);
		iommufd_object_unref_user(&ioas->obj);
	}
	if (hwpt->fault)
		iommufd_fault_put(hwpt->fault);
	if (!hwpt->ops)
		return;
	if (hwpt->domain)
		hwpt->ops->domain_free(hwpt->domain);
	/* The last use of the backend's code. */
	module_put(hwpt->ops->owner);
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

	hwpt = iommufd_object_alloc(ictx, hwpt, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return hwpt;
	INIT_LIST_HEAD(&hwpt->hwpt_item);
	hwpt->auto_domain = auto_domain;

	/*
	 * The domain is freed through the backend when the HWPT goes, which
	 * may be long after every device of that backend went.
	 */
	if (!try_module_get(idev->ops->owner)) {
		rc = -ENODEV;
		goto out_abort;
	}
	hwpt->ops = idev->ops;

	/* Where faults go is ours to arrange, not the backend's. */
	domain = hwpt->ops->domain_alloc_paging(idev,
						flags & ~IOMMU_HWPT_FAULT_ID_VALID);
	if (IS_ERR(domain)) {
		rc = PTR_ERR(domain);
		goto out_destroy;
	}
	hwpt->domain = domain;
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
	hwpt->ioas = ioas;
	list_add_tail(&hwpt->hwpt_item, &ioas->hwpt_list);
	if (auto_domain) {
		hwpt->ndevices = 1;
		iommufd_object_ref_user(&hwpt->obj);
	}
	return hwpt;

out_destroy:
	iommufd_object_abort_and_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
out_abort:
	iommufd_object_abort(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

/*
 * A device starts using @hwpt (ioas->mutex held).  False for an automatic
 * HWPT whose last device has left: it is being retired.
 */
bool iommufd_hwpt_paging_get_device(struct iommufd_hwpt_paging *hwpt)
{
	lockdep_assert_held(&hwpt->ioas->mutex);

	if (hwpt->auto_domain && !hwpt->ndevices)
		return false;
	hwpt->ndevices++;
	iommufd_object_ref_user(&hwpt->obj);
	return true;
}

/*
 * A device stops using @hwpt; the last one out retires an automatic one.
 *
 * ndevices and the device uses in hwpt->obj.users move together, under
 * ioas->mutex, as in iommufd_hwpt_paging_get_device().  Were a device that
 * is not the last to drop its use only after the mutex, the last device
 * could find ndevices at zero and retire the HWPT while that use is still
 * counted: no lookup covers it, so the retirement would not wait for it.
 */
void iommufd_hwpt_paging_put_device(struct iommufd_ctx *ictx,
				    struct iommufd_hwpt_paging *hwpt)
{
	struct iommufd_ioas *ioas = hwpt->ioas;
	bool last;

	mutex_lock(&ioas->mutex);
	last = !--hwpt->ndevices && hwpt->auto_domain;
	/*
	 * The last one takes the HWPT off the list, so that the next attach
	 * to the IOAS makes a new one; any other drops its use (never the
	 * last users reference: the registry holds one).
	 */
	if (last)
		list_del_init(&hwpt->hwpt_item);
	else
		iommufd_object_unref_user(&hwpt->obj);
	mutex_unlock(&ioas->mutex);

	/* Not under the mutex: destroying the HWPT takes it. */
	if (last)
		iommufd_object_owner_retire(ictx, &hwpt->obj);
}

/*
 * Why IOMMU_HWPT_ALLOC cannot build on @parent with these arguments, or
 * 0.  Upstream's answers: no such object is EINVAL (not ENOENT), a paging
 * HWPT would make a nested HWPT, any other type is EINVAL.
 */
static int hwpt_alloc_refusal(struct iommufd_object *parent,
			      const struct iommu_hwpt_alloc *cmd)
{
	if (IS_ERR(parent))
		return -EINVAL;
	switch (parent->type) {
	case IOMMUFD_OBJ_IOAS:
		break;
	case IOMMUFD_OBJ_HWPT_PAGING:
		return -EOPNOTSUPP;	/* nested HWPTs: not offered yet */
	default:
		return -EINVAL;
	}
	/*
	 * Dirty tracking is the backend's to grant (dirty.c); nest parents
	 * and driver data are not offered yet.  A fault queue is accepted on
	 * a paging HWPT, as upstream does since 6.13 (6.12 took it only on
	 * nested ones).
	 */
	if ((cmd->flags & ~(IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
			    IOMMU_HWPT_FAULT_ID_VALID)) ||
	    cmd->data_type != IOMMU_HWPT_DATA_NONE)
		return -EOPNOTSUPP;
	return 0;
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommufd_object *dev_obj, *parent;
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_ioas *ioas;
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
	parent = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	rc = hwpt_alloc_refusal(parent, cmd);
	if (rc)
		goto out_put;

	ioas = container_of(parent, struct iommufd_ioas, obj);
	mutex_lock(&ioas->mutex);
	hwpt = iommufd_hwpt_paging_alloc(ucmd->ictx, ioas,
					 container_of(dev_obj,
						      struct iommufd_device,
						      obj),
					 cmd->flags, false);
	mutex_unlock(&ioas->mutex);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_put;
	}

	/* As upstream, the queue is looked up once the HWPT could be made. */
	if (cmd->flags & IOMMU_HWPT_FAULT_ID_VALID) {
		struct iommufd_fault *fault;

		fault = iommufd_fault_get(ucmd->ictx, cmd->fault_id);
		if (IS_ERR(fault)) {
			rc = PTR_ERR(fault);
			iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
			goto out_put;
		}
		hwpt->fault = fault;
	}

	/*
	 * Answer before publishing, so that a reply that cannot be written
	 * drops a HWPT nobody saw.  Not under ioas->mutex: destroying the
	 * HWPT takes it.
	 */
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
	else
		iommufd_object_finalize(ucmd->ictx, &hwpt->obj);

out_put:
	if (!IS_ERR(parent))
		iommufd_put_object(ucmd->ictx, parent);
	iommufd_put_object(ucmd->ictx, dev_obj);
	return rc;
}
