#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the module with W=1 for each given kernel, in a scratch copy of the
# DKMS source, and report as TAP whether the compiler said anything.  The
# project keeps both Debian kernels' W=1 builds free of warnings.
#
# Usage: build-w1.sh KVER|KDIR...
#   an argument with a slash is a kernel build tree (the debug kernel's,
#   from selftests/runner/debug-kernel.sh), otherwise a release whose
#   headers are installed
# Environment: W1_KEEP=DIR keeps each built tree as DIR/RELEASE/module/...
#   (check.sh boots the debug kernel with the modules built here)
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/iommufd-w1.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "TAP version 13"
echo "1..$#"
n=0
for kver in "$@"; do
	n=$((n + 1))
	rm -rf "$work/src"
	make -s -C "$top" dist-src DESTDIR="$work/src"
	case "$kver" in
	*/*) target="KDIR=$kver"
	     name=$(cat "$kver/include/config/kernel.release" 2>/dev/null ||
		    echo "$kver") ;;
	*) target="KVER=$kver" name=$kver ;;
	esac
	if make -C "$work/src/module" "$target" W=1 >"$work/log" 2>&1 &&
	   ! grep -qE 'warning:|error:' "$work/log"; then
		echo "ok $n module_builds_with_w1_and_no_warnings_on_$name"
	else
		echo "not ok $n module_builds_with_w1_and_no_warnings_on_$name"
		grep -E 'warning:|error:' "$work/log" | head -20 | sed 's/^/# /'
	fi
	if [ -n "${W1_KEEP:-}" ]; then
		mkdir -p "$W1_KEEP"
		rm -rf "${W1_KEEP:?}/$name"
		cp -a "$work/src" "$W1_KEEP/$name"
	fi
done
