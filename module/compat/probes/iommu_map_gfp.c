// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_MAP_GFP: iommu_map() takes the allocation flags for page-table
 * memory (6.3); before, it always allocated with GFP_KERNEL.
 */
#include <linux/iommu.h>

int probe(struct iommu_domain *domain);
int probe(struct iommu_domain *domain)
{
	return iommu_map(domain, 0, 0, PAGE_SIZE, IOMMU_READ, GFP_KERNEL);
}
