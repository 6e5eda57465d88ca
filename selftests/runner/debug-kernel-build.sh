#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The build step of debug-kernel.sh (which hashes this file into the cache
# key, so that changing how the kernel is built builds it again): unpack
# linux-source-6.12 into TMP, configure it from x86_64_defconfig and the
# fragment, build it, install its modules, and keep of the build tree what
# out-of-tree modules need.  TMP ends holding bzImage, System.map, .config,
# modroot/lib/modules/KVER, kdir/ and kver (the release string).
#
# Usage: debug-kernel-build.sh TARBALL FRAGMENT TMP LOG JOBS
set -euo pipefail

tarball=$1
fragment=$2
tmp=$3
log=$4
jobs=$5

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

{
	tar -C "$tmp" -xJf "$tarball"
	mv "$tmp/linux-source-6.12" "$tmp/kdir"
} >"$log" 2>&1 || die "cannot unpack $tarball (see $log)"

kdir=$tmp/kdir
mk() {
	make -C "$kdir" -j"$jobs" "$@" >>"$log" 2>&1
}

mk x86_64_defconfig || die "defconfig failed (see $log)"
(cd "$kdir" && scripts/kconfig/merge_config.sh -m .config "$fragment") \
	>>"$log" 2>&1 || die "merge_config failed (see $log)"
mk olddefconfig || die "olddefconfig failed (see $log)"

# Kconfig silently drops a symbol whose dependencies are not met: insist
# that every line of the fragment holds in the final configuration.
bad=""
while IFS= read -r line; do
	case $line in
	CONFIG_*=*)
		grep -qxF -- "$line" "$kdir/.config" || bad="$bad ${line%%=*}"
		;;
	"# CONFIG_"*" is not set")
		sym=${line#\# }
		sym=${sym%% *}
		! grep -q "^$sym=" "$kdir/.config" || bad="$bad $sym"
		;;
	esac
done <"$fragment"
[ -z "$bad" ] || die "fragment symbols not honoured by Kconfig:$bad"

mk bzImage modules || die "kernel build failed (see $log)"
kver=$(make -s -C "$kdir" kernelrelease)
mk INSTALL_MOD_PATH="$tmp/modroot" DEPMOD=/sbin/depmod modules_install ||
	die "modules_install failed (see $log)"
cp "$kdir/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$kdir/System.map" "$kdir/.config" "$tmp/"

# Keep of the tree what an out-of-tree module build reads (headers,
# generated files, scripts and their host tools, Module.symvers); drop the
# objects, which are most of its size.
find "$kdir" \( -name '*.o' -o -name '*.ko' -o -name '*.a' -o \
	-name '*.mod.c' -o -name '.tmp_*' \) -type f -delete
rm -f "$kdir/vmlinux" "$kdir/arch/x86/boot/compressed/vmlinux" \
	"$kdir/arch/x86/boot/vmlinux.bin"

# The module tree's build/source links point into the temporary
# directory: make them relative so they survive the rename.
moddir=$tmp/modroot/lib/modules/$kver
rm -f "$moddir/build" "$moddir/source"
ln -s ../../../../kdir "$moddir/build"

echo "$kver" >"$tmp/kver"
