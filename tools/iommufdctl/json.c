// SPDX-License-Identifier: GPL-2.0
/*
 * A JSON writer just big enough for `iommufdctl status --json`: objects,
 * arrays, strings, integers, booleans and null, two-space indented.
 * Every value call takes the member name (NULL inside arrays).
 */
#include <string.h>

#include "iommufdctl.h"

void json_escape(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		default:
			/* comm and parameter values are the caller's bytes. */
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* Comma, newline and indent before a member or element; then its key. */
static void json_lead(struct ifd_json *j, const char *key)
{
	if (j->need_comma)
		fputc(',', j->out);
	if (j->depth)
		fprintf(j->out, "\n%*s", 2 * j->depth, "");
	if (key) {
		json_escape(j->out, key);
		fputs(": ", j->out);
	}
	j->need_comma = true;
}

static void json_open(struct ifd_json *j, const char *key, char c)
{
	json_lead(j, key);
	fputc(c, j->out);
	j->depth++;
	j->need_comma = false;
}

static void json_close(struct ifd_json *j, char c)
{
	bool empty = !j->need_comma;

	j->depth--;
	if (!empty)
		fprintf(j->out, "\n%*s", 2 * j->depth, "");
	fputc(c, j->out);
	j->need_comma = true;
	if (!j->depth)
		fputc('\n', j->out);
}

void json_begin_object(struct ifd_json *j, const char *key)
{
	json_open(j, key, '{');
}

void json_end_object(struct ifd_json *j)
{
	json_close(j, '}');
}

void json_begin_array(struct ifd_json *j, const char *key)
{
	json_open(j, key, '[');
}

void json_end_array(struct ifd_json *j)
{
	json_close(j, ']');
}

void json_string(struct ifd_json *j, const char *key, const char *s)
{
	if (!s) {
		json_null(j, key);
		return;
	}
	json_lead(j, key);
	json_escape(j->out, s);
}

/* IFD_UNKNOWN is null: the kernel did not say. */
void json_int(struct ifd_json *j, const char *key, long long v)
{
	if (v == IFD_UNKNOWN) {
		json_null(j, key);
		return;
	}
	json_lead(j, key);
	fprintf(j->out, "%lld", v);
}

void json_bool(struct ifd_json *j, const char *key, bool v)
{
	json_lead(j, key);
	fputs(v ? "true" : "false", j->out);
}

void json_null(struct ifd_json *j, const char *key)
{
	json_lead(j, key);
	fputs("null", j->out);
}
