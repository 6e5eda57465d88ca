// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_OPS_DOMAIN_ALLOC_USER: a driver can be asked for a paging
 * domain with iommufd's IOMMU_HWPT_ALLOC_* flags (dirty tracking, nest
 * parent) through iommu_ops::domain_alloc_user (6.7 to 6.12).  Without it
 * there is no way to ask a driver for anything but a plain domain.
 */
#include <linux/iommu.h>

struct iommu_domain *probe(const struct iommu_ops *ops, struct device *dev,
			   u32 flags);
struct iommu_domain *probe(const struct iommu_ops *ops, struct device *dev,
			   u32 flags)
{
	struct iommu_domain *domain;

	domain = ops->domain_alloc_user(dev, flags, NULL, NULL);
	if (!IS_ERR(domain))
		domain->owner = ops;
	return domain;
}
