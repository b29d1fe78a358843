/*
 * entry.h — signed change-log entries: encode, sign, decode, verify.
 *
 * An entry is one atomic change by one author (docs/design.md, "Entry"):
 *
 *   header = [1, network(bin32), author(bin32), seq(uint >= 1), prev(bin32|nil),
 *             hlc(uint64), ops_root(bin32), op_count(uint)]
 *   entry  = [header_bytes(bin), signature(bin64), ops(array)]
 *
 *   op       = [1, type(str), id(str), {field(str): [value, base]}(, dseen)]  put
 *            | [2, type(str), id(str)(, seen)]                               del
 *            | [3, type(str), id(str)]                                       purge
 *            | [0, op_hash(bin32)]                                           redaction
 *   base     = [stamp...]   the stamps of the values the author saw in that field
 *   seen     = [stamp...]   a del's: for each author of the record as the
 *                           deleter's replica held it, its greatest stamp there
 *   dseen    = [stamp...]   a put's (only when a del of the record no put saw is
 *                           held there, never empty): for each author of such a
 *                           del, its greatest one. A put with dseen may have no
 *                           fields (it keeps the record). seen and dseen list at
 *                           most CAIRN_SEEN_MAX stamps, authors strictly ascending.
 *   stamp    = [hlc(uint64), author(bin32)]
 *   op_hash  = BLAKE2b-256(op bytes)
 *   ops_root = BLAKE2b-256(op_hash_1 || ... || op_hash_n)
 *   hash     = BLAKE2b-256(header_bytes || signature)   (the next entry's prev)
 *
 * A decoded entry (cairn_entry_t) is a set of views into the caller's buffer:
 * valid as long as that buffer is. Nothing is ever re-encoded: the signature
 * covers the exact header bytes.
 *
 * Thread safety: all functions are reentrant; cairn_core_init() must have run.
 */
#ifndef CAIRN_ENTRY_H
#define CAIRN_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define CAIRN_KEY_BYTES 32       /* ed25519 public key: the author id */
#define CAIRN_SECRET_BYTES 64    /* ed25519 secret key (libsodium layout) */
#define CAIRN_SIG_BYTES 64       /* ed25519 signature */
#define CAIRN_HASH_BYTES 32      /* BLAKE2b-256 */
#define CAIRN_EPOCH_BYTES 16     /* a store's epoch: random, fixed at first use */
#define CAIRN_ENTRY_VERSION 1
#define CAIRN_ENTRY_MAX_DEFAULT (1u << 20) /* default largest entry, bytes */

/* Limits on names, so that every LMDB key built from them stays under 511 bytes. */
#define CAIRN_TYPE_MAX 64
#define CAIRN_ID_MAX 128
#define CAIRN_FIELD_MAX 64
#define CAIRN_VALUE_DEPTH_MAX 16
#define CAIRN_BASE_MAX 64 /* stamps in one field's base */
#define CAIRN_SEEN_MAX 64 /* stamps in a del's seen or a put's dseen */

typedef enum {
  CAIRN_OP_REDACTED = 0,
  CAIRN_OP_PUT = 1,
  CAIRN_OP_DEL = 2,
  CAIRN_OP_PURGE = 3
} cairn_op_kind_t;

/* A stamp orders field writes: by hlc, then by author bytes. */
typedef struct cairn_stamp {
  uint64_t hlc;
  uint8_t author[CAIRN_KEY_BYTES];
} cairn_stamp_t;

/* A decoded entry: views into the buffer given to cairn_entry_decode. */
typedef struct cairn_entry {
  const uint8_t *bytes; /* the whole entry */
  size_t len;
  const uint8_t *header; /* the signed header bytes */
  size_t header_len;
  const uint8_t *sig;
  const uint8_t *network;
  const uint8_t *author;
  const uint8_t *prev; /* NULL at seq 1 */
  const uint8_t *ops_root;
  uint64_t seq;
  uint64_t hlc;
  uint32_t op_count;
  const uint8_t *ops; /* the ops array, header included */
  size_t ops_len;
} cairn_entry_t;

/* One op of an entry: views into the entry's buffer. */
typedef struct cairn_op {
  cairn_op_kind_t kind;
  const uint8_t *raw; /* the op's bytes, as hashed */
  size_t raw_len;
  const char *type; /* put, del, purge */
  uint32_t type_len;
  const char *id;
  uint32_t id_len;
  const uint8_t *fields; /* put: the fields map, header included */
  size_t fields_len;
  uint32_t nfields;      /* 0 only for a put with dseen (it keeps the record) */
  const uint8_t *redacted_hash; /* redaction: the op hash it stands for */
  const uint8_t *seen;   /* del: its seen; put: its dseen (header included);
                            NULL when the op has none (read with cairn_op_seen) */
  size_t seen_len;
  uint32_t nseen;
} cairn_op_t;

/* One field of a put: name, value bytes, base stamps (views). */
typedef struct cairn_field {
  const char *name;
  uint32_t name_len;
  const uint8_t *value; /* one MessagePack object */
  size_t value_len;
  const uint8_t *base; /* the base array, header included */
  size_t base_len;
  uint32_t nbase;
} cairn_field_t;

/* Iterators over a decoded entry's ops and a put's fields. */
typedef struct cairn_op_iter {
  const uint8_t *p, *end;
  uint32_t left;
} cairn_op_iter_t;

typedef struct cairn_field_iter {
  const uint8_t *p, *end;
  uint32_t left;
} cairn_field_iter_t;

/* Initialise libsodium; call once before anything else. 0 or CAIRN_EIO. */
CAIRN_EXTERN int cairn_core_init(void);

/*
 * Decode and structurally validate an entry of len bytes (at most max_len). Checks
 * shapes, sizes and every op's form; does NOT check the signature, ops_root or the
 * chain. On failure fills err with the reason (and author/seq when known).
 */
CAIRN_EXTERN int cairn_entry_decode(const void *buf, size_t len, size_t max_len,
                                    cairn_entry_t *e, cairn_error_t *err) CAIRN_WUR;

/* Check that the ops (and redactions) hash to ops_root. 0 or CAIRN_EBADHASH. */
CAIRN_EXTERN int cairn_entry_check_ops(const cairn_entry_t *e) CAIRN_WUR;

/* Verify the signature over the header bytes. 0 or CAIRN_EBADSIG. */
CAIRN_EXTERN int cairn_entry_verify_sig(const cairn_entry_t *e) CAIRN_WUR;

/* The entry's hash: BLAKE2b-256(header_bytes || signature). */
CAIRN_EXTERN void cairn_entry_hash(const cairn_entry_t *e, uint8_t out[CAIRN_HASH_BYTES]);

/*
 * Build and sign an entry. ops is a packed MessagePack array of well-formed ops
 * (n >= 1). prev is NULL at seq 1. On success *out is a malloc'd buffer of
 * *out_len bytes that the caller frees.
 */
CAIRN_EXTERN int cairn_entry_build(const uint8_t sk[CAIRN_SECRET_BYTES],
                                   const uint8_t network[CAIRN_KEY_BYTES], uint64_t seq,
                                   const uint8_t *prev, uint64_t hlc, const uint8_t *ops,
                                   size_t ops_len, uint8_t **out, size_t *out_len) CAIRN_WUR;

/*
 * Re-assemble an entry with a new ops array (same header and signature), used to
 * redact ops. The new ops must hash to the same ops_root (checked). *out is
 * malloc'd.
 */
int cairn__entry_with_ops(const cairn_entry_t *e, const uint8_t *ops, size_t ops_len,
                          uint8_t **out, size_t *out_len);

/* The canonical encoding (docs/protocol.md, "Entry"): every uint in its shortest
 * form, every hash and key a bin 8, the entry [header, signature, ops] with bin 8
 * headers for both. cairn_entry_build writes only this; a receiver rebuilds it
 * from an entry's compact form (compact.h). */
#define CAIRN_HEADER_MAX 161 /* 1 + 1 + 34 + 34 + 9 + 34 + 9 + 34 + 5 */

/* Write the canonical header of these fields into out; returns its length. prev
 * is NULL at seq 1. */
size_t cairn__entry_header(uint8_t out[CAIRN_HEADER_MAX], const uint8_t *network,
                           const uint8_t *author, uint64_t seq, const uint8_t *prev,
                           uint64_t hlc, const uint8_t *ops_root, uint32_t op_count);

/* The size of a canonical entry of a header_len-byte header and ops_len bytes of
 * ops, and writing one into dst (that many bytes). */
size_t cairn__entry_size(size_t header_len, size_t ops_len);
void cairn__entry_write(uint8_t *dst, const uint8_t *header, size_t header_len,
                        const uint8_t *sig, const uint8_t *ops, size_t ops_len);

/* An entry's hash from its header bytes and signature: BLAKE2b-256(header ||
 * signature), what cairn_entry_hash gives and the next entry's prev. */
void cairn__entry_hash_of(const uint8_t *header, size_t header_len, const uint8_t *sig,
                          uint8_t out[CAIRN_HASH_BYTES]);

/* Whether a decoded entry's bytes are exactly the canonical encoding of its
 * fields (1) or not (0). */
int cairn__entry_canonical(const cairn_entry_t *e);

/* Decode e->header (header_len bytes) into e's header fields. 0, CAIRN_EVERSION
 * or CAIRN_EMALFORMED. */
int cairn__entry_decode_header(cairn_entry_t *e);

/* Parse the ops array at ops (avail bytes at most): its number of ops, its
 * ops_root and how many bytes it takes. 0 or CAIRN_EMALFORMED. */
int cairn__ops_root(const uint8_t *ops, size_t avail, size_t *used, uint32_t *count,
                    uint8_t out[CAIRN_HASH_BYTES]);

/* BLAKE2b-256 of one op's bytes. */
void cairn__op_hash(const uint8_t *op, size_t len, uint8_t out[CAIRN_HASH_BYTES]);

/* Iterate a decoded (hence validated) entry's ops and a put's fields. next
 * returns 1 with the item, 0 at the end. */
CAIRN_EXTERN void cairn_op_iter_init(const cairn_entry_t *e, cairn_op_iter_t *it);
CAIRN_EXTERN int cairn_op_next(cairn_op_iter_t *it, cairn_op_t *op);
CAIRN_EXTERN void cairn_field_iter_init(const cairn_op_t *op, cairn_field_iter_t *it);
CAIRN_EXTERN int cairn_field_next(cairn_field_iter_t *it, cairn_field_t *f);

/* Read base stamp i (0-based, < f->nbase) of a field. */
CAIRN_EXTERN int cairn_field_base(const cairn_field_t *f, uint32_t i, cairn_stamp_t *out);

/* Copy the stamps of a decoded op's seen (a del) or dseen (a put) into out, in
 * their order (authors ascending); returns how many (op->nseen; 0 when op->seen
 * is NULL: a del written before seen existed, or a put with no dseen). */
CAIRN_EXTERN uint32_t cairn_op_seen(const cairn_op_t *op, cairn_stamp_t out[CAIRN_SEEN_MAX]);

/* Parse one op (used by the iterator and by decode); 0 or CAIRN_EMALFORMED. */
int cairn__op_parse(const uint8_t *p, size_t len, size_t *used, cairn_op_t *op);

/* Compare stamps: <0, 0, >0. */
CAIRN_EXTERN int cairn_stamp_cmp(const cairn_stamp_t *a, const cairn_stamp_t *b);

/* Lowercase hex of n bytes into out (2n+1 bytes); returns out. */
CAIRN_EXTERN char *cairn_hex(const uint8_t *bytes, size_t n, char *out);
/* Parse exactly 2n lowercase or uppercase hex chars; 0 or CAIRN_EINVAL. */
CAIRN_EXTERN int cairn_unhex(const char *hex, uint8_t *out, size_t n);

/* Whether a name is an allowed record type, id or field name. */
int cairn__name_ok(const char *s, size_t len, size_t max);
int cairn__field_name_ok(const char *s, size_t len);

#endif
