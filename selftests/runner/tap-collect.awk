# SPDX-License-Identifier: GPL-2.0
#
# Turn one guest's results.log into numbered TAP lines of the whole run and
# keep the tallies.  Input variables: run (e.g. "6.12/intel"), start (the
# number of the last test already printed).  Prints the TAP lines, then a
# last line "# tally PASSED FAILED SKIPPED LAST".
#
# A suite counts as failed as well when it exits non-zero without saying
# which test failed, or prints fewer results than its plan; a guest that
# never reached its end marker (crash, hang) fails the run.

function emit(status, name, directive) {
	n++
	if (status == "ok" && directive ~ /^# *SKIP/) {
		skipped++
		printf "ok %d - %s %s %s\n", n, run, name, directive
	} else if (status == "ok") {
		passed++
		printf "ok %d - %s %s\n", n, run, name
	} else {
		failed++
		printf "not ok %d - %s %s\n", n, run, name
	}
}

function close_suite() {
	if (suite == "")
		return
	if (plan > seen)
		emit("not ok", suite ": only " seen " of " plan " planned results")
	suite = ""
}

BEGIN { n = start; passed = failed = skipped = 0; suite = ""; ended = 0 }

# The serial console ends lines with CR LF.
{ sub(/\r$/, "") }

/^# runner: suite [^ ]+ exit=/ {
	split($4, a, "=")
	code = a[2]
	if (code != 0 && suite_failed == 0)
		emit("not ok", suite ": exited with status " code)
	close_suite()
	next
}
/^# runner: suite / {
	close_suite()
	suite = $4; plan = 0; seen = 0; suite_failed = 0
	next
}
/^# runner: end/ { close_suite(); ended = 1; next }
/^1\.\.[0-9]+/ { if (suite != "") plan = substr($1, 4) + 0; next }
/^(not )?ok [0-9]+/ {
	if (suite == "")
		next
	line = $0
	status = "ok"
	if (line ~ /^not ok/) {
		status = "not ok"
		sub(/^not ok [0-9]+ *-? */, "", line)
		suite_failed++
	} else {
		sub(/^ok [0-9]+ *-? */, "", line)
	}
	directive = ""
	if (match(line, /# *(SKIP|skip|TODO).*$/)) {
		directive = substr(line, RSTART)
		line = substr(line, 1, RSTART - 1)
		sub(/ +$/, "", line)
	}
	seen++
	emit(status, suite ": " line, directive)
	next
}
/^#/ { print; next }

END {
	close_suite()
	if (!ended)
		emit("not ok", "guest: did not reach its end marker (crash, hang or timeout)")
	printf "# tally %d %d %d %d\n", passed, failed, skipped, n
}
