#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build upstream's own iommufd kselftests (tools/testing/selftests/iommu/
# iommufd.c and iommufd_fail_nth.c) from Debian's linux-source-6.12
# package, against OUR uapi headers: our iommufd_test.h stands in for the
# kernel-internal one they include.  Nothing of them is kept in this
# repository; they are compiled from the package at test time.
#
# Output, in OUTDIR: upstream_iommufd and upstream_iommufd_fail_nth
# (wrappers the guest runner runs) and their hidden binaries.  Each wrapper
# leaves out the tests of capabilities iommufd-dkms does not offer yet,
# listed beside this script (known-gaps.txt, known-gaps-fail-nth.txt), so
# that everything it runs must pass; on the debug kernel (uname -r ending
# in -iommufd-debug) also the tests of debug-excluded.txt, too slow there
# (the production boots run them), and it names them in its TAP.
# iommufd_fail_nth needs a kernel with fault injection (the debug kernel);
# elsewhere its tests say SKIP.
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

# build NAME GAPS [DEBUG]: compile iommu/NAME.c into
# OUTDIR/.upstream_NAME.bin and write the wrapper OUTDIR/upstream_NAME,
# which passes the exclusions of the GAPS file (every line, plus the "6.1:"
# ones on 6.1 kernels) and, on the debug kernel, those of the DEBUG file.
build() {
	local name=$1 gaps=$2 debug=${3:-} args args_61 args_debug=""

	gcc -std=gnu11 -D_GNU_SOURCE -O2 -static -pthread -Wall -Wno-unused \
		-include "$here/timeout-scale.h" \
		-I"$top/uapi" -I"$work/tools/testing/selftests" \
		-o "$out/.upstream_$name.bin" \
		"$work/tools/testing/selftests/iommu/$name.c"

	args=$(awk '!/^#/ && NF && $1 !~ /:$/ { printf " %s %s", $1, $2 }' \
		"$gaps")
	args_61=$(awk '!/^#/ && $1 == "6.1:" { printf " %s %s", $2, $3 }' \
		"$gaps")
	[ -z "$debug" ] ||
		args_debug=$(awk '!/^#/ && NF { printf " %s %s", $1, $2 }' \
			"$debug")
	cat >"$out/upstream_$name" <<EOW
#!/bin/sh
# Upstream 6.12's $name kselftest, built against iommufd-dkms's headers.
extra=
case "\$(uname -r)" in
6.1.*) extra="$args_61" ;;
*-iommufd-debug)
	extra="$args_debug"
	[ -z "\$extra" ] ||
		echo "# left out on the debug kernel for time (selftests/upstream/${debug##*/}):\$extra"
	;;
esac
exec /tests/.upstream_$name.bin$args \$extra
EOW
	chmod 755 "$out/upstream_$name"
}

build iommufd "$here/known-gaps.txt" "$here/debug-excluded.txt"
build iommufd_fail_nth "$here/known-gaps-fail-nth.txt"
