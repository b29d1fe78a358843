/*
 * relay_sim.h — the relay driven by a test instead of libuv (test builds only,
 * CAIRN_TEST_HOOKS): tests/simulation runs the relay's real connection, commit
 * and fan-out code (conn.c, commit.c) over bytes it carries itself, in one
 * thread, with no socket, no loop and no timer.
 *
 * Differences from `cairnd serve`, all in the transport: each `entries` message
 * is prepared at once in the caller's thread (not on the thread pool), the
 * group commit runs when the caller calls relay_sim_commit (not once per loop
 * iteration), and the handshake and idle timeouts never fire.
 *
 * Ownership: a connection lives until the caller has dropped it, completed every
 * write it was handed (relay_sim_written) and released it (relay_sim_release).
 */
#ifndef CAIRN_RELAY_SIM_H
#define CAIRN_RELAY_SIM_H

#include "cairnd.h"

#ifdef CAIRN_TEST_HOOKS

/* The caller's side of one connection. */
typedef struct relay_sim_io {
  /* Bytes for the client: data (malloc'd) is the caller's on 0; it then calls
   * relay_sim_written(c, len, status) once they are delivered or lost. */
  int (*write)(struct relay_sim_io *io, char *data, size_t len);
  /* The relay closed the connection: nothing more is written or read. */
  void (*close)(struct relay_sim_io *io);
  void *ud;
} relay_sim_io_t;

/* Open the relay in dir (made by relay_init_dir, networks added by relay_host)
 * with opts; *out is freed by relay_sim_close. 0 or a negative code (err set). */
int relay_sim_open(const char *dir, const relay_opts_t *opts, relay_t **out,
                   cairn_error_t *err);

/* Stop where it stands, as a crash would: batches not committed are dropped. Every
 * connection must have been dropped and released before. */
void relay_sim_close(relay_t *r);

/* A client connects; io must live until the connection is released. NULL when
 * out of memory. */
conn_t *relay_sim_connect(relay_t *r, relay_sim_io_t *io);

/* Bytes from the client (ignored once the relay stopped reading it). */
void relay_sim_input(conn_t *c, const uint8_t *data, size_t len);

/* A write handed to io->write was delivered (status 0) or lost (non-zero). */
void relay_sim_written(conn_t *c, size_t len, int status);

/* The connection broke, or the client closed it. */
void relay_sim_drop(conn_t *c);

/* After the drop (or io->close) and every write completed: release it. */
void relay_sim_release(conn_t *c);

/* Run the group commit if batches wait for it; 1 if it ran, else 0. */
int relay_sim_commit(relay_t *r);

#endif
#endif
