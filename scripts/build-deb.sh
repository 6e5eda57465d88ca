#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make deb`: the Debian binary packages, built by dpkg-buildpackage from
# debian/ in a staged copy of the tree (so that nothing is written beside
# the clone and a developer's build products stay out of the package),
# then checked by lintian.  The staged tree is what `make dist-src` calls
# the DKMS source plus what debian/rules needs to run: the Makefile, the
# system files, the tool and the manual pages, debian/ itself.
#
# Usage: build-deb.sh OUTDIR
#   OUTDIR gets iommufd-dkms_VERSION_all.deb, iommufdctl_VERSION_ARCH.deb,
#   the .changes and .buildinfo, build.log, and lintian.log (lintian's
#   answer on the .changes and each .deb).
# Exit status: non-zero when the build fails or lintian reports an error.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: build-deb.sh OUTDIR}

"$top/selftests/runner/host-deps.sh" packaging

mkdir -p "$out"
out=$(cd "$out" && pwd)
ver=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
stage=$out/stage
tree=$stage/iommufd-dkms-$ver
rm -rf "$stage"
make -s -C "$top" dist-src DESTDIR="$tree"
for f in debian Makefile system README.md tools man; do
	cp -a "$top/$f" "$tree/"
done

rm -f "$out"/iommufd*.deb "$out"/iommufd-dkms_*.changes \
	"$out"/iommufd-dkms_*.buildinfo
(cd "$tree" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1 || {
	tail -n 30 "$out/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (see $out/build.log)" >&2
	exit 1
}
mv "$stage"/*.deb "$stage"/*.changes "$stage"/*.buildinfo "$out/"
rm -rf "$stage"

# lintian exits non-zero on errors (its default --fail-on error).
rc=0
lintian --display-info --pedantic "$out"/iommufd-dkms_"${ver}"_*.changes \
	>"$out/lintian.log" 2>&1 || rc=$?
sed 's/^/lintian: /' "$out/lintian.log" >&2
ls "$out"/*.deb
exit $rc
