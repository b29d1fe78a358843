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
 * Let a new key (cairn_rekey) take over when it can: this store holds its grant
 * and the relay has acknowledged every change signed with the old key. Called by
 * cairn_sync_once after each connection that succeeded.
 * @return 1 when the key switched (connect again as the new key), 2 when the key
 *         was given up (another copy of this store signs with it), 0, or a
 *         negative code (err set).
 */
int cairn__rekey_resume(cairn_store_t *s, cairn_error_t *err);

#endif
