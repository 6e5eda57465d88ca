// SPDX-License-Identifier: GPL-2.0
/*
 * Recipes: short sequences that build the objects some ioctls need before
 * they can succeed, so that their deeper paths get fuzzed too.
 *
 * A random op rarely holds a dirty-tracking HWPT with tracking switched on
 * and memory mapped under it, or a nested selftest HWPT over a NEST_PARENT
 * one: in a 6.12 run of 2097 IOMMU_HWPT_INVALIDATE calls and as many
 * GET_DIRTY_BITMAP calls none succeeded.  A recipe makes those objects
 * with valid commands (IOAS, mock device, HWPTs, a mapping, the switch),
 * remembers them in the context (struct ctx_recipes) and in the live-id
 * set, and then uses them the way a VMM would: the mock device's writes
 * (IOMMU_TEST_OP_DIRTY), bitmaps read with several page sizes, NO_CLEAR,
 * sub-ranges and unaligned buffers; invalidation arrays of valid entries
 * (and one bad entry among them), the mock IOTLB checked; a vIOMMU with a
 * vDEVICE, which then gets event queues and events, HW queues over its
 * parent's memory, cache invalidations by virtual id and nested HWPTs of
 * its own (each of those had succeeded in fewer than 1 call in 1000
 * without the recipe, most never).  The random ops
 * then use and destroy the same objects.  Everything draws from the
 * worker's seed, so a seed replays the same recipes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/iommufd.h>
#include <linux/iommufd_test.h>

#include "round.h"

#define OFFSETOFEND(t, f) (offsetof(t, f) + sizeof(((t *)0)->f))

static int rc_fd(struct ctx *c)
{
	return __atomic_load_n(&c->fd, __ATOMIC_RELAXED);
}

/*
 * Issue a command of a recipe: as built most of the time (the point is to
 * get past the argument checks), bent by shape_arg() one time in @bend.
 * The reply is copied back into @cmd on success.
 */
static int rc_call(struct worker *w, struct ctx *c, int kind, unsigned long nr,
		   void *cmd, size_t sz, size_t minsz, unsigned int bend)
{
	void *arg = cmd, *reply = cmd;
	int rc;

	if (bend && !rnd(&w->rng, bend))
		arg = shape_arg(w, cmd, sz, minsz, kind, &reply);
	rc = fuzz_call(w, rc_fd(c), kind, nr, arg, cmd, sz);
	if (rc)
		return rc;
	if (!reply)
		return -EFAULT;
	if (reply != cmd)
		memcpy(cmd, reply, sz);
	return 0;
}

static int rc_test(struct worker *w, struct ctx *c, struct iommu_test_cmd *t,
		   unsigned int bend)
{
	t->size = sizeof(*t);
	return rc_call(w, c, K_TEST_OP0 + (int)t->op, IOMMU_TEST_CMD, t,
		       sizeof(*t), OFFSETOFEND(struct iommu_test_cmd, last),
		       bend);
}

static uint32_t rc_ioas(struct worker *w, struct ctx *c)
{
	struct iommu_ioas_alloc cmd = { .size = sizeof(cmd) };

	if (rc_call(w, c, K_IOAS_ALLOC, IOMMU_IOAS_ALLOC, &cmd, sizeof(cmd),
		    OFFSETOFEND(struct iommu_ioas_alloc, out_ioas_id), 0))
		return 0;
	note_id(c, ID_IOAS, cmd.out_ioas_id);
	return cmd.out_ioas_id;
}

/* A mock device on @pt_id; its ids in @stdev and @idev. */
static int rc_mock(struct worker *w, struct ctx *c, uint32_t pt_id,
		   uint32_t dev_flags, uint32_t *stdev, uint32_t *idev)
{
	struct iommu_test_cmd t = {
		.op = dev_flags ? IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS :
				  IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = pt_id,
	};

	if (dev_flags)
		t.mock_domain_flags.dev_flags = dev_flags;
	if (rc_test(w, c, &t, 0))
		return -1;
	/* The FLAGS variant's out fields sit where MOCK_DOMAIN's do. */
	note_id(c, ID_STDEV, t.mock_domain.out_stdev_id);
	note_id(c, ID_HWPT, t.mock_domain.out_hwpt_id);
	note_id(c, ID_IDEV, t.mock_domain.out_idev_id);
	*stdev = t.mock_domain.out_stdev_id;
	*idev = t.mock_domain.out_idev_id;
	return 0;
}

static uint32_t rc_hwpt(struct worker *w, struct ctx *c, uint32_t flags,
			uint32_t idev, uint32_t pt_id, bool nested)
{
	struct iommu_hwpt_selftest data = { .iotlb = IOMMU_TEST_IOTLB_DEFAULT };
	struct iommu_hwpt_alloc cmd = {
		.size = sizeof(cmd),
		.flags = flags,
		.dev_id = idev,
		.pt_id = pt_id,
	};

	if (nested) {
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		cmd.data_len = sizeof(data);
		cmd.data_uptr = (uintptr_t)&data;
	} else if (!rnd(&w->rng, 3)) {
		/* A paging HWPT of an explicit mock format. */
		data.pagetable_type = (uint32_t)rnd(&w->rng, 2);
		cmd.data_type = IOMMU_HWPT_DATA_SELFTEST;
		cmd.data_len = sizeof(data);
		cmd.data_uptr = (uintptr_t)&data;
	}
	if (rc_call(w, c, K_HWPT_ALLOC, IOMMU_HWPT_ALLOC, &cmd, sizeof(cmd),
		    OFFSETOFEND(struct iommu_hwpt_alloc, __reserved), 0))
		return 0;
	note_id(c, ID_HWPT, cmd.out_hwpt_id);
	return cmd.out_hwpt_id;
}

static int rc_replace(struct worker *w, struct ctx *c, uint32_t stdev,
		      uint32_t pt_id)
{
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev,
		.mock_domain_replace.pt_id = pt_id,
	};

	return rc_test(w, c, &t, 0);
}

/* Map 1-16 pages of a writable region into @ioas; the IOVA in @iova. */
static int rc_map(struct worker *w, struct ctx *c, uint32_t ioas,
		  uint64_t *iova, uint64_t *len, uint64_t *uva)
{
	struct iommu_ioas_map cmd = {
		.size = sizeof(cmd),
		.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE,
		.ioas_id = ioas,
	};
	struct region g;

	for (int i = 0;; i++) {
		g = w->r->reg[rnd(&w->rng, NREG)];
		if (g.len >= FUZZ_PAGE && g.kind != R_RDONLY)
			break;
		if (i == 8)
			return -1;
	}
	cmd.length = FUZZ_PAGE * (1 + rnd(&w->rng, 16));
	if (cmd.length > g.len)
		cmd.length = g.len & ~(FUZZ_PAGE - 1);
	cmd.user_va = g.addr + FUZZ_PAGE *
		      rnd(&w->rng, (g.len - cmd.length) / FUZZ_PAGE + 1);
	if (rnd(&w->rng, 2)) {
		/* A 64 KiB aligned IOVA: room for larger bitmap pages. */
		cmd.flags |= IOMMU_IOAS_MAP_FIXED_IOVA;
		cmd.iova = MOCK_APERTURE_START +
			   (64UL << 10) * rnd(&w->rng, 4096);
	}
	if (rc_call(w, c, K_IOAS_MAP, IOMMU_IOAS_MAP, &cmd, sizeof(cmd),
		    OFFSETOFEND(struct iommu_ioas_map, iova), 0))
		return -1;
	note_area(c, ioas, cmd.iova, cmd.length);
	*iova = cmd.iova;
	*len = cmd.length;
	*uva = cmd.user_va;
	return 0;
}

static int rc_set_dirty(struct worker *w, struct ctx *c, uint32_t hwpt,
			bool on)
{
	struct iommu_hwpt_set_dirty_tracking cmd = {
		.size = sizeof(cmd),
		.flags = on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
		.hwpt_id = hwpt,
	};

	return rc_call(w, c, K_SET_DIRTY, IOMMU_HWPT_SET_DIRTY_TRACKING, &cmd,
		       sizeof(cmd),
		       OFFSETOFEND(struct iommu_hwpt_set_dirty_tracking,
				   __reserved), 16);
}

/* A random DESTROY took the recipe's HWPT: the next recipe builds anew. */
static void rc_forget(struct ctx *c, uint32_t *slot, uint32_t id)
{
	pthread_mutex_lock(&c->lock);
	if (*slot == id)
		*slot = 0;
	pthread_mutex_unlock(&c->lock);
}

/* Dirty tracking ---------------------------------------------------------- */

static void rc_dirty_build(struct worker *w, struct ctx *c)
{
	struct ctx_recipes *rc = &c->rcp;
	uint32_t ioas, stdev, idev, hwpt;
	uint64_t iova, len, uva;

	ioas = rc_ioas(w, c);
	if (!ioas)
		return;
	if (rc_mock(w, c, ioas, rnd(&w->rng, 4) ? 0 :
				MOCK_FLAGS_DEVICE_HUGE_IOVA, &stdev, &idev))
		return;
	/* Tracking from the start (on the IOAS) or swapped in by a replace. */
	hwpt = rc_hwpt(w, c, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, idev, ioas,
		       false);
	if (!hwpt)
		return;
	if (rc_replace(w, c, stdev, hwpt))
		return;
	if (rc_map(w, c, ioas, &iova, &len, &uva))
		return;
	if (rc_set_dirty(w, c, hwpt, true))
		return;
	pthread_mutex_lock(&c->lock);
	rc->d_ioas = ioas;
	rc->d_hwpt = hwpt;
	rc->d_stdev = stdev;
	rc->d_iova = iova;
	rc->d_len = len;
	rc->d_uva = uva;
	pthread_mutex_unlock(&c->lock);
}

/* Bitmap page sizes that the range's ends are aligned to. */
static uint64_t rc_page_size(struct worker *w, uint64_t iova, uint64_t len)
{
	static const uint64_t sizes[] = {
		MOCK_PAGE_SIZE, FUZZ_PAGE, FUZZ_PAGE, 8192, 16384, 65536,
	};
	uint64_t ps = sizes[rnd(&w->rng, sizeof(sizes) / sizeof(sizes[0]))];

	while (ps > MOCK_PAGE_SIZE && ((iova | (iova + len)) & (ps - 1)))
		ps >>= 1;
	return ps;
}

static void rc_dirty_use(struct worker *w, struct ctx *c)
{
	struct ctx_recipes *rc = &c->rcp;
	struct iommu_hwpt_get_dirty_bitmap get = { .size = sizeof(get) };
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_DIRTY };
	uint8_t *marks = w->scratch + SCRATCH_LEN / 2;
	uint64_t iova, len, uva, ps, off;
	uint32_t hwpt, ioas, stdev;

	pthread_mutex_lock(&c->lock);
	hwpt = rc->d_hwpt;
	ioas = rc->d_ioas;
	stdev = rc->d_stdev;
	iova = rc->d_iova;
	len = rc->d_len;
	uva = rc->d_uva;
	pthread_mutex_unlock(&c->lock);
	if (!hwpt)
		return;

	switch (w->light ? 2 : rnd(&w->rng, 12)) {
	case 0:
		/* Off and on again: the next read must start clean. */
		rc_set_dirty(w, c, hwpt, false);
		rc_set_dirty(w, c, hwpt, true);
		break;
	case 1: {
		/* More memory under the tracking HWPT. */
		uint64_t i2, l2, u2;

		if (!rc_map(w, c, ioas, &i2, &l2, &u2) && rnd(&w->rng, 2)) {
			iova = i2;
			len = l2;
			uva = u2;
		}
		break;
	}
	case 2: case 3: {
		/* The mock domain holds what was mapped (or was replaced). */
		struct iommu_test_cmd m = { .op = IOMMU_TEST_OP_MD_CHECK_MAP };

		m.id = hwpt;
		m.check_map.iova = iova;
		m.check_map.length = len;
		m.check_map.uptr = uva;
		rc_test(w, c, &m, 16);
		break;
	}
	default:
		break;
	}

	/* The device writes some pages (MOCK_PAGE_SIZE or CPU pages). */
	ps = rnd(&w->rng, 2) ? MOCK_PAGE_SIZE : FUZZ_PAGE;
	for (uint64_t i = 0; i < len / ps / 8 + 1; i++)
		marks[i] = rnd(&w->rng, 3) ? (uint8_t)rng_next(&w->rng) : 0xff;
	t.id = hwpt;
	t.dirty.iova = iova;
	t.dirty.length = len;
	t.dirty.page_size = ps;
	t.dirty.uptr = (uintptr_t)marks;
	if (rnd(&w->rng, 4))
		rc_test(w, c, &t, 16);

	/* Read it back: a sub-range now and then, any page size that fits. */
	get.hwpt_id = hwpt;
	get.iova = iova;
	get.length = len;
	if (!rnd(&w->rng, 4) && len > FUZZ_PAGE) {
		off = FUZZ_PAGE * rnd(&w->rng, len / FUZZ_PAGE);
		get.iova += off;
		get.length = FUZZ_PAGE * (1 + rnd(&w->rng,
					  (len - off) / FUZZ_PAGE));
	} else if (!rnd(&w->rng, 12)) {
		/* Past the mapping: a gap the walk must refuse. */
		get.length += FUZZ_PAGE;
	}
	get.page_size = rc_page_size(w, get.iova, get.length);
	get.flags = rnd(&w->rng, 3) ? 0 : IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR;
	/*
	 * The bitmap's buffer: aligned, an odd byte offset (the kernel
	 * copies whole u64s), or ending right at the guard page.
	 */
	switch (rnd(&w->rng, 4)) {
	case 0:
		get.data = (uintptr_t)w->scratch + 1 + rnd(&w->rng, 7);
		break;
	case 1: {
		uint64_t bytes = (get.length / get.page_size + 7) / 8;

		get.data = (uintptr_t)w->scratch + SCRATCH_LEN -
			   ((bytes + 7) & ~7ULL);
		break;
	}
	default:
		get.data = (uintptr_t)w->scratch + 8 * rnd(&w->rng, 64);
	}
	if (rc_call(w, c, K_GET_DIRTY, IOMMU_HWPT_GET_DIRTY_BITMAP, &get,
		    sizeof(get), OFFSETOFEND(struct iommu_hwpt_get_dirty_bitmap,
					     data), 12) == -ENOENT)
		rc_forget(c, &rc->d_hwpt, hwpt);
	/* With NO_CLEAR, a second read sees the same bits; then clear them. */
	if (get.flags && rnd(&w->rng, 2)) {
		get.flags = 0;
		rc_call(w, c, K_GET_DIRTY, IOMMU_HWPT_GET_DIRTY_BITMAP, &get,
			sizeof(get),
			OFFSETOFEND(struct iommu_hwpt_get_dirty_bitmap, data), 0);
	}
	if (!rnd(&w->rng, 16)) {
		/* The device leaves: tracking HWPT without a device. */
		rc_replace(w, c, stdev, ioas);
	}
}

/* Nesting ---------------------------------------------------------------- */

static void rc_nest_build(struct worker *w, struct ctx *c)
{
	struct ctx_recipes *rc = &c->rcp;
	uint32_t ioas, stdev, idev, parent, nested;

	ioas = rc_ioas(w, c);
	if (!ioas)
		return;
	if (rc_mock(w, c, ioas, rnd(&w->rng, 4) ? 0 : MOCK_FLAGS_DEVICE_PASID,
		    &stdev, &idev))
		return;
	parent = rc_hwpt(w, c, IOMMU_HWPT_ALLOC_NEST_PARENT |
			       (rnd(&w->rng, 4) ? 0 :
				IOMMU_HWPT_ALLOC_DIRTY_TRACKING),
			 idev, ioas, false);
	if (!parent)
		return;
	nested = rc_hwpt(w, c, 0, idev, parent, true);
	if (!nested)
		return;
	/* Through the parent first now and then: the nested-replace path. */
	if (!rnd(&w->rng, 3))
		rc_replace(w, c, stdev, parent);
	if (rc_replace(w, c, stdev, nested))
		return;
	pthread_mutex_lock(&c->lock);
	rc->n_parent = parent;
	rc->n_hwpt = nested;
	rc->n_stdev = stdev;
	rc->n_idev = idev;
	pthread_mutex_unlock(&c->lock);
}

static void rc_nest_use(struct worker *w, struct ctx *c)
{
	struct ctx_recipes *rc = &c->rcp;
	struct iommu_hwpt_invalidate_selftest *req = (void *)w->scratch;
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.data_type = IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(*req),
	};
	struct iommu_test_cmd t = { .op = IOMMU_TEST_OP_MD_CHECK_IOTLB };
	uint32_t hwpt, parent, stdev, idev;
	unsigned int n;

	pthread_mutex_lock(&c->lock);
	hwpt = rc->n_hwpt;
	parent = rc->n_parent;
	stdev = rc->n_stdev;
	idev = rc->n_idev;
	pthread_mutex_unlock(&c->lock);
	if (!hwpt)
		return;

	switch (w->light ? 2 : rnd(&w->rng, 8)) {
	case 0: {
		/* A second nested HWPT on the same parent; the device moves. */
		uint32_t h2 = rc_hwpt(w, c, 0, idev, parent, true);

		if (h2 && !rc_replace(w, c, stdev, h2) && rnd(&w->rng, 2))
			hwpt = h2;
		break;
	}
	case 1:
		/* The device on the parent: the nested HWPT stays, unused. */
		rc_replace(w, c, stdev, parent);
		break;
	default:
		break;
	}

	/* 1-8 valid requests; now and then a bad one among them. */
	n = 1 + (unsigned int)rnd(&w->rng, 8);
	for (unsigned int i = 0; i < n; i++) {
		req[i].flags = rnd(&w->rng, 4) ? 0 :
			       IOMMU_TEST_INVALIDATE_FLAG_ALL;
		req[i].iotlb_id = (uint32_t)rnd(&w->rng,
					MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1);
	}
	if (!rnd(&w->rng, 6)) {
		unsigned int bad = (unsigned int)rnd(&w->rng, n);

		if (rnd(&w->rng, 2))
			req[bad].flags = 1U << (1 + rnd(&w->rng, 31));
		else
			req[bad].iotlb_id = MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1;
	}
	cmd.hwpt_id = hwpt;
	cmd.entry_num = n;
	cmd.data_uptr = (uintptr_t)req;
	/* A longer entry, zero-tailed: what a newer user space passes. */
	if (!rnd(&w->rng, 8)) {
		uint8_t *wide = w->scratch + 4096;

		memset(wide, 0, 16 * n);
		for (unsigned int i = 0; i < n; i++)
			memcpy(wide + 16 * i, &req[i], sizeof(req[i]));
		cmd.entry_len = 16;
		cmd.data_uptr = (uintptr_t)wide;
	}
	if (rc_call(w, c, K_HWPT_INVALIDATE, IOMMU_HWPT_INVALIDATE, &cmd,
		    sizeof(cmd), OFFSETOFEND(struct iommu_hwpt_invalidate,
					     __reserved), 12) == -ENOENT &&
	    hwpt == rc->n_hwpt)
		rc_forget(c, &rc->n_hwpt, hwpt);

	/* Look at an entry (the others' invalidations race with us). */
	t.id = hwpt;
	t.check_iotlb.id = (uint32_t)rnd(&w->rng,
					 MOCK_NESTED_DOMAIN_IOTLB_ID_MAX + 1);
	t.check_iotlb.iotlb = rnd(&w->rng, 2) ? 0 : IOMMU_TEST_IOTLB_DEFAULT;
	if (rnd(&w->rng, 2))
		rc_test(w, c, &t, 16);
}

/* Accesses ----------------------------------------------------------------- */

/*
 * An access of an IOAS with memory mapped: pins inside the mapping (their
 * pages checked against the user address), reads and writes across it,
 * the pin released by id or left to an unmap's notification.  The access
 * fd takes a slot of the context, so the random ops use and close it.
 */
static void rc_access(struct worker *w, struct ctx *c)
{
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.create_access.flags = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
	};
	struct ctx_recipes *rc = &c->rcp;
	uint64_t iova, len, uva, off, n;
	struct access_ent *a;
	uint32_t ioas, pages_id = 0;
	int fd, old;

	pthread_mutex_lock(&c->lock);
	ioas = rc->a_ioas;
	iova = rc->a_iova;
	len = rc->a_len;
	uva = rc->a_uva;
	pthread_mutex_unlock(&c->lock);
	if (!ioas || !rnd(&w->rng, 8)) {
		/* The light profile only uses what is there. */
		if (w->light) {
			if (!ioas)
				return;
			goto use;
		}
		ioas = rc_ioas(w, c);
		if (!ioas || rc_map(w, c, ioas, &iova, &len, &uva))
			return;
		pthread_mutex_lock(&c->lock);
		rc->a_ioas = ioas;
		rc->a_iova = iova;
		rc->a_len = len;
		rc->a_uva = uva;
		pthread_mutex_unlock(&c->lock);
	}
use:
	t.id = ioas;
	if (rc_test(w, c, &t, 0))
		return;
	fd = (int)t.create_access.out_access_fd;
	a = &c->acc[rnd(&w->rng, NACCESS)];
	pthread_mutex_lock(&c->lock);
	old = a->fd;
	a->fd = fd;
	a->ioas = ioas;
	a->nitems = 0;
	pthread_mutex_unlock(&c->lock);
	if (old >= 0) {
		set_inflight(w, K_SYS_CLOSE, old, NULL, 0);
		close(old);
		clear_inflight(w);
		count_syscall();
	}

	/* Pin 1..all pages of the mapping, from some page of it. */
	off = FUZZ_PAGE * rnd(&w->rng, len / FUZZ_PAGE);
	n = FUZZ_PAGE * (1 + rnd(&w->rng, (len - off) / FUZZ_PAGE));
	memset(&t, 0, sizeof(t));
	t.op = IOMMU_TEST_OP_ACCESS_PAGES;
	t.id = (uint32_t)fd;
	t.access_pages.flags = rnd(&w->rng, 2) ? MOCK_FLAGS_ACCESS_WRITE : 0;
	t.access_pages.iova = iova + off;
	t.access_pages.length = n;
	t.access_pages.uptr = rnd(&w->rng, 4) ? uva + off : 0;
	if (!rc_test(w, c, &t, 16)) {
		pages_id = t.access_pages.out_access_pages_id;
		pthread_mutex_lock(&c->lock);
		if (a->fd == fd)
			a->items[a->nitems++ % 8] = pages_id;
		pthread_mutex_unlock(&c->lock);
	}

	/* Copy through the access: any alignment, fast and slow paths. */
	memset(&t, 0, sizeof(t));
	t.op = IOMMU_TEST_OP_ACCESS_RW;
	t.id = (uint32_t)fd;
	t.access_rw.iova = iova + rnd(&w->rng, len);
	t.access_rw.length = 1 + rnd(&w->rng, iova + len - t.access_rw.iova);
	t.access_rw.uptr = (uintptr_t)w->scratch;
	t.access_rw.flags = (uint32_t)(rnd(&w->rng, 2) * MOCK_ACCESS_RW_WRITE |
				       rnd(&w->rng, 2) * MOCK_ACCESS_RW_SLOW_PATH);
	rc_test(w, c, &t, 16);

	switch (rnd(&w->rng, 4)) {
	case 0: {
		/* Unmap under the pin: the access is told and lets go. */
		struct iommu_ioas_unmap u = {
			.size = sizeof(u),
			.ioas_id = ioas,
			.iova = iova,
			.length = len,
		};

		if (!rc_call(w, c, K_IOAS_UNMAP, IOMMU_IOAS_UNMAP, &u,
			     sizeof(u), OFFSETOFEND(struct iommu_ioas_unmap,
						    length), 0)) {
			pthread_mutex_lock(&c->lock);
			if (rc->a_ioas == ioas)
				rc->a_ioas = 0;
			pthread_mutex_unlock(&c->lock);
		}
		break;
	}
	case 1:
		break;
	default:
		if (pages_id) {
			memset(&t, 0, sizeof(t));
			t.op = IOMMU_TEST_OP_DESTROY_ACCESS_PAGES;
			t.id = (uint32_t)fd;
			t.destroy_access_pages.access_pages_id = pages_id;
			rc_test(w, c, &t, 16);
		}
	}
}

/* vIOMMUs ----------------------------------------------------------------- */

static void rc_viommu_build(struct worker *w, struct ctx *c)
{
	struct ctx_recipes *rc = &c->rcp;
	struct iommu_viommu_selftest data = {
		.in_data = (uint32_t)rng_next(&w->rng),
	};
	struct iommu_viommu_alloc va = {
		.size = sizeof(va),
		.type = IOMMU_VIOMMU_TYPE_SELFTEST,
	};
	struct iommu_vdevice_alloc vd = { .size = sizeof(vd) };
	uint32_t ioas, stdev, idev, parent, nested;
	uint64_t iova, len, uva;

	ioas = rc_ioas(w, c);
	if (!ioas)
		return;
	if (rc_mock(w, c, ioas, 0, &stdev, &idev))
		return;
	parent = rc_hwpt(w, c, IOMMU_HWPT_ALLOC_NEST_PARENT, idev, ioas,
			 false);
	if (!parent)
		return;
	/* The HW queues read the parent's memory: map some before. */
	if (rc_map(w, c, ioas, &iova, &len, &uva))
		return;
	va.dev_id = idev;
	va.hwpt_id = parent;
	if (rnd(&w->rng, 2)) {
		va.data_len = sizeof(data);
		va.data_uptr = (uintptr_t)&data;
	}
	if (rc_call(w, c, K_VIOMMU_ALLOC, IOMMU_VIOMMU_ALLOC, &va, sizeof(va),
		    OFFSETOFEND(struct iommu_viommu_alloc, data_uptr), 0))
		return;
	note_id(c, ID_VIOMMU, va.out_viommu_id);
	vd.viommu_id = va.out_viommu_id;
	vd.dev_id = idev;
	vd.virt_id = rnd(&w->rng, 8);
	if (rc_call(w, c, K_VDEVICE_ALLOC, IOMMU_VDEVICE_ALLOC, &vd, sizeof(vd),
		    OFFSETOFEND(struct iommu_vdevice_alloc, virt_id), 0))
		return;
	/* Events need the device behind a nested HWPT of the vIOMMU. */
	nested = rc_hwpt(w, c, 0, idev, va.out_viommu_id, true);
	if (!nested || rc_replace(w, c, stdev, nested))
		return;
	pthread_mutex_lock(&c->lock);
	rc->v_viommu = va.out_viommu_id;
	rc->v_parent = parent;
	rc->v_stdev = stdev;
	rc->v_idev = idev;
	rc->v_virt = (uint32_t)vd.virt_id;
	rc->v_iova = iova;
	rc->v_len = len;
	pthread_mutex_unlock(&c->lock);
}

/* A vEVENTQ, 1-3 events for the vDEVICE, read back; closed with the rest. */
static void rc_viommu_events(struct worker *w, struct ctx *c, uint32_t viommu,
			     uint32_t idev)
{
	struct iommu_veventq_alloc q = {
		.size = sizeof(q),
		.viommu_id = viommu,
		.type = IOMMU_VEVENTQ_TYPE_SELFTEST,
		.veventq_depth = 1 + (uint32_t)rnd(&w->rng, 4),
	};
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
		.trigger_vevent.dev_id = idev,
	};
	unsigned int n = 1 + (unsigned int)rnd(&w->rng, 3);
	ssize_t got;

	if (rc_call(w, c, K_VEVENTQ_ALLOC, IOMMU_VEVENTQ_ALLOC, &q, sizeof(q),
		    OFFSETOFEND(struct iommu_veventq_alloc, out_veventq_fd),
		    16))
		return;
	for (unsigned int i = 0; i < n; i++)
		rc_test(w, c, &t, 16);
	/* More events than the depth: the lost-events record comes too. */
	count_syscall();
	got = read((int)q.out_veventq_fd, w->scratch,
		   rnd(&w->rng, 4) ? 4096 : (size_t)rnd(&w->rng, 32));
	(void)got;
	close((int)q.out_veventq_fd);
}

/* Queue 0 (then 1 on top of it) over the parent's mapped memory. */
static void rc_viommu_hw_queue(struct worker *w, struct ctx *c,
			       uint32_t viommu, uint64_t iova, uint64_t len)
{
	struct iommu_hw_queue_alloc q = {
		.size = sizeof(q),
		.viommu_id = viommu,
		.type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
	};
	uint32_t ids[IOMMU_TEST_HW_QUEUE_MAX] = { 0 };
	uint64_t pages = len / FUZZ_PAGE;

	for (uint32_t i = 0; i < IOMMU_TEST_HW_QUEUE_MAX; i++) {
		uint64_t first = rnd(&w->rng, pages);

		q.index = i;
		q.nesting_parent_iova = iova + first * FUZZ_PAGE;
		q.length = FUZZ_PAGE * (1 + rnd(&w->rng, pages - first));
		/* A queue that starts inside a page, as some do. */
		if (!rnd(&w->rng, 6) && q.length > FUZZ_PAGE) {
			q.nesting_parent_iova += 64;
			q.length -= 64;
		}
		if (rc_call(w, c, K_HW_QUEUE_ALLOC, IOMMU_HW_QUEUE_ALLOC, &q,
			    sizeof(q),
			    OFFSETOFEND(struct iommu_hw_queue_alloc, length),
			    16))
			break;
		ids[i] = q.out_hw_queue_id;
		if (rnd(&w->rng, 2))
			break;
	}
	/* Mostly gone again, top first; a kept one pins the memory. */
	for (int i = IOMMU_TEST_HW_QUEUE_MAX - 1; i >= 0; i--) {
		struct iommu_destroy d = { .size = sizeof(d), .id = ids[i] };

		if (ids[i] && rnd(&w->rng, 5))
			rc_call(w, c, K_DESTROY, IOMMU_DESTROY, &d, sizeof(d),
				sizeof(d), 0);
	}
}

/* Cache invalidations by virtual id, then an entry looked at. */
static int rc_viommu_invalidate(struct worker *w, struct ctx *c,
				 uint32_t viommu, uint32_t idev, uint32_t virt)
{
	struct iommu_viommu_invalidate_selftest *req = (void *)w->scratch;
	struct iommu_hwpt_invalidate cmd = {
		.size = sizeof(cmd),
		.hwpt_id = viommu,
		.data_type = IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
		.entry_len = sizeof(*req),
		.data_uptr = (uintptr_t)req,
	};
	struct iommu_test_cmd t = {
		.op = IOMMU_TEST_OP_DEV_CHECK_CACHE,
		.id = idev,
	};
	unsigned int n = 1 + (unsigned int)rnd(&w->rng, 6);
	int rc;

	for (unsigned int i = 0; i < n; i++)
		req[i] = (struct iommu_viommu_invalidate_selftest){
			.flags = rnd(&w->rng, 4) ? 0 :
				 IOMMU_TEST_INVALIDATE_FLAG_ALL,
			.vdev_id = virt,
			.cache_id = (uint32_t)rnd(&w->rng, MOCK_DEV_CACHE_NUM),
		};
	if (!rnd(&w->rng, 6)) {
		/* One bad request: entry_num comes back as those done. */
		unsigned int bad = (unsigned int)rnd(&w->rng, n);

		switch (rnd(&w->rng, 3)) {
		case 0:
			req[bad].flags = 1U << (1 + rnd(&w->rng, 31));
			break;
		case 1:
			req[bad].cache_id = MOCK_DEV_CACHE_ID_MAX + 1;
			break;
		default:
			req[bad].vdev_id = virt + 1;
			break;
		}
	}
	cmd.entry_num = n;
	rc = rc_call(w, c, K_VIOMMU_INVALIDATE, IOMMU_HWPT_INVALIDATE, &cmd,
		     sizeof(cmd), OFFSETOFEND(struct iommu_hwpt_invalidate,
					      __reserved), 12);
	t.check_dev_cache.id = (uint32_t)rnd(&w->rng, MOCK_DEV_CACHE_NUM);
	t.check_dev_cache.cache = rnd(&w->rng, 2) ? 0 :
				  IOMMU_TEST_DEV_CACHE_DEFAULT;
	rc_test(w, c, &t, 16);
	return rc;
}

static void rc_viommu_use(struct worker *w, struct ctx *c)
{
	struct ctx_recipes *rc = &c->rcp;
	uint32_t viommu, parent, stdev, idev, virt, h;
	uint64_t iova, len;

	pthread_mutex_lock(&c->lock);
	viommu = rc->v_viommu;
	parent = rc->v_parent;
	stdev = rc->v_stdev;
	idev = rc->v_idev;
	virt = rc->v_virt;
	iova = rc->v_iova;
	len = rc->v_len;
	pthread_mutex_unlock(&c->lock);
	if (!viommu)
		return;

	switch (rnd(&w->rng, w->light ? 2 : 5)) {
	case 0:
		/* A random DESTROY took it: the next recipe builds anew. */
		if (rc_viommu_invalidate(w, c, viommu, idev, virt) == -ENOENT)
			rc_forget(c, &rc->v_viommu, viommu);
		break;
	case 1:
		rc_viommu_events(w, c, viommu, idev);
		break;
	case 2:
		rc_viommu_hw_queue(w, c, viommu, iova, len);
		break;
	case 3:
		/*
		 * Another nested HWPT of the vIOMMU, the device moved onto
		 * it; now and then it stays on the parent a while (where its
		 * events answer ENOENT).
		 */
		h = rc_hwpt(w, c, 0, idev, viommu, true);
		if (h && !rc_replace(w, c, stdev, h) && !rnd(&w->rng, 4))
			rc_replace(w, c, stdev, parent);
		break;
	default: {
		/* An event with no queue to take it: dropped. */
		struct iommu_test_cmd t = {
			.op = IOMMU_TEST_OP_TRIGGER_VEVENT,
			.trigger_vevent.dev_id = idev,
		};

		rc_test(w, c, &t, 16);
		break;
	}
	}
}

/*
 * One recipe: build a fresh set of objects or use the context's last one.
 * Building takes 6-7 calls, using 2-4, so a context that has objects
 * mostly uses them (each new IOAS with a mock domain also makes the random
 * 2 MiB maps that pick it dearer: a 6.12 run took 46% longer when
 * recipes rebuilt one time in five at twice today's weight).  Of six, two
 * are dirty tracking, two nesting, one an access and one a vIOMMU.
 */
void op_recipe(struct worker *w, struct ctx *c)
{
	unsigned int which = (unsigned int)rnd(&w->rng, 6);
	uint32_t have;

	if (which == 4) {
		rc_access(w, c);
		return;
	}

	pthread_mutex_lock(&c->lock);
	have = which < 2 ? c->rcp.d_hwpt :
	       which < 4 ? c->rcp.n_hwpt : c->rcp.v_viommu;
	pthread_mutex_unlock(&c->lock);
	/* The light profile uses what is there and builds seldom. */
	if (w->light ? !have && !rnd(&w->rng, 4) :
		       !have || !rnd(&w->rng, 8)) {
		if (which < 2)
			rc_dirty_build(w, c);
		else if (which < 4)
			rc_nest_build(w, c);
		else
			rc_viommu_build(w, c);
	}
	if (which < 2)
		rc_dirty_use(w, c);
	else if (which < 4)
		rc_nest_use(w, c);
	else
		rc_viommu_use(w, c);
}
