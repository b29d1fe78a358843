/*
 * fuzz_entry.c — fuzz target for the entry decoder (core/entry.c) and everything
 * that runs on a received entry before it is trusted.
 *
 * The input is one entry's bytes. It is decoded with a size limit; if it decodes,
 * every view must lie inside the input, and then:
 *   - the op iterator yields exactly op_count ops, back to back, that fill the ops
 *     array; each op has a kind, valid names, and (for a put) fields whose count,
 *     strictly ascending names, values (one object, nesting <= 16) and bases (each
 *     stamp read with cairn_field_base, one past the end refused) hold; a del's
 *     seen and a put's dseen come last, at most 64 stamps with authors strictly
 *     ascending, and only a put with dseen has no fields;
 *   - cairn_entry_check_ops agrees with an ops_root recomputed here from the ops
 *     the iterator gave;
 *   - cairn_entry_verify_sig answers 0 or CAIRN_EBADSIG, cairn_entry_hash equals a
 *     one-shot hash of header || signature;
 *   - when the ops hash to ops_root, the entry re-assembles unchanged, and with each
 *     of its first ops redacted, into entries that decode and still check.
 * A failed decode must return a documented code with a message. A broken
 * invariant aborts.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "entry.h"
#include "mpread.h"

#define MAX_ENTRY 65536
#define REDACT_MAX 4 /* ops redacted one at a time, to bound the work per input */

/* [p, p + n) lies inside [base, base + len). */
static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len) {
  return p != NULL && p >= base && n <= len && (size_t)(p - base) <= len - n;
}

/* needle occurs in hay (memmem is a GNU extension). */
static int holds(const uint8_t *hay, size_t n, const uint8_t *needle, size_t k) {
  for (size_t i = 0; k <= n && i <= n - k; i++)
    if (memcmp(hay + i, needle, k) == 0)
      return 1;
  return 0;
}

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  return c != 0 ? c : (alen > blen) - (alen < blen);
}

static void check_field(const cairn_op_t *op, const cairn_field_t *f) {
  cairn_stamp_t st;
  CHECK(cairn__field_name_ok(f->name, f->name_len));
  CHECK(inside((const uint8_t *)f->name, f->name_len, op->fields, op->fields_len));
  CHECK(inside(f->value, f->value_len, op->fields, op->fields_len));
  CHECK(cairn_mp_validate(f->value, f->value_len, CAIRN_VALUE_DEPTH_MAX) == 0);
  CHECK(inside(f->base, f->base_len, op->fields, op->fields_len));
  CHECK(f->base == f->value + f->value_len);
  CHECK(f->nbase <= CAIRN_BASE_MAX);
  for (uint32_t i = 0; i < f->nbase; i++) {
    CHECK(cairn_field_base(f, i, &st) == 0);
    /* the stamp's author is 32 bytes of the base array */
    CHECK(holds(f->base, f->base_len, st.author, CAIRN_KEY_BYTES));
  }
  CHECK(cairn_field_base(f, f->nbase, &st) == CAIRN_EINVAL);
}

/* A del's seen or a put's dseen: the op's last element, read back in order. */
static void check_seen(const cairn_op_t *op) {
  cairn_stamp_t st[CAIRN_SEEN_MAX];
  if (op->seen == NULL) {
    CHECK(op->nseen == 0 && cairn_op_seen(op, st) == 0);
    return;
  }
  CHECK(op->kind == CAIRN_OP_PUT || op->kind == CAIRN_OP_DEL);
  CHECK(inside(op->seen, op->seen_len, op->raw, op->raw_len));
  CHECK(op->seen + op->seen_len == op->raw + op->raw_len);
  CHECK(op->nseen <= CAIRN_SEEN_MAX && (op->kind == CAIRN_OP_DEL || op->nseen > 0));
  CHECK(cairn_op_seen(op, st) == op->nseen);
  for (uint32_t i = 0; i < op->nseen; i++) {
    CHECK(holds(op->seen, op->seen_len, st[i].author, CAIRN_KEY_BYTES));
    if (i > 0)
      CHECK(memcmp(st[i - 1].author, st[i].author, CAIRN_KEY_BYTES) < 0);
  }
}

static void check_op(const cairn_entry_t *e, const cairn_op_t *op) {
  CHECK(inside(op->raw, op->raw_len, e->ops, e->ops_len));
  switch (op->kind) {
  case CAIRN_OP_REDACTED:
    CHECK(inside(op->redacted_hash, CAIRN_HASH_BYTES, op->raw, op->raw_len));
    CHECK(op->type == NULL && op->id == NULL && op->fields == NULL);
    break;
  case CAIRN_OP_PUT:
  case CAIRN_OP_DEL:
  case CAIRN_OP_PURGE:
    CHECK(cairn__name_ok(op->type, op->type_len, CAIRN_TYPE_MAX));
    CHECK(cairn__name_ok(op->id, op->id_len, CAIRN_ID_MAX));
    CHECK(inside((const uint8_t *)op->type, op->type_len, op->raw, op->raw_len));
    CHECK(inside((const uint8_t *)op->id, op->id_len, op->raw, op->raw_len));
    break;
  default:
    CHECK(0);
  }
  cairn_field_iter_t it;
  cairn_field_t f;
  uint32_t n = 0;
  const char *prev = NULL;
  size_t prev_len = 0;
  check_seen(op);
  cairn_field_iter_init(op, &it);
  if (op->kind != CAIRN_OP_PUT) {
    CHECK(op->nfields == 0 && cairn_field_next(&it, &f) == 0);
    return;
  }
  CHECK((op->nfields >= 1 || op->seen != NULL) &&
        inside(op->fields, op->fields_len, op->raw, op->raw_len));
  CHECK(op->fields + op->fields_len == (op->seen != NULL ? op->seen : op->raw + op->raw_len));
  while (cairn_field_next(&it, &f) == 1) {
    check_field(op, &f);
    if (prev != NULL)
      CHECK(name_cmp(prev, prev_len, f.name, f.name_len) < 0);
    prev = f.name;
    prev_len = f.name_len;
    n++;
  }
  CHECK(n == op->nfields);
}

/* Re-assemble e with its ops (one of them redacted when redact >= 0) and check the
 * result decodes to the same header, signature and op count, and still checks. */
static void check_rebuild(const cairn_entry_t *e, long redact) {
  uint8_t *ops = malloc(e->ops_len + 64), *out = NULL;
  size_t len = 0, out_len = 0;
  cairn_op_iter_t it;
  cairn_op_t op;
  cairn_entry_t d;
  long i = 0;
  CHECK(ops != NULL);
  /* the array header as it was, then each op or its redaction */
  cairn_op_iter_init(e, &it);
  len = (size_t)(it.p - e->ops);
  memcpy(ops, e->ops, len);
  while (cairn_op_next(&it, &op) == 1) {
    if (i++ == redact && op.kind != CAIRN_OP_REDACTED) {
      ops[len++] = 0x92;
      ops[len++] = 0x00;
      ops[len++] = 0xc4;
      ops[len++] = CAIRN_HASH_BYTES;
      cairn__op_hash(op.raw, op.raw_len, ops + len);
      len += CAIRN_HASH_BYTES;
    } else {
      memcpy(ops + len, op.raw, op.raw_len);
      len += op.raw_len;
    }
    CHECK(len <= e->ops_len + 64);
  }
  CHECK(cairn__entry_with_ops(e, ops, len, &out, &out_len) == 0);
  CHECK(cairn_entry_decode(out, out_len, SIZE_MAX, &d, NULL) == 0);
  CHECK(d.header_len == e->header_len && memcmp(d.header, e->header, e->header_len) == 0);
  CHECK(memcmp(d.sig, e->sig, CAIRN_SIG_BYTES) == 0 && d.op_count == e->op_count);
  CHECK(d.ops_len == len && memcmp(d.ops, ops, len) == 0);
  CHECK(cairn_entry_check_ops(&d) == 0);
  free(out);
  free(ops);
}

static void check_entry(const uint8_t *data, size_t size, const cairn_entry_t *e) {
  CHECK(e->bytes == data && e->len == size);
  CHECK(inside(e->header, e->header_len, data, size) && e->header_len > 0);
  CHECK(inside(e->sig, CAIRN_SIG_BYTES, data, size));
  CHECK(inside(e->network, CAIRN_KEY_BYTES, e->header, e->header_len));
  CHECK(inside(e->author, CAIRN_KEY_BYTES, e->header, e->header_len));
  CHECK(inside(e->ops_root, CAIRN_HASH_BYTES, e->header, e->header_len));
  CHECK(e->seq >= 1 && e->op_count >= 1);
  CHECK((e->prev == NULL) == (e->seq == 1));
  if (e->prev != NULL)
    CHECK(inside(e->prev, CAIRN_HASH_BYTES, e->header, e->header_len));
  CHECK(inside(e->ops, e->ops_len, data, size) && e->ops + e->ops_len == data + size);

  /* ops, and the root they hash to */
  crypto_generichash_state st;
  uint8_t root[CAIRN_HASH_BYTES], h[CAIRN_HASH_BYTES];
  cairn_op_iter_t it;
  cairn_op_t op;
  uint32_t n = 0;
  const uint8_t *expect;
  crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
  cairn_op_iter_init(e, &it);
  expect = it.p;
  while (cairn_op_next(&it, &op) == 1) {
    CHECK(op.raw == expect);
    expect = op.raw + op.raw_len;
    check_op(e, &op);
    if (op.kind == CAIRN_OP_REDACTED)
      memcpy(h, op.redacted_hash, CAIRN_HASH_BYTES);
    else
      cairn__op_hash(op.raw, op.raw_len, h);
    crypto_generichash_update(&st, h, sizeof h);
    n++;
  }
  crypto_generichash_final(&st, root, sizeof root);
  CHECK(n == e->op_count && expect == e->ops + e->ops_len);
  int ops_ok = cairn_entry_check_ops(e);
  CHECK(ops_ok == 0 || ops_ok == CAIRN_EBADHASH);
  CHECK((ops_ok == 0) == (memcmp(root, e->ops_root, CAIRN_HASH_BYTES) == 0));

  int sig = cairn_entry_verify_sig(e);
  CHECK(sig == 0 || sig == CAIRN_EBADSIG);

  /* the entry hash covers exactly header || signature */
  uint8_t *hs = malloc(e->header_len + CAIRN_SIG_BYTES);
  CHECK(hs != NULL);
  memcpy(hs, e->header, e->header_len);
  memcpy(hs + e->header_len, e->sig, CAIRN_SIG_BYTES);
  crypto_generichash(root, sizeof root, hs, e->header_len + CAIRN_SIG_BYTES, NULL, 0);
  free(hs);
  cairn_entry_hash(e, h);
  CHECK(memcmp(root, h, CAIRN_HASH_BYTES) == 0);

  if (ops_ok == 0) {
    check_rebuild(e, -1);
    for (long i = 0; i < REDACT_MAX && i < (long)e->op_count; i++)
      check_rebuild(e, i);
  } else {
    uint8_t *out = NULL;
    size_t out_len = 0;
    CHECK(cairn__entry_with_ops(e, e->ops, e->ops_len, &out, &out_len) == CAIRN_EBADHASH);
    CHECK(out == NULL);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  cairn_entry_t e, again;
  cairn_error_t err = {0, ""};
  int rc;
  if (!ready) {
    if (cairn_core_init() != 0)
      abort();
    ready = 1;
  }
  rc = cairn_entry_decode(data, size, MAX_ENTRY, &e, &err);
  if (rc != 0) {
    CHECK(rc == CAIRN_EMALFORMED || rc == CAIRN_EVERSION || rc == CAIRN_ETOOBIG);
    CHECK(err.code == rc && err.msg[0] != '\0');
    CHECK((rc == CAIRN_ETOOBIG) == (size > MAX_ENTRY));
    return 0;
  }
  CHECK(size <= MAX_ENTRY);
  check_entry(data, size, &e);
  /* decoding is a pure function of the bytes */
  CHECK(cairn_entry_decode(data, size, size, &again, NULL) == 0);
  CHECK(memcmp(&e, &again, sizeof e) == 0);
  return 0;
}
