# tests/integration/lib/web.sh — sourced after common.sh by the tests of
# `cairn ui` (docs/http.md): start a server on a store and call its API with
# curl. Needs jq.

command -v jq >/dev/null || { echo "$NAME: jq is needed (scripts/deps installs it)" >&2; exit 1; }

UI_PID=""
fail_details() { [ -f "$T/ui.err" ] && tail -5 "$T/ui.err"; }

# start_ui [WHO]: `cairn ui` on WHO's store (default ana), on a free port, with
# its stderr in $T/ui.err; sets UI_PID, URL, BASE, TOKEN (the environment, such
# as CAIRN_TEST_CLOCK_OFFSET_MS, is the server's)
start_ui() {
  local who=${1:-ana}
  rm -f "$T/ui.url"
  "$CAIRN" --store "$T/$who" ui --listen 127.0.0.1:0 >"$T/ui.url" 2>"$T/ui.err" &
  UI_PID=$!
  BG+=("$UI_PID")
  for _ in $(seq 1 100); do
    [ -s "$T/ui.url" ] && break
    kill -0 "$UI_PID" 2>/dev/null || fail "cairn ui exited: $(cat "$T/ui.err")"
    sleep 0.1
  done
  URL=$(head -1 "$T/ui.url")
  [[ "$URL" =~ ^http://127\.0\.0\.1:[0-9]+/\?token=[0-9a-f]{64}$ ]] || fail "printed URL: '$URL'"
  BASE=${URL%%/\?*}
  TOKEN=${URL##*token=}
}

# stop_ui: SIGTERM to the server started last, which must exit 0 within 20 s
stop_ui() {
  local rc=0
  kill -TERM "$UI_PID"
  timeout 20 tail --pid="$UI_PID" -f /dev/null || fail "cairn ui did not stop on SIGTERM"
  wait "$UI_PID" || rc=$?
  [ "$rc" = 0 ] || fail "cairn ui exited $rc on SIGTERM"
}

# api METHOD PATH [BODY] [CURL OPTIONS...]: with the token header; sets CODE and
# OUT (the body; the headers are in $T/headers)
api() {
  local method=$1 path=$2 body=${3:-}
  shift 3 2>/dev/null || shift $#
  local args=(-s -D "$T/headers" -o "$T/out" -w '%{http_code}' -X "$method"
    -H "Authorization: Bearer $TOKEN")
  [ -n "$body" ] && args+=(--data-binary "$body")
  CODE=$(curl "${args[@]}" "$@" "$BASE$path")
  OUT=$(tr -d '\0' <"$T/out")
}
# raw METHOD PATH [CURL OPTIONS...]: no token unless the options give one
raw() {
  local method=$1 path=$2
  shift 2
  CODE=$(curl -s -o "$T/out" -w '%{http_code}' -X "$method" "$@" "$BASE$path")
  OUT=$(tr -d '\0' <"$T/out")
}
expect() { [ "$CODE" = "$1" ] || fail "$2: status $CODE, not $1: $OUT"; }
# error_is TEXT: the body is {"error": TEXT}
error_is() {
  local got
  got=$(jq -r .error <<<"$OUT")
  same "error message" "$1" "$got"
}
# header NAME: the value of a header of the last api call
header() { grep -i "^$1:" "$T/headers" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
