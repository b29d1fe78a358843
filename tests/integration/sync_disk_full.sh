#!/usr/bin/env bash
# sync_disk_full.sh — a device whose disk is full syncs (docs/cli.md, "Sync with a
# relay"): pushing its own work needs no disk, so it is pushed and stored at the
# relay; only the pull fails, and the sync says so (exit 1) and what to do. With
# room again, the next sync pulls the rest.
#
# The full disk is a file-size limit on the syncing process (`ulimit -f`, SIGXFSZ
# ignored): its store cannot grow, as on a full disk (LMDB gets EFBIG, which the
# store reports as CAIRN_ENOSPC).
#
# Usage: bash tests/integration/sync_disk_full.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
FILL=$BUILD/tests/tools/storefill
[ -x "$FILL" ] || fail "no $FILL (build the tests/tools targets)"
network_with ana bob
"$FILL" "$T/ana" 3000 "ana" >/dev/null
c ana sync --timeout 60 >/dev/null

step "Bob's disk is full: his change is pushed, the pull fails"
c bob put note b1 text="written on a full disk"
LIMIT_KB=$(( $(stat -c %s "$T/bob/data.mdb") / 1024 + 32 ))
set +e
( ulimit -f "$LIMIT_KB"; trap '' XFSZ; exec timeout 60 "$CAIRN" --store "$T/bob" sync --timeout 30 ) \
  >"$T/out" 2>"$T/err"
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "the sync on a full disk exited $rc: $(cat "$T/err")"
grep -q "this device's changes reached the relay, but what the relay sent could not be stored here" \
  "$T/err" || fail "the sync said: $(cat "$T/err")"
grep -q "free some disk space and sync again" "$T/err" || fail "no remedy in: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line: $(cat "$T/err")"
c ana sync --timeout 30 >/dev/null
c ana get note b1 | has "written on a full disk" || fail "Bob's change did not reach the relay"
echo "ok   the push went through; the pull failed with one line saying what to do"

step "room again: the next sync pulls the rest"
c bob sync --timeout 60 >/dev/null 2>"$T/err" || fail "sync with room: $(cat "$T/err")"
same "heads" "$(c ana heads --json)" "$(c bob heads --json)"
echo "ok   with room again, Bob has everything"
stop_relay
echo "2 passed, 0 failed"
