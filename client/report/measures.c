/*
 * measures.c — the measures report: each indicator and performance measure,
 * per site and group, its actuals by period against baseline, target and
 * forecast, the slope of its actuals against the slope needed to reach the
 * target on time, and its trend (report.h, "measures"; docs/design.md,
 * "Reports").
 *
 * The values are read once (cairn_report_set), so a report as of a past date
 * reads the values as they stood then. They are sorted by owner (the
 * indicator or measure), site, group and period; each run of one owner, site
 * and group becomes a series, and the points of a series are computed from
 * that run alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

/* ---- periods ---- */

static int digits(const char *s, size_t n, long *v) {
  *v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return 0;
    *v = *v * 10 + (s[i] - '0');
  }
  return 1;
}

int cairn_report_period_parse(const char *text, cairn_report_period_t *out) {
  size_t n = text != NULL ? strlen(text) : 0;
  long y, m = 1;
  int months = 12;
  if (n < 4 || !digits(text, 4, &y) || y < 1)
    return 0;
  if (n == 7 && text[4] == '-' && (text[5] == 'Q' || text[5] == 'q') && text[6] >= '1' &&
      text[6] <= '4') {
    m = 1 + 3 * (text[6] - '1');
    months = 3;
  } else if (n == 7 && text[4] == '-' && digits(text + 5, 2, &m) && m >= 1 && m <= 12) {
    months = 1;
  } else if (n != 4) {
    return 0;
  }
  out->month = 12 * y + m - 1;
  out->months = months;
  return 1;
}

int cairn_report_period_cmp(const cairn_report_period_t *a, const cairn_report_period_t *b) {
  if (a->month != b->month)
    return a->month < b->month ? -1 : 1;
  return b->months - a->months; /* the longer first */
}

/* The month of date ("YYYY-MM..."): 12 * year + month - 1; 0 when it is not
 * a date. */
static int date_month(const char *date, long *out) {
  long y, m;
  if (date == NULL || strlen(date) < 7 || date[4] != '-' || !digits(date, 4, &y) ||
      !digits(date + 5, 2, &m))
    return 0;
  *out = 12 * y + m - 1;
  return 1;
}

int cairn_report_period_started(const cairn_report_period_t *p, const char *date) {
  long month;
  return date_month(date, &month) && p->month <= month; /* its first day: the 1st */
}

/* ---- trends ---- */

const char *cairn_trend_name(cairn_trend_t t) {
  static const char *const names[] = {"on-track", "too-slow", "wrong-way", "no-data"};
  return t < CAIRN_TREND_N ? names[t] : "?";
}

/* Whether a is at or beyond b in direction dir, allowing for rounding. */
static int at_or_beyond(int dir, double a, double b) {
  double scale = fmax(1, fmax(fabs(a), fabs(b)));
  return dir * (a - b) >= -1e-9 * scale;
}

/* The least-squares slope of the series' actuals per month; NAN with fewer
 * than two distinct positions. */
static double slope_per_month(const cairn_report_measure_series_t *s) {
  double n = 0, mx = 0, my = 0, sxy = 0, sxx = 0;
  long x0 = s->npoints ? s->points[0].at.month : 0;
  for (size_t i = 0; i < s->npoints; i++)
    if (!isnan(s->points[i].actual)) {
      n++;
      mx += (double)(s->points[i].at.month - x0);
      my += s->points[i].actual;
    }
  if (n < 2)
    return NAN;
  mx /= n;
  my /= n;
  for (size_t i = 0; i < s->npoints; i++)
    if (!isnan(s->points[i].actual)) {
      double dx = (double)(s->points[i].at.month - x0) - mx;
      sxy += dx * (s->points[i].actual - my);
      sxx += dx * dx;
    }
  return sxx > 0 ? sxy / sxx : NAN;
}

/* The line from baseline to target at position x (months); NAN without one. */
static double line_at(const cairn_report_measure_t *m, long x) {
  cairn_report_period_t b, t;
  if (isnan(m->baseline) || isnan(m->target) ||
      !cairn_report_period_parse(m->baseline_period, &b) ||
      !cairn_report_period_parse(m->target_period, &t) || t.month <= b.month)
    return NAN;
  double f = (double)(x - b.month) / (double)(t.month - b.month);
  f = f < 0 ? 0 : f > 1 ? 1 : f;
  return m->baseline + (m->target - m->baseline) * f;
}

/* The slope per period needed from the latest actual (report.h). */
static double needed_slope(const cairn_report_measure_t *m, const cairn_report_measure_series_t *s) {
  cairn_report_period_t t;
  if (s->latest == NULL || isnan(m->target))
    return NAN;
  if (at_or_beyond(m->direction, s->latest->actual, m->target))
    return 0;
  if (!cairn_report_period_parse(m->target_period, &t) || t.month <= s->latest->at.month)
    return NAN;
  double left = (double)(t.month - s->latest->at.month) / s->per_months;
  return (m->target - s->latest->actual) / left;
}

/* The trend of a series whose slope, needed and expected are set (report.h). */
static cairn_trend_t trend_of(const cairn_report_measure_t *m,
                              const cairn_report_measure_series_t *s) {
  int dir = m->direction;
  double a, scale;
  if (isnan(s->slope))
    return CAIRN_TREND_NO_DATA;
  a = s->latest->actual;
  if (!isnan(m->target) && at_or_beyond(dir, a, m->target))
    return CAIRN_TREND_ON_TRACK;
  if (!isnan(s->expected) && at_or_beyond(dir, a, s->expected))
    return CAIRN_TREND_ON_TRACK;
  scale = fmax(1, fabs(a));
  if (fabs(s->slope) <= 1e-9 * scale)
    return CAIRN_TREND_TOO_SLOW; /* not moving */
  if (dir * s->slope < 0)
    return CAIRN_TREND_WRONG_WAY;
  if (!isnan(s->needed))
    return at_or_beyond(dir, s->slope, s->needed) ? CAIRN_TREND_ON_TRACK : CAIRN_TREND_TOO_SLOW;
  /* the right way, with nothing to measure the pace by, or too late */
  cairn_report_period_t t;
  int due = !isnan(m->target) && cairn_report_period_parse(m->target_period, &t);
  return due ? CAIRN_TREND_TOO_SLOW : CAIRN_TREND_ON_TRACK;
}

static void series_figures(const cairn_report_measure_t *m, cairn_report_measure_series_t *s) {
  s->latest = NULL;
  s->nactuals = 0;
  for (size_t i = 0; i < s->npoints; i++)
    if (!isnan(s->points[i].actual)) {
      s->latest = &s->points[i];
      s->nactuals++;
    }
  s->per_months = s->latest != NULL   ? s->latest->at.months
                  : s->npoints > 0 ? s->points[0].at.months
                                   : 12;
  s->slope = slope_per_month(s) * s->per_months;
  s->needed = needed_slope(m, s);
  s->expected = s->latest != NULL ? line_at(m, s->latest->at.month) : NAN;
  s->trend = trend_of(m, s);
}

/* ---- the values, by owner, site, group and period ---- */

typedef struct vref {
  size_t owner; /* index of the indicator or measure in its set */
  const cairn_report_rec_t *rec;
  const char *site, *group, *period;
  cairn_report_period_t at;
  double actual, target, forecast;
} vref_t;

static int str_cmp(const char *a, const char *b) {
  if (a == b)
    return 0; /* the same text (interned below), or both none */
  if (a == NULL || b == NULL)
    return (a != NULL) - (b != NULL); /* none first */
  return strcmp(a, b);
}

/*
 * Equal texts made one pointer: the values' sites and groups are compared
 * again and again (sorting, cutting into series), and two pointers compared
 * are two strings not read from records far apart in memory. The first
 * INTERN_MAX distinct texts are kept (sites and groups are few); others stay
 * as they are.
 */
#define INTERN_MAX 64

typedef struct interned {
  const char *v[INTERN_MAX];
  size_t n, last;
} interned_t;

static const char *intern(interned_t *t, const char *s) {
  if (s == NULL || (t->n > 0 && t->v[t->last] == s))
    return s;
  if (t->n > 0 && strcmp(t->v[t->last], s) == 0)
    return t->v[t->last];
  for (size_t i = 0; i < t->n; i++)
    if (strcmp(t->v[i], s) == 0)
      return t->v[t->last = i];
  if (t->n < INTERN_MAX) {
    t->v[t->n] = s;
    t->last = t->n++;
  }
  return s;
}

static int vref_cmp(const void *pa, const void *pb) {
  const vref_t *a = pa, *b = pb;
  int c;
  if (a->owner != b->owner)
    return a->owner < b->owner ? -1 : 1;
  if ((c = str_cmp(a->site, b->site)) != 0 || (c = str_cmp(a->group, b->group)) != 0 ||
      (c = cairn_report_period_cmp(&a->at, &b->at)) != 0)
    return c;
  if (a->rec->updated_ms != b->rec->updated_ms) /* the latest written last */
    return a->rec->updated_ms < b->rec->updated_ms ? -1 : 1;
  return strcmp(a->rec->id, b->rec->id);
}

static double number_or_nan(const cairn_report_rec_t *r, const char *field) {
  double v;
  return cairn_report_number(r, field, &v) ? v : NAN;
}

/* A decoded field as a number (cairn_report_number's); NAN when it is not one. */
static double field_number(const cairn_report_field_t *f) {
  return f != NULL && f->is_number ? f->v.num : NAN;
}

/* The value fields the report reads, in cairn__fields order. */
enum { F_INDICATOR, F_MEASURE, F_PERIOD, F_SITE, F_GROUP, F_ACTUAL, F_TARGET, F_FORECAST, F_N };
static const char *const value_fields[F_N] = {"indicator", "measure", "period", "site",
                                              "group",     "actual",  "target", "forecast"};

/* The values of one kind of owner (indicators or measures) as they are read,
 * then in vref order. */
typedef struct refs {
  const cairn_report_set_t *set;
  const char *field; /* "indicator" or "measure" */
  size_t fk;         /* its index in value_fields */
  vref_t *v;
  size_t n;
  const char *last_id; /* the id last found, and its owner: values come in runs */
  const cairn_report_rec_t *last;
} refs_t;

/* The owner in k's set named by value r (f: r's fields), or NULL. */
static const cairn_report_rec_t *owner_of(cairn_report_data_t *d, const cairn__fields_t *fs,
                                          refs_t *k, const cairn_report_rec_t *r,
                                          const cairn_report_field_t **f) {
  const char *id = cairn__fields_text(d, fs, k->fk, r, f[k->fk]);
  if (id == NULL)
    return NULL;
  if (k->last_id == NULL || strcmp(id, k->last_id) != 0) {
    k->last = cairn_report_find(k->set, id);
    k->last_id = id;
  }
  return k->last;
}

/* The parts of value r the series read; 0 when it has no period or no number. */
static int value_read(cairn_report_data_t *d, const cairn__fields_t *fs,
                      const cairn_report_rec_t *r, const cairn_report_field_t **f,
                      const long *today, interned_t *texts, vref_t *x) {
  x->period = cairn__fields_text(d, fs, F_PERIOD, r, f[F_PERIOD]);
  if (!cairn_report_period_parse(x->period, &x->at))
    return 0;
  x->rec = r;
  x->site = cairn__fields_text(d, fs, F_SITE, r, f[F_SITE]);
  x->group = cairn__fields_text(d, fs, F_GROUP, r, f[F_GROUP]);
  if (x->site != NULL && x->site[0] == 0)
    x->site = NULL;
  if (x->group != NULL && x->group[0] == 0)
    x->group = NULL;
  x->site = intern(texts, x->site);
  x->group = intern(texts, x->group);
  /* numbers by their stored names, as cairn_report_number reads them */
  /* begun: its first month is not after the date's (cairn_report_period_started) */
  x->actual = today != NULL && x->at.month <= *today ? field_number(f[F_ACTUAL]) : NAN;
  x->target = field_number(f[F_TARGET]);
  x->forecast = field_number(f[F_FORECAST]);
  return !isnan(x->actual) || !isnan(x->target) || !isnan(x->forecast);
}

/* Whether v[0..n) is in vref order already (values are loaded in id order,
 * which often is). */
static int in_order(const vref_t *v, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (vref_cmp(&v[i - 1], &v[i]) > 0)
      return 0;
  return 1;
}

/* Sort k's values into vref order: moved to their owner's run in place (the
 * owner is the first key; American flag sort's one pass), then each owner's
 * run sorted unless it is in order. */
static int refs_sort(refs_t *k) {
  size_t owners = k->set->n;
  size_t *end = calloc(2 * owners + 1, sizeof *end), *next = end + owners;
  if (end == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < k->n; i++)
    end[k->v[i].owner]++;
  for (size_t o = 0, at = 0; o < owners; o++) { /* next[o]: where o's run goes on */
    next[o] = at;
    at += end[o];
    end[o] = at;
  }
  for (size_t o = 0; o < owners; o++)
    while (next[o] < end[o]) {
      size_t w = k->v[next[o]].owner;
      if (w == o) {
        next[o]++;
      } else { /* to w's run; what was there is looked at next */
        vref_t t = k->v[next[w]];
        k->v[next[w]++] = k->v[next[o]];
        k->v[next[o]] = t;
      }
    }
  for (size_t o = 0, from = 0; o < owners; from = end[o++])
    if (!in_order(k->v + from, end[o] - from))
      cairn_sort(k->v + from, end[o] - from, sizeof *k->v, vref_cmp);
  free(end);
  return 0;
}

/* Every value naming an owner in one of ks[0..nk) (its field holds the
 * owner's id), read once for all of them, each kind's in vref order. */
static int values_of(cairn_report_data_t *d, const cairn_report_set_t *values, refs_t *ks,
                     size_t nk) {
  const cairn_report_field_t *f[F_N];
  long month; /* the data's date's, read once */
  const long *today = date_month(cairn_report_data_date(d), &month) ? &month : NULL;
  interned_t texts = {{NULL}, 0, 0};
  cairn__fields_t fs;
  int rc = 0;
  cairn__fields_init(d, "value", value_fields, F_N, &fs);
  for (size_t j = 0; j < nk; j++)
    if ((ks[j].v = malloc((values->n + 1) * sizeof *ks[j].v)) == NULL)
      return CAIRN_ENOMEM;
  for (size_t i = 0; i < values->n; i++) {
    const cairn_report_rec_t *r = &values->v[i], *owner[2] = {NULL, NULL};
    vref_t x;
    int any = 0;
    cairn__fields_find(&fs, r, f);
    for (size_t j = 0; j < nk && j < 2; j++)
      any |= (owner[j] = owner_of(d, &fs, &ks[j], r, f)) != NULL;
    if (!any || !value_read(d, &fs, r, f, today, &texts, &x))
      continue; /* a value of no owner here, without a period or a number */
    for (size_t j = 0; j < nk && j < 2; j++)
      if (owner[j] != NULL) {
        x.owner = (size_t)(owner[j] - ks[j].set->v);
        ks[j].v[ks[j].n++] = x;
      }
  }
  for (size_t j = 0; rc == 0 && j < nk; j++)
    rc = refs_sort(&ks[j]);
  return rc;
}

static int same_series(const vref_t *a, const vref_t *b) {
  return a->owner == b->owner && str_cmp(a->site, b->site) == 0 &&
         str_cmp(a->group, b->group) == 0;
}

/* The points of one series from its run v[0..n) (period order, the latest
 * written last within a period): one per period, field by field. */
static int series_points(const vref_t *v, size_t n, cairn_report_measure_series_t *s) {
  s->points = calloc(n, sizeof *s->points);
  if (s->points == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    cairn_report_point_t *p = &s->points[s->npoints];
    if (i == 0 || cairn_report_period_cmp(&v[i].at, &v[i - 1].at) != 0) {
      p = &s->points[s->npoints++];
      *p = (cairn_report_point_t){v[i].rec, v[i].period, v[i].at, NAN, NAN, NAN};
    } else {
      p = &s->points[s->npoints - 1];
    }
    if (!isnan(v[i].actual)) {
      p->actual = v[i].actual;
      p->rec = v[i].rec;
    } else if (isnan(p->actual)) {
      p->rec = v[i].rec;
    }
    if (!isnan(v[i].target))
      p->target = v[i].target;
    if (!isnan(v[i].forecast))
      p->forecast = v[i].forecast;
  }
  return 0;
}

static int series_cmp(const void *pa, const void *pb) {
  const cairn_report_measure_series_t *a = pa, *b = pb;
  int c = (a->site != NULL) - (b->site != NULL);
  if (c == 0 && a->site != NULL)
    c = strcmp(a->site_name, b->site_name);
  if (c == 0)
    c = str_cmp(a->site, b->site);
  return c != 0 ? c : str_cmp(a->group, b->group);
}

/* A referenced record's label, or the id itself when it is not here. */
static const char *ref_label(cairn_report_data_t *d, const cairn_report_set_t *set,
                             const char *id) {
  const cairn_report_rec_t *r = id != NULL ? cairn_report_find(set, id) : NULL;
  return r != NULL ? cairn_report_label(d, r) : id;
}

/* The series of each owner, from the runs of v. */
static int build_series(cairn_report_data_t *d, const cairn_report_set_t *sites,
                        cairn_report_measure_t *owners, const vref_t *v, size_t n) {
  for (size_t i = 0, end; i < n; i = end) {
    cairn_report_measure_t *m = &owners[v[i].owner];
    for (end = i + 1; end < n && same_series(&v[i], &v[end]); end++)
      ;
    cairn_report_measure_series_t *ns = realloc(m->series, (m->nseries + 1) * sizeof *ns);
    if (ns == NULL)
      return CAIRN_ENOMEM;
    m->series = ns;
    cairn_report_measure_series_t *s = &ns[m->nseries++];
    memset(s, 0, sizeof *s);
    s->site = v[i].site;
    s->group = v[i].group;
    s->site_name = s->site != NULL ? ref_label(d, sites, s->site) : "All sites";
    if (series_points(&v[i], end - i, s) != 0)
      return CAIRN_ENOMEM;
  }
  return 0;
}

/* ---- the owners: indicators and measures ---- */

static void owner_fill(cairn_report_data_t *d, const cairn_report_set_t *parents,
                       const char *type, const cairn_report_rec_t *r,
                       cairn_report_measure_t *m) {
  const char *dir = cairn_report_text(d, r, "direction");
  int is_indicator = strcmp(type, "indicator") == 0;
  memset(m, 0, sizeof *m);
  m->rec = r;
  m->type = type;
  m->title = cairn_report_label(d, r);
  m->unit = cairn_report_text(d, r, "unit");
  m->context = ref_label(d, parents, cairn_report_text(d, r, is_indicator ? "result" : "program"));
  m->kind = is_indicator ? NULL : cairn_report_text(d, r, "kind");
  m->baseline = is_indicator ? number_or_nan(r, "baseline") : NAN;
  m->target = number_or_nan(r, "target");
  m->baseline_period = is_indicator ? cairn_report_text(d, r, "baseline_period") : NULL;
  m->target_period = is_indicator ? cairn_report_text(d, r, "target_period") : NULL;
  if (dir != NULL && strcmp(dir, "down") == 0)
    m->direction = -1;
  else if (dir != NULL && strcmp(dir, "up") == 0)
    m->direction = 1;
  else
    m->direction = !isnan(m->target) && !isnan(m->baseline) && m->target < m->baseline ? -1 : 1;
}

static int title_cmp(const void *pa, const void *pb) {
  const cairn_report_measure_t *a = pa, *b = pb;
  int c = strcmp(a->title, b->title);
  return c != 0 ? c : strcmp(a->rec->id, b->rec->id);
}

static void owners_free(cairn_report_measure_t *v, size_t n) {
  for (size_t i = 0; v != NULL && i < n; i++) {
    for (size_t k = 0; k < v[i].nseries; k++)
      free(v[i].series[k].points);
    free(v[i].series);
  }
  free(v);
}

/* Every record of type (its set into *set), filled from its fields. */
static int owners_new(cairn_report_data_t *d, const char *type, const char *parent_type,
                      const cairn_report_set_t **set, cairn_report_measure_t **out) {
  const cairn_report_set_t *parents;
  int rc;
  *out = NULL;
  if ((rc = cairn_report_set(d, type, set)) != 0 ||
      (rc = cairn_report_set(d, parent_type, &parents)) != 0)
    return rc;
  if ((*out = calloc((*set)->n + 1, sizeof **out)) == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < (*set)->n; i++)
    owner_fill(d, parents, type, &(*set)->v[i], &(*out)[i]);
  return 0;
}

/* The owners' series from their values k, counted into m's totals; the
 * owners then by title. */
static int owners_finish(cairn_report_data_t *d, cairn_report_measures_t *m,
                         const cairn_report_set_t *sites, const refs_t *k,
                         cairn_report_measure_t *v) {
  int rc = build_series(d, sites, v, k->v, k->n);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < k->set->n; i++)
    for (size_t j = 0; j < v[i].nseries; j++) {
      series_figures(&v[i], &v[i].series[j]);
      v[i].count[v[i].series[j].trend]++;
      m->count[v[i].series[j].trend]++;
      m->nseries++;
    }
  for (size_t i = 0; i < k->set->n; i++)
    cairn_sort(v[i].series, v[i].nseries, sizeof *v[i].series, series_cmp);
  cairn_sort(v, k->set->n, sizeof *v, title_cmp);
  return 0;
}

/* The indicators and measures with their series: the values read once for
 * both. */
static int measures_load(cairn_report_data_t *d, cairn_report_measures_t *m) {
  const cairn_report_set_t *values, *sites;
  refs_t k[2] = {{NULL, "indicator", F_INDICATOR, NULL, 0, NULL, NULL},
                 {NULL, "measure", F_MEASURE, NULL, 0, NULL, NULL}};
  int rc;
  if ((rc = owners_new(d, "indicator", "result", &k[0].set, &m->indicators)) == 0)
    m->nindicators = k[0].set->n;
  if (rc == 0 && (rc = owners_new(d, "measure", "program", &k[1].set, &m->measures)) == 0)
    m->nmeasures = k[1].set->n;
  if (rc == 0 && (rc = cairn_report_set(d, "value", &values)) == 0 &&
      (rc = cairn_report_set(d, "site", &sites)) == 0 &&
      (rc = values_of(d, values, k, 2)) == 0 &&
      (rc = owners_finish(d, m, sites, &k[0], m->indicators)) == 0)
    rc = owners_finish(d, m, sites, &k[1], m->measures);
  free(k[0].v);
  free(k[1].v);
  return rc;
}

int cairn_report_measures(cairn_report_data_t *d, cairn_report_measures_t **out) {
  cairn_report_measures_t *m = calloc(1, sizeof *m);
  int rc;
  *out = NULL;
  if (m == NULL)
    return CAIRN_ENOMEM;
  if ((rc = measures_load(d, m)) != 0) {
    cairn_report_measures_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

void cairn_report_measures_free(cairn_report_measures_t *m) {
  if (m == NULL)
    return;
  owners_free(m->indicators, m->nindicators);
  owners_free(m->measures, m->nmeasures);
  free(m);
}

/* ---- the document ---- */

static cairn_report_tone_t trend_tone(cairn_trend_t t) {
  static const cairn_report_tone_t tones[] = {CAIRN_TONE_GOOD, CAIRN_TONE_WARN, CAIRN_TONE_BAD,
                                              CAIRN_TONE_MUTED};
  return t < CAIRN_TREND_N ? tones[t] : CAIRN_TONE_PLAIN;
}

/* Decimals enough for v, up to most. */
static int decimals(double v, int most) {
  double scaled = v;
  for (int k = 0; k < most; k++, scaled *= 10)
    if (fabs(scaled - round(scaled)) < 1e-6)
      return k;
  return most;
}

static int number_cell(cairn_report_row_t *row, size_t col, double v, int most,
                       const char *unit) {
  return cairn_report_cell_number(row, col, v, isnan(v) ? 0 : decimals(v, most), unit, 0);
}

static const char *per_name(int months) {
  return months == 1 ? "per month" : months == 3 ? "per quarter" : "per year";
}

/* "Site A", "Site A, grade 3", "All sites, grade 3". */
static void series_name(const cairn_report_measure_series_t *s, char *out, size_t cap) {
  snprintf(out, cap, "%s%s%s", s->site_name, s->group ? ", " : "", s->group ? s->group : "");
}

static int series_row(cairn_report_table_t *t, const cairn_report_measure_t *m,
                      const cairn_report_measure_series_t *s) {
  cairn_report_row_t *row = cairn_report_row_add(t, m->type, m->rec->id);
  const char *per = per_name(s->per_months);
  int rc = row == NULL ? CAIRN_ENOMEM : cairn_report_cell_text(row, 0, m->title, 0);
  rc = rc ? rc : cairn_report_cell_text(row, 1, s->site_name, 0);
  rc = rc ? rc : cairn_report_cell_text(row, 2, s->group ? s->group : "all", 0);
  rc = rc ? rc : cairn_report_cell_text(row, 3, s->latest ? s->latest->period : "", 0);
  rc = rc ? rc : number_cell(row, 4, s->latest ? s->latest->actual : NAN, 2, NULL);
  rc = rc ? rc : number_cell(row, 5, m->target, 2, NULL);
  rc = rc ? rc : number_cell(row, 6, s->slope, 2, per);
  rc = rc ? rc : number_cell(row, 7, s->needed, 2, per);
  rc = rc ? rc : cairn_report_cell_text(row, 8, cairn_trend_name(s->trend), trend_tone(s->trend));
  return rc;
}

static int series_table(cairn_report_section_t *sec, const char *id, const char *title,
                        const char *col, const char *col_label,
                        const cairn_report_measure_t *v, size_t n, const char *empty) {
  const char *ids[] = {col,      "site",  "group",        "latest_period", "latest",
                       "target", "slope", "needed_slope", "trend"};
  const char *labels[] = {col_label, "Site",  "Group",  "Latest period", "Latest",
                          "Target",  "Slope", "Needed", "Trend"};
  const int numeric[] = {0, 0, 0, 0, 1, 1, 1, 1, 0};
  cairn_report_table_t *t = cairn_report_table_add(sec, id, title, ids, labels, numeric, 9, empty);
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < v[i].nseries; k++) {
      int rc = series_row(t, &v[i], &v[i].series[k]);
      if (rc != 0)
        return rc;
    }
  return 0;
}

static int summary(cairn_report_doc_t *doc, const cairn_report_measures_t *m) {
  static const char *const fact_ids[] = {"on_track", "too_slow", "wrong_way", "no_data"};
  static const char *const fact_labels[] = {"On track", "Too slow", "Wrong way", "No data"};
  char text[32];
  cairn_report_section_t *sec = cairn_report_section_add(
      doc, "measures", "Measures against target",
      "Each indicator and performance measure, per site and group. Slope: the change per "
      "period of the actuals (least squares); needed: the change per period that reaches "
      "the target by the target period from the latest actual. On track: at or ahead of "
      "the target or of the line from baseline to target, or moving fast enough; too slow: "
      "the right way, too slowly; wrong way: away from the target; no data: fewer than two "
      "periods.");
  int rc = sec == NULL ? CAIRN_ENOMEM : 0;
  snprintf(text, sizeof text, "%zu", m->nseries);
  rc = rc ? rc : cairn_report_fact_add(sec, "series", "Series", text, 1, (double)m->nseries, 0);
  for (int t = 0; rc == 0 && t < CAIRN_TREND_N; t++) {
    snprintf(text, sizeof text, "%u", m->count[t]);
    rc = cairn_report_fact_add(sec, fact_ids[t], fact_labels[t], text, 1, m->count[t],
                               m->count[t] ? trend_tone((cairn_trend_t)t) : CAIRN_TONE_PLAIN);
  }
  if (rc == 0)
    rc = series_table(sec, "indicators", "Indicators", "indicator", "Indicator", m->indicators,
                      m->nindicators, "No indicator has values yet.");
  if (rc == 0)
    rc = series_table(sec, "measures", "Performance measures", "measure", "Measure",
                      m->measures, m->nmeasures, "No performance measure has values yet.");
  return rc;
}

/* "indicator-" and the id, with anything but letters, digits, - and _ as _. */
static void section_id(const cairn_report_measure_t *m, char *out, size_t cap) {
  int n = snprintf(out, cap, "%s-%s", m->type, m->rec->id);
  for (size_t i = strlen(m->type) + 1; i < cap && (int)i < n && out[i]; i++) {
    char c = out[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
          c == '-' || c == '_'))
      out[i] = '_';
  }
}

/* "Better is up. Baseline 41 (2024). Target 60 by 2027." */
static void intro_of(const cairn_report_measure_t *m, char *out, size_t cap) {
  size_t len = 0;
#define ADD(...) len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, __VA_ARGS__)
  out[0] = 0;
  if (m->context != NULL)
    ADD("%s: %s. ", strcmp(m->type, "indicator") == 0 ? "Result" : "Program", m->context);
  if (m->kind != NULL)
    ADD("Kind: %s. ", m->kind);
  ADD("Better is %s.", m->direction > 0 ? "up" : "down");
  if (!isnan(m->baseline))
    ADD(" Baseline %.*f%s%s%s.", decimals(m->baseline, 2), m->baseline,
        m->baseline_period ? " (" : "", m->baseline_period ? m->baseline_period : "",
        m->baseline_period ? ")" : "");
  if (!isnan(m->target))
    ADD(" Target %.*f%s%s.", decimals(m->target, 2), m->target,
        m->target_period ? " by " : "", m->target_period ? m->target_period : "");
  if (m->unit != NULL)
    ADD(" Unit: %s.", m->unit);
#undef ADD
}

/* One point of each period of m's series, in period order: the chart's x (of
 * points with one period, the first series'). Each series' points are in
 * period order: each series is merged into the periods of those before it. */
static const cairn_report_point_t **periods_of(const cairn_report_measure_t *m, size_t *n) {
  size_t total = 0;
  for (size_t i = 0; i < m->nseries; i++)
    total += m->series[i].npoints;
  const cairn_report_point_t **p = malloc((total + 1) * sizeof *p);
  const cairn_report_point_t **merged = malloc((total + 1) * sizeof *merged);
  *n = 0;
  if (p == NULL || merged == NULL) {
    free(p);
    free(merged);
    return NULL;
  }
  for (size_t i = 0; i < m->nseries; i++) {
    const cairn_report_point_t *q = m->series[i].points;
    size_t a = 0, b = 0, k = 0, nq = m->series[i].npoints;
    while (a < *n || b < nq) {
      int c = a == *n ? 1 : b == nq ? -1 : cairn_report_period_cmp(&p[a]->at, &q[b].at);
      merged[k++] = c <= 0 ? p[a] : &q[b];
      a += c <= 0;
      b += c >= 0;
    }
    const cairn_report_point_t **t = p;
    p = merged;
    merged = t;
    *n = k;
  }
  free(merged);
  return p;
}

/* The actuals of s at the periods px (NAN where it has none). */
static void series_y(const cairn_report_measure_series_t *s, const cairn_report_point_t **px,
                     size_t nx, double *y) {
  size_t k = 0;
  for (size_t j = 0; j < nx; j++) {
    while (k < s->npoints && cairn_report_period_cmp(&s->points[k].at, &px[j]->at) < 0)
      k++;
    y[j] = k < s->npoints && cairn_report_period_cmp(&s->points[k].at, &px[j]->at) == 0
               ? s->points[k].actual
               : NAN;
  }
}

/* "Trend: All sites on-track; Site A too-slow." */
static char *caption_of(const cairn_report_measure_t *m) {
  char caption[1200], name[300];
  size_t len = (size_t)snprintf(caption, sizeof caption, "Trend:");
  for (size_t i = 0; i < m->nseries && len < sizeof caption; i++) {
    series_name(&m->series[i], name, sizeof name);
    len += (size_t)snprintf(caption + len, sizeof caption - len, "%s %s %s", i ? ";" : "",
                            name, cairn_trend_name(m->series[i].trend));
  }
  return strdup(caption);
}

static int chart_fill(cairn_report_chart_t *c, const cairn_report_measure_t *m,
                      const cairn_report_point_t **px, size_t nx, double *y) {
  char name[300], label[120];
  for (size_t i = 0; i < m->nseries; i++) {
    series_y(&m->series[i], px, nx, y);
    series_name(&m->series[i], name, sizeof name);
    if (cairn_report_series_add(c, name, y) != 0)
      return CAIRN_ENOMEM;
  }
  c->has_target = !isnan(m->target);
  c->target = c->has_target ? m->target : 0;
  c->has_baseline = !isnan(m->baseline);
  c->baseline = c->has_baseline ? m->baseline : 0;
  free(c->caption);
  if ((c->caption = caption_of(m)) == NULL)
    return CAIRN_ENOMEM;
  if (!c->has_target)
    return 0;
  snprintf(label, sizeof label, "target %.*f%s%s", decimals(m->target, 2), m->target,
           m->target_period ? " by " : "", m->target_period ? m->target_period : "");
  free(c->target_label);
  return (c->target_label = strdup(label)) == NULL ? CAIRN_ENOMEM : 0;
}

/* The chart of m: a line per series over every period of its values. None
 * when it has no values. */
static int chart_add(cairn_report_section_t *sec, const char *id, const cairn_report_measure_t *m) {
  size_t nx;
  const cairn_report_point_t **px = periods_of(m, &nx);
  const char **x = px != NULL ? malloc((nx + 1) * sizeof *x) : NULL;
  double *y = x != NULL ? malloc((nx + 1) * sizeof *y) : NULL;
  cairn_report_chart_t *c = NULL;
  int rc = CAIRN_ENOMEM;
  if (y == NULL)
    goto done;
  rc = 0;
  if (nx == 0)
    goto done;
  for (size_t j = 0; j < nx; j++)
    x[j] = px[j]->period;
  c = cairn_report_chart_add(sec, id, m->title, m->unit ? m->unit : "", x, nx);
  rc = c == NULL ? CAIRN_ENOMEM : chart_fill(c, m, px, nx, y);
done:
  free(px);
  free(x);
  free(y);
  return rc;
}

#define VALUES_SHOWN 8 /* periods of each series in a record's table of values */

static int values_table(cairn_report_section_t *sec, const cairn_report_measure_t *m) {
  const char *ids[] = {"site", "group", "period", "actual", "target", "forecast"};
  const char *labels[] = {"Site", "Group", "Period", "Actual", "Target", "Forecast"};
  const int numeric[] = {0, 0, 0, 1, 1, 1};
  char title[600];
  size_t most = 0;
  for (size_t i = 0; i < m->nseries; i++)
    most = m->series[i].npoints > most ? m->series[i].npoints : most;
  /* alone in CSV, the title says whose; a long series shows its latest periods */
  if (most > VALUES_SHOWN)
    snprintf(title, sizeof title, "%s: values of the latest %d periods of each series",
             m->title, VALUES_SHOWN);
  else
    snprintf(title, sizeof title, "%s: values", m->title);
  cairn_report_table_t *t =
      cairn_report_table_add(sec, "values", title, ids, labels, numeric, 6, "No values yet.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->nseries; i++)
    for (size_t k = m->series[i].npoints > VALUES_SHOWN ? m->series[i].npoints - VALUES_SHOWN
                                                        : 0;
         k < m->series[i].npoints; k++) {
      const cairn_report_measure_series_t *s = &m->series[i];
      const cairn_report_point_t *p = &s->points[k];
      cairn_report_row_t *row = cairn_report_row_add(t, "value", p->rec->id);
      int rc = row == NULL ? CAIRN_ENOMEM : cairn_report_cell_text(row, 0, s->site_name, 0);
      rc = rc ? rc : cairn_report_cell_text(row, 1, s->group ? s->group : "all", 0);
      rc = rc ? rc : cairn_report_cell_text(row, 2, p->period, 0);
      rc = rc ? rc : number_cell(row, 3, p->actual, 2, NULL);
      rc = rc ? rc : number_cell(row, 4, p->target, 2, NULL);
      rc = rc ? rc : number_cell(row, 5, p->forecast, 2, NULL);
      if (rc != 0)
        return rc;
    }
  return 0;
}

static int owner_section(cairn_report_doc_t *doc, const cairn_report_measure_t *m) {
  char id[CAIRN_ID_MAX + 32], intro[1400];
  section_id(m, id, sizeof id);
  intro_of(m, intro, sizeof intro);
  cairn_report_section_t *sec = cairn_report_section_add(doc, id, m->title, intro);
  int rc = sec == NULL ? CAIRN_ENOMEM : chart_add(sec, id, m);
  return rc != 0 ? rc : values_table(sec, m);
}

int cairn_report_measures_doc(const cairn_report_measures_t *m, cairn_report_data_t *d,
                              cairn_report_doc_t *doc) {
  int rc = summary(doc, m);
  (void)d;
  for (size_t i = 0; rc == 0 && i < m->nindicators; i++)
    rc = owner_section(doc, &m->indicators[i]);
  for (size_t i = 0; rc == 0 && i < m->nmeasures; i++)
    rc = owner_section(doc, &m->measures[i]);
  return rc;
}

int cairn__report_measures(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                           cairn_report_doc_t *doc) {
  cairn_report_measures_t *m;
  int rc = cairn_report_measures(d, &m);
  (void)opts;
  if (rc == 0)
    rc = cairn_report_measures_doc(m, d, doc);
  cairn_report_measures_free(m);
  return rc;
}
