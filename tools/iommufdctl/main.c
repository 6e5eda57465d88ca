// SPDX-License-Identifier: GPL-2.0
/*
 * iommufdctl: administer iommufd-dkms (see iommufdctl(8)).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "iommufdctl.h"

static const char usage_text[] =
"Usage: iommufdctl COMMAND [OPTIONS]\n"
"\n"
"  status [--json]              the modules, every open /dev/iommu file with\n"
"                               its pinned and charged pages, totals per\n"
"                               payer and the module's totals\n"
"  load [--selftest] [--vfio] [--type1]\n"
"                               load iommufd (selftest=1 with --selftest: test\n"
"                               machines only); --vfio also the VFIO backend\n"
"                               iommufd_vfio, --type1 with type1=1\n"
"  unload                       remove iommufd_vfio and iommufd; refuses while\n"
"                               anything uses them\n"
"  bind [--force] BDF           hand PCI device BDF to vfio-pci\n"
"  unbind BDF                   give it back to the driver the bus picks\n"
"  --help, -h                   this text\n"
"\n"
"Exit status: 0 done, 1 failed, 2 bad usage, 3 refused (in use, or the\n"
"IOMMU group is not ready), 4 no such module or device.\n";

static int usage(FILE *out, int rc)
{
	fputs(usage_text, out);
	return rc;
}

enum { OPT_JSON = 1, OPT_SELFTEST, OPT_VFIO, OPT_TYPE1, OPT_FORCE };

static const struct option options[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "selftest", no_argument, NULL, OPT_SELFTEST },
	{ "vfio", no_argument, NULL, OPT_VFIO },
	{ "type1", no_argument, NULL, OPT_TYPE1 },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	bool json = false, selftest = false, vfio = false, type1 = false;
	bool force = false;
	const char *cmd;
	int opt, nargs;
	char **args;

	/* Messages on stderr come in order with the lines before them. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2)
		return usage(stderr, IFD_EXIT_USAGE);
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") ||
	    !strcmp(cmd, "help"))
		return usage(stdout, IFD_EXIT_OK);
	/* Options after the command only, each valid for its command. */
	optind = 2;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			return usage(stdout, IFD_EXIT_OK);
		case OPT_JSON:
			json = true;
			break;
		case OPT_SELFTEST:
			selftest = true;
			break;
		case OPT_VFIO:
			vfio = true;
			break;
		case OPT_TYPE1:
			type1 = true;
			break;
		case OPT_FORCE:
			force = true;
			break;
		default:
			return usage(stderr, IFD_EXIT_USAGE);
		}
	}
	args = argv + optind;
	nargs = argc - optind;

#define ONLY(cond) do { if (!(cond)) return usage(stderr, IFD_EXIT_USAGE); } while (0)
	if (!strcmp(cmd, "status")) {
		ONLY(!nargs && !selftest && !vfio && !type1 && !force);
		return ifd_cmd_status(json);
	}
	if (!strcmp(cmd, "load")) {
		ONLY(!nargs && !json && !force);
		return ifd_cmd_load(selftest, vfio, type1);
	}
	if (!strcmp(cmd, "unload")) {
		ONLY(!nargs && !json && !selftest && !vfio && !type1 && !force);
		return ifd_cmd_unload();
	}
	if (!strcmp(cmd, "bind")) {
		ONLY(nargs == 1 && !json && !selftest && !vfio && !type1);
		return ifd_cmd_bind(args[0], force);
	}
	if (!strcmp(cmd, "unbind")) {
		ONLY(nargs == 1 && !json && !selftest && !vfio && !type1 &&
		     !force);
		return ifd_cmd_unbind(args[0]);
	}
#undef ONLY
	fprintf(stderr, "iommufdctl: unknown command %s\n", cmd);
	return usage(stderr, IFD_EXIT_USAGE);
}
