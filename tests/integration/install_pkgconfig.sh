#!/usr/bin/env bash
# install_pkgconfig.sh — the library as an application gets it (docs/design.md,
# "The client library"): `cmake --install` puts cairn.h, the headers it
# includes and the static libraries under a prefix with libcairn.pc; the
# example program builds against `pkg-config --cflags --libs libcairn` alone and
# writes and reads a note in a store made by the CLI. Only public headers are
# installed: no protocol header, no core internal.
#
# Usage: bash tests/integration/install_pkgconfig.sh BUILD_DIR
set -euo pipefail

NAME=install_pkgconfig
BUILD=$(cd "${1:?usage: $NAME.sh BUILD_DIR}" && pwd)
SRC=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "$NAME: FAIL: $*" >&2; exit 1; }
cache() { sed -n "s/^$1:[A-Z]*=//p" "$BUILD/CMakeCache.txt"; }

cmake --install "$BUILD" --prefix "$T/inst" >/dev/null || fail "cmake --install failed"
INC=$T/inst/include/cairn
[ -f "$INC/cairn.h" ] || fail "cairn.h is not installed"
for private in session.h channel.h message.h invite.h store_internal.h sync.h cli.h; do
  [ ! -e "$INC/$private" ] || fail "$private is installed: applications would see it"
done
export PKG_CONFIG_PATH=$T/inst/lib/pkgconfig
FLAGS=$(pkg-config --cflags --libs libcairn) || fail "pkg-config does not know libcairn"

# the build's own compiler and instrumentation, so the static libraries link
CC=$(cache CMAKE_C_COMPILER)
EXTRA=()
[ "$(cache CAIRN_SANITIZE)" = ON ] && EXTRA+=(-fsanitize=address,undefined)
[ "$(cache CAIRN_FUZZ)" = ON ] && EXTRA+=(-fsanitize=fuzzer-no-link)
# shellcheck disable=SC2086
"$CC" -std=c11 -D_POSIX_C_SOURCE=200809L "${EXTRA[@]}" -o "$T/notes" \
  "$SRC/client/examples/notes.c" $FLAGS 2>"$T/cc.err" || fail "the example does not build: $(head -5 "$T/cc.err")"

"$BUILD/cairn" --store "$T/s" init --name Ana >/dev/null
"$BUILD/cairn" --store "$T/s" network create "Install check" --schema none >/dev/null
"$T/notes" "$T/s" "from the installed library" >"$T/out" || fail "the example failed: $(cat "$T/out")"
grep -q "from the installed library" "$T/out" || fail "the note was not read back: $(cat "$T/out")"
[ "$("$BUILD/cairn" --store "$T/s" list note --json | grep -c "from the installed library")" -eq 1 ] ||
  fail "the CLI does not see the note"
echo "$NAME: ok"
echo "1 passed, 0 failed"
