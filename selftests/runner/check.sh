#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: the whole test run.  Installs what it needs, builds the
# module through DKMS for both Debian kernels, builds the test programs,
# then boots each kernel under each emulated IOMMU and runs every suite in
# the guest.  Prints TAP for the whole run and a closing line
# "N passed, N failed" (", N skipped" when any); exits non-zero on any
# failure.
#
# Last, one boot of the debug kernel (debug-kernel.sh: KASAN, lockdep,
# kmemleak, debugobjects, KFENCE, fault injection; built once and cached
# under /var/cache/iommufd-dkms) under intel-iommu with every suite; its
# build starts in the background at once, at low priority, so it fills the
# time the other steps leave idle.
#
# Environment: KERNELS (default: both Debian kernels), IOMMUS (default
# "intel amd"), SUITES (comma-separated suite names, default all),
# DEBUG_BOOT (default 1; 0 skips the debug kernel's build and boot),
# DEBUG_SUITES (the debug boot's suites, default the list below; "all"
# runs every suite, SUITES overrides both),
# LOGDIR (default selftests/build/logs), EXTRA_TESTS (a directory of more
# static TAP-printing test programs to run in the guests).  SUITES=realboot
# selects the real-boot test (selftests/realboot), which runs by default.
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)
build=$top/selftests/build
logdir=${LOGDIR:-$build/logs}

"$here/host-deps.sh"
. "$here/kernels.sh"
kernels=${KERNELS:-"$(kernel_61) $(kernel_612)"}
iommus=${IOMMUS:-"intel amd"}
debug_boot=${DEBUG_BOOT:-1}
# The debug boot runs the suites aimed at races, error paths and fault
# injection, which a KASAN/lockdep kernel judges best.  The whole set
# there has not yet been measured against the time budget.
debug_suites=${DEBUG_SUITES:-dispatcher,selftest_gate,ledger,lifetime_races,change_process,pages_defects,vfio_lifetime,dkms_ioctls,fail_nth_ours,upstream_iommufd_fail_nth,vfio_edu_dma,pages_edu,fuzz}
[ "$debug_suites" != all ] || debug_suites=""

mkdir -p "$build" "$logdir"
if [ "$debug_boot" = 1 ]; then
	# Reused from the cache at once when present; otherwise built in the
	# background while the rest of the run goes on.
	nice -n 10 "$here/debug-kernel.sh" >"$logdir/debug-kernel.env" \
		2>"$logdir/debug-kernel.log" &
	debug_kernel_pid=$!
fi
echo "# building the module through DKMS for: $kernels"
mkdir -p "$logdir"
declare -A module
while read -r ko; do
	for kver in $kernels; do
		case "$ko" in
		/lib/modules/"$kver"/*) module[$kver]="${module[$kver]:-} $ko" ;;
		esac
	done
done < <("$top/scripts/dkms-install.sh" $kernels 2>"$logdir/dkms-install.log" ||
	 { cat "$logdir/dkms-install.log" >&2; echo FAILED; })
for kver in $kernels; do
	[ -n "${module[$kver]:-}" ] || { echo "DKMS build for $kver failed" >&2; exit 1; }
done

echo "# building the test programs"
# Every suite twice: against our uapi header and against the iommufd.h the
# Debian 6.12 kernel ships, so a client built on upstream's header is seen
# to get the same answers (suites named NAME-khdr).
k612=$(kernel_612)
khdr=/usr/src/linux-headers-${k612%-amd64}-common/include/uapi/linux/iommufd.h
rm -rf "$build/suites" "$build/suites-khdr"
make -s -C "$top/selftests" O="$build/suites"
make -s -C "$top/selftests" O="$build/suites-khdr" IOMMUFD_H="$khdr"
gcc -O2 -Wall -Wextra -Werror -o "$build/kmodctl" "$here/kmodctl.c" -lkmod
# The admin tool (tools/iommufdctl), for the guests' iommufdctl suite.
make -s -C "$top/tools/iommufdctl" O="$build/iommufdctl"

rootfiles=$build/rootfiles
rm -rf "$rootfiles"
mkdir -p "$rootfiles/tests"
for t in "$build"/suites/*; do
	install -m 755 "$t" "$rootfiles/tests/"
done
for t in "$build"/suites-khdr/*; do
	install -m 755 "$t" "$rootfiles/tests/$(basename "$t")-khdr"
done
# The fuzzer (selftests/fuzz): built on our uapi only, run as suite "fuzz";
# its budget comes from the kernel command line (fuzz.calls=N).
make -s -C "$top/selftests/fuzz" O="$build/fuzz"
install -m 755 "$build/fuzz/fuzz" "$rootfiles/tests/"
# Upstream's own iommufd kselftest, built from linux-source-6.12 against
# our headers.
"$top/selftests/upstream/build-kselftest.sh" "$rootfiles/tests"
# Suites from elsewhere (static binaries printing TAP), run like ours.
for t in ${EXTRA_TESTS:+$EXTRA_TESTS/*}; do
	install -m 755 "$t" "$rootfiles/tests/"
done

total_pass=0 total_fail=0 total_skip=0 last=0

# Fold one results.log (the guest runner's format) into the run's TAP.
collect() {
	local run=$1 dir=$2 p f s
	awk -v run="$run" -v start="$last" -f "$here/tap-collect.awk" \
		"$dir/results.log" >"$dir/tap"
	grep -v '^# tally' "$dir/tap"
	read -r _ _ p f s last < <(grep '^# tally' "$dir/tap")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
}

echo "TAP version 13"

# Host side: checks that involve no kernel.  A host suite writes the
# guest runner's results format, so one collector reads everything.
host_suite() {
	local name=$1 rc=0
	shift
	mkdir -p "$logdir/$name"
	"$@" >"$logdir/$name/out.log" 2>"$logdir/$name/stderr.log" || rc=$?
	{
		echo "# runner: suite $name"
		if grep -qE '^(not )?ok [0-9]' "$logdir/$name/out.log"; then
			cat "$logdir/$name/out.log"
		else
			# A check that reports only through its exit status.
			sed 's/^/# /' "$logdir/$name/out.log"
			echo "1..1"
			[ $rc = 0 ] && echo "ok 1 $name" || echo "not ok 1 $name"
		fi
		echo "# runner: suite $name exit=$rc"
		echo "# runner: end"
	} >"$logdir/$name/results.log"
	collect host "$logdir/$name"
}
host_suite build "$top/scripts/build-w1.sh" $kernels
host_suite abi make -s -C "$top/selftests/abi" check
host_suite harness make -s -C "$top/selftests" harness-check
host_suite iommufdctl make -s -C "$top/tools/iommufdctl" O="$build/iommufdctl" check

# DKMS's packaging behaviour.
mkdir -p "$logdir/dkms"
"$top/selftests/dkms/refuses-in-tree-iommufd.sh" "$(echo $kernels |
	awk '{ print $NF }')" >"$logdir/dkms/results.log" \
	2>"$logdir/dkms/stderr.log"
collect host "$logdir/dkms"
# The Debian packages (make deb); lintian's errors fail it.  PKGTEST=1's
# real boots below install them.
host_suite deb "$top/scripts/build-deb.sh" "$build/deb"
deb=$(cd "$build/deb" 2>/dev/null && ls iommufd-dkms_*_all.deb 2>/dev/null || echo missing.deb)
for kver in $kernels; do
	initrd=$build/initramfs-$kver.cpio
	WITH_QEMU=1 KMODCTL=$build/kmodctl \
		IOMMUFDCTL=$build/iommufdctl/iommufdctl "$here/mkinitramfs.sh" "$kver" \
		"$initrd" "$rootfiles" "${module[$kver]}" vfio-pci i2c-i801
	for iommu in $iommus; do
		run=$(echo "$kver" | cut -d. -f1,2)/$iommu
		log=$logdir/$kver-$iommu
		# What does not depend on the kernel's IOMMU runs in one boot
		# only: the -khdr builds (the ABI headers) on 6.12/intel, the
		# 2 MiB mock pages (the mock IOMMU on this kernel's core) under
		# intel.  The fuzzer's full budget goes to the debug boot; each
		# production boot gets a short run.
		append="fuzz.calls=15000 fuzz.time=60"
		[ "$kver/$iommu" = "$k612/intel" ] ||
			append="$append runner.khdr=0"
		[ "$iommu" = intel ] || append="$append runner.large_pages=0"
		echo "# booting $kver with the $iommu IOMMU"
		GUEST_APPEND="$append" \
		"$here/run-guest.sh" "$kver" "$iommu" "$initrd" "$log" check \
			"${SUITES:-}" || {
			echo "# guest did not finish; end of its console:"
			tail -n 40 "$log/console.log" | sed 's/^/#   /'
		}
		collect "$run" "$log"
	done
done

# One more boot for what needs another machine: no MSI isolation (VT-d
# without interrupt remapping), and a Movable zone (1 GiB of the guest's
# memory), which long-term pins must move their pages out of.
if [ -z "${SUITES:-}" ] || [[ ",${SUITES}," == *,msi_isolation,* ]] ||
   [[ ",${SUITES}," == *,movable_pins,* ]]; then
	kver=$(echo $kernels | awk '{ print $NF }')
	run=$(echo "$kver" | cut -d. -f1,2)/intel-noir
	log=$logdir/$kver-intel-noir
	echo "# booting $kver with the intel IOMMU, no interrupt remapping, movablecore=1G"
	GUEST_APPEND="movablecore=1G" \
	"$here/run-guest.sh" "$kver" intel-noir "$build/initramfs-$kver.cpio" \
		"$log" check msi_isolation,movable_pins || {
		echo "# guest did not finish; end of its console:"
		tail -n 40 "$log/console.log" | sed 's/^/#   /'
	}
	collect "$run" "$log"
fi

# Real boot (selftests/realboot): Debian 12 with systemd and udev, the
# modules as DKMS installed them above; /dev/iommu after the boot and after
# modprobe -r/modprobe.  Its root image is cached in /var/cache/iommufd-dkms.
# PKGTEST=1 runs the Debian package's real boots instead
# (selftests/realboot/pkgtest.sh): the package built above is installed
# with apt and built by DKMS in the guest booted on the first kernel, the
# same disk then boots the last kernel, and apt purges it; guest-test.sh's
# checks run in both boots.  Its guest DKMS builds take long under TCG,
# hence not yet the default.
if [ -z "${SUITES:-}" ] || [[ ",${SUITES}," == *,realboot,* ]]; then
	if [ "${PKGTEST:-0}" = 1 ]; then
		log=$logdir/realboot-pkg
		echo "# real boots of the Debian package (systemd, udev, dkms)"
		"$top/selftests/realboot/pkgtest.sh" -d "$build/deb/$deb" "$log" \
			$(echo $kernels | awk '{ print $1, $NF }') || {
			echo "# a real boot did not finish; end of its console:"
			tail -n 40 "$(ls -d "$log"/[0-9]-* | tail -n 1)/console.log" |
				sed 's/^/#   /'
		}
		for dir in "$log"/[0-9]-*; do
			boot=${dir##*/}		# N-STAGE-KVER
			boot=${boot#*-}
			run=$(echo "${boot#*-}" | cut -d. -f1,2)/realboot-${boot%%-*}
			collect "$run" "$dir"
		done
	else
		for kver in $kernels; do
			run=$(echo "$kver" | cut -d. -f1,2)/realboot
			log=$logdir/$kver-realboot
			echo "# real boot of $kver (systemd, udev)"
			"$top/selftests/realboot/run.sh" "$kver" "$log" ${module[$kver]} || {
				echo "# real boot did not finish; end of its console:"
				tail -n 40 "$log/console.log" | sed 's/^/#   /'
			}
			collect "$run" "$log"
		done
	fi
fi

# The debug kernel: every suite, under intel-iommu, with the kernel's
# checkers on (guest-init.sh fails the run on their reports, scans for
# leaks of module memory, and checks that lockdep stayed on).
if [ "$debug_boot" = 1 ]; then
	echo "# waiting for the debug kernel (debug-kernel.sh)"
	debug_ok=0
	wait "$debug_kernel_pid" && . "$logdir/debug-kernel.env" && debug_ok=1
	host_suite debug-kernel sh -c '[ "$1" = 1 ] || { cat "$2"; exit 1; }' \
		sh "$debug_ok" "$logdir/debug-kernel.log"
fi
if [ "$debug_boot" = 1 ] && [ "$debug_ok" = 1 ]; then
	# The module through the same probes, W=1, warning-free; the guest
	# boots the very modules this built.
	dbuild=$build/debug
	rm -rf "$dbuild"
	W1_KEEP=$dbuild host_suite build-debug "$top/scripts/build-w1.sh" \
		"$DEBUG_KDIR"
	dko="$dbuild/$DEBUG_KVER/module/iommufd.ko $dbuild/$DEBUG_KVER/module/iommufd_vfio.ko"
	if [ -e "$dbuild/$DEBUG_KVER/module/iommufd.ko" ]; then
		# The suites against Debian's own iommufd.h (-khdr) test the
		# ABI, not the kernel: the production boots run them.
		drootfiles=$build/rootfiles-debug
		rm -rf "$drootfiles"
		cp -a "$rootfiles" "$drootfiles"
		rm -f "$drootfiles"/tests/*-khdr
		WITH_QEMU=1 KMODCTL=$build/kmodctl MODROOT=$DEBUG_MODDIR \
			IOMMUFDCTL=$build/iommufdctl/iommufdctl \
			"$here/mkinitramfs.sh" "$DEBUG_KVER" \
			"$build/initramfs-debug.cpio" "$drootfiles" "$dko" vfio-pci
		log=$logdir/debug-intel
		echo "# booting the debug kernel $DEBUG_KVER with the intel IOMMU"
		start=$(date +%s)
		# fuzz.calls/fuzz.time: what fits this boot under KASAN and TCG
		# (make fuzz runs the long ones).
		KIMAGE=$DEBUG_KIMAGE GUEST_TIMEOUT=${DEBUG_GUEST_TIMEOUT:-1800} \
			GUEST_APPEND="fuzz.calls=40000 fuzz.time=480" \
			"$here/run-guest.sh" "$DEBUG_KVER" intel \
			"$build/initramfs-debug.cpio" "$log" check \
			"${SUITES:-$debug_suites}" || {
			echo "# guest did not finish; end of its console:"
			tail -n 40 "$log/console.log" | sed 's/^/#   /'
		}
		echo "# debug kernel boot: $(($(date +%s) - start)) s"
		collect 6.12-debug/intel "$log"
	fi
fi

echo "1..$last"
summary="$total_pass passed, $total_fail failed"
[ "$total_skip" = 0 ] || summary="$summary, $total_skip skipped"
echo "$summary"
[ "$total_fail" = 0 ] && [ "$last" -gt 0 ]
