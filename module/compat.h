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

#endif /* IOMMUFD_COMPAT_H */
