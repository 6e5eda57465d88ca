// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd-dkms: the /dev/iommu character device and its ioctl dispatcher.
 *
 * Every ioctl argument starts with a u32 holding its size, so that structs
 * can grow: the dispatcher accepts any size from the ioctl's last mandatory
 * field up, zero-extends shorter copies and refuses longer ones whose extra
 * bytes are not zero (E2BIG), exactly as upstream's iommufd does.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/uaccess.h>
#include <uapi/linux/iommufd.h>
#include <uapi/linux/iommufd_dkms.h>
#include <uapi/linux/iommufd_test.h>

#include "iommufd_private.h"

bool iommufd_selftest_enabled;
module_param_named(selftest, iommufd_selftest_enabled, bool, 0444);
MODULE_PARM_DESC(selftest,
		 "Expose IOMMU_TEST_CMD and mock IOMMU devices for iommufd test suites (taints the kernel; never on production systems; default: off)");

static const struct file_operations iommufd_fops;

static struct iommufd_ctx *iommufd_ctx_alloc(struct file *filp)
{
	struct iommufd_ctx *ictx;

	ictx = kzalloc(sizeof(*ictx), GFP_KERNEL_ACCOUNT);
	if (!ictx)
		return NULL;
	xa_init_flags(&ictx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&ictx->destroy_wait);
	ictx->file = filp;
	ictx->account_mode = IOPT_ACCOUNT_USER;
	mutex_init(&ictx->vfio_lock);
	return ictx;
}

static int iommufd_fops_open(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx = iommufd_ctx_alloc(filp);

	if (!ictx)
		return -ENOMEM;
	filp->private_data = ictx;
	return 0;
}

/**
 * iommufd_ctx_from_file() - the context behind a /dev/iommu file
 * @file: a file user space passed in
 *
 * Returns the context with a reference on its file, to be dropped with
 * iommufd_ctx_put(), or an error if @file is not ours.
 */
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	if (file->f_op != &iommufd_fops)
		return ERR_PTR(-EBADFD);
	get_file(file);
	return file->private_data;
}
IOMMUFD_EXPORT(iommufd_ctx_from_file);

void iommufd_ctx_put(struct iommufd_ctx *ictx)
{
	fput(ictx->file);
}
IOMMUFD_EXPORT(iommufd_ctx_put);

/**
 * iommufd_ctx_create() - a context no /dev/iommu open made
 *
 * For kernel users that need an iommufd of their own (the VFIO type1
 * compatibility of a container).  Returns it with one file reference.
 */
struct iommufd_ctx *iommufd_ctx_create(void)
{
	struct iommufd_ctx *ictx;
	struct file *file;

	ictx = iommufd_ctx_alloc(NULL);
	if (!ictx)
		return ERR_PTR(-ENOMEM);
	file = anon_inode_getfile("[iommufd]", &iommufd_fops, ictx, O_RDWR);
	if (IS_ERR(file)) {
		kfree(ictx);
		return ERR_CAST(file);
	}
	ictx->file = file;
	return ictx;
}
IOMMUFD_EXPORT(iommufd_ctx_create);

static int iommufd_fops_release(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ictx = filp->private_data;

	iommufd_objects_destroy_all(ictx);
	mutex_destroy(&ictx->vfio_lock);
	kfree(ictx);
	return 0;
}

/*
 * Copy the handler's (possibly updated) command back, truncated to what
 * user space passed in: an older binary with a shorter struct must not get
 * bytes written past its end.
 */
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	if (copy_to_user(ucmd->ubuffer, ucmd->cmd,
			 min_t(size_t, ucmd->user_size, cmd_len)))
		return -EFAULT;
	return 0;
}

/* Room for the largest argument of any ioctl in the table. */
union iommufd_ucmd_buffer {
	struct iommu_destroy destroy;
	struct iommu_ioas_alloc alloc;
	struct iommu_ioas_allow_iovas allow_iovas;
	struct iommu_ioas_change_process change_process;
	struct iommu_ioas_copy copy;
	struct iommu_ioas_iova_ranges iova_ranges;
	struct iommu_ioas_map map;
	struct iommu_ioas_map_file map_file;
	struct iommu_ioas_unmap unmap;
	struct iommu_option option;
	struct iommu_hwpt_alloc hwpt_alloc;
	struct iommu_test_cmd test;
	struct iommufd_dkms_device_attach dkms_attach;
	struct iommufd_dkms_device_detach dkms_detach;
	struct iommu_vfio_ioas vfio_ioas;
	struct iommu_hw_info hw_info;
};

struct iommufd_ioctl_op {
	unsigned int size;
	unsigned int min_size;
	unsigned int ioctl_num;
	int (*execute)(struct iommufd_ucmd *ucmd);
};

/*
 * One row per ioctl; @last names the last field an old binary must already
 * have passed, and the minimum size follows from it.
 */
#define IOCTL_OP(_ioctl, _fn, _struct, _last)                                 \
	[_IOC_NR(_ioctl) - IOMMUFD_CMD_BASE] = {                               \
		.size = sizeof(_struct) +                                      \
			BUILD_BUG_ON_ZERO(sizeof(union iommufd_ucmd_buffer) <  \
					  sizeof(_struct)),                    \
		.min_size = offsetofend(_struct, _last),                       \
		.ioctl_num = _ioctl,                                           \
		.execute = _fn,                                                \
	}

/*
 * Rows not filled in yet are ioctls of the upstream ABI this module does
 * not implement: they answer ENOTTY.  The table still spans the whole
 * upstream command range, so numbers inside it behave like upstream's
 * (the size word is read, and faults, before the number is judged).
 */
static const struct iommufd_ioctl_op iommufd_ioctl_ops[] = {
	IOCTL_OP(IOMMU_DESTROY, iommufd_destroy, struct iommu_destroy, id),
	IOCTL_OP(IOMMU_GET_HW_INFO, iommufd_get_hw_info, struct iommu_hw_info,
		 __reserved),
	IOCTL_OP(IOMMU_HWPT_ALLOC, iommufd_hwpt_alloc, struct iommu_hwpt_alloc,
		 __reserved),
	IOCTL_OP(IOMMU_IOAS_ALLOC, iommufd_ioas_alloc_ioctl,
		 struct iommu_ioas_alloc, out_ioas_id),
	IOCTL_OP(IOMMU_IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas,
		 struct iommu_ioas_allow_iovas, allowed_iovas),
	IOCTL_OP(IOMMU_IOAS_CHANGE_PROCESS, iommufd_ioas_change_process,
		 struct iommu_ioas_change_process, __reserved),
	IOCTL_OP(IOMMU_IOAS_COPY, iommufd_ioas_copy, struct iommu_ioas_copy,
		 src_iova),
	IOCTL_OP(IOMMU_IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges,
		 struct iommu_ioas_iova_ranges, out_iova_alignment),
	IOCTL_OP(IOMMU_IOAS_MAP, iommufd_ioas_map, struct iommu_ioas_map,
		 iova),
	IOCTL_OP(IOMMU_IOAS_MAP_FILE, iommufd_ioas_map_file,
		 struct iommu_ioas_map_file, iova),
	IOCTL_OP(IOMMU_IOAS_UNMAP, iommufd_ioas_unmap, struct iommu_ioas_unmap,
		 length),
	IOCTL_OP(IOMMU_OPTION, iommufd_option, struct iommu_option, val64),
	IOCTL_OP(IOMMU_VFIO_IOAS, iommufd_vfio_ioas, struct iommu_vfio_ioas,
		 __reserved),
	/* The newest command of the upstream ABI that uapi/ tracks. */
	[IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA - IOMMUFD_CMD_BASE] = { 0 },
	IOCTL_OP(IOMMU_TEST_CMD, iommufd_test, struct iommu_test_cmd, last),
};

/*
 * Without self-test mode the table ends at the last real command, as
 * upstream's does without CONFIG_IOMMUFD_TEST: numbers past it, the test
 * command's among them, are not ours at all.
 */
static unsigned int iommufd_ioctl_nr_end(void)
{
	if (iommufd_selftest_enabled)
		return ARRAY_SIZE(iommufd_ioctl_ops);
	return IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA - IOMMUFD_CMD_BASE + 1;
}

/* Our extensions (uapi/linux/iommufd_dkms.h), indexed by command number. */
#define DKMS_OP(_ioctl, _fn, _struct, _last)                                  \
	[_IOC_NR(_ioctl)] = {                                                  \
		.size = sizeof(_struct) +                                      \
			BUILD_BUG_ON_ZERO(sizeof(union iommufd_ucmd_buffer) <  \
					  sizeof(_struct)),                    \
		.min_size = offsetofend(_struct, _last),                       \
		.ioctl_num = _ioctl,                                           \
		.execute = _fn,                                                \
	}

static const struct iommufd_ioctl_op iommufd_dkms_ioctl_ops[] = {
	DKMS_OP(IOMMUFD_DKMS_DEVICE_ATTACH, iommufd_dkms_device_attach,
		struct iommufd_dkms_device_attach, __reserved),
	DKMS_OP(IOMMUFD_DKMS_DEVICE_DETACH, iommufd_dkms_device_detach,
		struct iommufd_dkms_device_detach, dev_id),
};

/* The size rules, once for every table: see the comment at the top. */
static long iommufd_run_op(struct iommufd_ucmd *ucmd,
			   const struct iommufd_ioctl_op *op, unsigned int cmd)
{
	union iommufd_ucmd_buffer buf;
	int rc;

	if (get_user(ucmd->user_size, (u32 __user *)ucmd->ubuffer))
		return -EFAULT;
	if (op->ioctl_num != cmd || !op->execute)
		return -ENOIOCTLCMD;
	if (ucmd->user_size < op->min_size)
		return -EINVAL;

	ucmd->cmd = &buf;
	rc = copy_struct_from_user(ucmd->cmd, op->size, ucmd->ubuffer,
				   ucmd->user_size);
	if (rc)
		return rc;
	return op->execute(ucmd);
}

static long iommufd_fops_ioctl(struct file *filp, unsigned int cmd,
			       unsigned long arg)
{
	struct iommufd_ucmd ucmd = {
		.ictx = filp->private_data,
		.ubuffer = (void __user *)arg,
	};
	unsigned int nr = _IOC_NR(cmd);

	if (_IOC_TYPE(cmd) == IOMMUFD_DKMS_TYPE) {
		if (nr >= ARRAY_SIZE(iommufd_dkms_ioctl_ops))
			return -ENOIOCTLCMD;
		return iommufd_run_op(&ucmd, &iommufd_dkms_ioctl_ops[nr], cmd);
	}
	/* Below our range: VFIO type1 container ioctls, as upstream serves. */
	if (nr < IOMMUFD_CMD_BASE)
		return iommufd_vfio_compat_ioctl(ucmd.ictx, cmd, arg);
	if (nr - IOMMUFD_CMD_BASE >= iommufd_ioctl_nr_end())
		return -ENOIOCTLCMD;
	return iommufd_run_op(&ucmd, &iommufd_ioctl_ops[nr - IOMMUFD_CMD_BASE],
			      cmd);
}

static const struct file_operations iommufd_fops = {
	.owner = THIS_MODULE,
	.open = iommufd_fops_open,
	.release = iommufd_fops_release,
	.unlocked_ioctl = iommufd_fops_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice iommufd_misc_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommu",
	.fops = &iommufd_fops,
	.nodename = "iommu",
	.mode = 0660,
};

static int __init iommufd_init(void)
{
	int rc;

	rc = misc_register(&iommufd_misc_dev);
	if (rc)
		return rc;
	if (iommufd_selftest_enabled) {
		add_taint(TAINT_TEST, LOCKDEP_STILL_OK);
		pr_warn("iommufd: self-test mode: IOMMU_TEST_CMD and mock IOMMU devices are exposed to every user of /dev/iommu; never use this on a production system\n");
	}
	return 0;
}

static void __exit iommufd_exit(void)
{
	misc_deregister(&iommufd_misc_dev);
}

module_init(iommufd_init);
module_exit(iommufd_exit);

MODULE_DESCRIPTION("iommufd-dkms: the iommufd user API (/dev/iommu) for kernels built without CONFIG_IOMMUFD");
MODULE_LICENSE("GPL");
/*
 * No char-major-10-* or devname: alias, as upstream: the minor is dynamic,
 * so depmod would turn them into a static /dev/iommu node with a number no
 * module ever owns (c10:255, 0600), which devtmpfs then never replaces.
 * The module is loaded at boot by modules-load.d instead (README).
 */
