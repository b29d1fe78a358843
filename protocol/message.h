/*
 * message.h — the sync protocol's messages (docs/protocol.md, "Messages").
 *
 * Every message is one MessagePack array whose first element is its type. Decoding
 * uses the bounded reader (core/mpread.h) and returns views into the caller's
 * buffer; encoding appends to a msgpack_sbuffer.
 */
#ifndef CAIRN_MESSAGE_H
#define CAIRN_MESSAGE_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "bytes.h"

#define CAIRN_SYNC_VERSION 1 /* the version a hello carries */
#define CAIRN_MSG_TEXT_MAX 255 /* longest error message text */
#define CAIRN_ROLE_NAME_MAX 16

typedef enum {
  CAIRN_MSG_HELLO = 1,
  CAIRN_MSG_SINCE = 2,
  CAIRN_MSG_ENTRIES = 3,
  CAIRN_MSG_ACK = 4,
  CAIRN_MSG_CAUGHT_UP = 5,
  CAIRN_MSG_ERROR = 6,
  CAIRN_MSG_PING = 7,
  CAIRN_MSG_PONG = 8,
  CAIRN_MSG_COMPACT = 9, /* entries in their compact form (core/compact.h) */
  CAIRN_MSG_ZSTD = 10,   /* the next part of the sender's zstd stream: one message */
} cairn_msg_type_t;

/* A relay cursor: the relay's epoch and an arrival number in it. */
typedef struct cairn_cursor {
  uint8_t epoch[CAIRN_EPOCH_BYTES];
  uint64_t arrival;
} cairn_cursor_t;

/* One decoded message; pointers are views into the decoded buffer. */
typedef struct cairn_msg {
  cairn_msg_type_t type;
  union {
    struct { /* relay -> client, first message after the handshake */
      uint32_t version;
      const uint8_t *network;  /* 32 bytes */
      uint64_t time_ms;        /* the relay's wall clock */
      const uint8_t *epoch;    /* 16 bytes */
      uint64_t head_seq;       /* the relay's head for the client's own author */
      const char *role;        /* the client's role, not NUL-terminated */
      uint32_t role_len;
      int has_heads;           /* 0 from a relay that sends only the fields above */
      const uint8_t *head_hash; /* 32 bytes: the hash of that head; NULL at seq 0 */
      uint32_t nheads;         /* the relay's version vector, see cairn_msg_hello_heads */
      const uint8_t *heads;
      size_t heads_len;
      const uint8_t *hashes;   /* NULL, or nheads hashes, one per head in order: see
                                  cairn_msg_hello_hash */
    } hello;
    struct { /* client -> relay */
      const uint8_t *epoch;    /* NULL: no cursor, use heads */
      uint64_t arrival;
      uint32_t nheads;         /* [author bin32, seq] pairs, see cairn_msg_head */
      const uint8_t *heads;
      size_t heads_len;
    } since;
    struct { /* either way */
      uint64_t cursor;         /* relay -> client: arrival of the last entry; else 0 */
      uint32_t count;          /* entries, see cairn_msg_entry_next */
      const uint8_t *list;
      size_t list_len;
      const uint8_t (*hashes)[CAIRN_HASH_BYTES]; /* NULL, or count entry hashes: the
                                    session rebuilt the entries from their compact
                                    form, each one's ops hashing to its ops_root */
    } entries;
    struct { /* either way, when the peer reads it: what entries carries */
      uint64_t cursor;
      uint32_t count;          /* items, read with cairn_compact_decode */
      const uint8_t *items;    /* count items, then nothing (not checked here) */
      size_t items_len;
    } compact;
    struct { /* either way, when the peer reads it */
      const uint8_t *data;     /* the next bytes of the sender's zstd stream */
      size_t len;
    } zstd;
    struct {
      uint64_t own_seq;        /* relay -> client: the client's entries stored up to */
      uint64_t cursor;         /* client -> relay: arrivals applied up to */
    } ack;
    struct {
      uint64_t cursor;         /* relay -> client: the cursor after everything sent */
    } caught_up;
    struct {
      int32_t code;            /* a negative CAIRN_E* code */
      const char *text;        /* not NUL-terminated */
      uint32_t text_len;
    } error;
    struct {
      uint64_t nonce;
    } ping;
  } u;
} cairn_msg_t;

/* Decode one whole message; trailing bytes are an error (CAIRN_EMALFORMED). An
 * entry of an `entries` message larger than max_entry is CAIRN_ETOOBIG. The
 * items of a compact message are checked as they are read (the session rebuilds
 * its entries), not here. */
CAIRN_EXTERN int cairn_msg_decode(const uint8_t *buf, size_t len, size_t max_entry,
                                  cairn_msg_t *m) CAIRN_WUR;

/* Iterate the entries of an `entries` message: 1 and a view, 0 at the end. */
typedef struct cairn_msg_iter {
  const uint8_t *p, *end;
} cairn_msg_iter_t;
CAIRN_EXTERN void cairn_msg_entries(const cairn_msg_t *m, cairn_msg_iter_t *it);
CAIRN_EXTERN int cairn_msg_entry_next(cairn_msg_iter_t *it, const uint8_t **e, size_t *len);

/* The heads of a `since` message, or of a `hello` (the relay's version vector),
 * in order; read them with cairn_msg_head_next. */
CAIRN_EXTERN void cairn_msg_heads(const cairn_msg_t *m, cairn_msg_iter_t *it);
CAIRN_EXTERN void cairn_msg_hello_heads(const cairn_msg_t *m, cairn_msg_iter_t *it);
CAIRN_EXTERN int cairn_msg_head_next(cairn_msg_iter_t *it, const uint8_t **author,
                                     uint64_t *seq);
/* The hash of the i-th head of a hello's version vector (CAIRN_HASH_BYTES, a view
 * into the message), or NULL when the relay sent no hashes or i is past them. */
CAIRN_EXTERN const uint8_t *cairn_msg_hello_hash(const cairn_msg_t *m, size_t i);

/* What a relay's hello says of the entries it holds. */
typedef struct cairn_hello_heads {
  uint64_t head_seq;        /* its head for the client's own author (0: none) */
  const uint8_t *head_hash; /* that head's hash (CAIRN_HASH_BYTES); NULL at seq 0 */
  const uint8_t (*authors)[CAIRN_KEY_BYTES]; /* its version vector: n authors ... */
  const uint64_t *seqs;     /* ... and their seqs (each >= 1) */
  const uint8_t (*hashes)[CAIRN_HASH_BYTES]; /* ... and their entries' hashes (may be
                                                NULL: none sent) */
  size_t n;
} cairn_hello_heads_t;

/* Encoders: each appends one message to out. */
CAIRN_EXTERN int cairn_msg_hello(msgpack_sbuffer *out, const uint8_t network[CAIRN_KEY_BYTES],
                                 uint64_t time_ms, const uint8_t epoch[CAIRN_EPOCH_BYTES],
                                 const cairn_hello_heads_t *heads, const char *role) CAIRN_WUR;
/* epoch NULL: no cursor; heads: n pairs (authors[i], seqs[i]). */
CAIRN_EXTERN int cairn_msg_since(msgpack_sbuffer *out, const cairn_cursor_t *cursor,
                                 const uint8_t (*authors)[CAIRN_KEY_BYTES],
                                 const uint64_t *seqs, size_t n) CAIRN_WUR;
CAIRN_EXTERN int cairn_msg_entries_begin(msgpack_sbuffer *out, uint64_t cursor,
                                         uint32_t count) CAIRN_WUR;
CAIRN_EXTERN int cairn_msg_entries_add(msgpack_sbuffer *out, const uint8_t *entry,
                                       size_t len) CAIRN_WUR;
/* The size of an `entries` message of count entries whose bins take list_len
 * bytes (the list of cairn_msg_entries_add's), and that of one bin of len bytes. */
CAIRN_EXTERN size_t cairn_msg_entries_size(uint64_t cursor, uint32_t count, size_t list_len);
CAIRN_EXTERN size_t cairn_msg_bin_size(size_t len);
/* Write the header of a bin of len bytes (at most 5 bytes) at p; returns its size. */
CAIRN_EXTERN size_t cairn_msg_bin_head(uint8_t *p, size_t len);
/* A compact message's head; its count items follow (cairn_compact_encode). */
CAIRN_EXTERN int cairn_msg_compact_begin(msgpack_sbuffer *out, uint64_t cursor,
                                         uint32_t count) CAIRN_WUR;
/* The head of a `zstd` message of len compressed bytes, written to end just
 * before them: into the CAIRN_MSG_ZSTD_HEAD bytes before `at`; returns how many
 * bytes it took (the message starts that many bytes before `at`). */
#define CAIRN_MSG_ZSTD_HEAD 7
CAIRN_EXTERN size_t cairn_msg_zstd_head(uint8_t *at, size_t len);
CAIRN_EXTERN int cairn_msg_ack(msgpack_sbuffer *out, uint64_t own_seq, uint64_t cursor) CAIRN_WUR;
CAIRN_EXTERN int cairn_msg_caught_up(msgpack_sbuffer *out, uint64_t cursor) CAIRN_WUR;
CAIRN_EXTERN int cairn_msg_error(msgpack_sbuffer *out, int code, const char *text) CAIRN_WUR;
CAIRN_EXTERN int cairn_msg_ping(msgpack_sbuffer *out, cairn_msg_type_t type,
                                uint64_t nonce) CAIRN_WUR;

#endif
