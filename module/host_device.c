// SPDX-License-Identifier: GPL-2.0
/*
 * A real device on the host's IOMMU: domains from the kernel's IOMMU API
 * for the device, attached to its whole IOMMU group.
 *
 * Whoever holds the group's DMA ownership brings its devices here: VFIO
 * for the groups of a container our iommufd_vfio serves, and the
 * in-kernel API's iommufd_device_bind() (kapi.c) for a driver that binds
 * a device itself (VFIO's device cdev).  Both keep a struct
 * iommufd_host_group per group and a struct iommufd_host_device per
 * device, and bind it with these ops; from there on the device is the
 * same to the core whichever way it came.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

static struct iommufd_host_device *to_hdev(struct iommufd_device *idev)
{
	return idev->priv;
}

void iommufd_host_group_init(struct iommufd_host_group *hgroup,
			     struct iommu_group *group)
{
	hgroup->group = group;
	mutex_init(&hgroup->lock);
	hgroup->domain = NULL;
	hgroup->nattached = 0;
}
IOMMUFD_EXPORT(iommufd_host_group_init);

void iommufd_host_group_destroy(struct iommufd_host_group *hgroup)
{
	/* Every device detached before it was unbound. */
	WARN_ON(hgroup->domain || hgroup->nattached);
	mutex_destroy(&hgroup->lock);
}
IOMMUFD_EXPORT(iommufd_host_group_destroy);

/* The domain the group is attached to now, or NULL when blocked. */
struct iommu_domain *iommufd_host_group_domain(struct iommufd_host_group *hgroup)
{
	struct iommu_domain *domain;

	mutex_lock(&hgroup->lock);
	domain = hgroup->domain;
	mutex_unlock(&hgroup->lock);
	return domain;
}
IOMMUFD_EXPORT(iommufd_host_group_domain);

static struct iommu_domain *
host_domain_alloc_paging(struct iommufd_device *idev, u32 flags)
{
	/* Dirty tracking (the only flag that reaches here): the driver's call. */
	if (flags)
		return iommufd_compat_domain_alloc_flags(to_hdev(idev)->dev,
							 flags);
	return iommufd_compat_paging_domain_alloc(to_hdev(idev)->dev);
}

/*
 * A stage-1 on a nest parent: entirely the host driver's decision, its
 * answer is the user's (6.1 has no way to ask: EOPNOTSUPP).
 */
static struct iommu_domain *
host_domain_alloc_nested(struct iommufd_device *idev,
			 struct iommu_domain *parent, u32 flags,
			 const struct iommufd_user_data *data)
{
	return iommufd_compat_domain_alloc_nested(to_hdev(idev)->dev, parent,
						  flags, data->type,
						  data->uptr, data->len);
}

/* Paging or nested, the driver's own free. */
static void host_domain_free(struct iommu_domain *domain)
{
	iommu_domain_free(domain);
}

static int host_cache_invalidate_user(struct iommu_domain *domain,
				      struct iommufd_user_array *array)
{
	return iommufd_compat_cache_invalidate_user(domain, array->type,
						    array->uptr,
						    array->entry_len,
						    &array->entry_num);
}

/* Point the group at @domain; with 6.12's replace, DMA is never blocked. */
static int host_group_set_domain(struct iommufd_host_group *hgroup,
				 struct iommu_domain *domain)
{
	struct iommu_domain *old = hgroup->domain;
#ifndef HAVE_EXPORT_IOMMU_GROUP_REPLACE_DOMAIN
	int rc;
#endif

	if (!old)
		return iommu_attach_group(domain, hgroup->group);
#ifdef HAVE_EXPORT_IOMMU_GROUP_REPLACE_DOMAIN
	return iommu_group_replace_domain(hgroup->group, domain);
#else
	iommu_detach_group(old, hgroup->group);
	rc = iommu_attach_group(domain, hgroup->group);
	if (rc && iommu_attach_group(old, hgroup->group))
		/* Neither works: the group stays blocked, no longer ours. */
		hgroup->domain = NULL;
	return rc;
#endif
}

/*
 * One group, one domain: a device joins the domain its group is attached
 * to, and may move the group only when no other device of it is attached.
 */
static int host_attach(struct iommufd_device *idev,
		       struct iommu_domain *domain)
{
	struct iommufd_host_device *hdev = to_hdev(idev);
	struct iommufd_host_group *hgroup = hdev->hgroup;
	int rc = 0;

	mutex_lock(&hgroup->lock);
	if (hgroup->domain != domain) {
		if (hgroup->nattached > (hdev->attached ? 1 : 0)) {
			rc = -EINVAL;
			goto out_unlock;
		}
		rc = host_group_set_domain(hgroup, domain);
		if (rc)
			goto out_unlock;
		hgroup->domain = domain;
	}
	if (!hdev->attached) {
		hdev->attached = true;
		hgroup->nattached++;
	}
out_unlock:
	mutex_unlock(&hgroup->lock);
	return rc;
}

static void host_detach(struct iommufd_device *idev)
{
	struct iommufd_host_device *hdev = to_hdev(idev);
	struct iommufd_host_group *hgroup = hdev->hgroup;

	mutex_lock(&hgroup->lock);
	if (hdev->attached) {
		hdev->attached = false;
		/* The last device out blocks the group's DMA again. */
		if (!--hgroup->nattached && hgroup->domain) {
			iommu_detach_group(hgroup->domain, hgroup->group);
			hgroup->domain = NULL;
		}
	}
	mutex_unlock(&hgroup->lock);
}

/*
 * The group's reserved regions (the x86 MSI window among them) must never
 * be handed out as IOVA.  Relaxable direct mappings (RMRRs of USB or
 * graphics devices) are not a hard constraint, as upstream decided.
 */
static int host_reserve_regions(struct iommufd_device *idev,
				struct io_pagetable *iopt, void *owner)
{
	struct iommu_resv_region *resv, *tmp;
	LIST_HEAD(regions);
	int rc;

	rc = iommu_get_group_resv_regions(to_hdev(idev)->hgroup->group,
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
static int host_hw_info(struct iommufd_device *idev,
			struct iommufd_hw_report *report)
{
	struct device *dev = to_hdev(idev)->dev;
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
static u32 host_max_pasids(struct device *dev)
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
 * For a device that has PASIDs, the driver's per-PASID entries are not
 * programmed yet: EOPNOTSUPP rather than a PASID that seems attached
 * while its requests go nowhere.
 */
static int host_attach_pasid(struct iommufd_device *idev, u32 pasid,
			     struct iommu_domain *domain,
			     struct iommu_domain *old)
{
	if (pasid >= host_max_pasids(to_hdev(idev)->dev))
		return -EINVAL;
	return -EOPNOTSUPP;
}

/* Never attached (see above): nothing to undo. */
static void host_detach_pasid(struct iommufd_device *idev, u32 pasid)
{
}

static bool host_can_enforce_coherency(struct iommufd_device *idev)
{
	return iommufd_dev_can_enforce_coherency(to_hdev(idev)->dev);
}

const struct iommufd_device_ops iommufd_host_device_ops = {
	.owner = THIS_MODULE,
	.domain_alloc_paging = host_domain_alloc_paging,
	.domain_alloc_nested = host_domain_alloc_nested,
	.domain_free = host_domain_free,
	.cache_invalidate_user = host_cache_invalidate_user,
	.attach = host_attach,
	.detach = host_detach,
	.attach_pasid = host_attach_pasid,
	.detach_pasid = host_detach_pasid,
	.reserve_regions = host_reserve_regions,
	.hw_info = host_hw_info,
	.can_enforce_coherency = host_can_enforce_coherency,
	.set_dirty_tracking = iommufd_domain_set_dirty_tracking,
	.read_and_clear_dirty = iommufd_domain_read_and_clear_dirty,
};

IOMMUFD_EXPORT(iommufd_host_device_ops);

/*
 * There are no cache maintenance ioctls, so a device whose DMA the IOMMU
 * cannot keep coherent would see stale memory (EINVAL, as upstream).
 */
int iommufd_host_check_coherent(struct device *dev)
{
	return device_iommu_capable(dev, IOMMU_CAP_CACHE_COHERENCY) ? 0 :
								      -EINVAL;
}
IOMMUFD_EXPORT(iommufd_host_check_coherent);

/*
 * Without MSI isolation a device's DMA write can raise any interrupt: only
 * an administrator's @allow_unsafe lets such a group in (EPERM otherwise).
 */
int iommufd_host_check_msi(struct iommu_group *group, bool allow_unsafe)
{
	if (iommufd_compat_group_has_isolated_msi(group))
		return 0;
	if (!allow_unsafe) {
		pr_warn("iommufd: IOMMU group %d has no MSI isolation; refused (see the allow_unsafe_interrupts parameter)\n",
			iommu_group_id(group));
		return -EPERM;
	}
	pr_warn_once("iommufd: IOMMU group %d has no MSI isolation; accepted as allow_unsafe_interrupts says\n",
		     iommu_group_id(group));
	return 0;
}
IOMMUFD_EXPORT(iommufd_host_check_msi);

#ifdef HAVE_EXPORT_IOMMU_GROUP_REPLACE_DOMAIN
/* iommu_group_replace_domain() is exported for iommufd's use only. */
IOMMUFD_IMPORT_KERNEL_NS();
#endif
