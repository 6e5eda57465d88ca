// SPDX-License-Identifier: GPL-2.0
/*
 * Self-test mode: a mock IOMMU and the IOMMU_TEST_CMD ioctl, compatible
 * with upstream's selftest interface (uapi/linux/iommufd_test.h), so that
 * iommufd ioctl suites run on kernels without CONFIG_IOMMUFD_TEST.
 *
 * It is reachable only when the module is loaded with selftest=1 (see
 * main.c), which taints the kernel.
 *
 * Mock devices never touch the kernel's IOMMU core: they are not struct
 * devices on a bus, so no real IOMMU driver (VT-d, AMD-Vi) ever probes
 * them.  A mock domain is nonetheless a real struct iommu_domain with our
 * own domain ops, so the IO page table code maps and unmaps it through the
 * kernel's iommu_map()/iommu_unmap() exactly as it does a hardware domain.
 * Its page table is an xarray indexed by IOVA / MOCK_PAGE_SIZE.
 */
#include <linux/anon_inodes.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/minmax.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_test.h>

#include "iommufd_private.h"
#include "selftest.h"

/*
 * Entries hold the physical address in MOCK_PAGE_SIZE units.  A domain
 * made while mock_large_pages is set also takes 2 MiB pages and treats
 * them as VT-d and AMD-Vi treat their large pages: an unmap that starts
 * anywhere inside one removes all of it and reports its whole size.
 * @large_leaves marks, by IOVA / SZ_2M, the 2 MiB pages mapped as one.
 */
struct mock_domain {
	struct iommu_domain domain;
	struct xarray pfns;
	struct xarray large_leaves;
	bool large_pages;
	bool dirty_capable;
	bool tracking;
};

/*
 * Dirty tracking, as an IOMMU's page table does it: one dirty bit per
 * leaf, on the entry of its first MOCK_PAGE_SIZE (xarray marks, which
 * go with the entry when it is unmapped).  Entries of a
 * MOCK_HUGE_PAGE_SIZE leaf carry MOCK_MARK_HUGE, so that a write anywhere
 * in one dirties it whole.
 */
#define MOCK_MARK_DIRTY XA_MARK_1
#define MOCK_MARK_HUGE XA_MARK_2

static bool mock_large_pages;
module_param(mock_large_pages, bool, 0644);
MODULE_PARM_DESC(mock_large_pages,
		 "self-test: new mock domains map and unmap 2 MiB pages as real IOMMU drivers do");

enum selftest_obj_type {
	SELFTEST_MOCK_DEVICE,
};

/* The stdev_id object user space destroys to unplug a mock device. */
struct selftest_obj {
	struct iommufd_object obj;
	enum selftest_obj_type type;
	struct iommufd_device *idev;
	struct mock_dev *mdev;
};

static const struct iommu_domain_ops mock_domain_ops;

static struct mock_domain *to_mock_domain(struct iommu_domain *domain)
{
	return container_of(domain, struct mock_domain, domain);
}

/* One of the mock's paging domains (the parent a nested one needs)? */
bool mock_domain_is_paging(struct iommu_domain *domain)
{
	return domain->ops == &mock_domain_ops;
}

static int mock_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct mock_domain *mock = to_mock_domain(domain);
	bool leaf = mock->large_pages && pgsize == SZ_2M;
	unsigned long start = iova;
	size_t n = pgsize * pgcount / MOCK_PAGE_SIZE;
	int rc = 0;

	for (; n; n--) {
		void *old;

		old = xa_store(&mock->pfns, iova / MOCK_PAGE_SIZE,
			       xa_mk_value(paddr / MOCK_PAGE_SIZE), gfp);
		if (xa_is_err(old)) {
			rc = xa_err(old);
			break;
		}
		/* Mapping over a live entry means our IOVA tracking broke. */
		WARN_ON(old);
		if (pgsize == MOCK_HUGE_PAGE_SIZE)
			xa_set_mark(&mock->pfns, iova / MOCK_PAGE_SIZE,
				    MOCK_MARK_HUGE);
		if (leaf && !(iova % SZ_2M)) {
			old = xa_store(&mock->large_leaves, iova / SZ_2M,
				       xa_mk_value(1), gfp);
			if (xa_is_err(old)) {
				xa_erase(&mock->pfns, iova / MOCK_PAGE_SIZE);
				rc = xa_err(old);
				break;
			}
		}
		iova += MOCK_PAGE_SIZE;
		paddr += MOCK_PAGE_SIZE;
	}
	if (!rc) {
		*mapped += pgsize * pgcount;
		return 0;
	}
	/* Undo this call's entries; the core undoes earlier calls. */
	for (; start < iova; start += MOCK_PAGE_SIZE) {
		xa_erase(&mock->pfns, start / MOCK_PAGE_SIZE);
		if (leaf && !(start % SZ_2M))
			xa_erase(&mock->large_leaves, start / SZ_2M);
	}
	return rc;
}

/* Remove the whole 2 MiB page around @iova if it was mapped as one. */
static size_t mock_unmap_leaf(struct mock_domain *mock, unsigned long iova)
{
	unsigned long head = ALIGN_DOWN(iova, SZ_2M);
	unsigned long cur;

	if (!mock->large_pages || !xa_erase(&mock->large_leaves, head / SZ_2M))
		return 0;
	for (cur = head; cur != head + SZ_2M; cur += MOCK_PAGE_SIZE)
		xa_erase(&mock->pfns, cur / MOCK_PAGE_SIZE);
	return SZ_2M;
}

static size_t mock_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct mock_domain *mock = to_mock_domain(domain);
	size_t want = pgsize * pgcount;
	size_t done = 0;

	while (done < want) {
		size_t leaf = mock_unmap_leaf(mock, iova);

		/* Like a real driver: the large page goes whole. */
		if (leaf) {
			done += leaf;
			iova = ALIGN_DOWN(iova, SZ_2M) + leaf;
			continue;
		}
		if (!xa_erase(&mock->pfns, iova / MOCK_PAGE_SIZE))
			break;
		iova += MOCK_PAGE_SIZE;
		done += MOCK_PAGE_SIZE;
	}
	return done;
}

static phys_addr_t mock_iova_to_phys(struct iommu_domain *domain,
				     dma_addr_t iova)
{
	struct mock_domain *mock = to_mock_domain(domain);
	void *entry;

	entry = xa_load(&mock->pfns, iova / MOCK_PAGE_SIZE);
	if (!entry)
		return 0;
	return (phys_addr_t)xa_to_value(entry) * MOCK_PAGE_SIZE +
	       iova % MOCK_PAGE_SIZE;
}

/*
 * The leaf whose dirty bit covers @iova: its size, and its first IOVA in
 * *@head.  The 2 MiB pages of mock_large_pages keep a bit per mock page:
 * they model how drivers unmap, and upstream's suites, run once more with
 * them, expect a domain without MOCK_HUGE_PAGE_SIZE leaves to report
 * single pages.
 */
static unsigned long mock_leaf(struct mock_domain *mock, unsigned long iova,
			       unsigned long *head)
{
	unsigned long size = MOCK_PAGE_SIZE;

	if (xa_get_mark(&mock->pfns, iova / MOCK_PAGE_SIZE, MOCK_MARK_HUGE))
		size = MOCK_HUGE_PAGE_SIZE;
	*head = ALIGN_DOWN(iova, size);
	return size;
}

/* What a device write to @iova does to the page table; false if unmapped. */
static bool mock_mark_dirty(struct mock_domain *mock, unsigned long iova)
{
	unsigned long head;

	if (!xa_load(&mock->pfns, iova / MOCK_PAGE_SIZE))
		return false;
	mock_leaf(mock, iova, &head);
	xa_set_mark(&mock->pfns, head / MOCK_PAGE_SIZE, MOCK_MARK_DIRTY);
	return true;
}

typedef void (*mock_dirty_report_fn)(void *arg, unsigned long iova,
				     unsigned long length);

/* Is the leaf at @head dirty?  Report it whole, and clear it unless @keep. */
static void mock_test_leaf(struct mock_domain *mock, unsigned long head,
			   bool keep, mock_dirty_report_fn report, void *arg)
{
	unsigned long size = mock_leaf(mock, head, &head);

	if (!xa_get_mark(&mock->pfns, head / MOCK_PAGE_SIZE, MOCK_MARK_DIRTY))
		return;
	if (!keep)
		xa_clear_mark(&mock->pfns, head / MOCK_PAGE_SIZE,
			      MOCK_MARK_DIRTY);
	report(arg, head, size);
}

/* The dirty leaves of [iova, iova + size), as a driver's walk finds them. */
static void mock_walk_dirty(struct mock_domain *mock, unsigned long iova,
			    size_t size, bool keep, mock_dirty_report_fn report,
			    void *arg)
{
	unsigned long last_index = (iova + size - 1) / MOCK_PAGE_SIZE;
	unsigned long index = iova / MOCK_PAGE_SIZE;
	unsigned long head;

	/* A leaf that begins before @iova has its bit on its first entry. */
	if (xa_load(&mock->pfns, index)) {
		mock_leaf(mock, iova, &head);
		if (head < iova)
			mock_test_leaf(mock, head, keep, report, arg);
	}
	/* Every other dirty bit is on an entry inside the range. */
	while (xa_find(&mock->pfns, &index, last_index, MOCK_MARK_DIRTY)) {
		mock_test_leaf(mock, index * MOCK_PAGE_SIZE, keep, report, arg);
		if (index++ == last_index)
			break;
	}
}

#ifdef HAVE_IOMMU_DIRTY_OPS
/*
 * On kernels with dirty ops the mock offers them as a driver does, and the
 * core reads them as it reads VT-d's or AMD-Vi's: the self-test runs that
 * path too (dirty.c).
 */
static void mock_report_to_driver_bitmap(void *arg, unsigned long iova,
					 unsigned long length)
{
	iommu_dirty_bitmap_record(arg, iova, length);
}

static int mock_dirty_ops_set(struct iommu_domain *domain, bool enable)
{
	to_mock_domain(domain)->tracking = enable;
	return 0;
}

static int mock_dirty_ops_read(struct iommu_domain *domain, unsigned long iova,
			       size_t size, unsigned long flags,
			       struct iommu_dirty_bitmap *dirty)
{
	struct mock_domain *mock = to_mock_domain(domain);

	/* As the drivers: an iova_bitmap is only filled while tracking. */
	if (!mock->tracking && dirty->bitmap)
		return -EINVAL;
	mock_walk_dirty(mock, iova, size, flags & IOMMU_DIRTY_NO_CLEAR,
			mock_report_to_driver_bitmap, dirty);
	return 0;
}

static const struct iommu_dirty_ops mock_dirty_ops = {
	.set_dirty_tracking = mock_dirty_ops_set,
	.read_and_clear_dirty = mock_dirty_ops_read,
};
#else
/* Without dirty ops in the kernel, the mock reports to the core directly. */
static void mock_report_to_bitmap(void *arg, unsigned long iova,
				  unsigned long length)
{
	iommufd_dirty_record(arg, iova, length);
}

static int mock_set_dirty_tracking(struct iommu_domain *domain, bool enable)
{
	to_mock_domain(domain)->tracking = enable;
	return 0;
}

static int mock_read_and_clear_dirty(struct iommu_domain *domain,
				     unsigned long iova, size_t size,
				     bool keep,
				     struct iommufd_dirty_bitmap *dirty)
{
	mock_walk_dirty(to_mock_domain(domain), iova, size, keep,
			mock_report_to_bitmap, dirty);
	return 0;
}
#endif

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mock = to_mock_domain(domain);

	/* Everything must have been unmapped by the IO page table. */
	WARN_ON(!xa_empty(&mock->pfns));
	WARN_ON(!xa_empty(&mock->large_leaves));
	xa_destroy(&mock->pfns);
	xa_destroy(&mock->large_leaves);
	kfree(mock);
}

static const struct iommu_domain_ops mock_domain_ops = {
	.map_pages = mock_map_pages,
	.unmap_pages = mock_unmap_pages,
	.iova_to_phys = mock_iova_to_phys,
	.free = mock_domain_free,
};

/* The mock device backend ------------------------------------------------ */

static struct iommu_domain *mock_domain_alloc_paging(struct iommufd_device *idev,
						     u32 flags)
{
	struct mock_dev *mdev = idev->priv;
	bool dirty = flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING;
	struct mock_domain *mock;

	/*
	 * Any mock paging domain can be a stage-2: nothing about it changes
	 * when it is made a nest parent.
	 */
	if (flags & ~(IOMMU_HWPT_ALLOC_DIRTY_TRACKING |
		      IOMMU_HWPT_ALLOC_NEST_PARENT))
		return ERR_PTR(-EOPNOTSUPP);
	/* As upstream's mock: MOCK_FLAGS_DEVICE_NO_DIRTY is an IOMMU without. */
	if (dirty && (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return ERR_PTR(-EOPNOTSUPP);
	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	xa_init_flags(&mock->pfns, XA_FLAGS_ACCOUNT);
	xa_init_flags(&mock->large_leaves, XA_FLAGS_ACCOUNT);
	/*
	 * A MOCK_FLAGS_DEVICE_HUGE_IOVA device has a large page of its own
	 * (upstream's MOCK_HUGE_PAGE_SIZE, the leaf its dirty bits are
	 * kept for): the 2 MiB pages of mock_large_pages are not its IOMMU's.
	 */
	mock->large_pages = READ_ONCE(mock_large_pages) &&
			    !(mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOVA);
	mock->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mock->domain.ops = &mock_domain_ops;
	mock->domain.pgsize_bitmap = MOCK_PAGE_SIZE;
	if (mdev->flags & MOCK_FLAGS_DEVICE_HUGE_IOVA)
		mock->domain.pgsize_bitmap |= MOCK_HUGE_PAGE_SIZE;
	if (mock->large_pages)
		mock->domain.pgsize_bitmap |= SZ_2M;
	mock->domain.geometry.aperture_start = MOCK_APERTURE_START;
	mock->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
	mock->domain.geometry.force_aperture = true;
	mock->dirty_capable = dirty;
#ifdef HAVE_IOMMU_DIRTY_OPS
	if (dirty)
		mock->domain.dirty_ops = &mock_dirty_ops;
#endif
	return &mock->domain;
}

static int mock_attach(struct iommufd_device *idev, struct iommu_domain *domain)
{
	struct mock_dev *mdev = idev->priv;

	/*
	 * A mock device has no hardware to program, but one whose IOMMU
	 * cannot track dirty pages cannot use a domain that does (EINVAL,
	 * as upstream's mock answers).  A nested domain is always usable.
	 */
	if (mock_domain_is_paging(domain) &&
	    to_mock_domain(domain)->dirty_capable &&
	    (mdev->flags & MOCK_FLAGS_DEVICE_NO_DIRTY))
		return -EINVAL;
	return 0;
}

static void mock_detach(struct iommufd_device *idev)
{
}

/*
 * A MOCK_FLAGS_DEVICE_PASID device has MOCK_PASID_WIDTH bits of PASID, any
 * other none: beyond them is EINVAL, the IOMMU core's answer upstream.
 * There is nothing to program, but IOMMU_TEST_PASID_RESERVED refuses to be
 * switched from one domain to another (ENOMEM, as upstream's mock fakes
 * it), so that a failed replace can be seen to leave the old one in force.
 */
static int mock_attach_pasid(struct iommufd_device *idev, u32 pasid,
			     struct iommu_domain *domain,
			     struct iommu_domain *old)
{
	struct mock_dev *mdev = idev->priv;

	if (!(mdev->flags & MOCK_FLAGS_DEVICE_PASID) ||
	    pasid >= BIT(MOCK_PASID_WIDTH))
		return -EINVAL;
	if (pasid == IOMMU_TEST_PASID_RESERVED && old)
		return -ENOMEM;
	return 0;
}

static void mock_detach_pasid(struct iommufd_device *idev, u32 pasid)
{
}

static int mock_reserve_regions(struct iommufd_device *idev,
				struct io_pagetable *iopt, void *owner)
{
	/* No MSI window or other hole: the aperture says everything. */
	return 0;
}

static int mock_hw_info(struct iommufd_device *idev,
			struct iommufd_hw_report *report)
{
	struct iommu_test_hw_info *info = kzalloc(sizeof(*info), GFP_KERNEL);

	if (!info)
		return -ENOMEM;
	info->test_reg = IOMMU_HW_INFO_SELFTEST_REGVAL;
	report->data = info;
	report->length = sizeof(*info);
	report->type = IOMMU_HW_INFO_TYPE_SELFTEST;
	if (((struct mock_dev *)idev->priv)->flags & MOCK_FLAGS_DEVICE_PASID)
		report->max_pasid_log2 = MOCK_PASID_WIDTH;
	/* Exactly the devices mock_domain_alloc_paging() makes dirty HWPTs for. */
	if (!(((struct mock_dev *)idev->priv)->flags &
	      MOCK_FLAGS_DEVICE_NO_DIRTY))
		report->capabilities |= IOMMU_HW_CAP_DIRTY_TRACKING;
	return 0;
}

/* A mock IOMMU has no no-snoop to block. */
static bool mock_can_enforce_coherency(struct iommufd_device *idev)
{
	return false;
}

/* Paging or nested: each kind frees itself. */
static void mock_any_domain_free(struct iommu_domain *domain)
{
	domain->ops->free(domain);
}

static const struct iommufd_device_ops mock_device_ops;

/* One of the mock's devices (its priv is a struct mock_dev)? */
bool mock_device_is(struct iommufd_device *idev)
{
	return idev->ops == &mock_device_ops;
}

static const struct iommufd_device_ops mock_device_ops = {
	.owner = THIS_MODULE,
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_alloc_nested = mock_domain_alloc_nested,
	.domain_free = mock_any_domain_free,
	.cache_invalidate_user = mock_cache_invalidate_user,
	.attach = mock_attach,
	.detach = mock_detach,
	.attach_pasid = mock_attach_pasid,
	.detach_pasid = mock_detach_pasid,
	.reserve_regions = mock_reserve_regions,
	.hw_info = mock_hw_info,
	.can_enforce_coherency = mock_can_enforce_coherency,
	.page_response = mock_iopf_page_response,
	/* As upstream's mock IOMMU. */
	.user_pasid_table = true,
	.viommu_ops = mock_viommu_ops_for,
#ifdef HAVE_IOMMU_DIRTY_OPS
	.set_dirty_tracking = iommufd_domain_set_dirty_tracking,
	.read_and_clear_dirty = iommufd_domain_read_and_clear_dirty,
#else
	.set_dirty_tracking = mock_set_dirty_tracking,
	.read_and_clear_dirty = mock_read_and_clear_dirty,
#endif
};

/* Self-test accesses ------------------------------------------------------ */

/*
 * A self-test access lives behind a file descriptor of its own: closing it
 * ends the access.  Each IOMMU_TEST_OP_ACCESS_PAGES is a pin that lasts
 * until IOMMU_TEST_OP_DESTROY_ACCESS_PAGES, or until an unmap of its range
 * makes the access give it up.
 */
struct mock_access {
	struct iommufd_access *access;
	struct file *file;
	bool may_pin;
	/* @pins_lock: held across pinning and recording a pin */
	struct mutex pins_lock;
	struct list_head pins;
	unsigned int last_pin_id;
};

/* One ACCESS_PAGES call: the IOVA range [iova, last] it pinned. */
struct mock_access_pin {
	struct list_head node;
	unsigned int id;
	unsigned long iova;
	unsigned long last;
};

static void mock_access_drop_pin(struct mock_access *macc,
				 struct mock_access_pin *pin)
{
	lockdep_assert_held(&macc->pins_lock);
	list_del(&pin->node);
	iommufd_access_unpin_pages(macc->access, pin->iova,
				   pin->last - pin->iova + 1);
	kfree(pin);
}

/* ->unmap: [iova, iova + length) goes away; give up every pin inside. */
static void mock_access_unmap(void *data, unsigned long iova,
			      unsigned long length)
{
	struct mock_access_pin *pin, *next;
	struct mock_access *macc = data;
	unsigned long last = iova + length - 1;

	mutex_lock(&macc->pins_lock);
	list_for_each_entry_safe(pin, next, &macc->pins, node)
		if (pin->iova <= last && iova <= pin->last)
			mock_access_drop_pin(macc, pin);
	mutex_unlock(&macc->pins_lock);
}

static const struct iommufd_access_ops mock_access_ops = {
	.unmap = mock_access_unmap,
};

/* For an access made with MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES. */
static const struct iommufd_access_ops mock_access_ops_pin = {
	.needs_pin_pages = true,
	.unmap = mock_access_unmap,
};

static int mock_access_fop_release(struct inode *inode, struct file *file)
{
	struct mock_access *macc = file->private_data;

	/* NULL if the creating ioctl failed after making the file. */
	if (macc->access) {
		mock_access_unmap(macc, 0, ULONG_MAX);
		iommufd_access_destroy(macc->access);
	}
	mutex_destroy(&macc->pins_lock);
	kfree(macc);
	return 0;
}

static const struct file_operations mock_access_fops = {
	.owner = THIS_MODULE,
	.release = mock_access_fop_release,
};

/* The access behind @fd; its file is held until mock_access_put(). */
static struct mock_access *mock_access_get(int fd)
{
	struct file *file = fget(fd);

	if (file && file->f_op == &mock_access_fops)
		return file->private_data;
	if (file)
		fput(file);
	return ERR_PTR(-EBADFD);
}

static void mock_access_put(struct mock_access *macc)
{
	fput(macc->file);
}

static int test_create_access(struct iommufd_ucmd *ucmd,
			      struct iommu_test_cmd *cmd)
{
	const u32 pin_flag = MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES;
	struct iommufd_access *access;
	struct mock_access *macc;
	u32 access_id;
	int fd, rc;

	if (cmd->create_access.flags & ~pin_flag)
		return -EOPNOTSUPP;
	macc = kzalloc(sizeof(*macc), GFP_KERNEL_ACCOUNT);
	if (!macc)
		return -ENOMEM;
	macc->may_pin = cmd->create_access.flags & pin_flag;
	INIT_LIST_HEAD(&macc->pins);
	mutex_init(&macc->pins_lock);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		rc = fd;
		goto out_free;
	}
	/* From here on the file's release frees @macc. */
	macc->file = anon_inode_getfile("[iommufd_test_access]",
					&mock_access_fops, macc, O_RDWR);
	if (IS_ERR(macc->file)) {
		rc = PTR_ERR(macc->file);
		goto out_put_fd;
	}

	access = iommufd_access_create(ucmd->ictx,
				       macc->may_pin ? &mock_access_ops_pin :
						       &mock_access_ops,
				       macc, &access_id);
	if (IS_ERR(access)) {
		rc = PTR_ERR(access);
		goto out_fput;
	}
	rc = iommufd_access_attach(access, cmd->id);
	if (!rc) {
		cmd->create_access.out_access_fd = fd;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	if (rc) {
		iommufd_access_destroy(access);
		goto out_fput;
	}
	macc->access = access;
	fd_install(fd, macc->file);
	return 0;

out_fput:
	fput(macc->file);
	put_unused_fd(fd);
	return rc;
out_put_fd:
	put_unused_fd(fd);
out_free:
	mutex_destroy(&macc->pins_lock);
	kfree(macc);
	return rc;
}

/* Are @pages the pages the user's buffer at @uptr maps, one by one? */
static int check_pages(void __user *uptr, struct page **pages, size_t npages)
{
	size_t i;

	for (i = 0; i < npages; i++) {
		struct page *page;
		long got;

		got = get_user_pages_fast((uintptr_t)uptr + i * PAGE_SIZE, 1,
					  0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		put_page(page);
		if (pages[i] != page)
			return -EBADE;
	}
	return 0;
}

static int test_access_pages(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	unsigned long iova = cmd->access_pages.iova;
	size_t length = cmd->access_pages.length;
	void __user *uptr = u64_to_user_ptr(cmd->access_pages.uptr);
	u32 flags = cmd->access_pages.flags;
	struct mock_access_pin *pin;
	struct mock_access *macc;
	struct page **pages;
	size_t npages;
	int rc;

	/* The page array below stays a modest allocation. */
	if (length > SZ_16M)
		return -ENOMEM;
	if (flags & ~MOCK_FLAGS_ACCESS_WRITE)
		return -EOPNOTSUPP;
	if (!length || iova + length < iova)
		return -EINVAL;

	macc = mock_access_get(cmd->id);
	if (IS_ERR(macc))
		return PTR_ERR(macc);
	rc = -EOPNOTSUPP;
	if (!macc->may_pin)
		goto out_put;

	npages = (ALIGN(iova + length, PAGE_SIZE) -
		  ALIGN_DOWN(iova, PAGE_SIZE)) / PAGE_SIZE;
	rc = -ENOMEM;
	pages = kvcalloc(npages, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	pin = kzalloc(sizeof(*pin), GFP_KERNEL_ACCOUNT);
	if (!pages || !pin)
		goto out_free;

	/*
	 * An unmap's callback must find every pin it asks for: pinning and
	 * recording happen under one hold of the lock.
	 */
	mutex_lock(&macc->pins_lock);
	rc = iommufd_access_pin_pages(macc->access, iova, length, pages,
				      flags & MOCK_FLAGS_ACCESS_WRITE ?
					      IOMMUFD_ACCESS_RW_WRITE : 0);
	if (rc)
		goto out_unlock;
	pin->iova = iova;
	pin->last = iova + length - 1;
	pin->id = ++macc->last_pin_id;
	list_add_tail(&pin->node, &macc->pins);
	if (uptr)
		rc = check_pages(uptr - offset_in_page(iova), pages, npages);
	if (!rc) {
		cmd->access_pages.out_access_pages_id = pin->id;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	if (rc)
		mock_access_drop_pin(macc, pin);
	pin = NULL;
out_unlock:
	mutex_unlock(&macc->pins_lock);
out_free:
	kfree(pin);
	kvfree(pages);
out_put:
	mock_access_put(macc);
	return rc;
}

static int test_destroy_access_pages(struct iommufd_ucmd *ucmd,
				     struct iommu_test_cmd *cmd)
{
	unsigned int id = cmd->destroy_access_pages.access_pages_id;
	struct mock_access_pin *pin;
	struct mock_access *macc;
	int rc = -ENOENT;

	macc = mock_access_get(cmd->id);
	if (IS_ERR(macc))
		return PTR_ERR(macc);
	mutex_lock(&macc->pins_lock);
	list_for_each_entry(pin, &macc->pins, node) {
		if (pin->id == id) {
			mock_access_drop_pin(macc, pin);
			rc = 0;
			break;
		}
	}
	mutex_unlock(&macc->pins_lock);
	mock_access_put(macc);
	return rc;
}

static int test_access_rw(struct iommufd_ucmd *ucmd,
			  struct iommu_test_cmd *cmd)
{
	void __user *ubuf = u64_to_user_ptr(cmd->access_rw.uptr);
	size_t length = cmd->access_rw.length;
	u32 flags = cmd->access_rw.flags;
	bool to_iova = flags & MOCK_ACCESS_RW_WRITE;
	struct mock_access *macc;
	void *bounce;
	int rc;

	if (length > SZ_16M)
		return -ENOMEM;
	if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH))
		return -EOPNOTSUPP;

	macc = mock_access_get(cmd->id);
	if (IS_ERR(macc))
		return PTR_ERR(macc);
	/* A zero length still reaches the core, which refuses it. */
	bounce = kvzalloc(max_t(size_t, length, 1), GFP_KERNEL_ACCOUNT);
	rc = -ENOMEM;
	if (!bounce)
		goto out_put;
	rc = -EFAULT;
	if (to_iova && copy_from_user(bounce, ubuf, length))
		goto out_free;
	rc = iommufd_access_rw(macc->access, cmd->access_rw.iova, bounce,
			       length,
			       (to_iova ? IOMMUFD_ACCESS_RW_WRITE : 0) |
			       (flags & MOCK_ACCESS_RW_SLOW_PATH ?
					__IOMMUFD_ACCESS_RW_SLOW_PATH : 0));
	if (!rc && !to_iova && copy_to_user(ubuf, bounce, length))
		rc = -EFAULT;
out_free:
	kvfree(bounce);
out_put:
	mock_access_put(macc);
	return rc;
}

static int test_access_replace_ioas(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	struct mock_access *macc = mock_access_get(cmd->id);
	int rc;

	if (IS_ERR(macc))
		return PTR_ERR(macc);
	rc = iommufd_access_replace(macc->access,
				    cmd->access_replace_ioas.ioas_id);
	mock_access_put(macc);
	return rc;
}

/* Mock devices, reserved ranges and checks ------------------------------ */

static int test_add_reserved(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	u64 first = cmd->add_reserved.start;
	struct iommufd_ioas *ioas;
	u64 last;
	int rc;

	if (!cmd->add_reserved.length)
		return -EINVAL;
	if (check_add_overflow(first, cmd->add_reserved.length - 1, &last) ||
	    last > ULONG_MAX)
		return -EOVERFLOW;

	ioas = iommufd_get_ioas(ucmd->ictx, cmd->id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	/* Owned by nobody: such a range stays as long as the IOAS. */
	down_write(&ioas->iopt.iova_rwsem);
	rc = iopt_reserve_iova(&ioas->iopt, first, last, NULL);
	up_write(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

/* Unplugging: the device object goes with its self-test object. */
void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj;

	sobj = container_of(obj, struct selftest_obj, obj);
	if (sobj->idev)
		iommufd_backend_unbind(sobj->idev);
	kfree(sobj->mdev);
}

static int test_mock_domain(struct iommufd_ucmd *ucmd,
			    struct iommu_test_cmd *cmd)
{
	const u32 known_flags = MOCK_FLAGS_DEVICE_NO_DIRTY |
				MOCK_FLAGS_DEVICE_HUGE_IOVA |
				MOCK_FLAGS_DEVICE_PASID;
	struct selftest_obj *sobj;
	u32 dev_flags = 0;
	u32 pt_id = cmd->id;
	unsigned int i;
	int rc;

	/* The flags come only with the _FLAGS op, which shares the union. */
	if (cmd->op == IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS)
		dev_flags = cmd->mock_domain_flags.dev_flags;
	if (dev_flags & ~known_flags)
		return -EINVAL;

	sobj = iommufd_object_alloc(ucmd->ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	rc = -ENOMEM;
	sobj->mdev = kzalloc(sizeof(*sobj->mdev), GFP_KERNEL_ACCOUNT);
	if (!sobj->mdev)
		goto out_destroy;
	sobj->mdev->flags = dev_flags;
	for (i = 0; i < MOCK_DEV_CACHE_NUM; i++)
		sobj->mdev->cache[i] = IOMMU_TEST_DEV_CACHE_DEFAULT;
	sobj->type = SELFTEST_MOCK_DEVICE;

	/*
	 * The self-test object is the device's owner: destroying it unbinds
	 * the device (and retires its automatic HWPT with it).
	 */
	sobj->idev = iommufd_backend_bind(ucmd->ictx, &mock_device_ops,
					  sobj->mdev);
	if (IS_ERR(sobj->idev)) {
		rc = PTR_ERR(sobj->idev);
		sobj->idev = NULL;
		goto out_destroy;
	}
	rc = iommufd_device_attach(sobj->idev, &pt_id);
	if (rc)
		goto out_destroy;

	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_idev_id = sobj->idev->obj.id;
	cmd->mock_domain.out_hwpt_id = pt_id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto out_destroy;
	iommufd_object_finalize(ucmd->ictx, &sobj->obj);
	return 0;

out_destroy:
	iommufd_object_abort_and_destroy(ucmd->ictx, &sobj->obj);
	return rc;
}

/* The mock device of self-test object @id, looked up. */
static struct selftest_obj *get_mock_device(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	if (container_of(obj, struct selftest_obj, obj)->type ==
	    SELFTEST_MOCK_DEVICE)
		return container_of(obj, struct selftest_obj, obj);
	iommufd_put_object(ucmd->ictx, obj);
	return ERR_PTR(-EINVAL);
}

static int test_mock_domain_replace(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj = get_mock_device(ucmd, cmd->id);
	int rc;

	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	/* The answer is the HWPT now in use, read under the device lock. */
	rc = iommufd_device_change_pt(sobj->idev,
				      &cmd->mock_domain_replace.pt_id,
				      IOMMUFD_ATTACH_ANY);
	if (!rc)
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

/* HWPT @id, looked up, if it is one of the mock IOMMU's. */
static struct iommufd_hwpt_paging *get_mock_hwpt(struct iommufd_ucmd *ucmd,
						 u32 id)
{
	struct iommufd_hwpt_paging *hwpt = iommufd_get_hwpt_paging(ucmd->ictx,
								   id);

	if (!IS_ERR(hwpt) && !mock_domain_is_paging(hwpt->common.domain)) {
		iommufd_put_object(ucmd->ictx, &hwpt->common.obj);
		hwpt = ERR_PTR(-EINVAL);
	}
	return hwpt;
}

/* Does the mock domain translate [iova, iova + length) to the user buffer? */
static int test_md_check_map(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	void __user *uptr = u64_to_user_ptr(cmd->check_map.uptr);
	u64 length = cmd->check_map.length;
	u64 iova = cmd->check_map.iova;
	struct iommufd_hwpt_paging *hwpt;
	struct mock_domain *mock;
	uintptr_t end;
	int rc = 0;

	if ((iova | length | (uintptr_t)uptr) % MOCK_PAGE_SIZE ||
	    check_add_overflow((uintptr_t)uptr, (uintptr_t)length, &end))
		return -EINVAL;

	hwpt = get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	mock = to_mock_domain(hwpt->common.domain);

	while (length && !rc) {
		phys_addr_t expect;
		struct page *page;
		long got;

		got = get_user_pages_fast((uintptr_t)uptr & PAGE_MASK, 1, 0,
					  &page);
		if (got != 1) {
			rc = got < 0 ? got : -EFAULT;
			break;
		}
		expect = page_to_phys(page) + offset_in_page(uptr);
		put_page(page);
		if (!xa_load(&mock->pfns, iova / MOCK_PAGE_SIZE) ||
		    iommu_iova_to_phys(hwpt->common.domain, iova) != expect)
			rc = -EINVAL;
		length -= MOCK_PAGE_SIZE;
		iova += MOCK_PAGE_SIZE;
		uptr += MOCK_PAGE_SIZE;
	}
	iommufd_put_object(ucmd->ictx, &hwpt->common.obj);
	return rc;
}

/*
 * Is every (small) page of the buffer pinned exactly @refs times?  Each
 * pin adds GUP_PIN_COUNTING_BIAS to the page's reference count.
 */
static int test_md_check_refs(struct iommufd_ucmd *ucmd,
			      struct iommu_test_cmd *cmd)
{
	void __user *uptr = u64_to_user_ptr(cmd->check_refs.uptr);
	u64 length = cmd->check_refs.length;
	uintptr_t end;
	u64 done;

	if ((length | (uintptr_t)uptr) % PAGE_SIZE ||
	    check_add_overflow((uintptr_t)uptr, (uintptr_t)length, &end))
		return -EINVAL;

	for (done = 0; done < length; done += PAGE_SIZE) {
		unsigned int pins;
		struct page *page;
		long got;

		got = get_user_pages_fast((uintptr_t)uptr + done, 1, 0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		pins = page_ref_count(page) / GUP_PIN_COUNTING_BIAS;
		put_page(page);
		/* Large folios count differently: not checked. */
		if (!PageCompound(page) && pins != cmd->check_refs.refs)
			return -EIO;
	}
	return 0;
}

/*
 * IOMMU_TEST_OP_DIRTY: the device writes to every IOVA whose bit is set in
 * the user's bitmap (bit n: @iova + n * @page_size); out_nr_dirty counts
 * those that were mapped.  The bitmap is read in bounded chunks.
 */
static int test_dirty(struct iommufd_ucmd *ucmd, struct iommu_test_cmd *cmd)
{
	const unsigned long chunk_bits = PAGE_SIZE * BITS_PER_BYTE;
	void __user *uptr = u64_to_user_ptr(cmd->dirty.uptr);
	u64 page_size = cmd->dirty.page_size;
	u64 length = cmd->dirty.length;
	u64 iova = cmd->dirty.iova;
	struct iommufd_hwpt_paging *hwpt;
	struct mock_domain *mock;
	unsigned long *chunk;
	u64 nbits, done, count = 0;
	int rc;

	/* Upstream's checks and limit (16 MiB of bitmap); flags are unused. */
	if (!page_size || !length || iova % page_size || length % page_size ||
	    !uptr)
		return -EINVAL;
	nbits = length / page_size;
	if (nbits > SZ_16M * BITS_PER_BYTE)
		return -EOVERFLOW;
	if (iova + length - 1 < iova || iova + length - 1 > ULONG_MAX)
		return -EOVERFLOW;

	hwpt = get_mock_hwpt(ucmd, cmd->id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);
	mock = to_mock_domain(hwpt->common.domain);
	rc = -EINVAL;
	if (!mock->tracking)
		goto out_put_hwpt;
	rc = -ENOMEM;
	chunk = kmalloc(PAGE_SIZE, GFP_KERNEL_ACCOUNT);
	if (!chunk)
		goto out_put_hwpt;

	rc = 0;
	for (done = 0; done < nbits && !rc; done += chunk_bits) {
		unsigned long n = min_t(u64, nbits - done, chunk_bits);
		unsigned long bit;

		if (copy_from_user(chunk, uptr + done / BITS_PER_BYTE,
				   DIV_ROUND_UP(n, BITS_PER_BYTE))) {
			rc = -EFAULT;
			break;
		}
		for_each_set_bit(bit, chunk, n)
			count += mock_mark_dirty(mock, iova +
						 (done + bit) * page_size);
	}
	kfree(chunk);
	if (!rc) {
		cmd->dirty.out_nr_dirty = count;
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
out_put_hwpt:
	iommufd_put_object(ucmd->ictx, &hwpt->common.obj);
	return rc;
}

/*
 * IOMMU_TEST_OP_TRIGGER_IOPF: the mock device @trigger_iopf.dev_id (an
 * idev_id) makes a page request (selftest_iopf.c).  ENOENT for no device,
 * EINVAL for one that is not a mock's, as upstream answers.
 */
static int test_trigger_iopf(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	struct iommufd_object *obj;
	struct iommufd_device *idev;
	int rc = -EINVAL;

	obj = iommufd_get_object(ucmd->ictx, cmd->trigger_iopf.dev_id,
				 IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return PTR_ERR(obj);
	idev = container_of(obj, struct iommufd_device, obj);
	if (idev->ops == &mock_device_ops)
		rc = mock_iopf_trigger(idev, cmd);
	iommufd_put_object(ucmd->ictx, obj);
	return rc;
}

/*
 * IOMMU_TEST_OP_PASID_ATTACH / _REPLACE / _DETACH: a PASID of the mock
 * device of self-test object @id (device_pasid.c has the rules).  As
 * upstream's ops, nothing is written back.
 */
static int test_pasid_attach(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj = get_mock_device(ucmd, cmd->id);
	int rc;

	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	if (cmd->op == IOMMU_TEST_OP_PASID_ATTACH)
		rc = iommufd_device_pasid_attach(sobj->idev,
						 cmd->pasid_attach.pasid,
						 &cmd->pasid_attach.pt_id);
	else
		rc = iommufd_device_pasid_replace(sobj->idev,
						  cmd->pasid_replace.pasid,
						  &cmd->pasid_replace.pt_id);
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int test_pasid_detach(struct iommufd_ucmd *ucmd,
			     struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj = get_mock_device(ucmd, cmd->id);

	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	iommufd_device_pasid_detach(sobj->idev, cmd->pasid_detach.pasid);
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return 0;
}

/*
 * IOMMU_TEST_OP_PASID_CHECK_HWPT: 0 if the PASID goes to HWPT @hwpt_id
 * (to nothing for 0), else EINVAL; an @hwpt_id naming no HWPT is ENOENT
 * (nothing) or EINVAL (another object).
 */
static int test_pasid_check_hwpt(struct iommufd_ucmd *ucmd,
				 struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj = get_mock_device(ucmd, cmd->id);
	u32 want = cmd->pasid_check.hwpt_id;
	struct iommufd_object *obj;
	int rc = 0;

	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	if (want) {
		obj = iommufd_get_object(ucmd->ictx, want, IOMMUFD_OBJ_ANY);
		if (IS_ERR(obj)) {
			rc = PTR_ERR(obj);
			goto out_put;
		}
		if (obj->type != IOMMUFD_OBJ_HWPT_PAGING &&
		    obj->type != IOMMUFD_OBJ_HWPT_NESTED)
			rc = -EINVAL;
		iommufd_put_object(ucmd->ictx, obj);
		if (rc)
			goto out_put;
	}
	if (iommufd_device_pasid_hwpt_id(sobj->idev,
					 cmd->pasid_check.pasid) != want)
		rc = -EINVAL;
out_put:
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static int test_set_temp_memory_limit(struct iommufd_ucmd *ucmd,
				      struct iommu_test_cmd *cmd)
{
	/*
	 * Upstream bounds its temporary PFN batches with this; ours are the
	 * pinning windows, which shrink with it so that the window-crossing
	 * paths run (upstream's mock_domain_limit).
	 */
	if (cmd->memory_limit.limit < sizeof(unsigned long) + sizeof(u32))
		return -EINVAL;
	iopt_set_temp_memory_limit(cmd->memory_limit.limit);
	return 0;
}

typedef int (*selftest_op_fn)(struct iommufd_ucmd *ucmd,
			      struct iommu_test_cmd *cmd);

/*
 * IOMMU_TEST_CMD, one row per op of uapi/linux/iommufd_test.h that we
 * offer.  The rest (DMA-buf) answer EOPNOTSUPP, as do unknown ops.
 */
static const selftest_op_fn selftest_ops[] = {
	[IOMMU_TEST_OP_ADD_RESERVED] = test_add_reserved,
	[IOMMU_TEST_OP_MOCK_DOMAIN] = test_mock_domain,
	[IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS] = test_mock_domain,
	[IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE] = test_mock_domain_replace,
	[IOMMU_TEST_OP_MD_CHECK_MAP] = test_md_check_map,
	[IOMMU_TEST_OP_MD_CHECK_REFS] = test_md_check_refs,
	[IOMMU_TEST_OP_CREATE_ACCESS] = test_create_access,
	[IOMMU_TEST_OP_ACCESS_PAGES] = test_access_pages,
	[IOMMU_TEST_OP_DESTROY_ACCESS_PAGES] = test_destroy_access_pages,
	[IOMMU_TEST_OP_ACCESS_RW] = test_access_rw,
	[IOMMU_TEST_OP_ACCESS_REPLACE_IOAS] = test_access_replace_ioas,
	[IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT] = test_set_temp_memory_limit,
	[IOMMU_TEST_OP_DIRTY] = test_dirty,
	[IOMMU_TEST_OP_MD_CHECK_IOTLB] = test_md_check_iotlb,
	[IOMMU_TEST_OP_TRIGGER_IOPF] = test_trigger_iopf,
	[IOMMU_TEST_OP_DEV_CHECK_CACHE] = iommufd_test_dev_check_cache,
	[IOMMU_TEST_OP_TRIGGER_VEVENT] = iommufd_test_trigger_vevent,
	[IOMMU_TEST_OP_PASID_ATTACH] = test_pasid_attach,
	[IOMMU_TEST_OP_PASID_REPLACE] = test_pasid_attach,
	[IOMMU_TEST_OP_PASID_DETACH] = test_pasid_detach,
	[IOMMU_TEST_OP_PASID_CHECK_HWPT] = test_pasid_check_hwpt,
};

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;
	selftest_op_fn fn = NULL;

	/* Upstream's handler never looked at __reserved: neither do we. */
	if (cmd->op < ARRAY_SIZE(selftest_ops))
		fn = selftest_ops[cmd->op];
	return fn ? fn(ucmd, cmd) : -EOPNOTSUPP;
}
