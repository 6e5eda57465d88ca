#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build and install the module through DKMS for the given kernels, exactly
# as an administrator would: stage the source under /usr/src, `dkms add`,
# `dkms build`, `dkms install`, then the files outside the module tree
# (`make install-system`: iommufd loads at boot).  Prints, for each kernel, the path of the
# modules DKMS installed (iommufd, then iommufd_vfio).  Re-running replaces the previous staging, so the
# module always comes from the tree as it is now.
#
# Usage: dkms-install.sh KVER...
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
src=/usr/src/iommufd-$ver

# Drop whatever an earlier run left, even a tree whose source is gone
# (dkms itself then refuses to remove it).
if [ -e "/var/lib/dkms/iommufd/$ver" ]; then
	dkms remove -m iommufd -v "$ver" --all >/dev/null 2>&1 || true
	rm -rf "/var/lib/dkms/iommufd/$ver"
	rm -f /lib/modules/*/updates/dkms/iommufd.ko*
fi
rm -rf "$src"
make -s -C "$top" dist-src DESTDIR="$src"
dkms add -m iommufd -v "$ver" >/dev/null

for kver in "$@"; do
	if ! dkms build -m iommufd -v "$ver" -k "$kver" >/dev/null ||
	   ! dkms install -m iommufd -v "$ver" -k "$kver" >/dev/null; then
		log=/var/lib/dkms/iommufd/$ver/build/make.log
		[ -e "$log" ] && sed 's/^/dkms: /' "$log" >&2
		echo "dkms-install: build for $kver failed" >&2
		exit 1
	fi
	ls /lib/modules/"$kver"/updates/dkms/iommufd.ko* \
	   /lib/modules/"$kver"/updates/dkms/iommufd_vfio.ko*
done
# Loading at boot (modules-load.d): the minor of /dev/iommu is dynamic, so
# nothing loads the module on first open.
make -s -C "$top" install-system
