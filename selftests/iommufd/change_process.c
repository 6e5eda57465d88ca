// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU_IOAS_CHANGE_PROCESS under fire: the charge for pinned file pages
 * must move whole, exactly once, while other threads of the same context
 * map, fill and unmap, and however many IOAS the call has to lock.
 *
 * Two defects were behind these tests (issue 8, items 4 and 12):
 *  - the walk over every IOAS's areas met areas an unmap was tearing down
 *    (their pages pointer already NULL, or already released), and it read
 *    each pages' pinned count while domain fills were still changing it,
 *    so the new payer was charged one figure and the old one refunded
 *    another: VmPin/VmLck drifted and accounting.c warned on underflow;
 *  - locking every IOAS at once had no lockdep nesting annotation, and
 *    its failure path released semaphores it never took.
 *
 * The races need the self-test mock domain (so that a map pins and a
 * domain fill runs); without it they skip.  Each race runs for a fixed
 * time (RACE_SECONDS) under TCG.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"

#if defined(IOMMU_IOAS_CHANGE_PROCESS) && defined(IOMMU_IOAS_MAP_FILE)

#define RACE_SECONDS	2
#define FILE_PAGES	64
#define MAP_RW		(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)

static int attach_mock_domain(int fd, uint32_t ioas_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas_id,
	};

	return test_cmd(fd, &cmd);
}

static int unmap_at(int fd, uint32_t ioas_id, uint64_t length, uint64_t iova)
{
	struct iommu_ioas_unmap cmd = {
		.ioas_id = ioas_id,
		.length = length,
		.iova = iova,
		.size = sizeof(cmd),
	};

	return ioctl(fd, IOMMU_IOAS_UNMAP, &cmd);
}

static int new_memfd(size_t length)
{
	int mfd = memfd_create("change-process", MFD_CLOEXEC);

	ASSERT_NE(-1, mfd);
	ASSERT_EQ(0, ftruncate(mfd, (off_t)length));
	return mfd;
}

/*
 * One side of the race: map the memfd into its IOAS (the mock domain
 * makes that pin and fill) and unmap it again, until told to stop.
 */
struct churn {
	pthread_t thread;
	int fd;
	uint32_t ioas_id;
	int mfd;
	atomic_bool *stop;
	unsigned long rounds;
	int failed_errno;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(c->stop)) {
		if (map_file_at(c->fd, c->ioas_id, c->mfd, FILE_PAGES * PAGE,
				MOCK_APERTURE_START) ||
		    unmap_at(c->fd, c->ioas_id, FILE_PAGES * PAGE,
			     MOCK_APERTURE_START)) {
			c->failed_errno = errno;
			break;
		}
		c->rounds++;
	}
	return NULL;
}

FIXTURE(race) {
	int fd;
	int mfd;
	uint32_t ioas[2];
	struct churn churn[2];
	atomic_bool stop;
};

FIXTURE_VARIANT(race) {
	uint64_t rlimit_mode;
};

/* Per user: user->locked_vm (not visible in /proc) and VmPin. */
FIXTURE_VARIANT_ADD(race, per_user) { .rlimit_mode = 0 };
/* Per process: VmLck and VmPin. */
FIXTURE_VARIANT_ADD(race, per_process) { .rlimit_mode = 1 };

FIXTURE_SETUP(race)
{
	self->fd = iommufd_open();
	if (!selftest_available(self->fd)) {
		close(self->fd);
		SKIP("no self-test mode (IOMMU_TEST_CMD)");
	}
	ASSERT_EQ(0, set_rlimit_mode(self->fd, variant->rlimit_mode));
	self->mfd = new_memfd(FILE_PAGES * PAGE);
	for (int i = 0; i < 2; i++) {
		self->ioas[i] = ioas_alloc(self->fd);
		ASSERT_EQ(0, attach_mock_domain(self->fd, self->ioas[i]));
		self->churn[i] = (struct churn){
			.fd = self->fd,
			.ioas_id = self->ioas[i],
			.mfd = self->mfd,
			.stop = &self->stop,
		};
	}
	atomic_store(&self->stop, false);
	/*
	 * Root has CAP_IPC_LOCK and would charge VmPin only: pay as an
	 * ordinary user, so that the variant's counter is the one charged.
	 */
	drop_to_nobody();
}

FIXTURE_TEARDOWN(race)
{
	close(self->mfd);
	close(self->fd);
}

static void start_churn(FIXTURE_DATA(race) *self)
{
	for (int i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&self->churn[i].thread, NULL,
					    churn_main, &self->churn[i]));
}

static void stop_churn(FIXTURE_DATA(race) *self)
{
	atomic_store(&self->stop, true);
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(self->churn[i].thread, NULL));
		EXPECT_EQ(0, self->churn[i].failed_errno);
		EXPECT_GT(self->churn[i].rounds, 0);
	}
}

/*
 * The caller stays the payer, so every call must leave VmPin/VmLck where
 * they were once all is unmapped.  Before the fix this hit in every run
 * (3 of 3, TCG): on 6.1 and 6.12 the first 2 s case oopsed, a general
 * protection fault in iopt_account_release() from
 * iopt_pages_switch_account(), on pages an unmap had just released; with
 * only the unmap ordering fixed (6.12), both variants failed with ENOMEM
 * and VmPin/VmLck left 7680/8192 kB high (counts read while fills ran),
 * and __account_locked_vm() warned of an underflow.
 */
TEST_F_TIMEOUT(race, change_process_while_file_mappings_come_and_go, 60)
{
	struct vm_counters start = vm_counters(), end;
	unsigned long calls = 0;
	double until;

	start_churn(self);
	until = now_s() + RACE_SECONDS;
	while (now_s() < until) {
		ASSERT_EQ(0, change_process(self->fd));
		calls++;
	}
	stop_churn(self);
	TEST_LOG("%lu CHANGE_PROCESS calls against %lu + %lu map/unmap rounds",
		 calls, self->churn[0].rounds, self->churn[1].rounds);

	end = vm_counters();
	EXPECT_EQ(start.pin_kb, end.pin_kb);
	EXPECT_EQ(start.lck_kb, end.lck_kb);
}

/* What a forked new owner reports about its own counters. */
struct owner_report {
	unsigned long calls;
	long pin_delta_kb;	/* while it holds the steady mapping */
	long lck_delta_kb;
	long pin_left_kb;	/* after the parent unmapped everything */
	long lck_left_kb;
};

/*
 * A second process takes the charge over again and again while the
 * parent's threads map and unmap; then, with the churn stopped and one
 * mapping of FILE_PAGES pinned, it takes it once more: it must be charged
 * exactly FILE_PAGES pages and the parent refunded exactly as much, and
 * when the parent unmaps, the owner's counters come back to where they
 * started.  Before the fix (unmap ordering fixed alone, 6.12, TCG) both
 * variants timed out (60 s) in 1 of 1 run.
 */
TEST_F_TIMEOUT(race, new_owner_is_charged_what_the_old_one_is_refunded, 60)
{
	const long charge_kb = kb(FILE_PAGES * PAGE);
	uint64_t mode = variant->rlimit_mode;
	int go[2], ready[2], done[2], report_pipe[2];
	struct vm_counters parent_start = vm_counters(), now;
	struct owner_report rep;
	char byte = 0;
	pid_t owner;

	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(done));
	ASSERT_EQ(0, pipe(report_pipe));
	fflush(stdout);
	owner = fork();
	ASSERT_NE(-1, owner);
	if (owner == 0) {
		struct vm_counters start = vm_counters(), mid, end;
		double until = now_s() + RACE_SECONDS;

		memset(&rep, 0, sizeof(rep));
		while (now_s() < until) {
			if (change_process(self->fd))
				_exit(2);
			rep.calls++;
		}
		/* Quiet now: the parent maps once and lets us take it. */
		if (write(ready[1], &byte, 1) != 1 ||
		    read(go[0], &byte, 1) != 1 || change_process(self->fd))
			_exit(3);
		mid = vm_counters();
		rep.pin_delta_kb = mid.pin_kb - start.pin_kb;
		rep.lck_delta_kb = mid.lck_kb - start.lck_kb;
		if (write(ready[1], &byte, 1) != 1 ||
		    read(done[0], &byte, 1) != 1)
			_exit(4);
		end = vm_counters();
		rep.pin_left_kb = end.pin_kb - start.pin_kb;
		rep.lck_left_kb = end.lck_kb - start.lck_kb;
		if (write(report_pipe[1], &rep, sizeof(rep)) != sizeof(rep))
			_exit(5);
		_exit(0);
	}

	start_churn(self);
	ASSERT_EQ(1, read(ready[0], &byte, 1));
	stop_churn(self);

	/* Nothing mapped now: whatever moved must have come back. */
	now = vm_counters();
	EXPECT_EQ(parent_start.pin_kb, now.pin_kb);
	EXPECT_EQ(parent_start.lck_kb, now.lck_kb);

	ASSERT_EQ(0, map_file_at(self->fd, self->ioas[0], self->mfd,
				 FILE_PAGES * PAGE, MOCK_APERTURE_START));
	now = vm_counters();
	EXPECT_EQ(parent_start.pin_kb + charge_kb, now.pin_kb);
	EXPECT_EQ(parent_start.lck_kb + (mode ? charge_kb : 0), now.lck_kb);
	ASSERT_EQ(1, write(go[1], &byte, 1));
	ASSERT_EQ(1, read(ready[0], &byte, 1));
	now = vm_counters();
	EXPECT_EQ(parent_start.pin_kb, now.pin_kb);
	EXPECT_EQ(parent_start.lck_kb, now.lck_kb);

	ASSERT_EQ(0, unmap_at(self->fd, self->ioas[0], FILE_PAGES * PAGE,
			      MOCK_APERTURE_START));
	ASSERT_EQ(1, write(done[1], &byte, 1));
	ASSERT_EQ((ssize_t)sizeof(rep),
		  read(report_pipe[0], &rep, sizeof(rep)));
	{
		int status;

		ASSERT_EQ(owner, waitpid(owner, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
	}
	TEST_LOG("the owner made %lu CHANGE_PROCESS calls during the churn",
		 rep.calls);
	EXPECT_EQ(charge_kb, rep.pin_delta_kb);
	EXPECT_EQ(mode ? charge_kb : 0, rep.lck_delta_kb);
	EXPECT_EQ(0, rep.pin_left_kb);
	EXPECT_EQ(0, rep.lck_left_kb);
	for (int i = 0; i < 2; i++) {
		close(go[i]);
		close(ready[i]);
		close(done[i]);
		close(report_pipe[i]);
	}
}

/*
 * One call locks every IOAS of the context together.  With lockdep on
 * (the debug kernel) this is where a missing nesting annotation shows:
 * "possible recursive locking detected" on the second IOAS's semaphores.
 * Sharing pages between IOAS (IOAS_COPY) must charge them once.
 */
TEST(change_process_locks_many_ioas_and_moves_shared_pages_once)
{
	enum { NIOAS = 12 };
	const long charge_kb = kb(FILE_PAGES * PAGE);
	int fd = iommufd_open();
	uint32_t ioas[NIOAS];
	struct vm_counters start = vm_counters(), now;
	int mfd;

	if (!selftest_available(fd)) {
		close(fd);
		SKIP("no self-test mode (IOMMU_TEST_CMD)");
	}
	mfd = new_memfd(FILE_PAGES * PAGE);
	for (int i = 0; i < NIOAS; i++) {
		ioas[i] = ioas_alloc(fd);
		ASSERT_EQ(0, attach_mock_domain(fd, ioas[i]));
	}
	ASSERT_EQ(0, map_file_at(fd, ioas[0], mfd, FILE_PAGES * PAGE,
				 MOCK_APERTURE_START));
	for (int i = 1; i < NIOAS; i++) {
		struct iommu_ioas_copy copy = {
			.size = sizeof(copy),
			.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
			.dst_ioas_id = ioas[i],
			.src_ioas_id = ioas[0],
			.length = FILE_PAGES * PAGE,
			.dst_iova = MOCK_APERTURE_START,
			.src_iova = MOCK_APERTURE_START,
		};

		ASSERT_EQ(0, ioctl(fd, IOMMU_IOAS_COPY, &copy));
	}
	now = vm_counters();
	EXPECT_EQ(start.pin_kb + charge_kb, now.pin_kb);
	for (int round = 0; round < 3; round++) {
		ASSERT_EQ(0, change_process(fd));
		now = vm_counters();
		EXPECT_EQ(start.pin_kb + charge_kb, now.pin_kb);
	}
	ASSERT_EQ(0, close(fd));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	close(mfd);
}

/*
 * Fault injection: slab allocations that may sleep are exempt unless
 * failslab's ignore-gfp-wait is off.  Turn it off for the test and put
 * the old value back afterwards.
 */
static const char *const failslab_knob =
	"/sys/kernel/debug/failslab/ignore-gfp-wait";

static bool knob_swap(const char *path, char *old, size_t len, const char *val)
{
	int kfd = open(path, O_RDWR);
	ssize_t n;

	if (kfd < 0)
		return false;
	n = pread(kfd, old, len - 1, 0);
	old[n > 0 ? n : 0] = 0;
	n = pwrite(kfd, val, strlen(val), 0);
	close(kfd);
	return n == (ssize_t)strlen(val);
}

static int fail_nth_left(int nth_fd)
{
	char text[16] = "";

	if (pread(nth_fd, text, sizeof(text) - 1, 0) <= 0)
		return -1;
	return atoi(text);
}

/*
 * Every allocation and user copy CHANGE_PROCESS makes may fail (fault
 * injection through /proc/thread-self/fail-nth, on a kernel built with it,
 * such as the debug kernel).  Each failure must leave the charge where it
 * was and no lock held: before the fix, a failed allocation while
 * collecting the IOAS released the semaphores of every IOAS collected so
 * far without having taken them (an up_write() of a free rwsem).
 */
TEST_TIMEOUT(change_process_fails_cleanly_at_every_fault_point, 120)
{
	enum { NIOAS = 6 };
	const long charge_kb = kb(FILE_PAGES * PAGE);
	int fd = iommufd_open(), mfd, nth_fd, rc = -1;
	struct vm_counters start = vm_counters(), now;
	unsigned int nth, failures = 0;
	char old_knob[16];

	nth_fd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nth_fd < 0) {
		close(fd);
		SKIP("no fault injection in this kernel");
	}
	if (!selftest_available(fd)) {
		close(fd);
		close(nth_fd);
		SKIP("no self-test mode (IOMMU_TEST_CMD)");
	}
	if (!knob_swap(failslab_knob, old_knob, sizeof(old_knob), "N")) {
		close(fd);
		close(nth_fd);
		SKIP("no %s (debugfs not mounted?)", failslab_knob);
	}
	mfd = new_memfd(FILE_PAGES * PAGE);
	for (int i = 0; i < NIOAS; i++) {
		uint32_t id = ioas_alloc(fd);

		ASSERT_EQ(0, attach_mock_domain(fd, id));
		ASSERT_EQ(0, map_file_at(fd, id, mfd, FILE_PAGES * PAGE,
					 MOCK_APERTURE_START));
	}
	for (nth = 1; nth < 1000; nth++) {
		char text[16];
		int len = snprintf(text, sizeof(text), "%u", nth), err;
		bool injected;

		ASSERT_EQ(len, pwrite(nth_fd, text, len, 0));
		rc = change_process(fd);
		err = errno;
		/* 0 left means the nth fault point was reached and failed. */
		injected = fail_nth_left(nth_fd) == 0;
		ASSERT_EQ(1, pwrite(nth_fd, "0", 1, 0));
		now = vm_counters();
		EXPECT_EQ(start.pin_kb + NIOAS * charge_kb, now.pin_kb);
		if (!injected) {
			EXPECT_EQ(0, rc);
			break;
		}
		if (rc) {
			EXPECT_TRUE(err == ENOMEM || err == EFAULT);
			failures++;
		}
		/* The context still works after each injected failure. */
		ASSERT_EQ(0, change_process(fd));
	}
	{
		char scratch[16];

		knob_swap(failslab_knob, scratch, sizeof(scratch), old_knob);
	}
	TEST_LOG("%u injected failures, CHANGE_PROCESS got through at %u",
		 failures, nth);
	EXPECT_GT(failures, 0);
	close(nth_fd);
	ASSERT_EQ(0, close(fd));
	now = vm_counters();
	EXPECT_EQ(start.pin_kb, now.pin_kb);
	close(mfd);
}

#else

TEST(change_process_needs_a_newer_iommufd_h)
{
	SKIP("this iommufd.h has no IOMMU_IOAS_CHANGE_PROCESS or MAP_FILE");
}

#endif

TEST_HARNESS_MAIN
