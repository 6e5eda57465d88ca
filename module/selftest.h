/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The self-test mock IOMMU, between its files: selftest.c has the mock
 * devices, paging domains and the IOMMU_TEST_CMD table; selftest_nested.c
 * the mock's nested (stage-1) domains and their IOTLB.
 */
#ifndef IOMMUFD_SELFTEST_H
#define IOMMUFD_SELFTEST_H

#include "iommufd_private.h"

struct iommu_test_cmd;

bool mock_domain_is_paging(struct iommu_domain *domain);

struct iommu_domain *
mock_domain_alloc_nested(struct iommufd_device *idev,
			 struct iommu_domain *parent, u32 flags,
			 const struct iommufd_user_data *data);
int mock_cache_invalidate_user(struct iommu_domain *domain,
			       struct iommufd_user_array *array);
int test_md_check_iotlb(struct iommufd_ucmd *ucmd,
			struct iommu_test_cmd *cmd);

#endif /* IOMMUFD_SELFTEST_H */
