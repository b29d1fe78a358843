#!/usr/bin/env bash
# conflicts_view.sh — conflicts as people see them (docs/cli.md, "Records";
# docs/design.md, "Conflicts"), with two stores exchanging bundles only.
#
# 1. Ana and Dan edit one partner's name offline and swap bundles: both `get`s
#    mark the field in conflict, with each value, its author's name and time
#    (text) and "_conflicts" (JSON); the other fields stay plain. `resolve`
#    refuses a field that is not in conflict (exit 1, nothing written) and ends
#    the one that is.
# 2. Ana deletes a commitment while Dan, offline, edits it: after the swap the
#    record stays with Dan's edit, and `get`, `conflicts` and `get --json` say who
#    deleted it and when. `resolve --keep` keeps it on both; a second conflict is
#    ended the other way, by `del` after seeing the edit. A delete that saw every
#    edit is no conflict at all.
# 3. `unset` removes fields (absent from get, list and JSON, one signed entry),
#    exit 3 on a record that does not exist; a field the schema requires cannot
#    be unset; an unset concurrent with an edit is a conflict showing `(unset)`.
#
# Usage: bash tests/integration/conflicts_view.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

# swap A B: A's entries to B and B's to A, on bundle files
swap() {
  c "$1" bundle create "$T/$1.bdl" >/dev/null
  c "$2" bundle create "$T/$2.bdl" >/dev/null
  c "$2" bundle apply "$T/$1.bdl" >/dev/null
  c "$1" bundle apply "$T/$2.bdl" >/dev/null
}
# entries WHO: how many entries WHO's log holds
entries() { c "$1" log | wc -l; }

c ana init --name Ana >/dev/null
c dan init --name Dan >/dev/null
c ana network create "Northside" >/dev/null
c ana grant "$(c dan id)" --role editor --name Dan
c ana put partner p1 name="Northside Library" kind=nonprofit
c ana put commitment c1 title="Tutor 40 third graders" partner=p1
c ana put commitment c2 title="Open on Saturdays" partner=p1
swap ana dan

# 1. a field in conflict
c ana put partner p1 name="Northside Public Library"
c dan put partner p1 name="Northside Library (main branch)"
swap ana dan
for who in ana dan; do
  out=$(c "$who" get partner p1)
  echo "$out" | has "^name	.*	in conflict	\(Ana\|Dan\)	20[0-9-]*T" || fail "$who: name not marked: $out"
  echo "$out" | has "^	Northside Public Library	Ana	20" ||
    echo "$out" | has "^name	Northside Public Library	in conflict	Ana	20" ||
    fail "$who: Ana's value missing: $out"
  echo "$out" | has "Northside Library (main branch)	\(in conflict	\)\?Dan	20" ||
    fail "$who: Dan's value missing: $out"
  echo "$out" | has "^kind	nonprofit$" || fail "$who: a plain field is marked: $out"
  [ "$(echo "$out" | wc -l)" -eq 3 ] || fail "$who: three lines expected: $out"
  json=$(c "$who" get partner p1 --json)
  echo "$json" | has '"_conflicts":{"name":\[{"value":"Northside' || fail "$who: JSON: $json"
  echo "$json" | has '"name":"\(Ana\|Dan\)","time":"20' || fail "$who: JSON author: $json"
  echo "$json" | has '"kind":"nonprofit"' || fail "$who: JSON fields: $json"
done
same "the marked records" "$(c ana get partner p1 --json)" "$(c dan get partner p1 --json)"
ok "get marks a field in conflict on both sides, text and JSON"

before=$(entries ana)
rc=0
err=$(c ana resolve partner p1 kind=school 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 1 ] || fail "resolve of a field not in conflict exited $rc"
echo "$err" | has "partner p1 field kind is not in conflict; use \`cairn put\` to change it" ||
  fail "resolve refusal: $err"
rc=0
c ana resolve partner p1 name="Northside Public Library" kind=school 2>/dev/null || rc=$?
[ "$rc" -eq 1 ] || fail "resolve naming one field not in conflict exited $rc"
[ "$(entries ana)" -eq "$before" ] || fail "a refused resolve wrote an entry"
c ana get partner p1 | has "^kind	nonprofit$" || fail "a refused resolve changed kind"
ok "resolve refuses a field not in conflict, naming record and field, writing nothing"

c ana resolve partner p1 name="Northside Public Library"
swap ana dan
for who in ana dan; do
  c "$who" get partner p1 | has "in conflict" && fail "$who: still in conflict after resolve"
  c "$who" get partner p1 --json | has "_conflicts" && fail "$who: JSON still marked"
  c "$who" get partner p1 | has "^name	Northside Public Library$" || fail "$who: resolved value"
done
ok "resolve ends the conflict everywhere"

# 2. a delete concurrent with an edit
c ana del commitment c1
c dan put commitment c1 status=at-risk
swap ana dan
for who in ana dan; do
  out=$(c "$who" get commitment c1) || fail "$who: c1 is not visible after a delete/edit conflict"
  echo "$out" | has "^_deleted	kept	in conflict	Dan	20" || fail "$who: delete not marked: $out"
  echo "$out" | has "^	deleted	Ana	20[0-9-]*T" || fail "$who: who deleted it: $out"
  echo "$out" | has "^status	at-risk$" || fail "$who: the edit is not shown: $out"
  echo "$out" | has "^title	Tutor 40 third graders$" || fail "$who: the fields it had: $out"
  c "$who" get commitment c1 --json | has '"_conflicts":{"_deleted":\[{"value":true,"author":"[0-9a-f]*","name":"Ana","time":"20' ||
    fail "$who: JSON delete mark: $(c "$who" get commitment c1 --json)"
  c "$who" conflicts | has "^commitment	c1	_deleted	deleted	[0-9a-f]*	Ana	20" ||
    fail "$who: conflicts: $(c "$who" conflicts)"
  c "$who" conflicts --json | has '"field":"_deleted","heads":\[{"value":false' ||
    fail "$who: conflicts --json: $(c "$who" conflicts --json)"
  c "$who" list commitment | has "^c1	" || fail "$who: c1 missing from list"
done
same "the delete/edit conflict" "$(c ana get commitment c1 --json)" "$(c dan get commitment c1 --json)"
ok "a delete concurrent with an edit keeps the record, marked with who deleted it and when"

rc=0
err=$(c ana resolve commitment c2 --keep 2>&1 >/dev/null) || rc=$?
[ "$rc" -eq 1 ] || fail "resolve --keep without a delete/edit conflict exited $rc"
echo "$err" | has "commitment c2 is not in a delete/edit conflict" || fail "keep refusal: $err"
rc=0
c ana resolve commitment c1 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "resolve with neither fields nor --keep exited $rc"
c dan resolve commitment c1 --keep
swap ana dan
for who in ana dan; do
  c "$who" get commitment c1 | has "in conflict" && fail "$who: still in conflict after --keep"
  c "$who" get commitment c1 | has "^status	at-risk$" || fail "$who: kept without the edit"
  c "$who" conflicts | has "c1" && fail "$who: c1 still listed: $(c "$who" conflicts)"
  c "$who" history commitment c1 | has "	kept$" || fail "$who: history: $(c "$who" history commitment c1)"
done
ok "resolve --keep keeps the record on both sides"

c dan del commitment c2
c ana put commitment c2 title="Open on Saturday mornings"
swap ana dan
c ana get commitment c2 | has "^_deleted	kept	in conflict	Ana" || fail "second delete/edit conflict"
c ana del commitment c2 # having seen the edit: deletes it
swap ana dan
for who in ana dan; do
  rc=0
  c "$who" get commitment c2 >/dev/null 2>&1 || rc=$?
  [ "$rc" -eq 3 ] || fail "$who: c2 not deleted after a del that saw the edit (exit $rc)"
  c "$who" conflicts | has "c2" && fail "$who: c2 still in conflict"
done
ok "a del after seeing the edit deletes the record, no conflict left"

c dan put commitment c3 title="Summer reading" partner=p1
swap ana dan
c ana del commitment c3 # saw Dan's put: an ordinary delete
swap ana dan
rc=0
c dan get commitment c3 >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 3 ] || fail "a delete that saw every edit did not delete (exit $rc)"
c dan conflicts | has "c3" && fail "a delete that saw every edit is a conflict"
ok "a delete that saw every edit is no conflict"

# 3. unset
before=$(entries ana)
c ana unset partner p1 kind
[ "$(entries ana)" -eq $((before + 1)) ] || fail "unset is not one entry"
c ana get partner p1 | has "^kind" && fail "unset field still shown: $(c ana get partner p1)"
c ana get partner p1 --json | has '"kind"' && fail "unset field in JSON"
c ana list partner | has "kind=" && fail "unset field in list"
c ana list partner --json | has '"kind"' && fail "unset field in list --json"
c ana get partner p1 | has "^name	Northside Public Library$" || fail "unset removed too much"
rc=0
c ana unset partner nobody kind 2>/dev/null || rc=$?
[ "$rc" -eq 3 ] || fail "unset of a missing record exited $rc"
rc=0
c ana unset partner p1 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "unset without a field exited $rc"
rc=0
c ana unset partner p1 _kind 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || fail "unset of a reserved name exited $rc"
swap ana dan
c dan get partner p1 --json | has '"kind"' && fail "Dan still sees the unset field"
ok "unset removes fields: absent from get, list and JSON, one entry, exit 3 on no record"

# the schema still holds: a required field cannot be unset
rc=0
err=$(c ana unset partner p1 name 2>&1) || rc=$?
[ "$rc" -eq 1 ] || fail "unset of a required field exited $rc"
echo "$err" | has "partner p1: name is required" || fail "unset of a required field: $err"
ok "unset of a field the schema requires is refused"

# an unset concurrent with an edit: a conflict that shows the unset
c ana put partner p1 notes="Meets monthly"
swap ana dan
c ana unset partner p1 notes
c dan put partner p1 notes="Meets weekly"
swap ana dan
c ana get partner p1 | has "(unset)" || fail "an unset in conflict: $(c ana get partner p1)"
c ana conflicts | has "	notes	(unset)	" || fail "conflicts with an unset: $(c ana conflicts)"
c ana conflicts --json | has '"value":null' || fail "conflicts --json with an unset"
ok "an unset concurrent with an edit is a conflict showing (unset)"

echo "$NAME: all $n checks passed"
