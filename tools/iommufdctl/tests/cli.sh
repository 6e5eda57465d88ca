#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# iommufdctl's command line on the host: usage errors, exit statuses,
# status --json well-formed whatever is loaded.  No root needed.
# Usage: cli.sh PATH/TO/iommufdctl
bin=$1
n=0 failed=0
echo "TAP version 13"
echo "1..7"
t() {
	want=$1 name=$2
	shift 2
	"$@" >/tmp/iommufdctl-cli.$$ 2>&1
	rc=$?
	n=$((n + 1))
	if [ "$rc" = "$want" ]; then
		echo "ok $n $name"
	else
		echo "not ok $n $name (exit $rc, want $want)"
		sed 's/^/# /' /tmp/iommufdctl-cli.$$
		failed=$((failed + 1))
	fi
}
t 0 help_exits_0 "$bin" --help
t 2 no_command_is_a_usage_error "$bin"
t 2 unknown_command_is_a_usage_error "$bin" frobnicate
t 2 option_of_another_command_is_a_usage_error "$bin" status --type1
t 2 bind_of_a_malformed_address_is_a_usage_error "$bin" bind ../../x
t 4 bind_of_an_absent_device_exits_4 "$bin" bind 0000:ff:1f.7
n=$((n + 1))
if ! command -v python3 >/dev/null; then
	echo "ok $n status_json_is_well_formed # SKIP no python3 to read it"
elif "$bin" status --json >/tmp/iommufdctl-cli.$$ 2>&1 &&
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema"] == 2; assert "iommufd" in d["modules"]' /tmp/iommufdctl-cli.$$; then
	echo "ok $n status_json_is_well_formed"
else
	echo "not ok $n status_json_is_well_formed"
	sed 's/^/# /' /tmp/iommufdctl-cli.$$
	failed=$((failed + 1))
fi
rm -f /tmp/iommufdctl-cli.$$
[ $failed = 0 ]
