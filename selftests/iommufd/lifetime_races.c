// SPDX-License-Identifier: GPL-2.0
/*
 * Object lifetimes under concurrency, with the self-test's mock devices
 * (the module must be loaded with selftest=1, else every test skips).
 *
 * The kernel destroys some objects by itself: a mock device's iommufd
 * device when its self-test object goes, an automatic HWPT with its last
 * device, an access when its owner closes it.  User space may name those
 * objects at the same moment (IOMMU_DESTROY, attach, replace).  Each test
 * runs the two sides in two threads, over and over, for a bounded time,
 * and checks three things: every call answers one of the errnos the ABI
 * allows for that moment, nothing is left behind, and the kernel log
 * stays clean (a use-after-free on a production kernel often shows only
 * as a refcount_t or list warning; the debug kernel's KASAN sees the
 * rest).
 *
 * How often each window was hit before the fixes, on 6.12 under TCG on
 * this two-core machine, is noted above each test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>
#include <linux/iommufd_dkms.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"

#define MAP_RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#define RACE_SECONDS	3
#define BUF_LEN		(16 * PAGE)
#define BUF_IOVA	0x100000UL

/* --- the kernel log ------------------------------------------------------ */

/*
 * /dev/kmsg read from where it ended when the test began: any warning the
 * kernel printed meanwhile fails the test itself, not only the run.
 */
static int kmsg_open_at_end(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

static unsigned int kmsg_count_splats(int fd)
{
	static const char *const bad[] = {
		"WARNING:", "BUG:", "refcount_t:", "Oops", "list_del corruption",
		"general protection",
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
		for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			if (strstr(rec, bad[i])) {
				TEST_LOG("kernel: %.200s", strchr(rec, ';') ?
					 strchr(rec, ';') + 1 : rec);
				found++;
				break;
			}
		}
	}
	close(fd);
	return found;
}

/* --- the ioctls ---------------------------------------------------------- */

struct mock_dev {
	uint32_t stdev_id;
	uint32_t idev_id;
	uint32_t hwpt_id;
};

static int mock_domain(int fd, uint32_t pt_id, struct mock_dev *dev)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = pt_id,
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc) {
		dev->stdev_id = cmd.mock_domain.out_stdev_id;
		dev->idev_id = cmd.mock_domain.out_idev_id;
		dev->hwpt_id = cmd.mock_domain.out_hwpt_id;
	}
	return rc;
}

static int mock_replace(int fd, uint32_t stdev_id, uint32_t pt_id,
			uint32_t *now)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
		.mock_domain_replace = { .pt_id = pt_id },
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc && now)
		*now = cmd.mock_domain_replace.pt_id;
	return rc;
}

static int dkms_attach(int fd, uint32_t dev_id, uint32_t pt_id, uint32_t *now)
{
	struct iommufd_dkms_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = dev_id,
		.pt_id = pt_id,
	};
	int rc = ioctl(fd, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd);

	if (!rc && now)
		*now = cmd.pt_id;
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

static int map_fixed(int fd, uint32_t ioas_id, void *buf, uint64_t len,
		     uint64_t iova)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.ioas_id = ioas_id,
		.user_va = (uintptr_t)buf,
		.length = len,
		.iova = iova,
	};

	return ioctl(fd, IOMMU_IOAS_MAP, &cmd);
}

static int unmap(int fd, uint32_t ioas_id, uint64_t iova, uint64_t len)
{
	struct iommu_ioas_unmap cmd = {
		.size = sizeof(cmd),
		.ioas_id = ioas_id,
		.iova = iova,
		.length = len,
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
}

static int create_access(int fd, uint32_t ioas_id, int *access_fd)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas_id,
		.create_access = {
			.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
		},
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc)
		*access_fd = cmd.create_access.out_access_fd;
	return rc;
}

static int access_pin(int fd, int access_fd, uint64_t iova, uint64_t len)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = access_fd,
		.access_pages = { .iova = iova, .length = len },
	};

	return test_cmd(fd, &cmd);
}

/* --- two threads, many rounds --------------------------------------------- */

/*
 * A round: the main thread sets the stage, both sides start together
 * (a barrier), and the main thread judges the outcome once both are done.
 * Rounds go on until RACE_SECONDS have passed.
 */
struct duel {
	int fd;
	pthread_barrier_t go, done;
	bool stop;
	void (*side[2])(struct duel *d);
	/* the stage and what each side saw */
	uint32_t ioas_id, ioas2_id;
	struct mock_dev dev, dev2;
	int rc[2], err[2];
	int access_fd;
	void *buf;
	unsigned int rounds, hits;
};

static void duel_note(struct duel *d, int side, int rc)
{
	d->rc[side] = rc;
	d->err[side] = rc ? errno : 0;
}

struct duel_arg {
	struct duel *d;
	int side;
};

static void *duel_thread(void *arg)
{
	struct duel_arg *a = arg;

	for (;;) {
		pthread_barrier_wait(&a->d->go);
		if (a->d->stop)
			break;
		a->d->side[a->side](a->d);
		pthread_barrier_wait(&a->d->done);
	}
	return NULL;
}

static bool duel_time_left(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec - start->tv_sec < RACE_SECONDS;
}

/*
 * Run rounds: @stage before each, @judge after each (returns false to stop
 * early on a failure).
 */
static void duel_run(struct duel *d, void (*stage)(struct duel *d),
		     bool (*judge)(struct duel *d))
{
	struct duel_arg args[2] = { { d, 0 }, { d, 1 } };
	struct timespec start;
	pthread_t thr[2];

	ASSERT_EQ(0, pthread_barrier_init(&d->go, NULL, 3));
	ASSERT_EQ(0, pthread_barrier_init(&d->done, NULL, 3));
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&thr[i], NULL, duel_thread,
					    &args[i]));
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (duel_time_left(&start)) {
		stage(d);
		pthread_barrier_wait(&d->go);
		pthread_barrier_wait(&d->done);
		d->rounds++;
		if (!judge(d))
			break;
	}
	d->stop = true;
	pthread_barrier_wait(&d->go);
	for (int i = 0; i < 2; i++)
		pthread_join(thr[i], NULL);
	pthread_barrier_destroy(&d->go);
	pthread_barrier_destroy(&d->done);
	TEST_LOG("%u rounds, %u with both sides in the window", d->rounds,
		 d->hits);
}

FIXTURE(race) {
	int fd;
	int kmsg;
	struct duel d;
};

FIXTURE_SETUP(race)
{
	self->fd = iommufd_open();
	REQUIRE_SELFTEST(self->fd);
	self->kmsg = kmsg_open_at_end();
	memset(&self->d, 0, sizeof(self->d));
	self->d.fd = self->fd;
	self->d.access_fd = -1;
}

FIXTURE_TEARDOWN(race)
{
	close(self->fd);
	EXPECT_EQ(0, kmsg_count_splats(self->kmsg));
}

/*
 * Issue 8 item 1.  The kernel destroys a mock device (its self-test
 * object is destroyed) and with it the device's automatic HWPT, while
 * another thread destroys the HWPT's id and the device's id.  While the
 * kernel holds them, IOMMU_DESTROY must answer EBUSY; once they are gone,
 * ENOENT; never 0.  Before the fix the user's destroy could free the HWPT
 * the kernel was about to drop: "refcount_t: underflow; use-after-free"
 * then a hung task, in the first ~200 rounds of every run.
 */
static void item1_stage(struct duel *d)
{
	ASSERT_EQ(0, mock_domain(d->fd, d->ioas_id, &d->dev));
}

static void item1_kernel_side(struct duel *d)
{
	duel_note(d, 0, destroy(d->fd, d->dev.stdev_id));
}

static void item1_user_side(struct duel *d)
{
	int rc = destroy(d->fd, d->dev.hwpt_id);

	duel_note(d, 1, rc);
	/* The device id too: its owner is the self-test object. */
	if (destroy(d->fd, d->dev.idev_id) == 0)
		d->rc[1] = 0, d->err[1] = 0;
}

static bool item1_judge(struct duel *d)
{
	EXPECT_EQ(0, d->rc[0]);
	EXPECT_EQ(-1, d->rc[1]);
	if (d->rc[1] == -1 && d->err[1] != ENOENT)
		EXPECT_EQ(EBUSY, d->err[1]);
	if (d->err[1] == EBUSY)
		d->hits++;
	/* Both gone with the device. */
	EXPECT_ERRNO(ENOENT, destroy(d->fd, d->dev.hwpt_id));
	EXPECT_ERRNO(ENOENT, destroy(d->fd, d->dev.idev_id));
	return d->rc[0] == 0 && d->rc[1] == -1;
}

TEST_F_TIMEOUT(race, user_destroy_of_an_auto_hwpt_racing_its_kernel_side_destroy_is_ebusy_or_enoent,
	       30)
{
	self->d.ioas_id = ioas_alloc(self->fd);
	self->d.side[0] = item1_kernel_side;
	self->d.side[1] = item1_user_side;
	duel_run(&self->d, item1_stage, item1_judge);
	ASSERT_EQ(0, destroy(self->fd, self->d.ioas_id));
}

/*
 * Issue 8 item 7, third part.  A second device is moved onto the first
 * device's automatic HWPT (found by id) while the kernel destroys that
 * HWPT with the first device.  Either the move came first (the HWPT lives
 * on, used by the second device) or the HWPT is already dying (ENOENT).
 * Before the fix the move revived a HWPT whose destruction was under way:
 * "WARNING: ... iommufd_object_destroy_owned" about once in 40 rounds.
 */
static void item7_stage(struct duel *d)
{
	ASSERT_EQ(0, mock_domain(d->fd, d->ioas_id, &d->dev));
	ASSERT_EQ(0, mock_domain(d->fd, d->ioas2_id, &d->dev2));
}

static void item7_kernel_side(struct duel *d)
{
	duel_note(d, 0, destroy(d->fd, d->dev.stdev_id));
}

static void item7_user_side(struct duel *d)
{
	duel_note(d, 1, mock_replace(d->fd, d->dev2.stdev_id, d->dev.hwpt_id,
				     NULL));
}

static bool item7_judge(struct duel *d)
{
	EXPECT_EQ(0, d->rc[0]);
	if (d->rc[1] == 0) {
		/* The second device holds the HWPT now. */
		d->hits++;
		EXPECT_ERRNO(EBUSY, destroy(d->fd, d->dev.hwpt_id));
	} else {
		EXPECT_EQ(ENOENT, d->err[1]);
	}
	/* Its last device gone, the automatic HWPT goes too. */
	EXPECT_EQ(0, destroy(d->fd, d->dev2.stdev_id));
	EXPECT_ERRNO(ENOENT, destroy(d->fd, d->dev.hwpt_id));
	EXPECT_ERRNO(ENOENT, destroy(d->fd, d->dev2.hwpt_id));
	return d->rc[0] == 0 && (d->rc[1] == 0 || d->err[1] == ENOENT);
}

TEST_F_TIMEOUT(race, moving_onto_an_auto_hwpt_that_the_kernel_destroys_works_or_is_enoent,
	       30)
{
	self->d.ioas_id = ioas_alloc(self->fd);
	self->d.ioas2_id = ioas_alloc(self->fd);
	self->d.side[0] = item7_kernel_side;
	self->d.side[1] = item7_user_side;
	duel_run(&self->d, item7_stage, item7_judge);
	ASSERT_EQ(0, destroy(self->fd, self->d.ioas_id));
	ASSERT_EQ(0, destroy(self->fd, self->d.ioas2_id));
}

/*
 * Issue 8 item 6.  Attach answers the HWPT it attached to; a detach
 * running meanwhile must not make that answer read a NULL HWPT.  Both the
 * extension ioctl and the self-test's replace.  Before the fix: an oops
 * in iommufd_dkms_device_attach (NULL idev->hwpt) within a few hundred
 * rounds.
 */
static void item6_stage(struct duel *d)
{
	d->rc[0] = d->rc[1] = 0;
}

static void item6_attach_side(struct duel *d)
{
	uint32_t now = 0;
	int rc;

	rc = dkms_attach(d->fd, d->dev.idev_id, d->ioas_id, &now);
	duel_note(d, 0, rc);
	if (!rc && now != d->dev.hwpt_id)
		d->rc[0] = -2;
	rc = mock_replace(d->fd, d->dev.stdev_id, d->ioas_id, &now);
	if (rc || now != d->dev.hwpt_id)
		d->rc[0] = rc ? rc : -2;
}

static void item6_detach_side(struct duel *d)
{
	duel_note(d, 1, dkms_detach(d->fd, d->dev.idev_id));
}

static bool item6_judge(struct duel *d)
{
	EXPECT_EQ(0, d->rc[0]);
	EXPECT_EQ(0, d->rc[1]);
	return !d->rc[0] && !d->rc[1];
}

TEST_F_TIMEOUT(race, attach_answers_its_hwpt_while_a_detach_runs, 30)
{
	uint32_t now = 0;

	self->d.ioas_id = ioas_alloc(self->fd);
	ASSERT_EQ(0, mock_domain(self->fd, self->d.ioas_id, &self->d.dev));
	self->d.side[0] = item6_attach_side;
	self->d.side[1] = item6_detach_side;
	/*
	 * Every attach after a detach makes a new automatic HWPT: keep one
	 * alive with a second device so that the id stays the same.
	 */
	ASSERT_EQ(0, mock_domain(self->fd, self->d.ioas_id, &self->d.dev2));
	ASSERT_EQ(self->d.dev.hwpt_id, self->d.dev2.hwpt_id);
	duel_run(&self->d, item6_stage, item6_judge);
	ASSERT_EQ(0, dkms_attach(self->fd, self->d.dev.idev_id,
				 self->d.ioas_id, &now));
	ASSERT_EQ(self->d.dev.hwpt_id, now);
	ASSERT_EQ(0, destroy(self->fd, self->d.dev.stdev_id));
	ASSERT_EQ(0, destroy(self->fd, self->d.dev2.stdev_id));
	ASSERT_EQ(0, destroy(self->fd, self->d.ioas_id));
}

/*
 * Issue 8 item 10.  An unmap tells each access of the IOAS to drop its
 * pins (the access's ->unmap callback) while the access's owner closes it.
 * The close must wait for the callback, never find the access "busy" and
 * free it anyway.  Before the fix: "WARNING: ... destroy_owned" (EBUSY)
 * about once in 150 rounds, then ->unmap called on freed memory.
 */
static void item10_stage(struct duel *d)
{
	ASSERT_EQ(0, map_fixed(d->fd, d->ioas_id, d->buf, BUF_LEN, BUF_IOVA));
	ASSERT_EQ(0, create_access(d->fd, d->ioas_id, &d->access_fd));
	ASSERT_EQ(0, access_pin(d->fd, d->access_fd, BUF_IOVA, PAGE));
}

static void item10_close_side(struct duel *d)
{
	duel_note(d, 0, close(d->access_fd));
}

static void item10_unmap_side(struct duel *d)
{
	duel_note(d, 1, unmap(d->fd, d->ioas_id, BUF_IOVA, BUF_LEN));
}

static bool item10_judge(struct duel *d)
{
	EXPECT_EQ(0, d->rc[0]);
	EXPECT_EQ(0, d->rc[1]);
	/* Nothing of the access is left pinning the buffer. */
	EXPECT_EQ(0, check_refs(d->fd, d->buf, BUF_LEN, 0));
	return !d->rc[0] && !d->rc[1];
}

TEST_F_TIMEOUT(race, closing_an_access_while_an_unmap_notifies_it_waits_for_the_callback,
	       30)
{
	self->d.buf = alloc_buffer(BUF_LEN);
	self->d.ioas_id = ioas_alloc(self->fd);
	self->d.side[0] = item10_close_side;
	self->d.side[1] = item10_unmap_side;
	duel_run(&self->d, item10_stage, item10_judge);
	ASSERT_EQ(0, destroy(self->fd, self->d.ioas_id));
	free_buffer(self->d.buf, BUF_LEN);
}

/*
 * Issue 8 item 3.  IOMMU_HWPT_ALLOC whose answer cannot be written back
 * (the argument sits in a read-only page): EFAULT, the new HWPT dropped,
 * the context usable.  Before the fix the error path destroyed the HWPT
 * under the IOAS mutex it needs itself: the task hung, unkillable.
 */
TEST_F_TIMEOUT(race, hwpt_alloc_into_read_only_memory_is_efault, 20)
{
	struct iommu_hwpt_alloc *cmd;
	struct mock_dev dev;
	uint32_t ioas_id = ioas_alloc(self->fd);

	ASSERT_EQ(0, mock_domain(self->fd, ioas_id, &dev));
	cmd = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, cmd);
	cmd->size = sizeof(*cmd);
	cmd->dev_id = dev.idev_id;
	cmd->pt_id = ioas_id;
	ASSERT_EQ(0, mprotect(cmd, PAGE, PROT_READ));

	ASSERT_ERRNO(EFAULT, ioctl(self->fd, IOMMU_HWPT_ALLOC, cmd));
	ASSERT_EQ(0, cmd->out_hwpt_id);
	ASSERT_EQ(0, munmap(cmd, PAGE));

	/* No HWPT was left on the IOAS: it goes once the device does. */
	ASSERT_EQ(0, destroy(self->fd, dev.stdev_id));
	ASSERT_EQ(0, destroy(self->fd, ioas_id));
}

/*
 * Issue 8 item 15, with the mock IOMMU: a capability GET_HW_INFO reports
 * is one HWPT_ALLOC grants.  (Dirty tracking is not offered yet, so it
 * must not be reported.)
 */
TEST_F(race, hw_info_reports_dirty_tracking_only_where_hwpt_alloc_grants_it)
{
	struct iommu_hw_info info = { .size = sizeof(info) };
	struct iommu_hwpt_alloc alloc = {
		.size = sizeof(alloc),
		.flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	uint32_t ioas_id = ioas_alloc(self->fd);
	struct mock_dev dev;
	int rc;

	ASSERT_EQ(0, mock_domain(self->fd, ioas_id, &dev));
	info.dev_id = dev.idev_id;
	ASSERT_EQ(0, ioctl(self->fd, IOMMU_GET_HW_INFO, &info));
	alloc.dev_id = dev.idev_id;
	alloc.pt_id = ioas_id;
	rc = ioctl(self->fd, IOMMU_HWPT_ALLOC, &alloc);
	if (info.out_capabilities & IOMMU_HW_CAP_DIRTY_TRACKING) {
		ASSERT_EQ(0, rc);
		ASSERT_EQ(0, destroy(self->fd, alloc.out_hwpt_id));
	} else {
		ASSERT_ERRNO(EOPNOTSUPP, rc);
	}
	ASSERT_EQ(0, destroy(self->fd, dev.stdev_id));
	ASSERT_EQ(0, destroy(self->fd, ioas_id));
}

TEST_HARNESS_MAIN
