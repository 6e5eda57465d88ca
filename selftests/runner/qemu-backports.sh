#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The newer QEMU that VMM users on Debian 12 get from bookworm-backports
# (10.0 today), unpacked for the test guests, never installed on the host:
# the guests keep booting on the QEMU the host has, and inside them this
# one runs as an unmodified VMM on the native iommufd path
# (-object iommufd), which the bookworm QEMU (7.2) predates.
#
# The archive's address comes from this machine's own apt sources (the
# entry that carries the bookworm suite of the main archive); the package
# lists, the downloads and the unpacked tree live under the cache,
# keyed by the package version, so a machine that has them only checks
# the lists.  Package signatures are checked by apt as for any install.
#
# Prints, for eval:  QEMU_BPO_ROOT=DIR QEMU_BPO_VERSION=VERSION
# where DIR/usr/bin/qemu-system-x86_64 is the binary and DIR/usr/share
# its firmware.  Exits non-zero (saying why) if neither the archive nor
# the cache can provide it.
set -euo pipefail

cache=${IOMMUFD_CACHE:-/var/cache/iommufd-dkms}/qemu-backports
suite=${QEMU_BPO_SUITE:-bookworm-backports}
pkgs="qemu-system-x86 qemu-system-common qemu-system-data seabios"
mkdir -p "$cache/lists/partial" "$cache/archives/partial" "$cache/debs"

log() { echo "qemu-backports: $*" >&2; }

# The URI of the main archive in this machine's apt sources, deb822
# (.sources) or one-line (.list) format.
archive_uri() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		     {
			uri = ""; ok = 0; main = 0
			for (i = 1; i <= NF; i++) {
				if ($i ~ /^URIs:/) { split($i, a, " "); uri = a[2] }
				if ($i ~ /^Suites:/ && $i ~ /[ \t]bookworm([ \t]|$)/) ok = 1
				if ($i ~ /^Components:/ && $i ~ /[ \t]main([ \t]|$)/) main = 1
			}
			if (ok && main && uri != "") { print uri; exit }
		     }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -e "$f" ] || continue
		# deb [options] URI SUITE COMPONENTS...
		sed -E 's/\[[^]]*\]//' "$f" |
		awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }'
	done
}

newest_cached() {
	ls -d "$cache"/root-* 2>/dev/null | while read -r d; do
		[ -f "$d/.complete" ] && echo "$d"
	done | sort -V | tail -1
}

use() {
	echo "QEMU_BPO_ROOT=$1 QEMU_BPO_VERSION=$(cat "$1/.complete")"
	exit 0
}

uri=$(archive_uri | head -1)
if [ -z "$uri" ]; then
	log "no bookworm main archive in this machine's apt sources"
	d=$(newest_cached); [ -z "$d" ] || use "$d"
	exit 1
fi
echo "deb $uri $suite main" >"$cache/sources.list"
apt_opts=(-q -o "Dir::Etc::sourcelist=$cache/sources.list"
	  -o Dir::Etc::sourceparts=/dev/null
	  -o "Dir::State::Lists=$cache/lists"
	  -o "Dir::Cache::archives=$cache/archives"
	  -o APT::Sandbox::User=root)

if ! apt-get "${apt_opts[@]}" update >"$cache/update.log" 2>&1; then
	log "cannot read $suite from $uri (see $cache/update.log)"
	d=$(newest_cached); [ -z "$d" ] || use "$d"
	exit 1
fi
ver=$(apt-cache "${apt_opts[@]}" show qemu-system-x86 2>/dev/null |
      awk '/^Version:/ { print $2; exit }')
if [ -z "$ver" ]; then
	log "$suite at $uri has no qemu-system-x86"
	exit 1
fi
root=$cache/root-$(echo "$ver" | tr ':~+' '_._')
[ ! -f "$root/.complete" ] || use "$root"

log "fetching QEMU $ver from $suite ($uri)"
rm -rf "$root" "$cache/debs" && mkdir -p "$cache/debs" "$root"
# Each package at its candidate in that suite alone: nothing else enters.
(cd "$cache/debs" && apt-get "${apt_opts[@]}" download $pkgs) \
	>"$cache/download.log" 2>&1 || {
	log "download failed (see $cache/download.log)"
	exit 1
}
for deb in "$cache"/debs/*.deb; do
	dpkg-deb -x "$deb" "$root"
done
if ! "$root/usr/bin/qemu-system-x86_64" --version >/dev/null 2>&1 ||
   ! "$root/usr/bin/qemu-system-x86_64" -object help 2>/dev/null |
	grep -qw iommufd; then
	log "the unpacked QEMU $ver does not run here, or has no iommufd object"
	exit 1
fi
echo "$ver" >"$root/.complete"
# Older versions' trees go: the cache keeps one.
for d in "$cache"/root-*; do
	[ "$d" = "$root" ] || rm -rf "$d"
done
use "$root"
