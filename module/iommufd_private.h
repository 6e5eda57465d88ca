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
 * A context (struct iommufd_ctx) is one open file of /dev/iommu.  It owns
 * an xarray of objects keyed by the id user space sees.  Each object starts
 * as a reserved id (invisible to lookups), becomes visible when it is fully
 * built (iommufd_object_finalize), and disappears either through
 * IOMMU_DESTROY or when the file is released.
 *
 * Two counters guard an object's life:
 *  - @shortterm_users counts ioctls that looked the object up and are still
 *    running, plus one bias while the object is published.
 *  - @users counts every holder: the registry (one), each running ioctl
 *    (also counted above) and each object that depends on this one (a HWPT
 *    on its IOAS, say).  users - shortterm_users is therefore the number of
 *    dependents, and IOMMU_DESTROY fails with EBUSY while it is not zero.
 * Destroy hides the object from lookups first, then waits for the running
 * ioctls to drain, so no ioctl ever sees its object freed underneath it.
 *
 * Lock order: ictx->objects (xa_lock) is innermost; nothing sleeps under it.
 */
#ifndef IOMMUFD_PRIVATE_H
#define IOMMUFD_PRIVATE_H

#include <linux/refcount.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include "compat.h"

struct file;
struct iommufd_ctx;

enum iommufd_object_type {
	IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_ANY = IOMMUFD_OBJ_NONE,
	IOMMUFD_OBJ_IOAS,
	IOMMUFD_OBJ_MAX,
};

struct iommufd_object {
	refcount_t shortterm_users;
	refcount_t users;
	enum iommufd_object_type type;
	u32 id;
};

/**
 * struct iommufd_ctx - the state behind one open file of /dev/iommu
 * @file: the file this context belongs to
 * @objects: id -> struct iommufd_object; XA_ZERO_ENTRY marks a reserved id
 *           whose object is still being built or being destroyed
 * @destroy_wait: woken whenever an object's short-term users drop, so that
 *                a destroy waiting for in-flight ioctls can go on
 */
struct iommufd_ctx {
	struct file *file;
	struct xarray objects;
	wait_queue_head_t destroy_wait;
};

/*
 * One ioctl call in flight.  The dispatcher copies the user's argument into
 * @cmd (zero-extended to the kernel's size) before calling the handler; the
 * handler writes its outputs back with iommufd_ucmd_respond().
 */
struct iommufd_ucmd {
	struct iommufd_ctx *ictx;
	void __user *ubuffer;
	u32 user_size;
	void *cmd;
};

int iommufd_ucmd_respond(struct iommufd_ucmd *ucmd, size_t cmd_len);

/* object.c: the per-context registry */
struct iommufd_object *_iommufd_object_alloc(struct iommufd_ctx *ictx,
					     size_t size,
					     enum iommufd_object_type type);
#define iommufd_object_alloc(ictx, ptr, type)                                  \
	container_of(_iommufd_object_alloc(ictx,                              \
					   sizeof(*(ptr)) +                    \
						   BUILD_BUG_ON_ZERO(          \
							   offsetof(typeof(*(ptr)), \
								    obj) != 0), \
					   type),                              \
		     typeof(*(ptr)), obj)

void iommufd_object_finalize(struct iommufd_ctx *ictx,
			     struct iommufd_object *obj);
void iommufd_object_abort(struct iommufd_ctx *ictx,
			  struct iommufd_object *obj);
void iommufd_object_abort_and_destroy(struct iommufd_ctx *ictx,
				      struct iommufd_object *obj);
struct iommufd_object *iommufd_get_object(struct iommufd_ctx *ictx, u32 id,
					  enum iommufd_object_type type);
void iommufd_put_object(struct iommufd_ctx *ictx, struct iommufd_object *obj);
int iommufd_object_remove(struct iommufd_ctx *ictx, u32 id);
void iommufd_objects_destroy_all(struct iommufd_ctx *ictx);
int iommufd_destroy(struct iommufd_ucmd *ucmd);

/*
 * A long-term reference: the holder depends on @obj and keeps IOMMU_DESTROY
 * of it failing with EBUSY until iommufd_object_unref_user().
 */
static inline void iommufd_object_ref_user(struct iommufd_object *obj)
{
	refcount_inc(&obj->users);
}

static inline void iommufd_object_unref_user(struct iommufd_object *obj)
{
	refcount_dec(&obj->users);
}

/* ioas.c: IO address spaces */
struct iommufd_ioas {
	struct iommufd_object obj;
};

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd);
void iommufd_ioas_destroy(struct iommufd_object *obj);

#endif /* IOMMUFD_PRIVATE_H */
