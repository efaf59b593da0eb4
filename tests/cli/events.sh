#!/bin/bash
# The hash-chained event log: `tokenctl events --verify` must find an edited
# row, a deleted row and a forged last row, each edited behind our back with
# the sqlite3 command-line tool, and name the first bad event.
. "$(dirname "$0")/lib.sh"

# A store with a few events: init, three adds, a disable, an enable.
fill() {
	local i
	for i in 1 2 3; do
		printf '%s\n' "$(rand_hex 20)" | tc add --type hotp --user "u$i" \
			--serial "EV$i" --hex >/dev/null 2>&1 || not_ok "add EV$i"
	done
	tc disable EV2 >/dev/null && tc enable EV2 >/dev/null
}

count_events() {
	tc events --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# The id of the n-th event (1-based) as the store numbers it.
event_id() {		# n
	tc events --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[int(sys.argv[1]) - 1]["id"])' "$1"
}

new_store edited || exit 1
fill
n=$(count_events)
check "the log has an event per change (at least 6)" test "$n" -ge 6
expect_ok "an untouched chain verifies" tc events --verify
check "verify reports every event" grep -q "$n events" "$OUT"
expect_ok "verify --json" tc events --verify --json
check "verify --json says verified" \
	test "$(json_field "$OUT" verified)/$(json_field "$OUT" count)" = "True/$n"

id=$(event_id 3)
sqlite3 "$DB" "UPDATE events SET reason = 'nothing happened' WHERE id = $id"
expect_fail 1 "an edited reason is detected at its event" \
	"broken at event $id\\b" tc events --verify
"$TOKENCTL" -c "$CONF" events --verify --json >"$OUT" 2>/dev/null
check "verify --json names the bad event" \
	test "$(json_field "$OUT" verified)/$(json_field "$OUT" bad_id)" = "False/$id"

new_store actor || exit 1
fill
id=$(event_id 4)
sqlite3 "$DB" "UPDATE events SET actor = 'tokenctl:someone-else' WHERE id = $id"
expect_fail 1 "an edited actor is detected" "broken at event $id\\b" \
	tc events --verify

new_store deleted || exit 1
fill
id=$(event_id 3)
next=$(event_id 4)
sqlite3 "$DB" "DELETE FROM events WHERE id = $id"
expect_fail 1 "a deleted event is detected at the event after it" \
	"broken at event $next\\b" tc events --verify

new_store last || exit 1
fill
# Deleting the newest rows leaves a valid prefix a keyless attacker could
# present; a MAC forged without the key over a new last row must fail.
n=$(count_events)
id=$(event_id "$n")
sqlite3 "$DB" "UPDATE events SET result = 'ok', serial = 'EV9' WHERE id = $id"
expect_fail 1 "an edited last event is detected" "broken at event $id\\b" \
	tc events --verify

new_store time || exit 1
fill
id=$(event_id 2)
sqlite3 "$DB" "UPDATE events SET time = time - 3600 WHERE id = $id"
expect_fail 1 "an edited time is detected" "broken at event $id\\b" \
	tc events --verify

new_store truncated || exit 1
fill
# The limit of a chain: cutting the newest rows leaves a chain that
# verifies.  The head printed earlier, passed back as --anchor, shows it.
"$TOKENCTL" -c "$CONF" events --verify --json >"$OUT" 2>/dev/null
head=$(json_field "$OUT" head)
check "verify --json reports the head as ID:MAC" \
	grep -Eq '^[0-9]+:[0-9a-f]{64}$' <<<"$head"
tc disable EV1 >/dev/null
expect_ok "a later chain still holds the anchor" \
	tc events --verify --anchor "$head"
hid=${head%%:*}
sqlite3 "$DB" "DELETE FROM events WHERE id >= $((hid - 1))"
expect_ok "a cut chain verifies on its own (the limit)" tc events --verify
expect_fail 1 "a cut chain fails against the recorded head" \
	"event $hid, recorded as the head earlier, is missing" \
	tc events --verify --anchor "$head"
expect_fail 2 "--anchor needs --verify" "anchor" tc events --anchor "$head"
expect_fail 2 "a malformed anchor is refused" "anchor" \
	tc events --verify --anchor "$hid:abcd"
