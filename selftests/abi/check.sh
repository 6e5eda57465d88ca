#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Copyright (C) 2026 the iommufd-dkms authors.
#
# Host-side proof that uapi/linux/iommufd.h is the upstream iommufd ABI.
#
#  1. It compiles as user space sees it: C99/C11 and C++11/C++17, gcc and
#     clang, -Wall -Wextra -Werror -pedantic, included twice.
#  2. It shares its include guard with the kernel's copy, so the two can
#     never both be expanded in one translation unit.
#  3. Byte compatibility with every Debian kernel header on this machine
#     (linux-headers-*-common/include/uapi/linux/iommufd.h; the 6.12 one is
#     required): the list of structures, members and constants is derived
#     from the kernel's header, abi_dump.c prints their layout and values,
#     compiled once against that header and once against ours, and the
#     outputs must match item by item.
#  4. The ABI newer than those headers is checked by static assertions whose
#     numbers were counted by hand from the upstream layout (abi_newer.c).
#  5. The full layout of our header matches the reviewed snapshot
#     iommufd-abi.txt, so that no change slips in unnoticed.
#  6. Steps 3-5 are repeated with -m32 when a 32-bit toolchain is present:
#     on i386 only __aligned_u64 keeps 64-bit members 8-byte aligned, so this
#     catches a member declared with the wrong type.
#  7. The same for uapi/linux/iommufd_test.h, the self-test ABI: compile
#     tests, hand-counted static assertions of the newest upstream layout
#     (abi_selftest.c), a diff against the copy in each Debian linux-source
#     tarball (6.2 and later; upstream ships it in drivers/, not in any
#     headers package) and the reviewed snapshot iommufd_test-abi.txt.
#
# Output is TAP; the last line is "N passed, N failed" (", N skipped").
# Exit status is 0 only if nothing failed.
#
# Environment: CC, CXX, CLANG, CLANGXX override the compilers;
# ABI_REF_HEADERS (space separated paths) overrides the reference headers;
# ABI_TEST_REF_HEADERS does the same for kernel copies of iommufd_test.h.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
uapi=$root/uapi
ours=$uapi/linux/iommufd.h
snapshot=$here/iommufd-abi.txt
ours_test=$uapi/linux/iommufd_test.h
test_snapshot=$here/iommufd_test-abi.txt

CC=${CC:-gcc}
CXX=${CXX:-g++}
CLANG=${CLANG:-clang}
CLANGXX=${CLANGXX:-clang++}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
passed=0
failed=0
skipped=0

tap_ok()   { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
tap_fail() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
tap_skip() { n=$((n + 1)); skipped=$((skipped + 1)); echo "ok $n - $* # SKIP"; }

# Print a command's output as TAP diagnostics.
diag() { sed 's/^/# /'; }

# run DESCRIPTION COMMAND...: one test that passes if the command does.
run() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		tap_ok "$desc"
	else
		tap_fail "$desc"
		printf '%s\n' "$out" | diag
	fi
}

have() { command -v "$1" >/dev/null 2>&1; }

# Can this compiler build and run a 32-bit x86 program?
have_m32() {
	[ "$(uname -m)" = x86_64 ] || return 1
	printf 'int main(void) { return 0; }\n' > "$work/m32.c"
	"$CC" -m32 "$work/m32.c" -o "$work/m32" >/dev/null 2>&1 &&
		"$work/m32" >/dev/null 2>&1
}

echo "# header under test: $ours"
if [ ! -r "$ours" ]; then
	tap_fail "uapi/linux/iommufd.h exists"
	echo "1..$n"
	echo "$passed passed, $failed failed"
	exit 1
fi

# --- 1. user-space compile tests --------------------------------------------

strict="-Wall -Wextra -Werror -pedantic"
for std in c99 gnu99 c11 gnu11; do
	run "gcc -std=$std $strict: header compiles" \
		"$CC" -std=$std $strict -I"$uapi" \
		"$here/compile_test.c" -o "$work/ct-$std"
done
for std in c++11 c++17; do
	run "g++ -std=$std $strict: header compiles" \
		"$CXX" -x c++ -std=$std $strict -I"$uapi" \
		"$here/compile_test.c" -o "$work/ct-$std"
done
if have "$CLANG"; then
	run "clang -std=c99 $strict: header compiles" \
		"$CLANG" -std=c99 $strict -I"$uapi" \
		"$here/compile_test.c" -o "$work/ct-clang"
else
	tap_skip "clang -std=c99: header compiles (no $CLANG)"
fi
if have "$CLANGXX"; then
	run "clang++ -std=c++11 $strict: header compiles" \
		"$CLANGXX" -x c++ -std=c++11 $strict -I"$uapi" \
		"$here/compile_test.c" -o "$work/ct-clangxx"
else
	tap_skip "clang++ -std=c++11: header compiles (no $CLANGXX)"
fi

# --- reference headers --------------------------------------------------------

if [ -n "${ABI_REF_HEADERS:-}" ]; then
	refs=$ABI_REF_HEADERS
else
	refs=$(ls /usr/src/linux-headers-*-common/include/uapi/linux/iommufd.h \
		2>/dev/null | sort -V)
fi
have612=0
for ref in $refs; do
	case $ref in
	*linux-headers-6.12*) have612=1 ;;
	esac
done
if [ "$have612" = 1 ]; then
	tap_ok "a Debian 6.12 reference header is installed"
else
	tap_fail "a Debian 6.12 reference header is installed"
	echo "no linux-headers-6.12*-common/include/uapi/linux/iommufd.h" \
		"under /usr/src: install the 6.12 kernel's headers" | diag
fi

# --- 2. include guard shared with the kernel's copy -------------------------

for ref in $refs; do
	run "guard shared with $ref" \
		"$CC" -std=c99 -Wall -Werror -I"$uapi" \
		-DREF_HEADER="\"$ref\"" \
		"$here/compile_test.c" -o "$work/ct-guard"
done

# --- 3. layout diff against each reference header ---------------------------

# dump LIST INCDIR OUT [CFLAGS...]: build and run abi_dump.c.
dump() {
	local list=$1 inc=$2 out=$3
	shift 3
	mkdir -p "$work/list-$$"
	cp "$list" "$work/list-$$/abi_list.h"
	"$CC" -std=gnu11 -Wall -Wno-type-limits -Werror "$@" \
		-I"$work/list-$$" -I"$inc" "$here/abi_dump.c" \
		-o "$out.bin" >"$out.log" 2>&1 &&
		"$out.bin" >"$out"
}

# compare_items TAG REF_OUT OURS_OUT: one test per structure and constant
# of the reference output.
compare_items() {
	local tag=$1 refout=$2 ourout=$3 item kind name want got re
	while read -r kind name _; do
		case $kind in
		struct)
			re="^(struct $name |field $name\.)"
			want=$(grep -E "$re" "$refout")
			got=$(grep -E "$re" "$ourout")
			item="struct $name"
			;;
		const)
			want=$(grep "^const $name " "$refout")
			got=$(grep "^const $name " "$ourout")
			item=$name
			;;
		*)
			continue
			;;
		esac
		if [ "$want" = "$got" ]; then
			tap_ok "$tag: $item ($(echo "$want" | head -1 |
				cut -d' ' -f3-))"
		else
			tap_fail "$tag: $item"
			diff <(echo "$want") <(echo "$got") | diag
		fi
	done < "$refout"
}

# layout_vs_ref REF TAG [CFLAGS...]
layout_vs_ref() {
	local ref=$1 tag=$2 d
	shift 2
	d=$work/ref$RANDOM
	mkdir -p "$d/inc/linux"
	ln -s "$ref" "$d/inc/linux/iommufd.h"
	awk -f "$here/abi_list.awk" "$ref" > "$d/list.h"
	if [ ! -s "$d/list.h" ]; then
		tap_fail "$tag: nothing parsed from $ref"
		return
	fi
	echo "# $tag: $(grep -c STRUCT "$d/list.h") structures," \
		"$(grep -c -E 'FIELD|ARRAY' "$d/list.h") members," \
		"$(grep -c CONST "$d/list.h") constants in $ref"
	if ! dump "$d/list.h" "$d/inc" "$d/ref.out" "$@"; then
		tap_fail "$tag: dump built against the kernel header"
		diag < "$d/ref.out.log"
		return
	fi
	if ! dump "$d/list.h" "$uapi" "$d/ours.out" "$@"; then
		tap_fail "$tag: every kernel-header name exists in ours"
		grep -E 'error' "$d/ours.out.log" | diag
		return
	fi
	tap_ok "$tag: every kernel-header name exists in ours"
	compare_items "$tag" "$d/ref.out" "$d/ours.out"
}

m32=0
if have_m32; then
	m32=1
fi

for ref in $refs; do
	ver=$(echo "$ref" | sed -n 's|.*linux-headers-\([^/]*\)-common/.*|\1|p')
	[ -n "$ver" ] || ver=$ref
	layout_vs_ref "$ref" "$ver"
	if [ "$m32" = 1 ]; then
		layout_vs_ref "$ref" "$ver -m32" -m32
	else
		tap_skip "$ver -m32: layout diff (no 32-bit toolchain)"
	fi
done

# --- 4. static assertions for the newer ABI ---------------------------------

run "newer ABI static asserts (gcc -std=c11)" \
	"$CC" -std=c11 $strict -I"$uapi" "$here/abi_newer.c" \
	-o "$work/newer-c"
run "newer ABI static asserts (g++ -std=c++11)" \
	"$CXX" -x c++ -std=c++11 $strict -I"$uapi" "$here/abi_newer.c" \
	-o "$work/newer-cxx"
if [ "$m32" = 1 ]; then
	run "newer ABI static asserts (gcc -std=c11 -m32)" \
		"$CC" -m32 -std=c11 $strict -I"$uapi" "$here/abi_newer.c" \
		-o "$work/newer-m32"
else
	tap_skip "newer ABI static asserts -m32 (no 32-bit toolchain)"
fi

# --- 5. full layout against the reviewed snapshot ---------------------------

# snapshot_check TAG [CFLAGS...]
snapshot_check() {
	local tag=$1 d=$work/snap$RANDOM
	shift
	mkdir -p "$d"
	awk -f "$here/abi_list.awk" "$ours" > "$d/list.h"
	if ! dump "$d/list.h" "$uapi" "$d/ours.out" "$@"; then
		tap_fail "$tag: dump of our full header"
		diag < "$d/ours.out.log"
		return
	fi
	if diff -u "$snapshot" "$d/ours.out" > "$d/diff"; then
		tap_ok "$tag: full layout matches iommufd-abi.txt" \
			"($(grep -c '^struct' "$d/ours.out") structures," \
			"$(grep -c '^field' "$d/ours.out") members," \
			"$(grep -c '^const' "$d/ours.out") constants)"
	else
		tap_fail "$tag: full layout matches iommufd-abi.txt"
		diag < "$d/diff"
	fi
}

if [ "${1:-}" = --update-snapshot ]; then
	d=$work/update
	mkdir -p "$d"
	awk -f "$here/abi_list.awk" "$ours" > "$d/list.h"
	if ! dump "$d/list.h" "$uapi" "$snapshot"; then
		diag < "$snapshot.log"
		exit 1
	fi
	rm -f "$snapshot.bin" "$snapshot.log"
	echo "# wrote $snapshot: review the diff before committing it"
fi

snapshot_check "x86_64"
if [ "$m32" = 1 ]; then
	snapshot_check "i386" -m32
else
	tap_skip "i386: full layout matches iommufd-abi.txt" \
		"(no 32-bit toolchain)"
fi

# --- 7. the self-test ABI: uapi/linux/iommufd_test.h ------------------------

echo "# self-test header under test: $ours_test"
if [ ! -r "$ours_test" ]; then
	tap_fail "uapi/linux/iommufd_test.h exists"
else

for std in c99 gnu99 c11 gnu11; do
	run "iommufd_test.h: gcc -std=$std $strict: header compiles" \
		"$CC" -std=$std $strict -I"$uapi" \
		"$here/compile_test_selftest.c" -o "$work/cts-$std"
done
for std in c++11 c++17; do
	run "iommufd_test.h: g++ -std=$std $strict: header compiles" \
		"$CXX" -x c++ -std=$std $strict -I"$uapi" \
		"$here/compile_test_selftest.c" -o "$work/cts-$std"
done
if have "$CLANG"; then
	run "iommufd_test.h: clang -std=c99 $strict: header compiles" \
		"$CLANG" -std=c99 $strict -I"$uapi" \
		"$here/compile_test_selftest.c" -o "$work/cts-clang"
else
	tap_skip "iommufd_test.h: clang -std=c99: header compiles (no $CLANG)"
fi
if have "$CLANGXX"; then
	run "iommufd_test.h: clang++ -std=c++11 $strict: header compiles" \
		"$CLANGXX" -x c++ -std=c++11 $strict -I"$uapi" \
		"$here/compile_test_selftest.c" -o "$work/cts-clangxx"
else
	tap_skip "iommufd_test.h: clang++ -std=c++11: header compiles (no $CLANGXX)"
fi

run "iommufd_test.h: static asserts (gcc -std=c11)" \
	"$CC" -std=c11 $strict -I"$uapi" "$here/abi_selftest.c" \
	-o "$work/selftest-c"
run "iommufd_test.h: static asserts (g++ -std=c++11)" \
	"$CXX" -x c++ -std=c++11 $strict -I"$uapi" "$here/abi_selftest.c" \
	-o "$work/selftest-cxx"
if [ "$m32" = 1 ]; then
	run "iommufd_test.h: static asserts (gcc -std=c11 -m32)" \
		"$CC" -m32 -std=c11 $strict -I"$uapi" "$here/abi_selftest.c" \
		-o "$work/selftest-m32"
else
	tap_skip "iommufd_test.h: static asserts -m32 (no 32-bit toolchain)"
fi

# Upstream keeps the header in drivers/, so no linux-headers package has
# it: the reference copies come from the linux-source tarballs (iommufd
# exists from 6.2 on), extracted once into selftests/build/abi-ref/.
# ABI_TEST_REF_HEADERS (space separated paths) overrides them.
test_refs=
if [ -n "${ABI_TEST_REF_HEADERS:-}" ]; then
	test_refs=$ABI_TEST_REF_HEADERS
else
	cache=$root/selftests/build/abi-ref
	for tarball in $(ls /usr/src/linux-source-*.tar.xz 2>/dev/null |
			 sort -V); do
		tree=$(basename "$tarball" .tar.xz)
		ver=${tree#linux-source-}
		[ "$(printf '%s\n' 6.2 "$ver" | sort -V | head -n 1)" = 6.2 ] ||
			continue
		ref=$cache/$tree/iommufd_test.h
		if [ ! -s "$ref" ] || [ "$tarball" -nt "$ref" ]; then
			mkdir -p "$cache/$tree"
			tar -xJf "$tarball" -O \
				"$tree/drivers/iommu/iommufd/iommufd_test.h" \
				> "$ref.tmp" 2>/dev/null && mv "$ref.tmp" "$ref" ||
				rm -f "$ref.tmp"
		fi
		[ -s "$ref" ] && test_refs="$test_refs $ref"
	done
fi

# Names upstream has removed since the reference was released, and
# structures that grew at their end (size-extensible data): the first are
# absent from ours on purpose, the second are compared member by member.
retired_names="MOCK_FLAGS_DEVICE_HUGE_IOVA"
grown_structs="iommu_hwpt_selftest"

# selftest_layout_vs_ref REF TAG [CFLAGS...]
selftest_layout_vs_ref() {
	local ref=$1 tag=$2 d name s
	shift 2
	d=$work/tref$RANDOM
	mkdir -p "$d/inc/linux"
	ln -s "$(readlink -f "$ref")" "$d/inc/linux/iommufd_test.h"
	awk -f "$here/abi_test_list.awk" "$ref" > "$d/all.h"
	cp "$d/all.h" "$d/list.h"
	for name in $retired_names; do
		if grep -q "^ABI_CONST($name)\$" "$d/all.h"; then
			grep -v "^ABI_CONST($name)\$" "$d/list.h" > "$d/list.tmp"
			mv "$d/list.tmp" "$d/list.h"
			tap_ok "$tag: $name retired upstream, absent on purpose"
		fi
	done
	echo "# $tag: $(grep -c STRUCT "$d/list.h") structures," \
		"$(grep -c -E 'FIELD|ARRAY' "$d/list.h") members," \
		"$(grep -c CONST "$d/list.h") constants in $ref"
	# The reference's own <linux/iommufd.h> is not needed: ours (checked
	# above) supplies IOMMUFD_TYPE and IOMMUFD_CMD_BASE to both sides.
	if ! dump "$d/list.h" "$d/inc" "$d/ref.out" -I"$d/inc" -I"$uapi" \
		-include linux/iommufd_test.h "$@"; then
		tap_fail "$tag: dump built against the reference header"
		diag < "$d/ref.out.log"
		return
	fi
	if ! dump "$d/list.h" "$uapi" "$d/ours.out" \
		-include linux/iommufd_test.h "$@"; then
		tap_fail "$tag: every reference name exists in ours"
		grep -E 'error' "$d/ours.out.log" | diag
		return
	fi
	tap_ok "$tag: every reference name exists in ours"
	for s in $grown_structs; do
		echo "# $tag: struct $s grew upstream:" \
			"$(grep "^struct $s " "$d/ref.out" | cut -d' ' -f3)" \
			"then, $(grep "^struct $s " "$d/ours.out" | cut -d' ' -f3)" \
			"now; its members are compared"
		sed -i -E "s/^(struct $s) size=[0-9]+/\1 size=grown/" \
			"$d/ref.out" "$d/ours.out"
	done
	compare_items "$tag" "$d/ref.out" "$d/ours.out"
}

for ref in $test_refs; do
	tag="iommufd_test.h vs $(basename "$(dirname "$ref")")"
	run "$tag: guard shared with the reference" \
		"$CC" -std=c99 -Wall -Werror -I"$uapi" \
		-DREF_HEADER="\"$ref\"" \
		"$here/compile_test_selftest.c" -o "$work/cts-guard"
	selftest_layout_vs_ref "$ref" "$tag"
	if [ "$m32" = 1 ]; then
		selftest_layout_vs_ref "$ref" "$tag -m32" -m32
	else
		tap_skip "$tag -m32: layout diff (no 32-bit toolchain)"
	fi
done
if [ -z "$test_refs" ]; then
	tap_skip "iommufd_test.h: layout diff against a kernel's copy" \
		"(no /usr/src/linux-source-6.2+ tarball)"
fi

# selftest_snapshot_check TAG [CFLAGS...]
selftest_snapshot_check() {
	local tag=$1 d=$work/tsnap$RANDOM
	shift
	mkdir -p "$d"
	awk -f "$here/abi_test_list.awk" "$ours_test" > "$d/list.h"
	if ! dump "$d/list.h" "$uapi" "$d/ours.out" \
		-include linux/iommufd_test.h "$@"; then
		tap_fail "$tag: dump of our full self-test header"
		diag < "$d/ours.out.log"
		return
	fi
	if diff -u "$test_snapshot" "$d/ours.out" > "$d/diff"; then
		tap_ok "$tag: full layout matches iommufd_test-abi.txt" \
			"($(grep -c '^struct' "$d/ours.out") structures," \
			"$(grep -c '^field' "$d/ours.out") members," \
			"$(grep -c '^const' "$d/ours.out") constants)"
	else
		tap_fail "$tag: full layout matches iommufd_test-abi.txt"
		diag < "$d/diff"
	fi
}

if [ "${1:-}" = --update-snapshot ]; then
	d=$work/tupdate
	mkdir -p "$d"
	awk -f "$here/abi_test_list.awk" "$ours_test" > "$d/list.h"
	if ! dump "$d/list.h" "$uapi" "$test_snapshot" \
		-include linux/iommufd_test.h; then
		diag < "$test_snapshot.log"
		exit 1
	fi
	rm -f "$test_snapshot.bin" "$test_snapshot.log"
	echo "# wrote $test_snapshot: review the diff before committing it"
fi

selftest_snapshot_check "iommufd_test.h x86_64"
if [ "$m32" = 1 ]; then
	selftest_snapshot_check "iommufd_test.h i386" -m32
else
	tap_skip "iommufd_test.h i386: full layout matches" \
		"iommufd_test-abi.txt (no 32-bit toolchain)"
fi

fi

# --- summary ------------------------------------------------------------------

echo "1..$n"
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
