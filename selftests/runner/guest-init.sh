#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test guest.  The kernel console (ttyS0) keeps the kernel's
# log; everything the host must parse goes to ttyS1: TAP per suite between
# "# runner:" marker lines.  What to do comes from the kernel command line:
#   runner.mode=check|demo|bench   (default check)
#   runner.suites="a b c"          (default: every program in /tests)
# Checks of the guest itself (module load, unload, clean kernel log) are
# reported as the TAP suite "guest".

PATH=/bin:/sbin
export PATH

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mkdir -p /dev/shm /dev/hugepages
mount -t tmpfs shm /dev/shm
mount -t hugetlbfs hugetlbfs /dev/hugepages 2>/dev/null

out=/dev/ttyS1
mode=check
suites=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	runner.mode=*) mode=${arg#runner.mode=} ;;
	runner.suites=*) suites=$(echo "${arg#runner.suites=}" | tr , ' ') ;;
	esac
done
[ -n "$suites" ] || suites=$(cd /tests && ls)

# The guest's own checks, numbered as one TAP suite at the end.
guest_n=0
guest_tap=""
guest_check() {
	guest_n=$((guest_n + 1))
	if [ "$1" = 0 ]; then
		guest_tap="${guest_tap}ok $guest_n $2
"
	else
		guest_tap="${guest_tap}not ok $guest_n $2
"
	fi
}

finish() {
	echo "# runner: suite guest" >"$out"
	echo "TAP version 13" >"$out"
	echo "1..$guest_n" >"$out"
	printf '%s' "$guest_tap" >"$out"
	echo "# runner: end" >"$out"
	sync
	poweroff -f
}

echo "# runner: begin kernel=$(uname -r) mode=$mode" >"$out"

kmodctl load iommufd >/tmp/load.log 2>&1
rc=$?
guest_check $rc "iommufd_module_loads_through_libkmod"
if [ $rc != 0 ]; then
	sed 's/^/# /' /tmp/load.log >"$out"
	finish
fi
[ -c /dev/iommu ]
guest_check $? "dev_iommu_appears_after_load"

case "$mode" in
demo)
	echo "# runner: suite demo" >"$out"
	/demo/run-demo >"$out" 2>&1
	guest_check $? "demo_runs"
	;;
bench)
	for b in /bench/*; do
		echo "# runner: bench $(basename "$b")" >"$out"
		"$b" >"$out" 2>&1
		guest_check $? "bench_$(basename "$b")_completes"
	done
	;;
*)
	for s in $suites; do
		echo "# runner: suite $s" >"$out"
		"/tests/$s" >"$out" 2>&1
		echo "# runner: suite $s exit=$?" >"$out"
	done
	;;
esac

refs=$(kmodctl refcnt iommufd 2>/dev/null)
[ "$refs" = 0 ]
guest_check $? "iommufd_refcount_is_zero_after_tests"
kmodctl unload iommufd >/tmp/unload.log 2>&1
rc=$?
guest_check $rc "iommufd_module_unloads"
[ $rc = 0 ] || sed 's/^/# /' /tmp/unload.log >"$out"

# Anything the kernel complained about during the run fails it.
dmesg >/tmp/dmesg.log
grep -E 'WARNING:|BUG:|Oops|Call Trace|kmemleak|general protection' \
	/tmp/dmesg.log >/tmp/dmesg.bad
[ ! -s /tmp/dmesg.bad ]
rc=$?
guest_check $rc "kernel_log_has_no_warning_bug_oops_or_trace"
[ $rc = 0 ] || sed 's/^/# dmesg: /' /tmp/dmesg.bad >"$out"

finish
