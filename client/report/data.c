/*
 * data.c — the records reports read, copied out of the store once, as of a
 * time (report.h, "Data"; docs/design.md, "Reports").
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpread.h"
#include "report_internal.h"

struct cairn_report_data {
  cairn_store_t *s;
  cairn_schema_t *schema;
  uint64_t as_of_ms;
  char date[11];
  char *title;
  cairn_report_set_t **sets;
  size_t nsets;
  char **texts; /* strings handed out by cairn_report_text */
  size_t ntexts, texts_cap;
  const char *last_type; /* a set's type string, and its schema type: */
  const cairn_schema_type_t *last_schema; /* records of one set come in runs */
};

/* ---- loading ---- */

/* The copies of a set's records live in blocks of ARENA_BLOCK bytes (a record
 * larger than that in a block of its own): one allocation for hundreds of
 * records, all freed with the set. */
#define ARENA_BLOCK ((size_t)256 << 10)

static void set_free(cairn_report_set_t *set) {
  if (set == NULL)
    return;
  cairn__arena_free(set->arena_);
  free(set->v);
  free(set->type);
  free(set);
}

/* A field of the record being loaded, decoded before the record is copied:
 * where its name and text will be (offsets into the record's fields and into
 * the texts gathered). */
typedef struct gathered {
  cairn_report_field_t f; /* name and text NULL until copied */
  size_t name_at, text_at;
  int has_text;
} gathered_t;

/* What loading a set keeps from record to record: what the record being
 * loaded decoded, and the bytes of its texts. */
typedef struct load {
  cairn_report_set_t *set;
  size_t cap;
  gathered_t *fv;
  size_t fv_cap;
  char *text; /* its strings, each NUL-terminated */
  size_t text_len, text_cap;
  int rc;
} load_t;

static int is_nil(const cairn_record_field_t *f) {
  return f->value_len == 1 && f->value[0] == 0xc0;
}

/* A number value as a double: 1 when it is one. */
static int mp_number(const uint8_t *mp, size_t len, double *out) {
  cairn_mpr_t m;
  int64_t i;
  uint64_t u;
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_int(&m, &i) == 0)
    return *out = (double)i, 1;
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_uint(&m, &u) == 0)
    return *out = (double)u, 1;
  cairn_mpr_init(&m, mp, len);
  return cairn_mpr_float(&m, out) == 0 && isfinite(*out);
}

int cairn__report_grow(void **v, size_t *cap, size_t need, size_t size) {
  if (need <= *cap)
    return 0;
  size_t nc = *cap ? *cap : 16;
  while (nc < need)
    nc *= 2;
  void *nv = realloc(*v, nc * size);
  if (nv == NULL)
    return CAIRN_ENOMEM;
  *v = nv;
  *cap = nc;
  return 0;
}

/* One field into the index being gathered: its name (an offset into the
 * record's fields), its string (an offset into l->text) or its number. */
static int gather_field(load_t *l, const cairn_record_t *r, const cairn_record_field_t *f,
                        size_t n) {
  gathered_t *y;
  cairn_mpr_t m;
  const char *s;
  uint32_t len;
  if (cairn__report_grow((void **)&l->fv, &l->fv_cap, n + 1, sizeof *l->fv) != 0)
    return CAIRN_ENOMEM;
  y = &l->fv[n];
  memset(y, 0, sizeof *y);
  y->name_at = (size_t)((const uint8_t *)f->name - r->fields);
  y->f.name_len = f->name_len;
  y->f.hlc = f->stamp.hlc;
  cairn_mpr_init(&m, f->value, f->value_len);
  if (cairn_mpr_str(&m, &s, &len) != 0) {
    y->f.is_number = (uint32_t)mp_number(f->value, f->value_len, &y->f.v.num);
    if (!y->f.is_number)
      y->f.v.text = NULL; /* another kind: read from the record */
    return 0;
  }
  if (cairn__report_grow((void **)&l->text, &l->text_cap, l->text_len + len + 1, 1) != 0)
    return CAIRN_ENOMEM;
  memcpy(l->text + l->text_len, s, len);
  l->text[l->text_len + len] = 0;
  y->has_text = 1;
  y->text_at = l->text_len;
  l->text_len += len + 1;
  return 0;
}

/*
 * Copy r into x, reading its fields once: each non-nil field's name (a view
 * into the copy), its string as NUL-terminated text or its number, and
 * updated_ms. One piece of the arena a record: its index, its texts, its id,
 * its fields.
 */
static int copy_record(load_t *l, const cairn_record_t *r, cairn_report_rec_t *x) {
  cairn_record_iter_t it;
  cairn_record_field_t f;
  uint64_t best = 0;
  size_t n = 0;
  int rc;
  l->text_len = 0;
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f)) {
    best = f.stamp.hlc > best ? f.stamp.hlc : best;
    if (!is_nil(&f) && (rc = gather_field(l, r, &f, n++)) != 0)
      return rc;
  }
  size_t at_text = n * sizeof(cairn_report_field_t), at_id = at_text + l->text_len;
  uint8_t *mem = cairn__arena_alloc(&l->set->arena_, at_id + r->id_len + 1 + r->fields_len,
                                    sizeof(max_align_t), ARENA_BLOCK);
  if (mem == NULL)
    return CAIRN_ENOMEM;
  cairn_report_field_t *v = (cairn_report_field_t *)mem;
  char *text = (char *)mem + at_text, *id = (char *)mem + at_id;
  uint8_t *fields = (uint8_t *)id + r->id_len + 1;
  memcpy(fields, r->fields, r->fields_len);
  memcpy(id, r->id, r->id_len);
  id[r->id_len] = 0;
  if (l->text_len > 0)
    memcpy(text, l->text, l->text_len);
  for (size_t i = 0; i < n; i++) {
    v[i] = l->fv[i].f;
    v[i].name = (const char *)fields + l->fv[i].name_at;
    if (l->fv[i].has_text)
      v[i].v.text = text + l->fv[i].text_at;
  }
  x->id = id;
  x->rec = *r;
  x->rec.type = l->set->type;
  x->rec.id = id;
  x->rec.fields = fields;
  x->fields_ = v;
  x->nfields_ = (uint32_t)n;
  x->updated_ms = best >> 16;
  return 0;
}

static int load_one(const cairn_record_t *r, void *ud) {
  load_t *l = ud;
  cairn_report_set_t *set = l->set;
  if (cairn__report_grow((void **)&set->v, &l->cap, set->n + 1, sizeof *set->v) != 0)
    return l->rc = CAIRN_ENOMEM, 1;
  if ((l->rc = copy_record(l, r, &set->v[set->n])) != 0)
    return 1;
  set->n++;
  return 0;
}

static int load_set(cairn_report_data_t *d, const char *type, cairn_report_set_t **out) {
  load_t l = {calloc(1, sizeof *l.set), 0, NULL, 0, NULL, 0, 0, 0};
  int rc;
  *out = NULL;
  if (l.set == NULL || (l.set->type = strdup(type)) == NULL) {
    free(l.set);
    return CAIRN_ENOMEM;
  }
  if (d->as_of_ms == 0)
    rc = cairn_records_walk(d->s, type, 0, load_one, &l);
  else
    rc = cairn_records_as_of(d->s, type, (d->as_of_ms << 16) | 0xffff, 0, load_one, &l);
  if (rc == 0)
    rc = l.rc;
  free(l.fv);
  free(l.text);
  if (rc != 0) {
    set_free(l.set);
    return rc;
  }
  *out = l.set;
  return 0;
}

int cairn_report_set(cairn_report_data_t *d, const char *type, const cairn_report_set_t **out) {
  cairn_report_set_t *set, **v;
  int rc;
  for (size_t i = 0; i < d->nsets; i++)
    if (strcmp(d->sets[i]->type, type) == 0) {
      *out = d->sets[i];
      return 0;
    }
  if ((rc = load_set(d, type, &set)) != 0)
    return rc;
  if ((v = realloc(d->sets, (d->nsets + 1) * sizeof *v)) == NULL) {
    set_free(set);
    return CAIRN_ENOMEM;
  }
  d->sets = v;
  d->sets[d->nsets++] = set;
  *out = set;
  return 0;
}

const cairn_report_rec_t *cairn_report_find(const cairn_report_set_t *set, const char *id) {
  size_t lo = 0, hi = set->n;
  size_t n = strlen(id);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const cairn_report_rec_t *r = &set->v[mid];
    /* ids are in bytewise order, as the store keeps them */
    size_t m = r->rec.id_len < n ? r->rec.id_len : n;
    int c = memcmp(r->id, id, m);
    if (c == 0)
      c = r->rec.id_len < n ? -1 : r->rec.id_len > n;
    if (c == 0)
      return r;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/* ---- the data ---- */

static void date_of(uint64_t ms, char out[11]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

static int network_title(cairn_report_data_t *d) {
  const cairn_report_set_t *net;
  int rc = cairn_report_set(d, "_network", &net);
  const char *t = rc == 0 && net->n > 0 ? cairn_report_text(d, &net->v[0], "title") : NULL;
  if (rc != 0)
    return rc;
  d->title = strdup(t != NULL ? t : "");
  return d->title != NULL ? 0 : CAIRN_ENOMEM;
}

int cairn_report_data_open(cairn_store_t *s, uint64_t as_of_ms, cairn_report_data_t **out) {
  cairn_report_data_t *d = calloc(1, sizeof *d);
  int rc;
  *out = NULL;
  if (d == NULL)
    return CAIRN_ENOMEM;
  d->s = s;
  d->as_of_ms = as_of_ms;
  date_of(as_of_ms ? as_of_ms : cairn_now_ms(), d->date);
  if ((rc = cairn_schema_load(s, &d->schema)) != 0 || (rc = network_title(d)) != 0) {
    cairn_report_data_free(d);
    return rc;
  }
  *out = d;
  return 0;
}

void cairn_report_data_free(cairn_report_data_t *d) {
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->nsets; i++)
    set_free(d->sets[i]);
  free(d->sets);
  for (size_t i = 0; i < d->ntexts; i++)
    free(d->texts[i]);
  free(d->texts);
  free(d->title);
  cairn_schema_free(d->schema);
  free(d);
}

uint64_t cairn_report_data_time(const cairn_report_data_t *d) {
  return d->as_of_ms ? d->as_of_ms : cairn_now_ms();
}

const char *cairn_report_data_date(const cairn_report_data_t *d) {
  return d->date;
}

cairn_store_t *cairn_report_data_store(const cairn_report_data_t *d) {
  return d->s;
}

const cairn_schema_t *cairn_report_data_schema(const cairn_report_data_t *d) {
  return d->schema;
}

const char *cairn_report_data_title(const cairn_report_data_t *d) {
  return d->title;
}

/* ---- fields ---- */

/* The decoded field of r named name (n bytes), or NULL. */
static const cairn_report_field_t *indexed(const cairn_report_rec_t *r, const char *name,
                                           size_t n) {
  for (uint32_t i = 0; i < r->nfields_; i++)
    if (r->fields_[i].name_len == n && memcmp(r->fields_[i].name, name, n) == 0)
      return &r->fields_[i];
  return NULL;
}

/* The schema's field of r's type named field, or NULL (cached per run of one
 * set's records, which share their type string). */
static const cairn_schema_field_t *schema_field(cairn_report_data_t *d,
                                                const cairn_report_rec_t *r, const char *field) {
  if (d == NULL)
    return NULL;
  if (d->last_type != r->rec.type) {
    d->last_type = r->rec.type;
    d->last_schema = cairn_schema_type(d->schema, r->rec.type);
  }
  return cairn_schema_field(d->last_schema, field);
}

/* The decoded value of field in r: the field itself, else (a renamed field) its
 * newest former name's. */
static const cairn_report_field_t *field_of(cairn_report_data_t *d, const cairn_report_rec_t *r,
                                            const char *field) {
  const cairn_report_field_t *f = indexed(r, field, strlen(field)), *g;
  const cairn_schema_field_t *sf;
  if (f != NULL || (sf = schema_field(d, r, field)) == NULL)
    return f;
  for (size_t i = 0; i < sf->naliases; i++)
    if ((g = indexed(r, sf->aliases[i], strlen(sf->aliases[i]))) != NULL &&
        (f == NULL || g->hlc > f->hlc))
      f = g;
  return f;
}

/* The raw value of field in r, through the schema, for kinds the index does
 * not hold (lists, maps). */
static int field_value(cairn_report_data_t *d, const cairn_report_rec_t *r, const char *field,
                       cairn_record_field_t *f) {
  const cairn_schema_field_t *sf = schema_field(d, r, field);
  if (sf != NULL)
    return cairn_schema_value(&r->rec, sf, f);
  return cairn_record_field(&r->rec, field, f) && !(f->value_len == 1 && f->value[0] == 0xc0);
}

/* ---- several fields of many records ---- */

void cairn__fields_init(cairn_report_data_t *d, const char *type, const char *const *names,
                        size_t n, cairn__fields_t *out) {
  const cairn_schema_type_t *t = cairn_schema_type(d->schema, type);
  memset(out, 0, sizeof *out);
  out->n = n < CAIRN__FIELDS_MAX ? n : CAIRN__FIELDS_MAX;
  for (size_t k = 0; k < out->n; k++) {
    out->names[k] = names[k];
    out->lens[k] = strlen(names[k]);
    out->sf[k] = cairn_schema_field(t, names[k]);
    size_t b = out->lens[k] < CAIRN__FIELDS_LENS ? out->lens[k] : CAIRN__FIELDS_LENS;
    out->by_len[b][out->nby_len[b]++] = (unsigned char)k;
  }
}

/* Whether the n bytes at a and b are the same (names of a few bytes: a loop,
 * not a call). */
static int same_bytes(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (a[i] != b[i])
      return 0;
  return 1;
}

void cairn__fields_find(const cairn__fields_t *fs, const cairn_report_rec_t *r,
                        const cairn_report_field_t **out) {
  for (size_t k = 0; k < fs->n; k++)
    out[k] = NULL;
  for (uint32_t i = 0; i < r->nfields_; i++) {
    const cairn_report_field_t *f = &r->fields_[i];
    size_t b = f->name_len < CAIRN__FIELDS_LENS ? f->name_len : CAIRN__FIELDS_LENS;
    for (size_t j = 0; j < fs->nby_len[b]; j++) {
      size_t k = fs->by_len[b][j];
      if (f->name_len == fs->lens[k] && out[k] == NULL &&
          same_bytes(f->name, fs->names[k], f->name_len)) {
        out[k] = f;
        break;
      }
    }
  }
}

const cairn_report_field_t *cairn__fields_renamed(const cairn__fields_t *fs, size_t k,
                                                  const cairn_report_rec_t *r) {
  const cairn_schema_field_t *sf = fs->sf[k];
  const cairn_report_field_t *f = NULL, *g;
  for (size_t i = 0; sf != NULL && i < sf->naliases; i++)
    if ((g = indexed(r, sf->aliases[i], strlen(sf->aliases[i]))) != NULL &&
        (f == NULL || g->hlc > f->hlc))
      f = g;
  return f;
}

const char *cairn__fields_text(cairn_report_data_t *d, const cairn__fields_t *fs, size_t k,
                               const cairn_report_rec_t *r, const cairn_report_field_t *f) {
  if (f == NULL)
    f = cairn__fields_renamed(fs, k, r);
  if (f == NULL)
    return NULL;
  return !f->is_number && f->v.text != NULL ? f->v.text : cairn_report_text(d, r, fs->names[k]);
}

static char *keep(cairn_report_data_t *d, char *s) {
  if (s == NULL)
    return NULL;
  if (d->ntexts == d->texts_cap) {
    size_t cap = d->texts_cap ? 2 * d->texts_cap : 256;
    char **v = realloc(d->texts, cap * sizeof *v);
    if (v == NULL) {
      free(s);
      return NULL;
    }
    d->texts = v;
    d->texts_cap = cap;
  }
  d->texts[d->ntexts++] = s;
  return s;
}

/* A list of strings joined by ", ", or NULL when it is not one. */
static char *joined(const uint8_t *mp, size_t len) {
  cairn_mpr_t m;
  uint32_t count, n;
  const char *s;
  size_t total = 1;
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_array(&m, &count) != 0)
    return NULL;
  for (uint32_t i = 0; i < count; i++) {
    if (cairn_mpr_str(&m, &s, &n) != 0)
      return NULL;
    total += n + 2;
  }
  char *out = malloc(total), *p = out;
  if (out == NULL)
    return NULL;
  cairn_mpr_init(&m, mp, len);
  (void)cairn_mpr_array(&m, &count);
  for (uint32_t i = 0; i < count; i++) {
    (void)cairn_mpr_str(&m, &s, &n);
    if (i > 0)
      *p++ = ',', *p++ = ' ';
    memcpy(p, s, n);
    p += n;
  }
  *p = 0;
  return out;
}

const char *cairn_report_text(cairn_report_data_t *d, const cairn_report_rec_t *r,
                              const char *field) {
  const cairn_report_field_t *x = field_of(d, r, field);
  cairn_record_field_t f;
  char num[64], *out;
  if (x == NULL)
    return NULL;
  if (!x->is_number && x->v.text != NULL)
    return x->v.text; /* decoded when the record was loaded */
  if (x->is_number) {
    snprintf(num, sizeof num, "%.15g", x->v.num);
    return keep(d, strdup(num));
  }
  if (!field_value(d, r, field, &f))
    return NULL;
  if ((out = joined(f.value, f.value_len)) != NULL)
    return keep(d, out);
  if (cairn_value_json(f.value, f.value_len, &out) != 0)
    return NULL;
  char *copy = strdup(out);
  cairn_free(out);
  return keep(d, copy);
}

int cairn_report_number(const cairn_report_rec_t *r, const char *field, double *out) {
  const cairn_report_field_t *x = indexed(r, field, strlen(field));
  if (x == NULL || !x->is_number)
    return 0;
  *out = x->v.num;
  return 1;
}

const char *cairn_report_label(cairn_report_data_t *d, const cairn_report_rec_t *r) {
  const char *s = cairn_report_text(d, r, "name");
  if (s == NULL || s[0] == 0)
    s = cairn_report_text(d, r, "title");
  return s != NULL && s[0] != 0 ? s : r->id;
}

int cairn_report_refs_hold(const cairn_report_rec_t *r, const char *field, const char *id) {
  cairn_record_field_t f;
  cairn_mpr_t m;
  uint32_t count, n;
  const char *s;
  size_t len = strlen(id);
  if (!field_value(NULL, r, field, &f))
    return 0;
  cairn_mpr_init(&m, f.value, f.value_len);
  if (cairn_mpr_array(&m, &count) != 0)
    return cairn_mpr_str(&m, &s, &n) == 0 && n == len && memcmp(s, id, n) == 0;
  for (uint32_t i = 0; i < count; i++)
    if (cairn_mpr_str(&m, &s, &n) == 0 && n == len && memcmp(s, id, n) == 0)
      return 1;
  return 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, unsigned m, unsigned d) {
  y -= m <= 2;
  long era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (long)doe - 719468;
}

/* Whether s[0..n) are digits, and their value. */
static int date_digits(const char *s, int n, unsigned *v) {
  *v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    *v = *v * 10 + (unsigned)(s[i] - '0');
  }
  return 1;
}

static int date_days(const char *s, long *out) {
  unsigned y, m, d;
  char tail;
  if (s == NULL || strlen(s) < 10)
    return 0;
  /* "YYYY-MM-DD..." read without sscanf (thousands of dates a report), as the
   * sscanf below reads it */
  if (!(date_digits(s, 4, &y) && s[4] == '-' && date_digits(s + 5, 2, &m) && s[7] == '-' &&
        date_digits(s + 8, 2, &d)) &&
      sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &tail) < 3)
    return 0;
  if (m < 1 || m > 12 || d < 1 || d > 31)
    return 0;
  *out = days_from_civil((long)y, m, d);
  return 1;
}

long cairn_report_days(const char *a, const char *b, int *ok) {
  long x, y;
  *ok = date_days(a, &x) && date_days(b, &y);
  return *ok ? y - x : 0;
}
