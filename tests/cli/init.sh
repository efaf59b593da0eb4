#!/bin/bash
# tokenctl init / upgrade, usage, and the ways a store cannot be opened:
# missing config key, unreadable or wrong key file, a database not ours.
. "$(dirname "$0")/lib.sh"

# ---- usage ----
expect_rc 0 "tokenctl --help exits 0" "$TOKENCTL" --help
check "--help lists every command" \
	grep -q "resync" "$OUT"
expect_rc 2 "no command: exit 2" "$TOKENCTL"
check "no command: usage on stderr" grep -q "^usage: tokenctl" "$ERR"
expect_fail 2 "unknown command: exit 2" "unknown command 'frobnicate'" \
	"$TOKENCTL" -c /nonexistent frobnicate
expect_fail 2 "unknown global option: exit 2" "unknown option '--bogus'" \
	"$TOKENCTL" --bogus list
expect_rc 0 "a command's --help exits 0" "$TOKENCTL" add --help
check "add --help shows its options" grep -q -- "--algorithm" "$OUT"
expect_rc 0 "otpcheck --help exits 0" "$OTPCHECK" --help

# ---- init ----
new_store s1 || exit 1
check "init creates the master key" test -f "$KEY"
check "the master key is mode 0600" \
	test "$(stat -c %a "$KEY")" = 600
check "the master key is 32 bytes" test "$(stat -c %s "$KEY")" -eq 32
check "init creates the store" test -s "$DB"
sum1=$(sha256sum "$KEY")
expect_fail 1 "init refuses to overwrite an existing key" "exist" \
	tc init
check "the key is unchanged after a refused init" \
	test "$(sha256sum "$KEY")" = "$sum1"
expect_ok "the new store lists (empty)" tc list
check "an empty store says so" grep -q "no tokens" "$OUT"
expect_ok "list --json on an empty store" tc list --json
check "empty list --json is []" test "$(tr -d ' \n' <"$OUT")" = "[]"
expect_ok "events --verify on a fresh store" tc events --verify
expect_ok "upgrade on a current store does nothing" tc upgrade
check "upgrade says nothing to do" grep -qi "nothing to do" "$OUT"

# A store whose key is gone must not be re-keyed by init: refuse an existing
# store even without its key.
mv "$KEY" "$KEY.bak"
expect_fail 1 "init refuses an existing store" "exist" tc init
check "the refused init left no new key behind" test ! -e "$KEY"
mv "$KEY.bak" "$KEY"

# ---- config problems ----
expect_fail 1 "a missing config file is named" "nope\\.hdf" \
	"$TOKENCTL" -c "$T/nope.hdf" list
d=$T/nokey; mkdir -p "$d"
printf 'store.driver = sqlite\nstore.path = tokens.db\n' >"$d/c.hdf"
expect_fail 1 "missing keys.master_file is named" "keys\\.master_file" \
	"$TOKENCTL" -c "$d/c.hdf" init
check "init without a key setting created no store" test ! -e "$d/tokens.db"
printf 'store.driver = sqlite\nkeys.master_file = k\n' >"$d/c2.hdf"
expect_fail 1 "init names a missing store.path" "store\\.path" \
	"$TOKENCTL" -c "$d/c2.hdf" init
check "init without store.path left no key behind" test ! -e "$d/k"
cp "$KEY" "$d/k"
expect_fail 1 "missing store.path is named" "store\\.path" \
	"$TOKENCTL" -c "$d/c2.hdf" list

# ---- key file problems ----
chmod 0644 "$KEY"
expect_fail 1 "a group/world-readable key is refused" "master\\.key|key" \
	tc list
chmod 0600 "$KEY"
cp "$KEY" "$T/key.save"
head -c 16 "$T/key.save" >"$KEY"
expect_fail 1 "a key of the wrong size is refused" "key" tc list
cp "$T/key.save" "$KEY"
chmod 0600 "$KEY"
mv "$KEY" "$T/key.moved"
expect_fail 1 "a missing key file is named" "master\\.key" tc list
mv "$T/key.moved" "$KEY"
expect_ok "the store opens again with its key back" tc list
# Another 32-byte key (a wrong path, a mixed-up backup) must not seal new
# secrets or chain events the real key cannot verify.
head -c 32 /dev/urandom >"$KEY"
chmod 0600 "$KEY"
sum_db=$(sha256sum "$DB")
printf 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n' | expect_fail 1 \
	"add under another key file is refused" "does not match this store" \
	tc add --type totp --user a --serial WK1
echo 123456 | expect_fail 2 "otpcheck under another key file is an error" \
	"does not match this store" oc alice
check "nothing was written under the other key" \
	test "$(sha256sum "$DB")" = "$sum_db"
cp "$T/key.save" "$KEY"
chmod 0600 "$KEY"
expect_ok "the chain still verifies with the right key" tc events --verify

# ---- a database that is not ours ----
new_store s2 || exit 1
rm -f "$DB" "$DB-wal" "$DB-shm"
sqlite3 "$DB" 'CREATE TABLE customers(id INTEGER, name TEXT);
	INSERT INTO customers VALUES (1, "x");'
sum_db=$(sha256sum "$DB")
expect_fail 1 "a foreign SQLite database is refused" "not .*tokenportal|not ours" \
	tc list
printf 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n' | expect_fail 1 "add into a foreign database is refused" \
	"not .*tokenportal|not ours" \
	tc add --type totp --user a --serial X1
check "the foreign database was not modified" \
	test "$(sha256sum "$DB")" = "$sum_db"
check "the foreign database got no tables of ours" \
	test "$(sqlite3 "$DB" 'SELECT count(*) FROM sqlite_master')" = 1
rm -f "$DB"
echo "this is a text file, not a database" >"$DB"
expect_fail 1 "a text file as store is refused" "databas|not .*tokenportal|store" \
	tc list
rm -f "$DB"
expect_fail 1 "a missing store file says so" "tokens\\.db|init" tc list
check "opening a missing store did not create it" test ! -e "$DB"
