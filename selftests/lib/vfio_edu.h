/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a VMM does to use QEMU's edu device (1234:11e8) through VFIO: find
 * it, bind it to vfio-pci, open its group and device, map BAR0, and drive
 * its DMA engine.  Shared by the DMA suite, the demo and the benchmark.
 *
 * The edu DMA engine (QEMU's hw/misc/edu.c): source address at BAR0+0x80,
 * destination at +0x88, byte count at +0x90, command at +0x98 (bit 0
 * starts, bit 1 chooses edu->RAM; cleared when done).  Its 4 KiB buffer
 * sits at 0x40000 in the device's own DMA space, and it masks addresses to
 * 28 bits, so IOVAs must stay below 256 MiB.  QEMU 7.2 wrongly refuses (and
 * aborts the VM on) a transfer that ends exactly at the end of its buffer:
 * transfers here stay shorter than 4 KiB.
 *
 * Functions return 0 or -errno and print what went wrong to stderr.
 */
#ifndef SELFTESTS_VFIO_EDU_H
#define SELFTESTS_VFIO_EDU_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vfio.h>

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2
#define EDU_BUFFER		0x40000ULL
#define EDU_DMA_MAX		(4096 - 8)

struct edu {
	char bdf[32];
	int group_nr;
	int container_fd;
	int group_fd;
	int device_fd;
	volatile uint8_t *bar0;
	size_t bar0_size;
};

/* /sys/module/NAME/refcnt: who holds a module (-1: not loaded). */
static inline long module_refcnt(const char *name)
{
	char path[128], buf[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/%s/refcnt", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = 0;
	fclose(f);
	return atol(buf);
}

/* A "KEY:" line of /proc/PID/status in kB (VmPin:, VmLck:), or -1. */
static inline long status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = atol(line + strlen(key));
	fclose(f);
	return v;
}

static inline int edu_err(const char *what)
{
	int e = errno ? errno : EIO;

	fprintf(stderr, "edu: %s: %s\n", what, strerror(e));
	return -e;
}

static inline int sysfs_read_hex(const char *path, unsigned long *val)
{
	char buf[64];
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*val = strtoul(buf, NULL, 16);
	return 0;
}

static inline int sysfs_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* Find the @nth (from 0) edu device; its PCI address goes to @bdf. */
static inline int edu_find_nth(char *bdf, size_t len, int nth)
{
	DIR *dir = opendir("/sys/bus/pci/devices");
	char found[8][64];
	struct dirent *de;
	int n = 0, i, j;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char path[PATH_MAX];
		unsigned long vendor = 0, device = 0;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor",
			 de->d_name);
		if (sysfs_read_hex(path, &vendor) || vendor != EDU_VENDOR)
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device",
			 de->d_name);
		if (sysfs_read_hex(path, &device) || device != EDU_DEVICE)
			continue;
		if (strlen(de->d_name) >= len || n == 8)
			continue;
		memcpy(found[n++], de->d_name, strlen(de->d_name) + 1);
	}
	closedir(dir);
	if (nth >= n)
		return -ENODEV;
	/* readdir() has no order: sort by PCI address. */
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(found[j], found[i]) < 0) {
				char tmp[64];

				memcpy(tmp, found[i], sizeof(tmp));
				memcpy(found[i], found[j], sizeof(tmp));
				memcpy(found[j], tmp, sizeof(tmp));
			}
	memcpy(bdf, found[nth], strlen(found[nth]) + 1);
	return 0;
}

static inline int edu_find(char *bdf, size_t len)
{
	return edu_find_nth(bdf, len, 0);
}


/* Bind @bdf to vfio-pci (already loaded) and learn its IOMMU group. */
static inline int edu_bind_vfio(const char *bdf, int *group_nr)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0 || !strstr((link[n] = 0, link), "vfio-pci")) {
		/* Another driver has it: let go first. */
		if (n >= 0) {
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/driver/unbind", bdf);
			if (sysfs_write(path, bdf))
				return edu_err("unbind");
		}
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/driver_override", bdf);
		if (sysfs_write(path, "vfio-pci"))
			return edu_err("driver_override");
		if (sysfs_write("/sys/bus/pci/drivers_probe", bdf))
			return edu_err("drivers_probe");
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return edu_err("iommu_group");
	link[n] = 0;
	*group_nr = atoi(strrchr(link, '/') + 1);
	return 0;
}

/*
 * Open the group of the @nth edu device into an existing container (one
 * whose IOMMU is already set): a second device for the same VMM.
 */
static inline int edu_open_second(struct edu *edu, int container_fd, int nth)
{
	char path[64];
	int rc;

	memset(edu, 0, sizeof(*edu));
	edu->container_fd = edu->group_fd = edu->device_fd = -1;
	rc = edu_find_nth(edu->bdf, sizeof(edu->bdf), nth);
	if (rc)
		return rc;
	rc = edu_bind_vfio(edu->bdf, &edu->group_nr);
	if (rc)
		return rc;
	snprintf(path, sizeof(path), "/dev/vfio/%d", edu->group_nr);
	edu->group_fd = open(path, O_RDWR);
	if (edu->group_fd < 0)
		return edu_err("open the second group");
	if (ioctl(edu->group_fd, VFIO_GROUP_SET_CONTAINER, &container_fd))
		return edu_err("VFIO_GROUP_SET_CONTAINER (second group)");
	return 0;
}

/*
 * Bind every device of IOMMU group @group_nr to vfio-pci, so that the
 * group is viable.  Returns the number of devices, or -errno.
 */
static inline int vfio_bind_group(int group_nr)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0, rc, unused;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices",
		 group_nr);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		rc = edu_bind_vfio(de->d_name, &unused);
		if (rc) {
			closedir(dir);
			return rc;
		}
		n++;
	}
	closedir(dir);
	return n;
}

/*
 * Open the container and the group, put the group in the container and
 * select @iommu_type (VFIO_TYPE1v2_IOMMU, or our backend's type).
 */
static inline int edu_open(struct edu *edu, unsigned long iommu_type)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[64];
	int rc;

	memset(edu, 0, sizeof(*edu));
	edu->container_fd = edu->group_fd = edu->device_fd = -1;
	rc = edu_find(edu->bdf, sizeof(edu->bdf));
	if (rc)
		return rc;
	rc = edu_bind_vfio(edu->bdf, &edu->group_nr);
	if (rc)
		return rc;

	edu->container_fd = open("/dev/vfio/vfio", O_RDWR);
	if (edu->container_fd < 0)
		return edu_err("open /dev/vfio/vfio");
	snprintf(path, sizeof(path), "/dev/vfio/%d", edu->group_nr);
	edu->group_fd = open(path, O_RDWR);
	if (edu->group_fd < 0)
		return edu_err("open the group");
	if (ioctl(edu->group_fd, VFIO_GROUP_GET_STATUS, &status))
		return edu_err("VFIO_GROUP_GET_STATUS");
	if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		fprintf(stderr, "edu: group %d is not viable\n", edu->group_nr);
		return -EBUSY;
	}
	if (ioctl(edu->group_fd, VFIO_GROUP_SET_CONTAINER, &edu->container_fd))
		return edu_err("VFIO_GROUP_SET_CONTAINER");
	if (ioctl(edu->container_fd, VFIO_SET_IOMMU, iommu_type))
		return edu_err("VFIO_SET_IOMMU");
	return 0;
}

/*
 * On an open device fd (edu->device_fd, from the group or the device
 * cdev): BAR0 mapped, bus mastering on, ready to DMA.
 */
static inline int edu_enable_device(struct edu *edu)
{
	struct vfio_region_info bar0 = {
		.argsz = sizeof(bar0),
		.index = VFIO_PCI_BAR0_REGION_INDEX,
	};
	struct vfio_region_info config = {
		.argsz = sizeof(config),
		.index = VFIO_PCI_CONFIG_REGION_INDEX,
	};
	uint16_t cmd;

	if (ioctl(edu->device_fd, VFIO_DEVICE_GET_REGION_INFO, &bar0) ||
	    ioctl(edu->device_fd, VFIO_DEVICE_GET_REGION_INFO, &config))
		return edu_err("VFIO_DEVICE_GET_REGION_INFO");
	edu->bar0_size = bar0.size;
	edu->bar0 = mmap(NULL, bar0.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 edu->device_fd, bar0.offset);
	if (edu->bar0 == MAP_FAILED) {
		edu->bar0 = NULL;
		return edu_err("mmap BAR0");
	}
	/* PCI_COMMAND (offset 4): memory space and bus master. */
	if (pread(edu->device_fd, &cmd, 2, config.offset + 4) != 2)
		return edu_err("read PCI_COMMAND");
	cmd |= 0x2 | 0x4;
	if (pwrite(edu->device_fd, &cmd, 2, config.offset + 4) != 2)
		return edu_err("write PCI_COMMAND");
	return 0;
}

/* The device fd from the group, ready to DMA. */
static inline int edu_open_device(struct edu *edu)
{
	edu->device_fd = ioctl(edu->group_fd, VFIO_GROUP_GET_DEVICE_FD,
			       edu->bdf);
	if (edu->device_fd < 0)
		return edu_err("VFIO_GROUP_GET_DEVICE_FD");
	return edu_enable_device(edu);
}

static inline void edu_close(struct edu *edu)
{
	if (edu->bar0)
		munmap((void *)edu->bar0, edu->bar0_size);
	if (edu->device_fd >= 0)
		close(edu->device_fd);
	if (edu->group_fd >= 0)
		close(edu->group_fd);
	if (edu->container_fd >= 0)
		close(edu->container_fd);
	edu->bar0 = NULL;
	edu->device_fd = edu->group_fd = edu->container_fd = -1;
}

static inline void edu_write64(struct edu *edu, unsigned int reg, uint64_t v)
{
	*(volatile uint64_t *)(edu->bar0 + reg) = v;
}

static inline uint64_t edu_read64(struct edu *edu, unsigned int reg)
{
	return *(volatile uint64_t *)(edu->bar0 + reg);
}

/*
 * One DMA transfer of @len bytes between IOVA @iova and the device's
 * buffer at @offset; waits (up to a second) for the engine to finish.
 */
static inline int edu_dma(struct edu *edu, uint64_t iova, uint64_t offset,
			  uint64_t len, int to_ram)
{
	struct timespec start, now;

	if (len == 0 || offset + len > EDU_DMA_MAX)
		return -EINVAL;
	edu_write64(edu, EDU_REG_DMA_SRC, to_ram ? EDU_BUFFER + offset : iova);
	edu_write64(edu, EDU_REG_DMA_DST, to_ram ? iova : EDU_BUFFER + offset);
	edu_write64(edu, EDU_REG_DMA_COUNT, len);
	edu_write64(edu, EDU_REG_DMA_CMD,
		    EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0));
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (edu_read64(edu, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - start.tv_sec > 1) {
			fprintf(stderr, "edu: DMA did not complete\n");
			return -ETIMEDOUT;
		}
		usleep(100);
	}
	return 0;
}

/*
 * Did the kernel turn interrupt remapping on at boot?  Without it, MSIs
 * are not isolated (the runner boots such a machine for the suites that
 * need one).  -1 when the log cannot be read.
 */
static inline int irq_remapping_enabled(void)
{
	char line[512];
	int found = 0;
	FILE *f = popen("dmesg", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "Enabled IRQ remapping") ||
		    strstr(line, "Interrupt remapping enabled"))
			found = 1;
	pclose(f);
	return found;
}

#endif /* SELFTESTS_VFIO_EDU_H */
