#!/usr/bin/env bash
# report_measures.sh — `cairn report measures` and `cairn report goals` from
# the command line (docs/cli.md, "Reports"; docs/design.md, "Reports"): text
# and JSON over a few records with known slopes and trends (up and down,
# sites and groups, one value), rows with _type and _id and numbers as
# numbers, --as-of a past time that leaves out later writes, CSV and HTML
# written, and a report name with a typo refused with "did you mean".
#
# Usage: bash tests/integration/report_measures.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

c ana init --name Ana >/dev/null
c ana network create "Northside" >/dev/null

c ana put site s1 name="Adams Elementary"
c ana put site s2 name="Bell Middle"
c ana put result r1 title="Children read on grade level"
c ana put indicator read title="Third graders reading" result=r1 unit=percent direction=up \
  baseline=40 baseline_period=2020 target=60 target_period=2024
c ana put indicator absent title="Chronic absence" direction=down target=10 target_period=2025-Q1
c ana put value v1 indicator=read site=s1 period=2020 actual=40
c ana put value v2 indicator=read site=s1 period=2021 actual=46
c ana put value v3 indicator=read site=s1 period=2022 actual=50
c ana put value v4 indicator=read site=s2 period=2021 actual=40
c ana put value v5 indicator=read site=s2 period=2022 actual=38 forecast=41
c ana put value v6 indicator=read site=s2 group="grade 3" period=2022 actual=44
c ana put value a1 indicator=absent period=2024-Q1 actual=20
c ana put value a2 indicator=absent period=2024-Q2 actual=19
c ana put partner p1 name="Lincoln Library"
c ana put partner p2 name="Eastside Clinic"
c ana put goal trust title=Trust scale_min=1 scale_max=5
c ana put rating t1 goal=trust partner=p1 period=2026-Q1 score=3
c ana put rating t2 goal=trust partner=p1 period=2026-Q2 score=4
c ana put rating t3 goal=trust partner=p2 period=2026-Q2 score=2
sleep 1.1
THEN=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
sleep 1.1
c ana put value v7 indicator=read site=s1 period=2023 actual=30
c ana put rating t4 goal=trust partner=p2 period=2026-Q3 score=1

# text: the series table with each trend, the chart's values, its caption
c ana report measures >"$T/m.txt" || fail "report measures failed"
has '^== Measures against target ==' <"$T/m.txt" || fail "no summary: $(cat "$T/m.txt")"
has 'Third graders reading  *Adams Elementary  *all  *2023  *30  *60  *-2.6 per year  *30 per year  *wrong-way' \
  <"$T/m.txt" || fail "Adams is not going the wrong way: $(cat "$T/m.txt")"
has 'Third graders reading  *Bell Middle  *all  *2022  *38  *60  *-2 per year  *11 per year  *wrong-way' \
  <"$T/m.txt" || fail "Bell: $(cat "$T/m.txt")"
has 'Third graders reading  *Bell Middle  *grade 3  *2022  *44  *60  *8 per year  *no-data' \
  <"$T/m.txt" || fail "Bell, grade 3 (one value): $(cat "$T/m.txt")"
has 'Chronic absence  *All sites  *all  *2024-Q2  *19  *10  *-1 per quarter  *-3 per quarter  *too-slow' \
  <"$T/m.txt" || fail "chronic absence: $(cat "$T/m.txt")"
has '^  Adams Elementary: 2020 40 2021 46 2022 50 2023 30$' <"$T/m.txt" || fail "the chart's values"
has '^  target 60 by 2024$' <"$T/m.txt" || fail "the target line"
has 'Trend: Adams Elementary wrong-way; Bell Middle wrong-way; Bell Middle, grade 3 no-data' \
  <"$T/m.txt" || fail "the chart's caption"
ok "report measures: slopes, needed slopes and trends per site and group, in text"

# JSON: rows with _type and _id, numbers as numbers
c ana report measures --format json >"$T/m.json" || fail "report measures --format json failed"
python3 - "$T/m.json" <<'EOF' || fail "report measures JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["report"] == "measures", d["report"]
summary = d["sections"][0]
assert summary["facts"] == {"series": 4, "on_track": 0, "too_slow": 1, "wrong_way": 2,
                            "no_data": 1}, summary["facts"]
rows = summary["tables"][0]["rows"]
bell = [r for r in rows if r["site"] == "Bell Middle" and r["group"] == "all"][0]
assert bell["_type"] == "indicator" and bell["_id"] == "read", bell
assert bell["latest"] == 38 and bell["slope"] == -2 and bell["needed_slope"] == 11, bell
assert bell["trend"] == "wrong-way", bell
one = [r for r in rows if r["group"] == "grade 3"][0]
assert one["slope"] is None and one["trend"] == "no-data", one
read = [s for s in d["sections"] if s["id"] == "indicator-read"][0]
chart = read["charts"][0]
assert chart["x"] == ["2020", "2021", "2022", "2023"], chart["x"]
assert len(chart["series"]) == 3 and chart["target"] == 60 and chart["baseline"] == 40, chart
values = read["tables"][0]["rows"]
v5 = [r for r in values if r["_id"] == "v5"][0]
assert v5["_type"] == "value" and v5["actual"] == 38 and v5["forecast"] == 41, v5
EOF
ok "report measures --format json: _type, _id, numbers, charts"

# as of a time before the later writes: Adams back on its line
c ana report measures --as-of "$THEN" >"$T/then.txt" || fail "report measures --as-of failed"
has 'Third graders reading  *Adams Elementary  *all  *2022  *50  *60  *5 per year  *5 per year  *on-track' \
  <"$T/then.txt" || fail "--as-of did not leave out the later value: $(cat "$T/then.txt")"
has '2023' <"$T/then.txt" && fail "--as-of shows a value written after it"
ok "report measures --as-of a past time leaves out what was written after it"

# goals: the latest score, the change since the previous rating, one rating alone
c ana report goals >"$T/g.txt" || fail "report goals failed"
has '^== Trust ==' <"$T/g.txt" || fail "no section for the goal: $(cat "$T/g.txt")"
has 'Eastside Clinic  *2026-Q3  *1  *2026-Q2  *2  *-1  *down' <"$T/g.txt" ||
  fail "the clinic's fall: $(cat "$T/g.txt")"
has 'Lincoln Library  *2026-Q2  *4  *2026-Q1  *3  *+1  *up' <"$T/g.txt" ||
  fail "the library's rise: $(cat "$T/g.txt")"
has '^  Lincoln Library: 2026-Q1 3 2026-Q2 4$' <"$T/g.txt" || fail "the goal's chart"
c ana report goals --format json --as-of "$THEN" >"$T/g.json" || fail "report goals json failed"
python3 - "$T/g.json" <<'EOF' || fail "report goals JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["report"] == "goals"
assert d["sections"][0]["facts"] == {"goals": 1, "rose": 1, "fell": 0, "held": 0}, d["sections"][0]
rows = d["sections"][1]["tables"][0]["rows"]
clinic = rows[0]
assert clinic["partner"] == "Eastside Clinic" and clinic["_type"] == "rating", clinic
assert clinic["_id"] == "t3" and clinic["score"] == 2 and clinic["change"] is None, clinic
library = rows[1]
assert library["_id"] == "t2" and library["change"] == 1 and library["direction"] == "up", library
chart = d["sections"][1]["charts"][0]
assert chart["x"] == ["2026-Q1", "2026-Q2"] and len(chart["series"]) == 2, chart
EOF
ok "report goals: latest score, change and direction, in text and JSON as of a past time"

# other formats, and a typo
c ana report measures -o "$T/m.csv" || fail "report measures -o FILE.csv failed"
has '^indicator,read,Third graders reading,Bell Middle,grade 3,2022,44,60,,8,no-data' <"$T/m.csv" ||
  fail "CSV: $(cat "$T/m.csv")"
c ana report goals --format html -o "$T/g.html" || fail "report goals html failed"
has '<h2>Trust</h2>' <"$T/g.html" || fail "HTML: $(head -c 400 "$T/g.html")"
rc=0
out=$(c ana report measure 2>&1) || rc=$?
[ "$rc" -eq 2 ] || fail "report measure: exit $rc, not 2"
has 'did you mean measures?' <<<"$out" || fail "report measure said '$out'"
ok "report measures and goals as CSV and HTML; a typo in the name gets a suggestion"

echo "$NAME: $n checks passed"
