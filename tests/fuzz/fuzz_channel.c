/*
 * fuzz_channel.c — fuzz target for the secure channel (protocol/channel.c): what a
 * relay or a client does with bytes from a peer that does not follow the protocol.
 *
 * The first input byte picks the side and how the rest is cut into reads:
 *   bit 0 = 0: a relay handshake fed the input (as msg1, then msg3);
 *   bit 0 = 1: a client handshake (msg1 sent) fed the input as msg2;
 *   bit 1 = 1: instead, a channel established by a real in-memory handshake is
 *              fed the input as frames from its peer.
 * The other bits give the read size. Invariants: results are 0, 1 or a negative
 * code with a message; a handshake never completes on bytes nobody signed (the
 * keys are fresh each run, so no input can carry valid signatures or frames);
 * after an error every call fails. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "channel.h"

static uint8_t client_pk[32], client_sk[64], relay_pk[32], relay_sk[64], net[32];

static void fuzz_handshake(int client, const uint8_t *in, size_t len, size_t step) {
  cairn_hs_t hs;
  msgpack_sbuffer out;
  cairn_error_t err;
  size_t used;
  int rc = 0;
  msgpack_sbuffer_init(&out);
  if (client)
    CHECK(cairn_hs_client(&hs, client_sk, relay_pk, net, NULL, 0, 0, &out) == 0);
  else
    CHECK(cairn_hs_relay(&hs, relay_sk, 0) == 0);
  for (size_t off = 0; off < len; off += used) {
    size_t n = len - off < step ? len - off : step;
    rc = cairn_hs_feed(&hs, in + off, n, &used, &out, &err);
    CHECK(rc <= 0); /* nobody signed these bytes: never done */
    if (rc < 0) {
      CHECK(err.code == rc && err.msg[0] != '\0');
      CHECK(cairn_hs_feed(&hs, in, len, &used, &out, &err) < 0);
      break;
    }
    CHECK(used == n);
  }
  cairn_hs_free(&hs);
  msgpack_sbuffer_destroy(&out);
}

static int establish(cairn_channel_t *c, cairn_channel_t *r) {
  cairn_hs_t hc, hr;
  msgpack_sbuffer m1, m2, m3;
  cairn_error_t err;
  size_t used;
  int ok;
  msgpack_sbuffer_init(&m1);
  msgpack_sbuffer_init(&m2);
  msgpack_sbuffer_init(&m3);
  ok = cairn_hs_client(&hc, client_sk, relay_pk, net, NULL, 0, 0, &m1) == 0 &&
       cairn_hs_relay(&hr, relay_sk, 0) == 0 &&
       cairn_hs_feed(&hr, (uint8_t *)m1.data, m1.size, &used, &m2, &err) == 0 &&
       cairn_hs_feed(&hc, (uint8_t *)m2.data, m2.size, &used, &m3, &err) == 1 &&
       cairn_hs_feed(&hr, (uint8_t *)m3.data, m3.size, &used, &m2, &err) == 1;
  CHECK(ok);
  cairn_hs_channel(&hc, c);
  cairn_hs_channel(&hr, r);
  msgpack_sbuffer_destroy(&m1);
  msgpack_sbuffer_destroy(&m2);
  msgpack_sbuffer_destroy(&m3);
  return 0;
}

static void fuzz_frames(const uint8_t *in, size_t len, size_t step) {
  cairn_channel_t c, r;
  cairn_error_t err;
  const uint8_t *msg;
  size_t mlen;
  establish(&c, &r);
  /* one real frame first, so that the stream is past its start */
  msgpack_sbuffer f;
  msgpack_sbuffer_init(&f);
  CHECK(cairn_channel_seal(&c, (const uint8_t *)"hello", 5, &f) == 0);
  CHECK(cairn_channel_feed(&r, (uint8_t *)f.data, f.size, &err) == 0);
  CHECK(cairn_channel_next(&r, &msg, &mlen, &err) == 1 && mlen == 5);
  msgpack_sbuffer_destroy(&f);
  int failed = 0;
  for (size_t off = 0; off < len && !failed; off += step) {
    size_t n = len - off < step ? len - off : step;
    int rc = cairn_channel_feed(&r, in + off, n, &err);
    if (rc < 0) {
      failed = 1;
      break;
    }
    while ((rc = cairn_channel_next(&r, &msg, &mlen, &err)) == 1)
      abort(); /* forged frames never open */
    if (rc < 0)
      failed = 1;
  }
  if (failed) {
    CHECK(cairn_channel_next(&r, &msg, &mlen, &err) < 0);
    CHECK(cairn_channel_feed(&r, in, len, &err) < 0 || len == 0);
  }
  cairn_channel_free(&c);
  cairn_channel_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    if (sodium_init() < 0)
      abort();
    crypto_sign_keypair(client_pk, client_sk);
    crypto_sign_keypair(relay_pk, relay_sk);
    randombytes_buf(net, sizeof net);
    ready = 1;
  }
  if (size == 0)
    return 0;
  size_t step = (size_t)(data[0] >> 2) + 1;
  if (data[0] & 2)
    fuzz_frames(data + 1, size - 1, step);
  else
    fuzz_handshake(data[0] & 1, data + 1, size - 1, step);
  return 0;
}
