/*
 * test_views.c — the JSON the CLI and the web app share (client/lib/journal.c,
 * members.c; cairn.h, "JSON views") and the calls both faces make: times and
 * stamps, the members document (a person's keys together, invites and what
 * became of them), revoking, a record's history, conflicts with their authors'
 * names, the check before a resolve, invite terms, the clock's warning, values
 * a form sends typed by the field's kind, and records as list --json shows them.
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
#include "cairn_test.h"

/* ---- helpers ---- */

/* j as compact JSON text (static buffer), then released. */
static const char *dump(json_t *j) {
  static char out[8192];
  char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  assert_non_null(s);
  snprintf(out, sizeof out, "%s", s);
  free(s);
  json_decref(j);
  return out;
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

/* Put one field from JSON text as a form sends it; the code of the put, or of
 * the commit, with err. */
static int put_value(cairn_store_t *s, const char *type, const char *id, const char *field,
                     const char *json, cairn_error_t *err) {
  cairn_change_t *c;
  json_t *v = json_loads(json, JSON_DECODE_ANY, NULL);
  int rc;
  assert_non_null(v);
  CAIRN_PASS(cairn_change_begin(s, &c));
  rc = cairn_change_put_value(c, type, id, field, v, 0, err);
  json_decref(v);
  if (rc != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cairn_change_commit(c, NULL, err);
}

/* Write role and name (may be NULL) for key. */
static void grant(cairn_store_t *s, const uint8_t *key, cairn_role_t role, const char *name,
                  const char *org) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_member(c, key, role, name, NULL));
  if (org != NULL)
    CAIRN_PASS(cairn_change_member_org(c, key, org));
  if (cairn_change_commit(c, NULL, &err) != 0)
    fail_msg("grant: %s", err.msg);
}

/* ---- times, stamps, the clock ---- */

static void test_time_and_stamp(void **state) {
  char when[CAIRN_TIME_TEXT_MAX];
  uint8_t key[CAIRN_KEY_BYTES];
  json_t *o = json_object();
  (void)state;
  assert_string_equal(cairn_time_text(0, when), "1970-01-01T00:00:00.000Z");
  assert_string_equal(cairn_time_text(1796055118938ull, when), "2026-11-30T16:11:58.938Z");
  memset(key, 0xab, sizeof key);
  CAIRN_PASS(cairn_stamp_json(o, key, NULL, 1796055118938ull << 16 | 5));
  assert_string_equal(dump(json_incref(o)),
                      "{\"author\":\"abababababababababababababababababababababababababababababababab\","
                      "\"name\":null,\"time\":\"2026-11-30T16:11:58.938Z\",\"hlc\":"
                      "117706268274720773}");
  CAIRN_PASS(cairn_stamp_json(o, key, "Dan", 1));
  assert_string_equal(json_string_value(json_object_get(o, "name")), "Dan");
  json_decref(o);
}

static void test_clock_warning(void **state) {
  char out[256];
  (void)state;
  assert_int_equal(cairn_clock_warning(0, out, sizeof out), 0);
  assert_string_equal(out, "");
  assert_int_equal(cairn_clock_warning(-60000, out, sizeof out), 0);
  assert_int_equal(cairn_clock_warning(61000, out, sizeof out), 1);
  assert_string_equal(out, "this device's clock is 1 minute behind the relay's; set the date "
                           "and time (changes are stamped with the relay's time meanwhile)");
  assert_int_equal(cairn_clock_warning(5400000, out, sizeof out), 1);
  assert_non_null(strstr(out, "is 2 hours behind"));
  assert_int_equal(cairn_clock_warning(-3 * 86400000LL - 5000, out, sizeof out), 1);
  assert_non_null(strstr(out, "is 3 days ahead of the relay's"));
}

/* ---- members ---- */

static void test_invite_terms(void **state) {
  cairn_error_t err = {0, ""};
  char name[202];
  (void)state;
  CAIRN_PASS(cairn_invite_terms_check(CAIRN_ROLE_EDITOR, "Dan", "p1", 7, 1, &err));
  CAIRN_PASS(cairn_invite_terms_check(CAIRN_ROLE_ADMIN, "Dan", NULL, 365, 1000, &err));
  CAIRN_FAIL(cairn_invite_terms_check(CAIRN_ROLE_OWNER, "Dan", NULL, 7, 1, &err), CAIRN_EINVAL);
  assert_string_equal(err.msg, "an invite grants the role editor, viewer or admin");
  CAIRN_FAIL(cairn_invite_terms_check(CAIRN_ROLE_VIEWER, "", NULL, 7, 1, &err), CAIRN_EINVAL);
  assert_non_null(strstr(err.msg, "new member's name"));
  memset(name, 'a', 201);
  name[201] = '\0';
  CAIRN_FAIL(cairn_invite_terms_check(CAIRN_ROLE_VIEWER, name, NULL, 7, 1, &err), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_invite_terms_check(CAIRN_ROLE_VIEWER, "\xff", NULL, 7, 1, &err), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_invite_terms_check(CAIRN_ROLE_VIEWER, "Dan", "p\n1", 7, 1, &err),
             CAIRN_EINVAL);
  assert_non_null(strstr(err.msg, "organization"));
  CAIRN_FAIL(cairn_invite_terms_check(CAIRN_ROLE_VIEWER, "Dan", NULL, 0, 1, &err), CAIRN_EINVAL);
  assert_string_equal(err.msg, "an invite lasts 1 to 365 days");
  CAIRN_FAIL(cairn_invite_terms_check(CAIRN_ROLE_VIEWER, "Dan", NULL, 7, 1001, &err),
             CAIRN_EINVAL);
  assert_string_equal(err.msg, "an invite admits 1 to 1000 devices");
}

static void test_members_document(void **state) {
  uint8_t dan1[CAIRN_KEY_BYTES], dan2[CAIRN_KEY_BYTES], ben[CAIRN_KEY_BYTES];
  uint8_t relay[CAIRN_KEY_BYTES], inv[CAIRN_KEY_BYTES];
  char code[CAIRN_INVITE_TEXT_MAX], hex[2 * CAIRN_KEY_BYTES + 1], *dir;
  cairn_error_t err = {0, ""};
  cairn_store_t *s = schema_store(&dir);
  json_t *doc, *m, *i;
  (void)state;
  memset(dan1, 0x11, sizeof dan1);
  memset(dan2, 0x22, sizeof dan2);
  memset(ben, 0x33, sizeof ben);
  memset(relay, 0x44, sizeof relay);
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Lincoln High"));
  grant(s, dan2, CAIRN_ROLE_EDITOR, "Dan", "p1");
  grant(s, dan1, CAIRN_ROLE_EDITOR, "Dan", "p1");
  grant(s, ben, CAIRN_ROLE_VIEWER, "Ben", "p9");
  CAIRN_PASS(cairn_sync_set_remote(s, "127.0.0.1:7070", relay, &err));
  if (cairn_invite(s, CAIRN_ROLE_VIEWER, "Cleo", NULL, 7, 2, code, sizeof code, &err) != 0)
    fail_msg("invite: %s", err.msg);
  CAIRN_PASS(cairn_invite_key(code, inv, &err));

  CAIRN_PASS(cairn_members_json(s, &doc));
  m = json_object_get(doc, "members");
  i = json_object_get(doc, "invites");
  assert_int_equal(json_array_size(m), 4); /* Ana (unnamed record: her store's name), Ben, Dan x2 */
  assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "name")), "Ana");
  assert_string_equal(json_string_value(json_object_get(json_array_get(m, 0), "role")), "owner");
  assert_string_equal(dump(json_incref(json_array_get(m, 1))),
                      "{\"key\":\"3333333333333333333333333333333333333333333333333333333333333333\","
                      "\"name\":\"Ben\",\"role\":\"viewer\",\"organization\":\"p9\","
                      "\"organization_name\":null,\"other_keys\":[]}");
  /* one person's two keys, in key order, each naming the other */
  assert_string_equal(dump(json_incref(json_array_get(m, 2))),
                      "{\"key\":\"1111111111111111111111111111111111111111111111111111111111111111\","
                      "\"name\":\"Dan\",\"role\":\"editor\",\"organization\":\"p1\","
                      "\"organization_name\":\"Lincoln High\",\"other_keys\":"
                      "[\"2222222222222222222222222222222222222222222222222222222222222222\"]}");
  assert_string_equal(json_string_value(json_array_get(
                          json_object_get(json_array_get(m, 3), "other_keys"), 0)),
                      cairn_hex(dan1, CAIRN_KEY_BYTES, hex));
  assert_int_equal(json_array_size(i), 1);
  json_t *v = json_array_get(i, 0);
  assert_string_equal(json_string_value(json_object_get(v, "key")),
                      cairn_hex(inv, CAIRN_KEY_BYTES, hex));
  assert_string_equal(json_string_value(json_object_get(v, "name")), "Cleo");
  assert_string_equal(json_string_value(json_object_get(v, "role")), "viewer");
  assert_string_equal(json_string_value(json_object_get(v, "status")), "pending");
  assert_int_equal(json_integer_value(json_object_get(v, "uses")), 2);
  assert_int_equal(json_integer_value(json_object_get(v, "used")), 0);
  assert_int_equal(strlen(json_string_value(json_object_get(v, "expires"))), 24);
  json_decref(doc);

  /* revoking: a key that is no member, then the invite */
  CAIRN_FAIL(cairn_revoke(s, relay, &err), CAIRN_ENOENT);
  assert_string_equal(err.msg, "4444444444444444444444444444444444444444444444444444444444444444 "
                               "is not a member of this network (see `cairn members`)");
  CAIRN_PASS(cairn_revoke(s, inv, &err));
  CAIRN_PASS(cairn_members_json(s, &doc));
  v = json_array_get(json_object_get(doc, "invites"), 0);
  assert_string_equal(json_string_value(json_object_get(v, "status")), "revoked");
  json_decref(doc);
  CAIRN_PASS(cairn_revoke(s, ben, &err));
  cairn_role_t role;
  CAIRN_PASS(cairn_store_role(s, ben, &role));
  assert_int_equal(role, CAIRN_ROLE_REVOKED);
  CAIRN_FAIL(cairn_invite_key("cairn1:nonsense", inv, &err), CAIRN_EMALFORMED);
  done(s, dir);
}

/* ---- history, conflicts, resolve ---- */

static void test_history(void **state) {
  cairn_error_t err = {0, ""};
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  json_t *h;
  (void)state;
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Lincoln"));
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Lincoln High"));
  CAIRN_PASS(cairn_history_json(s, "partner", "p1", &h, &err));
  assert_int_equal(json_array_size(h), 2);
  json_t *second = json_array_get(h, 1);
  assert_string_equal(json_string_value(json_object_get(second, "name")), "Ana");
  assert_string_equal(json_string_value(json_object_get(second, "op")), "put");
  assert_null(json_object_get(second, "_type"));
  assert_string_equal(dump(json_incref(json_object_get(second, "fields"))),
                      "{\"name\":\"Lincoln High\"}");
  assert_true(json_integer_value(json_object_get(second, "seq")) >
              json_integer_value(json_object_get(json_array_get(h, 0), "seq")));
  json_decref(h);
  CAIRN_FAIL(cairn_history_json(s, "partner", "p2", &h, &err), CAIRN_ENOENT);
  assert_null(h);
  assert_string_equal(err.msg, "no history for partner 'p2' (it never existed here, or it was "
                               "purged)");
  done(s, dir);
}

/* Count the conflicts the walk meets. */
static int count_one(const char *type, size_t tl, const char *id, size_t il, const char *field,
                     size_t fl, const cairn_head_t *heads, size_t n, void *ud) {
  (*(size_t *)ud)++;
  return 0;
}

static void test_conflicts_and_resolve(void **state) {
  cairn_test_node_t a, b;
  cairn_error_t err = {0, ""};
  uint8_t net[CAIRN_KEY_BYTES];
  json_t *all;
  size_t n = 0;
  (void)state;
  CAIRN_PASS(cairn_test_node_new(&a, "a", NULL));
  CAIRN_PASS(cairn_test_node_new(&b, "b", NULL));
  CAIRN_PASS(cairn_store_network_create(a.s, "App", net, NULL));
  cairn_store_t *members[1] = {b.s};
  CAIRN_PASS(cairn_test_grant_all(a.s, members, 1, "editor", &err));
  CAIRN_PASS(cairn_test_put(a.s, "task", "t1", "owner", "a"));
  CAIRN_PASS(cairn_test_sync(b.s, a.s, NULL, &err));
  CAIRN_PASS(cairn_test_put(a.s, "task", "t1", "status", "early"));
  CAIRN_PASS(cairn_test_put(b.s, "task", "t1", "status", "late"));
  CAIRN_PASS(cairn_test_sync(a.s, b.s, NULL, &err));
  CAIRN_PASS(cairn_test_sync(b.s, a.s, NULL, &err));

  CAIRN_PASS(cairn_conflicts_json(a.s, &all));
  assert_int_equal(json_array_size(all), 1);
  json_t *item = json_array_get(all, 0), *heads = json_object_get(item, "heads");
  assert_string_equal(json_string_value(json_object_get(item, "_type")), "task");
  assert_string_equal(json_string_value(json_object_get(item, "field")), "status");
  assert_int_equal(json_array_size(heads), 2);
  /* on a's store, a names itself; b has no name in its `_member` record */
  for (size_t i = 0; i < 2; i++) {
    json_t *h = json_array_get(heads, i);
    const char *v = json_string_value(json_object_get(h, "value"));
    json_t *name = json_object_get(h, "name");
    if (strcmp(v, "early") == 0)
      assert_string_equal(json_string_value(name), "a");
    else
      assert_true(json_is_null(name));
  }
  json_decref(all);
  CAIRN_PASS(cairn_conflicts_json(b.s, &all));
  assert_non_null(strstr(dump(all), "\"value\":\"late\",\"author\":"));
  CAIRN_PASS(cairn_conflicts_json(b.s, &all));
  assert_non_null(strstr(dump(all), "\"name\":\"b\""));

  const char *ok[] = {"status"}, *bad[] = {"status", "owner"};
  CAIRN_PASS(cairn_resolve_check(a.s, "task", "t1", ok, 1, 0, &err));
  CAIRN_FAIL(cairn_resolve_check(a.s, "task", "t1", bad, 2, 0, &err), CAIRN_EINVAL);
  assert_string_equal(err.msg, "task t1 field owner is not in conflict; use `cairn put` to "
                               "change it");
  CAIRN_FAIL(cairn_resolve_check(a.s, "task", "t1", ok, 1, 1, &err), CAIRN_EINVAL);
  assert_non_null(strstr(err.msg, "task t1 is not in a delete/edit conflict"));
  CAIRN_FAIL(cairn_resolve_check(a.s, "task", "t9", ok, 1, 0, &err), CAIRN_ENOENT);
  assert_string_equal(err.msg, "no task record 't9'");

  /* a resolve written after the check ends the conflict */
  cairn_change_t *c;
  json_t *done_v = json_string("done");
  CAIRN_PASS(cairn_change_begin(a.s, &c));
  CAIRN_PASS(cairn_change_put_value(c, "task", "t1", "status", done_v, 1, &err));
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  json_decref(done_v);
  CAIRN_PASS(cairn_conflicts(a.s, count_one, &n));
  assert_int_equal(n, 0);
  cairn_test_node_free(&a);
  cairn_test_node_free(&b);
}

/* ---- values a form sends, records as JSON ---- */

typedef struct got {
  json_t *o;
  const cairn_query_t *q;
} got_t;

static int keep_object(const cairn_record_t *r, void *ud) {
  got_t *g = ud;
  g->o = cairn_record_object(NULL, g->q, r);
  return 1;
}

static void test_put_value(void **state) {
  cairn_error_t err = {0, ""};
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  got_t g = {NULL, NULL};
  (void)state;
  CAIRN_PASS(cairn_test_put(s, "indicator", "i1", "title", "Reading"));
  CAIRN_FAIL(put_value(s, "indicator", "i1", "target", "\"forty\"", &err), CAIRN_ESCHEMA);
  assert_non_null(strstr(err.msg, "forty"));
  CAIRN_PASS(put_value(s, "indicator", "i1", "target", "\"40\"", &err));
  CAIRN_PASS(put_value(s, "indicator", "i1", "baseline", "12.5", &err));
  CAIRN_PASS(put_value(s, "indicator", "i1", "unit", "\"40\"", &err));
  CAIRN_PASS(put_value(s, "indicator", "i1", "target_period", "\"2026-Q2\"", &err));
  CAIRN_PASS(cairn_get(s, "indicator", "i1", keep_object, &g));
  assert_string_equal(dump(g.o), "{\"_type\":\"indicator\",\"_id\":\"i1\",\"baseline\":12.5,"
                                 "\"target\":40,\"target_period\":\"2026-Q2\",\"title\":"
                                 "\"Reading\",\"unit\":\"40\"}");
  CAIRN_PASS(put_value(s, "indicator", "i1", "target", "null", &err));
  CAIRN_PASS(cairn_get(s, "indicator", "i1", keep_object, &g));
  assert_null(json_object_get(g.o, "target"));
  json_decref(g.o);
  /* a field the schema does not know is refused at commit, as a put */
  CAIRN_FAIL(put_value(s, "indicator", "i1", "colour", "\"red\"", &err), CAIRN_ESCHEMA);
  done(s, dir);
}

static void test_record_object(void **state) {
  cairn_error_t err = {0, ""};
  cairn_schema_t *sc;
  cairn_query_t *q;
  char *dir;
  cairn_store_t *s = schema_store(&dir);
  got_t g = {NULL, NULL};
  (void)state;
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Lincoln High"));
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "notes", "Tuesdays"));
  CAIRN_PASS(cairn_schema_load(s, &sc));
  CAIRN_PASS(cairn_query_new(s, sc, "partner", &q, &err));
  CAIRN_PASS(cairn_query_fields(q, "notes", &err));
  g.q = q;
  CAIRN_PASS(cairn_query_run(q, keep_object, &g));
  assert_string_equal(dump(g.o), "{\"_type\":\"partner\",\"_id\":\"p1\",\"notes\":\"Tuesdays\"}");
  cairn_query_free(q);
  cairn_change_t *c;
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_del(c, "partner", "p1"));
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  CAIRN_PASS(cairn_query_new(s, sc, "partner", &q, &err));
  cairn_query_deleted(q, 1);
  g.q = NULL;
  CAIRN_PASS(cairn_query_run(q, keep_object, &g));
  assert_string_equal(dump(g.o), "{\"_type\":\"partner\",\"_id\":\"p1\",\"name\":\"Lincoln High\","
                                 "\"notes\":\"Tuesdays\",\"_deleted\":true}");
  cairn_query_free(q);
  cairn_schema_free(sc);
  done(s, dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_time_and_stamp),     cmocka_unit_test(test_clock_warning),
      cmocka_unit_test(test_invite_terms),       cmocka_unit_test(test_members_document),
      cmocka_unit_test(test_history),            cmocka_unit_test(test_conflicts_and_resolve),
      cmocka_unit_test(test_put_value),          cmocka_unit_test(test_record_object),
  };
  if (cairn_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
