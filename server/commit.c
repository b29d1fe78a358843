/*
 * commit.c — preparing entries on the thread pool and the group commit
 * (docs/design.md, "The relay", "Applying entries: prepare and apply").
 *
 * A client's `entries` message is copied into a batch and prepared on libuv's
 * thread pool (cairn_prepare, apply.h): every entry decoded, its ops parsed and
 * hashed, every signature verified: the client's own entries (the first hop),
 * and others' it forwards (entries that reached it by bundle). Batches are
 * prepared in parallel and finish in any order, so prepared batches join their
 * network's commit queue in the order they arrived: a client's second batch continues its first, and committed
 * before it would be a gap. Once per loop iteration (an idle handle) each
 * network applies all its queued batches in one transaction, one fsync
 * (cairn_store_apply_prepared), and only then acknowledges them and streams the
 * new entries to the live connections. Nothing is decoded twice.
 *
 * A relay driven by a test (relay_sim.c, no loop) prepares each batch at once in
 * the caller's thread and commits when the test says: the same queues, in the
 * same order, without threads.
 */
#include <stdlib.h>
#include <string.h>

#include "cairnd.h"

struct batch {
  uv_work_t work;
  conn_t *conn;
  network_t *net;
  batch_t *next;
  uint8_t *data;    /* the entries, back to back */
  size_t bytes;     /* their size, counted in the connection's unstored bytes */
  cairn_buf_t *entries;
  uint8_t (*hashes)[CAIRN_HASH_BYTES]; /* NULL, or the session's for rebuilt entries */
  size_t n;
  cairn_prepared_t *prep; /* views into data */
  size_t max_entry;
  bool done;        /* preparing finished (canceled: the pool's status) */
  int status;
  int rc;           /* 0, or CAIRN_ENOMEM if preparing failed */
  uint64_t us;
};

static uint64_t now_us(void) {
  return uv_hrtime() / 1000;
}

static void batch_free(batch_t *b) {
  cairn_prepared_free(b->prep);
  free(b->data);
  free(b->entries);
  free(b->hashes);
  free(b);
}

/* A batch of c's leaves the queue: stored or dropped. */
static void batch_drop(batch_t *b) {
  conn_t *c = b->conn;
  conn_dequeued(c, b->bytes);
  conn_unref(c);
  batch_free(b);
}

/* On the thread pool: prepare the batch with every signature checked: the
 * client's own entries (the first hop) and any other author's it forwards (a
 * bundle brought them to it), so that nothing unverified is ever forwarded. */
static void verify_work(uv_work_t *w) {
  batch_t *b = w->data;
  cairn_prepare_opts_t o = {b->max_entry, true, conn_peer(b->conn),
                            (const uint8_t(*)[CAIRN_HASH_BYTES])b->hashes};
  uint64_t t0 = now_us();
  b->rc = cairn_prepare(b->prep, b->entries, b->n, &o);
  b->us = now_us() - t0;
}

/* Move the verified batches at the head of the network's arrival order to the
 * commit queue; a batch still on the pool holds back those that arrived after it. */
static void verified_to_pending(network_t *n) {
  batch_t *b;
  while ((b = n->verifying) != NULL && b->done) {
    conn_t *c = b->conn;
    n->verifying = b->next;
    if (n->verifying == NULL)
      n->verifying_tail = &n->verifying;
    b->next = NULL;
    if (b->status != 0 || !conn_storable(c)) {
      batch_drop(b);
    } else if (b->rc != 0) {
      conn_fail(c, b->rc, "the relay is out of memory");
      batch_drop(b);
    } else {
      *n->pending_tail = b;
      n->pending_tail = &b->next;
      commit_arm(n->relay);
    }
  }
}

static void verify_done(uv_work_t *w, int status) {
  batch_t *b = w->data;
  relay_t *r = b->net->relay;
  r->verify_in_flight--;
  r->stats.verify_batches++;
  r->stats.verify_us_total += b->us;
  if (b->us > r->stats.verify_us_max)
    r->stats.verify_us_max = b->us;
  b->done = true;
  b->status = status;
  verified_to_pending(b->net);
  relay_maybe_finish(r);
}

void commit_verify(conn_t *c, network_t *n, const cairn_msg_t *m) {
  batch_t *b = calloc(1, sizeof *b);
  cairn_msg_iter_t it;
  const uint8_t *e;
  size_t len, off = 0;
  size_t hashes = m->u.entries.hashes ? m->u.entries.count * (size_t)CAIRN_HASH_BYTES : 0;
  if (b == NULL || (b->data = malloc(m->u.entries.list_len)) == NULL ||
      (b->entries = malloc(m->u.entries.count * sizeof *b->entries)) == NULL ||
      (hashes > 0 && (b->hashes = malloc(hashes)) == NULL) || cairn_prepared_new(&b->prep) != 0) {
    if (b)
      batch_free(b);
    conn_fail(c, CAIRN_ENOMEM, "out of memory");
    return;
  }
  cairn_msg_entries(m, &it);
  while (cairn_msg_entry_next(&it, &e, &len) == 1) {
    memcpy(b->data + off, e, len);
    b->entries[b->n].data = b->data + off;
    b->entries[b->n++].len = len;
    off += len;
  }
  if (hashes > 0)
    memcpy(b->hashes, m->u.entries.hashes, hashes);
  b->conn = c;
  b->net = n;
  b->max_entry = n->relay->opts.max_entry;
  b->work.data = b;
  b->bytes = m->u.entries.list_len;
  conn_ref(c);
  conn_queued(c, b->bytes);
  n->relay->verify_in_flight++;
  if (n->relay->loop == NULL) { /* driven by a test: prepared here and now */
    *n->verifying_tail = b;
    n->verifying_tail = &b->next;
    verify_work(&b->work);
    verify_done(&b->work, 0);
    return;
  }
  if (uv_queue_work(n->relay->loop, &b->work, verify_work, verify_done) != 0) {
    n->relay->verify_in_flight--;
    batch_drop(b);
    conn_fail(c, CAIRN_EIO, "cannot queue verification");
    return;
  }
  *n->verifying_tail = b;
  n->verifying_tail = &b->next;
}

static void batches_free(batch_t *list) {
  while (list) {
    batch_t *b = list;
    list = b->next;
    batch_drop(b);
  }
}

/* The prepared batches whose connection is still good, in order, into all;
 * returns how many. */
static size_t gather(batch_t *list, const cairn_prepared_t **all) {
  size_t k = 0;
  for (batch_t *b = list; b; b = b->next)
    if (conn_storable(b->conn))
      all[k++] = b->prep;
  return k;
}

/* The i-th of the good batches (gather's order). */
static batch_t *batch_at(batch_t *list, size_t i) {
  for (batch_t *b = list; b; b = b->next)
    if (conn_storable(b->conn) && i-- == 0)
      return b;
  return NULL;
}

static void count_commit(relay_t *r, uint64_t us, size_t applied) {
  r->stats.commits++;
  r->stats.commit_entries += applied;
  r->stats.commit_us_total += us;
  if (us > r->stats.commit_us_max)
    r->stats.commit_us_max = us;
}

/*
 * Apply a network's queued batches in one transaction. A bad entry ends its
 * connection (the entries before it are kept, as the store keeps a valid
 * prefix) and the batches of the other connections are applied again in
 * another transaction (what the first one stored is skipped); nothing more of
 * the failed connection is stored. A storage error (I/O, disk full) is no
 * client's fault: it goes to the log, the connections stay, and nothing of the
 * commit is acknowledged; what those connections send next is dropped (it would
 * not chain), and their clients send it all again when they next connect.
 */
static void commit_network(network_t *n) {
  relay_t *r = n->relay;
  batch_t *list = n->pending, *b;
  size_t count = 0, k;
  bool members = false;
  n->pending = NULL;
  n->pending_tail = &n->pending;
  for (b = list; b; b = b->next)
    count++;
  const cairn_prepared_t **all = malloc((count ? count : 1) * sizeof *all);
  if (all == NULL) {
    relay_log(LOG_ERROR, "network %.16s: out of memory for a commit", n->hex);
    for (b = list; b; b = b->next)
      conn_fail(b->conn, CAIRN_ENOMEM, "the relay is out of memory");
    goto done;
  }
  while ((k = gather(list, all)) > 0) {
    cairn_apply_stats_t st;
    cairn_error_t err;
    uint64_t t0 = now_us();
    int rc = cairn_store_apply_prepared(n->store, all, k, NULL, &st, &err);
    count_commit(r, now_us() - t0, st.applied);
    members |= st.members;
    if (rc == 0) {
      for (b = list; b; b = b->next)
        if (conn_storable(b->conn))
          conn_stored(b->conn);
      break;
    }
    if ((b = batch_at(list, st.failed_batch)) == NULL) {
      /* no entry's fault: keep the connections, acknowledge nothing new; their
       * clients send those entries again when they next connect */
      relay_log(LOG_ERROR, "network %.16s: cannot store entries (is the disk full?): %s",
                n->hex, err.msg);
      for (b = list; b; b = b->next)
        if (conn_storable(b->conn))
          conn_set_unstored(b->conn);
      break;
    }
    conn_fail(b->conn, rc,
              rc == CAIRN_ENONETWORK ? "the relay holds nothing of this network yet: its "
                                       "owner must sync first (the network's first entry)"
                                     : err.msg);
  }
  if (cairn_store_last_arrival(n->store, &n->last_arrival) != 0)
    relay_log(LOG_ERROR, "network %.16s: cannot read the arrival count", n->hex);
  for (b = list; b; b = b->next)
    conn_acked(b->conn);
  for (conn_t *c = n->conns, *next; c; c = next) {
    next = conn_next(c);
    if (members)
      conn_recheck_role(c);
    conn_pump(c);
  }
  free(all);
done:
  batches_free(list);
}

void commit_discard(relay_t *r) {
  for (size_t i = 0; i < r->nnets; i++) {
    network_t *n = r->nets[i];
    batches_free(n->verifying);
    batches_free(n->pending);
    n->verifying = n->pending = NULL;
    n->verifying_tail = &n->verifying;
    n->pending_tail = &n->pending;
  }
}

void commit_run(relay_t *r) {
  for (size_t i = 0; i < r->nnets; i++)
    if (r->nets[i]->pending != NULL)
      commit_network(r->nets[i]);
}
