// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty tracking through the public ABI: IOMMU_HWPT_ALLOC with
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING, IOMMU_HWPT_SET_DIRTY_TRACKING,
 * IOMMU_HWPT_GET_DIRTY_BITMAP, the IOMMU_HW_CAP_DIRTY_TRACKING bit of
 * IOMMU_GET_HW_INFO, and the self-test's IOMMU_TEST_OP_DIRTY, which plays
 * a device writing to IOVAs of a mock domain.
 *
 * Upstream's answers (drivers/iommu/iommufd/ of 6.12: hw_pagetable.c,
 * io_pagetable.c, selftest.c): a device whose IOMMU cannot track dirty
 * pages (the mock's MOCK_FLAGS_DEVICE_NO_DIRTY) gets EOPNOTSUPP for a
 * dirty HWPT and EINVAL when attached to one; SET and GET answer
 * EOPNOTSUPP for unknown flags and for a HWPT made without the flag,
 * ENOENT for an id that is no paging HWPT; GET checks length (EINVAL for
 * 0), overflow (EOVERFLOW), the alignment of both ends to the IOAS's and
 * to page_size (EINVAL), and its drivers refuse a read while tracking is
 * off (EINVAL).  Where 6.12 drops an error of the walk (a range with an
 * unmapped hole, a bitmap it cannot write) and answers 0, iommufd-dkms
 * reports it (EINVAL, EFAULT), and it requires page_size to be a power of
 * two (upstream silently uses its lowest set bit).
 *
 * The mock tests need the module loaded with selftest=1 (else they skip);
 * the edu tests need QEMU's edu device and iommufd_vfio, and show the host
 * driver's own answer to a dirty HWPT.
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
#include <linux/iommufd_dkms.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "iommufd_mock.h"
#include "vfio_edu.h"

#define NO_SUCH_ID	0x7fffff00u
#define BASE		((uint64_t)MOCK_APERTURE_START)
#define MPAGE		((uint64_t)MOCK_PAGE_SIZE)
/* The buffer: 256 mock pages, so a bitmap of 4 __u64. */
#define BUF_BYTES	(128 * PAGE)
#define BUF_BITS	(BUF_BYTES / MOCK_PAGE_SIZE)

/* --- the ioctls ----------------------------------------------------------- */

static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		      uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc && out_hwpt_id)
		*out_hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static uint64_t hw_caps(int fd, uint32_t dev_id)
{
	struct iommu_hw_info cmd = { .size = sizeof(cmd), .dev_id = dev_id };

	ASSERT_EQ(0, ioctl(fd, IOMMU_GET_HW_INFO, &cmd));
	return cmd.out_capabilities;
}

static int set_tracking(int fd, uint32_t hwpt_id, bool enable)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = enable ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt_id,
	};

	return ioctl(fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd);
}

static int get_bitmap(int fd, uint32_t hwpt_id, uint64_t iova,
		      uint64_t length, uint64_t page_size, void *data,
		      uint32_t flags)
{
	struct iommu_hwpt_get_dirty_bitmap cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.flags = flags,
		.iova = iova,
		.length = length,
		.page_size = page_size,
		.data = (uintptr_t)data,
	};

	return ioctl(fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd);
}

/* IOMMU_TEST_OP_DIRTY: "the device writes" where @bits has a bit set. */
static int mock_write(int fd, uint32_t hwpt_id, uint64_t iova,
		      uint64_t length, uint64_t page_size, const void *bits,
		      uint64_t *out_nr)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_DIRTY,
		.id = hwpt_id,
		.dirty = {
			.iova = iova,
			.length = length,
			.page_size = page_size,
			.uptr = (uintptr_t)bits,
		},
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc && out_nr)
		*out_nr = cmd.dirty.out_nr_dirty;
	return rc;
}

static bool test_bit64(const uint8_t *bitmap, uint64_t n)
{
	return bitmap[n / 8] & (1u << (n % 8));
}

static void set_bit64(uint8_t *bitmap, uint64_t n)
{
	bitmap[n / 8] |= 1u << (n % 8);
}

/* --- a mock device, an IOAS with the buffer mapped, a dirty HWPT on it ---- */

FIXTURE(dirty)
{
	int fd;
	uint32_t ioas_id;
	struct mock_dev dev;	/* a device that can track dirty pages */
	uint32_t hwpt_id;	/* IOMMU_HWPT_ALLOC_DIRTY_TRACKING, on ioas_id */
	uint8_t *buf;		/* BUF_BYTES, mapped at BASE */
	uint8_t *bitmap;	/* two pages, for unaligned bitmaps */
	uint8_t marks[BUF_BITS / 8];
};

FIXTURE_SETUP(dirty)
{
	self->fd = iommufd_open();
	if (!selftest_available(self->fd)) {
		close(self->fd);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	self->ioas_id = ioas_alloc(self->fd);
	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->ioas_id, 0,
					&self->dev));
	self->buf = alloc_buffer(BUF_BYTES);
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf,
				    BUF_BYTES, BASE));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				&self->hwpt_id));
	self->bitmap = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->bitmap);
	memset(self->marks, 0, sizeof(self->marks));
}

FIXTURE_TEARDOWN(dirty)
{
	ASSERT_EQ(0, close(self->fd));
	free_buffer(self->buf, BUF_BYTES);
	ASSERT_EQ(0, munmap(self->bitmap, 2 * PAGE));
}

/* Mark mock pages @first, @first + @step, ... dirty; returns how many. */
static uint64_t write_every(struct ih__data_dirty *self, uint64_t first,
			    uint64_t step)
{
	uint64_t nr = 0, expect = 0;

	memset(self->marks, 0, sizeof(self->marks));
	for (uint64_t n = first; n < BUF_BITS; n += step) {
		set_bit64(self->marks, n);
		expect++;
	}
	ASSERT_EQ(0, mock_write(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->marks, &nr));
	ASSERT_EQ(expect, nr);
	return nr;
}

/* The bitmap at @bitmap holds exactly the bits of self->marks. */
static void expect_marks(struct ih__data_dirty *self, const uint8_t *bitmap)
{
	for (uint64_t n = 0; n < BUF_BITS; n++)
		ASSERT_EQ(test_bit64(self->marks, n), test_bit64(bitmap, n));
}

/* --- what the mock offers, and to whom ----------------------------------- */

/* #8 item 15: reported exactly where a dirty HWPT can be had. */
TEST_F(dirty, hw_info_reports_dirty_tracking_for_a_plain_mock_device)
{
	EXPECT_EQ(IOMMU_HW_CAP_DIRTY_TRACKING,
		  hw_caps(self->fd, self->dev.idev_id) &
			  IOMMU_HW_CAP_DIRTY_TRACKING);
}

/* #8 item 19: MOCK_FLAGS_DEVICE_NO_DIRTY is honoured (EOPNOTSUPP). */
TEST_F(dirty, no_dirty_device_reports_no_capability_and_gets_no_dirty_hwpt)
{
	uint32_t ioas_id = ioas_alloc(self->fd), hwpt_id;
	struct mock_dev nd;

	ASSERT_EQ(0, mock_dev_add_flags(self->fd, ioas_id,
					MOCK_FLAGS_DEVICE_NO_DIRTY, &nd));
	EXPECT_EQ(0, hw_caps(self->fd, nd.idev_id) &
			     IOMMU_HW_CAP_DIRTY_TRACKING);
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc(self->fd, nd.idev_id, ioas_id,
					    IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
					    &hwpt_id));
	/* A plain HWPT is still fine. */
	ASSERT_EQ(0, hwpt_alloc(self->fd, nd.idev_id, ioas_id, 0, &hwpt_id));
	EXPECT_ERRNO(EOPNOTSUPP, set_tracking(self->fd, hwpt_id, true));
	EXPECT_EQ(0, destroy(self->fd, hwpt_id));
	EXPECT_EQ(0, destroy(self->fd, nd.stdev_id));
}

/* Upstream's mock_domain_nop_attach(): EINVAL, and the HWPT stays usable. */
TEST_F(dirty, no_dirty_device_cannot_attach_to_a_dirty_hwpt)
{
	struct mock_dev nd, other;

	EXPECT_ERRNO(EINVAL, mock_dev_add_flags(self->fd, self->hwpt_id,
						MOCK_FLAGS_DEVICE_NO_DIRTY,
						&nd));
	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->hwpt_id, 0, &other));
	EXPECT_EQ(self->hwpt_id, other.hwpt_id);
	EXPECT_EQ(0, destroy(self->fd, other.stdev_id));
}

/* Flags beside DIRTY_TRACKING are not offered (EOPNOTSUPP). */
TEST_F(dirty, hwpt_alloc_refuses_other_flags_beside_dirty_tracking)
{
	uint32_t hwpt_id;

	EXPECT_ERRNO(EOPNOTSUPP,
		     hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_DIRTY_TRACKING | (1u << 7),
				&hwpt_id));
}

/* --- IOMMU_HWPT_SET_DIRTY_TRACKING --------------------------------------- */

TEST_F(dirty, set_dirty_tracking_turns_on_and_off_repeatedly)
{
	EXPECT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	EXPECT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	EXPECT_EQ(0, set_tracking(self->fd, self->hwpt_id, false));
	EXPECT_EQ(0, set_tracking(self->fd, self->hwpt_id, false));
	EXPECT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
}

TEST_F(dirty, set_dirty_tracking_checks_size_flags_and_ids)
{
	struct {
		struct iommu_hwpt_set_dirty_tracking cmd;
		uint64_t tail;
	} big = {
		.cmd = {
			.size = sizeof(big),
			.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
			.hwpt_id = self->hwpt_id,
		},
		.tail = 1,
	};
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd) - 1,
		.hwpt_id = self->hwpt_id,
	};

	/* Shorter than its last mandatory field, __reserved: EINVAL. */
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_HWPT_SET_DIRTY_TRACKING,
				   &cmd));
	/* Non-zero bytes past what the kernel knows: E2BIG. */
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_HWPT_SET_DIRTY_TRACKING,
				  &big));
	big.tail = 0;
	EXPECT_EQ(0, ioctl(self->fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &big));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_HWPT_SET_DIRTY_TRACKING,
				   NULL));

	cmd.size = sizeof(cmd);
	cmd.flags = 2;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_HWPT_SET_DIRTY_TRACKING,
				       &cmd));
	EXPECT_ERRNO(ENOENT, set_tracking(self->fd, NO_SUCH_ID, true));
	/* Objects that are no paging HWPT: ENOENT, as upstream's lookup. */
	EXPECT_ERRNO(ENOENT, set_tracking(self->fd, self->ioas_id, true));
	EXPECT_ERRNO(ENOENT, set_tracking(self->fd, self->dev.idev_id, true));
	EXPECT_ERRNO(ENOENT, set_tracking(self->fd, self->dev.stdev_id, true));
	/* A HWPT made without the flag: EOPNOTSUPP, either way. */
	EXPECT_ERRNO(EOPNOTSUPP, set_tracking(self->fd, self->dev.hwpt_id,
					      true));
	EXPECT_ERRNO(EOPNOTSUPP, set_tracking(self->fd, self->dev.hwpt_id,
					      false));
}

/* --- IOMMU_HWPT_GET_DIRTY_BITMAP: arguments ------------------------------ */

TEST_F(dirty, get_dirty_bitmap_checks_size_flags_and_ids)
{
	struct {
		struct iommu_hwpt_get_dirty_bitmap cmd;
		uint64_t tail;
	} big = {
		.cmd = {
			.size = sizeof(big),
			.hwpt_id = self->hwpt_id,
			.iova = BASE,
			.length = BUF_BYTES,
			.page_size = MPAGE,
			.data = (uintptr_t)self->bitmap,
		},
		.tail = 1,
	};
	struct iommu_hwpt_get_dirty_bitmap cmd = big.cmd;

	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	cmd.size = offsetof(struct iommu_hwpt_get_dirty_bitmap, data);
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, IOMMU_HWPT_GET_DIRTY_BITMAP,
				   &cmd));
	EXPECT_ERRNO(E2BIG, ioctl(self->fd, IOMMU_HWPT_GET_DIRTY_BITMAP,
				  &big));
	big.tail = 0;
	EXPECT_EQ(0, ioctl(self->fd, IOMMU_HWPT_GET_DIRTY_BITMAP, &big));
	EXPECT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_HWPT_GET_DIRTY_BITMAP,
				   NULL));

	cmd.size = sizeof(cmd);
	cmd.flags = 2;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_HWPT_GET_DIRTY_BITMAP,
				       &cmd));
	cmd.flags = 0;
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_HWPT_GET_DIRTY_BITMAP,
				       &cmd));
	EXPECT_ERRNO(ENOENT, get_bitmap(self->fd, NO_SUCH_ID, BASE, BUF_BYTES,
					MPAGE, self->bitmap, 0));
	EXPECT_ERRNO(ENOENT, get_bitmap(self->fd, self->ioas_id, BASE,
					BUF_BYTES, MPAGE, self->bitmap, 0));
	EXPECT_ERRNO(ENOENT, get_bitmap(self->fd, self->dev.idev_id, BASE,
					BUF_BYTES, MPAGE, self->bitmap, 0));
	/* Made without the flag. */
	EXPECT_ERRNO(EOPNOTSUPP, get_bitmap(self->fd, self->dev.hwpt_id, BASE,
					    BUF_BYTES, MPAGE, self->bitmap,
					    0));
}

TEST_F(dirty, get_dirty_bitmap_checks_the_range_and_page_size)
{
	uint8_t *bm = self->bitmap;
	int fd = self->fd;
	uint32_t id = self->hwpt_id;

	ASSERT_EQ(0, set_tracking(fd, id, true));
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE, 0, MPAGE, bm, 0));
	/* iova + length - 1 past 2^64 - 1. */
	EXPECT_ERRNO(EOVERFLOW, get_bitmap(fd, id, BASE, -BASE + MPAGE, MPAGE,
					   bm, 0));
	EXPECT_ERRNO(EOVERFLOW, get_bitmap(fd, id, ~0ULL, 2, 1, bm, 0));
	/* Ends off the IOAS's alignment (the mock page). */
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE + 1, MPAGE, MPAGE, bm,
					0));
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE, MPAGE + 8, 8, bm, 0));
	/* page_size: zero, not a power of two, larger than the ends allow. */
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE, BUF_BYTES, 0, bm, 0));
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE, 3 * MPAGE, 3 * MPAGE,
					bm, 0));
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE + MPAGE, 2 * MPAGE,
					2 * MPAGE, bm, 0));
	/* Past the mapping, and a range of nearly 2^64 bytes: EINVAL. */
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE, BUF_BYTES + MPAGE,
					MPAGE, bm, 0));
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE, -BASE, 1, bm, 0));
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, 0, ~0ULL, 1, bm, 0));
	/* A page_size the ends are not aligned to; the range's own size. */
	EXPECT_ERRNO(EINVAL, get_bitmap(fd, id, BASE, BUF_BYTES, 1ULL << 63,
					bm, 0));
	EXPECT_EQ(0, get_bitmap(fd, id, BASE, BUF_BYTES, BUF_BYTES, bm, 0));
}

/* Upstream's drivers: no reading while tracking is off (EINVAL). */
TEST_F(dirty, get_dirty_bitmap_refuses_while_tracking_is_off)
{
	EXPECT_ERRNO(EINVAL, get_bitmap(self->fd, self->hwpt_id, BASE,
					BUF_BYTES, MPAGE, self->bitmap, 0));
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	EXPECT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, false));
	EXPECT_ERRNO(EINVAL, get_bitmap(self->fd, self->hwpt_id, BASE,
					BUF_BYTES, MPAGE, self->bitmap, 0));
}

/*
 * A bitmap the kernel cannot write: EFAULT, and the dirty state behind it
 * is not cleared (a good bitmap then still gets every bit).
 */
TEST_F(dirty, get_dirty_bitmap_refuses_bad_bitmaps_without_losing_bits)
{
	uint8_t *ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
			   -1, 0);
	uint8_t *gone = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int fd = self->fd;
	uint32_t id = self->hwpt_id;

	ASSERT_NE(MAP_FAILED, ro);
	ASSERT_NE(MAP_FAILED, gone);
	ASSERT_EQ(0, munmap(gone, PAGE));
	ASSERT_EQ(0, set_tracking(fd, id, true));
	write_every(self, 3, 7);

	EXPECT_ERRNO(EFAULT, get_bitmap(fd, id, BASE, BUF_BYTES, MPAGE, NULL,
					0));
	EXPECT_ERRNO(EFAULT, get_bitmap(fd, id, BASE, BUF_BYTES, MPAGE, ro, 0));
	EXPECT_ERRNO(EFAULT, get_bitmap(fd, id, BASE, BUF_BYTES, MPAGE, gone,
					0));
	/* A kernel address. */
	EXPECT_ERRNO(EFAULT, get_bitmap(fd, id, BASE, BUF_BYTES, MPAGE,
					(void *)0xffff888000000000ULL, 0));
	/* Straddling into the read-only page: the window is refused whole. */
	EXPECT_ERRNO(EFAULT, get_bitmap(fd, id, BASE, BUF_BYTES, MPAGE,
					ro - 8, 0));

	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(fd, id, BASE, BUF_BYTES, MPAGE, self->bitmap,
				0));
	expect_marks(self, self->bitmap);
	ASSERT_EQ(0, munmap(ro, PAGE));
}

/* --- IOMMU_HWPT_GET_DIRTY_BITMAP: what it reports ------------------------ */

/* Reading clears: a second read finds nothing. */
TEST_F(dirty, get_dirty_bitmap_reports_the_writes_and_clears_them)
{
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 0, 2);
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	expect_marks(self, self->bitmap);

	memset(self->marks, 0, sizeof(self->marks));
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	expect_marks(self, self->bitmap);
}

TEST_F(dirty, get_dirty_bitmap_no_clear_leaves_the_state)
{
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 1, 5);
	for (int round = 0; round < 2; round++) {
		memset(self->bitmap, 0, PAGE);
		ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE,
					BUF_BYTES, MPAGE, self->bitmap,
					IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR));
		expect_marks(self, self->bitmap);
	}
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	expect_marks(self, self->bitmap);
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	for (uint64_t n = 0; n < BUF_BITS; n++)
		ASSERT_FALSE(test_bit64(self->bitmap, n));
}

/* Bits already set in the user's bitmap stay set: the kernel only adds. */
TEST_F(dirty, get_dirty_bitmap_only_sets_bits)
{
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 0, 4);
	memset(self->bitmap, 0x22, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	for (uint64_t n = 0; n < BUF_BITS; n++)
		ASSERT_EQ(test_bit64(self->marks, n) || n % 8 == 1 ||
				  n % 8 == 5,
			  test_bit64(self->bitmap, n));
	/* Past the last bit nothing was touched. */
	ASSERT_EQ(0x22, self->bitmap[BUF_BITS / 8]);
}

/*
 * A bitmap at any byte, across a page boundary, with a last __u64 only
 * partly used: each gets exactly the marked bits and nothing around them.
 */
TEST_F(dirty, get_dirty_bitmap_writes_unaligned_bitmaps)
{
	const size_t offsets[] = { 1, 3, 8, 0xff1, PAGE - 5, PAGE - 32 };

	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	for (size_t i = 0; i < sizeof(offsets) / sizeof(offsets[0]); i++) {
		uint8_t *bm = self->bitmap + offsets[i];
		/* 200 bits: three __u64 and a part. */
		uint64_t length = 200 * MPAGE;

		write_every(self, i, 3);
		memset(self->bitmap, 0, 2 * PAGE);
		ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, length,
					MPAGE, bm, 0));
		for (uint64_t n = 0; n < 200; n++)
			ASSERT_EQ(test_bit64(self->marks, n),
				  test_bit64(bm, n));
		for (uint64_t n = 200; n < 208; n++)
			ASSERT_FALSE(test_bit64(bm, n));
		for (size_t b = 0; b < offsets[i]; b++)
			ASSERT_EQ(0, self->bitmap[b]);
		for (size_t b = offsets[i] + 26; b < 2 * PAGE; b++)
			ASSERT_EQ(0, self->bitmap[b]);
		/* Clean up what lies past bit 200 for the next round. */
		ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE,
					BUF_BYTES, MPAGE, self->bitmap, 0));
	}
}

/* A sub-range: bit 0 is @iova, and nothing outside the range is cleared. */
TEST_F(dirty, get_dirty_bitmap_of_a_sub_range_starts_at_its_iova)
{
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 0, 1);
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE + 10 * MPAGE,
				20 * MPAGE, MPAGE, self->bitmap, 0));
	for (uint64_t n = 0; n < 64; n++)
		ASSERT_EQ(n < 20, test_bit64(self->bitmap, n));
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	for (uint64_t n = 0; n < BUF_BITS; n++)
		ASSERT_EQ(n < 10 || n >= 30, test_bit64(self->bitmap, n));
}

/* A bit for several mock pages is set when any of them was written. */
TEST_F(dirty, get_dirty_bitmap_with_larger_pages_ors_them)
{
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 5, 16);	/* one page in each 16 */
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				8 * MPAGE, self->bitmap, 0));
	for (uint64_t n = 0; n < BUF_BITS / 8; n++)
		ASSERT_EQ(n % 2 == 0, test_bit64(self->bitmap, n));
}

/* Several areas end to end are one range; a hole in it is EINVAL. */
TEST_F(dirty, get_dirty_bitmap_spans_areas_and_refuses_holes)
{
	uint64_t half = BUF_BYTES / 2;

	ASSERT_EQ(0, ioas_unmap_range(self->fd, self->ioas_id, BASE,
				      BUF_BYTES));
	/* Two areas, the second mapping memory of its own. */
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf, half,
				    BASE));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf + half,
				    half, BASE + half));
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 2, 9);
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap,
				IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR));
	expect_marks(self, self->bitmap);

	/* The second area goes: its dirty state with it. */
	ASSERT_EQ(0, ioas_unmap_range(self->fd, self->ioas_id, BASE + half,
				      half));
	EXPECT_ERRNO(EINVAL, get_bitmap(self->fd, self->hwpt_id, BASE,
					BUF_BYTES, MPAGE, self->bitmap, 0));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, self->ioas_id, self->buf + half,
				    half, BASE + half));
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	for (uint64_t n = 0; n < BUF_BITS; n++)
		ASSERT_EQ(n < BUF_BITS / 2 && test_bit64(self->marks, n),
			  test_bit64(self->bitmap, n));
}

/* Enabling starts from a clean table (as upstream clears on enable). */
TEST_F(dirty, enabling_again_forgets_earlier_writes)
{
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 0, 3);
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	memset(self->bitmap, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES,
				MPAGE, self->bitmap, 0));
	for (uint64_t n = 0; n < BUF_BITS; n++)
		ASSERT_FALSE(test_bit64(self->bitmap, n));
}

/* One-byte pages: a bitmap of 17 user pages, so two pinned windows. */
TEST_F(dirty, get_dirty_bitmap_of_one_byte_pages_spans_windows)
{
	/* One bit per byte: BUF_BYTES bits, 64 KiB of bitmap. */
	size_t bm_bytes = BUF_BYTES / 8 + PAGE;
	uint8_t *bm = mmap(NULL, bm_bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t per_mpage = MPAGE;

	ASSERT_NE(MAP_FAILED, bm);
	ASSERT_EQ(0, set_tracking(self->fd, self->hwpt_id, true));
	write_every(self, 7, 11);
	/* Off by 3 bytes, so that the windows straddle pages. */
	ASSERT_EQ(0, get_bitmap(self->fd, self->hwpt_id, BASE, BUF_BYTES, 1,
				bm + 3, 0));
	for (uint64_t n = 0; n < BUF_BITS; n++) {
		bool marked = test_bit64(self->marks, n);

		ASSERT_EQ(marked, test_bit64(bm + 3, n * per_mpage));
		ASSERT_EQ(marked, test_bit64(bm + 3, n * per_mpage +
							 per_mpage - 1));
	}
	ASSERT_EQ(0, munmap(bm, bm_bytes));
}

/* --- large leaves ---------------------------------------------------------- */

#define LARGE_PARAM	"/sys/module/iommufd/parameters/mock_large_pages"
#define HUGE_2M		(2UL << 20)

/*
 * A dirty HWPT for a new mock device (@dev_flags) on a new IOAS with one
 * 2 MiB hugetlb page mapped at BASE, with mock_large_pages set to @large
 * while the domain is made; mark mock page 5 written and read the bitmap
 * of the 2 MiB.  Returns how many bits came back set, or -1 to skip.
 */
static long leaf_bits(int fd, uint32_t dev_flags, bool large, uint8_t *bm)
{
	void *huge = mmap(NULL, HUGE_2M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
				  MAP_POPULATE, -1, 0);
	uint32_t ioas_id = ioas_alloc(fd), hwpt_id = 0;
	uint8_t mark[1] = { 1 << 5 };
	struct mock_dev dev;
	uint64_t nr;
	long bits = 0;
	int rc;

	if (huge == MAP_FAILED)
		return -1;
	ASSERT_EQ(0, mock_dev_add_flags(fd, ioas_id, dev_flags, &dev));
	if (large)
		ASSERT_EQ(0, sysfs_write(LARGE_PARAM, "1"));
	rc = hwpt_alloc(fd, dev.idev_id, ioas_id,
			IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt_id);
	if (large)
		ASSERT_EQ(0, sysfs_write(LARGE_PARAM, "0"));
	ASSERT_EQ(0, rc);
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, huge, HUGE_2M, BASE));
	ASSERT_EQ(0, set_tracking(fd, hwpt_id, true));
	ASSERT_EQ(0, mock_write(fd, hwpt_id, BASE, 8 * MPAGE, MPAGE, mark,
				&nr));
	ASSERT_EQ(1, nr);
	memset(bm, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(fd, hwpt_id, BASE, HUGE_2M, MPAGE, bm, 0));
	for (uint64_t n = 0; n < HUGE_2M / MPAGE; n++)
		bits += test_bit64(bm, n);
	/* Exactly the leaf around page 5, whatever its size. */
	ASSERT_GT(bits, 0);
	for (uint64_t n = 0; n < HUGE_2M / MPAGE; n++)
		ASSERT_EQ(n / bits == 5 / (uint64_t)bits, test_bit64(bm, n));
	/* Cleared with it. */
	memset(bm, 0, PAGE);
	ASSERT_EQ(0, get_bitmap(fd, hwpt_id, BASE, HUGE_2M, MPAGE, bm, 0));
	for (uint64_t n = 0; n < HUGE_2M / MPAGE; n++)
		ASSERT_FALSE(test_bit64(bm, n));
	EXPECT_EQ(0, destroy(fd, hwpt_id));
	EXPECT_EQ(0, destroy(fd, dev.stdev_id));
	EXPECT_EQ(0, ioas_unmap_range(fd, ioas_id, BASE, HUGE_2M));
	EXPECT_EQ(0, destroy(fd, ioas_id));
	ASSERT_EQ(0, munmap(huge, HUGE_2M));
	return bits;
}

/*
 * As an IOMMU keeps one dirty bit per page table entry, a write anywhere
 * in a large leaf dirties all of it: a mock page alone (1 bit), a
 * MOCK_FLAGS_DEVICE_HUGE_IOVA leaf of MOCK_HUGE_PAGE_SIZE (512 bits, as
 * upstream's huge variants expect).  The 2 MiB pages of mock_large_pages
 * keep a bit per mock page (selftest.c says why): 1 bit.
 */
TEST_F(dirty, a_write_in_a_large_leaf_dirties_the_whole_leaf)
{
	long plain, huge_iova, large;

	if (access(LARGE_PARAM, W_OK))
		SKIP("mock_large_pages is not writable here");
	plain = leaf_bits(self->fd, 0, false, self->bitmap);
	if (plain < 0)
		SKIP("no 2 MiB hugetlb page (vm.nr_hugepages)");
	huge_iova = leaf_bits(self->fd, MOCK_FLAGS_DEVICE_HUGE_IOVA, false,
			      self->bitmap);
	large = leaf_bits(self->fd, 0, true, self->bitmap);
	EXPECT_EQ(1, plain);
	EXPECT_EQ(MOCK_HUGE_PAGE_SIZE / MOCK_PAGE_SIZE, huge_iova);
	EXPECT_EQ(1, large);
}

/*
 * A leaf wider than a pinned window of bitmap: with one-byte pages a 1 MiB
 * leaf is 128 KiB of bitmap, two windows and more; its bits past the
 * window it was found in are set all the same, and nothing past the leaf.
 */
TEST_F(dirty, a_leaf_wider_than_a_bitmap_window_is_reported_whole)
{
	size_t bm_bytes = HUGE_2M / 8 + PAGE;
	uint8_t *bm = mmap(NULL, bm_bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *huge = mmap(NULL, HUGE_2M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
				  MAP_POPULATE, -1, 0);
	uint32_t ioas_id = ioas_alloc(self->fd), hwpt_id = 0;
	/* Mock page 5, in the first of the two 1 MiB leaves. */
	uint8_t mark[1] = { 1 << 5 };
	struct mock_dev dev;
	uint64_t nr;

	ASSERT_NE(MAP_FAILED, bm);
	if (huge == MAP_FAILED)
		SKIP("no 2 MiB hugetlb page (vm.nr_hugepages)");
	ASSERT_EQ(0, mock_dev_add_flags(self->fd, ioas_id,
					MOCK_FLAGS_DEVICE_HUGE_IOVA, &dev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, dev.idev_id, ioas_id,
				IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt_id));
	ASSERT_EQ(0, ioas_map_fixed(self->fd, ioas_id, huge, HUGE_2M, BASE));
	ASSERT_EQ(0, set_tracking(self->fd, hwpt_id, true));
	ASSERT_EQ(0, mock_write(self->fd, hwpt_id, BASE, 8 * MPAGE, MPAGE,
				mark, &nr));
	ASSERT_EQ(1, nr);
	/* Three bytes in, so that no window starts on the leaf's bit 0. */
	ASSERT_EQ(0, get_bitmap(self->fd, hwpt_id, BASE, HUGE_2M, 1, bm + 3,
				0));
	for (uint64_t b = 0; b < HUGE_2M / 8; b++)
		ASSERT_EQ(b < MOCK_HUGE_PAGE_SIZE / 8 ? 0xff : 0, bm[3 + b]);
	EXPECT_EQ(0, bm[0]);
	EXPECT_EQ(0, destroy(self->fd, hwpt_id));
	EXPECT_EQ(0, destroy(self->fd, dev.stdev_id));
	ASSERT_EQ(0, munmap(huge, HUGE_2M));
	ASSERT_EQ(0, munmap(bm, bm_bytes));
}

/* --- IOMMU_TEST_OP_DIRTY -------------------------------------------------- */

TEST_F(dirty, mock_dirty_op_checks_its_arguments)
{
	uint64_t nr;
	int fd = self->fd;
	uint32_t id = self->hwpt_id;

	/* Tracking off: the device writes leave no trace (EINVAL). */
	EXPECT_ERRNO(EINVAL, mock_write(fd, id, BASE, BUF_BYTES, MPAGE,
					self->marks, &nr));
	ASSERT_EQ(0, set_tracking(fd, id, true));
	EXPECT_ERRNO(EINVAL, mock_write(fd, id, BASE, 0, MPAGE, self->marks,
					&nr));
	EXPECT_ERRNO(EINVAL, mock_write(fd, id, BASE, BUF_BYTES, 0,
					self->marks, &nr));
	EXPECT_ERRNO(EINVAL, mock_write(fd, id, BASE + 1, BUF_BYTES, MPAGE,
					self->marks, &nr));
	EXPECT_ERRNO(EINVAL, mock_write(fd, id, BASE, BUF_BYTES + 1, MPAGE,
					self->marks, &nr));
	EXPECT_ERRNO(EINVAL, mock_write(fd, id, BASE, BUF_BYTES, MPAGE, NULL,
					&nr));
	/* More than 16 MiB of bitmap. */
	EXPECT_ERRNO(EOVERFLOW, mock_write(fd, id, 0, 1ULL << 40, 1,
					   self->marks, &nr));
	EXPECT_ERRNO(EFAULT, mock_write(fd, id, BASE, BUF_BYTES, MPAGE,
					(void *)8, &nr));
	EXPECT_ERRNO(ENOENT, mock_write(fd, NO_SUCH_ID, BASE, BUF_BYTES, MPAGE,
					self->marks, &nr));
	/* Counted are the writes that hit a mapping. */
	memset(self->marks, 0xff, sizeof(self->marks));
	ASSERT_EQ(0, mock_write(fd, id, BASE - 8 * MPAGE, 16 * MPAGE, MPAGE,
				self->marks, &nr));
	EXPECT_EQ(8, nr);
}

/* --- the real driver: QEMU's edu device through iommufd_vfio -------------- */

static int edu_link(struct edu *edu, int iommufd, uint32_t *dev_id)
{
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};
	struct iommufd_dkms_vfio_link link = {
		.size = sizeof(link),
		.iommufd = iommufd,
	};
	int rc;

	rc = edu_open(edu, VFIO_IOMMUFD_DKMS_IOMMU);
	if (!rc && ioctl(edu->container_fd, IOMMUFD_DKMS_VFIO_LINK, &link))
		rc = -errno;
	if (!rc && ioctl(edu->container_fd, IOMMUFD_DKMS_VFIO_DEVICES, &list))
		rc = -errno;
	if (rc) {
		edu_close(edu);
		return rc;
	}
	*dev_id = dev.dev_id;
	return 0;
}

FIXTURE(edu)
{
	int fd;
	struct edu edu;
	uint32_t dev_id;
	uint32_t ioas_id;
};

FIXTURE_SETUP(edu)
{
	char bdf[32];

	if (access("/sys/module/iommufd_vfio", F_OK))
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
	self->fd = iommufd_open();
	ASSERT_EQ(0, edu_link(&self->edu, self->fd, &self->dev_id));
	self->ioas_id = ioas_alloc(self->fd);
}

FIXTURE_TEARDOWN(edu)
{
	edu_close(&self->edu);
	ASSERT_EQ(0, close(self->fd));
}

/*
 * kretprobes on the host drivers' domain_alloc_user, where the kernel has
 * one (6.12's VT-d and AMD-Vi): they show that the answer to a dirty HWPT
 * came from the driver.  False where tracing or the symbols are missing
 * (6.1 has no such op).
 */
#define TRACING "/sys/kernel/debug/tracing"

static const char *const driver_allocs[] = {
	"intel_iommu_domain_alloc_user",
	"amd_iommu_domain_alloc_user",
};

static bool kallsyms_has(const char *sym)
{
	char line[256], name[128];
	FILE *f = fopen("/proc/kallsyms", "r");
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %127s", name) == 1 &&
			!strcmp(name, sym);
	fclose(f);
	return found;
}

static void driver_probes_off(void)
{
	sysfs_write(TRACING "/events/kprobes/enable", "0");
	for (size_t i = 0; i < 2; i++) {
		char def[64];

		snprintf(def, sizeof(def), "-:iommufd_dirty_%zu\n", i);
		sysfs_write(TRACING "/kprobe_events", def);
	}
}

static bool driver_probes_on(void)
{
	bool any = false;

	for (size_t i = 0; i < 2; i++) {
		char def[160];

		if (!kallsyms_has(driver_allocs[i]))
			continue;
		snprintf(def, sizeof(def),
			 "r:iommufd_dirty_%zu %s ret=$retval\n", i,
			 driver_allocs[i]);
		/* Appending: O_APPEND is what ">>" does to kprobe_events. */
		int fd = open(TRACING "/kprobe_events", O_WRONLY | O_APPEND);

		if (fd < 0)
			return false;
		any |= write(fd, def, strlen(def)) == (ssize_t)strlen(def);
		close(fd);
	}
	if (!any || sysfs_write(TRACING "/events/kprobes/enable", "1")) {
		driver_probes_off();
		return false;
	}
	sysfs_write(TRACING "/trace", "");
	return true;
}

/* "function ret=value" of every return the probes saw ("" if none). */
static void driver_probes_read(char *seen, size_t len)
{
	FILE *f = fopen(TRACING "/trace", "r");
	char line[512];
	size_t used = 0;

	seen[0] = 0;
	while (f && used < len && fgets(line, sizeof(line), f)) {
		char *from = strstr(line, "<- "), *ret = strstr(line, "ret=");

		if (line[0] == '#' || !from || !ret)
			continue;
		from = strtok(from + 3, ")");
		used += snprintf(seen + used, len - used, "%s%s %s",
				 used ? ", " : "", from, strtok(ret, " \n"));
	}
	if (f)
		fclose(f);
	driver_probes_off();
}

/*
 * The host driver decides: QEMU's VT-d and AMD-Vi have no dirty bits, so
 * their drivers claim no IOMMU_CAP_DIRTY_TRACKING and answer EOPNOTSUPP
 * to a dirty domain (on 6.12 the probe shows that answer, -95, coming
 * from the driver; 6.1's drivers cannot be asked and ours answers the
 * same).  Hardware with dirty bits must get the HWPT and read it.
 */
TEST_F(edu, the_host_driver_answers_a_dirty_hwpt_request)
{
	uint64_t caps = hw_caps(self->fd, self->dev_id);
	uint32_t hwpt_id = 0, plain_id;
	uint8_t bitmap[8] = { 0 };
	bool probed = driver_probes_on();
	char seen[256];
	int rc, err;

	rc = hwpt_alloc(self->fd, self->dev_id, self->ioas_id,
			IOMMU_HWPT_ALLOC_DIRTY_TRACKING, &hwpt_id);
	err = errno;
	if (probed) {
		driver_probes_read(seen, sizeof(seen));
		TEST_LOG("the driver returned: %s", seen);
		/* 0xffffffffffffffa1 is ERR_PTR(-EOPNOTSUPP). */
		if (rc)
			EXPECT_TRUE(strstr(seen, "0xffffffffffffffa1") != NULL);
		else
			EXPECT_TRUE(seen[0] != 0);
	} else {
		TEST_LOG("no kretprobe on the driver here (6.1, or no tracing)");
	}
	TEST_LOG("capability %s, dirty HWPT: %s",
		 caps & IOMMU_HW_CAP_DIRTY_TRACKING ? "reported" : "not reported",
		 rc ? strerror(err) : "granted");
	if (caps & IOMMU_HW_CAP_DIRTY_TRACKING) {
		ASSERT_EQ(0, rc);
		ASSERT_EQ(0, set_tracking(self->fd, hwpt_id, true));
		EXPECT_ERRNO(EINVAL, get_bitmap(self->fd, hwpt_id, 0, PAGE,
						PAGE, bitmap, 0));
		EXPECT_EQ(0, destroy(self->fd, hwpt_id));
	} else {
		ASSERT_EQ(-1, rc);
		EXPECT_EQ(EOPNOTSUPP, err);
	}

	/* A plain HWPT is granted and has no dirty tracking to switch. */
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev_id, self->ioas_id, 0,
				&plain_id));
	EXPECT_ERRNO(EOPNOTSUPP, set_tracking(self->fd, plain_id, true));
	EXPECT_ERRNO(EOPNOTSUPP, get_bitmap(self->fd, plain_id, 0, PAGE, PAGE,
					    bitmap, 0));
	EXPECT_EQ(0, destroy(self->fd, plain_id));
}

TEST_HARNESS_MAIN
