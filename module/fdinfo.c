// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/fdinfo/FD of a /dev/iommu file: what the context holds and
 * who pays for it, one "iommufd-KEY:\tVALUE" line each.  The keys and
 * their order are a stable format (README, iommufd-dkms(7)); iommufdctl
 * reads them.  New keys may be added at the end, never renamed.
 */
#include <linux/fs.h>
#include <linux/seq_file.h>

#include "iommufd_private.h"

static const char *const fdinfo_object_keys[IOMMUFD_OBJ_MAX] = {
	[IOMMUFD_OBJ_IOAS] = "ioas",
	[IOMMUFD_OBJ_HWPT_PAGING] = "hwpt-paging",
	[IOMMUFD_OBJ_DEVICE] = "device",
	[IOMMUFD_OBJ_ACCESS] = "access",
	[IOMMUFD_OBJ_SELFTEST] = "selftest",
};

void iommufd_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct iommufd_ctx *ictx = file->private_data;
	unsigned long counts[IOMMUFD_OBJ_MAX];
	unsigned int type;

	seq_printf(m, "iommufd-account-mode:\t%s\n",
		   iopt_ledger_mode_name(&ictx->ledger));
	iommufd_objects_count(ictx, counts);
	for (type = 0; type < IOMMUFD_OBJ_MAX; type++) {
		if (fdinfo_object_keys[type])
			seq_printf(m, "iommufd-%s:\t%lu\n",
				   fdinfo_object_keys[type], counts[type]);
	}
	iopt_ledger_show(m, &ictx->ledger);
}
