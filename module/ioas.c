// SPDX-License-Identifier: GPL-2.0
/*
 * The IOAS object and the ioctls that act on one (or, for CHANGE_PROCESS,
 * on all of them).
 *
 * This file is the translation layer between the uapi structs and the IO
 * page table: it decodes flags into IOMMU protections, applies the errno
 * order user space relies on (an unknown flag is EOPNOTSUPP before a range
 * is EOVERFLOW before a missing direction is EINVAL, and all of those come
 * before the object lookup), and writes outputs back.  Everything that
 * touches areas, domains or pins lives in io_pagetable.c and pages.c.
 */
#include <linux/err.h>
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <uapi/linux/iommufd.h>

#include "iommufd_private.h"

/* --- the object ---------------------------------------------------------- */

struct iommufd_ioas *iommufd_ioas_alloc(struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *new_ioas;

	new_ioas = iommufd_object_alloc(ictx, new_ioas, IOMMUFD_OBJ_IOAS);
	if (!IS_ERR(new_ioas)) {
		iopt_init_table(&new_ioas->iopt);
		mutex_init(&new_ioas->mutex);
		INIT_LIST_HEAD(&new_ioas->hwpt_list);
	}
	return new_ioas;
}

/*
 * Runs once no HWPT, device or access depends on the IOAS any more (they
 * each hold a user reference), so no domain can be left in the table and
 * removing every area cannot meet an access pin.
 */
void iommufd_ioas_destroy(struct iommufd_object *obj)
{
	struct iommufd_ioas *victim = container_of(obj, struct iommufd_ioas,
						   obj);
	unsigned long bytes;

	WARN_ON(iopt_unmap_all(&victim->iopt, &bytes));
	WARN_ON(!list_empty(&victim->hwpt_list));
	iopt_destroy_table(&victim->iopt);
	mutex_destroy(&victim->mutex);
}

/*
 * CHANGE_PROCESS moves every pin of the context from one payer to another
 * under all_ioas_lock: an IOAS appearing in the middle could pin pages it
 * shares (by IOAS_COPY) with one of the set while the amounts are taken,
 * and charges would drift.  So an IOAS becomes visible only under it.
 */
void iommufd_ioas_publish(struct iommufd_ctx *ictx, struct iommufd_ioas *ioas)
{
	mutex_lock(&ictx->all_ioas_lock);
	iommufd_object_finalize(ictx, &ioas->obj);
	mutex_unlock(&ictx->all_ioas_lock);
}

int iommufd_ioas_alloc_ioctl(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_alloc *arg = ucmd->cmd;
	struct iommufd_ioas *new_ioas;
	int err;

	/* No IOAS_ALLOC flag is defined yet. */
	if (arg->flags)
		return -EOPNOTSUPP;

	new_ioas = iommufd_ioas_alloc(ucmd->ictx);
	if (IS_ERR(new_ioas))
		return PTR_ERR(new_ioas);

	/* Publish only once user space is sure to learn the id. */
	arg->out_ioas_id = new_ioas->obj.id;
	err = iommufd_ucmd_respond(ucmd, sizeof(*arg));
	if (err) {
		iommufd_object_abort_and_destroy(ucmd->ictx, &new_ioas->obj);
		return err;
	}
	iommufd_ioas_publish(ucmd->ictx, new_ioas);
	return 0;
}

/* --- the IOVA space: usable and allowed ranges --------------------------- */

/*
 * IOMMU_IOAS_IOVA_RANGES: report every stretch of IOVA no reserved range
 * covers.  The count is always the full one, so a caller whose array was
 * short (EMSGSIZE) knows how much room to make.
 */
int iommufd_ioas_iova_ranges(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_iova_ranges *arg = ucmd->cmd;
	struct iommu_iova_range __user *out;
	struct iopt_hole_iter hole;
	struct iommufd_ioas *ioas;
	u32 room, found = 0;
	int err = 0;

	if (arg->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, arg->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	room = arg->num_iovas;
	out = u64_to_user_ptr(arg->allowed_iovas);
	down_read(&ioas->iopt.iova_rwsem);
	iopt_for_each_hole(&hole, &ioas->iopt) {
		struct iommu_iova_range one = {
			.start = hole.start,
			.last = hole.last,
		};

		if (found < room && copy_to_user(out + found, &one, sizeof(one))) {
			err = -EFAULT;
			break;
		}
		found++;
	}
	arg->out_iova_alignment = ioas->iopt.iova_alignment;
	up_read(&ioas->iopt.iova_rwsem);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	if (err)
		return err;

	arg->num_iovas = found;
	err = iommufd_ucmd_respond(ucmd, sizeof(*arg));
	if (!err && found > room)
		err = -EMSGSIZE;
	return err;
}

static void allowed_tree_free(struct rb_root_cached *tree)
{
	struct interval_tree_node *node, *next;

	for (node = interval_tree_iter_first(tree, 0, ULONG_MAX); node;
	     node = next) {
		next = interval_tree_iter_next(node, 0, ULONG_MAX);
		interval_tree_remove(node, tree);
		kfree(container_of(node, struct iopt_allowed, node));
	}
}

/*
 * Read @count ranges from user space into @tree.  Each range must be
 * non-empty (start below last), fit an unsigned long and not overlap a
 * range read before it.
 */
static int allowed_tree_build(struct rb_root_cached *tree,
			      const struct iommu_iova_range __user *in,
			      u32 count)
{
	struct iommu_iova_range want;
	struct iopt_allowed *node;
	u32 n;

	for (n = 0; n < count; n++) {
		if (copy_from_user(&want, &in[n], sizeof(want)))
			return -EFAULT;
		if (want.last > ULONG_MAX || want.start >= want.last ||
		    interval_tree_iter_first(tree, want.start, want.last))
			return -EINVAL;

		node = kzalloc(sizeof(*node), GFP_KERNEL_ACCOUNT);
		if (!node)
			return -ENOMEM;
		node->node.start = want.start;
		node->node.last = want.last;
		interval_tree_insert(&node->node, tree);
	}
	return 0;
}

/*
 * IOMMU_IOAS_ALLOW_IOVAS: replace the set of ranges automatic IOVA
 * allocation may use.  The new set is built completely before it is
 * swapped in, so a bad entry anywhere leaves the old set untouched.
 */
int iommufd_ioas_allow_iovas(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_allow_iovas *arg = ucmd->cmd;
	struct rb_root_cached tree = RB_ROOT_CACHED;
	struct iommufd_ioas *ioas;
	int err;

	if (arg->__reserved)
		return -EOPNOTSUPP;
	ioas = iommufd_get_ioas(ucmd->ictx, arg->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	err = allowed_tree_build(&tree, u64_to_user_ptr(arg->allowed_iovas),
				 arg->num_iovas);
	/* On success @tree comes back holding the old set. */
	if (!err)
		err = iopt_set_allow_iova(&ioas->iopt, &tree);
	allowed_tree_free(&tree);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	return err;
}

/* --- mapping -------------------------------------------------------------- */

#define IOAS_MAP_KNOWN_FLAGS                                                   \
	(IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |                \
	 IOMMU_IOAS_MAP_READABLE)

/*
 * What MAP, MAP_FILE and COPY have in common, decoded once: the IOVA
 * (where FIXED_IOVA asks for it), the length, and the protection for
 * iommu_map().
 */
struct ioas_map_req {
	unsigned long iova;
	unsigned long length;
	unsigned int iopt_flags;
	int prot;
};

/*
 * Validate the shared part of a map request, in the errno order of the
 * ABI.  @extra_overflow lets a caller fold its own out-of-range fields
 * (COPY's source IOVA, MAP_FILE's file offset) into the EOVERFLOW step.
 */
static int ioas_map_req_init(struct ioas_map_req *req, u32 flags, u64 iova,
			     u64 length, bool extra_overflow)
{
	if (flags & ~IOAS_MAP_KNOWN_FLAGS)
		return -EOPNOTSUPP;
	if (iova >= ULONG_MAX || length >= ULONG_MAX || extra_overflow)
		return -EOVERFLOW;
	/* A mapping a device can neither read nor write is meaningless. */
	if (!(flags & (IOMMU_IOAS_MAP_READABLE | IOMMU_IOAS_MAP_WRITEABLE)))
		return -EINVAL;

	req->iova = iova;
	req->length = length;
	req->iopt_flags = flags & IOMMU_IOAS_MAP_FIXED_IOVA ? 0 :
							       IOPT_ALLOC_IOVA;
	/*
	 * User space has no way to flush CPU caches for a device, so every
	 * mapping is cache coherent; devices that cannot snoop are refused
	 * when they are bound, not here.
	 */
	req->prot = IOMMU_CACHE;
	if (flags & IOMMU_IOAS_MAP_READABLE)
		req->prot |= IOMMU_READ;
	if (flags & IOMMU_IOAS_MAP_WRITEABLE)
		req->prot |= IOMMU_WRITE;
	return 0;
}

int iommufd_ioas_map(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map *arg = ucmd->cmd;
	struct ioas_map_req req;
	struct iommufd_ioas *ioas;
	int err;

	if (arg->__reserved)
		return -EOPNOTSUPP;
	err = ioas_map_req_init(&req, arg->flags, arg->iova, arg->length,
				false);
	if (err)
		return err;
	ioas = iommufd_get_ioas(ucmd->ictx, arg->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	err = iopt_map_user_pages(ucmd->ictx, &ioas->iopt, &req.iova,
				  u64_to_user_ptr(arg->user_va), req.length,
				  req.prot, req.iopt_flags);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	if (err)
		return err;
	arg->iova = req.iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*arg));
}

/*
 * The file must be memory this module can hold without a process: a
 * memfd.  A hugetlbfs memfd is a known kind the kernel may give us no way
 * to hold (EOPNOTSUPP); anything else is simply the wrong kind of file.
 */
static int ioas_check_map_file(struct file *file)
{
	if (iopt_file_is_pinnable(file))
		return 0;
	return iopt_file_is_hugetlbfs(file) ? -EOPNOTSUPP : -EINVAL;
}

int iommufd_ioas_map_file(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_map_file *arg = ucmd->cmd;
	struct ioas_map_req req;
	struct iommufd_ioas *ioas;
	struct file *file;
	int err;

	err = ioas_map_req_init(&req, arg->flags, arg->iova, arg->length,
				arg->start > LLONG_MAX);
	if (err)
		return err;
	ioas = iommufd_get_ioas(ucmd->ictx, arg->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	file = fget(arg->fd);
	err = file ? ioas_check_map_file(file) : -EBADF;
	if (!err)
		err = iopt_map_file_pages(ucmd->ictx, &ioas->iopt, &req.iova,
					  file, arg->start, req.length,
					  req.prot, req.iopt_flags);
	if (file)
		fput(file);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	if (err)
		return err;
	arg->iova = req.iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*arg));
}

/*
 * IOMMU_IOAS_COPY: map, in the destination, the very pages a range of the
 * source already maps.  The slices are taken from the source first and
 * the source released before the destination is looked up, so the two
 * IOAS are never locked together (and may be the same one).
 */
int iommufd_ioas_copy(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_copy *arg = ucmd->cmd;
	struct iommufd_ioas *src, *dst;
	struct ioas_map_req req;
	LIST_HEAD(slices);
	int err;

	err = ioas_map_req_init(&req, arg->flags, arg->dst_iova, arg->length,
				arg->src_iova >= ULONG_MAX);
	if (err)
		return err;

	src = iommufd_get_ioas(ucmd->ictx, arg->src_ioas_id);
	if (IS_ERR(src))
		return PTR_ERR(src);
	err = iopt_get_pages(&src->iopt, arg->src_iova, req.length, &slices);
	iommufd_put_object(ucmd->ictx, &src->obj);
	if (err)
		return err;

	dst = iommufd_get_ioas(ucmd->ictx, arg->dst_ioas_id);
	if (IS_ERR(dst)) {
		err = PTR_ERR(dst);
	} else {
		err = iopt_map_pages(&dst->iopt, &slices, req.length, &req.iova,
				     req.prot, req.iopt_flags);
		iommufd_put_object(ucmd->ictx, &dst->obj);
	}
	/* Slices that became areas were taken off the list; drop the rest. */
	iopt_free_pages_list(&slices);
	if (err)
		return err;
	arg->dst_iova = req.iova;
	return iommufd_ucmd_respond(ucmd, sizeof(*arg));
}

/*
 * IOMMU_IOAS_UNMAP: whole areas only.  IOVA 0 with length U64_MAX means
 * everything; a range that touches no area is ENOENT.  What was unmapped
 * is only reported on success.
 */
int iommufd_ioas_unmap(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_unmap *arg = ucmd->cmd;
	unsigned long bytes = 0;
	struct iommufd_ioas *ioas;
	int err;

	ioas = iommufd_get_ioas(ucmd->ictx, arg->ioas_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (!arg->iova && arg->length == U64_MAX)
		err = iopt_unmap_all(&ioas->iopt, &bytes);
	else if (arg->iova >= ULONG_MAX || arg->length >= ULONG_MAX)
		err = -EOVERFLOW;
	else
		err = iopt_unmap_iova(&ioas->iopt, arg->iova, arg->length,
				      &bytes) ?: (bytes ? 0 : -ENOENT);
	iommufd_put_object(ucmd->ictx, &ioas->obj);
	if (err)
		return err;
	arg->length = bytes;
	return iommufd_ucmd_respond(ucmd, sizeof(*arg));
}

/* --- IOMMU_OPTION ---------------------------------------------------------- */

/*
 * RLIMIT_MODE is a property of the context: who pays for the pins of
 * mappings made from now on.  Changing it needs CAP_SYS_RESOURCE and an
 * empty context, since existing pins keep the payer they were charged to.
 */
static int option_rlimit_mode(struct iommufd_ctx *ictx,
			      struct iommu_option *arg)
{
	enum iopt_account_mode want;
	int err = 0;

	if (arg->object_id)
		return -EOPNOTSUPP;
	if (arg->op == IOMMU_OPTION_OP_GET) {
		arg->val64 = READ_ONCE(ictx->account_mode) == IOPT_ACCOUNT_MM ? 1 : 0;
		return 0;
	}
	if (arg->op != IOMMU_OPTION_OP_SET)
		return -EOPNOTSUPP;
	if (!capable(CAP_SYS_RESOURCE))
		return -EPERM;

	switch (arg->val64) {
	case 0:
		want = IOPT_ACCOUNT_USER;
		break;
	case 1:
		want = IOPT_ACCOUNT_MM;
		break;
	default:
		want = IOPT_ACCOUNT_NONE;
		err = -EINVAL;
	}
	/* The registry's lock keeps an object from appearing meanwhile. */
	xa_lock(&ictx->objects);
	if (!xa_empty(&ictx->objects))
		err = -EBUSY;
	else if (!err)
		WRITE_ONCE(ictx->account_mode, want);
	xa_unlock(&ictx->objects);
	return err;
}

/* HUGE_PAGES is per IOAS: whether areas may use IOMMU pages above 4 KiB. */
static int option_huge_pages(struct iommufd_ctx *ictx,
			     struct iommu_option *arg)
{
	struct iommufd_ioas *ioas;
	int err = 0;

	ioas = iommufd_get_ioas(ictx, arg->object_id);
	if (IS_ERR(ioas))
		return PTR_ERR(ioas);

	if (arg->op == IOMMU_OPTION_OP_GET)
		arg->val64 = READ_ONCE(ioas->iopt.disable_large_pages) ? 0 : 1;
	else if (arg->op != IOMMU_OPTION_OP_SET)
		err = -EOPNOTSUPP;
	else if (arg->val64 == 1)
		iopt_enable_large_pages(&ioas->iopt);
	else if (arg->val64 == 0)
		err = iopt_disable_large_pages(&ioas->iopt);
	else
		err = -EINVAL;
	iommufd_put_object(ictx, &ioas->obj);
	return err;
}

int iommufd_option(struct iommufd_ucmd *ucmd)
{
	struct iommu_option *arg = ucmd->cmd;
	int err;

	if (arg->__reserved)
		return -EOPNOTSUPP;
	if (arg->option_id == IOMMU_OPTION_RLIMIT_MODE)
		err = option_rlimit_mode(ucmd->ictx, arg);
	else if (arg->option_id == IOMMU_OPTION_HUGE_PAGES)
		err = option_huge_pages(ucmd->ictx, arg);
	else
		err = -EOPNOTSUPP;
	if (err)
		return err;
	/* A GET filled val64 in; a SET hands the struct back as it came. */
	return iommufd_ucmd_respond(ucmd, sizeof(*arg));
}

/* --- IOMMU_IOAS_CHANGE_PROCESS ---------------------------------------------- */

/*
 * Every IOAS of a context, held and locked at once.
 *
 * Held: each has a lookup reference (as any ioctl's object), so a
 * concurrent IOMMU_DESTROY waits for us.  Locked: the domains_rwsem and
 * the iova_rwsem of every one of them for write.  With both, for every
 * area of every IOAS, no map can be filling it into a domain, no unmap
 * can be emptying or removing it, no domain can come or go and no access
 * can pin: the pinned count of every iopt_pages an area points at is
 * frozen, and every area in the trees has its pages.
 *
 * Many semaphores of one lock class are taken here; ictx->all_ioas_lock
 * serializes the callers that do so and is the lockdep nest lock that
 * makes this legal.  All domains_rwsems are taken before any iova_rwsem,
 * keeping io_pagetable.h's order (domains, then IOVA) between classes.
 */
struct ioas_lockset {
	struct iommufd_ctx *ictx;
	struct xarray members;	/* object id -> struct iommufd_ioas */
	bool locked;
};

/* The first IOAS with an id at or above *@id, or 0 when there is none. */
static u32 next_ioas_id(struct iommufd_ctx *ictx, unsigned long *id)
{
	struct iommufd_object *obj;
	u32 found = 0;

	xa_lock(&ictx->objects);
	xa_for_each_start(&ictx->objects, *id, obj, *id) {
		if (obj->type == IOMMUFD_OBJ_IOAS) {
			found = obj->id;
			break;
		}
	}
	xa_unlock(&ictx->objects);
	return found;
}

static void lockset_release(struct ioas_lockset *set)
{
	struct iommufd_ioas *ioas;
	unsigned long id;

	/* Only what lockset_acquire() took, in any order. */
	if (set->locked) {
		xa_for_each(&set->members, id, ioas)
			up_write(&ioas->iopt.iova_rwsem);
		xa_for_each(&set->members, id, ioas)
			up_write(&ioas->iopt.domains_rwsem);
		set->locked = false;
	}
	xa_for_each(&set->members, id, ioas)
		iommufd_put_object(set->ictx, &ioas->obj);
	xa_destroy(&set->members);
	mutex_unlock(&set->ictx->all_ioas_lock);
}

/*
 * Hold every IOAS, then lock them all.  Collecting may fail (memory); it
 * happens before any semaphore is taken, so a failure has only the
 * references to give back.  No IOAS can appear behind the walk: IOAS are
 * published under all_ioas_lock, held from here to lockset_release()
 * (iommufd_ioas_publish()).
 */
static int lockset_acquire(struct ioas_lockset *set, struct iommufd_ctx *ictx)
{
	struct iommufd_ioas *ioas;
	unsigned long id = 0;
	u32 found;
	int err;

	set->ictx = ictx;
	set->locked = false;
	xa_init(&set->members);
	mutex_lock(&ictx->all_ioas_lock);

	while ((found = next_ioas_id(ictx, &id))) {
		id = (unsigned long)found + 1;
		/* Fails for an IOAS being destroyed: it has no say any more. */
		ioas = iommufd_get_ioas(ictx, found);
		if (IS_ERR(ioas))
			continue;
		err = xa_insert(&set->members, found, ioas, GFP_KERNEL_ACCOUNT);
		if (err) {
			iommufd_put_object(ictx, &ioas->obj);
			lockset_release(set);
			return err;
		}
	}

	xa_for_each(&set->members, id, ioas)
		down_write_nest_lock(&ioas->iopt.domains_rwsem,
				     &ictx->all_ioas_lock);
	xa_for_each(&set->members, id, ioas)
		down_write_nest_lock(&ioas->iopt.iova_rwsem,
				     &ictx->all_ioas_lock);
	set->locked = true;
	return 0;
}

/* Does @pages already charge the process that would take it over? */
static bool pages_paid_by_current(struct iopt_pages *pages)
{
	return pages->account.mm == current->mm &&
	       pages->account.task == current->group_leader &&
	       pages->account.user == current_user();
}

/*
 * Gather, once each, the iopt_pages that must change hands, and the
 * number of pages pinned in them.  Any area over user memory refuses the
 * whole call: those pins belong to the address space they were made in.
 */
static int lockset_gather_pages(struct ioas_lockset *set,
				struct xarray *movers, unsigned long *npinned)
{
	struct iommufd_ioas *ioas;
	struct iopt_area *area;
	unsigned long id;
	int err;

	*npinned = 0;
	xa_for_each(&set->members, id, ioas) {
		for_each_iopt_area(area, &ioas->iopt, 0, ULONG_MAX) {
			struct iopt_pages *pages = area->pages;
			unsigned long key = (uintptr_t)pages;
			bool mine;

			if (pages->source != IOPT_SOURCE_FILE)
				return -EINVAL;
			if (xa_load(movers, key))
				continue;
			mutex_lock(&pages->mutex);
			mine = pages_paid_by_current(pages);
			if (!mine)
				*npinned += pages->npinned;
			mutex_unlock(&pages->mutex);
			if (mine)
				continue;
			err = xa_insert(movers, key, pages, GFP_KERNEL_ACCOUNT);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * Make the calling process pay for every file page the context has
 * pinned.  All or nothing: the new payer is charged the whole amount
 * first (which may fail against its RLIMIT_MEMLOCK), and only then is
 * each old payer refunded what its pages hold; with every IOAS locked the
 * two amounts are the same.
 */
int iommufd_ioas_change_process(struct iommufd_ucmd *ucmd)
{
	struct iommu_ioas_change_process *arg = ucmd->cmd;
	struct iopt_account payer;
	struct ioas_lockset set;
	struct iopt_pages *pages;
	unsigned long npinned, key;
	struct xarray movers;
	int err;

	if (arg->__reserved)
		return -EOPNOTSUPP;

	err = lockset_acquire(&set, ucmd->ictx);
	if (err)
		return err;
	xa_init(&movers);
	err = lockset_gather_pages(&set, &movers, &npinned);
	if (err || xa_empty(&movers))
		goto out_release;

	err = iopt_account_init(&payer, READ_ONCE(ucmd->ictx->account_mode),
				&ucmd->ictx->ledger);
	if (err)
		goto out_release;
	err = iopt_account_charge(&payer, npinned);
	if (!err) {
		xa_for_each(&movers, key, pages)
			iopt_pages_switch_account(pages, &payer);
	}
	iopt_account_release(&payer);
out_release:
	xa_destroy(&movers);
	lockset_release(&set);
	return err;
}
