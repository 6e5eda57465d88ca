// SPDX-License-Identifier: GPL-2.0
/*
 * PASIDs of a device.  A PCIe device may tag a DMA request with a Process
 * Address Space ID; each PASID in use translates through a HWPT of its
 * own (a guest process's stage-1, say), beside the HWPT its untagged
 * requests go through (idev->hwpt, the device's own attachment).
 *
 * The rules are upstream's, and so are the answers:
 *  - a PASID is served only by a HWPT made with IOMMU_HWPT_ALLOC_PASID
 *    (EINVAL otherwise), never by an IOAS: the automatic HWPTs of an IOAS
 *    are not PASID-compatible (EINVAL);
 *  - the hardware hangs a device's PASID table off the entry of its
 *    untagged requests, so while a PASID is attached the device itself
 *    may only use a PASID-compatible HWPT, and no PASID can be attached
 *    while it uses one that is not (EINVAL both ways);
 *  - attaching a PASID that is attached is EBUSY (it is replaced instead),
 *    replacing one that is not is EINVAL, detaching one that is not does
 *    nothing;
 *  - a PASID beyond what the device has is EINVAL; only the backend
 *    knows the device, so it answers that (as the kernel's IOMMU core
 *    does for upstream);
 *  - IOMMU_NO_PASID (0) stands for the untagged requests: the calls then
 *    act on the device's own attachment, as upstream's in-kernel API.
 *
 * Each attached PASID holds a device use of its HWPT: IOMMU_DESTROY of
 * the HWPT answers EBUSY until the PASID lets go.  Everything here runs
 * under idev->lock, the lock that also orders the device's own
 * attachment, so the two sides always see each other's state.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd_dkms.h>

#include "iommufd_private.h"

/*
 * The device's own side through the PASID calls: attach must find it
 * blocked, replace attached (EINVAL, decided under the device's lock).
 * An attached device is EBUSY to attach, as any attached PASID; one
 * that becomes attached between that look and the attach gets the
 * attach's own EINVAL.
 */
static int pasid_rid_change(struct iommufd_device *idev, u32 *pt_id,
			    bool replace)
{
	bool attached;

	if (replace)
		return iommufd_device_change_pt(idev, pt_id,
						IOMMUFD_ATTACH_REPLACE);
	mutex_lock(&idev->lock);
	attached = idev->hwpt;
	mutex_unlock(&idev->lock);
	if (attached)
		return -EBUSY;
	return iommufd_device_change_pt(idev, pt_id, IOMMUFD_ATTACH_FIRST);
}

/*
 * The HWPT @pt_id names, with a short-term hold; an IOAS or anything
 * else is EINVAL, as is a HWPT of another backend.
 */
static struct iommufd_hwpt *pasid_lookup_hwpt(struct iommufd_device *idev,
					      u32 pt_id)
{
	struct iommufd_object *obj;
	struct iommufd_hwpt *hwpt;

	obj = iommufd_get_object(idev->ictx, pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	if (obj->type != IOMMUFD_OBJ_HWPT_PAGING &&
	    obj->type != IOMMUFD_OBJ_HWPT_NESTED) {
		iommufd_put_object(idev->ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	hwpt = container_of(obj, struct iommufd_hwpt, obj);
	if (hwpt->ops != idev->ops) {
		iommufd_put_object(idev->ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	return hwpt;
}

/* May a PASID of @idev go to @hwpt?  (idev->lock held) */
static int pasid_check_hwpt(struct iommufd_device *idev,
			    struct iommufd_hwpt *hwpt)
{
	lockdep_assert_held(&idev->lock);

	if (!hwpt->pasid_compat)
		return -EINVAL;
	if (idev->hwpt && !idev->hwpt->pasid_compat)
		return -EINVAL;
	/* As for the device's own side (device.c): faults must be answered. */
	if (hwpt->fault && !idev->ops->page_response)
		return -ENODEV;
	if (!idev->ops->attach_pasid)
		return -EINVAL;
	return 0;
}

/* A device use of @hwpt for a PASID (idev->lock held). */
static int pasid_use_hwpt(struct iommufd_hwpt *hwpt)
{
	bool usable;

	mutex_lock(&hwpt->ioas->mutex);
	usable = iommufd_hwpt_get_device(hwpt);
	mutex_unlock(&hwpt->ioas->mutex);
	/* Only automatic HWPTs can refuse, and none is PASID-compatible. */
	return usable ? 0 : -ENOENT;
}

/**
 * iommufd_device_pasid_attach() - attach a PASID of the device to a HWPT
 * @idev: the device
 * @pasid: the PASID; IOMMU_NO_PASID attaches the device itself
 * @pt_id: in: a PASID-compatible HWPT; out: the same
 *
 * EBUSY if the PASID is attached already (to any HWPT).
 */
int iommufd_device_pasid_attach(struct iommufd_device *idev, u32 pasid,
				u32 *pt_id)
{
	struct iommufd_hwpt *hwpt;
	bool used = false;
	int rc;

	if (pasid == IOMMU_NO_PASID)
		return pasid_rid_change(idev, pt_id, false);

	hwpt = pasid_lookup_hwpt(idev, *pt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);

	mutex_lock(&idev->lock);
	if (xa_load(&idev->pasids, pasid)) {
		rc = -EBUSY;
		goto out_unlock;
	}
	rc = pasid_check_hwpt(idev, hwpt);
	if (rc)
		goto out_unlock;
	/* The slot first: once the backend said yes, nothing may fail. */
	rc = xa_reserve(&idev->pasids, pasid, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_unlock;
	rc = pasid_use_hwpt(hwpt);
	if (rc)
		goto out_release;
	used = true;
	rc = idev->ops->attach_pasid(idev, pasid, hwpt->domain, NULL);
	if (rc)
		goto out_release;
	xa_store(&idev->pasids, pasid, hwpt, GFP_KERNEL_ACCOUNT);
	used = false;
	*pt_id = hwpt->obj.id;
	goto out_unlock;

out_release:
	xa_release(&idev->pasids, pasid);
out_unlock:
	mutex_unlock(&idev->lock);
	/* Never the last use of a HWPT a lookup still holds. */
	if (used)
		iommufd_hwpt_put_device(idev->ictx, hwpt);
	iommufd_put_object(idev->ictx, &hwpt->obj);
	return rc;
}

/**
 * iommufd_device_pasid_replace() - move an attached PASID to another HWPT
 * @idev: the device
 * @pasid: the PASID; IOMMU_NO_PASID replaces the device's own HWPT
 * @pt_id: in: a PASID-compatible HWPT; out: the same
 *
 * EINVAL if the PASID is not attached.  On failure the PASID still goes
 * where it went; the backend is asked to switch in one step, without a
 * window of blocked requests.
 */
int iommufd_device_pasid_replace(struct iommufd_device *idev, u32 pasid,
				 u32 *pt_id)
{
	struct iommufd_hwpt *hwpt, *old, *drop = NULL;
	int rc;

	if (pasid == IOMMU_NO_PASID)
		return pasid_rid_change(idev, pt_id, true);

	hwpt = pasid_lookup_hwpt(idev, *pt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);

	mutex_lock(&idev->lock);
	old = xa_load(&idev->pasids, pasid);
	if (!old) {
		rc = -EINVAL;
		goto out_unlock;
	}
	/* Already there: nothing to do, and nothing to refuse. */
	if (old == hwpt) {
		rc = 0;
		goto out_answer;
	}
	rc = pasid_check_hwpt(idev, hwpt);
	if (rc)
		goto out_unlock;
	rc = pasid_use_hwpt(hwpt);
	if (rc)
		goto out_unlock;
	/* As for the device's own side: no unmap races the switch away. */
	down_write(&old->ioas->iopt.domains_rwsem);
	rc = idev->ops->attach_pasid(idev, pasid, hwpt->domain, old->domain);
	up_write(&old->ioas->iopt.domains_rwsem);
	if (rc) {
		drop = hwpt;
		goto out_unlock;
	}
	/* The entry exists: storing over it allocates nothing. */
	xa_store(&idev->pasids, pasid, hwpt, GFP_KERNEL_ACCOUNT);
	if (old->fault)
		iommufd_fault_pasid_leaves(old->fault, idev, pasid);
	drop = old;
out_answer:
	*pt_id = hwpt->obj.id;
out_unlock:
	mutex_unlock(&idev->lock);
	if (drop)
		iommufd_hwpt_put_device(idev->ictx, drop);
	iommufd_put_object(idev->ictx, &hwpt->obj);
	return rc;
}

/* Block @pasid; returns the HWPT whose device use the caller drops. */
static struct iommufd_hwpt *pasid_detach_locked(struct iommufd_device *idev,
						u32 pasid)
{
	struct iommufd_hwpt *old;

	lockdep_assert_held(&idev->lock);

	old = xa_erase(&idev->pasids, pasid);
	if (!old)
		return NULL;
	down_write(&old->ioas->iopt.domains_rwsem);
	idev->ops->detach_pasid(idev, pasid);
	up_write(&old->ioas->iopt.domains_rwsem);
	/* What it reported there is answered before it can go elsewhere. */
	if (old->fault)
		iommufd_fault_pasid_leaves(old->fault, idev, pasid);
	return old;
}

/**
 * iommufd_device_pasid_detach() - block a PASID of the device
 * @idev: the device
 * @pasid: the PASID; IOMMU_NO_PASID detaches the device itself
 *
 * A PASID that is not attached stays as it is, and that is no error.
 */
void iommufd_device_pasid_detach(struct iommufd_device *idev, u32 pasid)
{
	struct iommufd_hwpt *old;

	if (pasid == IOMMU_NO_PASID) {
		iommufd_device_detach(idev);
		return;
	}
	mutex_lock(&idev->lock);
	old = pasid_detach_locked(idev, pasid);
	mutex_unlock(&idev->lock);
	if (old)
		iommufd_hwpt_put_device(idev->ictx, old);
}

/* The device is going: block every PASID it still has. */
void iommufd_device_pasid_detach_all(struct iommufd_device *idev)
{
	struct iommufd_hwpt *old;
	unsigned long pasid;

	for (;;) {
		mutex_lock(&idev->lock);
		pasid = 0;
		old = xa_find(&idev->pasids, &pasid, ULONG_MAX, XA_PRESENT);
		if (old)
			old = pasid_detach_locked(idev, pasid);
		mutex_unlock(&idev->lock);
		if (!old)
			break;
		iommufd_hwpt_put_device(idev->ictx, old);
	}
}

/* The HWPT @pasid of @idev goes to, NULL if none (idev->lock held). */
struct iommufd_hwpt *iommufd_device_pasid_hwpt(struct iommufd_device *idev,
					       u32 pasid)
{
	lockdep_assert_held(&idev->lock);

	if (pasid == IOMMU_NO_PASID)
		return idev->hwpt;
	return xa_load(&idev->pasids, pasid);
}

/* The id of the HWPT @pasid of @idev goes to now, 0 if it is blocked. */
u32 iommufd_device_pasid_hwpt_id(struct iommufd_device *idev, u32 pasid)
{
	struct iommufd_hwpt *hwpt;
	u32 id;

	mutex_lock(&idev->lock);
	hwpt = iommufd_device_pasid_hwpt(idev, pasid);
	id = hwpt ? hwpt->obj.id : 0;
	mutex_unlock(&idev->lock);
	return id;
}

/*
 * May the device itself move to @hwpt?  Not to one that is not
 * PASID-compatible while it has PASIDs attached (idev->lock held).
 */
int iommufd_device_pasid_rid_check(struct iommufd_device *idev,
				   struct iommufd_hwpt *hwpt)
{
	lockdep_assert_held(&idev->lock);

	if (!hwpt->pasid_compat && !xa_empty(&idev->pasids))
		return -EINVAL;
	return 0;
}

/* IOMMUFD_DKMS_DEVICE_PASID: the calls above, for any device by dev_id. */
int iommufd_dkms_device_pasid(struct iommufd_ucmd *ucmd)
{
	struct iommufd_dkms_device_pasid *cmd = ucmd->cmd;
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	int rc;

	if (cmd->__reserved || cmd->op > IOMMUFD_DKMS_PASID_DETACH)
		return -EOPNOTSUPP;
	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	idev = container_of(obj, struct iommufd_device, obj);
	switch (cmd->op) {
	case IOMMUFD_DKMS_PASID_ATTACH:
		rc = iommufd_device_pasid_attach(idev, cmd->pasid, &cmd->pt_id);
		break;
	case IOMMUFD_DKMS_PASID_REPLACE:
		rc = iommufd_device_pasid_replace(idev, cmd->pasid,
						  &cmd->pt_id);
		break;
	default:
		iommufd_device_pasid_detach(idev, cmd->pasid);
		rc = 0;
		break;
	}
	if (!rc && cmd->op != IOMMUFD_DKMS_PASID_DETACH)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
