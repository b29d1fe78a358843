/*
 * meeting.c — the report for one accountability meeting: the accountability
 * score first, then every other report's sections (report.h, "meeting";
 * docs/design.md, "Reports").
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_internal.h"

#define DAY_MS 86400000ull

static double share(unsigned part, unsigned whole) {
  return whole ? 100.0 * part / whole : NAN;
}

/* The mean of the values that are known (NAN when none is). */
static double mean_known(const double *v, size_t n) {
  double sum = 0;
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!isnan(v[i]))
      sum += v[i], k++;
  return k ? sum / k : NAN;
}

/* The latest period any series has an actual for; 0 when none. */
static int latest_period(const cairn_report_measure_t *v, size_t n,
                         const cairn_report_point_t **best) {
  for (size_t i = 0; i < n; i++)
    for (size_t s = 0; s < v[i].nseries; s++) {
      const cairn_report_point_t *p = v[i].series[s].latest;
      if (p != NULL && (*best == NULL || cairn_report_period_cmp(&p->at, &(*best)->at) > 0))
        *best = p;
    }
  return *best != NULL;
}

static int overlaps(const cairn_report_period_t *a, const cairn_report_period_t *b) {
  return a->month < b->month + b->months && b->month < a->month + a->months;
}

/* Count the indicators or measures with data, and those current. */
static void count_current(const cairn_report_measure_t *v, size_t n,
                          const cairn_report_period_t *latest, cairn_report_accountability_t *out) {
  for (size_t i = 0; i < n; i++) {
    int any = 0, current = 0;
    for (size_t s = 0; s < v[i].nseries; s++) {
      const cairn_report_point_t *p = v[i].series[s].latest;
      any |= p != NULL;
      current |= p != NULL && overlaps(&p->at, latest);
    }
    out->measures_with_data += any;
    out->measures_current += current;
  }
}

static int stories(cairn_report_data_t *d, const cairn_report_measures_t *mm,
                   cairn_report_accountability_t *out) {
  const cairn_report_set_t *set;
  uint64_t since = cairn_report_data_time(d) - 90 * DAY_MS;
  int rc = cairn_report_set(d, "story", &set);
  if (rc != 0)
    return rc;
  out->indicators = (unsigned)mm->nindicators;
  for (size_t i = 0; i < mm->nindicators; i++) {
    const char *id = mm->indicators[i].rec->id;
    for (size_t k = 0; k < set->n; k++) {
      const char *ind = cairn_report_text(d, &set->v[k], "indicator");
      if (ind != NULL && strcmp(ind, id) == 0 && set->v[k].updated_ms >= since) {
        out->indicators_with_story++;
        break;
      }
    }
  }
  return 0;
}

int cairn_report_accountability(cairn_report_data_t *d, const cairn_report_measures_t *mm,
                       const cairn_report_commitments_t *cm, cairn_report_accountability_t *out) {
  const cairn_report_point_t *latest = NULL;
  uint64_t since = cairn_report_data_time(d) - 30 * DAY_MS;
  int rc;
  memset(out, 0, sizeof *out);
  /* both kinds are looked at: the latest period of either counts */
  latest_period(mm->indicators, mm->nindicators, &latest);
  if (latest_period(mm->measures, mm->nmeasures, &latest)) {
    snprintf(out->latest_period, sizeof out->latest_period, "%s", latest->period);
    count_current(mm->indicators, mm->nindicators, &latest->at, out);
    count_current(mm->measures, mm->nmeasures, &latest->at, out);
  }
  if ((rc = stories(d, mm, out)) != 0)
    return rc;
  for (size_t i = 0; i < cm->n; i++) {
    cairn_commitment_state_t st = cm->rows[i].state;
    if (st == CAIRN_COMMIT_DONE || st == CAIRN_COMMIT_DROPPED)
      continue;
    out->open_commitments++;
    out->commitments_recent += cm->rows[i].rec->updated_ms >= since;
  }
  out->series_with_data = (unsigned)(mm->nseries - mm->count[CAIRN_TREND_NO_DATA]);
  out->series_on_track = mm->count[CAIRN_TREND_ON_TRACK];
  out->data_current = share(out->measures_current, out->measures_with_data);
  out->stories_current = share(out->indicators_with_story, out->indicators);
  out->commitments_updated = share(out->commitments_recent, out->open_commitments);
  double parts[] = {out->data_current, out->stories_current, out->commitments_updated};
  out->engagement = mean_known(parts, 3);
  out->performance = share(out->series_on_track, out->series_with_data);
  double both[] = {out->engagement, out->performance};
  out->score = mean_known(both, 2);
  return 0;
}

/* ---- the document ---- */

static cairn_report_tone_t score_tone(double v) {
  return isnan(v) ? CAIRN_TONE_MUTED
         : v >= 75 ? CAIRN_TONE_GOOD
         : v >= 50 ? CAIRN_TONE_WARN
                   : CAIRN_TONE_BAD;
}

static int score_fact(cairn_report_section_t *sec, const char *id, const char *label, double v) {
  char text[32];
  if (isnan(v))
    snprintf(text, sizeof text, "-");
  else
    snprintf(text, sizeof text, "%.0f", v);
  return cairn_report_fact_add(sec, id, label, text, 1, isnan(v) ? NAN : round(v),
                               score_tone(v));
}

static int part_row(cairn_report_table_t *t, const char *what, double v, unsigned part,
                    unsigned whole, const char *meaning) {
  char count[48];
  cairn_report_row_t *row = cairn_report_row_add(t, NULL, NULL);
  if (row == NULL)
    return CAIRN_ENOMEM;
  snprintf(count, sizeof count, "%u of %u", part, whole);
  int rc = cairn_report_cell_text(row, 0, what, 0);
  if (rc == 0)
    rc = cairn_report_cell_number(row, 1, isnan(v) ? NAN : round(v), 0, NULL, score_tone(v));
  if (rc == 0)
    rc = cairn_report_cell_text(row, 2, whole ? count : "none to count", 0);
  if (rc == 0)
    rc = cairn_report_cell_text(row, 3, meaning, 0);
  return rc;
}

int cairn_report_accountability_doc(const cairn_report_accountability_t *sc, cairn_report_doc_t *doc) {
  static const char *const ids[] = {"part", "score", "count", "meaning"};
  static const char *const labels[] = {"Part", "Score", "Counted", "What it asks"};
  static const int numeric[] = {0, 1, 0, 0};
  char latest[96];
  if (sc->latest_period[0])
    snprintf(latest, sizeof latest, "a value for %s, the latest period reported",
             sc->latest_period);
  else
    snprintf(latest, sizeof latest, "a value for the latest period reported");
  cairn_report_section_t *sec = cairn_report_section_add(
      doc, "score", "Accountability score",
      "How well the partnership keeps its shared data current (engagement) and how its "
      "measures are moving (performance), each out of 100.");
  if (sec == NULL)
    return CAIRN_ENOMEM;
  int rc = score_fact(sec, "score", "Accountability score", sc->score);
  rc = rc ? rc : score_fact(sec, "engagement", "Engagement", sc->engagement);
  rc = rc ? rc : score_fact(sec, "performance", "Performance", sc->performance);
  cairn_report_table_t *t =
      rc ? NULL : cairn_report_table_add(sec, "parts", "How the score is made", ids, labels,
                                         numeric, 4, "");
  if (t == NULL)
    return rc ? rc : CAIRN_ENOMEM;
  rc = part_row(t, "Data current", sc->data_current, sc->measures_current,
                sc->measures_with_data, latest);
  rc = rc ? rc
          : part_row(t, "Stories current", sc->stories_current, sc->indicators_with_story,
                     sc->indicators, "a story behind the curve changed in the last 90 days");
  rc = rc ? rc
          : part_row(t, "Commitments updated", sc->commitments_updated, sc->commitments_recent,
                     sc->open_commitments, "open commitments changed in the last 30 days");
  rc = rc ? rc
          : part_row(t, "Measures on track", sc->performance, sc->series_on_track,
                     sc->series_with_data, "series with data that are on track");
  return rc;
}

/* The reports the meeting goes through, in order, after the score. */
static const char *const agenda[] = {"commitments", "measures", "partners", "goals", "changes"};

int cairn__report_meeting(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                          cairn_report_doc_t *doc) {
  cairn_report_measures_t *mm = NULL;
  cairn_report_commitments_t *cm = NULL;
  cairn_report_accountability_t sc;
  int rc = cairn_report_measures(d, &mm);
  if (rc == 0)
    rc = cairn_report_commitments(d, &cm);
  if (rc == 0)
    rc = cairn_report_accountability(d, mm, cm, &sc);
  if (rc == 0)
    rc = cairn_report_accountability_doc(&sc, doc);
  /* the models computed for the score serve their own sections too */
  for (size_t i = 0; rc == 0 && i < sizeof agenda / sizeof agenda[0]; i++) {
    cairn__report_fn build = cairn__report_builder(agenda[i]);
    if (strcmp(agenda[i], "commitments") == 0)
      rc = cairn_report_commitments_doc(cm, d, doc);
    else if (strcmp(agenda[i], "measures") == 0)
      rc = cairn_report_measures_doc(mm, d, doc);
    else if (build != NULL)
      rc = build(d, opts, doc);
  }
  cairn_report_measures_free(mm);
  cairn_report_commitments_free(cm);
  return rc;
}
