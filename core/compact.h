/*
 * compact.h — the compact form of runs of entries (docs/protocol.md, "Compact
 * entries"): what `entries` messages and bundles carry instead of whole entries.
 *
 * A receiver knows the network, and within a run of one author's consecutive
 * entries it knows the author, the next seq and prev (the hash of the run's
 * previous entry); it recomputes ops_root and op_count from the ops. So each
 * entry travels as one item:
 *
 *   [signature (bin64), hlc - previous hlc (uint >= 1), ops]      continues the run
 *   [signature (bin64), hlc (uint), ops, author (bin32), seq (uint >= 1),
 *    prev (bin32, or nil exactly when seq = 1)]                      starts a run
 *   entry (bin)                                        a whole entry, as it is
 *
 * and the receiver rebuilds the canonical header bytes (entry.h) and the entry
 * around them, byte for byte the entry that was signed and stored. An entry whose
 * bytes are not canonical, or of another network, travels whole; the item after
 * a whole one starts a run.
 *
 * A cairn_compact_t is the state that links an item to the one before it: one
 * per message (the wire) or per stream (a bundle), the same on both sides.
 * Encoding reads no store and hashes nothing: it takes entries as a store holds
 * them, each author's chained to the one before (prev is its hash), and checks
 * each one's encoding. Decoding parses and hashes every op and hashes the
 * rebuilt header and signature (the next prev). The rebuilt entry is not
 * otherwise checked (its ops are well formed, nothing more): the receiver
 * checks it as any entry, so an entry that broke the encoder's assumptions
 * would be refused there (a bad signature), never taken for another.
 *
 * Thread safety: reentrant; a state belongs to one thread at a time.
 */
#ifndef CAIRN_COMPACT_H
#define CAIRN_COMPACT_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "mpread.h"

/* What links an item to the one before it. */
typedef struct cairn_compact {
  uint8_t network[CAIRN_KEY_BYTES];
  bool have; /* a previous entry in the run: the fields below */
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq, hlc;
  uint8_t hash[CAIRN_HASH_BYTES]; /* decoding only: its hash (the next prev) */
} cairn_compact_t;

/* One item read: the entry it rebuilds (cairn_compact_entry_write). */
typedef struct cairn_compact_entry {
  const uint8_t *whole; /* a whole entry (views into the item), or NULL */
  size_t whole_len;
  uint8_t header[CAIRN_HEADER_MAX]; /* else: the rebuilt header ... */
  size_t header_len;
  const uint8_t *sig, *ops; /* ... and views into the item */
  size_t ops_len;
  uint8_t hash[CAIRN_HASH_BYTES]; /* the entry's hash (not for a whole entry) */
  size_t len;                     /* the rebuilt entry's bytes */
} cairn_compact_entry_t;

/* Start a run state for network (copied). */
CAIRN_EXTERN void cairn_compact_init(cairn_compact_t *c, const uint8_t network[CAIRN_KEY_BYTES]);

/*
 * Append the item of one entry (len bytes, as stored) to out and move the state
 * on. The entry must be one a store holds (well formed, its ops matching its
 * ops_root, its prev the hash of its author's entry before it): what is not
 * canonical or not of c's network is written whole.
 * @return 0 or CAIRN_ENOMEM (out may then hold part of the item).
 */
CAIRN_EXTERN int cairn_compact_encode(cairn_compact_t *c, const uint8_t *entry, size_t len,
                                      msgpack_sbuffer *out) CAIRN_WUR;

/*
 * Read one item at r and move r and the state past it; *out says what to write.
 * An entry that would be longer than max_entry is CAIRN_ETOOBIG.
 * @return 0, CAIRN_EMALFORMED (err says why: not an item, a run continued with
 *         nothing before it, a seq or hlc that overflows, ops that do not parse)
 *         or CAIRN_ETOOBIG; r is not moved on error.
 */
CAIRN_EXTERN int cairn_compact_decode(cairn_compact_t *c, cairn_mpr_t *r, size_t max_entry,
                                      cairn_compact_entry_t *out, cairn_error_t *err) CAIRN_WUR;

/* Write the entry of a decoded item into dst (out->len bytes). */
CAIRN_EXTERN void cairn_compact_entry_write(const cairn_compact_entry_t *ce, uint8_t *dst);

#endif
