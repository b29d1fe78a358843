/*
 * journal.c — what happened and who did it, as JSON (cairn.h, "JSON views"):
 * a record's history, the changes of the feed, the heads of a conflicted field,
 * every open conflict, and the check that a resolve writes only what is in
 * conflict. `cairn history --json`, `cairn conflicts --json`, `cairn changes
 * --json` and the web app's routes print these same objects.
 *
 * Authors are named from their `_member` records (cairn__member_name); times
 * are the HLC's milliseconds (hlc >> 16) in ISO 8601 UTC.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn.h"
#include "lib_internal.h"

char *cairn_time_text(uint64_t ms, char out[CAIRN_TIME_TEXT_MAX]) {
  time_t secs = (time_t)(ms / 1000u);
  struct tm tm;
  char day[24];
  if (gmtime_r(&secs, &tm) == NULL || strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
    snprintf(out, CAIRN_TIME_TEXT_MAX, "@%llu", (unsigned long long)ms);
  else
    snprintf(out, CAIRN_TIME_TEXT_MAX, "%s.%03uZ", day, (unsigned)(ms % 1000u));
  return out;
}

int cairn_stamp_json(json_t *o, const uint8_t author[CAIRN_KEY_BYTES], const char *name,
                     uint64_t hlc) {
  char hex[2 * CAIRN_KEY_BYTES + 1], when[CAIRN_TIME_TEXT_MAX];
  if (json_object_set_new(o, "author", json_string(cairn_hex(author, CAIRN_KEY_BYTES, hex))) ||
      json_object_set_new(o, "name", name ? cairn__name_json(name, strlen(name)) : json_null()) ||
      json_object_set_new(o, "time", json_string(cairn_time_text(hlc >> 16, when))) ||
      json_object_set_new(o, "hlc", json_integer((json_int_t)hlc)))
    return CAIRN_ENOMEM;
  return 0;
}

int cairn__json_set_value(json_t *obj, const char *name, size_t name_len, const uint8_t *mp,
                     size_t len) {
  json_t *v;
  int rc = cairn_value_to_json(mp, len, &v);
  if (rc != 0)
    return rc;
  return json_object_setn_new(obj, name, name_len, v) != 0 ? CAIRN_ENOMEM : 0;
}

/* ---- conflicts ---- */

json_t *cairn_heads_json(cairn_store_t *s, const cairn_head_t *heads, size_t n) {
  json_t *a = json_array();
  for (size_t i = 0; a != NULL && i < n; i++) {
    char name[CAIRN__NAME_MAX];
    json_t *h = json_object();
    if (h == NULL || json_array_append_new(a, h) != 0 ||
        cairn__json_set_value(h, "value", 5, heads[i].value, heads[i].value_len) != 0 ||
        cairn_stamp_json(h, heads[i].stamp.author,
                         cairn__member_name(s, heads[i].stamp.author, name),
                         heads[i].stamp.hlc) != 0) {
      json_decref(a);
      a = NULL;
    }
  }
  return a;
}

typedef struct conflicts_ctx {
  cairn_store_t *s;
  json_t *out;
} conflicts_ctx_t;

static int conflict_one(const char *type, size_t tl, const char *id, size_t il,
                        const char *field, size_t fl, const cairn_head_t *heads, size_t n,
                        void *ud) {
  conflicts_ctx_t *c = ud;
  json_t *o = json_object();
  if (o == NULL || json_array_append_new(c->out, o) != 0 ||
      json_object_set_new(o, "_type", cairn__name_json(type, tl)) ||
      json_object_set_new(o, "_id", cairn__name_json(id, il)) ||
      json_object_set_new(o, "field", cairn__name_json(field, fl)) ||
      json_object_set_new(o, "heads", cairn_heads_json(c->s, heads, n)))
    return CAIRN_ENOMEM;
  return 0;
}

int cairn_conflicts_json(cairn_store_t *s, json_t **out) {
  conflicts_ctx_t c = {s, json_array()};
  int rc = c.out == NULL ? CAIRN_ENOMEM : cairn_conflicts(s, conflict_one, &c);
  *out = NULL;
  if (rc != 0) {
    json_decref(c.out);
    return rc;
  }
  *out = c.out;
  return 0;
}

/* ---- changes and history ---- */

/* What an op did, as `history` and `changes` name it. */
static const char *op_name(cairn_op_kind_t kind) {
  static const char *const kinds[] = {"erased", "put", "del", "purge"};
  return (unsigned)kind < 4 ? kinds[kind] : "unknown";
}

/* For a put, "fields": an object of each field's name and value. */
static int set_fields(json_t *o, const cairn_changes_item_t *ch) {
  json_t *fields;
  cairn_field_iter_t it;
  cairn_field_t f;
  int rc = 0;
  if (ch->kind != CAIRN_OP_PUT)
    return 0;
  if ((fields = json_object()) == NULL || json_object_set_new(o, "fields", fields) != 0)
    return CAIRN_ENOMEM;
  cairn_field_iter_init(ch->op, &it);
  while (rc == 0 && cairn_field_next(&it, &f))
    rc = cairn__json_set_value(fields, f.name, f.name_len, f.value, f.value_len);
  return rc;
}

/* A change; with_target: "_type" and "_id" too (the feed, not one record's history). */
static json_t *change_json(const cairn_changes_item_t *ch, int with_target) {
  json_t *o = json_object();
  if (o == NULL || cairn_stamp_json(o, ch->author, ch->author_name, ch->hlc) != 0 ||
      json_object_set_new(o, "seq", json_integer((json_int_t)ch->seq)) ||
      json_object_set_new(o, "op", json_string(op_name(ch->kind))) ||
      (ch->refused != NULL && json_object_set_new(o, "refused", json_string(ch->refused))) ||
      (with_target &&
       (json_object_set_new(o, "_type", ch->type ? cairn__name_json(ch->type, ch->type_len)
                                                 : json_null()) ||
        json_object_set_new(o, "_id", ch->id ? cairn__name_json(ch->id, ch->id_len)
                                             : json_null()))) ||
      set_fields(o, ch) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *cairn_changes_item_json(const cairn_changes_item_t *ch) {
  return ch != NULL ? change_json(ch, 1) : NULL;
}

typedef struct history_ctx {
  cairn_store_t *s;
  json_t *out;
  int rc;
} history_ctx_t;

static int history_one(const cairn_entry_t *e, const cairn_op_t *op, void *ud) {
  history_ctx_t *c = ud;
  char name[CAIRN__NAME_MAX];
  cairn_error_t why = {0, ""};
  int refused = cairn_entry_refused(c->s, e->author, e->seq, &why);
  cairn_changes_item_t ch;
  json_t *o;
  if (refused < 0)
    return (c->rc = refused) != 0;
  memset(&ch, 0, sizeof ch);
  ch.entry = e;
  ch.hlc = e->hlc;
  ch.time_ms = e->hlc >> 16;
  ch.author = e->author;
  ch.author_name = cairn__member_name(c->s, e->author, name);
  ch.seq = e->seq;
  ch.kind = op->kind;
  ch.op = op;
  ch.refused = refused ? why.msg : NULL;
  o = change_json(&ch, 0);
  if (o == NULL || json_array_append_new(c->out, o) != 0)
    c->rc = CAIRN_ENOMEM;
  return c->rc != 0;
}

int cairn_history_json(cairn_store_t *s, const char *type, const char *id, json_t **out,
                       cairn_error_t *err) {
  history_ctx_t c = {s, json_array(), 0};
  int rc;
  *out = NULL;
  if (type == NULL || id == NULL) {
    json_decref(c.out);
    return cairn__error(err, CAIRN_EINVAL, "a record type and id are needed");
  }
  rc = c.out == NULL ? CAIRN_ENOMEM : cairn_history(s, type, id, history_one, &c);
  if (rc == 0)
    rc = c.rc;
  if (rc == 0 && json_array_size(c.out) == 0)
    rc = cairn__error(err, CAIRN_ENOENT, "no history for %s '%s' (it never existed here, or "
                      "it was purged)", type, id);
  else if (rc != 0)
    rc = cairn__error(err, rc, "cannot read the history: %s", cairn_strerror(rc));
  if (rc != 0) {
    json_decref(c.out);
    return rc;
  }
  *out = c.out;
  return 0;
}

/* ---- resolving ---- */

/* The names of a record's conflicted fields, CAIRN_DELETED_FIELD among them. */
typedef struct in_conflict {
  char **names;
  size_t n;
  int rc;
} in_conflict_t;

static int note_field(const char *type, size_t tl, const char *id, size_t il, const char *field,
                      size_t fl, const cairn_head_t *heads, size_t n, void *ud) {
  in_conflict_t *c = ud;
  char **v = realloc(c->names, (c->n + 1) * sizeof *v);
  if (v == NULL || (v[c->n] = strndup(field, fl)) == NULL) {
    if (v != NULL)
      c->names = v;
    return (c->rc = CAIRN_ENOMEM) != 0;
  }
  c->names = v;
  c->n++;
  return 0;
}

static int holds(const in_conflict_t *c, const char *name) {
  for (size_t i = 0; i < c->n; i++)
    if (strcmp(c->names[i], name) == 0)
      return 1;
  return 0;
}

int cairn_resolve_check(cairn_store_t *s, const char *type, const char *id,
                        const char *const *fields, size_t nfields, int keep,
                        cairn_error_t *err) {
  in_conflict_t c = {NULL, 0, 0};
  int rc;
  if (nfields > 0 && fields == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no fields");
  rc = cairn_record_conflicts(s, type, id, note_field, &c);
  if (rc == 0)
    rc = c.rc;
  if (rc == CAIRN_ENOENT)
    rc = cairn__error(err, rc, "no %s record '%s'", type, id);
  else if (rc == CAIRN_EDELETED)
    rc = cairn__error(err, rc, "%s '%s' is deleted", type, id);
  else if (rc != 0)
    rc = cairn__error(err, rc, "cannot read the record's conflicts: %s", cairn_strerror(rc));
  for (size_t i = 0; rc == 0 && i < nfields; i++)
    if (!holds(&c, fields[i]))
      rc = cairn__error(err, CAIRN_EINVAL, "%s %s field %s is not in conflict; use `cairn put` "
                        "to change it", type, id, fields[i]);
  if (rc == 0 && keep && !holds(&c, CAIRN_DELETED_FIELD))
    rc = cairn__error(err, CAIRN_EINVAL, "%s %s is not in a delete/edit conflict (nobody "
                      "deleted it while it was edited); nothing to keep", type, id);
  for (size_t i = 0; i < c.n; i++)
    free(c.names[i]);
  free(c.names);
  return rc;
}
