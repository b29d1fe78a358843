#!/usr/bin/env bash
# bundle_forward.sh — entries that reach a device other than through the relay
# still reach the relay (docs/design.md, "Sync"; docs/protocol.md, "Sync").
#
# 1. A field device with no link (Fay) hands her changes on a USB bundle to a
#    connected editor (Eve). Eve's next sync forwards them (the relay's hello
#    says what it holds; the relay verifies every signature of what it is sent),
#    and the owner, who never met Fay, gets her records.
# 2. The relay is restored from a backup taken before some syncs: the devices
#    that hold the lost entries push them again, their own and others' (Fay's,
#    which only Eve holds), and every replica ends the same.
# 3. Eve syncs live; a bundle from Fay applied to her store by another process
#    reaches the owner within seconds.
# 4. Rob, revoked, writes before he knows; his bundle reaches Eve before the
#    revocation does. The relay keeps his entry as evidence only when Eve
#    forwards it, her sync goes through, and once she has the revocation her
#    replica refuses the entry too: the same records everywhere, and the
#    record's history shows the entry as refused.
# 5. A new network's owner gets a member's work by bundle before its first
#    sync: that sync still goes through (its own first entries go first).
#
# Usage: bash tests/integration/bundle_forward.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

network_with ana eve fay rob # Fay and Rob never sync
sync_ok eve

# 1. Fay, offline, hands her work over on a bundle
c fay put site s1 name="Lincoln Elementary"
c fay put commitment c9 title="Reading nights" partner=lincoln
c fay bundle create "$T/fay.bdl" >/dev/null
c eve bundle apply "$T/fay.bdl" >/dev/null
sync_ok eve
sync_ok ana
c ana get site s1 | has "Lincoln Elementary" || fail "the owner lacks Fay's site"
c ana get commitment c9 | has "Reading nights" || fail "the owner lacks Fay's commitment"
grep -q "pushed 2," "$T/sync.out" && fail "ana pushed Fay's entries: only Eve had them"
ok "a bundle's entries reach the relay through the device that received them"

# 2. the relay restored from an old backup
stop_relay
cp -a "$T/relay" "$T/relay.backup"
start_relay "$PORT"
c ana put note n1 text="after the backup"
c eve put note n2 text="also after the backup"
c fay put note f2 text="Fay's, after the backup"
c fay bundle create "$T/fay2.bdl" >/dev/null
c eve bundle apply "$T/fay2.bdl" >/dev/null
sync_ok ana
sync_ok eve
sync_ok ana
stop_relay
rm -rf "$T/relay"
mv "$T/relay.backup" "$T/relay"
start_relay "$PORT"
sync_ok ana
sync_ok eve
c eve put note n3 text="after the restore"
sync_ok eve
sync_ok ana
for who in ana eve; do
  c "$who" list note --json >"$T/$who.notes"
  c "$who" heads --json >"$T/$who.heads"
done
same "notes" "$(cat "$T/ana.notes")" "$(cat "$T/eve.notes")"
same "heads" "$(cat "$T/ana.heads")" "$(cat "$T/eve.heads")"
grep -q "after the backup" "$T/ana.notes" || fail "lost a note written after the backup"
grep -q "also after the backup" "$T/ana.notes" || fail "lost Eve's note written after the backup"
grep -q "after the restore" "$T/ana.notes" || fail "lost the note written after the restore"
grep -q "Fay's, after the backup" "$T/ana.notes" || fail "lost Fay's note, which only Eve could push again"
ok "a relay restored from a backup gets the lost entries back from the devices"

# 3. a live device forwards a bundle applied to its store by another process
"$CAIRN" --store "$T/eve" sync --live >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
BG+=("$LIVE")
for _ in $(seq 1 100); do grep -q "connected to" "$T/live.err" && break; sleep 0.1; done
c fay put note f3 text="Fay's, through a live device"
c fay bundle create "$T/fay3.bdl" >/dev/null
c eve bundle apply "$T/fay3.bdl" >/dev/null
got=""
for _ in $(seq 1 40); do
  sync_ok ana
  if c ana get note f3 >/dev/null 2>&1; then got=1; break; fi
  sleep 0.25
done
[ -n "$got" ] || fail "a live device did not forward the bundle applied to its store"
stop_live "$LIVE"
ok "a live device forwards entries a bundle brought while it runs"

# 4. an entry of a member written after the revocation, that reached Eve by
#    bundle before she knew of it: her sync goes through, the relay keeps the
#    entry as evidence only, and once Eve has the revocation her replica refuses
#    it too; every replica shows the same records and the entry's history says
#    it was refused
c ana revoke "$(c rob id)"
sync_ok ana
c rob put note r9 text="written after the revocation, not knowing"
c rob bundle create "$T/rob.bdl" >/dev/null
c eve bundle apply "$T/rob.bdl" >/dev/null
c eve get note r9 >/dev/null || fail "eve did not apply Rob's bundle"
c eve put note e9 text="Eve's own work"
sync_ok eve
sync_ok eve
sync_ok ana
c ana get note e9 >/dev/null || fail "ana lacks Eve's own note"
for who in ana eve; do
  if c $who get note r9 >/dev/null 2>&1; then fail "$who shows the revoked member's note"; fi
  c $who history note r9 | has "refused: " || fail "$who: history of r9: $(c $who history note r9)"
done
same "notes" "$(c ana list note --json)" "$(c eve list note --json)"
same "history of r9" "$(c ana history note r9 --json)" "$(c eve history note r9 --json)"
ok "an entry written after a revocation that a device forwarded before it knew is refused everywhere"

# 5. a new network whose owner has not synced yet: a member's work reaches the
#    owner by bundle first, and the owner's first sync must still go through
#    (the network's first entry before the member's, whose grant it holds)
c owl init --name Owl >/dev/null
c moe init --name Moe >/dev/null
NET2=$(c owl network create "A second network" --schema none)
"$CAIRND" host "$T/relay" "$NET2" 2>/dev/null
c owl grant "$(c moe id)" --role editor --name Moe
c owl bundle create "$T/owl.bdl" >/dev/null
c moe bundle apply "$T/owl.bdl" >/dev/null
c moe put note m1 text="Moe's, offline"
c moe bundle create "$T/moe.bdl" >/dev/null
c owl bundle apply "$T/moe.bdl" >/dev/null
c owl remote "127.0.0.1:$PORT" --key "$RK"
c owl sync --timeout 30 >"$T/owl.out" 2>"$T/owl.err" ||
  fail "the owner's first sync, holding a member's bundle, failed: $(cat "$T/owl.err")"
c moe remote "127.0.0.1:$PORT" --key "$RK"
sync_ok moe
c moe sync --timeout 30 >/dev/null 2>&1 || true
same "second network's notes" "$(c owl list note --json)" "$(c moe list note --json)"
ok "an owner's first sync goes through when a member's bundle reached it first"

stop_relay
echo "$n passed, 0 failed"
