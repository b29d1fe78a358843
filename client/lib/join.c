/*
 * join.c — joining a network with an invite code (cairn.h, cairn_join;
 * docs/protocol.md "Invites").
 */
#include <sodium.h>
#include <string.h>

#include "cairn.h"
#include "invite.h"

/* The invite record's `name` value (MessagePack), copied. */
typedef struct name_copy {
  uint8_t mp[256];
  size_t len;
} name_copy_t;

static int copy_name(const cairn_record_t *r, void *ud) {
  name_copy_t *n = ud;
  cairn_record_iter_t it;
  cairn_record_field_t f;
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f))
    if (f.name_len == 4 && memcmp(f.name, "name", 4) == 0 && f.value_len <= sizeof n->mp) {
      memcpy(n->mp, f.value, f.value_len);
      n->len = f.value_len;
    }
  return 1;
}

/* As the invite key, grant this device the invite's role and name. */
static int grant_self(cairn_store_t *s, const uint8_t seed[CAIRN_INVITE_SEED_BYTES],
                      cairn_error_t *err) {
  uint8_t pk[CAIRN_KEY_BYTES], sk[CAIRN_SECRET_BYTES];
  char me[2 * CAIRN_KEY_BYTES + 1], ik[2 * CAIRN_KEY_BYTES + 1];
  cairn_invite_terms_t t;
  name_copy_t name = {{0}, 0};
  cairn_change_t *c = NULL;
  int rc;
  cairn_invite_keys(seed, pk, sk);
  if ((rc = cairn_store_invite(s, pk, &t)) != 0) {
    sodium_memzero(sk, sizeof sk);
    return cairn__error(err, rc == CAIRN_ENOENT ? CAIRN_ENOTMEMBER : rc,
                        "the network holds no such invite (revoked, or not synced yet)");
  }
  cairn_hex(cairn_store_key(s), CAIRN_KEY_BYTES, me);
  rc = cairn_store_get(s, "_member", cairn_hex(pk, CAIRN_KEY_BYTES, ik), copy_name, &name);
  if (rc != 0 && rc != CAIRN_ENOENT)
    rc = cairn__error(err, rc, "cannot read the invite: %s", cairn_strerror(rc));
  else if ((rc = cairn_change_begin(s, &c)) == 0 &&
           (rc = cairn_change_put_text(c, "_member", me, "role", cairn_role_name(t.grants))) ==
               0 &&
           (name.len == 0 ||
            (rc = cairn_change_put(c, "_member", me, "name", name.mp, name.len, 0)) == 0))
    rc = cairn_change_commit_as(c, sk, NULL, err);
  else if (c != NULL)
    cairn_change_abort(c);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

/*
 * A store that already holds the network: a member the relay knows is done (one
 * plain sync); a join cut short (the grant not stored by the relay, or not made)
 * finishes with the invite.
 */
static int join_again(cairn_store_t *s, const char *code, const cairn_invite_code_t *ic,
                      unsigned timeout_ms, cairn_error_t *err) {
  cairn_role_t role = CAIRN_ROLE_NONE;
  int rc = cairn_sync_set_remote(s, ic->addr, ic->relay_key, err);
  if (rc != 0 || (rc = cairn_sync_once(s, NULL, timeout_ms, NULL, err)) != CAIRN_ENOTMEMBER)
    return rc;
  if (cairn_store_role(s, cairn_store_key(s), &role) == 0 && role == CAIRN_ROLE_NONE &&
      ((rc = cairn_sync_once(s, code, timeout_ms, NULL, err)) != 0 ||
       (rc = grant_self(s, ic->seed, err)) != 0))
    return rc;
  return cairn_sync_once(s, code, timeout_ms, NULL, err);
}

int cairn_join(cairn_store_t *s, const char *code, unsigned timeout_ms,
               uint8_t network[CAIRN_KEY_BYTES], cairn_error_t *err) {
  cairn_invite_code_t ic;
  cairn_role_t role = CAIRN_ROLE_NONE;
  uint8_t have[CAIRN_KEY_BYTES];
  int rc;
  if ((rc = cairn_invite_decode(code, &ic, err)) != 0)
    return rc;
  if (cairn_store_network(s, have) == 0) {
    rc = memcmp(have, ic.network, CAIRN_KEY_BYTES) != 0
             ? cairn__error(err, CAIRN_EHASNETWORK, "this store belongs to another network: "
                                                    "join with a new store (`cairn init`)")
             : join_again(s, code, &ic, timeout_ms, err);
  } else if ((rc = cairn_store_expect_network(s, ic.network, err)) == 0 &&
             (rc = cairn_sync_set_remote(s, ic.addr, ic.relay_key, err)) == 0 &&
             (rc = cairn_sync_once(s, code, timeout_ms, NULL, err)) == 0 &&
             cairn_store_role(s, cairn_store_key(s), &role) == 0 && role == CAIRN_ROLE_NONE &&
             (rc = grant_self(s, ic.seed, err)) == 0) {
    rc = cairn_sync_once(s, code, timeout_ms, NULL, err);
  }
  if (rc == 0 && network != NULL)
    memcpy(network, ic.network, CAIRN_KEY_BYTES);
  sodium_memzero(&ic, sizeof ic);
  return rc;
}
