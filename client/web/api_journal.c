/*
 * api_journal.c — one record's past and its conflicts' end (docs/http.md,
 * "History and resolving"): its history as `cairn history --json` prints it
 * (cairn_history_json), and a resolve as `cairn resolve` writes it: only fields
 * in conflict (cairn_resolve_check), each marked as having seen every
 * conflicting value.
 */
#include <stdlib.h>
#include <string.h>

#include "web_internal.h"

void web_route_history(const web_call_t *call, const char *rest, web_reply_t *r) {
  char type[CAIRN_TYPE_MAX + 1], id[CAIRN_ID_MAX + 1];
  cairn_error_t err = {0, ""};
  json_t *h;
  int rc;
  if (web_unknown_param(call, NULL, r) || !web_target(rest, "history", type, id, r))
    return;
  if ((rc = cairn_history_json(call->store, type, id, &h, &err)) != 0)
    web_fail(r, rc, &err, "cannot read the history");
  else
    web_reply_json(r, 200, h);
}

/* "_keep" of the body: 1 when true, 0 when false or absent, -1 (400 in r) else. */
static int keep_of(json_t *obj, web_reply_t *r) {
  json_t *v = json_object_get(obj, "_keep");
  if (v == NULL || json_is_false(v))
    return 0;
  if (json_is_true(v))
    return 1;
  web_error(r, 400, "_keep takes true or false");
  return -1;
}

/* The names of the fields to write (every key but "_keep"), borrowed from obj. */
static const char **field_names(json_t *obj, size_t *n) {
  const char **v = calloc(json_object_size(obj) + 1, sizeof *v);
  const char *key;
  json_t *val;
  *n = 0;
  if (v == NULL)
    return NULL;
  json_object_foreach(obj, key, val) {
    if (strcmp(key, "_keep") != 0)
      v[(*n)++] = key;
  }
  return v;
}

/* Keep the record (when keep) and write the fields, resolve = 1, as one change. */
static int write_resolve(cairn_store_t *s, const char *type, const char *id, json_t *fields,
                         int keep, cairn_error_t *err) {
  cairn_change_t *c;
  int rc = cairn_change_begin(s, &c);
  if (rc != 0)
    return rc;
  if ((keep && (rc = cairn_change_keep(c, type, id)) != 0) ||
      (rc = web_put_fields(c, type, id, fields, 1, err)) != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cairn_change_commit(c, NULL, err);
}

void web_route_resolve(const web_call_t *call, const char *rest, web_reply_t *r) {
  char type[CAIRN_TYPE_MAX + 1], id[CAIRN_ID_MAX + 1];
  cairn_error_t err = {0, ""};
  const char **names = NULL;
  json_t *obj;
  size_t n = 0;
  int keep, rc;
  if (web_unknown_param(call, NULL, r) || !web_target(rest, "resolve", type, id, r) ||
      (obj = web_body_object(call, r)) == NULL)
    return;
  if ((keep = keep_of(obj, r)) < 0)
    goto done;
  if ((names = field_names(obj, &n)) == NULL) {
    web_error(r, 500, "out of memory");
    goto done;
  }
  if (n == 0 && !keep) {
    web_error(r, 400, "give the fields to write, {\"FIELD\": VALUE, ...}, or {\"_keep\": true}");
    goto done;
  }
  rc = cairn_resolve_check(call->store, type, id, names, n, keep, &err);
  if (rc == CAIRN_EINVAL) {
    web_error(r, 409, "%s", err.msg); /* not in conflict */
    goto done;
  }
  if (rc != 0) {
    web_fail(r, rc, &err, "cannot read the record's conflicts");
    goto done;
  }
  json_object_del(obj, "_keep");
  if ((rc = write_resolve(call->store, type, id, obj, keep, &err)) != 0)
    web_fail(r, rc, &err, "the change was not saved");
  else
    web_record_reply(call, type, id, r);
done:
  free(names);
  json_decref(obj);
}
