#!/usr/bin/env bash
# store_readonly.sh — a store on a read-only disk (a USB copy, a mounted backup)
# can be read: every command that only reads opens the store read-only
# (docs/cli.md, "Store selection"). A command that writes says why it cannot.
#
# The read-only disk is a tmpfs remounted read-only in a private mount namespace
# (unshare -m, as root), so nothing outside the test sees it.
#
# Usage: bash tests/integration/store_readonly.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

"$CAIRN" --store "$T/s" init --name Ana >/dev/null
"$CAIRN" --store "$T/s" network create "Read-only network" --schema none >/dev/null
"$CAIRN" --store "$T/s" put partner p1 name="Lincoln Elementary" stage=engaged
"$CAIRN" --store "$T/s" put partner p1 stage=committed
"$CAIRN" --store "$T/s" put note n1 text="kept on a USB stick"
mkdir "$T/ro" "$T/out"

cat >"$T/inside.sh" <<SH
set -u
mount -t tmpfs tmpfs "$T/ro" || exit 90
cp -a "$T/s" "$T/ro/s"
mount -o remount,ro "$T/ro" || exit 91
touch "$T/ro/probe" 2>/dev/null && exit 92
run() { "$CAIRN" --store "$T/ro/s" "\$@"; }
n=0
for cmd in "id" "get partner p1" "get partner p1 --json" "list partner --json" \\
           "list note --where text=kept" "history partner p1" "conflicts" "log" "members" \\
           "heads --json" "status" "changes" "changes --json" "schema" "check"; do
  # shellcheck disable=SC2086
  if run \$cmd >"$T/out/cmd.out" 2>"$T/out/cmd.err"; then
    n=\$((n + 1))
  else
    echo "FAIL: cairn \$cmd on a read-only disk: \$(cat "$T/out/cmd.err")"; exit 1
  fi
done
run get partner p1 | grep -q "committed" || { echo "FAIL: get read the wrong value"; exit 1; }
run bundle create "$T/out/copy.bdl" >/dev/null 2>"$T/out/cmd.err" ||
  { echo "FAIL: bundle create: \$(cat "$T/out/cmd.err")"; exit 1; }
n=\$((n + 1))
if run put note n2 text=more 2>"$T/out/cmd.err"; then echo "FAIL: a put succeeded"; exit 1; fi
grep -q "Read-only file system" "$T/out/cmd.err" || { echo "FAIL: put said: \$(cat "$T/out/cmd.err")"; exit 1; }
n=\$((n + 1))
echo "\$n"
SH
out=$(unshare -m bash "$T/inside.sh") || fail "$out (exit $?)"
case "$out" in
  *FAIL*) fail "$out" ;;
esac
# the bundle made from the read-only store carries all of it
"$CAIRN" --store "$T/b" init --name Copy >/dev/null
"$CAIRN" --store "$T/b" bundle apply "$T/out/copy.bdl" >/dev/null || fail "the bundle does not apply"
"$CAIRN" --store "$T/b" get note n1 | has "kept on a USB stick" || fail "the bundle lacks the note"
echo "$NAME: ok"
echo "$out passed, 0 failed"
