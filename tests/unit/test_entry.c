/*
 * test_entry.c — signed entries (core/entry.c) and how a store judges them
 * (core/apply.c): docs/design.md "Entry", "Verifying a run by its newest signature",
 * "Bad input".
 *
 *   - fixed test vectors: BLAKE2b-256 and ed25519 (RFC 8032) through libsodium, and
 *     one whole entry whose every byte was computed independently (Python hashlib
 *     and the `cryptography` package), its header checked field by field against
 *     the layout in docs/design.md;
 *   - round trips build -> decode for puts (many fields, value types, base
 *     stamps), dels, purges and redactions, and an independent encoder here that
 *     must produce the same bytes as cairn_entry_build;
 *   - every way decode refuses a header or an op;
 *   - flipping any bit pattern 0x01 or 0x80 in any byte of a signed entry makes
 *     the whole pipeline (decode, check_ops, verify_sig, apply) refuse it;
 *   - what a store refuses: forks, gaps, bad signatures, other networks, clocks
 *     too far ahead, oversize entries, malformed ops, non-members;
 *   - runs verified by their newest signature.
 */
#define _GNU_SOURCE /* memmem */
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_test.h"

/* ---- byte helpers ---- */

static void assert_bytes(const uint8_t *got, size_t n, const char *hex, const char *what) {
  cairn_test_bytes_t want = bytes_from_hex(hex);
  if (want.len != n || memcmp(got, want.p, n) != 0) {
    char g[2 * 512 + 1];
    cairn_hex(got, n < 512 ? n : 512, g);
    fail_msg("%s: got %s, want %s", what, g, hex);
  }
  bytes_free(&want);
}

static void b2(const void *p, size_t n, uint8_t out[32]) {
  crypto_generichash(out, 32, p, n, NULL, 0);
}

/* ---- an independent encoder (for cross-checks and for entries that
 * cairn_entry_build refuses to make) ---- */

typedef struct hdr {
  int nfields; /* 8, or fewer to cut the header short */
  uint64_t version;
  const uint8_t *network;
  uint32_t network_len;
  const uint8_t *author;
  uint32_t author_len;
  uint64_t seq;
  const uint8_t *prev; /* NULL: nil */
  uint64_t hlc;
  uint8_t root[32];
  uint64_t op_count;
} hdr_t;

static void pk_bin(msgpack_packer *pk, const uint8_t *b, size_t n) {
  assert_int_equal(msgpack_pack_bin_with_body(pk, b, n), 0);
}

static void pk_str(msgpack_packer *pk, const char *s) {
  assert_int_equal(msgpack_pack_str_with_body(pk, s, strlen(s)), 0);
}

static cairn_test_bytes_t pack_header(const hdr_t *h) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_test_bytes_t out = {0};
  int n = h->nfields;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, (size_t)n);
  if (n > 0)
    msgpack_pack_uint64(&pk, h->version);
  if (n > 1)
    pk_bin(&pk, h->network, h->network_len);
  if (n > 2)
    pk_bin(&pk, h->author, h->author_len);
  if (n > 3)
    msgpack_pack_uint64(&pk, h->seq);
  if (n > 4) {
    if (h->prev == NULL)
      msgpack_pack_nil(&pk);
    else
      pk_bin(&pk, h->prev, 32);
  }
  if (n > 5)
    msgpack_pack_uint64(&pk, h->hlc);
  if (n > 6)
    pk_bin(&pk, h->root, 32);
  if (n > 7)
    msgpack_pack_uint64(&pk, h->op_count);
  for (int i = 8; i < n; i++)
    msgpack_pack_nil(&pk);
  bytes_put(&out, sb.data, sb.size);
  msgpack_sbuffer_destroy(&sb);
  return out;
}

/* [header_bytes, sig, ops] from parts. */
static cairn_test_bytes_t assemble(const cairn_test_bytes_t *header, const uint8_t *sig, size_t sig_len,
                        const cairn_test_bytes_t *ops) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_test_bytes_t out = {0};
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 3);
  pk_bin(&pk, header->p, header->len);
  pk_bin(&pk, sig, sig_len);
  bytes_put(&out, sb.data, sb.size);
  bytes_put(&out, ops->p, ops->len);
  msgpack_sbuffer_destroy(&sb);
  return out;
}

/* An ops array of n elements given as separate byte strings, and its ops_root
 * (each element hashed as a whole: none may be a redaction here). */
static cairn_test_bytes_t ops_array(const cairn_test_bytes_t *ops, size_t n, uint8_t root[32]) {
  crypto_generichash_state st;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_test_bytes_t out = {0};
  uint8_t h[32];
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, n);
  bytes_put(&out, sb.data, sb.size);
  msgpack_sbuffer_destroy(&sb);
  crypto_generichash_init(&st, NULL, 0, 32);
  for (size_t i = 0; i < n; i++) {
    bytes_put(&out, ops[i].p, ops[i].len);
    b2(ops[i].p, ops[i].len, h);
    crypto_generichash_update(&st, h, 32);
  }
  crypto_generichash_final(&st, root, 32);
  return out;
}

/* [header, sig, arr] with h packed and signed by sk; bad_sig: a signature that
 * does not verify (the real one with its first byte changed). */
static cairn_test_bytes_t signed_with(const hdr_t *h, const cairn_test_bytes_t *arr,
                                      const uint8_t *sk, int bad_sig) {
  cairn_test_bytes_t header = pack_header(h);
  uint8_t sig[64];
  crypto_sign_detached(sig, NULL, header.p, header.len, sk);
  if (bad_sig)
    sig[0] ^= 0x01;
  cairn_test_bytes_t e = assemble(&header, sig, 64, arr);
  bytes_free(&header);
  return e;
}

/*
 * A signed entry of k's next seq over the given op elements, built without
 * cairn_entry_build. Does not advance k. bad_sig: a signature that does not
 * verify (the real one with its first byte changed).
 */
static cairn_test_bytes_t raw_entry_at(const cairn_test_key_t *k, uint64_t seq, const uint8_t *prev,
                            uint64_t hlc, const cairn_test_bytes_t *ops, size_t n, int bad_sig) {
  hdr_t h = {8, 1, k->network, 32, k->pk, 32, seq, prev, hlc, {0}, n};
  cairn_test_bytes_t arr = ops_array(ops, n, h.root);
  cairn_test_bytes_t e = signed_with(&h, &arr, k->sk, bad_sig);
  bytes_free(&arr);
  return e;
}

/* k's next entry over raw op elements; advances k like cairn_test_key_sign. */
static cairn_test_bytes_t raw_next(cairn_test_key_t *k, const cairn_test_bytes_t *ops, size_t n, int bad_sig) {
  uint64_t hlc = cairn_test_hlc();
  cairn_test_bytes_t e = raw_entry_at(k, k->seq + 1, k->seq ? k->head : NULL, hlc, ops, n, bad_sig);
  cairn_entry_t d;
  CAIRN_PASS(cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, NULL));
  cairn_entry_hash(&d, k->head);
  k->seq++;
  k->hlc = hlc;
  return e;
}

/* The start of a put of one field: [1, type, id, {field: [ — the value and the
 * base are for the caller to append. */
static cairn_test_bytes_t op_put_head(const char *type, const char *id, const char *field) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_test_bytes_t out = {0};
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 4);
  msgpack_pack_uint8(&pk, CAIRN_OP_PUT);
  pk_str(&pk, type);
  pk_str(&pk, id);
  msgpack_pack_map(&pk, 1);
  pk_str(&pk, field);
  msgpack_pack_array(&pk, 2);
  bytes_put(&out, sb.data, sb.size);
  msgpack_sbuffer_destroy(&sb);
  return out;
}

/* One packed op: [1, type, id, {field: [str value, []]}]. */
static cairn_test_bytes_t op_put1(const char *type, const char *id, const char *field,
                                  const char *value) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_test_bytes_t out = op_put_head(type, id, field);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  pk_str(&pk, value);
  msgpack_pack_array(&pk, 0);
  bytes_put(&out, sb.data, sb.size);
  msgpack_sbuffer_destroy(&sb);
  return out;
}

/* [kind, type, id] for del and purge. */
static cairn_test_bytes_t op_target(cairn_op_kind_t kind, const char *type, const char *id) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_test_bytes_t out = {0};
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 3);
  msgpack_pack_uint8(&pk, (uint8_t)kind);
  pk_str(&pk, type);
  pk_str(&pk, id);
  bytes_put(&out, sb.data, sb.size);
  msgpack_sbuffer_destroy(&sb);
  return out;
}

/* The ops array of one op (cairn_entry_build's input). */
static cairn_test_bytes_t ops_of(const cairn_test_bytes_t *op) {
  cairn_test_bytes_t out = {0};
  uint8_t one = 0x91;
  bytes_put(&out, &one, 1);
  bytes_put(&out, op->p, op->len);
  return out;
}

/* The signed entry k would sign next over the ops array `ops` (advances k). */
static cairn_test_bytes_t sign_next(cairn_test_key_t *k, const cairn_test_bytes_t *ops) {
  cairn_test_bytes_t e = {0};
  uint8_t *buf;
  size_t len;
  CAIRN_PASS(cairn_test_key_sign(k, ops->p, ops->len, &buf, &len));
  bytes_put(&e, buf, len);
  free(buf);
  return e;
}

/* ---- a store holding a network ---- */

typedef struct world {
  cairn_store_t *s;
  char *dir;
  cairn_test_key_t owner;
  cairn_test_bytes_t genesis;
} world_t;

/* A fresh store (opts may be NULL) that holds the genesis of owner (a random key
 * unless seed is given). */
static void world_open(world_t *w, const cairn_store_opts_t *opts, const uint8_t *seed) {
  uint8_t *g;
  size_t glen;
  memset(w, 0, sizeof *w);
  CAIRN_PASS(cairn_test_store_opts("tester", opts, &w->s, &w->dir));
  cairn_test_key_init(&w->owner, seed);
  CAIRN_PASS(cairn_test_genesis(&w->owner, NULL, "Test network", &g, &glen));
  bytes_put(&w->genesis, g, glen);
  free(g);
  CAIRN_PASS(cairn_test_apply1(w->s, w->genesis.p, w->genesis.len, NULL));
}

static void world_close(world_t *w) {
  cairn_close(w->s);
  CAIRN_PASS(cairn_test_rmrf(w->dir));
  free(w->dir);
  bytes_free(&w->genesis);
}

/* A key of the world's network, granted role by the owner (the grant applied). */
static void world_member(world_t *w, cairn_test_key_t *k, const char *role) {
  uint8_t *g;
  size_t glen;
  cairn_test_key_init(k, NULL);
  memcpy(k->network, w->owner.network, 32);
  CAIRN_PASS(cairn_test_grant(&w->owner, k->pk, role, &g, &glen));
  CAIRN_PASS(cairn_test_apply1(w->s, g, glen, NULL));
  free(g);
}

static uint64_t head_seq(cairn_store_t *s, const uint8_t *author) {
  uint64_t seq = 99999;
  CAIRN_PASS(cairn_store_head_seq(s, author, &seq));
  return seq;
}

static int apply_bytes(cairn_store_t *s, const cairn_test_bytes_t *e, cairn_error_t *err) {
  return cairn_test_apply1(s, e->p, e->len, err);
}

/* Into sb (cleared first): the ops array [[0, h], op1] of a two-op entry whose
 * first op is redacted to its hash h. */
static void pack_redacted_first(msgpack_sbuffer *sb, msgpack_packer *pk, const uint8_t h[32],
                                const cairn_test_bytes_t *op1) {
  msgpack_sbuffer_clear(sb);
  msgpack_pack_array(pk, 2);
  msgpack_pack_array(pk, 2);
  msgpack_pack_uint8(pk, CAIRN_OP_REDACTED);
  pk_bin(pk, h, 32);
  msgpack_sbuffer_write(sb, (const char *)op1->p, op1->len);
}

/* Offset of the signature inside an encoded entry. */
static size_t sig_offset(const cairn_test_bytes_t *e) {
  cairn_entry_t d;
  CAIRN_PASS(cairn_entry_decode(e->p, e->len, SIZE_MAX, &d, NULL));
  return (size_t)(d.sig - e->p);
}

/* ==== fixed test vectors ==== */

static void test_vector_blake2b(void **state) {
  uint8_t h[32];
  (void)state;
  /* BLAKE2b-256, cross-checked with python3 hashlib.blake2b(digest_size=32) */
  b2("", 0, h);
  assert_bytes(h, 32, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8",
               "BLAKE2b-256('')");
  b2("abc", 3, h);
  assert_bytes(h, 32, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319",
               "BLAKE2b-256('abc')");
  /* op_hash of [1, "partner", "p1", {"name": ["Acme", []]}] */
  cairn_test_bytes_t op = bytes_from_hex("94 01 a7 706172746e6572 a2 7031 81 a4 6e616d65 92 a4 41636d65 90");
  cairn__op_hash(op.p, op.len, h);
  assert_bytes(h, 32, "ea6367f0dcb9cfcfde0437234f78f01666bcf39bf8e07b8200d97ade0fd92caa",
               "op_hash");
  /* ops_root of that one op: BLAKE2b-256(op_hash) */
  b2(h, 32, h);
  assert_bytes(h, 32, "d8c7df38e607bfad1d073874d7e0ae2a4d2dd283e41d8d5ca036e2082f058adc",
               "ops_root");
  bytes_free(&op);
}

static void test_vector_ed25519(void **state) {
  uint8_t pk[32], sk[64], sig[64];
  (void)state;
  /* RFC 8032, section 7.1, TEST 1 (also checked with python `cryptography`) */
  cairn_test_bytes_t seed = bytes_from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed.p), 0);
  assert_bytes(pk, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
               "RFC 8032 public key");
  assert_int_equal(crypto_sign_detached(sig, NULL, (const uint8_t *)"", 0, sk), 0);
  assert_bytes(sig, 64,
               "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
               "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
               "RFC 8032 signature");
  assert_int_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"", 0, pk), 0);
  sig[10] ^= 1;
  assert_int_not_equal(crypto_sign_verify_detached(sig, (const uint8_t *)"", 0, pk), 0);
  bytes_free(&seed);
}

/*
 * One whole entry, every byte computed independently (python3: hashlib.blake2b and
 * cryptography's Ed25519 over a hand-packed header):
 * key from seed 00 01 .. 1f, nonce 42 x 32, network = BLAKE2b-256("cairn network
 * v1" || pk || nonce), seq 1, hlc 0x0001020304050607, one op
 * [1, "partner", "p1", {"name": ["Acme", []]}].
 */
#define VEC_PK "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define VEC_NET "cdd641b62e672ff23b0f6e5022f0659ee73ac439d8c12d97dcac3dacc2b57b39"
#define VEC_ROOT "d8c7df38e607bfad1d073874d7e0ae2a4d2dd283e41d8d5ca036e2082f058adc"
#define VEC_SIG                                                                     \
  "06d0ea88b826605ca6f97647a3ff3698bc7276f644f3b03af2859ddd9ed8474f"                \
  "e35596a46d726c12f9209590f894a5079a5c4ddb17429a474c3d865ba0290b07"
#define VEC_OP "9401a7706172746e6572a2703181a46e616d6592a441636d6590"
#define VEC_HASH "a1f02f91a91a804f87e035516388b98660e7f3c0e8f5878f5453d664ad2eafc8"

static void test_vector_entry(void **state) {
  uint8_t seed[32], pk[32], sk[64], net[32], nonce[32], h[32];
  crypto_generichash_state st;
  uint8_t *buf;
  size_t len;
  cairn_entry_t e;
  (void)state;
  for (int i = 0; i < 32; i++)
    seed[i] = (uint8_t)i;
  memset(nonce, 0x42, sizeof nonce);
  assert_int_equal(crypto_sign_seed_keypair(pk, sk, seed), 0);
  assert_bytes(pk, 32, VEC_PK, "public key from seed 00..1f");
  crypto_generichash_init(&st, NULL, 0, 32);
  crypto_generichash_update(&st, (const uint8_t *)"cairn network v1", 16);
  crypto_generichash_update(&st, pk, 32);
  crypto_generichash_update(&st, nonce, 32);
  crypto_generichash_final(&st, net, 32);
  assert_bytes(net, 32, VEC_NET, "network id");

  cairn_test_bytes_t ops = bytes_from_hex("91" VEC_OP);
  CAIRN_PASS(cairn_entry_build(sk, net, 1, NULL, 0x0001020304050607ull, ops.p, ops.len, &buf,
                               &len));
  /* docs/design.md: entry = [header_bytes(bin), signature(bin64), ops(array)],
   * header = [version=1, network(bin32), author(bin32), seq, prev(nil at 1), hlc,
   *           ops_root(bin32), op_count] — byte by byte: */
  static const struct {
    size_t off;
    const char *hex;
    const char *what;
  } layout[] = {
      {0, "93", "entry: array of 3"},
      {1, "c4 74", "header_bytes: bin 8 of 116 bytes"},
      {3, "98", "header: array of 8"},
      {4, "01", "version 1"},
      {5, "c4 20", "network: bin 32"},
      {7, VEC_NET, "network id"},
      {39, "c4 20", "author: bin 32"},
      {41, VEC_PK, "author key"},
      {73, "01", "seq 1"},
      {74, "c0", "prev: nil at seq 1"},
      {75, "cf 00 01 02 03 04 05 06 07", "hlc: uint 64"},
      {84, "c4 20", "ops_root: bin 32"},
      {86, VEC_ROOT, "ops_root"},
      {118, "01", "op_count 1"},
      {119, "c4 40", "signature: bin 8 of 64 bytes"},
      {121, VEC_SIG, "signature"},
      {185, "91", "ops: array of 1"},
      {186, VEC_OP, "the op, as hashed"},
  };
  assert_int_equal(len, 212);
  for (size_t i = 0; i < sizeof layout / sizeof layout[0]; i++) {
    cairn_test_bytes_t want = bytes_from_hex(layout[i].hex);
    assert_true(layout[i].off + want.len <= len);
    assert_bytes(buf + layout[i].off, want.len, layout[i].hex, layout[i].what);
    bytes_free(&want);
  }
  /* the signature covers exactly the header bytes */
  assert_int_equal(crypto_sign_verify_detached(buf + 121, buf + 3, 116, pk), 0);
  /* decode: views at the right places */
  CAIRN_PASS(cairn_entry_decode(buf, len, len, &e, NULL));
  assert_ptr_equal(e.bytes, buf);
  assert_int_equal(e.len, len);
  assert_ptr_equal(e.header, buf + 3);
  assert_int_equal(e.header_len, 116);
  assert_ptr_equal(e.network, buf + 7);
  assert_ptr_equal(e.author, buf + 41);
  assert_null(e.prev);
  assert_ptr_equal(e.ops_root, buf + 86);
  assert_ptr_equal(e.sig, buf + 121);
  assert_ptr_equal(e.ops, buf + 185);
  assert_int_equal(e.ops_len, 27);
  assert_int_equal(e.seq, 1);
  assert_true(e.hlc == 0x0001020304050607ull);
  assert_int_equal(e.op_count, 1);
  CAIRN_PASS(cairn_entry_check_ops(&e));
  CAIRN_PASS(cairn_entry_verify_sig(&e));
  cairn_entry_hash(&e, h);
  assert_bytes(h, 32, VEC_HASH, "entry hash = BLAKE2b-256(header || signature)");

  /* seq 2 chained to it: prev is that hash, packed as bin 32 after seq */
  uint8_t *buf2;
  size_t len2;
  CAIRN_PASS(cairn_entry_build(sk, net, 2, h, 0x0001020304050608ull, ops.p, ops.len, &buf2,
                               &len2));
  assert_int_equal(len2, 212 + 33);
  assert_bytes(buf2 + 1, 2, "c4 95", "header of 149 bytes");
  assert_bytes(buf2 + 73, 35, "02 c4 20" VEC_HASH, "seq 2, prev");
  assert_bytes(buf2 + 108, 9, "cf 00 01 02 03 04 05 06 08", "hlc");
  free(buf2);
  free(buf);
  bytes_free(&ops);
}

/* cairn_entry_build and the independent encoder here agree byte for byte. */
static void test_build_matches_independent_encoder(void **state) {
  (void)state;
  for (int round = 0; round < 20; round++) {
    cairn_test_key_t k;
    uint8_t prev[32];
    uint8_t *buf;
    size_t len;
    cairn_test_key_init(&k, NULL);
    randombytes_buf(k.network, 32);
    randombytes_buf(prev, 32);
    uint64_t seq = round % 3 == 0 ? 1 : (uint64_t)round * 1000003u;
    uint64_t hlc = (uint64_t)round << (round * 3 % 60);
    cairn_test_bytes_t op[3];
    op[0] = op_put1("partner", "p1", "name", "Acme");
    op[1] = op_target(CAIRN_OP_DEL, "plan", "x");
    op[2] = op_target(CAIRN_OP_PURGE, "note", "n");
    size_t nops = 1 + (size_t)round % 3;
    uint8_t root[32];
    cairn_test_bytes_t arr = ops_array(op, nops, root);
    CAIRN_PASS(cairn_entry_build(k.sk, k.network, seq, seq == 1 ? NULL : prev, hlc, arr.p,
                                 arr.len, &buf, &len));
    cairn_test_bytes_t raw = raw_entry_at(&k, seq, seq == 1 ? NULL : prev, hlc, op, nops, 0);
    assert_int_equal(len, raw.len);
    assert_memory_equal(buf, raw.p, len);
    free(buf);
    bytes_free(&raw);
    bytes_free(&arr);
    for (int i = 0; i < 3; i++)
      bytes_free(&op[i]);
  }
}

/* ==== round trips ==== */

/* A put with values of every kind and base stamps of 0..3 authors. */
static void test_roundtrip_put(void **state) {
  /* names in ascending order, as a put must list them */
  static const char *const names[] = {"f0name", "f1count", "f2neg",  "f3ratio", "f4flag",
                                      "f5none", "f6blob",  "f7tags", "f8meta",  "f9big"};
  enum { NF = 10 };
  uint8_t authors[3][32];
  msgpack_sbuffer sb, vb[NF];
  msgpack_packer pk, vp;
  cairn_test_key_t k;
  cairn_entry_t e;
  cairn_op_iter_t it;
  cairn_op_t op;
  cairn_field_iter_t fi;
  cairn_field_t f;
  cairn_stamp_t st;
  uint8_t *buf;
  size_t len;
  (void)state;
  for (int i = 0; i < 3; i++)
    randombytes_buf(authors[i], 32);
  /* each value packed on its own, to compare with the views decode gives */
  for (int i = 0; i < NF; i++) {
    msgpack_sbuffer_init(&vb[i]);
    msgpack_packer_init(&vp, &vb[i], msgpack_sbuffer_write);
    switch (i) {
    case 0: pk_str(&vp, "Acme Corp"); break;
    case 1: msgpack_pack_uint64(&vp, 1234567890123ull); break;
    case 2: msgpack_pack_int64(&vp, -42); break;
    case 3: msgpack_pack_double(&vp, 0.25); break;
    case 4: msgpack_pack_true(&vp); break;
    case 5: msgpack_pack_nil(&vp); break;
    case 6: pk_bin(&vp, authors[0], 32); break;
    case 7:
      msgpack_pack_array(&vp, 2);
      pk_str(&vp, "a");
      pk_str(&vp, "b");
      break;
    case 8:
      msgpack_pack_map(&vp, 1);
      pk_str(&vp, "k");
      msgpack_pack_array(&vp, 0);
      break;
    default: {
      char s[300];
      memset(s, 'x', sizeof s - 1);
      s[sizeof s - 1] = '\0';
      pk_str(&vp, s);
    }
    }
  }
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 1);
  msgpack_pack_array(&pk, 4);
  msgpack_pack_uint8(&pk, CAIRN_OP_PUT);
  pk_str(&pk, "partner");
  pk_str(&pk, "p-1");
  msgpack_pack_map(&pk, NF);
  for (int i = 0; i < NF; i++) {
    pk_str(&pk, names[i]);
    msgpack_pack_array(&pk, 2);
    msgpack_sbuffer_write(&sb, vb[i].data, vb[i].size);
    int nb = i % 4;
    msgpack_pack_array(&pk, (size_t)nb);
    for (int j = 0; j < nb; j++) {
      msgpack_pack_array(&pk, 2);
      msgpack_pack_uint64(&pk, (uint64_t)(i * 100 + j) << 16);
      pk_bin(&pk, authors[j], 32);
    }
  }
  cairn_test_key_init(&k, NULL);
  randombytes_buf(k.network, 32);
  CAIRN_PASS(cairn_test_key_sign(&k, (const uint8_t *)sb.data, sb.size, &buf, &len));
  CAIRN_PASS(cairn_entry_decode(buf, len, len, &e, NULL));
  CAIRN_PASS(cairn_entry_check_ops(&e));
  CAIRN_PASS(cairn_entry_verify_sig(&e));
  assert_memory_equal(e.network, k.network, 32);
  assert_memory_equal(e.author, k.pk, 32);
  assert_int_equal(e.seq, 1);
  assert_int_equal(e.op_count, 1);
  assert_true(e.hlc == k.hlc);
  assert_int_equal(e.ops_len, sb.size);
  assert_memory_equal(e.ops, sb.data, sb.size);
  cairn_op_iter_init(&e, &it);
  assert_int_equal(cairn_op_next(&it, &op), 1);
  assert_int_equal(op.kind, CAIRN_OP_PUT);
  assert_int_equal(op.type_len, 7);
  assert_memory_equal(op.type, "partner", 7);
  assert_int_equal(op.id_len, 3);
  assert_memory_equal(op.id, "p-1", 3);
  assert_int_equal(op.nfields, NF);
  assert_int_equal(op.raw_len, sb.size - 1);
  cairn_field_iter_init(&op, &fi);
  for (int i = 0; i < NF; i++) {
    assert_int_equal(cairn_field_next(&fi, &f), 1);
    assert_int_equal(f.name_len, strlen(names[i]));
    assert_memory_equal(f.name, names[i], f.name_len);
    assert_int_equal(f.value_len, vb[i].size);
    assert_memory_equal(f.value, vb[i].data, vb[i].size);
    assert_int_equal(f.nbase, (uint32_t)(i % 4));
    for (uint32_t j = 0; j < f.nbase; j++) {
      CAIRN_PASS(cairn_field_base(&f, j, &st));
      assert_true(st.hlc == (uint64_t)(i * 100 + (int)j) << 16);
      assert_memory_equal(st.author, authors[j], 32);
    }
    CAIRN_FAIL(cairn_field_base(&f, f.nbase, &st), CAIRN_EINVAL);
  }
  assert_int_equal(cairn_field_next(&fi, &f), 0);
  assert_int_equal(cairn_op_next(&it, &op), 0);
  free(buf);
  msgpack_sbuffer_destroy(&sb);
  for (int i = 0; i < NF; i++)
    msgpack_sbuffer_destroy(&vb[i]);
}

/* Several ops of every kind, at seq 1 and chained at seq 2 and 3. */
static void test_roundtrip_del_purge_chain(void **state) {
  cairn_test_key_t k;
  cairn_test_bytes_t op[4], ent[3];
  uint8_t root[32], prevhash[32];
  cairn_entry_t e;
  cairn_op_iter_t it;
  cairn_op_t o;
  (void)state;
  cairn_test_key_init(&k, NULL);
  randombytes_buf(k.network, 32);
  op[0] = op_put1("partner", "p1", "name", "Acme");
  op[1] = op_target(CAIRN_OP_DEL, "partner", "p2");
  op[2] = op_target(CAIRN_OP_PURGE, "person", "child-7");
  op[3] = op_put1("plan", "q", "title", "Literacy");
  for (int s = 0; s < 3; s++) {
    cairn_test_bytes_t arr = ops_array(op + s, 4 - (size_t)s, root);
    ent[s] = sign_next(&k, &arr);
    bytes_free(&arr);
  }
  for (int s = 0; s < 3; s++) {
    CAIRN_PASS(cairn_entry_decode(ent[s].p, ent[s].len, SIZE_MAX, &e, NULL));
    CAIRN_PASS(cairn_entry_check_ops(&e));
    CAIRN_PASS(cairn_entry_verify_sig(&e));
    assert_int_equal(e.seq, (uint64_t)s + 1);
    assert_int_equal(e.op_count, 4 - s);
    if (s == 0) {
      assert_null(e.prev);
    } else {
      /* prev = BLAKE2b-256(header_bytes || signature) of the entry before */
      assert_non_null(e.prev);
      assert_memory_equal(e.prev, prevhash, 32);
    }
    /* the hash, computed by hand */
    uint8_t *cat = malloc(e.header_len + 64);
    assert_non_null(cat);
    memcpy(cat, e.header, e.header_len);
    memcpy(cat + e.header_len, e.sig, 64);
    b2(cat, e.header_len + 64, prevhash);
    free(cat);
    uint8_t h[32];
    cairn_entry_hash(&e, h);
    assert_memory_equal(h, prevhash, 32);
    cairn_op_iter_init(&e, &it);
    for (int i = s; i < 4; i++) {
      assert_int_equal(cairn_op_next(&it, &o), 1);
      assert_int_equal(o.raw_len, op[i].len);
      assert_memory_equal(o.raw, op[i].p, op[i].len);
      static const cairn_op_kind_t kinds[] = {CAIRN_OP_PUT, CAIRN_OP_DEL, CAIRN_OP_PURGE,
                                              CAIRN_OP_PUT};
      assert_int_equal(o.kind, kinds[i]);
      if (o.kind != CAIRN_OP_PUT) {
        cairn_field_iter_t fi;
        cairn_field_t f;
        assert_int_equal(o.nfields, 0);
        cairn_field_iter_init(&o, &fi);
        assert_int_equal(cairn_field_next(&fi, &f), 0);
      }
    }
    assert_int_equal(cairn_op_next(&it, &o), 0);
  }
  assert_memory_equal(k.head, prevhash, 32);
  for (int i = 0; i < 4; i++)
    bytes_free(&op[i]);
  for (int s = 0; s < 3; s++)
    bytes_free(&ent[s]);
}

/* An op replaced by its redaction [0, op_hash]: same header, signature, root. */
static void test_redaction(void **state) {
  cairn_test_key_t k;
  cairn_test_bytes_t op[2];
  uint8_t root[32], h[32], hash_before[32], hash_after[32];
  cairn_entry_t e, r;
  cairn_op_iter_t it;
  cairn_op_t o;
  uint8_t *out;
  size_t out_len;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  (void)state;
  cairn_test_key_init(&k, NULL);
  randombytes_buf(k.network, 32);
  op[0] = op_put1("person", "child-7", "name", "Sam Okafor, 14 Elm Street, allergic to peanuts");
  op[1] = op_target(CAIRN_OP_DEL, "plan", "x");
  cairn_test_bytes_t arr = ops_array(op, 2, root);
  cairn_test_bytes_t ent = sign_next(&k, &arr);
  CAIRN_PASS(cairn_entry_decode(ent.p, ent.len, SIZE_MAX, &e, NULL));
  cairn_entry_hash(&e, hash_before);
  /* [[0, op_hash(op 0)], op 1] */
  cairn__op_hash(op[0].p, op[0].len, h);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  pack_redacted_first(&sb, &pk, h, &op[1]);
  CAIRN_PASS(cairn__entry_with_ops(&e, (const uint8_t *)sb.data, sb.size, &out, &out_len));
  assert_true(out_len < ent.len);
  CAIRN_PASS(cairn_entry_decode(out, out_len, SIZE_MAX, &r, NULL));
  CAIRN_PASS(cairn_entry_check_ops(&r));
  CAIRN_PASS(cairn_entry_verify_sig(&r));
  assert_int_equal(r.header_len, e.header_len);
  assert_memory_equal(r.header, e.header, e.header_len);
  assert_memory_equal(r.sig, e.sig, 64);
  cairn_entry_hash(&r, hash_after);
  assert_memory_equal(hash_after, hash_before, 32); /* the chain holds */
  assert_null(memmem(out, out_len, "Sam", 3));      /* the content is gone */
  cairn_op_iter_init(&r, &it);
  assert_int_equal(cairn_op_next(&it, &o), 1);
  assert_int_equal(o.kind, CAIRN_OP_REDACTED);
  assert_memory_equal(o.redacted_hash, h, 32);
  assert_null(o.type);
  assert_int_equal(cairn_op_next(&it, &o), 1);
  assert_int_equal(o.kind, CAIRN_OP_DEL);
  assert_int_equal(cairn_op_next(&it, &o), 0);
  free(out);

  /* redactions that do not match: a wrong hash, a missing op, an extra op */
  {
    uint8_t bad[32];
    memcpy(bad, h, 32);
    bad[31] ^= 1;
    pack_redacted_first(&sb, &pk, bad, &op[1]);
    CAIRN_FAIL(cairn__entry_with_ops(&e, (const uint8_t *)sb.data, sb.size, &out, &out_len),
               CAIRN_EBADHASH);
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 1);
    msgpack_sbuffer_write(&sb, (const char *)op[1].p, op[1].len);
    CAIRN_FAIL(cairn__entry_with_ops(&e, (const uint8_t *)sb.data, sb.size, &out, &out_len),
               CAIRN_EBADHASH);
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 3);
    msgpack_sbuffer_write(&sb, (const char *)op[0].p, op[0].len);
    msgpack_sbuffer_write(&sb, (const char *)op[1].p, op[1].len);
    msgpack_sbuffer_write(&sb, (const char *)op[1].p, op[1].len);
    CAIRN_FAIL(cairn__entry_with_ops(&e, (const uint8_t *)sb.data, sb.size, &out, &out_len),
               CAIRN_EBADHASH);
  }
  /* every op redacted: still the same entry */
  {
    uint8_t h1[32];
    cairn__op_hash(op[1].p, op[1].len, h1);
    msgpack_sbuffer_clear(&sb);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint8(&pk, CAIRN_OP_REDACTED);
    pk_bin(&pk, h, 32);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint8(&pk, CAIRN_OP_REDACTED);
    pk_bin(&pk, h1, 32);
    CAIRN_PASS(cairn__entry_with_ops(&e, (const uint8_t *)sb.data, sb.size, &out, &out_len));
    CAIRN_PASS(cairn_entry_decode(out, out_len, SIZE_MAX, &r, NULL));
    CAIRN_PASS(cairn_entry_check_ops(&r));
    CAIRN_PASS(cairn_entry_verify_sig(&r));
    free(out);
  }
  msgpack_sbuffer_destroy(&sb);
  bytes_free(&arr);
  bytes_free(&ent);
  bytes_free(&op[0]);
  bytes_free(&op[1]);
}

/* ==== what build and decode refuse ==== */

static void test_build_refuses(void **state) {
  cairn_test_key_t k;
  uint8_t prev[32] = {0}, *buf = NULL;
  size_t len;
  (void)state;
  cairn_test_key_init(&k, NULL);
  cairn_test_bytes_t op = op_put1("t", "i", "f", "v");
  cairn_test_bytes_t ops = ops_of(&op);
  CAIRN_FAIL(cairn_entry_build(k.sk, k.network, 0, NULL, 1, ops.p, ops.len, &buf, &len),
             CAIRN_EINVAL);
  CAIRN_FAIL(cairn_entry_build(k.sk, k.network, 1, prev, 1, ops.p, ops.len, &buf, &len),
             CAIRN_EINVAL);
  CAIRN_FAIL(cairn_entry_build(k.sk, k.network, 2, NULL, 1, ops.p, ops.len, &buf, &len),
             CAIRN_EINVAL);
  CAIRN_FAIL(cairn_entry_build(k.sk, k.network, 1, NULL, 1, (const uint8_t *)"\x90", 1, &buf,
                               &len),
             CAIRN_EMALFORMED); /* no ops */
  CAIRN_FAIL(cairn_entry_build(k.sk, k.network, 1, NULL, 1, op.p, op.len, &buf, &len),
             CAIRN_EMALFORMED); /* an op, not an array of ops */
  bytes_put(&ops, "\xc0", 1);
  CAIRN_FAIL(cairn_entry_build(k.sk, k.network, 1, NULL, 1, ops.p, ops.len, &buf, &len),
             CAIRN_EMALFORMED); /* trailing bytes */
  assert_null(buf);
  bytes_free(&op);
  bytes_free(&ops);
}

/* An entry of k with a header built from h (fields not set are taken from a valid
 * header), properly signed, with one valid op. */
static int decode_with_header(const cairn_test_key_t *k, void (*tweak)(hdr_t *h),
                              cairn_error_t *err) {
  uint8_t prev[32];
  memset(prev, 7, sizeof prev);
  cairn_test_bytes_t op = op_put1("t", "i", "f", "v");
  hdr_t h = {8, 1, k->network, 32, k->pk, 32, 2, prev, 1000, {0}, 1};
  cairn_test_bytes_t arr = ops_array(&op, 1, h.root);
  tweak(&h);
  cairn_test_bytes_t e = signed_with(&h, &arr, k->sk, 0);
  cairn_entry_t d;
  int rc = cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, err);
  bytes_free(&e);
  bytes_free(&arr);
  bytes_free(&op);
  return rc;
}

static void tw_none(hdr_t *h) { (void)h; }
static void tw_version2(hdr_t *h) { h->version = 2; }
static void tw_version0(hdr_t *h) { h->version = 0; }
static void tw_seven(hdr_t *h) { h->nfields = 7; }
static void tw_nine(hdr_t *h) { h->nfields = 9; }
static void tw_seq0(hdr_t *h) { h->seq = 0; }
static void tw_seq1_prev(hdr_t *h) { h->seq = 1; }
static void tw_seq2_nil(hdr_t *h) { h->prev = NULL; }
static void tw_net31(hdr_t *h) { h->network_len = 31; }
static void tw_author33(hdr_t *h) {
  static uint8_t a[33];
  h->author = a;
  h->author_len = 33;
}
static void tw_count0(hdr_t *h) { h->op_count = 0; }
static void tw_count2(hdr_t *h) { h->op_count = 2; }
static void tw_count_huge(hdr_t *h) { h->op_count = (uint64_t)UINT32_MAX + 2; }

static void test_decode_header_refused(void **state) {
  static const struct {
    void (*tweak)(hdr_t *h);
    int code;
    const char *what;
  } cases[] = {
      {tw_none, 0, "valid"},
      {tw_version2, CAIRN_EVERSION, "version 2"},
      {tw_version0, CAIRN_EVERSION, "version 0"},
      {tw_seven, CAIRN_EMALFORMED, "7 header fields"},
      {tw_nine, CAIRN_EMALFORMED, "9 header fields"},
      {tw_seq0, CAIRN_EMALFORMED, "seq 0"},
      {tw_seq1_prev, CAIRN_EMALFORMED, "seq 1 with a prev"},
      {tw_seq2_nil, CAIRN_EMALFORMED, "seq 2 without a prev"},
      {tw_net31, CAIRN_EMALFORMED, "network of 31 bytes"},
      {tw_author33, CAIRN_EMALFORMED, "author of 33 bytes"},
      {tw_count0, CAIRN_EMALFORMED, "op_count 0"},
      {tw_count2, CAIRN_EMALFORMED, "op_count 2 for 1 op"},
      {tw_count_huge, CAIRN_EMALFORMED, "op_count over 32 bits"},
  };
  cairn_test_key_t k;
  cairn_error_t err;
  (void)state;
  cairn_test_key_init(&k, NULL);
  randombytes_buf(k.network, 32);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cairn__error_clear(&err);
    int rc = decode_with_header(&k, cases[i].tweak, &err);
    if (rc != cases[i].code)
      fail_msg("%s: decode gave %s, want %s", cases[i].what, cairn_err_name(rc),
               cairn_err_name(cases[i].code));
    if (rc != 0) {
      assert_int_equal(err.code, rc);
      assert_true(strlen(err.msg) > 0);
    }
  }
}

/* Shapes around the header: outer array, signature, ops, trailing bytes, size. */
static void test_decode_shape_refused(void **state) {
  cairn_test_key_t k;
  cairn_entry_t d;
  cairn_error_t err;
  char hex[65];
  (void)state;
  cairn_test_key_init(&k, NULL);
  randombytes_buf(k.network, 32);
  cairn_test_bytes_t op = op_put1("t", "i", "f", "v");
  cairn_test_bytes_t arr = ops_of(&op);
  cairn_test_bytes_t good = sign_next(&k, &arr);
  size_t so = sig_offset(&good);
  CAIRN_PASS(cairn_entry_decode(good.p, good.len, good.len, &d, &err));
  /* size limit */
  CAIRN_FAIL(cairn_entry_decode(good.p, good.len, good.len - 1, &d, &err), CAIRN_ETOOBIG);
  assert_int_equal(err.code, CAIRN_ETOOBIG);
  /* every strict prefix, in a buffer of its own size (ASan sees overreads) */
  for (size_t cut = 0; cut < good.len; cut++) {
    uint8_t *q = malloc(cut ? cut : 1);
    assert_non_null(q);
    memcpy(q, good.p, cut);
    int rc = cairn_entry_decode(q, cut, SIZE_MAX, &d, NULL);
    if (rc != CAIRN_EMALFORMED)
      fail_msg("a prefix of %zu of %zu bytes: %s", cut, good.len, cairn_err_name(rc));
    free(q);
  }
  /* a trailing byte */
  {
    cairn_test_bytes_t t = {0};
    bytes_put(&t, good.p, good.len);
    bytes_put(&t, "\xc0", 1);
    CAIRN_FAIL(cairn_entry_decode(t.p, t.len, SIZE_MAX, &d, &err), CAIRN_EMALFORMED);
    assert_contains(err.msg, cairn_hex(k.pk, 32, hex));
    assert_contains(err.msg, "seq 1");
    bytes_free(&t);
  }
  /* outer array of 4, of 2 */
  {
    cairn_test_bytes_t t = {0};
    bytes_put(&t, good.p, good.len);
    t.p[0] = 0x94;
    bytes_put(&t, "\xc0", 1);
    CAIRN_FAIL(cairn_entry_decode(t.p, t.len, SIZE_MAX, &d, NULL), CAIRN_EMALFORMED);
    t.p[0] = 0x92;
    CAIRN_FAIL(cairn_entry_decode(t.p, good.len - arr.len, SIZE_MAX, &d, NULL),
               CAIRN_EMALFORMED);
    bytes_free(&t);
  }
  /* a signature of 63 bytes: c4 3f + 63 bytes */
  {
    cairn_test_bytes_t t = {0};
    bytes_put(&t, good.p, so - 2);
    bytes_put(&t, "\xc4\x3f", 2);
    bytes_put(&t, good.p + so, 63);
    bytes_put(&t, good.p + so + 64, good.len - so - 64);
    CAIRN_FAIL(cairn_entry_decode(t.p, t.len, SIZE_MAX, &d, &err), CAIRN_EMALFORMED);
    assert_contains(err.msg, "signature");
    bytes_free(&t);
  }
  /* header as a str instead of a bin */
  {
    cairn_test_bytes_t t = {0};
    bytes_put(&t, good.p, good.len);
    assert_int_equal(t.p[1], 0xc4);
    t.p[1] = 0xd9;
    CAIRN_FAIL(cairn_entry_decode(t.p, t.len, SIZE_MAX, &d, NULL), CAIRN_EMALFORMED);
    bytes_free(&t);
  }
  /* ops as a map */
  {
    cairn_test_bytes_t t = {0};
    bytes_put(&t, good.p, good.len);
    t.p[so + 64] = 0x81;
    CAIRN_FAIL(cairn_entry_decode(t.p, t.len, SIZE_MAX, &d, NULL), CAIRN_EMALFORMED);
    bytes_free(&t);
  }
  /* an empty buffer, and a 4 GB array claim */
  CAIRN_FAIL(cairn_entry_decode("", 0, SIZE_MAX, &d, NULL), CAIRN_EMALFORMED);
  CAIRN_FAIL(cairn_entry_decode("\xdd\xff\xff\xff\xff", 5, SIZE_MAX, &d, NULL),
             CAIRN_EMALFORMED);
  bytes_free(&op);
  bytes_free(&arr);
  bytes_free(&good);
}

/* ---- malformed ops ---- */

static cairn_test_bytes_t str_of(char c, size_t n) {
  cairn_test_bytes_t b = {0};
  for (size_t i = 0; i < n; i++)
    bytes_put(&b, &c, 1);
  bytes_put(&b, "", 1); /* NUL-terminated for pk_str */
  return b;
}

/* [1, type, id, {field: [value, base]}] with value and base given as packed bytes. */
static cairn_test_bytes_t op_put_raw(const char *type, const char *id, const char *field,
                                     const char *value_hex, const char *base_hex) {
  cairn_test_bytes_t out = op_put_head(type, id, field);
  bytes_hex(&out, value_hex);
  bytes_hex(&out, base_hex);
  return out;
}

/* A base of n stamps [hlc, author] with a 32-byte author. */
static char *base_hex(size_t n) {
  size_t cap = 16 + n * (2 + 18 + 4 + 64) + 1;
  char *s = malloc(cap), *p = s;
  assert_non_null(s);
  p += snprintf(p, cap, n < 16 ? "%02zx" : "dc%04zx", n < 16 ? 0x90 + n : n);
  for (size_t i = 0; i < n; i++)
    p += snprintf(p, cap - (size_t)(p - s), "92 cd%04zx c420%064d", i + 1, 0);
  return s;
}

/* A del's seen or a put's dseen of n stamps whose authors are 0..0 a, with a
 * going from `first` by `step` (1: ascending; 0: all the same; -1: descending). */
static char *seen_hex(size_t n, int first, int step) {
  size_t cap = 16 + n * (2 + 18 + 4 + 64) + 1;
  char *s = malloc(cap), *p = s;
  assert_non_null(s);
  p += snprintf(p, cap, n < 16 ? "%02zx" : "dc%04zx", n < 16 ? 0x90 + n : n);
  for (size_t i = 0; i < n; i++)
    p += snprintf(p, cap - (size_t)(p - s), "92 cd%04zx c420%060d%04x", i + 1, 0,
                  (unsigned)(first + (int)i * step));
  return s;
}

/* hex, then hex2 appended (either may be NULL), as one op. */
static cairn_test_bytes_t op_hex2(const char *hex, const char *hex2) {
  cairn_test_bytes_t b = bytes_from_hex(hex);
  if (hex2 != NULL)
    bytes_hex(&b, hex2);
  return b;
}

typedef struct badop {
  const char *what;
  cairn_test_bytes_t op;
} badop_t;

static size_t make_bad_ops(badop_t *b) {
  size_t n = 0;
  cairn_test_bytes_t t65 = str_of('t', 65), i129 = str_of('i', 129), f65 = str_of('f', 65);
  char *b65 = base_hex(65), *s65 = seen_hex(65, 1, 1), *s2same = seen_hex(2, 1, 0);
  char *s2desc = seen_hex(2, 2, -1);
  b[n++] = (badop_t){"op kind 9", bytes_from_hex("94 09 a1 74 a1 69 81 a1 66 92 c0 90")};
  b[n++] = (badop_t){"op kind 4", bytes_from_hex("93 04 a1 74 a1 69")};
  b[n++] = (badop_t){"op kind -1", bytes_from_hex("93 ff a1 74 a1 69")};
  b[n++] = (badop_t){"op kind as a str", bytes_from_hex("93 a1 32 a1 74 a1 69")};
  b[n++] = (badop_t){"op kind 2^32 + 1", bytes_from_hex("93 cf 00 00 00 01 00 00 00 01 a1 74 a1 69")};
  b[n++] = (badop_t){"op not an array", bytes_from_hex("83 01 a1 74 02 a1 69 03 c0")};
  b[n++] = (badop_t){"empty fields map", bytes_from_hex("94 01 a1 74 a1 69 80")};
  b[n++] = (badop_t){"duplicate field names",
                     bytes_from_hex("94 01 a1 74 a1 69 82 a1 66 92 01 90 a1 66 92 02 90")};
  b[n++] = (badop_t){"duplicate field names, not adjacent",
                     bytes_from_hex("94 01 a1 74 a1 69 83 a1 66 92 01 90 a1 67 92 01 90 a1 66 92 02 90")};
  b[n++] = (badop_t){"field names descending (g before f)",
                     bytes_from_hex("94 01 a1 74 a1 69 82 a1 67 92 01 90 a1 66 92 02 90")};
  b[n++] = (badop_t){"longer name before its prefix (ff before f)",
                     bytes_from_hex("94 01 a1 74 a1 69 82 a2 66 66 92 01 90 a1 66 92 02 90")};
  b[n++] = (badop_t){"field name starting with '_'", op_put_raw("t", "i", "_f", "c0", "90")};
  b[n++] = (badop_t){"empty field name", op_put_raw("t", "i", "", "c0", "90")};
  b[n++] = (badop_t){"field name of 65 bytes", op_put_raw("t", "i", (char *)f65.p, "c0", "90")};
  b[n++] = (badop_t){"field name with a NUL", bytes_from_hex("94 01 a1 74 a1 69 81 a2 66 00 92 c0 90")};
  b[n++] = (badop_t){"field name as a bin", bytes_from_hex("94 01 a1 74 a1 69 81 c4 01 66 92 c0 90")};
  b[n++] = (badop_t){"type of 65 bytes", op_put_raw((char *)t65.p, "i", "f", "c0", "90")};
  b[n++] = (badop_t){"empty type", op_put_raw("", "i", "f", "c0", "90")};
  b[n++] = (badop_t){"type with a NUL", bytes_from_hex("93 02 a2 74 00 a1 69")};
  b[n++] = (badop_t){"id of 129 bytes", op_put_raw("t", (char *)i129.p, "f", "c0", "90")};
  b[n++] = (badop_t){"empty id", bytes_from_hex("93 03 a1 74 a0")};
  b[n++] = (badop_t){"base stamp author of 31 bytes",
                     op_put_raw("t", "i", "f", "c0", "91 92 01 c4 1f 00000000000000000000"
                                                     "000000000000000000000000000000000000"
                                                     "00000000000000")};
  b[n++] = (badop_t){"base stamp author as str 32",
                     op_put_raw("t", "i", "f", "c0", "91 92 01 d9 20 00000000000000000000"
                                                     "000000000000000000000000000000000000"
                                                     "0000000000000000")};
  b[n++] = (badop_t){"base stamp author as nil", op_put_raw("t", "i", "f", "c0", "91 92 01 c0")};
  b[n++] = (badop_t){"base stamp hlc negative",
                     op_put_raw("t", "i", "f", "c0", "91 92 ff c4 20 00000000000000000000"
                                                     "000000000000000000000000000000000000"
                                                     "0000000000000000")};
  b[n++] = (badop_t){"base stamp of 3 elements",
                     op_put_raw("t", "i", "f", "c0", "91 93 01 c4 20 00000000000000000000"
                                                     "000000000000000000000000000000000000"
                                                     "0000000000000000 c0")};
  b[n++] = (badop_t){"base not an array", op_put_raw("t", "i", "f", "c0", "c0")};
  b[n++] = (badop_t){"base of 65 stamps", op_put_raw("t", "i", "f", "c0", b65)};
  b[n++] = (badop_t){"field without its base", bytes_from_hex("94 01 a1 74 a1 69 81 a1 66 91 c0")};
  b[n++] = (badop_t){"field as a bare value", bytes_from_hex("94 01 a1 74 a1 69 81 a1 66 c0")};
  b[n++] = (badop_t){"value with the never-used byte", op_put_raw("t", "i", "f", "c1", "90")};
  b[n++] = (badop_t){"value nested 17 deep",
                     op_put_raw("t", "i", "f", "91919191919191919191919191919191 91 c0", "90")};
  b[n++] = (badop_t){"put of 3 elements", bytes_from_hex("93 01 a1 74 a1 69")};
  b[n++] = (badop_t){"put of 5 elements", bytes_from_hex("95 01 a1 74 a1 69 81 a1 66 92 c0 90 c0")};
  b[n++] = (badop_t){"del of 4 elements", bytes_from_hex("94 02 a1 74 a1 69 c0")};
  b[n++] = (badop_t){"put of 6 elements", bytes_from_hex("96 01 a1 74 a1 69 81 a1 66 92 c0 90 90 90")};
  b[n++] = (badop_t){"del of 5 elements", bytes_from_hex("95 02 a1 74 a1 69 90 90")};
  b[n++] = (badop_t){"purge with a seen", bytes_from_hex("94 03 a1 74 a1 69 90")};
  b[n++] = (badop_t){"put with an empty dseen", bytes_from_hex("95 01 a1 74 a1 69 81 a1 66 92 c0 90 90")};
  b[n++] = (badop_t){"put with no field and an empty dseen", bytes_from_hex("95 01 a1 74 a1 69 80 90")};
  b[n++] = (badop_t){"del seen of 65 stamps", op_hex2("94 02 a1 74 a1 69", s65)};
  b[n++] = (badop_t){"put dseen of 65 stamps", op_hex2("95 01 a1 74 a1 69 80", s65)};
  b[n++] = (badop_t){"del seen naming one author twice", op_hex2("94 02 a1 74 a1 69", s2same)};
  b[n++] = (badop_t){"del seen authors descending", op_hex2("94 02 a1 74 a1 69", s2desc)};
  b[n++] = (badop_t){"put dseen authors descending", op_hex2("95 01 a1 74 a1 69 80", s2desc)};
  b[n++] = (badop_t){"del seen stamp without its author", bytes_from_hex("94 02 a1 74 a1 69 91 91 01")};
  b[n++] = (badop_t){"del seen as a map", bytes_from_hex("94 02 a1 74 a1 69 80")};
  b[n++] = (badop_t){"purge of 2 elements", bytes_from_hex("92 03 a1 74")};
  b[n++] = (badop_t){"redaction of 31 bytes",
                     bytes_from_hex("92 00 c4 1f 00000000000000000000000000000000000000000000000000000000"
                          "000000")};
  b[n++] = (badop_t){"redaction of 3 elements",
                     bytes_from_hex("93 00 c4 20 0000000000000000000000000000000000000000000000000000000000"
                          "000000 c0")};
  bytes_free(&t65);
  bytes_free(&i129);
  bytes_free(&f65);
  free(b65);
  free(s65);
  free(s2same);
  free(s2desc);
  return n;
}

/* Ops at the limits are accepted. */
static void test_ops_at_limits(void **state) {
  world_t w;
  (void)state;
  world_open(&w, NULL, NULL);
  cairn_test_bytes_t t64 = str_of('t', 64), i128 = str_of('i', 128), f64 = str_of('f', 64);
  char *b64 = base_hex(64);
  cairn_test_bytes_t ops[3];
  ops[0] = op_put_raw((char *)t64.p, (char *)i128.p, (char *)f64.p,
                      "919191919191919191919191919191 91 c0", b64); /* depth 16 */
  ops[1] = op_target(CAIRN_OP_DEL, (char *)t64.p, (char *)i128.p);
  ops[2] = op_put_raw("t", "i", "f", "c0", "90");
  cairn_test_bytes_t e = raw_next(&w.owner, ops, 3, 0);
  cairn_entry_t d;
  CAIRN_PASS(cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, NULL));
  CAIRN_PASS(cairn_entry_check_ops(&d));
  cairn_error_t err;
  int rc = apply_bytes(w.s, &e, &err);
  if (rc != 0)
    fail_msg("ops at the limits refused: %s", err.msg);
  bytes_free(&e);
  for (int i = 0; i < 3; i++)
    bytes_free(&ops[i]);
  bytes_free(&t64);
  bytes_free(&i128);
  bytes_free(&f64);
  free(b64);
  world_close(&w);
}

/*
 * A del's seen and a put's dseen decode, read back in order with cairn_op_seen,
 * and a store applies them: a del with an empty seen (it saw nothing) or 64
 * stamps, a put with fields and a dseen, a put with no field and a dseen (it
 * keeps the record). A del without seen still decodes, seen NULL.
 */
static void test_seen_ops(void **state) {
  world_t w;
  char *s64 = seen_hex(64, 1, 1), *s2 = seen_hex(2, 1, 1);
  cairn_test_bytes_t ops[5];
  cairn_entry_t d;
  cairn_op_iter_t it;
  cairn_op_t op;
  cairn_stamp_t st[CAIRN_SEEN_MAX];
  cairn_error_t err;
  (void)state;
  world_open(&w, NULL, NULL);
  ops[0] = op_hex2("94 02 a1 74 a1 61", "90");
  ops[1] = op_hex2("94 02 a1 74 a1 62", s64);
  ops[2] = op_hex2("95 01 a1 74 a1 63 81 a1 66 92 a1 76 90", s2);
  ops[3] = op_hex2("95 01 a1 74 a1 64 80", s2);
  ops[4] = op_target(CAIRN_OP_DEL, "t", "e");
  cairn_test_bytes_t e = raw_next(&w.owner, ops, 5, 0);
  CAIRN_PASS(cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, NULL));
  CAIRN_PASS(cairn_entry_check_ops(&d));
  static const uint32_t nseen[5] = {0, 64, 2, 2, 0};
  static const uint32_t nfields[5] = {0, 0, 1, 0, 0};
  cairn_op_iter_init(&d, &it);
  for (int i = 0; i < 5; i++) {
    assert_int_equal(cairn_op_next(&it, &op), 1);
    assert_int_equal(op.nseen, nseen[i]);
    assert_int_equal(op.nfields, nfields[i]);
    assert_true((op.seen == NULL) == (i == 4));
    assert_int_equal(cairn_op_seen(&op, st), nseen[i]);
    for (uint32_t k = 0; k < nseen[i]; k++) {
      assert_int_equal(st[k].hlc, k + 1);
      assert_int_equal(st[k].author[31], k + 1);
    }
  }
  assert_int_equal(cairn_op_next(&it, &op), 0);
  int rc = apply_bytes(w.s, &e, &err);
  if (rc != 0)
    fail_msg("seen and dseen refused: %s", err.msg);
  bytes_free(&e);
  for (int i = 0; i < 5; i++)
    bytes_free(&ops[i]);
  free(s64);
  free(s2);
  world_close(&w);
}

static void test_malformed_ops(void **state) {
  badop_t bad[64];
  world_t w;
  char hex[65];
  (void)state;
  size_t n = make_bad_ops(bad);
  world_open(&w, NULL, NULL);
  cairn_hex(w.owner.pk, 32, hex);
  cairn_test_bytes_t good = op_put1("t", "i", "f", "v");
  for (size_t i = 0; i < n; i++) {
    cairn_entry_t d;
    cairn_error_t err;
    uint8_t *buf = NULL;
    size_t len;
    int rc;
    /* alone and after a good op */
    for (int pos = 0; pos < 2; pos++) {
      cairn_test_bytes_t ops[2];
      ops[0] = good;
      ops[pos] = bad[i].op;
      size_t nops = (size_t)pos + 1;
      uint8_t root[32];
      cairn_test_bytes_t arr = ops_array(ops, nops, root);
      /* build refuses to sign them */
      rc = cairn_entry_build(w.owner.sk, w.owner.network, w.owner.seq + 1, w.owner.head,
                             cairn_test_hlc(), arr.p, arr.len, &buf, &len);
      if (rc != CAIRN_EMALFORMED)
        fail_msg("%s: build gave %s", bad[i].what, cairn_err_name(rc));
      /* signed anyway (by hand): decode refuses, naming author and seq */
      cairn_test_bytes_t e = raw_entry_at(&w.owner, w.owner.seq + 1, w.owner.head, cairn_test_hlc(), ops,
                               nops, 0);
      rc = cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, &err);
      if (rc != CAIRN_EMALFORMED)
        fail_msg("%s: decode gave %s", bad[i].what, cairn_err_name(rc));
      assert_contains(err.msg, hex);
      assert_contains(err.msg, "malformed ops");
      /* and so does a store holding the author's chain */
      cairn_apply_stats_t stats;
      cairn_buf_t one = {e.p, e.len};
      rc = cairn_store_apply(w.s, &one, 1, &stats, &err);
      if (rc != CAIRN_EMALFORMED)
        fail_msg("%s: apply gave %s", bad[i].what, cairn_err_name(rc));
      assert_int_equal(stats.failed_at, 0);
      assert_int_equal(stats.applied, 0);
      bytes_free(&e);
      bytes_free(&arr);
    }
    bytes_free(&bad[i].op);
  }
  assert_int_equal(head_seq(w.s, w.owner.pk), 1);
  bytes_free(&good);
  world_close(&w);
}

/* The duplicate-field check must not be quadratic: decode runs before any
 * signature is checked, so a peer could otherwise pin a relay's CPU with one
 * entry. 8192 distinct fields (~75 KB) must decode in well under a second (a
 * 1 MiB entry holds ~150,000). */
static void test_many_fields_decode_fast(void **state) {
  enum { NF = 8192 };
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_test_key_t k;
  cairn_entry_t d;
  uint8_t *buf;
  size_t len;
  char name[8];
  (void)state;
  cairn_test_key_init(&k, NULL);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  msgpack_pack_array(&pk, 1);
  msgpack_pack_array(&pk, 4);
  msgpack_pack_uint8(&pk, CAIRN_OP_PUT);
  pk_str(&pk, "t");
  pk_str(&pk, "i");
  msgpack_pack_map(&pk, NF);
  for (int i = 0; i < NF; i++) {
    snprintf(name, sizeof name, "f%04x", i);
    pk_str(&pk, name);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_nil(&pk);
    msgpack_pack_array(&pk, 0);
  }
  /* build with an independent root so that the build itself is not timed */
  cairn_test_bytes_t op = {0};
  bytes_put(&op, sb.data + 1, sb.size - 1);
  cairn_test_bytes_t e = raw_entry_at(&k, 1, NULL, 1, &op, 1, 0);
  (void)buf;
  (void)len;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CAIRN_PASS(cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, NULL));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (secs > 0.5)
    fail_msg("decoding a put of %d fields (%zu bytes) took %.2f s: the duplicate-name check "
             "in parse_fields (core/entry.c) is quadratic",
             NF, e.len, secs);
  msgpack_sbuffer_destroy(&sb);
  bytes_free(&op);
  bytes_free(&e);
}

/* ==== no single-byte change gets through ==== */

/* The whole pipeline: decode, check_ops, verify_sig, then apply to s. */
static int pipeline(cairn_store_t *s, const uint8_t *p, size_t n) {
  cairn_entry_t e;
  int rc;
  if ((rc = cairn_entry_decode(p, n, CAIRN_ENTRY_MAX_DEFAULT, &e, NULL)) != 0)
    return rc;
  if ((rc = cairn_entry_check_ops(&e)) != 0)
    return rc;
  if ((rc = cairn_entry_verify_sig(&e)) != 0)
    return rc;
  return cairn_test_apply1(s, p, n, NULL);
}

/* Flip 0x01 and 0x80 at every byte of e; s holds the author's earlier entries and
 * must refuse every variant, whether through the pipeline or through apply alone. */
static void flip_every_byte(cairn_store_t *s, const cairn_test_bytes_t *e, const uint8_t *author,
                            uint64_t seq_before, const char *what) {
  static const uint8_t masks[] = {0x01, 0x80};
  uint8_t *q = malloc(e->len);
  assert_non_null(q);
  for (size_t i = 0; i < e->len; i++)
    for (size_t m = 0; m < 2; m++) {
      memcpy(q, e->p, e->len);
      q[i] ^= masks[m];
      int rc = pipeline(s, q, e->len);
      if (rc == 0)
        fail_msg("%s: byte %zu ^ %02x accepted by the pipeline", what, i, masks[m]);
      rc = cairn_test_apply1(s, q, e->len, NULL);
      if (rc == 0)
        fail_msg("%s: byte %zu ^ %02x accepted by cairn_store_apply", what, i, masks[m]);
      if (head_seq(s, author) != seq_before)
        fail_msg("%s: byte %zu ^ %02x moved the head", what, i, masks[m]);
    }
  free(q);
  /* and the original still goes through */
  CAIRN_PASS(pipeline(s, e->p, e->len));
  assert_int_equal(head_seq(s, author), seq_before + 1);
}

static void test_flip_every_byte(void **state) {
  cairn_store_t *s;
  char *dir;
  cairn_test_key_t k;
  uint8_t *g;
  size_t glen;
  world_t w;
  (void)state;
  /* a genesis against an empty store */
  CAIRN_PASS(cairn_test_store("flip", &s, &dir));
  cairn_test_key_init(&k, NULL);
  CAIRN_PASS(cairn_test_genesis(&k, NULL, "Flip", &g, &glen));
  cairn_test_bytes_t ge = {0};
  bytes_put(&ge, g, glen);
  free(g);
  flip_every_byte(s, &ge, k.pk, 0, "genesis");
  bytes_free(&ge);
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);

  /* seq 2 (put with a base, del) against a store holding seq 1 */
  world_open(&w, NULL, NULL);
  cairn_test_bytes_t ops[2];
  ops[0] = op_put_raw("partner", "p1", "name", "a4 41636d65",
                      "91 92 cf 0000000100000000 c420 "
                      "0101010101010101010101010101010101010101010101010101010101010101");
  ops[1] = op_target(CAIRN_OP_DEL, "plan", "x");
  cairn_test_bytes_t e2 = raw_next(&w.owner, ops, 2, 0);
  flip_every_byte(w.s, &e2, w.owner.pk, 1, "seq 2");
  world_close(&w);

  /* the same entry with its put redacted, against a fresh store holding seq 1 */
  {
    world_t w2;
    cairn_entry_t d;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    uint8_t h[32], *out;
    size_t out_len;
    world_open(&w2, NULL, NULL);
    cairn_test_bytes_t e = raw_next(&w2.owner, ops, 2, 0);
    CAIRN_PASS(cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, NULL));
    cairn__op_hash(ops[0].p, ops[0].len, h);
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    pack_redacted_first(&sb, &pk, h, &ops[1]);
    CAIRN_PASS(cairn__entry_with_ops(&d, (const uint8_t *)sb.data, sb.size, &out, &out_len));
    cairn_test_bytes_t r = {0};
    bytes_put(&r, out, out_len);
    free(out);
    flip_every_byte(w2.s, &r, w2.owner.pk, 1, "seq 2 redacted");
    msgpack_sbuffer_destroy(&sb);
    bytes_free(&r);
    bytes_free(&e);
    world_close(&w2);
  }
  bytes_free(&e2);
  bytes_free(&ops[0]);
  bytes_free(&ops[1]);
}

/* ==== what a store refuses ==== */

static void test_fork(void **state) {
  world_t w;
  cairn_error_t err;
  cairn_apply_stats_t stats;
  char hex[65];
  (void)state;
  world_open(&w, NULL, NULL);
  cairn_test_key_t fork = w.owner; /* the same key, restored from a backup */
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  cairn_test_bytes_t b = op_put1("partner", "p1", "name", "Other");
  cairn_test_bytes_t oa = ops_of(&a), ob = ops_of(&b);
  cairn_test_bytes_t e2a = sign_next(&w.owner, &oa);
  cairn_test_bytes_t e2b = sign_next(&fork, &ob);
  CAIRN_PASS(apply_bytes(w.s, &e2a, NULL));
  /* the same entry again: skipped */
  cairn_buf_t one = {e2a.p, e2a.len};
  CAIRN_PASS(cairn_store_apply(w.s, &one, 1, &stats, NULL));
  assert_int_equal(stats.skipped, 1);
  assert_int_equal(stats.applied, 0);
  /* another entry at seq 2, signed by the same key */
  one = (cairn_buf_t){e2b.p, e2b.len};
  CAIRN_FAIL(cairn_store_apply(w.s, &one, 1, &stats, &err), CAIRN_EFORK);
  assert_int_equal(err.code, CAIRN_EFORK);
  assert_contains(err.msg, cairn_hex(w.owner.pk, 32, hex));
  assert_contains(err.msg, "seq 2");
  assert_int_equal(stats.failed_at, 0);
  assert_int_equal(head_seq(w.s, w.owner.pk), 2);
  /* the fork's next entry does not chain to what the store holds */
  cairn_test_bytes_t e3b = sign_next(&fork, &ob);
  assert_int_not_equal(apply_bytes(w.s, &e3b, NULL), 0);
  bytes_free(&a);
  bytes_free(&b);
  bytes_free(&oa);
  bytes_free(&ob);
  bytes_free(&e2a);
  bytes_free(&e2b);
  bytes_free(&e3b);
  world_close(&w);
}

static void test_gap(void **state) {
  world_t w;
  cairn_error_t err;
  char hex[65];
  (void)state;
  world_open(&w, NULL, NULL);
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  cairn_test_bytes_t oa = ops_of(&a);
  cairn_test_bytes_t e2 = sign_next(&w.owner, &oa);
  cairn_test_bytes_t e3 = sign_next(&w.owner, &oa);
  CAIRN_FAIL(apply_bytes(w.s, &e3, &err), CAIRN_EGAP);
  assert_contains(err.msg, cairn_hex(w.owner.pk, 32, hex));
  assert_contains(err.msg, "seq 3");
  assert_int_equal(head_seq(w.s, w.owner.pk), 1);
  /* the missing link closes the gap */
  CAIRN_PASS(apply_bytes(w.s, &e2, NULL));
  CAIRN_PASS(apply_bytes(w.s, &e3, NULL));
  assert_int_equal(head_seq(w.s, w.owner.pk), 3);
  /* a member's seq 2 before its seq 1 */
  cairn_test_key_t m;
  world_member(&w, &m, "editor");
  cairn_test_bytes_t m1 = sign_next(&m, &oa);
  cairn_test_bytes_t m2 = sign_next(&m, &oa);
  CAIRN_FAIL(apply_bytes(w.s, &m2, NULL), CAIRN_EGAP);
  CAIRN_PASS(apply_bytes(w.s, &m1, NULL));
  CAIRN_PASS(apply_bytes(w.s, &m2, NULL));
  assert_int_equal(head_seq(w.s, m.pk), 2);
  bytes_free(&a);
  bytes_free(&oa);
  bytes_free(&e2);
  bytes_free(&e3);
  bytes_free(&m1);
  bytes_free(&m2);
  world_close(&w);
}

static void test_bad_signature(void **state) {
  world_t w;
  cairn_error_t err;
  cairn_entry_t d;
  (void)state;
  world_open(&w, NULL, NULL);
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  cairn_test_bytes_t oa = ops_of(&a);
  uint8_t genesis_hash[32];
  memcpy(genesis_hash, w.owner.head, 32);
  cairn_test_bytes_t e2 = sign_next(&w.owner, &oa);
  size_t so = sig_offset(&e2);
  for (size_t i = 0; i < 64; i += 9) {
    e2.p[so + i] ^= 0x10;
    CAIRN_PASS(cairn_entry_decode(e2.p, e2.len, SIZE_MAX, &d, NULL));
    CAIRN_FAIL(cairn_entry_verify_sig(&d), CAIRN_EBADSIG);
    CAIRN_FAIL(apply_bytes(w.s, &e2, &err), CAIRN_EBADSIG);
    assert_contains(err.msg, "seq 2");
    e2.p[so + i] ^= 0x10;
  }
  /* signed by another key */
  cairn_test_key_t other;
  cairn_test_key_init(&other, NULL);
  hdr_t h = {8, 1, w.owner.network, 32, w.owner.pk, 32, 2, genesis_hash, cairn_test_hlc(), {0}, 1};
  cairn_test_bytes_t arr = ops_array(&a, 1, h.root);
  cairn_test_bytes_t forged = signed_with(&h, &arr, other.sk, 0);
  CAIRN_FAIL(apply_bytes(w.s, &forged, NULL), CAIRN_EBADSIG);
  assert_int_equal(head_seq(w.s, w.owner.pk), 1);
  CAIRN_PASS(apply_bytes(w.s, &e2, NULL));
  bytes_free(&a);
  bytes_free(&oa);
  bytes_free(&e2);
  bytes_free(&arr);
  bytes_free(&forged);
  world_close(&w);
}

/* A validly signed entry whose prev, or whose ops, do not match. */
static void test_bad_links(void **state) {
  world_t w;
  cairn_error_t err;
  uint8_t prev[32];
  (void)state;
  world_open(&w, NULL, NULL);
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  randombytes_buf(prev, 32);
  cairn_test_bytes_t e = raw_entry_at(&w.owner, 2, prev, cairn_test_hlc(), &a, 1, 0);
  CAIRN_FAIL(apply_bytes(w.s, &e, &err), CAIRN_EBADHASH);
  assert_contains(err.msg, "seq 2");
  bytes_free(&e);
  /* ops changed after signing: same length, another value */
  cairn_test_bytes_t oa = ops_of(&a);
  cairn_test_key_t k = w.owner;
  e = sign_next(&k, &oa);
  uint8_t *acme = memmem(e.p, e.len, "Acme", 4);
  assert_non_null(acme);
  acme[0] = 'X';
  cairn_entry_t d;
  CAIRN_PASS(cairn_entry_decode(e.p, e.len, SIZE_MAX, &d, NULL));
  CAIRN_PASS(cairn_entry_verify_sig(&d));
  CAIRN_FAIL(cairn_entry_check_ops(&d), CAIRN_EBADHASH);
  CAIRN_FAIL(apply_bytes(w.s, &e, NULL), CAIRN_EBADHASH);
  bytes_free(&e);
  /* a clock that does not advance along the chain */
  e = raw_entry_at(&w.owner, 2, w.owner.head, w.owner.hlc, &a, 1, 0);
  CAIRN_FAIL(apply_bytes(w.s, &e, NULL), CAIRN_EMALFORMED);
  bytes_free(&e);
  assert_int_equal(head_seq(w.s, w.owner.pk), 1);
  bytes_free(&a);
  bytes_free(&oa);
  world_close(&w);
}

static void test_wrong_network(void **state) {
  world_t w;
  cairn_error_t err;
  char hex[65];
  (void)state;
  world_open(&w, NULL, NULL);
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  cairn_test_bytes_t oa = ops_of(&a);
  /* the owner, signing its seq 2 for another network */
  cairn_test_key_t k = w.owner;
  randombytes_buf(k.network, 32);
  cairn_test_bytes_t e = sign_next(&k, &oa);
  CAIRN_FAIL(apply_bytes(w.s, &e, &err), CAIRN_ENETWORK);
  assert_contains(err.msg, cairn_hex(w.owner.pk, 32, hex));
  assert_contains(err.msg, cairn_hex(k.network, 32, hex));
  bytes_free(&e);
  /* another network's genesis */
  cairn_test_key_t o2;
  uint8_t *g;
  size_t glen;
  cairn_test_key_init(&o2, NULL);
  CAIRN_PASS(cairn_test_genesis(&o2, NULL, "Other", &g, &glen));
  CAIRN_FAIL(cairn_test_apply1(w.s, g, glen, NULL), CAIRN_ENETWORK);
  free(g);
  /* a genesis whose nonce does not give its network id: not a genesis */
  {
    cairn_store_t *s;
    char *dir;
    cairn_test_key_t o3;
    CAIRN_PASS(cairn_test_store("empty", &s, &dir));
    cairn_test_key_init(&o3, NULL);
    CAIRN_PASS(cairn_test_genesis(&o3, NULL, "X", &g, &glen));
    free(g);
    o3.seq = 0; /* sign a seq 1 for that network, without the nonce */
    e = sign_next(&o3, &oa);
    CAIRN_FAIL(apply_bytes(s, &e, NULL), CAIRN_ENONETWORK);
    bytes_free(&e);
    /* o4's genesis ops signed by a thief for o4's network: the nonce proves that
     * the network is o4's, so it is not a genesis of the thief's */
    cairn_test_key_t o4, thief;
    cairn_entry_t d;
    uint8_t *t;
    size_t tlen;
    cairn_test_key_init(&o4, NULL);
    cairn_test_key_init(&thief, NULL);
    CAIRN_PASS(cairn_test_genesis(&o4, NULL, "Y", &g, &glen));
    CAIRN_PASS(cairn_entry_decode(g, glen, SIZE_MAX, &d, NULL));
    CAIRN_PASS(cairn_entry_build(thief.sk, o4.network, 1, NULL, cairn_test_hlc(), d.ops,
                                 d.ops_len, &t, &tlen));
    CAIRN_FAIL(cairn_test_apply1(s, t, tlen, NULL), CAIRN_ENONETWORK);
    free(t);
    /* while o4's own is adopted */
    CAIRN_PASS(cairn_test_apply1(s, g, glen, NULL));
    free(g);
    cairn_close(s);
    CAIRN_PASS(cairn_test_rmrf(dir));
    free(dir);
  }
  assert_int_equal(head_seq(w.s, w.owner.pk), 1);
  bytes_free(&a);
  bytes_free(&oa);
  world_close(&w);
}

static void test_skew(void **state) {
  world_t w;
  cairn_error_t err;
  uint8_t *buf;
  size_t len;
  (void)state;
  world_open(&w, NULL, NULL);
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  cairn_test_bytes_t oa = ops_of(&a);
  uint64_t ahead = (cairn_now_ms() + 3600u * 1000u) << 16;
  CAIRN_PASS(cairn_entry_build(w.owner.sk, w.owner.network, 2, w.owner.head, ahead, oa.p,
                               oa.len, &buf, &len));
  CAIRN_FAIL(cairn_test_apply1(w.s, buf, len, &err), CAIRN_ESKEW);
  assert_contains(err.msg, "seq 2");
  free(buf);
  /* five minutes ahead is within the default ten */
  uint64_t near = (cairn_now_ms() + 5u * 60u * 1000u) << 16;
  CAIRN_PASS(cairn_entry_build(w.owner.sk, w.owner.network, 2, w.owner.head, near, oa.p,
                               oa.len, &buf, &len));
  CAIRN_PASS(cairn_test_apply1(w.s, buf, len, &err));
  free(buf);
  bytes_free(&a);
  bytes_free(&oa);
  world_close(&w);
}

static void test_too_big(void **state) {
  world_t w;
  cairn_store_opts_t opts = {0};
  cairn_error_t err;
  cairn_entry_t d;
  (void)state;
  opts.max_entry = 4096;
  world_open(&w, &opts, NULL);
  cairn_test_bytes_t big = str_of('x', 5000);
  cairn_test_bytes_t a = op_put1("partner", "p1", "notes", (char *)big.p);
  cairn_test_bytes_t oa = ops_of(&a);
  cairn_test_bytes_t e = sign_next(&w.owner, &oa);
  assert_true(e.len > 4096);
  CAIRN_FAIL(apply_bytes(w.s, &e, &err), CAIRN_ETOOBIG);
  CAIRN_FAIL(cairn_entry_decode(e.p, e.len, 4096, &d, NULL), CAIRN_ETOOBIG);
  CAIRN_PASS(cairn_entry_decode(e.p, e.len, e.len, &d, NULL));
  assert_int_equal(head_seq(w.s, w.owner.pk), 1);
  bytes_free(&e);
  bytes_free(&a);
  bytes_free(&oa);
  bytes_free(&big);
  world_close(&w);
  /* the default limit, 1 MiB */
  world_open(&w, NULL, NULL);
  big = str_of('y', CAIRN_ENTRY_MAX_DEFAULT);
  a = op_put1("partner", "p1", "notes", (char *)big.p);
  oa = ops_of(&a);
  e = sign_next(&w.owner, &oa);
  assert_true(e.len > CAIRN_ENTRY_MAX_DEFAULT);
  CAIRN_FAIL(apply_bytes(w.s, &e, &err), CAIRN_ETOOBIG);
  assert_int_equal(head_seq(w.s, w.owner.pk), 1);
  bytes_free(&e);
  bytes_free(&a);
  bytes_free(&oa);
  bytes_free(&big);
  world_close(&w);
}

/* Apply e as the relay applies what its author pushes: first hop. */
static int apply_first_hop(cairn_store_t *s, const cairn_test_key_t *author,
                           const cairn_test_bytes_t *e, cairn_error_t *err) {
  cairn_prepare_opts_t o = {0, false, author->pk, NULL};
  cairn_buf_t b = {e->p, e->len};
  cairn_prepared_t *p;
  const cairn_prepared_t *one;
  CAIRN_PASS(cairn_prepared_new(&p));
  one = p;
  CAIRN_PASS(cairn_prepare(p, &b, 1, &o));
  int rc = cairn_store_apply_prepared(s, &one, 1, NULL, NULL, err);
  cairn_prepared_free(p);
  return rc;
}

/*
 * Roles: a stranger's entry is refused. An editor's grant or purge is refused
 * from the editor itself (the first hop), and when it comes from anyone else it
 * is kept as evidence only: in the log, refused with its reason, nothing
 * merged, and the editor's next entry chains on it.
 */
static void test_roles(void **state) {
  world_t w;
  cairn_test_key_t m, stranger;
  cairn_apply_stats_t stats;
  cairn_error_t err, why;
  cairn_buf_t b;
  (void)state;
  world_open(&w, NULL, NULL);
  world_member(&w, &m, "editor");
  cairn_test_key_init(&stranger, NULL);
  memcpy(stranger.network, w.owner.network, 32);
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  cairn_test_bytes_t oa = ops_of(&a);
  cairn_test_bytes_t s1 = sign_next(&stranger, &oa);
  CAIRN_FAIL(apply_bytes(w.s, &s1, NULL), CAIRN_ENOTMEMBER);
  cairn_test_bytes_t k = op_put1("partner", "p1", "name", "Kept");
  cairn_test_bytes_t ok = ops_of(&k);
  cairn_test_bytes_t o1 = sign_next(&w.owner, &ok);
  CAIRN_PASS(apply_bytes(w.s, &o1, NULL));
  /* an editor may not grant roles, nor purge */
  cairn_test_bytes_t grant = op_put1("_member", "0000000000000000000000000000000000000000000000000000000000000000",
                          "role", "admin");
  cairn_test_bytes_t og = ops_of(&grant);
  cairn_test_bytes_t m1 = sign_next(&m, &og);
  CAIRN_FAIL(apply_first_hop(w.s, &m, &m1, &err), CAIRN_EFORBIDDEN);
  assert_contains(err.msg, "may not write _member");
  b = (cairn_buf_t){m1.p, m1.len};
  CAIRN_PASS(cairn_store_apply(w.s, &b, 1, &stats, NULL));
  assert_int_equal(stats.applied, 1);
  assert_int_equal(stats.refused, 1);
  assert_int_equal(cairn_entry_refused(w.s, m.pk, 1, &why), 1);
  assert_contains(why.msg, "may not write _member");
  assert_int_equal(cairn_entry_refused(w.s, w.owner.pk, w.owner.seq, NULL), 0);
  cairn_test_bytes_t purge = op_target(CAIRN_OP_PURGE, "partner", "p1");
  cairn_test_bytes_t op = ops_of(&purge);
  cairn_test_bytes_t m2 = sign_next(&m, &op);
  CAIRN_PASS(apply_bytes(w.s, &m2, NULL));
  assert_int_equal(cairn_entry_refused(w.s, m.pk, 2, NULL), 1);
  assert_string_equal(cairn_test_field_text(w.s, "partner", "p1", "name"), "Kept");
  cairn_test_bytes_t m3 = sign_next(&m, &oa);
  CAIRN_PASS(apply_bytes(w.s, &m3, NULL));
  assert_int_equal(cairn_entry_refused(w.s, m.pk, 3, NULL), 0);
  assert_string_equal(cairn_test_field_text(w.s, "partner", "p1", "name"), "Acme");
  assert_int_equal(head_seq(w.s, m.pk), 3);
  bytes_free(&m1);
  bytes_free(&m2);
  bytes_free(&m3);
  bytes_free(&k);
  bytes_free(&ok);
  bytes_free(&o1);
  bytes_free(&s1);
  bytes_free(&a);
  bytes_free(&oa);
  bytes_free(&grant);
  bytes_free(&og);
  bytes_free(&purge);
  bytes_free(&op);
  world_close(&w);
}

/* ==== runs verified by their newest signature ==== */

/* A fresh world (opts may be NULL) with an editor m, and five entries of m in
 * run and bufs; entry i (0-based) gets a bad signature when bad_sig has bit i
 * set. The chain is built over whatever signature each entry carries, as its
 * author would have. */
static void member_run(world_t *w, const cairn_store_opts_t *opts, cairn_test_key_t *m,
                       unsigned bad_sig, cairn_test_bytes_t run[5], cairn_buf_t bufs[5]) {
  world_open(w, opts, NULL);
  world_member(w, m, "editor");
  cairn_test_bytes_t a = op_put1("partner", "p1", "name", "Acme");
  for (int i = 0; i < 5; i++) {
    run[i] = raw_next(m, &a, 1, (bad_sig >> i) & 1);
    bufs[i] = (cairn_buf_t){run[i].p, run[i].len};
  }
  bytes_free(&a);
}

static void member_run_free(world_t *w, cairn_test_bytes_t run[5]) {
  for (int i = 0; i < 5; i++)
    bytes_free(&run[i]);
  world_close(w);
}

static void test_run_newest_signature_fails(void **state) {
  world_t w;
  cairn_test_key_t m;
  cairn_test_bytes_t run[5];
  cairn_buf_t bufs[5];
  cairn_apply_stats_t stats;
  cairn_error_t err;
  (void)state;
  member_run(&w, NULL, &m, 1u << 4, run, bufs); /* entry 5's signature is bad */
  CAIRN_FAIL(cairn_store_apply(w.s, bufs, 5, &stats, &err), CAIRN_EBADSIG);
  assert_int_equal(stats.failed_at, 4);
  assert_int_equal(stats.applied, 4);
  assert_contains(err.msg, "seq 5");
  assert_int_equal(head_seq(w.s, m.pk), 4); /* entries 1..4 are kept */
  member_run_free(&w, run);
}

static void test_run_good(void **state) {
  world_t w;
  cairn_test_key_t m;
  cairn_test_bytes_t run[5];
  cairn_buf_t bufs[5];
  cairn_apply_stats_t stats;
  (void)state;
  member_run(&w, NULL, &m, 0, run, bufs);
  CAIRN_PASS(cairn_store_apply(w.s, bufs, 5, &stats, NULL));
  assert_int_equal(stats.applied, 5);
  assert_int_equal(stats.failed_batch, 1); /* no batch failed */
  assert_int_equal(head_seq(w.s, m.pk), 5);
  /* again: all skipped */
  CAIRN_PASS(cairn_store_apply(w.s, bufs, 5, &stats, NULL));
  assert_int_equal(stats.skipped, 5);
  assert_int_equal(stats.applied, 0);
  member_run_free(&w, run);
}

/*
 * Only the newest signature of a run is verified: a run whose first four
 * signatures are garbage but whose chain holds (the author chained over them)
 * and whose newest signature is good is accepted whole; with verify_all it is
 * refused at its first entry. This is what makes a good batch cost one verify.
 */
static void test_run_verified_once(void **state) {
  world_t w;
  cairn_test_key_t m;
  cairn_test_bytes_t run[5];
  cairn_buf_t bufs[5];
  cairn_apply_stats_t stats;
  cairn_store_opts_t all = {0};
  (void)state;
  all.verify_all = 1;
  for (int pass = 0; pass < 2; pass++) {
    member_run(&w, pass ? &all : NULL, &m, 0x0f, run, bufs);
    if (pass == 0) {
      CAIRN_PASS(cairn_store_apply(w.s, bufs, 5, &stats, NULL));
      assert_int_equal(stats.applied, 5);
      assert_int_equal(head_seq(w.s, m.pk), 5);
    } else {
      CAIRN_FAIL(cairn_store_apply(w.s, bufs, 5, &stats, NULL), CAIRN_EBADSIG);
      assert_int_equal(stats.failed_at, 0);
      assert_int_equal(head_seq(w.s, m.pk), 0);
    }
    member_run_free(&w, run);
  }
  /* newest bad and entry 3 bad: the valid prefix is entries 1..2 */
  member_run(&w, NULL, &m, (1u << 2) | (1u << 4), run, bufs);
  CAIRN_FAIL(cairn_store_apply(w.s, bufs, 5, &stats, NULL), CAIRN_EBADSIG);
  assert_int_equal(stats.failed_at, 2);
  assert_int_equal(head_seq(w.s, m.pk), 2);
  member_run_free(&w, run);
}

/*
 * The first hop: a relay prepares a client's batch with that client as
 * first_hop, so every signature of its own entries is verified, not only the
 * run's newest. The run of test_run_verified_once (first four signatures
 * garbage, newest good) passes without it and fails at its first entry with it,
 * while a forwarded author's entries are still vouched for by their newest.
 */
static void test_prepare_first_hop(void **state) {
  world_t w;
  cairn_test_key_t m;
  cairn_test_bytes_t run[5];
  cairn_buf_t bufs[5];
  cairn_apply_stats_t stats;
  cairn_error_t err;
  cairn_prepared_t *p;
  const cairn_prepared_t *one;
  uint8_t other[CAIRN_KEY_BYTES];
  (void)state;
  CAIRN_PASS(cairn_prepared_new(&p));
  one = p;
  memset(other, 0x5a, sizeof other);
  for (int pass = 0; pass < 2; pass++) {
    cairn_prepare_opts_t o = {0, false, NULL, NULL};
    member_run(&w, NULL, &m, 0x0f, run, bufs);
    o.first_hop = pass ? m.pk : other;
    CAIRN_PASS(cairn_prepare(p, bufs, 5, &o));
    assert_int_equal(cairn_prepared_count(p), 5);
    if (pass == 0) {
      CAIRN_PASS(cairn_store_apply_prepared(w.s, &one, 1, NULL, &stats, NULL));
      assert_int_equal(head_seq(w.s, m.pk), 5);
    } else {
      CAIRN_FAIL(cairn_store_apply_prepared(w.s, &one, 1, NULL, &stats, &err), CAIRN_EBADSIG);
      assert_int_equal(stats.failed_batch, 0);
      assert_int_equal(stats.failed_at, 0);
      assert_contains(err.msg, "seq 1");
      assert_int_equal(head_seq(w.s, m.pk), 0);
    }
    member_run_free(&w, run);
  }
  cairn_prepared_free(p);
}

/*
 * Several prepared batches apply as one sequence in one transaction (the
 * relay's group commit): stats count them all; a bad entry in the second batch
 * names that batch and its index, and keeps everything before it, the first
 * batch whole included. A setting asked for is written with the entries only
 * when they all apply.
 */
static void test_apply_batches(void **state) {
  world_t w;
  cairn_test_key_t m;
  cairn_test_bytes_t run[5];
  cairn_buf_t bufs[5];
  cairn_apply_stats_t stats;
  cairn_prepared_t *p[2];
  uint8_t v[8];
  size_t n;
  cairn_apply_opts_t ao = {"cursor", "position", 8};
  (void)state;
  CAIRN_PASS(cairn_prepared_new(&p[0]));
  CAIRN_PASS(cairn_prepared_new(&p[1]));
  for (int pass = 0; pass < 2; pass++) {
    /* pass 1: entries 4 and 5 signed badly */
    member_run(&w, NULL, &m, pass ? (1u << 3) | (1u << 4) : 0, run, bufs);
    CAIRN_PASS(cairn_prepare(p[0], bufs, 2, NULL));
    CAIRN_PASS(cairn_prepare(p[1], bufs + 2, 3, NULL));
    int rc = cairn_store_apply_prepared(w.s, (const cairn_prepared_t *const *)p, 2, &ao, &stats,
                                        NULL);
    if (pass == 0) {
      CAIRN_PASS(rc);
      assert_int_equal(stats.applied, 5);
      assert_int_equal(stats.failed_batch, 2);
      assert_int_equal(head_seq(w.s, m.pk), 5);
      CAIRN_PASS(cairn_store_setting_get(w.s, "cursor", v, sizeof v, &n));
      assert_int_equal(n, 8);
      assert_memory_equal(v, "position", 8);
    } else {
      /* the second batch's newest signature fails: its run is checked entry by
       * entry, and entry 4 (index 1 there) is the first bad one */
      assert_int_equal(rc, CAIRN_EBADSIG);
      assert_int_equal(stats.failed_batch, 1);
      assert_int_equal(stats.failed_at, 1);
      assert_int_equal(stats.applied, 3);
      assert_int_equal(head_seq(w.s, m.pk), 3);
      CAIRN_FAIL(cairn_store_setting_get(w.s, "cursor", v, sizeof v, &n), CAIRN_ENOENT);
    }
    member_run_free(&w, run);
  }
  cairn_prepared_free(p[0]);
  cairn_prepared_free(p[1]);
}

/* An entry that does not decode ends its batch: count says where, and applying
 * keeps what came before it. */
static void test_prepare_decode_error(void **state) {
  world_t w;
  cairn_test_key_t m;
  cairn_test_bytes_t run[5];
  cairn_buf_t bufs[5];
  cairn_apply_stats_t stats;
  cairn_error_t err;
  cairn_prepared_t *p;
  const cairn_prepared_t *one;
  uint8_t junk[3] = {0x93, 0x01, 0x02};
  (void)state;
  CAIRN_PASS(cairn_prepared_new(&p));
  one = p;
  member_run(&w, NULL, &m, 0, run, bufs);
  bufs[2] = (cairn_buf_t){junk, sizeof junk};
  CAIRN_PASS(cairn_prepare(p, bufs, 5, NULL));
  assert_int_equal(cairn_prepared_count(p), 2);
  CAIRN_FAIL(cairn_store_apply_prepared(w.s, &one, 1, NULL, &stats, &err), CAIRN_EMALFORMED);
  assert_int_equal(stats.failed_batch, 0);
  assert_int_equal(stats.failed_at, 2);
  assert_int_equal(stats.applied, 2);
  assert_true(err.msg[0] != '\0');
  member_run_free(&w, run);
  cairn_prepared_free(p);
}

/*
 * The entry whose signature vouches for a run must be the run's last NEW entry.
 * A forged entry (any ops, garbage signature) chained to the author's real head,
 * followed in the same batch by an entry the store already holds (skipped as a
 * duplicate), must not slip in unverified.
 */
static void test_run_forged_before_duplicate(void **state) {
  world_t w;
  cairn_apply_stats_t stats;
  cairn_error_t err;
  (void)state;
  world_open(&w, NULL, NULL);
  /* a forger knows the owner's public genesis and its hash; grants itself admin */
  cairn_test_key_t forger, as_owner = w.owner;
  cairn_test_key_init(&forger, NULL);
  char hex[65];
  cairn_test_bytes_t g = op_put1("_member", cairn_hex(forger.pk, 32, hex), "role", "admin");
  cairn_test_bytes_t fake = raw_next(&as_owner, &g, 1, 1); /* not signed by the owner */
  cairn_buf_t batch[2] = {{fake.p, fake.len}, {w.genesis.p, w.genesis.len}};
  int rc = cairn_store_apply(w.s, batch, 2, &stats, &err);
  cairn_role_t role = CAIRN_ROLE_NONE;
  CAIRN_PASS(cairn_store_role(w.s, forger.pk, &role));
  if (rc == 0 || head_seq(w.s, w.owner.pk) != 1 || role != CAIRN_ROLE_NONE)
    fail_msg("an entry with a bad signature was applied (rc %s, owner head %llu, forger "
             "role %d): the newest-signature check picked the duplicate genesis",
             cairn_err_name(rc), (unsigned long long)head_seq(w.s, w.owner.pk), (int)role);
  assert_int_equal(rc, CAIRN_EBADSIG);
  bytes_free(&g);
  bytes_free(&fake);
  world_close(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_vector_blake2b),
      cmocka_unit_test(test_vector_ed25519),
      cmocka_unit_test(test_vector_entry),
      cmocka_unit_test(test_build_matches_independent_encoder),
      cmocka_unit_test(test_roundtrip_put),
      cmocka_unit_test(test_roundtrip_del_purge_chain),
      cmocka_unit_test(test_redaction),
      cmocka_unit_test(test_build_refuses),
      cmocka_unit_test(test_decode_header_refused),
      cmocka_unit_test(test_decode_shape_refused),
      cmocka_unit_test(test_ops_at_limits),
      cmocka_unit_test(test_seen_ops),
      cmocka_unit_test(test_malformed_ops),
      cmocka_unit_test(test_many_fields_decode_fast),
      cmocka_unit_test(test_flip_every_byte),
      cmocka_unit_test(test_fork),
      cmocka_unit_test(test_gap),
      cmocka_unit_test(test_bad_signature),
      cmocka_unit_test(test_bad_links),
      cmocka_unit_test(test_wrong_network),
      cmocka_unit_test(test_skew),
      cmocka_unit_test(test_too_big),
      cmocka_unit_test(test_roles),
      cmocka_unit_test(test_run_newest_signature_fails),
      cmocka_unit_test(test_run_good),
      cmocka_unit_test(test_run_verified_once),
      cmocka_unit_test(test_prepare_first_hop),
      cmocka_unit_test(test_apply_batches),
      cmocka_unit_test(test_prepare_decode_error),
      cmocka_unit_test(test_run_forged_before_duplicate),
  };
  if (cairn_core_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
