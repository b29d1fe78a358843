/*
 * test_report_changes.c — the changes report (client/report/changes.c) on two
 * members' hand-made changes to records of the default schema.
 *
 * The clock is moved (test builds: CAIRN_TEST_CLOCK_OFFSET_MS):
 *
 *   03-01  Ana adds partners a1 (Acme) and a2 (Beta); Rob gets the network
 *   03-10  Rob changes a1's stage, adds partner r1 and value v1; Ana gets them
 *   03-12  Ana adds partner x, deletes a2, and purges x: her put on x is erased
 *
 * Since 03-05 as of 03-12 the report has Rob's three changes and Ana's three;
 * by default (30 days back) Ana's adds of 03-01 too; as of 03-10, Rob's only.
 * Ops on cairn's own records (the grant, the schema) are never in it. With
 * hundreds of changes more (entries of 150, 100 and 230 puts), all are counted
 * and the latest 200 listed, cut inside an entry.
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
#define MAR1_NOON 1772366400000ull /* 2026-03-01T12:00:00Z */
#define MAR5 (MAR1_NOON + 4 * DAY_MS - DAY_MS / 2) /* 2026-03-05T00:00:00Z */
#define MAR10_END (MAR1_NOON + 9 * DAY_MS + DAY_MS / 2 - 1)

typedef struct world {
  cairn_store_t *ana, *rob;
  char *ana_dir, *rob_dir;
} world_t;

/* One change on s: put type id field=text (text NULL: del; "!purge": purge). */
static void edit(cairn_store_t *s, const char *type, const char *id, const char *field,
                  const char *text) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  int rc;
  CAIRN_PASS(cairn_change_begin(s, &c));
  if (text == NULL)
    rc = cairn_change_del(c, type, id);
  else if (strcmp(text, "!purge") == 0)
    rc = cairn_change_purge(c, type, id);
  else
    rc = cairn_change_put_text(c, type, id, field, text, 0, &err);
  if (rc != 0)
    fail_msg("%s %s: %s", type, id, err.msg);
  if (cairn_change_commit(c, NULL, &err) != 0)
    fail_msg("%s %s: %s", type, id, err.msg);
}

static void world_make(world_t *w) {
  cairn_error_t err = {0, ""};
  cairn_change_t *c;
  memset(w, 0, sizeof *w);
  if (cairn_test_clock_at(MAR1_NOON) != 0)
    skip(); /* not a test build (-DCAIRN_TEST_HOOKS=ON): the clock stays */
  if (cairn_test_schema_store("Ana", "Northside", &w->ana, &w->ana_dir, &err) != 0)
    fail_msg("a store with the default schema: %s", err.msg);
  CAIRN_PASS(cairn_test_store("rob", &w->rob, &w->rob_dir));
  CAIRN_PASS(cairn_change_begin(w->ana, &c));
  CAIRN_PASS(cairn_change_member(c, cairn_store_key(w->rob), CAIRN_ROLE_EDITOR, "Rob", NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  edit(w->ana, "partner", "a1", "name", "Acme");
  edit(w->ana, "partner", "a2", "name", "Beta");
  CAIRN_PASS(cairn_test_sync(w->rob, w->ana, NULL, &err));

  CAIRN_PASS(cairn_test_clock_at(MAR1_NOON + 9 * DAY_MS));
  edit(w->rob, "partner", "a1", "stage", "engaged");
  edit(w->rob, "partner", "r1", "name", "Rob's Org");
  edit(w->rob, "value", "v1", "period", "2026-03");
  CAIRN_PASS(cairn_test_sync(w->ana, w->rob, NULL, &err));

  CAIRN_PASS(cairn_test_clock_at(MAR1_NOON + 11 * DAY_MS));
  edit(w->ana, "partner", "x", "name", "Secret");
  edit(w->ana, "partner", "a2", NULL, NULL);
  edit(w->ana, "partner", "x", NULL, "!purge");
}

static void world_free(world_t *w) {
  cairn_close(w->ana);
  cairn_close(w->rob);
  CAIRN_PASS(cairn_test_rmrf(w->ana_dir));
  CAIRN_PASS(cairn_test_rmrf(w->rob_dir));
  free(w->ana_dir);
  free(w->rob_dir);
  cairn_test_clock_reset();
}

/* The model on Ana's store as of as_of_ms (0: now), since since_ms (0: default). */
static cairn_report_changes_t *model(world_t *w, uint64_t as_of_ms, uint64_t since_ms,
                                     cairn_report_data_t **d) {
  cairn_report_changes_t *m;
  CAIRN_PASS(cairn_report_data_open(w->ana, as_of_ms, d));
  CAIRN_PASS(cairn_report_changes(*d, since_ms, &m));
  return m;
}

/* Row i as "AUTHOR OP TYPE ID LABEL [FIELDS]" (an erased one: "AUTHOR erased"). */
static void expect_row(const cairn_report_changes_t *m, size_t i, const char *want) {
  char got[256];
  const cairn_report_change_t *r = &m->rows[i];
  assert_true(i < m->n);
  if (r->op == CAIRN_CHANGE_ERASED) {
    assert_null(r->type);
    assert_null(r->id);
    assert_null(r->label);
    assert_string_equal(r->fields, "");
    snprintf(got, sizeof got, "%s erased", r->author);
  } else {
    snprintf(got, sizeof got, "%s %s %s %s %s [%s]", r->author,
             cairn_report_change_op_name(r->op), r->type, r->id, r->label, r->fields);
  }
  assert_string_equal(got, want);
}

static void test_since(void **state) {
  static const char *const want[] = {
      "Rob changed partner a1 Acme [stage]",
      "Rob added partner r1 Rob's Org [name]",
      "Rob added value v1 v1 [period]",
      "Ana erased",
      "Ana deleted partner a2 Beta []", /* named from its history */
      "Ana purged partner x x []",
  };
  world_t w;
  cairn_report_data_t *d;
  (void)state;
  world_make(&w);
  cairn_report_changes_t *m = model(&w, 0, MAR5, &d);
  assert_int_equal(m->since_ms, MAR5);
  assert_int_equal(m->n, 6);
  for (size_t i = 0; i < m->n; i++)
    expect_row(m, i, want[i]);
  for (size_t i = 1; i < m->n; i++)
    assert_true(m->rows[i - 1].time_ms <= m->rows[i].time_ms);
  assert_string_equal(m->rows[0].type_label, "Partner");
  assert_string_equal(m->rows[2].type_label, "Data point");
  assert_int_equal(m->records, 5); /* a1, r1, v1, a2, x: the erased op is no record */
  assert_int_equal(m->npeople, 2);
  /* as many changes each: by name */
  assert_string_equal(m->people[0].author, "Ana");
  assert_int_equal(m->people[0].changes, 3);
  assert_int_equal(m->people[0].records, 2);
  assert_string_equal(m->people[1].author, "Rob");
  assert_int_equal(m->people[1].changes, 3);
  assert_int_equal(m->people[1].records, 3);
  assert_string_equal(m->people[1].author_key, m->rows[0].author_key);
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

/* 30 days back by default: Ana's adds of 03-01 come, and a2 is labelled from
 * its add though deleted since. */
static void test_default_since(void **state) {
  world_t w;
  cairn_report_data_t *d;
  (void)state;
  world_make(&w);
  uint64_t before = cairn_now_ms();
  cairn_report_changes_t *m = model(&w, 0, 0, &d);
  assert_in_range(m->until_ms, before, cairn_now_ms()); /* now */
  assert_int_equal(m->since_ms, m->until_ms - 30 * DAY_MS);
  assert_int_equal(m->n, 8);
  expect_row(m, 0, "Ana added partner a1 Acme [name]");
  expect_row(m, 1, "Ana added partner a2 Beta [name]");
  expect_row(m, 2, "Rob changed partner a1 Acme [stage]");
  expect_row(m, 6, "Ana deleted partner a2 Beta []");
  assert_int_equal(m->people[0].changes, 5);
  assert_int_equal(m->records, 5);
  /* a1 touched by both, a2 twice by Ana: each counted once a person */
  assert_string_equal(m->people[0].author, "Ana");
  assert_int_equal(m->people[0].records, 3); /* a1, a2, x */
  assert_string_equal(m->people[1].author, "Rob");
  assert_int_equal(m->people[1].records, 3); /* a1, r1, v1 */
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

/* As of the end of 03-10: nothing of 03-12. */
static void test_as_of(void **state) {
  world_t w;
  cairn_report_data_t *d;
  (void)state;
  world_make(&w);
  cairn_report_changes_t *m = model(&w, MAR10_END, MAR5, &d);
  assert_int_equal(m->until_ms, MAR10_END);
  assert_int_equal(m->n, 3);
  expect_row(m, 2, "Rob added value v1 v1 [period]");
  assert_int_equal(m->npeople, 1);
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  /* a window that holds nothing */
  m = model(&w, MAR10_END, MAR10_END + 1, &d);
  assert_int_equal(m->n, 0);
  assert_int_equal(m->records, 0);
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

/* Added: a put writing every required field and replacing no value. */
static void test_added(void **state) {
  world_t w;
  cairn_report_data_t *d;
  cairn_error_t err = {0, ""};
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_test_clock_at(MAR1_NOON + 12 * DAY_MS));
  edit(w.ana, "partner", "a1", "name", "Acme Inc"); /* the required field, replaced */
  CAIRN_PASS(cairn_test_put_texts(w.ana, "partner", "n3", &err, "name=New Org", "stage=lead",
                                  NULL));
  edit(w.ana, "partner", "r1", NULL, NULL);
  edit(w.ana, "partner", "r1", "name", "Rob's Org again"); /* made again */
  cairn_report_changes_t *m = model(&w, 0, MAR1_NOON + 12 * DAY_MS, &d);
  assert_int_equal(m->n, 4);
  expect_row(m, 0, "Ana changed partner a1 Acme Inc [name]");
  expect_row(m, 1, "Ana added partner n3 New Org [name, stage]");
  expect_row(m, 2, "Ana deleted partner r1 Rob's Org again []");
  expect_row(m, 3, "Ana added partner r1 Rob's Org again [name]");
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

/* More changes than are kept: all counted, the latest CAIRN_REPORT_CHANGES_KEPT
 * listed, from inside an entry when the cut falls there. */
static void test_latest(void **state) {
  world_t w;
  cairn_report_data_t *d;
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  char id[16], name[32];
  (void)state;
  world_make(&w);
  for (int e = 0; e < 2; e++) { /* 150 partners on 03-13, 100 on 03-14 */
    CAIRN_PASS(cairn_test_clock_at(MAR1_NOON + (12 + e) * DAY_MS));
    CAIRN_PASS(cairn_change_begin(w.ana, &c));
    for (int i = 0; i < (e ? 100 : 150); i++) {
      snprintf(id, sizeof id, "%c%03d", e ? 'q' : 'p', i);
      snprintf(name, sizeof name, "Org %s", id);
      if (cairn_change_put_text(c, "partner", id, "name", name, 0, &err) != 0)
        fail_msg("%s: %s", id, err.msg);
    }
    CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  }
  cairn_report_changes_t *m = model(&w, 0, MAR1_NOON + 12 * DAY_MS, &d);
  assert_int_equal(m->total, 250);
  assert_int_equal(m->records, 250);
  assert_int_equal(m->n, CAIRN_REPORT_CHANGES_KEPT);
  expect_row(m, 0, "Ana added partner p050 Org p050 [name]");
  expect_row(m, 99, "Ana added partner p149 Org p149 [name]");
  expect_row(m, 199, "Ana added partner q099 Org q099 [name]");
  assert_int_equal(m->npeople, 1);
  assert_int_equal(m->people[0].changes, 250);
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  /* the cut inside the latest entry: the last 200 of its own */
  CAIRN_PASS(cairn_test_clock_at(MAR1_NOON + 15 * DAY_MS));
  CAIRN_PASS(cairn_change_begin(w.ana, &c));
  for (int i = 0; i < 230; i++) {
    snprintf(id, sizeof id, "r%03d", i);
    CAIRN_PASS(cairn_change_put_text(c, "partner", id, "name", id, 0, &err));
  }
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  m = model(&w, 0, MAR1_NOON + 12 * DAY_MS, &d);
  assert_int_equal(m->total, 480);
  assert_int_equal(m->n, CAIRN_REPORT_CHANGES_KEPT);
  expect_row(m, 0, "Ana added partner r030 r030 [name]");
  expect_row(m, 199, "Ana added partner r229 r229 [name]");
  cairn_report_changes_free(m);
  cairn_report_data_free(d);
  world_free(&w);
}

static void test_document(void **state) {
  world_t w;
  cairn_report_doc_t *doc;
  cairn_report_opts_t opts = {0, MAR5, 0};
  cairn_error_t err = {0, ""};
  json_error_t je;
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_report_build(w.ana, "changes", &opts, &doc, &err));
  char *text;
  CAIRN_PASS(cairn_test_render(doc, CAIRN_REPORT_JSON, &text));
  json_t *j = json_loads(text, 0, &je);
  assert_non_null(j);
  json_t *sec = json_array_get(json_object_get(j, "sections"), 0);
  json_t *facts = json_object_get(sec, "facts");
  assert_int_equal(json_integer_value(json_object_get(facts, "changes")), 6);
  assert_int_equal(json_integer_value(json_object_get(facts, "people")), 2);
  assert_int_equal(json_integer_value(json_object_get(facts, "records")), 5);
  json_t *tables = json_object_get(sec, "tables");
  json_t *people = json_object_get(json_array_get(tables, 0), "rows");
  json_t *rows = json_object_get(json_array_get(tables, 1), "rows");
  json_t *p = json_array_get(people, 1);
  assert_string_equal(json_string_value(json_object_get(p, "_type")), "_member");
  assert_string_equal(json_string_value(json_object_get(p, "person")), "Rob");
  assert_true(json_is_integer(json_object_get(p, "changes")));
  assert_int_equal(json_array_size(rows), 6);
  json_t *r = json_array_get(rows, 1);
  assert_string_equal(json_string_value(json_object_get(r, "_type")), "partner");
  assert_string_equal(json_string_value(json_object_get(r, "_id")), "r1");
  assert_string_equal(json_string_value(json_object_get(r, "op")), "added");
  assert_string_equal(json_string_value(json_object_get(r, "type")), "Partner");
  assert_string_equal(json_string_value(json_object_get(r, "record")), "Rob's Org");
  assert_string_equal(json_string_value(json_object_get(r, "time")), "2026-03-10 12:00");
  r = json_array_get(rows, 3); /* erased: about no record */
  assert_null(json_object_get(r, "_type"));
  assert_string_equal(json_string_value(json_object_get(r, "record")), "(erased by a purge)");
  json_decref(j);
  free(text);
  CAIRN_PASS(cairn_test_render(doc, CAIRN_REPORT_TEXT, &text));
  assert_contains(text, "Records touched: 5");
  assert_contains(text, "from 2026-03-05 00:00 to 2026-03-12");
  free(text);
  cairn_report_doc_free(doc);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_since),
      cmocka_unit_test(test_default_since),
      cmocka_unit_test(test_as_of),
      cmocka_unit_test(test_added),
      cmocka_unit_test(test_latest),
      cmocka_unit_test(test_document),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
