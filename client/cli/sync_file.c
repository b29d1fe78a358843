/*
 * sync_file.c — sync on a file, with no network at all (CLI.md, "Sync on a
 * file"): `heads` prints this replica's version vector, `bundle create` writes
 * the entries a replica with given heads lacks (core/bundle.h), `bundle apply`
 * verifies and applies a bundle. The heads file of `--since` is the JSON that
 * `cairn heads --json` prints on the other replica: {"<author hex>": seq, ...}.
 */
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
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

/* ---- the heads of another replica, read from a file ---- */

typedef struct head_row {
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq;
} head_row_t;

typedef struct since {
  head_row_t *v;
  size_t n;
} since_t;

static int row_cmp(const void *a, const void *b) {
  return memcmp(((const head_row_t *)a)->author, ((const head_row_t *)b)->author,
                CAIRN_KEY_BYTES);
}

static uint64_t since_seq(const uint8_t author[CAIRN_KEY_BYTES], void *ud) {
  const since_t *s = ud;
  head_row_t key, *hit;
  memcpy(key.author, author, CAIRN_KEY_BYTES);
  hit = s->n ? bsearch(&key, s->v, s->n, sizeof *s->v, row_cmp) : NULL;
  return hit != NULL ? hit->seq : 0;
}

/* Fill s from the JSON object j (author hex -> seq). */
static int since_from_json(cli_t *cli, const char *path, json_t *j, since_t *s) {
  const char *key;
  json_t *v;
  if (!json_is_object(j))
    return cli_fail(cli, "%s is not a heads file: expected the JSON object printed by "
                         "`cairn heads --json`", path);
  if ((s->v = calloc(json_object_size(j) + 1, sizeof *s->v)) == NULL)
    return cli_fail(cli, "out of memory");
  json_object_foreach(j, key, v) {
    head_row_t *r = &s->v[s->n];
    if (cairn_unhex(key, r->author, CAIRN_KEY_BYTES) != 0 || !json_is_integer(v) ||
        json_integer_value(v) < 0)
      return cli_fail(cli, "%s is not a heads file: '%.80s' should map a 64-hex author key to "
                           "a seq (as `cairn heads --json` prints)", path, key);
    r->seq = (uint64_t)json_integer_value(v);
    s->n++;
  }
  qsort(s->v, s->n, sizeof *s->v, row_cmp);
  return 0;
}

static int since_load(cli_t *cli, const char *path, since_t *s) {
  json_error_t jerr;
  json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  int rc;
  memset(s, 0, sizeof *s);
  if (j == NULL && jerr.line < 1)
    return cli_fail(cli, "cannot read heads file %s: %s; give the output of `cairn heads "
                         "--json` from the other replica", path, jerr.text);
  if (j == NULL)
    return cli_fail(cli, "cannot read heads file %s: %s (line %d); give the output of "
                         "`cairn heads --json` from the other replica", path, jerr.text,
                    jerr.line);
  rc = since_from_json(cli, path, j, s);
  json_decref(j);
  if (rc != 0) {
    free(s->v);
    s->v = NULL;
  }
  return rc;
}

/* ---- bundle create, bundle apply ---- */

static const char *const create_opts[] = {"since=", NULL};

int cmd_bundle_create(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  since_t s = {NULL, 0};
  const char *since_path;
  uint64_t count = 0;
  int rc = cli_args_parse(cli, argc, argv, create_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  since_path = cli_opt(&a, "since");
  if ((rc = cli_open(cli)) == 0 && (since_path == NULL || (rc = since_load(cli, since_path, &s)) == 0)) {
    rc = cairn_bundle_create(cli->store, a.pos[0], since_path ? since_seq : NULL,
                             since_path ? &s : NULL, &count, &err);
    if (rc != 0)
      rc = cli_fail_rc(cli, rc, &err, "cannot write the bundle");
    else
      printf("wrote %llu entr%s to %s\n", (unsigned long long)count, count == 1 ? "y" : "ies",
             a.pos[0]);
  }
  free(s.v);
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
  cairn_bundle_stats_t st = {0, 0, 0};
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
  }
  cli_args_free(&a);
  return rc;
}
