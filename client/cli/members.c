/*
 * members.c — membership: `members`, `grant`, `revoke`, and the table of member
 * names that history, log and conflicts print beside author keys.
 *
 * Members are `_member` records whose id is the device key in lowercase hex,
 * with a `role` field (owner, admin, editor, viewer, relay, revoked) and a
 * `name` (DESIGN.md, "Membership and roles"). Granting and revoking are ordinary
 * offline changes to those records; the core decides whether this device's role
 * allows them, here and on every replica that applies them.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "invite.h"
#include "sync.h"

#include "cli.h"
#include "values.h"

#define MEMBER_TYPE "_member"

/* A string field of a record as a malloc'd C string (NULL if absent or not text). */
static char *text_field(const cairn_record_t *r, const char *name) {
  cairn_record_iter_t it;
  cairn_record_field_t f;
  size_t n = strlen(name);
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f)) {
    json_t *v;
    char *s = NULL;
    if (f.name_len != n || memcmp(f.name, name, n) != 0)
      continue;
    if (cairn_value_to_json(f.value, f.value_len, &v) != 0)
      return NULL;
    if (json_is_string(v))
      s = strdup(json_string_value(v));
    json_decref(v);
    return s;
  }
  return NULL;
}

typedef struct load_ctx {
  cli_members_t *m;
  int rc;
} load_ctx_t;

static int load_one(const cairn_record_t *r, void *ud) {
  load_ctx_t *c = ud;
  char id[2 * CAIRN_KEY_BYTES + 1];
  cli_member_t *v;
  if (r->id_len != 2 * CAIRN_KEY_BYTES)
    return 0;
  memcpy(id, r->id, r->id_len);
  id[r->id_len] = '\0';
  if ((v = realloc(c->m->v, (c->m->n + 1) * sizeof *v)) == NULL) {
    c->rc = CAIRN_ENOMEM;
    return 1;
  }
  c->m->v = v;
  v = &c->m->v[c->m->n];
  if (cairn_unhex(id, v->key, CAIRN_KEY_BYTES) != 0)
    return 0;
  v->name = text_field(r, "name");
  v->role = text_field(r, "role");
  c->m->n++;
  return 0;
}

int cli_members_load(cli_t *cli, cli_members_t *m) {
  load_ctx_t c = {m, 0};
  int rc;
  memset(m, 0, sizeof *m);
  m->self = cairn_store_key(cli->store);
  m->self_name = cairn_store_name(cli->store);
  rc = cairn_store_list(cli->store, MEMBER_TYPE, load_one, &c);
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

/* Add field = the string s to a change on the member record id. */
static int put_text(cli_t *cli, cairn_change_t *c, const char *id, const char *field,
                    const char *s) {
  uint8_t *mp = NULL;
  size_t len = 0;
  json_t *j = json_string(s);
  int rc = j == NULL ? CAIRN_EINVAL : cairn_value_from_json(j, &mp, &len, NULL);
  json_decref(j);
  if (rc == 0)
    rc = cairn_change_put(c, MEMBER_TYPE, id, field, mp, len, 0);
  free(mp);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot prepare the member record");
  return 0;
}

/* Write role (and name, when given) on the member record of key (lowercase hex). */
int cli_write_member(cli_t *cli, const char *id, const char *role, const char *name) {
  cairn_change_t *c;
  int rc = cairn_change_begin(cli->store, &c);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot start a change");
  if ((rc = put_text(cli, c, id, "role", role)) != 0 ||
      (name != NULL && (rc = put_text(cli, c, id, "name", name)) != 0)) {
    cairn_change_abort(c);
    return rc;
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
  char id[2 * CAIRN_KEY_BYTES + 1];
  int rc = cli_args_parse(cli, argc, argv, grant_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_parse_key(cli, a.pos[0], key)) == 0 &&
      (rc = check_grant(cli, cli_opt(&a, "role"), cli_opt(&a, "name"))) == 0 &&
      (rc = cli_open(cli)) == 0)
    rc = cli_write_member(cli, cairn_hex(key, CAIRN_KEY_BYTES, id), cli_opt(&a, "role"),
                      cli_opt(&a, "name"));
  cli_args_free(&a);
  return rc;
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
    cairn_hex(key, CAIRN_KEY_BYTES, id);
    if ((rc = cairn_store_role(cli->store, key, &role)) != 0)
      rc = cli_fail_rc(cli, rc, NULL, "cannot read the member's role");
    else if (role == CAIRN_ROLE_NONE)
      rc = cli_fail_code(cli, CLI_NOTFOUND, "%s is not a member of this network (see `cairn "
                                            "members`)", id);
    else
      rc = cli_write_member(cli, id, "revoked", NULL);
  }
  cli_args_free(&a);
  return rc;
}

/* ---- invite ---- */

static const char *const invite_opts[] = {"role=", "name=", "expires=", "uses=", NULL};

static int put_uint(cli_t *cli, cairn_change_t *c, const char *id, const char *field,
                    uint64_t v) {
  uint8_t mp[9] = {0xcf};
  cairn_put_be64(mp + 1, v);
  int rc = cairn_change_put(c, MEMBER_TYPE, id, field, mp, sizeof mp, 0);
  return rc ? cli_fail_rc(cli, rc, NULL, "cannot prepare the invite") : 0;
}

/* The invite key's member record: role invite and its terms. */
static int write_invite(cli_t *cli, const char *id, const char *grants, const char *name,
                        uint64_t expires_ms, uint64_t uses) {
  cairn_change_t *c;
  int rc = cairn_change_begin(cli->store, &c);
  if (rc != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot start a change");
  if ((rc = put_text(cli, c, id, "role", "invite")) != 0 ||
      (rc = put_text(cli, c, id, "grants", grants)) != 0 ||
      (rc = put_text(cli, c, id, "name", name)) != 0 ||
      (rc = put_uint(cli, c, id, "expires", expires_ms)) != 0 ||
      (rc = put_uint(cli, c, id, "uses", uses)) != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cli_commit(cli, c, NULL);
}

int cmd_invite(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_invite_code_t code;
  uint8_t pk[CAIRN_KEY_BYTES], sk[CAIRN_SECRET_BYTES];
  char id[2 * CAIRN_KEY_BYTES + 1], text[CAIRN_INVITE_CODE_MAX];
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
    if (cairn_store_network(cli->store, code.network) != 0)
      rc = cli_fail(cli, "this store has no network yet");
    else if (cairn_sync_remote(cli->store, code.addr, sizeof code.addr, code.relay_key) != 0)
      rc = cli_fail(cli, "no relay set: run `cairn remote HOST:PORT --key RELAYKEY` first");
  }
  if (rc == 0) {
    randombytes_buf(code.seed, sizeof code.seed);
    cairn_invite_keys(code.seed, pk, sk);
    sodium_memzero(sk, sizeof sk);
    uint64_t expires = cairn_now_ms() + (uint64_t)days * 86400000;
    rc = write_invite(cli, cairn_hex(pk, CAIRN_KEY_BYTES, id), role, name, expires, uses);
  }
  if (rc == 0 && cairn_invite_encode(&code, text, sizeof text) != 0)
    rc = cli_fail(cli, "cannot write the invite code");
  if (rc == 0)
    printf("%s\n", text);
  sodium_memzero(&code, sizeof code);
  cli_args_free(&a);
  return rc;
}
