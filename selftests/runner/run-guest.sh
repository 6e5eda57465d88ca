#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one Debian kernel in QEMU (q35, TCG, 2 vCPUs) with an emulated IOMMU
# and two edu DMA devices (two IOMMU groups: a VMM with two devices), and
# collect what the guest reports.
#
# Usage: run-guest.sh KVER IOMMU INITRD LOGDIR [MODE [SUITES]]
#   IOMMU   intel | amd | intel-noir (VT-d without interrupt remapping)
#   LOGDIR  gets console.log (the kernel's serial console) and results.log
#           (the guest runner's TAP stream, ttyS1)
# Environment: GUEST_MEM (default 4G), GUEST_TIMEOUT seconds (default 900),
#   KIMAGE (the kernel image, default /boot/vmlinuz-KVER), GUEST_CPU (QEMU
#   -cpu model, default max), GUEST_APPEND (more kernel command-line
#   arguments, e.g. fuzz.calls=N for the fuzzer's budget).
# Exit status: 0 when the guest reached its end marker, 1 otherwise.
set -euo pipefail

kver=$1 iommu=$2 initrd=$3 logdir=$4
mode=${5:-check}
suites=${6:-}
mem=${GUEST_MEM:-4G}
limit=${GUEST_TIMEOUT:-900}
kimage=${KIMAGE:-/boot/vmlinuz-$kver}
cpu=${GUEST_CPU:-max}

case "$iommu" in
intel) iommu_dev="intel-iommu,intremap=on" iommu_arg="intel_iommu=on" ;;
# VT-d without interrupt remapping: MSIs are not isolated.
intel-noir) iommu_dev="intel-iommu,intremap=off" iommu_arg="intel_iommu=on" ;;
amd) iommu_dev="amd-iommu,intremap=on" iommu_arg="" ;;
*) echo "run-guest: unknown IOMMU $iommu" >&2; exit 2 ;;
esac

mkdir -p "$logdir"

# no_timer_check: on a loaded host a TCG guest can miss the few timer ticks
# the kernel waits for while setting up the IO-APIC and panic with "timer
# doesn't work through Interrupt-remapped IO-APIC"; QEMU's timer works.
cmdline="console=ttyS0 panic=-1 oops=panic $iommu_arg iommu.strict=1"
cmdline="$cmdline no_timer_check"
cmdline="$cmdline runner.mode=$mode"
[ -z "$suites" ] || cmdline="$cmdline runner.suites=$suites"
# The debug kernel (debug-kernel.sh) boots with 4-level paging: with LA57
# (QEMU's -cpu max offers it) its KASAN checks an interrupt that lands in
# identify_cpu() of the boot CPU against a 4-level shadow layout, because
# identify_cpu() clears boot_cpu_data's feature words (LA57 among them)
# while it re-reads CPUID, and pgtable_l5_enabled() reads them until the
# alternatives are patched: "BUG: KASAN: wild-memory-access in
# do_raw_spin_lock" on an irq_desc in the 5-level direct map, before
# anything of ours is loaded.
case "$kver" in
*-iommufd-debug) cmdline="$cmdline no5lvl" ;;
esac
[ -z "${GUEST_APPEND:-}" ] || cmdline="$cmdline $GUEST_APPEND"

boot() {
	: >"$logdir/console.log"
	: >"$logdir/results.log"
	# panic=-1 with -no-reboot: a guest that crashes ends QEMU at once
	# instead of sitting out the timeout.
	timeout --foreground -k 10 "$limit" \
		qemu-system-x86_64 \
		-M q35,kernel-irqchip=split -accel tcg,thread=multi \
		-cpu "$cpu" -smp 2 -m "$mem" \
		-device "$iommu_dev" -device edu -device edu \
		-kernel "$kimage" -initrd "$initrd" -append "$cmdline" \
		-display none -no-reboot -monitor none \
		-serial "file:$logdir/console.log" \
		-serial "file:$logdir/results.log" \
		</dev/null 2>"$logdir/qemu.log" || true
}

boot
# The guest stops before loading anything when the kernel has reported a
# problem during its own boot (guest-init.sh): that report cannot be ours.
# Keep that boot's logs and boot again, up to four boots in all: the debug
# kernel's early KASAN report under TCG (do_raw_spin_lock from an interrupt
# in identify_cpu) came twice in a row in one boot of three.  The last boot
# runs whatever it reports, and a report there fails the run.
# A kernel that panics before the guest's runner even starts (Debian
# 6.12's "Oops: int3" in sched_clock_cpu from the timer interrupt of an
# idle CPU, under TCG, at 4 s: once in some fifteen boots) has loaded
# nothing of ours either: the same rule.
early_failure() {
	grep -q '^# runner: early-report' "$logdir/results.log" && return 0
	! grep -q '^# runner: begin' "$logdir/results.log" &&
		grep -q 'Kernel panic' "$logdir/console.log"
}
boots=1
while early_failure && [ $boots -lt 4 ]; do
	for f in console.log results.log qemu.log; do
		mv "$logdir/$f" "$logdir/early-report-$boots.$f"
	done
	echo "# run-guest: the kernel reported a problem before any module" \
		"loaded (not ours; logs in $logdir/early-report-$boots.*): booting again" >&2
	sed -n 's/^# dmesg: /#   /p' "$logdir/early-report-$boots.results.log" |
		head -n 5 >&2
	boots=$((boots + 1))
	[ $boots -lt 4 ] || cmdline="$cmdline runner.early_retry=1"
	boot
done

grep -q '^# runner: end' "$logdir/results.log"
