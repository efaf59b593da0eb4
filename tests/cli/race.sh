#!/bin/bash
# The replay race (DESIGN.md 4): 8 otpcheck processes submit the same valid
# code at the same moment, round after round.  Exactly one may accept; the
# others reject; none may fail with an error (exit 2, e.g. SQLITE_BUSY).
# TOTP: one token per round so each round is a fresh time step without
# waiting; HOTP: one token, successive counters.
. "$(dirname "$0")/lib.sh"

PROCS=8
ROUNDS=${TP_RACE_ROUNDS:-20}

new_store race || exit 1

# Starts PROCS otpcheck processes for user, each blocked reading its passcode
# from its own FIFO, then hands them all the code at once: they open the
# store and check concurrently.  Prints the exit codes, sorted.
race() {		# user code
	local user=$1 code=$2 j fds=()
	rm -f "$T"/fifo.* "$T"/rc.*
	for j in $(seq $PROCS); do
		mkfifo "$T/fifo.$j"
		( "$OTPCHECK" -c "$CONF" "$user" <"$T/fifo.$j" >/dev/null \
			2>"$T/err.$j"; echo $? >"$T/rc.$j" ) &
	done
	# Opening a FIFO for writing waits for its reader: after this loop
	# every process is running and blocked on its read.
	for j in $(seq $PROCS); do
		exec {fd}>"$T/fifo.$j"
		fds+=("$fd")
	done
	for fd in "${fds[@]}"; do echo "$code" >&"$fd"; done
	for fd in "${fds[@]}"; do exec {fd}>&-; done
	wait
	cat "$T"/rc.* | sort | tr '\n' ' '
}

# Judges one round: exactly one 0, the rest 1.
judge() {		# rcs
	local want="0 $(printf '1 %.0s' $(seq $((PROCS - 1))))"
	[ "$1" = "$want" ]
}

# ---- TOTP: ROUNDS tokens, one round each ----
for i in $(seq "$ROUNDS"); do
	hex=$(rand_hex 20)
	echo "$hex" >"$T/totp.$i"
	printf '%s\n' "$hex" | tc add --type totp --user "t$i" --serial "RT$i" \
		--hex --period 60 >/dev/null 2>&1 || not_ok "add RT$i"
done
bad=0 errs=0
for i in $(seq "$ROUNDS"); do
	wait_step 60 5
	code=$(oathtool --totp -s 60 "$(cat "$T/totp.$i")")
	rcs=$(race "t$i" "$code")
	judge "$rcs" || { bad=$((bad + 1)); echo "# TOTP round $i: exits $rcs"; }
	case " $rcs" in *" 2 "*) errs=$((errs + 1)); cat "$T"/err.* | head -3 | sed 's/^/# /';; esac
done
check "TOTP: $ROUNDS rounds of $PROCS racing checks, exactly one accept each" \
	test "$bad" -eq 0
check "TOTP: no racing check failed with an error" test "$errs" -eq 0

# ---- HOTP: one token, successive counters ----
hex=$(rand_hex 20)
printf '%s\n' "$hex" | tc add --type hotp --user h --serial RH1 --hex \
	>/dev/null 2>&1 || not_ok "add RH1"
bad=0 errs=0
for i in $(seq 0 $((ROUNDS - 1))); do
	rcs=$(race h "$(hotp "$hex" "$i")")
	judge "$rcs" || { bad=$((bad + 1)); echo "# HOTP round $i: exits $rcs"; }
	case " $rcs" in *" 2 "*) errs=$((errs + 1)); cat "$T"/err.* | head -3 | sed 's/^/# /';; esac
done
check "HOTP: $ROUNDS rounds of $PROCS racing checks, exactly one accept each" \
	test "$bad" -eq 0
check "HOTP: no racing check failed with an error" test "$errs" -eq 0
tc show RH1 --json >"$OUT"
check "HOTP: the counter moved exactly once per round" \
	test "$(json_field "$OUT" counter)" = "$ROUNDS"
expect_ok "the event chain survived the races" tc events --verify
checks=$(tc events --json | python3 -c 'import json,sys; print(sum(e["action"] == "check" for e in json.load(sys.stdin)))')
check "every racing check wrote its event ($checks)" \
	test "$checks" -eq $((ROUNDS * PROCS * 2))
