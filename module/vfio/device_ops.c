// SPDX-License-Identifier: GPL-2.0
/*
 * The hardware side of a VFIO device's DMA: domains from the kernel's
 * IOMMU API for the device, attached to its whole IOMMU group.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "vfio_backend.h"

static struct vfio_backend_device *to_vdev(struct iommufd_device *idev)
{
	return idev->priv;
}

static struct iommu_domain *
vfio_backend_domain_alloc_paging(struct iommufd_device *idev, u32 flags)
{
	/* Dirty tracking (the only flag that reaches here): the driver's call. */
	if (flags)
		return iommufd_compat_domain_alloc_flags(to_vdev(idev)->dev,
							 flags);
	return iommufd_compat_paging_domain_alloc(to_vdev(idev)->dev);
}

/*
 * A stage-1 on a nest parent: entirely the host driver's decision, its
 * answer is the user's (6.1 has no way to ask: EOPNOTSUPP).
 */
static struct iommu_domain *
vfio_backend_domain_alloc_nested(struct iommufd_device *idev,
				 struct iommu_domain *parent, u32 flags,
				 const struct iommufd_user_data *data)
{
	return iommufd_compat_domain_alloc_nested(to_vdev(idev)->dev, parent,
						  flags, data->type,
						  data->uptr, data->len);
}

/* Paging or nested, the driver's own free. */
static void vfio_backend_domain_free(struct iommu_domain *domain)
{
	iommu_domain_free(domain);
}

static int vfio_backend_cache_invalidate_user(struct iommu_domain *domain,
					      struct iommufd_user_array *array)
{
	return iommufd_compat_cache_invalidate_user(domain, array->type,
						    array->uptr,
						    array->entry_len,
						    &array->entry_num);
}

/* Point the group at @domain; with 6.12's replace, DMA is never blocked. */
static int vfio_backend_group_set_domain(struct vfio_backend_group *vgroup,
					 struct iommu_domain *domain)
{
	struct iommu_domain *old = vgroup->domain;
#ifndef HAVE_EXPORT_IOMMU_GROUP_REPLACE_DOMAIN
	int rc;
#endif

	if (!old)
		return iommu_attach_group(domain, vgroup->group);
#ifdef HAVE_EXPORT_IOMMU_GROUP_REPLACE_DOMAIN
	return iommu_group_replace_domain(vgroup->group, domain);
#else
	iommu_detach_group(old, vgroup->group);
	rc = iommu_attach_group(domain, vgroup->group);
	if (rc && iommu_attach_group(old, vgroup->group))
		/* Neither works: the group stays blocked, no longer ours. */
		vgroup->domain = NULL;
	return rc;
#endif
}

static int vfio_backend_attach(struct iommufd_device *idev,
			       struct iommu_domain *domain)
{
	struct vfio_backend_device *vdev = to_vdev(idev);
	struct vfio_backend_group *vgroup = vdev->vgroup;
	struct vfio_backend_container *container = vgroup->container;
	int rc = 0;

	mutex_lock(&container->lock);
	if (vgroup->domain == domain) {
		if (!vdev->attached) {
			vdev->attached = true;
			vgroup->nattached++;
		}
		goto out_unlock;
	}
	/* One group, one domain: the others must move together. */
	if (vgroup->nattached > (vdev->attached ? 1 : 0)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	rc = vfio_backend_group_set_domain(vgroup, domain);
	if (rc)
		goto out_unlock;
	vgroup->domain = domain;
	if (!vdev->attached) {
		vdev->attached = true;
		vgroup->nattached++;
	}
out_unlock:
	mutex_unlock(&container->lock);
	return rc;
}

static void vfio_backend_detach(struct iommufd_device *idev)
{
	struct vfio_backend_device *vdev = to_vdev(idev);
	struct vfio_backend_group *vgroup = vdev->vgroup;

	mutex_lock(&vgroup->container->lock);
	if (vdev->attached) {
		vdev->attached = false;
		/* The last device out blocks the group's DMA again. */
		if (!--vgroup->nattached && vgroup->domain) {
			iommu_detach_group(vgroup->domain, vgroup->group);
			vgroup->domain = NULL;
		}
	}
	mutex_unlock(&vgroup->container->lock);
}

/*
 * The group's reserved regions (the x86 MSI window among them) must never
 * be handed out as IOVA.  Relaxable direct mappings (RMRRs of USB or
 * graphics devices) are not a hard constraint, as upstream decided.
 */
static int vfio_backend_reserve_regions(struct iommufd_device *idev,
					struct io_pagetable *iopt, void *owner)
{
	struct iommu_resv_region *resv, *tmp;
	LIST_HEAD(regions);
	int rc;

	rc = iommu_get_group_resv_regions(to_vdev(idev)->vgroup->group,
					  &regions);
	if (rc)
		return rc;
	list_for_each_entry(resv, &regions, list) {
		if (resv->type == IOMMU_RESV_DIRECT_RELAXABLE)
			continue;
		rc = iopt_reserve_range(iopt, resv->start,
					resv->start + resv->length - 1, owner);
		if (rc)
			break;
	}
	if (rc)
		iopt_remove_reserved_iova(iopt, owner);
	list_for_each_entry_safe(resv, tmp, &regions, list)
		kfree(resv);
	return rc;
}

/* What the host IOMMU driver says about the device's IOMMU. */
static int vfio_backend_hw_info(struct iommufd_device *idev,
				struct iommufd_hw_report *report)
{
	struct device *dev = to_vdev(idev)->dev;
#ifdef HAVE_IOMMU_OPS_HW_INFO
	const struct iommu_ops *ops = dev->iommu->iommu_dev->ops;

	if (ops->hw_info) {
		void *data = ops->hw_info(dev, &report->length, &report->type);

		if (IS_ERR(data))
			return PTR_ERR(data);
		report->data = data;
	}
#endif
	/*
	 * Dirty tracking only where a dirty HWPT can be had and read: a VMM
	 * that read the bit would plan a migration on it.
	 */
	if (iommufd_compat_dev_can_track_dirty(dev))
		report->capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
	/* Without a driver callback (6.1) there is no data to report. */
#ifdef HAVE_DEV_IOMMU_MAX_PASIDS
	report->max_pasid_log2 = dev->iommu->max_pasids ?
		ilog2(roundup_pow_of_two(dev->iommu->max_pasids)) : 0;
#endif
	return 0;
}

/*
 * The PASIDs the IOMMU core lets the device use (the smaller of its PCIe
 * PASID capability and its IOMMU's), from 6.2 on; 6.1's IOMMU API has no
 * PASID attachment at all, so there the device has none for us.
 */
static u32 vfio_backend_max_pasids(struct device *dev)
{
#ifdef HAVE_DEV_IOMMU_MAX_PASIDS
	return dev->iommu->max_pasids;
#else
	return 0;
#endif
}

/*
 * A PASID the device does not have is EINVAL, the IOMMU core's answer
 * upstream (for QEMU's edu, which has no PASID capability, every PASID).
 * For a device that has PASIDs, this backend does not program the
 * driver's per-PASID entries yet: EOPNOTSUPP rather than a PASID that
 * seems attached while its requests go nowhere.
 */
static int vfio_backend_attach_pasid(struct iommufd_device *idev, u32 pasid,
				     struct iommu_domain *domain,
				     struct iommu_domain *old)
{
	if (pasid >= vfio_backend_max_pasids(to_vdev(idev)->dev))
		return -EINVAL;
	return -EOPNOTSUPP;
}

/* Never attached (see above): nothing to undo. */
static void vfio_backend_detach_pasid(struct iommufd_device *idev, u32 pasid)
{
}

static bool vfio_backend_can_enforce_coherency(struct iommufd_device *idev)
{
	return iommufd_dev_can_enforce_coherency(to_vdev(idev)->dev);
}

const struct iommufd_device_ops vfio_backend_device_ops = {
	.owner = THIS_MODULE,
	.domain_alloc_paging = vfio_backend_domain_alloc_paging,
	.domain_alloc_nested = vfio_backend_domain_alloc_nested,
	.domain_free = vfio_backend_domain_free,
	.cache_invalidate_user = vfio_backend_cache_invalidate_user,
	.attach = vfio_backend_attach,
	.detach = vfio_backend_detach,
	.attach_pasid = vfio_backend_attach_pasid,
	.detach_pasid = vfio_backend_detach_pasid,
	.reserve_regions = vfio_backend_reserve_regions,
	.hw_info = vfio_backend_hw_info,
	.can_enforce_coherency = vfio_backend_can_enforce_coherency,
	.set_dirty_tracking = iommufd_domain_set_dirty_tracking,
	.read_and_clear_dirty = iommufd_domain_read_and_clear_dirty,
};

static int check_device(struct device *dev, void *data)
{
	/*
	 * There are no cache maintenance ioctls, so a device whose DMA the
	 * IOMMU cannot keep coherent would see stale memory.
	 */
	if (!device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY)) {
		dev_warn(dev, "iommufd_vfio: DMA cannot be made cache coherent; refused\n");
		return -EINVAL;
	}
	return 0;
}

/* May this group's devices be handed to user space through us? */
int vfio_backend_check_group(struct iommu_group *group)
{
	int rc;

	rc = iommu_group_for_each_dev(group, NULL, check_device);
	if (rc)
		return rc;
	if (!iommufd_compat_group_has_isolated_msi(group) &&
	    !vfio_backend_allow_unsafe_interrupts) {
		pr_warn("iommufd_vfio: IOMMU group %d has no MSI isolation; refused (see the allow_unsafe_interrupts parameter)\n",
			iommu_group_id(group));
		return -EPERM;
	}
	return 0;
}
