#!/usr/bin/env bash
# web_api.sh — `cairn ui`'s JSON HTTP API (docs/http.md) with curl against a
# real server on 127.0.0.1, on a port the system picks at run time.
#
# 1. Access: the printed URL and STORE/ui.token (mode 0600) hold the token; no
#    token is 401, a wrong token 401; a Host that is not the listening address
#    is 403 (DNS rebinding); a PUT with a cross-site Origin is 403, and with the
#    token in the cookie only 403 (CSRF), while a GET with the cookie works; the
#    page at /?token= sets the cookie (HttpOnly, SameSite=Strict).
# 2. Every route: records (list with where, sort, fields, limit, deleted; get,
#    put, delete), changes, conflicts, schema, reports, status, sync; bad JSON
#    400, a schema error 422 with the CLI's own message ("did you mean"), an
#    unknown route 404, a wrong method 405 with Allow, a body over 1 MiB 413.
# 3. A list through the API is what `cairn list --json` prints.
# 4. Concurrent writers: `cairn put` in another process while the API writes;
#    every record of both lands.
# 5. Sync: POST /api/sync pulls a concurrent edit from another member; the
#    conflict shows in /api/conflicts and the record's "_conflicts". With
#    background=true it answers 202 at once, a child process syncs, and
#    /api/status's "sync" gives the result.
# 6. SIGTERM stops the server with exit 0 and removes the token file.
#
# Usage: bash tests/integration/web_api.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
. "$(dirname "$0")/lib/web.sh"

SCHEMA=$(dirname "$0")/../../client/lib/schemas/collective-impact.json

network_with ana ben
c ana schema apply "$SCHEMA" >/dev/null
c ana put partner p1 name="Lincoln High" kind=school
c ana put partner p2 name="Eastside Clinic" kind=clinic
start_ui

step "access"
[ "$(stat -c %a "$T/ana/ui.token")" = 600 ] || fail "ui.token mode $(stat -c %a "$T/ana/ui.token")"
[ "$(cat "$T/ana/ui.token")" = "$TOKEN" ] || fail "ui.token is not the printed token"
ok "the printed URL carries the token; ui.token holds it, mode 0600"
raw GET /api/status
expect 401 "no token"
has "access token" <<<"$OUT" || fail "401 body: $OUT"
raw GET /api/status -H "Authorization: Bearer ${TOKEN%?}0"
[ "${TOKEN: -1}" = 0 ] || expect 401 "a wrong token"
ok "no token, or a wrong one: 401"
api GET /api/status "" -H "Host: evil.example:${BASE##*:}"
expect 403 "a foreign Host"
api GET /api/status "" -H "Host: localhost:${BASE##*:}"
expect 403 "Host localhost"
ok "a Host that is not the listening address: 403"
api PUT /api/records/partner/p3 '{"name":"X"}' -H "Origin: http://evil.example"
expect 403 "a cross-site Origin on PUT"
api PUT /api/records/partner/p3 '{"name":"X"}' -H "Origin: $BASE"
expect 200 "a same-site Origin on PUT"
raw PUT /api/records/partner/p4 -b "cairn_token=$TOKEN" --data-binary '{"name":"X"}'
expect 403 "the cookie alone on PUT"
has "Authorization header" <<<"$OUT" || fail "cookie-only PUT: $OUT"
c ana get partner p4 >/dev/null 2>&1 && fail "a cookie-only PUT wrote"
raw DELETE /api/records/partner/p3 -b "cairn_token=$TOKEN"
expect 403 "the cookie alone on DELETE"
raw GET /api/status -b "cairn_token=$TOKEN"
expect 200 "the cookie on GET"
ok "cross-site Origin and cookie-only changes refused (403); reads with the cookie work"
curl -s -D "$T/headers" -o /dev/null "$BASE/?token=$TOKEN"
grep -qi "^set-cookie: cairn_token=$TOKEN; Path=/; HttpOnly; SameSite=Strict" "$T/headers" ||
  fail "the page sets no cookie: $(cat "$T/headers")"
raw GET "/?token=${TOKEN:0:63}x"
expect 401 "the page with a wrong token"
ok "the page at /?token= sets the cookie (HttpOnly, SameSite=Strict)"

c ana ui --listen nowhere 2>/dev/null && fail "a bad --listen was taken"
[ $? = 2 ] || fail "a bad --listen: not a usage error"
c ana ui --listen "${BASE#http://}" >/dev/null 2>"$T/ui2.err" && fail "a second server on a taken port"
has "port is taken" <"$T/ui2.err" || fail "a taken port: $(cat "$T/ui2.err")"
[ "$(cat "$T/ana/ui.token")" = "$TOKEN" ] || fail "a server that could not start touched ui.token"
ok "a bad --listen: exit 2; a taken port: exit 1, the running server's token file untouched"

step "records"
api PUT /api/records/partner/p5 '{"name":"Northside Library","kind":"nonprofit","stage":"engaged"}'
expect 200 "PUT a partner"
same "PUT reply" '{"_type":"partner","_id":"p5","name":"Northside Library","kind":"nonprofit","stage":"engaged"}' "$OUT"
c ana get partner p5 | has "^stage.engaged" || fail "the API's put is not in the store"
api GET /api/records/partner/p5
expect 200 "GET a record"
same "GET" '{"_type":"partner","_id":"p5","name":"Northside Library","kind":"nonprofit","stage":"engaged"}' "$OUT"
api PUT /api/records/commitment/c1 '{"title":"Tutor 40 third graders","partner":"p5","due":"2026-06-01","status":"planned"}'
expect 200 "PUT a commitment"
api PUT /api/records/partner/p5 '{"stage":null}'
expect 200 "PUT null"
same "PUT null" '{"_type":"partner","_id":"p5","name":"Northside Library","kind":"nonprofit"}' "$OUT"
api PUT /api/records/partner/p5 '{"stage":"engaged"}'
ok "PUT writes a record (one change) and answers it; null unsets a field; GET reads it"
cli_err=$(c ana put partner p6 nme=x 2>&1 || true)
api PUT /api/records/partner/p6 '{"nme":"x"}'
expect 422 "an unknown field"
error_is "${cli_err#cairn: }"
has "did you mean name" <<<"$OUT" || fail "no did-you-mean: $OUT"
cli_err=$(c ana put partner p5 kind=scool 2>&1 || true)
api PUT /api/records/partner/p5 '{"kind":"scool"}'
expect 422 "a value not in the enum"
error_is "${cli_err#cairn: }"
api PUT /api/records/commitment/c1 '{"due":"June"}'
expect 422 "a date that is not one"
api GET /api/records/partner/p6
expect 404 "the refused record"
ok "schema errors: 422 with the CLI's message, nothing written"
api PUT /api/records/partner/p5 '{"name":'
expect 400 "bad JSON"
has "not JSON" <<<"$OUT" || fail "bad JSON: $OUT"
api PUT /api/records/partner/p5 '["name"]'
expect 400 "an array body"
api PUT /api/records/partner/p5 '{}'
expect 400 "an empty object"
ok "bad JSON, not an object, no fields: 400"
head -c 1100000 /dev/zero | tr '\0' a >"$T/big"
api PUT /api/records/partner/p5 "" --data-binary @"$T/big"
expect 413 "a body over 1 MiB"
ok "a body over 1 MiB: 413"

api GET "/api/records/partner?where=kind=school&fields=name"
expect 200 "list with where and fields"
same "list where" '[{"_type":"partner","_id":"p1","name":"Lincoln High"}]' "$OUT"
api GET "/api/records/partner?sort=-name&limit=2"
expect 200 "list with sort and limit"
same "list sort" "$(c ana list partner --json --sort=-name --limit 2)" "$OUT"
api GET "/api/records/partner?where=kind=in:school,clinic&where=name~east"
same "list, two wheres" "$(c ana list partner --json --where kind=in:school,clinic --where name~east)" "$OUT"
api GET "/api/records/partner"
same "list" "$(c ana list partner --json)" "$OUT"
ok "lists (where repeated, sort, fields, limit) are what \`cairn list --json\` prints"
cli_err=$(c ana list partner --where knd=school 2>&1 || true)
api GET "/api/records/partner?where=knd=school"
expect 422 "list on an unknown field"
error_is "${cli_err#cairn: }"
api GET "/api/records/partner?limit=many"
expect 400 "a bad limit"
api GET "/api/records/partner?colour=red"
expect 400 "an unknown parameter"
api GET "/api/records/partnr"
expect 422 "an unknown type"
ok "bad queries: 422 (schema, CLI's message) or 400"

api DELETE /api/records/partner/p3
expect 200 "DELETE"
same "DELETE reply" '{"_type":"partner","_id":"p3","_deleted":true}' "$OUT"
c ana get partner p3 >/dev/null 2>&1 && fail "the deleted record is still there"
api DELETE /api/records/partner/p3
expect 404 "DELETE twice"
api GET /api/records/partner/p3
expect 404 "GET a deleted record"
api GET "/api/records/partner?deleted=true&where=_id=p3"
same "deleted=true" '[{"_type":"partner","_id":"p3","name":"X","_deleted":true}]' "$OUT"
api GET /api/records/partner/nobody
expect 404 "GET nothing"
ok "DELETE deletes; a deleted or missing record is 404; deleted=true lists it"

step "the other routes"
api GET "/api/changes?since=1d"
expect 200 "changes"
[ "$(jq length <<<"$OUT")" -ge 6 ] || fail "changes: $OUT"
jq -e '.[] | select(._id == "p5" and .op == "put" and .name == "ana" and .fields.stage == "engaged")' \
  <<<"$OUT" >/dev/null || fail "changes lack p5: $OUT"
api GET "/api/changes?since=2099-01-01"
same "changes in the future" "[]" "$OUT"
api GET "/api/changes?since=yesterday"
expect 400 "a bad since"
ok "changes (since=) with who, when and the fields"
api GET /api/schema
expect 200 "schema"
same "schema" "$(c ana schema --json | jq -cS .)" "$(jq -cS . <<<"$OUT")"
ok "schema: the document \`cairn schema --json\` prints"
api GET "/api/reports/commitments?as_of=2026-12-31"
expect 200 "a report"
same "report" "$(c ana report commitments --as-of 2026-12-31 --format json | jq -cS .)" "$(jq -cS . <<<"$OUT")"
api GET /api/reports/meting
expect 404 "an unknown report"
has "did you mean meeting" <<<"$OUT" || fail "unknown report: $OUT"
ok "reports: the JSON \`cairn report --format json\` writes; an unknown name is 404"
api GET /api/status
expect 200 "status"
jq -e '.relay and .unacknowledged > 0' <<<"$OUT" >/dev/null || fail "status: $OUT"
api GET /api/nowhere
expect 404 "an unknown route"
api DELETE /api/status
expect 405 "DELETE on status"
curl -s -D "$T/headers" -o /dev/null -X PATCH -H "Authorization: Bearer $TOKEN" "$BASE/api/records/partner/p1"
grep -qi "^allow: GET, PUT, DELETE" "$T/headers" || fail "405 without Allow: $(cat "$T/headers")"
ok "status; unknown route 404; wrong method 405 with Allow"

step "concurrent writers"
(for i in $(seq 1 25); do c ana put partner cli$i name="CLI $i" >/dev/null || exit 1; done) &
writer=$!
for i in $(seq 1 25); do
  api PUT /api/records/partner/api$i "{\"name\":\"API $i\"}"
  expect 200 "PUT while the CLI writes"
done
wait "$writer" || fail "the CLI's puts failed while the API wrote"
api GET "/api/records/partner?where=_id~cli&fields=name"
[ "$(jq length <<<"$OUT")" = 25 ] || fail "the CLI's records: $OUT"
[ "$(c ana list partner --where _id~api | wc -l)" = 25 ] || fail "the API's records are not all there"
c ana log | awk '{print $1, $2}' | sort | uniq -d | grep -q . && fail "two entries share a seq"
ok "25 puts by the CLI and 25 by the API at the same time: all 50 land"

step "sync and conflicts"
api PUT /api/records/partner/p9 '{"name":"Ana says"}'
c ben put partner p9 name="Ben says"
sync_ok ben
api POST /api/sync
expect 200 "sync"
jq -e '.applied >= 1' <<<"$OUT" >/dev/null || fail "sync applied nothing: $OUT"
api GET /api/conflicts
expect 200 "conflicts"
jq -e '.[] | select(._id == "p9" and .field == "name" and (.heads | length) == 2)' <<<"$OUT" \
  >/dev/null || fail "no conflict on p9: $OUT"
api GET /api/records/partner/p9
jq -e '._conflicts.name | length == 2' <<<"$OUT" >/dev/null || fail "p9 has no _conflicts: $OUT"
api GET /api/sync
expect 405 "GET on sync"
ok "POST /api/sync pulls a concurrent edit; /api/conflicts and the record show it"

# in the background: 202 at once, a child process syncs, the status tells
c ben put partner p10 name="Ben's, in the background"
sync_ok ben
api POST "/api/sync?background=true"
expect 202 "background sync"
jq -e '.running == true' <<<"$OUT" >/dev/null || fail "background sync not running: $OUT"
for _ in $(seq 1 100); do
  api GET /api/status
  jq -e '.sync.running == false' <<<"$OUT" >/dev/null && break
  sleep 0.1
done
jq -e '.sync.ok == true and (.sync.message | test("^pushed [0-9]+, pulled [0-9]+, applied [1-9]"))' \
  <<<"$OUT" >/dev/null || fail "background sync's result: $OUT"
api GET /api/records/partner/p10
expect 200 "the record the background sync brought"
api POST "/api/sync?background=maybe"
expect 400 "background=maybe"
ok "POST /api/sync?background=true: 202 at once, the result in /api/status, the record here"

step "stop"
stop_ui
[ ! -e "$T/ana/ui.token" ] || fail "ui.token left behind"
ok "SIGTERM: exit 0, token file removed"
echo "$NAME: $n checks passed"
