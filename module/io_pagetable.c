// SPDX-License-Identifier: GPL-2.0
/*
 * The IOVA space of an IOAS: areas, allowed and reserved ranges, and the
 * domains that mirror the areas.  Pinning and loading PFNs into domains is
 * pages.c's business; this file decides where things go and keeps every
 * domain in step with the areas.
 */
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/overflow.h>
#include <linux/slab.h>

#include "iommufd_private.h"

struct iopt_area *iopt_area_iter_first(struct io_pagetable *iopt,
				       unsigned long first, unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_first(&iopt->area_itree, first, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

struct iopt_area *iopt_area_iter_next(struct iopt_area *area,
				      unsigned long first, unsigned long last)
{
	struct interval_tree_node *node;

	node = interval_tree_iter_next(&area->node, first, last);
	return node ? container_of(node, struct iopt_area, node) : NULL;
}

/* The iterator's step: @area if it continues the range from iter->cur. */
static struct iopt_area *iopt_contig_take(struct iopt_contig_iter *iter,
					  struct iopt_area *area)
{
	if (!area || !area->ready || iopt_area_iova(area) > iter->cur)
		return NULL;
	iter->end = min(iter->last, iopt_area_last_iova(area));
	return area;
}

struct iopt_area *iopt_contig_first(struct iopt_contig_iter *iter,
				    struct io_pagetable *iopt,
				    unsigned long first, unsigned long last)
{
	lockdep_assert_held(&iopt->iova_rwsem);

	iter->cur = first;
	iter->last = last;
	iter->covered = false;
	return iopt_contig_take(iter, iopt_area_iter_first(iopt, first, last));
}

struct iopt_area *iopt_contig_next(struct iopt_contig_iter *iter,
				   struct iopt_area *area)
{
	if (iter->end == iter->last) {
		iter->covered = true;
		return NULL;
	}
	iter->cur = iter->end + 1;
	return iopt_contig_take(iter, iopt_area_iter_next(area, iter->cur,
							   iter->last));
}

static bool iopt_itree_overlaps(struct rb_root_cached *root,
				unsigned long first, unsigned long last)
{
	return interval_tree_iter_first(root, first, last);
}

void iopt_init_table(struct io_pagetable *iopt)
{
	init_rwsem(&iopt->domains_rwsem);
	init_rwsem(&iopt->iova_rwsem);
	xa_init_flags(&iopt->domains, XA_FLAGS_ACCOUNT);
	xa_init_flags(&iopt->access_list, XA_FLAGS_ALLOC);
	iopt->area_itree = RB_ROOT_CACHED;
	iopt->allowed_itree = RB_ROOT_CACHED;
	iopt->reserved_itree = RB_ROOT_CACHED;
	/* With no domain the IOVA space is byte-granular. */
	iopt->iova_alignment = 1;
}

static void iopt_free_itree(struct rb_root_cached *root, size_t offset)
{
	struct interval_tree_node *node;

	while ((node = interval_tree_iter_first(root, 0, ULONG_MAX))) {
		interval_tree_remove(node, root);
		kfree((void *)node - offset);
	}
}

void iopt_destroy_table(struct io_pagetable *iopt)
{
	iopt_free_itree(&iopt->allowed_itree,
			offsetof(struct iopt_allowed, node));
	/* Reserved ranges without an owner came from the self-test. */
	iopt_remove_reserved_iova(iopt, NULL);
	WARN_ON(!RB_EMPTY_ROOT(&iopt->reserved_itree.rb_root));
	WARN_ON(!RB_EMPTY_ROOT(&iopt->area_itree.rb_root));
	WARN_ON(!xa_empty(&iopt->domains));
	WARN_ON(!xa_empty(&iopt->access_list));
}

/* IOVA allocation -------------------------------------------------------- */

/*
 * First address >= @start that is @align-aligned after removing
 * @page_offset, plus @page_offset; false on overflow.
 */
static bool iova_align_up(unsigned long start, unsigned long align,
			  unsigned long page_offset, unsigned long *out)
{
	unsigned long base;

	if (check_add_overflow(start, align - 1, &base))
		return false;
	base = (base & ~(align - 1)) | page_offset;
	if (base < start) {
		if (check_add_overflow(base, align, &base))
			return false;
	}
	*out = base;
	return true;
}

/*
 * Find room for @length bytes inside [first, last] that touches neither a
 * reserved range nor an area.  Each conflict found moves the candidate past
 * it, so the walk is linear in the number of conflicting ranges.
 */
static bool iopt_find_hole(struct io_pagetable *iopt, unsigned long first,
			   unsigned long last, unsigned long length,
			   unsigned long align, unsigned long page_offset,
			   unsigned long *iova)
{
	unsigned long cand = first, cand_last;
	struct interval_tree_node *node;

	for (;;) {
		if (!iova_align_up(cand, align, page_offset, &cand) ||
		    check_add_overflow(cand, length - 1, &cand_last) ||
		    cand_last > last)
			return false;
		node = interval_tree_iter_first(&iopt->reserved_itree, cand,
						cand_last);
		if (!node)
			node = interval_tree_iter_first(&iopt->area_itree, cand,
							cand_last);
		if (!node) {
			*iova = cand;
			return true;
		}
		if (node->last >= last)
			return false;
		cand = node->last + 1;
	}
}

/*
 * Choose an IOVA for @length bytes of memory at user address @uptr.  The
 * IOVA keeps the alignment @uptr has (up to 2 MiB, a THP), so that large
 * IOMMU pages can map it, and is never 0.
 */
static int iopt_pick_iova(struct io_pagetable *iopt, unsigned long uptr,
			  unsigned long length, unsigned long *iova)
{
	unsigned long page_offset = uptr % PAGE_SIZE;
	struct interval_tree_node *allowed;
	unsigned long align;

	lockdep_assert_held(&iopt->iova_rwsem);
	if (!length || length >= ULONG_MAX / 2)
		return -EOVERFLOW;

	align = roundup_pow_of_two(length);
	if (uptr)
		align = min(align, 1UL << __ffs(uptr));
	align = min_t(unsigned long, align, SZ_2M);
	align = max(align, PAGE_SIZE);
	if (page_offset & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (iopt->iova_alignment > align)
		return -EINVAL;

	if (RB_EMPTY_ROOT(&iopt->allowed_itree.rb_root))
		return iopt_find_hole(iopt, PAGE_SIZE, ULONG_MAX - PAGE_SIZE,
				      length, align, page_offset, iova) ?
			       0 : -ENOSPC;

	for (allowed = interval_tree_iter_first(&iopt->allowed_itree, 0,
						ULONG_MAX);
	     allowed;
	     allowed = interval_tree_iter_next(allowed, 0, ULONG_MAX)) {
		if (iopt_find_hole(iopt, max(allowed->start, PAGE_SIZE),
				   allowed->last, length, align, page_offset,
				   iova))
			return 0;
	}
	return -ENOSPC;
}

/* May a fixed @iova take @length bytes?  The answers are upstream's. */
static int iopt_check_fixed_iova(struct io_pagetable *iopt,
				 unsigned long iova, unsigned long length)
{
	unsigned long last;

	lockdep_assert_held(&iopt->iova_rwsem);
	if (iova & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	if (iopt_itree_overlaps(&iopt->reserved_itree, iova, last))
		return -EINVAL;
	if (iopt_itree_overlaps(&iopt->area_itree, iova, last))
		return -EEXIST;
	return 0;
}

/* Areas ------------------------------------------------------------------ */

/* A blank area, in no tree yet. */
static struct iopt_area *iopt_new_area(void)
{
	struct iopt_area *area = kzalloc(sizeof(*area), GFP_KERNEL_ACCOUNT);

	if (area) {
		RB_CLEAR_NODE(&area->node.rb);
		RB_CLEAR_NODE(&area->pages_node.rb);
	}
	return area;
}

/*
 * Place @area at [iova, iova + length) over bytes [start_byte, start_byte +
 * length) of @pages.  The area is not ready: lookups see the IOVA taken,
 * but nothing else touches it until iopt_map_pages() finishes.
 */
static int iopt_place_area(struct iopt_area *area, struct io_pagetable *iopt,
			   struct iopt_pages *pages, unsigned long iova,
			   unsigned long start_byte, unsigned long length,
			   int prot)
{
	unsigned long last_byte;

	/* A device may not write what was pinned read-only. */
	if ((prot & IOMMU_WRITE) && !pages->writable)
		return -EPERM;
	lockdep_assert_held_write(&iopt->iova_rwsem);
	area->page_offset = start_byte % PAGE_SIZE;
	if (area->page_offset & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &area->node.last) ||
	    check_add_overflow(start_byte, length - 1, &last_byte))
		return -EOVERFLOW;
	if (WARN_ON(last_byte / PAGE_SIZE >= pages->npages))
		return -EOVERFLOW;

	area->iopt = iopt;
	area->pages = pages;
	area->iommu_prot = prot;
	area->window_shift = iopt_window_shift();
	area->node.start = iova;
	area->pages_node.start = start_byte / PAGE_SIZE;
	area->pages_node.last = last_byte / PAGE_SIZE;
	/* Visible to IOVA lookups from now on, but not ready. */
	interval_tree_insert(&area->node, &iopt->area_itree);
	return 0;
}

/* Free an area, taking it out of its IO page table if it was placed. */
static void iopt_drop_area(struct iopt_area *area)
{
	struct io_pagetable *iopt = area->iopt;

	if (iopt) {
		down_write(&iopt->iova_rwsem);
		interval_tree_remove(&area->node, &iopt->area_itree);
		up_write(&iopt->iova_rwsem);
	}
	kfree(area);
}

/* Release a list of slices: their areas (if placed) and page references. */
void iopt_free_pages_list(struct list_head *pages_list)
{
	struct iopt_pages_list *elm, *tmp;

	list_for_each_entry_safe(elm, tmp, pages_list, next) {
		list_del(&elm->next);
		if (elm->area)
			iopt_drop_area(elm->area);
		if (elm->pages)
			iopt_put_pages(elm->pages);
		kfree(elm);
	}
}

/**
 * iopt_map_pages() - map a list of page slices at consecutive IOVAs
 * @iopt: the IO page table
 * @pages_list: struct iopt_pages_list entries; each one's pages reference
 *              moves to its new area on success
 * @length: total bytes
 * @iova: in: the IOVA (with IOPT_ALLOC_IOVA unset); out: where it went
 * @iommu_prot: protection for every area
 * @flags: IOPT_ALLOC_IOVA to let the kernel choose
 */
int iopt_map_pages(struct io_pagetable *iopt, struct list_head *pages_list,
		   unsigned long length, unsigned long *iova, int iommu_prot,
		   unsigned int flags)
{
	struct iopt_pages_list *elm, *failed;
	unsigned long cur;
	int rc = 0;

	/* Every area exists before anything is placed: no undo midway. */
	list_for_each_entry(elm, pages_list, next) {
		struct iopt_area *area = iopt_new_area();

		if (!area)
			return -ENOMEM;
		elm->area = area;
	}

	down_write(&iopt->iova_rwsem);
	if (!length || (length & (iopt->iova_alignment - 1))) {
		rc = -EINVAL;
		goto out_unlock_iova;
	}
	if (flags & IOPT_ALLOC_IOVA) {
		elm = list_first_entry(pages_list, struct iopt_pages_list, next);
		rc = iopt_pick_iova(iopt, iopt_pages_list_uptr(elm), length,
				    iova);
	} else {
		rc = iopt_check_fixed_iova(iopt, *iova, length);
	}
	if (rc)
		goto out_unlock_iova;

	cur = *iova;
	list_for_each_entry(elm, pages_list, next) {
		rc = iopt_place_area(elm->area, iopt, elm->pages, cur,
				     elm->start_byte, elm->length, iommu_prot);
		if (rc)
			goto out_unlock_iova;
		cur += elm->length;
	}
	up_write(&iopt->iova_rwsem);

	/*
	 * Fill while holding the domains lock for read: a domain added
	 * meanwhile waits, then finds the areas ready and copies them.
	 */
	down_read(&iopt->domains_rwsem);
	list_for_each_entry(elm, pages_list, next) {
		rc = iopt_area_fill_domains(elm->area, NULL);
		if (rc)
			goto err_unfill;
	}
	down_write(&iopt->iova_rwsem);
	list_for_each_entry(elm, pages_list, next) {
		elm->area->ready = true;
		elm->area = NULL;
		elm->pages = NULL;
	}
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
	return 0;

err_unfill:
	failed = elm;
	list_for_each_entry(elm, pages_list, next) {
		if (elm == failed)
			break;
		iopt_area_unfill_domains(elm->area, NULL);
	}
	up_read(&iopt->domains_rwsem);
	return rc;

out_unlock_iova:
	up_write(&iopt->iova_rwsem);
	return rc;
}

/* The user address the first slice starts at, to guess a good alignment. */
unsigned long iopt_pages_list_uptr(struct iopt_pages_list *elm)
{
	if (elm->pages->source == IOPT_SOURCE_USER)
		return (uintptr_t)elm->pages->uptr + elm->start_byte;
	return elm->pages->file_start + elm->start_byte;
}

static int iopt_map_new_pages(struct io_pagetable *iopt,
			      struct iopt_pages *pages, unsigned long start_byte,
			      unsigned long *iova, unsigned long length,
			      int iommu_prot, unsigned int flags)
{
	struct iopt_pages_list elm = {
		.pages = pages,
		.start_byte = start_byte,
		.length = length,
	};
	LIST_HEAD(pages_list);
	int rc;

	list_add(&elm.next, &pages_list);
	rc = iopt_map_pages(iopt, &pages_list, length, iova, iommu_prot,
			    flags);
	if (rc) {
		if (elm.area)
			iopt_drop_area(elm.area);
		iopt_put_pages(pages);
	}
	return rc;
}

/* IOMMU_IOAS_MAP and VFIO_IOMMU_MAP_DMA: user memory, pinned later. */
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, void __user *uptr,
			unsigned long length, int prot, unsigned int flags)
{
	bool writable = prot & IOMMU_WRITE;
	struct iopt_pages *pages;

	pages = iopt_alloc_user_pages(uptr, length, writable,
				      READ_ONCE(ictx->account_mode),
				      &ictx->ledger);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	return iopt_map_new_pages(iopt, pages, (uintptr_t)uptr % PAGE_SIZE,
				  iova, length, prot, flags);
}

int iopt_map_file_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, struct file *file, loff_t start,
			unsigned long length, int iommu_prot,
			unsigned int flags)
{
	struct iopt_pages *pages;

	pages = iopt_alloc_file_pages(file, start, length,
				      iommu_prot & IOMMU_WRITE,
				      READ_ONCE(ictx->account_mode),
				      &ictx->ledger);
	if (IS_ERR(pages))
		return PTR_ERR(pages);
	return iopt_map_new_pages(iopt, pages, start % PAGE_SIZE, iova, length,
				  iommu_prot, flags);
}

/* Append a slice of @pages, with a reference of its own, to @list. */
static int iopt_list_slice(struct list_head *list, struct iopt_pages *pages,
			   unsigned long start_byte, unsigned long length)
{
	struct iopt_pages_list *elm = kzalloc(sizeof(*elm), GFP_KERNEL_ACCOUNT);

	if (!elm)
		return -ENOMEM;
	kref_get(&pages->kref);
	elm->pages = pages;
	elm->start_byte = start_byte;
	elm->length = length;
	list_add_tail(&elm->next, list);
	return 0;
}

/**
 * iopt_get_pages() - the page slices behind [iova, iova + length)
 * @iopt: the IO page table
 * @iova: first IOVA
 * @length: bytes
 * @pages_list: gets one struct iopt_pages_list per area crossed
 *
 * The range must be covered by ready areas without a gap (ENOENT
 * otherwise).  Each slice holds a reference on its pages, for IOAS_COPY.
 */
int iopt_get_pages(struct io_pagetable *iopt, unsigned long iova,
		   unsigned long length, struct list_head *pages_list)
{
	struct iopt_contig_iter iter;
	struct iopt_area *area;
	unsigned long last;
	int rc = 0;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;

	down_read(&iopt->iova_rwsem);
	for_each_contig_area(&iter, area, iopt, iova, last) {
		rc = iopt_list_slice(pages_list, area->pages,
				     iopt_area_start_byte(area, iter.cur),
				     iter.end - iter.cur + 1);
		if (rc)
			break;
	}
	/* A gap, or an area still being built, breaks the range. */
	if (!rc && !iopt_contig_covered(&iter))
		rc = -ENOENT;
	up_read(&iopt->iova_rwsem);
	if (rc)
		iopt_free_pages_list(pages_list);
	return rc;
}

/* Unmapping -------------------------------------------------------------- */

static int iopt_unmap_range(struct io_pagetable *iopt, unsigned long first,
			    unsigned long last, unsigned long *unmapped)
{
	unsigned long done = 0;
	unsigned int tries = 0;
	struct iopt_pages *pages;
	struct iopt_area *area;
	int rc = 0;

again:
	down_read(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
	while ((area = iopt_area_iter_first(iopt, first, last))) {
		unsigned long area_first = iopt_area_iova(area);
		unsigned long area_last = iopt_area_last_iova(area);

		/* Someone is mapping or unmapping this very area. */
		if (!area->ready) {
			rc = -EBUSY;
			break;
		}
		/* Cutting a mapping in two is not allowed. */
		if (area_first < first || area_last > last) {
			rc = -ENOENT;
			break;
		}
		/* Hardware reads it by physical address (a HW queue). */
		if (area->num_locks) {
			rc = -EBUSY;
			break;
		}
		if (area->num_accesses) {
			/*
			 * In-kernel users must drop their pins first; they are
			 * told to, without our locks held, then we look again.
			 */
			area->prevent_access = true;
			up_write(&iopt->iova_rwsem);
			up_read(&iopt->domains_rwsem);
			/* An access that never lets go is a kernel bug. */
			if (WARN_ON(++tries > 100)) {
				rc = -EDEADLK;
				goto out;
			}
			iommufd_access_notify_unmap(iopt, area_first,
						    area_last - area_first + 1);
			goto again;
		}
		area->ready = false;
		up_write(&iopt->iova_rwsem);

		/*
		 * An area in the tree always has its pages: whoever walks the
		 * tree under the iova_rwsem (CHANGE_PROCESS) may follow
		 * area->pages.  So the area leaves the tree first and only
		 * then is its reference on the pages dropped.
		 */
		pages = area->pages;
		iopt_area_unfill_domains(area, NULL);
		iopt_drop_area(area);
		iopt_put_pages(pages);
		done += area_last - area_first + 1;

		down_write(&iopt->iova_rwsem);
		if (area_last >= last)
			break;
		/* New areas may appear behind us; never revisit them. */
		first = area_last + 1;
		tries = 0;
	}
	up_write(&iopt->iova_rwsem);
	up_read(&iopt->domains_rwsem);
out:
	*unmapped = done;
	return rc;
}

int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped)
{
	unsigned long last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(iova, length - 1, &last))
		return -EOVERFLOW;
	return iopt_unmap_range(iopt, iova, last, unmapped);
}

/* Everything: IOMMU_IOAS_UNMAP of the whole space, VFIO's UNMAP_ALL. */
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped)
{
	const unsigned long first = 0, last = ULONG_MAX;

	return iopt_unmap_range(iopt, first, last, unmapped);
}

/* Cutting areas ----------------------------------------------------------- */

/*
 * Split @area after @iova: the area keeps [start, iova], a new one takes
 * [iova + 1, last] of the same pages.  Refused where a large IOMMU page
 * could straddle the cut, or an access holds pins we could not divide.
 */
static int iopt_area_split(struct iopt_area *area, unsigned long iova)
{
	struct io_pagetable *iopt = area->iopt;
	struct iopt_pages *pages = area->pages;
	unsigned long new_start = iova + 1;
	unsigned long last = iopt_area_last_iova(area);
	struct iopt_area *rhs;
	int rc = 0;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	if (iova == last)
		return 0;
	if (!area->ready || area->prevent_access)
		return -EBUSY;
	if ((new_start | iopt_area_start_byte(area, new_start)) &
	    (iopt->iova_alignment - 1))
		return -EINVAL;
	rhs = iopt_new_area();
	if (!rhs)
		return -ENOMEM;

	mutex_lock(&pages->mutex);
	if (area->num_accesses ||
	    (area->filled && !iopt->disable_large_pages)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (area->filled)
		interval_tree_remove(&area->pages_node, &pages->domains_itree);
	interval_tree_remove(&area->node, &iopt->area_itree);

	rhs->node.start = new_start;
	rhs->node.last = last;
	rhs->pages_node.start = iopt_area_start_byte(area, new_start) /
				PAGE_SIZE;
	rhs->pages_node.last = area->pages_node.last;
	rhs->page_offset = iopt_area_start_byte(area, new_start) % PAGE_SIZE;
	rhs->iommu_prot = area->iommu_prot;
	rhs->iopt = iopt;
	rhs->pages = pages;
	rhs->filled = area->filled;
	rhs->window_shift = area->window_shift;
	rhs->ready = true;
	kref_get(&pages->kref);

	area->pages_node.last = iopt_area_start_byte(area, iova) / PAGE_SIZE;
	area->node.last = iova;

	interval_tree_insert(&area->node, &iopt->area_itree);
	interval_tree_insert(&rhs->node, &iopt->area_itree);
	if (area->filled) {
		interval_tree_insert(&area->pages_node, &pages->domains_itree);
		interval_tree_insert(&rhs->pages_node, &pages->domains_itree);
	}
	rhs = NULL;
out_unlock:
	mutex_unlock(&pages->mutex);
	kfree(rhs);
	return rc;
}

/**
 * iopt_cut_iova() - make each of @iovas the last byte of an area
 * @iopt: the IO page table
 * @iovas: IOVAs to cut after
 * @n: how many
 *
 * For VFIO type1, which may unmap the middle of a mapping.  IOVAs outside
 * any area need no cut.
 */
int iopt_cut_iova(struct io_pagetable *iopt, unsigned long *iovas, size_t n)
{
	int rc = 0;
	size_t i;

	down_write(&iopt->iova_rwsem);
	for (i = 0; i != n && !rc; i++) {
		struct iopt_area *area = iopt_area_iter_first(iopt, iovas[i],
							      iovas[i]);

		if (area)
			rc = iopt_area_split(area, iovas[i]);
	}
	up_write(&iopt->iova_rwsem);
	return rc;
}

/* Allowed and reserved ranges -------------------------------------------- */

/*
 * The usable IOVA is what no reserved range covers.  Start with
 * hole->node == NULL and hole->start == 0; returns false after the last
 * hole.  The caller holds the iova_rwsem.
 */
bool iopt_next_hole(struct iopt_hole_iter *hole, struct io_pagetable *iopt)
{
	struct interval_tree_node *node = hole->node;
	unsigned long cur = hole->next;

	if (hole->done)
		return false;
	if (!node)
		node = interval_tree_iter_first(&iopt->reserved_itree, 0,
						ULONG_MAX);
	/* Step over reserved ranges that cover @cur. */
	while (node && node->start <= cur) {
		if (node->last >= cur) {
			if (node->last == ULONG_MAX)
				return false;
			cur = node->last + 1;
		}
		node = interval_tree_iter_next(node, 0, ULONG_MAX);
	}
	hole->start = cur;
	if (node) {
		hole->last = node->start - 1;
		hole->next = node->start;
	} else {
		hole->last = ULONG_MAX;
		hole->done = true;
	}
	hole->node = node;
	return true;
}

/*
 * Replace the allowed ranges by @allowed (swapped in, the old ones come
 * back in @allowed for the caller to free).  Refused with EADDRINUSE when a
 * new range overlaps a reserved one.
 */
int iopt_set_allow_iova(struct io_pagetable *iopt,
			struct rb_root_cached *allowed)
{
	struct interval_tree_node *node;
	int rc = 0;

	down_write(&iopt->iova_rwsem);
	for (node = interval_tree_iter_first(allowed, 0, ULONG_MAX); node;
	     node = interval_tree_iter_next(node, 0, ULONG_MAX)) {
		if (iopt_itree_overlaps(&iopt->reserved_itree, node->start,
					node->last)) {
			rc = -EADDRINUSE;
			goto out_unlock;
		}
	}
	swap(*allowed, iopt->allowed_itree);
out_unlock:
	up_write(&iopt->iova_rwsem);
	return rc;
}

/*
 * Reserve [first, last] for @owner.  A range a mapping or an allowed range
 * already uses cannot be taken away from it (EADDRINUSE).
 */
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long first,
		      unsigned long last, void *owner)
{
	struct iopt_reserved *res;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	if (iopt_itree_overlaps(&iopt->area_itree, first, last) ||
	    iopt_itree_overlaps(&iopt->allowed_itree, first, last))
		return -EADDRINUSE;
	res = kzalloc(sizeof(*res), GFP_KERNEL_ACCOUNT);
	if (!res)
		return -ENOMEM;
	res->owner = owner;
	res->node.start = first;
	res->node.last = last;
	interval_tree_insert(&res->node, &iopt->reserved_itree);
	return 0;
}

/* iopt_reserve_iova() for callers outside the IO page table's locking. */
int iopt_reserve_range(struct io_pagetable *iopt, unsigned long first,
		       unsigned long last, void *owner)
{
	int rc;

	down_write(&iopt->iova_rwsem);
	rc = iopt_reserve_iova(iopt, first, last, owner);
	up_write(&iopt->iova_rwsem);
	return rc;
}
IOMMUFD_EXPORT(iopt_reserve_range);

/* Drop every reserved range of @owner; the caller holds the iova_rwsem. */
static void iopt_drop_reserved(struct io_pagetable *iopt, void *owner)
{
	struct interval_tree_node *node, *next;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	node = interval_tree_iter_first(&iopt->reserved_itree, 0, ULONG_MAX);
	for (; node; node = next) {
		struct iopt_reserved *res =
			container_of(node, struct iopt_reserved, node);

		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		if (res->owner == owner) {
			interval_tree_remove(node, &iopt->reserved_itree);
			kfree(res);
		}
	}
}

/* For owners outside the IO page table's locking (device reservations). */
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner)
{
	down_write(&iopt->iova_rwsem);
	iopt_drop_reserved(iopt, owner);
	up_write(&iopt->iova_rwsem);
}
IOMMUFD_EXPORT(iopt_remove_reserved_iova);

/* Domains ---------------------------------------------------------------- */

/* Changing the set of domains or how areas map: both locks, in order. */
static void iopt_lock_domains_and_iova(struct io_pagetable *iopt)
{
	down_write(&iopt->domains_rwsem);
	down_write(&iopt->iova_rwsem);
}

static void iopt_unlock_domains_and_iova(struct io_pagetable *iopt)
{
	up_write(&iopt->iova_rwsem);	/* reverse order */
	up_write(&iopt->domains_rwsem);
}

/* Can every area live with @align?  EADDRINUSE if one cannot. */
static int iopt_check_alignment(struct io_pagetable *iopt, unsigned long align)
{
	struct iopt_area *area;

	lockdep_assert_held(&iopt->iova_rwsem);
	for_each_iopt_area(area, iopt, 0, ULONG_MAX)
		if ((iopt_area_iova(area) | iopt_area_length(area) |
		     area->page_offset) & (align - 1))
			return -EADDRINUSE;
	return 0;
}

static unsigned long iopt_domain_alignment(struct iommu_domain *domain)
{
	return 1UL << __ffs(domain->pgsize_bitmap);
}

/*
 * Recompute the alignment after a domain or an access that pins went.
 * Accesses that pin get whole pages of each area, so with one attached no
 * area may start or end inside a page (as upstream requires); accesses
 * that only copy need no alignment.
 */
static void iopt_recalc_alignment(struct io_pagetable *iopt)
{
	bool whole_pages = iopt->disable_large_pages || iopt->pinning_accesses;
	unsigned long align = whole_pages ? PAGE_SIZE : 1;
	struct iommu_domain *domain;
	unsigned long i;

	lockdep_assert_held_write(&iopt->iova_rwsem);
	xa_for_each(&iopt->domains, i, domain)
		align = max(align, iopt_domain_alignment(domain));
	iopt->iova_alignment = align;
}

/**
 * iopt_add_access() - list an in-kernel access on this IO page table
 * @iopt: the IO page table
 * @access: the access
 * @pins: it will pin pages: every area must be page aligned, now and
 *        until it goes (EADDRINUSE if one is not)
 * @id: gets its index in @iopt->access_list
 */
int iopt_add_access(struct io_pagetable *iopt, void *access, bool pins,
		    u32 *id)
{
	int rc = 0;

	down_write(&iopt->iova_rwsem);
	if (pins && iopt->iova_alignment < PAGE_SIZE)
		rc = iopt_check_alignment(iopt, PAGE_SIZE);
	if (!rc)
		rc = xa_alloc(&iopt->access_list, id, access, xa_limit_32b,
			      GFP_KERNEL_ACCOUNT);
	if (!rc && pins) {
		iopt->pinning_accesses++;
		iopt->iova_alignment = max(iopt->iova_alignment, PAGE_SIZE);
	}
	up_write(&iopt->iova_rwsem);
	return rc;
}

void iopt_remove_access(struct io_pagetable *iopt, u32 id, bool pins)
{
	down_write(&iopt->iova_rwsem);
	xa_erase(&iopt->access_list, id);
	if (pins) {
		iopt->pinning_accesses--;
		iopt_recalc_alignment(iopt);
	}
	up_write(&iopt->iova_rwsem);
}

static void iopt_unfill_new_domain(struct io_pagetable *iopt,
				   struct iommu_domain *domain,
				   struct iopt_area *end)
{
	struct iopt_area *area;

	for_each_iopt_area(area, iopt, 0, ULONG_MAX) {
		if (area == end)
			break;
		if (!area->ready)
			continue;
		if (iopt->ndomains)
			iopt_area_unmap_domain(area, domain);
		else
			iopt_area_unfill_domains(area, domain);
	}
}

/**
 * iopt_table_add_domain() - make @domain mirror this IOAS
 * @iopt: the IO page table
 * @domain: a paging domain, not yet attached to any device of the IOAS
 *
 * Every existing area is loaded into the domain; areas outside its aperture
 * make the attach fail (EADDRINUSE), and the aperture's outside becomes
 * reserved for as long as the domain stays.
 */
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain)
{
	const struct iommu_domain_geometry *geo = &domain->geometry;
	unsigned long align;
	struct iopt_area *area;
	int rc;

	iopt_lock_domains_and_iova(iopt);
	/* Our pages are PAGE_SIZE; the domain must take that granule. */
	align = max(iopt->iova_alignment, iopt_domain_alignment(domain));
	if (align > PAGE_SIZE) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (align != iopt->iova_alignment) {
		rc = iopt_check_alignment(iopt, align);
		if (rc)
			goto out_unlock;
	}

	if (geo->aperture_start) {
		rc = iopt_reserve_iova(iopt, 0, geo->aperture_start - 1,
				       domain);
		if (rc)
			goto out_unreserve;
	}
	if (geo->aperture_end != ULONG_MAX) {
		rc = iopt_reserve_iova(iopt, geo->aperture_end + 1, ULONG_MAX,
				       domain);
		if (rc)
			goto out_unreserve;
	}

	rc = xa_reserve(&iopt->domains, iopt->ndomains, GFP_KERNEL_ACCOUNT);
	if (rc)
		goto out_unreserve;

	for_each_iopt_area(area, iopt, 0, ULONG_MAX) {
		if (!area->ready)
			continue;
		if (iopt->ndomains)
			rc = iopt_area_copy_to_domain(area, domain);
		else
			rc = iopt_area_fill_domains(area, domain);
		if (rc) {
			iopt_unfill_new_domain(iopt, domain, area);
			goto out_release;
		}
	}

	xa_store(&iopt->domains, iopt->ndomains, domain, GFP_KERNEL);
	iopt->ndomains++;
	iopt->iova_alignment = align;
	iopt_unlock_domains_and_iova(iopt);
	return 0;

out_release:
	xa_release(&iopt->domains, iopt->ndomains);
out_unreserve:
	iopt_drop_reserved(iopt, domain);
out_unlock:
	iopt_unlock_domains_and_iova(iopt);
	return rc;
}

/* The reverse of iopt_table_add_domain(); the last domain takes the pins. */
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain)
{
	struct iommu_domain *iter, *remaining;
	struct iopt_area *area;
	unsigned long slot;

	iopt_lock_domains_and_iova(iopt);
	xa_for_each(&iopt->domains, slot, iter)
		if (iter == domain)
			break;
	if (WARN_ON(iter != domain))
		goto out_unlock;

	/* Keep the array dense: the last entry takes the hole. */
	iopt->ndomains--;
	iter = xa_erase(&iopt->domains, iopt->ndomains);
	if (slot != iopt->ndomains)
		xa_store(&iopt->domains, slot, iter, GFP_KERNEL);

	remaining = xa_load(&iopt->domains, 0);
	for_each_iopt_area(area, iopt, 0, ULONG_MAX) {
		if (!area->ready)
			continue;
		if (remaining) {
			/* The others keep the pins: just leave this one. */
			iopt_area_unmap_domain(area, domain);
		} else {
			iopt_area_unfill_domains(area, domain);
		}
	}
	iopt_drop_reserved(iopt, domain);
	iopt_recalc_alignment(iopt);
out_unlock:
	iopt_unlock_domains_and_iova(iopt);
}

/* Options ---------------------------------------------------------------- */

/*
 * Large pages cannot be taken back from a domain piecemeal, so switching
 * them off is only allowed while no domain holds mappings made with them.
 */
int iopt_disable_large_pages(struct io_pagetable *iopt)
{
	int rc = 0;

	iopt_lock_domains_and_iova(iopt);
	/* Already off: nothing to check. */
	if (iopt->disable_large_pages)
		goto out_unlock;
	if (iopt->ndomains && !RB_EMPTY_ROOT(&iopt->area_itree.rb_root)) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (iopt->iova_alignment < PAGE_SIZE) {
		rc = iopt_check_alignment(iopt, PAGE_SIZE);
		if (rc)
			goto out_unlock;
		iopt->iova_alignment = PAGE_SIZE;
	}
	iopt->disable_large_pages = true;
out_unlock:
	iopt_unlock_domains_and_iova(iopt);
	return rc;
}

/* Always allowed: existing small mappings stay as they are. */
void iopt_enable_large_pages(struct io_pagetable *iopt)
{
	iopt_lock_domains_and_iova(iopt);
	iopt->disable_large_pages = false;
	iopt_recalc_alignment(iopt);
	iopt_unlock_domains_and_iova(iopt);
}
