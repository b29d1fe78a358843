/*
 * test_takeback.c — taking back this device's unacknowledged tail and signing it
 * again (core/apply.c cairn_store_take_back, core/change.c cairn_store_resign):
 * the records after a take-back are exactly those of the entries that remain
 * (the whole visible state, history included, byte for byte), and signing again
 * brings every taken change back as new entries on top, stamped anew.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn_test.h"

static const char *const types[] = {"partner", "note", "_member", "_network"};

static void state(cairn_store_t *s, cairn_test_text_t *t) {
  cairn_test_text_reset(t);
  CAIRN_PASS(cairn_test_state(s, types, 4, CAIRN_TEST_STATE_HISTORY, t));
}

static void test_take_back_and_resign(void **state_) {
  cairn_store_t *s;
  char *dir;
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_test_text_t before = {0}, after = {0};
  cairn_taken_t *t;
  cairn_error_t err;
  uint64_t keep, head;
  size_t n;
  (void)state_;
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  char side[512];
  snprintf(side, sizeof side, "%s/taken-back.entries", dir);
  CAIRN_PASS(cairn_store_network_create(s, "Take back", net, &err));
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Acme"));
  CAIRN_PASS(cairn_store_head_seq(s, cairn_store_key(s), &keep));
  state(s, &before);
  /* the tail: a new record, an edit, a delete */
  CAIRN_PASS(cairn_test_put(s, "partner", "p2", "name", "Eastside"));
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "stage", "engaged"));
  CAIRN_PASS(cairn_test_put(s, "note", "n1", "text", "gone soon"));
  cairn_change_t *c;
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_del(c, "note", "n1"));
  CAIRN_PASS(cairn_change_commit(c, &head, &err));
  assert_int_equal(head, keep + 4);

  CAIRN_PASS(cairn_store_take_back(s, keep, &t, &err));
  assert_int_equal(cairn_taken_count(t), 4);
  assert_int_equal(access(side, F_OK), 0); /* on disk until signed again */
  state(s, &after);
  cairn_test_assert_same_text(&before, &after, "state after a take-back"); /* as if the tail never was */
  CAIRN_PASS(cairn_store_head_seq(s, cairn_store_key(s), &head));
  assert_int_equal(head, keep);

  CAIRN_PASS(cairn_store_resign(s, t, &n, &err));
  assert_int_equal(n, 4);
  assert_int_equal(access(side, F_OK), -1);
  CAIRN_PASS(cairn_store_head_seq(s, cairn_store_key(s), &head));
  assert_int_equal(head, keep + 4);
  CAIRN_FAIL(cairn_get(s, "note", "n1", NULL, NULL), CAIRN_EDELETED);
  cairn_taken_free(t);

  /* nothing above the head: nothing taken, nothing changed */
  state(s, &before);
  CAIRN_PASS(cairn_store_take_back(s, head, &t, &err));
  assert_int_equal(cairn_taken_count(t), 0);
  state(s, &after);
  cairn_test_assert_same_text(&before, &after, "state after an empty take-back");
  cairn_taken_free(t);

  /* taken back, then the very same entries come back (a relay that held them):
   * none is signed again */
  cairn_test_text_t full = {0};
  state(s, &full);
  CAIRN_PASS(cairn_store_take_back(s, keep, &t, &err));
  assert_int_equal(cairn_taken_count(t), 4);
  for (size_t i = 0; i < cairn_taken_count(t); i++) {
    size_t len;
    const uint8_t *p = cairn_taken_entry(t, i, &len);
    CAIRN_PASS(cairn_test_apply1(s, p, len, &err));
  }
  CAIRN_PASS(cairn_store_resign(s, t, &n, &err));
  assert_int_equal(n, 0);
  state(s, &after);
  cairn_test_assert_same_text(&full, &after, "state after the entries came back");
  cairn_test_text_free(&full);
  cairn_taken_free(t);

  /* taken back and reopened: the store is consistent on disk */
  CAIRN_PASS(cairn_store_take_back(s, keep, &t, &err));
  cairn_taken_free(t);
  cairn_close(s);
  CAIRN_PASS(cairn_open(dir, NULL, &s, &err));
  CAIRN_FAIL(cairn_get(s, "partner", "p2", NULL, NULL), CAIRN_ENOENT);
  CAIRN_PASS(cairn_test_put(s, "partner", "p3", "name", "after"));
  CAIRN_PASS(cairn_store_head_seq(s, cairn_store_key(s), &head));
  assert_int_equal(head, keep + 1);
  cairn_test_text_free(&before);
  cairn_test_text_free(&after);
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_take_back_and_resign),
  };
  if (cairn_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
