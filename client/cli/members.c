/*
 * members.c — membership: `members`, `grant`, `revoke`, and the table of member
 * names that history, log and conflicts print beside author keys.
 *
 * Members are `_member` records whose id is the device key in lowercase hex,
 * with a `role` field (owner, admin, editor, viewer, relay, revoked) and a
 * `name` (docs/design.md, "Membership and roles"). Granting and revoking are ordinary
 * offline changes to those records; the core decides whether this device's role
 * allows them, here and on every replica that applies them.
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
  const char *role = cairn_role_name(mb->role);
  cli_member_t *v = realloc(c->m->v, (c->m->n + 1) * sizeof *v);
  if (v == NULL) {
    c->rc = CAIRN_ENOMEM;
    return 1;
  }
  c->m->v = v;
  v = &c->m->v[c->m->n++];
  memcpy(v->key, mb->key, CAIRN_KEY_BYTES);
  v->name = mb->name ? strndup(mb->name, mb->name_len) : NULL;
  v->role = role ? strdup(role) : NULL;
  if ((mb->name && v->name == NULL) || (role && v->role == NULL)) {
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
    free(m->v[i].role);
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

static int print_members(cli_t *cli, const cli_members_t *m, int json) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  json_t *arr = json ? json_array() : NULL;
  if (json && arr == NULL)
    return cli_fail(cli, "out of memory");
  for (size_t i = 0; i < m->n; i++) {
    const char *name = cli_member_name(m, m->v[i].key);
    const char *role = m->v[i].role;
    cairn_hex(m->v[i].key, CAIRN_KEY_BYTES, hex);
    if (!json) {
      printf("%s\t%s\t%s\n", hex, name ? name : "", role ? role : "");
      continue;
    }
    json_t *o = json_pack("{s:s, s:o, s:o}", "key", hex, "name",
                          cli_json_str(name, name ? strlen(name) : 0), "role",
                          cli_json_str(role, role ? strlen(role) : 0));
    if (o == NULL || json_array_append_new(arr, o) != 0) {
      json_decref(arr);
      return cli_fail(cli, "out of memory");
    }
  }
  return json ? cli_print_json(cli, arr) : 0;
}

static const char *const json_opt[] = {"json", NULL};

int cmd_members(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cli_members_t m;
  int json, rc = cli_args_parse(cli, argc, argv, json_opt, 0, 0, &a);
  if (rc != 0)
    return rc;
  json = cli_flag(&a, "json");
  cli_args_free(&a);
  if ((rc = cli_open(cli)) != 0 || (rc = cli_members_load(cli, &m)) != 0)
    return rc;
  rc = print_members(cli, &m, json);
  cli_members_free(&m);
  return rc;
}

/* ---- grant, revoke ---- */

int cli_write_member(cli_t *cli, const uint8_t key[CAIRN_KEY_BYTES], cairn_role_t role,
                     const char *name) {
  cairn_change_t *c;
  int rc = cairn_change_begin(cli->store, &c);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot start a change");
  if ((rc = cairn_change_member(c, key, role, name, NULL)) != 0) {
    cairn_change_abort(c);
    return cli_fail_rc(cli, rc, NULL, "cannot prepare the member record");
  }
  return cli_commit(cli, c, NULL);
}

static const char *const grant_opts[] = {"role=", "name=", NULL};

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
  const char *role = cli_opt(&a, "role");
  if ((rc = cli_parse_key(cli, a.pos[0], key)) == 0 &&
      (rc = check_grant(cli, role, cli_opt(&a, "name"))) == 0 && (rc = cli_open(cli)) == 0)
    rc = cli_write_member(cli, key, cairn_role_parse(role, strlen(role)), cli_opt(&a, "name"));
  cli_args_free(&a);
  return rc;
}

/* Revoke key, accepting its entries up to the last one this replica holds: any
 * later entry is refused everywhere, whatever its stamp. */
static int revoke(cli_t *cli, const uint8_t key[CAIRN_KEY_BYTES]) {
  cairn_change_t *c;
  uint64_t last = 0;
  int rc = cairn_store_head_seq(cli->store, key, &last);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot read the member's entries");
  if ((rc = cairn_change_begin(cli->store, &c)) != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot start a change");
  if ((rc = cairn_change_revoke(c, key, last)) != 0) {
    cairn_change_abort(c);
    return cli_fail_rc(cli, rc, NULL, "cannot prepare the revocation");
  }
  return cli_commit(cli, c, NULL);
}

int cmd_revoke(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  uint8_t key[CAIRN_KEY_BYTES];
  char id[2 * CAIRN_KEY_BYTES + 1];
  cairn_role_t role;
  int rc = cli_args_parse(cli, argc, argv, NULL, 1, 1, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_parse_key(cli, a.pos[0], key)) == 0 && (rc = cli_open(cli)) == 0) {
    if ((rc = cairn_store_role(cli->store, key, &role)) != 0)
      rc = cli_fail_rc(cli, rc, NULL, "cannot read the member's role");
    else if (role == CAIRN_ROLE_NONE)
      rc = cli_fail_code(cli, CLI_NOTFOUND, "%s is not a member of this network (see `cairn "
                                            "members`)", cairn_hex(key, CAIRN_KEY_BYTES, id));
    else
      rc = revoke(cli, key);
  }
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

static const char *const invite_opts[] = {"role=", "name=", "expires=", "uses=", NULL};

int cmd_invite(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  char code[CAIRN_INVITE_TEXT_MAX];
  unsigned long days, uses;
  int rc = cli_args_parse(cli, argc, argv, invite_opts, 0, 0, &a);
  if (rc != 0)
    return rc;
  const char *role = cli_opt(&a, "role"), *name = cli_opt(&a, "name");
  cairn_role_t r = role ? cairn_role_parse(role, strlen(role)) : CAIRN_ROLE_NONE;
  if (r != CAIRN_ROLE_EDITOR && r != CAIRN_ROLE_VIEWER && r != CAIRN_ROLE_ADMIN)
    rc = cli_usage(cli, "--role is editor, viewer or admin");
  else if (name == NULL || name[0] == '\0' || strlen(name) > 200)
    rc = cli_usage(cli, "--name takes the new member's name (1 to 200 bytes)");
  else if ((rc = cli_opt_number(cli, &a, "expires", 1, 365, 7, &days)) == 0 &&
           (rc = cli_opt_number(cli, &a, "uses", 1, CAIRN_INVITE_USES_MAX, 1, &uses)) == 0 &&
           (rc = cli_open(cli)) == 0) {
    rc = cairn_invite(cli->store, r, name, (unsigned)days, (unsigned)uses, code, sizeof code,
                      &err);
    if (rc != 0)
      rc = cli_fail_rc(cli, rc, &err, "cannot make the invite");
    else
      printf("%s\n", code);
  }
  cli_args_free(&a);
  return rc;
}
