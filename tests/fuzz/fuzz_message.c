/*
 * fuzz_message.c — fuzz target for the sync message decoder (protocol/message.c).
 *
 * Each input is decoded as one message with a small entry limit and a large one
 * (a compact message's items and a zstd message's bytes are not read here:
 * fuzz_compact and fuzz_session read them);
 * a decoded message's iterators must walk exactly its count of entries or heads
 * inside the input, and re-encoding what was decoded must give the input back
 * (every message has one encoding) unless the input used a longer integer or
 * length encoding than the encoders write. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "message.h"

static int inside(const uint8_t *p, size_t n, const uint8_t *data, size_t size) {
  return p >= data && p + n <= data + size;
}

/* Re-encode m; returns the encoder's result. */
static int encode(const cairn_msg_t *m, msgpack_sbuffer *out) {
  cairn_msg_iter_t it;
  const uint8_t *p;
  size_t len;
  int rc;
  char role[CAIRN_ROLE_NAME_MAX + 1], text[CAIRN_MSG_TEXT_MAX + 1];
  switch (m->type) {
  case CAIRN_MSG_HELLO:
    memcpy(role, m->u.hello.role, m->u.hello.role_len);
    role[m->u.hello.role_len] = '\0';
    if (strlen(role) != m->u.hello.role_len || m->u.hello.version != CAIRN_SYNC_VERSION ||
        !m->u.hello.has_heads) /* the older 7-element form is read, never written */
      return -1;
    {
      uint8_t(*a)[CAIRN_KEY_BYTES] = malloc(((size_t)m->u.hello.nheads + 1) * CAIRN_KEY_BYTES);
      uint8_t(*hs)[CAIRN_HASH_BYTES] = malloc(((size_t)m->u.hello.nheads + 1) * CAIRN_HASH_BYTES);
      uint64_t *s = malloc(((size_t)m->u.hello.nheads + 1) * sizeof *s);
      CHECK(a != NULL && s != NULL && hs != NULL);
      cairn_msg_hello_heads(m, &it);
      for (uint32_t i = 0; i < m->u.hello.nheads; i++) {
        CHECK(cairn_msg_head_next(&it, &p, &s[i]) == 1);
        memcpy(a[i], p, CAIRN_KEY_BYTES);
        const uint8_t *hash = cairn_msg_hello_hash(m, i);
        CHECK((hash != NULL) == (m->u.hello.hashes != NULL));
        if (hash != NULL)
          memcpy(hs[i], hash, CAIRN_HASH_BYTES);
      }
      CHECK(cairn_msg_head_next(&it, &p, &s[0]) == 0);
      CHECK(cairn_msg_hello_hash(m, m->u.hello.nheads) == NULL);
      cairn_hello_heads_t h = {m->u.hello.head_seq, m->u.hello.head_hash,
                               (const uint8_t(*)[CAIRN_KEY_BYTES])a, s,
                               m->u.hello.hashes ? (const uint8_t(*)[CAIRN_HASH_BYTES])hs : NULL,
                               m->u.hello.nheads};
      rc = cairn_msg_hello(out, m->u.hello.network, m->u.hello.time_ms, m->u.hello.epoch, &h,
                           role);
      free(a);
      free(hs);
      free(s);
      return rc;
    }
  case CAIRN_MSG_SINCE: {
    uint8_t(*a)[CAIRN_KEY_BYTES] = malloc(((size_t)m->u.since.nheads + 1) * CAIRN_KEY_BYTES);
    uint64_t *s = malloc(((size_t)m->u.since.nheads + 1) * sizeof *s);
    cairn_cursor_t c;
    CHECK(a != NULL && s != NULL);
    cairn_msg_heads(m, &it);
    for (uint32_t i = 0; i < m->u.since.nheads; i++) {
      CHECK(cairn_msg_head_next(&it, &p, &s[i]) == 1);
      memcpy(a[i], p, CAIRN_KEY_BYTES);
    }
    if (m->u.since.epoch) {
      memcpy(c.epoch, m->u.since.epoch, CAIRN_EPOCH_BYTES);
      c.arrival = m->u.since.arrival;
    }
    rc = m->u.since.epoch || m->u.since.arrival == 0
             ? cairn_msg_since(out, m->u.since.epoch ? &c : NULL,
                               (const uint8_t(*)[CAIRN_KEY_BYTES])a, s, m->u.since.nheads)
             : -1;
    free(a);
    free(s);
    return rc;
  }
  case CAIRN_MSG_ENTRIES:
    rc = cairn_msg_entries_begin(out, m->u.entries.cursor, m->u.entries.count);
    cairn_msg_entries(m, &it);
    while (rc == 0 && cairn_msg_entry_next(&it, &p, &len) == 1)
      rc = cairn_msg_entries_add(out, p, len);
    return rc;
  case CAIRN_MSG_ACK:
    return cairn_msg_ack(out, m->u.ack.own_seq, m->u.ack.cursor);
  case CAIRN_MSG_CAUGHT_UP:
    return cairn_msg_caught_up(out, m->u.caught_up.cursor);
  case CAIRN_MSG_ERROR:
    memcpy(text, m->u.error.text, m->u.error.text_len);
    text[m->u.error.text_len] = '\0';
    if (strlen(text) != m->u.error.text_len)
      return -1;
    return cairn_msg_error(out, m->u.error.code, text);
  case CAIRN_MSG_PING:
  case CAIRN_MSG_PONG:
    return cairn_msg_ping(out, m->type, m->u.ping.nonce);
  case CAIRN_MSG_COMPACT: /* the items are bytes here (fuzz_compact reads them) */
    rc = cairn_msg_compact_begin(out, m->u.compact.cursor, m->u.compact.count);
    return rc ? rc : msgpack_sbuffer_write(out, (const char *)m->u.compact.items,
                                           m->u.compact.items_len);
  case CAIRN_MSG_ZSTD: {
    uint8_t *b = malloc(CAIRN_MSG_ZSTD_HEAD + m->u.zstd.len);
    CHECK(b != NULL);
    memcpy(b + CAIRN_MSG_ZSTD_HEAD, m->u.zstd.data, m->u.zstd.len);
    size_t head = cairn_msg_zstd_head(b + CAIRN_MSG_ZSTD_HEAD, m->u.zstd.len);
    rc = msgpack_sbuffer_write(out, (const char *)b + CAIRN_MSG_ZSTD_HEAD - head,
                               head + m->u.zstd.len);
    free(b);
    return rc;
  }
  }
  abort();
}

static void check(const uint8_t *data, size_t size, size_t max_entry) {
  cairn_msg_t m;
  cairn_msg_iter_t it;
  const uint8_t *p;
  size_t len;
  uint64_t seq;
  int rc = cairn_msg_decode(data, size, max_entry, &m);
  if (rc != 0) {
    CHECK(rc == CAIRN_EMALFORMED || rc == CAIRN_ETOOBIG);
    return;
  }
  if (m.type == CAIRN_MSG_ENTRIES) {
    uint32_t n = 0;
    cairn_msg_entries(&m, &it);
    while (cairn_msg_entry_next(&it, &p, &len) == 1) {
      CHECK(len >= 1 && len <= max_entry && inside(p, len, data, size));
      n++;
    }
    CHECK(n == m.u.entries.count);
  } else if (m.type == CAIRN_MSG_SINCE) {
    uint32_t n = 0;
    cairn_msg_heads(&m, &it);
    while (cairn_msg_head_next(&it, &p, &seq) == 1) {
      CHECK(seq > 0 && inside(p, CAIRN_KEY_BYTES, data, size));
      n++;
    }
    CHECK(n == m.u.since.nheads);
  }
  msgpack_sbuffer sb;
  msgpack_sbuffer_init(&sb);
  if (encode(&m, &sb) == 0) {
    cairn_msg_t again;
    CHECK(cairn_msg_decode((const uint8_t *)sb.data, sb.size, max_entry, &again) == 0);
    CHECK(again.type == m.type);
    CHECK(sb.size <= size); /* the encoders write the shortest forms */
  }
  msgpack_sbuffer_destroy(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  check(data, size, 16);
  check(data, size, 1u << 20);
  return 0;
}
