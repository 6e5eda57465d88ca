// SPDX-License-Identifier: GPL-2.0
/*
 * Our extension ioctls (uapi/linux/iommufd_dkms.h): their numbers belong
 * to nobody else, and every one of them judges its size word the way the
 * /dev/iommu dispatcher judges upstream's.
 *
 * Issue 8, item 16: the extensions first used ioctl type 0xB7, which
 * Documentation/userspace-api/ioctl/ioctl-number.rst gives to nsfs and
 * remoteproc, so IOMMUFD_DKMS_DEVICE_ATTACH was NS_GET_USERNS (a program
 * handing the wrong fd to it got a user namespace fd back); and
 * IOMMUFD_DKMS_VFIO_LINK copied a fixed 16 bytes whatever its size word
 * said.  The container tests need iommufd_vfio and QEMU's edu device.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>

#include "iommufd_harness.h"
#include "vfio_edu.h"

/* nsfs's numbers (linux/nsfs.h), spelled out: the header may be absent. */
#define ARRAY_LEN(a)		(sizeof(a) / sizeof((a)[0]))
#define NSFS_TYPE		0xb7
#define NSFS_GET_USERNS		_IO(NSFS_TYPE, 0x1)
#define NSFS_GET_NSTYPE		_IO(NSFS_TYPE, 0x3)

static const unsigned int dkms_numbers[] = {
	IOMMUFD_DKMS_DEVICE_ATTACH,
	IOMMUFD_DKMS_DEVICE_DETACH,
	IOMMUFD_DKMS_VFIO_LINK,
	IOMMUFD_DKMS_VFIO_DEVICES,
	IOMMUFD_DKMS_DEVICE_PASID,
};

/*
 * The type ioctl-number.rst (6.12) leaves to nobody, and neither
 * iommufd's and VFIO's ';' nor nsfs's and remoteproc's 0xB7.
 */
TEST(extension_ioctls_use_their_own_type)
{
	for (unsigned int i = 0; i < ARRAY_LEN(dkms_numbers); i++) {
		EXPECT_EQ(IOMMUFD_DKMS_TYPE, _IOC_TYPE(dkms_numbers[i]));
		EXPECT_NE(';', _IOC_TYPE(dkms_numbers[i]));
		EXPECT_NE(NSFS_TYPE, _IOC_TYPE(dkms_numbers[i]));
	}
	EXPECT_EQ(0xBE, IOMMUFD_DKMS_TYPE);
}

/*
 * Sent to a namespace file by mistake, our ioctls must mean nothing.
 * Before the fix ATTACH returned a user namespace fd there, and LINK
 * returned CLONE_NEWNET (NS_GET_NSTYPE).
 */
TEST(extension_ioctls_mean_nothing_to_nsfs)
{
	struct iommufd_dkms_device_attach attach = { .size = sizeof(attach) };
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	int nsfd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int rc;

	ASSERT_NE(-1, nsfd);
	EXPECT_ERRNO(ENOTTY, rc = ioctl(nsfd, IOMMUFD_DKMS_DEVICE_ATTACH,
					&attach));
	if (rc >= 0)
		close(rc);
	EXPECT_ERRNO(ENOTTY, ioctl(nsfd, IOMMUFD_DKMS_VFIO_LINK, &link));
	/* And nsfs still answers its own. */
	EXPECT_EQ(0x40000000 /* CLONE_NEWNET */,
		  ioctl(nsfd, NSFS_GET_NSTYPE));
	close(nsfd);
}

/* ... and nsfs's numbers are not ours on /dev/iommu (EFAULT before). */
TEST(nsfs_ioctls_are_unknown_on_dev_iommu)
{
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	ASSERT_NE(-1, fd);
	EXPECT_ERRNO(ENOTTY, ioctl(fd, NSFS_GET_USERNS, NULL));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, NSFS_GET_NSTYPE, NULL));
	close(fd);
}

/* The dispatcher's rules, on the extension table of /dev/iommu. */
TEST(device_attach_follows_the_size_rules)
{
	struct {
		struct iommufd_dkms_device_attach cmd;
		uint64_t tail;
	} big = { .cmd = { .size = sizeof(big), .dev_id = 0 } };
	struct iommufd_dkms_device_detach detach = { .size = sizeof(detach) };
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);

	ASSERT_NE(-1, fd);
	EXPECT_ERRNO(EFAULT, ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, NULL));
	big.cmd.size = offsetof(struct iommufd_dkms_device_attach, __reserved);
	EXPECT_ERRNO(EINVAL, ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &big));
	big.cmd.size = sizeof(big);
	big.tail = 1;
	EXPECT_ERRNO(E2BIG, ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &big));
	/* A zero tail passes the size rules; then dev_id 0 names nothing. */
	big.tail = 0;
	EXPECT_ERRNO(ENOENT, ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &big));
	EXPECT_ERRNO(ENOENT, ioctl(fd, IOMMUFD_DKMS_DEVICE_DETACH, &detach));
	/* Numbers of our type that we never defined, or with size bits. */
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IO(IOMMUFD_DKMS_TYPE, 0x7f), &big));
	EXPECT_ERRNO(ENOTTY, ioctl(fd, _IOW(IOMMUFD_DKMS_TYPE, 1, uint32_t),
				   &big));
	/* The container ioctls are not /dev/iommu's. */
	EXPECT_ERRNO(ENOTTY, ioctl(fd, IOMMUFD_DKMS_VFIO_LINK, &big));
	close(fd);
}

/* --- the container's ioctls ------------------------------------------------ */

FIXTURE(container) {
	struct edu edu;
	int iommufd;
};

FIXTURE_SETUP(container)
{
	char bdf[32];

	self->iommufd = -1;
	if (access("/sys/module/iommufd_vfio", F_OK))
		SKIP("iommufd_vfio is not loaded");
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this machine");
	ASSERT_EQ(0, edu_open(&self->edu, VFIO_IOMMUFD_DKMS_IOMMU));
	self->iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	ASSERT_NE(-1, self->iommufd);
}

FIXTURE_TEARDOWN(container)
{
	edu_close(&self->edu);
	close(self->iommufd);
}

struct link_arg {
	struct iommufd_dkms_vfio_link link;
	uint64_t tail;
};

static int link_with_size(FIXTURE_DATA(container) *self, uint32_t size,
			  uint64_t tail)
{
	struct link_arg arg = {
		.link = { .size = size, .iommufd = self->iommufd },
		.tail = tail,
	};

	return ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_LINK, &arg);
}

static uint32_t count_devices(FIXTURE_DATA(container) *self)
{
	struct iommufd_dkms_vfio_device dev;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&dev,
	};

	ASSERT_EQ(0, ioctl(self->edu.container_fd, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list));
	return list.num_devices;
}

/*
 * Before the fix each of these linked the container (returned 0): the
 * size word was never read.
 */
TEST_F(container, link_shorter_than_its_struct_is_einval)
{
	const uint32_t full = sizeof(struct iommufd_dkms_vfio_link);

	EXPECT_ERRNO(EINVAL, link_with_size(self, 0, 0));
	EXPECT_ERRNO(EINVAL, link_with_size(self, 8, 0));
	EXPECT_ERRNO(EINVAL, link_with_size(self, full - 1, 0));
	/* Nothing was linked meanwhile. */
	EXPECT_ERRNO(ENODEV, ioctl(self->edu.container_fd,
				   IOMMUFD_DKMS_VFIO_DEVICES,
				   &(struct iommufd_dkms_vfio_devices){
					   .size = sizeof(
						struct iommufd_dkms_vfio_devices),
				   }));
	ASSERT_EQ(0, link_with_size(self, full, 0));
	EXPECT_EQ(1, count_devices(self));
}

TEST_F(container, link_with_a_non_zero_tail_is_e2big)
{
	EXPECT_ERRNO(E2BIG, link_with_size(self, sizeof(struct link_arg), 1));
	EXPECT_ERRNO(E2BIG, link_with_size(self, sizeof(struct link_arg),
					   1ULL << 63));
	/* A longer struct from a newer binary with a zero tail links. */
	ASSERT_EQ(0, link_with_size(self, sizeof(struct link_arg), 0));
	EXPECT_EQ(1, count_devices(self));
	/* The size rules come before the container's own state (EBUSY). */
	EXPECT_ERRNO(E2BIG, link_with_size(self, sizeof(struct link_arg), 1));
	EXPECT_ERRNO(EINVAL, link_with_size(self, 4, 0));
	EXPECT_ERRNO(EBUSY, link_with_size(self, sizeof(struct link_arg), 0));
}

TEST_F(container, link_reads_its_size_word_first)
{
	EXPECT_ERRNO(EFAULT, ioctl(self->edu.container_fd,
				   IOMMUFD_DKMS_VFIO_LINK, NULL));
}

TEST_F(container, device_list_follows_the_size_rules)
{
	struct {
		struct iommufd_dkms_vfio_devices list;
		uint64_t tail;
	} arg = { .list = { .size = sizeof(arg) } };

	ASSERT_EQ(0, link_with_size(self, sizeof(struct iommufd_dkms_vfio_link),
				    0));
	EXPECT_ERRNO(EFAULT, ioctl(self->edu.container_fd,
				   IOMMUFD_DKMS_VFIO_DEVICES, NULL));
	arg.list.size = offsetof(struct iommufd_dkms_vfio_devices, devices);
	EXPECT_ERRNO(EINVAL, ioctl(self->edu.container_fd,
				   IOMMUFD_DKMS_VFIO_DEVICES, &arg));
	arg.list.size = sizeof(arg);
	arg.tail = 7;
	EXPECT_ERRNO(E2BIG, ioctl(self->edu.container_fd,
				  IOMMUFD_DKMS_VFIO_DEVICES, &arg));
	/* Zero tail, no room: the count comes back with EMSGSIZE. */
	arg.tail = 0;
	EXPECT_ERRNO(EMSGSIZE, ioctl(self->edu.container_fd,
				     IOMMUFD_DKMS_VFIO_DEVICES, &arg));
	EXPECT_EQ(1, arg.list.num_devices);
}

TEST_HARNESS_MAIN
