// SPDX-License-Identifier: GPL-2.0
/*
 * Is /dev/iommu, on a booted system, the node of the iommufd module that is
 * loaded?  The kernel says which misc minor it gave the module twice
 * (/proc/misc and /sys/class/misc/iommu/dev); the node must carry that
 * number, the module's mode (0660, root), and answer the ABI.  A node left
 * by anything else (a static node from modules.devname) fails here.
 *
 * Usage: devnode [DEVICE]     (default /dev/iommu); prints TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/iommufd.h>

#define NTESTS 6

static int test_no;
static int failures;

static void result(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++test_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok)
		failures++;
}

/* The minor /proc/misc lists for NAME, or -1. */
static int proc_misc_minor(const char *name)
{
	char line[128], entry[64];
	int minor, found = -1;
	FILE *f = fopen("/proc/misc", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %63s", &minor, entry) == 2 &&
		    !strcmp(entry, name))
			found = minor;
	fclose(f);
	return found;
}

/* MAJOR:MINOR from the misc class device in sysfs; 0 when it has none. */
static int sysfs_devt(const char *name, unsigned int *major,
		      unsigned int *minor)
{
	char path[128];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/dev", name);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fscanf(f, "%u:%u", major, minor);
	fclose(f);
	return n == 2;
}

int main(int argc, char **argv)
{
	const char *node = argc > 1 ? argv[1] : "/dev/iommu";
	const char *name = strrchr(node, '/') ? strrchr(node, '/') + 1 : node;
	unsigned int sys_major = 0, sys_minor = 0;
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_destroy destroy = { .size = sizeof(destroy) };
	int misc_minor, have_sys, fd, rc, err;
	struct stat st = { 0 };

	printf("TAP version 13\n1..%d\n", NTESTS);

	rc = stat(node, &st);
	if (rc)
		printf("# %s: %s\n", node, strerror(errno));
	else
		printf("# %s: %s %u:%u mode %04o uid %u gid %u\n", node,
		       S_ISCHR(st.st_mode) ? "char" : "not a char device",
		       major(st.st_rdev), minor(st.st_rdev),
		       st.st_mode & 07777, st.st_uid, st.st_gid);
	result(!rc && S_ISCHR(st.st_mode), "dev_%s_is_a_character_device", name);

	misc_minor = proc_misc_minor(name);
	have_sys = sysfs_devt(name, &sys_major, &sys_minor);
	printf("# /proc/misc: %s %d; /sys/class/misc/%s/dev: %u:%u\n",
	       name, misc_minor, name, sys_major, sys_minor);
	result(misc_minor >= 0 && have_sys && sys_major == 10 &&
	       sys_minor == (unsigned int)misc_minor,
	       "proc_misc_and_sysfs_give_the_module_one_misc_minor");

	result(!rc && have_sys && major(st.st_rdev) == sys_major &&
	       minor(st.st_rdev) == sys_minor,
	       "dev_%s_has_the_loaded_module_major_minor", name);

	result(!rc && (st.st_mode & 07777) == 0660 && st.st_uid == 0 &&
	       st.st_gid == 0, "dev_%s_is_mode_0660_owned_by_root", name);

	fd = open(node, O_RDWR | O_CLOEXEC);
	err = errno;
	if (fd < 0)
		printf("# open(%s): %s\n", node, strerror(err));
	result(fd >= 0, "dev_%s_opens_read_write", name);

	rc = fd < 0 ? -1 : ioctl(fd, IOMMU_IOAS_ALLOC, &alloc);
	if (fd >= 0 && rc)
		printf("# IOMMU_IOAS_ALLOC: %s\n", strerror(errno));
	if (!rc) {
		destroy.id = alloc.out_ioas_id;
		rc = ioctl(fd, IOMMU_DESTROY, &destroy);
		if (rc)
			printf("# IOMMU_DESTROY of IOAS %u: %s\n",
			       alloc.out_ioas_id, strerror(errno));
	}
	result(!rc, "ioas_alloc_and_destroy_through_dev_%s", name);
	if (fd >= 0)
		close(fd);

	return failures ? 1 : 0;
}
