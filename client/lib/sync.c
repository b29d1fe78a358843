/*
 * sync.c — a device's side of the sync protocol over libuv (cairn.h, "Sync with
 * a relay"; docs/protocol.md, "Sync").
 *
 * One link is one connection: connect, handshake (the relay key pinned), hello,
 * since (the kept cursor when the relay's epoch matches, else this replica's
 * heads), push this device's entries above the relay's head for it, apply what
 * the relay streams and acknowledge it. Both kinds of sync drive the same link;
 * they differ in what ends it and what its timer does:
 *
 *   once  the link closes as soon as both directions are caught up; its timer is
 *         the overall timeout. cairn_sync_once runs a private loop until the
 *         link's handles are closed.
 *   live  the link stays open on the caller's loop. Its timer is the keepalive
 *         (a ping when idle, the relay taken as lost when silent); a poll timer
 *         pushes new own entries; when the link ends, a retry timer opens the
 *         next one after a capped exponential backoff, unless the error is one
 *         that retrying cannot cure.
 *
 * Every handle a link or a live sync opens is closed before its memory is
 * released: the link reports its end once its two handles are closed and its
 * writes are done, and a stopped live sync frees itself once its link has ended
 * and its own timers are closed.
 *
 * A link's bytes go through its link_io_t: TCP on libuv here, or, in test builds,
 * a caller's transport (sync_sim.h), so that tests/simulation drives this very
 * code with no socket and no loop.
 */
#include "sync.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "address.h"
#include "bytes.h"
#include "invite.h"
#include "session.h"
#include "sync_sim.h"

#define PUSH_BATCH 1024
#define READ_BUF (64 * 1024)
#define PING_MS_DEFAULT 60000u     /* well under the relay's default idle timeout */
#define BACKOFF_MIN_MS 250u
#define BACKOFF_MAX_MS_DEFAULT 30000u

typedef struct link link_t;
typedef struct cairn_sync_live live_t;

/* How a link's bytes leave and how it ends. open connects (msg1 is in l->out);
 * write takes data (malloc'd) only on success; close ends the connection, after
 * which link_ended is called once nothing of it is left. */
typedef struct link_io {
  int (*open)(link_t *l);
  int (*write)(link_t *l, char *data, size_t len);
  void (*close)(link_t *l);
} link_io_t;

struct link {
  /* the same for every connection */
  uv_loop_t *loop;
  cairn_store_t *s;
  live_t *live; /* NULL for a one-shot sync */
  const link_io_t *io;
  void *io_data; /* the io's own (a test's transport) */
  struct sockaddr_storage sa;
  uint8_t me[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES], relay_key[CAIRN_KEY_BYTES];
  char addr[CAIRN_ADDR_MAX];
  bool has_invite; /* joining: prove the invite's seed, push its grant */
  uint8_t invite_seed[CAIRN_INVITE_SEED_BYTES], invite_pk[CAIRN_KEY_BYTES];
  unsigned timeout_ms; /* once: give up after; 0 for never */
  cairn_sync_stats_t stats;
  /* one connection */
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_timer_t timer; /* once: the timeout; live: the keepalive */
  int open_handles;
  int writes;
  cairn_session_t sess;
  bool sess_ready;
  msgpack_sbuffer out;
  uint64_t target; /* own head seq to see acknowledged */
  uint64_t pushed; /* own entries sent up to this seq */
  bool hello, relay_caught_up, sent_caught_up, closing;
  bool in_sync; /* caught up both ways since the last change either way */
  bool await_ack; /* joining: the invite's grant was pushed; its ack is awaited */
  bool relay_heads; /* hello carried the relay's version vector (and acks count
                       the `entries` messages it stored) */
  bool no_forward;  /* forward nothing on this connection (see cairn_sync_once) */
  int resumes;      /* connections again after cairn__rekey_resume moved on */
  bool by_heads;    /* ask by heads on this connection (drop_others_forks) */
  bool acked_unsaved; /* acks came that the acked_seq setting does not hold yet */
  uint64_t sent_own;  /* own entries sent on this connection, up to this seq */
  bool pulling_own;   /* the relay holds more of this device's log: it sends it */
  uint64_t verified;  /* own entries known to be the relay's, the very same, up to
                         this seq: what the acked_seq setting may say (an ack names
                         the relay's head for this key, which may be another
                         history's when this store was copied or restored) */
  bool repull;      /* a forked copy of another author's log was dropped: connect
                       again and ask by heads (see apply_replacing_forks) */
  uint64_t forwarded; /* others' entries sent on this connection */
  cairn_vv_t vv;    /* that version vector */
  uint64_t behind_acked; /* behind the relay on its own log: the seq up to which
                            the relay acknowledged it (own entries are asked for
                            from there and compared: own_fork); UINT64_MAX if not */
  int pull_rc;      /* this store could not keep what the relay sent (a full disk):
                       the pull stops, the push goes on, and the sync then fails
                       with this, for the pull only */
  cairn_error_t pull_err;
  cairn_taken_t *taken; /* own entries taken back at hello (a forked log), signed
                           again once the relay's copy of them has been pulled */
  uint64_t batches_sent, batches_stored; /* `entries` messages sent, and stored */
  uint64_t sent_before, received_before;   /* stats.bytes_* when this connection began */
  uint64_t plain_sent_before, plain_received_before; /* stats.bytes_plain_* then */
  uint64_t last_sent, last_recv, nonce; /* loop times, for the keepalive */
  int rc;
  cairn_error_t err;
  uint8_t epoch[CAIRN_EPOCH_BYTES];
  cairn_prepared_t *prep; /* reused for every batch received */
  char rbuf[READ_BUF];
};

struct cairn_sync_live {
  link_t link;
  uv_timer_t poll, retry;
  int timers_open;
  bool link_open; /* the link's handles are open */
  bool stopping;
  unsigned poll_ms, ping_ms, backoff_max_ms, backoff_ms;
  cairn_sync_change_cb on_change;
  cairn_sync_state_cb on_state;
  cairn_sync_stop_cb on_stop;
  void *ud;
};

static const link_io_t tcp_io;
static void live_link_ended(live_t *h);
static void live_connected(live_t *h);
static void live_applied(live_t *h, uint64_t applied);

/* ---- settings ---- */


int cairn_sync_set_remote(cairn_store_t *s, const char *addr,
                          const uint8_t relay_key[CAIRN_KEY_BYTES], cairn_error_t *err) {
  char host[CAIRN_ADDR_MAX];
  size_t n = strlen(addr);
  int port, rc;
  if (n >= CAIRN_ADDR_MAX)
    return cairn__error(err, CAIRN_EINVAL, "the relay address is too long");
  if ((rc = cairn__addr_split(addr, host, sizeof host, &port, err)) != 0)
    return rc;
  if ((rc = cairn_store_setting_set(s, CAIRN__SETTING_REMOTE, addr, n)) != 0 ||
      (rc = cairn_store_setting_set(s, CAIRN__SETTING_RELAY_KEY, relay_key, CAIRN_KEY_BYTES)) !=
          0 ||
      (rc = cairn_store_setting_set(s, CAIRN__SETTING_CURSOR, NULL, 0)) != 0)
    return cairn__error(err, rc, "cannot save the relay: %s", cairn_strerror(rc));
  return 0;
}

int cairn_sync_remote(cairn_store_t *s, char *addr, size_t addr_cap,
                      uint8_t relay_key[CAIRN_KEY_BYTES]) {
  size_t n;
  int rc;
  if (addr_cap == 0)
    return CAIRN_EINVAL;
  if ((rc = cairn_store_setting_get(s, CAIRN__SETTING_REMOTE, addr, addr_cap - 1, &n)) != 0)
    return rc;
  addr[n] = '\0';
  rc = cairn_store_setting_get(s, CAIRN__SETTING_RELAY_KEY, relay_key, CAIRN_KEY_BYTES, &n);
  return rc != 0 ? rc : n == CAIRN_KEY_BYTES ? 0 : CAIRN_ECORRUPT;
}

/* A big-endian u64 setting; absent reads as 0. */
static int load_u64(cairn_store_t *s, const char *name, uint64_t *v) {
  uint8_t b[8];
  size_t n;
  int rc = cairn_store_setting_get(s, name, b, sizeof b, &n);
  *v = rc == 0 && n == sizeof b ? cairn_get_be64(b) : 0;
  return rc == CAIRN_ENOENT || rc == CAIRN_ETOOBIG ? 0 : rc;
}

static int save_u64(cairn_store_t *s, const char *name, uint64_t v) {
  uint8_t b[8];
  cairn_put_be64(b, v);
  return cairn_store_setting_set(s, name, b, sizeof b);
}

int cairn_sync_status(cairn_store_t *s, cairn_sync_status_t *out) {
  int rc;
  memset(out, 0, sizeof *out);
  rc = cairn_sync_remote(s, out->remote, sizeof out->remote, out->relay_key);
  if (rc != 0 && rc != CAIRN_ENOENT)
    return rc;
  out->has_remote = rc == 0;
  if (!out->has_remote)
    memset(out->remote, 0, sizeof out->remote);
  if ((rc = load_u64(s, CAIRN__SETTING_LAST_SYNC, &out->last_sync_ms)) != 0 ||
      (rc = load_u64(s, CAIRN__SETTING_ACKED, &out->acked_seq)) != 0 ||
      (rc = cairn_store_head_seq(s, cairn_store_key(s), &out->head_seq)) != 0)
    return rc;
  out->unacknowledged = out->head_seq > out->acked_seq ? out->head_seq - out->acked_seq : 0;
  return 0;
}

/* The kept cursor, if it belongs to the relay's epoch. */
static bool saved_cursor(link_t *l, uint64_t *pos) {
  uint8_t b[CAIRN_EPOCH_BYTES + 8];
  size_t n;
  if (cairn_store_setting_get(l->s, CAIRN__SETTING_CURSOR, b, sizeof b, &n) != 0 ||
      n != sizeof b || memcmp(b, l->epoch, CAIRN_EPOCH_BYTES) != 0)
    return false;
  *pos = cairn_get_be64(b + CAIRN_EPOCH_BYTES);
  return true;
}

/* The cursor setting's value for position pos. */
static void cursor_value(const link_t *l, uint64_t pos, uint8_t b[CAIRN_EPOCH_BYTES + 8]) {
  memcpy(b, l->epoch, CAIRN_EPOCH_BYTES);
  cairn_put_be64(b + CAIRN_EPOCH_BYTES, pos);
}

static int save_cursor(link_t *l, uint64_t pos) {
  uint8_t b[CAIRN_EPOCH_BYTES + 8];
  cursor_value(l, pos, b);
  return cairn_store_setting_set(l->s, CAIRN__SETTING_CURSOR, b, sizeof b);
}

/* ---- ending ---- */

/* Both handles closed and every write done: the connection is over. */
static void link_ended(link_t *l) {
  if (l->live != NULL)
    live_link_ended(l->live);
  /* once: nothing is left on the private loop, so uv_run returns */
}

static void on_closed(uv_handle_t *h) {
  link_t *l = h->data;
  if (--l->open_handles == 0 && l->writes == 0)
    link_ended(l);
}

static void link_close(link_t *l) {
  if (l->closing)
    return;
  l->closing = true;
  l->io->close(l);
}

/* End with an error. */
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
  if (l->closing && l->writes == 0 && l->open_handles == 0)
    link_ended(l);
}

static int tcp_write(link_t *l, char *data, size_t len) {
  wreq_t *w = malloc(sizeof *w);
  if (w == NULL)
    return CAIRN_ENOMEM;
  w->l = l;
  w->data = data;
  uv_buf_t b = uv_buf_init(data, (unsigned)len);
  if (uv_write(&w->req, (uv_stream_t *)&l->tcp, &b, 1, on_written) != 0) {
    free(w);
    return CAIRN_EIO;
  }
  l->writes++;
  l->last_sent = uv_now(l->loop);
  return 0;
}

static void tcp_close(link_t *l) {
  uv_close((uv_handle_t *)&l->tcp, on_closed);
  uv_close((uv_handle_t *)&l->timer, on_closed);
}

/* The connection's bytes in whole forms (cairn_session_wire): its handshake and
 * frames as sent, with each frame counted at its size in whole, uncompressed
 * forms (unsigned arithmetic: the sum is what counts). */
static void count_plain(link_t *l) {
  const cairn_wire_stats_t *w = cairn_session_wire(&l->sess);
  l->stats.bytes_plain_sent = l->plain_sent_before + (l->stats.bytes_sent - l->sent_before) +
                              w->plain_sent - w->sent;
  l->stats.bytes_plain_received = l->plain_received_before +
                                  (l->stats.bytes_received - l->received_before) +
                                  w->plain_received - w->received;
}

static void flush(link_t *l) {
  if (l->out.size == 0 || l->closing) {
    l->out.size = 0;
    return;
  }
  size_t len = l->out.size;
  char *data = msgpack_sbuffer_release(&l->out);
  int rc = l->io->write(l, data, len);
  if (rc != 0) {
    free(data);
    link_failf(l, rc, rc == CAIRN_ENOMEM ? "out of memory" : "cannot write to the relay");
    return;
  }
  l->stats.bytes_sent += len;
  count_plain(l);
}

/* ---- pushing this device's entries ---- */

typedef struct push {
  link_t *l;
  cairn_entry_batch_t batch;
  size_t bytes_max;
  uint64_t own_seq;   /* the last of this device's entries in the batch; 0: none */
  uint64_t forwarded; /* others' entries added */
  int rc;
} push_t;

static int push_send(push_t *p) {
  int rc = cairn_session_send_entries(&p->l->sess, 0, &p->batch, &p->l->out);
  if (rc == 0) {
    p->l->stats.pushed += p->batch.n;
    p->l->batches_sent++;
    if (p->own_seq != 0)
      p->l->pushed = p->l->sent_own = p->own_seq;
  }
  p->own_seq = 0;
  cairn_entry_batch_clear(&p->batch);
  return rc;
}

/* Add e to the batch (own: one of this device's entries), and send the batch
 * when full. 0 goes on; 1 stops the walk with p->rc set. */
static int batch_add(push_t *p, const cairn_stored_t *e, bool own) {
  if (cairn_entry_batch_add(&p->batch, e->bytes, e->len) != 0) {
    p->rc = CAIRN_ENOMEM;
    return 1;
  }
  if (own)
    p->own_seq = e->seq;
  else
    p->forwarded++;
  if ((p->batch.n == PUSH_BATCH || p->batch.data.size >= p->bytes_max) &&
      (p->rc = push_send(p)) != 0)
    return 1;
  return 0;
}

/* A walk of one author's log: this device's, or a joining device's invite key's. */
static int push_one(const cairn_stored_t *e, uint64_t position, void *ud) {
  push_t *p = ud;
  (void)position;
  return batch_add(p, e, memcmp(e->author, p->l->me, CAIRN_KEY_BYTES) == 0);
}

/* Others' entries the relay lacks, in arrival order (a grant before the entries
 * it admits): what reached this device by bundle, or what a relay restored from
 * a backup lost. */
/* An entry its author's roles refuse (a member revoked before writing it) is
 * forwarded too: the relay keeps it as evidence, as this replica does, so that
 * every replica ends with the same entries (docs/design.md, "Membership and
 * roles"). */
/* This device's own entries the relay lacks go in the same walk, in their
 * place: a network's first entries come before the members' entries they admit
 * (an owner whose first sync carries a member's bundle), and a member's own
 * entries after the grant a bundle brought. */
static int forward_one(const cairn_stored_t *e, uint64_t position, void *ud) {
  push_t *p = ud;
  (void)position;
  if (memcmp(e->author, p->l->me, CAIRN_KEY_BYTES) == 0)
    return e->seq > p->l->pushed ? batch_add(p, e, true) : 0;
  if (e->seq <= cairn_vv_seq(&p->l->vv, e->author, NULL))
    return 0;
  /* sent: counted as the relay's from now on (a refusal ends the connection, and
   * the next one starts from the relay's own word again) */
  if (cairn_vv_raise(&p->l->vv, e->author, e->seq) != 0) {
    p->rc = CAIRN_ENOMEM;
    return 1;
  }
  return batch_add(p, e, false);
}

/* Whether this replica holds entries of others that the relay lacks. */
static int lacks_others(link_t *l, bool *any) {
  cairn_vv_t mine = {0};
  int rc = cairn_store_vv(l->s, &mine);
  *any = false;
  for (size_t i = 0; rc == 0 && i < mine.n && !*any; i++)
    *any = memcmp(mine.authors[i], l->me, CAIRN_KEY_BYTES) != 0 &&
           mine.seqs[i] > cairn_vv_seq(&l->vv, mine.authors[i], NULL);
  cairn_vv_free(&mine);
  return rc;
}

/* When the relay lacks others' entries: send them and this device's own in
 * arrival order, which is an order every entry's dependencies come first in (a
 * grant before the entries it admits, a record before the edits of it). Needs
 * the relay's version vector from hello; a joining device has nothing to
 * forward. */
static int push_others(link_t *l, push_t *p) {
  bool any = false;
  int rc;
  if (!l->relay_heads || l->has_invite || l->no_forward)
    return 0;
  if ((rc = lacks_others(l, &any)) != 0 || !any)
    return rc;
  if ((rc = cairn_store_arrivals(l->s, 0, forward_one, p)) == 0)
    rc = p->rc;
  if (rc == 0 && p->batch.n > 0)
    rc = push_send(p);
  l->forwarded += p->forwarded;
  p->forwarded = 0;
  return rc;
}

/* Send what the relay lacks: others' entries with own ones in arrival order
 * when the relay lacks others', then own entries above l->pushed; then
 * caught_up, after each burst. */
static void push_own(link_t *l) {
  push_t p;
  uint64_t batches = l->batches_sent;
  memset(&p, 0, sizeof p);
  p.l = l;
  p.bytes_max = CAIRN_FRAME_MAX_DEFAULT / 2;
  int rc = push_others(l, &p);
  if (rc == 0)
    rc = cairn_store_author_log(l->s, l->me, l->pushed, push_one, &p);
  if (rc == 0)
    rc = p.rc;
  /* joining: the invite key's grant of this device (held entries are skipped) */
  if (rc == 0 && l->has_invite) {
    uint64_t queued = l->stats.pushed + p.batch.n;
    rc = cairn_store_author_log(l->s, l->invite_pk, 0, push_one, &p);
    if (rc == 0)
      rc = p.rc;
    /* the relay acks a batch only after committing it: wait for that */
    if (l->stats.pushed + p.batch.n > queued)
      l->await_ack = true;
  }
  p.batch.last = true; /* caught_up follows */
  if (rc == 0 && p.batch.n > 0)
    rc = push_send(&p);
  cairn_entry_batch_free(&p.batch);
  /* caught_up after every burst: it also ends this side's compressed frame, so
   * that neither end holds a zstd context while nothing flows */
  if (rc == 0 && (!l->sent_caught_up || l->batches_sent > batches)) {
    rc = cairn_session_caught_up(&l->sess, 0, &l->out);
    l->sent_caught_up = true;
  }
  if (rc != 0)
    link_failf(l, rc, "cannot read this device's entries");
  flush(l);
}

/* Live: push what was committed here since the last push (by this process or
 * another: a change, or a bundle applied), if anything. */
static void push_new(link_t *l) {
  uint64_t head;
  bool others = false;
  if (!l->hello || l->closing)
    return;
  if (cairn_store_head_seq(l->s, l->me, &head) != 0 ||
      (l->relay_heads && !l->has_invite && !l->no_forward && lacks_others(l, &others) != 0)) {
    link_failf(l, CAIRN_EIO, "cannot read this device's entries");
    return;
  }
  if (head <= l->pushed && !others)
    return;
  l->target = head;
  l->in_sync = false;
  push_own(l);
}

/* ---- events ---- */

/* Everything sent was stored (a relay that counts stored messages says so exactly;
 * an older one by the own seq it acks). */
static bool pushed_all(const link_t *l) {
  return l->hello && l->stats.acked_seq >= l->target && l->sent_caught_up && !l->await_ack &&
         (!l->relay_heads || l->batches_stored >= l->batches_sent);
}

/* Done: everything sent was stored and everything the relay holds received. */
static bool caught_up_both_ways(const link_t *l) {
  return pushed_all(l) && l->relay_caught_up && l->pull_rc == 0;
}

/* Own entries up to seq are known to be the relay's very ones. */
static void verified_up_to(link_t *l, uint64_t seq) {
  if (seq > l->verified) {
    l->verified = seq;
    l->acked_unsaved = true;
  }
}

/* Keep what the relay acknowledged: at most what is known to be its very own. */
static void save_acked(link_t *l) {
  uint64_t acked = l->stats.acked_seq < l->verified ? l->stats.acked_seq : l->verified;
  (void)save_u64(l->s, CAIRN__SETTING_ACKED, acked);
  l->acked_unsaved = false;
}

static int resign_left(link_t *l);

/* After a switch to a new key, the old key is another author's: what this store
 * took back of it is not the relay's, so the next connection asks by heads (the
 * cursor may have passed the relay's entries of it). */
static int new_key_by_heads(link_t *l) {
  int rc = cairn_store_setting_set(l->s, CAIRN__SETTING_CURSOR, NULL, 0);
  return rc != 0 ? cairn__error(&l->err, rc, "cannot forget the sync cursor") : 0;
}

/* A live link in sync: what a one-shot sync does after it succeeds (resumed)
 * happens here, on the same connection: changes a repair left taken back are
 * signed and pushed; a new key that may take over does, and the link connects
 * again as it (a failure that live sync retries at once). */
static void live_in_sync(link_t *l) {
  int n = resign_left(l), moved = n < 0 ? n : cairn__rekey_resume(l->s, &l->err);
  if (n > 0) {
    push_new(l);
    return;
  }
  if (moved < 0) { /* the store's failure: said, and retried as any */
    link_fail(l, moved, &l->err);
    return;
  }
  l->stats.rekey_lost |= moved == 2;
  if (moved != 1)
    return;
  l->stats.rekeyed = 1;
  memcpy(l->me, cairn_store_key(l->s), CAIRN_KEY_BYTES); /* the new key, switched */
  if (new_key_by_heads(l) == 0)
    link_failf(l, CAIRN_EIO, "connecting again with this device's new key");
  else
    link_fail(l, l->err.code, &l->err);
}

/* Keep the time of each moment in sync (for cairn_sync_status); a one-shot sync
 * is then done. Keeping the time is status only: a failure does not fail sync. */
static void check_in_sync(link_t *l) {
  if (l->pull_rc != 0 && pushed_all(l)) { /* the push is done: now say what failed */
    cairn_error_t e;
    save_acked(l);
    cairn__error(&e, l->pull_rc,
                 "this device's changes reached the relay, but what the relay sent could not "
                 "be stored here: %s; %s and sync again", l->pull_err.msg,
                 l->pull_rc == CAIRN_EREADONLY ? "copy the store to a disk it can write to"
                                               : "free some disk space");
    link_fail(l, l->pull_rc, &e);
    return;
  }
  if (l->in_sync || !caught_up_both_ways(l))
    return;
  l->in_sync = true;
  (void)save_u64(l->s, CAIRN__SETTING_LAST_SYNC, cairn_now_ms());
  /* in sync: the relay holds this device's whole log, the very one */
  verified_up_to(l, l->target);
  save_acked(l);
  if (l->live == NULL) {
    l->rc = 0;
    link_close(l);
    return;
  }
  live_in_sync(l);
}

static int send_since(link_t *l, bool by_heads) {
  uint64_t pos;
  cairn_cursor_t c;
  if (!by_heads && saved_cursor(l, &pos)) {
    memcpy(c.epoch, l->epoch, CAIRN_EPOCH_BYTES);
    c.arrival = pos;
    return cairn_session_since(&l->sess, &c, NULL, NULL, 0, &l->out);
  }
  /* no cursor for this epoch: send the version vector (behind the relay on its
   * own log: its own entries from the seq acknowledged, to compare them) */
  cairn_vv_t v = {0};
  int rc = cairn_store_vv(l->s, &v);
  for (size_t i = 0; rc == 0 && l->behind_acked != UINT64_MAX && i < v.n; i++)
    if (memcmp(v.authors[i], l->me, CAIRN_KEY_BYTES) == 0 && l->behind_acked > 0) {
      v.seqs[i] = l->behind_acked;
    } else if (memcmp(v.authors[i], l->me, CAIRN_KEY_BYTES) == 0) { /* none: all of it */
      memcpy(v.authors[i], v.authors[v.n - 1], CAIRN_KEY_BYTES);
      v.seqs[i] = v.seqs[--v.n];
    }
  if (rc == 0)
    rc = cairn_session_since(&l->sess, NULL, (const uint8_t(*)[CAIRN_KEY_BYTES])v.authors,
                             v.seqs, v.n, &l->out);
  cairn_vv_free(&v);
  return rc;
}

/* The relay's time: keep the offset to it (rewritten only when it moved by more
 * than a second, to spare a write per sync), before any entry is applied, so
 * entries are checked and changes stamped against the relay's clock. */
static void learn_clock(link_t *l, uint64_t relay_ms) {
  int64_t now = (int64_t)cairn_now_ms(), off = (int64_t)relay_ms - now, kept = 0;
  l->stats.clock_known = 1;
  l->stats.clock_offset_ms = off;
  if (cairn_store_clock_offset(l->s, &kept) == 0 && (off - kept > 1000 || kept - off > 1000) &&
      cairn_store_set_clock_offset(l->s, off) != 0)
    return; /* not kept: the next sync tries again; stamping is as before */
}

/* The relay's version vector from hello (a relay that sends none: empty). */
static int relay_vv(link_t *l, const cairn_msg_t *m) {
  cairn_msg_iter_t it;
  const uint8_t *a;
  uint64_t seq;
  int rc = 0;
  l->vv.n = 0;
  l->relay_heads = m->u.hello.has_heads;
  cairn_msg_hello_heads(m, &it);
  for (size_t i = 0; rc == 0 && l->relay_heads && cairn_msg_head_next(&it, &a, &seq) == 1; i++)
    rc = cairn_vv_add(&l->vv, a, seq, cairn_msg_hello_hash(m, i));
  return rc;
}

/*
 * Another author's entry at the relay's head seq for it, when held here, must be
 * the relay's (hello names each head's hash). When it is not, this store holds a
 * copy of that author's log that forked from the relay's (it came on a bundle
 * before the author signed it again): it is dropped from that seq on (kept in
 * forked.entries), and this sync asks by heads so that the relay's comes back
 * (apply_replacing_forks drops more if the two part lower).
 */
static int drop_others_forks(link_t *l) {
  static const uint8_t unknown[CAIRN_HASH_BYTES];
  uint8_t held[CAIRN_HASH_BYTES];
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < l->vv.n; i++) {
    uint64_t mine = 0;
    size_t dropped = 0;
    if (memcmp(l->vv.authors[i], l->me, CAIRN_KEY_BYTES) == 0 ||
        memcmp(l->vv.hashes[i], unknown, CAIRN_HASH_BYTES) == 0)
      continue;
    if ((rc = cairn_store_head_seq(l->s, l->vv.authors[i], &mine)) != 0 || mine < l->vv.seqs[i])
      continue;
    if ((rc = cairn_store_entry_hash(l->s, l->vv.authors[i], l->vv.seqs[i], held)) != 0 ||
        sodium_memcmp(held, l->vv.hashes[i], CAIRN_HASH_BYTES) == 0)
      continue;
    if ((rc = cairn_store_drop_fork(l->s, l->vv.authors[i], l->vv.seqs[i] - 1, &dropped,
                                    &l->err)) == 0) {
      l->stats.forks_dropped += dropped;
      l->by_heads = true;
    }
  }
  if (rc != 0 && l->err.code == 0)
    cairn__error(&l->err, rc, "cannot read this store's entries: %s", cairn_strerror(rc));
  return rc;
}

/* Two histories of one key (a store restored from a backup, or copied, that
 * wrote on both sides): take back this device's entries above keep; the relay's
 * history is then pulled and the taken changes signed again on top (an entry the
 * relay sends back unchanged is not signed twice). */
/* After a take-back to keep: no more than keep of this device's entries can be
 * the relay's acknowledged ones (what lies above is signed anew), so the seq kept
 * as acknowledged never names an entry of another history. */
static int acked_at_most(link_t *l, uint64_t keep) {
  uint64_t saved = 0;
  int rc = load_u64(l->s, CAIRN__SETTING_ACKED, &saved);
  if (l->stats.acked_seq > keep)
    l->stats.acked_seq = keep;
  if (l->verified > keep)
    l->verified = keep;
  if (rc == 0 && saved > keep)
    rc = save_u64(l->s, CAIRN__SETTING_ACKED, keep);
  return rc;
}

/* l->target: this device's head seq now (the link fails if it cannot be read). */
static int read_target(link_t *l) {
  int rc = cairn_store_head_seq(l->s, l->me, &l->target);
  if (rc != 0)
    link_failf(l, rc, "cannot read this device's entries");
  return rc;
}

static int take_back_above(link_t *l, uint64_t keep) {
  cairn_error_t e = {0, ""};
  int rc = cairn_store_take_back(l->s, keep, &l->taken, &e);
  if (rc != 0) {
    link_fail(l, rc, &e);
    return rc;
  }
  /* the head kept: keep, or the genesis, which is never taken back */
  if ((rc = read_target(l)) != 0)
    return rc;
  if ((rc = acked_at_most(l, l->target)) != 0)
    link_failf(l, rc, "cannot record what the relay acknowledged");
  return rc;
}

/*
 * The relay's head of this device's log against this store's: at the relay's head
 * seq, the entry here must be the one the relay holds, else what the relay never
 * acknowledged to this store is taken back. When this store holds less than the
 * relay (restored from an old backup), what it holds above the seq last
 * acknowledged may be another history too (written after the restore): it asks
 * for its own entries from that seq on, and compares them as they come
 * (own_fork).
 */
static int check_own_log(link_t *l, const cairn_msg_t *m) {
  uint8_t mine[CAIRN_HASH_BYTES];
  uint64_t seq = m->u.hello.head_seq, acked = 0;
  int rc;
  if (m->u.hello.head_hash == NULL || seq == 0)
    return 0; /* nothing to compare here: an older relay, or nothing of it there */
  if ((rc = load_u64(l->s, CAIRN__SETTING_ACKED, &acked)) != 0) {
    link_failf(l, rc, "cannot read what the relay acknowledged");
    return rc;
  }
  if (seq > l->target) {
    l->behind_acked = acked < l->target ? acked : l->target;
    return 0;
  }
  if ((rc = cairn_store_entry_hash(l->s, l->me, seq, mine)) != 0) {
    link_failf(l, rc, "cannot read this device's entries");
    return rc;
  }
  if (sodium_memcmp(mine, m->u.hello.head_hash, CAIRN_HASH_BYTES) == 0) {
    verified_up_to(l, seq); /* the same head: the same log up to it */
    return 0;
  }
  return take_back_above(l, acked < seq ? acked : seq - 1);
}

/* Behind the relay on its own log: the first own entry the relay sends that is
 * not the one held here at its seq shows where the two histories part; what is
 * held from there on is taken back (the entries before it are the relay's too). */
static int own_fork(link_t *l, const cairn_msg_t *m) {
  uint8_t theirs[CAIRN_HASH_BYTES], mine[CAIRN_HASH_BYTES];
  cairn_msg_iter_t it;
  const uint8_t *b;
  cairn_entry_t e;
  size_t len;
  int rc;
  cairn_msg_entries(m, &it);
  while (l->taken == NULL && cairn_msg_entry_next(&it, &b, &len) == 1) {
    if (cairn_entry_decode(b, len, SIZE_MAX, &e, NULL) != 0 ||
        memcmp(e.author, l->me, CAIRN_KEY_BYTES) != 0 || e.seq > l->target)
      continue; /* a bad entry is refused when applied */
    if ((rc = cairn_store_entry_hash(l->s, l->me, e.seq, mine)) != 0) {
      link_failf(l, rc, "cannot read this device's entries");
      return rc;
    }
    cairn_entry_hash(&e, theirs);
    if (sodium_memcmp(mine, theirs, CAIRN_HASH_BYTES) != 0)
      return take_back_above(l, e.seq - 1);
  }
  return 0;
}

/* The highest of this device's own entries in an `entries` message (0: none). */
static uint64_t own_max(const link_t *l, const cairn_msg_t *m) {
  cairn_msg_iter_t it;
  const uint8_t *b;
  cairn_entry_t e;
  size_t len;
  uint64_t max = 0;
  cairn_msg_entries(m, &it);
  while (cairn_msg_entry_next(&it, &b, &len) == 1)
    if (cairn_entry_decode(b, len, SIZE_MAX, &e, NULL) == 0 &&
        memcmp(e.author, l->me, CAIRN_KEY_BYTES) == 0 && e.seq > max)
      max = e.seq;
  return max;
}

/* After the relay's copy of this device's log has been pulled: sign the changes
 * taken back at hello again, on top of it, and push them. */
static int resign_taken(link_t *l) {
  cairn_error_t e = {0, ""};
  size_t n = 0;
  int rc = cairn_store_resign(l->s, l->taken, &n, &e);
  cairn_taken_free(l->taken);
  l->taken = NULL;
  l->stats.resigned += n;
  if (rc != 0) {
    link_fail(l, rc, &e);
    return rc;
  }
  if ((rc = read_target(l)) != 0)
    return rc;
  push_own(l);
  return 0;
}

static void on_hello(link_t *l, const cairn_msg_t *m) {
  int rc;
  if (memcmp(m->u.hello.network, l->net, CAIRN_KEY_BYTES) != 0) {
    link_failf(l, CAIRN_ENETWORK, "the relay answered for another network");
    return;
  }
  l->hello = true;
  learn_clock(l, m->u.hello.time_ms);
  if ((rc = relay_vv(l, m)) != 0) {
    link_failf(l, rc, "out of memory");
    return;
  }
  memcpy(l->epoch, m->u.hello.epoch, CAIRN_EPOCH_BYTES);
  l->pushed = m->u.hello.head_seq;
  l->stats.acked_seq = m->u.hello.head_seq;
  if (read_target(l) != 0 || (rc = check_own_log(l, m)) != 0)
    return;
  if ((rc = drop_others_forks(l)) != 0) {
    link_fail(l, rc, &l->err);
    return;
  }
  /* behind the relay on its own log (a store restored from an old backup): ask by
   * heads, so the relay sends this device its own entries back */
  l->pulling_own = l->pushed > l->target;
  if ((rc = send_since(l, l->pulling_own || l->by_heads)) != 0) {
    link_failf(l, rc, "cannot ask the relay for new entries");
    return;
  }
  push_own(l);
  if (l->live != NULL && !l->closing)
    live_connected(l->live);
}

/*
 * A batch from the relay: prepared, then applied in one transaction that also
 * moves the cursor past it, so the cursor is durable exactly when the entries are
 * (one fsync for both).
 */
#define FORK_REPAIRS_MAX 16 /* forked authors replaced in one batch, at most */

/* The entry of the batch that failed, when it is another author's and forks
 * from what this store holds: 1 with it in *e, else 0. */
static int forked_entry(link_t *l, const cairn_buf_t *b, const cairn_apply_stats_t *st, int rc,
                        cairn_entry_t *e) {
  uint8_t held[CAIRN_HASH_BYTES];
  if ((rc != CAIRN_EFORK && rc != CAIRN_EBADHASH) || st->failed_batch != 0 ||
      st->failed_at >= cairn_prepared_count(l->prep) ||
      cairn_entry_decode(b[st->failed_at].data, b[st->failed_at].len, SIZE_MAX, e, NULL) != 0 ||
      memcmp(e->author, l->me, CAIRN_KEY_BYTES) == 0)
    return 0;
  if (rc == CAIRN_EFORK)
    return 1;
  if (e->seq < 2)
    return 0;
  /* EBADHASH: a fork only when it names another entry before it than the one
   * held (not ops that do not match their root) */
  return cairn_store_entry_hash(l->s, e->author, e->seq - 1, held) == 0 &&
         sodium_memcmp(held, e->prev, CAIRN_HASH_BYTES) != 0;
}

/*
 * Apply the prepared batch (entries b) from the relay. An entry of another author
 * that forks from what this store holds means this store got a copy of that
 * author's log that the author later took back and signed again (it reached here
 * by bundle first): the relay's chain wins, and the held copy is dropped (kept in
 * forked.entries). At the entry's own seq (CAIRN_EFORK) the copy is dropped from
 * there and the batch applied again; when the relay's entry names another
 * predecessor (CAIRN_EBADHASH), the copy is dropped from that predecessor on and
 * the sync connects again asking by heads, which brings the relay's entries from
 * there (and drops one more, if the two part lower still).
 */
static int apply_replacing_forks(link_t *l, const cairn_buf_t *b, const cairn_apply_opts_t *ao,
                                 cairn_apply_stats_t *st) {
  const cairn_prepared_t *one = l->prep;
  size_t applied = 0;
  cairn_entry_t e;
  int rc = cairn_store_apply_prepared(l->s, &one, 1, ao, st, &l->err);
  for (int k = 0; k < FORK_REPAIRS_MAX && forked_entry(l, b, st, rc, &e); k++) {
    bool below = rc == CAIRN_EBADHASH;
    size_t dropped = 0;
    applied += st->applied;
    if ((rc = cairn_store_drop_fork(l->s, e.author, below ? e.seq - 2 : e.seq - 1, &dropped,
                                    &l->err)) != 0)
      break;
    l->stats.forks_dropped += dropped;
    if (below) {
      rc = cairn_store_setting_set(l->s, CAIRN__SETTING_CURSOR, NULL, 0);
      l->repull = rc == 0;
      if (rc == 0)
        rc = cairn__error(&l->err, CAIRN_EIO, "a forked copy of another device's entries "
                                              "was dropped: connecting again for the relay's");
      break;
    }
    rc = cairn_store_apply_prepared(l->s, &one, 1, ao, st, &l->err);
  }
  st->applied += applied;
  return rc;
}

static void on_entries(link_t *l, const cairn_msg_t *m) {
  if (l->pull_rc != 0)
    return; /* the pull stopped; the push goes on */
  if (l->behind_acked != UINT64_MAX && own_fork(l, m) != 0)
    return;
  cairn_msg_iter_t it;
  cairn_apply_stats_t st;
  cairn_prepare_opts_t po = {0, false, NULL, m->u.entries.hashes};
  uint8_t cursor[CAIRN_EPOCH_BYTES + 8];
  cairn_apply_opts_t ao = {CAIRN__SETTING_CURSOR, cursor, sizeof cursor};
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
  memset(&st, 0, sizeof st);
  cursor_value(l, m->u.entries.cursor, cursor);
  if ((rc = cairn_prepare(l->prep, b, n, &po)) != 0)
    cairn__error(&l->err, rc, "out of memory");
  else
    rc = apply_replacing_forks(l, b, &ao, &st);
  free(b);
  l->stats.pulled += n;
  l->stats.applied += st.applied;
  if (rc == CAIRN_ENOSPC || rc == CAIRN_EIO || rc == CAIRN_EREADONLY) {
    /* this store's own failure, not the entries': stop pulling (nothing more is
     * acked), keep pushing, and fail once the push is done (check_in_sync) */
    l->pull_rc = rc;
    l->pull_err = l->err;
    return;
  }
  if (rc != 0) {
    (void)cairn_session_fail(&l->sess, rc, l->err.msg, &l->out);
    flush(l);
    link_fail(l, rc, &l->err);
    return;
  }
  /* this device's own entries the relay sent, applied on top of this log: up to
   * there, it is the relay's (hash-chained), and what the relay holds of it */
  if (l->pulling_own) {
    uint64_t top = own_max(l, m);
    verified_up_to(l, top);
    if (top > l->stats.acked_seq)
      l->stats.acked_seq = top;
  }
  if ((rc = cairn_session_ack(&l->sess, 0, m->u.entries.cursor, &l->out)) != 0) {
    link_failf(l, rc, "cannot acknowledge the relay's entries");
    return;
  }
  if (st.applied > 0) {
    l->in_sync = false;
    if (l->live != NULL)
      live_applied(l->live, st.applied);
  }
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
    l->await_ack = false;
    if (ev->msg.u.ack.own_seq > l->stats.acked_seq)
      l->stats.acked_seq = ev->msg.u.ack.own_seq;
    /* what this device sent and the relay stored is the relay's */
    verified_up_to(l, ev->msg.u.ack.own_seq < l->sent_own ? ev->msg.u.ack.own_seq : l->sent_own);
    if (ev->msg.u.ack.cursor > l->batches_stored) /* from the relay: messages stored */
      l->batches_stored = ev->msg.u.ack.cursor;
    break;
  case CAIRN_EV_CAUGHT_UP:
    l->relay_caught_up = true;
    /* after a pull that stopped, the cursor stays where the entries stopped */
    if (ev->msg.u.caught_up.cursor > 0 && l->pull_rc == 0 &&
        save_cursor(l, ev->msg.u.caught_up.cursor) != 0) {
      link_failf(l, CAIRN_EIO, "cannot record the sync position");
      return;
    }
    if (l->taken != NULL && l->pull_rc == 0 && resign_taken(l) != 0)
      return;
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
  if (!l->closing)
    check_in_sync(l);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  link_t *l = h->data;
  (void)hint;
  *buf = uv_buf_init(l->rbuf, sizeof l->rbuf);
}

/* Bytes from the relay, any split. */
static void link_input(link_t *l, const uint8_t *data, size_t len) {
  cairn_error_t err;
  int rc;
  l->stats.bytes_received += (uint64_t)len;
  rc = cairn_session_input(&l->sess, data, len, &l->out, event_cb, l, &err);
  count_plain(l);
  flush(l);
  if (rc < 0)
    link_fail(l, rc, &err);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  link_t *l = st->data;
  if (nread == 0 || l->closing)
    return;
  if (nread < 0) {
    link_failf(l, CAIRN_EIO, nread == UV_EOF ? "the relay closed the connection"
                                             : "the connection to the relay broke");
    return;
  }
  l->last_recv = uv_now(l->loop);
  link_input(l, (const uint8_t *)buf->base, (size_t)nread);
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
  if (uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read) != 0) {
    link_failf(l, CAIRN_EIO, "cannot read from the relay");
    return;
  }
  flush(l); /* msg1 */
}

/* once: the whole sync took too long. */
static void on_timeout(uv_timer_t *t) {
  link_failf(t->data, CAIRN_ECANCELED, "the sync timed out");
}

/* live: a ping when nothing was sent for ping_ms; lost when silent for twice that. */
static void on_keepalive(uv_timer_t *t) {
  link_t *l = t->data;
  uint64_t now = uv_now(l->loop), ping = l->live->ping_ms;
  if (now - l->last_recv >= 2 * ping) {
    link_failf(l, CAIRN_ECANCELED, "the relay stopped answering");
  } else if (l->hello && now - l->last_sent >= ping) {
    if (cairn_session_ping(&l->sess, ++l->nonce, &l->out) != 0)
      link_failf(l, CAIRN_ENOMEM, "cannot send a ping");
    flush(l);
  }
}

/* ---- a link: set up once, opened for each connection ---- */

/* Read the relay and network from the store; nothing is opened. */
static int link_prepare(link_t *l, cairn_store_t *s, uv_loop_t *loop, const char *invite) {
  uint8_t isk[CAIRN_SECRET_BYTES];
  cairn_invite_code_t code;
  int rc;
  memset(l, 0, sizeof *l);
  l->s = s;
  l->loop = loop;
  if (cairn_prepared_new(&l->prep) != 0)
    return cairn__error(&l->err, CAIRN_ENOMEM, "out of memory");
  if (invite != NULL) {
    if ((rc = cairn_invite_decode(invite, &code, &l->err)) != 0)
      return rc;
    memcpy(l->invite_seed, code.seed, sizeof l->invite_seed);
    cairn_invite_keys(code.seed, l->invite_pk, isk);
    sodium_memzero(isk, sizeof isk);
    sodium_memzero(&code, sizeof code);
    l->has_invite = true;
  }
  memcpy(l->me, cairn_store_key(s), CAIRN_KEY_BYTES);
  if ((rc = cairn_sync_remote(s, l->addr, sizeof l->addr, l->relay_key)) != 0)
    return cairn__error(&l->err, rc,
                        rc == CAIRN_ENOENT ? "no relay set: run `cairn remote HOST:PORT --key "
                                             "RELAYKEY`"
                                           : "cannot read the relay setting");
  if (cairn_store_network(s, l->net) != 0 &&
      (rc = cairn_store_expected_network(s, l->net)) != 0)
    return rc == CAIRN_ENOENT
               ? cairn__error(&l->err, CAIRN_ENONETWORK,
                              "this store has no network yet: create one (`cairn network create "
                              "TITLE`) or join one (`cairn join CODE`)")
               : cairn__error(&l->err, rc, "cannot read the network this store waits for: %s",
                              cairn_strerror(rc));
  return 0;
}

/* Over TCP: a name is resolved once, when a sync (or a live sync) starts. */
static int link_prepare_tcp(link_t *l, cairn_store_t *s, uv_loop_t *loop, const char *invite) {
  int rc = link_prepare(l, s, loop, invite);
  l->io = &tcp_io;
  return rc != 0 ? rc : cairn__addr_resolve(l->addr, &l->sa, &l->err);
}

/* What one connection holds besides its handles, freed without touching the
 * store. */
static void link_drop(link_t *l) {
  cairn_vv_free(&l->vv);
  cairn_taken_free(l->taken);
  l->taken = NULL;
  if (l->sess_ready)
    cairn_session_free(&l->sess);
  l->sess_ready = false;
  msgpack_sbuffer_destroy(&l->out);
}

static void link_release(link_t *l) {
  /* kept however the connection ended: a later repair never takes back what the
   * relay acknowledged */
  if (l->acked_unsaved)
    save_acked(l);
  /* taken back but not signed again (the connection ended before the relay's
   * history of this key was pulled): they wait in DIR/taken-back.entries, and are
   * signed on top of the relay's history after the next sync that succeeds
   * (resign_left); signing them now, on what this store holds, would fork again */
  link_drop(l);
}

/*
 * Open a connection: start the handshake and connect. On an error returned the
 * link holds nothing; after 0 its end is reported (link_ended) once its handles
 * are closed, a failure to connect included.
 */
static int link_open(link_t *l) {
  int rc;
  l->open_handles = l->writes = 0;
  l->hello = l->relay_caught_up = l->sent_caught_up = l->closing = l->in_sync = false;
  l->await_ack = false;
  l->relay_heads = false;
  l->forwarded = 0;
  l->batches_sent = l->batches_stored = 0;
  l->sent_before = l->stats.bytes_sent;
  l->received_before = l->stats.bytes_received;
  l->plain_sent_before = l->stats.bytes_plain_sent;
  l->plain_received_before = l->stats.bytes_plain_received;
  l->pull_rc = 0;
  l->target = l->pushed = l->sent_own = l->verified = 0;
  l->pulling_own = false;
  l->by_heads = false;
  l->behind_acked = UINT64_MAX;
  l->rc = CAIRN_EIO;
  cairn__error_clear(&l->err);
  msgpack_sbuffer_init(&l->out);
  uint8_t proof[CAIRN_INVITE_PROOF_BYTES];
  if (l->has_invite)
    cairn_invite_proof(l->invite_seed, l->me, l->net, proof);
  rc = cairn_session_client(&l->sess, cairn_store_secret(l->s), l->relay_key, l->net,
                            l->has_invite ? proof : NULL, l->has_invite ? sizeof proof : 0, 0, 0,
                            &l->out);
  l->sess_ready = true;
  if (rc != 0) {
    link_release(l);
    return cairn__error(&l->err, rc, "cannot start the handshake");
  }
  return l->io->open(l);
}

/* Over TCP: the socket, the timer and the connect (msg1 goes once connected). */
static int tcp_open(link_t *l) {
  int rc;
  if ((rc = uv_tcp_init(l->loop, &l->tcp)) != 0) {
    link_release(l);
    return cairn__error(&l->err, CAIRN_EIO, "cannot open a socket: %s", uv_strerror(rc));
  }
  (void)uv_timer_init(l->loop, &l->timer); /* cannot fail */
  l->tcp.data = l->timer.data = l->connect.data = l;
  l->open_handles = 2;
  l->last_sent = l->last_recv = uv_now(l->loop);
  if (l->live != NULL) {
    uint64_t tick = l->live->ping_ms / 4 ? l->live->ping_ms / 4 : 1;
    uv_timer_start(&l->timer, on_keepalive, tick, tick);
  } else if (l->timeout_ms != 0) {
    uv_timer_start(&l->timer, on_timeout, l->timeout_ms, 0);
  }
  rc = uv_tcp_connect(&l->connect, &l->tcp, (const struct sockaddr *)&l->sa, on_connect);
  if (rc != 0) {
    cairn_error_t e;
    cairn__error(&e, CAIRN_EIO, "cannot connect to %s: %s", l->addr, uv_strerror(rc));
    link_fail(l, CAIRN_EIO, &e);
  }
  return 0;
}

static const link_io_t tcp_io = {tcp_open, tcp_write, tcp_close};

/* Whether the relay ended the connection refusing an entry, after this device
 * forwarded others' entries on it (the refusal is then taken to be theirs). */
static bool refused_forward(const link_t *l) {
  return l->forwarded > 0 && (l->rc == CAIRN_EFORBIDDEN || l->rc == CAIRN_ENOTMEMBER ||
                              l->rc == CAIRN_EBADSIG || l->rc == CAIRN_EBADHASH);
}

/* The relay refused this device's entries for their clock (stamped before the
 * device knew the relay's time): take back what it did not acknowledge and sign it
 * again, now stamped with the corrected clock. Returns how many were signed, or a
 * negative error. */
static int restamp(link_t *l) {
  cairn_taken_t *t;
  size_t n = 0;
  uint64_t keep = l->stats.acked_seq, head = 0;
  int rc = cairn_store_take_back(l->s, keep, &t, NULL);
  if (rc != 0 || (rc = cairn_store_head_seq(l->s, l->me, &head)) != 0 ||
      (rc = acked_at_most(l, head)) != 0) {
    cairn_taken_free(t);
    return rc;
  }
  rc = cairn_store_resign(l->s, t, &n, NULL);
  cairn_taken_free(t);
  l->stats.resigned += n;
  return rc != 0 ? rc : (int)n;
}

/* ---- sync once ---- */

#define RESUMES_MAX 2 /* connections again after a key switch or a late re-signing */

/* Changes a repair took back and could not sign again before its connection
 * ended (DIR/taken-back.entries): once a sync has succeeded, this store holds the
 * relay's history of its key, so they are signed on top of it. How many, or a
 * negative code. */
static int resign_left(link_t *l) {
  cairn_taken_t *t = NULL;
  cairn_role_t role;
  size_t n = 0;
  int rc = cairn_store_role(l->s, l->me, &role);
  if (rc != 0 || cairn_role_may_write(role, NULL, NULL) != 0)
    return rc;
  if ((rc = cairn_store_taken_pending(l->s, &t, &l->err)) == 0 && t != NULL)
    rc = cairn_store_resign(l->s, t, &n, &l->err);
  cairn_taken_free(t);
  l->stats.resigned += n;
  return rc != 0 ? rc : (int)n;
}

/*
 * After a connection of a one-shot sync that succeeded (so the relay holds every
 * change this device signed): let a new key take over (cairn__rekey_resume), and
 * sign again what a repair left taken back. True when that left something to push
 * (connect again; *rc 0); *rc is an error when it failed.
 */
static bool resumed(link_t *l, int *rc) {
  int moved, signed_again = 0;
  *rc = 0;
  if (l->resumes >= RESUMES_MAX)
    return false;
  if ((moved = cairn__rekey_resume(l->s, &l->err)) < 0 ||
      (signed_again = resign_left(l)) < 0) {
    *rc = moved < 0 ? moved : signed_again;
    return false;
  }
  memcpy(l->me, cairn_store_key(l->s), CAIRN_KEY_BYTES); /* the new key, after a switch */
  if (moved == 1 && (*rc = new_key_by_heads(l)) != 0)
    return false;
  l->stats.rekeyed |= moved == 1;
  l->stats.rekey_lost |= moved == 2;
  if (moved == 2)
    moved = 0;
  if (moved == 0 && signed_again == 0)
    return false;
  l->resumes++;
  return true;
}

/*
 * A one-shot sync's connection has ended: release it, and say whether to connect
 * once more (*rc 0) or stop with *rc. Another connection (at most
 * FORK_REPAIRS_MAX in all) only after it succeeded and a move to a new key or a
 * repair left changes to push (resumed); after a forked copy of another device's
 * log was dropped (ask by heads for the relay's); after the relay refused this
 * device's entries for their clock (they are signed again with the relay's time,
 * learnt from its hello, and pushed again); or after it refused an entry this
 * device forwarded (written by someone else, reached here by bundle: sync without
 * forwarding, so that this device's own work goes through and it learns what the
 * relay knows).
 */
static bool once_again(link_t *l, int attempt, int *rc) {
  *rc = l->rc;
  link_release(l);
  if (*rc == 0)
    return resumed(l, rc);
  if (!l->hello || attempt >= FORK_REPAIRS_MAX)
    return false;
  if (l->repull) { /* ask by heads for the relay's chain */
    l->repull = false;
    *rc = 0;
    return true;
  }
  if (refused_forward(l) && !l->no_forward) {
    l->no_forward = true;
    l->stats.refused_forwards += l->forwarded;
  } else if (*rc != CAIRN_ESKEW || restamp(l) <= 0) {
    return false;
  }
  *rc = 0;
  return true;
}

int cairn_sync_once(cairn_store_t *s, const char *invite, unsigned timeout_ms,
                    cairn_sync_stats_t *stats, cairn_error_t *err) {
  uv_loop_t loop;
  link_t *l = malloc(sizeof *l);
  int rc;
  if (stats != NULL)
    memset(stats, 0, sizeof *stats);
  if (l == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if (uv_loop_init(&loop) != 0) {
    free(l);
    return cairn__error(err, CAIRN_ENOMEM, "cannot start an event loop");
  }
  if ((rc = link_prepare_tcp(l, s, &loop, invite)) == 0) {
    l->timeout_ms = timeout_ms;
    for (int attempt = 0; rc == 0; attempt++) {
      if ((rc = link_open(l)) != 0)
        break;
      uv_run(&loop, UV_RUN_DEFAULT);
      if (!once_again(l, attempt, &rc))
        break;
    }
  }
  if (rc != 0 && err != NULL)
    *err = l->err;
  if (stats != NULL)
    *stats = l->stats;
  cairn_prepared_free(l->prep);
  free(l);
  (void)uv_loop_close(&loop);
  return rc;
}

/* ---- live sync ---- */

/* Errors that a new connection may cure: the network, the relay restarting or
 * timing out, memory. The rest (refusals, bad entries) would only repeat. */
static bool retryable(int rc) {
  return rc == CAIRN_EIO || rc == CAIRN_ECANCELED || rc == CAIRN_ENOMEM || rc == CAIRN_EBUSY ||
         rc == CAIRN_EPROTO || rc == CAIRN_EMAPFULL;
}

static void live_report(live_t *h, cairn_sync_state_t state, const cairn_error_t *err,
                        unsigned retry_ms) {
  if (h->on_state != NULL && !h->stopping)
    h->on_state(h->ud, state, err, retry_ms);
}

static void live_maybe_free(live_t *h) {
  if (!h->stopping || h->timers_open > 0 || h->link_open)
    return;
  if (h->on_stop != NULL)
    h->on_stop(h->ud);
  cairn_prepared_free(h->link.prep);
  free(h);
}

static void on_retry(uv_timer_t *t);

/* Try again after the backoff: half of it fixed, half random, so that devices
 * cut off together do not all come back at the same moment. */
static void live_retry_later(live_t *h, const cairn_error_t *err) {
  unsigned half = h->backoff_ms / 2, delay = half + randombytes_uniform(half + 1);
  h->backoff_ms = h->backoff_ms >= h->backoff_max_ms / 2 ? h->backoff_max_ms : 2 * h->backoff_ms;
  uv_timer_start(&h->retry, on_retry, delay, 0);
  live_report(h, CAIRN_SYNC_RETRYING, err, delay);
}

static void live_link_ended(live_t *h) {
  link_t *l = &h->link;
  h->link_open = false;
  link_release(l);
  if (h->stopping) {
    live_maybe_free(h);
  } else if (refused_forward(l)) {
    /* the relay refused an entry forwarded from a bundle: go on without
     * forwarding; the device learns what the relay knows and keeps syncing */
    l->no_forward = true;
    l->stats.refused_forwards += l->forwarded;
    live_retry_later(h, &l->err);
  } else if (retryable(l->rc)) {
    live_retry_later(h, &l->err);
  } else {
    live_report(h, CAIRN_SYNC_FAILED, &l->err, 0);
  }
}

static void live_connected(live_t *h) {
  h->backoff_ms = BACKOFF_MIN_MS;
  live_report(h, CAIRN_SYNC_CONNECTED, NULL, 0);
}

static void live_applied(live_t *h, uint64_t applied) {
  if (h->on_change != NULL && !h->stopping)
    h->on_change(h->ud, applied);
}

static void on_retry(uv_timer_t *t) {
  live_t *h = t->data;
  if (h->stopping || h->link_open)
    return;
  if (link_open(&h->link) != 0) {
    live_retry_later(h, &h->link.err);
    return;
  }
  h->link_open = true;
}

static void on_poll(uv_timer_t *t) {
  live_t *h = t->data;
  if (!h->stopping && h->link_open)
    push_new(&h->link);
}

static void on_timer_closed(uv_handle_t *t) {
  live_t *h = t->data;
  h->timers_open--;
  live_maybe_free(h);
}

int cairn_sync_live(cairn_store_t *s, uv_loop_t *loop, unsigned poll_ms,
                    cairn_sync_change_cb on_change, void *ud, cairn_sync_live_t **out,
                    cairn_error_t *err) {
  live_t *h = malloc(sizeof *h);
  int rc;
  *out = NULL;
  if (h == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if ((rc = link_prepare_tcp(&h->link, s, loop, NULL)) != 0) {
    if (err != NULL)
      *err = h->link.err;
    cairn_prepared_free(h->link.prep);
    free(h);
    return rc;
  }
  h->link.live = h;
  h->link_open = h->stopping = false;
  h->poll_ms = poll_ms;
  h->ping_ms = PING_MS_DEFAULT;
  h->backoff_max_ms = BACKOFF_MAX_MS_DEFAULT;
  h->backoff_ms = BACKOFF_MIN_MS;
  h->on_change = on_change;
  h->on_state = NULL;
  h->on_stop = NULL;
  h->ud = ud;
  (void)uv_timer_init(loop, &h->poll); /* cannot fail */
  (void)uv_timer_init(loop, &h->retry);
  h->poll.data = h->retry.data = h;
  h->timers_open = 2;
  uv_timer_start(&h->retry, on_retry, 0, 0); /* the first connection */
  if (poll_ms != 0)
    uv_timer_start(&h->poll, on_poll, poll_ms, poll_ms);
  *out = h;
  return 0;
}

void cairn_sync_live_on_status(cairn_sync_live_t *h, cairn_sync_state_cb cb) {
  h->on_state = cb;
}

void cairn_sync_live_set_timing(cairn_sync_live_t *h, unsigned ping_ms, unsigned backoff_max_ms) {
  if (ping_ms != 0)
    h->ping_ms = ping_ms;
  if (backoff_max_ms != 0)
    h->backoff_max_ms = backoff_max_ms < BACKOFF_MIN_MS ? BACKOFF_MIN_MS : backoff_max_ms;
}

void cairn_sync_live_push(cairn_sync_live_t *h) {
  if (h != NULL && !h->stopping)
    uv_timer_start(&h->poll, on_poll, 0, h->poll_ms);
}

void cairn_sync_live_stats(const cairn_sync_live_t *h, cairn_sync_stats_t *out) {
  *out = h->link.stats;
}

void cairn_sync_live_stop(cairn_sync_live_t *h, cairn_sync_stop_cb on_stop) {
  if (h == NULL || h->stopping)
    return;
  h->stopping = true;
  h->on_stop = on_stop;
  uv_close((uv_handle_t *)&h->poll, on_timer_closed);
  uv_close((uv_handle_t *)&h->retry, on_timer_closed);
  if (h->link_open)
    link_close(&h->link);
}

/* ---- test builds: a one-shot sync over the caller's transport ---- */

#ifdef CAIRN_TEST_HOOKS

struct cairn_sim_sync {
  link_t link;
  const cairn_sim_io_t *io;
  int attempt;
  bool done;
  int rc;
};

static int sim_open(link_t *l) {
  cairn_sim_sync_t *h = l->io_data;
  h->io->connect(h->io->ud);
  flush(l); /* msg1 */
  return 0;
}

static int sim_write(link_t *l, char *data, size_t len) {
  cairn_sim_sync_t *h = l->io_data;
  int rc = h->io->write(h->io->ud, (const uint8_t *)data, len);
  if (rc == 0)
    free(data); /* the transport copied it */
  return rc;
}

static void sim_close(link_t *l) {
  cairn_sim_sync_t *h = l->io_data;
  h->io->close(h->io->ud);
}

static const link_io_t sim_io = {sim_open, sim_write, sim_close};

/* After input: once the connection is over, decide as cairn_sync_once does. */
static void sim_step(cairn_sim_sync_t *h) {
  link_t *l = &h->link;
  int rc;
  if (h->done || !l->closing)
    return;
  if (!once_again(l, h->attempt++, &rc) || (rc = link_open(l)) != 0) {
    h->done = true;
    h->rc = rc;
  }
}

int cairn_sim_sync_start(cairn_store_t *s, const cairn_sim_io_t *io, cairn_sim_sync_t **out,
                         cairn_error_t *err) {
  cairn_sim_sync_t *h = calloc(1, sizeof *h);
  int rc;
  *out = NULL;
  if (h == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if ((rc = link_prepare(&h->link, s, NULL, NULL)) == 0) {
    h->link.io = &sim_io;
    h->link.io_data = h;
    h->io = io;
    rc = link_open(&h->link);
  }
  if (rc != 0) {
    if (err != NULL)
      *err = h->link.err;
    cairn_prepared_free(h->link.prep);
    free(h);
    return rc;
  }
  *out = h;
  return 0;
}

void cairn_sim_sync_input(cairn_sim_sync_t *h, const uint8_t *data, size_t len) {
  if (h->done || h->link.closing)
    return;
  link_input(&h->link, data, len);
  sim_step(h);
}

void cairn_sim_sync_broken(cairn_sim_sync_t *h) {
  if (h->done)
    return;
  link_failf(&h->link, CAIRN_EIO, "the connection to the relay broke");
  sim_step(h);
}

int cairn_sim_sync_done(const cairn_sim_sync_t *h, int *rc, cairn_error_t *err,
                        cairn_sync_stats_t *stats) {
  if (!h->done)
    return 0;
  *rc = h->rc;
  if (err != NULL)
    *err = h->link.err;
  if (stats != NULL)
    *stats = h->link.stats;
  return 1;
}

void cairn_sim_sync_free(cairn_sim_sync_t *h) {
  if (h == NULL)
    return;
  if (!h->done)
    link_drop(&h->link); /* ended where it stands: nothing more is written */
  cairn_prepared_free(h->link.prep);
  free(h);
}

#endif
