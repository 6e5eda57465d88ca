// SPDX-License-Identifier: GPL-2.0
/*
 * HAVE_IOMMU_GROUP_HAS_ISOLATED_MSI: the IOMMU core says per group whether
 * MSIs are isolated (6.3); before, callers combined the bus's
 * IOMMU_CAP_INTR_REMAP with irq_domain_check_msi_remap().
 */
#include <linux/iommu.h>

bool probe(struct iommu_group *group);
bool probe(struct iommu_group *group)
{
	return iommu_group_has_isolated_msi(group);
}
