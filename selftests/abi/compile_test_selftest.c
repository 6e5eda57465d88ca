// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * Compile test of uapi/linux/iommufd_test.h as a test program sees it: it
 * must stand alone (pulling in <linux/iommufd.h> itself), survive being
 * included twice, carry the upstream include guard and build cleanly as C
 * (c99 and later) and C++ with warnings as errors.  With REF_HEADER set to
 * the path of a kernel's drivers/iommu/iommufd/iommufd_test.h, that copy is
 * included as well and must expand to nothing: both share one guard.
 */
#include <linux/iommufd_test.h>
#include <linux/iommufd_test.h>

#ifndef _UAPI_IOMMUFD_TEST_H
#error "uapi/linux/iommufd_test.h must use the upstream include guard"
#endif
#ifndef _UAPI_IOMMUFD_H
#error "uapi/linux/iommufd_test.h must include <linux/iommufd.h>"
#endif

#ifdef REF_HEADER
#include REF_HEADER
#endif

static unsigned long long use_header(void)
{
	struct iommu_test_cmd cmd;
	struct iommu_hwpt_selftest data;
	struct iommu_test_hw_info info;

	cmd.size = sizeof(cmd);
	cmd.op = IOMMU_TEST_OP_MOCK_DOMAIN;
	cmd.id = 1;
	cmd.__reserved = 0;
	cmd.mock_domain.out_stdev_id = 0;
	cmd.dirty.out_nr_dirty = 0;
	cmd.dmabuf_revoke.dmabuf_fd = -1;
	data.iotlb = IOMMU_TEST_IOTLB_DEFAULT;
	data.pagetable_type = MOCK_IOMMUPT_HUGE;
	info.flags = 0;
	info.test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL;

	return cmd.size + cmd.op + cmd.mock_domain.out_stdev_id +
	       cmd.dirty.out_nr_dirty + data.iotlb + data.pagetable_type +
	       info.test_reg + IOMMU_TEST_CMD + MOCK_APERTURE_LAST +
	       MOCK_HUGE_PAGE_SIZE;
}

int main(void)
{
	return use_header() == 0;
}
