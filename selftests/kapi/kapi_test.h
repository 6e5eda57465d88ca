/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * iommufd_kapi_test: a kernel module that calls the in-kernel iommufd API
 * (include/linux/iommufd.h) the way VFIO does, driven from user space by
 * the guest suite selftests/iommufd/kapi.c.  One open file of its device
 * is one consumer: at most one bound device and one access, both undone
 * when the file is closed.
 */
#ifndef SELFTESTS_KAPI_TEST_H
#define SELFTESTS_KAPI_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define KAPI_TEST_NODE "/dev/iommufd_kapi_test"

/**
 * enum kapi_test_op - what one KAPI_TEST_CMD calls
 * @KAPI_TEST_BIND: iommufd_ctx_from_fd(@fd), then iommufd_device_bind()
 *                  of the PCI device @name; @out_id = its dev_id
 * @KAPI_TEST_UNBIND: iommufd_device_unbind(), then iommufd_ctx_put()
 * @KAPI_TEST_ATTACH: iommufd_device_attach(@id); @out_id = the HWPT
 * @KAPI_TEST_REPLACE: iommufd_device_replace(@id); @out_id = the HWPT
 * @KAPI_TEST_DETACH: iommufd_device_detach()
 * @KAPI_TEST_DEVICE_INFO: @out_id = iommufd_device_to_id(), @out_flag =
 *                         whether iommufd_device_to_ictx() is @fd's context
 * @KAPI_TEST_HAS_GROUP: @out_flag = iommufd_ctx_has_group() of @fd's
 *                       context and the IOMMU group of device @name
 * @KAPI_TEST_CTX_FROM_FILE: iommufd_ctx_from_file() of @fd's file (and
 *                           iommufd_ctx_put()): its errno, or 0
 * @KAPI_TEST_ACCESS_CREATE: iommufd_access_create() on @fd's context, with
 *                           needs_pin_pages if @flags has KAPI_TEST_PIN;
 *                           @out_id = its id
 * @KAPI_TEST_ACCESS_DESTROY: drop every pin (unless @flags has
 *                            KAPI_TEST_KEEP_PINS: the API must ask for
 *                            them), iommufd_access_destroy()
 * @KAPI_TEST_ACCESS_ATTACH: iommufd_access_attach(@id)
 * @KAPI_TEST_ACCESS_REPLACE: iommufd_access_replace(@id)
 * @KAPI_TEST_ACCESS_DETACH: iommufd_access_detach()
 * @KAPI_TEST_ACCESS_PIN: iommufd_access_pin_pages(@iova, @length), writable
 *                        if @flags has KAPI_TEST_WRITE; the module keeps
 *                        the pin until UNPIN or an unmap asks for it
 * @KAPI_TEST_ACCESS_UNPIN: iommufd_access_unpin_pages() of a kept pin
 * @KAPI_TEST_ACCESS_RW: iommufd_access_rw() of @length bytes at @iova,
 *                       from (KAPI_TEST_WRITE) or to user memory @uptr;
 *                       KAPI_TEST_KTHREAD adds IOMMUFD_ACCESS_RW_KTHREAD
 * @KAPI_TEST_ACCESS_STATE: the unmap callback's record (below)
 * @KAPI_TEST_COMPAT_IOAS_CREATE: iommufd_vfio_compat_ioas_create()
 * @KAPI_TEST_COMPAT_IOAS_GET_ID: iommufd_vfio_compat_ioas_get_id();
 *                                @out_id = the IOAS
 */
enum kapi_test_op {
	KAPI_TEST_BIND = 1,
	KAPI_TEST_UNBIND,
	KAPI_TEST_ATTACH,
	KAPI_TEST_REPLACE,
	KAPI_TEST_DETACH,
	KAPI_TEST_DEVICE_INFO,
	KAPI_TEST_HAS_GROUP,
	KAPI_TEST_CTX_FROM_FILE,
	KAPI_TEST_ACCESS_CREATE,
	KAPI_TEST_ACCESS_DESTROY,
	KAPI_TEST_ACCESS_ATTACH,
	KAPI_TEST_ACCESS_REPLACE,
	KAPI_TEST_ACCESS_DETACH,
	KAPI_TEST_ACCESS_PIN,
	KAPI_TEST_ACCESS_UNPIN,
	KAPI_TEST_ACCESS_RW,
	KAPI_TEST_ACCESS_STATE,
	KAPI_TEST_COMPAT_IOAS_CREATE,
	KAPI_TEST_COMPAT_IOAS_GET_ID,
};

#define KAPI_TEST_PIN		(1U << 0)
#define KAPI_TEST_WRITE		(1U << 1)
#define KAPI_TEST_KTHREAD	(1U << 2)
#define KAPI_TEST_KEEP_PINS	(1U << 3)

/**
 * struct kapi_test_cmd - the argument of KAPI_TEST_CMD
 * @op: enum kapi_test_op
 * @fd: a /dev/iommu descriptor, for the ops that name a context
 * @id: a pt_id or an IOAS id, by op
 * @flags: KAPI_TEST_*
 * @iova: first IOVA
 * @length: bytes
 * @uptr: user buffer of KAPI_TEST_ACCESS_RW
 * @name: a PCI device name, "0000:00:03.0"
 * @out_id: an id the call returned
 * @out_flag: a yes/no the call returned
 * @unmap_calls: ->unmap callbacks received by the access so far
 * @unmap_iova: the range of the last one
 * @unmap_length: its length
 * @pinned_pages: pages the module holds pinned now
 * @first_byte: the first byte of the first page of the last pin, read
 *              through the pinned page itself
 */
struct kapi_test_cmd {
	__u32 op;
	__s32 fd;
	__u32 id;
	__u32 flags;
	__u64 iova;
	__u64 length;
	__u64 uptr;
	char name[32];
	__u32 out_id;
	__u32 out_flag;
	__u64 unmap_calls;
	__u64 unmap_iova;
	__u64 unmap_length;
	__u64 pinned_pages;
	__u32 first_byte;
	__u32 __reserved;
};

#define KAPI_TEST_CMD _IOWR(0xBE, 0x70, struct kapi_test_cmd)

#endif /* SELFTESTS_KAPI_TEST_H */
