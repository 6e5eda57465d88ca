// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_device_bind() of a device whose MSIs the platform cannot
 * isolate: EPERM, unless the administrator set iommufd's
 * allow_unsafe_interrupts, as upstream's iommufd decides (and as the
 * VFIO backend does for its groups, suite msi_isolation).  Needs a
 * machine without interrupt remapping, which the runner boots for these
 * suites (intel-iommu without intremap); elsewhere it skips, as it does
 * without the test module (kernels without the in-kernel API).
 */
#include <linux/iommufd.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "kapi_utils.h"

#define UNSAFE "/sys/module/iommufd/parameters/allow_unsafe_interrupts"

TEST(bind_of_a_group_without_msi_isolation_is_eperm_unless_allowed)
{
	uint32_t dev_id, ioas_id;
	struct edu edu;
	int kfd, fd;

	/* Asked first: the test module is loaded only to be used. */
	if (irq_remapping_enabled())
		SKIP("this machine isolates MSIs (interrupt remapping is on)");
	kfd = kapi_open();
	if (kfd < 0)
		SKIP(KAPI_NO_MODULE);
	if (edu_take_driverless(&edu)) {
		close(kfd);
		ASSERT_EQ(0, system("kmodctl unload iommufd_kapi_test"));
		SKIP("no edu device in this machine");
	}
	fd = iommufd_open();
	ioas_id = ioas_alloc(fd);

	ASSERT_EQ(0, sysfs_write(UNSAFE, "0"));
	ASSERT_ERRNO(EPERM, kapi_bind(kfd, fd, edu.bdf, NULL));
	/* The administrator's opt-in; the device then works as any. */
	ASSERT_EQ(0, sysfs_write(UNSAFE, "1"));
	ASSERT_EQ(0, kapi_bind(kfd, fd, edu.bdf, &dev_id));
	ASSERT_NE(0, dev_id);
	ASSERT_EQ(0, kapi_op(kfd, KAPI_TEST_ATTACH, -1, ioas_id));
	ASSERT_EQ(0, kapi_op(kfd, KAPI_TEST_UNBIND, -1, 0));
	/* The attachment went with the device. */
	ASSERT_EQ(0, destroy(fd, ioas_id));
	ASSERT_EQ(0, sysfs_write(UNSAFE, "0"));
	close(kfd);
	close(fd);
	edu_give_back(&edu);
	/* It holds iommufd: the runner unloads that after the suites. */
	ASSERT_EQ(0, system("kmodctl unload iommufd_kapi_test"));
}

TEST_HARNESS_MAIN
