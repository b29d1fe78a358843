/*
 * test_changes.c — the changes feed (client/lib/changes.c, cairn_changes) and
 * the --since forms it reads (cairn_changes_parse_since).
 *
 * Ana (a real store) owns the network and grants Rob and Mia editor. Mia's put
 * reaches Ana before Rob's, though Rob's is older: the feed orders by stamp, not
 * arrival. Ana then writes one entry of two ops (a put and a del), a put on a
 * record she purges next (the put is erased: no type, id or fields left), and
 * revokes Rob; Rob's next entry, stamped after the revocation, is held as
 * evidence and comes marked refused. Ops on `_member` and `_network` records
 * come only when asked for. The since and until windows are checked against
 * the whole feed filtered by hand. Unordered, the same changes come in arrival
 * order.
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

#define MS ((uint64_t)1 << 16) /* one millisecond of HLC */

typedef struct world {
  cairn_store_t *ana;
  char *dir;
  cairn_test_key_t rob, mia;
} world_t;

/* One change as the feed gave it, as text, with its time. */
typedef struct seen {
  char line[256];
  uint64_t time_ms, hlc;
  int refused;
} seen_t;

typedef struct feed {
  seen_t v[64];
  size_t n;
  size_t stop_after; /* 0: never stop */
  int fail_with;     /* returned by the callback at stop_after, when not 0 */
} feed_t;

/* "NAME OP TYPE ID FIELDS" (an erased op: "NAME erased"), "refused" appended. */
static int collect(const cairn_changes_item_t *c, void *ud) {
  static const char *const ops[] = {"erased", "put", "del", "purge"};
  feed_t *f = ud;
  seen_t *s = &f->v[f->n++];
  cairn_field_iter_t it;
  cairn_field_t fl;
  int n;
  assert_true(f->n < sizeof f->v / sizeof f->v[0]);
  assert_int_equal(c->time_ms, c->hlc >> 16);
  assert_int_equal(c->hlc, c->entry->hlc);
  assert_int_equal(c->seq, c->entry->seq);
  assert_memory_equal(c->author, c->entry->author, CAIRN_KEY_BYTES);
  assert_int_equal(c->kind, c->op->kind);
  n = snprintf(s->line, sizeof s->line, "%s %s", c->author_name ? c->author_name : "?",
               ops[c->kind]);
  if (c->kind == CAIRN_OP_REDACTED) {
    assert_null(c->type);
    assert_null(c->id);
  } else {
    n += snprintf(s->line + n, sizeof s->line - (size_t)n, " %.*s %.*s", (int)c->type_len,
                  c->type, (int)c->id_len, c->id);
  }
  cairn_field_iter_init(c->op, &it);
  for (int first = 1; cairn_field_next(&it, &fl); first = 0)
    n += snprintf(s->line + n, sizeof s->line - (size_t)n, "%s%.*s", first ? " " : ",",
                  (int)fl.name_len, fl.name);
  if (c->refused != NULL)
    snprintf(s->line + n, sizeof s->line - (size_t)n, " refused");
  s->time_ms = c->time_ms;
  s->hlc = c->hlc;
  s->refused = c->refused != NULL;
  if (f->stop_after != 0 && f->n == f->stop_after)
    return f->fail_with != 0 ? f->fail_with : 1;
  return 0;
}

static int seen_cmp(const void *a, const void *b) {
  return strcmp(((const seen_t *)a)->line, ((const seen_t *)b)->line);
}

static uint64_t last_hlc(cairn_store_t *s) {
  feed_t f = {.n = 0};
  cairn_changes_opts_t all = {0, 0, CAIRN_CHANGES_RESERVED};
  CAIRN_PASS(cairn_changes(s, &all, collect, &f));
  assert_true(f.n > 0);
  return f.v[f.n - 1].hlc;
}

/* k signs put note id {field: text} at hlc, applied to Ana as a received entry. */
static void receive_note(world_t *w, cairn_test_key_t *k, uint64_t hlc, const char *id,
                         const char *field, const char *text) {
  uint8_t *ops, *entry;
  size_t ops_len, len;
  CAIRN_PASS(cairn_test_ops_put("note", id, field, text, &ops, &ops_len));
  CAIRN_PASS(cairn_test_key_sign_at(k, hlc, ops, ops_len, &entry, &len));
  CAIRN_PASS(cairn_test_apply1(w->ana, entry, len, NULL));
  free(ops);
  free(entry);
}

static void world_make(world_t *w) {
  static const char *const names[] = {"Rob", "Mia"};
  cairn_test_key_t keys[2];
  uint8_t mp[] = {0xa3, 'y', 'e', 's'};
  cairn_change_t *c;
  memset(w, 0, sizeof *w);
  CAIRN_PASS(cairn_test_network_keys("Ana", "The feed", keys, names, 2, &w->ana, &w->dir));
  w->rob = keys[0];
  w->mia = keys[1];
  uint64_t granted = last_hlc(w->ana);
  /* Mia's arrives first; Rob's, one millisecond older, second */
  receive_note(w, &w->mia, granted + 2 * MS, "m1", "text", "Mia's");
  receive_note(w, &w->rob, granted + 1 * MS, "r1", "text", "Rob's");
  /* one entry, two ops */
  CAIRN_PASS(cairn_change_begin(w->ana, &c));
  CAIRN_PASS(cairn_change_put(c, "note", "n1", "done", mp, sizeof mp, 0));
  CAIRN_PASS(cairn_change_del(c, "note", "m1"));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  /* a record written, then purged: its put is erased */
  CAIRN_PASS(cairn_test_put(w->ana, "note", "x", "text", "a secret"));
  CAIRN_PASS(cairn_change_begin(w->ana, &c));
  CAIRN_PASS(cairn_change_purge(c, "note", "x"));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  /* Rob revoked, accepting his entries up to seq 1; his next one is evidence */
  CAIRN_PASS(cairn_change_begin(w->ana, &c));
  CAIRN_PASS(cairn_change_revoke(c, w->rob.pk, 1));
  CAIRN_PASS(cairn_change_commit(c, NULL, NULL));
  receive_note(w, &w->rob, last_hlc(w->ana) + MS, "r2", "text", "after the revocation");
}

static void world_free(world_t *w) {
  cairn_close(w->ana);
  CAIRN_PASS(cairn_test_rmrf(w->dir));
  free(w->dir);
}

static void expect(const feed_t *f, const char *const *want, size_t n) {
  for (size_t i = 0; i < f->n && i < n; i++)
    assert_string_equal(f->v[i].line, want[i]);
  assert_int_equal(f->n, n);
}

/* Ops on records, by stamp, erased and refused ones marked; entries' ops in order. */
static void test_feed_order(void **state) {
  static const char *const want[] = {
      "Rob put note r1 text", "Mia put note m1 text", "Ana put note n1 done",
      "Ana del note m1",      "Ana erased",           "Ana purge note x",
      "Rob put note r2 text refused",
  };
  world_t w;
  feed_t f = {.n = 0};
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_changes(w.ana, NULL, collect, &f));
  expect(&f, want, sizeof want / sizeof want[0]);
  for (size_t i = 1; i < f.n; i++)
    assert_true(f.v[i - 1].hlc <= f.v[i].hlc);
  /* the two ops of one entry share its stamp */
  assert_int_equal(f.v[2].hlc, f.v[3].hlc);
  world_free(&w);
}

/* With CAIRN_CHANGES_RESERVED the genesis, grants and revocation come too. */
static void test_feed_reserved(void **state) {
  world_t w;
  feed_t f = {.n = 0};
  cairn_changes_opts_t o = {0, 0, CAIRN_CHANGES_RESERVED};
  size_t members = 0, networks = 0;
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_changes(w.ana, &o, collect, &f));
  assert_int_equal(f.n, 7 + 5);
  assert_int_equal(strncmp(f.v[0].line, "Ana put _network ", 17), 0); /* the genesis */
  for (size_t i = 0; i < f.n; i++) {
    members += strstr(f.v[i].line, " _member ") != NULL;
    networks += strncmp(f.v[i].line, "Ana put _network ", 17) == 0;
  }
  assert_int_equal(networks, 1);
  assert_int_equal(members, 4); /* the owner, Rob, Mia, Rob's revocation */
  for (size_t i = 1; i < f.n; i++)
    assert_true(f.v[i - 1].hlc <= f.v[i].hlc);
  world_free(&w);
}

/* since and until keep exactly the changes of their window. */
static void test_feed_window(void **state) {
  world_t w;
  feed_t all = {.n = 0};
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_changes(w.ana, NULL, collect, &all));
  assert_true(all.v[0].time_ms < all.v[1].time_ms); /* Rob's r1, a millisecond older */
  for (size_t k = 0; k < all.n; k++) {
    feed_t f = {.n = 0}, g = {.n = 0};
    cairn_changes_opts_t since = {all.v[k].time_ms, 0, 0};
    cairn_changes_opts_t until = {0, all.v[k].time_ms, 0};
    size_t want_since = 0, want_until = 0;
    CAIRN_PASS(cairn_changes(w.ana, &since, collect, &f));
    CAIRN_PASS(cairn_changes(w.ana, &until, collect, &g));
    for (size_t i = 0; i < all.n; i++) {
      if (all.v[i].time_ms >= all.v[k].time_ms)
        assert_string_equal(f.v[want_since++].line, all.v[i].line);
      else
        assert_string_equal(g.v[want_until++].line, all.v[i].line);
    }
    assert_int_equal(f.n, want_since);
    assert_int_equal(g.n, want_until);
  }
  /* since Mia's put: Rob's older one is left out */
  feed_t f = {.n = 0};
  cairn_changes_opts_t o = {all.v[1].time_ms, 0, 0};
  CAIRN_PASS(cairn_changes(w.ana, &o, collect, &f));
  assert_string_equal(f.v[0].line, "Mia put note m1 text");
  /* after everything, and an empty window: nothing */
  f.n = 0;
  o.since_ms = all.v[all.n - 1].time_ms + 1;
  CAIRN_PASS(cairn_changes(w.ana, &o, collect, &f));
  assert_int_equal(f.n, 0);
  o = (cairn_changes_opts_t){all.v[3].time_ms, all.v[3].time_ms, 0};
  CAIRN_PASS(cairn_changes(w.ana, &o, collect, &f));
  assert_int_equal(f.n, 0);
  world_free(&w);
}

/* A callback stops the walk: > 0 quietly, < 0 with its code. */
static void test_feed_stop(void **state) {
  world_t w;
  feed_t f = {.n = 0, .stop_after = 3};
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_changes(w.ana, NULL, collect, &f));
  assert_int_equal(f.n, 3);
  f = (feed_t){.n = 0, .stop_after = 4, .fail_with = CAIRN_ENOMEM};
  CAIRN_FAIL(cairn_changes(w.ana, NULL, collect, &f), CAIRN_ENOMEM);
  assert_int_equal(f.n, 4);
  CAIRN_FAIL(cairn_changes(w.ana, NULL, NULL, &f), CAIRN_EINVAL);
  world_free(&w);
}

/* Unordered: the same changes in arrival order (Mia's before Rob's older one),
 * the same window and the same stops. */
static void test_feed_unordered(void **state) {
  static const char *const want[] = {
      "Mia put note m1 text", "Rob put note r1 text", "Ana put note n1 done",
      "Ana del note m1",      "Ana erased",           "Ana purge note x",
      "Rob put note r2 text refused",
  };
  world_t w;
  feed_t f = {.n = 0}, all = {.n = 0}, reserved = {.n = 0};
  cairn_changes_opts_t o = {0, 0, CAIRN_CHANGES_UNORDERED};
  (void)state;
  world_make(&w);
  CAIRN_PASS(cairn_changes(w.ana, &o, collect, &f));
  expect(&f, want, sizeof want / sizeof want[0]);
  /* as many with the reserved records as the ordered walk gives */
  o.flags |= CAIRN_CHANGES_RESERVED;
  CAIRN_PASS(cairn_changes(w.ana, &o, collect, &reserved));
  assert_int_equal(reserved.n, 7 + 5);
  /* each since and until window: the changes of the ordered walk's, in
   * another order */
  CAIRN_PASS(cairn_changes(w.ana, NULL, collect, &all));
  for (size_t k = 0; k < all.n; k++)
    for (int until = 0; until < 2; until++) {
      feed_t ordered = {.n = 0};
      cairn_changes_opts_t window = {until ? 0 : all.v[k].time_ms, until ? all.v[k].time_ms : 0,
                                     0};
      CAIRN_PASS(cairn_changes(w.ana, &window, collect, &ordered));
      f.n = 0;
      window.flags = CAIRN_CHANGES_UNORDERED;
      CAIRN_PASS(cairn_changes(w.ana, &window, collect, &f));
      assert_int_equal(f.n, ordered.n);
      qsort(f.v, f.n, sizeof f.v[0], seen_cmp);
      qsort(ordered.v, ordered.n, sizeof ordered.v[0], seen_cmp);
      for (size_t i = 0; i < f.n; i++)
        assert_string_equal(f.v[i].line, ordered.v[i].line);
    }
  /* stops */
  f = (feed_t){.n = 0, .stop_after = 2};
  o = (cairn_changes_opts_t){0, 0, CAIRN_CHANGES_UNORDERED};
  CAIRN_PASS(cairn_changes(w.ana, &o, collect, &f));
  assert_int_equal(f.n, 2);
  f = (feed_t){.n = 0, .stop_after = 3, .fail_with = CAIRN_ENOMEM};
  CAIRN_FAIL(cairn_changes(w.ana, &o, collect, &f), CAIRN_ENOMEM);
  assert_int_equal(f.n, 3);
  world_free(&w);
}

/* An author whose `_member` record has no name comes without one. */
static void test_feed_names(void **state) {
  static const char *const names[] = {NULL};
  cairn_store_t *s;
  char *dir;
  cairn_test_key_t k;
  feed_t f = {.n = 0};
  uint8_t *ops, *entry;
  size_t ops_len, len;
  (void)state;
  CAIRN_PASS(cairn_test_network_keys("Ana", "names", &k, names, 1, &s, &dir));
  CAIRN_PASS(cairn_test_ops_put("note", "k1", "text", "unnamed", &ops, &ops_len));
  CAIRN_PASS(cairn_test_key_sign_at(&k, last_hlc(s) + MS, ops, ops_len, &entry, &len));
  CAIRN_PASS(cairn_test_apply1(s, entry, len, NULL));
  free(ops);
  free(entry);
  CAIRN_PASS(cairn_test_put(s, "note", "a1", "text", "named"));
  CAIRN_PASS(cairn_changes(s, NULL, collect, &f));
  assert_int_equal(f.n, 2);
  assert_string_equal(f.v[0].line, "? put note k1 text");
  assert_string_equal(f.v[1].line, "Ana put note a1 text");
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

static void since_is(const char *text, uint64_t now, uint64_t want) {
  uint64_t got = 1;
  int rc = cairn_changes_parse_since(text, now, &got);
  if (rc != 0)
    fail_msg("'%s' refused: %s", text, cairn_err_name(rc));
  if (got != want)
    fail_msg("'%s' gave %llu, expected %llu", text, (unsigned long long)got,
             (unsigned long long)want);
}

static void test_parse_since(void **state) {
  static const char *const bad[] = {
      "", "d", "-1d", "1.5d", "7days", "1234567d", "yesterday", "2026-1-5", "2026-13-01",
      "2026-02-29", "1969-12-31", "2026-01-01T", "2026-01-01T25:00", "2026-01-01T10",
      "2026-01-01T10:00:61", "2026-01-01T10:00Z junk", "2026-01-01T10:00+5", "2026-01-01x",
      "2026-01-01T10:00:00.Z", "20260101",
  };
  const uint64_t day = 86400000, jan1 = 1767225600000; /* 2026-01-01T00:00:00Z */
  uint64_t out;
  (void)state;
  since_is("2026-01-01", 0, jan1);
  since_is("2024-02-29", 0, 1709164800000);
  since_is("1970-01-01", 0, 0);
  since_is("2026-01-01T09:30", 0, jan1 + 34200000);
  since_is("2026-01-01T09:30:15Z", 0, jan1 + 34215000);
  since_is("2026-01-01T09:30:15.250Z", 0, jan1 + 34215250);
  since_is("2026-01-01T09:30:15.2509Z", 0, jan1 + 34215250);
  since_is("2026-01-01T09:30:00+02:00", 0, jan1 + 27000000);
  since_is("2026-01-01T09:30:00-0130", 0, jan1 + 39600000);
  since_is("2026-01-01 09:30:00Z", 0, jan1 + 34200000);
  since_is("7d", jan1, jan1 - 7 * day);
  since_is("0d", jan1, jan1);
  since_is("30D", jan1, jan1 - 30 * day);
  since_is("99999d", jan1, 0); /* before 1970: from the start */
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    if (cairn_changes_parse_since(bad[i], jan1, &out) != CAIRN_EINVAL)
      fail_msg("'%s' was read as a since time", bad[i]);
  CAIRN_FAIL(cairn_changes_parse_since(NULL, jan1, &out), CAIRN_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_feed_order),  cmocka_unit_test(test_feed_reserved),
      cmocka_unit_test(test_feed_window), cmocka_unit_test(test_feed_stop),
      cmocka_unit_test(test_feed_names),  cmocka_unit_test(test_parse_since),
      cmocka_unit_test(test_feed_unordered),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
