/*
 * message.c — encoding and bounded decoding of the sync protocol's messages
 * (message.h, docs/protocol.md "Messages").
 */
#include "message.h"

#include <string.h>

#include "mpread.h"

#define VERSION_MAX 255

/* ---- decoding ---- */

static int get_bin(cairn_mpr_t *r, const uint8_t **p, uint32_t len) {
  return cairn_mpr_bin_exact(r, p, len);
}

/* [bin32, uint >= 1] pairs: a version vector (since, hello); *count of them. */
static int decode_heads(cairn_mpr_t *r, uint32_t *count, const uint8_t **start, size_t *len) {
  uint32_t pair;
  const uint8_t *a;
  uint64_t seq;
  if (cairn_mpr_array(r, count) != 0)
    return CAIRN_EMALFORMED;
  *start = r->p;
  for (uint32_t i = 0; i < *count; i++)
    if (cairn_mpr_array(r, &pair) != 0 || pair != 2 || get_bin(r, &a, CAIRN_KEY_BYTES) != 0 ||
        cairn_mpr_uint(r, &seq) != 0 || seq == 0)
      return CAIRN_EMALFORMED;
  *len = (size_t)(r->p - *start);
  return 0;
}

/* As many bin32 hashes as there are heads: *start points at the first. */
static int decode_hashes(cairn_mpr_t *r, uint32_t nheads, const uint8_t **start) {
  uint32_t n;
  const uint8_t *h;
  if (cairn_mpr_array(r, &n) != 0 || n != nheads)
    return CAIRN_EMALFORMED;
  *start = r->p;
  /* bin 8 headers only, so that each is HASH_PACKED bytes (cairn_msg_hello_hash) */
  for (uint32_t i = 0; i < n; i++)
    if (cairn_mpr_left(r) < 1 || r->p[0] != 0xc4 || get_bin(r, &h, CAIRN_HASH_BYTES) != 0)
      return CAIRN_EMALFORMED;
  return 0;
}

/* hello: 7 elements from a relay that sends no heads, 9 with its head's hash and
 * its version vector, 10 with the hash of each head of that vector too. */
static int decode_hello(cairn_mpr_t *r, uint32_t n, cairn_msg_t *m) {
  uint64_t version;
  int rc;
  m->u.hello.has_heads = n >= 9;
  m->u.hello.hashes = NULL;
  m->u.hello.head_hash = NULL;
  m->u.hello.nheads = 0;
  m->u.hello.heads = NULL;
  m->u.hello.heads_len = 0;
  if ((n != 7 && n != 9 && n != 10) || cairn_mpr_uint(r, &version) != 0 || version == 0 ||
      version > VERSION_MAX ||
      get_bin(r, &m->u.hello.network, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_uint(r, &m->u.hello.time_ms) != 0 ||
      get_bin(r, &m->u.hello.epoch, CAIRN_EPOCH_BYTES) != 0 ||
      cairn_mpr_uint(r, &m->u.hello.head_seq) != 0 ||
      cairn_mpr_str(r, &m->u.hello.role, &m->u.hello.role_len) != 0 ||
      m->u.hello.role_len == 0 || m->u.hello.role_len > CAIRN_ROLE_NAME_MAX)
    return CAIRN_EMALFORMED;
  m->u.hello.version = (uint32_t)version;
  if (n == 7)
    return 0;
  if (cairn_mpr_nil(r) != 0 && get_bin(r, &m->u.hello.head_hash, CAIRN_HASH_BYTES) != 0)
    return CAIRN_EMALFORMED;
  if ((m->u.hello.head_hash == NULL) != (m->u.hello.head_seq == 0))
    return CAIRN_EMALFORMED;
  rc = decode_heads(r, &m->u.hello.nheads, &m->u.hello.heads, &m->u.hello.heads_len);
  if (rc != 0 || n == 9)
    return rc;
  return decode_hashes(r, m->u.hello.nheads, &m->u.hello.hashes);
}

static int decode_since(cairn_mpr_t *r, uint32_t n, cairn_msg_t *m) {
  if (n != 4)
    return CAIRN_EMALFORMED;
  if (cairn_mpr_nil(r) == 0)
    m->u.since.epoch = NULL;
  else if (get_bin(r, &m->u.since.epoch, CAIRN_EPOCH_BYTES) != 0)
    return CAIRN_EMALFORMED;
  if (cairn_mpr_uint(r, &m->u.since.arrival) != 0)
    return CAIRN_EMALFORMED;
  return decode_heads(r, &m->u.since.nheads, &m->u.since.heads, &m->u.since.heads_len);
}

static int decode_entries(cairn_mpr_t *r, uint32_t n, size_t max_entry, cairn_msg_t *m) {
  const uint8_t *e;
  uint32_t len;
  if (n != 3 || cairn_mpr_uint(r, &m->u.entries.cursor) != 0 ||
      cairn_mpr_array(r, &m->u.entries.count) != 0)
    return CAIRN_EMALFORMED;
  m->u.entries.list = r->p;
  for (uint32_t i = 0; i < m->u.entries.count; i++) {
    if (cairn_mpr_bin(r, &e, &len) != 0 || len == 0)
      return CAIRN_EMALFORMED;
    if (len > max_entry)
      return CAIRN_ETOOBIG;
  }
  m->u.entries.list_len = (size_t)(r->p - m->u.entries.list);
  return 0;
}

/* [9, cursor, items]: the items are the rest, read when the entries are rebuilt. */
static int decode_compact(cairn_mpr_t *r, uint32_t n, cairn_msg_t *m) {
  if (n != 3 || cairn_mpr_uint(r, &m->u.compact.cursor) != 0 ||
      cairn_mpr_array(r, &m->u.compact.count) != 0)
    return CAIRN_EMALFORMED;
  m->u.compact.items = r->p;
  m->u.compact.items_len = cairn_mpr_left(r);
  r->p = r->end;
  return 0;
}

static int decode_zstd(cairn_mpr_t *r, uint32_t n, cairn_msg_t *m) {
  uint32_t len;
  if (n != 2 || cairn_mpr_bin(r, &m->u.zstd.data, &len) != 0 || len == 0)
    return CAIRN_EMALFORMED;
  m->u.zstd.len = len;
  return 0;
}

static int decode_error(cairn_mpr_t *r, uint32_t n, cairn_msg_t *m) {
  int64_t code;
  if (n != 3 || cairn_mpr_int(r, &code) != 0 || code >= 0 || code < INT32_MIN ||
      cairn_mpr_str(r, &m->u.error.text, &m->u.error.text_len) != 0 ||
      m->u.error.text_len > CAIRN_MSG_TEXT_MAX)
    return CAIRN_EMALFORMED;
  m->u.error.code = (int32_t)code;
  return 0;
}

static int decode_body(cairn_mpr_t *r, uint32_t n, size_t max_entry, cairn_msg_t *m) {
  switch (m->type) {
  case CAIRN_MSG_HELLO:
    return decode_hello(r, n, m);
  case CAIRN_MSG_SINCE:
    return decode_since(r, n, m);
  case CAIRN_MSG_ENTRIES:
    return decode_entries(r, n, max_entry, m);
  case CAIRN_MSG_ACK:
    return n == 3 && cairn_mpr_uint(r, &m->u.ack.own_seq) == 0 &&
                   cairn_mpr_uint(r, &m->u.ack.cursor) == 0
               ? 0
               : CAIRN_EMALFORMED;
  case CAIRN_MSG_CAUGHT_UP:
    return n == 2 && cairn_mpr_uint(r, &m->u.caught_up.cursor) == 0 ? 0 : CAIRN_EMALFORMED;
  case CAIRN_MSG_ERROR:
    return decode_error(r, n, m);
  case CAIRN_MSG_PING:
  case CAIRN_MSG_PONG:
    return n == 2 && cairn_mpr_uint(r, &m->u.ping.nonce) == 0 ? 0 : CAIRN_EMALFORMED;
  case CAIRN_MSG_COMPACT:
    return decode_compact(r, n, m);
  case CAIRN_MSG_ZSTD:
    return decode_zstd(r, n, m);
  }
  return CAIRN_EMALFORMED;
}

int cairn_msg_decode(const uint8_t *buf, size_t len, size_t max_entry, cairn_msg_t *m) {
  cairn_mpr_t r;
  uint32_t n;
  uint64_t type;
  int rc;
  memset(m, 0, sizeof *m);
  cairn_mpr_init(&r, buf, len);
  if (cairn_mpr_array(&r, &n) != 0 || n == 0 || cairn_mpr_uint(&r, &type) != 0 ||
      type < CAIRN_MSG_HELLO || type > CAIRN_MSG_ZSTD)
    return CAIRN_EMALFORMED;
  m->type = (cairn_msg_type_t)type;
  if ((rc = decode_body(&r, n, max_entry, m)) != 0)
    return rc;
  return cairn_mpr_left(&r) == 0 ? 0 : CAIRN_EMALFORMED;
}

void cairn_msg_entries(const cairn_msg_t *m, cairn_msg_iter_t *it) {
  it->p = m->u.entries.list;
  it->end = it->p + m->u.entries.list_len;
}

int cairn_msg_entry_next(cairn_msg_iter_t *it, const uint8_t **e, size_t *len) {
  cairn_mpr_t r;
  uint32_t n;
  if (it->p == it->end)
    return 0;
  cairn_mpr_init(&r, it->p, (size_t)(it->end - it->p));
  if (cairn_mpr_bin(&r, e, &n) != 0)
    return 0; /* cannot happen after decode */
  *len = n;
  it->p = r.p;
  return 1;
}

void cairn_msg_heads(const cairn_msg_t *m, cairn_msg_iter_t *it) {
  it->p = m->u.since.heads;
  it->end = it->p + m->u.since.heads_len;
}

void cairn_msg_hello_heads(const cairn_msg_t *m, cairn_msg_iter_t *it) {
  it->p = m->u.hello.heads;
  it->end = it->p + m->u.hello.heads_len;
}

int cairn_msg_head_next(cairn_msg_iter_t *it, const uint8_t **author, uint64_t *seq) {
  cairn_mpr_t r;
  uint32_t n;
  if (it->p == it->end)
    return 0;
  cairn_mpr_init(&r, it->p, (size_t)(it->end - it->p));
  if (cairn_mpr_array(&r, &n) != 0 || get_bin(&r, author, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_uint(&r, seq) != 0)
    return 0; /* cannot happen after decode */
  it->p = r.p;
  return 1;
}

/* Each hash is a bin 8 of 32 bytes: 0xc4 0x20 and the bytes (decode_hashes
 * refuses any other header). */
#define HASH_PACKED (2 + CAIRN_HASH_BYTES)

const uint8_t *cairn_msg_hello_hash(const cairn_msg_t *m, size_t i) {
  if (m->u.hello.hashes == NULL || i >= m->u.hello.nheads)
    return NULL;
  return m->u.hello.hashes + i * HASH_PACKED + 2;
}

/* ---- encoding ---- */

static int head(msgpack_packer *pk, msgpack_sbuffer *out, uint32_t n, cairn_msg_type_t type) {
  msgpack_packer_init(pk, out, msgpack_sbuffer_write);
  return msgpack_pack_array(pk, n) | msgpack_pack_uint8(pk, (uint8_t)type);
}

static int done(int rc) {
  return rc ? CAIRN_ENOMEM : 0;
}

/* n [author, seq] pairs. */
static int pack_heads(msgpack_packer *pk, const uint8_t (*authors)[CAIRN_KEY_BYTES],
                      const uint64_t *seqs, size_t n) {
  int rc;
  if (n > UINT32_MAX)
    return CAIRN_EINVAL;
  rc = msgpack_pack_array(pk, n);
  for (size_t i = 0; i < n; i++) {
    if (seqs[i] == 0)
      return CAIRN_EINVAL;
    rc |= msgpack_pack_array(pk, 2);
    rc |= msgpack_pack_bin_with_body(pk, authors[i], CAIRN_KEY_BYTES);
    rc |= msgpack_pack_uint64(pk, seqs[i]);
  }
  return done(rc);
}

int cairn_msg_hello(msgpack_sbuffer *out, const uint8_t network[CAIRN_KEY_BYTES],
                    uint64_t time_ms, const uint8_t epoch[CAIRN_EPOCH_BYTES],
                    const cairn_hello_heads_t *h, const char *role) {
  msgpack_packer pk;
  size_t rl = strlen(role);
  if (rl == 0 || rl > CAIRN_ROLE_NAME_MAX || (h->head_hash == NULL) != (h->head_seq == 0))
    return CAIRN_EINVAL;
  int rc = head(&pk, out, h->hashes != NULL ? 10 : 9, CAIRN_MSG_HELLO);
  rc |= msgpack_pack_uint8(&pk, CAIRN_SYNC_VERSION);
  rc |= msgpack_pack_bin_with_body(&pk, network, CAIRN_KEY_BYTES);
  rc |= msgpack_pack_uint64(&pk, time_ms);
  rc |= msgpack_pack_bin_with_body(&pk, epoch, CAIRN_EPOCH_BYTES);
  rc |= msgpack_pack_uint64(&pk, h->head_seq);
  rc |= msgpack_pack_str_with_body(&pk, role, rl);
  rc |= h->head_hash ? msgpack_pack_bin_with_body(&pk, h->head_hash, CAIRN_HASH_BYTES)
                     : msgpack_pack_nil(&pk);
  if (rc != 0)
    return CAIRN_ENOMEM;
  if ((rc = pack_heads(&pk, h->authors, h->seqs, h->n)) != 0 || h->hashes == NULL)
    return rc;
  rc = msgpack_pack_array(&pk, h->n);
  for (size_t i = 0; i < h->n; i++)
    rc |= msgpack_pack_bin_with_body(&pk, h->hashes[i], CAIRN_HASH_BYTES);
  return done(rc);
}

int cairn_msg_since(msgpack_sbuffer *out, const cairn_cursor_t *cursor,
                    const uint8_t (*authors)[CAIRN_KEY_BYTES], const uint64_t *seqs, size_t n) {
  msgpack_packer pk;
  if (n > UINT32_MAX)
    return CAIRN_EINVAL;
  int rc = head(&pk, out, 4, CAIRN_MSG_SINCE);
  rc |= cursor ? msgpack_pack_bin_with_body(&pk, cursor->epoch, CAIRN_EPOCH_BYTES)
               : msgpack_pack_nil(&pk);
  rc |= msgpack_pack_uint64(&pk, cursor ? cursor->arrival : 0);
  if (rc != 0)
    return CAIRN_ENOMEM;
  return pack_heads(&pk, authors, seqs, n);
}

/* [type, cursor, list of count]: the head of an `entries` or compact message. */
static int list_begin(msgpack_sbuffer *out, cairn_msg_type_t type, uint64_t cursor,
                      uint32_t count) {
  msgpack_packer pk;
  int rc = head(&pk, out, 3, type);
  rc |= msgpack_pack_uint64(&pk, cursor);
  rc |= msgpack_pack_array(&pk, count);
  return done(rc);
}

int cairn_msg_entries_begin(msgpack_sbuffer *out, uint64_t cursor, uint32_t count) {
  return list_begin(out, CAIRN_MSG_ENTRIES, cursor, count);
}

int cairn_msg_entries_add(msgpack_sbuffer *out, const uint8_t *entry, size_t len) {
  msgpack_packer pk;
  if (len == 0 || len > UINT32_MAX)
    return CAIRN_EINVAL;
  msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
  return done(msgpack_pack_bin_with_body(&pk, entry, len));
}

/* The bytes of a MessagePack uint, and of an array or bin header, in their
 * shortest forms (as msgpack-c packs them). */
static size_t uint_size(uint64_t v) {
  return v < 128 ? 1 : v <= UINT8_MAX ? 2 : v <= UINT16_MAX ? 3 : v <= UINT32_MAX ? 5 : 9;
}

size_t cairn_msg_bin_size(size_t len) {
  return (len <= UINT8_MAX ? 2 : len <= UINT16_MAX ? 3 : 5) + len;
}

size_t cairn_msg_entries_size(uint64_t cursor, uint32_t count, size_t list_len) {
  size_t array = count < 16 ? 1 : count <= UINT16_MAX ? 3 : 5;
  return 2 + uint_size(cursor) + array + list_len;
}

int cairn_msg_compact_begin(msgpack_sbuffer *out, uint64_t cursor, uint32_t count) {
  return list_begin(out, CAIRN_MSG_COMPACT, cursor, count);
}

size_t cairn_msg_bin_head(uint8_t *p, size_t len) {
  if (len <= UINT8_MAX) {
    p[0] = 0xc4;
    p[1] = (uint8_t)len;
    return 2;
  }
  if (len <= UINT16_MAX) {
    p[0] = 0xc5;
    p[1] = (uint8_t)(len >> 8);
    p[2] = (uint8_t)len;
    return 3;
  }
  p[0] = 0xc6;
  cairn_put_be32(p + 1, (uint32_t)len);
  return 5;
}

size_t cairn_msg_zstd_head(uint8_t *at, size_t len) {
  size_t n = cairn_msg_bin_size(len) - len; /* the bin's header */
  uint8_t *p = at - 2 - n;
  p[0] = 0x92; /* [10, bin] */
  p[1] = CAIRN_MSG_ZSTD;
  return 2 + cairn_msg_bin_head(p + 2, len);
}

int cairn_msg_ack(msgpack_sbuffer *out, uint64_t own_seq, uint64_t cursor) {
  msgpack_packer pk;
  int rc = head(&pk, out, 3, CAIRN_MSG_ACK);
  rc |= msgpack_pack_uint64(&pk, own_seq);
  rc |= msgpack_pack_uint64(&pk, cursor);
  return done(rc);
}

int cairn_msg_caught_up(msgpack_sbuffer *out, uint64_t cursor) {
  msgpack_packer pk;
  int rc = head(&pk, out, 2, CAIRN_MSG_CAUGHT_UP);
  rc |= msgpack_pack_uint64(&pk, cursor);
  return done(rc);
}

int cairn_msg_error(msgpack_sbuffer *out, int code, const char *text) {
  msgpack_packer pk;
  size_t n = strlen(text);
  if (code >= 0)
    return CAIRN_EINVAL;
  if (n > CAIRN_MSG_TEXT_MAX) {
    n = CAIRN_MSG_TEXT_MAX;
    while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
      n--; /* do not cut a UTF-8 sequence */
  }
  int rc = head(&pk, out, 3, CAIRN_MSG_ERROR);
  rc |= msgpack_pack_int32(&pk, code);
  rc |= msgpack_pack_str_with_body(&pk, text, n);
  return done(rc);
}

int cairn_msg_ping(msgpack_sbuffer *out, cairn_msg_type_t type, uint64_t nonce) {
  msgpack_packer pk;
  if (type != CAIRN_MSG_PING && type != CAIRN_MSG_PONG)
    return CAIRN_EINVAL;
  int rc = head(&pk, out, 2, type);
  rc |= msgpack_pack_uint64(&pk, nonce);
  return done(rc);
}
