// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * Compile test of uapi/linux/iommufd.h as user space sees it: the header
 * must stand alone, survive being included twice, carry the upstream
 * include guard, and build cleanly as C (c99 and later) and C++ (c++11 and
 * later) with warnings as errors.  With REF_HEADER defined to the path of a
 * kernel's copy of the header, that copy is included too: it must expand to
 * nothing, because both share one include guard.
 */
#include <linux/iommufd.h>
#include <linux/iommufd.h>

#ifndef _UAPI_IOMMUFD_H
#error "uapi/linux/iommufd.h must use the upstream include guard"
#endif

#ifdef REF_HEADER
#include REF_HEADER
#endif

static unsigned long long use_header(void)
{
	struct iommu_ioas_map map;
	struct iommu_hw_info info;
	struct iommu_hwpt_alloc alloc;

	map.size = sizeof(map);
	map.flags = IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE;
	map.iova = 0;
	info.size = sizeof(info);
	info.flags = IOMMU_HW_INFO_FLAG_INPUT_TYPE;
	info.in_data_type = IOMMU_HW_INFO_TYPE_DEFAULT;
	alloc.size = sizeof(alloc);
	alloc.data_type = IOMMU_HWPT_DATA_NONE;

	return map.size + map.flags + map.iova + info.size +
	       info.out_data_type + alloc.size + alloc.data_type +
	       IOMMU_IOAS_MAP + IOMMU_HW_QUEUE_ALLOC;
}

int main(void)
{
	return use_header() == 0;
}
