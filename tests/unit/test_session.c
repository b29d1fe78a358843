/*
 * test_session.c — the sync state machine (protocol/session.c): a client and a
 * relay session wired together in memory go through a whole sync (handshake,
 * peer check, hello, since, entries both ways, acks, caught_up), a refused peer,
 * pings, and every message out of order; a misbehaving peer is told why with an
 * `error` message it can read, and the session refuses everything after.
 * Entries in every form the two sides can agree on (compact, compressed, both,
 * neither: a peer of an older build) arrive byte for byte; a compressed frame
 * ends with each burst and its contexts are given back, and a lone small message
 * starts none; a zstd bomb, a window
 * larger than agreed and forms that were not offered are refused.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "cairn_test.h"
#include "session.h"

static const cairn_hello_heads_t no_heads = {0, NULL, NULL, NULL, NULL, 0};

typedef struct wire {
  uint8_t cpk[32], csk[64], rpk[32], rsk[64], net[32], epoch[16];
  cairn_session_t c, r;
  msgpack_sbuffer to_relay, to_client;
} wire_t;

/* A client and a relay offering the wire features cf and rf (CAIRN_WIRE_*), for
 * network net (NULL: a random one). */
static void wire_open_as(wire_t *w, const char *invite, const uint8_t *net, int cf, int rf) {
  memset(w, 0, sizeof *w);
  crypto_sign_keypair(w->cpk, w->csk);
  crypto_sign_keypair(w->rpk, w->rsk);
  if (net != NULL)
    memcpy(w->net, net, sizeof w->net);
  else
    randombytes_buf(w->net, sizeof w->net);
  randombytes_buf(w->epoch, sizeof w->epoch);
  msgpack_sbuffer_init(&w->to_relay);
  msgpack_sbuffer_init(&w->to_client);
  cairn__wire_features_set(cf);
  CAIRN_PASS(cairn_session_client(&w->c, w->csk, w->rpk, w->net, (const uint8_t *)invite,
                                  invite ? strlen(invite) : 0, 0, 4096, &w->to_relay));
  cairn__wire_features_set(rf);
  CAIRN_PASS(cairn_session_relay(&w->r, w->rsk, 0, 4096));
  cairn__wire_features_set(-1);
}

static void wire_open(wire_t *w, const char *invite) {
  wire_open_as(w, invite, NULL, CAIRN_WIRE_ALL, CAIRN_WIRE_ALL);
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

/* Connect (wire_open_as) and let the client in with a hello. */
static void connect_as(wire_t *w, const char *invite, const uint8_t *net, int cf, int rf) {
  cairn_event_t ev;
  size_t ilen;
  wire_open_as(w, invite, net, cf, rf);
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

static void connect_accept(wire_t *w, const char *invite) {
  connect_as(w, invite, NULL, CAIRN_WIRE_ALL, CAIRN_WIRE_ALL);
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

/* ---- the forms of entries ---- */

#define RUN 24

/* A network's genesis and RUN - 1 puts of its owner, signed. */
typedef struct signed_run {
  cairn_test_key_t k;
  uint8_t *e[RUN];
  size_t len[RUN];
} signed_run_t;

static void run_make(signed_run_t *r) {
  uint8_t *ops;
  size_t ops_len;
  char id[16];
  cairn_test_key_init(&r->k, NULL);
  CAIRN_PASS(cairn_test_genesis(&r->k, NULL, "net", &r->e[0], &r->len[0]));
  for (int i = 1; i < RUN; i++) {
    snprintf(id, sizeof id, "n%d", i);
    CAIRN_PASS(cairn_test_ops_put("note", id, "text", "a line of a note", &ops, &ops_len));
    CAIRN_PASS(cairn_test_key_sign(&r->k, ops, ops_len, &r->e[i], &r->len[i]));
    free(ops);
  }
}

static void run_free(signed_run_t *r) {
  for (int i = 0; i < RUN; i++)
    free(r->e[i]);
}

/* Entries [from, to) of r in one message from `from_side`, the last of a burst
 * or not. */
static void send_run(cairn_session_t *from_side, msgpack_sbuffer *out, uint64_t cursor,
                     const signed_run_t *r, int from, int to, bool last) {
  cairn_entry_batch_t b = {0};
  for (int i = from; i < to; i++)
    CAIRN_PASS(cairn_entry_batch_add(&b, r->e[i], r->len[i]));
  b.last = last;
  CAIRN_PASS(cairn_session_send_entries(from_side, cursor, &b, out));
  cairn_entry_batch_free(&b);
}

/* The next event of side is ENTRIES holding exactly r's entries [from, to). */
static void expect_run(wire_t *w, cairn_session_t *side, const signed_run_t *r, int from, int to,
                       bool compact) {
  cairn_event_t ev;
  cairn_msg_iter_t it;
  const uint8_t *e;
  size_t len;
  expect(w, side, CAIRN_EV_ENTRIES, &ev);
  assert_int_equal(ev.msg.u.entries.count, to - from);
  cairn_msg_entries(&ev.msg, &it);
  for (int i = from; i < to; i++) {
    assert_int_equal(cairn_msg_entry_next(&it, &e, &len), 1);
    assert_int_equal(len, r->len[i]);
    assert_memory_equal(e, r->e[i], len);
    if (ev.msg.u.entries.hashes != NULL) {
      uint8_t h[CAIRN_HASH_BYTES];
      cairn_entry_t d;
      CAIRN_PASS(cairn_entry_decode(e, len, CAIRN_ENTRY_MAX_DEFAULT, &d, NULL));
      cairn_entry_hash(&d, h);
      assert_memory_equal(h, ev.msg.u.entries.hashes[i - from], CAIRN_HASH_BYTES);
    }
  }
  assert_int_equal(cairn_msg_entry_next(&it, &e, &len), 0);
  assert_true((ev.msg.u.entries.hashes != NULL) == compact);
}

/* Every pair of what a client and a relay offer (an older build offers
 * nothing): entries cross both ways byte for byte, in the forms both read. */
static void test_negotiated_forms(void **state) {
  static const int offers[] = {CAIRN_WIRE_ALL, 0, CAIRN_WIRE_COMPACT, CAIRN_WIRE_ZSTD};
  signed_run_t r;
  (void)state;
  run_make(&r);
  for (size_t ci = 0; ci < 4; ci++)
    for (size_t ri = 0; ri < 4; ri++) {
      wire_t w;
      cairn_event_t ev;
      int cf = offers[ci], rf = offers[ri];
      connect_as(&w, NULL, r.k.network, cf, rf);
      assert_int_equal(w.c.peer_features, rf);
      assert_int_equal(w.r.peer_features, cf);
      /* the relay streams in two messages, then caught_up */
      send_run(&w.r, &w.to_client, 10, &r, 0, 10, false);
      send_run(&w.r, &w.to_client, RUN, &r, 10, RUN, true);
      assert_null(w.r.zc); /* the burst's last message ended the frame */
      CAIRN_PASS(cairn_session_caught_up(&w.r, RUN, &w.to_client));
      expect_run(&w, &w.c, &r, 0, 10, cf & CAIRN_WIRE_COMPACT);
      expect_run(&w, &w.c, &r, 10, RUN, cf & CAIRN_WIRE_COMPACT);
      expect(&w, &w.c, CAIRN_EV_CAUGHT_UP, &ev);
      assert_null(w.c.zd);
      /* the client pushes; caught_up ends its frame */
      send_run(&w.c, &w.to_relay, 0, &r, 5, RUN, false);
      assert_true((w.c.zc != NULL) == ((rf & CAIRN_WIRE_ZSTD) != 0));
      CAIRN_PASS(cairn_session_caught_up(&w.c, 0, &w.to_relay));
      assert_null(w.c.zc);
      expect_run(&w, &w.r, &r, 5, RUN, rf & CAIRN_WIRE_COMPACT);
      expect(&w, &w.r, CAIRN_EV_CAUGHT_UP, &ev);
      assert_null(w.r.zd);
      /* one live entry starts no frame (zstd would make it longer) */
      send_run(&w.r, &w.to_client, RUN + 1, &r, 3, 4, false);
      assert_null(w.r.zc);
      expect_run(&w, &w.c, &r, 3, 4, cf & CAIRN_WIRE_COMPACT);
      /* what each side counted matches the other's, and saved what it should */
      const cairn_wire_stats_t *rs = cairn_session_wire(&w.r), *cs = cairn_session_wire(&w.c);
      assert_int_equal(rs->sent, cs->received);
      assert_int_equal(rs->plain_sent, cs->plain_received);
      assert_int_equal(cs->sent, rs->received);
      assert_int_equal(cs->plain_sent, rs->plain_received);
      if (cf == 0)
        assert_int_equal(cs->received, cs->plain_received);
      else
        assert_true(cs->received * 10 < cs->plain_received * 7);
      if (rf == 0)
        assert_int_equal(rs->received, rs->plain_received);
      wire_close(&w);
    }
  run_free(&r);
}

/* A zstd message built with a stream like the session's (window 2^wlog); the
 * relay is sent it as if from the client. */
static void zstd_message(const void *src, size_t n, int wlog, ZSTD_EndDirective mode,
                         msgpack_sbuffer *out) {
  ZSTD_CCtx *z = ZSTD_createCCtx();
  size_t cap = ZSTD_compressBound(n) + 64;
  uint8_t *buf = malloc(CAIRN_MSG_ZSTD_HEAD + cap);
  assert_non_null(z);
  assert_non_null(buf);
  assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_windowLog, wlog)));
  ZSTD_inBuffer in = {src, n, 0};
  ZSTD_outBuffer o = {buf + CAIRN_MSG_ZSTD_HEAD, cap, 0};
  assert_int_equal(ZSTD_compressStream2(z, &o, &in, mode), 0);
  size_t head = cairn_msg_zstd_head(buf + CAIRN_MSG_ZSTD_HEAD, o.pos);
  out->size = 0;
  assert_int_equal(msgpack_sbuffer_write(out, (const char *)buf + CAIRN_MSG_ZSTD_HEAD - head,
                                         head + o.pos),
                   0);
  free(buf);
  ZSTD_freeCCtx(z);
}

static void test_refused_forms(void **state) {
  msgpack_sbuffer sb, inner;
  wire_t w;
  cairn_event_t ev;
  cairn_error_t err;
  size_t big = 5u << 20;
  uint8_t *zeros = calloc(1, big);
  (void)state;
  assert_non_null(zeros);
  msgpack_sbuffer_init(&sb);
  msgpack_sbuffer_init(&inner);
  /* a zstd bomb: 5 MiB of zeros in a few hundred bytes, beyond the 4 MiB limit */
  zstd_message(zeros, big, 17, ZSTD_e_flush, &sb);
  assert_true(sb.size < 2048);
  connect_accept(&w, NULL);
  CAIRN_FAIL(cairn__session_message(&w.r, (uint8_t *)sb.data, sb.size, &ev, &w.to_client, &err),
             CAIRN_ETOOBIG);
  assert_non_null(strstr(err.msg, "expands beyond the largest message"));
  expect(&w, &w.c, CAIRN_EV_ERROR, &ev);
  assert_int_equal(ev.msg.u.error.code, CAIRN_ETOOBIG);
  wire_close(&w);
  /* a frame that asks for a window larger than agreed */
  zstd_message(zeros, 1u << 20, 20, ZSTD_e_flush, &sb);
  connect_accept(&w, NULL);
  refused(&w, &w.r, (uint8_t *)sb.data, sb.size, CAIRN_EMALFORMED);
  wire_close(&w);
  /* a compressed message that holds a hello */
  CAIRN_PASS(cairn_msg_hello(&inner, w.net, 1, w.epoch, &no_heads, "owner"));
  zstd_message(inner.data, inner.size, 17, ZSTD_e_flush, &sb);
  connect_accept(&w, NULL);
  refused(&w, &w.r, (uint8_t *)sb.data, sb.size, CAIRN_EMALFORMED);
  wire_close(&w);
  /* garbage in place of zstd */
  static const uint8_t junk[] = {0x92, 0x0a, 0xc4, 0x04, 1, 2, 3, 4};
  connect_accept(&w, NULL);
  refused(&w, &w.r, junk, sizeof junk, CAIRN_EMALFORMED);
  wire_close(&w);
  /* forms a side did not offer: an older relay is sent them */
  inner.size = 0;
  CAIRN_PASS(cairn_msg_compact_begin(&inner, 0, 0));
  connect_as(&w, NULL, NULL, CAIRN_WIRE_ALL, 0);
  refused(&w, &w.r, (uint8_t *)inner.data, inner.size, CAIRN_EPROTO);
  wire_close(&w);
  zstd_message(inner.data, inner.size, 17, ZSTD_e_flush, &sb);
  connect_as(&w, NULL, NULL, CAIRN_WIRE_ALL, CAIRN_WIRE_COMPACT);
  refused(&w, &w.r, (uint8_t *)sb.data, sb.size, CAIRN_EPROTO);
  wire_close(&w);
  /* a compact message with an item that continues nothing */
  inner.size = 0;
  CAIRN_PASS(cairn_msg_compact_begin(&inner, 0, 1));
  static const uint8_t item[] = {0x93, 0xc4, 0x01, 0x00, 0x01, 0x90};
  assert_int_equal(msgpack_sbuffer_write(&inner, (const char *)item, sizeof item), 0);
  connect_accept(&w, NULL);
  refused(&w, &w.r, (uint8_t *)inner.data, inner.size, CAIRN_EMALFORMED);
  wire_close(&w);
  msgpack_sbuffer_destroy(&sb);
  msgpack_sbuffer_destroy(&inner);
  free(zeros);
}

/* A compressed message whose inside fills the receiver's buffer exactly (4096
 * bytes, its first size): taken, as any other. */
static void test_compressed_exact_fit(void **state) {
  msgpack_sbuffer sb, inner;
  wire_t w;
  cairn_event_t ev;
  cairn_error_t err;
  uint8_t body[4089];
  (void)state;
  memset(body, 7, sizeof body);
  msgpack_sbuffer_init(&sb);
  msgpack_sbuffer_init(&inner);
  CAIRN_PASS(cairn_msg_entries_begin(&inner, 0, 1));
  CAIRN_PASS(cairn_msg_entries_add(&inner, body, sizeof body));
  assert_int_equal(inner.size, 4096);
  zstd_message(inner.data, inner.size, 17, ZSTD_e_flush, &sb);
  connect_accept(&w, NULL);
  CAIRN_PASS(cairn__session_message(&w.r, (uint8_t *)sb.data, sb.size, &ev, &w.to_client, &err));
  assert_int_equal(ev.type, CAIRN_EV_ENTRIES);
  assert_int_equal(ev.msg.u.entries.count, 1);
  wire_close(&w);
  msgpack_sbuffer_destroy(&sb);
  msgpack_sbuffer_destroy(&inner);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_sync),
      cmocka_unit_test(test_rejected_peer),
      cmocka_unit_test(test_out_of_order),
      cmocka_unit_test(test_wrong_calls),
      cmocka_unit_test(test_negotiated_forms),
      cmocka_unit_test(test_refused_forms),
      cmocka_unit_test(test_compressed_exact_fit),
  };
  if (cairn_core_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
