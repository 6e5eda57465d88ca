// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl (tools/iommufdctl) in the guest, against the kernel's own
 * counters: while a child holds pinned memory through a mock domain,
 * `iommufdctl status --json` must show the child's file with the numbers
 * of its fdinfo, VmPin and VmLck, the per-payer totals and the module
 * totals of debugfs; a file two processes pay for (root and nobody) must
 * show both payers with their own pinned and charged pages, and the one
 * that exits as pid 0; unload must refuse while a context is open; unload
 * and load through libkmod must bring back the guest's own set-up
 * (selftest=1, iommufd_vfio type1=1); bind/unbind must move the edu device
 * to vfio-pci and back, refusing while its VFIO group is open, and bind
 * must refuse a device whose IOMMU group has devices of other drivers.
 *
 * Needs the module loaded with selftest=1 and iommufd_vfio with type1=1,
 * as guest-init.sh does, and /usr/sbin/iommufdctl in the initramfs.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/iommufd.h>
#include <linux/kcmp.h>
#include <linux/iommufd_test.h>

#include "iommufd_harness.h"
#include "iommufd_utils.h"
#include "iommufd_ledger.h"
#include "iommufd_mock.h"
#include "json_tiny.h"
#include "vfio_edu.h"

#define CTL		"/usr/sbin/iommufdctl"
#define NPAGES		64
#define LEN		(NPAGES * PAGE)
#define IOVA		0x4000000UL
/* TAINT_TEST's bit in /proc/sys/kernel/tainted. */
#define KERNEL_TAINT_TEST	18

#define REQUIRE_CTL()							\
	do {								\
		if (access(CTL, X_OK))					\
			SKIP(CTL " is not in this guest");		\
	} while (0)

/*
 * iommufdctl tells the open files behind other processes' descriptors
 * apart with kcmp(KCMP_FILE); a kernel built without it (CONFIG_KCMP, as
 * the debug kernel is today) leaves it counting each descriptor as a
 * file, which it says.  Comparing a descriptor with itself tells which.
 */
static bool kcmp_works(void)
{
	int fd = open("/dev/null", O_RDONLY);
	long rc;

	if (fd < 0)
		return false;
	rc = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, fd, fd);
	close(fd);
	return rc == 0;
}

/* The cases that count one file behind two processes' descriptors. */
#define REQUIRE_KCMP()							\
	do {								\
		if (!kcmp_works())					\
			SKIP("no kcmp(KCMP_FILE) in this kernel: "	\
			     "files_may_be_counted_twice_without_kcmp "	\
			     "checks what iommufdctl says then");	\
	} while (0)

static char ctl_out[1 << 20];

/* Run iommufdctl ARGS; its output (stderr too unless @json) in ctl_out. */
static int run_ctl(const char *args, bool json)
{
	char cmd[256];
	size_t n = 0, got;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), CTL " %s%s", args,
		 json ? " 2>/dev/null" : " 2>&1");
	fflush(stdout);
	p = popen(cmd, "r");
	ASSERT_NE(NULL, p);
	while (n < sizeof(ctl_out) - 1 &&
	       (got = fread(ctl_out + n, 1, sizeof(ctl_out) - 1 - n, p)))
		n += got;
	ctl_out[n] = 0;
	status = pclose(p);
	ASSERT_TRUE(WIFEXITED(status));
	return WEXITSTATUS(status);
}

static struct jnode *ctl_status(void)
{
	struct jnode *doc;

	ASSERT_EQ(0, run_ctl("status --json", true));
	doc = json_parse(ctl_out);
	if (!doc)
		TEST_LOG("not JSON: %.400s", ctl_out);
	ASSERT_NE(NULL, doc);
	ASSERT_EQ(2, jint(doc, "schema", -1));
	return doc;
}

static bool sysfs_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

static char *sysfs_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

static struct vm_counters vm_counters_of(pid_t pid)
{
	struct vm_counters vm = { -1, -1 };
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		long v;

		if (sscanf(line, "VmPin: %ld kB", &v) == 1)
			vm.pin_kb = v;
		else if (sscanf(line, "VmLck: %ld kB", &v) == 1)
			vm.lck_kb = v;
	}
	fclose(f);
	return vm;
}

/* The entry of "contexts" for @pid's descriptor @fd. */
static struct jnode *find_context(struct jnode *doc, pid_t pid, int fd)
{
	struct jnode *ctx = jget(doc, "contexts"), *c;

	ASSERT_NE(NULL, ctx);
	ASSERT_EQ(J_ARRAY, ctx->type);
	for (c = ctx->first; c; c = c->next)
		if (jint(c, "pid", -1) == pid && jint(c, "fd", -1) == fd)
			return c;
	return NULL;
}

static void log_lines(char *text)
{
	char *line, *save;

	if (!text)
		return;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		TEST_LOG("%s", line);
}

/* --- a child holding pinned memory, seen by iommufdctl ------------------ */

struct holder {
	int fd;
	uint32_t ioas_id, second_ioas_id;
	uint8_t *buf;
	int ready[2], done[2];
};

/*
 * The child, as nobody under a memlock limit: map, copy into the second
 * IOAS (the same pages, pinned once), report the counters it started
 * with, wait for the parent to look, unmap.
 */
static void holder_child(void *arg)
{
	struct holder *h = arg;
	struct vm_counters start;
	char c;

	set_memlock_limit(4 * LEN);
	drop_to_nobody();
	start = vm_counters();
	ASSERT_EQ(0, ioas_map_fixed(h->fd, h->ioas_id, h->buf, LEN, IOVA));
	ASSERT_EQ(0, ioas_copy(h->fd, h->second_ioas_id, IOVA, h->ioas_id,
			       IOVA, LEN));
	ASSERT_EQ((ssize_t)sizeof(start), write(h->ready[1], &start,
						sizeof(start)));
	ASSERT_EQ(1, read(h->done[0], &c, 1));
	ASSERT_EQ(0, ioas_unmap_range(h->fd, h->second_ioas_id, IOVA, LEN));
	ASSERT_EQ(0, ioas_unmap_range(h->fd, h->ioas_id, IOVA, LEN));
}

static void status_matches_the_kernel(bool process_mode)
{
	struct holder h = { 0 };
	struct vm_counters start, now;
	struct jnode *doc, *mine, *theirs, *payers, *p, *totals;
	struct module_usage usage;
	struct fd_ledger l;
	const char *mode = process_mode ? "process" : "user";
	pid_t child;
	int status;
	char c = 0;

	REQUIRE_CTL();
	REQUIRE_KCMP();
	h.fd = iommufd_open();
	REQUIRE_SELFTEST(h.fd);
	if (process_mode)
		ASSERT_EQ(0, set_rlimit_mode(h.fd, 1));
	h.ioas_id = ioas_alloc(h.fd);
	h.second_ioas_id = ioas_alloc(h.fd);
	ASSERT_EQ(0, mock_domain(h.fd, h.ioas_id, NULL));
	ASSERT_EQ(0, mock_domain(h.fd, h.second_ioas_id, NULL));
	h.buf = alloc_buffer(LEN);
	ASSERT_EQ(0, pipe(h.ready));
	ASSERT_EQ(0, pipe(h.done));

	fflush(stdout);
	child = fork();
	ASSERT_NE(-1, child);
	if (!child) {
		holder_child(&h);
		_exit(0);
	}
	ASSERT_EQ((ssize_t)sizeof(start), read(h.ready[0], &start,
					       sizeof(start)));
	now = vm_counters_of(child);
	l = fd_ledger_of(child, h.fd);
	doc = ctl_status();
	ASSERT_TRUE(module_usage(&usage));
	/* The text form too, for the log: what an administrator sees. */
	EXPECT_EQ(0, run_ctl("status", false));
	log_lines(strstr(ctl_out, "/dev/iommu:"));
	ASSERT_EQ(1, write(h.done[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));

	/* The kernel's own view first: what the tool must agree with. */
	ASSERT_EQ(NPAGES, l.pinned);
	ASSERT_EQ(kb(l.pinned * PAGE), now.pin_kb - start.pin_kb);
	if (process_mode)
		ASSERT_EQ(kb(l.charged * PAGE), now.lck_kb - start.lck_kb);
	else
		ASSERT_EQ(start.lck_kb, now.lck_kb);
	ASSERT_EQ(NPAGES, l.charged);

	/* Both descriptors, one file, counted once. */
	theirs = find_context(doc, child, h.fd);
	mine = find_context(doc, getpid(), h.fd);
	ASSERT_NE(NULL, theirs);
	ASSERT_NE(NULL, mine);
	EXPECT_EQ(jint(mine, "file", -1), jint(theirs, "file", -2));
	EXPECT_EQ(1, jint(mine, "first_descriptor", -1) +
		     jint(theirs, "first_descriptor", -1));
	EXPECT_EQ(1, jint(doc, "files", -1));
	EXPECT_EQ(1, jint(doc, "files_distinct", -1));

	EXPECT_EQ(0, strcmp(mode, jget(theirs, "account_mode")->s));
	EXPECT_EQ(l.ioas, jint(theirs, "ioas", -1));
	EXPECT_EQ(2, jint(theirs, "ioas", -1));
	EXPECT_EQ(l.hwpt_paging, jint(theirs, "hwpt_paging", -1));
	EXPECT_EQ(l.device, jint(theirs, "device", -1));
	EXPECT_EQ(l.access, jint(theirs, "access", -1));
	EXPECT_EQ(l.selftest, jint(theirs, "selftest", -1));
	EXPECT_EQ(l.pinned, jint(theirs, "pinned_pages", -1));
	EXPECT_EQ(now.pin_kb - start.pin_kb,
		  kb(jint(theirs, "pinned_pages", -1) * PAGE));
	EXPECT_EQ(l.charged, jint(theirs, "charged_pages", -1));
	if (process_mode)
		EXPECT_EQ(now.lck_kb - start.lck_kb,
			  kb(jint(theirs, "charged_pages", -1) * PAGE));
	EXPECT_EQ(l.pfn_bytes, jint(theirs, "pfn_storage_bytes", -1));
	/* The child, the only payer; the copy pinned nothing more. */
	ASSERT_EQ(1, l.npayers);
	p = jget(theirs, "payers");
	ASSERT_NE(NULL, p);
	ASSERT_EQ(J_ARRAY, p->type);
	p = p->first;
	ASSERT_NE(NULL, p);
	EXPECT_EQ(NULL, p->next);
	EXPECT_EQ(child, l.payers[0].pid);
	EXPECT_EQ(child, jint(p, "pid", -1));
	EXPECT_EQ(NOBODY, jint(p, "uid", -1));
	EXPECT_EQ(l.payers[0].pinned, jint(p, "pinned_pages", -1));
	EXPECT_EQ(l.payers[0].charged, jint(p, "charged_pages", -1));
	EXPECT_EQ(NPAGES, jint(p, "pinned_pages", -1));
	EXPECT_EQ(0, jint(theirs, "malformed_values", -1));
	/* The same file through the parent's descriptor: the same figures. */
	EXPECT_EQ(l.pinned, jint(mine, "pinned_pages", -1));

	/* One payer: uid nobody (user mode) or the child (process mode). */
	payers = jget(doc, "payers");
	ASSERT_NE(NULL, payers);
	ASSERT_NE(NULL, payers->first);
	p = payers->first;
	EXPECT_EQ(NULL, p->next);
	EXPECT_EQ(0, strcmp(mode, jget(p, "account_mode")->s));
	if (process_mode)
		EXPECT_EQ(child, jint(p, "pid", -1));
	else
		EXPECT_EQ(NOBODY, jint(p, "uid", -1));
	EXPECT_EQ(1, jint(p, "files", -1));
	EXPECT_EQ(NPAGES, jint(p, "pinned_pages", -1));
	EXPECT_EQ(NPAGES, jint(p, "charged_pages", -1));
	EXPECT_EQ(0, jint(doc, "unattributed_files", -1));

	/* The module totals, as debugfs had them right after. */
	totals = jget(doc, "module_totals");
	EXPECT_EQ(1, jint(totals, "available", -1));
	EXPECT_EQ(usage.contexts, jint(totals, "contexts", -1));
	EXPECT_EQ(1, jint(totals, "contexts", -1));
	EXPECT_EQ(usage.pinned, jint(totals, "pinned_pages", -1));
	EXPECT_EQ(NPAGES, jint(totals, "pinned_pages", -1));
	EXPECT_EQ(usage.charged, jint(totals, "charged_pages", -1));
	EXPECT_EQ(usage.pfn_bytes, jint(totals, "pfn_storage_bytes", -1));

	close(h.fd);
	free_buffer(h.buf, LEN);
}

TEST(status_json_matches_fdinfo_vmpin_and_debugfs_in_user_mode)
{
	status_matches_the_kernel(false);
}

TEST(status_json_matches_fdinfo_vmpin_vmlck_and_debugfs_in_process_mode)
{
	status_matches_the_kernel(true);
}

/*
 * One file behind a descriptor in each of two processes: counted once
 * when kcmp works, else once per descriptor with files_distinct false and
 * the text form's warning, never silently wrong.
 */
TEST(files_may_be_counted_twice_without_kcmp)
{
	bool distinct = kcmp_works();
	struct jnode *doc, *mine, *theirs;
	int fd, done[2], status;
	pid_t child;
	char c = 0;

	REQUIRE_CTL();
	fd = iommufd_open();
	ioas_alloc(fd);
	ASSERT_EQ(0, pipe(done));
	fflush(stdout);
	child = fork();
	ASSERT_NE(-1, child);
	if (!child) {
		close(done[1]);
		_exit(read(done[0], &c, 1) == 1 ? 0 : 1);
	}
	close(done[0]);

	doc = ctl_status();
	ASSERT_NE(NULL, doc);
	mine = find_context(doc, getpid(), fd);
	theirs = find_context(doc, child, fd);
	ASSERT_NE(NULL, mine);
	ASSERT_NE(NULL, theirs);
	EXPECT_EQ(distinct, jint(doc, "files_distinct", -1));
	EXPECT_EQ(distinct ? 1 : 2, jint(doc, "files", -1));
	if (distinct)
		EXPECT_EQ(jint(mine, "file", -1), jint(theirs, "file", -2));
	else
		EXPECT_NE(jint(mine, "file", -1), jint(theirs, "file", -2));
	EXPECT_EQ(1, jint(mine, "ioas", -1));
	EXPECT_EQ(1, jint(theirs, "ioas", -1));
	EXPECT_EQ(0, run_ctl("status", false));
	EXPECT_EQ(!distinct, strstr(ctl_out, "kcmp failed") != NULL);

	ASSERT_EQ(1, write(done[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	close(done[1]);
	close(fd);
}

/* --- one file, two payers ------------------------------------------------ */

#define CHILD_NPAGES	(NPAGES / 4)
#define CHILD_LEN	(CHILD_NPAGES * PAGE)
#define CHILD_IOVA	(IOVA + 2 * LEN)

struct second_payer {
	int fd;
	uint32_t ioas_id;
	int ready[2], done[2];
};

/*
 * The child, as nobody under a memlock limit: map a buffer of its own
 * through the parent's file, report its counters, wait, and exit leaving
 * the mapping behind (the parent's file keeps it: a payer that exited).
 */
static void second_payer_child(void *arg)
{
	struct second_payer *sp = arg;
	struct vm_counters start;
	uint8_t *buf;
	char c;

	set_memlock_limit(4 * LEN);
	drop_to_nobody();
	buf = alloc_buffer(CHILD_LEN);
	start = vm_counters();
	ASSERT_EQ(0, ioas_map_fixed(sp->fd, sp->ioas_id, buf, CHILD_LEN,
				    CHILD_IOVA));
	ASSERT_EQ((ssize_t)sizeof(start), write(sp->ready[1], &start,
						sizeof(start)));
	ASSERT_EQ(1, read(sp->done[0], &c, 1));
}

/* Elements of array @a; -1 if it is not one. */
static int jcount(const struct jnode *a)
{
	int n = 0;

	if (!a || a->type != J_ARRAY)
		return -1;
	for (a = a->first; a; a = a->next)
		n++;
	return n;
}

static const struct fd_payer *ledger_payer(const struct fd_ledger *l,
					   long pid)
{
	int i;

	for (i = 0; i < l->npayers; i++)
		if (l->payers[i].pid == pid)
			return &l->payers[i];
	return NULL;
}

/* @ctx's entry of "payers" for @pid, checked against fdinfo's line. */
static void expect_context_payer(struct jnode *ctx, const struct fd_ledger *l,
				 long pid, long uid)
{
	const struct fd_payer *want = ledger_payer(l, pid);
	struct jnode *p = jget(ctx, "payers");

	ASSERT_NE(NULL, want);
	EXPECT_EQ(uid, want->uid);
	ASSERT_NE(NULL, p);
	ASSERT_EQ(J_ARRAY, p->type);
	for (p = p->first; p; p = p->next)
		if (jint(p, "pid", -1) == pid)
			break;
	ASSERT_NE(NULL, p);
	EXPECT_EQ(uid, jint(p, "uid", -1));
	EXPECT_EQ(want->pinned, jint(p, "pinned_pages", -1));
	EXPECT_EQ(want->charged, jint(p, "charged_pages", -1));
}

/* The per-payer total of @mode for @id (uid in user mode, else pid). */
static struct jnode *find_total(struct jnode *doc, const char *mode,
				long id)
{
	struct jnode *t = jget(doc, "payers");
	const char *key = strcmp(mode, "user") ? "pid" : "uid";

	ASSERT_NE(NULL, t);
	ASSERT_EQ(J_ARRAY, t->type);
	for (t = t->first; t; t = t->next)
		if (!strcmp(mode, jget(t, "account_mode")->s) &&
		    jint(t, key, -1) == id)
			return t;
	return NULL;
}

static void expect_total(struct jnode *doc, const char *mode, long id,
			 long pinned, long charged)
{
	struct jnode *t = find_total(doc, mode, id);

	if (!t)
		TEST_LOG("no %s total for %ld", mode, id);
	ASSERT_NE(NULL, t);
	EXPECT_EQ(1, jint(t, "files", -1));
	EXPECT_EQ(pinned, jint(t, "pinned_pages", -1));
	EXPECT_EQ(charged, jint(t, "charged_pages", -1));
}

static void two_payers_of_one_file(bool process_mode)
{
	struct second_payer sp = { 0 };
	struct vm_counters start, now, mine_start, mine_now;
	struct jnode *doc, *ctx;
	const struct fd_payer *fp;
	struct fd_ledger l;
	const char *mode = process_mode ? "process" : "user";
	uint8_t *buf;
	pid_t child;
	int status;
	char c = 0;

	REQUIRE_CTL();
	REQUIRE_KCMP();
	sp.fd = iommufd_open();
	REQUIRE_SELFTEST(sp.fd);
	if (process_mode)
		ASSERT_EQ(0, set_rlimit_mode(sp.fd, 1));
	sp.ioas_id = ioas_alloc(sp.fd);
	ASSERT_EQ(0, mock_domain(sp.fd, sp.ioas_id, NULL));
	ASSERT_EQ(0, pipe(sp.ready));
	ASSERT_EQ(0, pipe(sp.done));

	/* The parent, root: pinned, not charged (CAP_IPC_LOCK). */
	buf = alloc_buffer(LEN);
	mine_start = vm_counters();
	ASSERT_EQ(0, ioas_map_fixed(sp.fd, sp.ioas_id, buf, LEN, IOVA));
	mine_now = vm_counters();

	fflush(stdout);
	child = fork();
	ASSERT_NE(-1, child);
	if (!child) {
		second_payer_child(&sp);
		_exit(0);
	}
	ASSERT_EQ((ssize_t)sizeof(start), read(sp.ready[0], &start,
					       sizeof(start)));
	now = vm_counters_of(child);
	l = fd_ledger(sp.fd);
	doc = ctl_status();
	EXPECT_EQ(0, run_ctl("status", false));
	log_lines(strstr(ctl_out, "/dev/iommu:"));

	/* The kernel's view: one line per payer, summing to the file's. */
	ASSERT_EQ(2, l.npayers);
	ASSERT_EQ(NPAGES + CHILD_NPAGES, l.pinned);
	fp = ledger_payer(&l, getpid());
	ASSERT_NE(NULL, fp);
	ASSERT_EQ(NPAGES, fp->pinned);
	ASSERT_EQ(kb(fp->pinned * PAGE), mine_now.pin_kb - mine_start.pin_kb);
	ASSERT_EQ(kb(fp->charged * PAGE), mine_now.lck_kb - mine_start.lck_kb);
	ASSERT_EQ(0, fp->charged);
	fp = ledger_payer(&l, child);
	ASSERT_NE(NULL, fp);
	ASSERT_EQ(CHILD_NPAGES, fp->pinned);
	ASSERT_EQ(CHILD_NPAGES, fp->charged);
	ASSERT_EQ(kb(fp->pinned * PAGE), now.pin_kb - start.pin_kb);
	if (process_mode)
		ASSERT_EQ(kb(fp->charged * PAGE), now.lck_kb - start.lck_kb);
	else
		ASSERT_EQ(start.lck_kb, now.lck_kb);
	ASSERT_EQ(CHILD_NPAGES, l.charged);

	/* iommufdctl: both payers on the context, each its own share. */
	ctx = find_context(doc, getpid(), sp.fd);
	ASSERT_NE(NULL, ctx);
	EXPECT_EQ(0, strcmp(mode, jget(ctx, "account_mode")->s));
	EXPECT_EQ(l.pinned, jint(ctx, "pinned_pages", -1));
	EXPECT_EQ(l.charged, jint(ctx, "charged_pages", -1));
	EXPECT_EQ(2, jcount(jget(ctx, "payers")));
	expect_context_payer(ctx, &l, getpid(), 0);
	expect_context_payer(ctx, &l, child, NOBODY);
	EXPECT_EQ(0, jint(ctx, "malformed_values", -1));
	EXPECT_EQ(2, jcount(jget(doc, "payers")));
	expect_total(doc, mode, process_mode ? getpid() : 0, NPAGES, 0);
	expect_total(doc, mode, process_mode ? child : NOBODY, CHILD_NPAGES,
		     CHILD_NPAGES);
	EXPECT_EQ(0, jint(doc, "unattributed_files", -1));

	/* The child exits; its mapping stays, paid for by "pid 0". */
	ASSERT_EQ(1, write(sp.done[1], &c, 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	l = fd_ledger(sp.fd);
	doc = ctl_status();
	EXPECT_EQ(0, run_ctl("status", false));
	/* Before log_lines(), which cuts ctl_out into lines. */
	EXPECT_NE(NULL, strstr(ctl_out, "(exited)"));
	if (process_mode)
		EXPECT_NE(NULL, strstr(ctl_out, "pid 0 (exited payers)"));
	log_lines(strstr(ctl_out, "/dev/iommu:"));
	ASSERT_EQ(2, l.npayers);
	fp = ledger_payer(&l, 0);
	ASSERT_NE(NULL, fp);
	ASSERT_EQ(CHILD_NPAGES, fp->pinned);
	ctx = find_context(doc, getpid(), sp.fd);
	ASSERT_NE(NULL, ctx);
	expect_context_payer(ctx, &l, 0, NOBODY);
	expect_context_payer(ctx, &l, getpid(), 0);
	expect_total(doc, mode, process_mode ? 0 : NOBODY, CHILD_NPAGES,
		     fp->charged);

	ASSERT_EQ(0, ioas_unmap_range(sp.fd, sp.ioas_id, CHILD_IOVA,
				      CHILD_LEN));
	ASSERT_EQ(0, ioas_unmap_range(sp.fd, sp.ioas_id, IOVA, LEN));
	l = fd_ledger(sp.fd);
	EXPECT_TRUE(l.payer_none);
	EXPECT_EQ(0, l.npayers);
	close(sp.fd);
	free_buffer(buf, LEN);
}

TEST(status_json_shows_two_payers_of_one_file_in_user_mode)
{
	two_payers_of_one_file(false);
}

TEST(status_json_shows_two_payers_of_one_file_in_process_mode)
{
	two_payers_of_one_file(true);
}

TEST(status_json_shows_the_modules_as_the_guest_loaded_them)
{
	struct jnode *doc, *core, *vfio, *param;
	char dev[32];
	bool found = false;

	REQUIRE_CTL();
	doc = ctl_status();
	core = jget(jget(doc, "modules"), "iommufd");
	vfio = jget(jget(doc, "modules"), "iommufd_vfio");
	ASSERT_NE(NULL, core);
	ASSERT_NE(NULL, vfio);
	EXPECT_EQ(1, jint(core, "loaded", -1));
	EXPECT_EQ(1, jint(core, "installed", -1));
	EXPECT_EQ(0, strcmp("live", jget(core, "state")->s));
	EXPECT_EQ(1, jint(vfio, "loaded", -1));
	EXPECT_EQ(1, jint(doc, "selftest", -1));
	EXPECT_EQ(1, jint(doc, "type1", -1));
	EXPECT_EQ(0, jint(doc, "allow_unsafe_interrupts", -1));
	EXPECT_EQ(1, (jint(doc, "kernel_tainted", 0) >> KERNEL_TAINT_TEST) & 1);
	/* Out of tree, whatever else. */
	ASSERT_NE(NULL, jget(core, "taint")->s);
	EXPECT_NE(NULL, strchr(jget(core, "taint")->s, 'O'));
	for (param = jget(core, "parameters")->first; param;
	     param = param->next) {
		if (strcmp(jget(param, "name")->s, "selftest"))
			continue;
		found = true;
		EXPECT_EQ(0, strcmp("Y", jget(param, "value")->s));
		EXPECT_EQ(0, strcmp("bool", jget(param, "type")->s));
	}
	EXPECT_TRUE(found);
	sysfs_line("/sys/class/misc/iommu/dev", dev, sizeof(dev));
	EXPECT_EQ(0, strcmp(dev, jget(doc, "device")->s));
	/* iommufd_vfio uses iommufd's symbols. */
	ASSERT_NE(NULL, jget(core, "holders")->first);
	EXPECT_EQ(0, strcmp("iommufd_vfio", jget(core, "holders")->first->s));

	ASSERT_EQ(0, run_ctl("status", false));
	EXPECT_NE(NULL, strstr(ctl_out, "self-test mode: ON"));
	EXPECT_NE(NULL, strstr(ctl_out, "type1 compatibility: on"));
}

/* --- load and unload ------------------------------------------------------ */

TEST(unload_refuses_and_names_the_process_while_dev_iommu_is_open)
{
	char pid[32];
	int fd;

	REQUIRE_CTL();
	fd = iommufd_open();
	EXPECT_EQ(3, run_ctl("unload", false));
	snprintf(pid, sizeof(pid), "pid %d ", getpid());
	EXPECT_NE(NULL, strstr(ctl_out, pid));
	EXPECT_TRUE(sysfs_exists("/sys/module/iommufd/initstate"));
	/* Refused before touching anything: the backend stays too. */
	EXPECT_TRUE(sysfs_exists("/sys/module/iommufd_vfio/initstate"));
	close(fd);
}

TEST(load_is_idempotent_and_refuses_the_other_self_test_mode)
{
	char v[8];

	REQUIRE_CTL();
	EXPECT_EQ(0, run_ctl("load --selftest --type1", false));
	EXPECT_NE(NULL, strstr(ctl_out, "already loaded"));
	EXPECT_EQ(3, run_ctl("load", false));
	EXPECT_NE(NULL, strstr(ctl_out, "self-test mode"));
	EXPECT_EQ(0, strcmp("Y", sysfs_line("/sys/module/iommufd/parameters/selftest",
					    v, sizeof(v))));
}

TEST_TIMEOUT(unload_then_load_brings_back_selftest_and_type1, 120)
{
	struct jnode *doc, *core, *param;
	bool found = false;
	char v[8];
	struct stat st;

	REQUIRE_CTL();
	ASSERT_EQ(0, run_ctl("unload", false));
	EXPECT_FALSE(sysfs_exists("/sys/module/iommufd_vfio"));
	EXPECT_FALSE(sysfs_exists("/sys/module/iommufd"));
	/* Not loaded: what modinfo says, and nothing else. */
	doc = ctl_status();
	core = jget(jget(doc, "modules"), "iommufd");
	EXPECT_EQ(0, jint(core, "loaded", -1));
	EXPECT_EQ(1, jint(core, "installed", -1));
	EXPECT_TRUE(jis_null(core, "refcnt"));
	EXPECT_TRUE(jis_null(doc, "selftest"));
	EXPECT_TRUE(jis_null(doc, "contexts"));
	EXPECT_EQ(0, jint(jget(doc, "module_totals"), "available", -1));
	for (param = jget(core, "parameters")->first; param;
	     param = param->next) {
		if (strcmp(jget(param, "name")->s, "selftest"))
			continue;
		found = true;
		EXPECT_TRUE(jis_null(param, "value"));
		EXPECT_NE(NULL, strstr(jget(param, "description")->s,
				       "taints the kernel"));
	}
	EXPECT_TRUE(found);
	/* Whatever happened above, give the guest its modules back. */
	EXPECT_EQ(0, run_ctl("load --selftest --type1", false));
	if (strstr(ctl_out, "already"))
		TEST_LOG("%s", ctl_out);
	ASSERT_EQ(0, strcmp("Y", sysfs_line("/sys/module/iommufd/parameters/selftest",
					    v, sizeof(v))));
	ASSERT_EQ(0, strcmp("Y", sysfs_line("/sys/module/iommufd_vfio/parameters/type1",
					    v, sizeof(v))));
	ASSERT_EQ(0, stat(IOMMUFD_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	close(iommufd_open());
}

/* --- bind and unbind ------------------------------------------------------ */

static void driver_name(const char *bdf, char *out, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(out, len, "none");
		return;
	}
	link[n] = 0;
	snprintf(out, len, "%s", strrchr(link, '/') + 1);
}

TEST_TIMEOUT(bind_and_unbind_move_the_edu_device_and_refuse_while_in_use, 120)
{
	char bdf[32], args[64], drv[64], path[PATH_MAX], ovr[64];
	int group, gfd;

	REQUIRE_CTL();
	if (edu_find(bdf, sizeof(bdf)))
		SKIP("no edu device in this guest");
	snprintf(args, sizeof(args), "bind %s", bdf);
	ASSERT_EQ(0, run_ctl(args, false));
	driver_name(bdf, drv, sizeof(drv));
	ASSERT_EQ(0, strcmp("vfio-pci", drv));
	/* Binding again changes nothing. */
	ASSERT_EQ(0, run_ctl(args, false));
	EXPECT_NE(NULL, strstr(ctl_out, "already bound"));

	ASSERT_EQ(0, edu_bind_vfio(bdf, &group));
	snprintf(path, sizeof(path), "/dev/vfio/%d", group);
	gfd = open(path, O_RDWR);
	ASSERT_LE(0, gfd);
	snprintf(args, sizeof(args), "unbind %s", bdf);
	EXPECT_EQ(3, run_ctl(args, false));
	snprintf(path, sizeof(path), "pid %d", getpid());
	EXPECT_NE(NULL, strstr(ctl_out, path));
	driver_name(bdf, drv, sizeof(drv));
	EXPECT_EQ(0, strcmp("vfio-pci", drv));
	close(gfd);

	ASSERT_EQ(0, run_ctl(args, false));
	driver_name(bdf, drv, sizeof(drv));
	/* No driver of the guest's kernel claims edu. */
	EXPECT_EQ(0, strcmp("none", drv));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver_override",
		 bdf);
	EXPECT_EQ(0, strcmp("(null)", sysfs_line(path, ovr, sizeof(ovr))));
	/* Nothing to do the second time. */
	EXPECT_EQ(0, run_ctl(args, false));

	/* Leave it as the other suites expect to find it. */
	snprintf(args, sizeof(args), "bind %s", bdf);
	ASSERT_EQ(0, run_ctl(args, false));
	driver_name(bdf, drv, sizeof(drv));
	EXPECT_EQ(0, strcmp("vfio-pci", drv));
}

static bool blocks_vfio(const char *drv)
{
	return strcmp(drv, "none") && strcmp(drv, "vfio-pci") &&
	       strcmp(drv, "pci-stub") && strcmp(drv, "pcieport");
}

/*
 * A device of a group whose other devices have drivers that own their
 * DMA (under amd-iommu, the ICH9 functions 00:1f.* share one group).  Not
 * the ISA bridge (it carries the serial ports the runner reads).
 */
static bool find_shared_group_device(char *bdf, size_t len)
{
	DIR *groups = opendir("/sys/kernel/iommu_groups");
	struct dirent *g;
	bool found = false;

	if (!groups)
		return false;
	while (!found && (g = readdir(groups))) {
		char path[PATH_MAX], names[16][256], drv[64], cls[32];
		int n = 0, i, j, blocking;
		struct dirent *d;
		DIR *devs;

		if (g->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path),
			 "/sys/kernel/iommu_groups/%s/devices", g->d_name);
		devs = opendir(path);
		if (!devs)
			continue;
		while ((d = readdir(devs)) && n < 16)
			if (d->d_name[0] != '.')
				snprintf(names[n++], 256, "%s", d->d_name);
		closedir(devs);
		for (i = 0; i < n && !found; i++) {
			snprintf(path, sizeof(path),
				 "/sys/bus/pci/devices/%s/class", names[i]);
			sysfs_line(path, cls, sizeof(cls));
			if (!strncmp(cls, "0x06", 4))
				continue;
			for (blocking = 0, j = 0; j < n; j++) {
				if (j == i)
					continue;
				driver_name(names[j], drv, sizeof(drv));
				blocking += blocks_vfio(drv);
			}
			if (blocking) {
				snprintf(bdf, len, "%s", names[i]);
				found = true;
			}
		}
	}
	closedir(groups);
	return found;
}

/*
 * The guest loads no driver for the q35 ICH9 functions, which share a
 * group: the SMBus driver (i2c-i801, in the initramfs for this) makes
 * 00:1f.3 a device that owns its DMA, for the time of the test.
 */
TEST(bind_refuses_a_device_whose_group_has_devices_of_other_drivers)
{
	char bdf[64], args[96], before[64], after[64];
	bool loaded_i801 = false;

	REQUIRE_CTL();
	if (!find_shared_group_device(bdf, sizeof(bdf)) &&
	    !sysfs_exists("/sys/bus/pci/drivers/i801_smbus") &&
	    system("kmodctl load i2c_i801 >/dev/null 2>&1") == 0)
		loaded_i801 = true;
	if (!find_shared_group_device(bdf, sizeof(bdf))) {
		if (loaded_i801)
			EXPECT_EQ(0, system("kmodctl unload i2c_i801"));
		SKIP("no IOMMU group shared with devices of other drivers here");
	}
	driver_name(bdf, before, sizeof(before));
	snprintf(args, sizeof(args), "bind %s", bdf);
	EXPECT_EQ(3, run_ctl(args, false));
	EXPECT_NE(NULL, strstr(ctl_out, "also has"));
	log_lines(ctl_out);
	driver_name(bdf, after, sizeof(after));
	EXPECT_EQ(0, strcmp(before, after));
	if (loaded_i801)
		EXPECT_EQ(0, system("kmodctl unload i2c_i801"));
}

TEST(bind_of_an_absent_device_exits_4_and_a_malformed_one_2)
{
	REQUIRE_CTL();
	EXPECT_EQ(4, run_ctl("bind 0000:ff:1f.7", false));
	EXPECT_EQ(2, run_ctl("bind not-a-device", false));
}

TEST_HARNESS_MAIN
