/*
 * journal.c — what happened and who did it: `history` of one record, the open
 * `conflicts` (also one record's, which `get` marks), and the `log` of entries in
 * this replica's arrival order. Authors are printed as their key and, from the
 * `_member` records, their name. Times are the HLC's milliseconds (hlc >> 16) in
 * ISO-8601 UTC.
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
  size_t count;
  int one_record; /* conflicts of one record: no "_type" and "_id", a "text" per head */
} walk_ctx_t;

/* Add "author", "name", "time" and "hlc" of a stamp to a JSON object. */
static int set_who(walk_ctx_t *c, json_t *o, const uint8_t *author, uint64_t hlc) {
  char hex[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX];
  const char *name = cli_member_name(&c->members, author);
  if (json_object_set_new(o, "author", json_string(cairn_hex(author, CAIRN_KEY_BYTES, hex))) ||
      json_object_set_new(o, "name", cli_json_str(name, name ? strlen(name) : 0)) ||
      json_object_set_new(o, "time", json_string(cli_time(hlc, when))) ||
      json_object_set_new(o, "hlc", json_integer((json_int_t)hlc)))
    return CAIRN_ENOMEM;
  return 0;
}

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

static int history_json(walk_ctx_t *c, const cairn_entry_t *e, const cairn_op_t *op,
                        const char *refused) {
  static const char *const kinds[] = {"redacted", "put", "del", "purge"};
  json_t *o = json_object(), *fields = NULL;
  cairn_field_iter_t it;
  cairn_field_t f;
  if (o == NULL || json_array_append_new(c->out, o) != 0 || set_who(c, o, e->author, e->hlc) ||
      json_object_set_new(o, "seq", json_integer((json_int_t)e->seq)) ||
      json_object_set_new(o, "op", json_string(kinds[op->kind])) ||
      (refused != NULL && json_object_set_new(o, "refused", json_string(refused)) != 0))
    return CAIRN_ENOMEM;
  if (op->kind != CAIRN_OP_PUT)
    return 0;
  if ((fields = json_object()) == NULL || json_object_set_new(o, "fields", fields) != 0)
    return CAIRN_ENOMEM;
  cairn_field_iter_init(op, &it);
  while (cairn_field_next(&it, &f)) {
    int rc = cli_json_set_value(fields, f.name, f.name_len, f.value, f.value_len);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int history_text(walk_ctx_t *c, const cairn_entry_t *e, const cairn_op_t *op,
                        const char *refused) {
  char hex[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX];
  const char *name = cli_member_name(&c->members, e->author);
  cairn_field_iter_t it;
  cairn_field_t f;
  printf("%s\t%s\t%s", cli_time(e->hlc, when), cairn_hex(e->author, CAIRN_KEY_BYTES, hex),
         name ? name : "");
  if (refused != NULL)
    printf("\trefused: %s", refused);
  if (op->kind == CAIRN_OP_DEL || op->kind == CAIRN_OP_PURGE)
    printf("\t%s", op->kind == CAIRN_OP_DEL ? "deleted" : "purged");
  if (op->kind == CAIRN_OP_PUT && op->nfields == 0)
    printf("\tkept"); /* a put that only keeps the record (resolve --keep) */
  cairn_field_iter_init(op, &it);
  while (op->kind == CAIRN_OP_PUT && cairn_field_next(&it, &f)) {
    int rc = cli_print_field(f.name, f.name_len, f.value, f.value_len);
    if (rc != 0)
      return rc;
  }
  putchar('\n');
  return 0;
}

static int history_one(const cairn_entry_t *e, const cairn_op_t *op, void *ud) {
  walk_ctx_t *c = ud;
  cairn_error_t why;
  int refused = cairn_entry_refused(c->store, e->author, e->seq, &why);
  c->count++;
  if (refused < 0)
    c->rc = refused;
  else if (c->out != NULL)
    c->rc = history_json(c, e, op, refused ? why.msg : NULL);
  else
    c->rc = history_text(c, e, op, refused ? why.msg : NULL);
  return c->rc != 0;
}

int cmd_history(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  walk_ctx_t c;
  int rc = cli_args_parse(cli, argc, argv, json_opt, 2, 2, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_check_name(cli, "record type", a.pos[0], CAIRN_TYPE_MAX)) == 0 &&
      (rc = cli_check_name(cli, "record id", a.pos[1], CAIRN_ID_MAX)) == 0 &&
      (rc = walk_begin(cli, &c, cli_flag(&a, "json"))) == 0) {
    rc = cairn_history(cli->store, a.pos[0], a.pos[1], history_one, &c);
    if (rc == 0 && c.rc == 0 && c.count == 0) {
      json_decref(c.out);
      cli_members_free(&c.members);
      rc = cli_fail_code(cli, CLI_NOTFOUND, "no history for %s '%s' (it never existed here, "
                                            "or it was purged)", a.pos[0], a.pos[1]);
    } else {
      rc = walk_end(cli, &c, rc, "cannot read the history");
    }
  }
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

static int conflict_json(walk_ctx_t *c, const char *type, size_t tl, const char *id,
                         size_t il, const char *field, size_t fl, const cairn_head_t *h,
                         size_t n) {
  json_t *o = json_object(), *heads = json_array();
  if (o == NULL || heads == NULL || json_array_append_new(c->out, o) != 0) {
    json_decref(heads);
    return CAIRN_ENOMEM;
  }
  if ((!c->one_record && (json_object_set_new(o, "_type", cli_json_str(type, tl)) ||
                          json_object_set_new(o, "_id", cli_json_str(id, il)))) ||
      json_object_set_new(o, "field", cli_json_str(field, fl)) ||
      json_object_set_new(o, "heads", heads))
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    json_t *ho = json_object();
    char *text = NULL;
    int rc;
    if (ho == NULL || json_array_append_new(heads, ho) != 0)
      return CAIRN_ENOMEM;
    if ((rc = cli_json_set_value(ho, "value", 5, h[i].value, h[i].value_len)) != 0 ||
        (rc = set_who(c, ho, h[i].stamp.author, h[i].stamp.hlc)) != 0 ||
        (c->one_record && (rc = head_text(field, fl, &h[i], &text)) != 0))
      return rc;
    rc = text != NULL && json_object_set_new(ho, "text", json_string(text)) != 0;
    free(text);
    if (rc != 0)
      return CAIRN_ENOMEM;
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
  c->rc = c->out != NULL ? conflict_json(c, type, tl, id, il, field, fl, heads, n)
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

static int walk_conflicts(cairn_store_t *s, walk_ctx_t *c) {
  return cairn_conflicts(s, conflict_one, c);
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
  c.one_record = 1;
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
  if (o == NULL || json_array_append_new(c->out, o) != 0 || set_who(c, o, e->author, e->hlc) ||
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
