#!/usr/bin/env bash
# clock_skew.sh — devices whose clocks are wrong (docs/design.md, "Hybrid logical
# clock"; docs/cli.md, "Sync with a relay"). The clock is shifted per process by
# CAIRN_TEST_CLOCK_OFFSET_MS, which test builds (CAIRN_TEST_HOOKS, scripts/test)
# read: no faketime.
#
# 1. A device 3 days fast syncs: it is warned in one line, learns the relay's
#    time, and the change it then makes is stamped with the relay's time and
#    accepted everywhere.
# 2. A device that wrote while 3 days fast, before it knew better, has its clock
#    fixed: its own next change is not refused (the HLC goes on from the last).
#    When it syncs, the relay refuses the entry stamped 3 days ahead; the device
#    signs its unacknowledged changes again with the relay's time and they are
#    delivered.
# 3. A device a day slow pulls what others wrote just now: the entries are not
#    taken for "ahead of this device's clock", since it learnt the relay's time
#    from the relay's hello before they arrived.
#
# Usage: bash tests/integration/clock_skew.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
need_clock_hook
DAY=86400000

network_with ana bob carol dave

# 1. three days fast
at $((3 * DAY)) bob sync --timeout 30 >/dev/null 2>"$T/err" || fail "bob's sync: $(cat "$T/err")"
grep -q "warning: this device's clock is 3 days ahead of the relay's; set the date and time" \
  "$T/err" || fail "no clock warning: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line: $(cat "$T/err")"
at $((3 * DAY)) bob put note b1 text="written 3 days fast" || fail "bob's put"
at $((3 * DAY)) bob sync --timeout 30 >/dev/null 2>"$T/err" || fail "bob's push was refused: $(cat "$T/err")"
c ana sync --timeout 30 >/dev/null
c ana get note b1 | has "written 3 days fast" || fail "ana lacks bob's note"
ok "a device 3 days fast is warned and its change, stamped with the relay's time, is accepted"

# 2. own writes after the clock is fixed
at $((3 * DAY)) carol put note c1 text="before the fix" || fail "carol's first put"
c carol put note c2 text="after the fix" 2>"$T/err" || fail "carol's own write was refused: $(cat "$T/err")"
c carol get note c2 >/dev/null || fail "carol's note c2 is missing"
ok "a device never refuses its own writes for its clock"

# 2b. the relay refuses c1 for its clock: carol signs both again with the relay's
#     time (learnt from its hello) and the sync succeeds
c carol sync --timeout 30 >/dev/null 2>"$T/err" || fail "carol's sync: $(cat "$T/err")"
grep -q "2 changes made on this device were signed again" "$T/err" ||
  fail "carol was not told: $(cat "$T/err")"
c ana sync --timeout 30 >/dev/null
c ana get note c1 | has "before the fix" || fail "ana lacks carol's c1"
c ana get note c2 | has "after the fix" || fail "ana lacks carol's c2"
ok "changes the relay refused for their clock are signed again and delivered"

# 3. a day slow, pulling fresh entries
c ana put note a1 text="written just now"
c ana sync --timeout 30 >/dev/null
at $((-DAY)) dave sync --timeout 30 >/dev/null 2>"$T/err" || fail "dave's pull: $(cat "$T/err")"
grep -q "clock is 24 hours behind the relay's" "$T/err" || fail "no clock warning: $(cat "$T/err")"
at $((-DAY)) dave get note a1 | has "written just now" || fail "dave lacks ana's note"
ok "a device a day slow pulls fresh entries"

stop_relay
echo "$n passed, 0 failed"
