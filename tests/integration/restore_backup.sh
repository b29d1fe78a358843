#!/usr/bin/env bash
# restore_backup.sh — a device's store restored from a backup (docs/design.md,
# "Sync"). Never a silent success, never stuck:
#
# 1. Restored from a backup older than the relay's copy of its log, and nothing
#    written since: the next sync pulls the device's own entries back (the relay
#    sends them when asked by heads), and the device goes on writing.
# 2. Restored, then a new change written at a seq the relay already holds with
#    another entry (the relay's hello carries its head's hash): the store takes
#    back what the relay never acknowledged to it, pulls the relay's history, and
#    signs the change again on top; both edits end everywhere, and the user is
#    told in one line.
# 3. The change written on the restored copy is carried by bundle to Ana, who
#    holds the relay's entry at that seq: her apply sets the forked entry aside,
#    applies the rest and says so, and the change reaches her with Bob's repair.
# 4. The same, to Eve, who held nothing of Bob's newer log: she applies the
#    bundle, and her next sync, seeing that her copy of Bob's log parts from the
#    relay's, drops it for the relay's (kept in forked.entries) and says so.
#
# Usage: bash tests/integration/restore_backup.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

# restored_after ID TEXT: Bob's store is backed up, he writes note ID (TEXT) and
# syncs it, and his disk is then replaced by the backup
restored_after() {
  local bak="$T/bob.backup.$1"
  cp -a "$T/bob" "$bak"
  c bob put note "$1" text="$2"
  sync_ok bob
  rm -rf "$T/bob"
  cp -a "$bak" "$T/bob"
}

network_with ana bob
sync_ok bob

step "1. restored from an older backup, nothing written since"
c bob put note b0 text="before the backup"
sync_ok bob
cp -a "$T/bob" "$T/bob.backup"
c bob put note b1 text="after the backup"
c bob put note b2 text="also after the backup"
sync_ok bob
rm -rf "$T/bob"
cp -a "$T/bob.backup" "$T/bob"
sync_ok bob
c bob get note b1 | has "after the backup" || fail "bob did not get his own note back"
c bob put note b3 text="after the restore"
sync_ok bob
sync_ok ana
c ana get note b3 | has "after the restore" || fail "ana lacks the note written after the restore"
same "heads" "$(c ana heads --json)" "$(c bob heads --json)"
echo "ok   a store behind its own log at the relay pulls it back and goes on"

step "2. restored, then written: the fork is repaired, nothing lost"
restored_after c1 "written before the second restore"
c bob put note c1x text="written on the restored copy"
c bob sync --timeout 30 >"$T/out" 2>"$T/err" || fail "the forked store's sync failed: $(cat "$T/err")"
grep -q "1 change made on this device was signed again on top of the relay's copy of its log" \
  "$T/err" || fail "bob was not told: $(cat "$T/err")"
sync_ok ana
c ana get note c1 | has "written before the second restore" || fail "ana lost c1"
c ana get note c1x | has "written on the restored copy" || fail "ana lacks c1x"
c bob get note c1 | has "written before the second restore" || fail "bob did not pull c1"
same "heads" "$(c ana heads --json)" "$(c bob heads --json)"
same "notes" "$(c ana list note --json)" "$(c bob list note --json)"
echo "ok   a forked store takes back what the relay never acknowledged, pulls the relay's, signs it again"

step "3. restored and written, its change carried to Ana on a bundle before its repair"
restored_after d1 "written before the third restore"
sync_ok ana
c bob put note d1x text="written on the copy, carried by hand"
c bob bundle create "$T/bob.bdl" >/dev/null
c ana bundle apply "$T/bob.bdl" >/dev/null 2>"$T/err" || fail "ana's apply failed: $(cat "$T/err")"
has "1 entry of another device was set aside" <"$T/err" || fail "ana was told: $(cat "$T/err")"
[ -s "$T/ana/forked.entries" ] || fail "ana did not keep the forked entry"
if c ana get note d1x >/dev/null 2>&1; then fail "ana applied the forked entry"; fi
sync_ok bob
sync_ok ana
c ana get note d1x | has "carried by hand" || fail "ana lacks d1x after bob's repair"
same "notes" "$(c ana list note --json)" "$(c bob list note --json)"
echo "ok   a bundle's copy of a log that forks from the relay's is set aside, and its change arrives with the repair"

step "4. restored and written, its change carried to Eve, who had never seen the rest"
c eve init --name eve >/dev/null
c ana grant "$(c eve id)" --role editor --name eve
sync_ok ana
c eve bundle apply "$T/start.bdl" >/dev/null
c eve remote "127.0.0.1:$PORT" --key "$RK"
restored_after e1 "written before the fourth restore"
c bob put note e1x text="on the restored copy, carried to eve"
c eve heads --json >"$T/eve.heads"
c bob bundle create "$T/bob4.bdl" --since "$T/eve.heads" >/dev/null
c eve bundle apply "$T/bob4.bdl" >/dev/null
c eve get note e1x | has "carried to eve" || fail "eve did not apply bob's bundle"
sync_ok bob
sync_ok eve
has "replaced by the relay's" <"$T/sync.err" || fail "eve was not told: $(cat "$T/sync.err")"
[ -s "$T/eve/forked.entries" ] || fail "eve did not keep the dropped copy"
sync_ok ana
sync_ok eve
c eve get note e1x | has "carried to eve" || fail "eve lost e1x: bob's repair should bring it back"
same "notes" "$(c ana list note --json)" "$(c eve list note --json)"
same "heads" "$(c ana heads --json)" "$(c eve heads --json)"
echo "ok   a device holding a forked copy of another's log drops it for the relay's, and keeps it aside"

stop_relay
echo "4 passed, 0 failed"
