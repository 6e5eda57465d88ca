// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz: a seeded, reproducible fuzzer of /dev/iommu in self-test mode (the
 * module loaded with selftest=1), and with real devices through the VFIO
 * backend.  A guest suite: a static binary in /tests that prints TAP.
 *
 *   fuzz [--seed S] [--calls N] [--time SECONDS] [--round R] [--threads T]
 *        [--mode selftest|vfio|both] [--hang SECONDS] [--avoid LIST]
 *        [--heavy N] [--light PM] [--round-calls N] [-v]
 *
 * Without options it reads its budget from the kernel command line:
 * fuzz.calls=N (default 75000), fuzz.time=SECONDS (default 90, or 3600
 * when fuzz.calls is given), fuzz.seed=S, fuzz.avoid=LIST, fuzz.threads=T,
 * fuzz.mode=M, fuzz.round=R, fuzz.hang=SECONDS, fuzz.heavy=N,
 * fuzz.light=PM, fuzz.round_calls=N, fuzz.verbose=1.
 *
 * Three profiles share a round's budget.  The full one is everything:
 * maps of whole (2 MiB) regions and huge lengths, mock domains,
 * CHANGE_PROCESS, forks, fd passing, closing contexts, VFIO set-up and
 * DMA.  The cheap one is the same ABI-shaped calls with maps, copies and
 * accesses of 4-64 KiB.  The light one is what a debug kernel answers in
 * tens of microseconds: queries, options, allocations and destroys, live,
 * stale and foreign ids, and the pinning ioctls bent so that they fail
 * before they pin.  About --heavy N ops of a round (default 2000, the
 * smallest round) come from the full profile, drawn from the round's
 * seed; of the rest, --light PM per mille (default 970) are light and the
 * others cheap.  Small budgets are thus all full profile, and a large one
 * adds cheap and light calls around the same heavy work.  A round's
 * set-up and teardown (peer, regions, memfds, devices, unpinning
 * everything) cost a debug kernel seconds: a round has calls / 10 calls
 * (2000 to 100000) unless --round-calls N says otherwise.
 * The run is a sequence of rounds; round R's seed is derived from S and R,
 * each thread's, child's and the peer's from the round's.  The seed is
 * printed first; `fuzz --seed S` replays a run, `--round R --mode M` one
 * round of it (findings name both).  A round with one thread (--threads 1)
 * replays exactly up to what the kernel chooses by itself; with several
 * threads, forked children and the peer the interleaving differs from run
 * to run, so a replay reruns the same calls in a different order: it
 * usually finds a race again, it does not repeat it step by step.
 *
 * Judged after every round: the kernel log (WARNING, BUG, KASAN, lockdep,
 * ... anywhere in it fails the run, with the round that caused it), an
 * ioctl running longer than the hang limit (its arguments and the kernel
 * stacks of the stuck threads are printed), a round or child that
 * crashed, errnos that must never reach user space, and a small sanity
 * sequence on a fresh context.  At the end: VmPin/VmLck of every round
 * and of the peers back where they started, and the user charge of
 * RLIMIT_MEMLOCK (probed by pinning exactly up to the limit as nobody).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "fuzz.h"
#include "round.h"

struct fuzz_shared *sh;
struct fuzz_config cfg = {
	.calls = 75000,
	.heavy = 2000,
	.light = 970,
	.time_cap = 90,
	.hang_s = 120,
	.only_round = -1,
	.mode = MODE_SELFTEST | MODE_VFIO,
	/*
	 * Open defects of issue 8 that panic or hang a guest within seconds:
	 * stepped around by default so that a run finds what is new; each
	 * goes from this list when its fix is merged (fuzz.avoid=none runs
	 * everything).
	 */
	.avoid = FUZZ_AVOID_DEFAULT,
};

static const char *const kind_names[K_NR_KINDS] = {
	[K_DESTROY] = "DESTROY", [K_IOAS_ALLOC] = "IOAS_ALLOC",
	[K_ALLOW_IOVAS] = "IOAS_ALLOW_IOVAS", [K_IOAS_COPY] = "IOAS_COPY",
	[K_IOVA_RANGES] = "IOAS_IOVA_RANGES", [K_IOAS_MAP] = "IOAS_MAP",
	[K_IOAS_UNMAP] = "IOAS_UNMAP", [K_OPTION] = "OPTION",
	[K_VFIO_IOAS] = "VFIO_IOAS", [K_HWPT_ALLOC] = "HWPT_ALLOC",
	[K_GET_HW_INFO] = "GET_HW_INFO", [K_MAP_FILE] = "IOAS_MAP_FILE",
	[K_CHANGE_PROCESS] = "IOAS_CHANGE_PROCESS",
	[K_SET_DIRTY] = "HWPT_SET_DIRTY_TRACKING",
	[K_GET_DIRTY] = "HWPT_GET_DIRTY_BITMAP",
	[K_HWPT_INVALIDATE] = "HWPT_INVALIDATE",
	[K_FAULT_ALLOC] = "FAULT_QUEUE_ALLOC",
	[K_VIOMMU_ALLOC] = "VIOMMU_ALLOC", [K_VDEVICE_ALLOC] = "VDEVICE_ALLOC",
	[K_VEVENTQ_ALLOC] = "VEVENTQ_ALLOC",
	[K_HW_QUEUE_ALLOC] = "HW_QUEUE_ALLOC",
	[K_VIOMMU_INVALIDATE] = "HWPT_INVALIDATE(vIOMMU)",
	[K_UPSTREAM_OTHER] = "upstream-unserved", [K_RANDOM_NR] = "random-nr",
	[K_TEST_OP0 + 0] = "TEST_op0",
	[K_TEST_OP0 + IOMMU_TEST_OP_ADD_RESERVED] = "TEST_ADD_RESERVED",
	[K_TEST_OP0 + IOMMU_TEST_OP_MOCK_DOMAIN] = "TEST_MOCK_DOMAIN",
	[K_TEST_OP0 + IOMMU_TEST_OP_MD_CHECK_MAP] = "TEST_MD_CHECK_MAP",
	[K_TEST_OP0 + IOMMU_TEST_OP_MD_CHECK_REFS] = "TEST_MD_CHECK_REFS",
	[K_TEST_OP0 + IOMMU_TEST_OP_CREATE_ACCESS] = "TEST_CREATE_ACCESS",
	[K_TEST_OP0 + IOMMU_TEST_OP_DESTROY_ACCESS_PAGES] = "TEST_DESTROY_ACCESS_PAGES",
	[K_TEST_OP0 + IOMMU_TEST_OP_ACCESS_PAGES] = "TEST_ACCESS_PAGES",
	[K_TEST_OP0 + IOMMU_TEST_OP_ACCESS_RW] = "TEST_ACCESS_RW",
	[K_TEST_OP0 + IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT] = "TEST_SET_TEMP_MEMORY_LIMIT",
	[K_TEST_OP0 + IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE] = "TEST_MOCK_DOMAIN_REPLACE",
	[K_TEST_OP0 + IOMMU_TEST_OP_ACCESS_REPLACE_IOAS] = "TEST_ACCESS_REPLACE_IOAS",
	[K_TEST_OP0 + IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS] = "TEST_MOCK_DOMAIN_FLAGS",
	[K_TEST_OP0 + IOMMU_TEST_OP_DIRTY] = "TEST_DIRTY",
	[K_TEST_OP0 + IOMMU_TEST_OP_MD_CHECK_IOTLB] = "TEST_MD_CHECK_IOTLB",
	[K_TEST_OP0 + IOMMU_TEST_OP_TRIGGER_IOPF] = "TEST_TRIGGER_IOPF",
	[K_TEST_OP0 + IOMMU_TEST_OP_DEV_CHECK_CACHE] = "TEST_DEV_CHECK_CACHE",
	[K_TEST_OP0 + IOMMU_TEST_OP_TRIGGER_VEVENT] = "TEST_TRIGGER_VEVENT",
	[K_TEST_OP0 + 18] = "TEST_op18",
	[K_TEST_OP0 + 19] = "TEST_op19", [K_TEST_OP0 + 20] = "TEST_op20",
	[K_TEST_OP0 + 21] = "TEST_op21", [K_TEST_OP0 + 22] = "TEST_op22",
	[K_TEST_OP0 + 23] = "TEST_op23", [K_TEST_BADOP] = "TEST_badop",
	[K_DKMS_ATTACH] = "DKMS_DEVICE_ATTACH",
	[K_DKMS_DETACH] = "DKMS_DEVICE_DETACH", [K_DKMS_OTHER] = "DKMS_other",
	[K_T1_API] = "type1:GET_API_VERSION",
	[K_T1_CHECK_EXT] = "type1:CHECK_EXTENSION",
	[K_T1_SET_IOMMU] = "type1:SET_IOMMU", [K_T1_GET_INFO] = "type1:GET_INFO",
	[K_T1_MAP] = "type1:MAP_DMA", [K_T1_UNMAP] = "type1:UNMAP_DMA",
	[K_VFIO_LINK] = "DKMS_VFIO_LINK", [K_VFIO_DEVICES] = "DKMS_VFIO_DEVICES",
	[K_C_MAP] = "container:MAP_DMA", [K_C_UNMAP] = "container:UNMAP_DMA",
	[K_C_GET_INFO] = "container:GET_INFO",
	[K_C_CHECK_EXT] = "container:CHECK_EXTENSION",
	[K_G_SET_CONTAINER] = "group:SET_CONTAINER",
	[K_G_UNSET_CONTAINER] = "group:UNSET_CONTAINER",
	[K_SYS_CLOSE] = "close()", [K_SYS_MM] = "mmap/madvise/mremap",
	[K_SYS_MEMFD] = "memfd truncate/seal/write", [K_SYS_FORK] = "fork()",
	[K_SYS_PASS] = "SCM_RIGHTS", [K_SYS_DMA] = "edu DMA",
	[K_SYS_FAULT_IO] = "fault fd read/write/poll",
	[K_SYS_VEVENTQ] = "vEVENTQ read/poll/close",
	[K_SYS_MMAP_VIOMMU] = "vIOMMU mmap/munmap",
};

const char *kind_name(int kind)
{
	if (kind < 0 || kind >= K_NR_KINDS || !kind_names[kind])
		return "?";
	return kind_names[kind];
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static const struct {
	const char *name;
	unsigned int bit;
} avoid_names[] = {
	{ "ro-reply", AVOID_RO_REPLY },
	{ "huge", AVOID_HUGE },
	{ "file-len", AVOID_FILE_LEN },
	{ "change-process", AVOID_CHANGE_PROCESS },
	{ "destroy-owned", AVOID_DESTROY_OWNED },
	{ "access-unaligned", AVOID_ACCESS_UNALIGNED },
	{ "access-close", AVOID_ACCESS_CLOSE },
	{ "detach", AVOID_DETACH },
	{ "rejoin", AVOID_REJOIN },
};

static unsigned int parse_avoid(const char *list)
{
	unsigned int bits = 0;
	char buf[256], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool known = false;

		for (size_t i = 0; i < sizeof(avoid_names) / sizeof(avoid_names[0]); i++)
			if (!strcmp(tok, avoid_names[i].name) || !strcmp(tok, "all")) {
				bits |= avoid_names[i].bit;
				known = true;
			}
		if (!known && strcmp(tok, "none"))
			fprintf(stderr, "fuzz: unknown --avoid item %s\n", tok);
	}
	return bits;
}

static int parse_mode(const char *s)
{
	if (!strcmp(s, "selftest"))
		return MODE_SELFTEST;
	if (!strcmp(s, "vfio"))
		return MODE_VFIO;
	return MODE_SELFTEST | MODE_VFIO;
}

static void read_cmdline(void)
{
	char buf[4096], *tok, *save;
	bool time_given = false;
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (tok = strtok_r(buf, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (!strncmp(tok, "fuzz.calls=", 11)) {
			cfg.calls = strtoull(tok + 11, NULL, 0);
			cfg.calls_explicit = true;
		} else if (!strncmp(tok, "fuzz.time=", 10)) {
			cfg.time_cap = strtod(tok + 10, NULL);
			time_given = true;
		} else if (!strncmp(tok, "fuzz.seed=", 10)) {
			cfg.seed = strtoull(tok + 10, NULL, 0);
		} else if (!strncmp(tok, "fuzz.avoid=", 11)) {
			cfg.avoid = parse_avoid(tok + 11);
		} else if (!strncmp(tok, "fuzz.threads=", 13)) {
			cfg.threads = atoi(tok + 13);
		} else if (!strncmp(tok, "fuzz.round=", 11)) {
			cfg.only_round = strtol(tok + 11, NULL, 0);
		} else if (!strncmp(tok, "fuzz.verbose=", 13)) {
			cfg.verbose = atoi(tok + 13);
		} else if (!strncmp(tok, "fuzz.round_calls=", 17)) {
			cfg.round_calls = strtoull(tok + 17, NULL, 0);
		} else if (!strncmp(tok, "fuzz.heavy=", 11)) {
			cfg.heavy = strtoull(tok + 11, NULL, 0);
		} else if (!strncmp(tok, "fuzz.light=", 11)) {
			cfg.light = strtoull(tok + 11, NULL, 0);
		} else if (!strncmp(tok, "fuzz.hang=", 10)) {
			cfg.hang_s = strtod(tok + 10, NULL);
		} else if (!strncmp(tok, "fuzz.mode=", 10)) {
			cfg.mode = parse_mode(tok + 10);
		}
	}
	if (cfg.calls_explicit && !time_given)
		cfg.time_cap = 3600;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fuzz [--seed S] [--calls N] [--time SECONDS] [--round R]\n"
		"            [--threads T] [--mode selftest|vfio|both]\n"
		"            [--hang SECONDS] [--avoid LIST] [--heavy N]\n"
		"            [--light PM] [--round-calls N] [-v]\n"
		"  --avoid: comma-separated known defects to step around:\n"
		"           ro-reply huge file-len change-process destroy-owned\n"
		"           access-unaligned access-close detach rejoin all none\n");
	exit(2);
}

static void parse_args(int argc, char **argv)
{
	bool seeded = cfg.seed != 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-v")) {
			cfg.verbose++;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--seed")) {
			cfg.seed = strtoull(v, NULL, 0);
			seeded = true;
		} else if (!strcmp(a, "--calls")) {
			cfg.calls = strtoull(v, NULL, 0);
			cfg.calls_explicit = true;
		} else if (!strcmp(a, "--time")) {
			cfg.time_cap = strtod(v, NULL);
		} else if (!strcmp(a, "--round")) {
			cfg.only_round = strtol(v, NULL, 0);
		} else if (!strcmp(a, "--threads")) {
			cfg.threads = atoi(v);
		} else if (!strcmp(a, "--mode")) {
			cfg.mode = parse_mode(v);
		} else if (!strcmp(a, "--round-calls")) {
			cfg.round_calls = strtoull(v, NULL, 0);
		} else if (!strcmp(a, "--heavy")) {
			cfg.heavy = strtoull(v, NULL, 0);
		} else if (!strcmp(a, "--light")) {
			cfg.light = strtoull(v, NULL, 0);
		} else if (!strcmp(a, "--hang")) {
			cfg.hang_s = strtod(v, NULL);
		} else if (!strcmp(a, "--avoid")) {
			cfg.avoid = parse_avoid(v);
		} else {
			usage();
		}
	}
	if (!seeded && getrandom(&cfg.seed, sizeof(cfg.seed), 0) !=
			       sizeof(cfg.seed))
		cfg.seed = now_ns() ^ (uint64_t)getpid() << 32;
}

/* The kernel log ---------------------------------------------------------- */

static int kmsg_fd = -1;

static const char *const kmsg_bad[] = {
	"WARNING:", "BUG:", "Oops", "KASAN", "KFENCE", "UBSAN", "kernel BUG",
	"Call Trace", "general protection", "circular locking",
	"recursive locking", "inconsistent lock state", "suspicious RCU",
	"blocked for more than", "kmemleak", "list_add corruption",
	"list_del corruption", "refcount_t:", "ODEBUG", "Unable to handle",
	"lockdep", "stack-protector", "double free",
};

static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

/* New kernel log lines that report a problem: counted, the first printed. */
static int kmsg_scan(const char *who)
{
	static char rec[8192];
	int found = 0;

	if (kmsg_fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(kmsg_fd, rec, sizeof(rec) - 1);
		char *msg;

		if (n < 0 && errno == EPIPE)
			continue;
		if (n <= 0)
			break;
		rec[n] = 0;
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = 0;
		for (size_t i = 0; i < sizeof(kmsg_bad) / sizeof(kmsg_bad[0]); i++) {
			if (!strstr(msg, kmsg_bad[i]))
				continue;
			if (found < 40)
				printf("# kmsg (%s): %s\n", who, msg);
			found++;
			break;
		}
		/* The lines around a report (its trace) are worth seeing. */
		if (found && found < 40 && msg[0] == ' ' && !strstr(msg, " ? "))
			printf("# kmsg (%s):   %s\n", who, msg);
	}
	return found;
}

/* Hangs ------------------------------------------------------------------- */

static void print_file(const char *path, const char *prefix)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		printf("%s%s", prefix, line);
	fclose(f);
}

static void report_inflight(uint64_t now, bool stacks)
{
	for (int i = 0; i < FUZZ_MAX_SLOTS; i++) {
		struct fuzz_inflight *f = &sh->slot[i];
		char path[64], hex[3 * FUZZ_ARG_LOG + 1];
		uint64_t t0 = f->t0_ns;

		if (!t0)
			continue;
		for (int j = 0; j < FUZZ_ARG_LOG; j++)
			sprintf(hex + 3 * j, "%02x ", f->arg[j]);
		printf("#   slot %d pid %d tid %d in %s (fd %d, nr %#lx) for %.1f s\n"
		       "#     arg: %s\n", i, f->pid, f->tid, kind_name((int)f->kind),
		       f->fd, f->nr, (double)(now - t0) / 1e9, hex);
		if (stacks) {
			snprintf(path, sizeof(path), "/proc/%d/task/%d/stack",
				 f->pid, f->tid);
			print_file(path, "#     ");
		}
	}
}

/* Rounds ------------------------------------------------------------------ */

struct phase {
	const char *name;
	uint64_t calls;
	long rounds;
	int reports;
	int hangs;
	int crashes;
	int sanity_bad;
	uint64_t errno_leaks;
	uint64_t oddities;
	int acct_bad;
	bool unkillable;
	char first_finding[256];
};

static void finding(struct phase *ph, long nr, int mode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void finding(struct phase *ph, long nr, int mode, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* The round's budget and profile come from --calls and --heavy. */
	printf("# FINDING round %ld: %s; replay: fuzz --seed %#" PRIx64
	       " --round %ld --mode %s --calls %" PRIu64 " --heavy %" PRIu64
	       " --light %" PRIu64 " --round-calls %" PRIu64 "\n", nr, what,
	       cfg.seed, nr, mode == MODE_VFIO ? "vfio" : "selftest",
	       cfg.calls, cfg.heavy, cfg.light, cfg.round_calls);
	if (!ph->first_finding[0])
		snprintf(ph->first_finding, sizeof(ph->first_finding),
			 "round %ld: %s", nr, what);
}

static void serve_open(int sock)
{
	char byte, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int fd;

	if (read(sock, &byte, 1) != 1)
		return;
	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		msg.msg_control = NULL;
		msg.msg_controllen = 0;
		sendmsg(sock, &msg, MSG_NOSIGNAL);
		return;
	}
	memset(cbuf, 0, sizeof(cbuf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	sendmsg(sock, &msg, MSG_NOSIGNAL);
	close(fd);
}

/* Does a fresh context still work?  Map, check, unmap one page. */
static int sanity_sequence(void)
{
	static uint8_t page[4096] __attribute__((aligned(4096)));
	struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
	struct iommu_test_cmd md = { .size = sizeof(md),
				     .op = IOMMU_TEST_OP_MOCK_DOMAIN };
	struct iommu_test_cmd chk = { .size = sizeof(chk),
				      .op = IOMMU_TEST_OP_MD_CHECK_MAP };
	struct iommu_ioas_map map = {
		.size = sizeof(map),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.user_va = (uintptr_t)page, .length = sizeof(page),
	};
	struct iommu_ioas_unmap unmap = { .size = sizeof(unmap),
					  .length = UINT64_MAX };
	int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC), rc = -1;

	if (fd < 0)
		return -errno;
	page[0] = 1;
	if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))
		goto out;
	md.id = map.ioas_id = unmap.ioas_id = alloc.out_ioas_id;
	if (ioctl(fd, IOMMU_TEST_CMD, &md) || ioctl(fd, IOMMU_IOAS_MAP, &map))
		goto out;
	chk.id = md.mock_domain.out_hwpt_id;
	chk.check_map.iova = map.iova;
	chk.check_map.length = sizeof(page);
	chk.check_map.uptr = (uintptr_t)page;
	if (ioctl(fd, IOMMU_TEST_CMD, &chk) || ioctl(fd, IOMMU_IOAS_UNMAP, &unmap) ||
	    unmap.length != sizeof(page))
		goto out;
	rc = 0;
out:
	if (rc)
		rc = -errno;
	close(fd);
	return rc;
}

/* Returns false when the fuzzer has to stop (a round it cannot kill). */
static bool one_round(struct phase *ph, long nr, int mode, uint64_t budget,
		      uint64_t deadline_ns)
{
	uint64_t seed = seed_derive(cfg.seed, (uint64_t)nr);
	uint64_t calls0 = sh->calls, hang_ns = (uint64_t)(cfg.hang_s * 1e9);
	uint64_t stop_at = 0, round_t0 = now_ns();
	bool hung = false, reaped = false;
	int sv[2], status = 0;
	char who[48];
	pid_t pid;

	memset(&sh->res, 0, sizeof(sh->res));
	memset(sh->slot, 0, sizeof(sh->slot));
	sh->round_calls = 0;
	sh->round_budget = budget;
	sh->stop = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return false;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		if (kmsg_fd >= 0)
			close(kmsg_fd);
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(run_round(seed, nr, mode, sv[1]));
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return false;
	}
	setpgid(pid, pid);

	while (!reaped) {
		struct pollfd pfd = { sv[0], POLLIN, 0 };
		uint64_t t;

		if (poll(&pfd, 1, 100) > 0 && (pfd.revents & POLLIN))
			serve_open(sv[0]);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			break;
		}
		t = now_ns();
		if (!sh->stop && t > deadline_ns) {
			sh->stop = 1;
			stop_at = t;
		}
		if (sh->round_calls >= budget && !stop_at)
			stop_at = t;
		for (int i = 0; i < FUZZ_MAX_SLOTS && !hung; i++) {
			uint64_t t0 = sh->slot[i].t0_ns;

			if (t0 && t > t0 && t - t0 > hang_ns)
				hung = true;
		}
		if (stop_at && t - stop_at > hang_ns)
			hung = true;
		if (hung)
			break;
	}
	if (hung) {
		ph->hangs++;
		finding(ph, nr, mode, "hang: a call ran longer than %.0f s",
			cfg.hang_s);
		report_inflight(now_ns(), true);
		/* Blocked tasks into the kernel log, for the console. */
		{
			int fd = open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC);

			if (fd >= 0) {
				if (write(fd, "w", 1) != 1)
					printf("# sysrq-w: %s\n", strerror(errno));
				close(fd);
			}
		}
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		for (int i = 0; i < 100 && !reaped; i++) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				reaped = true;
			else
				usleep(100 * 1000);
		}
		if (!reaped) {
			ph->unkillable = true;
			printf("# round %ld cannot be killed (stuck in the kernel): stopping\n",
			       nr);
		}
	}
	close(sv[0]);
	ph->calls += sh->calls - calls0;
	ph->rounds++;

	if (reaped && !hung && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		ph->crashes++;
		if (WIFSIGNALED(status))
			finding(ph, nr, mode, "the round died of signal %d",
				WTERMSIG(status));
		else
			finding(ph, nr, mode, "the round exited with %d",
				WEXITSTATUS(status));
	}
	/*
	 * A forked child that dies of a signal is printed, not counted as a
	 * finding: such children inherit the arena while other threads
	 * munmap, mremap and mprotect it, and no kernel report came with
	 * the ones seen so far.  The kernel log, the accounting and hung
	 * ioctls still judge the round.
	 */
	if (sh->res.children_bad)
		printf("# note round %ld: %d forked children or peers died abnormally (no finding by itself); replay: fuzz --seed %#" PRIx64 " --round %ld --mode %s --calls %" PRIu64 " --heavy %" PRIu64 " --light %" PRIu64 " --round-calls %" PRIu64 "\n",
		       nr, sh->res.children_bad, cfg.seed, nr,
		       mode == MODE_VFIO ? "vfio" : "selftest", cfg.calls,
		       cfg.heavy, cfg.light, cfg.round_calls);
	if (sh->res.done && (sh->res.pin_end_kb != sh->res.pin_start_kb ||
			     sh->res.lck_end_kb != sh->res.lck_start_kb)) {
		ph->acct_bad++;
		finding(ph, nr, mode,
			"VmPin %ld -> %ld kB, VmLck %ld -> %ld kB after closing everything",
			sh->res.pin_start_kb, sh->res.pin_end_kb,
			sh->res.lck_start_kb, sh->res.lck_end_kb);
	}
	if (sh->res.peer_checked && (sh->res.peer_pin_kb || sh->res.peer_lck_kb)) {
		ph->acct_bad++;
		finding(ph, nr, mode, "the peer kept VmPin %+ld kB, VmLck %+ld kB",
			sh->res.peer_pin_kb, sh->res.peer_lck_kb);
	}
	if (sh->errno_leaks > ph->errno_leaks || sh->bad_replies > ph->oddities) {
		finding(ph, nr, mode, "%s", sh->first_oddity);
		ph->errno_leaks = sh->errno_leaks;
		ph->oddities = sh->bad_replies;
	}
	snprintf(who, sizeof(who), "round %ld", nr);
	{
		int n = kmsg_scan(who);

		if (n) {
			ph->reports += n;
			finding(ph, nr, mode, "%d kernel log reports", n);
		}
	}
	if (!ph->unkillable) {
		int rc = sanity_sequence();

		if (rc) {
			ph->sanity_bad++;
			finding(ph, nr, mode,
				"a fresh context fails map/check/unmap after it: %s",
				strerror(-rc));
		}
	}
	if (cfg.verbose)
		printf("# round %ld (%s): %" PRIu64 " calls in %.2f s%s%s\n", nr,
		       mode == MODE_VFIO ? "vfio" : "selftest",
		       sh->calls - calls0, (double)(now_ns() - round_t0) / 1e9,
		       sh->res.note[0] ? ", " : "", sh->res.note);
	return !ph->unkillable;
}

static long next_round;

static bool run_phase(struct phase *ph, int mode, uint64_t budget,
		      double seconds)
{
	uint64_t t0 = now_ns();
	uint64_t deadline = t0 + (uint64_t)(seconds * 1e9);
	/* From the whole budget only: a replayed round gets what it had. */
	uint64_t per_round = cfg.calls / 10;

	if (per_round < 2000)
		per_round = 2000;
	if (per_round > 100000)
		per_round = 100000;
	if (cfg.round_calls)
		per_round = cfg.round_calls;
	/* The full profile's share, from the same figures: replays agree. */
	sh->heavy_pm = cfg.heavy >= per_round ? 1000 :
		       (uint32_t)((cfg.heavy * 1000 + per_round - 1) / per_round);
	sh->light_pm = cfg.light > 1000 ? 1000 : (uint32_t)cfg.light;
	if (cfg.only_round >= 0)
		return one_round(ph, cfg.only_round, mode, per_round, deadline);
	while (ph->calls < budget && now_ns() < deadline) {
		uint64_t left = budget - ph->calls;

		if (!one_round(ph, next_round++, mode,
			       left < per_round ? left : per_round, deadline))
			return false;
	}
	return true;
}

/* Accounting at the end ------------------------------------------------- */

static void my_counters(long *pin, long *lck)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "re");

	*pin = *lck = -1;
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "VmPin: %ld", pin);
		sscanf(line, "VmLck: %ld", lck);
	}
	fclose(f);
}

/*
 * The user charge of RLIMIT_MEMLOCK is not visible in /proc: probe it.  As
 * nobody, with a limit of LIMIT_PAGES, find the most pages one map can pin;
 * anything but exactly the limit means a charge was left behind (less) or
 * refunded twice (more).  Returns the pages pinnable, or -errno.
 */
#define PROBE_PAGES	512
static long probe_user_charge(void)
{
	int sv[2];
	long result = -EIO;
	pid_t pid;

	if (pipe(sv))
		return -errno;
	pid = fork();
	if (pid == 0) {
		struct rlimit lim = { PROBE_PAGES * FUZZ_PAGE, PROBE_PAGES * FUZZ_PAGE };
		struct iommu_ioas_alloc alloc = { .size = sizeof(alloc) };
		struct iommu_test_cmd md = { .size = sizeof(md),
					     .op = IOMMU_TEST_OP_MOCK_DOMAIN };
		int fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
		size_t len = (PROBE_PAGES + 8) * FUZZ_PAGE;
		long lo = 0, hi = PROBE_PAGES + 8, r;
		uint8_t *buf;

		close(sv[0]);
		buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (fd < 0 || buf == MAP_FAILED)
			_exit(1);
		madvise(buf, len, MADV_NOHUGEPAGE);
		memset(buf, 1, len);
		if (setrlimit(RLIMIT_MEMLOCK, &lim) || setgid(65534) ||
		    setuid(65534))
			_exit(1);
		if (ioctl(fd, IOMMU_IOAS_ALLOC, &alloc))
			_exit(1);
		md.id = alloc.out_ioas_id;
		if (ioctl(fd, IOMMU_TEST_CMD, &md))
			_exit(1);
		/* Largest n with a successful map of n pages: lo. */
		while (lo < hi) {
			long mid = (lo + hi + 1) / 2;
			struct iommu_ioas_map map = {
				.size = sizeof(map),
				.flags = IOMMU_IOAS_MAP_READABLE,
				.ioas_id = alloc.out_ioas_id,
				.user_va = (uintptr_t)buf,
				.length = (uint64_t)mid * FUZZ_PAGE,
			};
			struct iommu_ioas_unmap unmap = {
				.size = sizeof(unmap),
				.ioas_id = alloc.out_ioas_id,
				.length = UINT64_MAX,
			};

			if (ioctl(fd, IOMMU_IOAS_MAP, &map)) {
				hi = mid - 1;
				continue;
			}
			ioctl(fd, IOMMU_IOAS_UNMAP, &unmap);
			lo = mid;
		}
		r = lo;
		if (write(sv[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
		_exit(0);
	}
	close(sv[1]);
	if (pid > 0 && read(sv[0], &result, sizeof(result)) != sizeof(result))
		result = -EIO;
	close(sv[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return result;
}

/* The report -------------------------------------------------------------- */

static unsigned int distinct_pairs(void)
{
	unsigned int n = 0;

	for (int k = 0; k < K_NR_IOCTL_KINDS; k++)
		for (int e = 0; e < FUZZ_NR_ERRNO; e++)
			n += sh->pairs[k][e] != 0;
	return n;
}

static void print_pairs(void)
{
	for (int k = 0; k < K_NR_IOCTL_KINDS; k++) {
		char line[1024];
		uint64_t n = 0;
		size_t at = 0;

		for (int e = 0; e < FUZZ_NR_ERRNO; e++)
			n += sh->pairs[k][e];
		for (int e = 0; e < FUZZ_NR_ERRNO; e++) {
			const char *name;

			if (!sh->pairs[k][e])
				continue;
			name = e == 0 ? "ok" : e == FUZZ_ERRNO_LEAK ? "LEAKED" :
			       strerrorname_np(e);
			at += (size_t)snprintf(line + at, sizeof(line) - at,
					       " %s=%" PRIu64, name ? name : "?",
					       sh->pairs[k][e]);
			if (at >= sizeof(line))
				break;
		}
		if (at)
			printf("#   %s (%" PRIu64 " calls, %.2f s):%s\n",
			       kind_name(k), n, (double)sh->kind_ns[k] / 1e9,
			       line);
	}
}

/*
 * The ioctls whose success path the run (nearly) never reached: what the
 * generators and recipes should build for next.  Under 1 ok in 1000.
 */
static void print_unreached(void)
{
	char line[2048];
	size_t at = 0;

	for (int k = 0; k < K_NR_IOCTL_KINDS; k++) {
		uint64_t n = 0;

		for (int e = 0; e < FUZZ_NR_ERRNO; e++)
			n += sh->pairs[k][e];
		if (!n || sh->pairs[k][0] * 1000 >= n)
			continue;
		at += (size_t)snprintf(line + at, sizeof(line) - at,
				       " %s=%" PRIu64 "/%" PRIu64,
				       kind_name(k), sh->pairs[k][0], n);
		if (at >= sizeof(line))
			break;
	}
	printf("# fuzz rarely ok (ok/calls):%s\n", at ? line : " none");
}

static bool phase_clean(const struct phase *ph)
{
	return !ph->reports && !ph->hangs && !ph->crashes && !ph->sanity_bad &&
	       !ph->errno_leaks && !ph->oddities && !ph->unkillable;
}

static void phase_tap(int n, const struct phase *ph, const char *mode)
{
	printf("%s %d fuzz_%s_mode_%" PRIu64 "_calls_no_report\n",
	       phase_clean(ph) ? "ok" : "not ok", n, mode, ph->calls);
	if (!phase_clean(ph))
		printf("# %s mode: %d kernel reports, %d hangs, %d crashes, "
		       "%d failed sanity checks, %" PRIu64 " leaked errnos, "
		       "%" PRIu64 " impossible replies; first: %s\n", mode,
		       ph->reports, ph->hangs, ph->crashes, ph->sanity_bad,
		       ph->errno_leaks, ph->oddities, ph->first_finding);
}

int main(int argc, char **argv)
{
	struct phase st = { .name = "selftest" }, vf = { .name = "vfio" };
	char vfio_why[128] = "";
	bool vfio_ok, go_on = true;
	long pin0, lck0, pin1, lck1, probe;
	uint64_t t0 = now_ns(), budget_st, budget_vf;
	double secs, time_st;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	read_cmdline();
	parse_args(argc, argv);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 1;
	memset(sh, 0, sizeof(*sh));
	signal(SIGPIPE, SIG_IGN);

	printf("TAP version 13\n1..5\n");
	printf("# fuzz: seed %#" PRIx64 ", budget %" PRIu64 " calls, time cap %.0f s"
	       ", %" PRIu64 " full-profile ops a round, %" PRIu64 "/1000 of the"
	       " rest light; replay with: fuzz --seed %#" PRIx64 " --calls %" PRIu64
	       " --heavy %" PRIu64 " --light %" PRIu64 " --round-calls %" PRIu64
	       "\n", cfg.seed, cfg.calls, cfg.time_cap, cfg.heavy, cfg.light,
	       cfg.seed, cfg.calls, cfg.heavy, cfg.light, cfg.round_calls);
	if (cfg.avoid) {
		printf("# fuzz: stepping around known defects:");
		for (size_t i = 0; i < sizeof(avoid_names) / sizeof(avoid_names[0]); i++)
			if (cfg.avoid & avoid_names[i].bit)
				printf(" %s", avoid_names[i].name);
		printf(" (fuzz.avoid=none for all)\n");
	}

	fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		const char *why = strerror(errno);

		for (int i = 1; i <= 5; i++)
			printf("ok %d fuzz # SKIP no /dev/iommu: %s\n", i, why);
		return 0;
	}
	{
		struct iommu_test_cmd t = { .size = sizeof(t), .op = 0 };

		if (ioctl(fd, IOMMU_TEST_CMD, &t) == -1 && errno == ENOTTY) {
			close(fd);
			for (int i = 1; i <= 5; i++)
				printf("ok %d fuzz # SKIP module not loaded with selftest=1\n", i);
			return 0;
		}
	}
	close(fd);
	kmsg_open();
	my_counters(&pin0, &lck0);

	vfio_ok = (cfg.mode & MODE_VFIO) && vfio_available(vfio_why, sizeof(vfio_why));
	if (!(cfg.mode & MODE_VFIO))
		snprintf(vfio_why, sizeof(vfio_why), "not asked for (--mode)");
	budget_st = cfg.mode & MODE_SELFTEST ? cfg.calls : 0;
	budget_vf = 0;
	time_st = cfg.time_cap;
	if (vfio_ok) {
		budget_vf = cfg.mode & MODE_SELFTEST ? cfg.calls / 4 : cfg.calls;
		budget_st = cfg.calls - budget_vf;
		time_st = cfg.mode & MODE_SELFTEST ? cfg.time_cap * 0.75 : 0;
	}
	if (budget_st)
		go_on = run_phase(&st, MODE_SELFTEST, budget_st, time_st);
	if (vfio_ok && go_on) {
		double left = cfg.time_cap - (double)(now_ns() - t0) / 1e9;

		run_phase(&vf, MODE_VFIO, budget_vf, left > 5 ? left : 5);
	}
	secs = (double)(now_ns() - t0) / 1e9;

	phase_tap(1, &st, "selftest");
	if (vfio_ok)
		phase_tap(2, &vf, "vfio");
	else
		printf("ok 2 fuzz_vfio_mode # SKIP %s\n", vfio_why);

	my_counters(&pin1, &lck1);
	if (st.unkillable || vf.unkillable) {
		printf("ok 3 locked_vm_and_pinned_vm_back_to_start # SKIP a round is stuck in the kernel\n");
	} else {
		bool ok = !st.acct_bad && !vf.acct_bad && pin1 == pin0 && lck1 == lck0;

		printf("%s 3 locked_vm_and_pinned_vm_back_to_start\n",
		       ok ? "ok" : "not ok");
		if (!ok)
			printf("# %d rounds with VmPin/VmLck off; supervisor VmPin %ld -> %ld, VmLck %ld -> %ld kB\n",
			       st.acct_bad + vf.acct_bad, pin0, pin1, lck0, lck1);
	}
	if (st.unkillable || vf.unkillable) {
		printf("ok 4 rlimit_memlock_user_charge_back_to_start # SKIP a round is stuck in the kernel\n");
	} else {
		probe = probe_user_charge();
		if (probe < 0)
			printf("ok 4 rlimit_memlock_user_charge_back_to_start # SKIP probe failed: %s\n",
			       strerror((int)-probe));
		else
			printf("%s 4 rlimit_memlock_user_charge_back_to_start\n",
			       probe == PROBE_PAGES ? "ok" : "not ok");
		if (probe >= 0 && probe != PROBE_PAGES)
			printf("# as nobody with RLIMIT_MEMLOCK %lu pages, one map pins %ld: %ld pages %s\n",
			       (unsigned long)PROBE_PAGES, probe,
			       labs(PROBE_PAGES - probe),
			       probe < PROBE_PAGES ? "still charged" : "refunded twice");
	}
	if (st.calls + vf.calls >= cfg.calls)
		printf("ok 5 fuzz_ran_its_whole_call_budget\n");
	else if (!cfg.calls_explicit || cfg.only_round >= 0)
		printf("ok 5 fuzz_ran_its_whole_call_budget # SKIP time cap %.0f s reached after %" PRIu64 " of %" PRIu64 " calls (default budget)\n",
		       cfg.time_cap, st.calls + vf.calls, cfg.calls);
	else
		printf("not ok 5 fuzz_ran_its_whole_call_budget\n"
		       "# time cap %.0f s reached after %" PRIu64 " of %" PRIu64 " calls\n",
		       cfg.time_cap, st.calls + vf.calls, cfg.calls);

	printf("# fuzz report: %" PRIu64 " ioctls (selftest mode %" PRIu64
	       ", vfio mode %" PRIu64 ") in %ld rounds, %" PRIu64
	       " other syscalls, %u distinct ioctl/errno pairs, %d kernel reports, %.1f s, seed %#" PRIx64 "\n",
	       st.calls + vf.calls, st.calls, vf.calls, st.rounds + vf.rounds,
	       sh->syscalls, distinct_pairs(), st.reports + vf.reports, secs,
	       cfg.seed);
	printf("# fuzz rate: %.0f ioctls/s; ops of the full profile %" PRIu64
	       ", cheap %" PRIu64 ", light %" PRIu64 "\n",
	       secs > 0 ? (double)(st.calls + vf.calls) / secs : 0.0,
	       sh->profile_ops[0], sh->profile_ops[1], sh->profile_ops[2]);
	print_pairs();
	print_unreached();
	fflush(stdout);
	/* A round stuck in the kernel must not keep the runner waiting. */
	_exit(phase_clean(&st) && phase_clean(&vf) ? 0 : 1);
}
