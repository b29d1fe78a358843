/*
 * test_schema.c — the network's schema (core/schema.c, core/validate.c,
 * client/lib/schema_doc.c): kinds and the forms of their values, text typed by
 * a field's kind, "did you mean", the checks of a local write, schema documents
 * applied (additions, renames, hiding, refusals), and `cairn check`'s walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn_test.h"
#include "mpread.h"

/* ---- a store with the default schema ---- */

typedef struct fx {
  cairn_store_t *s;
  char *dir;
  cairn_schema_t *sc;
} fx_t;

static void fx_open(fx_t *f, int with_schema) {
  cairn_error_t err = {0, ""};
  uint8_t net[CAIRN_KEY_BYTES];
  memset(f, 0, sizeof *f);
  CAIRN_PASS(cairn_test_store("ana", &f->s, &f->dir));
  CAIRN_PASS(cairn_store_network_create(f->s, "Schema test", net, &err));
  if (with_schema && cairn_schema_apply(f->s, cairn_schema_default(), NULL, &err) != 0)
    fail_msg("default schema: %s", err.msg);
  CAIRN_PASS(cairn_schema_load(f->s, &f->sc));
}

static void fx_reload(fx_t *f) {
  cairn_schema_free(f->sc);
  CAIRN_PASS(cairn_schema_load(f->s, &f->sc));
}

static void fx_close(fx_t *f) {
  cairn_schema_free(f->sc);
  cairn_close(f->s);
  cairn_test_rmrf(f->dir);
  free(f->dir);
}

/* Put fields given as text (name, text, name, text..., NULL) on (type, id) as
 * one change; the result of the put or the commit, with err. */
static int put_texts(cairn_store_t *s, const char *type, const char *id, cairn_error_t *err,
                     ...) {
  cairn_change_t *c;
  va_list ap;
  const char *name;
  int rc = cairn_change_begin(s, &c);
  if (rc != 0)
    return rc;
  memset(err, 0, sizeof *err);
  va_start(ap, err);
  while (rc == 0 && (name = va_arg(ap, const char *)) != NULL)
    rc = cairn_change_put_text(c, type, id, name, va_arg(ap, const char *), 0, err);
  va_end(ap);
  if (rc != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cairn_change_commit(c, NULL, err);
}

/* Put one field from JSON text: what `cairn put TYPE ID field:=JSON` does. */
static int put_json(cairn_store_t *s, const char *type, const char *id, const char *field,
                    const char *json, cairn_error_t *err) {
  cairn_change_t *c;
  int rc = cairn_change_begin(s, &c);
  if (rc != 0)
    return rc;
  memset(err, 0, sizeof *err);
  if ((rc = cairn_change_put_json(c, type, id, field, json, 0, err)) != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cairn_change_commit(c, NULL, err);
}

static uint64_t own_seq(cairn_store_t *s) {
  uint64_t seq;
  CAIRN_PASS(cairn_store_head_seq(s, cairn_store_key(s), &seq));
  return seq;
}

/* ---- kinds, forms and text ---- */

static void test_kinds(void **state) {
  cairn_kind_t k;
  (void)state;
  for (int i = CAIRN_KIND_TEXT; i <= CAIRN_KIND_JSON; i++) {
    const char *name = cairn_kind_name((cairn_kind_t)i);
    assert_int_equal(cairn_kind_parse(name, strlen(name), &k), 1);
    assert_int_equal(k, i);
  }
  assert_int_equal(cairn_kind_parse("dat", 3, &k), 0);
  assert_string_equal(cairn_kind_name((cairn_kind_t)99), "json");
}

static void test_suggest(void **state) {
  const char *const statuses[] = {"planned", "in-progress", "done", "at-risk", "dropped"};
  const char *const types[] = {"partner", "person", "commitment"};
  (void)state;
  assert_string_equal(cairn_suggest("plannned", statuses, 5), "planned");
  assert_string_equal(cairn_suggest("Planned", statuses, 5), "planned");
  assert_string_equal(cairn_suggest("dnoe", statuses, 5), "done"); /* a transposition */
  assert_string_equal(cairn_suggest("comitment", types, 3), "commitment");
  assert_null(cairn_suggest("budget", types, 3));
  assert_null(cairn_suggest("x", statuses, 5));
  /* a record: by id, by name, by a word of the name, or none */
  const char *const ids[] = {"lib", "sch", "p9"};
  const char *const names[] = {"Lincoln Library", "Lincoln Elementary", NULL};
  char out[200];
  cairn_suggest_record("lbi", ids, names, 3, out, sizeof out);
  assert_string_equal(out, "; did you mean lib (Lincoln Library)?");
  cairn_suggest_record("Lincoln Elementry", ids, names, 3, out, sizeof out);
  assert_string_equal(out, "; did you mean sch (Lincoln Elementary)?");
  cairn_suggest_record("libary", ids, names, 3, out, sizeof out);
  assert_string_equal(out, "; did you mean lib (Lincoln Library)?");
  cairn_suggest_record("p8", ids, names, 3, out, sizeof out);
  assert_string_equal(out, "; did you mean p9?");
  cairn_suggest_record("zzzz", ids, names, 3, out, sizeof out);
  assert_string_equal(out, "");
}

/* The field of the default schema named type.field. */
static const cairn_schema_field_t *field_of(const fx_t *f, const char *type, const char *name) {
  const cairn_schema_type_t *t = cairn_schema_type(f->sc, type);
  assert_non_null(t);
  const cairn_schema_field_t *fd = cairn_schema_field(t, name);
  assert_non_null(fd);
  return fd;
}

/* Type text by a field's kind: 0 and the value as JSON text, or the error. */
static int typed(const fx_t *f, const char *type, const char *name, const char *text,
                 char **json, cairn_error_t *err) {
  const cairn_schema_type_t *t = cairn_schema_type(f->sc, type);
  uint8_t *mp;
  size_t len;
  memset(err, 0, sizeof *err);
  *json = NULL;
  int rc = cairn_schema_parse_text(t, field_of(f, type, name), "x1", text, &mp, &len, err);
  if (rc == 0) {
    CAIRN_PASS(cairn_value_json(mp, len, json));
    free(mp);
  }
  return rc;
}

static void expect_typed(const fx_t *f, const char *type, const char *name, const char *text,
                         const char *want) {
  cairn_error_t err;
  char *json;
  if (typed(f, type, name, text, &json, &err) != 0)
    fail_msg("%s.%s = '%s': %s", type, name, text, err.msg);
  assert_string_equal(json, want);
  cairn_free(json);
}

static void expect_refused(const fx_t *f, const char *type, const char *name, const char *text,
                           const char *msg_part) {
  cairn_error_t err;
  char *json;
  assert_int_equal(typed(f, type, name, text, &json, &err), CAIRN_ESCHEMA);
  assert_null(json);
  assert_contains(err.msg, msg_part);
}

static void test_parse_text(void **state) {
  fx_t f;
  (void)state;
  fx_open(&f, 1);
  expect_typed(&f, "value", "actual", "40", "40");
  expect_typed(&f, "value", "actual", "2.5", "2.5");
  expect_typed(&f, "value", "actual", "-3", "-3");
  expect_typed(&f, "value", "actual", "", "null"); /* no value */
  expect_refused(&f, "value", "actual", "forty", "value x1: actual \"forty\" is not a number");
  expect_refused(&f, "value", "actual", "nan", "is not a number");
  expect_typed(&f, "value", "period", "2026", "\"2026\"");
  expect_typed(&f, "value", "period", "2026-Q2", "\"2026-Q2\"");
  expect_typed(&f, "value", "period", "2026-05", "\"2026-05\"");
  expect_refused(&f, "value", "period", "2026-Q5", "is not a period (2026, 2026-Q2 or 2026-05)");
  expect_refused(&f, "value", "period", "2026-13", "is not a period");
  expect_refused(&f, "value", "period", "26", "is not a period");
  expect_typed(&f, "commitment", "due", "2024-02-29", "\"2024-02-29\"");
  expect_refused(&f, "commitment", "due", "2026-02-29", "is not a date (YYYY-MM-DD)");
  expect_refused(&f, "commitment", "due", "next friday", "due \"next friday\" is not a date");
  expect_refused(&f, "commitment", "due", "2026-1-5", "is not a date");
  expect_typed(&f, "commitment", "status", "at-risk", "\"at-risk\"");
  expect_refused(&f, "commitment", "status", "plannned",
                 "status \"plannned\" is not one of planned, in-progress, done, at-risk, "
                 "dropped; did you mean planned?");
  expect_refused(&f, "commitment", "status", "someday", "is not one of planned");
  expect_typed(&f, "partner", "sites", "s1, s2 ,s3", "[\"s1\",\"s2\",\"s3\"]");
  expect_typed(&f, "partner", "sites", "s1", "[\"s1\"]");
  expect_typed(&f, "partner", "name", "", "\"\""); /* text keeps empty text */
  fx_close(&f);
}

/* The forms checked on values given as JSON (any client's). */
static void test_check_value(void **state) {
  static const struct {
    const char *type, *field, *json;
    int ok;
  } cases[] = {
      {"value", "actual", "47", 1},        {"value", "actual", "4.5", 1},
      {"value", "actual", "\"47\"", 0},    {"value", "actual", "true", 0},
      {"rating", "score", "3", 1},         {"goal", "scale_min", "[1]", 0},
      {"commitment", "due", "\"2027-01-15\"", 1}, {"commitment", "due", "20270115", 0},
      {"partner", "sites", "[\"a\",\"b\"]", 1},   {"partner", "sites", "[\"a\",2]", 0},
      {"partner", "sites", "\"a\"", 0},           {"partner", "sites", "[\"\"]", 0},
      {"partner", "name", "null", 1}, /* absent: required is checked elsewhere */
  };
  fx_t f;
  (void)state;
  fx_open(&f, 1);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t *mp;
    size_t len;
    cairn_error_t err = {0, ""};
    const cairn_schema_type_t *t = cairn_schema_type(f.sc, cases[i].type);
    CAIRN_PASS(cairn_value_from_json_text(cases[i].json, &mp, &len, NULL));
    int rc = cairn_schema_check_value(t, field_of(&f, cases[i].type, cases[i].field), NULL, mp,
                                      len, &err);
    if ((rc == 0) != cases[i].ok)
      fail_msg("%s.%s = %s: rc %d (%s)", cases[i].type, cases[i].field, cases[i].json, rc,
               err.msg);
    cairn_free(mp);
  }
  /* a datetime's forms */
  static const char *const times[] = {"\"2026-05-01T10:30\"", "\"2026-05-01T10:30:05Z\"",
                                      "\"2026-05-01 10:30:05.123+02:00\""};
  static const char *const bad_times[] = {"\"2026-05-01\"", "\"2026-05-01T25:00\"",
                                          "\"2026-05-01T10:30+2\""};
  cairn_schema_field_t dt = *field_of(&f, "value", "period");
  dt.kind = CAIRN_KIND_DATETIME;
  for (size_t i = 0; i < 3; i++) {
    uint8_t *mp;
    size_t len;
    CAIRN_PASS(cairn_value_from_json_text(times[i], &mp, &len, NULL));
    CAIRN_PASS(cairn_schema_check_value(cairn_schema_type(f.sc, "value"), &dt, NULL, mp, len,
                                        NULL));
    cairn_free(mp);
    CAIRN_PASS(cairn_value_from_json_text(bad_times[i], &mp, &len, NULL));
    CAIRN_FAIL(cairn_schema_check_value(cairn_schema_type(f.sc, "value"), &dt, NULL, mp, len,
                                        NULL), CAIRN_ESCHEMA);
    cairn_free(mp);
  }
  fx_close(&f);
}

/* ---- a local write ---- */

static void test_write_checks(void **state) {
  cairn_error_t err;
  fx_t f;
  (void)state;
  fx_open(&f, 1);
  uint64_t seq = own_seq(f.s);
  CAIRN_PASS(put_texts(f.s, "partner", "lib", &err, "name", "Lincoln Library", "kind",
                       "nonprofit", NULL));
  static const struct {
    const char *type, *field, *text, *msg;
  } refused[] = {
      /* a type, a field */
      {"comitment", "title", "x",
       "no record type \"comitment\" in this network's schema; did you mean commitment?"},
      {"commitment", "stauts", "done", "commitment has no field \"stauts\"; did you mean status?"},
      /* a reference: by id, by a word of the name, or nothing near */
      {"commitment", "partner", "lbi",
       "commitment c1: partner \"lbi\" names no partner; did you mean lib (Lincoln Library)?"},
      {"commitment", "partner", "libary",
       "commitment c1: partner \"libary\" names no partner; did you mean lib (Lincoln "
       "Library)?"},
      {"commitment", "partner", "zzzzzz", "commitment c1: partner \"zzzzzz\" names no partner"},
      /* required: on a new record (then kept by later puts, never emptied) */
      {"commitment", "title", "Tutor", "commitment c1: partner is required; give it a value"},
  };
  for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
    CAIRN_FAIL(put_texts(f.s, refused[i].type, "c1", &err, refused[i].field, refused[i].text,
                         NULL), CAIRN_ESCHEMA);
    assert_string_equal(err.msg, refused[i].msg);
  }
  assert_int_equal(own_seq(f.s), seq + 1); /* nothing refused was signed */
  CAIRN_PASS(put_texts(f.s, "commitment", "c1", &err, "partner", "lib", "due", "2027-01-15",
                       "status", "planned", NULL));
  CAIRN_PASS(put_texts(f.s, "commitment", "c1", &err, "status", "done", NULL));
  CAIRN_FAIL(put_json(f.s, "commitment", "c1", "partner", "null", &err), CAIRN_ESCHEMA);
  assert_contains(err.msg, "partner is required");
  /* typed JSON values are checked at commit */
  CAIRN_FAIL(put_json(f.s, "commitment", "c1", "due", "20270115", &err), CAIRN_ESCHEMA);
  assert_string_equal(err.msg, "commitment c1: due a number is not a date (YYYY-MM-DD)");
  CAIRN_FAIL(put_json(f.s, "partner", "lib", "sites", "[\"nowhere\"]", &err), CAIRN_ESCHEMA);
  assert_contains(err.msg, "sites \"nowhere\" names no site");
  /* stored typed: a number is a number */
  CAIRN_PASS(put_texts(f.s, "indicator", "i1", &err, "title", "Reading", "baseline", "40",
                       NULL));
  assert_int_equal(own_seq(f.s), seq + 4);
  CAIRN_PASS(put_texts(f.s, "value", "v1", &err, "indicator", "i1", "period", "2026-Q2",
                       "actual", "47", NULL));
  cairn_schema_free(f.sc);
  f.sc = NULL;
  fx_close(&f);
}

/* A network without a schema accepts anything, as text. */
static void test_free_form(void **state) {
  cairn_error_t err;
  fx_t f;
  (void)state;
  fx_open(&f, 0);
  assert_int_equal(f.sc->ntypes, 0);
  CAIRN_PASS(put_texts(f.s, "anything", "a1", &err, "count", "40", "x", "", NULL));
  assert_string_equal(cairn_test_field_text(f.s, "anything", "a1", "count"), "40");
  fx_close(&f);
}

/* ---- documents ---- */

static int apply(fx_t *f, const char *doc, cairn_schema_changes_t *ch, cairn_error_t *err) {
  memset(err, 0, sizeof *err);
  int rc = cairn_schema_apply(f->s, doc, ch, err);
  fx_reload(f);
  return rc;
}

static void test_apply_doc(void **state) {
  cairn_schema_changes_t ch;
  cairn_error_t err;
  fx_t f;
  (void)state;
  fx_open(&f, 1);
  CAIRN_PASS(put_texts(f.s, "partner", "p1", &err, "name", "Lincoln", NULL));
  CAIRN_PASS(put_texts(f.s, "commitment", "c1", &err, "partner", "p1", "due", "2027-01-15",
                       NULL));
  uint64_t seq = own_seq(f.s);
  /* the same schema again writes nothing */
  CAIRN_PASS(apply(&f, cairn_schema_default(), &ch, &err));
  assert_int_equal(ch.types_added + ch.fields_added + ch.fields_changed + ch.renamed, 0);
  assert_int_equal(own_seq(f.s), seq);
  /* add a type, a field, an enum value; rename a field; hide one */
  CAIRN_PASS(apply(&f,
                   "{\"types\":[{\"name\":\"grant\",\"label\":\"Grant\",\"fields\":["
                   "{\"name\":\"amount\",\"kind\":\"number\",\"required\":true},"
                   "{\"name\":\"funder\",\"kind\":\"ref\",\"ref\":\"partner\"}]},"
                   "{\"name\":\"commitment\",\"fields\":["
                   "{\"name\":\"status\",\"values\":[\"planned\",\"in-progress\",\"done\","
                   "\"at-risk\",\"dropped\",\"paused\"]},"
                   "{\"name\":\"due_on\",\"renamed_from\":\"due\"},"
                   "{\"name\":\"evidence\",\"hidden\":true}]}]}",
                   &ch, &err));
  assert_int_equal(ch.types_added, 1);
  assert_int_equal(ch.fields_added, 2);
  assert_int_equal(ch.renamed, 1);
  assert_int_equal(ch.hidden, 1);
  assert_int_equal(own_seq(f.s), seq + 1); /* one entry */
  CAIRN_PASS(put_texts(f.s, "commitment", "c1", &err, "status", "paused", NULL));
  /* the old name is refused, the new one shows the value written under the old */
  CAIRN_FAIL(put_texts(f.s, "commitment", "c1", &err, "due", "2027-02-01", NULL),
             CAIRN_ESCHEMA);
  assert_string_equal(err.msg, "commitment field due was renamed to due_on; write due_on "
                               "instead");
  CAIRN_FAIL(put_texts(f.s, "commitment", "c1", &err, "evidence", "x", NULL), CAIRN_ESCHEMA);
  assert_string_equal(err.msg, "commitment field evidence was removed from the schema");
  /* refused changes: a kind, a ref, a value removed, a bad document */
  CAIRN_FAIL(apply(&f, "{\"types\":[{\"name\":\"grant\",\"fields\":[{\"name\":\"amount\","
                       "\"kind\":\"text\"}]}]}", &ch, &err), CAIRN_ESCHEMA);
  assert_contains(err.msg, "grant.amount has kind number, which cannot change to text");
  CAIRN_FAIL(apply(&f, "{\"types\":[{\"name\":\"commitment\",\"fields\":[{\"name\":\"status\","
                       "\"values\":[\"planned\"]}]}]}", &ch, &err), CAIRN_ESCHEMA);
  assert_contains(err.msg, "value in-progress cannot be removed");
  CAIRN_FAIL(apply(&f, "{\"types\":[{\"name\":\"x\",\"fields\":[{\"name\":\"a\",\"kind\":"
                       "\"dat\"}]}]}", &ch, &err), CAIRN_ESCHEMA);
  assert_contains(err.msg, "kind \"dat\" is not a kind; did you mean date?");
  CAIRN_FAIL(apply(&f, "{\"types\":[{\"name\":\"x\",\"feilds\":[]}]}", &ch, &err),
             CAIRN_ESCHEMA);
  assert_contains(err.msg, "no key \"feilds\"; did you mean fields?");
  CAIRN_FAIL(apply(&f, "{\"types\":[{\"name\":\"x\",\"fields\":[{\"name\":\"a\",\"kind\":"
                       "\"ref\",\"ref\":\"nothing\"}]}]}", &ch, &err), CAIRN_ESCHEMA);
  CAIRN_FAIL(apply(&f, "{\"types\":[{\"name\":\"X\"}]}", &ch, &err), CAIRN_ESCHEMA);
  CAIRN_FAIL(apply(&f, "[1,2", &ch, &err), CAIRN_ESCHEMA);
  assert_int_equal(own_seq(f.s), seq + 2);
  /* the schema printed back applies as no change at all */
  json_t *doc = cairn_schema_to_json(f.sc, NULL);
  char *text = json_dumps(doc, JSON_COMPACT);
  CAIRN_PASS(apply(&f, text, &ch, &err));
  assert_int_equal(ch.types_added + ch.types_changed + ch.fields_added + ch.fields_changed +
                       ch.renamed, 0);
  assert_int_equal(own_seq(f.s), seq + 2);
  free(text);
  json_decref(doc);
  fx_close(&f);
}

/* A renamed field shows its old value under its new name; hidden fields do not
 * show. */
static int collect(const cairn_record_field_t *fd, void *ud) {
  cairn_test_text_t *t = ud;
  char *json;
  CAIRN_PASS(cairn_value_json(fd->value, fd->value_len, &json));
  cairn_test_text_printf(t, "%.*s=%s ", (int)fd->name_len, fd->name, json);
  cairn_free(json);
  return 0;
}

typedef struct view {
  const cairn_schema_t *sc;
  cairn_test_text_t out;
} view_t;

static int view_record(const cairn_record_t *r, void *ud) {
  view_t *v = ud;
  cairn_schema_fields(v->sc, r, collect, &v->out);
  return 0;
}

static void test_view_renamed(void **state) {
  cairn_error_t err;
  fx_t f;
  view_t v;
  (void)state;
  fx_open(&f, 1);
  CAIRN_PASS(put_texts(f.s, "partner", "p1", &err, "name", "Lincoln", "notes", "old", NULL));
  CAIRN_PASS(put_texts(f.s, "commitment", "c1", &err, "partner", "p1", "due", "2027-01-15",
                       "evidence", "report", NULL));
  CAIRN_PASS(apply(&f, "{\"types\":[{\"name\":\"commitment\",\"fields\":["
                       "{\"name\":\"due_on\",\"renamed_from\":\"due\"},"
                       "{\"name\":\"evidence\",\"hidden\":true}]}]}", NULL, &err));
  memset(&v, 0, sizeof v);
  v.sc = f.sc;
  CAIRN_PASS(cairn_get(f.s, "commitment", "c1", view_record, &v));
  assert_string_equal(v.out.p, "partner=\"p1\" due_on=\"2027-01-15\" ");
  cairn_test_text_reset(&v.out);
  /* the new name written wins over the alias */
  CAIRN_PASS(put_texts(f.s, "commitment", "c1", &err, "due_on", "2027-03-01", NULL));
  CAIRN_PASS(cairn_get(f.s, "commitment", "c1", view_record, &v));
  assert_string_equal(v.out.p, "partner=\"p1\" due_on=\"2027-03-01\" ");
  cairn_test_text_free(&v.out);
  fx_close(&f);
}

/* ---- cairn check ---- */

typedef struct problems {
  size_t n;
  cairn_test_text_t text;
} problems_t;

static int one_problem(const cairn_record_t *r, const char *field, const char *why, void *ud) {
  problems_t *p = ud;
  (void)r;
  p->n++;
  cairn_test_text_printf(&p->text, "%s|%s\n", field ? field : "-", why);
  return 0;
}

static void test_check_walk(void **state) {
  cairn_error_t err;
  problems_t p;
  fx_t f;
  uint8_t *ops;
  size_t len;
  (void)state;
  fx_open(&f, 1);
  memset(&p, 0, sizeof p);
  CAIRN_PASS(put_texts(f.s, "partner", "p1", &err, "name", "Lincoln", NULL));
  CAIRN_PASS(put_texts(f.s, "commitment", "c1", &err, "partner", "p1", "status", "planned",
                       NULL));
  CAIRN_PASS(cairn_schema_check(f.s, one_problem, &p));
  assert_int_equal(p.n, 0);
  /* a device behind on the schema wrote these: received, never refused */
  cairn_test_key_t dan;
  cairn_change_t *c;
  uint8_t *entry;
  size_t elen;
  cairn_test_key_init(&dan, NULL);
  CAIRN_PASS(cairn_store_network(f.s, dan.network));
  CAIRN_PASS(cairn_change_begin(f.s, &c));
  CAIRN_PASS(cairn_change_member(c, dan.pk, CAIRN_ROLE_EDITOR, "Dan", NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  CAIRN_PASS(cairn_test_ops_put("commitment", "c1", "status", "someday", &ops, &len));
  /* a second later than the owner's (an empty base: the greater stamp shows) */
  CAIRN_PASS(cairn_test_key_sign_at(&dan, (cairn_now_ms() + 1000) << 16, ops, len, &entry,
                                    &elen));
  CAIRN_PASS(cairn_test_apply1(f.s, entry, elen, NULL));
  free(ops);
  free(entry);
  CAIRN_PASS(cairn_test_ops_put("budget", "b1", "amount", "x", &ops, &len));
  CAIRN_PASS(cairn_test_key_sign_at(&dan, (cairn_now_ms() + 1001) << 16, ops, len, &entry,
                                    &elen));
  CAIRN_PASS(cairn_test_apply1(f.s, entry, elen, NULL));
  free(ops);
  free(entry);
  assert_string_equal(cairn_test_field_text(f.s, "commitment", "c1", "status"), "someday");
  CAIRN_PASS(cairn_schema_apply(f.s, "{\"types\":[{\"name\":\"partner\",\"fields\":["
                                     "{\"name\":\"stage\",\"required\":true}]}]}", NULL, &err));
  CAIRN_PASS(cairn_schema_check(f.s, one_problem, &p));
  assert_string_equal(p.text.p,
                      "-|budget b1: the schema has no type budget\n"
                      "status|commitment c1: status \"someday\" is not one of planned, "
                      "in-progress, done, at-risk, dropped\n"
                      "stage|partner p1: stage is required\n");
  assert_int_equal(p.n, 3);
  cairn_test_text_free(&p.text);
  fx_close(&f);
}

/* The store's shared schema follows changes that arrive from others. */
static void test_cache(void **state) {
  cairn_test_key_t adm;
  cairn_schema_t *a, *b;
  cairn_change_t *c;
  cairn_error_t err;
  uint8_t *ops, *entry;
  size_t len, elen;
  fx_t f;
  (void)state;
  fx_open(&f, 1);
  CAIRN_PASS(cairn_schema_load(f.s, &a));
  CAIRN_PASS(cairn_schema_load(f.s, &b));
  assert_ptr_equal(a, b); /* shared while nothing changes */
  cairn_schema_free(b);
  assert_null(cairn_schema_type(a, "grant"));
  cairn_test_key_init(&adm, NULL);
  CAIRN_PASS(cairn_store_network(f.s, adm.network));
  CAIRN_PASS(cairn_change_begin(f.s, &c));
  CAIRN_PASS(cairn_change_member(c, adm.pk, CAIRN_ROLE_ADMIN, "Adm", NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  CAIRN_PASS(cairn_test_ops_put("_schema", "grant.amount", "kind", "number", &ops, &len));
  CAIRN_PASS(cairn_test_key_sign_at(&adm, (cairn_now_ms() + 1000) << 16, ops, len, &entry,
                                    &elen));
  CAIRN_PASS(cairn_test_apply1(f.s, entry, elen, NULL));
  free(ops);
  free(entry);
  CAIRN_PASS(cairn_schema_load(f.s, &b));
  assert_ptr_not_equal(a, b);
  assert_non_null(cairn_schema_type(b, "grant"));
  assert_null(cairn_schema_type(a, "grant")); /* a reference held stays as it was */
  cairn_schema_free(a);
  cairn_schema_free(b);
  /* the commit's check sees it too */
  CAIRN_PASS(put_texts(f.s, "grant", "g1", &err, "amount", "5000", NULL));
  CAIRN_FAIL(put_texts(f.s, "grant", "g1", &err, "amount", "lots", NULL), CAIRN_ESCHEMA);
  fx_close(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_kinds),        cmocka_unit_test(test_suggest),
      cmocka_unit_test(test_parse_text),   cmocka_unit_test(test_check_value),
      cmocka_unit_test(test_write_checks), cmocka_unit_test(test_free_form),
      cmocka_unit_test(test_apply_doc),    cmocka_unit_test(test_view_renamed),
      cmocka_unit_test(test_check_walk),  cmocka_unit_test(test_cache),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
