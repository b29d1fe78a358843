#!/usr/bin/env bash
# relay_disk_full.sh — the relay's disk fills up mid-push (docs/design.md, "The
# relay"): the failed commit is the relay's own storage error, said as such in
# its log; no client is told that its entries are bad and no connection is
# refused; nothing is acknowledged that was not stored, and once there is room
# again the same client's next sync delivers every entry.
#
# The relay runs with a file-size limit (`ulimit -f`, SIGXFSZ ignored) a little
# above its store's size after setup, so its next commits fail with EFBIG, which
# the store reports as CAIRN_ENOSPC, as a full disk would be.
#
# Usage: bash tests/integration/relay_disk_full.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
FILL=$BUILD/tests/tools/storefill
[ -x "$FILL" ] || fail "no $FILL (build the tests/tools targets)"
REAL_CAIRND=$CAIRND

step "relay, network, an owner with a first sync"
touch "$T/relay.log"
RK=$("$CAIRND" init "$T/relay")
c ana init --name Ana >/dev/null
NET=$(c ana network create "Disk full network" --schema none)
"$CAIRND" host "$T/relay" "$NET" 2>/dev/null
start_relay ""
c ana remote "127.0.0.1:$PORT" --key "$RK"
c ana sync --timeout 30 >/dev/null || fail "first sync failed"
stop_relay

# the relay again, on the same port, allowed to grow its files by 256 KiB only
DATA=$T/relay/networks/$NET/data.mdb
LIMIT_KB=$(( $(stat -c %s "$DATA") / 1024 + 256 ))
cat >"$T/cairnd-limited" <<SH
#!/usr/bin/env bash
ulimit -f $LIMIT_KB
trap '' XFSZ
exec "$REAL_CAIRND" "\$@"
SH
chmod +x "$T/cairnd-limited"
CAIRND=$T/cairnd-limited
start_relay "$PORT"

step "the owner pushes 4000 entries: more than the relay has room for"
HEAD=$("$FILL" "$T/ana" 4000 "fill")
[ "$HEAD" -gt 4000 ] || fail "the owner's head is $HEAD"
if c ana sync --timeout 5 >"$T/sync.out" 2>"$T/sync.err"; then
  fail "a sync whose entries the relay could not store succeeded"
fi
grep -q "timed out" "$T/sync.err" || fail "the sync failed otherwise: $(cat "$T/sync.err")"
if grep -q "refused" "$T/sync.err"; then fail "the client was refused: $(cat "$T/sync.err")"; fi
grep -q "cannot store entries (is the disk full?)" "$T/relay.log" ||
  fail "the relay's log does not say it cannot store entries"
if grep -Eq "seq [0-9]+: |gap|bad signature" "$T/relay.log"; then
  fail "the relay blamed an entry: $(grep -E "seq [0-9]+: |gap|bad signature" "$T/relay.log" | head -3)"
fi
kill -0 "$RELAY_PID" 2>/dev/null || fail "the relay stopped"
UNACK=$(c ana status --json | sed -n 's/.*"unacknowledged": *\([0-9]*\).*/\1/p')
[ "$UNACK" -gt 0 ] || fail "entries the relay did not store count as acknowledged"
stop_relay

step "room again: the next sync delivers every entry"
CAIRND=$REAL_CAIRND
start_relay "$PORT"
c ana sync --timeout 60 >/dev/null 2>"$T/sync.err" || fail "sync after the disk has room: $(cat "$T/sync.err")"
UNACK=$(c ana status --json | sed -n 's/.*"unacknowledged": *\([0-9]*\).*/\1/p')
[ "$UNACK" -eq 0 ] || fail "$UNACK entries still unacknowledged"
stop_relay
step "ok"
echo "1 passed, 0 failed"
