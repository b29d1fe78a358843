/*
 * store.h — a replica: one LMDB environment holding one network's signed logs and
 * the records merged from them (DESIGN.md, "Storage"; docs/storage.md).
 *
 * A store directory holds `key` (the device's ed25519 secret key, mode 0600),
 * `data.mdb` and `lock.mdb`. Open a store once per process (LMDB's rule) and use it
 * from one thread at a time: the handle is not thread-safe.
 *
 * Views handed to callbacks (records, entries, fields) point into LMDB's map and
 * are valid only until the callback returns.
 */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"

typedef struct cairn_store cairn_store_t;

/* Options for create/open; a zeroed struct (or NULL) gives the defaults. */
typedef struct cairn_store_opts {
  size_t max_entry;     /* largest entry accepted, bytes; 0: CAIRN_ENTRY_MAX_DEFAULT */
  uint64_t max_skew_ms; /* how far ahead of our clock an entry's HLC may be; 0: 10 min */
  size_t map_size;      /* initial LMDB map size; 0: 64 MiB (it grows when full) */
  int no_sync;          /* 1: commits are not fsync'd (tests and benchmarks only) */
  int verify_all;       /* 1: verify every signature, not only each run's newest */
} cairn_store_opts_t;

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

/* "owner"... for a role, NULL for NONE; and back (CAIRN_ROLE_NONE if unknown). */
CAIRN_EXTERN const char *cairn_role_name(cairn_role_t role);
CAIRN_EXTERN cairn_role_t cairn_role_parse(const char *s, size_t len);

/*
 * Create a store in dir (created if absent, must not already hold a store): a new
 * key pair written to dir/key with mode 0600, an empty LMDB environment, and the
 * device's member name. *out is open on success.
 */
CAIRN_EXTERN int cairn_store_create(const char *dir, const char *name,
                                    const cairn_store_opts_t *opts, cairn_store_t **out,
                                    cairn_error_t *err) CAIRN_WUR;

/*
 * Open an existing store. Fails with CAIRN_ENOENT if dir holds no store, with
 * CAIRN_EKEYPERM if the key file is readable or writable by group or others.
 */
CAIRN_EXTERN int cairn_store_open(const char *dir, const cairn_store_opts_t *opts,
                                  cairn_store_t **out, cairn_error_t *err) CAIRN_WUR;

/* Close a store (NULL is fine); wipes the secret key. */
CAIRN_EXTERN void cairn_store_close(cairn_store_t *s);

/* This device's public key (the author id), CAIRN_KEY_BYTES long. */
CAIRN_EXTERN const uint8_t *cairn_store_key(const cairn_store_t *s);

/* The device's member name given at create time (never NULL). */
CAIRN_EXTERN const char *cairn_store_name(const cairn_store_t *s);

/* The network id, or CAIRN_ENONETWORK before `network create` or a first apply. */
CAIRN_EXTERN int cairn_store_network(cairn_store_t *s, uint8_t out[CAIRN_KEY_BYTES]);

/*
 * Create a network owned by this device: writes the genesis entry (the `_network`
 * record with its title and nonce, and this device's `_member` record as owner).
 * Fails with CAIRN_EHASNETWORK if the store already has one.
 */
CAIRN_EXTERN int cairn_store_network_create(cairn_store_t *s, const char *title,
                                            uint8_t out[CAIRN_KEY_BYTES],
                                            cairn_error_t *err) CAIRN_WUR;

/* The wall clock in milliseconds since the Unix epoch: what HLCs, invite expiry
 * and sync times are read from. */
CAIRN_EXTERN uint64_t cairn_now_ms(void);

/* ---- local changes: many puts and dels, one signed entry ---- */

typedef struct cairn_change cairn_change_t;

/* Start a change on s. Nothing touches the store until commit. */
CAIRN_EXTERN int cairn_change_begin(cairn_store_t *s, cairn_change_t **out) CAIRN_WUR;

/*
 * Set a field. value is one MessagePack object (copied). The field's base is the
 * winning value this replica shows at commit; with resolve set, it is every head
 * of the field (so the write resolves a conflict).
 */
CAIRN_EXTERN int cairn_change_put(cairn_change_t *c, const char *type, const char *id,
                                  const char *field, const uint8_t *value, size_t value_len,
                                  int resolve) CAIRN_WUR;

/* Delete a record, or purge it (owner or admin: erase it and its history). */
CAIRN_EXTERN int cairn_change_del(cairn_change_t *c, const char *type, const char *id) CAIRN_WUR;
CAIRN_EXTERN int cairn_change_purge(cairn_change_t *c, const char *type,
                                    const char *id) CAIRN_WUR;

/*
 * Sign the change as one entry and commit it durably; frees c whatever the result.
 * *seq (may be NULL) receives the entry's seq. The entry is checked exactly as a
 * received entry would be (roles, limits) before it is written.
 */
CAIRN_EXTERN int cairn_change_commit(cairn_change_t *c, uint64_t *seq,
                                     cairn_error_t *err) CAIRN_WUR;

/* Drop a change without writing anything (NULL is fine). */
CAIRN_EXTERN void cairn_change_abort(cairn_change_t *c);

/* ---- received entries ---- */

/* One entry as bytes (borrowed). */
typedef struct cairn_buf {
  const uint8_t *data;
  size_t len;
} cairn_buf_t;

typedef struct cairn_apply_stats {
  size_t applied; /* new entries stored */
  size_t skipped; /* entries this store already held */
  size_t failed_at; /* on error: index of the first bad entry in the batch */
} cairn_apply_stats_t;

/*
 * Verify and apply a batch of entries in one write transaction. Entries already
 * held are skipped. Each author's entries must come in seq order; a run of one
 * author is verified by its newest signature (DESIGN.md). On the first bad entry
 * the call fails with its error (naming author and seq) and stats->failed_at; the
 * entries before it are kept, nothing at or after it is.
 */
CAIRN_EXTERN int cairn_store_apply(cairn_store_t *s, const cairn_buf_t *entries, size_t n,
                                   cairn_apply_stats_t *stats, cairn_error_t *err) CAIRN_WUR;

/* ---- queries (read transactions; views valid during the callback) ---- */

/* A materialized record. Iterate its fields with cairn_record_field_next. */
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

typedef struct cairn_record_field {
  const char *name;
  uint32_t name_len;
  const uint8_t *value; /* one MessagePack object */
  size_t value_len;
  cairn_stamp_t stamp;
} cairn_record_field_t;

typedef struct cairn_record_iter {
  const uint8_t *p, *end;
  uint32_t left;
} cairn_record_iter_t;

CAIRN_EXTERN void cairn_record_iter_init(const cairn_record_t *r, cairn_record_iter_t *it);
/* 1 with the next field (in name order), 0 at the end. */
CAIRN_EXTERN int cairn_record_field_next(cairn_record_iter_t *it, cairn_record_field_t *f);

/* Return nonzero from a callback to stop the walk; the walk then returns 0. */
typedef int (*cairn_record_cb)(const cairn_record_t *r, void *ud);

/* One record; CAIRN_ENOENT if absent, CAIRN_EDELETED if deleted (cb not called). */
CAIRN_EXTERN int cairn_store_get(cairn_store_t *s, const char *type, const char *id,
                                 cairn_record_cb cb, void *ud);

/* Visible (not deleted) records of a type, in id order (bytewise). */
CAIRN_EXTERN int cairn_store_list(cairn_store_t *s, const char *type, cairn_record_cb cb,
                                  void *ud);

/* Every change to a record, oldest first: the entry and the op on that record. */
typedef int (*cairn_history_cb)(const cairn_entry_t *e, const cairn_op_t *op, void *ud);
CAIRN_EXTERN int cairn_store_history(cairn_store_t *s, const char *type, const char *id,
                                     cairn_history_cb cb, void *ud);

/* A conflicted field: every head, the visible one (greatest stamp) first. */
typedef struct cairn_head {
  const uint8_t *value;
  size_t value_len;
  cairn_stamp_t stamp;
} cairn_head_t;

typedef int (*cairn_conflict_cb)(const char *type, size_t type_len, const char *id,
                                 size_t id_len, const char *field, size_t field_len,
                                 const cairn_head_t *heads, size_t nheads, void *ud);
/* Every conflicted field of every visible record, ordered by type, id, field. */
CAIRN_EXTERN int cairn_store_conflicts(cairn_store_t *s, cairn_conflict_cb cb, void *ud);

/* Entries in this replica's arrival order. */
typedef int (*cairn_entry_cb)(const cairn_entry_t *e, void *ud);
CAIRN_EXTERN int cairn_store_log(cairn_store_t *s, cairn_entry_cb cb, void *ud);

/* The version vector: each author's head. */
typedef int (*cairn_heads_cb)(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                              const uint8_t hash[CAIRN_HASH_BYTES], void *ud);
CAIRN_EXTERN int cairn_store_heads(cairn_store_t *s, cairn_heads_cb cb, void *ud);

/* Seq this store holds for author (0 if none). */
CAIRN_EXTERN int cairn_store_head_seq(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                                      uint64_t *seq);

/*
 * Entries in arrival order that a replica with the given version vector lacks:
 * since_seq(author) returns the seq that replica holds (0 for none). since may be
 * NULL for every entry.
 */
typedef uint64_t (*cairn_since_fn)(const uint8_t author[CAIRN_KEY_BYTES], void *ud);
CAIRN_EXTERN int cairn_store_export(cairn_store_t *s, cairn_since_fn since, cairn_entry_cb cb,
                                    void *ud);

/* The role of a member key now (latest `_member` write). */
CAIRN_EXTERN int cairn_store_role(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                  cairn_role_t *role);


/* ---- sync (relays and clients) ---- */

#define CAIRN_EPOCH_BYTES 16   /* a store's epoch: random, fixed at first use */
#define CAIRN_SETTING_MAX 1024 /* largest setting value, bytes */

/* The store's epoch (made and kept on first call). A relay's cursors are
 * positions in its arrival order within this epoch; a store restored from a
 * backup of another epoch makes clients fall back to version vectors. */
CAIRN_EXTERN int cairn_store_epoch(cairn_store_t *s, uint8_t out[CAIRN_EPOCH_BYTES]) CAIRN_WUR;

/* How many entries this store holds in its arrival order (the last position). */
CAIRN_EXTERN int cairn_store_last_arrival(cairn_store_t *s, uint64_t *out) CAIRN_WUR;

/* Entries at positions after `after` in arrival order (the first entry to arrive
 * is position 1). cb returns 0 to go on, > 0 to stop, < 0 to stop with that
 * error; one read transaction. */
typedef int (*cairn_arrival_cb)(const cairn_entry_t *e, uint64_t position, void *ud);
CAIRN_EXTERN int cairn_store_arrivals(cairn_store_t *s, uint64_t after, cairn_arrival_cb cb,
                                      void *ud) CAIRN_WUR;

/* author's entries with seq > after, in seq order (cb as cairn_store_log's). */
CAIRN_EXTERN int cairn_store_author_log(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                                        uint64_t after, cairn_entry_cb cb, void *ud) CAIRN_WUR;

/* A store made for a network before its genesis arrives (a relay hosting it, a
 * device joining it): only that network's genesis will be adopted. */
CAIRN_EXTERN int cairn_store_expect_network(cairn_store_t *s, const uint8_t id[CAIRN_KEY_BYTES],
                                            cairn_error_t *err) CAIRN_WUR;
/* The network expected, CAIRN_ENOENT if none was set. */
CAIRN_EXTERN int cairn_store_expected_network(cairn_store_t *s,
                                              uint8_t out[CAIRN_KEY_BYTES]) CAIRN_WUR;

/* Small named values kept with the store, each in its own durable transaction:
 * get copies up to cap bytes (CAIRN_ENOENT if absent, CAIRN_ETOOBIG if larger);
 * set with value NULL deletes. Names are 1-64 bytes. */
CAIRN_EXTERN int cairn_store_setting_get(cairn_store_t *s, const char *name, void *buf,
                                         size_t cap, size_t *len) CAIRN_WUR;
CAIRN_EXTERN int cairn_store_setting_set(cairn_store_t *s, const char *name, const void *value,
                                         size_t len) CAIRN_WUR;

/* The terms of invite key `key` as they stand now: CAIRN_ENOENT if it is not an
 * invite (or was revoked). */
CAIRN_EXTERN int cairn_store_invite(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                                    cairn_invite_terms_t *out) CAIRN_WUR;

/* Sign the change as the next entry of another key (an invite key granting this
 * device its role) and commit it; frees c. Otherwise as cairn_change_commit. */
CAIRN_EXTERN int cairn_change_commit_as(cairn_change_t *c, const uint8_t sk[CAIRN_SECRET_BYTES],
                                        uint64_t *seq, cairn_error_t *err) CAIRN_WUR;

/* The device's ed25519 secret key (CAIRN_SECRET_BYTES, libsodium's layout), valid
 * until cairn_store_close: what proves this device in the relay handshake. Do not
 * copy it anywhere else. */
CAIRN_EXTERN const uint8_t *cairn_store_secret(const cairn_store_t *s);

#endif
