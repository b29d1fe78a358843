/*
 * journal.c — what happened and who did it: `history` of one record, the open
 * `conflicts` (also one record's, which `get` marks), the `log` of entries in
 * this replica's arrival order, and the network-wide feed of `changes`
 * (cairn_changes: the library orders and filters, this file only prints). The
 * JSON is the library's (cairn_history_json, cairn_conflicts_json,
 * cairn_heads_json, cairn_changes_item_json), the web app's too; history's
 * text is printed from it. Authors are printed as their key and, from the
 * `_member` records, their name.
 * Times are the HLC's milliseconds (hlc >> 16) in ISO-8601 UTC.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const json_opt[] = {"json", NULL};

/* The shared state of a walk: the output array (JSON) and the first failure. */
typedef struct walk_ctx {
  cairn_store_t *store;
  cli_members_t members;
  json_t *out; /* NULL in text mode */
  int rc;      /* a CAIRN_E* code from a callback */
} walk_ctx_t;

/* Begin a walk: members loaded, the output array made when json. */
static int walk_begin(cli_t *cli, walk_ctx_t *c, int json) {
  int rc;
  memset(c, 0, sizeof *c);
  if ((rc = cli_open(cli)) != 0 || (rc = cli_members_load(cli, &c->members)) != 0)
    return rc;
  c->store = cli->store;
  if (json && (c->out = json_array()) == NULL) {
    cli_members_free(&c->members);
    return cli_fail(cli, "out of memory");
  }
  return 0;
}

/* End a walk: report rc (the store's) or c->rc, else print the JSON. */
static int walk_end(cli_t *cli, walk_ctx_t *c, int rc, const char *what) {
  if (rc == 0)
    rc = c->rc;
  if (rc != 0)
    rc = cli_fail_rc(cli, rc, NULL, what);
  else if (c->out != NULL)
    rc = cli_print_json(cli, c->out), c->out = NULL;
  json_decref(c->out);
  cli_members_free(&c->members);
  return rc;
}

/* ---- history ---- */

/* TIME AUTHOR NAME [refused: WHY] [deleted|purged|kept] FIELD=VALUE... of one
 * change of cairn_history_json. */
static int history_line(const json_t *ch) {
  const char *op = json_string_value(json_object_get(ch, "op"));
  const char *refused = json_string_value(json_object_get(ch, "refused"));
  const char *name = json_string_value(json_object_get(ch, "name"));
  json_t *fields = json_object_get(ch, "fields"), *v;
  const char *field;
  printf("%s\t%s\t%s", json_string_value(json_object_get(ch, "time")),
         json_string_value(json_object_get(ch, "author")), name ? name : "");
  if (refused != NULL)
    printf("\trefused: %s", refused);
  if (strcmp(op, "del") == 0 || strcmp(op, "purge") == 0)
    printf("\t%s", strcmp(op, "del") == 0 ? "deleted" : "purged");
  if (strcmp(op, "put") == 0 && json_object_size(fields) == 0)
    printf("\tkept"); /* a put that only keeps the record (resolve --keep) */
  json_object_foreach(fields, field, v) {
    char *text;
    int rc = cli_json_text(v, &text);
    if (rc != 0)
      return rc;
    printf("\t%s=%s", field, text);
    free(text);
  }
  putchar('\n');
  return 0;
}

int cmd_history(cli_t *cli, int argc, char **argv) {
  cairn_error_t err = {0, ""};
  cli_args_t a;
  json_t *h = NULL, *ch;
  size_t i;
  int rc = cli_args_parse(cli, argc, argv, json_opt, 2, 2, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_check_name(cli, "record type", a.pos[0], CAIRN_TYPE_MAX)) == 0 &&
      (rc = cli_check_name(cli, "record id", a.pos[1], CAIRN_ID_MAX)) == 0 &&
      (rc = cli_open(cli)) == 0) {
    rc = cairn_history_json(cli->store, a.pos[0], a.pos[1], &h, &err);
    if (rc == CAIRN_ENOENT)
      rc = cli_fail_code(cli, CLI_NOTFOUND, "%s", err.msg);
    else if (rc != 0)
      rc = cli_fail_rc(cli, rc, NULL, "cannot read the history");
    else if (cli_flag(&a, "json"))
      rc = cli_print_json(cli, h), h = NULL;
    json_array_foreach(h, i, ch) {
      if (rc == 0 && (rc = history_line(ch)) != 0)
        rc = cli_fail_rc(cli, rc, NULL, "cannot print the history");
    }
  }
  json_decref(h);
  cli_args_free(&a);
  return rc;
}

/* ---- conflicts ---- */

/*
 * A head's value as text output prints it: for the delete/edit pseudo-field,
 * `kept` (the edit) or `deleted`; an unset field (nil) `(unset)`; any other value
 * as cli_value_text does. *out is malloc'd.
 */
static int head_text(const char *field, size_t fl, const cairn_head_t *h, char **out) {
  const char *word = NULL;
  if (fl == strlen(CAIRN_DELETED_FIELD) && memcmp(field, CAIRN_DELETED_FIELD, fl) == 0)
    word = h->value_len == 1 && h->value[0] == 0xc2 ? "kept" : "deleted";
  else if (h->value_len == 1 && h->value[0] == 0xc0)
    word = "(unset)";
  if (word == NULL)
    return cli_value_text(h->value, h->value_len, out);
  *out = strdup(word);
  return *out != NULL ? 0 : CAIRN_ENOMEM;
}

/* One record's conflicted field: {"field", "heads"}, each head with its "text". */
static int conflict_json(walk_ctx_t *c, const char *field, size_t fl, const cairn_head_t *h,
                         size_t n) {
  json_t *o = json_object(), *heads = cairn_heads_json(c->store, h, n);
  if (o == NULL || heads == NULL || json_array_append_new(c->out, o) != 0) {
    json_decref(heads);
    return CAIRN_ENOMEM;
  }
  if (json_object_set_new(o, "field", cli_json_str(field, fl)) ||
      json_object_set_new(o, "heads", heads))
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    char *text = NULL;
    int rc = head_text(field, fl, &h[i], &text);
    if (rc == 0 && json_object_set_new(json_array_get(heads, i), "text", json_string(text)))
      rc = CAIRN_ENOMEM;
    free(text);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int conflict_text(walk_ctx_t *c, const char *type, size_t tl, const char *id,
                         size_t il, const char *field, size_t fl, const cairn_head_t *h,
                         size_t n) {
  char hex[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX];
  for (size_t i = 0; i < n; i++) {
    const char *name = cli_member_name(&c->members, h[i].stamp.author);
    char *text;
    int rc = head_text(field, fl, &h[i], &text);
    if (rc != 0)
      return rc;
    printf("%.*s\t%.*s\t%.*s\t%s\t%s\t%s\t%s\n", (int)tl, type, (int)il, id, (int)fl, field,
           text, cairn_hex(h[i].stamp.author, CAIRN_KEY_BYTES, hex), name ? name : "",
           cli_time(h[i].stamp.hlc, when));
    free(text);
  }
  return 0;
}

static int conflict_one(const char *type, size_t tl, const char *id, size_t il,
                        const char *field, size_t fl, const cairn_head_t *heads, size_t n,
                        void *ud) {
  walk_ctx_t *c = ud;
  c->rc = c->out != NULL ? conflict_json(c, field, fl, heads, n)
                         : conflict_text(c, type, tl, id, il, field, fl, heads, n);
  return c->rc != 0;
}

/* A command that walks the store with one walker and prints what it finds. */
typedef int (*walker_fn)(cairn_store_t *s, walk_ctx_t *c);

static int cmd_walk(cli_t *cli, int argc, char **argv, walker_fn walk, const char *what) {
  cli_args_t a;
  walk_ctx_t c;
  int rc = cli_args_parse(cli, argc, argv, json_opt, 0, 0, &a);
  if (rc != 0)
    return rc;
  if ((rc = walk_begin(cli, &c, cli_flag(&a, "json"))) == 0)
    rc = walk_end(cli, &c, walk(cli->store, &c), what);
  cli_args_free(&a);
  return rc;
}

/* --json: cairn_conflicts_json; text: a line per head. */
static int walk_conflicts(cairn_store_t *s, walk_ctx_t *c) {
  if (c->out == NULL)
    return cairn_conflicts(s, conflict_one, c);
  json_decref(c->out);
  return cairn_conflicts_json(s, &c->out);
}

int cmd_conflicts(cli_t *cli, int argc, char **argv) {
  return cmd_walk(cli, argc, argv, walk_conflicts, "cannot read the conflicts");
}

int cli_record_conflicts(cli_t *cli, const char *type, const char *id, json_t **out) {
  walk_ctx_t c;
  int rc;
  *out = NULL;
  if ((rc = walk_begin(cli, &c, 1)) != 0)
    return rc;
  rc = cairn_record_conflicts(cli->store, type, id, conflict_one, &c);
  if (rc == 0)
    rc = c.rc;
  cli_members_free(&c.members);
  if (rc != 0) {
    json_decref(c.out);
    return cli_fail_rc(cli, rc, NULL, "cannot read the record's conflicts");
  }
  *out = c.out;
  return 0;
}

/* ---- log ---- */

static int log_one(const cairn_entry_t *e, void *ud) {
  walk_ctx_t *c = ud;
  char hex[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX];
  if (c->out == NULL) {
    const char *name = cli_member_name(&c->members, e->author);
    printf("%s\t%llu\t%s\t%u\t%s\n", cairn_hex(e->author, CAIRN_KEY_BYTES, hex),
           (unsigned long long)e->seq, cli_time(e->hlc, when), (unsigned)e->op_count,
           name ? name : "");
    return 0;
  }
  json_t *o = json_object();
  if (o == NULL || json_array_append_new(c->out, o) != 0 ||
      cairn_stamp_json(o, e->author, cli_member_name(&c->members, e->author), e->hlc) ||
      json_object_set_new(o, "seq", json_integer((json_int_t)e->seq)) ||
      json_object_set_new(o, "ops", json_integer((json_int_t)e->op_count)))
    c->rc = CAIRN_ENOMEM;
  return c->rc != 0;
}

static int walk_log(cairn_store_t *s, walk_ctx_t *c) {
  return cairn_store_log(s, log_one, c);
}

int cmd_log(cli_t *cli, int argc, char **argv) {
  return cmd_walk(cli, argc, argv, walk_log, "cannot read the log");
}

/* ---- changes ---- */

/*
 * The feed can be long (every change in the network), so --json does not build
 * one tree of it: each change becomes a small object, written compactly into a
 * buffer and freed, and the buffer is printed once the walk succeeded (nothing
 * is printed on failure).
 */
typedef struct changes_ctx {
  walk_ctx_t w;
  int json;
  char *buf; /* the JSON array's items, comma-separated */
  size_t len, cap;
} changes_ctx_t;

static const char *const changes_opts[] = {"since=", "all", "json", NULL};

/* json_dump_callback's writer: append to the buffer. */
static int buf_add(const char *p, size_t n, void *ud) {
  changes_ctx_t *c = ud;
  if (c->cap - c->len < n) {
    size_t cap = c->cap ? c->cap : 1 << 16;
    while (cap - c->len < n)
      cap *= 2;
    char *b = realloc(c->buf, cap);
    if (b == NULL)
      return -1;
    c->buf = b;
    c->cap = cap;
  }
  memcpy(c->buf + c->len, p, n);
  c->len += n;
  return 0;
}

static int changes_json(changes_ctx_t *c, const cairn_changes_item_t *ch) {
  json_t *o = cairn_changes_item_json(ch);
  int rc = o == NULL ? CAIRN_ENOMEM : 0;
  if (rc == 0 && ((c->len > 0 && buf_add(",", 1, c) != 0) ||
                  json_dump_callback(o, buf_add, c, JSON_COMPACT) != 0))
    rc = CAIRN_ENOMEM;
  json_decref(o);
  return rc;
}

/* What an op did, as `changes` names it. */
static const char *op_name(cairn_op_kind_t kind) {
  static const char *const kinds[] = {"erased", "put", "del", "purge"};
  return (unsigned)kind < 4 ? kinds[kind] : "unknown";
}

/* TIME WHO OP TYPE ID FIELDS, then `refused: REASON` for evidence. */
static int changes_text(const cairn_changes_item_t *ch) {
  char hex[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX];
  cairn_field_iter_t it;
  cairn_field_t f;
  printf("%s\t%s\t%s\t%.*s\t%.*s\t", cli_time(ch->hlc, when),
         ch->author_name ? ch->author_name : cairn_hex(ch->author, CAIRN_KEY_BYTES, hex),
         op_name(ch->kind), (int)ch->type_len, ch->type ? ch->type : "", (int)ch->id_len,
         ch->id ? ch->id : "");
  if (ch->kind == CAIRN_OP_REDACTED)
    fputs("(erased by a purge)", stdout);
  if (ch->kind == CAIRN_OP_PUT && ch->op->nfields == 0)
    fputs("(kept)", stdout); /* a put that only keeps the record (resolve --keep) */
  cairn_field_iter_init(ch->op, &it);
  for (int first = 1; cairn_field_next(&it, &f); first = 0)
    printf("%s%.*s", first ? "" : ",", (int)f.name_len, f.name);
  if (ch->refused != NULL)
    printf("\trefused: %s", ch->refused);
  putchar('\n');
  return 0;
}

static int change_one(const cairn_changes_item_t *ch, void *ud) {
  changes_ctx_t *c = ud;
  int rc = c->json ? changes_json(c, ch) : changes_text(ch);
  return rc < 0 ? rc : 0;
}

/* --since as the library reads it; 0 or CLI_USAGE. */
static int parse_since(cli_t *cli, const char *text, uint64_t *since) {
  if (text == NULL)
    return 0;
  if (cairn_changes_parse_since(text, cairn_now_ms(), since) != 0)
    return cli_usage(cli, "--since takes a date (2026-01-31, midnight UTC), a time "
                          "(2026-01-31T09:30:00Z) or a number of days back (7d), not '%s'",
                     text);
  return 0;
}

int cmd_changes(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  changes_ctx_t c;
  cairn_changes_opts_t o = {0, 0, 0};
  int rc = cli_args_parse(cli, argc, argv, changes_opts, 0, 0, &a);
  if (rc != 0)
    return rc;
  memset(&c, 0, sizeof c);
  c.json = cli_flag(&a, "json");
  o.flags = cli_flag(&a, "all") ? CAIRN_CHANGES_RESERVED : 0;
  if ((rc = parse_since(cli, cli_opt(&a, "since"), &o.since_ms)) == 0 &&
      (rc = walk_begin(cli, &c.w, 0)) == 0) {
    rc = walk_end(cli, &c.w, cairn_changes(cli->store, &o, change_one, &c),
                  "cannot read the changes");
    if (rc == 0 && c.json)
      printf("[%.*s]\n", (int)c.len, c.len ? c.buf : "");
  }
  free(c.buf);
  cli_args_free(&a);
  return rc;
}
