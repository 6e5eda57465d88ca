/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufd_vfio: iommufd-dkms as a VFIO IOMMU backend.
 *
 * VFIO keeps the device (BARs, interrupts, reset) and its group's DMA
 * ownership; this module receives the container's groups through VFIO's
 * backend interface and makes each device an iommufd device object whose
 * DMA goes through real IOMMU domains (the kernel's IOMMU API).
 *
 * Lock order: container->bind_lock, then idev->lock (core), then
 * container->lock, then a group's host.lock (core).  Unbinding a device waits for the ioctls using it,
 * which may take the other two, so it happens under bind_lock alone.
 * VFIO calls attach_group/detach_group/release with its container lock
 * held, but passes the container's own ioctls (link, type1 map...)
 * without it: those hold the container themselves (see @users).
 * Nothing here calls back into VFIO.
 */
#ifndef IOMMUFD_VFIO_BACKEND_H
#define IOMMUFD_VFIO_BACKEND_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>

#include "../iommufd_private.h"

struct vfio_backend_group;

/**
 * struct vfio_backend_container - the state behind one VFIO container
 * @users: VFIO's hold from open to release, plus one per container ioctl
 *         running here; the last one drops @ictx and frees the state
 * @bind_lock: serializes making and dropping the devices' iommufd objects
 *             (link, attach_group, detach_group); changes to @groups and
 *             @ictx happen under it as well as under @lock
 * @lock: protects everything below and the groups' attachment state
 * @groups: struct vfio_backend_group
 * @ictx: the iommufd its devices belong to (the user's after
 *        IOMMUFD_DKMS_VFIO_LINK, our own in type1 mode); NULL before
 * @type1: serving the VFIO type1 ABI through @ictx's compat IOAS
 * @released: VFIO let go of the container (its last group left); set
 *            under both locks, after which ioctls still running here get
 *            the answer VFIO gives a container without an IOMMU
 * @rcu: the memory is freed a grace period after the last put
 */
struct vfio_backend_container {
	refcount_t users;
	struct mutex bind_lock;
	struct mutex lock;
	struct list_head groups;
	struct iommufd_ctx *ictx;
	bool type1;
	bool released;
	struct rcu_head rcu;
};

/**
 * struct vfio_backend_group - an IOMMU group of the container
 * @next: in container->groups
 * @container: the container
 * @host: the group as the core's host devices share it (VFIO holds its
 *        DMA ownership); host.group is the IOMMU group
 * @devices: struct vfio_backend_device
 */
struct vfio_backend_group {
	struct list_head next;
	struct vfio_backend_container *container;
	struct iommufd_host_group host;
	struct list_head devices;
};

/**
 * struct vfio_backend_device - one device of a group
 * @next: in group->devices
 * @host: the device on the host IOMMU (host.dev), the @priv of @idev
 * @idev: its iommufd object, NULL while the container is not linked
 */
struct vfio_backend_device {
	struct list_head next;
	struct iommufd_host_device host;
	struct iommufd_device *idev;
};

extern bool vfio_backend_allow_unsafe_interrupts;

#endif /* IOMMUFD_VFIO_BACKEND_H */
