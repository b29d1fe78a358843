/*
 * store_internal.h — what the files of the store share: the handle, the named
 * databases, key layouts and the record encoding (all described in
 * docs/storage.md). Not part of the public API.
 */
#ifndef CAIRN_STORE_INTERNAL_H
#define CAIRN_STORE_INTERNAL_H

#include <lmdb.h>
#include <stdbool.h>
#include <stdio.h>

#include "apply.h"
#include "bytes.h"
#include "change.h"
#include "member.h"
#include "query.h"
#include "store.h"
#include "sync_store.h"

/* 1: the first format; 2: with the `index` database (built when a store of
 * format 1 is first opened for writing) */
#define STORE_FORMAT_VERSION 2
#define NETWORK_LABEL "cairn network v1"
#define NETWORK_TYPE "_network"
#define NONCE_BYTES 32
#define DEFAULT_SKEW_MS (10u * 60u * 1000u)
#define DEFAULT_MAP_SIZE ((size_t)64 << 20)
#define MAX_KEY 511 /* LMDB's default largest key */

enum {
  DB_LOG,
  DB_HEADS,
  DB_ARRIVALS,
  DB_RECORDS,
  DB_CONFLICTS,
  DB_PENDING,
  DB_HISTORY,
  DB_PURGED,
  DB_ROLES,
  DB_META,
  DB_REFUSED, /* entries kept as evidence, not applied: log key -> the reason */
  DB_INDEX,   /* the secondary indexes (index.c) */
  DB_COUNT
};

struct cairn_store {
  MDB_env *env;
  MDB_dbi dbi[DB_COUNT];
  char *dir;
  char *name;
  uint8_t *sk; /* sodium_malloc'd secret key; public key at sk + 32 */
  cairn_store_opts_t opts;
  size_t map_size;
  bool has_network;
  uint8_t network[CAIRN_KEY_BYTES];
  uint64_t hlc; /* last HLC written or seen */
  int64_t clock_offset_ms; /* the relay's clock minus this device's, last learnt */
  bool has_refused_db; /* false: a store of an older format opened read-only */
  struct cairn_schema *schema; /* the last schema read (one reference), or NULL */
  uint64_t schema_gen;         /* the generation it was read at (schema.c) */
  bool has_index_db;   /* false: a store of format 1 opened read-only */
};

#define META_CLOCK_OFFSET "clock_offset"
#define META_SCHEMA_GEN "schema_gen" /* 8 random bytes, new whenever `_schema` changes */

/* This device's clock corrected by the offset to the relay's, when one is known:
 * what local changes are stamped with and received entries' clocks checked
 * against. */
uint64_t cairn__now_corrected(const cairn_store_t *s);

/* The head of one author, as kept in `heads`. */
typedef struct head {
  uint64_t seq;
  uint8_t hash[CAIRN_HASH_BYTES];
  uint64_t hlc;
} head_t;


/* A key under construction (records, conflicts, history...). */
typedef struct keybuf {
  uint8_t b[MAX_KEY];
  size_t len;
} keybuf_t;

/* type \0 id */
int cairn__key_record(keybuf_t *k, const char *type, size_t tlen, const char *id, size_t ilen);
/* type \0 id \0 field \0 — the prefix of a field's conflict and pending rows */
int cairn__key_field(keybuf_t *k, const char *type, size_t tlen, const char *id, size_t ilen,
                     const char *field, size_t flen);
/* append hlc(8, big-endian) author(32) */
void cairn__key_add_stamp(keybuf_t *k, const cairn_stamp_t *st);
/* read the stamp at the end of a key */
void cairn__key_stamp(const uint8_t *key, size_t len, cairn_stamp_t *st);
/* author(32) seq(8) */
void cairn__key_log(uint8_t out[40], const uint8_t *author, uint64_t seq);

static inline MDB_val mval(const void *p, size_t n) {
  MDB_val v = {n, (void *)p};
  return v;
}

/* Map an LMDB return code to a CAIRN_E* code. */
int cairn__mdb_err(int rc);

/* ---- meta ---- */
int cairn__meta_get(MDB_txn *txn, cairn_store_t *s, const char *key, MDB_val *val);
int cairn__meta_put(MDB_txn *txn, cairn_store_t *s, const char *key, const void *p, size_t n);

/* ---- heads ---- */
int cairn__head_get(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, head_t *h);
int cairn__head_put(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, const head_t *h);

/* ---- membership (member.c) ---- */

/* Whether op is on a `_member` record. */
bool cairn__is_member_op(const cairn_op_t *op);
/* Role of key for a write stamped st: the latest `_member` write with a smaller
 * stamp; with an invite's terms when the role is CAIRN_ROLE_INVITE (terms may be
 * NULL), and the stamp of the key's next role row at or after st (*has_next false
 * if none): the role found holds for every stamp up to and including it. */
int cairn__role_terms(MDB_txn *txn, cairn_store_t *s, const uint8_t *key,
                      const cairn_stamp_t *st, cairn_role_t *role, cairn_invite_terms_t *terms,
                      cairn_stamp_t *next, bool *has_next);
int cairn__role_at(MDB_txn *txn, cairn_store_t *s, const uint8_t *key,
                   const cairn_stamp_t *st, cairn_role_t *role);
/* The lowest last_seq any revocation of key names (UINT64_MAX: none): entries of
 * key above it are refused whatever their stamp. */
int cairn__member_cutoff(MDB_txn *txn, cairn_store_t *s, const uint8_t *key, uint64_t *last);
/* Index a merged `_member` op that sets a role (*indexed says whether it did);
 * when it did, key is the member's and *last the cut-off it names (UINT64_MAX:
 * none). */
int cairn__member_index(MDB_txn *txn, cairn_store_t *s, const cairn_op_t *op,
                        const cairn_stamp_t *st, bool *indexed,
                        uint8_t key[CAIRN_KEY_BYTES], uint64_t *last);
/* Whether key has any role row (is or was a member, or an invite): the entries
 * of such a key that its roles refuse are kept as evidence. */
int cairn__member_known(MDB_txn *txn, cairn_store_t *s, const uint8_t *key, bool *known);
/* Check an entry written by an invite key (its ops parsed in ops[0..nops)). */
int cairn__member_check_invite_use(MDB_txn *txn, cairn_store_t *s, const cairn_entry_t *e,
                                   const cairn_op_t *ops, size_t nops, cairn_error_t *err);

/* ---- records ---- */

/* A field as held in memory while a record is merged. */
typedef struct rec_field {
  const char *name;
  uint32_t name_len;
  const uint8_t *value;
  size_t value_len;
  cairn_stamp_t stamp;
} rec_field_t;

/* A set of stamps with one per author (the greatest merged in). */
typedef struct stamp_set {
  cairn_stamp_t *v;
  size_t n, cap;
} stamp_set_t;

/* A del kept in a record's deletion state: its stamp, and whether it is one
 * written before dels named what they saw (ordered by stamp). */
typedef struct rec_del {
  cairn_stamp_t st;
  bool legacy;
} rec_del_t;

/*
 * The deletion state of a record that has had a del (docs/design.md, "Merge";
 * merge.c updates it, record.c stores it): joins of what the ops merged so far
 * saw, and the dels and latest puts that nothing saw yet. Each part depends only
 * on the set of ops merged, so it is kept incrementally.
 */
typedef struct rec_sum {
  bool on;               /* the record has had a del: the rest is kept */
  rec_del_t *dels;       /* the dels no put saw */
  size_t ndels, capdels;
  stamp_set_t seen;      /* per author, the greatest stamp a del's seen names */
  stamp_set_t dseen;     /* per author, the greatest stamp a put's dseen names */
  stamp_set_t puts;      /* per author, its latest put, while no del saw it */
  cairn_stamp_t legacy;  /* the greatest del without seen (zero: none) */
  cairn_stamp_t top_put; /* the greatest put (zero: none) */
} rec_sum_t;

/* A record decoded for update; owns `buf` (a copy of the stored bytes). A zeroed
 * rec_t is ready for load; loading again reuses its buffers. */
typedef struct rec {
  bool exists;
  bool deleted;
  cairn_stamp_t del; /* the greatest del merged (zero: none) */
  rec_field_t *f;
  size_t n, cap;
  uint8_t *buf;
  size_t buf_cap;
  rec_sum_t sum;     /* the deletion state, when sum.on */
} rec_t;

/* A growable byte buffer. */
typedef struct bbuf {
  uint8_t *p;
  size_t len, cap;
} bbuf_t;

/* Room for n items of size bytes in the array *p of capacity *cap (doubled as
 * needed; record.c). 0 or CAIRN_ENOMEM. */
int cairn__grow(void **p, size_t *cap, size_t n, size_t size);

/* Make room for n more bytes; 0 or CAIRN_ENOMEM. */
int cairn__bbuf_reserve(bbuf_t *b, size_t n);

/*
 * What one write transaction keeps while it applies entries: a cursor on each
 * database it writes for every entry (opened on first use), so that a key next to
 * the previous one is found from the cursor's leaf page instead of a descent from
 * the root (LMDB's mdb_cursor_set does so when the key falls inside the page), and
 * buffers reused from one record to the next. Close it (cairn__wtxn_close) before
 * the transaction ends.
 */
typedef struct wtxn {
  MDB_txn *txn;
  cairn_store_t *s;
  MDB_cursor *cur[DB_COUNT];
  rec_t rec;  /* the record being merged */
  bbuf_t enc; /* a record being encoded */
} wtxn_t;

void cairn__wtxn_init(wtxn_t *w, MDB_txn *txn, cairn_store_t *s);
/* The cursor on database db, opened on first use. */
int cairn__wtxn_cursor(wtxn_t *w, int db, MDB_cursor **out);
/* Close the cursors (they are reopened on use): before writes made without them
 * that delete rows (purge), and before the transaction ends. */
void cairn__wtxn_drop_cursors(wtxn_t *w);
/* Close the cursors and free the buffers. */
void cairn__wtxn_close(wtxn_t *w);
/* mdb_put and mdb_get through the cursor on db. LMDB return codes. */
int cairn__wtxn_put(wtxn_t *w, int db, MDB_val *k, MDB_val *v, unsigned flags);
int cairn__wtxn_get(wtxn_t *w, int db, MDB_val *k, MDB_val *v);

/* Load a record (w may be NULL). */
int cairn__rec_load(MDB_txn *txn, cairn_store_t *s, wtxn_t *w, const keybuf_t *k, rec_t *r);
int cairn__rec_save(MDB_txn *txn, cairn_store_t *s, wtxn_t *w, const keybuf_t *k,
                    const rec_t *r);
void cairn__rec_free(rec_t *r);
rec_field_t *cairn__rec_find(rec_t *r, const char *name, size_t len);
int cairn__rec_set(rec_t *r, const rec_field_t *f);
void cairn__rec_remove(rec_t *r, rec_field_t *f);
/* Encode r into b, as `records` holds it (replacing b's contents). */
int cairn__rec_encode(const rec_t *r, bbuf_t *b);
/* Decode stored record bytes into a public view. */
int cairn__rec_view(const MDB_val *key, const MDB_val *val, cairn_record_t *out);

/* ---- merge (merge.c) ---- */

/* What the merge needs from the batch being applied. */
typedef struct merge_env {
  /* whether the write stamped b has arrived (its author's head HLC >= b's) */
  bool (*arrived)(void *ud, const cairn_stamp_t *b);
  void *ud;
  /* false while `pending` is known to be empty: lookups are skipped */
  bool pending_any;
  /* false while `conflicts` is known to be empty: lookups are skipped */
  bool conflicts_any;
  wtxn_t *w; /* the transaction's cursors and buffers */
} merge_env_t;

/* Add the history row of e's op (stamped st) without merging it: an entry kept
 * as evidence shows in the record's history. */
int cairn__merge_history(const cairn_entry_t *e, const cairn_op_t *op, const cairn_stamp_t *st,
                         merge_env_t *env);
/* Merge one op of entry e (stamped st) into records; op is not redacted. */
int cairn__merge_op(MDB_txn *txn, cairn_store_t *s, const cairn_entry_t *e,
                    const cairn_op_t *op, const cairn_stamp_t *st, merge_env_t *env);

/*
 * What a change writes beside an op on (type, id)
 * (docs/design.md, "Merge"): for a del (dels false), its seen: each author's
 * greatest stamp on the record (from its history rows); for a put (dels true),
 * its dseen: each author's greatest stamp of a del of the record that no put saw
 * (from the record's deletion state; none when there is no such del).
 * At most CAIRN_SEEN_MAX (the greatest), authors ascending, in out[0..*n).
 */
int cairn__record_seen(MDB_txn *txn, cairn_store_t *s, const char *type, const char *id,
                       bool dels, cairn_stamp_t out[CAIRN_SEEN_MAX], uint32_t *n);

/* The current heads of a field: the winner first, then (if all, or if every head
 * is nil: a field people see as absent) the conflicting heads. The stamps are
 * appended to *out (malloc'd, caller frees) and *n. */
int cairn__field_heads(MDB_txn *txn, cairn_store_t *s, const char *type, const char *id,
                       const char *field, bool all, cairn_stamp_t **out, size_t *n);

/* Delete every row of dbi whose key starts with prefix (purge.c). */
int cairn__rows_del_prefix(MDB_txn *txn, MDB_dbi dbi, const keybuf_t *prefix);

/* Erase a record, its conflicts, pending rows and history rows; redact its ops in
 * every logged entry; keep the purge marker. */
int cairn__purge_record(MDB_txn *txn, cairn_store_t *s, const cairn_op_t *op,
                        const cairn_stamp_t *st);
/* Whether (type, id) was purged. */
int cairn__is_purged(MDB_txn *txn, cairn_store_t *s, const char *type, size_t tlen,
                     const char *id, size_t ilen, bool *purged);
/* Redact, in the logged entry of author at seq, every op on a purged record. */
int cairn__entry_redact_purged(MDB_txn *txn, cairn_store_t *s, const uint8_t *author,
                               uint64_t seq);
/* Rewrite the store file without free pages (after a purge). */
int cairn__store_compact(cairn_store_t *s);

/* ---- indexes (index.c) ---- */

#define CAIRN__SORTKEY_MAX 12
/* The sort key of text in the form of a date (4 bytes), a datetime (12) or a
 * period (4): its length, or 0 when the text is not of that form (index.h says
 * the order). */
size_t cairn__sortkey_date(const char *s, size_t n, uint8_t out[CAIRN__SORTKEY_MAX]);
size_t cairn__sortkey_datetime(const char *s, size_t n, uint8_t out[CAIRN__SORTKEY_MAX]);
size_t cairn__sortkey_period(const char *s, size_t n, uint8_t out[CAIRN__SORTKEY_MAX]);

#define IX_PER_TYPE 2 /* most indexes on one type */

/* The index rows of one record. */
typedef struct ixkeys {
  keybuf_t k[IX_PER_TYPE];
  size_t n;
} ixkeys_t;

/* The rows of the record whose key (type \0 id) is rk and whose state is r:
 * none when it does not exist or is deleted. */
void cairn__index_keys(const keybuf_t *rk, const rec_t *r, ixkeys_t *out);
/* Replace a record's rows before by after (rows in both stay); w may be NULL. */
int cairn__index_update(MDB_txn *txn, cairn_store_t *s, wtxn_t *w, const ixkeys_t *before,
                        const ixkeys_t *after);
/* Empty `index` and build it from the records (a store of format 1). */
int cairn__index_build(MDB_txn *txn, cairn_store_t *s);

/* ---- schema (schema.c, validate.c) ---- */

struct cairn_schema;
/* Read the schema inside txn (schema.h, cairn_schema_load). */
int cairn__schema_load(MDB_txn *txn, cairn_store_t *s, struct cairn_schema **out);
/* The store's schema as of txn, shared (a new reference: cairn_schema_free). */
int cairn__schema_cached(MDB_txn *txn, cairn_store_t *s, struct cairn_schema **out);
/* A `_schema` record merged in txn: cached schemas are stale from its commit. */
int cairn__schema_touch(MDB_txn *txn, cairn_store_t *s);
/* Whether the change being checked writes record (type, id) itself (ilen bytes
 * of id): a reference to it is then good, as the record exists once the change
 * is applied. */
typedef bool (*cairn__made_fn)(void *ud, const char *type, const char *id, size_t ilen);
/* Check a local put of fields names[i] = values[i] on (type, id) against the
 * schema: 0 or CAIRN_ESCHEMA with the reason in err (or a store error). made
 * (may be NULL) says which records the same change writes. */
int cairn__schema_check_put(MDB_txn *txn, cairn_store_t *s, const struct cairn_schema *sc,
                            const char *type, const char *id, const char *const *names,
                            const uint8_t *const *values, const size_t *lens, size_t n,
                            cairn__made_fn made, void *made_ud, cairn_error_t *err);

/* ---- apply (apply.c) ---- */

/*
 * An entry decoded, its ops parsed and its hashes computed ahead of the
 * transaction that applies it (apply.h, cairn_prepare).
 */
typedef struct prep {
  cairn_entry_t e;
  uint8_t hash[CAIRN_HASH_BYTES]; /* cairn_entry_hash(&e) */
  bool ops_ok;                    /* the ops hash to the signed ops_root */
  bool sig_checked;               /* the signature was verified ahead: sig_ok */
  bool sig_ok;
  bool first_hop;                 /* from the key that pushes it: its roles are
                                     checked strictly, never kept as evidence */
  size_t op0;                     /* its first op in the batch's ops */
} prep_t;

struct cairn_prepared {
  prep_t *p;
  size_t cap;
  size_t n;     /* entries asked for */
  size_t limit; /* entries [0, limit) are decoded; entry `limit` failed (rc) */
  int rc;       /* 0, or the decode error of entry `limit` (described in err) */
  cairn_error_t err;
  cairn_op_t *ops;
  size_t nops, ops_cap;
  bool *newest; /* each author's newest entry over [0, limit) (cap entries) */
};

/* Apply an entry signed here inside txn (change.c), checked as a received one. */
int cairn__apply_local(MDB_txn *txn, cairn_store_t *s, const uint8_t *entry, size_t len,
                       bool *purged_any, cairn_error_t *err);

/* ---- transactions (store.c) ---- */

/* Begin a transaction (flags: 0 or MDB_RDONLY). */
int cairn__txn_begin(cairn_store_t *s, unsigned flags, MDB_txn **txn);
/* Grow the map (no transaction may be open). */
int cairn__store_grow(cairn_store_t *s);

/*
 * Run fn in a write transaction and commit it. When the map is full (fn or the
 * commit returns CAIRN_EMAPFULL) the transaction is aborted, the map grown and fn
 * run again in a new one, so fn must start from scratch each time. After a
 * failure the store's clock and network are as they were before the call.
 */
typedef int (*cairn__txn_fn)(MDB_txn *txn, void *ud);
int cairn__txn_write(cairn_store_t *s, cairn__txn_fn fn, void *ud);

/* ---- read walks (query.c) ---- */

/* A read transaction and a cursor on one database. */
typedef struct walk {
  MDB_txn *txn;
  MDB_cursor *cur;
} walk_t;

/* Begin a walk over database db (0 or a CAIRN_E* code); end it with
 * cairn__walk_end, which closes the cursor and the transaction. */
int cairn__walk_begin(cairn_store_t *s, int db, walk_t *w);
void cairn__walk_end(walk_t *w);

/* The op on record (type, id) of author's logged entry at seq, decoded into *e
 * and *op (views into the map, valid until the next write in txn); *found false
 * when the entry holds none (it was redacted). */
int cairn__logged_op(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, uint64_t seq,
                     const char *type, size_t tl, const char *id, size_t il, cairn_entry_t *e,
                     cairn_op_t *op, bool *found);
/* Whether author's logged entry at seq is held as evidence only (`refused`). */
int cairn__entry_refused_in(MDB_txn *txn, cairn_store_t *s, const uint8_t *author,
                            uint64_t seq, bool *refused);
/* A field value that is nil: an absent field wherever people look. */
bool cairn__value_nil(const uint8_t *value, size_t len);
/* Field `name` of a record view, nil values included: 1 with it in *f, or 0. */
int cairn__record_field_any(const cairn_record_t *r, const char *name, size_t len,
                            cairn_record_field_t *f);

/* ---- files beside the store (store.c) ---- */

/* Write parts[0..n) (each as a 4-byte big-endian length and its bytes) to
 * DIR/name durably (a temporary file, fsync, rename). 0, CAIRN_EIO, CAIRN_ENOMEM. */
int cairn__side_file_write(cairn_store_t *s, const char *name, const uint8_t *const *parts,
                           const size_t *lens, size_t n);
void cairn__side_file_remove(cairn_store_t *s, const char *name);
/* Append one entry (4-byte big-endian length, bytes) to DIR/name, fsync'd. */
int cairn__side_file_append(cairn_store_t *s, const char *name, const uint8_t *entry,
                            size_t len);
/* Open DIR/name for reading: NULL with errno set (ENOENT: there is none). */
FILE *cairn__side_file_open(cairn_store_t *s, const char *name);

/* Entries taken back and not yet signed again: kept on disk until they are. */
#define TAKEN_FILE "taken-back.entries"
#define FORKED_FILE "forked.entries" /* entries set aside: others' dropped for the
                                        relay's, own changes this key may not sign */

/* ---- settings (sync_store.c) ---- */

/* Write setting `name` inside txn (cairn_store_setting_set's row). */
int cairn__setting_put(MDB_txn *txn, cairn_store_t *s, const char *name, const void *value,
                       size_t len);

#endif
