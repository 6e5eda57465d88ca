// SPDX-License-Identifier: GPL-2.0
/*
 * The books: what each context's pages pin and charge, who pays for it,
 * and the module's totals of the same.
 *
 * Neither upstream iommufd nor VFIO type1 tells an administrator who pins
 * how much through them: VmPin and VmLck say how much a process pays, not
 * for which file, and a user's locked_vm shows nowhere.  Each context
 * keeps a ledger (struct iopt_ledger) with an entry per paying process
 * (struct iopt_payer); every iopt_account names its payer's entry, and
 * pages.c and accounting.c count into it as they pin, charge and allocate
 * PFN storage.  fdinfo.c prints a context's ledger; debugfs's
 * iommufd/usage prints the sums over every context, the VFIO containers'
 * private ones included.
 *
 * The counters follow the real work but never steer it.  A payer entry
 * lives as long as an account names it, so it shows exactly the processes
 * that pay for something in the context now; one left over, or counters
 * not back at zero when the context goes, are bookkeeping bugs and warn.
 */
#include <linux/cred.h>
#include <linux/debugfs.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "io_pagetable.h"
#include "iommufd_private.h"

static struct {
	atomic_long_t contexts;
	atomic_long_t pinned;
	atomic_long_t charged;
	atomic_long_t pfn_chunks;
} totals;

/* Also the self-test's (selftest_iopf.c). */
struct dentry *iommufd_debugfs_dir;

void iopt_ledger_init(struct iopt_ledger *ledger)
{
	spin_lock_init(&ledger->lock);
	INIT_LIST_HEAD(&ledger->payers);
	atomic_long_set(&ledger->pinned, 0);
	atomic_long_set(&ledger->charged, 0);
	atomic_long_set(&ledger->pfn_chunks, 0);
	atomic_long_inc(&totals.contexts);
}

void iopt_ledger_destroy(struct iopt_ledger *ledger)
{
	WARN_ON(!list_empty(&ledger->payers));
	WARN_ON(atomic_long_read(&ledger->pinned) ||
		atomic_long_read(&ledger->charged) ||
		atomic_long_read(&ledger->pfn_chunks));
	atomic_long_dec(&totals.contexts);
}

static struct iopt_payer *payer_find(struct iopt_ledger *ledger,
				     struct pid *pid, kuid_t uid)
{
	struct iopt_payer *payer;

	lockdep_assert_held(&ledger->lock);
	list_for_each_entry(payer, &ledger->payers, node) {
		if (payer->pid == pid && uid_eq(payer->uid, uid)) {
			refcount_inc(&payer->users);
			return payer;
		}
	}
	return NULL;
}

/**
 * iopt_payer_get() - the calling process's entry in @ledger
 * @ledger: the books of the context the caller is about to pay in
 *
 * Made on the first call of a process (its thread group and real uid),
 * held once more on later ones.  Released with iopt_payer_put().
 * Return: the entry, or ERR_PTR(-ENOMEM).
 */
struct iopt_payer *iopt_payer_get(struct iopt_ledger *ledger)
{
	struct pid *pid = task_tgid(current);
	kuid_t uid = current_uid();
	struct iopt_payer *payer, *fresh;

	spin_lock(&ledger->lock);
	payer = payer_find(ledger, pid, uid);
	spin_unlock(&ledger->lock);
	if (payer)
		return payer;

	fresh = kzalloc(sizeof(*fresh), GFP_KERNEL_ACCOUNT);
	if (!fresh)
		return ERR_PTR(-ENOMEM);
	fresh->ledger = ledger;
	refcount_set(&fresh->users, 1);
	fresh->pid = get_pid(pid);
	fresh->uid = uid;
	atomic_long_set(&fresh->pinned, 0);
	atomic_long_set(&fresh->charged, 0);

	/* Another thread of the process may have made it meanwhile. */
	spin_lock(&ledger->lock);
	payer = payer_find(ledger, pid, uid);
	if (!payer)
		list_add_tail(&fresh->node, &ledger->payers);
	spin_unlock(&ledger->lock);
	if (!payer)
		return fresh;
	put_pid(fresh->pid);
	kfree(fresh);
	return payer;
}

/* One more account names @payer (a copy of one that does). */
void iopt_payer_hold(struct iopt_payer *payer)
{
	refcount_inc(&payer->users);
}

void iopt_payer_put(struct iopt_payer *payer)
{
	struct iopt_ledger *ledger = payer->ledger;

	if (!refcount_dec_and_lock(&payer->users, &ledger->lock))
		return;
	list_del(&payer->node);
	spin_unlock(&ledger->lock);
	/* Its accounts unpinned and uncharged everything before they went. */
	WARN_ON(atomic_long_read(&payer->pinned) ||
		atomic_long_read(&payer->charged));
	put_pid(payer->pid);
	kfree(payer);
}

void iopt_payer_add_pinned(struct iopt_payer *payer, long npages)
{
	atomic_long_add(npages, &payer->pinned);
	atomic_long_add(npages, &payer->ledger->pinned);
	atomic_long_add(npages, &totals.pinned);
}

void iopt_payer_add_charged(struct iopt_payer *payer, long npages)
{
	atomic_long_add(npages, &payer->charged);
	atomic_long_add(npages, &payer->ledger->charged);
	atomic_long_add(npages, &totals.charged);
}

/* PFN storage is the pages' own, not the payer's: books and totals only. */
void iopt_payer_add_pfn_chunks(struct iopt_payer *payer, long nchunks)
{
	atomic_long_add(nchunks, &payer->ledger->pfn_chunks);
	atomic_long_add(nchunks, &totals.pfn_chunks);
}

/*
 * The ledger's lines of a context's fdinfo, in the stable format README
 * documents.  The pid and uid are as the reader sees them (its pid and
 * user namespaces); pid 0 means the payer has exited, or lives where the
 * reader cannot name it, while its mappings stay (the fd outlived it).
 */
void iopt_ledger_show_totals(struct seq_file *m, struct iopt_ledger *ledger)
{
	seq_printf(m, "iommufd-pinned-pages:\t%ld\n",
		   atomic_long_read(&ledger->pinned));
	seq_printf(m, "iommufd-charged-pages:\t%ld\n",
		   atomic_long_read(&ledger->charged));
	seq_printf(m, "iommufd-pfn-storage-bytes:\t%lu\n",
		   atomic_long_read(&ledger->pfn_chunks) * PAGE_SIZE);
}

void iopt_ledger_show_payers(struct seq_file *m, struct iopt_ledger *ledger)
{
	struct iopt_payer *payer;
	bool any = false;

	spin_lock(&ledger->lock);
	list_for_each_entry(payer, &ledger->payers, node) {
		pid_t nr = pid_has_task(payer->pid, PIDTYPE_TGID) ?
			   pid_vnr(payer->pid) : 0;

		seq_printf(m, "iommufd-payer:\tpid=%d uid=%u pinned=%ld charged=%ld\n",
			   nr, from_kuid_munged(seq_user_ns(m), payer->uid),
			   atomic_long_read(&payer->pinned),
			   atomic_long_read(&payer->charged));
		any = true;
	}
	spin_unlock(&ledger->lock);
	if (!any)
		seq_puts(m, "iommufd-payer:\tnone\n");
}

static int usage_show(struct seq_file *m, void *unused)
{
	seq_printf(m, "contexts:\t%ld\n", atomic_long_read(&totals.contexts));
	seq_printf(m, "pinned-pages:\t%ld\n", atomic_long_read(&totals.pinned));
	seq_printf(m, "charged-pages:\t%ld\n",
		   atomic_long_read(&totals.charged));
	seq_printf(m, "pfn-storage-bytes:\t%lu\n",
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

/* Every context holds the module: none can be left at unload. */
void iommufd_ledger_debugfs_exit(void)
{
	debugfs_remove_recursive(iommufd_debugfs_dir);
	WARN_ON(atomic_long_read(&totals.contexts) ||
		atomic_long_read(&totals.pinned) ||
		atomic_long_read(&totals.pfn_chunks));
}
