/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufd_harness.h - a small kselftest-style test harness, header only.
 *
 * A suite is one C file that includes this header, declares its tests and
 * ends with TEST_HARNESS_MAIN.  Every test case runs in its own forked child
 * with a timeout, so a crash or a hang fails only that case; the parent
 * prints TAP version 13 on stdout and exits 1 if any case failed.
 *
 *	TEST(name) { ... }
 *	TEST_TIMEOUT(name, seconds) { ... }
 *
 *	FIXTURE(fx) { int fd; };		the per-case state, as "self"
 *	FIXTURE_VARIANT(fx) { int n; };		optional per-variant constants
 *	FIXTURE_VARIANT_ADD(fx, two) { .n = 2 };	one body run per variant
 *	FIXTURE_SETUP(fx) { self->fd = ...; }	self and variant in scope
 *	FIXTURE_TEARDOWN(fx) { close(self->fd); }
 *	FIXTURE_NO_ACCOUNTING_CHECK(fx)		opt out of the VmPin/VmLck check
 *	TEST_F(fx, name) { ... }		self and variant in scope
 *	TEST_F_TIMEOUT(fx, name, seconds) { ... }
 *
 *	TEST_HARNESS_MAIN
 *
 * Case names are "test", "fixture.test" or "fixture.variant.test".  Cases
 * run in source order; a fixture's variants in source order too.
 *
 * Checks, usable in setup, body, teardown and any function they call:
 *	ASSERT_EQ/NE/LT/GT/LE/GE(a, b)	integers or pointers; compared by
 *					value whatever their signedness
 *	ASSERT_TRUE(x), ASSERT_FALSE(x)
 *	ASSERT_ERRNO(expected_errno, expr)	expr == -1 and errno == expected
 *	EXPECT_*			the same, but the case goes on
 *	SKIP(fmt, ...)			end the case as skipped (TAP "# SKIP")
 *	TEST_LOG(fmt, ...)		a "# " diagnostic line
 * A failed ASSERT ends the current stage: teardown still runs when setup
 * had completed.  Teardown never runs after a failed or skipped setup, so
 * a setup cleans up after itself before it fails or skips.
 *
 * Accounting: unless the fixture opted out, the child reads VmPin and VmLck
 * from /proc/self/status before setup and again after teardown (when the
 * case has closed its file descriptors) and fails the case if either moved.
 *
 * Threads and children of a case: an EXPECT failure anywhere is recorded
 * (the record lives in shared memory); an ASSERT failure or SKIP outside
 * the case's own thread ends that process with _exit(1), so the case's
 * main thread must wait for its children and check their exit status.  A
 * child process forked by a case must end with _exit(), never by returning
 * into the harness.
 *
 * Command line: -l lists the case names; -t TEXT runs only the cases whose
 * name contains TEXT (repeatable, any match selects); -T N multiplies every
 * timeout by N (slow emulators).
 */
#ifndef IOMMUFD_HARNESS_H
#define IOMMUFD_HARNESS_H

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>

#define IH_DEFAULT_TIMEOUT_S	30
/* How long a killed case may take to die before we give up on reaping it. */
#define IH_KILL_GRACE_S		10
/* Cases slower than this say so, for fitting the runs into their budget. */
#define IH_SLOW_CASE_S		2

#define IH_UNUSED		__attribute__((unused))

/* Diagnostics name the source file without the build's directories. */
#ifdef __FILE_NAME__
#define IH_FILE			__FILE_NAME__
#else
#define IH_FILE			__FILE__
#endif

/* ------------------------------------------------------------------------
 * Registry: filled by constructors before main(), read by ih_main().
 */

struct ih_variant {
	const char *name;
	const void *data;
	int line;
	struct ih_variant *next;
};

struct ih_fixture {
	const char *name;
	void (*setup)(void *self, const void *variant);
	void (*teardown)(void *self, const void *variant);
	bool no_accounting_check;
	struct ih_variant *variants;	/* in source order */
};

struct ih_test {
	const char *name;
	struct ih_fixture *fixture;	/* NULL for TEST() */
	size_t self_size;
	void (*body)(void *self, const void *variant);
	unsigned int timeout_s;
	int line;
	struct ih_test *next;		/* in source order */
};

static struct ih_test *ih_tests IH_UNUSED;

/* Keep source order whatever order the constructors run in. */
static IH_UNUSED void ih_register_test(struct ih_test *test)
{
	struct ih_test **pos = &ih_tests;

	while (*pos && (*pos)->line <= test->line)
		pos = &(*pos)->next;
	test->next = *pos;
	*pos = test;
}

static IH_UNUSED void ih_register_variant(struct ih_fixture *fixture,
					  struct ih_variant *variant)
{
	struct ih_variant **pos = &fixture->variants;

	while (*pos && (*pos)->line <= variant->line)
		pos = &(*pos)->next;
	variant->next = *pos;
	*pos = variant;
}

/* ------------------------------------------------------------------------
 * Declaring tests and fixtures.
 */

#define FIXTURE_DATA(fx)	struct ih__data_##fx
#define FIXTURE_VARIANT(fx)	struct ih__variant_##fx

#define FIXTURE(fx)							\
	FIXTURE_VARIANT(fx);						\
	FIXTURE_DATA(fx);						\
	static void ih__setup_any_##fx(void *self, const void *variant);\
	static void ih__teardown_any_##fx(void *self,			\
					  const void *variant);		\
	static struct ih_fixture ih__fixture_##fx = {			\
		.name = #fx,						\
		.setup = ih__setup_any_##fx,				\
		.teardown = ih__teardown_any_##fx,			\
	};								\
	FIXTURE_DATA(fx)

#define FIXTURE_SETUP(fx)						\
	static void ih__setup_##fx(FIXTURE_DATA(fx) *self,		\
				   const FIXTURE_VARIANT(fx) *variant);	\
	static void ih__setup_any_##fx(void *self, const void *variant)	\
	{								\
		ih__setup_##fx(self, variant);				\
	}								\
	static void ih__setup_##fx(IH_UNUSED FIXTURE_DATA(fx) *self,	\
				   IH_UNUSED const FIXTURE_VARIANT(fx) *variant)

#define FIXTURE_TEARDOWN(fx)						\
	static void ih__teardown_##fx(FIXTURE_DATA(fx) *self,		\
				      const FIXTURE_VARIANT(fx) *variant);\
	static void ih__teardown_any_##fx(void *self,			\
					  const void *variant)		\
	{								\
		ih__teardown_##fx(self, variant);			\
	}								\
	static void ih__teardown_##fx(IH_UNUSED FIXTURE_DATA(fx) *self,	\
				      IH_UNUSED const FIXTURE_VARIANT(fx) *variant)

/* Usage: FIXTURE_VARIANT_ADD(fx, name) { .field = value, ... }; */
#define FIXTURE_VARIANT_ADD(fx, vname)					\
	static const FIXTURE_VARIANT(fx) ih__variant_##fx##__##vname;	\
	static struct ih_variant ih__variant_rec_##fx##__##vname = {	\
		.name = #vname,						\
		.data = &ih__variant_##fx##__##vname,			\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	ih__register_variant_##fx##__##vname(void)			\
	{								\
		ih_register_variant(&ih__fixture_##fx,			\
				    &ih__variant_rec_##fx##__##vname);	\
	}								\
	static const FIXTURE_VARIANT(fx) ih__variant_##fx##__##vname =

/* For fixtures whose cases deliberately leave pages pinned or locked. */
#define FIXTURE_NO_ACCOUNTING_CHECK(fx)					\
	static void __attribute__((constructor))			\
	ih__no_accounting_##fx(void)					\
	{								\
		ih__fixture_##fx.no_accounting_check = true;		\
	}

#define TEST_F_TIMEOUT(fx, tname, seconds)				\
	static void ih__body_##fx##__##tname(				\
		FIXTURE_DATA(fx) *self,					\
		const FIXTURE_VARIANT(fx) *variant);			\
	static void ih__body_any_##fx##__##tname(void *self,		\
						 const void *variant)	\
	{								\
		ih__body_##fx##__##tname(self, variant);		\
	}								\
	static struct ih_test ih__test_##fx##__##tname = {		\
		.name = #tname,						\
		.fixture = &ih__fixture_##fx,				\
		.self_size = sizeof(FIXTURE_DATA(fx)),			\
		.body = ih__body_any_##fx##__##tname,			\
		.timeout_s = (seconds),					\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	ih__register_##fx##__##tname(void)				\
	{								\
		ih_register_test(&ih__test_##fx##__##tname);		\
	}								\
	static void ih__body_##fx##__##tname(				\
		IH_UNUSED FIXTURE_DATA(fx) *self,			\
		IH_UNUSED const FIXTURE_VARIANT(fx) *variant)

#define TEST_F(fx, tname)	TEST_F_TIMEOUT(fx, tname, IH_DEFAULT_TIMEOUT_S)

#define TEST_TIMEOUT(tname, seconds)					\
	static void ih__body_##tname(void);				\
	static void ih__body_any_##tname(void *self,			\
					 const void *variant)		\
	{								\
		(void)self;						\
		(void)variant;						\
		ih__body_##tname();					\
	}								\
	static struct ih_test ih__test_##tname = {			\
		.name = #tname,						\
		.body = ih__body_any_##tname,				\
		.timeout_s = (seconds),					\
		.line = __LINE__,					\
	};								\
	static void __attribute__((constructor))			\
	ih__register_##tname(void)					\
	{								\
		ih_register_test(&ih__test_##tname);			\
	}								\
	static void ih__body_##tname(void)

#define TEST(tname)		TEST_TIMEOUT(tname, IH_DEFAULT_TIMEOUT_S)

/* ------------------------------------------------------------------------
 * State of the running case, in the child.
 */

/* Written by the case (and its threads and children), read by the parent. */
struct ih_shared {
	int failed;
	int skipped;
	int finished;		/* the case's process got to the end */
	char skip_reason[200];
};

struct ih_metadata {
	pid_t pid;		/* the case's process */
	pthread_t thread;	/* its main thread: the only one that unwinds */
	struct ih_shared *shared;
	bool setup_done;
	bool teardown_started;
	sigjmp_buf env;
};

static struct ih_metadata *ih_current IH_UNUSED;

static IH_UNUSED __attribute__((format(printf, 1, 2)))
void ih_diag(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	char *nl;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	/* Every line of a diagnostic must start with '#' to stay TAP. */
	for (char *start = line;; start = nl + 1) {
		nl = strchr(start, '\n');
		if (nl)
			*nl = '\0';
		printf("# %s\n", start);
		if (!nl)
			break;
	}
	fflush(stdout);
}

static IH_UNUSED void ih_mark_failed(void)
{
	if (!ih_current) {
		ih_diag("harness: a check failed outside any test");
		abort();
	}
	__atomic_store_n(&ih_current->shared->failed, 1, __ATOMIC_SEQ_CST);
}

static IH_UNUSED bool ih_in_case_thread(void)
{
	return getpid() == ih_current->pid &&
	       pthread_equal(pthread_self(), ih_current->thread);
}

/* Leave the current stage after a failed ASSERT. */
static IH_UNUSED __attribute__((noreturn)) void ih_bail(void)
{
	fflush(stdout);
	if (!ih_in_case_thread())
		_exit(1);
	siglongjmp(ih_current->env, 1);
}

static IH_UNUSED const char *ih_errno_name(int err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
#define IH_ERRNO(e) { e, #e }
		IH_ERRNO(EPERM), IH_ERRNO(ENOENT), IH_ERRNO(ESRCH),
		IH_ERRNO(EINTR), IH_ERRNO(EIO), IH_ERRNO(ENXIO),
		IH_ERRNO(E2BIG), IH_ERRNO(EBADF), IH_ERRNO(ECHILD),
		IH_ERRNO(EAGAIN), IH_ERRNO(ENOMEM), IH_ERRNO(EACCES),
		IH_ERRNO(EFAULT), IH_ERRNO(EBUSY), IH_ERRNO(EEXIST),
		IH_ERRNO(ENODEV), IH_ERRNO(EINVAL), IH_ERRNO(ENFILE),
		IH_ERRNO(EMFILE), IH_ERRNO(ENOTTY), IH_ERRNO(ENOSPC),
		IH_ERRNO(ERANGE), IH_ERRNO(EDEADLK), IH_ERRNO(ENOSYS),
		IH_ERRNO(EBADFD), IH_ERRNO(EMSGSIZE), IH_ERRNO(EOPNOTSUPP),
		IH_ERRNO(EADDRINUSE), IH_ERRNO(ETIMEDOUT), IH_ERRNO(EOVERFLOW),
		IH_ERRNO(EDOM), IH_ERRNO(ENOLCK), IH_ERRNO(ENOTSOCK),
#undef IH_ERRNO
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return "E?";
}

static IH_UNUSED void ih_format_value(char *buf, size_t len, int is_signed,
				      uintmax_t value)
{
	if (is_signed && (intmax_t)value < 0)
		snprintf(buf, len, "%jd", (intmax_t)value);
	else if (value > 9)
		snprintf(buf, len, "%ju (0x%jx)", value, value);
	else
		snprintf(buf, len, "%ju", value);
}

/* Compare two integers by value, whatever their types' signedness. */
static IH_UNUSED int ih_compare(int a_signed, uintmax_t a,
				int b_signed, uintmax_t b)
{
	bool a_negative = a_signed && (intmax_t)a < 0;
	bool b_negative = b_signed && (intmax_t)b < 0;

	if (a_negative != b_negative)
		return a_negative ? -1 : 1;
	if (a_negative)
		return ((intmax_t)a > (intmax_t)b) - ((intmax_t)a < (intmax_t)b);
	return (a > b) - (a < b);
}

/* "  text = value", unless the text already says the value (a literal). */
static IH_UNUSED void ih_show_value(const char *text, int is_signed,
				    uintmax_t value)
{
	char shown[64];

	ih_format_value(shown, sizeof(shown), is_signed, value);
	if (strcmp(text, shown) != 0)
		ih_diag("  %s = %s", text, shown);
}

static IH_UNUSED void ih_report_compare(const char *file, int line,
					const char *macro,
					const char *a_text, const char *b_text,
					int a_signed, uintmax_t a,
					int b_signed, uintmax_t b)
{
	ih_diag("%s:%d: %s(%s, %s) failed", file, line, macro, a_text, b_text);
	ih_show_value(a_text, a_signed, a);
	ih_show_value(b_text, b_signed, b);
	ih_mark_failed();
}

static IH_UNUSED void ih_report_truth(const char *file, int line,
				      const char *macro, const char *text,
				      int is_signed, uintmax_t value)
{
	ih_diag("%s:%d: %s(%s) failed", file, line, macro, text);
	ih_show_value(text, is_signed, value);
	ih_mark_failed();
}

static IH_UNUSED void ih_report_errno(const char *file, int line,
				      const char *macro,
				      const char *errno_text, const char *text,
				      int expected, long ret, int err)
{
	ih_diag("%s:%d: %s(%s, %s) failed\n"
		"  expected: -1 with errno %s (%d: %s)",
		file, line, macro, errno_text, text,
		ih_errno_name(expected), expected, strerror(expected));
	if (err)
		ih_diag("  got:      %ld with errno %s (%d: %s)", ret,
			ih_errno_name(err), err, strerror(err));
	else
		ih_diag("  got:      %ld with errno unset", ret);
	ih_mark_failed();
}

static IH_UNUSED __attribute__((noreturn, format(printf, 3, 4)))
void ih_skip(const char *file, int line, const char *fmt, ...)
{
	struct ih_shared *shared = ih_current->shared;
	va_list ap;

	if (!ih_in_case_thread()) {
		ih_diag("%s:%d: SKIP outside the case's main thread", file,
			line);
		ih_mark_failed();
		ih_bail();
	}
	va_start(ap, fmt);
	vsnprintf(shared->skip_reason, sizeof(shared->skip_reason), fmt, ap);
	va_end(ap);
	for (char *c = shared->skip_reason; *c; c++)
		if (*c == '\n' || *c == '#')
			*c = ' ';
	shared->skipped = 1;
	ih_bail();
}

/* ------------------------------------------------------------------------
 * Checks.
 */

#define IH_IS_SIGNED(x)							\
	_Generic((x), signed char: 1, short: 1, int: 1, long: 1,	\
		 long long: 1, char: (CHAR_MIN < 0), default: 0)

/*
 * The expression texts are taken by the user-facing macros, before their
 * arguments are macro-expanded: a failure shows "ENOENT", not "2".
 */
#define IH_COMPARE(bail, macro, op, a, b, a_text, b_text)		\
	do {								\
		__typeof__(a) ih__a = (a);				\
		__typeof__(b) ih__b = (b);				\
		int ih__a_signed = IH_IS_SIGNED(ih__a);			\
		int ih__b_signed = IH_IS_SIGNED(ih__b);			\
									\
		if (!(ih_compare(ih__a_signed, (uintmax_t)ih__a,	\
				 ih__b_signed, (uintmax_t)ih__b) op 0)) {\
			ih_report_compare(IH_FILE, __LINE__, macro,	\
					  a_text, b_text,		\
					  ih__a_signed, (uintmax_t)ih__a,\
					  ih__b_signed, (uintmax_t)ih__b);\
			if (bail)					\
				ih_bail();				\
		}							\
	} while (0)

#define IH_TRUTH(bail, macro, want, x, x_text)				\
	do {								\
		__typeof__(x) ih__x = (x);				\
									\
		if (!ih__x != !(want)) {				\
			ih_report_truth(IH_FILE, __LINE__, macro, x_text,\
					IH_IS_SIGNED(ih__x),		\
					(uintmax_t)ih__x);		\
			if (bail)					\
				ih_bail();				\
		}							\
	} while (0)

#define IH_ERRNO_CHECK(bail, macro, expected_errno, expr, errno_text,	\
		       expr_text)					\
	do {								\
		int ih__want = (expected_errno);			\
		long ih__ret;						\
		int ih__err;						\
									\
		errno = 0;						\
		ih__ret = (long)(expr);					\
		ih__err = errno;					\
		if (ih__ret != -1 || ih__err != ih__want) {		\
			ih_report_errno(IH_FILE, __LINE__, macro,	\
					errno_text, expr_text,		\
					ih__want, ih__ret, ih__err);	\
			if (bail)					\
				ih_bail();				\
		}							\
	} while (0)

#define ASSERT_EQ(a, b)	IH_COMPARE(1, "ASSERT_EQ", ==, a, b, #a, #b)
#define ASSERT_NE(a, b)	IH_COMPARE(1, "ASSERT_NE", !=, a, b, #a, #b)
#define ASSERT_LT(a, b)	IH_COMPARE(1, "ASSERT_LT", <, a, b, #a, #b)
#define ASSERT_GT(a, b)	IH_COMPARE(1, "ASSERT_GT", >, a, b, #a, #b)
#define ASSERT_LE(a, b)	IH_COMPARE(1, "ASSERT_LE", <=, a, b, #a, #b)
#define ASSERT_GE(a, b)	IH_COMPARE(1, "ASSERT_GE", >=, a, b, #a, #b)
#define ASSERT_TRUE(x)	IH_TRUTH(1, "ASSERT_TRUE", 1, x, #x)
#define ASSERT_FALSE(x)	IH_TRUTH(1, "ASSERT_FALSE", 0, x, #x)
#define ASSERT_ERRNO(e, expr)						\
	IH_ERRNO_CHECK(1, "ASSERT_ERRNO", e, expr, #e, #expr)

#define EXPECT_EQ(a, b)	IH_COMPARE(0, "EXPECT_EQ", ==, a, b, #a, #b)
#define EXPECT_NE(a, b)	IH_COMPARE(0, "EXPECT_NE", !=, a, b, #a, #b)
#define EXPECT_LT(a, b)	IH_COMPARE(0, "EXPECT_LT", <, a, b, #a, #b)
#define EXPECT_GT(a, b)	IH_COMPARE(0, "EXPECT_GT", >, a, b, #a, #b)
#define EXPECT_LE(a, b)	IH_COMPARE(0, "EXPECT_LE", <=, a, b, #a, #b)
#define EXPECT_GE(a, b)	IH_COMPARE(0, "EXPECT_GE", >=, a, b, #a, #b)
#define EXPECT_TRUE(x)	IH_TRUTH(0, "EXPECT_TRUE", 1, x, #x)
#define EXPECT_FALSE(x)	IH_TRUTH(0, "EXPECT_FALSE", 0, x, #x)
#define EXPECT_ERRNO(e, expr)						\
	IH_ERRNO_CHECK(0, "EXPECT_ERRNO", e, expr, #e, #expr)

#define SKIP(fmt, ...)		ih_skip(IH_FILE, __LINE__, fmt, ##__VA_ARGS__)
#define TEST_LOG(fmt, ...)						\
	ih_diag("%s:%d: " fmt, IH_FILE, __LINE__, ##__VA_ARGS__)

/*
 * A kernel the runner told us is slow (the debug kernel: TEST_TIMEOUT_SCALE
 * above 1).  Only cases whose point is scale, not a code path of their
 * own, may leave it out, and they say so in their SKIP.
 */
static IH_UNUSED bool ih_slow_kernel(void)
{
	const char *scale = getenv("TEST_TIMEOUT_SCALE");

	return scale && atoi(scale) > 1;
}

/* ------------------------------------------------------------------------
 * Running one case: the child side.
 */

struct ih_case {
	const struct ih_test *test;
	const struct ih_variant *variant;	/* NULL: no variants */
	char name[256];
};

struct ih_accounting {
	long vm_pin_kb;
	long vm_lck_kb;
};

static IH_UNUSED bool ih_read_accounting(struct ih_accounting *acct)
{
	char line[256];
	int found = 0;
	FILE *status;

	status = fopen("/proc/self/status", "re");
	if (!status)
		return false;
	while (fgets(line, sizeof(line), status)) {
		if (sscanf(line, "VmPin: %ld kB", &acct->vm_pin_kb) == 1)
			found |= 1;
		else if (sscanf(line, "VmLck: %ld kB", &acct->vm_lck_kb) == 1)
			found |= 2;
	}
	fclose(status);
	return found == 3;
}

/*
 * Setup, body, teardown.  A failed ASSERT or a SKIP jumps back here; state
 * that must survive the jump lives in *ih_current, not in locals.
 */
static IH_UNUSED void ih_run_stages(const struct ih_test *test,
				    const void *variant, void *self)
{
	const struct ih_fixture *fixture = test->fixture;

	if (sigsetjmp(ih_current->env, 0) == 0) {
		if (fixture)
			fixture->setup(self, variant);
		ih_current->setup_done = true;
		test->body(self, variant);
	}
	if (fixture && ih_current->setup_done &&
	    !ih_current->teardown_started) {
		ih_current->teardown_started = true;
		if (sigsetjmp(ih_current->env, 0) == 0)
			fixture->teardown(self, variant);
	}
}

static IH_UNUSED __attribute__((noreturn))
void ih_child(const struct ih_case *tcase, struct ih_shared *shared,
	      pid_t harness_pid)
{
	static struct ih_metadata metadata;
	const struct ih_test *test = tcase->test;
	struct ih_accounting before, after;
	bool check_accounting;
	sigset_t none;
	void *self;

	/* Own process group, so a timeout also kills what the case forked. */
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != harness_pid)
		_exit(1);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	metadata.pid = getpid();
	metadata.thread = pthread_self();
	metadata.shared = shared;
	ih_current = &metadata;

	check_accounting = !(test->fixture &&
			     test->fixture->no_accounting_check);
	if (check_accounting && !ih_read_accounting(&before)) {
		ih_diag("cannot read VmPin/VmLck from /proc/self/status: no accounting check");
		check_accounting = false;
	}

	self = calloc(1, test->self_size ? test->self_size : 1);
	if (!self) {
		ih_diag("harness: out of memory");
		_exit(1);
	}
	ih_run_stages(test, tcase->variant ? tcase->variant->data : NULL,
		      self);

	if (check_accounting && metadata.setup_done) {
		if (!ih_read_accounting(&after)) {
			ih_diag("cannot read VmPin/VmLck after teardown");
			ih_mark_failed();
		} else if (after.vm_pin_kb != before.vm_pin_kb ||
			   after.vm_lck_kb != before.vm_lck_kb) {
			ih_diag("accounting leak: VmPin %ld kB -> %ld kB, VmLck %ld kB -> %ld kB",
				before.vm_pin_kb, after.vm_pin_kb,
				before.vm_lck_kb, after.vm_lck_kb);
			ih_mark_failed();
		}
	}
	free(self);

	__atomic_store_n(&shared->finished, 1, __ATOMIC_SEQ_CST);
	fflush(stdout);
	fflush(stderr);
	_exit(0);
}

/* ------------------------------------------------------------------------
 * Running one case: the parent side.
 */

enum ih_result { IH_PASS, IH_FAIL, IH_SKIP };

static volatile sig_atomic_t ih_running_pgid;

/* ^C or a runner's SIGTERM must not leave a case running on its own. */
static IH_UNUSED void ih_on_signal(int sig)
{
	if (ih_running_pgid > 0)
		kill(-ih_running_pgid, SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

static IH_UNUSED double ih_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* SIGCHLD is blocked in the harness, so it stays pending until we look. */
static IH_UNUSED bool ih_wait_child(pid_t pid, int *status, double seconds)
{
	double deadline = ih_now() + seconds;
	sigset_t sigchld;

	sigemptyset(&sigchld);
	sigaddset(&sigchld, SIGCHLD);
	for (;;) {
		pid_t ret = waitpid(pid, status, WNOHANG);
		double left;

		if (ret == pid)
			return true;
		if (ret < 0 && errno != EINTR) {
			ih_diag("harness: waitpid: %s", strerror(errno));
			*status = -1;
			return true;
		}
		left = deadline - ih_now();
		if (left <= 0)
			return false;
		if (left > 1)
			left = 1;
		struct timespec ts = {
			.tv_sec = (time_t)left,
			.tv_nsec = (long)((left - (time_t)left) * 1e9),
		};
		sigtimedwait(&sigchld, NULL, &ts);
	}
}

static IH_UNUSED enum ih_result ih_run_case(const struct ih_case *tcase,
					    unsigned int timeout_scale,
					    char *skip_reason,
					    size_t skip_reason_len)
{
	unsigned int timeout_s = tcase->test->timeout_s * timeout_scale;
	pid_t harness_pid = getpid();
	double started = ih_now();
	enum ih_result result;
	struct ih_shared *shared;
	int status = 0;
	pid_t pid;

	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		ih_diag("harness: mmap: %s", strerror(errno));
		return IH_FAIL;
	}

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		ih_diag("harness: fork: %s", strerror(errno));
		munmap(shared, sizeof(*shared));
		return IH_FAIL;
	}
	if (pid == 0)
		ih_child(tcase, shared, harness_pid);

	setpgid(pid, pid);	/* the child does it too; whoever is first */
	ih_running_pgid = pid;

	if (!ih_wait_child(pid, &status, timeout_s)) {
		ih_diag("%s: timed out after %u s, killed", tcase->name,
			timeout_s);
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		if (!ih_wait_child(pid, &status, IH_KILL_GRACE_S))
			ih_diag("%s: still alive %d s after SIGKILL (stuck in the kernel?), left behind",
				tcase->name, IH_KILL_GRACE_S);
		result = IH_FAIL;
	} else if (status == -1) {
		result = IH_FAIL;
	} else if (WIFSIGNALED(status)) {
		ih_diag("%s: killed by signal %d (%s)", tcase->name,
			WTERMSIG(status), strsignal(WTERMSIG(status)));
		result = IH_FAIL;
	} else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
		   !shared->finished) {
		ih_diag("%s: exited with status %d before the test finished",
			tcase->name,
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		result = IH_FAIL;
	} else if (shared->failed) {
		result = IH_FAIL;
	} else if (shared->skipped) {
		result = IH_SKIP;
	} else {
		result = IH_PASS;
	}

	/* Whatever the case forked and left running goes with it. */
	kill(-pid, SIGKILL);
	ih_running_pgid = 0;

	/* Where a suite's time goes, for fitting the runs into their budget. */
	if (ih_now() - started >= IH_SLOW_CASE_S)
		ih_diag("%s: took %.1f s", tcase->name, ih_now() - started);

	snprintf(skip_reason, skip_reason_len, "%s", shared->skip_reason);
	munmap(shared, sizeof(*shared));
	return result;
}

/* ------------------------------------------------------------------------
 * main(): select, list or run the cases.
 */

static IH_UNUSED void ih_usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [-l] [-t TEXT]... [-T N]\n"
		"  -l       list the test case names and exit\n"
		"  -t TEXT  run only cases whose name contains TEXT (repeatable)\n"
		"  -T N     multiply every timeout by N (default: $TEST_TIMEOUT_SCALE or 1)\n",
		argv0);
}

static IH_UNUSED bool ih_selected(const char *name, char **filters,
				  int nfilters)
{
	if (!nfilters)
		return true;
	for (int i = 0; i < nfilters; i++)
		if (strstr(name, filters[i]))
			return true;
	return false;
}

/* Expand tests x variants into cases; returns how many were written. */
static IH_UNUSED size_t ih_build_cases(struct ih_case *cases, char **filters,
				       int nfilters)
{
	size_t ncases = 0;

	for (const struct ih_test *test = ih_tests; test; test = test->next) {
		const struct ih_fixture *fixture = test->fixture;
		const struct ih_variant *variant =
			fixture ? fixture->variants : NULL;

		do {
			struct ih_case tcase = {
				.test = test,
				.variant = variant,
			};

			if (!fixture)
				snprintf(tcase.name, sizeof(tcase.name), "%s",
					 test->name);
			else if (!variant)
				snprintf(tcase.name, sizeof(tcase.name),
					 "%s.%s", fixture->name, test->name);
			else
				snprintf(tcase.name, sizeof(tcase.name),
					 "%s.%s.%s", fixture->name,
					 variant->name, test->name);
			if (ih_selected(tcase.name, filters, nfilters)) {
				if (cases)
					cases[ncases] = tcase;
				ncases++;
			}
			variant = variant ? variant->next : NULL;
		} while (variant);
	}
	return ncases;
}

static IH_UNUSED int ih_main(int argc, char **argv)
{
	unsigned int passed = 0, failed = 0, skipped = 0;
	/* The runner scales every timeout on slow (debug) kernels. */
	const char *scale_env = getenv("TEST_TIMEOUT_SCALE");
	unsigned int timeout_scale = scale_env ? atoi(scale_env) : 1;
	struct ih_case *cases;
	bool list = false;
	int nfilters = 0;
	char **filters;
	sigset_t sigchld;
	size_t ncases;
	int opt;

	if (timeout_scale < 1 || timeout_scale > 1000)
		timeout_scale = 1;
	filters = calloc(argc, sizeof(*filters));
	if (!filters)
		return 2;
	while ((opt = getopt(argc, argv, "lt:T:h")) != -1) {
		switch (opt) {
		case 'l':
			list = true;
			break;
		case 't':
			filters[nfilters++] = optarg;
			break;
		case 'T':
			timeout_scale = (unsigned int)strtoul(optarg, NULL, 0);
			if (!timeout_scale) {
				ih_usage(argv[0]);
				return 2;
			}
			break;
		default:
			ih_usage(argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (optind != argc) {
		ih_usage(argv[0]);
		return 2;
	}

	ncases = ih_build_cases(NULL, filters, nfilters);
	cases = calloc(ncases ? ncases : 1, sizeof(*cases));
	if (!cases)
		return 2;
	ih_build_cases(cases, filters, nfilters);

	if (list) {
		for (size_t i = 0; i < ncases; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (!ncases && nfilters) {
		fprintf(stderr, "%s: no test case matches\n", argv[0]);
		return 2;
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	sigemptyset(&sigchld);
	sigaddset(&sigchld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &sigchld, NULL);
	signal(SIGINT, ih_on_signal);
	signal(SIGTERM, ih_on_signal);

	printf("TAP version 13\n");
	printf("1..%zu\n", ncases);
	for (size_t i = 0; i < ncases; i++) {
		char skip_reason[sizeof(((struct ih_shared *)0)->skip_reason)];
		enum ih_result result;

		printf("# RUN %s\n", cases[i].name);
		result = ih_run_case(&cases[i], timeout_scale, skip_reason,
				     sizeof(skip_reason));
		switch (result) {
		case IH_PASS:
			passed++;
			printf("ok %zu %s\n", i + 1, cases[i].name);
			break;
		case IH_SKIP:
			skipped++;
			printf("ok %zu %s # SKIP %s\n", i + 1, cases[i].name,
			       skip_reason);
			break;
		case IH_FAIL:
			failed++;
			printf("not ok %zu %s\n", i + 1, cases[i].name);
			break;
		}
	}
	printf("# Totals: pass:%u fail:%u skip:%u\n", passed, failed, skipped);
	free(cases);
	free(filters);
	return failed ? 1 : 0;
}

#define TEST_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		return ih_main(argc, argv);				\
	}

#endif /* IOMMUFD_HARNESS_H */
