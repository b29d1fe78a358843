/*
 * record.c — the encoding of materialized records (docs/storage.md, `records`):
 *
 *   [deleted(bool), del_hlc(uint), del_author(bin32),
 *    {field: [value, hlc(uint), author(bin32)], ...}    fields sorted by name
 *    (, [dels, seen, dseen, puts, legacy, top_put])]    once it had a del
 *
 * Each field holds its winning head (nil: an unset field, which readers skip);
 * the other heads of a conflicted field live in `conflicts`. The header holds
 * whether the record is deleted and the stamp of the greatest del merged into it
 * (zero: it never had one, and merge decides nothing about deletion). A record
 * that has had a del also keeps its deletion state (rec_sum_t): dels as
 * [hlc, author, legacy(bool)], the sets as [[hlc, author], ...], the two stamps
 * as [hlc, author].
 */
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "store_internal.h"

void cairn__rec_free(rec_t *r) {
  free(r->f);
  free(r->buf);
  free(r->sum.dels);
  free(r->sum.seen.v);
  free(r->sum.dseen.v);
  free(r->sum.puts.v);
  memset(r, 0, sizeof *r);
}

static int field_cmp(const char *a, size_t alen, const char *b, size_t blen) {
  int c = memcmp(a, b, alen < blen ? alen : blen);
  if (c != 0)
    return c;
  return alen < blen ? -1 : alen > blen;
}

/* Read one stored field: name -> [value, hlc, author]. */
static int read_field(cairn_mpr_t *r, rec_field_t *f) {
  uint32_t n;
  const uint8_t *start, *author;
  if (cairn_mpr_str(r, &f->name, &f->name_len) != 0 || cairn_mpr_array(r, &n) != 0 ||
      n != 3)
    return CAIRN_ECORRUPT;
  start = r->p;
  if (cairn_mpr_skip(r, CAIRN_VALUE_DEPTH_MAX + 1) != 0)
    return CAIRN_ECORRUPT;
  f->value = start;
  f->value_len = (size_t)(r->p - start);
  if (cairn_mpr_uint(r, &f->stamp.hlc) != 0 ||
      cairn_mpr_bin_exact(r, &author, CAIRN_KEY_BYTES) != 0)
    return CAIRN_ECORRUPT;
  memcpy(f->stamp.author, author, CAIRN_KEY_BYTES);
  return 0;
}

/* Header of a stored record: whether it is deleted, its greatest del, the field
 * count, and whether its deletion state follows the fields. */
static int read_head(cairn_mpr_t *r, int *deleted, cairn_stamp_t *del, uint32_t *nfields,
                     bool *has_sum) {
  uint32_t n;
  const uint8_t *author;
  if (cairn_mpr_array(r, &n) != 0 || (n != 4 && n != 5) || cairn_mpr_bool(r, deleted) != 0 ||
      cairn_mpr_uint(r, &del->hlc) != 0 ||
      cairn_mpr_bin_exact(r, &author, CAIRN_KEY_BYTES) != 0 || cairn_mpr_map(r, nfields) != 0)
    return CAIRN_ECORRUPT;
  memcpy(del->author, author, CAIRN_KEY_BYTES);
  *has_sum = n == 5;
  return 0;
}

/* [hlc, author] */
static int read_stamp(cairn_mpr_t *r, cairn_stamp_t *st) {
  uint32_t n;
  const uint8_t *author;
  if (cairn_mpr_array(r, &n) != 0 || n != 2 || cairn_mpr_uint(r, &st->hlc) != 0 ||
      cairn_mpr_bin_exact(r, &author, CAIRN_KEY_BYTES) != 0)
    return CAIRN_ECORRUPT;
  memcpy(st->author, author, CAIRN_KEY_BYTES);
  return 0;
}

int cairn__grow(void **p, size_t *cap, size_t n, size_t size) {
  size_t c = *cap ? *cap : 4;
  if (n <= *cap)
    return 0;
  while (c < n)
    c *= 2;
  void *np = realloc(*p, c * size);
  if (np == NULL)
    return CAIRN_ENOMEM;
  *p = np;
  *cap = c;
  return 0;
}

static int read_set(cairn_mpr_t *r, stamp_set_t *ss) {
  uint32_t n;
  int rc;
  if (cairn_mpr_array(r, &n) != 0)
    return CAIRN_ECORRUPT;
  if ((rc = cairn__grow((void **)&ss->v, &ss->cap, n, sizeof *ss->v)) != 0)
    return rc;
  for (ss->n = 0; ss->n < n; ss->n++)
    if ((rc = read_stamp(r, &ss->v[ss->n])) != 0)
      return rc;
  return 0;
}

/* The deletion state that follows the fields (has_sum). */
static int read_sum(cairn_mpr_t *r, rec_sum_t *m) {
  uint32_t n, k;
  int legacy, rc;
  if (cairn_mpr_array(r, &n) != 0 || n != 6 || cairn_mpr_array(r, &k) != 0)
    return CAIRN_ECORRUPT;
  if ((rc = cairn__grow((void **)&m->dels, &m->capdels, k, sizeof *m->dels)) != 0)
    return rc;
  for (m->ndels = 0; m->ndels < k; m->ndels++) {
    rec_del_t *d = &m->dels[m->ndels];
    const uint8_t *author;
    if (cairn_mpr_array(r, &n) != 0 || n != 3 || cairn_mpr_uint(r, &d->st.hlc) != 0 ||
        cairn_mpr_bin_exact(r, &author, CAIRN_KEY_BYTES) != 0 || cairn_mpr_bool(r, &legacy))
      return CAIRN_ECORRUPT;
    memcpy(d->st.author, author, CAIRN_KEY_BYTES);
    d->legacy = legacy != 0;
  }
  if ((rc = read_set(r, &m->seen)) != 0 || (rc = read_set(r, &m->dseen)) != 0 ||
      (rc = read_set(r, &m->puts)) != 0 || (rc = read_stamp(r, &m->legacy)) != 0 ||
      (rc = read_stamp(r, &m->top_put)) != 0)
    return rc;
  m->on = true;
  return 0;
}

static int rec_grow(rec_t *r) {
  if (r->n < r->cap)
    return 0;
  size_t cap = r->cap ? r->cap * 2 : 8;
  rec_field_t *f = realloc(r->f, cap * sizeof *f);
  if (f == NULL)
    return CAIRN_ENOMEM;
  r->f = f;
  r->cap = cap;
  return 0;
}

int cairn__rec_load(MDB_txn *txn, cairn_store_t *s, wtxn_t *w, const keybuf_t *k, rec_t *r) {
  MDB_val key = mval(k->b, k->len), val;
  cairn_mpr_t rd;
  uint32_t n;
  int deleted, rc;
  bool has_sum;
  r->exists = r->deleted = false;
  memset(&r->del, 0, sizeof r->del);
  r->n = 0;
  r->sum.on = false;
  r->sum.ndels = r->sum.seen.n = r->sum.dseen.n = r->sum.puts.n = 0;
  memset(&r->sum.legacy, 0, sizeof r->sum.legacy);
  memset(&r->sum.top_put, 0, sizeof r->sum.top_put);
  rc = w != NULL ? cairn__wtxn_get(w, DB_RECORDS, &key, &val)
                 : mdb_get(txn, s->dbi[DB_RECORDS], &key, &val);
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return cairn__mdb_err(rc);
  /* copy: later writes in this transaction may move the page under us */
  if (r->buf_cap < val.mv_size) {
    size_t cap = r->buf_cap ? r->buf_cap : 256;
    while (cap < val.mv_size)
      cap *= 2;
    uint8_t *b = realloc(r->buf, cap);
    if (b == NULL)
      return CAIRN_ENOMEM;
    r->buf = b;
    r->buf_cap = cap;
  }
  memcpy(r->buf, val.mv_data, val.mv_size);
  cairn_mpr_init(&rd, r->buf, val.mv_size);
  if ((rc = read_head(&rd, &deleted, &r->del, &n, &has_sum)) != 0)
    return rc;
  r->exists = true;
  r->deleted = deleted != 0;
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    if ((rc = rec_grow(r)) == 0 && (rc = read_field(&rd, &r->f[r->n])) == 0)
      r->n++;
  }
  if (rc == 0 && has_sum)
    rc = read_sum(&rd, &r->sum);
  if (rc != 0) {
    r->exists = r->sum.on = false;
    r->n = 0;
  }
  return rc;
}

rec_field_t *cairn__rec_find(rec_t *r, const char *name, size_t len) {
  for (size_t i = 0; i < r->n; i++)
    if (field_cmp(r->f[i].name, r->f[i].name_len, name, len) == 0)
      return &r->f[i];
  return NULL;
}

/* Insert or replace, keeping fields sorted by name. */
int cairn__rec_set(rec_t *r, const rec_field_t *f) {
  size_t i = 0;
  rec_field_t *old = cairn__rec_find(r, f->name, f->name_len);
  if (old != NULL) {
    *old = *f;
    return 0;
  }
  if (rec_grow(r) != 0)
    return CAIRN_ENOMEM;
  while (i < r->n && field_cmp(r->f[i].name, r->f[i].name_len, f->name, f->name_len) < 0)
    i++;
  memmove(&r->f[i + 1], &r->f[i], (r->n - i) * sizeof *f);
  r->f[i] = *f;
  r->n++;
  return 0;
}

void cairn__rec_remove(rec_t *r, rec_field_t *f) {
  size_t i = (size_t)(f - r->f);
  memmove(&r->f[i], &r->f[i + 1], (r->n - i - 1) * sizeof *f);
  r->n--;
}

/* The encoders below write what msgpack-c's packers write (the smallest form of
 * each integer and header), so stored records keep the same bytes. */
static uint8_t *enc_uint(uint8_t *p, uint64_t v) {
  if (v < 128) {
    *p++ = (uint8_t)v;
  } else if (v < 256) {
    *p++ = 0xcc;
    *p++ = (uint8_t)v;
  } else if (v < 65536) {
    *p++ = 0xcd;
    *p++ = (uint8_t)(v >> 8);
    *p++ = (uint8_t)v;
  } else if (v <= UINT32_MAX) {
    *p++ = 0xce;
    for (int i = 3; i >= 0; i--)
      *p++ = (uint8_t)(v >> (8 * i));
  } else {
    *p++ = 0xcf;
    cairn_put_be64(p, v);
    p += 8;
  }
  return p;
}

static uint8_t *enc_len(uint8_t *p, size_t n, uint8_t fix, size_t fix_max, uint8_t b8,
                        uint8_t b16, uint8_t b32) {
  if (n <= fix_max) {
    *p++ = (uint8_t)(fix | n);
  } else if (b8 != 0 && n < 256) {
    *p++ = b8;
    *p++ = (uint8_t)n;
  } else if (n < 65536) {
    *p++ = b16;
    *p++ = (uint8_t)(n >> 8);
    *p++ = (uint8_t)n;
  } else {
    *p++ = b32;
    for (int i = 3; i >= 0; i--)
      *p++ = (uint8_t)(n >> (8 * i));
  }
  return p;
}

/* bin 8 of an author key */
static uint8_t *enc_key(uint8_t *p, const uint8_t *key) {
  *p++ = 0xc4;
  *p++ = CAIRN_KEY_BYTES;
  memcpy(p, key, CAIRN_KEY_BYTES);
  return p + CAIRN_KEY_BYTES;
}

/* [hlc, author] */
static uint8_t *enc_stamp(uint8_t *p, const cairn_stamp_t *st) {
  *p++ = 0x92;
  p = enc_uint(p, st->hlc);
  return enc_key(p, st->author);
}

static uint8_t *enc_set(uint8_t *p, const stamp_set_t *ss) {
  p = enc_len(p, ss->n, 0x90, 15, 0, 0xdc, 0xdd);
  for (size_t i = 0; i < ss->n; i++)
    p = enc_stamp(p, &ss->v[i]);
  return p;
}

/* The deletion state: [dels, seen, dseen, puts, legacy, top_put]. */
static uint8_t *enc_sum(uint8_t *p, const rec_sum_t *m) {
  *p++ = 0x96;
  p = enc_len(p, m->ndels, 0x90, 15, 0, 0xdc, 0xdd);
  for (size_t i = 0; i < m->ndels; i++) {
    *p++ = 0x93;
    p = enc_uint(p, m->dels[i].st.hlc);
    p = enc_key(p, m->dels[i].st.author);
    *p++ = m->dels[i].legacy ? 0xc3 : 0xc2;
  }
  p = enc_set(p, &m->seen);
  p = enc_set(p, &m->dseen);
  p = enc_set(p, &m->puts);
  p = enc_stamp(p, &m->legacy);
  return enc_stamp(p, &m->top_put);
}

/* Encode r into b (replacing its contents). */
int cairn__rec_encode(const rec_t *r, bbuf_t *b) {
  /* header: array, bool, uint, bin 32, map; per field: str, array, value, uint, bin 32 */
  const size_t stamp = 1 + 9 + 2 + CAIRN_KEY_BYTES;
  size_t max = 1 + 1 + 9 + 2 + CAIRN_KEY_BYTES + 5;
  for (size_t i = 0; i < r->n; i++)
    max += 5 + r->f[i].name_len + 1 + r->f[i].value_len + 9 + 2 + CAIRN_KEY_BYTES;
  if (r->sum.on)
    max += 1 + 4 * 5 + r->sum.ndels * (stamp + 1) +
           (r->sum.seen.n + r->sum.dseen.n + r->sum.puts.n + 2) * stamp;
  b->len = 0;
  if (cairn__bbuf_reserve(b, max) != 0)
    return CAIRN_ENOMEM;
  uint8_t *p = b->p;
  *p++ = r->sum.on ? 0x95 : 0x94;
  *p++ = r->deleted ? 0xc3 : 0xc2;
  p = enc_uint(p, r->del.hlc);
  p = enc_key(p, r->del.author);
  p = enc_len(p, r->n, 0x80, 15, 0, 0xde, 0xdf);
  for (size_t i = 0; i < r->n; i++) {
    const rec_field_t *f = &r->f[i];
    p = enc_len(p, f->name_len, 0xa0, 31, 0xd9, 0xda, 0xdb);
    memcpy(p, f->name, f->name_len);
    p += f->name_len;
    *p++ = 0x93;
    memcpy(p, f->value, f->value_len);
    p += f->value_len;
    p = enc_uint(p, f->stamp.hlc);
    p = enc_key(p, f->stamp.author);
  }
  if (r->sum.on)
    p = enc_sum(p, &r->sum);
  b->len = (size_t)(p - b->p);
  return 0;
}

int cairn__rec_save(MDB_txn *txn, cairn_store_t *s, wtxn_t *w, const keybuf_t *k,
                    const rec_t *r) {
  bbuf_t own = {NULL, 0, 0}, *b = w != NULL ? &w->enc : &own;
  int rc = cairn__rec_encode(r, b);
  if (rc == 0) {
    MDB_val key = mval(k->b, k->len), val = mval(b->p, b->len);
    rc = cairn__mdb_err(w != NULL ? cairn__wtxn_put(w, DB_RECORDS, &key, &val, 0)
                                  : mdb_put(txn, s->dbi[DB_RECORDS], &key, &val, 0));
  }
  free(own.p);
  return rc;
}

int cairn__rec_view(const MDB_val *key, const MDB_val *val, cairn_record_t *out) {
  const char *k = key->mv_data;
  const char *nul = memchr(k, 0, key->mv_size);
  cairn_mpr_t rd;
  cairn_stamp_t del;
  uint32_t n;
  int deleted;
  bool has_sum;
  if (nul == NULL)
    return CAIRN_ECORRUPT;
  out->type = k;
  out->type_len = (size_t)(nul - k);
  out->id = nul + 1;
  out->id_len = key->mv_size - out->type_len - 1;
  cairn_mpr_init(&rd, val->mv_data, val->mv_size);
  if (read_head(&rd, &deleted, &del, &n, &has_sum) != 0)
    return CAIRN_ECORRUPT;
  out->deleted = deleted;
  /* the deletion state, after the fields, is left to the iterator's count */
  /* the fields map header was consumed: step back to keep it for the iterator */
  out->fields_len = cairn_mpr_left(&rd);
  out->fields = rd.p;
  out->nfields_ = n;
  return 0;
}

void cairn_record_iter_init(const cairn_record_t *r, cairn_record_iter_t *it) {
  it->p = r->fields;
  it->end = r->fields + r->fields_len;
  it->left = r->nfields_;
}

bool cairn__value_nil(const uint8_t *value, size_t len) {
  return len == 1 && value[0] == 0xc0;
}

/* The next field, nil values included. */
static int field_next_any(cairn_record_iter_t *it, cairn_record_field_t *f) {
  cairn_mpr_t rd;
  rec_field_t rf;
  if (it->left == 0)
    return 0;
  cairn_mpr_init(&rd, it->p, (size_t)(it->end - it->p));
  if (read_field(&rd, &rf) != 0)
    return 0;
  f->name = rf.name;
  f->name_len = rf.name_len;
  f->value = rf.value;
  f->value_len = rf.value_len;
  f->stamp = rf.stamp;
  it->p = rd.p;
  it->left--;
  return 1;
}

/* An unset field (nil) is absent wherever people look. */
int cairn_record_field_next(cairn_record_iter_t *it, cairn_record_field_t *f) {
  int more;
  while ((more = field_next_any(it, f)) != 0 && cairn__value_nil(f->value, f->value_len))
    ;
  return more;
}

int cairn__record_field_any(const cairn_record_t *r, const char *name, size_t len,
                            cairn_record_field_t *f) {
  cairn_record_iter_t it;
  cairn_record_iter_init(r, &it);
  while (field_next_any(&it, f))
    if (f->name_len == len && memcmp(f->name, name, len) == 0)
      return 1;
  return 0;
}

int cairn_record_field(const cairn_record_t *r, const char *name, cairn_record_field_t *f) {
  return cairn__record_field_any(r, name, strlen(name), f) &&
         !cairn__value_nil(f->value, f->value_len);
}
