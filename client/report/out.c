/*
 * out.c — the HTML page's writer and its decimal numbers (out.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "out.h"
#include "report.h"

void cairn__out_init(cairn__out_t *o, FILE *f) {
  o->f = f;
  o->n = 0;
  o->failed = 0;
}

int cairn__out_flush(cairn__out_t *o) {
  if (o->n > 0 && fwrite(o->buf, 1, o->n, o->f) != o->n)
    o->failed = 1;
  o->n = 0;
  return o->failed || ferror(o->f) ? CAIRN_EIO : 0;
}

void cairn__out_spill(cairn__out_t *o, const char *s, size_t n) {
  (void)cairn__out_flush(o);
  if (n >= CAIRN__OUT_BUF) { /* larger than the buffer: written as it is */
    if (fwrite(s, 1, n, o->f) != n)
      o->failed = 1;
    return;
  }
  memcpy(o->buf, s, n);
  o->n = n;
}

/* What c becomes in HTML text; NULL when it stays itself. */
static const char *esc_of(char c) {
  switch (c) {
  case '&': return "&amp;";
  case '<': return "&lt;";
  case '>': return "&gt;";
  case '"': return "&quot;";
  case '\'': return "&#39;";
  default: return NULL;
  }
}

void cairn__out_esc(cairn__out_t *o, const char *s) {
  while (*s) {
    size_t run = strcspn(s, "&<>\"'"); /* written whole, not a byte at a time */
    cairn__out_mem(o, s, run);
    s += run;
    if (*s == 0)
      break;
    cairn__out_str(o, esc_of(*s++));
  }
}

char *cairn__esc_dup(const char *s, size_t *len) {
  size_t n = 0;
  for (const char *p = s; *p; p++)
    n += esc_of(*p) != NULL ? strlen(esc_of(*p)) : 1;
  char *out = malloc(n + 1), *q = out;
  if (out == NULL)
    return NULL;
  for (const char *p = s; *p; p++) {
    const char *e = esc_of(*p);
    size_t k = e != NULL ? strlen(e) : 1;
    memcpy(q, e != NULL ? e : p, k);
    q += k;
  }
  *q = 0;
  *len = n;
  return out;
}

void cairn__out_fixed(cairn__out_t *o, double v, int decimals) {
  char *room = cairn__out_room(o, 64);
  int n = cairn__fixed(room, 64, v, decimals);
  if (n >= 0 && n < 64) {
    o->n += (size_t)n;
    return;
  }
  char *big = n > 0 ? malloc((size_t)n + 1) : NULL; /* a huge value: hundreds of digits */
  if (big != NULL && cairn__fixed(big, (size_t)n + 1, v, decimals) == n)
    cairn__out_mem(o, big, (size_t)n);
  else
    o->failed = 1;
  free(big);
}

void cairn__out_size(cairn__out_t *o, size_t v) {
  char buf[24], *p = buf + sizeof buf;
  do
    *--p = (char)('0' + v % 10);
  while ((v /= 10) > 0);
  cairn__out_mem(o, p, (size_t)(buf + sizeof buf - p));
}

/* ---- numbers ---- */

static const double scale[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
static const uint64_t power[] = {1,      10,      100,      1000,      10000,
                                 100000, 1000000, 10000000, 100000000, 1000000000};

/*
 * v * 10^decimals rounded to an integer as printf rounds the exact value: 1
 * with *out, 0 when that cannot be told without exact arithmetic. The product
 * t is within t * 2^-53 of the exact one (10^decimals is exact); rounding to
 * an integer changes only at halves, so when the nearest half is further from
 * t than that error, t and the exact product round alike.
 */
static int scaled(double a, int decimals, uint64_t *out) {
  double t = a * scale[decimals];
  if (!(t < 4e15))
    return 0;
  double whole = floor(t), frac = t - whole; /* both exact */
  if (fabs(frac - 0.5) <= (t + 1) * 1e-15)
    return 0; /* a tie, or too close to one to tell: printf decides */
  *out = (uint64_t)whole + (frac > 0.5);
  return 1;
}

int cairn__fixed(char *buf, size_t cap, double v, int decimals) {
  char tmp[40], *p = tmp + sizeof tmp;
  uint64_t n;
  if (decimals < 0 || decimals > 9 || !isfinite(v) || !scaled(fabs(v), decimals, &n))
    return snprintf(buf, cap, "%.*f", decimals, v);
  uint64_t whole = n / power[decimals], frac = n % power[decimals];
  for (int i = 0; i < decimals; i++, frac /= 10)
    *--p = (char)('0' + frac % 10);
  if (decimals > 0)
    *--p = '.';
  do
    *--p = (char)('0' + whole % 10);
  while ((whole /= 10) > 0);
  if (signbit(v))
    *--p = '-';
  size_t len = (size_t)(tmp + sizeof tmp - p);
  if (cap > 0) {
    size_t k = len < cap ? len : cap - 1;
    memcpy(buf, p, k);
    buf[k] = 0;
  }
  return (int)len;
}

size_t cairn__cat(char *buf, size_t cap, size_t len, const char *s) {
  size_t n = strlen(s);
  if (cap > 0 && len < cap - 1) {
    size_t k = n < cap - 1 - len ? n : cap - 1 - len;
    memcpy(buf + len, s, k);
    buf[len + k] = 0;
  }
  return len + n;
}
