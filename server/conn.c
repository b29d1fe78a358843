/*
 * conn.c — one client connection of the relay: reads into its session, acts on
 * the session's events, streams a network's entries with backpressure, writes,
 * timeouts and closing. Bytes move through the connection's conn_io_t: libuv's
 * TCP here, or a test's own (relay_sim.c), so the same code runs under both.
 */
#include <stdlib.h>
#include <string.h>

#include "cairnd.h"
#include "invite.h"

#define READ_BUF (64 * 1024)

typedef struct head_filter {
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq;
} head_filter_t;

struct conn {
  relay_t *relay;
  const conn_io_t *io;
  void *io_data;    /* io's own, for a test's io */
  uv_tcp_t tcp;
  uv_timer_t timer; /* the handshake timeout, then the idle timeout */
  cairn_session_t sess;
  network_t *net;   /* once accepted */
  conn_t *prev, *next;         /* in net->conns */
  conn_t *all_prev, *all_next; /* in relay->conns */
  uint8_t peer[CAIRN_KEY_BYTES];
  char name[20];    /* the peer key's first 16 hex digits, for logs */
  cairn_role_t role;
  int refs;         /* handles not yet closed + verification jobs */
  bool closing, flush_then_close, since_done;
  bool unstored;    /* a batch of it was lost to a storage error: drop the rest */
  uint64_t stored;  /* its `entries` messages stored so far (sent in each ack) */
  bool linked;      /* in net->conns */
  bool by_heads;    /* since gave heads, not a cursor of this epoch */
  size_t queued;    /* bytes handed to uv_write and not yet written */
  size_t queued_in; /* bytes of its entries queued for verifying and storing */
  bool read_paused; /* reading stopped until enough of them are stored */
  uint64_t cursor;  /* the arrival number of the last entry sent (or skipped) */
  uint64_t caught_up_at;
  head_filter_t *heads;
  size_t nheads;
};

typedef struct write_req {
  uv_write_t req;
  conn_t *conn;
  char *data;
  size_t len;
} write_req_t;

static char read_buf[READ_BUF];

static void on_timeout(uv_timer_t *t);
static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);

/* ---- the libuv io ---- */

static void on_written(uv_write_t *req, int status) {
  write_req_t *w = (write_req_t *)req;
  conn_t *c = w->conn;
  size_t len = w->len;
  free(w->data);
  free(w);
  conn_written(c, len, status);
}

static int tcp_write(conn_t *c, char *data, size_t len) {
  write_req_t *w = malloc(sizeof *w);
  if (w == NULL)
    return CAIRN_ENOMEM;
  w->conn = c;
  w->len = len;
  w->data = data;
  uv_buf_t b = uv_buf_init(data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_written) != 0) {
    free(w);
    return CAIRN_EIO;
  }
  return 0;
}

static void tcp_read_stop(conn_t *c) {
  uv_read_stop((uv_stream_t *)&c->tcp);
}

static void tcp_read_start(conn_t *c) {
  if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) != 0)
    conn_broken(c);
}

static void on_handle_closed(uv_handle_t *h) {
  conn_unref(h->data);
}

static void tcp_close(conn_t *c) {
  uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
  uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

static void tcp_timer(conn_t *c, uint64_t ms) {
  uv_timer_start(&c->timer, on_timeout, ms, 0);
}

static const conn_io_t tcp_io = {tcp_write, tcp_read_stop, tcp_read_start, tcp_close,
                                 tcp_timer};

void *conn_io_data(const conn_t *c) {
  return c->io_data;
}


const uint8_t *conn_peer(const conn_t *c) {
  return c->peer;
}

bool conn_closing(const conn_t *c) {
  return c->closing || c->flush_then_close;
}

bool conn_storable(const conn_t *c) {
  return !conn_closing(c) && !c->unstored;
}

void conn_stored(conn_t *c) {
  c->stored++;
}

void conn_queued(conn_t *c, size_t bytes) {
  c->queued_in += bytes;
  if (!c->read_paused && c->queued_in > c->relay->opts.read_queue && !conn_closing(c)) {
    c->read_paused = true;
    c->io->read_stop(c);
    relay_log(LOG_DEBUG, "%s: not read until more of its entries are stored", c->name);
  }
}

void conn_dequeued(conn_t *c, size_t bytes) {
  c->queued_in -= bytes;
  if (c->read_paused && c->queued_in <= c->relay->opts.read_queue / 2 && !conn_closing(c)) {
    c->read_paused = false;
    c->io->read_start(c);
  }
}

void conn_set_unstored(conn_t *c) {
  if (!c->unstored)
    relay_log(LOG_INFO, "%s: its entries are not stored until it connects again", c->name);
  c->unstored = true;
}

conn_t *conn_next(const conn_t *c) {
  return c->next;
}

void conn_ref(conn_t *c) {
  c->refs++;
}

static void conn_free(conn_t *c) {
  cairn_session_free(&c->sess);
  free(c->heads);
  free(c);
}

void conn_unref(conn_t *c) {
  if (--c->refs == 0)
    conn_free(c);
}

static void unlink_conn(conn_t *c) {
  if (!c->linked)
    return;
  c->linked = false;
  if (c->prev)
    c->prev->next = c->next;
  else
    c->net->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  c->prev = c->next = NULL;
}

static void conn_close(conn_t *c) {
  if (c->closing)
    return;
  c->closing = true;
  c->relay->stats.conns_now--;
  unlink_conn(c);
  if (c->all_prev)
    c->all_prev->all_next = c->all_next;
  else
    c->relay->conns = c->all_next;
  if (c->all_next)
    c->all_next->all_prev = c->all_prev;
  c->io->close(c);
  relay_log(LOG_DEBUG, "%s: closed", c->name);
}

/* A write of len bytes is done (status 0) or failed. */
void conn_written(conn_t *c, size_t len, int status) {
  c->queued -= len;
  if (c->closing) {
    conn_unref(c);
    return;
  }
  if (status != 0) {
    relay_log(LOG_DEBUG, "%s: write failed", c->name);
    conn_close(c);
  } else if (c->flush_then_close && c->queued == 0) {
    conn_close(c);
  } else if (c->queued < c->relay->opts.write_queue) {
    conn_pump(c);
  }
  conn_unref(c);
}

/* Hand what the session wrote to libuv; out is left empty. */
void conn_send(conn_t *c, msgpack_sbuffer *out) {
  if (out->size == 0 || c->closing) {
    out->size = 0;
    return;
  }
  size_t len = out->size;
  char *data = msgpack_sbuffer_release(out);
  if (c->io->write(c, data, len) != 0) {
    free(data);
    conn_close(c);
    return;
  }
  c->refs++;
  c->queued += len;
  c->relay->stats.bytes_out += len;
}

/* Tell the peer why (an `error` message), then close once it is written. */
void conn_fail(conn_t *c, int code, const char *text) {
  msgpack_sbuffer out;
  if (c->closing)
    return;
  relay_log(LOG_INFO, "%s: %s", c->name, text);
  msgpack_sbuffer_init(&out);
  (void)cairn_session_fail(&c->sess, code, text, &out);
  if (out.size)
    c->relay->stats.errors_sent++;
  conn_send(c, &out);
  msgpack_sbuffer_destroy(&out);
  c->flush_then_close = true;
  unlink_conn(c); /* no more fan-out to it */
  c->io->read_stop(c);
  if (c->queued == 0)
    conn_close(c);
}

static void on_timeout(uv_timer_t *t) {
  conn_t *c = t->data;
  if (c->net == NULL)
    relay_log(LOG_INFO, "%s: handshake timeout", c->name);
  conn_fail(c, CAIRN_ECANCELED, c->net ? "idle timeout" : "handshake timeout");
  if (!c->closing)
    conn_close(c); /* nothing could be sent before the channel was up */
}

/* ---- streaming a network's entries ---- */

typedef struct chunk {
  conn_t *conn;
  cairn_entry_batch_t batch;
  size_t bytes_max;     /* the largest message */
  uint64_t last;        /* arrival of the last entry looked at */
} chunk_t;

/* Whether the peer lacks e. By cursor, everything after it but its own entries;
 * by heads, whatever those heads lack, its own entries included (a device
 * restored from an old backup gets back what it wrote). */
static bool wanted(const conn_t *c, const cairn_stored_t *e) {
  bool own = memcmp(e->author, c->peer, CAIRN_KEY_BYTES) == 0;
  if (!c->by_heads)
    return !own;
  for (size_t i = 0; i < c->nheads; i++)
    if (memcmp(c->heads[i].author, e->author, CAIRN_KEY_BYTES) == 0)
      return e->seq > c->heads[i].seq;
  return true;
}

/* The stored bytes go out as they are: nothing is decoded on the way. */
static int chunk_add(const cairn_stored_t *e, uint64_t arrival, void *ud) {
  chunk_t *k = ud;
  if (!wanted(k->conn, e)) {
    k->last = arrival;
    return 0;
  }
  if (k->batch.n > 0 && cairn_entry_batch_size_with(&k->batch, e->len) > k->bytes_max)
    return 1; /* it goes in the next message */
  k->last = arrival;
  if (cairn_entry_batch_add(&k->batch, e->bytes, e->len) != 0)
    return CAIRN_ENOMEM;
  return k->batch.n >= k->conn->relay->opts.max_batch;
}

/* Send what the peer lacks while its write queue allows; caught_up at the end. */
void conn_pump(conn_t *c) {
  msgpack_sbuffer out;
  chunk_t k;
  int rc = 0;
  if (conn_closing(c) || !c->since_done)
    return;
  msgpack_sbuffer_init(&out);
  memset(&k, 0, sizeof k);
  k.conn = c;
  k.bytes_max = c->relay->opts.max_frame; /* max_entry + 64 <= max_frame: one always fits */
  while (rc == 0 && c->queued < c->relay->opts.write_queue) {
    if (c->cursor >= c->net->last_arrival) {
      if (c->caught_up_at != c->cursor) {
        rc = cairn_session_caught_up(&c->sess, c->cursor, &out);
        c->caught_up_at = c->cursor;
      }
      break;
    }
    cairn_entry_batch_clear(&k.batch);
    k.last = c->cursor;
    rc = cairn_store_arrivals(c->net->store, c->cursor, chunk_add, &k);
    if (rc < 0 || k.last == c->cursor)
      break;
    k.batch.last = k.last >= c->net->last_arrival; /* caught_up follows */
    if (k.batch.n > 0 && (rc = cairn_session_send_entries(&c->sess, k.last, &k.batch, &out)) == 0)
      c->relay->stats.entries_out += k.batch.n;
    c->cursor = k.last;
    conn_send(c, &out);
  }
  conn_send(c, &out);
  cairn_entry_batch_free(&k.batch);
  msgpack_sbuffer_destroy(&out);
  if (rc < 0)
    conn_fail(c, rc, "cannot read the network's entries");
}

/* ---- session events ---- */

/*
 * Whether the peer may sync network n (member.c decides): a member not revoked,
 * or a key that is not a member yet with the proof that it holds the seed of a
 * usable invite key. It may then pull, and push the invite key's entry that
 * grants it its role (the store checks that). 0 with c->role set, or why.
 */
static int admit(conn_t *c, network_t *n, cairn_error_t *why) {
  uint8_t ik[CAIRN_KEY_BYTES];
  size_t len;
  const uint8_t *proof = cairn_session_invite(&c->sess, &len);
  if (proof != NULL && cairn_invite_check(proof, len, c->peer, n->id, ik) != 0)
    return cairn__error(why, CAIRN_ENOTMEMBER, "the invite is not valid in this network "
                                               "(revoked, or never synced by the admin who "
                                               "made it)");
  return cairn_member_admit(n->store, c->peer, proof ? ik : NULL, cairn_now_ms(), &c->role,
                            why);
}

/* Answer the peer with hello: its role, the relay's time and epoch, the relay's
 * version vector, and the peer's own head with its hash (so that a device can
 * tell a forked copy of its log). */
static int send_hello(conn_t *c, network_t *n, const char *role, msgpack_sbuffer *out) {
  cairn_vv_t v = {0};
  const uint8_t *hash = NULL;
  int rc = cairn_store_vv(n->store, &v);
  if (rc == 0) {
    uint64_t seq = cairn_vv_seq(&v, c->peer, &hash);
    cairn_hello_heads_t h = {seq, seq ? hash : NULL,
                             (const uint8_t(*)[CAIRN_KEY_BYTES])v.authors, v.seqs,
                             (const uint8_t(*)[CAIRN_HASH_BYTES])v.hashes, v.n};
    rc = cairn_session_accept(&c->sess, cairn_now_ms(), n->epoch, &h, role, out);
  }
  cairn_vv_free(&v);
  return rc;
}

static void on_peer(conn_t *c, msgpack_sbuffer *out) {
  char hex[2 * CAIRN_KEY_BYTES + 1], text[CAIRN_ERRMSG_MAX];
  const uint8_t *id = cairn_session_network(&c->sess);
  uint8_t have[CAIRN_KEY_BYTES];
  network_t *n = relay_network(c->relay, id);
  memcpy(c->peer, cairn_session_peer(&c->sess), CAIRN_KEY_BYTES);
  cairn_hex(c->peer, 8, c->name);
  if (n == NULL) {
    snprintf(text, sizeof text, "this relay does not host network %s",
             cairn_hex(id, CAIRN_KEY_BYTES, hex));
    conn_fail(c, CAIRN_ENETWORK, text);
    return;
  }
  int has_network = cairn_store_network(n->store, have) == 0;
  cairn_error_t why;
  if (has_network && admit(c, n, &why) != 0) {
    conn_fail(c, why.code, why.msg);
    return;
  }
  const char *role = has_network ? cairn_role_name(c->role) : "none";
  int rc = send_hello(c, n, role, out);
  if (rc != 0) {
    conn_fail(c, rc, rc == CAIRN_ENOMEM ? "the relay is out of memory"
                                        : "the relay cannot read its store");
    return;
  }
  c->net = n;
  c->linked = true;
  c->next = n->conns;
  if (n->conns)
    n->conns->prev = c;
  n->conns = c;
  c->io->timer(c, c->relay->opts.idle_ms);
  uint8_t reads = c->sess.peer_features;
  relay_log(LOG_INFO, "%s: joined network %.16s as %s (reads %s)", c->name, n->hex, role,
            reads == CAIRN_WIRE_ALL       ? "compact entries, compressed"
            : reads == CAIRN_WIRE_COMPACT ? "compact entries"
            : reads == CAIRN_WIRE_ZSTD    ? "whole entries, compressed"
                                          : "whole entries");
}

static void on_since(conn_t *c, const cairn_msg_t *m) {
  cairn_msg_iter_t it;
  const uint8_t *a;
  uint64_t seq;
  c->since_done = true;
  c->caught_up_at = UINT64_MAX;
  if (m->u.since.epoch && memcmp(m->u.since.epoch, c->net->epoch, CAIRN_EPOCH_BYTES) == 0) {
    c->cursor = m->u.since.arrival < c->net->last_arrival ? m->u.since.arrival
                                                            : c->net->last_arrival;
  } else {
    c->cursor = 0;
    c->by_heads = true;
    c->heads = calloc(m->u.since.nheads ? m->u.since.nheads : 1, sizeof *c->heads);
    if (c->heads == NULL) {
      conn_fail(c, CAIRN_ENOMEM, "out of memory");
      return;
    }
    cairn_msg_heads(m, &it);
    while (cairn_msg_head_next(&it, &a, &seq) == 1) {
      memcpy(c->heads[c->nheads].author, a, CAIRN_KEY_BYTES);
      c->heads[c->nheads++].seq = seq;
    }
  }
  relay_log(LOG_DEBUG, "%s: since %llu", c->name, (unsigned long long)c->cursor);
  conn_pump(c);
}

static void on_entries(conn_t *c, const cairn_msg_t *m) {
  c->relay->stats.entries_in += m->u.entries.count;
  if (m->u.entries.count == 0)
    return;
  cairn_error_t why;
  uint8_t id[CAIRN_KEY_BYTES];
  int rc;
  /* the rule every replica applies, before anything is decoded; a relay that
   * holds nothing of the network yet leaves it to the store (a genesis or not) */
  if (cairn_store_network(c->net->store, id) == 0 &&
      (rc = cairn_role_may_write(c->role, NULL, &why)) != 0) {
    conn_fail(c, rc, why.msg);
    return;
  }
  commit_verify(c, c->net, m);
}

typedef struct handling {
  conn_t *conn;
  msgpack_sbuffer *out;
} handling_t;

static void handle(conn_t *c, const cairn_event_t *ev, msgpack_sbuffer *out);

/* For cairn_session_input: stop once the connection is closing. */
static int event_cb(void *ud, const cairn_event_t *ev) {
  handling_t *h = ud;
  handle(h->conn, ev, h->out);
  return conn_closing(h->conn);
}

static void handle(conn_t *c, const cairn_event_t *ev, msgpack_sbuffer *out) {
  switch (ev->type) {
  case CAIRN_EV_PEER:
    on_peer(c, out);
    break;
  case CAIRN_EV_SINCE:
    on_since(c, &ev->msg);
    break;
  case CAIRN_EV_ENTRIES:
    on_entries(c, &ev->msg);
    break;
  case CAIRN_EV_ERROR:
    relay_log(LOG_INFO, "%s: the client reports error %d: %.*s", c->name, ev->msg.u.error.code,
              (int)ev->msg.u.error.text_len, ev->msg.u.error.text);
    conn_close(c);
    break;
  default: /* ack, caught_up: nothing to do */
    break;
  }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  *buf = uv_buf_init(read_buf, sizeof read_buf);
}

/* Bytes from the peer, any split. */
void conn_input(conn_t *c, const uint8_t *data, size_t len) {
  msgpack_sbuffer out;
  cairn_error_t err;
  int rc;
  c->relay->stats.bytes_in += (uint64_t)len;
  if (c->net != NULL)
    c->io->timer(c, c->relay->opts.idle_ms);
  msgpack_sbuffer_init(&out);
  handling_t h = {c, &out};
  rc = cairn_session_input(&c->sess, data, len, &out, event_cb, &h, &err);
  conn_send(c, &out);
  msgpack_sbuffer_destroy(&out);
  if (rc < 0 && !c->closing) {
    relay_log(LOG_INFO, "%s: %s", c->name, err.msg);
    c->relay->stats.errors_sent++;
    c->flush_then_close = true;
    c->io->read_stop(c);
    if (c->queued == 0)
      conn_close(c);
  }
}

/* The peer closed the connection, or it broke. */
void conn_broken(conn_t *c) {
  relay_log(LOG_DEBUG, "%s: the connection ended", c->name);
  conn_close(c);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
  conn_t *c = stream->data;
  if (nread == 0)
    return;
  if (nread < 0) {
    relay_log(LOG_DEBUG, "%s: %s", c->name, nread == UV_EOF ? "peer closed" : uv_strerror((int)nread));
    conn_close(c);
    return;
  }
  conn_input(c, (const uint8_t *)buf->base, (size_t)nread);
}

static void on_refused_closed(uv_handle_t *h) {
  free(h);
}

/* The connection still in its handshake that has waited longest (the list is
 * newest first), or NULL. */
static conn_t *oldest_handshake(relay_t *r) {
  conn_t *found = NULL;
  for (conn_t *c = r->conns; c != NULL; c = c->all_next)
    if (c->net == NULL && !c->closing && !c->flush_then_close)
      found = c;
  return found;
}

/*
 * At the connection limit, a new connection takes the place of the oldest one
 * that has not finished its handshake: a peer holding handshakes open cannot
 * keep members out (theirs complete within a round trip). With none to evict
 * the new connection is refused.
 */
static bool make_room(relay_t *r) {
  conn_t *old = oldest_handshake(r);
  r->stats.conns_refused++;
  if (r->stats.conns_refused % 1000 == 1)
    relay_log(LOG_WARN, "connection limit %u reached: %s (%llu so far)", r->opts.max_conns,
              old ? "closing the oldest unfinished handshake" : "refusing",
              (unsigned long long)r->stats.conns_refused);
  if (old == NULL)
    return false;
  conn_close(old);
  return true;
}

/* A connection in the relay's list, its two handles counted as references; a
 * test's io (relay_sim.c) also starts its session here. */
static conn_t *conn_make(relay_t *r, const conn_io_t *io, void *ud) {
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->relay = r;
  c->io = io;
  c->io_data = ud;
  memcpy(c->name, "(handshake)", 12);
  c->refs = 2;
  c->all_next = r->conns;
  if (r->conns)
    r->conns->all_prev = c;
  r->conns = c;
  r->stats.conns_now++;
  r->stats.conns_total++;
  return c;
}

void conn_accept(relay_t *r) {
  if (r->stopping || (r->stats.conns_now >= r->opts.max_conns && !make_room(r))) {
    uv_tcp_t *t = malloc(sizeof *t);
    if (t == NULL)
      return;
    uv_tcp_init(r->loop, t);
    (void)uv_accept((uv_stream_t *)&r->listener, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, on_refused_closed);
    return;
  }
  conn_t *c = conn_make(r, &tcp_io, NULL);
  if (c == NULL)
    return;
  uv_tcp_init(r->loop, &c->tcp);
  uv_timer_init(r->loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  if (uv_accept((uv_stream_t *)&r->listener, (uv_stream_t *)&c->tcp) != 0 ||
      cairn_session_relay(&c->sess, r->sk, r->opts.max_frame, r->opts.max_entry) != 0) {
    conn_close(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_timer_start(&c->timer, on_timeout, r->opts.handshake_ms, 0);
  uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* A test's io: its close only says so, and the test releases both handles
 * (conn_unref twice) once it has dropped the connection. */
conn_t *conn_new(relay_t *r, const conn_io_t *io, void *ud) {
  conn_t *c = conn_make(r, io, ud);
  if (c == NULL)
    return NULL;
  if (cairn_session_relay(&c->sess, r->sk, r->opts.max_frame, r->opts.max_entry) != 0) {
    conn_close(c);
    conn_unref(c);
    conn_unref(c);
    return NULL;
  }
  io->timer(c, r->opts.handshake_ms);
  return c;
}

/* After a commit that touched `_member` records: drop a key revoked meanwhile. */
void conn_recheck_role(conn_t *c) {
  cairn_role_t role = CAIRN_ROLE_NONE;
  cairn_error_t why;
  if (c->closing)
    return;
  if (cairn_member_admit(c->net->store, c->peer, NULL, cairn_now_ms(), &role, &why) == 0)
    c->role = role;
  else if (why.code == CAIRN_ENOTMEMBER &&
           !(role == CAIRN_ROLE_NONE && c->role == CAIRN_ROLE_INVITE)) /* still joining */
    conn_fail(c, why.code, why.msg);
}

/* Acknowledge what is stored: the peer's own entries up to a seq, and how many of
 * its `entries` messages (the client waits until all it sent are). */
void conn_acked(conn_t *c) {
  msgpack_sbuffer out;
  uint64_t seq = 0;
  if (c->closing || cairn_store_head_seq(c->net->store, c->peer, &seq) != 0)
    return;
  msgpack_sbuffer_init(&out);
  if (cairn_session_ack(&c->sess, seq, c->stored, &out) == 0)
    conn_send(c, &out);
  msgpack_sbuffer_destroy(&out);
}

void conn_stop_all(relay_t *r) {
  conn_t *c = r->conns, *next;
  for (; c != NULL; c = next) {
    next = c->all_next;
    if (!c->flush_then_close)
      conn_fail(c, CAIRN_ECANCELED, "the relay is shutting down");
  }
}
