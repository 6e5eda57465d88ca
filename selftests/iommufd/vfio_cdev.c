// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO device cdev (/dev/vfio/devices/vfioN) of the kernel's own VFIO
 * rebuilt with CONFIG_VFIO_DEVICE_CDEV on top of our iommufd.ko
 * (vfio-cdev/, 6.12 only), driven as a native iommufd VMM drives it:
 * find the cdev through sysfs, VFIO_DEVICE_BIND_IOMMUFD with a /dev/iommu
 * fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT to an IOAS, DMA with QEMU's edu
 * device.  Next to it, the paths Debian's VFIO has must keep working:
 * the group with the kernel's type1 container, and the group put in a
 * /dev/iommu fd instead of a container (upstream's compatibility).
 *
 * Errnos are upstream's (drivers/vfio/device_cdev.c, vfio_main.c and
 * group.c of linux-source-6.12, the code that runs here).  Every test
 * skips, saying why, where there is no cdev: Debian's own VFIO modules
 * (both kernels) have none.
 */
#include <linux/iommufd.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "iommufd_harness.h"
#include "vfio_edu.h"

/*
 * The cdev ABI (include/uapi/linux/vfio.h, 6.6 and later).  The suites
 * are built against bookworm's 6.1 libc headers, which predate it.
 */
#ifndef VFIO_DEVICE_BIND_IOMMUFD
struct vfio_device_bind_iommufd {
	__u32 argsz;
	__u32 flags;
	__s32 iommufd;
	__u32 out_devid;
};
#define VFIO_DEVICE_BIND_IOMMUFD	_IO(VFIO_TYPE, VFIO_BASE + 18)

struct vfio_device_attach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
	__u32 pt_id;
};
#define VFIO_DEVICE_ATTACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 19)

struct vfio_device_detach_iommufd_pt {
	__u32 argsz;
	__u32 flags;
};
#define VFIO_DEVICE_DETACH_IOMMUFD_PT	_IO(VFIO_TYPE, VFIO_BASE + 20)
#endif

#define BUF_SIZE	(64 * 1024)
#define IOVA_A		0x100000ULL
#define IOVA_B		0x200000ULL
#define XFER		2048

static const char no_cdev[] =
	"no VFIO device cdev (vfio-dev/vfioN/dev): VFIO is built without CONFIG_VFIO_DEVICE_CDEV (Debian's own modules; vfio-cdev/ rebuilds them on 6.12)";

/*
 * The cdev of @bdf as upstream publishes it: the one entry under
 * /sys/bus/pci/devices/BDF/vfio-dev/, whose dev attribute is MAJ:MIN.
 * Debian's VFIO registers the entry too, but with no device number.
 */
static int find_cdev(const char *bdf, char *name, size_t len, dev_t *devt)
{
	char path[PATH_MAX], buf[32];
	unsigned int maj, min;
	struct dirent *de;
	DIR *dir;
	FILE *f;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vfio-dev", bdf);
	dir = opendir(path);
	if (!dir)
		return -ENOENT;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, "vfio", 4) || strlen(de->d_name) >= len)
			continue;
		snprintf(path, sizeof(path),
			 "/sys/bus/pci/devices/%s/vfio-dev/%s/dev", bdf,
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			break;
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%u:%u", &maj, &min) == 2) {
			memcpy(name, de->d_name, strlen(de->d_name) + 1);
			*devt = makedev(maj, min);
			rc = 0;
		}
		fclose(f);
		break;
	}
	closedir(dir);
	return rc;
}

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
		buf[i] = (uint8_t)(i * 13 + seed);
}

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

static uint32_t ioas_new(int fd)
{
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };

	ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_ALLOC, &alloc));
	return alloc.out_ioas_id;
}

static int bind_iommufd(int cdev_fd, int iommufd, uint32_t *devid)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = iommufd,
	};
	int rc = ioctl(cdev_fd, VFIO_DEVICE_BIND_IOMMUFD, &bind);

	if (!rc && devid)
		*devid = bind.out_devid;
	return rc;
}

static int attach_pt(int cdev_fd, uint32_t *pt_id)
{
	struct vfio_device_attach_iommufd_pt attach = {
		.argsz = sizeof(attach),
		.pt_id = *pt_id,
	};
	int rc = ioctl(cdev_fd, VFIO_DEVICE_ATTACH_IOMMUFD_PT, &attach);

	if (!rc)
		*pt_id = attach.pt_id;
	return rc;
}

/*
 * The edu device bound to vfio-pci, its cdev found; SKIPs (with the
 * reason) when any of that is missing.
 */
static void edu_cdev_prepare(char *bdf, size_t bdf_len, char *cdev,
			     size_t cdev_len, dev_t *devt, int *group_nr)
{
	if (access("/dev/iommu", F_OK))
		SKIP("no /dev/iommu");
	if (access("/sys/module/vfio_pci", F_OK))
		SKIP("vfio-pci is not loaded");
	if (edu_find(bdf, bdf_len))
		SKIP("no edu device (QEMU -device edu)");
	ASSERT_EQ(0, edu_bind_vfio(bdf, group_nr));
	if (find_cdev(bdf, cdev, cdev_len, devt))
		SKIP("%s", no_cdev);
}

FIXTURE(cdev) {
	struct edu edu;
	char cdev[32];
	dev_t devt;
	int iommufd;
	uint8_t *a, *b;
};

FIXTURE_SETUP(cdev)
{
	char path[64];

	memset(&self->edu, 0, sizeof(self->edu));
	self->edu.container_fd = self->edu.group_fd = -1;
	self->edu.device_fd = self->iommufd = -1;
	edu_cdev_prepare(self->edu.bdf, sizeof(self->edu.bdf), self->cdev,
			 sizeof(self->cdev), &self->devt, &self->edu.group_nr);
	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", self->cdev);
	self->edu.device_fd = open(path, O_RDWR);
	ASSERT_NE(-1, self->edu.device_fd);
	self->iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_NE(-1, self->iommufd);
	self->a = alloc_buf();
	self->b = alloc_buf();
}

FIXTURE_TEARDOWN(cdev)
{
	edu_close(&self->edu);
	if (self->iommufd >= 0)
		close(self->iommufd);
	if (self->a)
		munmap(self->a, BUF_SIZE);
	if (self->b)
		munmap(self->b, BUF_SIZE);
}

/* QEMU finds the node by the sysfs dev attribute (or /dev/char/MAJ:MIN). */
TEST_F(cdev, the_node_in_dev_vfio_devices_is_the_char_device_sysfs_names)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", self->cdev);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	ASSERT_EQ(major(self->devt), major(st.st_rdev));
	ASSERT_EQ(minor(self->devt), minor(st.st_rdev));
}

/* vfio_device_fops_unl_ioctl: nothing but BIND before access is granted. */
TEST_F(cdev, device_ioctls_before_bind_are_einval)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	uint32_t pt_id = 1;

	ASSERT_ERRNO(EINVAL, ioctl(self->edu.device_fd, VFIO_DEVICE_GET_INFO,
				   &info));
	ASSERT_ERRNO(EINVAL, attach_pt(self->edu.device_fd, &pt_id));
}

/* vfio_df_ioctl_bind_iommufd and iommufd_ctx_from_fd. */
TEST_F(cdev, bind_rejects_bad_arguments_with_upstreams_errnos)
{
	struct vfio_device_bind_iommufd bind = {
		.argsz = sizeof(bind),
		.iommufd = self->iommufd,
	};
	int other = open("/dev/null", O_RDWR);

	ASSERT_NE(-1, other);
	bind.argsz = offsetof(struct vfio_device_bind_iommufd, out_devid);
	ASSERT_ERRNO(EINVAL, ioctl(self->edu.device_fd,
				   VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind.argsz = sizeof(bind);
	bind.flags = 1;
	ASSERT_ERRNO(EINVAL, ioctl(self->edu.device_fd,
				   VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind.flags = 0;
	bind.iommufd = -1;
	ASSERT_ERRNO(EINVAL, ioctl(self->edu.device_fd,
				   VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind.iommufd = 1000;
	ASSERT_ERRNO(EBADF, ioctl(self->edu.device_fd,
				  VFIO_DEVICE_BIND_IOMMUFD, &bind));
	bind.iommufd = other;
	ASSERT_ERRNO(EBADFD, ioctl(self->edu.device_fd,
				   VFIO_DEVICE_BIND_IOMMUFD, &bind));
	close(other);
	/* None of that bound it: a good bind still works. */
	ASSERT_EQ(0, bind_iommufd(self->edu.device_fd, self->iommufd, NULL));
}

TEST_F(cdev, a_second_bind_is_einval)
{
	uint32_t devid = 0;

	ASSERT_EQ(0, bind_iommufd(self->edu.device_fd, self->iommufd, &devid));
	ASSERT_NE(0, devid);
	ASSERT_ERRNO(EINVAL,
		     bind_iommufd(self->edu.device_fd, self->iommufd, NULL));
}

/*
 * The VMM's path: bind, attach to an IOAS (the kernel makes the HWPT
 * and answers its id), DMA both ways byte for byte, then an unmap stops
 * the device's writes and a detach does too.
 */
TEST_F(cdev, bind_and_attach_to_an_ioas_then_edu_dma_goes_through_it)
{
	struct vfio_device_detach_iommufd_pt detach = {
		.argsz = sizeof(detach),
	};
	uint32_t devid = 0, ioas, pt_id;

	ASSERT_EQ(0, bind_iommufd(self->edu.device_fd, self->iommufd, &devid));
	ASSERT_NE(0, devid);
	ioas = ioas_new(self->iommufd);
	ioas_map(self->iommufd, ioas, self->a, IOVA_A);
	ioas_map(self->iommufd, ioas, self->b, IOVA_B);
	pt_id = ioas;
	ASSERT_EQ(0, attach_pt(self->edu.device_fd, &pt_id));
	ASSERT_NE(ioas, pt_id);
	ASSERT_NE(devid, pt_id);
	ASSERT_EQ(0, edu_enable_device(&self->edu));

	fill_pattern(self->a, 256 + XFER, 5);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A + 256, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B + 512, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(self->a + 256, self->b + 512, XFER));
	ASSERT_EQ(0, self->b[511]);
	ASSERT_EQ(0, self->b[512 + XFER]);

	/* Unmapped: the IOMMU drops the write, memory stays as it was. */
	memset(self->b, 0, BUF_SIZE);
	ioas_unmap(self->iommufd, ioas, IOVA_B);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, self->b[0]);
	ASSERT_EQ(0, self->b[XFER - 1]);

	/* Detached: blocked, even where the IOAS still maps memory. */
	ASSERT_EQ(0, ioctl(self->edu.device_fd, VFIO_DEVICE_DETACH_IOMMUFD_PT,
			   &detach));
	memset(self->a, 0, BUF_SIZE);
	ASSERT_EQ(0, edu_dma(&self->edu, IOVA_A, 0, XFER, 1));
	ASSERT_EQ(0, self->a[0]);
	ASSERT_EQ(0, self->a[XFER - 1]);
}

/* iommufd_device_attach: an id that is no object is ENOENT. */
TEST_F(cdev, attach_to_an_unknown_id_is_enoent)
{
	uint32_t pt_id = 0x7fff;

	ASSERT_EQ(0, bind_iommufd(self->edu.device_fd, self->iommufd, NULL));
	ASSERT_ERRNO(ENOENT, attach_pt(self->edu.device_fd, &pt_id));
}

/*
 * A bound cdev counts in the group (vfio_device_block_group): the group
 * cannot be opened meanwhile (vfio_group_fops_open: EBUSY), and can again
 * once the cdev is closed.
 */
TEST_F(cdev, the_group_is_busy_while_the_cdev_is_bound)
{
	char path[64];
	int fd;

	ASSERT_EQ(0, bind_iommufd(self->edu.device_fd, self->iommufd, NULL));
	snprintf(path, sizeof(path), "/dev/vfio/%d", self->edu.group_nr);
	ASSERT_ERRNO(EBUSY, open(path, O_RDWR));
	close(self->edu.device_fd);
	self->edu.device_fd = -1;
	fd = open(path, O_RDWR);
	ASSERT_NE(-1, fd);
	close(fd);
}

/*
 * The legacy path, unchanged: group, container, the kernel's own
 * vfio_iommu_type1 (iommufd_vfio's type1 compatibility is turned off for
 * the test, so that the kernel's module serves it), MAP_DMA and DMA.
 * While the group is open, a cdev bind is EBUSY.
 */
TEST(legacy_group_with_the_kernels_type1_still_works_next_to_the_cdev)
{
	static const char param[] = "/sys/module/iommufd_vfio/parameters/type1";
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.size = BUF_SIZE,
	};
	char cdev[32], path[64], was[8] = "";
	int cdev_fd, iommufd, group_nr;
	uint8_t *a, *b;
	struct edu edu;
	long refs;
	dev_t devt;
	FILE *f;

	edu_cdev_prepare(edu.bdf, sizeof(edu.bdf), cdev, sizeof(cdev), &devt,
			 &group_nr);
	if (access("/sys/module/vfio_iommu_type1", F_OK))
		SKIP("vfio_iommu_type1 is not loaded");
	f = fopen(param, "r");
	if (f) {
		if (!fgets(was, sizeof(was), f))
			was[0] = 0;
		fclose(f);
		ASSERT_EQ(0, sysfs_write(param, "N"));
	}
	refs = module_refcnt("vfio_iommu_type1");
	a = alloc_buf();
	b = alloc_buf();

	ASSERT_EQ(0, edu_open(&edu, VFIO_TYPE1v2_IOMMU));
	/* The kernel's type1 serves the container, not our backend. */
	ASSERT_EQ(refs + 1, module_refcnt("vfio_iommu_type1"));
	map.vaddr = (uintptr_t)a;
	map.iova = IOVA_A;
	ASSERT_EQ(0, ioctl(edu.container_fd, VFIO_IOMMU_MAP_DMA, &map));
	map.vaddr = (uintptr_t)b;
	map.iova = IOVA_B;
	ASSERT_EQ(0, ioctl(edu.container_fd, VFIO_IOMMU_MAP_DMA, &map));
	ASSERT_EQ(0, edu_open_device(&edu));
	fill_pattern(a, XFER, 9);
	ASSERT_EQ(0, edu_dma(&edu, IOVA_A, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(a, b, XFER));

	snprintf(path, sizeof(path), "/dev/vfio/devices/%s", cdev);
	cdev_fd = open(path, O_RDWR);
	ASSERT_NE(-1, cdev_fd);
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_NE(-1, iommufd);
	ASSERT_ERRNO(EBUSY, bind_iommufd(cdev_fd, iommufd, NULL));
	close(cdev_fd);
	close(iommufd);

	edu_close(&edu);
	ASSERT_EQ(refs, module_refcnt("vfio_iommu_type1"));
	if (was[0])
		ASSERT_EQ(0, sysfs_write(param, was[0] == 'Y' ? "Y" : "N"));
	munmap(a, BUF_SIZE);
	munmap(b, BUF_SIZE);
}

/*
 * Upstream's compatibility (group.c): VFIO_GROUP_SET_CONTAINER with a
 * /dev/iommu fd instead of a container.  VFIO makes the context's
 * compatibility IOAS (iommufd_vfio_compat_ioas_create), the device fd
 * from the group is bound and attached to it, and IOMMU_VFIO_IOAS names
 * it: mapping there is what the device sees.
 */
TEST(group_set_container_with_a_dev_iommu_fd_uses_the_compat_ioas)
{
	struct iommu_vfio_ioas vioas = {
		.size = sizeof(vioas),
		.op = IOMMU_VFIO_IOAS_GET,
	};
	char cdev[32], path[64];
	struct edu edu;
	int iommufd;
	uint8_t *a, *b;
	dev_t devt;

	memset(&edu, 0, sizeof(edu));
	edu_cdev_prepare(edu.bdf, sizeof(edu.bdf), cdev, sizeof(cdev), &devt,
			 &edu.group_nr);
	edu.container_fd = edu.device_fd = -1;
	a = alloc_buf();
	b = alloc_buf();
	iommufd = open("/dev/iommu", O_RDWR);
	ASSERT_NE(-1, iommufd);
	snprintf(path, sizeof(path), "/dev/vfio/%d", edu.group_nr);
	edu.group_fd = open(path, O_RDWR);
	ASSERT_NE(-1, edu.group_fd);
	/* No compatibility IOAS before VFIO asks for one. */
	ASSERT_ERRNO(ENODEV, ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas));
	ASSERT_EQ(0, ioctl(edu.group_fd, VFIO_GROUP_SET_CONTAINER, &iommufd));
	ASSERT_EQ(0, ioctl(iommufd, IOMMU_VFIO_IOAS, &vioas));
	ASSERT_NE(0, vioas.ioas_id);
	ioas_map(iommufd, vioas.ioas_id, a, IOVA_A);
	ioas_map(iommufd, vioas.ioas_id, b, IOVA_B);
	ASSERT_EQ(0, edu_open_device(&edu));
	fill_pattern(a, XFER, 11);
	ASSERT_EQ(0, edu_dma(&edu, IOVA_A, 0, XFER, 0));
	ASSERT_EQ(0, edu_dma(&edu, IOVA_B, 0, XFER, 1));
	ASSERT_EQ(0, memcmp(a, b, XFER));
	edu_close(&edu);
	close(iommufd);
	munmap(a, BUF_SIZE);
	munmap(b, BUF_SIZE);
}

TEST_HARNESS_MAIN
