#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build iommufd_kapi_test.ko for kernel KVER (a release whose headers are
# installed, or a kernel build tree) in OUTDIR, together with the module
# build it links against: a scratch copy of the DKMS source built the same
# way, so its symbol versions are those of the DKMS-built iommufd.ko the
# guest loads.  Prints the .ko's path, or nothing for a kernel without the
# in-kernel API (no linux/iommufd.h: 6.1), which costs only the probes.
#
# Usage: build.sh KVER|KDIR OUTDIR
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
kver=$1
out=$(mkdir -p "$2" && cd "$2" && pwd)
case "$kver" in
*/*) target="KDIR=$kver" ;;
*) target="KVER=$kver" ;;
esac

rm -rf "$out/src" "$out/kapi"
make -s -C "$top" dist-src DESTDIR="$out/src"
make -s -C "$out/src/module" "$target" compat_autoconf.h >&2
grep -q '^#define HAVE_LINUX_IOMMUFD_H' "$out/src/module/compat_autoconf.h" ||
	exit 0
make -s -C "$out/src/module" "$target" W=1 >&2
cp -r "$top/selftests/kapi" "$out/kapi"
make -s -C "$out/kapi" "$target" W=1 MODULE_DIR="$out/src/module" >&2
echo "$out/kapi/iommufd_kapi_test.ko"
