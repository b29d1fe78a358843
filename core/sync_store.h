/*
 * sync_store.h — what network sync needs of a store (sync_store.c;
 * docs/design.md, "Sync", "The relay"): the epoch and arrival positions that a
 * relay serves cursors from, stored entries as their bytes, the network a store
 * waits for before its genesis arrives, and small settings kept with the store.
 */
#ifndef CAIRN_SYNC_STORE_H
#define CAIRN_SYNC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "store.h"

#define CAIRN_SETTING_MAX 1024 /* largest setting value, bytes */

/* The store's epoch (CAIRN_EPOCH_BYTES, entry.h), made and kept on first call. A
 * relay's cursors are positions in its arrival order within this epoch; a store
 * restored from a backup of another epoch makes clients fall back to version
 * vectors. @return 0, CAIRN_EIO, CAIRN_ENOSPC. */
CAIRN_EXTERN int cairn_store_epoch(cairn_store_t *s, uint8_t out[CAIRN_EPOCH_BYTES]) CAIRN_WUR;

/* How many entries this store holds in its arrival order (the last position).
 * @return 0, CAIRN_EIO, CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_store_last_arrival(cairn_store_t *s, uint64_t *out) CAIRN_WUR;

/* A stored entry as its signed bytes, undecoded (views valid during the
 * callback): what a relay forwards and a client pushes. */
typedef struct cairn_stored {
  const uint8_t *author; /* CAIRN_KEY_BYTES */
  uint64_t seq;
  const uint8_t *bytes;
  size_t len;
} cairn_stored_t;

/* cb returns 0 to go on, > 0 to stop (the walk returns 0), < 0 to stop with that
 * error (the walk returns it). */
typedef int (*cairn_stored_cb)(const cairn_stored_t *e, uint64_t position, void *ud);

/* Entries at positions after `after` in arrival order (the first entry to arrive
 * is position 1), in one read transaction. @return 0, the callback's error,
 * CAIRN_EIO, CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_store_arrivals(cairn_store_t *s, uint64_t after, cairn_stored_cb cb,
                                      void *ud) CAIRN_WUR;

/* author's entries with seq > after, in seq order (position is the seq). */
CAIRN_EXTERN int cairn_store_author_log(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                                        uint64_t after, cairn_stored_cb cb, void *ud) CAIRN_WUR;

/*
 * The relay's clock minus this device's, in ms, as the last sync learnt it (0
 * before any). Local changes are stamped with the device's clock plus this
 * offset, and received entries' clocks are checked against it, so a device
 * whose clock is wrong stays in step with the network once it has synced.
 * set keeps it in the store (its own durable transaction, when it changed).
 * @return 0, or for set CAIRN_EIO, CAIRN_ENOSPC.
 */
CAIRN_EXTERN int cairn_store_clock_offset(cairn_store_t *s, int64_t *ms) CAIRN_WUR;
CAIRN_EXTERN int cairn_store_set_clock_offset(cairn_store_t *s, int64_t ms) CAIRN_WUR;

/* A store made for a network before its genesis arrives (a relay hosting it, a
 * device joining it): only that network's genesis will be adopted.
 * @return 0, CAIRN_EHASNETWORK (the store holds another), CAIRN_EIO. */
CAIRN_EXTERN int cairn_store_expect_network(cairn_store_t *s, const uint8_t id[CAIRN_KEY_BYTES],
                                            cairn_error_t *err) CAIRN_WUR;
/* The network expected: 0, CAIRN_ENOENT if none was set, CAIRN_EIO. */
CAIRN_EXTERN int cairn_store_expected_network(cairn_store_t *s,
                                              uint8_t out[CAIRN_KEY_BYTES]) CAIRN_WUR;

/*
 * Small named values kept with the store (names 1-64 bytes), each set in its own
 * durable transaction. get copies up to cap bytes into buf and the length into
 * *len: 0, CAIRN_ENOENT if absent, CAIRN_ETOOBIG if larger than cap. set with
 * value NULL deletes: 0, CAIRN_EINVAL (name), CAIRN_ETOOBIG (over
 * CAIRN_SETTING_MAX), CAIRN_EIO, CAIRN_ENOSPC.
 */
CAIRN_EXTERN int cairn_store_setting_get(cairn_store_t *s, const char *name, void *buf,
                                         size_t cap, size_t *len) CAIRN_WUR;
CAIRN_EXTERN int cairn_store_setting_set(cairn_store_t *s, const char *name, const void *value,
                                         size_t len) CAIRN_WUR;

#endif
