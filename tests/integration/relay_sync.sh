#!/usr/bin/env bash
# relay_sync.sh — devices syncing through a real relay on 127.0.0.1.
#
# A relay (cairnd) on a port chosen at run time hosts Ana's network. Ana grants
# Ben and Cleo (editors); they get the genesis on a bundle, set the relay and sync
# (Ben first: he forwards the network's first entries to the relay).
# All three edit offline (Ben and Cleo the same field), sync in several orders,
# and must end with identical records and conflicts. Then: a resumed sync costs
# bytes in proportion to the new entries, not the history; a key that is not a
# member, a client pinned to the wrong relay key and a revoked key are each
# refused with their own error and store nothing; the relay stops on SIGTERM with
# exit 0 and serves the same data after a restart.
#
# Usage: bash tests/integration/relay_sync.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

# sync_ok WHO: one sync that must succeed; prints the received byte count
sync_ok() {
  local out
  out=$(c "$1" sync --timeout 20 2>"$T/sync.err") || fail "$1: sync failed: $(cat "$T/sync.err")"
  echo "$out" | sed -n 's/.*received \([0-9]*\)$/\1/p'
}

# sync_refused WHO PATTERN: a sync that must fail with a message matching PATTERN
sync_refused() {
  local rc=0
  c "$1" sync --timeout 20 >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$1: sync exited $rc, expected 1 ($(cat "$T/err"))"
  grep -q "$2" "$T/err" || fail "$1: expected '$2', got: $(cat "$T/err")"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$1: more than one error line"
}

step "relay and network"
RK=$("$CAIRND" init "$T/relay")
c ana init --name Ana >/dev/null
NET=$(c ana network create "Northside Cradle to Career" --schema none)
"$CAIRND" host "$T/relay" "$NET"
start_relay
for who in ben cleo dan; do c "$who" init --name "$who" >/dev/null; done
c ana grant "$(c ben id)" --role editor --name Ben
c ana grant "$(c cleo id)" --role editor --name Cleo
c ana put partner p1 name="Lincoln Elementary"
c ana bundle create "$T/genesis.bdl" >/dev/null
for who in ana ben cleo dan; do c "$who" remote "127.0.0.1:$PORT" --key "$RK"; done
for who in ben cleo dan; do c "$who" bundle apply "$T/genesis.bdl" >/dev/null; done
c ana members | has "relay	relay" || fail "remote did not grant the relay key on the owner's store"
# before the owner's first sync the relay holds nothing of the network; a member
# that got the genesis on a bundle forwards it, before its own entries
c ben put note early text="written before the relay had the network"
sync_ok ben >/dev/null
sync_ok ana >/dev/null
c ana get note early | has "written before the relay had the network" ||
  fail "the owner lacks the note Ben wrote before the relay had the network"

step "offline edits on three devices, the same field on two"
c ana put commitment c1 title="Tutor 40 third graders" due=2027-01-15
sync_ok ana >/dev/null
sync_ok ben >/dev/null
sync_ok cleo >/dev/null
c ana put partner p2 name="Eastside Clinic"
c ben put commitment c1 due=2027-02-01
c cleo put commitment c1 due=2027-03-01 note="needs a second tutor"
c cleo add meeting topic=Kickoff attendees:=12 >/dev/null

step "sync in several orders"
# every order of the three; each device edits again between rounds
round=0
for order in "cleo ben ana" "ana cleo ben" "ben ana cleo" "ana ben cleo" "ben cleo ana" "cleo ana ben"; do
  round=$((round + 1))
  for who in $order; do
    c "$who" put tally "$who" count:=$round
    sync_ok "$who" >/dev/null
  done
done
for who in ana ben cleo; do sync_ok "$who" >/dev/null; done
for type in partner commitment meeting tally _member _network; do
  A=$(c ana list "$type" --json)
  same "$type on ana and ben" "$A" "$(c ben list "$type" --json)"
  same "$type on ana and cleo" "$A" "$(c cleo list "$type" --json)"
done
CA=$(c ana conflicts --json)
grep -q '"field":"due"' <<<"$CA" || fail "no conflict on due: $CA"
same "conflicts ana/ben" "$CA" "$(c ben conflicts --json)"
same "conflicts ana/cleo" "$CA" "$(c cleo conflicts --json)"
same "heads ana/cleo" "$(c ana heads --json)" "$(c cleo heads --json)"

step "a resumed sync costs the new entries, not the history"
# enough history that, compressed, it still outweighs a connection's fixed cost
for i in $(seq 1 120); do c ana put note "n$i" text="history entry $i with some words in it"; done
sync_ok ana >/dev/null
FULL=$(sync_ok ben)
c ana put note fresh text="one new entry"
sync_ok ana >/dev/null
DELTA=$(sync_ok ben)
[ "$DELTA" -gt 0 ] || fail "no bytes for the new entry"
[ $((DELTA * 5)) -lt "$FULL" ] || fail "resumed sync received $DELTA bytes, full $FULL"
same "note fresh" "$(c ana get note fresh --json)" "$(c ben get note fresh --json)"
step "  full pull $FULL bytes, resumed $DELTA bytes"

step "refusals"
sync_refused dan "not a member"
[ "$(c dan list note --json)" = "[]" ] || fail "dan received notes"
c ben remote "127.0.0.1:$PORT" --key "$(c dan id)"
sync_refused ben "not the pinned"
c ben remote "127.0.0.1:$PORT" --key "$RK"
# cleo is connected live when the revocation reaches the relay: dropped at once
CLEO16=$(c cleo id | cut -c1-16)
joins() { grep -c "$CLEO16: joined" "$T/relay.log" || true; }
BEFORE=$(joins)
"$CAIRN" --store "$T/cleo" sync --live >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
for _ in $(seq 1 100); do [ "$(joins)" -gt "$BEFORE" ] && break; sleep 0.1; done
[ "$(joins)" -gt "$BEFORE" ] || fail "cleo's live sync did not connect"
c ana revoke "$(c cleo id)"
sync_ok ana >/dev/null
rc=0
for _ in $(seq 1 100); do kill -0 "$LIVE" 2>/dev/null || break; sleep 0.1; done
kill -0 "$LIVE" 2>/dev/null && { kill -9 "$LIVE"; fail "cleo's live sync was not dropped on revocation"; }
wait "$LIVE" || rc=$?
[ "$rc" -eq 1 ] || fail "cleo's live sync exited $rc after revocation"
grep -q "revoked" "$T/live.err" || fail "cleo's live sync did not say why: $(cat "$T/live.err")"
c cleo put note from-cleo text="after revocation"
sync_refused cleo "revoked"
sync_ok ben >/dev/null
c ben get note from-cleo >/dev/null 2>&1 && fail "a revoked key's entry reached ben"

step "restart: the relay serves the same data"
stop_relay
grep -q "signal 15" "$T/relay.log" || fail "no shutdown line in the log"
start_relay "$PORT"
c ana put partner p3 name="after restart"
sync_ok ana >/dev/null
sync_ok ben >/dev/null
same "p3 after restart" "$(c ana get partner p3 --json)" "$(c ben get partner p3 --json)"
"$CAIRND" stats "$T/relay" | has '"connections"' || fail "cairnd stats printed nothing"
stop_relay
step "ok"
