/*
 * net.c — the simulated network: one pipe per connection, bytes queued each way
 * and delivered when the scheduler says, in the pieces it chooses. A device's
 * link writes through net_write (client/lib/sync_sim.h); the relay's connection
 * through the pipe's relay_sim_io_t (server/relay_sim.h). A write of the relay is
 * completed once its bytes are delivered, so its backpressure is exercised.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static chunk_t *chunk_new(uint8_t *data, size_t len, bool from_relay) {
  chunk_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->data = data;
  c->len = len;
  c->from_relay = from_relay;
  return c;
}

static void chunk_append(chunk_t **list, chunk_t *c) {
  while (*list != NULL)
    list = &(*list)->next;
  *list = c;
}

static void chunk_free(chunk_t *c) {
  free(c->data);
  free(c);
}

/* ---- the relay's end ---- */

static int relay_write(relay_sim_io_t *io, char *data, size_t len) {
  pipe_t *p = io->ud;
  chunk_t *c = chunk_new((uint8_t *)data, len, true);
  if (c == NULL)
    return CAIRN_ENOMEM;
  chunk_append(&p->down, c);
  return 0;
}

static void relay_closed(relay_sim_io_t *io) {
  pipe_t *p = io->ud;
  p->relay_closed = true; /* acted on by net_settle, outside the relay's code */
}

/* ---- the device's end ---- */

void net_connect(void *ud) {
  device_t *d = ud;
  sim_t *m = d->sim;
  pipe_t *p = calloc(1, sizeof *p);
  if (p == NULL) {
    d->pipe = NULL;
    return; /* writes are then lost, and the sync fails: a refused connection */
  }
  p->sim = m;
  p->dev = d;
  p->rio.write = relay_write;
  p->rio.close = relay_closed;
  p->rio.ud = p;
  p->next = m->pipes;
  m->pipes = p;
  d->pipe = p;
  if (d->partitioned > 0 || m->relay == NULL) {
    p->relay_closed = true; /* cannot reach the relay: the connection fails */
    return;
  }
  sim_as_relay(m);
  p->conn = relay_sim_connect(m->relay, &p->rio);
  sim_as_device(m, d);
  if (p->conn == NULL)
    p->relay_closed = true;
}

int net_write(void *ud, const uint8_t *data, size_t len) {
  device_t *d = ud;
  uint8_t *copy;
  chunk_t *c;
  if (d->pipe == NULL || d->pipe->relay_closed)
    return 0; /* lost on a connection that is down */
  if ((copy = malloc(len)) == NULL || (c = chunk_new(copy, len, false)) == NULL) {
    free(copy);
    return CAIRN_ENOMEM;
  }
  memcpy(copy, data, len);
  chunk_append(&d->pipe->up, c);
  return 0;
}

void net_close(void *ud) {
  device_t *d = ud;
  if (d->pipe == NULL)
    return;
  d->pipe->dev_closed = true; /* what it wrote still reaches the relay, then EOF */
  d->pipe->dev = NULL;
  d->pipe = NULL;
}

/* ---- moving bytes ---- */

/* Whether any byte is in flight or any connection open. */
bool net_busy(const sim_t *m) {
  return m->pipes != NULL;
}

/* A random pipe with bytes waiting, and which way; NULL if none. */
pipe_t *net_pick(sim_t *m, bool *up) {
  size_t n = 0, k;
  for (pipe_t *p = m->pipes; p; p = p->next)
    n += (p->up != NULL) + (p->down != NULL);
  if (n == 0)
    return NULL;
  k = cairn_test_rng_below(&m->rng, n);
  for (pipe_t *p = m->pipes; p; p = p->next) {
    if (p->up != NULL && k-- == 0) {
      *up = true;
      return p;
    }
    if (p->down != NULL && k-- == 0) {
      *up = false;
      return p;
    }
  }
  return NULL;
}

static void to_relay(sim_t *m, pipe_t *p, const uint8_t *b, size_t n) {
  if (p->conn == NULL || p->relay_closed)
    return;
  sim_as_relay(m);
  relay_sim_input(p->conn, b, n);
}

static int to_device(sim_t *m, pipe_t *p, const uint8_t *b, size_t n) {
  device_t *d = p->dev;
  if (d == NULL || d->link == NULL)
    return 0;
  sim_as_device(m, d);
  cairn_sim_sync_input(d->link, b, n);
  return device_check_link(d);
}

/* Garbling: the head chunk and the next swap places (reordered), or the bytes
 * given go twice (duplicated). Either must make a session fail cleanly. */
static void reorder(chunk_t **list) {
  chunk_t *a = *list, *b = a ? a->next : NULL;
  if (b == NULL || a->off > 0)
    return;
  a->next = b->next;
  b->next = a;
  *list = b;
}

/*
 * Deliver up to max bytes of the head chunk one way. A relay chunk delivered in
 * full completes its write.
 */
int net_deliver(sim_t *m, pipe_t *p, bool up, size_t max, bool garble) {
  chunk_t **list = up ? &p->up : &p->down, *c;
  int rc = 0;
  bool twice = garble && cairn_test_rng_below(&m->rng, 2) == 0;
  if (garble && !twice)
    reorder(list);
  if ((c = *list) == NULL)
    return 0;
  size_t n = c->len - c->off < max ? c->len - c->off : max;
  for (int i = 0; i < (twice ? 2 : 1) && rc == 0; i++) {
    if (up)
      to_relay(m, p, c->data + c->off, n);
    else
      rc = to_device(m, p, c->data + c->off, n);
  }
  c->off += n;
  if (c->off < c->len)
    return rc;
  *list = c->next;
  if (c->from_relay && p->conn != NULL) {
    sim_as_relay(m);
    relay_sim_written(p->conn, c->len, 0);
  }
  chunk_free(c);
  return rc;
}

static void unlink_pipe(sim_t *m, pipe_t *p) {
  for (pipe_t **pp = &m->pipes; *pp; pp = &(*pp)->next)
    if (*pp == p) {
      *pp = p->next;
      return;
    }
}

/* Bytes still queued are lost; the relay's writes among them fail. */
static void drain(pipe_t *p) {
  for (chunk_t *c; (c = p->up) != NULL;) {
    p->up = c->next;
    chunk_free(c);
  }
  for (chunk_t *c; (c = p->down) != NULL;) {
    p->down = c->next;
    if (p->conn != NULL)
      relay_sim_written(p->conn, c->len, -1);
    chunk_free(c);
  }
}

/* The connection breaks: both ends learn it, what was in flight is lost. */
void net_break(sim_t *m, pipe_t *p) {
  device_t *d = p->dev;
  unlink_pipe(m, p);
  sim_as_relay(m);
  if (p->conn != NULL && !p->relay_closed)
    relay_sim_drop(p->conn);
  drain(p);
  if (p->conn != NULL)
    relay_sim_release(p->conn);
  if (d != NULL) {
    d->pipe = NULL;
    if (d->link != NULL) {
      sim_as_device(m, d);
      cairn_sim_sync_broken(d->link);
      (void)device_check_link(d);
    }
  }
  free(p);
}

void net_break_device(sim_t *m, device_t *d) {
  for (pipe_t *p = m->pipes, *next; p; p = next) {
    next = p->next;
    if (p->dev == d)
      net_break(m, p);
  }
}

/* Act on ends closed from inside the code: the relay closed (what it wrote is
 * delivered by then, the rest cancelled), or the device closed and what it wrote
 * has reached the relay (which then reads EOF). */
int net_settle(sim_t *m) {
  bool again = true;
  while (again) {
    again = false;
    for (pipe_t *p = m->pipes; p; p = p->next)
      if (p->relay_closed || (p->dev_closed && p->up == NULL)) {
        net_break(m, p);
        again = true;
        break;
      }
  }
  return 0;
}

/* Everything in flight is lost and every link forgotten: a teardown. */
void net_free_all(sim_t *m) {
  for (unsigned i = 0; i < m->ndev; i++) {
    cairn_sim_sync_free(m->dev[i].link);
    m->dev[i].link = NULL;
    m->dev[i].pipe = NULL;
  }
  for (pipe_t *p = m->pipes; p; p = p->next)
    p->dev = NULL;
  while (m->pipes != NULL)
    net_break(m, m->pipes);
}

int relay_commit(sim_t *m) {
  sim_as_relay(m);
  if (relay_sim_commit(m->relay) == 0)
    return 0;
  return check_note_highs(m);
}
