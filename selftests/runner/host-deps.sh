#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install, from Debian's archive, everything the guest runs need: the two
# Debian kernels (image + headers), QEMU, busybox, cpio, kmod/libkmod, dkms
# and a compiler; debootstrap and qemu-img for the real-boot image
# (selftests/realboot); what building the debug kernel from
# linux-source-6.12 takes (debug-kernel.sh: flex, bison, bc, libelf and
# libssl headers).  Idempotent: packages already present are not touched, so
# a second run costs one dpkg query.
#
# Usage: host-deps.sh            (as root)
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
. "$here/kernels.sh"

if [ "$(id -u)" != 0 ]; then
	echo "host-deps: must run as root to install packages" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
stamp=/var/lib/apt/periodic/iommufd-dkms-update-stamp

apt_update_once() {
	# One refresh per day is plenty; a fresh machine has empty lists.
	if [ ! -e "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ] ||
	   [ -z "$(apt-cache pkgnames linux-image-6.12. 2>/dev/null)" ]; then
		apt-get update -qq
		mkdir -p "$(dirname "$stamp")"
		touch "$stamp"
	fi
}

apt_update_once

k61=$(kernel_61)
k612=$(kernel_612)
if [ -z "$k61" ] || [ -z "$k612" ]; then
	echo "host-deps: cannot resolve the Debian kernels from the archive" >&2
	exit 1
fi

pkgs="build-essential qemu-system-x86 busybox-static cpio kmod libkmod-dev
      pkg-config dkms xz-utils zstd gcc-multilib g++-multilib
      linux-source-6.12 flex bison bc libelf-dev libssl-dev
      debootstrap qemu-utils e2fsprogs debian-archive-keyring
      linux-image-$k61 linux-headers-$k61
      linux-image-$k612 linux-headers-$k612"

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	     grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "host-deps: installing$missing"
	# The images are only booted in QEMU with our own initramfs: skip the
	# host initramfs generation, which costs about a minute per kernel.
	INITRD=No apt-get install -y -qq --no-install-recommends $missing \
		-o Dpkg::Options::=--force-confdef >/dev/null
fi
echo "host-deps: kernels $k61 $k612 ready"
