// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO type1 compatibility: the type1 container ioctls served by an IOAS.
 *
 * Two ways in, as upstream promised for iommufd: the same ioctls issued on
 * a /dev/iommu fd (on the IOAS IOMMU_VFIO_IOAS designates, or creates),
 * and a real VFIO container served by the iommufd_vfio backend, which
 * forwards them here with a context of its own.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/*
 * The compat IOAS is a plain pointer, as upstream keeps it: it does not
 * hold the IOAS (which user space may destroy; object.c then clears the
 * pointer), so it is read under the registry's lock and taken like any
 * lookup.
 */
static struct iommufd_ioas *get_compat_ioas(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	xa_lock(&ictx->objects);
	ioas = ictx->vfio_ioas;
	if (ioas && refcount_inc_not_zero(&ioas->obj.shortterm_users))
		refcount_inc(&ioas->obj.users);
	else
		ioas = ERR_PTR(-ENODEV);
	xa_unlock(&ictx->objects);
	return ioas;
}

static void set_compat_ioas(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas)
{
	xa_lock(&ictx->objects);
	ictx->vfio_ioas = ioas;
	xa_unlock(&ictx->objects);
}

/* A container's first device needs an IOAS to go through: make one. */
static struct iommufd_ioas *get_or_create_compat_ioas(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&ictx->vfio_lock);
	ioas = get_compat_ioas(ictx);
	if (!IS_ERR(ioas))
		goto out_unlock;
	ioas = iommufd_ioas_alloc(ictx);
	if (IS_ERR(ioas))
		goto out_unlock;
	if (ictx->vfio_type1_v1)
		iopt_disable_large_pages(&ioas->iopt);
	/* Our lookup-like hold, as get_compat_ioas() gives. */
	refcount_inc(&ioas->obj.shortterm_users);
	refcount_inc(&ioas->obj.users);
	iommufd_object_finalize(ictx, &ioas->obj);
	set_compat_ioas(ictx, ioas);
out_unlock:
	mutex_unlock(&ictx->vfio_lock);
	return ioas;
}

int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *cmd = ucmd->cmd;
	struct iommufd_ioas *ioas;

	if (cmd->__reserved)
		return -EOPNOTSUPP;
	switch (cmd->op) {
	case IOMMU_VFIO_IOAS_GET:
		ioas = get_compat_ioas(ucmd->ictx);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		cmd->ioas_id = ioas->obj.id;
		iommufd_put_object(ucmd->ictx, &ioas->obj);
		return iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	case IOMMU_VFIO_IOAS_SET:
		ioas = iommufd_get_ioas(ucmd->ictx, cmd->ioas_id);
		if (IS_ERR(ioas))
			return PTR_ERR(ioas);
		set_compat_ioas(ucmd->ictx, ioas);
		iommufd_put_object(ucmd->ictx, &ioas->obj);
		return 0;
	case IOMMU_VFIO_IOAS_CLEAR:
		set_compat_ioas(ucmd->ictx, NULL);
		return 0;
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * A VFIO container's own context: pins are charged exactly as VFIO type1
 * charges them, to the mapping process's VmLck, CAP_IPC_LOCK only lifting
 * the limit, so that limits written for type1 (libvirt's) keep meaning
 * the same.
 */
struct iommufd_ctx *iommufd_vfio_compat_ctx_create(bool v2)
{
	struct iommufd_ctx *ictx = iommufd_ctx_create();

	if (IS_ERR(ictx))
		return ictx;
	ictx->account_mode = IOPT_ACCOUNT_TYPE1;
	ictx->vfio_type1_v1 = !v2;
	return ictx;
}
IOMMUFD_EXPORT(iommufd_vfio_compat_ctx_create);

int iommufd_vfio_compat_attach(struct iommufd_ctx *ictx,
			       struct iommufd_device *idev)
{
	struct iommufd_ioas *ioas = get_or_create_compat_ioas(ictx);
	u32 pt_id;
	int rc;

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	pt_id = ioas->obj.id;
	rc = iommufd_device_attach(idev, &pt_id);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}
IOMMUFD_EXPORT(iommufd_vfio_compat_attach);

/*
 * Is DMA through the compat IOAS cache coherent whatever the devices do?
 * Only if every one of its domains blocks no-snoop.
 */
static long compat_cc_iommu(struct iommufd_ctx *ictx)
{
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_ioas *ioas;
	long rc = 1;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item)
		if (!hwpt->enforce_cc)
			rc = 0;
	mutex_unlock(&ioas->mutex);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* @ictx may be NULL: VFIO asking a backend nobody opened yet. */
long iommufd_vfio_compat_check_extension(struct iommufd_ctx *ictx,
					 unsigned long ext)
{
	switch (ext) {
	case VFIO_TYPE1_IOMMU:
	case VFIO_TYPE1v2_IOMMU:
	case VFIO_UNMAP_ALL:
		return 1;
	case VFIO_DMA_CC_IOMMU:
		return ictx ? compat_cc_iommu(ictx) : 0;
	default:
		/* Nesting, SPAPR, no-IOMMU and UPDATE_VADDR are not offered. */
		return 0;
	}
}
IOMMUFD_EXPORT(iommufd_vfio_compat_check_extension);

static int compat_map_dma(struct iommufd_ctx *ictx, void __user *uarg)
{
	u32 supported = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map;
	struct iommufd_ioas *ioas;
	unsigned long iova;
	int prot = IOMMU_CACHE;
	int rc;

	if (copy_from_user(&map, uarg, minsz))
		return -EFAULT;
	if (map.argsz < minsz || map.flags & ~supported)
		return -EINVAL;
	if (map.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (map.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;
	/* Size and range errors are the IO page table's, as upstream. */

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iova = map.iova;
	rc = iopt_map_user_pages(ictx, &ioas->iopt, &iova,
				 u64_to_user_ptr(map.vaddr), map.size, prot, 0);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

static int compat_unmap_dma(struct iommufd_ctx *ictx, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size);
	struct vfio_iommu_type1_dma_unmap unmap;
	unsigned long unmapped = 0;
	struct iommufd_ioas *ioas;
	int rc;

	if (copy_from_user(&unmap, uarg, minsz))
		return -EFAULT;
	if (unmap.argsz < minsz ||
	    unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL)
		return -EINVAL;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
		rc = unmap.iova || unmap.size ? -EINVAL :
			iopt_unmap_all(&ioas->iopt, &unmapped);
	} else if (!unmap.size) {
		rc = -EINVAL;
	} else {
		/*
		 * Type1 v1 may unmap the middle of a mapping: with large IOMMU
		 * pages off (as v1 has them) the areas are cut at both ends
		 * first.  v2 refuses to split, with ENOENT, like the IOAS.
		 */
		if (READ_ONCE(ioas->iopt.disable_large_pages)) {
			unsigned long cuts[] = { unmap.iova + unmap.size - 1,
						 unmap.iova - 1 };

			rc = iopt_cut_iova(&ioas->iopt, cuts,
					   unmap.iova ? 2 : 1);
			if (rc)
				goto out_put;
		}
		rc = iopt_unmap_iova(&ioas->iopt, unmap.iova, unmap.size,
				     &unmapped);
	}
	/* What was unmapped is reported even when a later part failed. */
	unmap.size = unmapped;
	if (copy_to_user(uarg, &unmap, minsz))
		rc = -EFAULT;
out_put:
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/* The page sizes every domain of the IOAS offers, or the CPU page. */
static u64 compat_pgsizes(struct io_pagetable *iopt)
{
	u64 pgsizes = ULONG_MAX & PAGE_MASK;
	struct iommu_domain *domain;
	unsigned long index;

	down_read(&iopt->domains_rwsem);
	xa_for_each(&iopt->domains, index, domain)
		pgsizes &= domain->pgsize_bitmap;
	up_read(&iopt->domains_rwsem);
	return pgsizes ?: PAGE_SIZE;
}

static int compat_get_info(struct iommufd_ctx *ictx, void __user *uarg)
{
	size_t minsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	struct vfio_iommu_type1_info_cap_iova_range range_cap = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
			.version = 1,
		},
	};
	struct vfio_iommu_type1_info_dma_avail avail_cap = {
		.header = {
			.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
			.version = 1,
		},
		/* No per-container mapping count limit here. */
		.avail = U32_MAX,
	};
	struct vfio_iommu_type1_info info = {};
	struct vfio_iova_range *ranges;
	struct iopt_hole_iter hole;
	struct iommufd_ioas *ioas;
	size_t caps_len, ranges_len, avail_len, copy_len;
	u32 nranges = 0, i;
	int rc = 0;

	if (copy_from_user(&info, uarg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	/* The usable ranges: the holes between reserved ranges. */
	down_read(&ioas->iopt.iova_rwsem);
	iopt_for_each_hole(&hole, &ioas->iopt)
		nranges++;
	ranges = kcalloc(max(nranges, 1U), sizeof(*ranges), GFP_KERNEL);
	if (ranges) {
		i = 0;
		iopt_for_each_hole(&hole, &ioas->iopt) {
			ranges[i].start = hole.start;
			ranges[i].end = hole.last;
			i++;
		}
	} else {
		rc = -ENOMEM;
	}
	up_read(&ioas->iopt.iova_rwsem);
	info.flags = VFIO_IOMMU_INFO_PGSIZES;
	info.iova_pgsizes = compat_pgsizes(&ioas->iopt);
	iommufd_put_object(ictx, &ioas->obj);
	if (rc)
		goto out_free;

	/*
	 * Capabilities as type1 lays them out: each padded to 8 bytes, DMA
	 * available first as upstream's iommufd has them.  The size needed
	 * is always reported, and the chain only when it fits.
	 */
	ranges_len = nranges * sizeof(*ranges);
	avail_len = ALIGN(sizeof(avail_cap), 8);
	caps_len = avail_len + sizeof(range_cap) + ranges_len;
	info.flags |= VFIO_IOMMU_INFO_CAPS;
	info.cap_offset = 0;
	if (info.argsz >= sizeof(info) + caps_len) {
		void __user *ucaps = uarg + sizeof(info);
		u8 pad[8] = {};

		avail_cap.header.next = sizeof(info) + avail_len;
		range_cap.nr_iovas = nranges;
		if (copy_to_user(ucaps, &avail_cap, sizeof(avail_cap)) ||
		    copy_to_user(ucaps + sizeof(avail_cap), pad,
				 avail_len - sizeof(avail_cap)) ||
		    copy_to_user(ucaps + avail_len, &range_cap,
				 sizeof(range_cap)) ||
		    copy_to_user(ucaps + avail_len + sizeof(range_cap), ranges,
				 ranges_len)) {
			rc = -EFAULT;
			goto out_free;
		}
		info.cap_offset = sizeof(info);
	}
	/* Write back no more than the caller said it has room for. */
	copy_len = min_t(size_t, info.argsz, sizeof(info));
	info.argsz = sizeof(info) + caps_len;
	if (copy_to_user(uarg, &info, copy_len))
		rc = -EFAULT;
out_free:
	kfree(ranges);
	return rc;
}

/*
 * On /dev/iommu, as VFIO fails it without a group, SET_IOMMU needs the
 * compat IOAS to exist already.  Type1 v1 may unmap inside a mapping: with
 * large IOMMU pages off, any mapping can be cut.
 */
static int compat_set_iommu(struct iommufd_ctx *ictx, unsigned long type)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	ioas = get_compat_ioas(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (type == VFIO_TYPE1_IOMMU)
		rc = iopt_disable_large_pages(&ioas->iopt);
	iommufd_put_object(ictx, &ioas->obj);
	return rc;
}

/**
 * iommufd_vfio_compat_ioctl() - a VFIO type1 container ioctl
 * @ictx: the context whose compat IOAS serves it
 * @cmd: the ioctl
 * @arg: its argument
 *
 * Returns -ENOIOCTLCMD for anything that is not a type1 ioctl.
 */
long iommufd_vfio_compat_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			       unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return iommufd_vfio_compat_check_extension(ictx, arg);
	case VFIO_SET_IOMMU:
		return compat_set_iommu(ictx, arg);
	case VFIO_IOMMU_GET_INFO:
		return compat_get_info(ictx, uarg);
	case VFIO_IOMMU_MAP_DMA:
		return compat_map_dma(ictx, uarg);
	case VFIO_IOMMU_UNMAP_DMA:
		return compat_unmap_dma(ictx, uarg);
	default:
		return -ENOIOCTLCMD;
	}
}
IOMMUFD_EXPORT(iommufd_vfio_compat_ioctl);
