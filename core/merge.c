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

#include "schema.h"
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
 *
 * "Some put saw D" is "the join of every put's dseen covers D" (or, for a legacy
 * D, "the greatest put is after D"), and the same the other way, so a record
 * keeps those joins and the ops still live (rec_sum_t): an op arriving updates
 * them in time proportional to the authors of the record, whatever its history.
 * A put live now stays live until a del that saw it arrives, and an author's
 * later put is live if its earlier one is, so of puts only each author's latest
 * live one is kept. All of it depends only on the set of ops merged. The first
 * del of a record builds the state once from its history rows (puts that came
 * before it, some naming dels not arrived yet).
 */

static bool stamp_zero(const cairn_stamp_t *st) {
  static const cairn_stamp_t zero = {0, {0}};
  return cairn_stamp_cmp(st, &zero) == 0;
}

static cairn_stamp_t *set_find(const stamp_set_t *ss, const uint8_t *author) {
  for (size_t i = 0; i < ss->n; i++)
    if (memcmp(ss->v[i].author, author, CAIRN_KEY_BYTES) == 0)
      return &ss->v[i];
  return NULL;
}

/* Raise st's author in ss to st (adding it when absent). */
static int set_raise(stamp_set_t *ss, const cairn_stamp_t *st) {
  cairn_stamp_t *at = set_find(ss, st->author);
  if (at != NULL) {
    if (st->hlc > at->hlc)
      *at = *st;
    return 0;
  }
  int rc = cairn__grow((void **)&ss->v, &ss->cap, ss->n + 1, sizeof *ss->v);
  if (rc == 0)
    ss->v[ss->n++] = *st;
  return rc;
}

/* Whether ss holds st's author at st's hlc or later. */
static bool set_covers(const stamp_set_t *ss, const cairn_stamp_t *st) {
  const cairn_stamp_t *at = set_find(ss, st->author);
  return at != NULL && at->hlc >= st->hlc;
}

/* Whether a del merged into m saw the put stamped put. */
static bool some_del_saw(const rec_sum_t *m, const cairn_stamp_t *put) {
  return set_covers(&m->seen, put) ||
         (!stamp_zero(&m->legacy) && cairn_stamp_cmp(put, &m->legacy) < 0);
}

/* Whether a put merged into m saw del d. */
static bool some_put_saw(const rec_sum_t *m, const rec_del_t *d) {
  return d->legacy ? cairn_stamp_cmp(&d->st, &m->top_put) < 0 : set_covers(&m->dseen, &d->st);
}

static int fold_put(rec_sum_t *m, const cairn_stamp_t *st, const cairn_stamp_t *dseen,
                    uint32_t n) {
  size_t k = 0;
  int rc = 0;
  for (uint32_t i = 0; rc == 0 && i < n; i++)
    rc = set_raise(&m->dseen, &dseen[i]);
  if (rc != 0)
    return rc;
  if (cairn_stamp_cmp(st, &m->top_put) > 0)
    m->top_put = *st;
  for (size_t i = 0; i < m->ndels; i++) /* the dels it saw are live no more */
    if (!some_put_saw(m, &m->dels[i]))
      m->dels[k++] = m->dels[i];
  m->ndels = k;
  return some_del_saw(m, st) ? 0 : set_raise(&m->puts, st);
}

static int fold_del(rec_sum_t *m, const cairn_stamp_t *st, bool legacy,
                    const cairn_stamp_t *seen, uint32_t n) {
  rec_del_t d = {*st, legacy};
  size_t k = 0;
  int rc = 0;
  if (legacy && cairn_stamp_cmp(st, &m->legacy) > 0)
    m->legacy = *st;
  for (uint32_t i = 0; rc == 0 && i < n; i++)
    rc = set_raise(&m->seen, &seen[i]);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < m->puts.n; i++) /* the puts it saw are live no more */
    if (!some_del_saw(m, &m->puts.v[i]))
      m->puts.v[k++] = m->puts.v[i];
  m->puts.n = k;
  if (some_put_saw(m, &d))
    return 0;
  for (size_t i = 0; i < m->ndels; i++)
    if (cairn_stamp_cmp(&m->dels[i].st, st) == 0)
      return 0;
  if ((rc = cairn__grow((void **)&m->dels, &m->capdels, m->ndels + 1, sizeof *m->dels)) == 0)
    m->dels[m->ndels++] = d;
  return rc;
}

/* Merge one put or del (stamped st) into r's deletion state. */
static int fold_op(rec_t *r, const cairn_op_t *op, const cairn_stamp_t *st) {
  cairn_stamp_t seen[CAIRN_SEEN_MAX];
  uint32_t n = cairn_op_seen(op, seen);
  if (op->kind == CAIRN_OP_PUT)
    return fold_put(&r->sum, st, seen, n);
  if (cairn_stamp_cmp(st, &r->del) > 0)
    r->del = *st;
  return fold_del(&r->sum, st, op->seen == NULL, seen, n);
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

/* Building a record's deletion state from its history rows. */
typedef struct fold_ctx {
  MDB_txn *txn;
  cairn_store_t *s;
  const cairn_op_t *target; /* the record: its type and id */
  rec_t *r;
} fold_ctx_t;

/* Fold the op of one history row (not of an entry held as evidence). */
static int fold_row(const cairn_stamp_t *st, uint64_t seq, void *ud) {
  fold_ctx_t *f = ud;
  cairn_entry_t e;
  cairn_op_t op;
  bool refused, found;
  int rc = cairn__entry_refused_in(f->txn, f->s, st->author, seq, &refused);
  if (rc != 0 || refused ||
      (rc = cairn__logged_op(f->txn, f->s, st->author, seq, f->target->type,
                             f->target->type_len, f->target->id, f->target->id_len, &e, &op,
                             &found)) != 0 ||
      !found || (op.kind != CAIRN_OP_PUT && op.kind != CAIRN_OP_DEL))
    return rc;
  return fold_op(f->r, &op, st);
}

/* Rewrite the CAIRN_DELETED_FIELD rows of record (type, id) in m's conflict: the
 * latest live put (`false`) and every live del (`true`); none without one. */
static int deleted_rows(MDB_txn *txn, cairn_store_t *s, const cairn_op_t *op,
                        const rec_sum_t *m, merge_env_t *env) {
  static const uint8_t f = 0xc2, t = 0xc3;
  keybuf_t prefix, k;
  const cairn_stamp_t *put = NULL;
  int rc = cairn__key_field(&prefix, op->type, op->type_len, op->id, op->id_len,
                            CAIRN_DELETED_FIELD, strlen(CAIRN_DELETED_FIELD));
  if (rc != 0 || (env->conflicts_any &&
                  (rc = cairn__rows_del_prefix(txn, s->dbi[DB_CONFLICTS], &prefix)) != 0))
    return rc;
  if (m->ndels == 0)
    return 0;
  for (size_t i = 0; i < m->puts.n; i++)
    if (put == NULL || cairn_stamp_cmp(&m->puts.v[i], put) > 0)
      put = &m->puts.v[i];
  if (put == NULL)
    return 0;
  env->conflicts_any = true;
  with_stamp(&k, &prefix, put);
  rc = row_put(txn, s->dbi[DB_CONFLICTS], &k, &f, 1);
  for (size_t i = 0; rc == 0 && i < m->ndels; i++) {
    with_stamp(&k, &prefix, &m->dels[i].st);
    rc = row_put(txn, s->dbi[DB_CONFLICTS], &k, &t, 1);
  }
  return rc;
}

/*
 * Judge whether r is deleted after op (stamped st, of entry e): fold op into its
 * deletion state, or build that state from the history rows (this op's row
 * added first: *history_added) when the record has none yet. A record written
 * before the state existed that never had a del ends with none, as one that
 * never had a del.
 */
static int judge_deleted(MDB_txn *txn, cairn_store_t *s, const cairn_entry_t *e,
                         const cairn_op_t *op, const cairn_stamp_t *st, const keybuf_t *rk,
                         merge_env_t *env, bool *history_added) {
  rec_t *r = &env->w->rec;
  keybuf_t hk = *rk;
  bool again;
  int rc;
  if (r->sum.on) {
    /* an entry holds one op per record, and the record's history row names the
     * first: a second one is not judged (as a rebuild from history would not) */
    hk.b[hk.len++] = 0;
    cairn__key_add_stamp(&hk, st);
    if ((rc = row_exists(txn, s->dbi[DB_HISTORY], &hk, &again)) != 0 || again)
      return rc;
    rc = fold_op(r, op, st);
  } else {
    fold_ctx_t f = {txn, s, op, r};
    if ((rc = add_history(env->w, rk, e, st)) != 0)
      return rc;
    *history_added = true;
    memset(&r->del, 0, sizeof r->del);
    rc = history_rows(txn, s, rk, fold_row, &f);
    r->sum.on = !stamp_zero(&r->del);
  }
  if (rc != 0)
    return rc;
  r->deleted = r->sum.on && r->sum.ndels > 0 && r->sum.puts.n == 0;
  return deleted_rows(txn, s, op, &r->sum, env);
}

static int seen_row(const cairn_stamp_t *st, uint64_t seq, void *ud) {
  (void)seq;
  return set_raise(ud, st);
}

static int stamp_desc(const void *a, const void *b) {
  return cairn_stamp_cmp(b, a);
}

static int author_asc(const void *a, const void *b) {
  return memcmp(((const cairn_stamp_t *)a)->author, ((const cairn_stamp_t *)b)->author,
                CAIRN_KEY_BYTES);
}

/* The greatest CAIRN_SEEN_MAX stamps of ss, authors ascending. */
static void seen_pick(stamp_set_t *ss, cairn_stamp_t out[CAIRN_SEEN_MAX], uint32_t *n) {
  *n = (uint32_t)(ss->n < CAIRN_SEEN_MAX ? ss->n : CAIRN_SEEN_MAX);
  if (*n == 0)
    return; /* ss->v may be NULL: memcpy must not see it */
  cairn_sort(ss->v, ss->n, sizeof *ss->v, stamp_desc);
  memcpy(out, ss->v, *n * sizeof *out);
  cairn_sort(out, *n, sizeof *out, author_asc);
}

int cairn__record_seen(MDB_txn *txn, cairn_store_t *s, const char *type, const char *id,
                       bool dels, cairn_stamp_t out[CAIRN_SEEN_MAX], uint32_t *n) {
  stamp_set_t ss = {NULL, 0, 0};
  keybuf_t rk;
  rec_t r = {0};
  int rc = cairn__key_record(&rk, type, strlen(type), id, strlen(id));
  *n = 0;
  if (rc == 0 && !dels) /* a del: every author's greatest stamp on the record */
    rc = history_rows(txn, s, &rk, seen_row, &ss);
  if (rc == 0 && dels && (rc = cairn__rec_load(txn, s, NULL, &rk, &r)) == 0 && r.sum.on)
    for (size_t i = 0; rc == 0 && i < r.sum.ndels; i++) /* a put: the live dels */
      rc = set_raise(&ss, &r.sum.dels[i].st);
  if (rc == 0)
    seen_pick(&ss, out, n);
  free(ss.v);
  cairn__rec_free(&r);
  return rc;
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
  bool history_added = false;
  ixkeys_t before, after;
  int rc = cairn__key_record(&k, op->type, op->type_len, op->id, op->id_len);
  if (rc != 0 || (rc = cairn__rec_load(txn, s, env->w, &k, r)) != 0)
    return rc;
  cairn__index_keys(&k, r, &before);
  /* a record that never had a del is not deleted: nothing more to read (one
   * written before the deletion state existed, with a stamp there, is judged) */
  bool judge = r->sum.on || op->kind == CAIRN_OP_DEL || (r->exists && !stamp_zero(&r->del));
  r->exists = true;
  if (op->kind == CAIRN_OP_PUT) {
    cairn_field_iter_init(op, &it);
    while (rc == 0 && cairn_field_next(&it, &f))
      rc = merge_field(txn, s, r, op, &f, st, env, &scratch);
    if (rc != 0)
      goto done;
  }
  if (judge && (rc = judge_deleted(txn, s, e, op, st, &k, env, &history_added)) != 0)
    goto done;
  if ((rc = cairn__rec_save(txn, s, env->w, &k, r)) != 0)
    goto done;
  if (op->type_len == sizeof CAIRN_SCHEMA_TYPE - 1 &&
      memcmp(op->type, CAIRN_SCHEMA_TYPE, op->type_len) == 0 &&
      (rc = cairn__schema_touch(txn, s)) != 0)
    goto done;
  /* the indexes follow the visible record, in the same transaction */
  cairn__index_keys(&k, r, &after);
  if ((rc = cairn__index_update(txn, s, env->w, &before, &after)) != 0)
    goto done;
  if (!history_added)
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
