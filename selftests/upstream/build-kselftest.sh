#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build upstream's own iommufd kselftest (tools/testing/selftests/iommu/
# iommufd.c) from Debian's linux-source-6.12 package, against OUR uapi
# headers: our iommufd_test.h stands in for the kernel-internal one it
# includes.  Nothing of it is kept in this repository; it is compiled from
# the package at test time.
#
# Output, in OUTDIR: upstream_iommufd (a wrapper the guest runner runs) and
# .upstream_iommufd.bin.  The wrapper leaves out the tests of capabilities
# iommufd-dkms does not offer yet, listed in known-gaps.txt beside this
# script, so that everything it runs must pass.
#
# Usage: build-kselftest.sh OUTDIR
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
out=$1
tarball=/usr/src/linux-source-6.12.tar.xz
work=$top/selftests/build/upstream-kselftest

if [ ! -e "$tarball" ]; then
	echo "build-kselftest: $tarball missing (package linux-source-6.12)" >&2
	exit 1
fi
if [ ! -e "$work/.extracted" ] || [ "$tarball" -nt "$work/.extracted" ]; then
	rm -rf "$work"
	mkdir -p "$work"
	tar -C "$work" --strip-components=1 -xJf "$tarball" \
		linux-source-6.12/tools/testing/selftests/iommu \
		linux-source-6.12/tools/testing/selftests/kselftest_harness.h \
		linux-source-6.12/tools/testing/selftests/kselftest.h \
		linux-source-6.12/drivers/iommu/iommufd/iommufd_test.h
	touch "$work/.extracted"
fi
# Ours replaces the kernel's private copy, which the suite includes by path.
cp "$top/uapi/linux/iommufd_test.h" "$work/drivers/iommu/iommufd/iommufd_test.h"

mkdir -p "$out"
gcc -std=gnu11 -D_GNU_SOURCE -O2 -static -pthread -Wall -Wno-unused \
	-I"$top/uapi" -I"$work/tools/testing/selftests" \
	-o "$out/.upstream_iommufd.bin" \
	"$work/tools/testing/selftests/iommu/iommufd.c"

args=$(grep -v '^#' "$here/known-gaps.txt" |
	awk 'NF && $1 !~ /:$/ { printf " %s %s", $1, $2 }')
args_61=$(grep -v '^#' "$here/known-gaps.txt" |
	awk '$1 == "6.1:" { printf " %s %s", $2, $3 }')
cat >"$out/upstream_iommufd" <<EOW
#!/bin/sh
# Upstream 6.12's iommufd kselftest, built against iommufd-dkms's headers.
extra=
case "\$(uname -r)" in
6.1.*) extra="$args_61" ;;
esac
exec /tests/.upstream_iommufd.bin$args \$extra
EOW
chmod 755 "$out/upstream_iommufd"
