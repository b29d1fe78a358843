/*
 * test_channel.c — the secure channel (protocol/channel.c): the handshake between
 * a client and a relay over in-memory byte streams cut at every possible place,
 * what each side learns, every way a handshake is refused (a relay that is not the
 * pinned key, a tampered or truncated message, another version, garbage), and
 * frames (round trips, tampering, replay, reordering, oversize, pipelining).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_test.h"
#include "channel.h"

typedef struct party {
  uint8_t pk[CAIRN_KEY_BYTES], sk[CAIRN_SECRET_BYTES];
} party_t;

typedef struct pair {
  party_t client, relay;
  uint8_t network[CAIRN_KEY_BYTES];
  cairn_hs_t c, r;
  cairn_channel_t cch, rch;
} pair_t;

static void party_init(party_t *p) {
  crypto_sign_keypair(p->pk, p->sk);
}

static void sb_clear(msgpack_sbuffer *sb) {
  sb->size = 0;
}

/* Feed `len` bytes to hs in pieces of `step` (0: all at once); returns the last
 * result; *used_total is what the handshake consumed. */
static int feed_steps(cairn_hs_t *hs, const uint8_t *in, size_t len, size_t step,
                      size_t *used_total, msgpack_sbuffer *out, cairn_error_t *err) {
  size_t off = 0;
  int rc = 0;
  *used_total = 0;
  while (off < len) {
    size_t n = step == 0 || len - off < step ? len - off : step, used;
    rc = cairn_hs_feed(hs, in + off, n, &used, out, err);
    *used_total += used;
    if (rc != 0)
      return rc;
    assert_int_equal(used, n); /* before the end, everything is taken */
    off += n;
  }
  return rc;
}

/*
 * A whole handshake with messages cut into pieces of `step` bytes; invite may be
 * NULL. Ends with both channels established.
 */
static void handshake(pair_t *p, size_t step, const uint8_t *invite, size_t invite_len) {
  msgpack_sbuffer m1, m2, m3;
  cairn_error_t err;
  size_t used;
  msgpack_sbuffer_init(&m1);
  msgpack_sbuffer_init(&m2);
  msgpack_sbuffer_init(&m3);
  CAIRN_PASS(cairn_hs_client(&p->c, p->client.sk, p->relay.pk, p->network, invite, invite_len,
                             0, &m1));
  CAIRN_PASS(cairn_hs_relay(&p->r, p->relay.sk, 0));
  assert_int_equal(m1.size, 40);
  assert_int_equal(feed_steps(&p->r, (uint8_t *)m1.data, m1.size, step, &used, &m2, &err), 0);
  assert_true(m2.size > 40 + 24);
  assert_int_equal(feed_steps(&p->c, (uint8_t *)m2.data, m2.size, step, &used, &m3, &err), 1);
  assert_int_equal(used, m2.size);
  assert_int_equal(feed_steps(&p->r, (uint8_t *)m3.data, m3.size, step, &used, &m2, &err), 1);
  assert_int_equal(used, m3.size);
  assert_memory_equal(p->r.peer_pk, p->client.pk, CAIRN_KEY_BYTES);
  assert_memory_equal(p->r.network, p->network, CAIRN_KEY_BYTES);
  assert_int_equal(p->r.invite_len, invite_len);
  if (invite_len)
    assert_memory_equal(p->r.invite, invite, invite_len);
  cairn_hs_channel(&p->c, &p->cch);
  cairn_hs_channel(&p->r, &p->rch);
  msgpack_sbuffer_destroy(&m1);
  msgpack_sbuffer_destroy(&m2);
  msgpack_sbuffer_destroy(&m3);
}

static void pair_init(pair_t *p) {
  memset(p, 0, sizeof *p);
  party_init(&p->client);
  party_init(&p->relay);
  randombytes_buf(p->network, sizeof p->network);
}

static void pair_free(pair_t *p) {
  cairn_channel_free(&p->cch);
  cairn_channel_free(&p->rch);
}

/* Send msg from one channel to the other, fed `step` bytes at a time. */
static void transfer(cairn_channel_t *from, cairn_channel_t *to, const char *msg, size_t step) {
  msgpack_sbuffer f;
  cairn_error_t err;
  const uint8_t *got;
  size_t len, n = strlen(msg);
  msgpack_sbuffer_init(&f);
  CAIRN_PASS(cairn_channel_seal(from, (const uint8_t *)msg, n, &f));
  assert_int_equal(f.size, 4 + n + CAIRN_FRAME_OVERHEAD);
  for (size_t off = 0; off < f.size;) {
    size_t k = step == 0 || f.size - off < step ? f.size - off : step;
    assert_int_equal(cairn_channel_next(to, &got, &len, &err), 0);
    CAIRN_PASS(cairn_channel_feed(to, (uint8_t *)f.data + off, k, &err));
    off += k;
  }
  assert_int_equal(cairn_channel_next(to, &got, &len, &err), 1);
  assert_int_equal(len, n);
  assert_memory_equal(got, msg, n);
  assert_int_equal(cairn_channel_next(to, &got, &len, &err), 0);
  msgpack_sbuffer_destroy(&f);
}

static void test_handshake_every_split(void **state) {
  static const size_t steps[] = {0, 1, 2, 3, 7, 8, 39, 40, 41, 64, 100};
  const uint8_t invite[] = "an invite token";
  (void)state;
  for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
    pair_t p;
    pair_init(&p);
    handshake(&p, steps[i], i % 2 ? invite : NULL, i % 2 ? sizeof invite : 0);
    transfer(&p.cch, &p.rch, "client to relay", steps[i]);
    transfer(&p.rch, &p.cch, "relay to client", steps[i]);
    transfer(&p.cch, &p.rch, "and again", steps[i]);
    pair_free(&p);
  }
}

/* Many frames in one buffer come out one by one, in order. */
static void test_frames_in_one_buffer(void **state) {
  pair_t p;
  msgpack_sbuffer f;
  cairn_error_t err;
  const uint8_t *got;
  size_t len;
  char msg[32];
  (void)state;
  pair_init(&p);
  handshake(&p, 0, NULL, 0);
  msgpack_sbuffer_init(&f);
  for (int i = 0; i < 100; i++) {
    snprintf(msg, sizeof msg, "message %d", i);
    CAIRN_PASS(cairn_channel_seal(&p.rch, (const uint8_t *)msg, strlen(msg), &f));
  }
  CAIRN_PASS(cairn_channel_feed(&p.cch, (uint8_t *)f.data, f.size, &err));
  for (int i = 0; i < 100; i++) {
    snprintf(msg, sizeof msg, "message %d", i);
    assert_int_equal(cairn_channel_next(&p.cch, &got, &len, &err), 1);
    assert_int_equal(len, strlen(msg));
    assert_memory_equal(got, msg, len);
  }
  assert_int_equal(cairn_channel_next(&p.cch, &got, &len, &err), 0);
  msgpack_sbuffer_destroy(&f);
  pair_free(&p);
}

/* A client talking to a relay that is not the one it pinned learns so, names
 * both keys, and sends nothing of its own. */
static void test_wrong_relay_key(void **state) {
  pair_t p;
  party_t impostor;
  msgpack_sbuffer m1, m2, m3;
  cairn_error_t err;
  size_t used;
  char hex[65];
  (void)state;
  pair_init(&p);
  party_init(&impostor);
  msgpack_sbuffer_init(&m1);
  msgpack_sbuffer_init(&m2);
  msgpack_sbuffer_init(&m3);
  CAIRN_PASS(cairn_hs_client(&p.c, p.client.sk, p.relay.pk, p.network, NULL, 0, 0, &m1));
  CAIRN_PASS(cairn_hs_relay(&p.r, impostor.sk, 0));
  assert_int_equal(cairn_hs_feed(&p.r, (uint8_t *)m1.data, m1.size, &used, &m2, &err), 0);
  CAIRN_FAIL(cairn_hs_feed(&p.c, (uint8_t *)m2.data, m2.size, &used, &m3, &err), CAIRN_EAUTH);
  assert_int_equal(err.code, CAIRN_EAUTH);
  assert_non_null(strstr(err.msg, cairn_hex(p.relay.pk, 32, hex)));
  assert_non_null(strstr(err.msg, cairn_hex(impostor.pk, 32, hex)));
  assert_int_equal(m3.size, 0);
  /* a failed handshake stays failed */
  assert_true(cairn_hs_feed(&p.c, (uint8_t *)m2.data, 1, &used, &m3, &err) < 0);
  cairn_hs_free(&p.c);
  cairn_hs_free(&p.r);
  msgpack_sbuffer_destroy(&m1);
  msgpack_sbuffer_destroy(&m2);
  msgpack_sbuffer_destroy(&m3);
}

/* Run a handshake, flipping one bit at `at` of message `which` (1, 2 or 3):
 * returns the first negative result, 0 if a side still waits, 1 if the handshake
 * completed, or 2 if `at` is past the end of that message (nothing flipped). */
static int tampered_handshake(size_t which, size_t at, uint8_t bit, cairn_error_t *err) {
  pair_t p;
  msgpack_sbuffer m[4];
  size_t used;
  int rc;
  pair_init(&p);
  for (int i = 1; i <= 3; i++)
    msgpack_sbuffer_init(&m[i]);
  CAIRN_PASS(cairn_hs_client(&p.c, p.client.sk, p.relay.pk, p.network, NULL, 0, 0, &m[1]));
  CAIRN_PASS(cairn_hs_relay(&p.r, p.relay.sk, 0));
  /* msg1 to the relay, msg2 to the client, msg3 to the relay */
  cairn_hs_t *to[3] = {&p.r, &p.c, &p.r};
  msgpack_sbuffer *in[3] = {&m[1], &m[2], &m[3]}, *reply[3] = {&m[2], &m[3], &m[2]};
  rc = 0;
  for (size_t i = 0; i < 3 && rc >= 0; i++) {
    if (which == i + 1 && at >= in[i]->size) {
      rc = 2;
      break;
    }
    if (which == i + 1)
      in[i]->data[at] ^= (char)bit;
    rc = cairn_hs_feed(to[i], (uint8_t *)in[i]->data, in[i]->size, &used, reply[i], err);
  }
  cairn_hs_free(&p.c);
  cairn_hs_free(&p.r);
  for (int i = 1; i <= 3; i++)
    msgpack_sbuffer_destroy(&m[i]);
  return rc;
}

/* A bit flipped anywhere in msg1, msg2 or msg3 ends the handshake in an error:
 * the transcript both identities sign covers msg1 and the head of msg2 as each
 * side saw them (reserved bytes included), and the rest is authenticated
 * encryption. A longer frame length only makes a side wait (the relay's
 * handshake timeout ends that). */
static void test_tampered_handshake(void **state) {
  cairn_error_t err;
  (void)state;
  for (size_t which = 1; which <= 3; which++) {
    for (size_t at = 0; at < 600; at++) {
      int rc = tampered_handshake(which, at, 0x01, &err);
      if (rc == 2)
        break; /* past the end of the message */
      size_t len_at = which == 2 ? 64 : 24; /* where the auth frame's length is */
      if (rc == 0 && which != 1 && at >= len_at && at < len_at + 4)
        continue; /* a longer length: it waits for bytes that never come (timeout) */
      if (rc != CAIRN_EAUTH && rc != CAIRN_EMALFORMED && rc != CAIRN_EVERSION)
        fail_msg("flipping a bit of msg%zu at byte %zu gave %s", which, at, cairn_err_name(rc));
    }
  }
}

static void test_version_and_garbage(void **state) {
  pair_t p;
  msgpack_sbuffer m1, m2, m3;
  cairn_error_t err;
  size_t used;
  uint8_t other[8] = {'C', 'A', 'I', 'R', 'N', 9, 0, 0};
  (void)state;
  pair_init(&p);
  msgpack_sbuffer_init(&m1);
  msgpack_sbuffer_init(&m2);
  msgpack_sbuffer_init(&m3);
  /* a relay speaking version 9 answers the client with its prologue alone */
  CAIRN_PASS(cairn_hs_client(&p.c, p.client.sk, p.relay.pk, p.network, NULL, 0, 0, &m1));
  CAIRN_FAIL(cairn_hs_feed(&p.c, other, sizeof other, &used, &m3, &err), CAIRN_EVERSION);
  assert_non_null(strstr(err.msg, "version 9"));
  cairn_hs_free(&p.c);
  /* a client speaking version 9: the relay refuses and says which version it speaks */
  CAIRN_PASS(cairn_hs_relay(&p.r, p.relay.sk, 0));
  uint8_t m1v9[40] = {'C', 'A', 'I', 'R', 'N', 9};
  CAIRN_FAIL(cairn_hs_feed(&p.r, m1v9, sizeof m1v9, &used, &m2, &err), CAIRN_EVERSION);
  assert_int_equal(m2.size, 8);
  assert_int_equal((uint8_t)m2.data[5], CAIRN_PROTO_VERSION);
  cairn_hs_free(&p.r);
  /* not cairn at all */
  CAIRN_PASS(cairn_hs_relay(&p.r, p.relay.sk, 0));
  const char *http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n..............";
  CAIRN_FAIL(cairn_hs_feed(&p.r, (const uint8_t *)http, strlen(http), &used, &m2, &err),
             CAIRN_EMALFORMED);
  cairn_hs_free(&p.r);
  /* a msg3 whose auth frame claims more than an auth message may hold */
  sb_clear(&m1);
  sb_clear(&m2);
  CAIRN_PASS(cairn_hs_client(&p.c, p.client.sk, p.relay.pk, p.network, NULL, 0, 0, &m1));
  CAIRN_PASS(cairn_hs_relay(&p.r, p.relay.sk, 0));
  assert_int_equal(cairn_hs_feed(&p.r, (uint8_t *)m1.data, m1.size, &used, &m2, &err), 0);
  uint8_t big[24 + 4] = {0};
  big[24] = 0x7f;
  CAIRN_FAIL(cairn_hs_feed(&p.r, big, sizeof big, &used, &m2, &err), CAIRN_EMALFORMED);
  cairn_hs_free(&p.c);
  cairn_hs_free(&p.r);
  msgpack_sbuffer_destroy(&m1);
  msgpack_sbuffer_destroy(&m2);
  msgpack_sbuffer_destroy(&m3);
}

/* The client may send its first message right behind msg3: the relay's handshake
 * stops at the end of msg3 and the rest goes to the channel. */
static void test_pipelined_after_handshake(void **state) {
  pair_t p;
  msgpack_sbuffer m1, m2, m3;
  cairn_error_t err;
  const uint8_t *got;
  size_t used, len;
  (void)state;
  pair_init(&p);
  msgpack_sbuffer_init(&m1);
  msgpack_sbuffer_init(&m2);
  msgpack_sbuffer_init(&m3);
  CAIRN_PASS(cairn_hs_client(&p.c, p.client.sk, p.relay.pk, p.network, NULL, 0, 0, &m1));
  CAIRN_PASS(cairn_hs_relay(&p.r, p.relay.sk, 0));
  assert_int_equal(cairn_hs_feed(&p.r, (uint8_t *)m1.data, m1.size, &used, &m2, &err), 0);
  assert_int_equal(cairn_hs_feed(&p.c, (uint8_t *)m2.data, m2.size, &used, &m3, &err), 1);
  size_t msg3_len = m3.size;
  cairn_hs_channel(&p.c, &p.cch);
  CAIRN_PASS(cairn_channel_seal(&p.cch, (const uint8_t *)"since", 5, &m3));
  assert_int_equal(cairn_hs_feed(&p.r, (uint8_t *)m3.data, m3.size, &used, &m2, &err), 1);
  assert_int_equal(used, msg3_len);
  cairn_hs_channel(&p.r, &p.rch);
  CAIRN_PASS(cairn_channel_feed(&p.rch, (uint8_t *)m3.data + used, m3.size - used, &err));
  assert_int_equal(cairn_channel_next(&p.rch, &got, &len, &err), 1);
  assert_int_equal(len, 5);
  assert_memory_equal(got, "since", 5);
  msgpack_sbuffer_destroy(&m1);
  msgpack_sbuffer_destroy(&m2);
  msgpack_sbuffer_destroy(&m3);
  pair_free(&p);
}

/* Frames changed in flight, replayed, reordered, dropped, oversize or empty. */
static void test_bad_frames(void **state) {
  msgpack_sbuffer a, b;
  cairn_error_t err;
  const uint8_t *got;
  size_t len;
  (void)state;
  msgpack_sbuffer_init(&a);
  msgpack_sbuffer_init(&b);
  for (int what = 0; what < 6; what++) {
    pair_t p;
    pair_init(&p);
    handshake(&p, 0, NULL, 0);
    sb_clear(&a);
    sb_clear(&b);
    CAIRN_PASS(cairn_channel_seal(&p.cch, (const uint8_t *)"first", 5, &a));
    CAIRN_PASS(cairn_channel_seal(&p.cch, (const uint8_t *)"second", 6, &b));
    int want = CAIRN_EAUTH;
    switch (what) {
    case 0: /* a ciphertext byte changed */
      a.data[7] ^= 0x20;
      CAIRN_PASS(cairn_channel_feed(&p.rch, (uint8_t *)a.data, a.size, &err));
      break;
    case 1: /* reordered */
      CAIRN_PASS(cairn_channel_feed(&p.rch, (uint8_t *)b.data, b.size, &err));
      break;
    case 2: /* replayed: the first frame twice */
      CAIRN_PASS(cairn_channel_feed(&p.rch, (uint8_t *)a.data, a.size, &err));
      assert_int_equal(cairn_channel_next(&p.rch, &got, &len, &err), 1);
      CAIRN_PASS(cairn_channel_feed(&p.rch, (uint8_t *)a.data, a.size, &err));
      break;
    case 3: /* the length changed: the frame is cut short */
      a.data[3] = (char)(a.data[3] - 1);
      a.size--;
      CAIRN_PASS(cairn_channel_feed(&p.rch, (uint8_t *)a.data, a.size, &err));
      break;
    case 4: { /* a header announcing more than max_frame, refused at once */
      uint8_t h[4] = {0x7f, 0xff, 0xff, 0xff};
      CAIRN_FAIL(cairn_channel_feed(&p.rch, h, sizeof h, &err), CAIRN_ETOOBIG);
      want = CAIRN_EPROTO; /* and the channel stays failed */
      break;
    }
    case 5: { /* a frame shorter than its tag */
      uint8_t h[4] = {0, 0, 0, 3};
      CAIRN_FAIL(cairn_channel_feed(&p.rch, h, sizeof h, &err), CAIRN_EPROTO);
      want = CAIRN_EPROTO;
      break;
    }
    }
    CAIRN_FAIL(cairn_channel_next(&p.rch, &got, &len, &err), want);
    assert_int_equal(err.code, want);
    /* once failed, always failed */
    assert_true(cairn_channel_next(&p.rch, &got, &len, &err) < 0);
    assert_true(cairn_channel_feed(&p.rch, (uint8_t *)b.data, b.size, &err) < 0);
    pair_free(&p);
  }
  msgpack_sbuffer_destroy(&a);
  msgpack_sbuffer_destroy(&b);
}

static void test_frame_limits(void **state) {
  pair_t p;
  msgpack_sbuffer f;
  cairn_error_t err;
  const uint8_t *got;
  size_t len, max = CAIRN_FRAME_MAX_DEFAULT;
  (void)state;
  pair_init(&p);
  handshake(&p, 0, NULL, 0);
  msgpack_sbuffer_init(&f);
  uint8_t *big = calloc(1, max + 1);
  assert_non_null(big);
  CAIRN_FAIL(cairn_channel_seal(&p.cch, big, max + 1, &f), CAIRN_ETOOBIG);
  CAIRN_FAIL(cairn_channel_seal(&p.cch, big, 0, &f), CAIRN_ETOOBIG);
  assert_int_equal(f.size, 0);
  big[max - 1] = 0x5a;
  CAIRN_PASS(cairn_channel_seal(&p.cch, big, max, &f));
  CAIRN_PASS(cairn_channel_feed(&p.rch, (uint8_t *)f.data, f.size, &err));
  assert_int_equal(cairn_channel_next(&p.rch, &got, &len, &err), 1);
  assert_int_equal(len, max);
  assert_int_equal(got[max - 1], 0x5a);
  free(big);
  msgpack_sbuffer_destroy(&f);
  pair_free(&p);
  /* limits on the handshake's arguments */
  cairn_hs_t hs;
  party_t c;
  uint8_t inv[CAIRN_INVITE_MAX + 1] = {0};
  party_init(&c);
  msgpack_sbuffer_init(&f);
  CAIRN_FAIL(cairn_hs_client(&hs, c.sk, c.pk, c.pk, inv, sizeof inv, 0, &f), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_hs_relay(&hs, c.sk, CAIRN_FRAME_MAX_LIMIT + 1), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_hs_relay(&hs, c.sk, 100), CAIRN_EINVAL);
  msgpack_sbuffer_destroy(&f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handshake_every_split),
      cmocka_unit_test(test_frames_in_one_buffer),
      cmocka_unit_test(test_wrong_relay_key),
      cmocka_unit_test(test_tampered_handshake),
      cmocka_unit_test(test_version_and_garbage),
      cmocka_unit_test(test_pipelined_after_handshake),
      cmocka_unit_test(test_bad_frames),
      cmocka_unit_test(test_frame_limits),
  };
  if (cairn_core_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
