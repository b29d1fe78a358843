#!/usr/bin/env bash
# cli_e2e.sh — two devices that only ever meet through bundle files.
#
# Ana creates a network and grants Ben; both edit offline (different records,
# and the same field of the same record); bundles go both ways (with --since);
# both replicas must then print byte-identical records and conflicts, a resolve
# must end the conflict everywhere, history must name both authors, a bundle
# applied twice must be skipped whole, and a purge must leave no trace of the
# record's content in either store's files.
#
# Usage: bash tests/integration/cli_e2e.sh BUILD_DIR   (runs BUILD_DIR/cairn)
set -euo pipefail

BUILD=${1:?usage: cli_e2e.sh BUILD_DIR}
BIN=$(cd "$BUILD" && pwd)/cairn
[ -x "$BIN" ] || { echo "cli_e2e: no binary at $BIN" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

ca() { "$BIN" --store "$T/a" "$@"; }
cb() { "$BIN" --store "$T/b" "$@"; }
fail() { echo "cli_e2e: FAIL: $*" >&2; exit 1; }
# has PATTERN: some line of stdin matches PATTERN (grep's basic regex). It reads
# all of stdin first: `grep -q` stops at the first match, and under pipefail the
# writer of a longer output then fails on the closed pipe.
has() { local in; in=$(cat); grep -q -- "$1" <<<"$in"; }
step() { echo "cli_e2e: $*"; }

# same "what" A B: fail unless the two strings are byte-identical
same() {
  [ "$2" = "$3" ] || fail "$1 differ:
  a: $2
  b: $3"
}

# expect_rc CODE CMD...: run CMD, fail unless it exits with CODE
expect_rc() {
  local want=$1 rc=0
  shift
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, expected $want: $(cat "$T/err")"
}

hex64='^[0-9a-f]{64}$'

step "A: init and network create"
KA=$(ca init --name Ana)
[[ $KA =~ $hex64 ]] || fail "init printed '$KA', not a key"
[ "$(ca id)" = "$KA" ] || fail "id differs from the key init printed"
NET=$(ca network create "Northside Cradle to Career" --schema none)
[[ $NET =~ $hex64 ]] || fail "network create printed '$NET', not an id"

step "B: init; A grants B (editor)"
KB=$(cb init --name Ben)
[[ $KB =~ $hex64 ]] || fail "init printed '$KB', not a key"
ca grant "$(cb id)" --role editor --name Ben
ca put partner p1 name="Lincoln Elementary" kind=school
ca put commitment c1 title="Tutor 40 third graders" partner=p1 due=2027-01-15 hours:=120

step "A -> B: full bundle"
ca bundle create "$T/a1.bdl" >/dev/null
out=$(cb bundle apply "$T/a1.bdl")
[ "$out" = "applied 4, skipped 0" ] || fail "first apply printed '$out'"
cb members | has "^$KB	Ben	editor	$" || fail "B does not see its own grant: $(cb members)"
same "commitment c1" "$(ca get commitment c1 --json)" "$(cb get commitment c1 --json)"

step "both edit offline"
ca put partner p2 name="Eastside Clinic" kind=health
ca put commitment c1 due=2027-02-01
M1=$(cb add meeting topic="Kickoff" attendees:=12 done:=false)
[[ $M1 =~ ^[0-9a-f]{20}$ ]] || fail "add printed '$M1', not a generated id"
cb put commitment c1 due=2027-03-01 note="needs a second tutor"
cb put partner p1 contact="Dana Ruiz"

step "bundles both ways, with --since"
cb heads --json >"$T/b.heads"
ca heads --json >"$T/a.heads"
ca bundle create "$T/a2.bdl" --since "$T/b.heads" >/dev/null
cb bundle create "$T/b1.bdl" --since "$T/a.heads" >/dev/null
out=$(cb bundle apply "$T/a2.bdl")
[ "$out" = "applied 2, skipped 0" ] || fail "A's --since bundle: '$out' (should hold A's 2 new entries)"
out=$(ca bundle apply "$T/b1.bdl")
[ "$out" = "applied 3, skipped 0" ] || fail "B's --since bundle: '$out' (should hold B's 3 entries)"

step "both replicas agree"
for type in partner commitment meeting _member _network; do
  same "list $type --json" "$(ca list "$type" --json)" "$(cb list "$type" --json)"
done
same "heads" "$(ca heads --json)" "$(cb heads --json)"
[ "$(ca list meeting --json)" != "[]" ] || fail "B's meeting did not reach A"
ca list partner --where kind=health --json | has '"_id":"p2"' || fail "--where kind=health"
[ "$(ca list partner --where kind=health --where name=nobody --json)" = "[]" ] ||
  fail "two --where must both match"
ca get partner p1 --json | has '"contact":"Dana Ruiz"' || fail "B's field on p1 lost on A"

step "the conflict shows on both sides, identically"
CA=$(ca conflicts --json)
same "conflicts --json" "$CA" "$(cb conflicts --json)"
grep -q '"_type":"commitment","_id":"c1","field":"due"' <<<"$CA" || fail "no conflict on due: $CA"
grep -q '"value":"2027-02-01"' <<<"$CA" || fail "A's value missing from the conflict: $CA"
grep -q '"value":"2027-03-01"' <<<"$CA" || fail "B's value missing from the conflict: $CA"
grep -q '"name":"Ana"' <<<"$CA" && grep -q '"name":"Ben"' <<<"$CA" ||
  fail "conflict heads lack author names: $CA"
VISIBLE=$(ca get commitment c1 | sed -n 's/^due\t\([^\t]*\)\tin conflict\t.*/\1/p')
[ -n "$VISIBLE" ] || fail "get does not mark due in conflict: $(ca get commitment c1)"
grep -q "\"heads\":\[{\"value\":\"$VISIBLE\"" <<<"$CA" || fail "visible value $VISIBLE not first: $CA"
[ "$(ca conflicts | wc -l)" -eq 2 ] || fail "text conflicts should list 2 heads: $(ca conflicts)"

step "resolve on B, bundle to A"
cb resolve commitment c1 due=2027-02-15
ca heads --json >"$T/a.heads"
cb bundle create "$T/b2.bdl" --since "$T/a.heads" >/dev/null
out=$(ca bundle apply "$T/b2.bdl")
[ "$out" = "applied 1, skipped 0" ] || fail "resolve bundle: '$out'"
same "conflicts after resolve" "$(ca conflicts --json)" "[]"
same "conflicts after resolve" "$(cb conflicts --json)" "[]"
for side in ca cb; do
  [ "$($side get commitment c1 | sed -n 's/^due\t//p')" = "2027-02-15" ] ||
    fail "$side does not show the resolved value"
done
same "commitment after resolve" "$(ca list commitment --json)" "$(cb list commitment --json)"

step "history names both authors"
H=$(ca history commitment c1)
grep -q "	$KA	Ana	" <<<"$H" || fail "history lacks Ana: $H"
grep -q "	$KB	Ben	" <<<"$H" || fail "history lacks Ben: $H"
[ "$(echo "$H" | wc -l)" -eq 4 ] || fail "history should hold 4 changes: $H"
same "history --json" "$(ca history commitment c1 --json)" "$(cb history commitment c1 --json)"
ca log --json | has '"name":"Ben"' || fail "log lacks Ben"

step "applying a bundle twice skips everything"
out=$(ca bundle apply "$T/b2.bdl")
[ "$out" = "applied 0, skipped 1" ] || fail "second apply of b2: '$out'"
out=$(cb bundle apply "$T/a1.bdl")
[ "$out" = "applied 0, skipped 4" ] || fail "second apply of a1: '$out'"

step "delete and purge"
cb del partner p2
expect_rc 3 cb get partner p2
SECRET="purge-me-$$-$RANDOM-child-record"
ca put note n1 text="$SECRET" about=p1
ca put note n2 text="keep me"
cb heads --json >"$T/b.heads"
ca bundle create "$T/a3.bdl" --since "$T/b.heads" >/dev/null
cb bundle apply "$T/a3.bdl" >/dev/null
[ "$(cb get note n1 | sed -n 's/^text\t//p')" = "$SECRET" ] || fail "note n1 did not reach B"
grep -a -q -- "$SECRET" "$T/b/data.mdb" || fail "sanity: the secret should be in B's store now"
ca purge note n1
ca heads --json >"$T/a.heads"
cb bundle create "$T/b3.bdl" --since "$T/a.heads" >/dev/null
ca bundle apply "$T/b3.bdl" >/dev/null
cb heads --json >"$T/b.heads"
ca bundle create "$T/a4.bdl" --since "$T/b.heads" >/dev/null
cb bundle apply "$T/a4.bdl" >/dev/null
for side in ca cb; do
  expect_rc 3 "$side" get note n1
  grep -q '^cairn: ' "$T/err" || fail "$side get of a purged record: no error line"
  expect_rc 3 "$side" history note n1
  [ "$($side get note n2 | sed -n 's/^text\t//p')" = "keep me" ] || fail "$side lost note n2"
done
found=0
for f in "$T"/a/* "$T"/b/*; do
  n=$(grep -a -c -- "$SECRET" "$f" || true)
  [ "$n" -eq 0 ] || { echo "cli_e2e: $f still holds the purged text ($n)" >&2; found=1; }
done
[ $found -eq 0 ] || fail "purged content is still in a store file"
for type in partner commitment meeting note _member; do
  same "list $type --json after purge" "$(ca list "$type" --json)" "$(cb list "$type" --json)"
done
same "heads after purge" "$(ca heads --json)" "$(cb heads --json)"

step "ok"
