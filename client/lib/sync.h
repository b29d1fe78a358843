/*
 * sync.h — inside client/lib: what the sync module keeps in a store. The sync
 * API itself (cairn_sync_once, cairn_sync_live...) is public and documented in
 * client/cairn.h.
 *
 * Settings (cairn_store_setting_get/set, store.h), each its own durable write:
 *   remote     the relay's HOST:PORT, text without NUL
 *   relay_key  the relay's public key, CAIRN_KEY_BYTES (pinned)
 *   cursor     epoch (CAIRN_EPOCH_BYTES) + big-endian u64: the relay's arrival
 *              position up to which entries are applied here; ignored when the
 *              relay answers with another epoch
 *   last_sync  big-endian u64: wall-clock ms when both directions were last
 *              caught up
 *   acked_seq  big-endian u64: own entries the relay had stored at that moment
 *   rekey_from the key this device signed with before cairn_rekey, until the
 *              changes taken back are signed again with the new one (rekey.c)
 */
#ifndef CAIRN_SYNC_H
#define CAIRN_SYNC_H

#include <stdbool.h>

#include "cairn.h"

#define CAIRN__SETTING_REMOTE "remote"
#define CAIRN__SETTING_RELAY_KEY "relay_key"
#define CAIRN__SETTING_CURSOR "cursor"
#define CAIRN__SETTING_LAST_SYNC "last_sync"
#define CAIRN__SETTING_ACKED "acked_seq"

/*
 * Carry a move to a new key (cairn_rekey) as far as it can go now: switch keys
 * once the old key's grant of the new one is acknowledged, and sign the changes
 * taken back again once the new key may write. With no move pending and synced
 * (both ways caught up, so this store holds the relay's history of its key), sign
 * again the changes a repair took back and could not sign before its connection
 * ended (DIR/taken-back.entries). Called by cairn_sync_once before and after it
 * syncs.
 * @param[out] resigned  how many changes were signed again.
 * @return 1 when something changed (sync again to push it), 0, or a negative
 *         code (err set).
 */
int cairn__rekey_resume(cairn_store_t *s, bool synced, size_t *resigned, cairn_error_t *err);

#endif
