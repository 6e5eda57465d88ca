// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_OPS_HW_INFO: IOMMU drivers can describe their hardware to
 * iommufd through iommu_ops::hw_info (6.6).
 */
#include <linux/iommu.h>

void *probe(const struct iommu_ops *ops, struct device *dev);
void *probe(const struct iommu_ops *ops, struct device *dev)
{
	u32 length, type;

	return ops->hw_info(dev, &length, &type);
}
