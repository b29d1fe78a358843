/*
 * session.h — the sync state machine of one connection, client side and relay
 * side (docs/protocol.md, "Sync"). Pure code: bytes in, bytes and events out.
 *
 * A session owns the handshake, the channel and the order of messages; it never
 * touches a store or a socket. The transport (the relay's libuv loop, the client
 * library) feeds it received bytes, sends what it appends to `out`, and handles its
 * events, answering through the session's functions:
 *
 *   relay:  PEER     -> cairn_session_accept / cairn_session_reject
 *           SINCE    -> stream entries (cairn_session_send_entries) while the
 *                       write queue allows, then cairn_session_caught_up
 *           ENTRIES  -> verify and store them, then cairn_session_ack
 *           ACK      -> the client's cursor (remember it)
 *   client: HELLO    -> cairn_session_since, then push its own entries the
 *                       relay lacks (cairn_session_send_entries), then
 *                       cairn_session_caught_up
 *           ENTRIES  -> apply them, then cairn_session_ack with the cursor
 *           ACK      -> its own entries stored at the relay up to a seq
 *           CAUGHT_UP-> the relay has nothing more for now
 *   both:   ERROR    -> the peer's error; the session is closed
 *
 * Entries travel in the forms the peer reads (channel.h, CAIRN_WIRE_*): compact
 * (core/compact.h) and inside the sender's zstd stream for this direction, one
 * flushed part per message; the receiving session rebuilds them, so an ENTRIES
 * event always carries whole entries, byte for byte as signed. The zstd context
 * each way is made at the first compressed message and given back (a small
 * cache per process) when the stream's frame ends: a sender ends it with its
 * caught_up, so that a connection holds no zstd memory between bursts.
 *
 * Pings are answered inside the session. A message out of order, or any
 * malformed input, makes the session fail: it appends an `error` message for the
 * peer when the channel is up, reports the error, and refuses everything after.
 */
#ifndef CAIRN_SESSION_H
#define CAIRN_SESSION_H

#include <stdbool.h>

#include "channel.h"
#include "message.h"
#include "bytes.h"

typedef enum {
  CAIRN_EV_NONE = 0,
  CAIRN_EV_PEER,      /* relay: the client proved its key; see peer, network, invite */
  CAIRN_EV_HELLO,     /* client: msg.u.hello */
  CAIRN_EV_SINCE,     /* relay: msg.u.since */
  CAIRN_EV_ENTRIES,   /* msg.u.entries (count may be 0) */
  CAIRN_EV_ACK,       /* msg.u.ack */
  CAIRN_EV_CAUGHT_UP, /* msg.u.caught_up */
  CAIRN_EV_ERROR,     /* msg.u.error: the peer's error; the session is closed */
} cairn_event_type_t;

typedef struct cairn_event {
  cairn_event_type_t type;
  cairn_msg_t msg; /* views valid until the next call on the session */
} cairn_event_t;

/* Bytes of the frames after the handshake, and what the same messages would
 * take as frames of whole entries, uncompressed (the forms every version reads). */
typedef struct cairn_wire_stats {
  uint64_t sent, received;
  uint64_t plain_sent, plain_received;
} cairn_wire_stats_t;

typedef struct cairn_session {
  cairn_hs_role_t role;
  int state;
  cairn_hs_t hs;
  cairn_channel_t ch;
  size_t max_entry;
  msgpack_sbuffer plain; /* one message being built */
  int peer_event;        /* relay: PEER not yet reported */
  int got_since;         /* relay: the client sent since */
  /* relay: who the client proved to be (the network: either side) */
  uint8_t peer[CAIRN_KEY_BYTES], network[CAIRN_KEY_BYTES], invite[CAIRN_INVITE_MAX];
  size_t invite_len;
  uint8_t features, peer_features; /* CAIRN_WIRE_*: what each side reads */
  struct ZSTD_CCtx_s *zc;          /* the frame being sent, or NULL */
  struct ZSTD_DCtx_s *zd;          /* the frame being received, or NULL */
  uint8_t *zout, *zin;             /* a compressed message out; one decompressed */
  size_t zout_cap, zin_cap;
  msgpack_sbuffer rebuilt;         /* entries rebuilt from a compact message, as bins */
  uint8_t (*hashes)[CAIRN_HASH_BYTES]; /* and their hashes */
  size_t hashes_cap;
  cairn_wire_stats_t wire;
} cairn_session_t;

/* Client: start; msg1 is appended to out. */
CAIRN_EXTERN int cairn_session_client(cairn_session_t *s, const uint8_t id_sk[CAIRN_SECRET_BYTES],
                                      const uint8_t relay_pk[CAIRN_KEY_BYTES],
                                      const uint8_t network[CAIRN_KEY_BYTES],
                                      const uint8_t *invite, size_t invite_len,
                                      size_t max_frame, size_t max_entry,
                                      msgpack_sbuffer *out) CAIRN_WUR;

/* Relay: start; it waits for msg1. */
CAIRN_EXTERN int cairn_session_relay(cairn_session_t *s, const uint8_t id_sk[CAIRN_SECRET_BYTES],
                                     size_t max_frame, size_t max_entry) CAIRN_WUR;

/* Received bytes, any split. Returns 0 or a negative code (err set; for a peer's
 * misbehaviour an `error` message for it has been appended to out). */
CAIRN_EXTERN int cairn_session_feed(cairn_session_t *s, const uint8_t *in, size_t len,
                                    msgpack_sbuffer *out, cairn_error_t *err) CAIRN_WUR;

/* The next event: 1 (ev filled), 0 (none until more bytes), or a negative code. */
CAIRN_EXTERN int cairn_session_next(cairn_session_t *s, cairn_event_t *ev, msgpack_sbuffer *out,
                                    cairn_error_t *err) CAIRN_WUR;

/* Feed received bytes and hand every event to fn, until fn returns non-zero or no
 * event is left: 0, or the first negative code (err set). */
typedef int (*cairn_event_fn)(void *ud, const cairn_event_t *ev);
CAIRN_EXTERN int cairn_session_input(cairn_session_t *s, const uint8_t *in, size_t len,
                                     msgpack_sbuffer *out, cairn_event_fn fn, void *ud,
                                     cairn_error_t *err) CAIRN_WUR;

/* Relay, after CAIRN_EV_PEER: what the client's key and network turned out to be. */
CAIRN_EXTERN const uint8_t *cairn_session_peer(const cairn_session_t *s);
CAIRN_EXTERN const uint8_t *cairn_session_network(const cairn_session_t *s);
CAIRN_EXTERN const uint8_t *cairn_session_invite(const cairn_session_t *s, size_t *len);

/* Relay: let the client in (sends hello) or refuse it (sends error; closed). */
CAIRN_EXTERN int cairn_session_accept(cairn_session_t *s, uint64_t time_ms,
                                      const uint8_t epoch[CAIRN_EPOCH_BYTES],
                                      const cairn_hello_heads_t *heads, const char *role,
                                      msgpack_sbuffer *out) CAIRN_WUR;
CAIRN_EXTERN int cairn_session_reject(cairn_session_t *s, int code, const char *text,
                                      msgpack_sbuffer *out) CAIRN_WUR;

/* Client, after HELLO: ask for what it lacks (cursor NULL: by heads). */
CAIRN_EXTERN int cairn_session_since(cairn_session_t *s, const cairn_cursor_t *cursor,
                                     const uint8_t (*authors)[CAIRN_KEY_BYTES],
                                     const uint64_t *seqs, size_t n,
                                     msgpack_sbuffer *out) CAIRN_WUR;

/*
 * Entries gathered for one `entries` message, their bytes back to back: what a
 * client pushes and what the relay streams are batched the same way. A zeroed
 * batch is empty; add copies each entry; clear empties it keeping its memory.
 */
typedef struct cairn_entry_batch {
  msgpack_sbuffer data; /* the entries, back to back */
  size_t *len;          /* each entry's length */
  size_t n, cap;
  bool last;            /* nothing follows for now: the message also ends this
                           side's compressed frame (else caught_up does) */
} cairn_entry_batch_t;

/* Append one entry (copied). @return 0 or CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_entry_batch_add(cairn_entry_batch_t *b, const uint8_t *entry,
                                       size_t len) CAIRN_WUR;
/* The most bytes an `entries` message of b's entries and one more of len bytes
 * takes before framing: its header (16) and a bin header (5) per entry. */
CAIRN_EXTERN size_t cairn_entry_batch_size_with(const cairn_entry_batch_t *b, size_t len);
CAIRN_EXTERN void cairn_entry_batch_clear(cairn_entry_batch_t *b);
CAIRN_EXTERN void cairn_entry_batch_free(cairn_entry_batch_t *b);

/* Either side: one `entries` message of b's entries (cursor 0 from a client). */
CAIRN_EXTERN int cairn_session_send_entries(cairn_session_t *s, uint64_t cursor,
                                            const cairn_entry_batch_t *b,
                                            msgpack_sbuffer *out) CAIRN_WUR;
CAIRN_EXTERN int cairn_session_ack(cairn_session_t *s, uint64_t own_seq, uint64_t cursor,
                                   msgpack_sbuffer *out) CAIRN_WUR;
/* Nothing more to send for now (a client: its entries are all sent): also ends
 * the zstd frame this side was sending, if any, and gives its context back. */
CAIRN_EXTERN int cairn_session_caught_up(cairn_session_t *s, uint64_t cursor,
                                         msgpack_sbuffer *out) CAIRN_WUR;
CAIRN_EXTERN int cairn_session_ping(cairn_session_t *s, uint64_t nonce,
                                    msgpack_sbuffer *out) CAIRN_WUR;

/* Either side: end with an error for the peer (code < 0). */
CAIRN_EXTERN int cairn_session_fail(cairn_session_t *s, int code, const char *text,
                                    msgpack_sbuffer *out);

/* What the session sent and received, in the forms used and in whole forms. */
CAIRN_EXTERN const cairn_wire_stats_t *cairn_session_wire(const cairn_session_t *s);

/* 1 once the session is closed (after an error either way). */
CAIRN_EXTERN int cairn_session_closed(const cairn_session_t *s);

CAIRN_EXTERN void cairn_session_free(cairn_session_t *s);

/* For tests and fuzzing: handle one decrypted message as if it came from the peer. */
CAIRN_EXTERN int cairn__session_message(cairn_session_t *s, const uint8_t *msg, size_t len,
                                        cairn_event_t *ev, msgpack_sbuffer *out,
                                        cairn_error_t *err);

#endif
