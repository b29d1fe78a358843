#!/usr/bin/env bash
# members_people.sh — `cairn members` as people see it (docs/cli.md, "Device and
# network"): each member with its name, role and organization (the partner's
# name when its record is here, else the id), a person's two keys shown under
# one name, revoked members as revoked, and invites apart: pending, used,
# expired or revoked, with the organization an invite carries into the grant.
#
# Usage: bash tests/integration/members_people.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
need_clock_hook

# line WHO KEY: WHO's `members` line for KEY
line() { c "$1" members | grep "^$2	" || true; }

step "a relay, a network, partners"
RK=$("$CAIRND" init "$T/relay")
start_relay ""
c ana init --name Ana >/dev/null
NET=$(c ana network create "Eastside Partnership")
"$CAIRND" host "$T/relay" "$NET" 2>/dev/null
c ana remote "127.0.0.1:$PORT" --key "$RK"
c ana put partner p1 name="Lincoln Elementary"
c ana put partner p2 name="Eastside Clinic"

step "grant with an organization"
c dan init --name dan-laptop >/dev/null
c dan2 init --name dan-phone >/dev/null
DAN=$(c dan id)
DAN2=$(c dan2 id)
c ana grant "$DAN" --role editor --name Dan --org p1
c ana grant "$DAN2" --role editor --name Dan --org p1 2>"$T/err"
[ ! -s "$T/err" ] || fail "a grant to a known partner warned: $(cat "$T/err")"
c ana grant "$(c ana id)" --role owner --org p9 2>"$T/err"
has "no partner 'p9' in this replica" <"$T/err" || fail "no warning for an unknown partner: $(cat "$T/err")"
line ana "$DAN" | has "^$DAN	Dan	editor	Lincoln Elementary	key [12] of 2$" ||
  fail "dan's line: $(c ana members)"
line ana "$DAN2" | has "^$DAN2	Dan	editor	Lincoln Elementary	key [12] of 2$" ||
  fail "dan's second key: $(c ana members)"
[ "$(c ana members | grep -c "	Dan	")" -eq 2 ] || fail "dan's keys: $(c ana members)"
c ana members | grep -A1 "	Dan	" | grep -q "	Dan	.*key 2 of 2$" || fail "dan's keys are not together"
line ana "$(c ana id)" | has "	Ana	owner	p9$" || fail "an unknown partner shows as its id: $(c ana members)"
c ana members --json | has '"key":"'"$DAN"'","name":"Dan","role":"editor","organization":"p1","organization_name":"Lincoln Elementary","other_keys":\["'"$DAN2"'"\]' ||
  fail "dan in JSON: $(c ana members --json)"
c ana members --json | has '"organization":"p9","organization_name":null,"other_keys":\[\]' ||
  fail "ana in JSON: $(c ana members --json)"
rc=0
c ana grant "$DAN" --role editor --org "" 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] || fail "an empty --org exited $rc"
ok "members show name, role and the partner's name; one person's keys together"

step "invites: pending, then used by a join that takes the organization"
BEN_CODE=$(c ana invite --role editor --name "Ben Ortiz" --org p2)
c ana invite --role viewer --name Vic --uses 2 >/dev/null
c ana sync >/dev/null
c ana members >"$T/m"
sed -n '/^invites$/,$p' "$T/m" | has "	Ben Ortiz	editor	Eastside Clinic	pending	20[^	]*Z	0/1$" ||
  fail "ben's invite is not pending: $(cat "$T/m")"
sed -n '/^invites$/,$p' "$T/m" | has "	Vic	viewer		pending	20[^	]*Z	0/2$" ||
  fail "vic's invite: $(cat "$T/m")"
if sed -n '/^members$/,/^$/p' "$T/m" | has "Ben Ortiz"; then fail "an invite listed as a member: $(cat "$T/m")"; fi
c ben init --name ben-laptop >/dev/null
c ben join "$BEN_CODE" >/dev/null
BEN=$(c ben id)
line ben "$BEN" | has "^$BEN	Ben Ortiz	editor	Eastside Clinic$" || fail "ben's grant: $(c ben members)"
c ana sync >/dev/null
line ana "$BEN" | has "^$BEN	Ben Ortiz	editor	Eastside Clinic$" || fail "ben on ana: $(c ana members)"
c ana members | has "	Ben Ortiz	editor	Eastside Clinic	used	20[^	]*Z	1/1$" ||
  fail "ben's invite is not used: $(c ana members)"
c ana members --json | has '"name":"Ben Ortiz","role":"editor","organization":"p2","organization_name":"Eastside Clinic","status":"used","expires":"[^"]*","uses":1,"used":1}' ||
  fail "ben's invite in JSON: $(c ana members --json)"
ok "an invite is pending until used; the join carries its organization into the grant"

step "an expired invite, a revoked member, a revoked invite"
c ana invite --role editor --name Old --expires 1 >/dev/null
c ana invite --role editor --name Gone >/dev/null
CAIRN_TEST_CLOCK_OFFSET_MS=172800000 c ana members | has "	Old	editor		expired	" ||
  fail "an invite two days later is not expired"
c ana members | has "	Old	editor		pending	" || fail "the invite is not pending today"
c ana revoke "$(c ana members | awk -F'\t' '$2 == "Gone" {print $1}')"
c ana members | has "	Gone	editor		revoked	" || fail "a revoked invite: $(c ana members)"
c ana revoke "$DAN2"
line ana "$DAN2" | has "^$DAN2	Dan	revoked	Lincoln Elementary	key [12] of 2$" ||
  fail "a revoked key: $(c ana members)"
ok "expired and revoked invites, revoked members"

step "every replica lists the same"
c ana sync >/dev/null
c ben sync >/dev/null
same "members --json on ana and ben" "$(c ana members --json)" "$(c ben members --json)"
c ana members --json | has '^{"members":\[{.*}\],"invites":\[{.*}\]}$' || fail "the JSON document's shape"

stop_relay
step "ok"
