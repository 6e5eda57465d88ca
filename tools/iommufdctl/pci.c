// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl bind / unbind: hand a PCI device to vfio-pci and back, through
 * sysfs (driver_override, the driver's unbind, drivers_probe), the way
 * the kernel's Documentation/driver-api/vfio.rst describes it.
 *
 * A device is usable through VFIO only if every device of its IOMMU group
 * is bound to vfio-pci, to a driver that leaves DMA ownership to others
 * (pci-stub, pcieport), or to none: bind refuses otherwise, unless forced.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <libkmod.h>

#include "iommufdctl.h"

#define PCI_DEVICES	"/sys/bus/pci/devices"
#define VFIO_PCI	"vfio-pci"

/*
 * "0000:00:03.0", or "00:03.0" with domain 0; hex digits in lower case,
 * as sysfs names devices.
 */
int ifd_pci_normalize(const char *in, char *out, size_t len)
{
	unsigned int dom = 0, bus, dev, fn;
	char tail;

	if (sscanf(in, "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) {
		dom = 0;
		if (sscanf(in, "%x:%x.%x%c", &bus, &dev, &fn, &tail) != 3)
			return -EINVAL;
	}
	for (; *in; in++)
		if (!isxdigit((unsigned char)*in) && *in != ':' && *in != '.')
			return -EINVAL;
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	snprintf(out, len, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* The name of the driver bound to @bdf ("" for none), malloc'ed. */
static char *driver_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return strdup("");
	link[n] = 0;
	return strdup(strrchr(link, '/') + 1);
}

static int group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -1;
	link[n] = 0;
	return atoi(strrchr(link, '/') + 1);
}

/* Drivers that leave the group viable for VFIO. */
static bool driver_leaves_group_viable(const char *drv)
{
	return !*drv || !strcmp(drv, VFIO_PCI) || !strcmp(drv, "pci-stub") ||
	       !strcmp(drv, "pcieport");
}

/*
 * List the other devices of @group with their drivers; the number of
 * them bound to a driver that keeps the group from VFIO, or -errno.
 */
static int check_group(int group, const char *bdf)
{
	char path[PATH_MAX];
	struct dirent *de;
	int blocking = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices",
		 group);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char *drv;

		if (de->d_name[0] == '.' || !strcmp(de->d_name, bdf))
			continue;
		drv = driver_of(de->d_name);
		printf("  group %d also has %s (driver: %s)\n", group,
		       de->d_name, *drv ? drv : "none");
		if (!driver_leaves_group_viable(drv))
			blocking++;
		free(drv);
	}
	closedir(dir);
	return blocking;
}

static int ensure_vfio_pci(void)
{
	struct kmod_ctx *kctx;
	int rc;

	if (access("/sys/bus/pci/drivers/" VFIO_PCI, F_OK) == 0)
		return 0;
	kctx = ifd_kmod_open();
	if (!kctx)
		return -ENOMEM;
	rc = ifd_module_load(kctx, VFIO_PCI, NULL);
	kmod_unref(kctx);
	if (rc)
		return rc;
	return access("/sys/bus/pci/drivers/" VFIO_PCI, F_OK) ? -ENOENT : 0;
}

static int attr_write(const char *bdf, const char *attr, const char *s)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), PCI_DEVICES "/%s/%s", bdf, attr);
	return ifd_write_str(path, s);
}

/* Unbind from the current driver (if any), then let the bus probe. */
static int reprobe(const char *bdf)
{
	int rc = attr_write(bdf, "driver/unbind", bdf);

	if (rc && rc != -ENOENT)
		return rc;
	return ifd_write_str("/sys/bus/pci/drivers_probe", bdf);
}

static int device_arg(const char *arg, char *bdf, size_t len)
{
	char path[PATH_MAX];

	if (ifd_pci_normalize(arg, bdf, len)) {
		fprintf(stderr, "iommufdctl: %s: not a PCI address (DDDD:BB:DD.F)\n",
			arg);
		return IFD_EXIT_USAGE;
	}
	snprintf(path, sizeof(path), PCI_DEVICES "/%s", bdf);
	if (access(path, F_OK)) {
		fprintf(stderr, "iommufdctl: no PCI device %s\n", bdf);
		return IFD_EXIT_NOTFOUND;
	}
	return 0;
}

int ifd_cmd_bind(const char *arg, bool force)
{
	char bdf[32];
	char *before, *after;
	int group, rc;

	rc = device_arg(arg, bdf, sizeof(bdf));
	if (rc)
		return rc;
	group = group_of(bdf);
	if (group < 0) {
		fprintf(stderr, "iommufdctl: %s has no IOMMU group: no IOMMU translates its DMA (is the IOMMU on: intel_iommu=on, amd_iommu?)\n",
			bdf);
		return IFD_EXIT_BUSY;
	}
	before = driver_of(bdf);
	printf("%s: IOMMU group %d, driver %s\n", bdf, group,
	       *before ? before : "none");
	rc = check_group(group, bdf);
	if (rc < 0) {
		fprintf(stderr, "iommufdctl: cannot list group %d: %s\n", group,
			strerror(-rc));
		free(before);
		return IFD_EXIT_FAILED;
	}
	if (!strcmp(before, VFIO_PCI)) {
		printf("%s: already bound to vfio-pci%s\n", bdf,
		       rc ? " (the group is not usable through VFIO until the devices above are released)" : "");
		free(before);
		return IFD_EXIT_OK;
	}
	if (rc && !force) {
		fprintf(stderr, "iommufdctl: %d other device(s) of group %d are bound to drivers that own their DMA: bind them to vfio-pci too, or --force (the group stays unusable through VFIO until then)\n",
			rc, group);
		free(before);
		return IFD_EXIT_BUSY;
	}
	rc = ensure_vfio_pci();
	if (rc) {
		fprintf(stderr, "iommufdctl: vfio-pci is not available: %s\n",
			strerror(-rc));
		free(before);
		return IFD_EXIT_FAILED;
	}
	rc = attr_write(bdf, "driver_override", VFIO_PCI);
	if (!rc)
		rc = reprobe(bdf);
	after = driver_of(bdf);
	if (rc || strcmp(after, VFIO_PCI)) {
		fprintf(stderr, "iommufdctl: %s did not bind to vfio-pci%s%s (see dmesg); restoring\n",
			bdf, rc ? ": " : "", rc ? strerror(-rc) : "");
		attr_write(bdf, "driver_override", "\n");
		reprobe(bdf);
		free(before);
		free(after);
		return IFD_EXIT_FAILED;
	}
	printf("%s: bound to vfio-pci (was: %s); /dev/vfio/%d\n", bdf,
	       *before ? before : "none", group);
	free(before);
	free(after);
	return IFD_EXIT_OK;
}

int ifd_cmd_unbind(const char *arg)
{
	char bdf[32], path[PATH_MAX];
	char *drv, *override;
	struct stat st;
	pid_t *pids = NULL;
	int group, npids = 0, rc, i;

	rc = device_arg(arg, bdf, sizeof(bdf));
	if (rc)
		return rc;
	drv = driver_of(bdf);
	snprintf(path, sizeof(path), PCI_DEVICES "/%s/driver_override", bdf);
	override = ifd_read_line(path);
	if (strcmp(drv, VFIO_PCI) && (!override || strcmp(override, VFIO_PCI))) {
		printf("%s: not bound to vfio-pci (driver %s): nothing to do\n",
		       bdf, *drv ? drv : "none");
		free(drv);
		free(override);
		return IFD_EXIT_OK;
	}
	free(override);
	/* vfio-pci's unbind waits until the device is closed: do not hang. */
	group = group_of(bdf);
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	if (!strcmp(drv, VFIO_PCI) && group >= 0 && !stat(path, &st) &&
	    ifd_scan_fds_of("/proc", st.st_rdev, &pids, &npids) >= 0 &&
	    npids) {
		fprintf(stderr, "iommufdctl: %s is in use: %s is open by pid", bdf,
			path);
		for (i = 0; i < npids; i++)
			fprintf(stderr, " %d", pids[i]);
		fprintf(stderr, "\n");
		free(pids);
		free(drv);
		return IFD_EXIT_BUSY;
	}
	free(pids);
	rc = attr_write(bdf, "driver_override", "\n");
	if (!rc && !strcmp(drv, VFIO_PCI))
		rc = reprobe(bdf);
	free(drv);
	if (rc) {
		fprintf(stderr, "iommufdctl: %s: %s\n", bdf, strerror(-rc));
		return IFD_EXIT_FAILED;
	}
	drv = driver_of(bdf);
	printf("%s: released from vfio-pci; now driver %s\n", bdf,
	       *drv ? drv : "none");
	free(drv);
	return IFD_EXIT_OK;
}
