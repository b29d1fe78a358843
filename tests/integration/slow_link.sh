#!/usr/bin/env bash
# slow_link.sh — a site on a slow, lossy link (docs/design.md, "Wire size"):
# 1 Mbit/s each way, 300 ms round trip, 1% of segments lost, played by
# lib/slowlink.py, a proxy between Bob and the relay (this kernel has no
# `tc netem` for a network namespace; see the proxy's comment for how it plays
# a loss).
#
# 1. Ana writes 10,000 entries (tests/tools/storefill) and syncs them at full
#    speed; Bob, new, pulls them over the slow link: the time and the bytes the
#    link carried are printed, every entry must arrive, the pull must carry at
#    most 110 bytes an entry (compact entries, zstd), and it must end within
#    twice the link's own time for those bytes plus 30 s.
# 2. Bob syncs live over the slow link; Ana's one edit, synced at full speed,
#    must show on Bob's replica within 2 s.
#
# Usage: bash tests/integration/slow_link.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"

FILL=$BUILD/tests/tools/storefill
ENTRIES=10000
command -v python3 >/dev/null || fail "python3 is needed for the slow link (scripts/deps installs it)"

# link_bytes: "UP DOWN", the bytes the slow link carried so far
link_bytes() { cat "$T/link.stats"; }

network_with ana bob
"$FILL" "$T/ana" "$ENTRIES" slow >/dev/null
sync_ok ana
held=$(c ana log | wc -l)

step "the slow link: 1 Mbit/s, 300 ms round trip, 1% loss"
python3 "$(dirname "$0")/lib/slowlink.py" --to "127.0.0.1:$PORT" --port-file "$T/link.port" \
  --stats-file "$T/link.stats" --rate 1000000 --delay-ms 150 --loss 0.01 --max-seconds 300 &
BG+=("$!")
for _ in $(seq 1 100); do [ -s "$T/link.port" ] && break; sleep 0.1; done
[ -s "$T/link.port" ] || fail "the slow link did not start"
c bob remote "127.0.0.1:$(cat "$T/link.port")" --key "$RK"

# 1. a fresh pull of 10,000 entries over the link
t0=$(date +%s.%N)
c bob sync --timeout 280 >"$T/pull.out" 2>"$T/pull.err" || fail "the pull failed: $(cat "$T/pull.err")"
t1=$(date +%s.%N)
got=$(c bob log | wc -l)
[ "$got" -eq "$held" ] || fail "Bob holds $got entries, Ana $held"
read -r up down <<<"$(link_bytes)"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
per=$(awk -v d="$down" -v n="$held" 'BEGIN { printf "%.0f", d / n }')
echo "pull over the slow link: $held entries in $secs s, $down bytes down ($per an entry), $up up"
# the link's own time for those bytes (8 bits a byte at 1 Mbit/s), plus round
# trips and stalls: a pull slower than twice that plus 30 s is stuck somewhere
limit=$(awk -v d="$down" 'BEGIN { printf "%d", 2 * d * 8 / 1000000 + 30 }')
awk -v s="$secs" -v l="$limit" 'BEGIN { exit !(s <= l) }' ||
  fail "the pull took $secs s, more than $limit s for $down bytes"
[ "$per" -le 110 ] || fail "the pull carried $per bytes an entry (110 at most)"
ok "a fresh pull of $held entries over 1 Mbit/s and 300 ms: $secs s, $per bytes an entry"

# 2. a live edit across the link
"$CAIRN" --store "$T/bob" sync --live >"$T/live.out" 2>"$T/live.err" &
LIVE=$!
BG+=("$LIVE")
for _ in $(seq 1 100); do grep -q "connected to" "$T/live.err" && break; sleep 0.1; done
grep -q "connected to" "$T/live.err" || fail "Bob's live sync did not connect: $(cat "$T/live.err")"
sleep 1 # the live connection's catch-up is done
t0=$(date +%s.%N)
c ana put note live1 text="across the slow link"
sync_ok ana
for _ in $(seq 1 100); do
  c bob get note live1 2>/dev/null | has "across the slow link" && break
  sleep 0.05
done
t1=$(date +%s.%N)
c bob get note live1 2>/dev/null | has "across the slow link" || fail "the live edit never arrived"
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || fail "the live edit took $secs s (2 s at most)"
ok "a live edit reached Bob over the slow link in $secs s (put and sync included)"
stop_live "$LIVE"

echo "$NAME: $n checks passed"
