# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 the iommufd-dkms authors.
#
# Read a uapi iommufd.h and write, for abi_dump.c, one line per item of its
# ABI: ABI_STRUCT/ABI_FIELD/ABI_ARRAY for every structure and member,
# ABI_CONST for every enumerator and every object-like #define.
#
# The parser relies on the uapi header style (one declaration per line,
# tabs, "};" closing at column 0), which upstream has always followed.
# Members of anonymous unions or structures are reported as members of the
# enclosing structure, which is what offsetof() accepts.

function strip_comments(s) {
	gsub(/\/\*.*\*\//, "", s)
	return s
}

BEGIN { in_struct = 0; in_enum = 0; in_comment = 0 }

{
	line = $0
	# Skip the bodies of multi-line comments.
	if (in_comment) {
		if (line ~ /\*\//)
			in_comment = 0
		next
	}
	line = strip_comments(line)
	if (line ~ /\/\*/) {
		in_comment = 1
		sub(/\/\*.*/, "", line)
	}
}

# Object-like macros; function-like ones and the include guard are skipped.
line ~ /^#define [A-Z][A-Z0-9_]*([ \t]|$)/ {
	split(line, w, /[ \t]+/)
	if (w[2] !~ /\(/)
		print "ABI_CONST(" w[2] ")"
	next
}

line ~ /^struct [a-z_][a-z0-9_]* \{/ {
	split(line, w, /[ \t]+/)
	sname = w[2]
	in_struct = 1
	print "ABI_STRUCT(" sname ")"
	next
}

in_struct && line ~ /^\};/ { in_struct = 0; next }

# Opening and closing of an anonymous union or structure inside a struct.
in_struct && line ~ /(union|struct)[ \t]*\{/ { next }
in_struct && line ~ /^[ \t]+\};/ { next }

in_struct && line ~ /;/ {
	decl = line
	sub(/;.*/, "", decl)
	sub(/^[ \t]+/, "", decl)
	n = split(decl, w, /[ \t]+/)
	name = w[n]
	sub(/^\*+/, "", name)
	if (name ~ /\[/) {
		sub(/\[.*/, "", name)
		print "ABI_ARRAY(" sname ", " name ")"
	} else {
		print "ABI_FIELD(" sname ", " name ")"
	}
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
