// SPDX-License-Identifier: GPL-2.0
/*
 * Not a probe: configure.sh compiles this beside the probes and stops the
 * build when it does not compile.  It uses only what every kernel the
 * module supports has, and includes every header the probes rely on, so
 * its failure means the headers tree or the compiler is broken, and every
 * probe failing beside it would otherwise select all the fallbacks
 * silently.
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/mm.h>
#include <linux/module.h>

int probe(struct iommu_domain *domain, struct mm_struct *mm);
int probe(struct iommu_domain *domain, struct mm_struct *mm)
{
	return iommu_unmap(domain, 0, PAGE_SIZE) == PAGE_SIZE &&
	       mmget_not_zero(mm);
}
