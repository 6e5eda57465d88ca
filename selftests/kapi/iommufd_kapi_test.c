// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd_kapi_test: a consumer of the in-kernel iommufd API, built the way
 * in-tree code with CONFIG_IOMMUFD=m is (the kernel's linux/iommufd.h, no
 * header of ours), so that it links against iommufd-dkms exactly as a
 * rebuilt VFIO would.  Each call of the API is one op of KAPI_TEST_CMD on
 * /dev/iommufd_kapi_test (kapi_test.h); the guest suite kapi.c drives it.
 *
 * A session (one open file) holds at most one bound device and one
 * access.  Its pins are kept in a list that the access's ->unmap callback
 * empties over the range it is told about, as an mdev driver must.
 * Closing the file undoes everything the session still holds.
 */
/* The kernel's own declarations, as a CONFIG_IOMMUFD=m kernel has them. */
#define CONFIG_IOMMUFD_MODULE 1
#include <linux/iommufd.h>
#undef CONFIG_IOMMUFD_MODULE

#include <linux/device.h>
#include <linux/file.h>
#include <linux/highmem.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "kapi_test.h"

/* Large enough for the suite's ranges; bigger pins are refused. */
#define KAPI_TEST_MAX_PIN_PAGES 64

struct kapi_pin {
	struct list_head next;
	unsigned long iova;
	unsigned long length;
	unsigned long npages;
	struct page **pages;
};

/**
 * struct kapi_session - what one open file of the test device holds
 * @lock: serializes the ops
 * @dev_ictx: the context @idev is bound to (a reference)
 * @idev: the bound device, or NULL
 * @dev: the device behind @idev (a reference)
 * @acc_ictx: the context @access belongs to (a reference)
 * @access: the access, or NULL
 * @pins_lock: protects @pins and the counters; taken by ->unmap, which
 *             may run inside an op (detach, replace) that holds @lock
 * @pins: struct kapi_pin still held
 * @unmap_calls: ->unmap calls received
 * @unmap_iova: the last one's range
 * @unmap_length: its length
 * @pinned_pages: pages in @pins
 */
struct kapi_session {
	struct mutex lock;
	struct iommufd_ctx *dev_ictx;
	struct iommufd_device *idev;
	struct device *dev;
	struct iommufd_ctx *acc_ictx;
	struct iommufd_access *access;
	struct mutex pins_lock;
	struct list_head pins;
	u64 unmap_calls;
	u64 unmap_iova;
	u64 unmap_length;
	u64 pinned_pages;
};

static void kapi_pin_drop(struct kapi_session *s, struct kapi_pin *pin)
{
	lockdep_assert_held(&s->pins_lock);
	iommufd_access_unpin_pages(s->access, pin->iova, pin->length);
	s->pinned_pages -= pin->npages;
	list_del(&pin->next);
	kfree(pin->pages);
	kfree(pin);
}

/* The API's promise: after this returns, nothing in the range is pinned. */
static void kapi_access_unmap(void *data, unsigned long iova,
			      unsigned long length)
{
	struct kapi_session *s = data;
	unsigned long last = iova + length - 1;
	struct kapi_pin *pin, *tmp;

	mutex_lock(&s->pins_lock);
	s->unmap_calls++;
	s->unmap_iova = iova;
	s->unmap_length = length;
	list_for_each_entry_safe(pin, tmp, &s->pins, next)
		if (pin->iova <= last && iova <= pin->iova + pin->length - 1)
			kapi_pin_drop(s, pin);
	mutex_unlock(&s->pins_lock);
}

static const struct iommufd_access_ops kapi_ops_pin = {
	.needs_pin_pages = 1,
	.unmap = kapi_access_unmap,
};

static const struct iommufd_access_ops kapi_ops_copy = {
	.unmap = kapi_access_unmap,
};

static void kapi_drop_all_pins(struct kapi_session *s)
{
	struct kapi_pin *pin, *tmp;

	mutex_lock(&s->pins_lock);
	list_for_each_entry_safe(pin, tmp, &s->pins, next)
		kapi_pin_drop(s, pin);
	mutex_unlock(&s->pins_lock);
}

static int kapi_bind(struct kapi_session *s, struct kapi_test_cmd *cmd)
{
	struct iommufd_device *idev;
	struct iommufd_ctx *ictx;
	struct device *dev;

	if (s->idev)
		return -EBUSY;
	dev = bus_find_device_by_name(&pci_bus_type, NULL, cmd->name);
	if (!dev)
		return -ENODEV;
	ictx = iommufd_ctx_from_fd(cmd->fd);
	if (IS_ERR(ictx)) {
		put_device(dev);
		return PTR_ERR(ictx);
	}
	idev = iommufd_device_bind(ictx, dev, &cmd->out_id);
	if (IS_ERR(idev)) {
		iommufd_ctx_put(ictx);
		put_device(dev);
		return PTR_ERR(idev);
	}
	s->dev_ictx = ictx;
	s->idev = idev;
	s->dev = dev;
	return 0;
}

static void kapi_unbind(struct kapi_session *s)
{
	iommufd_device_unbind(s->idev);
	iommufd_ctx_put(s->dev_ictx);
	put_device(s->dev);
	s->idev = NULL;
	s->dev_ictx = NULL;
	s->dev = NULL;
}

/* Is @fd's context the one @ictx is?  0 or 1, or the lookup's errno. */
static int kapi_same_ctx(int fd, struct iommufd_ctx *ictx)
{
	struct iommufd_ctx *other = iommufd_ctx_from_fd(fd);

	if (IS_ERR(other))
		return PTR_ERR(other);
	iommufd_ctx_put(other);
	return other == ictx;
}

static int kapi_has_group(struct kapi_test_cmd *cmd)
{
	struct iommu_group *group;
	struct iommufd_ctx *ictx;
	struct device *dev;

	dev = bus_find_device_by_name(&pci_bus_type, NULL, cmd->name);
	if (!dev)
		return -ENODEV;
	group = iommu_group_get(dev);
	put_device(dev);
	if (!group)
		return -ENODEV;
	ictx = iommufd_ctx_from_fd(cmd->fd);
	if (IS_ERR(ictx)) {
		iommu_group_put(group);
		return PTR_ERR(ictx);
	}
	cmd->out_flag = iommufd_ctx_has_group(ictx, group);
	iommufd_ctx_put(ictx);
	iommu_group_put(group);
	return 0;
}

/* iommufd_ctx_from_file() on the file behind @fd, as VFIO's group does. */
static int kapi_ctx_from_file(struct kapi_test_cmd *cmd)
{
	struct iommufd_ctx *ictx;
	struct file *file;

	file = fget(cmd->fd);
	if (!file)
		return -EBADF;
	ictx = iommufd_ctx_from_file(file);
	fput(file);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);
	iommufd_ctx_put(ictx);
	return 0;
}

static int kapi_access_create(struct kapi_session *s, struct kapi_test_cmd *cmd)
{
	struct iommufd_access *access;
	struct iommufd_ctx *ictx;

	if (s->access)
		return -EBUSY;
	ictx = iommufd_ctx_from_fd(cmd->fd);
	if (IS_ERR(ictx))
		return PTR_ERR(ictx);
	access = iommufd_access_create(ictx,
				       cmd->flags & KAPI_TEST_PIN ?
					       &kapi_ops_pin : &kapi_ops_copy,
				       s, &cmd->out_id);
	if (IS_ERR(access)) {
		iommufd_ctx_put(ictx);
		return PTR_ERR(access);
	}
	s->acc_ictx = ictx;
	s->access = access;
	return 0;
}

static void kapi_access_destroy(struct kapi_session *s, bool keep_pins)
{
	if (!keep_pins)
		kapi_drop_all_pins(s);
	iommufd_access_destroy(s->access);
	iommufd_ctx_put(s->acc_ictx);
	s->access = NULL;
	s->acc_ictx = NULL;
}

static int kapi_access_pin(struct kapi_session *s, struct kapi_test_cmd *cmd)
{
	unsigned long first = cmd->iova >> PAGE_SHIFT;
	struct kapi_pin *pin;
	void *va;
	int rc;

	if (!cmd->length || cmd->iova + cmd->length < cmd->iova)
		return -EINVAL;
	pin = kzalloc(sizeof(*pin), GFP_KERNEL);
	if (!pin)
		return -ENOMEM;
	pin->iova = cmd->iova;
	pin->length = cmd->length;
	pin->npages = ((cmd->iova + cmd->length - 1) >> PAGE_SHIFT) - first + 1;
	if (pin->npages > KAPI_TEST_MAX_PIN_PAGES) {
		kfree(pin);
		return -E2BIG;
	}
	pin->pages = kcalloc(pin->npages, sizeof(*pin->pages), GFP_KERNEL);
	if (!pin->pages) {
		kfree(pin);
		return -ENOMEM;
	}
	/*
	 * Pinned and recorded under one hold of pins_lock, so that an unmap
	 * racing with us finds the pin it asks for.
	 */
	mutex_lock(&s->pins_lock);
	rc = iommufd_access_pin_pages(s->access, cmd->iova, cmd->length,
				      pin->pages,
				      cmd->flags & KAPI_TEST_WRITE ?
					      IOMMUFD_ACCESS_RW_WRITE : 0);
	if (rc) {
		mutex_unlock(&s->pins_lock);
		kfree(pin->pages);
		kfree(pin);
		return rc;
	}
	va = kmap_local_page(pin->pages[0]);
	cmd->first_byte = *(u8 *)va;
	kunmap_local(va);
	list_add_tail(&pin->next, &s->pins);
	s->pinned_pages += pin->npages;
	mutex_unlock(&s->pins_lock);
	return 0;
}

static int kapi_access_unpin(struct kapi_session *s, struct kapi_test_cmd *cmd)
{
	struct kapi_pin *pin;
	int rc = -ENOENT;

	mutex_lock(&s->pins_lock);
	list_for_each_entry(pin, &s->pins, next) {
		if (pin->iova == cmd->iova && pin->length == cmd->length) {
			kapi_pin_drop(s, pin);
			rc = 0;
			break;
		}
	}
	mutex_unlock(&s->pins_lock);
	return rc;
}

static int kapi_access_rw(struct kapi_session *s, struct kapi_test_cmd *cmd)
{
	void __user *ubuf = u64_to_user_ptr(cmd->uptr);
	bool write = cmd->flags & KAPI_TEST_WRITE;
	unsigned int flags = 0;
	void *buf;
	int rc;

	if (cmd->length > SZ_1M)
		return -E2BIG;
	if (write)
		flags |= IOMMUFD_ACCESS_RW_WRITE;
	if (cmd->flags & KAPI_TEST_KTHREAD)
		flags |= IOMMUFD_ACCESS_RW_KTHREAD;
	/* A zero length goes through: the API's answer is the test's. */
	buf = kvzalloc(max_t(size_t, cmd->length, 1), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	rc = -EFAULT;
	if (write && copy_from_user(buf, ubuf, cmd->length))
		goto out_free;
	rc = iommufd_access_rw(s->access, cmd->iova, buf, cmd->length, flags);
	if (!rc && !write && copy_to_user(ubuf, buf, cmd->length))
		rc = -EFAULT;
out_free:
	kvfree(buf);
	return rc;
}

static int kapi_compat(struct kapi_test_cmd *cmd)
{
	struct iommufd_ctx *ictx = iommufd_ctx_from_fd(cmd->fd);
	int rc;

	if (IS_ERR(ictx))
		return PTR_ERR(ictx);
	if (cmd->op == KAPI_TEST_COMPAT_IOAS_CREATE)
		rc = iommufd_vfio_compat_ioas_create(ictx);
	else
		rc = iommufd_vfio_compat_ioas_get_id(ictx, &cmd->out_id);
	iommufd_ctx_put(ictx);
	return rc;
}

static int kapi_run(struct kapi_session *s, struct kapi_test_cmd *cmd)
{
	int rc;

	switch (cmd->op) {
	case KAPI_TEST_BIND:
		return kapi_bind(s, cmd);
	case KAPI_TEST_HAS_GROUP:
		return kapi_has_group(cmd);
	case KAPI_TEST_CTX_FROM_FILE:
		return kapi_ctx_from_file(cmd);
	case KAPI_TEST_ACCESS_CREATE:
		return kapi_access_create(s, cmd);
	case KAPI_TEST_COMPAT_IOAS_CREATE:
	case KAPI_TEST_COMPAT_IOAS_GET_ID:
		return kapi_compat(cmd);
	case KAPI_TEST_ACCESS_STATE:
		mutex_lock(&s->pins_lock);
		cmd->unmap_calls = s->unmap_calls;
		cmd->unmap_iova = s->unmap_iova;
		cmd->unmap_length = s->unmap_length;
		cmd->pinned_pages = s->pinned_pages;
		mutex_unlock(&s->pins_lock);
		return 0;
	}

	switch (cmd->op) {
	case KAPI_TEST_UNBIND:
	case KAPI_TEST_ATTACH:
	case KAPI_TEST_REPLACE:
	case KAPI_TEST_DETACH:
	case KAPI_TEST_DEVICE_INFO:
		if (!s->idev)
			return -ENXIO;
		break;
	default:
		if (!s->access)
			return -ENXIO;
		break;
	}

	switch (cmd->op) {
	case KAPI_TEST_UNBIND:
		kapi_unbind(s);
		return 0;
	case KAPI_TEST_ATTACH:
		cmd->out_id = cmd->id;
		return iommufd_device_attach(s->idev, &cmd->out_id);
	case KAPI_TEST_REPLACE:
		cmd->out_id = cmd->id;
		return iommufd_device_replace(s->idev, &cmd->out_id);
	case KAPI_TEST_DETACH:
		iommufd_device_detach(s->idev);
		return 0;
	case KAPI_TEST_DEVICE_INFO:
		cmd->out_id = iommufd_device_to_id(s->idev);
		rc = kapi_same_ctx(cmd->fd, iommufd_device_to_ictx(s->idev));
		if (rc < 0)
			return rc;
		cmd->out_flag = rc;
		return 0;
	case KAPI_TEST_ACCESS_DESTROY:
		kapi_access_destroy(s, cmd->flags & KAPI_TEST_KEEP_PINS);
		return 0;
	case KAPI_TEST_ACCESS_ATTACH:
		return iommufd_access_attach(s->access, cmd->id);
	case KAPI_TEST_ACCESS_REPLACE:
		return iommufd_access_replace(s->access, cmd->id);
	case KAPI_TEST_ACCESS_DETACH:
		iommufd_access_detach(s->access);
		return 0;
	case KAPI_TEST_ACCESS_PIN:
		return kapi_access_pin(s, cmd);
	case KAPI_TEST_ACCESS_UNPIN:
		return kapi_access_unpin(s, cmd);
	case KAPI_TEST_ACCESS_RW:
		return kapi_access_rw(s, cmd);
	}
	return -EOPNOTSUPP;
}

static long kapi_ioctl(struct file *file, unsigned int number,
		       unsigned long arg)
{
	struct kapi_session *s = file->private_data;
	void __user *uarg = (void __user *)arg;
	struct kapi_test_cmd cmd;
	int rc;

	if (number != KAPI_TEST_CMD)
		return -ENOTTY;
	if (copy_from_user(&cmd, uarg, sizeof(cmd)))
		return -EFAULT;
	cmd.name[sizeof(cmd.name) - 1] = 0;
	mutex_lock(&s->lock);
	rc = kapi_run(s, &cmd);
	mutex_unlock(&s->lock);
	if (copy_to_user(uarg, &cmd, sizeof(cmd)))
		return -EFAULT;
	return rc;
}

static int kapi_open(struct inode *inode, struct file *file)
{
	struct kapi_session *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	mutex_init(&s->lock);
	mutex_init(&s->pins_lock);
	INIT_LIST_HEAD(&s->pins);
	file->private_data = s;
	return 0;
}

static int kapi_release(struct inode *inode, struct file *file)
{
	struct kapi_session *s = file->private_data;

	if (s->access)
		kapi_access_destroy(s, false);
	if (s->idev)
		kapi_unbind(s);
	mutex_destroy(&s->pins_lock);
	mutex_destroy(&s->lock);
	kfree(s);
	return 0;
}

static const struct file_operations kapi_fops = {
	.owner = THIS_MODULE,
	.open = kapi_open,
	.release = kapi_release,
	.unlocked_ioctl = kapi_ioctl,
};

static struct miscdevice kapi_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommufd_kapi_test",
	.mode = 0600,
	.fops = &kapi_fops,
};

module_misc_device(kapi_miscdev);

MODULE_DESCRIPTION("iommufd-dkms test: a consumer of the in-kernel iommufd API, as VFIO calls it");
MODULE_LICENSE("GPL");
#ifdef HAVE_MODULE_NS_IDENTIFIER
MODULE_IMPORT_NS(IOMMUFD);
MODULE_IMPORT_NS(IOMMUFD_VFIO);
#else
MODULE_IMPORT_NS("IOMMUFD");
MODULE_IMPORT_NS("IOMMUFD_VFIO");
#endif
