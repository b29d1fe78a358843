/*
 * sync.c — a device's side of the sync protocol over libuv (sync.h).
 *
 * One link is one connection: connect, handshake (the relay key pinned), hello,
 * since (the kept cursor when the relay's epoch matches, else this replica's
 * heads), push this device's entries above the relay's head for it, apply what
 * the relay streams and acknowledge it, until both sides are caught up.
 */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "session.h"

#define SETTING_REMOTE "remote"
#define SETTING_RELAY_KEY "relay_key"
#define SETTING_CURSOR "cursor"
#define PUSH_BATCH 1024
#define ADDR_MAX 256

typedef struct link link_t;
typedef void (*link_end_fn)(link_t *l);

struct link {
  uv_loop_t *loop;
  cairn_store_t *s;
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_timer_t timer;
  int open_handles;
  int writes;
  cairn_session_t sess;
  bool sess_ready;
  msgpack_sbuffer out;
  uint8_t me[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES], relay_key[CAIRN_KEY_BYTES];
  char addr[ADDR_MAX];
  const char *invite;
  uint64_t target;      /* own head seq to see acknowledged */
  uint64_t pushed;      /* own entries sent up to this seq */
  bool hello, relay_caught_up, sent_caught_up, closing;
  int rc;
  cairn_error_t err;
  cairn_sync_stats_t stats;
  uint8_t epoch[CAIRN_EPOCH_BYTES];
  link_end_fn on_end;
};

/* ---- settings ---- */

int cairn_sync_set_remote(cairn_store_t *s, const char *addr,
                          const uint8_t relay_key[CAIRN_KEY_BYTES], cairn_error_t *err) {
  size_t n = strlen(addr);
  const char *colon = strrchr(addr, ':');
  int rc;
  if (n == 0 || n >= ADDR_MAX || colon == NULL || colon == addr || colon[1] == '\0')
    return cairn__error(err, CAIRN_EINVAL, "the relay address is HOST:PORT, not '%s'", addr);
  if ((rc = cairn_store_setting_set(s, SETTING_REMOTE, addr, n)) != 0 ||
      (rc = cairn_store_setting_set(s, SETTING_RELAY_KEY, relay_key, CAIRN_KEY_BYTES)) != 0 ||
      (rc = cairn_store_setting_set(s, SETTING_CURSOR, NULL, 0)) != 0)
    return cairn__error(err, rc, "cannot save the relay: %s", cairn_strerror(rc));
  return 0;
}

int cairn_sync_remote(cairn_store_t *s, char *addr, size_t addr_cap,
                      uint8_t relay_key[CAIRN_KEY_BYTES]) {
  size_t n;
  int rc = cairn_store_setting_get(s, SETTING_REMOTE, addr, addr_cap - 1, &n);
  if (rc != 0)
    return rc;
  addr[n] = '\0';
  rc = cairn_store_setting_get(s, SETTING_RELAY_KEY, relay_key, CAIRN_KEY_BYTES, &n);
  return rc != 0 ? rc : n == CAIRN_KEY_BYTES ? 0 : CAIRN_ECORRUPT;
}

/* The kept cursor, if it belongs to epoch. */
static bool saved_cursor(link_t *l, uint64_t *pos) {
  uint8_t b[CAIRN_EPOCH_BYTES + 8];
  size_t n;
  if (cairn_store_setting_get(l->s, SETTING_CURSOR, b, sizeof b, &n) != 0 || n != sizeof b ||
      memcmp(b, l->epoch, CAIRN_EPOCH_BYTES) != 0)
    return false;
  *pos = cairn__get_be64(b + CAIRN_EPOCH_BYTES);
  return true;
}

static int save_cursor(link_t *l, uint64_t pos) {
  uint8_t b[CAIRN_EPOCH_BYTES + 8];
  memcpy(b, l->epoch, CAIRN_EPOCH_BYTES);
  cairn__put_be64(b + CAIRN_EPOCH_BYTES, pos);
  return cairn_store_setting_set(l->s, SETTING_CURSOR, b, sizeof b);
}

/* ---- ending ---- */

static void on_closed(uv_handle_t *h) {
  link_t *l = h->data;
  if (--l->open_handles == 0 && l->writes == 0 && l->on_end)
    l->on_end(l);
}

static void link_close(link_t *l) {
  if (l->closing)
    return;
  l->closing = true;
  uv_close((uv_handle_t *)&l->tcp, on_closed);
  uv_close((uv_handle_t *)&l->timer, on_closed);
}

/* End with an error; the relay is told when the channel is up. */
static void link_fail(link_t *l, int rc, const cairn_error_t *err) {
  if (l->closing)
    return;
  l->rc = rc;
  if (err != &l->err)
    l->err = *err;
  link_close(l);
}

static void link_failf(link_t *l, int rc, const char *what) {
  cairn_error_t e;
  cairn__error(&e, rc, "%s", what);
  link_fail(l, rc, &e);
}

/* ---- writing ---- */

typedef struct wreq {
  uv_write_t req;
  link_t *l;
  char *data;
} wreq_t;

static void on_written(uv_write_t *req, int status) {
  wreq_t *w = (wreq_t *)req;
  link_t *l = w->l;
  free(w->data);
  free(w);
  l->writes--;
  if (status != 0 && !l->closing)
    link_failf(l, CAIRN_EIO, "the connection to the relay broke while writing");
  if (l->closing && l->writes == 0 && l->open_handles == 0 && l->on_end)
    l->on_end(l);
}

static void flush(link_t *l) {
  if (l->out.size == 0 || l->closing) {
    l->out.size = 0;
    return;
  }
  wreq_t *w = malloc(sizeof *w);
  if (w == NULL) {
    link_failf(l, CAIRN_ENOMEM, "out of memory");
    return;
  }
  size_t len = l->out.size;
  w->l = l;
  w->data = msgpack_sbuffer_release(&l->out);
  uv_buf_t b = uv_buf_init(w->data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&l->tcp, &b, 1, on_written) != 0) {
    free(w->data);
    free(w);
    link_failf(l, CAIRN_EIO, "cannot write to the relay");
    return;
  }
  l->writes++;
  l->stats.bytes_sent += len;
}

/* ---- pushing this device's entries ---- */

typedef struct push {
  link_t *l;
  msgpack_sbuffer data;
  size_t len[PUSH_BATCH];
  size_t n, bytes_max;
  uint64_t last_seq;
  int rc;
} push_t;

static int push_send(push_t *p) {
  cairn_buf_t b[PUSH_BATCH];
  size_t off = 0;
  for (size_t i = 0; i < p->n; i++) {
    b[i].data = (const uint8_t *)p->data.data + off;
    b[i].len = p->len[i];
    off += p->len[i];
  }
  int rc = cairn_session_send_entries(&p->l->sess, 0, b, p->n, &p->l->out);
  if (rc == 0) {
    p->l->stats.pushed += p->n;
    p->l->pushed = p->last_seq;
  }
  p->n = 0;
  p->data.size = 0;
  return rc;
}

static int push_one(const cairn_entry_t *e, void *ud) {
  push_t *p = ud;
  if (msgpack_sbuffer_write(&p->data, (const char *)e->bytes, e->len) != 0)
    return p->rc = CAIRN_ENOMEM;
  p->len[p->n++] = e->len;
  p->last_seq = e->seq;
  if ((p->n == PUSH_BATCH || p->data.size >= p->bytes_max) && (p->rc = push_send(p)) != 0)
    return 1;
  return 0;
}

/* Send own entries above l->pushed; then caught_up once. */
static void push_own(link_t *l) {
  push_t p;
  memset(&p, 0, sizeof p);
  p.l = l;
  p.bytes_max = CAIRN_FRAME_MAX_DEFAULT / 2;
  msgpack_sbuffer_init(&p.data);
  int rc = cairn_store_author_log(l->s, l->me, l->pushed, push_one, &p);
  if (rc == 0)
    rc = p.rc;
  if (rc == 0 && p.n > 0)
    rc = push_send(&p);
  msgpack_sbuffer_destroy(&p.data);
  if (rc == 0 && !l->sent_caught_up) {
    rc = cairn_session_caught_up(&l->sess, 0, &l->out);
    l->sent_caught_up = true;
  }
  if (rc != 0)
    link_failf(l, rc, "cannot read this device's entries");
  flush(l);
}

/* ---- events ---- */

static bool finished(const link_t *l) {
  return l->hello && l->relay_caught_up && l->stats.acked_seq >= l->target && l->sent_caught_up;
}

static void check_done(link_t *l) {
  if (finished(l)) {
    l->rc = 0;
    link_close(l);
  }
}

typedef struct heads_list {
  uint8_t (*author)[CAIRN_KEY_BYTES];
  uint64_t *seq;
  size_t n, cap;
  int rc;
} heads_list_t;

static int heads_add(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                     const uint8_t hash[CAIRN_HASH_BYTES], void *ud) {
  heads_list_t *h = ud;
  (void)hash;
  if (h->n == h->cap) {
    size_t cap = h->cap ? 2 * h->cap : 16;
    void *a = realloc(h->author, cap * CAIRN_KEY_BYTES), *q = a ? realloc(h->seq, cap * 8) : NULL;
    if (a != NULL)
      h->author = a;
    if (q == NULL) {
      h->rc = CAIRN_ENOMEM;
      return 1;
    }
    h->seq = q;
    h->cap = cap;
  }
  memcpy(h->author[h->n], author, CAIRN_KEY_BYTES);
  h->seq[h->n++] = seq;
  return 0;
}

static int send_since(link_t *l) {
  uint64_t pos;
  cairn_cursor_t c;
  if (saved_cursor(l, &pos)) {
    memcpy(c.epoch, l->epoch, CAIRN_EPOCH_BYTES);
    c.arrival = pos;
    return cairn_session_since(&l->sess, &c, NULL, NULL, 0, &l->out);
  }
  /* no cursor for this epoch: send the version vector */
  heads_list_t h = {0};
  int rc = cairn_store_heads(l->s, heads_add, &h);
  if (rc == 0)
    rc = h.rc;
  if (rc == 0)
    rc = cairn_session_since(&l->sess, NULL, (const uint8_t(*)[CAIRN_KEY_BYTES])h.author, h.seq,
                             h.n, &l->out);
  free(h.author);
  free(h.seq);
  return rc;
}

static void on_hello(link_t *l, const cairn_msg_t *m) {
  int rc;
  if (memcmp(m->u.hello.network, l->net, CAIRN_KEY_BYTES) != 0) {
    link_failf(l, CAIRN_ENETWORK, "the relay answered for another network");
    return;
  }
  l->hello = true;
  memcpy(l->epoch, m->u.hello.epoch, CAIRN_EPOCH_BYTES);
  l->pushed = m->u.hello.head_seq;
  l->stats.acked_seq = m->u.hello.head_seq;
  if ((rc = cairn_store_head_seq(l->s, l->me, &l->target)) != 0 ||
      (rc = send_since(l)) != 0) {
    link_failf(l, rc, "cannot ask the relay for new entries");
    return;
  }
  if (l->pushed > l->target) {
    link_failf(l, CAIRN_EFORK, "the relay holds more of this device's entries than this "
                               "store does (restored from an old backup?)");
    return;
  }
  push_own(l);
}

static void on_entries(link_t *l, const cairn_msg_t *m) {
  cairn_msg_iter_t it;
  cairn_apply_stats_t st;
  const uint8_t *e;
  size_t len, n = 0;
  int rc;
  cairn_buf_t *b = malloc((m->u.entries.count ? m->u.entries.count : 1) * sizeof *b);
  if (b == NULL) {
    link_failf(l, CAIRN_ENOMEM, "out of memory");
    return;
  }
  cairn_msg_entries(m, &it);
  while (cairn_msg_entry_next(&it, &e, &len) == 1) {
    b[n].data = e;
    b[n++].len = len;
  }
  rc = cairn_store_apply(l->s, b, n, &st, &l->err);
  free(b);
  l->stats.pulled += n;
  l->stats.applied += st.applied;
  if (rc != 0) {
    (void)cairn_session_fail(&l->sess, rc, l->err.msg, &l->out);
    flush(l);
    link_fail(l, rc, &l->err);
    return;
  }
  if ((rc = save_cursor(l, m->u.entries.cursor)) != 0 ||
      (rc = cairn_session_ack(&l->sess, 0, m->u.entries.cursor, &l->out)) != 0)
    link_failf(l, rc, "cannot record the sync position");
}

static void on_event(link_t *l, const cairn_event_t *ev);

/* For cairn_session_input: stop once the link is closing. */
static int event_cb(void *ud, const cairn_event_t *ev) {
  link_t *l = ud;
  on_event(l, ev);
  return l->closing;
}

static void on_event(link_t *l, const cairn_event_t *ev) {
  switch (ev->type) {
  case CAIRN_EV_HELLO:
    on_hello(l, &ev->msg);
    break;
  case CAIRN_EV_ENTRIES:
    on_entries(l, &ev->msg);
    break;
  case CAIRN_EV_ACK:
    if (ev->msg.u.ack.own_seq > l->stats.acked_seq)
      l->stats.acked_seq = ev->msg.u.ack.own_seq;
    break;
  case CAIRN_EV_CAUGHT_UP:
    l->relay_caught_up = true;
    if (ev->msg.u.caught_up.cursor > 0 && save_cursor(l, ev->msg.u.caught_up.cursor) != 0) {
      link_failf(l, CAIRN_EIO, "cannot record the sync position");
      return;
    }
    break;
  case CAIRN_EV_ERROR: {
    cairn_error_t e;
    cairn__error(&e, ev->msg.u.error.code, "the relay refused: %.*s",
                 (int)ev->msg.u.error.text_len, ev->msg.u.error.text);
    link_fail(l, ev->msg.u.error.code, &e);
    return;
  }
  default:
    break;
  }
  check_done(l);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  static char mem[64 * 1024];
  (void)h;
  (void)hint;
  *buf = uv_buf_init(mem, sizeof mem);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  link_t *l = st->data;
  cairn_error_t err;
  int rc;
  if (nread == 0 || l->closing)
    return;
  if (nread < 0) {
    link_failf(l, CAIRN_EIO, nread == UV_EOF ? "the relay closed the connection"
                                             : "the connection to the relay broke");
    return;
  }
  l->stats.bytes_received += (uint64_t)nread;
  rc = cairn_session_input(&l->sess, (const uint8_t *)buf->base, (size_t)nread, &l->out,
                           event_cb, l, &err);
  flush(l);
  if (rc < 0)
    link_fail(l, rc, &err);
}

static void on_connect(uv_connect_t *req, int status) {
  link_t *l = req->data;
  if (l->closing)
    return;
  if (status != 0) {
    cairn_error_t e;
    cairn__error(&e, CAIRN_EIO, "cannot connect to the relay at %s: %s", l->addr,
                 uv_strerror(status));
    link_fail(l, CAIRN_EIO, &e);
    return;
  }
  uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read);
  flush(l); /* msg1 */
}

static void on_timeout(uv_timer_t *t) {
  link_t *l = t->data;
  link_failf(l, CAIRN_ECANCELED, "the sync timed out");
}

/* Resolve addr (numeric HOST:PORT) and start connecting. */
static int link_start(link_t *l, unsigned timeout_ms) {
  struct sockaddr_storage sa;
  char host[ADDR_MAX];
  char *end;
  const char *colon = strrchr(l->addr, ':');
  if (colon == NULL)
    return cairn__error(&l->err, CAIRN_EINVAL, "bad relay address %s", l->addr);
  memcpy(host, l->addr, (size_t)(colon - l->addr));
  host[colon - l->addr] = '\0';
  long port = strtol(colon + 1, &end, 10);
  if (*end != '\0' || port <= 0 || port > 65535 ||
      (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&sa) != 0 &&
       uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&sa) != 0))
    return cairn__error(&l->err, CAIRN_EINVAL, "bad relay address %s (HOST:PORT, numeric)",
                        l->addr);
  uv_tcp_init(l->loop, &l->tcp);
  uv_timer_init(l->loop, &l->timer);
  l->tcp.data = l->timer.data = l->connect.data = l;
  l->open_handles = 2;
  if (timeout_ms)
    uv_timer_start(&l->timer, on_timeout, timeout_ms, 0);
  int rc = uv_tcp_connect(&l->connect, &l->tcp, (const struct sockaddr *)&sa, on_connect);
  if (rc != 0) {
    cairn_error_t e;
    cairn__error(&e, CAIRN_EIO, "cannot connect to %s: %s", l->addr, uv_strerror(rc));
    link_fail(l, CAIRN_EIO, &e);
  }
  return 0;
}

static int link_init(link_t *l, cairn_store_t *s, uv_loop_t *loop, const char *invite) {
  int rc;
  memset(l, 0, sizeof *l);
  l->s = s;
  l->loop = loop;
  l->invite = invite;
  l->rc = CAIRN_EIO;
  msgpack_sbuffer_init(&l->out);
  memcpy(l->me, cairn_store_key(s), CAIRN_KEY_BYTES);
  if ((rc = cairn_sync_remote(s, l->addr, sizeof l->addr, l->relay_key)) != 0)
    return cairn__error(&l->err, rc == CAIRN_ENOENT ? CAIRN_ENOENT : rc,
                        rc == CAIRN_ENOENT ? "no relay set: run `cairn remote HOST:PORT --key "
                                             "RELAYKEY`"
                                           : "cannot read the relay setting");
  if ((rc = cairn_store_network(s, l->net)) != 0 &&
      (rc = cairn_store_expected_network(s, l->net)) != 0)
    return cairn__error(&l->err, rc, "this store has no network yet: create one or join one");
  rc = cairn_session_client(&l->sess, cairn__store_secret(s), l->relay_key, l->net,
                            (const uint8_t *)invite, invite ? strlen(invite) : 0, 0, 0, &l->out);
  if (rc != 0)
    return cairn__error(&l->err, rc, "cannot start the handshake");
  l->sess_ready = true;
  return 0;
}

static void link_free(link_t *l) {
  if (l->sess_ready)
    cairn_session_free(&l->sess);
  msgpack_sbuffer_destroy(&l->out);
}

static void once_end(link_t *l) {
  (void)l; /* the loop ends on its own once every handle is closed */
}

int cairn_sync_once(cairn_store_t *s, const char *invite, unsigned timeout_ms,
                    cairn_sync_stats_t *stats, cairn_error_t *err) {
  uv_loop_t loop;
  link_t l;
  int rc;
  if (uv_loop_init(&loop) != 0)
    return cairn__error(err, CAIRN_ENOMEM, "cannot start an event loop");
  if ((rc = link_init(&l, s, &loop, invite)) == 0 && (rc = link_start(&l, timeout_ms)) == 0) {
    l.on_end = once_end;
    uv_run(&loop, UV_RUN_DEFAULT);
    rc = l.rc;
  }
  if (rc != 0 && err != NULL)
    *err = l.err;
  if (stats != NULL)
    *stats = l.stats;
  link_free(&l);
  (void)uv_loop_close(&loop);
  return rc;
}
