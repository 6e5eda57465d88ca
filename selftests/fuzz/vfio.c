// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO mode: the round's contexts also hold real devices.  QEMU's edu
 * devices (bound to vfio-pci) join through our VFIO backend: one container
 * per device, in iommufd mode (IOMMUFD_DKMS_VFIO_LINK to one of the
 * round's contexts, then attach/replace/detach, HWPT_ALLOC and
 * GET_HW_INFO with a real dev_id, under the machine's real IOMMU) or in
 * type1 compatibility (VFIO_TYPE1v2_IOMMU served by an IOAS).  While the
 * threads fuzz, a device's group is moved to a new container and linked
 * again (unbind racing attach), and the device runs DMA to random IOVAs:
 * every IOVA maps arena memory, so a transfer can only hit the arena or
 * fault in the IOMMU.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/iommufd.h>
#include <linux/iommufd_dkms.h>
#include <linux/vfio.h>

#include "round.h"
#include "vfio_edu.h"

#define NDEV		2
#define VFIO_FD_BASE	900	/* out of the way of stale context numbers */

struct vfio_dev {
	struct edu edu;
	bool present;
	bool type1;
	int ctx;		/* the context it is linked to, -1 if none */
	uint32_t dev_id;
};

struct vfio_state {
	pthread_mutex_t lock;
	struct vfio_dev dev[NDEV];
};

static struct vfio_state vfio_state;

bool vfio_available(char *why, size_t len)
{
	char bdf[32];

	if (access("/sys/module/iommufd_vfio", F_OK)) {
		snprintf(why, len, "iommufd_vfio is not loaded");
		return false;
	}
	if (access("/dev/vfio/vfio", F_OK)) {
		snprintf(why, len, "no /dev/vfio/vfio");
		return false;
	}
	if (edu_find(bdf, sizeof(bdf))) {
		snprintf(why, len, "no edu device in this machine");
		return false;
	}
	return true;
}

/* Keep VFIO fds far from the small numbers contexts reuse. */
static int high_fd(int fd)
{
	int hi;

	if (fd < 0)
		return fd;
	hi = fcntl(fd, F_DUPFD_CLOEXEC, VFIO_FD_BASE);
	close(fd);
	return hi;
}

/* A new container for the device's group, its IOMMU set, linked. */
static int vfio_join(struct worker *w, struct round *r, struct vfio_dev *d,
		     struct rng *rng)
{
	struct iommufd_dkms_vfio_link link = { .size = sizeof(link) };
	struct iommufd_dkms_vfio_device ent;
	struct iommufd_dkms_vfio_devices list = {
		.size = sizeof(list),
		.num_devices = 1,
		.devices = (uintptr_t)&ent,
	};
	unsigned long type;
	int fd = high_fd(open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC));
	int rc;

	if (fd < 0)
		return -errno;
	d->edu.container_fd = fd;
	rc = w ? fuzz_call(w, d->edu.group_fd, K_G_SET_CONTAINER,
			   VFIO_GROUP_SET_CONTAINER, &fd, &fd, sizeof(fd)) :
		 ioctl(d->edu.group_fd, VFIO_GROUP_SET_CONTAINER, &fd);
	if (rc)
		return rc < 0 ? rc : -errno;
	d->type1 = !rnd(rng, 3);
	type = d->type1 ? VFIO_TYPE1v2_IOMMU : VFIO_IOMMUFD_DKMS_IOMMU;
	if (ioctl(fd, VFIO_SET_IOMMU, type))
		return -errno;
	d->ctx = -1;
	if (d->type1)
		return 0;
	d->ctx = (int)rnd(rng, NCTX);
	/* Mostly an open context; a closed one's number now and then. */
	for (int i = 0; i < NCTX && r->ctx[d->ctx].fd < 0 && rnd(rng, 10); i++)
		d->ctx = (d->ctx + 1) % NCTX;
	link.iommufd = r->ctx[d->ctx].fd;
	if (!rnd(rng, 20))
		link.flags = 1;
	rc = w ? fuzz_call(w, fd, K_VFIO_LINK, IOMMUFD_DKMS_VFIO_LINK, &link,
			   &link, sizeof(link)) :
		 (ioctl(fd, IOMMUFD_DKMS_VFIO_LINK, &link) ? -errno : 0);
	if (rc)
		return rc;
	rc = w ? fuzz_call(w, fd, K_VFIO_DEVICES, IOMMUFD_DKMS_VFIO_DEVICES,
			   &list, &list, sizeof(list)) :
		 (ioctl(fd, IOMMUFD_DKMS_VFIO_DEVICES, &list) ? -errno : 0);
	if (!rc && list.num_devices >= 1) {
		d->dev_id = ent.dev_id;
		note_id(&r->ctx[d->ctx], ID_IDEV, ent.dev_id);
	}
	return 0;
}

static void vfio_close_device(struct vfio_dev *d)
{
	if (d->edu.bar0)
		munmap((void *)d->edu.bar0, d->edu.bar0_size);
	d->edu.bar0 = NULL;
	if (d->edu.device_fd >= 0)
		close(d->edu.device_fd);
	d->edu.device_fd = -1;
}

int vfio_setup(struct round *r, struct rng *rng)
{
	struct vfio_state *v = &vfio_state;
	int ok = 0;

	memset(v, 0, sizeof(*v));
	pthread_mutex_init(&v->lock, NULL);
	for (int i = 0; i < NDEV; i++) {
		struct vfio_dev *d = &v->dev[i];
		char path[64];

		d->edu.container_fd = d->edu.group_fd = d->edu.device_fd = -1;
		d->ctx = -1;
		if (edu_find_nth(d->edu.bdf, sizeof(d->edu.bdf), i) ||
		    edu_bind_vfio(d->edu.bdf, &d->edu.group_nr))
			continue;
		snprintf(path, sizeof(path), "/dev/vfio/%d", d->edu.group_nr);
		d->edu.group_fd = high_fd(open(path, O_RDWR | O_CLOEXEC));
		if (d->edu.group_fd < 0)
			continue;
		d->present = true;
		if (vfio_join(NULL, r, d, rng))
			continue;
		ok++;
		/* With the device open, the group can only leave when it closes. */
		if (rnd(rng, 2) && !edu_open_device(&d->edu))
			d->edu.device_fd = high_fd(d->edu.device_fd);
		else
			vfio_close_device(d);
	}
	r->vfio = v;
	return ok ? 0 : -1;
}

/* Move the group to a new container: unbind racing the threads' attaches. */
static void vfio_rejoin(struct worker *w, struct vfio_dev *d)
{
	if (rnd(&w->rng, 2))
		vfio_close_device(d);
	fuzz_call(w, d->edu.group_fd, K_G_UNSET_CONTAINER,
		  VFIO_GROUP_UNSET_CONTAINER, NULL, NULL, 0);
	if (d->edu.device_fd >= 0)
		return;		/* EBUSY: the device keeps the container */
	set_inflight(w, K_SYS_CLOSE, d->edu.container_fd, NULL, 0);
	close(d->edu.container_fd);
	clear_inflight(w);
	d->edu.container_fd = -1;
	vfio_join(w, w->r, d, &w->rng);
}

static void vfio_container_op(struct worker *w, struct vfio_dev *d)
{
	int fd = d->edu.container_fd;
	struct ctx *c = d->ctx >= 0 ? &w->r->ctx[d->ctx] : NULL;

	switch (rnd(&w->rng, 6)) {
	case 0: {
		struct vfio_iommu_type1_info *info = (void *)w->scratch;

		memset(info, 0, 64);
		info->argsz = rnd(&w->rng, 2) ? sizeof(*info) : 4096;
		fuzz_call(w, fd, K_C_GET_INFO, VFIO_IOMMU_GET_INFO, info, info,
			  sizeof(*info));
		break;
	}
	case 1: {
		unsigned long e = rnd(&w->rng, 12);

		fuzz_call(w, fd, K_C_CHECK_EXT, VFIO_CHECK_EXTENSION, (void *)e,
			  &e, sizeof(e));
		break;
	}
	case 2: case 3: {
		struct vfio_iommu_type1_dma_map *m = (void *)w->scratch;

		memset(m, 0, sizeof(*m));
		m->argsz = sizeof(*m);
		m->flags = VFIO_DMA_MAP_FLAG_READ |
			   (rnd(&w->rng, 4) ? VFIO_DMA_MAP_FLAG_WRITE : 0);
		if (!rnd(&w->rng, 20))
			m->flags = (uint32_t)rnd(&w->rng, 16);
		m->size = FUZZ_PAGE * (1 + rnd(&w->rng, 64));
		m->vaddr = pick_uva(w, &m->size);
		m->iova = pick_iova(w, c, m->size);
		if (rnd(&w->rng, 2))
			m->iova &= 0x0fffffffULL;	/* in the edu's reach */
		fuzz_call(w, fd, K_C_MAP, VFIO_IOMMU_MAP_DMA, m, m, sizeof(*m));
		break;
	}
	default: {
		struct vfio_iommu_type1_dma_unmap *u = (void *)w->scratch;

		memset(u, 0, sizeof(*u));
		u->argsz = sizeof(*u);
		if (rnd(&w->rng, 4)) {
			u->size = pick_len(w);
			u->iova = pick_iova(w, c, u->size);
		} else {
			u->flags = VFIO_DMA_UNMAP_FLAG_ALL;
		}
		fuzz_call(w, fd, K_C_UNMAP, VFIO_IOMMU_UNMAP_DMA, u, u,
			  sizeof(*u));
	}
	}
}

void vfio_op(struct worker *w)
{
	struct vfio_state *v = w->r->vfio;
	struct vfio_dev *d = &v->dev[rnd(&w->rng, NDEV)];
	unsigned int p = (unsigned int)rnd(&w->rng, 100);
	int ci = __atomic_load_n(&d->ctx, __ATOMIC_RELAXED);

	if (!d->present)
		return;
	/* Joins, rejoins and DMA are of the full profile only. */
	if (!w->heavy && p < 20)
		p += 20;
	if (p < 20) {
		/* What changes the device's fds or uses its BAR: one at a time. */
		pthread_mutex_lock(&v->lock);
		if (d->edu.container_fd < 0) {
			vfio_join(w, w->r, d, &w->rng);
		} else if (p < 4 && !(cfg.avoid & AVOID_REJOIN)) {
			vfio_rejoin(w, d);
		} else if (d->edu.bar0) {
			/* Short: QEMU 7.2 aborts on one ending at 4 KiB. */
			uint64_t len = 8 + rnd(&w->rng, 2040);
			uint64_t iova = pick_iova(w, d->ctx >= 0 ?
						  &w->r->ctx[d->ctx] : NULL, len);

			set_inflight(w, K_SYS_DMA, d->edu.device_fd, &iova,
				     sizeof(iova));
			edu_dma(&d->edu, iova & 0x0fffffffULL, 0, len,
				(int)rnd(&w->rng, 2));
			clear_inflight(w);
			count_syscall();
		}
		pthread_mutex_unlock(&v->lock);
	} else if (d->type1 || ci < 0 || p < 45) {
		/* Without the lock: the container may be replaced meanwhile. */
		vfio_container_op(w, d);
	} else {
		/* Attach, replace, detach the real device in its context. */
		struct ctx *c = &w->r->ctx[ci];
		struct iommufd_dkms_device_attach at = {
			.size = sizeof(at),
			.dev_id = d->dev_id,
			.pt_id = pick_id(w, c, rnd(&w->rng, 2) ? ID_IOAS : ID_HWPT),
		};
		struct iommufd_dkms_device_detach dt = {
			.size = sizeof(dt),
			.dev_id = d->dev_id,
		};

		if (rnd(&w->rng, 4) || (cfg.avoid & AVOID_DETACH)) {
			if (!fuzz_call(w, c->fd, K_DKMS_ATTACH,
				       IOMMUFD_DKMS_DEVICE_ATTACH, &at, &at,
				       sizeof(at)))
				note_id(c, ID_HWPT, at.pt_id);
		} else {
			fuzz_call(w, c->fd, K_DKMS_DETACH,
				  IOMMUFD_DKMS_DEVICE_DETACH, &dt, &dt,
				  sizeof(dt));
		}
	}
}

void vfio_teardown(struct round *r)
{
	struct vfio_state *v = r->vfio;

	if (!v)
		return;
	for (int i = 0; i < NDEV; i++) {
		struct vfio_dev *d = &v->dev[i];

		vfio_close_device(d);
		if (d->edu.group_fd >= 0)
			close(d->edu.group_fd);
		if (d->edu.container_fd >= 0)
			close(d->edu.container_fd);
		d->edu.group_fd = d->edu.container_fd = -1;
	}
	r->vfio = NULL;
}
