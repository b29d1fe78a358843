/*
 * member.c — the network's security rules in one place (member.h;
 * docs/design.md, "Membership and roles", "Invites"): role names, the roles
 * index that answers "what was this key's role at this stamp", the rule of which
 * role may write which op, invite keys and their terms, and the one reader and
 * the one writer of `_member` records.
 *
 * The `roles` database (docs/storage.md) indexes every `_member` write that sets
 * a role: key(32) stamp(hlc 8, author 32) -> role(1), or for an invite key
 * role(1) grants(1) expires(8) uses(4). The role of a key for a write stamped st
 * is the row with the greatest stamp below st, so every replica judges an entry
 * alike whatever order entries arrive in.
 */
#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "store_internal.h"

static const char *const role_names[] = {NULL,     "owner", "admin",   "editor",
                                         "viewer", "relay", "revoked", "invite"};

const char *cairn_role_name(cairn_role_t role) {
  if ((unsigned)role >= sizeof role_names / sizeof role_names[0])
    return NULL;
  return role_names[role];
}

cairn_role_t cairn_role_parse(const char *s, size_t len) {
  for (size_t i = 1; i < sizeof role_names / sizeof role_names[0]; i++)
    if (strlen(role_names[i]) == len && memcmp(role_names[i], s, len) == 0)
      return (cairn_role_t)i;
  return CAIRN_ROLE_NONE;
}

/* ---- `_member` ops as entries carry them ---- */

bool cairn__is_member_op(const cairn_op_t *op) {
  return op->type_len == strlen(CAIRN_MEMBER_TYPE) &&
         memcmp(op->type, CAIRN_MEMBER_TYPE, op->type_len) == 0;
}

static bool reserved_type(const cairn_op_t *op) {
  return op->type_len > 0 && op->type[0] == '_';
}

/* A str value as a role name (NONE if it is not one). */
static cairn_role_t role_of_value(const uint8_t *v, size_t len) {
  cairn_mpr_t r;
  const char *str;
  uint32_t n;
  cairn_mpr_init(&r, v, len);
  if (cairn_mpr_str(&r, &str, &n) != 0 || cairn_mpr_left(&r) != 0)
    return CAIRN_ROLE_NONE;
  return cairn_role_parse(str, n);
}

/* The terms of an invite from its fields, whatever carries them: an op's fields
 * or a record's. have collects grants(1), expires(2), uses(4). */
static int terms_field(const char *name, size_t name_len, const uint8_t *v, size_t len,
                       cairn_invite_terms_t *t, int *have) {
  cairn_mpr_t r;
  uint64_t u;
  cairn_mpr_init(&r, v, len);
  if (name_len == 6 && memcmp(name, "grants", 6) == 0) {
    t->grants = role_of_value(v, len);
    *have |= 1;
  } else if (name_len == 7 && memcmp(name, "expires", 7) == 0) {
    if (cairn_mpr_uint(&r, &t->expires_ms) != 0)
      return CAIRN_EMALFORMED;
    *have |= 2;
  } else if (name_len == 4 && memcmp(name, "uses", 4) == 0) {
    if (cairn_mpr_uint(&r, &u) != 0 || u == 0 || u > CAIRN_INVITE_USES_MAX)
      return CAIRN_EMALFORMED;
    t->uses = (uint32_t)u;
    *have |= 4;
  }
  return 0;
}

static bool terms_ok(const cairn_invite_terms_t *t, int have) {
  return have == 7 && (t->grants == CAIRN_ROLE_ADMIN || t->grants == CAIRN_ROLE_EDITOR ||
                       t->grants == CAIRN_ROLE_VIEWER);
}

/* The role a `_member` put sets (NONE when it sets none; EMALFORMED when the
 * value is not a role), and with an invite role its terms (t may be NULL). */
static int op_member(const cairn_op_t *op, cairn_role_t *role, cairn_invite_terms_t *t,
                     uint64_t *last_seq);

static int op_role(const cairn_op_t *op, cairn_role_t *role, cairn_invite_terms_t *t) {
  uint64_t last;
  return op_member(op, role, t, &last);
}

/* What a `_member` put sets: its role (NONE when it sets none; EMALFORMED when the
 * value is not a role), an invite's terms (t may be NULL), and a revocation's
 * last accepted seq (`last_seq`; UINT64_MAX when it names none). */
static int op_member(const cairn_op_t *op, cairn_role_t *role, cairn_invite_terms_t *t,
                     uint64_t *last_seq) {
  cairn_field_iter_t it;
  cairn_field_t f;
  cairn_mpr_t r;
  cairn_invite_terms_t tmp = {0, 0, 0};
  int have = 0, rc = 0;
  *role = CAIRN_ROLE_NONE;
  *last_seq = UINT64_MAX;
  cairn_field_iter_init(op, &it);
  while (cairn_field_next(&it, &f)) {
    if (f.name_len == 4 && memcmp(f.name, "role", 4) == 0) {
      if ((*role = role_of_value(f.value, f.value_len)) == CAIRN_ROLE_NONE)
        return CAIRN_EMALFORMED;
    } else if (f.name_len == 8 && memcmp(f.name, "last_seq", 8) == 0) {
      cairn_mpr_init(&r, f.value, f.value_len);
      if (cairn_mpr_uint(&r, last_seq) != 0 || *last_seq == UINT64_MAX)
        return CAIRN_EMALFORMED;
    } else if (rc == 0) {
      rc = terms_field(f.name, f.name_len, f.value, f.value_len, &tmp, &have);
    }
  }
  if (*role == CAIRN_ROLE_INVITE && (rc != 0 || !terms_ok(&tmp, have)))
    return CAIRN_EMALFORMED;
  if (t != NULL)
    *t = tmp;
  return 0;
}

/* The member key a `_member` op is about. */
static int op_key(const cairn_op_t *op, uint8_t key[CAIRN_KEY_BYTES]) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  if (op->id_len != 2 * CAIRN_KEY_BYTES)
    return CAIRN_EMALFORMED;
  memcpy(id, op->id, op->id_len);
  id[op->id_len] = '\0';
  return cairn_unhex(id, key, CAIRN_KEY_BYTES) == 0 ? 0 : CAIRN_EMALFORMED;
}

/* ---- the rule ---- */

int cairn_role_may_write(cairn_role_t role, const cairn_op_t *op, cairn_error_t *why) {
  uint8_t key[CAIRN_KEY_BYTES];
  cairn_role_t grant;
  cairn_invite_terms_t t;
  if (op != NULL && op->kind == CAIRN_OP_REDACTED)
    return 0;
  switch (role) {
  case CAIRN_ROLE_NONE:
    return cairn__error(why, CAIRN_ENOTMEMBER, "the author is not a member of the network");
  case CAIRN_ROLE_REVOKED:
    return cairn__error(why, CAIRN_EFORBIDDEN, "the author's key was revoked");
  case CAIRN_ROLE_VIEWER:
  case CAIRN_ROLE_RELAY:
    return cairn__error(why, CAIRN_EFORBIDDEN, "role %s may not write records",
                        cairn_role_name(role));
  case CAIRN_ROLE_EDITOR:
    if (op != NULL && (op->kind == CAIRN_OP_PURGE || reserved_type(op)))
      return cairn__error(why, CAIRN_EFORBIDDEN, "role editor may not %s %.*s records",
                          op->kind == CAIRN_OP_PURGE ? "purge" : "write", (int)op->type_len,
                          op->type);
    break;
  default:
    break;
  }
  if (op == NULL)
    return 0;
  if (op->kind == CAIRN_OP_PURGE && reserved_type(op))
    return cairn__error(why, CAIRN_EFORBIDDEN, "%.*s records cannot be purged",
                        (int)op->type_len, op->type);
  if (op->kind != CAIRN_OP_PUT || !cairn__is_member_op(op))
    return 0;
  if (op_key(op, key) != 0)
    return cairn__error(why, CAIRN_EMALFORMED, "a _member id must be a 64-hex key");
  int rc = op_role(op, &grant, &t);
  if (rc != 0 && grant == CAIRN_ROLE_INVITE)
    return cairn__error(why, CAIRN_EMALFORMED,
                        "an invite needs grants (admin, editor or viewer), expires and uses");
  if (rc != 0)
    return cairn__error(why, CAIRN_EMALFORMED, "malformed _member record");
  if (grant == CAIRN_ROLE_OWNER && role != CAIRN_ROLE_OWNER)
    return cairn__error(why, CAIRN_EFORBIDDEN, "only the owner may grant the owner role");
  if (grant == CAIRN_ROLE_INVITE && t.grants == CAIRN_ROLE_ADMIN && role != CAIRN_ROLE_OWNER &&
      role != CAIRN_ROLE_ADMIN)
    return cairn__error(why, CAIRN_EFORBIDDEN, "only an owner or admin may invite an admin");
  return 0;
}

/* ---- the roles index ---- */

#define INVITE_ROW 14 /* role(1) grants(1) expires(8) uses(4) */
#define REVOKED_ROW 9 /* role(1) last_seq(8) */

static void invite_row(uint8_t out[INVITE_ROW], const cairn_invite_terms_t *t) {
  out[0] = CAIRN_ROLE_INVITE;
  out[1] = (uint8_t)t->grants;
  cairn_put_be64(out + 2, t->expires_ms);
  cairn_put_be32(out + 10, t->uses);
}

static void invite_terms_of(const uint8_t *v, cairn_invite_terms_t *t) {
  t->grants = (cairn_role_t)v[1];
  t->expires_ms = cairn_get_be64(v + 2);
  t->uses = cairn_get_be32(v + 10);
}

int cairn__role_terms(MDB_txn *txn, cairn_store_t *s, const uint8_t *key,
                      const cairn_stamp_t *st, cairn_role_t *role, cairn_invite_terms_t *terms,
                      cairn_stamp_t *next, bool *has_next) {
  uint8_t kb[CAIRN_KEY_BYTES + 8 + CAIRN_KEY_BYTES];
  MDB_cursor *cur;
  MDB_val k, v;
  int rc;
  memcpy(kb, key, CAIRN_KEY_BYTES);
  cairn_put_be64(kb + CAIRN_KEY_BYTES, st->hlc);
  memcpy(kb + CAIRN_KEY_BYTES + 8, st->author, CAIRN_KEY_BYTES);
  *role = CAIRN_ROLE_NONE;
  *has_next = false;
  rc = mdb_cursor_open(txn, s->dbi[DB_ROLES], &cur);
  if (rc != 0)
    return cairn__mdb_err(rc);
  k = mval(kb, sizeof kb);
  rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  if (rc == 0) {
    if (k.mv_size == sizeof kb && memcmp(k.mv_data, key, CAIRN_KEY_BYTES) == 0) {
      cairn__key_stamp(k.mv_data, k.mv_size, next);
      *has_next = true;
    }
    rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
  } else if (rc == MDB_NOTFOUND) {
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
  }
  if (rc == 0 && k.mv_size == sizeof kb && memcmp(k.mv_data, key, CAIRN_KEY_BYTES) == 0 &&
      v.mv_size >= 1) {
    const uint8_t *row = v.mv_data;
    *role = (cairn_role_t)row[0];
    if (*role == CAIRN_ROLE_INVITE && v.mv_size != INVITE_ROW)
      *role = CAIRN_ROLE_NONE; /* not a whole invite row */
    if (*role == CAIRN_ROLE_INVITE && terms != NULL)
      invite_terms_of(row, terms);
  }
  mdb_cursor_close(cur);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

int cairn__member_cutoff(MDB_txn *txn, cairn_store_t *s, const uint8_t *key, uint64_t *last) {
  MDB_cursor *cur;
  MDB_val k, v;
  int rc, mrc;
  *last = UINT64_MAX;
  if ((rc = cairn__mdb_err(mdb_cursor_open(txn, s->dbi[DB_ROLES], &cur))) != 0)
    return rc;
  k = mval(key, CAIRN_KEY_BYTES);
  for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
       mrc == 0 && k.mv_size > CAIRN_KEY_BYTES && memcmp(k.mv_data, key, CAIRN_KEY_BYTES) == 0;
       mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    const uint8_t *row = v.mv_data;
    if (v.mv_size == REVOKED_ROW && row[0] == CAIRN_ROLE_REVOKED &&
        cairn_get_be64(row + 1) < *last)
      *last = cairn_get_be64(row + 1);
  }
  mdb_cursor_close(cur);
  return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : cairn__mdb_err(mrc);
}

int cairn__member_known(MDB_txn *txn, cairn_store_t *s, const uint8_t *key, bool *known) {
  MDB_cursor *cur;
  MDB_val k = mval(key, CAIRN_KEY_BYTES), v;
  int rc = cairn__mdb_err(mdb_cursor_open(txn, s->dbi[DB_ROLES], &cur));
  if (rc != 0)
    return rc;
  int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
  *known = mrc == 0 && k.mv_size > CAIRN_KEY_BYTES && memcmp(k.mv_data, key, CAIRN_KEY_BYTES) == 0;
  mdb_cursor_close(cur);
  return mrc == 0 || mrc == MDB_NOTFOUND ? 0 : cairn__mdb_err(mrc);
}

int cairn__role_at(MDB_txn *txn, cairn_store_t *s, const uint8_t *key, const cairn_stamp_t *st,
                   cairn_role_t *role) {
  cairn_stamp_t next;
  bool has_next;
  return cairn__role_terms(txn, s, key, st, role, NULL, &next, &has_next);
}

int cairn__member_index(MDB_txn *txn, cairn_store_t *s, const cairn_op_t *op,
                        const cairn_stamp_t *st, bool *indexed,
                        uint8_t key[CAIRN_KEY_BYTES], uint64_t *last) {
  uint8_t kb[CAIRN_KEY_BYTES + 8 + CAIRN_KEY_BYTES], row[INVITE_ROW];
  cairn_invite_terms_t t;
  cairn_role_t role;
  *indexed = false;
  if (op->kind != CAIRN_OP_PUT || !cairn__is_member_op(op) ||
      op_member(op, &role, &t, last) != 0 || role == CAIRN_ROLE_NONE || op_key(op, kb) != 0)
    return 0;
  memcpy(key, kb, CAIRN_KEY_BYTES);
  cairn_put_be64(kb + CAIRN_KEY_BYTES, st->hlc);
  memcpy(kb + CAIRN_KEY_BYTES + 8, st->author, CAIRN_KEY_BYTES);
  row[0] = (uint8_t)role;
  MDB_val k = mval(kb, sizeof kb), v = mval(row, 1);
  if (role == CAIRN_ROLE_INVITE) {
    invite_row(row, &t);
    v = mval(row, sizeof row);
  } else if (role == CAIRN_ROLE_REVOKED && *last != UINT64_MAX) {
    cairn_put_be64(row + 1, *last); /* revoked(1) last_seq(8): the cut-off */
    v = mval(row, REVOKED_ROW);
  }
  *indexed = true;
  return cairn__mdb_err(mdb_put(txn, s->dbi[DB_ROLES], &k, &v, 0));
}

/* The role of key now (after every stamp), with an invite's terms (may be NULL). */
static int role_now(cairn_store_t *s, const uint8_t *key, cairn_role_t *role,
                    cairn_invite_terms_t *terms) {
  MDB_txn *txn;
  cairn_stamp_t top, next;
  bool has_next;
  int rc = cairn__txn_begin(s, MDB_RDONLY, &txn);
  if (rc != 0)
    return rc;
  top.hlc = UINT64_MAX;
  memset(top.author, 0xff, sizeof top.author);
  rc = cairn__role_terms(txn, s, key, &top, role, terms, &next, &has_next);
  mdb_txn_abort(txn);
  return rc;
}

int cairn_store_role(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES], cairn_role_t *role) {
  return role_now(s, key, role, NULL);
}

int cairn_store_invite(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                       cairn_invite_terms_t *out) {
  cairn_role_t role;
  int rc = role_now(s, key, &role, out);
  return rc != 0 ? rc : role == CAIRN_ROLE_INVITE ? 0 : CAIRN_ENOENT;
}

int cairn_invite_usable(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES], uint64_t now_ms,
                        cairn_invite_terms_t *terms, cairn_error_t *why) {
  cairn_invite_terms_t t;
  uint64_t used = 0;
  int rc = cairn_store_invite(s, key, &t);
  if (rc == CAIRN_ENOENT)
    return cairn__error(why, CAIRN_ENOTMEMBER, "the invite is not valid in this network "
                                               "(revoked, or never synced by the admin who "
                                               "made it)");
  if (rc != 0)
    return cairn__error(why, rc, "cannot read the invite: %s", cairn_strerror(rc));
  if (now_ms > t.expires_ms)
    return cairn__error(why, CAIRN_ENOTMEMBER, "the invite expired");
  if ((rc = cairn_store_head_seq(s, key, &used)) != 0)
    return cairn__error(why, rc, "cannot read the invite: %s", cairn_strerror(rc));
  if (used >= t.uses)
    return cairn__error(why, CAIRN_ENOTMEMBER, "the invite was already used");
  if (terms != NULL)
    *terms = t;
  return 0;
}

int cairn_member_admit(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                       const uint8_t *invite, uint64_t now_ms, cairn_role_t *role,
                       cairn_error_t *why) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  int rc = cairn_store_role(s, key, role);
  if (rc != 0)
    return cairn__error(why, rc, "cannot read the network's roles: %s", cairn_strerror(rc));
  cairn_hex(key, CAIRN_KEY_BYTES, hex);
  if (*role == CAIRN_ROLE_REVOKED)
    return cairn__error(why, CAIRN_ENOTMEMBER, "key %s was revoked from this network", hex);
  if (*role != CAIRN_ROLE_NONE)
    return 0;
  if (invite == NULL)
    return cairn__error(why, CAIRN_ENOTMEMBER, "key %s is not a member of this network", hex);
  if ((rc = cairn_invite_usable(s, invite, now_ms, NULL, why)) != 0)
    return rc;
  *role = CAIRN_ROLE_INVITE;
  return 0;
}

/*
 * An entry by an invite key: its one op grants the invite's role to a key that is
 * not a member yet, before the invite expires, within its uses (the invite key's
 * seq counts them: one grant per entry).
 */
int cairn__member_check_invite_use(MDB_txn *txn, cairn_store_t *s, const cairn_entry_t *e,
                                   const cairn_op_t *ops, size_t nops, cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  cairn_invite_terms_t t = {CAIRN_ROLE_NONE, 0, 0};
  cairn_role_t role, grant, now;
  cairn_stamp_t st, next;
  bool has_next;
  uint8_t key[CAIRN_KEY_BYTES];
  st.hlc = e->hlc;
  memcpy(st.author, e->author, CAIRN_KEY_BYTES);
  cairn_hex(e->author, CAIRN_KEY_BYTES, hx);
#define INVITE_ERR(fmt, ...)                                                                  \
  cairn__error(err, CAIRN_EFORBIDDEN, "author %s seq %llu: " fmt, hx,                         \
               (unsigned long long)e->seq, ##__VA_ARGS__)
  int rc = cairn__role_terms(txn, s, e->author, &st, &role, &t, &next, &has_next);
  if (rc != 0)
    return cairn__error(err, rc, "cannot read roles");
  if (role != CAIRN_ROLE_INVITE)
    return INVITE_ERR("the key is not an invite at this entry's time");
  const cairn_op_t *op = &ops[0];
  if (nops != 1 || op->kind != CAIRN_OP_PUT || !cairn__is_member_op(op) || op_key(op, key) != 0 ||
      memcmp(key, e->author, CAIRN_KEY_BYTES) == 0 || op_role(op, &grant, NULL) != 0)
    return INVITE_ERR("an invite key may only write one _member record for a new key");
  if (grant != t.grants)
    return INVITE_ERR("this invite grants %s, not %s", cairn_role_name(t.grants),
                      grant ? cairn_role_name(grant) : "no role");
  if ((e->hlc >> 16) > t.expires_ms)
    return INVITE_ERR("the invite expired");
  if (e->seq > t.uses)
    return INVITE_ERR("the invite was already used (%u use%s)", (unsigned)t.uses,
                      t.uses == 1 ? "" : "s");
  if ((rc = cairn__role_at(txn, s, key, &st, &now)) != 0)
    return cairn__error(err, rc, "cannot read roles");
  if (now != CAIRN_ROLE_NONE)
    return INVITE_ERR("an invite may only add a new member");
#undef INVITE_ERR
  return 0;
}

/* ---- the reader ---- */

/* A record's text field as a view (0 if absent or not a string). */
static int text_view(const cairn_record_t *r, const char *name, const char **s, uint32_t *n) {
  cairn_record_field_t f;
  cairn_mpr_t m;
  if (!cairn_record_field(r, name, &f))
    return 0;
  cairn_mpr_init(&m, f.value, f.value_len);
  return cairn_mpr_str(&m, s, n) == 0 && cairn_mpr_left(&m) == 0;
}

/* A `_member` record as a member; 0 if its id is not a key. */
static int member_of(const cairn_record_t *r, cairn_member_t *m) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  cairn_record_iter_t it;
  cairn_record_field_t f;
  const char *role;
  uint32_t role_len;
  int have = 0;
  memset(m, 0, sizeof *m);
  if (r->id_len != 2 * CAIRN_KEY_BYTES)
    return 0;
  memcpy(id, r->id, r->id_len);
  id[r->id_len] = '\0';
  if (cairn_unhex(id, m->key, CAIRN_KEY_BYTES) != 0)
    return 0;
  if (!text_view(r, "name", &m->name, &m->name_len))
    m->name = NULL;
  if (!text_view(r, "organization", &m->organization, &m->organization_len))
    m->organization = NULL;
  if (text_view(r, "role", &role, &role_len))
    m->role = cairn_role_parse(role, role_len);
  if (m->role != CAIRN_ROLE_INVITE && m->role != CAIRN_ROLE_REVOKED)
    return 1;
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f))
    if (terms_field(f.name, f.name_len, f.value, f.value_len, &m->terms, &have) != 0)
      break;
  if (!terms_ok(&m->terms, have))
    memset(&m->terms, 0, sizeof m->terms);
  return 1;
}

typedef struct member_walk {
  cairn_member_cb cb;
  void *ud;
} member_walk_t;

static int member_one(const cairn_record_t *r, void *ud) {
  member_walk_t *w = ud;
  cairn_member_t m;
  return member_of(r, &m) ? w->cb(&m, w->ud) : 0;
}

int cairn_members(cairn_store_t *s, cairn_member_cb cb, void *ud) {
  member_walk_t w = {cb, ud};
  return cairn__list_type(s, CAIRN_MEMBER_TYPE, member_one, &w);
}

int cairn_member_get(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES], cairn_member_cb cb,
                     void *ud) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  member_walk_t w = {cb, ud};
  return cairn_get(s, CAIRN_MEMBER_TYPE, cairn_hex(key, CAIRN_KEY_BYTES, id), member_one, &w);
}

/* ---- the writer ---- */

static int put_str(cairn_change_t *c, const char *id, const char *field, const char *s) {
  msgpack_sbuffer b;
  msgpack_packer pk;
  int rc;
  msgpack_sbuffer_init(&b);
  msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
  rc = msgpack_pack_str_with_body(&pk, s, strlen(s)) != 0
           ? CAIRN_ENOMEM
           : cairn_change_put(c, CAIRN_MEMBER_TYPE, id, field, (const uint8_t *)b.data, b.size,
                              0);
  msgpack_sbuffer_destroy(&b);
  return rc;
}

static int put_uint(cairn_change_t *c, const char *id, const char *field, uint64_t v) {
  uint8_t mp[9] = {0xcf}; /* uint 64 */
  cairn_put_be64(mp + 1, v);
  return cairn_change_put(c, CAIRN_MEMBER_TYPE, id, field, mp, sizeof mp, 0);
}

int cairn_change_member(cairn_change_t *c, const uint8_t key[CAIRN_KEY_BYTES], cairn_role_t role,
                        const char *name, const cairn_invite_terms_t *terms) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  int rc;
  const char *rname = cairn_role_name(role);
  if (rname == NULL || (role == CAIRN_ROLE_INVITE) != (terms != NULL) ||
      (name != NULL && (name[0] == '\0' || strlen(name) > 200)) ||
      (terms != NULL && !terms_ok(terms, 7)) ||
      (terms != NULL && (terms->uses == 0 || terms->uses > CAIRN_INVITE_USES_MAX)))
    return CAIRN_EINVAL;
  cairn_hex(key, CAIRN_KEY_BYTES, id);
  if ((rc = put_str(c, id, "role", rname)) != 0 ||
      (name != NULL && (rc = put_str(c, id, "name", name)) != 0))
    return rc;
  if (terms != NULL &&
      ((rc = put_str(c, id, "grants", cairn_role_name(terms->grants))) != 0 ||
       (rc = put_uint(c, id, "expires", terms->expires_ms)) != 0 ||
       (rc = put_uint(c, id, "uses", terms->uses)) != 0))
    return rc;
  return 0;
}

int cairn_change_member_org(cairn_change_t *c, const uint8_t key[CAIRN_KEY_BYTES],
                            const char *organization) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  if (organization == NULL || !cairn__name_ok(organization, strlen(organization), CAIRN_ID_MAX))
    return CAIRN_EINVAL;
  return put_str(c, cairn_hex(key, CAIRN_KEY_BYTES, id), "organization", organization);
}

int cairn_change_revoke(cairn_change_t *c, const uint8_t key[CAIRN_KEY_BYTES], uint64_t last_seq) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  int rc = cairn_change_member(c, key, CAIRN_ROLE_REVOKED, NULL, NULL);
  if (rc != 0 || last_seq == UINT64_MAX)
    return rc;
  return put_uint(c, cairn_hex(key, CAIRN_KEY_BYTES, id), "last_seq", last_seq);
}
