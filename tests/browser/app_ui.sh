#!/usr/bin/env bash
# app_ui.sh — the app `cairn ui` serves, in a real headless Chromium
# (docs/http.md, "The app"): Ana's store seeded with a partnership
# (lib/seed.sh), Dan's a copy of it by bundle; `cairn ui` on Ana's store and
# lib/app_check.py using the printed URL as a coordinator would: the
# dashboard, a partner and a commitment made through the forms, the CLI's own
# messages for a missing partner and a bad number, lists with search and
# filters, an edit of Dan's brought by a bundle that becomes a conflict on the
# open page by itself and is resolved with a click, what changed, the members
# and an invite, a CSV import refused line by line then done, "Sync now"
# through a real relay; then at a tablet's width. No console message or outside request is allowed.
# Screenshots in BUILD/artifacts/app-*.png (docs/app-*.png are copies).
#
# Without chromium the test is skipped (lib/browser.sh).
#
# Usage: bash tests/browser/app_ui.sh BUILD_DIR
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib/common.sh" "$@"
. "$HERE/lib/seed.sh"

. "$HERE/lib/browser.sh"
. "$HERE/../integration/lib/web.sh"

step "seeding a partnership; Dan gets a copy"
seed_store ana
c dan init --name Dan >/dev/null
c ana grant "$(c dan id)" --role editor --name Dan
c ana bundle create "$T/ana.bdl" >/dev/null
c dan bundle apply "$T/ana.bdl" >/dev/null

# The messages the CLI gives for the mistakes the app will make (Dan's store:
# nothing is written on a refusal).
bad_value=$(c dan put indicator i1 target=forty 2>&1 >/dev/null || true)
missing=$(c dan put commitment zz title=x 2>&1 >/dev/null || true)
[[ "$bad_value" == "cairn: indicator i1: target \"forty\" is not a number"* ]] ||
  fail "the CLI's message for a bad number: $bad_value"
[[ "$missing" == "cairn: commitment zz: partner is required"* ]] ||
  fail "the CLI's message for a missing partner: $missing"

step "a relay for Ana's network (Ana has not synced yet)"
NET=$(c ana list _network --json | jq -r '.[0]._id')
RK=$("$CAIRND" init "$T/relay")
"$CAIRND" host "$T/relay" "$NET" 2>/dev/null
touch "$T/relay.log"
start_relay ""
c ana remote "127.0.0.1:$PORT" --key "$RK"

step "cairn ui on Ana's store"
start_ui ana

step "the app in chromium"
python3 "$HERE/lib/app_check.py" --url "$URL" --cairn "$CAIRN" --ana "$T/ana" --dan "$T/dan" \
  --art "$ART" --bad-value "${bad_value#cairn: }" --missing "${missing#cairn: }" >"$T/app.out" 2>&1 ||
  { cat "$T/app.out"; fail "the app failed its checks"; }
cat "$T/app.out"
n=$(grep -c '^ok' "$T/app.out")

stop_ui
stop_relay
echo "$NAME: $n checks passed; screenshots in $ART/app-*.png"
