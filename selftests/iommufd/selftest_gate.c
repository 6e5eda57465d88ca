// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test mode is opt-in: a default `modprobe iommufd` must expose no
 * IOMMU_TEST_CMD and must not taint the kernel; `selftest=1` exposes it and
 * taints with TAINT_TEST.  The suite reads which mode the loaded module is
 * in and holds it to the promise of that mode, so the guest runner runs it
 * under both loads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"

/* Bit of /proc/sys/kernel/tainted for TAINT_TEST. */
#define TAINT_TEST_BIT 18

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int selftest_mode(void)
{
	char buf[16];

	ASSERT_EQ(0, read_line("/sys/module/iommufd/parameters/selftest", buf,
			       sizeof(buf)));
	return buf[0] == 'Y';
}

static unsigned long tainted(void)
{
	char buf[32];

	ASSERT_EQ(0, read_line("/proc/sys/kernel/tainted", buf, sizeof(buf)));
	return strtoul(buf, NULL, 10);
}

TEST(the_selftest_parameter_is_documented_and_read_only)
{
	char buf[16];

	/* 0444: it cannot be switched on after loading. */
	ASSERT_EQ(0, read_line("/sys/module/iommufd/parameters/selftest", buf,
			       sizeof(buf)));
	ASSERT_EQ(-1, open("/sys/module/iommufd/parameters/selftest", O_WRONLY));
}

TEST(test_cmd_exists_only_in_selftest_mode)
{
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = 65536 },
	};
	int fd = open("/dev/iommu", O_RDWR);

	ASSERT_NE(-1, fd);
	if (selftest_mode()) {
		ASSERT_EQ(0, ioctl(fd, IOMMU_TEST_CMD, &cmd));
	} else {
		ASSERT_ERRNO(ENOTTY, ioctl(fd, IOMMU_TEST_CMD, &cmd));
		/* Not even the argument is read: this is not our ioctl. */
		ASSERT_ERRNO(ENOTTY, ioctl(fd, IOMMU_TEST_CMD, NULL));
	}
	close(fd);
}

TEST(selftest_mode_and_only_it_taints_the_kernel)
{
	unsigned long taint = tainted();

	if (selftest_mode())
		ASSERT_TRUE(taint & (1UL << TAINT_TEST_BIT));
	else
		ASSERT_FALSE(taint & (1UL << TAINT_TEST_BIT));
}

TEST_HARNESS_MAIN
