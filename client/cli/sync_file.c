/*
 * sync_file.c — sync on a file, with no network at all (docs/cli.md, "Sync on a
 * file"): `heads` prints this replica's version vector, `bundle create` writes
 * the entries a replica with given heads lacks (core/bundle.h), `bundle apply`
 * verifies and applies a bundle. The heads file of `--since` is the JSON that
 * `cairn heads --json` prints on the other replica: {"<author hex>": seq, ...},
 * parsed by client/lib/heads.c.
 */
#include "cli.h"

/* ---- heads ---- */

typedef struct heads_ctx {
  json_t *out; /* NULL in text mode */
  int rc;
} heads_ctx_t;

static int heads_one(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                     const uint8_t hash[CAIRN_HASH_BYTES], void *ud) {
  heads_ctx_t *c = ud;
  char hex[2 * CAIRN_KEY_BYTES + 1];
  (void)hash;
  cairn_hex(author, CAIRN_KEY_BYTES, hex);
  if (c->out == NULL)
    printf("%s\t%llu\n", hex, (unsigned long long)seq);
  else if (json_object_set_new(c->out, hex, json_integer((json_int_t)seq)) != 0)
    c->rc = CAIRN_ENOMEM;
  return c->rc != 0;
}

static const char *const json_opt[] = {"json", NULL};

int cmd_heads(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  heads_ctx_t c = {NULL, 0};
  int json, rc = cli_args_parse(cli, argc, argv, json_opt, 0, 0, &a);
  if (rc != 0)
    return rc;
  json = cli_flag(&a, "json");
  cli_args_free(&a);
  if ((rc = cli_open(cli)) != 0)
    return rc;
  if (json && (c.out = json_object()) == NULL)
    return cli_fail(cli, "out of memory");
  rc = cairn_store_heads(cli->store, heads_one, &c);
  if (rc == 0)
    rc = c.rc;
  if (rc != 0) {
    json_decref(c.out);
    return cli_fail_rc(cli, rc, NULL, "cannot read the heads");
  }
  return json ? cli_print_json(cli, c.out) : 0;
}

/* ---- bundle create, bundle apply ---- */

static const char *const create_opts[] = {"since=", NULL};

int cmd_bundle_create(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  cairn_heads_t since = {NULL, 0};
  const char *since_path;
  uint64_t count = 0;
  int rc = cli_args_parse(cli, argc, argv, create_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  since_path = cli_opt(&a, "since");
  rc = cli_open(cli);
  if (rc == 0 && since_path != NULL && cairn_heads_load(since_path, &since, &err) != 0)
    rc = cli_fail(cli, "%s", err.msg);
  if (rc == 0) {
    rc = cairn_bundle_create(cli->store, a.pos[0], since_path ? cairn_heads_seq : NULL,
                             since_path ? &since : NULL, &count, &err);
    if (rc != 0)
      rc = cli_fail_rc(cli, rc, &err, "cannot write the bundle");
    else
      printf("wrote %llu entr%s to %s\n", (unsigned long long)count, count == 1 ? "y" : "ies",
             a.pos[0]);
  }
  cairn_heads_free(&since);
  cli_args_free(&a);
  return rc;
}

/* What to do about a rejected bundle, by the code of its first fault. */
static const char *apply_hint(int rc) {
  switch (rc) {
  case CAIRN_EGAP:
    return "apply the earlier bundles first, or ask for a full bundle (without --since)";
  case CAIRN_ENETWORK:
  case CAIRN_ENONETWORK:
    return "this bundle is from another network, or this store has not joined one yet";
  case CAIRN_EFORK:
    return "the bundle holds another history of one device's changes than this store "
           "(that device's store was restored from a backup or copied, then written): "
           "the entries before it were applied; sync, and once that device has synced "
           "its changes come with the relay's";
  case CAIRN_EBADSIG:
  case CAIRN_EBADHASH:
  case CAIRN_EFORBIDDEN:
  case CAIRN_ENOTMEMBER:
    return "the bundle holds an entry this network refuses; tell the network's admin";
  default:
    return "the file is damaged or incomplete: make it again with `cairn bundle create`";
  }
}

static int report_apply(cli_t *cli, const char *path, int rc, const cairn_error_t *err,
                        const cairn_bundle_stats_t *st) {
  const char *msg = err->msg[0] ? err->msg : cairn_strerror(rc);
  /* the file could not be opened or read at all: the library says why */
  if (st->read == 0 && (rc == CAIRN_EIO || rc == CAIRN_ENOENT || rc == CAIRN_ENOMEM))
    return cli_fail_rc(cli, rc, err, NULL);
  return cli_fail(cli, "bundle %s rejected: %s (before it: %llu applied, %llu skipped); %s",
                  path, msg, (unsigned long long)st->applied, (unsigned long long)st->skipped,
                  apply_hint(rc));
}

int cmd_bundle_apply(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  cairn_bundle_stats_t st = {0, 0, 0, 0, 0};
  int rc = cli_args_parse(cli, argc, argv, NULL, 1, 1, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_open(cli)) == 0) {
    rc = cairn_bundle_apply(cli->store, a.pos[0], 0, &st, &err);
    if (rc != 0)
      rc = report_apply(cli, a.pos[0], rc, &err, &st);
    else
      printf("applied %llu, skipped %llu\n", (unsigned long long)st.applied,
             (unsigned long long)st.skipped);
    if (rc == 0 && st.set_aside > 0)
      cli_warn(cli, "%llu entr%s of another device %s set aside in %s/forked.entries, not "
                    "applied: that device's store was restored or copied and written again, "
                    "and this store holds another history of it; its changes come again once "
                    "it has synced",
               (unsigned long long)st.set_aside, st.set_aside == 1 ? "y" : "ies",
               st.set_aside == 1 ? "was" : "were", cli->store_dir);
    if (rc == 0 && st.refused > 0)
      cli_warn(cli, "%llu of the changes applied %s refused: the author's role did not "
                    "allow %s (a member revoked before writing %s); %s shown in `cairn "
                    "history`, marked refused, and in no record",
               (unsigned long long)st.refused, st.refused == 1 ? "was" : "were",
               st.refused == 1 ? "it" : "them", st.refused == 1 ? "it" : "them",
               st.refused == 1 ? "it is" : "they are");
  }
  cli_args_free(&a);
  return rc;
}
