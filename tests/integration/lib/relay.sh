# tests/integration/lib/relay.sh — sourced by the integration scripts that run a
# relay. Needs CAIRND (the cairnd binary), T (the test's scratch directory) and a
# `fail` function. The relay directory is $T/relay and its log $T/relay.log.

RELAY_PID=""

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
      if tail -n +"$((mark + 1))" "$T/relay.log" | grep -q "listening on 127.0.0.1:$PORT"; then
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

# kill_relay: for the EXIT trap.
kill_relay() {
  if [ -n "$RELAY_PID" ]; then kill -9 "$RELAY_PID" 2>/dev/null || true; fi
}
