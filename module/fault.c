// SPDX-License-Identifier: GPL-2.0
/*
 * Fault queues: I/O page faults of HWPTs, handed to user space through a
 * file descriptor (IOMMU_FAULT_QUEUE_ALLOC).
 *
 * A device that faults on a HWPT made with IOMMU_HWPT_FAULT_ID_VALID stops
 * and waits.  Its backend reports the fault here as a group (the requests
 * a PCIe page request group ends with a "last page" request), and the
 * group waits on the queue's list of unread groups.  read() moves whole
 * groups to the table of groups awaiting an answer, keyed by a cookie
 * each record carries; write() takes answers by cookie and passes them
 * back to the device through its backend.
 *
 * Every group reported is answered exactly once: by user space, or with
 * IOMMUFD_PAGE_RESP_INVALID when nobody can answer it any more:
 *  - the device leaves the HWPT (detach, replace, unplug): its groups go,
 *    read or not, before anything else may attach it;
 *  - the queue's file is closed: nobody can read or answer again, so what
 *    is pending is answered now and new faults as they come, rather than
 *    leave devices stalled until they are detached;
 *  - the queue object is destroyed (nothing can be left by then, since
 *    every HWPT using it holds it, but nothing is left to chance).
 *
 * Locking: idev->lock (held while a device reports, attaches or leaves)
 * before fault->mutex, which protects everything in the queue.
 * Read and write never take a device's lock: a group's device cannot go
 * away while the group is queued, because leaving takes fault->mutex.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/**
 * struct iommufd_fault_group - faults a device reported together
 * @node: in fault->unread until read
 * @idev: the device; waits for the answer
 * @via_pasid: the PASID whose attachment took the group, IOMMU_NO_PASID
 *             for the device's own (also for a PASID its nested HWPT
 *             took); the group goes when that attachment does
 * @cookie: its key in fault->awaiting once read
 * @nr: records in @records, the last one ending the group
 * @records: the faults, in the order they came
 */
struct iommufd_fault_group {
	struct list_head node;
	struct iommufd_device *idev;
	u32 via_pasid;
	u32 cookie;
	unsigned int nr;
	struct iommufd_fault_record records[];
};

/* Tell the device what became of @group, and forget it. */
static void fault_group_answer(struct iommufd_fault_group *group, u32 code)
{
	const struct iommufd_fault_record *last = &group->records[group->nr - 1];

	group->idev->ops->page_response(group->idev, last, code);
	kfree(group);
}

/* Is @group one of those @idev's attachment for @pasid took? */
static bool fault_group_of(const struct iommufd_fault_group *group,
			   const struct iommufd_device *idev, u32 pasid)
{
	return !idev || (group->idev == idev && group->via_pasid == pasid);
}

/*
 * Answer INVALID to every group that @idev's attachment for @pasid took
 * (every group if @idev is NULL).
 */
static void fault_answer_all(struct iommufd_fault *fault,
			     struct iommufd_device *idev, u32 pasid)
{
	struct iommufd_fault_group *group, *next;
	unsigned long cookie;

	lockdep_assert_held(&fault->mutex);

	list_for_each_entry_safe(group, next, &fault->unread, node) {
		if (!fault_group_of(group, idev, pasid))
			continue;
		list_del(&group->node);
		fault_group_answer(group, IOMMUFD_PAGE_RESP_INVALID);
	}
	xa_for_each(&fault->awaiting, cookie, group) {
		if (!fault_group_of(group, idev, pasid))
			continue;
		xa_erase(&fault->awaiting, cookie);
		fault_group_answer(group, IOMMUFD_PAGE_RESP_INVALID);
	}
}

/*
 * The queue a request of @idev goes to, as the kernel's IOPF core routes
 * it: a request with a PASID to what that PASID is attached to, else, for
 * a device whose PASID table the guest owns (user_pasid_table), to the
 * nested HWPT the device itself is on; a request without a PASID to the
 * device's own HWPT.  *@via is the PASID of the attachment that took it.
 */
static struct iommufd_fault *fault_route(struct iommufd_device *idev,
					 const struct iommufd_fault_record *rec,
					 u32 *via)
{
	struct iommufd_hwpt *hwpt = idev->hwpt;

	lockdep_assert_held(&idev->lock);

	if (rec->flags & IOMMU_PGFAULT_FLAGS_PASID_VALID) {
		struct iommufd_hwpt *pasid_hwpt;

		pasid_hwpt = iommufd_device_pasid_hwpt(idev, rec->pasid);
		if (pasid_hwpt && rec->pasid != IOMMU_NO_PASID) {
			*via = rec->pasid;
			return pasid_hwpt->fault;
		}
		if (!idev->ops->user_pasid_table || !hwpt ||
		    hwpt->obj.type != IOMMUFD_OBJ_HWPT_NESTED)
			return NULL;
	}
	return hwpt ? hwpt->fault : NULL;
}

/**
 * iommufd_fault_report() - a device faulted on the HWPT it is attached to
 * @idev: the device
 * @records: the group's faults; the last one ends the group
 * @nr: how many (at least one)
 *
 * The group goes to the fault queue of the HWPT it faulted on: the one
 * its PASID is attached to, or the device's own for a request without a
 * PASID.  When there is none to take it (no HWPT, no queue, a PASID
 * nothing serves, a queue whose file is closed, no memory), the device is
 * answered IOMMUFD_PAGE_RESP_INVALID at once and -EINVAL (-ENOMEM)
 * returned.
 */
int iommufd_fault_report(struct iommufd_device *idev,
			 const struct iommufd_fault_record *records,
			 unsigned int nr)
{
	struct iommufd_fault_group *group;
	struct iommufd_fault *fault;
	int rc = -EINVAL;

	if (WARN_ON(!nr))
		return -EINVAL;
	group = kmalloc(struct_size(group, records, nr), GFP_KERNEL_ACCOUNT);
	if (!group) {
		idev->ops->page_response(idev, &records[nr - 1],
					 IOMMUFD_PAGE_RESP_INVALID);
		return -ENOMEM;
	}
	group->idev = idev;
	group->via_pasid = IOMMU_NO_PASID;
	group->cookie = 0;
	group->nr = nr;
	memcpy(group->records, records, flex_array_size(group, records, nr));

	/* The device cannot leave its HWPTs (and their queues) meanwhile. */
	mutex_lock(&idev->lock);
	fault = fault_route(idev, &records[nr - 1], &group->via_pasid);
	if (fault) {
		mutex_lock(&fault->mutex);
		if (!fault->closed) {
			list_add_tail(&group->node, &fault->unread);
			group = NULL;
			rc = 0;
		}
		mutex_unlock(&fault->mutex);
	}
	if (!rc)
		wake_up_interruptible_poll(&fault->wait, EPOLLIN | EPOLLRDNORM);
	mutex_unlock(&idev->lock);

	if (group)
		fault_group_answer(group, IOMMUFD_PAGE_RESP_INVALID);
	return rc;
}

/**
 * iommufd_fault_device_leaves() - @idev stops using a HWPT of @fault
 * @fault: the HWPT's fault queue
 * @idev: the device, its lock held: it reports nothing meanwhile
 *
 * What it reported there will never be resolved there: answer it now,
 * before the device can be attached anywhere else.
 */
void iommufd_fault_device_leaves(struct iommufd_fault *fault,
				 struct iommufd_device *idev)
{
	lockdep_assert_held(&idev->lock);

	mutex_lock(&fault->mutex);
	fault_answer_all(fault, idev, IOMMU_NO_PASID);
	mutex_unlock(&fault->mutex);
}

/**
 * iommufd_fault_pasid_leaves() - @pasid of @idev stops using a HWPT of @fault
 * @fault: the HWPT's fault queue
 * @idev: the device, its lock held
 * @pasid: the PASID
 *
 * As iommufd_fault_device_leaves(), for what that PASID's attachment took.
 */
void iommufd_fault_pasid_leaves(struct iommufd_fault *fault,
				struct iommufd_device *idev, u32 pasid)
{
	lockdep_assert_held(&idev->lock);

	mutex_lock(&fault->mutex);
	fault_answer_all(fault, idev, pasid);
	mutex_unlock(&fault->mutex);
}

/* Fill one struct iommu_hwpt_pgfault per record of @group at @ubuf. */
static int fault_copy_group(char __user *ubuf,
			    const struct iommufd_fault_group *group)
{
	unsigned int i;

	for (i = 0; i != group->nr; i++) {
		const struct iommufd_fault_record *rec = &group->records[i];
		struct iommu_hwpt_pgfault out = {
			.flags = rec->flags,
			.dev_id = group->idev->obj.id,
			.pasid = rec->pasid,
			.grpid = rec->grpid,
			.perm = rec->perm,
			.addr = rec->addr,
			/* Devices here give no length hint, nor upstream's. */
			.length = 0,
			.cookie = group->cookie,
		};

		if (copy_to_user(ubuf, &out, sizeof(out)))
			return -EFAULT;
		ubuf += sizeof(out);
	}
	return 0;
}

/*
 * As many whole groups as fit in @count bytes, oldest first.  A buffer
 * that is not a whole number of records, or a file position, is ESPIPE;
 * a buffer too small for the first group waiting is EINVAL (upstream's
 * answers).  Nothing waiting is a read of 0 bytes: the file never blocks
 * (poll() says when there is something).  An error after some groups
 * were copied is not reported: those groups count.
 */
static ssize_t fault_fop_read(struct file *file, char __user *buf,
			      size_t count, loff_t *ppos)
{
	const size_t rec_size = sizeof(struct iommu_hwpt_pgfault);
	struct iommufd_fault *fault = file->private_data;
	struct iommufd_fault_group *group;
	size_t done = 0;
	int rc = 0;

	if (*ppos || count % rec_size)
		return -ESPIPE;

	mutex_lock(&fault->mutex);
	while ((group = list_first_entry_or_null(&fault->unread,
						 struct iommufd_fault_group,
						 node))) {
		if (group->nr * rec_size > count - done) {
			if (!done)
				rc = -EINVAL;
			break;
		}
		rc = xa_alloc(&fault->awaiting, &group->cookie, group,
			      xa_limit_32b, GFP_KERNEL_ACCOUNT);
		if (rc)
			break;
		rc = fault_copy_group(buf + done, group);
		if (rc) {
			/* Still unread: the next read delivers it again. */
			xa_erase(&fault->awaiting, group->cookie);
			break;
		}
		list_del(&group->node);
		done += group->nr * rec_size;
	}
	mutex_unlock(&fault->mutex);

	return done ? done : rc;
}

/*
 * Answers, one struct iommu_hwpt_page_response each, applied in order
 * until one is bad: an unknown code or a cookie no group read and still
 * unanswered has is EINVAL, a bad buffer EFAULT, a count that is not a
 * whole number of answers ESPIPE.  Returns what was applied, or the error
 * if nothing was.
 */
static ssize_t fault_fop_write(struct file *file, const char __user *buf,
			       size_t count, loff_t *ppos)
{
	struct iommufd_fault *fault = file->private_data;
	struct iommu_hwpt_page_response answer;
	struct iommufd_fault_group *group;
	size_t done = 0;
	int rc = 0;

	if (*ppos || count % sizeof(answer))
		return -ESPIPE;

	mutex_lock(&fault->mutex);
	for (; done != count; done += sizeof(answer)) {
		if (copy_from_user(&answer, buf + done, sizeof(answer))) {
			rc = -EFAULT;
			break;
		}
		if (answer.code != IOMMUFD_PAGE_RESP_SUCCESS &&
		    answer.code != IOMMUFD_PAGE_RESP_INVALID) {
			rc = -EINVAL;
			break;
		}
		group = xa_erase(&fault->awaiting, answer.cookie);
		if (!group) {
			rc = -EINVAL;
			break;
		}
		fault_group_answer(group, answer.code);
	}
	mutex_unlock(&fault->mutex);

	return done ? done : rc;
}

/*
 * Always writable (answers are never refused for room); readable with a
 * group waiting.
 */
static __poll_t fault_fop_poll(struct file *file, poll_table *wait)
{
	struct iommufd_fault *fault = file->private_data;
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, &fault->wait, wait);
	mutex_lock(&fault->mutex);
	if (!list_empty(&fault->unread))
		mask |= EPOLLIN | EPOLLRDNORM;
	mutex_unlock(&fault->mutex);
	return mask;
}

static int fault_fop_release(struct inode *inode, struct file *file)
{
	struct iommufd_fault *fault = file->private_data;
	/* Once the hold below is gone the queue may be destroyed. */
	struct iommufd_ctx *ictx = fault->ictx;

	mutex_lock(&fault->mutex);
	fault->closed = true;
	fault_answer_all(fault, NULL, IOMMU_NO_PASID);
	mutex_unlock(&fault->mutex);

	iommufd_object_unref_user(&fault->obj);
	iommufd_ctx_put(ictx);
	return 0;
}

/*
 * What an administrator sees of a stalled device: the groups its queue
 * holds, not yet read and read but not answered.
 */
static void fault_fop_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct iommufd_fault *fault = file->private_data;
	struct iommufd_fault_group *group;
	unsigned long unread = 0, awaiting = 0, cookie;

	mutex_lock(&fault->mutex);
	list_for_each_entry(group, &fault->unread, node)
		unread++;
	xa_for_each(&fault->awaiting, cookie, group)
		awaiting++;
	mutex_unlock(&fault->mutex);
	seq_printf(m, "iommufd-fault-id:\t%u\n", fault->obj.id);
	seq_printf(m, "iommufd-fault-unread:\t%lu\n", unread);
	seq_printf(m, "iommufd-fault-awaiting:\t%lu\n", awaiting);
}

/* No llseek: the file has no position, lseek() is ESPIPE. */
static const struct file_operations iommufd_fault_fops = {
	.owner = THIS_MODULE,
	.read = fault_fop_read,
	.write = fault_fop_write,
	.poll = fault_fop_poll,
	.release = fault_fop_release,
	.show_fdinfo = fault_fop_show_fdinfo,
};

/* No HWPT holds it and its file is gone: nothing can still be queued. */
void iommufd_fault_destroy(struct iommufd_object *obj)
{
	struct iommufd_fault *fault =
		container_of(obj, struct iommufd_fault, obj);

	mutex_lock(&fault->mutex);
	fault_answer_all(fault, NULL, IOMMU_NO_PASID);
	mutex_unlock(&fault->mutex);
	xa_destroy(&fault->awaiting);
	mutex_destroy(&fault->mutex);
}

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd)
{
	struct iommu_fault_alloc *args = ucmd->cmd;
	struct iommufd_fault *queue;
	struct file *file;
	int fd, rc;

	/* No flags are defined. */
	if (args->flags)
		return -EOPNOTSUPP;
	queue = iommufd_object_alloc(ucmd->ictx, queue, IOMMUFD_OBJ_FAULT);
	if (IS_ERR(queue))
		return PTR_ERR(queue);
	mutex_init(&queue->mutex);
	INIT_LIST_HEAD(&queue->unread);
	xa_init_flags(&queue->awaiting, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&queue->wait);
	queue->ictx = ucmd->ictx;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto out_destroy;
	}
	args->out_fault_id = queue->obj.id;
	args->out_fault_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*args));
	if (rc)
		goto out_put_fd;
	/*
	 * The file comes last: once it exists only its release may undo
	 * what it holds, and that runs later than this function returns.
	 */
	file = anon_inode_getfile("[iommufd-pgfault]", &iommufd_fault_fops,
				  queue, O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto out_put_fd;
	}
	/* The file holds the queue and the context until it is released. */
	iommufd_object_ref_user(&queue->obj);
	get_file(ucmd->ictx->file);
	iommufd_object_finalize(ucmd->ictx, &queue->obj);
	fd_install(fd, file);
	return 0;

out_put_fd:
	put_unused_fd(fd);
out_destroy:
	iommufd_object_abort_and_destroy(ucmd->ictx, &queue->obj);
	return rc;
}

/**
 * iommufd_fault_get() - the fault queue @id, for a HWPT to deliver to
 * @ictx: the context
 * @id: the queue's id (fault_id of IOMMU_HWPT_ALLOC)
 *
 * The caller keeps the queue (a users hold) until iommufd_fault_put();
 * ENOENT for an id that names no fault queue, as upstream answers.
 */
struct iommufd_fault *iommufd_fault_get(struct iommufd_ctx *ictx, u32 id)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ictx, id, IOMMUFD_OBJ_FAULT);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	iommufd_object_ref_user(obj);
	iommufd_put_object(ictx, obj);
	return container_of(obj, struct iommufd_fault, obj);
}

void iommufd_fault_put(struct iommufd_fault *fault)
{
	iommufd_object_unref_user(&fault->obj);
}
