/*
 * members.c — membership: `members`, `grant`, `revoke`, `rekey`, `invite`, and
 * the table of member names that history, log and conflicts print beside author
 * keys.
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
  v->org = mb->organization ? strndup(mb->organization, mb->organization_len) : NULL;
  v->terms = mb->terms;
  if ((mb->name && v->name == NULL) || (role && v->role == NULL) ||
      (mb->organization && v->org == NULL)) {
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
    free(m->v[i].org);
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
 * `members` prints two sections: the members, grouped by person (a name: the
 * keys of one person's devices sit together, each marked "key N of M"), and the
 * invites, which are keys that grant a role, not members: pending, used,
 * expired or revoked.
 */

/* A `_member` record as `members` shows it, read in full before anything is
 * printed. */
typedef struct row {
  const cli_member_t *v;
  const char *name;  /* cli_member_name: NULL when unnamed */
  char *org_name;    /* the partner's name, NULL when it has none here */
  size_t nth, keys;  /* members: its place among its person's keys, from 1 */
  uint64_t used;     /* invites: the devices it brought in (its head seq) */
} row_t;

/* Whether a `_member` record is an invite key (a cancelled one included). */
static int is_invite(const cli_member_t *v) {
  return v->terms.grants != CAIRN_ROLE_NONE;
}

/* By name (unnamed last), then key. */
static int row_cmp(const void *a, const void *b) {
  const row_t *x = a, *y = b;
  int c = x->name && y->name ? strcmp(x->name, y->name) : (x->name == NULL) - (y->name == NULL);
  return c != 0 ? c : memcmp(x->v->key, y->v->key, CAIRN_KEY_BYTES);
}

/* A partner's `name` as text (NULL when it has none). */
typedef struct partner_name {
  char *text;
  int rc;
} partner_name_t;

static int partner_name(const cairn_record_t *r, void *ud) {
  partner_name_t *p = ud;
  cairn_record_field_t f;
  if (cairn_record_field(r, "name", &f))
    p->rc = cli_value_text(f.value, f.value_len, &p->text);
  return 0;
}

/* The name of a partner: its record's `name`; NULL when that record is not here
 * (absent, deleted, or an id no record can have) or has no name. */
static int org_name(cli_t *cli, const char *org, char **out) {
  partner_name_t p = {NULL, 0};
  int rc = org != NULL ? cairn_get(cli->store, "partner", org, partner_name, &p) : 0;
  *out = p.text;
  if (rc == CAIRN_ENOENT || rc == CAIRN_EDELETED || rc == CAIRN_EINVAL)
    rc = 0;
  return rc != 0 ? rc : p.rc;
}

static void rows_free(row_t *rows, size_t n) {
  for (size_t i = 0; rows != NULL && i < n; i++)
    free(rows[i].org_name);
  free(rows);
}

/* The rows of every member record, members first then invites, each part
 * sorted; *nmembers of them members. */
static int rows_make(cli_t *cli, const cli_members_t *m, row_t **out, size_t *nmembers) {
  row_t *rows = calloc(m->n + 1, sizeof *rows);
  size_t nm = 0, ni = m->n;
  int rc = 0;
  if (rows == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->n && rc == 0; i++) {
    row_t *r = is_invite(&m->v[i]) ? &rows[--ni] : &rows[nm++];
    r->v = &m->v[i];
    r->name = cli_member_name(m, m->v[i].key);
    if ((rc = org_name(cli, m->v[i].org, &r->org_name)) == 0 && is_invite(r->v))
      rc = cairn_store_head_seq(cli->store, r->v->key, &r->used);
  }
  if (rc != 0) {
    rows_free(rows, m->n);
    return rc;
  }
  cairn_sort(rows, nm, sizeof *rows, row_cmp);
  cairn_sort(rows + nm, m->n - nm, sizeof *rows, row_cmp);
  /* a person's keys: a run of rows with one name */
  for (size_t i = 0, end; i < nm; i = end) {
    for (end = i + 1; end < nm && rows[i].name && rows[end].name &&
                      strcmp(rows[i].name, rows[end].name) == 0;
         end++)
      ;
    for (size_t k = i; k < end; k++) {
      rows[k].nth = k - i + 1;
      rows[k].keys = end - i;
    }
  }
  *out = rows;
  *nmembers = nm;
  return rc;
}

/* What became of an invite: pending, used (every use taken), expired, revoked. */
static const char *invite_status(const row_t *r, uint64_t now) {
  if (r->v->role != NULL && strcmp(r->v->role, "revoked") == 0)
    return "revoked";
  if (r->used >= r->v->terms.uses)
    return "used";
  return now > r->v->terms.expires_ms ? "expired" : "pending";
}

/* "key", "name", "role", "organization" and "organization_name" of a row. */
static json_t *row_json(const row_t *r, const char *role) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  const char *org = r->v->org;
  return json_pack("{s:s, s:o, s:o, s:o, s:o}", "key", cairn_hex(r->v->key, CAIRN_KEY_BYTES, hex),
                   "name", cli_json_str(r->name, r->name ? strlen(r->name) : 0), "role",
                   cli_json_str(role, role ? strlen(role) : 0), "organization",
                   cli_json_str(org, org ? strlen(org) : 0), "organization_name",
                   cli_json_str(r->org_name, r->org_name ? strlen(r->org_name) : 0));
}

/* A member: KEY NAME ROLE ORGANIZATION [key N of M]; JSON adds other_keys. */
static int member_out(const row_t *rows, size_t i, json_t *arr) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  const row_t *r = &rows[i];
  const char *org = r->org_name ? r->org_name : r->v->org;
  if (arr == NULL) {
    printf("%s\t%s\t%s\t%s", cairn_hex(r->v->key, CAIRN_KEY_BYTES, hex), r->name ? r->name : "",
           r->v->role ? r->v->role : "", org ? org : "");
    if (r->keys > 1)
      printf("\tkey %zu of %zu", r->nth, r->keys);
    putchar('\n');
    return 0;
  }
  json_t *o = row_json(r, r->v->role), *others = json_array();
  if (o == NULL || others == NULL || json_object_set_new(o, "other_keys", others) != 0 ||
      json_array_append_new(arr, o) != 0) {
    json_decref(o);
    return CAIRN_ENOMEM;
  }
  for (size_t k = i + 1 - r->nth; k < i + 1 - r->nth + r->keys; k++)
    if (k != i && json_array_append_new(others, json_string(cairn_hex(rows[k].v->key,
                                                                      CAIRN_KEY_BYTES, hex))))
      return CAIRN_ENOMEM;
  return 0;
}

/* An invite: KEY NAME ROLE ORGANIZATION STATUS EXPIRES USED/USES. */
static int invite_out(const row_t *r, uint64_t now, json_t *arr) {
  char hex[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX];
  const char *status = invite_status(r, now), *role = cairn_role_name(r->v->terms.grants);
  const char *org = r->org_name ? r->org_name : r->v->org;
  cli_time(r->v->terms.expires_ms << 16, when);
  if (arr == NULL) {
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%llu/%u\n", cairn_hex(r->v->key, CAIRN_KEY_BYTES, hex),
           r->name ? r->name : "", role, org ? org : "", status, when,
           (unsigned long long)r->used, (unsigned)r->v->terms.uses);
    return 0;
  }
  json_t *o = row_json(r, role);
  if (o == NULL || json_array_append_new(arr, o) != 0 ||
      json_object_set_new(o, "status", json_string(status)) != 0 ||
      json_object_set_new(o, "expires", json_string(when)) != 0 ||
      json_object_set_new(o, "uses", json_integer(r->v->terms.uses)) != 0 ||
      json_object_set_new(o, "used", json_integer((json_int_t)r->used)) != 0)
    return CAIRN_ENOMEM;
  return 0;
}

static int print_members(cli_t *cli, const cli_members_t *m, int json) {
  json_t *doc = json ? json_pack("{s:[], s:[]}", "members", "invites") : NULL;
  json_t *marr = doc ? json_object_get(doc, "members") : NULL;
  json_t *iarr = doc ? json_object_get(doc, "invites") : NULL;
  uint64_t now = cairn_now_ms();
  row_t *rows = NULL;
  size_t nm = 0;
  int rc = json && doc == NULL ? CAIRN_ENOMEM : rows_make(cli, m, &rows, &nm);
  if (rc == 0 && !json)
    printf("members\n");
  for (size_t i = 0; rc == 0 && i < nm; i++)
    rc = member_out(rows, i, marr);
  if (rc == 0 && !json && nm < m->n)
    printf("\ninvites\n");
  for (size_t i = nm; rc == 0 && i < m->n; i++)
    rc = invite_out(&rows[i], now, iarr);
  rows_free(rows, m->n);
  if (rc != 0) {
    json_decref(doc);
    return cli_fail_rc(cli, rc, NULL, "cannot list the members");
  }
  return json ? cli_print_json(cli, doc) : 0;
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

/* A warning when --org names no partner record here (it may arrive later). */
static void warn_unknown_org(cli_t *cli, const char *org) {
  partner_name_t p = {NULL, 0};
  int rc = org != NULL ? cairn_get(cli->store, "partner", org, partner_name, &p) : 0;
  free(p.text);
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
  if (r != CAIRN_ROLE_EDITOR && r != CAIRN_ROLE_VIEWER && r != CAIRN_ROLE_ADMIN)
    rc = cli_usage(cli, "--role is editor, viewer or admin");
  else if (name == NULL || name[0] == '\0' || strlen(name) > 200)
    rc = cli_usage(cli, "--name takes the new member's name (1 to 200 bytes)");
  else if ((rc = check_org(cli, org)) == 0 &&
           (rc = cli_opt_number(cli, &a, "expires", 1, 365, 7, &days)) == 0 &&
           (rc = cli_opt_number(cli, &a, "uses", 1, CAIRN_INVITE_USES_MAX, 1, &uses)) == 0 &&
           (rc = cli_open(cli)) == 0) {
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
