// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel API's device calls: a driver that owns a device (VFIO's
 * device cdev, rebuilt against us) hands its DMA to a context.
 *
 * Binding claims the device's DMA ownership for the context, so that no
 * kernel driver and no other context can use the IOMMU group's DMA while
 * it is bound; devices of one group bound to one context share that
 * claim and one struct kapi_group, as they share one domain.  From there
 * the device is a host device like the ones iommufd_vfio brings
 * (host_device.c): same ops, same HWPTs, same attach rules.
 *
 * The rest of the API lives where its objects do: contexts in main.c,
 * accesses in access.c, attach/replace/detach in device.c, the VFIO
 * compat IOAS in vfio_compat.c.  All of it is checked against the
 * kernel's declarations (compat/kernel_iommufd.h).
 */
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "iommufd_private.h"

#ifdef HAVE_LINUX_IOMMUFD_H

static bool kapi_allow_unsafe_interrupts;
module_param_named(allow_unsafe_interrupts, kapi_allow_unsafe_interrupts,
		   bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Let iommufd_device_bind() accept devices whose MSIs the platform cannot isolate (as upstream's parameter of this name; a device could then raise arbitrary interrupts; default: off)");

/**
 * struct kapi_group - an IOMMU group with devices bound to one context
 * @host: the state its host devices share; holds a reference on the group
 * @nbound: devices of the group bound to the context, under kapi_lock
 */
struct kapi_group {
	struct iommufd_host_group host;
	unsigned int nbound;
};

/* The context's entry for @group, made on its first device. */
static struct kapi_group *kapi_group_get(struct iommufd_ctx *ictx,
					 struct iommu_group *group)
{
	unsigned long key = iommu_group_id(group);
	struct kapi_group *kgroup;
	int rc;

	lockdep_assert_held(&ictx->kapi_lock);
	kgroup = xa_load(&ictx->kapi_groups, key);
	if (kgroup) {
		kgroup->nbound++;
		return kgroup;
	}
	kgroup = kzalloc(sizeof(*kgroup), GFP_KERNEL_ACCOUNT);
	if (!kgroup)
		return ERR_PTR(-ENOMEM);
	rc = xa_err(xa_store(&ictx->kapi_groups, key, kgroup,
			     GFP_KERNEL_ACCOUNT));
	if (rc) {
		kfree(kgroup);
		return ERR_PTR(rc);
	}
	iommufd_host_group_init(&kgroup->host, iommu_group_ref_get(group));
	kgroup->nbound = 1;
	return kgroup;
}

static void kapi_group_put(struct iommufd_ctx *ictx, struct kapi_group *kgroup)
{
	lockdep_assert_held(&ictx->kapi_lock);
	if (--kgroup->nbound)
		return;
	xa_erase(&ictx->kapi_groups, iommu_group_id(kgroup->host.group));
	iommu_group_put(kgroup->host.group);
	iommufd_host_group_destroy(&kgroup->host);
	kfree(kgroup);
}

/**
 * iommufd_device_bind() - hand a device's DMA to a context
 * @ictx: the context
 * @dev: the device; its driver must not do DMA through the DMA API, and
 *       must keep @dev until iommufd_device_unbind()
 * @dev_id: gets the device object's id, which user space attaches by
 *
 * The device's DMA is blocked until it is attached.  EINVAL when its IOMMU
 * cannot keep DMA coherent, ENODEV without an IOMMU group, EPERM when its
 * MSIs are not isolated (unless allow_unsafe_interrupts), EPERM too when
 * a DMA-API driver, VFIO's group or another context owns the group's DMA
 * (the kernel's answer).  The device holds a reference on the context.
 */
struct iommufd_device *iommufd_device_bind(struct iommufd_ctx *ictx,
					   struct device *dev, u32 *dev_id)
{
	struct kapi_group *kgroup;
	struct iommu_group *group;
	struct iommufd_host_device *hdev;
	struct iommufd_device *idev;
	int rc;

	rc = iommufd_host_check_coherent(dev);
	if (rc)
		return ERR_PTR(rc);
	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	rc = iommufd_host_check_msi(group, kapi_allow_unsafe_interrupts);
	if (rc)
		goto out_put_group;
	hdev = kzalloc(sizeof(*hdev), GFP_KERNEL_ACCOUNT);
	if (!hdev) {
		rc = -ENOMEM;
		goto out_put_group;
	}
	hdev->dev = dev;

	mutex_lock(&ictx->kapi_lock);
	kgroup = kapi_group_get(ictx, group);
	if (IS_ERR(kgroup)) {
		rc = PTR_ERR(kgroup);
		goto out_unlock;
	}
	/* The context is the owner: its other devices of the group may join. */
	rc = iommu_device_claim_dma_owner(dev, ictx);
	if (rc)
		goto out_put_kgroup;
	hdev->hgroup = &kgroup->host;
	mutex_unlock(&ictx->kapi_lock);

	idev = iommufd_backend_bind(ictx, &iommufd_host_device_ops, hdev);
	rc = PTR_ERR_OR_ZERO(idev);
	if (rc)
		goto out_disown;
	iommufd_ctx_get(ictx);
	/* Stays valid: the caller owns the object until it unbinds. */
	*dev_id = idev->obj.id;
	iommu_group_put(group);
	return idev;

out_disown:
	iommu_device_release_dma_owner(dev);
	mutex_lock(&ictx->kapi_lock);
out_put_kgroup:
	kapi_group_put(ictx, kgroup);
out_unlock:
	mutex_unlock(&ictx->kapi_lock);
	kfree(hdev);
out_put_group:
	iommu_group_put(group);
	return ERR_PTR(rc);
}
IOMMUFD_EXPORT_KAPI(iommufd_device_bind);

/**
 * iommufd_device_unbind() - undo iommufd_device_bind()
 * @idev: the device
 *
 * Waits for the ioctls using the device, blocks its DMA (detaching it if
 * the caller did not), and gives its DMA back to the kernel's DMA API.
 */
void iommufd_device_unbind(struct iommufd_device *idev)
{
	struct iommufd_host_device *hdev = idev->priv;
	struct kapi_group *kgroup = container_of(hdev->hgroup,
						 struct kapi_group, host);
	struct iommufd_ctx *ictx = idev->ictx;

	iommufd_backend_unbind(idev);
	iommu_device_release_dma_owner(hdev->dev);
	mutex_lock(&ictx->kapi_lock);
	kapi_group_put(ictx, kgroup);
	mutex_unlock(&ictx->kapi_lock);
	kfree(hdev);
	/* Last: this may be what releases the context. */
	iommufd_ctx_put(ictx);
}
IOMMUFD_EXPORT_KAPI(iommufd_device_unbind);

/* What VFIO reports of a bound device: its context, and its dev_id. */
struct iommufd_ctx *iommufd_device_to_ictx(struct iommufd_device *bound)
{
	return bound->ictx;
}
IOMMUFD_EXPORT_KAPI(iommufd_device_to_ictx);

u32 iommufd_device_to_id(struct iommufd_device *bound)
{
	return bound->obj.id;
}
IOMMUFD_EXPORT_KAPI(iommufd_device_to_id);

/*
 * Is a device of @group bound to @ictx, whichever way: through this API
 * or through a VFIO container linked to it?  VFIO asks before it lets a
 * context reset the devices of a group.
 */
bool iommufd_ctx_has_group(struct iommufd_ctx *ictx, struct iommu_group *group)
{
	bool found = false;
	struct iommufd_object *obj;
	unsigned long index;

	if (!group || !ictx)
		return false;
	xa_lock(&ictx->objects);
	xa_for_each(&ictx->objects, index, obj) {
		struct iommufd_device *idev;
		struct iommufd_host_device *hdev;

		if (obj->type != IOMMUFD_OBJ_DEVICE)
			continue;
		idev = container_of(obj, struct iommufd_device, obj);
		if (idev->ops != &iommufd_host_device_ops)
			continue;
		hdev = idev->priv;
		if (hdev->hgroup->group == group) {
			found = true;
			break;
		}
	}
	xa_unlock(&ictx->objects);
	return found;
}
IOMMUFD_EXPORT_KAPI(iommufd_ctx_has_group);

#endif /* HAVE_LINUX_IOMMUFD_H */
