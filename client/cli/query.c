/*
 * query.c — `cairn list` (typed queries) and `cairn types` (docs/cli.md,
 * "Records"). The query itself is libcairn's (cairn_query_*, client/lib/list.c):
 * this file turns options into it and prints what it finds as text, JSON or CSV.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum { OUT_TEXT, OUT_JSON, OUT_CSV };

typedef struct list_ctx {
  cli_t *cli;
  cairn_query_t *q;
  int out;
  int rc;       /* CAIRN_E* code from a callback */
  json_t *rows; /* JSON and CSV: the records as objects */
} list_ctx_t;

/* The chosen fields of r (cairn_query_fields), or all of them as people see them. */
static int text_fields(list_ctx_t *c, const cairn_record_t *r) {
  uint8_t idbuf[CAIRN_QUERY_IDBUF];
  cairn_record_field_t f;
  int rc = 0;
  if (cairn_query_nfields(c->q) == 0)
    return cli_print_record_fields(r);
  for (size_t i = 0; rc == 0 && i < cairn_query_nfields(c->q); i++)
    if (cairn_query_value(c->q, r, i, idbuf, &f))
      rc = cli_print_field(f.name, f.name_len, f.value, f.value_len);
  return rc;
}

static int list_one(const cairn_record_t *r, void *ud) {
  list_ctx_t *c = ud;
  if (c->out != OUT_TEXT) {
    json_t *o = cairn_record_object(c->cli->schema, c->q, r);
    if (o == NULL || json_array_append_new(c->rows, o) != 0)
      c->rc = CAIRN_ENOMEM;
    return c->rc != 0;
  }
  printf("%.*s", (int)r->id_len, r->id);
  c->rc = text_fields(c, r);
  if (r->deleted)
    printf("\t_deleted=true");
  putchar('\n');
  return c->rc != 0;
}

/* ---- CSV (RFC 4180 quoting; lines end with LF) ---- */

static void csv_cell(const char *s) {
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, stdout);
    return;
  }
  putchar('"');
  for (; *s; s++) {
    if (*s == '"')
      putchar('"');
    putchar(*s);
  }
  putchar('"');
}

/* A cell: a string as it is, absent as nothing, anything else as compact JSON. */
static int csv_value(const json_t *v) {
  char *dump;
  if (v == NULL)
    return 0;
  if (json_is_string(v)) {
    csv_cell(json_string_value(v));
    return 0;
  }
  if ((dump = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY)) == NULL)
    return CAIRN_ENOMEM;
  csv_cell(dump);
  free(dump);
  return 0;
}

static int column_add(json_t *cols, const char *name) {
  size_t i;
  json_t *v;
  json_array_foreach(cols, i, v) {
    if (strcmp(json_string_value(v), name) == 0)
      return 0;
  }
  return json_array_append_new(cols, json_string(name)) != 0 ? CAIRN_ENOMEM : 0;
}

/* The columns: the chosen fields; else the type's fields in the schema's order,
 * then any other field the records hold, as first met. */
static int csv_columns(list_ctx_t *c, const char *type, int deleted, json_t *cols) {
  const cairn_schema_type_t *t = cairn_schema_type(c->cli->schema, type);
  size_t n = cairn_query_nfields(c->q), i;
  const char *key;
  json_t *row, *v;
  int rc = 0;
  for (i = 0; rc == 0 && i < n; i++)
    rc = column_add(cols, cairn_query_field_name(c->q, i));
  for (i = 0; rc == 0 && n == 0 && t != NULL && i < t->nfields; i++)
    if (!t->fields[i].hidden)
      rc = column_add(cols, t->fields[i].name);
  json_array_foreach(c->rows, i, row) {
    json_object_foreach(row, key, v) {
      if (rc == 0 && n == 0 && key[0] != '_')
        rc = column_add(cols, key);
    }
  }
  if (rc == 0 && deleted)
    rc = column_add(cols, "_deleted");
  return rc;
}

static int print_csv(list_ctx_t *c, const char *type, int deleted) {
  json_t *cols = json_array(), *row, *col;
  size_t i, j;
  int rc = cols != NULL ? csv_columns(c, type, deleted, cols) : CAIRN_ENOMEM;
  if (rc == 0) {
    fputs("_id", stdout);
    json_array_foreach(cols, j, col) {
      putchar(',');
      csv_cell(json_string_value(col));
    }
    putchar('\n');
  }
  json_array_foreach(c->rows, i, row) {
    if (rc != 0)
      break;
    rc = csv_value(json_object_get(row, "_id"));
    json_array_foreach(cols, j, col) {
      putchar(',');
      if (rc == 0)
        rc = csv_value(json_object_get(row, json_string_value(col)));
    }
    putchar('\n');
  }
  json_decref(cols);
  return rc;
}

/* ---- list ---- */

/* A query error: a malformed expression is a usage error, the rest fail. */
static int query_fail(cli_t *cli, int rc, const cairn_error_t *err) {
  if (rc == CAIRN_EINVAL)
    return cli_usage(cli, "%s", err->msg[0] ? err->msg : cairn_strerror(rc));
  return cli_fail_rc(cli, rc, err, "cannot list the records");
}

/* Every --where, --search, --sort and --fields, in order. */
static int query_build(cli_t *cli, const cli_args_t *a, cairn_query_t *q) {
  for (int i = 0; i < a->nopt; i++) {
    cairn_error_t err = {0, ""};
    const cli_opt_t *o = &a->opt[i];
    int rc = 0;
    if (strcmp(o->name, "where=") == 0)
      rc = cairn_query_where(q, o->value, &err);
    else if (strcmp(o->name, "search=") == 0)
      rc = cairn_query_search(q, o->value, &err);
    else if (strcmp(o->name, "sort=") == 0)
      rc = cairn_query_sort(q, o->value, &err);
    else if (strcmp(o->name, "fields=") == 0)
      rc = cairn_query_fields(q, o->value, &err);
    if (rc != 0)
      return query_fail(cli, rc, &err);
  }
  return 0;
}

static int list_run(cli_t *cli, const cli_args_t *a, list_ctx_t *c) {
  cairn_error_t err = {0, ""};
  unsigned long limit;
  int rc = cli_opt_number(cli, a, "limit", 1, 1000000000UL, 0, &limit);
  if (rc != 0)
    return rc;
  if ((rc = cli_open(cli)) != 0)
    return rc;
  if ((rc = cairn_query_new(cli->store, cli->schema, a->pos[0], &c->q, &err)) != 0)
    return query_fail(cli, rc, &err);
  if ((rc = query_build(cli, a, c->q)) != 0)
    return rc;
  cairn_query_limit(c->q, limit);
  cairn_query_deleted(c->q, cli_flag(a, "deleted"));
  if (c->out != OUT_TEXT && (c->rows = json_array()) == NULL)
    return cli_fail(cli, "out of memory");
  if ((rc = cairn_query_run(c->q, list_one, c)) != 0 || (rc = c->rc) != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot list the records");
  if (c->out == OUT_JSON) {
    rc = cli_print_json(cli, c->rows);
    c->rows = NULL;
    return rc;
  }
  if (c->out == OUT_CSV && (rc = print_csv(c, a->pos[0], cli_flag(a, "deleted"))) != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot print the records");
  return 0;
}

static const char *const list_opts[] = {"json",   "csv",     "where=",  "search=", "sort=",
                                        "fields=", "limit=", "deleted", NULL};

int cmd_list(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  list_ctx_t c = {cli, NULL, OUT_TEXT, 0, NULL};
  int rc = cli_args_parse(cli, argc, argv, list_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  c.out = cli_flag(&a, "csv") ? OUT_CSV : cli_flag(&a, "json") ? OUT_JSON : OUT_TEXT;
  if (cli_flag(&a, "csv") && cli_flag(&a, "json"))
    rc = cli_usage(cli, "give --json or --csv, not both");
  else if ((rc = cli_check_name(cli, "record type", a.pos[0], CAIRN_TYPE_MAX)) == 0)
    rc = list_run(cli, &a, &c);
  json_decref(c.rows);
  cairn_query_free(c.q);
  cli_args_free(&a);
  return rc;
}

/* ---- types ---- */

static int print_types(cli_t *cli, const cairn_type_count_t *v, size_t n, int json) {
  json_t *arr = json ? json_array() : NULL;
  for (size_t i = 0; i < n; i++) {
    if (!json) {
      printf("%s\t%llu%s%s\n", v[i].type, (unsigned long long)v[i].count,
             v[i].label[0] ? "\t" : "", v[i].label);
      continue;
    }
    json_t *o = json_pack("{s:s, s:I, s:s}", "type", v[i].type, "count",
                          (json_int_t)v[i].count, "label", v[i].label);
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      return cli_fail(cli, "out of memory");
    }
  }
  return json ? cli_print_json(cli, arr) : 0;
}

static const char *const types_opts[] = {"json", NULL};

int cmd_types(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_type_count_t *v = NULL;
  size_t n = 0;
  int rc = cli_args_parse(cli, argc, argv, types_opts, 0, 0, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_open(cli)) == 0) {
    if ((rc = cairn_types(cli->store, cli->schema, &v, &n)) != 0)
      rc = cli_fail_rc(cli, rc, NULL, "cannot count the records");
    else
      rc = print_types(cli, v, n, cli_flag(&a, "json"));
  }
  cairn_types_free(v, n);
  cli_args_free(&a);
  return rc;
}
