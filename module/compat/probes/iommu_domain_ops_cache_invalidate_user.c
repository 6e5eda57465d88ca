// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_DOMAIN_OPS_CACHE_INVALIDATE_USER: a nested domain's driver
 * carries out user space's invalidation requests, handed over as a
 * struct iommu_user_data_array (6.8).  Without it no driver has a nested
 * domain to invalidate.
 */
#include <linux/iommu.h>

int probe(struct iommu_domain *domain, void __user *uptr);
int probe(struct iommu_domain *domain, void __user *uptr)
{
	struct iommu_user_data_array array = {
		.type = 0,
		.uptr = uptr,
		.entry_len = 8,
		.entry_num = 1,
	};

	if (domain->type != IOMMU_DOMAIN_NESTED)
		return -EINVAL;
	return domain->ops->cache_invalidate_user(domain, &array);
}
