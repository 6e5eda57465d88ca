// SPDX-License-Identifier: GPL-2.0
/*
 * The modules, through libkmod (depmod's index: the module a `modprobe
 * iommufd` would load, its modinfo, loading and removal) and sysfs
 * (/sys/module/NAME: what the loaded module really runs with).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libkmod.h>

#include "iommufdctl.h"

struct kmod_ctx *ifd_kmod_open(void)
{
	struct kmod_ctx *kctx = kmod_new(NULL, NULL);

	if (kctx)
		kmod_load_resources(kctx);
	return kctx;
}

/* The module depmod's index resolves @name to (name or alias). */
static struct kmod_module *lookup(struct kmod_ctx *kctx, const char *name)
{
	struct kmod_list *list = NULL, *it;
	struct kmod_module *mod = NULL;

	if (kmod_module_new_from_lookup(kctx, name, &list) < 0 || !list)
		return NULL;
	kmod_list_foreach(it, list) {
		mod = kmod_module_get_module(it);
		break;
	}
	kmod_module_unref_list(list);
	return mod;
}

static struct ifd_param *param_slot(struct ifd_module *m, const char *name,
				    size_t len)
{
	struct ifd_param *p;
	int i;

	for (i = 0; i < m->nparams; i++)
		if (strlen(m->params[i].name) == len &&
		    !strncmp(m->params[i].name, name, len))
			return &m->params[i];
	p = realloc(m->params, (m->nparams + 1) * sizeof(*p));
	if (!p)
		return NULL;
	m->params = p;
	p = &m->params[m->nparams++];
	memset(p, 0, sizeof(*p));
	p->name = strndup(name, len);
	return p;
}

/* modinfo's parm ("name:description") and parmtype ("name:type"). */
static void read_modinfo(struct kmod_module *mod, struct ifd_module *m)
{
	struct kmod_list *info = NULL, *it;

	if (kmod_module_get_info(mod, &info) < 0)
		return;
	kmod_list_foreach(it, info) {
		const char *key = kmod_module_info_get_key(it);
		const char *value = kmod_module_info_get_value(it);
		const char *colon = value ? strchr(value, ':') : NULL;
		struct ifd_param *p;

		if (!strcmp(key, "version") && value && !m->installed_version)
			m->installed_version = strdup(value);
		if (!colon || (strcmp(key, "parm") && strcmp(key, "parmtype")))
			continue;
		p = param_slot(m, value, colon - value);
		if (!p)
			continue;
		if (!strcmp(key, "parm") && !p->description)
			p->description = strdup(colon + 1);
		else if (!strcmp(key, "parmtype") && !p->type)
			p->type = strdup(colon + 1);
	}
	kmod_module_info_free_list(info);
}

/* The values a loaded module has in /sys/module/NAME/parameters. */
static void read_sysfs_params(struct ifd_module *m)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters", m->name);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		char file[PATH_MAX + 256];
		struct ifd_param *p;

		if (de->d_name[0] == '.')
			continue;
		p = param_slot(m, de->d_name, strlen(de->d_name));
		if (!p)
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		free(p->value);
		p->value = ifd_read_line(file);
	}
	closedir(dir);
}

static void read_holders(struct ifd_module *m)
{
	char path[PATH_MAX];
	struct dirent *de;
	char **grown;
	DIR *dir;

	snprintf(path, sizeof(path), "/sys/module/%s/holders", m->name);
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		grown = realloc(m->holders, (m->nholders + 1) * sizeof(*grown));
		if (!grown)
			break;
		m->holders = grown;
		m->holders[m->nholders++] = strdup(de->d_name);
	}
	closedir(dir);
}

static char *sysfs_module_attr(const char *name, const char *attr)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/module/%s/%s", name, attr);
	return ifd_read_line(path);
}

int ifd_module_read(struct kmod_ctx *kctx, const char *name,
		    struct ifd_module *m)
{
	struct kmod_module *mod;
	char *s;

	memset(m, 0, sizeof(*m));
	m->name = name;
	m->refcnt = IFD_UNKNOWN;

	/* initstate exists for loadable modules only. */
	s = sysfs_module_attr(name, "initstate");
	m->state = s ? s : strdup("not loaded");
	m->loaded = s && !strcmp(s, "live");

	mod = lookup(kctx, name);
	if (mod && !s &&
	    kmod_module_get_initstate(mod) == KMOD_MODULE_BUILTIN) {
		free(m->state);
		m->state = strdup("builtin");
	}
	if (mod) {
		const char *path = kmod_module_get_path(mod);

		m->installed = path != NULL;
		m->path = path ? strdup(path) : NULL;
		if (path)
			read_modinfo(mod, m);
		kmod_module_unref(mod);
	}
	if (!s)
		return 0;
	m->version = sysfs_module_attr(name, "version");
	m->srcversion = sysfs_module_attr(name, "srcversion");
	m->taint = sysfs_module_attr(name, "taint");
	s = sysfs_module_attr(name, "refcnt");
	if (s && *s)
		m->refcnt = strtoll(s, NULL, 10);
	free(s);
	read_holders(m);
	read_sysfs_params(m);
	return 0;
}

void ifd_module_free(struct ifd_module *m)
{
	int i;

	for (i = 0; i < m->nparams; i++) {
		free(m->params[i].name);
		free(m->params[i].value);
		free(m->params[i].type);
		free(m->params[i].description);
	}
	for (i = 0; i < m->nholders; i++)
		free(m->holders[i]);
	free(m->params);
	free(m->holders);
	free(m->state);
	free(m->path);
	free(m->version);
	free(m->installed_version);
	free(m->srcversion);
	free(m->taint);
	memset(m, 0, sizeof(*m));
}

/* The loaded value of parameter @name, or NULL. */
const char *ifd_module_param(const struct ifd_module *m, const char *name)
{
	int i;

	for (i = 0; i < m->nparams; i++)
		if (!strcmp(m->params[i].name, name))
			return m->params[i].value;
	return NULL;
}

/*
 * Load @name and what it depends on as modprobe would (options from
 * modprobe.d, soft dependencies, install commands), with @options added.
 * 0, or -errno (-ENOENT: not installed for this kernel).
 */
int ifd_module_load(struct kmod_ctx *kctx, const char *name,
		    const char *options)
{
	struct kmod_module *mod = lookup(kctx, name);
	int rc;

	if (!mod)
		return -ENOENT;
	rc = kmod_module_probe_insert_module(mod, 0, options, NULL, NULL,
					     NULL);
	kmod_module_unref(mod);
	/* Positive: refused by a blacklist we did not ask to apply. */
	return rc > 0 ? -EPERM : rc;
}

int ifd_module_unload(struct kmod_ctx *kctx, const char *name)
{
	struct kmod_module *mod;
	int rc;

	rc = kmod_module_new_from_name(kctx, name, &mod);
	if (rc < 0)
		return rc;
	rc = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	return rc;
}

/* The module taint letters of kernel/panic.c (those a module can carry). */
const char *ifd_taint_meaning(char letter)
{
	switch (letter) {
	case 'P': return "proprietary";
	case 'F': return "forced-load";
	case 'C': return "staging";
	case 'O': return "out-of-tree";
	case 'E': return "unsigned";
	case 'K': return "livepatch";
	case 'X': return "auxiliary";
	case 'T': return "randstruct";
	case 'N': return "test";
	default: return NULL;
	}
}
