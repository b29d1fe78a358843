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
#
# Usage: bash tests/integration/restore_backup.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

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
cp -a "$T/bob" "$T/bob.backup2"
c bob put note c1 text="written before the second restore"
sync_ok bob
rm -rf "$T/bob"
cp -a "$T/bob.backup2" "$T/bob"
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

stop_relay
echo "2 passed, 0 failed"
