#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build, or reuse from the cache, the debug kernel of the test run: Debian's
# linux-source-6.12 on x86_64_defconfig plus debug-kernel.config (KASAN,
# lockdep, kmemleak, debugobjects, KFENCE, fault injection; no iommufd of its
# own, VFIO as Debian has it).
#
# The result lives in $IOMMUFD_CACHE/debug-kernel/KEY, where KEY is the
# source package's version plus a hash of the fragment and of this script,
# so that any change to either builds a new kernel and an unchanged machine
# never builds twice.  A build runs in a temporary directory beside it and
# is renamed into place only once complete; concurrent callers serialise
# on a lock and the later ones find the finished tree.
#
# Prints, on stdout, lines a shell can source:
#   DEBUG_KVER=     the kernel release (uname -r in the guest)
#   DEBUG_KIMAGE=   the bzImage
#   DEBUG_MODDIR=   a root holding lib/modules/$DEBUG_KVER
#   DEBUG_KDIR=     a build tree for out-of-tree modules (make -C ... M=)
# Progress goes to stderr; the build log to KEY.log beside the tree.
#
# Usage: debug-kernel.sh [-n]    (-n: only print the key; build nothing)
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
fragment=$here/debug-kernel.config
tarball=/usr/src/linux-source-6.12.tar.xz
cache=${IOMMUFD_CACHE:-/var/cache/iommufd-dkms}/debug-kernel
jobs=${DEBUG_KERNEL_JOBS:-$(($(nproc) + 1))}

die() {
	echo "debug-kernel: $*" >&2
	exit 1
}

[ -r "$tarball" ] || die "$tarball missing (host-deps.sh installs linux-source-6.12)"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
	die "linux-source-6.12 is not installed"
hash=$(cat "$fragment" "$here/debug-kernel-build.sh" | sha256sum | cut -c1-12)
key=$(printf '%s' "linux-source-6.12_$srcver" | tr -c 'A-Za-z0-9._-' '_')-$hash
final=$cache/$key

if [ "${1-}" = -n ]; then
	echo "$final"
	exit 0
fi

emit() {
	cat "$final/env"
}

if [ -e "$final/complete" ]; then
	emit
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Someone else may have finished it while we waited.
if [ -e "$final/complete" ]; then
	emit
	exit 0
fi

# Under the lock every temporary directory is a dead build's leftover.
rm -rf "$cache"/.tmp-*
tmp=$cache/.tmp-$key.$$
log=$cache/$key.log
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"
start=$(date +%s)
echo "debug-kernel: building $key with -j$jobs (log $log)" >&2

"$here/debug-kernel-build.sh" "$tarball" "$fragment" "$tmp" "$log" "$jobs"
kver=$(cat "$tmp/kver")

cat >"$tmp/env" <<EOF
DEBUG_KVER=$kver
DEBUG_KIMAGE=$final/bzImage
DEBUG_MODDIR=$final/modroot
DEBUG_KDIR=$final/kdir
EOF
echo "built in $(($(date +%s) - start)) s with -j$jobs" >"$tmp/complete"
mv -T "$tmp" "$final"
trap - EXIT
echo "debug-kernel: $key built in $(($(date +%s) - start)) s" >&2
emit
