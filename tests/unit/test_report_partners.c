/*
 * test_report_partners.c — the partners report (client/report/partners.c) on
 * hand-made records of the default schema, with known answers.
 *
 * The clock is put at noon on 2026-03-10 (test builds shift it with
 * CAIRN_TEST_CLOCK_OFFSET_MS), so the as-of date A is 2026-03-10 and N is 30:
 *
 *   never    lead        no contact at all; a meeting and an interaction dated
 *                        after A (not held yet) do not count
 *   edge     contacted   an interaction exactly 30 days before A: still contacted
 *   past     engaged     an interaction 31 days before A: not contacted
 *   meet     committed   no interaction, a meeting it attended 9 days before A
 *   follow   engaged     f1 (follow up by 02-25) answered by the later f2; f2's
 *                        follow-up (03-05) overdue by 5 days; contact Uma
 *   week     (no stage)  w1's follow-up due in 4 days; w2's in 10 (not listed)
 *
 * Then the clock moves to 2026-03-25 and more is written, among it an
 * interaction backdated to 03-05: as of 2026-03-10 the report reads as it did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn_report_test.h"

#define DAY_MS 86400000ull
#define MAR10_NOON 1773144000000ull /* 2026-03-10T12:00:00Z */
#define MAR10_END (MAR10_NOON + DAY_MS / 2 - 1)

typedef struct world {
  cairn_store_t *s;
  char *dir;
} world_t;

/* One record written as `cairn put TYPE ID field=text...` would (NULL-ended). */
#define put(s, type, id, ...)                                                         \
  do {                                                                                \
    cairn_error_t put_err_ = {0, ""};                                                 \
    if (cairn_test_put_texts((s), (type), (id), &put_err_, __VA_ARGS__) != 0)         \
      fail_msg("%s %s: %s", (type), (id), put_err_.msg);                              \
  } while (0)

static void world_make(world_t *w) {
  cairn_error_t err = {0, ""};
  memset(w, 0, sizeof *w);
  if (cairn_test_clock_at(MAR10_NOON) != 0)
    skip(); /* not a test build (-DCAIRN_TEST_HOOKS=ON): the clock stays */
  if (cairn_test_schema_store("ana", "Northside", &w->s, &w->dir, &err) != 0)
    fail_msg("a store with the default schema: %s", err.msg);
  put(w->s, "partner", "never", "name=Never Co", "stage=lead", NULL);
  put(w->s, "partner", "edge", "name=Edge Org", "stage=contacted", NULL);
  put(w->s, "partner", "past", "name=Past Org", "stage=engaged", "kind=school", NULL);
  put(w->s, "partner", "meet", "name=Meet Org", "stage=committed", NULL);
  put(w->s, "partner", "follow", "name=Follow Org", "stage=engaged", NULL);
  put(w->s, "person", "uma", "name=Uma", "partner=follow", NULL);
  put(w->s, "partner", "follow", "contact=uma", NULL);
  put(w->s, "partner", "week", "name=Week Org", NULL);
  put(w->s, "interaction", "e1", "partner=edge", "date=2026-02-08", "kind=call", NULL);
  put(w->s, "interaction", "p1", "partner=past", "date=2026-02-07", NULL);
  put(w->s, "meeting", "m1", "date=2026-03-01", "title=March table", "attendees=meet", NULL);
  put(w->s, "meeting", "m2", "date=2026-03-15", "attendees=meet, never", NULL);
  put(w->s, "interaction", "n1", "partner=never", "date=2026-03-12", NULL);
  put(w->s, "interaction", "f1", "partner=follow", "date=2026-02-20",
      "follow_up=2026-02-25", NULL);
  put(w->s, "interaction", "f2", "partner=follow", "person=uma", "date=2026-02-27",
      "kind=visit", "follow_up=2026-03-05", NULL);
  put(w->s, "interaction", "w1", "partner=week", "date=2026-03-09", "follow_up=2026-03-14",
      NULL);
  put(w->s, "interaction", "w2", "partner=week", "date=2026-03-09", "follow_up=2026-03-20",
      NULL);
}

/* put type id {field: text} as an entry of another member, received: not
 * checked against the schema, as a device behind on it could write. */
static void received_put(cairn_store_t *s, const char *type, const char *id, const char *field,
                         const char *text) {
  cairn_test_key_t k;
  cairn_change_t *c;
  uint8_t *ops, *entry;
  size_t ops_len, len;
  cairn_test_key_init(&k, NULL);
  CAIRN_PASS(cairn_store_network(s, k.network));
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_member(c, k.pk, CAIRN_ROLE_EDITOR, "Old device", NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  CAIRN_PASS(cairn_test_ops_put(type, id, field, text, &ops, &ops_len));
  CAIRN_PASS(cairn_test_key_sign_at(&k, (cairn_now_ms() + 1) << 16, ops, ops_len, &entry, &len));
  CAIRN_PASS(cairn_test_apply1(s, entry, len, NULL));
  free(ops);
  free(entry);
}

static void world_free(world_t *w) {
  cairn_close(w->s);
  CAIRN_PASS(cairn_test_rmrf(w->dir));
  free(w->dir);
  cairn_test_clock_reset();
}

/* The model of as_of_ms (0: now) with N = days. */
static cairn_report_partners_t *model(world_t *w, uint64_t as_of_ms, unsigned days,
                                      cairn_report_data_t **d) {
  cairn_report_partners_t *m;
  CAIRN_PASS(cairn_report_data_open(w->s, as_of_ms, d));
  CAIRN_PASS(cairn_report_partners(*d, days, &m));
  return m;
}

static const cairn_report_partner_t *partner(const cairn_report_partners_t *m, const char *id) {
  for (size_t i = 0; i < m->n; i++)
    if (strcmp(m->rows[i].rec->id, id) == 0)
      return &m->rows[i];
  fail_msg("no partner %s", id);
  return NULL;
}

/* Last contact and days since (NULL and -1: never), and whether not contacted. */
static void expect_contact(const cairn_report_partners_t *m, const char *id, const char *last,
                           long days, int quiet) {
  const cairn_report_partner_t *p = partner(m, id);
  if (last == NULL)
    assert_null(p->last_contact);
  else
    assert_string_equal(p->last_contact, last);
  assert_int_equal(p->days_since, days);
  assert_int_equal(p->not_contacted, quiet);
}

static void test_contacts(void **state) {
  world_t w;
  cairn_report_data_t *d;
  (void)state;
  world_make(&w);
  cairn_report_partners_t *m = model(&w, 0, 30, &d);
  assert_string_equal(cairn_report_data_date(d), "2026-03-10");
  assert_int_equal(m->days, 30);
  assert_int_equal(m->n, 6);
  /* by name */
  assert_string_equal(m->rows[0].name, "Edge Org");
  assert_string_equal(m->rows[5].name, "Week Org");
  expect_contact(m, "never", NULL, -1, 1);
  expect_contact(m, "edge", "2026-02-08", 30, 0); /* exactly N days: contacted */
  expect_contact(m, "past", "2026-02-07", 31, 1);
  expect_contact(m, "meet", "2026-03-01", 9, 0); /* a meeting attended */
  expect_contact(m, "follow", "2026-02-27", 11, 0);
  expect_contact(m, "week", "2026-03-09", 1, 0);
  /* never contacted first, then the longest since */
  assert_int_equal(m->nquiet, 2);
  assert_string_equal(m->quiet[0]->rec->id, "never");
  assert_string_equal(m->quiet[1]->rec->id, "past");
  const cairn_report_partner_t *f = partner(m, "follow");
  assert_string_equal(f->contact, "uma");
  assert_string_equal(f->contact_name, "Uma");
  assert_string_equal(f->stage, "engaged");
  assert_null(partner(m, "week")->stage);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  /* one day less, and edge is past the line; the default N is 60 */
  m = model(&w, 0, 29, &d);
  expect_contact(m, "edge", "2026-02-08", 30, 1);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  m = model(&w, 0, 0, &d);
  assert_int_equal(m->days, 60);
  assert_int_equal(m->nquiet, 1);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

static void test_pipeline(void **state) {
  static const char *const stages[] = {"lead", "contacted", "engaged", "committed", "lapsed",
                                       NULL};
  static const unsigned counts[] = {1, 1, 2, 1, 0, 1};
  world_t w;
  cairn_report_data_t *d;
  (void)state;
  world_make(&w);
  put(w.s, "partner", "odd", "name=Odd Org", NULL);
  received_put(w.s, "partner", "odd", "stage", "dormant"); /* a stage the schema lacks */
  cairn_report_partners_t *m = model(&w, 0, 30, &d);
  assert_int_equal(m->nstages, 7);
  for (size_t i = 0; i < 5; i++) {
    assert_string_equal(m->stages[i].stage, stages[i]);
    assert_int_equal(m->stages[i].count, counts[i]);
  }
  assert_string_equal(m->stages[5].stage, "dormant"); /* after the schema's */
  assert_int_equal(m->stages[5].count, 1);
  assert_null(m->stages[6].stage); /* no stage, last */
  assert_int_equal(m->stages[6].count, 1);
  assert_int_equal(m->engaged, 3);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

static void test_follow_ups(void **state) {
  world_t w;
  cairn_report_data_t *d;
  (void)state;
  world_make(&w);
  cairn_report_partners_t *m = model(&w, 0, 30, &d);
  /* f1 answered by f2; w2 due in 10 days, beyond the week */
  assert_int_equal(m->nfollow_ups, 2);
  assert_int_equal(m->overdue, 1);
  const cairn_report_follow_up_t *f = &m->follow_ups[0];
  assert_string_equal(f->rec->id, "f2");
  assert_string_equal(f->partner_name, "Follow Org");
  assert_string_equal(f->person_name, "Uma");
  assert_string_equal(f->date, "2026-02-27");
  assert_string_equal(f->kind, "visit");
  assert_string_equal(f->follow_up, "2026-03-05");
  assert_int_equal(f->due_in, -5);
  assert_true(f->overdue);
  f = &m->follow_ups[1];
  assert_string_equal(f->rec->id, "w1");
  assert_null(f->person_name);
  assert_int_equal(f->due_in, 4);
  assert_false(f->overdue);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  /* an interaction the next day answers w1 (and w2); one the same day would not */
  put(w.s, "interaction", "w3", "partner=week", "date=2026-03-09", NULL);
  m = model(&w, 0, 30, &d);
  assert_int_equal(m->nfollow_ups, 2);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  put(w.s, "interaction", "w4", "partner=week", "date=2026-03-10", NULL);
  m = model(&w, 0, 30, &d);
  assert_int_equal(m->nfollow_ups, 1);
  assert_string_equal(m->follow_ups[0].rec->id, "f2");
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

/* As of 2026-03-10, what was written later is not there, backdated or not. */
static void test_as_of(void **state) {
  world_t w;
  cairn_report_data_t *d;
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_test_clock_at(MAR10_NOON + 15 * DAY_MS)); /* 2026-03-25 */
  put(w.s, "interaction", "n2", "partner=never", "date=2026-03-24", NULL);
  put(w.s, "interaction", "p2", "partner=past", "date=2026-03-05", "follow_up=2026-03-06",
      NULL);
  put(w.s, "partner", "late", "name=Late Org", "stage=lead", NULL);
  put(w.s, "partner", "edge", "stage=lapsed", NULL);
  cairn_report_partners_t *m = model(&w, 0, 30, &d);
  assert_string_equal(cairn_report_data_date(d), "2026-03-25");
  assert_int_equal(m->n, 7);
  expect_contact(m, "never", "2026-03-24", 1, 0);
  expect_contact(m, "past", "2026-03-05", 20, 0);
  expect_contact(m, "meet", "2026-03-15", 10, 0); /* m2 has happened now */
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  m = model(&w, MAR10_END, 30, &d);
  assert_string_equal(cairn_report_data_date(d), "2026-03-10");
  assert_int_equal(m->n, 6);
  expect_contact(m, "never", NULL, -1, 1);
  expect_contact(m, "past", "2026-02-07", 31, 1);
  expect_contact(m, "meet", "2026-03-01", 9, 0);
  assert_string_equal(partner(m, "edge")->stage, "contacted");
  assert_int_equal(m->nfollow_ups, 2); /* p2's follow-up was not written yet */
  assert_int_equal(m->stages[1].count, 1);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

/* No partner at all: zeros, the schema's stages, empty tables. */
static void test_empty(void **state) {
  world_t w;
  cairn_report_data_t *d;
  cairn_report_doc_t *doc;
  cairn_error_t err = {0, ""};
  char *text;
  (void)state;
  memset(&w, 0, sizeof w);
  if (cairn_test_schema_store("ana", "Empty", &w.s, &w.dir, &err) != 0)
    fail_msg("a store with the default schema: %s", err.msg);
  cairn_report_partners_t *m = model(&w, 0, 0, &d);
  assert_int_equal(m->n, 0);
  assert_int_equal(m->nstages, 5);
  assert_int_equal(m->nquiet + m->nfollow_ups + m->engaged, 0);
  cairn_report_partners_free(m);
  cairn_report_data_free(d);
  CAIRN_PASS(cairn_report_build(w.s, "partners", NULL, &doc, &err));
  CAIRN_PASS(cairn_test_render(doc, CAIRN_REPORT_TEXT, &text));
  assert_contains(text, "No partners recorded yet.");
  assert_contains(text, "Not contacted in 60 days: 0");
  free(text);
  cairn_report_doc_free(doc);
  world_free(&w);
}

/* ---- the document ---- */

static char *render(const cairn_report_doc_t *doc, cairn_report_format_t fmt) {
  char *text;
  CAIRN_PASS(cairn_test_render(doc, fmt, &text));
  return text;
}

static json_t *table(json_t *sec, const char *id) {
  size_t i;
  json_t *t;
  json_array_foreach(json_object_get(sec, "tables"), i, t) {
    if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0)
      return t;
  }
  fail_msg("no table %s", id);
  return NULL;
}

static json_t *row(json_t *t, size_t i) {
  json_t *r = json_array_get(json_object_get(t, "rows"), i);
  assert_non_null(r);
  return r;
}

static void expect_str(json_t *o, const char *key, const char *want) {
  json_t *v = json_object_get(o, key);
  if (!json_is_string(v))
    fail_msg("%s is not a string", key);
  assert_string_equal(json_string_value(v), want);
}

static void expect_int(json_t *o, const char *key, json_int_t want) {
  json_t *v = json_object_get(o, key);
  if (!json_is_integer(v))
    fail_msg("%s is not an integer", key);
  assert_int_equal(json_integer_value(v), want);
}

static void test_document(void **state) {
  world_t w;
  cairn_report_doc_t *doc;
  cairn_report_opts_t opts = {0, 0, 30};
  cairn_error_t err = {0, ""};
  json_error_t je;
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_report_build(w.s, "partners", &opts, &doc, &err));
  char *text = render(doc, CAIRN_REPORT_JSON);
  json_t *j = json_loads(text, 0, &je), *sec, *facts, *t;
  assert_non_null(j);
  expect_str(j, "report", "partners");
  expect_str(j, "as_of", "2026-03-10");
  sec = json_array_get(json_object_get(j, "sections"), 0);
  facts = json_object_get(sec, "facts");
  expect_int(facts, "partners", 6);
  expect_int(facts, "engaged", 3);
  expect_int(facts, "not_contacted", 2);
  expect_int(facts, "follow_ups_due", 2);
  t = table(sec, "pipeline");
  expect_str(row(t, 2), "stage", "engaged");
  expect_int(row(t, 2), "partners", 2);
  assert_null(json_object_get(row(t, 2), "_type")); /* a stage is no record */
  t = table(sec, "not_contacted");
  expect_str(row(t, 0), "_type", "partner");
  expect_str(row(t, 0), "_id", "never");
  expect_str(row(t, 0), "last_contact", "never");
  assert_true(json_is_null(json_object_get(row(t, 0), "days_since")));
  expect_int(row(t, 1), "days_since", 31);
  t = table(sec, "follow_ups");
  expect_str(row(t, 0), "_type", "interaction");
  expect_str(row(t, 0), "_id", "f2");
  expect_int(row(t, 0), "due_in", -5);
  expect_str(row(t, 0), "state", "overdue");
  expect_str(row(t, 1), "state", "due");
  t = table(sec, "partners");
  assert_int_equal(json_array_size(json_object_get(t, "rows")), 6);
  expect_str(row(t, 1), "name", "Follow Org");
  expect_str(row(t, 1), "contact", "Uma");
  expect_int(row(t, 1), "days_since", 11);
  json_decref(j);
  free(text);
  text = render(doc, CAIRN_REPORT_TEXT);
  assert_contains(text, "Not contacted in 30 days: 2");
  assert_contains(text, "Never Co");
  free(text);
  text = render(doc, CAIRN_REPORT_CSV);
  assert_contains(text, "partner,never,Never Co,lead,never,\r\n");
  free(text);
  cairn_report_doc_free(doc);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_contacts),  cmocka_unit_test(test_pipeline),
      cmocka_unit_test(test_follow_ups), cmocka_unit_test(test_as_of),
      cmocka_unit_test(test_empty),     cmocka_unit_test(test_document),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
