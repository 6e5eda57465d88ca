// SPDX-License-Identifier: GPL-2.0
/*
 * Parsers of the two text formats the module writes (README, "What the
 * kernel exposes"): the iommufd- lines of a /dev/iommu file's fdinfo and
 * the totals in debugfs.  Both are "key:\tvalue" lines.  Lines we do not
 * know are skipped, so a newer module with more keys still parses; a
 * known key whose value does not parse stays unknown and is counted, so
 * the caller can say the kernel wrote something unexpected.
 */
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "iommufdctl.h"

/* A whole decimal number, nothing but blanks around it. */
static long long parse_count(const char *s)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!isdigit((unsigned char)*s))
		return IFD_UNKNOWN;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > (unsigned long long)__LONG_LONG_MAX__)
		return IFD_UNKNOWN;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	return *end ? IFD_UNKNOWN : (long long)v;
}

/* Split "key:\tvalue\n" in place; NULL if the line has no colon. */
static char *split_line(char *line, char **value)
{
	char *colon = strchr(line, ':');
	size_t n;

	if (!colon)
		return NULL;
	*colon = 0;
	*value = colon + 1;
	while (**value == ' ' || **value == '\t')
		(*value)++;
	n = strlen(*value);
	while (n && ((*value)[n - 1] == '\n' || (*value)[n - 1] == ' '))
		(*value)[--n] = 0;
	return line;
}

void ifd_fdinfo_init(struct ifd_fdinfo *fi)
{
	memset(fi, 0, sizeof(*fi));
	fi->ioas = fi->hwpt_paging = fi->device = fi->access = IFD_UNKNOWN;
	fi->selftest = fi->pinned_pages = fi->charged_pages = IFD_UNKNOWN;
	fi->pfn_storage_bytes = IFD_UNKNOWN;
	fi->payer = IFD_PAYER_UNKNOWN;
}

void ifd_fdinfo_release(struct ifd_fdinfo *fi)
{
	free(fi->payers);
	fi->payers = NULL;
	fi->npayers = 0;
}

/*
 * "pid=P uid=U pinned=N charged=M", words in any order, words we do not
 * know skipped; or "none".  One line per paying process.  A line without
 * pinned= and charged= is a module from before per-payer counts: its
 * payer is kept with the two unknown, which is not an error.  False when
 * a word we know does not parse, or pid or uid is missing; the payer is
 * still kept if any word was read, so the lines' sums stay honest.
 */
static bool parse_payer(const char *v, struct ifd_fdinfo *fi)
{
	static const struct {
		const char *word;
		size_t offset;
	} words[] = {
		{ "pid=", offsetof(struct ifd_payer, pid) },
		{ "uid=", offsetof(struct ifd_payer, uid) },
		{ "pinned=", offsetof(struct ifd_payer, pinned_pages) },
		{ "charged=", offsetof(struct ifd_payer, charged_pages) },
	};
	struct ifd_payer p = { IFD_UNKNOWN, IFD_UNKNOWN, IFD_UNKNOWN,
			       IFD_UNKNOWN }, *grown;
	char buf[256], *tok, *save;
	bool ok = true, any = false;
	size_t i, n;

	if (!strcmp(v, "none")) {
		if (fi->payer == IFD_PAYER_UNKNOWN)
			fi->payer = IFD_PAYER_NONE;
		return !fi->npayers;
	}
	if (strlen(v) >= sizeof(buf))
		return false;
	strcpy(buf, v);
	for (tok = strtok_r(buf, " \t", &save); tok;
	     tok = strtok_r(NULL, " \t", &save)) {
		for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
			long long *slot;

			n = strlen(words[i].word);
			if (strncmp(tok, words[i].word, n))
				continue;
			slot = (long long *)((char *)&p + words[i].offset);
			*slot = parse_count(tok + n);
			if (*slot == IFD_UNKNOWN)
				ok = false;
			else
				any = true;
			break;
		}
	}
	if (p.pid == IFD_UNKNOWN || p.uid == IFD_UNKNOWN)
		ok = false;
	if (!any)
		return false;
	grown = realloc(fi->payers, (fi->npayers + 1) * sizeof(*grown));
	if (!grown)
		return false;
	fi->payers = grown;
	fi->payers[fi->npayers++] = p;
	/* Payer lines and "none" together: the lines win. */
	fi->payer = IFD_PAYER_SET;
	return ok;
}

/* A mode word as the kernel wrote it, if it looks like one. */
static bool parse_mode(const char *v, struct ifd_fdinfo *fi)
{
	size_t i, n = strlen(v);

	if (!n || n >= sizeof(fi->account_mode))
		return false;
	for (i = 0; i < n; i++)
		if (!islower((unsigned char)v[i]) && v[i] != '-')
			return false;
	memcpy(fi->account_mode, v, n + 1);
	return true;
}

static const struct {
	const char *key;
	size_t offset;
} fdinfo_counts[] = {
	{ "iommufd-ioas", offsetof(struct ifd_fdinfo, ioas) },
	{ "iommufd-hwpt-paging", offsetof(struct ifd_fdinfo, hwpt_paging) },
	{ "iommufd-device", offsetof(struct ifd_fdinfo, device) },
	{ "iommufd-access", offsetof(struct ifd_fdinfo, access) },
	{ "iommufd-selftest", offsetof(struct ifd_fdinfo, selftest) },
	{ "iommufd-pinned-pages", offsetof(struct ifd_fdinfo, pinned_pages) },
	{ "iommufd-charged-pages",
	  offsetof(struct ifd_fdinfo, charged_pages) },
	{ "iommufd-pfn-storage-bytes",
	  offsetof(struct ifd_fdinfo, pfn_storage_bytes) },
};

void ifd_fdinfo_parse(FILE *f, struct ifd_fdinfo *fi)
{
	char line[512], *key, *value;
	size_t i;

	/* The caller's @fi is either fresh or released: nothing to free. */
	ifd_fdinfo_init(fi);
	while (fgets(line, sizeof(line), f)) {
		key = split_line(line, &value);
		if (!key || strncmp(key, "iommufd-", 8))
			continue;
		fi->iommufd_lines = true;
		if (!strcmp(key, "iommufd-account-mode")) {
			if (!parse_mode(value, fi))
				fi->malformed++;
			continue;
		}
		if (!strcmp(key, "iommufd-payer")) {
			if (!parse_payer(value, fi))
				fi->malformed++;
			continue;
		}
		for (i = 0; i < sizeof(fdinfo_counts) / sizeof(fdinfo_counts[0]);
		     i++) {
			long long *slot;

			if (strcmp(key, fdinfo_counts[i].key))
				continue;
			slot = (long long *)((char *)fi +
					     fdinfo_counts[i].offset);
			*slot = parse_count(value);
			if (*slot == IFD_UNKNOWN)
				fi->malformed++;
			break;
		}
	}
}

void ifd_usage_parse(FILE *f, struct ifd_usage *u)
{
	char line[256], *key, *value;

	u->contexts = u->pinned_pages = IFD_UNKNOWN;
	u->charged_pages = u->pfn_storage_bytes = IFD_UNKNOWN;
	while (fgets(line, sizeof(line), f)) {
		key = split_line(line, &value);
		if (!key)
			continue;
		if (!strcmp(key, "contexts"))
			u->contexts = parse_count(value);
		else if (!strcmp(key, "pinned-pages"))
			u->pinned_pages = parse_count(value);
		else if (!strcmp(key, "charged-pages"))
			u->charged_pages = parse_count(value);
		else if (!strcmp(key, "pfn-storage-bytes"))
			u->pfn_storage_bytes = parse_count(value);
	}
}
