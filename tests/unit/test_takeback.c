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

/* Changes taken back and not signed again stay in DIR/taken-back.entries: a
 * later take-back includes them first, and signing the lot brings all back. */
static void test_taken_pending(void **state_) {
  cairn_store_t *s;
  char *dir;
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_taken_t *t;
  cairn_error_t err;
  uint64_t keep;
  size_t n;
  (void)state_;
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  CAIRN_PASS(cairn_store_network_create(s, "Pending", net, &err));
  CAIRN_PASS(cairn_store_head_seq(s, cairn_store_key(s), &keep));
  CAIRN_PASS(cairn_store_taken_pending(s, &t, &err));
  assert_null(t);
  CAIRN_PASS(cairn_test_put(s, "note", "x1", "text", "first"));
  CAIRN_PASS(cairn_store_take_back(s, keep, &t, &err));
  assert_int_equal(cairn_taken_count(t), 1);
  cairn_taken_free(t); /* not signed again: say the disk was full */
  CAIRN_PASS(cairn_store_taken_pending(s, &t, &err));
  assert_int_equal(cairn_taken_count(t), 1);
  cairn_taken_free(t);
  CAIRN_PASS(cairn_test_put(s, "note", "x2", "text", "second"));
  CAIRN_PASS(cairn_store_take_back(s, keep, &t, &err));
  assert_int_equal(cairn_taken_count(t), 2);
  CAIRN_PASS(cairn_store_resign(s, t, &n, &err));
  assert_int_equal(n, 2);
  cairn_taken_free(t);
  CAIRN_PASS(cairn_store_taken_pending(s, &t, &err));
  assert_null(t);
  assert_string_equal(cairn_test_field_text(s, "note", "x1", "text"), "first");
  assert_string_equal(cairn_test_field_text(s, "note", "x2", "text"), "second");
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

/* A next key waits beside the key, then takes its place; a switch cut short
 * between its two renames is finished when the store opens. */
static void test_key_switch(void **state_) {
  cairn_store_t *s;
  char *dir, key[600], old[600];
  uint8_t pk[CAIRN_KEY_BYTES], again[CAIRN_KEY_BYTES], first[CAIRN_KEY_BYTES];
  cairn_error_t err;
  (void)state_;
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  memcpy(first, cairn_store_key(s), CAIRN_KEY_BYTES);
  assert_int_equal(cairn_store_key_waiting(s, pk), 0);
  CAIRN_FAIL(cairn_store_key_switch(s, &err), CAIRN_ENOENT);
  CAIRN_PASS(cairn_store_key_next(s, pk, &err));
  assert_int_equal(cairn_store_key_waiting(s, again), 1);
  assert_memory_equal(pk, again, CAIRN_KEY_BYTES);
  CAIRN_PASS(cairn_store_key_next(s, again, &err)); /* the same key again */
  assert_memory_equal(pk, again, CAIRN_KEY_BYTES);
  assert_memory_equal(cairn_store_key(s), first, CAIRN_KEY_BYTES);
  CAIRN_PASS(cairn_store_key_switch(s, &err));
  assert_memory_equal(cairn_store_key(s), pk, CAIRN_KEY_BYTES);
  assert_int_equal(cairn_store_key_waiting(s, again), 0);
  /* cut short: key moved to key.old, key.next not yet in place */
  CAIRN_PASS(cairn_store_key_next(s, pk, &err));
  cairn_close(s);
  snprintf(key, sizeof key, "%s/key", dir);
  snprintf(old, sizeof old, "%s/key.old", dir);
  assert_int_equal(rename(key, old), 0);
  CAIRN_PASS(cairn_open(dir, NULL, &s, &err));
  assert_memory_equal(cairn_store_key(s), pk, CAIRN_KEY_BYTES);
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

/* k signs put note id {text} as its next entry, a second after now plus k's
 * seq ms (after its grant, whatever the clocks); the bytes are applied to s. */
static void note_by(cairn_store_t *s, cairn_test_key_t *k, const char *id, const char *text,
                    int expect) {
  static uint64_t base;
  uint8_t *ops, *e;
  size_t ops_len, len;
  if (base == 0)
    base = cairn_now_ms() + 1000;
  CAIRN_PASS(cairn_test_ops_put("note", id, "text", text, &ops, &ops_len));
  CAIRN_PASS(cairn_test_key_sign_at(k, (base + k->seq + 1) << 16, ops, ops_len, &e, &len));
  assert_int_equal(cairn_test_apply1(s, e, len, NULL), expect);
  free(ops);
  free(e);
}

/* Another author's log that forked from the relay's (its copy reached here by
 * bundle): dropping it from seq 2 lets the relay's chain apply, and the dropped
 * entries are kept in DIR/forked.entries. */
static void test_drop_fork(void **state_) {
  cairn_store_t *s;
  char *dir, path[600];
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_test_key_t k, relays, at1;
  cairn_change_t *c;
  cairn_error_t err;
  size_t dropped;
  uint64_t head;
  (void)state_;
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  CAIRN_PASS(cairn_store_network_create(s, "Forks", net, &err));
  cairn_test_key_init(&k, NULL);
  memcpy(k.network, net, CAIRN_KEY_BYTES);
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_member(c, k.pk, CAIRN_ROLE_EDITOR, "Kim", NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  note_by(s, &k, "k1", "both copies", 0);
  at1 = relays = k; /* the copy the relay holds goes on from here */
  note_by(s, &k, "k2", "the forked copy", 0);
  note_by(s, &k, "k3", "the forked copy, again", 0);
  note_by(s, &relays, "r2", "the relay's", CAIRN_EFORK);
  CAIRN_FAIL(cairn_store_drop_fork(s, cairn_store_key(s), 0, &dropped, &err), CAIRN_EINVAL);
  CAIRN_PASS(cairn_store_drop_fork(s, k.pk, 1, &dropped, &err));
  assert_int_equal(dropped, 2);
  CAIRN_PASS(cairn_store_head_seq(s, k.pk, &head));
  assert_int_equal(head, 1);
  CAIRN_FAIL(cairn_get(s, "note", "k2", NULL, NULL), CAIRN_ENOENT);
  assert_string_equal(cairn_test_field_text(s, "note", "k1", "text"), "both copies");
  relays = at1; /* the relay's r2 again, on the kept head */
  note_by(s, &relays, "r2", "the relay's", 0);
  assert_string_equal(cairn_test_field_text(s, "note", "r2", "text"), "the relay's");
  snprintf(path, sizeof path, "%s/forked.entries", dir);
  assert_int_equal(access(path, F_OK), 0);
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

/* A bundle carrying a forked copy of another author's log, applied to a store
 * that holds the other history: those entries are set aside in
 * DIR/forked.entries and the rest of the bundle is applied. */
static void test_bundle_sets_aside_forks(void **state_) {
  cairn_store_t *s, *s2;
  char *dir, *dir2, path[600], bdl[600];
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_test_key_t k, m, relays;
  cairn_bundle_stats_t st;
  cairn_change_t *c;
  cairn_error_t err;
  (void)state_;
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  CAIRN_PASS(cairn_test_store("Copy", &s2, &dir2));
  CAIRN_PASS(cairn_store_network_create(s, "Forks on a bundle", net, &err));
  cairn_test_key_init(&k, NULL);
  cairn_test_key_init(&m, NULL);
  memcpy(k.network, net, CAIRN_KEY_BYTES);
  memcpy(m.network, net, CAIRN_KEY_BYTES);
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_member(c, k.pk, CAIRN_ROLE_EDITOR, "Kim", NULL));
  CAIRN_PASS(cairn_change_member(c, m.pk, CAIRN_ROLE_EDITOR, "Max", NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  CAIRN_PASS(cairn_test_sync(s2, s, NULL, &err));
  note_by(s, &k, "k1", "both copies", 0);
  CAIRN_PASS(cairn_test_sync(s2, s, NULL, &err));
  relays = k;
  note_by(s2, &k, "k2", "the forked copy", 0);
  note_by(s2, &k, "k3", "the forked copy, again", 0);
  note_by(s, &relays, "r2", "the relay's", 0);
  note_by(s2, &m, "m1", "Max's, after the fork on the same bundle", 0);
  snprintf(bdl, sizeof bdl, "%s/copy.bundle", dir2);
  CAIRN_PASS(cairn_bundle_create(s2, bdl, NULL, NULL, NULL, &err));
  CAIRN_PASS(cairn_bundle_apply(s, bdl, 0, &st, &err));
  assert_int_equal(st.set_aside, 2);
  assert_int_equal(st.applied, 1); /* m1; the rest is held already */
  assert_string_equal(cairn_test_field_text(s, "note", "m1", "text"),
                      "Max's, after the fork on the same bundle");
  assert_string_equal(cairn_test_field_text(s, "note", "r2", "text"), "the relay's");
  CAIRN_FAIL(cairn_get(s, "note", "k2", NULL, NULL), CAIRN_ENOENT);
  snprintf(path, sizeof path, "%s/forked.entries", dir);
  assert_int_equal(access(path, F_OK), 0);
  cairn_close(s);
  cairn_close(s2);
  CAIRN_PASS(cairn_test_rmrf(dir));
  CAIRN_PASS(cairn_test_rmrf(dir2));
  free(dir);
  free(dir2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_take_back_and_resign),
      cmocka_unit_test(test_taken_pending),
      cmocka_unit_test(test_key_switch),
      cmocka_unit_test(test_drop_fork),
      cmocka_unit_test(test_bundle_sets_aside_forks),
  };
  if (cairn_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
