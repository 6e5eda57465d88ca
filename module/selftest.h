/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The self-test mock IOMMU, between its files: selftest.c has the mock
 * devices, paging domains and the IOMMU_TEST_CMD table; selftest_nested.c
 * the mock's nested (stage-1) domains and their IOTLB.
 */
#ifndef IOMMUFD_SELFTEST_H
#define IOMMUFD_SELFTEST_H

#include <uapi/linux/iommufd_test.h>

#include "iommufd_private.h"

struct iommu_test_cmd;

/**
 * struct mock_dev - a mock device, the priv of its struct iommufd_device
 * @flags: MOCK_FLAGS_DEVICE_*
 * @cache: its device cache (selftest_viommu.c), cleared by invalidations
 *         of a vIOMMU it has a vDEVICE on; *_ONCE
 */
struct mock_dev {
	u32 flags;
	u32 cache[MOCK_DEV_CACHE_NUM];
};

bool mock_device_is(struct iommufd_device *idev);
const struct iommufd_viommu_ops *mock_viommu_ops_for(struct iommufd_device *idev,
						     u32 type);

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
