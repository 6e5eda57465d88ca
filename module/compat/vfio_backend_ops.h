/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VFIO IOMMU backend interface, mirrored.
 *
 * struct vfio_iommu_driver_ops lives in drivers/vfio/vfio.h, which no
 * headers package ships, so no feature probe can see it.  Following the
 * compat rule for such cases, it is gated on the exact kernels whose
 * source was checked, and the backend is not built for any other: a wrong
 * guess here would be a call through a misplaced function pointer.
 *
 * Checked against Debian's linux-source-6.1 (6.1.x, which still has the
 * notify callback) and linux-source-6.12 (6.12.x, without it): both have
 * the members below in this order, and the same enum vfio_group_type.
 */
#ifndef IOMMUFD_COMPAT_VFIO_BACKEND_OPS_H
#define IOMMUFD_COMPAT_VFIO_BACKEND_OPS_H

#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0) &&                          \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define IOMMUFD_VFIO_LAYOUT_CHECKED 1
#define IOMMUFD_VFIO_HAS_NOTIFY 1
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0) &&                       \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#define IOMMUFD_VFIO_LAYOUT_CHECKED 1
#endif

#ifdef IOMMUFD_VFIO_LAYOUT_CHECKED
#include <linux/iommu.h>
#include <linux/vfio.h>

enum vfio_group_type {
	VFIO_IOMMU,
	VFIO_EMULATED_IOMMU,
	VFIO_NO_IOMMU,
};

enum vfio_iommu_notify_type {
	VFIO_IOMMU_CONTAINER_CLOSE = 0,
};

struct vfio_iommu_driver_ops {
	char *name;
	struct module *owner;
	void *(*open)(unsigned long arg);
	void (*release)(void *iommu_data);
	long (*ioctl)(void *iommu_data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *iommu_data, struct iommu_group *group,
			    enum vfio_group_type type);
	void (*detach_group)(void *iommu_data, struct iommu_group *group);
	int (*pin_pages)(void *iommu_data, struct iommu_group *group,
			 dma_addr_t user_iova, int npage, int prot,
			 struct page **pages);
	void (*unpin_pages)(void *iommu_data, dma_addr_t user_iova, int npage);
	void (*register_device)(void *iommu_data, struct vfio_device *vdev);
	void (*unregister_device)(void *iommu_data, struct vfio_device *vdev);
	int (*dma_rw)(void *iommu_data, dma_addr_t user_iova, void *data,
		      size_t count, bool write);
	struct iommu_domain *(*group_iommu_domain)(void *iommu_data,
						   struct iommu_group *group);
#ifdef IOMMUFD_VFIO_HAS_NOTIFY
	void (*notify)(void *iommu_data, enum vfio_iommu_notify_type event);
#endif
};

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);
#endif /* IOMMUFD_VFIO_LAYOUT_CHECKED */

#endif /* IOMMUFD_COMPAT_VFIO_BACKEND_OPS_H */
