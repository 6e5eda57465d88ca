#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The Debian package's test on a real Debian 12 system: the root of
# pkg-image.sh (systemd, udev, dkms, a compiler, both Debian kernels with
# their headers, installed as packages) on one qcow2 overlay kept across
# the boots, each boot with the real-boot test (guest-test.sh) and the
# package test's own stage (pkgtest-guest.sh):
#
#   1. the first kernel, iommufd_pkgtest=install: `apt-get install ./DEB`
#      builds through DKMS for both kernels (dkms builds for the running
#      kernel and the newest one), systemd-modules-load loads it, then the
#      real-boot suites
#   2. the second kernel, same disk, iommufd_pkgtest=purge: the real-boot
#      suites on a system that booted with the package installed
#      (modules-load.d, /dev/iommu, modprobe cycle), modinfo and dkms
#      status, then `apt-get purge` and nothing of ours left
#
# PKGTEST_BOOTS="STAGE:KVER ..." chooses other boots (stages install,
# verify, purge; install first).  The boot itself is run.sh's: q35, TCG,
# 2 vCPUs, emulated VT-d, the kernel from this machine's /boot, our busybox
# initramfs (initramfs-init.sh), which here copies in only the test and
# the .deb.
#
# Usage: pkgtest.sh [-d DEB] LOGDIR KVER1 KVER2
#   DEB     the package iommufd-dkms_*_all.deb, the others built with it
#           beside it (default: `make deb` into BUILD/deb)
#   LOGDIR  gets N-STAGE-KVER/ per boot (console.log, results.log in the
#           runner's format, qemu.log), image.log, timing
# Environment: GUEST_TIMEOUT (per boot, default 1500 s for the install,
#              480 s for the others), GUEST_MEM (default 2G),
#              KEEP_DISK=1 keeps LOGDIR/disk.qcow2; REALBOOT_CACHE.
# Exit status: 0 when every boot reported its end marker.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
deb=""
while getopts d: opt; do
	case $opt in
	d) deb=$(readlink -f "$OPTARG") ;;
	*) sed -n '/^# Usage:/,/^# Exit status/p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
logdir=${1:?usage: pkgtest.sh [-d DEB] LOGDIR KVER1 KVER2}
k1=${2:?usage: pkgtest.sh [-d DEB] LOGDIR KVER1 KVER2}
k2=${3:?usage: pkgtest.sh [-d DEB] LOGDIR KVER1 KVER2}
boots=${PKGTEST_BOOTS:-"install:$k1 purge:$k2"}
build=$top/selftests/build/pkgtest

mkdir -p "$logdir" "$build"
logdir=$(cd "$logdir" && pwd)
rm -rf "$logdir"/[0-9]-*

# Anything that fails before a guest runs is a failed test, not silence.
setup_failed() {
	local dir=$1 why=$2
	mkdir -p "$dir"
	{
		echo "# runner: suite pkgtest_setup"
		echo "1..1"
		echo "not ok 1 package test setup: $why"
		echo "# runner: suite pkgtest_setup exit=1"
	} >"$dir/results.log"
	echo "pkgtest: $why" >&2
}

first=$logdir/1-${boots%% *}
first=${first/:/-}
t0=$SECONDS
if [ -z "$deb" ]; then
	"$top/scripts/build-deb.sh" "$build/deb" >"$logdir/deb.log" 2>&1 || {
		setup_failed "$first" "make deb (see $logdir/deb.log)"
		exit 1
	}
	deb=$(ls "$build"/deb/iommufd-dkms_*_all.deb)
fi
if [ ! -f "$deb" ]; then
	setup_failed "$first" "no package $deb"
	exit 1
fi
t_deb=$((SECONDS - t0))
t0=$SECONDS
kvers=$(for b in $boots; do echo "${b#*:}"; done | sort -u)
rootfs=$("$here/pkg-image.sh" $kvers 2>"$logdir/image.log") || {
	setup_failed "$first" "image (see $logdir/image.log)"
	exit 1
}
t_image=$((SECONDS - t0))

# One initramfs per kernel: busybox, the modules that mount the root, and
# the payload (the test and the package; nothing of the module itself).
initramfs() {
	local kver=$1 init=$build/initramfs-$1 t ko plain
	rm -rf "$init"
	mkdir -p "$init"/{bin,proc,sys,dev,newroot,lib/modules,payload/test}
	t=$init/payload/test
	# The packages built with it (iommufdctl; not the debug symbols).
	mkdir -p "$t/root/iommufd-pkgtest"
	for d in "${deb%/*}"/*.deb; do
		case "$d" in
		*-dbgsym_*) ;;
		*) install -m 644 "$d" "$t/root/iommufd-pkgtest/" ;;
		esac
	done
	install -D -m 755 "$here/guest-test.sh" "$t/usr/local/lib/iommufd-realboot/guest-test.sh"
	install -m 644 "$here/pkgtest-guest.sh" "$t/usr/local/lib/iommufd-realboot/"
	install -m 755 "$build/devnode" "$t/usr/local/lib/iommufd-realboot/"
	install -D -m 644 "$here/iommufd-realboot.service" \
		"$t/etc/systemd/system/iommufd-realboot.service"
	mkdir -p "$t/etc/systemd/system/multi-user.target.wants"
	ln -s ../iommufd-realboot.service "$t/etc/systemd/system/multi-user.target.wants/"
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
	(cd "$init" && find . | cpio -o -H newc --quiet) >"$build/initramfs-$kver.cpio"
	rm -rf "$init"
}

gcc -static -O2 -Wall -Wextra -Werror -I "$top/uapi" \
	-o "$build/devnode" "$here/devnode.c"
for kver in $kvers; do
	initramfs "$kver"
done

disk=$logdir/disk.qcow2
rm -f "$disk"
qemu-img create -q -f qcow2 -F raw -b "$rootfs" "$disk"

# The guest's DKMS builds compile under TCG, a minute or more a file: a
# compiler cache on a disk of its own, kept outside the clone across runs
# (under a lock: one run at a time uses it), makes the files that did not
# change since the last run cost nothing.  The install stage mounts it
# for apt's run only; the package knows nothing of it.  A cache that does
# not check clean is made anew.
ccache_img=${REALBOOT_CACHE:-/var/cache/iommufd-dkms/realboot}/pkgtest-ccache.ext4
mkdir -p "${ccache_img%/*}"
exec 9>"$ccache_img.lock"
flock 9
if [ -e "$ccache_img" ] && ! e2fsck -p -f "$ccache_img" >/dev/null 2>&1; then
	rm -f "$ccache_img"
fi
if [ ! -e "$ccache_img" ]; then
	truncate -s 4G "$ccache_img.tmp"
	mkfs.ext4 -q -F -L pkgtest-ccache "$ccache_img.tmp"
	mv "$ccache_img.tmp" "$ccache_img"
fi

n=0 ok=1 timing="deb ${t_deb}s image ${t_image}s"
for b in $boots; do
	n=$((n + 1))
	stage=${b%%:*} kver=${b#*:}
	dir=$logdir/$n-$stage-$kver
	mkdir -p "$dir"
	if [ $ok = 0 ]; then
		setup_failed "$dir" "not booted: an earlier boot of this disk did not finish"
		continue
	fi
	: >"$dir/console.log"
	: >"$dir/results.log"
	timeout=${GUEST_TIMEOUT:-480}
	[ "$stage" != install ] || timeout=${GUEST_TIMEOUT:-1500}
	t1=$SECONDS
	timeout --foreground -k 10 "$timeout" \
		qemu-system-x86_64 \
		-M q35,kernel-irqchip=split -accel tcg,thread=multi \
		-cpu max -smp 2 -m "${GUEST_MEM:-2G}" \
		-device intel-iommu,intremap=on \
		-drive "if=none,id=root,file=$disk,format=qcow2,cache=unsafe" \
		-device virtio-blk-pci,drive=root \
		-drive "if=none,id=ccache,file=$ccache_img,format=raw,cache=unsafe" \
		-device virtio-blk-pci,drive=ccache \
		-kernel "/boot/vmlinuz-$kver" -initrd "$build/initramfs-$kver.cpio" \
		-append "console=ttyS0 panic=-1 no_timer_check intel_iommu=on iommu.strict=1 iommufd_pkgtest=$stage" \
		-nic none -nodefaults -vga none -display none -no-reboot -monitor none \
		-serial "file:$dir/console.log" -serial "file:$dir/results.log" \
		</dev/null 2>"$dir/qemu.log" || true
	timing="$timing $stage-$kver $((SECONDS - t1))s"
	echo "# pkgtest boot $n ($stage, $kver): $((SECONDS - t1)) s"
	grep -q '^# runner: end' "$dir/results.log" || ok=0
done
[ "${KEEP_DISK:-0}" = 1 ] || rm -f "$disk"
echo "$timing" >"$logdir/timing"
echo "# pkgtest: $timing"
[ $ok = 1 ]
