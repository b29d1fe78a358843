/*
 * test_import.c — import and export (client/lib/import.c, export.c) and the
 * commit of a change as several entries in one transaction (core/change.c):
 * CSV as spreadsheets write it (a byte order mark, CRLF, quoted commas, quotes
 * and line breaks, empty cells, short and long rows), every error with its
 * line and column and nothing written, all or none when the second of several
 * entries fails, references within the file, updates, JSON, dry runs, ids, and
 * an export that imports back unchanged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "cairn_test.h"

/* ---- fixtures ---- */

typedef struct errs {
  char text[64][600];
  char column[64][80];
  size_t line[64];
  size_t n;
} errs_t;

static void keep_error(const cairn_import_error_t *e, void *ud) {
  errs_t *x = ud;
  if (x->n >= 64)
    return;
  snprintf(x->text[x->n], sizeof x->text[0], "%s", e->text);
  snprintf(x->column[x->n], sizeof x->column[0], "%s", e->column ? e->column : "");
  x->line[x->n++] = e->line;
}

/* Whether some error's text holds needle. */
static int has_error(const errs_t *x, const char *needle) {
  for (size_t i = 0; i < x->n; i++)
    if (strstr(x->text[i], needle) != NULL)
      return 1;
  return 0;
}

static void print_errors(const errs_t *x) {
  for (size_t i = 0; i < x->n; i++)
    print_message("  %s\n", x->text[i]);
}

/* A store owning a network with the default schema (opts may be NULL). */
static cairn_store_t *store_with(const cairn_store_opts_t *opts, const char *schema, char **dir) {
  cairn_store_t *s;
  cairn_error_t err = {0, ""};
  uint8_t net[CAIRN_KEY_BYTES];
  CAIRN_PASS(cairn_test_store_opts("ana", opts, &s, dir));
  CAIRN_PASS(cairn_store_network_create(s, "Import tests", net, &err));
  if (schema != NULL && cairn_schema_apply(s, schema, NULL, &err) != 0)
    fail_msg("schema apply: %s", err.msg);
  return s;
}

static cairn_store_t *store_default(char **dir) {
  return store_with(NULL, cairn_schema_default(), dir);
}

static void store_done(cairn_store_t *s, char *dir) {
  cairn_close(s);
  cairn_test_rmrf(dir);
  free(dir);
}

static int import_text(cairn_store_t *s, const char *type, cairn_format_t fmt, const char *text,
                       const cairn_import_opts_t *opts, errs_t *x, cairn_import_result_t *res) {
  cairn_error_t err = {0, ""};
  memset(x, 0, sizeof *x);
  return cairn_import(s, type, fmt, text, strlen(text), opts, keep_error, x, res, &err);
}

/* The record as `get --json` shows it (raw fields, name order), or "" if absent. */
static int copy_json(const cairn_record_t *r, void *ud) {
  char *json;
  CAIRN_PASS(cairn_record_json(r, &json));
  snprintf(ud, 1024, "%s", json);
  cairn_free(json);
  return 0;
}

static const char *record_json(cairn_store_t *s, const char *type, const char *id) {
  static char buf[1024];
  buf[0] = 0;
  int rc = cairn_get(s, type, id, copy_json, buf);
  assert_true(rc == 0 || rc == CAIRN_ENOENT);
  return buf;
}

static uint64_t own_seq(cairn_store_t *s) {
  uint64_t seq = 0;
  CAIRN_PASS(cairn_store_head_seq(s, cairn_store_key(s), &seq));
  return seq;
}

static int count_one(const cairn_record_t *r, void *ud) {
  (void)r;
  (*(size_t *)ud)++;
  return 0;
}

static size_t count_type(cairn_store_t *s, const char *type) {
  size_t n = 0;
  CAIRN_PASS(cairn_list(s, type, NULL, 0, count_one, &n));
  return n;
}

/* ---- CSV as spreadsheets write it ---- */

static void test_csv_forms(void **state) {
  (void)state;
  char *dir;
  cairn_store_t *s = store_default(&dir);
  cairn_import_result_t res;
  errs_t x;
  /* BOM, CRLF, a label for a header, quoted commas, quotes and a line break,
   * spaces around unquoted cells, an empty cell, a short row, blank lines, a
   * row of empty cells, trailing empty header cells */
  const char *csv = "\xef\xbb\xbf_id,Name,kind,notes,,\r\n"
                    "p1,\"Acme, Inc\",school,\"Said \"\"yes\"\"\r\nthen left\"\r\n"
                    "\r\n"
                    "p2 ,  Beta Clinic  ,clinic,\r\n"
                    ",,,\r\n"
                    "p3,Gamma\r\n"
                    "p4,\"  padded  \",,\"\"\r\n";
  int rc = import_text(s, "partner", CAIRN_FORMAT_CSV, csv, NULL, &x, &res);
  print_errors(&x);
  CAIRN_PASS(rc);
  assert_int_equal(res.rows, 4);
  assert_int_equal(res.created, 4);
  assert_int_equal(res.entries, 1);
  assert_string_equal(record_json(s, "partner", "p1"),
                      "{\"_type\":\"partner\",\"_id\":\"p1\",\"kind\":\"school\",\"name\":\"Acme, "
                      "Inc\",\"notes\":\"Said \\\"yes\\\"\\r\\nthen left\"}");
  assert_string_equal(record_json(s, "partner", "p2"),
                      "{\"_type\":\"partner\",\"_id\":\"p2\",\"kind\":\"clinic\",\"name\":\"Beta "
                      "Clinic\"}");
  assert_string_equal(record_json(s, "partner", "p3"),
                      "{\"_type\":\"partner\",\"_id\":\"p3\",\"name\":\"Gamma\"}");
  assert_string_equal(record_json(s, "partner", "p4"),
                      "{\"_type\":\"partner\",\"_id\":\"p4\",\"name\":\"  padded  \"}");
  /* line numbers count the line break inside the quoted cell, CRLF as one, and
   * the blank line: the bad row is on line 4 */
  csv = "_id,name,stage\n"
        "p5,\"two\nlines\",lead\r\n"
        "\n"
        "p6,Six,leed\n";
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, csv, NULL, &x, &res), CAIRN_ESCHEMA);
  assert_int_equal(x.n, 1);
  assert_int_equal(x.line[0], 5);
  assert_string_equal(x.column[0], "stage");
  assert_true(has_error(&x, "line 5, column stage: partner p6: stage \"leed\" is not one of "));
  assert_true(has_error(&x, "did you mean lead?"));
  assert_string_equal(record_json(s, "partner", "p5"), "");
  store_done(s, dir);
}

/* ---- errors: each with its place, all of them, nothing written ---- */

static void test_errors(void **state) {
  (void)state;
  char *dir;
  cairn_store_t *s = store_default(&dir);
  cairn_import_result_t res;
  errs_t x;
  CAIRN_PASS(import_text(s, "partner", CAIRN_FORMAT_CSV, "_id,name\np1,Acme School\n", NULL,
                         &x, &res));
  uint64_t seq = own_seq(s);
  const char *csv = "_id,partner,title,due,statuss\n"             /* 1 */
                    "c1,p1,Tutor,2027-01-15,planned\n"             /* 2 */
                    "c2,p9,Mentor,2027-13-01,planned\n"            /* 3 */
                    "c3,Acme School,Read,,plannned\n"              /* 4 */
                    "c4,,Nothing,,\n"                              /* 5 */
                    "c1,p1,Again,,\n"                              /* 6 */
                    "c6,p1,Long,,,extra\n";                        /* 7 */
  CAIRN_FAIL(import_text(s, "commitment", CAIRN_FORMAT_CSV, csv, NULL, &x, &res), CAIRN_ESCHEMA);
  print_errors(&x);
  assert_true(has_error(&x, "line 1, column statuss: commitment has no field \"statuss\"; did "
                            "you mean status?"));
  assert_true(has_error(&x, "line 3, column partner: commitment c2: partner \"p9\" names no "
                            "partner; did you mean p1 (Acme School)?"));
  assert_true(has_error(&x, "line 3, column due: commitment c2: due \"2027-13-01\" is not a "
                            "date (YYYY-MM-DD)"));
  assert_true(has_error(&x, "line 4, column partner: commitment c3: partner \"Acme School\" "
                            "names no partner; did you mean p1 (Acme School)?"));
  assert_true(has_error(&x, "line 5, column partner: commitment c4: partner is required"));
  assert_true(has_error(&x, "line 6, column _id: commitment c1 is also on line 2"));
  assert_true(has_error(&x, "line 7: 6 cells, but the header names 5 columns"));
  assert_int_equal(res.errors, 7);
  assert_int_equal(x.n, 7);
  for (size_t i = 1; i < x.n; i++) /* in file order */
    assert_true(x.line[i - 1] <= x.line[i]);
  assert_int_equal(own_seq(s), seq);
  assert_int_equal(count_type(s, "commitment"), 0);

  /* the cap: 3 given, all counted */
  cairn_import_opts_t opts = {NULL, 0, 3};
  CAIRN_FAIL(import_text(s, "commitment", CAIRN_FORMAT_CSV, csv, &opts, &x, &res),
             CAIRN_ESCHEMA);
  assert_int_equal(x.n, 3);
  assert_int_equal(res.errors, 7);
  assert_int_equal(x.line[0], 1);

  /* not CSV: the line of the fault */
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, "_id,name\np2,ok\np3,bad\"quote\n",
                         NULL, &x, &res), CAIRN_EMALFORMED);
  assert_int_equal(x.n, 1);
  assert_int_equal(x.line[0], 3);
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, "_id,name\np2,\"open\n\n", NULL, &x,
                         &res), CAIRN_EMALFORMED);
  assert_true(has_error(&x, "line 2: a quoted cell is not closed"));
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, "\n\n", NULL, &x, &res),
             CAIRN_EMALFORMED);
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, "_id,name\np2,\xff\xfe\n", NULL, &x,
                         &res), CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 2, column name: not UTF-8 text"));
  /* an unknown type, one of cairn's own, a column named twice, an id too long */
  cairn_error_t err = {0, ""};
  CAIRN_FAIL(cairn_import(s, "partnr", CAIRN_FORMAT_CSV, "a\n", 2, NULL, NULL, NULL, &res, &err),
             CAIRN_ESCHEMA);
  assert_non_null(strstr(err.msg, "did you mean partner?"));
  CAIRN_FAIL(cairn_import(s, "_member", CAIRN_FORMAT_CSV, "a\n", 2, NULL, NULL, NULL, &res,
                          &err), CAIRN_EINVAL);
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, "name,Name\nx,y\n", NULL, &x, &res),
             CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 1, column Name: this is field name, which column 1 (name) "
                            "gives already"));
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, "name,name\nx,y\n", NULL, &x, &res),
             CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 1, column name: the column is named twice"));
  char long_id[300];
  snprintf(long_id, sizeof long_id, "_id,name\n%0200d,x\n", 7);
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, long_id, NULL, &x, &res), CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 2, column _id: an id has 1 to 128 bytes"));
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, "_id,name\np7,\n", NULL, &x, &res),
             CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 2: no values for a new partner"));
  assert_int_equal(own_seq(s), seq);
  store_done(s, dir);
}

/* ---- all or none over several entries ---- */

static char *partners_csv(size_t n, size_t notes_len) {
  size_t cap = 32 + n * (notes_len + 64), used;
  char *csv = malloc(cap);
  assert_non_null(csv);
  used = (size_t)snprintf(csv, cap, "_id,name,notes\n");
  for (size_t i = 0; i < n; i++) {
    used += (size_t)snprintf(csv + used, cap - used, "p%03zu,Partner %zu,", i, i);
    memset(csv + used, 'n', notes_len);
    used += notes_len;
    csv[used++] = '\n';
  }
  csv[used] = 0;
  return csv;
}

static void test_all_or_none(void **state) {
  (void)state;
  char *dir;
  cairn_store_opts_t opts = {0};
  opts.max_entry = 8192;
  cairn_store_t *s = store_with(&opts, cairn_schema_default(), &dir);
  cairn_import_result_t res;
  cairn_change_t *c;
  errs_t x;
  char *csv = partners_csv(60, 300); /* ~20 kB: three entries or more */
  /* p030 was purged: its id cannot be used again; it lands in a later entry */
  CAIRN_PASS(cairn_test_put(s, "partner", "p030", "name", "Old"));
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_purge(c, "partner", "p030"));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  uint64_t seq = own_seq(s);
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, csv, NULL, &x, &res), CAIRN_EPURGED);
  print_errors(&x);
  assert_int_equal(x.n, 1);
  assert_int_equal(x.line[0], 32);
  assert_true(has_error(&x, "line 32: partner p030 was purged"));
  assert_int_equal(own_seq(s), seq);
  assert_int_equal(count_type(s, "partner"), 0);
  /* the same in a dry run: the same refusal */
  cairn_import_opts_t dry = {NULL, 1, 0};
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, csv, &dry, &x, &res), CAIRN_EPURGED);
  /* without that row: several entries, consecutive, all written */
  char *at = strstr(csv, "p030,");
  memcpy(at, "p999", 4);
  CAIRN_PASS(import_text(s, "partner", CAIRN_FORMAT_CSV, csv, &dry, &x, &res));
  assert_true(res.entries >= 3);
  assert_int_equal(own_seq(s), seq);
  assert_int_equal(count_type(s, "partner"), 0);
  size_t entries = res.entries;
  CAIRN_PASS(import_text(s, "partner", CAIRN_FORMAT_CSV, csv, NULL, &x, &res));
  assert_int_equal(res.entries, entries);
  assert_int_equal(res.first_seq, seq + 1);
  assert_int_equal(res.last_seq, seq + entries);
  assert_int_equal(own_seq(s), seq + entries);
  assert_int_equal(count_type(s, "partner"), 60);
  free(csv);
  /* one row too big for any entry */
  csv = partners_csv(2, 9000);
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV, csv, NULL, &x, &res), CAIRN_ETOOBIG);
  assert_true(has_error(&x, "line 2: partner p000 alone makes an entry of"));
  free(csv);
  store_done(s, dir);
}

/* ---- references within the file, in any order ---- */

static const char *const task_schema =
    "{\"types\": [{\"name\": \"task\", \"fields\": ["
    "{\"name\": \"title\", \"kind\": \"text\", \"required\": true},"
    "{\"name\": \"parent\", \"kind\": \"ref\", \"ref\": \"task\"},"
    "{\"name\": \"blocks\", \"kind\": \"refs\", \"ref\": \"task\"},"
    "{\"name\": \"points\", \"kind\": \"integer\"},"
    "{\"name\": \"weight\", \"kind\": \"number\"},"
    "{\"name\": \"done\", \"kind\": \"bool\"},"
    "{\"name\": \"due\", \"kind\": \"date\"},"
    "{\"name\": \"at\", \"kind\": \"datetime\"},"
    "{\"name\": \"quarter\", \"kind\": \"period\"},"
    "{\"name\": \"extra\", \"kind\": \"json\"}]}]}";

static void test_refs_in_file(void **state) {
  (void)state;
  char *dir;
  cairn_store_t *s = store_with(NULL, task_schema, &dir);
  cairn_import_result_t res;
  errs_t x;
  /* t1 names t3, later in the file; t3 names t1 and t2 */
  const char *csv = "_id,title,parent,blocks\n"
                    "t1,One,t3,\n"
                    "t2,Two,t1,\"t1, t3\"\n"
                    "t3,Three,,\"t1,t2\"\n";
  int rc = import_text(s, "task", CAIRN_FORMAT_CSV, csv, NULL, &x, &res);
  print_errors(&x);
  CAIRN_PASS(rc);
  assert_string_equal(record_json(s, "task", "t2"),
                      "{\"_type\":\"task\",\"_id\":\"t2\",\"blocks\":[\"t1\",\"t3\"],\"parent\":"
                      "\"t1\",\"title\":\"Two\"}");
  /* a reference to no row and no record */
  CAIRN_FAIL(import_text(s, "task", CAIRN_FORMAT_CSV, "_id,title,blocks\nt4,Four,\"t1, t5\"\n",
                         NULL, &x, &res), CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 2, column blocks: task t4: blocks \"t5\" names no task"));
  /* core: one change putting a record and another naming it */
  cairn_change_t *c;
  uint8_t title[] = {0xa3, 'S', 'i', 'x'}, ref[] = {0xa2, 't', '7'};
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_put(c, "task", "t6", "title", title, sizeof title, 0));
  CAIRN_PASS(cairn_change_put(c, "task", "t6", "parent", ref, sizeof ref, 0));
  CAIRN_PASS(cairn_change_put(c, "task", "t7", "title", title, sizeof title, 0));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  /* a record neither held nor written by the change */
  uint8_t none[] = {0xa2, 't', '9'};
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_put(c, "task", "t8", "title", title, sizeof title, 0));
  CAIRN_PASS(cairn_change_put(c, "task", "t8", "parent", none, sizeof none, 0));
  CAIRN_PASS(cairn_change_del(c, "task", "t9"));
  CAIRN_FAIL(cairn_change_commit(c, NULL, NULL), CAIRN_ESCHEMA);
  store_done(s, dir);
}

/* ---- rows that update records ---- */

static void test_updates(void **state) {
  (void)state;
  char *dir;
  cairn_store_t *s = store_default(&dir);
  cairn_import_result_t res;
  errs_t x;
  CAIRN_PASS(import_text(s, "partner", CAIRN_FORMAT_CSV,
                         "_id,name,stage,notes\np1,Acme,lead,first\np2,Beta,lead,\n", NULL, &x,
                         &res));
  uint64_t seq = own_seq(s);
  /* the same file again: nothing to write */
  CAIRN_PASS(import_text(s, "partner", CAIRN_FORMAT_CSV,
                         "_id,name,stage,notes\np1,Acme,lead,first\np2,Beta,lead,\n", NULL, &x,
                         &res));
  assert_int_equal(res.unchanged, 2);
  assert_int_equal(res.entries, 0);
  assert_int_equal(own_seq(s), seq);
  /* a changed value, an empty cell keeping its value, the required name from
   * the record held, and a new record */
  CAIRN_FAIL(import_text(s, "partner", CAIRN_FORMAT_CSV,
                         "_id,stage,notes\np1,engaged,\np2,lead,\np3,lead,x\n", NULL, &x, &res),
             CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 4, column name: partner p3: name is required"));
  CAIRN_PASS(import_text(s, "partner", CAIRN_FORMAT_CSV, "_id,stage,notes\np1,engaged,\np2,lead,\n",
                         NULL, &x, &res));
  assert_int_equal(res.updated, 1);
  assert_int_equal(res.unchanged, 1);
  assert_int_equal(res.entries, 1);
  assert_string_equal(record_json(s, "partner", "p1"),
                      "{\"_type\":\"partner\",\"_id\":\"p1\",\"name\":\"Acme\",\"notes\":\"first\","
                      "\"stage\":\"engaged\"}");
  store_done(s, dir);
}

/* ---- JSON ---- */

static void test_json(void **state) {
  (void)state;
  char *dir;
  cairn_store_t *s = store_with(NULL, task_schema, &dir);
  cairn_import_result_t res;
  errs_t x;
  const char *json =
      "[{\"_type\":\"task\",\"_id\":\"t1\",\"title\":\"One\",\"points\":3,\"weight\":2.5,"
      "\"done\":true,\"extra\":{\"a\":[1,2]},\"_conflicts\":{}},"
      " {\"_id\":\"t2\",\"title\":\"Two\",\"points\":\"4\",\"done\":\"no\",\"blocks\":\"t1\","
      "\"due\":null,\"extra\":\"plain\"}]";
  int rc = import_text(s, "task", CAIRN_FORMAT_JSON, json, NULL, &x, &res);
  print_errors(&x);
  CAIRN_PASS(rc);
  assert_string_equal(record_json(s, "task", "t1"),
                      "{\"_type\":\"task\",\"_id\":\"t1\",\"done\":true,\"extra\":{\"a\":[1,2]},"
                      "\"points\":3,\"title\":\"One\",\"weight\":2.5}");
  assert_string_equal(record_json(s, "task", "t2"),
                      "{\"_type\":\"task\",\"_id\":\"t2\",\"blocks\":[\"t1\"],\"done\":false,"
                      "\"extra\":\"plain\",\"points\":4,\"title\":\"Two\"}");
  /* the object an export of every type writes */
  CAIRN_PASS(import_text(s, "task", CAIRN_FORMAT_JSON,
                         "{\"other\": [], \"task\": [{\"_id\":\"t3\",\"title\":\"Three\"}]}",
                         NULL, &x, &res));
  assert_int_equal(res.created, 1);
  /* errors name the element and the key */
  CAIRN_FAIL(import_text(s, "task", CAIRN_FORMAT_JSON,
                         "[{\"_id\":\"t4\",\"title\":\"Four\"},"
                         " {\"_type\":\"goal\",\"_id\":\"t5\",\"title\":\"Five\"},"
                         " {\"_id\":\"t6\",\"titel\":\"Six\",\"points\":2.5},"
                         " 7]",
                         NULL, &x, &res), CAIRN_ESCHEMA);
  print_errors(&x);
  assert_true(has_error(&x, "element [1], key _type: a record of another type"));
  assert_true(has_error(&x, "element [2], key titel: task has no field \"titel\"; did you mean "
                            "title?"));
  assert_true(has_error(&x, "element [2], key points: task t6: points a number is not a whole "
                            "number"));
  assert_true(has_error(&x, "element [3]: not an object"));
  assert_true(has_error(&x, "element [2], key title: task t6: title is required"));
  CAIRN_FAIL(import_text(s, "task", CAIRN_FORMAT_JSON, "[\n{\"_id\": 1,}\n]", NULL, &x, &res),
             CAIRN_EMALFORMED);
  assert_true(has_error(&x, "line 2: not JSON"));
  CAIRN_FAIL(import_text(s, "task", CAIRN_FORMAT_JSON, "{\"x\": 1}", NULL, &x, &res),
             CAIRN_EMALFORMED);
  assert_true(has_error(&x, "line 1: the object has no array \"task\""));
  store_done(s, dir);
}

/* ---- ids ---- */

static void test_ids(void **state) {
  (void)state;
  char *dir;
  cairn_store_t *s = store_default(&dir);
  cairn_import_result_t res;
  errs_t x;
  CAIRN_PASS(import_text(s, "person", CAIRN_FORMAT_CSV, "name,email\nAna,a@x\nBen,b@x\nCy,c@x\n",
                         NULL, &x, &res));
  assert_int_equal(res.created, 3);
  assert_int_equal(count_type(s, "person"), 3);
  /* a column named id, when the type has no such field */
  CAIRN_PASS(import_text(s, "person", CAIRN_FORMAT_CSV, "id,name\nx1,Xi\n", NULL, &x, &res));
  assert_string_equal(record_json(s, "person", "x1"),
                      "{\"_type\":\"person\",\"_id\":\"x1\",\"name\":\"Xi\"}");
  cairn_import_opts_t opts = {"email", 0, 0};
  CAIRN_PASS(import_text(s, "person", CAIRN_FORMAT_CSV, "name,email\nDee,d@x\n", &opts, &x, &res));
  assert_string_equal(record_json(s, "person", "d@x"),
                      "{\"_type\":\"person\",\"_id\":\"d@x\",\"email\":\"d@x\",\"name\":\"Dee\"}");
  opts.id_column = "mail";
  CAIRN_FAIL(import_text(s, "person", CAIRN_FORMAT_CSV, "name,email\nEve,e@x\n", &opts, &x, &res),
             CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 1: no column mail for the ids (--id-column); did you mean "
                            "email?"));
  store_done(s, dir);
}

/* ---- values as text ---- */

static void text_is(const cairn_schema_field_t *f, const char *json, const char *want) {
  uint8_t *mp;
  size_t len;
  char *text;
  CAIRN_PASS(cairn_value_from_json_text(json, &mp, &len, NULL));
  CAIRN_PASS(cairn_value_text(f, mp, len, &text));
  assert_string_equal(text, want);
  cairn_free(text);
  cairn_free(mp);
}

static void test_value_text(void **state) {
  (void)state;
  cairn_schema_field_t refs = {0}, num = {0};
  refs.kind = CAIRN_KIND_REFS;
  num.kind = CAIRN_KIND_NUMBER;
  text_is(&num, "0.1", "0.1");
  text_is(&num, "41.5", "41.5");
  text_is(&num, "1e300", "1e+300");
  text_is(&num, "-7", "-7");
  text_is(&num, "2.0", "2");
  text_is(NULL, "true", "true");
  text_is(NULL, "\"a, b\"", "a, b");
  text_is(&refs, "[\"a\",\"b c\"]", "a, b c");
  text_is(&refs, "[]", "");
  text_is(NULL, "[\"a\",\"b\"]", "[\"a\",\"b\"]");
  text_is(NULL, "{\"k\":[1,null]}", "{\"k\":[1,null]}");
  text_is(NULL, "null", "");
}

/* ---- export, then import back ---- */

static char *read_all_file(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf = calloc(1, 1 << 20);
  assert_non_null(f);
  assert_non_null(buf);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static int same_record(const cairn_record_t *r, void *ud) {
  cairn_store_t *other = ud;
  char *json, id[CAIRN_ID_MAX + 1], type[CAIRN_TYPE_MAX + 1];
  CAIRN_PASS(cairn_record_json(r, &json));
  snprintf(id, sizeof id, "%.*s", (int)r->id_len, r->id);
  snprintf(type, sizeof type, "%.*s", (int)r->type_len, r->type);
  assert_string_equal(record_json(other, type, id), json);
  cairn_free(json);
  return 0;
}

static void round_trip(const char *ext) {
  char *dir, *dir2, path[600], path2[600];
  cairn_store_t *s = store_with(NULL, task_schema, &dir);
  cairn_store_t *t = store_with(NULL, task_schema, &dir2);
  cairn_export_result_t ex;
  cairn_import_result_t res;
  cairn_error_t err = {0, ""};
  errs_t x;
  const char *json =
      "[{\"_id\":\"t1\",\"title\":\" spaced, \\\"quoted\\\"\\nline \",\"points\":3,"
      "\"weight\":0.1,\"done\":false,\"due\":\"2027-01-15\",\"at\":\"2027-01-15T10:30:00Z\","
      "\"quarter\":\"2027-Q1\",\"extra\":{\"a\":[1,2.5,\"x\"]}},"
      " {\"_id\":\"t2\",\"title\":\"Two\",\"parent\":\"t1\",\"blocks\":[\"t1\",\"t3\"],"
      "\"weight\":-12345678901.25,\"points\":-4,\"extra\":[true]},"
      " {\"_id\":\"t3\",\"title\":\"Ünïcode ✓\",\"weight\":1e-7,\"extra\":\"text\"}]";
  CAIRN_PASS(import_text(s, "task", CAIRN_FORMAT_JSON, json, NULL, &x, &res));
  snprintf(path, sizeof path, "%s/tasks.%s", dir, ext);
  snprintf(path2, sizeof path2, "%s/tasks.%s", dir2, ext);
  CAIRN_PASS(cairn_export_file(s, "task", path, &ex, &err));
  assert_int_equal(ex.records, 3);
  int rc = cairn_import_file(t, "task", path, NULL, keep_error, &x, &res, &err);
  print_errors(&x);
  CAIRN_PASS(rc);
  CAIRN_PASS(cairn_export_file(t, "task", path2, &ex, &err));
  char *a = read_all_file(path), *b = read_all_file(path2);
  assert_string_equal(a, b);
  free(a);
  free(b);
  CAIRN_PASS(cairn_list(s, "task", NULL, 0, same_record, t));
  assert_int_equal(count_type(t, "task"), 3);
  store_done(s, dir);
  store_done(t, dir2);
}

static void test_round_trip_csv(void **state) {
  (void)state;
  round_trip("csv");
}

static void test_round_trip_json(void **state) {
  (void)state;
  round_trip("json");
}

static void test_export_forms(void **state) {
  (void)state;
  char *dir, path[600];
  cairn_store_t *s = store_default(&dir);
  cairn_export_result_t ex;
  cairn_import_result_t res;
  cairn_error_t err = {0, ""};
  errs_t x;
  CAIRN_PASS(import_text(s, "partner", CAIRN_FORMAT_CSV, "_id,name,notes\np1,\"A, B\",\"x\ny\"\n",
                         NULL, &x, &res));
  snprintf(path, sizeof path, "%s/p.csv", dir);
  CAIRN_PASS(cairn_export_file(s, "partner", path, &ex, &err));
  char *csv = read_all_file(path);
  assert_string_equal(csv, "_id,name,kind,stage,contact,sites,notes\r\np1,\"A, B\",,,,,\"x\ny\"\r\n");
  free(csv);
  /* every type: not to CSV; to JSON an object */
  snprintf(path, sizeof path, "%s/all.csv", dir);
  CAIRN_FAIL(cairn_export_file(s, NULL, path, &ex, &err), CAIRN_EINVAL);
  assert_non_null(strstr(err.msg, ".json or .xlsx"));
  snprintf(path, sizeof path, "%s/all.json", dir);
  CAIRN_PASS(cairn_export_file(s, NULL, path, &ex, &err));
  assert_int_equal(ex.types, 15);
  assert_int_equal(ex.records, 1);
  char *all = read_all_file(path);
  assert_non_null(strstr(all, "{\n\"partner\": [\n{\"_type\":\"partner\",\"_id\":\"p1\""));
  assert_non_null(strstr(all, "\"person\": []"));
  free(all);
  snprintf(path, sizeof path, "%s/all.xlsx", dir);
  CAIRN_PASS(cairn_export_file(s, NULL, path, &ex, &err));
  char *xlsx = read_all_file(path);
  assert_memory_equal(xlsx, "PK\x03\x04", 4); /* a zip */
  free(xlsx);
  /* an unknown type; a file name without a known extension */
  snprintf(path, sizeof path, "%s/x.json", dir);
  CAIRN_FAIL(cairn_export_file(s, "partnr", path, &ex, &err), CAIRN_ESCHEMA);
  assert_non_null(strstr(err.msg, "did you mean partner?"));
  FILE *f = fopen(path, "r");
  assert_null(f); /* nothing left behind */
  snprintf(path, sizeof path, "%s/x.txt", dir);
  CAIRN_FAIL(cairn_export_file(s, "partner", path, &ex, &err), CAIRN_EINVAL);
  store_done(s, dir);
}

/* ---- a free-form network ---- */

static void test_free_form(void **state) {
  (void)state;
  char *dir;
  cairn_store_t *s = store_with(NULL, NULL, &dir);
  cairn_import_result_t res;
  errs_t x;
  CAIRN_PASS(import_text(s, "note", CAIRN_FORMAT_CSV, "_id,text,count\nn1,hello,42\n", NULL, &x,
                         &res));
  assert_string_equal(record_json(s, "note", "n1"),
                      "{\"_type\":\"note\",\"_id\":\"n1\",\"count\":\"42\",\"text\":\"hello\"}");
  CAIRN_FAIL(import_text(s, "note", CAIRN_FORMAT_CSV, "_id,_secret\nn2,x\n", NULL, &x, &res),
             CAIRN_ESCHEMA);
  assert_true(has_error(&x, "line 1, column _secret: no field of note"));
  store_done(s, dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_csv_forms),      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_all_or_none),    cmocka_unit_test(test_refs_in_file),
      cmocka_unit_test(test_updates),        cmocka_unit_test(test_json),
      cmocka_unit_test(test_ids),            cmocka_unit_test(test_value_text),
      cmocka_unit_test(test_round_trip_csv), cmocka_unit_test(test_round_trip_json),
      cmocka_unit_test(test_export_forms),   cmocka_unit_test(test_free_form),
  };
  if (cairn_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
