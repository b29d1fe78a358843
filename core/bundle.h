/*
 * bundle.h — sync on a file: a bundle is a stream of signed entries that carries
 * changes between stores with no network at all (a USB stick).
 *
 * Format (docs/protocol.md, "Bundles"):
 *
 *   magic "CAIRNBDL" (8 bytes), version (1 byte, = 2),
 *   then one zstd frame holding:
 *     network id (32 bytes)
 *     { length (uint32 big-endian, 1..max entry + 5) , compact item } ...
 *     0 (uint32), entry count (uint64 big-endian)
 *
 * Each item is an entry in its compact form (compact.h), the run going on from
 * item to item across the whole bundle; the reader rebuilds every entry byte for
 * byte. Version 1 (still read) has whole entries in place of items and no
 * network id. The end marker with the count makes a bundle truncated at an entry
 * boundary detectable. Entries are written in the source store's arrival order,
 * so each author's entries come in seq order and grants come before the grantee's
 * entries.
 *
 * Applying reads the bundle in batches and applies each batch in one transaction
 * (cairn_store_apply_prepared, apply.h): entries are checked as any received entries are (hash
 * links, runs verified by their newest signature). On the first bad entry (or a
 * truncated or corrupt stream) the apply stops with an error naming its position;
 * the entries before it are kept, since each is valid on its own, and nothing at or
 * after it is applied. Applying a bundle twice is harmless: held entries are
 * skipped.
 */
#ifndef CAIRN_BUNDLE_H
#define CAIRN_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "query.h"
#include "store.h"

#define CAIRN_BUNDLE_MAGIC "CAIRNBDL"
#define CAIRN_BUNDLE_VERSION 2 /* written; version 1 is read too */

typedef struct cairn_bundle_reader cairn_bundle_reader_t;

/*
 * Open a bundle file for reading; checks the magic and version (1 or 2). Entries up to
 * CAIRN_ENTRY_MAX_DEFAULT bytes are accepted.
 * @param[out] out  on success the reader, to be closed with cairn_bundle_reader_close().
 * @param[out] err  may be NULL; on error, the code and a message naming path.
 * @return 0, CAIRN_ENOENT / CAIRN_EIO (cannot open or read), CAIRN_EMALFORMED (not a
 *         bundle, or a bundle version this library cannot read), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_bundle_reader_open(const char *path, cairn_bundle_reader_t **out,
                                          cairn_error_t *err) CAIRN_WUR;

/* The same for a bundle held in memory: buf (len bytes) must outlive the reader;
 * entries up to max_entry bytes (0: CAIRN_ENTRY_MAX_DEFAULT). */
CAIRN_EXTERN int cairn_bundle_reader_mem(const uint8_t *buf, size_t len, size_t max_entry,
                                         cairn_bundle_reader_t **out,
                                         cairn_error_t *err) CAIRN_WUR;

/*
 * Next entry: returns 1 with *entry and *len set (valid until the next call or close),
 * 0 at the verified end marker, or a negative code (CAIRN_EMALFORMED for a
 * corrupt or truncated stream, CAIRN_ETOOBIG, CAIRN_EIO) with err naming the entry
 * number (1-based) and byte offset in the decompressed stream.
 */
CAIRN_EXTERN int cairn_bundle_next(cairn_bundle_reader_t *r, const uint8_t **entry,
                                   size_t *len, cairn_error_t *err);

/* Number of entries returned so far. */
CAIRN_EXTERN uint64_t cairn_bundle_count(const cairn_bundle_reader_t *r);

/* Close a reader (NULL is fine); entries it returned are invalid afterwards. */
CAIRN_EXTERN void cairn_bundle_reader_close(cairn_bundle_reader_t *r);

/*
 * Write a bundle of the store's entries that a replica whose version vector is
 * given by since (may be NULL: every entry) lacks. Written to a temporary file,
 * fsync'd and renamed over path, so a failed create leaves no partial bundle.
 * @param[in]  since  may be NULL; called with ud (cairn_heads_seq with a
 *                    cairn_heads_t, heads.h, reads a heads file's).
 * @param[out] count  may be NULL; the number of entries written.
 * @param[out] err    may be NULL; on error, the code and a message.
 * @return 0, CAIRN_EIO, CAIRN_ENOSPC (writing path), CAIRN_ECORRUPT (reading the
 *         store), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_bundle_create(cairn_store_t *s, const char *path, cairn_since_fn since,
                                     void *ud, uint64_t *count, cairn_error_t *err) CAIRN_WUR;

typedef struct cairn_bundle_stats {
  uint64_t read;    /* entries read from the bundle */
  uint64_t applied; /* new entries stored */
  uint64_t skipped; /* entries the store already held */
  uint64_t refused; /* of the applied, those kept as evidence only (query.h,
                       cairn_entry_refused) */
  uint64_t set_aside; /* others' entries that fork from this store's copy of their
                         author's log (restored or copied, then written), kept in
                         DIR/forked.entries and not applied */
} cairn_bundle_stats_t;

/*
 * Verify and apply every entry of a bundle, in batches of up to batch entries
 * (0: a default of 4096), each batch in one write transaction.
 * @param[out] stats  may be NULL; what was read, applied and skipped, filled
 *                    whatever the result.
 * @param[out] err    may be NULL; the first bad entry's error, naming its position
 *                    (entry number and byte offset); see the top of this file for
 *                    what is kept.
 * @return 0, a read error of cairn_bundle_reader_open/next, or an error of
 *         cairn_store_apply_prepared (apply.h).
 */
CAIRN_EXTERN int cairn_bundle_apply(cairn_store_t *s, const char *path, size_t batch,
                                    cairn_bundle_stats_t *stats, cairn_error_t *err) CAIRN_WUR;

#endif
