# SPDX-License-Identifier: GPL-2.0
# Resolve the Debian kernels we test from the package lists, never from
# hard-coded ABI numbers: Debian bumps them with every security update.
#
# Sourced by the runner scripts; defines kernel_61() and kernel_612(), which
# print a kernel release string such as 6.1.0-56-amd64.

kernel_61() {
	# The 6.1 kernel is whatever linux-image-amd64 currently depends on.
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: linux-image-\(6\.1\.0-[0-9]*-amd64\)$/\1/p' |
		head -n 1
}

kernel_612() {
	# The 6.12 backport is published as linux-image-6.12.N+deb12-amd64;
	# take the highest N the archive offers.
	apt-cache pkgnames linux-image-6.12. 2>/dev/null |
		sed -n 's/^linux-image-\(6\.12\.[0-9]*+deb12-amd64\)$/\1/p' |
		sort -V | tail -n 1
}
