/*
 * fuzz_session.c — fuzz target for the sync state machine (protocol/session.c):
 * decrypted messages in any order, as a peer that does not follow the protocol
 * would send them.
 *
 * A client and a relay session are connected by a real in-memory handshake. The
 * first input byte picks the side under test and how far it has got (client
 * before or after hello; relay after accept, before or after since); the rest is
 * a list of messages, each a 2-byte big-endian length and that many bytes, handed
 * to cairn__session_message. Invariants: 0 with an event whose type matches the
 * message, or a negative code after which the session is closed and refuses
 * everything; an error from the peer closes the session; whatever the session
 * sends back decrypts on the other side. Both sessions offer every wire feature,
 * so compact (9) and zstd (10) messages are unwrapped as a peer's would be: one
 * that only ends the peer's zstd frame gives no event. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "session.h"

static uint8_t cpk[32], csk[64], rpk[32], rsk[64], net[32], epoch[16];

static void pump(cairn_session_t *to, msgpack_sbuffer *wire, msgpack_sbuffer *reply) {
  cairn_error_t err;
  CHECK(cairn_session_feed(to, (uint8_t *)wire->data, wire->size, reply, &err) == 0);
  wire->size = 0;
}

/* Connect; `stage` 0: client before hello, 1: client after hello, 2: relay after
 * accept, 3: relay after since. */
static void connect_sessions(cairn_session_t *c, cairn_session_t *r, int stage, msgpack_sbuffer *to_r,
                    msgpack_sbuffer *to_c) {
  cairn_event_t ev;
  cairn_error_t err;
  CHECK(cairn_session_client(c, csk, rpk, net, NULL, 0, 0, 4096, to_r) == 0);
  CHECK(cairn_session_relay(r, rsk, 0, 4096) == 0);
  pump(r, to_r, to_c);
  pump(c, to_c, to_r);
  pump(r, to_r, to_c);
  CHECK(cairn_session_next(r, &ev, to_c, &err) == 1 && ev.type == CAIRN_EV_PEER);
  if (stage == 0)
    return;
  cairn_hello_heads_t h = {0, NULL, NULL, NULL, NULL, 0};
  CHECK(cairn_session_accept(r, 1, epoch, &h, "editor", to_c) == 0);
  pump(c, to_c, to_r);
  CHECK(cairn_session_next(c, &ev, to_r, &err) == 1 && ev.type == CAIRN_EV_HELLO);
  if (stage == 3) {
    CHECK(cairn_session_since(c, NULL, NULL, NULL, 0, to_r) == 0);
    pump(r, to_r, to_c);
    CHECK(cairn_session_next(r, &ev, to_c, &err) == 1 && ev.type == CAIRN_EV_SINCE);
  }
}

static const cairn_event_type_t expected[] = {
    [CAIRN_MSG_HELLO] = CAIRN_EV_HELLO,         [CAIRN_MSG_SINCE] = CAIRN_EV_SINCE,
    [CAIRN_MSG_ENTRIES] = CAIRN_EV_ENTRIES,     [CAIRN_MSG_ACK] = CAIRN_EV_ACK,
    [CAIRN_MSG_CAUGHT_UP] = CAIRN_EV_CAUGHT_UP, [CAIRN_MSG_ERROR] = CAIRN_EV_ERROR,
    [CAIRN_MSG_PING] = CAIRN_EV_NONE,           [CAIRN_MSG_PONG] = CAIRN_EV_NONE,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  cairn_session_t c, r;
  msgpack_sbuffer to_r, to_c;
  cairn_event_t ev;
  cairn_error_t err;
  if (!ready) {
    if (sodium_init() < 0)
      abort();
    crypto_sign_keypair(cpk, csk);
    crypto_sign_keypair(rpk, rsk);
    randombytes_buf(net, sizeof net);
    randombytes_buf(epoch, sizeof epoch);
    ready = 1;
  }
  if (size == 0)
    return 0;
  int stage = data[0] & 3;
  msgpack_sbuffer_init(&to_r);
  msgpack_sbuffer_init(&to_c);
  connect_sessions(&c, &r, stage == 2 ? 1 : stage, &to_r, &to_c);
  cairn_session_t *side = stage <= 1 ? &c : &r, *peer = stage <= 1 ? &r : &c;
  msgpack_sbuffer *out = stage <= 1 ? &to_r : &to_c;
  msgpack_sbuffer *peer_out = stage <= 1 ? &to_c : &to_r;
  size_t off = 1;
  while (off + 2 <= size) {
    size_t len = (size_t)data[off] << 8 | data[off + 1];
    off += 2;
    if (len > size - off)
      len = size - off;
    int rc = cairn__session_message(side, data + off, len, &ev, out, &err);
    off += len;
    if (rc < 0) {
      CHECK(err.code == rc && cairn_session_closed(side));
      CHECK(cairn_session_next(side, &ev, out, &err) < 0);
      break;
    }
    CHECK(rc == 0 && ev.type == expected[ev.msg.type]);
    if (ev.type == CAIRN_EV_ERROR) {
      CHECK(cairn_session_closed(side));
      break;
    }
  }
  /* what the side sent (pongs, an error) reads on the other side */
  if (out->size && stage != 0) {
    CHECK(cairn_session_feed(peer, (uint8_t *)out->data, out->size, peer_out, &err) == 0);
    while (cairn_session_next(peer, &ev, peer_out, &err) == 1)
      ;
  }
  cairn_session_free(&c);
  cairn_session_free(&r);
  msgpack_sbuffer_destroy(&to_r);
  msgpack_sbuffer_destroy(&to_c);
  return 0;
}
