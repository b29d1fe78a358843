/*
 * sync_store.c — what network sync needs of a store (sync_store.h): the epoch
 * and arrival positions a relay serves cursors from, an author's entries after a
 * seq, the network a relay expects before its genesis arrives, and small settings
 * kept with the store (the relay's address and key, the sync cursor).
 */
#include <sodium.h>
#include <string.h>

#include "store_internal.h"

#define META_EPOCH "epoch"
#define META_EXPECT "expect"
#define SETTING_PREFIX "set:"
#define SETTING_NAME_MAX 64

/* One meta row to put or delete. */
typedef struct meta_row {
  cairn_store_t *s;
  const char *key;
  const void *v;
  size_t n;
  bool del;
} meta_row_t;

static int meta_write_fn(MDB_txn *txn, void *ud) {
  meta_row_t *m = ud;
  if (!m->del)
    return cairn__meta_put(txn, m->s, m->key, m->v, m->n);
  MDB_val k = mval(m->key, strlen(m->key));
  int rc = mdb_del(txn, m->s->dbi[DB_META], &k, NULL);
  return rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

/* Put one meta row in its own durable transaction. */
static int meta_write(cairn_store_t *s, const char *key, const void *v, size_t n, bool del) {
  meta_row_t m = {s, key, v, n, del};
  return cairn__txn_write(s, meta_write_fn, &m);
}

/* Read one meta row into buf (cap bytes); CAIRN_ENOENT if absent. */
static int meta_read(cairn_store_t *s, const char *key, void *buf, size_t cap, size_t *len) {
  MDB_txn *txn;
  MDB_val v;
  int rc = cairn__txn_begin(s, MDB_RDONLY, &txn);
  if (rc != 0)
    return rc;
  rc = cairn__meta_get(txn, s, key, &v);
  if (rc == 0 && v.mv_size > cap)
    rc = CAIRN_ETOOBIG;
  if (rc == 0) {
    if (v.mv_size)
      memcpy(buf, v.mv_data, v.mv_size);
    *len = v.mv_size;
  }
  mdb_txn_abort(txn);
  return rc;
}

int cairn_store_epoch(cairn_store_t *s, uint8_t out[CAIRN_EPOCH_BYTES]) {
  size_t n;
  int rc = meta_read(s, META_EPOCH, out, CAIRN_EPOCH_BYTES, &n);
  if (rc == 0 && n == CAIRN_EPOCH_BYTES)
    return 0;
  if (rc != 0 && rc != CAIRN_ENOENT)
    return rc;
  randombytes_buf(out, CAIRN_EPOCH_BYTES);
  return meta_write(s, META_EPOCH, out, CAIRN_EPOCH_BYTES, false);
}

int cairn_store_last_arrival(cairn_store_t *s, uint64_t *out) {
  uint8_t b[8];
  size_t n;
  int rc = meta_read(s, "arrival", b, sizeof b, &n);
  *out = 0;
  if (rc == CAIRN_ENOENT)
    return 0;
  if (rc == 0 && n == 8)
    *out = cairn_get_be64(b);
  return rc == 0 && n != 8 ? CAIRN_ECORRUPT : rc;
}

/* The logged bytes that an arrivals row refers to. */
static int logged_bytes(MDB_txn *txn, cairn_store_t *s, const uint8_t *ref, MDB_val *v) {
  MDB_val k = mval(ref, 40);
  int rc = mdb_get(txn, s->dbi[DB_LOG], &k, v);
  return rc == MDB_NOTFOUND ? CAIRN_ECORRUPT : cairn__mdb_err(rc);
}

/* A walk's result: the callback's error, else LMDB's (the end is not one). */
static int walk_result(int mrc, int res) {
  if (res < 0)
    return res;
  if (res > 0 || mrc == 0 || mrc == MDB_NOTFOUND)
    return 0;
  return cairn__mdb_err(mrc);
}

int cairn_store_arrivals(cairn_store_t *s, uint64_t after, cairn_stored_cb cb, void *ud) {
  walk_t w;
  MDB_val k, v, bytes;
  uint8_t kb[8];
  cairn_stored_t e;
  int rc = cairn__walk_begin(s, DB_ARRIVALS, &w);
  if (rc != 0)
    return rc;
  cairn_put_be64(kb, after); /* arrival numbers count from 0: position p is arrival p - 1 */
  k = mval(kb, sizeof kb);
  int mrc, res = 0;
  for (mrc = mdb_cursor_get(w.cur, &k, &v, MDB_SET_RANGE); mrc == 0 && res == 0;
       mrc = mdb_cursor_get(w.cur, &k, &v, MDB_NEXT)) {
    const uint8_t *ref = v.mv_data;
    if (k.mv_size != 8 || v.mv_size != 40) {
      res = CAIRN_ECORRUPT;
    } else if ((res = logged_bytes(w.txn, s, ref, &bytes)) == 0) {
      e = (cairn_stored_t){ref, cairn_get_be64(ref + CAIRN_KEY_BYTES), bytes.mv_data,
                           bytes.mv_size};
      res = cb(&e, cairn_get_be64(k.mv_data) + 1, ud);
    }
  }
  cairn__walk_end(&w);
  return walk_result(mrc, res);
}

int cairn_store_author_log(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                           uint64_t after, cairn_stored_cb cb, void *ud) {
  walk_t w;
  MDB_val k, v;
  uint8_t kb[40];
  cairn_stored_t e;
  int rc = cairn__walk_begin(s, DB_LOG, &w);
  if (rc != 0)
    return rc;
  cairn__key_log(kb, author, after + 1);
  k = mval(kb, sizeof kb);
  int mrc, res = 0;
  for (mrc = mdb_cursor_get(w.cur, &k, &v, MDB_SET_RANGE); mrc == 0 && res == 0;
       mrc = mdb_cursor_get(w.cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size != 40 || memcmp(k.mv_data, author, CAIRN_KEY_BYTES) != 0)
      break; /* past the author's entries */
    uint64_t seq = cairn_get_be64((const uint8_t *)k.mv_data + CAIRN_KEY_BYTES);
    e = (cairn_stored_t){k.mv_data, seq, v.mv_data, v.mv_size};
    res = cb(&e, seq, ud);
  }
  cairn__walk_end(&w);
  return walk_result(mrc, res);
}

int cairn_store_clock_offset(cairn_store_t *s, int64_t *ms) {
  *ms = s->clock_offset_ms;
  return 0;
}

int cairn_store_set_clock_offset(cairn_store_t *s, int64_t ms) {
  uint8_t b[8];
  int rc;
  if (ms == s->clock_offset_ms)
    return 0;
  cairn_put_be64(b, (uint64_t)ms);
  if ((rc = meta_write(s, META_CLOCK_OFFSET, b, sizeof b, false)) == 0)
    s->clock_offset_ms = ms;
  return rc;
}

int cairn_store_expect_network(cairn_store_t *s, const uint8_t id[CAIRN_KEY_BYTES],
                               cairn_error_t *err) {
  int rc;
  if (s->has_network)
    return memcmp(s->network, id, CAIRN_KEY_BYTES) == 0
               ? 0
               : cairn__error(err, CAIRN_EHASNETWORK, "this store holds another network");
  if ((rc = meta_write(s, META_EXPECT, id, CAIRN_KEY_BYTES, false)) != 0)
    return cairn__error(err, rc, "cannot record the network: %s", cairn_strerror(rc));
  return 0;
}

int cairn_store_expected_network(cairn_store_t *s, uint8_t out[CAIRN_KEY_BYTES]) {
  size_t n;
  int rc = meta_read(s, META_EXPECT, out, CAIRN_KEY_BYTES, &n);
  return rc == 0 && n != CAIRN_KEY_BYTES ? CAIRN_ECORRUPT : rc;
}

static int setting_key(char *out, size_t cap, const char *name) {
  size_t n = strlen(name);
  if (n == 0 || n > SETTING_NAME_MAX || n + sizeof SETTING_PREFIX > cap)
    return CAIRN_EINVAL;
  memcpy(out, SETTING_PREFIX, sizeof SETTING_PREFIX - 1);
  memcpy(out + sizeof SETTING_PREFIX - 1, name, n + 1);
  return 0;
}

int cairn_store_setting_get(cairn_store_t *s, const char *name, void *buf, size_t cap,
                            size_t *len) {
  char key[SETTING_NAME_MAX + sizeof SETTING_PREFIX];
  int rc = setting_key(key, sizeof key, name);
  return rc != 0 ? rc : meta_read(s, key, buf, cap, len);
}

int cairn__setting_put(MDB_txn *txn, cairn_store_t *s, const char *name, const void *value,
                       size_t len) {
  char key[SETTING_NAME_MAX + sizeof SETTING_PREFIX];
  int rc = setting_key(key, sizeof key, name);
  if (rc != 0 || len > CAIRN_SETTING_MAX)
    return rc ? rc : CAIRN_ETOOBIG;
  return cairn__meta_put(txn, s, key, value, len);
}

int cairn_store_setting_set(cairn_store_t *s, const char *name, const void *value, size_t len) {
  char key[SETTING_NAME_MAX + sizeof SETTING_PREFIX];
  int rc = setting_key(key, sizeof key, name);
  if (rc != 0 || len > CAIRN_SETTING_MAX)
    return rc ? rc : CAIRN_ETOOBIG;
  return meta_write(s, key, value, len, value == NULL);
}
