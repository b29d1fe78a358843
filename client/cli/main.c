/*
 * main.c — the `cairn` command line: the table of commands, the global
 * `--store DIR` option, `--help`, and dispatch (docs/cli.md; formats and exit codes in
 * docs/cli.md). Handlers live in files named after their concept and return the
 * exit code; main only closes the store and checks that stdout was written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int cmd_help(cli_t *cli, int argc, char **argv);

/* Every command. help: a one-line summary, then details, separated by '\n'. */
static const cli_cmd_t commands[] = {
    {"init", cmd_init, "--name NAME",
     "Create a store with a new device key and print the key.\n"
     "Fails if the store directory already holds a store. NAME is this device's member\n"
     "name, shown beside its changes.", 0},
    {"id", cmd_id, "", "Print this device's key (64 hex characters).\n"
                       "Give it to an admin, who runs `cairn grant KEY --role ROLE`.", 1},
    {"network create", cmd_network_create, "TITLE [--schema collective-impact|none|FILE.json]",
     "Create a network owned by this device and print its id.\n"
     "Works offline. One store holds one network. The network starts with the\n"
     "collective-impact schema (partners, commitments, indicators, values...; see\n"
     "`cairn schema`) unless --schema says none (any type and field, unchecked) or\n"
     "names a schema document.", 0},
    {"put", cmd_put, "TYPE ID FIELD=VALUE...",
     "Set fields of a record, creating it if absent.\n"
     "FIELD=TEXT sets a string; FIELD:=JSON a typed value (count:=42, done:=true,\n"
     "tags:='[\"a\",\"b\"]', x:=null). Field names starting with '_' are reserved.", 0},
    {"add", cmd_add, "TYPE FIELD=VALUE...",
     "Create a record with a generated id and print the id.\n"
     "Ids are 12 hex digits of the millisecond clock then 8 random ones, so they sort by\n"
     "creation time.", 0},
    {"get", cmd_get, "TYPE ID [--json]",
     "Print one record: FIELD<TAB>VALUE lines, or one JSON object.\n"
     "A field in conflict prints FIELD VALUE `in conflict` NAME TIME, then one line\n"
     "TAB VALUE NAME TIME per other value; a delete concurrent with an edit prints\n"
     "first as `_deleted kept in conflict` (the edit) and a `deleted` line per delete.\n"
     "--json adds \"_conflicts\": field -> the other values. Exit 3 if the record does\n"
     "not exist or is deleted.", 1},
    {"del", cmd_del, "TYPE ID",
     "Delete a record (its history is kept).\n"
     "A later put on it brings it back; an edit made elsewhere that this device had\n"
     "not seen keeps it, as a conflict. Exit 3 if there is no such record.", 0},
    {"purge", cmd_purge, "TYPE ID",
     "Erase a record and its history everywhere (owner or admin).\n"
     "Every replica that applies the purge removes the record's content from its log\n"
     "and its store file. Exit 3 if there is no such record.", 0},
    {"resolve", cmd_resolve, "TYPE ID [FIELD=VALUE...] [--keep]",
     "Write fields having seen every conflicting value, which ends their conflicts.\n"
     "Each FIELD must be in conflict (see `cairn get` or `cairn conflicts`), else exit\n"
     "1 and nothing is written. --keep keeps a record deleted while it was edited (a\n"
     "delete/edit conflict); `cairn del` deletes it instead. Exit 3 if there is no\n"
     "such record.", 0},
    {"unset", cmd_unset, "TYPE ID FIELD...",
     "Remove fields from a record (each is written as null, which is absent).\n"
     "One signed entry. Exit 3 if there is no such record.", 0},
    {"list", cmd_list,
     "TYPE [--where EXPR]... [--search TEXT] [--sort [-]FIELD,...] [--fields F,...] [--limit N] "
     "[--deleted] [--json|--csv]",
     "Print the records of a type that meet every --where, ordered by id unless sorted.\n"
     "EXPR: FIELD=V, FIELD!=V, FIELD<V, <=, >, >=, FIELD~TEXT (contains, any case),\n"
     "FIELD=in:A,B; FIELD= (no value) and FIELD!= (any value). V is typed by the field's\n"
     "kind and values compare by it: dates and periods in time (2026 < 2026-Q2 <\n"
     "2026-05), numbers as numbers; on a list of references, = asks whether it holds\n"
     "the id. A record without the field meets only !=. A type or field the schema\n"
     "does not know, or a value not of the field's kind, is an error. --search TEXT\n"
     "keeps the records with a field (any of those shown) whose text holds TEXT, in\n"
     "any case, as FIELD~TEXT does for one field. --sort orders by\n"
     "fields in turn ('-' descending; records without the field last); --fields\n"
     "chooses and orders the fields shown; --deleted includes deleted records (marked\n"
     "_deleted). Text: ID then FIELD=VALUE items, tab-separated; --csv: a header row\n"
     "(_id, then the fields) and one row per record.", 1},
    {"types", cmd_types, "[--json]",
     "Print the record types with their counts of records: TYPE COUNT LABEL.\n"
     "Every type of the schema (with 0 when it has none), then any other type this\n"
     "store holds. cairn's own types (_member...) are left out.", 1},
    {"history", cmd_history, "TYPE ID [--json]",
     "Print every change to a record, oldest first.\n"
     "Text: TIME<TAB>AUTHOR<TAB>NAME then FIELD=VALUE items, or `deleted`. Exit 3 if\n"
     "the record has no history here.", 1},
    {"conflicts", cmd_conflicts, "[--json]",
     "Print the fields edited concurrently and not yet resolved.\n"
     "Text: TYPE ID FIELD VALUE AUTHOR NAME TIME, one line per value, the visible\n"
     "value first. A delete concurrent with an edit is the field `_deleted`: `kept`\n"
     "(the edit), then `deleted` per delete.", 1},
    {"log", cmd_log, "[--json]", "Print the entries of this replica in arrival order.\n"
                                 "Text: AUTHOR SEQ TIME OPS NAME, tab-separated.", 1},
    {"changes", cmd_changes, "[--since DATE|DAYSd] [--all] [--json]",
     "Print who changed what, network-wide, oldest first.\n"
     "Text: TIME NAME OP TYPE ID FIELDS, tab-separated: NAME is the author's member name\n"
     "(its key when unnamed), OP put, del, purge or erased (a change a purge erased:\n"
     "no type, id or fields), FIELDS the names a put set, comma-separated; a change\n"
     "its author's role did not allow ends with `refused: REASON`. --since keeps\n"
     "changes from a date (2026-01-31, midnight UTC), a time (2026-01-31T09:30:00Z)\n"
     "or N days back (7d). --all adds changes to cairn's own records (_member...).", 1},
    {"members", cmd_members, "[--json]",
     "Print the members of the network, then the invites.\n"
     "Members: KEY NAME ROLE ORGANIZATION, tab-separated, by name; the keys of one\n"
     "person's devices (one name) sit together, each ending with `key N of M`.\n"
     "ORGANIZATION is the member's partner's name, or its id when that partner is\n"
     "not here. Invites: KEY NAME ROLE ORGANIZATION STATUS EXPIRES USED/USES, STATUS\n"
     "pending, used, expired or revoked. --json prints {\"members\":[...],\"invites\":[...]}.", 1},
    {"grant", cmd_grant, "KEY --role ROLE [--name NAME] [--org PARTNER_ID]",
     "Give a device key a role (owner, admin, editor, viewer, relay, revoked).\n"
     "An offline change to its `_member` record; owner or admin only. --org sets the\n"
     "member's organization: the id of a partner record.", 0},
    {"invite", cmd_invite,
     "--role editor|viewer|admin --name NAME [--org PARTNER_ID] [--expires DAYS] [--uses N]",
     "Make an invite and print its code (owner or admin; the relay must be set).\n"
     "Run `cairn sync` next so the relay knows it. The code lets a new device join\n"
     "(`cairn join CODE`) with that role, name and organization (--org, a partner id);\n"
     "it expires after DAYS (default 7) and serves N devices (default 1). `cairn\n"
     "revoke` on the invite key cancels it.", 0},
    {"revoke", cmd_revoke, "KEY", "Revoke a device key (its role becomes `revoked`).\n"
                                  "Its earlier changes stay. Exit 3 if it is not a member.", 0},
    {"rekey", cmd_rekey, "",
     "Give this device a new key (its store was copied); print the key.\n"
     "The device keeps working with its current key until the new one is granted: an\n"
     "owner or admin grants it at once, anyone else needs an admin to run `cairn grant\n"
     "NEWKEY` with the same name and role. The first sync after that switches to it.", 0},
    {"heads", cmd_heads, "[--json]",
     "Print this replica's version vector: each author's last seq.\n"
     "--json prints {\"AUTHOR\": SEQ, ...}, the HEADS_FILE of `bundle create --since`.", 1},
    {"bundle create", cmd_bundle_create, "FILE [--since HEADS_FILE]",
     "Write this replica's entries to a bundle file.\n"
     "With --since, only those a replica with those heads lacks (HEADS_FILE is the\n"
     "output of `cairn heads --json` there).", 1},
    {"bundle apply", cmd_bundle_apply, "FILE",
     "Verify and apply a bundle; print `applied N, skipped M`.\n"
     "Entries already held are skipped. On a bad entry nothing from it on is applied;\n"
     "another device's entries that fork from this store's copy of its log are set aside.", 0},
    {"remote", cmd_remote, "HOST:PORT --key RELAYKEY",
     "Set the relay this store syncs with, and the key it must prove.\n"
     "On an owner's or admin's store the relay key is also granted the `relay` role.\n"
     "HOST is a host name, an IPv4 address, or an IPv6 address in brackets.", 0},
    {"sync", cmd_sync, "[--timeout SECONDS | --live [--ping SECONDS]]",
     "Push this device's new entries to the relay and pull what arrived since.\n"
     "Prints `pushed N, pulled M, applied K, bytes sent S, received R`. Exit 0 only\n"
     "when both directions are caught up; default timeout 60 seconds.\n"
     "With --live, stay connected until SIGINT or SIGTERM (then exit 0): entries from\n"
     "the relay are applied as it forwards them, one `applied N` line per batch; this\n"
     "device's new entries are pushed within a second; a lost connection is retried\n"
     "with a growing delay (up to 30 s), each attempt noted on stderr. --ping sets the\n"
     "keepalive interval (default 60 s; keep it under the relay's --idle-timeout). A\n"
     "refusal that retrying cannot cure (revoked, wrong relay key) exits 1.", 0},
    {"join", cmd_join, "CODE [--timeout SECONDS]",
     "Join a network with an invite code and print the network id.\n"
     "Run on a store made by `cairn init` that has no network yet. Keeps the relay\n"
     "the code names, pulls the whole network, and takes the invite's role.", 0},
    {"status", cmd_status, "[--json]",
     "Print where this device stands with its relay.\n"
     "The relay, the last successful sync, and this device's entries the relay has not\n"
     "acknowledged yet.", 1},
    {"schema apply", cmd_schema_apply, "FILE.json",
     "Add or change record types and fields (owner or admin); one signed entry.\n"
     "The document names types and fields to add or change (see docs/cli.md); those it\n"
     "does not name stay. Kinds never change and enum values are never removed;\n"
     "\"renamed_from\" renames a field and \"hidden\": true removes one from view. Prints\n"
     "what changed.", 0},
    {"schema", cmd_schema, "[TYPE] [--json]",
     "Print the network's record types and their fields.\n"
     "Each field: name, kind (text, number, integer, bool, date, datetime, period, enum,\n"
     "ref, refs, json), the type it refers to, required, allowed values, unit, label.\n"
     "--json prints the schema document, which `cairn schema apply` takes.", 1},
    {"check", cmd_check, "[--json]",
     "List the records that break the current schema, with the reason.\n"
     "A device behind on the schema may write them; nothing is ever dropped for it.\n"
     "Exit 1 when there is any.", 1},
    {"import", cmd_import, "TYPE FILE [--id-column COL] [--dry-run]",
     "Import the rows of a CSV or JSON file as records of TYPE, all or none.\n"
     "FILE.csv: a header row names the fields (by name or label), one record per row;\n"
     "FILE.json: an array of records as `list --json` prints them. Ids come from the\n"
     "_id (or id) column, or --id-column COL; rows without one get new ids. Each row is\n"
     "checked first: each error is printed with its line and column, and then nothing\n"
     "is written (exit 1). Otherwise rows create records or set the fields they give\n"
     "(an empty cell writes nothing), in as few entries as the size limit allows.\n"
     "Prints `imported N TYPE records`; --dry-run checks and writes nothing.", 0},
    {"export", cmd_export, "TYPE|--all FILE",
     "Export the records of TYPE, or of every type, to FILE.csv, FILE.json or FILE.xlsx.\n"
     "CSV: a header `_id` then the fields, one type only. JSON: records as `list --json`\n"
     "prints them; --all writes an object type -> records. XLSX: a sheet per type, with\n"
     "numbers, bools and dates as such. What export writes, import reads back.", 1},
    {"report", cmd_report,
     "NAME [--as-of DATE] [--format text|json|csv|html] [-o FILE] [--since DATE] [--days N]",
     "Write a report of the partnership, from this device's records.\n"
     "NAME: meeting (the accountability score, then every report below, for the\n"
     "monthly meeting); commitments (by partner and plan: done, on time, overdue, at risk,\n"
     "dropped); measures (each indicator and measure per site and group: actuals by\n"
     "period, slope against the slope needed to reach the target, on-track, too-slow,\n"
     "wrong-way or no-data); goals (soft-goal ratings per partner, change since the\n"
     "previous rating); partners (pipeline by stage, last contact, not contacted in\n"
     "--days N, default 60, follow-ups due); changes (who changed what since --since\n"
     "DATE or Nd, default 30 days back). --as-of shows the records as they stood at\n"
     "the end of that day.\n"
     "Text on the terminal unless --format or -o FILE.html|.json|.csv says otherwise;\n"
     "html is one self-contained page that prints well.", 1},
    {"ui", cmd_ui, "[--listen 127.0.0.1:PORT]",
     "Serve this store's web app and JSON HTTP API (docs/http.md) until Ctrl-C.\n"
     "Prints the URL to open, with a random access token (also in the store's ui.token\n"
     "file, mode 0600). It listens on 127.0.0.1 and a free port unless --listen says\n"
     "otherwise; it answers only requests to that address that carry the token, and\n"
     "changes only with the token in the Authorization header.", 0},
    {"help", cmd_help, "[COMMAND]", "Print help on all commands or on one.", 0},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* The summary of a command: its help up to the first newline. */
static int summary_len(const cli_cmd_t *c) {
  const char *nl = strchr(c->help, '\n');
  return nl ? (int)(nl - c->help) : (int)strlen(c->help);
}

static void print_usage_line(FILE *f, const cli_cmd_t *c) {
  fprintf(f, "usage: cairn %s%s%s\n", c->name, c->usage[0] ? " " : "", c->usage);
}

static void print_command_help(const cli_cmd_t *c) {
  print_usage_line(stdout, c);
  printf("\n%s\n", c->help);
}

/* Commands whose name starts with prefix (all for ""). */
static void print_overview(const char *prefix) {
  size_t n = strlen(prefix);
  printf("usage: cairn [--store DIR] COMMAND [ARGS...]\n\n"
         "The store is DIR, else $CAIRN_STORE, else ~/.cairn. Every command takes --help.\n\n"
         "commands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++) {
    const cli_cmd_t *c = &commands[i];
    if (strncmp(c->name, prefix, n) != 0)
      continue;
    /* a usage too long for the column gets the summary on a line of its own */
    int left = (int)(3 + strlen(c->name) + strlen(c->usage));
    printf("  %s %s", c->name, c->usage);
    if (left > 46)
      printf("\n%48s", "");
    else
      printf("%*s", 48 - left, "");
    printf("%.*s\n", summary_len(c), c->help);
  }
  printf("\nExit codes: 0 success, 1 failure, 2 usage error, 3 record not found.\n");
}

/* Match argv[0] (and argv[1] for a group) against the table; *used words. */
static const cli_cmd_t *find_command(int argc, char **argv, int *used) {
  for (size_t i = 0; i < NCOMMANDS; i++) {
    const char *name = commands[i].name, *sp = strchr(name, ' ');
    if (sp == NULL && strcmp(argv[0], name) == 0) {
      *used = 1;
      return &commands[i];
    }
    if (sp != NULL && argc > 1 && strncmp(argv[0], name, (size_t)(sp - name)) == 0 &&
        argv[0][sp - name] == '\0' && strcmp(argv[1], sp + 1) == 0) {
      *used = 2;
      return &commands[i];
    }
  }
  return NULL;
}

/* Whether word names a group of commands ("bundle" for "bundle create"). */
static int is_group(const char *word) {
  size_t n = strlen(word);
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strncmp(commands[i].name, word, n) == 0 && commands[i].name[n] == ' ')
      return 1;
  return 0;
}

static int asks_help(int argc, char **argv) {
  for (int i = 0; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return 1;
  return 0;
}

static int cmd_help(cli_t *cli, int argc, char **argv) {
  const cli_cmd_t *c;
  int used;
  if (argc == 0) {
    print_overview("");
    return 0;
  }
  if ((c = find_command(argc, argv, &used)) != NULL) {
    print_command_help(c);
    return 0;
  }
  if (is_group(argv[0])) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s ", argv[0]);
    print_overview(prefix);
    return 0;
  }
  return cli_usage(cli, "unknown command '%s'", argv[0]);
}

/* A usage error on a group ("bundle", "network"): name its subcommands. */
static int group_usage(cli_t *cli, int argc, char **argv) {
  char subs[128] = "";
  size_t n = strlen(argv[0]), used = 0;
  for (size_t i = 0; i < NCOMMANDS && used < sizeof subs; i++)
    if (strncmp(commands[i].name, argv[0], n) == 0 && commands[i].name[n] == ' ')
      used += (size_t)snprintf(subs + used, sizeof subs - used, "%s%s", used ? "|" : "",
                               commands[i].name + n + 1);
  cli_cmd_t group = {argv[0], NULL, "", "", 0};
  char usage[160];
  snprintf(usage, sizeof usage, "%s ... (see cairn %s --help)", subs, argv[0]);
  group.usage = usage;
  cli->cmd = &group;
  int rc = argc > 1 ? cli_usage(cli, "unknown command '%s %s'", argv[0], argv[1])
                    : cli_usage(cli, "'%s' needs a subcommand", argv[0]);
  cli->cmd = NULL;
  return rc;
}

/* Resolve the store directory: --store, then $CAIRN_STORE, then ~/.cairn; *from
 * says which. */
static char *store_dir(const char *given, const char **from) {
  const char *env = getenv("CAIRN_STORE"), *home = getenv("HOME");
  char *dir;
  size_t n;
  *from = "--store";
  if (given != NULL)
    return strdup(given);
  *from = "$CAIRN_STORE";
  if (env != NULL && env[0] != '\0')
    return strdup(env);
  *from = "the default, ~/.cairn";
  if (home == NULL || home[0] == '\0')
    return NULL;
  n = strlen(home) + sizeof "/.cairn";
  if ((dir = malloc(n)) != NULL)
    snprintf(dir, n, "%s/.cairn", home);
  return dir;
}

/* Global options before the command. Returns the index of the command word, or
 * -1 with *rc set (help printed, or a usage error). */
static int parse_global(cli_t *cli, int argc, char **argv, const char **store, int *rc) {
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      print_overview("");
      *rc = 0;
      return -1;
    } else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc) {
      *store = argv[++i];
    } else if (strncmp(argv[i], "--store=", 8) == 0) {
      *store = argv[i] + 8;
    } else if (strcmp(argv[i], "--") == 0) {
      i++;
      break;
    } else {
      *rc = strcmp(argv[i], "--store") == 0 ? cli_usage(cli, "--store needs a directory")
                                            : cli_usage(cli, "unknown option '%s'", argv[i]);
      return -1;
    }
  }
  if (*store != NULL && (*store)[0] == '\0') {
    *rc = cli_usage(cli, "--store needs a directory");
    return -1;
  }
  if (i >= argc) {
    *rc = cli_usage(cli, "no command given");
    return -1;
  }
  return i;
}

/* Find and run the command at argv[0]. */
static int dispatch(cli_t *cli, int argc, char **argv, const char *store) {
  char *dir;
  int used, rc;
  const cli_cmd_t *c = find_command(argc, argv, &used);
  if (c == NULL && is_group(argv[0]) && asks_help(argc - 1, argv + 1))
    return cmd_help(cli, 1, argv);
  if (c == NULL && is_group(argv[0]))
    return group_usage(cli, argc, argv);
  if (c == NULL)
    return cli_usage(cli, "unknown command '%s'", argv[0]);
  cli->cmd = c;
  if (asks_help(argc - used, argv + used)) {
    print_command_help(c);
    return 0;
  }
  if (c->run == cmd_help)
    return cmd_help(cli, argc - used, argv + used);
  if ((dir = store_dir(store, &cli->store_from)) == NULL)
    return cli_fail(cli, "no store directory: give --store DIR or set CAIRN_STORE");
  cli->store_dir = dir;
  rc = c->run(cli, argc - used, argv + used);
  cli->store_dir = NULL;
  free(dir);
  return rc;
}

int main(int argc, char **argv) {
  cli_t cli = {NULL, NULL, NULL, NULL, NULL};
  const char *store = NULL;
  int rc = 0, i;
  if (cairn_core_init() != 0)
    return cli_fail(&cli, "cannot initialise the crypto library (libsodium)");
  if ((i = parse_global(&cli, argc, argv, &store, &rc)) < 0)
    return rc;
  rc = dispatch(&cli, argc - i, argv + i, store);
  cli_output_schema(NULL);
  cairn_schema_free(cli.schema);
  cairn_close(cli.store);
  if (fflush(stdout) != 0 || ferror(stdout)) {
    if (rc == 0)
      rc = cli_fail(&cli, "cannot write the output (disk full or closed pipe?)");
  }
  return rc;
}
