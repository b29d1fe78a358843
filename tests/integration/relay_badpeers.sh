#!/usr/bin/env bash
# relay_badpeers.sh — the relay against bad peers (docs/design.md, "The relay" and "Bad
# input, faults and limits"): a bad peer gets an `error` or a closed connection
# and never stops the relay or a well-behaved client.
#
# A relay with small limits (50 connections, 2 s handshake timeout, 64 KiB frames,
# 32 KiB entries) hosts Ana's network (Ben an editor, Vic a viewer). The helper
# tests/tools/badpeer does one misbehaviour per run: random bytes, half a msg1,
# msg1 then garbage, a frame header past the maximum (after a handshake with a
# fresh key, and as a member after hello), idle connections, a flood past
# --max-conns, and forged pushes: a viewer's entry (-15), a replayed entry of
# another author (skipped), a flipped signature byte (-8), a fork (-12), an entry
# over --max-entry (-14). While each bad peer is at work, a good `cairn sync`
# must succeed. At the end the relay holds no connection, stored nothing forged
# and nothing twice, and exits 0 on SIGTERM.
#
# Usage: bash tests/integration/relay_badpeers.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
BADPEER=$BUILD/tests/tools/badpeer
[ -x "$BADPEER" ] || fail "no $BADPEER (build the tests/tools targets)"
fail_details() {
  [ -f "$T/bad.out" ] && sed 's/^/  badpeer: /' "$T/bad.out" "$T/bad.err"
  return 0
}

alive() { kill -0 "$RELAY_PID" 2>/dev/null || fail "the relay died ($1)"; }

# good: Ana writes one note and syncs; the sync must succeed and push it
GOOD=0
good() {
  GOOD=$((GOOD + 1))
  c ana put note "good$GOOD" text="written while a bad peer was at work"
  local out
  out=$(c ana sync --timeout 10 2>"$T/sync.err") || fail "good sync during $1: $(cat "$T/sync.err")"
  case $out in "pushed 1,"*) ;; *) fail "good sync during $1 printed: $out" ;; esac
}

# bad NAME ARGS...: badpeer in the background, a good sync meanwhile, then its
# verdict (exit 0) and its line
bad() {
  local name=$1; shift
  "$BADPEER" "$PORT" "$@" >"$T/bad.out" 2>"$T/bad.err" &
  local bp=$!
  BG+=("$bp")
  good "$name"
  local rc=0
  wait "$bp" || rc=$?
  [ "$rc" -eq 0 ] || fail "$name: badpeer exited $rc"
  alive "$name"
  step "  $(tail -1 "$T/bad.out")"
}

# wait_line FILE PATTERN: until a background badpeer printed PATTERN (5 s at most)
wait_line() {
  for _ in $(seq 1 50); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "no '$2' in $1"
}

T0=$SECONDS
step "relay and network: Ana owner, Ben editor, Vic viewer"
RK=$("$CAIRND" init "$T/relay")
c ana init --name Ana >/dev/null
NET=$(c ana network create "Badpeer test network" --schema none)
"$CAIRND" host "$T/relay" "$NET"
start_relay "" --max-conns 50 --handshake-timeout 2 --max-frame 65536 --max-entry 32768
for who in ben vic; do c "$who" init --name "$who" >/dev/null; done
BEN=$(c ben id)
VIC=$(c vic id)
c ana grant "$BEN" --role editor --name Ben
c ana grant "$VIC" --role viewer --name Vic
c ana put partner p1 name="Lincoln Elementary"
c ana bundle create "$T/genesis.bdl" >/dev/null
for who in ana ben vic; do c "$who" remote "127.0.0.1:$PORT" --key "$RK"; done
for who in ben vic; do c "$who" bundle apply "$T/genesis.bdl" >/dev/null; done
c ana sync --timeout 10 >/dev/null || fail "first sync"
c ben put note ben1 text="Ben's first note"
c ben sync --timeout 10 >/dev/null || fail "ben's first sync"
c vic sync --timeout 10 >/dev/null || fail "vic's first sync"

step "bytes that are not the protocol"
bad random random
bad halfhs halfhs
MS=$(sed -n 's/.*closed after \([0-9]*\) ms.*/\1/p' "$T/bad.out")
[ "$MS" -ge 1500 ] && [ "$MS" -le 6000 ] || fail "half a msg1 was closed after $MS ms, not by the 2 s handshake timeout"
bad msg1garbage msg1garbage
grep -q "handshake timeout" "$T/relay.log" || fail "no handshake timeout in the log"

step "frame headers past --max-frame (65536)"
bad "a huge frame header with msg3" bigframe "$RK" "$NET" 4294967295
grep -q "error -14 " "$T/bad.out" || fail "no error -14"
# as a member after hello, one byte past the largest frame (message + 17 bytes)
bad "a frame one byte too large" bigframe "$RK" "$NET" $((65536 + 18)) "$T/ben"

step "20 connections that never speak, a good sync meanwhile"
"$BADPEER" "$PORT" idle 20 6 >"$T/bad.out" 2>"$T/bad.err" &
BP=$!
BG+=("$BP")
wait_line "$T/bad.out" "holding 20"
good "20 idle connections"
wait "$BP" || fail "idle connections: badpeer exited $?"
alive idle
step "  $(tail -1 "$T/bad.out")"

step "a flood of 80 connections past --max-conns 50"
"$BADPEER" "$PORT" flood 80 6 50 >"$T/bad.out" 2>"$T/bad.err" &
BP=$!
BG+=("$BP")
wait_line "$T/bad.out" "holding 80"
# the relay is full of idle handshakes: a new connection takes the place of the
# oldest, so a member gets through at once, on its first try
GOOD=$((GOOD + 1))
c ana put note "good$GOOD" text="written during a flood"
c ana sync --timeout 5 >/dev/null 2>"$T/sync.err" ||
  fail "a good sync did not get through the flood: $(cat "$T/sync.err")"
wait "$BP" || fail "flood: badpeer exited $?"
alive flood
step "  $(tail -1 "$T/bad.out")"
grep -q "connection limit 50 reached" "$T/relay.log" || fail "no connection-limit line in the log"
good "after the flood"

step "forged pushes"
c ana sync --timeout 10 >/dev/null
ANA_LOG=$(c ana log | wc -l)
bad "a viewer's entry" push "$RK" "$T/vic" next -15
bad "a replayed entry of another author" push "$RK" "$T/ben" replay ack
bad "a flipped signature byte" push "$RK" "$T/ben" badsig -8
bad "a fork at Ben's head" push "$RK" "$T/ben" fork -12
bad "an entry over --max-entry" push "$RK" "$T/ben" big -14
# Ben's own store never held any of these: a normal sync still works for him
c ben put note ben2 text="Ben after the forged pushes"
c ben sync --timeout 10 >/dev/null || fail "ben's sync after the forged pushes"
c vic sync --timeout 10 >/dev/null || fail "vic's sync after the forged pushes"
c ana sync --timeout 10 >/dev/null || fail "ana's sync after the forged pushes"
# Ana's log grew by her own good notes and Ben's ben2, and nothing else
WANT=$((ANA_LOG + 5 + 1))
[ "$(c ana log | wc -l)" -eq "$WANT" ] || fail "ana holds $(c ana log | wc -l) entries, expected $WANT"
c ana log | has "^$VIC" && fail "an entry of the viewer reached ana"
c ana list note --json | has badpeer && fail "a forged note reached ana"
HA=$(c ana heads --json)
[ "$HA" = "$(c ben heads --json)" ] || fail "heads differ: ana $HA ben $(c ben heads --json)"
[ "$HA" = "$(c vic heads --json)" ] || fail "heads differ: ana $HA vic $(c vic heads --json)"

step "the relay holds no connection and exits 0 on SIGTERM"
n=""
for _ in $(seq 1 30); do
  n=$(sed -n 's/.*"connections":\([0-9]*\).*/\1/p' "$T/relay/stats.json" 2>/dev/null || true)
  [ "$n" = "0" ] && break
  sleep 0.1
done
[ "$n" = "0" ] || fail "the relay still counts $n connections"
alive end
kill -TERM "$RELAY_PID"
rc=0
timeout 10 tail --pid="$RELAY_PID" -f /dev/null || rc=$?
wait "$RELAY_PID" || rc=$?
RELAY_PID=""
[ "$rc" -eq 0 ] || fail "the relay exited $rc on SIGTERM"
grep -qiE "AddressSanitizer|runtime error" "$T/relay.log" && fail "sanitizer report in the relay log"

# the relay's own replica: the same entries as Ana's, each once, nothing forged
RS=$T/relay/networks/$NET
RLOG=$(timeout 30 "$CAIRN" --store "$RS" log | wc -l)
[ "$RLOG" -eq "$WANT" ] || fail "the relay holds $RLOG entries, expected $WANT"
[ "$(timeout 30 "$CAIRN" --store "$RS" heads --json)" = "$HA" ] || fail "the relay's heads differ from ana's"
step "ok ($((SECONDS - T0)) s)"
