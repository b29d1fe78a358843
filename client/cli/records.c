/*
 * records.c — the record commands: put, add, get, del, purge, resolve, unset
 * (docs/cli.md, "Records"; list and types are in query.c). Arguments are
 * checked before the store is opened, so a mistyped command line is a usage
 * error whatever state the store is in. Each writing command is one change,
 * hence one signed entry. `get` marks the fields in conflict, and `resolve`
 * writes only those.
 */
#include <sodium.h>
#include <stdbool.h>
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

/* Put every field on (type, id) in one change and commit it; keep: the change
 * also keeps the record (it ends a delete/edit conflict). */
static int write_fields(cli_t *cli, const char *type, const char *id, const fields_t *f,
                        int resolve, int keep) {
  cairn_change_t *c;
  int rc = cairn_change_begin(cli->store, &c);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot start a change");
  if (keep && (rc = cairn_change_keep(c, type, id)) != 0) {
    cairn_change_abort(c);
    return cli_fail_rc(cli, rc, NULL, "cannot keep the record");
  }
  for (int i = 0; i < f->n; i++) {
    cairn_error_t err = {0, ""};
    if (f->text[i] != NULL)
      rc = cairn_change_put_text(c, type, id, f->name[i], f->text[i], resolve, &err);
    else
      rc = cairn_change_put(c, type, id, f->name[i], f->value[i], f->len[i], resolve);
    if (rc != 0) {
      cairn_change_abort(c);
      return cli_fail_rc(cli, rc, &err, "cannot set the field");
    }
  }
  return cli_commit(cli, c, NULL);
}

/* resolve writes only what is in conflict: each field, and --keep a record in a
 * delete/edit conflict (cairn_resolve_check). 0, or the exit code after printing. */
static int check_resolvable(cli_t *cli, const char *type, const char *id, const fields_t *f,
                            int keep) {
  cairn_error_t err = {0, ""};
  int rc = cairn_resolve_check(cli->store, type, id, (const char *const *)f->name,
                               (size_t)f->n, keep, &err);
  if (rc == CAIRN_EINVAL)
    return cli_fail(cli, "%s", err.msg);
  return rc != 0 ? cli_fail_rc(cli, rc, &err, "cannot read the record's conflicts") : 0;
}

/* put and resolve: TYPE ID FIELD=VALUE... (resolve: or TYPE ID --keep) */
static int put_like(cli_t *cli, int argc, char **argv, int resolve) {
  static const char *const keep_opt[] = {"keep", NULL};
  cli_args_t a;
  fields_t f;
  int rc = cli_args_parse(cli, argc, argv, resolve ? keep_opt : NULL, resolve ? 2 : 3, -1, &a);
  if (rc != 0)
    return rc;
  int keep = resolve && cli_flag(&a, "keep");
  if (a.npos == 2 && !keep)
    rc = cli_usage(cli, "give the fields to write (FIELD=VALUE...), or --keep");
  if (rc == 0 && (rc = check_target(cli, a.pos[0], a.pos[1])) == 0 &&
      (rc = fields_parse(cli, a.pos + 2, a.npos - 2, &f)) == 0) {
    if ((rc = cli_open(cli)) == 0 &&
        (!resolve || ((rc = cli_need_record(cli, a.pos[0], a.pos[1], 0)) == 0 &&
                      (rc = check_resolvable(cli, a.pos[0], a.pos[1], &f, keep)) == 0)))
      rc = write_fields(cli, a.pos[0], a.pos[1], &f, resolve, keep);
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

/* unset TYPE ID FIELD...: each field written nil (absent), as `FIELD:=null`. */
int cmd_unset(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  fields_t f;
  char **args = NULL;
  int rc = cli_args_parse(cli, argc, argv, NULL, 3, -1, &a);
  if (rc != 0)
    return rc;
  if ((rc = check_target(cli, a.pos[0], a.pos[1])) == 0 &&
      (args = calloc((size_t)a.npos, sizeof *args)) == NULL)
    rc = cli_fail(cli, "out of memory");
  for (int i = 2; rc == 0 && i < a.npos; i++) {
    size_t n = strlen(a.pos[i]) + sizeof ":=null";
    if (strchr(a.pos[i], '=') != NULL)
      rc = cli_usage(cli, "give field names only ('%s' holds '=')", a.pos[i]);
    else if ((args[i - 2] = malloc(n)) == NULL)
      rc = cli_fail(cli, "out of memory");
    else
      snprintf(args[i - 2], n, "%s:=null", a.pos[i]);
  }
  if (rc == 0 && (rc = fields_parse(cli, args, a.npos - 2, &f)) == 0) {
    if ((rc = cli_open(cli)) == 0 && (rc = cli_need_record(cli, a.pos[0], a.pos[1], 0)) == 0)
      rc = write_fields(cli, a.pos[0], a.pos[1], &f, 0, 0);
    fields_free(&f);
  }
  for (int i = 0; args != NULL && i < a.npos; i++)
    free(args[i]);
  free(args);
  cli_args_free(&a);
  return rc;
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
    if ((rc = cli_open(cli)) == 0 && (rc = write_fields(cli, a.pos[0], id, &f, 0, 0)) == 0)
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
  json_t *conflicts; /* cli_record_conflicts */
  bool *shown;       /* text: which of them were printed */
} show_ctx_t;

/* Who wrote a head: the member's name, else the key. */
static const char *head_who(const json_t *h) {
  const char *name = json_string_value(json_object_get(h, "name"));
  return name != NULL ? name : json_string_value(json_object_get(h, "author"));
}

/* A conflicted field: FIELD TEXT `in conflict` WHO TIME for the visible head,
 * then TAB TEXT WHO TIME for each other head. */
static void print_conflicted(show_ctx_t *c, size_t i) {
  const json_t *item = json_array_get(c->conflicts, i);
  const char *field = json_string_value(json_object_get(item, "field"));
  size_t k;
  json_t *h;
  c->shown[i] = true;
  json_array_foreach(json_object_get(item, "heads"), k, h) {
    const char *text = json_string_value(json_object_get(h, "text"));
    const char *when = json_string_value(json_object_get(h, "time"));
    if (k == 0)
      printf("%s\t%s\tin conflict\t%s\t%s\n", field, text, head_who(h), when);
    else
      printf("\t%s\t%s\t%s\n", text, head_who(h), when);
  }
}

/* The index of field name (len bytes) in a record's conflicts, or their count. */
static size_t conflict_index(const json_t *conflicts, const char *name, size_t len) {
  size_t i;
  json_t *item;
  json_array_foreach(conflicts, i, item) {
    const char *f = json_string_value(json_object_get(item, "field"));
    if (f != NULL && strlen(f) == len && memcmp(f, name, len) == 0)
      return i;
  }
  return json_array_size(conflicts);
}

/* FIELD<TAB>VALUE, or the field's conflict */
static int show_field(const cairn_record_field_t *f, void *ud) {
  show_ctx_t *c = ud;
  char *text;
  size_t i = conflict_index(c->conflicts, f->name, f->name_len);
  if (i < json_array_size(c->conflicts)) {
    print_conflicted(c, i);
    return 0;
  }
  if ((c->rc = cli_value_text(f->value, f->value_len, &text)) == 0)
    printf("%.*s\t%s\n", (int)f->name_len, f->name, text);
  free(text);
  return c->rc != 0;
}

/* Text: the delete/edit conflict first, then the fields as people see them, those
 * in conflict with their heads, then the conflicts of fields not shown (their
 * visible value is unset). */
static int show_text(show_ctx_t *c, const cairn_record_t *r) {
  size_t n = json_array_size(c->conflicts);
  size_t del = conflict_index(c->conflicts, CAIRN_DELETED_FIELD, strlen(CAIRN_DELETED_FIELD));
  if ((c->shown = calloc(n + 1, sizeof *c->shown)) == NULL)
    return CAIRN_ENOMEM;
  if (del < n)
    print_conflicted(c, del);
  cairn_schema_fields(c->schema, r, show_field, c);
  for (size_t i = 0; c->rc == 0 && i < n; i++)
    if (!c->shown[i])
      print_conflicted(c, i);
  return c->rc;
}

/* JSON: the record, and "_conflicts": field -> its other heads (the visible one
 * is the field's value), the delete/edit conflict as "_deleted" -> the deletes. */
static json_t *show_json(const cairn_record_t *r, json_t *conflicts) {
  json_t *o = cli_record_json(r), *marks = json_object(), *item;
  size_t i;
  if (o == NULL || marks == NULL)
    goto fail;
  json_array_foreach(conflicts, i, item) {
    json_t *heads = json_object_get(item, "heads"), *others = json_array(), *h;
    size_t k;
    if (others == NULL ||
        json_object_set_new(marks, json_string_value(json_object_get(item, "field")), others))
      goto fail;
    json_array_foreach(heads, k, h) {
      if (json_object_del(h, "text") != 0 || (k > 0 && json_array_append(others, h) != 0))
        goto fail;
    }
  }
  if (json_object_size(marks) > 0 && json_object_set(o, "_conflicts", marks) != 0)
    goto fail;
  json_decref(marks);
  return o;
fail:
  json_decref(marks);
  json_decref(o);
  return NULL;
}

static int show_record(const cairn_record_t *r, void *ud) {
  show_ctx_t *c = ud;
  if (c->json) {
    c->out = show_json(r, c->conflicts);
    c->rc = c->out != NULL ? 0 : CAIRN_ENOMEM;
    return 0;
  }
  c->rc = show_text(c, r);
  return 0;
}

static const char *const json_opt[] = {"json", NULL};

int cmd_get(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  show_ctx_t c = {NULL, 0, 0, NULL, NULL, NULL};
  int rc = cli_args_parse(cli, argc, argv, json_opt, 2, 2, &a);
  if (rc != 0)
    return rc;
  c.json = cli_flag(&a, "json");
  if ((rc = check_target(cli, a.pos[0], a.pos[1])) == 0 && (rc = cli_open(cli)) == 0 &&
      (rc = cli_need_record(cli, a.pos[0], a.pos[1], 0)) == 0 &&
      (rc = cli_record_conflicts(cli, a.pos[0], a.pos[1], &c.conflicts)) == 0) {
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
  json_decref(c.conflicts);
  free(c.shown);
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
