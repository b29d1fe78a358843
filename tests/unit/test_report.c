/*
 * test_report.c — the reports' common layers and the commitments report
 * (client/report/): records as of a past time (core/asof.c through the data
 * layer), each commitment's state on known data (the boundary day included),
 * the tallies, and the document rendered as JSON and CSV.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include <cmocka.h>

#include "cairn_test.h"
#include "report.h"

typedef struct fx {
  cairn_store_t *s;
  char *dir;
} fx_t;

static void fx_open(fx_t *f) {
  cairn_error_t err = {0, ""};
  uint8_t net[CAIRN_KEY_BYTES];
  CAIRN_PASS(cairn_test_store("ana", &f->s, &f->dir));
  CAIRN_PASS(cairn_store_network_create(f->s, "Report test", net, &err));
  if (cairn_schema_apply(f->s, cairn_schema_default(), NULL, &err) != 0)
    fail_msg("schema: %s", err.msg);
}

static void fx_close(fx_t *f) {
  cairn_close(f->s);
  cairn_test_rmrf(f->dir);
  free(f->dir);
}

/* Put text fields (name, text, ..., NULL) on (type, id) as one change. */
static void put(fx_t *f, const char *type, const char *id, ...) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  const char *name;
  va_list ap;
  CAIRN_PASS(cairn_change_begin(f->s, &c));
  va_start(ap, id);
  while ((name = va_arg(ap, const char *)) != NULL)
    if (cairn_change_put_text(c, type, id, name, va_arg(ap, const char *), 0, &err) != 0)
      fail_msg("%s %s %s: %s", type, id, name, err.msg);
  va_end(ap);
  if (cairn_change_commit(c, NULL, &err) != 0)
    fail_msg("%s %s: %s", type, id, err.msg);
}

/* Today plus days, as YYYY-MM-DD (UTC). */
static const char *day(int days, char out[11]) {
  time_t t = (time_t)(cairn_now_ms() / 1000) + (time_t)days * 86400;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
  return out;
}

static void sleep_ms(long ms) {
  struct timespec ts = {0, ms * 1000000L};
  nanosleep(&ts, NULL);
}

static const cairn_report_commitment_t *row_of(const cairn_report_commitments_t *m,
                                               const char *id) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->rows[i].rec->id, id) == 0)
      return &m->rows[i];
  return NULL;
}

static void test_commitment_states(void **state) {
  char d1[11], d2[11], d3[11], d4[11];
  cairn_report_data_t *d;
  cairn_report_commitments_t *m;
  fx_t f;
  (void)state;
  fx_open(&f);
  put(&f, "partner", "lib", "name", "Lincoln Library", NULL);
  put(&f, "partner", "sch", "name", "Lincoln Elementary", NULL);
  put(&f, "plan", "read", "title", "Third-grade reading", NULL);
  put(&f, "commitment", "late", "partner", "lib", "plan", "read", "due", day(-1, d1), "status",
      "in-progress", NULL);
  put(&f, "commitment", "today", "partner", "lib", "due", day(0, d2), "status", "planned", NULL);
  put(&f, "commitment", "risky", "partner", "sch", "plan", "read", "due", day(3, d3), "status",
      "at-risk", NULL);
  put(&f, "commitment", "risklate", "partner", "sch", "due", day(-10, d4), "status", "at-risk",
      NULL);
  put(&f, "commitment", "nodue", "partner", "sch", "status", "planned", NULL);
  put(&f, "commitment", "donelate", "partner", "sch", "due", day(-10, d4), "status", "done",
      NULL);
  put(&f, "commitment", "gone", "partner", "lib", "due", day(-10, d4), "status", "dropped",
      NULL);
  CAIRN_PASS(cairn_report_data_open(f.s, 0, &d));
  CAIRN_PASS(cairn_report_commitments(d, &m));
  assert_int_equal(m->n, 7);
  static const struct {
    const char *id;
    cairn_commitment_state_t st;
    long late;
  } want[] = {
      {"late", CAIRN_COMMIT_OVERDUE, 1},      {"today", CAIRN_COMMIT_ON_TIME, 0},
      {"risky", CAIRN_COMMIT_AT_RISK, 0},     {"risklate", CAIRN_COMMIT_OVERDUE, 10},
      {"nodue", CAIRN_COMMIT_ON_TIME, 0},     {"donelate", CAIRN_COMMIT_DONE, 0},
      {"gone", CAIRN_COMMIT_DROPPED, 0},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    const cairn_report_commitment_t *c = row_of(m, want[i].id);
    assert_non_null(c);
    if (c->state != want[i].st || c->days_late != want[i].late)
      fail_msg("%s: %s, %ld days late", want[i].id, cairn_commitment_state_name(c->state),
               c->days_late);
  }
  /* names, plans, order: by partner name, then due date, no due date last */
  assert_string_equal(m->rows[0].partner_name, "Lincoln Elementary");
  assert_string_equal(m->rows[0].rec->id, "donelate"); /* same due: by id */
  assert_string_equal(m->rows[1].rec->id, "risklate");
  assert_string_equal(m->rows[3].rec->id, "nodue");
  assert_string_equal(row_of(m, "late")->plan_title, "Third-grade reading");
  /* tallies: Lincoln Library has late, today, gone: 1 of 2 live kept */
  assert_int_equal(m->npartners, 2);
  const cairn_report_tally_t *lib = &m->by_partner[1];
  assert_string_equal(lib->label, "Lincoln Library");
  assert_int_equal(lib->total, 3);
  assert_int_equal(lib->count[CAIRN_COMMIT_OVERDUE], 1);
  assert_int_equal(lib->count[CAIRN_COMMIT_DROPPED], 1);
  assert_true(lib->on_time_share > 0.49 && lib->on_time_share < 0.51);
  assert_int_equal(m->all.total, 7);
  assert_true(m->all.on_time_share > 4.0 / 6 - 0.001 && m->all.on_time_share < 4.0 / 6 + 0.001);
  assert_int_equal(m->nplans, 2); /* read, and none */
  cairn_report_commitments_free(m);
  cairn_report_data_free(d);
  fx_close(&f);
}

/* Only dropped: no share. No commitments at all: an empty model. */
static void test_commitments_edges(void **state) {
  cairn_report_data_t *d;
  cairn_report_commitments_t *m;
  fx_t f;
  (void)state;
  fx_open(&f);
  CAIRN_PASS(cairn_report_data_open(f.s, 0, &d));
  CAIRN_PASS(cairn_report_commitments(d, &m));
  assert_int_equal(m->n, 0);
  assert_true(m->all.on_time_share < 0);
  cairn_report_commitments_free(m);
  cairn_report_data_free(d);
  put(&f, "partner", "p", "name", "P", NULL);
  put(&f, "commitment", "x", "partner", "p", "status", "dropped", NULL);
  CAIRN_PASS(cairn_report_data_open(f.s, 0, &d));
  CAIRN_PASS(cairn_report_commitments(d, &m));
  assert_true(m->by_partner[0].on_time_share < 0);
  cairn_report_commitments_free(m);
  cairn_report_data_free(d);
  fx_close(&f);
}

/* A report as of a past time reads the records as they stood then. */
static void test_as_of(void **state) {
  cairn_report_data_t *d;
  cairn_report_commitments_t *m;
  const cairn_report_set_t *set;
  char due[11];
  fx_t f;
  (void)state;
  fx_open(&f);
  put(&f, "partner", "p", "name", "Old name", NULL);
  put(&f, "commitment", "c1", "partner", "p", "status", "planned", "due", day(-2, due), NULL);
  put(&f, "commitment", "c2", "partner", "p", "status", "planned", NULL);
  sleep_ms(5);
  uint64_t then = cairn_now_ms();
  sleep_ms(5);
  put(&f, "commitment", "c1", "status", "done", NULL);
  put(&f, "commitment", "c3", "partner", "p", "status", "planned", NULL);
  put(&f, "partner", "p", "name", "New name", NULL);
  cairn_change_t *c;
  CAIRN_PASS(cairn_change_begin(f.s, &c));
  CAIRN_PASS(cairn_change_del(c, "commitment", "c2"));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  /* now */
  CAIRN_PASS(cairn_report_data_open(f.s, 0, &d));
  CAIRN_PASS(cairn_report_commitments(d, &m));
  assert_int_equal(m->n, 2);
  assert_int_equal(row_of(m, "c1")->state, CAIRN_COMMIT_DONE);
  assert_null(row_of(m, "c2"));
  assert_string_equal(m->rows[0].partner_name, "New name");
  cairn_report_commitments_free(m);
  cairn_report_data_free(d);
  /* then: c1 overdue, c2 there, c3 not yet, the old name */
  CAIRN_PASS(cairn_report_data_open(f.s, then, &d));
  CAIRN_PASS(cairn_report_commitments(d, &m));
  assert_int_equal(m->n, 2);
  assert_int_equal(row_of(m, "c1")->state, CAIRN_COMMIT_OVERDUE);
  assert_non_null(row_of(m, "c2"));
  assert_null(row_of(m, "c3"));
  assert_string_equal(m->rows[0].partner_name, "Old name");
  cairn_report_commitments_free(m);
  CAIRN_PASS(cairn_report_set(d, "partner", &set));
  assert_int_equal(set->n, 1);
  cairn_report_data_free(d);
  /* before anything: nothing */
  CAIRN_PASS(cairn_report_data_open(f.s, 1000, &d));
  CAIRN_PASS(cairn_report_set(d, "commitment", &set));
  assert_int_equal(set->n, 0);
  cairn_report_data_free(d);
  fx_close(&f);
}

/* The document in JSON and CSV: rows name their records; numbers are numbers. */
static void test_render(void **state) {
  cairn_report_opts_t opts = {0, 0, 0};
  cairn_report_doc_t *doc;
  cairn_error_t err = {0, ""};
  char *buf = NULL;
  size_t len = 0;
  char due[11];
  fx_t f;
  (void)state;
  fx_open(&f);
  put(&f, "partner", "p", "name", "Eastside \"Clinic\", Inc.", NULL);
  put(&f, "commitment", "c1", "partner", "p", "title", "Flu shots", "due", day(-3, due),
      "status", "planned", NULL);
  CAIRN_PASS(cairn_report_build(f.s, "commitments", &opts, &doc, &err));
  FILE *m = open_memstream(&buf, &len);
  CAIRN_PASS(cairn_report_render(doc, CAIRN_REPORT_JSON, m));
  fclose(m);
  json_error_t je;
  json_t *j = json_loads(buf, 0, &je);
  assert_non_null(j);
  assert_string_equal(json_string_value(json_object_get(j, "report")), "commitments");
  json_t *sec = json_array_get(json_object_get(j, "sections"), 0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(sec, "facts"), "overdue")),
                   1);
  json_t *tables = json_object_get(sec, "tables");
  json_t *row = json_array_get(json_object_get(json_array_get(tables, 2), "rows"), 0);
  assert_string_equal(json_string_value(json_object_get(row, "_type")), "commitment");
  assert_string_equal(json_string_value(json_object_get(row, "_id")), "c1");
  assert_string_equal(json_string_value(json_object_get(row, "state")), "overdue");
  assert_int_equal(json_integer_value(json_object_get(row, "days_late")), 3);
  json_decref(j);
  free(buf);
  buf = NULL;
  m = open_memstream(&buf, &len);
  CAIRN_PASS(cairn_report_render(doc, CAIRN_REPORT_CSV, m));
  fclose(m);
  assert_contains(buf, "_type,_id,name,done,on_time,overdue,at_risk,dropped,total,"
                       "on_time_share\r\npartner,p,\"Eastside \"\"Clinic\"\", Inc.\",0,0,1,0,0,1,0\r\n");
  free(buf);
  buf = NULL;
  m = open_memstream(&buf, &len);
  CAIRN_PASS(cairn_report_render(doc, CAIRN_REPORT_TEXT, m));
  fclose(m);
  assert_contains(buf, "Commitments\nReport test — as of ");
  assert_contains(buf, "  Overdue: 1\n");
  free(buf);
  cairn_report_doc_free(doc);
  /* an unknown report, with a suggestion */
  CAIRN_FAIL(cairn_report_build(f.s, "comitments", &opts, &doc, &err), CAIRN_EINVAL);
  assert_string_equal(err.msg, "no report \"comitments\"; did you mean commitments?");
  fx_close(&f);
}

/* The accountability score on known data, now and 40 days on. */
static void test_score(void **state) {
  static const char *const north[] = {"40", "42", "44", "46"}, *const south[] = {"50", "49",
                                                                                  "47", "46"};
  static const char *const periods[] = {"2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"};
  cairn_report_accountability_t sc;
  cairn_report_data_t *d;
  cairn_report_measures_t *mm;
  cairn_report_commitments_t *cm;
  char id[16];
  fx_t f;
  (void)state;
  fx_open(&f);
  put(&f, "site", "n", "name", "North", NULL);
  put(&f, "site", "s", "name", "South", NULL);
  put(&f, "indicator", "a", "title", "Reading", "direction", "up", NULL);
  put(&f, "indicator", "b", "title", "Attendance", NULL);
  for (int i = 0; i < 4; i++) {
    snprintf(id, sizeof id, "n%d", i);
    put(&f, "value", id, "indicator", "a", "site", "n", "period", periods[i], "actual", north[i],
        NULL);
    snprintf(id, sizeof id, "s%d", i);
    put(&f, "value", id, "indicator", "a", "site", "s", "period", periods[i], "actual", south[i],
        NULL);
  }
  put(&f, "story", "st", "indicator", "a", "story", "Tutors began in spring", NULL);
  put(&f, "partner", "p", "name", "P", NULL);
  put(&f, "commitment", "c1", "partner", "p", "status", "planned", NULL);
  put(&f, "commitment", "c2", "partner", "p", "status", "at-risk", NULL);
  put(&f, "commitment", "c3", "partner", "p", "status", "done", NULL);
  for (int later = 0; later < 2; later++) {
    uint64_t at = later ? cairn_now_ms() + 40ull * 86400000 : 0;
    CAIRN_PASS(cairn_report_data_open(f.s, at, &d));
    CAIRN_PASS(cairn_report_measures(d, &mm));
    CAIRN_PASS(cairn_report_commitments(d, &cm));
    CAIRN_PASS(cairn_report_accountability(d, mm, cm, &sc));
    assert_string_equal(sc.latest_period, "2026-Q3");
    assert_int_equal(sc.measures_with_data, 1);
    assert_int_equal(sc.measures_current, 1);
    assert_int_equal(sc.indicators, 2);
    assert_int_equal(sc.indicators_with_story, 1);
    assert_int_equal(sc.open_commitments, 2);
    assert_int_equal(sc.commitments_recent, later ? 0 : 2);
    assert_int_equal(sc.series_with_data, 2);
    assert_int_equal(sc.series_on_track, 1); /* north rises, south falls */
    double engagement = later ? (100 + 50 + 0) / 3.0 : (100 + 50 + 100) / 3.0;
    assert_true(fabs(sc.engagement - engagement) < 1e-9);
    assert_true(fabs(sc.performance - 50) < 1e-9);
    assert_true(fabs(sc.score - (engagement + 50) / 2) < 1e-9);
    cairn_report_commitments_free(cm);
    cairn_report_measures_free(mm);
    cairn_report_data_free(d);
  }
  fx_close(&f);
}

/* A window of more changes than the model keeps rows for: every one counted,
 * the latest kept. */
static void test_changes_kept(void **state) {
  cairn_report_data_t *d;
  cairn_report_changes_t *m;
  char id[16];
  fx_t f;
  (void)state;
  fx_open(&f);
  for (int i = 0; i < 250; i++) {
    snprintf(id, sizeof id, "s%03d", i);
    put(&f, "site", id, "name", id, NULL);
  }
  put(&f, "site", "s000", "name", "First again", NULL);
  CAIRN_PASS(cairn_report_data_open(f.s, 0, &d));
  CAIRN_PASS(cairn_report_changes(d, 0, &m));
  assert_int_equal(m->total, 251);
  assert_int_equal(m->n, CAIRN_REPORT_CHANGES_KEPT);
  assert_int_equal(m->records, 250);
  assert_int_equal(m->npeople, 1);
  assert_int_equal(m->people[0].changes, 251);
  assert_int_equal(m->people[0].records, 250);
  assert_string_equal(m->rows[m->n - 1].id, "s000");
  assert_string_equal(m->rows[m->n - 1].label, "First again");
  assert_string_equal(m->rows[0].id, "s051");
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  fx_close(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_commitment_states),
      cmocka_unit_test(test_commitments_edges),
      cmocka_unit_test(test_as_of),
      cmocka_unit_test(test_render),
      cmocka_unit_test(test_score),
      cmocka_unit_test(test_changes_kept),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
