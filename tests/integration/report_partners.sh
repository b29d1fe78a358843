#!/usr/bin/env bash
# report_partners.sh — `cairn report partners` and `cairn report changes`
# (docs/cli.md, "Reports"), text and JSON, on two replicas that meet through
# bundles.
#
# Ana starts the network ten days ago (the clock hook of test builds) and adds
# six partners, the interactions and the meeting that make their contacts: one
# never contacted, one exactly 30 days ago (contacted, with --days 30), one 31
# days ago (not), one only through a meeting, one with an overdue follow-up,
# one with a follow-up due in three days. Today Ben, granted editor, adds a
# partner and changes a stage; Ana deletes and purges. `report changes --since
# 7d` has today's changes only, by person; --as-of a past date and a bad
# option are checked too.
#
# Usage: bash tests/integration/report_partners.sh BUILD_DIR
set -euo pipefail

. "$(dirname "$0")/lib/common.sh" "$@"
need_clock_hook
DAY=86400000
# day N: the date N days from today (UTC); negative: ago
day() { date -u -d "$1 days" +%F; }
# json: the JSON report on stdin, one line, indentation gone
json() { sed -z 's/\n *//g'; }
# exchange: each replica applies the other's entries
exchange() {
  c ana bundle create "$T/ana.bdl" >/dev/null
  c ben bundle create "$T/ben.bdl" >/dev/null
  c ben bundle apply "$T/ana.bdl" >/dev/null 2>&1
  c ana bundle apply "$T/ben.bdl" >/dev/null 2>&1
}

TODAY=$(day 0)
AGO=$((-10 * DAY))

step "ten days ago: Ana's network, partners and contacts"
at $AGO ana init --name Ana >/dev/null
at $AGO ana network create "Eastside Partnership" >/dev/null
at $AGO ana put partner never name="Never Co" stage=lead
at $AGO ana put partner edge name="Edge Org" stage=contacted kind=school
at $AGO ana put partner past name="Past Org" stage=engaged
at $AGO ana put partner meet name="Meet Org" stage=committed
at $AGO ana put partner follow name="Follow Org" stage=engaged
at $AGO ana put person uma name=Uma partner=follow
at $AGO ana put partner follow contact=uma
at $AGO ana put partner week name="Week Org"
at $AGO ana put interaction e1 partner=edge date="$(day -30)" kind=call
at $AGO ana put interaction p1 partner=past date="$(day -31)"
at $AGO ana put meeting m1 date="$(day -12)" title="Monthly table" attendees=meet
at $AGO ana put interaction f1 partner=follow person=uma date="$(day -20)" follow_up="$(day -1)"
at $AGO ana put interaction w1 partner=week date="$(day -11)" follow_up="$(day 3)"
at $AGO ana put partner gone name="Gone Org"

step "today: Ben's changes, Ana's delete and purge"
c ben init --name Ben >/dev/null
c ana grant "$(c ben id)" --role editor --name Ben
exchange
c ben put partner late name="Late Org" stage=lead
c ben put partner past stage=lapsed
exchange
c ana del partner gone
c ana put partner secret name="Secret Org"
c ana purge partner secret
exchange

step "report partners --days 30, text"
c ana report partners --days 30 --as-of "$TODAY" >"$T/p.txt"
has "^Partners$" <"$T/p.txt" || fail "no title: $(cat "$T/p.txt")"
has "Eastside Partnership — as of $TODAY" <"$T/p.txt" || fail "no subtitle"
has "^  Partners: 7$" <"$T/p.txt" || fail "7 partners: $(cat "$T/p.txt")"
has "^  Engaged or committed: 2$" <"$T/p.txt" || fail "engaged or committed"
has "^  Not contacted in 30 days: 3$" <"$T/p.txt" || fail "3 not contacted: $(cat "$T/p.txt")"
has "^  Follow-ups due: 2$" <"$T/p.txt" || fail "2 follow-ups"
has "^  Never Co  *lead  *never *$" <"$T/p.txt" || fail "never contacted: $(cat "$T/p.txt")"
has "^  Past Org  *lapsed  *$(day -31)  *31$" <"$T/p.txt" || fail "31 days: $(cat "$T/p.txt")"
has "^  Edge Org  *school  *contacted  *$(day -30)  *30 *$" <"$T/p.txt" ||
  fail "contacted exactly 30 days ago: $(cat "$T/p.txt")"
has "^  Meet Org  *committed  *$(day -12)  *12 *$" <"$T/p.txt" ||
  fail "meet's contact is the meeting it attended: $(cat "$T/p.txt")"
has "^  Follow Org .* $(day -1)  *-1  *overdue$" <"$T/p.txt" || fail "overdue follow-up"
has "^  Week Org .* $(day 3)  *3  *due$" <"$T/p.txt" || fail "follow-up due in 3 days"
has "^  lapsed  *1  *14%$" <"$T/p.txt" || fail "pipeline: $(cat "$T/p.txt")"
has "^  (no stage)  *1 " <"$T/p.txt" || fail "partners without a stage"
ok "partners as text"
# exactly 30 days ago still counts; with --days 29 it does not
c ana report partners --days 29 --as-of "$TODAY" | has "^  Not contacted in 29 days: 4$" ||
  fail "--days 29"
c ana report partners --days 29 --as-of "$TODAY" | has "^  Edge Org  *contacted  *$(day -30)  *30$" ||
  fail "--days 29: edge not contacted"
c ana report partners --as-of "$TODAY" | has "^  Not contacted in 60 days: 2$" || fail "default 60"
ok "--days moves the line; 60 by default"

step "report partners, JSON"
c ana report partners --days 30 --as-of "$TODAY" --format json | json >"$T/p.json"
has '"report": "partners"' <"$T/p.json" || fail "report name"
has '"facts": {"partners": 7,"engaged": 2,"not_contacted": 3,"follow_ups_due": 2}' <"$T/p.json" ||
  fail "facts: $(cat "$T/p.json")"
has '{"_type": "partner","_id": "never","partner": "Never Co","stage": "lead","last_contact": "never","days_since": null}' <"$T/p.json" ||
  fail "never contacted, JSON"
has '{"_type": "interaction","_id": "f1","partner": "Follow Org","date": "'"$(day -20)"'","kind": "","person": "Uma","follow_up": "'"$(day -1)"'","due_in": -1,"state": "overdue"}' <"$T/p.json" ||
  fail "follow-up, JSON: $(cat "$T/p.json")"
has '{"stage": "lead","partners": 2,"share": 28.57[0-9]*}' <"$T/p.json" || fail "pipeline row"
ok "partners as JSON"

step "as of a past date: the partners and contacts of then"
c ana report partners --days 30 --as-of "$(day -5)" >"$T/old.txt"
has "^  Partners: 7$" <"$T/old.txt" || fail "7 then (gone not yet deleted, late not yet added)"
has "^  Gone Org " <"$T/old.txt" || fail "gone was there: $(cat "$T/old.txt")"
has "Late Org" <"$T/old.txt" && fail "late was not there yet"
has "^  Past Org  *engaged " <"$T/old.txt" || fail "past was engaged then"
ok "--as-of in the past"

step "report changes --since 7d, text"
c ana report changes --since 7d >"$T/c.txt"
has "^Changes$" <"$T/c.txt" || fail "no title"
has "^  Changes: 5$" <"$T/c.txt" || fail "5 changes: $(cat "$T/c.txt")"
has "^  People who made them: 2$" <"$T/c.txt" || fail "2 people"
has "^  Records touched: 4$" <"$T/c.txt" || fail "4 records"
has "  Ben  *added  *Partner  *Late Org  *Name, Stage$" <"$T/c.txt" || fail "Ben's add: $(cat "$T/c.txt")"
has "  Ben  *changed  *Partner  *Past Org  *Stage$" <"$T/c.txt" || fail "Ben's change"
has "  Ana  *deleted  *Partner  *Gone Org *$" <"$T/c.txt" || fail "Ana's delete, named from history"
has "  Ana  *erased  *(erased by a purge) *$" <"$T/c.txt" || fail "the erased put"
has "  Ana  *purged  *Partner  *secret *$" <"$T/c.txt" || fail "the purge"
has "Secret Org" <"$T/c.txt" && fail "the purged name is shown"
has "Never Co" <"$T/c.txt" && fail "a change of ten days ago is in the last 7 days"
has "^  Ana  *3  *2$" <"$T/c.txt" || fail "Ana by person: $(cat "$T/c.txt")"
has "^  Ben  *2  *2$" <"$T/c.txt" || fail "Ben by person"
ok "changes as text"
c ana report changes | has "^  Changes: 19$" || fail "30 days by default: $(c ana report changes)"
ok "changes of the last 30 days by default"

step "report changes, JSON"
c ana report changes --since 7d --format json | json >"$T/c.json"
has '"facts": {"changes": 5,"people": 2,"records": 4}' <"$T/c.json" || fail "facts: $(cat "$T/c.json")"
has '{"_type": "_member","_id": "'"$(c ben id)"'","person": "Ben","changes": 2,"records": 2}' <"$T/c.json" ||
  fail "Ben by person, JSON: $(cat "$T/c.json")"
has '{"_type": "partner","_id": "late","time": "'"$TODAY"' [0-9:]*","person": "Ben","op": "added","type": "Partner","record": "Late Org","fields": "Name, Stage"}' <"$T/c.json" ||
  fail "Ben's add, JSON"
has '{"time": "[0-9: -]*","person": "Ana","op": "erased","type": "","record": "(erased by a purge)","fields": ""}' <"$T/c.json" ||
  fail "the erased put, JSON"
ok "changes as JSON"

step "bad input"
c ana report changes --since yesterday >/dev/null 2>"$T/err" && fail "--since yesterday accepted"
has "since takes a date" <"$T/err" || fail "--since message: $(cat "$T/err")"
c ana report partners --days 0 >/dev/null 2>"$T/err" && fail "--days 0 accepted"
has "days takes a whole number" <"$T/err" || fail "--days message: $(cat "$T/err")"
c ana report partner >/dev/null 2>"$T/err" && fail "report partner accepted"
has "did you mean partners" <"$T/err" || fail "did you mean: $(cat "$T/err")"
ok "bad options are usage errors"
c ana report --help | has "partners (pipeline by stage" || fail "help names partners"
c ana report --help | has "changes (who changed what" || fail "help names changes"
ok "help"

echo "$NAME: $n passed, 0 failed"
