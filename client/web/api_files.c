/*
 * api_files.c — records in and out as files (docs/http.md, "Import and
 * export"): an import of a CSV or JSON body as `cairn import` does it
 * (cairn_import: all or none, each error with its line and column), and an
 * export as `cairn export` writes it, sent as an attachment: CSV and JSON
 * straight from cairn_export_stream, XLSX through a temporary file (libxlsxwriter
 * writes files only) that is removed once read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web_internal.h"

/* "true", "false" or absent (def) of a query parameter: 1, or 0 with a 400 in r. */
static int param_bool(const web_call_t *call, const char *name, int *out, web_reply_t *r) {
  const char *v = web_param(call, name);
  *out = v != NULL && strcmp(v, "true") == 0;
  if (v == NULL || strcmp(v, "true") == 0 || strcmp(v, "false") == 0)
    return 1;
  web_error(r, 400, "%s takes true or false, not '%s'", name, v);
  return 0;
}

/* ---- import ---- */

/* The format a Content-Type names (its parameters, such as charset, aside). */
static int format_of(const char *type, cairn_format_t *out) {
  size_t n = type != NULL ? strcspn(type, "; \t") : 0;
  if (n == 8 && strncasecmp(type, "text/csv", n) == 0)
    *out = CAIRN_FORMAT_CSV;
  else if (n == 16 && strncasecmp(type, "application/json", n) == 0)
    *out = CAIRN_FORMAT_JSON;
  else
    return 0;
  return 1;
}

/* Each error of the import as {"line", "column", "why", "text"}. */
static void on_error(const cairn_import_error_t *e, void *ud) {
  json_t *o = json_pack("{s:I, s:o, s:s, s:s}", "line", (json_int_t)e->line, "column",
                        e->column ? json_string(e->column) : json_null(), "why", e->why, "text",
                        e->text);
  if (o != NULL && json_array_append_new(ud, o) != 0)
    json_decref(o); /* out of memory: the count still says how many */
}

static json_t *imported(const cairn_import_result_t *res, int dry_run) {
  return json_pack("{s:I, s:I, s:I, s:I, s:I, s:b}", "rows", (json_int_t)res->rows, "created",
                   (json_int_t)res->created, "updated", (json_int_t)res->updated, "unchanged",
                   (json_int_t)res->unchanged, "entries", (json_int_t)res->entries, "dry_run",
                   dry_run);
}

/* A failed import: 422 with every error (rows that break the schema), 400 for a
 * file that is not CSV or JSON (its first error names the line), else the
 * library's code. */
static void import_failed(int rc, const cairn_import_result_t *res, const cairn_error_t *err,
                          json_t *errors, web_reply_t *r) {
  json_t *first = json_array_get(errors, 0);
  if (rc == CAIRN_EMALFORMED && first != NULL)
    web_error(r, 400, "%s", json_string_value(json_object_get(first, "text")));
  else
    web_fail(r, rc, err, "cannot import");
  if (r->body != NULL && json_array_size(errors) > 0 &&
      (json_object_set(r->body, "errors", errors) != 0 ||
       json_object_set_new(r->body, "error_count", json_integer((json_int_t)res->errors)) != 0))
    web_error(r, 500, "out of memory");
}

void web_route_import(const web_call_t *call, const char *type, web_reply_t *r) {
  static const char *const allowed[] = {"dry_run", "id_column", NULL};
  cairn_import_opts_t opts = {NULL, 0, 0};
  cairn_import_result_t res;
  cairn_error_t err = {0, ""};
  cairn_format_t fmt;
  json_t *errors;
  int rc;
  if (web_unknown_param(call, allowed, r) || !param_bool(call, "dry_run", &opts.dry_run, r))
    return;
  if (!format_of(call->content_type, &fmt)) {
    web_error(r, 415, "an import's body is CSV (Content-Type: text/csv) or JSON "
                      "(Content-Type: application/json), not '%s'",
              call->content_type ? call->content_type : "none");
    return;
  }
  if ((errors = json_array()) == NULL) {
    web_error(r, 500, "out of memory");
    return;
  }
  opts.id_column = web_param(call, "id_column");
  rc = cairn_import(call->store, type, fmt, call->body, call->body_len, &opts, on_error, errors,
                    &res, &err);
  if (rc == 0)
    web_reply_json(r, 200, imported(&res, opts.dry_run));
  else
    import_failed(rc, &res, &err, errors, r);
  json_decref(errors);
}

/* ---- export ---- */

static const char *content_type(cairn_format_t fmt) {
  switch (fmt) {
  case CAIRN_FORMAT_CSV:
    return "text/csv; charset=utf-8";
  case CAIRN_FORMAT_XLSX:
    return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  default:
    return "application/json; charset=utf-8";
  }
}

/* A whole file into memory (malloc'd). 0 or CAIRN_EIO, CAIRN_ENOMEM. */
static int read_whole(const char *path, char **out, size_t *len) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  int rc = 0;
  *out = NULL;
  if (f == NULL)
    return CAIRN_EIO;
  if (fstat(fileno(f), &st) != 0 || st.st_size < 0)
    rc = CAIRN_EIO;
  else if ((*out = malloc((size_t)st.st_size + 1)) == NULL)
    rc = CAIRN_ENOMEM;
  else if (fread(*out, 1, (size_t)st.st_size, f) != (size_t)st.st_size)
    rc = CAIRN_EIO;
  *len = rc == 0 ? (size_t)st.st_size : 0;
  if (fclose(f) != 0 && rc == 0)
    rc = CAIRN_EIO;
  if (rc != 0) {
    free(*out);
    *out = NULL;
  }
  return rc;
}

/* XLSX: written to a file in a fresh temporary directory, read, and removed. */
static int export_xlsx(cairn_store_t *s, const char *type, char **out, size_t *len,
                       cairn_error_t *err) {
  const char *tmp = getenv("TMPDIR");
  char dir[4096], path[4200];
  int rc;
  snprintf(dir, sizeof dir, "%s/cairn-export-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    snprintf(err->msg, sizeof err->msg, "cannot make a temporary directory for the workbook");
    return CAIRN_EIO;
  }
  snprintf(path, sizeof path, "%s/export.xlsx", dir);
  if ((rc = cairn_export_file(s, type, path, NULL, err)) == 0)
    rc = read_whole(path, out, len);
  unlink(path);
  rmdir(dir);
  return rc;
}

static int export_stream(cairn_store_t *s, const char *type, cairn_format_t fmt, char **out,
                         size_t *len, cairn_error_t *err) {
  FILE *f = open_memstream(out, len);
  int rc = f == NULL ? CAIRN_ENOMEM : cairn_export_stream(s, type, fmt, f, NULL, err);
  if (f != NULL && fclose(f) != 0 && rc == 0)
    rc = CAIRN_ENOMEM;
  if (rc != 0) {
    free(*out);
    *out = NULL;
  }
  return rc;
}

/* format= of an export: 1, or 0 with a 400 in r. */
static int export_format(const web_call_t *call, const char *type, cairn_format_t *fmt,
                         web_reply_t *r) {
  const char *v = web_param(call, "format");
  if (v == NULL)
    *fmt = type != NULL ? CAIRN_FORMAT_CSV : CAIRN_FORMAT_JSON;
  else if (strcmp(v, "csv") == 0 || strcmp(v, "json") == 0 || strcmp(v, "xlsx") == 0)
    *fmt = v[0] == 'c' ? CAIRN_FORMAT_CSV : v[0] == 'j' ? CAIRN_FORMAT_JSON : CAIRN_FORMAT_XLSX;
  else {
    web_error(r, 400, "format takes csv, json or xlsx, not '%s'", v);
    return 0;
  }
  if (type == NULL && *fmt == CAIRN_FORMAT_CSV) {
    web_error(r, 400, "a CSV file holds one type: export every type as json or xlsx, or one "
                      "TYPE as csv");
    return 0;
  }
  return 1;
}

void web_route_export(const web_call_t *call, const char *type, web_reply_t *r) {
  static const char *const allowed[] = {"format", NULL};
  static const char *const ext[] = {"", "csv", "json", "xlsx"};
  cairn_error_t err = {0, ""};
  cairn_format_t fmt;
  char *data = NULL;
  size_t len = 0;
  int rc;
  if (web_unknown_param(call, allowed, r) || !export_format(call, type, &fmt, r))
    return;
  rc = fmt == CAIRN_FORMAT_XLSX ? export_xlsx(call->store, type, &data, &len, &err)
                                : export_stream(call->store, type, fmt, &data, &len, &err);
  if (rc != 0) {
    web_fail(r, rc, &err, "cannot export");
    return;
  }
  json_decref(r->body);
  r->body = NULL;
  r->status = 200;
  r->raw = data;
  r->raw_len = len;
  r->raw_type = content_type(fmt);
  snprintf(r->filename, sizeof r->filename, "%s.%s", type != NULL ? type : "export", ext[fmt]);
  for (char *p = r->filename; *p != '\0'; p++) /* a name safe in a quoted header */
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
          *p == '.' || *p == '-' || *p == '_'))
      *p = '_';
}
