/*
 * store.h — a replica: creating, opening and closing a store, and its identity
 * (store.c; docs/design.md, "Storage"; docs/storage.md).
 *
 * A store directory holds `key` (the device's ed25519 secret key, mode 0600),
 * `data.mdb` and `lock.mdb`: one LMDB environment holding one network's signed
 * logs and the records merged from them. What a store does is declared by concept
 * in the headers beside this one, each named after the file that implements it:
 * change.h (local changes), apply.h (received entries), query.h (reading),
 * member.h (membership rules), sync_store.h (what sync keeps), bundle.h (sync on
 * a file). client/cairn.h includes them all.
 *
 * Thread safety: open a given store directory once per process (an LMDB rule);
 * other processes may open it at the same time. A store handle is not
 * thread-safe: use it, and every change begun on it, from one thread at a time.
 *
 * Lifetimes: views handed to callbacks (records, entries, fields) point into
 * LMDB's map and are valid only until the callback returns; copy what you keep.
 */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"

typedef struct cairn_store cairn_store_t;

/* Options for create and open; a zeroed struct (or NULL) gives the defaults. */
typedef struct cairn_store_opts {
  size_t max_entry;     /* largest entry accepted, bytes; 0: CAIRN_ENTRY_MAX_DEFAULT */
  uint64_t max_skew_ms; /* how far ahead of our clock an entry's HLC may be; 0: 10 min */
  size_t map_size;      /* initial LMDB map size; 0: 64 MiB (it grows when full) */
  int no_sync;          /* 1: commits are not fsync'd (tests and benchmarks only) */
  int verify_all;       /* 1: verify every signature, not only each run's newest */
  int read_only;        /* 1: open for reading only (a store on a read-only disk, a
                           backup): every write fails with CAIRN_EREADONLY */
} cairn_store_opts_t;

/*
 * Create a store in dir: a new key pair written to dir/key with mode 0600, an
 * empty LMDB environment, and the device's member name.
 *
 * @param[in]  dir   created if absent (mode 0700); must not already hold a store.
 * @param[in]  name  the device's member name, 1-200 bytes.
 * @param[in]  opts  may be NULL for the defaults.
 * @param[out] out   on success the open store, to be closed with cairn_close().
 * @param[out] err   may be NULL; on error, the code and a message naming dir.
 * @return 0, CAIRN_EINVAL (name), CAIRN_EEXIST (dir already holds a key),
 *         CAIRN_EIO, CAIRN_ENOSPC, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_create(const char *dir, const char *name, const cairn_store_opts_t *opts,
                              cairn_store_t **out, cairn_error_t *err) CAIRN_WUR;

/*
 * Open the store in dir, made earlier by cairn_create() or `cairn init`.
 *
 * @param[in]  dir   the store directory.
 * @param[in]  opts  may be NULL for the defaults.
 * @param[out] out   on success the open store, to be closed with cairn_close();
 *                   untouched on error.
 * @param[out] err   may be NULL; on error, the code and a message naming dir.
 * @return 0, or
 *   - CAIRN_ENOENT    dir holds no store;
 *   - CAIRN_EKEYPERM  the key file is readable or writable by group or others
 *                     (the message gives the chmod that fixes it);
 *   - CAIRN_EVERSION, CAIRN_ECORRUPT  a store this library cannot read;
 *   - CAIRN_EBUSY, CAIRN_EIO, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_open(const char *dir, const cairn_store_opts_t *opts, cairn_store_t **out,
                            cairn_error_t *err) CAIRN_WUR;

/*
 * Close a store (NULL is fine) and wipe its secret key from memory. Every change
 * begun on it must be committed or aborted first, and any live sync on it
 * stopped. Views from it are invalid afterwards.
 */
CAIRN_EXTERN void cairn_close(cairn_store_t *s);

/* This device's public key (the author id), CAIRN_KEY_BYTES long, valid until
 * cairn_close(). */
CAIRN_EXTERN const uint8_t *cairn_store_key(const cairn_store_t *s);

/*
 * A new device key, in two steps (cairn_rekey in cairn.h drives them; a store
 * copied to a second machine must not sign with the same key on both).
 * cairn_store_key_next makes a fresh key pair and keeps its secret in
 * DIR/key.next (mode 0600, fsync'd) beside the current key; called again, it
 * returns the key already waiting. cairn_store_key_switch makes the waiting key
 * the store's own: DIR/key becomes DIR/key.old, DIR/key.next becomes DIR/key
 * (renames, then the directory fsync'd), and the store signs with it from then on
 * (cairn_store_key() returns it). cairn_store_key_waiting says whether a next key
 * waits.
 * @param[out] pk  the next key's public key.
 * @return key_next and key_switch: 0, CAIRN_EREADONLY, CAIRN_ENOENT (switch: no
 *         key waits), CAIRN_EIO, CAIRN_ENOMEM; key_waiting: 1 (pk filled), 0,
 *         or CAIRN_EIO, CAIRN_EKEYPERM, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_store_key_next(cairn_store_t *s, uint8_t pk[CAIRN_KEY_BYTES],
                                      cairn_error_t *err) CAIRN_WUR;
CAIRN_EXTERN int cairn_store_key_switch(cairn_store_t *s, cairn_error_t *err) CAIRN_WUR;
CAIRN_EXTERN int cairn_store_key_waiting(cairn_store_t *s, uint8_t pk[CAIRN_KEY_BYTES]) CAIRN_WUR;
/* Give up the waiting key (another copy of this store signs with it already):
 * DIR/key.next is removed. @return 0, CAIRN_EREADONLY, CAIRN_EIO. */
CAIRN_EXTERN int cairn_store_key_discard(cairn_store_t *s) CAIRN_WUR;

/* The device's member name given at create time (never NULL), valid until
 * cairn_close(). */
CAIRN_EXTERN const char *cairn_store_name(const cairn_store_t *s);

/* Copy the network id into out: 0, or CAIRN_ENONETWORK before a network is
 * created (cairn_store_network_create) or its genesis applied. */
CAIRN_EXTERN int cairn_store_network(cairn_store_t *s, uint8_t out[CAIRN_KEY_BYTES]);

/* The device's ed25519 secret key (CAIRN_SECRET_BYTES, libsodium's layout), valid
 * until cairn_close(): what proves this device in the relay handshake. Do not
 * copy it anywhere else. */
CAIRN_EXTERN const uint8_t *cairn_store_secret(const cairn_store_t *s);

/* The wall clock in milliseconds since the Unix epoch: what HLCs, invite expiry
 * and sync times are read from. Any thread. */
CAIRN_EXTERN uint64_t cairn_now_ms(void);

#endif
