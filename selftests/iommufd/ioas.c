// SPDX-License-Identifier: GPL-2.0
/*
 * IO address spaces through the public ABI: IOMMU_IOAS_MAP, _MAP_FILE,
 * _UNMAP, _COPY, _IOVA_RANGES, _ALLOW_IOVAS, _CHANGE_PROCESS and
 * IOMMU_OPTION, with the page pinning and locked-memory accounting behind
 * them.
 *
 * Where a test needs pages to be pinned, or needs to look into a page
 * table, it uses the self-test interface (IOMMU_TEST_CMD, module loaded with
 * selftest=1): a mock device attached to the IOAS gets a mock domain, and
 * the mock driver can compare that domain with user memory.  Without
 * self-test support IOMMU_TEST_CMD is ENOTTY and those tests skip.
 *
 * The expectations are upstream iommufd's (drivers/iommu/iommufd/ioas.c,
 * io_pagetable.c, pages.c, main.c, selftest.c of torvalds/linux and its
 * tools/testing/selftests/iommu suite); comments name the upstream check
 * behind each errno that is not obvious.  In short:
 *  - an IOAS starts with no reserved IOVA and no alignment; a mock domain
 *    reserves everything outside [MOCK_APERTURE_START, MOCK_APERTURE_LAST]
 *    and raises the alignment to MOCK_PAGE_SIZE;
 *  - without a domain (or an access) nothing is pinned: IOMMU_IOAS_MAP only
 *    records the user range; pinning happens when a domain needs the pages;
 *  - pinned pages always count in the pinning mm's pinned_vm (VmPin); the
 *    limit is RLIMIT_MEMLOCK, charged to the user's locked_vm (default
 *    mode) or to the mm's locked_vm (VmLck, IOMMU_OPTION_RLIMIT_MODE 1),
 *    and not enforced at all for CAP_IPC_LOCK.
 *
 * Counters are read from /proc/self/status.  The harness also checks, for
 * every case, that the case's own VmPin and VmLck are back after teardown;
 * tests that charge another process check that process themselves.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"


#define SZ_4K			0x1000UL
#define SZ_64K			0x10000UL
#define SZ_1M			0x100000UL
#define SZ_2M			0x200000UL
#define SZ_1G			0x40000000UL

/* The page size these tests are written for (x86_64). */
#define PAGE			SZ_4K

#include "iommufd_utils.h"

#define MAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

/* The unprivileged identity tests drop to: nobody/nogroup. */

#define ARRAY_LEN(a)		(sizeof(a) / sizeof((a)[0]))

/*
 * IOMMU_IOAS_MAP.  With IOMMU_IOAS_MAP_FIXED_IOVA in @flags *iova is the
 * IOVA to map at; the IOVA the kernel reports is stored back either way.
 */
static int map_user(int fd, uint32_t ioas_id, const void *buf, uint64_t length,
		    uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = length,
		.iova = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? *iova : 0,
	};
	int rc = ioctl(fd, IOMMU_IOAS_MAP, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

static int map_fixed(int fd, uint32_t ioas_id, const void *buf,
		     uint64_t length, uint64_t iova)
{
	return map_user(fd, ioas_id, buf, length, &iova,
			MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

static int map_auto(int fd, uint32_t ioas_id, const void *buf,
		    uint64_t length, uint64_t *iova)
{
	return map_user(fd, ioas_id, buf, length, iova, MAP_RW);
}

/* IOMMU_IOAS_UNMAP; @unmapped (may be NULL) gets the length reported. */
static int unmap_range(int fd, uint32_t ioas_id, uint64_t iova,
		       uint64_t length, uint64_t *unmapped)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};
	int rc = ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);

	if (!rc && unmapped)
		*unmapped = cmd.length;
	return rc;
}

/* Unmap exactly what was mapped, and check the length reported. */
static void unmap_exact(int fd, uint32_t ioas_id, uint64_t iova,
			uint64_t length)
{
	uint64_t unmapped = 0;

	ASSERT_EQ(0, unmap_range(fd, ioas_id, iova, length, &unmapped));
	ASSERT_EQ(length, unmapped);
}

static uint64_t unmap_all(int fd, uint32_t ioas_id)
{
	uint64_t unmapped = UINT64_MAX;

	ASSERT_EQ(0, unmap_range(fd, ioas_id, 0, UINT64_MAX, &unmapped));
	return unmapped;
}

/* IOMMU_IOAS_COPY; *dst_iova is in (FIXED) and out as for map_user(). */
static int copy_range(int fd, uint32_t dst_ioas, uint32_t src_ioas,
		      uint64_t src_iova, uint64_t length, uint64_t *dst_iova,
		      uint32_t flags)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dst_ioas_id = dst_ioas,
		.src_ioas_id = src_ioas,
		.length = length,
		.dst_iova = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? *dst_iova : 0,
		.src_iova = src_iova,
	};
	int rc = ioctl(fd, IOMMU_IOAS_COPY, &cmd);

	if (!rc)
		*dst_iova = cmd.dst_iova;
	return rc;
}

static int copy_fixed(int fd, uint32_t dst_ioas, uint32_t src_ioas,
		      uint64_t src_iova, uint64_t length, uint64_t dst_iova)
{
	return copy_range(fd, dst_ioas, src_ioas, src_iova, length, &dst_iova,
			  MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

/*
 * IOMMU_IOAS_IOVA_RANGES into @ranges (room for *num entries); *num gets
 * the number of ranges the IOAS has, *alignment its IOVA alignment.
 */
static int iova_ranges(int fd, uint32_t ioas_id, struct iommu_iova_range *ranges,
		       uint32_t *num, uint64_t *alignment)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = *num,
		.allowed_iovas = (uintptr_t)ranges,
	};
	int rc = ioctl(fd, IOMMU_IOAS_IOVA_RANGES, &cmd);

	*num = cmd.num_iovas;
	if (alignment)
		*alignment = cmd.out_iova_alignment;
	return rc;
}

static uint64_t iova_alignment(int fd, uint32_t ioas_id)
{
	struct iommu_iova_range ranges[8];
	uint32_t num = ARRAY_LEN(ranges);
	uint64_t alignment = 0;

	ASSERT_EQ(0, iova_ranges(fd, ioas_id, ranges, &num, &alignment));
	return alignment;
}

static int allow_iovas(int fd, uint32_t ioas_id,
		       const struct iommu_iova_range *ranges, uint32_t num)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.num_iovas = num,
		.allowed_iovas = (uintptr_t)ranges,
	};

	return ioctl(fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd);
}

/* IOMMU_OPTION; *val is the value to set, or gets the value read. */
static int option(int fd, uint32_t option_id, uint16_t op, uint32_t object_id,
		  uint64_t *val)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = option_id,
		.op = op,
		.object_id = object_id,
		.val64 = *val,
	};
	int rc = ioctl(fd, IOMMU_OPTION, &cmd);

	if (!rc)
		*val = cmd.val64;
	return rc;
}

static int set_huge_pages(int fd, uint32_t ioas_id, uint64_t enable)
{
	return option(fd, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_SET, ioas_id,
		      &enable);
}

/* A mock device attached to @pt_id (an IOAS or a HWPT). */
static int mock_domain(int fd, uint32_t pt_id, uint32_t *stdev_id,
		       uint32_t *hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = pt_id,
	};
	int rc = test_cmd(fd, &cmd);

	if (rc)
		return rc;
	if (stdev_id)
		*stdev_id = cmd.mock_domain.out_stdev_id;
	if (hwpt_id)
		*hwpt_id = cmd.mock_domain.out_hwpt_id;
	return 0;
}

static int set_temp_memory_limit(int fd, uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return test_cmd(fd, &cmd);
}

/* Upstream's default for the temporary-memory cap. */
#define DEFAULT_TEMP_MEMORY_LIMIT	65536

/* ------------------------------------------------------------------------
 * Memory and accounting helpers.
 */

/* Like alloc_buffer(), but shared: a forked child sees the same pages. */
static uint8_t *alloc_shared_buffer(size_t length)
{
	uint8_t *buf = mmap(NULL, length, PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0x5a, length);
	return buf;
}

/* @length bytes at an address aligned to @align; freed with free_buffer(). */
static uint8_t *alloc_aligned(size_t length, size_t align, int advice)
{
	uint8_t *raw = mmap(NULL, length + align, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *buf;
	size_t head;

	ASSERT_NE(MAP_FAILED, raw);
	buf = (uint8_t *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	head = buf - raw;
	if (head)
		ASSERT_EQ(0, munmap(raw, head));
	if (align - head)
		ASSERT_EQ(0, munmap(buf + length, align - head));
	ASSERT_EQ(0, madvise(buf, length, advice));
	for (size_t i = 0; i < length; i += PAGE)
		buf[i] = 1;
	return buf;
}

/*
 * Address space the kernel cannot pin: PROT_NONE keeps it reserved, so no
 * later mmap() can land there while a test relies on it being unusable.
 */
static uint8_t *alloc_hole(size_t length)
{
	uint8_t *hole = mmap(NULL, length, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, hole);
	return hole;
}

/* MD_CHECK_REFS needs a context: after the test's own fd is closed. */
static int check_refs_after_close(const void *uptr, uint64_t length)
{
	int fd = iommufd_open();
	int rc = check_refs(fd, uptr, length, 0);

	ASSERT_EQ(0, close(fd));
	return rc;
}

static void write_all(int fd, const void *data, size_t len)
{
	ASSERT_EQ((ssize_t)len, write(fd, data, len));
}

static void read_all(int fd, void *data, size_t len)
{
	ASSERT_EQ((ssize_t)len, read(fd, data, len));
}

/* ------------------------------------------------------------------------
 * One IOAS, with zero, one or two mock domains.  Most IOAS behaviour is
 * the same with and without a domain; where it is not, the test says so.
 */

enum { BUF_PAGES = 64 };

FIXTURE(ioas)
{
	int fd;
	uint32_t ioas_id;
	unsigned int ndomains;
	uint32_t stdev_ids[2];
	uint32_t hwpt_ids[2];
	bool selftest;
	/* An IOVA every variant can map at: the mock aperture's start. */
	uint64_t base;
	uint8_t *buf;		/* BUF_PAGES pages */
};

FIXTURE_VARIANT(ioas)
{
	unsigned int mock_domains;
	/* Non-zero: shrink the pinning code's temporary buffers to this. */
	uint32_t memory_limit;
};

FIXTURE_VARIANT_ADD(ioas, no_domain)
{
	.mock_domains = 0,
};

FIXTURE_VARIANT_ADD(ioas, mock_domain)
{
	.mock_domains = 1,
};

FIXTURE_VARIANT_ADD(ioas, two_mock_domains)
{
	.mock_domains = 2,
};

/* Upstream runs its IOAS tests with a 16-byte cap too, to force batching. */
FIXTURE_VARIANT_ADD(ioas, mock_domain_tiny_batches)
{
	.mock_domains = 1,
	.memory_limit = 16,
};

FIXTURE_SETUP(ioas)
{
	self->fd = iommufd_open();
	self->ioas_id = ioas_alloc(self->fd);
	self->selftest = selftest_available(self->fd);
	self->base = MOCK_APERTURE_START;
	if (variant->mock_domains && !self->selftest) {
		close(self->fd);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	if (variant->memory_limit)
		ASSERT_EQ(0, set_temp_memory_limit(self->fd,
						   variant->memory_limit));
	for (unsigned int i = 0; i < variant->mock_domains; i++)
		ASSERT_EQ(0, mock_domain(self->fd, self->ioas_id,
					 &self->stdev_ids[i],
					 &self->hwpt_ids[i]));
	self->ndomains = variant->mock_domains;
	self->buf = alloc_buffer(BUF_PAGES * PAGE);
}

FIXTURE_TEARDOWN(ioas)
{
	if (variant->memory_limit)
		EXPECT_EQ(0, set_temp_memory_limit(self->fd,
						   DEFAULT_TEMP_MEMORY_LIMIT));
	ASSERT_EQ(0, close(self->fd));
	free_buffer(self->buf, BUF_PAGES * PAGE);
}

/* Each of the @count mock domains maps [iova, iova + length) to @uptr. */
static void check_hwpts_map(int fd, const uint32_t *hwpt_ids,
			    unsigned int count, uint64_t iova, uint64_t length,
			    const void *uptr)
{
	for (unsigned int i = 0; i < count; i++)
		ASSERT_EQ(0, check_map(fd, hwpt_ids[i], iova, length, uptr));
}

/* The same for every mock domain of an ioas fixture (none: no check). */
#define check_domains_map(self, iova, length, uptr)			\
	check_hwpts_map((self)->fd, (self)->hwpt_ids, (self)->ndomains,	\
			iova, length, uptr)

/* --- IOMMU_IOAS_MAP ------------------------------------------------------ */

TEST_F(ioas, map_fixed_and_unmap_report_the_mapped_length)
{
	uint64_t iova = self->base;

	ASSERT_EQ(0, map_user(self->fd, self->ioas_id, self->buf, 16 * PAGE,
			      &iova, MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	ASSERT_EQ(self->base, iova);
	check_domains_map(self, iova, 16 * PAGE, self->buf);
	unmap_exact(self->fd, self->ioas_id, iova, 16 * PAGE);

	/* Many small areas side by side, freed by unmapping each. */
	for (int i = 0; i < 10; i++)
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, self->base + i * PAGE));
	for (int i = 0; i < 10; i++)
		unmap_exact(self->fd, self->ioas_id, self->base + i * PAGE,
			    PAGE);
}

/* iopt_alloc_iova() starts its search at PAGE_SIZE: never IOVA 0. */
TEST_F(ioas, map_auto_iova_is_never_zero_and_lies_in_a_usable_range)
{
	struct iommu_iova_range ranges[4];
	uint32_t num = ARRAY_LEN(ranges);
	uint64_t iovas[10];

	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas_id, ranges, &num, NULL));
	ASSERT_EQ(1, num);
	for (unsigned int i = 0; i < ARRAY_LEN(iovas); i++) {
		ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, self->buf,
				      PAGE, &iovas[i]));
		EXPECT_NE(0, iovas[i]);
		EXPECT_GE(iovas[i], ranges[0].start);
		EXPECT_LE(iovas[i] + PAGE - 1, ranges[0].last);
		check_domains_map(self, iovas[i], PAGE, self->buf);
	}
	for (unsigned int i = 0; i < ARRAY_LEN(iovas); i++)
		for (unsigned int j = 0; j < i; j++)
			EXPECT_NE(iovas[i], iovas[j]);
	for (unsigned int i = 0; i < ARRAY_LEN(iovas); i++)
		unmap_exact(self->fd, self->ioas_id, iovas[i], PAGE);
}

/*
 * iopt_alloc_iova(): the IOVA is aligned to min(roundup_pow_of_two(length),
 * the lowest set bit of the user address), and keeps the user address's
 * offset within its page, so that huge pages can back the IOVA.
 */
TEST_F(ioas, map_auto_iova_keeps_the_alignment_of_the_user_pointer)
{
	static const uint64_t lengths[] = { SZ_4K, 2 * SZ_4K, SZ_64K, SZ_2M };
	uint8_t *buf = alloc_aligned(2 * SZ_2M, SZ_2M, MADV_NOHUGEPAGE);
	uint64_t iova;

	for (unsigned int i = 0; i < ARRAY_LEN(lengths); i++) {
		ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, buf, lengths[i],
				      &iova));
		EXPECT_EQ(0, iova % lengths[i]);
		check_domains_map(self, iova, lengths[i], buf);
		unmap_exact(self->fd, self->ioas_id, iova, lengths[i]);
	}

	/* A user address 64 KiB past a 2 MiB boundary: 64 KiB alignment. */
	ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, buf + SZ_64K, SZ_1M,
			      &iova));
	EXPECT_EQ(0, iova % SZ_64K);
	unmap_exact(self->fd, self->ioas_id, iova, SZ_1M);

	/* Half a page in: the IOVA is half a page into its page too. */
	ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, buf + PAGE / 2, PAGE,
			      &iova));
	EXPECT_EQ(PAGE / 2, iova % PAGE);
	check_domains_map(self, iova, PAGE, buf + PAGE / 2);
	unmap_exact(self->fd, self->ioas_id, iova, PAGE);

	free_buffer(buf, 2 * SZ_2M);
}

/* iopt_check_iova(): any existing area in the range is EEXIST. */
TEST_F(ioas, map_fixed_over_an_existing_mapping_is_eexist)
{
	uint64_t at = self->base + 16 * PAGE;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 2 * PAGE,
			       at));
	EXPECT_ERRNO(EEXIST, map_fixed(self->fd, self->ioas_id, self->buf,
				       2 * PAGE, at));
	EXPECT_ERRNO(EEXIST, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, at));
	EXPECT_ERRNO(EEXIST, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, at + PAGE));
	EXPECT_ERRNO(EEXIST, map_fixed(self->fd, self->ioas_id, self->buf,
				       2 * PAGE, at - PAGE));
	EXPECT_ERRNO(EEXIST, map_fixed(self->fd, self->ioas_id, self->buf,
				       4 * PAGE, at - PAGE));
	/* Right next to it on both sides is free. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, PAGE,
			       at - PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, PAGE,
			       at + 2 * PAGE));
	EXPECT_EQ(4 * PAGE, unmap_all(self->fd, self->ioas_id));
}

/* iopt_alloc_pages() refuses a zero length. */
TEST_F(ioas, map_of_zero_length_is_einval)
{
	uint64_t iova = self->base;

	EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id, self->buf, 0,
				       self->base));
	EXPECT_ERRNO(EINVAL, map_auto(self->fd, self->ioas_id, self->buf, 0,
				      &iova));
}

/* iommufd_ioas_map(): at least one of READABLE and WRITEABLE. */
TEST_F(ioas, map_without_read_or_write_permission_is_einval)
{
	uint64_t iova = self->base;

	EXPECT_ERRNO(EINVAL, map_user(self->fd, self->ioas_id, self->buf, PAGE,
				      &iova, IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_ERRNO(EINVAL, map_user(self->fd, self->ioas_id, self->buf, PAGE,
				      &iova, 0));
	/* Either one alone is enough. */
	ASSERT_EQ(0, map_user(self->fd, self->ioas_id, self->buf, PAGE, &iova,
			      IOMMU_IOAS_MAP_READABLE));
	unmap_exact(self->fd, self->ioas_id, iova, PAGE);
	ASSERT_EQ(0, map_user(self->fd, self->ioas_id, self->buf, PAGE, &iova,
			      IOMMU_IOAS_MAP_WRITEABLE));
	unmap_exact(self->fd, self->ioas_id, iova, PAGE);
}

/* Unknown flags and a non-zero __reserved come before any other check. */
TEST_F(ioas, map_with_unknown_flags_or_reserved_set_is_eopnotsupp)
{
	static const uint32_t bad_flags[] = { 1u << 3, 1u << 16, 1u << 31 };
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW,
		.ioas_id = self->ioas_id,
		.user_va = (uintptr_t)self->buf,
		.length = PAGE,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(bad_flags); i++) {
		cmd.flags = MAP_RW | bad_flags[i];
		EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_MAP, &cmd));
	}
	cmd.flags = MAP_RW;
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_MAP, &cmd));
	/* Also before the length is looked at. */
	cmd.length = 0;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_MAP, &cmd));
}

/*
 * iommufd_ioas_map(): iova or length >= ULONG_MAX; iopt_alloc_pages():
 * user_va + length wraps; iopt_check_iova(): iova + length - 1 wraps;
 * iopt_alloc_iova(): an automatic IOVA for length >= ULONG_MAX / 2.
 */
TEST_F(ioas, map_with_overflowing_iova_or_length_is_eoverflow)
{
	const uint64_t top_page = UINT64_MAX - PAGE + 1;
	uint64_t iova = UINT64_MAX;

	EXPECT_ERRNO(EOVERFLOW, map_user(self->fd, self->ioas_id, self->buf,
					 PAGE, &iova,
					 MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_ERRNO(EOVERFLOW, map_auto(self->fd, self->ioas_id, self->buf,
					 UINT64_MAX, &iova));
	EXPECT_ERRNO(EOVERFLOW, map_fixed(self->fd, self->ioas_id,
					  (void *)(uintptr_t)top_page,
					  2 * PAGE, self->base));
	EXPECT_ERRNO(EOVERFLOW, map_fixed(self->fd, self->ioas_id, self->buf,
					  2 * PAGE, top_page));
	EXPECT_ERRNO(EOVERFLOW, map_auto(self->fd, self->ioas_id, self->buf,
					 1ULL << 63, &iova));
}

/* iommufd_get_ioas(): an unknown ID, or one of another type, is ENOENT. */
TEST_F(ioas, map_into_an_unknown_or_non_ioas_object_is_enoent)
{
	uint64_t iova = self->base;

	EXPECT_ERRNO(ENOENT, map_auto(self->fd, 0, self->buf, PAGE, &iova));
	EXPECT_ERRNO(ENOENT, map_auto(self->fd, self->ioas_id + 1000,
				      self->buf, PAGE, &iova));
	if (self->ndomains)
		EXPECT_ERRNO(ENOENT, map_auto(self->fd, self->hwpt_ids[0],
					      self->buf, PAGE, &iova));
}

/*
 * A mock domain's smallest page (MOCK_PAGE_SIZE) becomes the IOAS's IOVA
 * alignment: lengths, fixed IOVAs and user addresses must follow it
 * (iopt_alloc_area_pages(), iopt_check_iova(), iopt_insert_area()).
 * Without a domain there is no alignment at all.
 */
TEST_F(ioas, map_follows_the_iova_alignment)
{
	static const uint64_t lengths[] = {
		1, 100, 2047, 2048, 2049, 4095, 4096, 6144, 8192,
	};
	uint64_t align = self->ndomains ? MOCK_PAGE_SIZE : 1;
	uint64_t iova;

	ASSERT_EQ(align, iova_alignment(self->fd, self->ioas_id));
	for (unsigned int i = 0; i < ARRAY_LEN(lengths); i++) {
		if (lengths[i] % align) {
			EXPECT_ERRNO(EINVAL, map_auto(self->fd, self->ioas_id,
						      self->buf, lengths[i],
						      &iova));
			continue;
		}
		ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, self->buf,
				      lengths[i], &iova));
		unmap_exact(self->fd, self->ioas_id, iova, lengths[i]);
	}

	/* Half-page IOVA and user address together are fine either way. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf + PAGE / 2,
			       PAGE, self->base + PAGE / 2));
	check_domains_map(self, self->base + PAGE / 2, PAGE,
			  self->buf + PAGE / 2);
	unmap_exact(self->fd, self->ioas_id, self->base + PAGE / 2, PAGE);

	if (self->ndomains) {
		EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
					       self->buf, PAGE,
					       self->base + 1));
		EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
					       self->buf + 1, PAGE,
					       self->base));
		EXPECT_ERRNO(EINVAL, map_auto(self->fd, self->ioas_id,
					      self->buf + 1, PAGE, &iova));
	} else {
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf + 1,
				       PAGE - 1, self->base + 1));
		unmap_exact(self->fd, self->ioas_id, self->base + 1, PAGE - 1);
	}
}

/* iopt_check_iova(): a fixed IOVA range touching reserved IOVA is EINVAL. */
TEST_F(ioas, map_fixed_into_reserved_iova_is_einval)
{
	uint64_t reserved = self->base + 16 * PAGE;

	if (self->ndomains) {
		/* Everything outside the mock aperture is reserved. */
		EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
					       self->buf, PAGE,
					       MOCK_APERTURE_START - PAGE));
		EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
					       self->buf, 2 * PAGE,
					       MOCK_APERTURE_START - PAGE));
		EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
					       self->buf, PAGE,
					       MOCK_APERTURE_LAST + 1ULL));
		EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
					       self->buf, 2 * PAGE,
					       MOCK_APERTURE_LAST + 1ULL - PAGE));
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, MOCK_APERTURE_LAST + 1ULL - PAGE));
		unmap_exact(self->fd, self->ioas_id,
			    MOCK_APERTURE_LAST + 1ULL - PAGE, PAGE);
	}
	if (!self->selftest)
		SKIP("IOMMU_TEST_OP_ADD_RESERVED needs selftest=1");
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id, reserved,
				  4 * PAGE));
	EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, reserved));
	EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, reserved + 3 * PAGE));
	EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id, self->buf,
				       4 * PAGE, reserved - 2 * PAGE));
	/* Automatic IOVAs go around it. */
	for (int i = 0; i < 8; i++) {
		uint64_t iova;

		ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, self->buf,
				      (i + 1) * PAGE, &iova));
		EXPECT_TRUE(iova + (i + 1) * PAGE <= reserved ||
			    iova >= reserved + 4 * PAGE);
	}
	unmap_all(self->fd, self->ioas_id);
}

/*
 * With a domain, MAP pins at once and a user range that cannot be pinned
 * fails with EFAULT, half way through or at its first page, leaving
 * nothing pinned.  Without one MAP pins nothing (upstream pins lazily) and
 * succeeds; the EFAULT comes when a domain is attached and needs the pages.
 */
TEST_F(ioas, map_of_memory_that_cannot_be_pinned)
{
	uint8_t *half = alloc_buffer(8 * PAGE);
	uint8_t *hole = alloc_hole(8 * PAGE);
	struct vm_counters before = vm_counters(), after;
	uint64_t iova = self->base;

	ASSERT_EQ(0, mprotect(half + 4 * PAGE, 4 * PAGE, PROT_NONE));
	if (self->ndomains) {
		EXPECT_ERRNO(EFAULT, map_fixed(self->fd, self->ioas_id, half,
					       8 * PAGE, self->base));
		EXPECT_ERRNO(EFAULT, map_fixed(self->fd, self->ioas_id, hole,
					       8 * PAGE, self->base));
		EXPECT_ERRNO(EFAULT, map_auto(self->fd, self->ioas_id, hole,
					      PAGE, &iova));
		ASSERT_EQ(0, check_refs(self->fd, half, 4 * PAGE, 0));
		after = vm_counters();
		EXPECT_EQ(before.pin_kb, after.pin_kb);
		/* Nothing is left behind at that IOVA. */
		EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id,
						 self->base, 8 * PAGE, NULL));
	} else {
		uint32_t stdev_id;

		ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, hole, 8 * PAGE,
				       self->base));
		after = vm_counters();
		EXPECT_EQ(before.pin_kb, after.pin_kb);
		if (self->selftest)
			EXPECT_ERRNO(EFAULT, mock_domain(self->fd,
							 self->ioas_id,
							 &stdev_id, NULL));
		unmap_exact(self->fd, self->ioas_id, self->base, 8 * PAGE);
	}
	free_buffer(hole, 8 * PAGE);
	free_buffer(half, 8 * PAGE);
}

/*
 * A writeable mapping pins with FOLL_WRITE: read-only memory gives EFAULT
 * when a domain pins it.  Mapped readable only, it pins fine.
 */
TEST_F(ioas, map_writeable_of_read_only_memory_is_efault_when_pinned)
{
	uint8_t *ro = alloc_buffer(4 * PAGE);
	uint64_t iova = self->base;

	ASSERT_EQ(0, mprotect(ro, 4 * PAGE, PROT_READ));
	if (self->ndomains)
		EXPECT_ERRNO(EFAULT, map_fixed(self->fd, self->ioas_id, ro,
					       4 * PAGE, self->base));
	ASSERT_EQ(0, map_user(self->fd, self->ioas_id, ro, 4 * PAGE, &iova,
			      IOMMU_IOAS_MAP_READABLE |
			      IOMMU_IOAS_MAP_FIXED_IOVA));
	check_domains_map(self, iova, 4 * PAGE, ro);
	unmap_exact(self->fd, self->ioas_id, iova, 4 * PAGE);
	free_buffer(ro, 4 * PAGE);
}

/* With a domain, every mapped page holds exactly one pin (FOLL_PIN). */
TEST_F(ioas, mapped_pages_hold_one_pin_each_until_unmapped)
{
	if (!self->selftest)
		SKIP("IOMMU_TEST_OP_MD_CHECK_REFS needs selftest=1");
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_PAGES * PAGE, 0));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf,
			       BUF_PAGES * PAGE, self->base));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_PAGES * PAGE,
				self->ndomains ? 1 : 0));
	/* A second mapping of the same pages is a second pin. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       self->base + 2 * BUF_PAGES * PAGE));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, 4 * PAGE,
				self->ndomains ? 2 : 0));
	EXPECT_ERRNO(EIO, check_refs(self->fd, self->buf, 4 * PAGE, 5));
	unmap_all(self->fd, self->ioas_id);
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_PAGES * PAGE, 0));
}

/* --- IOMMU_IOAS_UNMAP ---------------------------------------------------- */

/* iopt_unmap_iova_range(): nothing unmapped is ENOENT. */
TEST_F(ioas, unmap_of_nothing_is_enoent)
{
	for (int i = 0; i < 10; i++)
		EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id,
						 i * PAGE, PAGE, NULL));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id, self->base,
					 SZ_1G, NULL));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, 0, self->base, PAGE, NULL));
}

/*
 * Unmap works on whole mappings only: a range that cuts one is ENOENT and
 * the mapping stays (iopt_unmap_iova_range(): "area_first < start ||
 * area_last > last").
 */
TEST_F(ioas, unmap_of_part_of_a_mapping_is_enoent_and_keeps_it)
{
	uint64_t at = self->base + 16 * PAGE;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       at));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id, at, PAGE,
					 NULL));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id,
					 at + 3 * PAGE, PAGE, NULL));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id, at + PAGE,
					 2 * PAGE, NULL));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id, at - PAGE,
					 2 * PAGE, NULL));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id, at,
					 4 * PAGE - 1, NULL));
	/* Still all there. */
	check_domains_map(self, at, 4 * PAGE, self->buf);
	EXPECT_ERRNO(EEXIST, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, at + PAGE));
	unmap_exact(self->fd, self->ioas_id, at, 4 * PAGE);
}

/* A range covering several whole mappings and the gaps between them. */
TEST_F(ioas, unmap_of_a_range_covering_whole_mappings_removes_them)
{
	uint64_t start = self->base + 4 * PAGE;
	uint64_t unmapped = 0;

	for (int i = 0; i < 4; i++)
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf,
				       8 * PAGE, start + i * 16 * PAGE));
	ASSERT_EQ(0, unmap_range(self->fd, self->ioas_id, start - 4 * PAGE,
				 4 * 16 * PAGE + 4 * PAGE, &unmapped));
	EXPECT_EQ(32 * PAGE, unmapped);
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id, 0,
					 UINT64_MAX - 1, NULL));
}

/* iova 0 and length U64_MAX: everything, and success on an empty IOAS. */
TEST_F(ioas, unmap_all_reports_the_bytes_and_succeeds_when_empty)
{
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, PAGE,
			       self->base));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 3 * PAGE,
			       self->base + 100 * PAGE));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 16 * PAGE,
			       self->base + SZ_1G));
	EXPECT_EQ(20 * PAGE, unmap_all(self->fd, self->ioas_id));
	EXPECT_EQ(0, unmap_all(self->fd, self->ioas_id));
	EXPECT_EQ(0, unmap_all(self->fd, self->ioas_id));
	/* And the IOVA is free again. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, PAGE,
			       self->base));
	EXPECT_EQ(PAGE, unmap_all(self->fd, self->ioas_id));
}

/*
 * iommufd_ioas_unmap(): outside the unmap-all form, iova or length >=
 * ULONG_MAX is EOVERFLOW; iopt_unmap_iova(): length 0 is EINVAL and
 * iova + length - 1 wrapping is EOVERFLOW.
 */
TEST_F(ioas, unmap_argument_errors)
{
	EXPECT_ERRNO(EINVAL, unmap_range(self->fd, self->ioas_id, self->base,
					 0, NULL));
	EXPECT_ERRNO(EOVERFLOW, unmap_range(self->fd, self->ioas_id,
					    UINT64_MAX, 1, NULL));
	EXPECT_ERRNO(EOVERFLOW, unmap_range(self->fd, self->ioas_id, PAGE,
					    UINT64_MAX, NULL));
	EXPECT_ERRNO(EOVERFLOW, unmap_range(self->fd, self->ioas_id,
					    UINT64_MAX - PAGE + 1, 2 * PAGE,
					    NULL));
	EXPECT_ERRNO(ENOENT, unmap_range(self->fd, self->ioas_id + 1000, 0,
					 UINT64_MAX, NULL));
}

/* --- IOMMU_IOAS_COPY ----------------------------------------------------- */

TEST_F(ioas, copy_within_one_ioas_and_to_another)
{
	uint32_t other = ioas_alloc(self->fd);
	uint64_t dst = self->base + 64 * PAGE;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 16 * PAGE,
			       self->base));

	/* Inside one IOAS: the copy maps the same pages. */
	ASSERT_EQ(0, copy_fixed(self->fd, self->ioas_id, self->ioas_id,
				self->base, 16 * PAGE, dst));
	check_domains_map(self, dst, 16 * PAGE, self->buf);

	/* A slice to another IOAS, at an IOVA the kernel picks. */
	ASSERT_EQ(0, copy_range(self->fd, other, self->ioas_id,
				self->base + 4 * PAGE, 4 * PAGE, &dst, MAP_RW));
	EXPECT_NE(0, dst);
	unmap_exact(self->fd, other, dst, 4 * PAGE);

	/* The copy outlives the source mapping. */
	ASSERT_EQ(0, copy_fixed(self->fd, self->ioas_id, self->ioas_id,
				self->base, 16 * PAGE, self->base + SZ_1M));
	unmap_exact(self->fd, self->ioas_id, self->base, 16 * PAGE);
	check_domains_map(self, self->base + SZ_1M, 16 * PAGE, self->buf);
	EXPECT_EQ(32 * PAGE, unmap_all(self->fd, self->ioas_id));
	ASSERT_EQ(0, destroy(self->fd, other));
}

/* A copy into an IOAS with a mock domain of its own maps the user's pages. */
TEST_F(ioas, copy_into_another_mock_domain_maps_the_same_pages)
{
	uint32_t other, hwpt_id;
	uint64_t dst;

	if (!self->selftest)
		SKIP("needs selftest=1");
	other = ioas_alloc(self->fd);
	ASSERT_EQ(0, mock_domain(self->fd, other, NULL, &hwpt_id));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 16 * PAGE,
			       self->base));
	ASSERT_EQ(0, copy_range(self->fd, other, self->ioas_id,
				self->base + 8 * PAGE, 8 * PAGE, &dst, MAP_RW));
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, dst, 8 * PAGE,
			       self->buf + 8 * PAGE));
	/* Pinned once, whichever domains need the pages. */
	ASSERT_EQ(0, check_refs(self->fd, self->buf + 8 * PAGE, 8 * PAGE, 1));
	unmap_exact(self->fd, self->ioas_id, self->base, 16 * PAGE);
	ASSERT_EQ(0, check_map(self->fd, hwpt_id, dst, 8 * PAGE,
			       self->buf + 8 * PAGE));
	unmap_exact(self->fd, other, dst, 8 * PAGE);
	ASSERT_EQ(0, check_refs(self->fd, self->buf, 16 * PAGE, 0));
}

/*
 * iopt_get_pages(): the source range must be covered by mappings without
 * a gap, else ENOENT; adjacent mappings count as one range.
 */
TEST_F(ioas, copy_of_a_range_not_fully_mapped_is_enoent)
{
	uint32_t other = ioas_alloc(self->fd);
	uint64_t dst = 0;

	EXPECT_ERRNO(ENOENT, copy_range(self->fd, other, self->ioas_id,
					self->base, PAGE, &dst, MAP_RW));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       self->base));
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       self->base + 8 * PAGE));
	/* Across the gap, into it, out of it, before the first mapping. */
	EXPECT_ERRNO(ENOENT, copy_range(self->fd, other, self->ioas_id,
					self->base, 12 * PAGE, &dst, MAP_RW));
	EXPECT_ERRNO(ENOENT, copy_range(self->fd, other, self->ioas_id,
					self->base + 2 * PAGE, 4 * PAGE, &dst,
					MAP_RW));
	EXPECT_ERRNO(ENOENT, copy_range(self->fd, other, self->ioas_id,
					self->base + 6 * PAGE, 4 * PAGE, &dst,
					MAP_RW));
	EXPECT_ERRNO(ENOENT, copy_range(self->fd, other, self->ioas_id,
					self->base - PAGE, 2 * PAGE, &dst,
					MAP_RW));
	EXPECT_ERRNO(ENOENT, copy_range(self->fd, other, self->ioas_id + 1000,
					self->base, PAGE, &dst, MAP_RW));

	/* Fill the gap: the three mappings now copy as one. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf + 4 * PAGE,
			       4 * PAGE, self->base + 4 * PAGE));
	ASSERT_EQ(0, copy_range(self->fd, other, self->ioas_id, self->base,
				12 * PAGE, &dst, MAP_RW));
	unmap_exact(self->fd, other, dst, 12 * PAGE);
	ASSERT_EQ(0, destroy(self->fd, other));
}

TEST_F(ioas, copy_argument_errors)
{
	uint32_t other = ioas_alloc(self->fd);
	uint64_t dst = self->base;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       self->base));
	ASSERT_EQ(0, map_fixed(self->fd, other, self->buf, PAGE, self->base));

	/* Bit 16 is left out: self-test kernels take it as a fuzzer flag. */
	EXPECT_ERRNO(EOPNOTSUPP, copy_range(self->fd, other, self->ioas_id,
					    self->base, PAGE, &dst,
					    MAP_RW | (1u << 3)));
	EXPECT_ERRNO(EOPNOTSUPP, copy_range(self->fd, other, self->ioas_id,
					    self->base, PAGE, &dst,
					    MAP_RW | (1u << 31)));
	EXPECT_ERRNO(EINVAL, copy_range(self->fd, other, self->ioas_id,
					self->base, PAGE, &dst,
					IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_ERRNO(EINVAL, copy_range(self->fd, other, self->ioas_id,
					self->base, 0, &dst, MAP_RW));
	EXPECT_ERRNO(EOVERFLOW, copy_range(self->fd, other, self->ioas_id,
					   self->base, UINT64_MAX, &dst,
					   MAP_RW));
	EXPECT_ERRNO(EOVERFLOW, copy_range(self->fd, other, self->ioas_id,
					   UINT64_MAX, PAGE, &dst, MAP_RW));
	dst = UINT64_MAX;
	EXPECT_ERRNO(EOVERFLOW, copy_range(self->fd, other, self->ioas_id,
					   self->base, PAGE, &dst,
					   MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	/* Destination problems come after the source is found. */
	dst = self->base;
	EXPECT_ERRNO(ENOENT, copy_range(self->fd, other + 1000, self->ioas_id,
					self->base, PAGE, &dst, MAP_RW));
	EXPECT_ERRNO(EEXIST, copy_range(self->fd, other, self->ioas_id,
					self->base, 2 * PAGE, &dst,
					MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_EQ(PAGE, unmap_all(self->fd, other));
	ASSERT_EQ(0, destroy(self->fd, other));
	EXPECT_EQ(4 * PAGE, unmap_all(self->fd, self->ioas_id));
}

/* iopt_insert_area(): a writeable area over read-only pages is EPERM. */
TEST_F(ioas, copy_writeable_from_a_read_only_mapping_is_eperm)
{
	uint32_t other = ioas_alloc(self->fd);
	uint64_t iova = self->base, dst = 0;

	ASSERT_EQ(0, map_user(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			      &iova, IOMMU_IOAS_MAP_READABLE |
			      IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_ERRNO(EPERM, copy_range(self->fd, other, self->ioas_id,
				       self->base, 4 * PAGE, &dst, MAP_RW));
	ASSERT_EQ(0, copy_range(self->fd, other, self->ioas_id, self->base,
				4 * PAGE, &dst, IOMMU_IOAS_MAP_READABLE));
	unmap_exact(self->fd, other, dst, 4 * PAGE);
	ASSERT_EQ(0, destroy(self->fd, other));
}

/*
 * Byte-granular copies out of one mapping, into an IOAS without a domain
 * (no alignment there): every start offset inside the mapping works, any
 * range reaching outside it is ENOENT.
 */
TEST_F(ioas, copy_sweeps_byte_offsets_over_a_mapping)
{
	/* Without a domain the mapping may end at any byte. */
	uint64_t length = self->ndomains ? 8 * PAGE : 8 * PAGE - 1;
	uint64_t last = self->base + length - 1;
	uint32_t dst_ioas = ioas_alloc(self->fd);
	const uint64_t chunk = MOCK_PAGE_SIZE;

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, length,
			       self->base));
	for (uint64_t src = self->base - PAGE; src <= last; src += 511) {
		bool inside = src >= self->base && src + chunk - 1 <= last;

		if (!inside) {
			EXPECT_ERRNO(ENOENT, copy_fixed(self->fd, dst_ioas,
							self->ioas_id, src,
							chunk, self->base));
			continue;
		}
		ASSERT_EQ(0, copy_fixed(self->fd, dst_ioas, self->ioas_id,
					src, chunk, self->base));
		unmap_exact(self->fd, dst_ioas, self->base, chunk);
	}
	ASSERT_EQ(0, destroy(self->fd, dst_ioas));
}

/* --- IOMMU_IOAS_IOVA_RANGES ---------------------------------------------- */

TEST_F(ioas, iova_ranges_are_the_whole_space_or_the_mock_aperture)
{
	struct iommu_iova_range ranges[4];
	uint32_t num = ARRAY_LEN(ranges);
	uint64_t alignment = 0;

	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas_id, ranges, &num,
				 &alignment));
	ASSERT_EQ(1, num);
	if (self->ndomains) {
		EXPECT_EQ(MOCK_APERTURE_START, ranges[0].start);
		EXPECT_EQ(MOCK_APERTURE_LAST, ranges[0].last);
		EXPECT_EQ(MOCK_PAGE_SIZE, alignment);
	} else {
		EXPECT_EQ(0, ranges[0].start);
		EXPECT_EQ(UINT64_MAX, ranges[0].last);
		EXPECT_EQ(1, alignment);
	}
}

/*
 * iommufd_ioas_iova_ranges(): too small an array is EMSGSIZE; num_iovas
 * then holds the count needed, the array holds as many ranges as fitted
 * and out_iova_alignment is set.  With num_iovas 0 the array pointer is
 * not touched at all.
 */
TEST_F(ioas, iova_ranges_with_too_small_an_array_is_emsgsize_and_counts)
{
	struct iommu_iova_range ranges[3];
	uint32_t num = 0;
	uint64_t alignment = 0;

	EXPECT_ERRNO(EMSGSIZE, iova_ranges(self->fd, self->ioas_id, NULL, &num,
					   &alignment));
	EXPECT_EQ(1, num);
	EXPECT_EQ(self->ndomains ? MOCK_PAGE_SIZE : 1, alignment);

	if (!self->selftest)
		SKIP("a second range needs IOMMU_TEST_OP_ADD_RESERVED");
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id,
				  self->base + 16 * PAGE, PAGE));
	memset(ranges, 0xa5, sizeof(ranges));
	num = 1;
	EXPECT_ERRNO(EMSGSIZE, iova_ranges(self->fd, self->ioas_id, ranges,
					   &num, &alignment));
	EXPECT_EQ(2, num);
	EXPECT_EQ(self->ndomains ? MOCK_APERTURE_START : 0, ranges[0].start);
	EXPECT_EQ(self->base + 16 * PAGE - 1, ranges[0].last);
	/* Nothing written past what was offered. */
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, ranges[1].start);
	EXPECT_EQ(0xa5a5a5a5a5a5a5a5ULL, ranges[1].last);

	num = ARRAY_LEN(ranges);
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas_id, ranges, &num, NULL));
	ASSERT_EQ(2, num);
	EXPECT_EQ(self->base + 17 * PAGE, ranges[1].start);
	EXPECT_EQ(self->ndomains ? MOCK_APERTURE_LAST : UINT64_MAX,
		  ranges[1].last);
}

/* Reserved IOVA splits the usable ranges; outside the aperture it is moot. */
TEST_F(ioas, iova_ranges_leave_out_reserved_iova)
{
	struct iommu_iova_range ranges[4];
	uint32_t num = ARRAY_LEN(ranges);

	if (!self->selftest)
		SKIP("IOMMU_TEST_OP_ADD_RESERVED needs selftest=1");
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id, PAGE, PAGE));
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas_id, ranges, &num, NULL));
	if (self->ndomains) {
		ASSERT_EQ(1, num);
		EXPECT_EQ(MOCK_APERTURE_START, ranges[0].start);
		EXPECT_EQ(MOCK_APERTURE_LAST, ranges[0].last);
	} else {
		ASSERT_EQ(2, num);
		EXPECT_EQ(0, ranges[0].start);
		EXPECT_EQ(PAGE - 1, ranges[0].last);
		EXPECT_EQ(2 * PAGE, ranges[1].start);
		EXPECT_EQ(UINT64_MAX, ranges[1].last);
	}

	/* Reserved ranges may touch or overlap each other. */
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id,
				  self->base + 16 * PAGE, 4 * PAGE));
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id,
				  self->base + 18 * PAGE, 4 * PAGE));
	num = ARRAY_LEN(ranges);
	ASSERT_EQ(0, iova_ranges(self->fd, self->ioas_id, ranges, &num, NULL));
	ASSERT_EQ(self->ndomains ? 2 : 3, num);
	EXPECT_EQ(self->base + 16 * PAGE - 1, ranges[num - 2].last);
	EXPECT_EQ(self->base + 22 * PAGE, ranges[num - 1].start);
}

TEST_F(ioas, iova_ranges_argument_errors)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
	};
	uint8_t *hole = alloc_hole(PAGE);
	uint32_t num = 1;

	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_IOVA_RANGES, &cmd));
	EXPECT_ERRNO(ENOENT, iova_ranges(self->fd, self->ioas_id + 1000, NULL,
					 &num, NULL));
	num = 1;
	EXPECT_ERRNO(EFAULT, iova_ranges(self->fd, self->ioas_id,
					 (struct iommu_iova_range *)hole, &num,
					 NULL));
	free_buffer(hole, PAGE);
}

/* The ranges follow mock domains as they come and go. */
TEST(iova_ranges_follow_a_mock_domain_attached_and_detached)
{
	struct iommu_iova_range ranges[4];
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	uint32_t num = ARRAY_LEN(ranges);
	uint32_t stdev_id;
	uint64_t alignment;

	REQUIRE_SELFTEST(fd);
	ASSERT_EQ(0, add_reserved(fd, ioas_id, MOCK_APERTURE_START + SZ_1M,
				  SZ_1M));
	ASSERT_EQ(0, mock_domain(fd, ioas_id, &stdev_id, NULL));
	ASSERT_EQ(0, iova_ranges(fd, ioas_id, ranges, &num, &alignment));
	ASSERT_EQ(2, num);
	EXPECT_EQ(MOCK_APERTURE_START, ranges[0].start);
	EXPECT_EQ(MOCK_APERTURE_START + SZ_1M - 1, ranges[0].last);
	EXPECT_EQ(MOCK_APERTURE_START + 2 * SZ_1M, ranges[1].start);
	EXPECT_EQ(MOCK_APERTURE_LAST, ranges[1].last);
	EXPECT_EQ(MOCK_PAGE_SIZE, alignment);

	/* Unplugging the device drops the aperture, not the test's range. */
	ASSERT_EQ(0, destroy(fd, stdev_id));
	num = ARRAY_LEN(ranges);
	ASSERT_EQ(0, iova_ranges(fd, ioas_id, ranges, &num, &alignment));
	ASSERT_EQ(2, num);
	EXPECT_EQ(0, ranges[0].start);
	EXPECT_EQ(MOCK_APERTURE_START + SZ_1M - 1, ranges[0].last);
	EXPECT_EQ(MOCK_APERTURE_START + 2 * SZ_1M, ranges[1].start);
	EXPECT_EQ(UINT64_MAX, ranges[1].last);
	EXPECT_EQ(1, alignment);
	ASSERT_EQ(0, close(fd));
}

/* --- IOMMU_IOAS_ALLOW_IOVAS and IOMMU_TEST_OP_ADD_RESERVED --------------- */

/*
 * iommufd_ioas_load_iovas(): start >= last (a one-byte range included) and
 * ranges overlapping each other are EINVAL.
 */
TEST_F(ioas, allow_iovas_rejects_empty_inverted_and_overlapping_ranges)
{
	struct iommu_iova_range ranges[2] = {
		{ .start = self->base, .last = self->base },
	};
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
	};
	uint8_t *hole = alloc_hole(PAGE);

	EXPECT_ERRNO(EINVAL, allow_iovas(self->fd, self->ioas_id, ranges, 1));
	ranges[0].last = self->base - 1;
	EXPECT_ERRNO(EINVAL, allow_iovas(self->fd, self->ioas_id, ranges, 1));
	ranges[0].last = self->base + 8 * PAGE - 1;
	ranges[1].start = self->base + 4 * PAGE;
	ranges[1].last = self->base + 12 * PAGE - 1;
	EXPECT_ERRNO(EINVAL, allow_iovas(self->fd, self->ioas_id, ranges, 2));
	ranges[1].start = self->base + 8 * PAGE;
	ASSERT_EQ(0, allow_iovas(self->fd, self->ioas_id, ranges, 2));
	/* num_iovas 0 clears the list; the pointer is not read. */
	ASSERT_EQ(0, allow_iovas(self->fd, self->ioas_id, NULL, 0));

	EXPECT_ERRNO(EFAULT, allow_iovas(self->fd, self->ioas_id,
					 (void *)hole, 1));
	EXPECT_ERRNO(ENOENT, allow_iovas(self->fd, self->ioas_id + 1000,
					 ranges, 1));
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(self->fd, IOMMU_IOAS_ALLOW_IOVAS, &cmd));
	free_buffer(hole, PAGE);
}

/*
 * Allowed and reserved IOVA may never intersect (iopt_set_allow_iova(),
 * iopt_reserve_iova()): whichever comes second is EADDRINUSE.  With a mock
 * domain everything outside the aperture is reserved.
 */
TEST_F(ioas, allowed_and_reserved_iova_exclude_each_other)
{
	struct iommu_iova_range range = {
		.start = self->base,
		.last = self->base + 64 * PAGE - 1,
	};
	struct iommu_iova_range below_aperture = {
		.start = PAGE,
		.last = 2 * PAGE - 1,
	};

	if (self->ndomains)
		EXPECT_ERRNO(EADDRINUSE, allow_iovas(self->fd, self->ioas_id,
						     &below_aperture, 1));
	else
		ASSERT_EQ(0, allow_iovas(self->fd, self->ioas_id,
					 &below_aperture, 1));
	if (!self->selftest)
		SKIP("IOMMU_TEST_OP_ADD_RESERVED needs selftest=1");

	ASSERT_EQ(0, allow_iovas(self->fd, self->ioas_id, &range, 1));
	EXPECT_ERRNO(EADDRINUSE, add_reserved(self->fd, self->ioas_id,
					      self->base + PAGE, PAGE));
	EXPECT_ERRNO(EADDRINUSE, add_reserved(self->fd, self->ioas_id,
					      self->base - PAGE, 2 * PAGE));
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id,
				  self->base + 64 * PAGE, PAGE));

	ASSERT_EQ(0, allow_iovas(self->fd, self->ioas_id, NULL, 0));
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id, self->base + PAGE,
				  PAGE));
	EXPECT_ERRNO(EADDRINUSE, allow_iovas(self->fd, self->ioas_id, &range,
					     1));
}

/*
 * A failed IOMMU_IOAS_ALLOW_IOVAS leaves the previous list in place
 * (upstream swaps the whole tree, and swaps it back on error).
 */
TEST_F(ioas, a_refused_allow_iovas_keeps_the_previous_ranges)
{
	struct iommu_iova_range good = {
		.start = self->base,
		.last = self->base + 4 * PAGE - 1,
	};
	struct iommu_iova_range bad[2] = {
		{ .start = self->base + 8 * PAGE,
		  .last = self->base + 16 * PAGE - 1 },
		{ .start = self->base + 32 * PAGE,
		  .last = self->base + 48 * PAGE - 1 },
	};
	uint64_t iova;

	if (!self->selftest)
		SKIP("IOMMU_TEST_OP_ADD_RESERVED needs selftest=1");
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id,
				  self->base + 40 * PAGE, PAGE));
	ASSERT_EQ(0, allow_iovas(self->fd, self->ioas_id, &good, 1));
	EXPECT_ERRNO(EADDRINUSE, allow_iovas(self->fd, self->ioas_id, bad, 2));
	/* Allocation still comes from the first list. */
	ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			      &iova));
	EXPECT_EQ(self->base, iova);
	unmap_exact(self->fd, self->ioas_id, iova, 4 * PAGE);
}

/*
 * iopt_alloc_iova() only picks IOVAs inside the allowed ranges, ENOSPC
 * when none fits; fixed IOVAs are not bound by them (iopt_check_iova()
 * looks at reserved IOVA and existing mappings only).
 */
TEST_F(ioas, auto_iova_comes_from_the_allowed_ranges_else_enospc)
{
	struct iommu_iova_range range = {
		.start = self->base + 64 * PAGE,
		.last = self->base + 72 * PAGE - 1,
	};
	uint64_t iovas[2];

	ASSERT_EQ(0, allow_iovas(self->fd, self->ioas_id, &range, 1));
	ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, self->buf, 8 * PAGE,
			      &iovas[0]));
	EXPECT_EQ(range.start, iovas[0]);
	EXPECT_ERRNO(ENOSPC, map_auto(self->fd, self->ioas_id, self->buf, PAGE,
				      &iovas[1]));
	unmap_exact(self->fd, self->ioas_id, iovas[0], 8 * PAGE);

	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, map_auto(self->fd, self->ioas_id, self->buf,
				      4 * PAGE, &iovas[i]));
		EXPECT_GE(iovas[i], range.start);
		EXPECT_LE(iovas[i] + 4 * PAGE - 1, range.last);
	}
	EXPECT_ERRNO(ENOSPC, map_auto(self->fd, self->ioas_id, self->buf, PAGE,
				      &iovas[0]));
	EXPECT_ERRNO(ENOSPC, map_auto(self->fd, self->ioas_id, self->buf,
				      16 * PAGE, &iovas[0]));

	/* Fixed mappings elsewhere are still fine. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, PAGE,
			       self->base));
	EXPECT_EQ(9 * PAGE, unmap_all(self->fd, self->ioas_id));
}

/* iommufd_test_add_reserved() and iopt_reserve_iova(). */
TEST_F(ioas, add_reserved_argument_errors)
{
	if (!self->selftest)
		SKIP("IOMMU_TEST_OP_ADD_RESERVED needs selftest=1");
	EXPECT_ERRNO(EINVAL, add_reserved(self->fd, self->ioas_id, self->base,
					  0));
	EXPECT_ERRNO(EOVERFLOW, add_reserved(self->fd, self->ioas_id,
					     UINT64_MAX - PAGE + 1, 2 * PAGE));
	EXPECT_ERRNO(ENOENT, add_reserved(self->fd, self->ioas_id + 1000,
					  self->base, PAGE));
	/* Not over an existing mapping. */
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       self->base));
	EXPECT_ERRNO(EADDRINUSE, add_reserved(self->fd, self->ioas_id,
					      self->base + 3 * PAGE, 2 * PAGE));
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id,
				  self->base + 4 * PAGE, 2 * PAGE));
	unmap_exact(self->fd, self->ioas_id, self->base, 4 * PAGE);
}

/* --- object lifetime ----------------------------------------------------- */

/*
 * An IOAS with a device attached is in use (EBUSY); without one it can be
 * destroyed with mappings in it, which go with it.
 */
TEST_F(ioas, destroy_of_an_ioas_is_ebusy_only_while_a_device_uses_it)
{
	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, 4 * PAGE,
			       self->base));
	if (self->ndomains) {
		EXPECT_ERRNO(EBUSY, destroy(self->fd, self->ioas_id));
		/* Still usable. */
		check_domains_map(self, self->base, 4 * PAGE, self->buf);
		for (unsigned int i = 0; i < self->ndomains; i++)
			ASSERT_EQ(0, destroy(self->fd, self->stdev_ids[i]));
		self->ndomains = 0;
		ASSERT_EQ(0, check_refs(self->fd, self->buf, 4 * PAGE, 0));
	}
	ASSERT_EQ(0, destroy(self->fd, self->ioas_id));
	EXPECT_ERRNO(ENOENT, destroy(self->fd, self->ioas_id));
}

/* --- IOMMU_OPTION_HUGE_PAGES --------------------------------------------- */

TEST_F(ioas, huge_pages_option_gets_and_sets_per_ioas)
{
	uint64_t val = 3;

	ASSERT_EQ(0, option(self->fd, IOMMU_OPTION_HUGE_PAGES,
			    IOMMU_OPTION_OP_GET, self->ioas_id, &val));
	EXPECT_EQ(1, val);
	ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 0));
	val = 3;
	ASSERT_EQ(0, option(self->fd, IOMMU_OPTION_HUGE_PAGES,
			    IOMMU_OPTION_OP_GET, self->ioas_id, &val));
	EXPECT_EQ(0, val);
	/* Setting the value it already has is fine. */
	ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 0));

	EXPECT_ERRNO(EINVAL, set_huge_pages(self->fd, self->ioas_id, 2));
	val = 0;
	EXPECT_ERRNO(EOPNOTSUPP, option(self->fd, IOMMU_OPTION_HUGE_PAGES, 2,
					self->ioas_id, &val));
	/* The object is an IOAS: 0 or any other ID is ENOENT. */
	EXPECT_ERRNO(ENOENT, set_huge_pages(self->fd, 0, 1));
	EXPECT_ERRNO(ENOENT, option(self->fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_GET, 0, &val));
	if (self->ndomains)
		EXPECT_ERRNO(ENOENT, set_huge_pages(self->fd,
						    self->hwpt_ids[0], 1));
	ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 1));
	val = 0;
	ASSERT_EQ(0, option(self->fd, IOMMU_OPTION_HUGE_PAGES,
			    IOMMU_OPTION_OP_GET, self->ioas_id, &val));
	EXPECT_EQ(1, val);
}

/*
 * Disabling huge pages raises the IOVA alignment to PAGE_SIZE
 * (iopt_calculate_iova_alignment()); existing mappings that do not fit are
 * EADDRINUSE, and once a domain holds pages it is refused with EINVAL
 * (iopt_disable_large_pages()).
 */
TEST_F(ioas, disabling_huge_pages_raises_the_iova_alignment)
{
	uint64_t misaligned = self->base + PAGE / 2;

	if (self->ndomains) {
		ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf,
				       PAGE, self->base));
		EXPECT_ERRNO(EINVAL, set_huge_pages(self->fd, self->ioas_id,
						    0));
		unmap_exact(self->fd, self->ioas_id, self->base, PAGE);
		ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 0));
		EXPECT_EQ(PAGE, iova_alignment(self->fd, self->ioas_id));
		EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
					       self->buf + PAGE / 2, PAGE,
					       misaligned));
		ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 1));
		EXPECT_EQ(MOCK_PAGE_SIZE,
			  iova_alignment(self->fd, self->ioas_id));
		return;
	}

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf, PAGE,
			       self->base + 4 * PAGE));
	ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 0));
	EXPECT_EQ(PAGE, iova_alignment(self->fd, self->ioas_id));
	EXPECT_ERRNO(EINVAL, map_fixed(self->fd, self->ioas_id,
				       self->buf + PAGE / 2, PAGE, misaligned));
	ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 1));
	EXPECT_EQ(1, iova_alignment(self->fd, self->ioas_id));

	ASSERT_EQ(0, map_fixed(self->fd, self->ioas_id, self->buf + PAGE / 2,
			       PAGE, misaligned));
	EXPECT_ERRNO(EADDRINUSE, set_huge_pages(self->fd, self->ioas_id, 0));
	EXPECT_EQ(1, iova_alignment(self->fd, self->ioas_id));
	EXPECT_EQ(2 * PAGE, unmap_all(self->fd, self->ioas_id));
	ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 0));
	ASSERT_EQ(0, set_huge_pages(self->fd, self->ioas_id, 1));
}

/* --- IOMMU_IOAS_MAP_FILE -------------------------------------------------- */

#ifdef IOMMU_IOAS_MAP_FILE

static int map_file(int fd, uint32_t ioas_id, int mfd, uint64_t start,
		    uint64_t length, uint64_t *iova, uint32_t flags)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.ioas_id = ioas_id,
		.fd = mfd,
		.start = start,
		.length = length,
		.iova = (flags & IOMMU_IOAS_MAP_FIXED_IOVA) ? *iova : 0,
	};
	int rc = ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd);

	if (!rc)
		*iova = cmd.iova;
	return rc;
}

static int map_file_fixed(int fd, uint32_t ioas_id, int mfd, uint64_t start,
			  uint64_t length, uint64_t iova)
{
	return map_file(fd, ioas_id, mfd, start, length, &iova,
			MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA);
}

/* A memfd of @length bytes, filled, and its shared mapping in *@mem. */
static int make_memfd(size_t length, unsigned int mfd_flags, uint8_t **mem)
{
	int mfd = memfd_create("ioas-test", MFD_CLOEXEC | mfd_flags);

	ASSERT_NE(-1, mfd);
	ASSERT_EQ(0, ftruncate(mfd, (off_t)length));
	*mem = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, *mem);
	for (size_t i = 0; i < length; i += PAGE)
		(*mem)[i] = (uint8_t)(i / PAGE + 1);
	return mfd;
}

TEST_F(ioas, map_file_maps_the_pages_of_a_memfd)
{
	uint8_t *mem;
	int mfd = make_memfd(16 * PAGE, 0, &mem);
	uint64_t iova;

	ASSERT_EQ(0, map_file_fixed(self->fd, self->ioas_id, mfd, 0,
				    16 * PAGE, self->base));
	check_domains_map(self, self->base, 16 * PAGE, mem);

	/* A slice, at an IOVA the kernel picks. */
	ASSERT_EQ(0, map_file(self->fd, self->ioas_id, mfd, 4 * PAGE, 4 * PAGE,
			      &iova, MAP_RW));
	EXPECT_NE(0, iova);
	check_domains_map(self, iova, 4 * PAGE, mem + 4 * PAGE);

	/* The mapping holds the file: closing every other reference is fine. */
	ASSERT_EQ(0, close(mfd));
	ASSERT_EQ(0, munmap(mem, 16 * PAGE));
	unmap_exact(self->fd, self->ioas_id, iova, 4 * PAGE);
	unmap_exact(self->fd, self->ioas_id, self->base, 16 * PAGE);
}

/* A start inside a page lands at the same offset of the IOVA's page. */
TEST_F(ioas, map_file_at_an_offset_inside_a_page)
{
	uint8_t *mem;
	int mfd = make_memfd(8 * PAGE, 0, &mem);
	uint64_t iova;

	ASSERT_EQ(0, map_file_fixed(self->fd, self->ioas_id, mfd,
				    PAGE + PAGE / 2, 4 * PAGE,
				    self->base + PAGE / 2));
	check_domains_map(self, self->base + PAGE / 2, 4 * PAGE,
			  mem + PAGE + PAGE / 2);
	ASSERT_EQ(0, map_file(self->fd, self->ioas_id, mfd, PAGE / 2, PAGE,
			      &iova, MAP_RW));
	EXPECT_EQ(PAGE / 2, iova % PAGE);
	EXPECT_EQ(5 * PAGE, unmap_all(self->fd, self->ioas_id));
	ASSERT_EQ(0, munmap(mem, 8 * PAGE));
	ASSERT_EQ(0, close(mfd));
}

/*
 * iommufd_ioas_map_file() and iopt_map_file_pages(): flags as for
 * IOMMU_IOAS_MAP, a length of 0 is EINVAL, start + length - 1 wrapping is
 * EOVERFLOW, and a descriptor that is no open file is EBADF.  Each case is
 * otherwise valid, so the answer does not depend on the order of checks.
 */
TEST_F(ioas, map_file_argument_errors)
{
	uint8_t *mem;
	int mfd = make_memfd(4 * PAGE, 0, &mem);
	int closed_fd = dup(mfd);
	uint64_t iova = self->base;

	ASSERT_NE(-1, closed_fd);
	ASSERT_EQ(0, close(closed_fd));
	EXPECT_ERRNO(EBADF, map_file_fixed(self->fd, self->ioas_id, -1, 0,
					   PAGE, self->base));
	EXPECT_ERRNO(EBADF, map_file_fixed(self->fd, self->ioas_id, closed_fd,
					   0, PAGE, self->base));
	EXPECT_ERRNO(EINVAL, map_file_fixed(self->fd, self->ioas_id, mfd, 0, 0,
					    self->base));
	EXPECT_ERRNO(EOVERFLOW, map_file_fixed(self->fd, self->ioas_id, mfd,
					       UINT64_MAX - PAGE + 1, 2 * PAGE,
					       self->base));
	EXPECT_ERRNO(EOVERFLOW, map_file_fixed(self->fd, self->ioas_id, mfd, 0,
					       UINT64_MAX, self->base));
	EXPECT_ERRNO(EOVERFLOW, map_file_fixed(self->fd, self->ioas_id, mfd, 0,
					       PAGE, UINT64_MAX));
	EXPECT_ERRNO(EOPNOTSUPP, map_file(self->fd, self->ioas_id, mfd, 0,
					  PAGE, &iova, MAP_RW | (1u << 3)));
	EXPECT_ERRNO(EINVAL, map_file(self->fd, self->ioas_id, mfd, 0, PAGE,
				      &iova, IOMMU_IOAS_MAP_FIXED_IOVA));
	EXPECT_ERRNO(ENOENT, map_file(self->fd, self->ioas_id + 1000, mfd, 0,
				      PAGE, &iova, MAP_RW));
	ASSERT_EQ(0, map_file_fixed(self->fd, self->ioas_id, mfd, 0, PAGE,
				    self->base));
	EXPECT_ERRNO(EEXIST, map_file_fixed(self->fd, self->ioas_id, mfd, 0,
					    PAGE, self->base));
	unmap_exact(self->fd, self->ioas_id, self->base, PAGE);
	ASSERT_EQ(0, munmap(mem, 4 * PAGE));
	ASSERT_EQ(0, close(mfd));
}

/*
 * Past the end of the file there are no pages to pin (upstream's
 * test_basic_file: EINVAL).  Without a domain nothing is pinned at map
 * time, so the error comes when a domain is attached.
 */
TEST_F(ioas, map_file_past_the_end_of_the_file_is_einval_once_pinned)
{
	uint8_t *mem;
	int mfd = make_memfd(4 * PAGE, 0, &mem);
	uint32_t stdev_id;

	ASSERT_EQ(0, munmap(mem, 4 * PAGE));
	if (self->ndomains) {
		EXPECT_ERRNO(EINVAL, map_file_fixed(self->fd, self->ioas_id,
						    mfd, 0, 4 * PAGE + 1,
						    self->base));
		EXPECT_ERRNO(EINVAL, map_file_fixed(self->fd, self->ioas_id,
						    mfd, 2 * PAGE, 4 * PAGE,
						    self->base));
		ASSERT_EQ(0, ftruncate(mfd, 0));
		EXPECT_ERRNO(EINVAL, map_file_fixed(self->fd, self->ioas_id,
						    mfd, 0, PAGE, self->base));
		EXPECT_EQ(0, unmap_all(self->fd, self->ioas_id));
	} else {
		ASSERT_EQ(0, map_file_fixed(self->fd, self->ioas_id, mfd, 0,
					    8 * PAGE, self->base));
		if (self->selftest)
			EXPECT_ERRNO(EINVAL, mock_domain(self->fd,
							 self->ioas_id,
							 &stdev_id, NULL));
		unmap_exact(self->fd, self->ioas_id, self->base, 8 * PAGE);
	}
	ASSERT_EQ(0, close(mfd));
}

/*
 * File pages are pinned with memfd_pin_folios(), which takes shmem and
 * hugetlbfs files only: anything else is EINVAL once pinned.
 */
TEST_F(ioas, map_file_of_a_file_that_is_not_memory_is_einval_once_pinned)
{
	int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	ASSERT_NE(-1, null_fd);
	if (!self->ndomains)
		SKIP("nothing is pinned without a domain");
	EXPECT_ERRNO(EINVAL, map_file_fixed(self->fd, self->ioas_id, null_fd,
					    0, PAGE, self->base));
	ASSERT_EQ(0, close(null_fd));
}

#endif /* IOMMU_IOAS_MAP_FILE */

/* --- IOMMU_OPTION_RLIMIT_MODE -------------------------------------------- */

static uint64_t get_rlimit_mode(int fd)
{
	uint64_t val = 7;

	ASSERT_EQ(0, option(fd, IOMMU_OPTION_RLIMIT_MODE, IOMMU_OPTION_OP_GET,
			    0, &val));
	return val;
}

TEST(rlimit_mode_defaults_to_user_and_switches_on_an_empty_context)
{
	int fd = iommufd_open();

	ASSERT_EQ(0, get_rlimit_mode(fd));
	ASSERT_EQ(0, set_rlimit_mode(fd, 1));
	ASSERT_EQ(1, get_rlimit_mode(fd));
	ASSERT_EQ(0, set_rlimit_mode(fd, 1));
	ASSERT_EQ(0, set_rlimit_mode(fd, 0));
	ASSERT_EQ(0, get_rlimit_mode(fd));
	ASSERT_EQ(0, close(fd));

	/* Per context: a new open starts in user mode again. */
	fd = iommufd_open();
	ASSERT_EQ(0, set_rlimit_mode(fd, 1));
	ASSERT_EQ(0, close(fd));
	fd = iommufd_open();
	ASSERT_EQ(0, get_rlimit_mode(fd));
	ASSERT_EQ(0, close(fd));
}

/* iommufd_option_rlimit_mode(): SET needs an empty object table. */
TEST(rlimit_mode_cannot_change_once_the_context_holds_an_object)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);

	EXPECT_ERRNO(EBUSY, set_rlimit_mode(fd, 1));
	EXPECT_ERRNO(EBUSY, set_rlimit_mode(fd, 0));
	ASSERT_EQ(0, get_rlimit_mode(fd));
	ASSERT_EQ(0, destroy(fd, ioas_id));
	ASSERT_EQ(0, set_rlimit_mode(fd, 1));
	ioas_alloc(fd);
	EXPECT_ERRNO(EBUSY, set_rlimit_mode(fd, 0));
	ASSERT_EQ(1, get_rlimit_mode(fd));
	ASSERT_EQ(0, close(fd));
}

/*
 * iommufd_option_rlimit_mode(): a non-zero object_id is EOPNOTSUPP (checked
 * first), an unknown op EOPNOTSUPP, a value other than 0 or 1 EINVAL;
 * iommufd_option(): __reserved or an unknown option is EOPNOTSUPP.
 */
TEST(iommu_option_argument_errors)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = IOMMU_OPTION_RLIMIT_MODE,
		.op = IOMMU_OPTION_OP_GET,
	};
	int fd = iommufd_open();
	uint64_t val = 0;

	EXPECT_ERRNO(EOPNOTSUPP, option(fd, IOMMU_OPTION_RLIMIT_MODE,
					IOMMU_OPTION_OP_GET, 1, &val));
	EXPECT_ERRNO(EOPNOTSUPP, option(fd, IOMMU_OPTION_RLIMIT_MODE,
					IOMMU_OPTION_OP_SET, 1, &val));
	EXPECT_ERRNO(EOPNOTSUPP, option(fd, IOMMU_OPTION_RLIMIT_MODE, 2, 0,
					&val));
	EXPECT_ERRNO(EINVAL, set_rlimit_mode(fd, 2));
	EXPECT_ERRNO(EINVAL, set_rlimit_mode(fd, UINT64_MAX));
	ASSERT_EQ(0, get_rlimit_mode(fd));
	EXPECT_ERRNO(EOPNOTSUPP, option(fd, 0xffff, IOMMU_OPTION_OP_GET, 0,
					&val));
	EXPECT_ERRNO(EOPNOTSUPP, option(fd, UINT32_MAX, IOMMU_OPTION_OP_GET, 0,
					&val));
	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, IOMMU_OPTION, &cmd));
	/* HUGE_PAGES is per IOAS: object 0 does not exist. */
	EXPECT_ERRNO(ENOENT, option(fd, IOMMU_OPTION_HUGE_PAGES,
				    IOMMU_OPTION_OP_GET, 0, &val));
	ASSERT_EQ(0, close(fd));
}

static void rlimit_mode_as_nobody(void *arg)
{
	int fd = *(int *)arg;

	drop_to_nobody();
	EXPECT_ERRNO(EPERM, set_rlimit_mode(fd, 1));
	EXPECT_ERRNO(EPERM, set_rlimit_mode(fd, 0));
	/* Reading needs nothing. */
	EXPECT_EQ(0, get_rlimit_mode(fd));
}

/* iommufd_option_rlimit_mode(): SET needs CAP_SYS_RESOURCE. */
TEST(rlimit_mode_set_needs_cap_sys_resource)
{
	int fd = iommufd_open();

	in_child(rlimit_mode_as_nobody, &fd);
	ASSERT_EQ(0, get_rlimit_mode(fd));
	ASSERT_EQ(0, close(fd));
}

/* --- accounting ---------------------------------------------------------- */

/* An IOAS with a mock domain on a fresh fd, RLIMIT_MODE set first. */
struct accounting_ctx {
	int fd;
	uint32_t ioas_id;
	uint32_t hwpt_id;
	uint64_t rlimit_mode;
	size_t limit_pages;	/* RLIMIT_MEMLOCK for the mapper */
	bool as_nobody;
};

static void accounting_ctx_init(struct accounting_ctx *ctx,
				uint64_t rlimit_mode)
{
	ctx->fd = iommufd_open();
	REQUIRE_SELFTEST(ctx->fd);
	ctx->rlimit_mode = rlimit_mode;
	ASSERT_EQ(0, set_rlimit_mode(ctx->fd, rlimit_mode));
	ctx->ioas_id = ioas_alloc(ctx->fd);
	ASSERT_EQ(0, mock_domain(ctx->fd, ctx->ioas_id, NULL, &ctx->hwpt_id));
}

/*
 * The mapper: VmPin follows the pinned pages exactly; in process mode VmLck
 * does too; over RLIMIT_MEMLOCK a map is ENOMEM and charges nothing.
 */
static void limited_mapper(void *arg)
{
	struct accounting_ctx *ctx = arg;
	const size_t limit = ctx->limit_pages * PAGE;
	uint8_t *buf = alloc_buffer(4 * limit);
	bool mm_mode = ctx->rlimit_mode == 1;
	struct vm_counters start, now;
	uint64_t iova;

	set_memlock_limit(limit);
	drop_to_nobody();
	start = vm_counters();

	ASSERT_EQ(0, map_fixed(ctx->fd, ctx->ioas_id, buf, limit / 2,
			       MOCK_APERTURE_START));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(limit / 2), now.pin_kb);
	EXPECT_EQ(start.lck_kb + (mm_mode ? kb(limit / 2) : 0), now.lck_kb);
	ASSERT_EQ(0, check_map(ctx->fd, ctx->hwpt_id, MOCK_APERTURE_START,
			       limit / 2, buf));

	/* Over the limit, alone or together with what is already pinned. */
	EXPECT_ERRNO(ENOMEM, map_auto(ctx->fd, ctx->ioas_id, buf + limit,
				      2 * limit, &iova));
	EXPECT_ERRNO(ENOMEM, map_auto(ctx->fd, ctx->ioas_id, buf + limit,
				      limit / 2 + PAGE, &iova));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(limit / 2), now.pin_kb);
	EXPECT_EQ(start.lck_kb + (mm_mode ? kb(limit / 2) : 0), now.lck_kb);
	ASSERT_EQ(0, check_refs(ctx->fd, buf + limit, 2 * limit, 0));

	/* Up to the limit exactly is fine. */
	ASSERT_EQ(0, map_auto(ctx->fd, ctx->ioas_id, buf + limit, limit / 2,
			      &iova));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(limit), now.pin_kb);

	unmap_exact(ctx->fd, ctx->ioas_id, iova, limit / 2);
	unmap_exact(ctx->fd, ctx->ioas_id, MOCK_APERTURE_START, limit / 2);
	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	EXPECT_EQ(start.lck_kb, now.lck_kb);

	/* What the limit freed can be pinned again. */
	ASSERT_EQ(0, map_auto(ctx->fd, ctx->ioas_id, buf, limit, &iova));
	unmap_exact(ctx->fd, ctx->ioas_id, iova, limit);
	free_buffer(buf, 4 * limit);
}

/*
 * Default (user) mode charges user->locked_vm, which /proc does not show:
 * the limit is what makes it visible.  VmPin moves either way.
 */
TEST(user_mode_holds_an_unprivileged_mapper_to_its_memlock_limit)
{
	struct accounting_ctx ctx = { .limit_pages = 16 };

	accounting_ctx_init(&ctx, 0);
	in_child(limited_mapper, &ctx);
	ASSERT_EQ(0, close(ctx.fd));
}

/* Process mode charges mm->locked_vm, i.e. VmLck, as VFIO type1 does. */
TEST(process_mode_charges_vmlck_and_holds_the_mapper_to_its_limit)
{
	struct accounting_ctx ctx = { .limit_pages = 16 };

	accounting_ctx_init(&ctx, 1);
	in_child(limited_mapper, &ctx);
	ASSERT_EQ(0, close(ctx.fd));
}

/*
 * iopt_alloc_pages(): a CAP_IPC_LOCK mapper is not charged to any locked_vm
 * and not limited; pinned_vm still counts its pins.
 */
static void privileged_mapper(void *arg)
{
	struct accounting_ctx *ctx = arg;
	uint8_t *buf = alloc_buffer(64 * PAGE);
	struct vm_counters start = vm_counters(), now;

	set_memlock_limit(0);
	ASSERT_EQ(0, map_fixed(ctx->fd, ctx->ioas_id, buf, 64 * PAGE,
			       MOCK_APERTURE_START));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(64 * PAGE), now.pin_kb);
	EXPECT_EQ(start.lck_kb, now.lck_kb);
	unmap_exact(ctx->fd, ctx->ioas_id, MOCK_APERTURE_START, 64 * PAGE);
	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	free_buffer(buf, 64 * PAGE);
}

TEST(cap_ipc_lock_mappers_are_not_limited_in_either_mode)
{
	for (uint64_t mode = 0; mode <= 1; mode++) {
		struct accounting_ctx ctx = { 0 };

		accounting_ctx_init(&ctx, mode);
		in_child(privileged_mapper, &ctx);
		ASSERT_EQ(0, close(ctx.fd));
	}
}

/*
 * The mapper leaves everything mapped and pinned and closes the fd once
 * the parent has closed its copy, so that its close() is the last one and
 * releases the context.
 */
struct closing_ctx {
	struct accounting_ctx acct;
	int parent_closed[2];
};

static void mapper_that_closes(void *arg)
{
	struct closing_ctx *ctx = arg;
	struct accounting_ctx *acct = &ctx->acct;
	/* CAP_IPC_LOCK mappers are charged to no locked_vm at all. */
	bool charged_vmlck = acct->rlimit_mode == 1 && acct->as_nobody;
	uint8_t *buf = alloc_buffer(32 * PAGE);
	struct vm_counters start, now;
	uint32_t second;
	uint64_t iova;
	char byte;

	if (acct->as_nobody)
		drop_to_nobody();
	start = vm_counters();
	ASSERT_EQ(0, map_fixed(acct->fd, acct->ioas_id, buf, 16 * PAGE,
			       MOCK_APERTURE_START));
	second = ioas_alloc(acct->fd);
	ASSERT_EQ(0, mock_domain(acct->fd, second, NULL, NULL));
	ASSERT_EQ(0, map_auto(acct->fd, second, buf + 16 * PAGE, 16 * PAGE,
			      &iova));
	ASSERT_EQ(0, copy_fixed(acct->fd, acct->ioas_id, second, iova,
				16 * PAGE, MOCK_APERTURE_START + SZ_1M));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(32 * PAGE), now.pin_kb);
	EXPECT_EQ(start.lck_kb + (charged_vmlck ? kb(32 * PAGE) : 0),
		  now.lck_kb);

	read_all(ctx->parent_closed[0], &byte, 1);
	ASSERT_EQ(0, close(acct->fd));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	EXPECT_EQ(start.lck_kb, now.lck_kb);
	free_buffer(buf, 32 * PAGE);
}

/* Releasing the context undoes every charge, in both modes. */
TEST(closing_the_last_fd_returns_every_charge)
{
	for (uint64_t mode = 0; mode <= 1; mode++) {
		for (int nobody = 0; nobody <= 1; nobody++) {
			struct closing_ctx ctx = {
				.acct = { .as_nobody = nobody },
			};
			char byte = 'c';
			pid_t pid;

			accounting_ctx_init(&ctx.acct, mode);
			ASSERT_EQ(0, pipe(ctx.parent_closed));
			fflush(stdout);
			pid = fork();
			ASSERT_NE(-1, pid);
			if (pid == 0) {
				mapper_that_closes(&ctx);
				_exit(0);
			}
			ASSERT_EQ(0, close(ctx.acct.fd));
			write_all(ctx.parent_closed[1], &byte, 1);
			wait_for_clean_exit(pid);
			ASSERT_EQ(0, close(ctx.parent_closed[0]));
			ASSERT_EQ(0, close(ctx.parent_closed[1]));
		}
	}
}

/*
 * Pinning follows domains: a mapping in an IOAS without one pins nothing;
 * attaching a mock domain pins it, detaching the last one unpins it, a
 * second domain pins nothing more.
 */
TEST(pins_follow_mock_domains_as_they_come_and_go)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	uint8_t *buf = alloc_buffer(32 * PAGE);
	struct vm_counters start = vm_counters();
	uint32_t stdev[2];

	REQUIRE_SELFTEST(fd);
	ASSERT_EQ(0, map_fixed(fd, ioas_id, buf, 32 * PAGE,
			       MOCK_APERTURE_START));
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_refs(fd, buf, 32 * PAGE, 0));

	ASSERT_EQ(0, mock_domain(fd, ioas_id, &stdev[0], NULL));
	EXPECT_EQ(start.pin_kb + kb(32 * PAGE), vm_counters().pin_kb);
	ASSERT_EQ(0, check_refs(fd, buf, 32 * PAGE, 1));

	ASSERT_EQ(0, mock_domain(fd, ioas_id, &stdev[1], NULL));
	EXPECT_EQ(start.pin_kb + kb(32 * PAGE), vm_counters().pin_kb);
	ASSERT_EQ(0, check_refs(fd, buf, 32 * PAGE, 1));

	ASSERT_EQ(0, destroy(fd, stdev[0]));
	EXPECT_EQ(start.pin_kb + kb(32 * PAGE), vm_counters().pin_kb);
	ASSERT_EQ(0, destroy(fd, stdev[1]));
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_refs(fd, buf, 32 * PAGE, 0));

	ASSERT_EQ(0, mock_domain(fd, ioas_id, &stdev[0], NULL));
	EXPECT_EQ(start.pin_kb + kb(32 * PAGE), vm_counters().pin_kb);
	ASSERT_EQ(0, close(fd));
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_refs_after_close(buf, 32 * PAGE));
	free_buffer(buf, 32 * PAGE);
}

/*
 * IOMMU_IOAS_COPY shares the source's pinned pages: nothing is pinned or
 * charged again, even into an IOAS with a domain of its own, and the pages
 * stay pinned until the last mapping of them goes.
 */
TEST(copy_shares_pinned_pages_without_pinning_or_charging_again)
{
	int fd = iommufd_open();
	uint32_t src = ioas_alloc(fd), dst = ioas_alloc(fd);
	uint8_t *buf = alloc_buffer(32 * PAGE);
	struct vm_counters start = vm_counters(), now;
	uint32_t dst_hwpt;
	uint64_t iova;

	REQUIRE_SELFTEST(fd);
	ASSERT_EQ(0, mock_domain(fd, src, NULL, NULL));
	ASSERT_EQ(0, mock_domain(fd, dst, NULL, &dst_hwpt));
	ASSERT_EQ(0, map_fixed(fd, src, buf, 32 * PAGE, MOCK_APERTURE_START));
	now = vm_counters();
	ASSERT_EQ(start.pin_kb + kb(32 * PAGE), now.pin_kb);

	ASSERT_EQ(0, copy_range(fd, dst, src, MOCK_APERTURE_START, 32 * PAGE,
				&iova, MAP_RW));
	EXPECT_EQ(now.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_refs(fd, buf, 32 * PAGE, 1));
	ASSERT_EQ(0, check_map(fd, dst_hwpt, iova, 32 * PAGE, buf));

	unmap_exact(fd, src, MOCK_APERTURE_START, 32 * PAGE);
	EXPECT_EQ(now.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_map(fd, dst_hwpt, iova, 32 * PAGE, buf));
	unmap_exact(fd, dst, iova, 32 * PAGE);
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_refs(fd, buf, 32 * PAGE, 0));
	ASSERT_EQ(0, close(fd));
	free_buffer(buf, 32 * PAGE);
}

/* --- IOMMU_IOAS_CHANGE_PROCESS ------------------------------------------- */

#if defined(IOMMU_IOAS_CHANGE_PROCESS) && defined(IOMMU_IOAS_MAP_FILE)

/* With nothing mapped there is nothing to move. */
TEST(change_process_without_mappings_succeeds)
{
	int fd = iommufd_open();

	ASSERT_EQ(0, change_process(fd));
	ioas_alloc(fd);
	ioas_alloc(fd);
	ASSERT_EQ(0, change_process(fd));
	ASSERT_EQ(0, close(fd));
}

TEST(change_process_with_reserved_set_is_eopnotsupp)
{
	struct iommu_ioas_change_process cmd = {
		.size = sizeof(cmd),
		.__reserved = 1,
	};
	int fd = iommufd_open();

	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, IOMMU_IOAS_CHANGE_PROCESS, &cmd));
	ASSERT_EQ(0, close(fd));
}

/*
 * iommufd_ioas_change_process(): user-address mappings are tied to the
 * mm that made them, so one anywhere in the context (any IOAS) makes the
 * whole call EINVAL; only file mappings can change hands.
 */
TEST(change_process_refuses_while_any_ioas_maps_user_memory)
{
	int fd = iommufd_open();
	uint32_t files = ioas_alloc(fd), users = ioas_alloc(fd);
	uint8_t *buf = alloc_buffer(4 * PAGE);
	uint8_t *mem;
	int mfd = make_memfd(4 * PAGE, 0, &mem);

	ASSERT_EQ(0, map_file_fixed(fd, files, mfd, 0, 4 * PAGE,
				    MOCK_APERTURE_START));
	ASSERT_EQ(0, change_process(fd));
	ASSERT_EQ(0, map_fixed(fd, users, buf, 4 * PAGE, MOCK_APERTURE_START));
	EXPECT_ERRNO(EINVAL, change_process(fd));
	unmap_exact(fd, users, MOCK_APERTURE_START, 4 * PAGE);
	ASSERT_EQ(0, change_process(fd));
	ASSERT_EQ(0, map_fixed(fd, files, buf, 4 * PAGE, SZ_1G));
	EXPECT_ERRNO(EINVAL, change_process(fd));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, munmap(mem, 4 * PAGE));
	ASSERT_EQ(0, close(mfd));
	free_buffer(buf, 4 * PAGE);
}

struct change_process_ctx {
	int fd;
	uint32_t ioas_id;
	int mfd;
	uint64_t rlimit_mode;
	/* Each side waits on its own pipe for the parent's go-ahead. */
	int mapper_ready[2], mapper_go[2];
	int owner_ready[2], owner_go[2];
};

enum { CHANGE_PROCESS_PAGES = 32 };

static long change_process_charge(void)
{
	return kb(CHANGE_PROCESS_PAGES * PAGE);
}

/* Maps the file as nobody, then checks the charge has left it. */
static void file_mapper(struct change_process_ctx *ctx)
{
	const long charge = change_process_charge();
	struct vm_counters start, now;
	char byte = 'm';

	drop_to_nobody();
	start = vm_counters();
	ASSERT_EQ(0, map_file_fixed(ctx->fd, ctx->ioas_id, ctx->mfd, 0,
				    CHANGE_PROCESS_PAGES * PAGE,
				    MOCK_APERTURE_START));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + charge, now.pin_kb);
	EXPECT_EQ(start.lck_kb + (ctx->rlimit_mode ? charge : 0), now.lck_kb);
	write_all(ctx->mapper_ready[1], &byte, 1);
	read_all(ctx->mapper_go[0], &byte, 1);

	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	EXPECT_EQ(start.lck_kb, now.lck_kb);
}

/*
 * Takes the charge over, as nobody too, while the mapper still lives, and
 * sees it go when the parent unmaps.
 */
static void new_owner(struct change_process_ctx *ctx)
{
	const long charge = change_process_charge();
	struct vm_counters start, now;
	char byte = 'o';

	drop_to_nobody();
	start = vm_counters();
	ASSERT_EQ(0, change_process(ctx->fd));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + charge, now.pin_kb);
	EXPECT_EQ(start.lck_kb + (ctx->rlimit_mode ? charge : 0), now.lck_kb);
	/* Already the owner: a second call changes nothing. */
	ASSERT_EQ(0, change_process(ctx->fd));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + charge, now.pin_kb);
	write_all(ctx->owner_ready[1], &byte, 1);
	read_all(ctx->owner_go[0], &byte, 1);

	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	EXPECT_EQ(start.lck_kb, now.lck_kb);
}

static pid_t fork_role(struct change_process_ctx *ctx,
		       void (*role)(struct change_process_ctx *ctx))
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		role(ctx);
		_exit(0);
	}
	return pid;
}

TEST(change_process_moves_the_charge_of_file_mappings_to_the_caller)
{
	for (uint64_t mode = 0; mode <= 1; mode++) {
		struct change_process_ctx ctx = { .rlimit_mode = mode };
		int *pipes[] = {
			ctx.mapper_ready, ctx.mapper_go,
			ctx.owner_ready, ctx.owner_go,
		};
		pid_t mapper, owner;
		uint8_t *mem;
		char byte = 'p';

		ctx.fd = iommufd_open();
		REQUIRE_SELFTEST(ctx.fd);
		ASSERT_EQ(0, set_rlimit_mode(ctx.fd, mode));
		ctx.ioas_id = ioas_alloc(ctx.fd);
		ASSERT_EQ(0, mock_domain(ctx.fd, ctx.ioas_id, NULL, NULL));
		ctx.mfd = make_memfd(CHANGE_PROCESS_PAGES * PAGE, 0, &mem);
		for (unsigned int i = 0; i < ARRAY_LEN(pipes); i++)
			ASSERT_EQ(0, pipe(pipes[i]));

		mapper = fork_role(&ctx, file_mapper);
		read_all(ctx.mapper_ready[0], &byte, 1);
		owner = fork_role(&ctx, new_owner);
		read_all(ctx.owner_ready[0], &byte, 1);
		write_all(ctx.mapper_go[1], &byte, 1);
		wait_for_clean_exit(mapper);

		unmap_exact(ctx.fd, ctx.ioas_id, MOCK_APERTURE_START,
			    CHANGE_PROCESS_PAGES * PAGE);
		write_all(ctx.owner_go[1], &byte, 1);
		wait_for_clean_exit(owner);

		ASSERT_EQ(0, close(ctx.fd));
		ASSERT_EQ(0, munmap(mem, CHANGE_PROCESS_PAGES * PAGE));
		ASSERT_EQ(0, close(ctx.mfd));
		for (unsigned int i = 0; i < ARRAY_LEN(pipes); i++) {
			ASSERT_EQ(0, close(pipes[i][0]));
			ASSERT_EQ(0, close(pipes[i][1]));
		}
	}
}

#endif /* IOMMU_IOAS_CHANGE_PROCESS && IOMMU_IOAS_MAP_FILE */

/* --- large and special memory -------------------------------------------- */

static bool thp_disabled(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");

	if (!f)
		return true;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	return strstr(line, "[never]") || !line[0];
}

/* AnonHugePages of the whole process, in kB. */
static long anon_huge_kb(void)
{
	char line[256];
	long total = 0, val;
	FILE *f = fopen("/proc/self/smaps_rollup", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "AnonHugePages: %ld kB", &val) == 1)
			total += val;
	fclose(f);
	return total;
}

/*
 * 2 GiB pinned at once: the mock aperture is 2032 MiB, so two IOAS with a
 * mock domain each take 1 GiB.  Before that the same 2 GiB are mapped into
 * an IOAS without a domain, which pins nothing.
 */
TEST_TIMEOUT(two_gib_of_anonymous_memory_are_pinned_and_released, 600)
{
	const size_t total = 2 * SZ_1G, half = SZ_1G;
	int fd = iommufd_open();
	uint32_t lazy = ioas_alloc(fd);
	uint32_t ioas[2], hwpt[2];
	struct vm_counters start;
	uint8_t *buf;

	REQUIRE_SELFTEST(fd);
	/*
	 * Its paths are those of the smaller cases, at 2^19 pages: on the
	 * debug kernel that is 190 s of its budget for no other check.
	 */
	if (ih_slow_kernel())
		SKIP("a scale case: the production kernels run it");
	/* Huge pages make faulting 2 GiB in a TCG guest bearable. */
	buf = alloc_aligned(total, SZ_2M, MADV_HUGEPAGE);
	start = vm_counters();

	ASSERT_EQ(0, map_fixed(fd, lazy, buf, total, MOCK_APERTURE_START));
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	unmap_exact(fd, lazy, MOCK_APERTURE_START, total);

	for (int i = 0; i < 2; i++) {
		ioas[i] = ioas_alloc(fd);
		ASSERT_EQ(0, mock_domain(fd, ioas[i], NULL, &hwpt[i]));
		ASSERT_EQ(0, map_fixed(fd, ioas[i], buf + i * half, half,
				       MOCK_APERTURE_START));
	}
	EXPECT_EQ(start.pin_kb + kb(total), vm_counters().pin_kb);
	for (int i = 0; i < 2; i++) {
		const uint8_t *part = buf + i * half;

		ASSERT_EQ(0, check_map(fd, hwpt[i], MOCK_APERTURE_START, SZ_2M,
				       part));
		ASSERT_EQ(0, check_map(fd, hwpt[i],
				       MOCK_APERTURE_START + half - SZ_2M,
				       SZ_2M, part + half - SZ_2M));
	}
	for (int i = 0; i < 2; i++)
		unmap_exact(fd, ioas[i], MOCK_APERTURE_START, half);
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, close(fd));
	free_buffer(buf, total);
}

/*
 * A THP-backed buffer: the automatic IOVA is 2 MiB aligned like the user
 * address, the mock domain holds its pages, VmPin counts its 4 KiB pages.
 * With IOMMU_OPTION_HUGE_PAGES off it maps all the same.
 */
TEST_TIMEOUT(thp_backed_memory_maps_at_a_2mib_aligned_iova, 120)
{
	const size_t length = 2 * SZ_2M;
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	struct vm_counters start;
	uint32_t hwpt_id;
	uint64_t iova;
	uint8_t *buf;

	REQUIRE_SELFTEST(fd);
	if (thp_disabled())
		SKIP("transparent huge pages are disabled");
	buf = alloc_aligned(length, SZ_2M, MADV_HUGEPAGE);
	if (anon_huge_kb() < kb(SZ_2M)) {
		free_buffer(buf, length);
		SKIP("no transparent huge page could be allocated");
	}
	ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL, &hwpt_id));
	start = vm_counters();

	ASSERT_EQ(0, map_auto(fd, ioas_id, buf, length, &iova));
	EXPECT_EQ(0, iova % SZ_2M);
	ASSERT_EQ(0, check_map(fd, hwpt_id, iova, length, buf));
	EXPECT_EQ(start.pin_kb + kb(length), vm_counters().pin_kb);
	/* A 4 KiB slice in the middle of a huge page. */
	ASSERT_EQ(0, map_auto(fd, ioas_id, buf + SZ_1M, PAGE, &iova));
	ASSERT_EQ(0, check_map(fd, hwpt_id, iova, PAGE, buf + SZ_1M));
	EXPECT_EQ(length + PAGE, unmap_all(fd, ioas_id));
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);

	ASSERT_EQ(0, set_huge_pages(fd, ioas_id, 0));
	ASSERT_EQ(0, map_auto(fd, ioas_id, buf, length, &iova));
	ASSERT_EQ(0, check_map(fd, hwpt_id, iova, length, buf));
	unmap_exact(fd, ioas_id, iova, length);
	ASSERT_EQ(0, close(fd));
	free_buffer(buf, length);
}

/* hugetlbfs pages: pinned, mapped and counted like any others. */
TEST_TIMEOUT(hugetlb_memory_is_pinned_and_mapped, 120)
{
	const size_t length = 2 * SZ_2M;
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	struct vm_counters start;
	uint32_t hwpt_id;
	uint64_t iova;
	uint8_t *buf;

	REQUIRE_SELFTEST(fd);
	buf = mmap(NULL, length, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE,
		   -1, 0);
	if (buf == MAP_FAILED)
		SKIP("no huge pages reserved (vm.nr_hugepages): %s",
		     strerror(errno));
	memset(buf, 0x3c, length);
	ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL, &hwpt_id));
	start = vm_counters();

	ASSERT_EQ(0, map_auto(fd, ioas_id, buf, length, &iova));
	EXPECT_EQ(0, iova % SZ_2M);
	ASSERT_EQ(0, check_map(fd, hwpt_id, iova, length, buf));
	EXPECT_EQ(start.pin_kb + kb(length), vm_counters().pin_kb);
	/* Sub-huge-page pieces work too. */
	ASSERT_EQ(0, map_fixed(fd, ioas_id, buf + SZ_2M - PAGE, 2 * PAGE,
			       MOCK_APERTURE_START + SZ_1G));
	ASSERT_EQ(0, check_map(fd, hwpt_id, MOCK_APERTURE_START + SZ_1G,
			       2 * PAGE, buf + SZ_2M - PAGE));
	EXPECT_EQ(length + 2 * PAGE, unmap_all(fd, ioas_id));
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, close(fd));
	free_buffer(buf, length);
}

#ifdef IOMMU_IOAS_MAP_FILE
/* A hugetlbfs memfd through IOMMU_IOAS_MAP_FILE. */
TEST_TIMEOUT(hugetlb_memfd_is_mapped_through_map_file, 120)
{
	const size_t length = 2 * SZ_2M;
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	struct vm_counters start;
	uint32_t hwpt_id;
	uint8_t *mem;
	uint64_t iova = 0;
	int mfd;

	REQUIRE_SELFTEST(fd);
	mfd = memfd_create("ioas-test-huge", MFD_CLOEXEC | MFD_HUGETLB);
	if (mfd == -1)
		SKIP("memfd_create(MFD_HUGETLB): %s", strerror(errno));
	ASSERT_EQ(0, ftruncate(mfd, (off_t)length));
	mem = mmap(NULL, length, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_POPULATE, mfd, 0);
	if (mem == MAP_FAILED) {
		close(mfd);
		SKIP("no huge pages reserved (vm.nr_hugepages): %s",
		     strerror(errno));
	}
	memset(mem, 0x6b, length);
	ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL, &hwpt_id));
	start = vm_counters();

	if (map_file(fd, ioas_id, mfd, 0, length, &iova, MAP_RW)) {
		/*
		 * iommufd-dkms holds hugetlbfs memfds with memfd_pin_folios(),
		 * which kernels before 6.11 (Debian's 6.1) do not export:
		 * there they are a known but unsupported kind of memory.
		 */
		if (errno == EOPNOTSUPP)
			SKIP("hugetlbfs memfds need memfd_pin_folios() (6.11+)");
		ASSERT_EQ(0, -errno);
	}
	ASSERT_EQ(0, check_map(fd, hwpt_id, iova, length, mem));
	EXPECT_EQ(start.pin_kb + kb(length), vm_counters().pin_kb);
	ASSERT_EQ(0, map_file_fixed(fd, ioas_id, mfd, SZ_2M - PAGE, 2 * PAGE,
				    MOCK_APERTURE_START + SZ_1G));
	ASSERT_EQ(0, check_map(fd, hwpt_id, MOCK_APERTURE_START + SZ_1G,
			       2 * PAGE, mem + SZ_2M - PAGE));
	EXPECT_EQ(length + 2 * PAGE, unmap_all(fd, ioas_id));
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, munmap(mem, length));
	ASSERT_EQ(0, close(mfd));
}
#endif /* IOMMU_IOAS_MAP_FILE */

/* --- sharing the fd between processes ------------------------------------ */

struct shared_ctx {
	int fd;
	uint32_t ioas_id;
	uint8_t *buf;		/* MAP_SHARED: the same pages on both sides */
};

enum { SHARED_PAGES = 16 };

/* Maps through the inherited fd, is charged, exits with it mapped. */
static void inheriting_mapper(void *arg)
{
	struct shared_ctx *ctx = arg;
	struct vm_counters start = vm_counters();

	ASSERT_EQ(0, map_fixed(ctx->fd, ctx->ioas_id, ctx->buf,
			       SHARED_PAGES * PAGE, MOCK_APERTURE_START));
	EXPECT_EQ(start.pin_kb + kb(SHARED_PAGES * PAGE),
		  vm_counters().pin_kb);
}

/*
 * After fork the child works on the same context.  The pins it makes are
 * charged to it (pages->source_mm is the mapper's), not to the parent,
 * before or after the child is gone and the parent unmaps.
 */
TEST(a_forked_child_maps_through_the_inherited_fd_and_is_charged_itself)
{
	struct shared_ctx ctx = { .fd = iommufd_open() };
	struct vm_counters start;
	uint32_t hwpt_id;

	REQUIRE_SELFTEST(ctx.fd);
	ctx.ioas_id = ioas_alloc(ctx.fd);
	ASSERT_EQ(0, mock_domain(ctx.fd, ctx.ioas_id, NULL, &hwpt_id));
	ctx.buf = alloc_shared_buffer(SHARED_PAGES * PAGE);
	start = vm_counters();

	in_child(inheriting_mapper, &ctx);
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_map(ctx.fd, hwpt_id, MOCK_APERTURE_START,
			       SHARED_PAGES * PAGE, ctx.buf));
	EXPECT_ERRNO(EEXIST, map_fixed(ctx.fd, ctx.ioas_id, ctx.buf, PAGE,
				       MOCK_APERTURE_START));
	unmap_exact(ctx.fd, ctx.ioas_id, MOCK_APERTURE_START,
		    SHARED_PAGES * PAGE);
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, close(ctx.fd));
	free_buffer(ctx.buf, SHARED_PAGES * PAGE);
}

static void send_fd(int sock, int fd, uint32_t payload)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &payload, .iov_len = sizeof(payload) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;

	memset(control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(fd));
	ASSERT_EQ((ssize_t)sizeof(payload), sendmsg(sock, &msg, 0));
}

static int receive_fd(int sock, uint32_t *payload)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof(*payload) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	int fd;

	ASSERT_EQ((ssize_t)sizeof(*payload),
		  recvmsg(sock, &msg, MSG_CMSG_CLOEXEC));
	cmsg = CMSG_FIRSTHDR(&msg);
	ASSERT_NE(NULL, cmsg);
	ASSERT_EQ(SCM_RIGHTS, cmsg->cmsg_type);
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(fd));
	return fd;
}

struct receiver_ctx {
	int sock;
	uint8_t *buf;
};

/* Forked before the parent opened /dev/iommu: the fd comes by SCM_RIGHTS. */
static void fd_receiver(void *arg)
{
	struct receiver_ctx *ctx = arg;
	struct vm_counters start = vm_counters();
	uint32_t ioas_id = 0;
	int fd = receive_fd(ctx->sock, &ioas_id);
	char done = 'd';

	ASSERT_EQ(0, map_fixed(fd, ioas_id, ctx->buf, SHARED_PAGES * PAGE,
			       MOCK_APERTURE_START));
	EXPECT_EQ(start.pin_kb + kb(SHARED_PAGES * PAGE),
		  vm_counters().pin_kb);
	ASSERT_EQ(0, close(fd));
	write_all(ctx->sock, &done, 1);
}

TEST(a_passed_fd_shares_the_ioas_with_its_sender)
{
	struct receiver_ctx ctx;
	int socks[2];
	struct vm_counters start;
	uint32_t ioas_id, hwpt_id;
	pid_t pid;
	char done;
	int fd;

	ctx.buf = alloc_shared_buffer(SHARED_PAGES * PAGE);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, socks));
	ctx.sock = socks[1];
	fflush(stdout);
	pid = fork();
	ASSERT_NE(-1, pid);
	if (pid == 0) {
		fd_receiver(&ctx);
		_exit(0);
	}

	fd = iommufd_open();
	if (!selftest_available(fd)) {
		/* Let the child go before skipping. */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	ioas_id = ioas_alloc(fd);
	ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL, &hwpt_id));
	start = vm_counters();
	send_fd(socks[0], fd, ioas_id);
	read_all(socks[0], &done, 1);
	wait_for_clean_exit(pid);

	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	ASSERT_EQ(0, check_map(fd, hwpt_id, MOCK_APERTURE_START,
			       SHARED_PAGES * PAGE, ctx.buf));
	EXPECT_EQ(SHARED_PAGES * PAGE, unmap_all(fd, ioas_id));
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, close(socks[0]));
	ASSERT_EQ(0, close(socks[1]));
	free_buffer(ctx.buf, SHARED_PAGES * PAGE);
}

/* --- concurrency --------------------------------------------------------- */

enum {
	STRESS_THREADS = 4,	/* on the shared fd */
	STRESS_FDS = 2,		/* more fds, one thread each */
	STRESS_PAGES = 32,	/* buffer per thread */
	STRESS_SECONDS = 5,
	STRESS_WINDOW = 64 << 20,	/* IOVA bytes per thread */
	STRESS_REPORTS = 8,
};

enum stress_op {
	OP_MAP, OP_UNMAP, OP_COPY, OP_UNMAP_COPIES, OP_UNMAP_OTHER,
	OP_SCRATCH_IOAS, OP_DESTROY_BUSY, OP_RANGES, OP_COUNT,
};

static const char *const stress_op_names[OP_COUNT] = {
	"map", "unmap", "copy", "unmap copies", "unmap other window",
	"scratch IOAS", "destroy busy IOAS", "iova ranges",
};

struct stress {
	struct timespec deadline;
	pthread_barrier_t start;
	pthread_mutex_t lock;
	unsigned long done[OP_COUNT];
	unsigned long unexpected;
	char reports[STRESS_REPORTS][96];
	unsigned int nreports;
};

struct stress_thread {
	struct stress *st;
	pthread_t thread;
	unsigned int index;	/* picks the IOVA window */
	unsigned int nwindows;	/* windows in this IOAS */
	int fd;
	uint32_t ioas_id;	/* has a mock domain: pins on map */
	uint32_t copy_ioas_id;	/* copies go here */
	uint8_t *buf;
	unsigned int seed;
	unsigned long done[OP_COUNT];
};

static bool stress_expired(const struct stress *st)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > st->deadline.tv_sec ||
	       (now.tv_sec == st->deadline.tv_sec &&
		now.tv_nsec >= st->deadline.tv_nsec);
}

/* Errnos a racing user may see for each operation; anything else is a bug. */
static bool stress_errno_ok(enum stress_op op, int err)
{
	switch (op) {
	case OP_MAP:
		return err == EEXIST;
	case OP_UNMAP:
	case OP_UNMAP_COPIES:
	case OP_UNMAP_OTHER:
		/* EBUSY: the area is half built or half torn down. */
		return err == ENOENT || err == EBUSY;
	case OP_COPY:
		return err == ENOENT || err == EEXIST;
	default:
		return false;
	}
}

static void stress_result(struct stress_thread *t, enum stress_op op, int rc)
{
	struct stress *st = t->st;
	int err = errno;

	/* The shared IOAS has devices: destroying it must keep failing. */
	if (op == OP_DESTROY_BUSY ? rc == -1 && err == EBUSY : rc == 0) {
		t->done[op]++;
		return;
	}
	if (rc == -1 && stress_errno_ok(op, err))
		return;
	pthread_mutex_lock(&st->lock);
	st->unexpected++;
	if (st->nreports < STRESS_REPORTS)
		snprintf(st->reports[st->nreports++], sizeof(st->reports[0]),
			 "fd %d thread %u: %s returned %d, errno %d (%s)",
			 t->fd, t->index, stress_op_names[op], rc, err,
			 strerror(err));
	pthread_mutex_unlock(&st->lock);
}

static void *stress_thread(void *arg)
{
	struct stress_thread *t = arg;
	const uint64_t window = MOCK_APERTURE_START +
				(uint64_t)t->index * STRESS_WINDOW;

	pthread_barrier_wait(&t->st->start);
	while (!stress_expired(t->st)) {
		enum stress_op op = rand_r(&t->seed) % OP_COUNT;
		uint64_t first = rand_r(&t->seed) % STRESS_PAGES;
		uint64_t npages = 1 + rand_r(&t->seed) % STRESS_PAGES;
		uint64_t iova = window + first * PAGE;
		uint64_t len = npages * PAGE;
		unsigned int other = rand_r(&t->seed) % t->nwindows;
		struct iommu_iova_range ranges[4];
		uint32_t num = ARRAY_LEN(ranges);
		struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
		uint64_t scratch_iova;
		int rc;

		switch (op) {
		case OP_MAP:
			rc = map_fixed(t->fd, t->ioas_id, t->buf,
				       (STRESS_PAGES - first) * PAGE, iova);
			break;
		case OP_UNMAP:
			rc = unmap_range(t->fd, t->ioas_id, iova, len, NULL);
			break;
		case OP_COPY:
			rc = copy_fixed(t->fd, t->copy_ioas_id, t->ioas_id,
					iova, len, iova);
			break;
		case OP_UNMAP_COPIES:
			rc = unmap_range(t->fd, t->copy_ioas_id, window,
					 STRESS_WINDOW, NULL);
			break;
		case OP_UNMAP_OTHER:
			rc = unmap_range(t->fd, t->ioas_id,
					 MOCK_APERTURE_START +
						 (uint64_t)other * STRESS_WINDOW,
					 STRESS_WINDOW, NULL);
			break;
		case OP_SCRATCH_IOAS:
			/* Born, used and destroyed while the others run. */
			rc = ioctl(t->fd, IOMMU_IOAS_ALLOC, &alloc);
			if (rc)
				break;
			rc = map_auto(t->fd, alloc.out_ioas_id, t->buf, len,
				      &scratch_iova);
			if (rc) {
				int err = errno;

				destroy(t->fd, alloc.out_ioas_id);
				errno = err;
				break;
			}
			rc = destroy(t->fd, alloc.out_ioas_id);
			break;
		case OP_DESTROY_BUSY:
			rc = destroy(t->fd, t->ioas_id);
			break;
		case OP_RANGES:
		default:
			rc = iova_ranges(t->fd, t->ioas_id, ranges, &num, NULL);
			break;
		}
		stress_result(t, op, rc);
	}
	return NULL;
}

/*
 * Threads map, unmap, copy, create and destroy on one fd (their windows
 * overlap other threads' unmaps on purpose) while more fds do the same on
 * their own, all with mock domains pinning.  Only the racing errnos are
 * allowed; at the end everything unmaps cleanly, no page is left pinned and
 * VmPin is back (checked by the harness).
 */
TEST_TIMEOUT(threads_map_unmap_copy_and_destroy_concurrently_on_several_fds,
	     120)
{
	struct stress_thread threads[STRESS_THREADS + STRESS_FDS];
	const unsigned int nthreads = ARRAY_LEN(threads);
	static struct stress st;
	int fds[1 + STRESS_FDS];
	unsigned long total = 0;

	memset(&st, 0, sizeof(st));
	memset(threads, 0, sizeof(threads));
	for (unsigned int i = 0; i < ARRAY_LEN(fds); i++)
		fds[i] = iommufd_open();
	REQUIRE_SELFTEST(fds[0]);
	ASSERT_EQ(0, pthread_barrier_init(&st.start, NULL, nthreads + 1));
	ASSERT_EQ(0, pthread_mutex_init(&st.lock, NULL));

	for (unsigned int i = 0; i < nthreads; i++) {
		struct stress_thread *t = &threads[i];
		bool shared = i < STRESS_THREADS;

		t->st = &st;
		t->index = shared ? i : 0;
		t->nwindows = shared ? STRESS_THREADS : 1;
		t->fd = shared ? fds[0] : fds[1 + i - STRESS_THREADS];
		t->seed = 0x9e3779b9u * (i + 1);
		t->buf = alloc_buffer(STRESS_PAGES * PAGE);
		if (!shared || i == 0) {
			t->ioas_id = ioas_alloc(t->fd);
			t->copy_ioas_id = ioas_alloc(t->fd);
			ASSERT_EQ(0, mock_domain(t->fd, t->ioas_id, NULL, NULL));
			ASSERT_EQ(0, mock_domain(t->fd, t->copy_ioas_id, NULL,
						 NULL));
		} else {
			t->ioas_id = threads[0].ioas_id;
			t->copy_ioas_id = threads[0].copy_ioas_id;
		}
	}

	clock_gettime(CLOCK_MONOTONIC, &st.deadline);
	st.deadline.tv_sec += STRESS_SECONDS;
	for (unsigned int i = 0; i < nthreads; i++)
		ASSERT_EQ(0, pthread_create(&threads[i].thread, NULL,
					    stress_thread, &threads[i]));
	pthread_barrier_wait(&st.start);
	for (unsigned int i = 0; i < nthreads; i++)
		ASSERT_EQ(0, pthread_join(threads[i].thread, NULL));

	for (unsigned int i = 0; i < nthreads; i++)
		for (int op = 0; op < OP_COUNT; op++) {
			st.done[op] += threads[i].done[op];
			total += threads[i].done[op];
		}
	for (int op = 0; op < OP_COUNT; op++)
		TEST_LOG("%s: %lu succeeded", stress_op_names[op], st.done[op]);
	for (unsigned int i = 0; i < st.nreports; i++)
		TEST_LOG("%s", st.reports[i]);
	EXPECT_EQ(0, st.unexpected);
	EXPECT_GT(st.done[OP_MAP], 0);
	EXPECT_GT(st.done[OP_COPY], 0);
	EXPECT_GT(total, 100);

	/* Everything unmaps at once and no page keeps a pin. */
	for (unsigned int i = 0; i < nthreads; i++) {
		if (i && i < STRESS_THREADS)
			continue;
		unmap_all(threads[i].fd, threads[i].ioas_id);
		unmap_all(threads[i].fd, threads[i].copy_ioas_id);
	}
	for (unsigned int i = 0; i < nthreads; i++)
		EXPECT_EQ(0, check_refs(fds[0], threads[i].buf,
					STRESS_PAGES * PAGE, 0));
	for (unsigned int i = 0; i < ARRAY_LEN(fds); i++)
		ASSERT_EQ(0, close(fds[i]));
	for (unsigned int i = 0; i < nthreads; i++)
		free_buffer(threads[i].buf, STRESS_PAGES * PAGE);
	pthread_barrier_destroy(&st.start);
	pthread_mutex_destroy(&st.lock);
}

/*
 * A mapping and its IOMMU_IOAS_COPY in another IOAS share their pinned
 * pages; unmapping both at the same moment, from two threads, must succeed
 * and unpin every page exactly once, round after round.
 */
struct unmap_race {
	int fd;
	uint32_t ioas_id[2];
	pthread_barrier_t step;
	unsigned long failures;
	bool stop;
};

enum { RACE_PAGES = 32, RACE_ROUNDS = 2000 };

static void *unmap_racer(void *arg)
{
	struct unmap_race *race = arg;

	for (;;) {
		pthread_barrier_wait(&race->step);	/* both mapped */
		if (__atomic_load_n(&race->stop, __ATOMIC_ACQUIRE))
			return NULL;
		if (unmap_range(race->fd, race->ioas_id[1], MOCK_APERTURE_START,
				RACE_PAGES * PAGE, NULL))
			__atomic_add_fetch(&race->failures, 1, __ATOMIC_RELAXED);
		pthread_barrier_wait(&race->step);	/* both unmapped */
	}
}

TEST_TIMEOUT(unmapping_a_mapping_and_its_copy_at_once_unpins_each_page_once,
	     120)
{
	static struct unmap_race race;
	uint8_t *buf = alloc_buffer(RACE_PAGES * PAGE);
	struct vm_counters start;
	pthread_t thread;
	int round;
	double end;

	memset(&race, 0, sizeof(race));
	race.fd = iommufd_open();
	REQUIRE_SELFTEST(race.fd);
	for (int i = 0; i < 2; i++) {
		race.ioas_id[i] = ioas_alloc(race.fd);
		ASSERT_EQ(0, mock_domain(race.fd, race.ioas_id[i], NULL, NULL));
	}
	ASSERT_EQ(0, pthread_barrier_init(&race.step, NULL, 2));
	ASSERT_EQ(0, pthread_create(&thread, NULL, unmap_racer, &race));
	start = vm_counters();

	/* Bounded in time too: a debug kernel under TCG does ~20 a second. */
	end = now_s() + 30;
	for (round = 0; round < RACE_ROUNDS && now_s() < end; round++) {
		ASSERT_EQ(0, map_fixed(race.fd, race.ioas_id[0], buf,
				       RACE_PAGES * PAGE, MOCK_APERTURE_START));
		ASSERT_EQ(0, copy_fixed(race.fd, race.ioas_id[1],
					race.ioas_id[0], MOCK_APERTURE_START,
					RACE_PAGES * PAGE,
					MOCK_APERTURE_START));
		pthread_barrier_wait(&race.step);
		if (unmap_range(race.fd, race.ioas_id[0], MOCK_APERTURE_START,
				RACE_PAGES * PAGE, NULL))
			race.failures++;
		pthread_barrier_wait(&race.step);
		if (race.failures)
			break;
	}
	__atomic_store_n(&race.stop, true, __ATOMIC_RELEASE);
	pthread_barrier_wait(&race.step);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TEST_LOG("%d rounds", round);

	EXPECT_EQ(0, race.failures);
	EXPECT_EQ(start.pin_kb, vm_counters().pin_kb);
	EXPECT_EQ(0, check_refs(race.fd, buf, RACE_PAGES * PAGE, 0));
	ASSERT_EQ(0, close(race.fd));
	pthread_barrier_destroy(&race.step);
	free_buffer(buf, RACE_PAGES * PAGE);
}

TEST_HARNESS_MAIN
