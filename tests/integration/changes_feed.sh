#!/usr/bin/env bash
# changes_feed.sh — `cairn changes`, the network-wide feed, on two replicas that
# meet only through bundles (docs/cli.md, "The changes feed").
#
# Ana owns the network and grants Ben. Both write (puts, a delete), Ana purges a
# record Ben wrote, and bundles go both ways: both replicas then print the same
# feed, text and JSON, in time order, with the purged record's content erased
# and the purge itself shown. Ben is revoked; his next change, carried on a
# bundle, is listed as refused. --all adds cairn's own records; --since takes a
# date, a time and a number of days; a bad --since is a usage error.
#
# Usage: bash tests/integration/changes_feed.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

# exchange: each replica applies the other's entries
exchange() {
  c ana bundle create "$T/ana.bdl" >/dev/null
  c ben bundle create "$T/ben.bdl" >/dev/null
  c ben bundle apply "$T/ana.bdl" >/dev/null 2>&1
  c ana bundle apply "$T/ben.bdl" >/dev/null 2>&1
}

step "two replicas, changes on both, bundles both ways"
c ana init --name Ana >/dev/null
c ana network create "Eastside Partnership" --schema none >/dev/null
c ben init --name Ben >/dev/null
BEN=$(c ben id)
c ana grant "$BEN" --role editor --name Ben
exchange
c ana put partner p1 name="Lincoln Elementary" kind=school
sleep 0.01
c ben put commitment c1 title="Tutor 40 third graders" partner=p1 hours:=120
sleep 0.01
c ben put note secret text="a phone number"
sleep 0.01
c ana put partner p2 name="Eastside Clinic"
sleep 0.01
c ana del partner p2
exchange
c ana purge note secret
exchange

step "the feed, text"
c ana changes >"$T/a.txt"
c ben changes >"$T/b.txt"
same "changes on ana and ben" "$(cat "$T/a.txt")" "$(cat "$T/b.txt")"
[ "$(wc -l <"$T/a.txt")" -eq 6 ] || fail "6 changes expected: $(cat "$T/a.txt")"
cut -f2- "$T/a.txt" >"$T/cols"
cat >"$T/want" <<'EOF'
Ana	put	partner	p1	kind,name
Ben	put	commitment	c1	hours,partner,title
Ben	erased			(erased by a purge)
Ana	put	partner	p2	name
Ana	del	partner	p2	
Ana	purge	note	secret	
EOF
same "columns after the time" "$(cat "$T/want")" "$(cat "$T/cols")"
sort -c "$T/a.txt" || fail "not oldest first: $(cat "$T/a.txt")"
if has "phone number" <"$T/a.txt" || c ana changes --json | has "phone number"; then
  fail "the purged content shows in the feed"
fi
cut -f1 "$T/a.txt" | has '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-9:]*\.[0-9]\{3\}Z$' ||
  fail "times are not ISO 8601 UTC: $(cut -f1 "$T/a.txt")"
ok "both replicas list the same six changes, oldest first, the purged one erased"

step "the feed, JSON"
AJ=$(c ana changes --json)
same "changes --json on ana and ben" "$AJ" "$(c ben changes --json)"
has '"name":"Ben","time":"[^"]*","hlc":[0-9]*,"seq":1,"op":"put","_type":"commitment","_id":"c1","fields":{"hours":120,"partner":"p1","title":"Tutor 40 third graders"}}' <<<"$AJ" ||
  fail "Ben's put in JSON: $AJ"
has '"author":"'"$BEN"'"' <<<"$AJ" || fail "no author key in JSON"
has '"op":"erased","_type":null,"_id":null}' <<<"$AJ" || fail "the erased change in JSON: $AJ"
has '"op":"del","_type":"partner","_id":"p2"}' <<<"$AJ" || fail "the delete in JSON: $AJ"
has '"op":"purge","_type":"note","_id":"secret"}' <<<"$AJ" || fail "the purge in JSON: $AJ"
[ "$(grep -o '"op":' <<<"$AJ" | wc -l)" -eq 6 ] || fail "6 changes expected in JSON: $AJ"
ok "JSON: one object per change, fields with their values"

step "--all adds cairn's own records"
c ana changes --all >"$T/all.txt"
[ "$(wc -l <"$T/all.txt")" -eq 9 ] || fail "genesis (2 ops) and grant expected: $(cat "$T/all.txt")"
head -2 "$T/all.txt" | cut -f2-4 | has "^Ana	put	_network$" || fail "the genesis is not first"
has "	put	_member	$BEN	name,role$" <"$T/all.txt" || fail "Ben's grant is missing"
same "--all on both" "$(cat "$T/all.txt")" "$(c ben changes --all)"
ok "--all lists the genesis and the grant"

step "--since: a date, a time, days"
TODAY=$(date -u +%Y-%m-%d)
TOMORROW=$(date -u -d tomorrow +%Y-%m-%d)
same "--since today" "$(cat "$T/a.txt")" "$(c ana changes --since "$TODAY")"
same "--since 1d" "$(cat "$T/a.txt")" "$(c ana changes --since 1d)"
[ -z "$(c ana changes --since "$TOMORROW")" ] || fail "--since tomorrow lists changes"
[ "$(c ana changes --since "$TOMORROW" --json)" = "[]" ] || fail "--since tomorrow --json"
[ -z "$(c ana changes --since 0d)" ] || fail "--since 0d (now) lists changes"
THIRD=$(sed -n 3p "$T/a.txt" | cut -f1)
same "--since the third change's time" "$(tail -n +3 "$T/a.txt")" "$(c ana changes --since "$THIRD")"
same "--since with an offset" "$(tail -n +3 "$T/a.txt")" \
  "$(c ana changes --since "$(date -u -d "$THIRD" +%Y-%m-%dT%H:%M:%S.%3N+00:00)")"
ok "--since YYYY-MM-DD, a full time and Nd keep the changes from then on"

step "a bad --since is a usage error"
for bad in yesterday 2026-13-01 7days 2026-01-01T25:00 ""; do
  rc=0
  c ana changes --since "$bad" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -eq 2 ] || fail "--since '$bad' exited $rc, expected 2"
  has "date (2026-01-31, midnight UTC), a time (2026-01-31T09:30:00Z) or a number of days back (7d)" \
    <"$T/err" || fail "--since '$bad' does not name the forms: $(cat "$T/err")"
  [ ! -s "$T/out" ] || fail "--since '$bad' printed on stdout"
done
rc=0
c ana changes --since >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "--since without a value exited $rc"
c ana changes --help | has "^usage: cairn changes \[--since DATE|DAYSd\] \[--all\] \[--json\]" ||
  fail "changes --help"
ok "bad --since values exit 2 naming the forms"

step "a revoked member's later change is listed as refused"
c ana revoke "$BEN"
c ben put commitment c2 title="written after the revocation"
exchange
c ana changes | tail -1 | has "	Ben	put	commitment	c2	title	refused: .*revoked" ||
  fail "the refused change: $(c ana changes | tail -1)"
c ana changes --json | has '"refused":"[^"]*revoked[^"]*","_type":"commitment","_id":"c2"' ||
  fail "the refused change in JSON"
ok "evidence is marked refused, with the reason"

step "ok"
