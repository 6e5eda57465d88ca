#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The real-boot test for one Debian kernel: boot a Debian 12 system (systemd,
# udev, kmod: image.sh) in QEMU with the module installed as `make install`
# installs it, and check /dev/iommu once the boot is done and again after
# `modprobe -r iommufd; modprobe iommufd` (guest-test.sh, devnode.c).
#
# The boot: q35, TCG, emulated VT-d, the kernel from /boot, a small busybox
# initramfs of ours (initramfs-init.sh) that loads virtio-blk and ext4, puts
# the modules into /lib/modules/KVER/updates/dkms (as dkms does) with
# depmod's output for them, and the files `make install-system` installs,
# and switch_roots to systemd.  The root is a qcow2 overlay of the cached image, thrown away
# afterwards: every boot starts from the same clean system.
#
# Usage: run.sh [-T TREE] [-B BUILD] KVER LOGDIR [KO...]
#   KO     our modules as DKMS installed them (make check passes these);
#          without them, TREE's module is built with plain make into BUILD
#   TREE   the source tree whose module and system files are installed
#          (default: this one; another checkout shows an older behaviour)
#   LOGDIR gets console.log (kernel and systemd), results.log (the guest's
#          TAP in the runner's format), qemu.log, timing
# Environment: GUEST_TIMEOUT seconds (default 480), GUEST_MEM (default 2G),
#              KEEP_DISK=1 keeps LOGDIR/disk.qcow2; REALBOOT_CACHE as for
#              image.sh.
# Exit status: 0 when the guest reported its end marker.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
tree=$top build=""
while getopts T:B: opt; do
	case $opt in
	T) tree=$(cd "$OPTARG" && pwd) ;;
	B) build=$OPTARG ;;
	*) sed -n '16,26p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
kver=${1:?usage: run.sh [-T TREE] [-B BUILD] KVER LOGDIR [KO...]}
logdir=${2:?usage: run.sh [-T TREE] [-B BUILD] KVER LOGDIR [KO...]}
shift 2
kos=("$@")
build=${build:-$top/selftests/build/realboot/$kver}

mkdir -p "$logdir" "$build"
logdir=$(cd "$logdir" && pwd)
build=$(cd "$build" && pwd)
: >"$logdir/console.log"
: >"$logdir/results.log"

# Anything that fails before the guest runs is a failed test, not silence.
setup_failed() {
	{
		echo "# runner: suite realboot_setup"
		echo "1..1"
		echo "not ok 1 realboot setup: $1"
		echo "# runner: suite realboot_setup exit=1"
	} >"$logdir/results.log"
	echo "realboot: $1" >&2
	exit 1
}

t0=$SECONDS
rootfs=$("$here/image.sh" rootfs "$kver" 2>"$logdir/image.log") ||
	setup_failed "image for $kver (see $logdir/image.log)"
t_image=$((SECONDS - t0))

if [ ${#kos[@]} = 0 ]; then
	rm -rf "$build/src"
	make -s -C "$tree" dist-src DESTDIR="$build/src"
	make -s -C "$build/src/module" KVER="$kver" >"$build/module-build.log" 2>&1 ||
		setup_failed "module build for $kver (see $build/module-build.log)"
	kos=("$build/src/module/iommufd.ko" "$build/src/module/iommufd_vfio.ko")
fi

# The payload initramfs-init.sh installs into the root.
init=$build/initramfs
rm -rf "$init"
mkdir -p "$init"/{bin,proc,sys,dev,newroot,lib/modules,payload/updates/dkms,payload/test}
cp "${kos[@]}" "$init/payload/updates/dkms/"
if grep -q '^install-system:' "$tree/Makefile"; then
	make -s -C "$tree" install-system DESTDIR="$init/payload/system"
fi
t=$init/payload/test
install -D -m 755 "$here/guest-test.sh" "$t/usr/local/lib/iommufd-realboot/guest-test.sh"
gcc -static -O2 -Wall -Wextra -Werror -I "$top/uapi" \
	-o "$t/usr/local/lib/iommufd-realboot/devnode" "$here/devnode.c"
install -D -m 644 "$here/iommufd-realboot.service" \
	"$t/etc/systemd/system/iommufd-realboot.service"
mkdir -p "$t/etc/systemd/system/multi-user.target.wants"
ln -s ../iommufd-realboot.service "$t/etc/systemd/system/multi-user.target.wants/"

# depmod, as `dkms install` runs it, but on the host, over the tree the
# image holds (the kernel's package files, hard-linked) plus our modules;
# the guest gets its output.  The same kmod does it on both sides; in the
# TCG guest it would cost 100 s (6.12: 4000 .ko.xz to unpack).
dm=$build/depmod
rm -rf "$dm"
mkdir -p "$dm/lib/modules/$kver/updates/dkms" "$init/payload/depmod"
cp -al "/lib/modules/$kver/kernel" "$dm/lib/modules/$kver/" 2>/dev/null ||
	cp -a "/lib/modules/$kver/kernel" "$dm/lib/modules/$kver/"
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ ! -e "/lib/modules/$kver/$f" ] || cp "/lib/modules/$kver/$f" "$dm/lib/modules/$kver/"
done
cp "${kos[@]}" "$dm/lib/modules/$kver/updates/dkms/"
depmod -b "$dm" "$kver"
cp "$dm/lib/modules/$kver"/modules.* "$init/payload/depmod/"
rm -rf "$dm"

# Busybox, and the kernel's modules that mount the root, in load order,
# uncompressed (busybox's insmod reads plain .ko only).
cp /bin/busybox "$init/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ -e "$init/bin/$applet" ] || ln -s busybox "$init/bin/$applet"
done
: >"$init/modules.order"
for name in virtio_pci virtio_blk crc32c ext4; do
	modprobe -S "$kver" --show-depends "$name" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	plain=/lib/modules/${ko##*/}
	plain=${plain%.xz}
	case "$ko" in
	*.xz) xz -dc "$ko" >"$init$plain" ;;
	*) cp "$ko" "$init$plain" ;;
	esac
	echo "$plain" >>"$init/modules.order"
done
install -m 755 "$here/initramfs-init.sh" "$init/init"
(cd "$init" && find . | cpio -o -H newc --quiet) >"$build/initramfs.cpio"

disk=$logdir/disk.qcow2
rm -f "$disk"
qemu-img create -q -f qcow2 -F raw -b "$rootfs" "$disk"

# no_timer_check: on a loaded host the TCG guest can miss the timer ticks
# the kernel counts while it sets up the interrupt-remapped IO-APIC, and
# panics ("timer doesn't work through Interrupt-remapped IO-APIC").
cmdline="console=ttyS0 panic=-1 no_timer_check intel_iommu=on iommu.strict=1"
t1=$SECONDS
timeout --foreground -k 10 "${GUEST_TIMEOUT:-480}" \
	qemu-system-x86_64 \
	-M q35,kernel-irqchip=split -accel tcg,thread=multi \
	-cpu max -smp 2 -m "${GUEST_MEM:-2G}" \
	-device intel-iommu,intremap=on \
	-drive "if=none,id=root,file=$disk,format=qcow2,cache=unsafe" \
	-device virtio-blk-pci,drive=root \
	-kernel "/boot/vmlinuz-$kver" -initrd "$build/initramfs.cpio" \
	-append "$cmdline" -nic none \
	-nodefaults -vga none -display none -no-reboot -monitor none \
	-serial "file:$logdir/console.log" -serial "file:$logdir/results.log" \
	</dev/null 2>"$logdir/qemu.log" || true
t_boot=$((SECONDS - t1))
[ "${KEEP_DISK:-0}" = 1 ] || rm -f "$disk"

t_setup=$((t1 - t0 - t_image))
echo "image ${t_image}s setup ${t_setup}s boot+test ${t_boot}s" >"$logdir/timing"
echo "# realboot $kver: image ${t_image} s, payload ${t_setup} s, boot and test ${t_boot} s"
grep -q '^# runner: end' "$logdir/results.log"
