/*
 * rekey.c — a new device key for a store copied to a second machine (cairn.h,
 * cairn_rekey; docs/design.md, "Restored devices, copied stores and wrong
 * clocks").
 *
 * Two copies of a store sign with one key: two histories of one author. The copy
 * that moves to a new key takes back what the relay never acknowledged to it
 * (kept in DIR/taken-back.entries) and then, in one of two ways:
 *
 *   owner or admin  the old key grants the new one its own name and role, as
 *                   one more change; once the relay has acknowledged every
 *                   entry of the old key that this store signed, the new key
 *                   becomes the store's (cairn__rekey_resume, at the end of a
 *                   sync) and the taken changes are signed again with it.
 *   anyone else     the new key becomes the store's at once; the taken changes
 *                   wait until an admin grants it (`cairn grant NEWKEY`) and a
 *                   sync brings the grant, then are signed again with it.
 *
 * What is pending is kept in the store: DIR/key.next while the grant travels,
 * and the setting `rekey_from` (the old key) until the taken changes are signed.
 */
#include <stdbool.h>
#include <string.h>

#include "cairn.h"
#include "sync.h"

#define SETTING_REKEY_FROM "rekey_from"

/* The role of this device's key now (NONE when it has none). */
static int own_role(cairn_store_t *s, cairn_role_t *role) {
  return cairn_store_role(s, cairn_store_key(s), role);
}

/* Count the changes waiting to be signed with the new key. */
static int waiting_count(cairn_store_t *s, size_t *n) {
  cairn_taken_t *t = NULL;
  int rc = cairn_store_taken_pending(s, &t, NULL);
  *n = rc == 0 ? cairn_taken_count(t) : 0;
  cairn_taken_free(t);
  return rc;
}

int cairn_rekey_status(cairn_store_t *s, cairn_rekey_info_t *out) {
  uint8_t old[CAIRN_KEY_BYTES];
  size_t len = 0;
  int rc;
  memset(out, 0, sizeof *out);
  if ((rc = cairn_store_key_waiting(s, out->new_key)) < 0)
    return rc;
  bool waiting = rc == 1;
  rc = cairn_store_setting_get(s, SETTING_REKEY_FROM, old, sizeof old, &len);
  if (rc != 0 && rc != CAIRN_ENOENT)
    return rc;
  if (rc == 0 && len != sizeof old)
    return CAIRN_ECORRUPT;
  if (!waiting && rc == CAIRN_ENOENT)
    return 0;
  if (waiting) {
    /* a switch decided (rekey_from names the key in use) but cut short counts
     * as granted */
    out->stage = rc == 0 ? CAIRN_REKEY_SWITCHING : CAIRN_REKEY_GRANTING;
    memcpy(out->old_key, cairn_store_key(s), CAIRN_KEY_BYTES);
  } else {
    out->stage = CAIRN_REKEY_AWAITING;
    memcpy(out->old_key, old, CAIRN_KEY_BYTES);
    memcpy(out->new_key, cairn_store_key(s), CAIRN_KEY_BYTES);
  }
  if ((rc = own_role(s, &out->role)) != 0 || (rc = waiting_count(s, &out->waiting)) != 0)
    return rc;
  return 1;
}

/* The new key becomes the store's: the old one is kept as `rekey_from` until
 * the taken changes are signed again, and the relay's acknowledgements start
 * over (they counted the old key's entries). In this order, so that a switch cut
 * short is finished by the next cairn__rekey_resume (`rekey_from` names the key
 * still in use while DIR/key.next waits). */
static int switch_key(cairn_store_t *s, cairn_error_t *err) {
  uint8_t old[CAIRN_KEY_BYTES];
  uint8_t zero[8] = {0};
  int rc;
  memcpy(old, cairn_store_key(s), CAIRN_KEY_BYTES);
  if ((rc = cairn_store_setting_set(s, SETTING_REKEY_FROM, old, sizeof old)) != 0 ||
      (rc = cairn_store_setting_set(s, CAIRN__SETTING_ACKED, zero, sizeof zero)) != 0)
    return cairn__error(err, rc, "cannot record the key change: %s", cairn_strerror(rc));
  return cairn_store_key_switch(s, err);
}

/* As the old key (owner or admin), grant the new one this device's name and role. */
static int grant_next(cairn_store_t *s, const uint8_t pk[CAIRN_KEY_BYTES], cairn_role_t role,
                      cairn_error_t *err) {
  cairn_change_t *c;
  int rc = cairn_change_begin(s, &c);
  if (rc != 0)
    return cairn__error(err, rc, "out of memory");
  if ((rc = cairn_change_member(c, pk, role, cairn_store_name(s), NULL)) != 0) {
    cairn_change_abort(c);
    return cairn__error(err, rc, "cannot grant the new key: %s", cairn_strerror(rc));
  }
  return cairn_change_commit(c, NULL, err);
}

static int read_acked(cairn_store_t *s, uint64_t *acked) {
  cairn_sync_status_t st;
  int rc = cairn_sync_status(s, &st);
  *acked = rc == 0 ? st.acked_seq : 0;
  return rc;
}

int cairn_rekey(cairn_store_t *s, cairn_rekey_info_t *out, cairn_error_t *err) {
  cairn_taken_t *t = NULL;
  cairn_role_t role;
  uint64_t acked;
  int rc = cairn_rekey_status(s, out);
  if (rc < 0)
    return cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc));
  if (rc == 1)
    return cairn__error(err, CAIRN_EBUSY,
                        "this device already moves to a new key; it finishes at a sync");
  if ((rc = own_role(s, &role)) != 0 || (rc = read_acked(s, &acked)) != 0)
    return cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc));
  if (role == CAIRN_ROLE_NONE || role == CAIRN_ROLE_REVOKED || role == CAIRN_ROLE_INVITE)
    return cairn__error(err, CAIRN_ENOTMEMBER,
                        "this device is not a member of a network: there is no key to replace");
  /* what the relay never acknowledged to this copy is kept aside, durably */
  if ((rc = cairn_store_take_back(s, acked, &t, err)) != 0)
    return rc;
  cairn_taken_free(t);
  if ((rc = cairn_store_key_next(s, out->new_key, err)) != 0)
    return rc;
  if (role == CAIRN_ROLE_OWNER || role == CAIRN_ROLE_ADMIN)
    rc = grant_next(s, out->new_key, role, err);
  else
    rc = switch_key(s, err);
  if (rc != 0)
    return rc;
  rc = cairn_rekey_status(s, out);
  return rc < 0 ? cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc)) : 0;
}

/* Sign the taken changes again with the new key once its role lets it write:
 * 1 when done (the move is over), 0 while they wait for the grant. */
static int resign_waiting(cairn_store_t *s, size_t *resigned, cairn_error_t *err) {
  cairn_taken_t *t = NULL;
  cairn_role_t role;
  int rc = own_role(s, &role);
  if (rc != 0)
    return cairn__error(err, rc, "cannot read roles: %s", cairn_strerror(rc));
  if (cairn_role_may_write(role, NULL, NULL) != 0)
    return 0; /* not granted yet: they wait */
  if ((rc = cairn_store_taken_pending(s, &t, err)) != 0)
    return rc;
  if (t != NULL)
    rc = cairn_store_resign(s, t, resigned, err);
  cairn_taken_free(t);
  if (rc == 0 && (rc = cairn_store_setting_set(s, SETTING_REKEY_FROM, NULL, 0)) != 0)
    cairn__error(err, rc, "cannot record the key change: %s", cairn_strerror(rc));
  return rc == 0 ? 1 : rc;
}

int cairn__rekey_resume(cairn_store_t *s, bool synced, size_t *resigned, cairn_error_t *err) {
  cairn_rekey_info_t info;
  uint64_t acked, head;
  int rc = cairn_rekey_status(s, &info);
  bool switched = false;
  *resigned = 0;
  if (rc < 0)
    return cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc));
  if (rc == 0) /* no move: changes taken back by a repair that was cut short */
    return synced ? resign_waiting(s, resigned, err) == 1 && *resigned > 0 : 0;
  if (info.stage == CAIRN_REKEY_GRANTING) {
    if ((rc = read_acked(s, &acked)) != 0 ||
        (rc = cairn_store_head_seq(s, cairn_store_key(s), &head)) != 0)
      return cairn__error(err, rc, "cannot read this store: %s", cairn_strerror(rc));
    if (acked < head)
      return 0; /* the grant has not reached the relay yet */
  }
  if (info.stage != CAIRN_REKEY_AWAITING) {
    if ((rc = switch_key(s, err)) != 0)
      return rc;
    switched = true;
  }
  rc = resign_waiting(s, resigned, err);
  return rc < 0 ? rc : rc == 1 || switched;
}
