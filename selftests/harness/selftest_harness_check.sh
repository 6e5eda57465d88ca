#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the harness's own self-test (selftest_harness.c) on the host and check
# that every case ended the way its name says: expect_pass_, expect_fail_ or
# expect_skip_.  Usage: selftest_harness_check.sh PATH/TO/selftest_harness
set -u

bin=${1:?usage: $0 selftest_harness-binary}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
errors=0

fail() {
	echo "harness self-check: $*" >&2
	errors=$((errors + 1))
}

"$bin" >"$out" 2>&1
status=$?
[ "$status" -eq 1 ] || fail "exit status $status, expected 1 (some cases fail on purpose)"

[ "$(sed -n 1p "$out")" = "TAP version 13" ] || fail "first line is not 'TAP version 13'"
ncases=$("$bin" -l | wc -l)
[ "$(sed -n 2p "$out")" = "1..$ncases" ] || fail "second line is not '1..$ncases'"

nresults=0
while IFS= read -r line; do
	case $line in
	"ok "*" # SKIP "*) got=skip ;;
	"ok "*) got=pass ;;
	"not ok "*) got=fail ;;
	*) continue ;;
	esac
	nresults=$((nresults + 1))
	name=${line#ok }
	name=${name#not ok }
	name=${name#* }
	name=${name%% # SKIP*}
	case ${name##*.} in
	expect_pass_*) want=pass ;;
	expect_fail_*) want=fail ;;
	expect_skip_*) want=skip ;;
	*) fail "case '$name' does not say how it should end"; continue ;;
	esac
	[ "$got" = "$want" ] || fail "case '$name' ended '$got', expected '$want'"
done <"$out"
[ "$nresults" -eq "$ncases" ] || fail "$nresults results for $ncases cases"

# Teardown runs after a failed ASSERT in the body (once per variant).
n=$(grep -c "teardown of counter ran with value 99" "$out")
[ "$n" -eq 2 ] || fail "teardown after a failed ASSERT ran $n times, expected 2"
grep -q "reached after a failed EXPECT" "$out" || fail "EXPECT stopped the case"
! grep -q "not reached" "$out" || fail "code after ASSERT or SKIP ran"
grep -q "^ok [0-9]* expect_skip_with_a_reason # SKIP no such hardware (42)$" "$out" ||
	fail "SKIP reason not on the TAP line"
grep -q "timed out after 1 s" "$out" || fail "no timeout diagnostic"
grep -q "accounting leak: .*VmLck 0 kB -> [1-9]" "$out" ||
	fail "no accounting diagnostic"

# Selection: only passing cases selected, so the run passes.
"$bin" -t expect_pass >"$out" 2>&1 || fail "a run of passing cases exited non-zero"
"$bin" -t no_case_has_this_name >/dev/null 2>&1 && fail "an empty selection exited zero"

if [ "$errors" -ne 0 ]; then
	echo "harness self-check: $errors error(s)" >&2
	exit 1
fi
echo "harness self-check: $ncases cases ended as their names say"
