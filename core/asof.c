/*
 * asof.c — records as they stood at a past time, replayed from their history
 * (query.h, cairn_records_as_of; docs/design.md, "Reports").
 */
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

/* history key: type \0 id \0 hlc(8) author(32) -> seq(8) */
#define STAMP_BYTES (8 + CAIRN_KEY_BYTES)

typedef struct replay {
  MDB_txn *txn;
  cairn_store_t *s;
  const char *type;
  size_t tlen;
  uint64_t hlc;
  int with_deleted;
  cairn_record_cb cb;
  void *ud;
  rec_t rec;      /* the record being replayed (values point into the map) */
  keybuf_t key;   /* its records key: type \0 id */
  bbuf_t enc;
  bool stop;
} replay_t;

/* Hand the record replayed so far to the callback. */
static int emit(replay_t *p) {
  cairn_record_t view;
  MDB_val k, v;
  int rc;
  if (!p->rec.exists || (p->rec.deleted && !p->with_deleted))
    return 0;
  if ((rc = cairn__rec_encode(&p->rec, &p->enc)) != 0)
    return rc;
  k = mval(p->key.b, p->key.len);
  v = mval(p->enc.p, p->enc.len);
  if ((rc = cairn__rec_view(&k, &v, &view)) != 0)
    return rc;
  p->stop = p->cb(&view, p->ud) != 0;
  return 0;
}

static void rec_reset(rec_t *r) {
  r->exists = false;
  r->deleted = false;
  memset(&r->del, 0, sizeof r->del);
  r->n = 0;
}

/* Replay one op stamped st on the record (rows come in stamp order). */
static int replay_op(replay_t *p, const cairn_op_t *op, const cairn_stamp_t *st) {
  cairn_field_iter_t it;
  cairn_field_t f;
  int rc = 0;
  p->rec.exists = true;
  p->rec.deleted = op->kind == CAIRN_OP_DEL;
  p->rec.del = *st;
  if (op->kind != CAIRN_OP_PUT)
    return 0;
  cairn_field_iter_init(op, &it);
  while (rc == 0 && cairn_field_next(&it, &f)) {
    rec_field_t w = {f.name, f.name_len, f.value, f.value_len, *st};
    rc = cairn__rec_set(&p->rec, &w);
  }
  return rc;
}

/* One history row of the current record. */
static int replay_row(replay_t *p, const MDB_val *k, const MDB_val *v) {
  const uint8_t *key = k->mv_data;
  cairn_stamp_t st;
  cairn_entry_t e;
  cairn_op_t op;
  bool found, refused;
  size_t ilen = k->mv_size - p->tlen - 2 - STAMP_BYTES;
  int rc;
  cairn__key_stamp(key, k->mv_size, &st);
  if (st.hlc > p->hlc || v->mv_size != 8)
    return 0;
  uint64_t seq = cairn_get_be64(v->mv_data);
  if ((rc = cairn__entry_refused_in(p->txn, p->s, st.author, seq, &refused)) != 0 || refused)
    return rc;
  rc = cairn__logged_op(p->txn, p->s, st.author, seq, p->type, p->tlen,
                        (const char *)key + p->tlen + 1, ilen, &e, &op, &found);
  if (rc != 0 || !found)
    return rc;
  return replay_op(p, &op, &st);
}

/* Whether k is a history row of the type whose record is p->key. */
static bool same_record(const replay_t *p, const MDB_val *k) {
  return k->mv_size == p->key.len + 1 + STAMP_BYTES &&
         memcmp(k->mv_data, p->key.b, p->key.len) == 0 &&
         ((const uint8_t *)k->mv_data)[p->key.len] == 0;
}

static int replay_walk(replay_t *p, MDB_cursor *cur, const keybuf_t *prefix) {
  MDB_val k = mval(prefix->b, prefix->len), v;
  int rc;
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !p->stop;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size < prefix->len + 2 + STAMP_BYTES ||
        memcmp(k.mv_data, prefix->b, prefix->len) != 0)
      break;
    if (!same_record(p, &k)) {
      if ((rc = emit(p)) != 0)
        return rc;
      rec_reset(&p->rec);
      size_t rlen = k.mv_size - 1 - STAMP_BYTES;
      if (rlen > sizeof p->key.b)
        return CAIRN_ECORRUPT;
      memcpy(p->key.b, k.mv_data, rlen);
      p->key.len = rlen;
    }
    if ((rc = replay_row(p, &k, &v)) != 0)
      return rc;
  }
  if (rc != 0 && rc != MDB_NOTFOUND)
    return cairn__mdb_err(rc);
  return p->stop ? 0 : emit(p);
}

int cairn_records_as_of(cairn_store_t *s, const char *type, uint64_t hlc, int with_deleted,
                        cairn_record_cb cb, void *ud) {
  replay_t p;
  keybuf_t prefix;
  MDB_cursor *cur = NULL;
  size_t tlen = strlen(type);
  int rc;
  if (tlen == 0 || tlen > CAIRN_TYPE_MAX)
    return CAIRN_EINVAL;
  memset(&p, 0, sizeof p);
  p.s = s;
  p.type = type;
  p.tlen = tlen;
  p.hlc = hlc;
  p.with_deleted = with_deleted;
  p.cb = cb;
  p.ud = ud;
  memcpy(prefix.b, type, tlen + 1);
  prefix.len = tlen + 1;
  if ((rc = cairn__txn_begin(s, MDB_RDONLY, &p.txn)) != 0)
    return rc;
  if ((rc = mdb_cursor_open(p.txn, s->dbi[DB_HISTORY], &cur)) != 0)
    rc = cairn__mdb_err(rc);
  else
    rc = replay_walk(&p, cur, &prefix);
  if (cur != NULL)
    mdb_cursor_close(cur);
  mdb_txn_abort(p.txn);
  cairn__rec_free(&p.rec);
  free(p.enc.p);
  return rc;
}
