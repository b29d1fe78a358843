/*
 * json.c — records, conflict heads and changes as the API sends them
 * (docs/http.md, "Shapes"). Values come from other people's entries: they are
 * converted with cairn_value_to_json, which reads them with the bounded reader.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "web_internal.h"

int web_json_set_value(json_t *obj, const char *name, size_t name_len, const uint8_t *mp,
                       size_t len) {
  json_t *v;
  int rc = cairn_value_to_json(mp, len, &v);
  if (rc != 0)
    return rc;
  return json_object_setn_new(obj, name, name_len, v) != 0 ? CAIRN_ENOMEM : 0;
}

json_t *web_json_str(const char *s, size_t n) {
  json_t *j = json_stringn(s, n);
  char *fixed;
  if (j != NULL)
    return j;
  /* not UTF-8 (written by some other client): each bad byte becomes '?' */
  if ((fixed = malloc(n + 1)) == NULL)
    return NULL;
  for (size_t i = 0; i < n; i++)
    fixed[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
  j = json_stringn(fixed, n);
  free(fixed);
  return j;
}

/* Add a field; on failure, drop "_id" to say so and stop. */
static int field_one(const cairn_record_field_t *f, void *ud) {
  json_t *o = ud;
  if (web_json_set_value(o, f->name, f->name_len, f->value, f->value_len) == 0)
    return 0;
  json_object_del(o, "_id");
  return 1;
}

/* The fields q chose (cairn_query_fields) into o. 0 or a CAIRN_E* code. */
static int chosen_fields(const cairn_query_t *q, const cairn_record_t *r, json_t *o) {
  uint8_t idbuf[CAIRN_QUERY_IDBUF];
  cairn_record_field_t f;
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < cairn_query_nfields(q); i++)
    if (cairn_query_value(q, r, i, idbuf, &f))
      rc = web_json_set_value(o, f.name, f.name_len, f.value, f.value_len);
  return rc;
}

json_t *web_record_json(const cairn_schema_t *sc, const cairn_query_t *q,
                        const cairn_record_t *r) {
  json_t *o = json_object();
  if (o == NULL || json_object_set_new(o, "_type", web_json_str(r->type, r->type_len)) != 0 ||
      json_object_set_new(o, "_id", web_json_str(r->id, r->id_len)) != 0)
    goto fail;
  if (q != NULL && cairn_query_nfields(q) > 0) {
    if (chosen_fields(q, r, o) != 0)
      goto fail;
  } else {
    cairn_schema_fields(sc, r, field_one, o);
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

int web_json_set_stamp(json_t *o, const uint8_t *author, uint64_t hlc) {
  char hex[2 * CAIRN_KEY_BYTES + 1], day[24], when[40];
  uint64_t ms = hlc >> 16;
  time_t secs = (time_t)(ms / 1000u);
  struct tm tm;
  if (gmtime_r(&secs, &tm) == NULL || strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    snprintf(when, sizeof when, "@%llu", (unsigned long long)ms);
  else
    snprintf(when, sizeof when, "%s.%03uZ", day, (unsigned)(ms % 1000u));
  if (json_object_set_new(o, "author", json_string(cairn_hex(author, CAIRN_KEY_BYTES, hex))) ||
      json_object_set_new(o, "time", json_string(when)) ||
      json_object_set_new(o, "hlc", json_integer((json_int_t)hlc)))
    return CAIRN_ENOMEM;
  return 0;
}

json_t *web_heads_json(const cairn_head_t *heads, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++) {
    json_t *h = json_object();
    if (h == NULL || json_array_append_new(a, h) != 0 ||
        web_json_set_value(h, "value", 5, heads[i].value, heads[i].value_len) != 0 ||
        web_json_set_stamp(h, heads[i].stamp.author, heads[i].stamp.hlc) != 0) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}

/* What an op did, as `cairn changes` names it. */
static const char *op_name(cairn_op_kind_t kind) {
  static const char *const kinds[] = {"erased", "put", "del", "purge"};
  return (unsigned)kind < 4 ? kinds[kind] : "unknown";
}

/* For a put, "fields": an object of each field's name and value. */
static int set_fields(json_t *o, const cairn_op_t *op) {
  json_t *fields;
  cairn_field_iter_t it;
  cairn_field_t f;
  int rc = 0;
  if (op->kind != CAIRN_OP_PUT)
    return 0;
  if ((fields = json_object()) == NULL || json_object_set_new(o, "fields", fields) != 0)
    return CAIRN_ENOMEM;
  cairn_field_iter_init(op, &it);
  while (rc == 0 && cairn_field_next(&it, &f))
    rc = web_json_set_value(fields, f.name, f.name_len, f.value, f.value_len);
  return rc;
}

json_t *web_change_json(const cairn_changes_item_t *ch) {
  json_t *o = json_object();
  const char *name = ch->author_name;
  if (o == NULL || web_json_set_stamp(o, ch->author, ch->hlc) != 0 ||
      json_object_set_new(o, "name", name ? web_json_str(name, strlen(name)) : json_null()) ||
      json_object_set_new(o, "seq", json_integer((json_int_t)ch->seq)) ||
      json_object_set_new(o, "op", json_string(op_name(ch->kind))) ||
      (ch->refused != NULL && json_object_set_new(o, "refused", json_string(ch->refused))) ||
      json_object_set_new(o, "_type", ch->type ? web_json_str(ch->type, ch->type_len)
                                               : json_null()) ||
      json_object_set_new(o, "_id", ch->id ? web_json_str(ch->id, ch->id_len) : json_null()) ||
      set_fields(o, ch->op) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}
