/*
 * test_crash.c — crash atomicity of cairn_store_apply (docs/design.md, "Storage": "A
 * crash leaves either all of a batch or none of it"; "A relay or client killed at
 * any instant ... reopens without repair").
 *
 * The parent prepares signed entries once (three authors writing one-op entries
 * in their own stores, exported), orders them into batches, and builds a
 * reference store batch by batch, keeping a hash of its visible state after each
 * prefix of batches. Then, many times over, a child process opens a durable store
 * and applies the batches from where the store is, one cairn_store_apply per
 * batch, and the parent SIGKILLs it at a random instant. After each kill the
 * parent reopens the store with no repair and checks that:
 *
 *   - it opens;
 *   - its log, in arrival order, is exactly the entries of a prefix of the batch
 *     list (every batch all or nothing);
 *   - its visible state (records, conflicts, heads) is that prefix's reference.
 *
 * The store starts with a small map so that growing the map after MDB_MAP_FULL
 * also happens under fire. Each child first re-applies the last batch the store
 * holds, which must be skipped whole. At the end everything is applied and the
 * state must equal the reference's final state.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/wait.h>

#include <sodium.h>

#include "cairn_test.h"

typedef cairn_test_entries_t elist_t;
typedef cairn_test_entry_t ent_t;

/* Sizes: tuned so that the whole test stays well under a minute with
 * AddressSanitizer on a slow CI machine. */
#define NAUTHORS 3
#define NBATCHES 40
#define BATCH_MIN 150
#define BATCH_MAX 600
#define NRECORDS 400
#define MIN_KILLS 25
#define MAX_KILLS 80
#define KILL_BUDGET_S 30.0

/* ---- randomness, time ---- */

static cairn_test_rng_t rng = {0x5eed};

static size_t rnd_below(size_t n) {
  return cairn_test_rng_below(&rng, n);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- temporary stores ---- */

/* A store in a fresh directory (*dir is malloc'd). */
static cairn_store_t *store_new(char **dir, const char *name, int no_sync, size_t map_size) {
  cairn_store_opts_t o = {0};
  cairn_store_t *s;
  o.no_sync = no_sync;
  o.map_size = map_size;
  CAIRN_PASS(cairn_test_store_exact(name, &o, &s, dir));
  return s;
}

static void store_remove(char **dir) {
  CAIRN_PASS(cairn_test_rmrf(*dir));
  free(*dir);
  *dir = NULL;
}

/* ---- the workload ---- */

typedef struct work {
  elist_t order;              /* every entry, in the order batches deliver them */
  size_t nbatches;            /* batch b is order[start[b] .. start[b + 1]) */
  size_t start[NBATCHES + 2];
  uint8_t ref[NBATCHES + 2][crypto_generichash_BYTES]; /* state after b batches */
  double batch_s;             /* mean time to apply one batch (reference store) */
} work_t;

static void commit(cairn_store_t *s, cairn_change_t *c) {
  cairn_error_t err = {0, ""};
  int rc = cairn_change_commit(c, NULL, &err);
  if (rc != 0)
    fail_msg("commit: %s (%s)", cairn_err_name(rc), err.msg);
}

/* One one-op entry: a put of one field of a random record, or (1 in 20) a del. */
static void write_one(cairn_store_t *s, unsigned author, unsigned i) {
  cairn_change_t *c;
  char id[16], field[4];
  uint8_t v[8];
  snprintf(id, sizeof id, "c%04u", (unsigned)rnd_below(NRECORDS));
  assert_int_equal(cairn_change_begin(s, &c), 0);
  if (rnd_below(20) == 0) {
    assert_int_equal(cairn_change_del(c, "crash", id), 0);
  } else {
    snprintf(field, sizeof field, "f%u", (unsigned)rnd_below(4));
    v[0] = 0xce; /* uint 32 */
    v[1] = (uint8_t)author;
    v[2] = (uint8_t)(i >> 16);
    v[3] = (uint8_t)(i >> 8);
    v[4] = (uint8_t)i;
    assert_int_equal(cairn_change_put(c, "crash", id, field, v, 5, 0), 0);
  }
  commit(s, c);
}

/* ---- state ---- */

static void state_of(cairn_store_t *s, cairn_test_text_t *b) {
  static const char *const types[] = {"_network", "_member", "crash"};
  CAIRN_PASS(cairn_test_state(s, types, sizeof types / sizeof types[0], 0, b));
}

static void state_hash(cairn_store_t *s, uint8_t out[crypto_generichash_BYTES], size_t *len) {
  cairn_test_text_t b = {0};
  state_of(s, &b);
  crypto_generichash(out, crypto_generichash_BYTES, (const uint8_t *)b.p, b.n, NULL, 0);
  if (len != NULL)
    *len = b.n;
  cairn_test_text_free(&b);
}

/* The log in arrival order must be order[0 .. n): count it and check it. */
typedef struct logcheck {
  const elist_t *order;
  size_t n, bad;
} logcheck_t;

static int logcheck_cb(const cairn_entry_t *e, void *ud) {
  logcheck_t *c = ud;
  if (c->n >= c->order->n || c->order->e[c->n].seq != e->seq ||
      memcmp(c->order->e[c->n].author, e->author, CAIRN_KEY_BYTES) != 0) {
    if (c->bad == SIZE_MAX)
      c->bad = c->n;
  }
  c->n++;
  return 0;
}

/* ---- preparing the workload ---- */

static void prepare(work_t *w) {
  char *dirs[NAUTHORS];
  cairn_store_t *src[NAUTHORS];
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_error_t err = {0, ""};
  elist_t own[NAUTHORS];
  size_t pos[NAUTHORS] = {0}, rem[NAUTHORS], total = 0, left = 0;

  memset(w, 0, sizeof *w);
  for (int i = 0; i < NAUTHORS; i++)
    src[i] = store_new(&dirs[i], i == 0 ? "owner" : "editor", 1, 0);
  if (cairn_store_network_create(src[0], "crash", net, &err) != 0)
    fail_msg("network create: %s", err.msg);
  if (cairn_test_grant_all(src[0], src + 1, NAUTHORS - 1, "editor", &err) != 0)
    fail_msg("grant: %s", err.msg);
  {
    /* the owner's genesis and grants: the editors need them to write, and every
     * store needs them first (batch 0) to accept the editors' entries */
    elist_t pre;
    cairn_apply_stats_t st;
    CAIRN_PASS(cairn_test_lacking(NULL, src[0], NULL, &pre));
    assert_int_equal(pre.n, 2);
    for (int i = 1; i < NAUTHORS; i++)
      CAIRN_PASS(cairn_test_apply_range(src[i], &pre, 0, 2, &st, &err));
    cairn_test_entries_free(&pre);
  }

  /* batch sizes, then as many entries as they need, spread over the authors */
  w->nbatches = NBATCHES + 1;
  size_t sizes[NBATCHES];
  for (int b = 0; b < NBATCHES; b++) {
    sizes[b] = BATCH_MIN + rnd_below(BATCH_MAX - BATCH_MIN + 1);
    total += sizes[b];
  }
  size_t per[NAUTHORS] = {0};
  for (size_t i = 0; i < total; i++)
    per[rnd_below(NAUTHORS)]++;
  for (int a = 0; a < NAUTHORS; a++)
    for (size_t i = 0; i < per[a]; i++)
      write_one(src[a], (unsigned)a, (unsigned)i);

  for (int a = 0; a < NAUTHORS; a++) {
    CAIRN_PASS(cairn_test_lacking(NULL, src[a], cairn_store_key(src[a]), &own[a]));
    left += own[a].n;
  }
  assert_int_equal(left, total + 2);

  /* batch 0: the owner's two prefix entries; then a random merge of the runs */
  CAIRN_PASS(cairn_test_entries_push(&w->order, &own[0].e[0]));
  CAIRN_PASS(cairn_test_entries_push(&w->order, &own[0].e[1]));
  pos[0] = 2;
  left -= 2;
  for (int a = 0; a < NAUTHORS; a++)
    rem[a] = own[a].n - pos[a];
  for (; left > 0; left--) {
    size_t a = cairn_test_rng_pick(&rng, rem, left);
    rem[a]--;
    CAIRN_PASS(cairn_test_entries_push(&w->order, &own[a].e[pos[a]++]));
  }
  for (int a = 0; a < NAUTHORS; a++)
    free(own[a].e); /* the entries now belong to w->order */
  w->start[0] = 0;
  w->start[1] = 2;
  for (int b = 0; b < NBATCHES; b++)
    w->start[b + 2] = w->start[b + 1] + sizes[b];
  assert_int_equal(w->start[w->nbatches], w->order.n);

  for (int i = 0; i < NAUTHORS; i++) {
    cairn_close(src[i]);
    store_remove(&dirs[i]);
  }
}

static int apply_batch(cairn_store_t *s, const work_t *w, size_t b, cairn_apply_stats_t *st,
                       cairn_error_t *err) {
  return cairn_test_apply_range(s, &w->order, w->start[b], w->start[b + 1], st, err);
}

/* The reference: the state hash after each prefix of batches. */
static void build_reference(work_t *w) {
  char *dir;
  cairn_store_t *s = store_new(&dir, "reference", 1, 0);
  cairn_apply_stats_t st;
  cairn_error_t err = {0, ""};
  double t0;
  state_hash(s, w->ref[0], NULL);
  t0 = now_s();
  for (size_t b = 0; b < w->nbatches; b++) {
    int rc = apply_batch(s, w, b, &st, &err);
    if (rc != 0)
      fail_msg("reference batch %zu: %s (%s)", b, cairn_err_name(rc), err.msg);
    assert_int_equal(st.applied, w->start[b + 1] - w->start[b]);
    double t1 = now_s();
    w->batch_s += t1 - t0;
    state_hash(s, w->ref[b + 1], NULL);
    t0 = now_s();
  }
  w->batch_s /= (double)w->nbatches;
  cairn_close(s);
  store_remove(&dir);
}

/* ---- the child ---- */

/* Open the durable store and apply batches from `from`; exit 0 when all are
 * applied. Never returns. Exit codes name the failure for the parent. */
static void child(const char *dir, const work_t *w, size_t from, size_t map_size) {
  cairn_store_opts_t o = {0};
  cairn_error_t err = {0, ""};
  cairn_apply_stats_t st;
  cairn_store_t *s;
  alarm(60); /* never outlive a parent that died */
  o.no_sync = 0;
  o.map_size = map_size;
  if (cairn_open(dir, &o, &s, &err) != 0) {
    fprintf(stderr, "child: open: %s\n", err.msg);
    _exit(10);
  }
  for (size_t b = from; b < w->nbatches; b++) {
    size_t n = w->start[b + 1] - w->start[b];
    int rc = apply_batch(s, w, b, &st, &err);
    if (rc != 0) {
      fprintf(stderr, "child: batch %zu: %s (%s)\n", b, cairn_err_name(rc), err.msg);
      _exit(11);
    }
    if (st.applied + st.skipped != n) {
      fprintf(stderr, "child: batch %zu: applied %zu + skipped %zu != %zu\n", b, st.applied,
              st.skipped, n);
      _exit(12);
    }
  }
  cairn_close(s);
  _exit(0);
}

/* Reopen the store after a kill and check it; returns how many batches it holds. */
static size_t check_store(const char *dir, const work_t *w, size_t map_size, size_t kill_no) {
  cairn_store_opts_t o = {0};
  cairn_error_t err = {0, ""};
  cairn_store_t *s;
  logcheck_t lc = {&w->order, 0, SIZE_MAX};
  uint8_t h[crypto_generichash_BYTES];
  size_t b;
  o.map_size = map_size;
  int rc = cairn_open(dir, &o, &s, &err);
  if (rc != 0)
    fail_msg("kill %zu: the store does not reopen: %s (%s)", kill_no, cairn_err_name(rc),
             err.msg);
  assert_int_equal(cairn_store_log(s, logcheck_cb, &lc), 0);
  for (b = 0; b <= w->nbatches; b++)
    if (w->start[b] == lc.n)
      break;
  if (b > w->nbatches)
    fail_msg("kill %zu: the log holds %zu entries: not a whole number of batches", kill_no,
             lc.n);
  if (lc.bad != SIZE_MAX)
    fail_msg("kill %zu: log entry %zu is not the one batch order puts there", kill_no, lc.bad);
  state_hash(s, h, NULL);
  if (memcmp(h, w->ref[b], sizeof h) != 0)
    fail_msg("kill %zu: the store holds %zu batches but its records differ from the "
             "reference after %zu batches",
             kill_no, b, b);
  cairn_close(s);
  return b;
}

static void test_crash_atomicity(void **state) {
  work_t *w = calloc(1, sizeof *w);
  char *dir;
  size_t held = 0, kills = 0, progress_kills = 0, stalls = 0, runs = 0;
  const size_t map_size = 1u << 20; /* small: the map grows while children die */
  double t0 = now_s(), delay_s;
  (void)state;
  assert_non_null(w);

  prepare(w);
  double t_prep = now_s() - t0;
  build_reference(w);
  double t_ref = now_s() - t0 - t_prep;

  /* the durable store, created empty */
  cairn_close(store_new(&dir, "crash", 0, map_size));

  /* a kill lands uniformly within about two batches after the open */
  delay_s = 2.5 * w->batch_s + 0.01;
  double t_kills = now_s();
  while (held < w->nbatches) {
    bool do_kill = kills < MIN_KILLS ||
                   (kills < MAX_KILLS && now_s() - t_kills < KILL_BUDGET_S);
    size_t from = held > 0 ? held - 1 : 0; /* re-apply the last held batch: skipped */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
      child(dir, w, from, map_size);
    runs++;
    if (do_kill) {
      useconds_t us = (useconds_t)((double)rnd_below(1000001) / 1e6 * delay_s * 1e6);
      usleep(us);
      kill(pid, SIGKILL);
    }
    int status;
    pid_t r;
    while ((r = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
      ;
    assert_int_equal(r, pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
      fail_msg("child failed with exit code %d (see its stderr)", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) {
      if (WTERMSIG(status) != SIGKILL)
        fail_msg("child died of signal %d", WTERMSIG(status));
      kills++;
    }
    size_t before = held;
    held = check_store(dir, w, map_size, kills);
    if (held < before)
      fail_msg("kill %zu: the store went back from %zu to %zu batches", kills, before, held);
    if (WIFSIGNALED(status) && held > before && held < w->nbatches)
      progress_kills++;
    /* a kill that keeps landing before any commit: give the child more time */
    if (held == before && do_kill && ++stalls >= 3) {
      delay_s *= 2;
      stalls = 0;
    } else if (held != before) {
      stalls = 0;
    }
    /* finished before enough kills: start over on a fresh store */
    if (held == w->nbatches && kills < MIN_KILLS) {
      store_remove(&dir);
      cairn_close(store_new(&dir, "crash", 0, map_size));
      held = 0;
      delay_s /= 2;
    }
  }
  double t_kill_loop = now_s() - t_kills;

  /* the end: applying everything again changes nothing; the state is the final
   * reference */
  {
    cairn_store_opts_t o = {0};
    cairn_error_t err = {0, ""};
    cairn_apply_stats_t st;
    cairn_store_t *s;
    uint8_t h[crypto_generichash_BYTES];
    assert_int_equal(cairn_open(dir, &o, &s, &err), 0);
    for (size_t b = 0; b < w->nbatches; b++) {
      assert_int_equal(apply_batch(s, w, b, &st, &err), 0);
      assert_int_equal(st.applied, 0);
      assert_int_equal(st.skipped, w->start[b + 1] - w->start[b]);
    }
    state_hash(s, h, NULL);
    assert_memory_equal(h, w->ref[w->nbatches], sizeof h);
    cairn_close(s);
  }
  print_message("%zu entries in %zu batches; prepare %.1fs, reference %.1fs (%.0f ms/batch); "
                "%zu runs, %zu kills (%zu mid-way with progress), kill loop %.1fs\n",
                w->order.n, w->nbatches, t_prep, t_ref, w->batch_s * 1e3, runs, kills,
                progress_kills, t_kill_loop);
  assert_true(kills >= MIN_KILLS);
  store_remove(&dir);
  cairn_test_entries_free(&w->order);
  free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crash_atomicity),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
