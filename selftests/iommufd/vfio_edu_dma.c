// SPDX-License-Identifier: GPL-2.0
/*
 * Real DMA through real IOMMU domains: QEMU's edu device, bound to
 * vfio-pci, driven by a VMM-style program through our VFIO backend
 * (iommufd_vfio) in both of its modes.
 *
 *  - iommufd mode: the container links to /dev/iommu, the device gets a
 *    dev_id and is attached to IOAS/HWPTs with IOMMUFD_DKMS_DEVICE_ATTACH;
 *  - type1 compatibility: an unmodified VFIO type1 client (the module is
 *    loaded with type1=1), only the VFIO ABI.
 *
 * Every transfer is checked byte for byte; after an unmap the device's
 * writes must not reach memory (the IOMMU faults them).  The tests skip
 * when no edu device or no iommufd_vfio is present.
 */
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>

#include "iommufd_harness.h"
#include "vfio_edu.h"

#define BUF_SIZE	(64 * 1024)
#define IOVA_A		0x100000ULL
#define IOVA_B		0x200000ULL
#define XFER		2048

static void *alloc_buf(void)
{
	void *buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, buf);
	memset(buf, 0, BUF_SIZE);
	return buf;
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * 7 + seed);
}

static int backend_loaded(void)
{
	return access("/sys/module/iommufd_vfio", F_OK) == 0;
}

/* --- iommufd mode ----------------------------------------------------- */

FIXTURE(iommufd_mode) {
	struct edu edu;
	int iommufd;
	uint32_t dev_id;
	uint32_t ioas_id;
	uint8_t *a, *b;
};

static void ioas_map(int fd, uint32_t ioas_id, void *buf, uint64_t iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			 IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = BUF_SIZE,
		.iova = iova,
	};

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_MAP, &map));
}

static void ioas_unmap(int fd, uint32_t ioas_id, uint64_t iova)
{
	struct iommu_ioas_unmap unmap = {
		.size = sizeof(unmap),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = BUF_SIZE,
	};

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_UNMAP, &unmap));
}

static uint32_t ioas_alloc(int fd)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_ALLOC, &alloc));
	return alloc.out_ioas_id;
}

static uint32_t attach(int fd, uint32_t dev_id, uint32_t pt_id)
{
	struct iommufd_dkms_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = pt_id,
	};

	ASSERT_EQ(0, ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd));
	return cmd.pt_id;
}

FIXTURE_SETUP(iommufd_mode)
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

	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_NE(-1, self->iommufd);
	link.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_LINK,
			   &link));
	ASSERT_EQ(0, ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list));
	ASSERT_EQ(1, list.num_devices);
	ASSERT_EQ(0, strcmp(dev.name, self->edu.bdf));
	self->dev_id = dev.dev_id;
	self->ioas_id = ioas_alloc(self->iommufd);
	self->a = alloc_buf();
	self->b = alloc_buf();
	ASSERT_EQ(0, edu_open_device(&self->edu));
}

FIXTURE_TEARDOWN(iommufd_mode)
{
	edu_close(&self->edu);
	close(self->iommufd);
	munmap(self->a, BUF_SIZE);
	munmap(self->b, BUF_SIZE);
}

TEST_F(iommufd_mode, a_pattern_goes_to_the_device_and_back_through_the_ioas)
{
	ioas_map(self->iommufd, self->ioas_id, self->a, IOVA_A);
	ioas_map(self->iommufd, self->ioas_id, self->b, IOVA_B);
	attach(self->iommufd, self->dev_id, self->ioas_id);

	fill_pattern(self->a, 512 + XFER, 1);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + 512, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B + 1024, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a + 512, self->b + 1024, XFER));
	/* Nothing around the target was written. */
	ASSERT_EQ(0, self->b[1023]);
	ASSERT_EQ(0, self->b[1024 + XFER]);
}

TEST_F(iommufd_mode, after_unmap_the_device_cannot_reach_memory_and_remap_restores_it)
{
	ioas_map(self->iommufd, self->ioas_id, self->a, IOVA_A);
	ioas_map(self->iommufd, self->ioas_id, self->b, IOVA_B);
	attach(self->iommufd, self->dev_id, self->ioas_id);
	fill_pattern(self->a, XFER, 2);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 0));

	ioas_unmap(self->iommufd, self->ioas_id, IOVA_B);
	/* The write is dropped by the IOMMU: memory stays zero. */
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, self->b[0]);
	ASSERT_EQ(0, self->b[XFER - 1]);

	ioas_map(self->iommufd, self->ioas_id, self->b, IOVA_B);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->b, XFER));
}

TEST_F(iommufd_mode, dma_follows_a_replace_to_another_ioas)
{
	uint32_t ioas2 = ioas_alloc(self->iommufd);
	uint32_t hwpt1, hwpt2;

	/* The same IOVA means different memory in each IOAS. */
	ioas_map(self->iommufd, self->ioas_id, self->a, IOVA_A);
	ioas_map(self->iommufd, ioas2, self->b, IOVA_A);
	hwpt1 = attach(self->iommufd, self->dev_id, self->ioas_id);
	fill_pattern(self->a, XFER, 3);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 0));

	hwpt2 = attach(self->iommufd, self->dev_id, ioas2);
	ASSERT_NE(hwpt1, hwpt2);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->b, XFER));

	/* And back: the first IOAS's buffer receives again. */
	memset(self->a, 0, XFER);
	attach(self->iommufd, self->dev_id, self->ioas_id);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->b, XFER));
}

TEST_F(iommufd_mode, detach_blocks_dma)
{
	struct iommufd_dkms_device_detach detach = {
		.size = sizeof(detach),
		.dev_id = self->dev_id,
	};

	ioas_map(self->iommufd, self->ioas_id, self->a, IOVA_A);
	attach(self->iommufd, self->dev_id, self->ioas_id);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMUFD_DKMS_DEVICE_DETACH, &detach));
	memset(self->a, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 1));
	ASSERT_EQ(0, self->a[0]);
	ASSERT_EQ(0, self->a[XFER - 1]);
}

TEST_F(iommufd_mode, the_msi_window_is_reserved_once_the_device_is_attached)
{
	struct iommu_iova_range ranges[8];
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = self->ioas_id,
		.num_iovas = 8,
		.allowed_iovas = (uintptr_t)ranges,
	};
	uint32_t i;
	int covered = 0;

	attach(self->iommufd, self->dev_id, self->ioas_id);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_IOAS_IOVA_RANGES, &cmd));
	for (i = 0; i < cmd.num_iovas; i++)
		if (ranges[i].start <= 0xfee00000ULL &&
		    ranges[i].last >= 0xfee00000ULL)
			covered = 1;
	ASSERT_FALSE(covered);
	ASSERT_EQ(4096, cmd.out_iova_alignment);
}

TEST_F(iommufd_mode, the_device_cannot_be_destroyed_by_user_space)
{
	struct iommu_destroy destroy = {
		.size = sizeof(destroy),
		.id = self->dev_id,
	};

	ASSERT_ERRNO(EBUSY, ioctl(self->iommufd, IOMMU_DESTROY, &destroy));
}

TEST_F(iommufd_mode, an_attached_ioas_cannot_be_destroyed)
{
	struct iommu_destroy destroy = {
		.size = sizeof(destroy),
		.id = self->ioas_id,
	};

	attach(self->iommufd, self->dev_id, self->ioas_id);
	ASSERT_ERRNO(EBUSY, ioctl(self->iommufd, IOMMU_DESTROY, &destroy));
}

TEST_F(iommufd_mode, hw_info_reports_what_the_host_driver_reports)
{
	uint8_t data[256];
	struct iommu_hw_info info = {
		.size = sizeof(info),
		.dev_id = self->dev_id,
		.data_len = sizeof(data),
		.data_uptr = (uintptr_t)data,
	};
	int intel = access("/sys/class/iommu/dmar0", F_OK) == 0;

	memset(data, 0xff, sizeof(data));
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
	if (info.out_data_type == IOMMU_HW_INFO_TYPE_INTEL_VTD) {
		struct iommu_hw_info_vtd *vtd = (void *)data;

		ASSERT_TRUE(intel);
		ASSERT_EQ(sizeof(*vtd), info.data_len);
		/* QEMU's VT-d: a non-zero capability register. */
		ASSERT_NE(0, vtd->cap_reg);
	} else {
		/* 6.1 drivers, and AMD on 6.12, have no data to give. */
		ASSERT_EQ(IOMMU_HW_INFO_TYPE_NONE, info.out_data_type);
		ASSERT_EQ(0, info.data_len);
	}
	/* Whatever the kernel did not fill is zeroed. */
	ASSERT_EQ(0, data[sizeof(data) - 1]);

	info.flags = 1U << 31;
	ASSERT_ERRNO(EOPNOTSUPP,
		     ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
	info.flags = 0;
	info.dev_id = self->ioas_id;
	ASSERT_ERRNO(ENOENT, ioctl(self->iommufd, IOMMU_GET_HW_INFO, &info));
}

TEST_F(iommufd_mode, a_paging_hwpt_from_hwpt_alloc_carries_the_dma)
{
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.dev_id = self->dev_id,
		.pt_id = self->ioas_id,
	};
	struct iommu_destroy destroy = { .size = sizeof(destroy) };

	ioas_map(self->iommufd, self->ioas_id, self->a, IOVA_A);
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMU_HWPT_ALLOC, &alloc));
	/* Mapped after the HWPT exists: it must follow the IOAS. */
	ioas_map(self->iommufd, self->ioas_id, self->b, IOVA_B);
	ASSERT_EQ(alloc.out_hwpt_id,
		  attach(self->iommufd, self->dev_id, alloc.out_hwpt_id));
	fill_pattern(self->a, XFER, 5);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->b, XFER));

	/* In use by the device: neither it nor its IOAS can go. */
	destroy.id = alloc.out_hwpt_id;
	ASSERT_ERRNO(EBUSY, ioctl(self->iommufd, IOMMU_DESTROY, &destroy));
	destroy.id = self->ioas_id;
	ASSERT_ERRNO(EBUSY, ioctl(self->iommufd, IOMMU_DESTROY, &destroy));
}

/*
 * A multi-device IOMMU group: all its devices share one domain.  The AMD
 * guest has one ready (the ICH9 functions 00:1f.*); elsewhere: skip.
 */
FIXTURE(multi_device_group) {
	int container_fd;
	int group_fd;
	int iommufd;
	struct iommufd_dkms_vfio_device devs[8];
	uint32_t ndevs;
};

FIXTURE_SETUP(multi_device_group)
{
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 8,
		.devices = (uintptr_t)self->devs,
	};
	char path[PATH_MAX], target[PATH_MAX];
	int group_nr, n;
	ssize_t len;

	self->container_fd = self->group_fd = self->iommufd = -1;
	if (!backend_loaded())
		SKIP("iommufd_vfio is not loaded");
	len = readlink("/sys/bus/pci/devices/0000:00:1f.2/iommu_group", target,
		       sizeof(target) - 1);
	if (len < 0)
		SKIP("no 00:1f.2 with an IOMMU group");
	target[len] = 0;
	group_nr = atoi(strrchr(target, '/') + 1);
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/devices/0000:00:1f.0",
		 group_nr);
	if (access(path, F_OK))
		SKIP("00:1f.* are in separate groups under this IOMMU");
	n = vfio_bind_group(group_nr);
	ASSERT_GT(n, 1);

	self->container_fd = open("/dev/vfio/vfio", O_RDWR);
	ASSERT_NE(-1, self->container_fd);
	snprintf(path, sizeof(path), "/dev/vfio/%d", group_nr);
	self->group_fd = open(path, O_RDWR);
	ASSERT_NE(-1, self->group_fd);
	ASSERT_EQ(0, ioctl(self->group_fd, VFIO_GROUP_SET_CONTAINER,
			   &self->container_fd));
	ASSERT_EQ(0, ioctl(self->container_fd, VFIO_SET_IOMMU,
			   VFIO_IOMMUFD_DKMS_IOMMU));
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_NE(-1, self->iommufd);
	link.iommufd = self->iommufd;
	ASSERT_EQ(0, ioctl(self->container_fd, IOMMUFD_DKMS_VFIO_LINK, &link));
	ASSERT_EQ(0, ioctl(self->container_fd, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list));
	ASSERT_EQ(n, list.num_devices);
	self->ndevs = list.num_devices;
}

FIXTURE_TEARDOWN(multi_device_group)
{
	if (self->group_fd >= 0)
		close(self->group_fd);
	if (self->container_fd >= 0)
		close(self->container_fd);
	if (self->iommufd >= 0)
		close(self->iommufd);
}

TEST_F(multi_device_group, devices_of_one_group_share_one_domain)
{
	uint32_t ioas1 = ioas_alloc(self->iommufd);
	uint32_t ioas2 = ioas_alloc(self->iommufd);
	struct iommufd_dkms_device_attach cmd = { .size = sizeof(cmd) };
	struct iommufd_dkms_device_detach detach = { .size = sizeof(detach) };
	uint32_t a = self->devs[0].dev_id, b = self->devs[1].dev_id;
	uint32_t hwpt;

	hwpt = attach(self->iommufd, a, ioas1);
	/* The second device may only join the same domain. */
	cmd.dev_id = b;
	cmd.pt_id = ioas2;
	ASSERT_ERRNO(EINVAL,
		     ioctl(self->iommufd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd));
	ASSERT_EQ(hwpt, attach(self->iommufd, b, ioas1));
	/* Nor can one of them move alone. */
	cmd.dev_id = a;
	cmd.pt_id = ioas2;
	ASSERT_ERRNO(EINVAL,
		     ioctl(self->iommufd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd));
	/* Once the other left, it can. */
	detach.dev_id = b;
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMUFD_DKMS_DEVICE_DETACH, &detach));
	ASSERT_NE(hwpt, attach(self->iommufd, a, ioas2));
	detach.dev_id = a;
	ASSERT_EQ(0, ioctl(self->iommufd, IOMMUFD_DKMS_DEVICE_DETACH, &detach));
}

/* --- type1 compatibility ---------------------------------------------- */

FIXTURE(type1_compat) {
	struct edu edu;
	uint8_t *a, *b;
};

static int type1_map(int fd, void *buf, uint64_t iova)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = BUF_SIZE,
	};

	return ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
}

FIXTURE_SETUP(type1_compat)
{
	char bdf[32];
	long refs;

	if (!backend_loaded())
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
	refs = module_refcnt("iommufd_vfio");
	ASSERT_EQ(0, edu_open(&self->edu, VFIO_TYPE1v2_IOMMU));
	/*
	 * The container (and the HWPT of its device) took references on us:
	 * we, not the kernel's type1, serve it.
	 */
	if (module_refcnt("iommufd_vfio") <= refs)
		SKIP("iommufd_vfio was loaded without type1=1");
	self->a = alloc_buf();
	self->b = alloc_buf();
	ASSERT_EQ(0, edu_open_device(&self->edu));
}

FIXTURE_TEARDOWN(type1_compat)
{
	edu_close(&self->edu);
	munmap(self->a, BUF_SIZE);
	munmap(self->b, BUF_SIZE);
}

TEST_F(type1_compat, get_info_reports_page_sizes_and_usable_ranges)
{
	struct {
		struct vfio_iommu_type1_info info;
		uint8_t caps[512];
	} buf = { .info = { .argsz = sizeof(buf) } };
	struct vfio_info_cap_header *hdr;
	int saw_range = 0, saw_avail = 0;

	ASSERT_EQ(0, ioctl(self->edu.container_fd, VFIO_IOMMU_GET_INFO, &buf));
	ASSERT_TRUE(buf.info.flags & VFIO_IOMMU_INFO_PGSIZES);
	ASSERT_TRUE(buf.info.iova_pgsizes & 4096);
	ASSERT_TRUE(buf.info.flags & VFIO_IOMMU_INFO_CAPS);
	ASSERT_NE(0, buf.info.cap_offset);
	for (hdr = (void *)((uint8_t *)&buf + buf.info.cap_offset);;
	     hdr = (void *)((uint8_t *)&buf + hdr->next)) {
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
			struct vfio_iommu_type1_info_cap_iova_range *r =
				(void *)hdr;
			uint32_t i;

			saw_range = 1;
			ASSERT_GT(r->nr_iovas, 0);
			for (i = 0; i < r->nr_iovas; i++)
				ASSERT_FALSE(r->iova_ranges[i].start <=
						     0xfee00000ULL &&
					     r->iova_ranges[i].end >=
						     0xfee00000ULL);
		}
		if (hdr->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL)
			saw_avail = 1;
		if (!hdr->next)
			break;
	}
	ASSERT_TRUE(saw_range);
	ASSERT_TRUE(saw_avail);
}

TEST_F(type1_compat, a_type1_client_dmas_and_unmaps_like_on_type1)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = IOVA_B,
		.size = BUF_SIZE,
	};

	ASSERT_EQ(0, type1_map(self->edu.container_fd, self->a, IOVA_A));
	ASSERT_EQ(0, type1_map(self->edu.container_fd, self->b, IOVA_B));
	ASSERT_ERRNO(EEXIST,
		     type1_map(self->edu.container_fd, self->b, IOVA_B));
	fill_pattern(self->a, XFER, 4);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a, self->b, XFER));

	ASSERT_EQ(0, ioctl(self->edu.container_fd, VFIO_IOMMU_UNMAP_DMA,
			   &unmap));
	ASSERT_EQ(BUF_SIZE, unmap.size);
	memset(self->b, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, self->b[0]);

	/* VFIO_DMA_UNMAP_FLAG_ALL takes what is left. */
	unmap.flags = VFIO_DMA_UNMAP_FLAG_ALL;
	unmap.iova = 0;
	unmap.size = 0;
	ASSERT_EQ(0, ioctl(self->edu.container_fd, VFIO_IOMMU_UNMAP_DMA,
			   &unmap));
	ASSERT_EQ(BUF_SIZE, unmap.size);
}

TEST_F(type1_compat, check_extension_answers_truthfully)
{
	int fd = self->edu.container_fd;

	ASSERT_EQ(1, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU));
	ASSERT_EQ(1, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL));
	ASSERT_EQ(0, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_UPDATE_VADDR));
	ASSERT_EQ(0, ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU));
}

TEST_F(type1_compat, unknown_map_flags_are_refused_as_type1_does)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR,
		.vaddr = (uintptr_t)self->a,
		.iova = IOVA_A,
		.size = BUF_SIZE,
	};

	ASSERT_ERRNO(EINVAL,
		     ioctl(self->edu.container_fd, VFIO_IOMMU_MAP_DMA, &map));
}

TEST_HARNESS_MAIN
