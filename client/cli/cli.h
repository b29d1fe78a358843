/*
 * cli.h — what the files of the `cairn` command line share: the run context,
 * the command table entry, argument parsing, error reporting with the exit codes
 * of docs/cli.md, and the output helpers.
 *
 * The command table itself lives in main.c; each handler lives in a file named
 * after its concept (device.c, records.c, query.c, journal.c, members.c, sync_file.c).
 * Handlers return the process exit code. Every failure path prints exactly one
 * line on stderr, through cli_fail* or cli_usage; warnings (cli_warn) are the
 * only other lines there.
 */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "cairn.h"

/* Exit codes (docs/cli.md, docs/cli.md). */
enum {
  CLI_OK = 0,
  CLI_FAIL = 1,     /* any failure other than the two below */
  CLI_USAGE = 2,    /* bad command line: one `cairn: ...; usage: ...` line */
  CLI_NOTFOUND = 3  /* the record (or member) named does not exist or is deleted */
};

typedef struct cli cli_t;

/* A handler: argv[0] is the first argument after the command's name. */
typedef int (*cli_run_fn)(cli_t *cli, int argc, char **argv);

/* One entry of the command table (main.c). */
typedef struct cli_cmd {
  const char *name;  /* "put", or two words for a group: "bundle create" */
  cli_run_fn run;
  const char *usage; /* arguments after the name: "TYPE ID FIELD=VALUE..." */
  const char *help;  /* one or more sentences for `--help` */
  int read_only;     /* 1: it only reads the store, which it opens read-only */
} cli_cmd_t;

/* The run context: where the store is and, once opened, the store. */
struct cli {
  const char *store_dir;
  const char *store_from; /* where store_dir came from: "--store", "$CAIRN_STORE"... */
  cairn_store_t *store; /* NULL until cli_open; main closes it */
  cairn_schema_t *schema; /* read by cli_open (records are shown through it); main frees it */
  const cli_cmd_t *cmd; /* the command running, for usage lines */
};

/* ---- reporting (report.c) ---- */

/* Print `cairn: <message>` (control characters replaced) and return CLI_FAIL. */
int cli_fail(cli_t *cli, const char *fmt, ...) CAIRN_PRINTF(2, 3);
/* The same with another exit code (CLI_NOTFOUND). */
int cli_fail_code(cli_t *cli, int code, const char *fmt, ...) CAIRN_PRINTF(3, 4);
/* Report a library failure: err's message when it has one, else `what: strerror(rc)`,
 * plus a hint for codes that have an obvious remedy. Returns CLI_FAIL. */
int cli_fail_rc(cli_t *cli, int rc, const cairn_error_t *err, const char *what);
/* `cairn: warning: <message>` on one line: something the user should know of a
 * command that still succeeds. */
void cli_warn(cli_t *cli, const char *fmt, ...) CAIRN_PRINTF(2, 3);
/* `cairn: <message>; usage: cairn CMD USAGE` on one line; returns CLI_USAGE. */
int cli_usage(cli_t *cli, const char *fmt, ...) CAIRN_PRINTF(2, 3);

/* ---- arguments (args.c) ---- */

typedef struct cli_opt {
  const char *name; /* without the leading "--" */
  const char *value; /* NULL for a flag */
} cli_opt_t;

typedef struct cli_args {
  char **pos; /* positional arguments, in order */
  int npos;
  cli_opt_t *opt; /* options, in order (repeats kept) */
  int nopt;
} cli_args_t;

/*
 * Split argv into positionals and options. allowed lists the options this
 * command takes, NULL-terminated: "json" is a flag, "where=" takes a value
 * (`--where X` or `--where=X`). `--` ends the options. Fewer than min_pos or more
 * than max_pos (-1: no limit) positionals is a usage error. Returns 0, or the
 * exit code after printing the usage line. Free a with cli_args_free.
 */
int cli_args_parse(cli_t *cli, int argc, char **argv, const char *const *allowed, int min_pos,
                   int max_pos, cli_args_t *a);
void cli_args_free(cli_args_t *a);
/* Whether a flag was given; the last value of an option (NULL if absent). */
int cli_flag(const cli_args_t *a, const char *name);
const char *cli_opt(const cli_args_t *a, const char *name);
/* The whole number of option --name in [min, max], or def when it is absent;
 * 0 or CLI_USAGE (with the usage line). */
int cli_opt_number(cli_t *cli, const cli_args_t *a, const char *name, unsigned long min,
                   unsigned long max, unsigned long def, unsigned long *out);

/* Check a record type or id given on the command line: 1 to max bytes, no
 * control characters. 0, or CLI_USAGE after printing why. */
int cli_check_name(cli_t *cli, const char *what, const char *s, size_t max);
/* Parse a device key (64 hex characters). 0, or CLI_USAGE after printing why. */
int cli_parse_key(cli_t *cli, const char *hex, uint8_t key[CAIRN_KEY_BYTES]);

/* ---- the store (context.c) ---- */

/* Open the store of cli->store_dir (once). 0, or the exit code after printing. */
int cli_open(cli_t *cli);
/* Commit a change (freed whatever happens). 0, or CLI_FAIL after printing. */
int cli_commit(cli_t *cli, cairn_change_t *c, uint64_t *seq);
/* Whether TYPE ID is a visible record: 0, or CLI_NOTFOUND / CLI_FAIL after
 * printing. With allow_deleted, a deleted (but not purged) record counts. */
int cli_need_record(cli_t *cli, const char *type, const char *id, int allow_deleted);

/* ---- members (members.c) ---- */

/* The `_member` records' names, loaded once, for the text of log and conflicts. */
typedef struct cli_member {
  uint8_t key[CAIRN_KEY_BYTES];
  char *name; /* NULL when the record has none */
} cli_member_t;

typedef struct cli_members {
  cli_member_t *v;
  size_t n;
  const uint8_t *self; /* this device's key, named by the store when unnamed */
  const char *self_name;
} cli_members_t;

int cli_members_load(cli_t *cli, cli_members_t *m);
/* Write role (and name, when given) on the `_member` record of key, as one change. */
int cli_write_member(cli_t *cli, const uint8_t key[CAIRN_KEY_BYTES], cairn_role_t role,
                     const char *name);
void cli_members_free(cli_members_t *m);
/* The member name of a key, or NULL. */
const char *cli_member_name(const cli_members_t *m, const uint8_t key[CAIRN_KEY_BYTES]);

/* ---- conflicts (journal.c) ---- */

/*
 * The conflicts of one visible record (cairn_record_conflicts), in field order,
 * the delete/edit conflict (CAIRN_DELETED_FIELD) among them: *out is a JSON array
 * of {"field", "heads": [{"value", "author", "name", "time", "hlc", "text"}]},
 * the visible head first; "text" is the value as text output prints it (`kept`
 * and `deleted` for the delete/edit conflict, `(unset)` for nil). 0, or the exit
 * code after printing.
 */
int cli_record_conflicts(cli_t *cli, const char *type, const char *id, json_t **out);

/* ---- output (output.c) ---- */

#define CLI_TIME_MAX 32

/* ISO-8601 UTC time (millisecond precision) of an HLC value. */
char *cli_time(uint64_t hlc, char out[CLI_TIME_MAX]);
/* A value as text (docs/cli.md): strings as they are when printable, anything
 * else as compact JSON. *out is malloc'd. 0 or a CAIRN_E* code. */
int cli_value_text(const uint8_t *mp, size_t len, char **out);
/* The same of a JSON value. */
int cli_json_text(const json_t *v, char **out);
/* Show records through this schema from now on (NULL: raw fields): fields
 * under their current names, in the schema's order, hidden ones left out. */
void cli_output_schema(const cairn_schema_t *sc);
/* Print "\tNAME=VALUE" (the value as cli_value_text gives it). */
int cli_print_field(const char *name, size_t name_len, const uint8_t *value, size_t len);
/* Print each field of a record as people see it (cairn_schema_fields). */
int cli_print_record_fields(const cairn_record_t *r);
/* A record as a flat JSON object with "_type" and "_id" first, through the
 * output schema (cairn_record_object); NULL on error. */
json_t *cli_record_json(const cairn_record_t *r);
/* Print j compactly on stdout with a newline, and release it. 0 or CLI_FAIL. */
int cli_print_json(cli_t *cli, json_t *j);
/* A string of n bytes as a JSON string (NULL on error), or JSON null for NULL. */
json_t *cli_json_str(const char *s, size_t n);

/* ---- schema (schema.c) ---- */

/* A whole file as NUL-terminated text (malloc'd), at most max bytes; NULL after
 * printing why. */
char *cli_read_file(cli_t *cli, const char *path, size_t max);
/* Apply a schema document (print: say what changed). 0 or CLI_FAIL. */
int cli_schema_apply(cli_t *cli, const char *json, int print);
/* `network create --schema WHICH` (NULL: the default): check the document before
 * the network exists, then apply it once it does. 0 or the exit code. */
int cli_network_schema_check(cli_t *cli, const char *which);
int cli_network_schema(cli_t *cli, const char *which);

/* ---- command handlers (the table is in main.c) ---- */

int cmd_init(cli_t *cli, int argc, char **argv);           /* device.c */
int cmd_id(cli_t *cli, int argc, char **argv);
int cmd_network_create(cli_t *cli, int argc, char **argv);
int cmd_put(cli_t *cli, int argc, char **argv);            /* records.c */
int cmd_add(cli_t *cli, int argc, char **argv);
int cmd_get(cli_t *cli, int argc, char **argv);
int cmd_del(cli_t *cli, int argc, char **argv);
int cmd_purge(cli_t *cli, int argc, char **argv);
int cmd_resolve(cli_t *cli, int argc, char **argv);
int cmd_unset(cli_t *cli, int argc, char **argv);
int cmd_list(cli_t *cli, int argc, char **argv);          /* query.c */
int cmd_types(cli_t *cli, int argc, char **argv);
int cmd_history(cli_t *cli, int argc, char **argv);        /* journal.c */
int cmd_conflicts(cli_t *cli, int argc, char **argv);
int cmd_log(cli_t *cli, int argc, char **argv);
int cmd_changes(cli_t *cli, int argc, char **argv);
int cmd_members(cli_t *cli, int argc, char **argv);        /* members.c */
int cmd_grant(cli_t *cli, int argc, char **argv);
int cmd_changes(cli_t *cli, int argc, char **argv);
int cmd_revoke(cli_t *cli, int argc, char **argv);
int cmd_rekey(cli_t *cli, int argc, char **argv);
int cmd_invite(cli_t *cli, int argc, char **argv);
int cmd_heads(cli_t *cli, int argc, char **argv);          /* sync_file.c */
int cmd_bundle_create(cli_t *cli, int argc, char **argv);
int cmd_bundle_apply(cli_t *cli, int argc, char **argv);
int cmd_remote(cli_t *cli, int argc, char **argv);         /* sync_net.c */
int cmd_sync(cli_t *cli, int argc, char **argv);
int cmd_status(cli_t *cli, int argc, char **argv);
int cmd_join(cli_t *cli, int argc, char **argv);
int cmd_schema(cli_t *cli, int argc, char **argv);         /* schema.c */
int cmd_schema_apply(cli_t *cli, int argc, char **argv);
int cmd_check(cli_t *cli, int argc, char **argv);
int cmd_import(cli_t *cli, int argc, char **argv);         /* io.c */
int cmd_export(cli_t *cli, int argc, char **argv);
int cmd_report(cli_t *cli, int argc, char **argv);         /* reports.c */
int cmd_ui(cli_t *cli, int argc, char **argv);             /* ui.c */

#endif
