# tests/integration/lib/common.sh — sourced first by the integration scripts
# (those that run a relay and those that do not): `. "$(dirname "$0")/lib/common.sh" "$@"`. It sets BUILD (the build
# directory given as the script's argument), CAIRN, CAIRND, T (a scratch
# directory, removed at exit with everything started: the relay and the pids in
# BG), and the helpers below. A script may define fail_details to print more on
# failure. The relay directory is $T/relay and its log $T/relay.log.

NAME=$(basename "$0" .sh)
BUILD=$(cd "${1:?usage: $NAME.sh BUILD_DIR}" && pwd)
CAIRN=$BUILD/cairn
CAIRND=$BUILD/cairnd
T=$(mktemp -d)
BG=()
RELAY_PID=""

cleanup() {
  for p in "${BG[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [ -n "$RELAY_PID" ]; then kill -9 "$RELAY_PID" 2>/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

fail() {
  echo "$NAME: FAIL: $*" >&2
  if declare -F fail_details >/dev/null; then fail_details >&2; fi
  [ -f "$T/relay.log" ] && tail -20 "$T/relay.log" >&2
  exit 1
}
step() { echo "$NAME: $*"; }
# ok WHAT: one more check passed (n counts them)
n=0
ok() { n=$((n + 1)); echo "ok   $*"; }
# has PATTERN: some line of stdin matches PATTERN (grep's basic regex). It reads
# all of stdin first: `grep -q` stops at the first match, and under pipefail the
# writer of a longer output then fails on the closed pipe.
has() { local in; in=$(cat); grep -q -- "$1" <<<"$in"; }
# c WHO ARGS...: the CLI on WHO's store, bounded in time
c() { local who=$1; shift; timeout 60 "$CAIRN" --store "$T/$who" "$@"; }
# need_clock_hook: fail unless this build shifts the clock by
# CAIRN_TEST_CLOCK_OFFSET_MS (CAIRN_TEST_HOOKS, as scripts/test configures it)
need_clock_hook() {
  grep -q '^CAIRN_TEST_HOOKS:BOOL=ON' "$BUILD/CMakeCache.txt" ||
    fail "this build has no clock hook: configure with -DCAIRN_TEST_HOOKS=ON (scripts/test does)"
}
# at OFFSET WHO ARGS...: the CLI on WHO's store with its clock shifted by OFFSET ms
at() { local off=$1 who=$2; shift 2; CAIRN_TEST_CLOCK_OFFSET_MS=$off timeout 60 "$CAIRN" --store "$T/$who" "$@"; }
# stop_live PID: SIGTERM to a `cairn sync --live`, which must exit 0 (its stderr
# in $T/live.err)
stop_live() {
  local rc=0
  kill -TERM "$1" 2>/dev/null || true # it may have exited on an earlier signal
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || fail "live sync exited $rc on SIGTERM: $(cat "$T/live.err")"
}
# sync_ok WHO: one sync that must succeed (its output in $T/sync.out and .err;
# a script may define its own after sourcing this file)
sync_ok() { c "$1" sync --timeout 30 >"$T/sync.out" 2>"$T/sync.err" || fail "$1: sync failed: $(cat "$T/sync.err")"; }
# same WHAT A B: fail unless A and B are byte-identical
same() { [ "$2" = "$3" ] || fail "$1 differ:
  $(echo "$2" | head -c 400)
  $(echo "$3" | head -c 400)"; }


# start_relay [PORT] [OPTIONS...]: cairnd serve on PORT (or, if empty, on a free
# port: tries several) with OPTIONS; sets PORT and RELAY_PID. Only log lines
# written after the start count, so a restart on the same port waits for its own.
start_relay() {
  local want=${1:-}
  shift || true
  for _ in $(seq 1 20); do
    PORT=${want:-$((20000 + RANDOM % 40000))}
    local mark
    mark=$(wc -l <"$T/relay.log" 2>/dev/null || echo 0)
    "$CAIRND" serve "$T/relay" --listen "127.0.0.1:$PORT" --log-level debug "$@" \
      2>>"$T/relay.log" &
    RELAY_PID=$!
    for _ in $(seq 1 100); do
      if tail -n +"$((mark + 1))" "$T/relay.log" | has "listening on 127.0.0.1:$PORT"; then
        return 0
      fi
      kill -0 "$RELAY_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$RELAY_PID" 2>/dev/null || true
    wait "$RELAY_PID" 2>/dev/null || true
    RELAY_PID=""
    [ -z "$want" ] || sleep 0.5 # the same port: give it time to be free
  done
  fail "cannot start the relay${want:+ on port $want}"
}

# stop_relay: SIGTERM; the relay must exit 0 within 20 s.
stop_relay() {
  local rc=0
  kill -TERM "$RELAY_PID"
  timeout 20 tail --pid="$RELAY_PID" -f /dev/null || fail "the relay did not stop on SIGTERM"
  wait "$RELAY_PID" || rc=$?
  RELAY_PID=""
  [ "$rc" -eq 0 ] || fail "the relay exited $rc on SIGTERM"
}


# network_with OWNER MEMBER...: a relay (key in RK, started on PORT) hosting the
# network (NET) that OWNER creates; each MEMBER granted editor, given the network's
# first entries on a bundle ($T/start.bdl), and every store's relay set; OWNER then
# syncs once. Members do not sync.
network_with() {
  local owner=$1 who
  shift
  touch "$T/relay.log"
  RK=$("$CAIRND" init "$T/relay")
  c "$owner" init --name "$owner" >/dev/null
  NET=$(c "$owner" network create "Test network of $owner" --schema none)
  "$CAIRND" host "$T/relay" "$NET" 2>/dev/null
  start_relay ""
  for who in "$@"; do
    c "$who" init --name "$who" >/dev/null
    c "$owner" grant "$(c "$who" id)" --role editor --name "$who"
  done
  c "$owner" bundle create "$T/start.bdl" >/dev/null
  c "$owner" remote "127.0.0.1:$PORT" --key "$RK"
  for who in "$@"; do
    c "$who" bundle apply "$T/start.bdl" >/dev/null
    c "$who" remote "127.0.0.1:$PORT" --key "$RK"
  done
  c "$owner" sync --timeout 30 >/dev/null || fail "$owner's first sync failed"
}
