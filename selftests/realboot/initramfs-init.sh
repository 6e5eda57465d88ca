#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the real-boot guest's small initramfs (busybox).  Debian's
# kernels build virtio-blk and ext4 as modules: load them, mount the root
# (the per-boot overlay of the cached image) and put into it what
# installing the module puts on a machine, then hand over to systemd.
#
#   /payload/updates/dkms/*   our modules, as `dkms install` names them;
#                             they go to /lib/modules/KVER/updates/dkms
#   /payload/depmod/          what depmod wrote for that tree (run.sh runs
#                             it on the host: the same kmod, 100 s faster)
#   /payload/system/          files `make install` puts outside the module
#                             tree (modules-load.d), copied as they are
#   /payload/test/            the test, and its unit in system/ (the
#                             package test: the .deb as well)
#
# Anything that goes wrong here is reported on ttyS1 in the runner's format,
# so the host sees a failure and not a timeout.

PATH=/bin:/sbin
export PATH
out=/dev/ttyS1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

fail() {
	{
		echo "# runner: suite realboot_initramfs"
		echo "1..1"
		echo "not ok 1 initramfs: $*"
		echo "# runner: suite realboot_initramfs exit=1"
		echo "# runner: end"
	} >"$out"
	poweroff -f
}

kver=$(uname -r)
# The modules in the order modprobe --show-depends gave them at packing.
# One may refuse the CPU (crc32c-intel without SSE4.2) and another serve:
# only the mount below decides.
while read -r ko; do
	insmod "$ko" || echo "initramfs: insmod $ko failed" >/dev/console
done </modules.order

n=0
while [ ! -b /dev/vda ]; do
	n=$((n + 1))
	[ $n -lt 100 ] || fail "no /dev/vda after 10 s"
	sleep 0.1
done
mkdir -p /newroot
mount -t ext4 -o rw /dev/vda /newroot || fail "mount /dev/vda"

# The package test (pkgtest.sh) brings no modules and no depmod output:
# the package it puts into the root installs them.
if [ -d /payload/updates ]; then
	dkms=/newroot/lib/modules/$kver/updates/dkms
	mkdir -p "$dkms"
	cp /payload/updates/dkms/* "$dkms/" || fail "install our modules"
fi
[ ! -d /payload/system ] || cp -a /payload/system/. /newroot/ ||
	fail "install the system files"
# -f: a kept disk (pkgtest.sh) has the test from its previous boot.
cp -af /payload/test/. /newroot/ || fail "install the test"
if [ -d /payload/depmod ]; then
	cp /payload/depmod/* "/newroot/lib/modules/$kver/" ||
		fail "install depmod's files"
fi

# systemd mounts its own /proc, /sys and /dev (devtmpfs keeps its nodes).
umount /proc /sys /dev
exec switch_root /newroot /sbin/init
