// SPDX-License-Identifier: GPL-2.0
/*
 * Nested HWPTs: a stage-1 page table that user space manages (a guest's
 * IOMMU driver, through its VMM) in a format of the backend's, whose
 * output addresses the parent paging HWPT translates again.  The kernel
 * never walks that table: it hands its description to the backend when
 * the HWPT is made, and user space tells the backend which of the
 * hardware's caches to drop whenever it changes the table
 * (IOMMU_HWPT_INVALIDATE).
 *
 * A nested HWPT holds a user of its parent, so neither the parent nor the
 * parent's IOAS can be destroyed while it exists (EBUSY), and the
 * parent's hold on the backend's module covers the nested domain too.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/**
 * iommufd_user_data_copy() - read driver data of format @type
 * @dst: the kernel's structure
 * @size: sizeof it, the newest version this kernel knows
 * @min_size: the size of its first version (offsetofend of its last field)
 * @data: what user space passed
 * @type: the format @dst is
 *
 * A shorter version than the first, or a longer one than this kernel
 * knows, is EINVAL (upstream's rule for driver data: no E2BIG here); the
 * fields an older user left out read as zero.
 */
int iommufd_user_data_copy(void *dst, size_t size, size_t min_size,
			   const struct iommufd_user_data *data, u32 type)
{
	if (data->type != type)
		return -EINVAL;
	if (data->len < min_size || data->len > size)
		return -EINVAL;
	return copy_struct_from_user(dst, size, data->uptr, data->len);
}

/**
 * iommufd_user_array_copy() - read entry @index of a request array
 * @dst: the kernel's structure
 * @size: sizeof it
 * @min_size: the size of its first version
 * @array: what user space passed
 * @type: the format @dst is
 * @index: which entry, below array->entry_num
 *
 * Each entry is array->entry_len bytes, under the rule of
 * iommufd_user_data_copy().
 */
int iommufd_user_array_copy(void *dst, size_t size, size_t min_size,
			    const struct iommufd_user_array *array, u32 type,
			    u32 index)
{
	struct iommufd_user_data entry = {
		.type = array->type,
		.uptr = array->uptr + (size_t)array->entry_len * index,
		.len = array->entry_len,
	};

	if (index >= array->entry_num)
		return -EINVAL;
	return iommufd_user_data_copy(dst, size, min_size, &entry, type);
}

/**
 * iommufd_hwpt_nested_alloc() - a nested HWPT on a nest parent
 * @ictx: the context
 * @parent: the stage-2, held by the caller (a lookup, or the vIOMMU the
 *          nested HWPT is made through)
 * @idev: the device whose backend makes the domain
 * @flags: IOMMU_HWPT_ALLOC_* flags from user space
 * @data: the stage-1's description, in the backend's format
 *
 * Returns the HWPT not yet published: the caller finalizes it, or aborts
 * and destroys it.  Upstream's answers: a flag nested HWPTs do not take,
 * or no data, is EOPNOTSUPP; a parent that is not a nest parent, or is
 * another backend's, is EINVAL; the rest is the backend's.
 */
struct iommufd_hwpt_nested *
iommufd_hwpt_nested_alloc(struct iommufd_ctx *ictx,
			  struct iommufd_hwpt_paging *parent,
			  struct iommufd_device *idev, u32 flags,
			  const struct iommufd_user_data *data)
{
	struct iommufd_hwpt_nested *hwpt;
	struct iommu_domain *domain;
	int rc;

	rc = iommufd_hwpt_check_alloc_flags(IOMMUFD_OBJ_HWPT_NESTED, flags);
	if (rc)
		return ERR_PTR(rc);
	if (!data->len || !idev->ops->domain_alloc_nested)
		return ERR_PTR(-EOPNOTSUPP);
	/* An automatic HWPT is never made a nest parent; said for clarity. */
	if (!iommufd_hwpt_paging_is_nest_parent(parent) ||
	    parent->auto_domain || parent->common.ops != idev->ops)
		return ERR_PTR(-EINVAL);

	hwpt = iommufd_object_alloc_at(ictx, hwpt, IOMMUFD_OBJ_HWPT_NESTED,
				       common.obj);
	if (IS_ERR(hwpt))
		return hwpt;
	iommufd_object_ref_user(&parent->common.obj);
	hwpt->parent = parent;
	hwpt->common.ops = parent->common.ops;
	hwpt->common.ioas = parent->common.ioas;

	/*
	 * Where faults go is ours to arrange, not the backend's; so is which
	 * PASIDs may use the HWPT (see iommufd_hwpt_paging_alloc()).
	 */
	domain = idev->ops->domain_alloc_nested(idev, parent->common.domain,
						flags &
						~(IOMMU_HWPT_FAULT_ID_VALID |
						  IOMMU_HWPT_ALLOC_PASID),
						data);
	if (IS_ERR(domain)) {
		iommufd_object_abort_and_destroy(ictx, &hwpt->common.obj);
		return ERR_CAST(domain);
	}
	hwpt->common.domain = domain;
	return hwpt;
}

/*
 * Far more requests than any guest batches; it bounds how long one call
 * keeps the CPU (upstream's cap is the same).
 */
#define HWPT_INVALIDATE_MAX_ENTRIES (1U << 19)

/*
 * Hand the requests to the backend of nested HWPT @hwpt_id; *@done is how
 * many it carried out.
 */
static int hwpt_invalidate_nested(struct iommufd_ucmd *ucmd, u32 hwpt_id,
				  struct iommufd_user_array *array, u32 *done)
{
	struct iommufd_object *obj;
	struct iommufd_hwpt *hwpt;
	int rc = -EOPNOTSUPP;

	/*
	 * A nested HWPT takes invalidations of its stage-1, a vIOMMU of its
	 * own caches; any other id is ENOENT, as upstream 6.12 answers (a
	 * paging HWPT's caches follow its IOAS).
	 */
	obj = iommufd_get_object(ucmd->ictx, hwpt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	/* A vIOMMU's own caches (viommu.c). */
	if (obj->type == IOMMUFD_OBJ_VIOMMU) {
		rc = iommufd_viommu_invalidate(container_of(obj,
							    struct iommufd_viommu,
							    obj),
					       array);
		*done = array->entry_num;
		iommufd_put_object(ucmd->ictx, obj);
		return rc;
	}
	if (obj->type != IOMMUFD_OBJ_HWPT_NESTED) {
		iommufd_put_object(ucmd->ictx, obj);
		return -ENOENT;
	}
	hwpt = container_of(obj, struct iommufd_hwpt, obj);
	if (hwpt->ops->cache_invalidate_user) {
		rc = hwpt->ops->cache_invalidate_user(hwpt->domain, array);
		*done = array->entry_num;
	}
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/* The shape of the request array, judged before anything is looked up. */
static int hwpt_invalidate_check(const struct iommu_hwpt_invalidate *cmd)
{
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	/*
	 * An empty array may come without one (and no length): it still
	 * reaches the backend, which judges the type; that is how user
	 * space probes for a format.
	 */
	if (cmd->entry_num &&
	    (!cmd->data_uptr || !cmd->entry_len || cmd->entry_len > PAGE_SIZE ||
	     cmd->entry_num > HWPT_INVALIDATE_MAX_ENTRIES))
		return -EINVAL;
	return 0;
}

int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_invalidate *cmd = ucmd->cmd;
	struct iommufd_user_array array = {
		.uptr = u64_to_user_ptr(cmd->data_uptr),
		.entry_num = cmd->entry_num,
		.entry_len = cmd->entry_len,
		.type = cmd->data_type,
	};
	int rc, respond_rc;
	u32 done = 0;

	rc = hwpt_invalidate_check(cmd);
	if (!rc)
		rc = hwpt_invalidate_nested(ucmd, cmd->hwpt_id, &array, &done);

	/* How many were carried out goes back, also when one failed. */
	cmd->entry_num = done;
	respond_rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	return respond_rc ?: rc;
}

void iommufd_hwpt_nested_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt *hwpt = container_of(obj, struct iommufd_hwpt, obj);
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu;

	parent = container_of(hwpt, struct iommufd_hwpt_nested, common)->parent;
	/* Before the parent may go: the backend may look at it. */
	if (hwpt->domain)
		hwpt->ops->domain_free(hwpt->domain);
	if (hwpt->fault)
		iommufd_fault_put(hwpt->fault);
	if (parent)
		iommufd_object_unref_user(&parent->common.obj);
	viommu = container_of(hwpt, struct iommufd_hwpt_nested, common)->viommu;
	if (viommu)
		iommufd_object_unref_user(&viommu->obj);
}
