// SPDX-License-Identifier: GPL-2.0
/*
 * iopt_pages: pinning memory on demand and loading it into IOMMU domains.
 *
 * A page index of an iopt_pages is pinned, exactly once, while at least one
 * "user" covers it: an area filled into domains (domains_itree) or an
 * in-kernel access (access_itree).  Every operation below walks a range of
 * indexes as spans with a uniform coverage, and for each span knows where
 * whether it must pin:
 *   covered by another user  -> the PFNs are in iopt_pages::pfns already
 *   not covered              -> pin now (and charge), record the PFNs
 * and symmetrically, when a user goes, which spans become uncovered and are
 * unpinned.  The PFN array costs 8 bytes per page while anything is pinned;
 * reading PFNs back from a domain instead (iommu_iova_to_phys() per page)
 * made unmapping and IOAS_COPY pay a page-table walk per page.
 *
 * Work is done in windows that never straddle a 2 MiB-aligned IOVA boundary
 * (see iopt_window_last()): one pin_user_pages call, one PFN buffer and,
 * for contiguous memory, one iommu_map() per window.  Because no iommu_map()
 * call crosses such a boundary, no IOMMU page does either, so unmapping a
 * window never takes a large page that also holds the next window's PFNs.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/magic.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>

#include "iommufd_private.h"

/* Pages per window, plus one for a first page straddling the boundary. */
#define IOPT_WINDOW_SIZE	SZ_2M
#define IOPT_WINDOW_PAGES	(IOPT_WINDOW_SIZE / PAGE_SIZE + 1)

struct iopt_window {
	unsigned long *pfns;
	struct page **upages;
};

/*
 * Undoing work must not fail, so teardown paths ask for @pfns only, with
 * __GFP_NOFAIL: one array of a window is an order-1 allocation, which the
 * allocator allows to be unfailing.
 */
static int iopt_window_init(struct iopt_window *win, bool for_pinning)
{
	gfp_t gfp = for_pinning ? GFP_KERNEL : GFP_KERNEL | __GFP_NOFAIL;

	win->upages = NULL;
	win->pfns = kmalloc_array(IOPT_WINDOW_PAGES, sizeof(*win->pfns), gfp);
	if (!win->pfns)
		return -ENOMEM;
	if (!for_pinning)
		return 0;
	win->upages = kmalloc_array(IOPT_WINDOW_PAGES, sizeof(*win->upages),
				    GFP_KERNEL);
	if (!win->upages) {
		kfree(win->pfns);
		return -ENOMEM;
	}
	return 0;
}

static void iopt_window_destroy(struct iopt_window *win)
{
	kfree(win->pfns);
	kfree(win->upages);
}

/*
 * Last index of the window that starts at @index for @area: the pages whose
 * IOVA starts below the next 2 MiB boundary, capped at @last.
 */
static unsigned long iopt_window_last(struct iopt_area *area,
				      unsigned long index, unsigned long last)
{
	unsigned long iova = iopt_area_index_to_iova(area, index);
	unsigned long boundary = ALIGN(iova + 1, IOPT_WINDOW_SIZE);
	unsigned long npages = DIV_ROUND_UP(boundary - iova, PAGE_SIZE);

	return min(last, index + npages - 1);
}

/*
 * Coverage of [cur, last] by one interval tree: returns whether @cur is
 * covered and sets *end to the last index of the run that shares that
 * answer.  Nodes come in order of their start, so a covered run grows as
 * long as the next node starts inside or right after it.
 */
static bool itree_span(struct rb_root_cached *root, unsigned long cur,
		       unsigned long last, unsigned long *end)
{
	struct interval_tree_node *node;
	unsigned long reach;

	node = interval_tree_iter_first(root, cur, last);
	if (!node) {
		*end = last;
		return false;
	}
	if (node->start > cur) {
		*end = node->start - 1;
		return false;
	}
	reach = node->last;
	while ((node = interval_tree_iter_next(node, cur, last)) &&
	       reach < last && node->start <= reach + 1)
		reach = max(reach, node->last);
	*end = min(reach, last);
	return true;
}

struct iopt_span {
	unsigned long start;
	unsigned long last;
	bool in_domains;
	bool in_access;
};

static void iopt_span_at(struct iopt_pages *pages, unsigned long cur,
			 unsigned long last, struct iopt_span *span)
{
	unsigned long end_d, end_a;

	span->start = cur;
	span->in_domains = itree_span(&pages->domains_itree, cur, last, &end_d);
	span->in_access = itree_span(&pages->access_itree, cur, last, &end_a);
	span->last = min(end_d, end_a);
}

#define for_each_iopt_span(span, pages, first, last_index)                    \
	for (iopt_span_at(pages, first, last_index, span);                    \
	     (span)->start <= (last_index);                                    \
	     (span)->last == (last_index) ?                                    \
		     (void)((span)->start = (last_index) + 1) :                \
		     iopt_span_at(pages, (span)->last + 1, last_index, span))

/* PFN sources ---------------------------------------------------------- */

static void read_pinned_pfns(struct iopt_pages *pages, unsigned long index,
			     unsigned long last, unsigned long *pfns)
{
	memcpy(pfns, pages->pfns + index, (last - index + 1) * sizeof(*pfns));
}

static int pin_user_window(struct iopt_pages *pages, unsigned long index,
			   unsigned long npages, struct page **upages)
{
	unsigned long uptr = (uintptr_t)pages->uptr + index * PAGE_SIZE;
	unsigned int gup_flags = FOLL_LONGTERM;
	struct mm_struct *mm = pages->account.mm;
	unsigned long done = 0;
	long rc = 0;

	if (pages->writable)
		gup_flags |= FOLL_WRITE;

	if (mm == current->mm) {
		while (done < npages) {
			rc = pin_user_pages_fast(uptr + done * PAGE_SIZE,
						 npages - done, gup_flags,
						 upages + done);
			if (rc <= 0)
				break;
			done += rc;
		}
	} else {
		/*
		 * The fd went to another process: pin from the mapper's mm,
		 * holding its lock throughout (6.1 refuses FOLL_LONGTERM with
		 * a droppable lock).
		 */
		if (!mmget_not_zero(mm))
			return -EFAULT;
		mmap_read_lock(mm);
		while (done < npages) {
			rc = iommufd_compat_pin_user_pages_remote(mm,
					uptr + done * PAGE_SIZE, npages - done,
					gup_flags, upages + done, NULL);
			if (rc <= 0)
				break;
			done += rc;
		}
		mmap_read_unlock(mm);
		mmput(mm);
	}

	if (done == npages)
		return 0;
	if (done)
		unpin_user_pages(upages, done);
	return rc < 0 ? rc : -EFAULT;
}

/*
 * Memory of a memfd is held through page references rather than GUP pins:
 * it needs no mm, so it survives the mapper's exit and can be charged to
 * another process (IOAS_CHANGE_PROCESS), and one release path serves both
 * ways of getting it.  Where the kernel offers memfd_pin_folios() (6.11)
 * shmem and hugetlbfs memfds both work: each folio's pin is turned into
 * one reference per page we keep.  Elsewhere only shmem is reachable.
 */
#ifdef HAVE_EXPORT_MEMFD_PIN_FOLIOS
static int pin_file_window(struct iopt_pages *pages, unsigned long index,
			   unsigned long npages, struct page **upages)
{
	loff_t start = pages->file_start + index * PAGE_SIZE;
	loff_t end = start + npages * PAGE_SIZE - 1;
	struct folio **folios;
	unsigned long done = 0;
	int rc = 0;

	folios = kmalloc_array(npages, sizeof(*folios), GFP_KERNEL);
	if (!folios)
		return -ENOMEM;
	while (done < npages) {
		pgoff_t offset;
		long nfolios, i;

		nfolios = memfd_pin_folios(pages->file,
					   start + done * PAGE_SIZE, end,
					   folios, npages - done, &offset);
		if (nfolios <= 0) {
			rc = nfolios ?: -EFAULT;
			break;
		}
		for (i = 0; i != nfolios; i++) {
			unsigned long first = i ? 0 : offset / PAGE_SIZE;
			unsigned long p;

			for (p = first; p < folio_nr_pages(folios[i]) &&
					done < npages;
			     p++) {
				upages[done] = folio_page(folios[i], p);
				get_page(upages[done]);
				done++;
			}
			unpin_folio(folios[i]);
		}
	}
	kfree(folios);
	if (rc)
		while (done--)
			put_page(upages[done]);
	return rc;
}
#else
static int pin_file_window(struct iopt_pages *pages, unsigned long index,
			   unsigned long npages, struct page **upages)
{
	struct address_space *mapping = pages->file->f_mapping;
	pgoff_t first = (pages->file_start >> PAGE_SHIFT) + index;
	unsigned long i;

	for (i = 0; i != npages; i++) {
		struct page *page;

		page = shmem_read_mapping_page_gfp(mapping, first + i,
						   mapping_gfp_mask(mapping));
		if (IS_ERR(page)) {
			while (i--)
				put_page(upages[i]);
			return PTR_ERR(page);
		}
		upages[i] = page;
	}
	return 0;
}
#endif

/*
 * A hugetlbfs file, told by its superblock: is_file_hugepages() would need
 * symbols 6.1 does not export.
 */
bool iopt_file_is_hugetlbfs(struct file *file)
{
	return file_inode(file)->i_sb->s_magic == HUGETLBFS_MAGIC;
}

/* Can pin_file_window() hold this file's memory? */
bool iopt_file_is_pinnable(struct file *file)
{
	if (shmem_mapping(file->f_mapping))
		return true;
#ifdef HAVE_EXPORT_MEMFD_PIN_FOLIOS
	return iopt_file_is_hugetlbfs(file);
#else
	return false;
#endif
}

static void unpin_file_pages(struct page *page, unsigned long npages,
			     bool dirty)
{
	for (; npages; npages--, page++) {
		if (dirty)
			set_page_dirty_lock(page);
		put_page(page);
	}
}

static void unpin_pfns(struct iopt_pages *pages, unsigned long *pfns,
		       unsigned long npages)
{
	unsigned long i = 0;

	while (i < npages) {
		unsigned long run = 1;

		while (i + run < npages && pfns[i + run] == pfns[i] + run)
			run++;
		if (pages->source == IOPT_SOURCE_FILE)
			unpin_file_pages(pfn_to_page(pfns[i]), run,
					 pages->writable);
		else
			unpin_user_page_range_dirty_lock(pfn_to_page(pfns[i]),
							 run, pages->writable);
		i += run;
	}
}

/*
 * Pin [index, last], charging first so that going over the limit leaves
 * nothing pinned; on success the PFNs are in @pfns.
 */
static int pin_pfns(struct iopt_pages *pages, unsigned long index,
		    unsigned long last, struct iopt_window *win)
{
	unsigned long npages = last - index + 1;
	unsigned long i;
	int rc;

	/* Entries are only read where pinned: no need to zero them. */
	if (!pages->pfns) {
		pages->pfns = kvmalloc_array(pages->npages, sizeof(*pages->pfns),
					     GFP_KERNEL_ACCOUNT);
		if (!pages->pfns)
			return -ENOMEM;
	}
	rc = iopt_account_charge(&pages->account, npages);
	if (rc)
		goto err_free;
	if (pages->source == IOPT_SOURCE_FILE)
		rc = pin_file_window(pages, index, npages, win->upages);
	else
		rc = pin_user_window(pages, index, npages, win->upages);
	if (rc) {
		iopt_account_uncharge(&pages->account, npages);
		goto err_free;
	}
	for (i = 0; i != npages; i++)
		win->pfns[i] = page_to_pfn(win->upages[i]);
	memcpy(pages->pfns + index, win->pfns, npages * sizeof(*win->pfns));
	pages->npinned += npages;
	return 0;

err_free:
	if (!pages->npinned) {
		kvfree(pages->pfns);
		pages->pfns = NULL;
	}
	return rc;
}

static void unpin_and_uncharge(struct iopt_pages *pages, unsigned long *pfns,
			       unsigned long npages)
{
	unpin_pfns(pages, pfns, npages);
	pages->npinned -= npages;
	iopt_account_uncharge(&pages->account, npages);
	/* Nothing pinned, nothing to remember. */
	if (!pages->npinned) {
		kvfree(pages->pfns);
		pages->pfns = NULL;
	}
}

/*
 * Get the PFNs of [index, last] (inside one window and one span), pinning
 * if nothing holds them yet.  Returns 1 when the pages were newly pinned.
 */
static int get_span_pfns(struct iopt_pages *pages, struct iopt_span *span,
			 unsigned long index, unsigned long last,
			 struct iopt_window *win)
{
	int rc;

	if (span->in_access || span->in_domains) {
		read_pinned_pfns(pages, index, last, win->pfns);
		return 0;
	}
	rc = pin_pfns(pages, index, last, win);
	return rc ?: 1;
}

/* Loading windows into domains ----------------------------------------- */

/*
 * Map the pages [index, last] of @area, whose PFNs are in @pfns, into
 * @domain.  Physically contiguous runs go in one iommu_map() call so the
 * driver can use large IOMMU pages, unless the IOAS disabled them.
 */
static int map_window(struct iopt_area *area, struct iommu_domain *domain,
		      unsigned long index, unsigned long last,
		      unsigned long *pfns, bool large_pages)
{
	unsigned long first_iova = 0, i = 0;
	unsigned long npages = last - index + 1;
	int rc;

	while (i < npages) {
		unsigned long run = 1, iova, end, offset;

		if (large_pages)
			while (i + run < npages &&
			       pfns[i + run] == pfns[i] + run)
				run++;
		iova = iopt_area_index_to_iova(area, index + i);
		end = iova + run * PAGE_SIZE - 1;
		offset = 0;
		/* The first and last page may be partly outside the area. */
		if (iova < iopt_area_iova(area)) {
			offset = iopt_area_iova(area) - iova;
			iova = iopt_area_iova(area);
		}
		end = min(end, iopt_area_last_iova(area));
		if (i == 0)
			first_iova = iova;
		rc = iommufd_compat_iommu_map(domain, iova,
					      PFN_PHYS(pfns[i]) + offset,
					      end - iova + 1, area->iommu_prot,
					      GFP_KERNEL_ACCOUNT);
		if (rc)
			goto err_unmap;
		i += run;
	}
	return 0;

err_unmap:
	if (i)
		iommu_unmap(domain, first_iova,
			    iopt_area_index_to_iova(area, index + i) -
				    first_iova);
	return rc;
}

/* IOVA range of the pages [index, last] of @area, clipped to the area. */
static void window_iova(struct iopt_area *area, unsigned long index,
			unsigned long last, unsigned long *iova,
			unsigned long *length)
{
	unsigned long start = max(iopt_area_iova(area),
				  iopt_area_index_to_iova(area, index));
	unsigned long end = min(iopt_area_last_iova(area),
				iopt_area_index_to_iova(area, last) +
					PAGE_SIZE - 1);

	*iova = start;
	*length = end - start + 1;
}

static void unmap_window(struct iopt_area *area, struct iommu_domain *domain,
			 unsigned long index, unsigned long last)
{
	unsigned long iova, length;

	window_iova(area, index, last, &iova, &length);
	WARN_ON(iommu_unmap(domain, iova, length) != length);
}

/*
 * The domains an operation acts on: @only if given (it may already be out
 * of the IOAS's list, being removed), else every domain of the IOAS, which
 * are kept dense from index 0.
 */
#define for_each_target_domain(iopt, only, idx, domain)                       \
	for (idx = 0, domain = (only) ?: xa_load(&(iopt)->domains, 0); domain; \
	     domain = (only) ? NULL : xa_load(&(iopt)->domains, ++idx))

static void unmap_window_all(struct iopt_area *area,
			     struct iommu_domain *only, unsigned long index,
			     unsigned long last)
{
	struct iommu_domain *domain;
	unsigned long idx;

	for_each_target_domain(area->iopt, only, idx, domain)
		unmap_window(area, domain, index, last);
}

static int map_window_all(struct iopt_area *area, struct iommu_domain *only,
			  unsigned long index, unsigned long last,
			  unsigned long *pfns)
{
	bool large = !area->iopt->disable_large_pages;
	struct iommu_domain *domain, *failed;
	unsigned long idx;
	int rc = 0;

	for_each_target_domain(area->iopt, only, idx, domain) {
		rc = map_window(area, domain, index, last, pfns, large);
		if (rc)
			break;
	}
	if (!rc)
		return 0;
	failed = domain;
	for_each_target_domain(area->iopt, only, idx, domain) {
		if (domain == failed)
			break;
		unmap_window(area, domain, index, last);
	}
	return rc;
}

/*
 * Unmapping flushes the IOTLB once per batch of windows rather than once
 * per window, as VFIO type1 batches its flushes: the PFNs of a batch are
 * unpinned only after its flush, so the device can never reach a page we
 * let go.  One target domain takes the deferred path; several are unmapped
 * synchronously, each flush done by iommu_unmap().
 */
#define IOPT_UNMAP_BATCH_WINDOWS	32

struct iopt_unmap_batch {
	unsigned long *pfns;
	unsigned long npfns;
	unsigned long cap;
	struct iommu_domain *deferred;
	struct iommu_iotlb_gather gather;
};

static void unmap_batch_init(struct iopt_unmap_batch *batch,
			     struct iommu_domain *single)
{
	batch->npfns = 0;
	batch->deferred = single;
	iommu_iotlb_gather_init(&batch->gather);
	batch->cap = IOPT_UNMAP_BATCH_WINDOWS * IOPT_WINDOW_PAGES;
	batch->pfns = kvmalloc_array(batch->cap, sizeof(*batch->pfns),
				     GFP_KERNEL | __GFP_NOWARN);
	if (batch->pfns)
		return;
	/* Teardown may not fail: one window's worth always comes. */
	batch->cap = IOPT_WINDOW_PAGES;
	batch->pfns = kmalloc_array(batch->cap, sizeof(*batch->pfns),
				    GFP_KERNEL | __GFP_NOFAIL);
}

static void unmap_batch_flush(struct iopt_unmap_batch *batch,
			      struct iopt_pages *pages)
{
	if (batch->deferred)
		iommu_iotlb_sync(batch->deferred, &batch->gather);
	if (batch->npfns)
		unpin_and_uncharge(pages, batch->pfns, batch->npfns);
	batch->npfns = 0;
}

static void unmap_batch_window(struct iopt_unmap_batch *batch,
			       struct iopt_area *area,
			       struct iommu_domain *only, unsigned long index,
			       unsigned long last)
{
	unsigned long iova, length;

	if (!batch->deferred) {
		unmap_window_all(area, only, index, last);
		return;
	}
	window_iova(area, index, last, &iova, &length);
	WARN_ON(iommu_unmap_fast(batch->deferred, iova, length,
				 &batch->gather) != length);
}

/*
 * Undo the fill of [index, last] of @area: unmap it from the target
 * domains and unpin what no other user holds.  The area must already be
 * out of domains_itree.  @storage is a domain the PFNs can still be read
 * from (one of the targets).
 */
static void unfill_range(struct iopt_area *area, struct iommu_domain *only,
			 struct iommu_domain *storage, unsigned long index,
			 unsigned long last)
{
	struct iopt_pages *pages = area->pages;
	struct iommu_domain *single = only;
	struct iopt_unmap_batch batch;
	struct iopt_span span;

	if (!single && area->iopt->ndomains == 1)
		single = storage;
	unmap_batch_init(&batch, single);
	for_each_iopt_span(&span, pages, index, last) {
		bool unpin = !span.in_domains && !span.in_access;
		unsigned long cur = span.start;

		while (cur <= span.last) {
			unsigned long wlast = iopt_window_last(area, cur,
							       span.last);
			unsigned long n = wlast - cur + 1;

			if (unpin && batch.npfns + n > batch.cap)
				unmap_batch_flush(&batch, pages);
			if (unpin)
				read_pinned_pfns(pages, cur, wlast,
						 batch.pfns + batch.npfns);
			unmap_batch_window(&batch, area, only, cur, wlast);
			if (unpin)
				batch.npfns += n;
			cur = wlast + 1;
		}
	}
	unmap_batch_flush(&batch, pages);
	kvfree(batch.pfns);
}

/**
 * iopt_area_fill_domains() - load an area into its IOAS's domains
 * @area: the area, with area->pages set but not yet in domains_itree
 * @only: fill only this domain (the IOAS's first), or NULL for every domain
 *
 * Pins what no other user holds.  On failure nothing is left mapped, pinned
 * or charged.  Called with the domains_rwsem held; takes pages->mutex.
 */
int iopt_area_fill_domains(struct iopt_area *area, struct iommu_domain *only)
{
	struct iopt_pages *pages = area->pages;
	unsigned long first = iopt_area_index(area);
	unsigned long last = iopt_area_last_index(area);
	struct iommu_domain *storage;
	struct iopt_window window;
	struct iopt_window *win = &window;
	struct iopt_span span;
	unsigned long cur = first;
	int rc = 0;

	storage = only ?: xa_load(&area->iopt->domains, 0);
	if (!storage)
		return 0;
	rc = iopt_window_init(win, true);
	if (rc)
		return rc;

	mutex_lock(&pages->mutex);
	for_each_iopt_span(&span, pages, first, last) {
		for (cur = span.start; cur <= span.last;) {
			unsigned long wlast = iopt_window_last(area, cur,
							       span.last);
			int pinned;

			pinned = get_span_pfns(pages, &span, cur, wlast, win);
			if (pinned < 0) {
				rc = pinned;
				goto err_unfill;
			}
			rc = map_window_all(area, only, cur, wlast, win->pfns);
			if (rc) {
				if (pinned)
					unpin_and_uncharge(pages, win->pfns,
							   wlast - cur + 1);
				goto err_unfill;
			}
			cur = wlast + 1;
		}
	}
	area->storage_domain = storage;
	interval_tree_insert(&area->pages_node, &pages->domains_itree);
	mutex_unlock(&pages->mutex);
	iopt_window_destroy(win);
	return 0;

err_unfill:
	/* Everything before @cur is mapped; the coverage trees are intact. */
	if (cur > first)
		unfill_range(area, only, storage, first, cur - 1);
	mutex_unlock(&pages->mutex);
	iopt_window_destroy(win);
	return rc;
}

/**
 * iopt_area_unfill_domains() - remove an area from its IOAS's domains
 * @area: a filled area
 * @only: the domain being removed from the IOAS, or NULL for all domains
 *
 * Unpins what no other user holds.  Called with the domains_rwsem held;
 * takes pages->mutex.
 */
void iopt_area_unfill_domains(struct iopt_area *area,
			      struct iommu_domain *only)
{
	struct iopt_pages *pages = area->pages;

	if (!area->storage_domain)
		return;
	mutex_lock(&pages->mutex);
	interval_tree_remove(&area->pages_node, &pages->domains_itree);
	unfill_range(area, only, area->storage_domain, iopt_area_index(area),
		     iopt_area_last_index(area));
	area->storage_domain = NULL;
	mutex_unlock(&pages->mutex);
}

/**
 * iopt_area_copy_to_domain() - load a filled area into one more domain
 * @area: an area already filled into the IOAS's other domains
 * @domain: the domain being added
 *
 * The area's pages are pinned already; their PFNs are read back from the
 * area's storage domain.  Nothing is pinned or charged.
 */
int iopt_area_copy_to_domain(struct iopt_area *area,
			     struct iommu_domain *domain)
{
	unsigned long first = iopt_area_index(area);
	unsigned long last = iopt_area_last_index(area);
	bool large = !area->iopt->disable_large_pages;
	struct iopt_window window;
	struct iopt_window *win = &window;
	unsigned long cur;
	int rc;

	rc = iopt_window_init(win, false);
	if (rc)
		return rc;
	mutex_lock(&area->pages->mutex);
	for (cur = first; cur <= last;) {
		unsigned long wlast = iopt_window_last(area, cur, last);

		read_pinned_pfns(area->pages, cur, wlast, win->pfns);
		rc = map_window(area, domain, cur, wlast, win->pfns, large);
		if (rc)
			break;
		cur = wlast + 1;
	}
	mutex_unlock(&area->pages->mutex);
	if (rc && cur > first)
		iommu_unmap(domain, iopt_area_iova(area),
			    iopt_area_index_to_iova(area, cur) -
				    iopt_area_iova(area));
	iopt_window_destroy(win);
	return rc;
}

/* Remove a filled area from one of several domains; pins stay. */
void iopt_area_unmap_domain(struct iopt_area *area,
			    struct iommu_domain *domain)
{
	unsigned long first = iopt_area_index(area);
	unsigned long last = iopt_area_last_index(area);
	unsigned long cur;

	for (cur = first; cur <= last;) {
		unsigned long wlast = iopt_window_last(area, cur, last);

		unmap_window(area, domain, cur, wlast);
		cur = wlast + 1;
	}
}

/* Creation and release -------------------------------------------------- */

static struct iopt_pages *iopt_pages_alloc(unsigned long npages,
					   bool writable,
					   enum iopt_account_mode ctx_mode)
{
	struct iopt_pages *pages;
	int rc;

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	rc = iopt_account_init(&pages->account, ctx_mode);
	if (rc) {
		kfree(pages);
		return ERR_PTR(rc);
	}
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	pages->domains_itree = RB_ROOT_CACHED;
	pages->access_itree = RB_ROOT_CACHED;
	pages->npages = npages;
	pages->writable = writable;
	return pages;
}

/**
 * iopt_alloc_user_pages() - describe a range of the caller's memory
 * @uptr: user address of the first byte
 * @length: bytes
 * @writable: devices may write to it
 * @ctx_mode: the context's accounting mode (IOMMU_OPTION_RLIMIT_MODE)
 *
 * Nothing is pinned yet.  The caller is who pays for the pins later.
 */
struct iopt_pages *iopt_alloc_user_pages(void __user *uptr,
					 unsigned long length, bool writable,
					 enum iopt_account_mode ctx_mode)
{
	unsigned long start = ALIGN_DOWN((uintptr_t)uptr, PAGE_SIZE);
	struct iopt_pages *pages;
	unsigned long end;

	/* The memory itself is checked when it is pinned, as upstream does. */
	if (!length)
		return ERR_PTR(-EINVAL);
	if (check_add_overflow((uintptr_t)uptr, length, &end))
		return ERR_PTR(-EOVERFLOW);

	pages = iopt_pages_alloc(DIV_ROUND_UP(end - start, PAGE_SIZE),
				 writable, ctx_mode);
	if (IS_ERR(pages))
		return pages;
	pages->source = IOPT_SOURCE_USER;
	pages->uptr = (void __user *)start;
	return pages;
}

struct iopt_pages *iopt_alloc_file_pages(struct file *file, loff_t start,
					 unsigned long length, bool writable,
					 enum iopt_account_mode ctx_mode)
{
	loff_t first = ALIGN_DOWN(start, PAGE_SIZE);
	struct iopt_pages *pages;
	loff_t end;

	if (!length)
		return ERR_PTR(-EINVAL);
	if (start < 0 || check_add_overflow(start, (loff_t)length, &end))
		return ERR_PTR(-EOVERFLOW);

	pages = iopt_pages_alloc(DIV_ROUND_UP(end - first, PAGE_SIZE),
				 writable, ctx_mode);
	if (IS_ERR(pages))
		return pages;
	pages->source = IOPT_SOURCE_FILE;
	pages->file = get_file(file);
	pages->file_start = first;
	return pages;
}

void iopt_release_pages(struct kref *kref)
{
	struct iopt_pages *pages = container_of(kref, struct iopt_pages, kref);

	WARN_ON(!RB_EMPTY_ROOT(&pages->domains_itree.rb_root));
	WARN_ON(!RB_EMPTY_ROOT(&pages->access_itree.rb_root));
	WARN_ON(pages->npinned || pages->pfns);
	iopt_account_release(&pages->account);
	if (pages->file)
		fput(pages->file);
	mutex_destroy(&pages->mutex);
	kfree(pages);
}

/**
 * iopt_pages_switch_account() - make another process pay for these pages
 * @pages: the pages
 * @new_account: the new payer, already charged for pages->npinned
 *
 * The old payer is uncharged and released.
 */
void iopt_pages_switch_account(struct iopt_pages *pages,
			       struct iopt_account *new_account)
{
	struct iopt_account old;

	mutex_lock(&pages->mutex);
	iopt_account_uncharge(&pages->account, pages->npinned);
	old = pages->account;
	pages->account = *new_account;
	mmgrab(pages->account.mm);
	get_task_struct(pages->account.task);
	get_uid(pages->account.user);
	mutex_unlock(&pages->mutex);
	iopt_account_release(&old);
}

/* In-kernel accesses ---------------------------------------------------- */

/*
 * Undo iopt_pages_access_pin()'s work on [index, last] for indexes that no
 * other access holds: forget their PFNs, and unpin those no domain holds.
 */
static void access_release_range(struct iopt_pages *pages, unsigned long index,
				 unsigned long last, struct iopt_window *win)
{
	struct iopt_span span;

	for_each_iopt_span(&span, pages, index, last) {
		unsigned long cur = span.start;

		if (span.in_access)
			continue;
		while (cur <= span.last) {
			unsigned long wlast = min(span.last,
						  cur + IOPT_WINDOW_PAGES - 1);

			if (!span.in_domains) {
				read_pinned_pfns(pages, cur, wlast, win->pfns);
				unpin_and_uncharge(pages, win->pfns,
						   wlast - cur + 1);
			}
			cur = wlast + 1;
		}
	}
}

/**
 * iopt_pages_access_pin() - pin page indexes [index, last] for an access
 * @pages: the pages
 * @index: first page index
 * @last: last page index
 * @out_pages: gets last - index + 1 struct page pointers
 *
 * Each call is one hold; iopt_pages_access_unpin() of the same range drops
 * it.  Pages already held by a domain or another access are not pinned
 * again.
 */
int iopt_pages_access_pin(struct iopt_pages *pages, unsigned long index,
			  unsigned long last, struct page **out_pages)
{
	struct iopt_access_pin *pin;
	struct iopt_window win;
	struct iopt_span span;
	unsigned long cur = index;
	int rc;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;
	rc = iopt_window_init(&win, true);
	if (rc)
		goto err_free_pin;

	mutex_lock(&pages->mutex);
	for_each_iopt_span(&span, pages, index, last) {
		for (cur = span.start; cur <= span.last;) {
			unsigned long wlast = min(span.last,
						  cur + IOPT_WINDOW_PAGES - 1);
			unsigned long i;
			int pinned;

			pinned = get_span_pfns(pages, &span, cur, wlast, &win);
			if (pinned < 0) {
				rc = pinned;
				goto err_release;
			}
			for (i = cur; i <= wlast; i++)
				out_pages[i - index] =
					pfn_to_page(win.pfns[i - cur]);
			cur = wlast + 1;
		}
	}
	pin->node.start = index;
	pin->node.last = last;
	interval_tree_insert(&pin->node, &pages->access_itree);
	mutex_unlock(&pages->mutex);
	iopt_window_destroy(&win);
	return 0;

err_release:
	if (cur > index)
		access_release_range(pages, index, cur - 1, &win);
	mutex_unlock(&pages->mutex);
	iopt_window_destroy(&win);
err_free_pin:
	kfree(pin);
	return rc;
}

void iopt_pages_access_unpin(struct iopt_pages *pages, unsigned long index,
			     unsigned long last)
{
	struct interval_tree_node *node;
	struct iopt_window win;

	iopt_window_init(&win, false);
	mutex_lock(&pages->mutex);
	for (node = interval_tree_iter_first(&pages->access_itree, index, last);
	     node; node = interval_tree_iter_next(node, index, last))
		if (node->start == index && node->last == last)
			break;
	if (!WARN_ON(!node)) {
		interval_tree_remove(node, &pages->access_itree);
		kfree(container_of(node, struct iopt_access_pin, node));
		access_release_range(pages, index, last, &win);
	}
	mutex_unlock(&pages->mutex);
	iopt_window_destroy(&win);
}

/*
 * Copy between @data and bytes [start_byte, start_byte + length) of the
 * pages through temporary pins, for callers that cannot use the mapper's
 * address space.
 */
static int rw_through_pins(struct iopt_pages *pages, unsigned long start_byte,
			   void *data, unsigned long length, bool write)
{
	unsigned long index = start_byte / PAGE_SIZE;
	unsigned long last = (start_byte + length - 1) / PAGE_SIZE;
	unsigned long offset = start_byte % PAGE_SIZE;
	struct page **upages;
	unsigned long i;
	int rc;

	upages = kvcalloc(last - index + 1, sizeof(*upages), GFP_KERNEL);
	if (!upages)
		return -ENOMEM;
	rc = iopt_pages_access_pin(pages, index, last, upages);
	if (rc)
		goto out_free;
	for (i = 0; length; i++) {
		unsigned long n = min(length, PAGE_SIZE - offset);
		void *kaddr = kmap_local_page(upages[i]);

		if (write) {
			memcpy(kaddr + offset, data, n);
			set_page_dirty_lock(upages[i]);
		} else {
			memcpy(data, kaddr + offset, n);
		}
		kunmap_local(kaddr);
		data += n;
		length -= n;
		offset = 0;
	}
	iopt_pages_access_unpin(pages, index, last);
out_free:
	kvfree(upages);
	return rc;
}

/**
 * iopt_pages_rw_access() - read or write the memory behind the pages
 * @pages: the pages
 * @start_byte: offset of the first byte in the pages
 * @data: kernel buffer
 * @length: bytes
 * @write: copy @data into the pages rather than out of them
 * @slow_path: never use the mapper's address space directly
 *
 * When the caller runs in the mapper's process, plain user copies are the
 * fast way; otherwise (or when asked to) the pages are pinned for the copy.
 */
int iopt_pages_rw_access(struct iopt_pages *pages, unsigned long start_byte,
			 void *data, unsigned long length, bool write,
			 bool slow_path)
{
	void __user *uaddr;

	if (write && !pages->writable)
		return -EPERM;
	if (slow_path || pages->source != IOPT_SOURCE_USER ||
	    current->mm != pages->account.mm)
		return rw_through_pins(pages, start_byte, data, length, write);

	uaddr = pages->uptr + start_byte;
	if (write)
		return copy_to_user(uaddr, data, length) ? -EFAULT : 0;
	return copy_from_user(data, uaddr, length) ? -EFAULT : 0;
}
