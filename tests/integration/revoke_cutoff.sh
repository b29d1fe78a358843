#!/usr/bin/env bash
# revoke_cutoff.sh — a revoked device cannot sign its way back in by setting its
# clock back (docs/design.md, "Membership and roles"). `cairn revoke` names the
# last seq of the key it accepts (its head in the revoker's replica); every later
# entry of that key is refused everywhere, whatever its stamp. The clock is set
# back with CAIRN_TEST_CLOCK_OFFSET_MS (test builds, CAIRN_TEST_HOOKS).
#
# Usage: bash tests/integration/revoke_cutoff.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
grep -q '^CAIRN_TEST_HOOKS:BOOL=ON' "$BUILD/CMakeCache.txt" ||
  fail "this build has no clock hook: configure with -DCAIRN_TEST_HOOKS=ON (scripts/test does)"

c ana init --name Ana >/dev/null
c ana network create "Revocation network" >/dev/null
c rob init --name Rob >/dev/null
c ana grant "$(c rob id)" --role editor --name Rob
c ana bundle create "$T/start.bdl" >/dev/null
c rob bundle apply "$T/start.bdl" >/dev/null
c rob put note r1 text="before the revocation"
c rob bundle create "$T/r1.bdl" >/dev/null
c ana bundle apply "$T/r1.bdl" >/dev/null
c ana get note r1 >/dev/null || fail "ana lacks r1"

sleep 0.05
c ana revoke "$(c rob id)"
c ana members | has "Rob	revoked" || fail "rob is not revoked"

# Rob, not knowing, sets his clock two days back: his next entry is stamped just
# after his last one, before the revocation
CAIRN_TEST_CLOCK_OFFSET_MS=-172800000 c rob put note r2 text="signed with the clock set back"
c rob bundle create "$T/r2.bdl" >/dev/null
if c ana bundle apply "$T/r2.bdl" >/dev/null 2>"$T/err"; then
  fail "an entry of a revoked key above its cut-off was accepted"
fi
grep -q "revoked, accepting its entries up to seq 1 only" "$T/err" || fail "ana said: $(cat "$T/err")"
if c ana get note r2 >/dev/null 2>&1; then fail "ana shows r2"; fi
c ana get note r1 >/dev/null || fail "ana lost r1"
echo "ok   an entry signed after the cut-off is refused, whatever its stamp"
echo "1 passed, 0 failed"
