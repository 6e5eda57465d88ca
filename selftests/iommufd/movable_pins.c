// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 8 item 17: pins are long-term, so no pinned page may stay in
 * ZONE_MOVABLE (memory hot-unplug and compaction count on moving those).
 * GUP with FOLL_LONGTERM migrates such pages before it pins them; this
 * checks that it happened, for anonymous memory (IOAS_MAP) and for memfd
 * pages (IOAS_MAP_FILE), by reading the pages' frame numbers from
 * /proc/self/pagemap before and after the pin and comparing them with the
 * Movable zone's span in /proc/zoneinfo.
 *
 * Needs a kernel booted with a Movable zone (make check boots one with
 * movablecore=1G), root (pagemap shows frame numbers to CAP_SYS_ADMIN
 * only) and the module in selftest mode; skips otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

#define LEN		(32UL << 20)
#define NPAGES		(LEN / PAGE)
#define IOVA		0x4000000UL
#define PM_PRESENT	(1ULL << 63)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/* The Movable zones' frame ranges, over every node. */
struct movable_zone {
	uint64_t start, end;	/* [start, end) */
};

static int movable_zones(struct movable_zone *zones, int max)
{
	char line[256];
	bool in_movable = false;
	int n = 0;
	FILE *f = fopen("/proc/zoneinfo", "re");

	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f) && n < max) {
		unsigned long long v;

		if (!strncmp(line, "Node ", 5)) {
			in_movable = strstr(line, "zone  Movable") ||
				     strstr(line, "zone Movable");
			if (in_movable)
				zones[n] = (struct movable_zone){ 0, 0 };
			continue;
		}
		if (!in_movable)
			continue;
		if (sscanf(line, " spanned %llu", &v) == 1) {
			zones[n].end = v;
		} else if (sscanf(line, " start_pfn: %llu", &v) == 1) {
			zones[n].end += v;
			zones[n].start = v;
			if (zones[n].end > zones[n].start)
				n++;
			in_movable = false;
		}
	}
	fclose(f);
	return n;
}

/* How many of the @npages pages at @buf sit in a Movable zone now. */
static long pages_in_movable(const void *buf, unsigned long npages,
			     const struct movable_zone *zones, int nzones)
{
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uint64_t *entries = calloc(npages, sizeof(*entries));
	off_t off = (uintptr_t)buf / PAGE * sizeof(uint64_t);
	long in_movable = 0;

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, entries);
	ASSERT_EQ((ssize_t)(npages * sizeof(*entries)),
		  pread(fd, entries, npages * sizeof(*entries), off));
	close(fd);
	for (unsigned long i = 0; i < npages; i++) {
		uint64_t pfn = entries[i] & PM_PFN_MASK;

		ASSERT_TRUE(entries[i] & PM_PRESENT);
		/* Frame numbers read as 0 without CAP_SYS_ADMIN. */
		ASSERT_NE(0, pfn);
		for (int z = 0; z < nzones; z++)
			if (pfn >= zones[z].start && pfn < zones[z].end)
				in_movable++;
	}
	free(entries);
	return in_movable;
}

/* The common part: @buf is populated; pin it through @map, then check. */
static void pin_and_check(int fd, uint32_t ioas_id, uint32_t hwpt_id,
			  uint8_t *buf, int (*map)(int fd, uint32_t ioas_id,
						   void *ctx), void *ctx,
			  const char *what)
{
	struct movable_zone zones[8];
	int nzones = movable_zones(zones, 8);
	long before, after;

	if (!nzones)
		SKIP("no Movable zone (boot with movablecore=)");
	before = pages_in_movable(buf, NPAGES, zones, nzones);
	if (!before)
		SKIP("no page of the buffer landed in the Movable zone");
	ASSERT_EQ(0, map(fd, ioas_id, ctx));
	after = pages_in_movable(buf, NPAGES, zones, nzones);
	TEST_LOG("%s: %ld of %lu pages in ZONE_MOVABLE before the pin, %ld after",
		 what, before, NPAGES, after);
	EXPECT_EQ(0, after);
	/* The domain maps the pages the memory has now, content intact. */
	ASSERT_EQ(0, check_map(fd, hwpt_id, IOVA, LEN, buf));
	for (unsigned long i = 0; i < LEN; i += PAGE)
		ASSERT_EQ((uint8_t)(i / PAGE + 1), buf[i]);
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, IOVA, LEN));
}

static int map_anon(int fd, uint32_t ioas_id, void *ctx)
{
	return ioas_map_fixed(fd, ioas_id, ctx, LEN, IOVA);
}

TEST(anonymous_pages_leave_zone_movable_when_pinned)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd), hwpt_id;
	uint8_t *buf;

	REQUIRE_SELFTEST(fd);
	ASSERT_EQ(0, mock_domain(fd, ioas_id, &hwpt_id));
	buf = alloc_buffer(LEN);
	pin_and_check(fd, ioas_id, hwpt_id, buf, map_anon, buf, "anonymous");
	close(fd);
	free_buffer(buf, LEN);
}

#ifdef IOMMU_IOAS_MAP_FILE

static int map_memfd(int fd, uint32_t ioas_id, void *ctx)
{
	return map_file_at(fd, ioas_id, *(int *)ctx, LEN, IOVA);
}

TEST(memfd_pages_leave_zone_movable_when_pinned)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd), hwpt_id;
	int mfd = memfd_create("movable", MFD_CLOEXEC);
	uint8_t *buf;

	REQUIRE_SELFTEST(fd);
	ASSERT_EQ(0, mock_domain(fd, ioas_id, &hwpt_id));
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, LEN));
	buf = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	ASSERT_NE(MAP_FAILED, buf);
	for (unsigned long i = 0; i < LEN; i += PAGE)
		buf[i] = (uint8_t)(i / PAGE + 1);
	pin_and_check(fd, ioas_id, hwpt_id, buf, map_memfd, &mfd, "memfd");
	munmap(buf, LEN);
	close(mfd);
	close(fd);
}

#endif

TEST_HARNESS_MAIN
