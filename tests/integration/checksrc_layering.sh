#!/usr/bin/env bash
# checksrc_layering.sh — scripts/checksrc catches includes that break the
# module layering (docs/design.md, "Architecture and layering").
#
# Works on a copy of the source tree: each case plants one bad #include in a
# fresh copy of one file and expects checksrc to fail naming that file, line
# and include. A clean copy must give exactly the real tree's result, so this
# test does not depend on whether the real tree is clean right now.
#
# Usage: bash tests/integration/checksrc_layering.sh BUILD_DIR   (BUILD_DIR unused)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
TREE=$T/tree
mkdir "$TREE"
# tests/ and bench/ are copied too, since the banned-call check reads them
for d in core protocol client server scripts tests bench; do
  [ -d "$ROOT/$d" ] && cp -r "$ROOT/$d" "$TREE/"
done
passed=0
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# plant FILE INCLUDE PHRASE: from a fresh copy of FILE, append `#include
# "INCLUDE"`; checksrc must exit non-zero and report that line with PHRASE.
plant() {
  local file=$1 inc=$2 phrase=$3 rc=0 line
  if [ ! -f "$ROOT/$file" ]; then
    fail "$file: no such file in the source tree"
    return
  fi
  cp "$ROOT/$file" "$TREE/$file"
  [ -z "$(tail -c1 "$TREE/$file")" ] || echo >>"$TREE/$file"
  printf '#include "%s"\n' "$inc" >>"$TREE/$file"
  line=$(wc -l <"$TREE/$file")
  "$TREE/scripts/checksrc" >"$T/out" 2>&1 || rc=$?
  cp "$ROOT/$file" "$TREE/$file"
  local want="$file:$line: include \"$inc\": $phrase"
  if [ "$rc" -eq 0 ]; then
    fail "$file + \"$inc\": checksrc passed"
  elif ! grep -qF -- "$want" "$T/out"; then
    fail "$file + \"$inc\": checksrc exited $rc without '$want'"
    sed 's/^/  out: /' "$T/out" | head -20 >&2
  else
    echo "ok   $want"
    passed=$((passed + 1))
  fi
}

# the clean copy gives the real tree's result (exit code and output)
rc_real=0
rc_copy=0
"$ROOT/scripts/checksrc" >"$T/real" 2>&1 || rc_real=$?
"$TREE/scripts/checksrc" >"$T/copy" 2>&1 || rc_copy=$?
if [ "$rc_real" -ne "$rc_copy" ] || ! cmp -s "$T/real" "$T/copy"; then
  fail "clean copy: exit $rc_copy, real tree: exit $rc_real"
  diff "$T/real" "$T/copy" | sed 's/^/  /' | head -20 >&2
else
  echo "ok   clean copy matches the real tree (exit $rc_real)"
  passed=$((passed + 1))
fi
# the root can be given as an argument or in CHECKSRC_ROOT
rc_arg=0
rc_env=0
"$ROOT/scripts/checksrc" "$TREE" >"$T/arg" 2>&1 || rc_arg=$?
CHECKSRC_ROOT=$TREE "$ROOT/scripts/checksrc" >"$T/env" 2>&1 || rc_env=$?
if [ "$rc_arg" -ne "$rc_copy" ] || [ "$rc_env" -ne "$rc_copy" ] ||
  ! cmp -s "$T/arg" "$T/copy" || ! cmp -s "$T/env" "$T/copy"; then
  fail "checksrc DIR / CHECKSRC_ROOT=DIR differ from running the copy's own script"
else
  echo "ok   checksrc DIR and CHECKSRC_ROOT=DIR check the given tree"
  passed=$((passed + 1))
fi

plant core/apply.c session.h "core may not include protocol headers"
plant protocol/message.c cairn.h "protocol may not include client headers"
plant client/cli/records.c store_internal.h "client/cli may not include core private headers"
plant client/cli/records.c entry.h "client/cli may not include core headers"
plant server/conn.c cli.h "server may not include client/cli headers"
plant client/lib/sync.c store_internal.h "client/lib may not include core private headers"
plant core/entry.c nosuch.h "unknown header"

if [ $failures -ne 0 ]; then
  echo "$passed passed, $failures failed" >&2
  exit 1
fi
echo "$passed passed, 0 failed"
