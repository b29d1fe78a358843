/*
 * svg.c — a report's line chart as inline SVG for the HTML page (svg.h): a
 * readable value axis, x labels thinned so they never overlap, one path per
 * series with gaps where a value is missing, a marker per value (a shape per
 * series as well as a colour, so colour is never the only cue), the target as
 * a dashed line and the baseline as a dotted one, each labelled, and a
 * <title>/<desc> that says in words what the chart shows.
 *
 * Sizes are SVG units in a 560 x 280 viewBox; the page scales it to the width
 * it has (about one to one in a half-width box on a laptop). Text widths are
 * estimated (TEXT_W per character of the sans font); the browser test checks on the drawn page that no x label overlaps
 * another and that no text falls outside the chart.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "svg.h"

#define VIEW_W 560.0
#define VIEW_H 280.0
#define FONT 13
#define TEXT_W 8.2  /* width of a character of the FONT-unit font, at most */
#define TICKS 5     /* value ticks wanted */

/* Okabe and Ito's palette, safe for the common colour blindnesses; the
 * yellow is left out (unreadable on white). */
static const char *const colours[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                      "#E69F00", "#56B4E9", "#000000"};
#define NCOLOURS (sizeof colours / sizeof colours[0])
#define NSHAPES 6

/* ---- numbers ---- */

void cairn__axis_nice(double lo, double hi, int want, cairn__axis_t *out) {
  if (want < 2)
    want = 2;
  if (hi < lo) {
    double t = lo;
    lo = hi;
    hi = t;
  }
  double least = lo; /* the smallest value: above the bottom line unless 0 */
  if (hi - lo < 1e-9 * (fabs(hi) + 1)) { /* one value: room around it */
    double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
    if (lo < 0 && lo + pad >= 0)
      lo = 0;
  }
  if (lo > 0 && lo < hi / 3)
    lo = 0;
  double rough = (hi - lo) / (want - 1);
  double mag = pow(10, floor(log10(rough)));
  double r = rough / mag;
  double m = r <= 1 ? 1 : r <= 2 ? 2 : r <= 2.5 ? 2.5 : r <= 5 ? 5 : 10;
  out->step = m * mag;
  out->lo = floor(lo / out->step + 1e-9) * out->step;
  if (out->lo != 0 && out->lo >= least - 1e-9 * out->step) /* not on the x axis */
    out->lo -= out->step;
  out->hi = ceil(hi / out->step - 1e-9) * out->step;
  out->n = (size_t)llround((out->hi - out->lo) / out->step) + 1;
  int d = (int)-floor(log10(out->step) + 1e-9);
  out->decimals = (d > 0 ? d : 0) + (m == 2.5 && out->step < 10);
}

double cairn__axis_tick(const cairn__axis_t *a, size_t i) {
  double v = i + 1 >= a->n ? a->hi : a->lo + (double)i * a->step;
  return fabs(v) < a->step * 1e-9 ? 0 : v;
}

size_t cairn__label_step(size_t nx, double width, double label_w) {
  if (nx < 2 || width <= 0)
    return 1;
  double gap = width / (double)(nx - 1); /* between neighbouring labels */
  size_t step = (size_t)ceil(label_w / gap);
  return step < 1 ? 1 : step;
}

double cairn__plot_x(const cairn__plot_t *p, size_t i) {
  if (p->nx < 2)
    return (p->left + p->right) / 2;
  return p->left + (p->right - p->left) * (double)i / (double)(p->nx - 1);
}

double cairn__plot_y(const cairn__plot_t *p, double v) {
  double span = p->axis.hi - p->axis.lo;
  return p->bottom - (p->bottom - p->top) * (span > 0 ? (v - p->axis.lo) / span : 0.5);
}

/* v (finite, at most 1e15) with one decimal at p, rounded half away from
 * zero, "-" before a negative value but "0.0" (drawing coordinates: a page
 * holds tens of thousands, and printf's exact decimal conversion was most of
 * a report's time). @return the end of what it wrote, at most NUM1_MAX bytes. */
#define NUM1_MAX 24
static char *num1(char *p, double v) {
  static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                              "25262728293031323334353637383940414243444546474849"
                              "50515253545556575859606162636465666768697071727374"
                              "75767778798081828384858687888990919293949596979899";
  double t = fabs(v) * 10;
  unsigned long long i = (unsigned long long)t; /* llround(t), without the call */
  i += t - (double)i >= 0.5;
  size_t n = 3; /* digits before the point, the point, one decimal */
  for (unsigned long long w = i / 10; w >= 10; w /= 10)
    n++;
  if (v < 0 && i != 0)
    *p++ = '-';
  char *q = p + n;
  *--q = (char)('0' + i % 10);
  *--q = '.';
  for (i /= 10; i >= 100; i /= 100) { /* two digits at a time */
    q -= 2;
    memcpy(q, pairs + 2 * (i % 100), 2);
  }
  if (i >= 10) {
    q -= 2;
    memcpy(q, pairs + 2 * i, 2);
  } else {
    *--q = (char)('0' + i);
  }
  return p + n;
}

/* fmt with each '#' replaced by the next of v in one decimal: as num1 writes
 * it (path data), or (exact) exactly as "%.1f" does (the other coordinates). */
static void put_nums(cairn__out_t *o, const char *fmt, const double *v, int exact) {
  for (; *fmt; fmt++) {
    if (*fmt != '#') {
      cairn__out_char(o, *fmt);
      continue;
    }
    double x = *v++;
    if (!exact && isfinite(x) && fabs(x) <= 1e15)
      o->n = (size_t)(num1(cairn__out_room(o, NUM1_MAX), x) - o->buf);
    else
      cairn__out_fixed(o, x, 1);
  }
}

#define PATH_ROOM 256 /* path data of one pathf at most: 40 bytes of fmt, 8 numbers */

/* fmt (as pathf's) at p, which has room for PATH_ROOM bytes, when each of the n
 * values of v is one num1 writes: the end of what it wrote; else NULL, nothing
 * written. */
static char *path_at(char *p, const char *fmt, const double *v, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(v[i]) || fabs(v[i]) > 1e15)
      return NULL;
  for (; *fmt; fmt++)
    if (*fmt == '#')
      p = num1(p, *v++);
    else
      *p++ = *fmt;
  return p;
}

/* Path data: fmt (at most 40 bytes) with each '#' replaced by the next of v
 * (n of them, at most 8) as num1 writes it. */
static void pathf(cairn__out_t *o, const char *fmt, const double *v, size_t n) {
  char *end = path_at(cairn__out_room(o, PATH_ROOM), fmt, v, n);
  if (end != NULL)
    o->n = (size_t)(end - o->buf);
  else
    put_nums(o, fmt, v, 0); /* a value num1 does not write */
}

/* fmt with each '#' replaced by the next of v as "%.1f" writes it. */
static void putf(cairn__out_t *o, const char *fmt, const double *v) {
  put_nums(o, fmt, v, 1);
}

static void series_path(cairn__out_t *f, const cairn__plot_t *p, const double *y) {
  int wrote = 0, in_run = 0;
  for (size_t i = 0; i < p->nx; i++) {
    if (!isfinite(y[i])) {
      in_run = 0;
      continue;
    }
    double xy[2] = {cairn__plot_x(p, i), cairn__plot_y(p, y[i])};
    pathf(f, wrote ? (in_run ? " L# #" : " M# #") : (in_run ? "L# #" : "M# #"), xy, 2);
    wrote = in_run = 1;
  }
}

void cairn__series_path(FILE *f, const cairn__plot_t *p, const double *y) {
  cairn__out_t *o = malloc(sizeof *o);
  if (o == NULL)
    return;
  cairn__out_init(o, f);
  series_path(o, p, y);
  (void)cairn__out_flush(o);
  free(o);
}

/* ---- text ---- */

/* Characters (code points) of s. */
static size_t chars(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

static int is_percent(const char *unit) {
  return strcmp(unit, "%") == 0;
}

/* A value as people read it: at most two decimals, no trailing zeros, with
 * its unit ("54%", "120 children"). */
/* v with at most two decimals, trailing zeros dropped, into num (64 bytes):
 * its length. */
static size_t value_number(char num[64], double v) {
  int n = cairn__fixed(num, 64, fabs(v) < 0.005 ? 0.0 : v, 2);
  size_t len = n < 0 ? 0 : n < 64 ? (size_t)n : 63;
  const char *dot = memchr(num, '.', len);
  if (dot != NULL)
    while (len > (size_t)(dot - num) && (num[len - 1] == '0' || num[len - 1] == '.'))
      len--;
  num[len] = 0;
  return len;
}

/* What follows a value: " " and the unit, or "%" alone. */
static const char *unit_space(const char *unit) {
  return unit[0] && !is_percent(unit) ? " " : "";
}

static void value_text(char *buf, size_t size, double v, const char *unit) {
  char num[64];
  value_number(num, v);
  size_t len = cairn__cat(buf, size, 0, num);
  len = cairn__cat(buf, size, len, unit_space(unit));
  cairn__cat(buf, size, len, unit);
}

/* A tick's label: the axis' decimals, "%" after it when that is the unit. */
static void tick_text(char *buf, size_t size, const cairn__axis_t *a, size_t i,
                      const char *unit) {
  int n = cairn__fixed(buf, size, cairn__axis_tick(a, i), a->decimals);
  cairn__cat(buf, size, (size_t)n, is_percent(unit) ? "%" : "");
}

/* ---- layout ---- */

/* The smallest and largest of every value, target and baseline; 0 if none. */
static int value_range(const cairn_report_chart_t *c, double *lo, double *hi) {
  int any = 0;
  *lo = INFINITY;
  *hi = -INFINITY;
  for (size_t s = 0; s < c->nseries; s++)
    for (size_t i = 0; i < c->nx; i++)
      if (isfinite(c->series[s].y[i])) {
        *lo = fmin(*lo, c->series[s].y[i]);
        *hi = fmax(*hi, c->series[s].y[i]);
        any = 1;
      }
  if (c->has_target && isfinite(c->target)) {
    *lo = fmin(*lo, c->target);
    *hi = fmax(*hi, c->target);
  }
  if (c->has_baseline && isfinite(c->baseline)) {
    *lo = fmin(*lo, c->baseline);
    *hi = fmax(*hi, c->baseline);
  }
  if (!isfinite(*lo)) {
    *lo = 0;
    *hi = 1;
  }
  return any;
}

/* The plot area: room on the left for the value labels and half the first
 * period's label, on the right for half the last one's. @return whether the
 * chart has any value. */
static int layout(const cairn_report_chart_t *c, cairn__plot_t *p) {
  double lo, hi, widest = 0;
  char buf[64];
  int any = value_range(c, &lo, &hi);
  cairn__axis_nice(lo, hi, TICKS, &p->axis);
  for (size_t i = 0; i < p->axis.n; i++) {
    tick_text(buf, sizeof buf, &p->axis, i, c->unit);
    widest = fmax(widest, (double)chars(buf) * TEXT_W);
  }
  double first = c->nx ? (double)chars(c->x[0]) * TEXT_W / 2 : 0;
  double last = c->nx ? (double)chars(c->x[c->nx - 1]) * TEXT_W / 2 : 0;
  p->nx = c->nx;
  p->left = fmax(fmax(widest + 14, first + 6), 36);
  p->right = VIEW_W - fmax(last + 6, 16);
  p->top = 34;
  p->bottom = VIEW_H - 36;
  if (c->nx == 1) /* one period in the middle: its label has room */
    p->right = VIEW_W - 16;
  return any;
}

/* ---- drawing ---- */

/* <line> from (x1, y1) to (x2, y2), then the stroke's value and what follows
 * it (rest). */
static void line(cairn__out_t *f, double x1, double x2, double y1, double y2,
                 const char *rest) {
  putf(f, "<line x1=\"#\" x2=\"#\" y1=\"#\" y2=\"#\" stroke=\"", (const double[]){x1, x2, y1, y2});
  cairn__out_str(f, rest);
}

/* The value axis: a grid line and a label per tick; only the x axis' line
 * when there is no value (a scale of nothing would mislead). */
static void grid(cairn__out_t *f, const cairn_report_chart_t *c, const cairn__plot_t *p, int any) {
  char buf[64];
  cairn__out_str(f, "<g class=\"ytick\">");
  if (!any)
    line(f, p->left, p->right, p->bottom, p->bottom, "#9aa5b1\"/>");
  for (size_t i = 0; any && i < p->axis.n; i++) {
    double y = cairn__plot_y(p, cairn__axis_tick(&p->axis, i));
    tick_text(buf, sizeof buf, &p->axis, i, c->unit);
    line(f, p->left, p->right, y, y, i == 0 ? "#9aa5b1\"/>" : "#e4e7eb\"/>");
    putf(f, "<text x=\"#\" y=\"#\" text-anchor=\"end\">", (const double[]){p->left - 8, y + 4});
    cairn__out_esc(f, buf);
    cairn__out_str(f, "</text>");
  }
  cairn__out_str(f, "</g>\n");
  if (c->unit[0] && !is_percent(c->unit)) {
    cairn__out_str(f, "<text class=\"unit\" x=\"6\" y=\"16\">");
    cairn__out_esc(f, c->unit);
    cairn__out_str(f, "</text>\n");
  }
}

static void x_labels(cairn__out_t *f, const cairn_report_chart_t *c, const cairn__plot_t *p) {
  size_t widest = 0;
  for (size_t i = 0; i < c->nx; i++)
    if (chars(c->x[i]) > widest)
      widest = chars(c->x[i]);
  size_t step = cairn__label_step(c->nx, p->right - p->left, (double)widest * TEXT_W + 10);
  for (size_t i = 0; i < c->nx; i++) {
    double x = cairn__plot_x(p, i);
    int labelled = (c->nx - 1 - i) % step == 0;
    cairn__out_str(f, labelled ? "<g class=\"xtick\">" : "<g class=\"xtick-minor\">");
    line(f, x, x, p->bottom, p->bottom + (labelled ? 5 : 3), "#9aa5b1\"/>");
    if (labelled) {
      putf(f, "<text x=\"#\" y=\"#\" text-anchor=\"middle\">", (const double[]){x, p->bottom + 22});
      cairn__out_esc(f, c->x[i]);
      cairn__out_str(f, "</text>");
    }
    cairn__out_str(f, "</g>");
  }
  cairn__out_char(f, '\n');
}

/* A horizontal reference line (the target, the baseline), with its label if
 * not NULL. */
static void ref_line(cairn__out_t *f, const cairn__plot_t *p, double v, const char *cls,
                     const char *dash, const char *label, int at_right) {
  double y = cairn__plot_y(p, v);
  cairn__out_str(f, "<g class=\"");
  cairn__out_str(f, cls);
  cairn__out_str(f, "\">");
  line(f, p->left, p->right, y, y, "#3e4c59\" stroke-width=\"1.5\" stroke-dasharray=\"");
  cairn__out_str(f, dash);
  cairn__out_str(f, "\"/>");
  if (label == NULL) {
    cairn__out_str(f, "</g>\n");
    return;
  }
  putf(f, "<text x=\"#\" y=\"#\" text-anchor=\"", (const double[]){at_right ? p->right - 2 : p->left + 4, y - 6});
  cairn__out_str(f, at_right ? "end\" class=\"ref\">" : "start\" class=\"ref\">");
  cairn__out_esc(f, label);
  cairn__out_str(f, "</text></g>\n");
}

/* The target line, labelled on the chart (the baseline is named in the
 * legend: its label would sit among the first values). */
static void refs(cairn__out_t *f, const cairn_report_chart_t *c, const cairn__plot_t *p) {
  char label[300], num[64];
  if (c->has_baseline && isfinite(c->baseline))
    ref_line(f, p, c->baseline, "baseline", "2 4", NULL, 0);
  if (c->has_target && isfinite(c->target)) {
    value_text(num, sizeof num, c->target, c->unit);
    snprintf(label, sizeof label, "target %s", num);
    ref_line(f, p, c->target, "target", "7 5", c->target_label[0] ? c->target_label : label, 1);
  }
}

/* The path data of marker shape k of size r after its first point, for the
 * shapes whose rest is the same wherever they are (the circle's and the
 * ring's arcs, the square's sides), into tail (PATH_ROOM bytes): written once
 * a series. "" for the other shapes. */
static void shape_tail(size_t k, double r, char *tail) {
  char *end = NULL;
  switch (k % NSHAPES) {
  case 1:
    end = path_at(tail, "h#v#h#Z", (const double[]){r * 1.8, r * 1.8, -r * 1.8}, 3);
    break;
  case 0:
  case NSHAPES - 1:
    end = path_at(tail, "a# # 0 1 0 # 0a# # 0 1 0 # 0Z",
                  (const double[]){r, r, 2 * r, r, r, -2 * r}, 6);
    break;
  default:
    break;
  }
  *(end != NULL ? end : tail) = 0;
}

/* The outline of marker shape k centred on (x, y), r its size: a circle, a
 * square, a triangle, a diamond, a triangle pointing down, a ring. tail: its
 * shape_tail, or NULL. */
static void shape(cairn__out_t *f, size_t k, double x, double y, double r, const char *tail) {
  switch (k % NSHAPES) {
  case 1:
    if (tail != NULL && tail[0]) {
      pathf(f, "M# #", (const double[]){x - r * .9, y - r * .9}, 2);
      cairn__out_str(f, tail);
      break;
    }
    pathf(f, "M# #h#v#h#Z", (const double[]){x - r * .9, y - r * .9, r * 1.8, r * 1.8, -r * 1.8},
          5);
    break;
  case 2:
    pathf(f, "M# #L# #L# #Z",
          (const double[]){x, y - r * 1.2, x + r * 1.1, y + r * .8, x - r * 1.1, y + r * .8}, 6);
    break;
  case 3:
    pathf(f, "M# #L# #L# #L# #Z",
          (const double[]){x, y - r * 1.3, x + r * 1.3, y, x, y + r * 1.3, x - r * 1.3, y}, 8);
    break;
  case 4:
    pathf(f, "M# #L# #L# #Z",
          (const double[]){x, y + r * 1.2, x + r * 1.1, y - r * .8, x - r * 1.1, y - r * .8}, 6);
    break;
  default: /* 0 and 5: a circle (5 drawn hollow) */
    if (tail != NULL && tail[0]) {
      pathf(f, "M# #", (const double[]){x - r, y}, 2);
      cairn__out_str(f, tail);
      break;
    }
    pathf(f, "M# #a# # 0 1 0 # 0a# # 0 1 0 # 0Z",
          (const double[]){x - r, y, r, r, 2 * r, r, r, -2 * r}, 8);
  }
}

/* A marker of series k, left open for a <title> and the closing </path>. */
static void marker(cairn__out_t *f, size_t k, double x, double y, double r, const char *tail) {
  const char *colour = colours[k % NCOLOURS];
  cairn__out_str(f, "<path class=\"marker\" d=\"");
  shape(f, k, x, y, r, tail);
  if (k % NSHAPES == NSHAPES - 1)
    cairn__out_str(f, "\" fill=\"#fff\" stroke=\"");
  else
    cairn__out_str(f, "\" fill=\"");
  cairn__out_str(f, colour);
  cairn__out_str(f, k % NSHAPES == NSHAPES - 1 ? "\" stroke-width=\"2\">"
                                               : "\" stroke=\"#fff\" stroke-width=\"1\">");
}

/* One series: its line (the element tests count) and a marker per value, each
 * with a tooltip "site, period: value". */
/* The texts a chart's tooltips repeat, escaped once: each x label and what
 * follows a value (" " and the unit). NULL members when out of memory (the
 * tooltips are then escaped one by one). */
typedef struct tips {
  char **x;
  size_t *xlen;
  char *unit;
  size_t unit_len, unit_raw; /* unit_raw: its length unescaped */
} tips_t;

static void tips_free(tips_t *t, size_t nx) {
  for (size_t i = 0; t->x != NULL && i < nx; i++)
    free(t->x[i]);
  free(t->x);
  free(t->xlen);
  free(t->unit);
}

static void tips_make(tips_t *t, const cairn_report_chart_t *c) {
  char suffix[300];
  size_t len = cairn__cat(suffix, sizeof suffix, 0, unit_space(c->unit));
  memset(t, 0, sizeof *t);
  t->unit_raw = cairn__cat(suffix, sizeof suffix, len, c->unit);
  t->x = calloc(c->nx + 1, sizeof *t->x);
  t->xlen = calloc(c->nx + 1, sizeof *t->xlen);
  int ok = t->x != NULL && t->xlen != NULL && t->unit_raw < sizeof suffix &&
           (t->unit = cairn__esc_dup(suffix, &t->unit_len)) != NULL;
  for (size_t i = 0; ok && i < c->nx; i++)
    ok = (t->x[i] = cairn__esc_dup(c->x[i], &t->xlen[i])) != NULL;
  if (!ok) {
    tips_free(t, c->nx);
    memset(t, 0, sizeof *t);
  }
}

/* Series k's name, escaped once (NULL when out of memory). */
typedef struct tip_name {
  const char *raw;
  char *esc;
  size_t len;
} tip_name_t;

/* A marker's tooltip "site, period: value": from the texts escaped once, or
 * (out of memory; a value and unit of 80 bytes or more, cut as value_text
 * cuts them) escaped here. */
static void tooltip(cairn__out_t *f, const cairn_report_chart_t *c, const tips_t *t,
                    const tip_name_t *name, size_t i, double y) {
  char num[80];
  cairn__out_str(f, "<title>");
  if (name->esc != NULL)
    cairn__out_mem(f, name->esc, name->len);
  else
    cairn__out_esc(f, name->raw);
  cairn__out_str(f, ", ");
  size_t n = value_number(num, y);
  if (t->x != NULL && n + t->unit_raw < sizeof num) {
    cairn__out_mem(f, t->x[i], t->xlen[i]);
    cairn__out_str(f, ": ");
    cairn__out_mem(f, num, n); /* digits, "-" and ".": nothing to escape */
    cairn__out_mem(f, t->unit, t->unit_len);
  } else {
    value_text(num, sizeof num, y, c->unit);
    cairn__out_esc(f, c->x[i]);
    cairn__out_str(f, ": ");
    cairn__out_esc(f, num);
  }
  cairn__out_str(f, "</title></path>");
}

static void series(cairn__out_t *f, const cairn_report_chart_t *c, const cairn__plot_t *p,
                   const tips_t *t, size_t k) {
  const cairn_report_series_t *s = &c->series[k];
  const char *colour = colours[k % NCOLOURS];
  double r = c->nx > 24 ? 2.8 : 3.8;
  tip_name_t name = {s->name, NULL, 0};
  char tail[PATH_ROOM];
  shape_tail(k, r, tail);
  name.esc = cairn__esc_dup(s->name, &name.len);
  cairn__out_str(f, "<g class=\"line\"><path class=\"series\" data-series=\"");
  cairn__out_esc(f, s->name);
  cairn__out_str(f, "\" fill=\"none\" stroke=\"");
  cairn__out_str(f, colour);
  cairn__out_str(f, "\" stroke-width=\"2.2\" stroke-linejoin=\"round\" stroke-linecap=\"round\" d=\"");
  series_path(f, p, s->y);
  cairn__out_str(f, "\"/>");
  for (size_t i = 0; i < c->nx; i++) {
    if (!isfinite(s->y[i]))
      continue;
    marker(f, k, cairn__plot_x(p, i), cairn__plot_y(p, s->y[i]), r, tail);
    tooltip(f, c, t, &name, i, s->y[i]);
  }
  free(name.esc);
  cairn__out_str(f, "</g>\n");
}

/* The first and the latest value of a series in words. */
static void desc_series(cairn__out_t *f, const cairn_report_chart_t *c, const cairn_report_series_t *s) {
  size_t first = c->nx, last = c->nx;
  char num[80];
  for (size_t i = 0; i < c->nx; i++)
    if (isfinite(s->y[i])) {
      first = first == c->nx ? i : first;
      last = i;
    }
  cairn__out_esc(f, s->name);
  if (first == c->nx) {
    cairn__out_str(f, ": no values. ");
    return;
  }
  value_text(num, sizeof num, s->y[first], c->unit);
  cairn__out_str(f, ": ");
  cairn__out_esc(f, num);
  cairn__out_str(f, " in ");
  cairn__out_esc(f, c->x[first]);
  if (last != first) {
    value_text(num, sizeof num, s->y[last], c->unit);
    cairn__out_str(f, ", ");
    cairn__out_esc(f, num);
    cairn__out_str(f, " in ");
    cairn__out_esc(f, c->x[last]);
  }
  cairn__out_str(f, ". ");
}

static void desc(cairn__out_t *f, const cairn_report_chart_t *c) {
  char num[80];
  cairn__out_str(f, "Line chart, one line per series (");
  cairn__out_size(f, c->nseries);
  cairn__out_str(f, "), ");
  if (c->nx > 0) {
    cairn__out_str(f, "periods ");
    cairn__out_esc(f, c->x[0]);
    cairn__out_str(f, " to ");
    cairn__out_esc(f, c->x[c->nx - 1]);
  } else {
    cairn__out_str(f, "no periods");
  }
  cairn__out_str(f, ". ");
  for (size_t s = 0; s < c->nseries; s++)
    desc_series(f, c, &c->series[s]);
  if (c->has_target && isfinite(c->target)) {
    value_text(num, sizeof num, c->target, c->unit);
    cairn__out_str(f, "Target: ");
    cairn__out_esc(f, c->target_label[0] ? c->target_label : num);
    cairn__out_str(f, ". ");
  }
  if (c->has_baseline && isfinite(c->baseline)) {
    value_text(num, sizeof num, c->baseline, c->unit);
    cairn__out_str(f, "Baseline: ");
    cairn__out_esc(f, num);
    cairn__out_char(f, '.');
  }
}

/* The legend under the chart: a line and marker per series, then the
 * reference lines. */
static void legend(cairn__out_t *f, const cairn_report_chart_t *c) {
  char num[80];
  cairn__out_str(f, "<ul class=\"legend\">");
  for (size_t k = 0; k < c->nseries; k++) {
    cairn__out_str(f, "<li><svg width=\"30\" height=\"14\" viewBox=\"0 0 30 14\" aria-hidden=\"true\">"
                      "<line x1=\"1\" x2=\"29\" y1=\"7\" y2=\"7\" stroke=\"");
    cairn__out_str(f, colours[k % NCOLOURS]);
    cairn__out_str(f, "\" stroke-width=\"2.2\"/>");
    marker(f, k, 15, 7, 3.8, NULL);
    cairn__out_str(f, "</path></svg>");
    cairn__out_esc(f, c->series[k].name);
    cairn__out_str(f, "</li>");
  }
  if (c->has_target && isfinite(c->target))
    cairn__out_str(f, "<li><svg width=\"30\" height=\"14\" aria-hidden=\"true\"><line x1=\"1\" x2=\"29\" "
          "y1=\"7\" y2=\"7\" stroke=\"#3e4c59\" stroke-width=\"1.5\" stroke-dasharray=\"7 5\"/>"
          "</svg>target</li>");
  if (c->has_baseline && isfinite(c->baseline)) {
    value_text(num, sizeof num, c->baseline, c->unit);
    cairn__out_str(f, "<li><svg width=\"30\" height=\"14\" aria-hidden=\"true\"><line x1=\"1\" x2=\"29\" "
          "y1=\"7\" y2=\"7\" stroke=\"#3e4c59\" stroke-width=\"1.5\" stroke-dasharray=\"2 4\"/>"
          "</svg>baseline ");
    cairn__out_esc(f, num);
    cairn__out_str(f, "</li>");
  }
  cairn__out_str(f, "</ul>\n");
}

static void empty_note(cairn__out_t *f, const cairn__plot_t *p) {
  putf(f, "<text class=\"note\" x=\"#\" y=\"#\" text-anchor=\"middle\">No values yet</text>\n",
       (const double[]){(p->left + p->right) / 2, (p->top + p->bottom) / 2});
}

void cairn__svg_chart(cairn__out_t *f, const cairn_report_chart_t *c, size_t index) {
  cairn__plot_t p;
  memset(&p, 0, sizeof p);
  int any = layout(c, &p);
  cairn__out_str(f, "<figure class=\"chart-box\"><h3>");
  cairn__out_esc(f, c->title);
  cairn__out_str(f, "</h3>\n<svg class=\"chart\" viewBox=\"0 0 ");
  cairn__out_fixed(f, VIEW_W, 0);
  cairn__out_char(f, ' ');
  cairn__out_fixed(f, VIEW_H, 0);
  cairn__out_str(f, "\" role=\"img\" font-size=\"");
  cairn__out_size(f, FONT);
  cairn__out_str(f, "\" aria-label=\"");
  cairn__out_esc(f, c->title);
  cairn__out_str(f, "\" aria-describedby=\"chart");
  cairn__out_size(f, index);
  cairn__out_str(f, "-desc\"><title>");
  cairn__out_esc(f, c->title);
  cairn__out_str(f, "</title><desc id=\"chart");
  cairn__out_size(f, index);
  cairn__out_str(f, "-desc\">");
  desc(f, c);
  cairn__out_str(f, "</desc>\n");
  grid(f, c, &p, any);
  x_labels(f, c, &p);
  refs(f, c, &p);
  tips_t tips;
  tips_make(&tips, c);
  for (size_t k = 0; k < c->nseries; k++)
    series(f, c, &p, &tips, k);
  tips_free(&tips, c->nx);
  if (!any)
    empty_note(f, &p);
  cairn__out_str(f, "</svg>\n");
  legend(f, c);
  if (c->caption[0]) {
    cairn__out_str(f, "<figcaption>");
    cairn__out_esc(f, c->caption);
    cairn__out_str(f, "</figcaption>");
  }
  cairn__out_str(f, "</figure>\n");
}
