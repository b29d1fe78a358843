/*
 * schema_doc.c — schema documents (JSON) in and out of a network: the default
 * collective-impact schema, `cairn schema apply FILE.json` as one signed entry
 * of `_schema` puts, and the schema printed back as the same document
 * (cairn.h; docs/design.md, "Schema"; the document's form is in docs/cli.md).
 *
 * Applying is additive: types and fields the document does not name are left
 * as they are; an attribute it does not give is left as it is. A field's kind
 * and ref never change; enum values may be added, never removed; a field is
 * renamed with "renamed_from" (the new name keeps the old one as an alias and
 * the old field is hidden) and removed with "hidden": true. Data is never erased.
 */
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

extern const char cairn__schema_default_json[];

const char *cairn_schema_default(void) {
  return cairn__schema_default_json;
}

/* ---- checking a document ---- */

static int doc_error(cairn_error_t *err, const char *path, const char *fmt, const char *a,
                     const char *b) {
  char what[300];
  snprintf(what, sizeof what, fmt, a ? a : "", b ? b : "");
  return cairn__error(err, CAIRN_ESCHEMA, "schema document, %s: %s", path, what);
}

static int key_known(const char *key, const char *const *keys, const char *path,
                     cairn_error_t *err) {
  size_t n = 0;
  for (; keys[n]; n++)
    if (strcmp(keys[n], key) == 0)
      return 0;
  const char *near = cairn_suggest(key, keys, n);
  if (near != NULL)
    return doc_error(err, path, "no key \"%s\"; did you mean %s?", key, near);
  return doc_error(err, path, "no key \"%s\"", key, NULL);
}

static int name_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n > 64 || s[0] < 'a' || s[0] > 'z')
    return 0;
  for (size_t i = 1; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
          s[i] == '-'))
      return 0;
  return 1;
}

/* Each key of o has the JSON type its name asks for. */
static int check_values(json_t *o, const char *path, cairn_error_t *err) {
  static const char *const strs[] = {"name", "label", "help", "unit", "kind", "ref",
                                     "renamed_from", NULL};
  static const char *const bools[] = {"required", "hidden", NULL};
  const char *key;
  json_t *v;
  json_object_foreach(o, key, v) {
    for (size_t i = 0; strs[i]; i++)
      if (strcmp(key, strs[i]) == 0 && !json_is_string(v))
        return doc_error(err, path, "%s must be a string", key, NULL);
    for (size_t i = 0; bools[i]; i++)
      if (strcmp(key, bools[i]) == 0 && !json_is_boolean(v))
        return doc_error(err, path, "%s must be true or false", key, NULL);
    if ((strcmp(key, "values") == 0 || strcmp(key, "aliases") == 0) && !json_is_array(v))
      return doc_error(err, path, "%s must be a list of strings", key, NULL);
  }
  json_t *name = json_object_get(o, "name");
  if (name == NULL || !name_ok(json_string_value(name)))
    return doc_error(err, path, "name must be a lowercase letter then lowercase letters, "
                     "digits, '_' or '-' (at most 64)%s%s", "", "");
  return 0;
}

static int check_field(json_t *f, const char *path, cairn_error_t *err) {
  static const char *const keys[] = {"name", "kind", "required", "label", "help", "unit",
                                     "ref", "values", "aliases", "hidden", "renamed_from",
                                     NULL};
  const char *key, *kind;
  json_t *v;
  cairn_kind_t k;
  size_t i;
  if (!json_is_object(f))
    return doc_error(err, path, "a field must be an object", NULL, NULL);
  json_object_foreach(f, key, v) {
    int rc = key_known(key, keys, path, err);
    if (rc != 0)
      return rc;
  }
  int rc = check_values(f, path, err);
  if (rc != 0)
    return rc;
  if ((kind = json_string_value(json_object_get(f, "kind"))) != NULL &&
      !cairn_kind_parse(kind, strlen(kind), &k)) {
    static const char *const kinds[] = {"text", "number", "integer", "bool", "date",
                                        "datetime", "period", "enum", "ref", "refs", "json"};
    const char *near = cairn_suggest(kind, kinds, 11);
    if (near != NULL)
      return cairn__error(err, CAIRN_ESCHEMA,
                          "schema document, %s: kind \"%s\" is not a kind; did you mean %s?",
                          path, kind, near);
    return cairn__error(err, CAIRN_ESCHEMA,
                        "schema document, %s: kind \"%s\" is not a kind (text, number, integer, "
                        "bool, date, datetime, period, enum, ref, refs, json)", path, kind);
  }
  json_array_foreach(json_object_get(f, "values"), i, v) {
    if (!json_is_string(v))
      return doc_error(err, path, "values must be a list of strings", NULL, NULL);
  }
  return 0;
}

static int check_doc(json_t *doc, cairn_error_t *err) {
  static const char *const type_keys[] = {"name", "label", "help", "hidden", "fields", NULL};
  json_t *types = json_object_get(doc, "types"), *t, *f, *v;
  char path[160];
  const char *key;
  size_t i, j;
  int rc;
  if (!json_is_object(doc) || !json_is_array(types))
    return cairn__error(err, CAIRN_ESCHEMA,
                        "a schema document is an object {\"types\": [...]}: see docs/cli.md");
  json_array_foreach(types, i, t) {
    snprintf(path, sizeof path, "types[%zu]", i);
    if (!json_is_object(t))
      return doc_error(err, path, "a type must be an object", NULL, NULL);
    json_object_foreach(t, key, v) {
      if ((rc = key_known(key, type_keys, path, err)) != 0)
        return rc;
    }
    if ((rc = check_values(t, path, err)) != 0)
      return rc;
    json_t *fields = json_object_get(t, "fields");
    if (fields != NULL && !json_is_array(fields))
      return doc_error(err, path, "fields must be a list", NULL, NULL);
    json_array_foreach(fields, j, f) {
      snprintf(path, sizeof path, "types[%zu] (%s), fields[%zu]", i,
               json_string_value(json_object_get(t, "name")), j);
      if ((rc = check_field(f, path, err)) != 0)
        return rc;
    }
  }
  return 0;
}

/* ---- applying a document ---- */

typedef struct apply {
  cairn_change_t *c;
  const cairn_schema_t *sc;
  json_t *doc;
  cairn_schema_changes_t *out;
  cairn_error_t *err;
  int64_t next_type_order;
} apply_t;

static int put_json(apply_t *a, const char *id, const char *attr, json_t *v) {
  uint8_t *mp;
  size_t len;
  if (a->c == NULL)
    return 0; /* checking only */
  int rc = cairn_value_from_json(v, &mp, &len, a->err);
  if (rc != 0)
    return rc;
  rc = cairn_change_put(a->c, CAIRN_SCHEMA_TYPE, id, attr, mp, len, 0);
  cairn_free(mp);
  return rc;
}

static int put_new(apply_t *a, const char *id, const char *attr, json_t *v) {
  int rc = v != NULL ? put_json(a, id, attr, v) : CAIRN_ENOMEM;
  json_decref(v);
  return rc;
}

/* Whether a string or bool attribute of the document differs from cur. */
static int differs_str(json_t *v, const char *cur) {
  return v != NULL && strcmp(json_string_value(v), cur) != 0;
}

static int differs_bool(json_t *v, int cur) {
  return v != NULL && json_is_true(v) != (cur != 0);
}

/* Write each attribute the document gives that differs from the current one
 * (cur NULL: a new type or field, every attribute given). */
static int put_attrs(apply_t *a, const char *id, json_t *o, const char *const *strs,
                     const char *const *cur_strs, const int *cur_bools, int *changed) {
  static const char *const bools[] = {"required", "hidden"};
  int rc;
  for (size_t i = 0; strs[i]; i++) {
    json_t *v = json_object_get(o, strs[i]);
    if (v != NULL && (cur_strs == NULL || differs_str(v, cur_strs[i]))) {
      if ((rc = put_json(a, id, strs[i], v)) != 0)
        return rc;
      *changed = 1;
    }
  }
  for (size_t i = 0; i < 2; i++) {
    json_t *v = json_object_get(o, bools[i]);
    if (v != NULL && (cur_bools == NULL ? json_is_true(v) : differs_bool(v, cur_bools[i]))) {
      if ((rc = put_json(a, id, bools[i], v)) != 0)
        return rc;
      *changed = 1;
    }
  }
  return 0;
}

/* Whether the type named exists in the document or the current schema. */
static int type_known(apply_t *a, const char *name) {
  size_t i;
  json_t *t;
  if (cairn_schema_type(a->sc, name) != NULL)
    return 1;
  json_array_foreach(json_object_get(a->doc, "types"), i, t) {
    if (strcmp(json_string_value(json_object_get(t, "name")), name) == 0)
      return 1;
  }
  return 0;
}

/* The enum values of the document keep every current one. */
static int values_keep(const cairn_schema_field_t *f, json_t *values, const char **lost) {
  for (size_t i = 0; i < f->nvalues; i++) {
    size_t j;
    json_t *v;
    int found = 0;
    json_array_foreach(values, j, v) {
      found |= strcmp(json_string_value(v), f->values[i]) == 0;
    }
    if (!found) {
      *lost = f->values[i];
      return 0;
    }
  }
  return 1;
}

static int values_differ(const cairn_schema_field_t *f, json_t *values) {
  return values != NULL && json_array_size(values) != f->nvalues;
}

static int check_kind_ref(apply_t *a, const char *tname, json_t *f, cairn_kind_t kind,
                          const char *ref) {
  const char *name = json_string_value(json_object_get(f, "name"));
  if (kind == CAIRN_KIND_ENUM && json_array_size(json_object_get(f, "values")) == 0)
    return cairn__error(a->err, CAIRN_ESCHEMA, "%s.%s: an enum field needs its \"values\"",
                        tname, name);
  if ((kind == CAIRN_KIND_REF || kind == CAIRN_KIND_REFS) && (ref == NULL || !type_known(a, ref)))
    return cairn__error(a->err, CAIRN_ESCHEMA,
                        "%s.%s: a %s field needs \"ref\", the type it refers to%s%s%s", tname,
                        name, cairn_kind_name(kind), ref ? " (no type " : "", ref ? ref : "",
                        ref ? " here)" : "");
  return 0;
}

static const char *const field_strs[] = {"label", "help", "unit", NULL};

static int field_new(apply_t *a, const char *tname, const char *id, json_t *f, int64_t order) {
  const char *kname = json_string_value(json_object_get(f, "kind"));
  const char *ref = json_string_value(json_object_get(f, "ref"));
  cairn_kind_t kind;
  int changed = 0, rc;
  if (kname == NULL)
    return cairn__error(a->err, CAIRN_ESCHEMA, "%s: a new field needs its \"kind\"", id);
  (void)cairn_kind_parse(kname, strlen(kname), &kind);
  if ((rc = check_kind_ref(a, tname, f, kind, ref)) != 0 ||
      (rc = put_json(a, id, "kind", json_object_get(f, "kind"))) != 0 ||
      (ref != NULL && (rc = put_json(a, id, "ref", json_object_get(f, "ref"))) != 0) ||
      (json_object_get(f, "values") &&
       (rc = put_json(a, id, "values", json_object_get(f, "values"))) != 0) ||
      (rc = put_new(a, id, "order", json_integer(order))) != 0)
    return rc;
  a->out->fields_added++;
  return put_attrs(a, id, f, field_strs, NULL, NULL, &changed);
}

/* A field renamed: the new one takes the old one's kind, ref and values and
 * keeps its name as an alias; the old one is hidden. */
static int field_rename(apply_t *a, const cairn_schema_type_t *t, const char *id, json_t *f,
                        const char *from) {
  const cairn_schema_field_t *old = NULL;
  const char *kname = json_string_value(json_object_get(f, "kind"));
  char oid[160];
  int changed = 0, rc;
  for (size_t i = 0; t != NULL && i < t->nfields; i++)
    if (strcmp(t->fields[i].name, from) == 0 && !t->fields[i].hidden)
      old = &t->fields[i];
  if (old == NULL)
    return cairn__error(a->err, CAIRN_ESCHEMA, "%s: renamed_from names no field %s", id, from);
  if (kname != NULL && strcmp(kname, cairn_kind_name(old->kind)) != 0)
    return cairn__error(a->err, CAIRN_ESCHEMA, "%s: a renamed field keeps its kind (%s)", id,
                        cairn_kind_name(old->kind));
  json_t *aliases = json_array(), *values = json_array();
  if (aliases == NULL || values == NULL) {
    json_decref(aliases);
    json_decref(values);
    return CAIRN_ENOMEM;
  }
  for (size_t i = 0; i < old->naliases; i++)
    json_array_append_new(aliases, json_string(old->aliases[i]));
  json_array_append_new(aliases, json_string(from));
  for (size_t i = 0; i < old->nvalues; i++)
    json_array_append_new(values, json_string(old->values[i]));
  snprintf(oid, sizeof oid, "%s.%s", t->name, from);
  rc = put_new(a, id, "kind", json_string(cairn_kind_name(old->kind)));
  if (rc == 0 && old->ref[0])
    rc = put_new(a, id, "ref", json_string(old->ref));
  if (rc == 0 && old->nvalues)
    rc = put_json(a, id, "values", json_object_get(f, "values") ? json_object_get(f, "values")
                                                                 : values);
  if (rc == 0)
    rc = put_json(a, id, "aliases", aliases);
  if (rc == 0 && old->required)
    rc = put_new(a, id, "required", json_true());
  if (rc == 0 && (rc = put_new(a, id, "order", json_integer(old->order))) == 0)
    rc = put_new(a, oid, "hidden", json_true());
  json_decref(aliases);
  json_decref(values);
  if (rc == 0)
    rc = put_attrs(a, id, f, field_strs, NULL, NULL, &changed);
  a->out->renamed += rc == 0;
  return rc;
}

static int field_change(apply_t *a, const cairn_schema_type_t *t,
                        const cairn_schema_field_t *cur, const char *id, json_t *f) {
  const char *kname = json_string_value(json_object_get(f, "kind"));
  const char *ref = json_string_value(json_object_get(f, "ref"));
  json_t *values = json_object_get(f, "values");
  const char *cur_strs[] = {cur->label, cur->help, cur->unit};
  int cur_bools[] = {cur->required, cur->hidden}, changed = 0, rc;
  const char *lost;
  if (kname != NULL && strcmp(kname, cairn_kind_name(cur->kind)) != 0)
    return cairn__error(a->err, CAIRN_ESCHEMA,
                        "%s has kind %s, which cannot change to %s (add a new field, or "
                        "rename this one)", id, cairn_kind_name(cur->kind), kname);
  if (ref != NULL && strcmp(ref, cur->ref) != 0)
    return cairn__error(a->err, CAIRN_ESCHEMA, "%s refers to %s; that cannot change", id,
                        cur->ref);
  if (values != NULL && !values_keep(cur, values, &lost))
    return cairn__error(a->err, CAIRN_ESCHEMA,
                        "%s: value %s cannot be removed (records may hold it)", id, lost);
  if (values_differ(cur, values)) {
    if ((rc = put_json(a, id, "values", values)) != 0)
      return rc;
    changed = 1;
  }
  if ((rc = put_attrs(a, id, f, field_strs, cur_strs, cur_bools, &changed)) != 0)
    return rc;
  a->out->fields_changed += changed;
  a->out->hidden += differs_bool(json_object_get(f, "hidden"), cur->hidden) && cur_bools[1] == 0;
  (void)t;
  return 0;
}

static int apply_field(apply_t *a, const cairn_schema_type_t *t, const char *tname, json_t *f,
                       int64_t order) {
  const char *name = json_string_value(json_object_get(f, "name"));
  const char *from = json_string_value(json_object_get(f, "renamed_from"));
  const cairn_schema_field_t *cur = NULL;
  char id[160];
  snprintf(id, sizeof id, "%s.%s", tname, name);
  for (size_t i = 0; t != NULL && i < t->nfields; i++)
    if (strcmp(t->fields[i].name, name) == 0)
      cur = &t->fields[i];
  if (cur != NULL)
    return field_change(a, t, cur, id, f);
  if (from != NULL)
    return field_rename(a, t, id, f, from);
  return field_new(a, tname, id, f, order);
}

static int apply_type(apply_t *a, json_t *jt) {
  static const char *const type_strs[] = {"label", "help", NULL};
  const char *name = json_string_value(json_object_get(jt, "name"));
  const cairn_schema_type_t *t = cairn_schema_type(a->sc, name);
  json_t *f;
  size_t i;
  int changed = 0, rc;
  int64_t order = 0;
  if (t == NULL) {
    if ((rc = put_new(a, name, "order", json_integer(a->next_type_order++))) != 0 ||
        (rc = put_attrs(a, name, jt, type_strs, NULL, NULL, &changed)) != 0)
      return rc;
    a->out->types_added++;
  } else {
    const char *cur_strs[] = {t->label, t->help};
    int cur_bools[] = {0, t->hidden};
    if ((rc = put_attrs(a, name, jt, type_strs, cur_strs, cur_bools, &changed)) != 0)
      return rc;
    a->out->types_changed += changed;
    for (size_t k = 0; k < t->nfields; k++)
      if (t->fields[k].order != INT64_MAX && t->fields[k].order >= order)
        order = t->fields[k].order + 1;
  }
  json_array_foreach(json_object_get(jt, "fields"), i, f) {
    if ((rc = apply_field(a, t, name, f, order + (int64_t)i)) != 0)
      return rc;
  }
  return 0;
}

int cairn_schema_apply(cairn_store_t *s, const char *json, cairn_schema_changes_t *out,
                       cairn_error_t *err) {
  cairn_schema_changes_t local;
  json_error_t je;
  apply_t a = {NULL, NULL, NULL, out ? out : &local, err, 0};
  cairn_schema_t *sc = NULL;
  size_t i;
  json_t *t;
  int rc;
  memset(a.out, 0, sizeof *a.out);
  if ((a.doc = json_loads(json, JSON_REJECT_DUPLICATES, &je)) == NULL)
    return cairn__error(err, CAIRN_ESCHEMA, "the schema document is not JSON: %s (line %d)",
                        je.text, je.line);
  if ((rc = check_doc(a.doc, err)) != 0)
    goto done;
  if (s == NULL)
    sc = calloc(1, sizeof *sc); /* checking only, as for a free-form network */
  if (s == NULL && sc != NULL)
    sc->refs_ = 1;
  else if ((rc = cairn_schema_load(s, &sc)) != 0 || (rc = cairn_change_begin(s, &a.c)) != 0)
    goto done;
  if (sc == NULL) {
    rc = CAIRN_ENOMEM;
    goto done;
  }
  a.sc = sc;
  for (size_t k = 0; k < sc->ntypes; k++)
    if (sc->types[k].order != INT64_MAX && sc->types[k].order >= a.next_type_order)
      a.next_type_order = sc->types[k].order + 1;
  json_array_foreach(json_object_get(a.doc, "types"), i, t) {
    if ((rc = apply_type(&a, t)) != 0)
      goto done;
  }
  if (a.c == NULL || a.out->types_added + a.out->types_changed + a.out->fields_added +
                         a.out->fields_changed + a.out->renamed == 0)
    goto done; /* nothing to write */
  rc = cairn_change_commit(a.c, NULL, err);
  a.c = NULL;
done:
  cairn_change_abort(a.c);
  cairn_schema_free(sc);
  json_decref(a.doc);
  if (rc != 0 && rc != CAIRN_ESCHEMA && err != NULL && err->msg[0] == 0)
    cairn__error(err, rc, "cannot apply the schema: %s", cairn_strerror(rc));
  return rc;
}

/* ---- the schema as a document ---- */

static int set_str(json_t *o, const char *key, const char *v) {
  return v[0] ? json_object_set_new(o, key, json_string(v)) : 0;
}

static json_t *strs_json(char **v, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++)
    if (json_array_append_new(a, json_string(v[i])) != 0) {
      json_decref(a);
      return NULL;
    }
  return a;
}

static json_t *field_json(const cairn_schema_field_t *f) {
  json_t *o = json_object();
  int rc = o == NULL;
  rc |= json_object_set_new(o, "name", json_string(f->name));
  rc |= json_object_set_new(o, "kind", json_string(cairn_kind_name(f->kind)));
  if (f->required)
    rc |= json_object_set_new(o, "required", json_true());
  rc |= set_str(o, "label", f->label) | set_str(o, "help", f->help) |
        set_str(o, "unit", f->unit) | set_str(o, "ref", f->ref);
  if (f->nvalues)
    rc |= json_object_set_new(o, "values", strs_json(f->values, f->nvalues));
  if (f->naliases)
    rc |= json_object_set_new(o, "aliases", strs_json(f->aliases, f->naliases));
  if (f->hidden)
    rc |= json_object_set_new(o, "hidden", json_true());
  if (rc != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *type_json(const cairn_schema_type_t *t) {
  json_t *o = json_object(), *fields = json_array();
  int rc = o == NULL || fields == NULL;
  rc |= json_object_set_new(o, "name", json_string(t->name));
  rc |= set_str(o, "label", t->label) | set_str(o, "help", t->help);
  if (t->hidden)
    rc |= json_object_set_new(o, "hidden", json_true());
  for (size_t i = 0; rc == 0 && i < t->nfields; i++)
    rc |= json_array_append_new(fields, field_json(&t->fields[i]));
  rc |= json_object_set(o, "fields", fields);
  json_decref(fields);
  if (rc != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *cairn_schema_to_json(const cairn_schema_t *sc, const char *type) {
  json_t *doc = json_object(), *types = json_array();
  int rc = doc == NULL || types == NULL;
  for (size_t i = 0; rc == 0 && i < sc->ntypes; i++)
    if (type == NULL || strcmp(type, sc->types[i].name) == 0)
      rc |= json_array_append_new(types, type_json(&sc->types[i]));
  rc |= json_object_set(doc, "types", types);
  json_decref(types);
  if (rc != 0) {
    json_decref(doc);
    return NULL;
  }
  return doc;
}
