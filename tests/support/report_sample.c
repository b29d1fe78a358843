/*
 * report_sample.c — the hand-made report document of report_sample.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_sample.h"

const size_t cairn_test_sample_series[CAIRN_SAMPLE_NCHARTS] = {3, 2, 1, 1};

static const char *const quarters[] = {"2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4",
                                       "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"};

/* Reading at three sites (Roosevelt missed 2025-Q4), and chronic absence at two. */
static int reading_charts(cairn_report_section_t *sec) {
  static const double garfield[] = {42, 44, 45, 47, 49, 50, 52, 54};
  static const double roosevelt[] = {40, 41, 40, NAN, 39, 40, 41, 41};
  static const double jefferson[] = {45, 44, 43, 42, 42, 41, 40, 39};
  static const double absent_g[] = {24, 23, 22, 21, 20, 19, 18, 17};
  static const double absent_r[] = {26, 27, 27, 28, 28, 29, 29, 30};
  cairn_report_chart_t *c = cairn_report_chart_add(
      sec, "i1", "Third graders reading on grade level", "%", quarters, 8);
  if (c == NULL || cairn_report_series_add(c, "Garfield Elementary", garfield) != 0 ||
      cairn_report_series_add(c, "Roosevelt Elementary", roosevelt) != 0 ||
      cairn_report_series_add(c, "Jefferson Elementary", jefferson) != 0)
    return CAIRN_ENOMEM;
  c->has_target = c->has_baseline = 1;
  c->target = 60;
  c->baseline = 42;
  free(c->target_label);
  free(c->caption);
  c->target_label = strdup("target 60% by 2027-Q4");
  c->caption = strdup("Garfield is on track; Roosevelt moves too slowly (no value for "
                      "2025-Q4); Jefferson is going the wrong way.");
  cairn_report_chart_t *d =
      cairn_report_chart_add(sec, "i2", "Chronic absence (lower is better)", "%", quarters, 8);
  if (c->target_label == NULL || c->caption == NULL || d == NULL ||
      cairn_report_series_add(d, "Garfield Elementary", absent_g) != 0 ||
      cairn_report_series_add(d, "Roosevelt Elementary", absent_r) != 0)
    return CAIRN_ENOMEM;
  d->has_target = 1;
  d->target = 15;
  free(d->target_label);
  d->target_label = strdup("target 15% by 2027-Q2");
  return d->target_label == NULL ? CAIRN_ENOMEM : 0;
}

static int trend_row(cairn_report_table_t *t, const char *id, const char *site, double latest,
                     double slope, double needed, const char *trend, cairn_report_tone_t tone) {
  cairn_report_row_t *r = cairn_report_row_add(t, "site", id);
  if (r == NULL || cairn_report_cell_text(r, 0, site, 0) != 0 ||
      cairn_report_cell_number(r, 1, latest, 0, "%", 0) != 0 ||
      cairn_report_cell_number(r, 2, slope, 1, NULL, 0) != 0 ||
      cairn_report_cell_number(r, 3, needed, 1, NULL, 0) != 0 ||
      cairn_report_cell_text(r, 4, trend, tone) != 0)
    return CAIRN_ENOMEM;
  return 0;
}

static int reading(cairn_report_doc_t *doc) {
  static const char *const ids[] = {"site", "latest", "slope", "needed", "trend"};
  static const char *const labels[] = {"Site", "2026-Q4", "Change per quarter",
                                       "Needed per quarter", "Trend"};
  static const int numeric[] = {0, 1, 1, 1, 0};
  cairn_report_section_t *sec = cairn_report_section_add(
      doc, "reading", "Children read on grade level by third grade",
      "Each indicator by site, against the line from its baseline to its target.");
  if (sec == NULL || cairn_report_fact_add(sec, "on_track", "Series on track", "1 of 5", 0, 0,
                                           CAIRN_TONE_GOOD) != 0 ||
      cairn_report_fact_add(sec, "too_slow", "Too slow", "2", 1, 2, CAIRN_TONE_WARN) != 0 ||
      cairn_report_fact_add(sec, "wrong_way", "Going the wrong way", "2", 1, 2,
                            CAIRN_TONE_BAD) != 0)
    return CAIRN_ENOMEM;
  cairn_report_table_t *t = cairn_report_table_add(sec, "trends", "Third graders reading, by site",
                                                   ids, labels, numeric, 5, "No values.");
  if (t == NULL || trend_row(t, "s1", "Garfield Elementary", 54, 1.7, 0.8, "on-track",
                             CAIRN_TONE_GOOD) != 0 ||
      trend_row(t, "s2", "Roosevelt Elementary", 41, 0.1, 1.5, "too-slow", CAIRN_TONE_WARN) != 0 ||
      trend_row(t, "s3", "Jefferson Elementary", 39, -0.9, 1.7, "wrong-way", CAIRN_TONE_BAD) != 0)
    return CAIRN_ENOMEM;
  return reading_charts(sec);
}

/* A program measure by month over two years (too many labels to print all),
 * and a measure with no value yet. */
static int program(cairn_report_doc_t *doc) {
  char names[24][8];
  const char *x[24];
  double y[24], none[24];
  for (int i = 0; i < 24; i++) {
    snprintf(names[i], sizeof names[i], "%d-%02d", 2025 + i / 12, 1 + i % 12);
    x[i] = names[i];
    y[i] = i == 23 ? NAN : 60 + 2.5 * i - (i % 3 == 1 ? 4 : 0);
    none[i] = NAN;
  }
  cairn_report_section_t *sec = cairn_report_section_add(
      doc, "buddies", "Reading buddies (Lincoln Library)", "");
  cairn_report_chart_t *c =
      sec != NULL ? cairn_report_chart_add(sec, "m1", "Children tutored weekly", "children", x, 24)
                  : NULL;
  if (c == NULL || cairn_report_series_add(c, "all sites", y) != 0)
    return CAIRN_ENOMEM;
  c->has_target = 1;
  c->target = 120;
  cairn_report_chart_t *d =
      cairn_report_chart_add(sec, "m2", "Families who feel welcome", "%", x, 24);
  if (d == NULL || cairn_report_series_add(d, "all sites", none) != 0)
    return CAIRN_ENOMEM;
  return 0;
}

int cairn_test_report_sample(cairn_report_doc_t **out) {
  cairn_report_doc_t *doc = cairn_report_doc_new("measures", "Measures", NULL);
  *out = NULL;
  if (doc == NULL)
    return CAIRN_ENOMEM;
  free(doc->subtitle);
  free(doc->as_of);
  doc->subtitle = strdup("Northside Cradle to Career \xe2\x80\x94 as of 2026-11-30");
  doc->as_of = strdup("2026-11-30");
  if (doc->subtitle == NULL || doc->as_of == NULL || reading(doc) != 0 || program(doc) != 0) {
    cairn_report_doc_free(doc);
    return CAIRN_ENOMEM;
  }
  *out = doc;
  return 0;
}
