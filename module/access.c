// SPDX-License-Identifier: GPL-2.0
/*
 * In-kernel accesses to an IOAS: what an emulated device (an mdev driver, a
 * VMM-side device model in the kernel) or the self-test uses to reach guest
 * memory by IOVA.  An access pins pages or copies through an IOAS, and
 * must drop its pins when user space unmaps them: unmap calls its ->unmap
 * callback and waits for the range to be released.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/slab.h>

#include "iommufd_private.h"

/**
 * iommufd_access_create() - a new in-kernel user of the context's IOAS
 * @ictx: the context
 * @ops: the user's callbacks; ->unmap is needed by one that pins pages
 * @data: the user's argument to @ops
 * @access_id: gets the access object's id
 *
 * The access reaches no memory until iommufd_access_attach().
 */
struct iommufd_access *
iommufd_access_create(struct iommufd_ctx *ictx,
		      const struct iommufd_access_ops *ops, void *data,
		      u32 *access_id)
{
	struct iommufd_access *access;

	access = iommufd_object_alloc(ictx, access, IOMMUFD_OBJ_ACCESS);
	if (IS_ERR(access))
		return access;
	access->ictx = ictx;
	access->ops = ops;
	access->data = data;
	mutex_init(&access->ioas_lock);
	/*
	 * The access may outlive the user's /dev/iommu fd; the context must
	 * not be released under it.
	 */
	get_file(ictx->file);
	/* The creator holds the access until iommufd_access_destroy(). */
	iommufd_object_ref_user(&access->obj);
	/* Read before publication: from then on user space may see it. */
	*access_id = access->obj.id;
	iommufd_object_finalize(ictx, &access->obj);
	return access;
}
IOMMUFD_EXPORT_KAPI(iommufd_access_create);

/*
 * An internal access belongs to another object of the context (a HW
 * queue): it is in no registry, holds no reference on the file (it goes
 * when its owner does, at the latest when the file is released), and has
 * no ->unmap: its pins lock their areas, which refuse to be unmapped
 * (EBUSY) until it unpins.
 */
static const struct iommufd_access_ops iommufd_access_internal_ops = {
	.needs_pin_pages = true,
};

struct iommufd_access *iommufd_access_create_internal(struct iommufd_ctx *ictx)
{
	struct iommufd_access *access;

	access = kzalloc(sizeof(*access), GFP_KERNEL_ACCOUNT);
	if (!access)
		return ERR_PTR(-ENOMEM);
	access->obj.type = IOMMUFD_OBJ_ACCESS;
	refcount_set(&access->obj.users, 1);
	refcount_set(&access->obj.shortterm_users, 1);
	access->ictx = ictx;
	access->ops = &iommufd_access_internal_ops;
	mutex_init(&access->ioas_lock);
	return access;
}

static bool iommufd_access_is_internal(struct iommufd_access *access)
{
	return access->ops == &iommufd_access_internal_ops;
}

/* Leave the IOAS: unmaps stop telling us, and the IOAS may go. */
static void iommufd_access_detach_locked(struct iommufd_access *access)
{
	struct iommufd_ioas *ioas = access->ioas;

	lockdep_assert_held(&access->ioas_lock);
	if (!ioas)
		return;
	access->ioas = NULL;
	iopt_remove_access(&ioas->iopt, access->iopt_access_id,
			   access->ops->needs_pin_pages);
	iommufd_object_unref_user(&ioas->obj);
}

/* Retired: no unmap can be telling it anything any more. */
void iommufd_access_destroy_object(struct iommufd_object *obj)
{
	struct iommufd_access *access;

	access = container_of(obj, struct iommufd_access, obj);

	mutex_lock(&access->ioas_lock);
	iommufd_access_detach_locked(access);
	mutex_unlock(&access->ioas_lock);
	mutex_destroy(&access->ioas_lock);
}

/* Its owner is done with it and has dropped its pins. */
void iommufd_access_destroy_internal(struct iommufd_access *access)
{
	iommufd_access_destroy_object(&access->obj);
	kfree(access);
}

/*
 * The creator is done with the access: retire it, after any unmap
 * notification still running its callback.  VFIO destroys an emulated
 * device's access without detaching it first, so one still attached is
 * told, as a detach would tell it, to drop whatever it still pins.
 */
void iommufd_access_destroy(struct iommufd_access *access)
{
	struct iommufd_ctx *ictx = access->ictx;
	bool attached;

	mutex_lock(&access->ioas_lock);
	attached = access->ioas;
	mutex_unlock(&access->ioas_lock);
	if (attached && access->ops->unmap)
		access->ops->unmap(access->data, 0, ULONG_MAX);

	iommufd_object_owner_retire(ictx, &access->obj);
	fput(ictx->file);
}
IOMMUFD_EXPORT_KAPI(iommufd_access_destroy);

/* Register @access with IOAS @ioas_id; returns it referenced, or an error. */
static struct iommufd_ioas *access_join_ioas(struct iommufd_access *access,
					     u32 ioas_id, u32 *list_id)
{
	struct iommufd_ioas *ioas;
	int rc;

	ioas = iommufd_get_ioas(access->ictx, ioas_id);
	if (IS_ERR(ioas))
		return ioas;
	rc = iopt_add_access(&ioas->iopt, access, access->ops->needs_pin_pages,
			     list_id);
	if (!rc)
		iommufd_object_ref_user(&ioas->obj);
	iommufd_put_object(access->ictx, &ioas->obj);
	return rc ? ERR_PTR(rc) : ioas;
}

int iommufd_access_attach(struct iommufd_access *access, u32 ioas_id)
{
	struct iommufd_ioas *ioas;
	int rc = 0;

	mutex_lock(&access->ioas_lock);
	if (access->ioas) {
		rc = -EINVAL;
		goto out_unlock;
	}
	ioas = access_join_ioas(access, ioas_id, &access->iopt_access_id);
	if (IS_ERR(ioas))
		rc = PTR_ERR(ioas);
	else
		access->ioas = ioas;
out_unlock:
	mutex_unlock(&access->ioas_lock);
	return rc;
}
IOMMUFD_EXPORT_KAPI(iommufd_access_attach);

/*
 * Move the access to another IOAS.  Its pins belong to the old one, so
 * once the new one has taken it (a failure changes nothing), it is told
 * to drop them all, exactly as an unmap of everything would tell it (the
 * callback unpins, so no lock of ours may be held).
 */
int iommufd_access_replace(struct iommufd_access *access, u32 ioas_id)
{
	struct iommufd_ioas *new;
	u32 new_list_id;
	int rc = 0;

	mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		rc = -ENOENT;
		goto out_unlock;
	}
	if (access->ioas->obj.id == ioas_id)
		goto out_unlock;
	new = access_join_ioas(access, ioas_id, &new_list_id);
	if (IS_ERR(new)) {
		rc = PTR_ERR(new);
		goto out_unlock;
	}
	mutex_unlock(&access->ioas_lock);

	if (access->ops->unmap)
		access->ops->unmap(access->data, 0, ULONG_MAX);

	mutex_lock(&access->ioas_lock);
	iommufd_access_detach_locked(access);
	access->ioas = new;
	access->iopt_access_id = new_list_id;
out_unlock:
	mutex_unlock(&access->ioas_lock);
	return rc;
}
IOMMUFD_EXPORT_KAPI(iommufd_access_replace);

/*
 * Leave the IOAS for good.  Like a replace, the user is told first to drop
 * every pin it holds; detaching an access that is not attached is the
 * caller's bug.
 */
void iommufd_access_detach(struct iommufd_access *access)
{
	bool attached;

	mutex_lock(&access->ioas_lock);
	attached = access->ioas;
	mutex_unlock(&access->ioas_lock);
	if (WARN_ON(!attached))
		return;

	if (access->ops->unmap)
		access->ops->unmap(access->data, 0, ULONG_MAX);

	mutex_lock(&access->ioas_lock);
	iommufd_access_detach_locked(access);
	mutex_unlock(&access->ioas_lock);
}
IOMMUFD_EXPORT_KAPI(iommufd_access_detach);

/*
 * Ask every access of @iopt to drop its pins inside [iova, iova + length).
 * They are called without any IOAS lock held, since they unpin (and so
 * take the locks) from inside the callback.
 */
void iommufd_access_notify_unmap(struct io_pagetable *iopt,
				 unsigned long iova, unsigned long length)
{
	struct iommufd_access *access;
	unsigned long index;

	xa_lock(&iopt->access_list);
	xa_for_each(&iopt->access_list, index, access) {
		/*
		 * Held like an ioctl holds an object, so that destroying the
		 * access waits for the callback.  One being destroyed already
		 * dropped its pins: nothing to tell it; nor is there anything
		 * to tell an internal one (see above).
		 */
		if (iommufd_access_is_internal(access) ||
		    !iommufd_object_tryget(&access->obj))
			continue;
		xa_unlock(&iopt->access_list);
		if (access->ops->unmap)
			access->ops->unmap(access->data, iova, length);
		iommufd_put_object(access->ictx, &access->obj);
		xa_lock(&iopt->access_list);
	}
	xa_unlock(&iopt->access_list);
}


/* The IOAS the access reaches memory through, locked for reading. */
static struct io_pagetable *access_lock(struct iommufd_access *access)
{
	mutex_lock(&access->ioas_lock);
	if (!access->ioas) {
		mutex_unlock(&access->ioas_lock);
		return NULL;
	}
	down_read(&access->ioas->iopt.iova_rwsem);
	return &access->ioas->iopt;
}

static void access_unlock(struct iommufd_access *access,
			  struct io_pagetable *iopt)
{
	up_read(&iopt->iova_rwsem);
	mutex_unlock(&access->ioas_lock);
}

static int access_range(unsigned long iova, unsigned long length,
			unsigned long *last)
{
	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, last))
		return -EOVERFLOW;
	return 0;
}

/* May an access use @area in this direction?  0 or the errno. */
static int access_check_area(struct iopt_area *area, bool write)
{
	/* An unmap is waiting for accesses to leave this area. */
	if (area->prevent_access)
		return -EINVAL;
	if (!(area->iommu_prot & (write ? IOMMU_WRITE : IOMMU_READ)))
		return -EPERM;
	return 0;
}

/* Unpin [iova, last] of @iopt, which an earlier pin covered. */
static void access_unpin_range(struct iommufd_access *access,
			       struct io_pagetable *iopt, unsigned long iova,
			       unsigned long last)
{
	struct iopt_contig_iter iter;
	struct iopt_area *area;

	for_each_contig_area(&iter, area, iopt, iova, last) {
		iopt_pages_access_unpin(area->pages,
					iopt_area_start_byte(area, iter.cur) /
						PAGE_SIZE,
					iopt_area_start_byte(area, iter.end) /
						PAGE_SIZE);
		mutex_lock(&area->pages->mutex);
		area->num_accesses--;
		if (iommufd_access_is_internal(access))
			area->num_locks--;
		mutex_unlock(&area->pages->mutex);
	}
	WARN_ON(!iopt_contig_covered(&iter));
}

/**
 * iommufd_access_pin_pages() - pin the pages behind an IOVA range
 * @access: the access
 * @iova: first IOVA; its page is pinned from its first byte
 * @length: bytes
 * @pages: gets one struct page pointer per page the range touches
 * @flags: IOMMUFD_ACCESS_RW_WRITE when the caller will write to them
 *
 * The range must be mapped without a gap.  Until iommufd_access_unpin_pages()
 * of the same range the pages stay, and an unmap of any of them first asks
 * the access, through ->unmap, to let go.
 */
int iommufd_access_pin_pages(struct iommufd_access *access, unsigned long iova,
			     unsigned long length, struct page **pages,
			     unsigned int flags)
{
	bool write = flags & IOMMUFD_ACCESS_RW_WRITE;
	struct iopt_contig_iter iter;
	struct io_pagetable *iopt;
	struct iopt_area *area;
	unsigned long last;
	int rc;

	/*
	 * Only an access that said so keeps its IOAS's areas page aligned,
	 * and a page is handed out whole, from its first byte.
	 */
	if (!access->ops->needs_pin_pages)
		return -EINVAL;
	rc = access_range(iova, length, &last);
	if (rc)
		return rc;
	iopt = access_lock(access);
	if (!iopt)
		return -ENOENT;
	for_each_contig_area(&iter, area, iopt, iova, last) {
		unsigned long index = iopt_area_start_byte(area, iter.cur) /
				      PAGE_SIZE;
		unsigned long last_index = iopt_area_start_byte(area, iter.end) /
					   PAGE_SIZE;

		rc = access_check_area(area, write);
		if (!rc)
			rc = iopt_pages_access_pin(area->pages, index,
						   last_index, pages);
		if (rc)
			break;
		mutex_lock(&area->pages->mutex);
		area->num_accesses++;
		if (iommufd_access_is_internal(access))
			area->num_locks++;
		mutex_unlock(&area->pages->mutex);
		pages += last_index - index + 1;
	}
	if (!rc && !iopt_contig_covered(&iter))
		rc = -ENOENT;
	/* Whatever was pinned before the failure goes again. */
	if (rc && iter.cur > iova)
		access_unpin_range(access, iopt, iova, iter.cur - 1);
	access_unlock(access, iopt);
	return rc;
}
IOMMUFD_EXPORT_KAPI(iommufd_access_pin_pages);

void iommufd_access_unpin_pages(struct iommufd_access *access,
				unsigned long iova, unsigned long length)
{
	struct io_pagetable *iopt;
	unsigned long last;

	if (WARN_ON(access_range(iova, length, &last)))
		return;
	iopt = access_lock(access);
	if (WARN_ON(!iopt))
		return;
	access_unpin_range(access, iopt, iova, last);
	access_unlock(access, iopt);
}
IOMMUFD_EXPORT_KAPI(iommufd_access_unpin_pages);

/**
 * iommufd_access_rw() - copy to or from the memory behind an IOVA range
 * @access: the access
 * @iova: first IOVA, any alignment
 * @buf: kernel buffer
 * @length: bytes
 * @flags: IOMMUFD_ACCESS_RW_WRITE copies @buf into guest memory;
 *         __IOMMUFD_ACCESS_RW_SLOW_PATH (the self-test's) never uses the
 *         mapper's address space even when it could.  A kernel thread
 *         (IOMMUFD_ACCESS_RW_KTHREAD) is never in that address space, so
 *         its copies always go through pinned pages.
 */
int iommufd_access_rw(struct iommufd_access *access, unsigned long iova,
		      void *buf, size_t length, unsigned int flags)
{
	bool slow_path = flags & __IOMMUFD_ACCESS_RW_SLOW_PATH;
	bool write = flags & IOMMUFD_ACCESS_RW_WRITE;
	struct iopt_contig_iter iter;
	struct io_pagetable *iopt;
	struct iopt_area *area;
	unsigned long last;
	int rc;

	rc = access_range(iova, length, &last);
	if (rc)
		return rc;
	iopt = access_lock(access);
	if (!iopt)
		return -ENOENT;
	for_each_contig_area(&iter, area, iopt, iova, last) {
		unsigned long n = iter.end - iter.cur + 1;

		rc = access_check_area(area, write);
		if (!rc)
			rc = iopt_pages_rw_access(area->pages,
						  iopt_area_start_byte(area,
								       iter.cur),
						  buf, n, write, slow_path);
		if (rc)
			break;
		buf += n;
	}
	if (!rc && !iopt_contig_covered(&iter))
		rc = -ENOENT;
	access_unlock(access, iopt);
	return rc;
}
IOMMUFD_EXPORT_KAPI(iommufd_access_rw);
