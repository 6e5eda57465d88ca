#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Rebuild the kernel's own VFIO modules from Debian's linux-source-6.12
# with the VFIO device cdev (/dev/vfio/devices/vfioN) on top of our
# iommufd.ko.  The kernel's source is unpacked from the package at build
# time; the only things of ours are config.overlay and this script.
#
# Every module that links against vfio.ko embeds struct vfio_device, whose
# layout CONFIG_IOMMUFD and CONFIG_VFIO_DEVICE_CDEV change: one left as
# Debian built it would corrupt memory.  So the set of modules to rebuild
# is computed from the kernel's modules.dep (everything that depends on
# vfio.ko, directly or not), and the build refuses when it cannot produce
# each of them, or when that set is not the one dkms.conf installs.
#
# Usage: build.sh [-k KVER] [-K KDIR] [-o OUT] [-S SYMVERS] [-I SRC] [-n] [-W]
#   -k  target kernel release (default: the running kernel)
#   -K  its build tree (default /lib/modules/KVER/build)
#   -o  output directory (default: ./out): modules/*.ko, build.log,
#       modules.list (the computed set), src/ (the unpacked source)
#   -S  Module.symvers of the iommufd.ko the modules will run on
#       (default: build it from -I)
#   -I  iommufd's source tree, to build that Module.symvers (default:
#       the repository around this script, else /usr/src/iommufd-VERSION)
#   -n  only check (kernel, versions, module set), build nothing
#   -W  let modpost only warn about undefined symbols (to list what
#       iommufd.ko does not export yet); the result must not be installed
# Environment: MODDIR (default /lib/modules/KVER: modules.dep and
# modules.order), LINUX_SOURCE (default /usr/src/linux-source-6.12.tar.xz).
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
kver=$(uname -r) kdir="" out=$PWD/out symvers="" isrc="" check_only=0
modpost_warn=0
while getopts k:K:o:S:I:nW opt; do
	case $opt in
	k) kver=$OPTARG ;;
	K) kdir=$OPTARG ;;
	o) out=$(mkdir -p "$OPTARG" && cd "$OPTARG" && pwd) ;;
	S) symvers=$(readlink -f "$OPTARG") ;;
	I) isrc=$(readlink -f "$OPTARG") ;;
	n) check_only=1 ;;
	W) modpost_warn=1 ;;
	*) sed -n '16,30p' "$0" >&2; exit 2 ;;
	esac
done
kdir=${kdir:-/lib/modules/$kver/build}
moddir=${MODDIR:-/lib/modules/$kver}
tarball=${LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
srcpkg=linux-source-6.12

refuse() {
	echo "vfio-cdev: $kver: $*" >&2
	exit 1
}

# --- The kernel: a Debian 6.12 whose VFIO is modular and has no iommufd.
case "$kver" in
6.12.*) ;;
6.1.*)
	refuse "Debian's 6.1 has no VFIO device cdev code to build." \
		"On 6.1, devices are bound through iommufd_vfio" \
		"(IOMMUFD_DKMS_VFIO_LINK, see iommufd-dkms(7))." ;;
*) refuse "only Debian's 6.12 kernels are supported (linux-source-6.12)." ;;
esac
config=$kdir/.config
[ -r "$config" ] || refuse "no kernel configuration at $config (install linux-headers-$kver)."
kconf() {
	sed -n "s/^$1=//p" "$config"
}
[ -z "$(kconf CONFIG_IOMMUFD)" ] ||
	refuse "the kernel has its own iommufd (CONFIG_IOMMUFD=$(kconf CONFIG_IOMMUFD)): its VFIO has the cdev already."
[ "$(kconf CONFIG_VFIO)" = m ] ||
	refuse "VFIO is not a module here (CONFIG_VFIO=$(kconf CONFIG_VFIO)): it cannot be replaced."
for opt in CONFIG_VFIO_GROUP CONFIG_VFIO_CONTAINER; do
	[ "$(kconf $opt)" = y ] || refuse "$opt is not y: not the configuration this package was made for."
done

# --- The source must be exactly the kernel's: same Debian version as the
# image (and the headers it is built against).
pkgver() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null |
		awk '$1 ~ /^.i/ { print $2 }'
}
srcver=$(pkgver $srcpkg)
[ -n "$srcver" ] || refuse "the package $srcpkg is not installed (apt install $srcpkg)."
[ -r "$tarball" ] || refuse "$tarball is missing (reinstall $srcpkg)."
imgver=$(pkgver "linux-image-$kver")
[ -n "$imgver" ] || imgver=$(pkgver "linux-image-$kver-unsigned")
[ -n "$imgver" ] || refuse "no installed linux-image-$kver package: cannot tell which source it was built from."
[ "$imgver" = "$srcver" ] ||
	refuse "$srcpkg is $srcver but linux-image-$kver is $imgver:" \
		"the rebuilt VFIO would not be the running kernel's." \
		"Install $srcpkg $imgver (or the kernel of $srcver)."
hdrver=$(pkgver "linux-headers-$kver")
[ -z "$hdrver" ] || [ "$hdrver" = "$srcver" ] ||
	refuse "linux-headers-$kver is $hdrver, $srcpkg is $srcver."
if [ "$kver" = "$(uname -r)" ]; then
	# The image package may have been upgraded in place since boot.
	case "$(uname -v)" in
	*" $srcver "*) ;;
	*) refuse "the running kernel ($(uname -v)) is not $srcver: reboot into it first." ;;
	esac
fi

# --- The set: vfio.ko and everything depending on it, from modules.dep.
# Names are file names without .ko and compression suffix (vfio-pci-core).
# modules.order gives each in-tree module's source directory, also when
# an earlier install of this package put a copy in updates/.
[ -r "$moddir/modules.dep" ] || refuse "no $moddir/modules.dep (run depmod $kver)."
modset=$(awk '
	function name(p) {
		sub(/.*\//, "", p)
		sub(/\.ko(\.[a-z]+)?:?$/, "", p)
		return p
	}
	{
		m = name($1)
		path[m] = $1
		sub(/:$/, "", path[m])
		for (i = 2; i <= NF; i++)
			deps[m] = deps[m] " " name($i) " "
	}
	END {
		want["vfio"] = 1
		do {
			grew = 0
			for (m in deps)
				if (!(m in want))
					for (w in want)
						if (index(deps[m], " " w " ")) {
							want[m] = 1
							grew = 1
							break
						}
		} while (grew)
		for (m in want)
			print m, path[m]
	}' "$moddir/modules.dep" | sort)
mkdir -p "$out"
: >"$out/modules.list.tmp"
srcdirs=""
while read -r m path; do
	intree=$(grep -E "^kernel/(.*/)?$m\.ko" "$moddir/modules.order" | head -n 1 || true)
	if [ -z "$intree" ]; then
		case "$m" in
		# Ours, and left as it is: it never touches struct
		# vfio_device, but the CRC of vfio_register_iommu_driver
		# covers that struct, so the module loader refuses it on
		# the rebuilt vfio (modversions) and it loads again once
		# this package is removed.  Its users get the same from
		# the cdev and upstream's group-in-iommufd compatibility.
		iommufd_vfio) continue ;;
		esac
		refuse "$m ($path) uses vfio.ko but is not one of the kernel's" \
			"own modules: it would be left with Debian's struct vfio_device" \
			"layout. Remove it first."
	fi
	dir=$(dirname "${intree#kernel/}")
	echo "$m $dir" >>"$out/modules.list.tmp"
done <<<"$modset"
sort -o "$out/modules.list" "$out/modules.list.tmp"
rm -f "$out/modules.list.tmp"

# dkms.conf installs a fixed list; the computed set must be exactly it,
# or a module would be left behind (or dkms would look for one that is
# not built).
listed=$(sed -n 's/^BUILT_MODULE_NAME\[[0-9]*\]="\(.*\)"/\1/p' "$here/dkms.conf" | sort)
computed=$(cut -d' ' -f1 "$out/modules.list")
if [ "$listed" != "$computed" ]; then
	refuse "the modules that use vfio.ko here ($(echo $computed))" \
		"are not the ones this package installs ($(echo $listed))."
fi
echo "vfio-cdev: $kver, $srcpkg $srcver; modules to rebuild: $(echo $computed)"
[ $check_only = 0 ] || exit 0

# --- iommufd's exports, for modpost (and the CRCs the modules record).
if [ -z "$symvers" ]; then
	if [ -z "$isrc" ]; then
		if [ -f "$here/../module/Kbuild" ]; then
			isrc=$(cd "$here/.." && pwd)
		else
			# The DKMS source of iommufd-dkms (BUILD_DEPENDS):
			# the newest, if several versions are staged.
			isrc=$(ls -d /usr/src/iommufd-*/ 2>/dev/null | sort -V | tail -n 1)
			isrc=${isrc%/}
		fi
	fi
	[ -f "$isrc/module/Kbuild" ] || refuse "no iommufd source at $isrc (install iommufd-dkms)."
	rm -rf "$out/iommufd"
	# The repository's own tree, or the DKMS source package.
	if [ -f "$isrc/Makefile" ] && grep -q '^dist-src:' "$isrc/Makefile"; then
		make -s -C "$isrc" dist-src DESTDIR="$out/iommufd"
	else
		cp -a "$isrc/." "$out/iommufd/"
	fi
	echo "vfio-cdev: building iommufd from $isrc for its Module.symvers"
	make -C "$out/iommufd/module" KVER="$kver" KDIR="$kdir" \
		>"$out/iommufd-build.log" 2>&1 ||
		refuse "building iommufd failed: $out/iommufd-build.log"
	symvers=$out/iommufd/module/Module.symvers
fi
[ -r "$symvers" ] || refuse "no Module.symvers at $symvers."

# --- Unpack only the directories the set lives in.
src=$out/src
rm -rf "$src" "$out/modules"
mkdir -p "$src" "$out/modules"
units=""
while read -r m dir; do
	# drivers/vfio is built as one tree (vfio, type1, pci/, ...);
	# anything else one directory at a time, only its own modules.
	case "$dir" in
	drivers/vfio|drivers/vfio/*) unit=drivers/vfio ;;
	*) unit=$dir ;;
	esac
	case " $units " in *" $unit "*) ;; *) units="$units $unit" ;; esac
done <"$out/modules.list"
# vfio.ko's own exports change too (vfio_iommufd_*): its tree comes first
# and its Module.symvers feeds the others.
units="drivers/vfio $(echo "$units" | tr ' ' '\n' | grep -vx drivers/vfio || true)"
top=linux-source-6.12
t0=$(date +%s)
tar -C "$src" -xJf "$tarball" $(for u in $units; do echo "$top/$u"; done)
src=$src/$top

# The configuration overlay, as make variables and as a header.
makevars="" header=$out/config-overlay.h
{
	echo "/* Generated by vfio-cdev/build.sh from config.overlay. */"
	while IFS== read -r name val; do
		case "$name" in ''|'#'*) continue ;; esac
		makevars="$makevars $name=$val"
		case "$val" in
		y) echo "#define $name 1" ;;
		m) echo "#define ${name}_MODULE 1" ;;
		*) refuse "config.overlay: $name=$val: only y and m are supported." ;;
		esac
	done <"$here/config.overlay"
} >"$header"

# Trace headers name themselves relative to a directory two below the
# source root (arch/x86/include in a full tree): give them one.
mkdir -p "$src/.trace/include"
kcflags="-include $header -I$src/.trace/include"

log=$out/build.log
: >"$log"
warnvar=""
[ $modpost_warn = 0 ] || warnvar=KBUILD_MODPOST_WARN=1
extra=$symvers
for unit in $units; do
	# Outside drivers/vfio only the wanted modules, as single targets
	# (drivers/gpu/drm/i915 would otherwise build all of i915 too).
	targets=modules
	if [ "$unit" != drivers/vfio ]; then
		targets=$(awk -v d="$unit" '$2 == d { printf "%s.ko ", $1 }' "$out/modules.list")
	fi
	echo "vfio-cdev: building $unit ($targets)" >>"$log"
	echo "vfio-cdev: building $unit ($targets)"
	# shellcheck disable=SC2086
	make -C "$kdir" M="$src/$unit" $makevars \
		KCFLAGS="$kcflags" KBUILD_EXTRA_SYMBOLS="$extra" \
		$warnvar \
		-j"$(nproc)" $targets >>"$log" 2>&1 || {
		tail -n 30 "$log" >&2
		refuse "building $unit failed (log: $log)."
	}
	[ "$unit" != drivers/vfio ] || extra="$extra $src/drivers/vfio/Module.symvers"
done

while read -r m dir; do
	ko=$(find "$src/$dir" -maxdepth 1 -name "$m.ko" | head -n 1)
	[ -n "$ko" ] || refuse "$m.ko was not built from $dir: it would be left behind (log: $log)."
	cp "$ko" "$out/modules/"
done <"$out/modules.list"

undefined=$(grep -E 'WARNING: modpost: .*undefined!' "$log" || true)
if [ -n "$undefined" ]; then
	echo "vfio-cdev: symbols iommufd.ko does not export yet:" >&2
	echo "$undefined" | sed 's/^/  /' >&2
fi
echo "vfio-cdev: built in $(($(date +%s) - t0)) s: $(cd "$out/modules" && echo *.ko) (log: $log)"
