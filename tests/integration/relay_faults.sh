#!/usr/bin/env bash
# relay_faults.sh — crashes during sync (docs/design.md, "Bad input, faults and
# limits"): a relay or client killed at any instant loses no acknowledged entry
# and reopens without repair; an interrupted sync resumes where it stopped.
#
# 1. Three editors each write a few hundred entries (tests/tools/storefill) and
#    push them concurrently, in rounds; the relay is killed with SIGKILL at a
#    random moment. Every entry a client saw acknowledged (`status --json`,
#    "unacknowledged", kept by each successful sync) is in the relay's store,
#    read while the relay is down. The relay restarts on the same directory and
#    port; everyone syncs and all replicas converge (identical `list --json`,
#    `heads --json`, and the relay's own replica). Repeated until two kills have
#    cut pushes short (at most five rounds).
# 2. A fresh device pulling a few thousand entries is killed with SIGKILL in the
#    middle of the pull; its next `cairn sync` resumes (pulls only what it lacks)
#    and it ends identical to the others.
#
# Usage: bash tests/integration/relay_faults.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
FILL=$BUILD/tests/tools/storefill
[ -x "$FILL" ] || fail "no $FILL (build the tests/tools targets)"
# the relay runs with --max-batch 100 so that a pull takes many messages (and
# can be cut between them)


# heads_of STORE_DIR: "author seq" lines of a replica's version vector
heads_of() {
  timeout 60 "$CAIRN" --store "$1" heads --json | tr -d '{} ' | tr ',' '\n' | tr -d '"' | tr ':' ' '
}
# seq_in STORE_DIR AUTHOR: that author's head seq in a replica (0 if none)
seq_in() { heads_of "$1" | awk -v a="$2" '$1 == a { s = $2 } END { print s + 0 }'; }
# acked WHO: the own seq the relay acknowledged to WHO's last successful sync
acked() {
  local head unack
  head=$(seq_in "$T/$1" "$(c "$1" id)")
  unack=$(c "$1" status --json | sed -n 's/.*"unacknowledged": *\([0-9]*\).*/\1/p')
  echo $((head - unack))
}

T0=$SECONDS
touch "$T/relay.log"
step "relay, network, three editors"
RK=$("$CAIRND" init "$T/relay")
c ana init --name Ana >/dev/null
NET=$(c ana network create "Fault test network" --schema none)
"$CAIRND" host "$T/relay" "$NET" 2>/dev/null
RS=$T/relay/networks/$NET
start_relay "" --max-batch 100
CLIENTS="e1 e2 e3"
for who in $CLIENTS; do
  c "$who" init --name "$who" >/dev/null
  c ana grant "$(c "$who" id)" --role editor --name "$who"
done
c ana bundle create "$T/genesis.bdl" >/dev/null
c ana remote "127.0.0.1:$PORT" --key "$RK"
for who in $CLIENTS; do
  c "$who" remote "127.0.0.1:$PORT" --key "$RK"
  c "$who" bundle apply "$T/genesis.bdl" >/dev/null
done
sync_ok ana
for who in $CLIENTS; do sync_ok "$who"; done

# push_rounds WHO ROUND: 5 times, write 60 entries and sync; stop at the first
# failed sync (the relay is gone)
push_rounds() {
  local who=$1 round=$2
  for r in 1 2 3 4 5; do
    "$FILL" "$T/$who" 60 "$who-k$round-r$r" >/dev/null || return 1
    timeout 30 "$CAIRN" --store "$T/$who" sync --timeout 20 >/dev/null 2>&1 || return 0
  done
}

# until two kills caught unacknowledged pushes (five rounds at most)
cut=0
for round in 1 2 3 4 5; do
  [ "$cut" -lt 2 ] || break
  step "round $round: three clients push concurrently; kill -9 the relay meanwhile"
  pids=()
  for who in $CLIENTS; do
    push_rounds "$who" "$round" &
    pids+=("$!")
    BG+=("$!")
  done
  # a random moment within the pushes: once the relay has stored some of this
  # round's entries (read from its store beside it), 0 to 0.3 s later
  base=$(heads_of "$RS" | awk '{ s += $2 } END { print s + 0 }')
  for _ in $(seq 1 300); do
    now=$(heads_of "$RS" | awk '{ s += $2 } END { print s + 0 }')
    [ "$now" -gt "$base" ] && break
    sleep 0.01
  done
  sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
  kill -9 "$RELAY_PID"
  wait "$RELAY_PID" 2>/dev/null || true
  RELAY_PID=""
  for p in "${pids[@]}"; do wait "$p" || fail "a client's store failed (storefill)"; done

  # the relay is down: its store opens without repair and holds every acked entry
  interrupted=0
  for who in $CLIENTS; do
    id=$(c "$who" id)
    a=$(acked "$who")
    have=$(seq_in "$RS" "$id")
    mine=$(seq_in "$T/$who" "$id")
    [ "$have" -ge "$a" ] || fail "$who: the relay acknowledged seq $a but holds only $have after SIGKILL"
    step "  $who: head $mine, acknowledged $a, the relay holds $have"
    [ "$mine" -eq "$a" ] || interrupted=1
  done
  cut=$((cut + interrupted))

  start_relay "$PORT" --max-batch 100
  for who in $CLIENTS ana $CLIENTS; do sync_ok "$who"; done
  for who in $CLIENTS; do
    [ "$(c "$who" status --json | sed -n 's/.*"unacknowledged": *\([0-9]*\).*/\1/p')" = 0 ] ||
      fail "$who: entries unacknowledged after a successful sync"
  done
  A=$(c ana list note --json)
  HA=$(c ana heads --json)
  for who in $CLIENTS; do
    same "notes ana/$who" "$A" "$(c "$who" list note --json)"
    same "heads ana/$who" "$HA" "$(c "$who" heads --json)"
  done
done
[ "$cut" -ge 1 ] || fail "no kill of the relay caught a push in flight"
N_ANA=$(c ana log | wc -l)
step "  converged: $N_ANA entries on every replica"

step "a fresh device killed by SIGKILL in the middle of a pull"
"$FILL" "$T/ana" 2000 ana-bulk >/dev/null
sync_ok ana
TOTAL=$(c ana log | wc -l)
killed=0
for attempt in 1 2 3; do
  d=dev$attempt
  c "$d" init --name "$d" >/dev/null
  c ana grant "$(c "$d" id)" --role viewer --name "$d"
  sync_ok ana
  c "$d" remote "127.0.0.1:$PORT" --key "$RK"
  c "$d" bundle apply "$T/genesis.bdl" >/dev/null
  TOTAL=$(c ana log | wc -l)
  # cairn itself in the background (not under timeout, whose death would leave
  # it running); its own --timeout bounds it
  "$CAIRN" --store "$T/$d" sync --timeout 30 >/dev/null 2>&1 &
  SP=$!
  BG+=("$SP")
  got=1
  # kill it once it has applied some of the entries, not all (cairn heads reads
  # the store alongside the pulling process: LMDB readers do not block)
  for _ in $(seq 1 200); do
    got=$(heads_of "$T/$d" | awk '{ s += $2 } END { print s + 0 }')
    if [ "$got" -gt 200 ]; then kill -9 "$SP" 2>/dev/null || true; break; fi
    kill -0 "$SP" 2>/dev/null || break
    sleep 0.02
  done
  wait "$SP" 2>/dev/null && rc=0 || rc=$?
  got=$(heads_of "$T/$d" | awk '{ s += $2 } END { print s + 0 }')
  if [ "$rc" -eq 137 ] && [ "$got" -lt "$TOTAL" ]; then killed=1; break; fi
  step "  attempt $attempt: the pull ended before the kill (exit $rc, $got of $TOTAL); again"
done
[ "$killed" -eq 1 ] || fail "could not kill a device in the middle of a pull"
step "  $d killed with $got of $TOTAL entries"
sync_ok "$d"
PULLED=$(sed -n 's/.*pulled \([0-9]*\),.*/\1/p' "$T/sync.out")
# it resumes: it pulls what it lacks (at most one batch again), not everything
[ "$PULLED" -le $((TOTAL - got + 100)) ] || fail "$d pulled $PULLED entries after holding $got of $TOTAL"
step "  resumed: pulled $PULLED more"
same "heads ana/$d after the resumed sync" "$(c ana heads --json)" "$(c "$d" heads --json)"
sync_ok ana
for who in $CLIENTS "$d"; do sync_ok "$who"; done
A=$(c ana list note --json)
HA=$(c ana heads --json)
for who in $CLIENTS "$d"; do
  same "notes ana/$who" "$A" "$(c "$who" list note --json)"
  same "heads ana/$who" "$HA" "$(c "$who" heads --json)"
done
N=$(c ana log | wc -l)
[ "$(c "$d" log | wc -l)" -eq "$N" ] || fail "$d holds $(c "$d" log | wc -l) entries, ana $N"

step "the relay's replica after SIGTERM: the same entries, each once"
stop_relay
same "heads ana/relay" "$HA" "$(timeout 60 "$CAIRN" --store "$RS" heads --json)"
RN=$(timeout 60 "$CAIRN" --store "$RS" log | wc -l)
[ "$RN" -eq "$N" ] || fail "the relay holds $RN entries, ana $N"
grep -qiE "AddressSanitizer|runtime error" "$T/relay.log" && fail "sanitizer report in the relay log"
step "ok ($((SECONDS - T0)) s)"
