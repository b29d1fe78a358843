/*
 * test_compact.c — the compact form of runs of entries (core/compact.c) and the
 * canonical encoding it rests on (core/entry.c): docs/protocol.md "Compact
 * entries".
 *
 *   - round trips rebuild every entry byte for byte: one author's run, runs across
 *     authors, a run whose first entry's prev the receiver does not hold, entries
 *     of another network or in a non-canonical encoding (sent whole);
 *   - what each item costs (a continuation leaves out author, seq, prev, ops_root
 *     and the network);
 *   - a tampered item rebuilds an entry that its signature refuses, and a store
 *     refuses it; malformed items (a run continued with nothing before it, an hlc
 *     that does not move, empty ops, truncation) are refused;
 *   - the relay's first hop refuses an entry that is not canonical.
 */
#define _GNU_SOURCE /* memmem */
#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cairn_test.h"
#include "compact.h"

#define MAX_ENTRIES 16

typedef struct list {
  uint8_t *e[MAX_ENTRIES];
  size_t len[MAX_ENTRIES];
  size_t n;
} list_t;

static void list_free(list_t *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->e[i]);
  l->n = 0;
}

/* k's next entry: one put of note/id. */
static void sign_put(cairn_test_key_t *k, const char *id, list_t *l) {
  uint8_t *ops;
  size_t ops_len;
  assert_true(l->n < MAX_ENTRIES);
  CAIRN_PASS(cairn_test_ops_put("note", id, "text", "a line of text", &ops, &ops_len));
  CAIRN_PASS(cairn_test_key_sign(k, ops, ops_len, &l->e[l->n], &l->len[l->n]));
  l->n++;
  free(ops);
}

/* Encode entries [from, to) of l as one message's items into out. */
static void encode(const uint8_t *network, const list_t *l, size_t from, size_t to,
                   msgpack_sbuffer *out) {
  cairn_compact_t c;
  cairn_compact_init(&c, network);
  for (size_t i = from; i < to; i++)
    CAIRN_PASS(cairn_compact_encode(&c, l->e[i], l->len[i], out));
}

/* Decode the items in buf and check that they rebuild l's entries [from, to). */
static void expect_rebuilt(const uint8_t *network, const msgpack_sbuffer *buf, const list_t *l,
                           size_t from, size_t to) {
  cairn_compact_t c;
  cairn_compact_entry_t ce;
  cairn_mpr_t r;
  cairn_error_t err;
  uint8_t out[4096];
  cairn_compact_init(&c, network);
  cairn_mpr_init(&r, buf->data, buf->size);
  for (size_t i = from; i < to; i++) {
    CAIRN_PASS(cairn_compact_decode(&c, &r, CAIRN_ENTRY_MAX_DEFAULT, &ce, &err));
    assert_int_equal(ce.len, l->len[i]);
    cairn_compact_entry_write(&ce, out);
    assert_memory_equal(out, l->e[i], l->len[i]);
  }
  assert_int_equal(cairn_mpr_left(&r), 0);
}

static void two_keys(cairn_test_key_t *a, cairn_test_key_t *b, list_t *l) {
  uint8_t *e;
  size_t len;
  cairn_test_key_init(a, NULL);
  cairn_test_key_init(b, NULL);
  memset(l, 0, sizeof *l);
  CAIRN_PASS(cairn_test_genesis(a, NULL, "net", &e, &len));
  l->e[l->n] = e;
  l->len[l->n++] = len;
  memcpy(b->network, a->network, CAIRN_KEY_BYTES);
}

/* A's genesis and n puts, encoded from entry `from` on into sb (initialised). */
static void one_author(cairn_test_key_t *a, list_t *l, int n, size_t from, msgpack_sbuffer *sb) {
  cairn_test_key_t b;
  two_keys(a, &b, l);
  for (int i = 0; i < n; i++)
    sign_put(a, "n", l);
  msgpack_sbuffer_init(sb);
  encode(a->network, l, from, l->n, sb);
  expect_rebuilt(a->network, sb, l, from, l->n);
}

static void test_canonical_build(void **state) {
  cairn_test_key_t a, b;
  list_t l;
  cairn_entry_t e;
  (void)state;
  two_keys(&a, &b, &l);
  sign_put(&a, "x", &l);
  for (size_t i = 0; i < l.n; i++) {
    CAIRN_PASS(cairn_entry_decode(l.e[i], l.len[i], CAIRN_ENTRY_MAX_DEFAULT, &e, NULL));
    assert_true(cairn__entry_canonical(&e));
  }
  list_free(&l);
}

static void test_one_run(void **state) {
  cairn_test_key_t a;
  list_t l;
  msgpack_sbuffer sb;
  size_t whole = 0;
  (void)state;
  one_author(&a, &l, 6, 0, &sb);
  for (size_t i = 0; i < l.n; i++)
    whole += l.len[i];
  /* a continuation is the signature, a small hlc delta and the ops: the run's
   * five continuations leave out about 150 bytes each */
  assert_true(sb.size + 5 * 140 < whole);
  msgpack_sbuffer_destroy(&sb);
  list_free(&l);
}

static void test_runs_across_authors(void **state) {
  cairn_test_key_t a, b;
  list_t l;
  msgpack_sbuffer sb;
  uint8_t *e;
  size_t len;
  (void)state;
  two_keys(&a, &b, &l);
  CAIRN_PASS(cairn_test_grant(&a, b.pk, "editor", &e, &len));
  l.e[l.n] = e;
  l.len[l.n++] = len;
  sign_put(&b, "b1", &l);
  sign_put(&b, "b2", &l);
  sign_put(&a, "a3", &l);
  sign_put(&b, "b3", &l);
  sign_put(&b, "b4", &l);
  msgpack_sbuffer_init(&sb);
  encode(a.network, &l, 0, l.n, &sb);
  expect_rebuilt(a.network, &sb, &l, 0, l.n);
  msgpack_sbuffer_destroy(&sb);
  list_free(&l);
}

/* A message may start anywhere in a log: its first item names prev, and a
 * receiver holding the entries before it applies the rebuilt run. */
static void test_first_prev_unknown(void **state) {
  cairn_test_key_t a;
  list_t l;
  msgpack_sbuffer sb;
  cairn_test_node_t n;
  cairn_compact_t c;
  cairn_compact_entry_t ce;
  cairn_mpr_t r;
  cairn_error_t err;
  uint8_t out[4096];
  (void)state;
  one_author(&a, &l, 5, 3, &sb);
  CAIRN_PASS(cairn_test_node_new(&n, "bob", NULL));
  /* without the entries before it: a gap */
  cairn_compact_init(&c, a.network);
  cairn_mpr_init(&r, sb.data, sb.size);
  CAIRN_PASS(cairn_compact_decode(&c, &r, CAIRN_ENTRY_MAX_DEFAULT, &ce, &err));
  cairn_compact_entry_write(&ce, out);
  CAIRN_PASS(cairn_test_apply1(n.s, l.e[0], l.len[0], NULL));
  CAIRN_FAIL(cairn_test_apply1(n.s, out, ce.len, NULL), CAIRN_EGAP);
  for (size_t i = 1; i < 3; i++)
    CAIRN_PASS(cairn_test_apply1(n.s, l.e[i], l.len[i], NULL));
  CAIRN_PASS(cairn_test_apply1(n.s, out, ce.len, NULL));
  for (size_t i = 4; i < l.n; i++) {
    CAIRN_PASS(cairn_compact_decode(&c, &r, CAIRN_ENTRY_MAX_DEFAULT, &ce, &err));
    cairn_compact_entry_write(&ce, out);
    CAIRN_PASS(cairn_test_apply1(n.s, out, ce.len, NULL));
  }
  cairn_test_node_free(&n);
  msgpack_sbuffer_destroy(&sb);
  list_free(&l);
}

/* An entry signed over a header with a wide seq (uint 64 for 2): valid, not
 * canonical. */
static void sign_wide(cairn_test_key_t *k, list_t *l) {
  uint8_t *ops, root[32], h[200], sig[64];
  size_t ops_len, n = 0, used;
  uint32_t count;
  CAIRN_PASS(cairn_test_ops_put("note", "wide", "text", "x", &ops, &ops_len));
  CAIRN_PASS(cairn__ops_root(ops, ops_len, &used, &count, root));
  uint64_t hlc = cairn_test_hlc();
  n = cairn__entry_header(h, k->network, k->pk, 1, NULL, hlc, root, count);
  /* the same header with seq k->seq + 1 as a uint 64 */
  uint8_t wide[200];
  size_t w = 0, seq_at = 1 + 1 + 34 + 34;
  memcpy(wide, h, seq_at);
  w = seq_at;
  wide[w++] = 0xcf;
  cairn_put_be64(wide + w, k->seq + 1);
  w += 8;
  wide[w++] = 0xc4;
  wide[w++] = 32;
  memcpy(wide + w, k->head, 32);
  w += 32;
  memcpy(wide + w, h + seq_at + 2, n - seq_at - 2); /* after seq 1 and nil */
  w += n - seq_at - 2;
  crypto_sign_detached(sig, NULL, wide, w, k->sk);
  size_t len = cairn__entry_size(w, ops_len);
  uint8_t *e = malloc(len);
  assert_non_null(e);
  cairn__entry_write(e, wide, w, sig, ops, ops_len);
  cairn_entry_t d;
  CAIRN_PASS(cairn_entry_decode(e, len, CAIRN_ENTRY_MAX_DEFAULT, &d, NULL));
  assert_int_equal(d.seq, k->seq + 1);
  assert_false(cairn__entry_canonical(&d));
  cairn_entry_hash(&d, k->head);
  k->seq++;
  k->hlc = hlc;
  l->e[l->n] = e;
  l->len[l->n++] = len;
  free(ops);
}

static void test_whole_entries(void **state) {
  cairn_test_key_t a, b, other;
  list_t l;
  msgpack_sbuffer sb;
  uint8_t *e;
  size_t len;
  (void)state;
  two_keys(&a, &b, &l);
  sign_put(&a, "n1", &l);
  sign_wide(&a, &l);
  sign_put(&a, "n3", &l); /* starts a run again: the whole one ended it */
  cairn_test_key_init(&other, NULL);
  CAIRN_PASS(cairn_test_genesis(&other, NULL, "elsewhere", &e, &len));
  l.e[l.n] = e;
  l.len[l.n++] = len;
  msgpack_sbuffer_init(&sb);
  encode(a.network, &l, 0, l.n, &sb);
  expect_rebuilt(a.network, &sb, &l, 0, l.n);
  /* the wide entry and the other network's travel as they are */
  assert_non_null(memmem(sb.data, sb.size, l.e[2], l.len[2]));
  assert_non_null(memmem(sb.data, sb.size, l.e[4], l.len[4]));
  msgpack_sbuffer_destroy(&sb);

  /* the first hop refuses the wide one; a later hop takes it */
  cairn_prepared_t *p;
  cairn_buf_t bufs[3] = {{l.e[0], l.len[0]}, {l.e[1], l.len[1]}, {l.e[2], l.len[2]}};
  cairn_prepare_opts_t hop = {0, true, a.pk, NULL};
  CAIRN_PASS(cairn_prepared_new(&p));
  CAIRN_PASS(cairn_prepare(p, bufs, 3, &hop));
  assert_int_equal(cairn_prepared_count(p), 2);
  CAIRN_PASS(cairn_prepare(p, bufs, 3, NULL));
  assert_int_equal(cairn_prepared_count(p), 3);
  cairn_prepared_free(p);
  list_free(&l);
}

/* Decode the single item in buf (max_entry bytes at most). */
static int decode_one(const uint8_t *network, cairn_compact_t *c, const void *buf, size_t len,
                      size_t max_entry, uint8_t *out, size_t *out_len) {
  cairn_compact_entry_t ce;
  cairn_mpr_t r;
  cairn_error_t err;
  cairn_mpr_init(&r, buf, len);
  int rc = cairn_compact_decode(c, &r, max_entry, &ce, &err);
  if (rc != 0) {
    assert_int_equal(err.code, rc);
    assert_true(err.msg[0] != '\0');
    assert_ptr_equal(r.p, buf);
    return rc;
  }
  cairn_compact_entry_write(&ce, out);
  *out_len = ce.len;
  return 0;
}

static void test_tampered(void **state) {
  cairn_test_key_t a, b;
  list_t l;
  msgpack_sbuffer sb;
  cairn_compact_t c;
  cairn_entry_t e;
  uint8_t out[4096];
  size_t len, first;
  (void)state;
  two_keys(&a, &b, &l);
  sign_put(&a, "n1", &l);
  sign_put(&a, "n2", &l);
  msgpack_sbuffer_init(&sb);
  encode(a.network, &l, 1, 3, &sb);
  /* the second item, a continuation: flip each byte in turn */
  cairn_compact_init(&c, a.network);
  CAIRN_PASS(decode_one(a.network, &c, sb.data, sb.size, CAIRN_ENTRY_MAX_DEFAULT, out, &len));
  cairn_mpr_t r;
  cairn_mpr_init(&r, sb.data, sb.size);
  CAIRN_PASS(cairn_mpr_skip(&r, 32));
  first = (size_t)(r.p - (const uint8_t *)sb.data);
  cairn_compact_t after_first = c;
  size_t refused = 0;
  for (size_t i = first; i < sb.size; i++) {
    uint8_t *p = (uint8_t *)sb.data + i;
    *p ^= 0x01;
    c = after_first;
    if (decode_one(a.network, &c, p - (i - first), sb.size - first, CAIRN_ENTRY_MAX_DEFAULT, out,
                   &len) != 0 ||
        cairn_entry_decode(out, len, CAIRN_ENTRY_MAX_DEFAULT, &e, NULL) != 0 ||
        cairn_entry_verify_sig(&e) != 0)
      refused++;
    *p ^= 0x01;
  }
  /* a changed byte of a string may still parse: its ops then change ops_root,
   * and the signature refuses the rebuilt header; every byte is refused */
  assert_int_equal(refused, sb.size - first);
  /* the store refuses the tampered entry with a bad signature */
  cairn_test_node_t n;
  CAIRN_PASS(cairn_test_node_new(&n, "bob", NULL));
  for (size_t i = 0; i < 2; i++)
    CAIRN_PASS(cairn_test_apply1(n.s, l.e[i], l.len[i], NULL));
  uint8_t *sig = (uint8_t *)sb.data + first + 3; /* [ bin8 64 ... */
  sig[10] ^= 0x80;
  c = after_first;
  CAIRN_PASS(decode_one(a.network, &c, (uint8_t *)sb.data + first, sb.size - first,
                        CAIRN_ENTRY_MAX_DEFAULT, out, &len));
  CAIRN_FAIL(cairn_test_apply1(n.s, out, len, NULL), CAIRN_EBADSIG);
  cairn_test_node_free(&n);
  msgpack_sbuffer_destroy(&sb);
  list_free(&l);
}

static void test_malformed(void **state) {
  cairn_test_key_t a, b;
  list_t l;
  msgpack_sbuffer sb;
  cairn_compact_t c;
  uint8_t out[4096];
  size_t len;
  (void)state;
  two_keys(&a, &b, &l);
  sign_put(&a, "n1", &l);
  msgpack_sbuffer_init(&sb);
  encode(a.network, &l, 0, 2, &sb);
  cairn_mpr_t r;
  cairn_mpr_init(&r, sb.data, sb.size);
  CAIRN_PASS(cairn_mpr_skip(&r, 32));
  size_t first = (size_t)(r.p - (const uint8_t *)sb.data);
  const uint8_t *cont = (const uint8_t *)sb.data + first;
  size_t cont_len = sb.size - first;
  assert_int_equal(cont[0], 0x93);
  /* a continuation with nothing before it */
  cairn_compact_init(&c, a.network);
  CAIRN_FAIL(decode_one(a.network, &c, cont, cont_len, CAIRN_ENTRY_MAX_DEFAULT, out, &len),
             CAIRN_EMALFORMED);
  /* every cut short of the whole */
  for (size_t cut = 0; cut < sb.size; cut++) {
    cairn_compact_init(&c, a.network);
    cairn_mpr_init(&r, sb.data, cut);
    cairn_compact_entry_t ce;
    cairn_error_t err;
    int rc = cairn_compact_decode(&c, &r, CAIRN_ENTRY_MAX_DEFAULT, &ce, &err);
    if (rc == 0)
      rc = cairn_compact_decode(&c, &r, CAIRN_ENTRY_MAX_DEFAULT, &ce, &err);
    assert_int_equal(rc, CAIRN_EMALFORMED);
  }
  /* larger than the receiver's limit */
  cairn_compact_init(&c, a.network);
  CAIRN_FAIL(decode_one(a.network, &c, sb.data, sb.size, 100, out, &len), CAIRN_ETOOBIG);
  /* hand-made: an hlc that does not move, empty ops, a start with seq 1 and a
   * prev, with seq 2 and none, with seq 0 */
  uint8_t sig[64] = {0}, item[256];
  uint32_t three;
  const uint8_t *skip;
  uint64_t delta;
  cairn_mpr_init(&r, cont, cont_len);
  CAIRN_PASS(cairn_mpr_array(&r, &three));
  CAIRN_PASS(cairn_mpr_bin_exact(&r, &skip, 64));
  CAIRN_PASS(cairn_mpr_uint(&r, &delta));
  const char *ops = (const char *)r.p;
  size_t ops_len = cairn_mpr_left(&r);
  msgpack_sbuffer ib;
  msgpack_packer pk;
  msgpack_sbuffer_init(&ib);
  msgpack_packer_init(&pk, &ib, msgpack_sbuffer_write);
  /* [sig, 0, ops] after a run */
  cairn_compact_init(&c, a.network);
  CAIRN_PASS(decode_one(a.network, &c, sb.data, first, CAIRN_ENTRY_MAX_DEFAULT, out, &len));
  msgpack_pack_array(&pk, 3);
  msgpack_pack_bin_with_body(&pk, sig, 64);
  msgpack_pack_uint64(&pk, 0);
  msgpack_sbuffer_write(&ib, ops, ops_len);
  CAIRN_FAIL(decode_one(a.network, &c, ib.data, ib.size, CAIRN_ENTRY_MAX_DEFAULT, out, &len),
             CAIRN_EMALFORMED);
  /* [sig, hlc, [], author, 1, nil] */
  ib.size = 0;
  msgpack_pack_array(&pk, 6);
  msgpack_pack_bin_with_body(&pk, sig, 64);
  msgpack_pack_uint64(&pk, 5);
  msgpack_pack_array(&pk, 0);
  msgpack_pack_bin_with_body(&pk, a.pk, 32);
  msgpack_pack_uint64(&pk, 1);
  msgpack_pack_nil(&pk);
  CAIRN_FAIL(decode_one(a.network, &c, ib.data, ib.size, CAIRN_ENTRY_MAX_DEFAULT, out, &len),
             CAIRN_EMALFORMED);
  /* seq 1 with a prev, seq 2 without, seq 0 */
  static const uint64_t seqs[] = {1, 2, 0};
  for (size_t k = 0; k < 3; k++) {
    ib.size = 0;
    msgpack_pack_array(&pk, 6);
    msgpack_pack_bin_with_body(&pk, sig, 64);
    msgpack_pack_uint64(&pk, 5);
    msgpack_sbuffer_write(&ib, ops, ops_len);
    msgpack_pack_bin_with_body(&pk, a.pk, 32);
    msgpack_pack_uint64(&pk, seqs[k]);
    if (k == 0)
      msgpack_pack_bin_with_body(&pk, sig, 32);
    else
      msgpack_pack_nil(&pk);
    CAIRN_FAIL(decode_one(a.network, &c, ib.data, ib.size, CAIRN_ENTRY_MAX_DEFAULT, out, &len),
               CAIRN_EMALFORMED);
  }
  /* an empty whole entry, and one item of another kind */
  memcpy(item, "\xc4\x00", 2);
  CAIRN_FAIL(decode_one(a.network, &c, item, 2, CAIRN_ENTRY_MAX_DEFAULT, out, &len),
             CAIRN_EMALFORMED);
  memcpy(item, "\x92\x01\x02", 3);
  CAIRN_FAIL(decode_one(a.network, &c, item, 3, CAIRN_ENTRY_MAX_DEFAULT, out, &len),
             CAIRN_EMALFORMED);
  msgpack_sbuffer_destroy(&ib);
  msgpack_sbuffer_destroy(&sb);
  list_free(&l);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_canonical_build),   cmocka_unit_test(test_one_run),
      cmocka_unit_test(test_runs_across_authors), cmocka_unit_test(test_first_prev_unknown),
      cmocka_unit_test(test_whole_entries),     cmocka_unit_test(test_tampered),
      cmocka_unit_test(test_malformed),
  };
  if (cairn_core_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
