#!/usr/bin/env bash
# list_query.sh — `cairn list` with the default collective-impact schema
# (docs/cli.md, "Records"): every --where operator compared by the field's kind,
# --search over every field shown,
# --sort (records without the field last), --fields, --limit, --deleted, --csv
# with RFC 4180 quoting, unknown types and fields refused with "did you mean", a
# value not of the field's kind refused, a malformed expression a usage error;
# `cairn types`; a free-form network comparing numbers as numbers.
#
# Usage: bash tests/integration/list_query.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

c ana init --name Ana >/dev/null
c ana network create "Northside" >/dev/null

c ana put partner p1 name="Lincoln Library" kind=nonprofit stage=engaged
c ana put partner p2 name="Eastside Clinic" kind=clinic stage=lead
c ana put commitment c1 partner=p1 title="Tutor 40 third graders" due=2026-05-01 status=planned
c ana put commitment c2 partner=p1 title="Books, \"new\" ones" due=2026-03-15 status=done
c ana put commitment c3 partner=p2 title="Health screenings" due=2026-07-01 status=at-risk
c ana put commitment c4 partner=p2 title="Open hours" status=planned
c ana put result r1 title="Children read on grade level"
c ana put indicator i1 title="Third graders reading" result=r1 unit=%
c ana put value v1 indicator=i1 period=2026-05 actual=41
c ana put value v2 indicator=i1 period=2026-Q2 actual=9.5
c ana put value v3 indicator=i1 period=2026 actual=100
c ana put value v4 indicator=i1 period=2025-12 actual=38

# ids of `cairn list TYPE ARGS...`, one line
ids() { local t=$1; shift; c ana list "$t" "$@" | cut -f1 | paste -sd, -; }
expect() { local want=$1; shift; local got; got=$(ids "$@") || fail "list $* failed"
  [ "$got" = "$want" ] || fail "list $*: got '$got', want '$want'"; ok "list $* -> ${want:-nothing}"; }

expect c1,c2,c3,c4 commitment
expect c1 commitment --where partner=p1 --where 'due>2026-04-01'
expect c1,c3,c4 commitment --where status!=done
expect c2 commitment --where 'due<2026-05-01'
expect c1,c2 commitment --where 'due<=2026-05-01'
expect c3 commitment --where 'due>2026-05-01'
expect c1,c3 commitment --where 'due>=2026-05-01'
expect c1 commitment --where due=2026-05-01
expect c2,c3,c4 commitment --where due!=2026-05-01
expect c4 commitment --where due=
expect c1 commitment --where 'title~TUTOR' --where partner=p1 --sort -due --limit 1
expect c1 commitment --where 'title~tUtOr'
expect c1,c3,c4 commitment --where status=in:planned,at-risk
# --search: any field shown, any case; with --where too
expect p1 partner --search LIBRARY
expect c1,c4 commitment --search PLANNED
expect c4 commitment --search planned --search OPEN
expect c4 commitment --search planned --where partner=p2
expect "" commitment --search zebra
# periods in time: 2025-12 < 2026 < 2026-Q2 < 2026-05; numbers as numbers
expect v4,v3 value --where 'period<2026-Q2' --sort period
expect v2 value --where period=2026-q2
expect v3,v1,v4,v2 value --where 'actual>9' --sort -actual
expect v4,v3,v2,v1 value --sort period
# sort: records without the field last, either way
expect c2,c1,c3,c4 commitment --sort due
expect c3,c1,c2,c4 commitment --sort -due
expect c3,c2,c1,c4 commitment --sort status,-due
expect c2,c1 commitment --sort due --limit 2

# --fields chooses and orders what is shown (text, JSON)
line=$(c ana list commitment --where _id=c1 --fields due,title)
[ "$line" = "c1	due=2026-05-01	title=Tutor 40 third graders" ] || fail "--fields text: $line"
ok "--fields: text"
json=$(c ana list commitment --where _id=c3 --fields status --json)
[ "$json" = '[{"_type":"commitment","_id":"c3","status":"at-risk"}]' ] || fail "--fields json: $json"
ok "--fields: JSON"

# --csv: a header, then RFC 4180 quoting
csv=$(c ana list commitment --csv --fields title,due --sort due --limit 2)
want='_id,title,due
c2,"Books, ""new"" ones",2026-03-15
c1,Tutor 40 third graders,2026-05-01'
[ "$csv" = "$want" ] || fail "--csv: $csv"
ok "--csv with quoting"
c ana list commitment --csv | head -1 | has '^_id,partner,plan,title,due,status,evidence$' \
  || fail "--csv header without --fields"
ok "--csv header: _id then the schema's fields"

# --deleted: deleted records come too, marked
c ana del commitment c2
expect c1,c3,c4 commitment
expect c1,c2,c3,c4 commitment --deleted
c ana list commitment --deleted --json | has '"_id":"c2"[^}]*"_deleted":true' || fail "_deleted in JSON"
c ana list commitment --deleted | grep '^c2' | has '_deleted=true' || fail "_deleted in text"
ok "--deleted marks deleted records"

# mistakes are errors, never an empty success
rc=0; c ana list comitment >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && has 'did you mean commitment?' <"$T/err" || fail "unknown type: rc $rc $(cat "$T/err")"
ok "an unknown type: $(cat "$T/err")"
rc=0; c ana list commitment --where stauts=done >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && has 'did you mean status?' <"$T/err" || fail "unknown field: rc $rc $(cat "$T/err")"
ok "an unknown field: $(cat "$T/err")"
rc=0; c ana list commitment --sort -stauts >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && has 'did you mean status?' <"$T/err" || fail "unknown sort field: $(cat "$T/err")"
ok "an unknown sort field"
rc=0; c ana list commitment --where 'due<next-week' >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && has 'is not a date' <"$T/err" || fail "bad value: rc $rc $(cat "$T/err")"
ok "a value not of the field's kind: $(cat "$T/err")"
rc=0; c ana list commitment --where status=plannned >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 1 ] && has 'did you mean planned?' <"$T/err" || fail "bad enum: $(cat "$T/err")"
ok "an enum value with a typo"
rc=0; c ana list commitment --where status >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] && has 'usage: cairn list' <"$T/err" || fail "no operator: rc $rc $(cat "$T/err")"
ok "an expression without an operator is a usage error"
rc=0; c ana list commitment --json --csv >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] || fail "--json --csv: rc $rc"
rc=0; c ana list commitment --limit 0 >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] || fail "--limit 0: rc $rc"
rc=0; c ana list commitment --search '' >"$T/out" 2>"$T/err" || rc=$?
[ "$rc" -eq 2 ] || fail "--search '': rc $rc"
ok "--json with --csv, --limit 0, an empty --search: usage errors"

# types: every schema type with its count and label
c ana types >"$T/types"
has '^commitment	3	Commitment$' <"$T/types" || fail "types: $(cat "$T/types")"
has '^meeting	0	Meeting$' <"$T/types" || fail "types without records: $(cat "$T/types")"
! has '_member' <"$T/types" || fail "types shows cairn's own types"
c ana types --json | has '{"type":"value","count":4,"label":"Data point"}' || fail "types --json"
ok "cairn types"

# a free-form network: = as before, numbers as numbers
c bob init --name Bob >/dev/null
c bob network create "Free" --schema none >/dev/null
c bob put thing a count:=9
c bob put thing b count:=10
c bob put thing c count:=100
c bob put thing d count=42
ids2() { c bob list thing "$@" | cut -f1 | paste -sd, -; }
[ "$(ids2 --where count=42)" = d ] || fail "free-form ="
[ "$(ids2 --where 'count>9')" = b,c ] || fail "free-form >: $(ids2 --where 'count>9')"
[ "$(ids2 --sort -count)" = d,c,b,a ] || fail "free-form sort: $(ids2 --sort -count)"
[ "$(ids2 --where nothing=1)" = "" ] || fail "free-form unknown field"
c bob types | has '^thing	4$' || fail "free-form types"
ok "a free-form network"

echo "$NAME: $n checks passed"
