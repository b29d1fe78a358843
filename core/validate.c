/*
 * validate.c — the schema's checks against the store: a local put before it is
 * signed (types, fields, values, references, required fields; the form of
 * `_schema` records themselves), and `cairn check`'s walk over every record
 * (schema.h; docs/design.md, "Schema").
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "schema.h"
#include "store_internal.h"

#define SUGGEST_SCAN_MAX 20000 /* records looked at for a reference's "did you mean" */

static int is_nil(const uint8_t *mp, size_t len) {
  return len == 1 && mp[0] == 0xc0;
}

/* A schema name: a lowercase letter, then lowercase letters, digits, '_' or '-'. */
static int schema_name_ok(const char *s, size_t n) {
  if (n == 0 || n > 64 || !islower((unsigned char)s[0]))
    return 0;
  for (size_t i = 1; i < n; i++)
    if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '_' &&
        s[i] != '-')
      return 0;
  return 1;
}

/* ---- references ---- */

/* Whether (type, id) is a visible record. */
static int ref_exists(MDB_txn *txn, cairn_store_t *s, const char *type, const char *id,
                      size_t ilen, bool *yes) {
  keybuf_t k;
  MDB_val key, val;
  cairn_record_t r;
  int rc = cairn__key_record(&k, type, strlen(type), id, ilen);
  *yes = false;
  if (rc != 0)
    return 0; /* too long to be an id: not a record */
  key = mval(k.b, k.len);
  if ((rc = mdb_get(txn, s->dbi[DB_RECORDS], &key, &val)) == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return cairn__mdb_err(rc);
  if ((rc = cairn__rec_view(&key, &val, &r)) != 0)
    return rc;
  *yes = !r.deleted;
  return 0;
}

/* The text of a record's name or title field, or NULL. */
static char *record_name(const cairn_record_t *r) {
  static const char *const names[] = {"name", "title"};
  cairn_record_field_t f;
  for (size_t i = 0; i < 2; i++) {
    cairn_mpr_t m;
    const char *str;
    uint32_t n;
    if (!cairn_record_field(r, names[i], &f))
      continue;
    cairn_mpr_init(&m, f.value, f.value_len);
    if (cairn_mpr_str(&m, &str, &n) == 0 && n > 0)
      return strndup(str, n);
  }
  return NULL;
}

/* The first record one of whose name's words is near word (n if none). */
static size_t name_word_match(const char *word, const char *const *names, size_t n) {
  char token[65];
  for (size_t i = 0; i < n; i++) {
    for (const char *p = names[i]; p != NULL && *p;) {
      size_t len = strcspn(p, " ,.-/");
      if (len > 0 && len < sizeof token) {
        const char *cand = token;
        memcpy(token, p, len);
        token[len] = 0;
        if (len >= 3 && cairn_suggest(word, &cand, 1) != NULL)
          return i;
      }
      p += len + (p[len] != 0);
    }
  }
  return n;
}

void cairn_suggest_record(const char *word, const char *const *ids, const char *const *names,
                          size_t n, char *out, size_t cap) {
  const char *pick = n ? cairn_suggest(word, ids, n) : NULL;
  size_t at = 0;
  out[0] = 0;
  if (pick == NULL && n && (pick = cairn_suggest(word, names, n)) != NULL)
    while (names[at] != pick)
      at++;
  else if (pick != NULL)
    while (ids[at] != pick)
      at++;
  else if ((at = name_word_match(word, names, n)) < n)
    pick = ids[at];
  if (pick != NULL && names[at] != NULL)
    snprintf(out, cap, "; did you mean %s (%s)?", ids[at], names[at]);
  else if (pick != NULL)
    snprintf(out, cap, "; did you mean %s?", ids[at]);
}

/* " did you mean ID (NAME)?" for a reference that names no record: the closest
 * id, else the record whose name or title is closest. */
static void ref_suggestion(MDB_txn *txn, cairn_store_t *s, const char *type, const char *word,
                           char *out, size_t cap) {
  MDB_cursor *cur;
  MDB_val k, v;
  keybuf_t prefix;
  char **ids = NULL, **names = NULL;
  size_t n = 0;
  out[0] = 0;
  if (cairn__key_record(&prefix, type, strlen(type), "", 0) != 0 ||
      mdb_cursor_open(txn, s->dbi[DB_RECORDS], &cur) != 0)
    return;
  ids = calloc(SUGGEST_SCAN_MAX, sizeof *ids);
  names = calloc(SUGGEST_SCAN_MAX, sizeof *names);
  k = mval(prefix.b, prefix.len);
  for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       ids && names && rc == 0 && n < SUGGEST_SCAN_MAX;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    cairn_record_t r;
    if (k.mv_size < prefix.len || memcmp(k.mv_data, prefix.b, prefix.len) != 0 ||
        cairn__rec_view(&k, &v, &r) != 0)
      break;
    if (r.deleted || (ids[n] = strndup(r.id, r.id_len)) == NULL)
      continue;
    names[n++] = record_name(&r);
  }
  mdb_cursor_close(cur);
  if (ids != NULL && names != NULL)
    cairn_suggest_record(word, (const char *const *)ids, (const char *const *)names, n, out,
                         cap);
  for (size_t i = 0; i < n; i++) {
    free(ids[i]);
    free(names[i]);
  }
  free(ids);
  free(names);
}

static int ref_error(MDB_txn *txn, cairn_store_t *s, const cairn_schema_type_t *t,
                     const cairn_schema_field_t *f, const char *id, const char *ref,
                     uint32_t n, cairn_error_t *err) {
  char word[CAIRN_ID_MAX + 1], hint[300];
  snprintf(word, sizeof word, "%.*s", (int)n, ref);
  ref_suggestion(txn, s, f->ref, word, hint, sizeof hint);
  return cairn__error(err, CAIRN_ESCHEMA, "%s %s: %s \"%.80s\" names no %s%s", t->name, id,
                      f->name, word, f->ref, hint);
}

/* Every id a ref or refs value names is a visible record of the field's type,
 * or one the change being checked writes (made, when not NULL). */
static int check_refs(MDB_txn *txn, cairn_store_t *s, const cairn_schema_type_t *t,
                      const cairn_schema_field_t *f, const char *id, const uint8_t *mp,
                      size_t len, cairn__made_fn made, void *made_ud, cairn_error_t *err) {
  cairn_mpr_t m;
  uint32_t count = 1, n;
  const char *ref;
  bool yes;
  int rc;
  if ((f->kind != CAIRN_KIND_REF && f->kind != CAIRN_KIND_REFS) || f->ref[0] == 0 ||
      is_nil(mp, len))
    return 0;
  cairn_mpr_init(&m, mp, len);
  if (f->kind == CAIRN_KIND_REFS && cairn_mpr_array(&m, &count) != 0)
    return 0; /* the form was checked before */
  for (uint32_t i = 0; i < count; i++) {
    if (cairn_mpr_str(&m, &ref, &n) != 0)
      return 0;
    if ((rc = ref_exists(txn, s, f->ref, ref, n, &yes)) != 0)
      return rc;
    if (!yes && made != NULL)
      yes = made(made_ud, f->ref, ref, n);
    if (!yes)
      return ref_error(txn, s, t, f, id, ref, n, err);
  }
  return 0;
}

/* ---- names ---- */

static int unknown_type(const cairn_schema_t *sc, const char *type, cairn_error_t *err) {
  const char **names = calloc(sc->ntypes + 1, sizeof *names);
  const char *near;
  if (names == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < sc->ntypes; i++)
    names[i] = sc->types[i].hidden ? NULL : sc->types[i].name;
  near = cairn_suggest(type, names, sc->ntypes);
  free(names);
  if (near != NULL)
    return cairn__error(err, CAIRN_ESCHEMA,
                        "no record type \"%s\" in this network's schema; did you mean %s?",
                        type, near);
  return cairn__error(err, CAIRN_ESCHEMA,
                      "no record type \"%s\" in this network's schema (an owner or admin "
                      "can add it)", type);
}

/* The field a hidden field was renamed to, or NULL. */
static const cairn_schema_field_t *renamed_to(const cairn_schema_type_t *t, const char *name) {
  for (size_t i = 0; i < t->nfields; i++)
    for (size_t j = 0; !t->fields[i].hidden && j < t->fields[i].naliases; j++)
      if (strcmp(t->fields[i].aliases[j], name) == 0)
        return &t->fields[i];
  return NULL;
}

/* The field a local write may set under this name, or an error. */
static int writable_field(const cairn_schema_type_t *t, const char *name,
                          const cairn_schema_field_t **out, cairn_error_t *err) {
  const cairn_schema_field_t *f = cairn_schema_field(t, name), *to;
  *out = f;
  if (f != NULL && !f->hidden && strcmp(f->name, name) == 0)
    return 0;
  if ((to = renamed_to(t, name)) != NULL)
    return cairn__error(err, CAIRN_ESCHEMA, "%s field %s was renamed to %s; write %s instead",
                        t->name, name, to->name, to->name);
  if (f != NULL)
    return cairn__error(err, CAIRN_ESCHEMA, "%s field %s was removed from the schema",
                        t->name, name);
  const char **names = calloc(t->nfields + 1, sizeof *names);
  if (names == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < t->nfields; i++)
    names[i] = t->fields[i].hidden ? NULL : t->fields[i].name;
  const char *near = cairn_suggest(name, names, t->nfields);
  free(names);
  if (near != NULL)
    return cairn__error(err, CAIRN_ESCHEMA, "%s has no field \"%s\"; did you mean %s?", t->name,
                        name, near);
  return cairn__error(err, CAIRN_ESCHEMA, "%s has no field \"%s\" (see its fields with "
                      "`cairn schema %s`)", t->name, name, t->name);
}

int cairn_schema_field_for(const cairn_schema_t *sc, const char *type, const char *field,
                           const cairn_schema_type_t **t, const cairn_schema_field_t **f,
                           cairn_error_t *err) {
  *t = NULL;
  *f = NULL;
  if (sc->ntypes == 0 || type[0] == '_')
    return 0;
  if ((*t = cairn_schema_type(sc, type)) == NULL || (*t)->hidden) {
    *t = NULL;
    return unknown_type(sc, type, err);
  }
  int rc = writable_field(*t, field, f, err);
  if (rc != 0)
    *t = NULL, *f = NULL;
  return rc;
}

/* ---- `_schema` records ---- */

static int attr_is(const char *name, const char *const *set) {
  for (; *set; set++)
    if (strcmp(name, *set) == 0)
      return 1;
  return 0;
}

static int strs_ok(const uint8_t *mp, size_t len, int names) {
  cairn_mpr_t m;
  uint32_t count, n;
  const char *s;
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_array(&m, &count) != 0)
    return 0;
  for (uint32_t i = 0; i < count; i++)
    if (cairn_mpr_str(&m, &s, &n) != 0 || n == 0 || (names && !schema_name_ok(s, n)))
      return 0;
  return cairn_mpr_left(&m) == 0;
}

/* One attribute of a `_schema` record has the form its name asks for. */
static int attr_ok(const char *name, const uint8_t *mp, size_t len) {
  static const char *const texts[] = {"label", "help", "unit", NULL};
  static const char *const bools[] = {"required", "hidden", NULL};
  cairn_mpr_t m;
  const char *s;
  uint32_t n;
  int64_t i;
  cairn_kind_t k;
  cairn_mpr_init(&m, mp, len);
  if (is_nil(mp, len))
    return 1;
  if (attr_is(name, texts))
    return cairn_mpr_str(&m, &s, &n) == 0 && cairn_mpr_left(&m) == 0;
  if (attr_is(name, bools))
    return cairn_mpr_bool(&m, &(int){0}) == 0 && cairn_mpr_left(&m) == 0;
  if (strcmp(name, "order") == 0)
    return cairn_mpr_int(&m, &i) == 0 && cairn_mpr_left(&m) == 0;
  if (strcmp(name, "kind") == 0)
    return cairn_mpr_str(&m, &s, &n) == 0 && cairn_kind_parse(s, n, &k);
  if (strcmp(name, "ref") == 0)
    return cairn_mpr_str(&m, &s, &n) == 0 && schema_name_ok(s, n);
  if (strcmp(name, "values") == 0)
    return strs_ok(mp, len, 0);
  if (strcmp(name, "aliases") == 0)
    return strs_ok(mp, len, 1);
  return 0;
}

static int check_def(const char *id, const char *const *names, const uint8_t *const *values,
                     const size_t *lens, size_t n, cairn_error_t *err) {
  static const char *const type_attrs[] = {"label", "help", "hidden", "order", NULL};
  static const char *const field_attrs[] = {"kind", "required", "label", "help", "unit",
                                            "ref", "values", "aliases", "hidden", "order",
                                            NULL};
  const char *dot = strchr(id, '.');
  size_t tlen = dot ? (size_t)(dot - id) : strlen(id);
  if (!schema_name_ok(id, tlen) || (dot != NULL && !schema_name_ok(dot + 1, strlen(dot + 1))))
    return cairn__error(err, CAIRN_ESCHEMA,
                        "_schema %s: ids are TYPE or TYPE.FIELD, each a lowercase letter "
                        "then lowercase letters, digits, '_' or '-'", id);
  for (size_t i = 0; i < n; i++) {
    if (!attr_is(names[i], dot ? field_attrs : type_attrs))
      return cairn__error(err, CAIRN_ESCHEMA, "_schema %s: no attribute \"%s\" for a %s", id,
                          names[i], dot ? "field" : "type");
    if (!attr_ok(names[i], values[i], lens[i]))
      return cairn__error(err, CAIRN_ESCHEMA, "_schema %s: attribute %s has a bad value", id,
                          names[i]);
  }
  return 0;
}

/* ---- a local put ---- */

/* Whether required field f has a value once the put is applied. */
static int put_has(const cairn_schema_field_t *f, const cairn_record_t *old,
                   const char *const *names, const uint8_t *const *values, const size_t *lens,
                   size_t n) {
  cairn_record_field_t g;
  for (size_t i = 0; i < n; i++)
    if (strcmp(names[i], f->name) == 0)
      return !is_nil(values[i], lens[i]);
  return old != NULL && cairn_schema_value(old, f, &g);
}

static int check_required(MDB_txn *txn, cairn_store_t *s, const cairn_schema_type_t *t,
                          const char *id, const char *const *names,
                          const uint8_t *const *values, const size_t *lens, size_t n,
                          cairn_error_t *err) {
  keybuf_t k;
  MDB_val key, val;
  cairn_record_t r, *old = NULL;
  int rc = cairn__key_record(&k, t->name, strlen(t->name), id, strlen(id));
  if (rc != 0)
    return rc;
  key = mval(k.b, k.len);
  rc = mdb_get(txn, s->dbi[DB_RECORDS], &key, &val);
  if (rc != 0 && rc != MDB_NOTFOUND)
    return cairn__mdb_err(rc);
  if (rc == 0 && (rc = cairn__rec_view(&key, &val, &r)) != 0)
    return rc;
  if (rc == 0 && val.mv_size > 0 && !r.deleted)
    old = &r;
  for (size_t i = 0; i < t->nfields; i++) {
    const cairn_schema_field_t *f = &t->fields[i];
    if (f->required && !f->hidden && !put_has(f, old, names, values, lens, n))
      return cairn__error(err, CAIRN_ESCHEMA, "%s %s: %s is required; give it a value",
                          t->name, id, f->name);
  }
  return 0;
}

int cairn__schema_check_put(MDB_txn *txn, cairn_store_t *s, const cairn_schema_t *sc,
                            const char *type, const char *id, const char *const *names,
                            const uint8_t *const *values, const size_t *lens, size_t n,
                            cairn__made_fn made, void *made_ud, cairn_error_t *err) {
  const cairn_schema_type_t *t;
  const cairn_schema_field_t *f;
  int rc;
  if (strcmp(type, CAIRN_SCHEMA_TYPE) == 0)
    return check_def(id, names, values, lens, n, err);
  if (type[0] == '_' || sc->ntypes == 0)
    return 0;
  if ((t = cairn_schema_type(sc, type)) == NULL || t->hidden)
    return unknown_type(sc, type, err);
  for (size_t i = 0; i < n; i++)
    if ((rc = writable_field(t, names[i], &f, err)) != 0 ||
        (rc = cairn_schema_check_value(t, f, id, values[i], lens[i], err)) != 0 ||
        (rc = check_refs(txn, s, t, f, id, values[i], lens[i], made, made_ud, err)) != 0)
      return rc;
  return check_required(txn, s, t, id, names, values, lens, n, err);
}

/* ---- cairn check ---- */

typedef struct check_ctx {
  MDB_txn *txn;
  cairn_store_t *s;
  const cairn_schema_t *sc;
  cairn_schema_problem_cb cb;
  void *ud;
} check_ctx_t;

static int report(check_ctx_t *c, const cairn_record_t *r, const char *field, int *stop,
                  const char *why) {
  *stop = c->cb(r, field, why, c->ud) != 0;
  return 0;
}

/* A field of r the schema does not know (not a field, not an alias). */
static int check_unknown_fields(check_ctx_t *c, const cairn_schema_type_t *t,
                                const cairn_record_t *r, int *stop) {
  cairn_record_iter_t it;
  cairn_record_field_t f;
  char name[CAIRN_FIELD_MAX + 1], why[CAIRN_ERRMSG_MAX];
  cairn_record_iter_init(r, &it);
  while (!*stop && cairn_record_field_next(&it, &f)) {
    snprintf(name, sizeof name, "%.*s", (int)f.name_len, f.name);
    if (cairn_schema_field(t, name) == NULL && renamed_to(t, name) == NULL &&
        !is_nil(f.value, f.value_len)) {
      snprintf(why, sizeof why, "%s has no field %s", t->name, name);
      report(c, r, name, stop, why);
    }
  }
  return 0;
}

static int check_fields(check_ctx_t *c, const cairn_schema_type_t *t, const cairn_record_t *r,
                        const char *id, int *stop) {
  cairn_record_field_t v;
  cairn_error_t e;
  int rc;
  for (size_t i = 0; i < t->nfields && !*stop; i++) {
    const cairn_schema_field_t *f = &t->fields[i];
    if (f->hidden)
      continue;
    e.msg[0] = 0;
    if (!cairn_schema_value(r, f, &v)) {
      if (f->required) {
        snprintf(e.msg, sizeof e.msg, "%s %s: %s is required", t->name, id, f->name);
        report(c, r, f->name, stop, e.msg);
      }
      continue;
    }
    rc = cairn_schema_check_value(t, f, id, v.value, v.value_len, &e);
    if (rc == 0)
      rc = check_refs(c->txn, c->s, t, f, id, v.value, v.value_len, NULL, NULL, &e);
    if (rc == CAIRN_ESCHEMA)
      report(c, r, f->name, stop, e.msg);
    else if (rc != 0)
      return rc;
  }
  return check_unknown_fields(c, t, r, stop);
}

static int check_record(check_ctx_t *c, const cairn_record_t *r, int *stop) {
  char type[CAIRN_TYPE_MAX + 1], id[CAIRN_ID_MAX + 1], why[CAIRN_ERRMSG_MAX];
  const cairn_schema_type_t *t;
  snprintf(type, sizeof type, "%.*s", (int)r->type_len, r->type);
  snprintf(id, sizeof id, "%.*s", (int)r->id_len, r->id);
  if ((t = cairn_schema_type(c->sc, type)) == NULL || t->hidden) {
    snprintf(why, sizeof why, "%s %s: the schema has no type %s", type, id, type);
    return report(c, r, NULL, stop, why);
  }
  return check_fields(c, t, r, id, stop);
}

int cairn_schema_check(cairn_store_t *s, cairn_schema_problem_cb cb, void *ud) {
  check_ctx_t c = {NULL, s, NULL, cb, ud};
  cairn_schema_t *sc = NULL;
  MDB_cursor *cur = NULL;
  MDB_val k, v;
  cairn_record_t r;
  int rc, stop = 0;
  if ((rc = cairn__txn_begin(s, MDB_RDONLY, &c.txn)) != 0)
    return rc;
  if ((rc = cairn__schema_load(c.txn, s, &sc)) != 0 || sc->ntypes == 0)
    goto done;
  c.sc = sc;
  if ((rc = mdb_cursor_open(c.txn, s->dbi[DB_RECORDS], &cur)) != 0) {
    rc = cairn__mdb_err(rc);
    goto done;
  }
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !stop;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if ((rc = cairn__rec_view(&k, &v, &r)) != 0)
      break;
    if (r.deleted || r.type[0] == '_')
      continue;
    if ((rc = check_record(&c, &r, &stop)) != 0)
      break;
  }
  rc = rc == MDB_NOTFOUND || rc == 0 ? 0 : rc < 0 && rc > -100 ? rc : cairn__mdb_err(rc);
done:
  if (cur != NULL)
    mdb_cursor_close(cur);
  mdb_txn_abort(c.txn);
  cairn_schema_free(sc);
  return rc;
}
