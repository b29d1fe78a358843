# tests/browser/lib/seed.sh — sourced by the browser tests after lib/common.sh: a
# store "ana" on a network with the default collective-impact schema, holding
# what every report reads, with dates around today so each commitment state
# occurs: partners at every pipeline stage, sites, plans, commitments done,
# on time, overdue, at risk and dropped; two indicators and a performance
# measure with values over several quarters at two or three sites (with a gap);
# interactions, a meeting, soft-goal ratings and a story behind the curve.
# seed_store WHO
seed_store() {
  local who=$1
  day() { date -u -d "$1" +%Y-%m-%d; }
  c "$who" init --name Ana >/dev/null
  c "$who" network create "Northside Cradle to Career" >/dev/null
  c "$who" put site s1 name="Garfield Elementary" kind=school
  c "$who" put site s2 name="Roosevelt Elementary" kind=school
  c "$who" put site s3 name="Jefferson Elementary" kind=school
  c "$who" put partner lib name="Lincoln Library" kind=nonprofit stage=committed sites:='["s1"]'
  c "$who" put partner clinic name="Eastside Clinic" kind=clinic stage=engaged sites:='["s2"]'
  c "$who" put partner ps name="Northside Public Schools" kind=school stage=committed \
    sites:='["s1","s2","s3"]'
  c "$who" put partner ymca name="YMCA <North> & \"Friends\"" kind=nonprofit stage=contacted
  c "$who" put partner fund name="Community Foundation" kind=funder stage=lead
  c "$who" put result r1 title="Children read on grade level by third grade"
  c "$who" put result r2 title="Children arrive ready for kindergarten"
  c "$who" put plan p1 title="Summer reading" result=r1 owner=lib
  c "$who" put plan p2 title="Attendance push" result=r1 owner=ps
  c "$who" put plan p3 title="Kindergarten readiness" result=r2 owner=clinic
  # commitments: every state as of today
  c "$who" put commitment c01 partner=lib plan=p1 title="Tutor 40 third graders" \
    due="$(day '-40 days')" status=done evidence="Sign-in sheets"
  c "$who" put commitment c02 partner=lib plan=p1 title="Open on Saturday mornings" \
    due="$(day '+20 days')" status=in-progress
  c "$who" put commitment c03 partner=lib plan=p1 title="Book bags for 200 families" \
    due="$(day '-12 days')" status=in-progress
  c "$who" put commitment c04 partner=ps plan=p2 title="Share attendance data monthly" \
    due="$(day '-3 days')" status=planned
  c "$who" put commitment c05 partner=ps plan=p2 title="Attendance mentors at two schools" \
    due="$(day '+45 days')" status=at-risk
  c "$who" put commitment c06 partner=ps plan=p1 title="Summer school reading block" \
    due="$(day '-90 days')" status=done
  c "$who" put commitment c07 partner=clinic plan=p3 title="Developmental screenings at intake" \
    due="$(day '+60 days')" status=planned
  c "$who" put commitment c08 partner=clinic plan=p3 title="Parent workshops" \
    due="$(day '-30 days')" status=dropped
  c "$who" put commitment c09 partner=ymca plan=p2 \
    title="Walking school bus <pilot> & \"safe routes\"" due="$(day '+5 days')" status=at-risk
  c "$who" put commitment c10 partner=fund title="Fund a data coordinator" status=planned
  # indicators and a measure, values by quarter at sites
  c "$who" put indicator i1 title="Third graders reading on grade level" result=r1 unit=% \
    direction=up baseline=42 baseline_period=2025-Q1 target=60 target_period=2027-Q4
  c "$who" put indicator i2 title="Chronic absence" result=r1 unit=% direction=down \
    baseline=24 baseline_period=2025-Q1 target=15 target_period=2027-Q2
  c "$who" put program g1 title="Reading buddies" partner=lib result=r1
  c "$who" put measure m1 title="Children tutored weekly" program=g1 kind=how-much \
    unit=children direction=up target=120
  local periods=(2025-Q1 2025-Q2 2025-Q3 2025-Q4 2026-Q1 2026-Q2 2026-Q3 2026-Q4)
  local s1=(42 44 45 47 49 50 52 54) s2=(40 41 40 "" 39 40 41 41) s3=(45 44 43 42 42 41 40 39)
  local a1=(24 23 22 21 20 19 18 17) a2=(26 27 27 28 28 29 29 30)
  local k
  for k in "${!periods[@]}"; do
    c "$who" put value "v1a$k" indicator=i1 site=s1 period="${periods[$k]}" actual="${s1[$k]}"
    [ -z "${s2[$k]}" ] ||
      c "$who" put value "v1b$k" indicator=i1 site=s2 period="${periods[$k]}" actual="${s2[$k]}"
    c "$who" put value "v1c$k" indicator=i1 site=s3 period="${periods[$k]}" actual="${s3[$k]}"
    c "$who" put value "v2a$k" indicator=i2 site=s1 period="${periods[$k]}" actual="${a1[$k]}"
    c "$who" put value "v2b$k" indicator=i2 site=s2 period="${periods[$k]}" actual="${a2[$k]}"
    c "$who" put value "vm$k" measure=m1 period="${periods[$k]}" actual="$((60 + 8 * k))"
  done
  c "$who" put story st1 indicator=i1 story="Saturday hours brought families in." \
    partners:='["lib"]' next_steps="Add a third site"
  # relationships: interactions, a meeting, soft goals
  c "$who" put interaction x1 partner=lib date="$(day '-6 days')" kind=meeting
  c "$who" put interaction x2 partner=clinic date="$(day '-75 days')" kind=call \
    follow_up="$(day '-10 days')"
  c "$who" put interaction x3 partner=ps date="$(day '-20 days')" kind=visit \
    follow_up="$(day '+7 days')"
  c "$who" put meeting mt1 date="$(day '-14 days')" kind=accountability \
    title="Monthly data review" attendees:='["lib","ps"]' decisions="Share attendance monthly"
  c "$who" put goal sg1 title="Trust among partners" scale_min=1 scale_max=5
  local q
  for q in 2026-Q1 2026-Q2 2026-Q3; do
    c "$who" put rating "r-lib-$q" goal=sg1 partner=lib period="$q" score=4
  done
  c "$who" put rating r-ps-1 goal=sg1 partner=ps period=2026-Q2 score=2
  c "$who" put rating r-ps-2 goal=sg1 partner=ps period=2026-Q3 score=3
}
