/*
 * test_report_measures.c — the measures and goals reports (client/report/
 * measures.c, goals.c): periods, slopes, needed slopes and trends on
 * hand-made values with known answers (up and down indicators, one value,
 * sites and groups, years, quarters and months, no target, a target period
 * passed, a measure), a report as of a past time that ignores later writes,
 * soft-goal ratings with their change, and the documents (tables with _type
 * and _id, charts, JSON numbers).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "cairn_test.h"
#include "report.h"

/* ---- a store with the default schema ---- */

typedef struct fx {
  cairn_store_t *s;
  char *dir;
  int nvalues;
} fx_t;

static int fx_setup(void **state) {
  fx_t *f = calloc(1, sizeof *f);
  cairn_error_t err = {0, ""};
  uint8_t net[CAIRN_KEY_BYTES];
  if (f == NULL)
    return -1;
  CAIRN_PASS(cairn_test_store("ana", &f->s, &f->dir));
  CAIRN_PASS(cairn_store_network_create(f->s, "Northside", net, &err));
  if (cairn_schema_apply(f->s, cairn_schema_default(), NULL, &err) != 0)
    fail_msg("default schema: %s", err.msg);
  *state = f;
  return 0;
}

static int fx_teardown(void **state) {
  fx_t *f = *state;
  cairn_close(f->s);
  cairn_test_rmrf(f->dir);
  free(f->dir);
  free(f);
  return 0;
}

/* Put fields given as text (name, text, ..., NULL; a NULL text is skipped) on
 * (type, id) as one change, typed by the schema. */
static void put(fx_t *f, const char *type, const char *id, ...) {
  cairn_error_t err = {0, ""};
  cairn_change_t *c;
  const char *name, *text;
  va_list ap;
  CAIRN_PASS(cairn_change_begin(f->s, &c));
  va_start(ap, id);
  while ((name = va_arg(ap, const char *)) != NULL)
    if ((text = va_arg(ap, const char *)) != NULL &&
        cairn_change_put_text(c, type, id, name, text, 0, &err) != 0)
      fail_msg("%s %s: %s", type, id, err.msg);
  va_end(ap);
  if (cairn_change_commit(c, NULL, &err) != 0)
    fail_msg("%s %s: %s", type, id, err.msg);
}

/* A value of indicator ind (site and group may be NULL) with an actual. */
static void actual(fx_t *f, const char *ind, const char *site, const char *group,
                   const char *period, const char *value) {
  char id[32];
  snprintf(id, sizeof id, "v%d", ++f->nvalues);
  put(f, "value", id, "indicator", ind, "site", site, "group", group, "period", period, "actual",
      value, NULL);
}

/* Values of ind at site, one per period from periods[0], with actuals. */
static void run(fx_t *f, const char *ind, const char *site, const char *group,
                const char *const *periods, const char *const *values, size_t n) {
  for (size_t i = 0; i < n; i++)
    actual(f, ind, site, group, periods[i], values[i]);
}

static void sites(fx_t *f) {
  put(f, "site", "s1", "name", "Adams", NULL);
  put(f, "site", "s2", "name", "Bell", NULL);
  put(f, "site", "s3", "name", "Cole", NULL);
  put(f, "site", "s4", "name", "Drew", NULL);
  put(f, "site", "s5", "name", "Eden", NULL);
}

static const char *const years[] = {"2020", "2021", "2022"};

/* The model as of as_of (0: now); d is kept for the strings. */
static cairn_report_measures_t *measures(fx_t *f, uint64_t as_of, cairn_report_data_t **d) {
  cairn_report_measures_t *m;
  CAIRN_PASS(cairn_report_data_open(f->s, as_of, d));
  CAIRN_PASS(cairn_report_measures(*d, &m));
  return m;
}

static const cairn_report_measure_t *owner(const cairn_report_measures_t *m, const char *id) {
  for (size_t i = 0; i < m->nindicators; i++)
    if (strcmp(m->indicators[i].rec->id, id) == 0)
      return &m->indicators[i];
  for (size_t i = 0; i < m->nmeasures; i++)
    if (strcmp(m->measures[i].rec->id, id) == 0)
      return &m->measures[i];
  fail_msg("no indicator or measure %s", id);
  return NULL;
}

static int same(const char *a, const char *b) {
  return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

static const cairn_report_measure_series_t *series(const cairn_report_measure_t *o,
                                                   const char *site, const char *group) {
  for (size_t i = 0; i < o->nseries; i++)
    if (same(o->series[i].site, site) && same(o->series[i].group, group))
      return &o->series[i];
  fail_msg("%s has no series for %s, %s", o->rec->id, site ? site : "all sites",
           group ? group : "all");
  return NULL;
}

#define assert_near(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* The series' figures: slope, needed (NAN: none), trend. */
static void check(const cairn_report_measure_series_t *s, double slope, double needed,
                  cairn_trend_t trend) {
  if (isnan(slope))
    assert_true(isnan(s->slope));
  else
    assert_near(s->slope, slope);
  if (isnan(needed))
    assert_true(isnan(s->needed));
  else
    assert_near(s->needed, needed);
  if (s->trend != trend)
    fail_msg("series %s/%s: trend %s, expected %s", s->site ? s->site : "-",
             s->group ? s->group : "-", cairn_trend_name(s->trend), cairn_trend_name(trend));
}

/* ---- periods ---- */

static void test_periods(void **state) {
  cairn_report_period_t p, q;
  (void)state;
  assert_int_equal(cairn_report_period_parse("2026", &p), 1);
  assert_int_equal(p.month, 12 * 2026);
  assert_int_equal(p.months, 12);
  assert_int_equal(cairn_report_period_parse("2026-Q2", &p), 1);
  assert_int_equal(p.month, 12 * 2026 + 3);
  assert_int_equal(p.months, 3);
  assert_int_equal(cairn_report_period_parse("2026-q4", &p), 1);
  assert_int_equal(p.month, 12 * 2026 + 9);
  assert_int_equal(cairn_report_period_parse("2026-05", &p), 1);
  assert_int_equal(p.month, 12 * 2026 + 4);
  assert_int_equal(p.months, 1);
  const char *bad[] = {"2026-Q5", "2026-13", "2026-00", "26", "2026-1", "abcd", "2026-05-01",
                       "0000", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (cairn_report_period_parse(bad[i], &p))
      fail_msg("'%s' read as a period", bad[i]);
  assert_int_equal(cairn_report_period_parse(NULL, &p), 0);
  /* 2026 < 2026-Q1 < 2026-01 < 2026-02 < 2026-Q2 */
  const char *order[] = {"2026", "2026-Q1", "2026-01", "2026-02", "2026-Q2", "2027"};
  for (size_t i = 0; i + 1 < sizeof order / sizeof order[0]; i++) {
    assert_true(cairn_report_period_parse(order[i], &p) && cairn_report_period_parse(order[i + 1], &q));
    assert_true(cairn_report_period_cmp(&p, &q) < 0);
    assert_true(cairn_report_period_cmp(&q, &p) > 0);
    assert_int_equal(cairn_report_period_cmp(&p, &p), 0);
  }
  assert_true(cairn_report_period_parse("2026-Q2", &p));
  assert_int_equal(cairn_report_period_started(&p, "2026-03-31"), 0);
  assert_int_equal(cairn_report_period_started(&p, "2026-04-01"), 1);
  assert_int_equal(cairn_report_period_started(&p, "2027-01-01"), 1);
  assert_int_equal(cairn_report_period_started(&p, "soon"), 0);
  assert_string_equal(cairn_trend_name(CAIRN_TREND_TOO_SLOW), "too-slow");
  assert_string_equal(cairn_trend_name(CAIRN_TREND_N), "?");
}

/* ---- indicators where higher is better ---- */

/*
 * Baseline 40 in 2020, target 60 by 2024: the line stands at 50 in 2022. Each
 * site's actuals for 2020-2022 and what follows (slopes per year, least
 * squares over positions 0, 1, 2; needed: (60 - latest) / 2 years):
 *   Adams  40 46 50  on the line: on-track (slope 5, needed 5)
 *   Bell   40 41 43  behind, too slow: too-slow (slope 1.5, needed 8.5)
 *   Cole   40 38 35  wrong-way (slope -2.5, needed 12.5)
 *   Drew   30 40 45  behind the line, as fast as needed: on-track (7.5, 7.5)
 *   Eden   55 (2022) one value: no-data (needed 2.5)
 *   Adams, grade 3: 40 (2020), 62 (2022) past the target: on-track (slope 11,
 *     needed 0)
 *   all sites: 40, 45 (2020, 2021) on the line: on-track (5, 15 / 3 years)
 */
static void test_up(void **state) {
  fx_t *f = *state;
  cairn_report_data_t *d;
  sites(f);
  put(f, "result", "r1", "title", "Children read", NULL);
  put(f, "indicator", "read", "title", "Reading on grade level", "result", "r1", "unit",
      "percent", "direction", "up", "baseline", "40", "baseline_period", "2020", "target", "60",
      "target_period", "2024", NULL);
  run(f, "read", "s1", NULL, years, (const char *[]){"40", "46", "50"}, 3);
  run(f, "read", "s2", NULL, years, (const char *[]){"40", "41", "43"}, 3);
  run(f, "read", "s3", NULL, years, (const char *[]){"40", "38", "35"}, 3);
  run(f, "read", "s4", NULL, years, (const char *[]){"30", "40", "45"}, 3);
  actual(f, "read", "s5", NULL, "2022", "55");
  actual(f, "read", "s1", "grade 3", "2020", "40");
  actual(f, "read", "s1", "grade 3", "2022", "62");
  run(f, "read", NULL, NULL, years, (const char *[]){"40", "45"}, 2);
  put(f, "value", "stray", "period", "2021", "actual", "99", NULL); /* names nothing */

  cairn_report_measures_t *m = measures(f, 0, &d);
  assert_int_equal(m->nindicators, 1);
  assert_int_equal(m->nmeasures, 0);
  const cairn_report_measure_t *o = owner(m, "read");
  assert_string_equal(o->type, "indicator");
  assert_string_equal(o->title, "Reading on grade level");
  assert_string_equal(o->context, "Children read");
  assert_string_equal(o->unit, "percent");
  assert_int_equal(o->direction, 1);
  assert_near(o->baseline, 40);
  assert_near(o->target, 60);
  assert_int_equal(o->nseries, 7);

  const cairn_report_measure_series_t *s = series(o, "s1", NULL);
  check(s, 5, 5, CAIRN_TREND_ON_TRACK);
  assert_near(s->expected, 50);
  assert_int_equal(s->per_months, 12);
  assert_int_equal(s->npoints, 3);
  assert_int_equal(s->nactuals, 3);
  assert_string_equal(s->latest->period, "2022");
  assert_near(s->latest->actual, 50);
  assert_string_equal(s->site_name, "Adams");
  check(series(o, "s2", NULL), 1.5, 8.5, CAIRN_TREND_TOO_SLOW);
  check(series(o, "s3", NULL), -2.5, 12.5, CAIRN_TREND_WRONG_WAY);
  check(series(o, "s4", NULL), 7.5, 7.5, CAIRN_TREND_ON_TRACK);
  s = series(o, "s5", NULL);
  check(s, NAN, 2.5, CAIRN_TREND_NO_DATA);
  assert_int_equal(s->nactuals, 1);
  check(series(o, "s1", "grade 3"), 11, 0, CAIRN_TREND_ON_TRACK);
  s = series(o, NULL, NULL);
  check(s, 5, 5, CAIRN_TREND_ON_TRACK);
  assert_string_equal(s->site_name, "All sites");

  /* all sites first, then by site name, all groups before a group */
  const char *order[][2] = {{NULL, NULL}, {"s1", NULL},  {"s1", "grade 3"}, {"s2", NULL},
                            {"s3", NULL}, {"s4", NULL}, {"s5", NULL}};
  for (size_t i = 0; i < 7; i++) {
    assert_true(same(o->series[i].site, order[i][0]));
    assert_true(same(o->series[i].group, order[i][1]));
  }
  assert_int_equal(o->count[CAIRN_TREND_ON_TRACK], 4);
  assert_int_equal(o->count[CAIRN_TREND_TOO_SLOW], 1);
  assert_int_equal(o->count[CAIRN_TREND_WRONG_WAY], 1);
  assert_int_equal(o->count[CAIRN_TREND_NO_DATA], 1);
  assert_int_equal(m->nseries, 7);
  assert_int_equal(m->count[CAIRN_TREND_ON_TRACK], 4);
  cairn_report_measures_free(m);
  cairn_report_data_free(d);
}

/* ---- lower is better, in quarters; months ---- */

/*
 * Chronic absence, down: baseline 20 in 2024-Q1, target 12 by 2025-Q1 (four
 * quarters). At 2024-Q3 the line stands at 16; needed from the latest actual:
 * (12 - latest) / 2 quarters.
 *   Adams 20 19 18  falling too slowly: too-slow (slope -1, needed -3)
 *   Bell  20 21 23  rising: wrong-way (slope 1.5, needed -5.5)
 *   Cole  20 16 14  below the line: on-track (slope -3, needed -1)
 *   Drew  20 20 20  not moving: too-slow (slope 0, needed -4)
 * Visits, monthly, up, no baseline, target 100 by 2024-12: 10 20 30 in
 * 2024-01..03: slope 10 per month, needed 70 / 9 months: on-track.
 * Waiting days: no direction, baseline 30 and target 10 say down; 30 28 in
 * 2024-Q1..Q2: on the way down: needed (10 - 28) / 2 quarters (target 2024-Q4).
 */
static void test_down_quarters_months(void **state) {
  fx_t *f = *state;
  cairn_report_data_t *d;
  static const char *const quarters[] = {"2024-Q1", "2024-Q2", "2024-Q3"};
  static const char *const months[] = {"2024-01", "2024-02", "2024-03"};
  sites(f);
  put(f, "indicator", "absent", "title", "Chronic absence", "direction", "down", "baseline", "20",
      "baseline_period", "2024-Q1", "target", "12", "target_period", "2025-Q1", NULL);
  run(f, "absent", "s1", NULL, quarters, (const char *[]){"20", "19", "18"}, 3);
  run(f, "absent", "s2", NULL, quarters, (const char *[]){"20", "21", "23"}, 3);
  run(f, "absent", "s3", NULL, quarters, (const char *[]){"20", "16", "14"}, 3);
  run(f, "absent", "s4", NULL, quarters, (const char *[]){"20", "20", "20"}, 3);
  put(f, "indicator", "visits", "title", "Home visits", "direction", "up", "target", "100",
      "target_period", "2024-12", NULL);
  run(f, "visits", NULL, NULL, months, (const char *[]){"10", "20", "30"}, 3);
  put(f, "indicator", "wait", "title", "Days waiting", "baseline", "30", "baseline_period",
      "2024-Q1", "target", "10", "target_period", "2024-Q4", NULL);
  run(f, "wait", NULL, NULL, quarters, (const char *[]){"30", "28"}, 2);

  cairn_report_measures_t *m = measures(f, 0, &d);
  assert_int_equal(m->nindicators, 3);
  /* by title */
  assert_string_equal(m->indicators[0].title, "Chronic absence");
  assert_string_equal(m->indicators[1].title, "Days waiting");
  assert_string_equal(m->indicators[2].title, "Home visits");
  const cairn_report_measure_t *o = owner(m, "absent");
  assert_int_equal(o->direction, -1);
  const cairn_report_measure_series_t *s = series(o, "s1", NULL);
  check(s, -1, -3, CAIRN_TREND_TOO_SLOW);
  assert_int_equal(s->per_months, 3);
  assert_near(s->expected, 16);
  check(series(o, "s2", NULL), 1.5, -5.5, CAIRN_TREND_WRONG_WAY);
  check(series(o, "s3", NULL), -3, -1, CAIRN_TREND_ON_TRACK);
  check(series(o, "s4", NULL), 0, -4, CAIRN_TREND_TOO_SLOW);

  o = owner(m, "visits");
  s = series(o, NULL, NULL);
  check(s, 10, 70.0 / 9, CAIRN_TREND_ON_TRACK);
  assert_int_equal(s->per_months, 1);
  assert_true(isnan(s->expected)); /* no baseline: no line */

  o = owner(m, "wait");
  assert_int_equal(o->direction, -1);
  /* line at 2024-Q2: 30 - 20/3 = 23.33; 28 is behind it; needed -9 a quarter */
  check(series(o, NULL, NULL), -2, -9, CAIRN_TREND_TOO_SLOW);
  cairn_report_measures_free(m);
  cairn_report_data_free(d);
}

/* ---- no target, a target period passed, a measure, merged values ---- */

static void test_edges(void **state) {
  fx_t *f = *state;
  cairn_report_data_t *d;
  sites(f);
  /* no target: the direction alone; not moving is too slow */
  put(f, "indicator", "att", "title", "Attendance", "direction", "up", NULL);
  run(f, "att", "s1", NULL, years, (const char *[]){"10", "12"}, 2);
  run(f, "att", "s2", NULL, years, (const char *[]){"12", "10"}, 2);
  run(f, "att", "s3", NULL, years, (const char *[]){"10", "10"}, 2);
  /* the target period (2021) passed: behind is too slow even moving the right
   * way; at the target is on track */
  put(f, "indicator", "late", "title", "Late target", "direction", "up", "baseline", "40",
      "baseline_period", "2020", "target", "60", "target_period", "2021", NULL);
  run(f, "late", "s1", NULL, years, (const char *[]){"40", "45", "50"}, 3);
  run(f, "late", "s2", NULL, years, (const char *[]){"40", "50", "61"}, 3);
  /* a measure: a target without a period; kind and program */
  put(f, "partner", "p1", "name", "Library", NULL);
  put(f, "program", "tut", "title", "Tutoring", "partner", "p1", NULL);
  put(f, "measure", "served", "title", "Students tutored", "program", "tut", "kind", "how-much",
      "target", "100", NULL);
  put(f, "value", "m1", "measure", "served", "period", "2024-Q1", "actual", "50", NULL);
  put(f, "value", "m2", "measure", "served", "period", "2024-Q2", "actual", "70", NULL);
  put(f, "value", "m3", "measure", "served", "site", "s1", "period", "2024-Q1", "actual", "70",
      NULL);
  put(f, "value", "m4", "measure", "served", "site", "s1", "period", "2024-Q2", "actual", "50",
      NULL);
  /* several records for one period merge field by field, the latest written
   * winning; an actual for a period not begun is left out, its forecast kept */
  put(f, "indicator", "dup", "title", "Merged", NULL);
  put(f, "value", "d1", "indicator", "dup", "period", "2020", "actual", "40", "target", "41",
      NULL);
  put(f, "value", "d2", "indicator", "dup", "period", "2020", "actual", "42", NULL);
  put(f, "value", "d0", "indicator", "dup", "period", "2021", "forecast", "44", NULL);
  put(f, "value", "d3", "indicator", "dup", "period", "2021", "actual", "45", NULL);
  put(f, "value", "d4", "indicator", "dup", "period", "2099", "actual", "99", "forecast", "80",
      NULL);

  cairn_report_measures_t *m = measures(f, 0, &d);
  const cairn_report_measure_t *o = owner(m, "att");
  check(series(o, "s1", NULL), 2, NAN, CAIRN_TREND_ON_TRACK);
  check(series(o, "s2", NULL), -2, NAN, CAIRN_TREND_WRONG_WAY);
  check(series(o, "s3", NULL), 0, NAN, CAIRN_TREND_TOO_SLOW);
  assert_true(isnan(series(o, "s1", NULL)->expected));

  o = owner(m, "late");
  const cairn_report_measure_series_t *s = series(o, "s1", NULL);
  check(s, 5, NAN, CAIRN_TREND_TOO_SLOW);
  assert_near(s->expected, 60); /* the line holds at the target after its period */
  check(series(o, "s2", NULL), 10.5, 0, CAIRN_TREND_ON_TRACK);

  o = owner(m, "served");
  assert_string_equal(o->type, "measure");
  assert_string_equal(o->context, "Tutoring");
  assert_string_equal(o->kind, "how-much");
  assert_true(isnan(o->baseline));
  assert_null(o->target_period);
  check(series(o, NULL, NULL), 20, NAN, CAIRN_TREND_ON_TRACK);
  check(series(o, "s1", NULL), -20, NAN, CAIRN_TREND_WRONG_WAY);
  assert_int_equal(series(o, NULL, NULL)->per_months, 3);
  assert_int_equal(m->nmeasures, 1);

  o = owner(m, "dup");
  s = series(o, NULL, NULL);
  assert_int_equal(s->npoints, 3);
  assert_int_equal(s->nactuals, 2);
  assert_near(s->points[0].actual, 42);
  assert_near(s->points[0].target, 41);
  assert_string_equal(s->points[0].rec->id, "d2");
  assert_near(s->points[1].actual, 45);
  assert_near(s->points[1].forecast, 44);
  assert_string_equal(s->points[1].rec->id, "d3");
  assert_string_equal(s->points[2].period, "2099");
  assert_true(isnan(s->points[2].actual));
  assert_near(s->points[2].forecast, 80);
  assert_string_equal(s->latest->period, "2021");
  check(s, 3, NAN, CAIRN_TREND_ON_TRACK);
  cairn_report_measures_free(m);
  cairn_report_data_free(d);
}

/* ---- as of a past time ---- */

static void sleep_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static void test_as_of(void **state) {
  fx_t *f = *state;
  cairn_report_data_t *d;
  put(f, "indicator", "read", "title", "Reading", "direction", "up", "target", "60",
      "target_period", "2024", NULL);
  put(f, "value", "a", "indicator", "read", "period", "2020", "actual", "40", NULL);
  put(f, "value", "b", "indicator", "read", "period", "2021", "actual", "45", NULL);
  put(f, "goal", "trust", "title", "Trust", NULL);
  put(f, "rating", "r1", "goal", "trust", "period", "2021", "score", "3", NULL);
  sleep_ms(5);
  uint64_t then = cairn_now_ms();
  sleep_ms(5);
  put(f, "value", "c", "indicator", "read", "period", "2022", "actual", "30", NULL);
  put(f, "value", "b", "actual", "47", NULL);
  put(f, "indicator", "read", "target", "50", NULL);
  put(f, "rating", "r2", "goal", "trust", "period", "2022", "score", "2", NULL);

  cairn_report_measures_t *m = measures(f, then, &d);
  const cairn_report_measure_t *o = owner(m, "read");
  const cairn_report_measure_series_t *s = series(o, NULL, NULL);
  assert_near(o->target, 60);
  assert_int_equal(s->npoints, 2);
  assert_near(s->latest->actual, 45);
  check(s, 5, 5, CAIRN_TREND_ON_TRACK);
  cairn_report_measures_free(m);
  cairn_report_goals_t *g;
  CAIRN_PASS(cairn_report_goals(d, &g));
  assert_int_equal(g->goals[0].npartners, 1);
  assert_int_equal(g->goals[0].partners[0].n, 1);
  cairn_report_goals_free(g);
  cairn_report_data_free(d);

  m = measures(f, 0, &d);
  o = owner(m, "read");
  s = series(o, NULL, NULL);
  assert_near(o->target, 50);
  assert_int_equal(s->npoints, 3);
  assert_near(s->points[1].actual, 47);
  check(s, -5, 10, CAIRN_TREND_WRONG_WAY);
  cairn_report_measures_free(m);
  CAIRN_PASS(cairn_report_goals(d, &g));
  assert_int_equal(g->goals[0].partners[0].n, 2);
  cairn_report_goals_free(g);
  cairn_report_data_free(d);
}

/* ---- goals ---- */

static void test_goals(void **state) {
  fx_t *f = *state;
  cairn_report_data_t *d;
  cairn_report_goals_t *m;
  put(f, "partner", "p1", "name", "Library", NULL);
  put(f, "partner", "p2", "name", "Clinic", NULL);
  put(f, "partner", "p3", "name", "Museum", NULL);
  put(f, "goal", "trust", "title", "Trust", "scale_min", "1", "scale_max", "5", NULL);
  put(f, "goal", "voice", "title", "Shared voice", NULL);
  put(f, "rating", "t1", "goal", "trust", "partner", "p1", "period", "2026-Q1", "score", "3",
      NULL);
  put(f, "rating", "t2", "goal", "trust", "partner", "p1", "period", "2026-Q2", "score", "4.5",
      NULL);
  put(f, "rating", "t3", "goal", "trust", "partner", "p2", "period", "2026-Q2", "score", "2",
      NULL);
  put(f, "rating", "t4", "goal", "trust", "partner", "p3", "period", "2025", "score", "4", NULL);
  put(f, "rating", "t5", "goal", "trust", "partner", "p3", "period", "2026-Q1", "score", "3",
      NULL);
  put(f, "rating", "t6", "goal", "trust", "partner", "p3", "period", "2026-Q1", "score", "2",
      NULL); /* the same period again: the later write counts */
  put(f, "rating", "t7", "goal", "trust", "partner", "p1", "period", "2099-Q1", "score", "1",
      NULL); /* not begun */
  put(f, "rating", "t8", "goal", "trust", "period", "2026-Q1", "score", "3", NULL);
  put(f, "rating", "t9", "goal", "trust", "period", "2026-Q2", "score", "3", NULL);

  CAIRN_PASS(cairn_report_data_open(f->s, 0, &d));
  CAIRN_PASS(cairn_report_goals(d, &m));
  assert_int_equal(m->n, 2);
  assert_string_equal(m->goals[0].title, "Shared voice");
  assert_int_equal(m->goals[0].npartners, 0);
  assert_true(isnan(m->goals[0].scale_min));
  const cairn_report_goal_t *g = &m->goals[1];
  assert_string_equal(g->title, "Trust");
  assert_near(g->scale_min, 1);
  assert_near(g->scale_max, 5);
  assert_int_equal(g->npartners, 4);
  /* the whole partnership first, then by name: Clinic, Library, Museum */
  const cairn_report_rated_t *p = &g->partners[0];
  assert_null(p->partner);
  assert_string_equal(p->partner_name, "Whole partnership");
  assert_near(p->change, 0);
  assert_int_equal(p->direction, 0);
  p = &g->partners[1];
  assert_string_equal(p->partner, "p2");
  assert_int_equal(p->n, 1);
  assert_null(p->previous);
  assert_true(isnan(p->change));
  assert_int_equal(p->direction, 0);
  assert_near(p->latest->score, 2);
  p = &g->partners[2];
  assert_string_equal(p->partner_name, "Library");
  assert_int_equal(p->n, 2);
  assert_string_equal(p->latest->period, "2026-Q2");
  assert_string_equal(p->previous->period, "2026-Q1");
  assert_near(p->change, 1.5);
  assert_int_equal(p->direction, 1);
  p = &g->partners[3];
  assert_int_equal(p->n, 2);
  assert_string_equal(p->latest->rec->id, "t6");
  assert_near(p->change, -2);
  assert_int_equal(p->direction, -1);
  assert_int_equal(m->up, 1);
  assert_int_equal(m->down, 1);
  assert_int_equal(m->same, 1);
  cairn_report_goals_free(m);
  cairn_report_data_free(d);
}

/* ---- the documents ---- */

static const cairn_report_section_t *section(const cairn_report_doc_t *doc, const char *id) {
  for (size_t i = 0; i < doc->nsections; i++)
    if (strcmp(doc->sections[i]->id, id) == 0)
      return doc->sections[i];
  fail_msg("no section %s", id);
  return NULL;
}

static const cairn_report_table_t *table(const cairn_report_section_t *s, const char *id) {
  for (size_t i = 0; i < s->ntables; i++)
    if (strcmp(s->tables[i]->id, id) == 0)
      return s->tables[i];
  fail_msg("no table %s in %s", id, s->id);
  return NULL;
}

static json_t *as_json(const cairn_report_doc_t *doc) {
  char *buf = NULL;
  size_t len = 0;
  json_error_t jerr;
  FILE *mem = open_memstream(&buf, &len);
  assert_non_null(mem);
  CAIRN_PASS(cairn_report_render(doc, CAIRN_REPORT_JSON, mem));
  assert_int_equal(fclose(mem), 0);
  json_t *j = json_loads(buf, 0, &jerr);
  if (j == NULL)
    fail_msg("not JSON: %s", jerr.text);
  free(buf);
  return j;
}

/* The rows of table t of section sec in a document's JSON. */
static json_t *rows_of(json_t *j, size_t sec, size_t t) {
  json_t *tables = json_object_get(json_array_get(json_object_get(j, "sections"), sec), "tables");
  json_t *rows = json_object_get(json_array_get(tables, t), "rows");
  assert_true(json_is_array(rows));
  return rows;
}

static void test_measures_doc(void **state) {
  fx_t *f = *state;
  cairn_report_doc_t *doc;
  cairn_error_t err = {0, ""};
  static const char *const late[] = {"2021", "2022"};
  sites(f);
  put(f, "indicator", "read", "title", "Reading", "unit", "percent", "direction", "up",
      "baseline", "40", "baseline_period", "2020", "target", "60", "target_period", "2024", NULL);
  run(f, "read", "s1", NULL, years, (const char *[]){"40", "46", "50"}, 3);
  run(f, "read", "s2", NULL, late, (const char *[]){"40", "38"}, 2);
  put(f, "value", "fc", "indicator", "read", "site", "s2", "period", "2023", "forecast", "42",
      NULL);
  actual(f, "read", "s3", NULL, "2019", "35");
  put(f, "indicator", "empty", "title", "No values", NULL);
  CAIRN_PASS(cairn_report_build(f->s, "measures", NULL, &doc, &err));
  assert_string_equal(doc->name, "measures");

  const cairn_report_section_t *sec = section(doc, "measures");
  assert_int_equal(sec->nfacts, 5);
  assert_string_equal(sec->facts[0].id, "series");
  assert_near(sec->facts[0].num, 3);
  const cairn_report_table_t *t = table(sec, "indicators");
  assert_int_equal(t->ncols, 9);
  assert_int_equal(t->nrows, 3);
  assert_string_equal(t->rows[0].type, "indicator");
  assert_string_equal(t->rows[0].id, "read");
  assert_string_equal(t->rows[0].cells[1].text, "Adams");
  assert_string_equal(t->rows[0].cells[8].text, "on-track");
  assert_int_equal(t->rows[0].cells[8].tone, CAIRN_TONE_GOOD);
  assert_string_equal(t->rows[0].cells[6].text, "5 per year");
  assert_string_equal(t->rows[1].cells[8].text, "wrong-way");
  assert_int_equal(t->rows[1].cells[8].tone, CAIRN_TONE_BAD);
  assert_string_equal(t->rows[2].cells[8].text, "no-data");
  assert_int_equal(t->rows[2].cells[8].tone, CAIRN_TONE_MUTED);
  assert_int_equal(table(sec, "measures")->nrows, 0);

  sec = section(doc, "indicator-read");
  assert_int_equal(sec->ncharts, 1);
  const cairn_report_chart_t *c = sec->charts[0];
  assert_int_equal(c->nx, 5); /* 2019 .. 2023 */
  const char *x[] = {"2019", "2020", "2021", "2022", "2023"};
  for (size_t i = 0; i < 5; i++)
    assert_string_equal(c->x[i], x[i]);
  assert_int_equal(c->nseries, 3);
  assert_string_equal(c->series[1].name, "Bell");
  assert_true(isnan(c->series[1].y[0]) && isnan(c->series[1].y[1]) && isnan(c->series[1].y[4]));
  assert_near(c->series[1].y[3], 38);
  assert_true(c->has_target && c->has_baseline);
  assert_near(c->target, 60);
  assert_near(c->baseline, 40);
  assert_string_equal(c->target_label, "target 60 by 2024");
  assert_string_equal(c->caption, "Trend: Adams on-track; Bell wrong-way; Cole no-data");
  t = table(sec, "values");
  assert_string_equal(t->title, "Reading: values");
  assert_int_equal(t->nrows, 7);
  assert_string_equal(t->rows[5].type, "value");
  assert_string_equal(t->rows[5].id, "fc");
  assert_string_equal(sec->intro, "Better is up. Baseline 40 (2020). Target 60 by 2024. "
                                  "Unit: percent.");
  sec = section(doc, "indicator-empty");
  assert_int_equal(sec->ncharts, 0);
  assert_int_equal(table(sec, "values")->nrows, 0);

  /* JSON: rows with _type and _id, numbers as numbers, null for none */
  json_t *j = as_json(doc);
  json_t *rows = rows_of(j, 0, 0);
  assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "_type")),
                      "indicator");
  assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 0), "_id")), "read");
  assert_true(json_is_number(json_object_get(json_array_get(rows, 0), "slope")));
  assert_near(json_number_value(json_object_get(json_array_get(rows, 0), "slope")), 5);
  assert_near(json_number_value(json_object_get(json_array_get(rows, 1), "latest")), 38);
  assert_true(json_is_null(json_object_get(json_array_get(rows, 2), "slope")));
  assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 2), "trend")),
                      "no-data");
  json_decref(j);
  cairn_report_doc_free(doc);
}

static void test_goals_doc(void **state) {
  fx_t *f = *state;
  cairn_report_doc_t *doc;
  cairn_error_t err = {0, ""};
  put(f, "partner", "p1", "name", "Library", NULL);
  put(f, "partner", "p2", "name", "Clinic", NULL);
  put(f, "goal", "trust", "title", "Trust", "scale_min", "1", "scale_max", "5", NULL);
  put(f, "rating", "t1", "goal", "trust", "partner", "p1", "period", "2026-Q1", "score", "3",
      NULL);
  put(f, "rating", "t2", "goal", "trust", "partner", "p1", "period", "2026-Q2", "score", "2",
      NULL);
  put(f, "rating", "t3", "goal", "trust", "partner", "p2", "period", "2025", "score", "4", NULL);
  CAIRN_PASS(cairn_report_build(f->s, "goals", NULL, &doc, &err));
  const cairn_report_section_t *sec = section(doc, "goals");
  assert_near(sec->facts[0].num, 1);
  assert_near(sec->facts[2].num, 1); /* fell */
  sec = section(doc, "goal-trust");
  assert_string_equal(sec->intro, "Scored from 1 to 5.");
  const cairn_report_table_t *t = table(sec, "ratings");
  assert_string_equal(t->title, "Trust: latest ratings");
  assert_int_equal(t->nrows, 2);
  assert_string_equal(t->rows[0].cells[0].text, "Clinic");
  assert_string_equal(t->rows[0].cells[5].text, "");
  assert_string_equal(t->rows[1].type, "rating");
  assert_string_equal(t->rows[1].id, "t2");
  assert_string_equal(t->rows[1].cells[1].text, "2026-Q2");
  assert_string_equal(t->rows[1].cells[3].text, "2026-Q1");
  assert_string_equal(t->rows[1].cells[5].text, "-1");
  assert_int_equal(t->rows[1].cells[5].tone, CAIRN_TONE_BAD);
  assert_string_equal(t->rows[1].cells[6].text, "down");
  const cairn_report_chart_t *c = sec->charts[0];
  assert_int_equal(c->nx, 3);
  assert_string_equal(c->x[0], "2025");
  assert_string_equal(c->x[2], "2026-Q2");
  assert_int_equal(c->nseries, 2);
  assert_string_equal(c->series[0].name, "Clinic");
  assert_near(c->series[0].y[0], 4);
  assert_true(isnan(c->series[0].y[1]));
  assert_near(c->series[1].y[2], 2);

  json_t *j = as_json(doc);
  json_t *rows = rows_of(j, 1, 0);
  json_t *r = json_array_get(rows, 1);
  assert_string_equal(json_string_value(json_object_get(r, "_type")), "rating");
  assert_string_equal(json_string_value(json_object_get(r, "_id")), "t2");
  assert_true(json_is_integer(json_object_get(r, "change")));
  assert_int_equal(json_integer_value(json_object_get(r, "change")), -1);
  assert_true(json_is_null(json_object_get(json_array_get(rows, 0), "change")));
  json_decref(j);
  cairn_report_doc_free(doc);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_periods),
      cmocka_unit_test_setup_teardown(test_up, fx_setup, fx_teardown),
      cmocka_unit_test_setup_teardown(test_down_quarters_months, fx_setup, fx_teardown),
      cmocka_unit_test_setup_teardown(test_edges, fx_setup, fx_teardown),
      cmocka_unit_test_setup_teardown(test_as_of, fx_setup, fx_teardown),
      cmocka_unit_test_setup_teardown(test_goals, fx_setup, fx_teardown),
      cmocka_unit_test_setup_teardown(test_measures_doc, fx_setup, fx_teardown),
      cmocka_unit_test_setup_teardown(test_goals_doc, fx_setup, fx_teardown),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
