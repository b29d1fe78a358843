/*
 * channel.c — handshake and frames of the secure channel (see channel.h and
 * docs/protocol.md).
 */
#include "channel.h"

#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "mpread.h"

#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define KX_PK crypto_kx_PUBLICKEYBYTES
#define MSG1_BYTES (CAIRN_PROLOGUE_BYTES + KX_PK)
#define AUTH_MAX CAIRN_HS_AUTH_MAX

static const char relay_ctx[] = "cairn relay auth v1";
static const char client_ctx[] = "cairn client auth v1";

/* HS_MSG2_KEYED: the client has msg2's key and derived the session keys, and
 * waits for the rest of msg2 (the relay's auth frame). */
enum { HS_MSG1 = 1, HS_MSG2, HS_MSG2_KEYED, HS_MSG3, HS_DONE, HS_FAILED };

static int wire_features = -1;

uint8_t cairn__wire_features(void) {
  if (wire_features >= 0)
    return (uint8_t)wire_features;
#ifdef CAIRN_TEST_HOOKS
  /* test builds only: a process that speaks as an older build */
  const char *env = getenv("CAIRN_TEST_WIRE_FEATURES");
  if (env != NULL && env[0] != '\0')
    return (uint8_t)(strtoul(env, NULL, 0) & CAIRN_WIRE_ALL);
#endif
  return CAIRN_WIRE_ALL;
}

void cairn__wire_features_set(int f) {
  wire_features = f < 0 ? -1 : f & CAIRN_WIRE_ALL;
}

static void prologue(uint8_t out[CAIRN_PROLOGUE_BYTES], uint8_t features) {
  memcpy(out, "CAIRN", 5);
  out[5] = CAIRN_PROTO_VERSION;
  out[6] = features;
  out[7] = 0;
}

/* ---- frames ---- */

int cairn_channel_seal(cairn_channel_t *ch, const uint8_t *msg, size_t len,
                       msgpack_sbuffer *out) {
  uint8_t hdr[CAIRN_FRAME_HEADER];
  size_t clen = len + CAIRN_FRAME_OVERHEAD;
  if (len == 0 || len > ch->max_frame)
    return CAIRN_ETOOBIG;
  cairn_put_be32(hdr, (uint32_t)clen);
  if (msgpack_sbuffer_write(out, (const char *)hdr, sizeof hdr) != 0)
    return CAIRN_ENOMEM;
  /* grow the buffer once, then encrypt in place at its end */
  if (out->alloc - out->size < clen) {
    size_t cap = out->size + clen;
    char *p = realloc(out->data, cap);
    if (p == NULL)
      return CAIRN_ENOMEM;
    out->data = p;
    out->alloc = cap;
  }
  crypto_secretstream_xchacha20poly1305_push(&ch->tx, (uint8_t *)out->data + out->size, NULL,
                                             msg, len, NULL, 0, 0);
  out->size += clen;
  return 0;
}

int cairn_channel_feed(cairn_channel_t *ch, const uint8_t *in, size_t len, cairn_error_t *err) {
  if (ch->failed)
    return cairn__error(err, CAIRN_EPROTO, "the channel failed earlier");
  if (len == 0)
    return 0;
  if (len > SIZE_MAX - ch->in_len)
    return cairn__error(err, CAIRN_ETOOBIG, "too much input");
  if (ch->in_len + len > ch->in_cap) {
    size_t cap = ch->in_cap ? ch->in_cap : 4096;
    while (cap < ch->in_len + len)
      cap *= 2;
    uint8_t *p = realloc(ch->in, cap);
    if (p == NULL)
      return cairn__error(err, CAIRN_ENOMEM, "out of memory");
    ch->in = p;
    ch->in_cap = cap;
  }
  memcpy(ch->in + ch->in_len, in, len);
  ch->in_len += len;
  if (ch->in_len >= CAIRN_FRAME_HEADER) {
    uint32_t clen = cairn_get_be32(ch->in);
    if (clen <= CAIRN_FRAME_OVERHEAD || clen - CAIRN_FRAME_OVERHEAD > ch->max_frame) {
      ch->failed = 1;
      return cairn__error(err, clen <= CAIRN_FRAME_OVERHEAD ? CAIRN_EPROTO : CAIRN_ETOOBIG,
                          "frame of %lu bytes (largest accepted: %zu)", (unsigned long)clen,
                          ch->max_frame + CAIRN_FRAME_OVERHEAD);
    }
  }
  return 0;
}

/* Decrypts one frame of clen bytes at c into the channel's message buffer. */
static int open_frame(cairn_channel_t *ch, const uint8_t *c, size_t clen, size_t *mlen) {
  unsigned long long n;
  uint8_t tag;
  if (clen <= CAIRN_FRAME_OVERHEAD || clen - CAIRN_FRAME_OVERHEAD > ch->max_frame)
    return CAIRN_ETOOBIG;
  if (ch->msg_cap < clen) {
    uint8_t *p = realloc(ch->msg, clen);
    if (p == NULL)
      return CAIRN_ENOMEM;
    ch->msg = p;
    ch->msg_cap = clen;
  }
  if (crypto_secretstream_xchacha20poly1305_pull(&ch->rx, ch->msg, &n, &tag, c, clen, NULL, 0) !=
          0 ||
      tag != 0)
    return CAIRN_EAUTH;
  *mlen = (size_t)n;
  return 0;
}

int cairn_channel_next(cairn_channel_t *ch, const uint8_t **msg, size_t *len,
                       cairn_error_t *err) {
  size_t mlen;
  int rc;
  if (ch->failed)
    return cairn__error(err, CAIRN_EPROTO, "the channel failed earlier");
  if (ch->in_len < CAIRN_FRAME_HEADER)
    return 0;
  uint32_t clen = cairn_get_be32(ch->in);
  if (ch->in_len - CAIRN_FRAME_HEADER < clen)
    return 0;
  if ((rc = open_frame(ch, ch->in + CAIRN_FRAME_HEADER, clen, &mlen)) != 0) {
    ch->failed = 1;
    return cairn__error(err, rc, rc == CAIRN_EAUTH ? "a frame failed to decrypt (tampered, "
                                                     "replayed or out of order)"
                                                   : "frame too large");
  }
  size_t used = CAIRN_FRAME_HEADER + clen;
  memmove(ch->in, ch->in + used, ch->in_len - used);
  ch->in_len -= used;
  if (ch->in_len >= CAIRN_FRAME_HEADER) {
    uint32_t next = cairn_get_be32(ch->in);
    if (next <= CAIRN_FRAME_OVERHEAD || next - CAIRN_FRAME_OVERHEAD > ch->max_frame) {
      ch->failed = 1;
      return cairn__error(err, CAIRN_ETOOBIG, "frame of %lu bytes (largest accepted: %zu)",
                          (unsigned long)next, ch->max_frame + CAIRN_FRAME_OVERHEAD);
    }
  }
  *msg = ch->msg;
  *len = mlen;
  return 1;
}

void cairn_channel_free(cairn_channel_t *ch) {
  free(ch->in);
  free(ch->msg);
  sodium_memzero(ch, sizeof *ch);
}

/* ---- handshake ---- */

static int hs_fail(cairn_hs_t *hs, cairn_error_t *err, int code, const char *what) {
  hs->state = HS_FAILED;
  return cairn__error(err, code, "handshake: %s", what);
}

static int hs_init(cairn_hs_t *hs, cairn_hs_role_t role, const uint8_t *id_sk,
                   size_t max_frame) {
  memset(hs, 0, sizeof *hs);
  if (max_frame == 0)
    max_frame = CAIRN_FRAME_MAX_DEFAULT;
  if (max_frame < AUTH_MAX || max_frame > CAIRN_FRAME_MAX_LIMIT)
    return CAIRN_EINVAL;
  hs->role = role;
  hs->features = cairn__wire_features();
  memcpy(hs->id_sk, id_sk, CAIRN_SECRET_BYTES);
  crypto_kx_keypair(hs->eph_pk, hs->eph_sk);
  hs->ch.max_frame = max_frame;
  return 0;
}

int cairn_hs_client(cairn_hs_t *hs, const uint8_t id_sk[CAIRN_SECRET_BYTES],
                    const uint8_t relay_pk[CAIRN_KEY_BYTES],
                    const uint8_t network[CAIRN_KEY_BYTES], const uint8_t *invite,
                    size_t invite_len, size_t max_frame, msgpack_sbuffer *out) {
  int rc;
  if (invite_len > CAIRN_INVITE_MAX || (invite == NULL && invite_len != 0))
    return CAIRN_EINVAL;
  if ((rc = hs_init(hs, CAIRN_HS_CLIENT, id_sk, max_frame)) != 0)
    return rc;
  memcpy(hs->peer_pk, relay_pk, CAIRN_KEY_BYTES);
  memcpy(hs->network, network, CAIRN_KEY_BYTES);
  if (invite_len)
    memcpy(hs->invite, invite, invite_len);
  hs->invite_len = invite_len;
  prologue(hs->msg1, hs->features);
  memcpy(hs->msg1 + CAIRN_PROLOGUE_BYTES, hs->eph_pk, KX_PK);
  if (msgpack_sbuffer_write(out, (const char *)hs->msg1, MSG1_BYTES) != 0)
    return CAIRN_ENOMEM;
  hs->state = HS_MSG2;
  return 0;
}

int cairn_hs_relay(cairn_hs_t *hs, const uint8_t id_sk[CAIRN_SECRET_BYTES], size_t max_frame) {
  int rc = hs_init(hs, CAIRN_HS_RELAY, id_sk, max_frame);
  if (rc == 0)
    hs->state = HS_MSG1;
  return rc;
}

/* th = BLAKE2b-256(msg1 | prologue and ephemeral key of msg2). */
static void transcript(cairn_hs_t *hs, const uint8_t *msg2_head) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, sizeof hs->th);
  crypto_generichash_update(&st, hs->msg1, MSG1_BYTES);
  crypto_generichash_update(&st, msg2_head, MSG1_BYTES);
  crypto_generichash_final(&st, hs->th, sizeof hs->th);
}

/* What an identity signs: context | th | extra. */
static void auth_message(const char *ctx, const uint8_t th[CAIRN_HASH_BYTES],
                         const uint8_t *extra, size_t extra_len, uint8_t *out, size_t *len) {
  size_t n = strlen(ctx);
  memcpy(out, ctx, n);
  memcpy(out + n, th, CAIRN_HASH_BYTES);
  if (extra_len)
    memcpy(out + n + CAIRN_HASH_BYTES, extra, extra_len);
  *len = n + CAIRN_HASH_BYTES + extra_len;
}

/* What the client signs after th: network | invite. */
static size_t client_extra(const cairn_hs_t *hs, uint8_t *out) {
  memcpy(out, hs->network, CAIRN_KEY_BYTES);
  if (hs->invite_len)
    memcpy(out + CAIRN_KEY_BYTES, hs->invite, hs->invite_len);
  return CAIRN_KEY_BYTES + hs->invite_len;
}

/* Seal an auth message as the first frame of our stream, after its header. */
static int send_auth(cairn_hs_t *hs, const uint8_t *auth, size_t len, msgpack_sbuffer *out) {
  uint8_t header[SS_HEADER];
  crypto_secretstream_xchacha20poly1305_init_push(&hs->ch.tx, header, hs->tx_key);
  if (msgpack_sbuffer_write(out, (const char *)header, sizeof header) != 0)
    return CAIRN_ENOMEM;
  return cairn_channel_seal(&hs->ch, auth, len, out);
}

/*
 * A stream header and the first frame (an auth message) at the start of buf:
 * 1 and its plaintext in hs->ch.msg when whole, 0 when more bytes are needed.
 */
static int recv_auth(cairn_hs_t *hs, const uint8_t *buf, size_t len, size_t *used,
                     size_t *mlen, cairn_error_t *err) {
  if (len < SS_HEADER + CAIRN_FRAME_HEADER)
    return 0;
  uint32_t clen = cairn_get_be32(buf + SS_HEADER);
  if (clen <= CAIRN_FRAME_OVERHEAD || clen > AUTH_MAX + CAIRN_FRAME_OVERHEAD)
    return hs_fail(hs, err, CAIRN_EMALFORMED, "bad length of the auth frame");
  if (len < SS_HEADER + CAIRN_FRAME_HEADER + clen)
    return 0;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&hs->ch.rx, buf, hs->rx_key) != 0 ||
      open_frame(&hs->ch, buf + SS_HEADER + CAIRN_FRAME_HEADER, clen, mlen) != 0)
    return hs_fail(hs, err, CAIRN_EAUTH, "the peer's first frame does not decrypt");
  *used = SS_HEADER + CAIRN_FRAME_HEADER + clen;
  return 1;
}

static int check_prologue(cairn_hs_t *hs, const uint8_t *p, cairn_error_t *err) {
  if (memcmp(p, "CAIRN", 5) != 0)
    return hs_fail(hs, err, CAIRN_EMALFORMED, "the peer does not speak the cairn protocol");
  if (p[5] != CAIRN_PROTO_VERSION) {
    hs->state = HS_FAILED;
    return cairn__error(err, CAIRN_EVERSION,
                        "handshake: the peer speaks protocol version %u, this build %u",
                        (unsigned)p[5], (unsigned)CAIRN_PROTO_VERSION);
  }
  hs->peer_features = p[6] & CAIRN_WIRE_ALL; /* what it reads that this build knows */
  return 0;
}

/* Relay: msg1 in, msg2 out. */
static int relay_msg1(cairn_hs_t *hs, msgpack_sbuffer *out, cairn_error_t *err) {
  uint8_t head[MSG1_BYTES], sig[CAIRN_SIG_BYTES], m[64 + CAIRN_HASH_BYTES];
  size_t mlen;
  int rc;
  if ((rc = check_prologue(hs, hs->in, err)) != 0) {
    /* tell the peer which version this is, so that it can say so */
    prologue(head, hs->features);
    (void)msgpack_sbuffer_write(out, (const char *)head, CAIRN_PROLOGUE_BYTES);
    return rc;
  }
  memcpy(hs->msg1, hs->in, MSG1_BYTES);
  if (crypto_kx_server_session_keys(hs->rx_key, hs->tx_key, hs->eph_pk, hs->eph_sk,
                                    hs->msg1 + CAIRN_PROLOGUE_BYTES) != 0)
    return hs_fail(hs, err, CAIRN_EAUTH, "the client's ephemeral key is unusable");
  prologue(head, hs->features);
  memcpy(head + CAIRN_PROLOGUE_BYTES, hs->eph_pk, KX_PK);
  transcript(hs, head);
  auth_message(relay_ctx, hs->th, NULL, 0, m, &mlen);
  crypto_sign_detached(sig, NULL, m, mlen, hs->id_sk);
  msgpack_sbuffer auth;
  msgpack_packer pk;
  msgpack_sbuffer_init(&auth);
  msgpack_packer_init(&pk, &auth, msgpack_sbuffer_write);
  rc = msgpack_pack_array(&pk, 2);
  rc |= msgpack_pack_bin_with_body(&pk, hs->id_sk + 32, CAIRN_KEY_BYTES);
  rc |= msgpack_pack_bin_with_body(&pk, sig, sizeof sig);
  if (rc != 0 || msgpack_sbuffer_write(out, (const char *)head, sizeof head) != 0)
    rc = CAIRN_ENOMEM;
  else
    rc = send_auth(hs, (const uint8_t *)auth.data, auth.size, out);
  msgpack_sbuffer_destroy(&auth);
  if (rc != 0)
    return hs_fail(hs, err, rc, "out of memory");
  hs->state = HS_MSG3;
  return 0;
}

/* Client: the relay's auth [relay_pk, sig] must be the pinned key signing th. */
static int client_check_relay(cairn_hs_t *hs, size_t mlen, cairn_error_t *err) {
  cairn_mpr_t r;
  uint32_t n;
  const uint8_t *pk, *sig;
  uint8_t m[64 + CAIRN_HASH_BYTES];
  size_t len;
  cairn_mpr_init(&r, hs->ch.msg, mlen);
  if (cairn_mpr_array(&r, &n) != 0 || n != 2 ||
      cairn_mpr_bin_exact(&r, &pk, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_bin_exact(&r, &sig, CAIRN_SIG_BYTES) != 0 || cairn_mpr_left(&r) != 0)
    return hs_fail(hs, err, CAIRN_EMALFORMED, "malformed relay auth");
  if (sodium_memcmp(pk, hs->peer_pk, CAIRN_KEY_BYTES) != 0) {
    char want[2 * CAIRN_KEY_BYTES + 1], got[2 * CAIRN_KEY_BYTES + 1];
    hs->state = HS_FAILED;
    return cairn__error(err, CAIRN_EAUTH,
                        "handshake: the relay's key is %s, not the pinned %s (wrong relay, "
                        "or someone in between)",
                        cairn_hex(pk, CAIRN_KEY_BYTES, got),
                        cairn_hex(hs->peer_pk, CAIRN_KEY_BYTES, want));
  }
  auth_message(relay_ctx, hs->th, NULL, 0, m, &len);
  if (crypto_sign_verify_detached(sig, m, len, pk) != 0)
    return hs_fail(hs, err, CAIRN_EAUTH, "the relay's signature does not verify");
  return 0;
}

/* Client: msg3 = our stream header and [client_pk, sig, network, invite|nil]. */
static int client_msg3(cairn_hs_t *hs, msgpack_sbuffer *out, cairn_error_t *err) {
  uint8_t extra[CAIRN_KEY_BYTES + CAIRN_INVITE_MAX];
  uint8_t m[64 + CAIRN_HASH_BYTES + sizeof extra], sig[CAIRN_SIG_BYTES];
  size_t len;
  msgpack_sbuffer auth;
  msgpack_packer pk;
  int rc;
  auth_message(client_ctx, hs->th, extra, client_extra(hs, extra), m, &len);
  crypto_sign_detached(sig, NULL, m, len, hs->id_sk);
  msgpack_sbuffer_init(&auth);
  msgpack_packer_init(&pk, &auth, msgpack_sbuffer_write);
  rc = msgpack_pack_array(&pk, 4);
  rc |= msgpack_pack_bin_with_body(&pk, hs->id_sk + 32, CAIRN_KEY_BYTES);
  rc |= msgpack_pack_bin_with_body(&pk, sig, sizeof sig);
  rc |= msgpack_pack_bin_with_body(&pk, hs->network, CAIRN_KEY_BYTES);
  rc |= hs->invite_len ? msgpack_pack_bin_with_body(&pk, hs->invite, hs->invite_len)
                       : msgpack_pack_nil(&pk);
  rc = rc ? CAIRN_ENOMEM : send_auth(hs, (const uint8_t *)auth.data, auth.size, out);
  msgpack_sbuffer_destroy(&auth);
  sodium_memzero(hs->invite, sizeof hs->invite);
  return rc ? hs_fail(hs, err, rc, "out of memory") : 0;
}

/* Client: msg2 in (once whole), msg3 out. */
static int client_msg2(cairn_hs_t *hs, size_t *used, msgpack_sbuffer *out, cairn_error_t *err) {
  size_t mlen, auth_used;
  int rc;
  if (hs->in_len < CAIRN_PROLOGUE_BYTES)
    return 0;
  if ((rc = check_prologue(hs, hs->in, err)) != 0)
    return rc;
  if (hs->in_len < MSG1_BYTES)
    return 0;
  if (hs->state == HS_MSG2) {
    if (crypto_kx_client_session_keys(hs->rx_key, hs->tx_key, hs->eph_pk, hs->eph_sk,
                                      hs->in + CAIRN_PROLOGUE_BYTES) != 0)
      return hs_fail(hs, err, CAIRN_EAUTH, "the relay's ephemeral key is unusable");
    transcript(hs, hs->in);
    hs->state = HS_MSG2_KEYED;
  }
  rc = recv_auth(hs, hs->in + MSG1_BYTES, hs->in_len - MSG1_BYTES, &auth_used, &mlen, err);
  if (rc <= 0)
    return rc;
  if ((rc = client_check_relay(hs, mlen, err)) != 0 || (rc = client_msg3(hs, out, err)) != 0)
    return rc;
  *used = MSG1_BYTES + auth_used;
  return 1;
}

/* Relay: the client's auth [client_pk, sig, network, invite|nil]. */
static int relay_check_client(cairn_hs_t *hs, size_t mlen, cairn_error_t *err) {
  cairn_mpr_t r;
  uint32_t n, ilen = 0;
  const uint8_t *pk, *sig, *net, *inv = NULL;
  uint8_t extra[CAIRN_KEY_BYTES + CAIRN_INVITE_MAX], m[64 + CAIRN_HASH_BYTES + sizeof extra];
  size_t len;
  cairn_mpr_init(&r, hs->ch.msg, mlen);
  if (cairn_mpr_array(&r, &n) != 0 || n != 4 ||
      cairn_mpr_bin_exact(&r, &pk, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_bin_exact(&r, &sig, CAIRN_SIG_BYTES) != 0 ||
      cairn_mpr_bin_exact(&r, &net, CAIRN_KEY_BYTES) != 0 ||
      (cairn_mpr_nil(&r) != 0 &&
       (cairn_mpr_bin(&r, &inv, &ilen) != 0 || ilen == 0 || ilen > CAIRN_INVITE_MAX)) ||
      cairn_mpr_left(&r) != 0)
    return hs_fail(hs, err, CAIRN_EMALFORMED, "malformed client auth");
  memcpy(hs->network, net, CAIRN_KEY_BYTES);
  if (ilen)
    memcpy(hs->invite, inv, ilen);
  hs->invite_len = ilen;
  auth_message(client_ctx, hs->th, extra, client_extra(hs, extra), m, &len);
  if (crypto_sign_verify_detached(sig, m, len, pk) != 0)
    return hs_fail(hs, err, CAIRN_EAUTH, "the client's signature does not verify");
  memcpy(hs->peer_pk, pk, CAIRN_KEY_BYTES);
  return 0;
}

/* Append what fits of in to the handshake buffer. */
static size_t hs_take(cairn_hs_t *hs, const uint8_t *in, size_t len) {
  size_t room = sizeof hs->in - hs->in_len, n = len < room ? len : room;
  if (n == 0)
    return 0;
  memcpy(hs->in + hs->in_len, in, n);
  hs->in_len += n;
  return n;
}

int cairn_hs_feed(cairn_hs_t *hs, const uint8_t *in, size_t len, size_t *used,
                  msgpack_sbuffer *out, cairn_error_t *err) {
  size_t before = hs->in_len, took, auth_used = 0, mlen = 0;
  int rc;
  *used = 0;
  if (hs->state == HS_FAILED || hs->state == HS_DONE)
    return cairn__error(err, CAIRN_EINVAL, "handshake: already %s",
                        hs->state == HS_DONE ? "done" : "failed");
  if (hs->role == CAIRN_HS_RELAY && hs->state == HS_MSG1) {
    took = hs_take(hs, in, len < MSG1_BYTES - hs->in_len ? len : MSG1_BYTES - hs->in_len);
    *used = took;
    if (hs->in_len < MSG1_BYTES)
      return 0;
    if ((rc = relay_msg1(hs, out, err)) != 0)
      return rc;
    hs->in_len = before = 0;
    in += took;
    len -= took;
  }
  took = hs_take(hs, in, len);
  if (hs->role == CAIRN_HS_CLIENT) {
    rc = client_msg2(hs, &auth_used, out, err);
  } else {
    rc = recv_auth(hs, hs->in, hs->in_len, &auth_used, &mlen, err);
    if (rc == 1 && (rc = relay_check_client(hs, mlen, err)) == 0)
      rc = 1;
  }
  if (rc < 0)
    return rc;
  if (rc == 0) {
    if (hs->in_len == sizeof hs->in)
      return hs_fail(hs, err, CAIRN_EMALFORMED, "handshake message too long");
    *used += took;
    return 0;
  }
  /* done: what followed the handshake in this call is the caller's */
  *used += auth_used - before;
  hs->state = HS_DONE;
  return 1;
}

void cairn_hs_channel(cairn_hs_t *hs, cairn_channel_t *ch) {
  *ch = hs->ch;
  memset(&hs->ch, 0, sizeof hs->ch);
  cairn_hs_free(hs);
}

void cairn_hs_free(cairn_hs_t *hs) {
  cairn_channel_free(&hs->ch);
  sodium_memzero(hs, sizeof *hs);
}
