// SPDX-License-Identifier: GPL-2.0
/*
 * Reproducer found by the fuzzer (VFIO mode, "rejoin"): while one thread
 * attaches an edu device to one IOAS after another with
 * IOMMUFD_DKMS_DEVICE_ATTACH, the main thread moves the device's group out
 * of its container and into a new one, linked again to the same iommufd
 * (VFIO_GROUP_UNSET_CONTAINER, close, VFIO_GROUP_SET_CONTAINER,
 * VFIO_SET_IOMMU, IOMMUFD_DKMS_VFIO_LINK); the thread also allocates a
 * HWPT for the device, attaches it there and destroys it.  An attach that runs across
 * the unbind leaves an object referenced: closing the iommufd then warns
 * "iommufd: objects still referenced at release" (object.c) and the
 * objects leak.  Needs iommufd_vfio and an edu device; prints TAP, the
 * kernel log decides.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <linux/vfio.h>

#include "vfio_edu.h"

#define ROUNDS		200

static int ictx;
static volatile uint32_t dev_id, ioas[2];
static volatile int done;

static void *attacher(void *arg)
{
	unsigned int n = 0;

	(void)arg;
	while (!done) {
		struct iommufd_dkms_device_attach at = {
			.size = sizeof(at),
			.dev_id = dev_id,
			.pt_id = ioas[n & 1],
		};
		struct iommufd_dkms_device_detach dt = {
			.size = sizeof(dt),
			.dev_id = dev_id,
		};

		struct iommu_hwpt_alloc ha = {
			.size = sizeof(ha),
			.dev_id = dev_id,
			.pt_id = ioas[n & 1],
		};
		struct iommu_destroy d = { .size = sizeof(d) };
		int fd = ictx;

		switch (n % 7) {
		case 0:
			ioctl(fd, IOMMUFD_DKMS_DEVICE_DETACH, &dt);
			break;
		case 1:
			/* A HWPT of the device's own, attached, then dropped. */
			if (ioctl(fd, IOMMU_HWPT_ALLOC, &ha))
				break;
			at.pt_id = ha.out_hwpt_id;
			ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &at);
			d.id = ha.out_hwpt_id;
			ioctl(fd, IOMMU_DESTROY, &d);
			break;
		default:
			ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &at);
		}
		n++;
	}
	return NULL;
}

/* A new container for the group, linked to ictx; the device's id. */
static int join(int group, int *container)
{
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	struct iommufd_dkms_vfio_device ent;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list), .num_devices = 1,
		.devices = (uintptr_t)&ent,
	};

	*container = open("/dev/vfio/vfio", O_RDWR);
	if (*container < 0 ||
	    ioctl(group, VFIO_GROUP_SET_CONTAINER, container) ||
	    ioctl(*container, VFIO_SET_IOMMU, VFIO_IOMMUFD_DKMS_IOMMU))
		return -errno;
	link.iommufd = ictx;
	if (ioctl(*container, IOMMUFD_DKMS_VFIO_LINK, &link) ||
	    ioctl(*container, IOMMUFD_DKMS_VFIO_DEVICES, &list))
		return -errno;
	dev_id = ent.dev_id;
	return 0;
}

int main(void)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	char bdf[32], path[64];
	int group_nr, group, container, rc;
	pthread_t th;

	printf("TAP version 13\n1..1\n");
	if (access("/sys/module/iommufd_vfio", F_OK) || edu_find(bdf, sizeof(bdf)) ||
	    edu_bind_vfio(bdf, &group_nr)) {
		printf("ok 1 vfio_unbind_vs_attach # SKIP no iommufd_vfio or edu\n");
		return 0;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_nr);
	group = open(path, O_RDWR);
	ictx = open("/dev/iommu", O_RDWR);
	if (group < 0 || ictx < 0)
		return 1;
	for (int i = 0; i < 2; i++) {
		if (ioctl(ictx, IOMMU_IOAS_ALLOC, &alloc))
			return 1;
		ioas[i] = alloc.out_ioas_id;
	}
	rc = join(group, &container);
	if (rc) {
		printf("not ok 1 vfio_unbind_vs_attach # join: %s\n", strerror(-rc));
		return 1;
	}
	pthread_create(&th, NULL, attacher, NULL);
	for (int i = 0; i < ROUNDS; i++) {
		usleep(i % 200);
		ioctl(group, VFIO_GROUP_UNSET_CONTAINER);
		close(container);
		rc = join(group, &container);
		if (rc) {
			printf("# join %d: %s\n", i, strerror(-rc));
			break;
		}
	}
	done = 1;
	pthread_join(th, NULL);
	close(container);
	close(group);
	close(ictx);
	printf("ok 1 vfio_unbind_vs_attach_%d_rounds\n", ROUNDS);
	return 0;
}
