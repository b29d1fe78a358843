/*
 * test_query.c — values compared by kind (core/index.c), typed queries
 * (client/lib/list.c) and their searches over every field and the secondary indexes: kept through puts, changes of
 * the indexed fields, deletes, revivals, purges and a late revocation's
 * recompute; the same results with and without them over random data; built
 * once for a store of the format before them (docs/design.md, "Queries and
 * indexes").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "cairn_report_test.h"
#include "cairn_test.h"

/* ---- helpers ---- */

/* A MessagePack value from JSON text (static buffer per slot). */
static const uint8_t *mp(const char *json, size_t *len, int slot) {
  static uint8_t *keep[4];
  free(keep[slot]);
  CAIRN_PASS(cairn_value_from_json_text(json, &keep[slot], len, NULL));
  return keep[slot];
}

/* cairn_value_compare of two JSON values: the order, or 9 when incomparable. */
static int cmp(cairn_kind_t k, const char *a, const char *b) {
  size_t al, bl;
  const uint8_t *x = mp(a, &al, 0), *y = mp(b, &bl, 1);
  int order;
  if (!cairn_value_compare(k, x, al, y, bl, &order))
    return 9;
  return order < 0 ? -1 : order > 0;
}

typedef struct ids {
  char s[4096];
} ids_t;

static int add_id(const cairn_record_t *r, void *ud) {
  ids_t *o = ud;
  size_t n = strlen(o->s);
  snprintf(o->s + n, sizeof o->s - n, "%s%.*s%s", n ? "," : "", (int)r->id_len, r->id,
           r->deleted ? "(d)" : "");
  return 0;
}

/* A query's result as "id,id,...": exprs NULL-terminated; sort may be NULL. */
static const char *run_q(cairn_store_t *s, const char *type, const char *const *exprs,
                         const char *sort, size_t limit, int deleted, int use_index,
                         int *used_index) {
  static ids_t out;
  cairn_query_t *q;
  cairn_error_t err = {0, ""};
  out.s[0] = 0;
  CAIRN_PASS(cairn_query_new(s, NULL, type, &q, &err));
  for (size_t i = 0; exprs != NULL && exprs[i] != NULL; i++)
    if (cairn_query_where(q, exprs[i], &err) != 0)
      fail_msg("%s: %s", exprs[i], err.msg);
  if (sort != NULL)
    CAIRN_PASS(cairn_query_sort(q, sort, &err));
  cairn_query_limit(q, limit);
  cairn_query_deleted(q, deleted);
  cairn_query_use_index(q, use_index);
  CAIRN_PASS(cairn_query_run(q, add_id, &out));
  if (used_index != NULL)
    *used_index = cairn_query_used_index(q);
  cairn_query_free(q);
  return out.s;
}

/* One condition (and an optional sort), index allowed. */
static const char *q1(cairn_store_t *s, const char *type, const char *expr, const char *sort) {
  const char *exprs[] = {expr, NULL};
  return run_q(s, type, expr != NULL ? exprs : NULL, sort, 0, 0, 1, NULL);
}

/* The error a condition gives: its code, with its message in *msg. */
static int where_err(cairn_store_t *s, const char *type, const char *expr, char *msg) {
  cairn_query_t *q;
  cairn_error_t err = {0, ""};
  int rc = cairn_query_new(s, NULL, type, &q, &err);
  if (rc == 0) {
    rc = cairn_query_where(q, expr, &err);
    cairn_query_free(q);
  }
  snprintf(msg, CAIRN_ERRMSG_MAX, "%s", err.msg);
  return rc;
}

/* Put fields given as "field=text" (typed by the schema) on one record. */
static void put(cairn_store_t *s, const char *type, const char *id, ...) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  va_list ap;
  const char *kv;
  CAIRN_PASS(cairn_change_begin(s, &c));
  va_start(ap, id);
  while ((kv = va_arg(ap, const char *)) != NULL) {
    char field[80];
    const char *eq = strchr(kv, '=');
    snprintf(field, sizeof field, "%.*s", (int)(eq - kv), kv);
    if (cairn_change_put_text(c, type, id, field, eq + 1, 0, &err) != 0)
      fail_msg("%s %s %s: %s", type, id, kv, err.msg);
  }
  va_end(ap);
  if (cairn_change_commit(c, NULL, &err) != 0)
    fail_msg("%s %s: %s", type, id, err.msg);
}

static void del(cairn_store_t *s, const char *type, const char *id, int purge) {
  cairn_change_t *c;
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(purge ? cairn_change_purge(c, type, id) : cairn_change_del(c, type, id));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
}

/* A store named Ana owning a network with the default schema. */
static cairn_store_t *schema_store(char **dir) {
  cairn_store_t *s;
  CAIRN_PASS(cairn_test_schema_store("Ana", "Northside", &s, dir, NULL));
  return s;
}

static void done(cairn_store_t *s, char *dir) {
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

/* An index walk as "id,id,...". */
static const char *walk(cairn_store_t *s, cairn_index_t ix, const char *lead, const char *from,
                        const char *to) {
  static ids_t out;
  out.s[0] = 0;
  CAIRN_PASS(cairn_index_walk(s, ix, lead, from, to, add_id, &out));
  return out.s;
}

/* ---- comparing by kind ---- */

static void test_compare_kinds(void **state) {
  (void)state;
  /* periods: by first day, then the longer first */
  const char *order[] = {"\"2025-12\"", "\"2026\"",    "\"2026-Q1\"", "\"2026-01\"",
                         "\"2026-03\"", "\"2026-Q2\"", "\"2026-04\"", "\"2026-05\"",
                         "\"2026-Q4\"", "\"2026-12\"", "\"2027\""};
  for (size_t i = 0; i + 1 < sizeof order / sizeof order[0]; i++) {
    assert_int_equal(cmp(CAIRN_KIND_PERIOD, order[i], order[i + 1]), -1);
    assert_int_equal(cmp(CAIRN_KIND_PERIOD, order[i + 1], order[i]), 1);
  }
  assert_int_equal(cmp(CAIRN_KIND_PERIOD, "\"2026-q2\"", "\"2026-Q2\""), 0);
  assert_int_equal(cmp(CAIRN_KIND_PERIOD, "\"2026-Q5\"", "\"2026\""), 9);
  assert_int_equal(cmp(CAIRN_KIND_PERIOD, "2026", "\"2026\""), 9);
  /* dates in time, and only real ones */
  assert_int_equal(cmp(CAIRN_KIND_DATE, "\"2026-02-28\"", "\"2026-03-01\""), -1);
  assert_int_equal(cmp(CAIRN_KIND_DATE, "\"2026-12-31\"", "\"2027-01-01\""), -1);
  assert_int_equal(cmp(CAIRN_KIND_DATE, "\"2026-02-30\"", "\"2026-03-01\""), 9);
  assert_int_equal(cmp(CAIRN_KIND_DATE, "\"next-week\"", "\"2026-03-01\""), 9);
  /* datetimes by the instant */
  assert_int_equal(cmp(CAIRN_KIND_DATETIME, "\"2026-05-01T10:00+02:00\"", "\"2026-05-01T08:00Z\""),
                   0);
  assert_int_equal(cmp(CAIRN_KIND_DATETIME, "\"2026-05-01T10:00:00.5Z\"",
                       "\"2026-05-01T10:00:00.25Z\""), 1);
  assert_int_equal(cmp(CAIRN_KIND_DATETIME, "\"2026-05-01T23:30-01:00\"",
                       "\"2026-05-02T00:10Z\""), 1);
  assert_int_equal(cmp(CAIRN_KIND_DATETIME, "\"0001-01-01T00:00Z\"", "\"9999-12-31T23:59Z\""),
                   -1);
  /* numbers as numbers, integers exactly */
  assert_int_equal(cmp(CAIRN_KIND_NUMBER, "9", "10"), -1);
  assert_int_equal(cmp(CAIRN_KIND_NUMBER, "100", "9.5"), 1);
  assert_int_equal(cmp(CAIRN_KIND_NUMBER, "-3", "2"), -1);
  assert_int_equal(cmp(CAIRN_KIND_NUMBER, "2", "2.0"), 0);
  assert_int_equal(cmp(CAIRN_KIND_NUMBER, "9007199254740993", "9007199254740992"), 1);
  /* above INT64_MAX (uint 64) */
  const uint8_t big[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  size_t ml;
  const uint8_t *m = mp("9223372036854775807", &ml, 2);
  int o;
  assert_true(cairn_value_compare(CAIRN_KIND_NUMBER, big, sizeof big, m, ml, &o));
  assert_true(o > 0);
  m = mp("-1", &ml, 2);
  assert_true(cairn_value_compare(CAIRN_KIND_NUMBER, m, ml, big, sizeof big, &o));
  assert_true(o < 0);
  assert_int_equal(cmp(CAIRN_KIND_NUMBER, "\"9\"", "10"), 9);
  /* bools, text, refs lists */
  assert_int_equal(cmp(CAIRN_KIND_BOOL, "false", "true"), -1);
  assert_int_equal(cmp(CAIRN_KIND_TEXT, "\"Zoe\"", "\"ann\""), -1);
  assert_int_equal(cmp(CAIRN_KIND_TEXT, "\"ab\"", "\"abc\""), -1);
  assert_int_equal(cmp(CAIRN_KIND_REFS, "[\"a\",\"b\"]", "[\"a\",\"c\"]"), -1);
  assert_int_equal(cmp(CAIRN_KIND_REFS, "[\"a\"]", "[\"a\",\"b\"]"), -1);
  assert_int_equal(cmp(CAIRN_KIND_JSON, "1", "1"), 9);
}

/* ---- typed queries ---- */

static void fill(cairn_store_t *s) {
  put(s, "site", "s1", "name=North", NULL);
  put(s, "site", "s2", "name=South", NULL);
  put(s, "partner", "p1", "name=Lincoln Library", "kind=nonprofit", "sites=s1, s2", NULL);
  put(s, "partner", "p2", "name=\xc3\x89" "cole Nord", "kind=school", NULL);
  put(s, "commitment", "c1", "partner=p1", "title=Tutor 40 kids", "due=2026-05-01",
      "status=planned", NULL);
  put(s, "commitment", "c2", "partner=p1", "title=Books", "due=2026-03-01", "status=done",
      NULL);
  put(s, "commitment", "c3", "partner=p2", "title=Meals", "due=2026-07-15",
      "status=at-risk", NULL);
  put(s, "commitment", "c4", "partner=p2", "title=No date yet", "status=planned", NULL);
  put(s, "result", "r1", "title=Reading", NULL);
  put(s, "indicator", "i1", "title=Third grade reading", "result=r1", NULL);
  const char *periods[] = {"2026-05", "2026-Q2", "2026", "2026-03", "2026-Q1", "2026-01"};
  const char *actual[] = {"9", "10", "100", "2.5", "9.75", "-1"};
  for (size_t i = 0; i < 6; i++) {
    char id[8], per[32], act[32];
    snprintf(id, sizeof id, "v%zu", i + 1);
    snprintf(per, sizeof per, "period=%s", periods[i]);
    snprintf(act, sizeof act, "actual=%s", actual[i]);
    put(s, "value", id, "indicator=i1", per, act, NULL);
  }
}

static void test_operators(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  (void)state;
  fill(s);
  assert_string_equal(q1(s, "commitment", NULL, NULL), "c1,c2,c3,c4");
  /* dates in time; a record without the field meets only != */
  assert_string_equal(q1(s, "commitment", "due<2026-05-01", NULL), "c2");
  assert_string_equal(q1(s, "commitment", "due<=2026-05-01", NULL), "c1,c2");
  assert_string_equal(q1(s, "commitment", "due>2026-05-01", NULL), "c3");
  assert_string_equal(q1(s, "commitment", "due>=2026-05-01", NULL), "c1,c3");
  assert_string_equal(q1(s, "commitment", "due=2026-05-01", NULL), "c1");
  assert_string_equal(q1(s, "commitment", "due!=2026-05-01", NULL), "c2,c3,c4");
  assert_string_equal(q1(s, "commitment", "due=", NULL), "c4");
  assert_string_equal(q1(s, "commitment", "due!=", NULL), "c1,c2,c3");
  /* enums, in:, contains in any case */
  assert_string_equal(q1(s, "commitment", "status!=done", NULL), "c1,c3,c4");
  assert_string_equal(q1(s, "commitment", "status=in:planned,at-risk", NULL), "c1,c3,c4");
  assert_string_equal(q1(s, "commitment", "title~TUTOR", NULL), "c1");
  assert_string_equal(q1(s, "commitment", "title~o", NULL), "c1,c2,c4");
  assert_string_equal(q1(s, "partner", "name~\xc3\xa9" "cole", NULL), "p2");
  assert_string_equal(q1(s, "partner", "name~LIBRARY", NULL), "p1");
  /* a list of references: = asks whether it holds the id */
  assert_string_equal(q1(s, "partner", "sites=s2", NULL), "p1");
  assert_string_equal(q1(s, "partner", "sites!=s2", NULL), "p2");
  assert_string_equal(q1(s, "partner", "sites=in:s9,s1", NULL), "p1");
  assert_string_equal(q1(s, "partner", "sites~S2", NULL), "p1");
  /* periods: by first day, then the longer first */
  assert_string_equal(q1(s, "value", "period<2026-Q2", "period"), "v3,v5,v6,v4");
  assert_string_equal(q1(s, "value", "period=2026-q2", NULL), "v2");
  assert_string_equal(q1(s, "value", "period>=2026-Q2", "-period"), "v1,v2");
  /* numbers as numbers */
  assert_string_equal(q1(s, "value", "actual>9.5", "actual"), "v5,v2,v3");
  assert_string_equal(q1(s, "value", "actual<0", NULL), "v6");
  assert_string_equal(q1(s, "value", "actual=10.0", NULL), "v2");
  /* the id */
  assert_string_equal(q1(s, "commitment", "_id>c2", "-_id"), "c4,c3");
  /* two conditions */
  const char *two[] = {"partner=p1", "due>=2026-04-01", NULL};
  assert_string_equal(run_q(s, "commitment", two, NULL, 0, 0, 1, NULL), "c1");
  done(s, dir);
}

/* The ids a query with searches (NULL-terminated), an optional condition and
 * an index allowed finds. */
static const char *search_q(cairn_store_t *s, const char *type, const char *const *texts,
                            const char *expr) {
  static ids_t out;
  cairn_query_t *q;
  cairn_error_t err = {0, ""};
  out.s[0] = 0;
  CAIRN_PASS(cairn_query_new(s, NULL, type, &q, &err));
  for (size_t i = 0; texts[i] != NULL; i++)
    CAIRN_PASS(cairn_query_search(q, texts[i], &err));
  if (expr != NULL)
    CAIRN_PASS(cairn_query_where(q, expr, &err));
  CAIRN_PASS(cairn_query_run(q, add_id, &out));
  cairn_query_free(q);
  return out.s;
}

static void test_search(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  cairn_query_t *q;
  cairn_error_t err = {0, ""};
  (void)state;
  fill(s);
  /* any field, any case (Latin-1 letters too), a list's ids, numbers' text */
  const char *lib[] = {"LIBRARY", NULL}, *ecole[] = {"\xc3\xa9" "COLE", NULL};
  const char *s2[] = {"s2", NULL}, *o[] = {"o", NULL}, *ten[] = {"10", NULL};
  assert_string_equal(search_q(s, "partner", lib, NULL), "p1");
  assert_string_equal(search_q(s, "partner", ecole, NULL), "p2");
  assert_string_equal(search_q(s, "partner", s2, NULL), "p1");
  assert_string_equal(search_q(s, "commitment", o, NULL), "c1,c2,c4");
  assert_string_equal(search_q(s, "value", ten, NULL), "v2,v3");
  /* "planned" is c1's status and c4's; the enum counts as a field like any */
  const char *planned[] = {"PLANNED", NULL}, *two[] = {"planned", "date", NULL};
  assert_string_equal(search_q(s, "commitment", planned, NULL), "c1,c4");
  /* every search must match, and every condition too (the index still serves) */
  assert_string_equal(search_q(s, "commitment", two, NULL), "c4");
  assert_string_equal(search_q(s, "commitment", planned, "partner=p1"), "c1");
  /* the id is not a field; nothing found is no error */
  const char *id[] = {"c3", NULL}, *none[] = {"zebra", NULL};
  assert_string_equal(search_q(s, "commitment", id, NULL), "");
  assert_string_equal(search_q(s, "commitment", none, NULL), "");
  CAIRN_PASS(cairn_query_new(s, NULL, "partner", &q, &err));
  CAIRN_FAIL(cairn_query_search(q, "", &err), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_query_search(q, NULL, &err), CAIRN_EINVAL);
  cairn_query_free(q);
  done(s, dir);
}

static void test_sort_limit_deleted(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  (void)state;
  fill(s);
  /* records without the field last, either way */
  assert_string_equal(q1(s, "commitment", NULL, "due"), "c2,c1,c3,c4");
  assert_string_equal(q1(s, "commitment", NULL, "-due"), "c3,c1,c2,c4");
  assert_string_equal(q1(s, "commitment", NULL, "status,-due"), "c3,c2,c1,c4");
  assert_string_equal(q1(s, "value", NULL, "-actual"), "v3,v2,v5,v1,v4,v6");
  assert_string_equal(run_q(s, "commitment", NULL, "due", 2, 0, 1, NULL), "c2,c1");
  assert_string_equal(run_q(s, "commitment", NULL, NULL, 3, 0, 1, NULL), "c1,c2,c3");
  del(s, "commitment", "c2", 0);
  assert_string_equal(q1(s, "commitment", NULL, NULL), "c1,c3,c4");
  assert_string_equal(run_q(s, "commitment", NULL, NULL, 0, 1, 1, NULL), "c1,c2(d),c3,c4");
  const char *done_[] = {"status=done", NULL};
  assert_string_equal(run_q(s, "commitment", done_, NULL, 0, 1, 1, NULL), "c2(d)");
  done(s, dir);
}

static void test_errors(void **state) {
  char *dir, msg[CAIRN_ERRMSG_MAX];
  cairn_store_t *s = schema_store(&dir);
  cairn_query_t *q;
  cairn_error_t err = {0, ""};
  (void)state;
  fill(s);
  CAIRN_FAIL(cairn_query_new(s, NULL, "comitment", &q, &err), CAIRN_ESCHEMA);
  assert_contains(err.msg, "did you mean commitment?");
  assert_null(q);
  assert_int_equal(where_err(s, "commitment", "stauts=done", msg), CAIRN_ESCHEMA);
  assert_contains(msg, "did you mean status?");
  assert_int_equal(where_err(s, "commitment", "due<next-week", msg), CAIRN_ESCHEMA);
  assert_contains(msg, "\"next-week\" is not a date (YYYY-MM-DD)");
  assert_int_equal(where_err(s, "commitment", "status=dne", msg), CAIRN_ESCHEMA);
  assert_contains(msg, "did you mean done?");
  assert_int_equal(where_err(s, "value", "actual>many", msg), CAIRN_ESCHEMA);
  assert_contains(msg, "is not a number");
  assert_int_equal(where_err(s, "partner", "sites<s1", msg), CAIRN_ESCHEMA);
  assert_int_equal(where_err(s, "commitment", "status", msg), CAIRN_EINVAL);
  assert_int_equal(where_err(s, "commitment", "status!done", msg), CAIRN_EINVAL);
  assert_int_equal(where_err(s, "commitment", "=done", msg), CAIRN_EINVAL);
  assert_int_equal(where_err(s, "commitment", "due<", msg), CAIRN_EINVAL);
  assert_int_equal(where_err(s, "commitment", "_x=1", msg), CAIRN_EINVAL);
  CAIRN_PASS(cairn_query_new(s, NULL, "commitment", &q, &err));
  CAIRN_FAIL(cairn_query_sort(q, "-deu", &err), CAIRN_ESCHEMA);
  assert_contains(err.msg, "did you mean due?");
  CAIRN_FAIL(cairn_query_fields(q, "title,,due", &err), CAIRN_EINVAL);
  cairn_query_free(q);
  done(s, dir);
}

/* "ID:FIELD=VALUE;..." for the query's chosen fields. */
static int add_values(const cairn_record_t *r, void *ud) {
  struct {
    cairn_query_t *q;
    ids_t out;
  } *seen = ud;
  uint8_t idbuf[CAIRN_QUERY_IDBUF];
  cairn_record_field_t f;
  size_t n = strlen(seen->out.s);
  n += (size_t)snprintf(seen->out.s + n, sizeof seen->out.s - n, "%.*s:", (int)r->id_len, r->id);
  for (size_t i = 0; i < cairn_query_nfields(seen->q); i++) {
    char *text;
    if (!cairn_query_value(seen->q, r, i, idbuf, &f))
      continue;
    CAIRN_PASS(cairn_value_json(f.value, f.value_len, &text));
    n += (size_t)snprintf(seen->out.s + n, sizeof seen->out.s - n, "%.*s=%s;", (int)f.name_len,
                          f.name, text[0] == '"' ? "" : text);
    if (text[0] == '"') { /* the string without its quotes */
      n -= 1;
      n += (size_t)snprintf(seen->out.s + n, sizeof seen->out.s - n, "%.*s;",
                            (int)strlen(text) - 2, text + 1);
    }
    cairn_free(text);
  }
  return 0;
}

static void test_fields(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  cairn_query_t *q;
  cairn_error_t err = {0, ""};
  (void)state;
  fill(s);
  CAIRN_PASS(cairn_query_new(s, NULL, "commitment", &q, &err));
  CAIRN_PASS(cairn_query_fields(q, "due, title", &err));
  assert_int_equal(cairn_query_nfields(q), 2);
  assert_string_equal(cairn_query_field_name(q, 0), "due");
  assert_string_equal(cairn_query_field_name(q, 1), "title");
  assert_null(cairn_query_field_name(q, 2));
  /* values read through the query's fields: a renamed field's current name,
   * the id, and nothing for a field the record lacks */
  typedef struct seen {
    cairn_query_t *q;
    ids_t out;
  } seen_t;
  seen_t seen = {q, {{0}}};
  CAIRN_PASS(cairn_query_where(q, "_id=in:c3,c4", &err));
  CAIRN_PASS(cairn_query_run(q, add_values, &seen));
  assert_string_equal(seen.out.s, "c3:due=2026-07-15;title=Meals;c4:title=No date yet;");
  cairn_query_free(q);
  done(s, dir);
}

static void test_free_form(void **state) {
  cairn_store_t *s;
  char *dir;
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_change_t *c;
  (void)state;
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  CAIRN_PASS(cairn_store_network_create(s, "Free", net, NULL));
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_put_json(c, "thing", "a", "count", "9", 0, NULL));
  CAIRN_PASS(cairn_change_put_json(c, "thing", "b", "count", "10", 0, NULL));
  CAIRN_PASS(cairn_change_put_json(c, "thing", "c", "count", "100", 0, NULL));
  CAIRN_PASS(cairn_change_put_json(c, "thing", "d", "count", "\"42\"", 0, NULL));
  CAIRN_PASS(cairn_change_put_json(c, "thing", "e", "count", "42", 0, NULL));
  CAIRN_PASS(cairn_change_put_json(c, "thing", "f", "count", "true", 0, NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  /* = as before: "42" finds the string and the number */
  assert_string_equal(q1(s, "thing", "count=42", NULL), "d,e");
  assert_string_equal(q1(s, "thing", "count=true", NULL), "f");
  /* numbers as numbers when both are; strings as text */
  assert_string_equal(q1(s, "thing", "count>9", NULL), "b,c,e");
  assert_string_equal(q1(s, "thing", "count>40", NULL), "c,d,e"); /* "42" > "40" as text */
  assert_string_equal(q1(s, "thing", "count<5", NULL), "d"); /* "42" < "5" as text */
  assert_string_equal(q1(s, "thing", NULL, "count"), "a,b,e,c,d,f");
  assert_string_equal(q1(s, "thing", NULL, "-count"), "f,d,c,e,b,a");
  assert_string_equal(q1(s, "thing", "count=in:9,10", NULL), "a,b");
  /* an unknown type is no error without a schema */
  assert_string_equal(q1(s, "nothing", "x=1", NULL), "");
  done(s, dir);
}

/* ---- indexes ---- */

static void test_index_maintained(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  int used = 0;
  (void)state;
  fill(s);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p1", NULL, NULL), "c2,c1");
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c3,c4");
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", "2026-01-01", NULL), "c3");
  assert_string_equal(walk(s, CAIRN_INDEX_VALUE_INDICATOR, "i1", NULL, NULL),
                      "v3,v5,v6,v4,v2,v1");
  assert_string_equal(walk(s, CAIRN_INDEX_VALUE_INDICATOR, "i1", "2026-Q1", "2026-03"),
                      "v5,v6,v4");
  assert_string_equal(walk(s, CAIRN_INDEX_VALUE_MEASURE, "i1", NULL, NULL), "");
  CAIRN_FAIL(cairn_index_walk(s, CAIRN_INDEX_VALUE_INDICATOR, "i1", "soon", NULL, add_id,
                              &(ids_t){{0}}), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_index_walk(s, (cairn_index_t)9, "i1", NULL, NULL, add_id, &(ids_t){{0}}),
             CAIRN_EINVAL);
  /* the leading field changes: the row moves */
  put(s, "commitment", "c1", "partner=p2", NULL);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p1", NULL, NULL), "c2");
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c1,c3,c4");
  /* the second field changes, is set, is removed */
  put(s, "commitment", "c1", "due=2026-09-01", NULL);
  put(s, "commitment", "c4", "due=2026-01-02", NULL);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c4,c3,c1");
  put(s, "commitment", "c3", "due=", NULL);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c4,c1,c3");
  /* a delete removes the rows, a later put brings them back */
  del(s, "commitment", "c4", 0);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c1,c3");
  put(s, "commitment", "c4", "partner=p2", "title=Back", NULL);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c4,c1,c3");
  /* a purge erases them */
  del(s, "commitment", "c1", 1);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c4,c3");
  del(s, "value", "v6", 1);
  assert_string_equal(walk(s, CAIRN_INDEX_VALUE_INDICATOR, "i1", "2026", "2026-12"),
                      "v3,v5,v4,v2,v1");
  /* a query with = on the leading field reads the index, with the same result */
  const char *w[] = {"partner=p2", "due>2026-01-01", NULL};
  assert_string_equal(run_q(s, "commitment", w, NULL, 0, 0, 1, &used), "c4");
  assert_int_equal(used, 1);
  assert_string_equal(run_q(s, "commitment", w, NULL, 0, 0, 0, &used), "c4");
  assert_int_equal(used, 0);
  const char *v[] = {"indicator=i1", "period<2026-04", "period>2026", NULL};
  assert_string_equal(run_q(s, "value", v, "-period", 0, 0, 1, &used), "v2,v4,v5");
  assert_int_equal(used, 1);
  assert_string_equal(run_q(s, "value", v, "-period", 0, 0, 0, NULL), "v2,v4,v5");
  /* --deleted reads every record */
  assert_string_equal(run_q(s, "commitment", w, NULL, 0, 1, 1, &used), "c4");
  assert_int_equal(used, 0);
  done(s, dir);
}

/* Every row of lead in the index must name a visible record of that lead, and
 * every such record must have its row. */
static void check_rows(cairn_store_t *s, cairn_index_t ix, const char *lead) {
  const cairn_index_def_t *d = cairn_index_def(ix);
  char expr[64], sort[64];
  ids_t a = {{0}}, b = {{0}};
  snprintf(expr, sizeof expr, "%s=%s", d->lead, lead);
  snprintf(sort, sizeof sort, "%s", d->second);
  CAIRN_PASS(cairn_index_walk(s, ix, lead, NULL, NULL, add_id, &a));
  const char *exprs[] = {expr, NULL};
  snprintf(b.s, sizeof b.s, "%s", run_q(s, d->type, exprs, sort, 0, 0, 0, NULL));
  assert_string_equal(a.s, b.s);
}

static void random_date(cairn_test_rng_t *r, char *out, size_t n) {
  snprintf(out, n, "2026-%02u-%02u", 1 + (unsigned)cairn_test_rng_below(r, 12),
           1 + (unsigned)cairn_test_rng_below(r, 28));
}

static void random_period(cairn_test_rng_t *r, char *out, size_t n) {
  unsigned y = 2025 + (unsigned)cairn_test_rng_below(r, 2), k = (unsigned)cairn_test_rng_below(r, 3);
  if (k == 0)
    snprintf(out, n, "%u", y);
  else if (k == 1)
    snprintf(out, n, "%u-Q%u", y, 1 + (unsigned)cairn_test_rng_below(r, 4));
  else
    snprintf(out, n, "%u-%02u", y, 1 + (unsigned)cairn_test_rng_below(r, 12));
}

static void random_edit(cairn_store_t *s, cairn_test_rng_t *r) {
  static const char *const partners[] = {"p1", "p2", "p3"};
  static const char *const inds[] = {"i1", "i2"};
  char id[16], a[64], b[64];
  unsigned what = (unsigned)cairn_test_rng_below(r, 10);
  snprintf(id, sizeof id, "r%u", (unsigned)cairn_test_rng_below(r, 40));
  if (what == 0) {
    cairn_change_t *c;
    CAIRN_PASS(cairn_change_begin(s, &c));
    CAIRN_PASS(cairn_change_del(c, cairn_test_rng_below(r, 2) ? "commitment" : "value", id));
    CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
    return;
  }
  if (what < 6) {
    snprintf(a, sizeof a, "partner=%s", partners[cairn_test_rng_below(r, 3)]);
    random_date(r, b + 4, sizeof b - 4);
    memcpy(b, "due=", 4);
    if (cairn_test_rng_below(r, 5) == 0)
      b[4] = 0; /* no due date */
    put(s, "commitment", id, a, b, cairn_test_rng_below(r, 2) ? "status=done" : "status=planned",
        NULL);
    return;
  }
  snprintf(a, sizeof a, "indicator=%s", inds[cairn_test_rng_below(r, 2)]);
  memcpy(b, "period=", 7);
  random_period(r, b + 7, sizeof b - 7);
  put(s, "value", id, a, b, NULL);
}

static void test_index_random(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  cairn_test_rng_t r;
  (void)state;
  r.state = 20260501;
  put(s, "partner", "p1", "name=One", NULL);
  put(s, "partner", "p2", "name=Two", NULL);
  put(s, "partner", "p3", "name=Three", NULL);
  put(s, "result", "x", "title=X", NULL);
  put(s, "indicator", "i1", "title=I1", "result=x", NULL);
  put(s, "indicator", "i2", "title=I2", "result=x", NULL);
  for (int i = 0; i < 300; i++)
    random_edit(s, &r);
  for (int i = 0; i < 200; i++) {
    static const char *const ops[] = {"<", "<=", ">", ">=", "=", "!="};
    char e1[32], e2[48], e3[48], d[24];
    const char *exprs[4] = {e1, e2, NULL, NULL};
    const char *type, *sort;
    int used;
    int values = (int)cairn_test_rng_below(&r, 2);
    void (*random_second)(cairn_test_rng_t *, char *, size_t) =
        values ? random_period : random_date;
    const char *second = values ? "period" : "due";
    type = values ? "value" : "commitment";
    snprintf(e1, sizeof e1, values ? "indicator=i%u" : "partner=p%u",
             1 + (unsigned)cairn_test_rng_below(&r, values ? 2 : 3));
    random_second(&r, d, sizeof d);
    snprintf(e2, sizeof e2, "%s%s%s", second, ops[cairn_test_rng_below(&r, 6)], d);
    random_second(&r, d, sizeof d);
    snprintf(e3, sizeof e3, "%s%s%s", second, ops[cairn_test_rng_below(&r, 4)], d);
    sort = cairn_test_rng_below(&r, 2) ? (values ? "period" : "-due") : NULL;
    if (cairn_test_rng_below(&r, 2))
      exprs[2] = e3;
    ids_t with = {{0}};
    snprintf(with.s, sizeof with.s, "%s", run_q(s, type, exprs, sort, 0, 0, 1, &used));
    assert_int_equal(used, 1);
    assert_string_equal(with.s, run_q(s, type, exprs, sort, 0, 0, 0, NULL));
    if (i % 10 == 0)
      random_edit(s, &r);
  }
  for (int i = 1; i <= 3; i++) {
    char lead[8];
    snprintf(lead, sizeof lead, "p%d", i);
    check_rows(s, CAIRN_INDEX_COMMITMENT_PARTNER, lead);
    snprintf(lead, sizeof lead, "i%d", i);
    check_rows(s, CAIRN_INDEX_VALUE_INDICATOR, lead);
  }
  done(s, dir);
}

/* A late revocation judges every entry again: the index follows. */
static void test_index_recompute(void **state) {
  cairn_test_key_t owner, rob;
  cairn_store_t *s;
  char *dir;
  uint8_t *e;
  size_t len;
  uint8_t *ops;
  size_t ops_len;
  (void)state;
  cairn_test_key_init(&owner, NULL);
  cairn_test_key_init(&rob, NULL);
  CAIRN_PASS(cairn_test_store("Bea", &s, &dir));
  CAIRN_PASS(cairn_test_genesis(&owner, NULL, "Net", &e, &len));
  CAIRN_PASS(cairn_test_apply1(s, e, len, NULL));
  free(e);
  memcpy(rob.network, owner.network, CAIRN_KEY_BYTES);
  CAIRN_PASS(cairn_test_grant(&owner, rob.pk, "editor", &e, &len));
  CAIRN_PASS(cairn_test_apply1(s, e, len, NULL));
  free(e);
  /* the owner revokes Rob; this store does not know yet, and applies Rob's
   * commitment, signed after the revocation */
  uint8_t *revoke;
  size_t revoke_len;
  CAIRN_PASS(cairn_test_grant(&owner, rob.pk, "revoked", &revoke, &revoke_len));
  CAIRN_PASS(cairn_test_ops_put("commitment", "rob1", "partner", "p1", &ops, &ops_len));
  CAIRN_PASS(cairn_test_key_sign(&rob, ops, ops_len, &e, &len));
  free(ops);
  CAIRN_PASS(cairn_test_apply1(s, e, len, NULL));
  free(e);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p1", NULL, NULL), "rob1");
  /* the revocation, stamped before Rob's entry, arrives: Rob's commitment is
   * refused, kept as evidence, and its row goes */
  CAIRN_PASS(cairn_test_apply1(s, revoke, revoke_len, NULL));
  free(revoke);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p1", NULL, NULL), "");
  assert_string_equal(q1(s, "commitment", NULL, NULL), "");
  done(s, dir);
}

/* Make the store in dir look as a store of format 1 did: no `index`, version 1. */
static void to_format_1(const char *dir) {
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi dbi;
  uint8_t one = 1;
  MDB_val k = {7, (void *)"version"}, v = {1, &one};
  assert_int_equal(mdb_env_create(&env), 0);
  assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
  assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
  assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
  assert_int_equal(mdb_dbi_open(txn, "index", 0, &dbi), 0);
  assert_int_equal(mdb_drop(txn, dbi, 1), 0);
  assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
  assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
  assert_int_equal(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

/* The rows of `index` and the format version of the store in dir. */
static void format_of(const char *dir, size_t *rows, int *version) {
  MDB_env *env;
  MDB_txn *txn;
  MDB_dbi dbi;
  MDB_stat st;
  MDB_val k = {7, (void *)"version"}, v;
  assert_int_equal(mdb_env_create(&env), 0);
  assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
  assert_int_equal(mdb_env_open(env, dir, MDB_RDONLY, 0600), 0);
  assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
  *rows = 0;
  if (mdb_dbi_open(txn, "index", 0, &dbi) == 0 && mdb_stat(txn, dbi, &st) == 0)
    *rows = st.ms_entries;
  assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
  assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
  *version = *(uint8_t *)v.mv_data;
  mdb_txn_abort(txn);
  mdb_env_close(env);
}

static void test_old_store(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  cairn_store_opts_t ro = {0};
  cairn_error_t err = {0, ""};
  size_t rows;
  int version, used;
  const char *w[] = {"indicator=i1", "period<2026-Q2", NULL};
  (void)state;
  fill(s);
  cairn_close(s);
  format_of(dir, &rows, &version);
  assert_int_equal(version, 2);
  assert_int_equal(rows, 6 + 4); /* values and commitments */
  to_format_1(dir);
  format_of(dir, &rows, &version);
  assert_int_equal(rows, 0);
  assert_int_equal(version, 1);
  /* read-only: no index, the same results from the records */
  ro.read_only = 1;
  CAIRN_PASS(cairn_open(dir, &ro, &s, &err));
  assert_string_equal(walk(s, CAIRN_INDEX_VALUE_INDICATOR, "i1", NULL, "2026-03"), "v3,v5,v6,v4");
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c3,c4");
  assert_string_equal(run_q(s, "value", w, NULL, 0, 0, 1, &used), "v3,v4,v5,v6");
  assert_int_equal(used, 1);
  cairn_close(s);
  format_of(dir, &rows, &version);
  assert_int_equal(version, 1);
  /* opened for writing once: built, format 2 */
  CAIRN_PASS(cairn_open(dir, NULL, &s, &err));
  assert_string_equal(walk(s, CAIRN_INDEX_VALUE_INDICATOR, "i1", NULL, "2026-03"), "v3,v5,v6,v4");
  put(s, "commitment", "c5", "partner=p2", "due=2026-01-01", NULL);
  assert_string_equal(walk(s, CAIRN_INDEX_COMMITMENT_PARTNER, "p2", NULL, NULL), "c5,c3,c4");
  cairn_close(s);
  format_of(dir, &rows, &version);
  assert_int_equal(version, 2);
  assert_int_equal(rows, 6 + 5);
  free(dir);
  CAIRN_PASS(cairn_test_rmrf(dir));
}

static void test_types(void **state) {
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  cairn_schema_t *sc;
  cairn_type_count_t *v;
  size_t n;
  (void)state;
  fill(s);
  del(s, "commitment", "c4", 0);
  CAIRN_PASS(cairn_schema_load(s, &sc));
  CAIRN_PASS(cairn_types(s, sc, &v, &n));
  assert_int_equal(n, sc->ntypes);
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(v[i].type, sc->types[i].name);
    assert_string_equal(v[i].label, sc->types[i].label);
    uint64_t want = strcmp(v[i].type, "commitment") == 0 ? 3
                    : strcmp(v[i].type, "value") == 0     ? 6
                    : strcmp(v[i].type, "partner") == 0 || strcmp(v[i].type, "site") == 0 ? 2
                    : strcmp(v[i].type, "result") == 0 || strcmp(v[i].type, "indicator") == 0
                        ? 1
                        : 0;
    assert_int_equal(v[i].count, want);
  }
  cairn_types_free(v, n);
  cairn_schema_free(sc);
  done(s, dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_compare_kinds),    cmocka_unit_test(test_operators),
      cmocka_unit_test(test_search),
      cmocka_unit_test(test_sort_limit_deleted), cmocka_unit_test(test_errors),
      cmocka_unit_test(test_fields),           cmocka_unit_test(test_free_form),
      cmocka_unit_test(test_index_maintained), cmocka_unit_test(test_index_random),
      cmocka_unit_test(test_index_recompute),  cmocka_unit_test(test_old_store),
      cmocka_unit_test(test_types),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
