// SPDX-License-Identifier: GPL-2.0
/*
 * The books: what each context's pages pin and charge, and the module's
 * totals of the same.
 *
 * Neither upstream iommufd nor VFIO type1 tells an administrator who pins
 * how much through them: VmPin and VmLck say how much a process pays, not
 * for which file, and a user's locked_vm shows nowhere.  Each context
 * keeps a ledger (struct iopt_ledger) that pages.c and accounting.c
 * update as they pin, charge and allocate PFN storage; fdinfo.c prints it
 * per /dev/iommu file, and debugfs's iommufd/usage prints the sums over
 * every context, the VFIO containers' private ones included.
 *
 * The counters follow the real work but never steer it: limits are
 * enforced by accounting.c against the kernel's own counters.  A ledger
 * that is not back to zero when its context goes is a bookkeeping bug and
 * warns.
 */
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/uidgid.h>

#include "iommufd_private.h"

static struct {
	atomic_long_t contexts;
	atomic_long_t pinned;
	atomic_long_t charged;
	atomic_long_t pfn_chunks;
} totals;

static struct dentry *iommufd_debugfs_dir;

void iopt_ledger_init(struct iopt_ledger *ledger, enum iopt_account_mode mode)
{
	ledger->mode = mode;
	atomic_long_set(&ledger->pinned, 0);
	atomic_long_set(&ledger->charged, 0);
	atomic_long_set(&ledger->pfn_chunks, 0);
	spin_lock_init(&ledger->payer_lock);
	ledger->payer_pid = 0;
	ledger->payer_uid = 0;
	atomic_long_inc(&totals.contexts);
}

void iopt_ledger_destroy(struct iopt_ledger *ledger)
{
	WARN_ON(atomic_long_read(&ledger->pinned) ||
		atomic_long_read(&ledger->charged) ||
		atomic_long_read(&ledger->pfn_chunks));
	atomic_long_dec(&totals.contexts);
}

/* The calling process is the one the context's latest mapping charges. */
void iopt_ledger_set_payer(struct iopt_ledger *ledger)
{
	spin_lock(&ledger->payer_lock);
	ledger->payer_pid = task_tgid_nr(current);
	ledger->payer_uid = from_kuid_munged(&init_user_ns, current_uid());
	spin_unlock(&ledger->payer_lock);
}

void iopt_ledger_pinned(struct iopt_ledger *ledger, long npages)
{
	atomic_long_add(npages, &ledger->pinned);
	atomic_long_add(npages, &totals.pinned);
}

void iopt_ledger_charged(struct iopt_ledger *ledger, long npages)
{
	atomic_long_add(npages, &ledger->charged);
	atomic_long_add(npages, &totals.charged);
}

void iopt_ledger_pfn_chunks(struct iopt_ledger *ledger, long nchunks)
{
	atomic_long_add(nchunks, &ledger->pfn_chunks);
	atomic_long_add(nchunks, &totals.pfn_chunks);
}

static const char *const ledger_mode_names[] = {
	[IOPT_ACCOUNT_NONE] = "none",
	[IOPT_ACCOUNT_USER] = "user",
	[IOPT_ACCOUNT_MM] = "process",
	[IOPT_ACCOUNT_TYPE1] = "type1",
};

/*
 * The ledger's lines of a context's fdinfo, in the stable format README
 * documents.  Each counter is read once; together they are a snapshot
 * only as far as nothing pins or unpins meanwhile.
 */
void iopt_ledger_show(struct seq_file *m, struct iopt_ledger *ledger)
{
	pid_t pid;
	uid_t uid;

	seq_printf(m, "iommufd-pinned-pages:\t%ld\n",
		   atomic_long_read(&ledger->pinned));
	seq_printf(m, "iommufd-charged-pages:\t%ld\n",
		   atomic_long_read(&ledger->charged));
	seq_printf(m, "iommufd-pfn-storage-bytes:\t%ld\n",
		   atomic_long_read(&ledger->pfn_chunks) * PAGE_SIZE);
	spin_lock(&ledger->payer_lock);
	pid = ledger->payer_pid;
	uid = ledger->payer_uid;
	spin_unlock(&ledger->payer_lock);
	if (pid)
		seq_printf(m, "iommufd-payer:\tpid=%d uid=%u\n", pid, uid);
	else
		seq_puts(m, "iommufd-payer:\tnone\n");
}

const char *iopt_ledger_mode_name(struct iopt_ledger *ledger)
{
	enum iopt_account_mode mode = READ_ONCE(ledger->mode);

	if (mode >= ARRAY_SIZE(ledger_mode_names))
		return "unknown";
	return ledger_mode_names[mode];
}

static int usage_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "contexts:\t%ld\n", atomic_long_read(&totals.contexts));
	seq_printf(m, "pinned-pages:\t%ld\n", atomic_long_read(&totals.pinned));
	seq_printf(m, "charged-pages:\t%ld\n",
		   atomic_long_read(&totals.charged));
	seq_printf(m, "pfn-storage-bytes:\t%ld\n",
		   atomic_long_read(&totals.pfn_chunks) * PAGE_SIZE);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(usage);

/* Without debugfs the totals are simply not shown; nothing depends on it. */
void iommufd_ledger_debugfs_init(void)
{
	iommufd_debugfs_dir = debugfs_create_dir("iommufd", NULL);
	debugfs_create_file("usage", 0400, iommufd_debugfs_dir, NULL,
			    &usage_fops);
}

void iommufd_ledger_debugfs_exit(void)
{
	debugfs_remove_recursive(iommufd_debugfs_dir);
}
