// SPDX-License-Identifier: GPL-2.0
/*
 * Host unit tests of iommufdctl's parsers and totals, against the fixture
 * files in fixtures/ (written from README's fdinfo/debugfs format).  No
 * root and no module needed.  TAP on stdout.
 *
 * Usage: test_parsers FIXTURE_DIR
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "iommufdctl.h"

static const char *dir;
static int failures, planned, done;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: %s: ", __FILE__, __LINE__, #cond);	\
		printf(__VA_ARGS__);					\
		printf("\n");						\
		ok = false;						\
	}								\
} while (0)

#define CHECK_EQ(a, b)	CHECK((long long)(a) == (long long)(b), "%lld != %lld", \
			      (long long)(a), (long long)(b))

static void report(bool ok, const char *name)
{
	printf("%sok %d %s\n", ok ? "" : "not ", ++done, name);
	if (!ok)
		failures++;
}

static FILE *fixture(const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f) {
		printf("Bail out! cannot open %s\n", path);
		exit(1);
	}
	return f;
}

static void parse(const char *name, struct ifd_fdinfo *fi)
{
	FILE *f = fixture(name);

	ifd_fdinfo_parse(f, fi);
	fclose(f);
}

/* Payer line @k of @fi is pid, uid, pinned, charged. */
static bool payer_is(const struct ifd_fdinfo *fi, int k, long long pid,
		     long long uid, long long pinned, long long charged)
{
	const struct ifd_payer *p;

	if (k >= fi->npayers) {
		printf("# payer %d of %d\n", k, fi->npayers);
		return false;
	}
	p = &fi->payers[k];
	if (p->pid == pid && p->uid == uid && p->pinned_pages == pinned &&
	    p->charged_pages == charged)
		return true;
	printf("# payer %d: pid %lld uid %lld pinned %lld charged %lld\n", k,
	       p->pid, p->uid, p->pinned_pages, p->charged_pages);
	return false;
}

static void fdinfo_user_mode_parses_every_field(void)
{
	struct ifd_fdinfo fi;
	bool ok = true;

	parse("fdinfo-user.txt", &fi);
	CHECK(fi.iommufd_lines, "no iommufd lines");
	CHECK(!strcmp(fi.account_mode, "user"), "mode %s", fi.account_mode);
	CHECK_EQ(fi.ioas, 2);
	CHECK_EQ(fi.hwpt_paging, 1);
	CHECK_EQ(fi.device, 1);
	CHECK_EQ(fi.access, 0);
	CHECK_EQ(fi.selftest, 0);
	CHECK_EQ(fi.pinned_pages, 512);
	CHECK_EQ(fi.charged_pages, 512);
	CHECK_EQ(fi.pfn_storage_bytes, 8192);
	/* Two processes of uid 1000 pay; their lines sum to the file's. */
	CHECK_EQ(fi.payer, IFD_PAYER_SET);
	CHECK_EQ(fi.npayers, 2);
	CHECK(payer_is(&fi, 0, 1234, 1000, 384, 384), "first payer");
	CHECK(payer_is(&fi, 1, 1240, 1000, 128, 128), "second payer");
	CHECK_EQ(fi.malformed, 0);
	ifd_fdinfo_release(&fi);
	report(ok, "fdinfo_user_mode_parses_every_field_and_every_payer");
}

static void fdinfo_process_mode_with_mock_devices(void)
{
	struct ifd_fdinfo fi;
	bool ok = true;

	parse("fdinfo-process.txt", &fi);
	CHECK(!strcmp(fi.account_mode, "process"), "mode %s", fi.account_mode);
	CHECK_EQ(fi.selftest, 2);
	CHECK_EQ(fi.access, 1);
	CHECK_EQ(fi.pinned_pages, 262144);
	CHECK_EQ(fi.pfn_storage_bytes, 2097152);
	/* pid 0: a payer that exited while its mappings stay. */
	CHECK_EQ(fi.npayers, 2);
	CHECK(payer_is(&fi, 0, 77, 0, 200000, 200000), "first payer");
	CHECK(payer_is(&fi, 1, 0, 1000, 62144, 62144), "exited payer");
	CHECK_EQ(fi.malformed, 0);
	ifd_fdinfo_release(&fi);
	report(ok, "fdinfo_process_mode_with_mock_devices_and_an_exited_payer");
}

static void fdinfo_payer_none_before_any_mapping(void)
{
	struct ifd_fdinfo fi;
	bool ok = true;

	parse("fdinfo-fresh.txt", &fi);
	CHECK_EQ(fi.payer, IFD_PAYER_NONE);
	CHECK_EQ(fi.npayers, 0);
	CHECK_EQ(fi.pinned_pages, 0);
	CHECK_EQ(fi.malformed, 0);
	report(ok, "fdinfo_payer_none_before_any_mapping");
}

static void fdinfo_without_iommufd_lines_leaves_everything_unknown(void)
{
	struct ifd_fdinfo fi;
	bool ok = true;

	parse("fdinfo-no-iommufd-lines.txt", &fi);
	CHECK(!fi.iommufd_lines, "iommufd lines seen");
	CHECK(!fi.account_mode[0], "mode %s", fi.account_mode);
	CHECK_EQ(fi.ioas, IFD_UNKNOWN);
	CHECK_EQ(fi.hwpt_paging, IFD_UNKNOWN);
	CHECK_EQ(fi.device, IFD_UNKNOWN);
	CHECK_EQ(fi.access, IFD_UNKNOWN);
	CHECK_EQ(fi.selftest, IFD_UNKNOWN);
	CHECK_EQ(fi.pinned_pages, IFD_UNKNOWN);
	CHECK_EQ(fi.charged_pages, IFD_UNKNOWN);
	CHECK_EQ(fi.pfn_storage_bytes, IFD_UNKNOWN);
	CHECK_EQ(fi.payer, IFD_PAYER_UNKNOWN);
	CHECK_EQ(fi.npayers, 0);
	report(ok, "fdinfo_without_iommufd_lines_leaves_everything_unknown");
}

static void fdinfo_of_a_newer_module_skips_unknown_keys(void)
{
	struct ifd_fdinfo fi;
	bool ok = true;

	parse("fdinfo-newer-module.txt", &fi);
	CHECK_EQ(fi.ioas, 3);
	CHECK_EQ(fi.hwpt_paging, 2);
	CHECK_EQ(fi.device, 2);
	CHECK_EQ(fi.pinned_pages, 1024);
	/*
	 * Words in any order within the payer line, an unknown one skipped;
	 * unknown keys before the payer lines skipped too.
	 */
	CHECK_EQ(fi.npayers, 1);
	CHECK(payer_is(&fi, 0, 4321, 1000, 1024, 1024), "payer");
	CHECK_EQ(fi.malformed, 0);
	ifd_fdinfo_release(&fi);
	report(ok, "fdinfo_of_a_newer_module_skips_unknown_keys");
}

static void fdinfo_malformed_values_stay_unknown_and_are_counted(void)
{
	struct ifd_fdinfo fi;
	bool ok = true;

	parse("fdinfo-malformed.txt", &fi);
	CHECK(!fi.account_mode[0], "mode %s", fi.account_mode);
	CHECK_EQ(fi.ioas, IFD_UNKNOWN);
	CHECK_EQ(fi.hwpt_paging, IFD_UNKNOWN);
	CHECK_EQ(fi.device, IFD_UNKNOWN);
	CHECK_EQ(fi.access, IFD_UNKNOWN);
	CHECK_EQ(fi.pinned_pages, IFD_UNKNOWN);
	/* Blanks around a number are not an error. */
	CHECK_EQ(fi.charged_pages, 7);
	/* Absent lines are unknown, not malformed. */
	CHECK_EQ(fi.selftest, IFD_UNKNOWN);
	CHECK_EQ(fi.pfn_storage_bytes, IFD_UNKNOWN);
	/* What parsed of the first payer line is kept; "garbage" is not. */
	CHECK_EQ(fi.payer, IFD_PAYER_SET);
	CHECK_EQ(fi.npayers, 1);
	CHECK(payer_is(&fi, 0, IFD_UNKNOWN, 5, 3, IFD_UNKNOWN), "payer");
	/* mode, ioas, hwpt, device, access, pinned, two payer lines */
	CHECK_EQ(fi.malformed, 8);
	ifd_fdinfo_release(&fi);
	report(ok, "fdinfo_malformed_values_stay_unknown_and_are_counted");
}

/*
 * A module from before per-payer counts printed one "pid=P uid=U" line,
 * the last payer: it is read as that payer, with pinned and charged
 * unknown rather than the file's totals put on it.
 */
static void fdinfo_single_payer_line_of_an_older_module(void)
{
	struct ifd_fdinfo fi;
	bool ok = true;

	parse("fdinfo-single-payer-before-v2.txt", &fi);
	CHECK_EQ(fi.payer, IFD_PAYER_SET);
	CHECK_EQ(fi.npayers, 1);
	CHECK(payer_is(&fi, 0, 1234, 1000, IFD_UNKNOWN, IFD_UNKNOWN),
	      "payer");
	CHECK_EQ(fi.pinned_pages, 512);
	CHECK_EQ(fi.malformed, 0);
	ifd_fdinfo_release(&fi);
	report(ok, "fdinfo_single_payer_line_of_an_older_module");
}

static void usage_parses_the_module_totals(void)
{
	struct ifd_usage u;
	bool ok = true;
	FILE *f = fixture("usage.txt");

	ifd_usage_parse(f, &u);
	fclose(f);
	CHECK_EQ(u.contexts, 3);
	CHECK_EQ(u.pinned_pages, 512);
	CHECK_EQ(u.charged_pages, 512);
	CHECK_EQ(u.pfn_storage_bytes, 8192);
	f = fixture("usage-partial.txt");
	ifd_usage_parse(f, &u);
	fclose(f);
	CHECK_EQ(u.contexts, 1);
	CHECK_EQ(u.pinned_pages, IFD_UNKNOWN);
	CHECK_EQ(u.charged_pages, IFD_UNKNOWN);
	CHECK_EQ(u.pfn_storage_bytes, IFD_UNKNOWN);
	report(ok, "usage_parses_the_module_totals (and leaves missing ones unknown)");
}

static void add_ctx(struct ifd_scan *scan, pid_t pid, int fd, int file_id,
		    bool first, const char *fixture_name)
{
	struct ifd_context *c;

	scan->ctx = realloc(scan->ctx, (scan->nctx + 1) * sizeof(*c));
	c = &scan->ctx[scan->nctx++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->fd = fd;
	c->file_id = file_id;
	c->first = first;
	c->fdinfo_read = true;
	parse(fixture_name, &c->info);
	if (first)
		scan->nfiles++;
}

static const struct ifd_payer_total *find_payer(const struct ifd_scan *scan,
						const char *mode, long long id)
{
	int i;

	for (i = 0; i < scan->npayers; i++)
		if (!strcmp(scan->payers[i].mode, mode) &&
		    scan->payers[i].id == id)
			return &scan->payers[i];
	return NULL;
}

static void totals_come_from_the_payer_lines_each_file_once(void)
{
	struct ifd_scan scan = { 0 };
	const struct ifd_payer_total *t;
	bool ok = true;

	/*
	 * uid 1000 (user mode): two processes in the first file, which a
	 * child also holds, and one in the second.
	 */
	add_ctx(&scan, 1234, 3, 1, true, "fdinfo-user.txt");
	add_ctx(&scan, 1235, 3, 1, false, "fdinfo-user.txt");
	add_ctx(&scan, 4321, 5, 2, true, "fdinfo-newer-module.txt");
	/* Process mode: pid 77 and an exited payer; a fresh file; one unread. */
	add_ctx(&scan, 77, 9, 3, true, "fdinfo-process.txt");
	add_ctx(&scan, 80, 4, 4, true, "fdinfo-fresh.txt");
	add_ctx(&scan, 81, 4, 5, true, "fdinfo-no-iommufd-lines.txt");
	ifd_scan_totals(&scan);
	CHECK_EQ(scan.npayers, 3);
	t = find_payer(&scan, "user", 1000);
	CHECK(t, "no user 1000");
	if (t) {
		CHECK_EQ(t->files, 2);
		CHECK_EQ(t->pinned_pages, 384 + 128 + 1024);
		CHECK_EQ(t->charged_pages, 384 + 128 + 1024);
	}
	/* Only its own line's share, not the whole file's 262144. */
	t = find_payer(&scan, "process", 77);
	CHECK(t, "no process 77");
	if (t) {
		CHECK_EQ(t->files, 1);
		CHECK_EQ(t->pinned_pages, 200000);
		CHECK_EQ(t->charged_pages, 200000);
	}
	t = find_payer(&scan, "process", 0);
	CHECK(t, "no exited payers");
	if (t) {
		CHECK_EQ(t->files, 1);
		CHECK_EQ(t->charged_pages, 62144);
	}
	CHECK_EQ(scan.unattributed, 1);
	ifd_scan_free(&scan);
	report(ok, "totals_come_from_the_payer_lines_each_file_once");
}

static void totals_gather_exited_payers_of_several_files(void)
{
	struct ifd_scan scan = { 0 };
	const struct ifd_payer_total *t;
	bool ok = true;

	add_ctx(&scan, 77, 9, 1, true, "fdinfo-process.txt");
	add_ctx(&scan, 78, 9, 2, true, "fdinfo-process.txt");
	ifd_scan_totals(&scan);
	CHECK_EQ(scan.npayers, 2);
	t = find_payer(&scan, "process", 0);
	CHECK(t, "no exited payers");
	if (t) {
		CHECK_EQ(t->files, 2);
		CHECK_EQ(t->pinned_pages, 2 * 62144);
	}
	ifd_scan_free(&scan);
	report(ok, "totals_gather_exited_payers_of_several_files");
}

static void totals_become_unknown_when_one_line_is_unknown(void)
{
	struct ifd_scan scan = { 0 };
	const struct ifd_payer_total *t;
	bool ok = true;

	add_ctx(&scan, 1, 3, 1, true, "fdinfo-cap-ipc-lock.txt");
	add_ctx(&scan, 2, 3, 2, true, "fdinfo-cap-ipc-lock.txt");
	scan.ctx[1].info.payers[0].pinned_pages = IFD_UNKNOWN;
	/* An older module's line: its share is unknown, not the file's. */
	add_ctx(&scan, 1234, 4, 3, true, "fdinfo-single-payer-before-v2.txt");
	ifd_scan_totals(&scan);
	t = find_payer(&scan, "user", 0);
	CHECK(t, "no user 0");
	if (t) {
		CHECK_EQ(t->files, 2);
		CHECK_EQ(t->pinned_pages, IFD_UNKNOWN);
		/* CAP_IPC_LOCK: pinned, never charged. */
		CHECK_EQ(t->charged_pages, 0);
	}
	t = find_payer(&scan, "user", 1000);
	CHECK(t, "no user 1000");
	if (t) {
		CHECK_EQ(t->files, 1);
		CHECK_EQ(t->pinned_pages, IFD_UNKNOWN);
		CHECK_EQ(t->charged_pages, IFD_UNKNOWN);
	}
	CHECK_EQ(scan.unattributed, 0);
	ifd_scan_free(&scan);
	report(ok, "totals_become_unknown_when_one_line_is_unknown");
}

static char *json_of(void (*emit)(struct ifd_json *j))
{
	struct ifd_json j = { 0 };
	char *buf = NULL;
	size_t len = 0;

	j.out = open_memstream(&buf, &len);
	emit(&j);
	fclose(j.out);
	return buf;
}

static void emit_sample(struct ifd_json *j)
{
	json_begin_object(j, NULL);
	json_string(j, "comm", "a\"b\\c\n\x01");
	json_int(j, "pinned", 5);
	json_int(j, "charged", IFD_UNKNOWN);
	json_begin_array(j, "empty");
	json_end_array(j);
	json_begin_array(j, "list");
	json_bool(j, NULL, true);
	json_string(j, NULL, NULL);
	json_end_array(j);
	json_end_object(j);
}

static void json_writer_escapes_and_prints_unknown_as_null(void)
{
	const char *want =
		"{\n"
		"  \"comm\": \"a\\\"b\\\\c\\n\\u0001\",\n"
		"  \"pinned\": 5,\n"
		"  \"charged\": null,\n"
		"  \"empty\": [],\n"
		"  \"list\": [\n"
		"    true,\n"
		"    null\n"
		"  ]\n"
		"}\n";
	char *got = json_of(emit_sample);
	bool ok = true;

	CHECK(!strcmp(got, want), "got:\n%s", got);
	free(got);
	report(ok, "json_writer_escapes_and_prints_unknown_as_null");
}

static void pci_addresses_are_normalized_or_refused(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "0000:00:03.0", "0000:00:03.0" },
		{ "00:03.0", "0000:00:03.0" },
		{ "0001:0A:1f.7", "0001:0a:1f.7" },
		{ "0000:00:20.0", NULL },	/* device > 31 */
		{ "0000:00:03.8", NULL },	/* function > 7 */
		{ "0000:00:03", NULL },
		{ "../../x", NULL },
		{ "0000:00:03.0 ", NULL },
		{ "", NULL },
	};
	char out[32];
	bool ok = true;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = ifd_pci_normalize(cases[i].in, out, sizeof(out));

		if (cases[i].out)
			CHECK(!rc && !strcmp(out, cases[i].out), "%s -> %s",
			      cases[i].in, rc ? "refused" : out);
		else
			CHECK(rc, "%s accepted as %s", cases[i].in, out);
	}
	report(ok, "pci_addresses_are_normalized_or_refused");
}

static void taint_letters_have_names(void)
{
	bool ok = true;

	CHECK(!strcmp(ifd_taint_meaning('O'), "out-of-tree"), "O");
	CHECK(!strcmp(ifd_taint_meaning('E'), "unsigned"), "E");
	CHECK(!strcmp(ifd_taint_meaning('N'), "test"), "N");
	CHECK(!ifd_taint_meaning('Z'), "Z");
	report(ok, "taint_letters_have_names");
}

/*
 * The /proc walk on the host: this process's descriptors of /dev/null,
 * found by device number; a dup() is the same file, a second open() not.
 */
static void scan_finds_descriptors_by_device_number_and_tells_files_apart(void)
{
	int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
	int c = dup(a), i, seen = 0, id_a = 0, id_b = 0, id_c = 0;
	struct ifd_scan scan;
	struct stat st;
	bool ok = true;

	CHECK(a >= 0 && b >= 0 && c >= 0 && !stat("/dev/null", &st),
	      "open /dev/null");
	CHECK_EQ(ifd_scan_contexts("/proc", st.st_rdev, &scan), 0);
	for (i = 0; i < scan.nctx; i++) {
		const struct ifd_context *x = &scan.ctx[i];

		if (x->pid != getpid())
			continue;
		seen++;
		CHECK(x->fdinfo_read, "fdinfo of fd %d not read", x->fd);
		/* Not an iommufd file: nothing invented for it. */
		CHECK(!x->info.iommufd_lines, "iommufd lines on /dev/null");
		CHECK_EQ(x->info.pinned_pages, IFD_UNKNOWN);
		if (x->fd == a)
			id_a = x->file_id;
		else if (x->fd == b)
			id_b = x->file_id;
		else if (x->fd == c)
			id_c = x->file_id;
	}
	CHECK(!scan.kcmp_failed, "kcmp failed");
	CHECK(id_a && id_b && id_c, "fds %d %d %d not all found", a, b, c);
	CHECK_EQ(id_a, id_c);
	CHECK(id_a != id_b, "two opens seen as one file");
	/* Our own fds; stdin/out/err may be /dev/null too under a runner. */
	CHECK(seen >= 3, "%d of our descriptors found", seen);
	ifd_scan_free(&scan);
	close(a);
	close(b);
	close(c);
	report(ok, "scan_finds_descriptors_by_device_number_and_tells_files_apart");
}

int main(int argc, char **argv)
{
	dir = argc > 1 ? argv[1] : "fixtures";
	planned = 15;
	printf("TAP version 13\n1..%d\n", planned);
	fdinfo_user_mode_parses_every_field();
	fdinfo_process_mode_with_mock_devices();
	fdinfo_payer_none_before_any_mapping();
	fdinfo_without_iommufd_lines_leaves_everything_unknown();
	fdinfo_of_a_newer_module_skips_unknown_keys();
	fdinfo_malformed_values_stay_unknown_and_are_counted();
	fdinfo_single_payer_line_of_an_older_module();
	usage_parses_the_module_totals();
	totals_come_from_the_payer_lines_each_file_once();
	totals_gather_exited_payers_of_several_files();
	totals_become_unknown_when_one_line_is_unknown();
	json_writer_escapes_and_prints_unknown_as_null();
	pci_addresses_are_normalized_or_refused();
	taint_letters_have_names();
	scan_finds_descriptors_by_device_number_and_tells_files_apart();
	return failures || done != planned;
}
