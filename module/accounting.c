// SPDX-License-Identifier: GPL-2.0
/*
 * Charging pinned pages against RLIMIT_MEMLOCK.
 *
 * Two modes, chosen per context with IOMMU_OPTION_RLIMIT_MODE, as upstream
 * offers them:
 *  - per user (default): the mapping user's user->locked_vm, the counter
 *    io_uring and BPF share, so that a user cannot escape the limit by
 *    spreading pins over several processes;
 *  - per process: the mapping process's mm->locked_vm (VmLck), the counter
 *    VFIO type1 charges, which is what libvirt's limits are written for.
 * Either way mm->pinned_vm (VmPin) counts the pinned pages too.  A mapper
 * with CAP_IPC_LOCK is not limited and charges VmPin only.
 *
 * A third mode serves VFIO containers through the type1 compatibility:
 * exactly what VFIO type1 charges, the mapping process's VmLck (and no
 * VmPin), CAP_IPC_LOCK lifting only the limit.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/user.h>

#include "io_pagetable.h"

/*
 * Take references on the calling process as the one that pays, in the
 * context's mode @ctx_mode, and enter it in the context's books.
 */
int iopt_account_init(struct iopt_account *account,
		      enum iopt_account_mode ctx_mode, struct iopt_ledger *ledger)
{
	if (!current->mm)
		return -EINVAL;
	account->payer = iopt_payer_get(ledger);
	if (IS_ERR(account->payer))
		return PTR_ERR(account->payer);

	account->unlimited = false;
	if (ctx_mode == IOPT_ACCOUNT_TYPE1) {
		account->mode = IOPT_ACCOUNT_TYPE1;
		account->unlimited = capable(CAP_IPC_LOCK);
	} else if (capable(CAP_IPC_LOCK)) {
		account->mode = IOPT_ACCOUNT_NONE;
	} else {
		account->mode = ctx_mode;
	}

	account->mm = current->mm;
	mmgrab(account->mm);
	account->task = current->group_leader;
	get_task_struct(account->task);
	account->user = get_uid(current_user());
	return 0;
}

void iopt_account_release(struct iopt_account *account)
{
	mmdrop(account->mm);
	put_task_struct(account->task);
	free_uid(account->user);
	iopt_payer_put(account->payer);
}

static int charge_user(struct iopt_account *account, unsigned long npages)
{
	unsigned long limit, cur, new;

	limit = task_rlimit(account->task, RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	cur = atomic_long_read(&account->user->locked_vm);
	do {
		if (check_add_overflow(cur, npages, &new) || new > limit)
			return -ENOMEM;
	} while (!atomic_long_try_cmpxchg(&account->user->locked_vm, &cur,
					  new));
	return 0;
}

static int update_mm_locked(struct iopt_account *account, unsigned long npages,
			    bool inc)
{
	int rc;

	/*
	 * The mm may belong to a process that is exiting or gone (the fd
	 * outlived it): its counters no longer matter, but we still owe
	 * consistency, so only touch it while it has users.
	 */
	if (!mmget_not_zero(account->mm))
		return inc ? -ESRCH : 0;
	mmap_write_lock(account->mm);
	rc = __account_locked_vm(account->mm, npages, inc, account->task,
				 account->unlimited);
	mmap_write_unlock(account->mm);
	mmput(account->mm);
	return rc;
}

/*
 * Charge @npages about to be pinned.  Fails with ENOMEM over the limit,
 * leaving every counter as it was.
 */
int iopt_account_charge(struct iopt_account *account, unsigned long npages)
{
	int rc = 0;

	if (!npages)
		return 0;
	switch (account->mode) {
	case IOPT_ACCOUNT_NONE:
		break;
	case IOPT_ACCOUNT_USER:
		rc = charge_user(account, npages);
		break;
	case IOPT_ACCOUNT_MM:
	case IOPT_ACCOUNT_TYPE1:
		rc = update_mm_locked(account, npages, true);
		break;
	}
	if (rc)
		return rc;
	if (account->mode != IOPT_ACCOUNT_NONE)
		iopt_payer_add_charged(account->payer, npages);
	/* Type1 never counted pins in VmPin. */
	if (account->mode != IOPT_ACCOUNT_TYPE1)
		atomic64_add(npages, &account->mm->pinned_vm);
	return 0;
}

void iopt_account_uncharge(struct iopt_account *account, unsigned long npages)
{
	if (!npages)
		return;
	switch (account->mode) {
	case IOPT_ACCOUNT_NONE:
		break;
	case IOPT_ACCOUNT_USER:
		WARN_ON(atomic_long_read(&account->user->locked_vm) < npages);
		atomic_long_sub(npages, &account->user->locked_vm);
		break;
	case IOPT_ACCOUNT_MM:
	case IOPT_ACCOUNT_TYPE1:
		update_mm_locked(account, npages, false);
		break;
	}
	if (account->mode != IOPT_ACCOUNT_NONE)
		iopt_payer_add_charged(account->payer, -(long)npages);
	if (account->mode != IOPT_ACCOUNT_TYPE1)
		atomic64_sub(npages, &account->mm->pinned_vm);
}
