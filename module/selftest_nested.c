// SPDX-License-Identifier: GPL-2.0
/*
 * The mock IOMMU's nested domains (IOMMU_HWPT_DATA_SELFTEST).
 *
 * A real stage-1 is a page table in guest memory that the IOMMU walks and
 * caches; the mock has no walker, so what it models is the cache: an
 * IOTLB of MOCK_NESTED_DOMAIN_IOTLB_NUM entries, each set to the value
 * user space gave at allocation, and cleared by the invalidation requests
 * of IOMMU_HWPT_INVALIDATE (IOMMU_HWPT_INVALIDATE_DATA_SELFTEST).
 * IOMMU_TEST_OP_MD_CHECK_IOTLB reads an entry back.  That is enough to
 * check every rule of the two ioctls; DMA through a mock device behind a
 * nested domain reaches what its parent maps.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_test.h>

#include "selftest.h"

struct mock_nested_domain {
	struct iommu_domain domain;
	struct iommu_domain *parent;
	/* Written by invalidations that may run side by side: *_ONCE. */
	u32 iotlb[MOCK_NESTED_DOMAIN_IOTLB_NUM];
};

static const struct iommu_domain_ops mock_nested_domain_ops;

static struct mock_nested_domain *to_mock_nested(struct iommu_domain *domain)
{
	if (domain->ops != &mock_nested_domain_ops)
		return NULL;
	return container_of(domain, struct mock_nested_domain, domain);
}

static void mock_nested_domain_free(struct iommu_domain *domain)
{
	kfree(to_mock_nested(domain));
}

/* No map or unmap: user space owns a stage-1, the kernel never edits it. */
static const struct iommu_domain_ops mock_nested_domain_ops = {
	.free = mock_nested_domain_free,
};

/*
 * The mock's answers, those of upstream's mock driver: its own data type
 * only, and no flag (EOPNOTSUPP); a parent that is one of its own paging
 * domains (EINVAL); the data under upstream's rule for driver data.
 */
struct iommu_domain *
mock_domain_alloc_nested(struct iommufd_device *idev,
			 struct iommu_domain *parent, u32 flags,
			 const struct iommufd_user_data *data)
{
	struct iommu_hwpt_selftest desc;
	struct mock_nested_domain *mock;
	unsigned int i;
	int rc;

	if (data->type != IOMMU_HWPT_DATA_SELFTEST || flags)
		return ERR_PTR(-EOPNOTSUPP);
	if (!mock_domain_is_paging(parent))
		return ERR_PTR(-EINVAL);
	rc = iommufd_user_data_copy(&desc, sizeof(desc),
				    offsetofend(typeof(desc), iotlb), data,
				    IOMMU_HWPT_DATA_SELFTEST);
	if (rc)
		return ERR_PTR(rc);

	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	mock->domain.ops = &mock_nested_domain_ops;
	mock->parent = parent;
	for (i = 0; i < ARRAY_SIZE(mock->iotlb); i++)
		mock->iotlb[i] = desc.iotlb;
	return &mock->domain;
}

/*
 * Requests in order; the first bad one stops the batch, and the ones
 * before it stay carried out (array->entry_num says how many).
 */
int mock_cache_invalidate_user(struct iommu_domain *domain,
			       struct iommufd_user_array *array)
{
	struct mock_nested_domain *mock = to_mock_nested(domain);
	struct iommu_hwpt_invalidate_selftest req;
	u32 done = 0;
	int rc = 0;

	/* The type is judged even for an empty array. */
	if (!mock || array->type != IOMMU_HWPT_INVALIDATE_DATA_SELFTEST) {
		rc = -EINVAL;
		goto out;
	}
	for (; done < array->entry_num; done++) {
		unsigned int i;

		rc = iommufd_user_array_copy(&req, sizeof(req),
					     offsetofend(typeof(req), iotlb_id),
					     array,
					     IOMMU_HWPT_INVALIDATE_DATA_SELFTEST,
					     done);
		if (rc)
			break;
		if (req.flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL) {
			rc = -EOPNOTSUPP;
			break;
		}
		/* Checked even when FLAG_ALL makes it unused, as upstream. */
		if (req.iotlb_id > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX) {
			rc = -EINVAL;
			break;
		}
		for (i = 0; i < ARRAY_SIZE(mock->iotlb); i++)
			if ((req.flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) ||
			    i == req.iotlb_id)
				WRITE_ONCE(mock->iotlb[i], 0);
	}
out:
	array->entry_num = done;
	return rc;
}

/* IOMMU_TEST_OP_MD_CHECK_IOTLB: does entry check_iotlb.id hold .iotlb? */
int test_md_check_iotlb(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	struct mock_nested_domain *mock;
	struct iommufd_object *obj;
	u32 index = cmd->check_iotlb.id;
	int rc = 0;

	obj = iommufd_get_object(ucmd->ictx, cmd->id, IOMMUFD_OBJ_HWPT_NESTED);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	mock = to_mock_nested(container_of(obj, struct iommufd_hwpt,
					   obj)->domain);
	if (!mock || index > MOCK_NESTED_DOMAIN_IOTLB_ID_MAX ||
	    READ_ONCE(mock->iotlb[index]) != cmd->check_iotlb.iotlb)
		rc = -EINVAL;
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}
