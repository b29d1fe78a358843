/*
 * join.c — invites (cairn.h, cairn_invite and cairn_join; docs/protocol.md
 * "Invites"; docs/design.md, "Invites"): making one, a fresh invite key whose
 * `_member` record holds the terms, the key a code names, and joining a network
 * with its code.
 */
#include <sodium.h>
#include <string.h>

#include "cairn.h"
#include "invite.h"

/* The invite's member name and organization, copied (empty when it has none). */
typedef struct name_copy {
  char text[201];
  char org[CAIRN_ID_MAX + 1];
} name_copy_t;

static int copy_name(const cairn_member_t *m, void *ud) {
  name_copy_t *n = ud;
  if (m->name != NULL && m->name_len < sizeof n->text) {
    memcpy(n->text, m->name, m->name_len);
    n->text[m->name_len] = '\0';
  }
  if (m->organization != NULL && m->organization_len < sizeof n->org) {
    memcpy(n->org, m->organization, m->organization_len);
    n->org[m->organization_len] = '\0';
  }
  return 1;
}

/* As the invite key, grant this device the invite's role, name and organization. */
static int grant_self(cairn_store_t *s, const uint8_t seed[CAIRN_INVITE_SEED_BYTES],
                      cairn_error_t *err) {
  uint8_t pk[CAIRN_KEY_BYTES], sk[CAIRN_SECRET_BYTES];
  cairn_invite_terms_t t;
  name_copy_t name = {{0}, {0}};
  cairn_change_t *c = NULL;
  int rc;
  cairn_invite_keys(seed, pk, sk);
  if ((rc = cairn_store_invite(s, pk, &t)) != 0) {
    sodium_memzero(sk, sizeof sk);
    return cairn__error(err, rc == CAIRN_ENOENT ? CAIRN_ENOTMEMBER : rc,
                        "the network holds no such invite (revoked, or not synced yet)");
  }
  rc = cairn_member_get(s, pk, copy_name, &name);
  if (rc != 0 && rc != CAIRN_ENOENT)
    rc = cairn__error(err, rc, "cannot read the invite: %s", cairn_strerror(rc));
  else if ((rc = cairn_change_begin(s, &c)) == 0 &&
           (rc = cairn_change_member(c, cairn_store_key(s), t.grants,
                                     name.text[0] ? name.text : NULL, NULL)) == 0 &&
           (name.org[0] == '\0' ||
            (rc = cairn_change_member_org(c, cairn_store_key(s), name.org)) == 0))
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

int cairn_invite_key(const char *code, uint8_t key[CAIRN_KEY_BYTES], cairn_error_t *err) {
  cairn_invite_code_t ic;
  uint8_t sk[CAIRN_SECRET_BYTES];
  int rc = cairn_invite_decode(code, &ic, err);
  if (rc != 0)
    return rc;
  cairn_invite_keys(ic.seed, key, sk);
  sodium_memzero(sk, sizeof sk);
  sodium_memzero(&ic, sizeof ic);
  return 0;
}

_Static_assert(CAIRN_INVITE_TEXT_MAX == CAIRN_INVITE_CODE_MAX, "one invite code size");

int cairn_invite(cairn_store_t *s, cairn_role_t role, const char *name,
                 const char *organization, unsigned expires_days, unsigned uses, char *code,
                 size_t cap, cairn_error_t *err) {
  cairn_invite_code_t ic;
  cairn_invite_terms_t t = {role, 0, uses};
  uint8_t pk[CAIRN_KEY_BYTES], sk[CAIRN_SECRET_BYTES];
  cairn_change_t *c = NULL;
  int rc;
  if ((rc = cairn_invite_terms_check(role, name, organization, expires_days, uses, err)) != 0)
    return rc;
  if (cap < CAIRN_INVITE_TEXT_MAX)
    return cairn__error(err, CAIRN_EINVAL, "no room for the invite code");
  if (cairn_store_network(s, ic.network) != 0)
    return cairn__error(err, CAIRN_ENONETWORK, "this store has no network yet");
  if ((rc = cairn_sync_remote(s, ic.addr, sizeof ic.addr, ic.relay_key)) != 0)
    return cairn__error(err, rc, rc == CAIRN_ENOENT ? "no relay set: run `cairn remote "
                                                      "HOST:PORT --key RELAYKEY` first"
                                                    : "cannot read the relay setting");
  randombytes_buf(ic.seed, sizeof ic.seed);
  cairn_invite_keys(ic.seed, pk, sk);
  sodium_memzero(sk, sizeof sk);
  t.expires_ms = cairn_now_ms() + (uint64_t)expires_days * 86400000u;
  if ((rc = cairn_change_begin(s, &c)) == 0 &&
      (rc = cairn_change_member(c, pk, CAIRN_ROLE_INVITE, name, &t)) == 0 &&
      (organization == NULL || (rc = cairn_change_member_org(c, pk, organization)) == 0))
    rc = cairn_change_commit(c, NULL, err);
  else
    cairn_change_abort(c), rc = cairn__error(err, rc, "cannot prepare the invite: %s",
                                             cairn_strerror(rc));
  if (rc == 0 && cairn_invite_encode(&ic, code, cap) != 0)
    rc = cairn__error(err, CAIRN_EINVAL, "cannot write the invite code");
  sodium_memzero(&ic, sizeof ic);
  return rc;
}
