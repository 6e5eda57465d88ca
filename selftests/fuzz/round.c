// SPDX-License-Identifier: GPL-2.0
/*
 * One round of the fuzzer, in its own process: the arena of user memory
 * the contexts map, memfds for MAP_FILE, the contexts themselves, 1-4
 * worker threads, a peer process that gets fds over a unix socket, and
 * children forked (with every fd inherited) while the threads run.
 *
 * Chaos acts on what the kernel has pinned or is about to pin: regions
 * are replaced (MAP_FIXED over them: the memory is unmapped while IOAS
 * mappings hold it), zapped with MADV_DONTNEED, moved with mremap; memfds
 * are truncated, punched, written and sealed; context and access fds are
 * closed while other threads have ioctls running on them.
 *
 * The arena is one reservation; every change to it is a MAP_FIXED mapping
 * inside it, so no other allocation of this process can ever land where
 * the kernel may write through an IOVA (see pick_uva()).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/iommufd.h>

#include "round.h"

#define NOBODY		65534
#ifndef MFD_HUGETLB
#define MFD_HUGETLB	0x0004U
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* Per-process counters from /proc/self/status, in KiB. */
static void vm_counters(long *pin, long *lck)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	*pin = *lck = -1;
	fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	p = strstr(buf, "VmPin:");
	if (p)
		*pin = strtol(p + 6, NULL, 10);
	p = strstr(buf, "VmLck:");
	if (p)
		*lck = strtol(p + 6, NULL, 10);
}

/*
 * The last reference to a context may be dropped from a workqueue
 * (delayed fput) just after the process holding it exited: give the
 * counters a moment before judging them.
 */
static void vm_counters_settled(long pin0, long lck0, long *pin, long *lck)
{
	for (int i = 0; i < 40; i++) {
		vm_counters(pin, lck);
		if (*pin == pin0 && *lck == lck0)
			return;
		usleep(50 * 1000);
	}
}

static void drop_to_nobody(rlim_t memlock)
{
	struct rlimit lim = { memlock, memlock };

	setrlimit(RLIMIT_MEMLOCK, &lim);
	if (setgroups(0, NULL) || setgid(NOBODY) || setuid(NOBODY))
		_exit(90);
}

/* Contexts ---------------------------------------------------------------- */

void ctx_reset(struct ctx *c, int fd)
{
	pthread_mutex_lock(&c->lock);
	c->fd = fd;
	memset(c->ids, 0, sizeof(c->ids));
	memset(c->nids, 0, sizeof(c->nids));
	c->nareas = 0;
	memset(c->areas, 0, sizeof(c->areas));
	c->max_id = 0;
	memset(&c->rcp, 0, sizeof(c->rcp));
	pthread_mutex_unlock(&c->lock);
}

static int recv_fd(int sock)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 4)];
	char byte;
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	int fd = -1;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
		int n = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		int *fds = (int *)CMSG_DATA(cm);

		if (cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (int i = 0; i < n; i++) {
			if (fd < 0)
				fd = fds[i];
			else
				close(fds[i]);
		}
	}
	return fd;
}

static int send_fd(int sock, int fd, char byte)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(cbuf, 0, sizeof(cbuf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) == 1 ? 0 : -1;
}

/* A new /dev/iommu context: opened here, or by the supervisor for us. */
int ctx_open(struct round *r)
{
	char byte = 'o';
	int fd;

	if (!r->nobody && !r->is_peer)
		return open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (r->opener_fd < 0)
		return -1;
	pthread_mutex_lock(&r->opener_lock);
	fd = -1;
	if (write(r->opener_fd, &byte, 1) == 1)
		fd = recv_fd(r->opener_fd);
	pthread_mutex_unlock(&r->opener_lock);
	return fd;
}

/* The arena --------------------------------------------------------------- */

/* (Re)create region @i: a fresh mapping of a random kind and size. */
void region_make(struct round *r, struct rng *rng, int i)
{
	uintptr_t at = r->arena + (uintptr_t)i * REG_SPAN;
	struct region *g = &r->reg[i];
	int kind = (int)rnd(rng, R_NKINDS);
	size_t len = FUZZ_PAGE * (1 + rnd(rng, 64));
	int prot = PROT_READ | PROT_WRITE;
	int flags = MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS;
	int fd = -1;
	void *p;

	if (kind == R_HUGETLB && !r->hugetlb_ok)
		kind = R_ANON;
	if (rnd(rng, 4) == 0 || kind == R_THP || kind == R_HUGETLB)
		len = FUZZ_2M * (1 + rnd(rng, 2));
	if (kind == R_SHARED || kind == R_PRIVATE_FILE || kind == R_HUGETLB) {
		fd = memfd_create("fuzz-region",
				  MFD_CLOEXEC | (kind == R_HUGETLB ? MFD_HUGETLB : 0));
		if (fd < 0 || ftruncate(fd, (off_t)len)) {
			if (fd >= 0)
				close(fd);
			fd = -1;
			kind = R_ANON;
		} else {
			flags = MAP_FIXED |
				(kind == R_PRIVATE_FILE ? MAP_PRIVATE : MAP_SHARED);
		}
	}
	if (kind == R_RDONLY)
		prot = PROT_READ;

	/* Whatever was there goes: pinned pages stay with the kernel. */
	__atomic_store_n(&g->len, 0, __ATOMIC_RELAXED);
	p = mmap((void *)at, len, prot, flags, fd, 0);
	if (fd >= 0)
		close(fd);
	if (p == MAP_FAILED) {
		mmap((void *)at, REG_SPAN, PROT_NONE,
		     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		     -1, 0);
		return;
	}
	if (kind == R_ANON)
		madvise(p, len, MADV_NOHUGEPAGE);
	if (kind == R_THP)
		madvise(p, len, MADV_HUGEPAGE);
	/*
	 * Half the regions populated, the others left to the pinning; by
	 * the kernel, as another thread may make it read-only meanwhile.
	 */
	if (prot & PROT_WRITE && rnd(rng, 2))
		madvise(p, len, MADV_POPULATE_WRITE);
	g->addr = at;
	g->kind = kind;
	__atomic_store_n(&g->len, len, __ATOMIC_RELEASE);
}

static int memf_make(struct round *r, struct rng *rng, struct memf *m)
{
	bool huge = r->hugetlb_ok && !rnd(rng, 6);
	size_t size = huge ? FUZZ_2M : FUZZ_PAGE * (1 + rnd(rng, 512));
	int fd;

	fd = memfd_create("fuzz-file", MFD_CLOEXEC | MFD_ALLOW_SEALING |
					       (huge ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -1;
	if (ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	if (!huge && rnd(rng, 2)) {
		/* Some bytes at the start of every page, in one syscall. */
		static const char data[64] = "iommufd fuzz";
		static const char zero[FUZZ_PAGE - sizeof(data)];
		struct iovec iov[2 * 512];
		ssize_t done;
		int n = 0;

		for (size_t o = 0; o < size; o += FUZZ_PAGE) {
			iov[n++] = (struct iovec){ (void *)data, sizeof(data) };
			iov[n++] = (struct iovec){ (void *)zero, sizeof(zero) };
		}
		/* A short write leaves holes: a memfd like any other. */
		done = pwritev(fd, iov, n - 1, 0);
		(void)done;
	}
	m->fd = fd;
	m->hugetlb = huge;
	m->size = size;
	return 0;
}

/* An fd for MAP_FILE: usually a memfd, sometimes one it must refuse. */
int pick_memfd(struct worker *w)
{
	struct round *r = w->r;
	unsigned int p = (unsigned int)rnd(&w->rng, 100);

	if (p < 80)
		return __atomic_load_n(&r->mf[rnd(&w->rng, NMEMF)].fd,
				       __ATOMIC_RELAXED);
	if (p < 94)
		return r->misc_fd[rnd(&w->rng, 4)];
	if (p < 97)
		return r->ctx[rnd(&w->rng, NCTX)].fd;
	return rnd(&w->rng, 2) ? -1 : (int)rnd(&w->rng, 64);
}

/* Chaos ------------------------------------------------------------------- */

void chaos_mm(struct worker *w)
{
	struct round *r = w->r;
	int i = (int)rnd(&w->rng, NREG);
	struct region g = r->reg[i];
	uintptr_t at;
	size_t len;

	int what;

	/* Cheap: zap or protect up to CHEAP_LEN; no region is made anew. */
	if (!w->heavy && !g.len)
		return;
	count_syscall();
	set_inflight(w, K_SYS_MM, -1, NULL, 0);
	if (!g.len) {
		region_make(r, &w->rng, i);
		goto out;
	}
	at = g.addr + rnd(&w->rng, g.len / FUZZ_PAGE) * FUZZ_PAGE;
	len = FUZZ_PAGE * (1 + rnd(&w->rng, (g.addr + g.len - at) / FUZZ_PAGE));
	what = (int)rnd(&w->rng, 7);
	if (!w->heavy) {
		static const int cheap[] = { 2, 3, 6 };

		what = cheap[what % 3];
		if (len > CHEAP_LEN)
			len = CHEAP_LEN;
	}
	switch (what) {
	case 0: case 1:
		/* munmap, without a hole: a new mapping in its place. */
		region_make(r, &w->rng, i);
		break;
	case 2: case 3:
		madvise((void *)at, len, MADV_DONTNEED);
		break;
	case 4: {
		/*
		 * mremap: move part of one private anonymous region over
		 * another, leaving an empty mapping behind.
		 */
		int j = (int)rnd(&w->rng, NREG);
		struct region h = r->reg[j];
		size_t n = g.len < h.len ? g.len : h.len;

		if (j == i || g.kind != R_ANON || h.kind != R_ANON || !n)
			break;
		mremap((void *)g.addr, n, n,
		       MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP,
		       (void *)h.addr);
		break;
	}
	case 5: {
		/* mremap: shrink in place; the tail is reserved again at once. */
		size_t keep = (at - g.addr) ? at - g.addr : FUZZ_PAGE;

		if (keep >= g.len)
			break;
		/*
		 * A fork() must not see the hole (the child could get its
		 * buffers there): it takes the same lock.
		 */
		pthread_mutex_lock(&r->memf_lock);
		__atomic_store_n(&r->reg[i].len, keep, __ATOMIC_RELEASE);
		if (mremap((void *)g.addr, g.len, keep, 0) != MAP_FAILED)
			mmap((void *)(g.addr + keep), REG_SPAN - keep, PROT_NONE,
			     MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS |
				     MAP_NORESERVE, -1, 0);
		pthread_mutex_unlock(&r->memf_lock);
		break;
	}
	default:
		mprotect((void *)at, len, rnd(&w->rng, 2) ? PROT_READ :
						PROT_READ | PROT_WRITE);
		break;
	}
out:
	clear_inflight(w);
}

void chaos_memf(struct worker *w)
{
	struct round *r = w->r;
	struct memf *m = &r->mf[rnd(&w->rng, NMEMF)];
	int fd = __atomic_load_n(&m->fd, __ATOMIC_RELAXED);
	static const int seals[] = { F_SEAL_WRITE, F_SEAL_SHRINK, F_SEAL_GROW,
				     F_SEAL_FUTURE_WRITE, F_SEAL_SEAL };
	char buf[256];

	int what = (int)rnd(&w->rng, 8);

	/* Cheap: truncate, punch, write, seal; no new memfd. */
	if (!w->heavy && what > 5)
		what -= 6;
	count_syscall();
	set_inflight(w, K_SYS_MEMFD, fd, NULL, 0);
	switch (what) {
	case 0: case 1:
		if (ftruncate(fd, (off_t)(rnd(&w->rng, 2) ? 0 :
				FUZZ_PAGE * rnd(&w->rng, MEMF_MAX / FUZZ_PAGE))))
			break;
		break;
	case 2:
		fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			  (off_t)(FUZZ_PAGE * rnd(&w->rng, 64)),
			  (off_t)(FUZZ_PAGE * (1 + rnd(&w->rng, 64))));
		break;
	case 3: case 4:
		memset(buf, (int)rnd(&w->rng, 256), sizeof(buf));
		if (pwrite(fd, buf, sizeof(buf),
			   (off_t)rnd(&w->rng, MEMF_MAX)) < 0)
			break;
		break;
	case 5:
		fcntl(fd, F_ADD_SEALS, seals[rnd(&w->rng, 5)]);
		break;
	default: {
		/* A new memfd in the slot; the old one may still be mapped. */
		struct memf fresh;

		if (memf_make(r, &w->rng, &fresh))
			break;
		pthread_mutex_lock(&r->memf_lock);
		fd = m->fd;
		*m = fresh;
		pthread_mutex_unlock(&r->memf_lock);
		close(fd);
	}
	}
	clear_inflight(w);
}

/*
 * Close a context (with ioctls of other threads running on it), open a
 * new one, or pass one to ourselves over a socket (a second fd of the
 * same file); close an access.
 */
void chaos_fd(struct worker *w)
{
	struct round *r = w->r;
	struct ctx *c = pick_ctx(w);
	int fd;

	count_syscall();
	switch (rnd(&w->rng, 5)) {
	case 0:
		fd = __atomic_exchange_n(&c->fd, -1, __ATOMIC_ACQ_REL);
		if (fd >= 0) {
			set_inflight(w, K_SYS_CLOSE, fd, NULL, 0);
			close(fd);
			clear_inflight(w);
		}
		break;
	case 2: {
		struct access_ent *a = &c->acc[rnd(&w->rng, NACCESS)];

		if (cfg.avoid & AVOID_ACCESS_CLOSE)
			break;
		fd = __atomic_exchange_n(&a->fd, -1, __ATOMIC_ACQ_REL);
		if (fd >= 0) {
			set_inflight(w, K_SYS_CLOSE, fd, NULL, 0);
			close(fd);
			clear_inflight(w);
		}
		break;
	}
	case 1: case 3:
		if (c->fd >= 0 || w->solo)
			break;
		fd = ctx_open(r);
		if (fd >= 0) {
			int old = -1;

			if (!__atomic_compare_exchange_n(&c->fd, &old, fd, false,
							 __ATOMIC_ACQ_REL,
							 __ATOMIC_RELAXED)) {
				close(fd);
				break;
			}
			ctx_reset(c, fd);
		}
		break;
	default: {
		struct ctx *d = pick_ctx(w);
		int src = __atomic_load_n(&c->fd, __ATOMIC_RELAXED);
		int old = -1;

		if (src < 0 || d == c || w->solo)
			break;
		set_inflight(w, K_SYS_PASS, src, NULL, 0);
		pthread_mutex_lock(&r->opener_lock);
		fd = send_fd(r->self_sock[0], src, 'd') ? -1 :
							  recv_fd(r->self_sock[1]);
		pthread_mutex_unlock(&r->opener_lock);
		clear_inflight(w);
		if (fd < 0)
			break;
		/* The copy names the same context: same ids, same areas. */
		if (!__atomic_compare_exchange_n(&d->fd, &old, fd, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED)) {
			close(fd);
			break;
		}
		pthread_mutex_lock(&c->lock);
		pthread_mutex_lock(&d->lock);
		memcpy(d->ids, c->ids, sizeof(d->ids));
		memcpy(d->nids, c->nids, sizeof(d->nids));
		memcpy(d->areas, c->areas, sizeof(d->areas));
		d->nareas = c->nareas;
		d->max_id = c->max_id;
		pthread_mutex_unlock(&d->lock);
		pthread_mutex_unlock(&c->lock);
	}
	}
}

/* Forked children and the peer -------------------------------------------- */

/* A solo worker: a forked child, or the peer. */
static void solo_loop(struct worker *w, uint64_t max_ops, int sock)
{
	while (!round_over() && w->ops < max_ops) {
		if (sock >= 0) {
			struct pollfd pfd = { sock, POLLIN, 0 };
			bool none = true;

			for (int i = 0; i < NCTX; i++)
				none &= w->r->ctx[i].fd < 0;
			/* Nothing to use yet: wait for the round to send some. */
			if (poll(&pfd, 1, none ? 20 : 0) > 0) {
				char byte = 0;
				int fd;

				if (pfd.revents & (POLLHUP | POLLERR))
					break;
				if (recv(sock, &byte, 1, MSG_PEEK) == 1 &&
				    byte == 'q')
					break;
				fd = recv_fd(sock);
				if (fd >= 0) {
					struct ctx *c = pick_ctx(w);
					int old = __atomic_exchange_n(&c->fd, fd,
							__ATOMIC_ACQ_REL);

					if (old >= 0)
						close(old);
					ctx_reset(c, fd);
				}
			}
			if (none)
				continue;
		}
		one_op(w);
	}
}

static void close_round_fds(struct round *r)
{
	for (int i = 0; i < NCTX; i++) {
		struct ctx *c = &r->ctx[i];

		for (int j = 0; j < NACCESS; j++)
			if (c->acc[j].fd >= 0) {
				close(c->acc[j].fd);
				c->acc[j].fd = -1;
			}
		if (c->fault_fd >= 0)
			close(c->fault_fd);
		c->fault_fd = -1;
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
	}
	for (int i = 0; i < NMEMF; i++)
		if (r->mf[i].fd >= 0) {
			close(r->mf[i].fd);
			r->mf[i].fd = -1;
		}
}

/*
 * fork() with threads running: the child keeps this thread only, and
 * every fd.  The context locks are held across the fork so that the
 * child's copy of the tables is consistent (and unlocked) by construction.
 */
void chaos_fork(struct worker *w)
{
	struct round *r = w->r;
	uint64_t seed = rng_next(&w->rng);
	int slot = -1;
	pid_t pid;

	pthread_mutex_lock(&r->child_lock);
	for (int i = 0; i < NCHILDREN; i++) {
		int status;

		if (r->children[i] > 0 &&
		    waitpid(r->children[i], &status, WNOHANG) == r->children[i]) {
			/* A crashed child counts, whenever it is reaped. */
			if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
				__atomic_add_fetch(&sh->res.children_bad, 1,
						   __ATOMIC_RELAXED);
			r->children[i] = 0;
		}
		if (r->children[i] <= 0 && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		pthread_mutex_unlock(&r->child_lock);
		return;
	}
	count_syscall();
	for (int i = 0; i < NCTX; i++)
		pthread_mutex_lock(&r->ctx[i].lock);
	pthread_mutex_lock(&r->memf_lock);
	set_inflight(w, K_SYS_FORK, -1, NULL, 0);
	pid = fork();
	if (pid == 0) {
		struct worker cw;
		struct rng rng;

		pthread_mutex_unlock(&r->memf_lock);
		for (int i = 0; i < NCTX; i++)
			pthread_mutex_unlock(&r->ctx[i].lock);
		pthread_mutex_init(&r->opener_lock, NULL);
		pthread_mutex_init(&r->child_lock, NULL);
		rng_seed(&rng, seed);
		/* Now and then the child pays (and is limited) on its own. */
		if (!r->nobody && !rnd(&rng, 3)) {
			drop_to_nobody((rlim_t)(FUZZ_2M * (1 + rnd(&rng, 16))));
			r->nobody = true;
		}
		r->opener_fd = -1;
		worker_init(&cw, r, seed, FUZZ_SLOT_CHILD0 +
				(int)(r->child_seq++ % (FUZZ_MAX_SLOTS - FUZZ_SLOT_CHILD0)),
			    true);
		solo_loop(&cw, 50 + rnd(&rng, 400), -1);
		/* Exit with or without closing: both must release cleanly. */
		if (rnd(&rng, 2))
			close_round_fds(r);
		_exit(0);
	}
	clear_inflight(w);
	pthread_mutex_unlock(&r->memf_lock);
	for (int i = 0; i < NCTX; i++)
		pthread_mutex_unlock(&r->ctx[i].lock);
	r->child_seq++;
	if (pid > 0)
		r->children[slot] = pid;
	pthread_mutex_unlock(&r->child_lock);
}

/* Hand a context (or a memfd) to the peer process. */
void chaos_pass(struct worker *w)
{
	struct round *r = w->r;
	int fd;

	if (r->peer_sock < 0)
		return;
	fd = rnd(&w->rng, 4) ? r->ctx[rnd(&w->rng, NCTX)].fd :
			       r->mf[rnd(&w->rng, NMEMF)].fd;
	if (fd < 0)
		return;
	count_syscall();
	set_inflight(w, K_SYS_PASS, fd, NULL, 0);
	send_fd(r->peer_sock, fd, 'f');
	clear_inflight(w);
}

/* The peer: a separate process, uid nobody, using what it is sent. */
static void run_peer(struct round *r, int sock, uint64_t seed)
{
	struct worker pw;
	struct rng rng;
	long pin0, lck0, pin, lck;

	rng_seed(&rng, seed);
	r->is_peer = true;
	r->nobody = true;
	r->peer_sock = -1;
	drop_to_nobody((rlim_t)(FUZZ_2M * (4 + rnd(&rng, 28))));
	for (int i = 0; i < NREG; i++)
		region_make(r, &rng, i);
	for (int i = 0; i < NMEMF; i++)
		memf_make(r, &rng, &r->mf[i]);
	vm_counters(&pin0, &lck0);
	worker_init(&pw, r, seed, FUZZ_SLOT_PEER, true);
	solo_loop(&pw, UINT64_MAX, sock);
	/* Wait for the round to let go of everything, then close ours. */
	while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
		char byte;
		struct pollfd pfd = { sock, POLLIN, 0 };

		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if (recv(sock, &byte, 1, MSG_PEEK) == 1 && byte == 'q')
			break;
		if (pfd.revents & (POLLHUP | POLLERR))
			break;
		close(recv_fd(sock));
	}
	close_round_fds(r);
	vm_counters_settled(pin0, lck0, &pin, &lck);
	sh->res.peer_pin_kb = pin - pin0;
	sh->res.peer_lck_kb = lck - lck0;
	sh->res.peer_checked = 1;
	_exit(0);
}

/* The round --------------------------------------------------------------- */

struct thread_arg {
	struct round *r;
	uint64_t seed;
	int slot;
};

static void *worker_thread(void *p)
{
	struct thread_arg *ta = p;
	struct worker w;

	worker_init(&w, ta->r, ta->seed, ta->slot, false);
	pthread_barrier_wait(&ta->r->start);
	while (!round_over())
		one_op(&w);
	return NULL;
}

static void reserve_arena(struct round *r)
{
	/* The regions' spans, then one span that is never mapped. */
	r->arena_len = (NREG + 1) * REG_SPAN;
	r->arena = (uintptr_t)mmap(NULL, r->arena_len + FUZZ_2M, PROT_NONE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
				   -1, 0);
	if ((void *)r->arena == MAP_FAILED)
		_exit(91);
	r->arena = (r->arena + FUZZ_2M - 1) & ~(FUZZ_2M - 1);
	r->guard = r->arena + NREG * REG_SPAN;
}

int run_round(uint64_t seed, long nr, int mode, int opener_fd)
{
	static struct round round;
	struct round *r = &round;
	struct thread_arg ta[8];
	pthread_t th[8];
	struct rng rng;
	long pin0, lck0, pin, lck;
	int sv[2];

	rng_seed(&rng, seed);
	memset(r, 0, sizeof(*r));
	r->seed = seed;
	r->nr = nr;
	r->mode = mode;
	r->opener_fd = opener_fd;
	r->peer_sock = -1;
	/* At least two: a guest has two vCPUs to keep busy. */
	r->nthreads = cfg.threads ? cfg.threads : 2 + (int)rnd(&rng, 3);
	if (r->nthreads > 8)
		r->nthreads = 8;
	r->nobody = rnd(&rng, 2);
	pthread_mutex_init(&r->opener_lock, NULL);
	pthread_mutex_init(&r->child_lock, NULL);
	pthread_mutex_init(&r->memf_lock, NULL);
	for (int i = 0; i < NCTX; i++) {
		pthread_mutex_init(&r->ctx[i].lock, NULL);
		r->ctx[i].fd = -1;
		for (int j = 0; j < NACCESS; j++)
			r->ctx[i].acc[j].fd = -1;
		r->ctx[i].fault_fd = -1;
	}
	for (int i = 0; i < NMEMF; i++)
		r->mf[i].fd = -1;
	{
		int fd = memfd_create("probe", MFD_CLOEXEC | MFD_HUGETLB);

		r->hugetlb_ok = fd >= 0 && !ftruncate(fd, FUZZ_2M);
		if (fd >= 0)
			close(fd);
	}
	reserve_arena(r);
	vm_counters(&pin0, &lck0);
	sh->res.pin_start_kb = pin0;
	sh->res.lck_start_kb = lck0;

	/* The peer first, while this process has one thread. */
	if (rnd(&rng, 4) && !socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC,
					0, sv)) {
		uint64_t pseed = rng_next(&rng);

		r->peer = fork();
		if (r->peer == 0) {
			close(sv[0]);
			run_peer(r, sv[1], pseed);
		}
		close(sv[1]);
		r->peer_sock = r->peer > 0 ? sv[0] : -1;
		if (r->peer <= 0)
			close(sv[0]);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, r->self_sock))
		r->self_sock[0] = r->self_sock[1] = -1;

	for (int i = 0; i < NREG; i++)
		region_make(r, &rng, i);
	for (int i = 0; i < NMEMF; i++)
		memf_make(r, &rng, &r->mf[i]);
	r->misc_fd[0] = open("/dev/null", O_RDWR | O_CLOEXEC);
	{
		char path[64];

		/* The same memfd, read-only: no writeable MAP_FILE of it. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", r->mf[0].fd);
		r->misc_fd[1] = open(path, O_RDONLY | O_CLOEXEC);
		r->misc_fd[2] = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (r->misc_fd[2] >= 0 && ftruncate(r->misc_fd[2], FUZZ_2M)) {
			close(r->misc_fd[2]);
			r->misc_fd[2] = -1;
		}
		r->misc_fd[3] = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	}
	for (int i = 0; i < NCTX; i++)
		if (i == 0 || rnd(&rng, 2))
			ctx_reset(&r->ctx[i], open("/dev/iommu", O_RDWR | O_CLOEXEC));
	if ((mode & MODE_VFIO) && vfio_setup(r, &rng))
		snprintf(sh->res.note, sizeof(sh->res.note),
			 "VFIO set-up failed: the round ran without devices");
	if (r->nobody) {
		/* The huge unpopulated mapping only where pins are limited. */
		if (!(cfg.avoid & AVOID_HUGE)) {
			void *p = mmap(NULL, HUGE_LEN, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS |
					       MAP_NORESERVE, -1, 0);

			r->huge = p == MAP_FAILED ? 0 : (uintptr_t)p;
		}
		drop_to_nobody((rlim_t)(FUZZ_2M * (8 + rnd(&rng, 56))));
	}

	pthread_barrier_init(&r->start, NULL, (unsigned int)r->nthreads);
	for (int i = 0; i < r->nthreads; i++) {
		pthread_attr_t attr;

		ta[i] = (struct thread_arg){ r, seed_derive(seed, (uint64_t)i + 1), i };
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 256 * 1024);
		if (pthread_create(&th[i], &attr, worker_thread, &ta[i]))
			_exit(92);
	}
	for (int i = 0; i < r->nthreads; i++)
		pthread_join(th[i], NULL);

	/* Everything of ours goes, then the children, then the peer. */
	vfio_teardown(r);
	close_round_fds(r);
	for (int i = 0; i < 4; i++)
		if (r->misc_fd[i] >= 0)
			close(r->misc_fd[i]);
	close(r->self_sock[0]);
	close(r->self_sock[1]);
	for (int i = 0; i < NCHILDREN; i++) {
		int status;

		if (r->children[i] <= 0)
			continue;
		if (waitpid(r->children[i], &status, 0) == r->children[i] &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			sh->res.children_bad++;
	}
	if (r->peer > 0) {
		int status;

		if (write(r->peer_sock, "q", 1) != 1)
			kill(r->peer, SIGKILL);
		if (waitpid(r->peer, &status, 0) == r->peer &&
		    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
			sh->res.children_bad++;
		close(r->peer_sock);
	}
	vm_counters_settled(pin0, lck0, &pin, &lck);
	sh->res.pin_end_kb = pin;
	sh->res.lck_end_kb = lck;
	sh->res.done = 1;
	return 0;
}
