// SPDX-License-Identifier: GPL-2.0
/*
 * vIOMMUs, and what is built on them: vDEVICEs, HW queues, and the pages
 * of a vIOMMU that user space maps through mmap() of /dev/iommu.
 *
 * A vIOMMU stands for the slice of one physical IOMMU that a VM drives:
 * its stage-2 (a nest parent HWPT), the guest's names for devices (virtual
 * IDs), its event queues (veventq.c) and any hardware the guest may touch
 * directly.  Everything hangs from it by a users reference, so that the
 * vIOMMU can only be destroyed last, and the vIOMMU holds its nest parent
 * the same way.
 *
 * A vDEVICE is the odd one out: it also names a device, which belongs to
 * its backend and may be unbound at any time.  The vDEVICE holds nothing
 * on the device; instead the device, as it is destroyed, destroys its
 * vDEVICE first and leaves the vDEVICE's id reserved until the context is
 * released (iommufd_object_tombstone()), as the ABI promises.
 *
 * Lock order: idev->lock > viommu->vdevs' xa_lock.
 */
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/**
 * iommufd_user_data_respond() - write a driver's outputs back into @data
 * @data: what user space passed
 * @type: the format of @src
 * @src: the kernel's structure, inputs and outputs
 * @size: sizeof it
 * @min_size: the size of its first version
 *
 * The user's structure is as long as it said: an older, shorter one
 * receives what it has room for.
 */
int iommufd_user_data_respond(const struct iommufd_user_data *data,
			      u32 type, const void *src, size_t size,
			      size_t min_size)
{
	if (data->type != type || data->len < min_size || data->len > size)
		return -EINVAL;
	return copy_to_user(data->uptr, src, data->len) ? -EFAULT : 0;
}

/* --- pages of a vIOMMU for mmap() ---------------------------------------- */

/*
 * Each region gets a 32-bit id, and a window of the mmap() offset space
 * of its own: page offset id << IOMMUFD_MMAP_WINDOW_SHIFT (the highest
 * offset, 2^60, still fits an off_t).  An offset inside a window but not
 * at its start, like one past a region's end, never names another
 * region; a region is at most one window long.
 */
#define IOMMUFD_MMAP_WINDOW_SHIFT 16

/**
 * struct iommufd_mmap_region - physical pages user space may map
 * @owner: the object that offered them; every mapping of them holds a
 *         user of it, so they outlive the mappings
 * @npages: its length; a mapping must cover it exactly
 * @pfn: the first page frame
 * @mmio: device registers (mapped uncached) rather than RAM
 */
struct iommufd_mmap_region {
	struct iommufd_object *owner;
	unsigned long npages;
	unsigned long pfn;
	bool mmio;
};

/**
 * iommufd_mmap_region_add() - let user space map [@base, @base + @length)
 * @ictx: the context whose file is mapped
 * @owner: the object the pages belong to (a vIOMMU); it must remove the
 *         region before it is destroyed
 * @base: page-aligned physical address
 * @length: page-aligned, non-zero length, at most one window
 * @mmio: the pages are device registers
 * @offset: out: the offset to give mmap()
 */
int iommufd_mmap_region_add(struct iommufd_ctx *ictx,
			    struct iommufd_object *owner, phys_addr_t base,
			    size_t length, bool mmio, u64 *offset)
{
	struct iommufd_mmap_region *region;
	u32 id;
	int rc;

	if (!PAGE_ALIGNED(base) || !length || !PAGE_ALIGNED(length) ||
	    length >> PAGE_SHIFT > 1UL << IOMMUFD_MMAP_WINDOW_SHIFT)
		return -EINVAL;
	region = kzalloc(sizeof(*region), GFP_KERNEL_ACCOUNT);
	if (!region)
		return -ENOMEM;
	region->owner = owner;
	region->npages = length >> PAGE_SHIFT;
	region->pfn = PHYS_PFN(base);
	region->mmio = mmio;
	rc = xa_alloc(&ictx->mmap_regions, &id, region,
		      xa_limit_32b, GFP_KERNEL_ACCOUNT);
	if (rc) {
		kfree(region);
		return rc;
	}
	*offset = (u64)id << (IOMMUFD_MMAP_WINDOW_SHIFT + PAGE_SHIFT);
	return 0;
}

/* The owner takes its pages back; no mapping of them is left (see above). */
void iommufd_mmap_region_remove(struct iommufd_ctx *ictx, u64 offset)
{
	kfree(xa_erase(&ictx->mmap_regions,
		       offset >> (IOMMUFD_MMAP_WINDOW_SHIFT + PAGE_SHIFT)));
}

/* Each VMA of a region, including copies by fork() and splits, holds one. */
static void iommufd_mmap_vma_open(struct vm_area_struct *vma)
{
	struct iommufd_mmap_region *region = vma->vm_private_data;

	iommufd_object_ref_user(region->owner);
}

static void iommufd_mmap_vma_close(struct vm_area_struct *vma)
{
	struct iommufd_mmap_region *region = vma->vm_private_data;

	iommufd_object_unref_user(region->owner);
}

static const struct vm_operations_struct iommufd_mmap_vm_ops = {
	.open = iommufd_mmap_vma_open,
	.close = iommufd_mmap_vma_close,
};

/*
 * mmap() of /dev/iommu: only a whole region, at the offset an ioctl
 * returned for it, shared and not executable.  Upstream's answers: a
 * private mapping is EINVAL, an executable one EPERM, any other offset or
 * length ENXIO.
 */
int iommufd_fops_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct iommufd_ctx *ictx = file->private_data;
	struct iommufd_mmap_region *region;
	pgprot_t prot;
	bool held;
	int rc;

	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;

	/*
	 * The owner's destroy removes the region under this lock, and only
	 * once it has no user left besides the registry; a hold taken here
	 * while the region is found keeps both alive.
	 */
	if (vma->vm_pgoff & ((1UL << IOMMUFD_MMAP_WINDOW_SHIFT) - 1))
		return -ENXIO;
	xa_lock(&ictx->mmap_regions);
	region = xa_load(&ictx->mmap_regions,
			 vma->vm_pgoff >> IOMMUFD_MMAP_WINDOW_SHIFT);
	held = region && region->npages == vma_pages(vma) &&
	       refcount_inc_not_zero(&region->owner->users);
	xa_unlock(&ictx->mmap_regions);
	if (!held)
		return -ENXIO;

	prot = region->mmio ? pgprot_noncached(vma->vm_page_prot) :
			      vma->vm_page_prot;
	rc = remap_pfn_range(vma, vma->vm_start, region->pfn,
			     region->npages << PAGE_SHIFT, prot);
	if (rc) {
		iommufd_object_unref_user(region->owner);
		return rc;
	}
	/* From here on the VMA's close gives the hold back. */
	vma->vm_private_data = region;
	vma->vm_ops = &iommufd_mmap_vm_ops;
	return 0;
}

/* --- vIOMMUs --------------------------------------------------------------- */

void iommufd_viommu_destroy(struct iommufd_object *obj)
{
	struct iommufd_viommu *viommu =
		container_of(obj, struct iommufd_viommu, obj);

	/* Everything built on it held it: nothing can be left. */
	WARN_ON(!xa_empty(&viommu->vdevs));
	WARN_ON(!xa_empty(&viommu->veventqs));
	if (viommu->ops && viommu->ops->destroy)
		viommu->ops->destroy(viommu);
	if (viommu->hwpt)
		iommufd_object_unref_user(&viommu->hwpt->common.obj);
	xa_destroy(&viommu->vdevs);
	xa_destroy(&viommu->veventqs);
}

/*
 * IOMMU_VIOMMU_ALLOC.  Upstream's order of answers: flags or the default
 * type (EOPNOTSUPP), the device (ENOENT), a driver without this vIOMMU
 * type (EOPNOTSUPP; the host drivers of the kernels we serve have no
 * vIOMMU op at all), the HWPT (ENOENT unless a paging HWPT, EINVAL unless
 * a nest parent), then the driver's reading of the data.  __reserved is
 * not looked at, as upstream does not.
 */
int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_viommu_alloc *cmd = ucmd->cmd;
	const struct iommufd_user_data data = {
		.type = cmd->type,
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.len = cmd->data_len,
	};
	const struct iommufd_viommu_ops *ops = NULL;
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu;
	struct iommufd_object *dev_obj;
	struct iommufd_device *idev;
	int rc;

	if (cmd->flags || cmd->type == IOMMU_VIOMMU_TYPE_DEFAULT)
		return -EOPNOTSUPP;

	dev_obj = iommufd_get_object(ucmd->ictx, cmd->dev_id,
				     IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(dev_obj))
		return PTR_ERR(dev_obj);
	idev = container_of(dev_obj, struct iommufd_device, obj);
	if (idev->ops->viommu_ops)
		ops = idev->ops->viommu_ops(idev, cmd->type);
	rc = -EOPNOTSUPP;
	if (!ops)
		goto out_put_idev;

	parent = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (IS_ERR(parent)) {
		rc = PTR_ERR(parent);
		goto out_put_idev;
	}
	rc = -EINVAL;
	if (!iommufd_hwpt_paging_is_nest_parent(parent) ||
	    parent->common.ops != idev->ops)
		goto out_put_parent;

	viommu = iommufd_object_alloc(ucmd->ictx, viommu, IOMMUFD_OBJ_VIOMMU);
	if (IS_ERR(viommu)) {
		rc = PTR_ERR(viommu);
		goto out_put_parent;
	}
	viommu->ictx = ucmd->ictx;
	viommu->type = cmd->type;
	viommu->dev_ops = idev->ops;
	xa_init(&viommu->vdevs);
	xa_init(&viommu->veventqs);
	init_rwsem(&viommu->veventqs_rwsem);
	iommufd_object_ref_user(&parent->common.obj);
	viommu->hwpt = parent;

	rc = ops->init(viommu, parent->common.domain,
		       cmd->data_len ? &data : NULL);
	if (rc)
		goto out_abort;
	/* Set only now: destroy undoes init only if it succeeded. */
	viommu->ops = ops;

	cmd->out_viommu_id = viommu->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &viommu->obj);
	goto out_put_parent;

out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &viommu->obj);
out_put_parent:
	iommufd_put_object(ucmd->ictx, &parent->common.obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, dev_obj);
	return rc;
}

/**
 * iommufd_viommu_invalidate() - IOMMU_HWPT_INVALIDATE with a vIOMMU's id
 * @viommu: the vIOMMU, looked up by the caller
 * @array: the requests; entry_num is set to how many were carried out
 */
int iommufd_viommu_invalidate(struct iommufd_viommu *viommu,
			      struct iommufd_user_array *array)
{
	if (!viommu->ops->cache_invalidate) {
		array->entry_num = 0;
		return -EOPNOTSUPP;
	}
	return viommu->ops->cache_invalidate(viommu, array);
}

/**
 * iommufd_viommu_alloc_hwpt_nested() - IOMMU_HWPT_ALLOC with a vIOMMU's id
 * @ictx: the context
 * @viommu: the vIOMMU, looked up by the caller
 * @idev: the device whose backend makes the domain
 * @flags: IOMMU_HWPT_ALLOC_* flags
 * @data: the stage-1's description, in the backend's format
 *
 * A nested HWPT on the vIOMMU's nest parent, bound to the vIOMMU: the
 * devices behind it are named to the guest by their vDEVICEs on it, and
 * the vIOMMU cannot be destroyed while the HWPT exists.  Not published.
 */
struct iommufd_hwpt *
iommufd_viommu_alloc_hwpt_nested(struct iommufd_ctx *ictx,
				 struct iommufd_viommu *viommu,
				 struct iommufd_device *idev, u32 flags,
				 const struct iommufd_user_data *data)
{
	struct iommufd_hwpt_nested *hwpt;

	if (idev->ops != viommu->dev_ops)
		return ERR_PTR(-EINVAL);
	hwpt = iommufd_hwpt_nested_alloc(ictx, viommu->hwpt, idev, flags, data);
	if (IS_ERR(hwpt))
		return ERR_CAST(hwpt);
	iommufd_object_ref_user(&viommu->obj);
	hwpt->viommu = viommu;
	return &hwpt->common;
}

/* The vIOMMU of the nested HWPT @idev is attached to, or NULL (lock held). */
struct iommufd_viommu *iommufd_device_viommu(struct iommufd_device *idev)
{
	lockdep_assert_held(&idev->lock);
	if (!idev->hwpt || idev->hwpt->obj.type != IOMMUFD_OBJ_HWPT_NESTED)
		return NULL;
	return container_of(idev->hwpt, struct iommufd_hwpt_nested,
			    common)->viommu;
}

/*
 * May @idev attach to @hwpt (idev->lock held)?  A vIOMMU whose driver
 * says so (the mock's, as upstream's mock) takes a device behind its
 * nested HWPTs only once the device has a vDEVICE on it: ENOENT before.
 */
int iommufd_viommu_attach_check(struct iommufd_hwpt *hwpt,
				struct iommufd_device *idev)
{
	struct iommufd_viommu *viommu;
	u64 virt_id;

	lockdep_assert_held(&idev->lock);
	if (hwpt->obj.type != IOMMUFD_OBJ_HWPT_NESTED)
		return 0;
	viommu = container_of(hwpt, struct iommufd_hwpt_nested,
			      common)->viommu;
	if (!viommu || !viommu->ops->attach_needs_vdevice)
		return 0;
	return iommufd_viommu_has_virt_id(viommu, idev, &virt_id) ? 0 : -ENOENT;
}

/* --- vDEVICEs ----------------------------------------------------------------- */

/* The device with virtual ID @virt_id on @viommu, or NULL; xa_lock held. */
struct iommufd_device *iommufd_viommu_find_device(struct iommufd_viommu *viommu,
						  u64 virt_id)
{
	struct iommufd_vdevice *vdev;

	lockdep_assert_held(&viommu->vdevs.xa_lock);
	if (virt_id > ULONG_MAX)
		return NULL;
	vdev = xa_load(&viommu->vdevs, virt_id);
	return vdev ? vdev->idev : NULL;
}

/*
 * Does @idev have a vDEVICE on @viommu, and with which virtual ID?  For a
 * caller holding idev->lock (an attach, an event of the device).
 */
bool iommufd_viommu_has_virt_id(struct iommufd_viommu *viommu,
				struct iommufd_device *idev, u64 *virt_id)
{
	lockdep_assert_held(&idev->lock);
	if (!idev->vdev || idev->vdev->viommu != viommu)
		return false;
	*virt_id = idev->vdev->virt_id;
	return true;
}

/* Unlink @vdev from its vIOMMU and device (idev->lock held). */
static void vdevice_unlink(struct iommufd_vdevice *vdev)
{
	struct iommufd_device *idev = vdev->idev;

	lockdep_assert_held(&idev->lock);
	xa_cmpxchg(&vdev->viommu->vdevs, vdev->virt_id, vdev, NULL, 0);
	if (idev->vdev == vdev)
		idev->vdev = NULL;
	iommufd_object_unref_user(&vdev->viommu->obj);
}

/* Retired by IOMMU_DESTROY, release of the file, or its device going. */
void iommufd_vdevice_destroy(struct iommufd_object *obj)
{
	struct iommufd_vdevice *vdev =
		container_of(obj, struct iommufd_vdevice, obj);
	struct iommufd_device *idev = vdev->idev;
	struct iommufd_ctx *ictx = idev->ictx;

	mutex_lock(&idev->lock);
	vdevice_unlink(vdev);
	mutex_unlock(&idev->lock);
	/*
	 * A device being destroyed may be waiting for this unlink, and may
	 * be freed as soon as it sees it: @idev is not touched again.  The
	 * context lives on: whoever destroys us holds it.
	 */
	wake_up_all(&ictx->destroy_wait);
}

/*
 * IOMMU_VDEVICE_ALLOC.  Upstream's answers: a virtual ID the xarray cannot
 * index (EINVAL, only on 32-bit), the vIOMMU and the device (ENOENT), a
 * device of another IOMMU (EINVAL), a device that has a vDEVICE already,
 * on this vIOMMU or another, or an ID taken on this vIOMMU (EEXIST).
 */
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_vdevice_alloc *cmd = ucmd->cmd;
	struct iommufd_viommu *viommu;
	struct iommufd_vdevice *vdev;
	struct iommufd_object *dev_obj;
	struct iommufd_device *idev;
	void *taken;
	int rc;

	if (cmd->virt_id > ULONG_MAX)
		return -EINVAL;
	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id);
	if (IS_ERR(viommu))
		return PTR_ERR(viommu);
	dev_obj = iommufd_get_object(ucmd->ictx, cmd->dev_id,
				     IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(dev_obj)) {
		rc = PTR_ERR(dev_obj);
		goto out_put_viommu;
	}
	idev = container_of(dev_obj, struct iommufd_device, obj);
	rc = -EINVAL;
	if (idev->ops != viommu->dev_ops)
		goto out_put_idev;

	vdev = iommufd_object_alloc(ucmd->ictx, vdev, IOMMUFD_OBJ_VDEVICE);
	if (IS_ERR(vdev)) {
		rc = PTR_ERR(vdev);
		goto out_put_idev;
	}
	vdev->viommu = viommu;
	vdev->idev = idev;
	vdev->virt_id = cmd->virt_id;

	/*
	 * The device cannot be unbound meanwhile: its unbind waits for this
	 * ioctl, which holds it, and only then looks for its vDEVICE.
	 */
	mutex_lock(&idev->lock);
	rc = -EEXIST;
	if (idev->vdev)
		goto out_unlock;
	taken = xa_cmpxchg(&viommu->vdevs, vdev->virt_id, NULL, vdev,
			   GFP_KERNEL_ACCOUNT);
	if (taken) {
		rc = xa_err(taken) ?: -EEXIST;
		goto out_unlock;
	}
	idev->vdev = vdev;
	iommufd_object_ref_user(&viommu->obj);

	cmd->out_vdevice_id = vdev->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc) {
		vdevice_unlink(vdev);
		goto out_unlock;
	}
	iommufd_object_finalize(ucmd->ictx, &vdev->obj);
	mutex_unlock(&idev->lock);
	goto out_put_idev;

out_unlock:
	mutex_unlock(&idev->lock);
	iommufd_object_abort(ucmd->ictx, &vdev->obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, dev_obj);
out_put_viommu:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}

/**
 * iommufd_vdevice_device_gone() - @idev is being destroyed: so is its vDEVICE
 * @idev: a device no ioctl can reach any more
 *
 * Upstream's rule: the vDEVICE goes first and its id stays taken until
 * the file is released.  When IOMMU_DESTROY (or the release) is already
 * destroying it, wait for that to unlink it from the device.
 */
void iommufd_vdevice_device_gone(struct iommufd_device *idev)
{
	struct iommufd_vdevice *vdev;
	u32 id = 0;

	/* Linked to the device means not freed: its destroy unlinks it. */
	mutex_lock(&idev->lock);
	vdev = idev->vdev;
	if (vdev)
		id = vdev->obj.id;
	mutex_unlock(&idev->lock);
	if (!vdev)
		return;
	if (iommufd_object_tombstone(idev->ictx, id, &vdev->obj))
		return;
	wait_event(idev->ictx->destroy_wait, READ_ONCE(idev->vdev) != vdev);
}

/* --- HW queues ---------------------------------------------------------------- */

/* Pages pinned per step: the page array stays small whatever the length. */
#define HW_QUEUE_PIN_CHUNK 512

/*
 * Pin the queue memory, [iova, iova + length) of the nest parent, for as
 * long as the queue lives: the hardware reads it by physical address, so
 * it must be one physically contiguous run (EFAULT otherwise), and an
 * unmap of it must fail (EBUSY) rather than pull it from under the
 * hardware.  Returns the internal access holding the pins.
 */
static struct iommufd_access *hw_queue_pin(struct iommufd_viommu *viommu,
					   u64 iova, u64 length,
					   phys_addr_t *base_pa)
{
	unsigned long first = ALIGN_DOWN(iova, PAGE_SIZE);
	unsigned long npages, done = 0, base_pfn = 0, i;
	struct iommufd_access *access;
	struct page **pages;
	u64 span;
	int rc;

	if (check_add_overflow(iova - first, length, &span) ||
	    span > ULONG_MAX - PAGE_SIZE)
		return ERR_PTR(-ERANGE);
	npages = DIV_ROUND_UP(span, PAGE_SIZE);
	pages = kmalloc_array(HW_QUEUE_PIN_CHUNK, sizeof(*pages),
			      GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);

	access = iommufd_access_create_internal(viommu->ictx);
	if (IS_ERR(access)) {
		rc = PTR_ERR(access);
		goto out_free;
	}
	rc = iommufd_access_attach(access, viommu->hwpt->common.ioas->obj.id);
	if (rc)
		goto out_destroy;
	while (done < npages) {
		unsigned long n = min_t(unsigned long, npages - done,
					HW_QUEUE_PIN_CHUNK);

		rc = iommufd_access_pin_pages(access, first + done * PAGE_SIZE,
					      n * PAGE_SIZE, pages, 0);
		if (rc)
			goto out_unpin;
		if (!done)
			base_pfn = page_to_pfn(pages[0]);
		for (i = 0; i < n; i++) {
			if (page_to_pfn(pages[i]) != base_pfn + done + i)
				rc = -EFAULT;
		}
		done += n;
		if (rc)
			goto out_unpin;
	}
	*base_pa = PFN_PHYS(base_pfn) + (iova - first);
	kfree(pages);
	return access;

out_unpin:
	if (done)
		iommufd_access_unpin_pages(access, first, done * PAGE_SIZE);
out_destroy:
	iommufd_access_destroy_internal(access);
out_free:
	kfree(pages);
	return ERR_PTR(rc);
}

static void hw_queue_unpin(struct iommufd_hw_queue *hw_queue)
{
	unsigned long first = ALIGN_DOWN(hw_queue->base_iova, PAGE_SIZE);
	u64 span = hw_queue->base_iova - first + hw_queue->length;

	iommufd_access_unpin_pages(hw_queue->access, first,
				   ALIGN(span, PAGE_SIZE));
	iommufd_access_destroy_internal(hw_queue->access);
}

void iommufd_hw_queue_destroy(struct iommufd_object *obj)
{
	struct iommufd_hw_queue *hw_queue =
		container_of(obj, struct iommufd_hw_queue, obj);

	if (hw_queue->live)
		hw_queue->viommu->ops->hw_queue_destroy(hw_queue);
	if (hw_queue->access)
		hw_queue_unpin(hw_queue);
	if (hw_queue->viommu)
		iommufd_object_unref_user(&hw_queue->viommu->obj);
}

/*
 * IOMMU_HW_QUEUE_ALLOC.  Upstream's order: flags or the default type
 * (EOPNOTSUPP), a zero length (EINVAL), a range past the end of the IOVA
 * space (EOVERFLOW), the vIOMMU (ENOENT), a driver without queues of this
 * type (EOPNOTSUPP), the pinning (ENOENT where nothing is mapped), then
 * the driver's rules on the index.
 */
int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_hw_queue_alloc *cmd = ucmd->cmd;
	const struct iommufd_viommu_ops *ops;
	struct iommufd_hw_queue *hw_queue;
	struct iommufd_viommu *viommu;
	phys_addr_t base_pa;
	u64 last;
	int rc;

	if (cmd->flags || cmd->type == IOMMU_HW_QUEUE_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->length)
		return -EINVAL;
	if (check_add_overflow(cmd->nesting_parent_iova, cmd->length - 1,
			       &last))
		return -EOVERFLOW;

	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id);
	if (IS_ERR(viommu))
		return PTR_ERR(viommu);
	ops = viommu->ops;
	rc = -EOPNOTSUPP;
	if (!ops->hw_queue_init || !ops->hw_queue_type ||
	    ops->hw_queue_type != cmd->type)
		goto out_put_viommu;

	hw_queue = iommufd_object_alloc(ucmd->ictx, hw_queue,
					IOMMUFD_OBJ_HW_QUEUE);
	if (IS_ERR(hw_queue)) {
		rc = PTR_ERR(hw_queue);
		goto out_put_viommu;
	}
	hw_queue->type = cmd->type;
	hw_queue->index = cmd->index;
	hw_queue->base_iova = cmd->nesting_parent_iova;
	hw_queue->length = cmd->length;
	hw_queue->access = hw_queue_pin(viommu, cmd->nesting_parent_iova,
					cmd->length, &base_pa);
	if (IS_ERR(hw_queue->access)) {
		rc = PTR_ERR(hw_queue->access);
		hw_queue->access = NULL;
		goto out_abort;
	}
	iommufd_object_ref_user(&viommu->obj);
	hw_queue->viommu = viommu;

	rc = ops->hw_queue_init(hw_queue, cmd->index, base_pa);
	if (rc)
		goto out_abort;
	hw_queue->live = true;

	cmd->out_hw_queue_id = hw_queue->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_abort;
	iommufd_object_finalize(ucmd->ictx, &hw_queue->obj);
	goto out_put_viommu;

out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &hw_queue->obj);
out_put_viommu:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
