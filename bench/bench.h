/*
 * bench.h — what bench.c (the floors, local and apply workloads, the runner and
 * the output) shares with sync_bench.c (the sync workloads against a real relay).
 * Private to the benchmark.
 *
 * A workload is a work_fn run in a child process by run_child: it fills rows and
 * returns 0, or marks a row failed (row_fail) and returns -1. The child gets a
 * copy of bench_t as it was at the fork, the rows measured so far included.
 */
#ifndef CAIRN_BENCH_H
#define CAIRN_BENCH_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cairn.h"

#define MAX_ROWS 48
#define CHILD_ROWS 6 /* rows one workload child may report */

typedef struct row {
  char name[64];
  char floor[40]; /* the floor row this one is compared to; "" for none */
  char note[240];
  uint64_t n;
  double seconds;
  double rate;          /* records (ops, entries, signatures, puts...) per second */
  double target;        /* target ratio, NAN for none */
  double target_min;    /* the ratio that counts as meeting the target */
  bool target_max;      /* the target is a ceiling: met when ratio <= target */
  double ratio;         /* a ratio the workload computed itself (NAN: rate / floor's rate) */
  double entries_per_s; /* (b) only; NAN otherwise */
  double p50_s, p99_s;  /* latencies (fan-out); NAN otherwise */
  uint64_t bytes;
  uint64_t bytes_plain; /* sync: the same run's messages in whole, uncompressed
                           forms (what a peer of an older build sends); 0: none */
  long peak_rss_kb;
  long relay_rss_kb; /* the relay process's VmRSS; 0 for none */
  long relay_anon_kb; /* sync: the relay's RssAnon after the workload (its own
                         memory: VmRSS also counts LMDB's mapped pages); 0: none */
  long anon_kb;       /* sync: the workload process's RssAnon at its end; 0: none */
  int failed;        /* note says why */
} row_t;

typedef struct bench {
  bool quick, json, fallback;
  char only[64];
  char root[PATH_MAX];
  double crypto_secs, durable_secs;
  uint64_t lmdb_puts, changes, big_entries, big_ops, history;
  uint64_t query_records; /* (f): commitments queried */
  char bundle[PATH_MAX + 32], raw[PATH_MAX + 32];
  char revoke[PATH_MAX + 32]; /* the owner's late revocation of an editor (raw) */
  row_t rows[MAX_ROWS];
  size_t nrows;
  /* sync workloads (sync_bench.c) */
  uint64_t sync_entries, idle_conns, fanout_conns;
  pid_t relay_pid;
  int relay_port;
  uint8_t relay_pk[CAIRN_KEY_BYTES];
  uint8_t net[CAIRN_KEY_BYTES];
  uint8_t epoch[CAIRN_EPOCH_BYTES];
  uint8_t viewer_pk[CAIRN_KEY_BYTES], viewer_sk[CAIRN_SECRET_BYTES]; /* raw connections */
} bench_t;

typedef int (*work_fn)(bench_t *b, row_t *rows, size_t *nrows);

extern volatile sig_atomic_t stop_signal;

double now_s(void);
row_t *row_init(row_t *r, const char *name, const char *floor);
void row_set(row_t *r, uint64_t n, double seconds);
int row_fail(row_t *r, const char *fmt, ...) CAIRN_PRINTF(2, 3);
void progress(const char *fmt, ...) CAIRN_PRINTF(1, 2);
size_t mp_str(uint8_t *out, const char *s);
void path_of(char *out, size_t size, const bench_t *b, const char *name);
void rm_tree(const char *path);
int store_new(const bench_t *b, const char *name, const cairn_store_opts_t *opts, bool owner,
              cairn_store_t **out, row_t *r);
int put_change(cairn_store_t *s, const char *type, const char *id, size_t nfields,
               const char *const *names, const uint8_t *const *vals, const size_t *lens,
               row_t *r);
int grant_keys(cairn_store_t *owner, const uint8_t *const *keys, size_t n, const char *role,
               row_t *r);
/* fork with a pipe from the child to the parent: *fd is its write end in the
 * child (0 returned), its read end in the parent (the pid returned); -1 on error. */
pid_t fork_piped(int *fd);
/* Read n bytes unless EOF comes first (*got says how many); false on an error. */
bool read_all(int fd, void *buf, size_t n, size_t *got);
/* Run fn in a child; append its rows (with its peak RSS). 0 if every row succeeded. */
int run_child(bench_t *b, work_fn fn, const char *label);
row_t *find_row(bench_t *b, const char *name);

/* import_bench.c: (h) a CSV import of b->history rows (its ratio is to (c)). */
int work_import(bench_t *b, row_t *rows, size_t *nrows);

/* sync_bench.c: set up a relay and the stores, run the sync workloads, stop the
 * relay and return the number of failed workloads. */
int sync_bench_run(bench_t *b);

/* (g) the meeting report against a scan of its records (report_bench.c). */
int work_report(bench_t *b, row_t *rows, size_t *nrows);

/* (i) `cairn ui`'s GET and PUT of a record, from a load loop on 127.0.0.1, beside
 * cairn_get and the same change made by the library (web_bench.c). */
int work_web(bench_t *b, row_t *rows, size_t *nrows);

#endif
