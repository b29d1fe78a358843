/*
 * web_internal.h — what the files of client/web share: one request as the API
 * sees it, and the reply it builds. server.c speaks HTTP (libmicrohttpd) and
 * checks access; api.c answers the routes of docs/http.md over cairn.h and
 * report.h; json.c turns records, conflicts and changes into JSON.
 */
#ifndef CAIRN_WEB_INTERNAL_H
#define CAIRN_WEB_INTERNAL_H

#include <jansson.h>

#include "cairn.h"

/* A query-string parameter of the request (repeats kept, in order). */
typedef struct web_param {
  const char *name;
  const char *value; /* "" for `?name` without '=' */
} web_param_t;

/* One API request, after the access checks. Every pointer is borrowed. */
typedef struct web_call {
  cairn_store_t *store;
  const char *method; /* "GET", "PUT"... */
  const char *path;   /* after "/api/", decoded: "records/task/t1" */
  const web_param_t *params;
  size_t nparams;
  const char *body; /* NUL-terminated; "" when none */
  size_t body_len;
  unsigned sync_timeout_ms;
} web_call_t;

/* What the API answers: a status and a JSON document. */
typedef struct web_reply {
  unsigned status;
  json_t *body;      /* owned; NULL: an empty body */
  const char *allow; /* 405: the methods allowed */
} web_reply_t;

/* Answer call (any route under /api/). Always fills r (an error as
 * {"error": "..."} with its status). */
void web_api(const web_call_t *call, web_reply_t *r);

/* Fill r with {"error": message} and status; returns status. */
unsigned web_error(web_reply_t *r, unsigned status, const char *fmt, ...) CAIRN_PRINTF(3, 4);

/* The HTTP status of a library error code. */
unsigned web_status_of(int rc);

/* ---- JSON (json.c) ---- */

/* A record as a flat object: "_type", "_id", the fields q chose when q (may be
 * NULL) chose some, else every field through sc (current names, hidden ones left
 * out; sc may be NULL), and "_deleted": true if deleted. NULL when out of memory
 * or a value does not decode. */
json_t *web_record_json(const cairn_schema_t *sc, const cairn_query_t *q,
                        const cairn_record_t *r);
/* Add field (name, MessagePack value) to obj. 0 or a CAIRN_E* code. */
int web_json_set_value(json_t *obj, const char *name, size_t name_len, const uint8_t *mp,
                       size_t len);
/* n bytes as a JSON string (repaired when not UTF-8); NULL when out of memory. */
json_t *web_json_str(const char *s, size_t n);
/* Set "author", "time" (ISO 8601 UTC) and "hlc" of a stamp on o. 0 or CAIRN_ENOMEM. */
int web_json_set_stamp(json_t *o, const uint8_t *author, uint64_t hlc);
/* The heads of a conflicted field as [{"value", "author", "time", "hlc"}], the
 * visible one first. NULL when out of memory. */
json_t *web_heads_json(const cairn_head_t *heads, size_t n);
/* A change of the feed as `cairn changes --json` shows it. NULL when out of memory. */
json_t *web_change_json(const cairn_changes_item_t *ch);


/* ---- pages outside /api/ (static.c) ---- */

/* A file of the app, compiled in. */
typedef struct web_asset {
  const char *path; /* "/", "/app.css", "/app.js", "/favicon.svg" */
  const char *type; /* its Content-Type */
  const char *data; /* the bytes (the page at / holds {{TOKEN}} for the token) */
  const unsigned long *len;
} web_asset_t;

/* The app's file at path, or NULL. */
const web_asset_t *web_asset_find(const char *path);

struct cairn_report_opts;
/* Report options for as_of (NULL or "" for now): a date means the end of that
 * day, as `cairn report --as-of`. 0, or CAIRN_EINVAL when as_of is not a date,
 * a time or a number of days ago. */
int web_report_opts(const char *as_of, struct cairn_report_opts *opts);

/* Report name built as of as_of and rendered as one self-contained HTML page
 * into *html (malloc'd, *len bytes). 0, or CAIRN_EINVAL (as_of; err says so),
 * CAIRN_ENOENT (no such report; err names those there are), or an error of
 * the report. */
int web_report_page(cairn_store_t *s, const char *name, const char *as_of, char **html,
                    size_t *len, cairn_error_t *err);

#endif
