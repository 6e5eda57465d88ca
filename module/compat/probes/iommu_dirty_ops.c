// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_DIRTY_OPS: domains may carry dirty-tracking ops, which report
 * written IOVA through struct iommu_dirty_bitmap, and drivers answer
 * IOMMU_CAP_DIRTY_TRACKING (6.7).  The report reaches us through the
 * bitmap's IOTLB gather: see dirty.c for why not through its iova_bitmap.
 */
#include <linux/iommu.h>

int probe(struct iommu_domain *domain, struct device *dev);
int probe(struct iommu_domain *domain, struct device *dev)
{
	struct iommu_iotlb_gather gather;
	struct iommu_dirty_bitmap dirty;

	if (!device_iommu_capable(dev, IOMMU_CAP_DIRTY_TRACKING))
		return -EOPNOTSUPP;
	iommu_iotlb_gather_init(&gather);
	iommu_dirty_bitmap_init(&dirty, NULL, &gather);
	if (domain->dirty_ops->set_dirty_tracking(domain, true))
		return -EINVAL;
	return domain->dirty_ops->read_and_clear_dirty(domain, 0, 4096,
						      IOMMU_DIRTY_NO_CLEAR,
						      &dirty);
}
