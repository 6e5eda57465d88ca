// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/PID/fdinfo/FD of a /dev/iommu file: what the context holds and
 * who pays for it, one "iommufd-KEY:\tVALUE" line each.  The keys and
 * their order are a stable format (README, iommufd-dkms(7)); iommufdctl
 * reads them.  The payer lines come last (one per paying process); a new
 * key goes just before them, and none is ever renamed or moved.
 */
#include <linux/fs.h>
#include <linux/seq_file.h>

#include "iommufd_private.h"

/*
 * In this order for good.  A new object type's count is a new key, and so
 * goes before the payer lines, not here (the BUILD_BUG_ON below asks).
 */
static const struct {
	enum iommufd_object_type type;
	const char *key;
} fdinfo_objects[] = {
	{ IOMMUFD_OBJ_IOAS, "ioas" },
	{ IOMMUFD_OBJ_HWPT_PAGING, "hwpt-paging" },
	{ IOMMUFD_OBJ_DEVICE, "device" },
	{ IOMMUFD_OBJ_ACCESS, "access" },
	{ IOMMUFD_OBJ_SELFTEST, "selftest" },
	{ IOMMUFD_OBJ_HWPT_NESTED, "hwpt-nested" },
	{ IOMMUFD_OBJ_FAULT, "fault" },
	{ IOMMUFD_OBJ_VIOMMU, "viommu" },
	{ IOMMUFD_OBJ_VDEVICE, "vdevice" },
	{ IOMMUFD_OBJ_VEVENTQ, "veventq" },
	{ IOMMUFD_OBJ_HW_QUEUE, "hw-queue" },
};

static const char *const fdinfo_modes[] = {
	[IOPT_ACCOUNT_NONE] = "none",
	[IOPT_ACCOUNT_USER] = "user",
	[IOPT_ACCOUNT_MM] = "process",
	[IOPT_ACCOUNT_TYPE1] = "type1",
};

void iommufd_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct iommufd_ctx *ictx = file->private_data;
	enum iopt_account_mode mode = READ_ONCE(ictx->account_mode);
	unsigned int i;

	/* Every type but ANY has its line. */
	BUILD_BUG_ON(ARRAY_SIZE(fdinfo_objects) != IOMMUFD_OBJ_MAX - 1);

	seq_printf(m, "iommufd-account-mode:\t%s\n",
		   mode < ARRAY_SIZE(fdinfo_modes) ? fdinfo_modes[mode] :
						     "unknown");
	for (i = 0; i < ARRAY_SIZE(fdinfo_objects); i++)
		seq_printf(m, "iommufd-%s:\t%d\n", fdinfo_objects[i].key,
			   atomic_read(&ictx->published[fdinfo_objects[i].type]));
	iopt_ledger_show(m, &ictx->ledger);
}
