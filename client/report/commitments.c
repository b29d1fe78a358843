/*
 * commitments.c — the commitments report: every commitment's state as of a
 * date, by partner and by plan, and the share kept on time (report.h,
 * "commitments"; docs/design.md, "Reports").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

const char *cairn_commitment_state_name(cairn_commitment_state_t st) {
  static const char *const names[] = {"done", "on-time", "overdue", "at-risk", "dropped"};
  return st < CAIRN_COMMIT_NSTATES ? names[st] : "?";
}

static cairn_report_tone_t state_tone(cairn_commitment_state_t st) {
  static const cairn_report_tone_t tones[] = {CAIRN_TONE_GOOD, CAIRN_TONE_PLAIN,
                                              CAIRN_TONE_BAD, CAIRN_TONE_WARN,
                                              CAIRN_TONE_MUTED};
  return tones[st];
}

static int is(const char *a, const char *b) {
  return a != NULL && strcmp(a, b) == 0;
}

/* The state of one commitment on date (see report.h). */
static cairn_commitment_state_t state_of(const char *status, const char *due, const char *date,
                                         long *late) {
  int ok;
  long days = due != NULL ? cairn_report_days(due, date, &ok) : 0;
  *late = 0;
  if (is(status, "done"))
    return CAIRN_COMMIT_DONE;
  if (is(status, "dropped"))
    return CAIRN_COMMIT_DROPPED;
  if (due != NULL && ok && days > 0) {
    *late = days;
    return CAIRN_COMMIT_OVERDUE;
  }
  return is(status, "at-risk") ? CAIRN_COMMIT_AT_RISK : CAIRN_COMMIT_ON_TIME;
}

static void tally_add(cairn_report_tally_t *t, cairn_commitment_state_t st) {
  t->count[st]++;
  t->total++;
}

static void tally_share(cairn_report_tally_t *t) {
  unsigned live = t->total - t->count[CAIRN_COMMIT_DROPPED];
  t->on_time_share = live ? (double)(live - t->count[CAIRN_COMMIT_OVERDUE]) / live : -1;
}

/* The tally of key in *v (added when absent). *last: the index of the tally
 * found last, looked at first (rows come by partner); a tally of an id that is
 * not empty is the only one of that id. */
static cairn_report_tally_t *tally_of(cairn_report_tally_t **v, size_t *n, size_t *last,
                                      const char *id, const char *label) {
  if (id != NULL && id[0] && *last < *n && is((*v)[*last].id, id))
    return &(*v)[*last];
  for (size_t i = 0; i < *n; i++)
    if (is((*v)[i].id, id != NULL ? id : "") || ((*v)[i].id == NULL && id == NULL))
      return &(*v)[*last = i];
  cairn_report_tally_t *nv = realloc(*v, (*n + 1) * sizeof *nv);
  if (nv == NULL)
    return NULL;
  *v = nv;
  memset(&nv[*n], 0, sizeof nv[*n]);
  nv[*n].id = id;
  nv[*n].label = label;
  *last = *n;
  return &nv[(*n)++];
}

static int label_cmp(const char *a, const char *b) {
  return strcmp(a != NULL ? a : "\xff", b != NULL ? b : "\xff");
}

static int tally_cmp(const void *a, const void *b) {
  return label_cmp(((const cairn_report_tally_t *)a)->label,
                   ((const cairn_report_tally_t *)b)->label);
}

static int row_cmp(const void *a, const void *b) {
  const cairn_report_commitment_t *x = a, *y = b;
  int c = label_cmp(x->partner_name, y->partner_name);
  if (c == 0)
    c = label_cmp(x->due, y->due); /* no due date last */
  return c != 0 ? c : strcmp(x->rec->id, y->rec->id);
}

/* A referenced record's label, or the id itself when it is not here. */
static const char *ref_label(cairn_report_data_t *d, const cairn_report_set_t *set,
                             const char *id) {
  const cairn_report_rec_t *r = id != NULL ? cairn_report_find(set, id) : NULL;
  return r != NULL ? cairn_report_label(d, r) : id;
}

static int fill_row(cairn_report_data_t *d, const cairn_report_set_t *partners,
                    const cairn_report_set_t *plans, const cairn_report_rec_t *r,
                    cairn_report_commitment_t *c) {
  memset(c, 0, sizeof *c);
  c->rec = r;
  c->title = cairn_report_text(d, r, "title");
  c->partner = cairn_report_text(d, r, "partner");
  c->plan = cairn_report_text(d, r, "plan");
  c->due = cairn_report_text(d, r, "due");
  c->status = cairn_report_text(d, r, "status");
  c->partner_name = ref_label(d, partners, c->partner);
  c->plan_title = ref_label(d, plans, c->plan);
  c->state = state_of(c->status, c->due, cairn_report_data_date(d), &c->days_late);
  return 0;
}

static int tally_rows(cairn_report_commitments_t *m) {
  size_t last_partner = 0, last_plan = 0;
  for (size_t i = 0; i < m->n; i++) {
    cairn_report_commitment_t *c = &m->rows[i];
    cairn_report_tally_t *p =
        tally_of(&m->by_partner, &m->npartners, &last_partner, c->partner,
                 c->partner_name ? c->partner_name : "(no partner)");
    cairn_report_tally_t *q = tally_of(&m->by_plan, &m->nplans, &last_plan, c->plan,
                                       c->plan_title ? c->plan_title : "(no plan)");
    if (p == NULL || q == NULL)
      return CAIRN_ENOMEM;
    tally_add(p, c->state);
    tally_add(q, c->state);
    tally_add(&m->all, c->state);
  }
  for (size_t i = 0; i < m->npartners; i++)
    tally_share(&m->by_partner[i]);
  for (size_t i = 0; i < m->nplans; i++)
    tally_share(&m->by_plan[i]);
  tally_share(&m->all);
  cairn_sort(m->by_partner, m->npartners, sizeof *m->by_partner, tally_cmp);
  cairn_sort(m->by_plan, m->nplans, sizeof *m->by_plan, tally_cmp);
  return 0;
}

int cairn_report_commitments(cairn_report_data_t *d, cairn_report_commitments_t **out) {
  const cairn_report_set_t *cs, *partners, *plans;
  cairn_report_commitments_t *m = calloc(1, sizeof *m);
  int rc;
  *out = NULL;
  if (m == NULL)
    return CAIRN_ENOMEM;
  m->all.label = "all";
  if ((rc = cairn_report_set(d, "commitment", &cs)) != 0 ||
      (rc = cairn_report_set(d, "partner", &partners)) != 0 ||
      (rc = cairn_report_set(d, "plan", &plans)) != 0)
    goto fail;
  if (cs->n > 0 && (m->rows = calloc(cs->n, sizeof *m->rows)) == NULL) {
    rc = CAIRN_ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < cs->n; i++)
    fill_row(d, partners, plans, &cs->v[i], &m->rows[m->n++]);
  cairn_sort(m->rows, m->n, sizeof *m->rows, row_cmp);
  if ((rc = tally_rows(m)) != 0)
    goto fail;
  *out = m;
  return 0;
fail:
  cairn_report_commitments_free(m);
  return rc;
}

void cairn_report_commitments_free(cairn_report_commitments_t *m) {
  if (m == NULL)
    return;
  free(m->rows);
  free(m->by_partner);
  free(m->by_plan);
  free(m);
}

/* ---- the document ---- */

static int share_cell(cairn_report_row_t *row, size_t col, double share) {
  if (share < 0)
    return cairn_report_cell_text(row, col, "", CAIRN_TONE_MUTED);
  cairn_report_tone_t tone = share >= 0.9   ? CAIRN_TONE_GOOD
                             : share >= 0.7 ? CAIRN_TONE_WARN
                                            : CAIRN_TONE_BAD;
  return cairn_report_cell_number(row, col, 100 * share, 0, "%", tone);
}

static int tally_table(cairn_report_section_t *sec, const char *id, const char *title,
                       const char *who, const char *type, const cairn_report_tally_t *v,
                       size_t n) {
  const char *ids[] = {"name", "done", "on_time", "overdue", "at_risk", "dropped", "total",
                       "on_time_share"};
  const char *labels[] = {who, "Done", "On time", "Overdue", "At risk", "Dropped", "Total",
                          "Kept on time"};
  const int numeric[] = {0, 1, 1, 1, 1, 1, 1, 1};
  cairn_report_table_t *t =
      cairn_report_table_add(sec, id, title, ids, labels, numeric, 8, "No commitments.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    cairn_report_row_t *row = cairn_report_row_add(t, v[i].id ? type : NULL, v[i].id);
    static const cairn_commitment_state_t order[] = {CAIRN_COMMIT_DONE, CAIRN_COMMIT_ON_TIME,
                                                     CAIRN_COMMIT_OVERDUE, CAIRN_COMMIT_AT_RISK,
                                                     CAIRN_COMMIT_DROPPED};
    int rc = row == NULL ? CAIRN_ENOMEM : cairn_report_cell_text(row, 0, v[i].label, 0);
    for (size_t k = 0; rc == 0 && k < 5; k++) {
      unsigned c = v[i].count[order[k]];
      rc = cairn_report_cell_number(row, 1 + k, c, 0, NULL,
                                    c ? state_tone(order[k]) : CAIRN_TONE_MUTED);
    }
    if (rc == 0)
      rc = cairn_report_cell_number(row, 6, v[i].total, 0, NULL, 0);
    if (rc == 0)
      rc = share_cell(row, 7, v[i].on_time_share);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int list_table(cairn_report_section_t *sec, const cairn_report_commitments_t *m) {
  const char *ids[] = {"partner", "title", "plan", "due", "status", "state", "days_late"};
  const char *labels[] = {"Partner", "Commitment", "Plan", "Due", "Status", "State",
                          "Days late"};
  const int numeric[] = {0, 0, 0, 0, 0, 0, 1};
  cairn_report_table_t *t = cairn_report_table_add(sec, "commitments", "Every commitment", ids,
                                                   labels, numeric, 7,
                                                   "No commitments recorded yet.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->n; i++) {
    const cairn_report_commitment_t *c = &m->rows[i];
    cairn_report_row_t *row = cairn_report_row_add(t, "commitment", c->rec->id);
    const char *cells[] = {c->partner_name, c->title, c->plan_title, c->due, c->status};
    int rc = row == NULL ? CAIRN_ENOMEM : 0;
    for (size_t k = 0; rc == 0 && k < 5; k++)
      rc = cairn_report_cell_text(row, k, cells[k] ? cells[k] : "", 0);
    if (rc == 0)
      rc = cairn_report_cell_text(row, 5, cairn_commitment_state_name(c->state),
                                  state_tone(c->state));
    if (rc == 0)
      rc = c->days_late ? cairn_report_cell_number(row, 6, (double)c->days_late, 0, NULL,
                                                   CAIRN_TONE_BAD)
                        : cairn_report_cell_number(row, 6, NAN, 0, NULL, 0);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int cairn_report_commitments_doc(const cairn_report_commitments_t *m, cairn_report_data_t *d,
                                 cairn_report_doc_t *doc) {
  const cairn_report_tally_t *a = &m->all;
  char text[64];
  (void)d;
  cairn_report_section_t *sec = cairn_report_section_add(
      doc, "commitments", "Commitments",
      "What each partner committed to, and where it stands: overdue means open and past its "
      "due date; at risk, marked so by the partner and not yet due; kept on time, the share "
      "of commitments (dropped ones aside) that are not overdue.");
  int rc = sec == NULL ? CAIRN_ENOMEM : 0;
  snprintf(text, sizeof text, "%u", a->total);
  rc = rc ? rc : cairn_report_fact_add(sec, "total", "Commitments", text, 1, a->total, 0);
  snprintf(text, sizeof text, "%u", a->count[CAIRN_COMMIT_OVERDUE]);
  rc = rc ? rc
          : cairn_report_fact_add(sec, "overdue", "Overdue", text, 1,
                                  a->count[CAIRN_COMMIT_OVERDUE],
                                  a->count[CAIRN_COMMIT_OVERDUE] ? CAIRN_TONE_BAD : 0);
  snprintf(text, sizeof text, "%u", a->count[CAIRN_COMMIT_AT_RISK]);
  rc = rc ? rc
          : cairn_report_fact_add(sec, "at_risk", "At risk", text, 1,
                                  a->count[CAIRN_COMMIT_AT_RISK],
                                  a->count[CAIRN_COMMIT_AT_RISK] ? CAIRN_TONE_WARN : 0);
  snprintf(text, sizeof text, "%u", a->count[CAIRN_COMMIT_DONE]);
  rc = rc ? rc
          : cairn_report_fact_add(sec, "done", "Done", text, 1, a->count[CAIRN_COMMIT_DONE],
                                  a->count[CAIRN_COMMIT_DONE] ? CAIRN_TONE_GOOD : 0);
  if (a->on_time_share >= 0)
    snprintf(text, sizeof text, "%.0f%%", 100 * a->on_time_share);
  else
    snprintf(text, sizeof text, "-");
  rc = rc ? rc
          : cairn_report_fact_add(sec, "on_time_share", "Kept on time", text, 1,
                                  a->on_time_share >= 0 ? 100 * a->on_time_share : NAN, 0);
  if (rc == 0)
    rc = tally_table(sec, "by_partner", "By partner", "Partner", "partner", m->by_partner,
                     m->npartners);
  if (rc == 0)
    rc = tally_table(sec, "by_plan", "By plan", "Plan", "plan", m->by_plan, m->nplans);
  if (rc == 0)
    rc = list_table(sec, m);
  return rc;
}

int cairn__report_commitments(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                              cairn_report_doc_t *doc) {
  cairn_report_commitments_t *m;
  int rc = cairn_report_commitments(d, &m);
  (void)opts;
  if (rc == 0)
    rc = cairn_report_commitments_doc(m, d, doc);
  cairn_report_commitments_free(m);
  return rc;
}
