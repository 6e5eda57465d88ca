// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_CAP_ENFORCE_CACHE_COHERENCY: a device's IOMMU can say whether
 * it can block no-snoop DMA (6.2).  Before, the driver's
 * enforce_cache_coherency() op itself refused when it could not.
 */
#include <linux/iommu.h>

bool probe(struct device *dev);
bool probe(struct device *dev)
{
	return device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
}
