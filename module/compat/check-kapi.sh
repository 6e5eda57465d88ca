#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# After the build: does iommufd.ko export every call the kernel's own
# include/linux/iommufd.h declares, in upstream's namespaces?  The
# compiler already checked each of our definitions against its prototype
# (compat/kernel_iommufd.h); this catches a call the header declares and
# we do not provide, which a rebuilt VFIO would otherwise meet as an
# "Unknown symbol" at load time.  The header is the one the compiler
# used, as kapi.o's dependency list names it; without one (6.1) there is
# nothing to check.
#
# Usage: check-kapi.sh MODULE_BUILD_DIR
set -eu

dir=$1
hdr=$(grep -o '[^ ]*/include/linux/iommufd\.h' "$dir/.kapi.o.cmd" 2>/dev/null |
	head -n 1) || true
[ -n "$hdr" ] || exit 0

missing=""
for name in $(grep -oE '\biommufd_[a-z0-9_]+\(' "$hdr" | tr -d '(' | sort -u); do
	awk -v n="$name" '$2 == n && ($5 == "IOMMUFD" || $5 == "IOMMUFD_VFIO") {
		found = 1 } END { exit !found }' "$dir/Module.symvers" ||
		missing="$missing $name"
done
if [ -n "$missing" ]; then
	echo "iommufd-dkms: $hdr declares calls iommufd.ko does not export in IOMMUFD/IOMMUFD_VFIO:$missing" >&2
	exit 1
fi
