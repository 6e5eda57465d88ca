/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The /dev/iommu fuzzer: what the supervisor (fuzz.c), the rounds and
 * their workers (round.c, ops.c) and the VFIO mode (vfio.c) share.
 *
 * Process tree:
 *   supervisor (root)      plans rounds, watches them, reads the kernel
 *                          log, opens /dev/iommu for rounds that dropped
 *                          their privileges, prints TAP
 *     round (root|nobody)  one process per round: an arena of user memory,
 *                          memfds, contexts, 1-4 worker threads
 *       peer (nobody)      gets fds over a unix socket and uses them
 *       forked children    inherit the round's fds at a random moment
 *
 * Everything the supervisor must see survives a crashed or killed round:
 * counters, the per-thread "ioctl in flight" records and the round's
 * verdict live in one MAP_SHARED region created before the first fork.
 */
#ifndef SELFTESTS_FUZZ_H
#define SELFTESTS_FUZZ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FUZZ_PAGE		4096UL
#define FUZZ_2M			(2UL << 20)

/* Kinds of call, for the ioctl/errno statistics and the in-flight log. */
enum fuzz_kind {
	K_DESTROY,
	K_IOAS_ALLOC,
	K_ALLOW_IOVAS,
	K_IOAS_COPY,
	K_IOVA_RANGES,
	K_IOAS_MAP,
	K_IOAS_UNMAP,
	K_OPTION,
	K_VFIO_IOAS,
	K_HWPT_ALLOC,
	K_GET_HW_INFO,
	K_MAP_FILE,
	K_CHANGE_PROCESS,
	K_SET_DIRTY,		/* IOMMU_HWPT_SET_DIRTY_TRACKING */
	K_GET_DIRTY,		/* IOMMU_HWPT_GET_DIRTY_BITMAP */
	K_HWPT_INVALIDATE,	/* IOMMU_HWPT_INVALIDATE */
	K_FAULT_ALLOC,		/* IOMMU_FAULT_QUEUE_ALLOC */
	K_VIOMMU_ALLOC,
	K_VDEVICE_ALLOC,
	K_VEVENTQ_ALLOC,
	K_HW_QUEUE_ALLOC,
	K_VIOMMU_INVALIDATE,	/* IOMMU_HWPT_INVALIDATE with a vIOMMU's id */
	K_UPSTREAM_OTHER,	/* upstream numbers the module does not serve */
	K_RANDOM_NR,		/* any number of our ioctl types */
	K_TEST_OP0,		/* IOMMU_TEST_CMD, op 0 .. 23 */
	K_TEST_LAST = K_TEST_OP0 + 23,
	K_TEST_BADOP,		/* IOMMU_TEST_CMD with an op past the ABI */
	K_DKMS_ATTACH,
	K_DKMS_DETACH,
	K_DKMS_OTHER,
	K_T1_API,		/* VFIO type1 ioctls on a /dev/iommu fd */
	K_T1_CHECK_EXT,
	K_T1_SET_IOMMU,
	K_T1_GET_INFO,
	K_T1_MAP,
	K_T1_UNMAP,
	K_VFIO_LINK,		/* on a VFIO container (VFIO mode) */
	K_VFIO_DEVICES,
	K_C_MAP,
	K_C_UNMAP,
	K_C_GET_INFO,
	K_C_CHECK_EXT,
	K_G_SET_CONTAINER,
	K_G_UNSET_CONTAINER,
	K_NR_IOCTL_KINDS,
	/* Syscalls, watched for hangs but not counted as ioctls. */
	K_SYS_CLOSE = K_NR_IOCTL_KINDS,
	K_SYS_MM,
	K_SYS_MEMFD,
	K_SYS_FORK,
	K_SYS_PASS,
	K_SYS_DMA,
	K_SYS_FAULT_IO,		/* read/write/poll of a fault queue fd */
	K_SYS_VEVENTQ,		/* read/poll/close of a vEVENTQ file */
	K_SYS_MMAP_VIOMMU,	/* mmap/munmap of a vIOMMU's pages */
	K_NR_KINDS,
};

/* errno 0 .. 133 (EHWPOISON) are user errnos; anything above leaked. */
#define FUZZ_NR_ERRNO		135
#define FUZZ_ERRNO_LEAK		134

#define FUZZ_MAX_SLOTS		24	/* workers, peer, forked children */
#define FUZZ_SLOT_PEER		8
#define FUZZ_SLOT_CHILD0	9
#define FUZZ_ARG_LOG		64

/* What one thread is doing right now, for the hang report. */
struct fuzz_inflight {
	int pid;
	int tid;
	uint32_t kind;
	int fd;
	unsigned long nr;
	uint64_t t0_ns;		/* 0 while not in a call */
	uint64_t calls;
	uint8_t arg[FUZZ_ARG_LOG];
};

/* A round's own verdict, written by the round before it exits. */
struct fuzz_round_result {
	int done;
	long pin_start_kb, pin_end_kb, lck_start_kb, lck_end_kb;
	long peer_pin_kb, peer_lck_kb;	/* at the peer's end: must be 0 */
	int peer_checked;
	int children_bad;		/* forked children that crashed */
	char note[160];
};

struct fuzz_shared {
	uint64_t calls;			/* every ioctl of every round */
	uint64_t syscalls;		/* chaos syscalls */
	uint64_t round_calls;		/* ioctls of the current round */
	uint64_t round_budget;
	uint32_t heavy_pm;		/* per mille of full-profile ops */
	uint32_t light_pm;		/* per mille of the others: light */
	uint64_t profile_ops[3];	/* ops of the full, cheap, light profile */
	int stop;			/* the supervisor wants the round to end */
	uint64_t errno_leaks;
	uint64_t bad_replies;		/* success with an impossible reply */
	char first_oddity[200];
	uint64_t pairs[K_NR_IOCTL_KINDS][FUZZ_NR_ERRNO];
	uint64_t kind_ns[K_NR_IOCTL_KINDS];	/* time spent in each kind */
	struct fuzz_inflight slot[FUZZ_MAX_SLOTS];
	struct fuzz_round_result res;
};

/* Known defects (issue 8) a run may step around while they are open. */
enum fuzz_avoid {
	AVOID_RO_REPLY = 1 << 0,	/* read-only reply buffers (HWPT_ALLOC) */
	AVOID_HUGE = 1 << 1,		/* huge unpopulated mappings (PFN array) */
	AVOID_FILE_LEN = 1 << 2,	/* MAP_FILE lengths near 2^64 */
	AVOID_CHANGE_PROCESS = 1 << 3,	/* IOMMU_IOAS_CHANGE_PROCESS */
	AVOID_DESTROY_OWNED = 1 << 4,	/* destroying hwpt/idev/stdev ids */
	AVOID_ACCESS_UNALIGNED = 1 << 5,/* sub-page IOVAs for access pins */
	AVOID_ACCESS_CLOSE = 1 << 6,	/* closing an access while unmaps run */
	AVOID_DETACH = 1 << 7,		/* detach racing attach's reply */
	AVOID_REJOIN = 1 << 8,		/* VFIO unbind racing attach */
};
/*
 * Everything of issue 8 is fuzzed again now that its fixes are on main,
 * and so is moving VFIO groups between containers (issue 9, fixed in
 * iommufd_vfio: a container's ioctls hold its state): nothing is
 * stepped around by default.
 */
#define FUZZ_AVOID_DEFAULT	0

struct fuzz_config {
	uint64_t seed;
	uint64_t calls;			/* total budget */
	uint64_t heavy;			/* full-profile ops per round */
	uint64_t light;			/* per mille of the rest: light profile */
	uint64_t round_calls;		/* calls per round; 0: calls / 27 */
	bool calls_explicit;
	double time_cap;		/* seconds */
	double hang_s;			/* an ioctl running longer is a hang */
	long only_round;		/* -1: all rounds */
	int threads;			/* 0: from the round seed */
	int mode;			/* bit 0 selftest, bit 1 vfio */
	unsigned int avoid;
	int verbose;
};

enum { MODE_SELFTEST = 1, MODE_VFIO = 2 };

extern struct fuzz_shared *sh;
extern struct fuzz_config cfg;

/* xoshiro256**, seeded through splitmix64: cheap and reproducible. */
struct rng {
	uint64_t s[4];
};

static inline uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void rng_seed(struct rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = ((s[1] * 5) << 7 | (s[1] * 5) >> 57) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = s[3] << 45 | s[3] >> 19;
	return result;
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t rnd(struct rng *r, uint64_t n)
{
	return rng_next(r) % n;
}

/* A seed for child number @n of @parent: rounds, threads, children. */
static inline uint64_t seed_derive(uint64_t parent, uint64_t n)
{
	uint64_t x = parent ^ (n * 0xd1b54a32d192ed03ULL);

	splitmix64(&x);
	return splitmix64(&x);
}

uint64_t now_ns(void);
const char *kind_name(int kind);

/* round.c: run one round in this (already forked) process. */
int run_round(uint64_t round_seed, long round_nr, int mode, int opener_fd);

#endif /* SELFTESTS_FUZZ_H */
