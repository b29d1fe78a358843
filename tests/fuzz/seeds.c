/*
 * seeds.c — writes the seed corpora of the fuzz targets (tests/fuzz/README.md):
 *
 *   corpus/bundle/  real bundles written by cairn_bundle_create (entries of a
 *                   store, empty), one truncated, one with a flipped byte, and
 *                   decompressed streams (valid, empty, truncated, bad count,
 *                   oversized length, trailing data; raw2_*: version 2's, the
 *                   network id and compact items). The v1_* bundles were written
 *                   by an older build (version 1) and are kept, not rewritten.
 *   corpus/compact/ compact items (fuzz_compact): a run of one author, runs
 *                   across authors, a run whose first prev is named, an entry
 *                   sent whole, an item that continues nothing
 *   corpus/entry/   signed entries: genesis, grant, a put of every value type,
 *                   a put with base stamps, del, purge, several ops, a redacted
 *                   op, the longest names, a del with seen and puts with dseen
 *   corpus/apply/   inputs in fuzz_apply.c's chunk format: genesis, roles,
 *                   conflicts and their resolution, delete and purge, a gap, a
 *                   delete concurrent with an edit and the record kept
 *   corpus/heads/   heads files, good and bad
 *
 * Built only on demand (target fuzz_seeds) and run by hand:
 *   cmake --build build-gcc --target fuzz_seeds
 *   build-gcc/tests/fuzz/fuzz_seeds tests/fuzz/corpus
 * Entries are signed with fuzzkit.h's fixed keys and clock; the bundles of a
 * store carry its random key and the wall clock, so they differ on every run.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <zstd.h>

#include "bundle.h"
#include "bytes.h"
#include "compact.h"
#include "fuzzkit.h"
#include "cairn.h"

static const char *root;

static void die(const char *what, int rc) {
  fprintf(stderr, "fuzz_seeds: %s: %s\n", what, rc ? cairn_strerror(rc) : strerror(errno));
  exit(1);
}

static void path_of(char *out, size_t n, const char *sub, const char *name) {
  snprintf(out, n, "%s/%s/%s", root, sub, name);
}

static void write_file(const char *sub, const char *name, const void *data, size_t len) {
  char path[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", root, sub);
  if (mkdir(path, 0755) != 0 && errno != EEXIST)
    die(path, 0);
  path_of(path, sizeof path, sub, name);
  if ((f = fopen(path, "wb")) == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
    die(path, 0);
  printf("%6zu %s\n", len, path);
}

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
    die(path, 0);
  if ((buf = malloc((size_t)n + 1)) == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n)
    die(path, 0);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

/* Bundles are created 0600 (they hold records); seeds are public. */
static void listed(const char *path) {
  struct stat st;
  if (chmod(path, 0644) != 0 || stat(path, &st) != 0)
    die(path, 0);
  printf("%6lld %s\n", (long long)st.st_size, path);
}

/* ---- packing ops ---- */

typedef struct pk {
  msgpack_sbuffer sb;
  msgpack_packer p;
} pk_t;

static void pk_init(pk_t *k) {
  msgpack_sbuffer_init(&k->sb);
  msgpack_packer_init(&k->p, &k->sb, msgpack_sbuffer_write);
}

static void str(pk_t *k, const char *s) {
  fuzz_pack_str(&k->p, s);
}

/* [kind, type, id] opening; a put continues with its fields map */
static void op_head(pk_t *k, int kind, const char *type, const char *id) {
  msgpack_pack_array(&k->p, kind == CAIRN_OP_PUT ? 4 : 3);
  msgpack_pack_uint8(&k->p, (uint8_t)kind);
  str(k, type);
  str(k, id);
}

/* ops = [[1, type, id, {field: [strvalue, []]}]] */
static void put1(pk_t *k, const char *type, const char *id, const char *field, const char *v) {
  msgpack_pack_array(&k->p, 1);
  op_head(k, CAIRN_OP_PUT, type, id);
  msgpack_pack_map(&k->p, 1);
  str(k, field);
  msgpack_pack_array(&k->p, 2);
  str(k, v);
  msgpack_pack_array(&k->p, 0);
}

static void stamp(pk_t *k, uint64_t hlc, const uint8_t author[CAIRN_KEY_BYTES]) {
  msgpack_pack_array(&k->p, 2);
  msgpack_pack_uint64(&k->p, hlc);
  msgpack_pack_bin_with_body(&k->p, author, CAIRN_KEY_BYTES);
}

/* seen or dseen: [[hlc, a], [hlc, b]] with the authors in ascending order. */
static void seen2(pk_t *k, uint64_t hlc, const uint8_t *a, const uint8_t *b) {
  bool a_first = memcmp(a, b, CAIRN_KEY_BYTES) < 0;
  msgpack_pack_array(&k->p, 2);
  stamp(k, hlc, a_first ? a : b);
  stamp(k, hlc, a_first ? b : a);
}

/* [2, type, id, seen] */
static void del_seen(pk_t *k, const char *type, const char *id, uint64_t hlc, const uint8_t *a,
                     const uint8_t *b) {
  msgpack_pack_array(&k->p, 4);
  msgpack_pack_uint8(&k->p, CAIRN_OP_DEL);
  str(k, type);
  str(k, id);
  seen2(k, hlc, a, b);
}

/* [1, type, id, {} or {f: ["v", []]}, dseen]: a put keeping the record */
static void put_dseen(pk_t *k, const char *type, const char *id, bool field, uint64_t hlc,
                      const uint8_t *a, const uint8_t *b) {
  msgpack_pack_array(&k->p, 5);
  msgpack_pack_uint8(&k->p, CAIRN_OP_PUT);
  str(k, type);
  str(k, id);
  msgpack_pack_map(&k->p, field ? 1 : 0);
  if (field)
    str(k, "f"), msgpack_pack_array(&k->p, 2), str(k, "v"), msgpack_pack_array(&k->p, 0);
  seen2(k, hlc, a, b);
}

/* One put of every kind of value, fields in ascending order. */
static void put_values(pk_t *k) {
  static const uint8_t bin[5] = {0, 1, 2, 0xfe, 0xff};
  msgpack_pack_array(&k->p, 1);
  op_head(k, CAIRN_OP_PUT, "t", "values");
  msgpack_pack_map(&k->p, 15);
  str(k, "a_arr"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_array(&k->p, 3), msgpack_pack_int(&k->p, 1), str(k, "x");
  msgpack_pack_array(&k->p, 1), msgpack_pack_int(&k->p, 2);
  msgpack_pack_array(&k->p, 0);
  str(k, "b_bin"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_bin_with_body(&k->p, bin, sizeof bin), msgpack_pack_array(&k->p, 0);
  str(k, "c_ext"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_ext_with_body(&k->p, bin, 4, 7), msgpack_pack_array(&k->p, 0);
  str(k, "d_f32"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_float(&k->p, 1.5f), msgpack_pack_array(&k->p, 0);
  str(k, "e_f64"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_double(&k->p, -0.1), msgpack_pack_array(&k->p, 0);
  str(k, "f_false"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_false(&k->p), msgpack_pack_array(&k->p, 0);
  str(k, "g_neg"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_int(&k->p, -5), msgpack_pack_array(&k->p, 0);
  str(k, "h_i64"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_int64(&k->p, INT64_MIN), msgpack_pack_array(&k->p, 0);
  str(k, "i_map"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_map(&k->p, 2), str(k, "k"), str(k, "v");
  msgpack_pack_int(&k->p, 1), msgpack_pack_nil(&k->p);
  msgpack_pack_array(&k->p, 0);
  str(k, "j_nil"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_nil(&k->p), msgpack_pack_array(&k->p, 0);
  str(k, "k_str"), msgpack_pack_array(&k->p, 2);
  str(k, "h\xc3\xa9llo \xe2\x82\xac"), msgpack_pack_array(&k->p, 0);
  str(k, "l_u64"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_uint64(&k->p, UINT64_MAX), msgpack_pack_array(&k->p, 0);
  str(k, "m_u16"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_uint16(&k->p, 60000), msgpack_pack_array(&k->p, 0);
  str(k, "n_deep"), msgpack_pack_array(&k->p, 2);
  for (int i = 0; i < CAIRN_VALUE_DEPTH_MAX - 1; i++)
    msgpack_pack_array(&k->p, 1);
  msgpack_pack_array(&k->p, 0);
  msgpack_pack_array(&k->p, 0);
  str(k, "o_true"), msgpack_pack_array(&k->p, 2);
  msgpack_pack_true(&k->p), msgpack_pack_array(&k->p, 0);
}

/* ---- entries ---- */

static void sign(cairn_test_key_t *k, uint64_t hlc, pk_t *ops, uint8_t **e, size_t *len) {
  int rc = cairn_test_key_sign_at(k, hlc, (const uint8_t *)ops->sb.data, ops->sb.size, e, len);
  if (rc != 0)
    die("sign", rc);
  msgpack_sbuffer_destroy(&ops->sb);
}

static void entry_seeds(void) {
  cairn_test_key_t keys[FUZZ_NKEYS];
  uint8_t *pre[FUZZ_PRESET_ENTRIES], *e;
  size_t prelen[FUZZ_PRESET_ENTRIES], len;
  uint64_t clock = FUZZ_HLC_BASE + 16;
  pk_t k;
  char name[CAIRN_ID_MAX + 1];
  for (int i = 0; i < FUZZ_NKEYS; i++)
    fuzz_key_init(&keys[i], i);
  if (fuzz_preset(keys, pre, prelen) != 0)
    die("preset", CAIRN_ENOMEM);
  write_file("entry", "genesis", pre[0], prelen[0]);
  write_file("entry", "grant_admin", pre[1], prelen[1]);
  for (int i = 0; i < FUZZ_PRESET_ENTRIES; i++)
    free(pre[i]);

  pk_init(&k);
  put_values(&k);
  sign(&keys[1], clock++, &k, &e, &len);
  write_file("entry", "put_values", e, len);
  free(e);

  pk_init(&k); /* a resolving put: the base names two heads */
  msgpack_pack_array(&k.p, 1);
  op_head(&k, CAIRN_OP_PUT, "t", "x");
  msgpack_pack_map(&k.p, 2);
  str(&k, "f"), msgpack_pack_array(&k.p, 2), str(&k, "c");
  msgpack_pack_array(&k.p, 2);
  stamp(&k, FUZZ_HLC_BASE + 16, keys[1].pk);
  stamp(&k, FUZZ_HLC_BASE + 17, keys[2].pk);
  str(&k, "g"), msgpack_pack_array(&k.p, 2), msgpack_pack_int(&k.p, 3);
  msgpack_pack_array(&k.p, 1);
  stamp(&k, FUZZ_HLC_BASE + 16, keys[1].pk);
  sign(&keys[0], clock++, &k, &e, &len);
  write_file("entry", "put_bases", e, len);
  free(e);

  pk_init(&k);
  msgpack_pack_array(&k.p, 1);
  op_head(&k, CAIRN_OP_DEL, "t", "x");
  sign(&keys[1], clock++, &k, &e, &len);
  write_file("entry", "del", e, len);
  free(e);

  pk_init(&k);
  msgpack_pack_array(&k.p, 1);
  op_head(&k, CAIRN_OP_PURGE, "t", "x");
  sign(&keys[0], clock++, &k, &e, &len);
  write_file("entry", "purge", e, len);
  free(e);

  pk_init(&k); /* several ops; the first is then redacted */
  msgpack_pack_array(&k.p, 3);
  op_head(&k, CAIRN_OP_PUT, "t", "r1");
  msgpack_pack_map(&k.p, 1), str(&k, "secret"), msgpack_pack_array(&k.p, 2);
  str(&k, "hidden"), msgpack_pack_array(&k.p, 0);
  op_head(&k, CAIRN_OP_DEL, "t", "r2");
  op_head(&k, CAIRN_OP_PURGE, "u", "r3");
  sign(&keys[0], clock++, &k, &e, &len);
  write_file("entry", "multi_ops", e, len);
  {
    cairn_entry_t d;
    cairn_op_iter_t it;
    cairn_op_t op;
    uint8_t ops[1024], *r;
    size_t n = 0, rlen;
    if (cairn_entry_decode(e, len, SIZE_MAX, &d, NULL) != 0)
      die("decode", CAIRN_EMALFORMED);
    cairn_op_iter_init(&d, &it);
    ops[n++] = 0x93;
    for (int i = 0; cairn_op_next(&it, &op) == 1; i++) {
      if (i == 0) {
        ops[n++] = 0x92, ops[n++] = 0x00, ops[n++] = 0xc4, ops[n++] = CAIRN_HASH_BYTES;
        cairn__op_hash(op.raw, op.raw_len, ops + n);
        n += CAIRN_HASH_BYTES;
      } else {
        memcpy(ops + n, op.raw, op.raw_len);
        n += op.raw_len;
      }
    }
    if (cairn__entry_with_ops(&d, ops, n, &r, &rlen) != 0)
      die("redact", CAIRN_EBADHASH);
    write_file("entry", "redacted", r, rlen);
    free(r);
  }
  free(e);

  pk_init(&k); /* the longest names */
  memset(name, 'n', sizeof name);
  msgpack_pack_array(&k.p, 1);
  msgpack_pack_array(&k.p, 4), msgpack_pack_uint8(&k.p, CAIRN_OP_PUT);
  msgpack_pack_str_with_body(&k.p, name, CAIRN_TYPE_MAX);
  msgpack_pack_str_with_body(&k.p, name, CAIRN_ID_MAX);
  msgpack_pack_map(&k.p, 1);
  msgpack_pack_str_with_body(&k.p, name, CAIRN_FIELD_MAX);
  msgpack_pack_array(&k.p, 2), msgpack_pack_nil(&k.p), msgpack_pack_array(&k.p, 0);
  sign(&keys[2], clock++, &k, &e, &len);
  write_file("entry", "long_names", e, len);
  free(e);

  pk_init(&k); /* a del naming what it saw; puts naming the dels they saw */
  msgpack_pack_array(&k.p, 3);
  del_seen(&k, "t", "x", FUZZ_HLC_BASE + 16, keys[0].pk, keys[1].pk);
  put_dseen(&k, "t", "y", false, FUZZ_HLC_BASE + 17, keys[1].pk, keys[2].pk);
  put_dseen(&k, "t", "z", true, FUZZ_HLC_BASE + 18, keys[0].pk, keys[2].pk);
  sign(&keys[2], clock++, &k, &e, &len);
  write_file("entry", "seen_dseen", e, len);
  free(e);
}

/* ---- fuzz_apply inputs ---- */

typedef struct input {
  uint8_t buf[8192];
  size_t n;
} input_t;

static void in_start(input_t *in, uint8_t flags) {
  in->buf[0] = flags;
  in->n = 1;
}

static void in_chunk(input_t *in, uint8_t tag, const void *body, size_t len) {
  if (in->n + 3 + len > sizeof in->buf || len > 0xffff)
    die("apply seed too large", CAIRN_ETOOBIG);
  in->buf[in->n++] = tag;
  in->buf[in->n++] = (uint8_t)(len >> 8);
  in->buf[in->n++] = (uint8_t)len;
  memcpy(in->buf + in->n, body, len);
  in->n += len;
}

/* A chunk of ops packed in k (which is reset for the next use). */
static void in_ops(input_t *in, uint8_t tag, pk_t *k) {
  in_chunk(in, tag, k->sb.data, k->sb.size);
  msgpack_sbuffer_clear(&k->sb);
}

static void apply_seeds(void) {
  cairn_test_key_t keys[FUZZ_NKEYS], k1;
  uint8_t *pre[FUZZ_PRESET_ENTRIES], *e;
  size_t prelen[FUZZ_PRESET_ENTRIES], len;
  uint8_t nonce[32];
  input_t in;
  pk_t k;
  for (int i = 0; i < FUZZ_NKEYS; i++)
    fuzz_key_init(&keys[i], i);
  if (fuzz_preset(keys, pre, prelen) != 0)
    die("preset", CAIRN_ENOMEM);
  pk_init(&k);

  /* no preset: the genesis as ops signed by key 0, a grant, writes */
  in_start(&in, 0);
  memset(nonce, 0x4e, sizeof nonce);
  fuzz_key_init(&k1, 0);
  fuzz_genesis_ops(&k1, nonce, "fuzz", &k.sb);
  in_ops(&in, 0x00, &k);
  fuzz_grant_ops(keys[1].pk, "editor", &k.sb);
  in_ops(&in, 0x00, &k);
  put1(&k, "t", "a", "f", "by owner");
  in_ops(&in, 0x40, &k);
  put1(&k, "t", "b", "f", "by editor");
  in_ops(&in, 0x01, &k);
  write_file("apply", "genesis_signed", in.buf, in.n);

  /* no preset: the genesis and grants as raw entries, two batches */
  in_start(&in, 0);
  for (int i = 0; i < FUZZ_PRESET_ENTRIES; i++)
    in_chunk(&in, i == 1 ? 0xc0 : 0x80, pre[i], prelen[i]);
  put1(&k, "t", "c", "f", "v");
  in_ops(&in, 0x01, &k);
  write_file("apply", "genesis_raw", in.buf, in.n);

  /* a conflict between admin and editor, resolved by the owner */
  in_start(&in, FUZZ_APPLY_PRESET);
  put1(&k, "t", "x", "f", "a");
  in_ops(&in, 0x41, &k);
  put1(&k, "t", "x", "f", "b");
  in_ops(&in, 0x42, &k);
  msgpack_pack_array(&k.p, 1);
  op_head(&k, CAIRN_OP_PUT, "t", "x");
  msgpack_pack_map(&k.p, 1);
  str(&k, "f"), msgpack_pack_array(&k.p, 2), str(&k, "c");
  msgpack_pack_array(&k.p, 2);
  stamp(&k, FUZZ_HLC_BASE + 16, keys[1].pk);
  stamp(&k, FUZZ_HLC_BASE + 17, keys[2].pk);
  in_ops(&in, 0x00, &k);
  write_file("apply", "conflict_resolve", in.buf, in.n);

  /* put, delete, purge, put again; every signature checked */
  in_start(&in, FUZZ_APPLY_PRESET | 2);
  put1(&k, "t", "y", "f", "v");
  in_ops(&in, 0x01, &k);
  msgpack_pack_array(&k.p, 1);
  op_head(&k, CAIRN_OP_DEL, "t", "y");
  in_ops(&in, 0x41, &k);
  msgpack_pack_array(&k.p, 1);
  op_head(&k, CAIRN_OP_PURGE, "t", "y");
  in_ops(&in, 0x40, &k);
  put1(&k, "t", "y", "f", "again");
  in_ops(&in, 0x02, &k);
  write_file("apply", "del_purge", in.buf, in.n);

  /* a delete concurrent with an edit (its seen names what it saw of the owner's
   * put and nothing of the editor's), then the editor keeps the record having seen
   * the delete */
  in_start(&in, FUZZ_APPLY_PRESET);
  put1(&k, "t", "d", "f", "v");
  in_ops(&in, 0x00, &k);
  put1(&k, "t", "d", "g", "edit");
  in_ops(&in, 0x02, &k);
  msgpack_pack_array(&k.p, 1);
  del_seen(&k, "t", "d", FUZZ_HLC_BASE + 1000, keys[0].pk, keys[3].pk);
  in_ops(&in, 0x41, &k);
  msgpack_pack_array(&k.p, 1);
  put_dseen(&k, "t", "d", false, FUZZ_HLC_BASE + 1000, keys[1].pk, keys[3].pk);
  in_ops(&in, 0x02, &k);
  write_file("apply", "del_edit_keep", in.buf, in.n);

  /* roles: a viewer writes, an editor grants and purges, a key is revoked */
  in_start(&in, FUZZ_APPLY_PRESET);
  put1(&k, "t", "z", "f", "viewer");
  in_ops(&in, 0x43, &k);
  fuzz_grant_ops(keys[3].pk, "admin", &k.sb);
  in_ops(&in, 0x42, &k);
  msgpack_pack_array(&k.p, 1);
  op_head(&k, CAIRN_OP_PURGE, "t", "z");
  in_ops(&in, 0x42, &k);
  fuzz_grant_ops(keys[1].pk, "revoked", &k.sb);
  in_ops(&in, 0x40, &k);
  put1(&k, "t", "z", "f", "revoked");
  in_ops(&in, 0x01, &k);
  write_file("apply", "roles", in.buf, in.n);

  /* a put of every value type; then a run of three by one author */
  in_start(&in, FUZZ_APPLY_PRESET);
  put_values(&k);
  in_ops(&in, 0x41, &k);
  for (int i = 0; i < 3; i++) {
    put1(&k, "a", "run", "n", i == 0 ? "one" : i == 1 ? "two" : "three");
    in_ops(&in, 0x02, &k);
  }
  write_file("apply", "values_run", in.buf, in.n);

  /* a gap: key 1's seq 2 without its seq 1, then a fork of the owner's seq 2 */
  in_start(&in, FUZZ_APPLY_PRESET);
  k1 = keys[1];
  put1(&k, "t", "g", "f", "1");
  sign(&k1, FUZZ_HLC_BASE + 100, &k, &e, &len);
  free(e);
  pk_init(&k);
  put1(&k, "t", "g", "f", "2");
  sign(&k1, FUZZ_HLC_BASE + 101, &k, &e, &len);
  in_chunk(&in, 0xc0, e, len);
  free(e);
  pk_init(&k);
  k1 = keys[0];
  k1.seq = 1; /* back to the genesis: the next entry is another seq 2 */
  {
    cairn_entry_t d;
    if (cairn_entry_decode(pre[0], prelen[0], SIZE_MAX, &d, NULL) != 0)
      die("decode", CAIRN_EMALFORMED);
    cairn_entry_hash(&d, k1.head);
  }
  put1(&k, "t", "g", "f", "fork");
  sign(&k1, FUZZ_HLC_BASE + 102, &k, &e, &len);
  in_chunk(&in, 0x80, e, len);
  free(e);
  write_file("apply", "gap_fork", in.buf, in.n);

  for (int i = 0; i < FUZZ_PRESET_ENTRIES; i++)
    free(pre[i]);
}

/* ---- bundles ---- */

static uint64_t since_all(const uint8_t author[CAIRN_KEY_BYTES], void *ud) {
  (void)author, (void)ud;
  return UINT64_MAX;
}

/* A decompressed stream of the entries of a bundle file (count from the reader). */
static size_t stream_of(const char *path, uint8_t *out, size_t cap) {
  cairn_bundle_reader_t *r;
  cairn_error_t err;
  const uint8_t *e;
  size_t len, n = 0;
  int rc;
  if ((rc = cairn_bundle_reader_open(path, &r, &err)) != 0)
    die(err.msg, rc);
  while ((rc = cairn_bundle_next(r, &e, &len, &err)) == 1) {
    if (n + 4 + len + 12 > cap)
      die("stream too large", CAIRN_ETOOBIG);
    cairn_put_be32(out + n, (uint32_t)len);
    memcpy(out + n + 4, e, len);
    n += 4 + len;
  }
  if (rc != 0)
    die(err.msg, rc);
  cairn_put_be32(out + n, 0);
  cairn_put_be64(out + n + 4, cairn_bundle_count(r));
  cairn_bundle_reader_close(r);
  return n + 12;
}

static void bundle_seeds(void) {
  cairn_test_key_t keys[FUZZ_NKEYS];
  uint8_t *pre[FUZZ_PRESET_ENTRIES], *e, *b, stream[8192], tmp[16];
  size_t prelen[FUZZ_PRESET_ENTRIES], len, blen, n;
  cairn_store_t *s;
  char *dir, path[4096];
  cairn_error_t err;
  uint8_t net[CAIRN_KEY_BYTES];
  int rc;

  /* a store's own entries: genesis and two puts */
  if ((rc = cairn_test_store("seed", &s, &dir)) != 0)
    die("store", rc);
  if ((rc = cairn_store_network_create(s, "seeds", net, &err)) != 0 ||
      (rc = cairn_test_put(s, "t", "a", "f", "one")) != 0 ||
      (rc = cairn_test_put(s, "t", "b", "g", "two")) != 0)
    die("store writes", rc);
  path_of(path, sizeof path, "bundle", "valid_3.bdl");
  if ((rc = cairn_bundle_create(s, path, NULL, NULL, NULL, &err)) != 0)
    die(err.msg, rc);
  listed(path);
  path_of(path, sizeof path, "bundle", "empty.bdl");
  if ((rc = cairn_bundle_create(s, path, since_all, NULL, NULL, &err)) != 0)
    die(err.msg, rc);
  listed(path);
  cairn_close(s);
  cairn_test_rmrf(dir);
  free(dir);

  /* the fuzz keys' network: preset, then a put by the admin and the editor */
  for (int i = 0; i < FUZZ_NKEYS; i++)
    fuzz_key_init(&keys[i], i);
  if (fuzz_preset(keys, pre, prelen) != 0)
    die("preset", CAIRN_ENOMEM);
  if ((rc = cairn_test_store("seed", &s, &dir)) != 0)
    die("store", rc);
  for (int i = 0; i < FUZZ_PRESET_ENTRIES; i++) {
    if ((rc = cairn_test_apply1(s, pre[i], prelen[i], &err)) != 0)
      die(err.msg, rc);
    free(pre[i]);
  }
  for (int i = 1; i <= 2; i++) {
    pk_t k;
    pk_init(&k);
    put1(&k, "t", i == 1 ? "p" : "q", "f", "v");
    sign(&keys[i], FUZZ_HLC_BASE + 16 + (uint64_t)i, &k, &e, &len);
    if ((rc = cairn_test_apply1(s, e, len, &err)) != 0)
      die(err.msg, rc);
    free(e);
  }
  path_of(path, sizeof path, "bundle", "members_6.bdl");
  if ((rc = cairn_bundle_create(s, path, NULL, NULL, NULL, &err)) != 0)
    die(err.msg, rc);
  listed(path);
  cairn_close(s);
  cairn_test_rmrf(dir);
  free(dir);

  /* damaged copies */
  path_of(path, sizeof path, "bundle", "valid_3.bdl");
  b = read_file(path, &blen);
  write_file("bundle", "truncated.bdl", b, blen / 2);
  b[9 + (blen - 9) / 2] ^= 0x20;
  write_file("bundle", "flipped.bdl", b, blen);
  free(b);

  /* decompressed streams */
  path_of(path, sizeof path, "bundle", "members_6.bdl");
  n = stream_of(path, stream, sizeof stream);
  write_file("bundle", "raw_valid", stream, n);
  write_file("bundle", "raw_truncated", stream, n / 2);
  write_file("bundle", "raw_no_count", stream, n - 8);
  stream[n - 1] ^= 1;
  write_file("bundle", "raw_bad_count", stream, n);
  stream[n - 1] ^= 1;
  stream[n] = 'x';
  write_file("bundle", "raw_trailing", stream, n + 1);
  memset(tmp, 0, sizeof tmp);
  write_file("bundle", "raw_empty", tmp, 12);
  cairn_put_be32(tmp, 65537);
  memcpy(tmp + 4, "toolong", 7);
  write_file("bundle", "raw_too_big", tmp, 11);
}

/* Version 2's decompressed stream of a bundle file (the frame after the header). */
static size_t stream2_of(const char *path, uint8_t *out, size_t cap) {
  size_t blen, n;
  uint8_t *b = read_file(path, &blen);
  n = ZSTD_decompress(out, cap, b + 9, blen - 9);
  if (ZSTD_isError(n) || b[8] != CAIRN_BUNDLE_VERSION)
    die("decompress a bundle", CAIRN_EMALFORMED);
  free(b);
  return n;
}

static void bundle2_seeds(void) {
  uint8_t stream[8192];
  char path[4096];
  path_of(path, sizeof path, "bundle", "members_6.bdl");
  size_t n = stream2_of(path, stream, sizeof stream);
  write_file("bundle", "raw2_valid", stream, n);
  write_file("bundle", "raw2_truncated", stream, n / 2);
  write_file("bundle", "raw2_network_only", stream, CAIRN_KEY_BYTES);
  /* the first item dropped: the second continues nothing */
  size_t first = CAIRN_KEY_BYTES + 4 + cairn_get_be32(stream + CAIRN_KEY_BYTES);
  memmove(stream + CAIRN_KEY_BYTES, stream + first, n - first);
  write_file("bundle", "raw2_lost_start", stream, n - (first - CAIRN_KEY_BYTES));
}

/* ---- compact items ---- */

/* The items of entries [from, to) in one run state, the first `drop` left out. */
static void items_of(const char *name, uint8_t *const *e, const size_t *len, int from, int to,
                     int drop, const uint8_t *network) {
  cairn_compact_t c;
  msgpack_sbuffer sb;
  cairn_mpr_t r;
  msgpack_sbuffer_init(&sb);
  cairn_compact_init(&c, network);
  for (int i = from; i < to; i++)
    if (cairn_compact_encode(&c, e[i], len[i], &sb) != 0)
      die("compact", CAIRN_ENOMEM);
  cairn_mpr_init(&r, sb.data, sb.size);
  for (int i = 0; i < drop; i++)
    if (cairn_mpr_skip(&r, CAIRN_MP_MAX_DEPTH) != 0)
      die("skip an item", CAIRN_EMALFORMED);
  write_file("compact", name, r.p, cairn_mpr_left(&r));
  msgpack_sbuffer_destroy(&sb);
}

static void compact_seeds(void) {
  enum { N = FUZZ_PRESET_ENTRIES + 6 };
  cairn_test_key_t keys[FUZZ_NKEYS], other;
  uint8_t *e[N + 1];
  size_t len[N + 1];
  for (int i = 0; i < FUZZ_NKEYS; i++)
    fuzz_key_init(&keys[i], i);
  if (fuzz_preset(keys, e, len) != 0)
    die("preset", CAIRN_ENOMEM);
  /* puts by the admin, the admin, the editor, the editor, the owner, the admin */
  static const int by[] = {1, 1, 2, 2, 0, 1};
  for (int i = 0; i < 6; i++) {
    pk_t k;
    pk_init(&k);
    put1(&k, "note", i % 2 ? "a" : "b", "text", "a line of a note");
    sign(&keys[by[i]], FUZZ_HLC_BASE + 16 + (uint64_t)i, &k, &e[FUZZ_PRESET_ENTRIES + i],
         &len[FUZZ_PRESET_ENTRIES + i]);
  }
  items_of("owner_run", e, len, 0, FUZZ_PRESET_ENTRIES, 0, keys[0].network);
  items_of("across_authors", e, len, 0, N, 0, keys[0].network);
  items_of("prev_named", e, len, 2, N, 0, keys[0].network);
  items_of("continues_nothing", e, len, 0, 3, 1, keys[0].network);
  /* another network's genesis travels whole, between two runs */
  uint8_t nonce[32] = {7};
  msgpack_sbuffer sb;
  fuzz_key_init(&other, 3);
  msgpack_sbuffer_init(&sb);
  if (fuzz_genesis_ops(&other, nonce, "other", &sb) != 0 ||
      cairn_test_key_sign_at(&other, FUZZ_HLC_BASE + 9, (const uint8_t *)sb.data, sb.size,
                             &e[N], &len[N]) != 0)
    die("other network", CAIRN_ENOMEM);
  msgpack_sbuffer_destroy(&sb);
  uint8_t *mixed[3] = {e[0], e[N], e[1]};
  size_t mixed_len[3] = {len[0], len[N], len[1]};
  items_of("whole_between", mixed, mixed_len, 0, 3, 0, keys[0].network);
  for (int i = 0; i <= N; i++)
    free(e[i]);
  write_file("compact", "empty", "", 0);
}

/* ---- heads files ---- */

static void heads_seeds(void) {
  cairn_test_key_t a, b;
  char ha[65], hb[65], up[65], text[512];
  fuzz_key_init(&a, 0);
  fuzz_key_init(&b, 1);
  cairn_hex(a.pk, CAIRN_KEY_BYTES, ha);
  cairn_hex(b.pk, CAIRN_KEY_BYTES, hb);
  for (int i = 0; i < 65; i++)
    up[i] = (char)(ha[i] >= 'a' && ha[i] <= 'f' ? ha[i] - 32 : ha[i]);
#define HEADS(name, ...)                                                                 \
  do {                                                                                   \
    int n_ = snprintf(text, sizeof text, __VA_ARGS__);                                   \
    write_file("heads", name, text, (size_t)n_);                                         \
  } while (0)
  HEADS("two.json", "{\n  \"%s\": 3,\n  \"%s\": 1\n}\n", ha, hb);
  HEADS("empty.json", "{}");
  HEADS("upper.json", "{\"%s\": 12}", up);
  HEADS("same_author_twice.json", "{\"%s\": 1, \"%s\": 2}", ha, up);
  HEADS("dup_key.json", "{\"%s\": 1, \"%s\": 2}", ha, ha);
  HEADS("negative.json", "{\"%s\": -1}", ha);
  HEADS("huge.json", "{\"%s\": 18446744073709551615}", ha);
  HEADS("max.json", "{\"%s\": 9223372036854775807}", ha);
  HEADS("real.json", "{\"%s\": 1.0}", ha);
  HEADS("string_seq.json", "{\"%s\": \"3\"}", ha);
  HEADS("short_key.json", "{\"%.62s\": 3}", ha);
  HEADS("bad_hex.json", "{\"zz\": 1}");
  HEADS("array.json", "[\"%s\", 3]", ha);
  HEADS("truncated.json", "{\"%s\": 3", ha);
#undef HEADS
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fuzz_seeds CORPUS_DIR (tests/fuzz/corpus)\n");
    return 2;
  }
  root = argv[1];
  if (cairn_core_init() != 0)
    die("sodium_init", CAIRN_EIO);
  char sub[4096];
  snprintf(sub, sizeof sub, "%s/bundle", root);
  if (mkdir(sub, 0755) != 0 && errno != EEXIST)
    die(sub, 0);
  entry_seeds();
  apply_seeds();
  bundle_seeds();
  bundle2_seeds();
  compact_seeds();
  heads_seeds();
  return 0;
}
