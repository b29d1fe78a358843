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
need_clock_hook

c ana init --name Ana >/dev/null
c ana network create "Revocation network" --schema none >/dev/null
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
c ana bundle apply "$T/r2.bdl" >"$T/out" 2>"$T/err" || fail "ana could not apply: $(cat "$T/err")"
has "1 of the changes applied was refused" <"$T/err" || fail "ana was not told of the refused entry: $(cat "$T/err")"
if c ana get note r2 >/dev/null 2>&1; then fail "ana shows r2"; fi
c ana history note r2 | has "refused: .*revoked, accepting its entries up to seq 1 only" ||
  fail "ana's history of r2 does not say why it was refused: $(c ana history note r2)"
c ana get note r1 >/dev/null || fail "ana lost r1"
ok "an entry signed after the cut-off is refused, whatever its stamp"

# A revocation that arrives late: Mia gets Rob's entries (written after he was
# revoked) before she learns of the revocation, and applies them; once the
# revocation reaches her, they are refused on her replica too, so hers and
# Ana's show the same records.
c mia init --name Mia >/dev/null
c ana grant "$(c mia id)" --role editor --name Mia
c mia bundle apply "$T/start.bdl" >/dev/null
c rob put note r3 text="written after the revocation, not knowing"
c rob bundle create "$T/r3.bdl" >/dev/null
c mia bundle apply "$T/r3.bdl" >/dev/null
c mia get note r3 >/dev/null || fail "mia did not apply Rob's entries before the revocation"
c ana bundle apply "$T/r3.bdl" >/dev/null 2>&1
c ana bundle create "$T/ana.bdl" >/dev/null
c mia bundle apply "$T/ana.bdl" >/dev/null 2>&1
if c mia get note r3 >/dev/null 2>&1; then fail "mia still shows r3 after learning of the revocation"; fi
if c mia get note r2 >/dev/null 2>&1; then fail "mia shows r2"; fi
c mia history note r3 | has "refused: " || fail "mia's history of r3: $(c mia history note r3)"
same "notes" "$(c ana list note --json)" "$(c mia list note --json)"
same "history of r3" "$(c ana history note r3 --json)" "$(c mia history note r3 --json)"
same "heads" "$(c ana heads --json)" "$(c mia heads --json)"
ok "a revocation that arrives late refuses the same entries on every replica"
echo "$n passed, 0 failed"
