/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * User ABI of /dev/iommu.  Every ioctl number, structure layout and
 * constant below is binary compatible with the upstream Linux header of the
 * same name; the comments are our own.  The include guard is deliberately
 * the upstream one: this header and the kernel's copy describe the same ABI
 * and must never both be expanded in one translation unit.
 */
#ifndef _UAPI_IOMMUFD_H
#define _UAPI_IOMMUFD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Very old libc headers may lack these helpers; the layout is identical. */
#ifndef __aligned_u64
#define __aligned_u64 __u64 __attribute__((aligned(8)))
#endif
#ifndef __aligned_le64
#define __aligned_le64 __le64 __attribute__((aligned(8)))
#endif

/*
 * All iommufd ioctls share the type ';' and carry no size or direction in
 * the number (_IO): the first __u32 of every argument structure is its size.
 */
#define IOMMUFD_TYPE (';')

/**
 * DOC: How every iommufd ioctl works
 *
 * The argument is a pointer to a structure whose first member, a __u32, holds
 * the number of bytes the caller passes.  The kernel copies that many bytes:
 * a shorter structure (from an older program) has its missing tail treated as
 * zero, a longer one (from a newer program) is accepted only if every byte
 * beyond what this kernel knows is zero.  So a structure may only grow at its
 * end, and a new field's zero value must mean "old behaviour".
 *
 * Fields named __reserved are padding that keeps the layout identical on 32
 * and 64 bit and leaves room for later use: the caller must clear them.
 * Fields named out_* are written by the kernel; all others are read by it
 * unless their description says otherwise.
 *
 * Common errors:
 *
 *  - ENOTTY: this ioctl number is unknown to the kernel;
 *  - E2BIG: the ioctl is known, but non-zero bytes follow the part of the
 *    structure the kernel understands;
 *  - EOPNOTSUPP: the structure is understood, but a flag, type or option it
 *    names is not supported here;
 *  - EINVAL: a field holds a value that is invalid for this call;
 *  - ENOENT: an object ID or an IOVA range does not exist;
 *  - ENOMEM: the kernel ran out of memory;
 *  - EOVERFLOW: an address or length computation would wrap.
 *
 * Individual ioctls document further error codes.
 */
enum {
	IOMMUFD_CMD_BASE = 0x80,
	IOMMUFD_CMD_DESTROY = IOMMUFD_CMD_BASE,
	IOMMUFD_CMD_IOAS_ALLOC = 0x81,
	IOMMUFD_CMD_IOAS_ALLOW_IOVAS = 0x82,
	IOMMUFD_CMD_IOAS_COPY = 0x83,
	IOMMUFD_CMD_IOAS_IOVA_RANGES = 0x84,
	IOMMUFD_CMD_IOAS_MAP = 0x85,
	IOMMUFD_CMD_IOAS_UNMAP = 0x86,
	IOMMUFD_CMD_OPTION = 0x87,
	IOMMUFD_CMD_VFIO_IOAS = 0x88,
	IOMMUFD_CMD_HWPT_ALLOC = 0x89,
	IOMMUFD_CMD_GET_HW_INFO = 0x8a,
	IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING = 0x8b,
	IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP = 0x8c,
	IOMMUFD_CMD_HWPT_INVALIDATE = 0x8d,
	IOMMUFD_CMD_FAULT_QUEUE_ALLOC = 0x8e,
	IOMMUFD_CMD_IOAS_MAP_FILE = 0x8f,
	IOMMUFD_CMD_VIOMMU_ALLOC = 0x90,
	IOMMUFD_CMD_VDEVICE_ALLOC = 0x91,
	IOMMUFD_CMD_IOAS_CHANGE_PROCESS = 0x92,
	IOMMUFD_CMD_VEVENTQ_ALLOC = 0x93,
	IOMMUFD_CMD_HW_QUEUE_ALLOC = 0x94,
	IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA = 0x95,
};

/**
 * struct iommu_destroy - ioctl(IOMMU_DESTROY)
 * @size: (in) sizeof(struct iommu_destroy)
 * @id: (in) ID of the object to free; any kind of object that user space
 *      created (IOAS, HWPT, fault queue, vIOMMU, ...) may be named
 *
 * Drops the object created under @id.  Fails with EBUSY while another object
 * still depends on it (for instance a HWPT that a device is attached to).
 */
struct iommu_destroy {
	__u32 size;
	__u32 id;
};
#define IOMMU_DESTROY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_DESTROY)

/**
 * struct iommu_ioas_alloc - ioctl(IOMMU_IOAS_ALLOC)
 * @size: (in) sizeof(struct iommu_ioas_alloc)
 * @flags: (in) no flags are defined yet; must be 0
 * @out_ioas_id: (out) ID of the new I/O address space
 *
 * Creates an empty IO address space (IOAS): a table that maps IO virtual
 * addresses (IOVAs) to user memory, which devices and HWPTs can then use.
 */
struct iommu_ioas_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_ioas_id;
};
#define IOMMU_IOAS_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOC)

/**
 * struct iommu_iova_range - one closed interval of IOVA
 * @start: first IOVA of the interval
 * @last: last IOVA of the interval, included in it (so a full 64-bit space
 *        is start 0, last U64_MAX)
 *
 * Element of the arrays used by IOMMU_IOAS_IOVA_RANGES and
 * IOMMU_IOAS_ALLOW_IOVAS.
 */
struct iommu_iova_range {
	__aligned_u64 start;
	__aligned_u64 last;
};

/**
 * struct iommu_ioas_iova_ranges - ioctl(IOMMU_IOAS_IOVA_RANGES)
 * @size: (in) sizeof(struct iommu_ioas_iova_ranges)
 * @ioas_id: (in) the IOAS to query
 * @num_iovas: (in) number of entries @allowed_iovas has room for;
 *             (out) number of ranges the IOAS currently has
 * @__reserved: must be 0
 * @allowed_iovas: (in) user pointer to an array of struct iommu_iova_range
 *                 that the kernel fills
 * @out_iova_alignment: (out) required alignment, in bytes, of the IOVA and
 *                      of the length given to IOMMU_IOAS_MAP and
 *                      IOMMU_IOAS_COPY
 *
 * Reports which IOVAs may currently be mapped in the IOAS.  A new IOAS
 * allows the whole space; every attached device removes what its IOMMU
 * cannot translate or reserves (for example an MSI window), and detaching a
 * device may give it back, so a program should ask again after every attach
 * or detach.
 *
 * If @num_iovas is too small the call fails with EMSGSIZE and @num_iovas
 * holds the count needed; the caller can grow the array and retry.
 * @out_iova_alignment is at least 1 and never more than PAGE_SIZE.
 */
struct iommu_ioas_iova_ranges {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
	__aligned_u64 out_iova_alignment;
};
#define IOMMU_IOAS_IOVA_RANGES _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_IOVA_RANGES)

/**
 * struct iommu_ioas_allow_iovas - ioctl(IOMMU_IOAS_ALLOW_IOVAS)
 * @size: (in) sizeof(struct iommu_ioas_allow_iovas)
 * @ioas_id: (in) the IOAS to restrict
 * @num_iovas: (in) number of entries in @allowed_iovas (0 removes the
 *             restriction)
 * @__reserved: must be 0
 * @allowed_iovas: (in) user pointer to an array of struct iommu_iova_range
 *
 * Replaces the IOAS's list of allowed ranges with the given one.  From then
 * on the kernel guarantees these ranges stay usable: attaching a device whose
 * IOMMU cannot reach part of them fails instead of narrowing the IOAS, and
 * automatic IOVA allocation by IOMMU_IOAS_MAP picks addresses only inside
 * them.  The call itself fails if the IOAS is already narrower than the
 * requested ranges.
 */
struct iommu_ioas_allow_iovas {
	__u32 size;
	__u32 ioas_id;
	__u32 num_iovas;
	__u32 __reserved;
	__aligned_u64 allowed_iovas;
};
#define IOMMU_IOAS_ALLOW_IOVAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_ALLOW_IOVAS)

/**
 * enum iommufd_ioas_map_flags - flags of IOMMU_IOAS_MAP, _MAP_FILE and _COPY
 * @IOMMU_IOAS_MAP_FIXED_IOVA: the caller chooses the IOVA; without it the
 *                             kernel picks a free, suitably aligned one
 * @IOMMU_IOAS_MAP_WRITEABLE: devices may write through the mapping
 * @IOMMU_IOAS_MAP_READABLE: devices may read through the mapping
 */
enum iommufd_ioas_map_flags {
	IOMMU_IOAS_MAP_FIXED_IOVA = 1 << 0,
	IOMMU_IOAS_MAP_WRITEABLE = 1 << 1,
	IOMMU_IOAS_MAP_READABLE = 1 << 2,
};

/**
 * struct iommu_ioas_map - ioctl(IOMMU_IOAS_MAP)
 * @size: (in) sizeof(struct iommu_ioas_map)
 * @flags: (in) a combination of enum iommufd_ioas_map_flags
 * @ioas_id: (in) the IOAS to add the mapping to
 * @__reserved: must be 0
 * @user_va: (in) start of the process memory to map
 * @length: (in) number of bytes to map
 * @iova: (in) with IOMMU_IOAS_MAP_FIXED_IOVA, where to map;
 *        (out) otherwise, the IOVA the kernel chose
 *
 * Pins the user memory and maps it at an IOVA of the IOAS, in every HWPT
 * that uses the IOAS.  Pinned pages are charged to RLIMIT_MEMLOCK as set by
 * IOMMU_OPTION_RLIMIT_MODE.  A fixed IOVA range must be entirely free: an
 * existing mapping is never replaced.
 */
struct iommu_ioas_map {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 user_va;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP)

/**
 * struct iommu_ioas_noiommu_get_pa - ioctl(IOMMU_IOAS_NOIOMMU_GET_PA)
 * @size: (in) sizeof(struct iommu_ioas_noiommu_get_pa)
 * @flags: (in) no flags are defined yet; must be 0
 * @ioas_id: (in) the IOAS to look the IOVA up in
 * @__reserved: must be 0
 * @iova: (in) the IOVA to translate
 * @length: (in) the most bytes, starting at @iova, the caller is interested
 *          in; must not be 0;
 *          (out) how many bytes from @out_phys on are physically contiguous,
 *          never more than the value passed in
 * @out_phys: (out) the physical address the memory at @iova is pinned at
 *
 * Only for devices used without any IOMMU translation (VFIO's "no-IOMMU"
 * mode): such a device sees physical addresses, so the program has to learn
 * where the pages it mapped into the IOAS actually are.  It has no use for
 * an IOAS whose devices translate through a real IOMMU.
 */
struct iommu_ioas_noiommu_get_pa {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 out_phys;
};
#define IOMMU_IOAS_NOIOMMU_GET_PA \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA)

/**
 * struct iommu_ioas_map_file - ioctl(IOMMU_IOAS_MAP_FILE)
 * @size: (in) sizeof(struct iommu_ioas_map_file)
 * @flags: (in) a combination of enum iommufd_ioas_map_flags
 * @ioas_id: (in) the IOAS to add the mapping to
 * @fd: (in) file descriptor of the memory to map (a memfd; newer kernels
 *      also take a dma-buf)
 * @start: (in) offset in bytes into the file where the mapping begins
 * @length: (in) number of bytes to map
 * @iova: (in) with IOMMU_IOAS_MAP_FIXED_IOVA, where to map;
 *        (out) otherwise, the IOVA the kernel chose
 *
 * Like IOMMU_IOAS_MAP, but the memory is named by file and offset rather
 * than by a virtual address of the calling process.  Only such mappings can
 * be handed to another process with IOMMU_IOAS_CHANGE_PROCESS.
 */
struct iommu_ioas_map_file {
	__u32 size;
	__u32 flags;
	__u32 ioas_id;
	__s32 fd;
	__aligned_u64 start;
	__aligned_u64 length;
	__aligned_u64 iova;
};
#define IOMMU_IOAS_MAP_FILE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_MAP_FILE)

/**
 * struct iommu_ioas_copy - ioctl(IOMMU_IOAS_COPY)
 * @size: (in) sizeof(struct iommu_ioas_copy)
 * @flags: (in) a combination of enum iommufd_ioas_map_flags
 * @dst_ioas_id: (in) the IOAS that receives the new mapping
 * @src_ioas_id: (in) the IOAS that already holds the memory
 * @length: (in) number of bytes to copy
 * @dst_iova: (in) with IOMMU_IOAS_MAP_FIXED_IOVA, where to map in the
 *            destination; (out) otherwise, the IOVA the kernel chose
 * @src_iova: (in) where the memory is mapped in the source IOAS
 *
 * Maps memory that is already mapped in one IOAS into another one without
 * going back to the process's page tables: the pages are shared and pinned
 * (and charged) only once.  The source range must be exactly a range that
 * was created by one IOMMU_IOAS_MAP call.
 */
struct iommu_ioas_copy {
	__u32 size;
	__u32 flags;
	__u32 dst_ioas_id;
	__u32 src_ioas_id;
	__aligned_u64 length;
	__aligned_u64 dst_iova;
	__aligned_u64 src_iova;
};
#define IOMMU_IOAS_COPY _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_COPY)

/**
 * struct iommu_ioas_unmap - ioctl(IOMMU_IOAS_UNMAP)
 * @size: (in) sizeof(struct iommu_ioas_unmap)
 * @ioas_id: (in) the IOAS to remove mappings from
 * @iova: (in) first IOVA to unmap
 * @length: (in) number of bytes to unmap; (out) number of bytes that were
 *          actually unmapped
 *
 * Removes every mapping that lies inside the range and unpins its memory.
 * A mapping that only partly overlaps the range is not split: the call fails
 * instead.  iova 0 with length U64_MAX empties the whole IOAS.
 */
struct iommu_ioas_unmap {
	__u32 size;
	__u32 ioas_id;
	__aligned_u64 iova;
	__aligned_u64 length;
};
#define IOMMU_IOAS_UNMAP _IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_UNMAP)

/**
 * enum iommufd_option - options reachable through IOMMU_OPTION
 * @IOMMU_OPTION_RLIMIT_MODE: how pinned pages are charged against
 *    RLIMIT_MEMLOCK: 0 (the default) charges the user, 1 charges the process
 *    that pins.  Applies to the whole iommufd (object_id must be 0); changing
 *    it needs CAP_SYS_RESOURCE and is refused with EBUSY once the iommufd
 *    holds any object.
 * @IOMMU_OPTION_HUGE_PAGES: per IOAS (object_id is the IOAS ID): 1 (the
 *    default) lets physically contiguous pages be mapped with large IOMMU
 *    pages; 0 maps every PAGE_SIZE page on its own, which mostly helps to
 *    test and benchmark.
 */
enum iommufd_option {
	IOMMU_OPTION_RLIMIT_MODE = 0,
	IOMMU_OPTION_HUGE_PAGES = 1,
};

/**
 * enum iommufd_option_ops - what IOMMU_OPTION does with the option
 * @IOMMU_OPTION_OP_SET: store val64 as the option's new value
 * @IOMMU_OPTION_OP_GET: return the option's current value in val64
 */
enum iommufd_option_ops {
	IOMMU_OPTION_OP_SET = 0,
	IOMMU_OPTION_OP_GET = 1,
};

/**
 * struct iommu_option - ioctl(IOMMU_OPTION)
 * @size: (in) sizeof(struct iommu_option)
 * @option_id: (in) one of enum iommufd_option
 * @op: (in) one of enum iommufd_option_ops
 * @__reserved: must be 0
 * @object_id: (in) the object the option belongs to, or 0 for an option of
 *             the whole iommufd
 * @val64: (in) the new value for IOMMU_OPTION_OP_SET;
 *         (out) the current value for IOMMU_OPTION_OP_GET
 *
 * Reads or changes one simple setting of the iommufd or of one of its
 * objects.
 */
struct iommu_option {
	__u32 size;
	__u32 option_id;
	__u16 op;
	__u16 __reserved;
	__u32 object_id;
	__aligned_u64 val64;
};
#define IOMMU_OPTION _IO(IOMMUFD_TYPE, IOMMUFD_CMD_OPTION)

/**
 * enum iommufd_vfio_ioas_op - operations of IOMMU_VFIO_IOAS
 * @IOMMU_VFIO_IOAS_GET: report the IOAS that VFIO compatibility uses
 * @IOMMU_VFIO_IOAS_SET: make the given IOAS the one VFIO compatibility uses
 * @IOMMU_VFIO_IOAS_CLEAR: forget the compatibility IOAS
 */
enum iommufd_vfio_ioas_op {
	IOMMU_VFIO_IOAS_GET = 0,
	IOMMU_VFIO_IOAS_SET = 1,
	IOMMU_VFIO_IOAS_CLEAR = 2,
};

/**
 * struct iommu_vfio_ioas - ioctl(IOMMU_VFIO_IOAS)
 * @size: (in) sizeof(struct iommu_vfio_ioas)
 * @ioas_id: (in) for IOMMU_VFIO_IOAS_SET, the IOAS to use;
 *           (out) for IOMMU_VFIO_IOAS_GET, the IOAS in use
 * @op: (in) one of enum iommufd_vfio_ioas_op
 * @__reserved: must be 0
 *
 * The VFIO type1 container ioctls carry no object ID, so an iommufd opened
 * as a VFIO container serves them from a single "compatibility" IOAS.  This
 * ioctl chooses or reports it.  When a VFIO group is added to the container
 * and none is set, one is created on the spot.  A group keeps the IOAS it
 * started with, and neither SET nor CLEAR destroys an IOAS that was created
 * automatically.
 */
struct iommu_vfio_ioas {
	__u32 size;
	__u32 ioas_id;
	__u16 op;
	__u16 __reserved;
};
#define IOMMU_VFIO_IOAS _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VFIO_IOAS)

/**
 * enum iommufd_hwpt_alloc_flags - flags of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_ALLOC_NEST_PARENT: the new paging HWPT may later serve as the
 *                                stage-2 (parent) of nested HWPTs or of a
 *                                vIOMMU
 * @IOMMU_HWPT_ALLOC_DIRTY_TRACKING: the HWPT must be able to track DMA
 *                                   writes; only devices whose IOMMU can do
 *                                   so may attach to it
 * @IOMMU_HWPT_FAULT_ID_VALID: the fault_id field names a fault queue that
 *                             receives this HWPT's I/O page faults
 * @IOMMU_HWPT_ALLOC_PASID: the HWPT may be attached to PASIDs of a device
 *                          (nothing else may: not an IOAS, whose automatic
 *                          HWPTs never carry the flag).  While a device has
 *                          a PASID attached, whatever its non-PASID side is
 *                          attached to must carry this flag too, and no
 *                          PASID can be attached while it does not.  A
 *                          device without PASIDs uses such a HWPT as any.
 */
enum iommufd_hwpt_alloc_flags {
	IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0,
	IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1,
	IOMMU_HWPT_FAULT_ID_VALID = 1 << 2,
	IOMMU_HWPT_ALLOC_PASID = 1 << 3,
};

/**
 * enum iommu_hwpt_vtd_s1_flags - attributes of a VT-d stage-1 page table
 * @IOMMU_VTD_S1_SRE: supervisor (privileged) requests are allowed
 * @IOMMU_VTD_S1_EAFE: the extended accessed flag is enabled
 * @IOMMU_VTD_S1_WPE: write protection applies to supervisor accesses
 */
enum iommu_hwpt_vtd_s1_flags {
	IOMMU_VTD_S1_SRE = 1 << 0,
	IOMMU_VTD_S1_EAFE = 1 << 1,
	IOMMU_VTD_S1_WPE = 1 << 2,
};

/**
 * struct iommu_hwpt_vtd_s1 - data of a nested Intel VT-d stage-1 HWPT
 *                            (IOMMU_HWPT_DATA_VTD_S1)
 * @flags: (in) a combination of enum iommu_hwpt_vtd_s1_flags
 * @pgtbl_addr: (in) guest physical (stage-2 input) address of the root of
 *              the guest's first-stage page table
 * @addr_width: (in) input address width of that page table, in bits
 * @__reserved: must be 0
 */
struct iommu_hwpt_vtd_s1 {
	__aligned_u64 flags;
	__aligned_u64 pgtbl_addr;
	__u32 addr_width;
	__u32 __reserved;
};

/**
 * struct iommu_hwpt_arm_smmuv3 - data of a nested ARM SMMUv3 HWPT
 *                                (IOMMU_HWPT_DATA_ARM_SMMUV3)
 * @ste: (in) the first two 64-bit words of the guest's Stream Table Entry,
 *       little-endian.  Only these fields are taken from it: word 0 V, Cfg,
 *       S1Fmt, S1ContextPtr, S1CDMax; word 1 EATS, S1DSS, S1CIR, S1COR,
 *       S1CSH, S1STALLD.  Anything else set, or an illegal combination, is
 *       refused with EIO.
 *
 * Cfg selects abort, bypass (translate exactly as the parent does) or
 * stage-1 translation through the guest's context descriptor table, which
 * lives in guest memory translated by the parent.  For stage-1 the device
 * needs a vDEVICE (its virtual StreamID) before it attaches, since
 * invalidations and events are routed by that ID; for abort and bypass the
 * vDEVICE may come later.
 */
struct iommu_hwpt_arm_smmuv3 {
	__aligned_le64 ste[2];
};

/**
 * struct iommu_hwpt_amd_guest - data of a nested AMD IOMMU HWPT
 *                               (IOMMU_HWPT_DATA_AMD_GUEST)
 * @dte: (in) the guest's 256-bit Device Table Entry, as four 64-bit words.
 *       The kernel takes the guest translation fields from it (GCR3 table
 *       root, guest paging mode, GLX, GIOV, PPR, guest domain ID) and
 *       rejects settings it cannot honour.
 */
struct iommu_hwpt_amd_guest {
	__aligned_u64 dte[4];
};

/**
 * enum iommu_hwpt_data_type - format of the driver data of IOMMU_HWPT_ALLOC
 * @IOMMU_HWPT_DATA_NONE: no data: a paging HWPT managed by the kernel
 * @IOMMU_HWPT_DATA_VTD_S1: struct iommu_hwpt_vtd_s1
 * @IOMMU_HWPT_DATA_ARM_SMMUV3: struct iommu_hwpt_arm_smmuv3
 * @IOMMU_HWPT_DATA_AMD_GUEST: struct iommu_hwpt_amd_guest
 */
enum iommu_hwpt_data_type {
	IOMMU_HWPT_DATA_NONE = 0,
	IOMMU_HWPT_DATA_VTD_S1 = 1,
	IOMMU_HWPT_DATA_ARM_SMMUV3 = 2,
	IOMMU_HWPT_DATA_AMD_GUEST = 3,
};

/**
 * struct iommu_hwpt_alloc - ioctl(IOMMU_HWPT_ALLOC)
 * @size: (in) sizeof(struct iommu_hwpt_alloc)
 * @flags: (in) a combination of enum iommufd_hwpt_alloc_flags
 * @dev_id: (in) the device whose IOMMU the HWPT is built for
 * @pt_id: (in) what the HWPT sits on: an IOAS for a paging HWPT, a nesting
 *         parent HWPT or a vIOMMU for a nested one
 * @out_hwpt_id: (out) ID of the new HWPT
 * @__reserved: must be 0
 * @data_type: (in) one of enum iommu_hwpt_data_type
 * @data_len: (in) length in bytes of the buffer at @data_uptr
 * @data_uptr: (in) user pointer to the driver data described by @data_type
 * @fault_id: (in) ID of a fault queue (IOMMU_FAULT_QUEUE_ALLOC); read only
 *            when @flags has IOMMU_HWPT_FAULT_ID_VALID
 * @__reserved2: must be 0; pads the structure to a multiple of 8 bytes
 *
 * A hardware page table (HWPT) is an IOMMU translation context of the
 * hardware, what the kernel calls an iommu_domain.
 *
 * With @data_type IOMMU_HWPT_DATA_NONE (and @data_len, @data_uptr zero) the
 * kernel builds a paging HWPT and keeps it filled with the mappings of the
 * IOAS @pt_id.  IOMMU_HWPT_ALLOC_NEST_PARENT makes it usable as a stage-2.
 *
 * With any other @data_type the HWPT is nested: its stage-1 table belongs to
 * user space (typically a guest) and is described by the driver data, while
 * the stage-2 comes from @pt_id, a nesting parent HWPT or a vIOMMU built on
 * one.  The device and the vIOMMU must be behind the same physical IOMMU.
 * User space must follow changes to its stage-1 table with
 * IOMMU_HWPT_INVALIDATE.
 */
struct iommu_hwpt_alloc {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 pt_id;
	__u32 out_hwpt_id;
	__u32 __reserved;
	__u32 data_type;
	__u32 data_len;
	__aligned_u64 data_uptr;
	__u32 fault_id;
	__u32 __reserved2;
};
#define IOMMU_HWPT_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_ALLOC)

/**
 * enum iommu_hw_info_vtd_flags - flags of struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17: the IOMMU has Intel erratum 772415
 *	(Sapphire Rapids, SPR17): a nesting parent HWPT must not contain
 *	read-only mappings
 */
enum iommu_hw_info_vtd_flags {
	IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17 = 1 << 0,
};

/**
 * struct iommu_hw_info_vtd - Intel VT-d data of IOMMU_GET_HW_INFO
 *                            (IOMMU_HW_INFO_TYPE_INTEL_VTD)
 * @flags: (out) a combination of enum iommu_hw_info_vtd_flags
 * @__reserved: (out) always 0
 * @cap_reg: (out) raw value of the VT-d Capability Register
 * @ecap_reg: (out) raw value of the VT-d Extended Capability Register
 *
 * The registers are reported as read from the hardware; decoding them
 * follows the VT-d specification.
 */
struct iommu_hw_info_vtd {
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 cap_reg;
	__aligned_u64 ecap_reg;
};

/**
 * enum iommu_hw_info_arm_smmuv3_flags - flags of struct
 *                                       iommu_hw_info_arm_smmuv3
 * @IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI: the SMMU has an erratum
 *	(NVIDIA Tegra264) that requires every TLBI and CFGI command to be
 *	issued twice.  Commands that a guest sends straight to the hardware
 *	(a virtual command queue) must apply this themselves; the kernel does
 *	not repeat invalidations that user space submits.
 */
enum iommu_hw_info_arm_smmuv3_flags {
	IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI = 1 << 0,
};

/**
 * struct iommu_hw_info_arm_smmuv3 - ARM SMMUv3 data of IOMMU_GET_HW_INFO
 *                                   (IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
 * @flags: (out) a combination of enum iommu_hw_info_arm_smmuv3_flags
 * @__reserved: (out) always 0
 * @idr: (out) raw values of the SMMU_IDR0 to SMMU_IDR5 registers
 * @iidr: (out) raw value of SMMU_IIDR (implementer and revision)
 * @aidr: (out) raw value of SMMU_AIDR (architecture version)
 *
 * The registers are those of the physical SMMU.  A VMM building a virtual
 * SMMU should take from them only the features that nesting supports:
 * IDR0 ST_LEVEL, TERM_MODEL, STALL_MODEL, TTENDIAN, CD2L, ASID16 and TTF;
 * IDR1 SIDSIZE and SSIDSIZE; IDR3 BBML and RIL; IDR5 VAX and the GRAN4K,
 * GRAN16K and GRAN64K bits.  Stage-1 support may be assumed when a nested
 * HWPT can be created, and coherent access is always present.  ATS is a
 * property of each device, not of the SMMU.  Other bits (HTTU, BTM, MPAM,
 * ...) are not supported for nesting and must not be passed on, so that
 * later kernels can give them a meaning.
 */
struct iommu_hw_info_arm_smmuv3 {
	__u32 flags;
	__u32 __reserved;
	__u32 idr[6];
	__u32 iidr;
	__u32 aidr;
};

/**
 * struct iommu_hw_info_tegra241_cmdqv - NVIDIA Tegra241 CMDQV data of
 *                                       IOMMU_GET_HW_INFO
 *                                       (IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV)
 * @flags: (out) always 0
 * @version: (out) CMDQV hardware version (PARAM register bits 3:0)
 * @log2vcmdqs: (out) log2 of the number of virtual command queues
 *              (PARAM bits 7:4)
 * @log2vsids: (out) log2 of the number of StreamID replacements
 *             (PARAM bits 15:12)
 * @__reserved: (out) always 0
 *
 * The values can be placed as they are in an emulated PARAM register.  A VM
 * is given exactly one virtual interface, so the VMM reports 0 for the
 * number of interfaces (PARAM bits 11:8).
 */
struct iommu_hw_info_tegra241_cmdqv {
	__u32 flags;
	__u8 version;
	__u8 log2vcmdqs;
	__u8 log2vsids;
	__u8 __reserved;
};

/**
 * struct iommu_hw_info_amd - AMD IOMMU data of IOMMU_GET_HW_INFO
 *                            (IOMMU_HW_INFO_TYPE_AMD)
 * @efr: (out) raw value of the Extended Feature Register (MMIO 0x30)
 * @efr2: (out) raw value of the Extended Feature 2 Register (MMIO 0x1a0)
 *
 * The registers come straight from the hardware.  Only the guest
 * translation related features (GTSup, GASup, GIoSup, PPRSup, EPHSup, GATS,
 * GLX, PASmax) may be exposed to a VM; the VMM must mask the rest.
 */
struct iommu_hw_info_amd {
	__aligned_u64 efr;
	__aligned_u64 efr2;
};

/**
 * enum iommu_hw_info_type - format of the data of IOMMU_GET_HW_INFO
 * @IOMMU_HW_INFO_TYPE_NONE: (out) the IOMMU driver reports no data
 * @IOMMU_HW_INFO_TYPE_DEFAULT: (in) let the kernel pick the IOMMU's native
 *                              format
 * @IOMMU_HW_INFO_TYPE_INTEL_VTD: struct iommu_hw_info_vtd
 * @IOMMU_HW_INFO_TYPE_ARM_SMMUV3: struct iommu_hw_info_arm_smmuv3
 * @IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV: struct iommu_hw_info_tegra241_cmdqv
 *                                     (an extension of ARM SMMUv3)
 * @IOMMU_HW_INFO_TYPE_AMD: struct iommu_hw_info_amd
 */
enum iommu_hw_info_type {
	IOMMU_HW_INFO_TYPE_NONE = 0,
	IOMMU_HW_INFO_TYPE_DEFAULT = 0,
	IOMMU_HW_INFO_TYPE_INTEL_VTD = 1,
	IOMMU_HW_INFO_TYPE_ARM_SMMUV3 = 2,
	IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV = 3,
	IOMMU_HW_INFO_TYPE_AMD = 4,
};

/**
 * enum iommufd_hw_capabilities - generic capabilities of IOMMU_GET_HW_INFO
 * @IOMMU_HW_CAP_DIRTY_TRACKING: the IOMMU can track DMA writes, so
 *                               IOMMU_HWPT_SET_DIRTY_TRACKING and
 *                               IOMMU_HWPT_GET_DIRTY_BITMAP work on HWPTs
 *                               allocated with
 *                               IOMMU_HWPT_ALLOC_DIRTY_TRACKING
 * @IOMMU_HW_CAP_PCI_PASID_EXEC: the device may send PASID requests asking
 *                               for execute permission; meaningless when
 *                               out_max_pasid_log2 is 0
 * @IOMMU_HW_CAP_PCI_PASID_PRIV: the device may send PASID requests asking
 *                               for privileged mode; meaningless when
 *                               out_max_pasid_log2 is 0
 * @IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED: ATS cannot be used for this device.
 *                                      Stated negatively so that an older
 *                                      kernel, which leaves the bit clear,
 *                                      keeps meaning "ATS may be in use".
 */
enum iommufd_hw_capabilities {
	IOMMU_HW_CAP_DIRTY_TRACKING = 1 << 0,
	IOMMU_HW_CAP_PCI_PASID_EXEC = 1 << 1,
	IOMMU_HW_CAP_PCI_PASID_PRIV = 1 << 2,
	IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED = 1 << 3,
};

/**
 * enum iommufd_hw_info_flags - flags of IOMMU_GET_HW_INFO
 * @IOMMU_HW_INFO_FLAG_INPUT_TYPE: in_data_type names the data format the
 *                                 caller asks for; without this flag the
 *                                 field is ignored on input
 */
enum iommufd_hw_info_flags {
	IOMMU_HW_INFO_FLAG_INPUT_TYPE = 1 << 0,
};

/**
 * struct iommu_hw_info - ioctl(IOMMU_GET_HW_INFO)
 * @size: (in) sizeof(struct iommu_hw_info)
 * @flags: (in) a combination of enum iommufd_hw_info_flags
 * @dev_id: (in) a device bound to this iommufd
 * @data_len: (in) size in bytes of the buffer at @data_uptr;
 *            (out) size of the data the kernel has for this format
 * @data_uptr: (in) user pointer to a buffer for the format-specific data
 * @in_data_type: (in) with IOMMU_HW_INFO_FLAG_INPUT_TYPE, the enum
 *                iommu_hw_info_type wanted; shares storage with
 *                @out_data_type
 * @out_data_type: (out) the enum iommu_hw_info_type of the data returned
 * @out_max_pasid_log2: (out) number of PASID bits the device may use; 0 if
 *                      it cannot use PASIDs
 * @__reserved: must be 0
 * @out_capabilities: (out) a combination of enum iommufd_hw_capabilities
 *
 * Reports what the IOMMU behind a device can do, so that a VMM can present
 * a compatible virtual IOMMU to a guest (for example so that the guest's
 * stage-1 page tables suit the real hardware).
 *
 * At most @data_len bytes are written; if the caller's buffer is larger than
 * the data, the rest of it is zeroed.  A @data_len of 0 is allowed and only
 * returns the size and format.
 */
struct iommu_hw_info {
	__u32 size;
	__u32 flags;
	__u32 dev_id;
	__u32 data_len;
	__aligned_u64 data_uptr;
#if !defined(__cplusplus) && (!defined(__STDC_VERSION__) || \
			      __STDC_VERSION__ < 201112L)
	/* Unnamed unions are only standard from C11; keep -pedantic quiet. */
	__extension__
#endif
	union {
		__u32 in_data_type;
		__u32 out_data_type;
	};
	__u8 out_max_pasid_log2;
	__u8 __reserved[3];
	__aligned_u64 out_capabilities;
};
#define IOMMU_GET_HW_INFO _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO)

/**
 * enum iommufd_hwpt_set_dirty_tracking_flags - flags of
 *                                              IOMMU_HWPT_SET_DIRTY_TRACKING
 * @IOMMU_HWPT_DIRTY_TRACKING_ENABLE: start tracking; without it, stop
 */
enum iommufd_hwpt_set_dirty_tracking_flags {
	IOMMU_HWPT_DIRTY_TRACKING_ENABLE = 1,
};

/**
 * struct iommu_hwpt_set_dirty_tracking - ioctl(IOMMU_HWPT_SET_DIRTY_TRACKING)
 * @size: (in) sizeof(struct iommu_hwpt_set_dirty_tracking)
 * @flags: (in) a combination of enum iommufd_hwpt_set_dirty_tracking_flags
 * @hwpt_id: (in) a paging HWPT allocated with
 *           IOMMU_HWPT_ALLOC_DIRTY_TRACKING
 * @__reserved: must be 0
 *
 * Turns the recording of DMA writes in the HWPT's page table on or off.
 */
struct iommu_hwpt_set_dirty_tracking {
	__u32 size;
	__u32 flags;
	__u32 hwpt_id;
	__u32 __reserved;
};
#define IOMMU_HWPT_SET_DIRTY_TRACKING _IO(IOMMUFD_TYPE, \
					  IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING)

/**
 * enum iommufd_hwpt_get_dirty_bitmap_flags - flags of
 *                                            IOMMU_HWPT_GET_DIRTY_BITMAP
 * @IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR: report the dirty state but leave it
 *                                        set in the page table; useful when
 *                                        the range is about to be unmapped
 *                                        anyway
 */
enum iommufd_hwpt_get_dirty_bitmap_flags {
	IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR = 1,
};

/**
 * struct iommu_hwpt_get_dirty_bitmap - ioctl(IOMMU_HWPT_GET_DIRTY_BITMAP)
 * @size: (in) sizeof(struct iommu_hwpt_get_dirty_bitmap)
 * @hwpt_id: (in) a paging HWPT with dirty tracking enabled
 * @flags: (in) a combination of enum iommufd_hwpt_get_dirty_bitmap_flags
 * @__reserved: must be 0
 * @iova: (in) first IOVA to report on; bit 0 of the bitmap stands for it
 * @length: (in) number of bytes of IOVA to report on
 * @page_size: (in) how many bytes of IOVA one bit stands for; a power of two
 * @data: (in) user pointer to the bitmap, an array of __u64, into which the
 *        kernel sets a bit for every dirty page (it never clears bits)
 *
 * Bit n of the bitmap covers IOVA @iova + n * @page_size: it is bit
 * (n % 64) of the __u64 at index (n / 64).  Unless
 * IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR is given, the dirty state is cleared
 * in the page table as it is read.
 */
struct iommu_hwpt_get_dirty_bitmap {
	__u32 size;
	__u32 hwpt_id;
	__u32 flags;
	__u32 __reserved;
	__aligned_u64 iova;
	__aligned_u64 length;
	__aligned_u64 page_size;
	__aligned_u64 data;
};
#define IOMMU_HWPT_GET_DIRTY_BITMAP _IO(IOMMUFD_TYPE, \
					IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP)

/**
 * enum iommu_hwpt_invalidate_data_type - format of IOMMU_HWPT_INVALIDATE
 *                                        requests
 * @IOMMU_HWPT_INVALIDATE_DATA_VTD_S1: struct iommu_hwpt_vtd_s1_invalidate,
 *                                     sent to a nested VT-d HWPT
 * @IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3: struct
 *                                           iommu_viommu_arm_smmuv3_invalidate,
 *                                           sent to an ARM SMMUv3 vIOMMU
 */
enum iommu_hwpt_invalidate_data_type {
	IOMMU_HWPT_INVALIDATE_DATA_VTD_S1 = 0,
	IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3 = 1,
};

/**
 * enum iommu_hwpt_vtd_s1_invalidate_flags - flags of a VT-d stage-1
 *                                           invalidation
 * @IOMMU_VTD_INV_FLAGS_LEAF: only leaf entries changed, so the caches of
 *                            non-leaf (paging structure) entries may be kept
 */
enum iommu_hwpt_vtd_s1_invalidate_flags {
	IOMMU_VTD_INV_FLAGS_LEAF = 1 << 0,
};

/**
 * struct iommu_hwpt_vtd_s1_invalidate - one VT-d stage-1 invalidation
 *                                       (IOMMU_HWPT_INVALIDATE_DATA_VTD_S1)
 * @addr: (in) first address to invalidate, 4 KiB aligned
 * @npages: (in) number of 4 KiB pages to invalidate
 * @flags: (in) a combination of enum iommu_hwpt_vtd_s1_invalidate_flags
 * @__reserved: must be 0
 *
 * Tells the kernel which part of a user-owned stage-1 page table changed.
 * @addr 0 with @npages U64_MAX invalidates everything cached for the table.
 * When the device uses ATS its device TLB is invalidated as well.
 */
struct iommu_hwpt_vtd_s1_invalidate {
	__aligned_u64 addr;
	__aligned_u64 npages;
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct iommu_viommu_arm_smmuv3_invalidate - one ARM SMMUv3 invalidation
 *                                    (IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3)
 * @cmd: (in) a 128-bit SMMU command queue entry, little-endian
 *
 * The guest's command, to be run on the physical SMMU after its virtual IDs
 * (StreamID, VMID) are replaced by real ones.  Accepted opcodes:
 * CMDQ_OP_TLBI_NSNH_ALL, CMDQ_OP_TLBI_NH_VA, CMDQ_OP_TLBI_NH_VAA,
 * CMDQ_OP_TLBI_NH_ALL, CMDQ_OP_TLBI_NH_ASID, CMDQ_OP_ATC_INV,
 * CMDQ_OP_CFGI_CD and CMDQ_OP_CFGI_CD_ALL.  Anything else fails with EIO.
 */
struct iommu_viommu_arm_smmuv3_invalidate {
	__aligned_le64 cmd[2];
};

/**
 * struct iommu_hwpt_invalidate - ioctl(IOMMU_HWPT_INVALIDATE)
 * @size: (in) sizeof(struct iommu_hwpt_invalidate)
 * @hwpt_id: (in) a nested HWPT (its stage-1 caches) or a vIOMMU (caches
 *           that belong to the whole virtual IOMMU, such as device or
 *           descriptor caches)
 * @data_uptr: (in) user pointer to an array of invalidation requests
 * @data_type: (in) one of enum iommu_hwpt_invalidate_data_type, the format
 *             of every entry; the object named by @hwpt_id must accept it
 * @entry_len: (in) size in bytes of one entry
 * @entry_num: (in) number of entries in the array;
 *             (out) number of entries the kernel carried out
 * @__reserved: must be 0
 *
 * Flushes IOMMU caches after user space changed a page table or descriptor
 * it owns.  Entries are handled in order; on failure @entry_num tells how
 * many succeeded.  With @entry_num 0 nothing is done and @entry_len and
 * @data_uptr are ignored, which lets a program probe whether @data_type is
 * supported.
 */
struct iommu_hwpt_invalidate {
	__u32 size;
	__u32 hwpt_id;
	__aligned_u64 data_uptr;
	__u32 data_type;
	__u32 entry_len;
	__u32 entry_num;
	__u32 __reserved;
};
#define IOMMU_HWPT_INVALIDATE _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HWPT_INVALIDATE)

/**
 * enum iommu_hwpt_pgfault_flags - flags of struct iommu_hwpt_pgfault
 * @IOMMU_PGFAULT_FLAGS_PASID_VALID: the pasid field is meaningful
 * @IOMMU_PGFAULT_FLAGS_LAST_PAGE: this is the last fault of its group; only
 *                                 it needs a response
 */
enum iommu_hwpt_pgfault_flags {
	IOMMU_PGFAULT_FLAGS_PASID_VALID		= (1 << 0),
	IOMMU_PGFAULT_FLAGS_LAST_PAGE		= (1 << 1),
};

/**
 * enum iommu_hwpt_pgfault_perm - access asked for by a faulting request
 * @IOMMU_PGFAULT_PERM_READ: read access
 * @IOMMU_PGFAULT_PERM_WRITE: write access
 * @IOMMU_PGFAULT_PERM_EXEC: execute access (PCIe PASID prefix with
 *                           Execute Requested set)
 * @IOMMU_PGFAULT_PERM_PRIV: privileged access (PCIe PASID prefix with
 *                           Privileged Mode Requested set)
 */
enum iommu_hwpt_pgfault_perm {
	IOMMU_PGFAULT_PERM_READ			= (1 << 0),
	IOMMU_PGFAULT_PERM_WRITE		= (1 << 1),
	IOMMU_PGFAULT_PERM_EXEC			= (1 << 2),
	IOMMU_PGFAULT_PERM_PRIV			= (1 << 3),
};

/**
 * struct iommu_hwpt_pgfault - an I/O page fault, as read from a fault queue
 * @flags: (out) a combination of enum iommu_hwpt_pgfault_flags
 * @dev_id: (out) the iommufd device ID of the device that faulted
 * @pasid: (out) the PASID of the request, if IOMMU_PGFAULT_FLAGS_PASID_VALID
 * @grpid: (out) the PCIe page request group index
 * @perm: (out) a combination of enum iommu_hwpt_pgfault_perm
 * @__reserved: (out) always 0
 * @addr: (out) the faulting address (an IOVA of the HWPT)
 * @length: (out) how many bytes the device expects to access from @addr, a
 *          hint that lets user space fault in more than one page; 0 if the
 *          device gave none
 * @cookie: (out) identifies the fault group; echoed back in struct
 *          iommu_hwpt_page_response
 *
 * read() on a fault queue file descriptor returns whole records of this
 * type.
 */
struct iommu_hwpt_pgfault {
	__u32 flags;
	__u32 dev_id;
	__u32 pasid;
	__u32 grpid;
	__u32 perm;
	__u32 __reserved;
	__aligned_u64 addr;
	__u32 length;
	__u32 cookie;
};

/**
 * enum iommufd_page_response_code - outcome of handling a page fault group
 * @IOMMUFD_PAGE_RESP_SUCCESS: the pages are now mapped; the device should
 *                             retry (PCIe "Success")
 * @IOMMUFD_PAGE_RESP_INVALID: the fault cannot be resolved; the device must
 *                             not retry (PCIe "Invalid Request")
 */
enum iommufd_page_response_code {
	IOMMUFD_PAGE_RESP_SUCCESS = 0,
	IOMMUFD_PAGE_RESP_INVALID = 1,
};

/**
 * struct iommu_hwpt_page_response - answer to a page fault group
 * @cookie: (in) the cookie of the last fault of the group
 * @code: (in) one of enum iommufd_page_response_code
 *
 * write() on a fault queue file descriptor takes whole records of this type.
 */
struct iommu_hwpt_page_response {
	__u32 cookie;
	__u32 code;
};

/**
 * struct iommu_fault_alloc - ioctl(IOMMU_FAULT_QUEUE_ALLOC)
 * @size: (in) sizeof(struct iommu_fault_alloc)
 * @flags: (in) no flags are defined yet; must be 0
 * @out_fault_id: (out) ID of the new fault queue, for the fault_id field of
 *                IOMMU_HWPT_ALLOC
 * @out_fault_fd: (out) a new file descriptor: read() returns struct
 *                iommu_hwpt_pgfault records, write() takes struct
 *                iommu_hwpt_page_response records
 *
 * Creates a queue that delivers I/O page faults of HWPTs to user space.
 */
struct iommu_fault_alloc {
	__u32 size;
	__u32 flags;
	__u32 out_fault_id;
	__u32 out_fault_fd;
};
#define IOMMU_FAULT_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_FAULT_QUEUE_ALLOC)

/**
 * enum iommu_viommu_type - kind of virtual IOMMU
 * @IOMMU_VIOMMU_TYPE_DEFAULT: not tied to a hardware model (reserved)
 * @IOMMU_VIOMMU_TYPE_ARM_SMMUV3: an ARM SMMUv3 vIOMMU
 * @IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV: an ARM SMMUv3 vIOMMU with NVIDIA
 *                                    Tegra241 CMDQV; the kernel backs it with
 *                                    a virtual interface owned by the guest
 *                                    (HYP_OWN 0), so the VMM must show
 *                                    HYP_OWN as 0 in the guest's
 *                                    VINTF_CONFIG
 */
enum iommu_viommu_type {
	IOMMU_VIOMMU_TYPE_DEFAULT = 0,
	IOMMU_VIOMMU_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV = 2,
};

/**
 * struct iommu_viommu_tegra241_cmdqv - data of a Tegra241 CMDQV vIOMMU
 *                                      (IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV)
 * @out_vintf_mmap_offset: (out) offset to pass to mmap() on the iommufd to
 *                         map the virtual interface's page 0
 * @out_vintf_mmap_length: (out) length to pass to that mmap()
 *
 * Mapping that page into the guest lets the guest drive its virtual command
 * queues directly, without exits.
 */
struct iommu_viommu_tegra241_cmdqv {
	__aligned_u64 out_vintf_mmap_offset;
	__aligned_u64 out_vintf_mmap_length;
};

/**
 * struct iommu_viommu_alloc - ioctl(IOMMU_VIOMMU_ALLOC)
 * @size: (in) sizeof(struct iommu_viommu_alloc)
 * @flags: (in) no flags are defined yet; must be 0
 * @type: (in) one of enum iommu_viommu_type
 * @dev_id: (in) a device behind the physical IOMMU that will back the
 *          vIOMMU
 * @hwpt_id: (in) a nesting parent HWPT, the stage-2 shared by everything
 *           built on the vIOMMU
 * @out_viommu_id: (out) ID of the new vIOMMU
 * @data_len: (in) length in bytes of the buffer at @data_uptr
 * @__reserved: must be 0
 * @data_uptr: (in) user pointer to type-specific data, which the kernel may
 *             also write to (for example struct iommu_viommu_tegra241_cmdqv)
 *
 * A vIOMMU is the part of one physical IOMMU given to one VM.  It holds
 * what is global to a virtual IOMMU rather than to one device: the
 * namespace of guest IDs (cache tags, virtual device IDs), event reporting,
 * invalidation of its caches, and hardware queues or interrupts assigned
 * directly to the guest.  Nested HWPTs, vDEVICEs, vEVENTQs and HW queues
 * are created on it.
 */
struct iommu_viommu_alloc {
	__u32 size;
	__u32 flags;
	__u32 type;
	__u32 dev_id;
	__u32 hwpt_id;
	__u32 out_viommu_id;
	__u32 data_len;
	__u32 __reserved;
	__aligned_u64 data_uptr;
};
#define IOMMU_VIOMMU_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VIOMMU_ALLOC)

/**
 * struct iommu_vdevice_alloc - ioctl(IOMMU_VDEVICE_ALLOC)
 * @size: (in) sizeof(struct iommu_vdevice_alloc)
 * @viommu_id: (in) the vIOMMU the device is presented through
 * @dev_id: (in) the physical device
 * @out_vdevice_id: (out) ID of the new vDEVICE
 * @virt_id: (in) the ID the guest knows the device by on that vIOMMU: a
 *           virtual StreamID on ARM SMMUv3, a virtual DeviceID on AMD, a
 *           virtual RID on Intel VT-d
 *
 * Records how a physical device appears behind a vIOMMU, so that guest
 * commands naming the virtual ID reach the real device and events of the
 * real device reach the guest with the virtual ID.  Destroy the vDEVICE with
 * IOMMU_DESTROY before unbinding the device: if the device goes first, the
 * vDEVICE is torn down with it and its ID stays taken until the iommufd is
 * closed.
 */
struct iommu_vdevice_alloc {
	__u32 size;
	__u32 viommu_id;
	__u32 dev_id;
	__u32 out_vdevice_id;
	__aligned_u64 virt_id;
};
#define IOMMU_VDEVICE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VDEVICE_ALLOC)

/**
 * struct iommu_ioas_change_process - ioctl(IOMMU_IOAS_CHANGE_PROCESS)
 * @size: (in) sizeof(struct iommu_ioas_change_process)
 * @__reserved: must be 0
 *
 * Moves the pinned-page accounting of every mapping in every IOAS of this
 * iommufd to the calling process, for example when a new process takes over
 * a device during a live update.  All mappings must have been made with
 * IOMMU_IOAS_MAP_FILE, otherwise EINVAL.  On failure nothing changes.
 */
struct iommu_ioas_change_process {
	__u32 size;
	__u32 __reserved;
};

#define IOMMU_IOAS_CHANGE_PROCESS \
	_IO(IOMMUFD_TYPE, IOMMUFD_CMD_IOAS_CHANGE_PROCESS)

/**
 * enum iommu_veventq_flag - flags of struct iommufd_vevent_header
 * @IOMMU_VEVENTQ_FLAG_LOST_EVENTS: events were dropped because the queue was
 *                                  full; no event data follows this header
 */
enum iommu_veventq_flag {
	IOMMU_VEVENTQ_FLAG_LOST_EVENTS = (1U << 0),
};

/**
 * struct iommufd_vevent_header - header of each record read from a vEVENTQ
 * @flags: (out) a combination of enum iommu_veventq_flag
 * @sequence: (out) number of the event, counting from 0 up to INT_MAX and
 *            then starting again at 0
 *
 * A read() from a vEVENTQ returns headers, each followed by the event data
 * of the queue's type.  Consecutive events have consecutive @sequence
 * numbers; a gap of n means n - 1 events were lost.  When events are lost at
 * the end of the queue, where no later event can show the gap, a last header
 * with IOMMU_VEVENTQ_FLAG_LOST_EVENTS and no data is added.
 */
struct iommufd_vevent_header {
	__u32 flags;
	__u32 sequence;
};

/**
 * enum iommu_veventq_type - kind of virtual event queue
 * @IOMMU_VEVENTQ_TYPE_DEFAULT: not tied to a hardware model (reserved)
 * @IOMMU_VEVENTQ_TYPE_ARM_SMMUV3: ARM SMMUv3 events, each a struct
 *                                 iommu_vevent_arm_smmuv3
 * @IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV: Tegra241 CMDQV error interrupts, each
 *                                     a struct iommu_vevent_tegra241_cmdqv
 */
enum iommu_veventq_type {
	IOMMU_VEVENTQ_TYPE_DEFAULT = 0,
	IOMMU_VEVENTQ_TYPE_ARM_SMMUV3 = 1,
	IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV = 2,
};

/**
 * struct iommu_vevent_arm_smmuv3 - one ARM SMMUv3 virtual event
 *                                  (IOMMU_VEVENTQ_TYPE_ARM_SMMUV3)
 * @evt: (out) a 256-bit SMMU event record, little-endian, whose StreamID is
 *       the virtual one of the device's vDEVICE.  Reported event types:
 *       C_BAD_STE (0x04), F_STREAM_DISABLED (0x06), C_BAD_SUBSTREAMID
 *       (0x08), C_BAD_CD (0x0a), F_TRANSLATION (0x10), F_ADDR_SIZE (0x11),
 *       F_ACCESS (0x12) and F_PERMISSION (0x13).
 *
 * Events are only forwarded for devices that have a vDEVICE.
 */
struct iommu_vevent_arm_smmuv3 {
	__aligned_le64 evt[4];
};

/**
 * struct iommu_vevent_tegra241_cmdqv - one Tegra241 CMDQV virtual event
 *                                      (IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV)
 * @lvcmdq_err_map: (out) the 128-bit LVCMDQ_ERR_MAP of the vIOMMU's virtual
 *                  interface, little-endian: one bit per logical virtual
 *                  command queue that reported an error
 */
struct iommu_vevent_tegra241_cmdqv {
	__aligned_le64 lvcmdq_err_map[2];
};

/**
 * struct iommu_veventq_alloc - ioctl(IOMMU_VEVENTQ_ALLOC)
 * @size: (in) sizeof(struct iommu_veventq_alloc)
 * @flags: (in) no flags are defined yet; must be 0
 * @viommu_id: (in) the vIOMMU whose events the queue receives
 * @type: (in) one of enum iommu_veventq_type
 * @veventq_depth: (in) the most events the queue holds before it starts to
 *                 drop them
 * @out_veventq_id: (out) ID of the new vEVENTQ
 * @out_veventq_fd: (out) a new file descriptor to read events from; the
 *                  caller owns it and must close it
 * @__reserved: must be 0
 *
 * Creates a queue that carries events of one type from a vIOMMU to user
 * space; a vIOMMU has at most one queue per type.  Each record read is a
 * struct iommufd_vevent_header followed by the type's event structure.
 */
struct iommu_veventq_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 veventq_depth;
	__u32 out_veventq_id;
	__u32 out_veventq_fd;
	__u32 __reserved;
};
#define IOMMU_VEVENTQ_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_VEVENTQ_ALLOC)

/**
 * enum iommu_hw_queue_type - kind of hardware queue given to a guest
 * @IOMMU_HW_QUEUE_TYPE_DEFAULT: not tied to a hardware model (reserved)
 * @IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV: a Tegra241 CMDQV virtual command
 *	queue.  Queues are created from index 0 upwards and destroyed in the
 *	reverse order.  The queue memory must be mapped in the IOAS and
 *	aligned to its length, which is a power of two from 32 bytes up to
 *	16 << IDR1.CMDQS bytes (see struct iommu_hw_info_arm_smmuv3).
 *	Physically contiguous backing, such as one huge page, is recommended.
 */
enum iommu_hw_queue_type {
	IOMMU_HW_QUEUE_TYPE_DEFAULT = 0,
	IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV = 1,
};

/**
 * struct iommu_hw_queue_alloc - ioctl(IOMMU_HW_QUEUE_ALLOC)
 * @size: (in) sizeof(struct iommu_hw_queue_alloc)
 * @flags: (in) no flags are defined yet; must be 0
 * @viommu_id: (in) the vIOMMU the queue belongs to
 * @type: (in) one of enum iommu_hw_queue_type
 * @index: (in) which queue of this @type on the vIOMMU, for hardware with
 *         several queues
 * @out_hw_queue_id: (out) ID of the new HW queue
 * @nesting_parent_iova: (in) guest physical address (an IOVA of the nesting
 *                       parent) of the queue memory
 * @length: (in) size in bytes of the queue memory
 *
 * Lets the IOMMU hardware read a queue that lives in guest memory, so the
 * guest can submit commands to it directly.  Each (@type, @index) pair of a
 * vIOMMU can be allocated once.
 */
struct iommu_hw_queue_alloc {
	__u32 size;
	__u32 flags;
	__u32 viommu_id;
	__u32 type;
	__u32 index;
	__u32 out_hw_queue_id;
	__aligned_u64 nesting_parent_iova;
	__aligned_u64 length;
};
#define IOMMU_HW_QUEUE_ALLOC _IO(IOMMUFD_TYPE, IOMMUFD_CMD_HW_QUEUE_ALLOC)
#endif
