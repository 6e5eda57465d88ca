#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boot each Debian kernel (BENCH_KERNELS, default both) with
# the emulated Intel IOMMU (BENCH_IOMMU=amd for AMD) and the edu device,
# and run the benchmarks in one boot each.  Prints their figures; asserts
# nothing.  BENCH_MAX_MIB bounds the largest mapping (default 1024).
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
build=$top/selftests/build/bench

"$here/host-deps.sh"
. "$here/kernels.sh"
kernels=${BENCH_KERNELS:-"$(kernel_61) $(kernel_612)"}
iommu=${BENCH_IOMMU:-intel}

mkdir -p "$build/root/bench" "$build/root/tests"
declare -A module
while read -r ko; do
	for kver in $kernels; do
		case "$ko" in
		/lib/modules/"$kver"/*) module[$kver]="${module[$kver]:-} $ko" ;;
		esac
	done
done < <("$top/scripts/dkms-install.sh" $kernels 2>"$build/dkms.log")
gcc -O2 -Wall -Wextra -Werror -o "$build/kmodctl" "$here/kmodctl.c" -lkmod
gcc -static -O2 -Wall -Wextra -Werror -I"$top/uapi" -I"$top/selftests/lib" \
	-o "$build/root/bench/bench_map" "$top/selftests/bench/bench_map.c"
printf '#!/bin/sh\nexec /bench/bench_map %s\n' "${BENCH_MAX_MIB:-1024}" \
	>"$build/root/bench/run"
chmod 755 "$build/root/bench/run"
rm -f "$build/root/bench/bench_map.run"

for kver in $kernels; do
	KMODCTL=$build/kmodctl "$here/mkinitramfs.sh" "$kver" \
		"$build/initramfs-$kver.cpio" "$build/root" "${module[$kver]}" \
		vfio-pci
	echo "# bench: $kver, $iommu IOMMU, edu device (TCG; figures are relative)"
	GUEST_MEM=${GUEST_MEM:-6G} "$here/run-guest.sh" "$kver" "$iommu" \
		"$build/initramfs-$kver.cpio" "$build/log-$kver" bench || true
	grep -v '^# runner:\|^TAP\|^1\.\.\|^ok \|^not ok ' \
		"$build/log-$kver/results.log" | tr -d '\r'
	grep '^not ok' "$build/log-$kver/results.log" | tr -d '\r' || true
done
