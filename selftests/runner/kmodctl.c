// SPDX-License-Identifier: GPL-2.0
/*
 * kmodctl: the guest's module loader, on top of libkmod.
 *
 *   kmodctl load NAME [PARAM=VALUE...]  resolve NAME (and its dependencies)
 *                                       through modules.dep, as modprobe does
 *   kmodctl unload NAME                 remove NAME; fails if it is in use
 *   kmodctl refcnt NAME                 print the module's use count
 *
 * The guest runs this rather than busybox's insmod so that the module is
 * found the way an administrator's `modprobe iommufd` finds a DKMS install
 * (updates/dkms, depmod's index) and its dependencies come along.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libkmod.h>

static struct kmod_module *lookup(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL, *it;
	struct kmod_module *mod = NULL;
	int rc;

	rc = kmod_module_new_from_lookup(ctx, name, &list);
	if (rc < 0 || !list) {
		fprintf(stderr, "kmodctl: %s: module not found\n", name);
		return NULL;
	}
	kmod_list_foreach(it, list) {
		mod = kmod_module_get_module(it);
		break;
	}
	kmod_module_unref_list(list);
	return mod;
}

static char *join_params(int argc, char **argv)
{
	size_t len = 1;
	char *params;
	int i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	params = calloc(1, len);
	if (!params)
		return NULL;
	for (i = 0; i < argc; i++) {
		if (i)
			strcat(params, " ");
		strcat(params, argv[i]);
	}
	return params;
}

static int do_load(struct kmod_ctx *ctx, const char *name, int argc,
		   char **argv)
{
	struct kmod_module *mod = lookup(ctx, name);
	char *params;
	int rc;

	if (!mod)
		return 1;
	params = join_params(argc, argv);
	rc = kmod_module_probe_insert_module(mod, KMOD_PROBE_FAIL_ON_LOADED,
					     params, NULL, NULL, NULL);
	free(params);
	kmod_module_unref(mod);
	if (rc) {
		fprintf(stderr, "kmodctl: load %s: %s\n", name,
			strerror(rc < 0 ? -rc : EEXIST));
		return 1;
	}
	return 0;
}

static int do_unload(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod;
	int rc;

	rc = kmod_module_new_from_name(ctx, name, &mod);
	if (rc < 0) {
		fprintf(stderr, "kmodctl: %s: %s\n", name, strerror(-rc));
		return 1;
	}
	rc = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	if (rc < 0) {
		fprintf(stderr, "kmodctl: unload %s: %s\n", name,
			strerror(-rc));
		return 1;
	}
	return 0;
}

static int do_refcnt(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod;
	int rc;

	rc = kmod_module_new_from_name(ctx, name, &mod);
	if (rc < 0)
		return 1;
	rc = kmod_module_get_refcnt(mod);
	kmod_module_unref(mod);
	if (rc < 0) {
		fprintf(stderr, "kmodctl: %s: not loaded\n", name);
		return 1;
	}
	printf("%d\n", rc);
	return 0;
}

int main(int argc, char **argv)
{
	struct kmod_ctx *ctx;
	int rc = 2;

	if (argc < 3) {
		fprintf(stderr, "usage: kmodctl load|unload|refcnt NAME ...\n");
		return 2;
	}
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		fprintf(stderr, "kmodctl: cannot create a libkmod context\n");
		return 1;
	}
	if (!strcmp(argv[1], "load"))
		rc = do_load(ctx, argv[2], argc - 3, argv + 3);
	else if (!strcmp(argv[1], "unload"))
		rc = do_unload(ctx, argv[2]);
	else if (!strcmp(argv[1], "refcnt"))
		rc = do_refcnt(ctx, argv[2]);
	else
		fprintf(stderr, "kmodctl: unknown command %s\n", argv[1]);
	kmod_unref(ctx);
	return rc;
}
