// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer candidate from the fuzzer's VFIO mode: the iommufd is closed
 * while a container is still linked to it (the container then holds its
 * last reference), the device attached to an IOAS or to a HWPT of its
 * own, and only then the group leaves the container.  Each order of the closes must
 * leave nothing behind: the run fails on "objects still referenced at
 * release" or any other WARNING in the kernel log.  Needs iommufd_vfio
 * and an edu device; prints TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <linux/vfio.h>

#include "vfio_edu.h"

static int setup(int group, int *ictx, int *container, uint32_t *dev_id)
{
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	struct iommufd_dkms_vfio_device ent;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list), .num_devices = 1,
		.devices = (uintptr_t)&ent,
	};

	*ictx = open("/dev/iommu", O_RDWR);
	*container = open("/dev/vfio/vfio", O_RDWR);
	if (*ictx < 0 || *container < 0 ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_IOMMUFD_DKMS_IOMMU))
		return -errno;
	link.iommufd = *ictx;
	if (ioctl(*container, IOMMUFD_DKMS_VFIO_LINK, &link) ||
	    ioctl(*container, IOMMUFD_DKMS_VFIO_DEVICES, &list))
		return -errno;
	*dev_id = ent.dev_id;
	return 0;
}

int main(void)
{
	char bdf[32], path[64];
	int group_nr, group, n = 0;

	printf("TAP version 13\n1..4\n");
	if (access("/sys/module/iommufd_vfio", F_OK) || edu_find(bdf, sizeof(bdf)) ||
	    edu_bind_vfio(bdf, &group_nr)) {
		for (int i = 1; i <= 4; i++)
			printf("ok %d vfio_close_order # SKIP no iommufd_vfio or edu\n", i);
		return 0;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_nr);
	group = open(path, O_RDWR);
	if (group < 0)
		return 1;
	for (int hwpt = 0; hwpt < 2; hwpt++) {
		for (int ictx_first = 0; ictx_first < 2; ictx_first++) {
			struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
			struct iommufd_dkms_device_attach at = { .size = sizeof(at) };
			struct iommu_hwpt_alloc ha = { .size = sizeof(ha) };
			int ictx, container, rc;
			uint32_t dev_id = 0;

			rc = setup(group, &ictx, &container, &dev_id);
			if (!rc && ioctl(ictx, IOMMU_IOAS_ALLOC, &alloc))
				rc = -errno;
			at.dev_id = ha.dev_id = dev_id;
			at.pt_id = ha.pt_id = alloc.out_ioas_id;
			if (!rc && hwpt && !ioctl(ictx, IOMMU_HWPT_ALLOC, &ha))
				at.pt_id = ha.out_hwpt_id;
			if (!rc && ioctl(ictx, IOMMUFD_DKMS_DEVICE_ATTACH, &at))
				rc = -errno;
			/* The group keeps its container until it is unset. */
			if (ictx_first) {
				close(ictx);
				ioctl(group, VFIO_GROUP_UNSET_CONTAINER);
				close(container);
			} else {
				ioctl(group, VFIO_GROUP_UNSET_CONTAINER);
				close(container);
				close(ictx);
			}
			printf("%s %d vfio_close_order_%s_first_attached_to_%s%s%s\n",
			       rc ? "not ok" : "ok", ++n,
			       ictx_first ? "iommufd" : "container",
			       hwpt ? "its_hwpt" : "an_ioas", rc ? " # " : "",
			       rc ? strerror(-rc) : "");
		}
	}
	close(group);
	return 0;
}
