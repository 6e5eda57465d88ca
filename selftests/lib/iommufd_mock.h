/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-test objects in their plainest form, for suites that need one mock
 * domain, one access or one copy and nothing else (older suites keep the
 * variants their tests need).  Include after iommufd_utils.h.
 */
#ifndef SELFTESTS_IOMMUFD_MOCK_H
#define SELFTESTS_IOMMUFD_MOCK_H

#ifndef MAP_RW
#define MAP_RW	(IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)
#endif

/* IOAS_COPY of [src_iova, +len) of @src to @dst_iova of @dst. */
static inline int ioas_copy(int fd, uint32_t dst, uint64_t dst_iova,
			    uint32_t src, uint64_t src_iova, uint64_t len)
{
	struct iommu_ioas_copy cmd = {
		.size = sizeof(cmd),
		.flags = MAP_RW | IOMMU_IOAS_MAP_FIXED_IOVA,
		.dst_ioas_id = dst,
		.src_ioas_id = src,
		.length = len,
		.dst_iova = dst_iova,
		.src_iova = src_iova,
	};

	return ioctl(fd, IOMMU_IOAS_COPY, &cmd);
}

static inline int mock_domain(int fd, uint32_t ioas_id, uint32_t *hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN,
		.id = ioas_id,
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc && hwpt_id)
		*hwpt_id = cmd.mock_domain.out_hwpt_id;
	return rc;
}

static inline int create_access(int fd, uint32_t ioas_id, uint32_t flags)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_CREATE_ACCESS,
		.id = ioas_id,
		.create_access = { .flags = flags },
	};

	if (test_cmd(fd, &cmd))
		return -1;
	return (int)cmd.create_access.out_access_fd;
}

static inline int access_pages(int fd, int access_fd, uint64_t iova,
			       uint64_t len, uint32_t *pages_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_ACCESS_PAGES,
		.id = (uint32_t)access_fd,
		.access_pages = { .iova = iova, .length = len },
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc && pages_id)
		*pages_id = cmd.access_pages.out_access_pages_id;
	return rc;
}

#endif /* SELFTESTS_IOMMUFD_MOCK_H */
