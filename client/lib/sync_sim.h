/*
 * sync_sim.h — inside client/lib, test builds only (CAIRN_TEST_HOOKS): a one-shot
 * sync (what cairn_sync_once does) over a transport the caller supplies, so that
 * tests/simulation drives the real sync code with no socket, no loop and no
 * timer. The caller carries the bytes; it decides when they arrive and when the
 * connection breaks. Not part of the public API (cairn.h).
 */
#ifndef CAIRN_SYNC_SIM_H
#define CAIRN_SYNC_SIM_H

#include "cairn.h"

#ifdef CAIRN_TEST_HOOKS

/* The caller's transport. connect: a new connection starts (the next bytes
 * written open it). write: bytes for the relay, copied by the callee; 0 or a
 * negative code. close: the device closes the connection (no more bytes either
 * way). Called from inside the cairn_sim_sync_* calls. */
typedef struct cairn_sim_io {
  void (*connect)(void *ud);
  int (*write)(void *ud, const uint8_t *data, size_t len);
  void (*close)(void *ud);
  void *ud;
} cairn_sim_io_t;

typedef struct cairn_sim_sync cairn_sim_sync_t;

/* Start a one-shot sync of s with the relay set by cairn_sync_set_remote (only
 * its key is used); connect and the first bytes go out before this returns. io
 * must live until cairn_sim_sync_free. 0 or a negative code (err set). */
int cairn_sim_sync_start(cairn_store_t *s, const cairn_sim_io_t *io, cairn_sim_sync_t **out,
                         cairn_error_t *err);

/* Bytes from the relay, any split. */
void cairn_sim_sync_input(cairn_sim_sync_t *h, const uint8_t *data, size_t len);

/* The relay closed the connection, or it broke. */
void cairn_sim_sync_broken(cairn_sim_sync_t *h);

/* 1 once the sync is over, with its result as cairn_sync_once would return it
 * (err and stats may be NULL); else 0. */
int cairn_sim_sync_done(const cairn_sim_sync_t *h, int *rc, cairn_error_t *err,
                        cairn_sync_stats_t *stats);

/* Free h (NULL is fine). A sync not over is ended where it stands, as if the
 * process died: nothing more is written to the store. */
void cairn_sim_sync_free(cairn_sim_sync_t *h);

#endif
#endif
