// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * Compile-time checks of uapi/linux/iommufd_test.h, the self-test ABI,
 * against the newest upstream drivers/iommu/iommufd/iommufd_test.h.  Every
 * number was counted by hand from the upstream layout (4 bytes per __u32 or
 * __s32, 8 per __u64, __aligned_u64 always 8-byte aligned, an inner
 * structure as aligned as its widest member), independently of our header.
 * Offsets inside struct iommu_test_cmd are absolute: its union starts at 16.
 *
 * The Debian 6.12 kernel's copy of the header is older; check.sh diffs the
 * part it has against ours.  This file covers the whole newest ABI, and
 * holds under -m32 too, where only __aligned_u64 keeps 64-bit members
 * 8-byte aligned.
 *
 * Builds as C11 and as C++11; compiling is the test.
 */
#include <stddef.h>

#include <linux/iommufd_test.h>

#ifdef __cplusplus
#define ABI_ASSERT(cond, msg) static_assert(cond, msg)
#define ABI_ALIGNOF(T) alignof(T)
#else
#define ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#define ABI_ALIGNOF(T) _Alignof(T)
#endif

#define SIZE(T, n)							\
	ABI_ASSERT(sizeof(struct T) == (n), "sizeof(struct " #T ")")
#define ALIGN(T, n)							\
	ABI_ASSERT(ABI_ALIGNOF(struct T) == (n), "alignof(struct " #T ")")
#define OFF(T, f, n)							\
	ABI_ASSERT(offsetof(struct T, f) == (n), "offsetof(" #T ", " #f ")")
#define MSIZE(T, f, n)							\
	ABI_ASSERT(sizeof(((struct T *)0)->f) == (n),			\
		   "sizeof(" #T "." #f ")")
#define SIGNED(T, f)							\
	ABI_ASSERT((__typeof__(((struct T *)0)->f))-1 < 0,		\
		   #T "." #f " is signed")
#define VAL(c, n) ABI_ASSERT((c) == (n), #c " == " #n)

/* _IO(';', 0x80 + 32): no size or direction bits. */
VAL(IOMMU_TEST_CMD, 0x3ba0);

/* The op numbers: one missing or reordered entry shifts all later ones. */
VAL(IOMMU_TEST_OP_ADD_RESERVED, 1);
VAL(IOMMU_TEST_OP_MOCK_DOMAIN, 2);
VAL(IOMMU_TEST_OP_MD_CHECK_MAP, 3);
VAL(IOMMU_TEST_OP_MD_CHECK_REFS, 4);
VAL(IOMMU_TEST_OP_CREATE_ACCESS, 5);
VAL(IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, 6);
VAL(IOMMU_TEST_OP_ACCESS_PAGES, 7);
VAL(IOMMU_TEST_OP_ACCESS_RW, 8);
VAL(IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT, 9);
VAL(IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE, 10);
VAL(IOMMU_TEST_OP_ACCESS_REPLACE_IOAS, 11);
VAL(IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS, 12);
VAL(IOMMU_TEST_OP_DIRTY, 13);
VAL(IOMMU_TEST_OP_MD_CHECK_IOTLB, 14);
VAL(IOMMU_TEST_OP_TRIGGER_IOPF, 15);
VAL(IOMMU_TEST_OP_DEV_CHECK_CACHE, 16);
VAL(IOMMU_TEST_OP_TRIGGER_VEVENT, 17);
VAL(IOMMU_TEST_OP_PASID_ATTACH, 18);
VAL(IOMMU_TEST_OP_PASID_REPLACE, 19);
VAL(IOMMU_TEST_OP_PASID_DETACH, 20);
VAL(IOMMU_TEST_OP_PASID_CHECK_HWPT, 21);
VAL(IOMMU_TEST_OP_DMABUF_GET, 22);
VAL(IOMMU_TEST_OP_DMABUF_REVOKE, 23);

/* Mock IOMMU. */
VAL(MOCK_IOMMUPT_DEFAULT, 0);
VAL(MOCK_IOMMUPT_HUGE, 1);
VAL(MOCK_APERTURE_START, 1LL << 24);
VAL(MOCK_APERTURE_LAST, (1LL << 31) - 1);
VAL(MOCK_PAGE_SIZE, 2048);
VAL(MOCK_HUGE_PAGE_SIZE, 1LL << 20);
VAL(MOCK_FLAGS_ACCESS_WRITE, 1);
VAL(MOCK_FLAGS_ACCESS_SYZ, 0x10000);
VAL(MOCK_ACCESS_RW_WRITE, 1);
VAL(MOCK_ACCESS_RW_SLOW_PATH, 4);
VAL(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, 1);
VAL(MOCK_FLAGS_DEVICE_NO_DIRTY, 1);
VAL(MOCK_FLAGS_DEVICE_PASID, 4);
VAL(MOCK_NESTED_DOMAIN_IOTLB_ID_MAX, 3);
VAL(MOCK_NESTED_DOMAIN_IOTLB_NUM, 4);
VAL(MOCK_DEV_CACHE_ID_MAX, 3);
VAL(MOCK_DEV_CACHE_NUM, 4);
VAL(IOMMU_TEST_PASID_RESERVED, 1024);
VAL(MOCK_PASID_WIDTH, 20);

/* Data types of the mock driver in the regular ABI, and magic values. */
VAL(IOMMU_HW_INFO_TYPE_SELFTEST, 0xfeedbeefu);
VAL(IOMMU_HW_INFO_SELFTEST_REGVAL, 0xdeadbeefu);
VAL(IOMMU_HWPT_DATA_SELFTEST, 0xdead);
VAL(IOMMU_TEST_IOTLB_DEFAULT, 0xbadbeef);
VAL(IOMMU_TEST_DEV_CACHE_DEFAULT, 0xbaddad);
VAL(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST, 0xdeadbeefu);
VAL(IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID, 0xdadbeef);
VAL(IOMMU_TEST_INVALIDATE_FLAG_ALL, 1);
VAL(IOMMU_VIOMMU_TYPE_SELFTEST, 0xdeadbeefu);
VAL(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST, 0xdeadbeefu);
VAL(IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID, 0xdadbeef);
VAL(IOMMU_VEVENTQ_TYPE_SELFTEST, 0xbeefbeefu);
VAL(IOMMU_HW_QUEUE_TYPE_SELFTEST, 0xdeadbeefu);
VAL(IOMMU_TEST_HW_QUEUE_MAX, 2);

/*
 * struct iommu_test_cmd: 4 x u32, a union whose widest member is @dirty
 * (u32, 4 bytes of padding, 5 x u64 = 48 bytes), then @last and 4 bytes of
 * tail padding: 16 + 48 + 4 + 4.
 */
SIZE(iommu_test_cmd, 72);
ALIGN(iommu_test_cmd, 8);
OFF(iommu_test_cmd, size, 0);
OFF(iommu_test_cmd, op, 4);
OFF(iommu_test_cmd, id, 8);
OFF(iommu_test_cmd, __reserved, 12);
OFF(iommu_test_cmd, last, 64);

OFF(iommu_test_cmd, add_reserved.start, 16);
OFF(iommu_test_cmd, add_reserved.length, 24);
MSIZE(iommu_test_cmd, add_reserved, 16);

OFF(iommu_test_cmd, mock_domain.out_stdev_id, 16);
OFF(iommu_test_cmd, mock_domain.out_hwpt_id, 20);
OFF(iommu_test_cmd, mock_domain.out_idev_id, 24);
MSIZE(iommu_test_cmd, mock_domain, 12);

OFF(iommu_test_cmd, mock_domain_flags.out_stdev_id, 16);
OFF(iommu_test_cmd, mock_domain_flags.out_hwpt_id, 20);
OFF(iommu_test_cmd, mock_domain_flags.out_idev_id, 24);
OFF(iommu_test_cmd, mock_domain_flags.dev_flags, 28);
MSIZE(iommu_test_cmd, mock_domain_flags, 16);

OFF(iommu_test_cmd, mock_domain_replace.pt_id, 16);

OFF(iommu_test_cmd, check_map.iova, 16);
OFF(iommu_test_cmd, check_map.length, 24);
OFF(iommu_test_cmd, check_map.uptr, 32);
MSIZE(iommu_test_cmd, check_map, 24);

/* 2 x u64 + u32, padded to 8. */
OFF(iommu_test_cmd, check_refs.length, 16);
OFF(iommu_test_cmd, check_refs.uptr, 24);
OFF(iommu_test_cmd, check_refs.refs, 32);
MSIZE(iommu_test_cmd, check_refs, 24);

OFF(iommu_test_cmd, create_access.out_access_fd, 16);
OFF(iommu_test_cmd, create_access.flags, 20);

OFF(iommu_test_cmd, destroy_access_pages.access_pages_id, 16);

/* 2 x u32, then 3 x u64. */
OFF(iommu_test_cmd, access_pages.flags, 16);
OFF(iommu_test_cmd, access_pages.out_access_pages_id, 20);
OFF(iommu_test_cmd, access_pages.iova, 24);
OFF(iommu_test_cmd, access_pages.length, 32);
OFF(iommu_test_cmd, access_pages.uptr, 40);
MSIZE(iommu_test_cmd, access_pages, 32);

/* 3 x u64, then a u32 padded to 8. */
OFF(iommu_test_cmd, access_rw.iova, 16);
OFF(iommu_test_cmd, access_rw.length, 24);
OFF(iommu_test_cmd, access_rw.uptr, 32);
OFF(iommu_test_cmd, access_rw.flags, 40);
MSIZE(iommu_test_cmd, access_rw, 32);

OFF(iommu_test_cmd, memory_limit.limit, 16);
OFF(iommu_test_cmd, access_replace_ioas.ioas_id, 16);

/* u32, 4 bytes of padding, 5 x u64: the widest member. */
OFF(iommu_test_cmd, dirty.flags, 16);
OFF(iommu_test_cmd, dirty.iova, 24);
OFF(iommu_test_cmd, dirty.length, 32);
OFF(iommu_test_cmd, dirty.page_size, 40);
OFF(iommu_test_cmd, dirty.uptr, 48);
OFF(iommu_test_cmd, dirty.out_nr_dirty, 56);
MSIZE(iommu_test_cmd, dirty, 48);

OFF(iommu_test_cmd, check_iotlb.id, 16);
OFF(iommu_test_cmd, check_iotlb.iotlb, 20);

/* 4 x u32, then a plain __u64 that lands 8-byte aligned anyway. */
OFF(iommu_test_cmd, trigger_iopf.dev_id, 16);
OFF(iommu_test_cmd, trigger_iopf.pasid, 20);
OFF(iommu_test_cmd, trigger_iopf.grpid, 24);
OFF(iommu_test_cmd, trigger_iopf.perm, 28);
OFF(iommu_test_cmd, trigger_iopf.addr, 32);
MSIZE(iommu_test_cmd, trigger_iopf.addr, 8);
MSIZE(iommu_test_cmd, trigger_iopf, 24);

OFF(iommu_test_cmd, check_dev_cache.id, 16);
OFF(iommu_test_cmd, check_dev_cache.cache, 20);

OFF(iommu_test_cmd, trigger_vevent.dev_id, 16);

OFF(iommu_test_cmd, pasid_attach.pasid, 16);
OFF(iommu_test_cmd, pasid_attach.pt_id, 20);
OFF(iommu_test_cmd, pasid_replace.pasid, 16);
OFF(iommu_test_cmd, pasid_replace.pt_id, 20);
OFF(iommu_test_cmd, pasid_detach.pasid, 16);
OFF(iommu_test_cmd, pasid_check.pasid, 16);
OFF(iommu_test_cmd, pasid_check.hwpt_id, 20);

OFF(iommu_test_cmd, dmabuf_get.length, 16);
OFF(iommu_test_cmd, dmabuf_get.open_flags, 20);
OFF(iommu_test_cmd, dmabuf_revoke.dmabuf_fd, 16);
OFF(iommu_test_cmd, dmabuf_revoke.revoked, 20);
SIGNED(iommu_test_cmd, dmabuf_revoke.dmabuf_fd);
MSIZE(iommu_test_cmd, dmabuf_revoke.dmabuf_fd, 4);

/* Data structures of the mock driver. */
SIZE(iommu_test_hw_info, 8);
ALIGN(iommu_test_hw_info, 4);
OFF(iommu_test_hw_info, test_reg, 4);

/* Grew from 4 bytes (iotlb only) when pagetable_type was added. */
SIZE(iommu_hwpt_selftest, 8);
OFF(iommu_hwpt_selftest, iotlb, 0);
OFF(iommu_hwpt_selftest, pagetable_type, 4);

SIZE(iommu_hwpt_invalidate_selftest, 8);
OFF(iommu_hwpt_invalidate_selftest, iotlb_id, 4);

/* 2 x u32, then 2 x aligned u64. */
SIZE(iommu_viommu_selftest, 24);
ALIGN(iommu_viommu_selftest, 8);
OFF(iommu_viommu_selftest, out_data, 4);
OFF(iommu_viommu_selftest, out_mmap_offset, 8);
OFF(iommu_viommu_selftest, out_mmap_length, 16);

SIZE(iommu_viommu_invalidate_selftest, 12);
ALIGN(iommu_viommu_invalidate_selftest, 4);
OFF(iommu_viommu_invalidate_selftest, vdev_id, 4);
OFF(iommu_viommu_invalidate_selftest, cache_id, 8);

SIZE(iommu_viommu_event_selftest, 4);

int main(void)
{
	return 0;
}
