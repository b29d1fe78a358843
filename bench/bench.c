/*
 * bench.c — cairn's benchmark (docs/design.md, "Performance targets").
 *
 * One run measures the floors on this machine and cairn's workloads, and prints
 * each workload's rate as a ratio of the floor it is bounded by:
 *
 *   floors      ed25519 sign and verify (libsodium, one core), BLAKE2b-256 of 200
 *               bytes, LMDB puts inside one write transaction, durable LMDB commits
 *   (a)         local changes of one op, each committed durably
 *               (vs the durable-commit floor: one signature and one commit, whose
 *               ~13 dirty pages cost more than the floor's one put)
 *   (b)         local changes of 1,000 ops each (ops/s vs the LMDB put floor)
 *   (c)         applying a bundle of a 100k-entry history of four authors into a
 *               fresh store (entries/s vs the LMDB put floor; target >= 0.20), and
 *               the rate that verifying every signature would cap it at
 *   (d)         the same apply with verify_all (the cost of every signature)
 *   (e)         a revocation that arrives after the history: everything judged again
 *   (f)         typed queries over 100k commitments (default schema): a plain scan,
 *               `list --where` with two comparisons (status, due date) read by a
 *               scan, and an `=` on the partner with a range of due dates read by
 *               the commitments-by-partner index (ms each, the best of three)
 *   (g)         the meeting report against a scan of its records: report_bench.c
 *   (h)         importing as many CSV rows as the history has entries (rows/s vs (c);
 *               target >= 0.3): import_bench.c
 *   (i)         `cairn ui`'s GET and PUT of a record from a load loop on 127.0.0.1
 *               (requests/s, p50, p99; 1 and 4 connections) beside cairn_get and the
 *               same change by the library in the same run: web_bench.c
 *   sync        push, fresh pull, reconnect, idle connections and fan-out against a
 *               real relay (`cairnd serve`, a child process): sync_bench.c
 *
 * Every workload runs in a child process of its own, so that its peak RSS
 * (getrusage of the child, read by wait4) is its own; results come back over a
 * pipe. Stores live in one temporary directory that is removed at the end.
 *
 * Output: a table, or with --json one JSON object per line and workload.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <lmdb.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "bundle.h"
#include "bytes.h"
#include "entry.h"
#include "cairn.h"

#ifndef CAIRN_BENCH_BUNDLE
#define CAIRN_BENCH_BUNDLE 0
#endif

#define HEADER_LIKE_BYTES 152 /* an entry header's size: what is signed and verified */
#define HASH_INPUT_BYTES 200
#define LMDB_VALUE_BYTES 100
#define PUT_KEY_BYTES 32
#define APPLY_BATCH 4096      /* entries per transaction when applying (bundle default) */
#define INTERLEAVE 64         /* entries of one author in a row in the history */
#define EDITORS 3
#define ROUND_FLOOR 10 /* durable commits between clock reads */

volatile sig_atomic_t stop_signal;
static volatile pid_t current_child; /* the workload running, for on_signal */
static volatile uint8_t sink; /* keeps measured results alive */

double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

row_t *row_init(row_t *r, const char *name, const char *floor) {
  memset(r, 0, sizeof *r);
  snprintf(r->name, sizeof r->name, "%s", name);
  snprintf(r->floor, sizeof r->floor, "%s", floor ? floor : "");
  r->target = NAN;
  r->target_min = NAN;
  r->ratio = NAN;
  r->entries_per_s = NAN;
  r->p50_s = NAN;
  r->p99_s = NAN;
  return r;
}

void row_set(row_t *r, uint64_t n, double seconds) {
  r->n = n;
  r->seconds = seconds;
  r->rate = seconds > 0 ? (double)n / seconds : 0;
}

CAIRN_PRINTF(2, 3)
int row_fail(row_t *r, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->note, sizeof r->note, fmt, ap);
  va_end(ap);
  r->failed = 1;
  return -1;
}

CAIRN_PRINTF(1, 2)
void progress(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("cairn-bench: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

/* ---- small helpers ---- */

/* A MessagePack string (fixstr or str8) of s into out; returns its length. */
size_t mp_str(uint8_t *out, const char *s) {
  size_t n = strlen(s);
  if (n < 32) {
    out[0] = (uint8_t)(0xa0 | n);
    memcpy(out + 1, s, n);
    return n + 1;
  }
  out[0] = 0xd9;
  out[1] = (uint8_t)n;
  memcpy(out + 2, s, n);
  return n + 2;
}

void path_of(char *out, size_t size, const bench_t *b, const char *name) {
  snprintf(out, size, "%s/%s", b->root, name);
}

/* Remove a directory tree (our temporary stores: plain files and directories). */
void rm_tree(const char *path) {
  DIR *d = opendir(path);
  struct dirent *de;
  char sub[PATH_MAX];
  struct stat st;
  if (d == NULL) {
    unlink(path);
    return;
  }
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) >= (int)sizeof sub)
      continue;
    if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
      rm_tree(sub);
    else
      unlink(sub);
  }
  closedir(d);
  rmdir(path);
}

static uint64_t file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Total bytes of a store's log (every entry as stored). */
static int sum_len(const cairn_entry_t *e, void *ud) {
  *(uint64_t *)ud += e->len;
  return 0;
}

static uint64_t log_bytes(cairn_store_t *s) {
  uint64_t n = 0;
  if (cairn_store_export(s, NULL, sum_len, &n) != 0)
    return 0;
  return n;
}

/* ---- floors ---- */

static int floor_sign(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "floor_ed25519_sign", NULL);
  uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  uint8_t msg[HEADER_LIKE_BYTES], sig[crypto_sign_BYTES];
  uint64_t n = 0;
  double t0, t;
  crypto_sign_keypair(pk, sk);
  randombytes_buf(msg, sizeof msg);
  t0 = now_s();
  do {
    for (int i = 0; i < 64; i++, n++) {
      msg[0] = (uint8_t)n;
      crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
      sink ^= sig[0];
    }
    t = now_s() - t0;
  } while (t < b->crypto_secs);
  sodium_memzero(sk, sizeof sk);
  row_set(r, n, t);
  snprintf(r->note, sizeof r->note, "%d-byte message, one core", HEADER_LIKE_BYTES);
  return 0;
}

static int floor_verify(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "floor_ed25519_verify", NULL);
  uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
  uint8_t msg[HEADER_LIKE_BYTES], sig[crypto_sign_BYTES];
  uint64_t n = 0;
  double t0, t;
  crypto_sign_keypair(pk, sk);
  randombytes_buf(msg, sizeof msg);
  crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
  sodium_memzero(sk, sizeof sk);
  t0 = now_s();
  do {
    for (int i = 0; i < 64; i++, n++)
      if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
        return row_fail(r, "a valid signature did not verify");
    t = now_s() - t0;
  } while (t < b->crypto_secs);
  row_set(r, n, t);
  snprintf(r->note, sizeof r->note, "%d-byte message, one core", HEADER_LIKE_BYTES);
  return 0;
}

static int floor_hash(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "floor_blake2b_200", NULL);
  uint8_t in[HASH_INPUT_BYTES], out[crypto_generichash_BYTES];
  uint64_t n = 0;
  double t0, t;
  randombytes_buf(in, sizeof in);
  t0 = now_s();
  do {
    for (int i = 0; i < 256; i++, n++) {
      crypto_generichash(out, sizeof out, in, sizeof in, NULL, 0);
      in[0] ^= out[0]; /* each hash depends on the last */
    }
    t = now_s() - t0;
  } while (t < b->crypto_secs);
  sink ^= in[0];
  row_set(r, n, t);
  snprintf(r->note, sizeof r->note, "BLAKE2b-256 of %d bytes", HASH_INPUT_BYTES);
  return 0;
}

/* A fresh LMDB environment in dir with one unnamed database. */
static int lmdb_open(const char *dir, unsigned flags, size_t map, MDB_env **env, row_t *r) {
  int rc;
  if (mkdir(dir, 0700) != 0)
    return row_fail(r, "mkdir %s: %s", dir, strerror(errno));
  if ((rc = mdb_env_create(env)) != 0)
    return row_fail(r, "mdb_env_create: %s", mdb_strerror(rc));
  if ((rc = mdb_env_set_mapsize(*env, map)) != 0 ||
      (rc = mdb_env_open(*env, dir, flags | MDB_NOTLS, 0600)) != 0) {
    mdb_env_close(*env);
    *env = NULL;
    return row_fail(r, "mdb_env_open: %s", mdb_strerror(rc));
  }
  return 0;
}

/*
 * The put floor: n puts of 8-byte big-endian keys and 100-byte values in one write
 * transaction, timed over the puts (the commit, durable or not, is reported in
 * the note). The environment is MDB_NOSYNC only so that the commit of ~n*120
 * bytes does not slow the run; the timed loop is the same either way.
 */
/* splitmix64: keys for the put floor, made before the clock starts. */
static uint64_t mix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/*
 * LMDB puts in one transaction of n keys of PUT_KEY_BYTES: in random order (the
 * floor: cairn's keys are author keys, hashes and record ids, which land all over
 * the tree), or ascending (append at the right edge: LMDB's best case, shown for
 * reference).
 */
static int lmdb_put_run(bench_t *b, row_t *r, const char *dirname, bool ascending) {
  char dir[PATH_MAX + 32];
  uint8_t val[LMDB_VALUE_BYTES];
  MDB_env *env = NULL;
  MDB_txn *txn = NULL;
  MDB_dbi dbi;
  double t0, t, tc;
  uint64_t state = 42, n = b->lmdb_puts;
  int rc;
  uint8_t *keys = malloc(n * PUT_KEY_BYTES);
  if (keys == NULL)
    return row_fail(r, "out of memory");
  for (uint64_t i = 0; i < n; i++) {
    uint8_t *k = keys + i * PUT_KEY_BYTES;
    for (int j = 0; j < PUT_KEY_BYTES; j += 8) {
      uint64_t x = mix64(&state);
      memcpy(k + j, &x, 8);
    }
    if (ascending)
      cairn_put_be64(k, i);
  }
  path_of(dir, sizeof dir, b, dirname);
  if (lmdb_open(dir, MDB_NOSYNC, (size_t)n * 512 + ((size_t)64 << 20), &env, r) != 0) {
    free(keys);
    return -1;
  }
  memset(val, 0x5a, sizeof val);
  if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) != 0 ||
      (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) != 0) {
    row_fail(r, "mdb_txn_begin: %s", mdb_strerror(rc));
    goto fail;
  }
  t0 = now_s();
  for (uint64_t i = 0; i < n; i++) {
    MDB_val k = {PUT_KEY_BYTES, keys + i * PUT_KEY_BYTES}, v = {sizeof val, val};
    memcpy(val, k.mv_data, 8);
    if ((rc = mdb_put(txn, dbi, &k, &v, 0)) != 0) {
      row_fail(r, "mdb_put: %s", mdb_strerror(rc));
      goto fail;
    }
  }
  t = now_s() - t0;
  rc = mdb_txn_commit(txn);
  txn = NULL;
  tc = now_s() - t0 - t;
  if (rc != 0) {
    row_fail(r, "mdb_txn_commit: %s", mdb_strerror(rc));
    goto fail;
  }
  row_set(r, n, t);
  snprintf(r->note, sizeof r->note,
           "%d-byte keys %s, %d-byte values; puts only (commit, no fsync: %.3f s more)",
           PUT_KEY_BYTES, ascending ? "ascending (append; reference only)" : "in random order",
           LMDB_VALUE_BYTES, tc);
  mdb_env_close(env);
  free(keys);
  return 0;
fail:
  if (txn != NULL)
    mdb_txn_abort(txn);
  mdb_env_close(env);
  free(keys);
  return -1;
}

static int floor_lmdb_put(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "floor_lmdb_put_1txn", NULL);
  if (lmdb_put_run(b, r, "floor_put", false) != 0)
    return -1;
  r = row_init(&rows[(*nrows)++], "ref_lmdb_put_1txn_append", NULL);
  return lmdb_put_run(b, r, "floor_put_append", true);
}

/* The durable-commit floor: one small put per transaction, committed with fsync. */
typedef struct durable {
  MDB_env *env;
  MDB_dbi dbi;
  uint64_t next;
} durable_t;

static int durable_open(const bench_t *b, durable_t *d, row_t *r) {
  char dir[PATH_MAX + 32];
  MDB_txn *txn;
  int rc;
  memset(d, 0, sizeof *d);
  path_of(dir, sizeof dir, b, "floor_durable");
  if (lmdb_open(dir, 0, (size_t)64 << 20, &d->env, r) != 0)
    return -1;
  if ((rc = mdb_txn_begin(d->env, NULL, 0, &txn)) != 0 ||
      (rc = mdb_dbi_open(txn, NULL, 0, &d->dbi)) != 0 || (rc = mdb_txn_commit(txn)) != 0) {
    mdb_env_close(d->env);
    d->env = NULL;
    return row_fail(r, "cannot open the database: %s", mdb_strerror(rc));
  }
  return 0;
}

static void durable_close(durable_t *d) {
  if (d->env != NULL)
    mdb_env_close(d->env);
  d->env = NULL;
}

/* n transactions of one put each, each committed durably. */
static int durable_commits(durable_t *d, uint64_t n, row_t *r) {
  uint8_t key[8], val[LMDB_VALUE_BYTES];
  MDB_val k = {sizeof key, key}, v = {sizeof val, val};
  MDB_txn *txn;
  int rc;
  memset(val, 0x5a, sizeof val);
  for (uint64_t i = 0; i < n; i++) {
    cairn_put_be64(key, d->next++);
    if ((rc = mdb_txn_begin(d->env, NULL, 0, &txn)) != 0)
      return row_fail(r, "mdb_txn_begin: %s", mdb_strerror(rc));
    if ((rc = mdb_put(txn, d->dbi, &k, &v, 0)) != 0) {
      mdb_txn_abort(txn);
      return row_fail(r, "mdb_put: %s", mdb_strerror(rc));
    }
    if ((rc = mdb_txn_commit(txn)) != 0)
      return row_fail(r, "mdb_txn_commit: %s", mdb_strerror(rc));
  }
  return 0;
}

/* The floor alone, when (a) does not run (it measures the floor interleaved). */
static int floor_lmdb_durable(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "floor_lmdb_durable_commit", NULL);
  durable_t d;
  uint64_t n = 0;
  double t0, t;
  if (durable_open(b, &d, r) != 0)
    return -1;
  t0 = now_s();
  do {
    if (durable_commits(&d, ROUND_FLOOR, r) != 0) {
      durable_close(&d);
      return -1;
    }
    n += ROUND_FLOOR;
    t = now_s() - t0;
  } while (t < b->durable_secs);
  durable_close(&d);
  row_set(r, n, t);
  snprintf(r->note, sizeof r->note, "one %d-byte put per transaction, default fsync",
           LMDB_VALUE_BYTES);
  return 0;
}

/* ---- stores ---- */

/* A new store in root/name; with a network of its own if owner. */
int store_new(const bench_t *b, const char *name, const cairn_store_opts_t *opts,
                     bool owner, cairn_store_t **out, row_t *r) {
  char dir[PATH_MAX + 32];
  cairn_error_t err = {0, ""};
  uint8_t net[CAIRN_KEY_BYTES];
  path_of(dir, sizeof dir, b, name);
  if (cairn_create(dir, name, opts, out, &err) != 0)
    return row_fail(r, "create %s: %s", name, err.msg);
  if (owner && cairn_store_network_create(*out, "cairn bench", net, &err) != 0) {
    cairn_close(*out);
    *out = NULL;
    return row_fail(r, "network create: %s", err.msg);
  }
  return 0;
}

/* One change of one put with the given fields (name, msgpack value) pairs. */
int put_change(cairn_store_t *s, const char *type, const char *id, size_t nfields,
                      const char *const *names, const uint8_t *const *vals,
                      const size_t *lens, row_t *r) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  int rc;
  if ((rc = cairn_change_begin(s, &c)) != 0)
    return row_fail(r, "change begin: %s", cairn_strerror(rc));
  for (size_t i = 0; i < nfields; i++)
    if ((rc = cairn_change_put(c, type, id, names[i], vals[i], lens[i], 0)) != 0) {
      cairn_change_abort(c);
      return row_fail(r, "change put %s %s: %s", type, id, cairn_strerror(rc));
    }
  if (cairn_change_commit(c, NULL, &err) != 0)
    return row_fail(r, "commit %s %s: %s", type, id, err.msg);
  return 0;
}

/* (a) local changes of one op each, committed durably (default options).
 *
 * Durable commits cost what the disk makes an fsync cost, and on a shared or
 * virtual disk that drifts by 2x within seconds. So the durable-commit floor is
 * measured here too, interleaved with the changes in rounds of ROUND commits, and
 * the ratio compares the two over the same stretch of time. */
#define ROUND 20
static int work_local_1op(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *f = row_init(&rows[(*nrows)++], "floor_lmdb_durable_commit", NULL);
  row_t *r = row_init(&rows[(*nrows)++], "a_local_change_1op_durable",
                      "floor_lmdb_durable_commit");
  cairn_store_t *s;
  static const char *const names[] = {"title"};
  uint8_t val[64];
  const uint8_t *vals[1] = {val};
  size_t lens[1];
  char id[32], title[48];
  durable_t d;
  double t0, t = 0, tf = 0;
  uint64_t nf = 0;
  /* no pass mark: the requirement is one signature and one durable commit per
   * change (change.c); the ratio shows what the commit's extra pages cost (it
   * dirties ~13 B-tree pages: log, arrivals, records, history, heads, meta) */
  if (durable_open(b, &d, f) != 0)
    return -1;
  if (store_new(b, "local1", NULL, true, &s, r) != 0) {
    durable_close(&d);
    return -1;
  }
  for (uint64_t i = 0; i < b->changes;) {
    uint64_t k = b->changes - i < ROUND ? b->changes - i : ROUND;
    t0 = now_s();
    if (durable_commits(&d, k, f) != 0)
      goto fail;
    tf += now_s() - t0;
    nf += k;
    t0 = now_s();
    for (uint64_t j = 0; j < k; j++, i++) {
      snprintf(id, sizeof id, "t%06llu", (unsigned long long)i);
      snprintf(title, sizeof title, "follow up with partner %llu", (unsigned long long)i);
      lens[0] = mp_str(val, title);
      if (put_change(s, "task", id, 1, names, vals, lens, r) != 0)
        goto fail;
    }
    t += now_s() - t0;
  }
  row_set(f, nf, tf);
  snprintf(f->note, sizeof f->note,
           "one %d-byte put per transaction, default fsync; interleaved with (a) by %d",
           LMDB_VALUE_BYTES, ROUND);
  row_set(r, b->changes, t);
  r->bytes = log_bytes(s);
  snprintf(r->note, sizeof r->note, "begin/put/commit; one signature and one durable commit each");
  cairn_close(s);
  durable_close(&d);
  return 0;
fail:
  cairn_close(s);
  durable_close(&d);
  return -1;
}

/* (b) local changes of big_ops puts (different records) each, durable. */
static int work_local_big(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "b_local_change_1000ops", "floor_lmdb_put_1txn");
  cairn_store_t *s;
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  uint8_t val[64];
  char id[48], text[48];
  double t0, t;
  int rc;
  if (store_new(b, "local1000", NULL, true, &s, r) != 0)
    return -1;
  t0 = now_s();
  for (uint64_t e = 0; e < b->big_entries; e++) {
    if ((rc = cairn_change_begin(s, &c)) != 0) {
      row_fail(r, "change begin: %s", cairn_strerror(rc));
      goto fail;
    }
    for (uint64_t i = 0; i < b->big_ops; i++) {
      snprintf(id, sizeof id, "m%llu-%llu", (unsigned long long)e, (unsigned long long)i);
      snprintf(text, sizeof text, "value %llu", (unsigned long long)i);
      size_t len = mp_str(val, text);
      if ((rc = cairn_change_put(c, "measure_value", id, "value", val, len, 0)) != 0) {
        cairn_change_abort(c);
        row_fail(r, "change put: %s", cairn_strerror(rc));
        goto fail;
      }
    }
    if (cairn_change_commit(c, NULL, &err) != 0) {
      row_fail(r, "commit: %s", err.msg);
      goto fail;
    }
  }
  t = now_s() - t0;
  row_set(r, b->big_entries * b->big_ops, t);
  r->entries_per_s = t > 0 ? (double)b->big_entries / t : 0;
  r->bytes = log_bytes(s);
  snprintf(r->note, sizeof r->note, "%llu entries of %llu puts; %.1f entries/s",
           (unsigned long long)b->big_entries, (unsigned long long)b->big_ops,
           r->entries_per_s);
  cairn_close(s);
  return 0;
fail:
  cairn_close(s);
  return -1;
}

/* ---- the history for (c) and (d) ---- */

/* Entries copied out of a store: one buffer, offsets into it. */
typedef struct elist {
  uint8_t *buf;
  size_t used, cap;
  size_t *off, *len;
  size_t n, ncap;
  const uint8_t *only; /* keep only this author's entries (NULL: all) */
  cairn_store_t *to;   /* export what this store lacks (NULL: everything) */
  bool oom;
} elist_t;

/* cairn_store_export hands the same ud to since and to the entry callback. */
static int elist_add(const cairn_entry_t *e, void *ud) {
  elist_t *l = ud;
  if (l->only != NULL && memcmp(e->author, l->only, CAIRN_KEY_BYTES) != 0)
    return 0;
  if (l->used + e->len > l->cap) {
    size_t cap = l->cap ? l->cap : 1 << 20;
    while (cap < l->used + e->len)
      cap *= 2;
    uint8_t *nb = realloc(l->buf, cap);
    if (nb == NULL)
      return l->oom = true;
    l->buf = nb;
    l->cap = cap;
  }
  if (l->n == l->ncap) {
    size_t ncap = l->ncap ? 2 * l->ncap : 1024;
    size_t *no = realloc(l->off, ncap * sizeof *no), *nl;
    if (no == NULL)
      return l->oom = true;
    l->off = no;
    if ((nl = realloc(l->len, ncap * sizeof *nl)) == NULL)
      return l->oom = true;
    l->len = nl;
    l->ncap = ncap;
  }
  memcpy(l->buf + l->used, e->bytes, e->len);
  l->off[l->n] = l->used;
  l->len[l->n++] = e->len;
  l->used += e->len;
  return 0;
}

static void elist_free(elist_t *l) {
  free(l->buf);
  free(l->off);
  free(l->len);
  memset(l, 0, sizeof *l);
}

static uint64_t since_store(const uint8_t author[CAIRN_KEY_BYTES], void *ud) {
  elist_t *l = ud;
  uint64_t seq = 0;
  if (cairn_store_head_seq(l->to, author, &seq) != 0)
    return 0;
  return seq;
}

/* Export the entries of from (those of author only, if not NULL) that to lacks. */
static int export_to_list(cairn_store_t *from, cairn_store_t *to, const uint8_t *author,
                          elist_t *l, row_t *r) {
  int rc;
  memset(l, 0, sizeof *l);
  l->only = author;
  l->to = to;
  rc = cairn_store_export(from, to ? since_store : NULL, elist_add, l);
  if (rc != 0 || l->oom) {
    elist_free(l);
    return row_fail(r, "export: %s", rc ? cairn_strerror(rc) : "out of memory");
  }
  return 0;
}

/* Apply bufs[0..n) to s in batches of APPLY_BATCH. */
static int apply_batches(cairn_store_t *s, const cairn_buf_t *bufs, size_t n, uint64_t *applied,
                         row_t *r) {
  cairn_apply_stats_t st;
  cairn_error_t err = {0, ""};
  *applied = 0;
  for (size_t i = 0; i < n; i += APPLY_BATCH) {
    size_t m = n - i < APPLY_BATCH ? n - i : APPLY_BATCH;
    if (cairn_store_apply(s, bufs + i, m, &st, &err) != 0)
      return row_fail(r, "apply (entry %zu of the batch at %zu): %s", st.failed_at, i, err.msg);
    *applied += st.applied;
  }
  return 0;
}

/* Sync: apply to `to` what it lacks of `from`. */
static int sync_stores(cairn_store_t *from, cairn_store_t *to, row_t *r) {
  elist_t l;
  cairn_buf_t *bufs;
  uint64_t applied;
  int rc;
  if (export_to_list(from, to, NULL, &l, r) != 0)
    return -1;
  if ((bufs = calloc(l.n ? l.n : 1, sizeof *bufs)) == NULL) {
    elist_free(&l);
    return row_fail(r, "out of memory");
  }
  for (size_t i = 0; i < l.n; i++)
    bufs[i] = (cairn_buf_t){l.buf + l.off[i], l.len[i]};
  rc = apply_batches(to, bufs, l.n, &applied, r);
  free(bufs);
  elist_free(&l);
  return rc;
}

/* Grant role to each of keys[0..n), in one change of the owner. */
int grant_keys(cairn_store_t *owner, const uint8_t *const *keys, size_t n, const char *role,
               row_t *r) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  char hex[2 * CAIRN_KEY_BYTES + 1], name[32];
  uint8_t rv[40], nm[40];
  size_t rlen = mp_str(rv, role), nlen;
  int rc;
  if ((rc = cairn_change_begin(owner, &c)) != 0)
    return row_fail(r, "change begin: %s", cairn_strerror(rc));
  for (size_t i = 0; i < n; i++) {
    cairn_hex(keys[i], CAIRN_KEY_BYTES, hex);
    snprintf(name, sizeof name, "%s %zu", role, i + 1);
    nlen = mp_str(nm, name);
    if ((rc = cairn_change_put(c, "_member", hex, "role", rv, rlen, 0)) != 0 ||
        (rc = cairn_change_put(c, "_member", hex, "name", nm, nlen, 0)) != 0) {
      cairn_change_abort(c);
      return row_fail(r, "grant: %s", cairn_strerror(rc));
    }
  }
  if (cairn_change_commit(c, NULL, &err) != 0)
    return row_fail(r, "grant: %s", err.msg);
  return 0;
}

/* Grant the editor role to each editor's key, in one change of the owner. */
static int grant_editors(cairn_store_t *owner, cairn_store_t *const *ed, row_t *r) {
  const uint8_t *keys[EDITORS];
  for (int i = 0; i < EDITORS; i++)
    keys[i] = cairn_store_key(ed[i]);
  return grant_keys(owner, keys, EDITORS, "editor", r);
}

/* Write from's entries that to lacks (to NULL: all) as length-prefixed records
 * to path (the fallback's input, the late revocation). */
static int write_raw(const char *path, cairn_store_t *from, cairn_store_t *to, row_t *r) {
  elist_t l;
  FILE *f;
  uint8_t len[4];
  int ok = 1;
  if (export_to_list(from, to, NULL, &l, r) != 0)
    return -1;
  if ((f = fopen(path, "wb")) == NULL) {
    elist_free(&l);
    return row_fail(r, "open %s: %s", path, strerror(errno));
  }
  for (size_t i = 0; i < l.n && ok; i++) {
    len[0] = (uint8_t)(l.len[i] >> 24);
    len[1] = (uint8_t)(l.len[i] >> 16);
    len[2] = (uint8_t)(l.len[i] >> 8);
    len[3] = (uint8_t)l.len[i];
    ok = fwrite(len, 1, 4, f) == 4 && fwrite(l.buf + l.off[i], 1, l.len[i], f) == l.len[i];
  }
  elist_free(&l);
  if (fclose(f) != 0 || !ok)
    return row_fail(r, "write %s failed", path);
  return 0;
}

/* The owner revokes the first editor, accepting none of its entries (it holds
 * none of them): applied after the history, a revocation that arrives late. */
static int write_revoke(const bench_t *b, cairn_store_t *owner, cairn_store_t *editor,
                        cairn_store_t *hub, row_t *r) {
  cairn_change_t *c;
  cairn_error_t err;
  int rc = cairn_change_begin(owner, &c);
  if (rc == 0 && (rc = cairn_change_revoke(c, cairn_store_key(editor), 0)) != 0)
    cairn_change_abort(c);
  if (rc != 0)
    return row_fail(r, "revoke: %s", cairn_strerror(rc));
  if (cairn_change_commit(c, NULL, &err) != 0)
    return row_fail(r, "revoke: %s", err.msg);
  return write_raw(b->revoke, owner, hub, r);
}

/*
 * Build a history of b->history one-op entries by four authors (the owner and
 * three editors it grants), each made as a local change in its author's own store
 * (no_sync), then gathered into a hub store in the order a relay would forward
 * them: authors interleaved, INTERLEAVE entries at a time, grants first. The hub
 * then writes the bundle (or, without bundle.c, the raw entries).
 */
static int work_history(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "setup_history_no_sync_changes", NULL);
  cairn_store_opts_t fast = {0};
  cairn_store_t *st[1 + EDITORS] = {0}, *hub = NULL;
  elist_t lists[1 + EDITORS];
  cairn_buf_t *bufs = NULL;
  uint64_t per[1 + EDITORS], made = 0, applied;
  static const char *const names[] = {"title", "status"};
  uint8_t v0[64], v1[16];
  const uint8_t *vals[2] = {v0, v1};
  size_t lens[2], pos[1 + EDITORS] = {0}, total = 0, nb = 0;
  char id[48], title[48], sname[16];
  double t0, t;
  int rc = -1;
  memset(lists, 0, sizeof lists);
  fast.no_sync = 1;
  if (store_new(b, "src_owner", &fast, true, &st[0], r) != 0)
    goto done;
  for (int i = 0; i < EDITORS; i++) {
    snprintf(sname, sizeof sname, "src_editor%d", i + 1);
    if (store_new(b, sname, &fast, false, &st[1 + i], r) != 0)
      goto done;
  }
  if (grant_editors(st[0], st + 1, r) != 0)
    goto done;
  for (int i = 0; i < EDITORS; i++)
    if (sync_stores(st[0], st[1 + i], r) != 0)
      goto done;
  /* the owner already wrote the genesis and the grant */
  for (int a = 0; a <= EDITORS; a++)
    per[a] = b->history / (1 + EDITORS);
  per[0] += b->history % (1 + EDITORS) - 2;
  t0 = now_s();
  for (int a = 0; a <= EDITORS; a++) {
    for (uint64_t i = 0; i < per[a]; i++) {
      snprintf(id, sizeof id, "a%d-%06llu", a, (unsigned long long)i);
      snprintf(title, sizeof title, "meeting notes %llu", (unsigned long long)i);
      lens[0] = mp_str(v0, title);
      lens[1] = mp_str(v1, i % 3 ? "open" : "done");
      if (put_change(st[a], "interaction", id, 2, names, vals, lens, r) != 0)
        goto done;
      made++;
    }
  }
  t = now_s() - t0;
  /* gather into the hub, interleaved as a relay would forward them */
  if (store_new(b, "hub", &fast, false, &hub, r) != 0)
    goto done;
  for (int a = 0; a <= EDITORS; a++) {
    if (export_to_list(st[a], NULL, cairn_store_key(st[a]), &lists[a], r) != 0)
      goto done;
    total += lists[a].n;
  }
  if ((bufs = calloc(total ? total : 1, sizeof *bufs)) == NULL) {
    row_fail(r, "out of memory");
    goto done;
  }
  while (nb < total)
    for (int a = 0; a <= EDITORS; a++)
      for (int k = 0; k < INTERLEAVE && pos[a] < lists[a].n; k++, pos[a]++)
        bufs[nb++] = (cairn_buf_t){lists[a].buf + lists[a].off[pos[a]], lists[a].len[pos[a]]};
  if (apply_batches(hub, bufs, total, &applied, r) != 0)
    goto done;
  if (applied != b->history) {
    row_fail(r, "the hub holds %llu entries, not %llu", (unsigned long long)applied,
             (unsigned long long)b->history);
    goto done;
  }
  if (CAIRN_BENCH_BUNDLE && !b->fallback) {
#if CAIRN_BENCH_BUNDLE
    cairn_error_t err = {0, ""};
    uint64_t count = 0;
    if (cairn_bundle_create(hub, b->bundle, NULL, NULL, &count, &err) != 0) {
      row_fail(r, "bundle create: %s", err.msg);
      goto done;
    }
    if (count != b->history) {
      row_fail(r, "the bundle holds %llu entries, not %llu", (unsigned long long)count,
               (unsigned long long)b->history);
      goto done;
    }
    r->bytes = file_size(b->bundle);
#endif
  } else {
    if (write_raw(b->raw, hub, NULL, r) != 0)
      goto done;
    r->bytes = file_size(b->raw);
  }
  if (write_revoke(b, st[0], st[1], hub, r) != 0)
    goto done;
  row_set(r, made, t);
  snprintf(r->note, sizeof r->note,
           "owner + %d editors, one op of 2 fields per entry, interleaved by %d; "
           "rate = no_sync local changes",
           EDITORS, INTERLEAVE);
  rc = 0;
done:
  free(bufs);
  for (int a = 0; a <= EDITORS; a++) {
    elist_free(&lists[a]);
    cairn_close(st[a]);
  }
  cairn_close(hub);
  /* the sources are no longer needed: free the disk */
  for (int a = 0; a <= EDITORS; a++) {
    char dir[PATH_MAX + 32];
    if (a == 0)
      snprintf(sname, sizeof sname, "src_owner");
    else
      snprintf(sname, sizeof sname, "src_editor%d", a);
    path_of(dir, sizeof dir, b, sname);
    rm_tree(dir);
  }
  return rc;
}

/* Read a raw entries file into memory (the fallback's history, the revocation). */
static int read_raw(const char *path, uint8_t **data, cairn_buf_t **bufs, size_t *n, row_t *r) {
  uint64_t size = file_size(path);
  size_t cap = 1024, pos = 0;
  FILE *f = fopen(path, "rb");
  *data = NULL;
  *bufs = NULL;
  *n = 0;
  if (f == NULL)
    return row_fail(r, "open %s: %s", path, strerror(errno));
  if ((*data = malloc(size ? size : 1)) == NULL || (*bufs = malloc(cap * sizeof **bufs)) == NULL ||
      fread(*data, 1, size, f) != size) {
    fclose(f);
    return row_fail(r, "cannot read %s", path);
  }
  fclose(f);
  while (pos + 4 <= size) {
    const uint8_t *p = *data + pos;
    size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (pos + 4 + len > size)
      return row_fail(r, "%s is truncated", path);
    if (*n == cap) {
      cairn_buf_t *nb = realloc(*bufs, 2 * cap * sizeof *nb);
      if (nb == NULL)
        return row_fail(r, "out of memory");
      *bufs = nb;
      cap *= 2;
    }
    (*bufs)[(*n)++] = (cairn_buf_t){p + 4, len};
    pos += 4 + len;
  }
  return 0;
}

/* (c) and (d): apply the history into a fresh durable store. */
static int work_apply(bench_t *b, row_t *rows, size_t *nrows, bool verify_all) {
  bool bundle = CAIRN_BENCH_BUNDLE && !b->fallback;
  char name[64];
  snprintf(name, sizeof name, "%s%s", verify_all ? "d_apply_verify_all" : "c_apply",
           bundle ? "_bundle" : "_fallback_export_store_apply");
  row_t *r = row_init(&rows[(*nrows)++], name, "floor_lmdb_put_1txn");
  cairn_store_opts_t opts = {0};
  cairn_store_t *s;
  uint64_t applied = 0;
  double t0, t = 0;
  opts.verify_all = verify_all;
  if (!verify_all) {
    r->target = 0.20;
    r->target_min = 0.20;
  }
  if (store_new(b, verify_all ? "apply_verify_all" : "apply", verify_all ? &opts : NULL, false,
                &s, r) != 0)
    return -1;
  if (bundle) {
#if CAIRN_BENCH_BUNDLE
    cairn_bundle_stats_t st = {0};
    cairn_error_t err = {0, ""};
    t0 = now_s();
    int rc = cairn_bundle_apply(s, b->bundle, 0, &st, &err);
    t = now_s() - t0;
    if (rc != 0) {
      cairn_close(s);
      return row_fail(r, "bundle apply: %s", err.msg);
    }
    applied = st.applied;
    r->bytes = file_size(b->bundle);
#endif
  } else {
    uint8_t *data;
    cairn_buf_t *bufs;
    size_t n;
    if (read_raw(b->raw, &data, &bufs, &n, r) != 0) {
      free(data);
      free(bufs);
      cairn_close(s);
      return -1;
    }
    t0 = now_s();
    int rc = apply_batches(s, bufs, n, &applied, r);
    t = now_s() - t0;
    free(data);
    free(bufs);
    if (rc != 0) {
      cairn_close(s);
      return -1;
    }
    r->bytes = file_size(b->raw);
  }
  cairn_close(s);
  if (applied != b->history)
    return row_fail(r, "applied %llu entries, not %llu", (unsigned long long)applied,
                    (unsigned long long)b->history);
  row_set(r, applied, t);
  snprintf(r->note, sizeof r->note, "%s; fresh store, durable, batches of %d%s",
           bundle ? "cairn_bundle_apply" : "NO bundle.c: export + cairn_store_apply from memory",
           APPLY_BATCH, verify_all ? ", every signature verified" : ", runs by newest signature");
  return 0;
}

static int work_apply_c(bench_t *b, row_t *rows, size_t *nrows) {
  return work_apply(b, rows, nrows, false);
}

static int work_apply_d(bench_t *b, row_t *rows, size_t *nrows) {
  return work_apply(b, rows, nrows, true);
}

/* Apply the raw entries file at path to s as one batch, timed into *t. */
static int apply_raw(const char *path, cairn_store_t *s, uint64_t *applied, double *t, row_t *r) {
  uint8_t *data;
  cairn_buf_t *bufs;
  size_t n;
  int rc = read_raw(path, &data, &bufs, &n, r);
  double t0 = now_s();
  if (rc == 0)
    rc = apply_batches(s, bufs, n, applied, r);
  *t = now_s() - t0;
  free(data);
  free(bufs);
  return rc;
}

/*
 * (e) A revocation that arrives late: the history applied (untimed), then the
 * owner's revocation of an editor accepting none of its entries, which the
 * store already applied: every entry of the log is judged again, in two passes
 * (the cut-off refuses what the first accepted). Rate = entries judged per second
 * of the whole apply of that one entry.
 */
static int work_recompute(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "e_late_revocation_recompute", "floor_lmdb_put_1txn");
  cairn_store_t *s;
  uint64_t applied = 0, one = 0;
  double t = 0;
  if (store_new(b, "recompute", NULL, false, &s, r) != 0)
    return -1;
#if CAIRN_BENCH_BUNDLE
  cairn_bundle_stats_t st = {0};
  cairn_error_t err = {0, ""};
  if (!b->fallback && cairn_bundle_apply(s, b->bundle, 0, &st, &err) != 0) {
    cairn_close(s);
    return row_fail(r, "bundle apply: %s", err.msg);
  }
  applied = st.applied;
#endif
  if ((applied == 0 && apply_raw(b->raw, s, &applied, &t, r) != 0) ||
      apply_raw(b->revoke, s, &one, &t, r) != 0) {
    cairn_close(s);
    return -1;
  }
  cairn_close(s);
  if (applied != b->history || one != 1)
    return row_fail(r, "applied %llu entries and %llu, not %llu and 1",
                    (unsigned long long)applied, (unsigned long long)one,
                    (unsigned long long)b->history);
  row_set(r, applied, t);
  snprintf(r->note, sizeof r->note,
           "after the history, the owner's revocation of an editor accepting none of its "
           "%llu entries: the whole log judged again in stamp order, two passes, durable",
           (unsigned long long)(b->history / (1 + EDITORS)));
  return 0;
}

/* ---- (f) typed queries ---- */

#define QUERY_PARTNERS 100
#define QUERY_BATCH 1000 /* commitments per change */

static int count_record(const cairn_record_t *r, void *ud) {
  (void)r;
  (*(uint64_t *)ud)++;
  return 0;
}

/* n commitments over QUERY_PARTNERS partners, with due dates over 2025-2026 and
 * the five statuses, written QUERY_BATCH to a change. */
static int query_fill(cairn_store_t *s, uint64_t n, row_t *r) {
  static const char *const statuses[] = {"planned", "in-progress", "done", "at-risk", "dropped"};
  static const char *const names[] = {"due", "partner", "status", "title"};
  cairn_change_t *c = NULL;
  cairn_error_t err = {0, ""};
  uint8_t v[4][48];
  char text[48], id[24];
  for (unsigned p = 0; p < QUERY_PARTNERS; p++) {
    const uint8_t *vals[1] = {v[0]};
    size_t lens[1];
    const char *pn[1] = {"name"};
    snprintf(id, sizeof id, "p%03u", p);
    lens[0] = mp_str(v[0], id);
    if (put_change(s, "partner", id, 1, pn, vals, lens, r) != 0)
      return -1;
  }
  for (uint64_t i = 0; i < n; i++) {
    size_t lens[4];
    if (c == NULL && cairn_change_begin(s, &c) != 0)
      return row_fail(r, "change begin");
    snprintf(text, sizeof text, "%u-%02u-%02u", 2025 + (unsigned)(i % 2),
             1 + (unsigned)(i * 7 % 12), 1 + (unsigned)(i * 13 % 28));
    lens[0] = mp_str(v[0], text);
    snprintf(text, sizeof text, "p%03u", (unsigned)(i % QUERY_PARTNERS));
    lens[1] = mp_str(v[1], text);
    lens[2] = mp_str(v[2], statuses[i % 5]);
    snprintf(text, sizeof text, "Commitment number %llu", (unsigned long long)i);
    lens[3] = mp_str(v[3], text);
    snprintf(id, sizeof id, "c%07llu", (unsigned long long)i);
    for (int f = 0; f < 4; f++)
      if (cairn_change_put(c, "commitment", id, names[f], v[f], lens[f], 0) != 0) {
        cairn_change_abort(c);
        return row_fail(r, "change put");
      }
    if ((i + 1) % QUERY_BATCH == 0 || i + 1 == n) {
      if (cairn_change_commit(c, NULL, &err) != 0)
        return row_fail(r, "commit: %s", err.msg);
      c = NULL;
    }
  }
  return 0;
}

/* Run the query with these conditions (NULL-terminated) three times: the best
 * time, the records found, and whether it read an index. */
static int query_time(cairn_store_t *s, const char *const *where, int use_index, double *best,
                      uint64_t *found, int *indexed, row_t *r) {
  cairn_error_t err = {0, ""};
  *best = 0;
  for (int k = 0; k < 3; k++) {
    cairn_query_t *q;
    uint64_t n = 0;
    if (cairn_query_new(s, NULL, "commitment", &q, &err) != 0)
      return row_fail(r, "query: %s", err.msg);
    for (size_t i = 0; where[i] != NULL; i++)
      if (cairn_query_where(q, where[i], &err) != 0) {
        cairn_query_free(q);
        return row_fail(r, "where %s: %s", where[i], err.msg);
      }
    cairn_query_use_index(q, use_index);
    double t0 = now_s();
    int rc = cairn_query_run(q, count_record, &n);
    double t = now_s() - t0;
    *indexed = cairn_query_used_index(q);
    cairn_query_free(q);
    if (rc != 0)
      return row_fail(r, "run: %s", cairn_strerror(rc));
    if (k == 0 || t < *best)
      *best = t;
    *found = n;
  }
  return 0;
}

/* Time one query into row r (rate: the records of the store per second); an
 * index must be read exactly when use_index. */
static int query_row(cairn_store_t *s, const bench_t *b, const char *const *where,
                     int use_index, row_t *r, const char *what) {
  double t;
  uint64_t found;
  int indexed;
  if (query_time(s, where, use_index, &t, &found, &indexed, r) != 0)
    return -1;
  if (indexed != (use_index && where[0] != NULL && strncmp(where[0], "partner=", 8) == 0))
    return row_fail(r, "the query %s the index", indexed ? "read" : "did not read");
  row_set(r, b->query_records, t);
  snprintf(r->note, sizeof r->note, "%s: %.2f ms, %llu found", what, t * 1e3,
           (unsigned long long)found);
  return 0;
}

static int work_query(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *scan = row_init(&rows[(*nrows)++], "f_list_scan_100k", NULL);
  row_t *two = row_init(&rows[(*nrows)++], "f_list_where_2_comparisons", "f_list_scan_100k");
  row_t *ix = row_init(&rows[(*nrows)++], "f_list_where_indexed", "f_list_scan_100k");
  static const char *const none[] = {NULL};
  static const char *const where2[] = {"status!=done", "due<2026-01-01", NULL};
  static const char *const where_ix[] = {"partner=p007", "due>=2026-07-01", NULL};
  cairn_store_opts_t opts = {0};
  cairn_store_t *s;
  cairn_error_t err = {0, ""};
  opts.no_sync = 1;
  if (store_new(b, "query", &opts, true, &s, scan) != 0)
    return -1;
  if (cairn_schema_apply(s, cairn_schema_default(), NULL, &err) != 0 ||
      query_fill(s, b->query_records, scan) != 0) {
    if (!scan->failed)
      row_fail(scan, "schema: %s", err.msg);
    cairn_close(s);
    return -1;
  }
  if (query_row(s, b, none, 0, scan, "every commitment read through cairn_query_run, no "
                                    "condition") != 0 ||
      query_row(s, b, where2, 1, two, "--where status!=done --where due<2026-01-01 over the "
                                      "same records (a scan)") != 0 ||
      query_row(s, b, where_ix, 1, ix, "--where partner=p007 --where due>=2026-07-01 read by "
                                       "the commitments-by-partner index") != 0)
    goto fail;
  cairn_close(s);
  return 0;
fail:
  cairn_close(s);
  return -1;
}

/* ---- running workloads in children ---- */

typedef int (*work_fn)(bench_t *b, row_t *rows, size_t *nrows);

bool read_all(int fd, void *buf, size_t n, size_t *got) {
  *got = 0;
  while (*got < n) {
    ssize_t k = read(fd, (char *)buf + *got, n - *got);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return k == 0;
    *got += (size_t)k;
  }
  return true;
}

/* fork with a pipe from the child to the parent: *fd is its write end in the
 * child (0 returned), its read end in the parent (the pid returned); -1 on error. */
pid_t fork_piped(int *fd) {
  int fds[2];
  pid_t pid;
  if (pipe(fds) != 0)
    return -1;
  if ((pid = fork()) < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  close(fds[pid == 0 ? 0 : 1]);
  *fd = fds[pid == 0 ? 1 : 0];
  return pid;
}

/*
 * Run fn in a child; append its rows with the child's peak RSS. A child that dies
 * leaves a failed row named label. Returns 0 if every row succeeded.
 */
int run_child(bench_t *b, work_fn fn, const char *label) {
  row_t rows[CHILD_ROWS];
  size_t nrows = 0, got = 0;
  int fd, status = 0;
  struct rusage ru;
  pid_t pid;
  if (stop_signal || b->nrows + CHILD_ROWS > MAX_ROWS)
    return -1;
  fflush(stdout);
  if ((pid = fork_piped(&fd)) < 0)
    return -1;
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    int rc = fn(b, rows, &nrows);
    size_t off = 0, len = nrows * sizeof rows[0];
    while (off < len) {
      ssize_t k = write(fd, (char *)rows + off, len - off);
      if (k <= 0)
        _exit(2);
      off += (size_t)k;
    }
    _exit(rc == 0 ? 0 : 1);
  }
  current_child = pid;
  if (stop_signal) /* it came between the check above and the fork */
    kill(pid, SIGTERM);
  progress("%s... (pid %ld)", label, (long)pid);
  read_all(fd, rows, sizeof rows, &got);
  close(fd);
  while (wait4(pid, &status, 0, &ru) < 0) {
    if (errno != EINTR) {
      memset(&ru, 0, sizeof ru);
      break;
    }
  }
  current_child = 0;
  nrows = got / sizeof rows[0];
  int rc = 0;
  for (size_t i = 0; i < nrows; i++) {
    rows[i].peak_rss_kb = ru.ru_maxrss;
    rc |= rows[i].failed;
    b->rows[b->nrows++] = rows[i];
  }
  if (nrows == 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (nrows == 0) {
      row_t *r = row_init(&b->rows[b->nrows++], label, NULL);
      r->peak_rss_kb = ru.ru_maxrss;
      if (WIFSIGNALED(status))
        row_fail(r, "the workload died of signal %d", WTERMSIG(status));
      else
        row_fail(r, "the workload failed (exit %d)", WEXITSTATUS(status));
    }
    rc = 1;
  }
  return rc ? -1 : 0;
}

row_t *find_row(bench_t *b, const char *name) {
  for (size_t i = 0; i < b->nrows; i++)
    if (strcmp(b->rows[i].name, name) == 0 && !b->rows[i].failed)
      return &b->rows[i];
  return NULL;
}

static double ratio_of(bench_t *b, const row_t *r) {
  row_t *f;
  if (!isnan(r->ratio))
    return r->failed ? NAN : r->ratio;
  if (r->floor[0] == '\0' || r->failed || (f = find_row(b, r->floor)) == NULL || f->rate <= 0)
    return NAN;
  return r->rate / f->rate;
}

/* The rate (c) would be capped at if every signature were verified. */
static void add_cap_row(bench_t *b) {
  row_t *v = find_row(b, "floor_ed25519_verify"), *c = NULL;
  if (v == NULL || b->nrows >= MAX_ROWS)
    return;
  for (size_t i = 0; i < b->nrows; i++)
    if (strncmp(b->rows[i].name, "c_apply", 7) == 0 && !b->rows[i].failed)
      c = &b->rows[i];
  row_t *r = row_init(&b->rows[b->nrows++], "c_cap_if_every_sig_verified", "floor_lmdb_put_1txn");
  r->rate = v->rate;
  if (c != NULL)
    snprintf(r->note, sizeof r->note,
             "= the verify floor; (c) runs at %.1fx this cap by verifying runs by their "
             "newest signature",
             c->rate / v->rate);
  else
    snprintf(r->note, sizeof r->note, "= the verify floor");
}

/* (c) against the append-order put rate too, so that both ratios are on record. */
static void add_append_row(bench_t *b) {
  row_t *c = find_row(b, "c_apply_bundle");
  if (c == NULL || c->failed || find_row(b, "ref_lmdb_put_1txn_append") == NULL ||
      b->nrows >= MAX_ROWS)
    return;
  row_t *r = row_init(&b->rows[b->nrows++], "c_vs_append_put_rate", "ref_lmdb_put_1txn_append");
  r->n = c->n;
  r->seconds = c->seconds;
  r->rate = c->rate;
  snprintf(r->note, sizeof r->note, "(c) as a ratio of LMDB's best case (keys appended in order)");
}

/* ---- output ---- */

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      printf("\\%c", ch);
    else if (ch < 0x20)
      printf("\\u%04x", ch);
    else
      putchar(ch);
  }
  putchar('"');
}

static void json_num(double v) {
  if (isnan(v) || isinf(v))
    fputs("null", stdout);
  else
    printf("%.6g", v);
}

static bool met(const row_t *r, double ratio) {
  if (r->target_max)
    return !isnan(r->target) && !isnan(ratio) && ratio <= r->target;
  return !isnan(r->target_min) && !isnan(ratio) && ratio >= r->target_min;
}

static void print_json(bench_t *b) {
  for (size_t i = 0; i < b->nrows; i++) {
    const row_t *r = &b->rows[i];
    double ratio = ratio_of(b, r);
    fputs("{\"name\":", stdout);
    json_str(r->name);
    printf(",\"n\":%llu,\"seconds\":", (unsigned long long)r->n);
    json_num(r->seconds);
    fputs(",\"records_per_s\":", stdout);
    json_num(r->rate);
    printf(",\"bytes\":%llu,\"peak_rss_kb\":%ld,\"floor\":", (unsigned long long)r->bytes,
           r->peak_rss_kb);
    if (r->floor[0] != '\0')
      json_str(r->floor);
    else
      fputs("null", stdout);
    fputs(",\"ratio\":", stdout);
    json_num(ratio);
    fputs(",\"target\":", stdout);
    json_num(r->target);
    if (!isnan(r->target))
      printf(",\"met\":%s", met(r, ratio) ? "true" : "false");
    if (!isnan(r->entries_per_s)) {
      fputs(",\"entries_per_s\":", stdout);
      json_num(r->entries_per_s);
    }
    if (r->target_max)
      fputs(",\"target_is_max\":true", stdout);
    if (r->relay_rss_kb > 0)
      printf(",\"relay_rss_kb\":%ld", r->relay_rss_kb);
    if (r->relay_anon_kb > 0)
      printf(",\"relay_rss_anon_kb\":%ld", r->relay_anon_kb);
    if (r->anon_kb > 0)
      printf(",\"rss_anon_kb\":%ld", r->anon_kb);
    if (r->bytes_plain > 0 && r->n > 0) /* sync: bytes on the wire, and uncompressed */
      printf(",\"bytes_plain\":%llu,\"wire_bytes_per_entry\":%.1f,"
             "\"plain_bytes_per_entry\":%.1f",
             (unsigned long long)r->bytes_plain, (double)r->bytes / (double)r->n,
             (double)r->bytes_plain / (double)r->n);
    if (!isnan(r->p50_s)) {
      fputs(",\"p50_s\":", stdout);
      json_num(r->p50_s);
      fputs(",\"p99_s\":", stdout);
      json_num(r->p99_s);
    }
    if (r->failed) {
      fputs(",\"error\":", stdout);
      json_str(r->note);
    } else if (r->note[0] != '\0') {
      fputs(",\"note\":", stdout);
      json_str(r->note);
    }
    fputs("}\n", stdout);
  }
}

static void print_table(bench_t *b) {
  printf("%-40s %9s %8s %13s %10s %9s  %-26s %7s %8s %s\n", "workload", "n", "seconds",
         "records/s", "bytes", "rss_kb", "floor", "ratio", "target", "met");
  for (size_t i = 0; i < b->nrows; i++) {
    const row_t *r = &b->rows[i];
    double ratio = ratio_of(b, r);
    char rs[16] = "-", tg[16] = "-";
    if (r->failed) {
      printf("%-40s FAILED: %s\n", r->name, r->note);
      continue;
    }
    if (!isnan(ratio))
      snprintf(rs, sizeof rs, "%.3f", ratio);
    if (!isnan(r->target))
      snprintf(tg, sizeof tg,
               r->target_max ? "<=%.2f" : r->target_min < r->target ? "~%.2g" : ">=%.2f",
               r->target);
    printf("%-40s %9llu %8.3f %13.0f %10llu %9ld  %-26s %7s %8s %s\n", r->name,
           (unsigned long long)r->n, r->seconds, r->rate, (unsigned long long)r->bytes,
           r->peak_rss_kb, r->floor[0] ? r->floor : "-", rs, tg,
           isnan(r->target) ? "" : met(r, ratio) ? "yes" : "NO");
  }
  printf("\nnotes:\n");
  for (size_t i = 0; i < b->nrows; i++)
    if (!b->rows[i].failed && b->rows[i].note[0] != '\0')
      printf("  %-40s %s\n", b->rows[i].name, b->rows[i].note);
  printf("  target (c): >= 0.20 of the put floor. (a) is one signature and one durable commit\n"
         "  per change; its ratio to a one-put commit is what the change's ~13 dirty pages cost.\n");
  if (find_row(b, "floor_ed25519_verify_2cores") != NULL)
    printf("  sync targets: push >= 0.80 of two cores of verify; fresh pull >= 0.20 of the put\n"
           "  floor; reconnect's time and bytes <= 0.05 of the full pull's (1%% new); the relay's\n"
           "  VmRSS with the idle connections <= 0.50 GiB. The relay is `cairnd serve` on\n"
           "  127.0.0.1, sharing this machine's cores with the benchmark.\n");
}

/* ---- main ---- */

static void on_signal(int sig) {
  stop_signal = sig;
  if (current_child > 0)
    kill(current_child, SIGTERM); /* it ends; run_child reaps it */
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: cairn-bench [--json] [--quick] [--dir DIR] [--history N] [--fallback]\n"
          "                   [--only floors|local|apply|query|report|web|sync]\n"
          "  --json       one JSON object per line per workload (default: a table)\n"
          "  --quick      small sizes, for a smoke run (well under a minute)\n"
          "  --dir DIR    where to make the temporary directory (default: $TMPDIR or /tmp)\n"
          "  --history N  entries in the history applied by (c) and (d), rows imported by\n"
          "               (h, with apply), and entries pushed and pulled by sync\n"
          "               (default 100000)\n"
          "  --fallback   apply with export + cairn_store_apply even if bundles exist\n"
          "  --only WHAT  run only the floors, the local-change, the apply, the query, the\n"
          "               report, the web or the sync workloads (query: list --where over\n"
          "               100k commitments; report: the meeting report over 52k records;\n"
          "               web: cairn ui's GET and PUT of a record against cairn_get and\n"
          "               the library's change;\n"
          "               sync: push, pull, reconnect, idle connections and fan-out\n"
          "               against a cairnd child process on 127.0.0.1)\n");
}

static bool only(const bench_t *b, const char *what) {
  return b->only[0] == '\0' || strcmp(b->only, what) == 0;
}

int main(int argc, char **argv) {
  bench_t *b = calloc(1, sizeof *b);
  const char *base = getenv("TMPDIR");
  long long history = -1;
  struct sigaction sa;
  int failures = 0;
  if (b == NULL)
    return 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--json") == 0) {
      b->json = true;
    } else if (strcmp(argv[i], "--quick") == 0) {
      b->quick = true;
    } else if (strcmp(argv[i], "--fallback") == 0) {
      b->fallback = true;
    } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      base = argv[++i];
    } else if (strcmp(argv[i], "--history") == 0 && i + 1 < argc) {
      char *end;
      history = strtoll(argv[++i], &end, 10);
      if (*end != '\0' || history < 8) {
        fprintf(stderr, "cairn-bench: --history needs a number >= 8\n");
        return 2;
      }
    } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      snprintf(b->only, sizeof b->only, "%s", argv[++i]);
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      usage(stderr);
      return 2;
    }
  }
  if (cairn_core_init() != 0) {
    fprintf(stderr, "cairn-bench: cannot initialise libsodium\n");
    return 1;
  }
  b->crypto_secs = b->quick ? 0.2 : 1.0;
  b->durable_secs = b->quick ? 0.5 : 2.0;
  b->lmdb_puts = 0; /* below: as many puts as the bundle has entries */
  b->changes = b->quick ? 200 : 2000;
  b->big_entries = b->quick ? 5 : 100;
  b->big_ops = 1000;
  b->history = history > 0 ? (uint64_t)history : b->quick ? 10000 : 100000;
  b->query_records = b->quick ? 10000 : 100000;
  b->lmdb_puts = b->history < 100000 ? 100000 : b->history;

  if (base == NULL || base[0] == '\0')
    base = "/tmp";
  if (snprintf(b->root, sizeof b->root, "%s/cairn-bench.XXXXXX", base) >= (int)sizeof b->root ||
      mkdtemp(b->root) == NULL) {
    fprintf(stderr, "cairn-bench: cannot make a temporary directory in %s: %s\n", base,
            strerror(errno));
    return 1;
  }
  snprintf(b->bundle, sizeof b->bundle, "%s/history.cairnbundle", b->root);
  snprintf(b->raw, sizeof b->raw, "%s/history.raw", b->root);
  snprintf(b->revoke, sizeof b->revoke, "%s/revoke.raw", b->root);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal; /* no SA_RESTART: reads and waits return EINTR */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  if (!CAIRN_BENCH_BUNDLE && only(b, "apply"))
    progress("core/bundle.c is not built in: (c) and (d) use export + cairn_store_apply");

  double t0 = now_s();
  if (only(b, "floors") || only(b, "local") || only(b, "apply") || only(b, "sync")) {
    /* floors are cheap and every ratio needs them: always measure them */
    failures += run_child(b, floor_sign, "floor: ed25519 sign") != 0;
    failures += run_child(b, floor_verify, "floor: ed25519 verify") != 0;
    failures += run_child(b, floor_hash, "floor: BLAKE2b-256 of 200 bytes") != 0;
    failures += run_child(b, floor_lmdb_put, "floor: LMDB puts in one transaction") != 0;
    if (!only(b, "local") && !(b->only[0] != '\0' && only(b, "sync")))
      failures += run_child(b, floor_lmdb_durable, "floor: durable LMDB commits") != 0;
  }
  if (only(b, "local")) {
    failures += run_child(b, work_local_1op,
                          "(a) local changes, one op, durable (and the durable-commit floor)") != 0;
    failures += run_child(b, work_local_big, "(b) local changes, 1000 ops each") != 0;
  }
  if (only(b, "apply")) {
    if (run_child(b, work_history, "(c) building the history") != 0) {
      failures++;
    } else {
      failures += run_child(b, work_apply_c, "(c) apply into a fresh store") != 0;
      add_cap_row(b);
      add_append_row(b);
      failures += run_child(b, work_apply_d, "(d) apply with verify_all") != 0;
      failures += run_child(b, work_recompute, "(e) a revocation that arrives late") != 0;
      failures += run_child(b, work_import, "(h) import of CSV rows") != 0;
    }
  }
  if (only(b, "query"))
    failures += run_child(b, work_query, "(f) typed queries over 100k records") != 0;
  if (only(b, "report"))
    failures += run_child(b, work_report, "(g) the meeting report over 52k records") != 0;
  if (only(b, "web"))
    failures += run_child(b, work_web, "(i) cairn ui: GET and PUT of a record") != 0;
  if (only(b, "sync"))
    failures += sync_bench_run(b);
  double total = now_s() - t0;
  rm_tree(b->root);
  if (stop_signal) {
    fprintf(stderr, "cairn-bench: interrupted\n");
    free(b);
    return 130;
  }
  if (b->json)
    print_json(b);
  else
    print_table(b);
  if (!b->json) {
    long peak = 0; /* not RUSAGE_CHILDREN: it counts children from before an exec */
    for (size_t i = 0; i < b->nrows; i++)
      peak = b->rows[i].peak_rss_kb > peak ? b->rows[i].peak_rss_kb : peak;
    printf("\ntotal %.1f s; largest peak RSS of a workload %ld kB\n", total, peak);
  }
  free(b);
  return failures ? 1 : 0;
}
