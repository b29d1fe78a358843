/*
 * bytes.h — byte buffers and big-endian integers, as every cairn format writes
 * them: LMDB keys, bundle and frame lengths, sync cursors. Part of core's
 * contract, used by protocol/ and client/ too. Header only; any thread.
 */
#ifndef CAIRN_BYTES_H
#define CAIRN_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Bytes borrowed from someone else: one entry, one frame. */
typedef struct cairn_buf {
  const uint8_t *data;
  size_t len;
} cairn_buf_t;

static inline void cairn_put_be32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

static inline uint32_t cairn_get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void cairn_put_be64(uint8_t *p, uint64_t v) {
  cairn_put_be32(p, (uint32_t)(v >> 32));
  cairn_put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t cairn_get_be64(const uint8_t *p) {
  return (uint64_t)cairn_get_be32(p) << 32 | cairn_get_be32(p + 4);
}

/* qsort for arrays that may be empty, and then NULL (qsort's base must not be
 * NULL, even for no elements). */
static inline void cairn_sort(void *base, size_t n, size_t size,
                              int (*cmp)(const void *, const void *)) {
  if (n > 1)
    qsort(base, n, size, cmp);
}

#endif
