/*
 * query.c — read-only walks over a store: records, history, conflicts, the log,
 * heads and export. Each call runs in one read transaction; the views given to
 * callbacks are valid until the callback returns.
 */
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "store_internal.h"

int cairn__walk_begin(cairn_store_t *s, int db, walk_t *w) {
  int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &w->txn);
  if (rc != 0)
    return cairn__mdb_err(rc);
  if ((rc = mdb_cursor_open(w->txn, s->dbi[db], &w->cur)) != 0) {
    mdb_txn_abort(w->txn);
    return cairn__mdb_err(rc);
  }
  return 0;
}

void cairn__walk_end(walk_t *w) {
  mdb_cursor_close(w->cur);
  mdb_txn_abort(w->txn);
}

/* The result of a walk: LMDB codes mapped, CAIRN_E* codes (small negatives) kept. */
static int walk_rc(int rc) {
  if (rc == 0 || rc == MDB_NOTFOUND)
    return 0;
  return rc < 0 && rc > -100 ? rc : cairn__mdb_err(rc);
}

static bool has_prefix(const MDB_val *k, const keybuf_t *p) {
  return k->mv_size >= p->len && memcmp(k->mv_data, p->b, p->len) == 0;
}

/* The record at key k (type \0 id) as txn sees it: 0 with *r when visible, else
 * CAIRN_ENOENT, CAIRN_EDELETED or the store's error. */
static int visible_record(MDB_txn *txn, cairn_store_t *s, const keybuf_t *k, cairn_record_t *r) {
  MDB_val key = mval(k->b, k->len), val;
  int rc = mdb_get(txn, s->dbi[DB_RECORDS], &key, &val);
  if (rc != 0)
    return cairn__mdb_err(rc);
  if ((rc = cairn__rec_view(&key, &val, r)) != 0)
    return rc;
  return r->deleted ? CAIRN_EDELETED : 0;
}

int cairn_get(cairn_store_t *s, const char *type, const char *id, cairn_record_cb cb,
                    void *ud) {
  keybuf_t k;
  MDB_txn *txn;
  cairn_record_t r;
  int rc = cairn__key_record(&k, type, strlen(type), id, strlen(id));
  if (rc != 0)
    return rc;
  if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
    return cairn__mdb_err(rc);
  if ((rc = visible_record(txn, s, &k, &r)) == 0)
    cb(&r, ud);
  mdb_txn_abort(txn);
  return rc;
}

int cairn__list_type(cairn_store_t *s, const char *type, cairn_record_cb cb, void *ud) {
  return cairn_records_walk(s, type, 0, cb, ud); /* index.h */
}

/* Load the entry of author at seq from the log (a view). */
static int logged(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, uint64_t seq,
                  cairn_entry_t *e) {
  uint8_t kb[40];
  MDB_val k, v;
  int rc;
  cairn__key_log(kb, author, seq);
  k = mval(kb, sizeof kb);
  if ((rc = mdb_get(txn, s->dbi[DB_LOG], &k, &v)) != 0)
    return cairn__mdb_err(rc);
  return cairn_entry_decode(v.mv_data, v.mv_size, SIZE_MAX, e, NULL) ? CAIRN_ECORRUPT : 0;
}

/* The op of e on (type, id); 1 if found. */
static int op_on(const cairn_entry_t *e, const char *type, size_t tl, const char *id, size_t il,
                 cairn_op_t *op) {
  cairn_op_iter_t it;
  cairn_op_iter_init(e, &it);
  while (cairn_op_next(&it, op))
    if (op->kind != CAIRN_OP_REDACTED && op->type_len == tl && op->id_len == il &&
        memcmp(op->type, type, tl) == 0 && memcmp(op->id, id, il) == 0)
      return 1;
  return 0;
}

int cairn__logged_op(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, uint64_t seq,
                     const char *type, size_t tl, const char *id, size_t il, cairn_entry_t *e,
                     cairn_op_t *op, bool *found) {
  int rc = logged(txn, s, author, seq, e);
  *found = rc == 0 && op_on(e, type, tl, id, il, op);
  return rc;
}

int cairn_history(cairn_store_t *s, const char *type, const char *id,
                        cairn_history_cb cb, void *ud) {
  keybuf_t prefix;
  walk_t w;
  MDB_val k, v;
  cairn_entry_t e;
  cairn_op_t op;
  int rc = cairn__key_record(&prefix, type, strlen(type), id, strlen(id));
  if (rc != 0)
    return rc;
  prefix.b[prefix.len++] = 0;
  if ((rc = cairn__walk_begin(s, DB_HISTORY, &w)) != 0)
    return rc;
  k = mval(prefix.b, prefix.len);
  for (rc = mdb_cursor_get(w.cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(w.cur, &k, &v, MDB_NEXT)) {
    if (!has_prefix(&k, &prefix) || k.mv_size != prefix.len + 8 + CAIRN_KEY_BYTES ||
        v.mv_size != 8)
      break;
    const uint8_t *author = (const uint8_t *)k.mv_data + prefix.len + 8;
    bool found;
    if ((rc = cairn__logged_op(w.txn, s, author, cairn_get_be64(v.mv_data), type,
                               strlen(type), id, strlen(id), &e, &op, &found)) != 0)
      break;
    if (found && cb(&e, &op, ud) != 0)
      break;
  }
  cairn__walk_end(&w);
  return walk_rc(rc);
}

/* ---- conflicts ---- */

typedef struct heads_buf {
  cairn_head_t *h;
  size_t n, cap;
} heads_buf_t;

static int heads_add(heads_buf_t *b, const cairn_head_t *h) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 8;
    cairn_head_t *nh = realloc(b->h, cap * sizeof *nh);
    if (nh == NULL)
      return CAIRN_ENOMEM;
    b->h = nh;
    b->cap = cap;
  }
  b->h[b->n++] = *h;
  return 0;
}

/* Whether every head is nil: nothing to show (an unset field is absent). */
static bool heads_all_nil(const heads_buf_t *rows, const cairn_record_field_t *winner) {
  if (!cairn__value_nil(winner->value, winner->value_len))
    return false;
  for (size_t i = 0; i < rows->n; i++)
    if (!cairn__value_nil(rows->h[i].value, rows->h[i].value_len))
      return false;
  return true;
}

/* The heads of a delete/edit conflict: the rows of the CAIRN_DELETED_FIELD
 * pseudo-field, one `false` (the greatest edit no delete saw: the record stays)
 * and one `true` per delete no edit saw. The `false` one goes first, the others
 * greatest stamp first. */
static bool head_false(const cairn_head_t *h) {
  return h->value_len == 1 && h->value[0] == 0xc2;
}

static int deleted_heads(const heads_buf_t *rows, heads_buf_t *all) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < rows->n; i++)
    if (head_false(&rows->h[i]))
      rc = heads_add(all, &rows->h[i]);
  if (rc == 0 && (all->n != 1 || rows->n < 2))
    rc = CAIRN_ECORRUPT;
  for (size_t i = rows->n; rc == 0 && i-- > 0;)
    if (!head_false(&rows->h[i]))
      rc = heads_add(all, &rows->h[i]);
  return rc;
}

/* Report one conflicted field: its winner from the record, then the rows. */
static int report_field(MDB_txn *txn, cairn_store_t *s, const keybuf_t *field_prefix,
                        heads_buf_t *rows, cairn_conflict_cb cb, void *ud, int *stop) {
  const char *type = (const char *)field_prefix->b;
  size_t tl = strlen(type);
  const char *id = type + tl + 1;
  size_t il = strlen(id);
  const char *field = id + il + 1;
  size_t fl = strlen(field);
  keybuf_t rk;
  cairn_record_t r;
  cairn_record_field_t f;
  heads_buf_t all = {0};
  int rc = cairn__key_record(&rk, type, tl, id, il);
  if (rc == 0)
    rc = visible_record(txn, s, &rk, &r);
  if (rc != 0) /* a deleted record's conflicts are not listed */
    return rc == CAIRN_ENOENT || rc == CAIRN_EDELETED ? 0 : rc;
  if (strcmp(field, CAIRN_DELETED_FIELD) == 0) {
    rc = deleted_heads(rows, &all);
  } else {
    if (!cairn__record_field_any(&r, field, fl, &f) || heads_all_nil(rows, &f))
      return 0;
    cairn_head_t h = {f.value, f.value_len, f.stamp};
    rc = heads_add(&all, &h);
    /* losers, greatest stamp first */
    for (size_t i = rows->n; rc == 0 && i-- > 0;)
      rc = heads_add(&all, &rows->h[i]);
  }
  if (rc == 0 && cb(type, tl, id, il, field, fl, all.h, all.n, ud) != 0)
    *stop = 1;
  free(all.h);
  return rc;
}

/* Every conflicted field whose `conflicts` rows start with prefix (all when its
 * length is 0), in key order, in the walk w. */
static int conflicts_walk(cairn_store_t *s, walk_t *w, const keybuf_t *prefix,
                          cairn_conflict_cb cb, void *ud) {
  MDB_val k = mval(prefix->b, prefix->len), v;
  keybuf_t cur = {.len = 0};
  heads_buf_t rows = {0};
  int rc, stop = 0;
  for (rc = mdb_cursor_get(w->cur, &k, &v, prefix->len ? MDB_SET_RANGE : MDB_FIRST);
       rc == 0 && !stop; rc = mdb_cursor_get(w->cur, &k, &v, MDB_NEXT)) {
    if (!has_prefix(&k, prefix))
      break;
    if (k.mv_size <= 8 + CAIRN_KEY_BYTES || k.mv_size > sizeof cur.b) {
      rc = MDB_CORRUPTED;
      break;
    }
    size_t plen = k.mv_size - 8 - CAIRN_KEY_BYTES;
    if (cur.len != plen || memcmp(cur.b, k.mv_data, plen) != 0) {
      if (cur.len > 0 && (rc = report_field(w->txn, s, &cur, &rows, cb, ud, &stop)) != 0)
        break;
      memcpy(cur.b, k.mv_data, plen);
      cur.len = plen;
      rows.n = 0;
    }
    cairn_head_t h = {v.mv_data, v.mv_size, {0, {0}}};
    cairn__key_stamp(k.mv_data, k.mv_size, &h.stamp);
    if ((rc = heads_add(&rows, &h)) != 0)
      break;
  }
  if ((rc == 0 || rc == MDB_NOTFOUND) && !stop && cur.len > 0)
    rc = report_field(w->txn, s, &cur, &rows, cb, ud, &stop);
  free(rows.h);
  return walk_rc(rc);
}

int cairn_conflicts(cairn_store_t *s, cairn_conflict_cb cb, void *ud) {
  walk_t w;
  keybuf_t all = {.len = 0};
  int rc = cairn__walk_begin(s, DB_CONFLICTS, &w);
  if (rc != 0)
    return rc;
  rc = conflicts_walk(s, &w, &all, cb, ud);
  cairn__walk_end(&w);
  return rc;
}

int cairn__record_conflicts(cairn_store_t *s, const char *type, const char *id,
                            cairn_conflict_cb cb, void *ud) {
  keybuf_t prefix;
  walk_t w;
  cairn_record_t r;
  int rc = cairn__key_record(&prefix, type, strlen(type), id, strlen(id));
  if (rc != 0 || (rc = cairn__walk_begin(s, DB_CONFLICTS, &w)) != 0)
    return rc;
  if ((rc = visible_record(w.txn, s, &prefix, &r)) == 0) {
    prefix.b[prefix.len++] = 0;
    rc = conflicts_walk(s, &w, &prefix, cb, ud);
  }
  cairn__walk_end(&w);
  return rc;
}

/* ---- log, heads, export ---- */

int cairn_store_export(cairn_store_t *s, cairn_since_fn since, cairn_entry_cb cb, void *ud) {
  walk_t w;
  MDB_val k, v;
  cairn_entry_t e;
  int rc;
  if ((rc = cairn__walk_begin(s, DB_ARRIVALS, &w)) != 0)
    return rc;
  for (rc = mdb_cursor_get(w.cur, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(w.cur, &k, &v, MDB_NEXT)) {
    if (v.mv_size != 40) {
      rc = MDB_CORRUPTED;
      break;
    }
    const uint8_t *ref = v.mv_data;
    if (since != NULL && cairn_get_be64(ref + CAIRN_KEY_BYTES) <= since(ref, ud))
      continue;
    if ((rc = logged(w.txn, s, ref, cairn_get_be64(ref + CAIRN_KEY_BYTES), &e)) != 0)
      break;
    if (cb(&e, ud) != 0)
      break;
  }
  cairn__walk_end(&w);
  return walk_rc(rc);
}

int cairn_store_log(cairn_store_t *s, cairn_entry_cb cb, void *ud) {
  return cairn_store_export(s, NULL, cb, ud);
}

int cairn_store_heads(cairn_store_t *s, cairn_heads_cb cb, void *ud) {
  walk_t w;
  MDB_val k, v;
  int rc;
  if ((rc = cairn__walk_begin(s, DB_HEADS, &w)) != 0)
    return rc;
  for (rc = mdb_cursor_get(w.cur, &k, &v, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(w.cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size != CAIRN_KEY_BYTES || v.mv_size < 8 + CAIRN_HASH_BYTES) {
      rc = MDB_CORRUPTED;
      break;
    }
    if (cb(k.mv_data, cairn_get_be64(v.mv_data), (const uint8_t *)v.mv_data + 8, ud) != 0)
      break;
  }
  cairn__walk_end(&w);
  return walk_rc(rc);
}

int cairn_store_entry_hash(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                           uint8_t out[CAIRN_HASH_BYTES]) {
  MDB_txn *txn;
  cairn_entry_t e;
  int rc = cairn__txn_begin(s, MDB_RDONLY, &txn);
  if (rc != 0)
    return rc;
  if ((rc = logged(txn, s, author, seq, &e)) == 0)
    cairn_entry_hash(&e, out);
  mdb_txn_abort(txn);
  return rc;
}

int cairn__entry_refused_in(MDB_txn *txn, cairn_store_t *s, const uint8_t *author,
                            uint64_t seq, bool *refused) {
  MDB_val k, v;
  uint8_t kb[40];
  int rc;
  *refused = false;
  if (!s->has_refused_db)
    return 0;
  cairn__key_log(kb, author, seq);
  k = mval(kb, sizeof kb);
  rc = mdb_get(txn, s->dbi[DB_REFUSED], &k, &v);
  *refused = rc == 0;
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

int cairn_entry_refused(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                        cairn_error_t *why) {
  MDB_txn *txn;
  MDB_val k, v;
  uint8_t kb[40];
  int rc;
  if (!s->has_refused_db)
    return 0;
  if ((rc = cairn__txn_begin(s, MDB_RDONLY, &txn)) != 0)
    return rc;
  cairn__key_log(kb, author, seq);
  k = mval(kb, sizeof kb);
  rc = mdb_get(txn, s->dbi[DB_REFUSED], &k, &v);
  if (rc == 0)
    cairn__error(why, CAIRN_EFORBIDDEN, "%.*s", (int)v.mv_size, (const char *)v.mv_data);
  mdb_txn_abort(txn);
  return rc == 0 ? 1 : rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

int cairn_store_head_seq(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                         uint64_t *seq) {
  MDB_txn *txn;
  head_t h;
  int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
  if (rc != 0)
    return cairn__mdb_err(rc);
  rc = cairn__head_get(txn, s, author, &h);
  mdb_txn_abort(txn);
  *seq = h.seq;
  return rc;
}

/* ---- version vectors ---- */

int cairn_vv_add(cairn_vv_t *v, const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                 const uint8_t *hash) {
  if (v->n == v->cap) {
    size_t cap = v->cap ? 2 * v->cap : 16;
    void *a = realloc(v->authors, cap * CAIRN_KEY_BYTES);
    if (a != NULL)
      v->authors = a;
    void *q = a ? realloc(v->seqs, cap * sizeof *v->seqs) : NULL;
    if (q != NULL)
      v->seqs = q;
    void *h = q ? realloc(v->hashes, cap * CAIRN_HASH_BYTES) : NULL;
    if (h == NULL)
      return CAIRN_ENOMEM;
    v->hashes = h;
    v->cap = cap;
  }
  memcpy(v->authors[v->n], author, CAIRN_KEY_BYTES);
  v->seqs[v->n] = seq;
  if (hash != NULL)
    memcpy(v->hashes[v->n], hash, CAIRN_HASH_BYTES);
  else
    memset(v->hashes[v->n], 0, CAIRN_HASH_BYTES);
  v->n++;
  return 0;
}

typedef struct vv_fill {
  cairn_vv_t *v;
  int rc;
} vv_fill_t;

static int vv_collect(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                      const uint8_t hash[CAIRN_HASH_BYTES], void *ud) {
  vv_fill_t *f = ud;
  return (f->rc = cairn_vv_add(f->v, author, seq, hash)) != 0;
}

int cairn_store_vv(cairn_store_t *s, cairn_vv_t *v) {
  vv_fill_t f = {v, 0};
  v->n = 0;
  int rc = cairn_store_heads(s, vv_collect, &f);
  return rc != 0 ? rc : f.rc;
}

/* The index of author in v, or where it would go (*found false). */
static size_t vv_find(const cairn_vv_t *v, const uint8_t *author, bool *found) {
  size_t lo = 0, hi = v->n;
  *found = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = memcmp(v->authors[mid], author, CAIRN_KEY_BYTES);
    if (c == 0) {
      *found = true;
      return mid;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

uint64_t cairn_vv_seq(const cairn_vv_t *v, const uint8_t author[CAIRN_KEY_BYTES],
                      const uint8_t **hash) {
  bool found;
  size_t i = vv_find(v, author, &found);
  if (!found)
    return 0;
  if (hash != NULL)
    *hash = v->hashes[i];
  return v->seqs[i];
}

int cairn_vv_raise(cairn_vv_t *v, const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq) {
  bool found;
  size_t i = vv_find(v, author, &found);
  int rc;
  if (found) {
    if (seq > v->seqs[i]) {
      v->seqs[i] = seq;
      memset(v->hashes[i], 0, CAIRN_HASH_BYTES); /* not known for that seq */
    }
    return 0;
  }
  if ((rc = cairn_vv_add(v, author, seq, NULL)) != 0) /* appended: move it in place */
    return rc;
  size_t n = v->n - 1;
  memmove(v->authors[i + 1], v->authors[i], (n - i) * CAIRN_KEY_BYTES);
  memmove(&v->seqs[i + 1], &v->seqs[i], (n - i) * sizeof *v->seqs);
  memmove(v->hashes[i + 1], v->hashes[i], (n - i) * CAIRN_HASH_BYTES);
  memcpy(v->authors[i], author, CAIRN_KEY_BYTES);
  v->seqs[i] = seq;
  memset(v->hashes[i], 0, CAIRN_HASH_BYTES);
  return 0;
}

void cairn_vv_free(cairn_vv_t *v) {
  if (v == NULL)
    return;
  free(v->authors);
  free(v->seqs);
  free(v->hashes);
  memset(v, 0, sizeof *v);
}
