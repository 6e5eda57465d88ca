// SPDX-License-Identifier: GPL-2.0
/*
 * Nest parents, nested HWPTs and IOMMU_HWPT_INVALIDATE through the public
 * ABI, in the self-test's mock IOMMU (IOMMU_HWPT_DATA_SELFTEST, its IOTLB
 * read back with IOMMU_TEST_OP_MD_CHECK_IOTLB) and, where the machine has
 * QEMU's edu device behind our VFIO backend, through the host's IOMMU
 * driver.
 *
 * The expected errnos are upstream 6.12's (hw_pagetable.c and selftest.c of
 * drivers/iommu/iommufd with CONFIG_IOMMUFD_TEST):
 *  - IOMMU_HWPT_ALLOC with pt_id a paging HWPT asks for a nested HWPT: a
 *    flag (EOPNOTSUPP), a parent that is automatic, not a nest parent or
 *    another IOMMU's (EINVAL), then the driver's own answers: for the mock,
 *    another data type is EOPNOTSUPP and the data is read under the rule
 *    of driver data: shorter than its first version or longer than the
 *    kernel's is EINVAL (no E2BIG), a bad pointer EFAULT;
 *  - IOMMU_HWPT_INVALIDATE takes a nested HWPT only (ENOENT), an array of
 *    entry_num requests of entry_len bytes (0 < entry_len <= PAGE_SIZE and
 *    data_uptr set when entry_num is not 0, else EINVAL) and writes back
 *    in entry_num how many were carried out, also when one failed.
 *
 * Without selftest=1 the mock tests skip; without an edu device behind
 * iommufd_vfio the real-driver tests skip.
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
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "iommufd_mock.h"
#include "dkms_attach.h"
#include "vfio_edu.h"

#define MAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define BASE	((uint64_t)MOCK_APERTURE_START)
#define NO_SUCH_ID	0x7fffff00u
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))
#define OFFSETOFEND(type, member) \
	(offsetof(type, member) + sizeof(((type *)0)->member))
/* The number of requests one call may carry (upstream's cap). */
#define INVALIDATE_MAX_ENTRIES	(1u << 19)

enum { BUF_PAGES = 8 };

static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t flags,
		      uint32_t *out_hwpt_id)
{
	return hwpt_alloc_data(fd, dev_id, pt_id, flags, IOMMU_HWPT_DATA_NONE,
			       NULL, 0, out_hwpt_id);
}

/* A mock nested HWPT whose IOTLB entries start at @iotlb. */
static int nested_alloc(int fd, uint32_t dev_id, uint32_t parent_id,
			uint32_t iotlb, uint32_t *out_hwpt_id)
{
	struct iommu_hwpt_selftest data = { .iotlb = iotlb };

	return hwpt_alloc_data(fd, dev_id, parent_id, 0,
			       IOMMU_HWPT_DATA_SELFTEST, &data, sizeof(data),
			       out_hwpt_id);
}

/*
 * IOMMU_HWPT_INVALIDATE; *num is entry_num in, and what the kernel wrote
 * back out (also on failure).
 */
static int invalidate(int fd, uint32_t hwpt_id, const void *reqs,
		      uint32_t data_type, uint32_t entry_len, uint32_t *num)
{
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = hwpt_id,
		.data_uptr = (uintptr_t)reqs,
		.data_type = data_type,
		.entry_len = entry_len,
		.entry_num = *num,
	};
	int rc = ioctl(fd, IOMMU_HWPT_INVALIDATE, &cmd);

	*num = cmd.entry_num;
	return rc;
}

static int invalidate_mock(int fd, uint32_t hwpt_id,
			   const struct iommu_hwpt_invalidate_selftest *reqs,
			   uint32_t *num)
{
	return invalidate(fd, hwpt_id, reqs,
			  IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, sizeof(*reqs),
			  num);
}

static int check_iotlb(int fd, uint32_t hwpt_id, uint32_t index,
		       uint32_t value)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MD_CHECK_IOTLB,
		.id = hwpt_id,
		.check_iotlb = { .id = index, .iotlb = value },
	};

	return test_cmd(fd, &cmd);
}

/* The mock IOTLB of @hwpt_id, entry by entry, as a bitmask of @value. */
static unsigned int iotlb_holding(int fd, uint32_t hwpt_id, uint32_t value)
{
	unsigned int mask = 0, i;

	for (i = 0; i < MOCK_NESTED_DOMAIN_IOTLB_NUM; i++)
		if (!check_iotlb(fd, hwpt_id, i, value))
			mask |= 1u << i;
	return mask;
}

#define IOTLB_ALL	((1u << MOCK_NESTED_DOMAIN_IOTLB_NUM) - 1)

/* The value of "iommufd-@key:" in the fdinfo of @fd, or -1. */
static long fdinfo_count(int fd, const char *key)
{
	char path[64], line[128], want[64];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	snprintf(want, sizeof(want), "iommufd-%s:", key);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			val = strtol(line + strlen(want), NULL, 10);
	fclose(f);
	return val;
}

/* ------------------------------------------------------------------------
 * One IOAS with a mapped buffer, a mock device on it, a nest parent and one
 * nested HWPT on that parent.
 */

FIXTURE(nest)
{
	int fd;
	uint32_t ioas_id;
	struct mock_dev dev;	/* dev.hwpt_id: the IOAS's automatic HWPT */
	uint32_t parent_id;	/* a nest parent on the IOAS */
	uint32_t plain_id;	/* a paging HWPT that is not one */
	uint32_t nested_id;	/* on parent_id, IOTLB at the default */
	uint8_t *buf;
};

FIXTURE_SETUP(nest)
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
	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->ioas_id, 0,
					&self->dev));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT,
				&self->parent_id));
	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id, 0,
				&self->plain_id));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, IOMMU_TEST_IOTLB_DEFAULT,
				  &self->nested_id));
}

FIXTURE_TEARDOWN(nest)
{
	ASSERT_EQ(0, close(self->fd));
	{
		int fd = iommufd_open();

		EXPECT_EQ(0, check_refs(fd, self->buf, BUF_PAGES * PAGE, 0));
		ASSERT_EQ(0, close(fd));
	}
	free_buffer(self->buf, BUF_PAGES * PAGE);
}

/* --- nest parents -------------------------------------------------------- */

/* A nest parent is a paging HWPT: it mirrors the IOAS, devices use it. */
TEST_F(nest, a_nest_parent_mirrors_its_ioas_and_takes_a_device)
{
	uint32_t now;

	ASSERT_EQ(0, check_map(self->fd, self->parent_id, BASE,
			       BUF_PAGES * PAGE, self->buf));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->parent_id, &now));
	EXPECT_EQ(self->parent_id, now);
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->parent_id));
}

/* With dirty tracking too: the mock takes both flags together. */
TEST_F(nest, a_nest_parent_may_also_track_dirty_pages)
{
	uint32_t parent_id, nested_id;

	ASSERT_EQ(0, hwpt_alloc(self->fd, self->dev.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT |
					IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				&parent_id));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id, parent_id, 7,
				  &nested_id));
	ASSERT_EQ(0, destroy(self->fd, nested_id));
	ASSERT_EQ(0, destroy(self->fd, parent_id));
}

/* A device whose IOMMU cannot track dirty pages is refused one that does. */
TEST_F(nest, a_no_dirty_device_gets_eopnotsupp_for_a_dirty_nest_parent)
{
	struct mock_dev nodirty;

	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->ioas_id,
					MOCK_FLAGS_DEVICE_NO_DIRTY, &nodirty));
	EXPECT_ERRNO(EOPNOTSUPP,
		     hwpt_alloc(self->fd, nodirty.idev_id, self->ioas_id,
				IOMMU_HWPT_ALLOC_NEST_PARENT |
					IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
				NULL));
}

/* --- IOMMU_HWPT_ALLOC of nested HWPTs ------------------------------------ */

/* Every entry of a new nested HWPT's IOTLB holds the value it was given. */
TEST_F(nest, a_nested_hwpt_starts_with_the_iotlb_value_given)
{
	uint32_t other;

	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, self->nested_id,
					   IOMMU_TEST_IOTLB_DEFAULT));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, 0x1234, &other));
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, other, 0x1234));
	EXPECT_EQ(0, iotlb_holding(self->fd, other, IOMMU_TEST_IOTLB_DEFAULT));
	ASSERT_EQ(0, destroy(self->fd, other));
}

/* fdinfo counts the nested HWPTs as they come and go. */
TEST_F(nest, fdinfo_counts_nested_hwpts)
{
	uint32_t other;

	EXPECT_EQ(1, fdinfo_count(self->fd, "hwpt-nested"));
	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, 1, &other));
	EXPECT_EQ(2, fdinfo_count(self->fd, "hwpt-nested"));
	ASSERT_EQ(0, destroy(self->fd, other));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id));
	EXPECT_EQ(0, fdinfo_count(self->fd, "hwpt-nested"));
}

/* Ids that name no object, or no device: the lookups' answers. */
TEST_F(nest, nested_alloc_with_bad_ids_is_enoent_or_einval)
{
	struct iommu_hwpt_selftest data = { .iotlb = 1 };

	/* dev_id: ENOENT, for no object and for an object of another type. */
	EXPECT_ERRNO(ENOENT, hwpt_alloc_data(self->fd, NO_SUCH_ID,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     sizeof(data), NULL));
	EXPECT_ERRNO(ENOENT, hwpt_alloc_data(self->fd, self->parent_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     sizeof(data), NULL));
	/* pt_id: EINVAL for no object and for one that cannot be a parent. */
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     NO_SUCH_ID, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     sizeof(data), NULL));
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->dev.idev_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     sizeof(data), NULL));
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->dev.stdev_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     sizeof(data), NULL));
}

/* Parents that are not nest parents: EINVAL, before the data is read. */
TEST_F(nest, nested_alloc_on_a_non_nest_parent_is_einval)
{
	/* Not a nest parent, an automatic HWPT, a nested HWPT. */
	EXPECT_ERRNO(EINVAL, nested_alloc(self->fd, self->dev.idev_id,
					  self->plain_id, 1, NULL));
	EXPECT_ERRNO(EINVAL, nested_alloc(self->fd, self->dev.idev_id,
					  self->dev.hwpt_id, 1, NULL));
	EXPECT_ERRNO(EINVAL, nested_alloc(self->fd, self->dev.idev_id,
					  self->nested_id, 1, NULL));
	/* The data is never read: a bad pointer changes nothing. */
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->plain_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, NULL,
					     8, NULL));
}

/* No flag is taken by a nested HWPT; unknown ones neither. */
TEST_F(nest, nested_alloc_with_any_flag_is_eopnotsupp)
{
	static const uint32_t flags[] = {
		IOMMU_HWPT_ALLOC_NEST_PARENT, IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
		1u << 8, 1u << 31,
	};
	struct iommu_hwpt_selftest data = { .iotlb = 1 };

	for (unsigned int i = 0; i < ARRAY_LEN(flags); i++)
		EXPECT_ERRNO(EOPNOTSUPP,
			     hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, flags[i],
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     sizeof(data), NULL));
}

/* Data types: none at all, or one the mock does not speak. */
TEST_F(nest, nested_alloc_with_a_wrong_data_type_is_refused)
{
	struct iommu_hwpt_selftest data = { .iotlb = 1 };
	struct iommu_hwpt_vtd_s1 vtd = { .addr_width = 48 };

	/* NONE with a length: the argument's shape, EINVAL. */
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_NONE, &data,
					     sizeof(data), NULL));
	/* NONE without: no data for a nested HWPT, EOPNOTSUPP. */
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc_data(self->fd, self->dev.idev_id,
						 self->parent_id, 0,
						 IOMMU_HWPT_DATA_NONE, NULL, 0,
						 NULL));
	/* A type with no length: EINVAL. */
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &data,
					     0, NULL));
	/* Another driver's format, or an unknown one: the mock's EOPNOTSUPP. */
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc_data(self->fd, self->dev.idev_id,
						 self->parent_id, 0,
						 IOMMU_HWPT_DATA_VTD_S1, &vtd,
						 sizeof(vtd), NULL));
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc_data(self->fd, self->dev.idev_id,
						 self->parent_id, 0,
						 IOMMU_HWPT_DATA_SELFTEST + 1,
						 &data, sizeof(data), NULL));
}

/*
 * data_len: at least the first version (offsetofend of iotlb), at most
 * the kernel's struct; more is EINVAL whatever the extra bytes hold.
 */
TEST_F(nest, nested_alloc_data_len_short_or_long_is_einval)
{
	const uint32_t min_len = OFFSETOFEND(struct iommu_hwpt_selftest, iotlb);
	struct {
		struct iommu_hwpt_selftest data;
		uint32_t tail[2];
	} big = { .data = { .iotlb = 5 } };
	uint32_t id;

	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &big,
					     min_len - 1, NULL));
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &big,
					     sizeof(big), NULL));
	big.tail[1] = 0xff;
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, &big,
					     sizeof(big), NULL));
	/* The first version alone is complete. */
	ASSERT_EQ(0, hwpt_alloc_data(self->fd, self->dev.idev_id,
				     self->parent_id, 0,
				     IOMMU_HWPT_DATA_SELFTEST, &big, min_len,
				     &id));
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, id, 5));
	ASSERT_EQ(0, destroy(self->fd, id));
}

/* The data is read only from valid user memory: EFAULT otherwise. */
TEST_F(nest, nested_alloc_with_a_bad_data_pointer_is_efault)
{
	void *hole = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
			  -1, 0);
	struct iommu_hwpt_selftest *edge;
	uint8_t *two;

	ASSERT_NE(MAP_FAILED, hole);
	EXPECT_ERRNO(EFAULT, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, NULL,
					     sizeof(*edge), NULL));
	EXPECT_ERRNO(EFAULT, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, hole,
					     sizeof(*edge), NULL));
	/* A struct that runs into an unmapped page. */
	two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, munmap(two + PAGE, PAGE));
	edge = (void *)(two + PAGE - 4);
	EXPECT_ERRNO(EFAULT, hwpt_alloc_data(self->fd, self->dev.idev_id,
					     self->parent_id, 0,
					     IOMMU_HWPT_DATA_SELFTEST, edge,
					     sizeof(*edge), NULL));
	munmap(two, PAGE);
	munmap(hole, PAGE);
	EXPECT_EQ(1, fdinfo_count(self->fd, "hwpt-nested"));
}

/* Objects in use: the parent, its IOAS, a nested HWPT with a device. */
TEST_F(nest, destroying_what_a_nested_hwpt_uses_is_ebusy)
{
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->parent_id));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->ioas_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->nested_id, NULL));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->nested_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, NULL));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->nested_id));
	ASSERT_EQ(0, destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, destroy(self->fd, self->plain_id));
}

/* A nested HWPT has no IOVA of its own: paging-only ops do not find it. */
TEST_F(nest, paging_only_ops_do_not_take_a_nested_hwpt)
{
	struct iommu_hwpt_set_dirty_tracking dirty = {
		.size = sizeof(dirty),
		.flags = IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
		.hwpt_id = self->nested_id,
	};

	EXPECT_ERRNO(ENOENT, check_map(self->fd, self->nested_id, BASE, PAGE,
				       self->buf));
	EXPECT_ERRNO(ENOENT, ioctl(self->fd, IOMMU_HWPT_SET_DIRTY_TRACKING,
				   &dirty));
	/* And the IOTLB check takes only a nested HWPT. */
	EXPECT_ERRNO(ENOENT, check_iotlb(self->fd, self->parent_id, 0,
					 IOMMU_TEST_IOTLB_DEFAULT));
	EXPECT_ERRNO(EINVAL, check_iotlb(self->fd, self->nested_id,
					 MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1,
					 IOMMU_TEST_IOTLB_DEFAULT));
}

/* --- IOMMU_HWPT_INVALIDATE ------------------------------------------------ */

/* Only a nested HWPT is invalidated; nothing was done on any other id. */
TEST_F(nest, invalidate_takes_only_a_nested_hwpt)
{
	struct iommu_hwpt_invalidate_selftest req = { 0 };
	const uint32_t ids[] = {
		self->parent_id, self->plain_id, self->dev.hwpt_id,
		self->ioas_id, self->dev.idev_id, NO_SUCH_ID,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(ids); i++) {
		uint32_t num = 1;

		EXPECT_ERRNO(ENOENT, invalidate_mock(self->fd, ids[i], &req,
						     &num));
		EXPECT_EQ(0, num);
	}
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, self->nested_id,
					   IOMMU_TEST_IOTLB_DEFAULT));
}

/* An empty array probes the format: the driver judges the type. */
TEST_F(nest, invalidate_with_no_entries_only_checks_the_type)
{
	uint32_t num = 0;

	ASSERT_EQ(0, invalidate(self->fd, self->nested_id, NULL,
				IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0, &num));
	EXPECT_EQ(0, num);
	EXPECT_ERRNO(EINVAL,
		     invalidate(self->fd, self->nested_id, NULL,
				IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, 0,
				&num));
	EXPECT_EQ(0, num);
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, self->nested_id,
					   IOMMU_TEST_IOTLB_DEFAULT));
}

/* The argument's shape, before any lookup: EINVAL, entry_num back 0. */
TEST_F(nest, invalidate_with_a_bad_array_shape_is_einval)
{
	struct iommu_hwpt_invalidate_selftest reqs[2] = { 0 };
	const struct {
		const void *uptr;
		uint32_t entry_len, entry_num;
	} bad[] = {
		{ NULL, sizeof(reqs[0]), 1 },		/* no array */
		{ reqs, 0, 1 },				/* no length */
		{ reqs, PAGE + 1, 1 },			/* over a page */
		{ reqs, sizeof(reqs[0]), INVALIDATE_MAX_ENTRIES + 1 },
	};

	for (unsigned int i = 0; i < ARRAY_LEN(bad); i++) {
		uint32_t num = bad[i].entry_num;

		/* Even on an id that names nothing: the shape comes first. */
		EXPECT_ERRNO(EINVAL,
			     invalidate(self->fd, NO_SUCH_ID, bad[i].uptr,
					IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					bad[i].entry_len, &num));
		EXPECT_EQ(0, num);
		num = bad[i].entry_num;
		EXPECT_ERRNO(EINVAL,
			     invalidate(self->fd, self->nested_id, bad[i].uptr,
					IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					bad[i].entry_len, &num));
		EXPECT_EQ(0, num);
	}
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, self->nested_id,
					   IOMMU_TEST_IOTLB_DEFAULT));
}

/* __reserved must be 0: EOPNOTSUPP. */
TEST_F(nest, invalidate_with_reserved_set_is_eopnotsupp)
{
	struct iommu_hwpt_invalidate_selftest req = { 0 };
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = self->nested_id,
		.data_uptr = (uintptr_t)&req,
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(req),
		.entry_num = 1,
		.__reserved = 1,
	};

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_HWPT_INVALIDATE, &cmd));
	EXPECT_EQ(0, cmd.entry_num);
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, self->nested_id,
					   IOMMU_TEST_IOTLB_DEFAULT));
}

/*
 * entry_len is the driver's to judge per entry, under the rule of driver
 * data: shorter than the first version or longer than its struct (even
 * with a zero tail) is EINVAL.
 */
TEST_F(nest, invalidate_entry_len_too_small_or_too_large_is_einval)
{
	uint8_t raw[64] = { 0 };
	const uint32_t lens[] = {
		1, OFFSETOFEND(struct iommu_hwpt_invalidate_selftest,
			       iotlb_id) - 1,
		sizeof(struct iommu_hwpt_invalidate_selftest) + 1,
		sizeof(struct iommu_hwpt_invalidate_selftest) + 8,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(lens); i++) {
		uint32_t num = 1;

		EXPECT_ERRNO(EINVAL,
			     invalidate(self->fd, self->nested_id, raw,
					IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					lens[i], &num));
		EXPECT_EQ(0, num);
	}
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, self->nested_id,
					   IOMMU_TEST_IOTLB_DEFAULT));
}

/* A request array in memory user space cannot read: EFAULT. */
TEST_F(nest, invalidate_with_an_unreadable_array_is_efault)
{
	struct iommu_hwpt_invalidate_selftest *reqs;
	uint32_t num = 2;
	uint8_t *two;

	two = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, two);
	ASSERT_EQ(0, munmap(two + PAGE, PAGE));
	/* Entry 0 is the page's last; entry 1 is in the hole. */
	reqs = (void *)(two + PAGE - sizeof(*reqs));
	reqs[0].flags = 0;
	reqs[0].iotlb_id = 2;
	EXPECT_ERRNO(EFAULT, invalidate_mock(self->fd, self->nested_id, reqs,
					     &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(IOTLB_ALL & ~(1u << 2),
		  iotlb_holding(self->fd, self->nested_id,
				IOMMU_TEST_IOTLB_DEFAULT));

	num = 1;
	EXPECT_ERRNO(EFAULT, invalidate_mock(self->fd, self->nested_id,
					     (void *)(two + PAGE), &num));
	EXPECT_EQ(0, num);
	munmap(two, PAGE);
}

/*
 * A bad request stops the batch: those before it stay carried out and
 * entry_num says how many; the bad one's errno is the call's.
 */
TEST_F(nest, invalidate_partial_failure_reports_how_many_were_done)
{
	struct iommu_hwpt_invalidate_selftest reqs[3] = {
		{ .flags = 0, .iotlb_id = 0 },
		{ .flags = 0xffffffff, .iotlb_id = 1 },
		{ .flags = 0, .iotlb_id = 3 },
	};
	uint32_t num = 3;

	EXPECT_ERRNO(EOPNOTSUPP, invalidate_mock(self->fd, self->nested_id,
						 reqs, &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(1u << 0, iotlb_holding(self->fd, self->nested_id, 0));

	reqs[0].iotlb_id = 1;
	reqs[1].flags = 0;
	reqs[1].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	num = 3;
	EXPECT_ERRNO(EINVAL, invalidate_mock(self->fd, self->nested_id, reqs,
					     &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(0x3u, iotlb_holding(self->fd, self->nested_id, 0));
	/* Entry 3 was never reached. */
	EXPECT_EQ(0, check_iotlb(self->fd, self->nested_id, 3,
				 IOMMU_TEST_IOTLB_DEFAULT));
	/* Even FLAG_ALL checks the index, as upstream's mock. */
	reqs[0].flags = IOMMU_TEST_INVALIDATE_FLAG_ALL;
	reqs[0].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	num = 1;
	EXPECT_ERRNO(EINVAL, invalidate_mock(self->fd, self->nested_id, reqs,
					     &num));
	EXPECT_EQ(0, num);
}

/* Requests one by one, several at once, and all; other HWPTs untouched. */
TEST_F(nest, invalidate_clears_exactly_the_entries_asked)
{
	struct iommu_hwpt_invalidate_selftest reqs[2] = {
		{ .iotlb_id = 1 }, { .iotlb_id = 3 },
	};
	uint32_t other, num = 2;

	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, IOMMU_TEST_IOTLB_DEFAULT,
				  &other));
	ASSERT_EQ(0, invalidate_mock(self->fd, self->nested_id, reqs, &num));
	EXPECT_EQ(2, num);
	EXPECT_EQ(0xau, iotlb_holding(self->fd, self->nested_id, 0));
	EXPECT_EQ(0x5u, iotlb_holding(self->fd, self->nested_id,
				      IOMMU_TEST_IOTLB_DEFAULT));
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, other,
					   IOMMU_TEST_IOTLB_DEFAULT));

	/* An entry as long as the struct's first version is enough too. */
	reqs[0].flags = IOMMU_TEST_INVALIDATE_FLAG_ALL;
	reqs[0].iotlb_id = 0;
	num = 1;
	ASSERT_EQ(0, invalidate(self->fd, other, reqs,
				IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
				OFFSETOFEND(struct iommu_hwpt_invalidate_selftest,
					    iotlb_id), &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, other, 0));
	ASSERT_EQ(0, destroy(self->fd, other));
}

/* An invalidation while a device uses the nested HWPT works the same. */
TEST_F(nest, invalidate_works_while_a_device_is_attached)
{
	struct iommu_hwpt_invalidate_selftest req = {
		.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL,
	};
	uint32_t num = 1;

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->nested_id, NULL));
	ASSERT_EQ(0, invalidate_mock(self->fd, self->nested_id, &req, &num));
	EXPECT_EQ(1, num);
	EXPECT_EQ(IOTLB_ALL, iotlb_holding(self->fd, self->nested_id, 0));
}

/* --- attach, replace, detach --------------------------------------------- */

/*
 * Every move between the IOAS (its automatic HWPT), a plain paging HWPT,
 * the nest parent and two nested HWPTs answers with the HWPT in use; what
 * the device leaves can be destroyed, what it uses cannot.
 */
TEST_F(nest, a_device_moves_among_ioas_paging_parent_and_nested_hwpts)
{
	uint32_t nested2, now;
	uint32_t order[8];
	unsigned int i;

	ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
				  self->parent_id, 9, &nested2));
	order[0] = self->plain_id;
	order[1] = self->nested_id;
	order[2] = nested2;
	order[3] = self->parent_id;
	order[4] = self->nested_id;
	order[5] = self->plain_id;
	order[6] = nested2;
	order[7] = self->ioas_id;
	for (i = 0; i < ARRAY_LEN(order); i++) {
		ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
					      order[i], &now));
		if (order[i] == self->ioas_id) {
			EXPECT_EQ(self->dev.hwpt_id, now);
		} else {
			EXPECT_EQ(order[i], now);
			EXPECT_ERRNO(EBUSY, destroy(self->fd, order[i]));
		}
	}
	/* Replacing with the HWPT in use is a no-op that still answers. */
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->ioas_id, &now));
	EXPECT_EQ(self->dev.hwpt_id, now);
	ASSERT_EQ(0, destroy(self->fd, nested2));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id));
	ASSERT_EQ(0, destroy(self->fd, self->parent_id));
	ASSERT_EQ(0, destroy(self->fd, self->plain_id));
}

/* Moves to what cannot be attached leave the device where it was. */
TEST_F(nest, a_failed_move_keeps_the_nested_attachment)
{
	uint32_t now;

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->nested_id, NULL));
	EXPECT_ERRNO(ENOENT, mock_dev_replace(self->fd, self->dev.stdev_id,
					      NO_SUCH_ID, NULL));
	EXPECT_ERRNO(EINVAL, mock_dev_replace(self->fd, self->dev.stdev_id,
					      self->dev.idev_id, NULL));
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->nested_id));
	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->nested_id, &now));
	EXPECT_EQ(self->nested_id, now);
}

/* Our extension attaches and detaches to nested HWPTs as to any other. */
TEST_F(nest, dkms_attach_and_detach_take_nested_hwpts)
{
	uint32_t now;

	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, self->nested_id,
				 &now));
	EXPECT_EQ(self->nested_id, now);
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->nested_id));
	ASSERT_EQ(0, dkms_detach(self->fd, self->dev.idev_id));
	/* Detached: nothing holds it any more. */
	ASSERT_EQ(0, destroy(self->fd, self->nested_id));
	ASSERT_EQ(0, dkms_attach(self->fd, self->dev.idev_id, self->parent_id,
				 &now));
	EXPECT_EQ(self->parent_id, now);
	ASSERT_EQ(0, dkms_detach(self->fd, self->dev.idev_id));
	ASSERT_EQ(0, destroy(self->fd, self->parent_id));
}

/*
 * A mock device can be born on a nested HWPT; unplugging it lets the HWPT
 * go.  A device without dirty tracking may use a nested HWPT on a parent
 * that tracks (the stage-1 is what it attaches to, as upstream's mock).
 */
TEST_F(nest, a_mock_device_can_be_created_on_a_nested_hwpt)
{
	struct mock_dev born;

	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->nested_id,
					MOCK_FLAGS_DEVICE_NO_DIRTY, &born));
	EXPECT_EQ(self->nested_id, born.hwpt_id);
	EXPECT_ERRNO(EBUSY, destroy(self->fd, self->nested_id));
	ASSERT_EQ(0, destroy(self->fd, born.stdev_id));
	ASSERT_EQ(0, destroy(self->fd, self->nested_id));
}

/* Closing the file with everything attached frees everything. */
TEST_F(nest, closing_the_fd_with_devices_on_nested_hwpts_frees_all)
{
	struct mock_dev second;

	ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
				      self->nested_id, NULL));
	ASSERT_EQ(0, mock_dev_add_flags(self->fd, self->nested_id, 0, &second));
	/* The teardown closes the fd and checks that no page stays pinned. */
}

/* --- races ---------------------------------------------------------------- */

struct race {
	int fd;
	volatile uint32_t nested_id;
	volatile bool stop;
	unsigned long rounds;
	unsigned long busy;
};

static void *invalidate_loop(void *arg)
{
	struct iommu_hwpt_invalidate_selftest req = {
		.flags = IOMMU_TEST_INVALIDATE_FLAG_ALL,
	};
	struct race *r = arg;

	while (!r->stop) {
		uint32_t num = 1;

		invalidate_mock(r->fd, r->nested_id, &req, &num);
		r->rounds++;
	}
	return NULL;
}

/*
 * Invalidations in a thread while the device moves on and off the nested
 * HWPT and it is destroyed and remade under the same flow; the debug
 * kernel's KASAN and lockdep stay silent.  An IOMMU_DESTROY that meets an
 * invalidation holding the HWPT is EBUSY (upstream's rule too: a running
 * ioctl's lookup is a user) and is tried again.
 */
TEST_F(nest, invalidate_races_attach_and_destroy)
{
	struct race r = { .fd = self->fd, .nested_id = self->nested_id };
	pthread_t thread;
	unsigned int i;

	ASSERT_EQ(0, pthread_create(&thread, NULL, invalidate_loop, &r));
	for (i = 0; i < 2000; i++) {
		uint32_t id;

		ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
					      r.nested_id, NULL));
		ASSERT_EQ(0, mock_dev_replace(self->fd, self->dev.stdev_id,
					      self->parent_id, NULL));
		while (destroy(self->fd, r.nested_id)) {
			ASSERT_EQ(EBUSY, errno);
			r.busy++;
		}
		ASSERT_EQ(0, nested_alloc(self->fd, self->dev.idev_id,
					  self->parent_id, i, &id));
		r.nested_id = id;
	}
	r.stop = true;
	pthread_join(thread, NULL);
	TEST_LOG("%lu invalidations during 2000 rounds, %lu destroys met one",
		 r.rounds, r.busy);
}

/* ------------------------------------------------------------------------
 * The real driver: QEMU's edu device behind iommufd_vfio.  Nesting is the
 * host IOMMU driver's to offer; QEMU's VT-d and AMD-Vi have no nesting
 * capability, and their drivers refuse a nest parent (EOPNOTSUPP); 6.1
 * has no way to ask.  A VT-d that reports the nesting bit (ecap bit 26)
 * must make one.
 */

static int backend_loaded(void)
{
	return access("/sys/module/iommufd_vfio", F_OK) == 0;
}

FIXTURE(edu_nest)
{
	struct edu edu;
	int iommufd;
	uint32_t dev_id;
	uint32_t ioas_id;
	uint8_t *buf;
};

FIXTURE_SETUP(edu_nest)
{
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	char bdf[32];

	if (!backend_loaded())
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
	self->buf = alloc_buffer(16 * PAGE);
	ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_id, self->buf,
				    16 * PAGE, 0x100000));
	ASSERT_EQ(0, edu_open_device(&self->edu));
}

FIXTURE_TEARDOWN(edu_nest)
{
	edu_close(&self->edu);
	close(self->iommufd);
	free_buffer(self->buf, 16 * PAGE);
}

/* Does the host IOMMU of @dev_id say it can nest?  (VT-d's ecap NEST.) */
static bool edu_iommu_can_nest(int fd, uint32_t dev_id)
{
	struct iommu_hw_info_vtd vtd = { 0 };
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.data_len = sizeof(vtd),
		.data_uptr = (uintptr_t)&vtd,
	};

	if (ioctl(fd, IOMMU_GET_HW_INFO, &cmd))
		return false;
	return cmd.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD &&
	       (vtd.ecap_reg & (1ull << 26));
}

/*
 * The driver's answer to a nest parent is what user space gets; without
 * the capability it is EOPNOTSUPP, and the device keeps working on a
 * paging HWPT of the same IOAS.
 */
TEST_F(edu_nest, a_nest_parent_gets_the_host_drivers_answer)
{
	uint32_t parent_id = 0, paging_id, now;
	int rc;

	rc = hwpt_alloc(self->iommufd, self->dev_id, self->ioas_id,
			IOMMU_HWPT_ALLOC_NEST_PARENT, &parent_id);
	TEST_LOG("IOMMU_HWPT_ALLOC(NEST_PARENT): %s",
		 rc ? strerror(errno) : "made");
	if (edu_iommu_can_nest(self->iommufd, self->dev_id)) {
		ASSERT_EQ(0, rc);
		ASSERT_EQ(0, dkms_attach(self->iommufd, self->dev_id,
					 parent_id, &now));
		EXPECT_EQ(parent_id, now);
		ASSERT_EQ(0, edu_dma(&self->edu, 0x100000, 0, 256, 0));
		ASSERT_EQ(0, dkms_detach(self->iommufd, self->dev_id));
		ASSERT_EQ(0, destroy(self->iommufd, parent_id));
	} else {
		EXPECT_EQ(-1, rc);
		EXPECT_EQ(EOPNOTSUPP, errno);
	}

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->dev_id, self->ioas_id, 0,
				&paging_id));
	ASSERT_EQ(0, dkms_attach(self->iommufd, self->dev_id, paging_id,
				 &now));
	EXPECT_EQ(paging_id, now);
	memset(self->buf, 0x5a, 256);
	ASSERT_EQ(0, edu_dma(&self->edu, 0x100000, 0, 256, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, 0x100000 + PAGE, 0, 256, 1));
	ASSERT_EQ(0, memcmp(self->buf, self->buf + PAGE, 256));
	EXPECT_ERRNO(EBUSY, destroy(self->iommufd, paging_id));
	ASSERT_EQ(0, dkms_detach(self->iommufd, self->dev_id));
	ASSERT_EQ(0, destroy(self->iommufd, paging_id));
}

/*
 * The core's own refusals come before the driver is asked: a nested HWPT
 * on a paging HWPT that is not a nest parent is EINVAL, whatever the
 * format; one with no data is EOPNOTSUPP; an invalidation of a paging
 * HWPT is ENOENT.
 */
TEST_F(edu_nest, nested_on_a_plain_paging_hwpt_is_refused_by_the_core)
{
	struct iommu_hwpt_vtd_s1 vtd = { .addr_width = 48 };
	struct iommu_hwpt_vtd_s1_invalidate inv = { 0 };
	uint32_t paging_id, num = 1;

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, self->dev_id, self->ioas_id, 0,
				&paging_id));
	EXPECT_ERRNO(EINVAL, hwpt_alloc_data(self->iommufd, self->dev_id,
					     paging_id, 0,
					     IOMMU_HWPT_DATA_VTD_S1, &vtd,
					     sizeof(vtd), NULL));
	EXPECT_ERRNO(EOPNOTSUPP, hwpt_alloc_data(self->iommufd, self->dev_id,
						 paging_id, 0,
						 IOMMU_HWPT_DATA_NONE, NULL, 0,
						 NULL));
	EXPECT_ERRNO(ENOENT, invalidate(self->iommufd, paging_id, &inv,
					IOMMU_HWPT_INVALIDATE_DATA_VTD_S1,
					sizeof(inv), &num));
	EXPECT_EQ(0, num);
	ASSERT_EQ(0, destroy(self->iommufd, paging_id));
}

TEST_HARNESS_MAIN
