// SPDX-License-Identifier: GPL-2.0
/*
 * Hardware page tables: paging domains that mirror an IOAS.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

void iommufd_hwpt_paging_destroy(struct iommufd_object *obj)
{
	struct iommufd_hwpt_paging *hwpt =
		container_of(obj, struct iommufd_hwpt_paging, obj);

	if (hwpt->ioas) {
		mutex_lock(&hwpt->ioas->mutex);
		list_del(&hwpt->hwpt_item);
		mutex_unlock(&hwpt->ioas->mutex);
		if (hwpt->domain)
			iopt_table_remove_domain(&hwpt->ioas->iopt,
						 hwpt->domain);
		iommufd_object_unref_user(&hwpt->ioas->obj);
	}
	if (hwpt->domain)
		hwpt->ops->domain_free(hwpt->domain);
}

/**
 * iommufd_hwpt_paging_alloc() - a new paging domain filled from @ioas
 * @ictx: the context
 * @ioas: the IOAS the domain mirrors
 * @idev: a device whose backend makes the domain
 * @flags: IOMMU_HWPT_ALLOC_* flags
 * @auto_domain: made implicitly by attaching to the IOAS
 *
 * Returns the object not yet finalized, with ioas->mutex held by the
 * caller so that it can be published and listed together.
 */
struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, u32 flags,
			  bool auto_domain)
{
	struct iommufd_hwpt_paging *hwpt;
	struct iommu_domain *domain;
	int rc;

	lockdep_assert_held(&ioas->mutex);

	hwpt = iommufd_object_alloc(ictx, hwpt, IOMMUFD_OBJ_HWPT_PAGING);
	if (IS_ERR(hwpt))
		return hwpt;
	INIT_LIST_HEAD(&hwpt->hwpt_item);
	hwpt->ops = idev->ops;
	hwpt->auto_domain = auto_domain;

	domain = idev->ops->domain_alloc_paging(idev, flags);
	if (IS_ERR(domain)) {
		rc = PTR_ERR(domain);
		goto err_abort;
	}
	hwpt->domain = domain;
	/*
	 * Every mapping is IOMMU_CACHE; where the IOMMU can also stop the
	 * device from using no-snoop (VT-d with snoop control), make it, so
	 * that coherency does not depend on the device behaving.  Asked
	 * before any mapping exists, as the drivers want.
	 */
	if (domain->ops->enforce_cache_coherency &&
	    idev->ops->can_enforce_coherency(idev))
		hwpt->enforce_cc = domain->ops->enforce_cache_coherency(domain);

	/* The device's reserved IOVA must be known before filling. */
	rc = idev->ops->reserve_regions(idev, &ioas->iopt, hwpt);
	if (rc)
		goto err_abort;
	rc = iopt_table_add_domain(&ioas->iopt, domain);
	iopt_remove_reserved_iova(&ioas->iopt, hwpt);
	if (rc)
		goto err_abort;

	hwpt->ioas = ioas;
	iommufd_object_ref_user(&ioas->obj);
	list_add_tail(&hwpt->hwpt_item, &ioas->hwpt_list);
	return hwpt;

err_abort:
	iommufd_object_abort_and_destroy(ictx, &hwpt->obj);
	return ERR_PTR(rc);
}

int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_alloc *cmd = ucmd->cmd;
	struct iommufd_hwpt_paging *hwpt;
	struct iommufd_object *pt_obj;
	struct iommufd_device *idev;
	struct iommufd_object *obj;
	struct iommufd_ioas *ioas;
	int rc;

	/* Upstream's order: argument shape, then the objects, then support. */
	if (cmd->__reserved)
		return -EOPNOTSUPP;
	if ((cmd->data_type == IOMMU_HWPT_DATA_NONE && cmd->data_len) ||
	    (cmd->data_type != IOMMU_HWPT_DATA_NONE && !cmd->data_len))
		return -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->dev_id, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	idev = container_of(obj, struct iommufd_device, obj);

	pt_obj = iommufd_get_object(ucmd->ictx, cmd->pt_id, IOMMUFD_OBJ_ANY);
	if (IS_ERR(pt_obj)) {
		rc = -EINVAL;
		goto out_put_idev;
	}
	if (pt_obj->type != IOMMUFD_OBJ_IOAS) {
		/* A HWPT as parent means a nested HWPT: not offered yet. */
		rc = pt_obj->type == IOMMUFD_OBJ_HWPT_PAGING ? -EOPNOTSUPP :
							      -EINVAL;
		goto out_put_pt;
	}
	/* Nest parents, dirty tracking, driver data: not offered yet. */
	if (cmd->flags || cmd->data_type != IOMMU_HWPT_DATA_NONE) {
		rc = -EOPNOTSUPP;
		goto out_put_pt;
	}

	ioas = container_of(pt_obj, struct iommufd_ioas, obj);
	mutex_lock(&ioas->mutex);
	hwpt = iommufd_hwpt_paging_alloc(ucmd->ictx, ioas, idev, cmd->flags,
					 false);
	if (IS_ERR(hwpt)) {
		rc = PTR_ERR(hwpt);
		goto out_unlock;
	}
	cmd->out_hwpt_id = hwpt->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		iommufd_object_abort_and_destroy(ucmd->ictx, &hwpt->obj);
	else
		iommufd_object_finalize(ucmd->ictx, &hwpt->obj);
out_unlock:
	mutex_unlock(&ioas->mutex);
out_put_pt:
	iommufd_put_object(ucmd->ictx, pt_obj);
out_put_idev:
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
