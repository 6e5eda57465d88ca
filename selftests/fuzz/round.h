/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One fuzzing round: its state and what the op generators (ops.c), the
 * VFIO mode (vfio.c) and the round driver (round.c) share.
 *
 * Book-keeping of ids and mappings is only a guide for the generators:
 * threads race with each other, with forked children and with the peer,
 * so a table may name an object that is gone (which is what stale ids are
 * for) or miss one that exists.  No lock is ever held across an ioctl.
 */
#ifndef SELFTESTS_FUZZ_ROUND_H
#define SELFTESTS_FUZZ_ROUND_H

#include <linux/types.h>

#include "fuzz.h"

#define NCTX		4	/* /dev/iommu contexts a round juggles */
#define NIDS		16	/* ids remembered per kind and context */
#define NAREAS		32	/* mappings remembered per context */
#define NACCESS		6	/* self-test access fds per context */
#define NREG		12	/* regions of the arena */
#define REG_SPAN	(16UL << 20)	/* arena span of one region */
#define REG_MAX		(8UL << 20)	/* the largest region */
#define NMEMF		6	/* memfds for MAP_FILE */
#define MEMF_MAX	(16UL << 20)
#define ARG_LEN		8192	/* argument buffer, a guard page after it */
#define SCRATCH_LEN	(1UL << 20)	/* buffers the kernel writes into */
#define HUGE_LEN	(64UL << 30)	/* unpopulated memory, never touched */
#define NCHILDREN	3	/* forked children alive at once */
#define CHEAP_LEN	(64UL << 10)	/* the most a cheap op maps or pins */

enum id_kind {
	ID_IOAS, ID_HWPT, ID_STDEV, ID_IDEV, ID_FAULT, ID_VIOMMU, ID_NKINDS
};

struct area {
	uint32_t ioas;
	uint64_t iova;
	uint64_t len;
};

struct access_ent {
	int fd;			/* -1: free */
	uint32_t ioas;
	uint32_t items[8];
	unsigned int nitems;
};

/* The objects of a context's last recipes (recipe.c); 0: none. */
struct ctx_recipes {
	uint32_t d_ioas, d_hwpt, d_stdev;	/* dirty tracking on, mapped */
	uint64_t d_iova, d_len, d_uva;
	uint32_t n_parent, n_hwpt, n_stdev, n_idev;	/* nested, attached */
	uint32_t a_ioas;			/* mapped, for accesses */
	uint64_t a_iova, a_len, a_uva;
	uint32_t v_viommu, v_parent, v_stdev, v_idev;	/* a vIOMMU ... */
	uint32_t v_virt;			/* ... its vDEVICE's virt_id */
	uint64_t v_iova, v_len;			/* mapped under its parent */
};

struct ctx {
	pthread_mutex_t lock;
	int fd;			/* -1: closed */
	uint32_t ids[ID_NKINDS][NIDS];
	unsigned int nids[ID_NKINDS];
	uint32_t stale[NIDS];
	unsigned int nstale;
	struct area areas[NAREAS];
	unsigned int nareas;
	struct access_ent acc[NACCESS];
	int fault_fd;		/* a fault queue's fd, -1: none; under @lock */
	uint32_t max_id;
	struct ctx_recipes rcp;	/* under @lock */
};

enum region_kind {
	R_ANON,		/* 4 KiB pages, MADV_NOHUGEPAGE */
	R_THP,		/* 2 MiB aligned, MADV_HUGEPAGE */
	R_SHARED,	/* MAP_SHARED of a memfd */
	R_PRIVATE_FILE,	/* MAP_PRIVATE of a memfd: copy on write */
	R_HUGETLB,	/* MAP_SHARED of a hugetlbfs memfd */
	R_RDONLY,	/* PROT_READ anonymous */
	R_NKINDS,
};

struct region {
	uintptr_t addr;
	size_t len;
	int kind;
};

struct memf {
	int fd;
	bool hugetlb;
	size_t size;
};

struct vfio_state;

struct round {
	uint64_t seed;
	long nr;
	int mode;
	bool nobody;		/* the round dropped to uid nobody */
	bool is_peer;
	int nthreads;
	struct ctx ctx[NCTX];
	uintptr_t arena;
	size_t arena_len;
	struct region reg[NREG];
	uintptr_t huge;		/* HUGE_LEN of MAP_NORESERVE memory, or 0 */
	uintptr_t guard;	/* an address that is never mapped */
	struct memf mf[NMEMF];
	pthread_mutex_t memf_lock;	/* memfd slots, arena holes vs fork */
	int misc_fd[4];		/* fds MAP_FILE must refuse */
	int peer_sock;		/* round <-> peer, -1 if none */
	pid_t peer;
	int self_sock[2];	/* passing fds to ourselves */
	int opener_fd;		/* the supervisor opens /dev/iommu for us */
	pthread_mutex_t opener_lock;
	pid_t children[NCHILDREN];
	pthread_mutex_t child_lock;
	unsigned int child_seq;
	pthread_barrier_t start;
	bool hugetlb_ok;
	struct vfio_state *vfio;
};

struct worker {
	struct rng rng;
	struct round *r;
	int slot;
	int pid, tid;		/* for the in-flight records */
	bool solo;		/* a forked child or the peer */
	bool heavy;		/* this op is of the full profile */
	bool light;		/* this op is of the light profile */
	uint8_t *arg;		/* ARG_LEN, then a guard page */
	uint8_t *ro;		/* one read-only page, then a guard page */
	uint8_t *ro_rw;		/* the same page, writable */
	uint8_t *scratch;	/* SCRATCH_LEN, then a guard page */
	size_t arg_dirty;
	uint64_t ops;
};

/* ops.c */
int fuzz_call(struct worker *w, int fd, int kind, unsigned long nr,
	      void *arg, const void *log, size_t loglen);
void *shape_arg(struct worker *w, void *s, size_t sz, size_t minsz, int kind,
		void **reply);
uint64_t pick_iova(struct worker *w, struct ctx *c, uint64_t len);
uint64_t pick_len(struct worker *w);
uint64_t cheap_len(struct worker *w, uint64_t len);
uintptr_t pick_uva(struct worker *w, __u64 *len);
uint32_t pick_id(struct worker *w, struct ctx *c, int want);
void note_id(struct ctx *c, int kind, uint32_t id);
void note_area(struct ctx *c, uint32_t ioas, uint64_t iova, uint64_t len);
struct ctx *pick_ctx(struct worker *w);
void one_op(struct worker *w);
void worker_init(struct worker *w, struct round *r, uint64_t seed, int slot,
		 bool solo);
void worker_fini(struct worker *w);
void set_inflight(struct worker *w, int kind, int fd, const void *log,
		  size_t len);
void clear_inflight(struct worker *w);
void count_syscall(void);
bool round_over(void);

/* recipe.c */
void op_recipe(struct worker *w, struct ctx *c);

/* round.c */
int ctx_open(struct round *r);
void ctx_reset(struct ctx *c, int fd);
void chaos_mm(struct worker *w);
void chaos_memf(struct worker *w);
void chaos_fd(struct worker *w);
void chaos_fork(struct worker *w);
void chaos_pass(struct worker *w);
int pick_memfd(struct worker *w);
void region_make(struct round *r, struct rng *rng, int i);

/* vfio.c */
int vfio_setup(struct round *r, struct rng *rng);
void vfio_op(struct worker *w);
void vfio_teardown(struct round *r);
bool vfio_available(char *why, size_t len);

#endif /* SELFTESTS_FUZZ_ROUND_H */
