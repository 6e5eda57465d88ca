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

/*
 * A mock device with its three ids: @stdev_id (IOMMU_DESTROY of it unplugs
 * the device), @idev_id (its dev_id in the regular ABI) and @hwpt_id (where
 * it was attached when it was plugged in).
 */
struct mock_dev {
	uint32_t stdev_id;
	uint32_t idev_id;
	uint32_t hwpt_id;
};

/*
 * Plug in a mock device attached to @pt_id; @dev_flags are the
 * MOCK_FLAGS_DEVICE_* bits, and 0 takes the plain MOCK_DOMAIN op, so that
 * suites exercise both.  @dev may be NULL.
 */
static inline int mock_dev_add_flags(int fd, uint32_t pt_id,
				     uint32_t dev_flags, struct mock_dev *dev)
{
	struct iommu_test_cmd cmd = { .id = pt_id };
	int rc;

	if (dev_flags) {
		cmd.op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS;
		cmd.mock_domain_flags.dev_flags = dev_flags;
	} else {
		cmd.op = IOMMU_TEST_OP_MOCK_DOMAIN;
	}
	rc = test_cmd(fd, &cmd);
	if (!rc && dev && dev_flags) {
		dev->stdev_id = cmd.mock_domain_flags.out_stdev_id;
		dev->idev_id = cmd.mock_domain_flags.out_idev_id;
		dev->hwpt_id = cmd.mock_domain_flags.out_hwpt_id;
	} else if (!rc && dev) {
		dev->stdev_id = cmd.mock_domain.out_stdev_id;
		dev->idev_id = cmd.mock_domain.out_idev_id;
		dev->hwpt_id = cmd.mock_domain.out_hwpt_id;
	}
	return rc;
}

static inline int mock_dev_add(int fd, uint32_t pt_id, struct mock_dev *dev)
{
	return mock_dev_add_flags(fd, pt_id, 0, dev);
}

/*
 * Move the mock device @stdev_id to @pt_id; *out_hwpt_id (may be NULL)
 * gets the HWPT it is attached to now (for an IOAS, the one chosen).
 */
static inline int mock_dev_replace(int fd, uint32_t stdev_id, uint32_t pt_id,
				   uint32_t *out_hwpt_id)
{
	struct iommu_test_cmd cmd = {
		.op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
		.id = stdev_id,
		.mock_domain_replace = { .pt_id = pt_id },
	};
	int rc = test_cmd(fd, &cmd);

	if (!rc && out_hwpt_id)
		*out_hwpt_id = cmd.mock_domain_replace.pt_id;
	return rc;
}

#endif /* SELFTESTS_IOMMUFD_MOCK_H */
