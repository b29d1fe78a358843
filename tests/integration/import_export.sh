#!/usr/bin/env bash
# import_export.sh — `cairn import` and `cairn export` end to end on a network
# with the default schema (docs/cli.md, "Import and export"): partners, then
# commitments with a typo and a bad reference (every error named by line and
# column, nothing written), a dry run, the fixed file imported; exports to CSV,
# JSON and XLSX; an export imported into a fresh store exports again to the
# same bytes with every record equal; --all; a file big enough for several
# entries; and the command lines each refuses.
#
# Usage: bash tests/integration/import_export.sh BUILD_DIR
set -euo pipefail
. "$(dirname "$0")/lib/common.sh" "$@"

# expect_rc CODE WHO ARGS...: the command exits CODE (stdout in $T/out, stderr in $T/err)
expect_rc() {
  local want=$1 rc=0
  shift
  c "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "cairn ${*:2} exited $rc, expected $want: $(head -3 "$T/err")"
}
# log_count WHO: entries in WHO's log
log_count() { c "$1" log | wc -l; }
# json_same A B: two JSON files hold equal values
json_same() { python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' "$1" "$2"; }

step "a network with the default schema"
c a init --name Ana >/dev/null
c a network create "Northside Cradle to Career" >/dev/null

step "partners"
printf '%s\r\n' '_id,name,kind,stage,notes' \
  'p1,"Acme, Inc",school,engaged,"Said ""yes"" at the
meeting"' \
  'p2,Beta Clinic,clinic,lead,' \
  'p3,Gamma Library,agency,,' >"$T/partners.csv"
c a import partner "$T/partners.csv" >"$T/out"
has '^imported 3 partner records (3 new, 0 updated) in 1 entry$' <"$T/out" || fail "partners: $(cat "$T/out")"
[ "$(c a get partner p1 --json)" = '{"_type":"partner","_id":"p1","name":"Acme, Inc","kind":"school","stage":"engaged","notes":"Said \"yes\" at the\nmeeting"}' ] ||
  fail "p1 as imported: $(c a get partner p1 --json)"
ok "partners imported, quoted comma, quotes and line break kept"

step "commitments with a typo and a bad reference: errors, nothing written"
cat >"$T/commitments.csv" <<'EOF'
_id,partner,title,due,status
c1,p1,Tutor 40 third graders,2027-01-15,planned
c2,p2,Reading nights,2027-02-01,in-progress
c3,p3,Summer books,2027-06-30,plannned
c4,p4,Mentors,2027-31-12,done
c5,,Family nights,,
EOF
before=$(log_count a)
expect_rc 1 a import commitment "$T/commitments.csv"
[ -s "$T/out" ] && fail "an import that failed printed on stdout: $(cat "$T/out")"
has '^cairn: line 4, column status: commitment c3: status "plannned" is not one of planned, in-progress, done, at-risk, dropped; did you mean planned?$' <"$T/err" ||
  fail "no typo error: $(cat "$T/err")"
has '^cairn: line 5, column partner: commitment c4: partner "p4" names no partner; did you mean p1 (Acme, Inc)?$' <"$T/err" ||
  fail "no reference error: $(cat "$T/err")"
has '^cairn: line 5, column due: commitment c4: due "2027-31-12" is not a date (YYYY-MM-DD)$' <"$T/err" ||
  fail "no date error: $(cat "$T/err")"
has '^cairn: line 6, column partner: commitment c5: partner is required; give it a value$' <"$T/err" ||
  fail "no required error: $(cat "$T/err")"
has '^cairn: 4 errors in .*commitments.csv; nothing was imported$' <"$T/err" || fail "no summary: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 5 ] || fail "expected 5 lines on stderr: $(cat "$T/err")"
[ "$(c a list commitment --json)" = "[]" ] || fail "commitments were written"
[ "$(log_count a)" -eq "$before" ] || fail "the log grew"
ok "4 errors by line and column, nothing written"

step "an unknown column: did you mean"
printf '_id,partner,titel\nc9,p1,x\n' >"$T/bad_column.csv"
expect_rc 1 a import commitment "$T/bad_column.csv"
has '^cairn: line 1, column titel: commitment has no field "titel"; did you mean title?$' <"$T/err" ||
  fail "unknown column: $(cat "$T/err")"
ok "unknown column named with did you mean"

step "the fixed file: a dry run, then the import"
sed -i 's/plannned/planned/; s/,p4,/,p2,/; s/2027-31-12/2027-12-31/; s/^c5,,/c5,p1,/' "$T/commitments.csv"
c a import commitment "$T/commitments.csv" --dry-run >"$T/out"
has '^would import 5 commitment records (5 new, 0 updated) in 1 entry; nothing was written (--dry-run)$' <"$T/out" ||
  fail "dry run: $(cat "$T/out")"
[ "$(c a list commitment --json)" = "[]" ] || fail "the dry run wrote"
[ "$(log_count a)" -eq "$before" ] || fail "the dry run grew the log"
c a import commitment "$T/commitments.csv" >"$T/out"
has '^imported 5 commitment records (5 new, 0 updated) in 1 entry$' <"$T/out" || fail "import: $(cat "$T/out")"
[ "$(log_count a)" -eq $((before + 1)) ] || fail "expected one new entry"
c a import commitment "$T/commitments.csv" >"$T/out"
has '^imported 5 commitment records (0 new, 0 updated, 5 unchanged)$' <"$T/out" || fail "again: $(cat "$T/out")"
[ "$(log_count a)" -eq $((before + 1)) ] || fail "an unchanged import wrote"
ok "dry run writes nothing; the import is one entry; again, nothing changes"

step "values of other kinds"
c a put indicator i1 title="Third-grade reading" baseline=41.5 target=60 baseline_period=2025 \
  target_period=2027-Q4 direction=up >/dev/null
c a put meeting m1 date=2027-01-20 attendees="p1, p2" title="Quarterly" >/dev/null

step "export to CSV, JSON and XLSX"
c a export commitment "$T/c.csv" >"$T/out"
has '^exported 5 commitment records to ' <"$T/out" || fail "export: $(cat "$T/out")"
head -1 "$T/c.csv" | has $'^_id,partner,plan,title,due,status,evidence\r$' || fail "CSV header: $(head -1 "$T/c.csv")"
grep -q $'^c1,p1,,Tutor 40 third graders,2027-01-15,planned,\r$' "$T/c.csv" || fail "CSV row: $(cat "$T/c.csv")"
c a export partner "$T/p.csv" >/dev/null
c a export meeting "$T/m.csv" >/dev/null
grep -q $'^m1,2027-01-20,,Quarterly,"p1, p2",\r$' "$T/m.csv" || fail "refs in CSV: $(cat "$T/m.csv")"
c a export indicator "$T/i.json" >/dev/null
c a export commitment "$T/c.json" >/dev/null
c a list commitment --json >"$T/list.json"
json_same "$T/c.json" "$T/list.json" || fail "JSON export differs from list --json"
c a export commitment "$T/c.xlsx" >/dev/null
python3 - "$T/c.xlsx" <<'EOF' || fail "the workbook is not a valid XLSX with a commitment sheet"
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
assert names == ["commitment"], names
sheet = z.read("xl/worksheets/sheet1.xml").decode()
assert "Tutor 40 third graders" in sheet and "_id" in sheet
EOF
ok "CSV, JSON (as list --json) and XLSX written"

step "round trip on a fresh store"
c b init --name Ben >/dev/null
c b network create "Copy" >/dev/null
c b import partner "$T/p.csv" >/dev/null
c b import commitment "$T/c.json" >/dev/null
c b import meeting "$T/m.csv" >/dev/null
c b import indicator "$T/i.json" >/dev/null
c b export partner "$T/p2.csv" >/dev/null
c b export commitment "$T/c2.json" >/dev/null
c b export commitment "$T/c2.csv" >/dev/null
c b export meeting "$T/m2.csv" >/dev/null
c b export indicator "$T/i2.json" >/dev/null
for f in p.csv c.json c.csv m.csv i.json; do
  cmp -s "$T/$f" "$T/${f%.*}2.${f##*.}" || fail "$f differs after the round trip"
done
for type in partner commitment meeting indicator; do
  for id in $(c a list "$type" | cut -f1); do
    same "$type $id" "$(c a get "$type" "$id" --json)" "$(c b get "$type" "$id" --json)"
  done
done
ok "export, import on a fresh store, export again: identical files and records"

step "every type: JSON and XLSX, not CSV"
c a export --all "$T/all.json" >"$T/out"
has '^exported 10 records of 15 types to ' <"$T/out" || fail "export --all: $(cat "$T/out")"
c a export --all "$T/all.xlsx" >/dev/null
python3 - "$T/all.xlsx" <<'EOF' || fail "the workbook does not have one sheet per type"
import re, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = re.findall(r'<sheet name="([^"]+)"', z.read("xl/workbook.xml").decode())
want = ["partner", "person", "site", "result", "indicator", "program", "measure", "value",
        "plan", "commitment", "meeting", "interaction", "goal", "rating", "story"]
assert names == want, names
EOF
expect_rc 2 a export --all "$T/all.csv"
has 'a CSV file holds one type: export every type to a .json or .xlsx file' <"$T/err" ||
  fail "--all to CSV: $(cat "$T/err")"
[ -e "$T/all.csv" ] && fail "--all to CSV left a file"
c d init --name Dee >/dev/null
c d network create "From all" >/dev/null
c d import partner "$T/all.json" >/dev/null
c d import commitment "$T/all.json" >/dev/null
same "commitments from --all" "$(c a list commitment --json)" "$(c d list commitment --json)"
ok "--all: a sheet per type, an object per type, imported back type by type"

step "a file bigger than one entry"
python3 - "$T/many.csv" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("_id,name,stage,notes\n")
    for i in range(12000):
        f.write("q%05d,Partner %d,lead,%s\n" % (i, i, "n" * 120))
EOF
before=$(log_count a)
c a import partner "$T/many.csv" >"$T/out"
entries=$(sed -n 's/.* in \([0-9]*\) entries$/\1/p' "$T/out")
[ -n "$entries" ] && [ "$entries" -ge 2 ] || fail "expected several entries: $(cat "$T/out")"
[ "$(log_count a)" -eq $((before + entries)) ] || fail "the log did not grow by $entries"
[ "$(c a list partner | wc -l)" -eq 12003 ] || fail "not every partner is there"
ok "12,000 rows in $entries entries"

step "command lines refused"
expect_rc 2 a import partner "$T/partners.txt"
expect_rc 2 a import partner "$T/all.xlsx"
expect_rc 2 a import partner
expect_rc 2 a export partner
expect_rc 2 a export --all partner "$T/x.json"
expect_rc 1 a import partnr "$T/partners.csv"
has 'did you mean partner?' <"$T/err" || fail "unknown type: $(cat "$T/err")"
expect_rc 1 a import partner "$T/nope.csv"
expect_rc 1 a export partnr "$T/x.json"
[ -e "$T/x.json" ] && fail "a failed export left a file"
ok "bad command lines refused"

step "ok ($n checks)"
echo "$n passed, 0 failed"
