#!/usr/bin/env bash
# field_setup.sh — what a field device meets while being set up (docs/cli.md):
# a relay named by host name or IPv6 in brackets, checked when `cairn remote`
# runs (a name that does not resolve is said at once and at sync); messages that
# say what to do (a mistyped --store, a store with no network); an invite code
# pasted with spaces and a line break around it; `sync --live` saying when it is
# connected.
#
# Usage: bash tests/integration/field_setup.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
touch "$T/relay.log"

RK=$("$CAIRND" init "$T/relay")
c ana init --name Ana >/dev/null
NET=$(c ana network create "Field setup network" --schema none)
"$CAIRND" host "$T/relay" "$NET" 2>/dev/null
start_relay ""

# a host name: resolved at each sync
c ana remote "localhost:$PORT" --key "$RK" 2>"$T/err" || fail "remote localhost: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "remote localhost warned: $(cat "$T/err")"
c ana sync --timeout 30 >/dev/null 2>"$T/err" || fail "sync through localhost: $(cat "$T/err")"
ok "a relay named localhost:PORT syncs"

# IPv6 in brackets is a valid form
c ana remote "[::1]:$PORT" --key "$RK" 2>"$T/err" || fail "remote [::1]: $(cat "$T/err")"
ok "[::1]:PORT is accepted"

# a name that does not resolve: said when set, and at sync
c ana remote "relay.invalid:$PORT" --key "$RK" 2>"$T/err" || fail "an unresolvable name was refused"
grep -q "warning: the relay's name relay.invalid does not resolve" "$T/err" ||
  fail "remote did not say the name does not resolve: $(cat "$T/err")"
if c ana sync --timeout 10 >/dev/null 2>"$T/err"; then fail "sync to an unresolvable name succeeded"; fi
grep -q "does not resolve" "$T/err" || fail "sync did not say why: $(cat "$T/err")"
ok "an unresolvable name: warned at remote, refused at sync"

# not HOST:PORT: a usage error, the kept relay unchanged
set +e
c ana remote "localhost" --key "$RK" 2>"$T/err"; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "remote without a port exited $rc"
grep -q "HOST:PORT" "$T/err" || fail "no HOST:PORT in: $(cat "$T/err")"
c ana remote "127.0.0.1:$PORT" --key "$RK"
ok "remote without a port is a usage error"

# a mistyped store: no second, empty store is suggested
if "$CAIRN" --store "$T/anna" list note >/dev/null 2>"$T/err"; then fail "a missing store listed"; fi
grep -q "no cairn store in $T/anna (--store): check the path" "$T/err" ||
  fail "the message for a missing store: $(cat "$T/err")"
[ ! -e "$T/anna" ] || fail "a store was made at the mistyped path"
ok "a mistyped --store names the path and how to find the store"

# a store with no network names both ways to get one
c bob init --name Bob >/dev/null
if c bob put note n1 text=hi >/dev/null 2>"$T/err"; then fail "a put without a network succeeded"; fi
grep -q "cairn join CODE" "$T/err" || fail "no join hint: $(cat "$T/err")"
c bob remote "127.0.0.1:$PORT" --key "$RK"
if c bob sync --timeout 10 >/dev/null 2>"$T/err"; then fail "a sync without a network succeeded"; fi
grep -q "cairn join CODE" "$T/err" || fail "no join hint at sync: $(cat "$T/err")"
ok "no network: put and sync name cairn join CODE"

# an invite pasted with spaces and a line break around it
CODE=$(c ana invite --role editor --name Dan)
c ana sync --timeout 30 >/dev/null
c dan init --name Dan >/dev/null
c dan join "  $CODE
" >/dev/null 2>"$T/err" || fail "join with a padded code: $(cat "$T/err")"
c dan members | has "Dan	editor" || fail "dan did not join as editor"
ok "an invite code with spaces and a line break around it joins"

# live sync says when it is connected
"$CAIRN" --store "$T/dan" sync --live >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
BG+=("$LIVE")
for _ in $(seq 1 100); do
  grep -q "connected to 127.0.0.1:$PORT" "$T/live.err" && break
  sleep 0.1
done
grep -q "connected to 127.0.0.1:$PORT; syncing live" "$T/live.err" ||
  fail "live sync did not say it connected: $(cat "$T/live.err")"
# SIGTERM twice (as `timeout` sends it: to the process, then to its group): the
# second must not kill it while it closes
kill -TERM "$LIVE" # and a second one from stop_live, as `timeout` would send
stop_live "$LIVE"
ok "sync --live says when it is connected"

stop_relay
echo "$n passed, 0 failed"
