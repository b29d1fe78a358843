/*
 * mpread.h — a bounded cursor reader for MessagePack: part of core's contract,
 * used by protocol/ (messages) and client/ (values) for every untrusted byte.
 *
 * msgpack-c's object unpacker trusts the counts it reads (an array header that
 * claims 4 billion elements makes it allocate ~96 GB), so untrusted bytes are
 * decoded here instead: every read checks its length against the bytes left,
 * nothing is allocated, and strings and binaries are returned as views into the
 * buffer. msgpack-c is used for packing only.
 *
 * Every function returns 0 or CAIRN_EMALFORMED and advances the cursor only on
 * success. Reentrant; a cursor belongs to one thread at a time.
 */
#ifndef CAIRN_MPREAD_H
#define CAIRN_MPREAD_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Deepest nesting cairn_mpr_skip accepts. */
#define CAIRN_MP_MAX_DEPTH 32

typedef struct cairn_mpr {
  const uint8_t *p;
  const uint8_t *end;
} cairn_mpr_t;

typedef enum {
  CAIRN_MP_NIL,
  CAIRN_MP_BOOL,
  CAIRN_MP_UINT,
  CAIRN_MP_INT, /* negative */
  CAIRN_MP_FLOAT,
  CAIRN_MP_STR,
  CAIRN_MP_BIN,
  CAIRN_MP_ARRAY,
  CAIRN_MP_MAP,
  CAIRN_MP_EXT,
  CAIRN_MP_INVALID
} cairn_mp_type_t;

static inline void cairn_mpr_init(cairn_mpr_t *r, const void *buf, size_t len) {
  r->p = (const uint8_t *)buf;
  r->end = r->p + len;
}

static inline size_t cairn_mpr_left(const cairn_mpr_t *r) {
  return (size_t)(r->end - r->p);
}

/* Type of the next object, without consuming it; CAIRN_MP_INVALID at the end. */
CAIRN_EXTERN cairn_mp_type_t cairn_mpr_peek(const cairn_mpr_t *r);

/* Array/map header. The count is checked against the bytes left (every element
 * takes at least one byte, every map pair two). */
CAIRN_EXTERN int cairn_mpr_array(cairn_mpr_t *r, uint32_t *n);
CAIRN_EXTERN int cairn_mpr_map(cairn_mpr_t *r, uint32_t *n);

CAIRN_EXTERN int cairn_mpr_nil(cairn_mpr_t *r);
CAIRN_EXTERN int cairn_mpr_bool(cairn_mpr_t *r, int *v);
/* Any non-negative integer encoding. */
CAIRN_EXTERN int cairn_mpr_uint(cairn_mpr_t *r, uint64_t *v);
/* Any integer encoding that fits in int64_t. */
CAIRN_EXTERN int cairn_mpr_int(cairn_mpr_t *r, int64_t *v);
/* float 32 or float 64. */
CAIRN_EXTERN int cairn_mpr_float(cairn_mpr_t *r, double *v);
/* Views into the buffer; the string is not NUL-terminated. */
CAIRN_EXTERN int cairn_mpr_str(cairn_mpr_t *r, const char **s, uint32_t *len);
CAIRN_EXTERN int cairn_mpr_bin(cairn_mpr_t *r, const uint8_t **b, uint32_t *len);
/* A binary of exactly len bytes. */
CAIRN_EXTERN int cairn_mpr_bin_exact(cairn_mpr_t *r, const uint8_t **b, uint32_t len);
/* ext: type and view of its data. */
CAIRN_EXTERN int cairn_mpr_ext(cairn_mpr_t *r, int8_t *type, const uint8_t **b, uint32_t *len);

/* Skip one whole object, validating it; nesting deeper than max_depth fails. */
CAIRN_EXTERN int cairn_mpr_skip(cairn_mpr_t *r, int max_depth);

/* Check that buf holds exactly one well-formed object of nesting <= max_depth. */
CAIRN_EXTERN int cairn_mp_validate(const void *buf, size_t len, int max_depth);

#endif
