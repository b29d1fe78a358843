/*
 * goals.c — the goals report: each soft goal's ratings over time, per
 * partner, with the latest score and its change since the partner's previous
 * rating (report.h, "goals"; docs/design.md, "Reports").
 *
 * The ratings are read once (cairn_report_set) and sorted by goal, partner and
 * period; each run of one goal and partner becomes that partner's line.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

typedef struct rref {
  size_t goal; /* index of the goal in its set */
  const char *partner;
  cairn_report_score_t score;
} rref_t;

static int str_cmp(const char *a, const char *b) {
  if (a == NULL || b == NULL)
    return (a != NULL) - (b != NULL); /* none first */
  return strcmp(a, b);
}

static int rref_cmp(const void *pa, const void *pb) {
  const rref_t *a = pa, *b = pb;
  int c;
  if (a->goal != b->goal)
    return a->goal < b->goal ? -1 : 1;
  if ((c = str_cmp(a->partner, b->partner)) != 0 ||
      (c = cairn_report_period_cmp(&a->score.at, &b->score.at)) != 0)
    return c;
  if (a->score.rec->updated_ms != b->score.rec->updated_ms) /* the latest written last */
    return a->score.rec->updated_ms < b->score.rec->updated_ms ? -1 : 1;
  return strcmp(a->score.rec->id, b->score.rec->id);
}

/* The ratings of a goal in goals, with a score, a period begun by the data's
 * date, in rref order. */
static int ratings_of(cairn_report_data_t *d, const cairn_report_set_t *ratings,
                      const cairn_report_set_t *goals, rref_t **out, size_t *n) {
  rref_t *v = malloc((ratings->n + 1) * sizeof *v);
  const char *date = cairn_report_data_date(d);
  *out = v;
  *n = 0;
  if (v == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < ratings->n; i++) {
    const cairn_report_rec_t *r = &ratings->v[i];
    const char *goal = cairn_report_text(d, r, "goal");
    const cairn_report_rec_t *g = goal != NULL ? cairn_report_find(goals, goal) : NULL;
    rref_t *x = &v[*n];
    x->score.rec = r;
    x->score.period = cairn_report_text(d, r, "period");
    if (g == NULL || !cairn_report_number(r, "score", &x->score.score) ||
        !cairn_report_period_parse(x->score.period, &x->score.at) ||
        !cairn_report_period_started(&x->score.at, date))
      continue;
    x->goal = (size_t)(g - goals->v);
    x->partner = cairn_report_text(d, r, "partner");
    if (x->partner != NULL && x->partner[0] == 0)
      x->partner = NULL;
    (*n)++;
  }
  cairn_sort(v, *n, sizeof *v, rref_cmp);
  return 0;
}

/* One partner's line from its run v[0..n): the latest written per period. */
static int rated_fill(const rref_t *v, size_t n, cairn_report_rated_t *p) {
  if ((p->scores = malloc(n * sizeof *p->scores)) == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    if (p->n > 0 && cairn_report_period_cmp(&p->scores[p->n - 1].at, &v[i].score.at) == 0)
      p->n--; /* a later write for the same period */
    p->scores[p->n++] = v[i].score;
  }
  p->latest = &p->scores[p->n - 1];
  p->previous = p->n > 1 ? &p->scores[p->n - 2] : NULL;
  p->change = p->previous != NULL ? p->latest->score - p->previous->score : NAN;
  p->direction = isnan(p->change) || p->change == 0 ? 0 : p->change > 0 ? 1 : -1;
  return 0;
}

/* A referenced record's label, or the id itself when it is not here. */
static const char *ref_label(cairn_report_data_t *d, const cairn_report_set_t *set,
                             const char *id) {
  const cairn_report_rec_t *r = id != NULL ? cairn_report_find(set, id) : NULL;
  return r != NULL ? cairn_report_label(d, r) : id;
}

static int rated_cmp(const void *pa, const void *pb) {
  const cairn_report_rated_t *a = pa, *b = pb;
  int c = (a->partner != NULL) - (b->partner != NULL);
  if (c == 0 && a->partner != NULL)
    c = strcmp(a->partner_name, b->partner_name);
  return c != 0 ? c : str_cmp(a->partner, b->partner);
}

static int goal_cmp(const void *pa, const void *pb) {
  const cairn_report_goal_t *a = pa, *b = pb;
  int c = strcmp(a->title, b->title);
  return c != 0 ? c : strcmp(a->rec->id, b->rec->id);
}

/* Each goal's partners, from the runs of v. */
static int build_goals(cairn_report_data_t *d, const cairn_report_set_t *partners,
                       cairn_report_goals_t *m, const rref_t *v, size_t n) {
  for (size_t i = 0, end; i < n; i = end) {
    cairn_report_goal_t *g = &m->goals[v[i].goal];
    for (end = i + 1; end < n && v[end].goal == v[i].goal &&
                      str_cmp(v[end].partner, v[i].partner) == 0;
         end++)
      ;
    cairn_report_rated_t *np = realloc(g->partners, (g->npartners + 1) * sizeof *np);
    if (np == NULL)
      return CAIRN_ENOMEM;
    g->partners = np;
    cairn_report_rated_t *p = &np[g->npartners++];
    memset(p, 0, sizeof *p);
    p->partner = v[i].partner;
    p->partner_name = p->partner ? ref_label(d, partners, p->partner) : "Whole partnership";
    if (rated_fill(&v[i], end - i, p) != 0)
      return CAIRN_ENOMEM;
    if (p->previous != NULL)
      (p->direction > 0 ? &m->up : p->direction < 0 ? &m->down : &m->same)[0]++;
  }
  return 0;
}

static void goal_fill(cairn_report_data_t *d, const cairn_report_rec_t *r,
                      cairn_report_goal_t *g) {
  memset(g, 0, sizeof *g);
  g->rec = r;
  g->title = cairn_report_label(d, r);
  if (!cairn_report_number(r, "scale_min", &g->scale_min))
    g->scale_min = NAN;
  if (!cairn_report_number(r, "scale_max", &g->scale_max))
    g->scale_max = NAN;
}

int cairn_report_goals(cairn_report_data_t *d, cairn_report_goals_t **out) {
  const cairn_report_set_t *goals, *ratings, *partners;
  cairn_report_goals_t *m = calloc(1, sizeof *m);
  rref_t *refs = NULL;
  size_t nrefs = 0;
  int rc;
  *out = NULL;
  if (m == NULL)
    return CAIRN_ENOMEM;
  if ((rc = cairn_report_set(d, "goal", &goals)) != 0 ||
      (rc = cairn_report_set(d, "rating", &ratings)) != 0 ||
      (rc = cairn_report_set(d, "partner", &partners)) != 0)
    goto fail;
  if ((m->goals = calloc(goals->n + 1, sizeof *m->goals)) == NULL) {
    rc = CAIRN_ENOMEM;
    goto fail;
  }
  m->n = goals->n;
  for (size_t i = 0; i < goals->n; i++)
    goal_fill(d, &goals->v[i], &m->goals[i]);
  if ((rc = ratings_of(d, ratings, goals, &refs, &nrefs)) != 0 ||
      (rc = build_goals(d, partners, m, refs, nrefs)) != 0)
    goto fail;
  for (size_t i = 0; i < m->n; i++)
    cairn_sort(m->goals[i].partners, m->goals[i].npartners, sizeof *m->goals[i].partners, rated_cmp);
  cairn_sort(m->goals, m->n, sizeof *m->goals, goal_cmp);
  free(refs);
  *out = m;
  return 0;
fail:
  free(refs);
  cairn_report_goals_free(m);
  return rc;
}

void cairn_report_goals_free(cairn_report_goals_t *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; m->goals != NULL && i < m->n; i++) {
    for (size_t k = 0; k < m->goals[i].npartners; k++)
      free(m->goals[i].partners[k].scores);
    free(m->goals[i].partners);
  }
  free(m->goals);
  free(m);
}

/* ---- the document ---- */

/* Decimals enough for v, up to 2. */
static int decimals(double v) {
  return fabs(v - round(v)) < 1e-6 ? 0 : fabs(v * 10 - round(v * 10)) < 1e-6 ? 1 : 2;
}

static int score_cell(cairn_report_row_t *row, size_t col, const cairn_report_score_t *s) {
  double v = s != NULL ? s->score : NAN;
  return cairn_report_cell_number(row, col, v, isnan(v) ? 0 : decimals(v), NULL, 0);
}

/* The change as "+1", "-0.5", "0" (a number in JSON), toned by its sign. */
static int change_cell(cairn_report_row_t *row, size_t col, const cairn_report_rated_t *p) {
  static const cairn_report_tone_t tones[] = {CAIRN_TONE_BAD, CAIRN_TONE_PLAIN,
                                              CAIRN_TONE_GOOD};
  char text[64];
  if (p->previous == NULL)
    return cairn_report_cell_number(row, col, NAN, 0, NULL, CAIRN_TONE_MUTED);
  snprintf(text, sizeof text, "%s%.*f", p->change > 0 ? "+" : "", decimals(p->change),
           p->change);
  int rc = cairn_report_cell_text(row, col, text, tones[p->direction + 1]);
  if (rc == 0) {
    row->cells[col].is_number = 1;
    row->cells[col].num = p->change;
  }
  return rc;
}

static const char *direction_name(const cairn_report_rated_t *p) {
  if (p->previous == NULL)
    return "";
  return p->direction > 0 ? "up" : p->direction < 0 ? "down" : "same";
}

static int goal_table(cairn_report_section_t *sec, const cairn_report_goal_t *g) {
  const char *ids[] = {"partner",  "latest_period", "score",    "previous_period",
                       "previous", "change",        "direction"};
  const char *labels[] = {"Partner",  "Latest period", "Score",    "Previous period",
                          "Previous", "Change",        "Direction"};
  const int numeric[] = {0, 0, 1, 0, 1, 1, 0};
  char title[600];
  snprintf(title, sizeof title, "%s: latest ratings", g->title); /* alone in CSV, it says whose */
  cairn_report_table_t *t =
      cairn_report_table_add(sec, "ratings", title, ids, labels, numeric, 7, "No ratings yet.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < g->npartners; i++) {
    const cairn_report_rated_t *p = &g->partners[i];
    cairn_report_row_t *row = cairn_report_row_add(t, "rating", p->latest->rec->id);
    int rc = row == NULL ? CAIRN_ENOMEM : cairn_report_cell_text(row, 0, p->partner_name, 0);
    rc = rc ? rc : cairn_report_cell_text(row, 1, p->latest->period, 0);
    rc = rc ? rc : score_cell(row, 2, p->latest);
    rc = rc ? rc : cairn_report_cell_text(row, 3, p->previous ? p->previous->period : "", 0);
    rc = rc ? rc : score_cell(row, 4, p->previous);
    rc = rc ? rc : change_cell(row, 5, p);
    rc = rc ? rc : cairn_report_cell_text(row, 6, direction_name(p), row->cells[5].tone);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int score_at_cmp(const void *pa, const void *pb) {
  const cairn_report_score_t *const *a = pa, *const *b = pb;
  return cairn_report_period_cmp(&(*a)->at, &(*b)->at);
}

/* Every period rated on g, one score of each, in period order. */
static const cairn_report_score_t **goal_periods(const cairn_report_goal_t *g, size_t *n) {
  size_t total = 0, k = 0;
  for (size_t i = 0; i < g->npartners; i++)
    total += g->partners[i].n;
  const cairn_report_score_t **v = malloc((total + 1) * sizeof *v);
  *n = 0;
  if (v == NULL)
    return NULL;
  for (size_t i = 0; i < g->npartners; i++)
    for (size_t j = 0; j < g->partners[i].n; j++)
      v[k++] = &g->partners[i].scores[j];
  cairn_sort(v, total, sizeof *v, score_at_cmp);
  for (size_t i = 0; i < total; i++)
    if (*n == 0 || cairn_report_period_cmp(&v[*n - 1]->at, &v[i]->at) != 0)
      v[(*n)++] = v[i];
  return v;
}

static int chart_lines(cairn_report_chart_t *c, const cairn_report_goal_t *g,
                       const cairn_report_score_t **px, double *y) {
  for (size_t i = 0; i < g->npartners; i++) {
    const cairn_report_rated_t *p = &g->partners[i];
    for (size_t j = 0, k = 0; j < c->nx; j++) {
      while (k < p->n && cairn_report_period_cmp(&p->scores[k].at, &px[j]->at) < 0)
        k++;
      y[j] = k < p->n && cairn_report_period_cmp(&p->scores[k].at, &px[j]->at) == 0
                 ? p->scores[k].score
                 : NAN;
    }
    if (cairn_report_series_add(c, p->partner_name, y) != 0)
      return CAIRN_ENOMEM;
  }
  return 0;
}

/* The chart of g: a line per partner over every period rated. None when it
 * has no ratings. */
static int goal_chart(cairn_report_section_t *sec, const char *id, const cairn_report_goal_t *g,
                      const char *scale) {
  size_t nx;
  const cairn_report_score_t **px = goal_periods(g, &nx);
  const char **x = px != NULL ? malloc((nx + 1) * sizeof *x) : NULL;
  double *y = x != NULL ? malloc((nx + 1) * sizeof *y) : NULL;
  cairn_report_chart_t *c;
  int rc = y == NULL ? CAIRN_ENOMEM : 0;
  if (rc == 0 && nx > 0) {
    for (size_t j = 0; j < nx; j++)
      x[j] = px[j]->period;
    c = cairn_report_chart_add(sec, id, g->title, "score", x, nx);
    rc = c == NULL ? CAIRN_ENOMEM : chart_lines(c, g, px, y);
    if (rc == 0 && scale[0]) {
      free(c->caption);
      rc = (c->caption = strdup(scale)) == NULL ? CAIRN_ENOMEM : 0;
    }
  }
  free(px);
  free(x);
  free(y);
  return rc;
}

/* "goal-" and the id, with anything but letters, digits, - and _ as _. */
static void section_id(const char *rec_id, char *out, size_t cap) {
  snprintf(out, cap, "goal-%s", rec_id);
  for (char *c = out + 5; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
          *c == '-' || *c == '_'))
      *c = '_';
}

static int goal_section(cairn_report_doc_t *doc, const cairn_report_goal_t *g) {
  char id[CAIRN_ID_MAX + 16], scale[160] = "";
  if (!isnan(g->scale_min) && !isnan(g->scale_max))
    snprintf(scale, sizeof scale, "Scored from %.*f to %.*f.", decimals(g->scale_min),
             g->scale_min, decimals(g->scale_max), g->scale_max);
  section_id(g->rec->id, id, sizeof id);
  cairn_report_section_t *sec = cairn_report_section_add(doc, id, g->title, scale);
  int rc = sec == NULL ? CAIRN_ENOMEM : goal_table(sec, g);
  return rc != 0 ? rc : goal_chart(sec, id, g, scale);
}

static int summary(cairn_report_doc_t *doc, const cairn_report_goals_t *m) {
  const char *ids[] = {"goals", "rose", "fell", "held"};
  const char *labels[] = {"Soft goals", "Rose since last rated", "Fell since last rated",
                          "Held"};
  const double nums[] = {(double)m->n, m->up, m->down, m->same};
  const cairn_report_tone_t tones[] = {0, m->up ? CAIRN_TONE_GOOD : 0,
                                       m->down ? CAIRN_TONE_BAD : 0, 0};
  char text[32];
  cairn_report_section_t *sec = cairn_report_section_add(
      doc, "goals", "Soft goals",
      m->n ? "How each partner rates each quality of the partnership over time, and the "
             "change since its previous rating."
           : "No soft goals recorded yet.");
  int rc = sec == NULL ? CAIRN_ENOMEM : 0;
  for (size_t i = 0; rc == 0 && i < 4; i++) {
    snprintf(text, sizeof text, "%.0f", nums[i]);
    rc = cairn_report_fact_add(sec, ids[i], labels[i], text, 1, nums[i], tones[i]);
  }
  return rc;
}

int cairn_report_goals_doc(const cairn_report_goals_t *m, cairn_report_data_t *d,
                           cairn_report_doc_t *doc) {
  int rc = summary(doc, m);
  (void)d;
  for (size_t i = 0; rc == 0 && i < m->n; i++)
    rc = goal_section(doc, &m->goals[i]);
  return rc;
}

int cairn__report_goals(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                        cairn_report_doc_t *doc) {
  cairn_report_goals_t *m;
  int rc = cairn_report_goals(d, &m);
  (void)opts;
  if (rc == 0)
    rc = cairn_report_goals_doc(m, d, doc);
  cairn_report_goals_free(m);
  return rc;
}
