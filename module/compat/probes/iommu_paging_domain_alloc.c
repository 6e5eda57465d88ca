// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_PAGING_DOMAIN_ALLOC: iommu_paging_domain_alloc() allocates a
 * paging domain for a device (6.11); older kernels only have the bus-based
 * iommu_domain_alloc().
 */
#include <linux/iommu.h>

struct iommu_domain *probe(struct device *dev);
struct iommu_domain *probe(struct device *dev)
{
	return iommu_paging_domain_alloc(dev);
}
