#!/usr/bin/env bash
# example_live.sh — live sync through a real relay on 127.0.0.1, driven by the
# example program that embeds libcairn (client/examples/notes.c) and by
# `cairn sync --live`.
#
# A relay with a 3 s idle timeout hosts Ana's network; Ben is an editor. Ben runs
# `notes --live --ping 1` once, in the background, and never syncs otherwise:
#   - the note it writes at start reaches Ana (pushed by the live connection);
#   - Ana's change, synced once by Ana, is printed by Ben's live example (with
#     its field value) within a deadline;
#   - after more than the idle timeout the connection is still the first one
#     (pings keep it open: no reconnect on stderr, no idle timeout in the log);
#   - a note written to Ben's store by another process (`cairn put`) is pushed
#     by the live example's poll;
#   - Ana's `cairn sync --live --ping 1` prints `applied 1` for Ben's next note;
#   - the relay restarts: both live clients reconnect by themselves (backoff),
#     and a change Ana makes is carried to Ben by the two live connections alone;
#   - a key that is not a member gets one error line and exit 1 from
#     `cairn sync --live` (no endless retries);
#   - SIGINT stops the example, SIGTERM the CLI and the relay: each exits 0.
#
# Usage: bash tests/integration/example_live.sh BUILD_DIR
set -euo pipefail

BUILD=$(cd "${1:?usage: example_live.sh BUILD_DIR}" && pwd)
CAIRN=$BUILD/cairn
CAIRND=$BUILD/cairnd
NOTES=$BUILD/examples/notes
T=$(mktemp -d)
PIDS=() # relay, example, CLI: whatever is running
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "example_live: FAIL: $*" >&2
  for f in live.out live.err cli.out cli.err relay.log; do
    [ -s "$T/$f" ] && { echo "--- $f" >&2; tail -15 "$T/$f" >&2; }
  done
  exit 1
}
step() { echo "example_live: $*"; }
# has PATTERN: some line of stdin matches PATTERN (grep's basic regex). It reads
# all of stdin first: `grep -q` stops at the first match, and under pipefail the
# writer of a longer output then fails on the closed pipe.
has() { local in; in=$(cat); grep -q -- "$1" <<<"$in"; }
c() { local who=$1; shift; timeout 30 "$CAIRN" --store "$T/$who" "$@"; }

[ -x "$NOTES" ] || fail "no $NOTES (the example is built with the client)"

# wait_for FILE PATTERN WHAT: poll FILE until a line matches, for 15 s at most
wait_for() {
  local end=$((SECONDS + 15))
  until grep -q -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "$3 (no '$2' in $(basename "$1") after 15 s)"
    sleep 0.1
  done
}

# count FILE PATTERN: matching lines (0 when none)
count() { grep -c -- "$2" "$1" 2>/dev/null || true; }

# serve [PORT]: run the relay on PORT, or on a free port found by trying a few;
# sets PORT and RELAY
serve() {
  local tries=20 fixed=${1:-}
  [ -n "$fixed" ] && tries=1
  while [ "$tries" -gt 0 ]; do
    tries=$((tries - 1))
    PORT=${fixed:-$((20000 + RANDOM % 40000))}
    : >"$T/relay.log"
    "$CAIRND" serve "$T/relay" --listen "127.0.0.1:$PORT" --idle-timeout 3 \
      --log-level debug 2>"$T/relay.log" &
    RELAY=$!
    PIDS+=("$RELAY")
    local end=$((SECONDS + 5))
    while kill -0 "$RELAY" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
      grep -q "listening on 127.0.0.1:$PORT" "$T/relay.log" && return 0
      sleep 0.1
    done
    kill -9 "$RELAY" 2>/dev/null || true
    wait "$RELAY" 2>/dev/null || true
  done
  fail "the relay does not start"
}

# stop_pid PID SIGNAL WHAT: signal a background process; it must exit 0
stop_pid() {
  local rc=0
  kill "-$2" "$1"
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || fail "$3 exited $rc on SIG$2"
}

step "relay, network, two devices"
RK=$("$CAIRND" init "$T/relay")
c ana init --name Ana >/dev/null
NET=$(c ana network create "Eastside Learning Partnership" --schema none)
"$CAIRND" host "$T/relay" "$NET"
serve
c ben init --name Ben >/dev/null
c ana grant "$(c ben id)" --role editor --name Ben
c ana bundle create "$T/genesis.bdl" >/dev/null
c ben bundle apply "$T/genesis.bdl" >/dev/null
c ana remote "127.0.0.1:$PORT" --key "$RK"
c ben remote "127.0.0.1:$PORT" --key "$RK"
c ana sync --timeout 20 >/dev/null

step "Ben's example goes live (its own note is written and listed first)"
"$NOTES" "$T/ben" "ben was here" --live --ping 1 >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
PIDS+=("$LIVE")
wait_for "$T/live.out" '^note .*"text":"ben was here"' "the example did not list its note"
wait_for "$T/live.err" "notes: connected" "the example did not connect"

step "its note reaches Ana through the live connection"
end=$((SECONDS + 15))
until c ana sync --timeout 20 >/dev/null && c ana list note --where "text=ben was here" | has .; do
  [ "$SECONDS" -lt "$end" ] || fail "Ben's note never reached Ana"
  sleep 0.2
done

step "Ana's change shows up in the live example without another sync by Ben"
c ana put note a1 text="from ana" priority:=2
c ana sync --timeout 20 >/dev/null
wait_for "$T/live.out" '^change .* put note a1 .*text="from ana"' "the example did not print Ana's change"
grep -q '^applied 1$' "$T/live.out" || fail "no 'applied 1' line before the change"
[ "$(c ben get note a1 --json)" = "$(c ana get note a1 --json)" ] || fail "a1 differs"

step "idle for longer than the relay's idle timeout: pings keep the connection"
sleep 4.5
c ana put note a2 text="after a pause"
c ana sync --timeout 20 >/dev/null
wait_for "$T/live.out" ' put note a2 ' "the example missed a2 after the pause"
[ "$(count "$T/live.err" "lost the relay")" -eq 0 ] || fail "the live connection was lost while idle"
[ "$(count "$T/live.err" "notes: connected")" -eq 1 ] || fail "the example reconnected"

step "a note written by another process is pushed by the example's poll"
c ben put note b1 text="written by ben's cli"
end=$((SECONDS + 15))
until c ana sync --timeout 20 >/dev/null && c ana get note b1 >/dev/null 2>&1; do
  [ "$SECONDS" -lt "$end" ] || fail "b1 was not pushed by the live example"
  sleep 0.2
done

step "cairn sync --live on Ana's side prints each batch"
c ana sync --live --timeout 5 >/dev/null 2>&1 && fail "--live took --timeout"
"$CAIRN" --store "$T/ana" sync --live --ping 1 >"$T/cli.out" 2>"$T/cli.err" &
CLI=$!
PIDS+=("$CLI")
sleep 1 # let it connect and catch up (nothing to apply yet)
c ben put note b2 text="to ana's live cli"
wait_for "$T/cli.out" '^applied 1$' "cairn sync --live did not print the batch"
c ana get note b2 >/dev/null || fail "b2 not in Ana's store"

step "the relay restarts: both live clients reconnect on their own"
stop_pid "$RELAY" TERM "the relay"
wait_for "$T/live.err" "lost the relay" "the example did not notice the relay going away"
serve "$PORT"
wait_for "$T/relay.log" "joined network" "no client came back"
end=$((SECONDS + 15))
until [ "$(count "$T/live.err" "notes: connected")" -ge 2 ]; do
  [ "$SECONDS" -lt "$end" ] || fail "the example did not reconnect"
  sleep 0.1
done
c ana put note a3 text="after the restart"
wait_for "$T/live.out" ' put note a3 ' "a3 did not travel live from Ana's CLI to Ben's example"

step "a refusal that retrying cannot cure ends live sync with exit 1"
c dan init --name Dan >/dev/null
c dan bundle apply "$T/genesis.bdl" >/dev/null
c dan remote "127.0.0.1:$PORT" --key "$RK"
rc=0
c dan sync --live >"$T/dan.out" 2>"$T/dan.err" || rc=$?
[ "$rc" -eq 1 ] || fail "a non-member's live sync exited $rc"
grep -q "not a member" "$T/dan.err" || fail "dan: $(cat "$T/dan.err")"
[ "$(wc -l <"$T/dan.err")" -eq 1 ] || fail "dan: more than one error line"

step "stop: SIGINT the example, SIGTERM the CLI and the relay"
stop_pid "$LIVE" INT "the example"
stop_pid "$CLI" TERM "cairn sync --live"
[ "$(count "$T/cli.out" "^applied")" -eq 1 ] || fail "the CLI printed other batches than b2"
[ ! -s "$T/cli.err" ] || grep -q "lost the relay" "$T/cli.err" || fail "CLI stderr: $(cat "$T/cli.err")"
stop_pid "$RELAY" TERM "the relay"
c ana status --json | has '"last_sync":"20' || fail "status shows no last sync"
step "ok"
