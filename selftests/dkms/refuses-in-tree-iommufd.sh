#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# DKMS must not build our module for a kernel that has its own iommufd.
# Debian has no such kernel, so this makes one: a copy of the 6.12 headers
# tree whose configuration says CONFIG_IOMMUFD=m, registered under a fake
# release name.  Checked through the real dkms:
#   1. with the kernel's .config present, dkms's BUILD_EXCLUSIVE_CONFIG
#      check refuses (exit 77) before building anything;
#   2. with the .config gone (dkms then skips its check silently), our
#      Kbuild refuses with its own message.
# Output: TAP, in the guest runner's results format, on stdout.
# Usage: refuses-in-tree-iommufd.sh HEADERS_KVER   (dkms must have the
#        module added already, as scripts/dkms-install.sh leaves it)
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
base_kver=$1
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
fake_kver=${base_kver}-iommufdtest
base=$(readlink -f "/lib/modules/$base_kver/build")
fake=$(dirname "$base")/linux-headers-$fake_kver

cleanup() {
	dkms remove -m iommufd -v "$ver" -k "$fake_kver" >/dev/null 2>&1
	rm -rf "$fake" "/var/lib/dkms/iommufd/$ver/$fake_kver"
}
trap cleanup EXIT
cleanup

# Same depth under /usr/src, so the tree's relative links still resolve.
cp -a "$base" "$fake"
echo "CONFIG_IOMMUFD=m" >>"$fake/.config"
echo "CONFIG_IOMMUFD=m" >>"$fake/include/config/auto.conf"
echo "#define CONFIG_IOMMUFD_MODULE 1" >>"$fake/include/generated/autoconf.h"

n=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fi
}

echo "# runner: suite dkms"
echo "TAP version 13"
echo "1..4"

out=$(dkms build -m iommufd -v "$ver" -k "$fake_kver" \
	--kernelsourcedir "$fake" 2>&1)
rc=$?
[ $rc = 77 ]
result $? "dkms_refuses_a_kernel_whose_config_has_iommufd (exit $rc)"
echo "$out" | grep -q 'BUILD_EXCLUSIVE'
result $? "dkms_says_why_it_refuses"
echo "$out" | sed 's/^/# /'

rm "$fake/.config"
out=$(dkms build -m iommufd -v "$ver" -k "$fake_kver" \
	--kernelsourcedir "$fake" 2>&1)
rc=$?
[ $rc != 0 ]
result $? "kbuild_refuses_when_dkms_cannot_read_the_config (exit $rc)"
log=/var/lib/dkms/iommufd/$ver/build/make.log
grep -q 'this kernel has CONFIG_IOMMUFD=m' "$log" 2>/dev/null
result $? "kbuild_refusal_names_the_in_tree_iommufd"
grep 'CONFIG_IOMMUFD' "$log" 2>/dev/null | sed 's/^/# /'
echo "# runner: end"
