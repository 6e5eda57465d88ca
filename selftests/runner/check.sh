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
# Besides, one boot of the debug kernel (debug-kernel.sh: KASAN, lockdep,
# kmemleak, debugobjects, KFENCE, fault injection; built once and cached
# under /var/cache/iommufd-dkms) under intel-iommu with the suites listed
# below; its build starts in the background at once, at low priority.
# The guests run in two lanes at once, one per host core: the debug boot
# in one, the production boots in the other, and the host checks in
# whichever has room (see the lanes below).
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
# The debug boot runs every suite but the few below, -khdr builds (ABI
# headers, not kernel behaviour) and the 2 MiB mock page variants.
# Upstream's kselftest runs there without the cases its wrapper leaves out
# on the debug kernel for time (selftests/upstream/debug-excluded.txt);
# early in the boot, while the guest's memory is least used (its dirty
# tracking cases map 128 MiB and more).
debug_suites=${DEBUG_SUITES:-dispatcher,selftest_gate,upstream_iommufd,ledger,lifetime_races,change_process,pages_defects,pfn_runs,dirty,hwpt,nesting,fault,viommu,pasid,vfio_compat,vfio_lifetime,vfio_rejoin,dkms_ioctls,iommufdctl,fail_nth_ours,upstream_iommufd_fail_nth,vfio_edu_dma,pages_edu,vmm_qemu,fuzz}
# A second, shorter debug boot in the other lane: the suites that need
# its machine (no interrupt remapping, a Movable zone) and ioas, which
# would make the first one the longest step by far.
debug_noir_suites=msi_isolation,movable_pins,ioas
[ "$debug_suites" != all ] || debug_suites=""
# The longest suites whose every test uses the self-test mock and no real
# device: the emulated IOMMU does not take part in them, so one IOMMU
# per kernel runs them.
mock_suites=ioas,upstream_iommufd,lifetime_races,change_process

mkdir -p "$build" "$logdir"
if [ "$debug_boot" = 1 ]; then
	# Reused from the cache at once when present; otherwise built in the
	# background while the rest of the run goes on.
	# Its exit status lands in debug-kernel.rc, which the debug lane
	# below waits for.
	rm -f "$logdir/debug-kernel.rc"
	{
		rc=0
		nice -n 10 "$here/debug-kernel.sh" >"$logdir/debug-kernel.env" \
			2>"$logdir/debug-kernel.log" || rc=$?
		echo "$rc" >"$logdir/debug-kernel.rc"
	} &
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
# The in-kernel API's test consumer (suite kapi), for the kernels that
# have the API; on the others it costs the probes only.
for kver in $kernels; do
	kapi_ko=$("$top/selftests/kapi/build.sh" "$kver" "$build/kapi-$kver" \
		2>>"$logdir/kapi-build.log") ||
		{ cat "$logdir/kapi-build.log" >&2; echo "kapi test module build for $kver failed" >&2; exit 1; }
	[ -z "$kapi_ko" ] || module[$kver]="${module[$kver]} $kapi_ko"
done
# Debian 6.12's own VFIO rebuilt with the device cdev (vfio-cdev/), for
# the boots of the native iommufd path: built in the background, against
# the iommufd symbols of the kapi module's scratch build (those of the
# DKMS-built iommufd.ko the guests load); the cdev lane waits for it.
k612=$(kernel_612)
cdev_suites=vfio_cdev,vmm_qemu_iommufd,kapi
if [ -n "${SUITES:-}" ]; then
	cdev_suites=$(echo "$cdev_suites" | tr , '\n' |
		grep -Fx -f <(echo "$SUITES" | tr , '\n') | paste -sd, || true)
fi
cdev=0
rm -f "$logdir/vfio-cdev.rc"
if [[ " $kernels " == *" $k612 "* ]] && [ -n "$cdev_suites" ]; then
	cdev=1
	{
		rc=0
		nice -n 10 bash "$top/vfio-cdev/build.sh" -k "$k612" \
			-o "$build/vfio-cdev" \
			-S "$build/kapi-$k612/src/module/Module.symvers" \
			>"$logdir/vfio-cdev-build.log" 2>&1 || rc=$?
		echo "$rc" >"$logdir/vfio-cdev.rc"
	} &
fi

echo "# building the test programs"
# Every suite twice: against our uapi header and against the iommufd.h the
# Debian 6.12 kernel ships, so a client built on upstream's header is seen
# to get the same answers (suites named NAME-khdr).
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

# Every step below leaves a results.log in its own log directory; the
# steps run in two lanes at once (one per host core: a TCG guest of the
# suites keeps about one core busy) and are folded into the TAP in a fixed
# order at the end, whichever lane ran them.  A step listed here that left
# no results.log fails the run, unless it is optional (the debug kernel's,
# when that kernel failed to build: its own step says so).
steps=()
step() {	# RUN DIR [optional]
	steps+=("$1|$2|${3:-}")
}

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
}

guest_failed() {	# LOG: what the console said last
	echo "# guest did not finish; end of its console:"
	tail -n 40 "$1" | sed 's/^/#   /'
}

# The backports QEMU (qemu-backports.sh) that the suites of the native
# iommufd path run as an unmodified VMM inside the guests: fetched (or
# found in the cache) before any initramfs is packed.
# (after the step directories are cleared, below).
step host "$logdir/qemu-backports"

for name in build abi harness iommufdctl dkms deb; do
	step host "$logdir/$name"
done
host_lane() {
	host_suite build "$top/scripts/build-w1.sh" $kernels
	host_suite abi make -s -C "$top/selftests/abi" check
	host_suite harness make -s -C "$top/selftests" harness-check
	host_suite iommufdctl make -s -C "$top/tools/iommufdctl" \
		O="$build/iommufdctl" check
	# DKMS's packaging behaviour.
	mkdir -p "$logdir/dkms"
	"$top/selftests/dkms/refuses-in-tree-iommufd.sh" "$(echo $kernels |
		awk '{ print $NF }')" >"$logdir/dkms/results.log" \
		2>"$logdir/dkms/stderr.log"
	# The Debian packages (make deb); lintian's errors fail it.
	# PKGTEST=1's real boots install them.
	host_suite deb "$top/scripts/build-deb.sh" "$build/deb"
}

for kver in $kernels; do
	for iommu in $iommus; do
		step "$(echo "$kver" | cut -d. -f1,2)/$iommu" "$logdir/$kver-$iommu"
	done
done
noir_kver=$(echo $kernels | awk '{ print $NF }')
noir=0
if [ -z "${SUITES:-}" ] || [[ ",${SUITES}," == *,msi_isolation,* ]] ||
   [[ ",${SUITES}," == *,movable_pins,* ]]; then
	noir=1
	step "$(echo "$noir_kver" | cut -d. -f1,2)/intel-noir" \
		"$logdir/$noir_kver-intel-noir"
fi
if [ "$cdev" = 1 ]; then
	for iommu in intel amd; do
		step "$(echo "$k612" | cut -d. -f1,2)/$iommu-cdev" \
			"$logdir/$k612-$iommu-cdev"
	done
fi
realboot=0
if [ -z "${SUITES:-}" ] || [[ ",${SUITES}," == *,realboot,* ]]; then
	realboot=1
	[ "${PKGTEST:-0}" = 1 ] ||
		for kver in $kernels; do
			step "$(echo "$kver" | cut -d. -f1,2)/realboot" \
				"$logdir/$kver-realboot"
		done
fi

# The production kernels under each IOMMU, then the boots that need
# another machine, then the real boots.
guest_lane() {
	local kver iommu log append initrd
	for kver in $kernels; do
		initrd=$build/initramfs-$kver.cpio
		WITH_QEMU=1 KMODCTL=$build/kmodctl \
			IOMMUFDCTL=$build/iommufdctl/iommufdctl \
			"$here/mkinitramfs.sh" "$kver" "$initrd" "$rootfiles" \
			"${module[$kver]}" vfio-pci i2c-i801
		for iommu in $iommus; do
			log=$logdir/$kver-$iommu
			# What does not depend on the kernel's IOMMU runs in
			# one boot only: the -khdr builds (the ABI headers)
			# on 6.12/intel, the 2 MiB mock pages (the mock IOMMU
			# on this kernel's core) under intel.  The fuzzer's
			# full budget goes to the debug boot; each production
			# boot gets a short run.
			append="fuzz.calls=15000 fuzz.time=60"
			[ "$kver/$iommu" = "$k612/intel" ] ||
				append="$append runner.khdr=0"
			# The suites that never touch a device but the
			# self-test mock's (mock_suites) run under intel only.
			[ "$iommu" = intel ] ||
				append="$append runner.large_pages=0 runner.skip=$mock_suites"
			echo "# booting $kver with the $iommu IOMMU"
			GUEST_APPEND="$append" \
			GUEST_TIMEOUT=${GUEST_TIMEOUT:-1500} \
			"$here/run-guest.sh" "$kver" "$iommu" "$initrd" "$log" \
				check "${SUITES:-}" ||
				guest_failed "$log/console.log"
		done
	done

	# One more boot for what needs another machine: no MSI isolation
	# (VT-d without interrupt remapping), and a Movable zone (1 GiB of
	# the guest's memory), which long-term pins must move their pages
	# out of.
	if [ "$noir" = 1 ]; then
		log=$logdir/$noir_kver-intel-noir
		echo "# booting $noir_kver with the intel IOMMU, no interrupt remapping, movablecore=1G"
		GUEST_APPEND="movablecore=1G" \
		"$here/run-guest.sh" "$noir_kver" intel-noir \
			"$build/initramfs-$noir_kver.cpio" "$log" check \
			msi_isolation,kapi_msi_isolation,movable_pins ||
			guest_failed "$log/console.log"
	fi

	# Real boot (selftests/realboot): Debian 12 with systemd and udev,
	# the modules as DKMS installed them above; /dev/iommu after the
	# boot and after modprobe -r/modprobe.  Its root image is cached in
	# /var/cache/iommufd-dkms.  PKGTEST=1 runs the Debian package's real
	# boots instead (selftests/realboot/pkgtest.sh): the package built
	# above is installed with apt and built by DKMS in the guest booted
	# on the first kernel, the same disk then boots the last kernel, and
	# apt purges it; guest-test.sh's checks run in both boots.  Its guest
	# DKMS builds take long under TCG, hence not yet the default.
	[ "$realboot" = 1 ] || return 0
	if [ "${PKGTEST:-0}" = 1 ]; then
		log=$logdir/realboot-pkg
		echo "# real boots of the Debian package (systemd, udev, dkms)"
		# The host lane builds the package.
		for _ in $(seq 360); do
			[ ! -e "$logdir/deb/results.log" ] || break
			sleep 5
		done
		"$top/selftests/realboot/pkgtest.sh" -d "$build/deb/$deb" "$log" \
			$(echo $kernels | awk '{ print $1, $NF }') ||
			guest_failed "$(ls -d "$log"/[0-9]-* | tail -n 1)/console.log"
	else
		for kver in $kernels; do
			log=$logdir/$kver-realboot
			echo "# real boot of $kver (systemd, udev)"
			"$top/selftests/realboot/run.sh" "$kver" "$log" \
				${module[$kver]} || guest_failed "$log/console.log"
		done
	fi
}
# The package's file name, known before the host lane builds it.
deb=iommufd-dkms_$(sed -n 's/^PACKAGE_VERSION="\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' \
	"$top/dkms.conf")_all.deb

# The debug kernel: its suites under intel-iommu, with the kernel's
# checkers on (guest-init.sh fails the run on their reports, scans for
# leaks of module memory, and checks that lockdep stayed on).
if [ "$debug_boot" = 1 ]; then
	step host "$logdir/debug-kernel"
	step host "$logdir/build-debug" optional
	step 6.12-debug/intel "$logdir/debug-intel" optional
fi
debug_lane() {
	local debug_ok=0 dbuild dko drootfiles log start
	echo "# waiting for the debug kernel (debug-kernel.sh)"
	while [ ! -s "$logdir/debug-kernel.rc" ]; do sleep 5; done
	[ "$(cat "$logdir/debug-kernel.rc")" = 0 ] &&
		. "$logdir/debug-kernel.env" && debug_ok=1
	host_suite debug-kernel sh -c '[ "$1" = 1 ] || { cat "$2"; exit 1; }' \
		sh "$debug_ok" "$logdir/debug-kernel.log"
	[ "$debug_ok" = 1 ] || return 0
	# The module through the same probes, W=1, warning-free; the guest
	# boots the very modules this built.
	dbuild=$build/debug
	rm -rf "$dbuild"
	W1_KEEP=$dbuild host_suite build-debug "$top/scripts/build-w1.sh" \
		"$DEBUG_KDIR"
	[ -e "$dbuild/$DEBUG_KVER/module/iommufd.ko" ] || return 0
	dko="$dbuild/$DEBUG_KVER/module/iommufd.ko $dbuild/$DEBUG_KVER/module/iommufd_vfio.ko"
	# The suites against Debian's own iommufd.h (-khdr) test the ABI,
	# not the kernel: the production boots run them.
	drootfiles=$build/rootfiles-debug
	rm -rf "$drootfiles"
	cp -a "$rootfiles" "$drootfiles"
	rm -f "$drootfiles"/tests/*-khdr
	WITH_QEMU=1 KMODCTL=$build/kmodctl MODROOT=$DEBUG_MODDIR \
		IOMMUFDCTL=$build/iommufdctl/iommufdctl \
		"$here/mkinitramfs.sh" "$DEBUG_KVER" \
		"$build/initramfs-debug.cpio" "$drootfiles" "$dko" vfio-pci
	# The other lane's debug boot may start now.
	echo "$logdir/debug-kernel.env" >"$logdir/debug-initramfs.ready"
	log=$logdir/debug-intel
	echo "# booting the debug kernel $DEBUG_KVER with the intel IOMMU"
	start=$(date +%s)
	# The fuzzer's 10^6 ioctls (issue 9): about 300 s of an idle host's
	# two cores under KASAN and TCG, 500 s of one; the time cap leaves
	# room for a busy host, and the fuzzer fails a run that it cuts short.
	KIMAGE=$DEBUG_KIMAGE GUEST_TIMEOUT=${DEBUG_GUEST_TIMEOUT:-3000} \
		GUEST_APPEND="fuzz.calls=1000000 fuzz.time=900 runner.large_pages=0" \
		"$here/run-guest.sh" "$DEBUG_KVER" intel \
		"$build/initramfs-debug.cpio" "$log" check \
		"${SUITES:-$debug_suites}" || guest_failed "$log/console.log"
	echo "# debug kernel boot: $(($(date +%s) - start)) s"
}

# The second debug boot, once the debug lane has its initramfs: intel
# without interrupt remapping and with a Movable zone, as the production
# kernels' intel-noir boot.
debug_noir=0
if [ "$debug_boot" = 1 ] && [ -n "$debug_suites" ]; then
	debug_noir_run=$debug_noir_suites
	if [ -n "${SUITES:-}" ]; then
		debug_noir_run=$(echo "$debug_noir_suites" | tr , '\n' |
			grep -Fx -f <(echo "$SUITES" | tr , '\n') | paste -sd, || true)
	fi
	if [ -n "$debug_noir_run" ]; then
		debug_noir=1
		step 6.12-debug/intel-noir "$logdir/debug-intel-noir" optional
	fi
fi
rm -f "$logdir/debug-initramfs.ready"
debug_noir_lane() {
	local env log start
	echo "# waiting for the debug lane's initramfs"
	while [ ! -s "$logdir/debug-initramfs.ready" ]; do sleep 5; done
	env=$(cat "$logdir/debug-initramfs.ready")
	[ "$env" != failed ] || return 0
	. "$env"
	log=$logdir/debug-intel-noir
	echo "# booting the debug kernel $DEBUG_KVER with the intel IOMMU, no interrupt remapping, movablecore=1G"
	start=$(date +%s)
	KIMAGE=$DEBUG_KIMAGE GUEST_TIMEOUT=${DEBUG_GUEST_TIMEOUT:-3000} \
		GUEST_APPEND="movablecore=1G runner.large_pages=0" \
		"$here/run-guest.sh" "$DEBUG_KVER" intel-noir \
		"$build/initramfs-debug.cpio" "$log" check "$debug_noir_run" ||
		guest_failed "$log/console.log"
	echo "# debug kernel boot without interrupt remapping: $(($(date +%s) - start)) s"
}

# The VFIO cdev boots: 6.12 under each IOMMU with VFIO rebuilt by
# vfio-cdev/build.sh in place of Debian's (iommufd_vfio beside it must be
# refused by module versioning), running the suites of the native path,
# the backports QEMU's -object iommufd among them.
cdev_lane() {
	local iommu log rc initrd=$build/initramfs-$k612-cdev.cpio
	echo "# waiting for VFIO's rebuild with the cdev (vfio-cdev/build.sh)"
	while [ ! -s "$logdir/vfio-cdev.rc" ]; do sleep 5; done
	rc=$(cat "$logdir/vfio-cdev.rc")
	if [ "$rc" != 0 ]; then
		# Its steps leave no results.log: the run fails.
		echo "# vfio-cdev build failed ($rc): $logdir/vfio-cdev-build.log"
		return 0
	fi
	WITH_QEMU=1 KMODCTL=$build/kmodctl \
		IOMMUFDCTL=$build/iommufdctl/iommufdctl \
		"$here/mkinitramfs.sh" "$k612" "$initrd" "$rootfiles" \
		"${module[$k612]} $(ls "$build"/vfio-cdev/modules/vfio*.ko |
			tr '\n' ' ')" vfio-pci i2c-i801
	for iommu in intel amd; do
		log=$logdir/$k612-$iommu-cdev
		echo "# booting $k612 with the $iommu IOMMU and VFIO rebuilt with the cdev"
		GUEST_APPEND="runner.khdr=0" \
		"$here/run-guest.sh" "$k612" "$iommu" "$initrd" "$log" \
			check "$cdev_suites" || guest_failed "$log/console.log"
	done
}

# Lane 1: the debug kernel (its build, when not cached, has been running
# in the background since the start).  Lane 2: the production guests.
# The host checks go where there is room: before the production guests
# when the debug kernel is cached (its boot is the longest step), else
# into lane 1 while the kernel builds.  Each step's own log directory
# holds its output; the lanes' progress lines go to the terminal as TAP
# comments.
for name in "${steps[@]}"; do
	dir=${name#*|}
	rm -rf "${dir%%|*}"
done
host_suite qemu-backports "$here/qemu-backports.sh"
bpo=$(grep -o 'QEMU_BPO_ROOT=[^ ]*' "$logdir/qemu-backports/out.log" || true)
[ -z "$bpo" ] || export "${bpo?}"
host_first=lane1
if [ "$debug_boot" != 1 ] ||
   [ -e "$("$here/debug-kernel.sh" -n)/complete" ]; then
	host_first=lane2
fi
lane() {	# NAME COMMAND...: a lane's output as TAP comments
	local name=$1
	shift
	"$@" 2>&1 | sed -u "s/^# //; s/^/# [$name] /"
}
lane1_steps() {
	[ $host_first != lane1 ] || host_lane
	[ "$debug_boot" != 1 ] || debug_lane
	# Whatever stopped the debug lane early, the other one stops waiting.
	[ -e "$logdir/debug-initramfs.ready" ] ||
		echo failed >"$logdir/debug-initramfs.ready"
	[ "$cdev" != 1 ] || cdev_lane
}
lane2_steps() {
	[ $host_first != lane2 ] || host_lane
	guest_lane
	[ "$debug_noir" != 1 ] || debug_noir_lane
}
started=$(date +%s)
lane debug lane1_steps &
lane1=$!
lane guests lane2_steps &
lane2=$!
wait "$lane1" || true
wait "$lane2" || true
echo "# both lanes done in $(($(date +%s) - started)) s"

echo "TAP version 13"
for name in "${steps[@]}"; do
	IFS='|' read -r run dir optional <<<"$name"
	if [ ! -s "$dir/results.log" ]; then
		[ -n "$optional" ] && continue
		# The lane stopped before this step wrote anything.
		mkdir -p "$dir"
		printf '# runner: suite %s\n1..1\nnot ok 1 %s did not run\n# runner: end\n' \
			"${dir##*/}" "${dir##*/}" >"$dir/results.log"
	fi
	collect "$run" "$dir"
done

echo "1..$last"
summary="$total_pass passed, $total_fail failed"
[ "$total_skip" = 0 ] || summary="$summary, $total_skip skipped"
echo "$summary"
[ "$total_fail" = 0 ] && [ "$last" -gt 0 ]
