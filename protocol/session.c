/*
 * session.c — the sync state machine of one connection (session.h,
 * docs/protocol.md "Sync").
 */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Seal the message built in s->plain into out. */
static int send_plain(cairn_session_t *s, msgpack_sbuffer *out) {
  int rc = cairn_channel_seal(&s->ch, (const uint8_t *)s->plain.data, s->plain.size, out);
  s->plain.size = 0;
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
  if (s->role == CAIRN_HS_RELAY) {
    memcpy(s->peer, s->hs.peer_pk, CAIRN_KEY_BYTES);
    memcpy(s->network, s->hs.network, CAIRN_KEY_BYTES);
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
};

int cairn__session_message(cairn_session_t *s, const uint8_t *msg, size_t len,
                           cairn_event_t *ev, msgpack_sbuffer *out, cairn_error_t *err) {
  int rc;
  memset(ev, 0, sizeof *ev);
  if ((rc = cairn_msg_decode(msg, len, s->max_entry, &ev->msg)) != 0)
    return violation(s, rc, out, err,
                     rc == CAIRN_ETOOBIG ? "an entry is larger than this side accepts"
                                         : "malformed message");
  cairn_msg_type_t t = ev->msg.type;
  if (!allowed(s, t))
    return violation(s, CAIRN_EPROTO, out, err, "message out of order");
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
}

void cairn_entry_batch_free(cairn_entry_batch_t *b) {
  msgpack_sbuffer_destroy(&b->data);
  free(b->len);
  memset(b, 0, sizeof *b);
}

int cairn_session_send_entries(cairn_session_t *s, uint64_t cursor, const cairn_entry_batch_t *b,
                               msgpack_sbuffer *out) {
  const uint8_t *p = (const uint8_t *)b->data.data;
  int rc;
  if (!open_for(s, 0) || b->n > UINT32_MAX || (s->role == CAIRN_HS_CLIENT && cursor != 0))
    return CAIRN_EINVAL;
  s->plain.size = 0;
  rc = cairn_msg_entries_begin(&s->plain, cursor, (uint32_t)b->n);
  for (size_t i = 0; rc == 0 && i < b->n; p += b->len[i++])
    rc = cairn_msg_entries_add(&s->plain, p, b->len[i]);
  return rc ? rc : send_plain(s, out);
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

int cairn_session_closed(const cairn_session_t *s) {
  return s->state == S_CLOSED;
}

void cairn_session_free(cairn_session_t *s) {
  if (s->state == S_HANDSHAKE)
    cairn_hs_free(&s->hs);
  cairn_channel_free(&s->ch);
  msgpack_sbuffer_destroy(&s->plain);
  sodium_memzero(s, sizeof *s);
}
