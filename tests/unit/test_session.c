/*
 * test_session.c — the sync state machine (protocol/session.c): a client and a
 * relay session wired together in memory go through a whole sync (handshake,
 * peer check, hello, since, entries both ways, acks, caught_up), a refused peer,
 * pings, and every message out of order; a misbehaving peer is told why with an
 * `error` message it can read, and the session refuses everything after.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_test.h"
#include "session.h"

static const cairn_hello_heads_t no_heads = {0, NULL, NULL, NULL, NULL, 0};

typedef struct wire {
  uint8_t cpk[32], csk[64], rpk[32], rsk[64], net[32], epoch[16];
  cairn_session_t c, r;
  msgpack_sbuffer to_relay, to_client;
} wire_t;

static void wire_open(wire_t *w, const char *invite) {
  memset(w, 0, sizeof *w);
  crypto_sign_keypair(w->cpk, w->csk);
  crypto_sign_keypair(w->rpk, w->rsk);
  randombytes_buf(w->net, sizeof w->net);
  randombytes_buf(w->epoch, sizeof w->epoch);
  msgpack_sbuffer_init(&w->to_relay);
  msgpack_sbuffer_init(&w->to_client);
  CAIRN_PASS(cairn_session_client(&w->c, w->csk, w->rpk, w->net, (const uint8_t *)invite,
                                  invite ? strlen(invite) : 0, 0, 4096, &w->to_relay));
  CAIRN_PASS(cairn_session_relay(&w->r, w->rsk, 0, 4096));
}

static void wire_close(wire_t *w) {
  cairn_session_free(&w->c);
  cairn_session_free(&w->r);
  msgpack_sbuffer_destroy(&w->to_relay);
  msgpack_sbuffer_destroy(&w->to_client);
}

/* Deliver what one side wrote to the other, in 7-byte pieces. */
static int deliver(cairn_session_t *to, msgpack_sbuffer *wire, msgpack_sbuffer *reply) {
  cairn_error_t err;
  int rc = 0;
  for (size_t off = 0; rc == 0 && off < wire->size; off += 7) {
    size_t n = wire->size - off < 7 ? wire->size - off : 7;
    rc = cairn_session_feed(to, (uint8_t *)wire->data + off, n, reply, &err);
  }
  wire->size = 0;
  return rc;
}

/* Move bytes both ways until both are quiet; then the next event of `side`. */
static int next_event(wire_t *w, cairn_session_t *side, cairn_event_t *ev) {
  cairn_error_t err;
  for (int round = 0; round < 8; round++) {
    if (w->to_relay.size)
      CAIRN_PASS(deliver(&w->r, &w->to_relay, &w->to_client));
    if (w->to_client.size)
      CAIRN_PASS(deliver(&w->c, &w->to_client, &w->to_relay));
  }
  msgpack_sbuffer *out = side == &w->c ? &w->to_relay : &w->to_client;
  return cairn_session_next(side, ev, out, &err);
}

static void expect(wire_t *w, cairn_session_t *side, cairn_event_type_t type, cairn_event_t *ev) {
  int rc = next_event(w, side, ev);
  if (rc != 1 || ev->type != type)
    fail_msg("expected event %d, got rc %d event %d", (int)type, rc, (int)ev->type);
}

static void connect_accept(wire_t *w, const char *invite) {
  cairn_event_t ev;
  size_t ilen;
  wire_open(w, invite);
  expect(w, &w->r, CAIRN_EV_PEER, &ev);
  assert_memory_equal(cairn_session_peer(&w->r), w->cpk, 32);
  assert_memory_equal(cairn_session_network(&w->r), w->net, 32);
  const uint8_t *inv = cairn_session_invite(&w->r, &ilen);
  if (invite) {
    assert_int_equal(ilen, strlen(invite));
    assert_memory_equal(inv, invite, ilen);
  } else {
    assert_null(inv);
  }
  /* nothing more until the relay decides */
  assert_int_equal(next_event(w, &w->r, &ev), 0);
  assert_int_equal(next_event(w, &w->c, &ev), 0);
  uint8_t hash[32] = {7};
  cairn_hello_heads_t h = {3, hash, NULL, NULL, NULL, 0};
  CAIRN_PASS(cairn_session_accept(&w->r, 1764000000000ull, w->epoch, &h, "editor", &w->to_client));
  expect(w, &w->c, CAIRN_EV_HELLO, &ev);
  assert_memory_equal(ev.msg.u.hello.network, w->net, 32);
  assert_memory_equal(ev.msg.u.hello.epoch, w->epoch, 16);
  assert_int_equal(ev.msg.u.hello.head_seq, 3);
  assert_memory_equal(ev.msg.u.hello.role, "editor", 6);
}

static void test_whole_sync(void **state) {
  wire_t w;
  cairn_event_t ev;
  cairn_cursor_t cur;
  cairn_error_t err;
  (void)state;
  connect_accept(&w, "invite-code-123");
  /* client: since its cursor */
  memcpy(cur.epoch, w.epoch, 16);
  cur.arrival = 41;
  CAIRN_PASS(cairn_session_since(&w.c, &cur, NULL, NULL, 0, &w.to_relay));
  expect(&w, &w.r, CAIRN_EV_SINCE, &ev);
  assert_memory_equal(ev.msg.u.since.epoch, w.epoch, 16);
  assert_int_equal(ev.msg.u.since.arrival, 41);
  /* relay streams two batches, then caught_up */
  cairn_entry_batch_t b = {0};
  CAIRN_PASS(cairn_entry_batch_add(&b, (const uint8_t *)"entry-42", 8));
  CAIRN_PASS(cairn_entry_batch_add(&b, (const uint8_t *)"entry-43", 8));
  CAIRN_PASS(cairn_session_send_entries(&w.r, 43, &b, &w.to_client));
  cairn_entry_batch_free(&b);
  CAIRN_PASS(cairn_session_caught_up(&w.r, 43, &w.to_client));
  expect(&w, &w.c, CAIRN_EV_ENTRIES, &ev);
  assert_int_equal(ev.msg.u.entries.cursor, 43);
  assert_int_equal(ev.msg.u.entries.count, 2);
  cairn_msg_iter_t it;
  const uint8_t *e;
  size_t len;
  cairn_msg_entries(&ev.msg, &it);
  assert_int_equal(cairn_msg_entry_next(&it, &e, &len), 1);
  assert_memory_equal(e, "entry-42", 8);
  expect(&w, &w.c, CAIRN_EV_CAUGHT_UP, &ev);
  assert_int_equal(ev.msg.u.caught_up.cursor, 43);
  CAIRN_PASS(cairn_session_ack(&w.c, 0, 43, &w.to_relay));
  expect(&w, &w.r, CAIRN_EV_ACK, &ev);
  assert_int_equal(ev.msg.u.ack.cursor, 43);
  /* client pushes its own entries; the relay acks them */
  cairn_entry_batch_t mine = {0};
  CAIRN_PASS(cairn_entry_batch_add(&mine, (const uint8_t *)"my-entry-4", 10));
  CAIRN_PASS(cairn_session_send_entries(&w.c, 0, &mine, &w.to_relay));
  cairn_entry_batch_free(&mine);
  CAIRN_PASS(cairn_session_caught_up(&w.c, 0, &w.to_relay));
  expect(&w, &w.r, CAIRN_EV_ENTRIES, &ev);
  assert_int_equal(ev.msg.u.entries.count, 1);
  expect(&w, &w.r, CAIRN_EV_CAUGHT_UP, &ev);
  CAIRN_PASS(cairn_session_ack(&w.r, 4, 0, &w.to_client));
  expect(&w, &w.c, CAIRN_EV_ACK, &ev);
  assert_int_equal(ev.msg.u.ack.own_seq, 4);
  /* pings are answered inside the session */
  CAIRN_PASS(cairn_session_ping(&w.c, 99, &w.to_relay));
  CAIRN_PASS(deliver(&w.r, &w.to_relay, &w.to_client));
  assert_int_equal(cairn_session_next(&w.r, &ev, &w.to_client, &err), 0);
  /* the relay wrote a pong carrying the nonce: open it with the client's channel */
  const uint8_t *msg;
  size_t mlen;
  cairn_msg_t pong;
  CAIRN_PASS(cairn_channel_feed(&w.c.ch, (uint8_t *)w.to_client.data, w.to_client.size, &err));
  w.to_client.size = 0;
  assert_int_equal(cairn_channel_next(&w.c.ch, &msg, &mlen, &err), 1);
  CAIRN_PASS(cairn_msg_decode(msg, mlen, 1024, &pong));
  assert_int_equal(pong.type, CAIRN_MSG_PONG);
  assert_int_equal(pong.u.ping.nonce, 99);
  assert_false(cairn_session_closed(&w.c));
  assert_false(cairn_session_closed(&w.r));
  wire_close(&w);
}

static void test_rejected_peer(void **state) {
  wire_t w;
  cairn_event_t ev;
  cairn_error_t err;
  (void)state;
  wire_open(&w, NULL);
  expect(&w, &w.r, CAIRN_EV_PEER, &ev);
  CAIRN_PASS(cairn_session_reject(&w.r, CAIRN_ENOTMEMBER, "not a member of this network",
                                  &w.to_client));
  assert_true(cairn_session_closed(&w.r));
  expect(&w, &w.c, CAIRN_EV_ERROR, &ev);
  assert_int_equal(ev.msg.u.error.code, CAIRN_ENOTMEMBER);
  assert_int_equal(ev.msg.u.error.text_len, strlen("not a member of this network"));
  assert_true(cairn_session_closed(&w.c));
  assert_true(cairn_session_next(&w.c, &ev, &w.to_relay, &err) < 0);
  assert_true(cairn_session_feed(&w.c, (const uint8_t *)"x", 1, &w.to_relay, &err) < 0);
  CAIRN_FAIL(cairn_session_since(&w.c, NULL, NULL, NULL, 0, &w.to_relay), CAIRN_EINVAL);
  wire_close(&w);
}

/* A plaintext message injected as if from the peer must be refused with code;
 * the peer then reads an error with that code. */
static void refused(wire_t *w, cairn_session_t *side, const uint8_t *msg, size_t len, int code) {
  cairn_event_t ev;
  cairn_error_t err;
  msgpack_sbuffer *out = side == &w->c ? &w->to_relay : &w->to_client;
  cairn_session_t *peer = side == &w->c ? &w->r : &w->c;
  CAIRN_FAIL(cairn__session_message(side, msg, len, &ev, out, &err), code);
  assert_true(cairn_session_closed(side));
  expect(w, peer, CAIRN_EV_ERROR, &ev);
  assert_int_equal(ev.msg.u.error.code, code);
}

static void test_out_of_order(void **state) {
  static const uint8_t since[] = {0x94, 0x02, 0xc0, 0x00, 0x90};
  static const uint8_t ack[] = {0x93, 0x04, 0x00, 0x00};
  static const uint8_t garbage[] = {0xc1};
  msgpack_sbuffer sb;
  wire_t w;
  cairn_event_t ev;
  (void)state;
  msgpack_sbuffer_init(&sb);
  /* a client is sent `since` */
  connect_accept(&w, NULL);
  refused(&w, &w.c, since, sizeof since, CAIRN_EPROTO);
  wire_close(&w);
  /* a relay is sent a hello */
  connect_accept(&w, NULL);
  CAIRN_PASS(cairn_msg_hello(&sb, w.net, 1, w.epoch, &no_heads, "owner"));
  refused(&w, &w.r, (uint8_t *)sb.data, sb.size, CAIRN_EPROTO);
  wire_close(&w);
  /* a relay is sent `since` twice */
  connect_accept(&w, NULL);
  CAIRN_PASS(cairn_session_since(&w.c, NULL, NULL, NULL, 0, &w.to_relay));
  expect(&w, &w.r, CAIRN_EV_SINCE, &ev);
  refused(&w, &w.r, since, sizeof since, CAIRN_EPROTO);
  wire_close(&w);
  /* a client is sent an ack before its hello */
  wire_open(&w, NULL);
  expect(&w, &w.r, CAIRN_EV_PEER, &ev);
  CAIRN_PASS(cairn_session_accept(&w.r, 1, w.epoch, &no_heads, "viewer", &w.to_client));
  CAIRN_PASS(deliver(&w.c, &w.to_client, &w.to_relay));
  /* the hello is buffered but not yet read: an ack read first is out of order */
  refused(&w, &w.c, ack, sizeof ack, CAIRN_EPROTO);
  wire_close(&w);
  /* garbage, and an entry over the size limit */
  connect_accept(&w, NULL);
  refused(&w, &w.r, garbage, sizeof garbage, CAIRN_EMALFORMED);
  wire_close(&w);
  connect_accept(&w, NULL);
  uint8_t *big = calloc(1, 5000);
  cairn_buf_t b = {big, 5000};
  sb.size = 0;
  CAIRN_PASS(cairn_msg_entries_begin(&sb, 0, 1));
  CAIRN_PASS(cairn_msg_entries_add(&sb, b.data, b.len));
  refused(&w, &w.r, (uint8_t *)sb.data, sb.size, CAIRN_ETOOBIG);
  free(big);
  wire_close(&w);
  msgpack_sbuffer_destroy(&sb);
}

/* Calls that do not fit the state or the side are refused and change nothing. */
static void test_wrong_calls(void **state) {
  wire_t w;
  cairn_event_t ev;
  cairn_entry_batch_t b = {0};
  (void)state;
  CAIRN_PASS(cairn_entry_batch_add(&b, (const uint8_t *)"e", 1));
  wire_open(&w, NULL);
  /* before the handshake */
  CAIRN_FAIL(cairn_session_accept(&w.r, 1, w.epoch, &no_heads, "owner", &w.to_client), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_session_send_entries(&w.c, 0, &b, &w.to_relay), CAIRN_EINVAL);
  expect(&w, &w.r, CAIRN_EV_PEER, &ev);
  CAIRN_FAIL(cairn_session_send_entries(&w.r, 1, &b, &w.to_client), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_session_accept(&w.c, 1, w.epoch, &no_heads, "owner", &w.to_relay), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_session_reject(&w.r, 5, "positive", &w.to_client), CAIRN_EINVAL);
  CAIRN_PASS(cairn_session_accept(&w.r, 1, w.epoch, &no_heads, "owner", &w.to_client));
  CAIRN_FAIL(cairn_session_accept(&w.r, 1, w.epoch, &no_heads, "owner", &w.to_client), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_session_since(&w.r, NULL, NULL, NULL, 0, &w.to_client), CAIRN_EINVAL);
  expect(&w, &w.c, CAIRN_EV_HELLO, &ev);
  CAIRN_FAIL(cairn_session_send_entries(&w.c, 7, &b, &w.to_relay), CAIRN_EINVAL);
  assert_int_equal(w.to_relay.size, 0);
  cairn_entry_batch_free(&b);
  wire_close(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_sync),
      cmocka_unit_test(test_rejected_peer),
      cmocka_unit_test(test_out_of_order),
      cmocka_unit_test(test_wrong_calls),
  };
  if (cairn_core_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
