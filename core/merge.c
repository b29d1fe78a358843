/*
 * merge.c — merging ops into materialized records (docs/design.md, "Merge" and
 * "Conflicts").
 *
 * Every field is a register of writes stamped (hlc, author). A write names in its
 * base the stamps of the values its author saw. A field's heads are its writes
 * that no other write names; the visible value is the head with the greatest
 * stamp, the other heads are conflicts. Heads are kept incrementally:
 *
 *   - the winner lives in the record, the other heads in `conflicts`;
 *   - a base stamp that names a head removes it;
 *   - a base stamp that names a write not yet arrived goes to `pending`, so that
 *     when that write arrives it is known to be superseded already.
 *
 * Whether a write has arrived is known from its author's head: entries of one
 * author arrive in seq order and their HLCs grow with seq. So the heads, and
 * hence the records and the conflicts, depend only on the set of entries applied,
 * never on their order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

static int row_exists(MDB_txn *txn, MDB_dbi dbi, const keybuf_t *k, bool *found) {
  MDB_val key = mval(k->b, k->len), val;
  int rc = mdb_get(txn, dbi, &key, &val);
  *found = rc == 0;
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

static int row_del(MDB_txn *txn, MDB_dbi dbi, const keybuf_t *k) {
  MDB_val key = mval(k->b, k->len);
  int rc = mdb_del(txn, dbi, &key, NULL);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

static int row_put(MDB_txn *txn, MDB_dbi dbi, const keybuf_t *k, const void *v, size_t n) {
  MDB_val key = mval(k->b, k->len), val = mval(v, n);
  return cairn__mdb_err(mdb_put(txn, dbi, &key, &val, 0));
}

/* Values copied out of `conflicts` that the record points into until it is saved. */
typedef struct scratch {
  uint8_t **p;
  size_t n, cap;
} scratch_t;

static int scratch_keep(scratch_t *sc, uint8_t *buf) {
  if (sc->n == sc->cap) {
    size_t cap = sc->cap ? 2 * sc->cap : 4;
    uint8_t **p = realloc(sc->p, cap * sizeof *p);
    if (p == NULL)
      return CAIRN_ENOMEM;
    sc->p = p;
    sc->cap = cap;
  }
  sc->p[sc->n++] = buf;
  return 0;
}

static void scratch_free(scratch_t *sc) {
  for (size_t i = 0; i < sc->n; i++)
    free(sc->p[i]);
  free(sc->p);
}

static void with_stamp(keybuf_t *out, const keybuf_t *prefix, const cairn_stamp_t *st) {
  *out = *prefix;
  cairn__key_add_stamp(out, st);
}

/*
 * The greatest conflicting head of a field (the last row under its prefix), or
 * found = false. The value is copied into *val (malloc'd).
 */
static int greatest_conflict(MDB_txn *txn, cairn_store_t *s, const keybuf_t *prefix,
                             bool *found, cairn_stamp_t *st, uint8_t **val, size_t *len) {
  MDB_cursor *cur;
  keybuf_t top = *prefix;
  MDB_val k, v;
  int rc;
  *found = false;
  memset(top.b + top.len, 0xff, 8 + CAIRN_KEY_BYTES);
  top.len += 8 + CAIRN_KEY_BYTES;
  if ((rc = mdb_cursor_open(txn, s->dbi[DB_CONFLICTS], &cur)) != 0)
    return cairn__mdb_err(rc);
  k = mval(top.b, top.len);
  rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  rc = rc == 0 ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
               : rc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST) : rc;
  if (rc == 0 && k.mv_size == prefix->len + 8 + CAIRN_KEY_BYTES &&
      memcmp(k.mv_data, prefix->b, prefix->len) == 0) {
    cairn__key_stamp(k.mv_data, k.mv_size, st);
    if ((*val = malloc(v.mv_size ? v.mv_size : 1)) == NULL) {
      rc = ENOMEM;
    } else {
      memcpy(*val, v.mv_data, v.mv_size);
      *len = v.mv_size;
      *found = true;
    }
  }
  mdb_cursor_close(cur);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

/* Apply a write's base: remove the heads it names, remember names of writes not
 * yet arrived. Sets *winner_gone if it names the current winner. */
static int apply_base(MDB_txn *txn, cairn_store_t *s, const keybuf_t *prefix,
                      const cairn_field_t *f, const rec_field_t *winner, bool *winner_gone,
                      merge_env_t *env) {
  cairn_stamp_t b;
  keybuf_t k;
  bool found;
  int rc;
  *winner_gone = false;
  for (uint32_t i = 0; i < f->nbase; i++) {
    if ((rc = cairn_field_base(f, i, &b)) != 0)
      return rc;
    if (winner != NULL && cairn_stamp_cmp(&b, &winner->stamp) == 0) {
      *winner_gone = true;
      continue;
    }
    with_stamp(&k, prefix, &b);
    /* conflict rows exist only beside a winner */
    found = false;
    if (winner != NULL && env->conflicts_any &&
        (rc = row_exists(txn, s->dbi[DB_CONFLICTS], &k, &found)) != 0)
      return rc;
    if (found) {
      rc = row_del(txn, s->dbi[DB_CONFLICTS], &k);
    } else if (!env->arrived(env->ud, &b)) {
      rc = row_put(txn, s->dbi[DB_PENDING], &k, "", 0);
      env->pending_any = true;
    }
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Merge one field write into record r. */
static int merge_field(MDB_txn *txn, cairn_store_t *s, rec_t *r, const cairn_op_t *op,
                       const cairn_field_t *f, const cairn_stamp_t *st, merge_env_t *env,
                       scratch_t *scratch) {
  keybuf_t prefix, k;
  rec_field_t *winner, w;
  bool gone, superseded, found;
  cairn_stamp_t cst;
  uint8_t *cval = NULL;
  size_t clen = 0;
  int rc;
  if ((rc = cairn__key_field(&prefix, op->type, op->type_len, op->id, op->id_len, f->name,
                             f->name_len)) != 0)
    return rc;
  winner = cairn__rec_find(r, f->name, f->name_len);
  if ((rc = apply_base(txn, s, &prefix, f, winner, &gone, env)) != 0)
    return rc;
  with_stamp(&k, &prefix, st);
  superseded = false;
  if (env->pending_any && (rc = row_exists(txn, s->dbi[DB_PENDING], &k, &superseded)) != 0)
    return rc;
  if (superseded && (rc = row_del(txn, s->dbi[DB_PENDING], &k)) != 0)
    return rc;
  w = (rec_field_t){f->name, f->name_len, f->value, f->value_len, *st};
  if (winner != NULL && !gone) {
    if (superseded)
      return 0;
    env->conflicts_any = true;
    if (cairn_stamp_cmp(st, &winner->stamp) < 0)
      return row_put(txn, s->dbi[DB_CONFLICTS], &k, f->value, f->value_len);
    with_stamp(&k, &prefix, &winner->stamp);
    if ((rc = row_put(txn, s->dbi[DB_CONFLICTS], &k, winner->value, winner->value_len)) != 0)
      return rc;
    *winner = w;
    return 0;
  }
  /* No winner left: the greatest of the remaining heads and this write wins.
   * Conflict rows exist only beside a winner, so with none there is none. */
  found = false;
  if (winner != NULL && env->conflicts_any &&
      (rc = greatest_conflict(txn, s, &prefix, &found, &cst, &cval, &clen)) != 0)
    return rc;
  if (!superseded && (!found || cairn_stamp_cmp(st, &cst) > 0)) {
    free(cval);
    return cairn__rec_set(r, &w);
  }
  if (!found) {
    if (winner != NULL)
      cairn__rec_remove(r, winner);
    return 0;
  }
  with_stamp(&k, &prefix, &cst);
  if ((rc = row_del(txn, s->dbi[DB_CONFLICTS], &k)) != 0)
    goto done;
  if (!superseded) {
    with_stamp(&k, &prefix, st);
    if ((rc = row_put(txn, s->dbi[DB_CONFLICTS], &k, f->value, f->value_len)) != 0)
      goto done;
  }
  /* the record will point into cval: keep it alive until the record is saved */
  if ((rc = scratch_keep(scratch, cval)) != 0)
    goto done;
  w = (rec_field_t){f->name, f->name_len, cval, clen, cst};
  return cairn__rec_set(r, &w);
done:
  free(cval);
  return rc;
}

/* history row: type \0 id \0 hlc author -> seq */
static int add_history(wtxn_t *w, const keybuf_t *rk, const cairn_entry_t *e,
                       const cairn_stamp_t *st) {
  keybuf_t k = *rk;
  uint8_t seq[8];
  k.b[k.len++] = 0;
  cairn__key_add_stamp(&k, st);
  cairn_put_be64(seq, e->seq);
  MDB_val key = mval(k.b, k.len), val = mval(seq, sizeof seq);
  return cairn__mdb_err(cairn__wtxn_put(w, DB_HISTORY, &key, &val, 0));
}

int cairn__merge_history(const cairn_entry_t *e, const cairn_op_t *op, const cairn_stamp_t *st,
                         merge_env_t *env) {
  keybuf_t k;
  int rc = cairn__key_record(&k, op->type, op->type_len, op->id, op->id_len);
  return rc != 0 ? rc : add_history(env->w, &k, e, st);
}

int cairn__merge_op(MDB_txn *txn, cairn_store_t *s, const cairn_entry_t *e,
                    const cairn_op_t *op, const cairn_stamp_t *st, merge_env_t *env) {
  keybuf_t k;
  rec_t *r = &env->w->rec;
  cairn_field_iter_t it;
  cairn_field_t f;
  scratch_t scratch = {NULL, 0, 0};
  ixkeys_t before, after;
  int rc = cairn__key_record(&k, op->type, op->type_len, op->id, op->id_len);
  if (rc != 0 || (rc = cairn__rec_load(txn, s, env->w, &k, r)) != 0)
    return rc;
  cairn__index_keys(&k, r, &before);
  bool newer = !r->exists || cairn_stamp_cmp(st, &r->del) > 0;
  if (newer) {
    r->deleted = op->kind == CAIRN_OP_DEL;
    r->del = *st;
  }
  r->exists = true;
  if (op->kind == CAIRN_OP_PUT) {
    cairn_field_iter_init(op, &it);
    while (rc == 0 && cairn_field_next(&it, &f))
      rc = merge_field(txn, s, r, op, &f, st, env, &scratch);
    if (rc != 0)
      goto done;
  }
  if ((rc = cairn__rec_save(txn, s, env->w, &k, r)) != 0)
    goto done;
  /* the indexes follow the visible record, in the same transaction */
  cairn__index_keys(&k, r, &after);
  if ((rc = cairn__index_update(txn, s, env->w, &before, &after)) != 0)
    goto done;
  rc = add_history(env->w, &k, e, st);
done:
  scratch_free(&scratch);
  return rc;
}

int cairn__field_heads(MDB_txn *txn, cairn_store_t *s, const char *type, const char *id,
                       const char *field, bool all, cairn_stamp_t **out, size_t *n) {
  keybuf_t k, prefix;
  rec_t r = {0};
  rec_field_t *w;
  MDB_cursor *cur = NULL;
  MDB_val key, val;
  cairn_stamp_t *v = NULL;
  size_t cap = 0;
  int rc;
  *out = NULL;
  *n = 0;
  if ((rc = cairn__key_record(&k, type, strlen(type), id, strlen(id))) != 0 ||
      (rc = cairn__key_field(&prefix, type, strlen(type), id, strlen(id), field,
                             strlen(field))) != 0 ||
      (rc = cairn__rec_load(txn, s, NULL, &k, &r)) != 0)
    goto done;
  w = cairn__rec_find(&r, field, strlen(field));
  if (w == NULL)
    goto done;
  cap = 4;
  if ((v = malloc(cap * sizeof *v)) == NULL) {
    rc = CAIRN_ENOMEM;
    goto done;
  }
  v[(*n)++] = w->stamp;
  if (!all)
    goto done;
  if ((rc = mdb_cursor_open(txn, s->dbi[DB_CONFLICTS], &cur)) != 0) {
    rc = cairn__mdb_err(rc);
    goto done;
  }
  key = mval(prefix.b, prefix.len);
  for (rc = mdb_cursor_get(cur, &key, &val, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT)) {
    if (key.mv_size != prefix.len + 8 + CAIRN_KEY_BYTES ||
        memcmp(key.mv_data, prefix.b, prefix.len) != 0)
      break;
    if (*n == cap) {
      cairn_stamp_t *nv = realloc(v, 2 * cap * sizeof *v);
      if (nv == NULL) {
        rc = ENOMEM;
        break;
      }
      v = nv;
      cap *= 2;
    }
    cairn__key_stamp(key.mv_data, key.mv_size, &v[(*n)++]);
  }
  rc = rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
done:
  if (cur != NULL)
    mdb_cursor_close(cur);
  cairn__rec_free(&r);
  if (rc != 0) {
    free(v);
    *n = 0;
    return rc;
  }
  *out = v;
  return 0;
}
