// SPDX-License-Identifier: GPL-2.0
/*
 * The harness testing itself, on the host: no kernel module involved.
 *
 * The last part of every case name says how the case must end: expect_pass_,
 * expect_fail_ or expect_skip_.  selftest_harness_check.sh runs this binary
 * and compares each TAP line with its name, so the cases below that fail are
 * meant to fail.
 */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "iommufd_harness.h"

TEST(expect_pass_with_no_checks)
{
}

TEST(expect_pass_comparisons_by_value_across_signedness)
{
	unsigned int big = UINT_MAX;
	int minus_one = -1;
	void *null = NULL;
	uint8_t small = 200;

	ASSERT_EQ(3, 3u);
	ASSERT_NE(minus_one, big);	/* C would call them equal */
	ASSERT_LT(minus_one, 0u);
	ASSERT_GT(big, minus_one);
	ASSERT_LE(small, 200);
	ASSERT_GE(small, -5);
	ASSERT_EQ(NULL, null);
	ASSERT_NE(NULL, (void *)&big);
	ASSERT_TRUE(big);
	ASSERT_FALSE(null);
	EXPECT_EQ(INT64_MIN, (int64_t)INT64_MIN);
	EXPECT_LT(INT64_MIN, UINT64_MAX);
}

TEST(expect_pass_errno_checks)
{
	ASSERT_ERRNO(ENOENT, open("/nonexistent/file", O_RDONLY));
	ASSERT_ERRNO(EBADF, close(-1));
	EXPECT_ERRNO(EINVAL, (intptr_t)mmap(NULL, 0, PROT_READ,
					    MAP_PRIVATE | MAP_ANONYMOUS,
					    -1, 0));
}

TEST(expect_fail_assert_eq)
{
	int seen = 2;

	ASSERT_EQ(1, seen);
	TEST_LOG("not reached after a failed ASSERT");
	_exit(3);
}

TEST(expect_fail_errno_differs)
{
	ASSERT_ERRNO(EINVAL, close(-1));
}

TEST(expect_fail_errno_when_the_call_succeeds)
{
	ASSERT_ERRNO(ENOENT, getpid());
}

TEST(expect_fail_expect_goes_on)
{
	EXPECT_EQ(1, 2);
	TEST_LOG("reached after a failed EXPECT");
}

TEST(expect_skip_with_a_reason)
{
	SKIP("no such hardware (%d)", 42);
	TEST_LOG("not reached after SKIP");
	_exit(3);
}

TEST(expect_fail_on_segfault)
{
	volatile uintptr_t address = 8;

	*(volatile int *)address = 1;
}

TEST(expect_fail_on_abort)
{
	abort();
}

TEST_TIMEOUT(expect_fail_on_hang, 1)
{
	for (;;)
		pause();
}

TEST(expect_fail_on_exit_before_the_end)
{
	exit(0);
}

static void *lock_one_page(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mlock(p, page));
	return p;
}

TEST(expect_fail_on_locked_memory_left_behind)
{
	lock_one_page();
}

TEST(expect_pass_on_locked_memory_given_back)
{
	ASSERT_EQ(0, munlock(lock_one_page(), sysconf(_SC_PAGESIZE)));
}

FIXTURE(counter)
{
	int value;
};

FIXTURE_VARIANT(counter)
{
	int start;
};

FIXTURE_VARIANT_ADD(counter, one)
{
	.start = 1,
};

FIXTURE_VARIANT_ADD(counter, two)
{
	.start = 2,
};

FIXTURE_SETUP(counter)
{
	self->value = variant->start;
}

FIXTURE_TEARDOWN(counter)
{
	TEST_LOG("teardown of counter ran with value %d", self->value);
}

TEST_F(counter, expect_pass_setup_saw_the_variant)
{
	ASSERT_EQ(variant->start, self->value);
}

TEST_F(counter, expect_fail_teardown_still_runs_after_assert)
{
	self->value = 99;
	ASSERT_EQ(0, self->value);
}

FIXTURE(skipping_setup)
{
	int unused;
};

FIXTURE_SETUP(skipping_setup)
{
	SKIP("setup decided to skip");
}

FIXTURE_TEARDOWN(skipping_setup)
{
	/* Must not run after a skipped setup. */
	ASSERT_TRUE(0);
}

TEST_F(skipping_setup, expect_skip_from_setup)
{
	ASSERT_TRUE(0);
}

FIXTURE(failing_teardown)
{
	int unused;
};

FIXTURE_SETUP(failing_teardown)
{
}

FIXTURE_TEARDOWN(failing_teardown)
{
	ASSERT_EQ(0, 1);
}

TEST_F(failing_teardown, expect_fail_from_teardown)
{
}

FIXTURE(keeps_pages_locked)
{
	int unused;
};

FIXTURE_NO_ACCOUNTING_CHECK(keeps_pages_locked)

FIXTURE_SETUP(keeps_pages_locked)
{
}

FIXTURE_TEARDOWN(keeps_pages_locked)
{
}

TEST_F(keeps_pages_locked, expect_pass_when_opted_out_of_accounting)
{
	lock_one_page();
}

static void *assert_fails(void *arg)
{
	(void)arg;
	ASSERT_EQ(1, 2);
	return NULL;
}

static void *expect_fails(void *arg)
{
	(void)arg;
	EXPECT_EQ(1, 2);
	return NULL;
}

TEST(expect_fail_assert_in_a_thread)
{
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, assert_fails, NULL));
	pthread_join(thread, NULL);
	pause();	/* the failed ASSERT ends the whole process */
}

TEST(expect_fail_expect_in_a_thread)
{
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, expect_fails, NULL));
	ASSERT_EQ(0, pthread_join(thread, NULL));
}

static int run_in_child(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	ASSERT_NE(-1, pid);
	if (pid == 0) {
		fn();
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	return status;
}

static void child_passes(void)
{
	ASSERT_EQ(1, 1);
}

static void child_expect_fails(void)
{
	EXPECT_EQ(1, 2);
}

static void child_assert_fails(void)
{
	ASSERT_EQ(1, 2);
}

TEST(expect_pass_child_process_passes)
{
	ASSERT_EQ(0, run_in_child(child_passes));
}

TEST(expect_fail_expect_in_a_child_process)
{
	ASSERT_EQ(0, run_in_child(child_expect_fails));
}

TEST(expect_fail_assert_in_a_child_process)
{
	int status = run_in_child(child_assert_fails);

	/* The child ended with _exit(1); the failure is recorded anyway. */
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(1, WEXITSTATUS(status));
}

TEST(expect_pass_leftover_grandchild_does_not_hold_the_harness)
{
	pid_t pid = fork();

	ASSERT_NE(-1, pid);
	if (pid == 0) {
		for (;;)
			pause();
	}
}

TEST_HARNESS_MAIN
