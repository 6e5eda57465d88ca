// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 8 item 8 on real IOMMUs: the edu device's domain (VT-d or AMD-Vi)
 * maps hugetlb memory with 2 MiB IOMMU pages, and both drivers unmap the
 * whole large page when asked to unmap part of it.  So the unmap of an
 * area must use the boundaries its fill used, whatever other users of the
 * same pages (a copy in another IOAS) appeared meanwhile.
 *
 * A WARN does not fail an ioctl: the test reads the kernel's taint word
 * (bit 9, TAINT_WARN) and skips when it was already set.  It needs the
 * edu device, iommufd_vfio, selftest=1 (a mock domain holds the copy)
 * and 2 MiB hugetlb pages.
 */
#define _GNU_SOURCE
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "vfio_edu.h"

#define SZ_2M		0x200000UL
#define SZ_4K		0x1000UL
/* The edu device reaches 28 bits of IOVA. */
#define IOVA_A		0x400000UL
#define IOVA_B		0x1000000UL
#define XFER		2048
#define TAINT_WARN_BIT	(1UL << 9)
#define MAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static unsigned long kernel_taint(void)
{
	unsigned long taint = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "re");

	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%lu", &taint));
	fclose(f);
	return taint;
}

FIXTURE(edu_large) {
	struct edu edu;
	int iommufd;
	uint32_t dev_id;
	uint32_t ioas_a;
	uint32_t ioas_b;
	uint8_t *mem;
};

static uint32_t alloc_ioas(int fd)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_ALLOC, &alloc));
	return alloc.out_ioas_id;
}

FIXTURE_SETUP(edu_large)
{
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	struct iommu_test_cmd mock = {
		.size = sizeof(mock),
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
	};
	char bdf[32];

	if (access("/sys/module/iommufd_vfio", F_OK))
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
	self->mem = mmap(NULL, 2 * SZ_2M, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
	if (self->mem == MAP_FAILED)
		SKIP("no 2 MiB hugetlb pages");
	memset(self->mem, 0, 2 * SZ_2M);
	ASSERT_EQ(0, edu_open(&self->edu, VFIO_IOMMUFD_DKMS_IOMMU));
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_NE(-1, self->iommufd);
	self->ioas_a = alloc_ioas(self->iommufd);
	self->ioas_b = alloc_ioas(self->iommufd);
	mock.id = self->ioas_b;
	if (ioctl(self->iommufd, IOMMU_TEST_CMD, &mock)) {
		edu_close(&self->edu);
		SKIP("no mock domains: module not loaded with selftest=1");
	}
	link.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_LINK,
			   &link));
	ASSERT_EQ(0, ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list));
	ASSERT_EQ(1, list.num_devices);
	self->dev_id = dev.dev_id;
	ASSERT_EQ(0, edu_open_device(&self->edu));
}

FIXTURE_TEARDOWN(edu_large)
{
	edu_close(&self->edu);
	close(self->iommufd);
	munmap(self->mem, 2 * SZ_2M);
}

/*
 * Before the fix, unmapping the area after the partial copy unmapped part
 * of a 2 MiB IOMMU page: VT-d and AMD-Vi returned 2 MiB and the module
 * WARNed ("WARNING: ... unmap_window"), in every run on both kernels.
 */
TEST_F(edu_large, unmap_after_a_partial_copy_is_clean_and_blocks_dma)
{
	struct iommufd_dkms_device_attach attach = {
		.size = sizeof(attach),
		.dev_id = self->dev_id,
		.pt_id = self->ioas_a,
	};
	struct iommu_ioas_copy copy = {
		.size = sizeof(copy),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.dst_ioas_id = self->ioas_b,
		.src_ioas_id = self->ioas_a,
		.length = 2 * SZ_4K,
		.dst_iova = IOVA_B,
		.src_iova = IOVA_A + 5 * SZ_4K,
	};
	unsigned int i;

	if (kernel_taint() & TAINT_WARN_BIT)
		SKIP("the kernel has WARNed already: cannot tell");
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMUFD_DKMS_DEVICE_ATTACH,
			   &attach));
	ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_a, self->mem,
			       2 * SZ_2M, IOVA_A));
	/* DMA reaches both 2 MiB pages. */
	for (i = 0; i < XFER; i++)
		self->mem[3 * SZ_4K + i] = (uint8_t)(i * 3 + 1);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + 3 * SZ_4K, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + SZ_2M + 9 * SZ_4K, 0, XFER,
			     1));
	ASSERT_EQ(0, memcmp(self->mem + 3 * SZ_4K,
			    self->mem + SZ_2M + 9 * SZ_4K, XFER));

	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_COPY, &copy));
	ASSERT_EQ(0, ioas_unmap_range(self->iommufd, self->ioas_a, IOVA_A, 2 * SZ_2M));
	ASSERT_EQ(0, kernel_taint() & TAINT_WARN_BIT);

	/* The device reaches nothing of the first IOAS any more. */
	memset(self->mem, 0, 2 * SZ_2M);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + 3 * SZ_4K, 0, XFER, 1));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + SZ_2M, 0, XFER, 1));
	for (i = 0; i < 2 * SZ_2M; i += SZ_4K)
		ASSERT_EQ(0, self->mem[i]);

	/* Map again, and DMA works again. */
	ASSERT_EQ(0, ioas_map_fixed(self->iommufd, self->ioas_a, self->mem,
			       2 * SZ_2M, IOVA_A));
	memset(self->mem + 6 * SZ_4K, 0x77, XFER);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + 6 * SZ_4K, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + SZ_2M, 0, XFER, 1));
	ASSERT_EQ(0x77, self->mem[SZ_2M]);
	ASSERT_EQ(0x77, self->mem[SZ_2M + XFER - 1]);
	ASSERT_EQ(0, ioas_unmap_range(self->iommufd, self->ioas_b, IOVA_B, 2 * SZ_4K));
	ASSERT_EQ(0, ioas_unmap_range(self->iommufd, self->ioas_a, IOVA_A, 2 * SZ_2M));
	ASSERT_EQ(0, kernel_taint() & TAINT_WARN_BIT);
}

TEST_HARNESS_MAIN
