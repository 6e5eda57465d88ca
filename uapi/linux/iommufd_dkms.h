/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd-dkms extensions to the iommufd user API.
 *
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * Upstream binds a device to an iommufd through the VFIO device cdev
 * (VFIO_DEVICE_BIND_IOMMUFD), which Debian's 6.1 and 6.12 kernels do not
 * build.  There VFIO keeps owning the device through its legacy group and
 * container, and iommufd-dkms serves the container as a VFIO IOMMU backend
 * (the iommufd_vfio module).  The ioctls below are what that needs beyond
 * upstream's ABI.  They use their own ioctl type, IOMMUFD_DKMS_TYPE, which
 * neither iommufd nor VFIO (both ';') will ever use, so no future upstream
 * ioctl can collide with them on /dev/iommu or on a VFIO container.
 *
 * Every one of them follows the size rule of upstream's ioctls: @size is
 * what user space passes; less than the struct's mandatory part is EINVAL,
 * more than the kernel knows is E2BIG unless the extra bytes are zero.
 *
 * The flow of a VMM:
 *   1. open the VFIO container and groups as usual, VFIO_GROUP_SET_CONTAINER;
 *   2. VFIO_SET_IOMMU(VFIO_IOMMUFD_DKMS_IOMMU) on the container;
 *   3. IOMMUFD_DKMS_VFIO_LINK on the container with a /dev/iommu fd: every
 *      device of the container's groups becomes an iommufd device object;
 *   4. IOMMUFD_DKMS_VFIO_DEVICES on the container: their dev_ids by name;
 *   5. IOMMUFD_DKMS_DEVICE_ATTACH on /dev/iommu: DMA of a device goes
 *      through an IOAS or a HWPT (again to replace, DETACH to block);
 *      IOMMU_HWPT_ALLOC and IOMMU_GET_HW_INFO take the dev_id as upstream;
 *   6. IOMMUFD_DKMS_DEVICE_PASID on /dev/iommu: the same for one PASID of
 *      the device (upstream's VFIO_DEVICE_ATTACH_IOMMUFD_PT with
 *      VFIO_DEVICE_ATTACH_PASID, and VFIO_DEVICE_DETACH_IOMMUFD_PT).
 */
#ifndef _UAPI_IOMMUFD_DKMS_H
#define _UAPI_IOMMUFD_DKMS_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Never ';' (upstream iommufd's and VFIO's type), and a type that
 * Documentation/userspace-api/ioctl/ioctl-number.rst (Linux 6.12) lists
 * for nobody, so that our numbers mean nothing to any other driver: an
 * ioctl sent to the wrong file fails with ENOTTY instead of doing
 * something else.  (The first releases used 0xB7, which is nsfs's and
 * remoteproc's: IOMMUFD_DKMS_DEVICE_ATTACH was NS_GET_USERNS.)
 */
#define IOMMUFD_DKMS_TYPE 0xBE

/*
 * The VFIO_SET_IOMMU / VFIO_CHECK_EXTENSION value that selects the
 * iommufd-dkms backend on a VFIO container.  Upstream's values are small
 * (VFIO_TYPE1_IOMMU is 1 ... VFIO_UNMAP_ALL is 10); this one sits far
 * above them.
 */
#define VFIO_IOMMUFD_DKMS_IOMMU 0x1f0d

enum {
	IOMMUFD_DKMS_CMD_DEVICE_ATTACH = 0x01,
	IOMMUFD_DKMS_CMD_DEVICE_DETACH = 0x02,
	IOMMUFD_DKMS_CMD_VFIO_LINK = 0x03,
	IOMMUFD_DKMS_CMD_VFIO_DEVICES = 0x04,
	IOMMUFD_DKMS_CMD_DEVICE_PASID = 0x05,
};

/**
 * struct iommufd_dkms_device_attach - ioctl(IOMMUFD_DKMS_DEVICE_ATTACH)
 * @size: (in) sizeof(struct iommufd_dkms_device_attach)
 * @dev_id: (in) the device, as an iommufd object id
 * @pt_id: (in) an IOAS (the kernel picks or makes a paging HWPT for the
 *         device) or a paging HWPT; (out) the HWPT the device now uses
 * @__reserved: must be 0
 *
 * Issued on /dev/iommu.  Attaches the device's DMA, or replaces where it
 * goes: where the kernel can replace a domain in place (6.12), DMA is never
 * blocked in between; on failure the previous attachment stays in force.
 * Devices sharing an IOMMU group must all use the same HWPT (EINVAL).
 */
struct iommufd_dkms_device_attach {
	__u32 size;
	__u32 dev_id;
	__u32 pt_id;
	__u32 __reserved;
};
#define IOMMUFD_DKMS_DEVICE_ATTACH                                             \
	_IO(IOMMUFD_DKMS_TYPE, IOMMUFD_DKMS_CMD_DEVICE_ATTACH)

/**
 * struct iommufd_dkms_device_detach - ioctl(IOMMUFD_DKMS_DEVICE_DETACH)
 * @size: (in) sizeof(struct iommufd_dkms_device_detach)
 * @dev_id: (in) the device
 *
 * Issued on /dev/iommu.  Blocks the device's DMA.  Detaching a device that
 * is not attached succeeds.
 */
struct iommufd_dkms_device_detach {
	__u32 size;
	__u32 dev_id;
};
#define IOMMUFD_DKMS_DEVICE_DETACH                                             \
	_IO(IOMMUFD_DKMS_TYPE, IOMMUFD_DKMS_CMD_DEVICE_DETACH)

/**
 * struct iommufd_dkms_vfio_link - ioctl(IOMMUFD_DKMS_VFIO_LINK)
 * @size: (in) sizeof(struct iommufd_dkms_vfio_link)
 * @iommufd: (in) a /dev/iommu file descriptor
 * @flags: (in) must be 0
 * @__reserved: must be 0
 *
 * Issued on a VFIO container whose IOMMU is VFIO_IOMMUFD_DKMS_IOMMU.
 * Every device of the container's groups, and of groups added later, gets
 * an iommufd device object in that iommufd; its DMA stays blocked until it
 * is attached.  A container links to one iommufd, once (EBUSY after).  The
 * devices leave the iommufd when their group leaves the container.
 */
struct iommufd_dkms_vfio_link {
	__u32 size;
	__s32 iommufd;
	__u32 flags;
	__u32 __reserved;
};
#define IOMMUFD_DKMS_VFIO_LINK _IO(IOMMUFD_DKMS_TYPE, IOMMUFD_DKMS_CMD_VFIO_LINK)

/**
 * struct iommufd_dkms_vfio_device - one entry of IOMMUFD_DKMS_VFIO_DEVICES
 * @dev_id: the device's iommufd object id
 * @__reserved: 0
 * @name: the device's name as VFIO_GROUP_GET_DEVICE_FD takes it (a PCI
 *        address such as "0000:00:03.0"), NUL-terminated
 */
struct iommufd_dkms_vfio_device {
	__u32 dev_id;
	__u32 __reserved;
	char name[56];
};

/**
 * struct iommufd_dkms_vfio_devices - ioctl(IOMMUFD_DKMS_VFIO_DEVICES)
 * @size: (in) sizeof(struct iommufd_dkms_vfio_devices)
 * @num_devices: (in) entries @devices has room for; (out) devices linked
 * @devices: (in) user pointer to an array of struct iommufd_dkms_vfio_device
 *
 * Issued on a linked VFIO container.  Fills the array and reports how many
 * devices there are; EMSGSIZE (with @num_devices set) when the array was
 * too short, as IOMMU_IOAS_IOVA_RANGES does.
 */
struct iommufd_dkms_vfio_devices {
	__u32 size;
	__u32 num_devices;
	__aligned_u64 devices;
};
#define IOMMUFD_DKMS_VFIO_DEVICES                                              \
	_IO(IOMMUFD_DKMS_TYPE, IOMMUFD_DKMS_CMD_VFIO_DEVICES)

/**
 * enum iommufd_dkms_pasid_op - what IOMMUFD_DKMS_DEVICE_PASID does
 * @IOMMUFD_DKMS_PASID_ATTACH: attach the PASID to @pt_id; EBUSY if it is
 *                             attached already
 * @IOMMUFD_DKMS_PASID_REPLACE: move the attached PASID to @pt_id; EINVAL
 *                              if it is not attached; on failure it stays
 *                              where it was
 * @IOMMUFD_DKMS_PASID_DETACH: block the PASID (nothing if it is blocked);
 *                             @pt_id is not read
 */
enum iommufd_dkms_pasid_op {
	IOMMUFD_DKMS_PASID_ATTACH = 0,
	IOMMUFD_DKMS_PASID_REPLACE = 1,
	IOMMUFD_DKMS_PASID_DETACH = 2,
};

/**
 * struct iommufd_dkms_device_pasid - ioctl(IOMMUFD_DKMS_DEVICE_PASID)
 * @size: (in) sizeof(struct iommufd_dkms_device_pasid)
 * @dev_id: (in) the device
 * @op: (in) enum iommufd_dkms_pasid_op; another is EOPNOTSUPP
 * @pasid: (in) the PASID; 0 (IOMMU_NO_PASID) means the device's requests
 *         without a PASID, as IOMMUFD_DKMS_DEVICE_ATTACH/_DETACH do
 * @pt_id: (in) a HWPT made with IOMMU_HWPT_ALLOC_PASID (an IOAS is EINVAL:
 *         its automatic HWPTs cannot serve PASIDs); (out) the same
 * @__reserved: must be 0
 *
 * Issued on /dev/iommu, with upstream's rules: a PASID beyond those the
 * device has (IOMMU_GET_HW_INFO's out_max_pasid_log2, 0 for a device
 * without the PCIe PASID capability) is EINVAL; while a PASID is
 * attached, the device itself may only use a PASID-compatible HWPT, and
 * no PASID can be attached while it uses another (EINVAL both ways).
 */
struct iommufd_dkms_device_pasid {
	__u32 size;
	__u32 dev_id;
	__u32 op;
	__u32 pasid;
	__u32 pt_id;
	__u32 __reserved;
};
#define IOMMUFD_DKMS_DEVICE_PASID                                              \
	_IO(IOMMUFD_DKMS_TYPE, IOMMUFD_DKMS_CMD_DEVICE_PASID)

#endif /* _UAPI_IOMMUFD_DKMS_H */
