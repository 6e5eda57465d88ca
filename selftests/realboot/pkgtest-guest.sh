# SPDX-License-Identifier: GPL-2.0
#
# The package test's part of a real boot (pkgtest.sh), sourced by
# guest-test.sh when the kernel command line carries
# iommufd_pkgtest=STAGE; it uses guest-test.sh's begin/check/note/end and
# reports in the same format.  The stages, one a boot of the same disk:
#
#   install  (first boot, nothing of ours on the disk) before the real-boot
#            suites: `apt-get install ./iommufd-dkms_*.deb ./iommufdctl_*.deb`,
#            which builds
#            through DKMS for every installed kernel with headers; then
#            systemd-modules-load loads iommufd from the package's
#            modules-load.d file, so the real-boot suites find it loaded
#   verify   (after a reboot into another kernel) after the real-boot
#            suites: what modinfo and dkms status say
#   purge    as verify, then `apt-get purge iommufd-dkms`, and nothing of
#            ours may be left on the disk

pkg=iommufd-dkms
deb_dir=/root/iommufd-pkgtest

# Run a command; its output (the last 60 lines) as TAP comments, its
# status in $rc.
pk_run() {
	"$@" >"$tmp/pk" 2>&1
	rc=$?
	tail -n 60 "$tmp/pk" | note
}

# The kernels DKMS must have built for: every installed kernel whose
# headers are there (dkms's own test: /lib/modules/KVER/build/include).
pk_kernels() {
	for d in /lib/modules/*; do
		[ -e "$d/build/include" ] && echo "${d##*/}"
	done
}

pk_version() {
	dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null
}

# "installed" for each kernel, and the modules where dkms put them.
pk_check_dkms() {
	ver=$(pk_version)
	dkms status -m iommufd 2>&1 | note
	for k in $(pk_kernels); do
		dkms status -m iommufd -v "$ver" -k "$k" 2>/dev/null |
			grep ": installed" >/dev/null
		check $? "dkms_status_installed_for_$k"
		ls "/lib/modules/$k/updates/dkms/iommufd.ko"* \
		   "/lib/modules/$k/updates/dkms/iommufd_vfio.ko"* >/dev/null 2>&1
		check $? "both_modules_in_updates_dkms_for_$k"
	done
}

# iommufdctl from its package, on the loaded module.
pk_status() {
	pk_run iommufdctl status
	check $rc "iommufdctl_status"
	grep -q '^iommufd: loaded' "$tmp/pk"
	check $? "iommufdctl_status_says_iommufd_loaded"
}

pk_install() {
	begin pkgtest_install
	deb=$(ls "$deb_dir"/${pkg}_*_all.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ]
	check $? "the_package_is_on_the_disk"
	ctl=$(ls "$deb_dir"/iommufdctl_*.deb 2>/dev/null | head -n 1)
	[ -n "$ctl" ]
	check $? "the_iommufdctl_package_is_on_the_disk"
	echo "kernels with headers: $(pk_kernels | tr '\n' ' ')" | note
	t0=$(date +%s)
	# No network in the guest: every dependency is preinstalled.  The
	# DKMS builds take minutes under TCG: apt's output goes to the
	# console as well, where the host sees how far they are.
	# The test bed's compiler cache (pkgtest.sh), the second disk, for
	# apt's run only.  Debian's kernel headers take it from the variable
	# DEBIAN_KERNEL_USE_CCACHE (their .kernelvariables put ccache in CC).
	cc_env=""
	if [ -b /dev/vdb ] && command -v ccache >/dev/null &&
	   mkdir -p /var/cache/pkgtest-ccache &&
	   mount /dev/vdb /var/cache/pkgtest-ccache; then
		cc_env="DEBIAN_KERNEL_USE_CCACHE=1 CCACHE_DIR=/var/cache/pkgtest-ccache CCACHE_MAXSIZE=3G"
		env $cc_env ccache -z >/dev/null 2>&1 || true
	else
		echo "no compiler cache: the DKMS builds compile everything" | note
	fi
	{ env $cc_env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y "$deb" $ctl 2>&1
	  echo "rc=$?"; } | tee /dev/ttyS0 >"$tmp/pk"
	if [ -n "$cc_env" ]; then
		CCACHE_DIR=/var/cache/pkgtest-ccache ccache -s 2>&1 |
			sed 's/^/ccache: /' | note
		umount /var/cache/pkgtest-ccache
		rmdir /var/cache/pkgtest-ccache
	fi
	tail -n 60 "$tmp/pk" | note
	grep -qx 'rc=0' "$tmp/pk"
	check $? "apt_get_install_the_debs"
	echo "apt-get install took $(( $(date +%s) - t0 )) s" | note
	pk_check_dkms
	# Debian's dkms signs what it builds with its MOK key, and makes one
	# (/var/lib/dkms/mok.key, mok.pub) when there is none.
	for k in $(pk_kernels); do
		signer=$(modinfo -k "$k" -F signer iommufd 2>/dev/null)
		echo "$k: signer: ${signer:-none}" | note
		[ "$signer" = "DKMS module signing key" ]
		check $? "iommufd_signed_with_the_dkms_mok_key_for_$k"
	done
	[ -s /var/lib/dkms/mok.pub ]
	check $? "dkms_mok_certificate_exists"
	[ -e "/usr/src/iommufd-$ver/dkms.conf" ]
	check $? "dkms_source_in_usr_src_iommufd_$ver"
	[ -e /usr/lib/modules-load.d/iommufd.conf ]
	check $? "modules_load_d_file_installed"
	[ ! -d /sys/module/iommufd ]
	check $? "iommufd_not_loaded_before_modules_load"
	pk_run systemctl restart systemd-modules-load.service
	check $rc "systemd_modules_load_restarts"
	pk_status
	end
}

pk_verify() {
	begin pkgtest_installed
	ver=$(pk_version)
	echo "$pkg $ver, booted $kver" | note
	pk_check_dkms
	modinfo iommufd iommufd_vfio 2>&1 | note
	case "$(modinfo -F filename iommufd 2>/dev/null)" in
	/lib/modules/"$kver"/updates/dkms/iommufd.ko*) r=0 ;;
	*) r=1 ;;
	esac
	check $r "modinfo_iommufd_is_the_dkms_build_in_updates_dkms"
	# guest-test.sh unloaded it at the end of its suites.
	pk_run modprobe iommufd
	check $rc "modprobe_iommufd_again"
	pk_status
	pk_run modprobe -r iommufd
	check $rc "modprobe_r_iommufd_again"
	parms=$(modinfo -F parm iommufd 2>/dev/null | cut -d: -f1 | sort | tr '\n' ' ')
	[ "$parms" = "mock_large_pages selftest " ]
	check $? "modinfo_iommufd_shows_selftest_and_mock_large_pages"
	parms=$(modinfo -F parm iommufd_vfio 2>/dev/null | cut -d: -f1 | sort | tr '\n' ' ')
	[ "$parms" = "allow_unsafe_interrupts type1 " ]
	check $? "modinfo_iommufd_vfio_shows_type1_and_allow_unsafe_interrupts"
	end
}

# Everything of ours on the root file system, less the test itself.
pk_ours() {
	find / -xdev \( -iname '*iommufd*' -o -path /var/lib/dkms/iommufd \) \
		! -path '/usr/local/lib/iommufd-realboot*' \
		! -path '/etc/systemd/system/iommufd-realboot.service' \
		! -path '/etc/systemd/system/multi-user.target.wants/iommufd-realboot.service' \
		! -path '/etc/iommufd-pkgtest.packages' \
		! -path '/etc/iommufd-realboot.packages' \
		! -path "$deb_dir*" \
		! -path '/usr/src/linux-headers-*' 2>/dev/null | sort
}

pk_purge() {
	begin pkgtest_purge
	ver=$(pk_version)
	pk_ours | sed 's/^/before purge: /' | note
	DEBIAN_FRONTEND=noninteractive pk_run apt-get purge -y "$pkg" iommufdctl
	check $rc "apt_get_purge"
	! dpkg-query -W -f='${Status}\n' "$pkg" iommufdctl 2>/dev/null |
		grep -q ' installed$'
	check $? "dpkg_knows_the_packages_no_more"
	[ -z "$(dkms status -m iommufd 2>/dev/null)" ]
	check $? "dkms_status_is_empty"
	[ ! -e /var/lib/dkms/iommufd ]
	check $? "var_lib_dkms_iommufd_is_gone"
	! ls -d /usr/src/iommufd-* >/dev/null 2>&1
	check $? "usr_src_iommufd_is_gone"
	! ls /lib/modules/*/updates/dkms/iommufd* >/dev/null 2>&1
	check $? "no_module_left_in_any_kernel"
	[ ! -e /usr/lib/modules-load.d/iommufd.conf ]
	check $? "modules_load_d_file_is_gone"
	! modprobe -n iommufd >/dev/null 2>&1
	check $? "modprobe_finds_no_iommufd"
	left=$(pk_ours)
	echo "left after purge: ${left:-nothing}" | note
	[ -z "$left" ]
	check $? "nothing_of_ours_is_left"
	end
}

# guest-test.sh calls these around its own suites.
pkgtest_before() {
	[ "$1" != install ] || pk_install
}
pkgtest_after() {
	case "$1" in
	verify) pk_verify ;;
	purge) pk_verify; pk_purge ;;
	esac
}
