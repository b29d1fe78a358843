/*
 * out.h — how the HTML page is written (out.c), inside client/report only:
 * bytes gathered in a buffer and handed to the FILE a block at a time, and
 * numbers put in decimal as printf's "%.*f" puts them, without printf. A
 * meeting's page holds tens of thousands of table cells, chart coordinates
 * and tooltips; stdio's lock on every call and printf's exact conversion
 * were most of the time it took to write.
 */
#ifndef CAIRN_REPORT_OUT_H
#define CAIRN_REPORT_OUT_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define CAIRN__OUT_BUF ((size_t)1 << 15)

/* A FILE being written through a buffer. Not thread-safe; one per page. */
typedef struct cairn__out {
  FILE *f;
  size_t n;   /* bytes in buf */
  int failed; /* a write to f fell short */
  char buf[CAIRN__OUT_BUF];
} cairn__out_t;

/* Start writing to f (kept open; nothing is written until the buffer fills or
 * cairn__out_flush). */
void cairn__out_init(cairn__out_t *o, FILE *f);
/* Hand what the buffer holds to f. @return 0, or CAIRN_EIO when any write to
 * f so far failed (f's error flag included). */
int cairn__out_flush(cairn__out_t *o);

/* What cairn__out_mem does when the buffer lacks room for n bytes. */
void cairn__out_spill(cairn__out_t *o, const char *s, size_t n);

/* n bytes of s (inline: most are a few bytes, and a literal's length and copy
 * are then known where it is written). */
static inline void cairn__out_mem(cairn__out_t *o, const char *s, size_t n) {
  if (n > CAIRN__OUT_BUF - o->n) {
    cairn__out_spill(o, s, n);
    return;
  }
  memcpy(o->buf + o->n, s, n);
  o->n += n;
}

static inline void cairn__out_str(cairn__out_t *o, const char *s) {
  cairn__out_mem(o, s, strlen(s));
}

/* Room for n more bytes (n at most CAIRN__OUT_BUF) at the end of the buffer,
 * flushed first when it has less: write them there and add their count to
 * o->n. */
static inline char *cairn__out_room(cairn__out_t *o, size_t n) {
  if (CAIRN__OUT_BUF - o->n < n)
    (void)cairn__out_flush(o);
  return o->buf + o->n;
}

static inline void cairn__out_char(cairn__out_t *o, char c) {
  if (o->n == CAIRN__OUT_BUF)
    cairn__out_mem(o, &c, 1);
  else
    o->buf[o->n++] = c;
}

/* Text for HTML, as element content or inside a double- or single-quoted
 * attribute: &, <, >, " and ' escaped. */
void cairn__out_esc(cairn__out_t *o, const char *s);

/* s escaped as cairn__out_esc writes it, in a string of *len bytes (malloc'd,
 * NUL-terminated); NULL when out of memory. */
char *cairn__esc_dup(const char *s, size_t *len);

/* v as "%.*f" writes it with decimals places. */
void cairn__out_fixed(cairn__out_t *o, double v, int decimals);

/* An unsigned number in decimal, as "%zu" writes it. */
void cairn__out_size(cairn__out_t *o, size_t v);

/*
 * What snprintf(buf, cap, "%.*f", decimals, v) writes and returns, byte for
 * byte (the same rounding of the exact binary value, "-" before any negative
 * value or negative zero, truncated to cap - 1 bytes and NUL-terminated when
 * cap > 0), without printf for the common case: 0 to 9 decimals of a finite
 * value below 4e15 once scaled, not within rounding error of a half.
 */
int cairn__fixed(char *buf, size_t cap, double v, int decimals);

/* s appended to the len bytes a string in buf (cap bytes) holds, as a
 * snprintf of both would write them: what does not fit is dropped and buf
 * stays NUL-terminated (cap > 0). len may exceed cap - 1 (a string already
 * cut). @return len plus the length of s. */
size_t cairn__cat(char *buf, size_t cap, size_t len, const char *s);

#endif
