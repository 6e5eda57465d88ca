/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel iommufd API: what VFIO (its device cdev, its group path
 * with an iommufd for a container, its emulated devices) calls in an
 * iommufd module.  kapi.c, access.c, main.c and vfio_compat.c define it.
 *
 * Where the target kernel ships include/linux/iommufd.h (Debian's 6.12
 * does, although it builds no iommufd), that header is the contract: it
 * is included here exactly as a module built with CONFIG_IOMMUFD=m sees
 * it, and every translation unit of ours includes it through compat.h.
 * The compiler then checks each of our definitions against the kernel's
 * own prototype, so a kernel whose API differs is a build error, never
 * a VFIO module calling us with other arguments.  The symbols go out in
 * the namespaces upstream uses (IOMMUFD, IOMMUFD_VFIO), where a VFIO
 * rebuilt with CONFIG_IOMMUFD=m looks for them.
 *
 * Without the header (6.1) there is nothing to check against and no
 * VFIO that could call this API: the context and access calls serve the
 * module's own users (iommufd_vfio, the self-test's accesses, the
 * vIOMMU's HW queues) under a declaration of ours, exported only in our
 * own namespace, and device binding (kapi.c) is not built.
 */
#ifndef IOMMUFD_COMPAT_KERNEL_IOMMUFD_H
#define IOMMUFD_COMPAT_KERNEL_IOMMUFD_H

#ifdef HAVE_LINUX_IOMMUFD_H

/*
 * Included first by us, or its CONFIG_IOMMUFD=n inline stubs would have
 * been seen, and would clash with our definitions in confusing ways.
 */
#ifdef __LINUX_IOMMUFD_H
#error "linux/iommufd.h was included before compat.h, with its CONFIG_IOMMUFD=n stubs"
#endif
#ifdef CONFIG_IOMMUFD_MODULE
#error "CONFIG_IOMMUFD_MODULE is set: this kernel has its own iommufd"
#endif
#define CONFIG_IOMMUFD_MODULE 1
#include <linux/iommufd.h>
#undef CONFIG_IOMMUFD_MODULE

#ifdef HAVE_MODULE_NS_IDENTIFIER
#define IOMMUFD_EXPORT_KAPI(sym) EXPORT_SYMBOL_NS_GPL(sym, IOMMUFD)
#define IOMMUFD_EXPORT_KAPI_VFIO(sym) EXPORT_SYMBOL_NS_GPL(sym, IOMMUFD_VFIO)
#define IOMMUFD_IMPORT_KAPI_NS() MODULE_IMPORT_NS(IOMMUFD)
#else
#define IOMMUFD_EXPORT_KAPI(sym) EXPORT_SYMBOL_NS_GPL(sym, "IOMMUFD")
#define IOMMUFD_EXPORT_KAPI_VFIO(sym) EXPORT_SYMBOL_NS_GPL(sym, "IOMMUFD_VFIO")
#define IOMMUFD_IMPORT_KAPI_NS() MODULE_IMPORT_NS("IOMMUFD")
#endif

#else /* !HAVE_LINUX_IOMMUFD_H */

#include <linux/bits.h>
#include <linux/types.h>

struct device;
struct file;
struct iommu_group;
struct iommufd_access;
struct iommufd_ctx;
struct iommufd_device;
struct page;

/* Of the same shape as 6.12's, so that the code has one form. */
struct iommufd_access_ops {
	u8 needs_pin_pages : 1;
	void (*unmap)(void *data, unsigned long iova, unsigned long length);
};

/* Flags of iommufd_access_pin_pages() and iommufd_access_rw(). */
enum {
	IOMMUFD_ACCESS_RW_READ = 0,
	IOMMUFD_ACCESS_RW_WRITE = BIT(0),
	IOMMUFD_ACCESS_RW_KTHREAD = BIT(1),
	__IOMMUFD_ACCESS_RW_SLOW_PATH = BIT(2),
};

struct iommufd_ctx *iommufd_ctx_from_file(struct file *file);
struct iommufd_ctx *iommufd_ctx_from_fd(int fd);
void iommufd_ctx_get(struct iommufd_ctx *ictx);
void iommufd_ctx_put(struct iommufd_ctx *ictx);

struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data,
		      u32 *id);
void iommufd_access_destroy(struct iommufd_access *access);
int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id);
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id);
void iommufd_access_detach(struct iommufd_access *access);
int iommufd_access_pin_pages(struct iommufd_access *access,
			     unsigned long iova, unsigned long length,
			     struct page **out_pages, unsigned int flags);
void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length);
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *data, size_t len, unsigned int flags);

int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, u32 *ioas_id);
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx);
int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx);

/*
 * For the module's own users only (iommufd_vfio takes contexts with
 * them): our namespace, where nothing in the kernel looks.
 */
#define IOMMUFD_EXPORT_KAPI(sym) IOMMUFD_EXPORT(sym)
#define IOMMUFD_EXPORT_KAPI_VFIO(sym) IOMMUFD_EXPORT(sym)
#define IOMMUFD_IMPORT_KAPI_NS()

#endif /* HAVE_LINUX_IOMMUFD_H */

#endif /* IOMMUFD_COMPAT_KERNEL_IOMMUFD_H */
