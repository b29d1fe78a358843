#!/usr/bin/env bash
# schema_cli.sh — the network's schema from the command line (docs/cli.md,
# "Schema, import and export"; docs/design.md, "Schema"): the default
# collective-impact schema a new network starts with, writes refused before
# they are signed with "did you mean", values stored by their kind, schema
# documents applied (added, renamed, hidden; refused changes), `cairn check`
# over records a device behind on the schema wrote, and who may change it.
#
# Usage: bash tests/integration/schema_cli.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

# fails WHAT EXPECTED_TEXT CMD...: the command exits 1 and says EXPECTED_TEXT
fails() {
  local what=$1 want=$2 out rc=0
  shift 2
  out=$("$@" 2>&1) || rc=$?
  [ "$rc" -eq 1 ] || fail "$what: exit $rc, not 1 ($out)"
  has "$want" <<<"$out" || fail "$what: said '$out', not '$want'"
}
entries() { c ana log | wc -l; }

c ana init --name Ana >/dev/null
NET=$(c ana network create "Northside Cradle to Career")
[[ $NET =~ ^[0-9a-f]{64}$ ]] || fail "network create printed '$NET'"
c ana schema | has "^commitment — Commitment" || fail "no commitment type in the default schema"
c ana schema commitment | has "status *enum *(planned, in-progress, done, at-risk, dropped)" ||
  fail "commitment's status is not the expected enum"
for t in partner person site result indicator program measure value plan commitment meeting \
  interaction goal rating story; do
  c ana schema "$t" >/dev/null || fail "the default schema lacks $t"
done
c ana schema --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["types"]) == 15' ||
  fail "schema --json is not the 15 types' document"
ok "network create writes the collective-impact schema"

# writes refused before they are signed, each with its suggestion
c ana put partner lib name="Lincoln Library" kind=nonprofit stage=engaged
before=$(entries)
fails "a typo in a reference" 'commitment c1: partner "libary" names no partner; did you mean lib (Lincoln Library)?' \
  c ana put commitment c1 partner=libary due=2027-01-15 status=planned
fails "a typo in an enum value" 'status "plannned" is not one of planned, in-progress, done, at-risk, dropped; did you mean planned?' \
  c ana put commitment c1 partner=lib due=2027-01-15 status=plannned
fails "a date people write" 'due "next friday" is not a date (YYYY-MM-DD)' \
  c ana put commitment c1 partner=lib due="next friday"
fails "a typo in a field" 'commitment has no field "stauts"; did you mean status?' \
  c ana put commitment c1 partner=lib stauts=done
fails "a typo in a type" 'no record type "comitment" in this network'"'"'s schema; did you mean commitment?' \
  c ana add comitment partner=lib
fails "a required field" 'commitment c2: partner is required' c ana put commitment c2 title=Tutoring
fails "a typed value of the wrong kind" 'value v0: actual "47" is not a number' \
  c ana put value v0 period=2026 actual:='"47"'
[ "$(entries)" = "$before" ] || fail "a refused write was signed"
ok "writes that break the schema are refused, named, with did-you-mean, and never signed"

# values stored by their kind
c ana put indicator read title="3rd graders reading on grade level" unit=percent direction=up baseline=41
c ana put value v1 indicator=read period=2026-Q2 actual=47.5
c ana put partner p2 name="Eastside Clinic" sites="" kind=clinic
c ana put site s1 name="North campus"
c ana put partner p2 sites="s1"
c ana get value v1 --json | has '"actual":47.5' || fail "actual is not stored as a number"
c ana get indicator read --json | has '"baseline":41' || fail "baseline is not stored as a number"
c ana get partner p2 --json | has '"sites":\["s1"\]' || fail "sites is not a list of ids"
ok "text typed by the field's kind: numbers as numbers, refs as lists"

# a schema document: add, rename, hide; refused changes
cat >"$T/change.json" <<'JSON'
{"types": [
  {"name": "commitment", "fields": [
    {"name": "status", "values": ["planned", "in-progress", "done", "at-risk", "dropped", "paused"]},
    {"name": "due_on", "renamed_from": "due", "label": "Due on"},
    {"name": "evidence", "hidden": true},
    {"name": "hours", "kind": "integer", "unit": "hours"}]},
  {"name": "grant", "label": "Grant", "fields": [
    {"name": "amount", "kind": "number", "required": true},
    {"name": "funder", "kind": "ref", "ref": "partner"}]}]}
JSON
c ana put commitment c1 partner=lib due=2027-01-15 status=planned evidence="sign-in sheets"
out=$(c ana schema apply "$T/change.json")
[ "$out" = "types added 1, changed 0; fields added 3, changed 2, renamed 1, hidden 1" ] ||
  fail "schema apply said '$out'"
before=$(entries)
[ "$(c ana schema apply "$T/change.json")" = "types added 0, changed 0; fields added 0, changed 0, renamed 0, hidden 0" ] ||
  fail "applying the same document again changed something"
[ "$(entries)" = "$before" ] || fail "applying the same document again wrote an entry"
c ana get commitment c1 | has "^due_on	2027-01-15$" || fail "the renamed field does not show the old value"
c ana get commitment c1 | has "evidence" && fail "a hidden field still shows"
fails "writing a renamed field's old name" "commitment field due was renamed to due_on; write due_on instead" \
  c ana put commitment c1 due=2027-02-01
c ana put commitment c1 status=paused hours=3
c ana put grant g1 amount=5000 funder=p2
echo '{"types":[{"name":"grant","fields":[{"name":"amount","kind":"text"}]}]}' >"$T/kind.json"
fails "changing a kind" "grant.amount has kind number, which cannot change to text" c ana schema apply "$T/kind.json"
echo '{"types":[{"name":"commitment","fields":[{"name":"status","values":["planned"]}]}]}' >"$T/values.json"
fails "removing an enum value" "value in-progress cannot be removed" c ana schema apply "$T/values.json"
echo '{"types":[{"name":"x","feilds":[]}]}' >"$T/typo.json"
fails "a typo in a document" 'no key "feilds"; did you mean fields?' c ana schema apply "$T/typo.json"
c ana schema --json >"$T/back.json"
[ "$(c ana schema apply "$T/back.json")" = "types added 0, changed 0; fields added 0, changed 0, renamed 0, hidden 0" ] ||
  fail "the schema printed back is not a no-op document"
ok "schema apply adds, renames and hides; refuses kind changes and removed values; is idempotent"

# --schema none and --schema FILE, a bad file refused before the network exists
c free init --name Free >/dev/null
c free network create "Free-form" --schema none >/dev/null
c free put anything a1 count=40 x=y
c free get anything a1 --json | has '"count":"40"' || fail "a free-form network typed a value"
c free schema | has "no schema" || fail "schema on a free-form network"
c own init --name Own >/dev/null
c own network create "Own schema" --schema "$T/typo.json" 2>"$T/err" && fail "a bad schema file was taken"
[ -z "$(c own log 2>/dev/null || true)" ] || fail "a network was created despite the bad schema"
c own network create "Own schema" --schema "$T/change.json" 2>"$T/err" && fail "a document that renames a missing field was taken"
echo '{"types":[{"name":"task","fields":[{"name":"title","kind":"text","required":true}]}]}' >"$T/own.json"
c own network create "Own schema" --schema "$T/own.json" >/dev/null
c own schema | has "^task" || fail "the network's own schema is missing"
fails "a type another schema has" 'no record type "partner"' c own schema partner
ok "network create --schema none | FILE.json; a bad file leaves no network behind"

# a device behind on the schema, and who may change it
c dan init --name Dan >/dev/null
DAN=$(c dan id)
c ana grant "$DAN" --role editor --name Dan
c ana bundle create "$T/a.bdl" >/dev/null
c dan bundle apply "$T/a.bdl" >/dev/null
fails "an editor applying a schema" "role editor may not write _schema records" c dan schema apply "$T/own.json"
c dan put commitment c7 partner=lib due_on=2027-03-01 status=done
c ana schema apply /dev/stdin <<<'{"types":[{"name":"partner","fields":[{"name":"contact","required":true}]}]}' >/dev/null
c ana check && fail "check found nothing"
out=$(c ana check 2>/dev/null || true)
has "partner lib: contact is required" <<<"$out" || fail "check did not list the partner without a contact"
out=$(c ana check --json 2>/dev/null || true)
python3 -c '
import json, sys
d = json.load(sys.stdin)
assert {(p["_type"], p["_id"], p["field"]) for p in d} == {("partner", "lib", "contact"), ("partner", "p2", "contact")}, d' <<<"$out" ||
  fail "check --json"
c dan bundle create "$T/d.bdl" >/dev/null
c ana bundle apply "$T/d.bdl" >/dev/null
c ana get commitment c7 | has "status	done" || fail "an editor's change was not received"
ok "only owners and admins change the schema; check lists what breaks it, nothing is dropped"

echo "$NAME: $n checks passed"
