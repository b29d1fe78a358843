/*
 * cairn_test.h — helpers shared by cairn's tests (in the spirit of nng's nuts.h).
 *
 * Two parts:
 *
 *   - assertion macros over cmocka (CAIRN_PASS, CAIRN_FAIL), defined only when the
 *     including file does not define CAIRN_TEST_NO_CMOCKA (fuzz targets define it:
 *     they are not linked with cmocka);
 *   - plain functions (a temporary store, a recursive remove, a one-field commit,
 *     signing keys that build their own chain of entries without a store). They
 *     never call cmocka and never abort: each returns 0 or a negative CAIRN_E*
 *     code, so that fuzz targets can use them too. Wrap them in CAIRN_PASS in
 *     tests.
 *
 * Typical use:
 *
 *   cairn_store_t *s;
 *   char *dir;
 *   CAIRN_PASS(cairn_test_store("alice", &s, &dir));
 *   CAIRN_PASS(cairn_store_network_create(s, "net", net, NULL));
 *   CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Acme"));
 *   cairn_store_close(s);
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

#include "entry.h"
#include "error.h"
#include "store.h"

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

/* Remove dir and everything under it (no symlinks are followed). NULL is fine. */
int cairn_test_rmrf(const char *dir);

/* Commit one change on s: put(type, id, {field: strvalue}) with strvalue packed as
 * a MessagePack string. The store needs a network. */
int cairn_test_put(cairn_store_t *s, const char *type, const char *id, const char *field,
                   const char *strvalue);

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

#endif
