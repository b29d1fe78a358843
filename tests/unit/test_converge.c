/*
 * test_converge.c — convergence as a property (docs/design.md, "Merge": "the result
 * depends only on the set of entries, never on their arrival order; tests prove
 * it by applying the same entries in many interleavings").
 *
 * A seeded generator runs 3 to 5 author stores through many rounds of random
 * actions on a small set of records, so that authors collide often: puts of 1-3
 * fields (some unset: nil), deletes, revivals, resolutions of conflicted fields
 * and of delete/edit conflicts (keeping the record or deleting it again), and
 * partial syncs (a random prefix of what another author holds), which make
 * authors see some of each other's writes and not others, so bases, concurrent
 * edits of one field and deletes concurrent with edits (a del that saw some puts
 * and not others, a put that saw one del and not another, two dels, revivals
 * after a del seen) are common. In the second variant the owner also purges
 * records.
 *
 * Then the union of every author's entries is applied to fresh stores in many
 * random interleavings (random merges of the per-author sequences, cut into
 * batches of random sizes, sometimes overlapping what was already applied), and
 * each store's visible state (records, fields, values, stamps, history, every
 * conflict with all its heads, the version vector) must be byte-identical to the
 * first interleaving's and to each author's own store once it has everything.
 *
 * CAIRN_SEED=n runs one seed; otherwise a fixed list. A failure prints the seed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_test.h"

typedef cairn_test_node_t node_t;
typedef cairn_test_entries_t elist_t;

/* ---- seeded randomness ---- */

static cairn_test_rng_t rng;

static size_t rnd_below(size_t n) {
  return cairn_test_rng_below(&rng, n);
}

static size_t rnd_range(size_t lo, size_t hi) {
  return cairn_test_rng_range(&rng, lo, hi);
}

/* Entries of src that dst lacks (all if dst is NULL), in src's arrival order. */
static void lacking(cairn_store_t *dst, cairn_store_t *src, elist_t *out) {
  CAIRN_PASS(cairn_test_lacking(dst, src, NULL, out));
}

/* Apply l->e[from..to); fails the test unless it succeeds. */
static void apply_range(cairn_store_t *dst, const elist_t *l, size_t from, size_t to,
                        cairn_apply_stats_t *st, const char *what) {
  cairn_error_t err = {0, ""};
  int rc = cairn_test_apply_range(dst, l, from, to, st, &err);
  if (rc != 0)
    fail_msg("%s: apply of %zu entries failed: %s (%s)", what, to - from, cairn_err_name(rc),
             err.msg);
}

/* ---- the records the generator touches ---- */

static const char *const TYPES[] = {"task", "note"};
static const char *const IDS[] = {"r0", "r1", "r2", "r3"};
static const char *const FIELDS[] = {"a", "b", "c"};
#define NTYPES (sizeof TYPES / sizeof TYPES[0])
#define NIDS (sizeof IDS / sizeof IDS[0])
#define NFIELDS (sizeof FIELDS / sizeof FIELDS[0])
#define NRECS (NTYPES * NIDS)

/* Every type a state shows. */
static const char *const ALL_TYPES[] = {"_network", "_member", "task", "note"};

/* ---- state ---- */

static int noop_rec_cb(const cairn_record_t *r, void *ud) {
  (void)r;
  (void)ud;
  return 0;
}

/* The whole visible state of a store as text: equal states give equal bytes. */
static void state_of(cairn_store_t *s, cairn_test_text_t *b) {
  CAIRN_PASS(cairn_test_state(s, ALL_TYPES, sizeof ALL_TYPES / sizeof ALL_TYPES[0],
                              CAIRN_TEST_STATE_HISTORY, b));
  /* deleted and absent records are told apart too */
  for (size_t t = 0; t < NTYPES; t++)
    for (size_t i = 0; i < NIDS; i++)
      cairn_test_text_printf(b, "get %s/%s %s\n", TYPES[t], IDS[i],
                             cairn_err_name(cairn_get(s, TYPES[t], IDS[i], noop_rec_cb,
                                                            NULL)));
  assert_int_equal(b->err, 0);
}

/* Fail with the first differing line of two states. */
static void assert_states_equal(const cairn_test_text_t *want, const cairn_test_text_t *got,
                                uint64_t seed, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "seed %llu: %s (rerun with CAIRN_SEED=%llu)",
           (unsigned long long)seed, what, (unsigned long long)seed);
  cairn_test_assert_same_text(want, got, msg);
}

/* ---- the generator ---- */

#define MAX_AUTHORS 5

typedef struct world {
  uint64_t seed;
  bool purges;
  size_t nauthors;
  node_t a[MAX_AUTHORS]; /* a[0] is the owner */
  size_t prefix;         /* the owner's entries that grant everyone: seq 1..prefix */
  bool purged[NRECS];
  size_t npurged;
  unsigned counter;
  /* what happened, for the report */
  size_t puts, dels, revives, resolves, keeps, syncs, purges_done, refused;
} world_t;

static void commit_or_fail(world_t *w, cairn_change_t *c, const char *what) {
  cairn_error_t err = {0, ""};
  int rc = cairn_change_commit(c, NULL, &err);
  /* an author who has seen a purge may not reuse the id: the change is refused */
  if (rc == CAIRN_EPURGED && w->purges) {
    w->refused++;
    return;
  }
  if (rc != 0)
    fail_msg("seed %llu: %s: %s (%s)", (unsigned long long)w->seed, what, cairn_err_name(rc),
             err.msg);
}

/* A distinct small value: "<author>-<counter>", as a fixstr. */
static size_t make_value(world_t *w, size_t author, uint8_t out[32]) {
  char s[24];
  int n = snprintf(s, sizeof s, "%zu-%u", author, w->counter++);
  assert_true(n > 0 && n < 31);
  out[0] = (uint8_t)(0xa0 | n);
  memcpy(out + 1, s, (size_t)n);
  return (size_t)n + 1;
}

static void put_fields(world_t *w, size_t ai, cairn_change_t *c, size_t t, size_t i,
                       size_t nf, int resolve) {
  for (size_t k = 0; k < nf; k++) {
    uint8_t v[32];
    size_t len = make_value(w, ai, v);
    if (rnd_below(10) == 0) { /* unset */
      v[0] = 0xc0;
      len = 1;
    }
    assert_int_equal(cairn_change_put(c, TYPES[t], IDS[i], FIELDS[rnd_below(NFIELDS)], v, len,
                                      resolve),
                     0);
  }
}

/* An author puts 1-3 fields on a random record; sometimes the same entry also
 * puts on or deletes another record. */
static void act_put(world_t *w, size_t ai) {
  cairn_change_t *c;
  size_t t = rnd_below(NTYPES), i = rnd_below(NIDS);
  assert_int_equal(cairn_change_begin(w->a[ai].s, &c), 0);
  put_fields(w, ai, c, t, i, rnd_range(1, 3), 0);
  if (rnd_below(8) == 0) {
    size_t t2 = rnd_below(NTYPES), i2 = rnd_below(NIDS);
    if (t2 != t || i2 != i) {
      if (rnd_below(2))
        assert_int_equal(cairn_change_del(c, TYPES[t2], IDS[i2]), 0);
      else
        put_fields(w, ai, c, t2, i2, 1, 0);
    }
  }
  w->puts++;
  commit_or_fail(w, c, "put");
}

static void act_del(world_t *w, size_t ai) {
  cairn_change_t *c;
  assert_int_equal(cairn_change_begin(w->a[ai].s, &c), 0);
  assert_int_equal(cairn_change_del(c, TYPES[rnd_below(NTYPES)], IDS[rnd_below(NIDS)]), 0);
  w->dels++;
  commit_or_fail(w, c, "del");
}

/* Put on a record this author sees deleted (revive), else an ordinary put. */
static void act_revive(world_t *w, size_t ai) {
  size_t start = rnd_below(NRECS);
  for (size_t k = 0; k < NRECS; k++) {
    size_t r = (start + k) % NRECS, t = r / NIDS, i = r % NIDS;
    if (cairn_get(w->a[ai].s, TYPES[t], IDS[i], noop_rec_cb, NULL) == CAIRN_EDELETED) {
      cairn_change_t *c;
      assert_int_equal(cairn_change_begin(w->a[ai].s, &c), 0);
      put_fields(w, ai, c, t, i, rnd_range(1, 2), 0);
      w->revives++;
      commit_or_fail(w, c, "revive");
      return;
    }
  }
  act_put(w, ai);
}

typedef struct pick {
  size_t seen, want;
  char type[CAIRN_TYPE_MAX + 1], id[CAIRN_ID_MAX + 1], field[CAIRN_FIELD_MAX + 1];
  bool found;
} pick_t;

static int pick_cb(const char *type, size_t tl, const char *id, size_t il, const char *field,
                   size_t fl, const cairn_head_t *h, size_t nh, void *ud) {
  pick_t *p = ud;
  (void)h;
  assert_true(nh >= 2);
  if (p->seen++ == p->want) {
    snprintf(p->type, sizeof p->type, "%.*s", (int)tl, type);
    snprintf(p->id, sizeof p->id, "%.*s", (int)il, id);
    snprintf(p->field, sizeof p->field, "%.*s", (int)fl, field);
    p->found = true;
    return 1;
  }
  return 0;
}

static int count_conf_cb(const char *type, size_t tl, const char *id, size_t il,
                         const char *field, size_t fl, const cairn_head_t *h, size_t nh,
                         void *ud) {
  (void)type, (void)tl, (void)id, (void)il, (void)field, (void)fl, (void)h, (void)nh;
  ++*(size_t *)ud;
  return 0;
}

static size_t conflict_count(cairn_store_t *s) {
  size_t n = 0;
  assert_int_equal(cairn_conflicts(s, count_conf_cb, &n), 0);
  return n;
}

/* A delete/edit conflict: the record is visible, one `false` head (the latest
 * edit no delete saw) first, then `true` heads (the deletes no edit saw). */
static int count_del_conf_cb(const char *type, size_t tl, const char *id, size_t il,
                             const char *field, size_t fl, const cairn_head_t *h, size_t nh,
                             void *ud) {
  char t[CAIRN_TYPE_MAX + 1], i[CAIRN_ID_MAX + 1];
  if (fl != strlen(CAIRN_DELETED_FIELD) || memcmp(field, CAIRN_DELETED_FIELD, fl) != 0)
    return 0;
  snprintf(t, sizeof t, "%.*s", (int)tl, type);
  snprintf(i, sizeof i, "%.*s", (int)il, id);
  assert_true(nh >= 2);
  assert_true(h[0].value_len == 1 && h[0].value[0] == 0xc2);
  for (size_t k = 1; k < nh; k++) {
    assert_true(h[k].value_len == 1 && h[k].value[0] == 0xc3);
    if (k > 1)
      assert_true(cairn_stamp_cmp(&h[k - 1].stamp, &h[k].stamp) > 0);
  }
  ++*(size_t *)ud;
  return 0;
}

static size_t del_conflict_count(cairn_store_t *s) {
  size_t n = 0;
  assert_int_equal(cairn_conflicts(s, count_del_conf_cb, &n), 0);
  return n;
}

/* Resolve a random conflicted field this author sees (a put naming every head),
 * else an ordinary put. */
static void act_resolve(world_t *w, size_t ai) {
  size_t n = conflict_count(w->a[ai].s);
  if (n == 0) {
    act_put(w, ai);
    return;
  }
  pick_t p = {0, rnd_below(n), "", "", "", false};
  assert_int_equal(cairn_conflicts(w->a[ai].s, pick_cb, &p), 0);
  assert_true(p.found);
  cairn_change_t *c;
  uint8_t v[32];
  size_t len = make_value(w, ai, v);
  assert_int_equal(cairn_change_begin(w->a[ai].s, &c), 0);
  if (strcmp(p.field, CAIRN_DELETED_FIELD) == 0) {
    /* a delete/edit conflict: keep the record, or delete it having seen the edits */
    if (rnd_below(3) > 0)
      assert_int_equal(cairn_change_keep(c, p.type, p.id), 0);
    else
      assert_int_equal(cairn_change_del(c, p.type, p.id), 0);
    w->keeps++;
  } else {
    assert_int_equal(cairn_change_put(c, p.type, p.id, p.field, v, len, 1), 0);
  }
  w->resolves++;
  commit_or_fail(w, c, "resolve");
}

/* Author ai applies a random prefix of what author bi holds and ai lacks, in
 * bi's arrival order (which keeps each author's seq order). */
static void act_sync(world_t *w, size_t ai, size_t bi) {
  elist_t l;
  cairn_apply_stats_t st;
  lacking(w->a[ai].s, w->a[bi].s, &l);
  size_t n = rnd_below(4) == 0 ? l.n : rnd_range(0, l.n);
  if (n > 0)
    apply_range(w->a[ai].s, &l, 0, n, &st, "partial sync");
  if (n > 0)
    assert_int_equal(st.applied, n);
  cairn_test_entries_free(&l);
  w->syncs++;
}

/* The owner purges a random record (at most two per world). */
static void act_purge(world_t *w) {
  cairn_change_t *c;
  size_t r = rnd_below(NRECS);
  if (w->purged[r])
    return;
  assert_int_equal(cairn_change_begin(w->a[0].s, &c), 0);
  assert_int_equal(cairn_change_purge(c, TYPES[r / NIDS], IDS[r % NIDS]), 0);
  w->purged[r] = true;
  w->npurged++;
  w->purges_done++;
  commit_or_fail(w, c, "purge");
}

static void world_build(world_t *w, uint64_t seed, bool purges) {
  static const char *const names[MAX_AUTHORS] = {"owner", "ed1", "ed2", "ed3", "ed4"};
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_error_t err = {0, ""};
  cairn_store_t *editors[MAX_AUTHORS];
  memset(w, 0, sizeof *w);
  w->seed = seed;
  w->purges = purges;
  rng.state = seed;
  w->nauthors = rnd_range(3, MAX_AUTHORS);
  for (size_t i = 0; i < w->nauthors; i++) {
    CAIRN_PASS(cairn_test_node_new(&w->a[i], names[i], NULL));
    editors[i] = w->a[i].s;
  }

  /*
   * The owner's genesis and one entry granting every other author `editor` come
   * first, in every interleaving below: an entry is judged by its author's role
   * at its stamp, and a store that does not hold the grant yet refuses the
   * author's entries as not a member (CAIRN_ENOTMEMBER). In a real network the
   * relay's arrival order guarantees this (a grant arrives before the member's
   * first entry); here the prefix does. Every later entry has a greater stamp
   * than the grants, because each editor applied them before writing.
   */
  if (cairn_store_network_create(w->a[0].s, "converge", net, &err) != 0)
    fail_msg("network create: %s", err.msg);
  if (cairn_test_grant_all(w->a[0].s, editors + 1, w->nauthors - 1, "editor", &err) != 0)
    fail_msg("grant: %s", err.msg);
  w->prefix = 2;
  for (size_t i = 1; i < w->nauthors; i++) {
    elist_t l;
    cairn_apply_stats_t st;
    lacking(w->a[i].s, w->a[0].s, &l);
    assert_int_equal(l.n, w->prefix);
    apply_range(w->a[i].s, &l, 0, l.n, &st, "owner prefix");
    cairn_test_entries_free(&l);
  }

  size_t rounds = rnd_range(120, 200);
  for (size_t r = 0; r < rounds; r++) {
    size_t ai = rnd_below(w->nauthors);
    size_t roll = rnd_below(100);
    if (w->purges && ai == 0 && roll < 6 && w->npurged < 2) {
      act_purge(w);
    } else if (roll < 38) {
      act_put(w, ai);
    } else if (roll < 48) {
      act_del(w, ai);
    } else if (roll < 56) {
      act_revive(w, ai);
    } else if (roll < 68) {
      act_resolve(w, ai);
    } else {
      size_t bi = (ai + rnd_range(1, w->nauthors - 1)) % w->nauthors;
      act_sync(w, ai, bi);
    }
  }
}

static void world_free(world_t *w) {
  for (size_t i = 0; i < w->nauthors; i++)
    cairn_test_node_free(&w->a[i]);
}

/* The union of every author's entries, deduplicated by (author, seq). Each
 * author's entries keep their seq order. With purges, one copy of an entry may
 * be redacted and another not: the copy taken is random (both are valid). */
static void world_union(world_t *w, elist_t *u) {
  uint64_t total = 0;
  memset(u, 0, sizeof *u);
  for (size_t i = 0; i < w->nauthors; i++) {
    uint64_t own;
    assert_int_equal(cairn_store_head_seq(w->a[i].s, cairn_store_key(w->a[i].s), &own), 0);
    total += own;
  }
  for (size_t i = 0; i < w->nauthors; i++) {
    elist_t l;
    lacking(NULL, w->a[i].s, &l);
    for (size_t k = 0; k < l.n; k++) {
      size_t j;
      for (j = 0; j < u->n; j++)
        if (u->e[j].seq == l.e[k].seq &&
            memcmp(u->e[j].author, l.e[k].author, CAIRN_KEY_BYTES) == 0)
          break;
      if (j == u->n) {
        CAIRN_PASS(cairn_test_entries_push(u, &l.e[k]));
        l.e[k].data = NULL;
      } else if (w->purges && rnd_below(2)) {
        free(u->e[j].data);
        u->e[j] = l.e[k];
        l.e[k].data = NULL;
      }
    }
    cairn_test_entries_free(&l);
  }
  assert_int_equal(u->n, total);
}

/* Per-author runs of the union, in seq order. */
typedef struct run {
  const uint8_t *author;
  size_t *idx; /* indexes into the union, by seq */
  size_t n;
} run_t;

static size_t runs_of(const elist_t *u, size_t from, run_t *runs, size_t max) {
  size_t nr = 0;
  for (size_t i = from; i < u->n; i++) {
    size_t r;
    for (r = 0; r < nr; r++)
      if (memcmp(runs[r].author, u->e[i].author, CAIRN_KEY_BYTES) == 0)
        break;
    if (r == nr) {
      assert_true(nr < max);
      runs[nr].author = u->e[i].author;
      runs[nr].idx = calloc(u->n, sizeof(size_t));
      assert_non_null(runs[nr].idx);
      runs[nr].n = 0;
      nr++;
    }
    if (runs[r].n > 0)
      assert_int_equal(u->e[runs[r].idx[runs[r].n - 1]].seq + 1, u->e[i].seq);
    runs[r].idx[runs[r].n++] = i;
  }
  return nr;
}

/*
 * One interleaving into a fresh store: the owner prefix, then a random merge of
 * the per-author runs (each run in seq order) in batches of 1..50 entries,
 * sometimes starting a few entries back (already held: skipped).
 */
static void interleave(world_t *w, const elist_t *u, int mode, cairn_test_text_t *state) {
  run_t runs[MAX_AUTHORS];
  size_t nr = runs_of(u, w->prefix, runs, MAX_AUTHORS);
  size_t left = u->n - w->prefix, pos[MAX_AUTHORS] = {0}, rem[MAX_AUTHORS];
  elist_t order = {0};
  cairn_apply_stats_t st;
  node_t f;
  char what[96];

  for (size_t i = 0; i < w->prefix; i++) {
    assert_int_equal(u->e[i].seq, i + 1);
    CAIRN_PASS(cairn_test_entries_push(&order, &u->e[i]));
  }
  for (size_t r = 0; r < nr; r++)
    rem[r] = runs[r].n;
  for (; left > 0; left--) {
    size_t r = cairn_test_rng_pick(&rng, rem, left);
    rem[r]--;
    CAIRN_PASS(cairn_test_entries_push(&order, &u->e[runs[r].idx[pos[r]++]]));
  }
  for (size_t r = 0; r < nr; r++)
    free(runs[r].idx);

  CAIRN_PASS(cairn_test_node_new(&f, "replica", NULL));
  snprintf(what, sizeof what, "interleaving mode %d", mode);
  apply_range(f.s, &order, 0, w->prefix, &st, what);
  for (size_t i = w->prefix; i < order.n;) {
    size_t n = mode == 1 ? order.n - i : mode == 2 ? 1 : rnd_range(1, 50);
    if (i + n > order.n)
      n = order.n - i;
    size_t back = rnd_below(6) == 0 ? rnd_range(1, 5) : 0;
    if (back > i)
      back = i;
    apply_range(f.s, &order, i - back, i + n, &st, what);
    if (st.applied != n || st.skipped != back)
      fail_msg("seed %llu: batch of %zu new + %zu held: applied %zu, skipped %zu",
               (unsigned long long)w->seed, n, back, st.applied, st.skipped);
    i += n;
  }
  state_of(f.s, state);
  cairn_test_node_free(&f);
  free(order.e); /* the entries belong to u */
}

/* For purged records: absent, and no op on them left in any log. */
static void assert_purged(world_t *w, cairn_store_t *s) {
  size_t hits = 0;
  for (size_t r = 0; r < NRECS; r++)
    if (w->purged[r]) {
      size_t h;
      assert_int_equal(cairn_get(s, TYPES[r / NIDS], IDS[r % NIDS], noop_rec_cb, NULL),
                       CAIRN_ENOENT);
      CAIRN_PASS(cairn_test_log_scan(s, TYPES[r / NIDS], IDS[r % NIDS], &h, NULL));
      hits += h;
    }
  if (hits != 0)
    fail_msg("seed %llu: %zu ops on purged records left in a log", (unsigned long long)w->seed,
             hits);
}

#define INTERLEAVINGS 32

/* Run one seed; returns the number of conflicted fields in the final state, and
 * in *dels how many delete/edit conflicts it met (resolved or left). */
static size_t run_seed(uint64_t seed, bool purges, size_t *dels) {
  world_t w;
  elist_t u;
  cairn_test_text_t want = {0}, got = {0};
  char what[64];
  clock_t t0 = clock();

  world_build(&w, seed, purges);
  world_union(&w, &u);

  /* reference: the first interleaving */
  interleave(&w, &u, 0, &want);
  for (int k = 1; k < INTERLEAVINGS; k++) {
    /* one interleaving as a single batch, one entry by entry, the rest random */
    interleave(&w, &u, k == 1 ? 1 : k == 2 ? 2 : 0, &got);
    snprintf(what, sizeof what, "interleaving %d", k);
    assert_states_equal(&want, &got, seed, what);
  }

  /* every author, once it holds everything, shows the same */
  for (size_t i = 0; i < w.nauthors; i++) {
    cairn_apply_stats_t st;
    apply_range(w.a[i].s, &u, 0, u.n, &st, "final sync");
    state_of(w.a[i].s, &got);
    snprintf(what, sizeof what, "author %zu after a full sync", i);
    assert_states_equal(&want, &got, seed, what);
    if (purges)
      assert_purged(&w, w.a[i].s);
  }
  if (purges) {
    /* a fresh replica, verifying every signature, accepts the union (some copies
     * redacted) and ends without any purged content */
    node_t f;
    cairn_store_opts_t o = {0};
    cairn_apply_stats_t st;
    CAIRN_PASS(cairn_test_node_new(&f, "verify", NULL));
    o.verify_all = 1;
    CAIRN_PASS(cairn_test_node_reopen(&f, &o));
    apply_range(f.s, &u, 0, u.n, &st, "verify_all replica");
    state_of(f.s, &got);
    assert_states_equal(&want, &got, seed, "verify_all replica");
    assert_purged(&w, f.s);
    cairn_test_node_free(&f);
  }

  size_t nconf = conflict_count(w.a[0].s), ndel = del_conflict_count(w.a[0].s);
  size_t visible = 0;
  for (size_t r = 0; r < NRECS; r++)
    visible += cairn_get(w.a[0].s, TYPES[r / NIDS], IDS[r % NIDS], noop_rec_cb, NULL) ==
               0;
  *dels = w.keeps + ndel;
  print_message("seed %-6llu authors %zu entries %3zu (puts %zu dels %zu revives %zu "
                "resolves %zu of which delete/edit %zu, syncs %zu purges %zu refused %zu): "
                "%zu conflicted fields (%zu delete/edit), %zu/%zu records visible, %.2fs\n",
                (unsigned long long)seed, w.nauthors, u.n, w.puts, w.dels, w.revives,
                w.resolves, w.keeps, w.syncs, w.purges_done, w.refused, nconf, ndel, visible,
                NRECS, (double)(clock() - t0) / CLOCKS_PER_SEC);
  cairn_test_text_free(&want);
  cairn_test_text_free(&got);
  cairn_test_entries_free(&u);
  world_free(&w);
  return nconf;
}

static void run_seeds(const uint64_t *seeds, size_t n, bool purges) {
  const char *env = getenv("CAIRN_SEED");
  if (env != NULL && env[0] != '\0') {
    uint64_t seed = strtoull(env, NULL, 10);
    print_message("CAIRN_SEED=%llu\n", (unsigned long long)seed);
    size_t dels;
    run_seed(seed, purges, &dels);
    return;
  }
  size_t with_conflicts = 0, with_dels = 0;
  for (size_t i = 0; i < n; i++) {
    size_t dels;
    with_conflicts += run_seed(seeds[i], purges, &dels) > 0;
    with_dels += dels > 0;
  }
  /* a generator that rarely leaves conflicts tests too little */
  if (with_conflicts * 3 < n * 2)
    fail_msg("only %zu of %zu seeds end with conflicts: the generator is too tame",
             with_conflicts, n);
  if (with_dels * 3 < n * 2)
    fail_msg("only %zu of %zu seeds meet a delete/edit conflict: the generator is too tame",
             with_dels, n);
}

static void test_converge(void **state) {
  static const uint64_t seeds[] = {1, 2, 3, 42, 1234, 99991};
  (void)state;
  run_seeds(seeds, sizeof seeds / sizeof seeds[0], false);
}

static void test_converge_with_purges(void **state) {
  static const uint64_t seeds[] = {7, 8, 2024, 31337};
  (void)state;
  run_seeds(seeds, sizeof seeds / sizeof seeds[0], true);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_converge),
      cmocka_unit_test(test_converge_with_purges),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
