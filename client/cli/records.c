/*
 * records.c — the record commands: put, add, get, del, purge, resolve
 * (docs/cli.md, "Records"; list and types are in query.c). Arguments are checked before the store is opened, so a
 * mistyped command line is a usage error whatever state the store is in. Each
 * writing command is one change, hence one signed entry.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Field arguments parsed from `name=text` / `name:=JSON`. */
typedef struct fields {
  char **name;
  uint8_t **value;
  size_t *len;
  const char **text; /* name=text: the text, typed by the schema at write time */
  int n;
} fields_t;

static void fields_free(fields_t *f) {
  for (int i = 0; i < f->n; i++) {
    free(f->name[i]);
    free(f->value[i]);
  }
  free(f->name);
  free(f->value);
  free(f->len);
  free(f->text);
  memset(f, 0, sizeof *f);
}

static int fields_parse(cli_t *cli, char **args, int n, fields_t *f) {
  memset(f, 0, sizeof *f);
  f->name = calloc((size_t)n + 1, sizeof *f->name);
  f->value = calloc((size_t)n + 1, sizeof *f->value);
  f->len = calloc((size_t)n + 1, sizeof *f->len);
  f->text = calloc((size_t)n + 1, sizeof *f->text);
  if (f->name == NULL || f->value == NULL || f->len == NULL || f->text == NULL) {
    fields_free(f);
    return cli_fail(cli, "out of memory");
  }
  for (int i = 0; i < n; i++) {
    cairn_error_t err = {0, ""};
    int rc = cairn_value_parse_arg(args[i], &f->name[i], &f->value[i], &f->len[i], &err);
    if (rc != 0) {
      fields_free(f);
      if (rc == CAIRN_ENOMEM)
        return cli_fail(cli, "out of memory");
      return cli_usage(cli, "%s", err.msg[0] ? err.msg : cairn_strerror(rc));
    }
    const char *eq = strchr(args[i], '=');
    if (eq > args[i] && eq[-1] != ':')
      f->text[i] = eq + 1;
    f->n = i + 1;
  }
  return 0;
}

static int check_target(cli_t *cli, const char *type, const char *id) {
  int rc = cli_check_name(cli, "record type", type, CAIRN_TYPE_MAX);
  return rc != 0 ? rc : cli_check_name(cli, "record id", id, CAIRN_ID_MAX);
}

/* Put every field on (type, id) in one change and commit it. */
static int write_fields(cli_t *cli, const char *type, const char *id, const fields_t *f,
                        int resolve) {
  cairn_change_t *c;
  int rc = cairn_change_begin(cli->store, &c);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot start a change");
  for (int i = 0; i < f->n; i++) {
    cairn_error_t err = {0, ""};
    if (f->text[i] != NULL && !resolve)
      rc = cairn_change_put_text(c, type, id, f->name[i], f->text[i], &err);
    else
      rc = cairn_change_put(c, type, id, f->name[i], f->value[i], f->len[i], resolve);
    if (rc != 0) {
      cairn_change_abort(c);
      return cli_fail_rc(cli, rc, &err, "cannot set the field");
    }
  }
  return cli_commit(cli, c, NULL);
}

/* put and resolve: TYPE ID FIELD=VALUE... */
static int put_like(cli_t *cli, int argc, char **argv, int resolve) {
  cli_args_t a;
  fields_t f;
  int rc = cli_args_parse(cli, argc, argv, NULL, 3, -1, &a);
  if (rc != 0)
    return rc;
  if ((rc = check_target(cli, a.pos[0], a.pos[1])) == 0 &&
      (rc = fields_parse(cli, a.pos + 2, a.npos - 2, &f)) == 0) {
    if ((rc = cli_open(cli)) == 0 &&
        (!resolve || (rc = cli_need_record(cli, a.pos[0], a.pos[1], 0)) == 0))
      rc = write_fields(cli, a.pos[0], a.pos[1], &f, resolve);
    fields_free(&f);
  }
  cli_args_free(&a);
  return rc;
}

int cmd_put(cli_t *cli, int argc, char **argv) {
  return put_like(cli, argc, argv, 0);
}

int cmd_resolve(cli_t *cli, int argc, char **argv) {
  return put_like(cli, argc, argv, 1);
}

/* A new id: 12 hex digits of the millisecond clock, then 8 random ones, so that
 * ids sort by creation time. */
static void new_id(char out[21]) {
  uint64_t ms = cairn_now_ms();
  snprintf(out, 21, "%012llx%08lx", (unsigned long long)(ms & 0xffffffffffffULL),
           (unsigned long)randombytes_random());
}

int cmd_add(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  fields_t f;
  char id[21];
  int rc = cli_args_parse(cli, argc, argv, NULL, 2, -1, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_check_name(cli, "record type", a.pos[0], CAIRN_TYPE_MAX)) == 0 &&
      (rc = fields_parse(cli, a.pos + 1, a.npos - 1, &f)) == 0) {
    new_id(id);
    if ((rc = cli_open(cli)) == 0 && (rc = write_fields(cli, a.pos[0], id, &f, 0)) == 0)
      printf("%s\n", id);
    fields_free(&f);
  }
  cli_args_free(&a);
  return rc;
}

/* ---- get ---- */

typedef struct show_ctx {
  const cairn_schema_t *schema;
  int json;
  int rc; /* CAIRN_E* code from a callback */
  json_t *out;
} show_ctx_t;

/* FIELD<TAB>VALUE */
static int show_field(const cairn_record_field_t *f, void *ud) {
  show_ctx_t *c = ud;
  char *text;
  if ((c->rc = cli_value_text(f->value, f->value_len, &text)) == 0)
    printf("%.*s\t%s\n", (int)f->name_len, f->name, text);
  free(text);
  return c->rc != 0;
}

static int show_record(const cairn_record_t *r, void *ud) {
  show_ctx_t *c = ud;
  if (c->json) {
    c->out = cli_record_json(r);
    c->rc = c->out != NULL ? 0 : CAIRN_ENOMEM;
    return 0;
  }
  cairn_schema_fields(c->schema, r, show_field, c);
  return 0;
}

static const char *const json_opt[] = {"json", NULL};

int cmd_get(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  show_ctx_t c = {NULL, 0, 0, NULL};
  int rc = cli_args_parse(cli, argc, argv, json_opt, 2, 2, &a);
  if (rc != 0)
    return rc;
  c.json = cli_flag(&a, "json");
  if ((rc = check_target(cli, a.pos[0], a.pos[1])) == 0 && (rc = cli_open(cli)) == 0 &&
      (rc = cli_need_record(cli, a.pos[0], a.pos[1], 0)) == 0) {
    c.schema = cli->schema;
    rc = cairn_get(cli->store, a.pos[0], a.pos[1], show_record, &c);
    if (rc == 0)
      rc = c.rc;
    if (rc != 0)
      rc = cli_fail_rc(cli, rc, NULL, "cannot read the record");
    else if (c.json)
      rc = cli_print_json(cli, c.out), c.out = NULL;
  }
  json_decref(c.out);
  cli_args_free(&a);
  return rc;
}

/* ---- del, purge ---- */

static int remove_record(cli_t *cli, int argc, char **argv, int purge) {
  cli_args_t a;
  cairn_change_t *c;
  int rc = cli_args_parse(cli, argc, argv, NULL, 2, 2, &a);
  if (rc != 0)
    return rc;
  if ((rc = check_target(cli, a.pos[0], a.pos[1])) == 0 && (rc = cli_open(cli)) == 0 &&
      (rc = cli_need_record(cli, a.pos[0], a.pos[1], purge)) == 0) {
    if ((rc = cairn_change_begin(cli->store, &c)) != 0) {
      rc = cli_fail_rc(cli, rc, NULL, "cannot start a change");
    } else {
      rc = purge ? cairn_change_purge(c, a.pos[0], a.pos[1])
                 : cairn_change_del(c, a.pos[0], a.pos[1]);
      if (rc != 0) {
        cairn_change_abort(c);
        rc = cli_fail_rc(cli, rc, NULL, purge ? "cannot purge" : "cannot delete");
      } else {
        rc = cli_commit(cli, c, NULL);
      }
    }
  }
  cli_args_free(&a);
  return rc;
}

int cmd_del(cli_t *cli, int argc, char **argv) {
  return remove_record(cli, argc, argv, 0);
}

int cmd_purge(cli_t *cli, int argc, char **argv) {
  return remove_record(cli, argc, argv, 1);
}
