/*
 * test_report_html.c — the HTML page of a report (client/report/render_html.c)
 * and its charts (svg.c).
 *
 * The page: the hand-made document of tests/support/report_sample.h (facts,
 * a table, charts with several series, a gap, a target, a baseline, many
 * periods, no value at all) plus a section whose every text carries markup
 * and quotes. Checked: every text escaped (no <script> gets through, quotes
 * in attributes), one SVG per chart and one series path per series, the gap
 * drawn as two runs, target and baseline drawn, each chart titled and
 * described, a table of contents, nothing that points outside the page, and
 * every tag closed in order. The chart numbers: the axis scale, which x labels
 * fit, the path of a series with gaps, on known numbers. Numbers written
 * without printf are printf's, byte for byte.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cairn_test.h"
#include "report_sample.h"
#include "svg.h"

#define EVIL "<script>alert(\"x\")</script> & 'quoted'"

/* What f wrote, as a string (free it). */
typedef struct mem {
  char *buf;
  size_t len;
  FILE *f;
} mem_t;

static void mem_open(mem_t *m) {
  m->buf = NULL;
  m->len = 0;
  m->f = open_memstream(&m->buf, &m->len);
  assert_non_null(m->f);
}

static char *mem_close(mem_t *m) {
  assert_int_equal(fclose(m->f), 0);
  return m->buf;
}

static size_t count(const char *s, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(s, needle); p != NULL; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* The page of doc. */
static char *page_of(const cairn_report_doc_t *doc) {
  mem_t m;
  mem_open(&m);
  CAIRN_PASS(cairn_report_render(doc, CAIRN_REPORT_HTML, m.f));
  return mem_close(&m);
}

/* A section where every text is markup and quotes. */
static void add_evil(cairn_report_doc_t *doc) {
  static const char *const ids[] = {"who", "n"};
  static const char *const labels[] = {EVIL, "Count"};
  static const char *const x[] = {EVIL, "2026-Q2"};
  static const double y[] = {1, 2};
  cairn_report_section_t *sec = cairn_report_section_add(doc, "evil\"id", EVIL, EVIL);
  assert_non_null(sec);
  CAIRN_PASS(cairn_report_fact_add(sec, "f", EVIL, EVIL, 0, 0, CAIRN_TONE_BAD));
  cairn_report_table_t *t = cairn_report_table_add(sec, "t", EVIL, ids, labels, NULL, 2, EVIL);
  assert_non_null(t);
  cairn_report_row_t *r = cairn_report_row_add(t, "partner", "p1");
  assert_non_null(r);
  CAIRN_PASS(cairn_report_cell_text(r, 0, EVIL, CAIRN_TONE_WARN));
  CAIRN_PASS(cairn_report_cell_number(r, 1, 3, 0, NULL, CAIRN_TONE_BAD));
  cairn_report_chart_t *c = cairn_report_chart_add(sec, "c", EVIL, EVIL, x, 2);
  assert_non_null(c);
  CAIRN_PASS(cairn_report_series_add(c, EVIL, y));
  c->has_target = 1;
  c->target = 3;
  free(c->target_label);
  free(c->caption);
  c->target_label = strdup(EVIL);
  c->caption = strdup(EVIL);
  assert_non_null(c->target_label);
  assert_non_null(c->caption);
}

/* Elements that have no closing tag in HTML. */
static int is_void(const char *name, size_t n) {
  static const char *const v[] = {"meta", "br", "img", "input", "link", "hr", NULL};
  for (size_t i = 0; v[i] != NULL; i++)
    if (strlen(v[i]) == n && strncmp(v[i], name, n) == 0)
      return 1;
  return 0;
}

/* Every element closed, in order; no stray '<' in text; quotes in tags
 * balanced. Fails the test at the first problem, naming where. */
static void assert_well_formed(const char *page) {
  const char *stack[256];
  size_t len[256], depth = 0;
  const char *p = strstr(page, "<html");
  assert_non_null(p);
  while ((p = strchr(p, '<')) != NULL) {
    const char *end = p + 1;
    int quoted = 0;
    while (*end && (quoted || *end != '>')) {
      if (*end == '"')
        quoted = !quoted;
      if (!quoted && *end == '<')
        fail_msg("a '<' inside a tag at %.60s", p);
      end++;
    }
    if (*end == 0)
      fail_msg("an unclosed tag at %.60s", p);
    int closing = p[1] == '/', self = end[-1] == '/';
    const char *name = p + 1 + closing;
    size_t n = strcspn(name, " \t\n/>");
    if (closing) {
      if (depth == 0 || len[depth - 1] != n || strncmp(stack[depth - 1], name, n) != 0)
        fail_msg("</%.*s> closes <%.*s>", (int)n, name, depth ? (int)len[depth - 1] : 0,
                 depth ? stack[depth - 1] : "");
      depth--;
    } else if (!self && !is_void(name, n)) {
      assert_true(depth < 256);
      stack[depth] = name;
      len[depth++] = n;
    }
    p = end + 1;
  }
  if (depth != 0)
    fail_msg("<%.*s> never closed", (int)len[depth - 1], stack[depth - 1]);
}

static void test_page(void **state) {
  cairn_report_doc_t *doc;
  (void)state;
  CAIRN_PASS(cairn_test_report_sample(&doc));
  add_evil(doc);
  char *page = page_of(doc);
  size_t nseries = 1; /* the evil chart's */
  for (size_t i = 0; i < CAIRN_SAMPLE_NCHARTS; i++)
    nseries += cairn_test_sample_series[i];

  /* escaping: no markup of the document's text gets through, quotes too */
  assert_null(strstr(page, "<script"));
  assert_null(strstr(page, "alert(\"x\")"));
  assert_true(count(page, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; "
                          "&#39;quoted&#39;") >= 10);
  assert_non_null(strstr(page, "id=\"evil&quot;id\""));
  assert_non_null(strstr(page, "data-series=\"&lt;script&gt;"));
  assert_non_null(strstr(page, "aria-label=\"&lt;script&gt;"));

  /* one chart per chart, one series path per series, each chart described */
  assert_int_equal(count(page, "<svg class=\"chart\""), CAIRN_SAMPLE_NCHARTS + 1);
  assert_int_equal(count(page, "<path class=\"series\""), nseries);
  assert_int_equal(count(page, "<desc id=\"chart"), CAIRN_SAMPLE_NCHARTS + 1);
  assert_int_equal(count(page, "role=\"img\""), CAIRN_SAMPLE_NCHARTS + 1);
  assert_int_equal(count(page, "<title>Third graders reading on grade level</title>"), 1);
  assert_non_null(strstr(page, "Roosevelt Elementary: 40% in 2025-Q1, 41% in 2026-Q4."));

  /* target and baseline: lines, labels, legend */
  assert_int_equal(count(page, "<g class=\"target\">"), 4); /* 3 + the evil one */
  assert_int_equal(count(page, "<g class=\"baseline\">"), 1);
  assert_non_null(strstr(page, ">target 60% by 2027-Q4</text>"));
  assert_non_null(strstr(page, ">target 120 children</text>")); /* no label given */
  assert_non_null(strstr(page, "baseline 42%</li>"));
  assert_non_null(strstr(page, "No values yet"));

  /* the gap: Roosevelt's line is two runs (3 values, then 4) */
  const char *d = strstr(page, "data-series=\"Roosevelt Elementary\"");
  assert_non_null(d);
  d = strstr(d, " d=\"");
  assert_non_null(d);
  size_t dl = strcspn(d + 4, "\"");
  size_t moves = 0, lines = 0;
  for (size_t i = 0; i < dl; i++) {
    moves += d[4 + i] == 'M';
    lines += d[4 + i] == 'L';
  }
  assert_int_equal(moves, 2);
  assert_int_equal(lines, 5);

  /* the page: contents, tones as words, nothing from outside, well formed */
  assert_non_null(strstr(page, "<nav class=\"toc\""));
  assert_non_null(strstr(page, "<a href=\"#reading\">"));
  assert_non_null(strstr(page, "<span class=\"badge bad\">wrong-way</span>"));
  assert_null(strstr(page, "http://"));
  assert_null(strstr(page, "https://"));
  assert_null(strstr(page, "url("));
  assert_null(strstr(page, "@import"));
  assert_well_formed(page);
  free(page);
  cairn_report_doc_free(doc);
}

/* A report of one section named like itself: no contents, the heading kept
 * for the outline only; an empty table says so. */
static void test_one_section(void **state) {
  static const char *const ids[] = {"a"};
  (void)state;
  cairn_report_doc_t *doc = cairn_report_doc_new("commitments", "Commitments", NULL);
  assert_non_null(doc);
  cairn_report_section_t *sec = cairn_report_section_add(doc, "commitments", "Commitments", "");
  assert_non_null(sec);
  assert_non_null(cairn_report_table_add(sec, "t", "Every commitment", ids, ids, NULL, 1,
                                         "No commitments recorded yet."));
  char *page = page_of(doc);
  assert_null(strstr(page, "<nav"));
  assert_non_null(strstr(page, "<h2 class=\"hidden\">Commitments</h2>"));
  assert_non_null(strstr(page, "<p class=\"empty\">No commitments recorded yet.</p>"));
  assert_null(strstr(page, "<table"));
  assert_well_formed(page);
  free(page);
  cairn_report_doc_free(doc);
}

static void axis_is(double lo, double hi, double want_lo, double want_hi, double step,
                    size_t n, int decimals) {
  cairn__axis_t a;
  cairn__axis_nice(lo, hi, 5, &a);
  if (fabs(a.lo - want_lo) > 1e-9 || fabs(a.hi - want_hi) > 1e-9 || fabs(a.step - step) > 1e-9 ||
      a.n != n || a.decimals != decimals)
    fail_msg("axis of [%g, %g]: %g..%g step %g, %zu ticks, %d decimals; want %g..%g step %g, "
             "%zu, %d",
             lo, hi, a.lo, a.hi, a.step, a.n, a.decimals, want_lo, want_hi, step, n, decimals);
}

static void test_axis(void **state) {
  cairn__axis_t a;
  (void)state;
  axis_is(39, 60, 30, 60, 10, 4, 0);     /* percentages of one school */
  axis_is(58, 120, 40, 120, 20, 5, 0);   /* far from 0: does not start there */
  axis_is(5, 100, 0, 100, 25, 5, 0);     /* near 0 (a third of the top): starts at 0 */
  axis_is(0, 1, 0, 1, 0.25, 5, 2);       /* 0.25, 0.50... */
  axis_is(50, 50, 45, 55, 2.5, 5, 1);    /* one value: room around it */
  axis_is(0, 0, 0, 1, 0.25, 5, 2);       /* one value, zero */
  axis_is(-3, 7, -5, 7.5, 2.5, 6, 1);    /* below zero */
  axis_is(0.012, 0.018, 0.01, 0.018, 0.002, 5, 3);  /* the lowest value off the axis */
  axis_is(15, 30, 10, 30, 5, 5, 0);     /* a target of 15 below the values */
  axis_is(-5, 5, -7.5, 5, 2.5, 6, 1);
  axis_is(1200, 98000, 0, 100000, 25000, 5, 0);
  cairn__axis_nice(-0.25, 0.25, 6, &a); /* -0.3 + 3 * 0.1 is 5.6e-17, not 0 */
  assert_true(fabs(a.step - 0.1) < 1e-12 && a.n == 7);
  assert_true(cairn__axis_tick(&a, 3) == 0 && !signbit(cairn__axis_tick(&a, 3)));
  assert_true(cairn__axis_tick(&a, 6) == a.hi);
}

static void test_label_step(void **state) {
  (void)state;
  assert_int_equal(cairn__label_step(8, 700, 60), 1);  /* all fit */
  assert_int_equal(cairn__label_step(8, 350, 60), 2);  /* 50 apart: every other */
  assert_int_equal(cairn__label_step(24, 460, 60), 3); /* 20 apart */
  assert_int_equal(cairn__label_step(120, 460, 60), 16);
  assert_int_equal(cairn__label_step(1, 460, 60), 1);
  assert_int_equal(cairn__label_step(0, 460, 60), 1);
}

static char *path_of(const cairn__plot_t *p, const double *y) {
  mem_t m;
  mem_open(&m);
  cairn__series_path(m.f, p, y);
  return mem_close(&m);
}

static void test_series_path(void **state) {
  cairn__plot_t p = {.left = 0, .right = 300, .top = 0, .bottom = 100, .nx = 4,
                     .axis = {.lo = 0, .hi = 100, .step = 25, .n = 5, .decimals = 0}};
  const double gap[] = {10, NAN, 30, 40}, lone[] = {NAN, 50, NAN, NAN},
               none[] = {NAN, NAN, NAN, NAN}, full[] = {0, 100, 50, 25};
  (void)state;
  char *s = path_of(&p, gap);
  assert_string_equal(s, "M0.0 90.0 M200.0 70.0 L300.0 60.0");
  free(s);
  s = path_of(&p, lone); /* a lone value: a move only (its marker shows it) */
  assert_string_equal(s, "M100.0 50.0");
  free(s);
  s = path_of(&p, none);
  assert_string_equal(s, "");
  free(s);
  s = path_of(&p, full);
  assert_string_equal(s, "M0.0 100.0 L100.0 0.0 L200.0 50.0 L300.0 75.0");
  free(s);
  p.nx = 1; /* one period: in the middle */
  assert_true(cairn__plot_x(&p, 0) == 150);
}

/* What snprintf writes for "%.*f" and what cairn__fixed writes: the same. */
static void fixed_is(double v, int decimals, size_t cap) {
  char want[400], got[400];
  int n = snprintf(want, cap, "%.*f", decimals, v);
  memset(got, 'x', sizeof got);
  int m = cairn__fixed(got, cap, v, decimals);
  if (m != n || (cap > 0 && strcmp(got, want) != 0))
    fail_msg("%.17g with %d decimals (%zu bytes): '%s' (%d), printf '%s' (%d)", v, decimals,
             cap, cap ? got : "", m, cap ? want : "", n);
}

/* Numbers without printf, as printf writes them: ties to even on the exact
 * binary value, "-" before negative zero and what rounds to zero, values near
 * a half, huge values, no number, and cut to the buffer. */
static void test_fixed(void **state) {
  static const double some[] = {0,      -0.0,   0.5,     1.5,    2.5,     0.125,  0.375,
                                -0.004, 0.05,   0.15,    0.25,   1.005,   2.675,  1e15,
                                4e15,   3.9e15, 1e300,   -1e300, 123.456, -7.25,  99.995,
                                NAN,    INFINITY, -INFINITY, 5e-324, 1e-7};
  uint64_t x = 88172645463325252ull;
  (void)state;
  for (int d = 0; d <= 10; d++) {
    for (size_t i = 0; i < sizeof some / sizeof some[0]; i++)
      fixed_is(some[i], d, 400);
    for (long k = -10000; k <= 10000; k++) {
      fixed_is(k / 1000.0, d, 400);
      fixed_is(k / 8.0, d, 400);
      fixed_is(k * 0.005, d, 400);
    }
    for (int i = 0; i < 20000; i++) { /* xorshift: any bits, any size */
      double v;
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      memcpy(&v, &x, sizeof v);
      if (isfinite(v)) {
        fixed_is(v, d, 400);
        fixed_is(ldexp((double)(x >> 11), -(int)(x & 63)), d, 400);
      }
    }
  }
  fixed_is(-12.345, 2, 4); /* cut: "-12" */
  fixed_is(1234.5, 1, 1);
  fixed_is(1.5, 1, 0);
  /* joining as snprintf's "%s%s" does, cut likewise */
  char buf[8];
  assert_int_equal(cairn__cat(buf, sizeof buf, cairn__cat(buf, sizeof buf, 0, "12.5"), " kg"),
                   7);
  assert_string_equal(buf, "12.5 kg");
  assert_int_equal(cairn__cat(buf, sizeof buf, 7, " more"), 12);
  assert_string_equal(buf, "12.5 kg");
  assert_int_equal(cairn__cat(buf, 4, 0, "123456"), 6);
  assert_string_equal(buf, "123");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_page),       cmocka_unit_test(test_one_section),
      cmocka_unit_test(test_axis),       cmocka_unit_test(test_label_step),
      cmocka_unit_test(test_series_path), cmocka_unit_test(test_fixed),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
