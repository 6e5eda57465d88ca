// SPDX-License-Identifier: GPL-2.0
/*
 * What an administrator sees of the module (module/ledger.c, fdinfo.c):
 * the iommufd-* lines of a /dev/iommu file's fdinfo and the totals in
 * debugfs's iommufd/usage, checked against the kernel's own counters
 * (VmPin, VmLck) and the objects the test made.  Reading them must also
 * be safe while the context changes under another thread.
 *
 * Needs the module loaded with selftest=1 (mock domains and accesses pin
 * pages without a device).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "iommufd_ledger.h"
#include "iommufd_mock.h"

#define NPAGES		64
#define LEN		(NPAGES * PAGE)
/* Inside the mock aperture. */
#define IOVA		0x4000000UL

TEST(a_fresh_context_shows_user_mode_nothing_held_and_no_payer)
{
	int fd = iommufd_open();
	struct fd_ledger l = fd_ledger(fd);

	EXPECT_EQ(0, strcmp("user", l.mode));
	EXPECT_EQ(0, l.ioas);
	EXPECT_EQ(0, l.hwpt_paging);
	EXPECT_EQ(0, l.device);
	EXPECT_EQ(0, l.access);
	EXPECT_EQ(0, l.selftest);
	EXPECT_EQ(0, l.pinned);
	EXPECT_EQ(0, l.charged);
	EXPECT_EQ(0, l.pfn_bytes);
	EXPECT_TRUE(l.payer_none);
	EXPECT_EQ(0, l.npayers);
	close(fd);
}

TEST(objects_are_counted_by_type_and_uncounted_when_destroyed)
{
	int fd = iommufd_open();
	uint32_t a = ioas_alloc(fd), b = ioas_alloc(fd), hwpt;
	struct fd_ledger l;
	int access;

	REQUIRE_SELFTEST(fd);
	ASSERT_EQ(0, mock_domain(fd, a, &hwpt));
	access = create_access(fd, b, 0);
	ASSERT_LE(0, access);
	l = fd_ledger(fd);
	EXPECT_EQ(2, l.ioas);
	EXPECT_EQ(1, l.hwpt_paging);
	/* A mock domain is a mock device object bound as a device. */
	EXPECT_EQ(1, l.selftest);
	EXPECT_EQ(1, l.device);
	EXPECT_EQ(1, l.access);

	close(access);
	l = fd_ledger(fd);
	EXPECT_EQ(0, l.access);
	ASSERT_EQ(0, destroy(fd, b));
	l = fd_ledger(fd);
	EXPECT_EQ(1, l.ioas);
	close(fd);
}

/* A context with one IOAS and a mock domain on it, as the tests need. */
struct pinning {
	int fd;
	uint32_t ioas_id, second_ioas_id;
	uint8_t *buf;
	long expect_charged;	/* pages, -1: equal to the VmLck delta */
};

static void pinning_setup(struct pinning *p, uint64_t rlimit_mode)
{
	p->fd = iommufd_open();
	if (rlimit_mode)
		ASSERT_EQ(0, set_rlimit_mode(p->fd, rlimit_mode));
	p->ioas_id = ioas_alloc(p->fd);
	p->second_ioas_id = ioas_alloc(p->fd);
	ASSERT_EQ(0, mock_domain(p->fd, p->ioas_id, NULL));
	ASSERT_EQ(0, mock_domain(p->fd, p->second_ioas_id, NULL));
	p->buf = alloc_buffer(LEN);
}

static void pinning_teardown(struct pinning *p)
{
	close(p->fd);
	free_buffer(p->buf, LEN);
}

/*
 * Map, copy into the second IOAS (the same pages: counted once), check
 * the ledger against VmPin/VmLck, unmap both, check it is back to zero.
 * As nobody, RLIMIT_MEMLOCK is exactly what the mapping needs, so that
 * one page more is refused: the charge the ledger shows is real.
 */
static void map_and_compare(struct pinning *p, bool as_nobody,
			    bool charged_to_vmlck)
{
	struct vm_counters start, now;
	uint8_t *extra = alloc_buffer(PAGE);
	struct fd_ledger l;

	if (as_nobody) {
		set_memlock_limit(LEN);
		drop_to_nobody();
	}
	start = vm_counters();
	ASSERT_EQ(0, ioas_map_fixed(p->fd, p->ioas_id, p->buf, LEN, IOVA));
	ASSERT_EQ(0, ioas_copy(p->fd, p->second_ioas_id, IOVA, p->ioas_id,
			       IOVA, LEN));
	now = vm_counters();
	l = fd_ledger(p->fd);
	ASSERT_EQ(NPAGES, l.pinned);
	ASSERT_EQ(kb(LEN), now.pin_kb - start.pin_kb);
	ASSERT_EQ(kb(l.pinned * PAGE), now.pin_kb - start.pin_kb);
	if (charged_to_vmlck)
		ASSERT_EQ(kb(l.charged * PAGE), now.lck_kb - start.lck_kb);
	else
		ASSERT_EQ(start.lck_kb, now.lck_kb);
	ASSERT_EQ(p->expect_charged, l.charged);
	/* 64 pinned PFNs fit in one page-sized chunk. */
	ASSERT_EQ(PAGE, l.pfn_bytes);
	ASSERT_EQ(1, l.npayers);
	ASSERT_EQ(getpid(), l.payers[0].pid);
	ASSERT_EQ(getuid(), l.payers[0].uid);
	ASSERT_EQ(NPAGES, l.payers[0].pinned);
	ASSERT_EQ(p->expect_charged, l.payers[0].charged);
	if (as_nobody)
		ASSERT_ERRNO(ENOMEM, ioas_map_fixed(p->fd, p->ioas_id, extra,
						    PAGE, IOVA + LEN));

	ASSERT_EQ(0, ioas_unmap_range(p->fd, p->second_ioas_id, IOVA, LEN));
	ASSERT_EQ(NPAGES, fd_ledger(p->fd).pinned);
	ASSERT_EQ(0, ioas_unmap_range(p->fd, p->ioas_id, IOVA, LEN));
	l = fd_ledger(p->fd);
	ASSERT_EQ(0, l.pinned);
	ASSERT_EQ(0, l.charged);
	ASSERT_EQ(0, l.pfn_bytes);
	/* A payer is listed while it pays for a mapping, no longer. */
	ASSERT_TRUE(l.payer_none);
	ASSERT_EQ(0, l.npayers);
	if (as_nobody)
		ASSERT_EQ(0, ioas_map_fixed(p->fd, p->ioas_id, extra, PAGE,
					    IOVA + LEN));
	free_buffer(extra, PAGE);
}

static void map_as_nobody_charged_to_user(void *arg)
{
	map_and_compare(arg, true, false);
}

static void map_as_nobody_charged_to_vmlck(void *arg)
{
	map_and_compare(arg, true, true);
}

/* Per-user mode: charged to user->locked_vm, which shows nowhere else. */
TEST(user_mode_pins_match_vmpin_and_are_all_charged)
{
	struct pinning p = { .expect_charged = NPAGES };

	pinning_setup(&p, 0);
	REQUIRE_SELFTEST(p.fd);
	EXPECT_EQ(0, strcmp("user", fd_ledger(p.fd).mode));
	in_child(map_as_nobody_charged_to_user, &p);
	pinning_teardown(&p);
}

TEST(process_mode_charges_match_vmlck)
{
	struct pinning p = { .expect_charged = NPAGES };

	pinning_setup(&p, 1);
	REQUIRE_SELFTEST(p.fd);
	EXPECT_EQ(0, strcmp("process", fd_ledger(p.fd).mode));
	in_child(map_as_nobody_charged_to_vmlck, &p);
	pinning_teardown(&p);
}

/* CAP_IPC_LOCK: VmPin counts the pins, no RLIMIT_MEMLOCK counter does. */
TEST(a_cap_ipc_lock_mapper_pins_without_charge)
{
	struct pinning p = { .expect_charged = 0 };

	pinning_setup(&p, 0);
	REQUIRE_SELFTEST(p.fd);
	map_and_compare(&p, false, false);
	pinning_teardown(&p);
}

TEST(module_totals_follow_contexts_pins_and_pfn_storage)
{
	struct module_usage before, open2, pinned, after;
	struct pinning p = { 0 };
	int extra;

	REQUIRE_MODULE_USAGE(&before);
	pinning_setup(&p, 0);
	REQUIRE_SELFTEST(p.fd);
	extra = iommufd_open();
	ASSERT_TRUE(module_usage(&open2));
	EXPECT_EQ(before.contexts + 2, open2.contexts);
	EXPECT_EQ(before.pinned, open2.pinned);

	ASSERT_EQ(0, ioas_map_fixed(p.fd, p.ioas_id, p.buf, LEN, IOVA));
	ASSERT_TRUE(module_usage(&pinned));
	EXPECT_EQ(before.pinned + NPAGES, pinned.pinned);
	/* Root has CAP_IPC_LOCK: nothing charged. */
	EXPECT_EQ(before.charged, pinned.charged);
	EXPECT_EQ(before.pfn_bytes + PAGE, pinned.pfn_bytes);

	close(extra);
	pinning_teardown(&p);
	ASSERT_TRUE(module_usage(&after));
	EXPECT_EQ(before.contexts, after.contexts);
	EXPECT_EQ(before.pinned, after.pinned);
	EXPECT_EQ(before.charged, after.charged);
	EXPECT_EQ(before.pfn_bytes, after.pfn_bytes);
}

/* Totals of every user's pins are for root only, and never writable. */
TEST(module_totals_are_read_only)
{
	struct module_usage u;
	struct stat st;

	REQUIRE_MODULE_USAGE(&u);
	ASSERT_EQ(0, stat(IOMMUFD_USAGE_FILE, &st));
	EXPECT_EQ(0400, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

/* --- fdinfo while the context changes ------------------------------------ */

struct churn {
	int fd;
	uint8_t *buf;
	volatile bool stop;
	long rounds;
};

/* A mock device on @ioas_id; its id, whose destruction takes the domain. */
static uint32_t mock_device(int fd, uint32_t ioas_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas_id,
	};

	if (test_cmd(fd, &cmd))
		abort();
	return cmd.mock_domain.out_stdev_id;
}

/* IOAS come and go with a mock domain and a mapping each. */
static void *churn_main(void *arg)
{
	struct churn *c = arg;

	while (!c->stop) {
		uint32_t ioas_id = ioas_alloc(c->fd);
		uint32_t stdev_id = mock_device(c->fd, ioas_id);

		if (ioas_map_fixed(c->fd, ioas_id, c->buf, LEN, IOVA) ||
		    destroy(c->fd, stdev_id) || destroy(c->fd, ioas_id))
			abort();
		c->rounds++;
	}
	return NULL;
}

/*
 * Readers take the object counts and the payer list (under the ledger's
 * lock) while objects and payers come and go; under KASAN and lockdep
 * (the debug boot) this is the test of that.  Every snapshot must be
 * within what the churn can hold.
 */
TEST_TIMEOUT(fdinfo_is_consistent_while_objects_come_and_go, 60)
{
	struct churn c = { .fd = iommufd_open() };
	long reads = 0;
	pthread_t thread;
	double end;

	REQUIRE_SELFTEST(c.fd);
	c.buf = alloc_buffer(LEN);
	ASSERT_EQ(0, pthread_create(&thread, NULL, churn_main, &c));
	end = now_s() + 2;
	while (now_s() < end) {
		struct fd_ledger l = fd_ledger(c.fd);

		ASSERT_LE(0, l.ioas);
		ASSERT_GE(1, l.ioas);
		ASSERT_LE(0, l.pinned);
		ASSERT_GE(NPAGES, l.pinned);
		ASSERT_GE(PAGE, l.pfn_bytes);
		ASSERT_LE(0, l.pfn_bytes);
		reads++;
	}
	c.stop = true;
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TEST_LOG("%ld fdinfo reads during %ld map/unmap rounds", reads,
		 c.rounds);
	EXPECT_LT(0, c.rounds);
	EXPECT_EQ(0, fd_ledger(c.fd).pinned);
	EXPECT_EQ(0, fd_ledger(c.fd).ioas);
	close(c.fd);
	free_buffer(c.buf, LEN);
}

/*
 * MAP against UNMAP of everything, with fdinfo read meanwhile: an area is
 * unmapped (and its pages, with their payer entry, freed) the moment it
 * appears.  Nothing of a mapping may be touched after it is published;
 * KASAN in the debug boot would see it.
 */
struct map_unmap_race {
	int fd;
	uint32_t ioas_id;
	uint8_t *buf;
	volatile bool stop;
	long unmapped;
};

static void *unmap_all_main(void *arg)
{
	struct map_unmap_race *r = arg;

	while (!r->stop) {
		struct iommu_ioas_unmap cmd = {
			.size = sizeof(cmd),
			.ioas_id = r->ioas_id,
			.iova = 0,
			.length = UINT64_MAX,
		};

		if (!ioctl(r->fd, IOMMU_IOAS_UNMAP, &cmd) && cmd.length)
			r->unmapped++;
	}
	return NULL;
}

TEST_TIMEOUT(map_races_unmap_of_everything_while_fdinfo_reads, 60)
{
	struct map_unmap_race r = { .fd = iommufd_open() };
	long maps = 0;
	pthread_t thread;
	double end;

	REQUIRE_SELFTEST(r.fd);
	r.ioas_id = ioas_alloc(r.fd);
	ASSERT_EQ(0, mock_domain(r.fd, r.ioas_id, NULL));
	r.buf = alloc_buffer(LEN);
	ASSERT_EQ(0, pthread_create(&thread, NULL, unmap_all_main, &r));
	end = now_s() + 2;
	while (now_s() < end) {
		int rc = ioas_map_fixed(r.fd, r.ioas_id, r.buf, LEN, IOVA);

		/* EEXIST: the last one was not unmapped yet. */
		ASSERT_TRUE(rc == 0 || errno == EEXIST);
		maps += !rc;
		ASSERT_GE(1, fd_ledger(r.fd).npayers);
	}
	r.stop = true;
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TEST_LOG("%ld maps, %ld unmapped by the other thread", maps,
		 r.unmapped);
	EXPECT_LT(0, r.unmapped);
	close(r.fd);
	free_buffer(r.buf, LEN);
}

#ifdef IOMMU_IOAS_CHANGE_PROCESS

static void take_over_payment(void *arg)
{
	int fd = *(int *)arg;
	struct fd_ledger l;

	set_memlock_limit(LEN);
	drop_to_nobody();
	ASSERT_EQ(0, change_process(fd));
	l = fd_ledger(fd);
	ASSERT_EQ(1, l.npayers);
	ASSERT_EQ(getpid(), l.payers[0].pid);
	ASSERT_EQ(NOBODY, l.payers[0].uid);
	ASSERT_EQ(NPAGES, l.payers[0].pinned);
	/* nobody has no CAP_IPC_LOCK: its locked_vm pays now. */
	ASSERT_EQ(NPAGES, l.payers[0].charged);
	ASSERT_EQ(NPAGES, l.charged);
	/* The parent takes it back before it unmaps. */
}

/*
 * CHANGE_PROCESS moves the context's pins to the caller's entry, charge
 * included; the entry outlives the process (pid 0) while it pays, and
 * goes once another process takes the payment over.
 */
TEST(change_process_moves_pins_and_charge_between_payers)
{
	int fd = iommufd_open();
	uint32_t ioas_id = ioas_alloc(fd);
	int mfd = memfd_create("ledger", MFD_CLOEXEC);
	struct module_usage before, moved, back;
	bool totals;
	struct fd_ledger l;

	REQUIRE_SELFTEST(fd);
	totals = module_usage(&before);
	ASSERT_EQ(0, mock_domain(fd, ioas_id, NULL));
	ASSERT_LE(0, mfd);
	ASSERT_EQ(0, ftruncate(mfd, LEN));
	ASSERT_EQ(0, map_file_at(fd, ioas_id, mfd, LEN, IOVA));
	l = fd_ledger(fd);
	ASSERT_EQ(1, l.npayers);
	ASSERT_EQ(getpid(), l.payers[0].pid);
	ASSERT_EQ(NPAGES, l.payers[0].pinned);
	/* Root maps with CAP_IPC_LOCK: pinned, not charged. */
	ASSERT_EQ(0, l.payers[0].charged);

	in_child(take_over_payment, &fd);
	l = fd_ledger(fd);
	ASSERT_EQ(1, l.npayers);
	EXPECT_EQ(0, l.payers[0].pid);
	EXPECT_EQ(NOBODY, l.payers[0].uid);
	EXPECT_EQ(NPAGES, l.payers[0].charged);
	if (totals) {
		ASSERT_TRUE(module_usage(&moved));
		EXPECT_EQ(before.charged + NPAGES, moved.charged);
	}

	ASSERT_EQ(0, change_process(fd));
	l = fd_ledger(fd);
	ASSERT_EQ(1, l.npayers);
	EXPECT_EQ(getpid(), l.payers[0].pid);
	EXPECT_EQ(NPAGES, l.payers[0].pinned);
	EXPECT_EQ(0, l.payers[0].charged);
	EXPECT_EQ(0, l.charged);
	if (totals) {
		ASSERT_TRUE(module_usage(&back));
		EXPECT_EQ(before.charged, back.charged);
	}
	ASSERT_EQ(0, ioas_unmap_range(fd, ioas_id, IOVA, LEN));
	EXPECT_EQ(0, fd_ledger(fd).pinned);
	EXPECT_TRUE(fd_ledger(fd).payer_none);
	close(mfd);
	close(fd);
}

#endif

TEST_HARNESS_MAIN
