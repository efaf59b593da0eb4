#!/bin/bash
# otpcheck with an e-mail token and a real SMTP server (tests/lib/smtpsink.py):
# an empty passcode mails a code and exits 5 with the transaction id and a
# message; the code from the captured mail (checked against oathtool) is
# accepted once; without smtp.* the trigger is a plain reject; a mail server
# that is down is an error (exit 2).
. "$(dirname "$0")/lib.sh"

SPOOL=$T/spool
mkdir -p "$SPOOL"
python3 "$TP_SRC/tests/lib/smtpsink.py" --port 0 --spool "$SPOOL" \
	>"$T/sink.out" 2>"$T/sink.err" &
SINK=$!
trap 'rc=$?; kill $SINK 2>/dev/null; tap_finish || rc=1; exit $rc' EXIT
PORT=""
for _ in $(seq 50); do
	PORT=$(sed -n 's/^smtpsink listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' \
		"$T/sink.out")
	[ -n "$PORT" ] && break
	sleep 0.1
done
check "the SMTP sink is listening" test -n "$PORT"

new_store s \
	"smtp.url = smtp://127.0.0.1:$PORT" \
	"smtp.from = tokenportal@example.org" \
	"resources.vpn.pin_mode = token" \
	"resources.vpn.pin_position = before" || exit 1

# The code in the newest mail of the spool (the body's 6-digit line).
mailed_code() {
	python3 - "$SPOOL" <<'EOF'
import email, email.policy, glob, re, sys
files = sorted(glob.glob(sys.argv[1] + "/*.eml"))
if not files:
    sys.exit(1)
msg = email.message_from_bytes(open(files[-1], "rb").read(),
                               policy=email.policy.default)
m = re.search(r"^\s*(\d{6})\s*$", msg.get_body(("plain",)).get_content(), re.M)
print(m.group(1) if m else "")
EOF
}
mails() { ls "$SPOOL"/*.eml 2>/dev/null | wc -l; }

HEX=$(rand_hex 20)
printf '%s\n' "$HEX" | expect_ok "add an e-mail token for erin" \
	tc add --type email --user erin --serial MAIL1 --email erin@example.org \
	--hex
printf '%s\n' "$HEX" | expect_fail 2 "an e-mail token needs --email" \
	"--email" tc add --type email --user erin --serial MAIL2 --hex

# ---- trigger: exit 5, transaction id and message ----
run oc erin </dev/null
check "an empty passcode for an e-mail token exits 5" test "$RC" -eq 5
check "line 1 is the transaction id (64 hex digits)" \
	grep -Eqx '[0-9a-f]{64}' <(sed -n 1p "$OUT")
check "line 2 names the masked address" \
	grep -qx 'A code was sent to e•••@example.org.' <(sed -n 2p "$OUT")
check "exactly two lines" test "$(wc -l <"$OUT")" -eq 2
check "one mail arrived" test "$(mails)" -eq 1
check "it went to the token's address" grep -qx 'RCPT TO:<erin@example.org>' \
	"$SPOOL/0001.env"
code=$(mailed_code)
check "the mailed code is oathtool's HOTP code at counter 0" \
	test -n "$code" -a "$code" = "$(hotp "$HEX" 0)"
refute "the code is not on otpcheck's output" grep -qF -- "$code" "$OUT"

# ---- answer: once ----
echo "$code" | expect_rc 0 "the mailed code is accepted" oc erin
echo "$code" | expect_rc 1 "and refused the second time" oc erin
hotp "$HEX" 1 | expect_rc 1 "the next code without a mail is refused" oc erin
run oc erin </dev/null
check "another empty passcode mails again (exit 5)" test "$RC" -eq 5
code=$(mailed_code)
check "the new mail holds the next code (oathtool, counter 1)" \
	test "$code" = "$(hotp "$HEX" 1)"
echo "$code" | expect_rc 0 "the new code is accepted" oc erin

# ---- events ----
tc events --serial MAIL1 >"$OUT"
check "the trigger is in the event log as a challenge" \
	grep -Eq " check .*erin.*otpcheck +challenge" "$OUT"
refute "the event log never holds a mailed code" grep -qF -- "$code" "$OUT"

# ---- a user without e-mail token, an unknown user: plain reject ----
expect_rc 1 "an unknown user's empty passcode is a reject" oc nobody </dev/null
check "and prints nothing" test ! -s "$OUT" -a ! -s "$ERR"

# ---- the mail server down: error ----
kill "$SINK"
wait "$SINK" 2>/dev/null
n=$(mails)
run oc erin </dev/null
check "with the mail server down the trigger exits 2" test "$RC" -eq 2
check "with one line on stderr" test "$(wc -l <"$ERR")" -eq 1
check "no mail" test "$(mails)" -eq "$n"

# ---- without smtp.*: reject ----
new_store nomail || exit 1
printf '%s\n' "$HEX" | expect_ok "add an e-mail token in a store without mail" \
	tc add --type email --user erin --serial MAIL1 --email erin@example.org \
	--hex
expect_rc 1 "without smtp.url the trigger is a reject" oc erin </dev/null
tc events --serial MAIL1 >"$OUT"
check "the reject says mail is not configured" \
	grep -q "mail not configured" "$OUT"
expect_ok "the event chain is intact" tc events --verify
