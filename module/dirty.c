// SPDX-License-Identifier: GPL-2.0
/*
 * Dirty tracking: IOMMU_HWPT_SET_DIRTY_TRACKING and
 * IOMMU_HWPT_GET_DIRTY_BITMAP on paging HWPTs made with
 * IOMMU_HWPT_ALLOC_DIRTY_TRACKING, for a VMM migrating a guest whose
 * devices write its memory.
 *
 * The backend walks its page table (the mock's xarray, or the host
 * driver's PTEs) and reports each dirty page through iommufd_dirty_record(),
 * which sets bits straight in the caller's bitmap.  The bitmap is written
 * in windows of a few user pages, pinned for writing before the walk of
 * the IOVA they stand for: a bitmap that cannot be written is found out
 * (EFAULT) before any dirty state behind it is cleared.  A large page
 * that reaches past a window is still reported whole; its bits outside
 * the window go through a page pinned on the spot.
 *
 * The kernel's own struct iova_bitmap is of no use here: Debian's 6.12 is
 * built without CONFIG_IOMMUFD_DRIVER, so its drivers' calls to
 * iova_bitmap_set() compile to nothing, and 6.1 exports none of it.  What
 * a driver reports does reach the IOTLB gather of struct
 * iommu_dirty_bitmap, though: iommufd_domain_read_and_clear_dirty() reads
 * it one page at a time through that.
 *
 * Locking: a read holds the IOAS's iova_rwsem for reading, so that the
 * areas it walks stay mapped; switching tracking on or off holds it for
 * writing, so that no read sees a half-cleared table.
 */
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/* User pages of bitmap pinned at once: 512 Ki bits, 2 GiB of 4 KiB pages. */
#define DIRTY_WINDOW_PAGES 16
#define DIRTY_BITS_PER_PAGE (PAGE_SIZE * BITS_PER_BYTE)

/**
 * struct iommufd_dirty_bitmap - one IOMMU_HWPT_GET_DIRTY_BITMAP being filled
 * @iova: the IOVA bit 0 stands for
 * @last_iova: the last IOVA asked about (inclusive)
 * @pgshift: log2 of the IOVA bytes one bit stands for
 * @uaddr: user address of the bitmap's byte 0 (any alignment)
 * @win_addr: user address of @pages[0], page aligned
 * @win_npages: pages pinned at @win_addr, 0 between windows
 * @error: the first failure to write a bit outside the window
 * @pages: the window
 *
 * Bit n lives in byte n / 8, as bit n % 8: on a little-endian machine
 * that is bit n % 64 of the __u64 at n / 64, as the ABI defines it, for
 * any alignment of the user's pointer.
 */
struct iommufd_dirty_bitmap {
	unsigned long iova;
	unsigned long last_iova;
	unsigned int pgshift;
	unsigned long uaddr;
	unsigned long win_addr;
	unsigned int win_npages;
	int error;
	struct page *pages[DIRTY_WINDOW_PAGES];
};

/* Set @nbits bits from bit @bit of a pinned page. */
static void dirty_set_in_page(struct page *page, unsigned int bit,
			      unsigned int nbits)
{
	void *kaddr = kmap_local_page(page);

	bitmap_set(kaddr, bit, nbits);
	kunmap_local(kaddr);
}

/* Set bits [first, last] of the user's bitmap. */
static void dirty_set_bits(struct iommufd_dirty_bitmap *dirty,
			   unsigned long first, unsigned long last)
{
	while (first <= last && !dirty->error) {
		unsigned long addr = dirty->uaddr + first / BITS_PER_BYTE;
		unsigned long page_addr = addr & PAGE_MASK;
		unsigned int bit = offset_in_page(addr) * BITS_PER_BYTE +
				   first % BITS_PER_BYTE;
		unsigned int nbits = min_t(unsigned long, last - first,
					   DIRTY_BITS_PER_PAGE - bit - 1) + 1;
		unsigned long in_win = page_addr - dirty->win_addr;
		struct page *page;

		if (page_addr >= dirty->win_addr &&
		    in_win < (unsigned long)dirty->win_npages * PAGE_SIZE) {
			dirty_set_in_page(dirty->pages[in_win >> PAGE_SHIFT],
					  bit, nbits);
		} else if (pin_user_pages_fast(page_addr, 1, FOLL_WRITE,
					       &page) == 1) {
			dirty_set_in_page(page, bit, nbits);
			unpin_user_pages_dirty_lock(&page, 1, true);
		} else {
			dirty->error = -EFAULT;
		}
		first += nbits;
	}
}

/**
 * iommufd_dirty_record() - a backend found [iova, iova + length) dirty
 * @dirty: the bitmap being filled; NULL while only clearing
 * @iova: first dirty byte
 * @length: bytes, as large as the page table's leaf
 *
 * What falls outside the range asked for is dropped: it was cleared with
 * the large page it belongs to, as upstream's drivers do.
 */
void iommufd_dirty_record(struct iommufd_dirty_bitmap *dirty,
			  unsigned long iova, unsigned long length)
{
	unsigned long last;

	if (!dirty || !length)
		return;
	if (check_add_overflow(iova, length - 1, &last))
		last = ULONG_MAX;
	iova = max(iova, dirty->iova);
	last = min(last, dirty->last_iova);
	if (iova > last)
		return;
	dirty_set_bits(dirty, (iova - dirty->iova) >> dirty->pgshift,
		       (last - dirty->iova) >> dirty->pgshift);
}

/*
 * Pin the window that starts with bit @first: the user pages from the one
 * holding that bit on, as many as the bitmap still needs up to
 * DIRTY_WINDOW_PAGES.  Returns the last bit whose byte the window holds.
 */
static int dirty_window_pin(struct iommufd_dirty_bitmap *dirty,
			    unsigned long first, unsigned long last_bit,
			    unsigned long *win_last)
{
	unsigned long addr = dirty->uaddr + first / BITS_PER_BYTE;
	unsigned long end = dirty->uaddr + last_bit / BITS_PER_BYTE;
	unsigned long npages, bytes;
	long got;

	dirty->win_addr = addr & PAGE_MASK;
	npages = min_t(unsigned long, DIRTY_WINDOW_PAGES,
		       ((end - dirty->win_addr) >> PAGE_SHIFT) + 1);
	got = pin_user_pages_fast(dirty->win_addr, npages, FOLL_WRITE,
				  dirty->pages);
	if (got != npages) {
		if (got > 0)
			unpin_user_pages(dirty->pages, got);
		return -EFAULT;
	}
	dirty->win_npages = npages;
	/* Bytes of the bitmap from byte 0 to the window's end. */
	bytes = dirty->win_addr + npages * PAGE_SIZE - dirty->uaddr;
	*win_last = min(last_bit, bytes * BITS_PER_BYTE - 1);
	return 0;
}

static void dirty_window_unpin(struct iommufd_dirty_bitmap *dirty)
{
	unpin_user_pages_dirty_lock(dirty->pages, dirty->win_npages, true);
	dirty->win_npages = 0;
}

/*
 * Is [iova, last] ready areas end to end?  Upstream's walk answers EINVAL
 * to a gap (6.12 then drops that answer and reports success; we do not).
 */
static int dirty_check_mapped(struct io_pagetable *iopt, unsigned long iova,
			      unsigned long last)
{
	struct iopt_contig_iter iter;
	struct iopt_area *area;

	for_each_contig_area(&iter, area, iopt, iova, last)
		;
	return iopt_contig_covered(&iter) ? 0 : -EINVAL;
}

/* Have the backend report (and clear) the dirty state of [first, last]. */
static int dirty_walk_areas(struct iommufd_hwpt_paging *hwpt,
			    unsigned long first, unsigned long last, bool keep,
			    struct iommufd_dirty_bitmap *dirty)
{
	const struct iommufd_device_ops *ops = hwpt->common.ops;
	struct io_pagetable *iopt = &hwpt->common.ioas->iopt;
	struct iopt_contig_iter iter;
	struct iopt_area *area;
	int rc;

	for_each_contig_area(&iter, area, iopt, first, last) {
		rc = ops->read_and_clear_dirty(hwpt->common.domain, iter.cur,
					       iter.end - iter.cur + 1, keep,
					       dirty);
		if (rc)
			return rc;
	}
	return 0;
}

/* Clear the dirty state of every mapping, gaps or not. */
static int dirty_clear_all(struct iommufd_hwpt_paging *hwpt)
{
	const struct iommufd_device_ops *ops = hwpt->common.ops;
	struct io_pagetable *iopt = &hwpt->common.ioas->iopt;
	struct iopt_area *area;
	int rc;

	lockdep_assert_held_write(&iopt->iova_rwsem);

	for_each_iopt_area(area, iopt, 0, ULONG_MAX) {
		if (!area->ready)
			continue;
		rc = ops->read_and_clear_dirty(hwpt->common.domain,
					       iopt_area_iova(area),
					       iopt_area_length(area), false,
					       NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* Fill the bitmap for [dirty->iova, dirty->last_iova], window by window. */
static int dirty_read(struct iommufd_hwpt_paging *hwpt,
		      struct iommufd_dirty_bitmap *dirty, bool keep)
{
	unsigned long last_bit = (dirty->last_iova - dirty->iova) >>
				 dirty->pgshift;
	unsigned long first = 0, win_last;
	int rc;

	for (;;) {
		unsigned long first_iova = dirty->iova +
					   (first << dirty->pgshift);
		unsigned long last_iova;

		rc = dirty_window_pin(dirty, first, last_bit, &win_last);
		if (rc)
			return rc;
		last_iova = dirty->iova + (win_last << dirty->pgshift) +
			    ((1UL << dirty->pgshift) - 1);
		rc = dirty_walk_areas(hwpt, first_iova, last_iova, keep, dirty);
		dirty_window_unpin(dirty);
		if (!rc)
			rc = dirty->error;
		if (rc || win_last == last_bit)
			return rc;
		first = win_last + 1;
		/* A huge range of tiny pages: let others run, and the killed go. */
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
}

/*
 * The argument's checks, in upstream's order; page_size must also be a
 * power of two (upstream takes its lowest set bit).
 */
static int dirty_check_args(struct io_pagetable *iopt,
			    const struct iommu_hwpt_get_dirty_bitmap *cmd,
			    unsigned long *last_iova)
{
	u64 last;

	lockdep_assert_held(&iopt->iova_rwsem);

	if (!cmd->length)
		return -EINVAL;
	if (check_add_overflow(cmd->iova, cmd->length - 1, &last) ||
	    last > ULONG_MAX)
		return -EOVERFLOW;
	/* last + 1 wraps to 0 at the top of the space: aligned, as it is. */
	if ((cmd->iova | (last + 1)) & (iopt->iova_alignment - 1))
		return -EINVAL;
	if (!cmd->page_size || !is_power_of_2(cmd->page_size))
		return -EINVAL;
	if ((cmd->iova | (last + 1)) & (cmd->page_size - 1))
		return -EINVAL;
	*last_iova = last;
	return 0;
}

int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_get_dirty_bitmap *cmd = ucmd->cmd;
	struct iommufd_dirty_bitmap *dirty;
	struct iommufd_hwpt_paging *hwpt;
	struct io_pagetable *iopt;
	unsigned long last_iova, nbits_m1, bytes;
	int rc;

	if ((cmd->flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) ||
	    cmd->__reserved)
		return -EOPNOTSUPP;

	hwpt = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	iopt = &hwpt->common.ioas->iopt;
	rc = -ENOMEM;
	dirty = kzalloc(sizeof(*dirty), GFP_KERNEL_ACCOUNT);
	if (!dirty)
		goto out_put_hwpt;

	down_read(&iopt->iova_rwsem);
	rc = dirty_check_args(iopt, cmd, &last_iova);
	if (rc)
		goto out_unlock;
	rc = -EOPNOTSUPP;
	if (!hwpt->dirty_tracking)
		goto out_unlock;
	/* As upstream's drivers: nothing to read while nothing records. */
	rc = -EINVAL;
	if (!hwpt->dirty_enabled)
		goto out_unlock;

	dirty->iova = cmd->iova;
	dirty->last_iova = last_iova;
	dirty->pgshift = __ffs64(cmd->page_size);
	dirty->uaddr = cmd->data;
	/* Only a mapped range has dirty state: this also bounds the walk. */
	rc = dirty_check_mapped(iopt, cmd->iova, last_iova);
	if (rc)
		goto out_unlock;
	/* One less than the bit count, which may not fit (2^64 1-byte pages). */
	nbits_m1 = (last_iova - cmd->iova) >> dirty->pgshift;
	bytes = nbits_m1 / BITS_PER_BYTE + 1;
	rc = -EFAULT;
	if (!access_ok(u64_to_user_ptr(cmd->data), bytes))
		goto out_unlock;
	rc = dirty_read(hwpt, dirty,
			cmd->flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR);
out_unlock:
	up_read(&iopt->iova_rwsem);
	kfree(dirty);
out_put_hwpt:
	iommufd_put_object(ucmd->ictx, &hwpt->common.obj);
	return rc;
}

int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd)
{
	struct iommu_hwpt_set_dirty_tracking *cmd = ucmd->cmd;
	bool enable = cmd->flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE;
	struct iommufd_hwpt_paging *hwpt;
	struct io_pagetable *iopt;
	int rc;

	/* Upstream never looks at __reserved here: neither do we. */
	if (cmd->flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE)
		return -EOPNOTSUPP;

	hwpt = iommufd_get_hwpt_paging(ucmd->ictx, cmd->hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	rc = -EOPNOTSUPP;
	if (!hwpt->dirty_tracking)
		goto out_put_hwpt;

	iopt = &hwpt->common.ioas->iopt;
	down_write(&iopt->iova_rwsem);
	/*
	 * Enabling starts from a clean table, even when already on, as
	 * upstream: the first read after it reports only newer writes.
	 */
	rc = enable ? dirty_clear_all(hwpt) : 0;
	if (!rc)
		rc = hwpt->common.ops->set_dirty_tracking(hwpt->common.domain,
							  enable);
	if (!rc)
		hwpt->dirty_enabled = enable;
	up_write(&iopt->iova_rwsem);
out_put_hwpt:
	iommufd_put_object(ucmd->ictx, &hwpt->common.obj);
	return rc;
}

/* Domains with the kernel's dirty ops: real drivers, the mock on 6.12. */

int iommufd_domain_set_dirty_tracking(struct iommu_domain *domain,
				      bool enable)
{
#ifdef HAVE_IOMMU_DIRTY_OPS
	if (domain->dirty_ops)
		return domain->dirty_ops->set_dirty_tracking(domain, enable);
#endif
	return -EOPNOTSUPP;
}
IOMMUFD_EXPORT(iommufd_domain_set_dirty_tracking);

#ifdef HAVE_IOMMU_DIRTY_OPS
/* Nothing gathered yet: iommu_iotlb_gather_init()'s empty range. */
static bool dirty_gather_empty(const struct iommu_iotlb_gather *gather)
{
	return gather->start > gather->end;
}

/*
 * Ask the driver about [cur, last] one page of the bitmap (or of the
 * domain, if larger) at a time: its report lands in @found as one range,
 * which for a single page is exact.  A large page comes back whole, and
 * the walk goes on after it.
 */
static int dirty_driver_walk(struct iommu_domain *domain, unsigned long cur,
			     unsigned long last, unsigned long flags,
			     struct iommufd_dirty_bitmap *dirty,
			     struct iommu_iotlb_gather *flush)
{
	const struct iommu_dirty_ops *ops = domain->dirty_ops;
	unsigned long step = max(1UL << dirty->pgshift,
				 1UL << __ffs(domain->pgsize_bitmap));
	struct iommu_iotlb_gather found;
	struct iommu_dirty_bitmap report;
	int rc;

	for (;;) {
		unsigned long n = min(step - (cur & (step - 1)), last - cur + 1);
		unsigned long next_m1 = cur + n - 1;

		iommu_iotlb_gather_init(&found);
		iommu_dirty_bitmap_init(&report, NULL, &found);
		rc = ops->read_and_clear_dirty(domain, cur, n, flags, &report);
		if (rc)
			return rc;
		if (!dirty_gather_empty(&found)) {
			unsigned long len = found.end - found.start + 1;

			iommufd_dirty_record(dirty, found.start, len);
			iommu_iotlb_gather_add_range(flush, found.start, len);
			next_m1 = max(next_m1, found.end);
		}
		if (next_m1 >= last)
			return 0;
		cur = next_m1 + 1;
		cond_resched();
	}
}
#endif

/**
 * iommufd_domain_read_and_clear_dirty() - read a domain's dirty ops
 * @domain: a domain whose dirty_ops the driver set
 * @iova: first IOVA
 * @size: bytes
 * @keep: leave the dirty state as it is (IOMMU_DIRTY_NO_CLEAR)
 * @dirty: where to report, NULL to clear only
 *
 * The IOTLB is flushed for what was cleared, so that the IOMMU sets the
 * dirty bits of later writes again.
 */
int iommufd_domain_read_and_clear_dirty(struct iommu_domain *domain,
					unsigned long iova, size_t size,
					bool keep,
					struct iommufd_dirty_bitmap *dirty)
{
#ifdef HAVE_IOMMU_DIRTY_OPS
	unsigned long flags = keep ? IOMMU_DIRTY_NO_CLEAR : 0;
	struct iommu_iotlb_gather flush;
	struct iommu_dirty_bitmap report;
	int rc;

	if (!domain->dirty_ops)
		return -EOPNOTSUPP;
	if (!size)
		return 0;
	iommu_iotlb_gather_init(&flush);
	if (dirty) {
		rc = dirty_driver_walk(domain, iova, iova + size - 1, flags,
				       dirty, &flush);
	} else {
		/* Clearing only: one call, the driver gathers the flush. */
		iommu_dirty_bitmap_init(&report, NULL, &flush);
		rc = domain->dirty_ops->read_and_clear_dirty(domain, iova, size,
							     flags, &report);
	}
	if (!keep && !dirty_gather_empty(&flush))
		iommu_iotlb_sync(domain, &flush);
	return rc;
#else
	return -EOPNOTSUPP;
#endif
}
IOMMUFD_EXPORT(iommufd_domain_read_and_clear_dirty);
