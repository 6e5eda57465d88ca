// SPDX-License-Identifier: GPL-2.0
/*
 * The op generators: one random but ABI-shaped call of /dev/iommu each.
 *
 * Every argument is built as a valid command first (ids from the live
 * set, IOVAs and lengths from mappings that exist) and then bent: a size
 * word at or around the structure's boundaries, a reply buffer that cannot
 * be written, stale or foreign ids, random flags and data types, edge
 * IOVAs (0, the top of the 64-bit space, the x86 MSI window, the mock
 * aperture's ends), lengths that wrap.
 *
 * Memory the kernel may write through (reply arrays, ACCESS_RW reads,
 * hw_info data) is always a worker's own scratch buffer, followed by a
 * guard page, or an address that faults: the fuzzer must never corrupt
 * itself.  Memory that gets mapped into an IOAS (and can then be written
 * by ACCESS_RW or a device) always comes from the arena.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <linux/iommufd_test.h>
#include <linux/vfio.h>

#include "round.h"

#define OFFSETOFEND(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))
#define MSI_BASE	0xfee00000ULL
#define KERNEL_PTR	0xffffffff81000000ULL

void set_inflight(struct worker *w, int kind, int fd, const void *log,
		  size_t len)
{
	struct fuzz_inflight *f = &sh->slot[w->slot];

	/* Taken once by worker_init(), in the thread (or child) itself. */
	f->pid = w->pid;
	f->tid = w->tid;
	f->kind = kind;
	f->fd = fd;
	memset(f->arg, 0, sizeof(f->arg));
	if (log)
		memcpy(f->arg, log, len < FUZZ_ARG_LOG ? len : FUZZ_ARG_LOG);
	__atomic_store_n(&f->t0_ns, now_ns(), __ATOMIC_RELEASE);
}

void clear_inflight(struct worker *w)
{
	__atomic_store_n(&sh->slot[w->slot].t0_ns, 0, __ATOMIC_RELEASE);
}

void count_syscall(void)
{
	__atomic_add_fetch(&sh->syscalls, 1, __ATOMIC_RELAXED);
}

bool round_over(void)
{
	return __atomic_load_n(&sh->stop, __ATOMIC_RELAXED) ||
	       __atomic_load_n(&sh->round_calls, __ATOMIC_RELAXED) >=
		       sh->round_budget;
}

static void oddity(const char *what, int kind, int err)
{
	if (__atomic_add_fetch(&sh->bad_replies, 1, __ATOMIC_RELAXED) == 1)
		snprintf(sh->first_oddity, sizeof(sh->first_oddity),
			 "%s: %s (errno %d)", kind_name(kind), what, err);
}

/*
 * Issue one ioctl and count its outcome.  @log is the command as built
 * (before shaping), for the hang report.  Returns the ioctl's value, or
 * -errno.
 */
int fuzz_call(struct worker *w, int fd, int kind, unsigned long nr, void *arg,
	      const void *log, size_t loglen)
{
	struct fuzz_inflight *f = &sh->slot[w->slot];
	int rc, err;

	f->nr = nr;
	set_inflight(w, kind, fd, log, loglen);
	rc = ioctl(fd, nr, arg);
	err = rc < 0 ? errno : 0;
	if (kind < K_NR_IOCTL_KINDS)
		__atomic_add_fetch(&sh->kind_ns[kind], now_ns() - f->t0_ns,
				   __ATOMIC_RELAXED);
	clear_inflight(w);
	f->calls++;
	w->ops++;
	if (err >= FUZZ_ERRNO_LEAK) {
		__atomic_add_fetch(&sh->errno_leaks, 1, __ATOMIC_RELAXED);
		oddity("kernel-internal errno reached user space", kind, err);
		err = FUZZ_ERRNO_LEAK;
	}
	if (kind < K_NR_IOCTL_KINDS)
		__atomic_add_fetch(&sh->pairs[kind][err], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&sh->round_calls, 1, __ATOMIC_RELAXED);
	return rc < 0 ? -err : rc;
}

/*
 * Put command @s (@sz bytes, its first u32 the size word) where the ioctl
 * will read it, with a size word and a placement chosen around the
 * structure's boundaries.  *reply is where to read the kernel's answer,
 * NULL when the kernel cannot have written one.
 */
void *shape_arg(struct worker *w, void *s, size_t sz, size_t minsz, int kind,
		void **reply)
{
	unsigned int p = (unsigned int)rnd(&w->rng, 1000);
	uint32_t size = (uint32_t)sz;
	uint8_t *at = w->arg;

	if (w->arg_dirty) {
		memset(w->arg, 0, w->arg_dirty);
		w->arg_dirty = 0;
	}
	*reply = NULL;
	if (p < 720) {
		size = (uint32_t)sz;
	} else if (p < 760) {
		size = (uint32_t)minsz;
	} else if (p < 780) {
		size = (uint32_t)minsz - 1;
	} else if (p < 787) {
		size = 0;
	} else if (p < 794) {
		size = 4;
	} else if (p < 830) {
		size = (uint32_t)(sz + 8 * (1 + rnd(&w->rng, 4)));
	} else if (p < 860) {
		size = (uint32_t)(sz + 8);
		w->arg[sz + rnd(&w->rng, 8)] = (uint8_t)(1 + rnd(&w->rng, 255));
		w->arg_dirty = sz + 8;
	} else if (p < 868) {
		size = ARG_LEN;
	} else if (p < 874) {
		size = ARG_LEN + FUZZ_PAGE;
	} else if (p < 880) {
		size = (uint32_t)rng_next(&w->rng);
	} else if (p < 920) {
		if (kind == K_HWPT_ALLOC && (cfg.avoid & AVOID_RO_REPLY))
			goto plain;
		/*
		 * Readable, not writable: the reply must fault cleanly.  The
		 * command is written through the page's second, writable
		 * view: two mprotect()s a call cost a debug kernel 3 ms.
		 */
		memset(w->ro_rw, 0, sz + 8);
		memcpy(w->ro_rw, s, sz);
		*reply = w->ro;
		return w->ro;
	} else if (p < 940) {
		/* The structure runs into the guard page. */
		at = w->arg + ARG_LEN - sz / 2;
		memcpy(at, s, sz / 2);
		w->arg_dirty = ARG_LEN;
		return at;
	} else if (p < 960) {
		return NULL;
	} else if (p < 980) {
		return (void *)(w->arg + ARG_LEN);
	} else {
		return (void *)(uintptr_t)KERNEL_PTR;
	}
	if (0) {
plain:
		size = (uint32_t)sz;
	}
	memcpy(at, s, sz);
	memcpy(at, &size, sizeof(size));
	if (w->arg_dirty < sz)
		w->arg_dirty = sz;
	*reply = at;
	return at;
}

/* Id and mapping book-keeping ------------------------------------------- */

void note_id(struct ctx *c, int kind, uint32_t id)
{
	if (!id)
		return;
	pthread_mutex_lock(&c->lock);
	c->ids[kind][c->nids[kind]++ % NIDS] = id;
	if (id > c->max_id)
		c->max_id = id;
	pthread_mutex_unlock(&c->lock);
}

static void note_stale(struct ctx *c, uint32_t id)
{
	pthread_mutex_lock(&c->lock);
	for (int k = 0; k < ID_NKINDS; k++)
		for (int i = 0; i < NIDS; i++)
			if (c->ids[k][i] == id)
				c->ids[k][i] = 0;
	c->stale[c->nstale++ % NIDS] = id;
	pthread_mutex_unlock(&c->lock);
}

void note_area(struct ctx *c, uint32_t ioas, uint64_t iova, uint64_t len)
{
	pthread_mutex_lock(&c->lock);
	c->areas[c->nareas++ % NAREAS] = (struct area){ ioas, iova, len };
	pthread_mutex_unlock(&c->lock);
}

static bool pick_area(struct worker *w, struct ctx *c, struct area *a)
{
	bool found = false;

	pthread_mutex_lock(&c->lock);
	if (c->nareas) {
		unsigned int n = c->nareas < NAREAS ? c->nareas : NAREAS;

		*a = c->areas[rnd(&w->rng, n)];
		found = a->len != 0;
	}
	pthread_mutex_unlock(&c->lock);
	return found;
}

static void forget_area(struct ctx *c, uint32_t ioas, uint64_t iova)
{
	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < NAREAS; i++)
		if (c->areas[i].ioas == ioas && c->areas[i].iova == iova)
			c->areas[i].len = 0;
	pthread_mutex_unlock(&c->lock);
}

uint32_t pick_id(struct worker *w, struct ctx *c, int want)
{
	unsigned int p = (unsigned int)rnd(&w->rng, 100);
	uint32_t id = 0;

	pthread_mutex_lock(&c->lock);
	if (p < 80) {
		int kind = p < 70 ? want : (int)rnd(&w->rng, ID_NKINDS);
		unsigned int n = c->nids[kind] < NIDS ? c->nids[kind] : NIDS;

		if (n)
			id = c->ids[kind][rnd(&w->rng, n)];
		if (!id && c->nids[kind])
			id = c->ids[kind][(c->nids[kind] - 1) % NIDS];
	} else if (p < 88) {
		unsigned int n = c->nstale < NIDS ? c->nstale : NIDS;

		if (n)
			id = c->stale[rnd(&w->rng, n)];
	} else if (p < 92) {
		id = 0;
	} else if (p < 98) {
		id = (uint32_t)rnd(&w->rng, c->max_id + 4);
	} else {
		id = rnd(&w->rng, 2) ? UINT32_MAX : (uint32_t)rng_next(&w->rng);
	}
	pthread_mutex_unlock(&c->lock);
	return id;
}

struct ctx *pick_ctx(struct worker *w)
{
	return &w->r->ctx[rnd(&w->rng, NCTX)];
}

static int ctx_fd(struct ctx *c)
{
	return __atomic_load_n(&c->fd, __ATOMIC_RELAXED);
}

/* Addresses and lengths --------------------------------------------------- */

uint64_t pick_len(struct worker *w)
{
	unsigned int p = (unsigned int)rnd(&w->rng, 100);

	if (p < 35)
		return FUZZ_PAGE * (1 + rnd(&w->rng, 16));
	if (p < 45)
		return MOCK_PAGE_SIZE * (1 + rnd(&w->rng, 8));
	if (p < 55)
		return FUZZ_2M * (1 + rnd(&w->rng, 2)) +
		       (rnd(&w->rng, 2) ? FUZZ_PAGE : 0);
	if (p < 62)
		return FUZZ_PAGE * (1 + rnd(&w->rng, 1024));
	if (p < 67)
		return 0;
	if (p < 72)
		return 1 + rnd(&w->rng, FUZZ_PAGE);
	if (p < 76)
		return UINT64_MAX;
	if (p < 80) {
		if (cfg.avoid & AVOID_FILE_LEN)
			return FUZZ_PAGE;
		/* Lengths whose page count wraps to 0 or 1. */
		return UINT64_MAX - rnd(&w->rng, 2 * FUZZ_PAGE);
	}
	if (p < 88)
		return (rng_next(&w->rng) & 0xffffffffULL) & ~(FUZZ_PAGE - 1);
	/* Huge lengths: a PFN array sized to the mapping (issue 8, 7). */
	if (cfg.avoid & AVOID_HUGE)
		return 1ULL << (12 + rnd(&w->rng, 18));
	if (p < 92)
		return 1ULL << (12 + rnd(&w->rng, 40));
	return rng_next(&w->rng);
}

/*
 * A cheap op pins at most CHEAP_LEN: a longer length a call would really
 * map or pin becomes 1-16 pages.  Lengths beyond any address space stay,
 * the kernel refuses them before it pins anything.
 */
uint64_t cheap_len(struct worker *w, uint64_t len)
{
	if (w->heavy || len <= CHEAP_LEN || len > 1ULL << 52)
		return len;
	return FUZZ_PAGE * (1 + rnd(&w->rng, CHEAP_LEN / FUZZ_PAGE));
}

static uint64_t pick_iova_any(struct worker *w, struct ctx *c, uint64_t len);

/* Areas at sub-page IOVAs overflow ACCESS_PAGES' array (issue 8, 9). */
uint64_t pick_iova(struct worker *w, struct ctx *c, uint64_t len)
{
	uint64_t iova = pick_iova_any(w, c, len);

	if (cfg.avoid & AVOID_ACCESS_UNALIGNED)
		iova &= ~(FUZZ_PAGE - 1);
	return iova;
}

static uint64_t pick_iova_any(struct worker *w, struct ctx *c, uint64_t len)
{
	unsigned int p = (unsigned int)rnd(&w->rng, 100);
	uint64_t span = MOCK_APERTURE_LAST + 1ULL - MOCK_APERTURE_START;
	struct area a;

	if (p < 30 && c && pick_area(w, c, &a)) {
		switch (rnd(&w->rng, 5)) {
		case 0:
			return a.iova;
		case 1:
			return a.iova + (a.len / 2 & ~(FUZZ_PAGE - 1));
		case 2:
			return a.iova + a.len - FUZZ_PAGE;
		case 3:
			return a.iova + a.len;
		default:
			return a.iova - FUZZ_PAGE;
		}
	}
	if (p < 55)
		return MOCK_APERTURE_START +
		       (rnd(&w->rng, span) & ~(FUZZ_2M / 4 - 1));
	if (p < 62)
		return rnd(&w->rng, MOCK_APERTURE_START) & ~(FUZZ_PAGE - 1);
	switch (p) {
	case 62: case 63: case 64:
		return 0;
	case 65: case 66:
		return UINT64_MAX & ~(FUZZ_PAGE - 1);
	case 67: case 68:
		return UINT64_MAX;
	case 69:
		return 1ULL << 63;
	case 70: case 71: case 72:
		return MSI_BASE + FUZZ_PAGE * rnd(&w->rng, 256) -
		       (rnd(&w->rng, 2) ? len : 0);
	case 73: case 74:
		return MOCK_APERTURE_LAST + 1ULL - (len ? len : FUZZ_PAGE);
	case 75: case 76:
		return MOCK_APERTURE_START - FUZZ_PAGE;
	case 77: case 78:
		return MOCK_APERTURE_LAST + 1ULL;
	case 79: case 80: case 81:
		return (MOCK_APERTURE_START + rnd(&w->rng, span)) &
		       ~(MOCK_PAGE_SIZE - 1);
	case 82: case 83:
		return MOCK_APERTURE_START + rnd(&w->rng, span);
	case 84: case 85: case 86:
		/* Below 256 MiB: the edu device's DMA reach. */
		return 0x100000 * (1 + rnd(&w->rng, 255));
	default:
		return rng_next(&w->rng);
	}
}

/*
 * A user address to map: mostly inside a region of the arena (its start,
 * a page in it, across its end), sometimes the huge unpopulated mapping
 * or addresses that must fault.  *len is adjusted to suit the address.
 *
 * Whatever is mapped into an IOAS may be written by ACCESS_RW or a
 * device, so [address, address + *len) never leaves the arena (whose last
 * span is never mapped) or the huge mapping, and address 0 comes with at
 * most 64 KiB (nothing is mapped there); only kernel addresses keep any
 * length, the kernel must refuse them whole.
 */
uintptr_t pick_uva(struct worker *w, __u64 *len)
{
	struct round *r = w->r;
	unsigned int p = (unsigned int)rnd(&w->rng, 100);
	struct region g = r->reg[rnd(&w->rng, NREG)];
	uintptr_t uva, end;

	if (p < 80 && g.len) {
		uint64_t off = rnd(&w->rng, 4) ? 0 :
			       rnd(&w->rng, g.len / FUZZ_PAGE) * FUZZ_PAGE;
		uint64_t left = g.len - off;

		switch (rnd(&w->rng, 6)) {
		case 0: case 1: case 2:
			*len = left;
			break;
		case 3:
			*len = left ? FUZZ_PAGE * (1 + rnd(&w->rng,
						(left + FUZZ_PAGE - 1) / FUZZ_PAGE)) :
				      FUZZ_PAGE;
			break;
		case 4:
			/* One page past the region: the pin must fault. */
			*len = left + FUZZ_PAGE;
			break;
		default:
			break;
		}
		uva = g.addr + off;
		if (!rnd(&w->rng, 40))
			uva += 1 + rnd(&w->rng, FUZZ_PAGE - 1);
	} else if (p < 88 && r->huge) {
		uint64_t off = rnd(&w->rng, HUGE_LEN / FUZZ_2M) * FUZZ_2M;

		*len = rnd(&w->rng, 2) ? HUGE_LEN - off :
					 FUZZ_2M * (1 + rnd(&w->rng, 4096));
		uva = r->huge + off;
	} else if (p < 92) {
		uva = 0;
	} else if (p < 96) {
		uva = r->guard;
	} else if (p < 98) {
		return (uintptr_t)KERNEL_PTR;
	} else {
		uva = r->arena + rnd(&w->rng, r->arena_len);
	}

	if (uva == 0)
		end = 0x10000;
	else if (r->huge && uva >= r->huge && uva < r->huge + HUGE_LEN)
		end = r->huge + HUGE_LEN;
	else
		end = r->arena + r->arena_len;
	if (*len > end - uva)
		*len = end - uva;
	/*
	 * A cheap op keeps the range's end (past a region, into the never
	 * mapped span) and drops its start: 1-16 pages.
	 */
	if (!w->heavy && *len > CHEAP_LEN) {
		uint64_t n = FUZZ_PAGE * (1 + rnd(&w->rng, CHEAP_LEN / FUZZ_PAGE));

		uva += *len - n;
		*len = n;
	}
	return uva;
}

static uint32_t pick_map_flags(struct worker *w)
{
	static const uint32_t common[] = {
		IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE |
			IOMMU_IOAS_MAP_WRITEABLE,
		IOMMU_IOAS_MAP_READABLE,
		IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_READABLE,
		IOMMU_IOAS_MAP_WRITEABLE,
		0,
	};
	unsigned int p = (unsigned int)rnd(&w->rng, 100);

	if (p < 90)
		return common[rnd(&w->rng, sizeof(common) / sizeof(common[0]))];
	if (p < 95)
		return (uint32_t)(1u << rnd(&w->rng, 32)) | IOMMU_IOAS_MAP_READABLE;
	return (uint32_t)rng_next(&w->rng);
}

/* Pick a valid access fd of @c, or now and then any number. */
static struct access_ent *pick_access(struct worker *w, struct ctx *c, int *fd)
{
	struct access_ent *a = &c->acc[rnd(&w->rng, NACCESS)];

	*fd = __atomic_load_n(&a->fd, __ATOMIC_RELAXED);
	if (*fd < 0 || !rnd(&w->rng, 20)) {
		switch (rnd(&w->rng, 4)) {
		case 0:
			*fd = ctx_fd(c);
			break;
		case 1:
			*fd = -1;
			break;
		default:
			*fd = (int)rnd(&w->rng, 64);
		}
	}
	return a;
}

/* The iommufd ioctls -------------------------------------------------------- */

/*
 * A command that must fail its copy-in: a non-zero tail past the struct,
 * a size word short of the last mandatory field or past the argument
 * buffer, NULL, a kernel address.
 */
static void *shape_bent(struct worker *w, void *s, size_t sz, size_t minsz,
			void **reply)
{
	uint32_t size = (uint32_t)(sz + 8);

	*reply = NULL;
	if (w->arg_dirty) {
		memset(w->arg, 0, w->arg_dirty);
		w->arg_dirty = 0;
	}
	switch (rnd(&w->rng, 6)) {
	case 0:
		return NULL;
	case 1:
		return (void *)(uintptr_t)KERNEL_PTR;
	case 2:
		size = ARG_LEN + FUZZ_PAGE;
		break;
	case 3:
		size = (uint32_t)minsz - 1 - (uint32_t)rnd(&w->rng, 4);
		break;
	default:
		w->arg[sz + rnd(&w->rng, 8)] = (uint8_t)(1 + rnd(&w->rng, 255));
		break;
	}
	memcpy(w->arg, s, sz);
	memcpy(w->arg, &size, sizeof(size));
	w->arg_dirty = sz + 8;
	return w->arg;
}

/*
 * The light profile's calls of the ioctls that pin or map: the command is
 * built like any other, then one thing the kernel checks before it pins
 * is bent (a size word past the struct with a non-zero tail, a size word
 * short of the last mandatory field, an unknown flag, a stale or foreign
 * object id).  Where the bend happens to be harmless (a stale id that is
 * live again), the cheap profile's length limits still hold.
 */
static bool light_spoil(struct worker *w, int kind, void *cmd)
{
	uint8_t *b = cmd;
	uint32_t v;

	switch (kind) {
	case K_IOAS_MAP: case K_MAP_FILE: case K_IOAS_COPY:
	case K_TEST_OP0 + IOMMU_TEST_OP_ACCESS_PAGES:
	case K_TEST_OP0 + IOMMU_TEST_OP_ACCESS_RW:
	case K_TEST_OP0 + IOMMU_TEST_OP_MOCK_DOMAIN:
	case K_TEST_OP0 + IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
	case K_TEST_OP0 + IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		break;
	default:
		return false;
	}
	switch (rnd(&w->rng, 3)) {
	case 0:
		return true;	/* shape_bent() bends the size or pointer */
	case 1:
		if (kind < K_TEST_OP0) {
			/* flags: the second u32 of these commands */
			memcpy(&v, b + 4, sizeof(v));
			v |= 1U << (8 + rnd(&w->rng, 24));
			memcpy(b + 4, &v, sizeof(v));
			return false;
		}
		/* fall through */
	default:
		/* the object id: the third u32 of these commands */
		v = rnd(&w->rng, 2) ? 0 : (uint32_t)(1000 + rnd(&w->rng, 1U << 20));
		memcpy(b + 8, &v, sizeof(v));
		return false;
	}
}

static int run(struct worker *w, struct ctx *c, int kind, unsigned long nr,
	       void *cmd, size_t sz, size_t minsz, void **reply)
{
	bool bend = w->light && light_spoil(w, kind, cmd);
	void *arg = bend ? shape_bent(w, cmd, sz, minsz, reply) :
			   shape_arg(w, cmd, sz, minsz, kind, reply);
	int fd = ctx_fd(c);

	if (!rnd(&w->rng, 200))
		fd = (int)rnd(&w->rng, 64);
	return fuzz_call(w, fd, kind, nr, arg, cmd, sz);
}

static void op_ioas_alloc(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_alloc cmd = {
		.size = sizeof(cmd),
		.flags = rnd(&w->rng, 20) ? 0 : (uint32_t)rng_next(&w->rng),
	};
	void *reply;

	if (!run(w, c, K_IOAS_ALLOC, IOMMU_IOAS_ALLOC, &cmd, sizeof(cmd),
		 OFFSETOFEND(struct iommu_ioas_alloc, out_ioas_id), &reply) &&
	    reply) {
		uint32_t id = ((struct iommu_ioas_alloc *)reply)->out_ioas_id;

		if (!id)
			oddity("IOAS_ALLOC succeeded with id 0", K_IOAS_ALLOC, 0);
		note_id(c, ID_IOAS, id);
	}
}

static void op_destroy(struct worker *w, struct ctx *c)
{
	int kind = (int)rnd(&w->rng, ID_NKINDS);
	struct iommu_destroy cmd = { .size = sizeof(cmd) };
	void *reply;

	if (cfg.avoid & AVOID_DESTROY_OWNED) {
		/* Only ids known to be IOASes: never a device or its HWPT. */
		pthread_mutex_lock(&c->lock);
		cmd.id = c->nids[ID_IOAS] ?
			c->ids[ID_IOAS][rnd(&w->rng, c->nids[ID_IOAS] < NIDS ?
						   c->nids[ID_IOAS] : NIDS)] : 0;
		pthread_mutex_unlock(&c->lock);
	} else {
		cmd.id = pick_id(w, c, rnd(&w->rng, 3) ? ID_IOAS : kind);
	}
	if (!run(w, c, K_DESTROY, IOMMU_DESTROY, &cmd, sizeof(cmd),
		 OFFSETOFEND(struct iommu_destroy, id), &reply) && reply)
		note_stale(c, cmd.id);
}

static void op_map(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = pick_map_flags(w),
		.ioas_id = pick_id(w, c, ID_IOAS),
		.__reserved = rnd(&w->rng, 50) ? 0 : 1,
	};
	void *reply;

	cmd.length = rnd(&w->rng, 4) ? FUZZ_PAGE * (1 + rnd(&w->rng, 64)) :
				       pick_len(w);
	cmd.user_va = pick_uva(w, &cmd.length);
	cmd.iova = pick_iova(w, c, cmd.length);
	if (!run(w, c, K_IOAS_MAP, IOMMU_IOAS_MAP, &cmd, sizeof(cmd),
		 OFFSETOFEND(struct iommu_ioas_map, iova), &reply) && reply)
		note_area(c, cmd.ioas_id, ((struct iommu_ioas_map *)reply)->iova,
			  cmd.length);
}

static void op_map_file(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_map_file cmd = {
		.size = sizeof(cmd),
		.flags = pick_map_flags(w),
		.ioas_id = pick_id(w, c, ID_IOAS),
		.fd = pick_memfd(w),
	};
	void *reply;

	switch (rnd(&w->rng, 6)) {
	case 0:
		cmd.start = FUZZ_PAGE * rnd(&w->rng, 64);
		break;
	case 1:
		cmd.start = rnd(&w->rng, MEMF_MAX);
		break;
	case 2:
		cmd.start = rng_next(&w->rng);
		break;
	default:
		cmd.start = 0;
	}
	cmd.length = rnd(&w->rng, 3) ? FUZZ_PAGE * (1 + rnd(&w->rng, 512)) :
				       pick_len(w);
	cmd.length = cheap_len(w, cmd.length);
	cmd.iova = pick_iova(w, c, cmd.length);
	if (!run(w, c, K_MAP_FILE, IOMMU_IOAS_MAP_FILE, &cmd, sizeof(cmd),
		 OFFSETOFEND(struct iommu_ioas_map_file, iova), &reply) &&
	    reply)
		note_area(c, cmd.ioas_id,
			  ((struct iommu_ioas_map_file *)reply)->iova,
			  cmd.length);
}

static void op_unmap(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_unmap cmd = { .size = sizeof(cmd) };
	unsigned int p = (unsigned int)rnd(&w->rng, 100);
	struct area a;
	void *reply;

	if (p < 60 && pick_area(w, c, &a)) {
		cmd.ioas_id = rnd(&w->rng, 10) ? a.ioas : pick_id(w, c, ID_IOAS);
		cmd.iova = a.iova;
		cmd.length = a.len;
		if (!rnd(&w->rng, 5))
			cmd.length = rnd(&w->rng, 2) ? a.len / 2 : a.len + FUZZ_PAGE;
		if (!rnd(&w->rng, 8))
			cmd.iova += FUZZ_PAGE;
	} else if (p < 75) {
		cmd.ioas_id = pick_id(w, c, ID_IOAS);
		cmd.iova = 0;
		cmd.length = UINT64_MAX;
	} else {
		cmd.ioas_id = pick_id(w, c, ID_IOAS);
		cmd.length = pick_len(w);
		cmd.iova = pick_iova(w, c, cmd.length);
	}
	if (!run(w, c, K_IOAS_UNMAP, IOMMU_IOAS_UNMAP, &cmd, sizeof(cmd),
		 OFFSETOFEND(struct iommu_ioas_unmap, length), &reply) &&
	    reply) {
		uint64_t done = ((struct iommu_ioas_unmap *)reply)->length;

		if (done > cmd.length && cmd.length)
			oddity("UNMAP reported more than was asked", K_IOAS_UNMAP, 0);
		forget_area(c, cmd.ioas_id, cmd.iova);
	}
}

static void op_copy(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = pick_map_flags(w),
		.dst_ioas_id = pick_id(w, c, ID_IOAS),
	};
	struct area a;
	void *reply;

	if (rnd(&w->rng, 5) && pick_area(w, c, &a)) {
		cmd.src_ioas_id = a.ioas;
		cmd.src_iova = a.iova;
		cmd.length = a.len;
		switch (rnd(&w->rng, 6)) {
		case 0:
			/* Part of the area: the partial COPY windows. */
			cmd.length = FUZZ_PAGE * (1 + rnd(&w->rng, 4));
			cmd.src_iova += FUZZ_PAGE * rnd(&w->rng, 4);
			break;
		case 1:
			cmd.length += FUZZ_PAGE;
			break;
		default:
			break;
		}
	} else {
		cmd.src_ioas_id = pick_id(w, c, ID_IOAS);
		cmd.length = pick_len(w);
		cmd.src_iova = pick_iova(w, c, cmd.length);
	}
	if (!rnd(&w->rng, 30))
		cmd.flags |= MOCK_FLAGS_ACCESS_SYZ;
	cmd.length = cheap_len(w, cmd.length);
	cmd.dst_iova = pick_iova(w, c, cmd.length);
	if (!run(w, c, K_IOAS_COPY, IOMMU_IOAS_COPY, &cmd, sizeof(cmd),
		 OFFSETOFEND(struct iommu_ioas_copy, src_iova), &reply) &&
	    reply)
		note_area(c, cmd.dst_ioas_id,
			  ((struct iommu_ioas_copy *)reply)->dst_iova,
			  cmd.length);
}

static void fill_ranges(struct worker *w, struct ctx *c, unsigned int n)
{
	struct iommu_iova_range *rg = (void *)w->scratch;

	for (unsigned int i = 0; i < n && i < 64; i++) {
		uint64_t len = pick_len(w);

		rg[i].start = pick_iova(w, c, len);
		rg[i].last = rnd(&w->rng, 8) ? rg[i].start + len - 1 :
					       rng_next(&w->rng);
	}
}

static uint64_t pick_user_buf(struct worker *w)
{
	switch (rnd(&w->rng, 20)) {
	case 0:
		return 0;
	case 1:
		return (uintptr_t)w->ro;
	case 2:
		return (uintptr_t)w->scratch + SCRATCH_LEN;
	case 3:
		return KERNEL_PTR;
	case 4:
		return (uintptr_t)w->scratch + 1 + rnd(&w->rng, 15);
	default:
		return (uintptr_t)w->scratch;
	}
}

static void op_iova_ranges(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_iova_ranges cmd = {
		.size = sizeof(cmd),
		.ioas_id = pick_id(w, c, ID_IOAS),
		.num_iovas = rnd(&w->rng, 4) ? (uint32_t)rnd(&w->rng, 8) :
					       (uint32_t)rng_next(&w->rng),
		.allowed_iovas = pick_user_buf(w),
	};
	void *reply;

	run(w, c, K_IOVA_RANGES, IOMMU_IOAS_IOVA_RANGES, &cmd, sizeof(cmd),
	    OFFSETOFEND(struct iommu_ioas_iova_ranges, out_iova_alignment),
	    &reply);
}

static void op_allow_iovas(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_allow_iovas cmd = {
		.size = sizeof(cmd),
		.ioas_id = pick_id(w, c, ID_IOAS),
		.num_iovas = (uint32_t)rnd(&w->rng, 4),
	};
	void *reply;

	if (!rnd(&w->rng, 20))
		cmd.num_iovas = (uint32_t)rng_next(&w->rng);
	fill_ranges(w, c, cmd.num_iovas);
	cmd.allowed_iovas = rnd(&w->rng, 10) ? (uintptr_t)w->scratch :
					       pick_user_buf(w);
	run(w, c, K_ALLOW_IOVAS, IOMMU_IOAS_ALLOW_IOVAS, &cmd, sizeof(cmd),
	    OFFSETOFEND(struct iommu_ioas_allow_iovas, allowed_iovas), &reply);
}

static void op_option(struct worker *w, struct ctx *c)
{
	struct iommu_option cmd = {
		.size = sizeof(cmd),
		.option_id = rnd(&w->rng, 10) ? (uint32_t)rnd(&w->rng, 2) :
						(uint32_t)rng_next(&w->rng),
		.op = rnd(&w->rng, 10) ? (uint16_t)rnd(&w->rng, 2) :
					 (uint16_t)rng_next(&w->rng),
		.val64 = rnd(&w->rng, 10) ? rnd(&w->rng, 3) : rng_next(&w->rng),
	};
	void *reply;

	cmd.object_id = cmd.option_id == IOMMU_OPTION_HUGE_PAGES ?
				pick_id(w, c, ID_IOAS) :
				(rnd(&w->rng, 5) ? 0 : pick_id(w, c, ID_IOAS));
	run(w, c, K_OPTION, IOMMU_OPTION, &cmd, sizeof(cmd),
	    OFFSETOFEND(struct iommu_option, val64), &reply);
}

static void op_vfio_ioas(struct worker *w, struct ctx *c)
{
	struct iommu_vfio_ioas cmd = {
		.size = sizeof(cmd),
		.ioas_id = pick_id(w, c, ID_IOAS),
		.op = rnd(&w->rng, 10) ? (uint16_t)rnd(&w->rng, 3) :
					 (uint16_t)rng_next(&w->rng),
	};
	void *reply;

	run(w, c, K_VFIO_IOAS, IOMMU_VFIO_IOAS, &cmd, sizeof(cmd),
	    OFFSETOFEND(struct iommu_vfio_ioas, __reserved), &reply);
}

static void op_hwpt_alloc(struct worker *w, struct ctx *c)
{
	static const uint32_t flags[] = {
		0, 0, 0, IOMMU_HWPT_ALLOC_NEST_PARENT,
		IOMMU_HWPT_ALLOC_DIRTY_TRACKING, IOMMU_HWPT_FAULT_ID_VALID,
		IOMMU_HWPT_ALLOC_PASID,
	};
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags[rnd(&w->rng, sizeof(flags) / sizeof(flags[0]))],
		.dev_id = pick_id(w, c, ID_IDEV),
		.pt_id = pick_id(w, c, rnd(&w->rng, 4) ? ID_IOAS : ID_HWPT),
	};
	struct iommu_hwpt_selftest *data = (void *)w->scratch;
	void *reply;

	if (!rnd(&w->rng, 20))
		cmd.flags = (uint32_t)rng_next(&w->rng);
	switch (rnd(&w->rng, 8)) {
	case 0:
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		data->iotlb = IOMMU_TEST_IOTLB_DEFAULT;
		data->pagetable_type = (uint32_t)rnd(&w->rng, 3);
		cmd.data_len = rnd(&w->rng, 4) ? sizeof(*data) :
						 (uint32_t)rnd(&w->rng, 64);
		cmd.data_uptr = pick_user_buf(w);
		break;
	case 1:
		cmd.data_type = (uint32_t)rnd(&w->rng, 5);
		cmd.data_len = (uint32_t)rnd(&w->rng, 128);
		cmd.data_uptr = pick_user_buf(w);
		break;
	case 2:
		cmd.fault_id = pick_id(w, c, ID_HWPT);
		cmd.__reserved = rnd(&w->rng, 2);
		break;
	case 3:
		/* A fault queue, mostly a live one of this context. */
		cmd.flags |= IOMMU_HWPT_FAULT_ID_VALID;
		cmd.fault_id = pick_id(w, c, ID_FAULT);
		break;
	default:
		break;
	}
	if (!run(w, c, K_HWPT_ALLOC, IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd),
		 OFFSETOFEND(struct iommu_hwpt_alloc, __reserved), &reply) &&
	    reply)
		note_id(c, ID_HWPT,
			((struct iommu_hwpt_alloc *)reply)->out_hwpt_id);
}

static void op_hw_info(struct worker *w, struct ctx *c)
{
	static const uint32_t lens[] = { 0, 4, 8, 16, 64, 4096, 65536 };
	struct iommu_hw_info cmd = {
		.size = sizeof(cmd),
		.flags = rnd(&w->rng, 5) ? 0 : IOMMU_HW_INFO_FLAG_INPUT_TYPE,
		.dev_id = pick_id(w, c, ID_IDEV),
		.data_len = lens[rnd(&w->rng, sizeof(lens) / sizeof(lens[0]))],
		.data_uptr = pick_user_buf(w),
	};
	void *reply;

	if (cmd.flags)
		cmd.in_data_type = rnd(&w->rng, 2) ? IOMMU_HW_INFO_TYPE_SELFTEST :
						     (uint32_t)rnd(&w->rng, 6);
	if (!rnd(&w->rng, 30))
		cmd.flags = (uint32_t)rng_next(&w->rng);
	run(w, c, K_GET_HW_INFO, IOMMU_GET_HW_INFO, &cmd, sizeof(cmd),
	    OFFSETOFEND(struct iommu_hw_info, __reserved), &reply);
}

static void op_change_process(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_change_process cmd = {
		.size = sizeof(cmd),
		.__reserved = rnd(&w->rng, 30) ? 0 : 1,
	};
	void *reply;

	if (cfg.avoid & AVOID_CHANGE_PROCESS)
		return;
	run(w, c, K_CHANGE_PROCESS, IOMMU_IOAS_CHANGE_PROCESS, &cmd,
	    sizeof(cmd),
	    OFFSETOFEND(struct iommu_ioas_change_process, __reserved), &reply);
}

/* Upstream commands the module answers ENOTTY/EOPNOTSUPP to, and noise. */
/*
 * Dirty tracking of a HWPT: switching it on and off, and reading the
 * bitmap back.  The kernel writes the bitmap, so its buffer is the
 * scratch one (guard page after it) sized for the range, or an address
 * that must fault as a whole (NULL, a kernel address): never memory it
 * could reach past a guard page.
 */
static void op_dirty(struct worker *w, struct ctx *c)
{
	int want = rnd(&w->rng, 4) ? ID_HWPT : (int)rnd(&w->rng, ID_NKINDS);
	void *reply;

	if (rnd(&w->rng, 3) == 0) {
		struct iommu_hwpt_set_dirty_tracking cmd = {
			.size = sizeof(cmd),
			.flags = rnd(&w->rng, 8) ? (uint32_t)rnd(&w->rng, 2) :
						   (uint32_t)rng_next(&w->rng),
			.hwpt_id = pick_id(w, c, want),
			.__reserved = rnd(&w->rng, 50) ? 0 : 1,
		};

		run(w, c, K_SET_DIRTY, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd,
		    sizeof(cmd), OFFSETOFEND(struct iommu_hwpt_set_dirty_tracking,
					     __reserved), &reply);
	} else {
		struct iommu_hwpt_get_dirty_bitmap cmd = {
			.size = sizeof(cmd),
			.hwpt_id = pick_id(w, c, want),
			.flags = rnd(&w->rng, 4) ? 0 :
				 rnd(&w->rng, 2) ? IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR :
						   (uint32_t)rng_next(&w->rng),
			.__reserved = rnd(&w->rng, 50) ? 0 : 1,
		};
		uint64_t bits;

		switch (rnd(&w->rng, 8)) {
		case 0:
			cmd.page_size = MOCK_PAGE_SIZE;
			break;
		case 1:
			cmd.page_size = 1ULL << rnd(&w->rng, 64);
			break;
		case 2:
			cmd.page_size = rng_next(&w->rng) & 0xffffff;
			break;
		default:
			cmd.page_size = FUZZ_PAGE;
		}
		cmd.length = pick_len(w);
		cmd.iova = pick_iova(w, c, cmd.length);
		bits = cmd.page_size ? cmd.length / cmd.page_size + 1 : ~0ULL;
		if (bits <= 8 * (SCRATCH_LEN - 64) && rnd(&w->rng, 10))
			cmd.data = (uintptr_t)w->scratch +
				   8 * rnd(&w->rng, 8);
		else
			cmd.data = rnd(&w->rng, 2) ? 0 : KERNEL_PTR;
		run(w, c, K_GET_DIRTY, IOMMU_HWPT_GET_DIRTY_BITMAP, &cmd,
		    sizeof(cmd), OFFSETOFEND(struct iommu_hwpt_get_dirty_bitmap,
					     data), &reply);
	}
}

/*
 * IOMMU_HWPT_INVALIDATE: arrays of the mock's requests (good ones, bad
 * flags, bad indexes) with entry_len and entry_num around their limits,
 * on any kind of id.  The kernel only reads the array, so it may lie
 * anywhere: the scratch buffer, up against its guard page, or nowhere.
 */
static void op_invalidate(struct worker *w, struct ctx *c)
{
	static const uint32_t lens[] = {
		0, 1, 4, 7, 8, 8, 8, 9, 16, FUZZ_PAGE, FUZZ_PAGE + 1,
	};
	struct iommu_hwpt_invalidate_selftest *req = (void *)w->scratch;
	int want = rnd(&w->rng, 4) ? ID_HWPT : (int)rnd(&w->rng, ID_NKINDS);
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = pick_id(w, c, want),
		.data_type = rnd(&w->rng, 8) ?
				     IOMMU_HWPT_INVALIDATE_DATA_SELFTEST :
			     rnd(&w->rng, 2) ?
				     IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID :
				     (uint32_t)rng_next(&w->rng),
		.entry_len = lens[rnd(&w->rng, sizeof(lens) / sizeof(lens[0]))],
		.entry_num = (uint32_t)rnd(&w->rng, 5),
		.__reserved = rnd(&w->rng, 50) ? 0 : 1,
	};
	uint64_t bytes;
	void *reply;

	if (!rnd(&w->rng, 30))
		cmd.entry_num = rnd(&w->rng, 2) ? (1u << 19) + 1 :
						  (uint32_t)rng_next(&w->rng);
	for (unsigned int i = 0; i < 8; i++) {
		req[i].flags = rnd(&w->rng, 6) ? (uint32_t)rnd(&w->rng, 2) :
						 (uint32_t)rng_next(&w->rng);
		req[i].iotlb_id = (uint32_t)rnd(&w->rng,
						MOCK_NESTED_DOMAIN_IOTLB_NUM + 2);
	}
	bytes = (uint64_t)cmd.entry_len * cmd.entry_num;
	switch (rnd(&w->rng, 6)) {
	case 0:
		cmd.data_uptr = 0;
		break;
	case 1:
		cmd.data_uptr = KERNEL_PTR;
		break;
	case 2:
		/* Runs into the guard page after the scratch buffer. */
		cmd.data_uptr = (uintptr_t)w->scratch + SCRATCH_LEN -
				(bytes < SCRATCH_LEN ? bytes / 2 : 0);
		break;
	default:
		cmd.data_uptr = (uintptr_t)w->scratch;
	}
	run(w, c, K_HWPT_INVALIDATE, IOMMU_HWPT_INVALIDATE, &cmd, sizeof(cmd),
	    OFFSETOFEND(struct iommu_hwpt_invalidate, __reserved), &reply);
}

static void op_other_nr(struct worker *w, struct ctx *c)
{
	static const uint8_t unserved[] = { 0x95, 0x96, 0x9f };
	uint8_t *buf = w->scratch;
	unsigned long nr;
	int kind;

	for (int i = 0; i < 64; i++)
		buf[i] = rnd(&w->rng, 4) ? 0 : (uint8_t)rng_next(&w->rng);
	*(uint32_t *)buf = (uint32_t)(8 * rnd(&w->rng, 9));
	if (rnd(&w->rng, 2)) {
		kind = K_UPSTREAM_OTHER;
		nr = _IO(IOMMUFD_TYPE,
			 unserved[rnd(&w->rng, sizeof(unserved))]);
	} else if (rnd(&w->rng, 3)) {
		kind = K_RANDOM_NR;
		/* Our ioctl types only: never another driver's numbers. */
		nr = _IOC(rnd(&w->rng, 4), rnd(&w->rng, 2) ? IOMMUFD_TYPE :
							     IOMMUFD_DKMS_TYPE,
			  rnd(&w->rng, 256), rnd(&w->rng, 256));
	} else {
		kind = K_DKMS_OTHER;
		nr = _IO(IOMMUFD_DKMS_TYPE, rnd(&w->rng, 8));
		if (nr == IOMMUFD_DKMS_DEVICE_ATTACH ||
		    nr == IOMMUFD_DKMS_DEVICE_DETACH)
			nr = _IO(IOMMUFD_DKMS_TYPE, 0x03);
	}
	/* VFIO type1 numbers go to their own generator. */
	if (_IOC_TYPE(nr) == IOMMUFD_TYPE && _IOC_NR(nr) < IOMMUFD_CMD_BASE)
		nr = _IO(IOMMUFD_TYPE, 0x9f);
	fuzz_call(w, ctx_fd(c), kind, nr, rnd(&w->rng, 8) ? buf : NULL, buf, 64);
}

/* IOMMU_TEST_CMD ----------------------------------------------------------- */

static int test_run(struct worker *w, struct ctx *c, struct iommu_test_cmd *t,
		    void **reply)
{
	int kind = t->op <= 23 ? K_TEST_OP0 + (int)t->op : K_TEST_BADOP;

	t->size = sizeof(*t);
	return run(w, c, kind, IOMMU_TEST_CMD, t, sizeof(*t),
		   OFFSETOFEND(struct iommu_test_cmd, last), reply);
}

static void op_mock_domain(struct worker *w, struct ctx *c, bool flags)
{
	struct iommu_test_cmd t = {
		.op = flags ? IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS :
			      IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = pick_id(w, c, rnd(&w->rng, 4) ? ID_IOAS : ID_HWPT),
	};
	void *reply;

	if (flags)
		t.mock_domain_flags.dev_flags =
			rnd(&w->rng, 10) ? (uint32_t)rnd(&w->rng, 8) :
					   (uint32_t)rng_next(&w->rng);
	if (!test_run(w, c, &t, &reply) && reply) {
		struct iommu_test_cmd *o = reply;

		note_id(c, ID_STDEV, o->mock_domain.out_stdev_id);
		note_id(c, ID_HWPT, o->mock_domain.out_hwpt_id);
		note_id(c, ID_IDEV, o->mock_domain.out_idev_id);
	}
}

static void op_mock_replace(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = pick_id(w, c, ID_STDEV),
	};
	void *reply;

	t.mock_domain_replace.pt_id =
		pick_id(w, c, rnd(&w->rng, 2) ? ID_IOAS : ID_HWPT);
	if (!test_run(w, c, &t, &reply) && reply)
		note_id(c, ID_HWPT,
			((struct iommu_test_cmd *)reply)->mock_domain_replace.pt_id);
}

static void op_add_reserved(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_ADD_RESERVED,
		.id = pick_id(w, c, ID_IOAS),
	};
	void *reply;

	t.add_reserved.length = rnd(&w->rng, 3) ? FUZZ_PAGE * (1 + rnd(&w->rng, 16)) :
						  pick_len(w);
	t.add_reserved.start = pick_iova(w, c, t.add_reserved.length);
	test_run(w, c, &t, &reply);
}

static void op_check_map(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_MD_CHECK_MAP,
		.id = pick_id(w, c, ID_HWPT),
	};
	__u64 len = FUZZ_PAGE * (1 + rnd(&w->rng, 8));
	void *reply;

	t.check_map.uptr = pick_uva(w, &len);
	t.check_map.length = len > 16 * FUZZ_PAGE ? 16 * FUZZ_PAGE : len;
	t.check_map.iova = pick_iova(w, c, t.check_map.length);
	test_run(w, c, &t, &reply);
}

static void op_check_refs(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_MD_CHECK_REFS };
	__u64 len = FUZZ_PAGE * (1 + rnd(&w->rng, 8));
	void *reply;

	t.check_refs.uptr = pick_uva(w, &len);
	t.check_refs.length = len > 16 * FUZZ_PAGE ? 16 * FUZZ_PAGE : len;
	t.check_refs.refs = (uint32_t)rnd(&w->rng, 3);
	test_run(w, c, &t, &reply);
}

static void op_create_access(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = pick_id(w, c, ID_IOAS),
	};
	struct access_ent *a = &c->acc[rnd(&w->rng, NACCESS)];
	void *reply;
	int old;

	t.create_access.flags = rnd(&w->rng, 10) ?
		(rnd(&w->rng, 4) ? MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES : 0) :
		(uint32_t)rng_next(&w->rng);
	if (cfg.avoid & AVOID_ACCESS_CLOSE) {
		/* Keep every access to the end of the round: free slots only. */
		for (int i = 0; i < NACCESS; i++)
			if (c->acc[i].fd < 0)
				a = &c->acc[i];
		if (a->fd >= 0)
			return;
	}
	if (test_run(w, c, &t, &reply) || !reply)
		return;
	/* The slot's old access goes: closing it while others use it. */
	pthread_mutex_lock(&c->lock);
	old = a->fd;
	a->fd = (int)((struct iommu_test_cmd *)reply)->create_access.out_access_fd;
	a->ioas = t.id;
	a->nitems = 0;
	pthread_mutex_unlock(&c->lock);
	if (old >= 0) {
		set_inflight(w, K_SYS_CLOSE, old, NULL, 0);
		close(old);
		clear_inflight(w);
		count_syscall();
	}
}

static void op_access_pages(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_ACCESS_PAGES };
	struct access_ent *a;
	struct area ar;
	void *reply;
	int fd;

	a = pick_access(w, c, &fd);
	t.id = (uint32_t)fd;
	t.access_pages.flags = rnd(&w->rng, 10) ?
		(uint32_t)rnd(&w->rng, 2) :
		(rnd(&w->rng, 2) ? MOCK_FLAGS_ACCESS_SYZ :
				   (uint32_t)rng_next(&w->rng));
	t.access_pages.length = FUZZ_PAGE * (1 + rnd(&w->rng, 8));
	if (rnd(&w->rng, 3) && pick_area(w, c, &ar)) {
		t.access_pages.iova = ar.iova + FUZZ_PAGE * rnd(&w->rng, 4);
		if (!rnd(&w->rng, 4))
			t.access_pages.length = cheap_len(w, ar.len);
	} else {
		t.access_pages.iova = pick_iova(w, c, t.access_pages.length);
	}
	if ((cfg.avoid & AVOID_ACCESS_UNALIGNED))
		t.access_pages.iova &= ~(FUZZ_PAGE - 1);
	else if (!rnd(&w->rng, 20))
		t.access_pages.iova += MOCK_PAGE_SIZE;
	if (!rnd(&w->rng, 10)) {
		__u64 len = t.access_pages.length;

		t.access_pages.uptr = pick_uva(w, &len);
	}
	if (!test_run(w, c, &t, &reply) && reply) {
		pthread_mutex_lock(&c->lock);
		if (a->fd == fd)
			a->items[a->nitems++ % 8] =
				((struct iommu_test_cmd *)reply)
					->access_pages.out_access_pages_id;
		pthread_mutex_unlock(&c->lock);
	}
}

static void op_destroy_access_pages(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES };
	struct access_ent *a;
	void *reply;
	int fd;

	a = pick_access(w, c, &fd);
	t.id = (uint32_t)fd;
	t.destroy_access_pages.access_pages_id =
		a->nitems && rnd(&w->rng, 5) ? a->items[rnd(&w->rng, 8)] :
					       (uint32_t)rnd(&w->rng, 16);
	test_run(w, c, &t, &reply);
}

static void op_access_rw(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_ACCESS_RW };
	struct area ar;
	void *reply;
	int fd;

	pick_access(w, c, &fd);
	t.id = (uint32_t)fd;
	t.access_rw.length = rnd(&w->rng, 10) ? 1 + rnd(&w->rng, 3 * FUZZ_PAGE) :
						cheap_len(w, pick_len(w));
	if (rnd(&w->rng, 3) && pick_area(w, c, &ar))
		t.access_rw.iova = ar.iova + rnd(&w->rng, ar.len ? ar.len : 1);
	else
		t.access_rw.iova = pick_iova(w, c, t.access_rw.length);
	/* Reads land in our scratch buffer, writes come from it. */
	t.access_rw.uptr = rnd(&w->rng, 20) ? (uintptr_t)w->scratch :
					      pick_user_buf(w);
	t.access_rw.flags = rnd(&w->rng, 10) ?
		(uint32_t)(rnd(&w->rng, 2) * MOCK_ACCESS_RW_WRITE |
			   rnd(&w->rng, 2) * MOCK_ACCESS_RW_SLOW_PATH) :
		(uint32_t)rng_next(&w->rng);
	test_run(w, c, &t, &reply);
}

static void op_access_replace(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_ACCESS_REPLACE_IOAS };
	void *reply;
	int fd;

	pick_access(w, c, &fd);
	t.id = (uint32_t)fd;
	t.access_replace_ioas.ioas_id = pick_id(w, c, ID_IOAS);
	test_run(w, c, &t, &reply);
}

static void op_test_other(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t;
	uint8_t *b = (uint8_t *)&t;
	void *reply;

	memset(&t, 0, sizeof(t));
	for (size_t i = 16; i < sizeof(t); i++)
		b[i] = rnd(&w->rng, 3) ? 0 : (uint8_t)rng_next(&w->rng);
	switch (rnd(&w->rng, 4)) {
	case 0:
		t.op = IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT;
		t.memory_limit.limit = rnd(&w->rng, 2) ? 65536 :
					(uint32_t)rnd(&w->rng, 64);
		break;
	case 1:
		t.op = (uint32_t)rng_next(&w->rng);
		break;
	default:
		/* Ops 0 and 13-23: not served (yet); ids from the live set. */
		t.op = rnd(&w->rng, 12) ? 13 + (uint32_t)rnd(&w->rng, 11) : 0;
		t.id = pick_id(w, c, (int)rnd(&w->rng, ID_NKINDS));
		/* No mock DMA-buf fds: they would leak if it ever worked. */
		if (t.op == IOMMU_TEST_OP_DMABUF_GET)
			t.op = IOMMU_TEST_OP_DMABUF_REVOKE;
	}
	test_run(w, c, &t, &reply);
}

/*
 * vIOMMUs and what hangs off them.  A vEVENTQ's file is read, polled and
 * closed on the spot (closed without reading now and then, events and
 * all); a vIOMMU's pages are mapped from /dev/iommu at the offset the
 * allocation returned, or at another, and unmapped again.
 */
static void viommu_use_veventq(struct worker *w, int qfd)
{
	struct pollfd pfd = { .fd = qfd, .events = POLLIN };

	count_syscall();
	set_inflight(w, K_SYS_VEVENTQ, qfd, NULL, 0);
	if (rnd(&w->rng, 3)) {
		ssize_t got;

		poll(&pfd, 1, 0);
		got = read(qfd, w->scratch, rnd(&w->rng, 2) ? 256 :
			   (size_t)rnd(&w->rng, 24));
		(void)got;
	}
	close(qfd);
	clear_inflight(w);
}

static void viommu_mmap_page(struct worker *w, struct ctx *c,
			     const struct iommu_viommu_selftest *data)
{
	uint64_t off = data->out_mmap_offset, len = data->out_mmap_length;
	void *p;

	if (!len || len > 16 * FUZZ_PAGE)
		return;
	switch (rnd(&w->rng, 6)) {
	case 0:
		off += FUZZ_PAGE;
		break;
	case 1:
		len = FUZZ_PAGE;
		break;
	default:
		break;
	}
	count_syscall();
	set_inflight(w, K_SYS_MMAP_VIOMMU, ctx_fd(c), NULL, 0);
	p = mmap(NULL, len, PROT_READ | (rnd(&w->rng, 2) ? PROT_WRITE : 0),
		 rnd(&w->rng, 8) ? MAP_SHARED : MAP_PRIVATE, ctx_fd(c),
		 (off_t)off);
	if (p != MAP_FAILED) {
		(void)*(volatile uint32_t *)p;
		munmap(p, len);
	}
	clear_inflight(w);
}

static void op_viommu(struct worker *w, struct ctx *c)
{
	uint32_t viommu_id = pick_id(w, c, ID_VIOMMU);
	void *reply;

	switch (rnd(&w->rng, 7)) {
	case 0: {
		struct iommu_viommu_selftest *data = (void *)w->scratch;
		struct iommu_viommu_alloc cmd = {
			.size = sizeof(cmd),
			.flags = rnd(&w->rng, 20) ? 0 : (uint32_t)rng_next(&w->rng),
			.type = rnd(&w->rng, 6) ? IOMMU_VIOMMU_TYPE_SELFTEST :
						  (uint32_t)rnd(&w->rng, 4),
			.dev_id = pick_id(w, c, ID_IDEV),
			.hwpt_id = pick_id(w, c, ID_HWPT),
		};

		/* Most HWPTs are no nest parent: make one now and then. */
		if (!rnd(&w->rng, 3)) {
			struct iommu_hwpt_alloc parent = {
				.size = sizeof(parent),
				.flags = IOMMU_HWPT_ALLOC_NEST_PARENT,
				.dev_id = cmd.dev_id,
				.pt_id = pick_id(w, c, ID_IOAS),
			};

			if (!run(w, c, K_HWPT_ALLOC, IOMMU_HWPT_ALLOC, &parent,
				 sizeof(parent),
				 OFFSETOFEND(struct iommu_hwpt_alloc, __reserved),
				 &reply) && reply) {
				cmd.hwpt_id = ((struct iommu_hwpt_alloc *)reply)->out_hwpt_id;
				note_id(c, ID_HWPT, cmd.hwpt_id);
			}
		}
		memset(data, 0, sizeof(*data));
		data->in_data = (uint32_t)rng_next(&w->rng);
		if (rnd(&w->rng, 2)) {
			cmd.data_len = rnd(&w->rng, 4) ? sizeof(*data) :
							 (uint32_t)rnd(&w->rng, 40);
			cmd.data_uptr = rnd(&w->rng, 8) ? (uintptr_t)data :
							  pick_user_buf(w);
		}
		if (!run(w, c, K_VIOMMU_ALLOC, IOMMU_VIOMMU_ALLOC, &cmd,
			 sizeof(cmd),
			 OFFSETOFEND(struct iommu_viommu_alloc, out_viommu_id),
			 &reply) && reply) {
			note_id(c, ID_VIOMMU,
				((struct iommu_viommu_alloc *)reply)->out_viommu_id);
			if (cmd.data_uptr == (uintptr_t)data &&
			    cmd.data_len == sizeof(*data))
				viommu_mmap_page(w, c, data);
		}
		break;
	}
	case 1: {
		struct iommu_vdevice_alloc cmd = {
			.size = sizeof(cmd),
			.viommu_id = viommu_id,
			.dev_id = pick_id(w, c, ID_IDEV),
			.virt_id = rnd(&w->rng, 4) ? rnd(&w->rng, 8) :
						     rng_next(&w->rng),
		};

		run(w, c, K_VDEVICE_ALLOC, IOMMU_VDEVICE_ALLOC, &cmd,
		    sizeof(cmd), OFFSETOFEND(struct iommu_vdevice_alloc, virt_id),
		    &reply);
		break;
	}
	case 2: {
		static const uint32_t depths[] = { 0, 1, 2, 8, UINT32_MAX };
		struct iommu_veventq_alloc cmd = {
			.size = sizeof(cmd),
			.flags = rnd(&w->rng, 30) ? 0 : 1,
			.viommu_id = viommu_id,
			.type = rnd(&w->rng, 4) ? IOMMU_VEVENTQ_TYPE_SELFTEST :
						  (uint32_t)rnd(&w->rng, 4),
			.veventq_depth = depths[rnd(&w->rng, 5)],
			.__reserved = rnd(&w->rng, 30) ? 0 : 1,
		};

		if (!run(w, c, K_VEVENTQ_ALLOC, IOMMU_VEVENTQ_ALLOC, &cmd,
			 sizeof(cmd),
			 OFFSETOFEND(struct iommu_veventq_alloc, out_veventq_fd),
			 &reply) && reply)
			viommu_use_veventq(w,
				(int)((struct iommu_veventq_alloc *)reply)->out_veventq_fd);
		break;
	}
	case 3: {
		struct iommu_hw_queue_alloc cmd = {
			.size = sizeof(cmd),
			.viommu_id = viommu_id,
			.type = rnd(&w->rng, 4) ? IOMMU_HW_QUEUE_TYPE_SELFTEST :
						  (uint32_t)rnd(&w->rng, 3),
			.index = (uint32_t)rnd(&w->rng, 4),
		};

		cmd.length = cheap_len(w, pick_len(w));
		cmd.nesting_parent_iova = pick_iova(w, c, cmd.length);
		run(w, c, K_HW_QUEUE_ALLOC, IOMMU_HW_QUEUE_ALLOC, &cmd,
		    sizeof(cmd), OFFSETOFEND(struct iommu_hw_queue_alloc, length),
		    &reply);
		break;
	}
	case 4: {
		struct iommu_viommu_invalidate_selftest *req = (void *)w->scratch;
		struct iommu_hwpt_invalidate cmd = {
			.size = sizeof(cmd),
			.hwpt_id = viommu_id,
			.data_uptr = (uintptr_t)req,
			.data_type = rnd(&w->rng, 5) ?
				IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST :
				(uint32_t)rng_next(&w->rng),
			.entry_len = rnd(&w->rng, 5) ? sizeof(*req) :
						       (uint32_t)rnd(&w->rng, 32),
			.entry_num = (uint32_t)rnd(&w->rng, 4),
		};

		for (unsigned int i = 0; i < 4; i++)
			req[i] = (struct iommu_viommu_invalidate_selftest){
				.flags = rnd(&w->rng, 6) ? 0 :
					 (uint32_t)rnd(&w->rng, 4),
				.vdev_id = (uint32_t)rnd(&w->rng, 8),
				.cache_id = (uint32_t)rnd(&w->rng, 5),
			};
		run(w, c, K_VIOMMU_INVALIDATE, IOMMU_HWPT_INVALIDATE, &cmd,
		    sizeof(cmd),
		    OFFSETOFEND(struct iommu_hwpt_invalidate, __reserved), &reply);
		break;
	}
	case 5: {
		struct iommu_hwpt_selftest *data = (void *)w->scratch;
		struct iommu_hwpt_alloc cmd = {
			.size = sizeof(cmd),
			.flags = rnd(&w->rng, 10) ? 0 : (uint32_t)rnd(&w->rng, 16),
			.dev_id = pick_id(w, c, ID_IDEV),
			.pt_id = viommu_id,
			.data_type = IOMMU_HWPT_DATA_SELFTEST,
			.data_len = sizeof(*data),
			.data_uptr = (uintptr_t)data,
		};

		data->iotlb = IOMMU_TEST_IOTLB_DEFAULT;
		data->pagetable_type = 0;
		if (!run(w, c, K_HWPT_ALLOC, IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd),
			 OFFSETOFEND(struct iommu_hwpt_alloc, __reserved),
			 &reply) && reply)
			note_id(c, ID_HWPT,
				((struct iommu_hwpt_alloc *)reply)->out_hwpt_id);
		break;
	}
	default: {
		struct iommu_test_cmd t = {
			.size = sizeof(t),
		};

		if (rnd(&w->rng, 2)) {
			t.op = IOMMU_TEST_OP_TRIGGER_VEVENT;
			t.trigger_vevent.dev_id = pick_id(w, c, ID_IDEV);
		} else {
			t.op = IOMMU_TEST_OP_DEV_CHECK_CACHE;
			t.id = pick_id(w, c, ID_IDEV);
			t.check_dev_cache.id = (uint32_t)rnd(&w->rng, 5);
			t.check_dev_cache.cache = rnd(&w->rng, 2) ?
				IOMMU_TEST_DEV_CACHE_DEFAULT : 0;
		}
		test_run(w, c, &t, &reply);
	}
	}
}

/* Fault queues: IOMMU_FAULT_QUEUE_ALLOC, page requests, the queue's fd --- */

static void fault_queue_alloc(struct worker *w, struct ctx *c)
{
	struct iommu_fault_alloc cmd = {
		.size = sizeof(cmd),
		.flags = rnd(&w->rng, 10) ? 0 : (uint32_t)rng_next(&w->rng),
	};
	struct iommu_fault_alloc *out;
	void *reply;
	int old;

	if (run(w, c, K_FAULT_ALLOC, IOMMU_FAULT_QUEUE_ALLOC, &cmd,
		sizeof(cmd), OFFSETOFEND(struct iommu_fault_alloc, out_fault_fd),
		&reply) || !reply)
		return;
	out = reply;
	note_id(c, ID_FAULT, out->out_fault_id);
	/* One fd kept per context: the one it replaces goes. */
	pthread_mutex_lock(&c->lock);
	old = c->fault_fd;
	c->fault_fd = (int)out->out_fault_fd;
	pthread_mutex_unlock(&c->lock);
	if (old >= 0) {
		set_inflight(w, K_SYS_CLOSE, old, NULL, 0);
		close(old);
		clear_inflight(w);
		count_syscall();
	}
}

static void fault_trigger(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_TRIGGER_IOPF };
	void *reply;

	t.trigger_iopf.dev_id = pick_id(w, c, ID_IDEV);
	t.trigger_iopf.pasid = rnd(&w->rng, 4) ? 0 : (uint32_t)rng_next(&w->rng);
	t.trigger_iopf.grpid = (uint32_t)rnd(&w->rng, 512);
	t.trigger_iopf.perm = (uint32_t)rnd(&w->rng, 16);
	t.trigger_iopf.addr = rng_next(&w->rng);
	test_run(w, c, &t, &reply);
}

/*
 * Read what waits (whole records, odd sizes, bad buffers) and answer it:
 * the cookies read, stale or made up ones, unknown codes.  Under the
 * context's lock, so that the fd cannot be closed and reused meanwhile;
 * neither call blocks.
 */
static void fault_io(struct worker *w, struct ctx *c)
{
	const size_t rec = sizeof(struct iommu_hwpt_pgfault);
	struct iommu_hwpt_page_response *ans = (void *)(w->scratch + 8192);
	struct iommu_hwpt_pgfault *recs = (void *)w->scratch;
	size_t count = rec * rnd(&w->rng, 5);
	struct pollfd pfd = { .events = POLLIN | POLLOUT };
	void *buf = recs;
	ssize_t n;
	int i;

	if (!rnd(&w->rng, 8))
		count += 1 + rnd(&w->rng, rec - 1);
	if (!rnd(&w->rng, 16))
		buf = rnd(&w->rng, 2) ? NULL : (void *)(uintptr_t)KERNEL_PTR;
	pthread_mutex_lock(&c->lock);
	pfd.fd = c->fault_fd;
	if (pfd.fd < 0)
		goto out_unlock;
	set_inflight(w, K_SYS_FAULT_IO, pfd.fd, NULL, 0);
	poll(&pfd, 1, 0);
	n = read(pfd.fd, buf, count);
	for (i = 0; n > 0 && i < n / (ssize_t)rec; i++) {
		ans[i].cookie = rnd(&w->rng, 8) ? recs[i].cookie :
						  (uint32_t)rng_next(&w->rng);
		ans[i].code = rnd(&w->rng, 8) ? (uint32_t)rnd(&w->rng, 2) :
						(uint32_t)rng_next(&w->rng);
	}
	if (i || !rnd(&w->rng, 4))
		(void)!write(pfd.fd, ans, i * sizeof(*ans) +
					  (rnd(&w->rng, 8) ? 0 : 3));
	clear_inflight(w);
	count_syscall();
out_unlock:
	pthread_mutex_unlock(&c->lock);
}

static void op_fault(struct worker *w, struct ctx *c)
{
	switch (rnd(&w->rng, 6)) {
	case 0:
		fault_queue_alloc(w, c);
		break;
	case 1: case 2:
		fault_trigger(w, c);
		break;
	default:
		fault_io(w, c);
		break;
	}
}

/* Our extensions on /dev/iommu: attach, replace, detach ------------------ */

static void op_dkms_attach(struct worker *w, struct ctx *c)
{
	struct iommufd_dkms_device_attach cmd = {
		.size = sizeof(cmd),
		.dev_id = pick_id(w, c, ID_IDEV),
		.pt_id = pick_id(w, c, rnd(&w->rng, 2) ? ID_IOAS : ID_HWPT),
		.__reserved = rnd(&w->rng, 50) ? 0 : 1,
	};
	void *reply;

	if (!run(w, c, K_DKMS_ATTACH, IOMMUFD_DKMS_DEVICE_ATTACH, &cmd,
		 sizeof(cmd),
		 OFFSETOFEND(struct iommufd_dkms_device_attach, __reserved),
		 &reply) && reply)
		note_id(c, ID_HWPT,
			((struct iommufd_dkms_device_attach *)reply)->pt_id);
}

static void op_dkms_detach(struct worker *w, struct ctx *c)
{
	struct iommufd_dkms_device_detach cmd = {
		.size = sizeof(cmd),
		.dev_id = pick_id(w, c, ID_IDEV),
	};
	void *reply;

	if (cfg.avoid & AVOID_DETACH)
		return;
	run(w, c, K_DKMS_DETACH, IOMMUFD_DKMS_DEVICE_DETACH, &cmd, sizeof(cmd),
	    OFFSETOFEND(struct iommufd_dkms_device_detach, dev_id), &reply);
}

/* VFIO type1 on a /dev/iommu fd (upstream's compatibility) ---------------- */

static void op_type1(struct worker *w, struct ctx *c)
{
	int fd = ctx_fd(c);

	switch (rnd(&w->rng, 8)) {
	case 0:
		fuzz_call(w, fd, K_T1_API, VFIO_GET_API_VERSION, NULL, NULL, 0);
		break;
	case 1: {
		static const unsigned long ext[] = { VFIO_TYPE1_IOMMU,
			VFIO_TYPE1v2_IOMMU, VFIO_UNMAP_ALL, VFIO_DMA_CC_IOMMU,
			VFIO_NOIOMMU_IOMMU, 0x1f0d, 99 };
		unsigned long e = ext[rnd(&w->rng, sizeof(ext) / sizeof(ext[0]))];

		fuzz_call(w, fd, K_T1_CHECK_EXT, VFIO_CHECK_EXTENSION,
			  (void *)e, &e, sizeof(e));
		break;
	}
	case 2: {
		unsigned long t = rnd(&w->rng, 4) ?
			(rnd(&w->rng, 2) ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU) :
			rnd(&w->rng, 16);

		fuzz_call(w, fd, K_T1_SET_IOMMU, VFIO_SET_IOMMU, (void *)t,
			  &t, sizeof(t));
		break;
	}
	case 3: {
		struct vfio_iommu_type1_info *info = (void *)w->scratch;
		static const uint32_t sizes[] = { 0, 8, 16, 24, 64, 4096 };

		memset(info, 0, 64);
		info->argsz = sizes[rnd(&w->rng, 6)];
		fuzz_call(w, fd, K_T1_GET_INFO, VFIO_IOMMU_GET_INFO,
			  rnd(&w->rng, 10) ? (void *)info : (void *)w->ro,
			  info, sizeof(*info));
		break;
	}
	case 4: case 5: case 6: {
		struct vfio_iommu_type1_dma_map *m = (void *)w->scratch;

		memset(m, 0, sizeof(*m));
		m->argsz = rnd(&w->rng, 10) ? sizeof(*m) : (uint32_t)rnd(&w->rng, 64);
		m->flags = rnd(&w->rng, 10) ?
			VFIO_DMA_MAP_FLAG_READ | (rnd(&w->rng, 4) ? VFIO_DMA_MAP_FLAG_WRITE : 0) :
			(uint32_t)rnd(&w->rng, 16);
		m->size = FUZZ_PAGE * (1 + rnd(&w->rng, 64));
		m->vaddr = pick_uva(w, &m->size);
		m->iova = pick_iova(w, c, m->size);
		/* The light profile's maps fail before they pin. */
		if (w->light)
			m->flags |= 1U << (8 + rnd(&w->rng, 24));
		if (!fuzz_call(w, fd, K_T1_MAP, VFIO_IOMMU_MAP_DMA, m, m,
			       sizeof(*m)))
			note_area(c, 0, m->iova, m->size);
		break;
	}
	default: {
		struct vfio_iommu_type1_dma_unmap *u = (void *)w->scratch;
		struct area a;

		memset(u, 0, sizeof(*u));
		u->argsz = rnd(&w->rng, 10) ? sizeof(*u) : (uint32_t)rnd(&w->rng, 64);
		u->flags = rnd(&w->rng, 6) ? 0 :
			(rnd(&w->rng, 2) ? VFIO_DMA_UNMAP_FLAG_ALL :
					   (uint32_t)rnd(&w->rng, 8));
		if (pick_area(w, c, &a) && rnd(&w->rng, 2)) {
			u->iova = a.iova;
			u->size = a.len;
		} else {
			u->size = pick_len(w);
			u->iova = pick_iova(w, c, u->size);
		}
		fuzz_call(w, fd, K_T1_UNMAP, VFIO_IOMMU_UNMAP_DMA, u, u,
			  sizeof(*u));
	}
	}
}

/* The dispatcher --------------------------------------------------------- */

enum op_id {
	O_MAP, O_UNMAP, O_MAP_FILE, O_COPY, O_IOAS_ALLOC, O_DESTROY,
	O_IOVA_RANGES, O_ALLOW_IOVAS, O_OPTION, O_VFIO_IOAS, O_HWPT_ALLOC,
	O_HW_INFO, O_CHANGE_PROCESS, O_DIRTY, O_FAULT, O_OTHER_NR, O_MOCK_DOMAIN,
	O_MOCK_DOMAIN_FLAGS, O_MOCK_REPLACE, O_ADD_RESERVED, O_CHECK_MAP,
	O_CHECK_REFS, O_CREATE_ACCESS, O_ACCESS_PAGES, O_DESTROY_ACCESS_PAGES,
	O_ACCESS_RW, O_ACCESS_REPLACE, O_TEST_OTHER, O_DKMS_ATTACH,
	O_DKMS_DETACH, O_TYPE1, O_CHAOS_MM, O_CHAOS_MEMF, O_CHAOS_FD,
	O_CHAOS_FORK, O_CHAOS_PASS, O_VFIO, O_INVALIDATE, O_VIOMMU,
	O_RECIPE, O_NR
};

/* Relative weights, in tenths. */
static const unsigned int op_weight[O_NR] = {
	[O_MAP] = 120, [O_UNMAP] = 80, [O_MAP_FILE] = 60, [O_COPY] = 60,
	[O_IOAS_ALLOC] = 40, [O_DESTROY] = 50, [O_IOVA_RANGES] = 30,
	[O_ALLOW_IOVAS] = 20, [O_OPTION] = 30, [O_VFIO_IOAS] = 20,
	[O_HWPT_ALLOC] = 30, [O_HW_INFO] = 20, [O_CHANGE_PROCESS] = 15,
	[O_DIRTY] = 30, [O_FAULT] = 20,
	[O_OTHER_NR] = 10, [O_MOCK_DOMAIN] = 40, [O_MOCK_DOMAIN_FLAGS] = 15,
	[O_MOCK_REPLACE] = 30, [O_ADD_RESERVED] = 20, [O_CHECK_MAP] = 20,
	[O_CHECK_REFS] = 10, [O_CREATE_ACCESS] = 30, [O_ACCESS_PAGES] = 50,
	[O_DESTROY_ACCESS_PAGES] = 20, [O_ACCESS_RW] = 40,
	[O_ACCESS_REPLACE] = 20, [O_TEST_OTHER] = 10, [O_DKMS_ATTACH] = 20,
	[O_DKMS_DETACH] = 10, [O_TYPE1] = 30, [O_CHAOS_MM] = 30,
	[O_CHAOS_MEMF] = 20, [O_CHAOS_FD] = 8, [O_CHAOS_FORK] = 2,
	[O_CHAOS_PASS] = 5, [O_VFIO] = 60, [O_INVALIDATE] = 20, [O_VIOMMU] = 40,
	[O_RECIPE] = 15,
};

/*
 * The cheap profile: what costs the kernel little.  No CHANGE_PROCESS,
 * forks, fd passing or context closes (each tears down or copies a
 * context's every mapping), few mock domains and accesses (a new domain
 * maps the whole IOAS), more of the ioctls that only parse, look up and
 * refuse.
 */
static const unsigned int op_weight_cheap[O_NR] = {
	[O_MAP] = 100, [O_UNMAP] = 80, [O_MAP_FILE] = 40, [O_COPY] = 50,
	[O_IOAS_ALLOC] = 30, [O_DESTROY] = 40, [O_IOVA_RANGES] = 40,
	[O_ALLOW_IOVAS] = 30, [O_OPTION] = 40, [O_VFIO_IOAS] = 20,
	[O_HWPT_ALLOC] = 20, [O_HW_INFO] = 30, [O_OTHER_NR] = 20,
	[O_DIRTY] = 30, [O_FAULT] = 20,
	[O_MOCK_DOMAIN] = 8, [O_MOCK_DOMAIN_FLAGS] = 4, [O_MOCK_REPLACE] = 10,
	[O_ADD_RESERVED] = 20, [O_CHECK_MAP] = 20, [O_CHECK_REFS] = 10,
	[O_CREATE_ACCESS] = 10, [O_ACCESS_PAGES] = 50,
	[O_DESTROY_ACCESS_PAGES] = 20, [O_ACCESS_RW] = 50,
	[O_ACCESS_REPLACE] = 20, [O_TEST_OTHER] = 15, [O_DKMS_ATTACH] = 20,
	[O_DKMS_DETACH] = 10, [O_TYPE1] = 30, [O_CHAOS_MM] = 10,
	[O_CHAOS_MEMF] = 10, [O_VFIO] = 20, [O_INVALIDATE] = 20, [O_VIOMMU] = 30,
	[O_RECIPE] = 10,
};

/*
 * The light profile makes the volume of a large budget: calls that a
 * debug kernel answers in tens of microseconds.  Queries, options, ids
 * (live, stale, foreign), allocations and destroys run as built; the
 * ioctls that pin, map or make domains come bent (light_spoil()); no
 * syscalls of the chaos ops, no VFIO joins.  Their real work stays with
 * the other two profiles, at the rate --heavy and --light leave them.
 */
static const unsigned int op_weight_light[O_NR] = {
	[O_MAP] = 90, [O_UNMAP] = 40, [O_MAP_FILE] = 50, [O_COPY] = 50,
	[O_IOAS_ALLOC] = 15, [O_DESTROY] = 40, [O_IOVA_RANGES] = 60,
	[O_ALLOW_IOVAS] = 30, [O_OPTION] = 60, [O_VFIO_IOAS] = 30,
	[O_HWPT_ALLOC] = 20, [O_HW_INFO] = 50, [O_OTHER_NR] = 30,
	[O_DIRTY] = 30, [O_FAULT] = 20,
	[O_MOCK_DOMAIN] = 15, [O_MOCK_DOMAIN_FLAGS] = 10,
	[O_MOCK_REPLACE] = 15, [O_ADD_RESERVED] = 20, [O_CHECK_MAP] = 30,
	[O_CHECK_REFS] = 20, [O_CREATE_ACCESS] = 5, [O_ACCESS_PAGES] = 50,
	[O_DESTROY_ACCESS_PAGES] = 30, [O_ACCESS_RW] = 50,
	[O_ACCESS_REPLACE] = 10, [O_TEST_OTHER] = 30, [O_DKMS_ATTACH] = 5,
	[O_DKMS_DETACH] = 10, [O_TYPE1] = 40, [O_INVALIDATE] = 30, [O_VIOMMU] = 20,
	[O_RECIPE] = 3,
};

static int pick_op(struct worker *w, const unsigned int *weight)
{
	unsigned int pick, total = 0;
	int op;

	for (op = 0; op < O_NR; op++)
		total += weight[op];
	pick = (unsigned int)rnd(&w->rng, total);
	for (op = 0; op < O_NR - 1; op++) {
		if (pick < weight[op])
			break;
		pick -= weight[op];
	}
	return op;
}

void one_op(struct worker *w)
{
	struct ctx *c;
	int op;

	w->heavy = rnd(&w->rng, 1000) < sh->heavy_pm;
	w->light = !w->heavy && rnd(&w->rng, 1000) < sh->light_pm;
	/*
	 * Light calls stay on the worker's own context three times in four:
	 * a call that waits for another thread's long pin behind the IOAS
	 * locks is slow for no new coverage (a debug kernel's IOVA_RANGES
	 * took 1.5 ms on average beside 2 MiB maps, 20 us alone).
	 */
	if (w->light && rnd(&w->rng, 4))
		c = &w->r->ctx[w->slot % NCTX];
	else
		c = pick_ctx(w);
	op = pick_op(w, w->heavy ? op_weight :
			w->light ? op_weight_light : op_weight_cheap);
	__atomic_add_fetch(&sh->profile_ops[w->heavy ? 0 : w->light ? 2 : 1],
			   1, __ATOMIC_RELAXED);
	/* A closed context: mostly another one, now and then its stale fd. */
	for (int i = 0; ctx_fd(c) < 0 && i < NCTX && rnd(&w->rng, 8); i++)
		c = &w->r->ctx[(c - w->r->ctx + 1) % NCTX];

	switch (op) {
	case O_MAP: op_map(w, c); break;
	case O_UNMAP: op_unmap(w, c); break;
	case O_MAP_FILE: op_map_file(w, c); break;
	case O_COPY: op_copy(w, c); break;
	case O_IOAS_ALLOC: op_ioas_alloc(w, c); break;
	case O_DESTROY: op_destroy(w, c); break;
	case O_IOVA_RANGES: op_iova_ranges(w, c); break;
	case O_ALLOW_IOVAS: op_allow_iovas(w, c); break;
	case O_OPTION: op_option(w, c); break;
	case O_VFIO_IOAS: op_vfio_ioas(w, c); break;
	case O_HWPT_ALLOC: op_hwpt_alloc(w, c); break;
	case O_HW_INFO: op_hw_info(w, c); break;
	case O_CHANGE_PROCESS: op_change_process(w, c); break;
	case O_DIRTY: op_dirty(w, c); break;
	case O_FAULT: op_fault(w, c); break;
	case O_INVALIDATE: op_invalidate(w, c); break;
	case O_RECIPE: op_recipe(w, c); break;
	case O_OTHER_NR: op_other_nr(w, c); break;
	case O_MOCK_DOMAIN: op_mock_domain(w, c, false); break;
	case O_MOCK_DOMAIN_FLAGS: op_mock_domain(w, c, true); break;
	case O_MOCK_REPLACE: op_mock_replace(w, c); break;
	case O_ADD_RESERVED: op_add_reserved(w, c); break;
	case O_CHECK_MAP: op_check_map(w, c); break;
	case O_CHECK_REFS: op_check_refs(w, c); break;
	case O_CREATE_ACCESS: op_create_access(w, c); break;
	case O_ACCESS_PAGES: op_access_pages(w, c); break;
	case O_DESTROY_ACCESS_PAGES: op_destroy_access_pages(w, c); break;
	case O_ACCESS_RW: op_access_rw(w, c); break;
	case O_ACCESS_REPLACE: op_access_replace(w, c); break;
	case O_TEST_OTHER: op_test_other(w, c); break;
	case O_DKMS_ATTACH: op_dkms_attach(w, c); break;
	case O_DKMS_DETACH: op_dkms_detach(w, c); break;
	case O_TYPE1: op_type1(w, c); break;
	case O_CHAOS_MM: chaos_mm(w); break;
	case O_CHAOS_MEMF: chaos_memf(w); break;
	case O_CHAOS_FD: chaos_fd(w); break;
	case O_CHAOS_FORK:
		if (!w->solo)
			chaos_fork(w);
		break;
	case O_CHAOS_PASS:
		if (!w->solo)
			chaos_pass(w);
		break;
	case O_VIOMMU: op_viommu(w, c); break;
	case O_VFIO:
		if (w->r->vfio && !w->solo)
			vfio_op(w);
		else
			op_map(w, c);
		break;
	}
}

static void *map_guarded(size_t len)
{
	uint8_t *p = mmap(NULL, len + FUZZ_PAGE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		abort();
	mprotect(p + len, FUZZ_PAGE, PROT_NONE);
	return p;
}

void worker_init(struct worker *w, struct round *r, uint64_t seed, int slot,
		 bool solo)
{
	memset(w, 0, sizeof(*w));
	rng_seed(&w->rng, seed);
	w->r = r;
	w->slot = slot;
	w->solo = solo;
	w->pid = getpid();
	w->tid = (int)syscall(SYS_gettid);
	w->arg = map_guarded(ARG_LEN);
	w->ro = map_guarded(FUZZ_PAGE);
	{
		/* Two views of one page: read-only for the kernel, writable. */
		int fd = memfd_create("ro", MFD_CLOEXEC);

		if (fd < 0 || ftruncate(fd, FUZZ_PAGE))
			abort();
		if (mmap(w->ro, FUZZ_PAGE, PROT_READ, MAP_SHARED | MAP_FIXED,
			 fd, 0) == MAP_FAILED)
			abort();
		w->ro_rw = mmap(NULL, FUZZ_PAGE, PROT_READ | PROT_WRITE,
				MAP_SHARED, fd, 0);
		if (w->ro_rw == MAP_FAILED)
			abort();
		close(fd);
	}
	w->scratch = map_guarded(SCRATCH_LEN);
	memset(&sh->slot[slot], 0, sizeof(sh->slot[slot]));
}

void worker_fini(struct worker *w)
{
	munmap(w->arg, ARG_LEN + FUZZ_PAGE);
	munmap(w->ro, 2 * FUZZ_PAGE);
	munmap(w->ro_rw, FUZZ_PAGE);
	munmap(w->scratch, SCRATCH_LEN + FUZZ_PAGE);
}
