// SPDX-License-Identifier: GPL-2.0
/*
 * Copyright (C) 2026 the iommufd-dkms authors.
 *
 * Compile-time checks of the parts of the iommufd ABI that are newer than the
 * Debian 6.12 kernel's header, so they cannot be diffed against a header on
 * this machine.  Every number below was counted by hand from the upstream
 * layout (member by member, 4 bytes per __u32, 8 per __u64, 8-byte aligned
 * __aligned_u64/__aligned_le64), independently of our header.
 *
 * Also re-checks the whole ioctl numbering, old and new, since a single
 * missing or reordered enumerator would shift every later ioctl.
 *
 * Builds as C11 and as C++11; nothing is generated, compiling is the test.
 */
#include <stddef.h>

#include <linux/iommufd.h>

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
#define VAL(c, n) ABI_ASSERT((c) == (n), #c " == " #n)

/* ioctl type and command numbers: _IO(';', nr) == 0x3b00 | nr. */
VAL(IOMMUFD_TYPE, 0x3b);
VAL(IOMMUFD_CMD_BASE, 0x80);
VAL(IOMMUFD_CMD_DESTROY, 0x80);
VAL(IOMMUFD_CMD_IOAS_ALLOC, 0x81);
VAL(IOMMUFD_CMD_IOAS_ALLOW_IOVAS, 0x82);
VAL(IOMMUFD_CMD_IOAS_COPY, 0x83);
VAL(IOMMUFD_CMD_IOAS_IOVA_RANGES, 0x84);
VAL(IOMMUFD_CMD_IOAS_MAP, 0x85);
VAL(IOMMUFD_CMD_IOAS_UNMAP, 0x86);
VAL(IOMMUFD_CMD_OPTION, 0x87);
VAL(IOMMUFD_CMD_VFIO_IOAS, 0x88);
VAL(IOMMUFD_CMD_HWPT_ALLOC, 0x89);
VAL(IOMMUFD_CMD_GET_HW_INFO, 0x8a);
VAL(IOMMUFD_CMD_HWPT_SET_DIRTY_TRACKING, 0x8b);
VAL(IOMMUFD_CMD_HWPT_GET_DIRTY_BITMAP, 0x8c);
VAL(IOMMUFD_CMD_HWPT_INVALIDATE, 0x8d);
VAL(IOMMUFD_CMD_FAULT_QUEUE_ALLOC, 0x8e);
VAL(IOMMUFD_CMD_IOAS_MAP_FILE, 0x8f);
VAL(IOMMUFD_CMD_VIOMMU_ALLOC, 0x90);
VAL(IOMMUFD_CMD_VDEVICE_ALLOC, 0x91);
VAL(IOMMUFD_CMD_IOAS_CHANGE_PROCESS, 0x92);
VAL(IOMMUFD_CMD_VEVENTQ_ALLOC, 0x93);
VAL(IOMMUFD_CMD_HW_QUEUE_ALLOC, 0x94);
VAL(IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA, 0x95);

VAL(IOMMU_DESTROY, 0x3b80);
VAL(IOMMU_IOAS_ALLOC, 0x3b81);
VAL(IOMMU_IOAS_ALLOW_IOVAS, 0x3b82);
VAL(IOMMU_IOAS_COPY, 0x3b83);
VAL(IOMMU_IOAS_IOVA_RANGES, 0x3b84);
VAL(IOMMU_IOAS_MAP, 0x3b85);
VAL(IOMMU_IOAS_UNMAP, 0x3b86);
VAL(IOMMU_OPTION, 0x3b87);
VAL(IOMMU_VFIO_IOAS, 0x3b88);
VAL(IOMMU_HWPT_ALLOC, 0x3b89);
VAL(IOMMU_GET_HW_INFO, 0x3b8a);
VAL(IOMMU_HWPT_SET_DIRTY_TRACKING, 0x3b8b);
VAL(IOMMU_HWPT_GET_DIRTY_BITMAP, 0x3b8c);
VAL(IOMMU_HWPT_INVALIDATE, 0x3b8d);
VAL(IOMMU_FAULT_QUEUE_ALLOC, 0x3b8e);
VAL(IOMMU_IOAS_MAP_FILE, 0x3b8f);
VAL(IOMMU_VIOMMU_ALLOC, 0x3b90);
VAL(IOMMU_VDEVICE_ALLOC, 0x3b91);
VAL(IOMMU_IOAS_CHANGE_PROCESS, 0x3b92);
VAL(IOMMU_VEVENTQ_ALLOC, 0x3b93);
VAL(IOMMU_HW_QUEUE_ALLOC, 0x3b94);
VAL(IOMMU_IOAS_NOIOMMU_GET_PA, 0x3b95);

/* IOMMU_IOAS_NOIOMMU_GET_PA: 4 x u32, then 3 x u64. */
SIZE(iommu_ioas_noiommu_get_pa, 40);
ALIGN(iommu_ioas_noiommu_get_pa, 8);
OFF(iommu_ioas_noiommu_get_pa, size, 0);
OFF(iommu_ioas_noiommu_get_pa, flags, 4);
OFF(iommu_ioas_noiommu_get_pa, ioas_id, 8);
OFF(iommu_ioas_noiommu_get_pa, __reserved, 12);
OFF(iommu_ioas_noiommu_get_pa, iova, 16);
OFF(iommu_ioas_noiommu_get_pa, length, 24);
OFF(iommu_ioas_noiommu_get_pa, out_phys, 32);

/* IOMMU_IOAS_MAP_FILE: size, flags, ioas_id, s32 fd, then 3 x u64. */
SIZE(iommu_ioas_map_file, 40);
ALIGN(iommu_ioas_map_file, 8);
OFF(iommu_ioas_map_file, flags, 4);
OFF(iommu_ioas_map_file, ioas_id, 8);
OFF(iommu_ioas_map_file, fd, 12);
OFF(iommu_ioas_map_file, start, 16);
OFF(iommu_ioas_map_file, length, 24);
OFF(iommu_ioas_map_file, iova, 32);
ABI_ASSERT((__typeof__(((struct iommu_ioas_map_file *)0)->fd))-1 < 0,
	   "iommu_ioas_map_file.fd is signed");

/* IOMMU_HWPT_ALLOC flags and data types added after 6.12. */
VAL(IOMMU_HWPT_ALLOC_NEST_PARENT, 1);
VAL(IOMMU_HWPT_ALLOC_DIRTY_TRACKING, 2);
VAL(IOMMU_HWPT_FAULT_ID_VALID, 4);
VAL(IOMMU_HWPT_ALLOC_PASID, 8);
VAL(IOMMU_HWPT_DATA_NONE, 0);
VAL(IOMMU_HWPT_DATA_VTD_S1, 1);
VAL(IOMMU_HWPT_DATA_ARM_SMMUV3, 2);
VAL(IOMMU_HWPT_DATA_AMD_GUEST, 3);
SIZE(iommu_hwpt_alloc, 48);
OFF(iommu_hwpt_alloc, data_uptr, 32);
OFF(iommu_hwpt_alloc, fault_id, 40);
OFF(iommu_hwpt_alloc, __reserved2, 44);

/* Nested HWPT data: 2 and 4 little-endian / native 64-bit words. */
SIZE(iommu_hwpt_arm_smmuv3, 16);
ALIGN(iommu_hwpt_arm_smmuv3, 8);
MSIZE(iommu_hwpt_arm_smmuv3, ste[0], 8);
SIZE(iommu_hwpt_amd_guest, 32);
ALIGN(iommu_hwpt_amd_guest, 8);
MSIZE(iommu_hwpt_amd_guest, dte[0], 8);

/* IOMMU_GET_HW_INFO: in_data_type and out_data_type share offset 24. */
SIZE(iommu_hw_info, 40);
ALIGN(iommu_hw_info, 8);
OFF(iommu_hw_info, data_uptr, 16);
OFF(iommu_hw_info, in_data_type, 24);
OFF(iommu_hw_info, out_data_type, 24);
MSIZE(iommu_hw_info, in_data_type, 4);
OFF(iommu_hw_info, out_max_pasid_log2, 28);
OFF(iommu_hw_info, __reserved, 29);
MSIZE(iommu_hw_info, __reserved, 3);
OFF(iommu_hw_info, out_capabilities, 32);
VAL(IOMMU_HW_INFO_FLAG_INPUT_TYPE, 1);
VAL(IOMMU_HW_INFO_TYPE_NONE, 0);
VAL(IOMMU_HW_INFO_TYPE_DEFAULT, 0);
VAL(IOMMU_HW_INFO_TYPE_INTEL_VTD, 1);
VAL(IOMMU_HW_INFO_TYPE_ARM_SMMUV3, 2);
VAL(IOMMU_HW_INFO_TYPE_TEGRA241_CMDQV, 3);
VAL(IOMMU_HW_INFO_TYPE_AMD, 4);
VAL(IOMMU_HW_CAP_DIRTY_TRACKING, 1);
VAL(IOMMU_HW_CAP_PCI_PASID_EXEC, 2);
VAL(IOMMU_HW_CAP_PCI_PASID_PRIV, 4);
VAL(IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, 8);

/* hw_info payloads. */
SIZE(iommu_hw_info_arm_smmuv3, 40);
ALIGN(iommu_hw_info_arm_smmuv3, 4);
OFF(iommu_hw_info_arm_smmuv3, __reserved, 4);
OFF(iommu_hw_info_arm_smmuv3, idr, 8);
MSIZE(iommu_hw_info_arm_smmuv3, idr, 24);
OFF(iommu_hw_info_arm_smmuv3, iidr, 32);
OFF(iommu_hw_info_arm_smmuv3, aidr, 36);
VAL(IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI, 1);
SIZE(iommu_hw_info_tegra241_cmdqv, 8);
ALIGN(iommu_hw_info_tegra241_cmdqv, 4);
OFF(iommu_hw_info_tegra241_cmdqv, version, 4);
OFF(iommu_hw_info_tegra241_cmdqv, log2vcmdqs, 5);
OFF(iommu_hw_info_tegra241_cmdqv, log2vsids, 6);
OFF(iommu_hw_info_tegra241_cmdqv, __reserved, 7);
SIZE(iommu_hw_info_amd, 16);
ALIGN(iommu_hw_info_amd, 8);
OFF(iommu_hw_info_amd, efr, 0);
OFF(iommu_hw_info_amd, efr2, 8);
SIZE(iommu_hw_info_vtd, 24);
VAL(IOMMU_HW_INFO_VTD_ERRATA_772415_SPR17, 1);

/* IOMMU_HWPT_INVALIDATE payloads. */
VAL(IOMMU_HWPT_INVALIDATE_DATA_VTD_S1, 0);
VAL(IOMMU_VIOMMU_INVALIDATE_DATA_ARM_SMMUV3, 1);
SIZE(iommu_viommu_arm_smmuv3_invalidate, 16);
ALIGN(iommu_viommu_arm_smmuv3_invalidate, 8);
SIZE(iommu_hwpt_vtd_s1_invalidate, 24);
SIZE(iommu_hwpt_invalidate, 32);

/* Fault records. */
SIZE(iommu_hwpt_pgfault, 40);
OFF(iommu_hwpt_pgfault, __reserved, 20);
OFF(iommu_hwpt_pgfault, addr, 24);
OFF(iommu_hwpt_pgfault, length, 32);
OFF(iommu_hwpt_pgfault, cookie, 36);
SIZE(iommu_hwpt_page_response, 8);
SIZE(iommu_fault_alloc, 16);

/* IOMMU_VIOMMU_ALLOC: 8 x u32, then the data pointer. */
VAL(IOMMU_VIOMMU_TYPE_DEFAULT, 0);
VAL(IOMMU_VIOMMU_TYPE_ARM_SMMUV3, 1);
VAL(IOMMU_VIOMMU_TYPE_TEGRA241_CMDQV, 2);
SIZE(iommu_viommu_alloc, 40);
ALIGN(iommu_viommu_alloc, 8);
OFF(iommu_viommu_alloc, flags, 4);
OFF(iommu_viommu_alloc, type, 8);
OFF(iommu_viommu_alloc, dev_id, 12);
OFF(iommu_viommu_alloc, hwpt_id, 16);
OFF(iommu_viommu_alloc, out_viommu_id, 20);
OFF(iommu_viommu_alloc, data_len, 24);
OFF(iommu_viommu_alloc, __reserved, 28);
OFF(iommu_viommu_alloc, data_uptr, 32);
SIZE(iommu_viommu_tegra241_cmdqv, 16);
OFF(iommu_viommu_tegra241_cmdqv, out_vintf_mmap_length, 8);

/* IOMMU_VDEVICE_ALLOC: 4 x u32, then the 64-bit virtual ID. */
SIZE(iommu_vdevice_alloc, 24);
ALIGN(iommu_vdevice_alloc, 8);
OFF(iommu_vdevice_alloc, viommu_id, 4);
OFF(iommu_vdevice_alloc, dev_id, 8);
OFF(iommu_vdevice_alloc, out_vdevice_id, 12);
OFF(iommu_vdevice_alloc, virt_id, 16);

/* IOMMU_IOAS_CHANGE_PROCESS. */
SIZE(iommu_ioas_change_process, 8);
ALIGN(iommu_ioas_change_process, 4);
OFF(iommu_ioas_change_process, __reserved, 4);

/* vEVENTQ: header, payloads and IOMMU_VEVENTQ_ALLOC (8 x u32). */
VAL(IOMMU_VEVENTQ_FLAG_LOST_EVENTS, 1);
VAL(IOMMU_VEVENTQ_TYPE_DEFAULT, 0);
VAL(IOMMU_VEVENTQ_TYPE_ARM_SMMUV3, 1);
VAL(IOMMU_VEVENTQ_TYPE_TEGRA241_CMDQV, 2);
SIZE(iommufd_vevent_header, 8);
ALIGN(iommufd_vevent_header, 4);
OFF(iommufd_vevent_header, sequence, 4);
SIZE(iommu_vevent_arm_smmuv3, 32);
ALIGN(iommu_vevent_arm_smmuv3, 8);
SIZE(iommu_vevent_tegra241_cmdqv, 16);
ALIGN(iommu_vevent_tegra241_cmdqv, 8);
SIZE(iommu_veventq_alloc, 32);
ALIGN(iommu_veventq_alloc, 4);
OFF(iommu_veventq_alloc, viommu_id, 8);
OFF(iommu_veventq_alloc, type, 12);
OFF(iommu_veventq_alloc, veventq_depth, 16);
OFF(iommu_veventq_alloc, out_veventq_id, 20);
OFF(iommu_veventq_alloc, out_veventq_fd, 24);
OFF(iommu_veventq_alloc, __reserved, 28);

/* IOMMU_HW_QUEUE_ALLOC: 6 x u32, then 2 x u64. */
VAL(IOMMU_HW_QUEUE_TYPE_DEFAULT, 0);
VAL(IOMMU_HW_QUEUE_TYPE_TEGRA241_CMDQV, 1);
SIZE(iommu_hw_queue_alloc, 40);
ALIGN(iommu_hw_queue_alloc, 8);
OFF(iommu_hw_queue_alloc, viommu_id, 8);
OFF(iommu_hw_queue_alloc, type, 12);
OFF(iommu_hw_queue_alloc, index, 16);
OFF(iommu_hw_queue_alloc, out_hw_queue_id, 20);
OFF(iommu_hw_queue_alloc, nesting_parent_iova, 24);
OFF(iommu_hw_queue_alloc, length, 32);

/* Older structures, re-checked so that -m32 builds prove the alignment. */
SIZE(iommu_destroy, 8);
SIZE(iommu_ioas_alloc, 12);
SIZE(iommu_iova_range, 16);
ALIGN(iommu_iova_range, 8);
SIZE(iommu_ioas_iova_ranges, 32);
SIZE(iommu_ioas_allow_iovas, 24);
SIZE(iommu_ioas_map, 40);
SIZE(iommu_ioas_copy, 40);
SIZE(iommu_ioas_unmap, 24);
OFF(iommu_ioas_unmap, iova, 8);
SIZE(iommu_option, 24);
OFF(iommu_option, op, 8);
OFF(iommu_option, object_id, 12);
OFF(iommu_option, val64, 16);
SIZE(iommu_vfio_ioas, 12);
SIZE(iommu_hwpt_vtd_s1, 24);
SIZE(iommu_hwpt_set_dirty_tracking, 16);
SIZE(iommu_hwpt_get_dirty_bitmap, 48);

int main(void)
{
	return 0;
}
