/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iommufdctl: what the files of the tool share.
 *
 * Every number the tool prints comes from a file the kernel wrote (fdinfo,
 * debugfs, sysfs) or from the module's own modinfo.  A value the kernel did
 * not give is IFD_UNKNOWN and is printed as "unknown" (null in JSON); the
 * tool never fills one in.
 */
#ifndef IOMMUFDCTL_H
#define IOMMUFDCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

/* Exit statuses, as iommufdctl(8) documents them. */
enum {
	IFD_EXIT_OK = 0,
	IFD_EXIT_FAILED = 1,	/* a system call or libkmod failed */
	IFD_EXIT_USAGE = 2,	/* bad command line */
	IFD_EXIT_BUSY = 3,	/* refused: in use, or the group is not ready */
	IFD_EXIT_NOTFOUND = 4,	/* no such module or device */
};

#define IFD_UNKNOWN	(-1LL)

/* --- fdinfo.c: the kernel's text formats ------------------------------ */

enum ifd_payer_state {
	IFD_PAYER_UNKNOWN,	/* no iommufd-payer line we could read */
	IFD_PAYER_NONE,		/* "none": no process pays for anything */
	IFD_PAYER_SET,		/* one or more "pid=P uid=U pinned=N ..." */
};

/*
 * One iommufd-payer line: a process paying for mappings of the context.
 * pid 0 is a payer that has exited while its mappings stay.  A line of a
 * module from before per-payer counts ("pid=P uid=U") leaves @pinned_pages
 * and @charged_pages unknown.
 */
struct ifd_payer {
	long long pid;
	long long uid;
	long long pinned_pages;
	long long charged_pages;
};

/* One /proc/PID/fdinfo/FD of a /dev/iommu file. */
struct ifd_fdinfo {
	bool iommufd_lines;	/* at least one "iommufd-" line was there */
	char account_mode[16];	/* "user", "process"; "" when unknown */
	long long ioas;
	long long hwpt_paging;
	long long device;
	long long access;
	long long selftest;
	long long pinned_pages;
	long long charged_pages;
	long long pfn_storage_bytes;
	enum ifd_payer_state payer;
	struct ifd_payer *payers;	/* malloc'ed; ifd_fdinfo_release() */
	int npayers;
	unsigned int malformed;	/* iommufd- lines whose value did not parse */
};

/* /sys/kernel/debug/iommufd/usage */
struct ifd_usage {
	long long contexts;
	long long pinned_pages;
	long long charged_pages;
	long long pfn_storage_bytes;
};

void ifd_fdinfo_init(struct ifd_fdinfo *fi);
void ifd_fdinfo_parse(FILE *f, struct ifd_fdinfo *fi);
void ifd_fdinfo_release(struct ifd_fdinfo *fi);
void ifd_usage_parse(FILE *f, struct ifd_usage *u);

/* --- contexts.c: open /dev/iommu files and who pays for them ---------- */

struct ifd_context {
	pid_t pid;
	char comm[64];
	int fd;
	/*
	 * Files are counted once however many descriptors (dup, fork, fd
	 * passing) refer to them: equal @file_id, the first of them has
	 * @first set.  Told apart with kcmp(KCMP_FILE).
	 */
	int file_id;
	bool first;
	bool fdinfo_read;
	struct ifd_fdinfo info;
};

/*
 * The sum of the payer lines that charge one account: a uid's locked_vm
 * in user mode, a process's VmLck in process (and type1) mode, where pid
 * 0 gathers every payer that has exited.
 */
struct ifd_payer_total {
	char mode[16];		/* the context's account mode */
	long long id;		/* uid (user mode) or pid (otherwise) */
	int files;		/* distinct open files it pays in */
	int last_file;		/* file_id last counted in @files */
	long long pinned_pages;	/* IFD_UNKNOWN if a line's is unknown */
	long long charged_pages;
};

struct ifd_scan {
	struct ifd_context *ctx;
	int nctx;
	int nfiles;		/* distinct open files among @ctx */
	int unreadable;		/* processes whose fds we could not read */
	bool kcmp_failed;	/* some files may be counted twice */
	struct ifd_payer_total *payers;
	int npayers;
	int unattributed;	/* files with an unknown mode or payer line */
};

int ifd_iommu_rdev(dev_t *rdev);
int ifd_scan_contexts(const char *proc, dev_t rdev, struct ifd_scan *scan);
void ifd_scan_totals(struct ifd_scan *scan);
void ifd_scan_free(struct ifd_scan *scan);
int ifd_scan_fds_of(const char *proc, dev_t rdev, pid_t **pids, int *npids);

/* --- kmod.c: modules through libkmod and sysfs ------------------------ */

struct ifd_param {
	char *name;
	char *value;		/* NULL when the module is not loaded */
	char *type;		/* from modinfo; NULL if it has none */
	char *description;
};

struct ifd_module {
	const char *name;
	char *state;		/* sysfs initstate (live, coming, going), or
				 * "not loaded" */
	bool loaded;		/* state is live */
	bool installed;		/* found by depmod's index for this kernel */
	char *path;
	char *version;		/* the loaded module's (sysfs) */
	char *installed_version;	/* modinfo of the file at @path */
	char *srcversion;
	long long refcnt;
	char *taint;		/* sysfs letters */
	char **holders;
	int nholders;
	struct ifd_param *params;
	int nparams;
};

struct kmod_ctx;

struct kmod_ctx *ifd_kmod_open(void);
int ifd_module_read(struct kmod_ctx *kctx, const char *name,
		    struct ifd_module *m);
void ifd_module_free(struct ifd_module *m);
const char *ifd_module_param(const struct ifd_module *m, const char *name);
int ifd_module_load(struct kmod_ctx *kctx, const char *name,
		    const char *options);
int ifd_module_unload(struct kmod_ctx *kctx, const char *name);
const char *ifd_taint_meaning(char letter);

/* --- json.c: a small JSON writer --------------------------------------- */

struct ifd_json {
	FILE *out;
	int depth;
	bool need_comma;
	bool after_key;
};

void json_begin_object(struct ifd_json *j, const char *key);
void json_end_object(struct ifd_json *j);
void json_begin_array(struct ifd_json *j, const char *key);
void json_end_array(struct ifd_json *j);
void json_string(struct ifd_json *j, const char *key, const char *s);
void json_int(struct ifd_json *j, const char *key, long long v);
void json_bool(struct ifd_json *j, const char *key, bool v);
void json_null(struct ifd_json *j, const char *key);
void json_escape(FILE *out, const char *s);

/* --- status.c, pci.c, main.c ------------------------------------------ */

int ifd_cmd_status(bool as_json);
int ifd_cmd_load(bool selftest, bool vfio, bool type1);
int ifd_cmd_unload(void);
int ifd_cmd_bind(const char *bdf, bool force);
int ifd_cmd_unbind(const char *bdf);
int ifd_pci_normalize(const char *in, char *out, size_t len);

/* util.c */
char *ifd_read_line(const char *path);
int ifd_write_str(const char *path, const char *s);
int ifd_print_contexts_brief(const struct ifd_scan *scan, FILE *out);

#endif
