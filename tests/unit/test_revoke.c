/*
 * test_revoke.c — a revocation judged the same whatever the arrival order
 * (core/apply.c recompute; docs/design.md, "Membership and roles").
 *
 * Ana (a real store) owns the network and grants Rob and Mia editor. Rob writes
 * note a; Ana applies it, writes once more and revokes Rob, accepting his
 * entries up to seq 1. Rob, not knowing, writes twice: note b with his clock set
 * back (stamped before the revocation, seq 2: refused by the cut-off) and note c
 * after it (refused by his role at that stamp), then deletes Ana's note n
 * (refused too: n stays). Mia writes note c concurrently, and deletes note a
 * without having seen Rob's note: a delete concurrent with an edit, which every
 * store shows as a conflict (a store that held Rob's delete before the
 * revocation judges it again and drops it).
 * Every entry is then applied to fresh stores in many random orders (each
 * author's entries in seq order, in random batches; an entry refused outright,
 * as one whose author's grant has not arrived yet, is offered again later, as
 * sync does): every store must end byte-identical — records, conflicts,
 * history — with Rob's two late entries held as evidence only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn_test.h"

#define ORDERS 60

static const char *const types[] = {"note", "_member", "_network"};

typedef struct world {
  cairn_store_t *ana;
  char *dir;
  cairn_test_key_t rob, mia;
  cairn_test_entries_t all; /* every entry, each author's in seq order */
} world_t;

static uint64_t hlc_of(const cairn_test_entry_t *x) {
  cairn_entry_t e;
  CAIRN_PASS(cairn_entry_decode(x->data, x->len, SIZE_MAX, &e, NULL));
  return e.hlc;
}

/* k signs put note id {text} at hlc into w->all. */
static void sign_note(world_t *w, cairn_test_key_t *k, uint64_t hlc, const char *id,
                      const char *text) {
  cairn_test_entry_t x;
  uint8_t *ops;
  size_t ops_len;
  CAIRN_PASS(cairn_test_ops_put("note", id, "text", text, &ops, &ops_len));
  CAIRN_PASS(cairn_test_key_sign_at(k, hlc, ops, ops_len, &x.data, &x.len));
  free(ops);
  memcpy(x.author, k->pk, CAIRN_KEY_BYTES);
  x.seq = k->seq;
  CAIRN_PASS(cairn_test_entries_push(&w->all, &x));
}

/* k signs del note id (one letter) at hlc, having seen nothing of it, into w->all. */
static void sign_del(world_t *w, cairn_test_key_t *k, uint64_t hlc, char id) {
  cairn_test_entry_t x;
  /* [[2, "note", id, []]] */
  const uint8_t ops[] = {0x91, 0x94, 0x02, 0xa4, 'n', 'o', 't', 'e', 0xa1, (uint8_t)id, 0x90};
  CAIRN_PASS(cairn_test_key_sign_at(k, hlc, ops, sizeof ops, &x.data, &x.len));
  memcpy(x.author, k->pk, CAIRN_KEY_BYTES);
  x.seq = k->seq;
  CAIRN_PASS(cairn_test_entries_push(&w->all, &x));
}

/* Ana's entries from the (*seen + 1)th on, appended to w->all. */
static void take_anas(world_t *w, size_t *seen) {
  cairn_test_entries_t l = {0};
  CAIRN_PASS(cairn_test_lacking(NULL, w->ana, cairn_store_key(w->ana), &l));
  for (; *seen < l.n; (*seen)++) {
    CAIRN_PASS(cairn_test_entries_push(&w->all, &l.e[*seen]));
    l.e[*seen].data = NULL; /* moved */
  }
  cairn_test_entries_free(&l);
}

static void world_make(world_t *w) {
  static const char *const names[] = {"Rob", "Mia"};
  cairn_test_key_t keys[2];
  size_t seen = 0;
  cairn_change_t *c;
  memset(w, 0, sizeof *w);
  CAIRN_PASS(cairn_test_network_keys("Ana", "Late revocations", keys, names, 2, &w->ana,
                                     &w->dir));
  w->rob = keys[0];
  w->mia = keys[1];
  take_anas(w, &seen);
  uint64_t granted = hlc_of(&w->all.e[w->all.n - 1]);
  sign_note(w, &w->rob, granted + 1, "a", "Rob's, before the revocation");
  CAIRN_PASS(cairn_test_apply1(w->ana, w->all.e[w->all.n - 1].data, w->all.e[w->all.n - 1].len,
                               NULL));
  CAIRN_PASS(cairn_test_put(w->ana, "note", "n", "text", "Ana's"));
  CAIRN_PASS(cairn_change_begin(w->ana, &c));
  CAIRN_PASS(cairn_change_revoke(c, w->rob.pk, 1));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  take_anas(w, &seen);
  uint64_t revoked = hlc_of(&w->all.e[w->all.n - 1]);
  assert_true(revoked > granted + 2);
  sign_note(w, &w->rob, granted + 2, "b", "Rob's, his clock set back");
  sign_note(w, &w->rob, revoked + 1, "c", "Rob's, after the revocation");
  sign_note(w, &w->mia, revoked + 2, "c", "Mia's");
  sign_del(w, &w->rob, revoked + 3, 'n');
  sign_del(w, &w->mia, revoked + 4, 'a');
}

static void world_free(world_t *w) {
  cairn_close(w->ana);
  CAIRN_PASS(cairn_test_rmrf(w->dir));
  free(w->dir);
  cairn_test_entries_free(&w->all);
}

/* The index in w->all of each author's entries, in order, as runs. */
typedef struct runs {
  size_t idx[3][16];
  size_t len[3], next[3];
} runs_t;

static void runs_make(const world_t *w, runs_t *r) {
  const uint8_t *who[3] = {cairn_store_key(w->ana), w->rob.pk, w->mia.pk};
  memset(r, 0, sizeof *r);
  for (size_t i = 0; i < w->all.n; i++)
    for (int a = 0; a < 3; a++)
      if (memcmp(w->all.e[i].author, who[a], CAIRN_KEY_BYTES) == 0)
        r->idx[a][r->len[a]++] = i;
}

/*
 * Apply every entry of w to s in a random order (each author's in seq order),
 * in batches of 1-3; an entry refused outright waits and is offered again once
 * anything else has applied. Fails the test if some entry never applies.
 */
static void apply_shuffled(const world_t *w, cairn_store_t *s, cairn_test_rng_t *rng) {
  runs_t r;
  cairn_test_entries_t order = {0};
  runs_make(w, &r);
  for (;;) {
    size_t left[3], total = 0;
    for (int a = 0; a < 3; a++)
      total += left[a] = r.len[a] - r.next[a];
    if (total == 0)
      break;
    size_t a = cairn_test_rng_pick(rng, left, total);
    cairn_test_entry_t x = w->all.e[r.idx[a][r.next[a]++]];
    x.data = malloc(x.len);
    assert_non_null(x.data);
    memcpy(x.data, w->all.e[r.idx[a][r.next[a] - 1]].data, x.len);
    CAIRN_PASS(cairn_test_entries_push(&order, &x));
  }
  size_t done = 0, tries = 0;
  while (done < order.n) {
    size_t n = cairn_test_rng_range(rng, 1, 3), applied = 0;
    cairn_apply_stats_t st;
    if (n > order.n - done)
      n = order.n - done;
    if (cairn_test_apply_range(s, &order, done, done + n, &st, NULL) != 0)
      applied = st.failed_at;
    else
      applied = n;
    if (applied == 0) { /* refused outright: offer the rest of the list first */
      cairn_test_entry_t x = order.e[done];
      memmove(&order.e[done], &order.e[done + 1], (order.n - done - 1) * sizeof x);
      order.e[order.n - 1] = x;
      assert_true(++tries < 1000); /* bounded: some entry never applies */
      continue;
    }
    done += applied;
  }
  cairn_test_entries_free(&order);
}

static void state(cairn_store_t *s, cairn_test_text_t *t) {
  cairn_test_text_reset(t);
  CAIRN_PASS(cairn_test_state(s, types, 3, CAIRN_TEST_STATE_HISTORY, t));
}

static int count_deleted(const char *type, size_t tl, const char *id, size_t il,
                         const char *field, size_t fl, const cairn_head_t *h, size_t nh,
                         void *ud) {
  (void)type, (void)tl, (void)id, (void)il, (void)h;
  if (fl == strlen(CAIRN_DELETED_FIELD) && memcmp(field, CAIRN_DELETED_FIELD, fl) == 0 &&
      nh == 2)
    ++*(size_t *)ud;
  return 0;
}

static void check_verdicts(const world_t *w, cairn_store_t *s) {
  cairn_error_t why;
  assert_int_equal(cairn_entry_refused(s, w->rob.pk, 1, NULL), 0);
  assert_int_equal(cairn_entry_refused(s, w->rob.pk, 2, &why), 1);
  assert_contains(why.msg, "accepting its entries up to seq 1 only");
  assert_int_equal(cairn_entry_refused(s, w->rob.pk, 3, NULL), 1);
  assert_int_equal(cairn_entry_refused(s, w->rob.pk, 4, NULL), 1);
  assert_int_equal(cairn_entry_refused(s, w->mia.pk, 1, NULL), 0);
  assert_int_equal(cairn_entry_refused(s, w->mia.pk, 2, NULL), 0);
  assert_string_equal(cairn_test_field_text(s, "note", "a", "text"),
                      "Rob's, before the revocation");
  CAIRN_FAIL(cairn_get(s, "note", "b", NULL, NULL), CAIRN_ENOENT);
  assert_string_equal(cairn_test_field_text(s, "note", "c", "text"), "Mia's");
  assert_string_equal(cairn_test_field_text(s, "note", "n", "text"), "Ana's");
  /* note a: Mia's delete and Rob's edit in conflict; note n: none */
  size_t n = 0;
  CAIRN_PASS(cairn_record_conflicts(s, "note", "a", count_deleted, &n));
  assert_int_equal(n, 1);
  n = 0;
  CAIRN_PASS(cairn_record_conflicts(s, "note", "n", count_deleted, &n));
  assert_int_equal(n, 0);
}

static void test_late_revocation_any_order(void **state_) {
  world_t w;
  cairn_test_rng_t rng = {20261130};
  cairn_test_text_t want = {0}, got = {0};
  (void)state_;
  world_make(&w);
  for (int k = 0; k < ORDERS; k++) {
    cairn_store_t *s;
    char *dir;
    CAIRN_PASS(cairn_test_store("Any", &s, &dir));
    apply_shuffled(&w, s, &rng);
    check_verdicts(&w, s);
    state(s, k == 0 ? &want : &got);
    if (k > 0)
      cairn_test_assert_same_text(&want, &got, "state after another arrival order");
    cairn_close(s);
    CAIRN_PASS(cairn_test_rmrf(dir));
    free(dir);
  }
  /* Ana's own store, which judged Rob's late entries on arrival */
  for (size_t i = 0; i < w.all.n; i++) {
    cairn_buf_t b = {w.all.e[i].data, w.all.e[i].len};
    CAIRN_PASS(cairn_store_apply(w.ana, &b, 1, NULL, NULL));
  }
  check_verdicts(&w, w.ana);
  state(w.ana, &got);
  cairn_test_assert_same_text(&want, &got, "the revoker's state");
  cairn_test_text_free(&want);
  cairn_test_text_free(&got);
  world_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_late_revocation_any_order),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
