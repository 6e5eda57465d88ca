// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_vfio: serving VFIO containers as a VFIO IOMMU backend.
 *
 * VFIO_SET_IOMMU(VFIO_IOMMUFD_DKMS_IOMMU) selects us; the container then
 * links to a /dev/iommu context (IOMMUFD_DKMS_VFIO_LINK) and every device
 * of its groups becomes an iommufd device there.  With the type1
 * parameter, VFIO_TYPE1v2_IOMMU and VFIO_TYPE1_IOMMU select us too, and a
 * context of our own serves the type1 ioctls (see the core's
 * vfio_compat.c).
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vfio.h>
#include <uapi/linux/iommufd_dkms.h>

#include "../compat/vfio_backend_ops.h"
#include "vfio_backend.h"

bool vfio_backend_allow_unsafe_interrupts;
module_param_named(allow_unsafe_interrupts,
		   vfio_backend_allow_unsafe_interrupts, bool, 0644);
MODULE_PARM_DESC(allow_unsafe_interrupts,
		 "Accept devices whose MSIs the platform cannot isolate (a device could then raise arbitrary interrupts; default: off)");

static bool vfio_backend_type1;
module_param_named(type1, vfio_backend_type1, bool, 0644);
MODULE_PARM_DESC(type1,
		 "Also serve VFIO_TYPE1v2_IOMMU/VFIO_TYPE1_IOMMU containers (VFIO type1 compatibility, per-process locked memory accounting; default: off)");

#ifdef IOMMUFD_VFIO_LAYOUT_CHECKED

/* Devices: iommufd objects for the devices of a group ------------------- */

/*
 * Under container->bind_lock only: unbinding waits for the ioctls using
 * the devices, and an attach among them takes idev->lock and then
 * container->lock.
 */
static void vfio_backend_unbind_group(struct vfio_backend_group *vgroup)
{
	struct vfio_backend_device *vdev;

	lockdep_assert_held(&vgroup->container->bind_lock);
	list_for_each_entry(vdev, &vgroup->devices, next) {
		if (vdev->idev) {
			iommufd_backend_unbind(vdev->idev);
			vdev->idev = NULL;
		}
	}
}

static int vfio_backend_bind_group(struct vfio_backend_group *vgroup,
				   struct iommufd_ctx *ictx)
{
	struct vfio_backend_device *vdev;

	lockdep_assert_held(&vgroup->container->bind_lock);
	list_for_each_entry(vdev, &vgroup->devices, next) {
		struct iommufd_device *idev;

		idev = iommufd_backend_bind(ictx, &iommufd_host_device_ops,
					    &vdev->host);
		if (IS_ERR(idev)) {
			vfio_backend_unbind_group(vgroup);
			return PTR_ERR(idev);
		}
		vdev->idev = idev;
	}
	return 0;
}

static int check_device(struct device *dev, void *data)
{
	int rc = iommufd_host_check_coherent(dev);

	if (rc)
		dev_warn(dev, "iommufd_vfio: DMA cannot be made cache coherent; refused\n");
	return rc;
}

static int add_device(struct device *dev, void *data)
{
	struct vfio_backend_group *vgroup = data;
	struct vfio_backend_device *vdev;

	vdev = kzalloc(sizeof(*vdev), GFP_KERNEL);
	if (!vdev)
		return -ENOMEM;
	vdev->host.hgroup = &vgroup->host;
	vdev->host.dev = get_device(dev);
	list_add_tail(&vdev->next, &vgroup->devices);
	return 0;
}

static void free_group(struct vfio_backend_group *vgroup)
{
	struct vfio_backend_device *vdev, *tmp;

	list_for_each_entry_safe(vdev, tmp, &vgroup->devices, next) {
		put_device(vdev->host.dev);
		kfree(vdev);
	}
	iommufd_host_group_destroy(&vgroup->host);
	kfree(vgroup);
}

/* The container's lifetime ----------------------------------------------- */

/*
 * VFIO passes a container's own ioctls (everything but SET_IOMMU and
 * CHECK_EXTENSION) to the backend without any lock: its last group may
 * leave, and VFIO release the backend, while one of them runs here.  A
 * type1 MAP_DMA in flight then had the compat IOAS looked up while
 * release dropped the private iommufd: the context was torn down with the
 * IOAS still held ("objects still referenced at release") and the map
 * went on in freed memory.  So each of those ioctls holds the container,
 * and through it the iommufd, until it returns; release drops VFIO's
 * hold only.
 *
 * What no backend can cover is the instant between VFIO reading
 * iommu_data and our get (vfio_iommu_type1 frees its state at once).
 * Freeing a grace period after the last put, with the get under
 * rcu_read_lock(), leaves only a reader stalled in those few
 * instructions for a whole grace period.
 */
static bool vfio_backend_container_get(struct vfio_backend_container *container)
{
	bool held;

	rcu_read_lock();
	held = refcount_inc_not_zero(&container->users);
	rcu_read_unlock();
	return held;
}

static void vfio_backend_container_put(struct vfio_backend_container *container)
{
	if (!refcount_dec_and_test(&container->users))
		return;
	if (container->ictx)
		iommufd_ctx_put(container->ictx);
	mutex_destroy(&container->lock);
	mutex_destroy(&container->bind_lock);
	kfree_rcu(container, rcu);
	/*
	 * VFIO's module reference went with release; this one kept our code
	 * for the ioctl that outlived it.
	 */
	module_put(THIS_MODULE);
}

/* The VFIO backend operations ------------------------------------------- */

static void *vfio_backend_open(unsigned long arg)
{
	struct vfio_backend_container *container;

	if (arg != VFIO_IOMMUFD_DKMS_IOMMU &&
	    !(vfio_backend_type1 &&
	      (arg == VFIO_TYPE1v2_IOMMU || arg == VFIO_TYPE1_IOMMU)))
		return ERR_PTR(-EINVAL);

	container = kzalloc(sizeof(*container), GFP_KERNEL);
	if (!container)
		return ERR_PTR(-ENOMEM);
	refcount_set(&container->users, 1);
	mutex_init(&container->bind_lock);
	mutex_init(&container->lock);
	INIT_LIST_HEAD(&container->groups);
	if (arg != VFIO_IOMMUFD_DKMS_IOMMU) {
		container->type1 = true;
		container->ictx = iommufd_vfio_compat_ctx_create(
			arg == VFIO_TYPE1v2_IOMMU);
		if (IS_ERR(container->ictx)) {
			void *err = ERR_CAST(container->ictx);

			kfree(container);
			return err;
		}
	}
	/* VFIO took a reference on us to call open: this one cannot fail. */
	__module_get(THIS_MODULE);
	return container;
}

static void vfio_backend_release(void *data)
{
	struct vfio_backend_container *container = data;

	/* VFIO detached every group before. */
	WARN_ON(!list_empty(&container->groups));
	/* A link still to come must not bind a context to a dead container. */
	mutex_lock(&container->bind_lock);
	mutex_lock(&container->lock);
	WRITE_ONCE(container->released, true);
	mutex_unlock(&container->lock);
	mutex_unlock(&container->bind_lock);
	vfio_backend_container_put(container);
}

static int vfio_backend_attach_group(void *data, struct iommu_group *group,
				     enum vfio_group_type type)
{
	struct vfio_backend_container *container = data;
	struct vfio_backend_group *vgroup;
	struct vfio_backend_device *vdev;
	int rc;

	/* Emulated (mdev) and no-IOMMU groups have no IOMMU to drive. */
	if (type != VFIO_IOMMU)
		return -EINVAL;
	rc = iommu_group_for_each_dev(group, NULL, check_device);
	if (!rc)
		rc = iommufd_host_check_msi(group,
					    vfio_backend_allow_unsafe_interrupts);
	if (rc)
		return rc;

	vgroup = kzalloc(sizeof(*vgroup), GFP_KERNEL);
	if (!vgroup)
		return -ENOMEM;
	vgroup->container = container;
	iommufd_host_group_init(&vgroup->host, group);
	INIT_LIST_HEAD(&vgroup->devices);
	rc = iommu_group_for_each_dev(group, vgroup, add_device);
	if (rc)
		goto err_free;

	mutex_lock(&container->bind_lock);
	if (container->ictx) {
		rc = vfio_backend_bind_group(vgroup, container->ictx);
		if (rc) {
			mutex_unlock(&container->bind_lock);
			goto err_free;
		}
	}
	mutex_lock(&container->lock);
	list_add_tail(&vgroup->next, &container->groups);
	mutex_unlock(&container->lock);
	mutex_unlock(&container->bind_lock);

	/* A type1 container's devices all translate through its IOAS. */
	if (container->type1) {
		list_for_each_entry(vdev, &vgroup->devices, next) {
			rc = iommufd_vfio_compat_attach(container->ictx,
							vdev->idev);
			if (rc)
				goto err_unlist;
		}
	}
	return 0;

err_unlist:
	mutex_lock(&container->bind_lock);
	mutex_lock(&container->lock);
	list_del(&vgroup->next);
	mutex_unlock(&container->lock);
	vfio_backend_unbind_group(vgroup);
	mutex_unlock(&container->bind_lock);
err_free:
	free_group(vgroup);
	return rc;
}

static void vfio_backend_detach_group(void *data, struct iommu_group *group)
{
	struct vfio_backend_container *container = data;
	struct vfio_backend_group *vgroup, *found = NULL;

	mutex_lock(&container->bind_lock);
	mutex_lock(&container->lock);
	list_for_each_entry(vgroup, &container->groups, next) {
		if (vgroup->host.group == group) {
			found = vgroup;
			list_del(&vgroup->next);
			break;
		}
	}
	mutex_unlock(&container->lock);
	if (found)
		vfio_backend_unbind_group(found);
	mutex_unlock(&container->bind_lock);
	if (WARN_ON(!found))
		return;
	free_group(found);
}

static struct iommu_domain *vfio_backend_group_domain(void *data,
						      struct iommu_group *group)
{
	struct vfio_backend_container *container = data;
	struct iommu_domain *domain = ERR_PTR(-ENODEV);
	struct vfio_backend_group *vgroup;

	mutex_lock(&container->lock);
	list_for_each_entry(vgroup, &container->groups, next)
		if (vgroup->host.group == group)
			domain = iommufd_host_group_domain(&vgroup->host) ?:
				 ERR_PTR(-ENODEV);
	mutex_unlock(&container->lock);
	return domain;
}

static long vfio_backend_check_extension(struct vfio_backend_container *container,
					 unsigned long ext)
{
	if (ext == VFIO_IOMMUFD_DKMS_IOMMU)
		return !container || !container->type1;
	if (!vfio_backend_type1 || (container && !container->type1))
		return 0;
	return iommufd_vfio_compat_check_extension(
		container ? container->ictx : NULL, ext);
}

static long vfio_backend_link(struct vfio_backend_container *container,
			      void __user *uarg)
{
	struct iommufd_dkms_vfio_link cmd;
	struct vfio_backend_group *vgroup;
	struct iommufd_ctx *ictx;
	struct file *file;
	u32 usize;
	int rc;

	/* The size word, judged as the /dev/iommu dispatcher judges it. */
	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	rc = iommufd_copy_arg(&cmd, sizeof(cmd),
			      offsetofend(struct iommufd_dkms_vfio_link,
					  __reserved), uarg, usize);
	if (rc)
		return rc;
	if (cmd.flags || cmd.__reserved)
		return -EOPNOTSUPP;
	if (container->type1)
		return -EINVAL;

	file = fget(cmd.iommufd);
	if (!file)
		return -EBADF;
	ictx = iommufd_ctx_from_file(file);
	fput(file);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);

	/*
	 * bind_lock keeps the groups list still (attach_group and
	 * detach_group take it too) without holding container->lock, which
	 * unbinding the devices again must not hold.
	 */
	mutex_lock(&container->bind_lock);
	if (container->released) {
		rc = -EINVAL;
		goto err_unlock;
	}
	if (container->ictx) {
		rc = -EBUSY;
		goto err_unlock;
	}
	list_for_each_entry(vgroup, &container->groups, next) {
		rc = vfio_backend_bind_group(vgroup, ictx);
		if (rc)
			goto err_unbind;
	}
	/* Listing the devices may begin. */
	mutex_lock(&container->lock);
	container->ictx = ictx;
	mutex_unlock(&container->lock);
	mutex_unlock(&container->bind_lock);
	return 0;

err_unbind:
	list_for_each_entry_continue_reverse(vgroup, &container->groups, next)
		vfio_backend_unbind_group(vgroup);
err_unlock:
	mutex_unlock(&container->bind_lock);
	iommufd_ctx_put(ictx);
	return rc;
}

static long vfio_backend_list_devices(struct vfio_backend_container *container,
				      void __user *uarg)
{
	struct iommufd_dkms_vfio_device __user *uentries;
	struct iommufd_dkms_vfio_devices cmd;
	struct vfio_backend_group *vgroup;
	struct vfio_backend_device *vdev;
	u32 room, n = 0, usize;
	int rc;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	rc = iommufd_copy_arg(&cmd, sizeof(cmd),
			      offsetofend(struct iommufd_dkms_vfio_devices,
					  devices), uarg, usize);
	if (rc)
		return rc;
	room = cmd.num_devices;
	uentries = u64_to_user_ptr(cmd.devices);

	mutex_lock(&container->lock);
	if (container->released) {
		rc = -EINVAL;
		goto out_unlock;
	}
	if (!container->ictx || container->type1) {
		rc = -ENODEV;
		goto out_unlock;
	}
	list_for_each_entry(vgroup, &container->groups, next) {
		list_for_each_entry(vdev, &vgroup->devices, next) {
			struct iommufd_dkms_vfio_device entry = {
				.dev_id = vdev->idev->obj.id,
			};

			strscpy(entry.name, dev_name(vdev->host.dev),
				sizeof(entry.name));
			if (n < room &&
			    copy_to_user(&uentries[n], &entry, sizeof(entry))) {
				rc = -EFAULT;
				goto out_unlock;
			}
			n++;
		}
	}
out_unlock:
	mutex_unlock(&container->lock);
	if (rc)
		return rc;
	if (put_user(n, &((struct iommufd_dkms_vfio_devices __user *)uarg)
				 ->num_devices))
		return -EFAULT;
	return n > room ? -EMSGSIZE : 0;
}

static long vfio_backend_container_ioctl(struct vfio_backend_container *container,
					 unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case IOMMUFD_DKMS_VFIO_LINK:
		return vfio_backend_link(container, uarg);
	case IOMMUFD_DKMS_VFIO_DEVICES:
		return vfio_backend_list_devices(container, uarg);
	}
	if (!container->type1)
		return -ENOTTY;
	/*
	 * A call that gets past this as release runs acts on the private
	 * context, which our hold keeps until the call returns.
	 */
	if (READ_ONCE(container->released))
		return -EINVAL;
	return iommufd_vfio_compat_ioctl(container->ictx, cmd, arg);
}

static long vfio_backend_ioctl(void *data, unsigned int cmd, unsigned long arg)
{
	struct vfio_backend_container *container = data;
	long rc;

	/* VFIO asks under its container lock: release cannot run. */
	if (cmd == VFIO_CHECK_EXTENSION)
		return vfio_backend_check_extension(container, arg);
	/* VFIO asks unopened backends about extensions only. */
	if (!container)
		return -EINVAL;

	/* Released and freed already: what VFIO answers without an IOMMU. */
	if (!vfio_backend_container_get(container))
		return -EINVAL;
	rc = vfio_backend_container_ioctl(container, cmd, arg);
	vfio_backend_container_put(container);
	return rc;
}

#ifdef IOMMUFD_VFIO_HAS_NOTIFY
static void vfio_backend_notify(void *data, enum vfio_iommu_notify_type event)
{
	/* Nothing is pending on close: pins belong to the iommufd. */
}
#endif

static const struct vfio_iommu_driver_ops vfio_backend_ops = {
	.name = "iommufd-dkms",
	.owner = THIS_MODULE,
	.open = vfio_backend_open,
	.release = vfio_backend_release,
	.ioctl = vfio_backend_ioctl,
	.attach_group = vfio_backend_attach_group,
	.detach_group = vfio_backend_detach_group,
	.group_iommu_domain = vfio_backend_group_domain,
#ifdef IOMMUFD_VFIO_HAS_NOTIFY
	.notify = vfio_backend_notify,
#endif
};

static int __init vfio_backend_init(void)
{
	return vfio_register_iommu_driver(&vfio_backend_ops);
}

static void __exit vfio_backend_exit(void)
{
	vfio_unregister_iommu_driver(&vfio_backend_ops);
}

#else /* !IOMMUFD_VFIO_LAYOUT_CHECKED */

static int __init vfio_backend_init(void)
{
	pr_err("iommufd_vfio: VFIO's backend interface was not checked for this kernel; not loading\n");
	return -ENODEV;
}

static void __exit vfio_backend_exit(void)
{
}

#endif /* IOMMUFD_VFIO_LAYOUT_CHECKED */

module_init(vfio_backend_init);
module_exit(vfio_backend_exit);

MODULE_DESCRIPTION("iommufd-dkms: a VFIO IOMMU backend that puts VFIO devices' DMA under iommufd");
MODULE_LICENSE("GPL");
MODULE_VERSION(IOMMUFD_DKMS_VERSION);
IOMMUFD_IMPORT_NS();
IOMMUFD_IMPORT_KAPI_NS();
