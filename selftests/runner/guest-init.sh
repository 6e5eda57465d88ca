#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the test guest.  The kernel console (ttyS0) keeps the kernel's
# log; everything the host must parse goes to ttyS1: TAP per suite between
# "# runner:" marker lines.  What to do comes from the kernel command line:
#   runner.mode=check|demo|bench   (default check)
#   runner.suites="a b c"          (default: every program in /tests)
#   runner.early_retry=1           (run-guest.sh's second boot after an
#                                   early report: run anyway)
#   runner.khdr=0                  (leave the NAME-khdr suites out)
#   runner.large_pages=0           (no @mock_large_pages re-runs)
#   runner.skip=a,b                (leave these suites out of the default
#                                   set)
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
early_retry=0
khdr=1
large_pages=1
skip=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	runner.mode=*) mode=${arg#runner.mode=} ;;
	runner.early_retry=1) early_retry=1 ;;
	runner.suites=*) suites=$(echo "${arg#runner.suites=}" | tr , ' ') ;;
	# The -khdr builds and the 2 MiB mock pages test the headers and
	# the mock IOMMU, not this kernel's IOMMU: one boot of a run is enough.
	runner.khdr=0) khdr=0 ;;
	runner.large_pages=0) large_pages=0 ;;
	runner.skip=*) skip=$(echo "${arg#runner.skip=}" | tr , ' ') ;;
	esac
done
if [ -z "$suites" ]; then
	suites=$(cd /tests && ls)
	[ $khdr = 1 ] || suites=$(echo "$suites" | grep -v -- '-khdr$')
	for s in $skip; do
		suites=$(echo "$suites" | grep -vx -- "$s")
	done
fi

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

# What counts as the kernel reporting a problem: the production kernels'
# WARNING/BUG/Oops and traces, and the debug kernel's checkers (KASAN and
# KFENCE say "BUG: K...", lockdep "WARNING:" or "INFO:", debugobjects
# "ODEBUG:", the list checks "... corruption", kmemleak "... suspected").
report_re='WARNING:|BUG:|Oops|Call Trace|general protection|INFO: |KASAN|KFENCE|ODEBUG|corruption|kmemleak: [0-9]+ new suspected'

# The debug kernel (debug-kernel.sh) has kmemleak and lockdep.
debug=0
[ -e /sys/kernel/debug/kmemleak ] && debug=1
# The suites' per-test timeouts (ours and upstream's, see
# selftests/upstream/timeout-scale.h) are made for production kernels;
# under KASAN and lockdep a test runs ten to fifty times slower.
[ $debug = 0 ] || export TEST_TIMEOUT_SCALE=10

# A report from the kernel's own boot, before we loaded anything, is not
# ours: say so and let run-guest.sh boot once more.  On that second boot
# (or if it happens again) the report stays and fails the run below.
if dmesg | grep -qE "$report_re"; then
	if [ $early_retry = 0 ]; then
		echo "# runner: early-report (before any module loaded)" >"$out"
		dmesg | grep -E "$report_re" | head -n 20 |
			sed 's/^/# dmesg: /' >"$out"
		sync
		poweroff -f
	fi
fi

echo "# runner: begin kernel=$(uname -r) mode=$mode debug=$debug" >"$out"
[ $early_retry = 0 ] ||
	echo "# runner: the previous boot had a kernel report before any module loaded" >"$out"

if [ $debug = 1 ]; then
	# Injected faults are expected by whoever injects them: no stack
	# dumps for those (a dump would read as a report).
	for f in failslab fail_page_alloc fail_usercopy; do
		[ -e /sys/kernel/debug/$f/verbose ] &&
			echo 0 >/sys/kernel/debug/$f/verbose
	done
fi

# kmemleak: scan (twice: an object must stay unreferenced over two scans
# and be older than five seconds to be reported), then judge each report.
# One whose allocation backtrace names our modules, or has a frame of
# unloaded module code (no symbol: only our modules unload), is a leak of
# ours and fails the check; the others are listed as the kernel's own.
# Reports are cleared after each look, so each point sees only new ones.
kmemleak_check() {
	[ $debug = 1 ] || return 0
	sleep 6
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak
	cat /sys/kernel/debug/kmemleak >/tmp/kmemleak.log
	echo clear >/sys/kernel/debug/kmemleak
	awk '
		/^unreferenced object/ { n++ }
		{ rec[n] = rec[n] $0 "\n" }
		/\[iommufd/ || /\] 0x[0-9a-f]+$/ { ours[n] = 1 }
		END {
			for (i = 1; i <= n; i++) {
				if (i in ours) {
					mine++
					printf "%s", rec[i] > "/tmp/kmemleak.ours"
				} else {
					other++
					printf "%s", rec[i] > "/tmp/kmemleak.other"
				}
			}
			printf "%d %d\n", mine, other
		}' /tmp/kmemleak.log >/tmp/kmemleak.count
	read -r mine other </tmp/kmemleak.count
	[ "$mine" = 0 ]
	guest_check $? "kmemleak_finds_no_leak_of_module_memory$1"
	if [ "$mine" != 0 ]; then
		head -n 200 /tmp/kmemleak.ours | sed 's/^/# kmemleak: /' >"$out"
	fi
	if [ "$other" != 0 ]; then
		echo "# kmemleak$1: $other leak(s) not of our modules:" >"$out"
		head -n 40 /tmp/kmemleak.other | sed 's/^/# kmemleak: /' >"$out"
	fi
	rm -f /tmp/kmemleak.ours /tmp/kmemleak.other
}

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

# A suite's TAP, and how long it took (make check's time budget is
# spent here: the figures say where).
run_suite() {
	local t0 rc

	echo "# runner: suite $2" >"$out"
	t0=$(cut -d. -f1 /proc/uptime)
	"/tests/$1" >"$out" 2>&1
	rc=$?
	echo "# suite $2 took $(($(cut -d. -f1 /proc/uptime) - t0)) s" >"$out"
	echo "# runner: suite $2 exit=$rc" >"$out"
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
	# VFIO rebuilt with the cdev (vfio-cdev) links against iommufd and
	# holds it.  iommufd_vfio, built against Debian's vfio, must then be
	# refused by the module loader: the CRC of vfio_register_iommu_driver
	# covers struct vfio_device, whose layout the rebuild changes.
	rebuilt_vfio=0
	[ -e /sys/module/iommufd/holders/vfio ] && rebuilt_vfio=1
	kmodctl load iommufd_vfio type1=1 >>/tmp/vfio.log 2>&1
	rc=$?
	if [ $rebuilt_vfio = 1 ]; then
		[ $rc != 0 ] && [ ! -e /sys/module/iommufd_vfio ] &&
			dmesg | grep -q 'iommufd_vfio: disagrees about version of symbol vfio_register_iommu_driver'
		guest_check $? "iommufd_vfio_is_refused_by_the_rebuilt_vfio_modversions"
	else
		guest_check $rc "iommufd_vfio_loads_on_top_of_vfio_and_iommufd"
		[ $rc = 0 ] || sed 's/^/# /' /tmp/vfio.log >"$out"
	fi
	for s in $suites; do
		run_suite "$s" "$s"
	done
	# The mock-domain suites once more with mock domains that map 2 MiB
	# pages and unmap them whole, as VT-d and AMD-Vi do.
	large=/sys/module/iommufd/parameters/mock_large_pages
	if [ $large_pages = 1 ] && [ -w $large ]; then
		echo 1 >$large
		for s in $suites; do
			case "$s" in
			ioas|hwpt|upstream_iommufd)
				run_suite "$s" "$s@mock_large_pages" ;;
			esac
		done
		echo 0 >$large
	fi
	kmemleak_check " (after the suites)"
	# The backend goes first and alone: /dev/iommu must survive it.
	if [ $rebuilt_vfio = 0 ]; then
		kmodctl unload iommufd_vfio >/tmp/vfio.log 2>&1
		guest_check $? "iommufd_vfio_unloads_before_the_core"
		[ -c /dev/iommu ]
		guest_check $? "dev_iommu_survives_the_backend_unloading"
	fi
	# The rebuilt VFIO goes before the core, and must go cleanly.
	if [ $rebuilt_vfio = 1 ]; then
		rc=0
		for m in vfio_pci vfio_pci_core vfio_iommu_type1 vfio; do
			[ ! -e /sys/module/$m ] ||
				kmodctl unload $m >>/tmp/vfio.log 2>&1 || rc=1
		done
		guest_check $rc "rebuilt_vfio_modules_unload_before_the_core"
		[ $rc = 0 ] || sed 's/^/# /' /tmp/vfio.log >"$out"
	fi
	unload_module " (selftest load)"
	kmemleak_check " (after the modules unloaded)"
	;;
esac

# Anything the kernel complained about during the run fails it.
dmesg >/tmp/dmesg.log
grep -E "$report_re" /tmp/dmesg.log >/tmp/dmesg.bad
[ ! -s /tmp/dmesg.bad ]
rc=$?
guest_check $rc "kernel_log_has_no_warning_bug_oops_trace_or_checker_report"
if [ $rc != 0 ]; then
	sed 's/^/# dmesg: /' /tmp/dmesg.bad | head -n 60 >"$out"
	# The first report whole: its stack says whose it is.
	grep -m 1 -n -E "$report_re" /tmp/dmesg.log | cut -d: -f1 >/tmp/first
	tail -n +"$(cat /tmp/first)" /tmp/dmesg.log | head -n 80 |
		sed 's/^/# first report: /' >"$out"
fi

# A lockdep splat switches lockdep off for the rest of the boot (and so
# does any taint it cannot trust): a run that ends with it off checked
# nothing after that point.
if [ $debug = 1 ]; then
	locks=$(awk '/debug_locks:/ { print $2 }' /proc/lockdep_stats 2>/dev/null)
	[ "$locks" = 1 ]
	guest_check $? "lockdep_is_still_on_at_the_end (debug_locks=${locks:-missing})"
fi

finish
