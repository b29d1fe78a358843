/*
 * change.h — local changes: many puts and dels signed as one entry of this
 * device's log (or, for a change too big for one, as several consecutive
 * entries) and committed durably in one transaction; and a network's genesis
 * (change.c; docs/design.md, "Entry", "Operations", "Conflicts").
 *
 * A change belongs to the caller from cairn_change_begin() until
 * cairn_change_commit() or cairn_change_abort() frees it. Nothing touches the
 * store until commit. Use a change on its store's thread only.
 */
#ifndef CAIRN_CHANGE_H
#define CAIRN_CHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "store.h"

typedef struct cairn_change cairn_change_t;

/* Start a change on s. @return 0 or CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_change_begin(cairn_store_t *s, cairn_change_t **out) CAIRN_WUR;

/*
 * Set one field of record (type, id), creating the record if absent or reviving
 * a deleted one.
 *
 * @param[in] type       1-CAIRN_TYPE_MAX bytes of UTF-8 (types starting with '_'
 *                       are cairn's own: `_member`, `_network`).
 * @param[in] id         1-CAIRN_ID_MAX bytes of UTF-8.
 * @param[in] field      1-CAIRN_FIELD_MAX bytes, not starting with '_'.
 * @param[in] value      exactly one MessagePack object, value_len bytes, nesting at
 *                       most CAIRN_VALUE_DEPTH_MAX; copied (the caller keeps it).
 * @param[in] resolve    0: the field's base is the value this replica shows at
 *                       commit; 1: every head of the field, which ends a conflict.
 * @return 0, CAIRN_EINVAL (a bad name or value), CAIRN_ENOMEM. On error the change
 *         is unchanged and may still be committed or aborted.
 */
CAIRN_EXTERN int cairn_change_put(cairn_change_t *c, const char *type, const char *id,
                                  const char *field, const uint8_t *value, size_t value_len,
                                  int resolve) CAIRN_WUR;

/* Delete the record (its history is kept; a later put revives it). The del
 * names what this replica holds of the record at commit, so that an edit made
 * meanwhile elsewhere shows as a delete/edit conflict instead of being lost
 * (docs/design.md, "Merge"). One op per record per change: a del replaces an
 * earlier put of the same change, and the reverse.
 * @return 0, CAIRN_EINVAL, CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_change_del(cairn_change_t *c, const char *type, const char *id) CAIRN_WUR;

/*
 * Keep the record: a put, with no field unless cairn_change_put adds some to it
 * in this change, that has seen every delete of the record this replica holds
 * (any put does: docs/design.md, "Merge"). It ends a delete/edit conflict
 * (CAIRN_DELETED_FIELD, query.h) with the record kept, or brings back a deleted
 * record with the fields it had. A del of the same record in this change
 * replaces it, and the reverse.
 * @return 0, CAIRN_EINVAL, CAIRN_ENOMEM; at commit, CAIRN_EINVAL when no delete of
 *         the record is in effect on this replica (none that no put saw): nothing
 *         to keep.
 */
CAIRN_EXTERN int cairn_change_keep(cairn_change_t *c, const char *type,
                                   const char *id) CAIRN_WUR;

/* Erase the record and its history on every replica (owner or admin; checked at
 * commit). @return 0, CAIRN_EINVAL, CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_change_purge(cairn_change_t *c, const char *type,
                                    const char *id) CAIRN_WUR;

/*
 * Sign the change as this device's next entry and commit it durably; frees c
 * whatever the result. The entry is checked exactly as a received entry would be
 * (roles, limits) before it is written.
 *
 * @param[out] seq  may be NULL; the entry's seq in this device's log.
 * @param[out] err  may be NULL; on error, the code and a message.
 * On a network with a schema (schema.h), every put is checked against it
 * first: an unknown type or field, a value of the wrong kind, a reference to no
 * record (a record this change puts counts), a required field left without a
 * value.
 *
 * @return 0, or CAIRN_ESCHEMA (the change breaks the schema: err names the
 *         record, the field, the value and what was expected, with "did you
 *         mean" for near misses), CAIRN_EFORBIDDEN / CAIRN_ENOTMEMBER (this device's role may not
 *         write it), CAIRN_ENONETWORK (no network yet), CAIRN_EINVAL (an empty
 *         change, or a put without fields), CAIRN_EPURGED (a purged record's id),
 *         CAIRN_ETOOBIG (over the entry size limit), CAIRN_EIO, CAIRN_ENOSPC,
 *         CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_change_commit(cairn_change_t *c, uint64_t *seq,
                                     cairn_error_t *err) CAIRN_WUR;

/* What a commit wrote (cairn_change_commit_split). */
typedef struct cairn_commit_info {
  size_t entries;     /* entries signed (and, unless a dry run, written) */
  uint64_t first_seq; /* the first one's seq in this device's log */
  uint64_t last_seq;  /* the last one's */
  size_t bytes;       /* their size, added up */
  size_t failed_op;   /* on an error about one op (a value the schema refuses, a
                         purged id, an op too big for an entry): its index among
                         the change's ops, which are in the order each record
                         was first named (put, del or purge); for an error of a
                         whole entry (a role), its first op; SIZE_MAX when no op
                         is to blame */
} cairn_commit_info_t;

/*
 * Commit a change too big for one entry, such as an import of many rows: its
 * ops are signed as consecutive entries of this device, each holding as many
 * whole ops, in order, as fit in the entry size limit (cairn_store_opts_t
 * max_entry), and every entry is applied in ONE durable write transaction, so
 * that all of them are written or none. Each op is checked as
 * cairn_change_commit checks it; a reference to a record that the same change
 * puts is good wherever that put lands. A change that fits in one entry makes
 * one entry, as cairn_change_commit would. Frees c whatever the result.
 *
 * @param[in]  dry_run  nonzero: check, sign and apply everything in the
 *                      transaction, then abort it: nothing is written, and info
 *                      says what would have been.
 * @param[out] info     may be NULL; what was written (on error, failed_op).
 * @param[out] err      may be NULL; on error, the code and a message.
 * @return 0, or an error of cairn_change_commit (nothing is written then);
 *         CAIRN_ETOOBIG when one op alone is over the limit.
 */
CAIRN_EXTERN int cairn_change_commit_split(cairn_change_t *c, int dry_run,
                                           cairn_commit_info_t *info,
                                           cairn_error_t *err) CAIRN_WUR;

/* The same, signed as the next entry of another key: an invite key granting this
 * device its role (cairn_join). sk is that key's secret (CAIRN_SECRET_BYTES),
 * borrowed for the call. */
CAIRN_EXTERN int cairn_change_commit_as(cairn_change_t *c, const uint8_t sk[CAIRN_SECRET_BYTES],
                                        uint64_t *seq, cairn_error_t *err) CAIRN_WUR;

/* The store a change was begun on. */
CAIRN_EXTERN cairn_store_t *cairn_change_store(const cairn_change_t *c);

/* Drop a change without writing anything (NULL is fine). */
CAIRN_EXTERN void cairn_change_abort(cairn_change_t *c);

/* Entries taken back from this device's log (apply.h, cairn_store_take_back). */
typedef struct cairn_taken cairn_taken_t;

/*
 * Sign the ops of taken-back entries again as new entries of this device, one per
 * taken entry, in order, on top of its current head: fresh seqs and stamps (the
 * corrected clock), and bases read from what this replica shows now, so they
 * merge as edits made now. Redacted ops are left out, and so is an entry that
 * is in the log again (the relay held the very same one and sent it back). A
 * change this device may no longer make (its role changed since) is set aside in
 * DIR/forked.entries instead.
 * @param[out] count  how many entries were signed.
 * @return 0, or any error of cairn_change_commit (the entries before it are signed).
 */
CAIRN_EXTERN int cairn_store_resign(cairn_store_t *s, const cairn_taken_t *t, size_t *count,
                                    cairn_error_t *err) CAIRN_WUR;

/*
 * The changes taken back and not yet signed again: DIR/taken-back.entries, kept
 * when signing them again failed or waits (a new key not granted yet, cairn_rekey).
 * cairn_store_take_back includes them first; sign them with cairn_store_resign.
 * @param[out] out  NULL when there are none; else free with cairn_taken_free.
 * @return 0, CAIRN_EIO, CAIRN_ECORRUPT (a damaged file), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_store_taken_pending(cairn_store_t *s, cairn_taken_t **out,
                                           cairn_error_t *err) CAIRN_WUR;

/*
 * Create a network owned by this device: writes the genesis entry (the `_network`
 * record with its title and a nonce, and this device's `_member` record as owner)
 * and copies the network id to out.
 *
 * @param[in] title  1-1000 bytes.
 * @return 0, CAIRN_EHASNETWORK (the store already has a network), CAIRN_EINVAL,
 *         CAIRN_EIO, CAIRN_ENOSPC, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_store_network_create(cairn_store_t *s, const char *title,
                                            uint8_t out[CAIRN_KEY_BYTES],
                                            cairn_error_t *err) CAIRN_WUR;

#endif
