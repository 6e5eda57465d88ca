#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A developer's quick guest run: build the modules with plain make (no
# DKMS, so several trees may run at once), build the suites, pack an
# initramfs and boot ONE kernel under ONE emulated IOMMU with the chosen
# suites.  Prints the run's TAP and a closing "N passed, N failed".
# `make check` stays the real test run; this is for iterating.
#
# Usage: dev-run.sh [-k 6.1|6.12|debug|KVER] [-i intel|amd|intel-noir]
#                   [-s suite,suite...] [-B builddir] [-u] [-q] [-V]
#   -k  kernel (default 6.12; debug: the KASAN/lockdep/kmemleak build of
#       linux-source-6.12 from debug-kernel.sh, built on first use)
#   -i  emulated IOMMU (default intel)
#   -s  suites to run (default: every suite; names as in /tests)
#   -B  build directory (default selftests/build/dev)
#   -u  also build upstream's kselftest (suite upstream_iommufd)
#   -q  skip Debian's QEMU inside the guest (smaller initramfs)
#   -V  6.12: the kernel's VFIO modules rebuilt with the VFIO device cdev
#       (vfio-cdev/build.sh, against this run's iommufd.ko) instead of
#       Debian's; rebuilt only when iommufd's exports or vfio-cdev change
# Environment: GUEST_TIMEOUT, GUEST_MEM, GUEST_CPU, GUEST_APPEND as for
# run-guest.sh (e.g. GUEST_APPEND="fuzz.calls=1000000" for a longer fuzzer
# run); EXTRA_TESTS, a directory of more static TAP programs to put in /tests.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
. "$here/kernels.sh"

kernel=6.12 iommu=intel suites="" build=$top/selftests/build/dev
upstream=0 with_qemu=1 vfio_cdev=0
while getopts k:i:s:B:uqV opt; do
	case $opt in
	k) kernel=$OPTARG ;;
	i) iommu=$OPTARG ;;
	s) suites=$OPTARG ;;
	B) build=$OPTARG ;;
	u) upstream=1 ;;
	q) with_qemu=0 ;;
	V) vfio_cdev=1 ;;
	*) sed -n '10,23p' "$0" >&2; exit 2 ;;
	esac
done
kdir="" label=""
case "$kernel" in
6.1) kver=$(kernel_61) ;;
6.12) kver=$(kernel_612) ;;
debug)
	eval "$("$here/debug-kernel.sh")"
	kver=$DEBUG_KVER kdir=$DEBUG_KDIR label=debug
	export KIMAGE=$DEBUG_KIMAGE MODROOT=$DEBUG_MODDIR
	# KASAN and lockdep under TCG: several times slower than production.
	export GUEST_TIMEOUT=${GUEST_TIMEOUT:-2400}
	;;
*) kver=$kernel ;;
esac
[ -n "$label" ] || label=$(echo "$kver" | cut -d. -f1,2)
build=$(mkdir -p "$build" && cd "$build" && pwd)

echo "# dev-run: modules for $kver"
rm -rf "$build/src"
make -s -C "$top" dist-src DESTDIR="$build/src"
make -s -C "$build/src/module" KVER="$kver" ${kdir:+KDIR="$kdir"} W=1 >"$build/module-build.log" 2>&1 || {
	cat "$build/module-build.log" >&2
	exit 1
}
ko="$build/src/module/iommufd.ko $build/src/module/iommufd_vfio.ko"
# The in-kernel API's test consumer (suite kapi), where the kernel has it.
rm -rf "$build/kapi"
cp -r "$top/selftests/kapi" "$build/kapi"
make -s -C "$build/kapi" KVER="$kver" ${kdir:+KDIR="$kdir"} W=1 \
	MODULE_DIR="$build/src/module" >>"$build/module-build.log" 2>&1 || {
	cat "$build/module-build.log" >&2
	exit 1
}
[ ! -e "$build/kapi/iommufd_kapi_test.ko" ] ||
	ko="$ko $build/kapi/iommufd_kapi_test.ko"

if [ $vfio_cdev = 1 ]; then
	# The rebuilt modules record the CRCs of this iommufd's exports: a
	# stamp of those and of the recipe says when to build again (about
	# four minutes on two cores).
	vc=$build/vfio-cdev
	stamp=$(cat "$build/src/module/Module.symvers" "$top/vfio-cdev/build.sh" \
		"$top/vfio-cdev/config.overlay" | { cat; echo "$kver"; } | sha256sum)
	if [ ! -e "$vc/modules/vfio.ko" ] || [ "$(cat "$vc/stamp" 2>/dev/null)" != "$stamp" ]; then
		echo "# dev-run: rebuilding VFIO with the cdev (vfio-cdev, log: $vc/build.log)"
		rm -f "$vc/stamp"
		bash "$top/vfio-cdev/build.sh" -k "$kver" -o "$vc" \
			-S "$build/src/module/Module.symvers" >"$vc.out" 2>&1 || {
			cat "$vc.out" >&2
			exit 1
		}
		echo "$stamp" >"$vc/stamp"
	fi
	# kvmgt is rebuilt for the package but needs i915: not in a guest.
	ko="$ko $(ls "$vc"/modules/vfio*.ko | tr '\n' ' ')"
fi

echo "# dev-run: suites"
rm -rf "$build/suites" "$build/root"
make -s -C "$top/selftests" O="$build/suites"
gcc -O2 -Wall -Wextra -Werror -o "$build/kmodctl" "$here/kmodctl.c" -lkmod
make -s -C "$top/tools/iommufdctl" O="$build/iommufdctl"
mkdir -p "$build/root/tests"
install -m 755 "$build"/suites/* "$build/root/tests/"
# The fuzzer (selftests/fuzz): a suite like the others, named fuzz.
make -s -C "$top/selftests/fuzz" O="$build/fuzz"
install -m 755 "$build/fuzz/fuzz" "$build/root/tests/"
# More static TAP programs to run (a directory), as check.sh takes them.
for t in ${EXTRA_TESTS:+$EXTRA_TESTS/*}; do
	install -m 755 "$t" "$build/root/tests/"
done
[ $upstream = 0 ] || "$top/selftests/upstream/build-kselftest.sh" "$build/root/tests"

# With QEMU, the backports one too (the native iommufd VMM suites).
if [ "$with_qemu" = 1 ] && bpo=$("$here/qemu-backports.sh"); then
	export "${bpo%% *}"
fi
WITH_QEMU=$with_qemu KMODCTL=$build/kmodctl \
	IOMMUFDCTL=$build/iommufdctl/iommufdctl "$here/mkinitramfs.sh" "$kver" \
	"$build/initramfs.cpio" "$build/root" "$ko" vfio-pci i2c-i801

echo "# dev-run: booting $kver with $iommu${suites:+ (suites $suites)}"
"$here/run-guest.sh" "$kver" "$iommu" "$build/initramfs.cpio" "$build/log" \
	check "$suites" || {
	echo "# guest did not finish; end of its console:"
	tail -n 40 "$build/log/console.log" | sed 's/^/#   /'
}
awk -v run="$label/$iommu" -v start=0 \
	-f "$here/tap-collect.awk" "$build/log/results.log" >"$build/log/tap"
grep -v '^# tally' "$build/log/tap"
read -r _ _ p f s _ < <(grep '^# tally' "$build/log/tap")
echo "$p passed, $f failed${s:+, $s skipped}"
echo "# logs: $build/log (console.log: the guest kernel's log)"
[ "$f" = 0 ]
