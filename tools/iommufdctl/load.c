// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl load / unload: the modules through libkmod, as modprobe
 * loads them.  Unloading refuses while anything uses them, rather than
 * leaving the decision (and an EBUSY without names) to the kernel.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libkmod.h>

#include "iommufdctl.h"

#define VFIO_TYPE1_PARAM	"/sys/module/iommufd_vfio/parameters/type1"

static int param_is_on(const struct ifd_module *m, const char *name)
{
	const char *v = ifd_module_param(m, name);

	return v && (v[0] == 'Y' || v[0] == '1');
}

static int load_error(const char *name, int err)
{
	if (err == -ENOENT) {
		fprintf(stderr, "iommufdctl: %s is not installed for this kernel (dkms status iommufd-dkms?)\n",
			name);
		return IFD_EXIT_NOTFOUND;
	}
	fprintf(stderr, "iommufdctl: loading %s failed: %s (see dmesg)\n",
		name, strerror(-err));
	return IFD_EXIT_FAILED;
}

static int load_core(struct kmod_ctx *kctx, bool selftest)
{
	struct ifd_module m;
	int rc, on;

	ifd_module_read(kctx, "iommufd", &m);
	if (m.loaded) {
		on = param_is_on(&m, "selftest");
		ifd_module_free(&m);
		if (on != selftest) {
			fprintf(stderr, "iommufdctl: iommufd is already loaded %s self-test mode; `iommufdctl unload` first\n",
				on ? "in" : "without");
			return IFD_EXIT_BUSY;
		}
		printf("iommufd: already loaded%s\n",
		       on ? " (self-test mode)" : "");
		return IFD_EXIT_OK;
	}
	ifd_module_free(&m);
	rc = ifd_module_load(kctx, "iommufd", selftest ? "selftest=1" : NULL);
	if (rc)
		return load_error("iommufd", rc);
	/* modprobe.d may have options of its own: say what we got. */
	ifd_module_read(kctx, "iommufd", &m);
	on = param_is_on(&m, "selftest");
	ifd_module_free(&m);
	printf("iommufd: loaded%s\n", on ? " in self-test mode (the kernel is now tainted; never on a production system)" : "");
	if (on != selftest) {
		fprintf(stderr, "iommufdctl: iommufd came up with selftest=%s: a modprobe.d option overrides it\n",
			on ? "Y" : "N");
		return IFD_EXIT_FAILED;
	}
	return IFD_EXIT_OK;
}

static int load_vfio(struct kmod_ctx *kctx, bool type1)
{
	struct ifd_module m;
	int rc, on;

	ifd_module_read(kctx, "iommufd_vfio", &m);
	on = param_is_on(&m, "type1");
	if (m.loaded) {
		ifd_module_free(&m);
		/* type1 is writable at run time (module/vfio/container.c). */
		if (type1 && !on) {
			rc = ifd_write_str(VFIO_TYPE1_PARAM, "Y");
			if (rc) {
				fprintf(stderr, "iommufdctl: cannot set %s: %s\n",
					VFIO_TYPE1_PARAM, strerror(-rc));
				return IFD_EXIT_FAILED;
			}
			printf("iommufd_vfio: already loaded; type1 compatibility turned on\n");
			return IFD_EXIT_OK;
		}
		printf("iommufd_vfio: already loaded (type1 %s)\n",
		       on ? "on" : "off");
		return IFD_EXIT_OK;
	}
	ifd_module_free(&m);
	rc = ifd_module_load(kctx, "iommufd_vfio", type1 ? "type1=1" : NULL);
	if (rc)
		return load_error("iommufd_vfio", rc);
	ifd_module_read(kctx, "iommufd_vfio", &m);
	on = param_is_on(&m, "type1");
	ifd_module_free(&m);
	printf("iommufd_vfio: loaded (type1 %s)\n", on ? "on" : "off");
	return IFD_EXIT_OK;
}

int ifd_cmd_load(bool selftest, bool vfio, bool type1)
{
	struct kmod_ctx *kctx = ifd_kmod_open();
	int rc;

	if (!kctx) {
		fprintf(stderr, "iommufdctl: cannot create a libkmod context\n");
		return IFD_EXIT_FAILED;
	}
	rc = load_core(kctx, selftest);
	if (!rc && (vfio || type1))
		rc = load_vfio(kctx, type1);
	kmod_unref(kctx);
	return rc;
}

/* Open /dev/iommu files, listed; the number of them, or -errno. */
static int open_contexts(void)
{
	struct ifd_scan scan;
	dev_t rdev;
	int n;

	if (ifd_iommu_rdev(&rdev))
		return 0;
	n = ifd_scan_contexts("/proc", rdev, &scan);
	if (n < 0)
		return n;
	if (scan.nctx) {
		fprintf(stderr, "iommufdctl: /dev/iommu is open; close these first:\n");
		ifd_print_contexts_brief(&scan, stderr);
	}
	n = scan.nctx;
	ifd_scan_free(&scan);
	return n;
}

static long long module_contexts(void)
{
	struct ifd_usage u = { .contexts = IFD_UNKNOWN };
	FILE *f = fopen("/sys/kernel/debug/iommufd/usage", "r");

	if (!f)
		return IFD_UNKNOWN;
	ifd_usage_parse(f, &u);
	fclose(f);
	return u.contexts;
}

static int unload_one(struct kmod_ctx *kctx, const char *name)
{
	struct ifd_module m;
	int rc, i;

	ifd_module_read(kctx, name, &m);
	if (!m.loaded) {
		printf("%s: not loaded\n", name);
		ifd_module_free(&m);
		return IFD_EXIT_OK;
	}
	if (m.nholders) {
		fprintf(stderr, "iommufdctl: %s is used by module(s):", name);
		for (i = 0; i < m.nholders; i++)
			fprintf(stderr, " %s", m.holders[i]);
		fprintf(stderr, "\n");
		ifd_module_free(&m);
		return IFD_EXIT_BUSY;
	}
	if (m.refcnt > 0) {
		fprintf(stderr, "iommufdctl: %s is in use (use count %lld)%s\n",
			name, m.refcnt, strcmp(name, "iommufd_vfio") ? "" :
			": a VFIO container uses it as its IOMMU backend");
		ifd_module_free(&m);
		return IFD_EXIT_BUSY;
	}
	ifd_module_free(&m);
	rc = ifd_module_unload(kctx, name);
	if (rc == -EBUSY || rc == -EAGAIN) {
		fprintf(stderr, "iommufdctl: %s is in use: %s\n", name,
			strerror(-rc));
		return IFD_EXIT_BUSY;
	}
	if (rc) {
		fprintf(stderr, "iommufdctl: removing %s failed: %s\n", name,
			strerror(-rc));
		return IFD_EXIT_FAILED;
	}
	printf("%s: unloaded\n", name);
	return IFD_EXIT_OK;
}

int ifd_cmd_unload(void)
{
	struct kmod_ctx *kctx;
	long long nctx;
	int rc;

	rc = open_contexts();
	if (rc < 0) {
		fprintf(stderr, "iommufdctl: cannot scan /proc: %s\n",
			strerror(-rc));
		return IFD_EXIT_FAILED;
	}
	if (rc > 0)
		return IFD_EXIT_BUSY;
	/* VFIO containers' contexts are no /dev/iommu files. */
	nctx = module_contexts();
	if (nctx > 0) {
		fprintf(stderr, "iommufdctl: iommufd has %lld context(s) open (VFIO containers through iommufd_vfio, or files of processes we cannot see)\n",
			nctx);
		return IFD_EXIT_BUSY;
	}
	kctx = ifd_kmod_open();
	if (!kctx) {
		fprintf(stderr, "iommufdctl: cannot create a libkmod context\n");
		return IFD_EXIT_FAILED;
	}
	rc = unload_one(kctx, "iommufd_vfio");
	if (!rc)
		rc = unload_one(kctx, "iommufd");
	kmod_unref(kctx);
	return rc;
}
