// SPDX-License-Identifier: GPL-2.0
/*
 * Open /dev/iommu files: every process's descriptors whose file is the
 * iommufd character device, what their fdinfo says, and the totals per
 * payer account (uid or process).  A descriptor matches by device number,
 * not by name: a node made elsewhere (a container's /dev, a chroot) is
 * the same device.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kcmp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "iommufdctl.h"

/*
 * The module's device number: sysfs has the one the kernel gave it; a
 * /dev/iommu node may be stale (a static node with another minor).
 */
int ifd_iommu_rdev(dev_t *rdev)
{
	unsigned int major, minor;
	char *line = ifd_read_line("/sys/class/misc/iommu/dev");
	struct stat st;

	if (line && sscanf(line, "%u:%u", &major, &minor) == 2) {
		free(line);
		*rdev = makedev(major, minor);
		return 0;
	}
	free(line);
	if (stat("/dev/iommu", &st) == 0 && S_ISCHR(st.st_mode)) {
		*rdev = st.st_rdev;
		return 0;
	}
	return -ENOENT;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* Does descriptor @fdpath (/proc/PID/fd/N) refer to device @rdev? */
static bool fd_is_device(const char *fdpath, dev_t rdev)
{
	char target[PATH_MAX];
	struct stat st;
	ssize_t n;

	/* Sockets, pipes, anon inodes: never a device, and cheap to skip. */
	n = readlink(fdpath, target, sizeof(target) - 1);
	if (n <= 0 || target[0] != '/')
		return false;
	if (stat(fdpath, &st))
		return false;
	return S_ISCHR(st.st_mode) && st.st_rdev == rdev;
}

typedef int (*fd_visit_t)(void *arg, pid_t pid, int fd);

/*
 * Call @visit for every descriptor of every process that refers to @rdev.
 * Returns the number of processes whose descriptors could not be read
 * (permission, or they exited meanwhile), or -errno.
 */
static int walk_fds(const char *proc, dev_t rdev, fd_visit_t visit,
		    void *arg)
{
	DIR *pdir = opendir(proc), *fdir;
	struct dirent *pde, *fde;
	char path[PATH_MAX], fdpath[PATH_MAX + 300];
	int unreadable = 0, rc;

	if (!pdir)
		return -errno;
	while ((pde = readdir(pdir))) {
		if (!all_digits(pde->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s/fd", proc, pde->d_name);
		fdir = opendir(path);
		if (!fdir) {
			if (errno != ENOENT)
				unreadable++;
			continue;
		}
		while ((fde = readdir(fdir))) {
			if (!all_digits(fde->d_name))
				continue;
			snprintf(fdpath, sizeof(fdpath), "%s/%s", path,
				 fde->d_name);
			if (!fd_is_device(fdpath, rdev))
				continue;
			rc = visit(arg, atoi(pde->d_name), atoi(fde->d_name));
			if (rc) {
				closedir(fdir);
				closedir(pdir);
				return rc;
			}
		}
		closedir(fdir);
	}
	closedir(pdir);
	return unreadable;
}

struct collect {
	const char *proc;
	struct ifd_scan *scan;
};

static int collect_one(void *arg, pid_t pid, int fd)
{
	struct collect *c = arg;
	struct ifd_scan *scan = c->scan;
	struct ifd_context *ctx, *grown;
	char path[PATH_MAX];
	FILE *f;
	char *comm;

	grown = realloc(scan->ctx, (scan->nctx + 1) * sizeof(*ctx));
	if (!grown)
		return -ENOMEM;
	scan->ctx = grown;
	ctx = &scan->ctx[scan->nctx++];
	memset(ctx, 0, sizeof(*ctx));
	ctx->pid = pid;
	ctx->fd = fd;
	snprintf(path, sizeof(path), "%s/%d/comm", c->proc, pid);
	comm = ifd_read_line(path);
	snprintf(ctx->comm, sizeof(ctx->comm), "%s", comm ? comm : "");
	free(comm);
	snprintf(path, sizeof(path), "%s/%d/fdinfo/%d", c->proc, pid, fd);
	f = fopen(path, "r");
	if (f) {
		ifd_fdinfo_parse(f, &ctx->info);
		ctx->fdinfo_read = true;
		fclose(f);
	} else {
		ifd_fdinfo_init(&ctx->info);
	}
	return 0;
}

static int same_file(pid_t pid1, int fd1, pid_t pid2, int fd2)
{
	return syscall(SYS_kcmp, pid1, pid2, KCMP_FILE, fd1, fd2);
}

/* Give descriptors of one open file one id; count the distinct files. */
static void identify_files(struct ifd_scan *scan)
{
	int i, j, rc;

	for (i = 0; i < scan->nctx; i++) {
		struct ifd_context *ci = &scan->ctx[i];

		ci->first = true;
		ci->file_id = scan->nfiles + 1;
		for (j = 0; j < i; j++) {
			struct ifd_context *cj = &scan->ctx[j];

			if (!cj->first)
				continue;
			rc = same_file(ci->pid, ci->fd, cj->pid, cj->fd);
			if (rc < 0) {
				scan->kcmp_failed = true;
				continue;
			}
			if (rc == 0) {
				ci->first = false;
				ci->file_id = cj->file_id;
				break;
			}
		}
		if (ci->first)
			scan->nfiles++;
	}
}

int ifd_scan_contexts(const char *proc, dev_t rdev, struct ifd_scan *scan)
{
	struct collect c = { .proc = proc, .scan = scan };
	int rc;

	memset(scan, 0, sizeof(*scan));
	rc = walk_fds(proc, rdev, collect_one, &c);
	if (rc < 0)
		return rc;
	scan->unreadable = rc;
	identify_files(scan);
	ifd_scan_totals(scan);
	return 0;
}

static long long add_known(long long sum, long long v)
{
	return sum == IFD_UNKNOWN || v == IFD_UNKNOWN ? IFD_UNKNOWN : sum + v;
}

/*
 * Which account a payer line of a context in @mode charges: the uid's
 * user locked_vm in user mode, the process's VmLck in process and type1
 * mode (pid 0: the exited payers, together).  IFD_UNKNOWN if we cannot
 * tell.
 */
static long long payer_account(const char *mode, const struct ifd_payer *p)
{
	if (!strcmp(mode, "user"))
		return p->uid;
	if (!strcmp(mode, "process") || !strcmp(mode, "type1"))
		return p->pid;
	return IFD_UNKNOWN;
}

static struct ifd_payer_total *total_of(struct ifd_scan *scan,
					const char *mode, long long id)
{
	struct ifd_payer_total *t, *grown;
	int k;

	for (k = 0; k < scan->npayers; k++)
		if (scan->payers[k].id == id &&
		    !strcmp(scan->payers[k].mode, mode))
			return &scan->payers[k];
	grown = realloc(scan->payers, (k + 1) * sizeof(*scan->payers));
	if (!grown)
		return NULL;
	scan->payers = grown;
	scan->npayers++;
	t = &scan->payers[k];
	memset(t, 0, sizeof(*t));
	snprintf(t->mode, sizeof(t->mode), "%s", mode);
	t->id = id;
	return t;
}

/*
 * Per payer, from the payer lines' own pinned and charged counts: each
 * line says what that process pays for in that context, so a context
 * with two payers splits between them.  Each open file counts once.  A
 * file no one pays for ("none") holds nothing; one whose mode or a payer
 * line we could not read is counted as unattributed.
 */
void ifd_scan_totals(struct ifd_scan *scan)
{
	int i, k;

	free(scan->payers);
	scan->payers = NULL;
	scan->npayers = 0;
	scan->unattributed = 0;
	for (i = 0; i < scan->nctx; i++) {
		const struct ifd_context *c = &scan->ctx[i];
		const struct ifd_fdinfo *fi = &c->info;
		bool lost = fi->payer == IFD_PAYER_UNKNOWN;

		if (!c->first || fi->payer == IFD_PAYER_NONE)
			continue;
		for (k = 0; k < fi->npayers; k++) {
			const struct ifd_payer *p = &fi->payers[k];
			long long id = payer_account(fi->account_mode, p);
			struct ifd_payer_total *t;

			t = id == IFD_UNKNOWN ? NULL :
			    total_of(scan, fi->account_mode, id);
			if (!t) {
				lost = true;
				continue;
			}
			if (t->last_file != c->file_id) {
				t->files++;
				t->last_file = c->file_id;
			}
			t->pinned_pages = add_known(t->pinned_pages,
						    p->pinned_pages);
			t->charged_pages = add_known(t->charged_pages,
						     p->charged_pages);
		}
		if (lost)
			scan->unattributed++;
	}
}

void ifd_scan_free(struct ifd_scan *scan)
{
	int i;

	for (i = 0; i < scan->nctx; i++)
		ifd_fdinfo_release(&scan->ctx[i].info);
	free(scan->ctx);
	free(scan->payers);
	memset(scan, 0, sizeof(*scan));
}
struct pid_list {
	pid_t *pids;
	int n;
};

static int collect_pid(void *arg, pid_t pid, int fd)
{
	struct pid_list *l = arg;
	pid_t *grown;
	int i;

	(void)fd;
	for (i = 0; i < l->n; i++)
		if (l->pids[i] == pid)
			return 0;
	grown = realloc(l->pids, (l->n + 1) * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	l->pids = grown;
	l->pids[l->n++] = pid;
	return 0;
}

/* The processes holding device @rdev open (a VFIO group, say). */
int ifd_scan_fds_of(const char *proc, dev_t rdev, pid_t **pids, int *npids)
{
	struct pid_list l = { NULL, 0 };
	int rc = walk_fds(proc, rdev, collect_pid, &l);

	if (rc < 0) {
		free(l.pids);
		return rc;
	}
	*pids = l.pids;
	*npids = l.n;
	return rc;
}
