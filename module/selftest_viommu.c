// SPDX-License-Identifier: GPL-2.0
/*
 * The mock IOMMU's vIOMMU (IOMMU_VIOMMU_TYPE_SELFTEST), the driver side
 * of viommu.c and veventq.c in self-test mode.
 *
 * What it models, as upstream's mock does:
 *  - a page of "registers" user space maps from /dev/iommu: two pages,
 *    the first word set to the in_data user space passed at allocation,
 *    which comes back in out_data as well;
 *  - a device cache per mock device (MOCK_DEV_CACHE_NUM entries, each
 *    IOMMU_TEST_DEV_CACHE_DEFAULT at first), which IOMMU_HWPT_INVALIDATE
 *    on the vIOMMU clears by virtual device ID and
 *    IOMMU_TEST_OP_DEV_CHECK_CACHE reads back;
 *  - events: IOMMU_TEST_OP_TRIGGER_VEVENT reports one for a device behind
 *    a nested HWPT of the vIOMMU, carrying the device's virtual ID;
 *  - IOMMU_TEST_HW_QUEUE_MAX HW queues, made in index order, each one
 *    after the first depending on the one before it (which cannot be
 *    destroyed first), whose memory must be what the nest parent maps.
 */
#include <linux/err.h>
#include <linux/gfp.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_test.h>

#include "selftest.h"

#define MOCK_VIOMMU_PAGES_ORDER 1

/**
 * struct mock_viommu - the mock's state of one vIOMMU
 * @parent: the nest parent's (mock paging) domain
 * @pages: the pages user space maps, when data was passed at allocation
 * @mmap_offset: their offset for mmap() of /dev/iommu
 * @queue_lock: protects @queues
 * @queues: the HW queues by index
 */
struct mock_viommu {
	struct iommu_domain *parent;
	struct page *pages;
	u64 mmap_offset;
	struct mutex queue_lock;
	struct iommufd_hw_queue *queues[IOMMU_TEST_HW_QUEUE_MAX];
};

static int mock_viommu_init(struct iommufd_viommu *viommu,
			    struct iommu_domain *parent,
			    const struct iommufd_user_data *data)
{
	const size_t data_min = offsetofend(struct iommu_viommu_selftest,
					    out_data);
	struct iommu_viommu_selftest desc;
	struct mock_viommu *mock;
	int rc;

	if (!mock_domain_is_paging(parent))
		return -EINVAL;
	if (data) {
		rc = iommufd_user_data_copy(&desc, sizeof(desc), data_min, data,
					    IOMMU_VIOMMU_TYPE_SELFTEST);
		if (rc)
			return rc;
	}
	mock = kzalloc(sizeof(*mock), GFP_KERNEL_ACCOUNT);
	if (!mock)
		return -ENOMEM;
	mock->parent = parent;
	mutex_init(&mock->queue_lock);
	if (!data)
		goto out_done;

	rc = -ENOMEM;
	mock->pages = alloc_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO,
				  MOCK_VIOMMU_PAGES_ORDER);
	if (!mock->pages)
		goto out_free;
	rc = iommufd_mmap_region_add(viommu->ictx, &viommu->obj,
				     page_to_phys(mock->pages),
				     PAGE_SIZE << MOCK_VIOMMU_PAGES_ORDER,
				     false, &mock->mmap_offset);
	if (rc)
		goto out_free_pages;
	/* Both ways back to user space: the reply and the mapped page. */
	*(u32 *)page_address(mock->pages) = desc.in_data;
	desc.out_data = desc.in_data;
	desc.out_mmap_offset = mock->mmap_offset;
	desc.out_mmap_length = PAGE_SIZE << MOCK_VIOMMU_PAGES_ORDER;
	rc = iommufd_user_data_respond(data, IOMMU_VIOMMU_TYPE_SELFTEST, &desc,
				       sizeof(desc), data_min);
	if (rc)
		goto out_remove_region;
out_done:
	viommu->priv = mock;
	return 0;

out_remove_region:
	iommufd_mmap_region_remove(viommu->ictx, mock->mmap_offset);
out_free_pages:
	__free_pages(mock->pages, MOCK_VIOMMU_PAGES_ORDER);
out_free:
	mutex_destroy(&mock->queue_lock);
	kfree(mock);
	return rc;
}

/* No mapping of the pages is left: each would hold the vIOMMU. */
static void mock_viommu_destroy(struct iommufd_viommu *viommu)
{
	struct mock_viommu *mock = viommu->priv;

	if (mock->pages) {
		iommufd_mmap_region_remove(viommu->ictx, mock->mmap_offset);
		__free_pages(mock->pages, MOCK_VIOMMU_PAGES_ORDER);
	}
	mutex_destroy(&mock->queue_lock);
	kfree(mock);
}

/* Clear one device cache entry, or all of them, named by virtual ID. */
static int mock_viommu_invalidate_one(struct iommufd_viommu *viommu,
				      const struct iommu_viommu_invalidate_selftest *req)
{
	struct iommufd_device *idev;
	struct mock_dev *mdev;
	unsigned int i;
	int rc = 0;

	if (req->flags & ~IOMMU_TEST_INVALIDATE_FLAG_ALL)
		return -EOPNOTSUPP;
	if (req->cache_id > MOCK_DEV_CACHE_ID_MAX)
		return -EINVAL;

	/* A device found under the lock cannot lose its vDEVICE meanwhile. */
	xa_lock(&viommu->vdevs);
	idev = iommufd_viommu_find_device(viommu, req->vdev_id);
	if (!idev) {
		rc = -EINVAL;
		goto out_unlock;
	}
	mdev = idev->priv;
	for (i = 0; i < MOCK_DEV_CACHE_NUM; i++) {
		if ((req->flags & IOMMU_TEST_INVALIDATE_FLAG_ALL) ||
		    i == req->cache_id)
			WRITE_ONCE(mdev->cache[i], 0);
	}
out_unlock:
	xa_unlock(&viommu->vdevs);
	return rc;
}

/*
 * IOMMU_HWPT_INVALIDATE on the vIOMMU.  An empty array of the right type
 * is the probe the ABI allows; entries are handled in order and the count
 * of those done goes back, as upstream's mock does.
 */
static int mock_viommu_cache_invalidate(struct iommufd_viommu *viommu,
					struct iommufd_user_array *array)
{
	const size_t min_size = offsetofend(
		struct iommu_viommu_invalidate_selftest, cache_id);
	struct iommu_viommu_invalidate_selftest req;
	u32 done = 0;
	int rc = 0;

	if (!array->entry_num &&
	    array->type == IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
		return 0;
	if (array->type != IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST)
		rc = -EINVAL;
	while (!rc && done < array->entry_num) {
		rc = iommufd_user_array_copy(&req, sizeof(req), min_size, array,
					     IOMMU_VIOMMU_INVALIDATE_DATA_SELFTEST,
					     done);
		if (!rc)
			rc = mock_viommu_invalidate_one(viommu, &req);
		if (!rc)
			done++;
	}
	array->entry_num = done;
	return rc;
}

/*
 * Queue @index of @hw_queue: upstream's mock rules (EINVAL past the last
 * index, EEXIST for one made already, EIO before the one below it) and
 * its check that the core found the right memory (EFAULT otherwise).
 */
static int mock_hw_queue_init(struct iommufd_hw_queue *hw_queue, u32 index,
			      phys_addr_t base_pa)
{
	struct mock_viommu *mock = hw_queue->viommu->priv;
	struct iommufd_hw_queue *prev = NULL;
	int rc = 0;

	if (index >= IOMMU_TEST_HW_QUEUE_MAX)
		return -EINVAL;
	mutex_lock(&mock->queue_lock);
	if (mock->queues[index]) {
		rc = -EEXIST;
		goto out_unlock;
	}
	if (index) {
		prev = mock->queues[index - 1];
		if (!prev) {
			rc = -EIO;
			goto out_unlock;
		}
	}
	if (base_pa != iommu_iova_to_phys(mock->parent, hw_queue->base_iova)) {
		rc = -EFAULT;
		goto out_unlock;
	}
	/* The queue below may only go once this one has. */
	if (prev)
		iommufd_object_ref_user(&prev->obj);
	hw_queue->priv = prev;
	mock->queues[index] = hw_queue;
out_unlock:
	mutex_unlock(&mock->queue_lock);
	return rc;
}

static void mock_hw_queue_destroy(struct iommufd_hw_queue *hw_queue)
{
	struct mock_viommu *mock = hw_queue->viommu->priv;
	struct iommufd_hw_queue *prev = hw_queue->priv;

	mutex_lock(&mock->queue_lock);
	mock->queues[hw_queue->index] = NULL;
	if (prev)
		iommufd_object_unref_user(&prev->obj);
	mutex_unlock(&mock->queue_lock);
}

static const struct iommufd_viommu_ops mock_viommu_ops = {
	.init = mock_viommu_init,
	.destroy = mock_viommu_destroy,
	.cache_invalidate = mock_viommu_cache_invalidate,
	.attach_needs_vdevice = true,
	.hw_queue_type = IOMMU_HW_QUEUE_TYPE_SELFTEST,
	.hw_queue_init = mock_hw_queue_init,
	.hw_queue_destroy = mock_hw_queue_destroy,
};

/* The mock device backend's viommu_ops: one type only. */
const struct iommufd_viommu_ops *mock_viommu_ops_for(struct iommufd_device *idev,
						     u32 type)
{
	return type == IOMMU_VIOMMU_TYPE_SELFTEST ? &mock_viommu_ops : NULL;
}

/* Device @id, looked up, if it is a mock device (EINVAL otherwise). */
static struct iommufd_device *get_mock_device_by_dev_id(struct iommufd_ucmd *ucmd,
							 u32 id)
{
	struct iommufd_object *obj;

	obj = iommufd_get_object(ucmd->ictx, id, IOMMUFD_OBJ_DEVICE);
	if (IS_ERR(obj))
		return ERR_CAST(obj);
	if (!mock_device_is(container_of(obj, struct iommufd_device, obj))) {
		iommufd_put_object(ucmd->ictx, obj);
		return ERR_PTR(-EINVAL);
	}
	return container_of(obj, struct iommufd_device, obj);
}

/* IOMMU_TEST_OP_DEV_CHECK_CACHE: does entry @id hold @cache? (EINVAL if not) */
int iommufd_test_dev_check_cache(struct iommufd_ucmd *ucmd,
				 struct iommu_test_cmd *cmd)
{
	struct iommufd_device *idev;
	struct mock_dev *mdev;
	int rc = 0;

	idev = get_mock_device_by_dev_id(ucmd, cmd->id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	mdev = idev->priv;
	if (cmd->check_dev_cache.id > MOCK_DEV_CACHE_ID_MAX ||
	    READ_ONCE(mdev->cache[cmd->check_dev_cache.id]) !=
		    cmd->check_dev_cache.cache)
		rc = -EINVAL;
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}

/*
 * IOMMU_TEST_OP_TRIGGER_VEVENT: the device, behind a nested HWPT of a
 * vIOMMU on which it has a vDEVICE, reports an event naming its virtual
 * ID (ENOENT when it is not; EOPNOTSUPP from the core when user space
 * has no queue of the self-test type).
 */
int iommufd_test_trigger_vevent(struct iommufd_ucmd *ucmd,
				struct iommu_test_cmd *cmd)
{
	struct iommu_viommu_event_selftest event = {};
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	u64 virt_id;
	int rc = -ENOENT;

	idev = get_mock_device_by_dev_id(ucmd, cmd->trigger_vevent.dev_id);
	if (IS_ERR(idev))
		return PTR_ERR(idev);
	/* The attachment, and so the vIOMMU, stays while the lock is held. */
	mutex_lock(&idev->lock);
	viommu = iommufd_device_viommu(idev);
	if (viommu && iommufd_viommu_has_virt_id(viommu, idev, &virt_id)) {
		event.virt_id = virt_id;
		rc = iommufd_viommu_report_event(viommu,
						 IOMMU_VEVENTQ_TYPE_SELFTEST,
						 &event, sizeof(event));
	}
	mutex_unlock(&idev->lock);
	iommufd_put_object(ucmd->ictx, &idev->obj);
	return rc;
}
