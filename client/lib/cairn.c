/*
 * cairn.c — the parts of libcairn's public API (client/cairn.h) that are not
 * the core's own functions: the library's start and version, JSON values in and
 * out (values a form sends typed by the field's kind), the clock's warning,
 * list filters, one record's conflicts. Sync lives in sync.c, invites in
 * join.c. Everything here is a thin layer over core's headers and values.h.
 */
#include "cairn.h"

#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "lib_internal.h"
#include "values.h"

int cairn_init(void) {
  return cairn_core_init();
}

const char *cairn_version(void) {
  return CAIRN_VERSION; /* the project's version, from the build */
}

void cairn_free(void *p) {
  free(p);
}

/* ---- values ---- */

/* One JSON value from text, as `cairn put` reads `field:=JSON`. */
static int parse_json(const char *json, json_t **out, cairn_error_t *err) {
  json_error_t je;
  *out = NULL;
  if (json == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no JSON text");
  *out = json_loads(json, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
  if (*out == NULL)
    return cairn__error(err, json_error_code(&je) == json_error_out_of_memory ? CAIRN_ENOMEM
                                                                               : CAIRN_EINVAL,
                        "invalid JSON at line %d column %d: %s", je.line, je.column, je.text);
  return 0;
}

int cairn_value_from_json_text(const char *json, uint8_t **out, size_t *out_len,
                               cairn_error_t *err) {
  json_t *j;
  int rc;
  *out = NULL;
  *out_len = 0;
  if ((rc = parse_json(json, &j, err)) != 0)
    return rc;
  rc = cairn_value_from_json(j, out, out_len, err);
  json_decref(j);
  return rc;
}

int cairn_value_json(const uint8_t *mp, size_t len, char **out) {
  json_t *j;
  int rc;
  if (out == NULL)
    return CAIRN_EINVAL;
  *out = NULL;
  if ((rc = cairn_value_to_json(mp, len, &j)) != 0)
    return rc;
  *out = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(j);
  return *out != NULL ? 0 : CAIRN_ENOMEM;
}

/* Put a JSON value (borrowed) as MessagePack. */
static int put_json_value(cairn_change_t *c, const char *type, const char *id, const char *field,
                          const json_t *j, int resolve, cairn_error_t *err) {
  uint8_t *mp;
  size_t len;
  int rc = cairn_value_from_json(j, &mp, &len, err);
  if (rc != 0)
    return rc;
  if ((rc = cairn_change_put(c, type, id, field, mp, len, resolve)) != 0)
    cairn__error(err, rc, "cannot set %s of %s %s: %s", field, type, id, cairn_strerror(rc));
  free(mp);
  return rc;
}

int cairn_change_put_json(cairn_change_t *c, const char *type, const char *id, const char *field,
                          const char *json, int resolve, cairn_error_t *err) {
  json_t *j;
  int rc = parse_json(json, &j, err);
  if (rc == 0)
    rc = put_json_value(c, type, id, field, j, resolve, err);
  json_decref(j);
  return rc;
}

int cairn_change_put_text(cairn_change_t *c, const char *type, const char *id, const char *field,
                          const char *text, int resolve, cairn_error_t *err) {
  cairn_schema_t *sc = NULL;
  const cairn_schema_type_t *t;
  const cairn_schema_field_t *f;
  uint8_t *mp = NULL;
  size_t len;
  json_t *j;
  int rc;
  if (text == NULL || type == NULL)
    return CAIRN_EINVAL;
  if ((rc = cairn_schema_load(cairn_change_store(c), &sc)) != 0)
    return rc;
  if ((rc = cairn_schema_field_for(sc, type, field, &t, &f, err)) == 0 && f != NULL &&
      (rc = cairn_schema_parse_text(t, f, id, text, &mp, &len, err)) == 0)
    rc = cairn_change_put(c, type, id, field, mp, len, resolve);
  else if (rc == 0) {
    j = json_string(text); /* NULL unless valid UTF-8 */
    rc = j != NULL ? put_json_value(c, type, id, field, j, resolve, NULL) : CAIRN_EINVAL;
    json_decref(j);
  }
  free(mp);
  cairn_schema_free(sc);
  return rc;
}

/* A string in a field of kind text or json is a value as it is; in any other
 * kind (number, date, enum, refs...) it is what a person typed. */
static int typed_as_text(cairn_store_t *s, const char *type, const char *field, const json_t *v,
                         int *out) {
  cairn_schema_t *sc = NULL;
  const cairn_schema_type_t *t;
  const cairn_schema_field_t *f;
  int rc;
  *out = 0;
  if (!json_is_string(v))
    return 0;
  if ((rc = cairn_schema_load(s, &sc)) != 0)
    return rc;
  t = type[0] != '_' ? cairn_schema_type(sc, type) : NULL;
  f = t != NULL ? cairn_schema_field(t, field) : NULL;
  *out = f != NULL && f->kind != CAIRN_KIND_TEXT && f->kind != CAIRN_KIND_JSON;
  cairn_schema_free(sc);
  return 0;
}

int cairn_change_put_value(cairn_change_t *c, const char *type, const char *id, const char *field,
                           const json_t *value, int resolve, cairn_error_t *err) {
  int as_text, rc;
  if (c == NULL || type == NULL || field == NULL || value == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no field or value");
  if ((rc = typed_as_text(cairn_change_store(c), type, field, value, &as_text)) != 0)
    return cairn__error(err, rc, "cannot read the network's schema: %s", cairn_strerror(rc));
  if (as_text)
    return cairn_change_put_text(c, type, id, field, json_string_value(value), resolve, err);
  return put_json_value(c, type, id, field, value, resolve, err);
}

/* ---- the clock ---- */

int cairn_clock_warning(int64_t offset_ms, char *out, size_t cap) {
  int64_t a = offset_ms < 0 ? -offset_ms : offset_ms, per = 60000;
  const char *unit = "minute";
  if (cap > 0)
    out[0] = '\0';
  if (a <= 60000)
    return 0;
  if (a >= 2 * 86400000LL - 43200000LL)
    per = 86400000LL, unit = "day";
  else if (a >= 2 * 3600000LL - 1800000LL)
    per = 3600000LL, unit = "hour";
  int64_t n = (a + per / 2) / per; /* rounded: a sync takes a few ms */
  snprintf(out, cap,
           "this device's clock is %lld %s%s %s the relay's; set the date and time "
           "(changes are stamped with the relay's time meanwhile)",
           (long long)n, unit, n == 1 ? "" : "s", offset_ms < 0 ? "ahead of" : "behind");
  return 1;
}

/* A record's type or id as a JSON string. Names in entries are checked to be
 * UTF-8 by the core, but they come from other people: anything else goes
 * through the value converter, which repairs it (lib_internal.h). */
json_t *cairn__name_json(const char *s, size_t n) {
  msgpack_sbuffer b;
  msgpack_packer pk;
  json_t *j = json_stringn(s, n);
  if (j != NULL)
    return j;
  msgpack_sbuffer_init(&b);
  msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
  if (msgpack_pack_str_with_body(&pk, s, n) != 0 ||
      cairn_value_to_json((const uint8_t *)b.data, b.size, &j) != 0)
    j = NULL;
  msgpack_sbuffer_destroy(&b);
  return j;
}

int cairn_record_json(const cairn_record_t *r, char **out) {
  cairn_record_iter_t it;
  cairn_record_field_t f;
  json_t *o = json_object(), *v;
  int rc = CAIRN_ENOMEM;
  *out = NULL;
  if (o == NULL || json_object_set_new(o, "_type", cairn__name_json(r->type, r->type_len)) != 0 ||
      json_object_set_new(o, "_id", cairn__name_json(r->id, r->id_len)) != 0)
    goto done;
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f)) {
    if ((rc = cairn_value_to_json(f.value, f.value_len, &v)) != 0)
      goto done;
    if (json_object_setn_new(o, f.name, f.name_len, v) != 0) {
      rc = CAIRN_ENOMEM;
      goto done;
    }
  }
  *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
  rc = *out != NULL ? 0 : CAIRN_ENOMEM;
done:
  json_decref(o);
  return rc;
}

/* ---- reading ---- */

typedef struct filtered {
  const cairn_where_t *where;
  size_t nwhere;
  cairn_record_cb cb;
  void *ud;
} filtered_t;

static int field_matches(const cairn_record_t *r, const cairn_where_t *w) {
  cairn_record_field_t f;
  return cairn_record_field(r, w->field, &f) && cairn_value_matches(f.value, f.value_len, w->value);
}

static int list_filtered(const cairn_record_t *r, void *ud) {
  filtered_t *fl = ud;
  for (size_t i = 0; i < fl->nwhere; i++)
    if (!field_matches(r, &fl->where[i]))
      return 0;
  return fl->cb(r, fl->ud);
}

int cairn_list(cairn_store_t *s, const char *type, const cairn_where_t *where, size_t nwhere,
               cairn_record_cb cb, void *ud) {
  filtered_t fl = {where, nwhere, cb, ud};
  if (nwhere > 0 && where == NULL)
    return CAIRN_EINVAL;
  for (size_t i = 0; i < nwhere; i++)
    if (where[i].field == NULL || where[i].value == NULL)
      return CAIRN_EINVAL;
  return cairn__list_type(s, type, list_filtered, &fl);
}

int cairn_record_conflicts(cairn_store_t *s, const char *type, const char *id,
                           cairn_conflict_cb cb, void *ud) {
  if (s == NULL || type == NULL || id == NULL || cb == NULL)
    return CAIRN_EINVAL;
  return cairn__record_conflicts(s, type, id, cb, ud);
}
