// SPDX-License-Identifier: GPL-2.0
/*
 * PFN storage of physically contiguous chunks (module/pages.c): a 2 MiB
 * window whose pages are one run (a hugetlb page or a THP, mapped at an
 * equally aligned IOVA) is stored as its first PFN, with no page of PFNs.
 * Mapping 1 GiB of THP memory spent half its time allocating and filling
 * those pages (bench_map, 6.12, same boot).  The tests check that such
 * chunks cost nothing, that their PFNs are right wherever they are read
 * back (a copy into another IOAS, an unmap), and that a run chunk part of
 * which is unpinned and pinned again, now backed by other pages, becomes
 * an array with the new PFNs.
 *
 * Needs the module loaded with selftest=1 (mock domains and accesses).
 */
#define _GNU_SOURCE
#include <errno.h>
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
#include "iommufd_ledger.h"
#include "iommufd_mock.h"

#define SZ_2M		0x200000UL
/* Inside the mock aperture, 2 MiB aligned. */
#define MOCK_IOVA	0x4000000UL

/* A mock device on @ioas_id; its id (to destroy it) and its HWPT's. */
static int mock_device(int fd, uint32_t ioas_id, uint32_t *stdev_id,
		       uint32_t *hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas_id,
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc) {
		*stdev_id = cmd.mock_domain.out_stdev_id;
		*hwpt_id = cmd.mock_domain.out_hwpt_id;
	}
	return rc;
}

/* AnonHugePages of the mapping that holds @p, in KiB (-1 if not found). */
static long anon_huge_kib(const void *p)
{
	unsigned long lo, hi, at = (uintptr_t)p;
	char line[256];
	long kib = -1;
	bool in = false;
	FILE *f = fopen("/proc/self/smaps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' '), *dash = strchr(line, '-');

		if (sp && dash && dash < sp &&
		    sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			in = lo <= at && at < hi;
			continue;
		}
		if (in && !strncmp(line, "AnonHugePages:", 14))
			kib = atol(line + 14);
	}
	fclose(f);
	return kib;
}

/* @len bytes of THP memory, 2 MiB aligned, faulted in; NULL if no THP. */
static uint8_t *thp_buffer(size_t len, void **raw)
{
	uint8_t *buf;

	*raw = mmap(NULL, len + SZ_2M, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (*raw == MAP_FAILED)
		return NULL;
	buf = (uint8_t *)(((uintptr_t)*raw + SZ_2M - 1) & ~(SZ_2M - 1));
	if (madvise(buf, len, MADV_HUGEPAGE))
		return NULL;
	memset(buf, 0x5a, len);
	if (anon_huge_kib(buf) < (long)(len >> 10))
		return NULL;
	return buf;
}

/* hugetlb memory: contiguous whatever THP does; NULL if none reserved. */
static uint8_t *hugetlb_buffer(size_t len)
{
	uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	memset(mem, 0x3c, len);
	return mem;
}

/*
 * 8 MiB of hugetlb pages filled into a mock domain: four run chunks, no
 * PFN storage.  A copy into a second IOAS with its own domain reads the
 * PFNs back from the runs; both domains must translate to the buffer, and
 * everything must go on unmap.  Before run chunks, the storage was 4 pages.
 */
TEST(hugetlb_windows_in_a_domain_need_no_pfn_storage)
{
	const size_t len = 4 * SZ_2M;
	int fd = iommufd_open();
	uint32_t a = ioas_alloc(fd), b = ioas_alloc(fd);
	uint32_t dev_a, hwpt_a, dev_b, hwpt_b;
	struct fd_ledger l;
	uint8_t *buf;

	REQUIRE_SELFTEST(fd);
	buf = hugetlb_buffer(len);
	if (!buf)
		SKIP("no 2 MiB hugetlb pages");
	ASSERT_EQ(0, mock_device(fd, a, &dev_a, &hwpt_a));
	ASSERT_EQ(0, mock_device(fd, b, &dev_b, &hwpt_b));
	ASSERT_EQ(0, ioas_map_fixed(fd, a, buf, len, MOCK_IOVA));
	l = fd_ledger(fd);
	EXPECT_EQ((long)(len / PAGE), l.pinned);
	EXPECT_EQ(0, l.pfn_bytes);
	EXPECT_EQ(0, check_map(fd, hwpt_a, MOCK_IOVA, len, buf));
	EXPECT_EQ(0, check_refs(fd, buf, len, 1));

	/* Pinned once, stored nowhere, read back for the copy. */
	ASSERT_EQ(0, ioas_copy(fd, b, MOCK_IOVA + SZ_2M, a, MOCK_IOVA, len));
	EXPECT_EQ(0, check_map(fd, hwpt_b, MOCK_IOVA + SZ_2M, len, buf));
	EXPECT_EQ(0, check_refs(fd, buf, len, 1));
	l = fd_ledger(fd);
	EXPECT_EQ((long)(len / PAGE), l.pinned);
	EXPECT_EQ(0, l.pfn_bytes);

	ASSERT_EQ(0, ioas_unmap_range(fd, a, MOCK_IOVA, len));
	EXPECT_EQ(0, check_refs(fd, buf, len, 1));
	ASSERT_EQ(0, ioas_unmap_range(fd, b, MOCK_IOVA + SZ_2M, len));
	EXPECT_EQ(0, check_refs(fd, buf, len, 0));
	l = fd_ledger(fd);
	EXPECT_EQ(0, l.pinned);
	EXPECT_EQ(0, l.pfn_bytes);
	close(fd);
	munmap(buf, len);
}

/*
 * Memory mapped at an IOVA aligned unlike it: the windows (IOVA aligned)
 * are no whole chunks, so the PFNs go to arrays, 8 bytes a page plus the
 * unused rest of the chunk.
 */
TEST(hugetlb_memory_at_a_misaligned_iova_is_stored_as_arrays)
{
	const uint64_t iova = MOCK_IOVA + SZ_2M / 2;
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd), dev, hwpt;
	struct fd_ledger l;
	uint8_t *buf;

	REQUIRE_SELFTEST(fd);
	buf = hugetlb_buffer(SZ_2M);
	if (!buf)
		SKIP("no 2 MiB hugetlb pages");
	ASSERT_EQ(0, mock_device(fd, ioas, &dev, &hwpt));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas, buf, SZ_2M, iova));
	l = fd_ledger(fd);
	EXPECT_EQ((long)(SZ_2M / PAGE), l.pinned);
	EXPECT_EQ(PAGE, l.pfn_bytes);
	EXPECT_EQ(0, check_map(fd, hwpt, iova, SZ_2M, buf));
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas, iova, SZ_2M));
	l = fd_ledger(fd);
	EXPECT_EQ(0, l.pinned);
	EXPECT_EQ(0, l.pfn_bytes);
	close(fd);
	munmap(buf, SZ_2M);
}

/*
 * A THP window pinned whole (a run chunk); an access keeps its first 64
 * KiB pinned while the domain goes, so the rest is unpinned and the chunk
 * stays.  The second half of the buffer is then replaced by fresh 4 KiB
 * pages (MADV_DONTNEED and a write), and a new domain pins it again: the
 * new PFNs are no continuation of the run, so the chunk must become an
 * array holding them.  The new domain maps what the pin returned; the
 * stored PFNs are checked where they are read back: by a copy into a
 * second IOAS, and by the unpin at the end (wrong PFNs would leave the
 * buffer's pages pinned).
 */
TEST(a_run_chunk_pinned_again_over_other_pages_holds_the_new_pfns)
{
	const size_t len = SZ_2M, kept = 16 * PAGE;
	int fd = iommufd_open();
	uint32_t ioas = ioas_alloc(fd), dev, hwpt, pin_id;
	uint32_t copy_ioas = ioas_alloc(fd), copy_dev, copy_hwpt;
	struct fd_ledger l;
	int access;
	uint8_t *buf;
	void *raw;

	REQUIRE_SELFTEST(fd);
	buf = thp_buffer(len, &raw);
	if (!buf)
		SKIP("the kernel gave no THP for a 2 MiB aligned buffer");
	ASSERT_EQ(0, mock_device(fd, ioas, &dev, &hwpt));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas, buf, len, MOCK_IOVA));
	l = fd_ledger(fd);
	ASSERT_EQ((long)(len / PAGE), l.pinned);
	ASSERT_EQ(0, l.pfn_bytes);

	access = create_access(fd, ioas,
			       MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	ASSERT_LE(0, access);
	ASSERT_EQ(0, access_pages(fd, access, MOCK_IOVA, kept, &pin_id));
	ASSERT_EQ(0, destroy(fd, dev));
	l = fd_ledger(fd);
	EXPECT_EQ((long)(kept / PAGE), l.pinned);
	EXPECT_EQ(0, l.pfn_bytes);

	ASSERT_EQ(0, madvise(buf + len / 2, len / 2, MADV_DONTNEED));
	memset(buf + len / 2, 0xa5, len / 2);
	ASSERT_EQ(0, mock_device(fd, ioas, &dev, &hwpt));
	l = fd_ledger(fd);
	EXPECT_EQ((long)(len / PAGE), l.pinned);
	EXPECT_EQ(PAGE, l.pfn_bytes);
	/* The new pages where they are new, the THP's where it stayed. */
	EXPECT_EQ(0, check_map(fd, hwpt, MOCK_IOVA, len, buf));
	ASSERT_EQ(0, mock_device(fd, copy_ioas, &copy_dev, &copy_hwpt));
	ASSERT_EQ(0, ioas_copy(fd, copy_ioas, MOCK_IOVA, ioas, MOCK_IOVA, len));
	EXPECT_EQ(0, check_map(fd, copy_hwpt, MOCK_IOVA, len, buf));

	close(access);
	ASSERT_EQ(0, ioas_unmap_range(fd, copy_ioas, MOCK_IOVA, len));
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas, MOCK_IOVA, len));
	EXPECT_EQ(0, check_refs(fd, buf, len, 0));
	l = fd_ledger(fd);
	EXPECT_EQ(0, l.pinned);
	EXPECT_EQ(0, l.pfn_bytes);
	close(fd);
	munmap(raw, len + SZ_2M);
}

TEST_HARNESS_MAIN
