// SPDX-License-Identifier: GPL-2.0
/*
 * A VFIO group moved from one container to another while its device is in
 * use: VFIO_GROUP_UNSET_CONTAINER, the old container closed, a new one
 * joined (the fuzzer's "rejoin", issue 9).  QEMU's edu device, bound to
 * vfio-pci, served by our VFIO backend (iommufd_vfio) in both its modes.
 *
 * VFIO passes a container's own ioctls (type1 MAP_DMA, UNMAP_DMA,
 * GET_INFO, our link and device list) to the backend without holding any
 * lock, so the container's last group can leave, and VFIO release the
 * backend's state, while such a call is still running in iommufd_vfio.
 * The races below run those calls in threads while the main thread moves
 * the group; the plain tests pin down the answers around a move.
 *
 * The tests skip when there is no edu device or no iommufd_vfio; the
 * type1 ones also when iommufd_vfio was loaded without type1=1.
 */
#define _GNU_SOURCE
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <pthread.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "vfio_edu.h"

/* Each race runs this long (and a few rounds at least). */
#define RACE_SECONDS	8
#define RACE_THREADS	3
/* Type1 maps of 1 MiB: pinning them takes long enough to be caught. */
#define RACE_MAP_LEN	(1UL << 20)
#define RACE_IOVA	0x1000000ULL
#define BUF_LEN		(256 * 1024UL)
#define IOVA		0x100000ULL

/* --- the kernel log ------------------------------------------------------ */

static int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Warnings, bugs and use-after-free reports printed since the last look. */
static unsigned int kmsg_new_splats(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "refcount_t:", "Oops", "corruption",
		"general protection", "still referenced",
	};
	unsigned int found = 0;
	char rec[2048];
	ssize_t n;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: read on */
		if (n <= 0)
			break;
		rec[n] = 0;
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				TEST_LOG("kernel: %.200s", strchr(rec, ';') ?
					 strchr(rec, ';') + 1 : rec);
				found++;
				break;
			}
		}
	}
	return found;
}

/* --- VFIO and the backend -------------------------------------------- */

static bool backend_loaded(void)
{
	return access("/sys/module/iommufd_vfio", F_OK) == 0;
}

static bool type1_served_here(void)
{
	char buf[8] = "";
	FILE *f = fopen("/sys/module/iommufd_vfio/parameters/type1", "r");

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	return buf[0] == 'Y';
}

/* A new container with the group in it and @type as its IOMMU, or -errno. */
static int container_join(int group_fd, unsigned long type)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (ioctl(group_fd, VFIO_GROUP_SET_CONTAINER, &fd) ||
	    ioctl(fd, VFIO_SET_IOMMU, type))
		rc = -errno;
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

static int unset_container(int group_fd)
{
	return ioctl(group_fd, VFIO_GROUP_UNSET_CONTAINER);
}

static int vfio_link(int container_fd, int iommufd)
{
	struct iommufd_dkms_vfio_link link = {
		.size = sizeof(link),
		.iommufd = iommufd,
	};

	return ioctl(container_fd, IOMMUFD_DKMS_VFIO_LINK, &link);
}

/* The container's one device: its dev_id, through *@dev_id. */
static int vfio_dev_id(int container_fd, uint32_t *dev_id)
{
	struct iommufd_dkms_vfio_device devs[4];
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 4,
		.devices = (uintptr_t)devs,
	};
	int rc = ioctl(container_fd, IOMMUFD_DKMS_VFIO_DEVICES, &list);

	if (!rc && list.num_devices >= 1)
		*dev_id = devs[0].dev_id;
	return rc;
}

static int dkms_attach(int fd, uint32_t dev_id, uint32_t *pt_id)
{
	struct iommufd_dkms_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = *pt_id,
	};
	int rc = ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd);

	if (!rc)
		*pt_id = cmd.pt_id;
	return rc;
}

static int dkms_detach(int fd, uint32_t dev_id)
{
	struct iommufd_dkms_device_detach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
	};

	return ioctl(fd, IOMMUFD_DKMS_DEVICE_DETACH, &cmd);
}

static int hwpt_alloc(int fd, uint32_t dev_id, uint32_t pt_id,
		      uint32_t *hwpt_id)
{
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc = ioctl(fd, IOMMU_HWPT_ALLOC, &cmd);

	if (!rc)
		*hwpt_id = cmd.out_hwpt_id;
	return rc;
}

static int type1_map(int fd, const void *buf, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)buf,
		.iova = iova,
		.size = len,
	};

	return ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
}

static int type1_unmap(int fd, uint64_t iova, uint64_t len)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.iova = iova,
		.size = len,
	};

	return ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

static int type1_get_info(int fd)
{
	struct {
		struct vfio_iommu_type1_info info;
		uint8_t caps[256];
	} buf = { .info.argsz = sizeof(buf) };

	return ioctl(fd, VFIO_IOMMU_GET_INFO, &buf);
}

/* --- the fixture: the edu device's group, in no container yet ------------ */

FIXTURE(rejoin) {
	struct edu edu;		/* group_fd open; container_fd the current one */
	int iommufd;
	int kmsg;
};

FIXTURE_SETUP(rejoin)
{
	char path[64];

	self->iommufd = self->kmsg = -1;
	if (!backend_loaded())
		SKIP("iommufd_vfio is not loaded");
	memset(&self->edu, 0, sizeof(self->edu));
	self->edu.container_fd = self->edu.group_fd = -1;
	self->edu.device_fd = -1;
	if (edu_find(self->edu.bdf, sizeof(self->edu.bdf)))
		SKIP("no edu device in this machine");
	ASSERT_EQ(0, edu_bind_vfio(self->edu.bdf, &self->edu.group_nr));
	snprintf(path, sizeof(path), "/dev/vfio/%d", self->edu.group_nr);
	self->edu.group_fd = open(path, O_RDWR | O_CLOEXEC);
	ASSERT_NE(-1, self->edu.group_fd);
	self->iommufd = iommufd_open();
	self->kmsg = kmsg_open_at_end();
}

FIXTURE_TEARDOWN(rejoin)
{
	edu_close(&self->edu);
	if (self->iommufd >= 0)
		close(self->iommufd);
	/* Releasing the contexts is where a leak warns. */
	EXPECT_EQ(0, kmsg_new_splats(self->kmsg));
	if (self->kmsg >= 0)
		close(self->kmsg);
}

/* The group in a new container of ours, linked to @iommufd: the dev_id. */
static uint32_t join_linked(struct edu *edu, int iommufd)
{
	uint32_t dev_id = 0;
	int fd = container_join(edu->group_fd, VFIO_IOMMUFD_DKMS_IOMMU);

	ASSERT_LE(0, fd);
	edu->container_fd = fd;
	ASSERT_EQ(0, vfio_link(fd, iommufd));
	ASSERT_EQ(0, vfio_dev_id(fd, &dev_id));
	ASSERT_NE(0, dev_id);
	return dev_id;
}

/* The group out of its container, and that container closed. */
static void leave(struct edu *edu)
{
	ASSERT_EQ(0, unset_container(edu->group_fd));
	ASSERT_EQ(0, close(edu->container_fd));
	edu->container_fd = -1;
}

/* --- a move, step by step ------------------------------------------------ */

/*
 * VFIO refuses to take the group out of its container while a device fd
 * of it is open (the device keeps using the container): EBUSY, and the
 * device stays bound and attached.  Once the fd is closed the move works.
 */
TEST_F(rejoin, unset_container_with_the_device_open_is_ebusy)
{
	uint32_t ioas_id = ioas_alloc(self->iommufd);
	uint32_t dev_id = join_linked(&self->edu, self->iommufd);
	uint32_t pt_id = ioas_id;

	ASSERT_EQ(0, dkms_attach(self->iommufd, dev_id, &pt_id));
	ASSERT_EQ(0, edu_open_device(&self->edu));
	ASSERT_ERRNO(EBUSY, unset_container(self->edu.group_fd));
	/* Still bound and attached: its IOAS is in use. */
	pt_id = ioas_id;
	ASSERT_EQ(0, dkms_attach(self->iommufd, dev_id, &pt_id));
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, ioas_id));

	munmap((void *)self->edu.bar0, self->edu.bar0_size);
	self->edu.bar0 = NULL;
	ASSERT_EQ(0, close(self->edu.device_fd));
	self->edu.device_fd = -1;
	leave(&self->edu);
	ASSERT_EQ(0, destroy(self->iommufd, ioas_id));
}

/* Only a group in a container can leave one: EINVAL the second time. */
TEST_F(rejoin, unset_container_of_a_group_in_none_is_einval)
{
	ASSERT_ERRNO(EINVAL, unset_container(self->edu.group_fd));
	join_linked(&self->edu, self->iommufd);
	ASSERT_EQ(0, unset_container(self->edu.group_fd));
	ASSERT_ERRNO(EINVAL, unset_container(self->edu.group_fd));
}

/* A group joins one container at a time: EINVAL for a second one. */
TEST_F(rejoin, set_container_while_in_one_is_einval)
{
	int other = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	ASSERT_NE(-1, other);
	join_linked(&self->edu, self->iommufd);
	ASSERT_ERRNO(EINVAL, ioctl(self->edu.group_fd,
				   VFIO_GROUP_SET_CONTAINER, &other));
	close(other);
}

/*
 * The device leaves with its group: its dev_id is gone (ENOENT), the
 * automatic HWPT it was attached through went with it (the IOAS can be
 * destroyed), and in the new container, linked to the same iommufd, it is
 * a new device object with a new dev_id that attaches again.
 */
TEST_F(rejoin, a_rejoined_device_has_a_new_dev_id_and_the_old_one_is_gone)
{
	uint32_t ioas_id = ioas_alloc(self->iommufd);
	uint32_t ioas2_id = ioas_alloc(self->iommufd);
	uint32_t old_id = join_linked(&self->edu, self->iommufd);
	uint32_t new_id, pt_id = ioas_id;

	ASSERT_EQ(0, dkms_attach(self->iommufd, old_id, &pt_id));
	ASSERT_NE(ioas_id, pt_id);	/* the automatic HWPT's id */
	leave(&self->edu);
	ASSERT_EQ(0, destroy(self->iommufd, ioas_id));

	new_id = join_linked(&self->edu, self->iommufd);
	ASSERT_NE(old_id, new_id);
	pt_id = ioas2_id;
	ASSERT_ERRNO(ENOENT, dkms_attach(self->iommufd, old_id, &pt_id));
	ASSERT_ERRNO(ENOENT, dkms_detach(self->iommufd, old_id));
	ASSERT_ERRNO(ENOENT, destroy(self->iommufd, old_id));
	pt_id = ioas2_id;
	ASSERT_EQ(0, dkms_attach(self->iommufd, new_id, &pt_id));
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, ioas2_id));
	leave(&self->edu);
	ASSERT_EQ(0, destroy(self->iommufd, ioas2_id));
}

/*
 * Moved to a container linked to another iommufd, the device belongs to
 * that one only; the first keeps nothing of it and closes cleanly before
 * the second is done with the device.
 */
TEST_F(rejoin, a_device_moved_to_another_iommufd_leaves_nothing_in_the_first)
{
	int second = iommufd_open();
	uint32_t ioas_id = ioas_alloc(self->iommufd);
	uint32_t ioas2_id = ioas_alloc(second);
	uint32_t old_id = join_linked(&self->edu, self->iommufd);
	uint32_t new_id, pt_id = ioas_id;

	ASSERT_EQ(0, dkms_attach(self->iommufd, old_id, &pt_id));
	leave(&self->edu);
	new_id = join_linked(&self->edu, second);
	pt_id = ioas_id;
	ASSERT_ERRNO(ENOENT, dkms_attach(self->iommufd, old_id, &pt_id));
	ASSERT_EQ(0, destroy(self->iommufd, ioas_id));
	ASSERT_EQ(0, close(self->iommufd));
	self->iommufd = -1;

	pt_id = ioas2_id;
	ASSERT_EQ(0, dkms_attach(second, new_id, &pt_id));
	leave(&self->edu);
	ASSERT_EQ(0, destroy(second, ioas2_id));
	ASSERT_EQ(0, close(second));
}

/*
 * A HWPT user space made for the device is user space's: it outlives the
 * move, keeps its IOAS busy until it is destroyed, and the device in its
 * new container may attach to it again (same backend, same group).
 */
TEST_F(rejoin, a_hwpt_made_for_the_device_outlives_the_move)
{
	uint32_t ioas_id = ioas_alloc(self->iommufd);
	uint32_t dev_id = join_linked(&self->edu, self->iommufd);
	uint32_t hwpt_id = 0, pt_id;

	ASSERT_EQ(0, hwpt_alloc(self->iommufd, dev_id, ioas_id, &hwpt_id));
	pt_id = hwpt_id;
	ASSERT_EQ(0, dkms_attach(self->iommufd, dev_id, &pt_id));
	ASSERT_EQ(hwpt_id, pt_id);
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, hwpt_id));
	leave(&self->edu);
	/* Detached with the device; still there for user space. */
	ASSERT_ERRNO(EBUSY, destroy(self->iommufd, ioas_id));

	dev_id = join_linked(&self->edu, self->iommufd);
	pt_id = hwpt_id;
	ASSERT_EQ(0, dkms_attach(self->iommufd, dev_id, &pt_id));
	ASSERT_EQ(0, dkms_detach(self->iommufd, dev_id));
	ASSERT_EQ(0, destroy(self->iommufd, hwpt_id));
	ASSERT_EQ(0, destroy(self->iommufd, ioas_id));
}

/*
 * Once its last group left, a container has no IOMMU behind it: VFIO
 * answers its calls with EINVAL (and SET_IOMMU too: it has no group).
 */
TEST_F(rejoin, calls_on_a_container_its_group_left_are_einval)
{
	uint32_t dev_id = 0;
	int fd;

	join_linked(&self->edu, self->iommufd);
	ASSERT_EQ(0, unset_container(self->edu.group_fd));
	fd = self->edu.container_fd;
	ASSERT_ERRNO(EINVAL, vfio_link(fd, self->iommufd));
	ASSERT_ERRNO(EINVAL, vfio_dev_id(fd, &dev_id));
	ASSERT_ERRNO(EINVAL, ioctl(fd, VFIO_SET_IOMMU,
				   VFIO_IOMMUFD_DKMS_IOMMU));
	/* The container takes a group again. */
	ASSERT_EQ(0, ioctl(self->edu.group_fd, VFIO_GROUP_SET_CONTAINER, &fd));
	ASSERT_EQ(0, ioctl(fd, VFIO_SET_IOMMU, VFIO_IOMMUFD_DKMS_IOMMU));
	ASSERT_EQ(0, vfio_link(fd, self->iommufd));
	ASSERT_EQ(0, vfio_dev_id(fd, &dev_id));
}

/*
 * Type1: the container's address space, with its pins and their VmLck
 * charge, goes when the last group leaves (the container fd still open);
 * the same IOVA maps again in the next container.
 */
TEST_F(rejoin, a_type1_group_leaving_releases_the_containers_pins)
{
	uint8_t *buf = alloc_buffer(BUF_LEN);
	struct vm_counters start, mapped, left;
	int fd;

	if (!type1_served_here())
		SKIP("iommufd_vfio was loaded without type1=1");
	start = vm_counters();
	fd = container_join(self->edu.group_fd, VFIO_TYPE1v2_IOMMU);
	ASSERT_LE(0, fd);
	self->edu.container_fd = fd;
	ASSERT_EQ(0, type1_map(fd, buf, IOVA, BUF_LEN));
	mapped = vm_counters();
	ASSERT_EQ(start.lck_kb + kb(BUF_LEN), mapped.lck_kb);

	ASSERT_EQ(0, unset_container(self->edu.group_fd));
	left = vm_counters();
	ASSERT_EQ(start.lck_kb, left.lck_kb);
	ASSERT_EQ(start.pin_kb, left.pin_kb);
	ASSERT_ERRNO(EINVAL, type1_map(fd, buf, IOVA, BUF_LEN));
	ASSERT_ERRNO(EINVAL, type1_unmap(fd, IOVA, BUF_LEN));
	ASSERT_ERRNO(EINVAL, type1_get_info(fd));
	ASSERT_EQ(0, close(fd));

	fd = container_join(self->edu.group_fd, VFIO_TYPE1v2_IOMMU);
	ASSERT_LE(0, fd);
	self->edu.container_fd = fd;
	ASSERT_EQ(0, type1_map(fd, buf, IOVA, BUF_LEN));
	ASSERT_EQ(0, type1_unmap(fd, IOVA, BUF_LEN));
	free_buffer(buf, BUF_LEN);
}

/*
 * The iommufd closed while a container still links to it: the container
 * holds the context, which goes (cleanly) when the group leaves.
 */
TEST_F(rejoin, an_iommufd_closed_before_the_move_goes_with_it)
{
	uint32_t ioas_id = ioas_alloc(self->iommufd);
	uint32_t dev_id = join_linked(&self->edu, self->iommufd);
	uint32_t pt_id = ioas_id;

	ASSERT_EQ(0, dkms_attach(self->iommufd, dev_id, &pt_id));
	ASSERT_EQ(0, close(self->iommufd));
	self->iommufd = -1;
	leave(&self->edu);
	EXPECT_EQ(0, kmsg_new_splats(self->kmsg));

	self->iommufd = iommufd_open();
	join_linked(&self->edu, self->iommufd);
}

/* --- the races ------------------------------------------------------------ */

/*
 * What the threads of a race share.  The main thread opens a container
 * per round, lets the threads loose on it, moves the group out while they
 * run, and stops them before closing it.  @phase tells a thread whether a
 * call of its overlapped the move: 0 before VFIO_GROUP_UNSET_CONTAINER, 1
 * while it runs, 2 after.
 */
struct race {
	int iommufd;
	int container_fd;
	uint32_t dev_id;
	uint32_t ioas_id[2];
	int phase;
	bool stop_round, stop;
	pthread_barrier_t go, done;
	/* counted by the threads */
	unsigned int calls, overlaps, unexpected;
	int unexpected_errno;
	const char *unexpected_call;
};

static int phase_now(struct race *r)
{
	return __atomic_load_n(&r->phase, __ATOMIC_ACQUIRE);
}

static void race_wrong(struct race *r, const char *call, int e)
{
	if (__atomic_add_fetch(&r->unexpected, 1, __ATOMIC_RELAXED) == 1) {
		r->unexpected_errno = e;
		r->unexpected_call = call;
	}
}

/* Record one call's result; @ok lists the errnos it may give, 0-ended. */
static void race_note(struct race *r, const char *call, int rc, int before,
		      const int *ok)
{
	int e = rc ? errno : 0;

	__atomic_add_fetch(&r->calls, 1, __ATOMIC_RELAXED);
	if (before == 0 && phase_now(r) != 0)
		__atomic_add_fetch(&r->overlaps, 1, __ATOMIC_RELAXED);
	if (!rc)
		return;
	for (; *ok; ok++)
		if (*ok == e)
			return;
	race_wrong(r, call, e);
}

struct race_thread {
	struct race *r;
	unsigned int index;
	void *buf;
};

/*
 * Type1 calls on the round's container: maps of the thread's own 1 MiB
 * at its own IOVA, their unmaps, GET_INFO.  Served (0) or, once the group
 * has left, refused as VFIO refuses a container without an IOMMU.
 */
static void *type1_thread(void *arg)
{
	static const int ok[] = { EINVAL, 0 };
	struct race_thread *t = arg;
	struct race *r = t->r;
	uint64_t iova = RACE_IOVA + t->index * RACE_MAP_LEN;

	for (;;) {
		pthread_barrier_wait(&r->go);
		if (r->stop)
			break;
		for (unsigned int n = 0;
		     !__atomic_load_n(&r->stop_round, __ATOMIC_ACQUIRE); n++) {
			int fd = r->container_fd, before = phase_now(r);
			int rc = type1_map(fd, t->buf, iova, RACE_MAP_LEN);

			race_note(r, "MAP_DMA", rc, before, ok);
			if (!rc) {
				before = phase_now(r);
				rc = type1_unmap(fd, iova, RACE_MAP_LEN);
				race_note(r, "UNMAP_DMA", rc, before, ok);
			}
			if (n % 4 == 0) {
				before = phase_now(r);
				rc = type1_get_info(fd);
				race_note(r, "GET_INFO", rc, before, ok);
			}
		}
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

/*
 * Calls of the iommufd mode: the link (only the first one of a container
 * succeeds; EBUSY after it, EINVAL once the group left), the device list
 * (ENODEV before the link), and attach/detach/HWPT_ALLOC of the device
 * (ENOENT once it has been unbound), on the round's container and dev_id.
 */
static void *iommufd_mode_thread(void *arg)
{
	static const int link_ok[] = { EBUSY, EINVAL, 0 };
	static const int list_ok[] = { ENODEV, EINVAL, 0 };
	static const int dev_ok[] = { ENOENT, 0 };
	static const int destroy_ok[] = { EBUSY, 0 };
	struct race_thread *t = arg;
	struct race *r = t->r;

	for (;;) {
		pthread_barrier_wait(&r->go);
		if (r->stop)
			break;
		for (unsigned int n = 0;
		     !__atomic_load_n(&r->stop_round, __ATOMIC_ACQUIRE); n++) {
			uint32_t dev_id = __atomic_load_n(&r->dev_id,
							  __ATOMIC_ACQUIRE);
			uint32_t pt_id = r->ioas_id[n & 1], hwpt_id = 0, id = 0;
			int before = phase_now(r), rc;

			switch ((t->index + n) % 4) {
			case 0:
				rc = vfio_link(r->container_fd, r->iommufd);
				race_note(r, "VFIO_LINK", rc, before, link_ok);
				rc = vfio_dev_id(r->container_fd, &id);
				race_note(r, "VFIO_DEVICES", rc, before,
					  list_ok);
				if (!rc && id)
					__atomic_store_n(&r->dev_id, id,
							 __ATOMIC_RELEASE);
				break;
			case 1:
				rc = dkms_attach(r->iommufd, dev_id, &pt_id);
				race_note(r, "DEVICE_ATTACH", rc, before,
					  dev_ok);
				break;
			case 2:
				rc = dkms_detach(r->iommufd, dev_id);
				race_note(r, "DEVICE_DETACH", rc, before,
					  dev_ok);
				break;
			default:
				rc = hwpt_alloc(r->iommufd, dev_id, pt_id,
						&hwpt_id);
				race_note(r, "HWPT_ALLOC", rc, before, dev_ok);
				if (rc)
					break;
				pt_id = hwpt_id;
				rc = dkms_attach(r->iommufd, dev_id, &pt_id);
				race_note(r, "DEVICE_ATTACH", rc, before,
					  dev_ok);
				/* Another thread may still be moving it off. */
				for (int i = 0; i < 1000; i++) {
					rc = dkms_detach(r->iommufd, dev_id);
					race_note(r, "DEVICE_DETACH", rc,
						  before, dev_ok);
					rc = destroy(r->iommufd, hwpt_id);
					race_note(r, "DESTROY", rc, before,
						  destroy_ok);
					if (!rc)
						break;
					usleep(100);
				}
				if (rc)
					race_wrong(r, "DESTROY never succeeded",
						   errno);
			}
		}
		pthread_barrier_wait(&r->done);
	}
	return NULL;
}

/*
 * Run @fn in RACE_THREADS threads against RACE_SECONDS of rounds: each
 * round joins the group to a new container of IOMMU @type (linking it
 * first when @link), lets the threads run on it for a moment, moves the
 * group out while they do, and closes the container.  Returns the number
 * of rounds; *@splat_rounds counts those after which the kernel log had
 * a new warning.
 */
static unsigned int race_run(struct race *r, struct edu *edu, int kmsg,
			     unsigned long type, bool link,
			     void *(*fn)(void *), unsigned int *splat_rounds)
{
	struct race_thread t[RACE_THREADS];
	pthread_t thr[RACE_THREADS];
	unsigned int rounds = 0;
	double start = now_s();

	ASSERT_EQ(0, pthread_barrier_init(&r->go, NULL, RACE_THREADS + 1));
	ASSERT_EQ(0, pthread_barrier_init(&r->done, NULL, RACE_THREADS + 1));
	for (unsigned int i = 0; i < RACE_THREADS; i++) {
		t[i].r = r;
		t[i].index = i;
		t[i].buf = alloc_buffer(RACE_MAP_LEN);
		ASSERT_EQ(0, pthread_create(&thr[i], NULL, fn, &t[i]));
	}
	*splat_rounds = 0;
	srandom((unsigned int)getpid());
	do {
		int fd = container_join(edu->group_fd, type);

		ASSERT_LE(0, fd);
		r->container_fd = fd;
		r->dev_id = 0;
		if (link && !(rounds & 1)) {
			/* Half the rounds linked already, half by the threads. */
			EXPECT_EQ(0, vfio_link(fd, r->iommufd));
			EXPECT_EQ(0, vfio_dev_id(fd, &r->dev_id));
		}
		__atomic_store_n(&r->phase, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&r->stop_round, false, __ATOMIC_RELEASE);
		pthread_barrier_wait(&r->go);
		/* Let them get going, then pull the group out under them. */
		usleep(200 + random() % 3000);
		__atomic_store_n(&r->phase, 1, __ATOMIC_RELEASE);
		EXPECT_EQ(0, unset_container(edu->group_fd));
		__atomic_store_n(&r->phase, 2, __ATOMIC_RELEASE);
		usleep(200);
		__atomic_store_n(&r->stop_round, true, __ATOMIC_RELEASE);
		pthread_barrier_wait(&r->done);
		EXPECT_EQ(0, close(fd));
		rounds++;
		if (kmsg_new_splats(kmsg))
			(*splat_rounds)++;
		/* After a leak, more rounds only pile up damage. */
		if (*splat_rounds || r->unexpected)
			break;
	} while (now_s() - start < RACE_SECONDS || rounds < 5);
	r->stop = true;
	pthread_barrier_wait(&r->go);
	for (unsigned int i = 0; i < RACE_THREADS; i++) {
		pthread_join(thr[i], NULL);
		free_buffer(t[i].buf, RACE_MAP_LEN);
	}
	pthread_barrier_destroy(&r->go);
	pthread_barrier_destroy(&r->done);
	return rounds;
}

/*
 * Type1 MAP_DMA/UNMAP_DMA/GET_INFO in three threads while the group
 * leaves its type1 container (the fuzzer's rejoin with a type1 device).
 * Before the fix, the container's private iommufd was released under a
 * running map: "iommufd: objects still referenced at release" in the
 * first round every time on 6.12/intel under TCG (the map then went on
 * in freed memory, and its pins and VmLck charge leaked).  Now every call
 * is served or answers EINVAL, and nothing is left behind.
 */
TEST_F_TIMEOUT(rejoin, type1_calls_racing_the_group_leaving_leave_nothing,
	       60)
{
	static struct race r;
	unsigned int rounds, splats;

	if (!type1_served_here())
		SKIP("iommufd_vfio was loaded without type1=1");
	memset(&r, 0, sizeof(r));
	r.iommufd = self->iommufd;
	rounds = race_run(&r, &self->edu, self->kmsg, VFIO_TYPE1v2_IOMMU,
			  false, type1_thread, &splats);
	TEST_LOG("%u rounds, %u calls, %u of them overlapping the move, %u rounds with a kernel warning",
		 rounds, r.calls, r.overlaps, splats);
	EXPECT_EQ(0, splats);
	EXPECT_EQ(0, r.unexpected);
	if (r.unexpected)
		TEST_LOG("first unexpected: %s: %s", r.unexpected_call,
			 strerror(r.unexpected_errno));
	EXPECT_LT(0, r.overlaps);
}

/*
 * The iommufd mode: links, device lists, attaches, detaches and HWPTs of
 * the device in three threads while the group leaves its container and
 * rejoins a new one linked to the same iommufd.  Before the fix a link or
 * a device list could run on the backend's state after VFIO had freed it
 * (a use-after-free KASAN reports; a production kernel shows nothing).
 * Now the calls give their documented answers, every IOAS is free at the
 * end, and the iommufd closes without a warning.
 */
TEST_F_TIMEOUT(rejoin, iommufd_mode_calls_racing_the_group_moving_leave_nothing,
	       60)
{
	static struct race r;
	unsigned int rounds, splats;

	memset(&r, 0, sizeof(r));
	r.iommufd = self->iommufd;
	r.ioas_id[0] = ioas_alloc(self->iommufd);
	r.ioas_id[1] = ioas_alloc(self->iommufd);
	rounds = race_run(&r, &self->edu, self->kmsg, VFIO_IOMMUFD_DKMS_IOMMU,
			  true, iommufd_mode_thread, &splats);
	TEST_LOG("%u rounds, %u calls, %u of them overlapping the move, %u rounds with a kernel warning",
		 rounds, r.calls, r.overlaps, splats);
	EXPECT_EQ(0, splats);
	EXPECT_EQ(0, r.unexpected);
	if (r.unexpected)
		TEST_LOG("first unexpected: %s: %s", r.unexpected_call,
			 strerror(r.unexpected_errno));
	EXPECT_LT(0, r.overlaps);
	/* Nothing holds them: the device and its HWPTs are gone. */
	EXPECT_EQ(0, destroy(self->iommufd, r.ioas_id[0]));
	EXPECT_EQ(0, destroy(self->iommufd, r.ioas_id[1]));
}

TEST_HARNESS_MAIN
