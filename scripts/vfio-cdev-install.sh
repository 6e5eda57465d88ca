#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install (or remove) the optional vfio-cdev DKMS package: Debian 6.12's
# own VFIO modules rebuilt with the VFIO device cdev, on top of iommufd.
# Needs iommufd itself installed through DKMS first (make install: its
# source in /usr/src/iommufd-VERSION is what vfio-cdev links against).
#
# Usage: vfio-cdev-install.sh install KVER...
#        vfio-cdev-install.sh remove
#
# The rebuilt modules carry the kernel's own module versions (vfio 0.3...),
# which dkms's version check takes for "the same module" and will not
# install: the package asks dkms to skip that check for itself
# (/usr/share/dkms/modules_to_force_install, dkms's own mechanism, also
# used when dkms rebuilds it later on its own).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/vfio-cdev/dkms.conf")
src=/usr/src/vfio-cdev-$ver
force=/usr/share/dkms/modules_to_force_install/vfio-cdev

remove() {
	if [ -e "/var/lib/dkms/vfio-cdev/$ver" ]; then
		dkms remove -m vfio-cdev -v "$ver" --all >/dev/null 2>&1 || true
		rm -rf "/var/lib/dkms/vfio-cdev/$ver"
	fi
	rm -rf "$src"
	rm -f "$force"
}

case "${1:-}" in
install) shift ;;
remove)
	remove
	# Debian's modules are the ones found again.
	for kver in /lib/modules/*/; do
		depmod "$(basename "$kver")"
	done
	exit 0 ;;
*) sed -n '9,11p' "$0" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || { sed -n '9,11p' "$0" >&2; exit 2; }

# Refuse early, with build.sh's own reasons, before dkms says less.
checkdir=$(mktemp -d)
trap 'rm -rf "$checkdir"' EXIT
for kver in "$@"; do
	bash "$top/vfio-cdev/build.sh" -k "$kver" -n -o "$checkdir"
done

remove
make -s -C "$top" vfio-cdev-dist DESTDIR="$src"
install -D -m 644 /dev/null "$force"
echo "vfio-cdev_version-override" >"$force"
dkms add -m vfio-cdev -v "$ver" >/dev/null
for kver in "$@"; do
	if ! dkms build -m vfio-cdev -v "$ver" -k "$kver" >/dev/null ||
	   ! dkms install -m vfio-cdev -v "$ver" -k "$kver" \
		--force-version-override >/dev/null; then
		log=/var/lib/dkms/vfio-cdev/$ver/build/make.log
		[ -e "$log" ] && tail -n 40 "$log" | sed 's/^/dkms: /' >&2
		echo "vfio-cdev-install: build for $kver failed" >&2
		exit 1
	fi
	modinfo -k "$kver" -n vfio vfio-pci-core vfio-pci vfio_iommu_type1 kvmgt
done
