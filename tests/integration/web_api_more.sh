#!/usr/bin/env bash
# web_api_more.sh — the routes of `cairn ui` that the web app needs beyond
# records (docs/http.md), with curl and jq against real servers on 127.0.0.1,
# each answer compared with what the CLI prints for the same thing.
#
# 1. Members: GET /api/members is `cairn members --json`; POST /api/invites
#    makes an invite listed as pending, whose code a new device joins with (then
#    used); bad terms are 400 with the CLI's message; POST /api/revoke/KEY
#    revokes (then listed revoked), 404 for a key that is no member (the CLI's
#    message), 403 from an editor's server with the library's refusal.
# 2. History of a record edited twice through the API is `cairn history --json`;
#    none is 404 with the CLI's message.
# 3. Conflicts made by two stores swapping bundles: /api/conflicts names each
#    head's author; POST /api/resolve refuses a field not in conflict and a
#    _keep without a delete/edit conflict (409, the CLI's messages), ends the
#    conflict (gone from /api/conflicts), and _keep ends a delete/edit one.
# 4. Typed text: "forty" in a number field is 422 with exactly the message of
#    `cairn put partner p1 count=forty`; "40" stores the number 40; null unsets.
# 5. Import: a dry run with errors is 422 with each error's line and column and
#    writes nothing; a dry run without errors writes nothing; a real import
#    writes; JSON bodies too; a file that is not JSON is 400 with its line; a
#    body of another type 415.
# 6. Export: CSV is byte for byte `cairn export`, as an attachment; every type
#    as JSON is `cairn export --all`; XLSX is a workbook; bad formats 400.
# 7. Status: this device's name, key, role, network, clock, last arrival (which
#    grows when entries arrive) and conflict count; a server whose clock is two
#    days behind says so after a sync.
# 8. Search: GET /api/records/TYPE?search= is `cairn list TYPE --search --json`.
# Every new route refuses an unknown query parameter (400) and a wrong method
# (405 with Allow); so do the routes that take no parameter.
#
# Usage: bash tests/integration/web_api_more.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
. "$(dirname "$0")/lib/web.sh"

SCHEMA=$(dirname "$0")/../../client/lib/schemas/collective-impact.json

# swap A B: A's entries to B and B's to A, on bundle files
swap() {
  c "$1" bundle create "$T/$1.bdl" >/dev/null
  c "$2" bundle create "$T/$2.bdl" >/dev/null
  c "$2" bundle apply "$T/$1.bdl" >/dev/null
  c "$1" bundle apply "$T/$2.bdl" >/dev/null
}
# cli_error CMD...: the CLI's one error line without "cairn: " (and without a
# usage line's "; usage: ...")
cli_error() {
  local err
  err=$(c "$@" 2>&1 >/dev/null || true)
  err=${err#cairn: }
  echo "${err%%; usage: *}"
}
# refuses_param PATH METHOD: an unknown query parameter is 400
refuses_param() {
  api "$2" "$1?colour=red" "${3:-}"
  expect 400 "$2 $1 with an unknown parameter"
  error_is "unknown query parameter 'colour'"
}
# refuses_method PATH METHOD ALLOWED: 405 with Allow
refuses_method() {
  api "$2" "$1"
  expect 405 "$2 $1"
  [ "$(header Allow)" = "$3" ] || fail "$2 $1: Allow '$(header Allow)', not '$3'"
}

network_with ana ben
c ana schema apply "$SCHEMA" >/dev/null
cat >"$T/more.json" <<'JSON'
{"types": [{"name": "partner", "fields": [{"name": "count", "kind": "number"},
                                           {"name": "since", "kind": "date"}]}]}
JSON
c ana schema apply "$T/more.json" >/dev/null
c ana put partner p1 name="Lincoln High" kind=school notes="tutoring on Tuesdays"
c ana put partner p2 name="Eastside Clinic" kind=clinic
c ana put commitment c1 title="Open on Saturdays" partner=p2
sync_ok ana
start_ui ana
ANA=$(c ana id)
BEN=$(c ben id)

step "members"
api GET /api/members
expect 200 "members"
same "members" "$(c ana members --json | jq -cS .)" "$(jq -cS . <<<"$OUT")"
refuses_param /api/members GET
refuses_method /api/members POST GET
ok "GET /api/members is \`cairn members --json\`"

api POST /api/invites '{"role":"editor","name":"Cleo Park","organization":"p1","expires_days":3}'
expect 201 "an invite"
CODE_CLEO=$(jq -r .code <<<"$OUT")
[[ "$CODE_CLEO" == cairn1:* ]] || fail "invite code: $OUT"
jq -e '.status == "pending" and .name == "Cleo Park" and .role == "editor" and .uses == 1 and
  .used == 0 and .organization == "p1" and .organization_name == "Lincoln High"' <<<"$OUT" \
  >/dev/null || fail "invite reply: $OUT"
CLEO_INVITE=$(jq -r .key <<<"$OUT")
api GET /api/members
jq -e --arg k "$CLEO_INVITE" '.invites[] | select(.key == $k and .status == "pending")' \
  <<<"$OUT" >/dev/null || fail "the invite is not listed pending: $OUT"
c ana members | has "^$CLEO_INVITE	Cleo Park	editor	Lincoln High	pending	" ||
  fail "the CLI does not list the invite: $(c ana members)"
ok "POST /api/invites: 201 with the code; listed pending by the API and the CLI"

api POST /api/sync
expect 200 "sync the invite to the relay"
c cleo init --name Cleo >/dev/null
c cleo join "$CODE_CLEO" >/dev/null || fail "cleo cannot join with the API's invite"
api POST /api/sync
api GET /api/members
jq -e --arg k "$CLEO_INVITE" '.invites[] | select(.key == $k and .status == "used" and .used == 1)' \
  <<<"$OUT" >/dev/null || fail "the invite is not used: $OUT"
jq -e '.members[] | select(.name == "Cleo Park" and .role == "editor")' <<<"$OUT" >/dev/null ||
  fail "cleo is not a member: $OUT"
ok "the API's invite code joins a new device; the invite is then used"

api POST /api/invites '{"role":"owner","name":"X"}'
expect 400 "an owner invite"
error_is "$(cli_error ana invite --role owner --name X)"
api POST /api/invites '{"role":"viewer","name":""}'
expect 400 "an invite without a name"
error_is "$(cli_error ana invite --role viewer --name '')"
api POST /api/invites '{"role":"viewer","name":"Y","expires_days":400}'
expect 400 "an invite of 400 days"
error_is "expires_days takes a whole number from 1 to 365"
api POST /api/invites '{"role":"viewer","name":"Y","colour":"red"}'
expect 400 "an unknown field"
api POST /api/invites '{"role":'
expect 400 "bad JSON"
refuses_param /api/invites POST '{"role":"viewer","name":"Y"}'
refuses_method /api/invites GET POST
ok "bad invites: 400 with the CLI's messages; unknown fields and parameters 400"

c ana grant "$(printf '%064d' 7)" --role viewer --name Dan
DAN=$(printf '%064d' 7)
api POST "/api/revoke/$DAN"
expect 200 "revoke"
jq -e '.role == "revoked" and .name == "Dan"' <<<"$OUT" >/dev/null || fail "revoke reply: $OUT"
c ana members | has "^$DAN	Dan	revoked	" || fail "dan is not revoked: $(c ana members)"
NOBODY=$(printf '%064d' 9)
api POST "/api/revoke/$NOBODY"
expect 404 "revoke a key that is no member"
error_is "$(cli_error ana revoke "$NOBODY")"
api POST /api/revoke/nothex
expect 400 "revoke a bad key"
error_is "$(cli_error ana revoke nothex)"
refuses_param "/api/revoke/$DAN" POST
refuses_method "/api/revoke/$DAN" GET POST
ok "POST /api/revoke/KEY revokes; a key that is no member 404 and a bad key 400 (the CLI's messages)"

step "history"
api PUT /api/records/partner/p7 '{"name":"Westside Library"}'
api PUT /api/records/partner/p7 '{"name":"Westside Public Library","kind":"nonprofit"}'
api GET /api/history/partner/p7
expect 200 "history"
same "history" "$(c ana history partner p7 --json)" "$OUT"
jq -e 'length == 2 and .[0].fields.name == "Westside Library" and .[0].name == "ana" and
  .[1].fields.kind == "nonprofit" and .[1].op == "put" and .[1].seq > .[0].seq' <<<"$OUT" \
  >/dev/null || fail "history: $OUT"
api GET /api/history/partner/nobody
expect 404 "no history"
error_is "$(cli_error ana history partner nobody)"
api GET /api/history/partner
expect 404 "history without an id"
refuses_param /api/history/partner/p7 GET
refuses_method /api/history/partner/p7 POST GET
ok "GET /api/history/TYPE/ID is \`cairn history --json\`; none is 404 with the CLI's message"

step "conflicts and resolve"
swap ana ben
c ana put partner p9 name="Northside Library" kind=nonprofit
swap ana ben
api PUT /api/records/partner/p9 '{"name":"Northside Public Library"}'
c ben put partner p9 name="Northside Library (main branch)"
c ana put commitment c1 status=done
c ben del commitment c1
swap ana ben
api GET /api/conflicts
expect 200 "conflicts"
same "conflicts" "$(c ana conflicts --json)" "$OUT"
jq -e '.[] | select(._id == "p9" and .field == "name") | .heads | map(.name) | sort ==
  ["ana", "ben"]' <<<"$OUT" >/dev/null || fail "the heads are not named: $OUT"
api GET /api/records/partner/p9
jq -e '._conflicts.name | length == 2 and all(.name != null)' <<<"$OUT" >/dev/null ||
  fail "the record's heads are not named: $OUT"
api GET /api/status
jq -e '.conflicts == 2' <<<"$OUT" >/dev/null || fail "status counts the conflicts: $OUT"
ok "two stores swap bundles: /api/conflicts and _conflicts name each head's author"

before=$(c ana log | wc -l)
api POST /api/resolve/partner/p9 '{"kind":"school"}'
expect 409 "resolve a field not in conflict"
error_is "$(cli_error ana resolve partner p9 kind=school)"
api POST /api/resolve/partner/p9 '{"name":"Northside Library","kind":"school"}'
expect 409 "resolve with one field not in conflict"
api POST /api/resolve/partner/p9 '{"_keep":true}'
expect 409 "keep without a delete/edit conflict"
error_is "$(cli_error ana resolve partner p9 --keep)"
[ "$(c ana log | wc -l)" = "$before" ] || fail "a refused resolve wrote"
api POST /api/resolve/partner/p9 '{}'
expect 400 "resolve nothing"
api POST /api/resolve/partner/nobody '{"name":"X"}'
expect 404 "resolve a record that is not there"
refuses_param /api/resolve/partner/p9 POST '{"name":"X"}'
refuses_method /api/resolve/partner/p9 GET POST
ok "POST /api/resolve refuses what is not in conflict (409, the CLI's messages), writing nothing"

api POST /api/resolve/partner/p9 '{"name":"Northside Library"}'
expect 200 "resolve"
same "resolved record" "$(c ana get partner p9 --json)" "$OUT"
jq -e '.name == "Northside Library" and (has("_conflicts") | not)' <<<"$OUT" >/dev/null ||
  fail "resolve reply: $OUT"
api POST /api/resolve/commitment/c1 '{"_keep":true,"status":"done"}'
expect 409 "a field not in conflict beside _keep"
api POST /api/resolve/commitment/c1 '{"_keep":true}'
expect 200 "resolve --keep"
api GET /api/conflicts
same "conflicts after resolving" "[]" "$OUT"
swap ana ben
c ben conflicts | has . && fail "ben still sees conflicts: $(c ben conflicts)"
ok "POST /api/resolve ends a field's conflict and, with _keep, a delete/edit one, on both stores"

step "typed text"
api PUT /api/records/partner/p1 '{"count":"forty"}'
expect 422 "forty in a number field"
error_is "$(cli_error ana put partner p1 count=forty)"
api PUT /api/records/partner/p1 '{"count":"40","since":"2026-01-05","kind":"clinic"}'
expect 200 "40 as text"
jq -e '.count == 40 and .since == "2026-01-05" and .kind == "clinic"' <<<"$OUT" >/dev/null ||
  fail "typed: $OUT"
[ "$(c ana get partner p1 --json | jq .count)" = 40 ] || fail "the store holds no number 40"
api PUT /api/records/partner/p1 '{"since":"soon"}'
expect 422 "a date that is not one"
error_is "$(cli_error ana put partner p1 since=soon)"
api PUT /api/records/partner/p1 '{"count":null}'
expect 200 "null"
jq -e 'has("count") | not' <<<"$OUT" >/dev/null || fail "null did not unset: $OUT"
api PUT /api/records/partner/p2 '{"notes":"40"}'
jq -e '.notes == "40"' <<<"$OUT" >/dev/null || fail "text stays text: $OUT"
ok "a string in a number or date field is typed as the CLI types it (422 with its message); null unsets"

step "import"
printf 'id,name,kind,count\nq1,Hope Center,nonprofit,12\nq2,Oak School,scool,3\nq3,,clinic,x\n' \
  >"$T/bad.csv"
count_before=$(c ana list partner | wc -l)
api POST "/api/import/partner?dry_run=true&id_column=id" "" --data-binary @"$T/bad.csv" \
  -H "Content-Type: text/csv"
expect 422 "an import with errors"
jq -e '.error_count == 3 and (.errors | map(.line) == [3, 4, 4]) and
  .errors[0].column == "kind" and (.errors[0].why | test("did you mean school")) and
  (.errors[0].text | startswith("line 3, column kind"))' <<<"$OUT" >/dev/null ||
  fail "import errors: $OUT"
has "3 errors" <<<"$(jq -r .error <<<"$OUT")" || fail "import error: $OUT"
cli_out=$(c ana import partner "$T/bad.csv" --id-column id --dry-run 2>&1 || true)
for line in $(jq -r '.errors[].line' <<<"$OUT"); do
  has "^cairn: line $line, " <<<"$cli_out" || fail "the CLI does not name line $line: $cli_out"
done
[ "$(c ana list partner | wc -l)" = "$count_before" ] || fail "a refused import wrote"
ok "an import with errors: 422, each error with its line and column, nothing written"

printf 'id,name,kind,count\nq1,Hope Center,nonprofit,12\nq2,Oak School,school,3\n' >"$T/good.csv"
api POST "/api/import/partner?dry_run=true&id_column=id" "" --data-binary @"$T/good.csv" \
  -H "Content-Type: text/csv; charset=utf-8"
expect 200 "a dry run"
same "dry run" '{"rows":2,"created":2,"updated":0,"unchanged":0,"entries":1,"dry_run":true}' "$OUT"
c ana get partner q1 >/dev/null 2>&1 && fail "a dry run wrote"
api POST "/api/import/partner?id_column=id" "" --data-binary @"$T/good.csv" -H "Content-Type: text/csv"
expect 200 "an import"
jq -e '.rows == 2 and .created == 2 and .entries == 1 and .dry_run == false' <<<"$OUT" \
  >/dev/null || fail "import: $OUT"
[ "$(c ana get partner q2 --json | jq -c '[.name, .count]')" = '["Oak School",3]' ] ||
  fail "the import is not in the store"
api POST /api/import/partner '[{"_id":"q3","name":"Pine Clinic","kind":"clinic","count":"7"}]' \
  -H "Content-Type: application/json"
expect 200 "a JSON import"
[ "$(c ana get partner q3 --json | jq .count)" = 7 ] || fail "the JSON import's count"
api POST /api/import/partner $'[{"_id":"q4",\n"name":}]' -H "Content-Type: application/json"
expect 400 "a file that is not JSON"
has "line 2" <<<"$(jq -r .error <<<"$OUT")" || fail "no line in: $OUT"
api POST /api/import/partner 'a,b' -H "Content-Type: text/plain"
expect 415 "a body that is neither CSV nor JSON"
api POST "/api/import/partner?dry_run=maybe" 'a' -H "Content-Type: text/csv"
expect 400 "dry_run=maybe"
refuses_param /api/import/partner POST 'name'
refuses_method /api/import/partner GET POST
ok "import: dry runs write nothing, CSV and JSON imports write; bad files 400, other types 415"

step "export"
c ana export partner "$T/partner.csv" >/dev/null
api GET "/api/export/partner?format=csv"
expect 200 "export CSV"
cmp -s "$T/out" "$T/partner.csv" || fail "the API's CSV is not \`cairn export\`'s: $OUT"
[ "$(header Content-Type)" = "text/csv; charset=utf-8" ] || fail "CSV type: $(header Content-Type)"
[ "$(header Content-Disposition)" = 'attachment; filename="partner.csv"' ] ||
  fail "CSV disposition: $(header Content-Disposition)"
c ana export --all "$T/all.json" >/dev/null
api GET "/api/export?format=json"
expect 200 "export every type"
cmp -s "$T/out" "$T/all.json" || fail "the API's JSON is not \`cairn export --all\`'s"
[ "$(header Content-Disposition)" = 'attachment; filename="export.json"' ] ||
  fail "JSON disposition: $(header Content-Disposition)"
api GET "/api/export/partner?format=xlsx"
expect 200 "export XLSX"
[ "$(head -c 2 "$T/out")" = PK ] || fail "not a workbook"
[ "$(header Content-Type)" = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ] ||
  fail "XLSX type: $(header Content-Type)"
ls "${TMPDIR:-/tmp}" | grep -q "^cairn-export-" && fail "the workbook's temporary file is left"
api GET "/api/export?format=csv"
expect 400 "CSV of every type"
api GET "/api/export/partner?format=pdf"
expect 400 "an unknown format"
api GET "/api/export/partnr"
expect 422 "an unknown type"
refuses_param /api/export/partner GET
refuses_method /api/export/partner POST GET
ok "export: CSV and JSON byte for byte as \`cairn export\`, XLSX a workbook, as attachments"

step "status"
api GET /api/status
expect 200 "status"
jq -e --arg key "$ANA" --arg net "$NET" '.name == "ana" and .key == $key and .role == "owner" and
  .network == $net and (.clock_offset_ms | type) == "number" and .clock_warning == null and
  (.last_arrival | type) == "number" and .conflicts == 0' <<<"$OUT" >/dev/null ||
  fail "status: $OUT"
arrival=$(jq .last_arrival <<<"$OUT")
c ben put partner p2 stage=engaged
c ben bundle create "$T/ben2.bdl" >/dev/null
c ana bundle apply "$T/ben2.bdl" >/dev/null
api GET /api/status
[ "$(jq .last_arrival <<<"$OUT")" -gt "$arrival" ] || fail "last_arrival did not grow: $OUT"
refuses_param /api/status GET
refuses_param /api/schema GET
refuses_param /api/records/partner/p1 GET
ok "status: name, key, role, network, clock, conflicts; last_arrival grows when entries arrive"

stop_ui
need_clock_hook
CAIRN_TEST_CLOCK_OFFSET_MS=-172800000 start_ui ben
api GET /api/status
jq -e --arg key "$BEN" '.name == "ben" and .key == $key and .role == "editor" and
  .clock_offset_ms == null and .clock_warning == null' <<<"$OUT" >/dev/null ||
  fail "ben's status before a sync: $OUT"
api POST /api/sync
expect 200 "ben's sync"
api GET /api/status
jq -e '(.clock_offset_ms > 172000000) and (.clock_warning |
  startswith("this device'"'"'s clock is 2 days behind the relay'"'"'s"))' <<<"$OUT" >/dev/null ||
  fail "no clock warning: $OUT"
api POST "/api/revoke/$ANA"
expect 403 "an editor revokes the owner"
msg=$(jq -r .error <<<"$OUT")
has "may not" <<<"$msg" || fail "403 body: $OUT"
grep -qF -- "$msg" <<<"$(cli_error ben revoke "$ANA")" || fail "not the CLI's refusal: $msg"
api POST /api/invites '{"role":"viewer","name":"Zed"}'
expect 403 "an editor invites"
ok "a server two days behind warns after a sync; an editor's revoke and invite are 403"
stop_ui

start_ui ana
step "search"
api GET "/api/records/partner?search=LINCOLN"
expect 200 "search"
same "search" "$(c ana list partner --search LINCOLN --json)" "$OUT"
jq -e 'map(._id) == ["p1"]' <<<"$OUT" >/dev/null || fail "search LINCOLN: $OUT"
api GET "/api/records/partner?search=tuesDAYS&fields=name"
same "search a note" '[{"_type":"partner","_id":"p1","name":"Lincoln High"}]' "$OUT"
api GET "/api/records/partner?search=library&where=kind=nonprofit"
same "search and where" "$(c ana list partner --search library --where kind=nonprofit --json)" "$OUT"
jq -e 'map(._id) == ["p7", "p9"]' <<<"$OUT" >/dev/null || fail "search library: $OUT"
api GET "/api/records/partner?search="
expect 400 "an empty search"
ok "GET /api/records/TYPE?search= is \`cairn list --search --json\` (any field, any case)"
stop_ui
echo "$NAME: $n checks passed"
