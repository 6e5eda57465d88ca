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
 * In this order for good: the counts of the first object types, then the
 * ledger's totals, then the counts of the types that came later (each new
 * type appends its key to the second table), then the payer lines.
 */
struct fdinfo_object_key {
	enum iommufd_object_type type;
	const char *key;
};

static const struct fdinfo_object_key fdinfo_objects[] = {
	{ IOMMUFD_OBJ_IOAS, "ioas" },
	{ IOMMUFD_OBJ_HWPT_PAGING, "hwpt-paging" },
	{ IOMMUFD_OBJ_DEVICE, "device" },
	{ IOMMUFD_OBJ_ACCESS, "access" },
	{ IOMMUFD_OBJ_SELFTEST, "selftest" },
};

static const struct fdinfo_object_key fdinfo_objects_later[] = {
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

static void show_object_count(struct seq_file *m, struct iommufd_ctx *ictx,
			      const struct fdinfo_object_key *obj)
{
	seq_printf(m, "iommufd-%s:\t%d\n", obj->key,
		   atomic_read(&ictx->published[obj->type]));
}

void iommufd_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct iommufd_ctx *ictx = file->private_data;
	enum iopt_account_mode mode = READ_ONCE(ictx->account_mode);
	unsigned int i;

	/* Every type but ANY has its line. */
	BUILD_BUG_ON(ARRAY_SIZE(fdinfo_objects) +
		     ARRAY_SIZE(fdinfo_objects_later) != IOMMUFD_OBJ_MAX - 1);

	seq_printf(m, "iommufd-account-mode:\t%s\n",
		   mode < ARRAY_SIZE(fdinfo_modes) ? fdinfo_modes[mode] :
						     "unknown");
	for (i = 0; i < ARRAY_SIZE(fdinfo_objects); i++)
		show_object_count(m, ictx, &fdinfo_objects[i]);
	iopt_ledger_show_totals(m, &ictx->ledger);
	for (i = 0; i < ARRAY_SIZE(fdinfo_objects_later); i++)
		show_object_count(m, ictx, &fdinfo_objects_later[i]);
	iopt_ledger_show_payers(m, &ictx->ledger);
}
