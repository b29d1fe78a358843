/*
 * query.h — reading a store: records and their fields, history, conflicts, the
 * log, the version vector (query.c walks the databases, record.c decodes records;
 * docs/design.md, "Merge", "Conflicts"; docs/storage.md).
 *
 * Each call runs in one LMDB read transaction: it sees the store as of its start,
 * whatever commits meanwhile, and never blocks a writer. A callback returns 0 to
 * go on and nonzero to stop the walk (the walk then returns 0, unless the
 * documentation of the callback type says otherwise). The views it receives point
 * into the map and are valid until it returns.
 */
#ifndef CAIRN_QUERY_H
#define CAIRN_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"
#include "store.h"

/* A materialized record (a view). Walk its fields with cairn_record_iter_init /
 * cairn_record_field_next, or look one up with cairn_record_field. */
typedef struct cairn_record {
  const char *type;
  size_t type_len;
  const char *id;
  size_t id_len;
  int deleted;
  const uint8_t *fields; /* internal encoding; use the iterator */
  size_t fields_len;
  uint32_t nfields_; /* internal */
} cairn_record_t;

/* One field of a record: its name, its winning value and that value's stamp. */
typedef struct cairn_record_field {
  const char *name; /* not NUL-terminated */
  uint32_t name_len;
  const uint8_t *value; /* one MessagePack object */
  size_t value_len;
  cairn_stamp_t stamp;
} cairn_record_field_t;

typedef struct cairn_record_iter {
  const uint8_t *p, *end;
  uint32_t left;
} cairn_record_iter_t;

/* Start a walk over r's fields, in name order (bytewise). */
CAIRN_EXTERN void cairn_record_iter_init(const cairn_record_t *r, cairn_record_iter_t *it);
/* 1 with the next field in *f, 0 at the end. A field whose value is nil (unset)
 * is absent: the walk skips it. */
CAIRN_EXTERN int cairn_record_field_next(cairn_record_iter_t *it, cairn_record_field_t *f);

/* Look up field `name` (NUL-terminated) of r: 1 with it in *f, 0 if r has no
 * such field (or its value is nil). */
CAIRN_EXTERN int cairn_record_field(const cairn_record_t *r, const char *name,
                                    cairn_record_field_t *f);

/* Called with each record of a walk. */
typedef int (*cairn_record_cb)(const cairn_record_t *r, void *ud);

/*
 * Read one record: cb is called once with it.
 * @return 0, CAIRN_ENOENT if there is no such record, CAIRN_EDELETED if it is
 *         deleted (cb is not called in either case), CAIRN_EINVAL (names too
 *         long), CAIRN_EIO, CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_get(cairn_store_t *s, const char *type, const char *id,
                           cairn_record_cb cb, void *ud);

/* Every visible record of a type, in id order: the walk under cairn_list
 * (cairn.h), which filters it. Not part of the API: use cairn_list. */
int cairn__list_type(cairn_store_t *s, const char *type, cairn_record_cb cb, void *ud);

/*
 * The records of a type as this replica held them at a past time: every op on
 * them stamped at or before hlc (an HLC value; (ms << 16) | 0xffff for the end of
 * millisecond ms), replayed from the records' history in stamp order: each
 * field's value the latest written, a record deleted when its latest del or put
 * is a del. Entries held as evidence only, erased ops and purged records have
 * no part. Conflicts are not kept: a field shows its latest write, which is the
 * value the record showed then unless an edit concurrent with it was still to
 * arrive. In id order, in one read transaction; records that did not exist yet
 * are left out, and deleted ones too unless with_deleted. cb gets each record (a
 * view valid until it returns) and returns nonzero to stop.
 * @return 0, CAIRN_EINVAL (type too long), CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_records_as_of(cairn_store_t *s, const char *type, uint64_t hlc,
                                     int with_deleted, cairn_record_cb cb, void *ud);

/*
 * Every change to a record, oldest first: cb gets each entry that touched it
 * (author, seq, hlc time) and its op on the record (put with its fields, del,
 * purge); walk a put's fields with cairn_field_iter_init()/cairn_field_next().
 * Entries held as evidence only come too: ask cairn_entry_refused() whether one
 * is (its ops are not in the record).
 * @return 0 (also when the record has no history: cb is never called), CAIRN_EIO,
 *         CAIRN_ECORRUPT.
 */
typedef int (*cairn_history_cb)(const cairn_entry_t *e, const cairn_op_t *op, void *ud);
CAIRN_EXTERN int cairn_history(cairn_store_t *s, const char *type, const char *id,
                               cairn_history_cb cb, void *ud);

/*
 * Whether author's entry at seq is held as evidence only: its author's roles
 * refuse it (a member writing after a revocation that reached this replica late,
 * docs/design.md "Membership and roles"). Such an entry stays in the log and in
 * the record's history, and none of its ops is in the records.
 * @param[out] why  may be NULL; for a refused entry, the reason.
 * @return 1 (refused), 0 (not refused, or not held), CAIRN_EIO.
 */
CAIRN_EXTERN int cairn_entry_refused(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                                     uint64_t seq, cairn_error_t *why) CAIRN_WUR;

/* One head of a conflicted field: a value written concurrently and its stamp. */
typedef struct cairn_head {
  const uint8_t *value; /* one MessagePack object */
  size_t value_len;
  cairn_stamp_t stamp;
} cairn_head_t;

/*
 * The pseudo-field naming a delete concurrent with an edit (docs/design.md,
 * "Conflicts"): the record stays visible, and its heads are `false` (the latest
 * edit that no delete saw: its author and time), first, then `true` for each
 * delete that no edit saw (who deleted it, and when), greatest stamp first.
 * Field names never start with '_', so it cannot clash with a field. Ended by
 * keeping the record (cairn_change_keep, or any put) or deleting it again
 * (cairn_change_del: the new delete has seen every edit).
 */
#define CAIRN_DELETED_FIELD "_deleted"

/*
 * Every conflicted field of every visible record, ordered by type, id, field:
 * cb gets the field's heads, the visible one (greatest stamp) first, and a
 * delete/edit conflict as the field CAIRN_DELETED_FIELD. A head's value may be
 * nil (a field unset by cairn `unset`); a field whose heads are all nil is not
 * listed. Resolve one by writing the field with resolve set (cairn_change_put).
 * @return 0, CAIRN_EIO, CAIRN_ECORRUPT, CAIRN_ENOMEM.
 */
typedef int (*cairn_conflict_cb)(const char *type, size_t type_len, const char *id,
                                 size_t id_len, const char *field, size_t field_len,
                                 const cairn_head_t *heads, size_t nheads, void *ud);
CAIRN_EXTERN int cairn_conflicts(cairn_store_t *s, cairn_conflict_cb cb, void *ud);

/* The same for one record only, in one read transaction: the walk under
 * cairn_record_conflicts (cairn.h). Not part of the API: use that. */
int cairn__record_conflicts(cairn_store_t *s, const char *type, const char *id,
                            cairn_conflict_cb cb, void *ud);

/* Called with each entry of a walk: a decoded view (entry.h). */
typedef int (*cairn_entry_cb)(const cairn_entry_t *e, void *ud);

/* Every entry, in this replica's arrival order. @return 0, CAIRN_EIO,
 * CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_store_log(cairn_store_t *s, cairn_entry_cb cb, void *ud);

/*
 * The entries, in arrival order, that a replica with the given version vector
 * lacks: since(author, ud) returns the seq that replica holds of author (0 for
 * none); since may be NULL for every entry. since and cb get the same ud.
 * @return as cairn_store_log.
 */
typedef uint64_t (*cairn_since_fn)(const uint8_t author[CAIRN_KEY_BYTES], void *ud);
CAIRN_EXTERN int cairn_store_export(cairn_store_t *s, cairn_since_fn since, cairn_entry_cb cb,
                                    void *ud);

/* The version vector: cb gets each author's head (seq and entry hash), in author
 * order. @return 0, CAIRN_EIO, CAIRN_ECORRUPT. */
typedef int (*cairn_heads_cb)(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                              const uint8_t hash[CAIRN_HASH_BYTES], void *ud);
CAIRN_EXTERN int cairn_store_heads(cairn_store_t *s, cairn_heads_cb cb, void *ud);

/* A version vector copied out of a store (or received): each author's head, in
 * author order (bytewise). A zeroed one is empty; free with cairn_vv_free. */
typedef struct cairn_vv {
  uint8_t (*authors)[CAIRN_KEY_BYTES];
  uint64_t *seqs;
  uint8_t (*hashes)[CAIRN_HASH_BYTES]; /* each head's entry hash (zero if unknown) */
  size_t n, cap;
} cairn_vv_t;

/* Fill v (emptied first, its memory reused) with the store's heads.
 * @return 0, CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_store_vv(cairn_store_t *s, cairn_vv_t *v) CAIRN_WUR;
/* Append a head (hash may be NULL); the caller keeps author order.
 * @return 0 or CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_vv_add(cairn_vv_t *v, const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                              const uint8_t *hash) CAIRN_WUR;
/* Raise author's seq in v to seq (adding the author in its place when absent);
 * a lower seq changes nothing. @return 0 or CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_vv_raise(cairn_vv_t *v, const uint8_t author[CAIRN_KEY_BYTES],
                                uint64_t seq) CAIRN_WUR;
/* The seq v holds of author (0 if none) and, when hash is not NULL, its hash. */
CAIRN_EXTERN uint64_t cairn_vv_seq(const cairn_vv_t *v, const uint8_t author[CAIRN_KEY_BYTES],
                                   const uint8_t **hash);
/* Free the arrays and empty v (NULL is fine). */
CAIRN_EXTERN void cairn_vv_free(cairn_vv_t *v);

/* The hash of author's entry at seq (what the next entry's prev names).
 * @return 0, CAIRN_ENOENT (not held), CAIRN_EIO, CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_store_entry_hash(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                                        uint64_t seq, uint8_t out[CAIRN_HASH_BYTES]) CAIRN_WUR;

/* The seq this store holds of author, 0 if none. @return 0, CAIRN_EIO,
 * CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_store_head_seq(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                                      uint64_t *seq);

#endif
