/*
 * test_bundle.c — bundles (core/bundle.h): sync on a file.
 *
 * Real stores in a temporary directory: an owner creates a network, grants an
 * editor, both write records; bundles carry the entries to fresh stores, whose
 * records and logs must then match the source. Then every way a bundle can be
 * broken: truncated at every byte, a flipped byte, bad magic and version, an empty
 * file, a miscounted end marker, trailing data, an oversized length, a tampered
 * entry in the middle of a batch, a bundle of another network. Each must end in a
 * clean error naming the position, and the store must hold exactly a valid prefix.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <zstd.h>

#include "bundle.h"
#include "compact.h"
#include "entry.h"
#include "cairn_test.h"
#include "cairn.h"

/* ---- fixture: a temporary root directory ---- */

static char g_root[64];
static int g_seq;

static int group_setup(void **state) {
  (void)state;
  if (cairn_core_init() != 0)
    return -1;
  snprintf(g_root, sizeof g_root, "/tmp/cairn-bundle-XXXXXX");
  return mkdtemp(g_root) != NULL ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  return cairn_test_rmrf(g_root) == 0 ? 0 : -1;
}

/* A fresh path under the root. */
static void fresh_path(char *out, size_t cap, const char *name) {
  snprintf(out, cap, "%s/%s-%d", g_root, name, ++g_seq);
}

static cairn_store_t *new_store_opts(const char *name, const cairn_store_opts_t *opts) {
  char dir[256];
  cairn_store_t *s = NULL;
  cairn_error_t err = {0, ""};
  fresh_path(dir, sizeof dir, name);
  int rc = cairn_create(dir, name, opts, &s, &err);
  if (rc != 0)
    fail_msg("cairn_create: %s", err.msg);
  return s;
}

static cairn_store_t *new_store(const char *name) {
  cairn_store_opts_t opts = {.no_sync = 1};
  return new_store_opts(name, &opts);
}

static cairn_store_t *new_network(const char *name, const char *title) {
  cairn_store_t *s = new_store(name);
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_error_t err = {0, ""};
  if (cairn_store_network_create(s, title, net, &err) != 0)
    fail_msg("cairn_store_network_create: %s", err.msg);
  return s;
}

/* A MessagePack fixstr. */
static size_t mpstr(uint8_t *out, const char *s) {
  size_t n = strlen(s);
  assert_true(n < 32);
  out[0] = (uint8_t)(0xa0 | n);
  memcpy(out + 1, s, n);
  return n + 1;
}

/* One change of one or two string fields on a record. */
static void put2(cairn_store_t *s, const char *type, const char *id, const char *f1,
                 const char *v1, const char *f2, const char *v2) {
  cairn_change_t *c = NULL;
  cairn_error_t err = {0, ""};
  uint8_t b[64];
  assert_int_equal(cairn_change_begin(s, &c), 0);
  assert_int_equal(cairn_change_put(c, type, id, f1, b, mpstr(b, v1), 0), 0);
  if (f2 != NULL)
    assert_int_equal(cairn_change_put(c, type, id, f2, b, mpstr(b, v2), 0), 0);
  if (cairn_change_commit(c, NULL, &err) != 0)
    fail_msg("cairn_change_commit: %s", err.msg);
}

static void put1(cairn_store_t *s, const char *type, const char *id, const char *field,
                 const char *value) {
  put2(s, type, id, field, value, NULL, NULL);
}

/* The owner grants member's key a role. */
static void grant(cairn_store_t *owner, cairn_store_t *member, const char *name,
                  const char *role) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  cairn_hex(cairn_store_key(member), CAIRN_KEY_BYTES, hex);
  put2(owner, "_member", hex, "name", name, "role", role);
}

/* ---- comparing stores ---- */

typedef struct text {
  char *p;
  size_t len, cap;
} text_t;

static void text_add(text_t *t, const char *fmt, ...) {
  va_list ap;
  char tmp[1024];
  va_start(ap, fmt);
  int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  assert_true(n >= 0 && (size_t)n < sizeof tmp);
  if (t->len + (size_t)n + 1 > t->cap) {
    t->cap = (t->len + (size_t)n + 1) * 2;
    t->p = realloc(t->p, t->cap);
    assert_non_null(t->p);
  }
  memcpy(t->p + t->len, tmp, (size_t)n + 1);
  t->len += (size_t)n;
}

static int dump_record(const cairn_record_t *r, void *ud) {
  text_t *t = ud;
  cairn_record_iter_t it;
  cairn_record_field_t f;
  char hx[2 * CAIRN_KEY_BYTES + 1];
  text_add(t, "%.*s/%.*s:", (int)r->type_len, r->type, (int)r->id_len, r->id);
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f)) {
    text_add(t, " %.*s=", (int)f.name_len, f.name);
    for (size_t i = 0; i < f.value_len; i++)
      text_add(t, "%02x", f.value[i]);
    text_add(t, "@%llu/%s", (unsigned long long)f.stamp.hlc,
             cairn_hex(f.stamp.author, 8, hx));
  }
  text_add(t, "\n");
  return 0;
}

/* Every visible record of the types the tests write, as text. */
static char *dump(cairn_store_t *s) {
  static const char *types[] = {"_network", "_member", "partner", "note"};
  text_t t = {NULL, 0, 0};
  text_add(&t, "records:\n");
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
    assert_int_equal(cairn_list(s, types[i], NULL, 0, dump_record, &t), 0);
  return t.p;
}

static void assert_same_records(cairn_store_t *a, cairn_store_t *b) {
  char *da = dump(a), *db = dump(b);
  assert_string_equal(da, db);
  free(da);
  free(db);
}

/* A store's log, copied. */
typedef struct log {
  uint8_t **e;
  size_t *len;
  size_t n, cap;
} log_t;

static int log_add(const cairn_entry_t *e, void *ud) {
  log_t *l = ud;
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 16;
    l->e = realloc(l->e, l->cap * sizeof *l->e);
    l->len = realloc(l->len, l->cap * sizeof *l->len);
    assert_non_null(l->e);
    assert_non_null(l->len);
  }
  l->e[l->n] = malloc(e->len);
  assert_non_null(l->e[l->n]);
  memcpy(l->e[l->n], e->bytes, e->len);
  l->len[l->n] = e->len;
  l->n++;
  return 0;
}

static log_t get_log(cairn_store_t *s) {
  log_t l = {NULL, NULL, 0, 0};
  assert_int_equal(cairn_store_log(s, log_add, &l), 0);
  return l;
}

static void log_free(log_t *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->e[i]);
  free(l->e);
  free(l->len);
}

/* The store's log is the first k entries of want (as a set of entries; this
 * store's arrival order equals the bundle's). Returns k. */
static size_t assert_log_prefix(cairn_store_t *s, const log_t *want) {
  log_t got = get_log(s);
  size_t k = got.n;
  assert_true(k <= want->n);
  for (size_t i = 0; i < k; i++) {
    assert_int_equal(got.len[i], want->len[i]);
    assert_memory_equal(got.e[i], want->e[i], got.len[i]);
  }
  log_free(&got);
  return k;
}

/* ---- files ---- */

static uint8_t *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;
  assert_non_null(f);
  assert_int_equal(fseek(f, 0, SEEK_END), 0);
  n = ftell(f);
  assert_true(n >= 0);
  assert_int_equal(fseek(f, 0, SEEK_SET), 0);
  buf = malloc((size_t)n + 1);
  assert_non_null(buf);
  assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void write_file(const char *path, const uint8_t *p, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  if (n > 0)
    assert_int_equal(fwrite(p, 1, n, f), n);
  assert_int_equal(fclose(f), 0);
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

static void create_bundle(cairn_store_t *s, const char *path, uint64_t *count) {
  cairn_error_t err = {0, ""};
  if (cairn_bundle_create(s, path, NULL, NULL, count, &err) != 0)
    fail_msg("cairn_bundle_create: %s", err.msg);
}

static void apply_ok(cairn_store_t *s, const char *path, size_t batch, cairn_bundle_stats_t *st) {
  cairn_error_t err = {0, ""};
  if (cairn_bundle_apply(s, path, batch, st, &err) != 0)
    fail_msg("cairn_bundle_apply: %s", err.msg);
}

/* A bundle built by hand: header + one zstd frame of the given stream, in the
 * format of version 1 (whole entries: what older builds wrote) unless said. */
static void write_raw_bundle_as(const char *path, int version, const uint8_t *stream,
                                size_t n) {
  size_t cap = ZSTD_compressBound(n) + 9;
  uint8_t *buf = malloc(cap);
  assert_non_null(buf);
  memcpy(buf, CAIRN_BUNDLE_MAGIC, 8);
  buf[8] = (uint8_t)version;
  size_t z = ZSTD_compress(buf + 9, cap - 9, stream, n, 1);
  assert_false(ZSTD_isError(z));
  write_file(path, buf, 9 + z);
  free(buf);
}

static void write_raw_bundle(const char *path, const uint8_t *stream, size_t n) {
  write_raw_bundle_as(path, 1, stream, n);
}

/* A decompressed stream under construction. */
static void stream_entry(text_t *t, const uint8_t *e, size_t n) {
  uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  if (t->len + n + 4 > t->cap) {
    t->cap = (t->len + n + 4) * 2;
    t->p = realloc(t->p, t->cap);
    assert_non_null(t->p);
  }
  memcpy(t->p + t->len, b, 4);
  memcpy(t->p + t->len + 4, e, n);
  t->len += n + 4;
}

static void stream_end(text_t *t, uint64_t count) {
  uint8_t b[12] = {0};
  for (int i = 0; i < 8; i++)
    b[4 + i] = (uint8_t)(count >> (56 - 8 * i));
  if (t->len + sizeof b > t->cap) {
    t->cap = (t->len + sizeof b) * 2;
    t->p = realloc(t->p, t->cap);
    assert_non_null(t->p);
  }
  memcpy(t->p + t->len, b, sizeof b);
  t->len += sizeof b;
}

/*
 * The usual scenario: an owner (A) with a few records who grants an editor (B);
 * B takes A's entries from a bundle, then writes records of its own. Returns B,
 * whose log holds every entry of both.
 */
static cairn_store_t *scenario(cairn_store_t **owner) {
  char path[256];
  cairn_store_t *a = new_network("Ana", "Northside Cradle to Career");
  cairn_store_t *b = new_store("Bea");
  cairn_bundle_stats_t st;
  put2(a, "partner", "p1", "name", "Lincoln Elementary", "kind", "school");
  put1(a, "partner", "p2", "name", "Eastside Clinic");
  grant(a, b, "Bea", "editor");
  fresh_path(path, sizeof path, "a.bundle");
  create_bundle(a, path, NULL);
  apply_ok(b, path, 0, &st);
  put1(b, "note", "n1", "text", "tutoring starts");
  put1(b, "partner", "p1", "kind", "elementary");
  put1(a, "partner", "p2", "kind", "clinic");
  *owner = a;
  return b;
}

/* ---- tests ---- */

static void test_create_apply_fresh(void **state) {
  (void)state;
  char path[256], tmp[300];
  cairn_store_t *a, *b = scenario(&a), *c = new_store("Cid");
  cairn_bundle_stats_t st;
  uint64_t count = 0;
  uint8_t net_b[CAIRN_KEY_BYTES], net_c[CAIRN_KEY_BYTES];
  log_t lb = get_log(b);

  fresh_path(path, sizeof path, "b.bundle");
  create_bundle(b, path, &count);
  assert_int_equal(count, lb.n);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_false(exists(tmp));
  struct stat sb;
  assert_int_equal(stat(path, &sb), 0);
  assert_int_equal(sb.st_mode & 0777, 0600);

  /* c has no network: it adopts the genesis at the start of the bundle */
  assert_int_equal(cairn_store_network(c, net_c), CAIRN_ENONETWORK);
  apply_ok(c, path, 0, &st);
  assert_int_equal(st.read, lb.n);
  assert_int_equal(st.applied, lb.n);
  assert_int_equal(st.skipped, 0);
  assert_int_equal(cairn_store_network(b, net_b), 0);
  assert_int_equal(cairn_store_network(c, net_c), 0);
  assert_memory_equal(net_b, net_c, CAIRN_KEY_BYTES);
  assert_same_records(b, c);
  assert_int_equal(assert_log_prefix(c, &lb), lb.n);

  /* the reader gives back exactly the source log, in arrival order */
  cairn_bundle_reader_t *r = NULL;
  cairn_error_t err = {0, ""};
  const uint8_t *e;
  size_t len, i = 0;
  int rc;
  assert_int_equal(cairn_bundle_reader_open(path, &r, &err), 0);
  while ((rc = cairn_bundle_next(r, &e, &len, &err)) == 1) {
    assert_true(i < lb.n);
    assert_int_equal(len, lb.len[i]);
    assert_memory_equal(e, lb.e[i], len);
    i++;
    assert_int_equal(cairn_bundle_count(r), i);
  }
  assert_int_equal(rc, 0);
  assert_int_equal(i, lb.n);
  assert_int_equal(cairn_bundle_next(r, &e, &len, &err), 0); /* stays at the end */
  cairn_bundle_reader_close(r);

  /* small batches give the same result */
  for (size_t batch = 1; batch <= 3; batch++) {
    cairn_store_t *d = new_store("Dee");
    apply_ok(d, path, batch, &st);
    assert_int_equal(st.applied, lb.n);
    assert_same_records(b, d);
    cairn_close(d);
  }

  /* and a bundle of A alone, applied to c, adds A's last change, skips the rest */
  log_t la = get_log(a);
  fresh_path(path, sizeof path, "a2.bundle");
  create_bundle(a, path, &count);
  assert_int_equal(count, la.n);
  apply_ok(c, path, 0, &st);
  assert_int_equal(st.read, la.n);
  assert_int_equal(st.applied, 1);
  assert_int_equal(st.skipped, la.n - 1);
  apply_ok(b, path, 0, &st);
  assert_same_records(b, c);

  log_free(&la);
  log_free(&lb);
  cairn_close(a);
  cairn_close(b);
  cairn_close(c);
}

static void test_apply_twice(void **state) {
  (void)state;
  char path[256];
  cairn_store_t *a, *b = scenario(&a), *c = new_store("Cid");
  cairn_bundle_stats_t st;
  uint64_t count;
  fresh_path(path, sizeof path, "b.bundle");
  create_bundle(b, path, &count);
  apply_ok(c, path, 0, &st);
  assert_int_equal(st.applied, count);
  apply_ok(c, path, 0, &st);
  assert_int_equal(st.read, count);
  assert_int_equal(st.applied, 0);
  assert_int_equal(st.skipped, count);
  assert_same_records(b, c);
  /* applying to the source itself skips everything too */
  apply_ok(b, path, 2, &st);
  assert_int_equal(st.skipped, count);
  assert_int_equal(st.applied, 0);
  cairn_close(a);
  cairn_close(b);
  cairn_close(c);
}

/* ---- --since ---- */

typedef struct vv {
  uint8_t author[8][CAIRN_KEY_BYTES];
  uint64_t seq[8];
  size_t n;
} vv_t;

static int vv_add(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                  const uint8_t hash[CAIRN_HASH_BYTES], void *ud) {
  vv_t *v = ud;
  (void)hash;
  assert_true(v->n < 8);
  memcpy(v->author[v->n], author, CAIRN_KEY_BYTES);
  v->seq[v->n++] = seq;
  return 0;
}

static uint64_t vv_since(const uint8_t author[CAIRN_KEY_BYTES], void *ud) {
  vv_t *v = ud;
  for (size_t i = 0; i < v->n; i++)
    if (memcmp(v->author[i], author, CAIRN_KEY_BYTES) == 0)
      return v->seq[i];
  return 0;
}

static void test_since(void **state) {
  (void)state;
  char path[256];
  cairn_store_t *a, *b = scenario(&a), *c = new_store("Cid");
  cairn_bundle_stats_t st;
  cairn_error_t err = {0, ""};
  uint64_t count = 0, full;
  vv_t vv = {.n = 0};

  fresh_path(path, sizeof path, "full.bundle");
  create_bundle(b, path, &full);
  apply_ok(c, path, 0, &st);

  /* b moves on; c's heads select only what c lacks */
  put1(b, "note", "n2", "text", "meeting moved");
  put1(b, "note", "n3", "text", "new measure");
  assert_int_equal(cairn_store_heads(c, vv_add, &vv), 0);
  assert_int_equal(vv.n, 2);
  fresh_path(path, sizeof path, "since.bundle");
  assert_int_equal(cairn_bundle_create(b, path, vv_since, &vv, &count, &err), 0);
  assert_int_equal(count, 2);

  /* the bundle holds exactly b's two newest entries */
  log_t lb = get_log(b);
  cairn_bundle_reader_t *r = NULL;
  const uint8_t *e;
  size_t len;
  assert_int_equal(cairn_bundle_reader_open(path, &r, &err), 0);
  for (size_t i = 0; i < 2; i++) {
    assert_int_equal(cairn_bundle_next(r, &e, &len, &err), 1);
    assert_int_equal(len, lb.len[lb.n - 2 + i]);
    assert_memory_equal(e, lb.e[lb.n - 2 + i], len);
  }
  assert_int_equal(cairn_bundle_next(r, &e, &len, &err), 0);
  cairn_bundle_reader_close(r);

  apply_ok(c, path, 0, &st);
  assert_int_equal(st.read, 2);
  assert_int_equal(st.applied, 2);
  assert_int_equal(st.skipped, 0);
  assert_same_records(b, c);

  /* nothing missing: an empty bundle, which applies cleanly */
  vv.n = 0;
  assert_int_equal(cairn_store_heads(c, vv_add, &vv), 0);
  fresh_path(path, sizeof path, "none.bundle");
  assert_int_equal(cairn_bundle_create(b, path, vv_since, &vv, &count, &err), 0);
  assert_int_equal(count, 0);
  apply_ok(c, path, 0, &st);
  assert_int_equal(st.read, 0);

  /* a bundle that lacks the entries before it cannot be applied to a fresh store */
  cairn_store_t *d = new_store("Dee");
  fresh_path(path, sizeof path, "gap.bundle");
  vv.n = 0;
  assert_int_equal(cairn_store_heads(a, vv_add, &vv), 0);
  assert_int_equal(cairn_bundle_create(b, path, vv_since, &vv, &count, &err), 0);
  assert_int_equal(count, 4); /* b's four entries */
  assert_int_equal(cairn_bundle_apply(d, path, 0, &st, &err), CAIRN_ENONETWORK);
  assert_non_null(strstr(err.msg, "bundle entry 1 at byte 32: ")); /* after the network id */
  assert_int_equal(st.applied, 0);
  cairn_close(d);

  log_free(&lb);
  cairn_close(a);
  cairn_close(b);
  cairn_close(c);
}

/* ---- broken bundles ---- */

/* A small bundle of a few entries, its bytes, and the source log. */
static cairn_store_t *small_bundle(char *path, size_t cap, uint8_t **bytes, size_t *len,
                                   log_t *log) {
  cairn_store_t *a = new_network("Ana", "Small");
  put1(a, "partner", "p1", "name", "Lincoln");
  put1(a, "note", "n1", "text", "hello");
  fresh_path(path, cap, "small.bundle");
  create_bundle(a, path, NULL);
  *bytes = read_file(path, len);
  *log = get_log(a);
  return a;
}

static void test_truncated_every_byte(void **state) {
  (void)state;
  char path[256], cut[256];
  uint8_t *bytes;
  size_t len;
  log_t la;
  cairn_store_t *a = small_bundle(path, sizeof path, &bytes, &len, &la);
  size_t held_max = 0;

  fresh_path(cut, sizeof cut, "cut.bundle");
  for (size_t n = 0; n < len; n++) {
    cairn_error_t err = {0, ""};
    cairn_bundle_stats_t st = {9, 9, 9, 9, 9};
    cairn_bundle_reader_t *r = NULL;
    const uint8_t *e;
    size_t elen;
    int rc;

    /* the reader over memory */
    rc = cairn_bundle_reader_mem(bytes, n, 0, &r, &err);
    if (rc == 0) {
      while ((rc = cairn_bundle_next(r, &e, &elen, &err)) == 1)
        ;
      assert_true(cairn_bundle_count(r) < la.n || rc != 0);
      cairn_bundle_reader_close(r);
    }
    assert_int_equal(rc, CAIRN_EMALFORMED);
    if (n >= 9 && strstr(err.msg, "bundle entry ") == NULL)
      fail_msg("cut at %zu: message names no position: %s", n, err.msg);

    /* applying the file: an error, and a valid prefix in the store */
    cairn_store_t *s = new_store("Cut");
    write_file(cut, bytes, n);
    rc = cairn_bundle_apply(s, cut, 0, &st, &err);
    assert_int_equal(rc, CAIRN_EMALFORMED);
    assert_int_equal(err.code, CAIRN_EMALFORMED);
    size_t held = assert_log_prefix(s, &la);
    assert_int_equal(held, st.applied);
    assert_int_equal(held, st.read);
    /* a cut in the last bytes (the end marker, which zstd may put in a last
     * block of its own, and the frame's checksum) leaves every entry whole */
    assert_true(held < la.n || n >= len - 4 - 3 - 12);
    if (held > held_max)
      held_max = held;
    cairn_close(s);
  }
  assert_int_equal(held_max, la.n);
  free(bytes);
  log_free(&la);
  cairn_close(a);
}

static void test_flipped_byte(void **state) {
  (void)state;
  char path[256], bad[256];
  uint8_t *bytes;
  size_t len;
  log_t la;
  cairn_store_t *a = small_bundle(path, sizeof path, &bytes, &len, &la);
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st;

  /* the middle byte */
  fresh_path(bad, sizeof bad, "flip.bundle");
  bytes[len / 2] ^= 0x40;
  write_file(bad, bytes, len);
  bytes[len / 2] ^= 0x40;
  cairn_store_t *s = new_store("Flip");
  int rc = cairn_bundle_apply(s, bad, 0, &st, &err);
  assert_true(rc < 0);
  if (strstr(err.msg, "bundle entry ") == NULL || strstr(err.msg, " at byte ") == NULL)
    fail_msg("the error names no position: %s", err.msg);
  assert_log_prefix(s, &la);
  cairn_close(s);

  /* every byte, every bit, through the reader: no crash; an error, or (a flip that
   * changes nothing zstd checks, such as a larger window) the same entries */
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      cairn_bundle_reader_t *r = NULL;
      const uint8_t *e;
      size_t elen, k = 0;
      int same = 1;
      bytes[i] ^= (uint8_t)(1u << bit);
      rc = cairn_bundle_reader_mem(bytes, len, 0, &r, &err);
      if (rc == 0) {
        while ((rc = cairn_bundle_next(r, &e, &elen, &err)) == 1) {
          if (k >= la.n || elen != la.len[k] || memcmp(e, la.e[k], elen) != 0)
            same = 0;
          k++;
        }
        cairn_bundle_reader_close(r);
      }
      bytes[i] ^= (uint8_t)(1u << bit);
      if (rc == 0 && (!same || k != la.n))
        fail_msg("flip of bit %d at %zu read a different bundle without error", bit, i);
      if (rc != 0 && i >= 9 && strstr(err.msg, "bundle entry ") == NULL)
        fail_msg("flip at %zu: message names no position: %s", i, err.msg);
    }
  }
  free(bytes);
  log_free(&la);
  cairn_close(a);
}

static void test_bad_header(void **state) {
  (void)state;
  char path[256], bad[256];
  uint8_t *bytes;
  size_t len;
  log_t la;
  cairn_store_t *a = small_bundle(path, sizeof path, &bytes, &len, &la);
  cairn_store_t *s = new_store("Bad");
  cairn_bundle_reader_t *r = NULL;
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st;

  /* bad magic */
  fresh_path(bad, sizeof bad, "magic.bundle");
  bytes[0] = 'X';
  write_file(bad, bytes, len);
  assert_int_equal(cairn_bundle_reader_open(bad, &r, &err), CAIRN_EMALFORMED);
  assert_null(r);
  assert_non_null(strstr(err.msg, "magic"));
  assert_int_equal(cairn_bundle_apply(s, bad, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "magic"));
  assert_int_equal(cairn_bundle_reader_mem(bytes, len, 0, &r, &err), CAIRN_EMALFORMED);
  bytes[0] = 'C';

  /* another version */
  bytes[8] = 3;
  write_file(bad, bytes, len);
  assert_int_equal(cairn_bundle_apply(s, bad, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "version 3"));
  bytes[8] = CAIRN_BUNDLE_VERSION;

  /* not a bundle at all: the zstd frame alone, without the header */
  write_file(bad, bytes + 9, len - 9);
  assert_int_equal(cairn_bundle_apply(s, bad, 0, &st, &err), CAIRN_EMALFORMED);

  /* the header alone */
  write_file(bad, bytes, 9);
  assert_int_equal(cairn_bundle_apply(s, bad, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "bundle entry 1 at byte 0: truncated"));

  /* a missing file */
  fresh_path(bad, sizeof bad, "missing.bundle");
  assert_int_equal(cairn_bundle_apply(s, bad, 0, &st, &err), CAIRN_ENOENT);
  assert_int_equal(cairn_bundle_reader_open(bad, &r, &err), CAIRN_ENOENT);

  /* nothing was applied by any of these */
  log_t ls = get_log(s);
  assert_int_equal(ls.n, 0);
  log_free(&ls);
  free(bytes);
  log_free(&la);
  cairn_close(s);
  cairn_close(a);
}

static void test_empty_file(void **state) {
  (void)state;
  char path[256];
  cairn_store_t *s = new_store("Empty");
  cairn_bundle_reader_t *r = NULL;
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st = {1, 1, 1, 1, 1};
  fresh_path(path, sizeof path, "empty.bundle");
  write_file(path, NULL, 0);
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_EMALFORMED);
  assert_int_equal(err.code, CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "empty"));
  assert_int_equal(st.read, 0);
  assert_int_equal(st.applied, 0);
  assert_int_equal(cairn_bundle_reader_open(path, &r, &err), CAIRN_EMALFORMED);
  assert_int_equal(cairn_bundle_reader_mem(NULL, 0, 0, &r, &err), CAIRN_EMALFORMED);
  assert_null(r);
  cairn_close(s);
}

static void test_other_network(void **state) {
  (void)state;
  char path[256];
  cairn_store_t *a = new_network("Ana", "Northside");
  cairn_store_t *x = new_network("Xavi", "Southside");
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st;
  put1(x, "partner", "p9", "name", "Other");
  fresh_path(path, sizeof path, "x.bundle");
  create_bundle(x, path, NULL);
  char *before = dump(a);
  assert_int_equal(cairn_bundle_apply(a, path, 0, &st, &err), CAIRN_ENETWORK);
  assert_int_equal(err.code, CAIRN_ENETWORK);
  assert_non_null(strstr(err.msg, "bundle entry 1 at byte 32: author "));
  assert_int_equal(st.read, 2);
  assert_int_equal(st.applied, 0);
  char *after = dump(a);
  assert_string_equal(before, after);
  free(before);
  free(after);
  cairn_close(a);
  cairn_close(x);
}

/* Hand-built streams: the framing rules one by one. */
static void test_framing(void **state) {
  (void)state;
  char path[256];
  uint8_t *bytes;
  size_t len;
  log_t la;
  cairn_store_t *a = small_bundle(path, sizeof path, &bytes, &len, &la);
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st;
  char msg[128];
  assert_int_equal(la.n, 3);

  /* the same stream, hand-built, reads and applies */
  text_t t = {NULL, 0, 0};
  for (size_t i = 0; i < la.n; i++)
    stream_entry(&t, la.e[i], la.len[i]);
  size_t body = t.len;
  stream_end(&t, la.n);
  fresh_path(path, sizeof path, "hand.bundle");
  write_raw_bundle(path, (uint8_t *)t.p, t.len);
  cairn_store_t *s = new_store("Hand");
  apply_ok(s, path, 0, &st);
  assert_int_equal(st.applied, 3);
  cairn_close(s);

  /* a wrong count in the end marker */
  t.len = body;
  stream_end(&t, la.n + 1);
  write_raw_bundle(path, (uint8_t *)t.p, t.len);
  s = new_store("Count");
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_EMALFORMED);
  snprintf(msg, sizeof msg, "bundle entry 4 at byte %zu: ", body);
  assert_non_null(strstr(err.msg, msg));
  assert_non_null(strstr(err.msg, "counts 4"));
  /* the entries before the bad marker are valid and kept */
  assert_int_equal(st.applied, 3);
  assert_int_equal(assert_log_prefix(s, &la), 3);
  cairn_close(s);

  /* trailing data after the end marker, inside the frame */
  t.len = body;
  stream_end(&t, la.n);
  size_t full = t.len;
  stream_entry(&t, la.e[0], la.len[0]);
  write_raw_bundle(path, (uint8_t *)t.p, t.len);
  s = new_store("Trail");
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "trailing data"));
  cairn_close(s);

  /* trailing data after the frame: a second frame, or junk */
  t.len = full;
  uint8_t *two;
  size_t n1;
  write_raw_bundle(path, (uint8_t *)t.p, t.len);
  two = read_file(path, &n1);
  two = realloc(two, 2 * n1);
  assert_non_null(two);
  memcpy(two + n1, two + 9, n1 - 9);
  write_file(path, two, n1 + n1 - 9);
  s = new_store("Frames");
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "trailing data"));
  two[n1] = 'j';
  write_file(path, two, n1 + 1);
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "trailing data"));
  /* the frame alone (n1 bytes) is fine */
  write_file(path, two, n1);
  apply_ok(s, path, 0, &st);
  free(two);
  cairn_close(s);

  /* a stream cut inside entry 3 after two whole entries: both are applied first */
  t.len = la.len[0] + la.len[1] + 8 + 10;
  write_raw_bundle(path, (uint8_t *)t.p, t.len);
  s = new_store("Mid");
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_EMALFORMED);
  snprintf(msg, sizeof msg, "bundle entry 3 at byte %zu: truncated",
           la.len[0] + la.len[1] + 8);
  assert_non_null(strstr(err.msg, msg));
  assert_int_equal(st.read, 2);
  assert_int_equal(st.applied, 2);
  assert_int_equal(assert_log_prefix(s, &la), 2);
  cairn_close(s);

  /* an entry length over the limit: the store's, for apply */
  cairn_store_opts_t small = {.no_sync = 1, .max_entry = 64};
  t.len = full;
  write_raw_bundle(path, (uint8_t *)t.p, t.len);
  s = new_store_opts("Tiny", &small);
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_ETOOBIG);
  assert_non_null(strstr(err.msg, "bundle entry 1 at byte 0: "));
  cairn_close(s);

  /* and the one given to the memory reader; the error sticks */
  uint8_t *mem = read_file(path, &n1);
  cairn_bundle_reader_t *r = NULL;
  const uint8_t *e;
  size_t elen, max = la.len[0] < la.len[1] ? la.len[0] : la.len[1], j = 0, pos = 0;
  while (la.len[j] <= max)
    pos += la.len[j++] + 4;
  assert_int_equal(cairn_bundle_reader_mem(mem, n1, max, &r, &err), 0);
  for (size_t i = 0; i < j; i++)
    assert_int_equal(cairn_bundle_next(r, &e, &elen, &err), 1);
  assert_int_equal(cairn_bundle_next(r, &e, &elen, &err), CAIRN_ETOOBIG);
  snprintf(msg, sizeof msg, "bundle entry %zu at byte %zu: ", j + 1, pos);
  assert_non_null(strstr(err.msg, msg));
  memset(&err, 0, sizeof err);
  assert_int_equal(cairn_bundle_next(r, &e, &elen, &err), CAIRN_ETOOBIG);
  assert_int_equal(err.code, CAIRN_ETOOBIG);
  assert_non_null(strstr(err.msg, msg));
  assert_int_equal(cairn_bundle_count(r), j);
  cairn_bundle_reader_close(r);
  free(mem);

  /* a length that claims 4 GiB: over the default limit; under a limit of SIZE_MAX
   * it is read as far as the data goes (nothing is allocated ahead of it) */
  uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 1, 2, 3};
  write_raw_bundle(path, huge, sizeof huge);
  mem = read_file(path, &n1);
  assert_int_equal(cairn_bundle_reader_mem(mem, n1, 0, &r, &err), 0);
  assert_int_equal(cairn_bundle_next(r, &e, &elen, &err), CAIRN_ETOOBIG);
  cairn_bundle_reader_close(r);
  assert_int_equal(cairn_bundle_reader_mem(mem, n1, SIZE_MAX, &r, &err), 0);
  assert_int_equal(cairn_bundle_next(r, &e, &elen, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "truncated"));
  cairn_bundle_reader_close(r);
  free(mem);

  /* an empty stream: no end marker */
  write_raw_bundle(path, NULL, 0);
  s = new_store("NoEnd");
  assert_int_equal(cairn_bundle_apply(s, path, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "bundle entry 1 at byte 0: truncated"));
  cairn_close(s);

  free(t.p);
  free(bytes);
  log_free(&la);
  cairn_close(a);
}

/* Find needle in hay; index or SIZE_MAX. */
static size_t find(const uint8_t *hay, size_t n, const char *needle) {
  size_t k = strlen(needle);
  for (size_t i = 0; i + k <= n; i++)
    if (memcmp(hay + i, needle, k) == 0)
      return i;
  return SIZE_MAX;
}

/* A tampered entry in the middle of the bundle, across batch boundaries: the error
 * names its bundle position, every entry before it is kept, none after. */
static void test_bad_entry_position(void **state) {
  (void)state;
  char path[256], msg[64];
  cairn_store_t *a = new_network("Ana", "Positions");
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st;
  for (int i = 0; i < 9; i++) {
    char id[8];
    snprintf(id, sizeof id, "n%d", i);
    put1(a, "note", id, "text", i == 5 ? "tamper-me" : "fine");
  }
  log_t la = get_log(a);
  assert_int_equal(la.n, 10);
  /* entry 7 (1-based) holds the note n5 */
  size_t at = find(la.e[6], la.len[6], "tamper-me");
  assert_true(at != SIZE_MAX);
  la.e[6][at] = 'T';
  text_t t = {NULL, 0, 0};
  size_t pos7 = 0;
  for (size_t i = 0; i < la.n; i++) {
    if (i == 6)
      pos7 = t.len;
    stream_entry(&t, la.e[i], la.len[i]);
  }
  stream_end(&t, la.n);
  fresh_path(path, sizeof path, "tampered.bundle");
  write_raw_bundle(path, (uint8_t *)t.p, t.len);
  snprintf(msg, sizeof msg, "bundle entry 7 at byte %zu: author ", pos7);
  for (size_t batch = 1; batch <= 11; batch++) {
    cairn_store_t *s = new_store("Tamper");
    int rc = cairn_bundle_apply(s, path, batch, &st, &err);
    assert_int_equal(rc, CAIRN_EBADHASH);
    if (strstr(err.msg, msg) == NULL || strstr(err.msg, "seq 7") == NULL)
      fail_msg("batch %zu: %s", batch, err.msg);
    assert_int_equal(st.applied, 6);
    assert_int_equal(st.skipped, 0);
    assert_int_equal(assert_log_prefix(s, &la), 6);
    cairn_close(s);
  }
  free(t.p);
  log_free(&la);
  cairn_close(a);
}

/* A failed create leaves nothing behind and an existing bundle untouched. */
static void test_create_failures(void **state) {
  (void)state;
  char dir[200], path[256], tmp[300];
  cairn_store_t *a = new_network("Ana", "Failures");
  cairn_error_t err = {0, ""};
  uint64_t count = 7;
  fresh_path(dir, sizeof dir, "no-such-dir");
  snprintf(path, sizeof path, "%s/x.bundle", dir);
  assert_int_equal(cairn_bundle_create(a, path, NULL, NULL, &count, &err), CAIRN_EIO);
  assert_int_equal(count, 0);
  assert_non_null(strstr(err.msg, "x.bundle.tmp"));
  assert_false(exists(path));

  /* the tmp path is a directory: cannot create it; the old bundle stays */
  fresh_path(path, sizeof path, "old.bundle");
  write_file(path, (const uint8_t *)"old", 3);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  assert_int_equal(mkdir(tmp, 0700), 0);
  assert_true(cairn_bundle_create(a, path, NULL, NULL, &count, &err) < 0);
  size_t n;
  uint8_t *old = read_file(path, &n);
  assert_int_equal(n, 3);
  free(old);
  assert_int_equal(rmdir(tmp), 0);

  /* a create over an existing file replaces it whole */
  create_bundle(a, path, &count);
  assert_int_equal(count, 1);
  assert_false(exists(tmp));
  cairn_bundle_reader_t *r = NULL;
  assert_int_equal(cairn_bundle_reader_open(path, &r, &err), 0);
  cairn_bundle_reader_close(r);

  /* a store with no entries writes an empty, valid bundle */
  cairn_store_t *e = new_store("Nobody");
  cairn_bundle_stats_t st;
  fresh_path(path, sizeof path, "empty.bundle");
  create_bundle(e, path, &count);
  assert_int_equal(count, 0);
  apply_ok(e, path, 0, &st);
  assert_int_equal(st.read, 0);
  cairn_close(e);

  assert_int_equal(cairn_bundle_create(a, NULL, NULL, NULL, &count, &err), CAIRN_EINVAL);
  cairn_bundle_reader_close(NULL);
  assert_int_equal(cairn_bundle_count(NULL), 0);
  cairn_close(a);
}

/* Many entries: several zstd blocks and input refills, more than one default batch. */
static void test_many_entries(void **state) {
  (void)state;
  char path[256];
  cairn_store_t *a = new_network("Ana", "Many");
  cairn_store_t *c = new_store("Cid");
  cairn_bundle_stats_t st;
  uint64_t count;
  for (int i = 0; i < 300; i++) {
    char id[16], val[24];
    snprintf(id, sizeof id, "n%04d", i);
    snprintf(val, sizeof val, "value %d %x", i * 7919, i * 104729);
    put2(a, "note", id, "text", val, "extra", id);
  }
  fresh_path(path, sizeof path, "many.bundle");
  create_bundle(a, path, &count);
  assert_int_equal(count, 301);
  apply_ok(c, path, 128, &st);
  assert_int_equal(st.read, 301);
  assert_int_equal(st.applied, 301);
  assert_same_records(a, c);
  cairn_close(a);
  cairn_close(c);
}

/* Version 2: entries as compact items. A bundle of one store written now is
 * about half its version 1 twin (whole entries, whose prev and ops_root no
 * compression shrinks);
 * both apply to the same log. A tampered item rebuilds an entry that its
 * signature refuses; an item that continues nothing, or with bytes after it
 * inside its length, is refused where it stands. */
static void test_compact_items(void **state) {
  (void)state;
  char path[256], old[256], msg[96];
  cairn_store_t *a = new_network("Ana", "Compact");
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st;
  uint8_t net[CAIRN_KEY_BYTES];
  for (int i = 0; i < 200; i++) {
    char id[16];
    snprintf(id, sizeof id, "n%03d", i);
    put1(a, "note", id, "text", "a line of a note");
  }
  log_t la = get_log(a);
  size_t len, old_len;
  fresh_path(path, sizeof path, "v2.bundle");
  create_bundle(a, path, NULL);
  uint8_t *bytes = read_file(path, &len);
  assert_int_equal(bytes[8], 2);
  text_t t = {NULL, 0, 0};
  for (size_t i = 0; i < la.n; i++)
    stream_entry(&t, la.e[i], la.len[i]);
  stream_end(&t, la.n);
  fresh_path(old, sizeof old, "v1.bundle");
  write_raw_bundle(old, (uint8_t *)t.p, t.len);
  free(read_file(old, &old_len));
  assert_true(len * 10 < old_len * 6);
  cairn_store_t *s1 = new_store("One"), *s2 = new_store("Two");
  apply_ok(s1, path, 0, &st);
  apply_ok(s2, old, 0, &st);
  assert_int_equal(assert_log_prefix(s1, &la), la.n);
  assert_int_equal(assert_log_prefix(s2, &la), la.n);
  cairn_close(s1);
  cairn_close(s2);

  /* hand-built items: the network, then the first five entries' items */
  assert_int_equal(cairn_store_network(a, net), 0);
  cairn_compact_t c;
  msgpack_sbuffer item;
  size_t pos[5];
  msgpack_sbuffer_init(&item);
  cairn_compact_init(&c, net);
  t.len = 0;
  stream_entry(&t, net, sizeof net);
  t.len -= 4;
  memmove(t.p, t.p + 4, sizeof net); /* the network id has no length before it */
  for (size_t i = 0; i < 5; i++) {
    item.size = 0;
    assert_int_equal(cairn_compact_encode(&c, la.e[i], la.len[i], &item), 0);
    pos[i] = t.len;
    stream_entry(&t, (uint8_t *)item.data, item.size);
  }
  size_t body = t.len;
  stream_end(&t, 5);
  write_raw_bundle_as(path, 2, (uint8_t *)t.p, t.len);
  s1 = new_store("Hand");
  apply_ok(s1, path, 0, &st);
  assert_int_equal(st.applied, 5);
  cairn_close(s1);
  /* the fourth item's signature changed: three applied, the fourth refused */
  t.p[pos[3] + 4 + 3 + 10] ^= 0x01; /* [ bin8 64 sig... */
  write_raw_bundle_as(path, 2, (uint8_t *)t.p, t.len);
  s1 = new_store("Sig");
  assert_int_equal(cairn_bundle_apply(s1, path, 0, &st, &err), CAIRN_EBADSIG);
  snprintf(msg, sizeof msg, "bundle entry 4 at byte %zu: author ", pos[3]);
  assert_non_null(strstr(err.msg, msg));
  assert_int_equal(assert_log_prefix(s1, &la), 3);
  cairn_close(s1);
  t.p[pos[3] + 4 + 3 + 10] ^= 0x01;
  /* the stream starting at the second item: it continues nothing */
  memmove(t.p + sizeof net, t.p + pos[1], t.len - pos[1]);
  t.len -= pos[1] - sizeof net;
  write_raw_bundle_as(path, 2, (uint8_t *)t.p, t.len);
  s1 = new_store("Lost");
  assert_int_equal(cairn_bundle_apply(s1, path, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "bundle entry 1 at byte 32: malformed compact entry"));
  cairn_close(s1);
  /* an item with a byte after it, inside its length */
  t.len = sizeof net;
  item.size = 0;
  cairn_compact_init(&c, net);
  assert_int_equal(cairn_compact_encode(&c, la.e[0], la.len[0], &item), 0);
  assert_int_equal(msgpack_sbuffer_write(&item, "x", 1), 0);
  stream_entry(&t, (uint8_t *)item.data, item.size);
  stream_end(&t, 1);
  write_raw_bundle_as(path, 2, (uint8_t *)t.p, t.len);
  s1 = new_store("Extra");
  assert_int_equal(cairn_bundle_apply(s1, path, 0, &st, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "bytes after it"));
  cairn_close(s1);
  (void)body;
  msgpack_sbuffer_destroy(&item);
  free(t.p);
  free(bytes);
  log_free(&la);
  cairn_close(a);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_apply_fresh),
      cmocka_unit_test(test_apply_twice),
      cmocka_unit_test(test_since),
      cmocka_unit_test(test_truncated_every_byte),
      cmocka_unit_test(test_flipped_byte),
      cmocka_unit_test(test_bad_header),
      cmocka_unit_test(test_empty_file),
      cmocka_unit_test(test_other_network),
      cmocka_unit_test(test_framing),
      cmocka_unit_test(test_bad_entry_position),
      cmocka_unit_test(test_create_failures),
      cmocka_unit_test(test_many_entries),
      cmocka_unit_test(test_compact_items),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
