/*
 * cairn_test.h — helpers shared by cairn's tests (in the spirit of nng's nuts.h).
 *
 * Two parts:
 *
 *   - assertion macros and checked helpers over cmocka (CAIRN_PASS, CAIRN_FAIL,
 *     bytes_*, cairn_test_assert_same_text), defined only when the including file
 *     does not define CAIRN_TEST_NO_CMOCKA (fuzz targets define it: they are not
 *     linked with cmocka);
 *   - plain functions in the .c files of tests/support. They never call cmocka and never
 *     abort: each returns 0 or a negative CAIRN_E* code, so that fuzz targets can
 *     use them too. Wrap them in CAIRN_PASS in tests. By file:
 *       cairn_test.c     temporary stores and nodes, a recursive remove, a
 *                        one-field commit, signing keys that build their own
 *                        chain of entries without a store;
 *       cairn_bytes.c    growable byte and text buffers, hex;
 *       cairn_entries.c  lists of signed entries copied out of a store, sync
 *                        between stores, granting roles;
 *       cairn_state.c    a store's whole visible state as text;
 *       cairn_rng.c      a seeded generator (splitmix64) for random workloads.
 *
 * Typical use:
 *
 *   cairn_store_t *s;
 *   char *dir;
 *   CAIRN_PASS(cairn_test_store("alice", &s, &dir));
 *   CAIRN_PASS(cairn_store_network_create(s, "net", net, NULL));
 *   CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Acme"));
 *   cairn_close(s);
 *   cairn_test_rmrf(dir);
 *   free(dir);
 *
 * Not thread-safe (cairn_test_hlc keeps a process-wide clock).
 */
#ifndef CAIRN_TEST_H
#define CAIRN_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "entry.h"
#include "error.h"
#include "cairn.h"

#ifndef CAIRN_TEST_NO_CMOCKA
#include <cmocka.h>

/* expr (a call returning 0 or a CAIRN_E* code) must succeed. */
#define CAIRN_PASS(expr)                                                            \
  do {                                                                              \
    int cairn_rc_ = (expr);                                                         \
    if (cairn_rc_ != 0)                                                             \
      fail_msg("%s failed: %s (%s)", #expr, cairn_err_name(cairn_rc_),              \
               cairn_strerror(cairn_rc_));                                          \
  } while (0)

/* expr must fail with exactly code. */
#define CAIRN_FAIL(expr, code)                                                      \
  do {                                                                              \
    int cairn_rc_ = (expr);                                                         \
    if (cairn_rc_ != (code))                                                        \
      fail_msg("%s gave %s (%s), expected %s", #expr, cairn_err_name(cairn_rc_),    \
               cairn_strerror(cairn_rc_), cairn_err_name(code));                    \
  } while (0)
#endif

/* ---- temporary stores ---- */

/*
 * Create a store for member `name` in a fresh directory made with mkdtemp under
 * $TMPDIR (default /tmp), with opts no_sync = 1. *dir receives the directory
 * (malloc'd: remove it with cairn_test_rmrf, then free it). On failure nothing is
 * left behind and *out, *dir are NULL.
 */
int cairn_test_store(const char *name, cairn_store_t **out, char **dir);

/* The same with other options (opts may be NULL); no_sync is forced to 1. */
int cairn_test_store_opts(const char *name, const cairn_store_opts_t *opts,
                          cairn_store_t **out, char **dir);

/* The same with opts taken as they are (no_sync too: a durable store). */
int cairn_test_store_exact(const char *name, const cairn_store_opts_t *opts,
                           cairn_store_t **out, char **dir);

/*
 * A named store in a temporary directory, as one member of a test network. name
 * is also the store's member name (at most 15 bytes). dir is malloc'd.
 */
typedef struct cairn_test_node {
  cairn_store_t *s;
  char *dir;
  char name[16];
} cairn_test_node_t;

/* Create n as cairn_test_store_opts does (opts may be NULL; no_sync forced). */
int cairn_test_node_new(cairn_test_node_t *n, const char *name, const cairn_store_opts_t *opts);

/* Close n's store and open its directory again with opts (NULL: defaults, no_sync
 * forced to 1 either way). On failure n->s is NULL. */
int cairn_test_node_reopen(cairn_test_node_t *n, const cairn_store_opts_t *opts);

/* Close the store, remove the directory, free it. n may have been closed. */
void cairn_test_node_free(cairn_test_node_t *n);

/* Remove dir and everything under it (no symlinks are followed). NULL is fine. */
int cairn_test_rmrf(const char *dir);

/* Commit one change on s: put(type, id, {field: strvalue}) with strvalue packed as
 * a MessagePack string. The store needs a network. */
int cairn_test_put(cairn_store_t *s, const char *type, const char *id, const char *field,
                   const char *strvalue);

/* The string value of a field of a record ("" when the record, the field or a
 * string value is missing); valid until the next call. */
const char *cairn_test_field_text(cairn_store_t *s, const char *type, const char *id,
                                  const char *field);

/* ---- entries without a store ---- */

/*
 * A process-wide hybrid clock for test entries: max(now_ms << 16, last + 1). Every
 * entry signed through these helpers takes its HLC from here, so stamps of
 * different keys are ordered by signing order (a grant is older than the
 * grantee's first entry) and stay within the store's allowed skew.
 */
uint64_t cairn_test_hlc(void);

/*
 * A signing key and its own chain: what a remote device would hold. seq, head and
 * hlc describe the last entry signed through cairn_test_key_sign (seq 0: none).
 */
typedef struct cairn_test_key {
  uint8_t pk[CAIRN_KEY_BYTES];
  uint8_t sk[CAIRN_SECRET_BYTES];
  uint8_t network[CAIRN_KEY_BYTES]; /* the network it signs for */
  uint64_t seq;
  uint8_t head[CAIRN_HASH_BYTES];
  uint64_t hlc;
} cairn_test_key_t;

/* A key from a 32-byte seed (deterministic), or a random one when seed is NULL.
 * network is set to zero; set it, or let cairn_test_genesis set it. */
void cairn_test_key_init(cairn_test_key_t *k, const uint8_t *seed);

/*
 * Sign ops (a packed MessagePack array of ops) as k's next entry: seq + 1, prev =
 * head, hlc = cairn_test_hlc(). Advances k on success. *out is malloc'd (free it).
 */
int cairn_test_key_sign(cairn_test_key_t *k, const uint8_t *ops, size_t ops_len,
                        uint8_t **out, size_t *out_len);

/* The same with the given hlc (fuzz targets: a fixed clock replays the same). */
int cairn_test_key_sign_at(cairn_test_key_t *k, uint64_t hlc, const uint8_t *ops,
                           size_t ops_len, uint8_t **out, size_t *out_len);

/*
 * The genesis of a new network owned by k, signed as k's next entry (it must be
 * k's first): ops [put _network <id hex> {nonce: bin32, title: str}, put _member
 * <k hex> {name: "owner", role: "owner"}] as core/change.c writes them. nonce may
 * be NULL for a random one. Sets k->network to BLAKE2b-256("cairn network v1" ||
 * pk || nonce). A store without a network adopts it on cairn_store_apply.
 */
int cairn_test_genesis(cairn_test_key_t *k, const uint8_t *nonce, const char *title,
                       uint8_t **out, size_t *out_len);

/* A `_member` grant signed by k (owner or admin): put _member <member hex>
 * {role: role}, as k's next entry. */
int cairn_test_grant(cairn_test_key_t *k, const uint8_t member[CAIRN_KEY_BYTES],
                     const char *role, uint8_t **out, size_t *out_len);

/* Pack the ops array [put type id {field: [strvalue, []]}] (one put, empty base).
 * *out is malloc'd. */
int cairn_test_ops_put(const char *type, const char *id, const char *field,
                       const char *strvalue, uint8_t **out, size_t *out_len);

/* Apply one entry to s (a batch of one); err may be NULL. */
int cairn_test_apply1(cairn_store_t *s, const uint8_t *entry, size_t len, cairn_error_t *err);

/* ---- byte and text buffers (cairn_bytes.c) ---- */

/* A growable byte buffer. {0} is an empty buffer; free it with
 * cairn_test_bytes_free. */
typedef struct cairn_test_bytes {
  uint8_t *p;
  size_t len, cap;
} cairn_test_bytes_t;

/* Append n bytes (n may be 0, p then may be NULL); CAIRN_ENOMEM. */
int cairn_test_bytes_put(cairn_test_bytes_t *b, const void *p, size_t n);

/* Append n copies of c. */
int cairn_test_bytes_fill(cairn_test_bytes_t *b, uint8_t c, size_t n);

/* Append the bytes written in hex, pairs of digits with spaces and newlines
 * allowed between pairs: "94 01 a1 74". CAIRN_EINVAL for anything else (nothing
 * of the bad pair is appended). */
int cairn_test_bytes_hex(cairn_test_bytes_t *b, const char *hex);

void cairn_test_bytes_free(cairn_test_bytes_t *b);

/*
 * A growable text buffer, always NUL-terminated once written to. Errors are
 * sticky: after an allocation fails, err is CAIRN_ENOMEM and later appends do
 * nothing; whoever fills a buffer returns err (see cairn_test_state).
 */
typedef struct cairn_test_text {
  char *p;
  size_t n, cap;
  int err;
} cairn_test_text_t;

void cairn_test_text_printf(cairn_test_text_t *t, const char *fmt, ...) CAIRN_PRINTF(2, 3);

/* Append n bytes as lowercase hex. */
void cairn_test_text_hex(cairn_test_text_t *t, const uint8_t *p, size_t n);

/* Empty t (keeping its memory) and clear its error. */
void cairn_test_text_reset(cairn_test_text_t *t);

void cairn_test_text_free(cairn_test_text_t *t);

/* ---- a seeded generator (cairn_rng.c) ---- */

/* splitmix64: the same seed gives the same sequence on every platform. */
typedef struct cairn_test_rng {
  uint64_t state;
} cairn_test_rng_t;

uint64_t cairn_test_rng_next(cairn_test_rng_t *r);

/* Uniform in [0, n); 0 when n is 0. */
size_t cairn_test_rng_below(cairn_test_rng_t *r, size_t n);

/* Uniform in [lo, hi]. */
size_t cairn_test_rng_range(cairn_test_rng_t *r, size_t lo, size_t hi);

/*
 * One step of a uniformly random merge of several runs: left[i] is what run i has
 * left, total their sum (> 0). Returns a run chosen with probability left[i] /
 * total, so that every merge of the runs is equally likely.
 */
size_t cairn_test_rng_pick(cairn_test_rng_t *r, const size_t *left, size_t total);

/* ---- lists of signed entries (cairn_entries.c) ---- */

/* A copy of one signed entry, as a store exported it. data is malloc'd. */
typedef struct cairn_test_entry {
  uint8_t *data;
  size_t len;
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq;
} cairn_test_entry_t;

/* {0} is empty. The list owns each e[i].data unless the caller moved it out
 * (set it to NULL then). */
typedef struct cairn_test_entries {
  cairn_test_entry_t *e;
  size_t n, cap;
} cairn_test_entries_t;

/* Append x (a shallow copy: the list takes x->data). CAIRN_ENOMEM. */
int cairn_test_entries_push(cairn_test_entries_t *l, const cairn_test_entry_t *x);

/* Free every entry's data and the list; l is empty after. */
void cairn_test_entries_free(cairn_test_entries_t *l);

/*
 * The entries of src that dst lacks (every entry when dst is NULL), in src's
 * arrival order; only author's when author is not NULL. *out is overwritten
 * (free it with cairn_test_entries_free, also after an error).
 */
int cairn_test_lacking(cairn_store_t *dst, cairn_store_t *src, const uint8_t *author,
                       cairn_test_entries_t *out);

/* Apply l->e[from..to) to dst as one batch (st and err may be NULL). */
int cairn_test_apply_range(cairn_store_t *dst, const cairn_test_entries_t *l, size_t from,
                           size_t to, cairn_apply_stats_t *st, cairn_error_t *err);

/* Apply to dst what src holds and dst lacks (only author's if not NULL), as one
 * batch, as a sync would. */
int cairn_test_sync(cairn_store_t *dst, cairn_store_t *src, const uint8_t *author,
                    cairn_error_t *err);

/* owner grants role to each of members[0..n) in one change (one entry): put
 * _member <key hex> {role: role}. */
int cairn_test_grant_all(cairn_store_t *owner, cairn_store_t *const *members, size_t n,
                         const char *role, cairn_error_t *err);

/*
 * A store for `owner` (as cairn_test_store) that owns a new network titled
 * title, and n fresh signing keys of that network (keys[i], network set), each
 * granted editor under names[i] (NULL: no name) in one change of its own, in
 * order. On failure
 * nothing is left behind and *out, *dir are NULL.
 */
int cairn_test_network_keys(const char *owner, const char *title, cairn_test_key_t *keys,
                            const char *const *names, size_t n, cairn_store_t **out,
                            char **dir);

/* ---- a store's visible state as text (cairn_state.c) ---- */

/* Also write every record's history (each entry and op on it). */
#define CAIRN_TEST_STATE_HISTORY 1u

/*
 * The whole visible state of s as text, into out (emptied first): for each of
 * types[0..ntypes), its records with every field, value and stamp (and history
 * with CAIRN_TEST_STATE_HISTORY); then every conflict with all its heads; then the
 * version vector. Equal states give equal bytes. Returns the first error of a
 * store call, or out->err.
 */
int cairn_test_state(cairn_store_t *s, const char *const *types, size_t ntypes,
                     unsigned flags, cairn_test_text_t *out);

/*
 * Count, over s's whole log, the put and del ops on type/id (*hits) and the
 * redacted ops (*redacted, may be NULL): a purge must leave no hit anywhere.
 */
int cairn_test_log_scan(cairn_store_t *s, const char *type, const char *id, size_t *hits,
                        size_t *redacted);

#ifndef CAIRN_TEST_NO_CMOCKA
/* ---- checked helpers for cmocka tests: they fail the test on error ---- */

/* A cmocka group setup that initializes the core (libsodium). */
static inline int cairn_test_setup(void **state) {
  (void)state;
  return cairn_core_init();
}

/* Fail unless s contains needle. */
static inline void assert_contains(const char *s, const char *needle) {
  if (strstr(s, needle) == NULL)
    fail_msg("\"%s\" does not contain \"%s\"", s, needle);
}

static inline void bytes_put(cairn_test_bytes_t *b, const void *p, size_t n) {
  CAIRN_PASS(cairn_test_bytes_put(b, p, n));
}

static inline void bytes_fill(cairn_test_bytes_t *b, uint8_t c, size_t n) {
  CAIRN_PASS(cairn_test_bytes_fill(b, c, n));
}

static inline void bytes_hex(cairn_test_bytes_t *b, const char *hex) {
  CAIRN_PASS(cairn_test_bytes_hex(b, hex));
}

/* A new buffer holding the bytes written in hex. */
static inline cairn_test_bytes_t bytes_from_hex(const char *hex) {
  cairn_test_bytes_t b = {0};
  bytes_hex(&b, hex);
  return b;
}

static inline void bytes_free(cairn_test_bytes_t *b) {
  cairn_test_bytes_free(b);
}

/* want and got must be the same text; else print the first differing line and
 * both texts, and fail with what. */
static inline void cairn_test_assert_same_text(const cairn_test_text_t *want,
                                               const cairn_test_text_t *got,
                                               const char *what) {
  if (want->n == got->n && (want->n == 0 || memcmp(want->p, got->p, want->n) == 0))
    return;
  size_t i = 0, line = 0;
  while (i < want->n && i < got->n && want->p[i] == got->p[i])
    i++;
  size_t ls = i;
  while (ls > 0 && want->p[ls - 1] != '\n')
    ls--;
  for (size_t j = 0; j < ls; j++)
    line += want->p[j] == '\n';
  size_t we = ls, ge = ls;
  while (we < want->n && want->p[we] != '\n')
    we++;
  while (ge < got->n && got->p[ge] != '\n')
    ge++;
  print_error("%s: states differ at line %zu\n  want: %.*s\n  got:  %.*s\n"
              "--- want ---\n%.*s--- got ---\n%.*s",
              what, line + 1, (int)(we - ls), want->p + ls, (int)(ge - ls), got->p + ls,
              (int)want->n, want->p, (int)got->n, got->p);
  fail_msg("%s: state differs", what);
}
#endif

#endif
