// SPDX-License-Identifier: GPL-2.0
/*
 * Devices: a device's DMA goes to an IOAS (through an automatic HWPT), to
 * a paging HWPT, or to a nested HWPT, is moved from one to another, or is
 * blocked.  The backend
 * (struct iommufd_device_ops) programs the hardware; this file keeps the
 * objects, the device counts and the reserved IOVA consistent with it.
 *
 * A device object belongs to its backend.  iommufd_backend_unbind() first
 * retires it, which waits for every ioctl that found it, so that no
 * attach can still be under way when the device is finally detached and
 * freed.
 */
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_dkms.h>

#include "iommufd_private.h"

struct iommufd_device *iommufd_device_create(struct iommufd_ctx *ictx,
					     const struct iommufd_device_ops *ops,
					     void *priv)
{
	struct iommufd_device *idev;

	idev = iommufd_object_alloc(ictx, idev, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(idev))
		return idev;
	mutex_init(&idev->lock);
	idev->ictx = ictx;
	idev->priv = priv;
	idev->ops = ops;
	xa_init(&idev->pasids);
	return idev;
}

/*
 * @pt_id names a HWPT of either kind: the device may use it unless it
 * belongs to another backend or is an automatic HWPT on its way out.
 */
static struct iommufd_hwpt *
device_use_hwpt(struct iommufd_device *idev, struct iommufd_object *obj)
{
	struct iommufd_hwpt *hwpt = container_of(obj, struct iommufd_hwpt, obj);
	bool usable;

	if (hwpt->ops != idev->ops)
		return ERR_PTR(-EINVAL);
	/*
	 * Faults on it must reach its queue and be answered: a device whose
	 * backend cannot is refused as a driver refuses IOPF to a device
	 * without PRI.
	 */
	if (hwpt->fault && !idev->ops->page_response)
		return ERR_PTR(-ENODEV);
	mutex_lock(&hwpt->ioas->mutex);
	usable = iommufd_hwpt_get_device(hwpt);
	mutex_unlock(&hwpt->ioas->mutex);
	/* Its last device left between our lookup and now: it is gone. */
	return usable ? hwpt : ERR_PTR(-ENOENT);
}

/*
 * @pt_id names an IOAS: an automatic HWPT of the device's backend already
 * there, or a new one.
 */
static struct iommufd_hwpt *
device_use_ioas(struct iommufd_device *idev, struct iommufd_ioas *ioas)
{
	struct iommufd_hwpt_paging *hwpt;

	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (hwpt->auto_domain && hwpt->common.ops == idev->ops &&
		    iommufd_hwpt_get_device(&hwpt->common))
			goto out_unlock;
	}
	hwpt = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, 0, true);
	/* Born with this device's use: nothing can retire it under us. */
	if (!IS_ERR(hwpt))
		iommufd_object_finalize(idev->ictx, &hwpt->common.obj);
out_unlock:
	mutex_unlock(&ioas->mutex);
	return IS_ERR(hwpt) ? ERR_CAST(hwpt) : &hwpt->common;
}

/* The HWPT an attach to @pt_id means, with a device use taken on it. */
static struct iommufd_hwpt *
device_target_hwpt(struct iommufd_device *idev, u32 pt_id)
{
	struct iommufd_object *obj;
	struct iommufd_hwpt *hwpt;

	obj = iommufd_get_object(idev->ictx, pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	switch (obj->type) {
	case IOMMUFD_OBJ_HWPT_PAGING:
	case IOMMUFD_OBJ_HWPT_NESTED:
		hwpt = device_use_hwpt(idev, obj);
		break;
	case IOMMUFD_OBJ_IOAS:
		hwpt = device_use_ioas(idev, container_of(obj,
							  struct iommufd_ioas,
							  obj));
		break;
	default:
		hwpt = ERR_PTR(-EINVAL);
		break;
	}
	iommufd_put_object(idev->ictx, obj);
	return hwpt;
}

/**
 * iommufd_device_change_pt() - attach the device, or move it, to an IOAS/HWPT
 * @idev: the device
 * @pt_id: in: an IOAS (an automatic HWPT is used), a paging HWPT or a
 *         nested HWPT; out: the HWPT the device now uses
 * @mode: IOMMUFD_ATTACH_FIRST refuses (EINVAL) a device that is attached
 *        already, IOMMUFD_ATTACH_REPLACE one that is not, as the in-kernel
 *        API's attach and replace do; IOMMUFD_ATTACH_ANY (our extension's
 *        ioctl, the self-test) takes either
 *
 * A move never leaves the device blocked: on failure the previous
 * attachment is still in force.  The device's reserved IOVA is reserved
 * in the IOAS behind the HWPT, for a nested HWPT its parent's: its MSI
 * doorbell stays reachable through the stage-2 whatever the guest's
 * stage-1 says.
 */
int iommufd_device_change_pt(struct iommufd_device *idev, u32 *pt_id,
			     enum iommufd_attach_mode mode)
{
	struct iommufd_hwpt *new, *old, *drop;
	bool moves = false, left_ioas = false;
	int rc = 0;

	new = device_target_hwpt(idev, *pt_id);
	if (IS_ERR(new))
		return PTR_ERR(new);

	mutex_lock(&idev->lock);
	old = idev->hwpt;
	/*
	 * One device use goes back in the end: the new HWPT's when nothing
	 * changes or the move fails, the old one's after a move.
	 */
	drop = new;
	if ((mode == IOMMUFD_ATTACH_FIRST && old) ||
	    (mode == IOMMUFD_ATTACH_REPLACE && !old)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (old == new)
		goto out_answer;
	/* A vIOMMU's nested HWPT may need the device's vDEVICE first. */
	rc = iommufd_viommu_attach_check(new, idev);
	if (rc)
		goto out_unlock;
	/* Its PASIDs' table hangs off this side: it must stay compatible. */
	rc = iommufd_device_pasid_rid_check(idev, new);
	if (rc)
		goto out_unlock;

	/* The device's reserved IOVA is reserved in the IOAS it is on. */
	moves = !old || old->ioas != new->ioas;
	if (moves) {
		rc = idev->ops->reserve_regions(idev, &new->ioas->iopt, idev);
		if (rc)
			goto out_unlock;
	}
	/*
	 * A device that leaves a domain must not race its unmaps: 6.1's VT-d
	 * driver walks the domain's IOMMUs without a lock as it flushes, and
	 * a flush that finds the device's IOMMU gone dereferences NULL
	 * (iommu_flush_iotlb_psi).  So the domains_rwsem of the IOAS being
	 * left is held for writing across the backend's attach and detach.
	 */
	if (old)
		down_write(&old->ioas->iopt.domains_rwsem);
	rc = idev->ops->attach(idev, new->domain);
	if (old)
		up_write(&old->ioas->iopt.domains_rwsem);
	if (rc) {
		if (moves)
			iopt_remove_reserved_iova(&new->ioas->iopt, idev);
		goto out_unlock;
	}
	idev->hwpt = new;
	/* Under the lock: nothing of the old attachment may be left over. */
	if (old && old->fault)
		iommufd_fault_device_leaves(old->fault, idev);
	drop = old;
	left_ioas = old && moves;
out_answer:
	/*
	 * Read now: once the lock is dropped a detach may release the
	 * HWPT, and with it the id.
	 */
	*pt_id = new->obj.id;
out_unlock:
	mutex_unlock(&idev->lock);

	if (left_ioas)
		iopt_remove_reserved_iova(&old->ioas->iopt, idev);
	if (drop)
		iommufd_hwpt_put_device(idev->ictx, drop);
	return rc;
}

/* The in-kernel API: a device's first attachment, and later moves. */
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id)
{
	return iommufd_device_change_pt(idev, pt_id, IOMMUFD_ATTACH_FIRST);
}
IOMMUFD_EXPORT_KAPI(iommufd_device_attach);

int iommufd_device_replace(struct iommufd_device *idev, u32 *pt_id)
{
	return iommufd_device_change_pt(idev, pt_id, IOMMUFD_ATTACH_REPLACE);
}
IOMMUFD_EXPORT_KAPI(iommufd_device_replace);

void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hwpt *old;

	mutex_lock(&idev->lock);
	old = idev->hwpt;
	if (old) {
		/* No unmap of the domain may run as it loses the device. */
		down_write(&old->ioas->iopt.domains_rwsem);
		idev->ops->detach(idev);
		up_write(&old->ioas->iopt.domains_rwsem);
		idev->hwpt = NULL;
		if (old->fault)
			iommufd_fault_device_leaves(old->fault, idev);
	}
	mutex_unlock(&idev->lock);
	if (!old)
		return;
	iopt_remove_reserved_iova(&old->ioas->iopt, idev);
	iommufd_hwpt_put_device(idev->ictx, old);
}
IOMMUFD_EXPORT_KAPI(iommufd_device_detach);

/* Retired: no ioctl can reach the device any more; block and free it. */
void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev;

	idev = container_of(obj, struct iommufd_device, obj);
	iommufd_vdevice_device_gone(idev);
	iommufd_device_pasid_detach_all(idev);
	iommufd_device_detach(idev);
	xa_destroy(&idev->pasids);
	mutex_destroy(&idev->lock);
}

/**
 * iommufd_backend_bind() - make a device of a backend an object of @ictx
 * @ictx: the context
 * @ops: the device's backend
 * @priv: the backend's state for it
 *
 * The device's DMA is blocked until it is attached.  The backend owns the
 * object until iommufd_backend_unbind(); IOMMU_DESTROY of it is EBUSY.
 * (The in-kernel API's iommufd_device_bind(), kapi.c, is one user.)
 */
struct iommufd_device *
iommufd_backend_bind(struct iommufd_ctx *ictx,
		     const struct iommufd_device_ops *ops, void *priv)
{
	struct iommufd_device *idev;

	idev = iommufd_device_create(ictx, ops, priv);
	if (IS_ERR(idev))
		return idev;
	iommufd_object_ref_user(&idev->obj);
	iommufd_object_finalize(ictx, &idev->obj);
	return idev;
}
IOMMUFD_EXPORT(iommufd_backend_bind);

/*
 * The backend lets go of the device: unpublish it, wait for the ioctls
 * using it (an attach among them), then detach and free it.  The caller
 * must not hold a lock those ioctls take (the backend's own).
 */
void iommufd_backend_unbind(struct iommufd_device *idev)
{
	iommufd_object_owner_retire(idev->ictx, &idev->obj);
}
IOMMUFD_EXPORT(iommufd_backend_unbind);

static struct iommufd_device *device_lookup(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_device, obj);
}

int iommufd_dkms_device_attach(struct iommufd_ucmd *ucmd)
{
	struct iommufd_dkms_device_attach *cmd = ucmd->cmd;
	struct iommufd_device *idev;
	int rc;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	idev = device_lookup(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = iommufd_device_change_pt(idev, &cmd->pt_id, IOMMUFD_ATTACH_ANY);
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

int iommufd_dkms_device_detach(struct iommufd_ucmd *ucmd)
{
	struct iommufd_dkms_device_detach *cmd = ucmd->cmd;
	struct iommufd_device *idev;

	idev = device_lookup(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	iommufd_device_detach(idev);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return 0;
}

/* Copy what the driver reported into the user's buffer of @len bytes. */
static int hw_info_copy_data(void __user *udata, u32 len,
			     const struct iommufd_hw_report *report)
{
	u32 n = min(len, report->length);

	if (copy_to_user(udata, report->data, n))
		return -EFAULT;
	/* A buffer larger than the report gets a zeroed tail. */
	if (n < len && clear_user(udata + n, len - n))
		return -EFAULT;
	return 0;
}

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommufd_hw_report report = {};
	struct iommu_hw_info *cmd = ucmd->cmd;
	struct iommufd_device *idev;
	bool asks_type;
	int rc;

	asks_type = cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	if ((cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) ||
	    memchr_inv(cmd->__reserved, 0, sizeof(cmd->__reserved)))
		return -EOPNOTSUPP;

	idev = device_lookup(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = idev->ops->hw_info(idev, &report);
	if (rc)
		goto out_put_device;

	/* A caller insisting on a format this IOMMU does not speak. */
	if (asks_type && cmd->in_data_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    cmd->in_data_type != report.type)
		rc = -EOPNOTSUPP;
	else
		rc = hw_info_copy_data(u64_to_user_ptr(cmd->data_uptr),
				       cmd->data_len, &report);
	if (!rc) {
		/* The whole length: what a larger buffer would receive. */
		cmd->data_len = report.length;
		cmd->out_data_type = report.type;
		cmd->out_capabilities = report.capabilities;
		cmd->out_max_pasid_log2 = report.max_pasid_log2;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	kfree(report.data);
out_put_device:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
