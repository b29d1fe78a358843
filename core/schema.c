/*
 * schema.c — the network's schema read from its `_schema` records, the kinds of
 * values, "did you mean", and the checks of a local write (schema.h;
 * docs/design.md, "Schema").
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "schema.h"
#include "store_internal.h"

/* ---- kinds ---- */

static const char *const kind_names[] = {
    NULL,   "text",   "number", "integer", "bool", "date",
    "datetime", "period", "enum", "ref", "refs", "json",
};
#define NKINDS (sizeof kind_names / sizeof kind_names[0])

const char *cairn_kind_name(cairn_kind_t kind) {
  return kind > 0 && (size_t)kind < NKINDS ? kind_names[kind] : "json";
}

int cairn_kind_parse(const char *name, size_t n, cairn_kind_t *out) {
  for (size_t k = 1; k < NKINDS; k++)
    if (strlen(kind_names[k]) == n && memcmp(kind_names[k], name, n) == 0) {
      *out = (cairn_kind_t)k;
      return 1;
    }
  return 0;
}

/* ---- did you mean ---- */

/* Optimal string alignment distance, case-insensitive, capped at cap + 1. */
static size_t edit_distance(const char *a, const char *b, size_t cap) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64)
    return cap + 1;
  if ((la > lb ? la - lb : lb - la) > cap)
    return cap + 1;
  size_t d[65][65];
  for (size_t i = 0; i <= la; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= lb; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
      size_t best = d[i - 1][j - 1] + (ca != cb);
      if (d[i - 1][j] + 1 < best)
        best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best)
        best = d[i][j - 1] + 1;
      if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[la][lb];
}

const char *cairn_suggest(const char *word, const char *const *candidates, size_t n) {
  size_t len = strlen(word), cap = len / 3 > 1 ? len / 3 : 1, best = cap + 1;
  const char *pick = NULL;
  for (size_t i = 0; i < n; i++) {
    if (candidates[i] == NULL)
      continue;
    size_t d = edit_distance(word, candidates[i], cap);
    if (d < best) {
      best = d;
      pick = candidates[i];
    }
  }
  return pick;
}

/* ---- the model ---- */

static void field_free(cairn_schema_field_t *f) {
  free(f->name);
  free(f->label);
  free(f->help);
  free(f->unit);
  free(f->ref);
  for (size_t i = 0; i < f->nvalues; i++)
    free(f->values[i]);
  free(f->values);
  for (size_t i = 0; i < f->naliases; i++)
    free(f->aliases[i]);
  free(f->aliases);
}

void cairn_schema_free(cairn_schema_t *sc) {
  if (sc == NULL || __atomic_sub_fetch(&sc->refs_, 1, __ATOMIC_ACQ_REL) != 0)
    return;
  for (size_t i = 0; i < sc->ntypes; i++) {
    cairn_schema_type_t *t = &sc->types[i];
    for (size_t j = 0; j < t->nfields; j++)
      field_free(&t->fields[j]);
    free(t->fields);
    free(t->name);
    free(t->label);
    free(t->help);
  }
  free(sc->types);
  free(sc);
}

const cairn_schema_type_t *cairn_schema_type(const cairn_schema_t *sc, const char *name) {
  for (size_t i = 0; sc != NULL && i < sc->ntypes; i++)
    if (strcmp(sc->types[i].name, name) == 0)
      return &sc->types[i];
  return NULL;
}

const cairn_schema_field_t *cairn_schema_field(const cairn_schema_type_t *t, const char *name) {
  for (size_t i = 0; t != NULL && i < t->nfields; i++)
    if (strcmp(t->fields[i].name, name) == 0)
      return &t->fields[i];
  for (size_t i = 0; t != NULL && i < t->nfields; i++)
    for (size_t j = 0; j < t->fields[i].naliases; j++)
      if (!t->fields[i].hidden && strcmp(t->fields[i].aliases[j], name) == 0)
        return &t->fields[i];
  return NULL;
}

static int is_nil(const uint8_t *mp, size_t len) {
  return len == 1 && mp[0] == 0xc0;
}

int cairn_schema_value(const cairn_record_t *r, const cairn_schema_field_t *f,
                       cairn_record_field_t *out) {
  cairn_record_field_t g;
  int found = 0;
  if (cairn_record_field(r, f->name, out))
    return !is_nil(out->value, out->value_len);
  for (size_t i = 0; i < f->naliases; i++)
    if (cairn_record_field(r, f->aliases[i], &g) && !is_nil(g.value, g.value_len) &&
        (!found || cairn_stamp_cmp(&g.stamp, &out->stamp) > 0)) {
      *out = g;
      found = 1;
    }
  return found;
}

/* Whether a record's field name is a field or an alias of t. */
static int known_name(const cairn_schema_type_t *t, const char *name, size_t n) {
  for (size_t i = 0; i < t->nfields; i++) {
    const cairn_schema_field_t *f = &t->fields[i];
    if (strlen(f->name) == n && memcmp(f->name, name, n) == 0)
      return 1;
    for (size_t j = 0; j < f->naliases; j++)
      if (strlen(f->aliases[j]) == n && memcmp(f->aliases[j], name, n) == 0)
        return 1;
  }
  return 0;
}

void cairn_schema_fields(const cairn_schema_t *sc, const cairn_record_t *r, cairn_field_cb cb,
                         void *ud) {
  const cairn_schema_type_t *t = NULL;
  cairn_record_iter_t it;
  cairn_record_field_t f;
  char type[CAIRN_TYPE_MAX + 1];
  snprintf(type, sizeof type, "%.*s", (int)r->type_len, r->type);
  if (sc != NULL)
    t = cairn_schema_type(sc, type);
  for (size_t i = 0; t != NULL && i < t->nfields; i++) {
    const cairn_schema_field_t *sf = &t->fields[i];
    if (sf->hidden || !cairn_schema_value(r, sf, &f))
      continue;
    f.name = sf->name;
    f.name_len = (uint32_t)strlen(sf->name);
    if (cb(&f, ud) != 0)
      return;
  }
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f))
    if (!is_nil(f.value, f.value_len) && (t == NULL || !known_name(t, f.name, f.name_len)) &&
        cb(&f, ud) != 0)
      return;
}

/* ---- reading `_schema` records ---- */

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = 0;
  }
  return p;
}

/* A str attribute ("" when absent or not a string): malloc'd, NULL on ENOMEM. */
static char *attr_str(const cairn_record_t *r, const char *name) {
  cairn_record_field_t f;
  cairn_mpr_t m;
  const char *s = "";
  uint32_t n = 0;
  if (cairn_record_field(r, name, &f)) {
    cairn_mpr_init(&m, f.value, f.value_len);
    if (cairn_mpr_str(&m, &s, &n) != 0)
      s = "", n = 0;
  }
  return dup_n(s, n);
}

static int attr_bool(const cairn_record_t *r, const char *name) {
  cairn_record_field_t f;
  cairn_mpr_t m;
  int v = 0;
  if (cairn_record_field(r, name, &f)) {
    cairn_mpr_init(&m, f.value, f.value_len);
    if (cairn_mpr_bool(&m, &v) != 0)
      v = 0;
  }
  return v;
}

static int64_t attr_int(const cairn_record_t *r, const char *name, int64_t def) {
  cairn_record_field_t f;
  cairn_mpr_t m;
  int64_t v = def;
  if (cairn_record_field(r, name, &f)) {
    cairn_mpr_init(&m, f.value, f.value_len);
    if (cairn_mpr_int(&m, &v) != 0)
      v = def;
  }
  return v;
}

/* An array-of-str attribute (non-strings skipped). 0 or CAIRN_ENOMEM. */
static int attr_strs(const cairn_record_t *r, const char *name, char ***out, size_t *n) {
  cairn_record_field_t f;
  cairn_mpr_t m;
  uint32_t count;
  *out = NULL;
  *n = 0;
  if (!cairn_record_field(r, name, &f))
    return 0;
  cairn_mpr_init(&m, f.value, f.value_len);
  if (cairn_mpr_array(&m, &count) != 0 || count == 0)
    return 0;
  if ((*out = calloc(count, sizeof **out)) == NULL)
    return CAIRN_ENOMEM;
  for (uint32_t i = 0; i < count; i++) {
    const char *s;
    uint32_t len;
    if (cairn_mpr_str(&m, &s, &len) != 0) {
      if (cairn_mpr_skip(&m, CAIRN_MP_MAX_DEPTH) != 0)
        break;
      continue;
    }
    if (((*out)[(*n)++] = dup_n(s, len)) == NULL)
      return CAIRN_ENOMEM;
  }
  return 0;
}

static cairn_schema_type_t *type_get(cairn_schema_t *sc, const char *name, size_t n) {
  for (size_t i = 0; i < sc->ntypes; i++)
    if (strlen(sc->types[i].name) == n && memcmp(sc->types[i].name, name, n) == 0)
      return &sc->types[i];
  cairn_schema_type_t *v = realloc(sc->types, (sc->ntypes + 1) * sizeof *v);
  if (v == NULL)
    return NULL;
  sc->types = v;
  cairn_schema_type_t *t = &v[sc->ntypes];
  memset(t, 0, sizeof *t);
  t->order = INT64_MAX;
  if ((t->name = dup_n(name, n)) == NULL || (t->label = dup_n("", 0)) == NULL ||
      (t->help = dup_n("", 0)) == NULL) {
    free(t->name);
    free(t->label);
    return NULL;
  }
  sc->ntypes++;
  return t;
}

static int read_type(cairn_schema_t *sc, const cairn_record_t *r) {
  cairn_schema_type_t *t = type_get(sc, r->id, r->id_len);
  if (t == NULL)
    return CAIRN_ENOMEM;
  free(t->label);
  free(t->help);
  t->label = attr_str(r, "label");
  t->help = attr_str(r, "help");
  t->hidden = attr_bool(r, "hidden");
  t->order = attr_int(r, "order", INT64_MAX);
  return t->label && t->help ? 0 : CAIRN_ENOMEM;
}

static int read_field(cairn_schema_t *sc, const cairn_record_t *r, size_t dot) {
  cairn_schema_type_t *t = type_get(sc, r->id, dot);
  cairn_schema_field_t *v, *f;
  char *kind;
  int rc;
  if (t == NULL || (v = realloc(t->fields, (t->nfields + 1) * sizeof *v)) == NULL)
    return CAIRN_ENOMEM;
  t->fields = v;
  f = &v[t->nfields++];
  memset(f, 0, sizeof *f);
  f->name = dup_n(r->id + dot + 1, r->id_len - dot - 1);
  f->label = attr_str(r, "label");
  f->help = attr_str(r, "help");
  f->unit = attr_str(r, "unit");
  f->ref = attr_str(r, "ref");
  kind = attr_str(r, "kind");
  if (kind == NULL || !cairn_kind_parse(kind, strlen(kind), &f->kind))
    f->kind = CAIRN_KIND_JSON; /* a newer device's kind: accept anything */
  free(kind);
  f->required = attr_bool(r, "required");
  f->hidden = attr_bool(r, "hidden");
  f->order = attr_int(r, "order", INT64_MAX);
  if ((rc = attr_strs(r, "values", &f->values, &f->nvalues)) != 0 ||
      (rc = attr_strs(r, "aliases", &f->aliases, &f->naliases)) != 0)
    return rc;
  return f->name && f->label && f->help && f->unit && f->ref && kind ? 0 : CAIRN_ENOMEM;
}

static int read_def(cairn_schema_t *sc, const cairn_record_t *r) {
  const char *dot = memchr(r->id, '.', r->id_len);
  if (dot == NULL)
    return read_type(sc, r);
  if (dot == r->id || (size_t)(dot - r->id) + 1 == r->id_len)
    return 0; /* not a field's id: ignored */
  return read_field(sc, r, (size_t)(dot - r->id));
}

static int field_order(const void *a, const void *b) {
  const cairn_schema_field_t *x = a, *y = b;
  if (x->order != y->order)
    return x->order < y->order ? -1 : 1;
  return strcmp(x->name, y->name);
}

static int type_order(const void *a, const void *b) {
  const cairn_schema_type_t *x = a, *y = b;
  if (x->order != y->order)
    return x->order < y->order ? -1 : 1;
  return strcmp(x->name, y->name);
}

int cairn__schema_load(MDB_txn *txn, cairn_store_t *s, cairn_schema_t **out) {
  static const char prefix[] = CAIRN_SCHEMA_TYPE;
  cairn_schema_t *sc = calloc(1, sizeof *sc);
  MDB_cursor *cur = NULL;
  if (sc != NULL)
    sc->refs_ = 1;
  MDB_val k = mval(prefix, sizeof prefix), v;
  cairn_record_t r;
  int rc;
  *out = NULL;
  if (sc == NULL)
    return CAIRN_ENOMEM;
  if ((rc = mdb_cursor_open(txn, s->dbi[DB_RECORDS], &cur)) != 0) {
    rc = cairn__mdb_err(rc);
    goto done;
  }
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size < sizeof prefix || memcmp(k.mv_data, prefix, sizeof prefix) != 0)
      break;
    if ((rc = cairn__rec_view(&k, &v, &r)) != 0 || (!r.deleted && (rc = read_def(sc, &r)) != 0))
      goto done;
  }
  rc = rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
done:
  if (cur != NULL)
    mdb_cursor_close(cur);
  if (rc != 0) {
    cairn_schema_free(sc);
    return rc;
  }
  if (sc->ntypes > 0) /* qsort wants a pointer even for nothing */
    cairn_sort(sc->types, sc->ntypes, sizeof *sc->types, type_order);
  for (size_t i = 0; i < sc->ntypes; i++)
    if (sc->types[i].nfields > 0)
      cairn_sort(sc->types[i].fields, sc->types[i].nfields, sizeof *sc->types[i].fields,
            field_order);
  *out = sc;
  return 0;
}

/* The schema's generation: random bytes rewritten whenever a `_schema` record
 * merges (cairn__schema_touch); 0 when none ever did. */
static int schema_gen(MDB_txn *txn, cairn_store_t *s, uint64_t *gen) {
  MDB_val v;
  int rc = cairn__meta_get(txn, s, META_SCHEMA_GEN, &v);
  *gen = 0;
  if (rc == CAIRN_ENOENT)
    return 0;
  if (rc != 0)
    return rc;
  if (v.mv_size != 8)
    return CAIRN_ECORRUPT;
  *gen = cairn_get_be64(v.mv_data);
  return 0;
}

int cairn__schema_touch(MDB_txn *txn, cairn_store_t *s) {
  uint8_t gen[8];
  randombytes_buf(gen, sizeof gen);
  return cairn__meta_put(txn, s, META_SCHEMA_GEN, gen, sizeof gen);
}

int cairn__schema_cached(MDB_txn *txn, cairn_store_t *s, cairn_schema_t **out) {
  uint64_t gen;
  cairn_schema_t *sc;
  int rc = schema_gen(txn, s, &gen);
  *out = NULL;
  if (rc != 0)
    return rc;
  if (s->schema == NULL || s->schema_gen != gen) {
    if ((rc = cairn__schema_load(txn, s, &sc)) != 0)
      return rc;
    cairn_schema_free(s->schema);
    s->schema = sc;
    s->schema_gen = gen;
  }
  __atomic_add_fetch(&s->schema->refs_, 1, __ATOMIC_RELAXED);
  *out = s->schema;
  return 0;
}

int cairn_schema_load(cairn_store_t *s, cairn_schema_t **out) {
  MDB_txn *txn;
  int rc = cairn__txn_begin(s, MDB_RDONLY, &txn);
  if (rc != 0)
    return rc;
  rc = cairn__schema_cached(txn, s, out);
  mdb_txn_abort(txn);
  return rc;
}

/* ---- the forms of dates, times and periods (index.c reads them) ---- */

static int date_ok(const char *s, size_t n) {
  uint8_t k[CAIRN__SORTKEY_MAX];
  return cairn__sortkey_date(s, n, k) != 0;
}

static int datetime_ok(const char *s, size_t n) {
  uint8_t k[CAIRN__SORTKEY_MAX];
  return cairn__sortkey_datetime(s, n, k) != 0;
}

static int period_ok(const char *s, size_t n) {
  uint8_t k[CAIRN__SORTKEY_MAX];
  return cairn__sortkey_period(s, n, k) != 0;
}

/* ---- checking a value ---- */

/* `TYPE ID: ` or `TYPE: ` before a message about a record's field. */
static void where_prefix(char *out, size_t cap, const cairn_schema_type_t *t, const char *id) {
  if (id != NULL)
    snprintf(out, cap, "%s %s: ", t->name, id);
  else
    snprintf(out, cap, "%s: ", t->name);
}

/* The value as short text for a message (strings as they are, else a kind). */
static void value_text(const uint8_t *mp, size_t len, char *out, size_t cap) {
  cairn_mpr_t m;
  const char *s;
  uint32_t n;
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_str(&m, &s, &n) == 0) {
    snprintf(out, cap, "\"%.*s\"", (int)(n > 60 ? 60 : n), s);
    return;
  }
  static const char *const names[] = {"null", "a bool", "a number", "a number", "a number",
                                      "a string", "binary data", "a list", "an object",
                                      "an extension value", "a bad value"};
  snprintf(out, cap, "%s", names[cairn_mpr_peek(&m)]);
}

static const char *expected(const cairn_schema_field_t *f) {
  switch (f->kind) {
  case CAIRN_KIND_TEXT: return "text";
  case CAIRN_KIND_NUMBER: return "a number";
  case CAIRN_KIND_INTEGER: return "a whole number";
  case CAIRN_KIND_BOOL: return "true or false";
  case CAIRN_KIND_DATE: return "a date (YYYY-MM-DD)";
  case CAIRN_KIND_DATETIME: return "a date and time (YYYY-MM-DDTHH:MM, optionally :SS and Z or +HH:MM)";
  case CAIRN_KIND_PERIOD: return "a period (2026, 2026-Q2 or 2026-05)";
  case CAIRN_KIND_ENUM: return "one of its values";
  case CAIRN_KIND_REF: return "the id of a record";
  case CAIRN_KIND_REFS: return "a list of record ids";
  default: return "a value";
  }
}

static int enum_error(const cairn_schema_type_t *t, const cairn_schema_field_t *f,
                      const char *id, const char *s, size_t n, cairn_error_t *err) {
  char pre[200], list[200] = "", word[65];
  size_t used = 0;
  for (size_t i = 0; i < f->nvalues && used + 4 < sizeof list; i++) {
    int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", f->values[i]);
    used = w < 0 || (size_t)w >= sizeof list - used ? sizeof list - 1 : used + (size_t)w;
  }
  snprintf(word, sizeof word, "%.*s", (int)(n > 64 ? 64 : n), s);
  const char *near = cairn_suggest(word, (const char *const *)f->values, f->nvalues);
  where_prefix(pre, sizeof pre, t, id);
  if (near != NULL)
    return cairn__error(err, CAIRN_ESCHEMA, "%s%s \"%s\" is not one of %s; did you mean %s?",
                        pre, f->name, word, list, near);
  return cairn__error(err, CAIRN_ESCHEMA, "%s%s \"%s\" is not one of %s", pre, f->name, word,
                      list);
}

static int kind_error(const cairn_schema_type_t *t, const cairn_schema_field_t *f,
                      const char *id, const uint8_t *mp, size_t len, cairn_error_t *err) {
  char pre[200], v[80];
  where_prefix(pre, sizeof pre, t, id);
  value_text(mp, len, v, sizeof v);
  return cairn__error(err, CAIRN_ESCHEMA, "%s%s %s is not %s", pre, f->name, v, expected(f));
}

static int str_kind_ok(const cairn_schema_field_t *f, const char *s, uint32_t n) {
  switch (f->kind) {
  case CAIRN_KIND_DATE: return date_ok(s, n);
  case CAIRN_KIND_DATETIME: return datetime_ok(s, n);
  case CAIRN_KIND_PERIOD: return period_ok(s, n);
  case CAIRN_KIND_REF: return n > 0 && n <= CAIRN_ID_MAX;
  default: return 1;
  }
}

static int refs_ok(cairn_mpr_t *m) {
  uint32_t count, n;
  const char *s;
  if (cairn_mpr_array(m, &count) != 0)
    return 0;
  for (uint32_t i = 0; i < count; i++)
    if (cairn_mpr_str(m, &s, &n) != 0 || n == 0 || n > CAIRN_ID_MAX)
      return 0;
  return 1;
}

int cairn_schema_check_value(const cairn_schema_type_t *t, const cairn_schema_field_t *f,
                             const char *id, const uint8_t *mp, size_t len,
                             cairn_error_t *err) {
  cairn_mpr_t m;
  const char *s;
  uint32_t n;
  double d;
  int64_t i;
  int ok = 0;
  if (is_nil(mp, len) || f->kind == CAIRN_KIND_JSON)
    return 0;
  cairn_mpr_init(&m, mp, len);
  switch (f->kind) {
  case CAIRN_KIND_NUMBER:
    ok = cairn_mpr_int(&m, &i) == 0 || (cairn_mpr_float(&m, &d) == 0 && isfinite(d));
    break;
  case CAIRN_KIND_INTEGER:
    ok = cairn_mpr_int(&m, &i) == 0;
    break;
  case CAIRN_KIND_BOOL:
    ok = cairn_mpr_bool(&m, &(int){0}) == 0;
    break;
  case CAIRN_KIND_REFS:
    ok = refs_ok(&m);
    break;
  case CAIRN_KIND_ENUM:
    if (cairn_mpr_str(&m, &s, &n) != 0)
      break;
    for (size_t k = 0; k < f->nvalues; k++)
      if (strlen(f->values[k]) == n && memcmp(f->values[k], s, n) == 0)
        return 0;
    return enum_error(t, f, id, s, n, err);
  default:
    ok = cairn_mpr_str(&m, &s, &n) == 0 && str_kind_ok(f, s, n);
    break;
  }
  if (ok && cairn_mpr_left(&m) == 0)
    return 0;
  return kind_error(t, f, id, mp, len, err);
}

/* ---- text typed by a person ---- */

static int pack_done(msgpack_sbuffer *sb, int rc, uint8_t **mp, size_t *len) {
  if (rc != 0) {
    msgpack_sbuffer_destroy(sb);
    return CAIRN_ENOMEM;
  }
  *mp = (uint8_t *)msgpack_sbuffer_release(sb);
  return 0;
}

static int text_number(const char *text, int integer, msgpack_packer *pk, int *rc) {
  char *end;
  errno = 0;
  long long v = strtoll(text, &end, 10);
  if (errno == 0 && end != text && *end == 0) {
    *rc = msgpack_pack_int64(pk, v);
    return 1;
  }
  if (integer)
    return 0;
  errno = 0;
  double d = strtod(text, &end);
  if (errno != 0 || end == text || *end != 0 || !isfinite(d) || isspace((unsigned char)*text))
    return 0;
  if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(long long)d)
    *rc = msgpack_pack_int64(pk, (long long)d);
  else
    *rc = msgpack_pack_double(pk, d);
  return 1;
}

static int text_bool(const char *text, msgpack_packer *pk, int *rc) {
  static const char *const yes[] = {"true", "yes", "y", "1"}, *const no[] = {"false", "no",
                                                                              "n", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(text, yes[i]) == 0)
      return *rc = msgpack_pack_true(pk), 1;
    if (strcasecmp(text, no[i]) == 0)
      return *rc = msgpack_pack_false(pk), 1;
  }
  return 0;
}

/* Ids separated by commas, blanks around them dropped. */
static int text_refs(const char *text, msgpack_packer *pk) {
  size_t count = 0;
  for (const char *p = text; *p; p++)
    count += *p == ',';
  int rc = msgpack_pack_array(pk, count + 1);
  for (const char *p = text;; p++) {
    const char *e = strchr(p, ',');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    while (n > 0 && isspace((unsigned char)*p))
      p++, n--;
    while (n > 0 && isspace((unsigned char)p[n - 1]))
      n--;
    rc |= msgpack_pack_str_with_body(pk, p, n);
    if (e == NULL)
      break;
    p = e;
  }
  return rc;
}

int cairn_schema_parse_text(const cairn_schema_type_t *t, const cairn_schema_field_t *f,
                            const char *id, const char *text, uint8_t **mp, size_t *len,
                            cairn_error_t *err) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  int rc = 0, ok = 1;
  *mp = NULL;
  *len = 0;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  if (text[0] == 0 && f->kind != CAIRN_KIND_TEXT && f->kind != CAIRN_KIND_JSON)
    rc = msgpack_pack_nil(&pk);
  else if (f->kind == CAIRN_KIND_NUMBER || f->kind == CAIRN_KIND_INTEGER)
    ok = text_number(text, f->kind == CAIRN_KIND_INTEGER, &pk, &rc);
  else if (f->kind == CAIRN_KIND_BOOL)
    ok = text_bool(text, &pk, &rc);
  else if (f->kind == CAIRN_KIND_REFS)
    rc = text_refs(text, &pk);
  else
    rc = msgpack_pack_str_with_body(&pk, text, strlen(text));
  if (!ok) {
    char pre[200];
    msgpack_sbuffer_destroy(&sb);
    where_prefix(pre, sizeof pre, t, id);
    return cairn__error(err, CAIRN_ESCHEMA, "%s%s \"%.60s\" is not %s", pre, f->name, text,
                        expected(f));
  }
  size_t n = sb.size;
  if ((rc = pack_done(&sb, rc, mp, len)) != 0)
    return rc;
  *len = n;
  if ((rc = cairn_schema_check_value(t, f, id, *mp, *len, err)) != 0) {
    free(*mp);
    *mp = NULL;
    *len = 0;
  }
  return rc;
}
