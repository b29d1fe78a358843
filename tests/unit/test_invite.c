/*
 * test_invite.c — invite keys (core/apply.c, docs/protocol.md "Invites"): an owner
 * or admin makes an invite key a member with role `invite` and terms (grants,
 * expires, uses); the invite key may then grant its role to new keys, one per
 * entry, up to `uses`, before `expires`. Every other use is refused on every
 * replica, the same way whatever the arrival order.
 */
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_test.h"
#include "invite.h"

typedef struct invite {
  uint8_t pk[CAIRN_KEY_BYTES], sk[CAIRN_SECRET_BYTES];
} invite_t;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* put TYPE ID FIELD = a MessagePack string */
static int put_str(cairn_change_t *c, const char *type, const char *id, const char *field,
                   const char *v) {
  uint8_t buf[128];
  size_t n = strlen(v);
  buf[0] = (uint8_t)(0xa0 | n);
  memcpy(buf + 1, v, n);
  return cairn_change_put(c, type, id, field, buf, n + 1, 0);
}

/* put TYPE ID FIELD = a MessagePack uint64 */
static int put_u64(cairn_change_t *c, const char *type, const char *id, const char *field,
                   uint64_t v) {
  uint8_t buf[9] = {0xcf};
  for (int i = 0; i < 8; i++)
    buf[1 + i] = (uint8_t)(v >> (56 - 8 * i));
  return cairn_change_put(c, type, id, field, buf, sizeof buf, 0);
}

/* s (owner or admin) makes an invite key with the given terms; 0 or the code. */
static int make_invite(cairn_store_t *s, invite_t *inv, const char *grants, uint64_t expires,
                       uint64_t uses, bool with_uses, cairn_error_t *err) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  cairn_change_t *c;
  crypto_sign_keypair(inv->pk, inv->sk);
  cairn_hex(inv->pk, CAIRN_KEY_BYTES, id);
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(put_str(c, "_member", id, "role", "invite"));
  CAIRN_PASS(put_str(c, "_member", id, "grants", grants));
  CAIRN_PASS(put_str(c, "_member", id, "name", "Guest"));
  CAIRN_PASS(put_u64(c, "_member", id, "expires", expires));
  if (with_uses)
    CAIRN_PASS(put_u64(c, "_member", id, "uses", uses));
  return cairn_change_commit(c, NULL, err);
}

/* In s, the invite key grants `role` to key; 0 or the code. */
static int use_invite(cairn_store_t *s, const invite_t *inv, const uint8_t *key, const char *role,
                      cairn_error_t *err) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  cairn_change_t *c;
  cairn_hex(key, CAIRN_KEY_BYTES, id);
  CAIRN_PASS(cairn_change_begin(s, &c));
  CAIRN_PASS(put_str(c, "_member", id, "role", role));
  CAIRN_PASS(put_str(c, "_member", id, "name", "Joiner"));
  return cairn_change_commit_as(c, inv->sk, NULL, err);
}

static void new_key(uint8_t pk[CAIRN_KEY_BYTES]) {
  uint8_t sk[CAIRN_SECRET_BYTES];
  crypto_sign_keypair(pk, sk);
}

static void owner_store(cairn_test_node_t *n) {
  uint8_t net[CAIRN_KEY_BYTES];
  CAIRN_PASS(cairn_test_node_new(n, "owner", NULL));
  CAIRN_PASS(cairn_store_network_create(n->s, "Invites", net, NULL));
}

static void test_single_use(void **state) {
  cairn_test_node_t o, r;
  invite_t inv;
  cairn_error_t err;
  cairn_role_t role;
  cairn_invite_terms_t t;
  uint8_t k1[32], k2[32];
  (void)state;
  owner_store(&o);
  CAIRN_PASS(make_invite(o.s, &inv, "editor", now_ms() + 3600000, 1, true, &err));
  CAIRN_PASS(cairn_store_invite(o.s, inv.pk, &t));
  assert_int_equal(t.grants, CAIRN_ROLE_EDITOR);
  assert_int_equal(t.uses, 1);
  CAIRN_PASS(cairn_store_role(o.s, inv.pk, &role));
  assert_int_equal(role, CAIRN_ROLE_INVITE);
  new_key(k1);
  new_key(k2);
  CAIRN_PASS(use_invite(o.s, &inv, k1, "editor", &err));
  CAIRN_PASS(cairn_store_role(o.s, k1, &role));
  assert_int_equal(role, CAIRN_ROLE_EDITOR);
  /* a second use of a single-use invite */
  CAIRN_FAIL(use_invite(o.s, &inv, k2, "editor", &err), CAIRN_EFORBIDDEN);
  assert_non_null(strstr(err.msg, "already used"));
  CAIRN_PASS(cairn_store_role(o.s, k2, &role));
  assert_int_equal(role, CAIRN_ROLE_NONE);
  /* a replica judges the same */
  CAIRN_PASS(cairn_test_node_new(&r, "replica", NULL));
  CAIRN_PASS(cairn_test_sync(r.s, o.s, NULL, &err));
  CAIRN_PASS(cairn_store_role(r.s, k1, &role));
  assert_int_equal(role, CAIRN_ROLE_EDITOR);
  cairn_test_node_free(&r);
  cairn_test_node_free(&o);
}

static void test_refused_uses(void **state) {
  cairn_test_node_t o;
  invite_t inv, old, multi;
  cairn_error_t err;
  cairn_role_t role;
  uint8_t k[32], k2[32], k3[32];
  (void)state;
  owner_store(&o);
  new_key(k);
  /* the wrong role */
  CAIRN_PASS(make_invite(o.s, &inv, "viewer", now_ms() + 3600000, 1, true, &err));
  CAIRN_FAIL(use_invite(o.s, &inv, k, "editor", &err), CAIRN_EFORBIDDEN);
  assert_non_null(strstr(err.msg, "grants viewer"));
  /* an existing member */
  CAIRN_FAIL(use_invite(o.s, &inv, cairn_store_key(o.s), "viewer", &err), CAIRN_EFORBIDDEN);
  assert_non_null(strstr(err.msg, "new member"));
  /* expired */
  CAIRN_PASS(make_invite(o.s, &old, "editor", now_ms() - 1000, 1, true, &err));
  CAIRN_FAIL(use_invite(o.s, &old, k, "editor", &err), CAIRN_EFORBIDDEN);
  assert_non_null(strstr(err.msg, "expired"));
  /* revoked before use */
  char id[65];
  cairn_change_t *c;
  CAIRN_PASS(cairn_change_begin(o.s, &c));
  CAIRN_PASS(put_str(c, "_member", cairn_hex(inv.pk, 32, id), "role", "revoked"));
  CAIRN_PASS(cairn_change_commit(c, NULL, &err));
  CAIRN_FAIL(use_invite(o.s, &inv, k, "viewer", &err), CAIRN_EFORBIDDEN);
  CAIRN_FAIL(cairn_store_invite(o.s, inv.pk, &(cairn_invite_terms_t){0}), CAIRN_ENOENT);
  /* terms missing */
  invite_t bad;
  CAIRN_FAIL(make_invite(o.s, &bad, "editor", now_ms() + 1000, 0, false, &err),
             CAIRN_EMALFORMED);
  CAIRN_FAIL(make_invite(o.s, &bad, "owner", now_ms() + 1000, 1, true, &err), CAIRN_EMALFORMED);
  /* three uses: the fourth is refused */
  CAIRN_PASS(make_invite(o.s, &multi, "editor", now_ms() + 3600000, 3, true, &err));
  new_key(k2);
  new_key(k3);
  CAIRN_PASS(use_invite(o.s, &multi, k, "editor", &err));
  CAIRN_PASS(use_invite(o.s, &multi, k2, "editor", &err));
  CAIRN_PASS(use_invite(o.s, &multi, k3, "editor", &err));
  uint8_t k4[32];
  new_key(k4);
  CAIRN_FAIL(use_invite(o.s, &multi, k4, "editor", &err), CAIRN_EFORBIDDEN);
  CAIRN_PASS(cairn_store_role(o.s, k3, &role));
  assert_int_equal(role, CAIRN_ROLE_EDITOR);
  cairn_test_node_free(&o);
}

/* An editor may not make invites (reserved records); an admin may. */
static void test_who_invites(void **state) {
  cairn_test_node_t o, ed, ad;
  invite_t inv;
  cairn_error_t err;
  (void)state;
  owner_store(&o);
  CAIRN_PASS(cairn_test_node_new(&ed, "editor", NULL));
  CAIRN_PASS(cairn_test_node_new(&ad, "admin", NULL));
  cairn_store_t *e1[1] = {ed.s}, *a1[1] = {ad.s};
  CAIRN_PASS(cairn_test_grant_all(o.s, e1, 1, "editor", &err));
  CAIRN_PASS(cairn_test_grant_all(o.s, a1, 1, "admin", &err));
  CAIRN_PASS(cairn_test_sync(ed.s, o.s, NULL, &err));
  CAIRN_PASS(cairn_test_sync(ad.s, o.s, NULL, &err));
  CAIRN_FAIL(make_invite(ed.s, &inv, "editor", now_ms() + 60000, 1, true, &err),
             CAIRN_EFORBIDDEN);
  CAIRN_PASS(make_invite(ad.s, &inv, "admin", now_ms() + 60000, 1, true, &err));
  cairn_test_node_free(&o);
  cairn_test_node_free(&ed);
  cairn_test_node_free(&ad);
}

/* Codes round-trip; damaged ones are refused with a message; proofs bind the
 * device key and the network. */
static void test_codes_and_proofs(void **state) {
  cairn_invite_code_t c, d;
  cairn_error_t err;
  char text[CAIRN_INVITE_CODE_MAX];
  uint8_t proof[CAIRN_INVITE_PROOF_BYTES], ik[32], pk[32], sk[64], dev[32], other[32];
  (void)state;
  randombytes_buf(&c, sizeof c);
  snprintf(c.addr, sizeof c.addr, "127.0.0.1:7070");
  CAIRN_PASS(cairn_invite_encode(&c, text, sizeof text));
  assert_int_equal(strncmp(text, "cairn1:", 7), 0);
  CAIRN_PASS(cairn_invite_decode(text, &d, &err));
  assert_memory_equal(d.network, c.network, 32);
  assert_memory_equal(d.relay_key, c.relay_key, 32);
  assert_memory_equal(d.seed, c.seed, 32);
  assert_string_equal(d.addr, "127.0.0.1:7070");
  /* damaged: every prefix, a changed character, a foreign prefix */
  for (size_t n = 0; n < strlen(text); n++) {
    char cut[CAIRN_INVITE_CODE_MAX];
    memcpy(cut, text, n);
    cut[n] = '\0';
    if (cairn_invite_decode(cut, &d, &err) == 0)
      fail_msg("a code cut at %zu decoded", n);
  }
  char bad[CAIRN_INVITE_CODE_MAX];
  snprintf(bad, sizeof bad, "%s", text);
  bad[20] = '*';
  CAIRN_FAIL(cairn_invite_decode(bad, &d, &err), CAIRN_EMALFORMED);
  assert_non_null(strstr(err.msg, "damaged"));
  CAIRN_FAIL(cairn_invite_decode("https://example.org/x", &d, &err), CAIRN_EMALFORMED);
  /* proofs */
  randombytes_buf(dev, sizeof dev);
  randombytes_buf(other, sizeof other);
  cairn_invite_keys(c.seed, pk, sk);
  cairn_invite_proof(c.seed, dev, c.network, proof);
  CAIRN_PASS(cairn_invite_check(proof, sizeof proof, dev, c.network, ik));
  assert_memory_equal(ik, pk, 32);
  CAIRN_FAIL(cairn_invite_check(proof, sizeof proof, other, c.network, ik), CAIRN_EAUTH);
  CAIRN_FAIL(cairn_invite_check(proof, sizeof proof, dev, other, ik), CAIRN_EAUTH);
  CAIRN_FAIL(cairn_invite_check(proof, sizeof proof - 1, dev, c.network, ik), CAIRN_EAUTH);
  proof[40] ^= 1;
  CAIRN_FAIL(cairn_invite_check(proof, sizeof proof, dev, c.network, ik), CAIRN_EAUTH);
}

/* A store waiting for network X adopts X's genesis and refuses any other. */
static void test_expected_network(void **state) {
  cairn_test_node_t x, y, w;
  cairn_error_t err;
  uint8_t idx[32], idy[32], got[32];
  (void)state;
  CAIRN_PASS(cairn_test_node_new(&x, "x", NULL));
  CAIRN_PASS(cairn_test_node_new(&y, "y", NULL));
  CAIRN_PASS(cairn_test_node_new(&w, "waiting", NULL));
  CAIRN_PASS(cairn_store_network_create(x.s, "X", idx, NULL));
  CAIRN_PASS(cairn_store_network_create(y.s, "Y", idy, NULL));
  CAIRN_FAIL(cairn_store_expected_network(w.s, got), CAIRN_ENOENT);
  CAIRN_PASS(cairn_store_expect_network(w.s, idx, &err));
  CAIRN_PASS(cairn_store_expected_network(w.s, got));
  assert_memory_equal(got, idx, 32);
  CAIRN_FAIL(cairn_test_sync(w.s, y.s, NULL, &err), CAIRN_ENETWORK);
  CAIRN_FAIL(cairn_store_network(w.s, got), CAIRN_ENONETWORK);
  CAIRN_PASS(cairn_test_sync(w.s, x.s, NULL, &err));
  CAIRN_PASS(cairn_store_network(w.s, got));
  assert_memory_equal(got, idx, 32);
  CAIRN_FAIL(cairn_store_expect_network(w.s, idy, &err), CAIRN_EHASNETWORK);
  cairn_test_node_free(&x);
  cairn_test_node_free(&y);
  cairn_test_node_free(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_use),
      cmocka_unit_test(test_refused_uses),
      cmocka_unit_test(test_who_invites),
      cmocka_unit_test(test_codes_and_proofs),
      cmocka_unit_test(test_expected_network),
  };
  if (cairn_core_init() != 0)
    return 1;
  return cmocka_run_group_tests(tests, NULL, NULL);
}
