/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A JSON reader for tests of tools that print JSON (iommufdctl status
 * --json): the whole document into a tree of nodes, integers only (the
 * tools print no fractions), strings with the escapes JSON has except
 * \uXXXX beyond ASCII.  NULL on any syntax error.  Nodes are never freed:
 * a test process reads a few documents and exits.
 */
#ifndef SELFTESTS_JSON_TINY_H
#define SELFTESTS_JSON_TINY_H

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum jtype { J_NULL, J_BOOL, J_INT, J_STRING, J_ARRAY, J_OBJECT };

struct jnode {
	enum jtype type;
	long long i;		/* J_INT; J_BOOL as 0/1 */
	char *s;		/* J_STRING */
	char *key;		/* a member's name inside an object */
	struct jnode *first;	/* J_ARRAY, J_OBJECT: the members */
	struct jnode *next;
};

static inline void jskip(const char **p)
{
	while (isspace((unsigned char)**p))
		(*p)++;
}

static inline char *jstring(const char **p)
{
	size_t cap = strlen(*p) + 1, n = 0;
	char *out = malloc(cap);

	if (!out || **p != '"')
		return NULL;
	for ((*p)++; **p && **p != '"'; (*p)++) {
		char c = **p;

		if (c == '\\') {
			c = *++(*p);
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				char hex[5] = { 0 };

				if (strlen(*p) < 5)
					return NULL;
				memcpy(hex, *p + 1, 4);
				c = (char)strtol(hex, NULL, 16);
				*p += 4;
				break;
			}
			case '"': case '\\': case '/': break;
			default: return NULL;
			}
		}
		out[n++] = c;
	}
	if (**p != '"')
		return NULL;
	(*p)++;
	out[n] = 0;
	return out;
}

static inline struct jnode *jvalue(const char **p);

static inline struct jnode *jmembers(const char **p, struct jnode *n,
				     char close, bool named)
{
	struct jnode **tail = &n->first, *m;
	char *key = NULL;

	(*p)++;
	jskip(p);
	if (**p == close) {
		(*p)++;
		return n;
	}
	for (;;) {
		jskip(p);
		if (named) {
			key = jstring(p);
			jskip(p);
			if (!key || **p != ':')
				return NULL;
			(*p)++;
		}
		m = jvalue(p);
		if (!m)
			return NULL;
		m->key = key;
		*tail = m;
		tail = &m->next;
		jskip(p);
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (**p != close)
			return NULL;
		(*p)++;
		return n;
	}
}

static inline struct jnode *jvalue(const char **p)
{
	struct jnode *n = calloc(1, sizeof(*n));
	char *end;

	if (!n)
		return NULL;
	jskip(p);
	switch (**p) {
	case '{':
		n->type = J_OBJECT;
		return jmembers(p, n, '}', true);
	case '[':
		n->type = J_ARRAY;
		return jmembers(p, n, ']', false);
	case '"':
		n->type = J_STRING;
		n->s = jstring(p);
		return n->s ? n : NULL;
	}
	if (!strncmp(*p, "null", 4)) {
		*p += 4;
		return n;
	}
	if (!strncmp(*p, "true", 4) || !strncmp(*p, "false", 5)) {
		n->type = J_BOOL;
		n->i = **p == 't';
		*p += n->i ? 4 : 5;
		return n;
	}
	n->type = J_INT;
	n->i = strtoll(*p, &end, 10);
	if (end == *p || *end == '.' || *end == 'e' || *end == 'E')
		return NULL;
	*p = end;
	return n;
}

/* The document in @text, or NULL if it is not one JSON value. */
static inline struct jnode *json_parse(const char *text)
{
	struct jnode *n = jvalue(&text);

	if (!n)
		return NULL;
	jskip(&text);
	return *text ? NULL : n;
}

/* Member @key of object @n; NULL if @n is no object or has none. */
static inline struct jnode *jget(const struct jnode *n, const char *key)
{
	struct jnode *m;

	if (!n || n->type != J_OBJECT)
		return NULL;
	for (m = n->first; m; m = m->next)
		if (m->key && !strcmp(m->key, key))
			return m;
	return NULL;
}

/* The integer at @key, or @missing if absent, null or not an integer. */
static inline long long jint(const struct jnode *n, const char *key,
			     long long missing)
{
	struct jnode *m = jget(n, key);

	return m && (m->type == J_INT || m->type == J_BOOL) ? m->i : missing;
}

static inline bool jis_null(const struct jnode *n, const char *key)
{
	struct jnode *m = jget(n, key);

	return m && m->type == J_NULL;
}

#endif /* SELFTESTS_JSON_TINY_H */
