/*
 * api.c — the routes of the JSON API (docs/http.md), each over the same calls
 * as the CLI command it mirrors: records (list, get, put, del), the changes
 * feed, conflicts, the schema, reports, sync status and sync; the routing of
 * every route, and the helpers the routes of api_people.c, api_journal.c and
 * api_files.c share. Each request reads the schema afresh, since another
 * process or a sync may change it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "web_internal.h"

unsigned web_error(web_reply_t *r, unsigned status, const char *fmt, ...) {
  char msg[CAIRN_ERRMSG_MAX + 64];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  json_decref(r->body);
  r->status = status;
  r->body = json_pack("{s:s}", "error", msg);
  return status;
}

void web_reply_init(web_reply_t *r) {
  memset(r, 0, sizeof *r);
  r->status = 500;
}

unsigned web_status_of(int rc) {
  switch (rc) {
  case CAIRN_ESCHEMA:
    return 422;
  case CAIRN_EINVAL:
  case CAIRN_EMALFORMED:
    return 400;
  case CAIRN_EFORBIDDEN:
  case CAIRN_ENOTMEMBER:
  case CAIRN_EREADONLY:
    return 403;
  case CAIRN_ENONETWORK:
  case CAIRN_EPURGED:
    return 409;
  case CAIRN_ENOENT:
  case CAIRN_EDELETED:
    return 404;
  case CAIRN_ETOOBIG:
    return 413;
  default:
    return 500;
  }
}

void web_fail(web_reply_t *r, int rc, const cairn_error_t *err, const char *what) {
  if (err != NULL && err->msg[0] != '\0')
    web_error(r, web_status_of(rc), "%s", err->msg);
  else
    web_error(r, web_status_of(rc), "%s: %s", what, cairn_strerror(rc));
}

void web_reply_json(web_reply_t *r, unsigned status, json_t *body) {
  if (body == NULL) {
    web_error(r, 500, "out of memory");
    return;
  }
  json_decref(r->body);
  r->status = status;
  r->body = body;
}

const char *web_param(const web_call_t *call, const char *name) {
  const char *v = NULL;
  for (size_t i = 0; i < call->nparams; i++)
    if (strcmp(call->params[i].name, name) == 0)
      v = call->params[i].value;
  return v;
}

int web_unknown_param(const web_call_t *call, const char *const *allowed, web_reply_t *r) {
  for (size_t i = 0; i < call->nparams; i++) {
    size_t k = 0;
    while (allowed != NULL && allowed[k] != NULL && strcmp(allowed[k], call->params[i].name) != 0)
      k++;
    if (allowed == NULL || allowed[k] == NULL) {
      web_error(r, 400, "unknown query parameter '%s'", call->params[i].name);
      return 1;
    }
  }
  return 0;
}

int web_only(const web_call_t *call, const char *method, web_reply_t *r) {
  if (strcmp(call->method, method) == 0)
    return 1;
  r->allow = method;
  web_error(r, 405, "%s is not allowed here: use %s", call->method, method);
  return 0;
}

json_t *web_body_object(const web_call_t *call, web_reply_t *r) {
  json_error_t jerr;
  json_t *obj = json_loadb(call->body, call->body_len, JSON_REJECT_DUPLICATES, &jerr);
  if (obj == NULL) {
    web_error(r, 400, "the body is not JSON (line %d, column %d: %s)", jerr.line, jerr.column,
              jerr.text);
    return NULL;
  }
  if (!json_is_object(obj)) {
    json_decref(obj);
    web_error(r, 400, "the body must be a JSON object");
    return NULL;
  }
  return obj;
}

int web_target(const char *rest, const char *route, char type[CAIRN_TYPE_MAX + 1],
               char id[CAIRN_ID_MAX + 1], web_reply_t *r) {
  const char *slash = strchr(rest, '/');
  size_t tl = slash ? (size_t)(slash - rest) : 0;
  if (tl == 0 || tl > CAIRN_TYPE_MAX || slash[1] == '\0' || strlen(slash + 1) > CAIRN_ID_MAX ||
      strchr(slash + 1, '/') != NULL) {
    web_error(r, 404, "no such route: /api/%s/%s (%s/TYPE/ID)", route, rest, route);
    return 0;
  }
  memcpy(type, rest, tl);
  type[tl] = '\0';
  snprintf(id, CAIRN_ID_MAX + 1, "%s", slash + 1);
  return 1;
}

static int load_schema(const web_call_t *call, cairn_schema_t **sc, web_reply_t *r) {
  int rc = cairn_schema_load(call->store, sc);
  if (rc != 0)
    web_fail(r, rc, NULL, "cannot read the network's schema");
  return rc;
}

/* ---- records ---- */

typedef struct list_ctx {
  cairn_query_t *q;
  const cairn_schema_t *sc;
  json_t *rows;
  int rc;
} list_ctx_t;

static int list_one(const cairn_record_t *r, void *ud) {
  list_ctx_t *c = ud;
  json_t *o = cairn_record_object(c->sc, c->q, r);
  if (o == NULL || json_array_append_new(c->rows, o) != 0)
    c->rc = CAIRN_ENOMEM;
  return c->rc != 0;
}

/* Apply the query parameters to q: 0 or a CAIRN_E* code with err set. */
static int query_params(const web_call_t *call, cairn_query_t *q, cairn_error_t *err) {
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < call->nparams; i++) {
    const web_param_t *p = &call->params[i];
    if (strcmp(p->name, "where") == 0)
      rc = cairn_query_where(q, p->value, err);
    else if (strcmp(p->name, "search") == 0)
      rc = cairn_query_search(q, p->value, err);
    else if (strcmp(p->name, "sort") == 0)
      rc = cairn_query_sort(q, p->value, err);
    else if (strcmp(p->name, "fields") == 0)
      rc = cairn_query_fields(q, p->value, err);
  }
  return rc;
}

static int parse_count(const char *text, unsigned long long max, unsigned long long *out) {
  char *end;
  if (text == NULL || text[0] < '0' || text[0] > '9')
    return 0;
  *out = strtoull(text, &end, 10);
  return *end == '\0' && *out <= max;
}

static void records_list(const web_call_t *call, const char *type, web_reply_t *r) {
  static const char *const allowed[] = {"where", "search", "sort",    "fields",
                                       "limit", "deleted", NULL};
  const char *limit = web_param(call, "limit"), *deleted = web_param(call, "deleted");
  unsigned long long n = 0;
  cairn_error_t err = {0, ""};
  list_ctx_t c = {NULL, NULL, NULL, 0};
  int rc;
  if (web_unknown_param(call, allowed, r))
    return;
  if (limit != NULL && !parse_count(limit, 1000000000ull, &n)) {
    web_error(r, 400, "limit takes a whole number, not '%s'", limit);
    return;
  }
  if (deleted != NULL && strcmp(deleted, "true") != 0 && strcmp(deleted, "false") != 0) {
    web_error(r, 400, "deleted takes true or false, not '%s'", deleted);
    return;
  }
  if (load_schema(call, (cairn_schema_t **)&c.sc, r) != 0)
    return;
  if ((rc = cairn_query_new(call->store, c.sc, type, &c.q, &err)) != 0 ||
      (rc = query_params(call, c.q, &err)) != 0) {
    web_fail(r, rc, &err, "cannot make the query");
    goto done;
  }
  cairn_query_limit(c.q, (size_t)n);
  cairn_query_deleted(c.q, deleted != NULL && strcmp(deleted, "true") == 0);
  if ((c.rows = json_array()) == NULL)
    rc = CAIRN_ENOMEM;
  else if ((rc = cairn_query_run(c.q, list_one, &c)) == 0)
    rc = c.rc;
  if (rc != 0)
    web_fail(r, rc, NULL, "cannot list the records");
  else
    web_reply_json(r, 200, json_incref(c.rows));
done:
  json_decref(c.rows);
  cairn_query_free(c.q);
  cairn_schema_free((cairn_schema_t *)c.sc);
}

typedef struct get_ctx {
  cairn_store_t *store;
  const cairn_schema_t *sc;
  json_t *out;
  json_t *marks; /* "_conflicts" */
} get_ctx_t;

static int get_one(const cairn_record_t *rec, void *ud) {
  get_ctx_t *g = ud;
  g->out = cairn_record_object(g->sc, NULL, rec);
  return 0;
}

/* "_conflicts": {FIELD: [heads...]} of a conflicted field, heads visible first. */
static int conflict_one(const char *type, size_t tl, const char *id, size_t il,
                        const char *field, size_t fl, const cairn_head_t *heads, size_t n,
                        void *ud) {
  get_ctx_t *g = ud;
  json_t *h = cairn_heads_json(g->store, heads, n);
  if (h == NULL || json_object_setn_new(g->marks, field, fl, h) != 0)
    return CAIRN_ENOMEM;
  return 0;
}

void web_record_reply(const web_call_t *call, const char *type, const char *id,
                      web_reply_t *r) {
  get_ctx_t g = {call->store, NULL, NULL, json_object()};
  int rc;
  if (g.marks == NULL || load_schema(call, (cairn_schema_t **)&g.sc, r) != 0) {
    if (g.marks == NULL)
      web_error(r, 500, "out of memory");
    json_decref(g.marks);
    return;
  }
  rc = cairn_get(call->store, type, id, get_one, &g);
  if (rc == 0 && g.out == NULL)
    rc = CAIRN_ENOMEM;
  if (rc == 0)
    rc = cairn_record_conflicts(call->store, type, id, conflict_one, &g);
  if (rc == 0 && json_object_size(g.marks) > 0 && json_object_set(g.out, "_conflicts", g.marks))
    rc = CAIRN_ENOMEM;
  if (rc == CAIRN_ENOENT || rc == CAIRN_EDELETED)
    web_error(r, 404, rc == CAIRN_ENOENT ? "no %s record '%s'" : "%s '%s' is deleted", type, id);
  else if (rc != 0)
    web_fail(r, rc, NULL, "cannot read the record");
  else
    web_reply_json(r, 200, json_incref(g.out));
  json_decref(g.out);
  json_decref(g.marks);
  cairn_schema_free((cairn_schema_t *)g.sc);
}

int web_put_fields(cairn_change_t *c, const char *type, const char *id, json_t *obj,
                   int resolve, cairn_error_t *err) {
  const char *name;
  json_t *v;
  json_object_foreach(obj, name, v) {
    int rc = cairn_change_put_value(c, type, id, name, v, resolve, err);
    if (rc != 0) {
      if (err->msg[0] == '\0')
        snprintf(err->msg, sizeof err->msg, "field '%s': %s", name, cairn_strerror(rc));
      return rc;
    }
  }
  return 0;
}

static void record_put(const web_call_t *call, const char *type, const char *id,
                       web_reply_t *r) {
  cairn_error_t err = {0, ""};
  cairn_change_t *c = NULL;
  json_t *obj = web_body_object(call, r);
  int rc;
  if (obj == NULL)
    return;
  if (json_object_size(obj) == 0) {
    web_error(r, 400, "the body must be a JSON object of the fields to write, "
                      "{\"FIELD\": VALUE, ...}");
    goto done;
  }
  if ((rc = cairn_change_begin(call->store, &c)) != 0) {
    web_fail(r, rc, NULL, "cannot start a change");
    goto done;
  }
  if ((rc = web_put_fields(c, type, id, obj, 0, &err)) != 0) {
    cairn_change_abort(c);
    web_fail(r, rc, &err, "cannot set the field");
    goto done;
  }
  if ((rc = cairn_change_commit(c, NULL, &err)) != 0) {
    web_fail(r, rc, &err, "the change was not saved");
    goto done;
  }
  web_record_reply(call, type, id, r);
done:
  json_decref(obj);
}

static int ignore_record(const cairn_record_t *rec, void *ud) {
  (void)rec;
  (void)ud;
  return 0;
}

static void record_del(const web_call_t *call, const char *type, const char *id,
                       web_reply_t *r) {
  cairn_error_t err = {0, ""};
  cairn_change_t *c = NULL;
  int rc = cairn_get(call->store, type, id, ignore_record, NULL);
  if (rc == CAIRN_ENOENT || rc == CAIRN_EDELETED) {
    web_error(r, 404, rc == CAIRN_ENOENT ? "no %s record '%s'" : "%s '%s' is deleted", type, id);
    return;
  }
  if (rc == 0 && (rc = cairn_change_begin(call->store, &c)) == 0) {
    if ((rc = cairn_change_del(c, type, id)) != 0)
      cairn_change_abort(c);
    else
      rc = cairn_change_commit(c, NULL, &err);
  }
  if (rc != 0)
    web_fail(r, rc, &err, "the record was not deleted");
  else
    web_reply_json(r, 200, json_pack("{s:s,s:s,s:b}", "_type", type, "_id", id, "_deleted", 1));
}

/* records/TYPE and records/TYPE/ID */
static void route_records(const web_call_t *call, const char *rest, web_reply_t *r) {
  char type[CAIRN_TYPE_MAX + 1], id[CAIRN_ID_MAX + 1];
  const char *slash = strchr(rest, '/');
  size_t tl = slash ? (size_t)(slash - rest) : strlen(rest);
  if (tl == 0 || tl > CAIRN_TYPE_MAX || (slash && (slash[1] == '\0' ||
                                                  strlen(slash + 1) > CAIRN_ID_MAX ||
                                                  strchr(slash + 1, '/') != NULL))) {
    web_error(r, 404, "no such route: /api/records/%s (records/TYPE or records/TYPE/ID)", rest);
    return;
  }
  memcpy(type, rest, tl);
  type[tl] = '\0';
  if (slash == NULL) {
    if (strcmp(call->method, "GET") != 0) {
      r->allow = "GET";
      web_error(r, 405, "%s is not allowed here: list the records with GET", call->method);
      return;
    }
    records_list(call, type, r);
    return;
  }
  snprintf(id, sizeof id, "%s", slash + 1);
  if (web_unknown_param(call, NULL, r))
    return;
  if (strcmp(call->method, "GET") == 0)
    web_record_reply(call, type, id, r);
  else if (strcmp(call->method, "PUT") == 0)
    record_put(call, type, id, r);
  else if (strcmp(call->method, "DELETE") == 0)
    record_del(call, type, id, r);
  else {
    r->allow = "GET, PUT, DELETE";
    web_error(r, 405, "%s is not allowed on a record: use GET, PUT or DELETE", call->method);
  }
}

/* ---- changes, conflicts, schema ---- */

static int change_one(const cairn_changes_item_t *ch, void *ud) {
  json_t *o = cairn_changes_item_json(ch);
  if (o == NULL || json_array_append_new(ud, o) != 0)
    return CAIRN_ENOMEM;
  return 0;
}

static void route_changes(const web_call_t *call, web_reply_t *r) {
  static const char *const allowed[] = {"since", NULL};
  const char *since = web_param(call, "since");
  cairn_changes_opts_t opts = {0, 0, 0};
  json_t *a;
  int rc;
  if (web_unknown_param(call, allowed, r))
    return;
  if (since != NULL && cairn_changes_parse_since(since, cairn_now_ms(), &opts.since_ms) != 0) {
    web_error(r, 400, "since takes a date (2026-10-01), a time (2026-10-01T09:00Z) or a "
                      "number of days ago (30d), not '%s'", since);
    return;
  }
  if ((a = json_array()) == NULL) {
    web_error(r, 500, "out of memory");
    return;
  }
  if ((rc = cairn_changes(call->store, &opts, change_one, a)) != 0)
    web_fail(r, rc, NULL, "cannot read the changes");
  else
    web_reply_json(r, 200, json_incref(a));
  json_decref(a);
}

static void route_conflicts(const web_call_t *call, web_reply_t *r) {
  json_t *a = NULL;
  int rc;
  if (web_unknown_param(call, NULL, r))
    return;
  if ((rc = cairn_conflicts_json(call->store, &a)) != 0)
    web_fail(r, rc, NULL, "cannot read the conflicts");
  else
    web_reply_json(r, 200, a);
}

static void route_schema(const web_call_t *call, web_reply_t *r) {
  cairn_schema_t *sc = NULL;
  if (web_unknown_param(call, NULL, r) || load_schema(call, &sc, r) != 0)
    return;
  web_reply_json(r, 200, cairn_schema_to_json(sc, NULL));
  cairn_schema_free(sc);
}

/* ---- reports, status, sync ---- */

/* Render doc as JSON into a string, then parse it back as the reply. */
static void report_reply(const cairn_report_doc_t *doc, web_reply_t *r) {
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  int rc = f == NULL ? CAIRN_ENOMEM : cairn_report_render(doc, CAIRN_REPORT_JSON, f);
  if (f != NULL && fclose(f) != 0 && rc == 0)
    rc = CAIRN_ENOMEM;
  if (rc != 0)
    web_fail(r, rc, NULL, "cannot render the report");
  else
    web_reply_json(r, 200, json_loadb(text, len, 0, NULL));
  free(text);
}

static void route_report(const web_call_t *call, const char *name, web_reply_t *r) {
  static const char *const allowed[] = {"as_of", NULL};
  cairn_report_doc_t *doc = NULL;
  cairn_error_t err = {0, ""};
  int rc;
  if (web_unknown_param(call, allowed, r))
    return;
  rc = web_report_build(call->store, name, web_param(call, "as_of"), &doc, &err);
  if (rc != 0)
    web_fail(r, rc, &err, "cannot build the report");
  else
    report_reply(doc, r);
  cairn_report_doc_free(doc);
}

static int count_conflict(const char *type, size_t tl, const char *id, size_t il,
                          const char *field, size_t fl, const cairn_head_t *heads, size_t n,
                          void *ud) {
  (*(uint64_t *)ud)++;
  return 0;
}

static json_t *hex_or_null(const uint8_t *key, int known) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  return known ? json_string(cairn_hex(key, CAIRN_KEY_BYTES, hex)) : json_null();
}

/* This device: "name", "key", "role", "network". 0 or a CAIRN_E* code. */
static int status_device(cairn_store_t *s, json_t *o) {
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_role_t role = CAIRN_ROLE_NONE;
  const char *name = cairn_store_name(s), *role_name;
  int has_net = cairn_store_network(s, net) == 0, rc = cairn_store_role(s, cairn_store_key(s), &role);
  if (rc != 0)
    return rc;
  role_name = cairn_role_name(role);
  if (json_object_set_new(o, "name", name[0] ? json_string(name) : json_null()) ||
      json_object_set_new(o, "key", hex_or_null(cairn_store_key(s), 1)) ||
      json_object_set_new(o, "role", role_name ? json_string(role_name) : json_null()) ||
      json_object_set_new(o, "network", hex_or_null(net, has_net)))
    return CAIRN_ENOMEM;
  return 0;
}

/* The clock, what arrived, the conflicts. 0 or a CAIRN_E* code. */
static int status_state(cairn_store_t *s, const cairn_sync_status_t *st, json_t *o) {
  char warning[256];
  int64_t offset = 0;
  uint64_t arrival = 0, conflicts = 0;
  int rc = cairn_store_clock_offset(s, &offset);
  /* the offset is learnt by a sync: 0 before the first one is not known */
  int known = rc == 0 && (offset != 0 || st->last_sync_ms != 0);
  if (rc != 0 || (rc = cairn_store_last_arrival(s, &arrival)) != 0 ||
      (rc = cairn_conflicts(s, count_conflict, &conflicts)) != 0)
    return rc;
  if (json_object_set_new(o, "clock_offset_ms", known ? json_integer(offset) : json_null()) ||
      json_object_set_new(o, "clock_warning", known && cairn_clock_warning(offset, warning,
                                                                           sizeof warning)
                                                  ? json_string(warning)
                                                  : json_null()) ||
      json_object_set_new(o, "last_arrival", json_integer((json_int_t)arrival)) ||
      json_object_set_new(o, "conflicts", json_integer((json_int_t)conflicts)))
    return CAIRN_ENOMEM;
  return 0;
}

static void route_status(const web_call_t *call, web_reply_t *r) {
  cairn_sync_status_t st;
  json_t *o;
  int rc;
  if (web_unknown_param(call, NULL, r))
    return;
  if ((rc = cairn_sync_status(call->store, &st)) != 0) {
    web_fail(r, rc, NULL, "cannot read the sync status");
    return;
  }
  if ((o = json_object()) == NULL ||
      json_object_set_new(o, "relay", st.has_remote ? json_string(st.remote) : json_null()) ||
      json_object_set_new(o, "relay_key", hex_or_null(st.relay_key, st.has_remote)) ||
      json_object_set_new(o, "last_sync_ms", st.last_sync_ms
                                                 ? json_integer((json_int_t)st.last_sync_ms)
                                                 : json_null()) ||
      json_object_set_new(o, "own_entries", json_integer((json_int_t)st.head_seq)) ||
      json_object_set_new(o, "unacknowledged", json_integer((json_int_t)st.unacknowledged)))
    rc = CAIRN_ENOMEM;
  if (rc == 0 && (rc = status_device(call->store, o)) == 0)
    rc = status_state(call->store, &st, o);
  if (rc == 0 && json_object_set_new(o, "sync", web_bgsync_json(call->bgsync)) != 0)
    rc = CAIRN_ENOMEM;
  if (rc != 0) {
    json_decref(o);
    web_fail(r, rc, NULL, "cannot read the status");
    return;
  }
  web_reply_json(r, 200, o);
}

/* POST /api/sync?background=true: start the sync in a child process and answer
 * at once (202); /api/status says when it has ended and how. */
static void sync_background(const web_call_t *call, web_reply_t *r) {
  cairn_sync_status_t st;
  cairn_error_t err = {0, ""};
  int rc = cairn_sync_status(call->store, &st);
  if (rc != 0) {
    web_fail(r, rc, NULL, "cannot read the sync status");
    return;
  }
  if (!st.has_remote) {
    web_error(r, 409, "no relay is set for this store: set one with `cairn remote HOST:PORT "
                      "--key RELAYKEY`");
    return;
  }
  if ((rc = web_bgsync_start(call->bgsync, &err)) != 0) {
    web_error(r, rc == CAIRN_EBUSY || rc == CAIRN_EINVAL ? 409 : 500, "%s", err.msg);
    return;
  }
  web_reply_json(r, 202, web_bgsync_json(call->bgsync));
}

static void route_sync(const web_call_t *call, web_reply_t *r) {
  static const char *const allowed[] = {"background", NULL};
  const char *bg = web_param(call, "background");
  cairn_sync_stats_t st;
  cairn_error_t err = {0, ""};
  int rc;
  if (web_unknown_param(call, allowed, r))
    return;
  if (bg != NULL && strcmp(bg, "true") != 0 && strcmp(bg, "false") != 0) {
    web_error(r, 400, "background takes true or false, not '%s'", bg);
    return;
  }
  if (bg != NULL && strcmp(bg, "true") == 0) {
    sync_background(call, r);
    return;
  }
  rc = cairn_sync_once(call->store, NULL, call->sync_timeout_ms, &st, &err);
  if (rc == CAIRN_ENOENT || rc == CAIRN_ENONETWORK) {
    web_error(r, 409, "%s", err.msg[0] ? err.msg : cairn_strerror(rc));
    return;
  }
  if (rc != 0) {
    web_error(r, 502, "the sync failed: %s", err.msg[0] ? err.msg : cairn_strerror(rc));
    return;
  }
  web_reply_json(r, 200, json_pack("{s:I,s:I,s:I}", "pushed", (json_int_t)st.pushed, "pulled",
                               (json_int_t)st.pulled, "applied", (json_int_t)st.applied));
}

/* ---- routing ---- */

/* A route under PREFIX/ with something after it: the rest, or NULL. */
static const char *under(const char *path, const char *prefix) {
  size_t n = strlen(prefix);
  if (strncmp(path, prefix, n) != 0 || path[n] != '/' || path[n + 1] == '\0')
    return NULL;
  return path + n + 1;
}

/* The routes of people, a record's journal, and files. 1 when p is one of
 * them (r filled), else 0. */
static int route_more(const web_call_t *call, const char *p, web_reply_t *r) {
  const char *rest;
  if (strcmp(p, "members") == 0) {
    if (web_only(call, "GET", r))
      web_route_members(call, r);
  } else if (strcmp(p, "invites") == 0) {
    if (web_only(call, "POST", r))
      web_route_invites(call, r);
  } else if ((rest = under(p, "revoke")) != NULL) {
    if (web_only(call, "POST", r))
      web_route_revoke(call, rest, r);
  } else if ((rest = under(p, "history")) != NULL) {
    if (web_only(call, "GET", r))
      web_route_history(call, rest, r);
  } else if ((rest = under(p, "resolve")) != NULL) {
    if (web_only(call, "POST", r))
      web_route_resolve(call, rest, r);
  } else if ((rest = under(p, "import")) != NULL && strchr(rest, '/') == NULL) {
    if (web_only(call, "POST", r))
      web_route_import(call, rest, r);
  } else if (strcmp(p, "export") == 0 ||
             ((rest = under(p, "export")) != NULL && strchr(rest, '/') == NULL)) {
    if (web_only(call, "GET", r))
      web_route_export(call, strcmp(p, "export") == 0 ? NULL : rest, r);
  } else {
    return 0;
  }
  return 1;
}

void web_api(const web_call_t *call, web_reply_t *r) {
  const char *p = call->path;
  web_reply_init(r);
  if (strncmp(p, "records/", 8) == 0)
    route_records(call, p + 8, r);
  else if (strcmp(p, "changes") == 0 && web_only(call, "GET", r))
    route_changes(call, r);
  else if (strcmp(p, "conflicts") == 0 && web_only(call, "GET", r))
    route_conflicts(call, r);
  else if (strcmp(p, "schema") == 0 && web_only(call, "GET", r))
    route_schema(call, r);
  else if (strncmp(p, "reports/", 8) == 0 && p[8] != '\0' && strchr(p + 8, '/') == NULL &&
           web_only(call, "GET", r))
    route_report(call, p + 8, r);
  else if (strcmp(p, "status") == 0 && web_only(call, "GET", r))
    route_status(call, r);
  else if (strcmp(p, "sync") == 0 && web_only(call, "POST", r))
    route_sync(call, r);
  else if (r->status != 405 && !route_more(call, p, r))
    web_error(r, 404, "no such route: /api/%s (docs/http.md lists them)", p);
}
