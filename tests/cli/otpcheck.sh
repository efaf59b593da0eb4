#!/bin/bash
# otpcheck against codes from oathtool: README's "done when" flow, replay,
# PIN before/after, lock and unlock, bypass, HOTP resync, a tampered secret,
# and no secret or PIN anywhere in the database files.
. "$(dirname "$0")/lib.sh"

new_store s \
	"check.max_fail = 3" \
	"resources.vpn.pin_mode = token" \
	"resources.vpn.pin_position = before" \
	"resources.vpnafter.pin_mode = token" \
	"resources.vpnafter.pin_position = after" \
	"resources.plain.pin_mode = none" || exit 1

SECRETS=""			# every hex secret used, for the leak check
PIN='xK9#mQ2v'

add_token() {			# type user serial hex [add options...]
	local type=$1 user=$2 serial=$3 hex=$4; shift 4
	SECRETS="$SECRETS $hex"
	printf '%s\n' "$hex" | tc add --type "$type" --user "$user" \
		--serial "$serial" --hex "$@" >"$OUT" 2>"$ERR" ||
		not_ok "add $serial"
}

# ---- usage and errors: exit 2, one line ----
echo 123456 | expect_fail 2 "otpcheck without USER" "USER" oc
echo 123456 | expect_fail 2 "otpcheck with an unknown option" \
	"unknown option '--bogus'" oc --bogus alice
echo 123456 | expect_fail 2 "otpcheck with two users" "unexpected argument" \
	oc alice bob
echo 123456 | expect_fail 2 "otpcheck with a missing config names it" \
	"nope\\.hdf" "$OTPCHECK" -c "$T/nope.hdf" alice
head -c 400 /dev/zero | tr '\0' 1 | expect_fail 2 "an over-long passcode" \
	"longer than" oc alice

# ---- README's done-when flow ----
HEX=$(rand_hex 20)
B32=$(hex_to_b32 "$HEX")
SECRETS="$SECRETS $HEX"
printf '%s\n' "$B32" | expect_ok "add alice's TOTP token from Base32" \
	tc add --type totp --user alice --serial ALICE1
wait_step 30
oathtool --totp -b "$B32" | expect_rc 0 "oathtool --totp | otpcheck alice accepts" \
	oc alice
check "an accept prints nothing" test ! -s "$OUT" -a ! -s "$ERR"
oathtool --totp -b "$B32" | expect_rc 1 "the same code again is rejected (replay)" \
	oc alice
code=$(oathtool --totp -b "$B32")
tc events --json >"$OUT"
refute "the event log never holds a code" grep -qF -- "$code" "$OUT"
tc events --serial ALICE1 >"$OUT"
check "the accept is in the event log with source otpcheck" \
	grep -Eq " check .*alice.*otpcheck +accept" "$OUT"
echo 000000 | expect_rc 1 "a wrong code is rejected" oc alice
echo | expect_rc 1 "an empty passcode is rejected" oc alice
oathtool --totp -b "$B32" | expect_rc 1 "an unknown user is rejected" oc nobody
check "an unknown user's reject says nothing" test ! -s "$ERR" -a ! -s "$OUT"

# ---- disabled tokens never accept ----
HEXB=$(rand_hex 20)
add_token hotp bob BOB1 "$HEXB"
tc disable BOB1 >/dev/null
hotp "$HEXB" 0 | expect_rc 1 "a disabled token rejects a right code" oc bob
tc enable BOB1 >/dev/null
hotp "$HEXB" 0 | expect_rc 0 "enabled again, it accepts" oc bob
hotp "$HEXB" 0 | expect_rc 1 "an HOTP code is accepted once" oc bob
hotp "$HEXB" 3 | expect_rc 0 "HOTP look-ahead accepts counter 3" oc bob
hotp "$HEXB" 2 | expect_rc 1 "a counter behind the last one is rejected" oc bob
HEX8=$(rand_hex 32)
add_token hotp bob8 BOB8 "$HEX8" --digits 8 --algorithm sha256
python3 - "$HEX8" >"$T/code8" <<'EOF'
import hmac, hashlib, struct, sys
key = bytes.fromhex(sys.argv[1])
h = hmac.new(key, struct.pack(">Q", 0), hashlib.sha256).digest()
o = h[-1] & 15
print("%08d" % ((struct.unpack(">I", h[o:o + 4])[0] & 0x7fffffff) % 10**8))
EOF
expect_rc 0 "an 8-digit SHA-256 HOTP code (RFC 4226 computed in python)" \
	oc bob8 <"$T/code8"

# ---- PIN before / after ----
HEXD=$(rand_hex 20)
add_token hotp dave DAVE1 "$HEXD"
printf '%s\n' "$PIN" | tc set-pin DAVE1 >/dev/null 2>&1
c=0
printf '%s%s\n' "$PIN" "$(hotp "$HEXD" $c)" | \
	expect_rc 0 "PIN before the code (resource vpn)" oc --resource vpn dave
c=$((c + 1))
hotp "$HEXD" $c | expect_rc 1 "the code without its PIN is rejected" \
	oc --resource vpn dave
c=$((c + 1))
printf '%s%s\n' "$PIN" "$(hotp "$HEXD" $c)" | \
	expect_rc 0 "PIN before the code again" oc --resource vpn dave
c=$((c + 1))
printf 'wrongpin%s\n' "$(hotp "$HEXD" $c)" | \
	expect_rc 1 "a wrong PIN is rejected" oc --resource vpn dave
c=$((c + 1))
printf '%s%s\n' "$(hotp "$HEXD" $c)" "$PIN" | \
	expect_rc 0 "PIN after the code (resource vpnafter)" \
	oc --resource=vpnafter dave
c=$((c + 1))
printf '%s%s\n' "$PIN" "$(hotp "$HEXD" $c)" | \
	expect_rc 1 "PIN before is rejected where it goes after" \
	oc --resource vpnafter dave
c=$((c + 1))
hotp "$HEXD" $c | expect_rc 0 "pin_mode none: the code alone" \
	oc --resource plain dave

# ---- lock after max_fail, unlock ----
HEXE=$(rand_hex 20)
add_token hotp erin ERIN1 "$HEXE"
bad=$(wrong_hotp "$HEXE" 30)
for i in 1 2 3; do echo "$bad" | oc erin >/dev/null 2>&1; done
tc show ERIN1 --json >"$OUT"
check "three failures lock the token (check.max_fail = 3)" \
	test "$(json_field "$OUT" status)" = locked
hotp "$HEXE" 0 | expect_rc 1 "a locked token rejects the right code" oc erin
expect_ok "tokenctl unlock" tc unlock ERIN1
tc show ERIN1 --json >"$OUT"
check "unlocked: active, no failures" \
	test "$(json_field "$OUT" status)/$(json_field "$OUT" fail_count)" = active/0
hotp "$HEXE" 1 | expect_rc 0 "after unlock the right code is accepted" oc erin

# ---- bypass ----
HEXF=$(rand_hex 20)
add_token hotp frank FRANK1 "$HEXF"
badf=$(wrong_hotp "$HEXF" 30)
echo "$badf" | expect_rc 1 "without bypass a wrong code is rejected" oc frank
echo | expect_rc 1 "without bypass an empty passcode is rejected" oc frank
tc bypass FRANK1 --forever >/dev/null
# Under bypass the passcode is the PIN part alone: nothing for a token
# without a PIN (DESIGN.md 5.5).
echo | expect_rc 0 "with bypass the check accepts without a code" oc frank
tc show FRANK1 --json >"$OUT"
check "a bypass accept is recorded as a use" \
	test "$(json_field "$OUT" last_used)" != None
tc bypass FRANK1 --off >/dev/null
echo | expect_rc 1 "bypass off: rejected again" oc frank

# ---- HOTP resync ----
HEXG=$(rand_hex 20)
add_token hotp gina GINA1 "$HEXG"
hotp "$HEXG" 40 | expect_rc 1 "a code far past the look-ahead window is rejected" \
	oc gina
expect_fail 1 "resync with codes that are not consecutive" "resync|consecutive|found" \
	tc resync GINA1 "$(hotp "$HEXG" 40)" "$(hotp "$HEXG" 42)"
expect_ok "resync with two consecutive codes (40, 41)" \
	tc resync GINA1 "$(hotp "$HEXG" 40)" "$(hotp "$HEXG" 41)"
hotp "$HEXG" 41 | expect_rc 1 "the resync codes are used up" oc gina
hotp "$HEXG" 42 | expect_rc 0 "the next code after resync is accepted" oc gina

# ---- a tampered secret: an error (exit 2), not a reject ----
HEXH=$(rand_hex 20)
add_token hotp hank HANK1 "$HEXH"
python3 - "$DB" HANK1 <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
cols = [r[1] for r in db.execute("PRAGMA table_info(tokens)")]
col = next(c for c in cols if "seal" in c or "secret" in c)
blob = bytearray(db.execute("SELECT %s FROM tokens WHERE serial = ?" % col,
                            (sys.argv[2],)).fetchone()[0])
blob[len(blob) // 2] ^= 0x01
db.execute("UPDATE tokens SET %s = ? WHERE serial = ?" % col,
           (bytes(blob), sys.argv[2]))
db.commit()
EOF
hotp "$HEXH" 0 | expect_fail 2 "a tampered secret: otpcheck exits 2 and says why" \
	"tamper|integrity" oc hank

# ---- nothing secret in the database files ----
SECRETS="$SECRETS $HEXH"
files="$DB"
for f in "$DB-wal" "$DB-shm"; do [ -e "$f" ] && files="$files $f"; done
leaks=0
for hex in $SECRETS; do
	b32=$(hex_to_b32 "$hex")
	for form in "$hex" "$(echo "$hex" | tr a-f A-F)" "$b32" \
	    "$(echo "$b32" | tr A-Z a-z)"; do
		for f in $files; do
			n=$(grep -c -a -F -- "$form" "$f")
			[ "$n" -eq 0 ] || { leaks=$((leaks + 1)); echo "# $form in $f"; }
		done
	done
done
check "no secret in Base32 or hex (either case) in the DB, WAL or SHM" \
	test "$leaks" -eq 0
for f in $files; do
	n=$(grep -c -a -F -- "$PIN" "$f")
	[ "$n" -eq 0 ] || { leaks=$((leaks + 1)); echo "# PIN in $f"; }
done
check "the PIN is not in the DB, WAL or SHM" test "$leaks" -eq 0
python3 - $files -- $SECRETS <<'EOF'
import sys
args = sys.argv[1:]
files, secrets = args[:args.index("--")], args[args.index("--") + 1:]
found = [(f, s) for f in files for s in secrets
         if bytes.fromhex(s) in open(f, "rb").read()]
for f, s in found:
    print("# raw secret %s in %s" % (s, f))
sys.exit(1 if found else 0)
EOF
check "no raw secret bytes in the DB, WAL or SHM" test $? -eq 0
tc events --json >"$OUT"
refute "the event log holds no PIN" grep -qF -- "$PIN" "$OUT"
expect_ok "the event chain is intact after all of this" tc events --verify
