/*
 * members.c — the network's people as `cairn members` and the web app show them
 * (cairn.h, "Members"): the members document, the name shown for an author,
 * revoking a key, and the checks of an invite's terms.
 *
 * Members are `_member` records whose id is the device key (core/member.h). A
 * person is a name: one with two devices has two keys under the same name, which
 * the document keeps together. Invite keys are `_member` records too, with the
 * invite's terms; the document lists them apart, as invites, each with what
 * became of it (pending, used, expired, revoked).
 */
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "lib_internal.h"

/* ---- the name of an author ---- */

typedef struct name_copy {
  char *out;
  int found;
} name_copy_t;

static int copy_name(const cairn_member_t *m, void *ud) {
  name_copy_t *n = ud;
  if (m->name != NULL && m->name_len > 0 && m->name_len < CAIRN__NAME_MAX) {
    memcpy(n->out, m->name, m->name_len);
    n->out[m->name_len] = '\0';
    n->found = 1;
  }
  return 1;
}

const char *cairn__self_name(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES]) {
  const char *self = cairn_store_name(s);
  /* this device knows its own name even before a grant names it */
  if (memcmp(key, cairn_store_key(s), CAIRN_KEY_BYTES) == 0 && self[0] != '\0')
    return self;
  return NULL;
}

const char *cairn__member_name(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                               char out[CAIRN__NAME_MAX]) {
  name_copy_t n = {out, 0};
  const char *self;
  if (cairn_member_get(s, key, copy_name, &n) == 0 && n.found)
    return out;
  if ((self = cairn__self_name(s, key)) == NULL)
    return NULL;
  snprintf(out, CAIRN__NAME_MAX, "%s", self);
  return out;
}

/* ---- the members document ---- */

/* A `_member` record as the document shows it, read in full first. */
typedef struct row {
  uint8_t key[CAIRN_KEY_BYTES];
  char *name;        /* the name shown (cairn__member_name); NULL when unnamed */
  cairn_role_t role;
  char *org;         /* the organization (a partner id); NULL when none */
  char *org_name;    /* that partner's name; NULL when it has none here */
  cairn_invite_terms_t terms; /* grants NONE: not an invite */
  uint64_t used;     /* invites: the devices it brought in (its head seq) */
} row_t;

typedef struct rows {
  cairn_store_t *s;
  row_t *v;
  size_t n, cap;
  int rc;
} rows_t;

static void rows_free(rows_t *r) {
  for (size_t i = 0; i < r->n; i++) {
    free(r->v[i].name);
    free(r->v[i].org);
    free(r->v[i].org_name);
  }
  free(r->v);
}

static int row_add(const cairn_member_t *m, void *ud) {
  rows_t *r = ud;
  row_t *v;
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 16;
    if ((v = realloc(r->v, cap * sizeof *v)) == NULL)
      return (r->rc = CAIRN_ENOMEM) != 0;
    r->v = v;
    r->cap = cap;
  }
  v = &r->v[r->n++];
  memset(v, 0, sizeof *v);
  memcpy(v->key, m->key, CAIRN_KEY_BYTES);
  v->role = m->role;
  v->terms = m->terms;
  if (m->organization != NULL &&
      (v->org = strndup(m->organization, m->organization_len)) == NULL)
    r->rc = CAIRN_ENOMEM;
  return r->rc != 0;
}

/* A partner's `name` as text, when its record is here. */
static int partner_name(const cairn_record_t *r, void *ud) {
  cairn_record_field_t f;
  char **out = ud;
  if (cairn_record_field(r, "name", &f) && cairn_value_text(NULL, f.value, f.value_len, out) != 0)
    *out = NULL;
  return 0;
}

/* The names of a row, and an invite's uses so far. */
static int row_fill(cairn_store_t *s, row_t *v) {
  char name[CAIRN__NAME_MAX];
  const char *shown = cairn__member_name(s, v->key, name);
  int rc = 0;
  if (shown != NULL && (v->name = strdup(shown)) == NULL)
    return CAIRN_ENOMEM;
  if (v->org != NULL)
    rc = cairn_get(s, "partner", v->org, partner_name, &v->org_name);
  if (rc == CAIRN_ENOENT || rc == CAIRN_EDELETED || rc == CAIRN_EINVAL)
    rc = 0; /* not here (yet), or an id no record can have: the id is shown */
  if (rc == 0 && v->terms.grants != CAIRN_ROLE_NONE)
    rc = cairn_store_head_seq(s, v->key, &v->used);
  return rc;
}

/* Members before invites; each part by name (unnamed last), then key. */
static int row_cmp(const void *a, const void *b) {
  const row_t *x = a, *y = b;
  int c = (x->terms.grants != CAIRN_ROLE_NONE) - (y->terms.grants != CAIRN_ROLE_NONE);
  if (c == 0)
    c = x->name && y->name ? strcmp(x->name, y->name) : (x->name == NULL) - (y->name == NULL);
  return c != 0 ? c : memcmp(x->key, y->key, CAIRN_KEY_BYTES);
}

/* What became of an invite: pending, used (every use taken), expired, revoked. */
static const char *invite_status(const row_t *r, uint64_t now) {
  if (r->role == CAIRN_ROLE_REVOKED)
    return "revoked";
  if (r->used >= r->terms.uses)
    return "used";
  return now > r->terms.expires_ms ? "expired" : "pending";
}

static json_t *text_or_null(const char *s) {
  return s != NULL ? cairn__name_json(s, strlen(s)) : json_null();
}

/* "key", "name", "role", "organization" and "organization_name" of a row. */
static json_t *row_json(const row_t *r, cairn_role_t role) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  return json_pack("{s:s, s:o, s:o, s:o, s:o}", "key", cairn_hex(r->key, CAIRN_KEY_BYTES, hex),
                   "name", text_or_null(r->name), "role", text_or_null(cairn_role_name(role)),
                   "organization", text_or_null(r->org), "organization_name",
                   text_or_null(r->org_name));
}

/* A member, with "other_keys": the keys of the rows of the same name. */
static json_t *member_json(const row_t *v, size_t n, size_t i) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  json_t *o = row_json(&v[i], v[i].role), *others = json_array();
  if (o == NULL || others == NULL || json_object_set_new(o, "other_keys", others) != 0) {
    json_decref(o);
    return NULL;
  }
  for (size_t k = 0; v[i].name != NULL && k < n; k++)
    if (k != i && v[k].name != NULL && strcmp(v[k].name, v[i].name) == 0 &&
        json_array_append_new(others, json_string(cairn_hex(v[k].key, CAIRN_KEY_BYTES, hex)))) {
      json_decref(o);
      return NULL;
    }
  return o;
}

static json_t *invite_json(const row_t *r, uint64_t now) {
  char when[CAIRN_TIME_TEXT_MAX];
  json_t *o = row_json(r, r->terms.grants);
  if (o == NULL ||
      json_object_set_new(o, "status", json_string(invite_status(r, now))) != 0 ||
      json_object_set_new(o, "expires",
                          json_string(cairn_time_text(r->terms.expires_ms, when))) != 0 ||
      json_object_set_new(o, "uses", json_integer(r->terms.uses)) != 0 ||
      json_object_set_new(o, "used", json_integer((json_int_t)r->used)) != 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static int doc_make(const rows_t *r, json_t *doc) {
  json_t *members = json_object_get(doc, "members"), *invites = json_object_get(doc, "invites");
  uint64_t now = cairn_now_ms();
  size_t nm = 0;
  while (nm < r->n && r->v[nm].terms.grants == CAIRN_ROLE_NONE)
    nm++;
  for (size_t i = 0; i < r->n; i++) {
    json_t *o = i < nm ? member_json(r->v, nm, i) : invite_json(&r->v[i], now);
    if (o == NULL || json_array_append_new(i < nm ? members : invites, o) != 0)
      return CAIRN_ENOMEM;
  }
  return 0;
}

int cairn_members_json(cairn_store_t *s, json_t **out) {
  rows_t r = {s, NULL, 0, 0, 0};
  json_t *doc = NULL;
  int rc;
  *out = NULL;
  if (s == NULL)
    return CAIRN_EINVAL;
  rc = cairn_members(s, row_add, &r);
  if (rc == 0)
    rc = r.rc;
  for (size_t i = 0; rc == 0 && i < r.n; i++)
    rc = row_fill(s, &r.v[i]);
  if (rc == 0) {
    cairn_sort(r.v, r.n, sizeof *r.v, row_cmp);
    doc = json_pack("{s:[], s:[]}", "members", "invites");
    rc = doc == NULL ? CAIRN_ENOMEM : doc_make(&r, doc);
  }
  rows_free(&r);
  if (rc != 0) {
    json_decref(doc);
    return rc;
  }
  *out = doc;
  return 0;
}

/* ---- revoking ---- */

int cairn_revoke(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES], cairn_error_t *err) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  cairn_change_t *c;
  cairn_role_t role;
  uint64_t last = 0;
  int rc;
  if (s == NULL || key == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no key to revoke");
  if ((rc = cairn_store_role(s, key, &role)) != 0)
    return cairn__error(err, rc, "cannot read the member's role: %s", cairn_strerror(rc));
  if (role == CAIRN_ROLE_NONE)
    return cairn__error(err, CAIRN_ENOENT, "%s is not a member of this network (see `cairn "
                        "members`)", cairn_hex(key, CAIRN_KEY_BYTES, hex));
  /* its entries up to the last one held here are accepted; any later one is
   * refused everywhere, whatever its stamp */
  if ((rc = cairn_store_head_seq(s, key, &last)) != 0)
    return cairn__error(err, rc, "cannot read the member's entries: %s", cairn_strerror(rc));
  if ((rc = cairn_change_begin(s, &c)) != 0)
    return cairn__error(err, rc, "cannot start a change: %s", cairn_strerror(rc));
  if ((rc = cairn_change_revoke(c, key, last)) != 0) {
    cairn_change_abort(c);
    return cairn__error(err, rc, "cannot prepare the revocation: %s", cairn_strerror(rc));
  }
  return cairn_change_commit(c, NULL, err);
}

/* ---- invites ---- */

int cairn_invite_terms_check(cairn_role_t role, const char *name, const char *organization,
                             unsigned long expires_days, unsigned long uses,
                             cairn_error_t *err) {
  json_t *utf8 = name != NULL ? json_string(name) : NULL; /* NULL unless UTF-8 */
  int named = utf8 != NULL && name[0] != '\0' && strlen(name) <= 200;
  json_decref(utf8);
  if (role != CAIRN_ROLE_EDITOR && role != CAIRN_ROLE_VIEWER && role != CAIRN_ROLE_ADMIN)
    return cairn__error(err, CAIRN_EINVAL, "an invite grants the role editor, viewer or admin");
  if (!named)
    return cairn__error(err, CAIRN_EINVAL, "an invite needs the new member's name (1 to 200 "
                                           "bytes of UTF-8)");
  if (organization != NULL) {
    size_t n = strlen(organization);
    int bad = n == 0 || n > CAIRN_ID_MAX;
    for (size_t i = 0; i < n; i++)
      bad |= (unsigned char)organization[i] < 0x20 || organization[i] == 0x7f;
    if (bad)
      return cairn__error(err, CAIRN_EINVAL, "the organization is a partner's record id: 1 to "
                          "%d bytes, no control characters", CAIRN_ID_MAX);
  }
  if (expires_days < 1 || expires_days > 365)
    return cairn__error(err, CAIRN_EINVAL, "an invite lasts 1 to 365 days");
  if (uses < 1 || uses > CAIRN_INVITE_USES_MAX)
    return cairn__error(err, CAIRN_EINVAL, "an invite admits 1 to %d devices",
                        CAIRN_INVITE_USES_MAX);
  return 0;
}
