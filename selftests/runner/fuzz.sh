#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make fuzz`: one long run of the /dev/iommu fuzzer (selftests/fuzz) in a
# guest, outside `make check`: the debug kernel (KASAN, lockdep, kmemleak)
# when its build is in the cache, else Debian's 6.12.  Built without DKMS
# (through dev-run.sh), at the lowest CPU priority, so it can run beside
# other work.  Prints the guest's TAP and the fuzzer's report.
#
# Environment:
#   FUZZ_CALLS   ioctls to issue (default 10000000)
#   FUZZ_TIME    time cap in seconds (default: enough for FUZZ_CALLS at
#                1000 calls/s, plus 10 minutes: the debug kernel's rate on
#                a busy host; Debian's 6.12 runs 4000-5000/s)
#   FUZZ_KERNEL  6.1 | 6.12 | debug (default: debug if built, else 6.12)
#   FUZZ_IOMMU   intel | amd (default intel)
#   FUZZ_ARGS    more fuzz.* kernel arguments (fuzz.seed=S, fuzz.avoid=...)
#   FUZZ_BUILD   build and log directory (default selftests/build/fuzz-run)
set -euo pipefail

here=$(dirname "$(readlink -f "$0")")
top=$(cd "$here/../.." && pwd)

calls=${FUZZ_CALLS:-10000000}
secs=${FUZZ_TIME:-$((calls / 1000 + 600))}
kernel=${FUZZ_KERNEL:-}
if [ -z "$kernel" ]; then
	kernel=6.12
	if [ -x "$here/debug-kernel.sh" ] &&
	   dir=$("$here/debug-kernel.sh" -n 2>/dev/null) &&
	   [ -e "$dir/complete" ]; then
		kernel=debug
	fi
fi
build=${FUZZ_BUILD:-$top/selftests/build/fuzz-run}

echo "# make fuzz: $calls calls, at most $secs s, kernel $kernel, ${FUZZ_IOMMU:-intel} IOMMU"
GUEST_TIMEOUT=$((secs + 900)) \
GUEST_APPEND="fuzz.calls=$calls fuzz.time=$secs ${FUZZ_ARGS:-}" \
	exec nice -n 19 bash "$here/dev-run.sh" -k "$kernel" \
	-i "${FUZZ_IOMMU:-intel}" -s fuzz -q -B "$build"
