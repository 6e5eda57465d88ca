/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufd-dkms: the map of the module.
 *
 * Every object a context can hold is declared here, with what it owns and
 * which locks protect it.  The files talk to each other through the
 * functions declared at the end of each section, not through each other's
 * structures.
 *
 * Object model
 * ------------
 * A context (struct iommufd_ctx) is one open file of /dev/iommu.  It keeps
 * its objects in an xarray keyed by the ids user space sees.  An object is
 * built behind a reserved id, published when complete, retired, and freed;
 * object.c describes the stages.
 *
 * Holds on an object (struct iommufd_object):
 *  - @users: every holder.  The registry holds one while the object is
 *    published; each object that depends on it holds one (a HWPT on its
 *    IOAS), so does a kernel owner (the backend of a device, the devices
 *    of an automatic HWPT, the creator of an access), and so does each
 *    ioctl that looked it up and still runs.
 *  - @shortterm_users: the ioctls (and unmap notifications) using it now,
 *    plus a bias of one that lets new lookups in.  Retiring drops the
 *    bias, so nothing new can find the object, and waits for the rest.
 * IOMMU_DESTROY retires an object only when the registry's hold is its
 * last (else EBUSY).  A kernel owner drops its hold and unpublishes the
 * object in one step under the xa_lock, so user space cannot retire it
 * first, and then waits for the running ioctls before destroying it.
 *
 * Lock order, outermost first:
 *   idev->lock  >  ioas->mutex  >  the IOVA rwsem and domains of its
 *   io_pagetable (io_pagetable.h)  >  ictx->objects' xa_lock
 * A backend's own locks (the VFIO container's) come after idev->lock and
 * are never held while calling back into this core.  Nothing sleeps
 * under the xa_lock.  Locking several IOAS at once (CHANGE_PROCESS)
 * happens only under ictx->all_ioas_lock: every domains_rwsem, then every
 * iova_rwsem, each in object id order.  The same mutex is taken, alone,
 * to publish a new IOAS.  The ledger's spinlock (io_pagetable.h) is a
 * leaf, taken under any of these.
 */
#ifndef IOMMUFD_PRIVATE_H
#define IOMMUFD_PRIVATE_H

#include <linux/err.h>
#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "compat.h"
#include "io_pagetable.h"

struct file;
struct iommufd_ctx;
struct module;

/* What an object is; IOMMUFD_OBJ_ANY in lookups that take any type. */
enum iommufd_object_type {
	IOMMUFD_OBJ_ANY = 0,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_HWPT_PAGING,
	IOMMUFD_OBJ_DEVICE,
	IOMMUFD_OBJ_ACCESS,
	IOMMUFD_OBJ_SELFTEST,
	IOMMUFD_OBJ_HWPT_NESTED,
	IOMMUFD_OBJ_FAULT,
	IOMMUFD_OBJ_VIOMMU,
	IOMMUFD_OBJ_VDEVICE,
	IOMMUFD_OBJ_VEVENTQ,
	IOMMUFD_OBJ_HW_QUEUE,
	IOMMUFD_OBJ_MAX,
};

/**
 * struct iommufd_object - the registry's header, first in every object
 * @id: the object's id in its context (never 0)
 * @type: which structure it heads
 * @users: every holder (see above)
 * @shortterm_users: holders that are running ioctls, plus the lookup bias
 */
struct iommufd_object {
	u32 id;
	enum iommufd_object_type type;
	refcount_t users;
	refcount_t shortterm_users;
};

/**
 * struct iommufd_ctx - the state behind one open file of /dev/iommu
 * @file: the file this context belongs to
 * @objects: id -> struct iommufd_object; XA_ZERO_ENTRY marks a reserved id
 *           whose object is still being built or being destroyed
 * @destroy_wait: woken whenever an object's short-term users drop, so that
 *                a destroy waiting for in-flight ioctls can go on
 * @account_mode: who pays for pins of new mappings (IOMMU_OPTION_RLIMIT_MODE)
 * @ledger: what the context's pages pin and who pays, for fdinfo
 * @published: objects of each type that lookups can find, for fdinfo
 * @all_ioas_lock: held by whoever locks every IOAS of the context at once
 *                 (CHANGE_PROCESS); the lockdep nest lock for doing so
 * @vfio_lock: serializes creating the compat IOAS
 * @vfio_ioas: the IOAS the VFIO type1 compatibility ioctls act on; not a
 *             reference: read and cleared under the xa_lock of @objects,
 *             see vfio_compat.c
 * @vfio_type1_v1: a VFIO_TYPE1_IOMMU (not v2) container
 * @mmap_regions: region id -> struct iommufd_mmap_region, the pages of
 *                vIOMMUs that user space may map (viommu.c)
 * @vfio_no_iommu: a VFIO no-IOMMU device uses the context; no compat IOAS
 *                 may be made (iommufd_vfio_compat_set_no_iommu())
 * @kapi_lock: protects @kapi_groups
 * @kapi_groups: IOMMU group id -> the group state its devices bound with
 *               iommufd_device_bind() share (kapi.c)
 */
struct iommufd_ctx {
	struct file *file;
	struct xarray objects;
	wait_queue_head_t destroy_wait;
	enum iopt_account_mode account_mode;
	struct iopt_ledger ledger;
	atomic_t published[IOMMUFD_OBJ_MAX];
	struct mutex all_ioas_lock;
	struct mutex vfio_lock;
	struct iommufd_ioas *vfio_ioas;
	bool vfio_type1_v1;
	struct xarray mmap_regions;
	bool vfio_no_iommu;
	struct mutex kapi_lock;
	struct xarray kapi_groups;
};

/**
 * struct iommufd_ucmd - one ioctl call in flight
 * @cmd: the argument, copied in and zero-extended to the kernel's size by
 *       the dispatcher; handlers write their outputs here and send them
 *       back with iommufd_ucmd_respond()
 * @ictx: the context the call came in on
 * @user_size: the size word user space passed
 * @ubuffer: where the argument lives in user memory
 */
struct iommufd_ucmd {
	void *cmd;
	struct iommufd_ctx *ictx;
	u32 user_size;
	void __user *ubuffer;
};

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);
int iommufd_copy_arg(void *kbuf, size_t ksize, size_t min_size,
		     const void __user *uarg, u32 usize);

/* object.c: the per-context registry */
struct iommufd_object *
_iommufd_object_alloc(struct iommufd_ctx *ictx, size_t size,
		      enum iommufd_object_type type);

/*
 * A new @type object the size of *@ptr behind a reserved id, returned as
 * that type.  The header must come first so that kfree() of the header
 * frees the whole object.
 */
#define iommufd_object_alloc(ictx, ptr, type)				\
	iommufd_object_alloc_at(ictx, ptr, type, obj)

/* The same, for a structure whose header is @hdr_field (a.b.obj). */
#define iommufd_object_alloc_at(ictx, ptr, type, hdr_field)		\
	({								\
		struct iommufd_object *__hdr;				\
									\
		BUILD_BUG_ON(offsetof(typeof(*(ptr)), hdr_field));	\
		__hdr = _iommufd_object_alloc(ictx, sizeof(*(ptr)), type); \
		IS_ERR(__hdr) ? ERR_CAST(__hdr) :			\
			container_of(__hdr, typeof(*(ptr)), hdr_field);	\
	})

void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
void iommufd_object_abort(struct iommufd_ctx *ictx,
			  struct iommufd_object *obj);
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
struct iommufd_object *
iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
		   enum iommufd_object_type type);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
int iommufd_object_retire(struct iommufd_ctx *ictx, u32 id);
void iommufd_object_owner_retire(struct iommufd_ctx *ictx,
				 struct iommufd_object *obj);
bool iommufd_object_tombstone(struct iommufd_ctx *ictx, u32 id,
			      struct iommufd_object *obj);
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx);
int iommufd_destroy(struct iommufd_ucmd *ucmd);

/*
 * A long-term hold: the holder depends on @obj, which answers EBUSY to
 * IOMMU_DESTROY until iommufd_object_unref_user().
 */
static inline void iommufd_object_ref_user(struct iommufd_object *obj)
{
	refcount_inc(&obj->users);
}

static inline void iommufd_object_unref_user(struct iommufd_object *obj)
{
	refcount_dec(&obj->users);
}

/*
 * What a lookup takes, for a caller that reached @obj some other way (a
 * list of the IOAS); fails once the object is being retired.  Released
 * with iommufd_put_object().
 */
static inline bool iommufd_object_tryget(struct iommufd_object *obj)
{
	if (!refcount_inc_not_zero(&obj->shortterm_users))
		return false;
	refcount_inc(&obj->users);
	return true;
}

/* ioas.c: IO address spaces */

/**
 * struct iommufd_ioas - an IO address space
 * @obj: registry header
 * @mutex: protects @hwpt_list and the device counts of those HWPTs
 * @hwpt_list: struct iommufd_hwpt_paging on this IOAS (auto ones are reused
 *             by later attaches of compatible devices)
 * @iopt: the IOVA space and the domains mirroring it
 */
struct iommufd_ioas {
	struct iommufd_object obj;
	struct mutex mutex;
	struct list_head hwpt_list;
	struct io_pagetable iopt;
};

static inline struct iommufd_ioas *
iommufd_get_ioas(struct iommufd_ctx *ictx, u32 id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							 IOMMUFD_OBJ_IOAS);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_ioas, obj);
}

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx);
void iommufd_ioas_publish(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas);
void iommufd_ioas_destroy(struct iommufd_object *obj);
int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd);
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map(struct iommufd_ucmd *ucmd);
int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd);
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd);
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd);
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd);
int iommufd_option(struct iommufd_ucmd *ucmd);

/* io_pagetable.c entry points that need the context */
int iopt_map_user_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, void __user *uptr,
			unsigned long length, int iommu_prot, unsigned int flags);
int iopt_map_file_pages(struct iommufd_ctx *ictx, struct io_pagetable *iopt,
			unsigned long *iova, struct file *file, loff_t start,
			unsigned long length, int iommu_prot, unsigned int flags);

/*
 * device.c, hw_pagetable.c, hwpt_nested.c: devices and the HWPTs (hardware
 * page tables) they attach to.  A HWPT is one domain of a backend, of one
 * of two kinds: a paging HWPT mirrors an IOAS (the kernel manages its
 * page table); a nested HWPT is a stage-1 page table user space manages
 * (a guest's), translated again by the paging HWPT it is nested on, its
 * parent (the stage-2), which must have been made a nest parent.
 */
struct iommufd_device;
struct iommufd_vdevice;
struct iommufd_viommu_ops;
struct iommufd_dirty_bitmap;
struct iommufd_fault;

/**
 * struct iommufd_fault_record - one I/O page fault a device reported
 * @flags: enum iommu_hwpt_pgfault_flags
 * @pasid: the request's PASID, if IOMMU_PGFAULT_FLAGS_PASID_VALID
 * @grpid: its page request group
 * @perm: enum iommu_hwpt_pgfault_perm
 * @addr: the faulting IOVA
 */
struct iommufd_fault_record {
	u32 flags;
	u32 pasid;
	u32 grpid;
	u32 perm;
	u64 addr;
};

/**
 * struct iommufd_hw_report - what IOMMU_GET_HW_INFO tells about a device
 * @data: the driver's format-specific data (kmalloc'ed), or NULL
 * @length: bytes at @data
 * @type: enum iommu_hw_info_type (or the self-test's) of @data
 * @capabilities: enum iommufd_hw_capabilities
 * @max_pasid_log2: PASID bits the device may use
 */
struct iommufd_hw_report {
	void *data;
	u32 length;
	u32 type;
	u64 capabilities;
	u8 max_pasid_log2;
};

/**
 * struct iommufd_user_data - driver-specific data of an allocation, still
 *                            in user memory
 * @type: enum iommu_hwpt_data_type (or IOMMU_HWPT_DATA_SELFTEST)
 * @uptr: where user space put it
 * @len: its length in bytes as user space gave it (never 0)
 *
 * Only the backend knows the structure of each type; it reads it with
 * iommufd_user_data_copy().
 */
struct iommufd_user_data {
	u32 type;
	void __user *uptr;
	u32 len;
};

/**
 * struct iommufd_user_array - the driver-specific requests of one
 *                             IOMMU_HWPT_INVALIDATE, still in user memory
 * @type: enum iommu_hwpt_invalidate_data_type (or the self-test's)
 * @uptr: the first entry
 * @entry_len: bytes from one entry to the next, as user space laid them out
 * @entry_num: in: the number of entries; out (set by the backend): how
 *             many leading entries were carried out, also on failure
 */
struct iommufd_user_array {
	u32 type;
	void __user *uptr;
	u32 entry_len;
	u32 entry_num;
};

int iommufd_user_data_copy(void *dst, size_t size, size_t min_size,
			   const struct iommufd_user_data *data, u32 type);
int iommufd_user_array_copy(void *dst, size_t size, size_t min_size,
			    const struct iommufd_user_array *array, u32 type,
			    u32 index);

/**
 * struct iommufd_device_ops - what a device backend provides
 * @domain_alloc_paging: a new, empty paging domain fit for the device
 * @domain_alloc_nested: a new nested domain for the device on @parent (a
 *                       domain of this backend made with
 *                       IOMMU_HWPT_ALLOC_NEST_PARENT), as the driver reads
 *                       @data; its answer, EOPNOTSUPP included, is what
 *                       user space gets
 * @domain_free: release a domain from either allocation
 * @cache_invalidate_user: carry out the invalidation requests of @array on
 *                         a nested domain, setting array->entry_num to
 *                         the number carried out
 * @attach: make the device translate through @domain; on failure the
 *          previous attachment must still be in force (replace semantics)
 * @detach: block the device's DMA
 * @attach_pasid: make the device's requests tagged with @pasid (never
 *                IOMMU_NO_PASID) translate through @domain, in place of
 *                @old (NULL: the PASID was blocked); on failure @old
 *                stays in force.  The backend alone knows how many
 *                PASIDs the device has: one beyond them is EINVAL, as
 *                the kernel's iommu_attach_device_pasid() answers
 * @detach_pasid: block the requests tagged with @pasid again
 * @reserve_regions: reserve in @iopt (owner @owner) the IOVA the device
 *                   cannot use, such as its MSI window
 * @hw_info: fill a struct iommufd_hw_report
 * @can_enforce_coherency: whether the device's IOMMU can block no-snoop DMA,
 *                         so that its domains may be asked to
 * @set_dirty_tracking: start (@enable) or stop recording DMA writes in a
 *                      domain made with IOMMU_HWPT_ALLOC_DIRTY_TRACKING
 * @read_and_clear_dirty: report through iommufd_dirty_record() what of
 *                        [iova, iova + size) was written since its last
 *                        clear, and clear it unless @keep; a NULL @dirty
 *                        only clears (dirty.c)
 * @page_response: tell the device how its page request group ended
 *                 (@last is the group's last fault, @code an enum
 *                 iommufd_page_response_code); NULL for a backend whose
 *                 devices report no I/O page faults, which then cannot
 *                 attach to a HWPT with a fault queue
 * @user_pasid_table: the device's PASID table is part of the stage-1 user
 *                    space manages (SMMUv3's CD table, the mock's): a
 *                    fault with a PASID goes to the nested HWPT the device
 *                    is attached to, as the kernel's IOPF core routes it
 * @viommu_ops: the vIOMMU driver of the device's IOMMU for vIOMMU @type,
 *              or NULL when it has none (IOMMU_VIOMMU_ALLOC: EOPNOTSUPP)
 * @owner: the module whose code these are; every HWPT made through them
 *         holds it, since a HWPT outlives the devices it was made for
 *
 * Real devices (through VFIO and the kernel's IOMMU API) and the self-test's
 * mock devices are two implementations; the rest of the module does not
 * know which it talks to.
 */
struct iommufd_device_ops {
	struct iommu_domain *(*domain_alloc_paging)(struct iommufd_device *idev,
						    u32 flags);
	struct iommu_domain *(*domain_alloc_nested)(
		struct iommufd_device *idev, struct iommu_domain *parent,
		u32 flags, const struct iommufd_user_data *data);
	void (*domain_free)(struct iommu_domain *domain);
	int (*cache_invalidate_user)(struct iommu_domain *domain,
				     struct iommufd_user_array *array);
	int (*attach)(struct iommufd_device *idev, struct iommu_domain *domain);
	void (*detach)(struct iommufd_device *idev);
	int (*attach_pasid)(struct iommufd_device *idev, u32 pasid,
			    struct iommu_domain *domain,
			    struct iommu_domain *old);
	void (*detach_pasid)(struct iommufd_device *idev, u32 pasid);
	int (*reserve_regions)(struct iommufd_device *idev,
			       struct io_pagetable *iopt, void *owner);
	int (*hw_info)(struct iommufd_device *idev,
		       struct iommufd_hw_report *report);
	bool (*can_enforce_coherency)(struct iommufd_device *idev);
	int (*set_dirty_tracking)(struct iommu_domain *domain, bool enable);
	int (*read_and_clear_dirty)(struct iommu_domain *domain,
				    unsigned long iova, size_t size, bool keep,
				    struct iommufd_dirty_bitmap *dirty);
	void (*page_response)(struct iommufd_device *idev,
			      const struct iommufd_fault_record *last,
			      u32 code);
	bool user_pasid_table;
	const struct iommufd_viommu_ops *(*viommu_ops)(struct iommufd_device *idev,
							u32 type);
	struct module *owner;
};

/**
 * struct iommufd_hwpt - what every kind of HWPT has: what a device attaches to
 * @obj: registry header; its type is the kind, IOMMUFD_OBJ_HWPT_PAGING
 *       (struct iommufd_hwpt_paging) or IOMMUFD_OBJ_HWPT_NESTED
 *       (struct iommufd_hwpt_nested)
 * @ops: the backend that made @domain; only that backend's devices may
 *       attach
 * @domain: the domain
 * @ioas: the IOAS whose mappings DMA through @domain finally reaches: a
 *        paging HWPT's own, a nested HWPT's parent's.  A device's reserved
 *        IOVA (its MSI window) is reserved here, so a device behind a
 *        nested HWPT keeps its MSI doorbell in the stage-2.
 * @ndevices: devices attached, under ioas->mutex; each also holds a user
 * @fault: where its devices' I/O page faults go (IOMMU_HWPT_FAULT_ID_VALID),
 *         a users hold; NULL when nobody is told of them (fault.c)
 * @pasid_compat: made with IOMMU_HWPT_ALLOC_PASID: it may serve PASIDs of
 *                a device, and the non-PASID side of a device that has
 *                PASIDs attached (device_pasid.c)
 */
struct iommufd_hwpt {
	struct iommufd_object obj;
	const struct iommufd_device_ops *ops;
	struct iommu_domain *domain;
	struct iommufd_ioas *ioas;
	unsigned int ndevices;
	struct iommufd_fault *fault;
	bool pasid_compat;
};

/**
 * struct iommufd_hwpt_paging - a paging domain mirroring an IOAS
 * @common: the HWPT; its @ioas is the IOAS mirrored (it holds a user of
 *          it), and its backend's module is held
 * @hwpt_item: in ioas->hwpt_list, from allocation until destruction, or
 *             for an automatic one until its last device left
 * @auto_domain: made by attaching a device to the IOAS itself; its devices
 *               are its owners, and the last one to leave destroys it
 * @nest_parent: made with IOMMU_HWPT_ALLOC_NEST_PARENT: nested HWPTs (and
 *               vIOMMUs) may use it as their stage-2
 * @enforce_cc: the domain blocks no-snoop DMA (VFIO_DMA_CC_IOMMU)
 * @dirty_tracking: made with IOMMU_HWPT_ALLOC_DIRTY_TRACKING
 * @dirty_enabled: recording DMA writes now; under the write side of
 *                 ioas->iopt.iova_rwsem, read under either side
 */
struct iommufd_hwpt_paging {
	struct iommufd_hwpt common;
	struct list_head hwpt_item;
	bool auto_domain;
	bool nest_parent;
	bool enforce_cc;
	bool dirty_tracking;
	bool dirty_enabled;
};

/**
 * struct iommufd_hwpt_nested - a user-managed stage-1 domain
 * @common: the HWPT; its @ioas is the parent's
 * @parent: the nest parent translating its output (it holds a user of it)
 * @viommu: the vIOMMU it was made through (a user of it), or NULL
 */
struct iommufd_hwpt_nested {
	struct iommufd_hwpt common;
	struct iommufd_hwpt_paging *parent;
	struct iommufd_viommu *viommu;
};

/* The paging HWPT @hwpt is, or NULL for another kind. */
static inline struct iommufd_hwpt_paging *
iommufd_hwpt_to_paging(struct iommufd_hwpt *hwpt)
{
	if (hwpt->obj.type != IOMMUFD_OBJ_HWPT_PAGING)
		return NULL;
	return container_of(hwpt, struct iommufd_hwpt_paging, common);
}

/* May nested HWPTs or vIOMMUs be built on @hwpt? */
static inline bool
iommufd_hwpt_paging_is_nest_parent(const struct iommufd_hwpt_paging *hwpt)
{
	return hwpt->nest_parent;
}

/**
 * struct iommufd_device - a device whose DMA this context translates
 * @obj: registry header (its id is the dev_id of the ABI); its backend
 *       owns it from iommufd_backend_bind() to iommufd_backend_unbind()
 * @lock: serializes attach and detach, protects @hwpt
 * @hwpt: where its DMA goes now (a paging or a nested HWPT), NULL when
 *        blocked
 * @ictx: the context
 * @ops: its backend
 * @priv: the backend's state
 * @vdev: its vDEVICE, if any (viommu.c), under @lock
 * @pasids: PASID -> struct iommufd_hwpt its requests tagged with that
 *          PASID go to (device_pasid.c); each entry holds a device use
 *          of the HWPT.  Changed under @lock; IOMMU_NO_PASID is never a
 *          key, its HWPT is @hwpt
 */
struct iommufd_device {
	struct iommufd_object obj;
	struct mutex lock;
	struct iommufd_hwpt *hwpt;
	struct iommufd_ctx *ictx;
	const struct iommufd_device_ops *ops;
	void *priv;
	struct iommufd_vdevice *vdev;
	struct xarray pasids;
};

struct iommufd_device *iommufd_device_create(struct iommufd_ctx *ictx,
					     const struct iommufd_device_ops *ops,
					     void *priv);
void iommufd_device_destroy(struct iommufd_object *obj);
struct iommufd_device *
iommufd_backend_bind(struct iommufd_ctx *ictx,
		     const struct iommufd_device_ops *ops, void *priv);
void iommufd_backend_unbind(struct iommufd_device *idev);

/* What an attach asks of the device's present state (see device.c). */
enum iommufd_attach_mode {
	IOMMUFD_ATTACH_ANY,
	IOMMUFD_ATTACH_FIRST,
	IOMMUFD_ATTACH_REPLACE,
};

int iommufd_device_change_pt(struct iommufd_device *idev, u32 *pt_id,
			     enum iommufd_attach_mode mode);
int iommufd_device_attach(struct iommufd_device *idev, u32 *pt_id);
int iommufd_device_replace(struct iommufd_device *idev, u32 *pt_id);
void iommufd_device_detach(struct iommufd_device *idev);
int iommufd_dkms_device_attach(struct iommufd_ucmd *ucmd);
int iommufd_dkms_device_detach(struct iommufd_ucmd *ucmd);
int iommufd_get_hw_info(struct iommufd_ucmd *ucmd);

/* device_pasid.c: what a device's PASIDs are attached to */
int iommufd_device_pasid_attach(struct iommufd_device *idev, u32 pasid,
				u32 *pt_id);
int iommufd_device_pasid_replace(struct iommufd_device *idev, u32 pasid,
				 u32 *pt_id);
void iommufd_device_pasid_detach(struct iommufd_device *idev, u32 pasid);
u32 iommufd_device_pasid_hwpt_id(struct iommufd_device *idev, u32 pasid);
int iommufd_device_pasid_rid_check(struct iommufd_device *idev,
				   struct iommufd_hwpt *hwpt);
struct iommufd_hwpt *iommufd_device_pasid_hwpt(struct iommufd_device *idev,
					       u32 pasid);
void iommufd_device_pasid_detach_all(struct iommufd_device *idev);
int iommufd_dkms_device_pasid(struct iommufd_ucmd *ucmd);

/*
 * host_device.c: a real device on the host's IOMMU, through the kernel's
 * IOMMU API.  Its backend state is a struct iommufd_host_device (the
 * iommufd_device's @priv) in a struct iommufd_host_group, kept by
 * whoever holds the group's DMA ownership: iommufd_vfio for the groups
 * of its containers, kapi.c for devices bound through the in-kernel API.
 * Lock order: idev->lock > hgroup->lock.
 */

/**
 * struct iommufd_host_group - an IOMMU group whose devices we translate
 * @group: the group
 * @lock: protects @domain, @nattached and the members' @attached
 * @domain: what the group is attached to, NULL while its DMA is blocked
 * @nattached: devices of the group attached to @domain
 */
struct iommufd_host_group {
	struct iommu_group *group;
	struct mutex lock;
	struct iommu_domain *domain;
	unsigned int nattached;
};

/**
 * struct iommufd_host_device - a device of such a group
 * @dev: the device
 * @hgroup: its group
 * @attached: counted in hgroup->nattached
 */
struct iommufd_host_device {
	struct device *dev;
	struct iommufd_host_group *hgroup;
	bool attached;
};

extern const struct iommufd_device_ops iommufd_host_device_ops;
void iommufd_host_group_init(struct iommufd_host_group *hgroup,
			     struct iommu_group *group);
void iommufd_host_group_destroy(struct iommufd_host_group *hgroup);
struct iommu_domain *
iommufd_host_group_domain(struct iommufd_host_group *hgroup);
int iommufd_host_check_coherent(struct device *dev);
int iommufd_host_check_msi(struct iommu_group *group, bool allow_unsafe);

/* fdinfo.c and ledger.c: what an administrator can see */
struct seq_file;
void iommufd_show_fdinfo(struct seq_file *m, struct file *file);
struct dentry;
extern struct dentry *iommufd_debugfs_dir;
void iommufd_ledger_debugfs_init(void);
void iommufd_ledger_debugfs_exit(void);

/*
 * main.c: contexts for kernel users (the VFIO backend); the calls of the
 * in-kernel API (iommufd_ctx_from_file() and the rest) are the kernel's
 * declarations, in compat/kernel_iommufd.h.
 */
struct iommufd_ctx *iommufd_ctx_create(void);

struct iommufd_hwpt_paging *
iommufd_hwpt_paging_alloc(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas,
			  struct iommufd_device *idev, u32 flags,
			  bool auto_domain);
void iommufd_hwpt_paging_destroy(struct iommufd_object *obj);
bool iommufd_hwpt_get_device(struct iommufd_hwpt *hwpt);
void iommufd_hwpt_put_device(struct iommufd_ctx *ictx,
			     struct iommufd_hwpt *hwpt);
int iommufd_hwpt_check_alloc_flags(enum iommufd_object_type kind, u32 flags);
int iommufd_hwpt_alloc(struct iommufd_ucmd *ucmd);

/* hwpt_nested.c: nested HWPTs and their cache invalidation */
struct iommufd_hwpt_nested *
iommufd_hwpt_nested_alloc(struct iommufd_ctx *ictx,
			  struct iommufd_hwpt_paging *parent,
			  struct iommufd_device *idev, u32 flags,
			  const struct iommufd_user_data *data);
void iommufd_hwpt_nested_destroy(struct iommufd_object *obj);
int iommufd_hwpt_invalidate(struct iommufd_ucmd *ucmd);

/* dirty.c: dirty tracking on paging HWPTs */
int iommufd_hwpt_set_dirty_tracking(struct iommufd_ucmd *ucmd);
int iommufd_hwpt_get_dirty_bitmap(struct iommufd_ucmd *ucmd);
void iommufd_dirty_record(struct iommufd_dirty_bitmap *dirty,
			  unsigned long iova, unsigned long length);
int iommufd_domain_set_dirty_tracking(struct iommu_domain *domain,
				      bool enable);
int iommufd_domain_read_and_clear_dirty(struct iommu_domain *domain,
					unsigned long iova, size_t size,
					bool keep,
					struct iommufd_dirty_bitmap *dirty);

static inline struct iommufd_hwpt_paging *
iommufd_get_hwpt_paging(struct iommufd_ctx *ictx, u32 id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							 IOMMUFD_OBJ_HWPT_PAGING);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_hwpt_paging, common.obj);
}

/* fault.c: fault queues, where devices' I/O page faults go */

/**
 * struct iommufd_fault - a fault queue (IOMMU_FAULT_QUEUE_ALLOC)
 * @obj: registry header; each HWPT delivering to it holds a user, and so
 *       does its file until released
 * @mutex: protects the rest; taken after a device's lock (fault.c)
 * @unread: struct iommufd_fault_group reported and not read, oldest first
 * @awaiting: cookie -> struct iommufd_fault_group read and not answered
 * @closed: the file is released: every fault is answered at once
 * @wait: woken when a group is reported (poll)
 * @ictx: the context; its file is held by the queue's file
 */
struct iommufd_fault {
	struct iommufd_object obj;
	struct mutex mutex;
	struct list_head unread;
	struct xarray awaiting;
	bool closed;
	wait_queue_head_t wait;
	struct iommufd_ctx *ictx;
};

int iommufd_fault_alloc(struct iommufd_ucmd *ucmd);
void iommufd_fault_destroy(struct iommufd_object *obj);
struct iommufd_fault *iommufd_fault_get(struct iommufd_ctx *ictx, u32 id);
void iommufd_fault_put(struct iommufd_fault *fault);
int iommufd_fault_report(struct iommufd_device *idev,
			 const struct iommufd_fault_record *records,
			 unsigned int nr);
void iommufd_fault_device_leaves(struct iommufd_fault *fault,
				 struct iommufd_device *idev);
void iommufd_fault_pasid_leaves(struct iommufd_fault *fault,
				struct iommufd_device *idev, u32 pasid);

/* vfio_compat.c: the VFIO type1 ioctls on an IOAS */
int iommufd_vfio_ioas(struct iommufd_ucmd *ucmd);
struct iommufd_ctx *iommufd_vfio_compat_ctx_create(bool v2);
int iommufd_vfio_compat_attach(struct iommufd_ctx *ictx,
			       struct iommufd_device *idev);
long iommufd_vfio_compat_check_extension(struct iommufd_ctx *ictx,
					 unsigned long ext);
long iommufd_vfio_compat_ioctl(struct iommufd_ctx *ictx, unsigned int cmd,
			       unsigned long arg);

/* selftest.c: the mock IOMMU, reachable only with the selftest parameter */
extern bool iommufd_selftest_enabled;
int iommufd_test(struct iommufd_ucmd *ucmd);
void iommufd_selftest_destroy(struct iommufd_object *obj);
/* selftest_iopf.c: the mock device's page requests */
struct iommu_test_cmd;
int mock_iopf_trigger(struct iommufd_device *idev,
		      const struct iommu_test_cmd *cmd);
void mock_iopf_page_response(struct iommufd_device *idev,
			     const struct iommufd_fault_record *last, u32 code);
void mock_iopf_debugfs_init(void);

/* access.c: in-kernel users of an IOAS (emulated devices, the self-test) */

/*
 * struct iommufd_access_ops (what the user of an access provides: whether
 * it pins pages, and the ->unmap callback that drops its pins inside a
 * range about to be unmapped, called without locks of ours held) is the
 * kernel's own, from compat/kernel_iommufd.h.
 */

/**
 * struct iommufd_access - an in-kernel user of an IOAS
 * @obj: registry header
 * @ictx: the context
 * @ops: the user's callbacks
 * @data: the user's argument to @ops
 * @ioas_lock: protects @ioas and @iopt_access_id
 * @ioas: the IOAS it reaches memory through, NULL when detached
 * @iopt_access_id: its index in ioas->iopt.access_list
 */
struct iommufd_access {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	const struct iommufd_access_ops *ops;
	void *data;
	struct mutex ioas_lock;
	struct iommufd_ioas *ioas;
	u32 iopt_access_id;
};

struct iommufd_access *iommufd_access_create_internal(struct iommufd_ctx *ictx);
void iommufd_access_destroy_internal(struct iommufd_access *access);
void iommufd_access_destroy_object(struct iommufd_object *obj);
void iommufd_access_notify_unmap(struct io_pagetable *iopt, unsigned long iova,
				 unsigned long length);

/*
 * viommu.c and veventq.c: virtual IOMMUs and what is built on them.
 *
 * Lock order: idev->lock > viommu->veventqs_rwsem > a vEVENTQ's spinlock,
 * and idev->lock > viommu->vdevs' xa_lock (an event or an attach of a
 * device looks up its vDEVICE under its lock).
 */

struct iommufd_viommu;
struct iommufd_hw_queue;

int iommufd_user_data_respond(const struct iommufd_user_data *data,
			       u32 type, const void *src, size_t size,
			       size_t min_size);

/**
 * struct iommufd_viommu_ops - what a vIOMMU driver provides
 * @init: set up @viommu on the nest parent's @parent domain; @data is
 *        the user's type-specific data, NULL when none was passed
 * @destroy: undo @init; the core has torn down everything built on it
 * @cache_invalidate: carry out the requests of @array (IOMMU_HWPT_INVALIDATE
 *                    on the vIOMMU), setting array->entry_num to how many
 *                    were handled
 * @attach_needs_vdevice: a device may attach to a nested HWPT of the
 *                        vIOMMU only once it has a vDEVICE on it
 * @hw_queue_type: the IOMMU_HW_QUEUE_ALLOC type it offers, 0 for none
 * @hw_queue_init: let the hardware read queue @index of @hw_queue, whose
 *                 memory starts at physical address @base_pa
 * @hw_queue_destroy: undo @hw_queue_init
 *
 * Optional ops are NULL.  The self-test's mock vIOMMU is one driver; a
 * host driver with vIOMMU support would be another.
 */
struct iommufd_viommu_ops {
	int (*init)(struct iommufd_viommu *viommu, struct iommu_domain *parent,
		    const struct iommufd_user_data *data);
	void (*destroy)(struct iommufd_viommu *viommu);
	int (*cache_invalidate)(struct iommufd_viommu *viommu,
				struct iommufd_user_array *array);
	bool attach_needs_vdevice;
	u32 hw_queue_type;
	int (*hw_queue_init)(struct iommufd_hw_queue *hw_queue, u32 index,
			     phys_addr_t base_pa);
	void (*hw_queue_destroy)(struct iommufd_hw_queue *hw_queue);
};

/**
 * struct iommufd_viommu - the part of a physical IOMMU given to one VM
 * @obj: registry header
 * @ictx: the context
 * @hwpt: the nest parent (stage 2) everything on it shares; a user of it
 * @dev_ops: the backend of the device it was made for; only that
 *           backend's devices may have vDEVICEs on it
 * @ops: its driver
 * @priv: the driver's state
 * @type: enum iommu_viommu_type, or the self-test's
 * @vdevs: virtual device ID -> struct iommufd_vdevice; the xa_lock makes
 *         a lookup safe against the vDEVICE's destruction
 * @veventqs_rwsem: taken for reading by whoever queues an event, for
 *                  writing to add or remove a vEVENTQ
 * @veventqs: enum iommu_veventq_type -> struct iommufd_veventq
 *
 * Each vDEVICE, vEVENTQ, HW queue, nested HWPT and mmap() of its pages
 * holds a user of it: IOMMU_DESTROY answers EBUSY until they are gone.
 */
struct iommufd_viommu {
	struct iommufd_object obj;
	struct iommufd_ctx *ictx;
	struct iommufd_hwpt_paging *hwpt;
	const struct iommufd_device_ops *dev_ops;
	const struct iommufd_viommu_ops *ops;
	void *priv;
	u32 type;
	struct xarray vdevs;
	struct rw_semaphore veventqs_rwsem;
	struct xarray veventqs;
};

/**
 * struct iommufd_vdevice - a device as the guest sees it behind a vIOMMU
 * @obj: registry header
 * @viommu: its vIOMMU (a user of it)
 * @idev: the physical device; no hold: a device that is unbound takes
 *        its vDEVICE down first (iommufd_vdevice_device_gone())
 * @virt_id: the ID the guest knows the device by, the key in viommu->vdevs
 */
struct iommufd_vdevice {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;
	struct iommufd_device *idev;
	u64 virt_id;
};

/**
 * struct iommufd_hw_queue - guest memory the IOMMU reads a queue from
 * @obj: registry header
 * @viommu: its vIOMMU (a user of it)
 * @access: the internal access keeping the queue's pages pinned and
 *          their IOVA mapped in the nest parent
 * @base_iova: the guest physical address (nest parent IOVA) of the queue
 * @length: bytes of queue memory
 * @type: enum iommu_hw_queue_type, or the self-test's
 * @index: which queue of @type on the vIOMMU
 * @live: the driver's hw_queue_init succeeded, so its destroy must run
 * @priv: the driver's state
 */
struct iommufd_hw_queue {
	struct iommufd_object obj;
	struct iommufd_viommu *viommu;
	struct iommufd_access *access;
	u64 base_iova;
	u64 length;
	u32 type;
	u32 index;
	bool live;
	void *priv;
};

int iommufd_viommu_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_viommu_destroy(struct iommufd_object *obj);
int iommufd_vdevice_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_vdevice_destroy(struct iommufd_object *obj);
void iommufd_vdevice_device_gone(struct iommufd_device *idev);
int iommufd_hw_queue_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_hw_queue_destroy(struct iommufd_object *obj);
int iommufd_viommu_invalidate(struct iommufd_viommu *viommu,
			      struct iommufd_user_array *array);
struct iommufd_hwpt *
iommufd_viommu_alloc_hwpt_nested(struct iommufd_ctx *ictx,
				 struct iommufd_viommu *viommu,
				 struct iommufd_device *idev, u32 flags,
				 const struct iommufd_user_data *data);
struct iommufd_viommu *iommufd_device_viommu(struct iommufd_device *idev);
int iommufd_viommu_attach_check(struct iommufd_hwpt *hwpt,
				struct iommufd_device *idev);
bool iommufd_viommu_has_virt_id(struct iommufd_viommu *viommu,
				struct iommufd_device *idev, u64 *virt_id);
struct iommufd_device *iommufd_viommu_find_device(struct iommufd_viommu *viommu,
						  u64 virt_id);

static inline struct iommufd_viommu *
iommufd_get_viommu(struct iommufd_ctx *ictx, u32 id)
{
	struct iommufd_object *obj = iommufd_get_object(ictx, id,
							 IOMMUFD_OBJ_VIOMMU);

	if (IS_ERR(obj))
		return ERR_CAST(obj);
	return container_of(obj, struct iommufd_viommu, obj);
}

/* The pages of a vIOMMU user space may mmap() from /dev/iommu. */
int iommufd_mmap_region_add(struct iommufd_ctx *ictx,
			    struct iommufd_object *owner, phys_addr_t base,
			    size_t length, bool mmio, u64 *offset);
void iommufd_mmap_region_remove(struct iommufd_ctx *ictx, u64 offset);
int iommufd_fops_mmap(struct file *file, struct vm_area_struct *vma);

/* veventq.c: vEVENTQs, the files events of a vIOMMU are read from */
int iommufd_veventq_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_veventq_destroy(struct iommufd_object *obj);
int iommufd_viommu_report_event(struct iommufd_viommu *viommu, u32 type,
				const void *data, size_t len);

/* selftest_viommu.c: the mock vIOMMU's test ops */
struct iommu_test_cmd;
int iommufd_test_dev_check_cache(struct iommufd_ucmd *ucmd,
				 struct iommu_test_cmd *cmd);
int iommufd_test_trigger_vevent(struct iommufd_ucmd *ucmd,
				struct iommu_test_cmd *cmd);

#endif /* IOMMUFD_PRIVATE_H */
