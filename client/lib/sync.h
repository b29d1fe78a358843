/*
 * sync.h — syncing a store with its relay over the network (docs/protocol.md,
 * "Sync"): one-shot (blocking) or live on the caller's libuv loop.
 *
 * The relay is set with cairn_sync_set_remote (the CLI's `cairn remote`); the
 * store keeps it, with the relay's key (pinned: a relay with another key is
 * refused) and the cursor of the last entry applied from it, so that the next
 * sync asks only for what arrived since.
 */
#ifndef CAIRN_SYNC_H
#define CAIRN_SYNC_H

#include <stdint.h>
#include <uv.h>

#include "store.h"

typedef struct cairn_sync_stats {
  uint64_t pushed;         /* own entries sent */
  uint64_t acked_seq;      /* own entries stored at the relay up to this seq */
  uint64_t pulled;         /* entries received */
  uint64_t applied;        /* of those, new here */
  uint64_t bytes_sent, bytes_received;
} cairn_sync_stats_t;

/* Keep the relay's address (HOST:PORT) and key in the store. */
CAIRN_EXTERN int cairn_sync_set_remote(cairn_store_t *s, const char *addr,
                                       const uint8_t relay_key[CAIRN_KEY_BYTES],
                                       cairn_error_t *err) CAIRN_WUR;

/* The relay kept in the store: CAIRN_ENOENT if none. addr holds at least 256 bytes. */
CAIRN_EXTERN int cairn_sync_remote(cairn_store_t *s, char *addr, size_t addr_cap,
                                   uint8_t relay_key[CAIRN_KEY_BYTES]) CAIRN_WUR;

/*
 * Connect, push this device's entries the relay lacks, pull what arrived since the
 * last sync, and return once both directions are caught up (0), or on the first
 * error (the relay's error code and message, a network error as CAIRN_EIO, or
 * CAIRN_ECANCELED after timeout_ms). invite (may be NULL) is sent in the handshake.
 */
CAIRN_EXTERN int cairn_sync_once(cairn_store_t *s, const char *invite, unsigned timeout_ms,
                                 cairn_sync_stats_t *stats, cairn_error_t *err) CAIRN_WUR;

#endif
