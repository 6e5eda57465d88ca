/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where kernel differences live.
 *
 * Where the supported kernels differ, the module calls a wrapper of ours,
 * named iommufd_compat_*, never a kernel function redefined as a macro:
 * a reader sees at the call that it may not be the kernel's API, and a
 * kernel header declaring the same name can never clash with it.  Which
 * shape a kernel has is decided by the feature probes in compat/probes/,
 * compiled against the target kernel's headers at build time
 * (compat/configure.sh), never by comparing version numbers.
 */
#ifndef IOMMUFD_COMPAT_H
#define IOMMUFD_COMPAT_H

#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "compat_autoconf.h"

/* configure.sh writes this only when its sentinel probe compiled. */
#ifndef IOMMUFD_COMPAT_PROBES_OK
#error "compat_autoconf.h does not come from a successful probe run"
#endif

/*
 * The PASID of requests without one; <linux/iommu.h> names it from 6.5 on
 * (6.1 has the same meaning without the name).
 */
#ifndef IOMMU_NO_PASID
#define IOMMU_NO_PASID 0U
#endif

/* iommu_map() took no allocation flags before 6.3 (always GFP_KERNEL). */
static inline int iommufd_compat_iommu_map(struct iommu_domain *domain,
					   unsigned long iova,
					   phys_addr_t paddr, size_t size,
					   int prot, gfp_t gfp)
{
#ifdef HAVE_IOMMU_MAP_GFP
	return iommu_map(domain, iova, paddr, size, prot, gfp);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/* Before 6.5 the call also filled a vmas array, which nobody here wants. */
static inline long
iommufd_compat_pin_user_pages_remote(struct mm_struct *mm, unsigned long start,
				     unsigned long nr_pages,
				     unsigned int gup_flags,
				     struct page **pages, int *locked)
{
#ifdef HAVE_PIN_USER_PAGES_REMOTE_NO_VMAS
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     locked);
#else
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, locked);
#endif
}

/* Before 6.11 domains were allocated per bus, not per device. */
static inline struct iommu_domain *
iommufd_compat_paging_domain_alloc(struct device *dev)
{
#ifdef HAVE_IOMMU_PAGING_DOMAIN_ALLOC
	return iommu_paging_domain_alloc(dev);
#else
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ?: ERR_PTR(-ENOMEM);
#endif
}

/*
 * Can the device's IOMMU force snooping (block no-snoop DMA)?  Asking the
 * driver to enforce it on a domain that cannot is worse than not asking:
 * VT-d then refuses to attach any device to that domain.
 */
static inline bool iommufd_dev_can_enforce_coherency(struct device *dev)
{
#ifdef HAVE_IOMMU_CAP_ENFORCE_CACHE_COHERENCY
	return device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
#else
	/*
	 * 6.1's VT-d decides from the devices already attached, and ours is
	 * asked before any is: it would promise snooping the hardware may
	 * not have.  Not asking leaves every mapping IOMMU_CACHE, as before.
	 */
	return false;
#endif
}

/*
 * A paging domain with IOMMU_HWPT_ALLOC_* @flags, as the driver of @dev
 * decides: only it knows whether its IOMMU can (VT-d's SSADS, AMD-Vi's
 * HD bits), so its answer, EOPNOTSUPP included, is the caller's.  Kernels
 * without domain_alloc_user have no way to ask (6.1).
 */
static inline struct iommu_domain *
iommufd_compat_domain_alloc_flags(struct device *dev, u32 flags)
{
#ifdef HAVE_IOMMU_OPS_DOMAIN_ALLOC_USER
	const struct iommu_ops *ops = dev->iommu->iommu_dev->ops;
	struct iommu_domain *domain;

	if (!ops->domain_alloc_user)
		return ERR_PTR(-EOPNOTSUPP);
	domain = ops->domain_alloc_user(dev, flags, NULL, NULL);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	/* Attaching checks it; not every driver fills it in this path. */
	if (!IS_ERR(domain))
		domain->owner = ops;
	return domain;
#else
	return ERR_PTR(-EOPNOTSUPP);
#endif
}

/*
 * A nested domain on @parent (a domain of the same driver made with
 * IOMMU_HWPT_ALLOC_NEST_PARENT) from the driver of @dev, which alone
 * reads the user's @type data at @uptr (@len bytes): VT-d answers
 * EOPNOTSUPP without the nesting capability, AMD-Vi on 6.12 always.
 * Kernels without domain_alloc_user (6.1) cannot nest.
 */
static inline struct iommu_domain *
iommufd_compat_domain_alloc_nested(struct device *dev,
				   struct iommu_domain *parent, u32 flags,
				   u32 type, void __user *uptr, u32 len)
{
#ifdef HAVE_IOMMU_OPS_DOMAIN_ALLOC_USER
	const struct iommu_ops *ops = dev->iommu->iommu_dev->ops;
	const struct iommu_user_data data = {
		.type = type,
		.uptr = uptr,
		.len = len,
	};
	struct iommu_domain *domain;

	if (!ops->domain_alloc_user)
		return ERR_PTR(-EOPNOTSUPP);
	/* A stage-2 of another IOMMU driver (upstream: EINVAL). */
	if (parent->owner != ops)
		return ERR_PTR(-EINVAL);
	domain = ops->domain_alloc_user(dev, flags, parent, &data);
	if (!domain)
		return ERR_PTR(-ENOMEM);
	if (IS_ERR(domain))
		return domain;
	domain->owner = ops;
	/* What the core relies on, as upstream's iommufd checks it. */
	if (WARN_ON_ONCE(domain->type != IOMMU_DOMAIN_NESTED ||
			 !domain->ops->cache_invalidate_user)) {
		iommu_domain_free(domain);
		return ERR_PTR(-EINVAL);
	}
	return domain;
#else
	return ERR_PTR(-EOPNOTSUPP);
#endif
}

/*
 * Hand @entry_num requests of @entry_len bytes at @uptr, in format @type,
 * to the driver of nested @domain; *@entry_num becomes how many it carried
 * out.  Only kernels whose drivers make nested domains have the op.
 */
static inline int
iommufd_compat_cache_invalidate_user(struct iommu_domain *domain, u32 type,
				     void __user *uptr, u32 entry_len,
				     u32 *entry_num)
{
#ifdef HAVE_IOMMU_DOMAIN_OPS_CACHE_INVALIDATE_USER
	struct iommu_user_data_array array = {
		.type = type,
		.uptr = uptr,
		.entry_len = entry_len,
		.entry_num = *entry_num,
	};
	int rc;

	if (!domain->ops->cache_invalidate_user) {
		*entry_num = 0;
		return -EOPNOTSUPP;
	}
	rc = domain->ops->cache_invalidate_user(domain, &array);
	*entry_num = array.entry_num;
	return rc;
#else
	*entry_num = 0;
	return -EOPNOTSUPP;
#endif
}

/*
 * Can the IOMMU of @dev track dirty IOVA, and can this kernel hand us
 * what it tracks?  Both a driver that says so and the dirty ops (dirty.c)
 * are needed.
 */
static inline bool iommufd_compat_dev_can_track_dirty(struct device *dev)
{
#if defined(HAVE_IOMMU_DIRTY_OPS) && defined(HAVE_IOMMU_OPS_DOMAIN_ALLOC_USER)
	return device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING);
#else
	return false;
#endif
}

#ifndef HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
#include <linux/irqdomain.h>

static inline int iommufd_compat_dev_intr_remap(struct device *dev,
						void *data)
{
	return !device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

/*
 * Are the group's MSIs isolated?  Before 6.3 the core had no per-group
 * answer; this is what 6.1's VFIO type1 checks: remapping by the IOMMU of
 * every device, or by the irqchip.
 */
static inline bool
iommufd_compat_group_has_isolated_msi(struct iommu_group *group)
{
#ifdef HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
	return iommu_group_has_isolated_msi(group);
#else
	return !iommu_group_for_each_dev(group, NULL,
					 iommufd_compat_dev_intr_remap) ||
	       irq_domain_check_msi_remap();
#endif
}

#ifdef HAVE_EXPORT_IOMMU_GROUP_REPLACE_DOMAIN
/*
 * Exported for iommufd (namespace IOMMUFD_INTERNAL) but declared only in
 * the IOMMU core's private header: swaps a group's domain without a moment
 * of blocked DMA.  Kernels without it detach and attach instead.
 */
int iommu_group_replace_domain(struct iommu_group *group,
			       struct iommu_domain *new_domain);
#endif

/*
 * The core exports what the VFIO backend module needs in a namespace of
 * its own, so that nothing else links against our internals by accident.
 */
#ifdef HAVE_MODULE_NS_IDENTIFIER
#define IOMMUFD_EXPORT(sym) EXPORT_SYMBOL_NS_GPL(sym, IOMMUFD_DKMS)
#define IOMMUFD_IMPORT_NS() MODULE_IMPORT_NS(IOMMUFD_DKMS)
#define IOMMUFD_IMPORT_KERNEL_NS() MODULE_IMPORT_NS(IOMMUFD_INTERNAL)
#else
#define IOMMUFD_EXPORT(sym) EXPORT_SYMBOL_NS_GPL(sym, "IOMMUFD_DKMS")
#define IOMMUFD_IMPORT_NS() MODULE_IMPORT_NS("IOMMUFD_DKMS")
#define IOMMUFD_IMPORT_KERNEL_NS() MODULE_IMPORT_NS("IOMMUFD_INTERNAL")
#endif

/* Upstream's in-kernel API, as the target kernel declares it. */
#include "compat/kernel_iommufd.h"

#endif /* IOMMUFD_COMPAT_H */
