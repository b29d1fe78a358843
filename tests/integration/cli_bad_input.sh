#!/usr/bin/env bash
# cli_bad_input.sh — the command line refuses bad input cleanly.
#
# Every case must exit with the code docs/cli.md gives (2 usage, 3 not found,
# 1 anything else), never by a signal (exit code >= 128 is a crash), and print
# exactly one line on stderr: `cairn: ...`, which for a usage error also holds
# `usage: cairn ...`. Nothing may be printed on stdout when a command fails.
#
# Usage: bash tests/integration/cli_bad_input.sh BUILD_DIR   (runs BUILD_DIR/cairn)
set -euo pipefail

BUILD=${1:?usage: cli_bad_input.sh BUILD_DIR}
BIN=$(cd "$BUILD" && pwd)/cairn
[ -x "$BIN" ] || { echo "cli_bad_input: no binary at $BIN" >&2; exit 1; }
T=$(mktemp -d)
trap 'chmod -R u+rwX "$T" 2>/dev/null; rm -rf "$T"' EXIT
failures=0

ca() { "$BIN" --store "$T/a" "$@"; }
# has PATTERN: some line of stdin matches PATTERN (grep's basic regex). It reads
# all of stdin first: `grep -q` stops at the first match, and under pipefail the
# writer of a longer output then fails on the closed pipe.
has() { local in; in=$(cat); grep -q -- "$1" <<<"$in"; }

# check CODE REGEX CMD...: CMD exits CODE with one stderr line `cairn: ...`
# matching REGEX (extended; '' for any) and nothing on stdout.
check() {
  local want=$1 re=$2 rc=0 lines
  shift 2
  "$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
  lines=$(wc -l <"$T/err")
  local why=""
  if [ "$rc" -ge 128 ]; then
    why="crashed (exit $rc)"
  elif [ "$rc" -ne "$want" ]; then
    why="exit $rc, expected $want"
  elif [ "$lines" -ne 1 ]; then
    why="$lines lines on stderr, expected 1"
  elif ! head -n1 "$T/err" | has '^cairn: '; then
    why="stderr does not start with 'cairn: '"
  elif [ "$want" -eq 2 ] && ! grep -q 'usage: cairn' "$T/err"; then
    why="usage error without a usage line"
  elif [ -n "$re" ] && ! grep -Eq -- "$re" "$T/err"; then
    why="message does not match /$re/"
  elif [ -s "$T/out" ]; then
    why="printed on stdout while failing"
  fi
  if [ -n "$why" ]; then
    echo "FAIL: cairn ${*:2}: $why" >&2
    sed 's/^/  stderr: /' "$T/err" | head -5 >&2
    failures=$((failures + 1))
  else
    echo "ok   [$want] ${*:2}: $(head -n1 "$T/err")" | cut -c1-160
  fi
}

# flip_byte FILE OFFSET: invert every bit of one byte in place
flip_byte() {
  local b
  b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "\\$(printf '%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

KEY_A=$(ca init --name Ana)
ca network create "Bad input test" --schema none >/dev/null
ca put task t1 title="first" n:=1
ca put task t2 title="second" n:=2
ca add task title="third" >/dev/null
ca bundle create "$T/good.bdl" >/dev/null
KEY_B=$("$BIN" --store "$T/b" init --name Ben)
cb() { "$BIN" --store "$T/b" "$@"; }
SIZE=$(stat -c %s "$T/good.bdl")

echo "== usage errors (exit 2)"
check 2 'no command' "$BIN"
check 2 "unknown command 'frobnicate'" "$BIN" frobnicate
check 2 "unknown option" "$BIN" --frob id
check 2 'needs a directory' "$BIN" --store
check 2 'needs a subcommand' "$BIN" bundle
check 2 "unknown command 'bundle frob'" "$BIN" bundle frob
check 2 'missing TYPE' ca put
check 2 'missing ID' ca put task
check 2 'missing FIELD=VALUE' ca put task t1
check 2 'missing ID' ca get task
check 2 'missing KEY' ca grant
check 2 'missing FILE' ca bundle apply
check 2 '--name is required' "$BIN" --store "$T/new" init
check 2 "unexpected argument" ca get task t1 extra
check 2 "unknown option '--jsno'" ca list task --jsno
check 2 'needs a value' ca list task --where
check 2 'is not FIELD=V, FIELD!=V' ca list task --where novalue
check 2 'invalid JSON' ca put task t1 'x:=notjson'
check 2 'empty field name' ca put task t1 '=v'
check 2 'reserved' ca put task t1 '_type=x'
check 2 'missing' ca put task t1 'noequals'
check 2 'record type is empty' ca put '' t1 a=b
check 2 'not a device key' ca grant abc --role editor
check 2 'not a device key' ca grant "$(printf 'g%.0s' {1..64})" --role editor
check 2 'not a device key' ca grant "${KEY_B}0" --role editor
check 2 'unknown role' ca grant "$KEY_B" --role boss
check 2 '--role is required' ca grant "$KEY_B"
check 2 'not a device key' ca revoke nothex

echo "== not found (exit 3)"
check 3 "no task record 'missing'" ca get task missing
check 3 'no task record' ca del task missing
check 3 'no task record' ca purge task missing
check 3 'no task record' ca resolve task missing title=x
check 3 'no history' ca history task missing
check 3 'not a member' ca revoke "$(printf 'a%.0s' {1..64})"
ca del task t2
check 3 'deleted' ca get task t2
check 3 'deleted' ca get task t2 --json

echo "== failures (exit 1)"
check 1 'no cairn store in .*--store.*check the path' "$BIN" --store "$T/does/not/exist" list task
check 1 'no cairn store in .*--store.*check the path' "$BIN" --store "$T/does/not/exist" id
check 1 'already holds a store' ca init --name Again
check 1 'already belongs to a network' ca network create "Second" --schema none
check 1 'no network' cb put task t1 title=x
check 1 'cannot open' cb bundle apply "$T/no-such.bdl"
cp "$T/good.bdl" "$T/corrupt.bdl"
flip_byte "$T/corrupt.bdl" $((SIZE / 2))
check 1 'rejected' cb bundle apply "$T/corrupt.bdl"
head -c $((SIZE / 2)) "$T/good.bdl" >"$T/truncated.bdl"
check 1 'rejected' cb bundle apply "$T/truncated.bdl"
head -c $((SIZE - 1)) "$T/good.bdl" >"$T/short.bdl"
check 1 'rejected' cb bundle apply "$T/short.bdl"
: >"$T/empty.bdl"
check 1 '' cb bundle apply "$T/empty.bdl"
printf 'CAIRNBDL\001garbage that is not zstd' >"$T/garbage.bdl"
check 1 'rejected' cb bundle apply "$T/garbage.bdl"
ca heads --json >"$T/heads.json"
check 1 'not a cairn bundle' cb bundle apply "$T/heads.json"
check 1 'heads file' ca bundle create "$T/x.bdl" --since "$T/good.bdl"
check 1 'heads file' ca bundle create "$T/x.bdl" --since "$T/no-such.json"
echo '{"zz": 1}' >"$T/badheads.json"
check 1 'heads file' ca bundle create "$T/x.bdl" --since "$T/badheads.json"
check 1 'cannot' ca bundle create "$T/no/such/dir/x.bdl"
# the failed applies kept their valid prefix and left B usable: the good bundle
# completes it (applied + skipped = its 4 entries) and B shows A's records
out=$(cb bundle apply "$T/good.bdl")
if ! [[ $out =~ ^applied\ ([0-9]+),\ skipped\ ([0-9]+)$ ]] ||
  [ $((BASH_REMATCH[1] + BASH_REMATCH[2])) -ne 4 ]; then
  echo "FAIL: good bundle after bad ones: $out" >&2
  failures=$((failures + 1))
fi
cb get task t1 >/dev/null || { echo "FAIL: B lacks task t1 after the good bundle" >&2; failures=$((failures + 1)); }
# B is not granted anything: its writes are refused, whatever it tries
check 1 'not a member' cb put task t9 title=x
check 1 'forbidden|may not|not a member' cb grant "$KEY_B" --role admin
# another network's bundle
"$BIN" --store "$T/c" init --name Cy >/dev/null
"$BIN" --store "$T/c" network create "Other" --schema none >/dev/null
"$BIN" --store "$T/c" bundle create "$T/other.bdl" >/dev/null
check 1 'network' cb bundle apply "$T/other.bdl"
# the key file must be private
chmod 0644 "$T/a/key"
check 1 'chmod' ca list task
check 1 'chmod' ca id
chmod 0600 "$T/a/key"
ca id >/dev/null
# an unreadable store directory
HOME="$T/nohome" CAIRN_STORE="" check 1 'no cairn store in .*the default, ~/.cairn' "$BIN" list task
env -u HOME -u CAIRN_STORE "$BIN" list task >"$T/out" 2>"$T/err" && { echo "FAIL: no HOME" >&2; failures=$((failures + 1)); }
[ "$(wc -l <"$T/err")" -eq 1 ] || { echo "FAIL: no HOME: not one line" >&2; failures=$((failures + 1)); }

echo "== help exits 0"
for cmd in "" init id "network create" put add get del purge resolve unset list history \
  conflicts log members grant revoke heads "bundle create" "bundle apply" bundle network \
  schema "schema apply" check changes; do
  # shellcheck disable=SC2086
  if ! "$BIN" $cmd --help >"$T/out" 2>"$T/err" || ! grep -q '^usage: cairn' "$T/out" || [ -s "$T/err" ]; then
    echo "FAIL: cairn $cmd --help" >&2
    failures=$((failures + 1))
  fi
done

[ "$KEY_A" != "$KEY_B" ] || { echo "FAIL: two stores share a key" >&2; failures=$((failures + 1)); }
if [ $failures -ne 0 ]; then
  echo "cli_bad_input: $failures failure(s)" >&2
  exit 1
fi
echo "cli_bad_input: ok"
