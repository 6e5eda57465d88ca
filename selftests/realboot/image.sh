#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The real-boot guest's root file system: Debian 12 (bookworm) with systemd
# and udev, built by debootstrap from the Debian archive this machine's apt
# already uses, and cached outside the clone.  Two layers:
#
#   base-KEY/           the debootstrap tree; KEY hashes the package lists
#                       and this script, so a change to either builds anew
#   rootfs-KEY2.ext4    base + one kernel's own modules (the files
#                       linux-image-KVER ships under /lib/modules/KVER,
#                       depmod'ed), as a raw ext4 image; KEY2 hashes KEY,
#                       the kernel release and its package version
#
# A boot never writes to either: it runs on a qcow2 overlay of the ext4
# image (run.sh), so every boot starts from the same clean system.  Both
# layers are built in a temporary name and renamed into place, under a
# lock, so an interrupted build leaves nothing a later run would trust,
# and a second run finds them and costs a hash.  Each use touches the
# layer's .key file (what it was built from, readable); layers unused for
# 14 days (an older image.sh, a kernel Debian has since replaced) are
# removed.
#
# Usage: image.sh base [PKGLIST...]          prints the base tree's path
#        image.sh rootfs KVER [PKGLIST...]   prints the ext4 image's path
#   PKGLIST  files of package names, one a line, # comments (default:
#            packages.list beside this script).  A later user (the Debian
#            package's test) passes its own lists on top of ours and gets
#            its own cached base.
# Environment: REALBOOT_CACHE (default /var/cache/iommufd-dkms/realboot),
#              REALBOOT_FREE_MB free space left in the image (default 768).
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
cache=${REALBOOT_CACHE:-/var/cache/iommufd-dkms/realboot}
suite=bookworm
arch=amd64

log() { echo "realboot-image: $*" >&2; }

# The Debian archive this machine installs from, read from its apt sources
# (one-line and deb822 formats): the first enabled "deb" entry for $suite
# with the main component.  Nothing about the archive is written in the tree.
debian_mirror() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v suite="$suite" '
		$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
			if ($(i + 1) != suite) next
			for (j = i + 2; j <= NF; j++)
				if ($j == "main") { print $i; exit }
		}' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		# deb822: one stanza a paragraph, "Key: value" lines, continuation
		# lines start with a blank.
		awk -v suite="$suite" '
		function has(list, word,   n, a, k) {
			n = split(list, a, /[ \t]+/)
			for (k = 1; k <= n; k++) if (a[k] == word) return 1
			return 0
		}
		function stanza() {
			if (has(v["types"], "deb") && has(v["suites"], suite) &&
			    has(v["components"], "main") && tolower(v["enabled"]) != "no") {
				split(v["uris"], u, /[ \t]+/)
				print u[1]; found = 1
			}
			delete v
		}
		/^#/ { next }
		/^[ \t]*$/ { stanza(); if (found) exit; next }
		/^[ \t]/ { next }
		{
			k = tolower(substr($0, 1, index($0, ":") - 1))
			val = substr($0, index($0, ":") + 1)
			gsub(/^[ \t]+|[ \t]+$/, "", val)
			v[k] = val
		}
		END { if (!found) stanza() }' "$f"
	done
}

# The package names of the lists, sorted, one a line: what the key hashes.
packages() {
	sed 's/#.*//' "$@" | tr -s ' \t' '\n\n' | sed '/^$/d' | sort -u
}

# Remove a half-built layer, never crossing into a mount a crashed
# debootstrap may have left inside it (its /proc, /sys, /dev).
remove_tree() {
	local dir=$1 mnt
	[ -e "$dir" ] || return 0
	for mnt in $(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' \
		     /proc/mounts | sort -r); do
		umount -l "$mnt" || true
	done
	rm -rf --one-file-system "$dir"
}

build_base() {
	local out=$1 tmp=$1.tmp mirror include
	mirror=$(debian_mirror | head -n 1)
	if [ -z "$mirror" ]; then
		log "no '$suite main' entry in /etc/apt/sources.list{,.d}: cannot tell where Debian's archive is"
		return 1
	fi
	include=$(packages "${lists[@]}" | paste -sd, -)
	remove_tree "$tmp"
	log "debootstrap $suite ($include) from $mirror"
	local t0=$SECONDS
	debootstrap --variant=minbase --arch="$arch" --include="$include" \
		"$suite" "$tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 || {
		tail -n 20 "$cache/debootstrap.log" >&2
		remove_tree "$tmp"
		return 1
	}

	# A machine of its own: root on the first virtio disk, already
	# mounted read-write by the initramfs (no fsck of a mounted root), a
	# machine id so that the first boot is not a "first boot" asking on
	# the console for a locale and a root password.
	echo "/dev/vda / ext4 rw,errors=remount-ro 0 0" >"$tmp/etc/fstab"
	echo realboot >"$tmp/etc/hostname"
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$tmp/etc/machine-id"
	echo >>"$tmp/etc/machine-id"
	ln -sf /dev/null "$tmp/etc/systemd/system/systemd-firstboot.service"
	rm -f "$tmp"/var/cache/apt/archives/*.deb
	packages "${lists[@]}" >"$tmp/etc/iommufd-realboot.packages"
	log "base built in $((SECONDS - t0)) s"
	mv -T "$tmp" "$out"
}

build_rootfs() {
	local out=$1 base=$2 kver=$3 tmp=$1.tmp stage=$1.stage size
	local mods=/lib/modules/$kver t0=$SECONDS
	remove_tree "$stage"
	rm -f "$tmp"
	# Hard links: the staging tree costs no copy, and nothing below
	# writes into a linked file (depmod writes new files and renames).
	cp -al "$base" "$stage"
	if [ ! -d "$stage/usr/lib/modules/$kver/kernel" ]; then
		# The kernel's own modules, as its package ships them: not
		# what else this machine put under /lib/modules (its DKMS
		# builds of this very module among them).
		mkdir -p "$stage/usr/lib/modules/$kver"
		cp -al "$mods/kernel" "$stage/usr/lib/modules/$kver/" 2>/dev/null ||
			cp -a "$mods/kernel" "$stage/usr/lib/modules/$kver/"
		for f in modules.order modules.builtin modules.builtin.modinfo; do
			[ ! -e "$mods/$f" ] || cp "$mods/$f" "$stage/usr/lib/modules/$kver/"
		done
		depmod -b "$stage" "$kver"
	fi
	size=$(( $(du -sm "$stage" | cut -f1) * 11 / 10 + ${REALBOOT_FREE_MB:-768} ))
	mke2fs -q -F -t ext4 -L realboot-root -E root_owner=0:0 \
		-d "$stage" "$tmp" "${size}M" >&2
	remove_tree "$stage"
	log "rootfs for $kver built in $((SECONDS - t0)) s (${size} MiB)"
	mv -f "$tmp" "$out"
}

cmd=${1:-}
shift || true
case "$cmd" in
base) ;;
rootfs) kver=${1:?usage: image.sh rootfs KVER [PKGLIST...]}; shift ;;
*) sed -n '24,31p' "$0" >&2; exit 2 ;;
esac
lists=("$@")
[ ${#lists[@]} -gt 0 ] || lists=("$here/packages.list")

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9

# Under the lock nobody is building: a temporary layer is a crashed build's.
for stale in "$cache"/*.tmp "$cache"/*.stage; do
	remove_tree "$stale"
done
find "$cache" -maxdepth 1 -name '*.key' -mtime +14 | while read -r k; do
	log "removing ${k%.key}: unused for 14 days"
	remove_tree "${k%.key}"
	rm -f "$k"
done

self=$(sha256sum "$0" | cut -c1-64)
key=$( { echo "suite=$suite arch=$arch script=$self"; packages "${lists[@]}"; } |
	sha256sum | cut -c1-16)
base=$cache/base-$key
{ echo "suite=$suite arch=$arch image.sh=$self"; packages "${lists[@]}"; } \
	>"$base.key"
[ -d "$base" ] || build_base "$base"
if [ "$cmd" = base ]; then
	echo "$base"
	exit 0
fi

if [ ! -d "/lib/modules/$kver/kernel" ]; then
	log "no /lib/modules/$kver on this machine (host-deps.sh installs the kernels)"
	exit 1
fi
kpkg=$(dpkg-query -W -f='${Version}' "linux-image-$kver" 2>/dev/null || echo unpackaged)
key2=$(echo "base=$key kver=$kver version=$kpkg script=$self" | sha256sum | cut -c1-16)
rootfs=$cache/rootfs-$key2.ext4
echo "base=$key kver=$kver linux-image=$kpkg image.sh=$self" >"$rootfs.key"
[ -e "$rootfs" ] || build_rootfs "$rootfs" "$base" "$kver"
echo "$rootfs"
