/*
 * web_internal.h — what the files of client/web share: one request as the API
 * sees it, the reply it builds, and the helpers every route uses. server.c
 * speaks HTTP (libmicrohttpd) and checks access; api.c routes and answers
 * records, changes, conflicts, the schema, reports, status and sync;
 * api_people.c members, invites and revocations; api_journal.c a record's
 * history and resolving its conflicts; api_files.c import and export. The JSON
 * shapes are the library's (cairn.h, "JSON views"), the CLI's too.
 */
#ifndef CAIRN_WEB_INTERNAL_H
#define CAIRN_WEB_INTERNAL_H

#include <jansson.h>
#include <sys/types.h>

#include "cairn.h"

/* A query-string parameter of the request (repeats kept, in order). */
typedef struct web_param {
  const char *name;
  const char *value; /* "" for `?name` without '=' */
} web_param_t;

/* A sync run in a child process (bgsync.c). */
typedef struct web_bgsync {
  const char *const *argv; /* the command; NULL: none (borrowed from the opts) */
  pid_t pid;               /* the running child; 0: none */
  int fd;                  /* the read end of its output; -1: none */
  char out[1024];          /* the latest of its output */
  size_t out_len;
  uint64_t started_ms, finished_ms;
  int done, ok;            /* one has finished, and whether it exited 0 */
  char message[512];       /* the last one's last line ("pushed 3, pulled 0, ...") */
} web_bgsync_t;

void web_bgsync_init(web_bgsync_t *b, const char *const *argv);
/* Start a sync: 0, CAIRN_EBUSY (one is running), CAIRN_EINVAL (no command), or
 * CAIRN_EIO (cannot spawn); err says which. */
int web_bgsync_start(web_bgsync_t *b, cairn_error_t *err);
/* Read the child's output and reap it if it has ended, without blocking. */
void web_bgsync_poll(web_bgsync_t *b);
/* {"running", "started_ms", "finished_ms", "ok", "message"} (the last three
 * null until one has finished); NULL when out of memory. */
json_t *web_bgsync_json(web_bgsync_t *b);
/* Stop a running child (SIGTERM; SIGKILL after 5 s) and close the pipe. */
void web_bgsync_stop(web_bgsync_t *b);

/* One API request, after the access checks. Every pointer is borrowed. */
typedef struct web_call {
  cairn_store_t *store;
  const char *method; /* "GET", "PUT"... */
  const char *path;   /* after "/api/", decoded: "records/task/t1" */
  const web_param_t *params;
  size_t nparams;
  const char *body; /* NUL-terminated; "" when none */
  size_t body_len;
  const char *content_type; /* the request's Content-Type header; NULL when none */
  unsigned sync_timeout_ms;
  web_bgsync_t *bgsync; /* the server's background sync */
} web_call_t;

#define WEB_FILENAME_MAX (CAIRN_TYPE_MAX + 8)

/* What the API answers: a status and a JSON document, or a file (raw set). */
typedef struct web_reply {
  unsigned status;
  json_t *body;      /* owned; NULL: an empty body (or the file) */
  const char *allow; /* 405: the methods allowed */
  char *raw;         /* owned (malloc'd): a file sent as it is, instead of body */
  size_t raw_len;
  const char *raw_type;            /* the file's Content-Type */
  char filename[WEB_FILENAME_MAX]; /* sent as an attachment of that name; "" inline */
} web_reply_t;

/* Answer call (any route under /api/). Always fills r (an error as
 * {"error": "..."} with its status). */
void web_api(const web_call_t *call, web_reply_t *r);

/* An empty reply of status 500 (until a route fills it); server.c sends and
 * releases it. */
void web_reply_init(web_reply_t *r);

/* ---- helpers for the routes (api.c) ---- */

/* Fill r with {"error": message} and status; returns status. */
unsigned web_error(web_reply_t *r, unsigned status, const char *fmt, ...) CAIRN_PRINTF(3, 4);
/* The HTTP status of a library error code. */
unsigned web_status_of(int rc);
/* A library failure: err's message when it has one, else what and the code's text. */
void web_fail(web_reply_t *r, int rc, const cairn_error_t *err, const char *what);
/* Reply body (owned; NULL: out of memory, a 500) with status. */
void web_reply_json(web_reply_t *r, unsigned status, json_t *body);
/* The last value of query parameter name, or NULL. */
const char *web_param(const web_call_t *call, const char *name);
/* Refuse any query parameter not in allowed (NULL-terminated; NULL: none is
 * allowed): 1 if refused (400 in r). */
int web_unknown_param(const web_call_t *call, const char *const *allowed, web_reply_t *r);
/* A route taking one method: 1 when call has it, else 0 with a 405 in r. */
int web_only(const web_call_t *call, const char *method, web_reply_t *r);
/* The body as a JSON object (new reference), or NULL with a 400 in r. */
json_t *web_body_object(const web_call_t *call, web_reply_t *r);
/* Split "TYPE/ID" (route names the route for the message): 1, or 0 with a 404 in r. */
int web_target(const char *rest, const char *route, char type[CAIRN_TYPE_MAX + 1],
               char id[CAIRN_ID_MAX + 1], web_reply_t *r);
/* The record as GET /api/records/TYPE/ID answers it (with "_conflicts"), or 404. */
void web_record_reply(const web_call_t *call, const char *type, const char *id,
                      web_reply_t *r);
/* Put each field of obj (values as a form sends them: cairn_change_put_value)
 * in change c; resolve as cairn_change_put. 0 or a CAIRN_E* code with err set. */
int web_put_fields(cairn_change_t *c, const char *type, const char *id, json_t *obj,
                   int resolve, cairn_error_t *err);

/* ---- routes in their own files ---- */

/* GET members (api_people.c) */
void web_route_members(const web_call_t *call, web_reply_t *r);
/* POST invites */
void web_route_invites(const web_call_t *call, web_reply_t *r);
/* POST revoke/KEY */
void web_route_revoke(const web_call_t *call, const char *key, web_reply_t *r);
/* GET history/TYPE/ID (api_journal.c) */
void web_route_history(const web_call_t *call, const char *rest, web_reply_t *r);
/* POST resolve/TYPE/ID */
void web_route_resolve(const web_call_t *call, const char *rest, web_reply_t *r);
/* POST import/TYPE (api_files.c) */
void web_route_import(const web_call_t *call, const char *type, web_reply_t *r);
/* GET export/TYPE, or export (type NULL: every type) */
void web_route_export(const web_call_t *call, const char *type, web_reply_t *r);


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

struct cairn_report_doc;
/* Report name built as of as_of (NULL or "" for now; a date means the end of
 * that day, as `cairn report --as-of`). 0, or CAIRN_EINVAL (as_of is not a date,
 * a time or a number of days ago; err says so), CAIRN_ENOENT (no such report;
 * err names those there are), or an error of the report. */
int web_report_build(cairn_store_t *s, const char *name, const char *as_of,
                     struct cairn_report_doc **doc, cairn_error_t *err);

/* Report name as web_report_build makes it, rendered as one self-contained
 * HTML page into *html (malloc'd, *len bytes). 0 or web_report_build's codes,
 * CAIRN_ENOMEM. */
int web_report_page(cairn_store_t *s, const char *name, const char *as_of, char **html,
                    size_t *len, cairn_error_t *err);

#endif
