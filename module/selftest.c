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
#include <linux/err.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/xarray.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_test.h>

#include "iommufd_private.h"

/* Entries hold the physical address in MOCK_PAGE_SIZE units. */
struct mock_domain {
	struct iommu_domain domain;
	struct xarray pfns;
};

struct mock_dev {
	u32 flags;
};

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

static int mock_map_pages(struct iommu_domain *domain, unsigned long iova,
			  phys_addr_t paddr, size_t pgsize, size_t pgcount,
			  int prot, gfp_t gfp, size_t *mapped)
{
	struct mock_domain *mock = to_mock_domain(domain);
	unsigned long start = iova;
	size_t n = pgsize * pgcount / MOCK_PAGE_SIZE;

	for (; n; n--) {
		void *old;

		old = xa_store(&mock->pfns, iova / MOCK_PAGE_SIZE,
			       xa_mk_value(paddr / MOCK_PAGE_SIZE), gfp);
		if (xa_is_err(old)) {
			/* Undo this call's entries; the core undoes the rest. */
			for (; start < iova; start += MOCK_PAGE_SIZE)
				xa_erase(&mock->pfns, start / MOCK_PAGE_SIZE);
			return xa_err(old);
		}
		/* Mapping over a live entry means our IOVA tracking broke. */
		WARN_ON(old);
		iova += MOCK_PAGE_SIZE;
		paddr += MOCK_PAGE_SIZE;
		*mapped += MOCK_PAGE_SIZE;
	}
	return 0;
}

static size_t mock_unmap_pages(struct iommu_domain *domain, unsigned long iova,
			       size_t pgsize, size_t pgcount,
			       struct iommu_iotlb_gather *gather)
{
	struct mock_domain *mock = to_mock_domain(domain);
	size_t n = pgsize * pgcount / MOCK_PAGE_SIZE;
	size_t done = 0;

	for (; n; n--) {
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

static void mock_domain_free(struct iommu_domain *domain)
{
	struct mock_domain *mock = to_mock_domain(domain);

	/* Everything must have been unmapped by the IO page table. */
	WARN_ON(!xa_empty(&mock->pfns));
	xa_destroy(&mock->pfns);
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
	struct mock_domain *mock;

	if (flags)
		return ERR_PTR(-EOPNOTSUPP);
	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return ERR_PTR(-ENOMEM);
	xa_init_flags(&mock->pfns, XA_FLAGS_ACCOUNT);
	mock->domain.type = IOMMU_DOMAIN_UNMANAGED;
	mock->domain.ops = &mock_domain_ops;
	mock->domain.pgsize_bitmap = MOCK_PAGE_SIZE;
	mock->domain.geometry.aperture_start = MOCK_APERTURE_START;
	mock->domain.geometry.aperture_end = MOCK_APERTURE_LAST;
	mock->domain.geometry.force_aperture = true;
	return &mock->domain;
}

static int mock_attach(struct iommufd_device *idev, struct iommu_domain *domain)
{
	/* A mock device has no hardware to program. */
	return 0;
}

static void mock_detach(struct iommufd_device *idev)
{
}

static int mock_reserve_regions(struct iommufd_device *idev,
				struct io_pagetable *iopt, void *owner)
{
	/* No MSI window or other hole: the aperture says everything. */
	return 0;
}

static const struct iommufd_device_ops mock_device_ops = {
	.domain_alloc_paging = mock_domain_alloc_paging,
	.domain_free = mock_domain_free,
	.attach = mock_attach,
	.detach = mock_detach,
	.reserve_regions = mock_reserve_regions,
};

/* IOMMU_TEST_CMD operations ---------------------------------------------- */

static int test_add_reserved(struct iommufd_ucmd *ucmd, u32 ioas_id,
			     u64 start, u64 length)
{
	struct iommufd_ioas *ioas;
	u64 last;
	int rc;

	if (!length || check_add_overflow(start, length - 1, &last) ||
	    last > ULONG_MAX)
		return -EINVAL;

	ioas = iommufd_get_ioas(ucmd->ictx, ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);
	down_write(&ioas->iopt.iova_rwsem);
	/* No owner: such ranges last as long as the IOAS. */
	rc = iopt_reserve_iova(&ioas->iopt, start, last, NULL);
	up_write(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return rc;
}

void iommufd_selftest_destroy(struct iommufd_object *obj)
{
	struct selftest_obj *sobj = container_of(obj, struct selftest_obj, obj);

	if (sobj->idev) {
		iommufd_object_unref_user(&sobj->idev->obj);
		iommufd_device_unbind(sobj->idev);
	}
	kfree(sobj->mdev);
}

static int test_mock_domain(struct iommufd_ucmd *ucmd,
			    struct iommu_test_cmd *cmd)
{
	struct iommufd_device *idev;
	struct selftest_obj *sobj;
	u32 dev_flags = 0;
	int rc;

	if (cmd->op == IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS) {
		dev_flags = cmd->mock_domain_flags.dev_flags;
		if (dev_flags &
		    ~(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_PASID))
			return -EINVAL;
	}

	sobj = iommufd_object_alloc(ucmd->ictx, sobj, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	sobj->type = SELFTEST_MOCK_DEVICE;
	sobj->mdev = kzalloc(sizeof(*sobj->mdev), GFP_KERNEL_ACCOUNT);
	if (!sobj->mdev) {
		rc = -ENOMEM;
		goto err_abort;
	}
	sobj->mdev->flags = dev_flags;

	idev = iommufd_device_create(ucmd->ictx, &mock_device_ops, sobj->mdev);
	if (IS_ERR(idev)) {
		rc = PTR_ERR(idev);
		goto err_abort;
	}
	/* The self-test object owns the device until it is destroyed. */
	iommufd_object_ref_user(&idev->obj);
	iommufd_object_finalize(ucmd->ictx, &idev->obj);
	sobj->idev = idev;

	rc = iommufd_device_attach(idev, cmd->id);
	if (rc)
		goto err_abort;

	cmd->mock_domain.out_stdev_id = sobj->obj.id;
	cmd->mock_domain.out_hwpt_id = idev->hwpt->obj.id;
	cmd->mock_domain.out_idev_id = idev->obj.id;
	rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	if (rc)
		goto err_abort;
	iommufd_object_finalize(ucmd->ictx, &sobj->obj);
	return 0;

err_abort:
	iommufd_object_abort_and_destroy(ucmd->ictx, &sobj->obj);
	return rc;
}

static struct selftest_obj *get_mock_device(struct iommufd_ucmd *ucmd, u32 id)
{
	struct iommufd_object *obj;
	struct selftest_obj *sobj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_SELFTEST);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	sobj = container_of(obj, struct selftest_obj, obj);
	if (sobj->type != SELFTEST_MOCK_DEVICE) {
		iommufd_put_object(ucmd->ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	return sobj;
}

static int test_mock_domain_replace(struct iommufd_ucmd *ucmd,
				    struct iommu_test_cmd *cmd)
{
	struct selftest_obj *sobj;
	int rc;

	sobj = get_mock_device(ucmd, cmd->id);
	if (IS_ERR(sobj))
		return PTR_ERR(sobj);
	rc = iommufd_device_attach(sobj->idev, cmd->mock_domain_replace.pt_id);
	if (!rc) {
		mutex_lock(&sobj->idev->lock);
		cmd->mock_domain_replace.pt_id = sobj->idev->hwpt->obj.id;
		mutex_unlock(&sobj->idev->lock);
		rc = iommufd_ucmd_respond(ucmd, sizeof(*cmd));
	}
	iommufd_put_object(ucmd->ictx, &sobj->obj);
	return rc;
}

static struct iommufd_hwpt_paging *get_mock_hwpt(struct iommufd_ucmd *ucmd,
						 u32 id)
{
	struct iommufd_hwpt_paging *hwpt;

	hwpt = iommufd_get_hwpt_paging(ucmd->ictx, id);
	if (IS_ERR(hwpt))
		return hwpt;
	if (hwpt->domain->ops != &mock_domain_ops) {
		iommufd_put_object(ucmd->ictx, &hwpt->obj);
		return ERR_PTR(-EINVAL);
	}
	return hwpt;
}

/* Does the mock domain translate [iova, iova + length) to the user buffer? */
static int test_md_check_map(struct iommufd_ucmd *ucmd, u32 hwpt_id, u64 iova,
			     u64 length, void __user *uptr)
{
	struct iommufd_hwpt_paging *hwpt;
	uintptr_t end;
	int rc = 0;

	if (iova % MOCK_PAGE_SIZE || length % MOCK_PAGE_SIZE ||
	    (uintptr_t)uptr % MOCK_PAGE_SIZE ||
	    check_add_overflow((uintptr_t)uptr, (uintptr_t)length, &end))
		return -EINVAL;

	hwpt = get_mock_hwpt(ucmd, hwpt_id);
	if (IS_ERR(hwpt))
		return PTR_ERR(hwpt);

	for (; length; length -= MOCK_PAGE_SIZE) {
		struct page *page;
		phys_addr_t expect;
		long got;

		got = get_user_pages_fast((uintptr_t)uptr & PAGE_MASK, 1, 0,
					  &page);
		if (got != 1) {
			rc = got < 0 ? got : -EFAULT;
			break;
		}
		expect = page_to_phys(page) + ((uintptr_t)uptr % PAGE_SIZE);
		put_page(page);
		if (!xa_load(&to_mock_domain(hwpt->domain)->pfns,
			     iova / MOCK_PAGE_SIZE) ||
		    iommu_iova_to_phys(hwpt->domain, iova) != expect) {
			rc = -EINVAL;
			break;
		}
		iova += MOCK_PAGE_SIZE;
		uptr += MOCK_PAGE_SIZE;
	}
	iommufd_put_object(ucmd->ictx, &hwpt->obj);
	return rc;
}

/*
 * Is every (small) page of the buffer pinned exactly @refs times?  A pin
 * adds GUP_PIN_COUNTING_BIAS to the page's reference count.
 */
static int test_md_check_refs(void __user *uptr, u64 length, u32 refs)
{
	uintptr_t end;

	if (length % PAGE_SIZE || (uintptr_t)uptr % PAGE_SIZE ||
	    check_add_overflow((uintptr_t)uptr, (uintptr_t)length, &end))
		return -EINVAL;

	for (; length; length -= PAGE_SIZE, uptr += PAGE_SIZE) {
		struct page *page;
		unsigned int count;
		long got;

		got = get_user_pages_fast((uintptr_t)uptr, 1, 0, &page);
		if (got != 1)
			return got < 0 ? got : -EFAULT;
		count = page_ref_count(page);
		put_page(page);
		if (!PageCompound(page) &&
		    count / GUP_PIN_COUNTING_BIAS != refs)
			return -EIO;
	}
	return 0;
}

int iommufd_test(struct iommufd_ucmd *ucmd)
{
	struct iommu_test_cmd *cmd = ucmd->cmd;

	if (cmd->__reserved)
		return -EOPNOTSUPP;

	switch (cmd->op) {
	case IOMMU_TEST_OP_ADD_RESERVED:
		return test_add_reserved(ucmd, cmd->id,
					 cmd->add_reserved.start,
					 cmd->add_reserved.length);
	case IOMMU_TEST_OP_MOCK_DOMAIN:
	case IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS:
		return test_mock_domain(ucmd, cmd);
	case IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE:
		return test_mock_domain_replace(ucmd, cmd);
	case IOMMU_TEST_OP_MD_CHECK_MAP:
		return test_md_check_map(ucmd, cmd->id, cmd->check_map.iova,
					 cmd->check_map.length,
					 u64_to_user_ptr(cmd->check_map.uptr));
	case IOMMU_TEST_OP_MD_CHECK_REFS:
		return test_md_check_refs(u64_to_user_ptr(cmd->check_refs.uptr),
					  cmd->check_refs.length,
					  cmd->check_refs.refs);
	case IOMMU_TEST_OP_SET_TEMP_MEMORY_LIMIT:
		/*
		 * Upstream caps its temporary PFN batches with this to force
		 * its slow paths.  Our windows are a fixed 2 MiB, so the knob
		 * is validated like upstream's and otherwise has no effect.
		 */
		if (cmd->memory_limit.limit < sizeof(unsigned long) + sizeof(u32))
			return -EINVAL;
		return 0;
	default:
		/* Accesses, dirty tracking, nesting, faults, PASID: not yet. */
		return -EOPNOTSUPP;
	}
}
