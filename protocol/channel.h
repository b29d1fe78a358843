/*
 * channel.h — the secure channel between a device and a relay (docs/protocol.md,
 * "Handshake" and "Frames"). Pure code: bytes in, bytes out, no sockets, so that it
 * is unit-tested and fuzzed without a network.
 *
 * Handshake (the client speaks first):
 *
 *   msg1  client -> relay   prologue(8) | client ephemeral X25519 key(32)
 *   msg2  relay -> client   prologue(8) | relay ephemeral key(32) |
 *                           relay stream header(24) | frame(relay auth)
 *   msg3  client -> relay   client stream header(24) | frame(client auth)
 *
 * Session keys come from crypto_kx over the ephemeral keys; each direction is one
 * crypto_secretstream_xchacha20poly1305 stream. Both identities sign the transcript
 * hash th = BLAKE2b-256(msg1 | first 40 bytes of msg2); the client checks the
 * relay key it pinned; the relay learns the client key, the network it asks for
 * and any invite, and decides (cairn_hs_peer) whether to let it in.
 *
 * After the handshake every message travels in a frame: a 4-byte big-endian length
 * of the ciphertext, then the ciphertext (the message plus 17 bytes).
 */
#ifndef CAIRN_CHANNEL_H
#define CAIRN_CHANNEL_H

#include <msgpack.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"

#define CAIRN_PROTO_VERSION 1
#define CAIRN_PROLOGUE_BYTES 8 /* "CAIRN" | version | two zero bytes */
#define CAIRN_FRAME_HEADER 4
#define CAIRN_FRAME_OVERHEAD crypto_secretstream_xchacha20poly1305_ABYTES
#define CAIRN_FRAME_MAX_DEFAULT (4u << 20) /* largest message, bytes */
#define CAIRN_FRAME_MAX_LIMIT (64u << 20)  /* largest max_frame one may set */
#define CAIRN_INVITE_MAX 256               /* largest invite token, bytes */
#define CAIRN_HS_AUTH_MAX 512              /* largest auth message in the handshake */

/*
 * What a side reads besides the messages every version reads, sent in byte 6 of
 * its prologue (an older build sends 0 there and ignores it). Each side sends a
 * form only when the peer's byte says it reads it. Both prologues are in the
 * transcript hash that both identities sign, so no one in between can take a
 * feature away.
 */
#define CAIRN_WIRE_COMPACT 0x01 /* compact entries (message 9, core/compact.h) */
#define CAIRN_WIRE_ZSTD 0x02    /* zstd-compressed messages (message 10) */
#define CAIRN_WIRE_ALL (CAIRN_WIRE_COMPACT | CAIRN_WIRE_ZSTD)

/* The features the handshakes this process starts offer: CAIRN_WIRE_ALL unless
 * set otherwise. Tests (an older peer) set them with cairn__wire_features_set
 * (f < 0: back to the default), or, in a build with CAIRN_TEST_HOOKS, with the
 * environment variable CAIRN_TEST_WIRE_FEATURES (a number). Not thread-safe:
 * set before any handshake starts. */
uint8_t cairn__wire_features(void);
void cairn__wire_features_set(int f);

/* One direction each of an established channel. */
typedef struct cairn_channel {
  crypto_secretstream_xchacha20poly1305_state tx, rx;
  size_t max_frame;  /* largest message accepted or sent */
  uint8_t *in;       /* bytes received and not yet consumed */
  size_t in_len, in_cap;
  uint8_t *msg;      /* the last message opened (a view until the next call) */
  size_t msg_cap;
  int failed;        /* a bad frame was seen: every later call fails */
} cairn_channel_t;

/* Wraps one message into a frame appended to out. */
CAIRN_EXTERN int cairn_channel_seal(cairn_channel_t *ch, const uint8_t *msg, size_t len,
                                    msgpack_sbuffer *out) CAIRN_WUR;

/* Takes received bytes (any split). Fails with CAIRN_ETOOBIG as soon as a frame
 * header announces more than max_frame; no memory is held beyond one frame. */
CAIRN_EXTERN int cairn_channel_feed(cairn_channel_t *ch, const uint8_t *in, size_t len,
                                    cairn_error_t *err) CAIRN_WUR;

/* The next whole message: 1 and a view valid until the next call, 0 when more
 * bytes are needed, or a negative code (CAIRN_EAUTH: a frame that does not decrypt,
 * was reordered, replayed or cut). */
CAIRN_EXTERN int cairn_channel_next(cairn_channel_t *ch, const uint8_t **msg, size_t *len,
                                    cairn_error_t *err) CAIRN_WUR;

CAIRN_EXTERN void cairn_channel_free(cairn_channel_t *ch);

typedef enum { CAIRN_HS_CLIENT = 1, CAIRN_HS_RELAY = 2 } cairn_hs_role_t;

typedef struct cairn_hs {
  cairn_hs_role_t role;
  int state;
  uint8_t id_sk[CAIRN_SECRET_BYTES];
  uint8_t eph_pk[crypto_kx_PUBLICKEYBYTES], eph_sk[crypto_kx_SECRETKEYBYTES];
  uint8_t rx_key[crypto_kx_SESSIONKEYBYTES], tx_key[crypto_kx_SESSIONKEYBYTES];
  uint8_t th[CAIRN_HASH_BYTES];
  uint8_t features;      /* CAIRN_WIRE_*: what this side reads (its prologue) */
  uint8_t peer_features; /* what the peer reads, from its prologue */
  uint8_t msg1[CAIRN_PROLOGUE_BYTES + crypto_kx_PUBLICKEYBYTES];
  /* one handshake message: prologue, key, stream header, auth frame */
  uint8_t in[CAIRN_PROLOGUE_BYTES + 32 + 24 + CAIRN_FRAME_HEADER + CAIRN_FRAME_OVERHEAD +
             CAIRN_HS_AUTH_MAX];
  size_t in_len;
  /* client: the relay key pinned; relay: the client's key, once proven */
  uint8_t peer_pk[CAIRN_KEY_BYTES];
  uint8_t network[CAIRN_KEY_BYTES];
  uint8_t invite[CAIRN_INVITE_MAX];
  size_t invite_len;
  cairn_channel_t ch;
} cairn_hs_t;

/* Start a client handshake: writes msg1 to out. id_sk is this device's ed25519
 * secret key; relay_pk the relay key it trusts; invite may be NULL. */
CAIRN_EXTERN int cairn_hs_client(cairn_hs_t *hs, const uint8_t id_sk[CAIRN_SECRET_BYTES],
                                 const uint8_t relay_pk[CAIRN_KEY_BYTES],
                                 const uint8_t network[CAIRN_KEY_BYTES], const uint8_t *invite,
                                 size_t invite_len, size_t max_frame,
                                 msgpack_sbuffer *out) CAIRN_WUR;

/* Start a relay handshake (it waits for msg1). */
CAIRN_EXTERN int cairn_hs_relay(cairn_hs_t *hs, const uint8_t id_sk[CAIRN_SECRET_BYTES],
                                size_t max_frame) CAIRN_WUR;

/*
 * Feed received bytes. *used is how many were consumed: bytes after the end of
 * the handshake belong to the channel (pass them to cairn_channel_feed). Returns 0
 * (more bytes needed; anything to send was appended to out), 1 (done: the client
 * has proven the relay and sent msg3; the relay has proven the client, whose key,
 * network and invite are in hs), or a negative code with err set: CAIRN_EVERSION,
 * CAIRN_EAUTH (the relay is not the pinned key, or a signature fails),
 * CAIRN_EMALFORMED.
 */
CAIRN_EXTERN int cairn_hs_feed(cairn_hs_t *hs, const uint8_t *in, size_t len, size_t *used,
                               msgpack_sbuffer *out, cairn_error_t *err) CAIRN_WUR;

/* After 1 from cairn_hs_feed: moves the channel out (hs keeps no secret). */
CAIRN_EXTERN void cairn_hs_channel(cairn_hs_t *hs, cairn_channel_t *ch);

/* Wipes the handshake's secrets and frees what it holds. */
CAIRN_EXTERN void cairn_hs_free(cairn_hs_t *hs);

#endif
