/*
 * cairnd.h — the relay's internals (docs/design.md, "The relay"): one libuv loop
 * does all I/O; entries are prepared (decoded, hashed, first-hop signatures
 * verified) on the thread pool; prepared batches
 * from every connection of a network are applied in one group commit per loop
 * iteration, and only then acknowledged and fanned out.
 *
 * A relay directory holds `key` (the relay's ed25519 identity, mode 0600),
 * `networks/<network id hex>/` (one cairn store per hosted network) and, while
 * `serve` runs, `stats.json` (rewritten every second).
 */
#ifndef CAIRND_H
#define CAIRND_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "apply.h"
#include "member.h"
#include "query.h"
#include "session.h"
#include "store.h"
#include "sync_store.h"

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

void relay_log(log_level_t level, const char *fmt, ...) CAIRN_PRINTF(2, 3);
void relay_log_level(log_level_t level);
int relay_log_parse(const char *s, log_level_t *out);

typedef struct relay_opts {
  const char *listen;        /* HOST:PORT */
  unsigned max_conns;        /* connections held at once */
  size_t max_frame;          /* largest message, bytes */
  size_t max_entry;          /* largest entry, bytes */
  unsigned max_batch;        /* entries per `entries` message sent */
  size_t write_queue;        /* bytes queued to one connection before it is paused */
  size_t read_queue;         /* bytes of a client's entries read and not yet stored
                                before the relay stops reading it */
  uint64_t handshake_ms;     /* from accept to hello */
  uint64_t idle_ms;          /* without a byte from the peer */
} relay_opts_t;

typedef struct relay relay_t;
typedef struct conn conn_t;
typedef struct batch batch_t;

/* One hosted network: its store, its live connections, its pending commit. */
typedef struct network {
  relay_t *relay;
  uint8_t id[CAIRN_KEY_BYTES];
  char hex[2 * CAIRN_KEY_BYTES + 1];
  cairn_store_t *store;
  uint8_t epoch[CAIRN_EPOCH_BYTES];
  uint64_t last_arrival;
  conn_t *conns;        /* every connection of this network */
  batch_t *verifying;   /* batches on the thread pool, in the order they arrived */
  batch_t **verifying_tail;
  batch_t *pending;     /* verified batches waiting for the group commit */
  batch_t **pending_tail;
} network_t;

/* Operator counters (stats.json). */
typedef struct relay_stats {
  uint64_t conns_now, conns_total, conns_refused;
  uint64_t entries_in, entries_out, bytes_in, bytes_out;
  uint64_t commits, commit_entries, commit_us_total, commit_us_max;
  uint64_t verify_batches, verify_us_total, verify_us_max;
  uint64_t errors_sent;
} relay_stats_t;

struct relay {
  uv_loop_t *loop;      /* NULL when a test drives the relay (relay_sim.h): batches
                           are then prepared at once and committed when it says */
  const char *dir;
  relay_opts_t opts;
  uint8_t sk[CAIRN_SECRET_BYTES];
  uint8_t pk[CAIRN_KEY_BYTES];
  network_t **nets; /* hosted networks, opened at start or on first use */
  size_t nnets, ncap;
  conn_t *conns; /* every open connection */
  uv_tcp_t listener;
  uv_idle_t committer;  /* runs the group commits once per loop iteration */
  bool commit_armed;
  uv_signal_t sigint, sigterm;
  uv_timer_t stats_timer;
  bool stopping, finished;
  unsigned verify_in_flight;
  relay_stats_t stats;
};

/*
 * How a connection's bytes leave and how it ends: libuv's TCP (conn.c), or the
 * caller's when a test drives the relay (relay_sim.c). write takes data (malloc'd)
 * only on success and calls conn_written when it is done; close ends the
 * connection's two handles, each one's end calling conn_unref.
 */
typedef struct conn_io {
  int (*write)(conn_t *c, char *data, size_t len);
  void (*read_stop)(conn_t *c);
  void (*read_start)(conn_t *c); /* again, after read_stop for backpressure */
  void (*close)(conn_t *c);
  void (*timer)(conn_t *c, uint64_t ms); /* (re)arm the connection's timeout */
} conn_io_t;

/* relay.c */
int relay_init_dir(const char *dir, uint8_t pk[CAIRN_KEY_BYTES], cairn_error_t *err);
int relay_host(const char *dir, const uint8_t id[CAIRN_KEY_BYTES], cairn_error_t *err);
int relay_serve(const char *dir, const relay_opts_t *opts, cairn_error_t *err);
int relay_print_stats(const char *dir, cairn_error_t *err);
/* Load the key and open the hosted networks (no listener); relay_close undoes it. */
int relay_open(relay_t *r, const char *dir, const relay_opts_t *opts, cairn_error_t *err);
void relay_close(relay_t *r);
network_t *relay_network(relay_t *r, const uint8_t id[CAIRN_KEY_BYTES]);
void relay_maybe_finish(relay_t *r);
void commit_arm(relay_t *r); /* run commit_run when the loop next idles */

/* conn.c */
void conn_accept(relay_t *r);
/* A new connection over io (its user data: ud); NULL when out of memory. */
conn_t *conn_new(relay_t *r, const conn_io_t *io, void *ud);
void *conn_io_data(const conn_t *c);
/* Bytes received; the peer closed or the connection broke; a write is done. */
void conn_input(conn_t *c, const uint8_t *data, size_t len);
void conn_broken(conn_t *c);
void conn_written(conn_t *c, size_t len, int status);
void conn_send(conn_t *c, msgpack_sbuffer *out);
void conn_fail(conn_t *c, int code, const char *text);
void conn_pump(conn_t *c);
void conn_stop_all(relay_t *r);
void conn_acked(conn_t *c);
void conn_recheck_role(conn_t *c);
const uint8_t *conn_peer(const conn_t *c);
bool conn_closing(const conn_t *c);
/* Whether the connection's batches may be committed: it is not closing, and no
 * batch of it was lost to a storage error (the rest would not chain). */
bool conn_storable(const conn_t *c);
void conn_set_unstored(conn_t *c);
/* One more of the connection's `entries` messages is stored (counted in acks). */
void conn_stored(conn_t *c);
/* bytes of the connection's entries were queued for verifying and storing, or
 * left that queue (stored or dropped). Past a bound the relay stops reading the
 * connection until half of it is gone: a push of any size holds bounded memory. */
void conn_queued(conn_t *c, size_t bytes);
void conn_dequeued(conn_t *c, size_t bytes);
conn_t *conn_next(const conn_t *c);
void conn_ref(conn_t *c);
void conn_unref(conn_t *c);

/* commit.c */
void commit_verify(conn_t *c, network_t *n, const cairn_msg_t *entries);
void commit_run(relay_t *r);
/* Drop every batch not yet committed (the relay stops without committing). */
void commit_discard(relay_t *r);

#endif
