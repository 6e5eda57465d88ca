#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the whole test run.  Installs what it needs, builds the
# module through DKMS for both Debian kernels, builds the test programs,
# then boots each kernel under each emulated IOMMU and runs every suite in
# the guest.  Prints TAP for the whole run and a closing line
# "N passed, N failed" (", N skipped" when any); exits non-zero on any
# failure.
#
# Environment: KERNELS (default: both Debian kernels), IOMMUS (default
# "intel amd"), SUITES (comma-separated suite names, default all),
# LOGDIR (default selftests/build/logs).
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
build=$top/selftests/build
logdir=${LOGDIR:-$build/logs}

"$here/host-deps.sh"
. "$here/kernels.sh"
kernels=${KERNELS:-"$(kernel_61) $(kernel_612)"}
iommus=${IOMMUS:-"intel amd"}

mkdir -p "$build"
echo "# building the module through DKMS for: $kernels"
declare -A module
for kver in $kernels; do
	module[$kver]=$("$top/scripts/dkms-install.sh" "$kver" | tail -n 1)
done

echo "# building the test programs"
make -s -C "$top/selftests" O="$build/suites"
gcc -O2 -Wall -Wextra -Werror -o "$build/kmodctl" "$here/kmodctl.c" -lkmod

rootfiles=$build/rootfiles
rm -rf "$rootfiles"
mkdir -p "$rootfiles/tests"
for t in "$build"/suites/*; do
	install -m 755 "$t" "$rootfiles/tests/"
done

total_pass=0 total_fail=0 total_skip=0 last=0

# Fold one results.log (the guest runner's format) into the run's TAP.
collect() {
	local run=$1 dir=$2 p f s
	awk -v run="$run" -v start="$last" -f "$here/tap-collect.awk" \
		"$dir/results.log" >"$dir/tap"
	grep -v '^# tally' "$dir/tap"
	read -r _ _ p f s last < <(grep '^# tally' "$dir/tap")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
}

echo "TAP version 13"

# Host side: DKMS's packaging behaviour (no kernel involved).
mkdir -p "$logdir/dkms"
"$top/selftests/dkms/refuses-in-tree-iommufd.sh" "$(echo $kernels |
	awk '{ print $NF }')" >"$logdir/dkms/results.log" \
	2>"$logdir/dkms/stderr.log"
collect host "$logdir/dkms"
for kver in $kernels; do
	initrd=$build/initramfs-$kver.cpio
	KMODCTL=$build/kmodctl "$here/mkinitramfs.sh" "$kver" "$initrd" \
		"$rootfiles" "${module[$kver]}"
	for iommu in $iommus; do
		run=$(echo "$kver" | cut -d. -f1,2)/$iommu
		log=$logdir/$kver-$iommu
		echo "# booting $kver with the $iommu IOMMU"
		"$here/run-guest.sh" "$kver" "$iommu" "$initrd" "$log" check \
			"${SUITES:-}" || {
			echo "# guest did not finish; end of its console:"
			tail -n 40 "$log/console.log" | sed 's/^/#   /'
		}
		collect "$run" "$log"
	done
done

echo "1..$last"
summary="$total_pass passed, $total_fail failed"
[ "$total_skip" = 0 ] || summary="$summary, $total_skip skipped"
echo "$summary"
[ "$total_fail" = 0 ] && [ "$last" -gt 0 ]
