/*
 * cairn_bytes.c — growable byte and text buffers for tests (see cairn_test.h):
 * byte strings written in hex for test vectors and hand-made entries, and the
 * text a store's state is serialized to. No cmocka here.
 */
#define CAIRN_TEST_NO_CMOCKA
#include "cairn_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bytes ---- */

/* n > 0 more bytes at the end of b (not yet written), or NULL when out of memory. */
static uint8_t *extend(cairn_test_bytes_t *b, size_t n) {
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n)
      cap *= 2;
    uint8_t *q = realloc(b->p, cap);
    if (q == NULL)
      return NULL;
    b->p = q;
    b->cap = cap;
  }
  b->len += n;
  return b->p + b->len - n;
}

int cairn_test_bytes_put(cairn_test_bytes_t *b, const void *p, size_t n) {
  uint8_t *q = n > 0 ? extend(b, n) : NULL;
  if (n > 0 && q == NULL)
    return CAIRN_ENOMEM;
  if (n > 0)
    memcpy(q, p, n);
  return 0;
}

int cairn_test_bytes_fill(cairn_test_bytes_t *b, uint8_t c, size_t n) {
  uint8_t *q = n > 0 ? extend(b, n) : NULL;
  if (n > 0 && q == NULL)
    return CAIRN_ENOMEM;
  if (n > 0)
    memset(q, c, n);
  return 0;
}

int cairn_test_bytes_hex(cairn_test_bytes_t *b, const char *hex) {
  for (const char *q = hex; *q != '\0';) {
    uint8_t c;
    if (*q == ' ' || *q == '\n') {
      q++;
      continue;
    }
    char pair[3] = {q[0], q[1], '\0'}; /* q[1] is the NUL after a lone digit: refused */
    if (cairn_unhex(pair, &c, 1) != 0)
      return CAIRN_EINVAL;
    int rc = cairn_test_bytes_put(b, &c, 1);
    if (rc != 0)
      return rc;
    q += 2;
  }
  return 0;
}

void cairn_test_bytes_free(cairn_test_bytes_t *b) {
  free(b->p);
  memset(b, 0, sizeof *b);
}

/* ---- text ---- */

void cairn_test_text_printf(cairn_test_text_t *t, const char *fmt, ...) {
  va_list ap;
  while (t->err == 0) {
    size_t room = t->cap - t->n;
    va_start(ap, fmt);
    int k = vsnprintf(t->p ? t->p + t->n : NULL, room, fmt, ap);
    va_end(ap);
    if (k < 0) {
      t->err = CAIRN_EINVAL;
      return;
    }
    if ((size_t)k < room) {
      t->n += (size_t)k;
      return;
    }
    size_t cap = t->cap ? t->cap * 2 : 4096;
    while (cap - t->n <= (size_t)k)
      cap *= 2;
    char *q = realloc(t->p, cap);
    if (q == NULL) {
      t->err = CAIRN_ENOMEM;
      return;
    }
    t->p = q;
    t->cap = cap;
  }
}

void cairn_test_text_hex(cairn_test_text_t *t, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    cairn_test_text_printf(t, "%02x", p[i]);
}

void cairn_test_text_reset(cairn_test_text_t *t) {
  t->n = 0;
  t->err = 0;
  if (t->p != NULL)
    t->p[0] = '\0';
}

void cairn_test_text_free(cairn_test_text_t *t) {
  free(t->p);
  memset(t, 0, sizeof *t);
}
