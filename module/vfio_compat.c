// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO type1 on top of an IOAS.
 *
 * A program written for a VFIO type1 container keeps working in two ways:
 *  - on a /dev/iommu fd, whose "compat IOAS" (chosen or created with
 *    IOMMU_VFIO_IOAS) plays the container's address space;
 *  - on a real VFIO container served by iommufd_vfio with type1=1, which
 *    owns a private context (iommufd_vfio_compat_ctx_create()) and
 *    forwards the container ioctls here.
 * Only the IOAS is involved: pins, accounting and domains are the IO page
 * table's, so type1 users get the same pinning and limits as native ones.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/* --- which IOAS serves the type1 ioctls ------------------------------------ */

/*
 * ictx->vfio_ioas names the compat IOAS without holding it: user space may
 * destroy that IOAS at any time (object.c clears the pointer when it
 * does).  Reading it and taking a lookup reference both happen under the
 * registry's lock, which is what makes the pointer safe to follow.
 */
static struct iommufd_ioas *compat_ioas_get(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *found;

	xa_lock(&ictx->objects);
	found = ictx->vfio_ioas;
	if (!found || !refcount_inc_not_zero(&found->obj.shortterm_users))
		found = NULL;
	else
		refcount_inc(&found->obj.users);
	xa_unlock(&ictx->objects);
	/* Type1 answers ENODEV while a container has no IOMMU behind it. */
	return found ?: ERR_PTR(-ENODEV);
}

static void compat_ioas_set(struct iommufd_ctx *ictx,
			    struct iommufd_ioas *ioas)
{
	xa_lock(&ictx->objects);
	ictx->vfio_ioas = ioas;
	xa_unlock(&ictx->objects);
}

/*
 * The first device of a type1 container brings the address space into
 * being.  vfio_lock keeps two first devices from making two of them.
 */
static struct iommufd_ioas *
compat_ioas_get_or_make_locked(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	lockdep_assert_held(&ictx->vfio_lock);
	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas)) {
		ioas = iommufd_ioas_alloc(ictx);
		if (!IS_ERR(ioas)) {
			/* Type1 v1 may unmap inside a mapping: 4 KiB pages. */
			if (ictx->vfio_type1_v1)
				iopt_disable_large_pages(&ioas->iopt);
			/* Returned held, as compat_ioas_get() returns it. */
			refcount_inc(&ioas->obj.shortterm_users);
			refcount_inc(&ioas->obj.users);
			iommufd_ioas_publish(ictx, ioas);
			compat_ioas_set(ictx, ioas);
		}
	}
	return ioas;
}

static struct iommufd_ioas *compat_ioas_get_or_make(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&ictx->vfio_lock);
	ioas = compat_ioas_get_or_make_locked(ictx);
	mutex_unlock(&ictx->vfio_lock);
	return ioas;
}

/* --- the in-kernel API's compat calls (VFIO's group path on an iommufd) --- */

/* The compat IOAS's id, if there is one (ENODEV otherwise). */
int iommufd_vfio_compat_ioas_get_id(struct iommufd_ctx *ictx, u32 *ioas_id)
{
	struct iommufd_ioas *ioas = compat_ioas_get(ictx);

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	*ioas_id = ioas->obj.id;
	iommufd_put_object(ictx, &ioas->obj);
	return 0;
}
IOMMUFD_EXPORT_KAPI_VFIO(iommufd_vfio_compat_ioas_get_id);

/*
 * A group joins a container that is an iommufd: the compat IOAS is made
 * unless there is one already (or a no-IOMMU device forbids it: EINVAL).
 * User space may destroy it as any IOAS it made itself.
 */
int iommufd_vfio_compat_ioas_create(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;

	mutex_lock(&ictx->vfio_lock);
	ioas = ictx->vfio_no_iommu ? ERR_PTR(-EINVAL) :
				     compat_ioas_get_or_make_locked(ictx);
	mutex_unlock(&ictx->vfio_lock);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	iommufd_put_object(ictx, &ioas->obj);
	return 0;
}
IOMMUFD_EXPORT_KAPI_VFIO(iommufd_vfio_compat_ioas_create);

/*
 * A no-IOMMU device joins: there must be no compat IOAS now (EINVAL), and
 * none may be made later.
 */
int iommufd_vfio_compat_set_no_iommu(struct iommufd_ctx *ictx)
{
	int rc = 0;

	mutex_lock(&ictx->vfio_lock);
	xa_lock(&ictx->objects);
	if (ictx->vfio_ioas)
		rc = -EINVAL;
	else
		ictx->vfio_no_iommu = true;
	xa_unlock(&ictx->objects);
	mutex_unlock(&ictx->vfio_lock);
	return rc;
}
IOMMUFD_EXPORT_KAPI_VFIO(iommufd_vfio_compat_set_no_iommu);

/* IOMMU_VFIO_IOAS: read, choose or forget the compat IOAS. */
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd)
{
	struct iommu_vfio_ioas *arg = ucmd->cmd;
	struct iommufd_ioas *ioas;

	if (arg->__reserved)
		return -EOPNOTSUPP;

	if (arg->op == IOMMU_VFIO_IOAS_CLEAR) {
		compat_ioas_set(ucmd->ictx, NULL);
		return 0;
	}
	if (arg->op == IOMMU_VFIO_IOAS_GET)
		ioas = compat_ioas_get(ucmd->ictx);
	else if (arg->op == IOMMU_VFIO_IOAS_SET)
		ioas = iommufd_get_ioas(ucmd->ictx, arg->ioas_id);
	else
		return -EOPNOTSUPP;
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (arg->op == IOMMU_VFIO_IOAS_SET)
		compat_ioas_set(ucmd->ictx, ioas);
	else
		arg->ioas_id = ioas->obj.id;
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	/* Only GET has an output; SET writes nothing back. */
	if (arg->op == IOMMU_VFIO_IOAS_SET)
		return 0;
	return iommufd_ucmd_respond(ucmd, sizeof(*arg));
}

/* --- entry points for the VFIO backend ----------------------------------- */

/*
 * A VFIO container's private context.  Its pins are charged the way VFIO
 * type1 charges them (the mapping process's VmLck; CAP_IPC_LOCK lifts the
 * limit but is still counted), so limits set up for type1, libvirt's for
 * one, keep their meaning.
 */
struct iommufd_ctx *iommufd_vfio_compat_ctx_create(bool v2)
{
	struct iommufd_ctx *ictx = iommufd_ctx_create();

	if (!IS_ERR(ictx)) {
		WRITE_ONCE(ictx->account_mode, IOPT_ACCOUNT_TYPE1);
		ictx->vfio_type1_v1 = !v2;
	}
	return ictx;
}
IOMMUFD_EXPORT(iommufd_vfio_compat_ctx_create);

/* A device joining a type1 container: its DMA goes through the compat IOAS. */
int iommufd_vfio_compat_attach(struct iommufd_ctx *ictx,
			       struct iommufd_device *idev)
{
	struct iommufd_ioas *ioas = compat_ioas_get_or_make(ictx);
	u32 pt_id;
	int err;

	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	pt_id = ioas->obj.id;
	err = iommufd_device_attach(idev, &pt_id);
	iommufd_put_object(ictx, &ioas->obj);
	return err;
}
IOMMUFD_EXPORT(iommufd_vfio_compat_attach);

/* --- VFIO_CHECK_EXTENSION ------------------------------------------------- */

/*
 * VFIO_DMA_CC_IOMMU promises that DMA is coherent whatever a device asks
 * for: true only when every domain on the compat IOAS blocks no-snoop.
 */
static long compat_dma_cc(struct iommufd_ctx *ictx)
{
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_ioas *ioas;
	bool coherent = true;

	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	mutex_lock(&ioas->mutex);
	list_for_each_entry(hwpt, &ioas->hwpt_list, hwpt_item)
		coherent &= hwpt->enforce_cc;
	mutex_unlock(&ioas->mutex);
	iommufd_put_object(ictx, &ioas->obj);
	return coherent;
}

/*
 * What we offer: both type1 flavours and VFIO_UNMAP_ALL.  Nesting, SPAPR,
 * no-IOMMU and VFIO_UPDATE_VADDR are not.  @ictx is NULL when VFIO asks
 * a backend no container has opened yet.
 */
long iommufd_vfio_compat_check_extension(struct iommufd_ctx *ictx,
					 unsigned long ext)
{
	if (ext == VFIO_TYPE1_IOMMU || ext == VFIO_TYPE1v2_IOMMU ||
	    ext == VFIO_UNMAP_ALL)
		return 1;
	if (ext == VFIO_DMA_CC_IOMMU)
		return ictx ? compat_dma_cc(ictx) : 0;
	return 0;
}
IOMMUFD_EXPORT(iommufd_vfio_compat_check_extension);

/* --- VFIO_IOMMU_MAP_DMA / VFIO_IOMMU_UNMAP_DMA ------------------------------ */

/*
 * Type1's argsz rule is looser than iommufd's: the mandatory part is read
 * and anything past it is ignored, whatever it holds.
 */
#define TYPE1_MAP_MIN offsetofend(struct vfio_iommu_type1_dma_map, size)
#define TYPE1_UNMAP_MIN offsetofend(struct vfio_iommu_type1_dma_unmap, size)

static int type1_map(struct iommufd_ctx *ictx, void __user *uarg)
{
	const u32 known = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	struct vfio_iommu_type1_dma_map req;
	struct iommufd_ioas *ioas;
	unsigned long iova;
	int prot, err;

	if (copy_from_user(&req, uarg, TYPE1_MAP_MIN))
		return -EFAULT;
	if (req.argsz < TYPE1_MAP_MIN || (req.flags & ~known))
		return -EINVAL;

	/* Coherent always, as native maps are; see ioas.c. */
	prot = IOMMU_CACHE;
	if (req.flags & VFIO_DMA_MAP_FLAG_READ)
		prot |= IOMMU_READ;
	if (req.flags & VFIO_DMA_MAP_FLAG_WRITE)
		prot |= IOMMU_WRITE;

	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/*
	 * Type1 always names the IOVA.  Sizes, alignment and ranges are
	 * judged by the IO page table, with the errnos upstream gives.
	 */
	iova = req.iova;
	err = iopt_map_user_pages(ictx, &ioas->iopt, &iova,
				  u64_to_user_ptr(req.vaddr), req.size, prot,
				  0);
	iommufd_put_object(ictx, &ioas->obj);
	return err;
}

/*
 * A v1 container may unmap part of a mapping: cut the areas at both ends
 * of the range first.  That only works with 4 KiB IOMMU pages, which is
 * how v1 containers run; a v2 one (large pages allowed) gets the IOAS
 * rule instead, ENOENT for a range that would split a mapping.
 */
static int type1_cut_for_v1(struct io_pagetable *iopt, unsigned long iova,
			    unsigned long size)
{
	unsigned long cut_at[2];
	size_t ncuts = 0;

	if (!READ_ONCE(iopt->disable_large_pages))
		return 0;
	cut_at[ncuts++] = iova + size - 1;
	if (iova)
		cut_at[ncuts++] = iova - 1;
	return iopt_cut_iova(iopt, cut_at, ncuts);
}

static int type1_unmap(struct iommufd_ctx *ictx, void __user *uarg)
{
	struct vfio_iommu_type1_dma_unmap req;
	unsigned long bytes = 0;
	struct iommufd_ioas *ioas;
	bool all;
	int err;

	if (copy_from_user(&req, uarg, TYPE1_UNMAP_MIN))
		return -EFAULT;
	if (req.argsz < TYPE1_UNMAP_MIN ||
	    (req.flags & ~VFIO_DMA_UNMAP_FLAG_ALL))
		return -EINVAL;
	all = req.flags & VFIO_DMA_UNMAP_FLAG_ALL;

	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (all && (req.iova || req.size)) {
		err = -EINVAL;
	} else if (all) {
		err = iopt_unmap_all(&ioas->iopt, &bytes);
	} else if (!req.size) {
		err = -EINVAL;
	} else {
		err = type1_cut_for_v1(&ioas->iopt, req.iova, req.size);
		/* A cut that failed unmapped nothing and reports nothing. */
		if (err) {
			iommufd_put_object(ictx, &ioas->obj);
			return err;
		}
		err = iopt_unmap_iova(&ioas->iopt, req.iova, req.size, &bytes);
	}
	iommufd_put_object(ictx, &ioas->obj);

	/* What really went is reported, even when a later area failed. */
	req.size = bytes;
	if (copy_to_user(uarg, &req, TYPE1_UNMAP_MIN))
		return -EFAULT;
	return err;
}

/* --- VFIO_IOMMU_GET_INFO ---------------------------------------------------- */

/* Page sizes every domain of the IOAS can map, else the CPU's page size. */
static u64 type1_page_sizes(struct io_pagetable *iopt)
{
	u64 common = ULONG_MAX & PAGE_MASK;
	struct iommu_domain *domain;
	unsigned long idx;

	down_read(&iopt->domains_rwsem);
	xa_for_each(&iopt->domains, idx, domain)
		common &= domain->pgsize_bitmap;
	up_read(&iopt->domains_rwsem);
	return common ? common : PAGE_SIZE;
}

/* The usable IOVA as type1's range list; kfree() the result. */
static struct vfio_iova_range *type1_ranges(struct io_pagetable *iopt,
					    u32 *count)
{
	struct vfio_iova_range *list;
	struct iopt_hole_iter hole;
	u32 n = 0;

	down_read(&iopt->iova_rwsem);
	iopt_for_each_hole(&hole, iopt)
		n++;
	list = kcalloc(n ?: 1, sizeof(*list), GFP_KERNEL);
	if (list) {
		*count = 0;
		iopt_for_each_hole(&hole, iopt) {
			list[*count].start = hole.start;
			list[*count].end = hole.last;
			(*count)++;
		}
	}
	up_read(&iopt->iova_rwsem);
	return list;
}

/*
 * The capability chain right after struct vfio_iommu_type1_info, as
 * upstream's iommufd lays it out: DMA_AVAIL first (padded to 8 bytes),
 * then IOVA_RANGE with its ranges.  Each header's next is an offset from
 * the start of the info struct; the last one's is 0.
 */
struct type1_caps {
	struct vfio_iommu_type1_info_dma_avail avail;
	struct vfio_iommu_type1_info_cap_iova_range iova;
	size_t avail_room;	/* the DMA_AVAIL cap with its padding */
	size_t bytes;		/* the whole chain */
};

static void type1_caps_init(struct type1_caps *caps, u32 nranges)
{
	memset(caps, 0, sizeof(*caps));
	caps->avail_room = ALIGN(sizeof(caps->avail), 8);
	caps->bytes = caps->avail_room + sizeof(caps->iova) +
		      nranges * sizeof(struct vfio_iova_range);

	caps->avail.header.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
	caps->avail.header.version = 1;
	caps->avail.header.next = sizeof(struct vfio_iommu_type1_info) +
				  caps->avail_room;
	/* There is no per-container limit on the number of mappings. */
	caps->avail.avail = U32_MAX;

	caps->iova.header.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE;
	caps->iova.header.version = 1;
	caps->iova.nr_iovas = nranges;
}

static int type1_caps_write(const struct type1_caps *caps,
			    const struct vfio_iova_range *ranges, u32 nranges,
			    void __user *dst)
{
	static const u8 zeroes[8];
	size_t pad = caps->avail_room - sizeof(caps->avail);

	if (copy_to_user(dst, &caps->avail, sizeof(caps->avail)) ||
	    copy_to_user(dst + sizeof(caps->avail), zeroes, pad))
		return -EFAULT;
	dst += caps->avail_room;
	if (copy_to_user(dst, &caps->iova, sizeof(caps->iova)) ||
	    copy_to_user(dst + sizeof(caps->iova), ranges,
			 nranges * sizeof(*ranges)))
		return -EFAULT;
	return 0;
}

static int type1_get_info(struct iommufd_ctx *ictx, void __user *uarg)
{
	const size_t fixed = offsetofend(struct vfio_iommu_type1_info,
					 iova_pgsizes);
	struct vfio_iommu_type1_info info = {};
	struct vfio_iova_range *ranges;
	struct iommufd_ioas *ioas;
	struct type1_caps caps;
	u32 nranges = 0;
	u32 room;
	int err = 0;

	if (copy_from_user(&info, uarg, fixed))
		return -EFAULT;
	if (info.argsz < fixed)
		return -EINVAL;
	room = info.argsz;

	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	ranges = type1_ranges(&ioas->iopt, &nranges);
	info.iova_pgsizes = type1_page_sizes(&ioas->iopt);
	iommufd_put_object(ictx, &ioas->obj);
	if (!ranges)
		return -ENOMEM;

	type1_caps_init(&caps, nranges);
	info.flags = VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS;
	/* The room needed is always told; the chain only sent when it fits. */
	info.argsz = sizeof(info) + caps.bytes;
	info.cap_offset = 0;
	if (room >= info.argsz) {
		err = type1_caps_write(&caps, ranges, nranges,
				       uarg + sizeof(info));
		info.cap_offset = sizeof(info);
	}
	if (!err && copy_to_user(uarg, &info, min_t(size_t, room, sizeof(info))))
		err = -EFAULT;
	kfree(ranges);
	return err;
}

/* --- VFIO_SET_IOMMU and the ioctl switch ------------------------------------- */

/*
 * On /dev/iommu there is no group to make a container usable, so
 * SET_IOMMU needs the compat IOAS to exist already (ENODEV otherwise), as
 * VFIO itself fails it on a container without groups.
 */
static int type1_set_iommu(struct iommufd_ctx *ictx, unsigned long type)
{
	struct iommufd_ioas *ioas;
	int err = 0;

	if (type != VFIO_TYPE1_IOMMU && type != VFIO_TYPE1v2_IOMMU)
		return -EINVAL;
	ioas = compat_ioas_get(ictx);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	if (type == VFIO_TYPE1_IOMMU)
		err = iopt_disable_large_pages(&ioas->iopt);
	iommufd_put_object(ictx, &ioas->obj);
	return err;
}

/**
 * iommufd_vfio_compat_ioctl() - serve one VFIO type1 container ioctl
 * @ictx: the context whose compat IOAS plays the container
 * @cmd: the VFIO ioctl number
 * @arg: its argument (a value or a user pointer, as VFIO defines it)
 *
 * Returns -ENOIOCTLCMD for anything type1 does not define.
 */
long iommufd_vfio_compat_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			       unsigned long arg)
{
	void __user *uptr = (void __user *)arg;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return iommufd_vfio_compat_check_extension(ictx, arg);
	case VFIO_SET_IOMMU:
		return type1_set_iommu(ictx, arg);
	case VFIO_IOMMU_GET_INFO:
		return type1_get_info(ictx, uptr);
	case VFIO_IOMMU_MAP_DMA:
		return type1_map(ictx, uptr);
	case VFIO_IOMMU_UNMAP_DMA:
		return type1_unmap(ictx, uptr);
	}
	return -ENOIOCTLCMD;
}
IOMMUFD_EXPORT(iommufd_vfio_compat_ioctl);
