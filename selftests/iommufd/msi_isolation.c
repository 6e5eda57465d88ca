// SPDX-License-Identifier: GPL-2.0
/*
 * A device whose MSIs the platform cannot isolate could raise arbitrary
 * interrupts: the VFIO backend refuses its group unless the administrator
 * says otherwise (iommufd_vfio allow_unsafe_interrupts=1), as VFIO type1
 * refuses it.  The check needs a machine without interrupt remapping:
 * the runner boots one (intel-iommu without intremap) for this suite;
 * elsewhere it skips.
 */
#include <linux/iommufd_dkms.h>

#include "iommufd_harness.h"
#include "vfio_edu.h"

#define UNSAFE "/sys/module/iommufd_vfio/parameters/allow_unsafe_interrupts"

TEST(a_group_without_msi_isolation_is_refused_unless_allowed)
{
	char bdf[32], path[64];
	int container, group, group_nr;

	if (access(UNSAFE, F_OK))
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
	if (irq_remapping_enabled())
		SKIP("this machine isolates MSIs (interrupt remapping is on)");
	ASSERT_EQ(0, edu_bind_vfio(bdf, &group_nr));
	ASSERT_EQ(0, sysfs_write(UNSAFE, "0"));

	container = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_NE(-1, container);
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_nr);
	group = open(path, O_RDWR);
	ASSERT_NE(-1, group);
	ASSERT_EQ(0, ioctl(group, VFIO_GROUP_SET_CONTAINER, &container));
	/* Our backend says no; so does VFIO's own type1 behind it. */
	ASSERT_ERRNO(EPERM, ioctl(container, VFIO_SET_IOMMU,
				  VFIO_IOMMUFD_DKMS_IOMMU));

	/* The administrator's opt-in. */
	ASSERT_EQ(0, sysfs_write(UNSAFE, "1"));
	ASSERT_EQ(0, ioctl(container, VFIO_SET_IOMMU, VFIO_IOMMUFD_DKMS_IOMMU));
	ASSERT_EQ(0, sysfs_write(UNSAFE, "0"));
	close(group);
	close(container);
}

TEST_HARNESS_MAIN
