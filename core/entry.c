/*
 * entry.c — encode, sign, decode and verify entries (format in entry.h and
 * docs/protocol.md). Decoding uses the bounded reader of mpread.c. Headers and
 * the entry around them are written in one canonical encoding (the shortest
 * integers, bin 8 for hashes, keys and the signature), so that a receiver of an
 * entry's compact form (compact.c) rebuilds the exact signed bytes.
 */
#include "entry.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "mpread.h"

_Static_assert(CAIRN_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "key size");
_Static_assert(CAIRN_SECRET_BYTES == crypto_sign_SECRETKEYBYTES, "secret key size");
_Static_assert(CAIRN_SIG_BYTES == crypto_sign_BYTES, "signature size");
_Static_assert(CAIRN_HASH_BYTES == crypto_generichash_BYTES, "hash size");

#define HEADER_FIELDS 8

int cairn_core_init(void) {
  return sodium_init() < 0 ? CAIRN_EIO : 0;
}

char *cairn_hex(const uint8_t *bytes, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
  return out;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int cairn_unhex(const char *hex, uint8_t *out, size_t n) {
  if (hex == NULL || strlen(hex) != 2 * n)
    return CAIRN_EINVAL;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return CAIRN_EINVAL;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

int cairn_stamp_cmp(const cairn_stamp_t *a, const cairn_stamp_t *b) {
  if (a->hlc != b->hlc)
    return a->hlc < b->hlc ? -1 : 1;
  return memcmp(a->author, b->author, CAIRN_KEY_BYTES);
}

int cairn__name_ok(const char *s, size_t len, size_t max) {
  return len > 0 && len <= max && memchr(s, '\0', len) == NULL;
}

int cairn__field_name_ok(const char *s, size_t len) {
  return cairn__name_ok(s, len, CAIRN_FIELD_MAX) && s[0] != '_';
}

void cairn__op_hash(const uint8_t *op, size_t len, uint8_t out[CAIRN_HASH_BYTES]) {
  crypto_generichash(out, CAIRN_HASH_BYTES, op, len, NULL, 0);
}

/* ---- ops ---- */

static int parse_stamp(cairn_mpr_t *r, cairn_stamp_t *st) {
  uint32_t n;
  const uint8_t *a;
  if (cairn_mpr_array(r, &n) != 0 || n != 2 || cairn_mpr_uint(r, &st->hlc) != 0 ||
      cairn_mpr_bin_exact(r, &a, CAIRN_KEY_BYTES) != 0)
    return CAIRN_EMALFORMED;
  memcpy(st->author, a, CAIRN_KEY_BYTES);
  return 0;
}

/* One field of a put: name -> [value, base]; checks every part. */
static int parse_field(cairn_mpr_t *r, cairn_field_t *f) {
  uint32_t n;
  const uint8_t *start;
  cairn_stamp_t st;
  if (cairn_mpr_str(r, &f->name, &f->name_len) != 0 ||
      !cairn__field_name_ok(f->name, f->name_len) || cairn_mpr_array(r, &n) != 0 || n != 2)
    return CAIRN_EMALFORMED;
  start = r->p;
  if (cairn_mpr_skip(r, CAIRN_VALUE_DEPTH_MAX) != 0)
    return CAIRN_EMALFORMED;
  f->value = start;
  f->value_len = (size_t)(r->p - start);
  start = r->p;
  if (cairn_mpr_array(r, &f->nbase) != 0 || f->nbase > CAIRN_BASE_MAX)
    return CAIRN_EMALFORMED;
  for (uint32_t i = 0; i < f->nbase; i++)
    if (parse_stamp(r, &st) != 0)
      return CAIRN_EMALFORMED;
  f->base = start;
  f->base_len = (size_t)(r->p - start);
  return 0;
}

static int parse_target(cairn_mpr_t *r, cairn_op_t *op) {
  if (cairn_mpr_str(r, &op->type, &op->type_len) != 0 ||
      !cairn__name_ok(op->type, op->type_len, CAIRN_TYPE_MAX) ||
      cairn_mpr_str(r, &op->id, &op->id_len) != 0 ||
      !cairn__name_ok(op->id, op->id_len, CAIRN_ID_MAX))
    return CAIRN_EMALFORMED;
  return 0;
}

/* Bytewise order of two names, a shorter prefix first (strcmp's order). */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0)
    return c;
  return alen < blen ? -1 : alen > blen;
}

/* Fields of a put: a map whose names are strictly ascending (empty only for a
 * put with dseen, checked by the caller). One canonical order makes the bytes of
 * an op a function of its content and the duplicate check linear (decode runs
 * before any signature is checked). */
static int parse_fields(cairn_mpr_t *r, cairn_op_t *op) {
  const uint8_t *start = r->p;
  cairn_field_t f;
  const char *prev = NULL;
  size_t prev_len = 0;
  if (cairn_mpr_map(r, &op->nfields) != 0)
    return CAIRN_EMALFORMED;
  for (uint32_t i = 0; i < op->nfields; i++) {
    if (parse_field(r, &f) != 0)
      return CAIRN_EMALFORMED;
    if (prev != NULL && name_cmp(prev, prev_len, f.name, f.name_len) >= 0)
      return CAIRN_EMALFORMED;
    prev = f.name;
    prev_len = f.name_len;
  }
  op->fields = start;
  op->fields_len = (size_t)(r->p - start);
  return 0;
}

/* A del's seen or a put's dseen: at most CAIRN_SEEN_MAX stamps whose authors are
 * strictly ascending (one stamp per author, in one canonical order). */
static int parse_seen(cairn_mpr_t *r, cairn_op_t *op) {
  const uint8_t *start = r->p;
  cairn_stamp_t st, prev;
  if (cairn_mpr_array(r, &op->nseen) != 0 || op->nseen > CAIRN_SEEN_MAX)
    return CAIRN_EMALFORMED;
  for (uint32_t i = 0; i < op->nseen; i++) {
    if (parse_stamp(r, &st) != 0 ||
        (i > 0 && memcmp(prev.author, st.author, CAIRN_KEY_BYTES) >= 0))
      return CAIRN_EMALFORMED;
    prev = st;
  }
  op->seen = start;
  op->seen_len = (size_t)(r->p - start);
  return 0;
}

/* A put: [1, type, id, fields] or [1, type, id, fields, dseen]; dseen is never
 * empty, and only a put with dseen may have no fields. */
static int parse_put(cairn_mpr_t *r, uint32_t n, cairn_op_t *op) {
  if ((n != 4 && n != 5) || parse_target(r, op) != 0 || parse_fields(r, op) != 0)
    return CAIRN_EMALFORMED;
  if (n == 5 && (parse_seen(r, op) != 0 || op->nseen == 0))
    return CAIRN_EMALFORMED;
  return op->nfields == 0 && op->seen == NULL ? CAIRN_EMALFORMED : 0;
}

int cairn__op_parse(const uint8_t *p, size_t len, size_t *used, cairn_op_t *op) {
  cairn_mpr_t r;
  uint32_t n;
  uint64_t kind;
  memset(op, 0, sizeof *op);
  cairn_mpr_init(&r, p, len);
  if (cairn_mpr_array(&r, &n) != 0 || n < 2 || cairn_mpr_uint(&r, &kind) != 0)
    return CAIRN_EMALFORMED;
  op->kind = (cairn_op_kind_t)kind;
  switch (kind) {
  case CAIRN_OP_REDACTED:
    if (n != 2 || cairn_mpr_bin_exact(&r, &op->redacted_hash, CAIRN_HASH_BYTES) != 0)
      return CAIRN_EMALFORMED;
    break;
  case CAIRN_OP_PUT:
    if (parse_put(&r, n, op) != 0)
      return CAIRN_EMALFORMED;
    break;
  case CAIRN_OP_DEL:
    if ((n != 3 && n != 4) || parse_target(&r, op) != 0 || (n == 4 && parse_seen(&r, op) != 0))
      return CAIRN_EMALFORMED;
    break;
  case CAIRN_OP_PURGE:
    if (n != 3 || parse_target(&r, op) != 0)
      return CAIRN_EMALFORMED;
    break;
  default:
    return CAIRN_EMALFORMED;
  }
  op->raw = p;
  op->raw_len = (size_t)(r.p - p);
  *used = op->raw_len;
  return 0;
}

void cairn_op_iter_init(const cairn_entry_t *e, cairn_op_iter_t *it) {
  cairn_mpr_t r;
  cairn_mpr_init(&r, e->ops, e->ops_len);
  if (cairn_mpr_array(&r, &it->left) != 0)
    it->left = 0;
  it->p = r.p;
  it->end = r.end;
}

int cairn_op_next(cairn_op_iter_t *it, cairn_op_t *op) {
  size_t used;
  if (it->left == 0 || cairn__op_parse(it->p, (size_t)(it->end - it->p), &used, op) != 0)
    return 0;
  it->p += used;
  it->left--;
  return 1;
}

void cairn_field_iter_init(const cairn_op_t *op, cairn_field_iter_t *it) {
  cairn_mpr_t r;
  it->left = 0;
  it->p = it->end = NULL;
  if (op->kind != CAIRN_OP_PUT)
    return;
  cairn_mpr_init(&r, op->fields, op->fields_len);
  if (cairn_mpr_map(&r, &it->left) != 0)
    it->left = 0;
  it->p = r.p;
  it->end = r.end;
}

int cairn_field_next(cairn_field_iter_t *it, cairn_field_t *f) {
  cairn_mpr_t r;
  if (it->left == 0)
    return 0;
  cairn_mpr_init(&r, it->p, (size_t)(it->end - it->p));
  if (parse_field(&r, f) != 0)
    return 0;
  it->p = r.p;
  it->left--;
  return 1;
}

int cairn_field_base(const cairn_field_t *f, uint32_t i, cairn_stamp_t *out) {
  cairn_mpr_t r;
  uint32_t n;
  cairn_mpr_init(&r, f->base, f->base_len);
  if (cairn_mpr_array(&r, &n) != 0 || i >= n)
    return CAIRN_EINVAL;
  for (uint32_t k = 0; k <= i; k++)
    if (parse_stamp(&r, out) != 0)
      return CAIRN_EMALFORMED;
  return 0;
}

uint32_t cairn_op_seen(const cairn_op_t *op, cairn_stamp_t out[CAIRN_SEEN_MAX]) {
  cairn_mpr_t r;
  uint32_t n;
  if (op->seen == NULL)
    return 0;
  cairn_mpr_init(&r, op->seen, op->seen_len);
  if (cairn_mpr_array(&r, &n) != 0 || n > CAIRN_SEEN_MAX)
    return 0;
  for (uint32_t i = 0; i < n; i++)
    if (parse_stamp(&r, &out[i]) != 0)
      return i;
  return n;
}

/* ---- decode ---- */

int cairn__entry_decode_header(cairn_entry_t *e) {
  cairn_mpr_t r;
  uint32_t n;
  uint64_t version, op_count;
  cairn_mpr_init(&r, e->header, e->header_len);
  if (cairn_mpr_array(&r, &n) != 0 || n != HEADER_FIELDS ||
      cairn_mpr_uint(&r, &version) != 0)
    return CAIRN_EMALFORMED;
  if (version != CAIRN_ENTRY_VERSION)
    return CAIRN_EVERSION;
  if (cairn_mpr_bin_exact(&r, &e->network, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_bin_exact(&r, &e->author, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_uint(&r, &e->seq) != 0 || e->seq == 0)
    return CAIRN_EMALFORMED;
  if (cairn_mpr_peek(&r) == CAIRN_MP_NIL) {
    if (cairn_mpr_nil(&r) != 0 || e->seq != 1)
      return CAIRN_EMALFORMED;
    e->prev = NULL;
  } else if (cairn_mpr_bin_exact(&r, &e->prev, CAIRN_HASH_BYTES) != 0 || e->seq == 1) {
    return CAIRN_EMALFORMED;
  }
  if (cairn_mpr_uint(&r, &e->hlc) != 0 ||
      cairn_mpr_bin_exact(&r, &e->ops_root, CAIRN_HASH_BYTES) != 0 ||
      cairn_mpr_uint(&r, &op_count) != 0 || op_count == 0 || op_count > UINT32_MAX ||
      cairn_mpr_left(&r) != 0)
    return CAIRN_EMALFORMED;
  e->op_count = (uint32_t)op_count;
  return 0;
}

/* Every op well formed, their number as the header says. */
static int decode_ops(cairn_entry_t *e, cairn_mpr_t *r) {
  uint32_t n;
  size_t used;
  cairn_op_t op;
  const uint8_t *start = r->p;
  if (cairn_mpr_array(r, &n) != 0 || n != e->op_count)
    return CAIRN_EMALFORMED;
  for (uint32_t i = 0; i < n; i++) {
    if (cairn__op_parse(r->p, cairn_mpr_left(r), &used, &op) != 0)
      return CAIRN_EMALFORMED;
    r->p += used;
  }
  e->ops = start;
  e->ops_len = (size_t)(r->p - start);
  return 0;
}

int cairn_entry_decode(const void *buf, size_t len, size_t max_len, cairn_entry_t *e,
                       cairn_error_t *err) {
  cairn_mpr_t r;
  uint32_t n, hlen;
  char hex[2 * CAIRN_KEY_BYTES + 1];
  int rc;
  memset(e, 0, sizeof *e);
  if (len > max_len)
    return cairn__error(err, CAIRN_ETOOBIG, "entry of %zu bytes exceeds the limit of %zu",
                        len, max_len);
  cairn_mpr_init(&r, buf, len);
  if (cairn_mpr_array(&r, &n) != 0 || n != 3 || cairn_mpr_bin(&r, &e->header, &hlen) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "malformed entry");
  e->header_len = hlen;
  rc = cairn__entry_decode_header(e);
  if (rc != 0)
    return cairn__error(err, rc, "%s entry header",
                        rc == CAIRN_EVERSION ? "unsupported version of" : "malformed");
  cairn_hex(e->author, CAIRN_KEY_BYTES, hex);
  if (cairn_mpr_bin_exact(&r, &e->sig, CAIRN_SIG_BYTES) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "author %s seq %llu: malformed signature",
                        hex, (unsigned long long)e->seq);
  if (decode_ops(e, &r) != 0 || cairn_mpr_left(&r) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "author %s seq %llu: malformed ops", hex,
                        (unsigned long long)e->seq);
  e->bytes = buf;
  e->len = len;
  return 0;
}

/* ---- hashes and signatures ---- */

int cairn__ops_root(const uint8_t *ops, size_t avail, size_t *used, uint32_t *count,
                    uint8_t out[CAIRN_HASH_BYTES]) {
  crypto_generichash_state st;
  cairn_mpr_t r;
  uint32_t n;
  size_t one;
  cairn_op_t op;
  uint8_t h[CAIRN_HASH_BYTES];
  cairn_mpr_init(&r, ops, avail);
  if (cairn_mpr_array(&r, &n) != 0)
    return CAIRN_EMALFORMED;
  crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
  for (uint32_t i = 0; i < n; i++) {
    if (cairn__op_parse(r.p, cairn_mpr_left(&r), &one, &op) != 0)
      return CAIRN_EMALFORMED;
    if (op.kind == CAIRN_OP_REDACTED)
      memcpy(h, op.redacted_hash, CAIRN_HASH_BYTES);
    else
      cairn__op_hash(op.raw, op.raw_len, h);
    crypto_generichash_update(&st, h, sizeof h);
    r.p += one;
  }
  crypto_generichash_final(&st, out, CAIRN_HASH_BYTES);
  *used = (size_t)(r.p - ops);
  *count = n;
  return 0;
}

/* ops_root of exactly ops_len bytes of ops. */
static int ops_root(const uint8_t *ops, size_t ops_len, uint32_t *count,
                    uint8_t out[CAIRN_HASH_BYTES]) {
  size_t used;
  if (cairn__ops_root(ops, ops_len, &used, count, out) != 0 || used != ops_len)
    return CAIRN_EMALFORMED;
  return 0;
}

int cairn_entry_check_ops(const cairn_entry_t *e) {
  uint8_t root[CAIRN_HASH_BYTES];
  uint32_t n;
  if (ops_root(e->ops, e->ops_len, &n, root) != 0 || n != e->op_count ||
      sodium_memcmp(root, e->ops_root, CAIRN_HASH_BYTES) != 0)
    return CAIRN_EBADHASH;
  return 0;
}

int cairn_entry_verify_sig(const cairn_entry_t *e) {
  if (crypto_sign_verify_detached(e->sig, e->header, e->header_len, e->author) != 0)
    return CAIRN_EBADSIG;
  return 0;
}

void cairn__entry_hash_of(const uint8_t *header, size_t header_len, const uint8_t *sig,
                          uint8_t out[CAIRN_HASH_BYTES]) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
  crypto_generichash_update(&st, header, header_len);
  crypto_generichash_update(&st, sig, CAIRN_SIG_BYTES);
  crypto_generichash_final(&st, out, CAIRN_HASH_BYTES);
}

void cairn_entry_hash(const cairn_entry_t *e, uint8_t out[CAIRN_HASH_BYTES]) {
  cairn__entry_hash_of(e->header, e->header_len, e->sig, out);
}

/* ---- build ---- */

/* The shortest MessagePack encoding of v (as msgpack-c packs a uint). */
static size_t put_uint(uint8_t *p, uint64_t v) {
  if (v < 128) {
    p[0] = (uint8_t)v;
    return 1;
  }
  if (v <= UINT8_MAX) {
    p[0] = 0xcc;
    p[1] = (uint8_t)v;
    return 2;
  }
  if (v <= UINT16_MAX) {
    p[0] = 0xcd;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
    return 3;
  }
  if (v <= UINT32_MAX) {
    p[0] = 0xce;
    cairn_put_be32(p + 1, (uint32_t)v);
    return 5;
  }
  p[0] = 0xcf;
  cairn_put_be64(p + 1, v);
  return 9;
}

/* A bin 8 of 32 bytes. */
static size_t put_bin32(uint8_t *p, const uint8_t *b) {
  p[0] = 0xc4;
  p[1] = 32;
  memcpy(p + 2, b, 32);
  return 34;
}

size_t cairn__entry_header(uint8_t out[CAIRN_HEADER_MAX], const uint8_t *network,
                           const uint8_t *author, uint64_t seq, const uint8_t *prev,
                           uint64_t hlc, const uint8_t *ops_root, uint32_t op_count) {
  size_t n = 0;
  out[n++] = 0x90 | HEADER_FIELDS;
  out[n++] = CAIRN_ENTRY_VERSION;
  n += put_bin32(out + n, network);
  n += put_bin32(out + n, author);
  n += put_uint(out + n, seq);
  if (prev == NULL)
    out[n++] = 0xc0;
  else
    n += put_bin32(out + n, prev);
  n += put_uint(out + n, hlc);
  n += put_bin32(out + n, ops_root);
  n += put_uint(out + n, op_count);
  return n;
}

size_t cairn__entry_size(size_t header_len, size_t ops_len) {
  return 3 + header_len + 2 + CAIRN_SIG_BYTES + ops_len;
}

void cairn__entry_write(uint8_t *dst, const uint8_t *header, size_t header_len,
                        const uint8_t *sig, const uint8_t *ops, size_t ops_len) {
  dst[0] = 0x93; /* [header_bytes, signature, ops] */
  dst[1] = 0xc4;
  dst[2] = (uint8_t)header_len;
  memcpy(dst + 3, header, header_len);
  dst += 3 + header_len;
  dst[0] = 0xc4;
  dst[1] = CAIRN_SIG_BYTES;
  memcpy(dst + 2, sig, CAIRN_SIG_BYTES);
  memcpy(dst + 2 + CAIRN_SIG_BYTES, ops, ops_len);
}

int cairn__entry_canonical(const cairn_entry_t *e) {
  uint8_t h[CAIRN_HEADER_MAX];
  size_t n = cairn__entry_header(h, e->network, e->author, e->seq, e->prev, e->hlc,
                                 e->ops_root, e->op_count);
  const uint8_t *b = e->bytes, *sig = e->header + e->header_len;
  return n == e->header_len && memcmp(h, e->header, n) == 0 && e->header == b + 3 &&
         b[0] == 0x93 && b[1] == 0xc4 && b[2] == n && sig + 2 == e->sig && sig[0] == 0xc4 &&
         sig[1] == CAIRN_SIG_BYTES && e->ops == e->sig + CAIRN_SIG_BYTES;
}

/* Assemble [header_bytes, sig, ops] into a malloc'd buffer, in the one encoding
 * that cairn__entry_canonical accepts. */
static int assemble(const uint8_t *header, size_t header_len, const uint8_t *sig,
                    const uint8_t *ops, size_t ops_len, uint8_t **out, size_t *out_len) {
  size_t n = cairn__entry_size(header_len, ops_len);
  uint8_t *p = malloc(n);
  if (p == NULL)
    return CAIRN_ENOMEM;
  cairn__entry_write(p, header, header_len, sig, ops, ops_len);
  *out = p;
  *out_len = n;
  return 0;
}

int cairn_entry_build(const uint8_t sk[CAIRN_SECRET_BYTES],
                      const uint8_t network[CAIRN_KEY_BYTES], uint64_t seq, const uint8_t *prev,
                      uint64_t hlc, const uint8_t *ops, size_t ops_len, uint8_t **out,
                      size_t *out_len) {
  uint8_t root[CAIRN_HASH_BYTES], sig[CAIRN_SIG_BYTES], header[CAIRN_HEADER_MAX];
  uint32_t n;
  if (seq == 0 || (seq == 1) != (prev == NULL))
    return CAIRN_EINVAL;
  if (ops_root(ops, ops_len, &n, root) != 0 || n == 0)
    return CAIRN_EMALFORMED;
  /* libsodium keeps the public key in the secret key's second half */
  size_t hlen = cairn__entry_header(header, network, sk + 32, seq, prev, hlc, root, n);
  crypto_sign_detached(sig, NULL, header, hlen, sk);
  return assemble(header, hlen, sig, ops, ops_len, out, out_len);
}

int cairn__entry_with_ops(const cairn_entry_t *e, const uint8_t *ops, size_t ops_len,
                          uint8_t **out, size_t *out_len) {
  uint8_t root[CAIRN_HASH_BYTES];
  uint32_t n;
  if (ops_root(ops, ops_len, &n, root) != 0 || n != e->op_count ||
      memcmp(root, e->ops_root, CAIRN_HASH_BYTES) != 0)
    return CAIRN_EBADHASH;
  return assemble(e->header, e->header_len, e->sig, ops, ops_len, out, out_len);
}
