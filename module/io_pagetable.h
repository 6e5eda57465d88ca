/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The IO page table of an IOAS and the pinned-page storage behind it.
 *
 * struct io_pagetable is the IOVA space: which IOVA ranges are mapped
 * (areas), which may be allocated automatically (allowed ranges), which
 * must never be used (reserved ranges), and the IOMMU domains that mirror
 * every area.
 *
 * struct iopt_pages is one range of user memory (or of a file) that areas
 * point into.  IOAS_COPY makes a second area point at the same iopt_pages,
 * so the memory is pinned and charged once however often it is mapped.
 * Pages are pinned lazily: only while a domain or an in-kernel access
 * needs them.  A pinned page's PFN lives in iopt_pages::pfn_chunks, page
 * sized chunks that exist only where something is pinned (8 bytes per
 * pinned page; none for a chunk of physically contiguous pages).
 *
 * Lock order: iopt->domains_rwsem, then iopt->iova_rwsem, then
 * pages->mutex.  pages->mutex is held across pinning (which may fault in
 * user memory and take mmap_lock); nothing that holds mmap_lock calls back
 * into this code.
 */
#ifndef IOMMUFD_IO_PAGETABLE_H
#define IOMMUFD_IO_PAGETABLE_H

#include <linux/atomic.h>
#include <linux/interval_tree.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/rwsem.h>
#include <linux/mutex.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/refcount.h>
#include <linux/uidgid.h>

struct file;
struct iommu_domain;
struct iommufd_access;
struct mm_struct;
struct pid;
struct seq_file;
struct task_struct;
struct user_struct;

/**
 * struct io_pagetable - the IOVA space of one IOAS
 * @domains_rwsem: write side held while domains are added or removed, read
 *                 side while areas are filled into or emptied from domains
 * @domains: index -> struct iommu_domain *, dense from 0
 * @ndomains: number of entries in @domains
 * @iova_rwsem: protects the three interval trees and @iova_alignment
 * @area_itree: struct iopt_area by IOVA
 * @allowed_itree: struct iopt_allowed; empty means everything is allowed
 * @reserved_itree: struct iopt_reserved
 * @access_list: id -> struct iommufd_access attached to this IOAS
 * @iova_alignment: every area's IOVA, length and page offset are multiples
 *                  of this (the smallest page size of any domain, and
 *                  PAGE_SIZE while an access that pins is attached)
 * @pinning_accesses: accesses in @access_list that pin pages
 * @disable_large_pages: IOMMU_OPTION_HUGE_PAGES set to 0
 */
struct io_pagetable {
	/* The IOVA space itself, under @iova_rwsem */
	struct rw_semaphore iova_rwsem;
	struct rb_root_cached area_itree;
	struct rb_root_cached reserved_itree;
	struct rb_root_cached allowed_itree;
	unsigned long iova_alignment;
	struct xarray access_list;
	unsigned int pinning_accesses;

	/* The page tables that mirror it, under @domains_rwsem */
	struct rw_semaphore domains_rwsem;
	unsigned int ndomains;
	struct xarray domains;
	bool disable_large_pages;
};

/**
 * struct iopt_area - one mapping: IOVA [node.start, node.last] -> a slice
 *                    of an iopt_pages
 * @node: in io_pagetable::area_itree, by IOVA (inclusive last)
 * @pages_node: in iopt_pages::domains_itree while the area is filled into
 *              the IOAS's domains, by page index (inclusive last)
 * @iopt: the IO page table holding the area
 * @pages: the memory (a reference); set whenever the area is in the tree
 * @filled: mapped into the IOAS's domains (and in domains_itree)
 * @window_shift: log2 of the IOVA window the area is pinned and mapped
 *                in; fixed for its life, so unmaps cut where maps did
 * @page_offset: byte offset of node.start within its first page
 * @iommu_prot: IOMMU_READ/IOMMU_WRITE/IOMMU_CACHE for iommu_map()
 * @num_accesses: in-kernel access pins inside this area
 * @num_locks: of those, pins of internal accesses (a HW queue's), which
 *             cannot be asked to let go: the area cannot be unmapped
 * @prevent_access: set while an unmap waits for accesses to let go
 * @ready: fully mapped; false while being created or removed, when only
 *         its creator or remover may touch it
 */
struct iopt_area {
	struct io_pagetable *iopt;
	struct iopt_pages *pages;
	struct interval_tree_node node;
	struct interval_tree_node pages_node;
	unsigned int page_offset;
	int iommu_prot;
	u8 window_shift;
	bool filled;
	bool ready;
	bool prevent_access;
	unsigned int num_accesses;
	unsigned int num_locks;
};

struct iopt_allowed {
	struct interval_tree_node node;
};

/* @owner: who reserved it (a domain, a device), removed with it */
struct iopt_reserved {
	void *owner;
	struct interval_tree_node node;
};

enum iopt_account_mode {
	IOPT_ACCOUNT_NONE,	/* CAP_IPC_LOCK: VmPin only, no limit */
	IOPT_ACCOUNT_USER,	/* user->locked_vm, the default */
	IOPT_ACCOUNT_MM,	/* mm->locked_vm (VmLck) */
	IOPT_ACCOUNT_TYPE1,	/* exactly as VFIO type1: VmLck only */
};

/**
 * struct iopt_ledger - what one context's pages pin and who pays for it
 * @lock: protects @payers (a leaf lock: taken under any other)
 * @payers: struct iopt_payer, one per process paying for mappings here
 * @pinned: pages its iopt_pages hold pinned, each counted once per
 *          iopt_pages (a mapping and its IOAS_COPY share one)
 * @charged: of @pinned, those charged against an RLIMIT_MEMLOCK counter
 * @pfn_chunks: PFN chunks its iopt_pages have allocated
 *
 * The books only mirror what pages.c and accounting.c did, for fdinfo and
 * the module totals (ledger.c); limits are enforced against the kernel's
 * own counters, never against these.
 */
struct iopt_ledger {
	spinlock_t lock;
	struct list_head payers;
	atomic_long_t pinned;
	atomic_long_t charged;
	atomic_long_t pfn_chunks;
};

/**
 * struct iopt_payer - what one process pays for in one context
 * @node: in iopt_ledger::payers
 * @ledger: the context's books
 * @users: the iopt_accounts naming this payer
 * @pid: the paying thread group (a reference)
 * @uid: its real uid, whose user_struct USER mode charges
 * @pinned: pages pinned by the mappings it pays for
 * @charged: of those, charged against an RLIMIT_MEMLOCK counter
 */
struct iopt_payer {
	struct list_head node;
	struct iopt_ledger *ledger;
	refcount_t users;
	struct pid *pid;
	kuid_t uid;
	atomic_long_t pinned;
	atomic_long_t charged;
};

/**
 * struct iopt_account - who pays for the pages an iopt_pages pins
 * @payer: the payer's entry in the books of the pages' context
 * @mode: which counter is charged besides mm->pinned_vm
 * @unlimited: CAP_IPC_LOCK in TYPE1 mode: charged but never refused
 * @mm: the process whose VmPin (and, in MM mode, VmLck) is charged; for
 *      user memory also the address space pages are pinned from
 * @task: whose RLIMIT_MEMLOCK applies (the group leader)
 * @user: charged in USER mode
 */
struct iopt_account {
	struct iopt_payer *payer;
	enum iopt_account_mode mode;
	bool unlimited;
	struct mm_struct *mm;
	struct task_struct *task;
	struct user_struct *user;
};

enum iopt_pages_source {
	IOPT_SOURCE_USER,
	IOPT_SOURCE_FILE,
};

/**
 * struct iopt_pages - a range of memory that areas map, pinned on demand
 * @kref: one per area pointing here, plus transient holders
 * @mutex: protects everything below
 * @source: user memory or a file
 * @uptr: page-aligned start of the user range (IOPT_SOURCE_USER)
 * @file: the file (IOPT_SOURCE_FILE), with a reference held
 * @file_start: page-aligned byte offset in @file of page index 0
 * @npages: number of pages spanned
 * @writable: pinned for write (some mapping may let a device write)
 * @account: who is charged for @npinned
 * @holds_mapping_writable: took mapping_map_writable() on @file
 * @npinned: pages pinned now, each exactly once
 * @pfn_chunks: chunk number -> page-sized array of PFNs, or a value entry
 *              (the first PFN) for a chunk pinned whole as one contiguous
 *              run; a chunk exists while any index in it is pinned, and
 *              only pinned entries are meaningful
 * @domains_itree: iopt_area::pages_node of areas filled into domains
 * @access_itree: struct iopt_access_pin of in-kernel accesses
 */
struct iopt_pages {
	struct kref kref;
	struct mutex mutex;
	enum iopt_pages_source source;
	void __user *uptr;
	struct file *file;
	loff_t file_start;
	unsigned long npages;
	bool writable;
	bool holds_mapping_writable;
	struct iopt_account account;
	unsigned long npinned;
	struct xarray pfn_chunks;
	struct rb_root_cached domains_itree;
	struct rb_root_cached access_itree;
};

/*
 * One hold by an in-kernel access on page indexes [node.start, node.last];
 * overlapping and identical holds are separate nodes.
 */
struct iopt_access_pin {
	struct interval_tree_node node;
};

/* Where an area sits: IOVAs inclusive, page indexes of area->pages. */
static inline unsigned long iopt_area_iova(const struct iopt_area *area)
{
	return area->node.start;
}

static inline unsigned long iopt_area_last_iova(const struct iopt_area *area)
{
	return area->node.last;
}

static inline unsigned long iopt_area_index(const struct iopt_area *area)
{
	return area->pages_node.start;
}

static inline unsigned long
iopt_area_last_index(const struct iopt_area *area)
{
	return area->pages_node.last;
}

static inline unsigned long iopt_area_length(const struct iopt_area *area)
{
	return iopt_area_last_iova(area) - iopt_area_iova(area) + 1;
}

/* Byte offset inside area->pages of @iova, which lies inside @area. */
static inline unsigned long iopt_area_start_byte(const struct iopt_area *area,
						 unsigned long iova)
{
	unsigned long first_byte = iopt_area_index(area) * PAGE_SIZE +
				   area->page_offset;

	return first_byte + (iova - iopt_area_iova(area));
}

/* IOVA at which page @index of area->pages starts (may precede the area). */
static inline unsigned long
iopt_area_index_to_iova(const struct iopt_area *area, unsigned long index)
{
	unsigned long first_page_iova = iopt_area_iova(area) -
					area->page_offset;

	return first_page_iova + (index - iopt_area_index(area)) * PAGE_SIZE;
}

#define for_each_iopt_area(area, iopt, first, last)                            \
	for (area = iopt_area_iter_first(iopt, first, last); area;             \
	     area = iopt_area_iter_next(area, first, last))

/*
 * A walk over the ready areas that cover [first, last] without a gap: at
 * each step @cur and @end bound the part of @area inside the range.  After
 * the loop, iopt_contig_covered() tells whether the whole range was.
 */
struct iopt_contig_iter {
	unsigned long cur;
	unsigned long end;
	unsigned long last;
	bool covered;
};

struct iopt_area *iopt_contig_first(struct iopt_contig_iter *iter,
				    struct io_pagetable *iopt,
				    unsigned long first, unsigned long last);
struct iopt_area *iopt_contig_next(struct iopt_contig_iter *iter,
				   struct iopt_area *area);

#define for_each_contig_area(iter, area, iopt, first, last)                    \
	for (area = iopt_contig_first(iter, iopt, first, last); area;          \
	     area = iopt_contig_next(iter, area))

static inline bool iopt_contig_covered(struct iopt_contig_iter *iter)
{
	return iter->covered;
}

struct iopt_area *iopt_area_iter_first(struct io_pagetable *iopt,
				       unsigned long first, unsigned long last);
struct iopt_area *iopt_area_iter_next(struct iopt_area *area,
				      unsigned long first, unsigned long last);

/*
 * A slice of an iopt_pages on its way to becoming an area: built by
 * IOAS_MAP for new memory and by IOAS_COPY from existing areas.
 */
struct iopt_pages_list {
	struct list_head next;
	struct iopt_pages *pages;
	unsigned long start_byte;	/* in @pages */
	unsigned long length;		/* bytes */
	struct iopt_area *area;		/* once placed */
};

/* io_pagetable.c */
#define IOPT_ALLOC_IOVA BIT(0)

void iopt_init_table(struct io_pagetable *iopt);
void iopt_destroy_table(struct io_pagetable *iopt);
int iopt_map_pages(struct io_pagetable *iopt, struct list_head *pages_list,
		   unsigned long length, unsigned long *iova, int iommu_prot,
		   unsigned int flags);
unsigned long iopt_pages_list_uptr(struct iopt_pages_list *elm);
void iopt_free_pages_list(struct list_head *pages_list);
int iopt_get_pages(struct io_pagetable *iopt, unsigned long iova,
		   unsigned long length, struct list_head *pages_list);
int iopt_unmap_iova(struct io_pagetable *iopt, unsigned long iova,
		    unsigned long length, unsigned long *unmapped);
int iopt_unmap_all(struct io_pagetable *iopt, unsigned long *unmapped);
int iopt_cut_iova(struct io_pagetable *iopt, unsigned long *iovas, size_t n);
int iopt_set_allow_iova(struct io_pagetable *iopt,
			struct rb_root_cached *allowed);
int iopt_reserve_iova(struct io_pagetable *iopt, unsigned long first,
		      unsigned long last, void *owner);
/* A walk over the usable IOVA: the holes between reserved ranges. */
struct iopt_hole_iter {
	struct interval_tree_node *node;
	unsigned long next;
	unsigned long start;
	unsigned long last;
	bool done;
};

bool iopt_next_hole(struct iopt_hole_iter *hole, struct io_pagetable *iopt);
#define iopt_for_each_hole(hole, iopt)                                         \
	for (*(hole) = (struct iopt_hole_iter){}; iopt_next_hole(hole, iopt);)

int iopt_reserve_range(struct io_pagetable *iopt, unsigned long first,
		       unsigned long last, void *owner);
void iopt_remove_reserved_iova(struct io_pagetable *iopt, void *owner);
int iopt_add_access(struct io_pagetable *iopt, void *access, bool pins,
		    u32 *id);
void iopt_remove_access(struct io_pagetable *iopt, u32 id, bool pins);
int iopt_table_add_domain(struct io_pagetable *iopt,
			  struct iommu_domain *domain);
int iopt_disable_large_pages(struct io_pagetable *iopt);
void iopt_enable_large_pages(struct io_pagetable *iopt);
void iopt_table_remove_domain(struct io_pagetable *iopt,
			      struct iommu_domain *domain);

/* accounting.c */
int iopt_account_init(struct iopt_account *account,
		      enum iopt_account_mode ctx_mode, struct iopt_ledger *ledger);
void iopt_account_release(struct iopt_account *account);
int iopt_account_charge(struct iopt_account *account, unsigned long npages);
void iopt_account_uncharge(struct iopt_account *account,
			   unsigned long npages);

/* ledger.c */
void iopt_ledger_init(struct iopt_ledger *ledger);
void iopt_ledger_destroy(struct iopt_ledger *ledger);
void iopt_ledger_show(struct seq_file *m, struct iopt_ledger *ledger);
struct iopt_payer *iopt_payer_get(struct iopt_ledger *ledger);
void iopt_payer_hold(struct iopt_payer *payer);
void iopt_payer_put(struct iopt_payer *payer);
void iopt_payer_add_pinned(struct iopt_payer *payer, long npages);
void iopt_payer_add_charged(struct iopt_payer *payer, long npages);
void iopt_payer_add_pfn_chunks(struct iopt_payer *payer, long nchunks);

/* pages.c */
struct iopt_pages *iopt_alloc_user_pages(void __user *uptr,
					 unsigned long length, bool writable,
					 enum iopt_account_mode ctx_mode,
					 struct iopt_ledger *ledger);
struct iopt_pages *iopt_alloc_file_pages(struct file *file, loff_t start,
					 unsigned long length, bool writable,
					 enum iopt_account_mode ctx_mode,
					 struct iopt_ledger *ledger);
void iopt_release_pages(struct kref *kref);
#define iopt_put_pages(pages) kref_put(&(pages)->kref, iopt_release_pages)
bool iopt_file_is_pinnable(struct file *file);
bool iopt_file_is_hugetlbfs(struct file *file);
void iopt_set_temp_memory_limit(unsigned int bytes);
unsigned int iopt_window_shift(void);

int iopt_area_fill_domains(struct iopt_area *area, struct iommu_domain *only);
void iopt_area_unfill_domains(struct iopt_area *area,
			      struct iommu_domain *only);
int iopt_area_copy_to_domain(struct iopt_area *area,
			     struct iommu_domain *domain);
void iopt_area_unmap_domain(struct iopt_area *area,
			    struct iommu_domain *domain);
int iopt_pages_access_pin(struct iopt_pages *pages, unsigned long index,
			  unsigned long last_index, struct page **out_pages);
void iopt_pages_access_unpin(struct iopt_pages *pages, unsigned long index,
			     unsigned long last_index);
int iopt_pages_rw_access(struct iopt_pages *pages, unsigned long start_byte,
			 void *data, unsigned long length, bool write,
			 bool slow_path);
void iopt_pages_switch_account(struct iopt_pages *pages,
			       struct iopt_account *new_account);

#endif /* IOMMUFD_IO_PAGETABLE_H */
