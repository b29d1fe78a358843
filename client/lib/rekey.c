/*
 * rekey.c — a new device key for a store copied to a second machine (cairn.h,
 * cairn_rekey; docs/design.md, "Restored devices, copied stores and wrong
 * clocks").
 *
 * Two copies of a store sign with one key: two histories of one author, which
 * the fork repair keeps merging by signing one copy's changes again on top of the
 * other's. The copy that runs cairn_rekey makes a new key pair (DIR/key.next) and
 * goes on working with the old key meanwhile, so nothing stops and nothing waits:
 *
 *   owner or admin  the old key grants the new one its own name and role, as one
 *                   more change, which the next sync delivers;
 *   anyone else     an admin grants the new key (`cairn grant NEWKEY`), and a sync
 *                   brings that grant here.
 *
 * The new key takes over at the end of a sync (cairn__rekey_resume) once this
 * store holds its grant and the relay has acknowledged every change this store
 * signed with the old key: nothing is left to move, and the relay admits the new
 * key. From then on every change is signed with the new key. A copy of the store
 * made while the key waited holds the same waiting key: whichever switches second
 * finds entries of that key it never signed and gives the key up (the user is
 * told to run `cairn rekey` again).
 */
#include <stdbool.h>
#include <string.h>

#include "cairn.h"
#include "sync.h"

/* The role of key in this store (NONE when it has none). */
static int role_of(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES], cairn_role_t *role) {
  return cairn_store_role(s, key, role);
}

int cairn_rekey_status(cairn_store_t *s, cairn_rekey_info_t *out) {
  cairn_sync_status_t st;
  cairn_role_t role;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = cairn_store_key_waiting(s, out->new_key)) <= 0)
    return rc;
  memcpy(out->old_key, cairn_store_key(s), CAIRN_KEY_BYTES);
  if ((rc = role_of(s, out->old_key, &out->role)) != 0 ||
      (rc = role_of(s, out->new_key, &role)) != 0 || (rc = cairn_sync_status(s, &st)) != 0)
    return rc;
  out->stage = cairn_role_may_write(role, NULL, NULL) == 0 ? CAIRN_REKEY_GRANTED
                                                           : CAIRN_REKEY_AWAITING;
  out->unacknowledged = st.unacknowledged;
  return 1;
}

/* As the old key (owner or admin), grant the new one this device's name and role. */
static int grant_next(cairn_store_t *s, const uint8_t pk[CAIRN_KEY_BYTES], cairn_role_t role,
                      cairn_error_t *err) {
  cairn_change_t *c;
  int rc = cairn_change_begin(s, &c);
  if (rc != 0)
    return cairn__error(err, rc, "cannot begin a change: %s", cairn_strerror(rc));
  if ((rc = cairn_change_member(c, pk, role, cairn_store_name(s), NULL)) != 0) {
    cairn_change_abort(c);
    return cairn__error(err, rc, "cannot grant the new key: %s", cairn_strerror(rc));
  }
  return cairn_change_commit(c, NULL, err);
}

int cairn_rekey(cairn_store_t *s, cairn_rekey_info_t *out, cairn_error_t *err) {
  cairn_role_t role;
  int rc = cairn_rekey_status(s, out);
  if (rc < 0)
    return cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc));
  if (rc == 1)
    return cairn__error(err, CAIRN_EBUSY,
                        "this device already has a new key waiting; it takes over at a sync");
  if ((rc = role_of(s, cairn_store_key(s), &role)) != 0)
    return cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc));
  if (role == CAIRN_ROLE_NONE || role == CAIRN_ROLE_REVOKED || role == CAIRN_ROLE_INVITE)
    return cairn__error(err, CAIRN_ENOTMEMBER,
                        "this device is not a member of a network: there is no key to replace");
  if ((rc = cairn_store_key_next(s, out->new_key, err)) != 0)
    return rc;
  if ((role == CAIRN_ROLE_OWNER || role == CAIRN_ROLE_ADMIN) &&
      (rc = grant_next(s, out->new_key, role, err)) != 0) {
    if (cairn_store_key_discard(s) != 0) /* no key left waiting that nobody granted */
      return cairn__error(err, rc, "cannot grant the new key, nor remove it (DIR/key.next)");
    return rc;
  }
  rc = cairn_rekey_status(s, out);
  return rc < 0 ? cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc)) : 0;
}

int cairn__rekey_resume(cairn_store_t *s, cairn_error_t *err) {
  cairn_rekey_info_t info;
  uint8_t zero[8] = {0};
  int rc = cairn_rekey_status(s, &info);
  if (rc <= 0)
    return rc < 0 ? cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc)) : 0;
  if (info.stage != CAIRN_REKEY_GRANTED || info.unacknowledged > 0)
    return 0; /* not granted here yet, or changes of the old key still to deliver */
  /* entries of the new key here that this device never signed: a copy of this
   * store, made while the key waited, took it first; it is given up */
  uint64_t taken = 0;
  if ((rc = cairn_store_head_seq(s, info.new_key, &taken)) != 0)
    return cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc));
  if (taken > 0) {
    if ((rc = cairn_store_key_discard(s)) != 0)
      return cairn__error(err, rc, "cannot give up the new key: %s", cairn_strerror(rc));
    return 2;
  }
  if ((rc = cairn_store_key_switch(s, err)) != 0)
    return rc;
  /* the relay's acknowledgements start over: they counted the old key's entries */
  if ((rc = cairn_store_setting_set(s, CAIRN__SETTING_ACKED, zero, sizeof zero)) != 0)
    return cairn__error(err, rc, "cannot record the key change: %s", cairn_strerror(rc));
  return 1;
}
