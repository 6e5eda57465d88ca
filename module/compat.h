/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place where kernel differences live.
 *
 * The rest of the module calls the modern kernel API by its modern name;
 * where a supported kernel lacks it, this header supplies it as a static
 * inline on top of what that kernel has.  Which shape a kernel has is
 * decided by the feature probes in compat/probes/, compiled against the
 * target kernel's headers at build time (compat/configure.sh), never by
 * comparing version numbers.
 */
#ifndef IOMMUFD_COMPAT_H
#define IOMMUFD_COMPAT_H

#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>

#include "compat_autoconf.h"

#ifndef HAVE_IOMMU_MAP_GFP
/*
 * Before 6.3 iommu_map() had no allocation flags and used GFP_KERNEL; the
 * modern call's flags are dropped.  A function-like macro does not expand
 * itself again, so this calls the kernel's four-argument iommu_map().
 */
#define iommu_map(domain, iova, paddr, size, prot, gfp)                       \
	iommu_map(domain, iova, paddr, size, prot)
#endif

#ifndef HAVE_PIN_USER_PAGES_REMOTE_NO_VMAS
/* Before 6.5 the call also took a vmas array, which nobody here wants. */
#define pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages, locked)  \
	pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages, NULL,    \
			      locked)
#endif

#ifndef HAVE_IOMMU_PAGING_DOMAIN_ALLOC
/* Before 6.11 domains were allocated per bus, not per device. */
static inline struct iommu_domain *
iommufd_compat_paging_domain_alloc(struct device *dev)
{
	struct iommu_domain *domain = iommu_domain_alloc(dev->bus);

	return domain ?: ERR_PTR(-ENOMEM);
}
#define iommu_paging_domain_alloc iommufd_compat_paging_domain_alloc
#endif

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

#ifndef HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI
#include <linux/irqdomain.h>

static int iommufd_compat_dev_intr_remap(struct device *dev, void *data)
{
	return !device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}

/* What 6.1's VFIO type1 checks: remapping by the IOMMU or the irqchip. */
static inline bool iommufd_compat_isolated_msi(struct iommu_group *group)
{
	return !iommu_group_for_each_dev(group, NULL,
					 iommufd_compat_dev_intr_remap) ||
	       irq_domain_check_msi_remap();
}
#define iommu_group_has_isolated_msi iommufd_compat_isolated_msi
#endif

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

#endif /* IOMMUFD_COMPAT_H */
