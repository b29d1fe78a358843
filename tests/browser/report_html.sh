#!/usr/bin/env bash
# report_html.sh — the reports' HTML pages in a real browser (docs/design.md,
# "Reports"): a store with the default schema and data for every report
# (lib/seed.sh); each report `cairn report` knows is written as HTML and as
# JSON, opened in headless Chromium at a laptop's width and a tablet's, and
# checked by lib/page_check.py: no console message, error or request for
# anything outside the page, no script, nothing wider than the window, every
# section, table, fact and chart of the JSON on the page with its series, each
# chart titled and described, x labels apart and inside their chart, and the
# expectations given below. The hand-made document with charts of every kind
# (tests/tools/reportdoc) is checked the same way. Screenshots, DOMs and
# printed PDFs are kept in BUILD/artifacts/ (report-NAME.png,
# report-NAME-tablet.png, report-NAME.pdf, report-NAME.html, and
# report-measures-chart.png: the images in docs/ are copies of these).
#
# First, the checker itself must fail on a page that breaks each rule
# (lib/bad_page.html).
#
# Without chromium the test is skipped (exit 77, shown by ctest as skipped),
# except under CI or scripts/test (CI or CAIRN_REQUIRE_BROWSER set), where it
# fails: scripts/test installs Debian's chromium.
#
# Usage: bash tests/browser/report_html.sh BUILD_DIR
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib/common.sh" "$@"
. "$HERE/lib/seed.sh"

. "$HERE/lib/browser.sh"

# check PAGE NAME [page_check options]: the page at a laptop's width (with the
# printed PDF), then at a tablet's.
check() {
  local page=$1 name=$2
  shift 2
  python3 "$HERE/lib/page_check.py" "$page" --name "$name" --width 1280 \
    --png "$ART/report-$name.png" --pdf "$ART/report-$name.pdf" --dom "$ART/report-$name.dom.html" \
    "$@" >"$T/check.out" 2>&1 || { cat "$T/check.out"; fail "$name: the page failed its checks"; }
  n=$((n + $(grep -c '^ok' "$T/check.out")))
  python3 "$HERE/lib/page_check.py" "$page" --name "$name (tablet)" --width 768 \
    --png "$ART/report-$name-tablet.png" "$@" >"$T/check.out" 2>&1 ||
    { cat "$T/check.out"; fail "$name: the page failed its checks on a tablet"; }
  n=$((n + $(grep -c '^ok' "$T/check.out")))
  ok "$name: in chromium at 1280 and 768 px wide ($ART/report-$name.png)"
}

# report NAME [page_check options]: cairn report NAME as HTML and JSON, checked.
# A report this build does not have yet is left out, saying so.
report() {
  local name=$1
  shift
  if ! c ana report "$name" --format json -o "$T/$name.json" 2>"$T/report.err"; then
    if grep -q "no report \"$name\"" "$T/report.err"; then
      echo "note $name: not in this build's reports, left out"
      return 0
    fi
    fail "cairn report $name: $(cat "$T/report.err")"
  fi
  c ana report "$name" --format html -o "$ART/report-$name.html" ||
    fail "cairn report $name --format html failed"
  check "$ART/report-$name.html" "$name" --json "$T/$name.json" "$@"
}

step "the checker fails a page that breaks its rules"
rc=0
python3 "$HERE/lib/page_check.py" "$HERE/lib/bad_page.html" --png "$T/bad.png" --h1 Title \
  --charts 1 >"$T/bad.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$T/bad.out"; fail "page_check exited $rc on the bad page, not 1"; }
for want in "console.error: boom" "exception: Uncaught" "loaded from elsewhere: http://127.0.0.1:9/" \
  "FAIL .*no script" "FAIL .*heading 'Title'" "FAIL .*x labels do not overlap: 1 overlaps" \
  "FAIL .*outside: \['outside the chart'\]" "FAIL bad_page.html: chart None has an aria-label" \
  "FAIL .*1 charts: found 2"; do
  has "$want" <"$T/bad.out" || { cat "$T/bad.out"; fail "page_check missed: $want"; }
done
ok "page_check fails on console output, an exception, an outside request, a script, a wrong heading, overlapping or stray labels, an untitled chart, a wrong count"

step "seeding a partnership"
seed_store ana

step "the reports"
# One line per report: its name, then what its page must show beyond what its
# JSON holds (lib/page_check.py --help).
report commitments --h1 Commitments --h2 Commitments --charts 0
report measures --chart "Third graders reading on grade level=3" --chart "Chronic absence=2"
report partners
report goals
report changes
report meeting

if [ -f "$ART/report-measures.html" ]; then # one chart alone, as docs/report-chart.png shows it
  python3 "$HERE/lib/page_check.py" "$ART/report-measures.html" --name "measures chart" \
    --width 1280 --crop 'figure:has(svg[aria-label^="Third graders"])' --png "$ART/report-measures-chart.png" >"$T/check.out" ||
    { cat "$T/check.out"; fail "the measures report's chart"; }
  ok "measures: the reading chart alone ($ART/report-measures-chart.png)"
fi

step "a document with charts of every kind (tests/tools/reportdoc)"
"$BUILD/tests/tools/reportdoc" html "$ART/report-charts.html"
"$BUILD/tests/tools/reportdoc" json "$T/charts.json"
check "$ART/report-charts.html" charts --json "$T/charts.json" --series 3,2,1,1

echo "$NAME: $n checks passed"
