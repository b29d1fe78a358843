# rekey.sh — a store copied to a second machine, both copies writing
# (docs/design.md, "Restored devices, copied stores and wrong clocks").
#
# 1. Bob's store is copied to a second laptop and both write. The copy's sync
#    signs its change again on top of the relay's history of the key and says to
#    run `cairn rekey` if the store was copied. On the copy, `cairn rekey` makes a
#    new key and says which `cairn grant` an admin must run; the copy goes on
#    working with the old key meanwhile; once Ana has granted the key, the copy's
#    next sync switches to it. Both laptops then write, each with its own key,
#    and nothing is lost.
# 2. Ana (the owner) copies her store; the copy rekeys: it grants its new key
#    itself (the same name and role), and its next sync delivers the grant and
#    its change, then switches to the new key.
# 3. A copy that only ever syncs live switches to its new key as well, once the
#    grant reaches it.
#
# Usage: bash tests/integration/rekey.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

network_with ana bob
sync_ok bob
OLD=$(c bob id)

step "1. an editor's store copied to a second laptop"
cp -a "$T/bob" "$T/bob2"
c bob put note b1 text="on the first laptop"
sync_ok bob
c bob2 put note c1 text="on the copy"
sync_ok bob2
has "cairn rekey" <"$T/sync.err" || fail "the copy's sync did not name cairn rekey: $(cat "$T/sync.err")"
NEW=$(c bob2 rekey 2>"$T/err") || fail "rekey failed: $(cat "$T/err")"
[[ $NEW =~ ^[0-9a-f]{64}$ ]] && [ "$NEW" != "$OLD" ] || fail "rekey printed '$NEW'"
has "cairn grant $NEW --role editor --name \"bob\"" <"$T/err" ||
  fail "rekey did not say what to grant: $(cat "$T/err")"
c bob2 rekey >/dev/null 2>"$T/err" && fail "a second rekey while one waits succeeded"
[ "$(c bob2 id)" = "$OLD" ] || fail "the copy switched before its key was granted"
c bob2 status | has "^rekey	awaiting-grant	$NEW$" || fail "status: $(c bob2 status)"
c bob2 put note c2 text="on the copy, before its new key is granted"
sync_ok bob2
c ana grant "$NEW" --role editor --name bob
sync_ok ana
sync_ok bob2
has "now signs with its new key $NEW" <"$T/sync.err" || fail "no word of the switch: $(cat "$T/sync.err")"
[ "$(c bob2 id)" = "$NEW" ] || fail "the copy does not sign with its new key"
if c bob2 status | has "^rekey"; then fail "the move is still pending: $(c bob2 status)"; fi
c bob2 put note c3 text="on the copy, with its own key"
sync_ok bob2
sync_ok bob # what the copy wrote with the shared key before it switched
c bob put note b2 text="the first laptop goes on"
sync_ok bob
has "signed again" <"$T/sync.err" && fail "bob's sync repaired a fork again: $(cat "$T/sync.err")"
sync_ok ana
for id in b1 c1 c2 c3 b2; do c ana get note $id >/dev/null || fail "ana lacks note $id"; done
c ana history note c3 | has "	$NEW	bob	" || fail "c3 is not signed with the new key: $(c ana history note c3)"
c ana history note b2 | has "	$OLD	bob	" || fail "b2 is not signed with the old key"
ok "a copied store moves to a key of its own once an admin grants it, and loses nothing"

step "2. the owner's store copied: the copy grants its new key itself"
cp -a "$T/ana" "$T/ana2"
c ana2 put note a1 text="on the owner's copy"
NEW2=$(c ana2 rekey 2>"$T/err") || fail "rekey failed: $(cat "$T/err")"
c ana2 status | has "^rekey	granted	$NEW2$" || fail "status: $(c ana2 status)"
[ "$(c ana2 id)" != "$NEW2" ] || fail "the copy switched before the relay had the grant"
sync_ok ana2
[ "$(c ana2 id)" = "$NEW2" ] || fail "the copy did not switch to its new key after the sync"
if c ana2 status | has "^rekey"; then fail "the move is still pending: $(c ana2 status)"; fi
c ana2 members | has "^$NEW2	ana	owner		key [12] of 2$" || fail "the new key is not an owner: $(c ana2 members)"
c ana2 put note a3 text="the copy, with its own key"
sync_ok ana2
c ana put note a2 text="the original goes on"
sync_ok ana
sync_ok bob
for id in a1 a2 a3; do c bob get note $id >/dev/null || fail "bob lacks note $id"; done
c bob history note a3 | has "	$NEW2	ana	" || fail "a3 is not signed with the new key"
ok "an owner's copy grants its new key itself and switches after the next sync"

step "3. a copy that only syncs live switches to its new key too"
cp -a "$T/bob" "$T/bob3"
NEW3=$(c bob3 rekey 2>/dev/null) || fail "rekey on the third copy failed"
c ana grant "$NEW3" --role editor --name bob
sync_ok ana
"$CAIRN" --store "$T/bob3" sync --live >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
BG+=("$LIVE")
for _ in $(seq 1 100); do [ "$(c bob3 id)" = "$NEW3" ] && break; sleep 0.1; done
[ "$(c bob3 id)" = "$NEW3" ] || fail "the live copy did not switch: $(cat "$T/live.err")"
c bob3 put note l1 text="written while syncing live, with the new key"
for _ in $(seq 1 100); do sync_ok ana; c ana get note l1 >/dev/null 2>&1 && break; sleep 0.2; done
c ana history note l1 | has "	$NEW3	bob	" || fail "the live copy's note is not signed with its new key"
stop_live "$LIVE"
ok "a copy syncing live switches to its new key once granted"

stop_relay
echo "$n passed, 0 failed"
