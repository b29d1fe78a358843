/*
 * apply.h — received entries: prepare a batch (pure work on its bytes, any
 * thread), then apply it to a store in one write transaction (apply.c;
 * docs/design.md, "Applying entries: prepare and apply", "Verifying a run by its
 * newest signature").
 *
 * Preparing decodes every entry up to the first that does not decode, parses and
 * hashes its ops, hashes the entry and verifies the signatures that applying
 * will need: each author's newest in the batch, and every signature of the
 * first-hop author (the relay checks every entry a client sends of its own).
 * It reads no store, so a relay prepares on its thread pool and a bundle reader
 * on a second thread while the previous batch is written. Applying checks each
 * entry against the store (network, chain, gaps and forks, clock skew, roles)
 * in arrival order, appends it, moves its author's head and merges its ops.
 */
#ifndef CAIRN_APPLY_H
#define CAIRN_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "entry.h"
#include "error.h"
#include "change.h"
#include "store.h"

/* A prepared batch. Opaque; reuse one for batch after batch. */
typedef struct cairn_prepared cairn_prepared_t;

/* How to prepare; a zeroed struct gives the defaults. */
typedef struct cairn_prepare_opts {
  size_t max_entry;          /* largest entry accepted; 0: CAIRN_ENTRY_MAX_DEFAULT */
  bool verify_all;           /* verify every signature now */
  const uint8_t *first_hop;  /* may be NULL: every entry of this author gets its own
                                signature verified (CAIRN_KEY_BYTES, borrowed) */
  const uint8_t (*hashes)[CAIRN_HASH_BYTES]; /* may be NULL: entry i's hash, its ops
                                known to hash to its ops_root, as the code that built
                                these bytes computed them (entries rebuilt from their
                                compact form, compact.h); never hashes a peer sent */
} cairn_prepare_opts_t;

/* A new, empty prepared batch. @return 0 or CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_prepared_new(cairn_prepared_t **out) CAIRN_WUR;

/* Free a prepared batch (NULL is fine). */
CAIRN_EXTERN void cairn_prepared_free(cairn_prepared_t *p);

/*
 * Prepare entries[0..n) into p, replacing what p held (its memory is reused).
 * The batch keeps views into the entries' bytes: they must stay valid and
 * unchanged until p is prepared again or freed. Any thread; distinct batches may
 * be prepared on distinct threads at once.
 *
 * An entry that does not decode ends the batch there: cairn_prepared_count() is
 * its index and applying the batch fails at it with the decode error. A bad
 * signature is not an error here: applying reports it at its entry.
 *
 * @param[in] opts  may be NULL for the defaults.
 * @return 0 or CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_prepare(cairn_prepared_t *p, const cairn_buf_t *entries, size_t n,
                               const cairn_prepare_opts_t *opts) CAIRN_WUR;

/* How many entries of the last cairn_prepare() decoded (all n, or the index of the
 * first that did not). */
CAIRN_EXTERN size_t cairn_prepared_count(const cairn_prepared_t *p);

/* What applying did. */
typedef struct cairn_apply_stats {
  size_t applied;      /* new entries stored */
  size_t skipped;      /* entries this store already held */
  size_t refused;      /* of the applied, those kept as evidence only: their
                          author's roles refuse them (cairn_entry_refused) */
  size_t failed_batch; /* on error: the batch holding the first bad entry ... */
  size_t failed_at;    /* ... and its index there. On an error no entry caused
                          (I/O, disk full), failed_batch is the number of batches:
                          no entry is at fault */
  bool members;        /* a `_member` record was written: roles may have changed */
} cairn_apply_stats_t;

/* Options for cairn_store_apply_prepared; a zeroed struct gives the defaults. */
typedef struct cairn_apply_opts {
  /* may be NULL: a setting (sync_store.h) written in the same transaction as the
   * entries, when every entry applies: a sync cursor is then durable exactly when
   * the entries it covers are */
  const char *setting;
  const void *value;
  size_t value_len;
} cairn_apply_opts_t;

/*
 * Apply prepared batches, in order, as one sequence in one write transaction.
 * Entries already held are skipped. Each author's entries must come in seq order;
 * a run of one author within a batch is vouched for by its newest signature.
 * On the first bad entry the call fails with its error (naming author and seq)
 * and stats->failed_batch / failed_at; the entries before it are kept, nothing at
 * or after it is. When the LMDB map is full it is grown and the transaction run
 * again.
 *
 * @param[in]  batches   nbatches prepared batches, unchanged by the call.
 * @param[in]  opts      may be NULL.
 * @param[out] stats     may be NULL; filled whatever the result.
 * @param[out] err       may be NULL; on error, the code and a message.
 * @return 0, or the first bad entry's error (CAIRN_EBADSIG, CAIRN_EBADHASH,
 *         CAIRN_EGAP, CAIRN_EFORK, CAIRN_ENETWORK, CAIRN_ENONETWORK, CAIRN_ESKEW,
 *         CAIRN_EFORBIDDEN, CAIRN_ENOTMEMBER, CAIRN_EMALFORMED, CAIRN_ETOOBIG),
 *         or a storage error no entry caused (CAIRN_EIO, CAIRN_ENOSPC,
 *         CAIRN_ENOMEM, CAIRN_ECORRUPT).
 */
CAIRN_EXTERN int cairn_store_apply_prepared(cairn_store_t *s,
                                            const cairn_prepared_t *const *batches,
                                            size_t nbatches, const cairn_apply_opts_t *opts,
                                            cairn_apply_stats_t *stats,
                                            cairn_error_t *err) CAIRN_WUR;

/* Prepare entries[0..n) with the store's options and apply them: one batch,
 * otherwise as cairn_store_apply_prepared(). */
CAIRN_EXTERN int cairn_store_apply(cairn_store_t *s, const cairn_buf_t *entries, size_t n,
                                   cairn_apply_stats_t *stats, cairn_error_t *err) CAIRN_WUR;

/*
 * Take back this device's own entries with seq > keep: entries the relay has not
 * acknowledged, which nobody else can have applied through it (a store restored
 * from a backup and then written, entries stamped by a clock the relay refused).
 * In one write transaction they are copied into *out, removed from the log and
 * the arrival order, the device's head is set to keep, and every record,
 * conflict, history and role is rebuilt from the entries that remain, so nothing
 * of the taken entries is left. Sign them again with cairn_store_resign
 * (change.h). Before the transaction commits they are written durably to
 * DIR/taken-back.entries (each a 4-byte big-endian length and the entry's
 * bytes), which cairn_store_resign removes once every one is signed again: a
 * failure in between loses nothing.
 * @param[out] out  the entries taken, after those an earlier take-back left
 *                  unsigned (cairn_store_taken_pending);
 *                  free with cairn_taken_free.
 * @return 0, CAIRN_EIO, CAIRN_ENOSPC, CAIRN_ECORRUPT, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_store_take_back(cairn_store_t *s, uint64_t keep, cairn_taken_t **out,
                                       cairn_error_t *err) CAIRN_WUR;
/*
 * Drop another author's entries above keep: a copy of that author's log that
 * forked from the relay's (a store restored or copied and written, whose entries
 * reached this replica on a bundle before its fork repair). The relay's chain
 * wins: its entries from keep + 1 on can then be applied, and the author's
 * repair brings the dropped changes back signed anew. In one write transaction
 * the entries are removed from the log and the arrival order, the author's head
 * is set to keep and everything derived is rebuilt; before it commits they are
 * appended durably to DIR/forked.entries (the format of taken-back.entries), so
 * nothing is lost. Not for this device's own key (CAIRN_EINVAL).
 * @param[out] dropped  how many entries were dropped.
 * @return 0, CAIRN_EINVAL, CAIRN_EIO, CAIRN_ENOSPC, CAIRN_ECORRUPT, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_store_drop_fork(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                                       uint64_t keep, size_t *dropped,
                                       cairn_error_t *err) CAIRN_WUR;

/* How many entries t holds, and the i-th (bytes valid while t is). */
CAIRN_EXTERN size_t cairn_taken_count(const cairn_taken_t *t);
CAIRN_EXTERN const uint8_t *cairn_taken_entry(const cairn_taken_t *t, size_t i, size_t *len);
CAIRN_EXTERN void cairn_taken_free(cairn_taken_t *t);

#endif
