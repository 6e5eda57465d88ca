// SPDX-License-Identifier: GPL-2.0
/*
 * iommufd-dkms: /dev/iommu, its contexts, and the ioctl dispatcher.
 *
 * The ABI's size rule, applied here once for every ioctl: an argument
 * begins with a u32 telling how many bytes user space passes.  Fewer than
 * the ioctl's mandatory part is EINVAL; more than the kernel knows is only
 * accepted when the extra bytes are zero (E2BIG otherwise); a shorter
 * struct from an older binary is zero-extended.  Handlers receive that
 * kernel copy and never see the user pointer's size games.
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

/* --- contexts ------------------------------------------------------------ */

/* A fresh, empty context; @filp may be filled in by the caller later. */
static struct iommufd_ctx *iommufd_ctx_new(struct file *filp)
{
	struct iommufd_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL_ACCOUNT);

	if (!ctx)
		return NULL;
	ctx->file = filp;
	/* Object ids start at 1: 0 never names an object in the ABI. */
	xa_init_flags(&ctx->objects, XA_FLAGS_ALLOC1 | XA_FLAGS_ACCOUNT);
	init_waitqueue_head(&ctx->destroy_wait);
	ctx->account_mode = IOPT_ACCOUNT_USER;
	iopt_ledger_init(&ctx->ledger);
	mutex_init(&ctx->all_ioas_lock);
	mutex_init(&ctx->vfio_lock);
	/* mmap() offsets of vIOMMU pages (viommu.c); the first is 0. */
	xa_init_flags(&ctx->mmap_regions, XA_FLAGS_ALLOC | XA_FLAGS_ACCOUNT);
	mutex_init(&ctx->kapi_lock);
	xa_init(&ctx->kapi_groups);
	return ctx;
}

static void iommufd_ctx_free(struct iommufd_ctx *ctx)
{
	iopt_ledger_destroy(&ctx->ledger);
	/* Every region went with the object that offered it. */
	WARN_ON(!xa_empty(&ctx->mmap_regions));
	xa_destroy(&ctx->mmap_regions);
	/* Every bound device holds the file: none can be left. */
	WARN_ON(!xa_empty(&ctx->kapi_groups));
	xa_destroy(&ctx->kapi_groups);
	mutex_destroy(&ctx->kapi_lock);
	mutex_destroy(&ctx->vfio_lock);
	mutex_destroy(&ctx->all_ioas_lock);
	kfree(ctx);
}

static int iommufd_open(struct inode *inode, struct file *filp)
{
	filp->private_data = iommufd_ctx_new(filp);
	return filp->private_data ? 0 : -ENOMEM;
}

/* Last reference to the file gone: nothing can reach the context now. */
static int iommufd_release(struct inode *inode, struct file *filp)
{
	struct iommufd_ctx *ctx = filp->private_data;

	iommufd_objects_destroy_all(ctx);
	iommufd_ctx_free(ctx);
	return 0;
}

/**
 * iommufd_ctx_from_file() - the context behind a /dev/iommu file
 * @file: a file user space handed to a kernel user (VFIO)
 *
 * The context lives as long as its file: the caller gets a reference on
 * @file, keeps its own, and gives ours back with iommufd_ctx_put().
 * ERR_PTR(-EBADFD) when @file is something else.
 */
struct iommufd_ctx *iommufd_ctx_from_file(struct file *file)
{
	if (file->f_op != &iommufd_fops)
		return ERR_PTR(-EBADFD);
	get_file(file);
	return file->private_data;
}
IOMMUFD_EXPORT_KAPI(iommufd_ctx_from_file);

/* The same from a descriptor of the caller's: EBADF when there is none. */
struct iommufd_ctx *iommufd_ctx_from_fd(int fd)
{
	struct file *file = fget(fd);
	struct iommufd_ctx *ictx;

	if (!file)
		return ERR_PTR(-EBADF);
	/* The context holds the file on its own; our lookup's goes back. */
	ictx = iommufd_ctx_from_file(file);
	fput(file);
	return ictx;
}
IOMMUFD_EXPORT_KAPI(iommufd_ctx_from_fd);

/* One more reference for a holder that has one already. */
void iommufd_ctx_get(struct iommufd_ctx *ctx)
{
	get_file(ctx->file);
}
IOMMUFD_EXPORT_KAPI(iommufd_ctx_get);

/* Drop what iommufd_ctx_from_*(), _get() or iommufd_ctx_create() gave. */
void iommufd_ctx_put(struct iommufd_ctx *ctx)
{
	fput(ctx->file);
}
IOMMUFD_EXPORT_KAPI(iommufd_ctx_put);

/**
 * iommufd_ctx_create() - a context with no /dev/iommu open behind it
 *
 * A VFIO container served by the type1 compatibility gets one of its own.
 * It is backed by an anonymous file with our file operations, so that it
 * is torn down exactly as an opened one is, when its last reference goes.
 */
struct iommufd_ctx *iommufd_ctx_create(void)
{
	struct iommufd_ctx *ctx = iommufd_ctx_new(NULL);
	struct file *anon;

	if (!ctx)
		return ERR_PTR(-ENOMEM);
	anon = anon_inode_getfile("[iommufd]", &iommufd_fops, ctx, O_RDWR);
	if (IS_ERR(anon)) {
		iommufd_ctx_free(ctx);
		return ERR_CAST(anon);
	}
	ctx->file = anon;
	return ctx;
}
IOMMUFD_EXPORT(iommufd_ctx_create);

/* --- argument copies ------------------------------------------------------- */

/**
 * iommufd_copy_arg() - the ABI's size rule for one ioctl argument
 * @kbuf: where the kernel copy goes
 * @ksize: sizeof the kernel's struct
 * @min_size: bytes up to the end of its last mandatory field
 * @uarg: the user's argument
 * @usize: the size word the caller read from @uarg
 *
 * Also used by the VFIO backend for our container ioctls, so that every
 * ioctl of the module judges sizes the same way.  Returns 0, -EINVAL
 * (too short), -E2BIG (non-zero bytes past @ksize) or -EFAULT.
 */
int iommufd_copy_arg(void *kbuf, size_t ksize, size_t min_size,
		     const void __user *uarg, u32 usize)
{
	if (usize < min_size)
		return -EINVAL;
	return copy_struct_from_user(kbuf, ksize, uarg, usize);
}
IOMMUFD_EXPORT(iommufd_copy_arg);

/*
 * Hand the handler's copy back, but never more than user space passed in:
 * an older binary's shorter struct must not be written past its end.
 */
int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len)
{
	size_t n = min_t(size_t, cmd_len, ucmd->user_size);

	return copy_to_user(ucmd->ubuffer, ucmd->cmd, n) ? -EFAULT : 0;
}

/* --- the ioctl tables -------------------------------------------------------- */

/*
 * The kernel copy of an argument lives on the dispatcher's stack, in this
 * many bytes; each table row checks at build time that its struct fits.
 */
#define IOMMUFD_ARG_BYTES 128

/**
 * struct iommufd_ioctl_row - how to run one ioctl
 * @number: the complete ioctl number this row answers (type, nr, and the
 *          size and direction bits, which must match too)
 * @ksize: sizeof the argument struct this kernel knows
 * @min_size: offsetofend of the last field every caller must pass
 * @run: the handler; NULL for a hole in the table
 */
struct iommufd_ioctl_row {
	unsigned int number;
	u16 ksize;
	u16 min_size;
	int (*run)(struct iommufd_ucmd *ucmd);
};

#define IOMMUFD_ROW(_number, _run, _type, _last_mandatory)                    \
	{                                                                      \
		.number = _number,                                             \
		.ksize = sizeof(_type) +                                       \
			 BUILD_BUG_ON_ZERO(sizeof(_type) > IOMMUFD_ARG_BYTES), \
		.min_size = offsetofend(_type, _last_mandatory),               \
		.run = _run,                                                   \
	}

/* Upstream's commands, indexed from IOMMUFD_CMD_BASE. */
#define UPSTREAM_ROW(_number, _run, _type, _last_mandatory)                   \
	[_IOC_NR(_number) - IOMMUFD_CMD_BASE] =                                \
		IOMMUFD_ROW(_number, _run, _type, _last_mandatory)

/*
 * Empty rows are commands of the upstream ABI this module does not offer
 * (ENOTTY).  The table reaches the newest upstream command all the same,
 * so that every number in upstream's range is judged as upstream judges
 * it: the size word is read (EFAULT on a bad pointer) before the number.
 */
static const struct iommufd_ioctl_row upstream_rows[] = {
	UPSTREAM_ROW(IOMMU_DESTROY, iommufd_destroy, struct iommu_destroy, id),
	UPSTREAM_ROW(IOMMU_IOAS_ALLOC, iommufd_ioas_alloc_ioctl,
		     struct iommu_ioas_alloc, out_ioas_id),
	UPSTREAM_ROW(IOMMU_IOAS_ALLOW_IOVAS, iommufd_ioas_allow_iovas,
		     struct iommu_ioas_allow_iovas, allowed_iovas),
	UPSTREAM_ROW(IOMMU_IOAS_COPY, iommufd_ioas_copy,
		     struct iommu_ioas_copy, src_iova),
	UPSTREAM_ROW(IOMMU_IOAS_IOVA_RANGES, iommufd_ioas_iova_ranges,
		     struct iommu_ioas_iova_ranges, out_iova_alignment),
	UPSTREAM_ROW(IOMMU_IOAS_MAP, iommufd_ioas_map,
		     struct iommu_ioas_map, iova),
	UPSTREAM_ROW(IOMMU_IOAS_UNMAP, iommufd_ioas_unmap,
		     struct iommu_ioas_unmap, length),
	UPSTREAM_ROW(IOMMU_OPTION, iommufd_option, struct iommu_option, val64),
	UPSTREAM_ROW(IOMMU_VFIO_IOAS, iommufd_vfio_ioas,
		     struct iommu_vfio_ioas, __reserved),
	UPSTREAM_ROW(IOMMU_HWPT_ALLOC, iommufd_hwpt_alloc,
		     struct iommu_hwpt_alloc, __reserved),
	UPSTREAM_ROW(IOMMU_GET_HW_INFO, iommufd_get_hw_info,
		     struct iommu_hw_info, __reserved),
	UPSTREAM_ROW(IOMMU_HWPT_SET_DIRTY_TRACKING,
		     iommufd_hwpt_set_dirty_tracking,
		     struct iommu_hwpt_set_dirty_tracking, __reserved),
	UPSTREAM_ROW(IOMMU_HWPT_GET_DIRTY_BITMAP, iommufd_hwpt_get_dirty_bitmap,
		     struct iommu_hwpt_get_dirty_bitmap, data),
	UPSTREAM_ROW(IOMMU_HWPT_INVALIDATE, iommufd_hwpt_invalidate,
		     struct iommu_hwpt_invalidate, __reserved),
	UPSTREAM_ROW(IOMMU_FAULT_QUEUE_ALLOC, iommufd_fault_alloc,
		     struct iommu_fault_alloc, out_fault_fd),
	UPSTREAM_ROW(IOMMU_IOAS_MAP_FILE, iommufd_ioas_map_file,
		     struct iommu_ioas_map_file, iova),
	UPSTREAM_ROW(IOMMU_IOAS_CHANGE_PROCESS, iommufd_ioas_change_process,
		     struct iommu_ioas_change_process, __reserved),
	UPSTREAM_ROW(IOMMU_VIOMMU_ALLOC, iommufd_viommu_alloc_ioctl,
		     struct iommu_viommu_alloc, out_viommu_id),
	UPSTREAM_ROW(IOMMU_VDEVICE_ALLOC, iommufd_vdevice_alloc_ioctl,
		     struct iommu_vdevice_alloc, virt_id),
	UPSTREAM_ROW(IOMMU_VEVENTQ_ALLOC, iommufd_veventq_alloc_ioctl,
		     struct iommu_veventq_alloc, out_veventq_fd),
	UPSTREAM_ROW(IOMMU_HW_QUEUE_ALLOC, iommufd_hw_queue_alloc_ioctl,
		     struct iommu_hw_queue_alloc, length),
	[IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA - IOMMUFD_CMD_BASE] = {},
	/* Past the real commands, as in upstream's CONFIG_IOMMUFD_TEST. */
	UPSTREAM_ROW(IOMMU_TEST_CMD, iommufd_test, struct iommu_test_cmd, last),
};

/*
 * How far into upstream_rows a call may reach.  Without self-test mode
 * the test command's number, and anything between it and the last real
 * command, is as unknown as any other number past the table.
 */
static unsigned int upstream_rows_in_use(void)
{
	if (iommufd_selftest_enabled)
		return ARRAY_SIZE(upstream_rows);
	return IOMMUFD_CMD_IOAS_NOIOMMU_GET_PA - IOMMUFD_CMD_BASE + 1;
}

/* Our extensions (uapi/linux/iommufd_dkms.h), indexed by command number. */
#define DKMS_ROW(_number, _run, _type, _last_mandatory)                       \
	[_IOC_NR(_number)] = IOMMUFD_ROW(_number, _run, _type, _last_mandatory)

static const struct iommufd_ioctl_row dkms_rows[] = {
	DKMS_ROW(IOMMUFD_DKMS_DEVICE_ATTACH, iommufd_dkms_device_attach,
		 struct iommufd_dkms_device_attach, __reserved),
	DKMS_ROW(IOMMUFD_DKMS_DEVICE_DETACH, iommufd_dkms_device_detach,
		 struct iommufd_dkms_device_detach, dev_id),
	DKMS_ROW(IOMMUFD_DKMS_DEVICE_PASID, iommufd_dkms_device_pasid,
		 struct iommufd_dkms_device_pasid, __reserved),
};

/* Run @row for ioctl @number, whose argument is at ucmd->ubuffer. */
static long iommufd_run_row(struct iommufd_ucmd *ucmd,
			    const struct iommufd_ioctl_row *row,
			    unsigned int number)
{
	u64 kcopy[IOMMUFD_ARG_BYTES / sizeof(u64)];
	int err;

	/* The size word first, whatever the number turns out to be. */
	if (get_user(ucmd->user_size, (u32 __user *)ucmd->ubuffer))
		return -EFAULT;
	if (!row->run || row->number != number)
		return -ENOIOCTLCMD;
	err = iommufd_copy_arg(kcopy, row->ksize, row->min_size, ucmd->ubuffer,
			       ucmd->user_size);
	if (err)
		return err;
	ucmd->cmd = kcopy;
	return row->run(ucmd);
}

static long iommufd_ioctl(struct file *filp, unsigned int number,
			  unsigned long arg)
{
	struct iommufd_ucmd ucmd = {
		.ictx = filp->private_data,
		.ubuffer = (void __user *)arg,
	};
	unsigned int nr = _IOC_NR(number);

	if (_IOC_TYPE(number) == IOMMUFD_DKMS_TYPE) {
		if (nr >= ARRAY_SIZE(dkms_rows))
			return -ENOIOCTLCMD;
		return iommufd_run_row(&ucmd, &dkms_rows[nr], number);
	}
	/*
	 * Numbers below upstream's range are VFIO's: a /dev/iommu fd also
	 * answers the type1 container ioctls, as upstream's does.
	 */
	if (nr < IOMMUFD_CMD_BASE)
		return iommufd_vfio_compat_ioctl(ucmd.ictx, number, arg);
	nr -= IOMMUFD_CMD_BASE;
	if (nr >= upstream_rows_in_use())
		return -ENOIOCTLCMD;
	return iommufd_run_row(&ucmd, &upstream_rows[nr], number);
}

static const struct file_operations iommufd_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = iommufd_ioctl,
	/* Every argument is a pointer to a size-prefixed struct. */
	.compat_ioctl = compat_ptr_ioctl,
	.open = iommufd_open,
	.release = iommufd_release,
	.show_fdinfo = iommufd_show_fdinfo,
	/* vIOMMU pages, at offsets an allocation ioctl returned (viommu.c) */
	.mmap = iommufd_fops_mmap,
};

/* --- the device node ----------------------------------------------------------- */

static struct miscdevice iommufd_miscdev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "iommu",
	.nodename = "iommu",
	.mode = 0660,
	.fops = &iommufd_fops,
};

static int __init iommufd_module_init(void)
{
	int err = misc_register(&iommufd_miscdev);

	if (err)
		return err;
	iommufd_ledger_debugfs_init();
	if (iommufd_selftest_enabled) {
		/* Mock devices and test ops are for test machines only. */
		add_taint(TAINT_TEST, LOCKDEP_STILL_OK);
		mock_iopf_debugfs_init();
		pr_warn("iommufd: self-test mode: IOMMU_TEST_CMD and mock IOMMU devices are exposed to every user of /dev/iommu; never use this on a production system\n");
	}
	return 0;
}

static void __exit iommufd_module_exit(void)
{
	misc_deregister(&iommufd_miscdev);
	iommufd_ledger_debugfs_exit();
}

module_init(iommufd_module_init);
module_exit(iommufd_module_exit);

MODULE_DESCRIPTION("iommufd-dkms: the iommufd user API (/dev/iommu) for kernels built without CONFIG_IOMMUFD");
MODULE_LICENSE("GPL");
MODULE_VERSION(IOMMUFD_DKMS_VERSION);
/*
 * No char-major-10-* or devname: alias, as upstream: the minor is dynamic,
 * so depmod would turn them into a static /dev/iommu node with a number no
 * module ever owns (c10:255, 0600), which devtmpfs then never replaces.
 * The module is loaded at boot by modules-load.d instead (README).
 */
