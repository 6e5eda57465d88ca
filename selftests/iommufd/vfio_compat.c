// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO type1 container ioctls issued directly on a /dev/iommu file
 * descriptor, as upstream iommufd's VFIO compatibility layer serves them:
 * VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU,
 * VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA, on the
 * "compatibility" IOAS that IOMMU_VFIO_IOAS designates.
 *
 * The expectations are upstream iommufd's (drivers/iommu/iommufd/ of
 * torvalds/linux, as built in 6.12: the VFIO compatibility layer,
 * io_pagetable.c, pages.c and main.c); the comment above each test names
 * the upstream code behind its errnos.  In short:
 *  - on a bare /dev/iommu there is no compatibility IOAS: IOMMU_VFIO_IOAS
 *    GET, VFIO_SET_IOMMU and every type1 ioctl that needs one answer
 *    ENODEV (upstream creates one only when VFIO attaches a group, through
 *    the /dev/vfio/vfio container it can provide); IOMMU_VFIO_IOAS SET
 *    names one, CLEAR and IOMMU_DESTROY of that IOAS forget it;
 *  - argsz below the fixed part and unknown flags are EINVAL, checked
 *    before the IOAS is looked up;
 *  - MAP_DMA maps at exactly the IOVA given, like IOMMU_IOAS_MAP with
 *    FIXED_IOVA; UNMAP_DMA unmaps whole mappings only (TYPE1v2; a range
 *    that cuts one is ENOENT), reports the bytes it unmapped, and
 *    unmapping nothing is no error; after VFIO_SET_IOMMU(VFIO_TYPE1_IOMMU)
 *    large pages are off and an unmap may cut mappings;
 *  - pages are charged as the context's IOMMU_OPTION_RLIMIT_MODE says:
 *    a /dev/iommu starts in per-user mode, whatever ioctl maps.
 *
 * What was mapped is checked through a mock device attached to the
 * compatibility IOAS (IOMMU_TEST_OP_MOCK_DOMAIN, module loaded with
 * selftest=1); without self-test support those tests skip.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/vfio.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"


#define PAGE			0x1000UL

#include "iommufd_utils.h"
/* The page-size bits above and including the CPU page: 0xfff...f000. */
#define ALL_PAGE_SIZES		(~(uint64_t)(PAGE - 1))

#define MAP_RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* The unprivileged identity of the accounting tests: nobody/nogroup. */

#define NO_SUCH_ID		0x7fffff00u

#define ARRAY_LEN(a)		(sizeof(a) / sizeof((a)[0]))
#define offsetofend(type, member)					\
	(offsetof(type, member) + sizeof(((type *)0)->member))

/* The fixed parts the kernel insists on (offsetofend of "size" / pgsizes). */
#define MAP_DMA_MINSZ	offsetofend(struct vfio_iommu_type1_dma_map, size)
#define UNMAP_DMA_MINSZ	offsetofend(struct vfio_iommu_type1_dma_unmap, size)
#define GET_INFO_MINSZ	offsetofend(struct vfio_iommu_type1_info, iova_pgsizes)

/* IOMMU_VFIO_IOAS; for GET *ioas_id gets the answer, for SET it is read. */
static int vfio_ioas(int fd, uint16_t op, uint32_t *ioas_id)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.op = op,
		.ioas_id = ioas_id ? *ioas_id : 0,
	};
	int rc = ioctl(fd, IOMMU_VFIO_IOAS, &cmd);

	if (!rc && op == IOMMU_VFIO_IOAS_GET && ioas_id)
		*ioas_id = cmd.ioas_id;
	return rc;
}

static int vfio_ioas_set(int fd, uint32_t ioas_id)
{
	return vfio_ioas(fd, IOMMU_VFIO_IOAS_SET, &ioas_id);
}

static uint32_t vfio_ioas_get(int fd)
{
	uint32_t ioas_id = 0;

	ASSERT_EQ(0, vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &ioas_id));
	return ioas_id;
}

/* IOMMU_IOAS_UNMAP of a range; returns the length reported. */
static uint64_t ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova,
			   uint64_t length)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = length,
	};

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_UNMAP, &cmd));
	return cmd.length;
}

static int option_rw(int fd, uint32_t option_id, uint16_t op,
		     uint32_t object_id, uint64_t *val)
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

static uint64_t huge_pages_of(int fd, uint32_t ioas_id)
{
	uint64_t val = 0;

	ASSERT_EQ(0, option_rw(fd, IOMMU_OPTION_HUGE_PAGES, IOMMU_OPTION_OP_GET,
			       ioas_id, &val));
	return val;
}

/* ------------------------------------------------------------------------
 * The type1 ioctls.
 */

static int check_extension(int fd, unsigned long extension)
{
	return ioctl(fd, VFIO_CHECK_EXTENSION, extension);
}

static int set_iommu(int fd, unsigned long type)
{
	return ioctl(fd, VFIO_SET_IOMMU, type);
}

static int map_dma_flags(int fd, const void *buf, uint64_t size, uint64_t iova,
			 uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = size,
	};

	return ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
}

static int map_dma(int fd, const void *buf, uint64_t size, uint64_t iova)
{
	return map_dma_flags(fd, buf, size, iova, MAP_RW);
}

/* VFIO_IOMMU_UNMAP_DMA; *unmapped (may be NULL) gets the size reported. */
static int unmap_dma_flags(int fd, uint64_t iova, uint64_t size,
			   uint32_t flags, uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};
	int rc = ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap);

	if (!rc && unmapped)
		*unmapped = unmap.size;
	return rc;
}

static int unmap_dma(int fd, uint64_t iova, uint64_t size, uint64_t *unmapped)
{
	return unmap_dma_flags(fd, iova, size, 0, unmapped);
}

static void unmap_dma_exact(int fd, uint64_t iova, uint64_t size)
{
	uint64_t unmapped = 0;

	ASSERT_EQ(0, unmap_dma(fd, iova, size, &unmapped));
	ASSERT_EQ(size, unmapped);
}

static uint64_t unmap_dma_all(int fd)
{
	uint64_t unmapped = UINT64_MAX;

	ASSERT_EQ(0, unmap_dma_flags(fd, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
				     &unmapped));
	return unmapped;
}

/*
 * VFIO_IOMMU_GET_INFO into a buffer of @argsz bytes (at least the fixed
 * part's worth of memory is always there); returns the ioctl's result.
 */
static int get_info(int fd, void *buf, uint32_t argsz)
{
	struct vfio_iommu_type1_info *info = buf;

	info->argsz = argsz;
	return ioctl(fd, VFIO_IOMMU_GET_INFO, info);
}

/*
 * The whole of VFIO_IOMMU_GET_INFO the way a VMM does it: ask with the
 * fixed part, then again with the size the kernel asked for.  Returns a
 * malloc()ed buffer; *argsz gets its size.
 */
static struct vfio_iommu_type1_info *get_full_info(int fd, uint32_t *argsz)
{
	struct vfio_iommu_type1_info probe = { 0 };
	struct vfio_iommu_type1_info *info;

	ASSERT_EQ(0, get_info(fd, &probe, sizeof(probe)));
	ASSERT_TRUE(probe.flags & VFIO_IOMMU_INFO_CAPS);
	ASSERT_GT(probe.argsz, sizeof(probe));
	info = malloc(probe.argsz);
	ASSERT_NE(NULL, info);
	/* The filler of get_info_with_a_short_argsz_reports_the_size_needed. */
	memset(info, 0xa5, probe.argsz);
	ASSERT_EQ(0, get_info(fd, info, probe.argsz));
	/* The size asked for was enough: the same answer, caps included. */
	ASSERT_EQ(probe.argsz, info->argsz);
	ASSERT_EQ(sizeof(*info), info->cap_offset);
	*argsz = probe.argsz;
	return info;
}

/*
 * The capability @id of a full GET_INFO answer, or NULL.  Walks the chain
 * as a VMM does, checking that every header lies inside the answer and
 * that the chain ends.
 */
static struct vfio_info_cap_header *find_cap(struct vfio_iommu_type1_info *info,
					     uint32_t argsz, uint16_t id)
{
	struct vfio_info_cap_header *found = NULL;
	uint32_t offset = info->cap_offset;
	unsigned int hops = 0;

	while (offset) {
		struct vfio_info_cap_header *hdr;

		ASSERT_GE(offset, sizeof(*info));
		ASSERT_LE(offset + sizeof(*hdr), argsz);
		ASSERT_EQ(0, offset % 4);
		hdr = (struct vfio_info_cap_header *)((uint8_t *)info + offset);
		if (hdr->id == id) {
			ASSERT_EQ(NULL, found);	/* once only */
			found = hdr;
		}
		ASSERT_LT(++hops, 16);
		offset = hdr->next;
	}
	return found;
}

/* A mock device attached to the IOAS @ioas_id; *hwpt_id gets its HWPT. */
static int mock_domain(int fd, uint32_t ioas_id, uint32_t *stdev_id,
		       uint32_t *hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas_id,
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc) {
		if (stdev_id)
			*stdev_id = cmd.mock_domain.out_stdev_id;
		if (hwpt_id)
			*hwpt_id = cmd.mock_domain.out_hwpt_id;
	}
	return rc;
}

/* ------------------------------------------------------------------------
 * No compatibility IOAS: a bare /dev/iommu.
 */

/* iommufd_vfio_ioctl(): VFIO_GET_API_VERSION answers VFIO_API_VERSION. */
TEST(get_api_version_is_vfio_api_version)
{
	int fd = iommufd_open();

	EXPECT_EQ(VFIO_API_VERSION, ioctl(fd, VFIO_GET_API_VERSION));
	ASSERT_EQ(0, close(fd));
}

/*
 * iommufd_vfio_check_extension(): TYPE1, TYPE1v2 and UNMAP_ALL are
 * offered; the obsolete TYPE1_NESTING, UPDATE_VADDR (no safe way to do it),
 * SPAPR and anything unknown are not.  VFIO_NOIOMMU_IOMMU is
 * IS_ENABLED(CONFIG_VFIO_NOIOMMU) upstream: 0 on kernels built without it,
 * Debian's among them, and always 0 on iommufd-dkms, which has no no-IOMMU
 * mode.  None of these needs a compatibility IOAS.
 */
TEST(check_extension_offers_type1_type1v2_and_unmap_all_only)
{
	static const struct {
		unsigned long extension;
		int offered;
	} answers[] = {
		{ VFIO_TYPE1_IOMMU, 1 },
		{ VFIO_TYPE1v2_IOMMU, 1 },
		{ VFIO_UNMAP_ALL, 1 },
		{ VFIO_SPAPR_TCE_IOMMU, 0 },
		{ VFIO_SPAPR_TCE_v2_IOMMU, 0 },
		{ VFIO_TYPE1_NESTING_IOMMU, 0 },
		{ VFIO_NOIOMMU_IOMMU, 0 },
		{ VFIO_UPDATE_VADDR, 0 },
		{ 0, 0 },
		{ 1000, 0 },
		{ ~0UL, 0 },
	};
	int fd = iommufd_open();

	for (unsigned int i = 0; i < ARRAY_LEN(answers); i++) {
		int got = check_extension(fd, answers[i].extension);

		if (got != answers[i].offered)
			TEST_LOG("VFIO_CHECK_EXTENSION(%lu)",
				 answers[i].extension);
		EXPECT_EQ(answers[i].offered, got);
	}
	ASSERT_EQ(0, close(fd));
}

/*
 * iommufd_vfio_cc_iommu(): VFIO_DMA_CC_IOMMU needs the compatibility IOAS
 * (ENODEV), then answers 1 unless a paging HWPT of it does not enforce
 * cache coherency.  Mock devices do not (their IOMMU lacks
 * IOMMU_CAP_ENFORCE_CACHE_COHERENCY).
 */
TEST(check_extension_dma_cc_iommu_follows_the_compat_ioas_hwpts)
{
	int fd = iommufd_open();
	uint32_t ioas_id;

	EXPECT_ERRNO(ENODEV, check_extension(fd, VFIO_DMA_CC_IOMMU));
	ioas_id = ioas_alloc(fd);
	ASSERT_EQ(0, vfio_ioas_set(fd, ioas_id));
	EXPECT_EQ(1, check_extension(fd, VFIO_DMA_CC_IOMMU));
	if (selftest_available(fd)) {
		ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL, NULL));
		EXPECT_EQ(0, check_extension(fd, VFIO_DMA_CC_IOMMU));
	}
	ASSERT_EQ(0, close(fd));
}

/*
 * get_compat_ioas(): nothing makes a compatibility IOAS on a /dev/iommu;
 * GET, SET_IOMMU and the ioctls that work on it are ENODEV.
 */
TEST(without_a_compat_ioas_get_set_iommu_and_type1_ioctls_are_enodev)
{
	struct vfio_iommu_type1_info info = { 0 };
	uint8_t *buf = alloc_buffer(PAGE);
	int fd = iommufd_open();
	uint32_t ioas_id = 0;

	EXPECT_ERRNO(ENODEV, vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &ioas_id));
	EXPECT_ERRNO(ENODEV, set_iommu(fd, VFIO_TYPE1v2_IOMMU));
	EXPECT_ERRNO(ENODEV, set_iommu(fd, VFIO_TYPE1_IOMMU));
	EXPECT_ERRNO(ENODEV, map_dma(fd, buf, PAGE, MOCK_APERTURE_START));
	EXPECT_ERRNO(ENODEV, unmap_dma(fd, MOCK_APERTURE_START, PAGE, NULL));
	EXPECT_ERRNO(ENODEV, unmap_dma_flags(fd, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
					     NULL));
	EXPECT_ERRNO(ENODEV, get_info(fd, &info, sizeof(info)));
	/* Nothing of the above created one. */
	EXPECT_ERRNO(ENODEV, vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &ioas_id));
	/* An IOAS of its own does not count either. */
	ioas_alloc(fd);
	EXPECT_ERRNO(ENODEV, vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &ioas_id));
	EXPECT_ERRNO(ENODEV, map_dma(fd, buf, PAGE, MOCK_APERTURE_START));
	ASSERT_EQ(0, close(fd));
	free_buffer(buf, PAGE);
}

/*
 * iommufd_vfio_map_dma() and _unmap_dma() check argsz and flags before
 * they look for the IOAS: those are EINVAL even without one.
 */
TEST(argument_errors_come_before_the_missing_compat_ioas)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = MAP_RW | VFIO_DMA_MAP_FLAG_VADDR,
		.size = PAGE,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP,
		.size = PAGE,
	};
	struct vfio_iommu_type1_info info = { .argsz = GET_INFO_MINSZ - 1 };
	int fd = iommufd_open();

	EXPECT_ERRNO(EINVAL, ioctl(fd, VFIO_IOMMU_MAP_DMA, &map));
	EXPECT_ERRNO(EINVAL, ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_ERRNO(EINVAL, ioctl(fd, VFIO_IOMMU_GET_INFO, &info));
	/* VFIO_SET_IOMMU: the type is checked first. */
	EXPECT_ERRNO(EINVAL, set_iommu(fd, VFIO_SPAPR_TCE_IOMMU));
	ASSERT_EQ(0, close(fd));
}

/* Container ioctls that are not type1's, and VFIO_IOMMU_DIRTY_PAGES. */
TEST(other_vfio_ioctls_are_enotty)
{
	uint8_t arg[64] = { 0 };
	int fd = iommufd_open();

	*(uint32_t *)arg = sizeof(arg);
	EXPECT_ERRNO(ENOTTY, ioctl(fd, VFIO_IOMMU_DIRTY_PAGES, arg));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, VFIO_IOMMU_SPAPR_TCE_CREATE, arg));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, VFIO_GROUP_GET_STATUS, arg));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, VFIO_DEVICE_GET_INFO, arg));
	ASSERT_EQ(0, close(fd));
}

/* --- IOMMU_VFIO_IOAS ----------------------------------------------------- */

/* iommufd_vfio_ioas(): SET names the IOAS, GET reports it, CLEAR forgets. */
TEST(vfio_ioas_set_get_and_clear)
{
	int fd = iommufd_open();
	uint32_t first = ioas_alloc(fd), second = ioas_alloc(fd), got = 0;

	ASSERT_EQ(0, vfio_ioas_set(fd, first));
	EXPECT_EQ(first, vfio_ioas_get(fd));
	ASSERT_EQ(0, vfio_ioas_set(fd, second));
	EXPECT_EQ(second, vfio_ioas_get(fd));
	ASSERT_EQ(0, vfio_ioas(fd, IOMMU_VFIO_IOAS_CLEAR, NULL));
	EXPECT_ERRNO(ENODEV, vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &got));
	/* Clearing what is clear is fine; the IOASes themselves are intact. */
	ASSERT_EQ(0, vfio_ioas(fd, IOMMU_VFIO_IOAS_CLEAR, NULL));
	ASSERT_EQ(0, destroy(fd, first));
	ASSERT_EQ(0, destroy(fd, second));
	ASSERT_EQ(0, close(fd));
}

/*
 * iommufd_vfio_ioas(): __reserved and an unknown op are EOPNOTSUPP; SET
 * looks the id up as an IOAS (iommufd_get_ioas(): ENOENT for anything
 * else); the dispatcher wants the whole struct up to __reserved.
 */
TEST(vfio_ioas_argument_errors)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd), hwpt_id = 0;
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.op = IOMMU_VFIO_IOAS_SET,
	};

	cmd.__reserved = 1;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.__reserved = 0;
	cmd.op = 3;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.op = 0xffff;
	EXPECT_ERRNO(EOPNOTSUPP, ioctl(fd, IOMMU_VFIO_IOAS, &cmd));
	cmd.op = IOMMU_VFIO_IOAS_SET;
	cmd.size = offsetof(struct iommu_vfio_ioas, __reserved);
	EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMU_VFIO_IOAS, &cmd));

	EXPECT_ERRNO(ENOENT, vfio_ioas_set(fd, 0));
	EXPECT_ERRNO(ENOENT, vfio_ioas_set(fd, NO_SUCH_ID));
	if (selftest_available(fd)) {
		ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL, &hwpt_id));
		EXPECT_ERRNO(ENOENT, vfio_ioas_set(fd, hwpt_id));
	}
	/* None of it set anything. */
	EXPECT_ERRNO(ENODEV, vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &hwpt_id));
	ASSERT_EQ(0, close(fd));
}

/*
 * The compatibility IOAS is an ordinary object: iommufd_object_remove()
 * destroys it when nothing uses it, and forgets it as the compatibility
 * IOAS (SET takes no reference).
 */
TEST(destroying_the_compat_ioas_forgets_it)
{
	uint8_t *buf = alloc_buffer(PAGE);
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd), got = 0;

	ASSERT_EQ(0, vfio_ioas_set(fd, ioas_id));
	ASSERT_EQ(0, map_dma(fd, buf, PAGE, MOCK_APERTURE_START));
	ASSERT_EQ(0, destroy(fd, ioas_id));
	EXPECT_ERRNO(ENODEV, vfio_ioas(fd, IOMMU_VFIO_IOAS_GET, &got));
	EXPECT_ERRNO(ENODEV, map_dma(fd, buf, PAGE, MOCK_APERTURE_START));
	ASSERT_EQ(0, close(fd));
	free_buffer(buf, PAGE);
}

/* --- a compatibility IOAS, with or without a mock device on it ----------- */

enum { BUF_PAGES = 32 };

#define BASE			((uint64_t)MOCK_APERTURE_START)

FIXTURE(compat)
{
	int fd;
	uint32_t ioas_id;	/* the compatibility IOAS */
	uint32_t hwpt_id;	/* the mock device's HWPT; 0: no device */
	uint8_t *buf;		/* BUF_PAGES pages */
};

FIXTURE_VARIANT(compat)
{
	bool mock_domain;
};

FIXTURE_VARIANT_ADD(compat, no_domain)
{
	.mock_domain = false,
};

FIXTURE_VARIANT_ADD(compat, mock_domain)
{
	.mock_domain = true,
};

FIXTURE_SETUP(compat)
{
	self->fd = iommufd_open();
	if (variant->mock_domain && !selftest_available(self->fd)) {
		close(self->fd);
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	}
	ASSERT_EQ(0, vfio_ioas_set(self->fd, ioas_alloc(self->fd)));
	/* As a VMM would learn it: from GET. */
	self->ioas_id = vfio_ioas_get(self->fd);
	if (variant->mock_domain)
		ASSERT_EQ(0, mock_domain(self->fd, self->ioas_id, NULL,
					 &self->hwpt_id));
	self->buf = alloc_buffer(BUF_PAGES * PAGE);
}

FIXTURE_TEARDOWN(compat)
{
	ASSERT_EQ(0, close(self->fd));
	free_buffer(self->buf, BUF_PAGES * PAGE);
}

/* With a mock device (@hwpt_id not 0): the IOVA range translates to @uptr. */
static void check_mapped_in(int fd, uint32_t hwpt_id, uint64_t iova,
			    uint64_t length, const void *uptr)
{
	if (hwpt_id)
		ASSERT_EQ(0, check_map(fd, hwpt_id, iova, length, uptr));
}

/*
 * With a mock device: nothing is mapped at @iova (MD_CHECK_MAP finds no
 * entry in the mock domain: EINVAL).
 */
static void check_unmapped_in(int fd, uint32_t hwpt_id, uint64_t iova,
			      const void *any_uptr)
{
	if (hwpt_id)
		EXPECT_ERRNO(EINVAL, check_map(fd, hwpt_id, iova, PAGE,
					       any_uptr));
}

/* The same for the compat fixture's mock device, if it has one. */
#define check_mapped(self, iova, length, uptr)				\
	check_mapped_in((self)->fd, (self)->hwpt_id, iova, length, uptr)
#define check_unmapped(self, iova)					\
	check_unmapped_in((self)->fd, (self)->hwpt_id, iova, (self)->buf)

/* --- VFIO_SET_IOMMU ------------------------------------------------------ */

/*
 * iommufd_vfio_set_iommu(): TYPE1v2 and TYPE1 only (EINVAL for any other
 * value, extensions included); it changes nothing for TYPE1v2.
 */
TEST_F(compat, set_iommu_takes_type1v2_and_type1_only)
{
	static const unsigned long refused[] = {
		0, VFIO_SPAPR_TCE_IOMMU, VFIO_SPAPR_TCE_v2_IOMMU,
		VFIO_TYPE1_NESTING_IOMMU, VFIO_NOIOMMU_IOMMU, VFIO_UNMAP_ALL,
		VFIO_UPDATE_VADDR, VFIO_DMA_CC_IOMMU, 1000,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(refused); i++)
		EXPECT_ERRNO(EINVAL, set_iommu(self->fd, refused[i]));
	ASSERT_EQ(0, set_iommu(self->fd, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(0, set_iommu(self->fd, VFIO_TYPE1v2_IOMMU));
	EXPECT_EQ(1, huge_pages_of(self->fd, self->ioas_id));
	EXPECT_EQ(self->ioas_id, vfio_ioas_get(self->fd));
}

/*
 * VFIO_TYPE1_IOMMU may unmap inside a mapping: upstream emulates it by
 * turning large pages off on the IOAS (iopt_disable_large_pages(), seen
 * as IOMMU_OPTION_HUGE_PAGES 0) and cutting the mapping at the edges of
 * the unmapped range (iopt_cut_iova()).
 */
TEST_F(compat, type1_v1_unmaps_part_of_a_mapping)
{
	uint64_t unmapped = 0;

	ASSERT_EQ(0, set_iommu(self->fd, VFIO_TYPE1_IOMMU));
	EXPECT_EQ(0, huge_pages_of(self->fd, self->ioas_id));
	ASSERT_EQ(0, map_dma(self->fd, self->buf, 8 * PAGE, BASE));

	ASSERT_EQ(0, unmap_dma(self->fd, BASE + 2 * PAGE, 3 * PAGE,
			       &unmapped));
	EXPECT_EQ(3 * PAGE, unmapped);
	check_mapped(self, BASE, 2 * PAGE, self->buf);
	check_unmapped(self, BASE + 2 * PAGE);
	check_unmapped(self, BASE + 4 * PAGE);
	check_mapped(self, BASE + 5 * PAGE, 3 * PAGE, self->buf + 5 * PAGE);

	/* From offset 0 of the first piece, and what is left. */
	ASSERT_EQ(0, unmap_dma(self->fd, BASE, PAGE, &unmapped));
	EXPECT_EQ(PAGE, unmapped);
	check_mapped(self, BASE + PAGE, PAGE, self->buf + PAGE);
	EXPECT_EQ(4 * PAGE, unmap_dma_all(self->fd));
}

/*
 * iopt_disable_large_pages(): not once a domain has mappings in it
 * (EINVAL); without a domain nothing was mapped with large pages yet.
 */
TEST_F(compat, set_iommu_type1_v1_after_mapping_into_a_domain_is_einval)
{
	ASSERT_EQ(0, map_dma(self->fd, self->buf, 4 * PAGE, BASE));
	if (self->hwpt_id) {
		EXPECT_ERRNO(EINVAL, set_iommu(self->fd, VFIO_TYPE1_IOMMU));
		EXPECT_EQ(1, huge_pages_of(self->fd, self->ioas_id));
	} else {
		ASSERT_EQ(0, set_iommu(self->fd, VFIO_TYPE1_IOMMU));
		EXPECT_EQ(0, huge_pages_of(self->fd, self->ioas_id));
	}
	ASSERT_EQ(0, set_iommu(self->fd, VFIO_TYPE1v2_IOMMU));
	unmap_dma_exact(self->fd, BASE, 4 * PAGE);
}

/* --- VFIO_IOMMU_MAP_DMA -------------------------------------------------- */

/*
 * iommufd_vfio_map_dma(): iopt_map_user_pages() at exactly map.iova; the
 * mapping is an ordinary one of the compatibility IOAS.
 */
TEST_F(compat, map_dma_maps_the_buffer_at_the_given_iova)
{
	ASSERT_EQ(0, map_dma(self->fd, self->buf, 8 * PAGE, BASE));
	check_mapped(self, BASE, 8 * PAGE, self->buf);
	ASSERT_EQ(0, map_dma(self->fd, self->buf + 8 * PAGE, 4 * PAGE,
			     BASE + 64 * PAGE));
	check_mapped(self, BASE + 64 * PAGE, 4 * PAGE, self->buf + 8 * PAGE);
	if (self->hwpt_id)
		ASSERT_EQ(0, check_refs(self->fd, self->buf, 12 * PAGE, 1));

	/* IOMMU_IOAS_UNMAP sees the type1 mappings. */
	EXPECT_EQ(8 * PAGE, ioas_unmap(self->fd, self->ioas_id, BASE,
				       8 * PAGE));
	check_unmapped(self, BASE);
	unmap_dma_exact(self->fd, BASE + 64 * PAGE, 4 * PAGE);
	if (self->hwpt_id)
		ASSERT_EQ(0, check_refs(self->fd, self->buf, 12 * PAGE, 0));
}

/* Read-only and write-only mappings are fine; iopt_check_iova() EEXIST. */
TEST_F(compat, map_dma_over_an_existing_mapping_is_eexist)
{
	const uint64_t at = BASE + 16 * PAGE;

	ASSERT_EQ(0, map_dma_flags(self->fd, self->buf, 4 * PAGE, at,
				   VFIO_DMA_MAP_FLAG_READ));
	EXPECT_ERRNO(EEXIST, map_dma(self->fd, self->buf, 4 * PAGE, at));
	EXPECT_ERRNO(EEXIST, map_dma(self->fd, self->buf, PAGE,
				     at + 3 * PAGE));
	EXPECT_ERRNO(EEXIST, map_dma(self->fd, self->buf, 2 * PAGE,
				     at - PAGE));
	EXPECT_ERRNO(EEXIST, map_dma(self->fd, self->buf, 8 * PAGE,
				     at - 2 * PAGE));
	/* Right next to it on both sides is free. */
	ASSERT_EQ(0, map_dma_flags(self->fd, self->buf, PAGE, at + 4 * PAGE,
				   VFIO_DMA_MAP_FLAG_WRITE));
	ASSERT_EQ(0, map_dma(self->fd, self->buf, PAGE, at - PAGE));
	check_mapped(self, at, 4 * PAGE, self->buf);
	EXPECT_EQ(6 * PAGE, unmap_dma_all(self->fd));
}

/*
 * iommufd_vfio_map_dma(): READ and WRITE are the only flags (VADDR, the
 * vaddr-update protocol, is not supported): EINVAL; so is an argsz short
 * of the fixed part.
 */
TEST_F(compat, map_dma_with_unknown_flags_or_short_argsz_is_einval)
{
	static const uint32_t bad_flags[] = {
		VFIO_DMA_MAP_FLAG_VADDR, 1u << 3, 1u << 31,
	};
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.vaddr = (uintptr_t)self->buf,
		.iova = BASE,
		.size = PAGE,
	};

	for (unsigned int i = 0; i < ARRAY_LEN(bad_flags); i++) {
		map.flags = MAP_RW | bad_flags[i];
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	}
	map.flags = MAP_RW;
	map.argsz = MAP_DMA_MINSZ - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	map.argsz = 0;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	/* Exactly the fixed part is enough. */
	map.argsz = MAP_DMA_MINSZ;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_MAP_DMA, &map));
	check_mapped(self, BASE, PAGE, self->buf);
	unmap_dma_exact(self->fd, BASE, PAGE);
}

/*
 * iopt_alloc_pages(): a zero size is EINVAL; iopt_check_iova(): an IOVA
 * range that wraps is EOVERFLOW, but the alignment a domain imposes is
 * checked first (EINVAL).
 */
TEST_F(compat, map_dma_of_zero_size_or_overflowing_iova_fails)
{
	EXPECT_ERRNO(EINVAL, map_dma(self->fd, self->buf, 0, BASE));
	EXPECT_ERRNO(EOVERFLOW, map_dma(self->fd, self->buf, 2 * PAGE,
					UINT64_MAX - PAGE + 1));
	EXPECT_ERRNO(self->hwpt_id ? EINVAL : EOVERFLOW,
		     map_dma(self->fd, self->buf, PAGE, UINT64_MAX));
}

/*
 * With a mock domain the IOAS reserves everything outside the mock
 * aperture and aligns IOVAs to MOCK_PAGE_SIZE (iopt_check_iova(): EINVAL).
 */
TEST_F(compat, map_dma_into_reserved_or_misaligned_iova_is_einval)
{
	if (!self->hwpt_id)
		SKIP("needs the mock domain's aperture and alignment");
	EXPECT_ERRNO(EINVAL, map_dma(self->fd, self->buf, PAGE, BASE - PAGE));
	EXPECT_ERRNO(EINVAL, map_dma(self->fd, self->buf, PAGE,
				     (uint64_t)MOCK_APERTURE_LAST + 1));
	EXPECT_ERRNO(EINVAL, map_dma(self->fd, self->buf, PAGE, BASE + 1));
	EXPECT_ERRNO(EINVAL, map_dma(self->fd, self->buf + 1, PAGE, BASE));
	ASSERT_EQ(0, check_refs(self->fd, self->buf, BUF_PAGES * PAGE, 0));
}

/*
 * With a domain the pages are pinned at map time: memory that cannot be
 * pinned is EFAULT, and nothing stays mapped.
 */
TEST_F(compat, map_dma_of_unpinnable_memory_with_a_domain_is_efault)
{
	uint8_t *hole = mmap(NULL, 4 * PAGE, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, hole);
	if (self->hwpt_id) {
		EXPECT_ERRNO(EFAULT, map_dma(self->fd, hole, 4 * PAGE, BASE));
		EXPECT_EQ(0, unmap_dma_all(self->fd));
	} else {
		/* No domain: nothing is pinned, the range is only recorded. */
		ASSERT_EQ(0, map_dma(self->fd, hole, 4 * PAGE, BASE));
		EXPECT_EQ(4 * PAGE, unmap_dma_all(self->fd));
	}
	ASSERT_EQ(0, munmap(hole, 4 * PAGE));
}

/* --- VFIO_IOMMU_UNMAP_DMA ------------------------------------------------ */

/*
 * iopt_unmap_iova(): every mapping inside the range goes; the size
 * reported is what was unmapped.  Nothing in the range is no error
 * (size 0), as in type1.
 */
TEST_F(compat, unmap_dma_reports_the_bytes_it_unmapped)
{
	uint64_t unmapped = UINT64_MAX;

	ASSERT_EQ(0, map_dma(self->fd, self->buf, 2 * PAGE, BASE));
	ASSERT_EQ(0, map_dma(self->fd, self->buf, 3 * PAGE, BASE + 4 * PAGE));
	ASSERT_EQ(0, map_dma(self->fd, self->buf, PAGE, BASE + 16 * PAGE));

	/* Two whole mappings and the holes around them. */
	ASSERT_EQ(0, unmap_dma(self->fd, BASE, 12 * PAGE, &unmapped));
	EXPECT_EQ(5 * PAGE, unmapped);
	check_unmapped(self, BASE);
	check_unmapped(self, BASE + 4 * PAGE);
	check_mapped(self, BASE + 16 * PAGE, PAGE, self->buf);

	ASSERT_EQ(0, unmap_dma(self->fd, BASE, 12 * PAGE, &unmapped));
	EXPECT_EQ(0, unmapped);
	unmap_dma_exact(self->fd, BASE + 16 * PAGE, PAGE);
	ASSERT_EQ(0, unmap_dma(self->fd, BASE + 16 * PAGE, PAGE, &unmapped));
	EXPECT_EQ(0, unmapped);
}

/*
 * TYPE1v2 (the default): iopt_unmap_iova_range() refuses a range that
 * cuts a mapping (ENOENT) and leaves the mapping whole.
 */
TEST_F(compat, unmap_dma_of_part_of_a_mapping_is_enoent_and_keeps_it)
{
	ASSERT_EQ(0, map_dma(self->fd, self->buf, 4 * PAGE, BASE));
	EXPECT_ERRNO(ENOENT, unmap_dma(self->fd, BASE, 2 * PAGE, NULL));
	EXPECT_ERRNO(ENOENT, unmap_dma(self->fd, BASE + PAGE, PAGE, NULL));
	EXPECT_ERRNO(ENOENT, unmap_dma(self->fd, BASE + 2 * PAGE, 4 * PAGE,
				       NULL));
	EXPECT_ERRNO(ENOENT, unmap_dma(self->fd, BASE - PAGE, 2 * PAGE, NULL));
	check_mapped(self, BASE, 4 * PAGE, self->buf);
	ASSERT_EQ(0, set_iommu(self->fd, VFIO_TYPE1v2_IOMMU));
	EXPECT_ERRNO(ENOENT, unmap_dma(self->fd, BASE, 2 * PAGE, NULL));
	unmap_dma_exact(self->fd, BASE, 4 * PAGE);
}

/* VFIO_DMA_UNMAP_FLAG_ALL: iopt_unmap_all(), reporting the total. */
TEST_F(compat, unmap_dma_all_unmaps_everything_and_reports_the_total)
{
	for (unsigned int i = 0; i < 8; i++)
		ASSERT_EQ(0, map_dma(self->fd, self->buf + i * PAGE, PAGE,
				     BASE + 2 * i * PAGE));
	EXPECT_EQ(8 * PAGE, unmap_dma_all(self->fd));
	for (unsigned int i = 0; i < 8; i++)
		check_unmapped(self, BASE + 2 * i * PAGE);
	EXPECT_EQ(0, unmap_dma_all(self->fd));
	if (self->hwpt_id)
		ASSERT_EQ(0, check_refs(self->fd, self->buf, 8 * PAGE, 0));
}

/*
 * iommufd_vfio_unmap_dma(): only FLAG_ALL is known (GET_DIRTY_BITMAP is
 * obsolete, VADDR unsupported): EINVAL; FLAG_ALL wants iova and size 0
 * (EINVAL); argsz short of the fixed part is EINVAL; iopt_unmap_iova():
 * size 0 is EINVAL, a wrapping range EOVERFLOW.  Nothing is unmapped.
 */
TEST_F(compat, unmap_dma_argument_errors)
{
	static const uint32_t bad_flags[] = {
		VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, VFIO_DMA_UNMAP_FLAG_VADDR,
		VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_VADDR, 1u << 31,
	};
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = BASE,
		.size = 4 * PAGE,
	};

	ASSERT_EQ(0, map_dma(self->fd, self->buf, 4 * PAGE, BASE));
	for (unsigned int i = 0; i < ARRAY_LEN(bad_flags); i++) {
		unmap.flags = bad_flags[i];
		EXPECT_ERRNO(EINVAL, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA,
					   &unmap));
	}
	unmap.flags = 0;
	unmap.argsz = UNMAP_DMA_MINSZ - 1;
	EXPECT_ERRNO(EINVAL, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap));

	EXPECT_ERRNO(EINVAL, unmap_dma_flags(self->fd, BASE, 0,
					     VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	EXPECT_ERRNO(EINVAL, unmap_dma_flags(self->fd, 0, 4 * PAGE,
					     VFIO_DMA_UNMAP_FLAG_ALL, NULL));
	EXPECT_ERRNO(EINVAL, unmap_dma(self->fd, BASE, 0, NULL));
	EXPECT_ERRNO(EOVERFLOW, unmap_dma(self->fd, UINT64_MAX - PAGE + 1,
					  2 * PAGE, NULL));
	check_mapped(self, BASE, 4 * PAGE, self->buf);

	/* Exactly the fixed part is enough, and gets the size back. */
	unmap.argsz = UNMAP_DMA_MINSZ;
	unmap.size = 4 * PAGE;
	ASSERT_EQ(0, ioctl(self->fd, VFIO_IOMMU_UNMAP_DMA, &unmap));
	EXPECT_EQ(4 * PAGE, unmap.size);
}

/* --- VFIO_IOMMU_GET_INFO ------------------------------------------------- */

/*
 * iommufd_vfio_iommu_get_info(): flags PGSIZES | CAPS; iova_pgsizes is
 * every domain's page sizes, rounded up to the CPU page the way VFIO does
 * (all page-size bits from 4 KiB up without a domain, 4 KiB for the mock
 * domain's 2 KiB pages); the capabilities are the usable IOVA ranges (the
 * holes between reserved ranges) and DMA_AVAIL with U32_MAX, in a chain
 * whose order is not part of the ABI.
 */
TEST_F(compat, get_info_reports_page_sizes_iova_ranges_and_dma_avail)
{
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	struct vfio_iommu_type1_info_dma_avail *avail;
	struct vfio_iommu_type1_info *info;
	uint32_t argsz;

	info = get_full_info(self->fd, &argsz);
	EXPECT_EQ(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, info->flags);
	EXPECT_EQ(self->hwpt_id ? PAGE : ALL_PAGE_SIZES, info->iova_pgsizes);

	ranges = (void *)find_cap(info, argsz,
				  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, ranges);
	EXPECT_EQ(1, ranges->header.version);
	ASSERT_EQ(1, ranges->nr_iovas);
	ASSERT_LE((uint8_t *)&ranges->iova_ranges[1], (uint8_t *)info + argsz);
	if (self->hwpt_id) {
		EXPECT_EQ(MOCK_APERTURE_START, ranges->iova_ranges[0].start);
		EXPECT_EQ(MOCK_APERTURE_LAST, ranges->iova_ranges[0].end);
	} else {
		EXPECT_EQ(0, ranges->iova_ranges[0].start);
		EXPECT_EQ(UINT64_MAX, ranges->iova_ranges[0].end);
	}

	avail = (void *)find_cap(info, argsz, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	ASSERT_NE(NULL, avail);
	EXPECT_EQ(1, avail->header.version);
	EXPECT_EQ(UINT32_MAX, avail->avail);
	free(info);
}

/* iommufd_fill_cap_iova(): reserved IOVA splits the range it falls in. */
TEST_F(compat, get_info_iova_ranges_leave_out_reserved_iova)
{
	struct vfio_iommu_type1_info_cap_iova_range *ranges;
	const uint64_t hole = BASE + 256 * PAGE;
	struct vfio_iommu_type1_info *info;
	uint32_t argsz;

	if (!selftest_available(self->fd))
		SKIP("no IOMMU_TEST_CMD: module not loaded with selftest=1");
	ASSERT_EQ(0, add_reserved(self->fd, self->ioas_id, hole, 16 * PAGE));
	info = get_full_info(self->fd, &argsz);
	ranges = (void *)find_cap(info, argsz,
				  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	ASSERT_NE(NULL, ranges);
	ASSERT_EQ(2, ranges->nr_iovas);
	ASSERT_LE((uint8_t *)&ranges->iova_ranges[2], (uint8_t *)info + argsz);
	EXPECT_EQ(self->hwpt_id ? MOCK_APERTURE_START : 0,
		  ranges->iova_ranges[0].start);
	EXPECT_EQ(hole - 1, ranges->iova_ranges[0].end);
	EXPECT_EQ(hole + 16 * PAGE, ranges->iova_ranges[1].start);
	EXPECT_EQ(self->hwpt_id ? MOCK_APERTURE_LAST : UINT64_MAX,
		  ranges->iova_ranges[1].end);
	free(info);
}

/*
 * The argsz protocol: the kernel writes at most argsz bytes; with less than
 * room for every capability it sets VFIO_IOMMU_INFO_CAPS, reports the
 * argsz needed and leaves cap_offset 0 (when argsz reaches cap_offset at
 * all); the fixed part alone is the minimum.  VFIO type1 behaves the same.
 */
TEST_F(compat, get_info_with_a_short_argsz_reports_the_size_needed)
{
	struct vfio_iommu_type1_info *full;
	uint8_t buf[512];
	struct vfio_iommu_type1_info *info = (void *)buf;
	uint32_t needed;

	full = get_full_info(self->fd, &needed);
	ASSERT_LE(needed, sizeof(buf));

	/* Just the fixed part: cap_offset lies beyond argsz, untouched. */
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, get_info(self->fd, buf, GET_INFO_MINSZ));
	EXPECT_EQ(needed, info->argsz);
	EXPECT_EQ(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, info->flags);
	EXPECT_EQ(full->iova_pgsizes, info->iova_pgsizes);
	for (size_t i = GET_INFO_MINSZ; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);

	/* The whole struct, no room for capabilities. */
	for (uint32_t argsz = sizeof(*info); argsz < needed; argsz += 4) {
		memset(buf, 0xa5, sizeof(buf));
		ASSERT_EQ(0, get_info(self->fd, buf, argsz));
		EXPECT_EQ(needed, info->argsz);
		EXPECT_EQ(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS,
			  info->flags);
		EXPECT_EQ(0, info->cap_offset);
		for (size_t i = argsz; i < sizeof(buf); i++)
			ASSERT_EQ(0xa5, buf[i]);
	}

	/* More than enough: the same answer, nothing past what is needed. */
	memset(buf, 0xa5, sizeof(buf));
	ASSERT_EQ(0, get_info(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(needed, info->argsz);
	EXPECT_EQ(sizeof(*info), info->cap_offset);
	EXPECT_EQ(0, memcmp((uint8_t *)full + sizeof(*info),
			    buf + sizeof(*info), needed - sizeof(*info)));
	for (size_t i = needed; i < sizeof(buf); i++)
		ASSERT_EQ(0xa5, buf[i]);
	free(full);

	/* Short of the fixed part: EINVAL. */
	EXPECT_ERRNO(EINVAL, get_info(self->fd, buf, GET_INFO_MINSZ - 1));
	EXPECT_ERRNO(EINVAL, get_info(self->fd, buf, 0));
}

/* --- accounting ---------------------------------------------------------- */

/*
 * A compatibility IOAS with a mock device, on a fresh fd whose rlimit mode
 * is set before any object exists (IOMMU_OPTION_RLIMIT_MODE wants an empty
 * context and CAP_SYS_RESOURCE: done as root, before the mapper drops its
 * privileges).
 */
struct accounting_ctx {
	int fd;
	uint32_t hwpt_id;
	uint64_t rlimit_mode;
	size_t limit_pages;	/* RLIMIT_MEMLOCK of the mapper */
};

static void accounting_ctx_init(struct accounting_ctx *ctx,
				uint64_t rlimit_mode)
{
	uint32_t ioas_id;

	ctx->fd = iommufd_open();
	REQUIRE_SELFTEST(ctx->fd);
	ctx->rlimit_mode = rlimit_mode;
	ASSERT_EQ(0, option_rw(ctx->fd, IOMMU_OPTION_RLIMIT_MODE,
			       IOMMU_OPTION_OP_SET, 0, &rlimit_mode));
	ioas_id = ioas_alloc(ctx->fd);
	ASSERT_EQ(0, vfio_ioas_set(ctx->fd, ioas_id));
	ASSERT_EQ(0, mock_domain(ctx->fd, ioas_id, NULL, &ctx->hwpt_id));
}

/*
 * The type1 mapper, unprivileged: VmPin follows what is pinned; VmLck too
 * in process mode only (in user mode the charge goes to the user's
 * locked_vm, which /proc does not show); past RLIMIT_MEMLOCK a map is
 * ENOMEM and charges nothing.
 */
static void limited_type1_mapper(void *arg)
{
	struct accounting_ctx *ctx = arg;
	const size_t limit = ctx->limit_pages * PAGE;
	bool mm_mode = ctx->rlimit_mode == 1;
	uint8_t *buf = alloc_buffer(4 * limit);
	struct vm_counters start, now;
	uint64_t unmapped = UINT64_MAX;

	set_memlock_limit(limit);
	drop_to_nobody();
	start = vm_counters();

	ASSERT_EQ(0, map_dma(ctx->fd, buf, limit / 2, BASE));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(limit / 2), now.pin_kb);
	EXPECT_EQ(start.lck_kb + (mm_mode ? kb(limit / 2) : 0), now.lck_kb);
	ASSERT_EQ(0, check_map(ctx->fd, ctx->hwpt_id, BASE, limit / 2, buf));

	/* Over the limit, alone or with what is already charged. */
	EXPECT_ERRNO(ENOMEM, map_dma(ctx->fd, buf + limit, 2 * limit,
				     BASE + limit));
	EXPECT_ERRNO(ENOMEM, map_dma(ctx->fd, buf + limit, limit / 2 + PAGE,
				     BASE + limit));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(limit / 2), now.pin_kb);
	EXPECT_EQ(start.lck_kb + (mm_mode ? kb(limit / 2) : 0), now.lck_kb);
	ASSERT_EQ(0, unmap_dma(ctx->fd, BASE + limit, 2 * limit, &unmapped));
	EXPECT_EQ(0, unmapped);

	/* Up to the limit exactly is fine. */
	ASSERT_EQ(0, map_dma(ctx->fd, buf + limit, limit / 2, BASE + limit));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(limit), now.pin_kb);
	EXPECT_EQ(start.lck_kb + (mm_mode ? kb(limit) : 0), now.lck_kb);

	EXPECT_EQ(limit, unmap_dma_all(ctx->fd));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	EXPECT_EQ(start.lck_kb, now.lck_kb);
	free_buffer(buf, 4 * limit);
}

/*
 * A /dev/iommu starts in per-user mode (only a /dev/vfio/vfio that iommufd
 * provides starts in process mode), and VFIO_IOMMU_MAP_DMA charges as the
 * context says: not VmLck.
 */
TEST(type1_map_on_dev_iommu_charges_the_user_by_default)
{
	struct accounting_ctx ctx = { .limit_pages = 16 };
	uint64_t mode = UINT64_MAX;

	accounting_ctx_init(&ctx, 0);
	ASSERT_EQ(0, option_rw(ctx.fd, IOMMU_OPTION_RLIMIT_MODE,
			       IOMMU_OPTION_OP_GET, 0, &mode));
	EXPECT_EQ(0, mode);
	in_child(limited_type1_mapper, &ctx);
	ASSERT_EQ(0, close(ctx.fd));
}

/* IOMMU_OPTION_RLIMIT_MODE 1: the type1 maps charge VmLck, as VFIO does. */
TEST(type1_map_in_process_mode_charges_vmlck)
{
	struct accounting_ctx ctx = { .limit_pages = 16 };

	accounting_ctx_init(&ctx, 1);
	in_child(limited_type1_mapper, &ctx);
	ASSERT_EQ(0, close(ctx.fd));
}

/* iopt_alloc_pages(): CAP_IPC_LOCK is never limited nor charged locked_vm. */
static void privileged_type1_mapper(void *arg)
{
	struct accounting_ctx *ctx = arg;
	uint8_t *buf = alloc_buffer(64 * PAGE);
	struct vm_counters start = vm_counters(), now;

	set_memlock_limit(0);
	ASSERT_EQ(0, map_dma(ctx->fd, buf, 64 * PAGE, BASE));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + kb(64 * PAGE), now.pin_kb);
	EXPECT_EQ(start.lck_kb, now.lck_kb);
	unmap_dma_exact(ctx->fd, BASE, 64 * PAGE);
	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	free_buffer(buf, 64 * PAGE);
}

TEST(type1_map_by_cap_ipc_lock_is_not_limited_in_either_mode)
{
	for (uint64_t mode = 0; mode <= 1; mode++) {
		struct accounting_ctx ctx = { 0 };

		accounting_ctx_init(&ctx, mode);
		in_child(privileged_type1_mapper, &ctx);
		ASSERT_EQ(0, close(ctx.fd));
	}
}

TEST_HARNESS_MAIN
