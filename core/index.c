/*
 * index.c — values compared by kind, the sort keys of dates, datetimes and
 * periods, walks over a type's records, and the secondary indexes (index.h;
 * docs/design.md, "Queries and indexes"; docs/storage.md, `index`).
 *
 * An index row's key is
 *   ix (1) || lead length (1) || lead bytes || 0x01 || sort key of the second field
 *                                           || 0x02   (second field absent or not of its kind)
 *          || type || 0x00 || id
 * with an empty value. The rows are a function of the visible record alone, so
 * the merge keeps them by comparing a record's rows before and after an op
 * (cairn__index_update), and any walk that computes the same rows from the
 * records and sorts them by key gives what the index gives.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "mpread.h"
#include "store_internal.h"

/* ---- the forms of dates, datetimes and periods, as sort keys ---- */

static int digits(const char *s, size_t n, int *v) {
  *v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    *v = *v * 10 + (s[i] - '0');
  }
  return 1;
}

static int days_in_month(int y, int m) {
  static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : d[m - 1];
}

static void put_be16(uint8_t *p, unsigned v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

size_t cairn__sortkey_date(const char *s, size_t n, uint8_t out[CAIRN__SORTKEY_MAX]) {
  int y, m, d;
  if (n != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &m) ||
      !digits(s + 8, 2, &d) || y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
    return 0;
  put_be16(out, (unsigned)y);
  out[2] = (uint8_t)m;
  out[3] = (uint8_t)d;
  return 4;
}

size_t cairn__sortkey_period(const char *s, size_t n, uint8_t out[CAIRN__SORTKEY_MAX]) {
  int y, m = 1, months = 12;
  if (n < 4 || !digits(s, 4, &y) || y < 1)
    return 0;
  if (n == 7 && s[4] == '-' && (s[5] == 'Q' || s[5] == 'q') && s[6] >= '1' && s[6] <= '4') {
    m = 1 + 3 * (s[6] - '1');
    months = 3;
  } else if (n == 7 && s[4] == '-' && digits(s + 5, 2, &m) && m >= 1 && m <= 12) {
    months = 1;
  } else if (n != 4) {
    return 0;
  }
  put_be16(out, (unsigned)y);
  out[2] = (uint8_t)m;
  out[3] = (uint8_t)(12 - months); /* same first month: the longer period first */
  return 4;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's method). */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* HH:MM[:SS[.fff...]] then Z, +HH:MM, -HH:MM or nothing: seconds into the day
 * minus the offset, and nanoseconds. */
static int time_parse(const char *s, size_t n, int64_t *secs, uint32_t *nanos) {
  int h, mi, sec = 0, oh, om;
  size_t i = 5;
  *nanos = 0;
  if (n < 5 || !digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) || h > 23 || mi > 59)
    return 0;
  if (i < n && s[i] == ':') {
    if (n < i + 3 || !digits(s + i + 1, 2, &sec) || sec > 60)
      return 0;
    i += 3;
    if (i < n && s[i] == '.') {
      size_t j = ++i;
      uint32_t scale = 100000000;
      for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
        *nanos += (uint32_t)(s[i] - '0') * scale;
      if (i == j)
        return 0;
    }
  }
  *secs = h * 3600 + mi * 60 + sec;
  if (i == n)
    return 1;
  if (s[i] == 'Z' || s[i] == 'z')
    return i + 1 == n;
  if ((s[i] != '+' && s[i] != '-') || n - i != 6 || !digits(s + i + 1, 2, &oh) ||
      s[i + 3] != ':' || !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
    return 0;
  *secs -= (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
  return 1;
}

size_t cairn__sortkey_datetime(const char *s, size_t n, uint8_t out[CAIRN__SORTKEY_MAX]) {
  uint8_t day[CAIRN__SORTKEY_MAX];
  int64_t secs;
  uint32_t nanos;
  if (n <= 11 || cairn__sortkey_date(s, 10, day) == 0 || (s[10] != 'T' && s[10] != ' ') ||
      !time_parse(s + 11, n - 11, &secs, &nanos))
    return 0;
  int64_t y = (day[0] << 8) | day[1];
  secs += days_from_civil(y, day[2], day[3]) * 86400;
  cairn_put_be64(out, (uint64_t)secs ^ ((uint64_t)1 << 63));
  cairn_put_be32(out + 8, nanos);
  return 12;
}

/* The sort key of text of kind date, datetime or period; 0 if it is not of
 * that form. */
static size_t sortkey_text(cairn_kind_t kind, const char *s, size_t n,
                           uint8_t out[CAIRN__SORTKEY_MAX]) {
  switch (kind) {
  case CAIRN_KIND_DATE: return cairn__sortkey_date(s, n, out);
  case CAIRN_KIND_DATETIME: return cairn__sortkey_datetime(s, n, out);
  case CAIRN_KIND_PERIOD: return cairn__sortkey_period(s, n, out);
  default: return 0;
  }
}

/* The length of every sort key of kind. */
static size_t sortkey_len(cairn_kind_t kind) {
  return kind == CAIRN_KIND_DATETIME ? 12 : 4;
}

/* The same for a str value. */
static size_t sortkey_of(cairn_kind_t kind, const uint8_t *mp, size_t len,
                         uint8_t out[CAIRN__SORTKEY_MAX]) {
  cairn_mpr_t m;
  const char *s;
  uint32_t n;
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_str(&m, &s, &n) != 0 || cairn_mpr_left(&m) != 0)
    return 0;
  return sortkey_text(kind, s, n, out);
}

/* ---- comparing by kind ---- */

static int cmp_bytes(const void *a, size_t an, const void *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  return c != 0 ? c : (an > bn) - (an < bn);
}

/* A number: an integer (compared exactly) or a finite float. */
typedef struct num {
  int is_int;
  int64_t i;
  uint64_t u; /* an integer above INT64_MAX: big set, u holds it */
  int big;
  double d;   /* the value as a float, for comparing with a float */
} num_t;

static int num_read(const uint8_t *mp, size_t len, num_t *n) {
  cairn_mpr_t m;
  memset(n, 0, sizeof *n);
  cairn_mpr_init(&m, mp, len);
  switch (cairn_mpr_peek(&m)) {
  case CAIRN_MP_UINT:
    if (cairn_mpr_uint(&m, &n->u) != 0)
      return 0;
    n->is_int = 1;
    n->big = n->u > INT64_MAX;
    n->i = n->big ? INT64_MAX : (int64_t)n->u;
    n->d = (double)n->u;
    break;
  case CAIRN_MP_INT:
    if (cairn_mpr_int(&m, &n->i) != 0)
      return 0;
    n->is_int = 1;
    n->d = (double)n->i;
    break;
  case CAIRN_MP_FLOAT:
    if (cairn_mpr_float(&m, &n->d) != 0 || !isfinite(n->d))
      return 0;
    break;
  default:
    return 0;
  }
  return cairn_mpr_left(&m) == 0;
}

static int num_cmp(const num_t *a, const num_t *b) {
  if (a->is_int && b->is_int) {
    if (a->big || b->big) /* both >= 0 here unless one is negative */
      return a->big && b->big ? (a->u > b->u) - (a->u < b->u) : a->big ? 1 : -1;
    return (a->i > b->i) - (a->i < b->i);
  }
  return (a->d > b->d) - (a->d < b->d);
}

static int str_view(const uint8_t *mp, size_t len, const char **s, uint32_t *n) {
  cairn_mpr_t m;
  cairn_mpr_init(&m, mp, len);
  return cairn_mpr_str(&m, s, n) == 0 && cairn_mpr_left(&m) == 0;
}

/* Lists of strings, element by element. */
static int refs_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, int *order) {
  cairn_mpr_t ma, mb;
  uint32_t na, nb;
  cairn_mpr_init(&ma, a, alen);
  cairn_mpr_init(&mb, b, blen);
  if (cairn_mpr_array(&ma, &na) != 0 || cairn_mpr_array(&mb, &nb) != 0)
    return 0;
  *order = 0;
  for (uint32_t i = 0; i < na || i < nb; i++) {
    const char *sa, *sb;
    uint32_t la, lb;
    if ((i < na && cairn_mpr_str(&ma, &sa, &la) != 0) ||
        (i < nb && cairn_mpr_str(&mb, &sb, &lb) != 0))
      return 0;
    if (*order == 0 && (i >= na || i >= nb))
      *order = i >= na ? -1 : 1;
    else if (*order == 0)
      *order = cmp_bytes(sa, la, sb, lb);
  }
  return cairn_mpr_left(&ma) == 0 && cairn_mpr_left(&mb) == 0;
}

int cairn_value_compare(cairn_kind_t kind, const uint8_t *a, size_t alen, const uint8_t *b,
                        size_t blen, int *order) {
  uint8_t ka[CAIRN__SORTKEY_MAX], kb[CAIRN__SORTKEY_MAX];
  const char *sa, *sb;
  uint32_t la, lb;
  num_t na, nb;
  size_t n;
  int ba, bb;
  cairn_mpr_t m;
  switch (kind) {
  case CAIRN_KIND_TEXT:
  case CAIRN_KIND_ENUM:
  case CAIRN_KIND_REF:
    if (!str_view(a, alen, &sa, &la) || !str_view(b, blen, &sb, &lb))
      return 0;
    *order = cmp_bytes(sa, la, sb, lb);
    return 1;
  case CAIRN_KIND_NUMBER:
  case CAIRN_KIND_INTEGER:
    if (!num_read(a, alen, &na) || !num_read(b, blen, &nb))
      return 0;
    *order = num_cmp(&na, &nb);
    return 1;
  case CAIRN_KIND_BOOL:
    cairn_mpr_init(&m, a, alen);
    if (cairn_mpr_bool(&m, &ba) != 0 || cairn_mpr_left(&m) != 0)
      return 0;
    cairn_mpr_init(&m, b, blen);
    if (cairn_mpr_bool(&m, &bb) != 0 || cairn_mpr_left(&m) != 0)
      return 0;
    *order = (ba != 0) - (bb != 0);
    return 1;
  case CAIRN_KIND_DATE:
  case CAIRN_KIND_DATETIME:
  case CAIRN_KIND_PERIOD:
    if ((n = sortkey_of(kind, a, alen, ka)) == 0 || sortkey_of(kind, b, blen, kb) != n)
      return 0;
    *order = memcmp(ka, kb, n);
    return 1;
  case CAIRN_KIND_REFS:
    return refs_cmp(a, alen, b, blen, order);
  default:
    return 0;
  }
}

/* ---- walking records ---- */

int cairn_records_walk(cairn_store_t *s, const char *type, int with_deleted, cairn_record_cb cb,
                       void *ud) {
  keybuf_t prefix = {.len = 0};
  walk_t w;
  MDB_val k, v;
  cairn_record_t r;
  int rc;
  if (type != NULL && cairn__key_record(&prefix, type, strlen(type), "", 0) != 0)
    return CAIRN_EINVAL;
  if (type != NULL && prefix.len > CAIRN_TYPE_MAX + 1)
    return CAIRN_EINVAL;
  if ((rc = cairn__walk_begin(s, DB_RECORDS, &w)) != 0)
    return rc;
  k = mval(prefix.b, prefix.len);
  for (rc = mdb_cursor_get(w.cur, &k, &v, type != NULL ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(w.cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size < prefix.len || memcmp(k.mv_data, prefix.b, prefix.len) != 0)
      break;
    if ((rc = cairn__rec_view(&k, &v, &r)) != 0)
      break;
    if ((with_deleted || !r.deleted) && cb(&r, ud) != 0)
      break;
  }
  cairn__walk_end(&w);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc < 0 && rc > -100 ? rc : cairn__mdb_err(rc);
}

/* ---- the indexes ---- */

static const cairn_index_def_t defs[] = {
    {CAIRN_INDEX_VALUE_INDICATOR, "value", "indicator", "period", CAIRN_KIND_PERIOD},
    {CAIRN_INDEX_VALUE_MEASURE, "value", "measure", "period", CAIRN_KIND_PERIOD},
    {CAIRN_INDEX_COMMITMENT_PARTNER, "commitment", "partner", "due", CAIRN_KIND_DATE},
    {CAIRN_INDEX_INTERACTION_PARTNER, "interaction", "partner", "date", CAIRN_KIND_DATE},
};
#define NDEFS (sizeof defs / sizeof defs[0])

const cairn_index_def_t *cairn_index_def(cairn_index_t ix) {
  for (size_t i = 0; i < NDEFS; i++)
    if (defs[i].ix == ix)
      return &defs[i];
  return NULL;
}

const cairn_index_def_t *cairn_index_find(const char *type, const char *lead) {
  for (size_t i = 0; i < NDEFS; i++)
    if (strcmp(defs[i].type, type) == 0 && strcmp(defs[i].lead, lead) == 0)
      return &defs[i];
  return NULL;
}

/* A field's value (nil counts as absent). */
typedef struct fval {
  const uint8_t *v;
  size_t len;
} fval_t;

static int not_nil(fval_t *f) {
  return f->v != NULL && !(f->len == 1 && f->v[0] == 0xc0);
}

/* The start of an index row: ix, lead length, lead. 0, or 1 when lead is not a
 * string of 1 to CAIRN_ID_MAX bytes (no row). */
static int key_lead(keybuf_t *k, cairn_index_t ix, const char *lead, size_t n) {
  if (n == 0 || n > CAIRN_ID_MAX)
    return 1;
  k->b[0] = (uint8_t)ix;
  k->b[1] = (uint8_t)n;
  memcpy(k->b + 2, lead, n);
  k->len = 2 + n;
  return 0;
}

/* The row of index d for a record (type \0 id in rk) with these two values; 0
 * with the key built, 1 when the record has no row. */
static int row_key(const cairn_index_def_t *d, const uint8_t *rk, size_t rklen,
                   fval_t *lead, fval_t *second, keybuf_t *k) {
  const char *s;
  uint32_t n;
  size_t skl = 0;
  if (!not_nil(lead) || !str_view(lead->v, lead->len, &s, &n) ||
      key_lead(k, d->ix, s, n) != 0)
    return 1;
  if (not_nil(second))
    skl = sortkey_of(d->second_kind, second->v, second->len, k->b + k->len + 1);
  k->b[k->len] = skl ? 0x01 : 0x02;
  k->len += 1 + skl;
  if (k->len + rklen > sizeof k->b)
    return 1; /* cannot happen: names are bounded */
  memcpy(k->b + k->len, rk, rklen);
  k->len += rklen;
  return 0;
}

static int defs_of_type(const char *type, size_t tlen, const cairn_index_def_t **first,
                        size_t *count) {
  *count = 0;
  for (size_t i = 0; i < NDEFS; i++)
    if (strlen(defs[i].type) == tlen && memcmp(defs[i].type, type, tlen) == 0) {
      if (*count == 0)
        *first = &defs[i];
      (*count)++;
    }
  return *count > 0;
}

static void rec_fval(const rec_t *r, const char *name, fval_t *out) {
  size_t n = strlen(name);
  out->v = NULL;
  out->len = 0;
  for (size_t i = 0; i < r->n; i++)
    if (r->f[i].name_len == n && memcmp(r->f[i].name, name, n) == 0) {
      out->v = r->f[i].value;
      out->len = r->f[i].value_len;
      return;
    }
}

static void view_fval(const cairn_record_t *r, const char *name, fval_t *out) {
  cairn_record_field_t f;
  out->v = NULL;
  out->len = 0;
  if (cairn_record_field(r, name, &f)) {
    out->v = f.value;
    out->len = f.value_len;
  }
}

void cairn__index_keys(const keybuf_t *rk, const rec_t *r, ixkeys_t *out) {
  const cairn_index_def_t *d = NULL;
  size_t count;
  const char *nul = memchr(rk->b, 0, rk->len);
  out->n = 0;
  if (nul == NULL || !r->exists || r->deleted ||
      !defs_of_type((const char *)rk->b, (size_t)(nul - (const char *)rk->b), &d, &count))
    return;
  for (size_t i = 0; i < count; i++) {
    fval_t lead, second;
    rec_fval(r, d[i].lead, &lead);
    rec_fval(r, d[i].second, &second);
    if (row_key(&d[i], rk->b, rk->len, &lead, &second, &out->k[out->n]) == 0)
      out->n++;
  }
}

/* The rows of a record view (cairn__index_keys for a cairn_record_t). */
static void view_keys(const cairn_record_t *r, ixkeys_t *out) {
  const cairn_index_def_t *d = NULL;
  size_t count;
  keybuf_t rk;
  out->n = 0;
  if (r->deleted || !defs_of_type(r->type, r->type_len, &d, &count) ||
      cairn__key_record(&rk, r->type, r->type_len, r->id, r->id_len) != 0)
    return;
  for (size_t i = 0; i < count; i++) {
    fval_t lead, second;
    view_fval(r, d[i].lead, &lead);
    view_fval(r, d[i].second, &second);
    if (row_key(&d[i], rk.b, rk.len, &lead, &second, &out->k[out->n]) == 0)
      out->n++;
  }
}

static int has_key(const ixkeys_t *set, const keybuf_t *k) {
  for (size_t i = 0; i < set->n; i++)
    if (set->k[i].len == k->len && memcmp(set->k[i].b, k->b, k->len) == 0)
      return 1;
  return 0;
}

int cairn__index_update(MDB_txn *txn, cairn_store_t *s, wtxn_t *w, const ixkeys_t *before,
                        const ixkeys_t *after) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < before->n; i++) {
    if (has_key(after, &before->k[i]))
      continue;
    MDB_val k = mval(before->k[i].b, before->k[i].len);
    rc = mdb_del(txn, s->dbi[DB_INDEX], &k, NULL);
    rc = rc == MDB_NOTFOUND ? 0 : rc;
  }
  for (size_t i = 0; rc == 0 && i < after->n; i++) {
    if (has_key(before, &after->k[i]))
      continue;
    MDB_val k = mval(after->k[i].b, after->k[i].len), v = mval("", 0);
    rc = w != NULL ? cairn__wtxn_put(w, DB_INDEX, &k, &v, 0)
                   : mdb_put(txn, s->dbi[DB_INDEX], &k, &v, 0);
  }
  return cairn__mdb_err(rc);
}

int cairn__index_build(MDB_txn *txn, cairn_store_t *s) {
  MDB_cursor *cur;
  MDB_val k, v;
  cairn_record_t r;
  ixkeys_t keys, none = {.n = 0};
  int rc = mdb_drop(txn, s->dbi[DB_INDEX], 0);
  if (rc != 0)
    return cairn__mdb_err(rc);
  if ((rc = mdb_cursor_open(txn, s->dbi[DB_RECORDS], &cur)) != 0)
    return cairn__mdb_err(rc);
  for (size_t i = 0; rc == 0 && i < NDEFS; i++) {
    if (i > 0 && strcmp(defs[i].type, defs[i - 1].type) == 0)
      continue; /* one pass per type */
    keybuf_t prefix;
    if (cairn__key_record(&prefix, defs[i].type, strlen(defs[i].type), "", 0) != 0)
      break;
    k = mval(prefix.b, prefix.len);
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
      if (k.mv_size < prefix.len || memcmp(k.mv_data, prefix.b, prefix.len) != 0)
        break;
      if ((rc = cairn__rec_view(&k, &v, &r)) != 0)
        break;
      view_keys(&r, &keys);
      /* the view points into the map: a put below may move its page, but the
       * keys are copies */
      if ((rc = cairn__index_update(txn, s, NULL, &none, &keys)) != 0)
        break;
    }
    rc = rc == MDB_NOTFOUND ? 0 : rc;
  }
  mdb_cursor_close(cur);
  return rc < 0 && rc > -100 ? rc : cairn__mdb_err(rc);
}

/* ---- walking an index ---- */

/* A key found by a walk: copied, for the fallback's sort. */
typedef struct found {
  keybuf_t *k;
  size_t n, cap;
} found_t;

static int found_add(found_t *f, const keybuf_t *k) {
  if (f->n == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 64;
    keybuf_t *nk = realloc(f->k, cap * sizeof *nk);
    if (nk == NULL)
      return CAIRN_ENOMEM;
    f->k = nk;
    f->cap = cap;
  }
  f->k[f->n++] = *k;
  return 0;
}

static int keybuf_cmp(const void *a, const void *b) {
  const keybuf_t *x = a, *y = b;
  return cmp_bytes(x->b, x->len, y->b, y->len);
}

/* The walk's bounds: rows from lo (included) up to hi (a prefix of the last
 * included rows). */
typedef struct range {
  const cairn_index_def_t *d;
  keybuf_t lo, hi;
} range_t;

static int in_range(const range_t *g, const uint8_t *k, size_t n) {
  size_t hl = g->hi.len;
  return cmp_bytes(k, n, g->lo.b, g->lo.len) >= 0 && memcmp(k, g->hi.b, n < hl ? n : hl) <= 0;
}

/* Bounds for lead and [from, to]: with no bound, every row of lead. */
static int range_make(range_t *g, cairn_index_t ix, const char *lead, const char *from,
                      const char *to) {
  const char *bound[2] = {from, to};
  keybuf_t *at[2] = {&g->lo, &g->hi};
  if ((g->d = cairn_index_def(ix)) == NULL || lead == NULL ||
      key_lead(&g->lo, ix, lead, strlen(lead)) != 0)
    return CAIRN_EINVAL;
  g->hi = g->lo;
  if (from == NULL && to == NULL) {
    g->hi.b[g->hi.len++] = 0xff; /* above every tag */
    return 0;
  }
  for (int i = 0; i < 2; i++) {
    size_t n = 0;
    at[i]->b[at[i]->len++] = 0x01;
    if (bound[i] != NULL &&
        (n = sortkey_text(g->d->second_kind, bound[i], strlen(bound[i]),
                          at[i]->b + at[i]->len)) == 0)
      return CAIRN_EINVAL;
    at[i]->len += n;
  }
  return 0;
}

/* The row's record (type \0 id after the sort key), when visible: cb with it. */
static int visit_row(MDB_txn *txn, cairn_store_t *s, const range_t *g, const uint8_t *k,
                     size_t n, cairn_record_cb cb, void *ud, int *stop) {
  size_t at = 2 + (size_t)k[1];
  MDB_val key, val;
  cairn_record_t r;
  int rc;
  if (at >= n)
    return CAIRN_ECORRUPT;
  at += 1 + (k[at] == 0x01 ? sortkey_len(g->d->second_kind) : 0);
  if (at >= n)
    return CAIRN_ECORRUPT;
  key = mval(k + at, n - at);
  if ((rc = mdb_get(txn, s->dbi[DB_RECORDS], &key, &val)) != 0)
    return rc == MDB_NOTFOUND ? CAIRN_ECORRUPT : cairn__mdb_err(rc);
  if ((rc = cairn__rec_view(&key, &val, &r)) != 0)
    return rc;
  if (!r.deleted && cb(&r, ud) != 0)
    *stop = 1;
  return 0;
}

/* Walk the rows in the index. */
static int walk_index(MDB_txn *txn, cairn_store_t *s, const range_t *g, cairn_record_cb cb,
                      void *ud) {
  MDB_cursor *cur;
  MDB_val k = mval(g->lo.b, g->lo.len), v;
  int rc = mdb_cursor_open(txn, s->dbi[DB_INDEX], &cur), stop = 0;
  if (rc != 0)
    return cairn__mdb_err(rc);
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && !stop;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (!in_range(g, k.mv_data, k.mv_size))
      break;
    if ((rc = visit_row(txn, s, g, k.mv_data, k.mv_size, cb, ud, &stop)) != 0)
      break;
  }
  mdb_cursor_close(cur);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : rc < 0 && rc > -100 ? rc : cairn__mdb_err(rc);
}

/* Without the index (an old store opened read-only): the rows the index would
 * hold, computed from the type's records, kept when in range, sorted. */
static int walk_records(MDB_txn *txn, cairn_store_t *s, const range_t *g, cairn_record_cb cb,
                        void *ud) {
  MDB_cursor *cur;
  keybuf_t prefix;
  found_t f = {NULL, 0, 0};
  ixkeys_t keys;
  MDB_val k, v;
  cairn_record_t r;
  int rc = cairn__key_record(&prefix, g->d->type, strlen(g->d->type), "", 0), stop = 0;
  if (rc != 0 || (rc = cairn__mdb_err(mdb_cursor_open(txn, s->dbi[DB_RECORDS], &cur))) != 0)
    return rc;
  k = mval(prefix.b, prefix.len);
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size < prefix.len || memcmp(k.mv_data, prefix.b, prefix.len) != 0 ||
        (rc = cairn__rec_view(&k, &v, &r)) != 0)
      break;
    view_keys(&r, &keys);
    for (size_t i = 0; rc == 0 && i < keys.n; i++)
      if (in_range(g, keys.k[i].b, keys.k[i].len))
        rc = found_add(&f, &keys.k[i]);
    if (rc != 0)
      break;
  }
  mdb_cursor_close(cur);
  rc = rc == 0 || rc == MDB_NOTFOUND ? 0 : rc < 0 && rc > -100 ? rc : cairn__mdb_err(rc);
  if (rc == 0 && f.n > 0)
    cairn_sort(f.k, f.n, sizeof *f.k, keybuf_cmp);
  for (size_t i = 0; rc == 0 && !stop && i < f.n; i++)
    rc = visit_row(txn, s, g, f.k[i].b, f.k[i].len, cb, ud, &stop);
  free(f.k);
  return rc;
}

int cairn_index_walk(cairn_store_t *s, cairn_index_t ix, const char *lead, const char *from,
                     const char *to, cairn_record_cb cb, void *ud) {
  range_t g;
  MDB_txn *txn;
  int rc = range_make(&g, ix, lead, from, to);
  if (rc != 0)
    return rc;
  if ((rc = cairn__txn_begin(s, MDB_RDONLY, &txn)) != 0)
    return rc;
  rc = s->has_index_db ? walk_index(txn, s, &g, cb, ud) : walk_records(txn, s, &g, cb, ud);
  mdb_txn_abort(txn);
  return rc;
}
