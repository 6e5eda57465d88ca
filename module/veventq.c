// SPDX-License-Identifier: GPL-2.0
/*
 * vEVENTQs: the queues that carry a vIOMMU's events (faults of its devices
 * as the guest's IOMMU would report them) to user space, through a file
 * descriptor of their own.
 *
 * A queue holds at most veventq_depth events.  Each event, and each event
 * dropped because the queue was full, takes the next sequence number
 * (counting up to INT_MAX, then from 0).  Drops are reported by one record
 * of its own, the lost-events record: a header with
 * IOMMU_VEVENTQ_FLAG_LOST_EVENTS and no data, kept at the tail of the
 * queue and carrying the number of the latest drop.  Once an event is
 * queued behind it again, the record is no longer needed (the gap in the
 * sequence numbers tells the story) and goes.
 *
 * Lifetime: the file holds a user of the queue object (IOMMU_DESTROY is
 * EBUSY while it is open) and a reference on the /dev/iommu file; the
 * queue holds a user of its vIOMMU.  Closing the file leaves the object,
 * and any events still queued, until IOMMU_DESTROY or release.
 *
 * Locks: viommu->veventqs_rwsem (read: queueing; write: adding or removing
 * a queue) > veventq->lock (the list, the counters).  Readers are
 * serialised by veventq->read_lock and copy out without the spinlock:
 * only a reader takes a normal event off the list, so the one at the head
 * stays put while it is copied.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/**
 * struct iommufd_vevent - one record of a queue
 * @node: in veventq->events
 * @header: what user space reads first
 * @data_len: bytes of @data; 0 for the lost-events record
 * @data: the event, in the format of the queue's type
 */
struct iommufd_vevent {
	struct list_head node;
	struct iommufd_vevent_header header;
	u32 data_len;
	u8 data[];
};

/**
 * struct iommufd_veventq - a vEVENTQ
 * @obj: registry header
 * @ictx: the context (its file is held by @file)
 * @viommu: the vIOMMU whose events it receives (a user of it)
 * @type: enum iommu_veventq_type, or the self-test's
 * @depth: how many events it holds before dropping
 * @lock: protects @events, @num_events, @sequence and @lost
 * @events: records, oldest first
 * @num_events: normal events on @events
 * @sequence: the number the next event or drop takes
 * @lost: the lost-events record, on @events (last) or off it (empty node)
 * @wait: readers and pollers
 * @read_lock: one reader at a time
 */
struct iommufd_veventq {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_viommu *viommu;
	u32 type;
	u32 depth;
	spinlock_t lock;
	struct list_head events;
	u32 num_events;
	u32 sequence;
	struct iommufd_vevent lost;
	wait_queue_head_t wait;
	struct mutex read_lock;
};

/* Append @vevent (or move the lost-events record to the end), numbered. */
static void veventq_append(struct iommufd_veventq *veventq,
			   struct iommufd_vevent *vevent)
{
	lockdep_assert_held(&veventq->lock);

	if (!list_empty(&veventq->lost.node))
		list_del_init(&veventq->lost.node);
	list_add_tail(&vevent->node, &veventq->events);
	vevent->header.sequence = veventq->sequence;
	veventq->sequence = (veventq->sequence + 1) & INT_MAX;
}

/**
 * iommufd_viommu_report_event() - queue an event of @viommu
 * @viommu: the vIOMMU
 * @type: the queue type the event is for
 * @data: the event, in that type's format
 * @len: its length
 *
 * EOPNOTSUPP when user space has no queue of @type on @viommu.  A full
 * queue (or no memory for the event) counts the event as lost.  Sleeps.
 */
int iommufd_viommu_report_event(struct iommufd_viommu *viommu, u32 type,
				const void *data, size_t len)
{
	struct iommufd_veventq *veventq;
	struct iommufd_vevent *vevent;
	int rc = 0;

	if (WARN_ON_ONCE(!len || len > U32_MAX))
		return -EINVAL;

	down_read(&viommu->veventqs_rwsem);
	veventq = xa_load(&viommu->veventqs, type);
	if (!veventq) {
		rc = -EOPNOTSUPP;
		goto out_unlock;
	}
	vevent = kmalloc(struct_size(vevent, data, len), GFP_KERNEL_ACCOUNT);
	if (vevent) {
		vevent->header.flags = 0;
		vevent->data_len = len;
		memcpy(vevent->data, data, len);
	} else {
		rc = -ENOMEM;
	}

	spin_lock(&veventq->lock);
	if (vevent && veventq->num_events < veventq->depth) {
		veventq->num_events++;
	} else {
		kfree(vevent);
		vevent = &veventq->lost;
	}
	veventq_append(veventq, vevent);
	spin_unlock(&veventq->lock);
	wake_up_interruptible(&veventq->wait);
out_unlock:
	up_read(&viommu->veventqs_rwsem);
	return rc;
}

/*
 * Hand out the head record into @buf if all of it fits in @room bytes:
 * its size, 0 when there is none or it does not fit, or -EFAULT.
 */
static ssize_t veventq_read_one(struct iommufd_veventq *veventq,
				char __user *buf, size_t room)
{
	const size_t hdr_len = sizeof(struct iommufd_vevent_header);
	struct iommufd_vevent_header lost_hdr;
	struct iommufd_vevent *head;

	lockdep_assert_held(&veventq->read_lock);
	if (room < hdr_len)
		return 0;

	spin_lock(&veventq->lock);
	head = list_first_entry_or_null(&veventq->events,
					struct iommufd_vevent, node);
	if (head == &veventq->lost) {
		/*
		 * Producers move this record: take it off now and copy what
		 * it says; should the copy fail, put it back unless events
		 * came behind it meanwhile (their numbers show the gap).
		 */
		lost_hdr = veventq->lost.header;
		list_del_init(&veventq->lost.node);
		spin_unlock(&veventq->lock);
		if (!copy_to_user(buf, &lost_hdr, hdr_len))
			return hdr_len;
		spin_lock(&veventq->lock);
		if (list_empty(&veventq->events)) {
			veventq->lost.header = lost_hdr;
			list_add_tail(&veventq->lost.node, &veventq->events);
		}
		spin_unlock(&veventq->lock);
		return -EFAULT;
	}
	spin_unlock(&veventq->lock);
	if (!head)
		return 0;

	/* Whole records only: a short buffer leaves it for the next read. */
	if (room - hdr_len < head->data_len)
		return 0;
	if (copy_to_user(buf, &head->header, hdr_len) ||
	    copy_to_user(buf + hdr_len, head->data, head->data_len))
		return -EFAULT;

	spin_lock(&veventq->lock);
	list_del(&head->node);
	veventq->num_events--;
	spin_unlock(&veventq->lock);
	room = hdr_len + head->data_len;
	kfree(head);
	return room;
}

/*
 * read(): as many whole records as fit, oldest first; 0 when there is
 * nothing (the file never blocks: poll() says when to read) or the first
 * record does not fit; EFAULT only if nothing was copied.  Only offset 0.
 */
static ssize_t veventq_fops_read(struct file *file, char __user *buf,
				 size_t count, loff_t *ppos)
{
	struct iommufd_veventq *veventq = file->private_data;
	ssize_t done = 0, got = 0;

	if (*ppos)
		return -ESPIPE;
	mutex_lock(&veventq->read_lock);
	while (done < count) {
		got = veventq_read_one(veventq, buf + done, count - done);
		if (got <= 0)
			break;
		done += got;
	}
	mutex_unlock(&veventq->read_lock);
	return done ?: got;
}

static __poll_t veventq_fops_poll(struct file *file,
				  struct poll_table_struct *wait)
{
	struct iommufd_veventq *veventq = file->private_data;
	__poll_t mask = 0;

	poll_wait(file, &veventq->wait, wait);
	spin_lock(&veventq->lock);
	if (!list_empty(&veventq->events))
		mask = EPOLLIN | EPOLLRDNORM;
	spin_unlock(&veventq->lock);
	return mask;
}

/* The last close: the object may now be destroyed, the context released. */
static int veventq_fops_release(struct inode *inode, struct file *file)
{
	struct iommufd_veventq *veventq = file->private_data;
	struct iommufd_ctx *ictx = veventq->ictx;

	iommufd_object_unref_user(&veventq->obj);
	iommufd_ctx_put(ictx);
	return 0;
}

static const struct file_operations veventq_fops = {
	.owner = THIS_MODULE,
	.read = veventq_fops_read,
	.poll = veventq_fops_poll,
	.release = veventq_fops_release,
};

/* Retired: its file is closed, so no reader is left; events go with it. */
void iommufd_veventq_destroy(struct iommufd_object *obj)
{
	struct iommufd_veventq *veventq =
		container_of(obj, struct iommufd_veventq, obj);
	struct iommufd_viommu *viommu = veventq->viommu;
	struct iommufd_vevent *cur, *next;

	/* After this no producer can find it; queued events are ours. */
	if (viommu) {
		down_write(&viommu->veventqs_rwsem);
		xa_cmpxchg(&viommu->veventqs, veventq->type, veventq, NULL, 0);
		up_write(&viommu->veventqs_rwsem);
	}
	list_for_each_entry_safe(cur, next, &veventq->events, node) {
		list_del(&cur->node);
		if (cur != &veventq->lost)
			kfree(cur);
	}
	mutex_destroy(&veventq->read_lock);
	if (viommu)
		iommufd_object_unref_user(&viommu->obj);
}

/*
 * IOMMU_VEVENTQ_ALLOC.  Upstream's answers: flags, __reserved or the
 * default type (EOPNOTSUPP), a depth of 0 (EINVAL), the vIOMMU (ENOENT),
 * a second queue of one type on one vIOMMU (EEXIST).  Any other depth is
 * accepted: events are allocated as they come, not up front.
 */
int iommufd_veventq_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_veventq_alloc *cmd = ucmd->cmd;
	struct iommufd_veventq *veventq;
	struct iommufd_viommu *viommu;
	struct file *file;
	void *taken;
	int fd, rc;

	if (cmd->flags || cmd->__reserved ||
	    cmd->type == IOMMU_VEVENTQ_TYPE_DEFAULT)
		return -EOPNOTSUPP;
	if (!cmd->veventq_depth)
		return -EINVAL;
	viommu = iommufd_get_viommu(ucmd->ictx, cmd->viommu_id);
	if (IS_ERR(viommu))
		return PTR_ERR(viommu);

	veventq = iommufd_object_alloc(ucmd->ictx, veventq,
				       IOMMUFD_OBJ_VEVENTQ);
	if (IS_ERR(veventq)) {
		rc = PTR_ERR(veventq);
		goto out_put_viommu;
	}
	veventq->ictx = ucmd->ictx;
	veventq->type = cmd->type;
	veventq->depth = cmd->veventq_depth;
	spin_lock_init(&veventq->lock);
	INIT_LIST_HEAD(&veventq->events);
	INIT_LIST_HEAD(&veventq->lost.node);
	veventq->lost.header.flags = IOMMU_VEVENTQ_FLAG_LOST_EVENTS;
	init_waitqueue_head(&veventq->wait);
	mutex_init(&veventq->read_lock);

	down_write(&viommu->veventqs_rwsem);
	taken = xa_cmpxchg(&viommu->veventqs, cmd->type, NULL, veventq,
			   GFP_KERNEL_ACCOUNT);
	if (taken) {
		up_write(&viommu->veventqs_rwsem);
		rc = xa_err(taken) ?: -EEXIST;
		goto out_abort;
	}
	iommufd_object_ref_user(&viommu->obj);
	veventq->viommu = viommu;
	up_write(&viommu->veventqs_rwsem);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto out_abort;
	}
	cmd->out_veventq_id = veventq->obj.id;
	cmd->out_veventq_fd = fd;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_put_fd;
	/*
	 * The file comes last: once it exists only its release may drop
	 * what it holds, and that may run later than this ioctl.
	 */
	file = anon_inode_getfile("[iommufd-vevent]", &veventq_fops, veventq,
				  O_RDWR);
	if (IS_ERR(file)) {
		rc = PTR_ERR(file);
		goto out_put_fd;
	}
	iommufd_object_ref_user(&veventq->obj);
	get_file(ucmd->ictx->file);
	iommufd_object_finalize(ucmd->ictx, &veventq->obj);
	fd_install(fd, file);
	goto out_put_viommu;

out_put_fd:
	put_unused_fd(fd);
out_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &veventq->obj);
out_put_viommu:
	iommufd_put_object(ucmd->ictx, &viommu->obj);
	return rc;
}
