#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: install what is needed, build the module through DKMS for
# Debian's newest 6.12 kernel (DEMO_KERNEL to choose another), boot it in
# QEMU with an emulated Intel IOMMU (DEMO_IOMMU=amd for AMD) and the edu
# device, load the module and run the VMM-style demo program.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
build=$top/selftests/build/demo

"$here/host-deps.sh"
. "$here/kernels.sh"
kver=${DEMO_KERNEL:-$(kernel_612)}
iommu=${DEMO_IOMMU:-intel}

mkdir -p "$build/root/demo"
echo "demo: building iommufd through DKMS for $kver"
ko=$("$top/scripts/dkms-install.sh" "$kver" 2>"$build/dkms.log" | tr '\n' ' ')
gcc -O2 -Wall -Wextra -Werror -o "$build/kmodctl" "$here/kmodctl.c" -lkmod
gcc -static -O2 -Wall -Wextra -Werror -I"$top/uapi" -I"$top/selftests/lib" \
	-o "$build/root/demo/run-demo" "$top/selftests/demo/vmm-demo.c"
mkdir -p "$build/root/tests"
KMODCTL=$build/kmodctl "$here/mkinitramfs.sh" "$kver" "$build/initramfs.cpio" \
	"$build/root" "$ko" vfio-pci

echo "demo: booting $kver with the $iommu IOMMU and the edu device"
rc=0
"$here/run-guest.sh" "$kver" "$iommu" "$build/initramfs.cpio" "$build/log" \
	demo || rc=$?
grep -v '^# runner: \|^TAP version\|^1\.\.' "$build/log/results.log" |
	sed 's/^ok [0-9]* /guest check passed: /; s/^not ok [0-9]* /guest check FAILED: /'
echo "demo: the guest's kernel log is in $build/log/console.log"
! grep -q '^not ok' "$build/log/results.log" && [ $rc = 0 ]
