// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl status: the modules, every open /dev/iommu file and what it
 * holds pinned and charged, the totals per payer and the module's own
 * totals.  Text for people, --json for scripts (schema in iommufdctl(8)).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <libkmod.h>

#include "iommufdctl.h"

#define USAGE_FILE	"/sys/kernel/debug/iommufd/usage"
/* TAINT_TEST's bit in /proc/sys/kernel/tainted (include/linux/panic.h). */
#define KERNEL_TAINT_TEST	18

struct status {
	struct ifd_module core, vfio;
	bool have_rdev;
	dev_t rdev;
	int scan_err;
	struct ifd_scan scan;
	struct ifd_usage usage;
	const char *usage_missing;	/* why there are no module totals */
	long long kernel_tainted;
};

/* A parameter's Y/N as a tristate: -1 when unknown (not loaded). */
static int param_bool(const struct ifd_module *m, const char *name)
{
	const char *v = ifd_module_param(m, name);

	if (!v)
		return -1;
	return v[0] == 'Y' || v[0] == 'y' || v[0] == '1';
}

static bool debugfs_mounted(void)
{
	char line[512], dev[128], dir[256], type[64];
	bool found = false;
	FILE *f = fopen("/proc/mounts", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%127s %255s %63s", dev, dir, type) == 3 &&
			!strcmp(dir, "/sys/kernel/debug") &&
			!strcmp(type, "debugfs");
	fclose(f);
	return found;
}

static void read_usage(struct status *st)
{
	FILE *f;

	st->usage.contexts = st->usage.pinned_pages = IFD_UNKNOWN;
	st->usage.charged_pages = st->usage.pfn_storage_bytes = IFD_UNKNOWN;
	f = fopen(USAGE_FILE, "r");
	if (f) {
		ifd_usage_parse(f, &st->usage);
		fclose(f);
		return;
	}
	if (errno == EACCES || errno == EPERM)
		st->usage_missing = "permission denied (root only)";
	else if (!st->core.loaded)
		st->usage_missing = "iommufd is not loaded";
	else if (!debugfs_mounted())
		st->usage_missing =
			"debugfs is not mounted (mount -t debugfs none /sys/kernel/debug)";
	else
		st->usage_missing = "the module has no " USAGE_FILE;
}

static int gather(struct status *st)
{
	struct kmod_ctx *kctx = ifd_kmod_open();
	char *s;

	if (!kctx) {
		fprintf(stderr, "iommufdctl: cannot create a libkmod context\n");
		return IFD_EXIT_FAILED;
	}
	ifd_module_read(kctx, "iommufd", &st->core);
	ifd_module_read(kctx, "iommufd_vfio", &st->vfio);
	kmod_unref(kctx);

	st->have_rdev = st->core.loaded && !ifd_iommu_rdev(&st->rdev);
	if (st->have_rdev)
		st->scan_err = ifd_scan_contexts("/proc", st->rdev, &st->scan);
	read_usage(st);
	s = ifd_read_line("/proc/sys/kernel/tainted");
	st->kernel_tainted = s && *s ? strtoll(s, NULL, 10) : IFD_UNKNOWN;
	free(s);
	return 0;
}

/* --- text -------------------------------------------------------------- */

static const char *num(char *buf, size_t len, long long v)
{
	if (v == IFD_UNKNOWN)
		return "unknown";
	snprintf(buf, len, "%lld", v);
	return buf;
}

static void text_module(const struct ifd_module *m)
{
	int i;

	printf("%s: %s", m->name, m->loaded ? "loaded" : m->state);
	if (m->loaded) {
		printf(", version %s", m->version ? m->version : "unknown");
		if (m->refcnt != IFD_UNKNOWN)
			printf(", used by %lld", m->refcnt);
		for (i = 0; i < m->nholders; i++)
			printf("%s%s", i ? "," : " +", m->holders[i]);
	}
	printf("\n");
	if (m->installed)
		printf("  installed: %s (version %s)\n", m->path,
		       m->installed_version ? m->installed_version : "unknown");
	else
		printf("  installed: no (not in depmod's index for this kernel)\n");
	if (m->loaded) {
		printf("  taint: %s", m->taint && *m->taint ? m->taint : "none");
		for (i = 0; m->taint && m->taint[i]; i++) {
			const char *what = ifd_taint_meaning(m->taint[i]);

			printf("%s%s", i ? ", " : " (", what ? what : "?");
			if (!m->taint[i + 1])
				printf(")");
		}
		printf("\n");
	}
	for (i = 0; i < m->nparams; i++) {
		const struct ifd_param *p = &m->params[i];

		printf("  parameter %s = %s", p->name,
		       p->value ? p->value : m->loaded ? "(not readable)" :
		       "(not loaded)");
		if (p->type)
			printf(" [%s]", p->type);
		printf("\n");
		if (!m->loaded && p->description)
			printf("      %s\n", p->description);
	}
}

static void text_contexts(const struct status *st)
{
	const struct ifd_scan *scan = &st->scan;
	char b[7][32];
	int i;

	if (!st->core.loaded)
		return;
	if (!st->have_rdev) {
		printf("/dev/iommu: no device number in sysfs nor a /dev/iommu node\n");
		return;
	}
	printf("/dev/iommu: device %u:%u\n", major(st->rdev), minor(st->rdev));
	if (st->scan_err) {
		printf("open files: cannot scan /proc: %s\n",
		       strerror(-st->scan_err));
		return;
	}
	printf("open files: %d (%d descriptors)%s\n", scan->nfiles, scan->nctx,
	       scan->kcmp_failed ? "; kcmp failed: a file may be counted twice" : "");
	if (scan->unreadable)
		printf("  %d processes could not be inspected (run as root to see them)\n",
		       scan->unreadable);
	if (scan->nctx)
		printf("  %7s %-15s %4s %4s %-7s %5s %5s %5s %5s %9s %9s %10s  %s\n",
		       "PID", "COMM", "FD", "FILE", "MODE", "IOAS", "HWPT",
		       "DEV", "ACC", "PINNED", "CHARGED", "PFN-BYTES", "PAYERS");
	for (i = 0; i < scan->nctx; i++) {
		const struct ifd_context *c = &scan->ctx[i];
		const struct ifd_fdinfo *fi = &c->info;
		char payers[32];
		int k;

		if (fi->payer == IFD_PAYER_NONE)
			strcpy(payers, "none");
		else if (fi->payer == IFD_PAYER_SET)
			snprintf(payers, sizeof(payers), "%d", fi->npayers);
		else
			strcpy(payers, "unknown");
		printf("  %7d %-15s %4d %3d%c %-7s %5s %5s %5s %5s %9s %9s %10s  %s\n",
		       c->pid, c->comm, c->fd, c->file_id, c->first ? ' ' : '*',
		       fi->account_mode[0] ? fi->account_mode : "unknown",
		       num(b[0], 32, fi->ioas), num(b[1], 32, fi->hwpt_paging),
		       num(b[2], 32, fi->device), num(b[3], 32, fi->access),
		       num(b[4], 32, fi->pinned_pages),
		       num(b[5], 32, fi->charged_pages),
		       num(b[6], 32, fi->pfn_storage_bytes), payers);
		if (!c->fdinfo_read)
			printf("          (fdinfo not readable)\n");
		else if (!fi->iommufd_lines)
			printf("          (no iommufd- lines in fdinfo: a module without them)\n");
		/* Once per file: the other descriptors' lines are the same. */
		for (k = 0; c->first && k < fi->npayers; k++) {
			const struct ifd_payer *p = &fi->payers[k];

			printf("          payer pid %s%s uid %s: %s pinned, %s charged\n",
			       num(b[0], 32, p->pid),
			       p->pid == 0 ? " (exited)" : "",
			       num(b[1], 32, p->uid),
			       num(b[2], 32, p->pinned_pages),
			       num(b[3], 32, p->charged_pages));
		}
		if (fi->selftest > 0)
			printf("          %lld self-test mock device(s)\n",
			       fi->selftest);
		if (fi->malformed)
			printf("          %u fdinfo value(s) not understood\n",
			       fi->malformed);
	}
	if (scan->nctx && scan->nctx != scan->nfiles)
		printf("  (*: another descriptor of the same file, counted once)\n");
	if (scan->npayers || scan->unattributed)
		printf("per payer (each open file once):\n");
	for (i = 0; i < scan->npayers; i++) {
		const struct ifd_payer_total *t = &scan->payers[i];
		bool by_uid = !strcmp(t->mode, "user");

		printf("  %s %s %lld%s: %d file(s), %s pinned pages, %s charged pages\n",
		       t->mode, by_uid ? "uid" : "pid", t->id,
		       !by_uid && t->id == 0 ? " (exited payers)" : "",
		       t->files, num(b[0], 32, t->pinned_pages),
		       num(b[1], 32, t->charged_pages));
	}
	if (scan->unattributed)
		printf("  %d file(s) with an unknown mode or payer line\n",
		       scan->unattributed);
}

static void text_status(const struct status *st)
{
	char b[4][32];
	int selftest = param_bool(&st->core, "selftest");
	int type1 = param_bool(&st->vfio, "type1");
	int unsafe = param_bool(&st->vfio, "allow_unsafe_interrupts");

	text_module(&st->core);
	if (st->core.loaded)
		printf("  self-test mode: %s\n", selftest < 0 ? "unknown" :
		       selftest ? "ON (never on a production system)" : "off");
	if (st->kernel_tainted != IFD_UNKNOWN &&
	    (st->kernel_tainted >> KERNEL_TAINT_TEST) & 1)
		printf("  kernel: tainted for testing (N), as self-test mode does; it stays until reboot\n");
	text_module(&st->vfio);
	if (st->vfio.loaded) {
		printf("  type1 compatibility: %s\n", type1 < 0 ? "unknown" :
		       type1 ? "on" : "off");
		printf("  unsafe interrupts: %s\n", unsafe < 0 ? "unknown" :
		       unsafe ? "ALLOWED" : "refused");
	}
	text_contexts(st);
	if (st->usage_missing) {
		printf("module totals: unavailable: %s\n", st->usage_missing);
		return;
	}
	printf("module totals: %s contexts, %s pinned pages, %s charged pages, %s PFN storage bytes\n",
	       num(b[0], 32, st->usage.contexts),
	       num(b[1], 32, st->usage.pinned_pages),
	       num(b[2], 32, st->usage.charged_pages),
	       num(b[3], 32, st->usage.pfn_storage_bytes));
}

/* --- JSON -------------------------------------------------------------- */

static void json_tristate(struct ifd_json *j, const char *key, int v)
{
	if (v < 0)
		json_null(j, key);
	else
		json_bool(j, key, v);
}

static void json_module(struct ifd_json *j, const struct ifd_module *m)
{
	int i;

	json_begin_object(j, m->name);
	json_bool(j, "loaded", m->loaded);
	json_string(j, "state", m->state);
	json_bool(j, "installed", m->installed);
	json_string(j, "path", m->path);
	json_string(j, "version", m->version);
	json_string(j, "installed_version", m->installed_version);
	json_string(j, "srcversion", m->srcversion);
	json_int(j, "refcnt", m->refcnt);
	if (m->loaded) {
		json_begin_array(j, "holders");
		for (i = 0; i < m->nholders; i++)
			json_string(j, NULL, m->holders[i]);
		json_end_array(j);
	} else {
		json_null(j, "holders");
	}
	json_string(j, "taint", m->taint);
	json_begin_array(j, "parameters");
	for (i = 0; i < m->nparams; i++) {
		json_begin_object(j, NULL);
		json_string(j, "name", m->params[i].name);
		json_string(j, "value", m->params[i].value);
		json_string(j, "type", m->params[i].type);
		json_string(j, "description", m->params[i].description);
		json_end_object(j);
	}
	json_end_array(j);
	json_end_object(j);
}

static void json_context(struct ifd_json *j, const struct ifd_context *c)
{
	const struct ifd_fdinfo *fi = &c->info;
	int k;

	json_begin_object(j, NULL);
	json_int(j, "pid", c->pid);
	json_string(j, "comm", c->comm);
	json_int(j, "fd", c->fd);
	json_int(j, "file", c->file_id);
	json_bool(j, "first_descriptor", c->first);
	json_bool(j, "fdinfo_read", c->fdinfo_read);
	json_string(j, "account_mode",
		    fi->account_mode[0] ? fi->account_mode : NULL);
	json_int(j, "ioas", fi->ioas);
	json_int(j, "hwpt_paging", fi->hwpt_paging);
	json_int(j, "device", fi->device);
	json_int(j, "access", fi->access);
	json_int(j, "selftest", fi->selftest);
	json_int(j, "pinned_pages", fi->pinned_pages);
	json_int(j, "charged_pages", fi->charged_pages);
	json_int(j, "pfn_storage_bytes", fi->pfn_storage_bytes);
	/* [] when no one pays; null when the kernel did not say. */
	if (fi->payer == IFD_PAYER_UNKNOWN) {
		json_null(j, "payers");
	} else {
		json_begin_array(j, "payers");
		for (k = 0; k < fi->npayers; k++) {
			json_begin_object(j, NULL);
			json_int(j, "pid", fi->payers[k].pid);
			json_int(j, "uid", fi->payers[k].uid);
			json_int(j, "pinned_pages", fi->payers[k].pinned_pages);
			json_int(j, "charged_pages",
				 fi->payers[k].charged_pages);
			json_end_object(j);
		}
		json_end_array(j);
	}
	json_int(j, "malformed_values", fi->malformed);
	json_end_object(j);
}

static void json_status(const struct status *st)
{
	struct ifd_json j = { .out = stdout };
	const struct ifd_scan *scan = &st->scan;
	char rdev[32];
	int i;

	json_begin_object(&j, NULL);
	json_int(&j, "schema", 2);
	json_begin_object(&j, "modules");
	json_module(&j, &st->core);
	json_module(&j, &st->vfio);
	json_end_object(&j);
	json_tristate(&j, "selftest", param_bool(&st->core, "selftest"));
	json_int(&j, "kernel_tainted", st->kernel_tainted);
	json_tristate(&j, "type1", param_bool(&st->vfio, "type1"));
	json_tristate(&j, "allow_unsafe_interrupts",
		      param_bool(&st->vfio, "allow_unsafe_interrupts"));
	if (st->have_rdev) {
		snprintf(rdev, sizeof(rdev), "%u:%u", major(st->rdev),
			 minor(st->rdev));
		json_string(&j, "device", rdev);
	} else {
		json_null(&j, "device");
	}
	/* Scanned only with the module loaded and the device known. */
	if (st->have_rdev && !st->scan_err) {
		json_begin_array(&j, "contexts");
		for (i = 0; i < scan->nctx; i++)
			json_context(&j, &scan->ctx[i]);
		json_end_array(&j);
		json_int(&j, "files", scan->nfiles);
		json_int(&j, "unreadable_processes", scan->unreadable);
		json_bool(&j, "files_distinct", !scan->kcmp_failed);
		json_begin_array(&j, "payers");
		for (i = 0; i < scan->npayers; i++) {
			const struct ifd_payer_total *t = &scan->payers[i];

			json_begin_object(&j, NULL);
			json_string(&j, "account_mode", t->mode);
			json_int(&j, strcmp(t->mode, "user") ? "pid" : "uid",
				 t->id);
			json_int(&j, "files", t->files);
			json_int(&j, "pinned_pages", t->pinned_pages);
			json_int(&j, "charged_pages", t->charged_pages);
			json_end_object(&j);
		}
		json_end_array(&j);
		json_int(&j, "unattributed_files", scan->unattributed);
	} else {
		json_null(&j, "contexts");
		json_null(&j, "files");
		json_null(&j, "unreadable_processes");
		json_null(&j, "files_distinct");
		json_null(&j, "payers");
		json_null(&j, "unattributed_files");
	}
	json_begin_object(&j, "module_totals");
	json_bool(&j, "available", !st->usage_missing);
	json_string(&j, "reason", st->usage_missing);
	json_int(&j, "contexts", st->usage.contexts);
	json_int(&j, "pinned_pages", st->usage.pinned_pages);
	json_int(&j, "charged_pages", st->usage.charged_pages);
	json_int(&j, "pfn_storage_bytes", st->usage.pfn_storage_bytes);
	json_end_object(&j);
	json_end_object(&j);
}

int ifd_cmd_status(bool as_json)
{
	struct status st;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = gather(&st);
	if (rc)
		return rc;
	if (as_json)
		json_status(&st);
	else
		text_status(&st);
	ifd_scan_free(&st.scan);
	ifd_module_free(&st.core);
	ifd_module_free(&st.vfio);
	return fflush(stdout) ? IFD_EXIT_FAILED : IFD_EXIT_OK;
}
