/*
 * member.h — the network's security rules, in one place (member.c;
 * docs/design.md, "Membership and roles", "Invites").
 *
 * Members are `_member` records whose id is the device key in lowercase hex,
 * with a `role`, a `name` and optionally an `organization` (a partner record's
 * id). Invite keys are members of role `invite` whose
 * record also holds the terms (`grants`, `expires`, `uses`). Every replica, the
 * relay first, judges an entry by its author's role at the entry's stamp; the
 * rules of which role may write what are cairn_role_may_write's, used by local
 * commits, received entries and the relay alike.
 */
#ifndef CAIRN_MEMBER_H
#define CAIRN_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change.h"
#include "entry.h"
#include "error.h"
#include "store.h"

#define CAIRN_MEMBER_TYPE "_member"

/* Roles of members (the `role` field of `_member` records). */
typedef enum {
  CAIRN_ROLE_NONE = 0,
  CAIRN_ROLE_OWNER,
  CAIRN_ROLE_ADMIN,
  CAIRN_ROLE_EDITOR,
  CAIRN_ROLE_VIEWER,
  CAIRN_ROLE_RELAY,
  CAIRN_ROLE_REVOKED,
  CAIRN_ROLE_INVITE /* an invite key: may grant its role to one new key per use */
} cairn_role_t;

/* The terms of an invite key (its `_member` record: grants, expires, uses). */
typedef struct cairn_invite_terms {
  cairn_role_t grants; /* editor, viewer or admin */
  uint64_t expires_ms; /* wall-clock ms after which it grants nothing */
  uint32_t uses;       /* how many keys it may grant (its entries' seqs 1..uses) */
} cairn_invite_terms_t;

#define CAIRN_INVITE_USES_MAX 1000

/* "owner"... for a role, NULL for NONE or an unknown value (a static string). */
CAIRN_EXTERN const char *cairn_role_name(cairn_role_t role);
/* The role named by len bytes of s, CAIRN_ROLE_NONE if none is. */
CAIRN_EXTERN cairn_role_t cairn_role_parse(const char *s, size_t len);

/*
 * May a member of this role write op (NULL: write records at all)? The one rule
 * for every writer: owner and admin write anything but purge cairn's own
 * records (types starting with '_'); an editor writes other records and never
 * purges; viewers and relays write nothing; revoked keys and non-members
 * nothing; an invite key only its grant (checked as a whole entry at apply).
 * Granting the owner role needs the owner, inviting an admin an owner or admin.
 *
 * @param[out] why  may be NULL; on refusal, the reason ("role viewer may not
 *                  write records"), without author or seq.
 * @return 0, CAIRN_EFORBIDDEN, CAIRN_ENOTMEMBER, or CAIRN_EMALFORMED (a
 *         `_member` record that is not well formed).
 */
CAIRN_EXTERN int cairn_role_may_write(cairn_role_t role, const cairn_op_t *op,
                                      cairn_error_t *why) CAIRN_WUR;

/* The role of a key now (its latest `_member` write; CAIRN_ROLE_NONE if none).
 * @return 0, CAIRN_EIO, CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_store_role(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                  cairn_role_t *role) CAIRN_WUR;

/* The terms of invite key `key` as they stand now. @return 0, CAIRN_ENOENT if it
 * is not an invite (or was revoked), CAIRN_EIO. */
CAIRN_EXTERN int cairn_store_invite(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                    cairn_invite_terms_t *out) CAIRN_WUR;

/*
 * Whether invite key `key` may still grant its role at now_ms: it is an invite of
 * this network, not expired, with uses left (its log's length counts the uses).
 * @param[out] why  may be NULL; on refusal, a sentence for the person joining.
 * @return 0, CAIRN_ENOTMEMBER (unknown or revoked invite, expired, used up),
 *         CAIRN_EIO.
 */
CAIRN_EXTERN int cairn_invite_usable(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                     uint64_t now_ms, cairn_invite_terms_t *terms,
                                     cairn_error_t *why) CAIRN_WUR;

/*
 * Whether key may sync this network now (the relay asks at each connection and
 * again after roles change): a member whose role is not revoked, or, with no
 * role, the holder of invite key `invite` (may be NULL) while it is usable.
 * @param[out] role  the key's role, or CAIRN_ROLE_INVITE when admitted on the
 *                   invite.
 * @param[out] why   may be NULL; on refusal, a sentence naming the key.
 * @return 0, CAIRN_ENOTMEMBER (not a member, revoked, or an invite not usable),
 *         CAIRN_EIO.
 */
CAIRN_EXTERN int cairn_member_admit(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                    const uint8_t *invite, uint64_t now_ms, cairn_role_t *role,
                                    cairn_error_t *why) CAIRN_WUR;

/* ---- `_member` records: the one reader and the one writer ---- */

/* A member as its record holds it (views valid during the callback). */
typedef struct cairn_member {
  uint8_t key[CAIRN_KEY_BYTES];
  const char *name;  /* NULL when the record has no text name; not NUL-terminated */
  uint32_t name_len;
  cairn_role_t role; /* CAIRN_ROLE_NONE when absent or not a role */
  cairn_invite_terms_t terms; /* an invite key's terms: role CAIRN_ROLE_INVITE, or
                                 CAIRN_ROLE_REVOKED for a cancelled invite (its
                                 record keeps them); else zero (grants NONE) */
  const char *organization; /* the `organization` field: the id of the member's
                               partner record (a record of type "partner"); NULL
                               when absent or not text; not NUL-terminated */
  uint32_t organization_len;
} cairn_member_t;

typedef int (*cairn_member_cb)(const cairn_member_t *m, void *ud);

/* Every member record (deleted ones excepted), in key order; records whose id is
 * not a key are skipped. @return as a query walk (query.h). */
CAIRN_EXTERN int cairn_members(cairn_store_t *s, cairn_member_cb cb, void *ud);

/* The member record of key: cb called once. @return 0, CAIRN_ENOENT, CAIRN_EIO. */
CAIRN_EXTERN int cairn_member_get(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                  cairn_member_cb cb, void *ud);

/*
 * Add to change c the `_member` write for key: its role, and its name when name
 * is not NULL (1-200 bytes of UTF-8). With terms (role CAIRN_ROLE_INVITE), the
 * invite's grants, expires and uses too. Whether this device may write it is
 * checked at commit, as for any write.
 * @return 0, CAIRN_EINVAL (a role that cannot be granted, a bad name or terms),
 *         CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_change_member(cairn_change_t *c, const uint8_t key[CAIRN_KEY_BYTES],
                                     cairn_role_t role, const char *name,
                                     const cairn_invite_terms_t *terms) CAIRN_WUR;

/*
 * Add to change c the member's organization: the `organization` field of key's
 * `_member` record, the id of a partner record (a record id: 1-CAIRN_ID_MAX
 * bytes, no NUL; the partner need not exist here yet). A change to a `_member`
 * record, so only owners and admins may write it, and an invite key within
 * the grant it signs.
 * @return 0, CAIRN_EINVAL (empty, too long or holding a NUL), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_change_member_org(cairn_change_t *c, const uint8_t key[CAIRN_KEY_BYTES],
                                         const char *organization) CAIRN_WUR;

/*
 * Add to change c the revocation of key: its role becomes revoked, and every
 * entry of that key above last_seq is refused on every replica whatever its
 * stamp, so a revoked device whose clock is set back cannot sign entries that
 * would pass as written before the revocation. last_seq is what the revoker
 * accepts of the key: its head seq in the revoker's replica (UINT64_MAX: no
 * cut-off, the stamp alone decides).
 * @return 0, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_change_revoke(cairn_change_t *c, const uint8_t key[CAIRN_KEY_BYTES],
                                     uint64_t last_seq) CAIRN_WUR;

#endif
