// SPDX-License-Identifier: GPL-2.0
/*
 * PASIDs through the public ABI: IOMMU_HWPT_ALLOC_PASID, out_max_pasid_log2
 * of IOMMU_GET_HW_INFO, and the attach / replace / detach of one PASID of a
 * device (the self-test's IOMMU_TEST_OP_PASID_* for mock devices, our
 * IOMMUFD_DKMS_DEVICE_PASID for any device, the real ones behind
 * iommufd_vfio included).
 *
 * The expected answers are upstream's (drivers/iommu/iommufd/device.c and
 * selftest.c of late 2025, the iommufd_device_pasid fixture of its
 * kselftest):
 *  - only a HWPT made with IOMMU_HWPT_ALLOC_PASID serves a PASID, never
 *    an IOAS (whose automatic HWPTs do not): EINVAL;
 *  - with a PASID attached the device itself may only move to a
 *    PASID-compatible HWPT, and no PASID attaches while it is on one that
 *    is not: EINVAL;
 *  - attaching an attached PASID is EBUSY, replacing an unattached one
 *    EINVAL, detaching an unattached one succeeds;
 *  - a PASID the device does not have (a mock device without
 *    MOCK_FLAGS_DEVICE_PASID has none, one with it 20 bits) is EINVAL;
 *  - the mock refuses to switch PASID 1024 (ENOMEM), the old HWPT stays;
 *  - a HWPT a PASID is attached to is EBUSY to IOMMU_DESTROY;
 *  - a page request with a PASID goes to the fault queue of what that
 *    PASID is attached to, and carries the PASID.
 *
 * The mock cases need selftest=1; the real-device case needs QEMU's edu
 * behind iommufd_vfio (edu has no PASID capability: max_pasid_log2 0, and
 * every PASID is EINVAL, as upstream answers for a device without PASIDs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>
#include <linux/iommufd_dkms.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "iommufd_mock.h"
#include "vfio_edu.h"

/*
 * IOMMU_HWPT_ALLOC_PASID by value: Debian 6.12's iommufd.h predates it
 * (an enum, so it cannot be tested for), and an ABI value never changes.
 */
#define HWPT_ALLOC_PASID	(1u << 3)
#define NO_SUCH_ID		0x7fffff00u
#define BASE		((uint64_t)MOCK_APERTURE_START)
#define MOCK_PASIDS	(1u << MOCK_PASID_WIDTH)
#define REC		sizeof(struct iommu_hwpt_pgfault)

enum { BUF_PAGES = 4 };

/* --- the ioctls ----------------------------------------------------------- */

static int pasid_attach(int fd, uint32_t stdev_id, uint32_t pasid,
			uint32_t pt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_ATTACH,
		.id = stdev_id,
		.pasid_attach = { .pasid = pasid, .pt_id = pt_id },
	};

	return test_cmd(fd, &cmd);
}

static int pasid_replace(int fd, uint32_t stdev_id, uint32_t pasid,
			 uint32_t pt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_REPLACE,
		.id = stdev_id,
		.pasid_replace = { .pasid = pasid, .pt_id = pt_id },
	};

	return test_cmd(fd, &cmd);
}

static int pasid_detach(int fd, uint32_t stdev_id, uint32_t pasid)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_DETACH,
		.id = stdev_id,
		.pasid_detach = { .pasid = pasid },
	};

	return test_cmd(fd, &cmd);
}

/* 0 if @pasid goes to @hwpt_id (to nothing for 0), else -1/EINVAL. */
static int pasid_check(int fd, uint32_t stdev_id, uint32_t pasid,
		       uint32_t hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_PASID_CHECK_HWPT,
		.id = stdev_id,
		.pasid_check = { .pasid = pasid, .hwpt_id = hwpt_id },
	};

	return test_cmd(fd, &cmd);
}

static int dkms_pasid(int fd, uint32_t dev_id, uint32_t op, uint32_t pasid,
		      uint32_t *pt_id)
{
	struct iommufd_dkms_device_pasid cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.op = op,
		.pasid = pasid,
		.pt_id = pt_id ? *pt_id : 0,
	};
	int rc = ioctl(fd, IOMMUFD_DKMS_DEVICE_PASID, &cmd);

	if (!rc && pt_id)
		*pt_id = cmd.pt_id;
	return rc;
}

static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		      uint32_t *out_hwpt_id)
{
	return hwpt_alloc_data(fd, dev_id, pt_id, flags, IOMMU_HWPT_DATA_NONE,
			       NULL, 0, out_hwpt_id);
}

/* A mock nested HWPT on @parent_id, with a fault queue if @fault_id. */
static int nested_alloc(int fd, uint32_t dev_id, uint32_t parent_id,
			uint32_t flags, uint32_t fault_id,
			uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags | (fault_id ? IOMMU_HWPT_FAULT_ID_VALID : 0),
		.dev_id = dev_id,
		.pt_id = parent_id,
		.data_type = IOMMU_HWPT_DATA_SELFTEST,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)&data,
		.fault_id = fault_id,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && out_hwpt_id)
		*out_hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static int max_pasid_log2(int fd, uint32_t dev_id)
{
	uint8_t data[256];
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)data,
	};

	if (ioctl(fd, IOMMU_GET_HW_INFO, &cmd))
		return -errno;
	return cmd.out_max_pasid_log2;
}

/* --- a PASID-capable mock device and one without PASIDs ------------------- */

FIXTURE(pasid)
{
	int fd;
	uint32_t ioas_id;
	uint8_t *buf;
	struct mock_dev dev;	/* MOCK_FLAGS_DEVICE_PASID, itself on s2 */
	struct mock_dev plain;	/* no PASIDs, on its automatic HWPT */
	uint32_t s2_id;		/* paging, IOMMU_HWPT_ALLOC_PASID */
	uint32_t parent_id;	/* nest parent, not PASID-compatible */
	uint32_t nested_id[2];	/* on parent_id, PASID-compatible */
};

FIXTURE_SETUP(pasid)
{
	self->fd = iommufd_open();
	if (!selftest_available(self->fd)) {
		close(self->fd);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	self->ioas_id = ioas_alloc(self->fd);
	self->buf = alloc_buffer(BUF_PAGES * PAGE);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_PAGES * PAGE, BASE));
	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->ioas_id,
				 MOCK_FLAGS_DEVICE_PASID, &self->dev));
	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->ioas_id, 0,
					&self->plain));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				HWPT_ALLOC_PASID, &self->s2_id));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				&self->parent_id));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, HWPT_ALLOC_PASID, 0,
				  &self->nested_id[0]));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, HWPT_ALLOC_PASID, 0,
				  &self->nested_id[1]));
	/* Its PASIDs may only be used once the device itself is compatible. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->s2_id, NULL));
}

FIXTURE_TEARDOWN(pasid)
{
	ASSERT_EQ(0, close(self->fd));
	free_buffer(self->buf, BUF_PAGES * PAGE);
}

TEST_F(pasid, hw_info_reports_the_pasid_width_of_each_device)
{
	EXPECT_EQ(MOCK_PASID_WIDTH,
		  max_pasid_log2(self->fd, self->dev.idev_id));
	EXPECT_EQ(0, max_pasid_log2(self->fd, self->plain.idev_id));
}

TEST_F(pasid, attach_check_and_detach)
{
	ASSERT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100, 0));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100,
				  self->s2_id));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100,
				 self->s2_id));
	EXPECT_ERRNO(EINVAL, pasid_check(self->fd, self->dev.stdev_id, 100, 0));
	EXPECT_ERRNO(EINVAL, pasid_check(self->fd, self->dev.stdev_id, 100,
					 self->nested_id[0]));
	/* Other PASIDs, and the device itself, are untouched. */
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 101, 0));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 0, self->s2_id));
	/* The check's own errors: no such object, an object not a HWPT. */
	EXPECT_ERRNO(ENOENT, pasid_check(self->fd, self->dev.stdev_id, 100,
					 NO_SUCH_ID));
	EXPECT_ERRNO(EINVAL, pasid_check(self->fd, self->dev.stdev_id, 100,
					 self->ioas_id));

	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 100));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100, 0));
	/* Nested HWPTs serve PASIDs too. */
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100,
				  self->nested_id[0]));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100,
				 self->nested_id[0]));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 100));
}

TEST_F(pasid, attach_of_an_attached_pasid_is_ebusy)
{
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100,
				  self->s2_id));
	EXPECT_ERRNO(EBUSY, pasid_attach(self->fd, self->dev.stdev_id, 100,
					 self->s2_id));
	EXPECT_ERRNO(EBUSY, pasid_attach(self->fd, self->dev.stdev_id, 100,
					 self->nested_id[0]));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100,
				 self->s2_id));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 100));
}

TEST_F(pasid, hwpts_without_the_pasid_flag_and_ioases_are_einval)
{
	/* A nest parent made without IOMMU_HWPT_ALLOC_PASID. */
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->dev.stdev_id, 100,
					  self->parent_id));
	/* The automatic HWPT the device was first attached to. */
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->dev.stdev_id, 100,
					  self->dev.hwpt_id));
	/* An IOAS: its automatic HWPTs are never PASID-compatible. */
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->dev.stdev_id, 100,
					  self->ioas_id));
	/* No such object, and an object that is not a page table. */
	EXPECT_ERRNO(ENOENT, pasid_attach(self->fd, self->dev.stdev_id, 100,
					  NO_SUCH_ID));
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->dev.stdev_id, 100,
					  self->dev.idev_id));
	/* No such mock device. */
	EXPECT_ERRNO(ENOENT, pasid_attach(self->fd, NO_SUCH_ID, 100,
					  self->s2_id));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100, 0));
}

TEST_F(pasid, no_pasid_attaches_while_the_device_is_on_an_incompatible_hwpt)
{
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				  self->parent_id, NULL));
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->dev.stdev_id, 100,
					  self->s2_id));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100, 0));
	/* Blocked, the device itself is no obstacle. */
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 0));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100,
				  self->s2_id));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 100));
}

TEST_F(pasid, the_device_cannot_leave_for_an_incompatible_hwpt_with_pasids)
{
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100,
				  self->nested_id[0]));
	EXPECT_ERRNO(EINVAL, mock_dev_replace(self->fd, self->dev.stdev_id,
					  self->parent_id, NULL));
	EXPECT_ERRNO(EINVAL, mock_dev_replace(self->fd, self->dev.stdev_id,
					  self->ioas_id, NULL));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 0, self->s2_id));
	/* To a compatible one it may. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				  self->nested_id[1], NULL));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->s2_id, NULL));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 100));
	/* Without PASIDs, anywhere. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				  self->parent_id, NULL));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				  self->ioas_id, NULL));
}

TEST_F(pasid, a_pasid_the_device_does_not_have_is_einval)
{
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->dev.stdev_id,
					  MOCK_PASIDS, self->s2_id));
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->dev.stdev_id,
					  UINT32_MAX, self->s2_id));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id,
				  MOCK_PASIDS - 1, self->s2_id));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id,
				  MOCK_PASIDS - 1));

	/* A device without PASIDs, on its incompatible automatic HWPT... */
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->plain.stdev_id, 1,
					  self->s2_id));
	/* ...and on a compatible one, which it may use as any HWPT. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->plain.stdev_id,
				  self->nested_id[0], NULL));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->plain.stdev_id,
				      self->s2_id, NULL));
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->plain.stdev_id, 1,
					  self->s2_id));
	EXPECT_ERRNO(EINVAL, pasid_attach(self->fd, self->plain.stdev_id, 1,
					  self->parent_id));
	EXPECT_EQ(0, pasid_check(self->fd, self->plain.stdev_id, 1, 0));
}

TEST_F(pasid, pasid_zero_is_the_device_itself)
{
	/* Attached already: EBUSY, as for any attached PASID. */
	EXPECT_ERRNO(EBUSY, pasid_attach(self->fd, self->dev.stdev_id, 0,
					 self->s2_id));
	ASSERT_EQ(0, pasid_replace(self->fd, self->dev.stdev_id, 0,
				   self->nested_id[0]));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 0,
				 self->nested_id[0]));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 0));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 0, 0));
	EXPECT_ERRNO(EINVAL, pasid_replace(self->fd, self->dev.stdev_id, 0,
					   self->s2_id));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 0,
				  self->s2_id));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 0, self->s2_id));
}

TEST_F(pasid, replace_moves_an_attached_pasid_and_keeps_it_on_failure)
{
	EXPECT_ERRNO(EINVAL, pasid_replace(self->fd, self->dev.stdev_id, 200,
					   self->s2_id));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 200,
				  self->s2_id));
	EXPECT_ERRNO(EINVAL, pasid_replace(self->fd, self->dev.stdev_id, 200,
					   self->ioas_id));
	EXPECT_ERRNO(EINVAL, pasid_replace(self->fd, self->dev.stdev_id, 200,
					   self->parent_id));
	EXPECT_ERRNO(ENOENT, pasid_replace(self->fd, self->dev.stdev_id, 200,
					   NO_SUCH_ID));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 200,
				 self->s2_id));
	ASSERT_EQ(0, pasid_replace(self->fd, self->dev.stdev_id, 200,
				   self->nested_id[0]));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 200,
				 self->nested_id[0]));
	ASSERT_EQ(0, pasid_replace(self->fd, self->dev.stdev_id, 200,
				   self->nested_id[1]));
	/* To where it is already: nothing to do. */
	ASSERT_EQ(0, pasid_replace(self->fd, self->dev.stdev_id, 200,
				   self->nested_id[1]));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 200,
				 self->nested_id[1]));
	/* The old HWPTs were let go: they can be destroyed. */
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[0]));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 200));

	/* The mock refuses to switch PASID 1024: the old HWPT stays. */
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id,
				  IOMMU_TEST_PASID_RESERVED, self->s2_id));
	EXPECT_ERRNO(ENOMEM, pasid_replace(self->fd, self->dev.stdev_id,
					   IOMMU_TEST_PASID_RESERVED,
					   self->nested_id[1]));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id,
				 IOMMU_TEST_PASID_RESERVED, self->s2_id));
	/* And the failed target was not left with a use of it. */
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id,
				  IOMMU_TEST_PASID_RESERVED));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[1]));
}

TEST_F(pasid, detach_of_a_pasid_that_is_not_attached_succeeds)
{
	EXPECT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 300));
	EXPECT_EQ(0, pasid_detach(self->fd, self->plain.stdev_id, 300));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 300,
				  self->s2_id));
	EXPECT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 300));
	EXPECT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 300));
	EXPECT_ERRNO(ENOENT, pasid_detach(self->fd, NO_SUCH_ID, 300));
}

TEST_F(pasid, a_hwpt_a_pasid_uses_is_ebusy_to_destroy)
{
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100,
				  self->nested_id[0]));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 101,
				  self->nested_id[0]));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->nested_id[0]));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 100));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->nested_id[0]));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 101));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[0]));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[1]));
	ASSERT_EQ(0, destroy(self->fd, self->parent_id));
}

TEST_F(pasid, unplugging_the_device_lets_go_of_its_pasids_hwpts)
{
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100,
				  self->s2_id));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 101,
				  self->nested_id[0]));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 102,
				  self->nested_id[1]));
	ASSERT_EQ(0, destroy(self->fd, self->dev.stdev_id));
	EXPECT_ERRNO(ENOENT, pasid_check(self->fd, self->dev.stdev_id, 100, 0));
	/* The plain device still uses its automatic HWPT; these are free. */
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[0]));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[1]));
	ASSERT_EQ(0, destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, destroy(self->fd, self->s2_id));
}

/*
 * Closing the context with PASIDs attached: the device's unplug lets go
 * of them, whatever order the objects go in (the runner then sees the
 * module's references at zero, kmemleak nothing, the harness VmPin back).
 */
TEST_F(pasid, closing_the_context_with_pasids_attached_frees_everything)
{
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 1,
				  self->s2_id));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 2,
				  self->nested_id[0]));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id,
				  MOCK_PASIDS - 1, self->nested_id[1]));
}

TEST_F(pasid, hwpt_alloc_takes_the_pasid_flag_on_every_kind)
{
	uint32_t id;

	/* A device without PASIDs may make (and use) one too. */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->plain.idev_id, self->ioas_id,
				HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT,
				&id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->plain.stdev_id, id,
				      NULL));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->plain.stdev_id,
				  self->ioas_id, NULL));
	ASSERT_EQ(0, destroy(self->fd, id));
	/* Flags past the known ones stay EOPNOTSUPP. */
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc(self->fd, self->dev.idev_id,
					    self->ioas_id, 1u << 4, &id));
	EXPECT_ERRNO(EOPNOTSUPP, nested_alloc(self->fd, self->dev.idev_id,
					      self->parent_id,
					      HWPT_ALLOC_PASID | 1u << 4, 0,
					      &id));
}

TEST_F(pasid, the_dkms_ioctl_does_the_same_by_dev_id)
{
	struct iommufd_dkms_device_pasid cmd = {
		.size = sizeof(cmd),
		.dev_id = self->dev.idev_id,
		.pasid = 7,
		.pt_id = self->s2_id,
	};
	uint32_t pt_id = self->s2_id;

	ASSERT_EQ(0, dkms_pasid(self->fd, self->dev.idev_id,
				IOMMUFD_DKMS_PASID_ATTACH, 7, &pt_id));
	EXPECT_EQ(self->s2_id, pt_id);
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 7, self->s2_id));
	EXPECT_ERRNO(EBUSY, dkms_pasid(self->fd, self->dev.idev_id,
				       IOMMUFD_DKMS_PASID_ATTACH, 7, &pt_id));
	pt_id = self->nested_id[0];
	ASSERT_EQ(0, dkms_pasid(self->fd, self->dev.idev_id,
				IOMMUFD_DKMS_PASID_REPLACE, 7, &pt_id));
	EXPECT_EQ(self->nested_id[0], pt_id);
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 7,
				 self->nested_id[0]));
	ASSERT_EQ(0, dkms_pasid(self->fd, self->dev.idev_id,
				IOMMUFD_DKMS_PASID_DETACH, 7, NULL));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 7, 0));
	EXPECT_ERRNO(EINVAL, dkms_pasid(self->fd, self->dev.idev_id,
					IOMMUFD_DKMS_PASID_REPLACE, 7, &pt_id));

	/* Its own argument: an unknown op or a reserved word, a dev_id. */
	cmd.op = IOMMUFD_DKMS_PASID_DETACH + 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMUFD_DKMS_DEVICE_PASID,
				       &cmd));
	cmd.op = IOMMUFD_DKMS_PASID_ATTACH;
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMUFD_DKMS_DEVICE_PASID,
				       &cmd));
	cmd.__reserved = 0;
	cmd.size = offsetof(struct iommufd_dkms_device_pasid, __reserved);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMUFD_DKMS_DEVICE_PASID, &cmd));
	cmd.size = sizeof(cmd);
	cmd.dev_id = self->dev.stdev_id;
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, IOMMUFD_DKMS_DEVICE_PASID, &cmd));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 7, 0));
}

#ifdef IOMMU_VIOMMU_ALLOC
/*
 * A nested HWPT made through a vIOMMU serves a PASID as one made on the
 * nest parent (upstream's kselftest allocates one); the device needs no
 * vDEVICE for a PASID, whose entry the mock keeps in its PASID table.
 */
TEST_F(pasid, a_nested_hwpt_of_a_viommu_serves_a_pasid)
{
	struct iommu_viommu_alloc cmd = {
		.size = sizeof(cmd),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
		.dev_id = self->dev.idev_id,
		.hwpt_id = self->parent_id,
	};
	uint32_t id;

	ASSERT_EQ(0, ioctl(self->fd, IOMMU_VIOMMU_ALLOC, &cmd));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  cmd.out_viommu_id, HWPT_ALLOC_PASID, 0, &id));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 100, id));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 100, id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, cmd.out_viommu_id));
	ASSERT_EQ(0, pasid_replace(self->fd, self->dev.stdev_id, 100,
				   self->nested_id[0]));
	ASSERT_EQ(0, destroy(self->fd, id));
	ASSERT_EQ(0, destroy(self->fd, cmd.out_viommu_id));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 100));
}
#endif

/* --- page requests with a PASID ------------------------------------------- */

static int fault_alloc(int fd, uint32_t *fault_id, int *fault_fd)
{
	struct iommu_fault_alloc cmd = { .size = sizeof(cmd) };
	int rc = ioctl(fd, IOMMU_FAULT_QUEUE_ALLOC, &cmd);

	if (!rc) {
		*fault_id = cmd.out_fault_id;
		*fault_fd = cmd.out_fault_fd;
	}
	return rc;
}

static int trigger(int fd, uint32_t idev_id, uint32_t pasid, uint32_t grpid)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_TRIGGER_IOPF,
		.trigger_iopf = {
			.dev_id = idev_id,
			.pasid = pasid,
			.grpid = grpid,
			.perm = IOMMU_PGFAULT_PERM_READ,
			.addr = BASE,
		},
	};

	return test_cmd(fd, &cmd);
}

TEST_F(pasid, a_page_request_with_a_pasid_reaches_that_pasids_queue)
{
	struct iommu_hwpt_page_response resp = {
		.code = IOMMUFD_PAGE_RESP_SUCCESS,
	};
	struct iommu_hwpt_pgfault rec;
	uint32_t fault_id, iopf_id;
	int fault_fd;

	ASSERT_EQ(0, fault_alloc(self->fd, &fault_id, &fault_fd));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, HWPT_ALLOC_PASID, fault_id,
				  &iopf_id));
	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 2048,
				  iopf_id));

	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 2048, 5));
	ASSERT_EQ((ssize_t)REC, read(fault_fd, &rec, sizeof(rec)));
	EXPECT_EQ(IOMMU_PGFAULT_FLAGS_PASID_VALID |
		  IOMMU_PGFAULT_FLAGS_LAST_PAGE, rec.flags);
	EXPECT_EQ(2048, rec.pasid);
	EXPECT_EQ(self->dev.idev_id, rec.dev_id);
	EXPECT_EQ(5, rec.grpid);
	EXPECT_EQ(BASE, rec.addr);
	resp.cookie = rec.cookie;
	ASSERT_EQ((ssize_t)sizeof(resp), write(fault_fd, &resp, sizeof(resp)));

	/*
	 * Neither another PASID (nothing attached, and the device itself is
	 * on a paging HWPT), nor a request without one, reaches this queue.
	 */
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 2049, 6));
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 0, 7));
	EXPECT_EQ(0, read(fault_fd, &rec, sizeof(rec)));

	/* A request left unanswered goes with the PASID's attachment. */
	ASSERT_EQ(0, trigger(self->fd, self->dev.idev_id, 2048, 8));
	ASSERT_EQ(0, pasid_replace(self->fd, self->dev.stdev_id, 2048,
				   self->s2_id));
	EXPECT_EQ(0, read(fault_fd, &rec, sizeof(rec)));
	EXPECT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 2048,
				 self->s2_id));
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 2048));
	ASSERT_EQ(0, destroy(self->fd, iopf_id));
	ASSERT_EQ(0, close(fault_fd));
	ASSERT_EQ(0, destroy(self->fd, fault_id));
}

/* --- races ---------------------------------------------------------------- */

struct race {
	int fd;
	uint32_t stdev_id;
	uint32_t pt_id;
	uint32_t other_id;
	int stop;		/* __atomic: set by the main thread */
	long ok, failed, unexpected;
};

/* Attach PASIDs 1..64 over and over until the device is gone. */
static void *attach_until_gone(void *arg)
{
	struct race *r = arg;
	uint32_t pasid = 1;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (!pasid_attach(r->fd, r->stdev_id, pasid, r->pt_id))
			r->ok++;
		else if (errno == ENOENT)
			break;
		else if (errno != EBUSY)
			r->unexpected++;
		pasid = pasid % 64 + 1;
	}
	return NULL;
}

/*
 * IOMMU_DESTROY of a mock device (its unbind) while a thread attaches its
 * PASIDs: every attach either finished before the unbind, whose detach
 * then let go of its HWPT, or found the device gone.  The HWPT must end
 * with no use left (IOMMU_DESTROY succeeds).  On a working module this
 * hit the window (attaches succeeding in the rounds' last milliseconds)
 * in nearly every round under TCG.
 */
TEST_F_TIMEOUT(pasid, race_pasid_attach_against_device_unbind, 300)
{
	struct race r = { .fd = self->fd, .pt_id = self->s2_id };
	unsigned int round;
	long attached = 0;

	for (round = 0; round < 200; round++) {
		struct mock_dev d;
		pthread_t t;

		ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->s2_id,
					 MOCK_FLAGS_DEVICE_PASID, &d));
		r.stdev_id = d.stdev_id;
		__atomic_store_n(&r.stop, 0, __ATOMIC_RELAXED);
		r.ok = 0;
		ASSERT_EQ(0, pthread_create(&t, NULL, attach_until_gone, &r));
		usleep(round % 7 * 100);
		/* Busy while the thread's op holds the device: retry. */
		while (destroy(self->fd, d.stdev_id))
			ASSERT_EQ(EBUSY, errno);
		ASSERT_EQ(0, pthread_join(t, NULL));
		attached += r.ok;
		ASSERT_EQ(0, r.unexpected);
	}
	TEST_LOG("%ld PASID attaches won against the unbind", attached);
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				  self->ioas_id, NULL));
	ASSERT_EQ(0, destroy(self->fd, self->s2_id));
}

/* Move one PASID between two HWPTs until told to stop. */
static void *replace_back_and_forth(void *arg)
{
	struct race *r = arg;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (!pasid_replace(r->fd, r->stdev_id, 9, r->other_id))
			r->ok++;
		else if (errno == ENOENT)
			r->failed++;
		else
			r->unexpected++;
		if (pasid_replace(r->fd, r->stdev_id, 9, r->pt_id))
			r->unexpected++;
	}
	return NULL;
}

/*
 * IOMMU_DESTROY of a HWPT while a thread moves a PASID onto it and back:
 * the destroy succeeds only while the PASID is elsewhere (EBUSY else), and
 * a move onto it once it is gone is ENOENT.  Each round ends with the
 * PASID on s2 and the nested HWPT gone: no use lost or leaked.  The
 * destroy met a PASID on the HWPT (EBUSY) in most rounds here.
 */
TEST_F_TIMEOUT(pasid, race_pasid_replace_against_hwpt_destroy, 300)
{
	struct race r = { .fd = self->fd, .stdev_id = self->dev.stdev_id,
			  .pt_id = self->s2_id };
	unsigned int round;
	long busy = 0;

	ASSERT_EQ(0, pasid_attach(self->fd, self->dev.stdev_id, 9,
				  self->s2_id));
	for (round = 0; round < 200; round++) {
		pthread_t t;

		ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
					  self->parent_id, HWPT_ALLOC_PASID, 0,
					  &r.other_id));
		__atomic_store_n(&r.stop, 0, __ATOMIC_RELAXED);
		ASSERT_EQ(0, pthread_create(&t, NULL, replace_back_and_forth,
					    &r));
		usleep(round % 5 * 100);
		while (destroy(self->fd, r.other_id)) {
			ASSERT_EQ(EBUSY, errno);
			busy++;
		}
		__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
		ASSERT_EQ(0, pthread_join(t, NULL));
		ASSERT_EQ(0, r.unexpected);
		ASSERT_EQ(0, pasid_check(self->fd, self->dev.stdev_id, 9,
					 self->s2_id));
	}
	TEST_LOG("%ld moves onto the HWPT, %ld destroys met it in use",
		 r.ok, busy);
	ASSERT_EQ(0, pasid_detach(self->fd, self->dev.stdev_id, 9));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[0]));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id[1]));
	ASSERT_EQ(0, destroy(self->fd, self->parent_id));
}

/* --- a real device: QEMU's edu behind iommufd_vfio ------------------------ */

FIXTURE(edu_pasid)
{
	struct edu edu;
	int iommufd;
	uint32_t dev_id;
	uint32_t ioas_id;
};

FIXTURE_SETUP(edu_pasid)
{
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	char bdf[32];

	if (access("/sys/module/iommufd_vfio", F_OK))
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
	ASSERT_EQ(0, edu_open(&self->edu, VFIO_IOMMUFD_DKMS_IOMMU));
	self->iommufd = iommufd_open();
	link.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_LINK,
			   &link));
	ASSERT_EQ(0, ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list));
	ASSERT_EQ(1, list.num_devices);
	self->dev_id = dev.dev_id;
	self->ioas_id = ioas_alloc(self->iommufd);
	ASSERT_EQ(0, edu_open_device(&self->edu));
}

FIXTURE_TEARDOWN(edu_pasid)
{
	edu_close(&self->edu);
	close(self->iommufd);
}

/*
 * edu has no PCIe PASID capability: the IOMMU core gives it no PASIDs
 * (out_max_pasid_log2 0, under VT-d and AMD-Vi alike), and every PASID
 * attach is EINVAL, upstream's answer for a device without PASIDs, while
 * a PASID-compatible HWPT still serves the device itself.
 */
TEST_F(edu_pasid, a_device_without_pasids_refuses_every_pasid)
{
	uint32_t s2_id, pt_id;
	int width;

	width = max_pasid_log2(self->iommufd, self->dev_id);
	TEST_LOG("edu: out_max_pasid_log2 %d", width);
	ASSERT_EQ(0, width);
	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->dev_id, self->ioas_id,
				HWPT_ALLOC_PASID, &s2_id));
	pt_id = s2_id;
	ASSERT_EQ(0, dkms_pasid(self->iommufd, self->dev_id,
				IOMMUFD_DKMS_PASID_ATTACH, 0, &pt_id));
	EXPECT_ERRNO(EINVAL, dkms_pasid(self->iommufd, self->dev_id,
					IOMMUFD_DKMS_PASID_ATTACH, 1, &pt_id));
	EXPECT_ERRNO(EINVAL, dkms_pasid(self->iommufd, self->dev_id,
					IOMMUFD_DKMS_PASID_REPLACE, 1, &pt_id));
	EXPECT_EQ(0, dkms_pasid(self->iommufd, self->dev_id,
				IOMMUFD_DKMS_PASID_DETACH, 1, NULL));
	ASSERT_EQ(0, dkms_pasid(self->iommufd, self->dev_id,
				IOMMUFD_DKMS_PASID_DETACH, 0, NULL));
	ASSERT_EQ(0, destroy(self->iommufd, s2_id));
}

TEST_HARNESS_MAIN
