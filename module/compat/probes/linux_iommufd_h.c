// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_LINUX_IOMMUFD_H: the headers carry include/linux/iommufd.h, the
 * in-kernel iommufd API that VFIO and mdev drivers call (Debian ships it
 * with 6.12 although its iommufd is off; 6.1's headers have none).  The
 * module then defines that API against this very header, seen as code
 * built with CONFIG_IOMMUFD=m sees it (compat/kernel_iommufd.h).
 */
#define CONFIG_IOMMUFD_MODULE 1
#include <linux/iommufd.h>

int probe(struct iommufd_ctx *ictx);
int probe(struct iommufd_ctx *ictx)
{
	return iommufd_vfio_compat_ioas_create(ictx);
}
