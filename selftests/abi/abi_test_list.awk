# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 the iommufd-dkms authors.
#
# Read an iommufd_test.h (ours or a kernel's copy) and write, for
# abi_dump.c, one line per item of the self-test ABI: ABI_STRUCT for every
# structure, ABI_FIELD/ABI_ARRAY for every scalar or array leaf member,
# ABI_CONST for every enumerator and object-like #define.
#
# Unlike abi_list.awk (enough for iommufd.h), this one follows members of
# named inner structures: struct iommu_test_cmd keeps each op's arguments in
# a named structure inside an unnamed union, and a leaf is reported by its
# path, "add_reserved.start", which offsetof() accepts.  Members of unnamed
# unions and structures keep the path of the enclosing level.
#
# The parser relies on the uapi header style: one declaration per line,
# "};" closing a top-level structure at column 0, "} name;" or "};" closing
# an inner one.

function strip_comments(s) {
	gsub(/\/\*.*\*\//, "", s)
	return s
}

BEGIN { depth = 0; in_enum = 0; in_comment = 0 }

{
	line = $0
	if (in_comment) {
		if (line !~ /\*\//)
			next
		in_comment = 0
		sub(/.*\*\//, "", line)
	}
	line = strip_comments(line)
	if (line ~ /\/\*/) {
		in_comment = 1
		sub(/\/\*.*/, "", line)
	}
}

# Object-like macros, wherever they are (some sit inside structures);
# function-like ones and the include guard are skipped.
line ~ /^#define [A-Z][A-Z0-9_]*([ \t]|$)/ {
	split(line, w, /[ \t]+/)
	if (w[2] !~ /\(/ && w[2] !~ /_H$/)
		print "ABI_CONST(" w[2] ")"
	next
}

# A top-level structure: frame 1 collects the paths of its leaves.
depth == 0 && line ~ /^struct [a-z_][a-z0-9_]* \{/ {
	split(line, w, /[ \t]+/)
	sname = w[2]
	depth = 1
	nleaves[1] = 0
	next
}

# An inner structure or union opens a frame of its own.
depth > 0 && line ~ /(struct|union)[ \t]*\{/ {
	depth++
	nleaves[depth] = 0
	next
}

# The top-level structure ends: report it and every collected leaf.
depth == 1 && line ~ /^\};/ {
	print "ABI_STRUCT(" sname ")"
	for (i = 1; i <= nleaves[1]; i++)
		print leaf[1, i]
	depth = 0
	next
}

# An inner level ends, named ("} add_reserved;") or not ("};"): its leaves
# move up one level, prefixed with the name if there is one.
depth > 1 && line ~ /^[ \t]+\}[ \t]*[a-z_0-9]*[ \t]*;/ {
	name = line
	sub(/^[ \t]+\}[ \t]*/, "", name)
	sub(/[ \t]*;.*/, "", name)
	for (i = 1; i <= nleaves[depth]; i++) {
		item = leaf[depth, i]
		if (name != "")
			sub(/, /, ", " name ".", item)
		leaf[depth - 1, ++nleaves[depth - 1]] = item
	}
	depth--
	next
}

depth > 0 && line ~ /;/ {
	decl = line
	sub(/;.*/, "", decl)
	sub(/^[ \t]+/, "", decl)
	n = split(decl, w, /[ \t]+/)
	member = w[n]
	sub(/^\*+/, "", member)
	if (member ~ /\[/) {
		sub(/\[.*/, "", member)
		item = "ABI_ARRAY(" sname ", " member ")"
	} else {
		item = "ABI_FIELD(" sname ", " member ")"
	}
	leaf[depth, ++nleaves[depth]] = item
	next
}

line ~ /^enum([ \t]+[a-z_][a-z0-9_]*)?[ \t]*\{/ { in_enum = 1; next }

in_enum && line ~ /^\};/ { in_enum = 0; next }

in_enum && line ~ /^[ \t]+[A-Z_][A-Z0-9_]*/ {
	e = line
	sub(/^[ \t]+/, "", e)
	sub(/[ \t=,].*/, "", e)
	print "ABI_CONST(" e ")"
	next
}
