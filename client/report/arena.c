/*
 * arena.c — memory handed out from blocks and freed all at once
 * (report_internal.h): a report's record copies and its tables' cells hold
 * hundreds of thousands of small pieces, and an allocation and a free for
 * each was much of a report's time.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "report_internal.h"

typedef struct block {
  struct block *next;
  size_t used, cap;
  max_align_t data[];
} block_t;

void *cairn__arena_alloc(void **arena, size_t n, size_t align, size_t size) {
  block_t *b = *arena;
  size_t at = b != NULL ? (b->used + align - 1) / align * align : 0;
  if (b == NULL || at > b->cap || b->cap - at < n) {
    size_t cap = n > size ? n : size;
    block_t *nb = cap <= SIZE_MAX - sizeof *nb ? malloc(sizeof *nb + cap) : NULL;
    if (nb == NULL)
      return NULL;
    nb->next = b;
    nb->used = 0;
    nb->cap = cap;
    *arena = b = nb;
    at = 0;
  }
  b->used = at + n;
  return (uint8_t *)b->data + at;
}

void cairn__arena_free(void *arena) {
  for (block_t *b = arena, *next; b != NULL; b = next) {
    next = b->next;
    free(b);
  }
}
