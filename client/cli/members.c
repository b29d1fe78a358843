/*
 * members.c — membership: `members` (the library's document, cairn_members_json,
 * printed as text or JSON), `grant`, `revoke`, `rekey`, `invite`, and the table
 * of member names that log and conflicts print beside author keys.
 *
 * Members are `_member` records whose id is the device key in lowercase hex,
 * with a `role` field (owner, admin, editor, viewer, relay, revoked), a `name`
 * and an `organization` (a partner record's id) (docs/design.md, "Membership and
 * roles"). A person is a name: one with two devices has two keys under the same
 * name. Invite keys are `_member` records too, with the invite's terms; `members`
 * lists them apart, as invites. Granting and revoking are ordinary offline
 * changes to those records; the core decides whether this device's role allows
 * them, here and on every replica that applies them.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct load_ctx {
  cli_members_t *m;
  int rc;
} load_ctx_t;

static int load_one(const cairn_member_t *mb, void *ud) {
  load_ctx_t *c = ud;
  cli_member_t *v = realloc(c->m->v, (c->m->n + 1) * sizeof *v);
  if (v == NULL) {
    c->rc = CAIRN_ENOMEM;
    return 1;
  }
  c->m->v = v;
  v = &c->m->v[c->m->n++];
  memcpy(v->key, mb->key, CAIRN_KEY_BYTES);
  v->name = mb->name ? strndup(mb->name, mb->name_len) : NULL;
  if (mb->name && v->name == NULL) {
    c->rc = CAIRN_ENOMEM;
    return 1;
  }
  return 0;
}

int cli_members_load(cli_t *cli, cli_members_t *m) {
  load_ctx_t c = {m, 0};
  int rc;
  memset(m, 0, sizeof *m);
  m->self = cairn_store_key(cli->store);
  m->self_name = cairn_store_name(cli->store);
  rc = cairn_members(cli->store, load_one, &c);
  if (rc == 0)
    rc = c.rc;
  if (rc != 0) {
    cli_members_free(m);
    return cli_fail_rc(cli, rc, NULL, "cannot read the members");
  }
  return 0;
}

void cli_members_free(cli_members_t *m) {
  for (size_t i = 0; i < m->n; i++) {
    free(m->v[i].name);
  }
  free(m->v);
  memset(m, 0, sizeof *m);
}

const char *cli_member_name(const cli_members_t *m, const uint8_t key[CAIRN_KEY_BYTES]) {
  for (size_t i = 0; i < m->n; i++)
    if (memcmp(m->v[i].key, key, CAIRN_KEY_BYTES) == 0 && m->v[i].name != NULL)
      return m->v[i].name;
  /* this device knows its own name even before a grant names it */
  if (m->self != NULL && memcmp(m->self, key, CAIRN_KEY_BYTES) == 0 && m->self_name[0])
    return m->self_name;
  return NULL;
}

/* ---- members ---- */

/*
 * `members` prints the document of cairn_members_json in two sections: the
 * members, grouped by person (a name: the keys of one person's devices sit
 * together, each marked "key N of M"), and the invites, which are keys that
 * grant a role, not members: pending, used, expired or revoked.
 */

/* A string member of o, or "" when absent or null. */
static const char *text_of(const json_t *o, const char *key) {
  const char *v = json_string_value(json_object_get(o, key));
  return v != NULL ? v : "";
}

/* The organization as shown: the partner's name, else its id. */
static const char *org_of(const json_t *o) {
  const char *name = text_of(o, "organization_name");
  return name[0] ? name : text_of(o, "organization");
}

/* KEY NAME ROLE ORGANIZATION [key N of M] */
static void member_line(const json_t *m) {
  const json_t *others = json_object_get(m, "other_keys"), *k;
  const char *key = text_of(m, "key");
  size_t nth = 1, i;
  printf("%s\t%s\t%s\t%s", key, text_of(m, "name"), text_of(m, "role"), org_of(m));
  json_array_foreach(others, i, k) {
    nth += strcmp(json_string_value(k), key) < 0; /* a person's keys go in key order */
  }
  if (json_array_size(others) > 0)
    printf("\tkey %zu of %zu", nth, json_array_size(others) + 1);
  putchar('\n');
}

/* KEY NAME ROLE ORGANIZATION STATUS EXPIRES USED/USES */
static void invite_line(const json_t *v) {
  printf("%s\t%s\t%s\t%s\t%s\t%s\t%lld/%lld\n", text_of(v, "key"), text_of(v, "name"),
         text_of(v, "role"), org_of(v), text_of(v, "status"), text_of(v, "expires"),
         (long long)json_integer_value(json_object_get(v, "used")),
         (long long)json_integer_value(json_object_get(v, "uses")));
}

static void print_members(const json_t *doc) {
  const json_t *invites = json_object_get(doc, "invites"), *o;
  size_t i;
  printf("members\n");
  json_array_foreach(json_object_get(doc, "members"), i, o) {
    member_line(o);
  }
  if (json_array_size(invites) > 0)
    printf("\ninvites\n");
  json_array_foreach(invites, i, o) {
    invite_line(o);
  }
}

static const char *const json_opt[] = {"json", NULL};

int cmd_members(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  json_t *doc;
  int json, rc = cli_args_parse(cli, argc, argv, json_opt, 0, 0, &a);
  if (rc != 0)
    return rc;
  json = cli_flag(&a, "json");
  cli_args_free(&a);
  if ((rc = cli_open(cli)) != 0)
    return rc;
  if ((rc = cairn_members_json(cli->store, &doc)) != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot list the members");
  if (json)
    return cli_print_json(cli, doc);
  print_members(doc);
  json_decref(doc);
  return 0;
}

/* ---- grant, revoke ---- */

/* Write role, and name and org when given, on the `_member` record of key, as
 * one change. */
static int write_member(cli_t *cli, const uint8_t key[CAIRN_KEY_BYTES], cairn_role_t role,
                        const char *name, const char *org) {
  cairn_change_t *c;
  int rc = cairn_change_begin(cli->store, &c);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot start a change");
  if ((rc = cairn_change_member(c, key, role, name, NULL)) != 0 ||
      (org != NULL && (rc = cairn_change_member_org(c, key, org)) != 0)) {
    cairn_change_abort(c);
    return cli_fail_rc(cli, rc, NULL, "cannot prepare the member record");
  }
  return cli_commit(cli, c, NULL);
}

int cli_write_member(cli_t *cli, const uint8_t key[CAIRN_KEY_BYTES], cairn_role_t role,
                     const char *name) {
  return write_member(cli, key, role, name, NULL);
}

static const char *const grant_opts[] = {"role=", "name=", "org=", NULL};

/* Check --org, a partner's record id; 0 or CLI_USAGE. */
static int check_org(cli_t *cli, const char *org) {
  return org == NULL ? 0 : cli_check_name(cli, "organization (a partner id)", org, CAIRN_ID_MAX);
}

static int ignore_record(const cairn_record_t *r, void *ud) {
  (void)r;
  (void)ud;
  return 0;
}

/* A warning when --org names no partner record here (it may arrive later). */
static void warn_unknown_org(cli_t *cli, const char *org) {
  int rc = org != NULL ? cairn_get(cli->store, "partner", org, ignore_record, NULL) : 0;
  if (rc == CAIRN_ENOENT || rc == CAIRN_EDELETED)
    cli_warn(cli, "there is no partner '%s' in this replica; `members` shows the id until "
                  "one reaches it (cairn put partner %s name=...)",
             org, org);
}

/* Check --role and --name of a grant; 0 or CLI_USAGE. */
static int check_grant(cli_t *cli, const char *role, const char *name) {
  if (role == NULL)
    return cli_usage(cli, "--role is required");
  cairn_role_t r = cairn_role_parse(role, strlen(role));
  if (r == CAIRN_ROLE_NONE || r == CAIRN_ROLE_INVITE)
    return cli_usage(cli, "unknown role '%s' (owner, admin, editor, viewer, relay or revoked; "
                          "`cairn invite` makes invites)",
                     role);
  if (name != NULL && (name[0] == '\0' || strlen(name) > 200))
    return cli_usage(cli, "--name takes a name of 1 to 200 bytes");
  if (name != NULL) {
    json_t *j = json_string(name); /* NULL when not UTF-8 */
    if (j == NULL)
      return cli_usage(cli, "the name is not valid UTF-8");
    json_decref(j);
  }
  return 0;
}

int cmd_grant(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  uint8_t key[CAIRN_KEY_BYTES];
  int rc = cli_args_parse(cli, argc, argv, grant_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  const char *role = cli_opt(&a, "role"), *org = cli_opt(&a, "org");
  if ((rc = cli_parse_key(cli, a.pos[0], key)) == 0 &&
      (rc = check_grant(cli, role, cli_opt(&a, "name"))) == 0 && (rc = check_org(cli, org)) == 0 &&
      (rc = cli_open(cli)) == 0 &&
      (rc = write_member(cli, key, cairn_role_parse(role, strlen(role)), cli_opt(&a, "name"),
                         org)) == 0)
    warn_unknown_org(cli, org);
  cli_args_free(&a);
  return rc;
}

int cmd_revoke(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  uint8_t key[CAIRN_KEY_BYTES];
  int rc = cli_args_parse(cli, argc, argv, NULL, 1, 1, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_parse_key(cli, a.pos[0], key)) == 0 && (rc = cli_open(cli)) == 0 &&
      (rc = cairn_revoke(cli->store, key, &err)) != 0)
    rc = rc == CAIRN_ENOENT ? cli_fail_code(cli, CLI_NOTFOUND, "%s", err.msg)
                            : cli_fail_rc(cli, rc, &err, "the change was not saved");
  cli_args_free(&a);
  return rc;
}

/* ---- rekey ---- */

/* What happens next after cairn_rekey, on stderr. */
static void rekey_next_step(cli_t *cli, const cairn_rekey_info_t *r) {
  char key[2 * CAIRN_KEY_BYTES + 1];
  cairn_hex(r->new_key, CAIRN_KEY_BYTES, key);
  if (r->stage == CAIRN_REKEY_GRANTED) {
    cli_warn(cli, "this device has a new key, granted the same name and role; it keeps "
                  "signing with its current key until a sync has delivered the grant and its "
                  "changes, then switches");
    return;
  }
  cli_warn(cli, "this device has a new key waiting for an admin to run `cairn grant %s --role "
                "%s --name \"%s\"`; it keeps working with its current key meanwhile, and the "
                "first sync after the grant switches to the new one",
           key, cairn_role_name(r->role) ? cairn_role_name(r->role) : "editor",
           cairn_store_name(cli->store));
}

int cmd_rekey(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  cairn_rekey_info_t r;
  char key[2 * CAIRN_KEY_BYTES + 1];
  int rc = cli_args_parse(cli, argc, argv, NULL, 0, 0, &a);
  cli_args_free(&a);
  if (rc != 0 || (rc = cli_open(cli)) != 0)
    return rc;
  if ((rc = cairn_rekey(cli->store, &r, &err)) != 0)
    return cli_fail_rc(cli, rc, &err, "cannot make a new key");
  printf("%s\n", cairn_hex(r.new_key, CAIRN_KEY_BYTES, key));
  rekey_next_step(cli, &r);
  return 0;
}

/* ---- invite ---- */

static const char *const invite_opts[] = {"role=", "name=", "org=", "expires=", "uses=", NULL};

int cmd_invite(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  char code[CAIRN_INVITE_TEXT_MAX];
  unsigned long days, uses;
  int rc = cli_args_parse(cli, argc, argv, invite_opts, 0, 0, &a);
  if (rc != 0)
    return rc;
  const char *role = cli_opt(&a, "role"), *name = cli_opt(&a, "name"), *org = cli_opt(&a, "org");
  cairn_role_t r = role ? cairn_role_parse(role, strlen(role)) : CAIRN_ROLE_NONE;
  if ((rc = cli_opt_number(cli, &a, "expires", 1, 365, 7, &days)) == 0 &&
      (rc = cli_opt_number(cli, &a, "uses", 1, CAIRN_INVITE_USES_MAX, 1, &uses)) == 0 &&
      cairn_invite_terms_check(r, name, org, days, uses, &err) != 0)
    rc = cli_usage(cli, "%s", err.msg);
  if (rc == 0 && (rc = cli_open(cli)) == 0) {
    rc = cairn_invite(cli->store, r, name, org, (unsigned)days, (unsigned)uses, code,
                      sizeof code, &err);
    if (rc != 0) {
      rc = cli_fail_rc(cli, rc, &err, "cannot make the invite");
    } else {
      printf("%s\n", code);
      warn_unknown_org(cli, org);
    }
  }
  cli_args_free(&a);
  return rc;
}
