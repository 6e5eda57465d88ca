/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * Self-test ABI of /dev/iommu: the IOMMU_TEST_CMD ioctl and the data formats
 * of the mock IOMMU driver that answers it.
 *
 * Upstream Linux keeps this interface in the kernel-internal header
 * drivers/iommu/iommufd/iommufd_test.h, which its kselftests include by
 * relative path.  This is our own rendition of that header at its newest
 * upstream version: every op number, structure layout and constant is
 * binary compatible with it, so that a test written for upstream's
 * CONFIG_IOMMUFD_TEST kernels runs unchanged against this module loaded
 * with selftest=1.  The include guard is the upstream one on purpose: both
 * headers describe one ABI and must never be expanded in one translation
 * unit.
 *
 * The module only answers IOMMU_TEST_CMD in self-test mode; otherwise the
 * ioctl number is unknown and fails with ENOTTY, which is how a test program
 * finds out that it has to skip.
 *
 * User space includes this after (or instead of) <linux/iommufd.h>, which it
 * pulls in itself.  The kernel module reaches it through the uapi/ prefix,
 * with the repository root first on its include path; there
 * <linux/iommufd.h> would name the kernel's own internal header (or nothing,
 * on kernels without iommufd), so the uapi one is named explicitly.
 */
#ifndef _UAPI_IOMMUFD_TEST_H
#define _UAPI_IOMMUFD_TEST_H

#include <linux/types.h>
#ifdef __KERNEL__
#include <uapi/linux/iommufd.h>
#else
#include <linux/iommufd.h>
#endif

/*
 * The command number: 32 past the first iommufd command, far enough from
 * the regular ones that the two ranges never meet.  Like every iommufd
 * ioctl it carries no size or direction bits; the first __u32 of the
 * argument is its size.
 */
#define IOMMU_TEST_CMD _IO(IOMMUFD_TYPE, IOMMUFD_CMD_BASE + 32)

/**
 * DOC: IOMMU_TEST_CMD operations
 *
 * struct iommu_test_cmd.op selects one of the operations below; the values
 * are part of the ABI and new ones are only ever appended.  An unknown op
 * fails with EOPNOTSUPP.  The union member each op uses is named after it in
 * the description of struct iommu_test_cmd.
 *
 * @IOMMU_TEST_OP_ADD_RESERVED: reserve an IOVA range in the IOAS @id, as a
 *	device's reserved region would; uses @add_reserved.
 * @IOMMU_TEST_OP_MOCK_DOMAIN: create a mock device, bind it and attach it
 *	to the IOAS or paging HWPT @id (with an IOAS, a mock paging domain is
 *	made for it as for a real device); uses @mock_domain.
 * @IOMMU_TEST_OP_MD_CHECK_MAP: check that the mock domain of HWPT @id
 *	translates an IOVA range to exactly the pages behind a user buffer;
 *	uses @check_map.
 * @IOMMU_TEST_OP_MD_CHECK_REFS: check the pin count of every (non-compound)
 *	page of a user buffer; uses @check_refs.
 * @IOMMU_TEST_OP_CREATE_ACCESS: create an in-kernel access (the interface
 *	emulated devices use) on the IOAS @id and return it as a file
 *	descriptor; uses @create_access.
 * @IOMMU_TEST_OP_DESTROY_ACCESS_PAGES: release pages pinned through the
 *	access whose file descriptor is @id; uses @destroy_access_pages.
 * @IOMMU_TEST_OP_ACCESS_PAGES: pin an IOVA range through the access @id
 *	and check it against a user buffer; uses @access_pages.
 * @IOMMU_TEST_OP_ACCESS_RW: copy between an IOVA range and a user buffer
 *	through the access @id; uses @access_rw.
 * @IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT: cap the temporary buffers the page
 *	pinning code allocates, to force its batching paths; global to the
 *	module; uses @memory_limit.
 * @IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE: move the mock device @id (a
 *	stdev_id) to another IOAS or HWPT without detaching it; uses
 *	@mock_domain_replace.
 * @IOMMU_TEST_OP_ACCESS_REPLACE_IOAS: move the access @id to another IOAS;
 *	uses @access_replace_ioas.
 * @IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS: as IOMMU_TEST_OP_MOCK_DOMAIN, with
 *	device properties; uses @mock_domain_flags.
 * @IOMMU_TEST_OP_DIRTY: mark IOVAs of the dirty-tracking HWPT @id dirty, as
 *	device writes would; uses @dirty.
 * @IOMMU_TEST_OP_MD_CHECK_IOTLB: check one entry of the mock IOTLB of the
 *	nested HWPT @id; uses @check_iotlb.
 * @IOMMU_TEST_OP_TRIGGER_IOPF: report an I/O page fault from a mock device;
 *	uses @trigger_iopf.
 * @IOMMU_TEST_OP_DEV_CHECK_CACHE: check one entry of the mock device cache
 *	of the device @id; uses @check_dev_cache.
 * @IOMMU_TEST_OP_TRIGGER_VEVENT: raise a vIOMMU event for a mock device;
 *	uses @trigger_vevent.
 * @IOMMU_TEST_OP_PASID_ATTACH: attach a PASID of the mock device @id;
 *	uses @pasid_attach.
 * @IOMMU_TEST_OP_PASID_REPLACE: replace what a PASID of the mock device @id
 *	is attached to; uses @pasid_replace.
 * @IOMMU_TEST_OP_PASID_DETACH: detach a PASID of the mock device @id; uses
 *	@pasid_detach.
 * @IOMMU_TEST_OP_PASID_CHECK_HWPT: check which HWPT a PASID of the mock
 *	device @id is attached to; uses @pasid_check.
 * @IOMMU_TEST_OP_DMABUF_GET: create a mock DMA-buf; the ioctl returns its
 *	new file descriptor; uses @dmabuf_get.
 * @IOMMU_TEST_OP_DMABUF_REVOKE: revoke a mock DMA-buf or make it usable
 *	again; uses @dmabuf_revoke.
 */
enum {
	IOMMU_TEST_OP_ADD_RESERVED = 1,
	IOMMU_TEST_OP_MOCK_DOMAIN = 2,
	IOMMU_TEST_OP_MD_CHECK_MAP = 3,
	IOMMU_TEST_OP_MD_CHECK_REFS = 4,
	IOMMU_TEST_OP_CREATE_ACCESS = 5,
	IOMMU_TEST_OP_DESTROY_ACCESS_PAGES = 6,
	IOMMU_TEST_OP_ACCESS_PAGES = 7,
	IOMMU_TEST_OP_ACCESS_RW = 8,
	IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT = 9,
	IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE = 10,
	IOMMU_TEST_OP_ACCESS_REPLACE_IOAS = 11,
	IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS = 12,
	IOMMU_TEST_OP_DIRTY = 13,
	IOMMU_TEST_OP_MD_CHECK_IOTLB = 14,
	IOMMU_TEST_OP_TRIGGER_IOPF = 15,
	IOMMU_TEST_OP_DEV_CHECK_CACHE = 16,
	IOMMU_TEST_OP_TRIGGER_VEVENT = 17,
	IOMMU_TEST_OP_PASID_ATTACH = 18,
	IOMMU_TEST_OP_PASID_REPLACE = 19,
	IOMMU_TEST_OP_PASID_DETACH = 20,
	IOMMU_TEST_OP_PASID_CHECK_HWPT = 21,
	IOMMU_TEST_OP_DMABUF_GET = 22,
	IOMMU_TEST_OP_DMABUF_REVOKE = 23,
};

/**
 * DOC: Page table formats of the mock IOMMU
 *
 * Chosen through struct iommu_hwpt_selftest.pagetable_type when a paging
 * HWPT is allocated with IOMMU_HWPT_DATA_SELFTEST data.
 *
 * @MOCK_IOMMUPT_DEFAULT: MOCK_PAGE_SIZE pages only; the format of every
 *	domain made implicitly (IOMMU_TEST_OP_MOCK_DOMAIN on an IOAS).
 * @MOCK_IOMMUPT_HUGE: MOCK_PAGE_SIZE and MOCK_HUGE_PAGE_SIZE pages.
 *
 * Value 2 was briefly an AMD v1 page table format upstream and is unused.
 */
enum {
	MOCK_IOMMUPT_DEFAULT = 0,
	MOCK_IOMMUPT_HUGE = 1,
};

/**
 * DOC: Geometry of the mock IOMMU (MOCK_IOMMUPT_DEFAULT)
 *
 * @MOCK_APERTURE_START: first IOVA a mock domain translates (16 MiB).
 * @MOCK_APERTURE_LAST: last IOVA a mock domain translates (2 GiB - 1).
 *	Attaching a mock domain to an IOAS reserves every IOVA outside
 *	[MOCK_APERTURE_START, MOCK_APERTURE_LAST].
 * @MOCK_PAGE_SIZE: the smallest page of a mock domain, in bytes; it becomes
 *	the IOAS's IOVA alignment (out_iova_alignment).  Deliberately smaller
 *	than the CPU page, so that sub-page mappings are exercised.  Older
 *	upstream kernels defined it as PAGE_SIZE / 2: the same 2048 on x86_64,
 *	where pages are 4 KiB.
 * @MOCK_HUGE_PAGE_SIZE: the large page of MOCK_IOMMUPT_HUGE domains,
 *	512 mock pages (1 MiB); likewise 512 * PAGE_SIZE / 2 upstream before.
 */
enum {
	MOCK_APERTURE_START = 0x1000000,
	MOCK_APERTURE_LAST = 0x7fffffff,
	MOCK_PAGE_SIZE = 2048,
	MOCK_HUGE_PAGE_SIZE = 512 * MOCK_PAGE_SIZE,
};

/**
 * DOC: Flags of IOMMU_TEST_OP_ACCESS_PAGES
 *
 * @MOCK_FLAGS_ACCESS_WRITE: pin for writing.
 * @MOCK_FLAGS_ACCESS_SYZ: the 64-bit IOVA field holds two __u32, an area
 *	index then an offset into that area, instead of an IOVA; this lets a
 *	fuzzer that cannot know IOVAs reach mapped ones.  Self-test kernels
 *	also honour it in IOMMU_IOAS_COPY's flags, for the source IOVA.
 */
enum {
	MOCK_FLAGS_ACCESS_WRITE = 1 << 0,
	MOCK_FLAGS_ACCESS_SYZ = 1 << 16,
};

/**
 * DOC: Flags of IOMMU_TEST_OP_ACCESS_RW
 *
 * @MOCK_ACCESS_RW_WRITE: copy from the user buffer to the IOVAs; without
 *	it, from the IOVAs to the user buffer.
 * @MOCK_ACCESS_RW_SLOW_PATH: take the page-by-page copy path even where a
 *	faster one exists.  Bit 1 is not used.
 */
enum {
	MOCK_ACCESS_RW_WRITE = 1 << 0,
	MOCK_ACCESS_RW_SLOW_PATH = 1 << 2,
};

/**
 * DOC: Flags of IOMMU_TEST_OP_CREATE_ACCESS
 *
 * @MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES: the access will pin pages, so
 *	it must be told (and must unpin) when the IOVAs it holds are unmapped.
 */
enum {
	MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES = 1 << 0,
};

/**
 * DOC: Mock device flags (IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS)
 *
 * @MOCK_FLAGS_DEVICE_NO_DIRTY: the device's IOMMU cannot track dirty pages.
 * @MOCK_FLAGS_DEVICE_PASID: the device supports PASIDs, MOCK_PASID_WIDTH
 *	bits wide.
 *
 * @MOCK_FLAGS_DEVICE_HUGE_IOVA: the device's mock domains also take
 *	MOCK_HUGE_PAGE_SIZE pages.  Newer upstream kernels made huge pages a
 *	page table format (MOCK_IOMMUPT_HUGE) and refuse this bit; iommufd-dkms
 *	keeps accepting it, so that suites written for the kernels Debian
 *	ships (whose own kselftest passes it) still build and run.
 */
enum {
	MOCK_FLAGS_DEVICE_NO_DIRTY = 1 << 0,
	MOCK_FLAGS_DEVICE_HUGE_IOVA = 1 << 1,
	MOCK_FLAGS_DEVICE_PASID = 1 << 2,
};

/**
 * DOC: Mock caches of nested domains and devices
 *
 * @MOCK_NESTED_DOMAIN_IOTLB_ID_MAX: highest IOTLB entry index of a mock
 *	nested domain.
 * @MOCK_NESTED_DOMAIN_IOTLB_NUM: number of those entries.
 * @MOCK_DEV_CACHE_ID_MAX: highest cache entry index of a mock device.
 * @MOCK_DEV_CACHE_NUM: number of those entries.
 */
enum {
	MOCK_NESTED_DOMAIN_IOTLB_ID_MAX = 3,
	MOCK_NESTED_DOMAIN_IOTLB_NUM = 4,
};

enum {
	MOCK_DEV_CACHE_ID_MAX = 3,
	MOCK_DEV_CACHE_NUM = 4,
};

/* A PASID the PASID replace test keeps for itself. */
#define IOMMU_TEST_PASID_RESERVED 1024

/**
 * struct iommu_test_cmd - ioctl(IOMMU_TEST_CMD)
 * @size: (in) sizeof(struct iommu_test_cmd)
 * @op: (in) one of the IOMMU_TEST_OP_* values
 * @id: (in) the object the op works on; what kind of object depends on @op
 *      (an IOAS, a HWPT, a mock device's stdev_id, an access file
 *      descriptor); unused by some ops
 * @__reserved: must be 0
 * @add_reserved: IOMMU_TEST_OP_ADD_RESERVED
 * @add_reserved.start: (in) first IOVA of the range
 * @add_reserved.length: (in) length of the range in bytes, not 0
 * @mock_domain: IOMMU_TEST_OP_MOCK_DOMAIN
 * @mock_domain.out_stdev_id: (out) ID of the mock device object;
 *                            IOMMU_DESTROY of it unplugs the device
 * @mock_domain.out_hwpt_id: (out) ID of the HWPT the device got attached to
 * @mock_domain.out_idev_id: (out) ID of the device as bound to the iommufd,
 *                           usable wherever the regular ABI takes a dev_id
 * @mock_domain_flags: IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS
 * @mock_domain_flags.out_stdev_id: (out) as @mock_domain.out_stdev_id
 * @mock_domain_flags.out_hwpt_id: (out) as @mock_domain.out_hwpt_id
 * @mock_domain_flags.out_idev_id: (out) as @mock_domain.out_idev_id
 * @mock_domain_flags.dev_flags: (in) a combination of MOCK_FLAGS_DEVICE_*
 * @mock_domain_replace: IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE
 * @mock_domain_replace.pt_id: (in) the IOAS or HWPT to move the device to;
 *                             (out) the HWPT it is now attached to
 * @check_map: IOMMU_TEST_OP_MD_CHECK_MAP
 * @check_map.iova: (in) first IOVA to check, MOCK_PAGE_SIZE aligned
 * @check_map.length: (in) bytes to check, a multiple of MOCK_PAGE_SIZE
 * @check_map.uptr: (in) user address the IOVA range must translate to,
 *                  MOCK_PAGE_SIZE aligned
 * @check_refs: IOMMU_TEST_OP_MD_CHECK_REFS
 * @check_refs.length: (in) bytes to check, a multiple of the CPU page size
 * @check_refs.uptr: (in) page-aligned user address of the buffer
 * @check_refs.refs: (in) how many times each page must be pinned (0 once
 *                   everything is unmapped)
 * @create_access: IOMMU_TEST_OP_CREATE_ACCESS
 * @create_access.out_access_fd: (out) file descriptor of the new access;
 *                               closing it destroys the access
 * @create_access.flags: (in) a combination of MOCK_FLAGS_ACCESS_CREATE_*
 * @destroy_access_pages: IOMMU_TEST_OP_DESTROY_ACCESS_PAGES
 * @destroy_access_pages.access_pages_id: (in) ID returned by
 *                                        IOMMU_TEST_OP_ACCESS_PAGES
 * @access_pages: IOMMU_TEST_OP_ACCESS_PAGES
 * @access_pages.flags: (in) a combination of MOCK_FLAGS_ACCESS_WRITE and
 *                      MOCK_FLAGS_ACCESS_SYZ
 * @access_pages.out_access_pages_id: (out) ID of the pinned range, for
 *                                    IOMMU_TEST_OP_DESTROY_ACCESS_PAGES
 * @access_pages.iova: (in) first IOVA to pin
 * @access_pages.length: (in) bytes to pin
 * @access_pages.uptr: (in) user address whose pages the range must hold
 * @access_rw: IOMMU_TEST_OP_ACCESS_RW
 * @access_rw.iova: (in) first IOVA to read or write, any alignment
 * @access_rw.length: (in) bytes to copy
 * @access_rw.uptr: (in) user buffer to copy from or to
 * @access_rw.flags: (in) a combination of MOCK_ACCESS_RW_*
 * @memory_limit: IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT
 * @memory_limit.limit: (in) the cap in bytes; upstream's default is 65536
 *                      and values below 12 are rejected
 * @access_replace_ioas: IOMMU_TEST_OP_ACCESS_REPLACE_IOAS
 * @access_replace_ioas.ioas_id: (in) the IOAS the access moves to
 * @dirty: IOMMU_TEST_OP_DIRTY
 * @dirty.flags: (in) not used; set it to 0
 * @dirty.iova: (in) first IOVA of the range
 * @dirty.length: (in) length of the range in bytes
 * @dirty.page_size: (in) bytes covered by one bit of the bitmap
 * @dirty.uptr: (in) user pointer to a bitmap: bit n set marks the n-th
 *              page of the range dirty
 * @dirty.out_nr_dirty: (out) how many mock page table entries were marked
 * @check_iotlb: IOMMU_TEST_OP_MD_CHECK_IOTLB
 * @check_iotlb.id: (in) entry index, up to MOCK_NESTED_DOMAIN_IOTLB_ID_MAX
 * @check_iotlb.iotlb: (in) the value the entry must hold
 * @trigger_iopf: IOMMU_TEST_OP_TRIGGER_IOPF
 * @trigger_iopf.dev_id: (in) the mock device (its idev_id) that faults
 * @trigger_iopf.pasid: (in) PASID of the faulting request
 * @trigger_iopf.grpid: (in) page request group of the fault
 * @trigger_iopf.perm: (in) a combination of IOMMU_PGFAULT_PERM_*
 * @trigger_iopf.addr: (in) faulting address
 * @check_dev_cache: IOMMU_TEST_OP_DEV_CHECK_CACHE
 * @check_dev_cache.id: (in) entry index, up to MOCK_DEV_CACHE_ID_MAX
 * @check_dev_cache.cache: (in) the value the entry must hold
 * @trigger_vevent: IOMMU_TEST_OP_TRIGGER_VEVENT
 * @trigger_vevent.dev_id: (in) the mock device (its idev_id) the event is
 *                         about
 * @pasid_attach: IOMMU_TEST_OP_PASID_ATTACH
 * @pasid_attach.pasid: (in) the PASID
 * @pasid_attach.pt_id: (in) IOAS or HWPT to attach it to
 * @pasid_replace: IOMMU_TEST_OP_PASID_REPLACE
 * @pasid_replace.pasid: (in) the PASID
 * @pasid_replace.pt_id: (in) IOAS or HWPT to attach it to instead
 * @pasid_detach: IOMMU_TEST_OP_PASID_DETACH
 * @pasid_detach.pasid: (in) the PASID
 * @pasid_check: IOMMU_TEST_OP_PASID_CHECK_HWPT
 * @pasid_check.pasid: (in) the PASID
 * @pasid_check.hwpt_id: (in) the HWPT it must be attached to, 0 for none
 * @dmabuf_get: IOMMU_TEST_OP_DMABUF_GET
 * @dmabuf_get.length: (in) size of the DMA-buf in bytes
 * @dmabuf_get.open_flags: (in) flags of the new file descriptor (O_CLOEXEC)
 * @dmabuf_revoke: IOMMU_TEST_OP_DMABUF_REVOKE
 * @dmabuf_revoke.dmabuf_fd: (in) a file descriptor of a mock DMA-buf
 * @dmabuf_revoke.revoked: (in) 1 to revoke it, 0 to make it usable again
 * @last: end marker; its end is the smallest size the kernel accepts
 *
 * One ioctl carries every self-test operation: @op picks it and the union
 * holds its arguments.  The union is as large as its largest member
 * (@dirty), so every op passes the same @size.
 */
struct iommu_test_cmd {
	__u32 size;
	__u32 op;
	__u32 id;
	__u32 __reserved;
#ifdef __GNUC__
	/*
	 * Unnamed unions are standard C only from C11, and C++ does not
	 * allow the unnamed structure types this one declares: keep
	 * -pedantic quiet in both.
	 */
	__extension__
#endif
	union {
		struct {
			__aligned_u64 start;
			__aligned_u64 length;
		} add_reserved;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
		} mock_domain;
		struct {
			__u32 out_stdev_id;
			__u32 out_hwpt_id;
			__u32 out_idev_id;
			__u32 dev_flags;
		} mock_domain_flags;
		struct {
			__u32 pt_id;
		} mock_domain_replace;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} check_map;
		struct {
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 refs;
		} check_refs;
		struct {
			__u32 out_access_fd;
			__u32 flags;
		} create_access;
		struct {
			__u32 access_pages_id;
		} destroy_access_pages;
		struct {
			__u32 flags;
			__u32 out_access_pages_id;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
		} access_pages;
		struct {
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 uptr;
			__u32 flags;
		} access_rw;
		struct {
			__u32 limit;
		} memory_limit;
		struct {
			__u32 ioas_id;
		} access_replace_ioas;
		struct {
			__u32 flags;
			__aligned_u64 iova;
			__aligned_u64 length;
			__aligned_u64 page_size;
			__aligned_u64 uptr;
			__aligned_u64 out_nr_dirty;
		} dirty;
		struct {
			__u32 id;
			__u32 iotlb;
		} check_iotlb;
		struct {
			__u32 dev_id;
			__u32 pasid;
			__u32 grpid;
			__u32 perm;
			/* Plain __u64, as upstream: already at an 8-byte offset. */
			__u64 addr;
		} trigger_iopf;
		struct {
			__u32 id;
			__u32 cache;
		} check_dev_cache;
		struct {
			__u32 dev_id;
		} trigger_vevent;
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_attach;
		struct {
			__u32 pasid;
			__u32 pt_id;
		} pasid_replace;
		struct {
			__u32 pasid;
		} pasid_detach;
		struct {
			__u32 pasid;
			__u32 hwpt_id;
		} pasid_check;
		struct {
			__u32 length;
			__u32 open_flags;
		} dmabuf_get;
		struct {
			__s32 dmabuf_fd;
			__u32 revoked;
		} dmabuf_revoke;
	};
	__u32 last;
};

/* PASIDs of mock devices created with MOCK_FLAGS_DEVICE_PASID are 20 bits. */
#define MOCK_PASID_WIDTH 20

/*
 * IOMMU_GET_HW_INFO on a mock device reports this data type (it stays clear
 * of every enum iommu_hw_info_type value) with struct iommu_test_hw_info.
 */
#define IOMMU_HW_INFO_TYPE_SELFTEST 0xfeedbeef
#define IOMMU_HW_INFO_SELFTEST_REGVAL 0xdeadbeef

/**
 * struct iommu_test_hw_info - IOMMU_GET_HW_INFO data of a mock device
 *                             (IOMMU_HW_INFO_TYPE_SELFTEST)
 * @flags: (out) always 0
 * @test_reg: (out) a made-up register: always IOMMU_HW_INFO_SELFTEST_REGVAL
 */
struct iommu_test_hw_info {
	__u32 flags;
	__u32 test_reg;
};

/*
 * IOMMU_HWPT_ALLOC data type of the mock driver (stays clear of every enum
 * iommu_hwpt_data_type value), and the values mock caches start with.
 */
#define IOMMU_HWPT_DATA_SELFTEST 0xdead
#define IOMMU_TEST_IOTLB_DEFAULT 0xbadbeef
#define IOMMU_TEST_DEV_CACHE_DEFAULT 0xbaddad

/**
 * struct iommu_hwpt_selftest - IOMMU_HWPT_ALLOC data of the mock driver
 *                              (IOMMU_HWPT_DATA_SELFTEST)
 * @iotlb: (in) for a nested HWPT: the value every entry of its mock IOTLB
 *         starts with, normally IOMMU_TEST_IOTLB_DEFAULT
 * @pagetable_type: (in) for a paging HWPT: a MOCK_IOMMUPT_* format
 */
struct iommu_hwpt_selftest {
	__u32 iotlb;
	__u32 pagetable_type;
};

/*
 * IOMMU_HWPT_INVALIDATE data type of mock nested HWPTs, and a second value
 * that is deliberately unknown to the mock driver, to test its refusal.
 */
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_HWPT_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/* Invalidate every entry; the entry index is then ignored. */
#define IOMMU_TEST_INVALIDATE_FLAG_ALL (1 << 0)

/**
 * struct iommu_hwpt_invalidate_selftest - one invalidation request for a
 *                                         mock nested HWPT
 *                                         (IOMMU_HWPT_INVALIDATE_DATA_SELFTEST)
 * @flags: (in) 0 or IOMMU_TEST_INVALIDATE_FLAG_ALL
 * @iotlb_id: (in) the IOTLB entry to invalidate, up to
 *            MOCK_NESTED_DOMAIN_IOTLB_ID_MAX
 */
struct iommu_hwpt_invalidate_selftest {
	__u32 flags;
	__u32 iotlb_id;
};

/* IOMMU_VIOMMU_ALLOC type of the mock vIOMMU. */
#define IOMMU_VIOMMU_TYPE_SELFTEST 0xdeadbeef

/**
 * struct iommu_viommu_selftest - IOMMU_VIOMMU_ALLOC data of the mock vIOMMU
 *                                (IOMMU_VIOMMU_TYPE_SELFTEST)
 * @in_data: (in) any value
 * @out_data: (out) @in_data echoed back, proving the data went both ways
 * @out_mmap_offset: (out) offset to pass to mmap() on the iommufd to map the
 *                   mock vIOMMU's page
 * @out_mmap_length: (out) length to pass to that mmap()
 */
struct iommu_viommu_selftest {
	__u32 in_data;
	__u32 out_data;
	__aligned_u64 out_mmap_offset;
	__aligned_u64 out_mmap_length;
};

/*
 * IOMMU_HWPT_INVALIDATE data type for a mock vIOMMU, and a value the mock
 * driver deliberately does not know.
 */
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST 0xdeadbeef
#define IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST_INVALID 0xdadbeef

/**
 * struct iommu_viommu_invalidate_selftest - one invalidation request for a
 *                                           mock vIOMMU
 *                                           (IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
 * @flags: (in) 0 or IOMMU_TEST_INVALIDATE_FLAG_ALL
 * @vdev_id: (in) virtual ID of the device whose cache is invalidated
 * @cache_id: (in) the cache entry to invalidate, up to MOCK_DEV_CACHE_ID_MAX
 */
struct iommu_viommu_invalidate_selftest {
	__u32 flags;
	__u32 vdev_id;
	__u32 cache_id;
};

/* IOMMU_VEVENTQ_ALLOC type of the mock vIOMMU's event queue. */
#define IOMMU_VEVENTQ_TYPE_SELFTEST 0xbeefbeef

/**
 * struct iommu_viommu_event_selftest - an event of the mock vIOMMU, read
 *                                      after its struct iommufd_vevent_header
 * @virt_id: virtual ID of the device named by IOMMU_TEST_OP_TRIGGER_VEVENT
 */
struct iommu_viommu_event_selftest {
	__u32 virt_id;
};

/* IOMMU_HW_QUEUE_ALLOC type of the mock vIOMMU, and how many it allows. */
#define IOMMU_HW_QUEUE_TYPE_SELFTEST 0xdeadbeef
#define IOMMU_TEST_HW_QUEUE_MAX 2

#endif /* _UAPI_IOMMUFD_TEST_H */
