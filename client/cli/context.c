/*
 * context.c — the store a command works on: opening it once per process (LMDB's
 * rule, store.h), committing a change, and checking that a record exists before
 * a command that needs one.
 */
#include <string.h>

#include "cli.h"

int cli_open(cli_t *cli) {
  cairn_error_t err = {0, ""};
  int rc;
  if (cli->store != NULL)
    return 0;
  /* a command that only reads opens the store read-only: it then works on a
   * store on a read-only disk (a USB copy, a mounted backup) */
  cairn_store_opts_t opts = {0};
  opts.read_only = cli->cmd != NULL && cli->cmd->read_only;
  rc = cairn_open(cli->store_dir, &opts, &cli->store, &err);
  if (rc == CAIRN_ENOENT) /* a mistyped path must not lead to a second, empty store */
    return cli_fail(cli, "no cairn store in %s (%s): check the path to your store, the "
                         "directory you gave `cairn init`; only for a new device, make one "
                         "with `cairn init --name NAME`",
                    cli->store_dir, cli->store_from ? cli->store_from : "--store");
  if (rc != 0) {
    cli->store = NULL;
    return cli_fail_rc(cli, rc, &err, NULL);
  }
  if ((rc = cairn_schema_load(cli->store, &cli->schema)) != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot read the network's schema");
  cli_output_schema(cli->schema);
  return 0;
}

int cli_commit(cli_t *cli, cairn_change_t *c, uint64_t *seq) {
  cairn_error_t err = {0, ""};
  int rc = cairn_change_commit(c, seq, &err);
  if (rc != 0)
    return cli_fail_rc(cli, rc, &err, "the change was not saved");
  return 0;
}

static int ignore_record(const cairn_record_t *r, void *ud) {
  (void)r;
  (void)ud;
  return 0;
}

int cli_need_record(cli_t *cli, const char *type, const char *id, int allow_deleted) {
  int rc = cairn_get(cli->store, type, id, ignore_record, NULL);
  if (rc == 0 || (rc == CAIRN_EDELETED && allow_deleted))
    return 0;
  if (rc == CAIRN_ENOENT)
    return cli_fail_code(cli, CLI_NOTFOUND, "no %s record '%s' (see `cairn list %s`)", type,
                         id, type);
  if (rc == CAIRN_EDELETED)
    return cli_fail_code(cli, CLI_NOTFOUND,
                         "%s '%s' is deleted (a `cairn put` on it would bring it back)", type,
                         id);
  return cli_fail_rc(cli, rc, NULL, "cannot read the record");
}
