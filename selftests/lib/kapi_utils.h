/* SPDX-License-Identifier: GPL-2.0 */
/*
 * For the suites that drive the in-kernel API through the test module
 * iommufd_kapi_test (selftests/kapi/): opening it (and loading it on
 * first use), its calls, and QEMU's edu device taken from every driver,
 * its BAR mapped through sysfs, so that only the API decides its DMA.
 */
#ifndef SELFTESTS_KAPI_UTILS_H
#define SELFTESTS_KAPI_UTILS_H

#include "iommufd_harness.h"
#include "vfio_edu.h"
#include "../kapi/kapi_test.h"

#define KAPI_NO_MODULE "no iommufd_kapi_test module (kernel headers without linux/iommufd.h)"

/* Opens the test device, loading the module on first use. */
static inline int kapi_open(void)
{
	int fd = open(KAPI_TEST_NODE, O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (system("kmodctl load iommufd_kapi_test >/dev/null 2>&1"))
		return -1;
	return open(KAPI_TEST_NODE, O_RDWR | O_CLOEXEC);
}

static inline int kapi(int kfd, struct kapi_test_cmd *cmd)
{
	return ioctl(kfd, KAPI_TEST_CMD, cmd);
}

/* One op with no outputs the caller wants. */
static inline int kapi_op(int kfd, uint32_t op, int fd, uint32_t id)
{
	struct kapi_test_cmd cmd = { .op = op, .fd = fd, .id = id };

	return kapi(kfd, &cmd);
}

static inline int kapi_bind(int kfd, int fd, const char *name,
			    uint32_t *dev_id)
{
	struct kapi_test_cmd cmd = { .op = KAPI_TEST_BIND, .fd = fd };
	int rc;

	snprintf(cmd.name, sizeof(cmd.name), "%s", name);
	rc = kapi(kfd, &cmd);
	if (!rc && dev_id)
		*dev_id = cmd.out_id;
	return rc;
}

/* --- the edu device, with no driver at all ---------------------------- */

/*
 * Take edu from whatever driver has it (vfio-pci, from another suite),
 * let it master the bus and answer on its BAR, and map BAR0 through
 * sysfs.  The DMA engine then goes through whatever domain the API put
 * its group in.
 */
static inline int edu_take_driverless(struct edu *edu)
{
	char path[PATH_MAX];
	uint16_t command;
	int fd;

	memset(edu, 0, sizeof(*edu));
	edu->container_fd = edu->group_fd = edu->device_fd = -1;
	if (edu_find(edu->bdf, sizeof(edu->bdf)))
		return -ENODEV;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind",
		 edu->bdf);
	if (access(path, F_OK) == 0 && sysfs_write(path, edu->bdf))
		return edu_err("unbind");

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config",
		 edu->bdf);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return edu_err("config");
	if (pread(fd, &command, 2, 4) != 2) {
		close(fd);
		return edu_err("config read");
	}
	command |= 0x6;	/* memory space, bus master */
	if (pwrite(fd, &command, 2, 4) != 2) {
		close(fd);
		return edu_err("config write");
	}
	close(fd);

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0",
		 edu->bdf);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0)
		return edu_err("resource0");
	edu->bar0_size = 4096;
	edu->bar0 = mmap(NULL, edu->bar0_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
	close(fd);
	if (edu->bar0 == MAP_FAILED) {
		edu->bar0 = NULL;
		return edu_err("mmap resource0");
	}
	return 0;
}

static inline void edu_give_back(struct edu *edu)
{
	if (edu->bar0)
		munmap((void *)edu->bar0, edu->bar0_size);
	/* Back to vfio-pci (driver_override) for the suites after this one. */
	sysfs_write("/sys/bus/pci/drivers_probe", edu->bdf);
}

#endif /* SELFTESTS_KAPI_UTILS_H */
