/*
 * list.c — typed queries on a type's records (cairn.h, "Typed queries"; docs/design.md,
 * "Queries and indexes") and the count of records by type (cairn_types).
 *
 * A query is built from the same text a person types (`cairn list TYPE --where
 * due<2026-06-01 --sort -due`, or the web app's query string): each condition's
 * field is checked against the schema and its value typed by the field's kind
 * (cairn_schema_parse_text), so a mistake is an error with "did you mean", never
 * an empty success. Running it reads in one transaction: either every record of
 * the type (cairn_records_walk) or, when an `=` on an index's leading field
 * allows it, that index's rows (cairn_index_walk), narrowed by a range on its
 * second field. Every condition is checked on every record either way, so the
 * index changes only how many records are read, never the result.
 *
 * Records that must be sorted (a --sort, or rows read by index) are copied out
 * of the transaction into one arena and sorted by merge sort with the query as
 * context; otherwise they stream to the caller in id order.
 */
#include "cairn.h"

#include <stdlib.h>
#include <string.h>

#include "lib_internal.h"
#include "mpread.h"
#include "values.h"

typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_CONTAINS, OP_IN } op_t;

/* A field named in a query: the schema's (f), the record's id, or a free-form
 * field (f NULL) read by its name. */
typedef struct qfield {
  char *name;                    /* as shown: the schema's current name */
  const cairn_schema_field_t *f; /* NULL: free-form, or the id */
  int is_id;
} qfield_t;

typedef struct cond {
  qfield_t fld;
  op_t op;
  int typed;     /* values typed by fld.f's kind (else free-form rules) */
  int empty;     /* `FIELD=` / `FIELD!=`: no value / any value */
  char **texts;  /* the values as typed (in: several) */
  uint8_t **vals; /* typed: each as its kind stores it; free-form: as a string */
  size_t *lens;
  uint8_t *num;  /* free-form: the text as a number, when it is one */
  size_t num_len;
  char *folded;  /* ~: the text folded to lower case */
  int any;       /* a search: any field of the record holds folded */
  size_t n;
} cond_t;

typedef struct sortkey {
  qfield_t fld;
  int desc;
} sortkey_t;

struct cairn_query {
  cairn_store_t *s;
  cairn_schema_t *own;   /* the schema when loaded here */
  const cairn_schema_t *sc;
  const cairn_schema_type_t *t; /* NULL: free-form (no schema, or a type of cairn's own) */
  char *type;
  cond_t *conds;
  size_t nconds;
  sortkey_t *sorts;
  size_t nsorts;
  qfield_t *fields;
  size_t nfields;
  size_t limit;
  int deleted, no_index, used_index;
};

/* ---- building ---- */

static void qfield_free(qfield_t *f) {
  free(f->name);
}

static void cond_free(cond_t *c) {
  qfield_free(&c->fld);
  for (size_t i = 0; i < c->n; i++) {
    free(c->texts[i]);
    free(c->vals[i]);
  }
  free(c->texts);
  free(c->vals);
  free(c->lens);
  free(c->num);
  free(c->folded);
}

void cairn_query_free(cairn_query_t *q) {
  if (q == NULL)
    return;
  for (size_t i = 0; i < q->nconds; i++)
    cond_free(&q->conds[i]);
  for (size_t i = 0; i < q->nsorts; i++)
    qfield_free(&q->sorts[i].fld);
  for (size_t i = 0; i < q->nfields; i++)
    qfield_free(&q->fields[i]);
  free(q->conds);
  free(q->sorts);
  free(q->fields);
  free(q->type);
  cairn_schema_free(q->own);
  free(q);
}

/* The type checked against the schema: unknown or hidden is an error. */
static int check_type(cairn_query_t *q, cairn_error_t *err) {
  const char **names;
  const char *near;
  if (q->sc->ntypes == 0 || q->type[0] == '_')
    return 0;
  q->t = cairn_schema_type(q->sc, q->type);
  if (q->t != NULL && !q->t->hidden)
    return 0;
  q->t = NULL;
  if ((names = calloc(q->sc->ntypes + 1, sizeof *names)) == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < q->sc->ntypes; i++)
    names[i] = q->sc->types[i].hidden ? NULL : q->sc->types[i].name;
  near = cairn_suggest(q->type, names, q->sc->ntypes);
  free(names);
  if (near != NULL)
    return cairn__error(err, CAIRN_ESCHEMA,
                        "no record type \"%s\" in this network's schema; did you mean %s?",
                        q->type, near);
  return cairn__error(err, CAIRN_ESCHEMA,
                      "no record type \"%s\" in this network's schema (see the types with "
                      "`cairn schema`)", q->type);
}

int cairn_query_new(cairn_store_t *s, const cairn_schema_t *sc, const char *type,
                    cairn_query_t **out, cairn_error_t *err) {
  cairn_query_t *q;
  int rc;
  *out = NULL;
  if (s == NULL || type == NULL || type[0] == 0 || strlen(type) > CAIRN_TYPE_MAX)
    return cairn__error(err, CAIRN_EINVAL, "a record type of 1 to %d bytes is needed",
                        CAIRN_TYPE_MAX);
  if ((q = calloc(1, sizeof *q)) == NULL || (q->type = strdup(type)) == NULL) {
    cairn_query_free(q);
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  }
  q->s = s;
  q->sc = sc;
  if (sc == NULL && (rc = cairn_schema_load(s, &q->own)) != 0) {
    cairn_query_free(q);
    return cairn__error(err, rc, "cannot read the schema: %s", cairn_strerror(rc));
  }
  if (sc == NULL)
    q->sc = q->own;
  if ((rc = check_type(q, err)) != 0) {
    cairn_query_free(q);
    return rc;
  }
  *out = q;
  return 0;
}

/* A field name of a query: checked against the schema, with "did you mean". */
static int resolve(const cairn_query_t *q, const char *name, size_t n, qfield_t *out,
                   cairn_error_t *err) {
  const cairn_schema_type_t *t;
  const cairn_schema_field_t *f;
  char buf[CAIRN_FIELD_MAX + 1];
  int rc;
  memset(out, 0, sizeof *out);
  if (n == 0 || n > CAIRN_FIELD_MAX || memchr(name, 0, n) != NULL)
    return cairn__error(err, CAIRN_EINVAL, "a field name of 1 to %d bytes is needed in \"%.*s\"",
                        CAIRN_FIELD_MAX, (int)(n > 80 ? 80 : n), name);
  memcpy(buf, name, n);
  buf[n] = 0;
  out->is_id = strcmp(buf, "_id") == 0;
  if (!out->is_id && buf[0] == '_')
    return cairn__error(err, CAIRN_EINVAL, "no field \"%s\": only _id starts with '_'", buf);
  if (!out->is_id && q->t != NULL) {
    if ((rc = cairn_schema_field_for(q->sc, q->type, buf, &t, &f, err)) != 0)
      return rc;
    out->f = f;
  }
  out->name = strdup(out->f != NULL ? out->f->name : buf);
  return out->name != NULL ? 0 : cairn__error(err, CAIRN_ENOMEM, "out of memory");
}

/* The value of a query's field in r: 1 with *out set (name as shown), 0 when
 * absent or nil. idbuf holds the id packed as a string. */
static int value_of(const qfield_t *fld, const cairn_record_t *r, uint8_t idbuf[CAIRN_ID_MAX + 2],
                    cairn_record_field_t *out) {
  int found;
  if (fld->is_id) {
    idbuf[0] = 0xd9;
    idbuf[1] = (uint8_t)r->id_len;
    memcpy(idbuf + 2, r->id, r->id_len);
    memset(out, 0, sizeof *out);
    out->value = idbuf;
    out->value_len = r->id_len + 2;
    found = 1;
  } else if (fld->f != NULL) {
    found = cairn_schema_value(r, fld->f, out);
  } else {
    found = cairn_record_field(r, fld->name, out) &&
            !(out->value_len == 1 && out->value[0] == 0xc0);
  }
  if (found) {
    out->name = fld->name;
    out->name_len = (uint32_t)strlen(fld->name);
  }
  return found;
}

/* The kind a condition or sort compares by; 0 for free-form rules. */
static cairn_kind_t kind_of(const qfield_t *fld) {
  if (fld->is_id)
    return CAIRN_KIND_TEXT;
  if (fld->f == NULL || fld->f->kind == CAIRN_KIND_JSON)
    return 0;
  return fld->f->kind;
}

/* A MessagePack string of text (malloc'd). */
static int pack_text(const char *text, uint8_t **out, size_t *len) {
  json_t *j = json_string(text);
  int rc = j != NULL ? cairn_value_from_json(j, out, len, NULL) : CAIRN_EINVAL;
  json_decref(j);
  return rc;
}

/* Free-form: the text as a number when it reads as one (else *out NULL). */
static int pack_number(const char *text, uint8_t **out, size_t *len) {
  cairn_schema_field_t nf;
  cairn_schema_type_t nt;
  memset(&nf, 0, sizeof nf);
  memset(&nt, 0, sizeof nt);
  nf.name = (char *)"";
  nf.kind = CAIRN_KIND_NUMBER;
  nt.name = (char *)"";
  *out = NULL;
  if (text[0] == 0)
    return 0;
  int rc = cairn_schema_parse_text(&nt, &nf, NULL, text, out, len, NULL);
  return rc == CAIRN_ESCHEMA ? 0 : rc;
}

/* ASCII and Latin-1 letters to lower case, in place (lengths kept). */
static void fold(char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 'A' && c <= 'Z')
      s[i] = (char)(c + 32);
    else if (c == 0xc3 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
             (unsigned char)s[i + 1] <= 0x9e && (unsigned char)s[i + 1] != 0x97)
      s[i + 1] = (char)((unsigned char)s[i + 1] + 0x20), i++;
  }
}

/* One value of a condition, typed. */
static int cond_value(const cairn_query_t *q, cond_t *c, const char *text, cairn_error_t *err) {
  size_t i = c->n;
  int rc;
  if ((c->texts[i] = strdup(text)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  c->n++;
  if (!c->typed || c->fld.is_id)
    return pack_text(text, &c->vals[i], &c->lens[i]);
  cairn_schema_field_t one = *c->fld.f;
  if (one.kind == CAIRN_KIND_REFS)
    one.kind = CAIRN_KIND_REF; /* = on a list of references: the list holds the id */
  rc = cairn_schema_parse_text(q->t, &one, NULL, text, &c->vals[i], &c->lens[i], err);
  if (rc == 0 && text[0] == 0)
    rc = cairn__error(err, CAIRN_ESCHEMA, "%s %s: an empty value matches nothing here",
                      q->type, c->fld.name);
  return rc;
}

/* Split "A,B" into the condition's values. */
static int cond_values(const cairn_query_t *q, cond_t *c, const char *text, cairn_error_t *err) {
  size_t count = 1;
  int rc = 0;
  for (const char *p = text; *p; p++)
    count += *p == ',';
  c->texts = calloc(count, sizeof *c->texts);
  c->vals = calloc(count, sizeof *c->vals);
  c->lens = calloc(count, sizeof *c->lens);
  if (c->texts == NULL || c->vals == NULL || c->lens == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if (c->op != OP_IN)
    return cond_value(q, c, text, err);
  for (const char *p = text; rc == 0;) {
    size_t n = strcspn(p, ",");
    char *one = strndup(p, n);
    rc = one != NULL ? cond_value(q, c, one, err) : CAIRN_ENOMEM;
    free(one);
    if (p[n] == 0)
      break;
    p += n + 1;
  }
  return rc;
}

/* Split FIELD OP VALUE. */
static int split_expr(const char *expr, size_t *flen, op_t *op, const char **value) {
  size_t i = strcspn(expr, "=!<>~");
  char c = expr[i], next = c ? expr[i + 1] : 0;
  *flen = i;
  if (c == 0 || (c == '!' && next != '='))
    return CAIRN_EINVAL;
  if (c == '!' || ((c == '<' || c == '>') && next == '='))
    *op = c == '!' ? OP_NE : c == '<' ? OP_LE : OP_GE, *value = expr + i + 2;
  else
    *op = c == '=' ? OP_EQ : c == '<' ? OP_LT : c == '>' ? OP_GT : OP_CONTAINS,
    *value = expr + i + 1;
  if (*op == OP_EQ && strncmp(*value, "in:", 3) == 0)
    *op = OP_IN, *value += 3;
  return 0;
}

/* What a condition on fld may compare. */
static int cond_check(const cairn_query_t *q, const cond_t *c, const char *value,
                      cairn_error_t *err) {
  cairn_kind_t k = kind_of(&c->fld);
  int order = c->op == OP_LT || c->op == OP_LE || c->op == OP_GT || c->op == OP_GE;
  if (value[0] == 0 && c->op != OP_EQ && c->op != OP_NE)
    return cairn__error(err, CAIRN_EINVAL, "%s needs a value to compare with", c->fld.name);
  if (order && k == CAIRN_KIND_REFS)
    return cairn__error(err, CAIRN_ESCHEMA,
                        "%s %s is a list of references: compare it with =, !=, =in: or ~",
                        q->type, c->fld.name);
  return 0;
}

int cairn_query_where(cairn_query_t *q, const char *expr, cairn_error_t *err) {
  cond_t *c, *v;
  const char *value;
  size_t flen;
  op_t op;
  int rc;
  if (expr == NULL || split_expr(expr, &flen, &op, &value) != 0)
    return cairn__error(err, CAIRN_EINVAL,
                        "\"%.80s\" is not FIELD=V, FIELD!=V, FIELD<V, <=, >, >=, FIELD~TEXT "
                        "or FIELD=in:A,B", expr != NULL ? expr : "");
  if ((v = realloc(q->conds, (q->nconds + 1) * sizeof *v)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  q->conds = v;
  c = &v[q->nconds];
  memset(c, 0, sizeof *c);
  c->op = op;
  if ((rc = resolve(q, expr, flen, &c->fld, err)) != 0 || (rc = cond_check(q, c, value, err)) != 0)
    goto fail;
  c->empty = value[0] == 0;
  c->typed = kind_of(&c->fld) != 0 && op != OP_CONTAINS;
  if (op == OP_CONTAINS) {
    if ((c->folded = strdup(value)) == NULL) {
      rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
      goto fail;
    }
    fold(c->folded, strlen(c->folded));
  } else if (!c->empty && (rc = cond_values(q, c, value, err)) != 0) {
    goto fail;
  } else if (!c->typed && !c->empty && op != OP_IN &&
             (rc = pack_number(value, &c->num, &c->num_len)) != 0) {
    goto fail;
  }
  q->nconds++;
  return 0;
fail:
  cond_free(c);
  return rc;
}

int cairn_query_search(cairn_query_t *q, const char *text, cairn_error_t *err) {
  cond_t *v;
  if (text == NULL || text[0] == 0)
    return cairn__error(err, CAIRN_EINVAL, "a search needs some text to look for");
  if ((v = realloc(q->conds, (q->nconds + 1) * sizeof *v)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  q->conds = v;
  memset(&v[q->nconds], 0, sizeof *v);
  v[q->nconds].op = OP_CONTAINS;
  v[q->nconds].any = 1;
  if ((v[q->nconds].folded = strdup(text)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  fold(v[q->nconds].folded, strlen(text));
  q->nconds++;
  return 0;
}

/* Split a comma-separated list of names, each given to add. */
typedef int (*name_fn)(cairn_query_t *q, const char *name, size_t n, cairn_error_t *err);

static int each_name(cairn_query_t *q, const char *list, name_fn add, cairn_error_t *err) {
  int rc = 0;
  if (list == NULL || list[0] == 0)
    return cairn__error(err, CAIRN_EINVAL, "a list of field names is needed");
  for (const char *p = list; rc == 0; p++) {
    size_t n = strcspn(p, ",");
    while (n > 0 && *p == ' ')
      p++, n--;
    while (n > 0 && p[n - 1] == ' ')
      n--;
    rc = add(q, p, n, err);
    p += strcspn(p, ",");
    if (*p == 0)
      break;
  }
  return rc;
}

static int add_sort(cairn_query_t *q, const char *name, size_t n, cairn_error_t *err) {
  sortkey_t *v = realloc(q->sorts, (q->nsorts + 1) * sizeof *v);
  int desc = n > 0 && name[0] == '-', rc;
  if (v == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  q->sorts = v;
  if ((rc = resolve(q, name + desc, n - (size_t)desc, &v[q->nsorts].fld, err)) != 0)
    return rc;
  v[q->nsorts++].desc = desc;
  return 0;
}

int cairn_query_sort(cairn_query_t *q, const char *spec, cairn_error_t *err) {
  return each_name(q, spec, add_sort, err);
}

static int add_field(cairn_query_t *q, const char *name, size_t n, cairn_error_t *err) {
  qfield_t *v = realloc(q->fields, (q->nfields + 1) * sizeof *v);
  int rc;
  if (v == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  q->fields = v;
  if ((rc = resolve(q, name, n, &v[q->nfields], err)) != 0)
    return rc;
  q->nfields++;
  return 0;
}

int cairn_query_fields(cairn_query_t *q, const char *list, cairn_error_t *err) {
  return each_name(q, list, add_field, err);
}

void cairn_query_limit(cairn_query_t *q, size_t n) {
  q->limit = n;
}

void cairn_query_deleted(cairn_query_t *q, int with_deleted) {
  q->deleted = with_deleted != 0;
}

void cairn_query_use_index(cairn_query_t *q, int use) {
  q->no_index = !use;
}

int cairn_query_used_index(const cairn_query_t *q) {
  return q->used_index;
}

size_t cairn_query_nfields(const cairn_query_t *q) {
  return q->nfields;
}

const char *cairn_query_field_name(const cairn_query_t *q, size_t i) {
  return i < q->nfields ? q->fields[i].name : NULL;
}

int cairn_query_value(const cairn_query_t *q, const cairn_record_t *r, size_t i,
                      uint8_t idbuf[CAIRN_QUERY_IDBUF], cairn_record_field_t *out) {
  return i < q->nfields && value_of(&q->fields[i], r, idbuf, out);
}

/* ---- records as JSON ---- */

/* Add a field; on failure, drop "_id" to say so and stop. */
static int object_field(const cairn_record_field_t *f, void *ud) {
  json_t *o = ud;
  if (cairn__json_set_value(o, f->name, f->name_len, f->value, f->value_len) == 0)
    return 0;
  json_object_del(o, "_id");
  return 1;
}

json_t *cairn_record_object(const cairn_schema_t *sc, const cairn_query_t *q,
                            const cairn_record_t *r) {
  uint8_t idbuf[CAIRN_QUERY_IDBUF];
  cairn_record_field_t f;
  json_t *o = json_object();
  if (o == NULL || json_object_set_new(o, "_type", cairn__name_json(r->type, r->type_len)) ||
      json_object_set_new(o, "_id", cairn__name_json(r->id, r->id_len)))
    goto fail;
  if (q != NULL && q->nfields > 0) {
    for (size_t i = 0; i < q->nfields; i++)
      if (cairn_query_value(q, r, i, idbuf, &f) &&
          cairn__json_set_value(o, f.name, f.name_len, f.value, f.value_len) != 0)
        goto fail;
  } else {
    cairn_schema_fields(sc, r, object_field, o);
    if (json_object_get(o, "_id") == NULL) /* a field failed */
      goto fail;
  }
  if (r->deleted && json_object_set_new(o, "_deleted", json_true()) != 0)
    goto fail;
  return o;
fail:
  json_decref(o);
  return NULL;
}

/* ---- matching ---- */

/* Whether folded text holds needle (both folded). */
static int holds_text(const char *s, size_t n, const char *needle) {
  size_t m = strlen(needle);
  char small[256], *buf = n <= sizeof small ? small : malloc(n);
  int found = 0;
  if (buf == NULL)
    return 0;
  memcpy(buf, s, n);
  fold(buf, n);
  for (size_t i = 0; !found && i + m <= n; i++)
    found = memcmp(buf + i, needle, m) == 0;
  if (buf != small)
    free(buf);
  return found;
}

/* ~: the value's text holds needle (folded), in any case: a string itself, a
 * list any of its strings, anything else its JSON text. */
static int contains(const char *needle, const uint8_t *mp, size_t len) {
  cairn_mpr_t m;
  const char *s;
  uint32_t n, count;
  char *json;
  int found = 0;
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_str(&m, &s, &n) == 0)
    return holds_text(s, n, needle);
  if (cairn_mpr_array(&m, &count) == 0) {
    for (uint32_t i = 0; !found && i < count; i++) {
      if (cairn_mpr_str(&m, &s, &n) == 0)
        found = holds_text(s, n, needle);
      else if (cairn_mpr_skip(&m, CAIRN_MP_MAX_DEPTH) != 0)
        break;
    }
    if (found)
      return 1;
  }
  if (cairn_value_json(mp, len, &json) != 0)
    return 0;
  found = holds_text(json, strlen(json), needle);
  free(json);
  return found;
}

/* A list of references holds the id val. */
static int refs_hold(const uint8_t *mp, size_t len, const uint8_t *val, size_t vlen) {
  cairn_mpr_t m, v;
  const char *s, *id;
  uint32_t count, n, idn;
  cairn_mpr_init(&v, val, vlen);
  cairn_mpr_init(&m, mp, len);
  if (cairn_mpr_str(&v, &id, &idn) != 0 || cairn_mpr_array(&m, &count) != 0)
    return 0;
  for (uint32_t i = 0; i < count; i++) {
    if (cairn_mpr_str(&m, &s, &n) == 0 && n == idn && memcmp(s, id, n) == 0)
      return 1;
    if (cairn_mpr_left(&m) == 0)
      break;
  }
  return 0;
}

/* Free-form order: numbers as numbers when both are, else text as text. */
static int free_compare(const cond_t *c, const uint8_t *mp, size_t len, int *order) {
  return (c->num != NULL &&
          cairn_value_compare(CAIRN_KIND_NUMBER, mp, len, c->num, c->num_len, order)) ||
         cairn_value_compare(CAIRN_KIND_TEXT, mp, len, c->vals[0], c->lens[0], order);
}

static int equal_one(const cond_t *c, size_t i, const uint8_t *mp, size_t len) {
  int order;
  cairn_kind_t k = kind_of(&c->fld);
  if (!c->typed)
    return cairn_value_matches(mp, len, c->texts[i]);
  if (k == CAIRN_KIND_REFS)
    return refs_hold(mp, len, c->vals[i], c->lens[i]);
  return cairn_value_compare(k, mp, len, c->vals[i], c->lens[i], &order) && order == 0;
}

static int equal_any(const cond_t *c, const uint8_t *mp, size_t len) {
  for (size_t i = 0; i < c->n; i++)
    if (equal_one(c, i, mp, len))
      return 1;
  return 0;
}

/* A search: some field of r, as people see it, holds the text. */
typedef struct search {
  const char *needle;
  int found;
} search_t;

static int search_one(const cairn_record_field_t *f, void *ud) {
  search_t *s = ud;
  s->found = contains(s->needle, f->value, f->value_len);
  return s->found;
}

static int cond_match(const cairn_query_t *q, const cond_t *c, const cairn_record_t *r) {
  uint8_t idbuf[CAIRN_QUERY_IDBUF];
  cairn_record_field_t f;
  search_t any = {c->folded, 0};
  if (c->any) {
    cairn_schema_fields(q->sc, r, search_one, &any);
    return any.found;
  }
  int found = value_of(&c->fld, r, idbuf, &f), order, ok;
  if (c->empty)
    return c->op == OP_EQ ? !found : found;
  if (!found)
    return c->op == OP_NE;
  switch (c->op) {
  case OP_CONTAINS: return contains(c->folded, f.value, f.value_len);
  case OP_EQ:
  case OP_IN: return equal_any(c, f.value, f.value_len);
  case OP_NE: return !equal_any(c, f.value, f.value_len);
  default: break;
  }
  ok = c->typed ? cairn_value_compare(kind_of(&c->fld), f.value, f.value_len, c->vals[0],
                                      c->lens[0], &order)
                : free_compare(c, f.value, f.value_len, &order);
  if (!ok)
    return 0;
  return c->op == OP_LT ? order < 0 : c->op == OP_LE ? order <= 0 : c->op == OP_GT ? order > 0
                                                                                  : order >= 0;
}

static int matches(const cairn_query_t *q, const cairn_record_t *r) {
  for (size_t i = 0; i < q->nconds; i++)
    if (!cond_match(q, &q->conds[i], r))
      return 0;
  return 1;
}

/* ---- sorting ---- */

/* Free-form classes: numbers, then strings, then anything else. */
static int free_class(const uint8_t *mp, size_t len) {
  int o;
  if (cairn_value_compare(CAIRN_KIND_NUMBER, mp, len, mp, len, &o))
    return 0;
  return cairn_value_compare(CAIRN_KIND_TEXT, mp, len, mp, len, &o) ? 1 : 2;
}

static int bytes_cmp(const void *a, size_t an, const void *b, size_t bn) {
  int c = memcmp(a, b, an < bn ? an : bn);
  return c != 0 ? c : (an > bn) - (an < bn);
}

/* Two present values of a sort field: in the kind's order, those not of the
 * kind after those that are; free-form by class, then within it. */
static int value_cmp(cairn_kind_t k, const cairn_record_field_t *a, const cairn_record_field_t *b) {
  int order, ca, cb;
  if (k != 0) {
    if (cairn_value_compare(k, a->value, a->value_len, b->value, b->value_len, &order))
      return order;
    ca = !cairn_value_compare(k, a->value, a->value_len, a->value, a->value_len, &order);
    cb = !cairn_value_compare(k, b->value, b->value_len, b->value, b->value_len, &order);
  } else {
    ca = free_class(a->value, a->value_len);
    cb = free_class(b->value, b->value_len);
    if (ca == cb && ca < 2)
      return cairn_value_compare(ca == 0 ? CAIRN_KIND_NUMBER : CAIRN_KIND_TEXT, a->value,
                                 a->value_len, b->value, b->value_len, &order)
                 ? order
                 : 0;
  }
  if (ca != cb)
    return ca < cb ? -1 : 1;
  return bytes_cmp(a->value, a->value_len, b->value, b->value_len);
}

static int record_cmp(const cairn_query_t *q, const cairn_record_t *a, const cairn_record_t *b) {
  uint8_t ia[CAIRN_QUERY_IDBUF], ib[CAIRN_QUERY_IDBUF];
  cairn_record_field_t fa, fb;
  for (size_t i = 0; i < q->nsorts; i++) {
    const sortkey_t *k = &q->sorts[i];
    int ha = value_of(&k->fld, a, ia, &fa), hb = value_of(&k->fld, b, ib, &fb);
    if (!ha || !hb) {
      if (ha != hb)
        return ha ? -1 : 1; /* records without the field last, either way */
      continue;
    }
    int c = value_cmp(kind_of(&k->fld), &fa, &fb);
    if (c != 0)
      return k->desc ? -c : c;
  }
  return bytes_cmp(a->id, a->id_len, b->id, b->id_len);
}

/* A record copied out of the transaction: offsets into the arena until the
 * arena stops growing. */
typedef struct held {
  cairn_record_t r;
  size_t at;
} held_t;

typedef struct run {
  cairn_query_t *q;
  cairn_record_cb cb;
  void *ud;
  int collect;
  held_t *h;
  size_t n, cap;
  uint8_t *arena;
  size_t used, arena_cap;
  size_t emitted;
  int rc;
} run_t;

static int hold(run_t *u, const cairn_record_t *r) {
  size_t need = r->type_len + r->id_len + r->fields_len;
  if (u->n == u->cap) {
    size_t cap = u->cap ? u->cap * 2 : 256;
    held_t *h = realloc(u->h, cap * sizeof *h);
    if (h == NULL)
      return CAIRN_ENOMEM;
    u->h = h;
    u->cap = cap;
  }
  if (u->arena_cap - u->used < need) {
    size_t cap = u->arena_cap ? u->arena_cap : 65536;
    while (cap - u->used < need)
      cap *= 2;
    uint8_t *a = realloc(u->arena, cap);
    if (a == NULL)
      return CAIRN_ENOMEM;
    u->arena = a;
    u->arena_cap = cap;
  }
  uint8_t *p = u->arena + u->used;
  memcpy(p, r->type, r->type_len);
  memcpy(p + r->type_len, r->id, r->id_len);
  memcpy(p + r->type_len + r->id_len, r->fields, r->fields_len);
  u->h[u->n].r = *r;
  u->h[u->n++].at = u->used;
  u->used += need;
  return 0;
}

/* Point each held record into the arena, now that it stays put. */
static void held_fix(run_t *u) {
  for (size_t i = 0; i < u->n; i++) {
    cairn_record_t *r = &u->h[i].r;
    uint8_t *p = u->arena + u->h[i].at;
    r->type = (const char *)p;
    r->id = (const char *)p + r->type_len;
    r->fields = p + r->type_len + r->id_len;
  }
}

static void merge_sort(const cairn_query_t *q, held_t *v, held_t *tmp, size_t n) {
  if (n < 2)
    return;
  size_t h = n / 2, i = 0, j = h, k = 0;
  merge_sort(q, v, tmp, h);
  merge_sort(q, v + h, tmp, n - h);
  while (i < h && j < n)
    tmp[k++] = record_cmp(q, &v[j].r, &v[i].r) < 0 ? v[j++] : v[i++];
  while (i < h)
    tmp[k++] = v[i++];
  while (j < n)
    tmp[k++] = v[j++];
  memcpy(v, tmp, n * sizeof *v);
}

static int on_record(const cairn_record_t *r, void *ud) {
  run_t *u = ud;
  if (!matches(u->q, r))
    return 0;
  if (u->collect)
    return (u->rc = hold(u, r)) != 0;
  if (u->cb(r, u->ud) != 0)
    return 1;
  return u->q->limit != 0 && ++u->emitted >= u->q->limit;
}

/* ---- planning ---- */

/* The schema field of t named name exactly, with no former names, of kind k
 * (0: any string kind), or NULL. */
static const cairn_schema_field_t *plain_field(const cairn_schema_type_t *t, const char *name,
                                               cairn_kind_t k) {
  const cairn_schema_field_t *f = cairn_schema_field(t, name);
  if (f == NULL || f->hidden || f->naliases > 0 || strcmp(f->name, name) != 0)
    return NULL;
  if (k != 0)
    return f->kind == k ? f : NULL;
  return f->kind == CAIRN_KIND_REF || f->kind == CAIRN_KIND_TEXT || f->kind == CAIRN_KIND_ENUM
             ? f
             : NULL;
}

/* The tightest bounds the conditions on f give (text of the bound's value). */
static void bounds(const cairn_query_t *q, const cairn_schema_field_t *f, const char **from,
                   const char **to) {
  const cond_t *lo = NULL, *hi = NULL;
  int order;
  for (size_t i = 0; i < q->nconds; i++) {
    const cond_t *c = &q->conds[i];
    if (c->fld.f != f || !c->typed || c->empty || c->op == OP_NE || c->op == OP_IN ||
        c->op == OP_CONTAINS)
      continue;
    if (c->op != OP_LT && c->op != OP_LE &&
        (lo == NULL || (cairn_value_compare(f->kind, c->vals[0], c->lens[0], lo->vals[0],
                                            lo->lens[0], &order) && order > 0)))
      lo = c;
    if (c->op != OP_GT && c->op != OP_GE &&
        (hi == NULL || (cairn_value_compare(f->kind, c->vals[0], c->lens[0], hi->vals[0],
                                            hi->lens[0], &order) && order < 0)))
      hi = c;
  }
  *from = lo != NULL ? lo->texts[0] : NULL;
  *to = hi != NULL ? hi->texts[0] : NULL;
}

/* An index that an `=` on its leading field allows: 1 with what to walk. */
static int plan(const cairn_query_t *q, const cairn_index_def_t **d, const char **lead,
                const char **from, const char **to) {
  if (q->no_index || q->deleted || q->t == NULL)
    return 0;
  const cairn_index_def_t *def;
  for (int ix = CAIRN_INDEX_VALUE_INDICATOR; (def = cairn_index_def((cairn_index_t)ix)) != NULL;
       ix++) {
    const cairn_schema_field_t *lf, *sf;
    if (strcmp(def->type, q->type) != 0 || (lf = plain_field(q->t, def->lead, 0)) == NULL)
      continue;
    for (size_t i = 0; i < q->nconds; i++) {
      const cond_t *c = &q->conds[i];
      size_t n = c->n == 1 ? strlen(c->texts[0]) : 0;
      if (c->fld.f != lf || c->op != OP_EQ || !c->typed || n == 0 || n > CAIRN_ID_MAX)
        continue;
      *d = def;
      *lead = c->texts[0];
      *from = *to = NULL;
      if ((sf = plain_field(q->t, def->second, def->second_kind)) != NULL)
        bounds(q, sf, from, to);
      return 1;
    }
  }
  return 0;
}

int cairn_query_run(cairn_query_t *q, cairn_record_cb cb, void *ud) {
  run_t u;
  const cairn_index_def_t *d;
  const char *lead, *from, *to;
  held_t *tmp = NULL;
  int rc;
  memset(&u, 0, sizeof u);
  u.q = q;
  u.cb = cb;
  u.ud = ud;
  q->used_index = plan(q, &d, &lead, &from, &to);
  u.collect = q->nsorts > 0 || q->used_index;
  rc = q->used_index ? cairn_index_walk(q->s, d->ix, lead, from, to, on_record, &u)
                     : cairn_records_walk(q->s, q->type, q->deleted, on_record, &u);
  if (rc == 0)
    rc = u.rc;
  if (rc == 0 && u.n > 1 && (tmp = malloc(u.n * sizeof *tmp)) == NULL)
    rc = CAIRN_ENOMEM;
  if (rc == 0 && u.collect) {
    held_fix(&u);
    if (u.n > 1)
      merge_sort(q, u.h, tmp, u.n);
    for (size_t i = 0; i < u.n && (q->limit == 0 || i < q->limit); i++)
      if (cb(&u.h[i].r, ud) != 0)
        break;
  }
  free(tmp);
  free(u.h);
  free(u.arena);
  return rc;
}

/* ---- types ---- */

typedef struct counting {
  cairn_type_count_t *v;
  size_t n, cap;
  int rc;
} counting_t;

static cairn_type_count_t *count_add(counting_t *c, const char *type, size_t n) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    cairn_type_count_t *v = realloc(c->v, cap * sizeof *v);
    if (v == NULL)
      return NULL;
    c->v = v;
    c->cap = cap;
  }
  cairn_type_count_t *t = &c->v[c->n];
  memset(t, 0, sizeof *t);
  if ((t->type = strndup(type, n)) == NULL)
    return NULL;
  c->n++;
  return t;
}

static int count_one(const cairn_record_t *r, void *ud) {
  counting_t *c = ud;
  cairn_type_count_t *last = c->n > 0 ? &c->v[c->n - 1] : NULL;
  if (r->type_len > 0 && r->type[0] == '_')
    return 0;
  if (last == NULL || strlen(last->type) != r->type_len ||
      memcmp(last->type, r->type, r->type_len) != 0)
    last = count_add(c, r->type, r->type_len);
  if (last == NULL)
    return (c->rc = CAIRN_ENOMEM) != 0;
  last->count++;
  return 0;
}

void cairn_types_free(cairn_type_count_t *v, size_t n) {
  for (size_t i = 0; v != NULL && i < n; i++) {
    free(v[i].type);
    free(v[i].label);
  }
  free(v);
}

/* The store's types (counted) ordered as the schema orders them, then the rest by
 * name; schema types without records included unless hidden. */
static int types_order(const cairn_schema_t *sc, counting_t *found, counting_t *out) {
  for (size_t i = 0; sc != NULL && i < sc->ntypes; i++) {
    const cairn_schema_type_t *t = &sc->types[i];
    uint64_t count = 0;
    for (size_t j = 0; j < found->n; j++)
      if (found->v[j].type != NULL && strcmp(found->v[j].type, t->name) == 0) {
        count = found->v[j].count;
        free(found->v[j].type);
        found->v[j].type = NULL;
      }
    if (t->hidden && count == 0)
      continue;
    cairn_type_count_t *o = count_add(out, t->name, strlen(t->name));
    if (o == NULL || (o->label = strdup(t->label)) == NULL)
      return CAIRN_ENOMEM;
    o->count = count;
    o->in_schema = 1;
  }
  for (size_t j = 0; j < found->n; j++) {
    if (found->v[j].type == NULL)
      continue;
    cairn_type_count_t *o = count_add(out, found->v[j].type, strlen(found->v[j].type));
    if (o == NULL || (o->label = strdup("")) == NULL)
      return CAIRN_ENOMEM;
    o->count = found->v[j].count;
  }
  return 0;
}

int cairn_types(cairn_store_t *s, const cairn_schema_t *sc, cairn_type_count_t **out,
                size_t *n) {
  counting_t found = {NULL, 0, 0, 0}, all = {NULL, 0, 0, 0};
  int rc = cairn_records_walk(s, NULL, 0, count_one, &found);
  *out = NULL;
  *n = 0;
  if (rc == 0)
    rc = found.rc;
  if (rc == 0)
    rc = types_order(sc, &found, &all);
  cairn_types_free(found.v, found.n);
  if (rc != 0) {
    cairn_types_free(all.v, all.n);
    return rc;
  }
  *out = all.v;
  *n = all.n;
  return 0;
}
