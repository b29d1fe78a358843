/*
 * test_member.c — the network's rules in one place (core/member.c): which role
 * may write which op, the one writer and the one reader of `_member` records,
 * invite terms and their use, and the record field lookup they rest on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn_test.h"
#include "mpread.h"

/* A put op on type (one field "x") or a del/purge, parsed from a real entry. */
typedef struct op_fixture {
  cairn_test_bytes_t ops;
  cairn_op_t op;
} op_fixture_t;

static void op_of(op_fixture_t *f, const uint8_t *ops, size_t len) {
  cairn_mpr_t r;
  uint32_t n;
  size_t used;
  memset(f, 0, sizeof *f);
  bytes_put(&f->ops, ops, len);
  cairn_mpr_init(&r, f->ops.p, f->ops.len);
  CAIRN_PASS(cairn_mpr_array(&r, &n));
  assert_int_equal(n, 1);
  CAIRN_PASS(cairn__op_parse(r.p, (size_t)(r.end - r.p), &used, &f->op));
}

static void put_op(op_fixture_t *f, const char *type, const char *id, const char *field,
                   const char *value) {
  uint8_t *ops;
  size_t len;
  CAIRN_PASS(cairn_test_ops_put(type, id, field, value, &ops, &len));
  op_of(f, ops, len);
  free(ops);
}

static void test_may_write(void **state) {
  cairn_error_t why;
  op_fixture_t rec, mem, owner;
  char key[65];
  (void)state;
  memset(key, 'a', 64);
  key[64] = '\0';
  put_op(&rec, "partner", "p1", "name", "Acme");
  put_op(&mem, "_member", key, "role", "editor");
  put_op(&owner, "_member", key, "role", "owner");
  /* records at all */
  CAIRN_PASS(cairn_role_may_write(CAIRN_ROLE_EDITOR, NULL, &why));
  CAIRN_PASS(cairn_role_may_write(CAIRN_ROLE_ADMIN, NULL, &why));
  CAIRN_FAIL(cairn_role_may_write(CAIRN_ROLE_VIEWER, NULL, &why), CAIRN_EFORBIDDEN);
  assert_string_equal(why.msg, "role viewer may not write records");
  CAIRN_FAIL(cairn_role_may_write(CAIRN_ROLE_RELAY, NULL, &why), CAIRN_EFORBIDDEN);
  assert_string_equal(why.msg, "role relay may not write records");
  CAIRN_FAIL(cairn_role_may_write(CAIRN_ROLE_NONE, NULL, &why), CAIRN_ENOTMEMBER);
  CAIRN_FAIL(cairn_role_may_write(CAIRN_ROLE_REVOKED, NULL, &why), CAIRN_EFORBIDDEN);
  /* the viewer's refusal reads the same for an op as for a connection */
  CAIRN_FAIL(cairn_role_may_write(CAIRN_ROLE_VIEWER, &rec.op, &why), CAIRN_EFORBIDDEN);
  assert_string_equal(why.msg, "role viewer may not write records");
  /* editors write records, not members */
  CAIRN_PASS(cairn_role_may_write(CAIRN_ROLE_EDITOR, &rec.op, &why));
  CAIRN_FAIL(cairn_role_may_write(CAIRN_ROLE_EDITOR, &mem.op, &why), CAIRN_EFORBIDDEN);
  assert_string_equal(why.msg, "role editor may not write _member records");
  CAIRN_PASS(cairn_role_may_write(CAIRN_ROLE_ADMIN, &mem.op, &why));
  /* only the owner makes an owner */
  CAIRN_FAIL(cairn_role_may_write(CAIRN_ROLE_ADMIN, &owner.op, &why), CAIRN_EFORBIDDEN);
  CAIRN_PASS(cairn_role_may_write(CAIRN_ROLE_OWNER, &owner.op, &why));
  bytes_free(&rec.ops);
  bytes_free(&mem.ops);
  bytes_free(&owner.ops);
}

typedef struct seen {
  cairn_member_t m[8];
  char names[8][64];
  size_t n;
} seen_t;

static int collect(const cairn_member_t *m, void *ud) {
  seen_t *s = ud;
  assert_true(s->n < 8);
  s->m[s->n] = *m;
  if (m->name != NULL) {
    assert_true(m->name_len < 64);
    memcpy(s->names[s->n], m->name, m->name_len);
    s->names[s->n][m->name_len] = '\0';
  }
  s->m[s->n].name = NULL; /* the view ends with the callback */
  s->n++;
  return 0;
}

static const cairn_member_t *find(const seen_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                  const char **name) {
  for (size_t i = 0; i < s->n; i++)
    if (memcmp(s->m[i].key, key, CAIRN_KEY_BYTES) == 0) {
      *name = s->names[i];
      return &s->m[i];
    }
  return NULL;
}

/* What cairn_change_member writes, cairn_members and cairn_member_get read back:
 * the genesis's owner, a granted editor, an invite with its terms. */
static void test_member_records(void **state) {
  cairn_store_t *s;
  char *dir;
  uint8_t net[CAIRN_KEY_BYTES], ed[CAIRN_KEY_BYTES], inv[CAIRN_KEY_BYTES];
  cairn_change_t *c;
  cairn_error_t err;
  cairn_invite_terms_t t = {CAIRN_ROLE_VIEWER, cairn_now_ms() + 60000, 2}, got;
  seen_t seen = {0};
  const cairn_member_t *m;
  const char *name;
  cairn_role_t role;
  (void)state;
  memset(ed, 0x11, sizeof ed);
  memset(inv, 0x22, sizeof inv);
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  CAIRN_PASS(cairn_store_network_create(s, "Northside", net, &err));
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_member(c, ed, CAIRN_ROLE_EDITOR, "Dan", NULL));
  CAIRN_PASS(cairn_change_member(c, inv, CAIRN_ROLE_INVITE, "Eve", &t));
  CAIRN_FAIL(cairn_change_member(c, inv, CAIRN_ROLE_INVITE, "Eve", NULL), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_change_member(c, ed, CAIRN_ROLE_NONE, NULL, NULL), CAIRN_EINVAL);
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  CAIRN_PASS(cairn_members(s, collect, &seen));
  assert_int_equal(seen.n, 3);
  assert_non_null(m = find(&seen, cairn_store_key(s), &name));
  assert_int_equal(m->role, CAIRN_ROLE_OWNER);
  assert_string_equal(name, "Ana");
  assert_non_null(m = find(&seen, ed, &name));
  assert_int_equal(m->role, CAIRN_ROLE_EDITOR);
  assert_string_equal(name, "Dan");
  assert_non_null(m = find(&seen, inv, &name));
  assert_int_equal(m->role, CAIRN_ROLE_INVITE);
  assert_int_equal(m->terms.grants, CAIRN_ROLE_VIEWER);
  assert_int_equal(m->terms.uses, 2);
  assert_int_equal(m->terms.expires_ms, t.expires_ms);
  /* the roles index agrees with the records */
  CAIRN_PASS(cairn_store_role(s, ed, &role));
  assert_int_equal(role, CAIRN_ROLE_EDITOR);
  CAIRN_PASS(cairn_store_invite(s, inv, &got));
  assert_int_equal(got.uses, 2);
  /* usable now, not after it expires; an editor key is no invite */
  CAIRN_PASS(cairn_invite_usable(s, inv, cairn_now_ms(), &got, &err));
  CAIRN_FAIL(cairn_invite_usable(s, inv, t.expires_ms + 1, NULL, &err), CAIRN_ENOTMEMBER);
  assert_string_equal(err.msg, "the invite expired");
  CAIRN_FAIL(cairn_invite_usable(s, ed, cairn_now_ms(), NULL, &err), CAIRN_ENOTMEMBER);
  /* who may sync: a member, the holder of a usable invite; not a stranger */
  uint8_t stranger[CAIRN_KEY_BYTES];
  memset(stranger, 0x33, sizeof stranger);
  CAIRN_PASS(cairn_member_admit(s, ed, NULL, cairn_now_ms(), &role, &err));
  assert_int_equal(role, CAIRN_ROLE_EDITOR);
  CAIRN_FAIL(cairn_member_admit(s, stranger, NULL, cairn_now_ms(), &role, &err),
             CAIRN_ENOTMEMBER);
  assert_contains(err.msg, "is not a member of this network");
  CAIRN_PASS(cairn_member_admit(s, stranger, inv, cairn_now_ms(), &role, &err));
  assert_int_equal(role, CAIRN_ROLE_INVITE);
  CAIRN_FAIL(cairn_member_admit(s, stranger, inv, t.expires_ms + 1, &role, &err),
             CAIRN_ENOTMEMBER);
  /* one member by key; revoking rewrites the role */
  memset(&seen, 0, sizeof seen);
  CAIRN_PASS(cairn_member_get(s, ed, collect, &seen));
  assert_int_equal(seen.n, 1);
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_member(c, ed, CAIRN_ROLE_REVOKED, NULL, NULL));
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  CAIRN_PASS(cairn_store_role(s, ed, &role));
  assert_int_equal(role, CAIRN_ROLE_REVOKED);
  memset(&seen, 0, sizeof seen);
  CAIRN_PASS(cairn_member_get(s, ed, collect, &seen));
  assert_int_equal(seen.m[0].role, CAIRN_ROLE_REVOKED);
  assert_string_equal(seen.names[0], "Dan"); /* the name stays */
  CAIRN_FAIL(cairn_member_admit(s, ed, NULL, cairn_now_ms(), &role, &err), CAIRN_ENOTMEMBER);
  assert_contains(err.msg, "was revoked from this network");
  CAIRN_FAIL(cairn_member_get(s, net, collect, &seen), CAIRN_ENOENT);
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

/* A member's organization, copied out ("" when it has none), and its record. */
typedef struct org_seen {
  cairn_member_t m;
  char org[CAIRN_ID_MAX + 1];
} org_seen_t;

static int copy_org(const cairn_member_t *m, void *ud) {
  org_seen_t *o = ud;
  o->m = *m;
  o->m.name = o->m.organization = NULL; /* the views end with the callback */
  o->org[0] = '\0';
  if (m->organization != NULL) {
    assert_true(m->organization_len <= CAIRN_ID_MAX);
    memcpy(o->org, m->organization, m->organization_len);
    o->org[m->organization_len] = '\0';
  }
  return 0;
}

/* cairn_change_member_org writes a member's organization, the reader gives it
 * back; a revoked (cancelled) invite keeps its terms, a revoked member has none. */
static void test_member_org(void **state) {
  cairn_store_t *s;
  char *dir;
  uint8_t net[CAIRN_KEY_BYTES], ed[CAIRN_KEY_BYTES], inv[CAIRN_KEY_BYTES];
  char long_id[CAIRN_ID_MAX + 2];
  cairn_change_t *c;
  cairn_error_t err;
  cairn_invite_terms_t t = {CAIRN_ROLE_EDITOR, cairn_now_ms() + 60000, 1};
  org_seen_t o;
  (void)state;
  memset(ed, 0x11, sizeof ed);
  memset(inv, 0x22, sizeof inv);
  memset(long_id, 'p', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  CAIRN_PASS(cairn_store_network_create(s, "Northside", net, &err));
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_member(c, ed, CAIRN_ROLE_EDITOR, "Dan", NULL));
  CAIRN_PASS(cairn_change_member_org(c, ed, "p1"));
  CAIRN_PASS(cairn_change_member(c, inv, CAIRN_ROLE_INVITE, "Eve", &t));
  CAIRN_PASS(cairn_change_member_org(c, inv, "p2"));
  CAIRN_FAIL(cairn_change_member_org(c, ed, ""), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_change_member_org(c, ed, long_id), CAIRN_EINVAL);
  CAIRN_FAIL(cairn_change_member_org(c, ed, NULL), CAIRN_EINVAL);
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  CAIRN_PASS(cairn_member_get(s, ed, copy_org, &o));
  assert_string_equal(o.org, "p1");
  assert_int_equal(o.m.terms.grants, CAIRN_ROLE_NONE);
  CAIRN_PASS(cairn_member_get(s, inv, copy_org, &o));
  assert_string_equal(o.org, "p2");
  CAIRN_PASS(cairn_member_get(s, cairn_store_key(s), copy_org, &o));
  assert_string_equal(o.org, "");
  /* revoked: the invite keeps its terms (a cancelled invite), Dan has none */
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(cairn_change_revoke(c, inv, 0));
  CAIRN_PASS(cairn_change_revoke(c, ed, 0));
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  CAIRN_PASS(cairn_member_get(s, inv, copy_org, &o));
  assert_int_equal(o.m.role, CAIRN_ROLE_REVOKED);
  assert_int_equal(o.m.terms.grants, CAIRN_ROLE_EDITOR);
  assert_int_equal(o.m.terms.expires_ms, t.expires_ms);
  assert_string_equal(o.org, "p2");
  CAIRN_PASS(cairn_member_get(s, ed, copy_org, &o));
  assert_int_equal(o.m.role, CAIRN_ROLE_REVOKED);
  assert_int_equal(o.m.terms.grants, CAIRN_ROLE_NONE);
  assert_string_equal(o.org, "p1");
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

static int check_fields(const cairn_record_t *r, void *ud) {
  cairn_record_field_t f;
  (void)ud;
  assert_int_equal(cairn_record_field(r, "name", &f), 1);
  assert_int_equal(f.name_len, 4);
  assert_int_equal(f.value_len, 5); /* fixstr "Acme" */
  assert_memory_equal(f.value + 1, "Acme", 4);
  assert_int_equal(cairn_record_field(r, "nam", &f), 0);
  assert_int_equal(cairn_record_field(r, "zzz", &f), 0);
  return 0;
}

static void test_record_field(void **state) {
  cairn_store_t *s;
  char *dir;
  uint8_t net[CAIRN_KEY_BYTES];
  (void)state;
  CAIRN_PASS(cairn_test_store("Ana", &s, &dir));
  CAIRN_PASS(cairn_store_network_create(s, "Northside", net, NULL));
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "name", "Acme"));
  CAIRN_PASS(cairn_test_put(s, "partner", "p1", "stage", "engaged"));
  CAIRN_PASS(cairn_get(s, "partner", "p1", check_fields, NULL));
  cairn_close(s);
  CAIRN_PASS(cairn_test_rmrf(dir));
  free(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_may_write),
      cmocka_unit_test(test_member_records),
      cmocka_unit_test(test_member_org),
      cmocka_unit_test(test_record_field),
  };
  if (cairn_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
