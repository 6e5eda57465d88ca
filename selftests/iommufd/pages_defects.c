// SPDX-License-Identifier: GPL-2.0
/*
 * Regression tests for defects of the pinned-page storage (module/pages.c,
 * io_pagetable.c) that a review found (issue 8: items 2, 7, 8, 9, 17, 19).
 * Each test names the item it covers and what it did before the fix.
 *
 * A kernel WARN does not fail an ioctl, so tests of "no WARN" read the
 * kernel's taint word: bit 9 (TAINT_WARN) is set by the first WARN and
 * stays.  Such a test skips when the bit is already set, since it could
 * not tell its own WARN from an earlier one.
 *
 * Needs the module loaded with selftest=1 (mock domains, accesses); the
 * large-page tests also need /sys/module/iommufd/parameters/mock_large_pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "iommufd_ledger.h"
#include "iommufd_mock.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE	0x0010
#endif
#ifndef MFD_ALLOW_SEALING
#define MFD_ALLOW_SEALING	0x0002U
#endif

#define SZ_2M			0x200000UL
#define TAINT_WARN_BIT		(1UL << 9)
#define LARGE_PAGES_PARAM	"/sys/module/iommufd/parameters/mock_large_pages"
/* Inside the mock aperture, 2 MiB aligned. */
#define MOCK_IOVA		0x4000000UL

static unsigned long kernel_taint(void)
{
	unsigned long taint = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "re");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%lu", &taint));
	fclose(f);
	return taint;
}

#define REQUIRE_NO_WARN_YET()						\
	do {								\
		if (kernel_taint() & TAINT_WARN_BIT)			\
			SKIP("the kernel has WARNed already: cannot tell");\
	} while (0)

#define ASSERT_NO_NEW_WARN() ASSERT_EQ(0, kernel_taint() & TAINT_WARN_BIT)

static int set_temp_memory_limit(int fd, uint32_t limit)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT,
		.memory_limit = { .limit = limit },
	};

	return test_cmd(fd, &cmd);
}

/* Slab + VmallocUsed of /proc/meminfo, in KiB. */
static long kernel_mem_kb(void)
{
	char line[256];
	long total = 0, val;
	FILE *f = fopen("/proc/meminfo", "re");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Slab: %ld kB", &val) == 1 ||
		    sscanf(line, "VmallocUsed: %ld kB", &val) == 1)
			total += val;
	}
	fclose(f);
	return total;
}

/* --- item 8: unmap on the boundaries the fill used ---------------------- */

static int set_mock_large_pages(int on)
{
	int f = open(LARGE_PAGES_PARAM, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (f < 0)
		return -1;
	n = write(f, on ? "1" : "0", 1);
	close(f);
	return n == 1 ? 0 : -1;
}

static void *hugetlb_buffer(size_t len)
{
	void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);

	if (mem == MAP_FAILED)
		return NULL;
	memset(mem, 0x3c, len);
	return mem;
}

/*
 * Item 8: a 4 MiB hugetlb buffer filled into a mock domain that, like
 * VT-d and AMD-Vi, maps 2 MiB pages and unmaps a whole large page when
 * asked to unmap part of it.  One page in the middle of the first 2 MiB
 * is copied to a second IOAS, then the first IOAS's area is unmapped.
 * Before the fix the unfill cut its window at the copy's boundaries
 * (which did not exist at fill time): it unmapped part of a 2 MiB page,
 * got 2 MiB back and WARNed (every run, both kernels).
 */
TEST(unmap_after_partial_copy_keeps_the_large_pages_of_the_fill)
{
	const size_t len = 2 * SZ_2M;
	int fd = iommufd_open();
	uint32_t a = ioas_alloc(fd), b = ioas_alloc(fd);
	uint32_t hwpt_a, hwpt_b;
	void *mem;

	REQUIRE_SELFTEST(fd);
	REQUIRE_NO_WARN_YET();
	if (set_mock_large_pages(1))
		SKIP("no mock_large_pages parameter");
	mem = hugetlb_buffer(len);
	if (!mem) {
		set_mock_large_pages(0);
		SKIP("no 2 MiB hugetlb pages");
	}
	ASSERT_EQ(0, mock_domain(fd, a, &hwpt_a));
	ASSERT_EQ(0, mock_domain(fd, b, &hwpt_b));
	ASSERT_EQ(0, set_mock_large_pages(0));
	ASSERT_EQ(0, ioas_map_fixed(fd, a, mem, len, MOCK_IOVA));
	ASSERT_EQ(0, check_map(fd, hwpt_a, MOCK_IOVA, len, mem));
	ASSERT_EQ(0, ioas_copy(fd, b, MOCK_IOVA, a, MOCK_IOVA + 5 * PAGE,
			       2 * PAGE));
	ASSERT_EQ(0, check_map(fd, hwpt_b, MOCK_IOVA, 2 * PAGE,
			       (uint8_t *)mem + 5 * PAGE));
	ASSERT_EQ(0, ioas_unmap_range(fd, a, MOCK_IOVA, len));
	ASSERT_NO_NEW_WARN();
	/* The copy is untouched by the other IOAS's unmap. */
	ASSERT_EQ(0, check_map(fd, hwpt_b, MOCK_IOVA, 2 * PAGE,
			       (uint8_t *)mem + 5 * PAGE));
	/* And the reverse order: copy unmapped first, then a refill. */
	ASSERT_EQ(0, ioas_map_fixed(fd, a, mem, len, MOCK_IOVA));
	ASSERT_EQ(0, ioas_unmap_range(fd, b, MOCK_IOVA, 2 * PAGE));
	ASSERT_EQ(0, ioas_unmap_range(fd, a, MOCK_IOVA, len));
	ASSERT_NO_NEW_WARN();
	close(fd);
	munmap(mem, len);
}

/*
 * Item 8 with an access instead of a domain: the copy goes to an IOAS
 * without a domain and an access pins it there, so the fill's window in
 * the first IOAS is again cut by coverage it did not have at fill time.
 * Before the fix: the same WARN, every run.
 */
TEST(unmap_with_an_access_holding_part_of_a_large_page_keeps_its_boundaries)
{
	const size_t len = 2 * SZ_2M;
	int fd = iommufd_open();
	uint32_t a = ioas_alloc(fd), b = ioas_alloc(fd);
	int access;
	void *mem;

	REQUIRE_SELFTEST(fd);
	REQUIRE_NO_WARN_YET();
	if (set_mock_large_pages(1))
		SKIP("no mock_large_pages parameter");
	mem = hugetlb_buffer(len);
	if (!mem) {
		set_mock_large_pages(0);
		SKIP("no 2 MiB hugetlb pages");
	}
	ASSERT_EQ(0, mock_domain(fd, a, NULL));
	ASSERT_EQ(0, set_mock_large_pages(0));
	ASSERT_EQ(0, ioas_map_fixed(fd, a, mem, len, MOCK_IOVA));
	ASSERT_EQ(0, ioas_copy(fd, b, MOCK_IOVA, a, MOCK_IOVA + SZ_2M + 7 * PAGE,
			       3 * PAGE));
	access = create_access(fd, b, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	ASSERT_LE(0, access);
	ASSERT_EQ(0, access_pages(fd, access, MOCK_IOVA, 3 * PAGE, NULL));
	ASSERT_EQ(0, ioas_unmap_range(fd, a, MOCK_IOVA, len));
	ASSERT_NO_NEW_WARN();
	close(access);
	close(fd);
	munmap(mem, len);
}

/* --- item 2: writeable MAP_FILE needs a writeable file ------------------ */

#ifdef IOMMU_IOAS_MAP_FILE

static int map_file(int fd, uint32_t ioas_id, int mfd, uint64_t start,
		    uint64_t length, uint64_t iova, uint32_t prot)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = prot | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = ioas_id,
		.fd = mfd,
		.start = (int64_t)start,
		.length = length,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP_FILE, &cmd);
}

static int sized_memfd(size_t length, unsigned int flags)
{
	int mfd = memfd_create("pages-defects", MFD_CLOEXEC | flags);

	ASSERT_NE(-1, mfd);
	ASSERT_EQ(0, ftruncate(mfd, (off_t)length));
	return mfd;
}

static int reopen_rdonly(int mfd)
{
	char path[64];
	int ro;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	ro = open(path, O_RDONLY | O_CLOEXEC);
	ASSERT_NE(-1, ro);
	return ro;
}

/*
 * Item 2: before the fix a writeable MAP_FILE of an O_RDONLY descriptor
 * succeeded (and a device could then write the file).  Upstream refuses
 * it with EPERM; a read-only mapping of the same descriptor stays fine.
 */
TEST(map_file_writeable_needs_a_descriptor_open_for_writing)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	int mfd = sized_memfd(4 * PAGE, 0);
	int ro = reopen_rdonly(mfd);

	ASSERT_ERRNO(EPERM, map_file(fd, ioas_id, ro, 0, 4 * PAGE, MOCK_IOVA,
				     MAP_RW));
	ASSERT_ERRNO(EPERM, map_file(fd, ioas_id, ro, 0, 4 * PAGE, MOCK_IOVA,
				     IOMMU_IOAS_MAP_WRITEABLE));
	ASSERT_EQ(0, map_file(fd, ioas_id, ro, 0, 4 * PAGE, MOCK_IOVA,
			      IOMMU_IOAS_MAP_READABLE));
	/* And it pins: a mock domain takes it. */
	if (selftest_available(fd))
		ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL));
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, MOCK_IOVA, 4 * PAGE));
	ASSERT_EQ(0, map_file(fd, ioas_id, mfd, 0, 4 * PAGE, MOCK_IOVA,
			      MAP_RW));
	close(ro);
	close(mfd);
	close(fd);
}

/*
 * Item 2: before the fix a writeable MAP_FILE of a memfd sealed with
 * F_SEAL_WRITE or F_SEAL_FUTURE_WRITE succeeded.  Both are EPERM now
 * (as a writeable shared mmap() of it is); reading stays allowed.
 */
TEST(map_file_writeable_refuses_write_sealed_memfds)
{
	static const int seals[] = { F_SEAL_WRITE, F_SEAL_FUTURE_WRITE };
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);

	for (unsigned int i = 0; i < 2; i++) {
		int mfd = sized_memfd(4 * PAGE, MFD_ALLOW_SEALING);

		ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, seals[i]));
		ASSERT_ERRNO(EPERM, map_file(fd, ioas_id, mfd, 0, 4 * PAGE,
					     MOCK_IOVA, MAP_RW));
		ASSERT_EQ(0, map_file(fd, ioas_id, mfd, 0, 4 * PAGE,
				      MOCK_IOVA, IOMMU_IOAS_MAP_READABLE));
		ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, MOCK_IOVA, 4 * PAGE));
		close(mfd);
	}
	close(fd);
}

/*
 * Item 2: a writeable mapping holds the file's mapping writable, as a
 * shared writeable mmap() does: F_SEAL_WRITE cannot be added under it
 * (EBUSY), and can once the mapping is gone.  Before the fix the seal
 * went on while a device could still write.
 */
TEST(map_file_writeable_holds_off_f_seal_write_until_unmapped)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	int mfd = sized_memfd(4 * PAGE, MFD_ALLOW_SEALING);

	ASSERT_EQ(0, map_file(fd, ioas_id, mfd, 0, 4 * PAGE, MOCK_IOVA,
			      MAP_RW));
	ASSERT_ERRNO(EBUSY, fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, MOCK_IOVA, 4 * PAGE));
	ASSERT_EQ(0, fcntl(mfd, F_ADD_SEALS, F_SEAL_WRITE));
	close(mfd);
	close(fd);
}

/*
 * Item 7: a MAP_FILE length in [2^64 - 4095, 2^64 - 2] made the page
 * count 0 (signed arithmetic) and WARNed in io_pagetable.c.  Upstream
 * answers EINVAL for a length that cannot be a number of pages.
 */
TEST(map_file_length_near_2_64_is_einval_without_a_warn)
{
	static const uint64_t lengths[] = {
		UINT64_MAX - 4094, UINT64_MAX - 2048, UINT64_MAX - 1,
	};
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	int mfd = sized_memfd(4 * PAGE, 0);

	REQUIRE_NO_WARN_YET();
	for (unsigned int i = 0; i < 3; i++)
		EXPECT_ERRNO(EINVAL, map_file(fd, ioas_id, mfd, 0, lengths[i],
					      0, MAP_RW));
	ASSERT_NO_NEW_WARN();
	close(mfd);
	close(fd);
}

/*
 * Item 17: file pages are held by long-term GUP pins (FOLL_PIN), as
 * anonymous memory is, so the page is seen as DMA-pinned.  Before the
 * fix they were plain page references: MD_CHECK_REFS counted 0 pins.
 */
TEST(map_file_pages_are_dma_pinned)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	int mfd = sized_memfd(8 * PAGE, 0);
	uint8_t *mem;

	REQUIRE_SELFTEST(fd);
	mem = mmap(NULL, 8 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, mem);
	memset(mem, 0x5a, 8 * PAGE);
	ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL));
	ASSERT_EQ(0, map_file(fd, ioas_id, mfd, 0, 8 * PAGE, MOCK_IOVA,
			      MAP_RW));
	ASSERT_EQ(0, check_refs(fd, mem, 8 * PAGE, 1));
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, MOCK_IOVA, 8 * PAGE));
	ASSERT_EQ(0, check_refs(fd, mem, 8 * PAGE, 0));
	munmap(mem, 8 * PAGE);
	close(mfd);
	close(fd);
}

#endif /* IOMMU_IOAS_MAP_FILE */

/* --- item 9: accesses that pin need PAGE_SIZE-aligned areas ------------- */

/*
 * Item 9: IOMMU_TEST_OP_ACCESS_PAGES sizes its page array by the IOVA
 * range; areas at IOVAs that are not page aligned make the pin write one
 * entry per page of each area, more than that (a heap overflow: with 100
 * such areas, 800 bytes past an 808-byte allocation).  As upstream does,
 * an access that pins raises the IOAS's IOVA alignment to PAGE_SIZE:
 * creating one over unaligned areas is EADDRINUSE, mapping unaligned
 * IOVAs while one is attached is EINVAL.  Before the fix both succeeded.
 */
TEST(access_that_pins_needs_page_aligned_areas)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	uint8_t *buf = alloc_buffer(4 * PAGE);
	int access;

	REQUIRE_SELFTEST(fd);
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf + PAGE / 2, PAGE,
			      MOCK_IOVA + PAGE / 2));
	ASSERT_ERRNO(EADDRINUSE,
		     create_access(fd, ioas_id,
				   MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES));
	/* An access that only copies needs no alignment. */
	access = create_access(fd, ioas_id, 0);
	ASSERT_LE(0, access);
	close(access);
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, MOCK_IOVA + PAGE / 2, PAGE));

	access = create_access(fd, ioas_id,
			       MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	ASSERT_LE(0, access);
	ASSERT_ERRNO(EINVAL, ioas_map_fixed(fd, ioas_id, buf + PAGE / 2, PAGE,
				      MOCK_IOVA + PAGE / 2));
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, 2 * PAGE, MOCK_IOVA));
	/* An unaligned IOVA inside aligned areas is fine to pin. */
	ASSERT_EQ(0, access_pages(fd, access, MOCK_IOVA + 100, PAGE, NULL));
	close(access);
	/* Once it is gone, byte granularity is back. */
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf + 2 * PAGE + 8, PAGE,
			      MOCK_IOVA + 4 * PAGE + 8));
	close(fd);
	free_buffer(buf, 4 * PAGE);
}

/* --- item 19: the temporary memory limit shrinks the windows ------------ */

/*
 * Item 19: with upstream's smallest limit every pinning window is one
 * page, so maps, copies, access pins and unmaps over many windows all go
 * through the window-crossing paths; the mappings must be the same.
 */
TEST(tiny_temp_memory_limit_gives_the_same_mappings)
{
	const size_t len = 64 * PAGE;
	int fd = iommufd_open();
	uint32_t a = ioas_alloc(fd), b = ioas_alloc(fd);
	uint32_t hwpt_a, hwpt_b, id;
	uint8_t *buf = alloc_buffer(len);
	int access;

	REQUIRE_SELFTEST(fd);
	ASSERT_ERRNO(EINVAL, set_temp_memory_limit(fd, 4));
	ASSERT_EQ(0, set_temp_memory_limit(fd, 16));
	ASSERT_EQ(0, mock_domain(fd, a, &hwpt_a));
	ASSERT_EQ(0, mock_domain(fd, b, &hwpt_b));
	ASSERT_EQ(0, ioas_map_fixed(fd, a, buf, len, MOCK_IOVA));
	ASSERT_EQ(0, check_map(fd, hwpt_a, MOCK_IOVA, len, buf));
	ASSERT_EQ(0, ioas_copy(fd, b, MOCK_IOVA, a, MOCK_IOVA + 3 * PAGE,
			       40 * PAGE));
	ASSERT_EQ(0, check_map(fd, hwpt_b, MOCK_IOVA, 40 * PAGE,
			       buf + 3 * PAGE));
	ASSERT_EQ(0, check_refs(fd, buf, len, 1));
	access = create_access(fd, a, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	ASSERT_LE(0, access);
	ASSERT_EQ(0, access_pages(fd, access, MOCK_IOVA + PAGE, 50 * PAGE,
				  &id));
	ASSERT_EQ(0, set_temp_memory_limit(fd, 65536));
	ASSERT_EQ(0, ioas_unmap_range(fd, b, MOCK_IOVA, 40 * PAGE));
	close(access);
	ASSERT_EQ(0, ioas_unmap_range(fd, a, MOCK_IOVA, len));
	ASSERT_EQ(0, check_refs(fd, buf, len, 0));
	close(fd);
	free_buffer(buf, len);
}

/* --- item 7: PFN storage follows what is pinned ------------------------- */

/*
 * Item 7: map @gib GiB of never-touched memory into an IOAS without a
 * domain (nothing is pinned, nothing charged), copy one page of it into
 * an IOAS with a mock domain (one page pinned).  Before the fix the PFN
 * array was sized to the whole mapping at that first pin: 16 GiB grew
 * Slab+VmallocUsed by 32832 KiB, and 1 TiB asked kvmalloc for more than
 * INT_MAX (a WARN, and ENOMEM).  Module memory must follow what is pinned.
 */
static void copy_one_page_of(unsigned int gib, long max_growth_kb,
			     bool may_warn)
{
	uint64_t len = (uint64_t)gib << 30;
	int fd = iommufd_open();
	uint32_t a = ioas_alloc(fd), b = ioas_alloc(fd);
	struct fd_ledger ledger;
	long before, after;
	double t0, t1;
	void *mem;

	REQUIRE_SELFTEST(fd);
	if (may_warn)
		REQUIRE_NO_WARN_YET();
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_NE(MAP_FAILED, mem);
	ASSERT_EQ(0, mock_domain(fd, b, NULL));
	before = kernel_mem_kb();
	ASSERT_EQ(0, ioas_map_fixed(fd, a, mem, len, 1UL << 40));
	ASSERT_EQ(0, ioas_copy(fd, b, MOCK_IOVA, a, (1UL << 40) + len / 2,
			       PAGE));
	after = kernel_mem_kb();
	ledger = fd_ledger(fd);
	TEST_LOG("%u GiB mapped, 1 page pinned: Slab+VmallocUsed grew %ld KiB, PFN storage %ld bytes",
		 gib, after - before, ledger.pfn_bytes);
	if (may_warn)
		ASSERT_NO_NEW_WARN();
	/* One page pinned: one chunk, whatever the size of the mapping. */
	EXPECT_EQ(1, ledger.pinned);
	EXPECT_EQ(PAGE, ledger.pfn_bytes);
	/* The whole kernel's slab moves for other reasons too: a loose bound. */
	EXPECT_LE(after - before, max_growth_kb);
	t0 = now_s();
	ASSERT_EQ(0, close(fd));
	t1 = now_s();
	TEST_LOG("closing the context took %.3f s", t1 - t0);
	munmap(mem, len);
}

TEST(pfn_storage_of_16_gib_mapped_1_page_pinned_stays_small)
{
	copy_one_page_of(16, 1024, false);
}

TEST(pfn_storage_of_1_tib_mapped_1_page_pinned_neither_warns_nor_fails)
{
	copy_one_page_of(1024, 1024, true);
}

/*
 * Item 7: the PFN storage is 8 bytes per pinned page, in page-sized
 * chunks, and pinning then unpinning 64 MiB leaves none behind.  The
 * module's own count (fdinfo) is exact; Slab+VmallocUsed is only logged,
 * since on a debug kernel KASAN's quarantine and kmemleak move it by
 * hundreds of KiB (a bound on it failed there once at 488 KiB).
 */
TEST(pfn_storage_of_64_mib_pinned_is_8_bytes_a_page)
{
	const uint64_t len = 64UL << 20;
	const long npages = len / PAGE;
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	struct fd_ledger pinned, unpinned;
	long before, mapped, after;
	uint8_t *buf;
	int access;
	uint32_t id;

	REQUIRE_SELFTEST(fd);
	buf = alloc_buffer(len);
	/* An access pins without a domain, whose page table would dwarf ours. */
	before = kernel_mem_kb();
	ASSERT_EQ(0, ioas_map_fixed(fd, ioas_id, buf, len, MOCK_IOVA));
	access = create_access(fd, ioas_id,
			       MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
	ASSERT_LE(0, access);
	/* ACCESS_PAGES takes at most 16 MiB at a time. */
	for (uint64_t off = 0; off < len; off += 16UL << 20)
		ASSERT_EQ(0, access_pages(fd, access, MOCK_IOVA + off,
					  16UL << 20, &id));
	mapped = kernel_mem_kb();
	pinned = fd_ledger(fd);
	close(access);
	after = kernel_mem_kb();
	unpinned = fd_ledger(fd);
	TEST_LOG("64 MiB pinned by an access: PFN storage %ld bytes (%.2f a page); Slab+VmallocUsed grew %ld KiB, %ld KiB after unpinning",
		 pinned.pfn_bytes, (double)pinned.pfn_bytes / npages,
		 mapped - before, after - before);
	EXPECT_EQ(npages, pinned.pinned);
	EXPECT_EQ(npages * 8, pinned.pfn_bytes);
	EXPECT_EQ(0, unpinned.pinned);
	EXPECT_EQ(0, unpinned.pfn_bytes);
	/*
	 * Nothing else stays behind either: a bound loose enough for KASAN's
	 * quarantine (488 KiB seen in a debug boot); the debug boot's
	 * kmemleak scans look for the small leaks.
	 */
	EXPECT_LE(after - before, 2048);
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, MOCK_IOVA, len));
	close(fd);
	free_buffer(buf, len);
}

TEST_HARNESS_MAIN
