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

# Huge pages for the suites that map hugetlbfs memory.
echo 64 >/proc/sys/vm/nr_hugepages

# Load the module as `modprobe iommufd PARAMS` would, check /dev/iommu.
load_module() {
	kmodctl load iommufd "$@" >/tmp/load.log 2>&1
	rc=$?
	guest_check $rc "iommufd_module_loads_through_libkmod${1:+ ($*)}"
	if [ $rc != 0 ]; then
		sed 's/^/# /' /tmp/load.log >"$out"
		finish
	fi
	[ -c /dev/iommu ]
	guest_check $? "dev_iommu_appears_after_load${1:+ ($*)}"
}

# Every suite must leave the module unused, and it must unload.
unload_module() {
	refs=$(kmodctl refcnt iommufd 2>/dev/null)
	[ "$refs" = 0 ]
	guest_check $? "iommufd_refcount_is_zero_after_tests$1"
	kmodctl unload iommufd >/tmp/unload.log 2>&1
	rc=$?
	guest_check $rc "iommufd_module_unloads$1"
	[ $rc = 0 ] || sed 's/^/# /' /tmp/unload.log >"$out"
}

run_suite() {
	echo "# runner: suite $2" >"$out"
	"/tests/$1" >"$out" 2>&1
	echo "# runner: suite $2 exit=$?" >"$out"
}

case "$mode" in
demo)
	load_module
	kmodctl load vfio_pci >/dev/null 2>&1
	kmodctl load iommufd_vfio >/dev/null 2>&1
	guest_check $? "iommufd_vfio_loads"
	echo "# runner: suite demo" >"$out"
	/demo/run-demo >"$out" 2>&1
	guest_check $? "demo_runs"
	dmesg | grep -E 'DMAR: \[DMA Write|IO_PAGE_FAULT' | tail -n 2 |
		sed 's/^/demo:   kernel log: /' >"$out"
	kmodctl unload iommufd_vfio >/dev/null 2>&1
	unload_module
	;;
bench)
	load_module selftest=1
	kmodctl load vfio_pci >/dev/null 2>&1
	kmodctl load iommufd_vfio >/dev/null 2>&1
	guest_check $? "iommufd_vfio_loads"
	echo "# runner: bench" >"$out"
	/bench/run >"$out" 2>&1
	guest_check $? "bench_completes"
	kmodctl unload iommufd_vfio >/dev/null 2>&1
	unload_module
	;;
*)
	# First as a production system loads it (self-test mode must be
	# invisible, and the kernel untainted, so this goes first), then in
	# self-test mode for everything.
	load_module
	for s in $suites; do
		case "$s" in
		dispatcher*|selftest_gate*) run_suite "$s" "$s@default" ;;
		esac
	done
	unload_module " (default load)"
	load_module selftest=1
	# The VFIO side: vfio-pci for the edu device, and our backend with
	# the type1 compatibility on (it registers after the kernel's type1,
	# so VFIO asks it first).
	kmodctl load vfio_pci >/tmp/vfio.log 2>&1
	guest_check $? "vfio_pci_loads"
	kmodctl load iommufd_vfio type1=1 >>/tmp/vfio.log 2>&1
	rc=$?
	guest_check $rc "iommufd_vfio_loads_on_top_of_vfio_and_iommufd"
	[ $rc = 0 ] || sed 's/^/# /' /tmp/vfio.log >"$out"
	for s in $suites; do
		run_suite "$s" "$s"
	done
	# The mock-domain suites once more with mock domains that map 2 MiB
	# pages and unmap them whole, as VT-d and AMD-Vi do.
	large=/sys/module/iommufd/parameters/mock_large_pages
	if [ -w $large ]; then
		echo 1 >$large
		for s in $suites; do
			case "$s" in
			ioas|hwpt|upstream_iommufd)
				run_suite "$s" "$s@mock_large_pages" ;;
			esac
		done
		echo 0 >$large
	fi
	# The backend goes first and alone: /dev/iommu must survive it.
	kmodctl unload iommufd_vfio >/tmp/vfio.log 2>&1
	guest_check $? "iommufd_vfio_unloads_before_the_core"
	[ -c /dev/iommu ]
	guest_check $? "dev_iommu_survives_the_backend_unloading"
	unload_module " (selftest load)"
	;;
esac

# Anything the kernel complained about during the run fails it.
dmesg >/tmp/dmesg.log
grep -E 'WARNING:|BUG:|Oops|Call Trace|kmemleak|general protection' \
	/tmp/dmesg.log >/tmp/dmesg.bad
[ ! -s /tmp/dmesg.bad ]
rc=$?
guest_check $rc "kernel_log_has_no_warning_bug_oops_or_trace"
[ $rc = 0 ] || sed 's/^/# dmesg: /' /tmp/dmesg.bad >"$out"

finish
