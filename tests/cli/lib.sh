# tests/cli/lib.sh - shared helpers for the command-line suites (sourced,
# not run: tests/run.sh skips it).
#
# Each suite gets a private temp dir ($T, removed on exit however the suite
# ends), prints TAP ("ok N - name" / "not ok N - name") and its plan at the
# end, and exits non-zero when a test failed.  Codes come from oathtool,
# which no one here wrote, computed right before use; TOTP tests avoid step
# boundaries with wait_step.

set -u
# `printf ... | expect_ok ...` must count its test in this shell, so the
# last command of a pipeline runs here, not in a subshell.
shopt -s lastpipe
TP_SRC=${TP_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TP_BUILD=${TP_BUILD:-$TP_SRC/build}
TOKENCTL=$TP_BUILD/tokenctl
OTPCHECK=$TP_BUILD/otpcheck

T=$(mktemp -d "${TMPDIR:-/tmp}/tp-cli.XXXXXX")
TAP_N=0
TAP_FAILED=0
OUT=$T/out
ERR=$T/err

tap_finish() {
	echo "1..$TAP_N"
	rm -rf "$T"
	[ "$TAP_FAILED" -eq 0 ]
}
trap 'rc=$?; tap_finish || rc=1; exit $rc' EXIT
trap 'exit 1' INT TERM

for prog in "$TOKENCTL" "$OTPCHECK"; do
	if [ ! -x "$prog" ]; then
		echo "not ok 1 - $prog is built"
		echo "# build it with make first"
		TAP_N=1 TAP_FAILED=1
		exit 1
	fi
done
command -v oathtool >/dev/null || { echo "# oathtool missing"; exit 1; }

ok() {			# name
	TAP_N=$((TAP_N + 1))
	echo "ok $TAP_N - $1"
}

not_ok() {		# name [diagnostic...]
	TAP_N=$((TAP_N + 1))
	TAP_FAILED=$((TAP_FAILED + 1))
	echo "not ok $TAP_N - $1"
	shift
	local line
	for line in "$@"; do echo "#   $line"; done
	if [ -s "$ERR" ]; then sed 's/^/#   stderr: /' "$ERR" | head -5; fi
}

check() {		# name, then a test command: ok when it succeeds
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

refute() {		# name, then a test command: ok when it fails
	local name=$1; shift
	if "$@"; then not_ok "$name"; else ok "$name"; fi
}

# Sets CONF, DB, KEY for a new store in $T/NAME (extra config lines as
# further arguments) and runs `tokenctl init`.
new_store() {		# name [config line...]
	local dir=$T/$1 line
	shift
	mkdir -p "$dir"
	CONF=$dir/tokenportal.hdf
	DB=$dir/tokens.db
	KEY=$dir/master.key
	{
		echo "store.driver = sqlite"
		echo "store.path = tokens.db"
		echo "keys.master_file = master.key"
		for line in "$@"; do echo "$line"; done
	} >"$CONF"
	if ! "$TOKENCTL" -c "$CONF" init >"$OUT" 2>"$ERR" </dev/null; then
		not_ok "tokenctl init in $dir"
		return 1
	fi
}

tc() { "$TOKENCTL" -c "$CONF" "$@"; }
oc() { "$OTPCHECK" -c "$CONF" "$@"; }

# Runs a command with stdout in $OUT and stderr in $ERR; sets RC.
run() {
	"$@" >"$OUT" 2>"$ERR"
	RC=$?
}

# A command must exit with rc and print nothing on stdout but exactly one
# line "PROG: ..." on stderr matching the pattern (grep -E, case-insensitive).
expect_fail() {		# rc name pattern command...
	local want=$1 name=$2 pat=$3; shift 3
	run "$@"
	local prog
	prog=$(basename "$1")
	[ "$1" = tc ] && prog=tokenctl
	[ "$1" = oc ] && prog=otpcheck
	if [ "$RC" -ne "$want" ]; then
		not_ok "$name" "exit $RC, wanted $want"
	elif [ "$(wc -l <"$ERR")" -ne 1 ] || ! grep -q "^$prog: " "$ERR"; then
		not_ok "$name" "stderr is not one '$prog: ...' line"
	elif ! grep -Eqi -- "$pat" "$ERR"; then
		not_ok "$name" "stderr does not match /$pat/"
	elif [ -s "$OUT" ]; then
		not_ok "$name" "unexpected stdout: $(head -c 200 "$OUT")"
	else
		ok "$name"
	fi
}

# A command must exit 0.
expect_ok() {		# name command...
	local name=$1; shift
	run "$@"
	if [ "$RC" -eq 0 ]; then ok "$name"; else not_ok "$name" "exit $RC"; fi
}

# A command must exit with exactly rc.
expect_rc() {		# rc name command...
	local want=$1 name=$2; shift 2
	run "$@"
	if [ "$RC" -eq "$want" ]; then ok "$name"
	else not_ok "$name" "exit $RC, wanted $want"; fi
}

# The store as tokenctl sees it (tokens and events): compared before and
# after bad input to prove nothing was written.
snapshot() {		# file
	{ tc list --json && tc events --json; } >"$1" 2>&1
}

same_snapshot() {	# name before-file
	snapshot "$T/snap.after"
	if cmp -s "$2" "$T/snap.after"; then ok "$1"
	else not_ok "$1" "the store changed"; fi
}

# Waits until at least `margin` seconds (default 4) remain in the current
# TOTP step of `period` seconds, so a code and its use share one step.
wait_step() {		# period [margin]
	local period=${1:-30} margin=${2:-4} left
	left=$((period - $(date +%s) % period))
	if [ "$left" -lt "$margin" ]; then sleep "$left"; fi
}

# A random secret of n bytes, as lower-case hex.
rand_hex() {		# bytes
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# Base32 (RFC 4648, upper case, no padding) of a hex secret.
hex_to_b32() {		# hex
	python3 -c 'import base64,sys; print(base64.b32encode(bytes.fromhex(sys.argv[1])).decode().rstrip("="))' "$1"
}

# A field of a JSON object read from a file: prints it (python repr for
# non-strings: True/False/None).
json_field() {		# file field
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v)' "$1" "$2"
}

# 1 when the file is one valid JSON document.
valid_json() {		# file
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null
}

# HOTP code for a hex secret at counter c (oathtool is the reference).
hotp() {		# hex counter [digits]
	oathtool --hotp -d "${3:-6}" -c "$2" "$1"
}

# A 6-digit code that is none of the codes at counters 0..n-1.
wrong_hotp() {		# hex n
	local codes c
	codes=$(oathtool --hotp -c 0 -w "$2" "$1")
	for c in 111111 222222 333333 444444 555555 666666 777777; do
		if ! printf '%s\n' "$codes" | grep -qx "$c"; then
			echo "$c"
			return
		fi
	done
}
