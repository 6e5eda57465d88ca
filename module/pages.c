// SPDX-License-Identifier: GPL-2.0
/*
 * iopt_pages: pinning memory on demand and loading it into IOMMU domains.
 *
 * A page index of an iopt_pages is pinned, exactly once, while at least one
 * "user" covers it: an area filled into domains (domains_itree) or an
 * in-kernel access (access_itree).  Every operation walks a range of
 * indexes as spans of uniform coverage, and for each span knows whether
 * it must pin:
 *   covered by another user  -> the PFNs are stored already
 *   not covered              -> pin now (and charge), store the PFNs
 * and symmetrically, when a user goes, which spans become uncovered and are
 * unpinned.
 *
 * PFN storage follows what is pinned, not what is mapped: the PFNs live in
 * page-sized chunks of IOPT_CHUNK_PAGES entries, kept in an xarray by chunk
 * number and allocated when the first page of a chunk is pinned.  A chunk
 * goes as soon as neither tree covers any index of it, so the cost is 8
 * bytes per pinned page, plus at most one partly used chunk at each end of
 * a pinned run; mapping a terabyte that nobody pins costs nothing.  A chunk
 * pinned whole in one call whose pages are physically contiguous (a THP or
 * a 2 MiB huge page, when the IOVA and the memory are equally aligned) is
 * no array at all: its xarray slot holds the first PFN as a value entry.
 * Allocating and filling a page of PFNs per 2 MiB was half the time of
 * mapping THP-backed memory.
 *
 * Work on an area is done in windows that never straddle an IOVA boundary
 * of 1 << area->window_shift bytes (2 MiB unless the self-test shrank it):
 * one pin call, one PFN buffer and, for contiguous memory, one iommu_map()
 * per window.  A window is always mapped and unmapped whole, whatever the
 * coverage inside it, so every unmap uses exactly the boundaries the fill
 * used: IOMMU drivers unmap a whole large page when asked for part of one.
 */
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/hugetlb.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/magic.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/slab.h>
#include <uapi/linux/fcntl.h>

#include "iommufd_private.h"

#define IOPT_WINDOW_SHIFT_MAX	21	/* 2 MiB, a THP */
#define IOPT_CHUNK_PAGES	(PAGE_SIZE / sizeof(unsigned long))

/* The window size new areas get; only the self-test changes it. */
static unsigned int iopt_window_shift_now = IOPT_WINDOW_SHIFT_MAX;

/*
 * IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT: a window needs two pointers of
 * temporary memory per page (PFNs and struct pages); fit them in @bytes,
 * between one page and 2 MiB.  Areas keep the size they were created with.
 */
void iopt_set_temp_memory_limit(unsigned int bytes)
{
	unsigned long npages = max_t(unsigned long, 1,
				     bytes / (2 * sizeof(void *)));
	unsigned int shift = PAGE_SHIFT + ilog2(npages);

	WRITE_ONCE(iopt_window_shift_now, min(shift, IOPT_WINDOW_SHIFT_MAX));
}

unsigned int iopt_window_shift(void)
{
	return READ_ONCE(iopt_window_shift_now);
}

/* Pages in a window of @shift: one more for a first page that straddles. */
static unsigned long window_capacity(unsigned int shift)
{
	return (1UL << (shift - PAGE_SHIFT)) + 1;
}

struct iopt_window {
	unsigned long *pfns;
	struct page **upages;
	unsigned long cap;
};

/*
 * Undoing work must not fail, so teardown paths ask for @pfns only, with
 * __GFP_NOFAIL: at most an order-1 allocation, which the allocator allows
 * to be unfailing.
 */
static int iopt_window_init(struct iopt_window *win, unsigned int shift,
			    bool for_pinning)
{
	gfp_t gfp = for_pinning ? GFP_KERNEL : GFP_KERNEL | __GFP_NOFAIL;

	win->cap = window_capacity(shift);
	win->upages = NULL;
	win->pfns = kmalloc_array(win->cap, sizeof(*win->pfns), gfp);
	if (!win->pfns)
		return -ENOMEM;
	if (!for_pinning)
		return 0;
	win->upages = kmalloc_array(win->cap, sizeof(*win->upages),
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
 * Last index of the window of @area that starts at @index: the pages whose
 * IOVA starts below the next window boundary, capped at @last.  The
 * arithmetic is modular, so it holds at both ends of the IOVA space.
 */
static unsigned long area_window_last(struct iopt_area *area,
				      unsigned long index, unsigned long last)
{
	unsigned long size = 1UL << area->window_shift;
	unsigned long iova = iopt_area_index_to_iova(area, index);
	unsigned long to_boundary = ALIGN(iova + 1, size) - iova;

	return min(last, index + DIV_ROUND_UP(to_boundary, PAGE_SIZE) - 1);
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

static bool span_is_held(struct iopt_span *span)
{
	return span->in_domains || span->in_access;
}

#define for_each_iopt_span(span, pages, first, last_index)                    \
	for (iopt_span_at(pages, first, last_index, span);                    \
	     (span)->start <= (last_index);                                    \
	     (span)->last == (last_index) ?                                    \
		     (void)((span)->start = (last_index) + 1) :                \
		     iopt_span_at(pages, (span)->last + 1, last_index, span))

/* PFN chunks ------------------------------------------------------------ */

/*
 * A chunk is either a page of PFNs or, for a contiguous chunk, an xarray
 * value entry holding the PFN of its first index.  Turn @entry (of chunk
 * @c) into an array that can take PFNs one by one: a run chunk is written
 * out; an absent one is made, filled from @pfns if given.
 */
static int pfn_chunk_make_array(struct iopt_pages *pages, unsigned long c,
				void *entry, const unsigned long *pfns)
{
	unsigned long *chunk;
	unsigned long i;
	void *old;

	chunk = kmalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!chunk)
		return -ENOMEM;
	if (pfns)
		memcpy(chunk, pfns, PAGE_SIZE);
	if (entry) {
		for (i = 0; i != IOPT_CHUNK_PAGES; i++)
			chunk[i] = xa_to_value(entry) + i;
		/* Replacing a present entry allocates nothing. */
		old = xa_store(&pages->pfn_chunks, c, chunk, GFP_KERNEL_ACCOUNT);
		if (WARN_ON(old != entry)) {
			kfree(chunk);
			return xa_is_err(old) ? xa_err(old) : -EINVAL;
		}
	} else {
		int rc = xa_insert(&pages->pfn_chunks, c, chunk,
				   GFP_KERNEL_ACCOUNT);

		if (rc) {
			kfree(chunk);
			return rc;
		}
	}
	iopt_payer_add_pfn_chunks(pages->account.payer, 1);
	return 0;
}

/*
 * Make sure every chunk of [index, last] is an array, before anything is
 * pinned: part of a run chunk being pinned again means the rest of it was
 * unpinned, and the new pages need not continue the run.
 */
static int pfn_chunks_prepare(struct iopt_pages *pages, unsigned long index,
			      unsigned long last)
{
	unsigned long c;

	for (c = index / IOPT_CHUNK_PAGES; c <= last / IOPT_CHUNK_PAGES; c++) {
		void *entry = xa_load(&pages->pfn_chunks, c);
		int rc;

		if (entry && !xa_is_value(entry))
			continue;
		rc = pfn_chunk_make_array(pages, c, entry, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Store the just pinned PFNs of all of chunk @c, which did not exist: as a
 * run if they are contiguous, else as an array.  Called after pinning, so
 * on failure the caller unpins.
 */
static int pfn_chunk_store_whole(struct iopt_pages *pages, unsigned long c,
				 unsigned long *pfns)
{
	unsigned long i;

	for (i = 1; i != IOPT_CHUNK_PAGES && pfns[i] == pfns[0] + i; i++)
		;
	/* A value entry holds at most LONG_MAX; no PFN comes near it. */
	if (i != IOPT_CHUNK_PAGES || pfns[0] > LONG_MAX)
		return pfn_chunk_make_array(pages, c, NULL, pfns);
	return xa_insert(&pages->pfn_chunks, c, xa_mk_value(pfns[0]),
			 GFP_KERNEL_ACCOUNT);
}

/*
 * Copy the PFNs of [index, index + n) between the chunks and @pfns, in
 * whichever direction @to_chunks says.  The chunks must exist, and be
 * arrays where they are written.
 */
static void pfn_chunks_copy(struct iopt_pages *pages, unsigned long index,
			    unsigned long n, unsigned long *pfns,
			    bool to_chunks)
{
	while (n) {
		unsigned long off = index % IOPT_CHUNK_PAGES;
		unsigned long k = min(n, IOPT_CHUNK_PAGES - off);
		unsigned long *chunk, i;
		void *entry;

		entry = xa_load(&pages->pfn_chunks, index / IOPT_CHUNK_PAGES);
		if (WARN_ON(!entry || (to_chunks && xa_is_value(entry))))
			return;
		chunk = entry;
		if (xa_is_value(entry))
			for (i = 0; i != k; i++)
				pfns[i] = xa_to_value(entry) + off + i;
		else if (to_chunks)
			memcpy(chunk + off, pfns, k * sizeof(*pfns));
		else
			memcpy(pfns, chunk + off, k * sizeof(*pfns));
		index += k;
		pfns += k;
		n -= k;
	}
}

static void read_pinned_pfns(struct iopt_pages *pages, unsigned long index,
			     unsigned long last, unsigned long *pfns)
{
	pfn_chunks_copy(pages, index, last - index + 1, pfns, false);
}

/*
 * Free the chunks touching [index, last] that hold no pinned PFN any more:
 * those no user covers.  Called once an operation has finished unpinning.
 */
static void pfn_chunks_trim(struct iopt_pages *pages, unsigned long index,
			    unsigned long last)
{
	unsigned long c;

	for (c = index / IOPT_CHUNK_PAGES; c <= last / IOPT_CHUNK_PAGES; c++) {
		unsigned long first = c * IOPT_CHUNK_PAGES;
		unsigned long clast = first + IOPT_CHUNK_PAGES - 1;
		void *chunk;

		if (interval_tree_iter_first(&pages->domains_itree, first,
					     clast) ||
		    interval_tree_iter_first(&pages->access_itree, first, clast))
			continue;
		chunk = xa_erase(&pages->pfn_chunks, c);
		if (chunk && !xa_is_value(chunk)) {
			kfree(chunk);
			iopt_payer_add_pfn_chunks(pages->account.payer, -1);
		}
	}
}

/* Pinning ---------------------------------------------------------------- */

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
 * File memory gets the same long-term GUP pins as anonymous memory: the
 * pages are marked DMA-pinned, and GUP first migrates them out of
 * ZONE_MOVABLE and CMA, on every kernel.  GUP pins through a user mapping,
 * so the window is mapped shared into the caller's address space for the
 * moment of the pin (the pins outlive the mapping, and any process that
 * holds the context may be the caller).  The range is mapped whole blocks
 * at a time: hugetlbfs maps whole huge pages only.
 *
 * Another thread of the caller could replace that mapping before the pin;
 * then the pages would not be the file's, which the check below refuses.
 */
static int pin_file_window(struct iopt_pages *pages, unsigned long index,
			   unsigned long npages, struct page **upages)
{
	struct file *file = pages->file;
	struct inode *inode = file_inode(file);
	unsigned long block = i_blocksize(inode);
	loff_t start = pages->file_start + (loff_t)index * PAGE_SIZE;
	loff_t end = start + (loff_t)npages * PAGE_SIZE;
	loff_t map_start = ALIGN_DOWN(start, block);
	unsigned long map_len = ALIGN(end, block) - map_start;
	unsigned int gup_flags = FOLL_LONGTERM;
	unsigned long prot = PROT_READ;
	unsigned long addr, uptr, done = 0, i;
	long rc = 0;

	if (!current->mm)
		return -EFAULT;
	/* No pages past the end of the file (and no growing hugetlbfs). */
	if (end > i_size_read(inode))
		return -EINVAL;
	if (pages->writable) {
		prot |= PROT_WRITE;
		gup_flags |= FOLL_WRITE;
	}
	addr = vm_mmap(file, 0, map_len, prot, MAP_SHARED, map_start);
	if (IS_ERR_VALUE(addr))
		return (int)addr;
	uptr = addr + (start - map_start);
	while (done < npages) {
		rc = pin_user_pages_fast(uptr + done * PAGE_SIZE, npages - done,
					 gup_flags, upages + done);
		if (rc <= 0)
			break;
		done += rc;
	}
	vm_munmap(addr, map_len);

	for (i = 0; i != done && done == npages; i++)
		if (page_folio(upages[i])->mapping != file->f_mapping)
			rc = -EFAULT;
	if (done == npages && rc >= 0)
		return 0;
	if (done)
		unpin_user_pages(upages, done);
	return rc < 0 ? rc : -EFAULT;
}

/* A hugetlbfs file, told by its superblock. */
bool iopt_file_is_hugetlbfs(struct file *file)
{
	return file_inode(file)->i_sb->s_magic == HUGETLBFS_MAGIC;
}

/* Can pin_file_window() hold this file's memory?  Upstream's choice. */
bool iopt_file_is_pinnable(struct file *file)
{
	return shmem_mapping(file->f_mapping) || iopt_file_is_hugetlbfs(file);
}

/* The memfd seals of @file (0 for files that cannot be sealed). */
static unsigned int file_seals(struct file *file)
{
	struct inode *inode = file_inode(file);

	if (shmem_mapping(file->f_mapping))
		return SHMEM_I(inode)->seals;
#ifdef CONFIG_HUGETLBFS
	if (iopt_file_is_hugetlbfs(file))
		return HUGETLBFS_I(inode)->seals;
#endif
	return 0;
}

static void unpin_pfns(struct iopt_pages *pages, unsigned long *pfns,
		       unsigned long npages)
{
	unsigned long i = 0;

	while (i < npages) {
		unsigned long run = 1;

		while (i + run < npages && pfns[i + run] == pfns[i] + run)
			run++;
		unpin_user_page_range_dirty_lock(pfn_to_page(pfns[i]), run,
						 pages->writable);
		i += run;
	}
}

/*
 * Pin [index, last], charging first so that going over the limit leaves
 * nothing pinned; on success the PFNs are stored and in @pfns.  Chunks
 * made here and left unused on failure go with the caller's trim.  A range
 * that is exactly one chunk not stored yet (a window of an area whose IOVA
 * and memory are equally aligned) gets its storage after the pin, when it
 * is known whether the PFNs are one run.
 */
static int pin_pfns(struct iopt_pages *pages, unsigned long index,
		    unsigned long last, struct page **upages,
		    unsigned long *pfns)
{
	unsigned long npages = last - index + 1;
	unsigned long c = index / IOPT_CHUNK_PAGES;
	bool whole = npages == IOPT_CHUNK_PAGES && !(index % IOPT_CHUNK_PAGES) &&
		     !xa_load(&pages->pfn_chunks, c);
	unsigned long i;
	int rc;

	if (!whole) {
		rc = pfn_chunks_prepare(pages, index, last);
		if (rc)
			return rc;
	}
	rc = iopt_account_charge(&pages->account, npages);
	if (rc)
		return rc;
	if (pages->source == IOPT_SOURCE_FILE)
		rc = pin_file_window(pages, index, npages, upages);
	else
		rc = pin_user_window(pages, index, npages, upages);
	if (rc)
		goto err_uncharge;
	for (i = 0; i != npages; i++)
		pfns[i] = page_to_pfn(upages[i]);
	if (whole) {
		rc = pfn_chunk_store_whole(pages, c, pfns);
		if (rc) {
			unpin_user_pages(upages, npages);
			goto err_uncharge;
		}
	} else {
		pfn_chunks_copy(pages, index, npages, pfns, true);
	}
	pages->npinned += npages;
	iopt_payer_add_pinned(pages->account.payer, npages);
	return 0;

err_uncharge:
	iopt_account_uncharge(&pages->account, npages);
	return rc;
}

static void unpin_and_uncharge(struct iopt_pages *pages, unsigned long *pfns,
			       unsigned long npages)
{
	unpin_pfns(pages, pfns, npages);
	pages->npinned -= npages;
	iopt_payer_add_pinned(pages->account.payer, -(long)npages);
	iopt_account_uncharge(&pages->account, npages);
}

/*
 * Undo window_get_pfns() on [index, last]: unpin the spans no user holds.
 * @pfns has the PFNs of [index, last].
 */
static void window_put_new_pfns(struct iopt_pages *pages, unsigned long index,
				unsigned long last, unsigned long *pfns)
{
	struct iopt_span span;

	for_each_iopt_span(&span, pages, index, last)
		if (!span_is_held(&span))
			unpin_and_uncharge(pages, pfns + (span.start - index),
					   span.last - span.start + 1);
}

/*
 * The PFNs of [index, last] (at most one window) into win->pfns: read
 * where another user holds them, pinned where nobody does.  On failure
 * nothing new stays pinned.
 */
static int window_get_pfns(struct iopt_pages *pages, unsigned long index,
			   unsigned long last, struct iopt_window *win)
{
	struct iopt_span span;
	int rc;

	for_each_iopt_span(&span, pages, index, last) {
		unsigned long *out = win->pfns + (span.start - index);

		if (span_is_held(&span)) {
			read_pinned_pfns(pages, span.start, span.last, out);
			continue;
		}
		rc = pin_pfns(pages, span.start, span.last, win->upages, out);
		if (rc) {
			if (span.start > index)
				window_put_new_pfns(pages, index,
						    span.start - 1, win->pfns);
			return rc;
		}
	}
	return 0;
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
			     struct iommu_domain *single, unsigned int shift)
{
	batch->npfns = 0;
	batch->deferred = single;
	iommu_iotlb_gather_init(&batch->gather);
	batch->cap = IOPT_UNMAP_BATCH_WINDOWS * window_capacity(shift);
	batch->pfns = kvmalloc_array(batch->cap, sizeof(*batch->pfns),
				     GFP_KERNEL | __GFP_NOWARN);
	if (batch->pfns)
		return;
	/* Teardown may not fail: one window's worth always comes. */
	batch->cap = window_capacity(shift);
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
 * Undo the fill of the whole windows [index, last] of @area: unmap them
 * from the target domains and unpin what no other user holds.  The area
 * must already be out of domains_itree.
 */
static void unfill_range(struct iopt_area *area, struct iommu_domain *only,
			 unsigned long index, unsigned long last)
{
	struct iopt_pages *pages = area->pages;
	struct iommu_domain *single = only;
	struct iopt_unmap_batch batch;
	unsigned long cur, wlast;

	if (!single && area->iopt->ndomains == 1)
		single = xa_load(&area->iopt->domains, 0);
	unmap_batch_init(&batch, single, area->window_shift);
	for (cur = index; cur <= last; cur = wlast + 1) {
		struct iopt_span span;

		wlast = area_window_last(area, cur, last);
		if (batch.npfns + (wlast - cur + 1) > batch.cap)
			unmap_batch_flush(&batch, pages);
		for_each_iopt_span(&span, pages, cur, wlast) {
			unsigned long n = span.last - span.start + 1;

			if (span_is_held(&span))
				continue;
			read_pinned_pfns(pages, span.start, span.last,
					 batch.pfns + batch.npfns);
			batch.npfns += n;
		}
		unmap_batch_window(&batch, area, only, cur, wlast);
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
	unsigned long cur = first, wlast = first;
	struct iopt_window win;
	int rc;

	if (!only && !area->iopt->ndomains)
		return 0;
	rc = iopt_window_init(&win, area->window_shift, true);
	if (rc)
		return rc;

	mutex_lock(&pages->mutex);
	for (; cur <= last; cur = wlast + 1) {
		wlast = area_window_last(area, cur, last);
		rc = window_get_pfns(pages, cur, wlast, &win);
		if (rc)
			goto err_unfill;
		rc = map_window_all(area, only, cur, wlast, win.pfns);
		if (rc) {
			window_put_new_pfns(pages, cur, wlast, win.pfns);
			goto err_unfill;
		}
	}
	area->filled = true;
	interval_tree_insert(&area->pages_node, &pages->domains_itree);
	mutex_unlock(&pages->mutex);
	iopt_window_destroy(&win);
	return 0;

err_unfill:
	/* The windows before @cur are mapped; the coverage trees are intact. */
	if (cur > first)
		unfill_range(area, only, first, cur - 1);
	/* Chunks exist at most up to the failed window: trim no further. */
	pfn_chunks_trim(pages, first, wlast);
	mutex_unlock(&pages->mutex);
	iopt_window_destroy(&win);
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
	unsigned long first = iopt_area_index(area);
	unsigned long last = iopt_area_last_index(area);

	if (!area->filled)
		return;
	mutex_lock(&pages->mutex);
	interval_tree_remove(&area->pages_node, &pages->domains_itree);
	unfill_range(area, only, first, last);
	pfn_chunks_trim(pages, first, last);
	area->filled = false;
	mutex_unlock(&pages->mutex);
}

/**
 * iopt_area_copy_to_domain() - load a filled area into one more domain
 * @area: an area already filled into the IOAS's other domains
 * @domain: the domain being added
 *
 * The area's pages are pinned already; their PFNs come from the chunks.
 * Nothing is pinned or charged.
 */
int iopt_area_copy_to_domain(struct iopt_area *area,
			     struct iommu_domain *domain)
{
	unsigned long first = iopt_area_index(area);
	unsigned long last = iopt_area_last_index(area);
	bool large = !area->iopt->disable_large_pages;
	struct iopt_window win;
	unsigned long cur, wlast;
	int rc;

	rc = iopt_window_init(&win, area->window_shift, false);
	if (rc)
		return rc;
	mutex_lock(&area->pages->mutex);
	for (cur = first; cur <= last; cur = wlast + 1) {
		wlast = area_window_last(area, cur, last);
		read_pinned_pfns(area->pages, cur, wlast, win.pfns);
		rc = map_window(area, domain, cur, wlast, win.pfns, large);
		if (rc)
			break;
	}
	mutex_unlock(&area->pages->mutex);
	if (rc && cur > first)
		iommu_unmap(domain, iopt_area_iova(area),
			    iopt_area_index_to_iova(area, cur) -
				    iopt_area_iova(area));
	iopt_window_destroy(&win);
	return rc;
}

/* Remove a filled area from one of several domains; pins stay. */
void iopt_area_unmap_domain(struct iopt_area *area,
			    struct iommu_domain *domain)
{
	unsigned long first = iopt_area_index(area);
	unsigned long last = iopt_area_last_index(area);
	unsigned long cur, wlast;

	for (cur = first; cur <= last; cur = wlast + 1) {
		wlast = area_window_last(area, cur, last);
		unmap_window(area, domain, cur, wlast);
	}
}

/* Creation and release -------------------------------------------------- */

static struct iopt_pages *iopt_pages_alloc(unsigned long npages,
					   bool writable,
					   enum iopt_account_mode ctx_mode,
					   struct iopt_ledger *ledger)
{
	struct iopt_pages *pages;
	int rc;

	pages = kzalloc(sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages)
		return ERR_PTR(-ENOMEM);
	rc = iopt_account_init(&pages->account, ctx_mode, ledger);
	if (rc) {
		kfree(pages);
		return ERR_PTR(rc);
	}
	kref_init(&pages->kref);
	mutex_init(&pages->mutex);
	xa_init_flags(&pages->pfn_chunks, XA_FLAGS_ACCOUNT);
	pages->domains_itree = RB_ROOT_CACHED;
	pages->access_itree = RB_ROOT_CACHED;
	pages->npages = npages;
	pages->writable = writable;
	return pages;
}

/*
 * Bytes [start, start + length) as a page count, refused (EINVAL, as
 * upstream does) when no page count of an unsigned long can hold them.
 */
static int span_pages(u64 start, u64 length, unsigned long *npages)
{
	u64 first = ALIGN_DOWN(start, PAGE_SIZE);
	u64 last;

	if (!length)
		return -EINVAL;
	if (check_add_overflow(start, length - 1, &last))
		return -EOVERFLOW;
	if (length > SIZE_MAX - PAGE_SIZE)
		return -EINVAL;
	*npages = (last - first) / PAGE_SIZE + 1;
	return 0;
}

/**
 * iopt_alloc_user_pages() - describe a range of the caller's memory
 * @uptr: user address of the first byte
 * @length: bytes
 * @writable: devices may write to it
 * @ctx_mode: the context's accounting mode (IOMMU_OPTION_RLIMIT_MODE)
 * @ledger: the context's books, where the caller is entered as the payer
 *
 * Nothing is pinned yet.  The caller is who pays for the pins later.
 */
struct iopt_pages *iopt_alloc_user_pages(void __user *uptr,
					 unsigned long length, bool writable,
					 enum iopt_account_mode ctx_mode,
					 struct iopt_ledger *ledger)
{
	struct iopt_pages *pages;
	unsigned long npages;
	int rc;

	/* The memory itself is checked when it is pinned, as upstream does. */
	rc = span_pages((uintptr_t)uptr, length, &npages);
	if (rc)
		return ERR_PTR(rc);
	pages = iopt_pages_alloc(npages, writable, ctx_mode, ledger);
	if (IS_ERR(pages))
		return pages;
	pages->source = IOPT_SOURCE_USER;
	pages->uptr = (void __user *)ALIGN_DOWN((uintptr_t)uptr, PAGE_SIZE);
	return pages;
}

/**
 * iopt_alloc_file_pages() - describe a range of a memfd or other shmem or
 *                           hugetlbfs file
 * @file: the file
 * @start: byte offset in the file of the first byte
 * @length: bytes
 * @writable: devices may write to it
 * @ctx_mode: the context's accounting mode (IOMMU_OPTION_RLIMIT_MODE)
 * @ledger: the context's books, where the caller is entered as the payer
 *
 * A writeable mapping needs what a writeable shared mmap() of the file
 * needs: a descriptor open for writing, no write seal, and the mapping
 * held writable (so F_SEAL_WRITE waits) for as long as the pages live.
 */
struct iopt_pages *iopt_alloc_file_pages(struct file *file, loff_t start,
					 unsigned long length, bool writable,
					 enum iopt_account_mode ctx_mode,
					 struct iopt_ledger *ledger)
{
	struct iopt_pages *pages;
	unsigned long npages;
	u64 last;
	int rc;

	if (start < 0)
		return ERR_PTR(-EOVERFLOW);
	rc = span_pages(start, length, &npages);
	if (rc)
		return ERR_PTR(rc);
	/* Beyond what a file offset can be: no such pages exist. */
	last = (u64)start + length - 1;
	if (last > LLONG_MAX)
		return ERR_PTR(-EOVERFLOW);

	if (writable) {
		if (!(file->f_mode & FMODE_WRITE))
			return ERR_PTR(-EPERM);
		if (file_seals(file) & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE))
			return ERR_PTR(-EPERM);
		rc = mapping_map_writable(file->f_mapping);
		if (rc)
			return ERR_PTR(rc);
	}
	pages = iopt_pages_alloc(npages, writable, ctx_mode, ledger);
	if (IS_ERR(pages)) {
		if (writable)
			mapping_unmap_writable(file->f_mapping);
		return pages;
	}
	pages->source = IOPT_SOURCE_FILE;
	pages->file = get_file(file);
	pages->file_start = ALIGN_DOWN(start, PAGE_SIZE);
	pages->holds_mapping_writable = writable;
	return pages;
}

void iopt_release_pages(struct kref *kref)
{
	struct iopt_pages *pages = container_of(kref, struct iopt_pages, kref);
	unsigned long c;
	void *chunk;

	WARN_ON(!RB_EMPTY_ROOT(&pages->domains_itree.rb_root));
	WARN_ON(!RB_EMPTY_ROOT(&pages->access_itree.rb_root));
	WARN_ON(pages->npinned || !xa_empty(&pages->pfn_chunks));
	xa_for_each(&pages->pfn_chunks, c, chunk) {
		if (xa_is_value(chunk))
			continue;
		kfree(chunk);
		iopt_payer_add_pfn_chunks(pages->account.payer, -1);
	}
	xa_destroy(&pages->pfn_chunks);
	iopt_account_release(&pages->account);
	if (pages->file) {
		if (pages->holds_mapping_writable)
			mapping_unmap_writable(pages->file->f_mapping);
		fput(pages->file);
	}
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
	iopt_payer_add_pinned(pages->account.payer, -(long)pages->npinned);
	old = pages->account;
	pages->account = *new_account;
	iopt_payer_hold(pages->account.payer);
	iopt_payer_add_pinned(pages->account.payer, pages->npinned);
	mmgrab(pages->account.mm);
	get_task_struct(pages->account.task);
	get_uid(pages->account.user);
	mutex_unlock(&pages->mutex);
	iopt_account_release(&old);
}

/* In-kernel accesses ---------------------------------------------------- */

/*
 * Undo iopt_pages_access_pin()'s work on [index, last] for indexes that no
 * user holds any more: unpin them, a window's worth of PFNs at a time.
 */
static void access_release_range(struct iopt_pages *pages, unsigned long index,
				 unsigned long last, struct iopt_window *win)
{
	struct iopt_span span;

	for_each_iopt_span(&span, pages, index, last) {
		unsigned long cur, wlast;

		if (span_is_held(&span))
			continue;
		for (cur = span.start; cur <= span.last; cur = wlast + 1) {
			wlast = min(span.last, cur + win->cap - 1);
			read_pinned_pfns(pages, cur, wlast, win->pfns);
			unpin_and_uncharge(pages, win->pfns, wlast - cur + 1);
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
	unsigned long cur = index, wlast = index;
	struct iopt_window win;
	int rc;

	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pin)
		return -ENOMEM;
	rc = iopt_window_init(&win, iopt_window_shift(), true);
	if (rc)
		goto err_free_pin;

	mutex_lock(&pages->mutex);
	for (; cur <= last; cur = wlast + 1) {
		unsigned long i;

		wlast = min(last, cur + win.cap - 1);
		rc = window_get_pfns(pages, cur, wlast, &win);
		if (rc)
			goto err_release;
		for (i = cur; i <= wlast; i++)
			out_pages[i - index] = pfn_to_page(win.pfns[i - cur]);
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
	pfn_chunks_trim(pages, index, wlast);
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

	iopt_window_init(&win, iopt_window_shift(), false);
	mutex_lock(&pages->mutex);
	for (node = interval_tree_iter_first(&pages->access_itree, index, last);
	     node; node = interval_tree_iter_next(node, index, last))
		if (node->start == index && node->last == last)
			break;
	if (!WARN_ON(!node)) {
		interval_tree_remove(node, &pages->access_itree);
		kfree(container_of(node, struct iopt_access_pin, node));
		access_release_range(pages, index, last, &win);
		pfn_chunks_trim(pages, index, last);
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
