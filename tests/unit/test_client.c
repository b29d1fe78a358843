/*
 * test_client.c — the public header client/cairn.h on its own (no relay): open a
 * store, write fields as text and JSON, read them back with get, list (with where
 * filters), history and conflicts, and the JSON helpers; every refusal a caller
 * can meet. Sync is covered by the integration tests (example_live.sh, relay_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "cairn_test.h"

typedef struct seen {
  char json[16][256];
  size_t n;
} seen_t;

static int keep_json(const cairn_record_t *r, void *ud) {
  seen_t *s = ud;
  char *json;
  CAIRN_PASS(cairn_record_json(r, &json));
  assert_true(s->n < 16);
  snprintf(s->json[s->n++], sizeof s->json[0], "%s", json);
  cairn_free(json);
  return 0;
}

static int count_ops(const cairn_entry_t *e, const cairn_op_t *op, void *ud) {
  (void)e;
  (void)op;
  (*(size_t *)ud)++;
  return 0;
}

static int count_conflicts(const char *type, size_t tl, const char *id, size_t il,
                           const char *field, size_t fl, const cairn_head_t *heads, size_t n,
                           void *ud) {
  (void)type, (void)tl, (void)id, (void)il;
  assert_int_equal(fl, 6);
  assert_memory_equal(field, "status", 6);
  assert_int_equal(n, 2);
  char *a, *b;
  CAIRN_PASS(cairn_value_json(heads[0].value, heads[0].value_len, &a));
  CAIRN_PASS(cairn_value_json(heads[1].value, heads[1].value_len, &b));
  assert_true(strcmp(a, "\"late\"") == 0 || strcmp(a, "\"early\"") == 0);
  assert_string_not_equal(a, b);
  cairn_free(a);
  cairn_free(b);
  (*(size_t *)ud)++;
  return 0;
}

/* A store from cairn_test_node_new, reopened through cairn_open. */
static cairn_store_t *reopen(cairn_test_node_t *n) {
  cairn_store_t *s;
  cairn_error_t err;
  cairn_close(n->s);
  n->s = NULL;
  CAIRN_PASS(cairn_open(n->dir, NULL, &s, &err));
  return s;
}

static void test_write_and_read(void **state) {
  cairn_test_node_t n;
  cairn_change_t *c;
  cairn_error_t err;
  seen_t seen = {{{0}}, 0};
  size_t ops = 0;
  uint8_t net[32];
  (void)state;
  assert_string_equal(cairn_version(), CAIRN_PROJECT_VERSION);
  CAIRN_PASS(cairn_test_node_new(&n, "app", NULL));
  CAIRN_PASS(cairn_store_network_create(n.s, "App", net, NULL));
  cairn_store_t *s = reopen(&n);
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_put_text(c, "partner", "p1", "name", "Lincoln Elementary", 0, NULL));
  CAIRN_PASS(cairn_change_put_json(c, "partner", "p1", "students", "412", 0, &err));
  CAIRN_PASS(cairn_change_put_text(c, "partner", "p2", "name", "Eastside Clinic", 0, NULL));
  CAIRN_PASS(cairn_change_put_json(c, "partner", "p2", "students", "\"412\"", 0, &err));
  CAIRN_PASS(cairn_change_put_json(c, "partner", "p3", "tags", "[\"a\",{\"b\":null}]", 0, &err));
  CAIRN_FAIL(cairn_change_put_json(c, "partner", "p3", "bad", "[1,", 0, &err), CAIRN_EINVAL);
  assert_true(strlen(err.msg) > 0);
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));

  CAIRN_PASS(cairn_get(s, "partner", "p1", keep_json, &seen));
  assert_int_equal(seen.n, 1);
  assert_non_null(strstr(seen.json[0], "\"students\":412"));
  assert_non_null(strstr(seen.json[0], "\"_id\":\"p1\""));

  /* where: a string equals the text; another value equals the text read as JSON */
  cairn_where_t w412 = {"students", "412"}, wname = {"name", "Eastside Clinic"};
  seen.n = 0;
  CAIRN_PASS(cairn_list(s, "partner", &w412, 1, keep_json, &seen));
  assert_int_equal(seen.n, 2);
  seen.n = 0;
  cairn_where_t both[2] = {w412, wname};
  CAIRN_PASS(cairn_list(s, "partner", both, 2, keep_json, &seen));
  assert_int_equal(seen.n, 1);
  assert_non_null(strstr(seen.json[0], "\"_id\":\"p2\""));
  seen.n = 0;
  CAIRN_PASS(cairn_list(s, "partner", NULL, 0, keep_json, &seen));
  assert_int_equal(seen.n, 3);
  assert_non_null(strstr(seen.json[2], "\"tags\":[\"a\",{\"b\":null}]"));
  cairn_where_t nofield = {NULL, "x"};
  CAIRN_FAIL(cairn_list(s, "partner", &nofield, 1, keep_json, &seen), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_list(s, "partner", NULL, 1, keep_json, &seen), CAIRN_EINVAL);

  CAIRN_PASS(cairn_history(s, "partner", "p1", count_ops, &ops));
  assert_int_equal(ops, 1);

  /* value helpers round-trip */
  uint8_t *mp;
  size_t len;
  char *back;
  CAIRN_PASS(cairn_value_from_json_text("{\"k\":[1,2.5,true]}", &mp, &len, &err));
  CAIRN_PASS(cairn_value_json(mp, len, &back));
  assert_string_equal(back, "{\"k\":[1,2.5,true]}");
  cairn_free(back);
  cairn_free(mp);
  CAIRN_FAIL(cairn_value_from_json_text("{\"k\":", &mp, &len, &err), CAIRN_EINVAL);

  n.s = s;
  cairn_test_node_free(&n);
}

/* The same field written on two stores without seeing each other: a conflict. */
static void test_conflicts(void **state) {
  cairn_test_node_t a, b;
  cairn_change_t *c;
  cairn_error_t err;
  uint8_t net[32];
  size_t n = 0;
  (void)state;
  CAIRN_PASS(cairn_test_node_new(&a, "a", NULL));
  CAIRN_PASS(cairn_test_node_new(&b, "b", NULL));
  CAIRN_PASS(cairn_store_network_create(a.s, "App", net, NULL));
  cairn_store_t *members[1] = {b.s};
  CAIRN_PASS(cairn_test_grant_all(a.s, members, 1, "editor", &err));
  CAIRN_PASS(cairn_test_sync(b.s, a.s, NULL, &err));
  const char *v[2] = {"early", "late"};
  cairn_store_t *st[2] = {a.s, b.s};
  for (int i = 0; i < 2; i++) {
    CAIRN_PASS(cairn_change_begin(st[i], &c));
    CAIRN_PASS(cairn_change_put_text(c, "task", "t1", "status", v[i], 0, NULL));
    CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  }
  CAIRN_PASS(cairn_test_sync(a.s, b.s, NULL, &err));
  CAIRN_PASS(cairn_conflicts(a.s, count_conflicts, &n));
  assert_int_equal(n, 1);
  cairn_test_node_free(&a);
  cairn_test_node_free(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_write_and_read),
      cmocka_unit_test(test_conflicts),
  };
  if (cairn_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
