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
 * never on their order. Whether a record is deleted is judged below ("deletes").
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

/* ---- deletes (docs/design.md, "Merge" and "Conflicts") ----
 *
 * A del names in `seen` each author's greatest stamp on the record as its
 * author's replica held it, and a put written where the record had a del names
 * in `dseen` each deleter's greatest del stamp there. An author's entries arrive
 * in seq order with growing stamps, so holding its stamp h on the record means
 * holding all it wrote there up to h: the del saw a put P when seen holds P's
 * author at P's hlc or later, the put saw a del D when dseen holds D's author at
 * D's hlc or later. A del written before `seen` existed (legacy) is ordered by
 * stamp: it saw the puts stamped before it, and the puts stamped after it saw
 * it. A del is live when no put saw it, a put when no del saw it. The record is
 * deleted when a del is live and no put is; both live is a delete/edit conflict:
 * the record stays, and rows of the pseudo-field CAIRN_DELETED_FIELD in
 * `conflicts` name the latest live put (`false`) and every live del (`true`).
 * All of it is read again from the record's history rows whenever an op lands
 * on a record that has had a del, so it depends only on the set of entries.
 */

/* One op of the record's history as judging needs it. */
typedef struct dop {
  cairn_stamp_t st;
  bool del;
  bool legacy;          /* a del without seen */
  bool live;
  size_t seen0;         /* its seen (del) or dseen (put): pool[seen0..+nseen) */
  uint32_t nseen;
} dop_t;

typedef struct judge {
  MDB_txn *txn;
  cairn_store_t *s;
  const char *type, *id;
  size_t tl, il;
  bool dels_only; /* collect dels only */
  dop_t *ops;
  size_t n, cap;
  cairn_stamp_t *pool;
  size_t npool, cappool;
} judge_t;

static void judge_free(judge_t *j) {
  free(j->ops);
  free(j->pool);
}

static int grow(void **p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return 0;
  size_t cap2 = *cap ? *cap : 16;
  while (cap2 < need)
    cap2 *= 2;
  void *np = realloc(*p, cap2 * size);
  if (np == NULL)
    return CAIRN_ENOMEM;
  *p = np;
  *cap = cap2;
  return 0;
}

/* Call fn with the stamp and seq of each history row of record rk, in order. */
typedef int (*row_fn)(const cairn_stamp_t *st, uint64_t seq, void *ud);

static int history_rows(MDB_txn *txn, cairn_store_t *s, const keybuf_t *rk, row_fn fn,
                        void *ud) {
  keybuf_t prefix = *rk;
  MDB_cursor *cur;
  MDB_val k, v;
  cairn_stamp_t st;
  int rc, frc = 0;
  prefix.b[prefix.len++] = 0;
  if ((rc = mdb_cursor_open(txn, s->dbi[DB_HISTORY], &cur)) != 0)
    return cairn__mdb_err(rc);
  k = mval(prefix.b, prefix.len);
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && frc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size != prefix.len + 8 + CAIRN_KEY_BYTES ||
        memcmp(k.mv_data, prefix.b, prefix.len) != 0 || v.mv_size != 8)
      break;
    cairn__key_stamp(k.mv_data, k.mv_size, &st);
    frc = fn(&st, cairn_get_be64(v.mv_data), ud);
  }
  mdb_cursor_close(cur);
  if (frc != 0)
    return frc;
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

/* Keep one history op (a put or a del that its entry's roles allow). */
static int collect_op(const cairn_stamp_t *st, uint64_t seq, void *ud) {
  judge_t *j = ud;
  cairn_entry_t e;
  cairn_op_t op;
  bool refused, found;
  int rc = cairn__entry_refused_in(j->txn, j->s, st->author, seq, &refused);
  if (rc != 0 || refused)
    return rc;
  if ((rc = cairn__logged_op(j->txn, j->s, st->author, seq, j->type, j->tl, j->id, j->il, &e,
                             &op, &found)) != 0 ||
      !found || (op.kind != CAIRN_OP_DEL && (op.kind != CAIRN_OP_PUT || j->dels_only)))
    return rc;
  if ((rc = grow((void **)&j->ops, &j->cap, j->n + 1, sizeof *j->ops)) != 0 ||
      (rc = grow((void **)&j->pool, &j->cappool, j->npool + CAIRN_SEEN_MAX,
                 sizeof *j->pool)) != 0)
    return rc;
  dop_t *d = &j->ops[j->n++];
  *d = (dop_t){*st, op.kind == CAIRN_OP_DEL, op.kind == CAIRN_OP_DEL && op.seen == NULL,
               true, j->npool, cairn_op_seen(&op, j->pool + j->npool)};
  j->npool += d->nseen;
  return 0;
}

/* Whether stamps (a seen or dseen) hold st's author at st's hlc or later. */
static bool seen_covers(const cairn_stamp_t *seen, uint32_t n, const cairn_stamp_t *st) {
  for (uint32_t i = 0; i < n; i++)
    if (memcmp(seen[i].author, st->author, CAIRN_KEY_BYTES) == 0)
      return seen[i].hlc >= st->hlc;
  return false;
}

/* Whether op a (a del or a put) saw op b (of the other kind). */
static bool op_saw(const judge_t *j, const dop_t *a, const dop_t *b) {
  const dop_t *del = a->del ? a : b;
  if (del->legacy)
    return cairn_stamp_cmp(&b->st, &a->st) < 0;
  return seen_covers(j->pool + a->seen0, a->nseen, &b->st);
}

/* Mark each op live or not. */
static void judge_live(judge_t *j) {
  for (size_t a = 0; a < j->n; a++)
    for (size_t b = 0; j->ops[a].live && b < j->n; b++)
      if (j->ops[b].del != j->ops[a].del && op_saw(j, &j->ops[b], &j->ops[a]))
        j->ops[a].live = false;
}

/* Rewrite the CAIRN_DELETED_FIELD rows of a record: those of a delete/edit
 * conflict (put: the latest live put), or none. */
static int deleted_rows(judge_t *j, merge_env_t *env, const cairn_stamp_t *put) {
  keybuf_t prefix, k;
  static const uint8_t f = 0xc2, t = 0xc3;
  int rc = cairn__key_field(&prefix, j->type, j->tl, j->id, j->il, CAIRN_DELETED_FIELD,
                            strlen(CAIRN_DELETED_FIELD));
  if (rc != 0 || (env->conflicts_any &&
                  (rc = cairn__rows_del_prefix(j->txn, j->s->dbi[DB_CONFLICTS], &prefix)) != 0))
    return rc;
  if (put == NULL)
    return 0;
  env->conflicts_any = true;
  with_stamp(&k, &prefix, put);
  rc = row_put(j->txn, j->s->dbi[DB_CONFLICTS], &k, &f, 1);
  for (size_t i = 0; rc == 0 && i < j->n; i++)
    if (j->ops[i].del && j->ops[i].live) {
      with_stamp(&k, &prefix, &j->ops[i].st);
      rc = row_put(j->txn, j->s->dbi[DB_CONFLICTS], &k, &t, 1);
    }
  return rc;
}

/* Judge whether record r (key rk) is deleted, from its history rows (this op's
 * included), and keep its delete/edit conflict rows. */
static int judge_deleted(MDB_txn *txn, cairn_store_t *s, const cairn_op_t *op,
                         const keybuf_t *rk, rec_t *r, merge_env_t *env) {
  judge_t j = {txn, s, op->type, op->id, op->type_len, op->id_len, false, NULL, 0, 0, NULL, 0, 0};
  const cairn_stamp_t *put = NULL;
  bool live_del = false;
  int rc = history_rows(txn, s, rk, collect_op, &j);
  if (rc != 0)
    goto done;
  judge_live(&j);
  memset(&r->del, 0, sizeof r->del);
  for (size_t i = 0; i < j.n; i++) {
    const dop_t *d = &j.ops[i];
    if (d->del && cairn_stamp_cmp(&d->st, &r->del) > 0)
      r->del = d->st;
    live_del |= d->del && d->live;
    if (!d->del && d->live && (put == NULL || cairn_stamp_cmp(&d->st, put) > 0))
      put = &d->st;
  }
  r->deleted = live_del && put == NULL;
  rc = deleted_rows(&j, env, live_del ? put : NULL);
done:
  judge_free(&j);
  return rc;
}

/* Per-author greatest stamps, gathered from history rows. */
typedef struct seen_set {
  judge_t *j;     /* when gathering dels only: the ops to read */
  cairn_stamp_t *v;
  size_t n, cap;
} seen_set_t;

static int seen_add(seen_set_t *ss, const cairn_stamp_t *st) {
  for (size_t i = 0; i < ss->n; i++)
    if (memcmp(ss->v[i].author, st->author, CAIRN_KEY_BYTES) == 0) {
      if (st->hlc > ss->v[i].hlc)
        ss->v[i].hlc = st->hlc;
      return 0;
    }
  int rc = grow((void **)&ss->v, &ss->cap, ss->n + 1, sizeof *ss->v);
  if (rc == 0)
    ss->v[ss->n++] = *st;
  return rc;
}

static int seen_row(const cairn_stamp_t *st, uint64_t seq, void *ud) {
  (void)seq;
  return seen_add(ud, st);
}

static int stamp_desc(const void *a, const void *b) {
  return cairn_stamp_cmp(b, a);
}

static int author_asc(const void *a, const void *b) {
  return memcmp(((const cairn_stamp_t *)a)->author, ((const cairn_stamp_t *)b)->author,
                CAIRN_KEY_BYTES);
}

/* The greatest CAIRN_SEEN_MAX stamps of ss, authors ascending. */
static void seen_pick(seen_set_t *ss, cairn_stamp_t out[CAIRN_SEEN_MAX], uint32_t *n) {
  qsort(ss->v, ss->n, sizeof *ss->v, stamp_desc);
  *n = (uint32_t)(ss->n < CAIRN_SEEN_MAX ? ss->n : CAIRN_SEEN_MAX);
  memcpy(out, ss->v, *n * sizeof *out);
  qsort(out, *n, sizeof *out, author_asc);
}

int cairn__record_seen(MDB_txn *txn, cairn_store_t *s, const char *type, const char *id,
                       bool dels, cairn_stamp_t out[CAIRN_SEEN_MAX], uint32_t *n) {
  judge_t j = {txn, s, type, id, strlen(type), strlen(id), true, NULL, 0, 0, NULL, 0, 0};
  seen_set_t ss = {NULL, NULL, 0, 0};
  keybuf_t rk;
  rec_t r = {0};
  static const cairn_stamp_t zero = {0, {0}};
  int rc = cairn__key_record(&rk, type, j.tl, id, j.il);
  *n = 0;
  if (rc == 0 && dels)
    rc = cairn__rec_load(txn, s, NULL, &rk, &r);
  /* a put names dels only where the record had one (the usual case: none) */
  if (rc != 0 || (dels && (!r.exists || cairn_stamp_cmp(&r.del, &zero) == 0)))
    goto done;
  rc = history_rows(txn, s, &rk, dels ? collect_op : seen_row, dels ? (void *)&j : &ss);
  for (size_t i = 0; rc == 0 && i < j.n; i++)
    rc = seen_add(&ss, &j.ops[i].st);
  if (rc == 0)
    seen_pick(&ss, out, n);
done:
  free(ss.v);
  judge_free(&j);
  cairn__rec_free(&r);
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
  static const cairn_stamp_t zero = {0, {0}};
  int rc = cairn__key_record(&k, op->type, op->type_len, op->id, op->id_len);
  if (rc != 0 || (rc = cairn__rec_load(txn, s, env->w, &k, r)) != 0)
    return rc;
  /* a record that never had a del is not deleted, with no history to read */
  bool judge = op->kind == CAIRN_OP_DEL || (r->exists && cairn_stamp_cmp(&r->del, &zero) != 0);
  r->exists = true;
  if (op->kind == CAIRN_OP_PUT) {
    cairn_field_iter_init(op, &it);
    while (rc == 0 && cairn_field_next(&it, &f))
      rc = merge_field(txn, s, r, op, &f, st, env, &scratch);
    if (rc != 0)
      goto done;
  }
  /* judging reads the history rows, this op's included */
  if (judge && ((rc = add_history(env->w, &k, e, st)) != 0 ||
                (rc = judge_deleted(txn, s, op, &k, r, env)) != 0))
    goto done;
  if ((rc = cairn__rec_save(txn, s, env->w, &k, r)) == 0 && !judge)
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
  /* a field unset by every head shows as absent: a plain put saw all of them */
  if (!all && !cairn__value_nil(w->value, w->value_len))
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
    if (!all && !cairn__value_nil(val.mv_data, val.mv_size)) {
      *n = 1; /* a head with a value: the field is in conflict, the put saw one */
      break;
    }
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
