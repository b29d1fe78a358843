#!/usr/bin/env bash
# relay_wire.sh — compact, compressed entries on the wire, and peers of an older
# build that read only whole entries (docs/protocol.md, "Wire features").
#
# A test build speaks as an older one when CAIRN_TEST_WIRE_FEATURES=0 is set in
# its environment (CAIRN_TEST_HOOKS): it offers nothing in its prologue, so its
# peer sends it whole, uncompressed entries, and it sends them too.
#   - Ana (older) pushes a history of notes; Ben (this build) pulls it compact
#     and compressed, Cleo (older) whole: both get the same records, and Ben's
#     pull costs well under half of Cleo's; the relay's log says what each reads.
#   - The relay restarted as an older build: Ben pushes and pulls whole entries
#     and everyone still converges.
#   - Back to this build: Ben's live sync gets Ana's next change at once (each
#     burst is flushed; its frame ends with it).
#   - A relay whose read queue is small (--read-queue 65536) stops reading a
#     client that pushes more than that before it is stored, and reads it again
#     once it is: a push of several megabytes goes through whole.
#
# Usage: bash tests/integration/relay_wire.sh BUILD_DIR
set -euo pipefail
. "$(dirname "$0")/lib/common.sh" "$@"

grep -q '^CAIRN_TEST_HOOKS:BOOL=ON' "$BUILD/CMakeCache.txt" ||
  fail "this build cannot speak as an older one: configure with -DCAIRN_TEST_HOOKS=ON"

# old WHO ARGS...: the CLI on WHO's store, speaking as an older build
old() { CAIRN_TEST_WIRE_FEATURES=0 c "$@"; }
# received OUT: the bytes a sync's output says it received
received() { sed -n 's/.*received \([0-9]*\)$/\1/p' <<<"$1"; }
fail_details() { [ -f "$T/live.err" ] && tail -5 "$T/live.err"; true; }

step "an older client pushes; this build and an older one pull"
network_with ana ben cleo
for i in $(seq 1 150); do
  c ana put note "n$i" text="entry $i of the history, a line of words" >/dev/null
done
out=$(old ana sync --timeout 30) || fail "ana's sync as an older build failed"
tail -n 40 "$T/relay.log" | has "as owner (reads whole entries)" ||
  fail "the relay does not say that ana reads whole entries"
ok "an older client pushes whole entries"
NEW=$(received "$(c ben sync --timeout 30)")
tail -n 40 "$T/relay.log" | has "as editor (reads compact entries, compressed)" ||
  fail "the relay does not say that ben reads compact, compressed entries"
OLD=$(received "$(old cleo sync --timeout 30)")
for type in note _member; do
  A=$(c ana list "$type" --json)
  same "$type on ana and ben" "$A" "$(c ben list "$type" --json)"
  same "$type on ana and cleo" "$A" "$(c cleo list "$type" --json)"
done
[ $((NEW * 2)) -lt "$OLD" ] || fail "ben's compressed pull took $NEW bytes, cleo's whole $OLD"
ok "the same records; ben's pull $NEW bytes, cleo's $OLD"

step "an older relay"
stop_relay
CAIRN_TEST_WIRE_FEATURES=0 start_relay "$PORT"
c ben put note b1 text="from ben, to an older relay" >/dev/null
c ben sync --timeout 30 >/dev/null || fail "ben's sync with an older relay failed"
tail -n 40 "$T/relay.log" | has "as editor (reads compact entries, compressed)" ||
  fail "the older relay should still log what ben offers"
for who in ana cleo; do c "$who" sync --timeout 30 >/dev/null || fail "$who: sync failed"; done
A=$(c ana list note --json)
same "notes on ana and ben" "$A" "$(c ben list note --json)"
same "notes on ana and cleo" "$A" "$(c cleo list note --json)"
ok "this build syncs with an older relay both ways"

step "live, compressed, at once"
stop_relay
start_relay "$PORT"
"$CAIRN" --store "$T/ben" sync --live --ping 1 >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
BG+=("$LIVE")
for _ in $(seq 1 100); do
  tail -n 20 "$T/relay.log" | has "as editor" && break
  sleep 0.1
done
c ana put note live text="sent while ben listens" >/dev/null
start=$(date +%s%N)
c ana sync --timeout 30 >/dev/null || fail "ana's sync failed"
until c ben get note live --json 2>/dev/null | has "sent while ben listens"; do
  [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 5000 ] || fail "ben's live sync missed ana's change"
  sleep 0.05
done
ok "ben's live sync applied ana's change $(( ($(date +%s%N) - start) / 1000000 )) ms after her sync began"
stop_live "$LIVE"
stop_relay

step "a push larger than the relay's read queue"
start_relay "$PORT" --read-queue 65536
{
  echo "id,text"
  for i in $(seq 1 40000); do echo "bulk$i,entry $i of a long import with some words in it"; done
} >"$T/bulk.csv"
c cleo import note "$T/bulk.csv" >/dev/null
c cleo sync --timeout 60 >/dev/null || fail "cleo's push of the import failed"
has "not read until more of its entries are stored" <"$T/relay.log" ||
  fail "the relay never stopped reading cleo"
c ben sync --timeout 60 >/dev/null || fail "ben's pull of the import failed"
same "the import on ben" "$(c cleo get note bulk40000 --json)" "$(c ben get note bulk40000 --json)"
ok "a push of $(wc -c <"$T/bulk.csv") bytes of CSV went through a read queue of 64 KiB"
stop_relay
echo "relay_wire: $n checks passed"
