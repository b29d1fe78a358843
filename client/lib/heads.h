/*
 * heads.h — the heads file of another replica, as `cairn bundle create --since
 * HEADS_FILE` reads it.
 *
 * A heads file is the JSON object that `cairn heads --json` prints on the other
 * replica: {"<author key, 64 hex>": seq, ...}. It comes from another machine
 * (often carried on the same USB stick as the bundles), so it is outside input:
 * it is parsed here, in the library, where a fuzz target (tests/fuzz/fuzz_heads.c)
 * exercises it.
 *
 * Accepted: one JSON object (no duplicate keys); every key exactly 64 hex digits
 * (either case) naming an author once; every value an integer >= 0. Anything else
 * is refused with CAIRN_EINVAL and a one-line message for people.
 *
 * Thread safety: every function is reentrant and may be called from any thread
 * on distinct arguments. No function prints, exits or aborts.
 */
#ifndef CAIRN_HEADS_H
#define CAIRN_HEADS_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"

/* One author's head as the other replica holds it. */
typedef struct cairn_heads_row {
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq;
} cairn_heads_row_t;

/* A version vector: rows sorted by author bytes, each author at most once. */
typedef struct cairn_heads {
  cairn_heads_row_t *v; /* malloc'd; free with cairn_heads_free */
  size_t n;
} cairn_heads_t;

/*
 * Parse len bytes of JSON text into *out (which the caller frees with
 * cairn_heads_free). Returns 0, CAIRN_EINVAL for text that is not a heads file,
 * or CAIRN_ENOMEM; on failure *out is empty and err (may be NULL) says why.
 */
CAIRN_EXTERN int cairn_heads_parse(const char *text, size_t len, cairn_heads_t *out,
                                   cairn_error_t *err) CAIRN_WUR;

/*
 * The same for the file at path; messages name the path. A file that cannot be
 * opened or read also gives CAIRN_EINVAL (the message says why), since to the
 * caller it is equally "no usable heads file".
 */
CAIRN_EXTERN int cairn_heads_load(const char *path, cairn_heads_t *out,
                                  cairn_error_t *err) CAIRN_WUR;

/* The seq h holds for author, 0 if none. ud is a const cairn_heads_t *: this is a
 * cairn_since_fn (store.h), ready for cairn_bundle_create. */
CAIRN_EXTERN uint64_t cairn_heads_seq(const uint8_t author[CAIRN_KEY_BYTES], void *ud);

/* Free the rows and empty h (NULL is fine). */
CAIRN_EXTERN void cairn_heads_free(cairn_heads_t *h);

#endif
