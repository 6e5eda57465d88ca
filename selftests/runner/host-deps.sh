#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install, from Debian's archive, everything the guest runs need: the two
# Debian kernels (image + headers), QEMU, busybox, cpio, kmod/libkmod, dkms
# and a compiler; debootstrap and qemu-img for the real-boot image
# (selftests/realboot); what building the debug kernel from
# linux-source-6.12 takes (debug-kernel.sh: flex, bison, bc, libelf and
# libssl headers); what `make deb` takes (dpkg-dev, debhelper, dh-dkms,
# fakeroot, lintian).  Idempotent: packages already present are not
# touched, so a second run costs one dpkg query.
#
# Usage: host-deps.sh            everything (as root, when anything is missing)
#        host-deps.sh packaging  only what building the Debian package takes
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
. "$here/kernels.sh"

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

# make deb (scripts/build-deb.sh): dpkg-buildpackage, dh with the dkms
# sequence, lintian, and debian/control's Build-Depends (iommufdctl is
# built on libkmod).
packaging="build-essential make dpkg-dev debhelper dh-dkms fakeroot lintian
	   libkmod-dev pkg-config"

install_missing() {
	local missing="" p
	for p in "$@"; do
		if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		     grep -q 'install ok installed'; then
			missing="$missing $p"
		fi
	done
	[ -n "$missing" ] || return 0
	if [ "$(id -u)" != 0 ]; then
		echo "host-deps: must run as root to install$missing" >&2
		exit 1
	fi
	echo "host-deps: installing$missing"
	apt_update_once
	# The images are only booted in QEMU with our own initramfs: skip the
	# host initramfs generation, which costs about a minute per kernel.
	INITRD=No apt-get install -y -qq --no-install-recommends $missing \
		-o Dpkg::Options::=--force-confdef >/dev/null
}

if [ "${1:-}" = packaging ]; then
	install_missing $packaging
	exit 0
fi

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

install_missing $pkgs $packaging
echo "host-deps: kernels $k61 $k612 ready"
