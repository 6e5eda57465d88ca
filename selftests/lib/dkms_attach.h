/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Our extension's attach and detach of a device on /dev/iommu (upstream
 * does this through the VFIO device cdev).  Include after iommufd_utils.h.
 */
#ifndef SELFTESTS_DKMS_ATTACH_H
#define SELFTESTS_DKMS_ATTACH_H

#include <linux/iommufd_dkms.h>

/* *out_hwpt_id (may be NULL) gets the HWPT the device is attached to now. */
static inline int dkms_attach(int fd, uint32_t dev_id, uint32_t pt_id,
			      uint32_t *out_hwpt_id)
{
	struct iommufd_dkms_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc = ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd);

	if (!rc && out_hwpt_id)
		*out_hwpt_id = cmd.pt_id;
	return rc;
}

static inline int dkms_detach(int fd, uint32_t dev_id)
{
	struct iommufd_dkms_device_detach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
	};

	return ioctl(fd, IOMMUFD_DKMS_DEVICE_DETACH, &cmd);
}

#endif /* SELFTESTS_DKMS_ATTACH_H */
