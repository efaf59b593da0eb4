#!/bin/bash
# tokenctl's token commands: add, list, show, JSON, enable, disable,
# delete, unlock, bypass, set-pin, events; and bad input everywhere, which
# must give one clear line on stderr, a non-zero exit, and write nothing.
. "$(dirname "$0")/lib.sh"

new_store s || exit 1

HEX1=$(rand_hex 20)
B32_1=$(hex_to_b32 "$HEX1")
HEX2=$(rand_hex 32)

# ---- add ----
printf '%s\n' "$B32_1" | expect_ok "add a TOTP token from Base32 on stdin" \
	tc add --type totp --user alice --serial TOTP0001 \
	--description 'Alice "phone" \ Zoë'
printf '%s\n' "$HEX2" | expect_ok "add an HOTP token from hex on stdin" \
	tc add --type hotp --user bob --serial HOTP-0002 --hex \
	--algorithm sha256 --digits 8 --counter 5
# Lower case and spaces, as people copy them from a screen.
lc=$(echo "$B32_1" | tr 'A-Z' 'a-z' | sed 's/..../& /g')
printf '%s\n' "$lc" | expect_ok "add accepts lower-case spaced Base32" \
	tc add --type totp --user carol.long.name --serial T3 --period 60 \
	--algorithm sha512

# ---- list ----
expect_ok "list" tc list
check "list shows all three tokens" \
	test "$(grep -cE '^(TOTP0001|HOTP-0002|T3) ' "$OUT")" -eq 3
check "list has a header" grep -q '^SERIAL ' "$OUT"
python3 - "$OUT" <<'EOF'
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
head = lines[0]
for col, want in (("USER", ("alice", "bob", "carol.long.name")),
                  ("STATUS", ("active",))):
    at = head.index(col)
    for row in lines[1:]:
        if not any(row[at:].startswith(w) for w in want):
            sys.exit(1)
EOF
check "list columns are aligned" test $? -eq 0
expect_ok "list --user filters" tc list --user bob
check "list --user shows only that user's tokens" \
	test "$(grep -c 'HOTP-0002' "$OUT")" -eq 1 -a "$(grep -c TOTP0001 "$OUT")" -eq 0
expect_ok "list --json" tc list --json
check "list --json is valid JSON" valid_json "$OUT"
python3 - "$OUT" <<'EOF'
import json, sys
toks = {t["serial"]: t for t in json.load(open(sys.argv[1]))}
a, b, c = toks["TOTP0001"], toks["HOTP-0002"], toks["T3"]
assert a["description"] == 'Alice "phone" \\ Zoë', a["description"]
assert (a["type"], a["user"], a["algorithm"], a["digits"], a["period"]) == \
    ("totp", "alice", "SHA1", 6, 30), a
assert (b["type"], b["algorithm"], b["digits"], b["counter"]) == \
    ("hotp", "SHA256", 8, 5), b
assert (c["period"], c["algorithm"]) == (60, "SHA512"), c
assert a["status"] == "active" and b["status"] == "active"
EOF
check "list --json carries the fields and escapes strings" test $? -eq 0

# ---- show ----
expect_ok "show" tc show TOTP0001
check "show names the owner" grep -Eq '^user: +alice' "$OUT"
check "show says active" grep -Eq '^status: +active' "$OUT"
expect_ok "show --json" tc show HOTP-0002 --json
check "show --json is valid JSON" valid_json "$OUT"
check "show --json has the serial" \
	test "$(json_field "$OUT" serial)" = HOTP-0002
no_secret() {
	! grep -qiF -e "$B32_1" -e "$HEX1" -e "$HEX2" "$OUT"
}
tc show TOTP0001 >"$OUT"; tc show TOTP0001 --json >>"$OUT"
tc show HOTP-0002 >>"$OUT"; tc show HOTP-0002 --json >>"$OUT"
tc list --json >>"$OUT"
check "show and list never print a secret" no_secret

# ---- enable / disable / delete / unlock ----
expect_ok "disable" tc disable TOTP0001
tc show TOTP0001 --json >"$OUT"
check "a disabled token shows as disabled" \
	test "$(json_field "$OUT" status)" = disabled
expect_ok "enable" tc enable TOTP0001
tc show TOTP0001 --json >"$OUT"
check "an enabled token shows as active" \
	test "$(json_field "$OUT" status)" = active
expect_ok "unlock an unlocked token" tc unlock TOTP0001
tc show TOTP0001 --json >"$OUT"
check "unlock leaves the fail count at 0" \
	test "$(json_field "$OUT" fail_count)" = 0

# ---- bypass ----
expect_ok "bypass --until a future time" \
	tc bypass TOTP0001 --until 2099-12-31T18:00:00Z
tc show TOTP0001 --json >"$OUT"
check "the bypass end time is stored" \
	test "$(json_field "$OUT" bypass_until)" = 2099-12-31T18:00:00Z
expect_ok "bypass --until with an offset" \
	tc bypass TOTP0001 --until 2099-12-31T20:00:00+02:00
tc show TOTP0001 --json >"$OUT"
check "an offset is converted to UTC" \
	test "$(json_field "$OUT" bypass_until)" = 2099-12-31T18:00:00Z
expect_ok "bypass --forever" tc bypass TOTP0001 --forever
tc show TOTP0001 --json >"$OUT"
check "a permanent bypass shows as forever" \
	test "$(json_field "$OUT" bypass_until)" = forever
expect_ok "bypass --off" tc bypass TOTP0001 --off
tc show TOTP0001 --json >"$OUT"
check "bypass off shows none" \
	test "$(json_field "$OUT" bypass_until)" = None

# ---- set-pin ----
printf 'xK9#mQ2v\n' | expect_ok "set-pin from stdin" tc set-pin TOTP0001
tc show TOTP0001 --json >"$OUT"
check "the token has a PIN" test "$(json_field "$OUT" has_pin)" = True
# On a terminal: prompted twice, and the PIN is never echoed.
python3 - "$TOKENCTL" -c "$CONF" set-pin TOTP0001 >"$OUT" 2>&1 <<'EOF'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b""
def pump(until, secs=5):
    global out
    end = time.time() + secs
    while until not in out and time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                out += os.read(fd, 1024)
            except OSError:
                return
pump(b"New PIN: ")
os.write(fd, b"xK9#mQ2v\n")
pump(b"Repeat PIN: ")
os.write(fd, b"xK9#mQ2v\n")
pump(b"the PIN of")
st = os.waitpid(pid, 0)[1]
print(repr(out))
sys.exit(0 if os.WEXITSTATUS(st) == 0 and b"Repeat PIN: " in out
         and b"xK9#mQ2v" not in out else 1)
EOF
check "set-pin on a terminal prompts twice without echo" test $? -eq 0
expect_ok "set-pin --clear" tc set-pin TOTP0001 --clear
tc show TOTP0001 --json >"$OUT"
check "the PIN is gone" test "$(json_field "$OUT" has_pin)" = False

# ---- events ----
expect_ok "events" tc events
check "events show the add by tokenctl from the cli" \
	grep -Eq "tokenctl:[^ ]+ +add +TOTP0001 +alice .*cli" "$OUT"
expect_ok "events --serial" tc events --serial TOTP0001
check "events --serial shows only that token" \
	test "$(grep -c HOTP-0002 "$OUT")" -eq 0 -a "$(grep -c TOTP0001 "$OUT")" -ge 8
expect_ok "events --user --json" tc events --user bob --json
check "events --json is valid JSON" valid_json "$OUT"
python3 - "$OUT" <<'EOF'
import json, sys
evs = json.load(open(sys.argv[1]))
assert evs and all(e["user"] == "bob" for e in evs), evs
assert any(e["action"] == "add" and e["serial"] == "HOTP-0002" for e in evs)
assert all(e["actor"].startswith("tokenctl:") and e["source"] == "cli"
           for e in evs), evs
EOF
check "events --json carries actor, action, serial, source" test $? -eq 0
expect_ok "events --verify" tc events --verify
check "events --verify counts the events" grep -Eq '[1-9][0-9]* events' "$OUT"

# ---- delete ----
expect_ok "delete" tc delete T3
expect_fail 1 "a deleted token is gone" "no token with serial 'T3'" \
	tc show T3
tc events --serial T3 >"$OUT"
check "the delete is in the event log" grep -Eq ' delete +T3 ' "$OUT"

# ---- bad input: one line, non-zero exit, nothing written ----
snapshot "$T/snap.before"
printf 'JBSWY3DP!HPK3PXP\n' | expect_fail 1 "bad Base32 names the position" \
	"'!'.*9|9.*'!'|position 9" \
	tc add --type totp --user alice --serial BAD1
printf 'abcdefzz\n' | expect_fail 1 "bad hex names the position" "7|'z'" \
	tc add --type totp --user alice --serial BAD2 --hex
printf 'abc\n' | expect_fail 1 "odd-length hex is refused" "odd|length|short" \
	tc add --type totp --user alice --serial BAD3 --hex
printf '%s\n' "$(rand_hex 65)" | expect_fail 1 "a secret over 64 bytes is refused" \
	"longer|too long|64" \
	tc add --type totp --user alice --serial BAD4 --hex
expect_fail 1 "an empty secret is refused" "no secret" \
	tc add --type totp --user alice --serial BAD5 </dev/null
printf '%s\n' "$B32_1" | expect_fail 2 "--digits 7 is refused" "digits.*6 or 8" \
	tc add --type totp --user alice --serial BAD6 --digits 7
printf '%s\n' "$B32_1" | expect_fail 2 "--period 45 is refused" "period" \
	tc add --type totp --user alice --serial BAD7 --period 45
printf '%s\n' "$B32_1" | expect_fail 2 "--period on HOTP is refused" "period" \
	tc add --type hotp --user alice --serial BAD8 --period 30
printf '%s\n' "$B32_1" | expect_fail 2 "--counter -1 is refused" "counter" \
	tc add --type hotp --user alice --serial BAD9 --counter -1
printf '%s\n' "$B32_1" | expect_fail 2 "--algorithm md5 is refused" "algorithm" \
	tc add --type totp --user alice --serial BAD10 --algorithm md5
printf '%s\n' "$B32_1" | expect_fail 2 "--type sms is refused" "type" \
	tc add --type sms --user alice --serial BAD11
printf '%s\n' "$B32_1" | expect_fail 2 "a missing --serial is refused" "required" \
	tc add --type totp --user alice
printf '%s\n' "$B32_1" | expect_fail 2 "a bad serial is refused" "invalid serial" \
	tc add --type totp --user alice --serial 'a/b'
printf '%s\n' "$B32_1" | expect_fail 2 "an unknown flag is refused" \
	"unknown option '--frobnicate'" \
	tc add --type totp --user alice --serial BAD12 --frobnicate
printf '%s\n' "$B32_1" | expect_fail 2 "a flag given twice is refused" "twice" \
	tc add --type totp --user alice --user bob --serial BAD13
printf '%s\n' "$B32_1" | expect_fail 1 "a duplicate serial is refused" \
	"TOTP0001" \
	tc add --type totp --user alice --serial TOTP0001
for cmd in show enable disable delete unlock; do
	expect_fail 1 "$cmd of an unknown serial" "no token with serial 'NOPE'" \
		tc $cmd NOPE
done
expect_fail 1 "bypass of an unknown serial" "no token with serial 'NOPE'" \
	tc bypass NOPE --forever
printf 'xK9#mQ2v\n' | expect_fail 1 "set-pin of an unknown serial" \
	"no token with serial 'NOPE'" tc set-pin NOPE
expect_fail 1 "resync of an unknown serial" "no token with serial 'NOPE'" \
	tc resync NOPE 123456 234567
expect_fail 2 "resync with a 5-digit code" "6 or 8 digits" \
	tc resync HOTP-0002 12345 234567
expect_fail 1 "resync with codes of the wrong length for the token" "8-digit" \
	tc resync HOTP-0002 123456 234567
expect_fail 2 "show without a serial" "missing" tc show
expect_fail 2 "show with two serials" "unexpected argument" tc show A B
expect_fail 2 "bypass without a mode" "exactly one" tc bypass TOTP0001
expect_fail 2 "bypass with two modes" "exactly one" \
	tc bypass TOTP0001 --forever --off
expect_fail 2 "bypass --until garbage" "ISO 8601" \
	tc bypass TOTP0001 --until tomorrow
expect_fail 2 "bypass --until 31 February" "ISO 8601" \
	tc bypass TOTP0001 --until 2099-02-31
expect_fail 1 "bypass --until the past" "not in the future" \
	tc bypass TOTP0001 --until 2001-01-01T00:00:00Z
printf '12\n' | expect_fail 1 "a short PIN is refused" "at least" \
	tc set-pin TOTP0001
expect_fail 1 "an empty PIN is refused" "at least|--clear" \
	tc set-pin TOTP0001 </dev/null
expect_fail 2 "events --verify with a filter" "whole chain" \
	tc events --verify --serial TOTP0001
expect_fail 2 "list takes no argument" "unexpected argument" tc list bob
expect_fail 2 "list --json=1 is refused" "takes no value" tc list --json=1
same_snapshot "bad input wrote nothing (tokens and events unchanged)" \
	"$T/snap.before"

# Writing to a full disk is an error, not a silent success.
if [ -w /dev/full ]; then
	"$TOKENCTL" -c "$CONF" list >/dev/full 2>"$ERR"
	check "output errors exit non-zero" test $? -ne 0
fi
