// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_DEV_IOMMU_MAX_PASIDS: the PASIDs a device may use are recorded per
 * device in struct dev_iommu (6.2); before, only per IOMMU.
 */
#include <linux/device.h>
#include <linux/iommu.h>

u32 probe(struct device *dev);
u32 probe(struct device *dev)
{
	return dev->iommu->max_pasids;
}
