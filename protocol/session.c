/*
 * session.c — the sync state machine of one connection (session.h,
 * docs/protocol.md "Sync").
 */
#include "session.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "compact.h"

/*
 * The zstd stream each way: level -1 and a 128 KiB window (a message of a
 * thousand compact entries is about that; a larger window finds little more).
 * On the benchmark's entries level -1 writes as few bytes as level 1 (68 an
 * entry) in 60% of its time, which the relay spends once per entry it sends.
 * While a frame is open its contexts take about 920 KiB to send and 600 KiB to
 * receive (ZSTD_estimateCStreamSize / DStreamSize); a receiver refuses a frame
 * that asks for a larger window. Contexts whose frame ended wait in a small
 * cache for the next burst.
 */
#define WIRE_LEVEL (-1)
#define WIRE_WINDOW_LOG 17
/* A message shorter than this starts no frame: one live entry compresses to
 * more bytes than it has (zstd's frame and block headers) and costs more time
 * than it saves. Within an open frame any message is compressed (its history
 * helps). */
#define WIRE_ZSTD_MIN 1024
/* Buffers larger than this are freed between bursts (no frame open), so that a
 * connection that received or sent a large burst holds nothing of it after. */
#define WIRE_KEEP_BYTES (64 * 1024)
#define ZCACHE_MAX 2
#define FRAME_BYTES (CAIRN_FRAME_HEADER + CAIRN_FRAME_OVERHEAD)
#define MSG_NONE ((cairn_msg_type_t)0) /* a part of a zstd stream that held no message */

enum {
  S_HANDSHAKE = 1, /* the channel is not up yet */
  S_PEER,          /* relay: waiting for accept or reject */
  S_WAIT_HELLO,    /* client: waiting for hello */
  S_OPEN,          /* syncing */
  S_CLOSED,        /* after an error either way */
};

static void init(cairn_session_t *s, cairn_hs_role_t role, size_t max_entry) {
  memset(s, 0, sizeof *s);
  s->role = role;
  s->state = S_HANDSHAKE;
  s->max_entry = max_entry ? max_entry : CAIRN_ENTRY_MAX_DEFAULT;
  msgpack_sbuffer_init(&s->plain);
  msgpack_sbuffer_init(&s->rebuilt);
}

int cairn_session_client(cairn_session_t *s, const uint8_t id_sk[CAIRN_SECRET_BYTES],
                         const uint8_t relay_pk[CAIRN_KEY_BYTES],
                         const uint8_t network[CAIRN_KEY_BYTES], const uint8_t *invite,
                         size_t invite_len, size_t max_frame, size_t max_entry,
                         msgpack_sbuffer *out) {
  init(s, CAIRN_HS_CLIENT, max_entry);
  return cairn_hs_client(&s->hs, id_sk, relay_pk, network, invite, invite_len, max_frame, out);
}

int cairn_session_relay(cairn_session_t *s, const uint8_t id_sk[CAIRN_SECRET_BYTES],
                        size_t max_frame, size_t max_entry) {
  init(s, CAIRN_HS_RELAY, max_entry);
  return cairn_hs_relay(&s->hs, id_sk, max_frame);
}

/* ---- zstd contexts ---- */

static pthread_mutex_t zlock = PTHREAD_MUTEX_INITIALIZER;
static ZSTD_CCtx *cfree[ZCACHE_MAX];
static ZSTD_DCtx *dfree[ZCACHE_MAX];
static size_t ncfree, ndfree;

static ZSTD_CCtx *cctx_take(void) {
  ZSTD_CCtx *z = NULL;
  pthread_mutex_lock(&zlock);
  if (ncfree > 0)
    z = cfree[--ncfree];
  pthread_mutex_unlock(&zlock);
  if (z != NULL || (z = ZSTD_createCCtx()) == NULL)
    return z;
  if (ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, WIRE_LEVEL)) ||
      ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, WIRE_WINDOW_LOG))) {
    ZSTD_freeCCtx(z);
    return NULL;
  }
  return z;
}

/* A context back to the cache (its frame dropped, if still open), or freed. */
static void cctx_give(ZSTD_CCtx *z) {
  if (z == NULL)
    return;
  (void)ZSTD_CCtx_reset(z, ZSTD_reset_session_only);
  pthread_mutex_lock(&zlock);
  if (ncfree < ZCACHE_MAX) {
    cfree[ncfree++] = z;
    z = NULL;
  }
  pthread_mutex_unlock(&zlock);
  ZSTD_freeCCtx(z);
}

static ZSTD_DCtx *dctx_take(void) {
  ZSTD_DCtx *z = NULL;
  pthread_mutex_lock(&zlock);
  if (ndfree > 0)
    z = dfree[--ndfree];
  pthread_mutex_unlock(&zlock);
  if (z != NULL || (z = ZSTD_createDCtx()) == NULL)
    return z;
  if (ZSTD_isError(ZSTD_DCtx_setParameter(z, ZSTD_d_windowLogMax, WIRE_WINDOW_LOG))) {
    ZSTD_freeDCtx(z);
    return NULL;
  }
  return z;
}

static void dctx_give(ZSTD_DCtx *z) {
  if (z == NULL)
    return;
  (void)ZSTD_DCtx_reset(z, ZSTD_reset_session_only);
  pthread_mutex_lock(&zlock);
  if (ndfree < ZCACHE_MAX) {
    dfree[ndfree++] = z;
    z = NULL;
  }
  pthread_mutex_unlock(&zlock);
  ZSTD_freeDCtx(z);
}

/* *buf (of *cap bytes) with room for at least n bytes. */
static int reserve(uint8_t **buf, size_t *cap, size_t n) {
  if (*cap >= n)
    return 0;
  size_t c = *cap ? *cap : 4096;
  while (c < n)
    c *= 2;
  uint8_t *p = realloc(*buf, c);
  if (p == NULL)
    return CAIRN_ENOMEM;
  *buf = p;
  *cap = c;
  return 0;
}

/* Between bursts: free what a burst made large (views of the last event into it
 * are over, as they are at every call). */
static void trim_in(cairn_session_t *s) {
  if (s->zd != NULL)
    return;
  if (s->zin_cap > WIRE_KEEP_BYTES) {
    free(s->zin);
    s->zin = NULL;
    s->zin_cap = 0;
  }
  if (s->rebuilt.alloc > WIRE_KEEP_BYTES) {
    msgpack_sbuffer_destroy(&s->rebuilt);
    msgpack_sbuffer_init(&s->rebuilt);
    free(s->hashes);
    s->hashes = NULL;
    s->hashes_cap = 0;
  }
}

static void trim_out(cairn_session_t *s) {
  if (s->zc == NULL && s->zout_cap > WIRE_KEEP_BYTES) {
    free(s->zout);
    s->zout = NULL;
    s->zout_cap = 0;
  }
}

/* ---- sending ---- */

/* Seal one message; plain_len is what it would take in the whole forms. */
static int seal(cairn_session_t *s, const uint8_t *msg, size_t len, size_t plain_len,
                msgpack_sbuffer *out) {
  int rc = cairn_channel_seal(&s->ch, msg, len, out);
  if (rc == 0) {
    s->wire.sent += len + FRAME_BYTES;
    s->wire.plain_sent += plain_len + FRAME_BYTES;
  }
  return rc;
}

/* Seal the message built in s->plain into out. */
static int send_plain(cairn_session_t *s, msgpack_sbuffer *out) {
  int rc = seal(s, (const uint8_t *)s->plain.data, s->plain.size, s->plain.size, out);
  s->plain.size = 0;
  return rc;
}

/*
 * The message in s->plain as the next part of this side's zstd stream, in a
 * `zstd` message; end closes the frame and gives the context back. plain_len
 * is what the message would take in the whole forms.
 */
static int send_compressed(cairn_session_t *s, ZSTD_EndDirective mode, size_t plain_len,
                           msgpack_sbuffer *out) {
  ZSTD_inBuffer in = {s->plain.data, s->plain.size, 0};
  size_t ret, head;
  int rc;
  if (s->zc == NULL && (s->zc = cctx_take()) == NULL)
    return CAIRN_ENOMEM;
  if ((rc = reserve(&s->zout, &s->zout_cap,
                    CAIRN_MSG_ZSTD_HEAD + ZSTD_compressBound(in.size) + 64)) != 0)
    return rc;
  ZSTD_outBuffer o = {s->zout + CAIRN_MSG_ZSTD_HEAD, s->zout_cap - CAIRN_MSG_ZSTD_HEAD, 0};
  while ((ret = ZSTD_compressStream2(s->zc, &o, &in, mode)) != 0) {
    if (ZSTD_isError(ret))
      return CAIRN_ENOMEM; /* zstd fails only for memory with these parameters */
    if ((rc = reserve(&s->zout, &s->zout_cap, 2 * s->zout_cap)) != 0)
      return rc;
    o.dst = s->zout + CAIRN_MSG_ZSTD_HEAD;
    o.size = s->zout_cap - CAIRN_MSG_ZSTD_HEAD;
  }
  head = cairn_msg_zstd_head(s->zout + CAIRN_MSG_ZSTD_HEAD, o.pos);
  rc = seal(s, s->zout + CAIRN_MSG_ZSTD_HEAD - head, head + o.pos, plain_len, out);
  s->plain.size = 0;
  if (mode == ZSTD_e_end) {
    cctx_give(s->zc);
    s->zc = NULL;
    trim_out(s);
  }
  return rc;
}

int cairn_session_fail(cairn_session_t *s, int code, const char *text, msgpack_sbuffer *out) {
  int up = s->state == S_PEER || s->state == S_WAIT_HELLO || s->state == S_OPEN;
  int rc = 0;
  s->state = S_CLOSED;
  if (!up || code >= 0)
    return 0;
  s->plain.size = 0;
  if ((rc = cairn_msg_error(&s->plain, code, text)) == 0)
    rc = send_plain(s, out);
  return rc;
}

/* The peer broke the protocol: tell it, close, report. */
static int violation(cairn_session_t *s, int code, msgpack_sbuffer *out, cairn_error_t *err,
                     const char *what) {
  char text[CAIRN_ERRMSG_MAX];
  snprintf(text, sizeof text, "%s", what); /* what may be err->msg */
  (void)cairn_session_fail(s, code, text, out);
  return cairn__error(err, code, "%s", text);
}

static void handshake_done(cairn_session_t *s) {
  s->features = s->hs.features;
  s->peer_features = s->hs.peer_features;
  memcpy(s->network, s->hs.network, CAIRN_KEY_BYTES);
  if (s->role == CAIRN_HS_RELAY) {
    memcpy(s->peer, s->hs.peer_pk, CAIRN_KEY_BYTES);
    memcpy(s->invite, s->hs.invite, s->hs.invite_len);
    s->invite_len = s->hs.invite_len;
    s->peer_event = 1;
    s->state = S_PEER;
  } else {
    s->state = S_WAIT_HELLO;
  }
  cairn_hs_channel(&s->hs, &s->ch);
}

int cairn_session_feed(cairn_session_t *s, const uint8_t *in, size_t len, msgpack_sbuffer *out,
                       cairn_error_t *err) {
  size_t used = 0;
  int rc;
  if (s->state == S_CLOSED)
    return cairn__error(err, CAIRN_EPROTO, "the session is closed");
  if (s->state == S_HANDSHAKE) {
    rc = cairn_hs_feed(&s->hs, in, len, &used, out, err);
    if (rc < 0) {
      cairn_hs_free(&s->hs);
      s->state = S_CLOSED;
      return rc;
    }
    if (rc == 0)
      return 0;
    handshake_done(s);
  }
  if ((rc = cairn_channel_feed(&s->ch, in + used, len - used, err)) != 0)
    return violation(s, rc, out, err, err->msg);
  return 0;
}

/* Which messages each side may receive in its state. */
static int allowed(const cairn_session_t *s, cairn_msg_type_t t) {
  if (t == CAIRN_MSG_ERROR || t == CAIRN_MSG_PING || t == CAIRN_MSG_PONG)
    return 1;
  if (t == CAIRN_MSG_COMPACT || t == CAIRN_MSG_ZSTD) /* forms of entries */
    return s->state == S_OPEN &&
           (s->features & (t == CAIRN_MSG_COMPACT ? CAIRN_WIRE_COMPACT : CAIRN_WIRE_ZSTD));
  if (s->role == CAIRN_HS_CLIENT) {
    if (s->state == S_WAIT_HELLO)
      return t == CAIRN_MSG_HELLO;
    return t == CAIRN_MSG_ENTRIES || t == CAIRN_MSG_ACK || t == CAIRN_MSG_CAUGHT_UP;
  }
  if (t == CAIRN_MSG_SINCE)
    return !s->got_since;
  return t == CAIRN_MSG_ENTRIES || t == CAIRN_MSG_ACK || t == CAIRN_MSG_CAUGHT_UP;
}

static const cairn_event_type_t event_of[] = {
    [CAIRN_MSG_HELLO] = CAIRN_EV_HELLO,         [CAIRN_MSG_SINCE] = CAIRN_EV_SINCE,
    [CAIRN_MSG_ENTRIES] = CAIRN_EV_ENTRIES,     [CAIRN_MSG_ACK] = CAIRN_EV_ACK,
    [CAIRN_MSG_CAUGHT_UP] = CAIRN_EV_CAUGHT_UP, [CAIRN_MSG_ERROR] = CAIRN_EV_ERROR,
    [CAIRN_MSG_PING] = CAIRN_EV_NONE,           [CAIRN_MSG_PONG] = CAIRN_EV_NONE,
    [CAIRN_MSG_COMPACT] = CAIRN_EV_NONE,        [CAIRN_MSG_ZSTD] = CAIRN_EV_NONE,
};

/* ---- receiving ---- */

/*
 * The next part of the peer's zstd stream (data, n bytes) into s->zin: *len
 * bytes, at most the largest message (a frame that expands beyond is refused:
 * a zstd bomb). 0 or a negative code (err set).
 */
static int decompress(cairn_session_t *s, const uint8_t *data, size_t n, size_t *len,
                      cairn_error_t *err) {
  ZSTD_inBuffer in = {data, n, 0};
  size_t pos = 0, ret, limit = s->ch.max_frame + 1;
  bool ended = false;
  if (s->zd == NULL && (s->zd = dctx_take()) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  for (;;) {
    if (pos == s->zin_cap) {
      if (pos >= limit)
        return cairn__error(err, CAIRN_ETOOBIG, "a compressed message expands beyond the "
                            "largest message this side accepts (%zu bytes)", s->ch.max_frame);
      if (reserve(&s->zin, &s->zin_cap, pos < limit / 2 ? 2 * pos + 1 : limit) != 0)
        return cairn__error(err, CAIRN_ENOMEM, "out of memory");
    }
    ZSTD_outBuffer o = {s->zin, s->zin_cap, pos};
    size_t in_before = in.pos, out_before = pos;
    ret = ZSTD_decompressStream(s->zd, &o, &in);
    pos = o.pos;
    if (ZSTD_isError(ret))
      return cairn__error(err, CAIRN_EMALFORMED, "a compressed message does not decompress "
                          "(zstd: %s)", ZSTD_getErrorName(ret));
    if (ret == 0) { /* the frame's end: nothing may follow it in this message */
      ended = true;
      if (in.pos < in.size)
        return cairn__error(err, CAIRN_EMALFORMED, "bytes after the end of a compressed "
                            "stream's frame");
      break;
    }
    /* every byte of the part is out (also when the last call, after the output
     * had filled the buffer exactly, found nothing more to write) */
    if (in.pos == in.size && pos < s->zin_cap)
      break;
    if (in.pos == in_before && pos == out_before && pos < s->zin_cap)
      return cairn__error(err, CAIRN_EMALFORMED, "a compressed message does not decompress "
                          "(no progress)");
  }
  if (pos > s->ch.max_frame)
    return cairn__error(err, CAIRN_ETOOBIG, "a compressed message expands beyond the largest "
                        "message this side accepts (%zu bytes)", s->ch.max_frame);
  if (ended) {
    dctx_give(s->zd);
    s->zd = NULL;
  }
  *len = pos;
  return 0;
}

/* Room for the hash of entry i: grown with the entries rebuilt, never ahead of
 * them (a count in a message costs nothing until its items arrive). */
static int hashes_reserve(cairn_session_t *s, size_t i) {
  if (s->hashes_cap > i)
    return 0;
  size_t cap = s->hashes_cap ? 2 * s->hashes_cap : 256;
  uint8_t(*h)[CAIRN_HASH_BYTES] = realloc(s->hashes, cap * CAIRN_HASH_BYTES);
  if (h == NULL)
    return CAIRN_ENOMEM;
  s->hashes = h;
  s->hashes_cap = cap;
  return 0;
}

/* Room for n more bytes at the end of b. */
static uint8_t *sbuffer_room(msgpack_sbuffer *b, size_t n) {
  if (b->alloc - b->size < n) {
    size_t cap = b->alloc ? b->alloc : 65536;
    while (cap - b->size < n)
      cap *= 2;
    char *p = realloc(b->data, cap);
    if (p == NULL)
      return NULL;
    b->data = p;
    b->alloc = cap;
  }
  return (uint8_t *)b->data + b->size;
}

/* One rebuilt entry, as a bin, at the end of s->rebuilt. */
static int append_rebuilt(cairn_session_t *s, const cairn_compact_entry_t *ce) {
  size_t head = cairn_msg_bin_size(ce->len) - ce->len;
  uint8_t *p = sbuffer_room(&s->rebuilt, head + ce->len);
  if (p == NULL)
    return CAIRN_ENOMEM;
  cairn_compact_entry_write(ce, p + cairn_msg_bin_head(p, ce->len));
  s->rebuilt.size += head + ce->len;
  return 0;
}

/* A compact message's entries rebuilt into s->rebuilt; m becomes the `entries`
 * message of them. The whole must fit the largest message, as it would have
 * been sent whole. */
static int rebuild(cairn_session_t *s, cairn_msg_t *m, cairn_error_t *err) {
  uint64_t cursor = m->u.compact.cursor;
  uint32_t count = m->u.compact.count;
  cairn_compact_t c;
  cairn_compact_entry_t ce;
  cairn_mpr_t r;
  bool hashed = true;
  int rc;
  cairn_compact_init(&c, s->network);
  cairn_mpr_init(&r, m->u.compact.items, m->u.compact.items_len);
  s->rebuilt.size = 0;
  for (uint32_t i = 0; i < count; i++) {
    if ((rc = cairn_compact_decode(&c, &r, s->max_entry, &ce, err)) != 0)
      return rc == CAIRN_ETOOBIG ? cairn__error(err, rc, "an entry is larger than this side "
                                                "accepts")
                                 : rc;
    if (append_rebuilt(s, &ce) != 0)
      return cairn__error(err, CAIRN_ENOMEM, "out of memory");
    if (cairn_msg_entries_size(cursor, count, s->rebuilt.size) > s->ch.max_frame)
      return cairn__error(err, CAIRN_ETOOBIG, "compact entries that expand beyond the "
                          "largest message this side accepts (%zu bytes)", s->ch.max_frame);
    hashed = hashed && ce.whole == NULL;
    if (hashed && hashes_reserve(s, i) != 0)
      return cairn__error(err, CAIRN_ENOMEM, "out of memory");
    if (hashed)
      memcpy(s->hashes[i], ce.hash, CAIRN_HASH_BYTES);
  }
  if (cairn_mpr_left(&r) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "malformed message (bytes after the compact "
                        "entries)");
  const uint8_t *items = m->u.compact.items; /* a list of no entries: not NULL */
  m->type = CAIRN_MSG_ENTRIES;
  m->u.entries.cursor = cursor;
  m->u.entries.count = count;
  m->u.entries.list = count > 0 ? (const uint8_t *)s->rebuilt.data : items;
  m->u.entries.list_len = s->rebuilt.size;
  m->u.entries.hashes = hashed && count > 0 ? (const uint8_t(*)[CAIRN_HASH_BYTES])s->hashes
                                            : NULL;
  return 0;
}

/* A message in the forms the peer used, decoded into ev->msg as whole forms:
 * the inside of a `zstd` message, entries rebuilt from a compact one.
 * *plain_len is the whole forms' size; ev->msg.type is 0 (no message) for a
 * part that only ended the peer's frame. */
static int unwrap(cairn_session_t *s, cairn_event_t *ev, size_t *plain_len,
                  cairn_error_t *err) {
  size_t n = 0;
  int rc;
  if (ev->msg.type == CAIRN_MSG_ZSTD) {
    if ((rc = decompress(s, ev->msg.u.zstd.data, ev->msg.u.zstd.len, &n, err)) != 0)
      return rc;
    if (n == 0) {
      ev->msg.type = MSG_NONE;
      return 0;
    }
    if ((rc = cairn_msg_decode(s->zin, n, s->max_entry, &ev->msg)) != 0)
      return cairn__error(err, rc, rc == CAIRN_ETOOBIG ? "an entry is larger than this side "
                                                         "accepts"
                                                       : "malformed compressed message");
    cairn_msg_type_t t = ev->msg.type;
    if (t != CAIRN_MSG_ENTRIES && t != CAIRN_MSG_COMPACT && t != CAIRN_MSG_CAUGHT_UP)
      return cairn__error(err, CAIRN_EMALFORMED, "a compressed message holds a message other "
                          "than entries");
    if (!allowed(s, t))
      return cairn__error(err, CAIRN_EPROTO, "message out of order");
    *plain_len = n;
  }
  if (ev->msg.type == CAIRN_MSG_COMPACT) {
    if ((rc = rebuild(s, &ev->msg, err)) != 0)
      return rc;
    *plain_len = cairn_msg_entries_size(ev->msg.u.entries.cursor, ev->msg.u.entries.count,
                                        ev->msg.u.entries.list_len);
  }
  return 0;
}

int cairn__session_message(cairn_session_t *s, const uint8_t *msg, size_t len,
                           cairn_event_t *ev, msgpack_sbuffer *out, cairn_error_t *err) {
  size_t plain_len = len;
  int rc;
  memset(ev, 0, sizeof *ev);
  trim_in(s);
  if ((rc = cairn_msg_decode(msg, len, s->max_entry, &ev->msg)) != 0)
    return violation(s, rc, out, err,
                     rc == CAIRN_ETOOBIG ? "an entry is larger than this side accepts"
                                         : "malformed message");
  if (!allowed(s, ev->msg.type))
    return violation(s, CAIRN_EPROTO, out, err, "message out of order");
  if ((rc = unwrap(s, ev, &plain_len, err)) != 0)
    return violation(s, rc, out, err, err->msg);
  s->wire.received += len + FRAME_BYTES;
  s->wire.plain_received += plain_len + FRAME_BYTES;
  cairn_msg_type_t t = ev->msg.type;
  if (t == MSG_NONE)
    return 0; /* the end of the peer's frame: nothing to report */
  if (t == CAIRN_MSG_HELLO) {
    if (ev->msg.u.hello.version != CAIRN_SYNC_VERSION)
      return violation(s, CAIRN_EVERSION, out, err, "unsupported sync version");
    s->state = S_OPEN;
  } else if (t == CAIRN_MSG_SINCE) {
    s->got_since = 1;
  } else if (t == CAIRN_MSG_PING) {
    s->plain.size = 0;
    if ((rc = cairn_msg_ping(&s->plain, CAIRN_MSG_PONG, ev->msg.u.ping.nonce)) != 0 ||
        (rc = send_plain(s, out)) != 0)
      return cairn__error(err, rc, "cannot answer a ping");
  } else if (t == CAIRN_MSG_ERROR) {
    s->state = S_CLOSED;
  }
  ev->type = event_of[t];
  return 0;
}

int cairn_session_next(cairn_session_t *s, cairn_event_t *ev, msgpack_sbuffer *out,
                       cairn_error_t *err) {
  const uint8_t *msg;
  size_t len;
  int rc;
  memset(ev, 0, sizeof *ev);
  if (s->state == S_CLOSED)
    return cairn__error(err, CAIRN_EPROTO, "the session is closed");
  if (s->peer_event) {
    s->peer_event = 0;
    ev->type = CAIRN_EV_PEER;
    return 1;
  }
  if (s->state == S_HANDSHAKE || s->state == S_PEER)
    return 0;
  for (;;) {
    rc = cairn_channel_next(&s->ch, &msg, &len, err);
    if (rc < 0)
      return violation(s, rc, out, err, err->msg);
    if (rc == 0)
      return 0;
    if ((rc = cairn__session_message(s, msg, len, ev, out, err)) != 0)
      return rc;
    if (ev->type != CAIRN_EV_NONE)
      return 1;
  }
}

int cairn_session_input(cairn_session_t *s, const uint8_t *in, size_t len, msgpack_sbuffer *out,
                        cairn_event_fn fn, void *ud, cairn_error_t *err) {
  cairn_event_t ev;
  int rc = cairn_session_feed(s, in, len, out, err);
  while (rc == 0 && (rc = cairn_session_next(s, &ev, out, err)) == 1)
    rc = fn(ud, &ev) ? 2 : 0;
  return rc < 0 ? rc : 0;
}

const uint8_t *cairn_session_peer(const cairn_session_t *s) {
  return s->peer;
}

const uint8_t *cairn_session_network(const cairn_session_t *s) {
  return s->network;
}

const uint8_t *cairn_session_invite(const cairn_session_t *s, size_t *len) {
  *len = s->invite_len;
  return s->invite_len ? s->invite : NULL;
}

/* ---- sending ---- */

static int open_for(const cairn_session_t *s, cairn_hs_role_t role) {
  return s->state == S_OPEN && (role == 0 || s->role == role);
}

int cairn_session_accept(cairn_session_t *s, uint64_t time_ms,
                         const uint8_t epoch[CAIRN_EPOCH_BYTES], const cairn_hello_heads_t *heads,
                         const char *role, msgpack_sbuffer *out) {
  int rc;
  if (s->role != CAIRN_HS_RELAY || s->state != S_PEER || s->peer_event)
    return CAIRN_EINVAL;
  s->plain.size = 0;
  if ((rc = cairn_msg_hello(&s->plain, s->network, time_ms, epoch, heads, role)) != 0 ||
      (rc = send_plain(s, out)) != 0)
    return rc;
  s->state = S_OPEN;
  return 0;
}

int cairn_session_reject(cairn_session_t *s, int code, const char *text, msgpack_sbuffer *out) {
  if (s->role != CAIRN_HS_RELAY || s->state != S_PEER || code >= 0)
    return CAIRN_EINVAL;
  return cairn_session_fail(s, code, text, out);
}

int cairn_session_since(cairn_session_t *s, const cairn_cursor_t *cursor,
                        const uint8_t (*authors)[CAIRN_KEY_BYTES], const uint64_t *seqs,
                        size_t n, msgpack_sbuffer *out) {
  int rc;
  if (!open_for(s, CAIRN_HS_CLIENT))
    return CAIRN_EINVAL;
  s->plain.size = 0;
  if ((rc = cairn_msg_since(&s->plain, cursor, authors, seqs, n)) != 0)
    return rc;
  return send_plain(s, out);
}

int cairn_entry_batch_add(cairn_entry_batch_t *b, const uint8_t *entry, size_t len) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 64, *nl = realloc(b->len, cap * sizeof *nl);
    if (nl == NULL)
      return CAIRN_ENOMEM;
    b->len = nl;
    b->cap = cap;
  }
  if (msgpack_sbuffer_write(&b->data, (const char *)entry, len) != 0)
    return CAIRN_ENOMEM;
  b->len[b->n++] = len;
  return 0;
}

size_t cairn_entry_batch_size_with(const cairn_entry_batch_t *b, size_t len) {
  return 16 + b->data.size + len + 5 * (b->n + 1);
}

void cairn_entry_batch_clear(cairn_entry_batch_t *b) {
  b->data.size = 0;
  b->n = 0;
  b->last = false;
}

void cairn_entry_batch_free(cairn_entry_batch_t *b) {
  msgpack_sbuffer_destroy(&b->data);
  free(b->len);
  memset(b, 0, sizeof *b);
}

/* b's entries in the forms the peer reads, into s->plain; *plain_len is the
 * size of the `entries` message of them. */
static int build_entries(cairn_session_t *s, uint64_t cursor, const cairn_entry_batch_t *b,
                         size_t *plain_len) {
  const uint8_t *p = (const uint8_t *)b->data.data;
  size_t list_len = 0;
  cairn_compact_t c;
  int rc;
  for (size_t i = 0; i < b->n; i++)
    list_len += cairn_msg_bin_size(b->len[i]);
  *plain_len = cairn_msg_entries_size(cursor, (uint32_t)b->n, list_len);
  s->plain.size = 0;
  if (!(s->peer_features & CAIRN_WIRE_COMPACT)) {
    rc = cairn_msg_entries_begin(&s->plain, cursor, (uint32_t)b->n);
    for (size_t i = 0; rc == 0 && i < b->n; p += b->len[i++])
      rc = cairn_msg_entries_add(&s->plain, p, b->len[i]);
    return rc;
  }
  cairn_compact_init(&c, s->network);
  rc = cairn_msg_compact_begin(&s->plain, cursor, (uint32_t)b->n);
  for (size_t i = 0; rc == 0 && i < b->n; p += b->len[i++])
    rc = cairn_compact_encode(&c, p, b->len[i], &s->plain);
  return rc;
}

int cairn_session_send_entries(cairn_session_t *s, uint64_t cursor, const cairn_entry_batch_t *b,
                               msgpack_sbuffer *out) {
  size_t plain_len;
  int rc;
  if (!open_for(s, 0) || b->n > UINT32_MAX || (s->role == CAIRN_HS_CLIENT && cursor != 0))
    return CAIRN_EINVAL;
  if ((rc = build_entries(s, cursor, b, &plain_len)) != 0) {
    s->plain.size = 0;
    return rc;
  }
  if ((s->peer_features & CAIRN_WIRE_ZSTD) && (s->zc != NULL || s->plain.size >= WIRE_ZSTD_MIN))
    return send_compressed(s, b->last ? ZSTD_e_end : ZSTD_e_flush, plain_len, out);
  rc = seal(s, (const uint8_t *)s->plain.data, s->plain.size, plain_len, out);
  s->plain.size = 0;
  return rc;
}

int cairn_session_ack(cairn_session_t *s, uint64_t own_seq, uint64_t cursor,
                      msgpack_sbuffer *out) {
  int rc;
  if (!open_for(s, 0))
    return CAIRN_EINVAL;
  s->plain.size = 0;
  if ((rc = cairn_msg_ack(&s->plain, own_seq, cursor)) != 0)
    return rc;
  return send_plain(s, out);
}

int cairn_session_caught_up(cairn_session_t *s, uint64_t cursor, msgpack_sbuffer *out) {
  int rc;
  if (!open_for(s, 0))
    return CAIRN_EINVAL;
  s->plain.size = 0;
  if ((rc = cairn_msg_caught_up(&s->plain, cursor)) != 0)
    return rc;
  if (s->zc != NULL) /* the last part of this side's frame: its context goes back */
    return send_compressed(s, ZSTD_e_end, s->plain.size, out);
  return send_plain(s, out);
}

int cairn_session_ping(cairn_session_t *s, uint64_t nonce, msgpack_sbuffer *out) {
  int rc;
  if (!open_for(s, 0))
    return CAIRN_EINVAL;
  s->plain.size = 0;
  if ((rc = cairn_msg_ping(&s->plain, CAIRN_MSG_PING, nonce)) != 0)
    return rc;
  return send_plain(s, out);
}

const cairn_wire_stats_t *cairn_session_wire(const cairn_session_t *s) {
  return &s->wire;
}

int cairn_session_closed(const cairn_session_t *s) {
  return s->state == S_CLOSED;
}

void cairn_session_free(cairn_session_t *s) {
  if (s->state == S_HANDSHAKE)
    cairn_hs_free(&s->hs);
  cairn_channel_free(&s->ch);
  msgpack_sbuffer_destroy(&s->plain);
  msgpack_sbuffer_destroy(&s->rebuilt);
  cctx_give(s->zc);
  dctx_give(s->zd);
  free(s->zout);
  free(s->zin);
  free(s->hashes);
  sodium_memzero(s, sizeof *s);
}
