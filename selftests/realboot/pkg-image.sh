#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The package test's root file system: the real-boot base (image.sh base:
# debootstrap, systemd, udev) plus what a Debian 12 machine that installs
# iommufd-dkms has: dkms, a compiler, and both Debian kernels with their
# headers, installed as packages by apt (the kernels come from the
# security suite, which debootstrap cannot read).  apt runs in a chroot of
# a copy of the base with this machine's own apt sources and lists, and
# its package cache bind-mounted, so the kernel packages the host already
# downloaded are not fetched again.  The guest gets neither sources nor
# lists: it has no network, and apt resolves a local .deb against the
# installed packages alone.
#
#   pkgroot-KEY.ext4   KEY hashes the base's key, this script, and the
#                      package names with their candidate versions: a
#                      new kernel ABI or dkms upload builds anew, once
#
# Built under image.sh's lock and cache (REALBOOT_CACHE), in a temporary
# name renamed into place; each use touches its .key file, and image.sh
# removes layers unused for 14 days.
#
# Usage: pkg-image.sh KVER...   prints the ext4 image's path
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
. "$here/../runner/kernels.sh"
cache=${REALBOOT_CACHE:-/var/cache/iommufd-dkms/realboot}
[ $# -gt 0 ] || { echo "usage: pkg-image.sh KVER..." >&2; exit 2; }

log() { echo "realboot-pkg-image: $*" >&2; }

base=$("$here/image.sh" base)

pkgs=$(sed 's/#.*//' "$here/pkgtest.list" | tr -s ' \t' '\n\n' | sed '/^$/d')
pkgs="$pkgs linux-headers-amd64"
for kver in "$@"; do
	pkgs="$pkgs linux-image-$kver linux-headers-$kver"
done
pkgs=$(echo $pkgs | tr ' ' '\n' | sort -u)

# name=candidate, one a line, from one apt-cache call: a package missing
# from the lists is an error here rather than a failed apt run later.
versions=$(apt-cache policy $pkgs 2>/dev/null | awk '
	/^[^ ]/ { name = $1; sub(/:$/, "", name) }
	/^  Candidate:/ { print name "=" $2 }')
for p in $pkgs; do
	case "$versions" in
	*"$p="[0-9]*) ;;
	*) log "no candidate for $p (apt-get update?)"; exit 1 ;;
	esac
done

# Remove a half-built tree, never crossing into the mounts the chroot
# may have left inside it.
remove_tree() {
	local dir=$1 mnt
	[ -e "$dir" ] || return 0
	for mnt in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' \
		     /proc/mounts | sort -r); do
		umount -l "$mnt" || true
	done
	rm -rf --one-file-system "$dir"
}

build() {
	local out=$1 stage=$1.stage tmp=$1.tmp size t0=$SECONDS rc=0
	remove_tree "$stage"
	rm -f "$tmp"
	# A real copy: dpkg and the maintainer scripts may write files in
	# place, which through hard links would change the cached base.
	cp -a "$base" "$stage"
	cp -a /etc/apt/sources.list.d/. "$stage/etc/apt/sources.list.d/"
	[ ! -e /etc/apt/sources.list ] || cp /etc/apt/sources.list "$stage/etc/apt/"
	cp -a /var/lib/apt/lists/. "$stage/var/lib/apt/lists/"
	rm -f "$stage/var/lib/apt/lists/lock"
	mount -t proc proc "$stage/proc"
	mount --bind /var/cache/apt/archives "$stage/var/cache/apt/archives"
	# The guest boots our own initramfs: no update-initramfs (a minute
	# per kernel); the stub is removed and the real one restored below.
	chroot "$stage" dpkg-divert --quiet --local --no-rename --divert \
		/usr/sbin/update-initramfs.real --add /usr/sbin/update-initramfs
	printf '#!/bin/sh\nexit 0\n' >"$stage/usr/sbin/update-initramfs"
	chmod 755 "$stage/usr/sbin/update-initramfs"
	log "apt-get install in the chroot: $(echo $pkgs)"
	DEBIAN_FRONTEND=noninteractive INITRD=No chroot "$stage" \
		apt-get install -y -q --no-install-recommends $pkgs \
		>"$cache/pkg-image-apt.log" 2>&1 || rc=$?
	umount "$stage/var/cache/apt/archives" "$stage/proc"
	if [ $rc != 0 ]; then
		tail -n 20 "$cache/pkg-image-apt.log" >&2
		remove_tree "$stage"
		return 1
	fi
	rm -f "$stage/usr/sbin/update-initramfs"
	chroot "$stage" dpkg-divert --quiet --local --rename \
		--remove /usr/sbin/update-initramfs
	# What the guest's apt is left with: the base's sources, no lists.
	find "$stage/etc/apt/sources.list.d" -mindepth 1 -delete
	cp "$base/etc/apt/sources.list" "$stage/etc/apt/sources.list"
	find "$stage/var/lib/apt/lists" -mindepth 1 -maxdepth 1 ! -name partial \
		-exec rm -rf {} +
	echo "$versions" >"$stage/etc/iommufd-pkgtest.packages"
	size=$(( $(du -sm "$stage" | cut -f1) * 11 / 10 + ${REALBOOT_FREE_MB:-768} ))
	mke2fs -q -F -t ext4 -L realboot-root -E root_owner=0:0 \
		-d "$stage" "$tmp" "${size}M" >&2
	remove_tree "$stage"
	log "package-test root built in $((SECONDS - t0)) s (${size} MiB)"
	mv -f "$tmp" "$out"
}

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
self=$(sha256sum "$0" | cut -c1-64)
key=$( { echo "base=${base##*/} script=$self"; echo "$versions"; } |
	sha256sum | cut -c1-16)
root=$cache/pkgroot-$key.ext4
{ echo "base=${base##*/} pkg-image.sh=$self"; echo "$versions"; } >"$root.key"
[ -e "$root" ] || build "$root"
echo "$root"
