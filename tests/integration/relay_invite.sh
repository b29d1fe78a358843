#!/usr/bin/env bash
# relay_invite.sh — joining a network with invites, through a real relay.
#
# Ana (owner) sets the relay and invites Ben (editor) and Vic (viewer); each joins
# on a fresh store with `cairn join CODE` alone, gets the whole network and the
# invite's role, and can sync and (Ben) write. Refused, each with its own error and
# nothing stored: a used single-use invite, an expired one, a revoked one, a
# damaged code, a join on a store that already has a network; and a viewer's write
# never leaves its device. A two-use invite serves exactly two devices.
#
# Usage: bash tests/integration/relay_invite.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

# refused WHO PATTERN CMD...: CMD must exit 1 with one line matching PATTERN
refused() {
  local who=$1 pattern=$2 rc=0
  shift 2
  c "$who" "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -eq 1 ] || fail "$who $*: exit $rc, expected 1 ($(cat "$T/err"))"
  grep -q "$pattern" "$T/err" || fail "$who $*: expected '$pattern', got: $(cat "$T/err")"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$who $*: more than one error line"
}

step "relay, network, invites"
RK=$("$CAIRND" init "$T/relay")
start_relay "" # before hosting: a network hosted later is opened on first use
c ana init --name Ana >/dev/null
NET=$(c ana network create "Eastside Partnership" --schema none)
"$CAIRND" host "$T/relay" "$NET" 2>/dev/null
c ana remote "127.0.0.1:$PORT" --key "$RK"
c ana put partner p1 name="Lincoln Elementary"
BEN_CODE=$(c ana invite --role editor --name "Ben Ortiz")
VIC_CODE=$(c ana invite --role viewer --name Vic --expires 2)
TWO_CODE=$(c ana invite --role editor --name "Site laptops" --uses 2)
OLD_CODE=$(c ana invite --role editor --name Old)
[[ $BEN_CODE == cairn1:* ]] || fail "invite printed '$BEN_CODE'"
c ana members | has "	Ben Ortiz	editor		pending	" || fail "no pending invite: $(c ana members)"
c ana sync >/dev/null

step "Ben and Vic join with their codes alone"
c ben init --name "ben-laptop" >/dev/null
[ "$(c ben join "$BEN_CODE")" = "$NET" ] || fail "join did not print the network id"
c vic init --name "vic-phone" >/dev/null
[ "$(c vic join "$VIC_CODE")" = "$NET" ] || fail "vic's join"
c ben members | has "^$(c ben id)	Ben Ortiz	editor	$" || fail "ben is not an editor: $(c ben members)"
c vic members | has "^$(c vic id)	Vic	viewer	$" || fail "vic is not a viewer: $(c vic members)"
same "partners on ben" "$(c ana list partner --json)" "$(c ben list partner --json)"

step "members write and sync"
c ben put commitment c1 title="Tutor 40 third graders"
c ben sync >/dev/null
c ana sync >/dev/null
c vic sync >/dev/null
same "commitments ana/ben" "$(c ana list commitment --json)" "$(c ben list commitment --json)"
same "commitments ana/vic" "$(c ana list commitment --json)" "$(c vic list commitment --json)"
refused vic "viewer may not write" put note n1 text=hello

step "refusals"
c eve init --name eve >/dev/null
refused eve "already used" join "$BEN_CODE"
[ "$(c eve list partner --json 2>/dev/null || echo none)" != "$(c ana list partner --json)" ] ||
  fail "eve received the network on a used invite"
c ana revoke "$(c ana members | awk -F'\t' '$2 == "Old" {print $1}')"
c ana sync >/dev/null
c old init --name old >/dev/null
refused old "not valid" join "$OLD_CODE"
c bad init --name bad >/dev/null
refused bad "damaged" join "${BEN_CODE%????}xyzw"
# joining again is harmless: a member syncs and is done, using nothing up
[ "$(c ben join "$TWO_CODE")" = "$NET" ] || fail "a member's second join"
c other init --name other >/dev/null
c other network create "Another network" --schema none >/dev/null
refused other "another network" join "$TWO_CODE"

step "a join cut short after the network arrived is finished by joining again"
LATE_CODE=$(c ana invite --role viewer --name Late)
c ana sync >/dev/null
c ana bundle create "$T/net.bdl" >/dev/null
c late init --name late >/dev/null
c late bundle apply "$T/net.bdl" >/dev/null # holds the network, is no member yet
OUT=$(c late join "$LATE_CODE" 2>&1) || true
[ "$OUT" = "$NET" ] || fail "late's join: $OUT"
c late members | has "^$(c late id)	Late	viewer	$" || fail "late is not a viewer: $(c late members)"
c ana sync >/dev/null
c ana members | has "^$(c late id)	Late	viewer	$" || fail "late's grant did not reach ana"

step "a two-use invite serves exactly two devices"
for who in s1 s2 s3; do c "$who" init --name "$who" >/dev/null; done
c s1 join "$TWO_CODE" >/dev/null
c s2 join "$TWO_CODE" >/dev/null
refused s3 "already used" join "$TWO_CODE"
c s1 put note from-s1 text="site one"
c s2 put note from-s2 text="site two"
c s1 sync >/dev/null
c s2 sync >/dev/null
c ana sync >/dev/null
for who in ben vic s1 s2; do c "$who" sync >/dev/null; done
for who in ben vic s1 s2; do
  same "notes ana/$who" "$(c ana list note --json)" "$(c "$who" list note --json)"
  same "members ana/$who" "$(c ana members --json)" "$(c "$who" members --json)"
done

stop_relay
step "ok"
