// SPDX-License-Identifier: GPL-2.0
/*
 * Devices: attaching a device's DMA to an IOAS or a paging HWPT, replacing
 * the attachment, detaching.  The backend (struct iommufd_device_ops) does
 * the hardware side; this file keeps the objects and the IOAS consistent.
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
	idev->ictx = ictx;
	idev->ops = ops;
	idev->priv = priv;
	mutex_init(&idev->lock);
	return idev;
}

void iommufd_device_destroy(struct iommufd_object *obj)
{
	struct iommufd_device *idev =
		container_of(obj, struct iommufd_device, obj);

	WARN_ON(idev->hwpt);
	mutex_destroy(&idev->lock);
}

/* Drop the device's use of @hwpt; an auto HWPT goes with its last device. */
static void iommufd_hwpt_put_device(struct iommufd_ctx *ictx,
				    struct iommufd_hwpt_paging *hwpt)
{
	struct iommufd_ioas *ioas = hwpt->ioas;
	bool destroy;

	mutex_lock(&ioas->mutex);
	hwpt->ndevices--;
	destroy = hwpt->auto_domain && !hwpt->ndevices;
	if (destroy)
		list_del_init(&hwpt->hwpt_item);
	mutex_unlock(&ioas->mutex);

	iommufd_object_unref_user(&hwpt->obj);
	if (destroy)
		iommufd_object_destroy_owned(ictx, &hwpt->obj);
}

/*
 * The HWPT an attach to @pt_id means: the HWPT itself, or for an IOAS an
 * automatic one, shared with earlier devices of the same backend.  Returns
 * it with a device use taken.
 */
static struct iommufd_hwpt_paging *
iommufd_device_get_hwpt(struct iommufd_device *idev, u32 pt_id)
{
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_object *obj;
	struct iommufd_ioas *ioas;

	obj = iommufd_get_object(idev->ictx, pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj))
		return ERR_CAST(obj);

	if (obj->type == IOMMUFD_OBJ_HWPT_PAGING) {
		hwpt = container_of(obj, struct iommufd_hwpt_paging, obj);
		if (hwpt->ops != idev->ops) {
			hwpt = ERR_PTR(-EINVAL);
			goto out_put;
		}
		mutex_lock(&hwpt->ioas->mutex);
		hwpt->ndevices++;
		mutex_unlock(&hwpt->ioas->mutex);
		iommufd_object_ref_user(&hwpt->obj);
		goto out_put;
	}
	if (obj->type != IOMMUFD_OBJ_IOAS) {
		hwpt = ERR_PTR(-EINVAL);
		goto out_put;
	}

	ioas = container_of(obj, struct iommufd_ioas, obj);
	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item) {
		if (hwpt->auto_domain && hwpt->ops == idev->ops) {
			hwpt->ndevices++;
			iommufd_object_ref_user(&hwpt->obj);
			goto out_unlock;
		}
	}
	hwpt = iommufd_hwpt_paging_alloc(idev->ictx, ioas, idev, 0, true);
	if (!IS_ERR(hwpt)) {
		hwpt->ndevices = 1;
		iommufd_object_ref_user(&hwpt->obj);
		iommufd_object_finalize(idev->ictx, &hwpt->obj);
	}
out_unlock:
	mutex_unlock(&ioas->mutex);
out_put:
	iommufd_put_object(idev->ictx, obj);
	return hwpt;
}

/**
 * iommufd_device_attach() - attach, or replace the attachment, to @pt_id
 * @idev: the device
 * @pt_id: an IOAS (an automatic domain is used) or a paging HWPT
 *
 * A replace never leaves the device blocked: on failure the previous
 * attachment is still in force.
 */
int iommufd_device_attach(struct iommufd_device *idev, u32 pt_id)
{
	struct iommufd_hwpt_paging *hwpt, *old;
	int rc;

	hwpt = iommufd_device_get_hwpt(idev, pt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);

	mutex_lock(&idev->lock);
	old = idev->hwpt;
	if (old == hwpt) {
		mutex_unlock(&idev->lock);
		iommufd_hwpt_put_device(idev->ictx, hwpt);
		return 0;
	}
	/* The device's reserved IOVA stays reserved while it is attached. */
	if (!old || old->ioas != hwpt->ioas) {
		rc = idev->ops->reserve_regions(idev, &hwpt->ioas->iopt, idev);
		if (rc)
			goto err_unlock;
	}
	rc = idev->ops->attach(idev, hwpt->domain);
	if (rc)
		goto err_unreserve;
	idev->hwpt = hwpt;
	mutex_unlock(&idev->lock);

	if (old) {
		if (old->ioas != hwpt->ioas)
			iopt_remove_reserved_iova(&old->ioas->iopt, idev);
		iommufd_hwpt_put_device(idev->ictx, old);
	}
	return 0;

err_unreserve:
	if (!old || old->ioas != hwpt->ioas)
		iopt_remove_reserved_iova(&hwpt->ioas->iopt, idev);
err_unlock:
	mutex_unlock(&idev->lock);
	iommufd_hwpt_put_device(idev->ictx, hwpt);
	return rc;
}

void iommufd_device_detach(struct iommufd_device *idev)
{
	struct iommufd_hwpt_paging *old;

	mutex_lock(&idev->lock);
	old = idev->hwpt;
	if (old) {
		idev->ops->detach(idev);
		idev->hwpt = NULL;
	}
	mutex_unlock(&idev->lock);
	if (!old)
		return;
	iopt_remove_reserved_iova(&old->ioas->iopt, idev);
	iommufd_hwpt_put_device(idev->ictx, old);
}

/**
 * iommufd_device_bind() - make a device an object of @ictx
 * @ictx: the context
 * @ops: the device's backend
 * @priv: the backend's state for it
 *
 * The device's DMA is blocked until it is attached.  The backend holds the
 * object until iommufd_device_unbind(); user space cannot destroy it.
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   const struct iommufd_device_ops *ops,
					   void *priv)
{
	struct iommufd_device *idev;

	idev = iommufd_device_create(ictx, ops, priv);
	if (IS_ERR(idev))
		return idev;
	iommufd_object_ref_user(&idev->obj);
	iommufd_object_finalize(ictx, &idev->obj);
	return idev;
}
IOMMUFD_EXPORT(iommufd_device_bind);

/* The backend lets go of the device: detach and destroy its object. */
void iommufd_device_unbind(struct iommufd_device *idev)
{
	iommufd_device_detach(idev);
	iommufd_object_unref_user(&idev->obj);
	iommufd_object_destroy_owned(idev->ictx, &idev->obj);
}
IOMMUFD_EXPORT(iommufd_device_unbind);
IOMMUFD_EXPORT(iommufd_device_attach);
IOMMUFD_EXPORT(iommufd_device_detach);

static struct iommufd_device *iommufd_get_device(struct iommufd_ucmd *ucmd,
						 u32 id)
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
	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = iommufd_device_attach(idev, cmd->pt_id);
	if (!rc) {
		mutex_lock(&idev->lock);
		cmd->pt_id = idev->hwpt->obj.id;
		mutex_unlock(&idev->lock);
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

int iommufd_dkms_device_detach(struct iommufd_ucmd *ucmd)
{
	struct iommufd_dkms_device_detach *cmd = ucmd->cmd;
	struct iommufd_device *idev;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	iommufd_device_detach(idev);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return 0;
}

int iommufd_get_hw_info(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_info *cmd = ucmd->cmd;
	void __user *udata = u64_to_user_ptr(cmd->data_uptr);
	struct iommufd_hw_report report = {};
	struct iommufd_device *idev;
	u32 copy_len;
	int rc;

	if ((cmd->flags & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) ||
	    cmd->__reserved[0] || cmd->__reserved[1] || cmd->__reserved[2])
		return -EOPNOTSUPP;

	idev = iommufd_get_device(ucmd, cmd->dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	rc = idev->ops->hw_info(idev, &report);
	if (rc)
		goto out_put;
	/* A caller asking for a format the IOMMU does not speak. */
	if ((cmd->flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE) &&
	    cmd->in_data_type != IOMMU_HW_INFO_TYPE_DEFAULT &&
	    cmd->in_data_type != report.type) {
		rc = -EOPNOTSUPP;
		goto out_free;
	}

	copy_len = min(cmd->data_len, report.length);
	if (copy_to_user(udata, report.data, copy_len) ||
	    (copy_len < cmd->data_len &&
	     clear_user(udata + copy_len, cmd->data_len - copy_len))) {
		rc = -EFAULT;
		goto out_free;
	}
	/* The full length: user space learns what a larger buffer gets. */
	cmd->data_len = report.length;
	cmd->out_data_type = report.type;
	cmd->out_capabilities = report.capabilities;
	cmd->out_max_pasid_log2 = report.max_pasid_log2;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
out_free:
	kfree(report.data);
out_put:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
