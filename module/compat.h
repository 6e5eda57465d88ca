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

#include <linux/mm.h>

#include "compat_autoconf.h"

#ifndef HAVE_PIN_USER_PAGES_REMOTE_NO_VMAS
/* Before 6.5 the call also took a vmas array, which nobody here wants. */
static inline long iommufd_compat_pin_user_pages_remote(struct mm_struct *mm,
							unsigned long start,
							unsigned long nr_pages,
							unsigned int gup_flags,
							struct page **pages,
							int *locked)
{
	return pin_user_pages_remote(mm, start, nr_pages, gup_flags, pages,
				     NULL, locked);
}
#define pin_user_pages_remote iommufd_compat_pin_user_pages_remote
#endif

#endif /* IOMMUFD_COMPAT_H */
