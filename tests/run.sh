#!/bin/bash
# Runs every test suite and ends with one machine-readable line:
#   N passed, N failed
# Every suite speaks TAP on stdout ("ok N - name" / "not ok N - name"): the
# cmocka unit tests (CMOCKA_MESSAGE_OUTPUT=TAP), the CLI tests (tests/cli/*.sh),
# the integration tests (tests/integration/test_*.py) and the browser tests
# (tests/e2e/*.mjs).  A suite that exits non-zero without reporting a failure
# counts as one failure, so a crash can never pass silently.
#
# usage: tests/run.sh BUILD_DIR [unit|cli|integration|e2e ...]
set -u
cd "$(dirname "$0")/.."
mkdir -p "${1:-build}"
TP_BUILD=$(cd "${1:-build}" && pwd); shift || true
export TP_BUILD TP_SRC=$(pwd)
only="${*:-unit cli integration e2e}"
art=tests/artifacts
mkdir -p "$art/logs"

passed=0 failed=0 failures=""

run_suite() {			# name, command...
	local name=$1; shift
	local log="$art/logs/$name.log"
	echo "== $name"
	"$@" >"$log" 2>&1
	local rc=$?
	local ok nok
	ok=$(grep -cE '^ok [0-9]+' "$log")
	nok=$(grep -cE '^not ok [0-9]+' "$log")
	if [ "$rc" -ne 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
		echo "   exited $rc without reporting a failure" >>"$log"
	fi
	if [ "$ok" -eq 0 ] && [ "$nok" -eq 0 ]; then
		nok=1
		echo "   ran no test" >>"$log"
	fi
	passed=$((passed + ok)); failed=$((failed + nok))
	echo "   $ok passed, $nok failed"
	if [ "$nok" -gt 0 ]; then
		failures="$failures $name"
		grep -E '^not ok|^#' "$log" | head -40 | sed 's/^/   | /'
		tail -n 15 "$log" | sed 's/^/   > /'
	fi
}

for kind in $only; do
	case $kind in
	unit)
		for t in "$TP_BUILD"/tests/test_*; do
			[ -x "$t" ] || continue
			CMOCKA_MESSAGE_OUTPUT=TAP run_suite "unit-$(basename "$t")" "$t"
		done ;;
	cli)
		for t in tests/cli/*.sh; do
			[ -f "$t" ] || continue
			# lib.sh holds the helpers the suites source.
			[ "$(basename "$t")" = lib.sh ] && continue
			run_suite "cli-$(basename "$t" .sh)" bash "$t"
		done ;;
	integration)
		for t in tests/integration/test_*.py; do
			[ -f "$t" ] || continue
			run_suite "integration-$(basename "$t" .py)" python3 "$t"
		done ;;
	e2e)
		for t in tests/e2e/*.mjs; do
			[ -f "$t" ] || continue
			run_suite "e2e-$(basename "$t" .mjs)" tests/e2e/run.sh "$t"
		done ;;
	esac
done

[ -n "$failures" ] && echo "failed suites:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
