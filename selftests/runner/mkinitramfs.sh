#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Pack the test guest's initramfs for one Debian kernel.
#
# Usage: mkinitramfs.sh KVER OUTPUT ROOTFILES_DIR "OURMODULES" [KMOD...]
#   KVER          kernel release (its modules come from /lib/modules/KVER,
#                 or from $MODROOT/lib/modules/KVER when MODROOT is set:
#                 the debug kernel's tree from debug-kernel.sh)
#   OUTPUT        the cpio archive to write
#   ROOTFILES_DIR a directory copied as-is into the root (tests/, demo/...)
#   OURMODULES    our modules as DKMS installed them (space-separated);
#                 they go to updates/dkms as `dkms install` puts them, so
#                 the guest finds them with the same lookup as modprobe
#   KMOD...       kernel modules to ship with their dependencies (vfio-pci..)
set -euo pipefail

kver=$1 out=$2 files=$3 ourmod=$4
shift 4
here=$(dirname "$(readlink -f "$0")")
kmodctl=${KMODCTL:-$here/../build/kmodctl}
modroot=${MODROOT:-}

root=$(mktemp -d "${TMPDIR:-/tmp}/iommufd-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
# mktemp makes 0700: an unprivileged test in the guest could not reach /.
chmod 755 "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,etc,lib/modules/"$kver"/updates/dkms}
chmod 1777 "$root/tmp"

cp /bin/busybox "$root/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done

# A binary plus every shared library the dynamic loader would pick.
copy_with_libs() {
	local bin=$1 dest=$2 lib
	install -D -m 755 "$bin" "$root/$dest"
	for lib in $(ldd "$bin" | grep -oE '/[^ ]+'); do
		[ -e "$root$lib" ] || install -D -m 755 "$lib" "$root$lib"
	done
}
copy_with_libs "$kmodctl" /bin/kmodctl
# The admin tool (tools/iommufdctl), where an admin has it: /usr/sbin.
if [ -n "${IOMMUFDCTL:-}" ]; then
	copy_with_libs "$IOMMUFDCTL" /usr/sbin/iommufdctl
fi

# WITH_QEMU=1: Debian's QEMU inside the guest, to run as an unmodified VMM
# (it assigns the edu device with -S, mapping guest RAM through VFIO).
if [ "${WITH_QEMU:-0}" = 1 ]; then
	copy_with_libs /usr/bin/qemu-system-x86_64 /usr/bin/qemu-system-x86_64
	for m in /usr/lib/x86_64-linux-gnu/qemu/*.so; do
		copy_with_libs "$m" "$m"
	done
	mkdir -p "$root/usr/share"
	cp -a /usr/share/qemu /usr/share/seabios "$root/usr/share/"
fi

# QEMU_BPO_ROOT=DIR (from qemu-backports.sh): the backports QEMU beside
# it, under /opt/qemu-bpo (bin/, lib/qemu/ for QEMU_MODULE_DIR, share/
# for -L), for the suites that run it on the native iommufd path.
if [ -n "${QEMU_BPO_ROOT:-}" ]; then
	copy_with_libs "$QEMU_BPO_ROOT/usr/bin/qemu-system-x86_64" \
		/opt/qemu-bpo/bin/qemu-system-x86_64
	for m in "$QEMU_BPO_ROOT"/usr/lib/x86_64-linux-gnu/qemu/*.so; do
		copy_with_libs "$m" "/opt/qemu-bpo/lib/qemu/${m##*/}"
	done
	mkdir -p "$root/opt/qemu-bpo/share"
	cp -a "$QEMU_BPO_ROOT/usr/share/qemu" "$QEMU_BPO_ROOT/usr/share/seabios" \
		"$root/opt/qemu-bpo/share/"
	cp "$QEMU_BPO_ROOT/.complete" "$root/opt/qemu-bpo/VERSION"
fi

# Kernel modules arrive compressed on 6.12 (.ko.xz); busybox's tools and
# older kmods do not read that, so the guest gets them plain.
copy_module() {
	local src=$1 dst=$2
	mkdir -p "$(dirname "$dst")"
	case "$src" in
	*.xz) xz -dc "$src" >"${dst%.xz}" ;;
	*.zst) zstd -qdc "$src" >"${dst%.zst}" ;;
	*.gz) gzip -dc "$src" >"${dst%.gz}" ;;
	*) cp "$src" "$dst" ;;
	esac
}

for name in "$@"; do
	modprobe ${modroot:+-d "$modroot"} -S "$kver" --show-depends "$name" |
	while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		copy_module "$path" "$root${path#"$modroot"}"
	done
done
for ko in $ourmod; do
	copy_module "$ko" "$root/lib/modules/$kver/updates/dkms/$(basename "$ko")"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ -e "$modroot/lib/modules/$kver/$f" ] &&
		cp "$modroot/lib/modules/$kver/$f" "$root/lib/modules/$kver/"
done
depmod -b "$root" "$kver"

cp -a "$files"/. "$root/"
install -m 755 "$here/guest-init.sh" "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet) >"$out.tmp"
mv "$out.tmp" "$out"
