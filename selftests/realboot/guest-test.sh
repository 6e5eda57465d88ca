#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The real-boot test, run by systemd (iommufd-realboot.service) once the
# guest has reached multi-user.target.  Nothing has touched the module
# since boot: whatever loaded it (or did not), and whatever created
# /dev/iommu, is the booted system's doing.  Reports on ttyS1 in the
# runner's format (suites between "# runner:" markers), then powers off.

out=/dev/ttyS1
bin=/usr/local/lib/iommufd-realboot
kver=$(uname -r)
tmp=$(mktemp -d)

# One suite: "begin NAME", then "check STATUS DESCRIPTION"..., then "end".
begin() {
	suite=$1 n=0
	: >"$tmp/tap"
}
check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2" >>"$tmp/tap"
	else
		echo "not ok $n $2" >>"$tmp/tap"
		failed=1
	fi
}
note() {
	sed 's/^/# /' >>"$tmp/tap"
}
end() {
	{
		echo "# runner: suite $suite"
		echo "TAP version 13"
		echo "1..$n"
		cat "$tmp/tap"
		echo "# runner: suite $suite exit=0"
	} >"$out"
}
# A TAP program as its own suite.
run_suite() {
	name=$1
	shift
	{
		echo "# runner: suite $name"
		"$@" 2>&1
		echo "# runner: suite $name exit=$?"
	} >"$out"
}

stage=$(sed -n 's/.*iommufd_pkgtest=\([a-z]*\).*/\1/p' /proc/cmdline)
[ -z "$stage" ] || . "$bin/pkgtest-guest.sh"

echo "# runner: begin kernel=$kver mode=realboot${stage:+ pkgtest=$stage}" >"$out"
# The boot's device events (coldplug, the module's misc device) all
# handled: what udev would do to /dev/iommu is done.
udevadm settle
[ -z "$stage" ] || pkgtest_before "$stage"
loaded_by=at_boot
[ "$stage" != install ] || loaded_by=by_systemd_modules_load_after_install

begin realboot_system
systemctl is-active --quiet multi-user.target
check $? "systemd_reached_multi_user_target"
failed_units=$(systemctl list-units --state=failed --plain --no-legend |
	awk '{ print $1 }')
echo "failed units: ${failed_units:-none}" | note
[ -z "$failed_units" ]
check $? "no_unit_failed_during_boot"
# What the boot made of the module: depmod's static nodes and the
# units that create them and load modules.
grep -w iommufd "/lib/modules/$kver/modules.devname" 2>/dev/null |
	sed 's/^/modules.devname: /' | note
! grep -qw iommufd "/lib/modules/$kver/modules.devname" 2>/dev/null
check $? "modules_devname_has_no_static_node_for_iommufd"
journalctl -b -o cat -u kmod-static-nodes.service \
	-u systemd-tmpfiles-setup-dev.service -u systemd-modules-load.service |
	grep -iE 'iommu|fail|error' | note
[ -d /sys/module/iommufd ]
check $? "iommufd_loaded_$loaded_by"
end

run_suite realboot_after_boot "$bin/devnode"

# Run a command, its output as TAP comments; its status in $rc.
quiet() {
	"$@" >"$tmp/cmd" 2>&1
	rc=$?
	note <"$tmp/cmd"
}

begin realboot_modprobe_cycle
quiet modprobe -r iommufd
check $rc "modprobe_r_iommufd"
udevadm settle
[ ! -e /dev/iommu ]
check $? "dev_iommu_is_gone_after_unload"
ls -l /dev/iommu 2>/dev/null | note
quiet modprobe iommufd
check $rc "modprobe_iommufd"
udevadm settle
end

run_suite realboot_after_modprobe "$bin/devnode"

begin realboot_kernel_log
dmesg | grep -E 'WARNING|BUG|Oops|Call Trace|iommufd:' | note
! dmesg | grep -qE 'WARNING|BUG|Oops|Call Trace'
check $? "kernel_log_has_no_warning_bug_or_oops"
quiet modprobe -r iommufd
check $rc "iommufd_unloads_at_the_end"
end

[ -z "$stage" ] || pkgtest_after "$stage"

echo "# runner: end" >"$out"
# The root is a throw-away overlay: no orderly shutdown (15 s of TCG).
sync
systemctl poweroff -ff
