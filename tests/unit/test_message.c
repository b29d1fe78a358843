/*
 * test_message.c — the sync messages (protocol/message.c): every encoder's output
 * decodes to what was encoded, the fixed bytes of a few messages match
 * docs/protocol.md, and decode refuses every malformed shape; every truncation
 * and single-bit change of valid messages is decoded or refused, never misread
 * past the buffer (ASan watches).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_test.h"
#include "message.h"

typedef int (*make_fn)(msgpack_sbuffer *out);

static uint8_t net[32], epoch[16], author[3][32];

static uint8_t head_hash[32];

static int make_hello(msgpack_sbuffer *out) {
  uint64_t seqs[2] = {42, 7};
  static uint8_t hashes[2][32] = {{1, 2, 3}, {9}};
  cairn_hello_heads_t h = {42, head_hash, (const uint8_t(*)[32])author, seqs,
                           (const uint8_t(*)[32])hashes, 2};
  return cairn_msg_hello(out, net, 1764000000000ull, epoch, &h, "editor");
}

static int make_since(msgpack_sbuffer *out) {
  cairn_cursor_t c;
  uint64_t seqs[3] = {1, 70000, 1ull << 40};
  memcpy(c.epoch, epoch, sizeof epoch);
  c.arrival = 123456789;
  return cairn_msg_since(out, &c, (const uint8_t(*)[32])author, seqs, 3);
}

static int make_since_heads_only(msgpack_sbuffer *out) {
  return cairn_msg_since(out, NULL, NULL, NULL, 0);
}

static int make_entries(msgpack_sbuffer *out) {
  static const char *e[] = {"entry one", "e2", "a third, longer entry"};
  int rc = cairn_msg_entries_begin(out, 99, 3);
  for (int i = 0; rc == 0 && i < 3; i++)
    rc = cairn_msg_entries_add(out, (const uint8_t *)e[i], strlen(e[i]));
  return rc;
}

static int make_ack(msgpack_sbuffer *out) {
  return cairn_msg_ack(out, 7, 1000);
}

static int make_caught_up(msgpack_sbuffer *out) {
  return cairn_msg_caught_up(out, 5000000000ull);
}

static int make_error(msgpack_sbuffer *out) {
  return cairn_msg_error(out, CAIRN_ENOTMEMBER, "key 00ff is not a member of this network");
}

static int make_ping(msgpack_sbuffer *out) {
  return cairn_msg_ping(out, CAIRN_MSG_PING, 17);
}

static int make_pong(msgpack_sbuffer *out) {
  return cairn_msg_ping(out, CAIRN_MSG_PONG, 17);
}

static const make_fn makers[] = {make_hello, make_since, make_since_heads_only,
                                 make_entries, make_ack, make_caught_up,
                                 make_error, make_ping, make_pong};
#define NMAKERS (sizeof makers / sizeof *makers)

static void setup_values(void) {
  randombytes_buf(net, sizeof net);
  randombytes_buf(epoch, sizeof epoch);
  randombytes_buf(author, sizeof author);
}

static void test_roundtrips(void **state) {
  msgpack_sbuffer sb;
  cairn_msg_t m;
  cairn_msg_iter_t it;
  const uint8_t *p;
  size_t len;
  uint64_t seq;
  (void)state;
  setup_values();
  msgpack_sbuffer_init(&sb);

  CAIRN_PASS(make_hello(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.type, CAIRN_MSG_HELLO);
  assert_int_equal(m.u.hello.version, CAIRN_SYNC_VERSION);
  assert_memory_equal(m.u.hello.network, net, 32);
  assert_true(m.u.hello.time_ms == 1764000000000ull);
  assert_memory_equal(m.u.hello.epoch, epoch, 16);
  assert_int_equal(m.u.hello.head_seq, 42);
  assert_int_equal(m.u.hello.role_len, 6);
  assert_memory_equal(m.u.hello.role, "editor", 6);
  assert_true(m.u.hello.has_heads);
  assert_memory_equal(m.u.hello.head_hash, head_hash, 32);
  assert_int_equal(m.u.hello.nheads, 2);
  cairn_msg_hello_heads(&m, &it);
  assert_int_equal(cairn_msg_head_next(&it, &p, &seq), 1);
  assert_memory_equal(p, author[0], 32);
  assert_int_equal(seq, 42);
  assert_int_equal(cairn_msg_head_next(&it, &p, &seq), 1);
  assert_memory_equal(p, author[1], 32);
  assert_int_equal(seq, 7);
  assert_int_equal(cairn_msg_head_next(&it, &p, &seq), 0);
  assert_int_equal(cairn_msg_hello_hash(&m, 0)[2], 3); /* each head's hash */
  assert_int_equal(cairn_msg_hello_hash(&m, 1)[0], 9);
  assert_null(cairn_msg_hello_hash(&m, 2));

  /* a relay that sends the older 7-element hello: read, without heads */
  {
    msgpack_sbuffer old;
    msgpack_packer pk;
    msgpack_sbuffer_init(&old);
    msgpack_packer_init(&pk, &old, msgpack_sbuffer_write);
    assert_int_equal(msgpack_pack_array(&pk, 7) | msgpack_pack_uint8(&pk, CAIRN_MSG_HELLO) |
                         msgpack_pack_uint8(&pk, 1) | msgpack_pack_bin_with_body(&pk, net, 32) |
                         msgpack_pack_uint64(&pk, 5) | msgpack_pack_bin_with_body(&pk, epoch, 16) |
                         msgpack_pack_uint64(&pk, 3) | msgpack_pack_str_with_body(&pk, "owner", 5),
                     0);
    CAIRN_PASS(cairn_msg_decode((uint8_t *)old.data, old.size, 1024, &m));
    assert_false(m.u.hello.has_heads);
    assert_null(m.u.hello.head_hash);
    assert_int_equal(m.u.hello.head_seq, 3);
    msgpack_sbuffer_destroy(&old);
  }

  sb.size = 0;
  CAIRN_PASS(make_since(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.type, CAIRN_MSG_SINCE);
  assert_memory_equal(m.u.since.epoch, epoch, 16);
  assert_int_equal(m.u.since.arrival, 123456789);
  assert_int_equal(m.u.since.nheads, 3);
  cairn_msg_heads(&m, &it);
  uint64_t want[3] = {1, 70000, 1ull << 40};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cairn_msg_head_next(&it, &p, &seq), 1);
    assert_memory_equal(p, author[i], 32);
    assert_true(seq == want[i]);
  }
  assert_int_equal(cairn_msg_head_next(&it, &p, &seq), 0);

  sb.size = 0;
  CAIRN_PASS(make_since_heads_only(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_null(m.u.since.epoch);
  assert_int_equal(m.u.since.nheads, 0);

  sb.size = 0;
  CAIRN_PASS(make_entries(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.type, CAIRN_MSG_ENTRIES);
  assert_int_equal(m.u.entries.cursor, 99);
  assert_int_equal(m.u.entries.count, 3);
  cairn_msg_entries(&m, &it);
  static const char *e[] = {"entry one", "e2", "a third, longer entry"};
  for (int i = 0; i < 3; i++) {
    assert_int_equal(cairn_msg_entry_next(&it, &p, &len), 1);
    assert_int_equal(len, strlen(e[i]));
    assert_memory_equal(p, e[i], len);
  }
  assert_int_equal(cairn_msg_entry_next(&it, &p, &len), 0);
  /* an entry over the limit */
  CAIRN_FAIL(cairn_msg_decode((uint8_t *)sb.data, sb.size, 20, &m), CAIRN_ETOOBIG);

  sb.size = 0;
  CAIRN_PASS(make_ack(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.type, CAIRN_MSG_ACK);
  assert_int_equal(m.u.ack.own_seq, 7);
  assert_int_equal(m.u.ack.cursor, 1000);

  sb.size = 0;
  CAIRN_PASS(make_caught_up(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.type, CAIRN_MSG_CAUGHT_UP);
  assert_true(m.u.caught_up.cursor == 5000000000ull);

  sb.size = 0;
  CAIRN_PASS(make_error(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.type, CAIRN_MSG_ERROR);
  assert_int_equal(m.u.error.code, CAIRN_ENOTMEMBER);
  assert_int_equal(m.u.error.text_len, strlen("key 00ff is not a member of this network"));

  sb.size = 0;
  CAIRN_PASS(make_pong(&sb));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.type, CAIRN_MSG_PONG);
  assert_int_equal(m.u.ping.nonce, 17);
  msgpack_sbuffer_destroy(&sb);
}

/* Exact bytes, as docs/protocol.md gives them. */
static void test_fixed_bytes(void **state) {
  msgpack_sbuffer sb;
  (void)state;
  msgpack_sbuffer_init(&sb);
  CAIRN_PASS(cairn_msg_ack(&sb, 7, 1000));
  static const uint8_t ack[] = {0x93, 0x04, 0x07, 0xcd, 0x03, 0xe8};
  assert_int_equal(sb.size, sizeof ack);
  assert_memory_equal(sb.data, ack, sizeof ack);
  sb.size = 0;
  CAIRN_PASS(cairn_msg_ping(&sb, CAIRN_MSG_PING, 1));
  static const uint8_t ping[] = {0x92, 0x07, 0x01};
  assert_int_equal(sb.size, sizeof ping);
  assert_memory_equal(sb.data, ping, sizeof ping);
  sb.size = 0;
  CAIRN_PASS(cairn_msg_error(&sb, CAIRN_EFORBIDDEN, "no"));
  static const uint8_t error[] = {0x93, 0x06, 0xf1, 0xa2, 'n', 'o'};
  assert_int_equal(sb.size, sizeof error);
  assert_memory_equal(sb.data, error, sizeof error);
  msgpack_sbuffer_destroy(&sb);
}

static int hexval(char c) {
  return c <= '9' ? c - '0' : c - 'a' + 10;
}

static size_t unhex(const char *s, uint8_t *out) {
  size_t n = 0;
  while (*s) {
    if (*s == ' ') {
      s++;
      continue;
    }
    out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
    s += 2;
  }
  return n;
}

static void test_refused(void **state) {
  static const char *const bad[] = {
      "",                       /* nothing */
      "c0",                     /* not an array */
      "90",                     /* empty array */
      "91 00",                  /* type 0 */
      "91 09",                  /* type 9 */
      "91 ff",                  /* negative type */
      "91 a1 31",               /* type as a string */
      "92 07",                  /* ping without its nonce (count larger than bytes) */
      "91 07",                  /* ping, arity 1 */
      "93 07 01 02",            /* ping, arity 3 */
      "92 07 ff",               /* negative nonce */
      "92 07 01 00",            /* trailing byte */
      "93 06 01 a1 78",         /* error with a positive code */
      "93 06 00 a1 78",         /* error with code 0 */
      "93 06 ff c4 01 78",      /* error text as a bin */
      "93 04 01",               /* ack without its cursor */
      "93 03 00 91 a1 78",      /* entries: an entry as a string */
      "93 03 00 91 c4 00",      /* entries: an empty entry */
      "93 03 00 92 c4 01 78",   /* entries: count larger than the list */
      "94 02 c0 00 91 92 c4 01 78 01", /* since: a head whose author is 1 byte */
      "94 02 c4 01 00 00 90",   /* since: a 1-byte epoch */
      "94 02 c0 00 91 92 c4 20 0000000000000000000000000000000000000000000000000000000000000000 00",
      /* since: a head with seq 0 */
  };
  uint8_t buf[256];
  cairn_msg_t m;
  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    size_t n = unhex(bad[i], buf);
    int rc = cairn_msg_decode(buf, n, 1024, &m);
    if (rc != CAIRN_EMALFORMED)
      fail_msg("message %zu (%s) gave %s", i, bad[i], cairn_err_name(rc));
  }
  /* encoders refuse what decode would refuse */
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  CAIRN_FAIL(cairn_msg_error(&sb, 0, "x"), CAIRN_EINVAL);
  cairn_hello_heads_t none = {0, NULL, NULL, NULL, NULL, 0}, nohash = {3, NULL, NULL, NULL, NULL, 0};
  CAIRN_FAIL(cairn_msg_hello(&sb, net, 0, epoch, &none, ""), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_msg_hello(&sb, net, 0, epoch, &none, "a-role-name-too-long"), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_msg_hello(&sb, net, 0, epoch, &nohash, "owner"), CAIRN_EINVAL); /* no hash */
  CAIRN_FAIL(cairn_msg_ping(&sb, CAIRN_MSG_ACK, 1), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_msg_entries_add(&sb, (const uint8_t *)"", 0), CAIRN_EINVAL);
  assert_int_equal(sb.size, 0);
  /* an error text longer than the limit is cut, at a UTF-8 boundary */
  char text[400];
  memset(text, 'a', sizeof text);
  memcpy(text + 253, "\xc3\xa9", 2); /* é across the cut at 255 */
  memset(text + 255, 'b', sizeof text - 256);
  text[sizeof text - 1] = '\0';
  CAIRN_PASS(cairn_msg_error(&sb, CAIRN_EIO, text));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.u.error.text_len, 255);
  sb.size = 0;
  memcpy(text + 254, "\xc3\xa9", 2); /* now it would be cut in the middle */
  CAIRN_PASS(cairn_msg_error(&sb, CAIRN_EIO, text));
  CAIRN_PASS(cairn_msg_decode((uint8_t *)sb.data, sb.size, 1024, &m));
  assert_int_equal(m.u.error.text_len, 254);
  msgpack_sbuffer_destroy(&sb);
}

/* Every prefix and every single-bit change of every message: decoded or refused;
 * a prefix is never a whole message. */
static void test_mutations(void **state) {
  msgpack_sbuffer sb;
  cairn_msg_t m;
  (void)state;
  setup_values();
  msgpack_sbuffer_init(&sb);
  for (size_t k = 0; k < NMAKERS; k++) {
    sb.size = 0;
    CAIRN_PASS(makers[k](&sb));
    for (size_t n = 0; n < sb.size; n++) {
      uint8_t *copy = malloc(n ? n : 1);
      assert_non_null(copy);
      memcpy(copy, sb.data, n);
      assert_true(cairn_msg_decode(copy, n, 1024, &m) < 0);
      free(copy);
    }
    uint8_t *copy = malloc(sb.size);
    assert_non_null(copy);
    for (size_t i = 0; i < sb.size; i++)
      for (int bit = 0; bit < 8; bit++) {
        memcpy(copy, sb.data, sb.size);
        copy[i] ^= (uint8_t)(1u << bit);
        int rc = cairn_msg_decode(copy, sb.size, 1024, &m);
        assert_true(rc == 0 || rc == CAIRN_EMALFORMED || rc == CAIRN_ETOOBIG);
      }
    free(copy);
  }
  msgpack_sbuffer_destroy(&sb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_roundtrips),
      cmocka_unit_test(test_fixed_bytes),
      cmocka_unit_test(test_refused),
      cmocka_unit_test(test_mutations),
  };
  if (cairn_core_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
