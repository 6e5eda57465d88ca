// SPDX-License-Identifier: GPL-2.0
/*
 * Paging hardware page tables and devices through the public ABI:
 * IOMMU_HWPT_ALLOC, IOMMU_GET_HW_INFO, IOMMU_DESTROY of HWPTs and of the
 * IOAS under them, moving a device between IOASes and HWPTs, and our
 * extension IOMMUFD_DKMS_DEVICE_ATTACH / _DETACH.
 *
 * The devices are the self-test's mock devices (IOMMU_TEST_OP_MOCK_DOMAIN:
 * the module must be loaded with selftest=1, else every test skips).  A
 * mock device comes with three ids: its self-test object (stdev_id, whose
 * IOMMU_DESTROY unplugs it), the device as bound to the iommufd (idev_id,
 * the dev_id of the regular ABI) and the HWPT it was attached to.
 *
 * The expected errnos are upstream iommufd's (drivers/iommu/iommufd/
 * hw_pagetable.c, device.c, main.c and selftest.c of torvalds/linux, as
 * built in 6.12 with CONFIG_IOMMUFD_TEST); the comment above each test
 * names the upstream check behind it.  In short:
 *  - IOMMU_HWPT_ALLOC checks __reserved (EOPNOTSUPP) and that data_len is
 *    0 exactly when data_type is IOMMU_HWPT_DATA_NONE (EINVAL) before it
 *    looks anything up; then dev_id must be a device (ENOENT) and pt_id any
 *    object (EINVAL, not ENOENT, if there is none); an IOAS gives a paging
 *    HWPT, a paging HWPT a nested one, anything else is EINVAL;
 *  - attaching to an IOAS uses an automatic paging HWPT, shared by every
 *    compatible device attached to that IOAS and destroyed with its last
 *    device; a HWPT made by IOMMU_HWPT_ALLOC is never picked automatically;
 *  - an object another object uses is EBUSY to IOMMU_DESTROY.
 *
 * Where upstream's mock IOMMU has a feature iommufd-dkms does not offer yet
 * (nest parents, nested HWPTs), the test asserts upstream's
 * answer; on iommufd-dkms, and only there, EOPNOTSUPP makes it skip with
 * the missing feature named (skip_if_not_yet_in_dkms()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"


#define PAGE			0x1000UL

#include "iommufd_utils.h"
#include "iommufd_mock.h"
#include "dkms_attach.h"
#define MAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* An object id no test ever reaches. */
#define NO_SUCH_ID		0x7fffff00u

#define ARRAY_LEN(a)		(sizeof(a) / sizeof((a)[0]))

static int map_fixed(int fd, uint32_t ioas_id, const void *buf,
		     uint64_t length, uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = length,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd);
}

static void unmap_exact(int fd, uint32_t ioas_id, uint64_t iova,
			uint64_t length)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_UNMAP, &cmd));
	ASSERT_EQ(length, cmd.length);
}

/* A paging HWPT for @dev_id on the IOAS @pt_id, no driver data. */
static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		      uint32_t *out_hwpt_id)
{
	return hwpt_alloc_data(fd, dev_id, pt_id, flags, IOMMU_HWPT_DATA_NONE,
			       NULL, 0, out_hwpt_id);
}

/*
 * IOMMU_GET_HW_INFO into @data (room for *data_len bytes); *data_len gets
 * the length the kernel reports, *info (may be NULL) the whole answer.
 */
static int hw_info(int fd, uint32_t dev_id, void *data, uint32_t *data_len,
		   struct iommu_hw_info *info)
{
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = *data_len,
		.data_uptr = (uintptr_t)data,
	};
	int rc = ioctl(fd, IOMMU_GET_HW_INFO, &cmd);

	if (!rc) {
		*data_len = cmd.data_len;
		if (info)
			*info = cmd;
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * Our extension, and telling iommufd-dkms from upstream.
 */

/*
 * Upstream's /dev/iommu sends every number below its own range, ours
 * included, to its VFIO compatibility code, which does not know it: ENOTTY.
 * iommufd-dkms answers (object 0 never exists: ENOENT).
 */
static bool is_iommufd_dkms(int fd)
{
	return !(dkms_detach(fd, 0) == -1 && errno == ENOTTY);
}

#define REQUIRE_DKMS_EXTENSION(fd)					\
	do {								\
		if (!is_iommufd_dkms(fd))				\
			SKIP("no IOMMUFD_DKMS_DEVICE_ATTACH: not iommufd-dkms (upstream attaches through the VFIO device cdev)");\
	} while (0)

/*
 * Only for features upstream's mock IOMMU has and iommufd-dkms does not
 * offer yet: the test asserts upstream's success, and this turns our
 * EOPNOTSUPP into a skip that names the gap.  On any other kernel, or with
 * any other errno, the test goes on and fails on upstream's expectation.
 * Never use it to accept an answer upstream does not give.
 */
static void skip_if_not_yet_in_dkms(int fd, int rc, const char *feature)
{
	int err = errno;

	if (rc != -1 || err != EOPNOTSUPP)
		return;
	if (!is_iommufd_dkms(fd)) {
		errno = err;	/* for the caller's check of upstream's errno */
		return;
	}
	SKIP("iommufd-dkms does not offer %s yet (upstream's mock IOMMU does)",
	     feature);
}

/* ------------------------------------------------------------------------
 * One IOAS with one mock device attached to it (so with an automatic
 * paging HWPT), and a buffer to map.
 */

enum { BUF_PAGES = 32 };

/* Where the tests map: inside the mock aperture. */
#define BASE			((uint64_t)MOCK_APERTURE_START)

FIXTURE(hwpt)
{
	int fd;
	uint32_t ioas_id;
	struct mock_dev dev;	/* dev.hwpt_id is the IOAS's automatic HWPT */
	uint8_t *buf;		/* BUF_PAGES pages */
};

FIXTURE_SETUP(hwpt)
{
	self->fd = iommufd_open();
	if (!selftest_available(self->fd)) {
		close(self->fd);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	self->ioas_id = ioas_alloc(self->fd);
	ASSERT_EQ(0, mock_dev_add(self->fd, self->ioas_id, &self->dev));
	ASSERT_NE(0, self->dev.stdev_id);
	ASSERT_NE(0, self->dev.idev_id);
	ASSERT_NE(0, self->dev.hwpt_id);
	self->buf = alloc_buffer(BUF_PAGES * PAGE);
}

FIXTURE_TEARDOWN(hwpt)
{
	ASSERT_EQ(0, close(self->fd));
	/* Closing the fd released every pin the case made. */
	{
		int fd = iommufd_open();

		EXPECT_EQ(0, check_refs(fd, self->buf, BUF_PAGES * PAGE, 0));
		ASSERT_EQ(0, close(fd));
	}
	free_buffer(self->buf, BUF_PAGES * PAGE);
}

/* --- IOMMU_HWPT_ALLOC ---------------------------------------------------- */

/*
 * iommufd_hwpt_alloc() with an IOAS: a new paging HWPT, never the
 * automatic one (auto domains are only ever picked by attach), and not in
 * use by anything, so it can be destroyed at once.
 */
TEST_F(hwpt, hwpt_alloc_on_an_ioas_makes_a_new_paging_hwpt)
{
	uint32_t first = 0, second = 0;

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&first));
	EXPECT_NE(0, first);
	EXPECT_NE(self->ioas_id, first);
	EXPECT_NE(self->dev.hwpt_id, first);
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&second));
	EXPECT_NE(first, second);
	EXPECT_NE(self->dev.hwpt_id, second);

	ASSERT_EQ(0, destroy(self->fd, first));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, first));
	ASSERT_EQ(0, destroy(self->fd, second));
	/* The device's own HWPT was not touched. */
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.hwpt_id));
}

/*
 * iopt_table_add_domain() fills a new domain with every existing mapping,
 * and later maps and unmaps reach every domain of the IOAS.
 */
TEST_F(hwpt, hwpt_alloc_mirrors_mappings_made_before_and_after_it)
{
	const uint64_t before = BASE, after = BASE + 16 * PAGE;
	uint8_t *b = self->buf, *a = self->buf + 16 * PAGE;
	uint32_t hwpt_id;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, b, 8 * PAGE, before));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, before, 8 * PAGE, b));

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, a, 8 * PAGE, after));
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, after, 8 * PAGE, a));
	ASSERT_EQ(0, check_map(self->fd, self->dev.hwpt_id, after, 8 * PAGE,
			       a));
	/* A page is pinned once however many domains map it. */
	ASSERT_EQ(0, check_refs(self->fd, b, 8 * PAGE, 1));

	unmap_exact(self->fd, self->ioas_id, before, 8 * PAGE);
	/* MD_CHECK_MAP: an IOVA with no entry in the mock domain is EINVAL. */
	EXPECT_ERRNO(EINVAL, check_map(self->fd, hwpt_id, before, PAGE, b));
	EXPECT_ERRNO(EINVAL, check_map(self->fd, self->dev.hwpt_id, before,
				       PAGE, b));
	ASSERT_EQ(0, check_refs(self->fd, b, 8 * PAGE, 0));
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, after, 8 * PAGE, a));

	/* Destroying one domain leaves the pages pinned for the other. */
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
	ASSERT_EQ(0, check_refs(self->fd, a, 8 * PAGE, 1));
	unmap_exact(self->fd, self->ioas_id, after, 8 * PAGE);
}

/* iommufd_get_device(): dev_id must name a device object, else ENOENT. */
TEST_F(hwpt, hwpt_alloc_for_an_unknown_or_non_device_dev_id_is_enoent)
{
	const uint32_t not_devices[] = {
		0, NO_SUCH_ID, self->ioas_id, self->dev.hwpt_id,
		/* The mock device's self-test object is not the device. */
		self->dev.stdev_id,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(not_devices); i++)
		EXPECT_ERRNO(ENOENT, hwpt_alloc(self->fd, not_devices[i],
						self->ioas_id, 0, NULL));
}

/*
 * iommufd_hwpt_alloc() looks pt_id up as any type and answers EINVAL, not
 * ENOENT, when there is no such object, and EINVAL for an object that is
 * neither an IOAS nor a paging HWPT.
 */
TEST_F(hwpt, hwpt_alloc_on_an_unknown_or_unsuitable_pt_id_is_einval)
{
	const uint32_t not_pts[] = {
		0, NO_SUCH_ID, self->dev.idev_id, self->dev.stdev_id,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(not_pts); i++)
		EXPECT_ERRNO(EINVAL, hwpt_alloc(self->fd, self->dev.idev_id,
						not_pts[i], 0, NULL));
}

/*
 * A paging HWPT as pt_id asks for a nested HWPT: iommufd_hwpt_nested_alloc()
 * refuses one without driver data (data_len 0) with EOPNOTSUPP, for the
 * automatic HWPT and a user-made one alike.
 */
TEST_F(hwpt, hwpt_alloc_on_a_paging_hwpt_without_data_is_eopnotsupp)
{
	uint32_t hwpt_id;

	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev_id,
					    self->dev.hwpt_id, 0, NULL));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev_id,
					    hwpt_id, 0, NULL));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
}

/*
 * iommufd_hwpt_alloc(): __reserved first; iommufd_hwpt_paging_alloc(): any
 * flag outside NEST_PARENT and DIRTY_TRACKING.  Bits 2 and 3 are left out:
 * FAULT_ID_VALID and PASID have meanings that vary with the kernel.
 */
TEST_F(hwpt, hwpt_alloc_with_unknown_flags_or_reserved_set_is_eopnotsupp)
{
	static const uint32_t bad_flags[] = { 1u << 8, 1u << 16, 1u << 31 };
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = self->dev.idev_id,
		.pt_id = self->ioas_id,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(bad_flags); i++) {
		cmd.flags = bad_flags[i];
		EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_HWPT_ALLOC,
					       &cmd));
	}
	cmd.flags = 0;
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	/* Before the ids are even looked at. */
	cmd.dev_id = NO_SUCH_ID;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	cmd.__reserved = 0;
	cmd.dev_id = self->dev.idev_id;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_HWPT_ALLOC, &cmd));
	ASSERT_EQ(0, destroy(self->fd, cmd.out_hwpt_id));
}

/*
 * iommufd_hwpt_alloc(): data_len must be 0 with IOMMU_HWPT_DATA_NONE and
 * non-zero with any other type; EINVAL, before the device is looked up.
 */
TEST_F(hwpt, hwpt_alloc_with_data_len_not_matching_data_type_is_einval)
{
	struct iommu_hwpt_vtd_s1 vtd = { 0 };

	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->ioas_id, 0,
					     IOMMU_HWPT_DATA_NONE, &vtd,
					     sizeof(vtd), NULL));
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->ioas_id, 0,
					     IOMMU_HWPT_DATA_VTD_S1, &vtd, 0,
					     NULL));
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, NO_SUCH_ID,
					     self->ioas_id, 0,
					     IOMMU_HWPT_DATA_VTD_S1, &vtd, 0,
					     NULL));
}

/*
 * With an IOAS as pt_id the driver data goes to the mock driver, which
 * takes none of another IOMMU's formats for a paging domain: EOPNOTSUPP.
 */
TEST_F(hwpt, hwpt_alloc_with_driver_data_the_mock_does_not_take_is_eopnotsupp)
{
	struct iommu_hwpt_vtd_s1 vtd = { .addr_width = 48 };

	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc_data(self->fd, self->dev.idev_id,
						 self->ioas_id, 0,
						 IOMMU_HWPT_DATA_VTD_S1, &vtd,
						 sizeof(vtd), NULL));
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc_data(self->fd, self->dev.idev_id,
						 self->ioas_id, 0, 0xfff0,
						 &vtd, sizeof(vtd), NULL));
}

/*
 * iommufd_hwpt_alloc() passes driver data on only when data_len is not 0:
 * with IOMMU_HWPT_DATA_NONE a stray data_uptr is never read.
 */
TEST_F(hwpt, hwpt_alloc_ignores_data_uptr_when_data_len_is_zero)
{
	uint32_t hwpt_id;

	ASSERT_EQ(0, hwpt_alloc_data(self->fd, self->dev.idev_id,
				     self->ioas_id, 0, IOMMU_HWPT_DATA_NONE,
				     (void *)(uintptr_t)0x10, 0, &hwpt_id));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
}

/*
 * iommufd_hwpt_nested_alloc(): with driver data the mock takes
 * (IOMMU_HWPT_DATA_SELFTEST), a parent that is an automatic HWPT or was not
 * allocated with IOMMU_HWPT_ALLOC_NEST_PARENT is EINVAL.
 */
TEST_F(hwpt, hwpt_alloc_nested_on_a_hwpt_that_is_not_a_nest_parent_is_einval)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	uint32_t hwpt_id;
	int rc;

	rc = hwpt_alloc_data(self->fd, self->dev.idev_id, self->dev.hwpt_id, 0,
			     IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data),
			     NULL);
	skip_if_not_yet_in_dkms(self->fd, rc, "nested HWPTs");
	EXPECT_EQ(-1, rc);
	EXPECT_EQ(EINVAL, errno);

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     hwpt_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     sizeof(data), NULL));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
}

/*
 * The mock driver accepts IOMMU_HWPT_ALLOC_NEST_PARENT for a paging HWPT
 * (mock_domain_alloc_user()); a nest parent is a paging HWPT like any
 * other: it mirrors its IOAS and devices attach to it.
 */
TEST_F(hwpt, hwpt_alloc_nest_parent_gives_a_paging_hwpt_devices_can_use)
{
	uint32_t parent_id = 0, now_id;
	int rc;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       BASE));
	rc = hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
			IOMMU_HWPT_ALLOC_NEST_PARENT, &parent_id);
	skip_if_not_yet_in_dkms(self->fd, rc, "IOMMU_HWPT_ALLOC_NEST_PARENT");
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, check_map(self->fd, parent_id, BASE, 4 * PAGE,
			       self->buf));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, parent_id,
				      &now_id));
	EXPECT_EQ(parent_id, now_id);
	EXPECT_ERRNO(EBUSY, destroy(self->fd, parent_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, NULL));
	ASSERT_EQ(0, destroy(self->fd, parent_id));
}

/*
 * A mock device reports IOMMU_HW_CAP_DIRTY_TRACKING (mock_domain_capable()
 * unless created with MOCK_FLAGS_DEVICE_NO_DIRTY), and a HWPT allocated
 * with IOMMU_HWPT_ALLOC_DIRTY_TRACKING for it works like any other.
 */
TEST_F(hwpt, dirty_tracking_is_offered_by_the_mock_iommu)
{
	struct iommu_test_hw_info data;
	uint32_t len = sizeof(data), hwpt_id = 0;
	struct iommu_hw_info info;
	int rc;

	ASSERT_EQ(0, hw_info(self->fd, self->dev.idev_id, &data, &len, &info));
	if (!(info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING) &&
	    is_iommufd_dkms(self->fd))
		SKIP("iommufd-dkms does not offer dirty tracking yet (upstream's mock IOMMU does)");
	EXPECT_EQ(IOMMU_HW_CAP_DIRTY_TRACKING,
		  info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING);

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       BASE));
	rc = hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
			IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt_id);
	skip_if_not_yet_in_dkms(self->fd, rc, "IOMMU_HWPT_ALLOC_DIRTY_TRACKING");
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, BASE, 4 * PAGE, self->buf));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, hwpt_id,
				      NULL));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, NULL));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
}

/* --- attaching: IOMMU_TEST_OP_MOCK_DOMAIN and _REPLACE -------------------- */

/*
 * iommufd_device_change_pt(): a HWPT as the target is used as it is, and
 * reported back as the device's HWPT.
 */
TEST_F(hwpt, mock_domain_on_a_hwpt_attaches_the_new_device_to_it)
{
	struct mock_dev second;
	uint32_t hwpt_id;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       BASE));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));
	ASSERT_EQ(0, mock_dev_add(self->fd, hwpt_id, &second));
	EXPECT_EQ(hwpt_id, second.hwpt_id);
	EXPECT_NE(self->dev.idev_id, second.idev_id);
	ASSERT_EQ(0, check_map(self->fd, second.hwpt_id, BASE, 4 * PAGE,
			       self->buf));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, hwpt_id));

	/* Unplugging the device frees the HWPT for destruction. */
	ASSERT_EQ(0, destroy(self->fd, second.stdev_id));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
}

/*
 * A second device attached to the same IOAS gets the same automatic HWPT
 * (iommufd_device_auto_get_domain() reuses any compatible auto domain).
 */
TEST_F(hwpt, devices_attached_to_one_ioas_share_its_automatic_hwpt)
{
	struct mock_dev second;

	ASSERT_EQ(0, mock_dev_add(self->fd, self->ioas_id, &second));
	EXPECT_EQ(self->dev.hwpt_id, second.hwpt_id);
	EXPECT_NE(self->dev.stdev_id, second.stdev_id);
	EXPECT_NE(self->dev.idev_id, second.idev_id);
	ASSERT_EQ(0, destroy(self->fd, second.stdev_id));
}

/*
 * iommufd_device_change_pt(): an id that names nothing is ENOENT, an
 * object that is neither an IOAS nor a HWPT is EINVAL.  The failed
 * attachment leaves nothing behind.
 */
TEST_F(hwpt, mock_domain_on_an_unknown_or_unsuitable_id_fails)
{
	EXPECT_ERRNO(ENOENT, mock_dev_add(self->fd, 0, NULL));
	EXPECT_ERRNO(ENOENT, mock_dev_add(self->fd, NO_SUCH_ID, NULL));
	EXPECT_ERRNO(EINVAL, mock_dev_add(self->fd, self->dev.idev_id, NULL));
	EXPECT_ERRNO(EINVAL, mock_dev_add(self->fd, self->dev.stdev_id, NULL));
	/* Only the fixture's device uses the automatic HWPT. */
	ASSERT_EQ(0, destroy(self->fd, self->dev.stdev_id));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->dev.hwpt_id));
	ASSERT_EQ(0, destroy(self->fd, self->ioas_id));
}

/*
 * iommufd_device_replace(): to a HWPT, to the IOAS (a new automatic HWPT
 * once the old one went with its only device), to the HWPT it is on (no
 * change).  The pt_id returned is always the HWPT the device is now on.
 */
TEST_F(hwpt, replace_moves_a_device_between_its_ioas_and_hwpts)
{
	uint32_t hwpt_id, now_id = 0, auto_id = 0;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 8 * PAGE,
			       BASE));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, hwpt_id,
				      &now_id));
	EXPECT_EQ(hwpt_id, now_id);
	/* The automatic HWPT had no other device: it is gone. */
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->dev.hwpt_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, hwpt_id));

	/* Replacing with the current HWPT changes nothing. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, hwpt_id,
				      &now_id));
	EXPECT_EQ(hwpt_id, now_id);

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, &auto_id));
	EXPECT_NE(0, auto_id);
	EXPECT_NE(hwpt_id, auto_id);
	EXPECT_NE(self->ioas_id, auto_id);
	ASSERT_EQ(0, check_map(self->fd, auto_id, BASE, 8 * PAGE, self->buf));
	/* A HWPT made by IOMMU_HWPT_ALLOC is never picked automatically. */
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, auto_id));

	/* To the IOAS again: the same automatic HWPT. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, &now_id));
	EXPECT_EQ(auto_id, now_id);
	unmap_exact(self->fd, self->ioas_id, BASE, 8 * PAGE);
}

/* Replacing to another IOAS gives the device that IOAS's mappings. */
TEST_F(hwpt, replace_to_another_ioas_gives_the_device_its_mappings)
{
	uint32_t other = ioas_alloc(self->fd), now_id = 0;
	uint8_t *mine = self->buf, *theirs = self->buf + 8 * PAGE;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, mine, 4 * PAGE, BASE));
	ASSERT_EQ(0, map_fixed(self->fd, other, theirs, 4 * PAGE, BASE));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, other,
				      &now_id));
	EXPECT_NE(self->dev.hwpt_id, now_id);
	ASSERT_EQ(0, check_map(self->fd, now_id, BASE, 4 * PAGE, theirs));
	/* The device left the first IOAS: it can go, the second cannot. */
	EXPECT_ERRNO(EBUSY, destroy(self->fd, other));
	ASSERT_EQ(0, destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, check_refs(self->fd, mine, 4 * PAGE, 0));
	ASSERT_EQ(0, check_refs(self->fd, theirs, 4 * PAGE, 1));
}

/*
 * iommufd_test_mock_domain_replace() finds the device as a self-test
 * object (ENOENT for any other id); the target as for an attach.
 */
TEST_F(hwpt, replace_argument_errors)
{
	uint32_t now_id = 0;

	EXPECT_ERRNO(ENOENT, mock_dev_replace(self->fd, 0, self->ioas_id,
					      NULL));
	EXPECT_ERRNO(ENOENT, mock_dev_replace(self->fd, NO_SUCH_ID,
					      self->ioas_id, NULL));
	EXPECT_ERRNO(ENOENT, mock_dev_replace(self->fd, self->dev.idev_id,
					      self->ioas_id, NULL));
	EXPECT_ERRNO(ENOENT, mock_dev_replace(self->fd, self->ioas_id,
					      self->ioas_id, NULL));
	EXPECT_ERRNO(ENOENT, mock_dev_replace(self->fd, self->dev.stdev_id,
					      NO_SUCH_ID, NULL));
	EXPECT_ERRNO(EINVAL, mock_dev_replace(self->fd, self->dev.stdev_id,
					      self->dev.idev_id, NULL));
	EXPECT_ERRNO(EINVAL, mock_dev_replace(self->fd, self->dev.stdev_id,
					      self->dev.stdev_id, NULL));
	/* Nothing changed: still on its automatic HWPT. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, &now_id));
	EXPECT_EQ(self->dev.hwpt_id, now_id);
}

/* --- object lifetime ----------------------------------------------------- */

/*
 * iommufd_object_remove(): EBUSY while another object holds a user count
 * (a device holds its HWPT, a HWPT its IOAS); fine once it lets go.
 */
TEST_F(hwpt, destroy_of_a_hwpt_or_its_ioas_is_ebusy_while_in_use)
{
	uint32_t hwpt_id;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       BASE));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, hwpt_id,
				      NULL));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, hwpt_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->ioas_id));
	/* A refused destroy leaves the HWPT working. */
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, BASE, 4 * PAGE, self->buf));

	/* Unplug the device: the HWPT is free, the IOAS still held by it. */
	ASSERT_EQ(0, destroy(self->fd, self->dev.stdev_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, hwpt_id));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, 4 * PAGE, 0));
	ASSERT_EQ(0, destroy(self->fd, self->ioas_id));
}

/* A HWPT no device uses still holds its IOAS. */
TEST_F(hwpt, destroy_of_an_ioas_is_ebusy_while_an_unused_hwpt_sits_on_it)
{
	uint32_t other = ioas_alloc(self->fd), hwpt_id;

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, other, 0,
				&hwpt_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, other));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
	ASSERT_EQ(0, destroy(self->fd, other));
}

/*
 * iommufd_hw_pagetable_put(): an automatic HWPT is destroyed with the
 * detach of its last device, and only then.
 */
TEST_F(hwpt, the_automatic_hwpt_goes_away_with_its_last_device)
{
	struct mock_dev second;

	ASSERT_EQ(0, mock_dev_add(self->fd, self->ioas_id, &second));
	ASSERT_EQ(self->dev.hwpt_id, second.hwpt_id);
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.hwpt_id));

	ASSERT_EQ(0, destroy(self->fd, self->dev.stdev_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.hwpt_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->ioas_id));

	ASSERT_EQ(0, destroy(self->fd, second.stdev_id));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->dev.hwpt_id));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, second.idev_id));
	ASSERT_EQ(0, destroy(self->fd, self->ioas_id));
}

/*
 * The device object belongs to its driver (iommufd_device_bind() takes a
 * user count until unbind): IOMMU_DESTROY of a dev_id is EBUSY.
 */
TEST_F(hwpt, destroy_of_a_device_id_is_ebusy)
{
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.idev_id));
	/* Still a device. */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				NULL));
}

/*
 * iommufd_fops_release() destroys everything, devices and HWPTs in use
 * included, and every pin goes with them (the teardown checks the refs).
 */
TEST_F(hwpt, closing_the_fd_releases_devices_and_hwpts_in_use)
{
	uint32_t other = ioas_alloc(self->fd), hwpt_id;
	struct mock_dev second;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf,
			       BUF_PAGES * PAGE, BASE));
	ASSERT_EQ(0, map_fixed(self->fd, other, self->buf, BUF_PAGES * PAGE,
			       BASE));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, other, 0,
				&hwpt_id));
	ASSERT_EQ(0, mock_dev_add(self->fd, hwpt_id, &second));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_PAGES * PAGE, 2));
}

/* --- IOMMU_GET_HW_INFO --------------------------------------------------- */

/*
 * mock_domain_hw_info(): struct iommu_test_hw_info, type
 * IOMMU_HW_INFO_TYPE_SELFTEST, flags 0, test_reg
 * IOMMU_HW_INFO_SELFTEST_REGVAL; no PASID support.
 */
TEST_F(hwpt, hw_info_of_a_mock_device_is_the_selftest_register)
{
	struct iommu_test_hw_info data;
	uint32_t len = sizeof(data);
	struct iommu_hw_info info;

	memset(&data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->fd, self->dev.idev_id, &data, &len, &info));
	EXPECT_EQ(sizeof(data), len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, info.out_data_type);
	EXPECT_EQ(0, data.flags);
	EXPECT_EQ(IOMMU_HW_INFO_SELFTEST_REGVAL, data.test_reg);
	EXPECT_EQ(0, info.out_max_pasid_log2);
	/* Reserved output bytes stay zero. */
	EXPECT_EQ(0, info.__reserved[0]);
	EXPECT_EQ(0, info.__reserved[1]);
	EXPECT_EQ(0, info.__reserved[2]);
}

/*
 * iommufd_get_hw_info(): at most data_len bytes are written; data_len
 * comes back as the length the kernel has.
 */
TEST_F(hwpt, hw_info_with_a_short_buffer_is_truncated_and_reports_the_full_length)
{
	uint8_t data[16];
	uint32_t len = 4;
	struct iommu_hw_info info;
	const uint32_t regval = IOMMU_HW_INFO_SELFTEST_REGVAL;
	const size_t reg_at = offsetof(struct iommu_test_hw_info, test_reg);

	memset(data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->fd, self->dev.idev_id, data, &len, &info));
	EXPECT_EQ(sizeof(struct iommu_test_hw_info), len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, info.out_data_type);
	/* The flags word was written, nothing after it. */
	for (unsigned int i = 0; i < 4; i++)
		EXPECT_EQ(0, data[i]);
	for (unsigned int i = 4; i < sizeof(data); i++)
		EXPECT_EQ(0xa5, data[i]);

	/* Seven bytes: all but the last byte of the register. */
	memset(data, 0xa5, sizeof(data));
	len = 7;
	ASSERT_EQ(0, hw_info(self->fd, self->dev.idev_id, data, &len, NULL));
	EXPECT_EQ(sizeof(struct iommu_test_hw_info), len);
	EXPECT_EQ(0, memcmp(data + reg_at, &regval, 3));
	EXPECT_EQ(0xa5, data[7]);
}

/* iommufd_get_hw_info(): clear_user() of what the data does not fill. */
TEST_F(hwpt, hw_info_with_a_long_buffer_zero_fills_past_the_data)
{
	uint8_t data[64];
	uint32_t len = sizeof(data);
	struct iommu_test_hw_info expected = {
		.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL,
	};

	memset(data, 0xa5, sizeof(data));
	ASSERT_EQ(0, hw_info(self->fd, self->dev.idev_id, data, &len, NULL));
	EXPECT_EQ(sizeof(expected), len);
	EXPECT_EQ(0, memcmp(data, &expected, sizeof(expected)));
	for (size_t i = sizeof(expected); i < sizeof(data); i++)
		EXPECT_EQ(0, data[i]);
}

/* data_len 0: nothing is written, the type and length are reported. */
TEST_F(hwpt, hw_info_with_no_buffer_reports_the_type_and_length)
{
	struct iommu_hw_info info;
	uint32_t len = 0;

	ASSERT_EQ(0, hw_info(self->fd, self->dev.idev_id, NULL, &len, &info));
	EXPECT_EQ(sizeof(struct iommu_test_hw_info), len);
	EXPECT_EQ(IOMMU_HW_INFO_TYPE_SELFTEST, info.out_data_type);
}

/*
 * iommufd_get_hw_info(): unknown flags and a non-zero __reserved byte are
 * EOPNOTSUPP, before the device is looked up.  Bit 0 is left out: newer
 * kernels give it a meaning (IOMMU_HW_INFO_FLAG_INPUT_TYPE).
 */
TEST_F(hwpt, hw_info_with_unknown_flags_or_reserved_set_is_eopnotsupp)
{
	static const uint32_t bad_flags[] = { 1u << 1, 1u << 16, 1u << 31 };
	struct iommu_test_hw_info data;
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = self->dev.idev_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(bad_flags); i++) {
		cmd.flags = bad_flags[i];
		EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_GET_HW_INFO,
					       &cmd));
	}
	cmd.flags = 0;
	for (unsigned int i = 0; i < ARRAY_LEN(cmd.__reserved); i++) {
		memset(cmd.__reserved, 0, sizeof(cmd.__reserved));
		cmd.__reserved[i] = 1;
		EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_GET_HW_INFO,
					       &cmd));
	}
	cmd.dev_id = NO_SUCH_ID;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_GET_HW_INFO, &cmd));
}

/* iommufd_get_device(): anything but a device is ENOENT. */
TEST_F(hwpt, hw_info_of_an_unknown_or_non_device_id_is_enoent)
{
	const uint32_t not_devices[] = {
		0, NO_SUCH_ID, self->ioas_id, self->dev.hwpt_id,
		self->dev.stdev_id,
	};
	struct iommu_test_hw_info data;

	for (unsigned int i = 0; i < ARRAY_LEN(not_devices); i++) {
		uint32_t len = sizeof(data);

		EXPECT_ERRNO(ENOENT, hw_info(self->fd, not_devices[i], &data,
					     &len, NULL));
	}
}

/* copy_to_user() and clear_user() into memory that cannot be written. */
TEST_F(hwpt, hw_info_into_an_unwritable_buffer_is_efault)
{
	uint8_t *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	uint32_t len;

	ASSERT_NE(MAP_FAILED, ro);
	len = sizeof(struct iommu_test_hw_info);
	EXPECT_ERRNO(EFAULT, hw_info(self->fd, self->dev.idev_id, ro, &len,
				     NULL));
	/* The data fits the writable page, its zeroed tail does not. */
	{
		uint8_t *two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ASSERT_NE(MAP_FAILED, two);
		ASSERT_EQ(0, mprotect(two + PAGE, PAGE, PROT_READ));
		len = 64;
		EXPECT_ERRNO(EFAULT, hw_info(self->fd, self->dev.idev_id,
					     two + PAGE - 16, &len, NULL));
		ASSERT_EQ(0, munmap(two, 2 * PAGE));
	}
	ASSERT_EQ(0, munmap(ro, PAGE));
}

/* --- IOMMUFD_DKMS_DEVICE_ATTACH / _DETACH (our extension) ----------------- */

/*
 * These follow uapi/linux/iommufd_dkms.h: attach to an IOAS (the kernel
 * uses or makes a paging HWPT) or a paging HWPT, pt_id back as the HWPT
 * now in use; attaching again replaces; DETACH blocks DMA, succeeds on a
 * detached device.  The errnos are those upstream's attach gives in
 * iommufd_device_change_pt() (ENOENT no object, EINVAL wrong type) and
 * iommufd_get_device() (ENOENT).  Upstream has no such ioctl: skipped.
 */

/* Attaching to the IOAS the device is on: its automatic HWPT, no change. */
TEST_F(hwpt, dkms_attach_to_the_ioas_the_device_is_on_keeps_its_hwpt)
{
	uint32_t now_id = 0;

	REQUIRE_DKMS_EXTENSION(self->fd);
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, self->ioas_id,
				 &now_id));
	EXPECT_EQ(self->dev.hwpt_id, now_id);
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id,
				 self->dev.hwpt_id, &now_id));
	EXPECT_EQ(self->dev.hwpt_id, now_id);
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.hwpt_id));
}

TEST_F(hwpt, dkms_attach_replaces_between_hwpts_and_ioases)
{
	uint32_t other = ioas_alloc(self->fd), hwpt_id, now_id = 0;
	uint32_t other_auto_id = 0, auto_id = 0;
	uint8_t *mine = self->buf, *theirs = self->buf + 8 * PAGE;

	REQUIRE_DKMS_EXTENSION(self->fd);
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, mine, 4 * PAGE, BASE));
	ASSERT_EQ(0, map_fixed(self->fd, other, theirs, 4 * PAGE, BASE));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));

	/* To a HWPT: the automatic one goes with its only device. */
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, hwpt_id,
				 &now_id));
	EXPECT_EQ(hwpt_id, now_id);
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->dev.hwpt_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, hwpt_id));

	/*
	 * To another IOAS: a new automatic HWPT with that IOAS's mappings.
	 * (It may get the id of the destroyed one: ids are reused.)
	 */
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, other,
				 &other_auto_id));
	EXPECT_NE(hwpt_id, other_auto_id);
	ASSERT_EQ(0, check_map(self->fd, other_auto_id, BASE, 4 * PAGE,
			       theirs));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, other));

	/* Back to the first IOAS. */
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, self->ioas_id,
				 &auto_id));
	EXPECT_NE(other_auto_id, auto_id);
	ASSERT_EQ(0, check_map(self->fd, auto_id, BASE, 4 * PAGE, mine));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, other_auto_id));
	ASSERT_EQ(0, destroy(self->fd, other));
	ASSERT_EQ(0, check_refs(self->fd, theirs, 4 * PAGE, 0));
}

/* A device attached through the extension is the mock device still. */
TEST_F(hwpt, dkms_attach_and_mock_domain_replace_see_the_same_attachment)
{
	uint32_t hwpt_id, now_id = 0;

	REQUIRE_DKMS_EXTENSION(self->fd);
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id, hwpt_id,
				      NULL));
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, hwpt_id,
				 &now_id));
	EXPECT_EQ(hwpt_id, now_id);
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, self->ioas_id,
				 &now_id));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, &hwpt_id));
	EXPECT_EQ(now_id, hwpt_id);
}

/*
 * DETACH lets go of the HWPT (an automatic one is destroyed), is a no-op
 * on a detached device, and the device can attach again.
 */
TEST_F(hwpt, dkms_detach_releases_the_hwpt_and_can_be_repeated)
{
	uint32_t hwpt_id, now_id = 0;

	REQUIRE_DKMS_EXTENSION(self->fd);
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       BASE));
	ASSERT_EQ(0, dkms_detach(self->fd, self->dev.idev_id));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->dev.hwpt_id));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, 4 * PAGE, 0));
	ASSERT_EQ(0, dkms_detach(self->fd, self->dev.idev_id));

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&hwpt_id));
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, hwpt_id,
				 &now_id));
	EXPECT_EQ(hwpt_id, now_id);
	EXPECT_ERRNO(EBUSY, destroy(self->fd, hwpt_id));
	ASSERT_EQ(0, dkms_detach(self->fd, self->dev.idev_id));
	/* A user-made HWPT outlives the detach, and is free now. */
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, BASE, 4 * PAGE, self->buf));
	ASSERT_EQ(0, destroy(self->fd, hwpt_id));

	/* Nothing holds the IOAS any more. */
	unmap_exact(self->fd, self->ioas_id, BASE, 4 * PAGE);
	ASSERT_EQ(0, destroy(self->fd, self->ioas_id));
	/* Unplugging a detached device is fine too. */
	ASSERT_EQ(0, destroy(self->fd, self->dev.stdev_id));
}

TEST_F(hwpt, dkms_attach_argument_errors)
{
	struct iommufd_dkms_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = self->dev.idev_id,
		.pt_id = self->ioas_id,
	};
	struct mock_dev second;
	const uint32_t not_devices[] = {
		0, NO_SUCH_ID, self->ioas_id, self->dev.hwpt_id,
		self->dev.stdev_id,
	};

	REQUIRE_DKMS_EXTENSION(self->fd);
	ASSERT_EQ(0, mock_dev_add(self->fd, self->ioas_id, &second));

	for (unsigned int i = 0; i < ARRAY_LEN(not_devices); i++)
		EXPECT_ERRNO(ENOENT, dkms_attach(self->fd, not_devices[i],
						 self->ioas_id, NULL));
	EXPECT_ERRNO(ENOENT, dkms_attach(self->fd, self->dev.idev_id, 0, NULL));
	EXPECT_ERRNO(ENOENT, dkms_attach(self->fd, self->dev.idev_id,
					 NO_SUCH_ID, NULL));
	/* Objects that are neither an IOAS nor a HWPT. */
	EXPECT_ERRNO(EINVAL, dkms_attach(self->fd, self->dev.idev_id,
					 second.idev_id, NULL));
	EXPECT_ERRNO(EINVAL, dkms_attach(self->fd, self->dev.idev_id,
					 self->dev.idev_id, NULL));
	EXPECT_ERRNO(EINVAL, dkms_attach(self->fd, self->dev.idev_id,
					 second.stdev_id, NULL));

	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMUFD_DKMS_DEVICE_ATTACH,
				       &cmd));
	cmd.__reserved = 0;
	cmd.size = offsetof(struct iommufd_dkms_device_attach, __reserved);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd));

	/* Every failure left the device where it was. */
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.hwpt_id));
	ASSERT_EQ(0, destroy(self->fd, second.stdev_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.hwpt_id));
}

TEST_F(hwpt, dkms_detach_argument_errors)
{
	struct iommufd_dkms_device_detach cmd = {
		.size = offsetof(struct iommufd_dkms_device_detach, dev_id),
		.dev_id = self->dev.idev_id,
	};
	const uint32_t not_devices[] = {
		0, NO_SUCH_ID, self->ioas_id, self->dev.hwpt_id,
		self->dev.stdev_id,
	};

	REQUIRE_DKMS_EXTENSION(self->fd);
	for (unsigned int i = 0; i < ARRAY_LEN(not_devices); i++)
		EXPECT_ERRNO(ENOENT, dkms_detach(self->fd, not_devices[i]));
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMUFD_DKMS_DEVICE_DETACH, &cmd));
	/* Still attached. */
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->dev.hwpt_id));
}

TEST_HARNESS_MAIN
