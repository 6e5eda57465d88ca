/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Readers of what the module shows administrators: the iommufd-* lines of
 * a /dev/iommu file's fdinfo and the module totals in debugfs
 * (iommufd/usage).  The format is README's "What the kernel shows".
 * Include after iommufd_harness.h.
 */
#ifndef SELFTESTS_IOMMUFD_LEDGER_H
#define SELFTESTS_IOMMUFD_LEDGER_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define IOMMUFD_USAGE_FILE	"/sys/kernel/debug/iommufd/usage"

#define LEDGER_MAX_PAYERS	8

/* One iommufd-payer line: pid 0 for a payer that has exited. */
struct fd_payer {
	long pid, uid, pinned, charged;
};

/* One context as its fdinfo shows it; -1 where a line was missing. */
struct fd_ledger {
	char mode[16];
	long ioas, hwpt_paging, device, access, selftest;
	long pinned, charged, pfn_bytes;
	int npayers;			/* payer lines read */
	bool payer_none;		/* the line said "none" */
	struct fd_payer payers[LEDGER_MAX_PAYERS];
};

/* The sums over every context of the module; -1 where missing. */
struct module_usage {
	long contexts, pinned, charged, pfn_bytes;
};

static inline bool ledger_key(const char *line, const char *key, long *val)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) || line[n] != ':' || line[n + 1] != '\t')
		return false;
	return sscanf(line + n + 2, "%ld", val) == 1;
}

/* @pid's fd @fd (0 for this process): its ledger, from fdinfo. */
static inline struct fd_ledger fd_ledger_of(int pid, int fd)
{
	struct fd_ledger l = {
		.ioas = -1, .hwpt_paging = -1, .device = -1, .access = -1,
		.selftest = -1, .pinned = -1, .charged = -1, .pfn_bytes = -1,
	};
	char path[64], line[256];
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, fd);
	else
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "iommufd-account-mode:\t%15s", l.mode) == 1)
			continue;
		if (!strcmp(line, "iommufd-payer:\tnone\n")) {
			l.payer_none = true;
			continue;
		}
		if (!strncmp(line, "iommufd-payer:\t", 15)) {
			struct fd_payer *p = &l.payers[l.npayers];

			ASSERT_GT(LEDGER_MAX_PAYERS, l.npayers);
			ASSERT_EQ(4, sscanf(line, "iommufd-payer:\tpid=%ld uid=%ld pinned=%ld charged=%ld",
					    &p->pid, &p->uid, &p->pinned,
					    &p->charged));
			l.npayers++;
			continue;
		}
		(void)(ledger_key(line, "iommufd-ioas", &l.ioas) ||
		       ledger_key(line, "iommufd-hwpt-paging", &l.hwpt_paging) ||
		       ledger_key(line, "iommufd-device", &l.device) ||
		       ledger_key(line, "iommufd-access", &l.access) ||
		       ledger_key(line, "iommufd-selftest", &l.selftest) ||
		       ledger_key(line, "iommufd-pinned-pages", &l.pinned) ||
		       ledger_key(line, "iommufd-charged-pages", &l.charged) ||
		       ledger_key(line, "iommufd-pfn-storage-bytes",
				  &l.pfn_bytes));
	}
	fclose(f);
	return l;
}

static inline struct fd_ledger fd_ledger(int fd)
{
	return fd_ledger_of(0, fd);
}

/* False when debugfs (or the module's file in it) is not there. */
static inline bool module_usage(struct module_usage *u)
{
	char line[256];
	FILE *f = fopen(IOMMUFD_USAGE_FILE, "re");

	*u = (struct module_usage){ -1, -1, -1, -1 };
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		(void)(ledger_key(line, "contexts", &u->contexts) ||
		       ledger_key(line, "pinned-pages", &u->pinned) ||
		       ledger_key(line, "charged-pages", &u->charged) ||
		       ledger_key(line, "pfn-storage-bytes", &u->pfn_bytes));
	}
	fclose(f);
	return true;
}

#define REQUIRE_MODULE_USAGE(u)						\
	do {								\
		if (!module_usage(u))					\
			SKIP("no " IOMMUFD_USAGE_FILE ": debugfs not mounted?");\
	} while (0)

#endif /* SELFTESTS_IOMMUFD_LEDGER_H */
