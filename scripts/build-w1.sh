#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the module with W=1 for each given kernel, in a scratch copy of the
# DKMS source, and report as TAP whether the compiler said anything.  The
# project keeps both Debian kernels' W=1 builds free of warnings.
#
# Usage: build-w1.sh KVER...
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
	if make -C "$work/src/module" KVER="$kver" W=1 >"$work/log" 2>&1 &&
	   ! grep -qE 'warning:|error:' "$work/log"; then
		echo "ok $n module_builds_with_w1_and_no_warnings_on_$kver"
	else
		echo "not ok $n module_builds_with_w1_and_no_warnings_on_$kver"
		grep -E 'warning:|error:' "$work/log" | head -20 | sed 's/^/# /'
	fi
done
