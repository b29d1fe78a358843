/*
 * partners.c — the partners report: the pipeline by stage, each partner's last
 * contact and the days since, the partners not contacted in N days, and the
 * follow-ups due (report.h, "partners"; docs/design.md, "Reports").
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"

#define DEFAULT_DAYS 60

static int is(const char *a, const char *b) {
  return a != NULL && strcmp(a, b) == 0;
}

static int label_cmp(const char *a, const char *b) {
  return strcmp(a != NULL ? a : "\xff", b != NULL ? b : "\xff");
}

/* A referenced record's label, or the id itself when it is not here. */
static const char *ref_label(cairn_report_data_t *d, const cairn_report_set_t *set,
                             const char *id) {
  const cairn_report_rec_t *r = id != NULL ? cairn_report_find(set, id) : NULL;
  return r != NULL ? cairn_report_label(d, r) : id;
}

/* Days from date to the data's date (>= 0 when on or before it): 1 with *out,
 * 0 when date is not a date or is after the data's date. */
static int days_before(cairn_report_data_t *d, const char *date, long *out) {
  int ok;
  long days = date != NULL ? cairn_report_days(date, cairn_report_data_date(d), &ok) : 0;
  if (date == NULL || !ok || days < 0)
    return 0;
  *out = days;
  return 1;
}

/* ---- the pipeline ---- */

static cairn_report_stage_t *stage_add(cairn_report_partners_t *m, const char *stage) {
  cairn_report_stage_t *v = realloc(m->stages, (m->nstages + 1) * sizeof *v);
  if (v == NULL)
    return NULL;
  m->stages = v;
  v[m->nstages].stage = stage;
  v[m->nstages].count = 0;
  return &v[m->nstages++];
}

static int stage_cmp(const void *a, const void *b) {
  return label_cmp(((const cairn_report_stage_t *)a)->stage,
                   ((const cairn_report_stage_t *)b)->stage);
}

/* The schema's stages first, in order; then the others met, by name; then none. */
static int pipeline(cairn_report_partners_t *m, const cairn_schema_t *sc) {
  const cairn_schema_field_t *f =
      cairn_schema_field(cairn_schema_type(sc, "partner"), "stage");
  size_t listed = 0;
  unsigned none = 0;
  for (size_t i = 0; f != NULL && f->kind == CAIRN_KIND_ENUM && i < f->nvalues; i++, listed++)
    if (stage_add(m, f->values[i]) == NULL)
      return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->n; i++) {
    const char *st = m->rows[i].stage;
    size_t k = 0;
    if (st == NULL || st[0] == 0) {
      none++;
      continue;
    }
    while (k < m->nstages && !is(m->stages[k].stage, st))
      k++;
    if (k == m->nstages && stage_add(m, st) == NULL)
      return CAIRN_ENOMEM;
    m->stages[k].count++;
    m->engaged += is(st, "engaged") || is(st, "committed");
  }
  if (m->nstages > listed + 1)
    qsort(m->stages + listed, m->nstages - listed, sizeof *m->stages, stage_cmp);
  if (none > 0) {
    cairn_report_stage_t *s = stage_add(m, NULL);
    if (s == NULL)
      return CAIRN_ENOMEM;
    s->count = none;
  }
  return 0;
}

/* ---- contacts ---- */

/* Keep date as r's last contact when it is later than the one it has. */
static void contact_at(cairn_report_partner_t *p, const char *date, long days) {
  if (p->last_contact == NULL || days < p->days_since) {
    p->last_contact = date;
    p->days_since = days;
  }
}

/* The partner row of id (rows still in the set's order), or NULL. */
static cairn_report_partner_t *row_of(cairn_report_partners_t *m, const cairn_report_set_t *ps,
                                      const char *id) {
  const cairn_report_rec_t *r = id != NULL ? cairn_report_find(ps, id) : NULL;
  return r != NULL ? &m->rows[r - ps->v] : NULL;
}

static void interactions_contact(cairn_report_data_t *d, cairn_report_partners_t *m,
                                 const cairn_report_set_t *ps, const cairn_report_set_t *ints) {
  for (size_t i = 0; i < ints->n; i++) {
    const char *date = cairn_report_text(d, &ints->v[i], "date");
    cairn_report_partner_t *p = row_of(m, ps, cairn_report_text(d, &ints->v[i], "partner"));
    long days;
    if (p != NULL && days_before(d, date, &days))
      contact_at(p, date, days);
  }
}

static void meetings_contact(cairn_report_data_t *d, cairn_report_partners_t *m,
                             const cairn_report_set_t *ms) {
  for (size_t i = 0; i < ms->n; i++) {
    const char *date = cairn_report_text(d, &ms->v[i], "date");
    long days;
    if (!days_before(d, date, &days))
      continue;
    for (size_t k = 0; k < m->n; k++)
      if (cairn_report_refs_hold(&ms->v[i], "attendees", m->rows[k].rec->id))
        contact_at(&m->rows[k], date, days);
  }
}

/* ---- follow-ups ---- */

/* The latest date, on or before the data's date, of an interaction with each
 * partner (by the partner's position in ps; -1: none), as days before it. */
static long *latest_interactions(cairn_report_data_t *d, const cairn_report_set_t *ps,
                                 const cairn_report_set_t *ints) {
  long *latest = malloc((ps->n + 1) * sizeof *latest);
  if (latest == NULL)
    return NULL;
  for (size_t i = 0; i < ps->n; i++)
    latest[i] = -1;
  for (size_t i = 0; i < ints->n; i++) {
    const char *pid = cairn_report_text(d, &ints->v[i], "partner");
    const cairn_report_rec_t *p = pid != NULL ? cairn_report_find(ps, pid) : NULL;
    long days;
    if (p != NULL && days_before(d, cairn_report_text(d, &ints->v[i], "date"), &days) &&
        (latest[p - ps->v] < 0 || days < latest[p - ps->v]))
      latest[p - ps->v] = days;
  }
  return latest;
}

static int follow_up_cmp(const void *a, const void *b) {
  const cairn_report_follow_up_t *x = a, *y = b;
  int c = x->due_in < y->due_in ? -1 : x->due_in > y->due_in;
  if (c == 0)
    c = label_cmp(x->partner_name, y->partner_name);
  return c != 0 ? c : strcmp(x->rec->id, y->rec->id);
}

/* Interaction r as a follow-up due (report.h): 1 with *f filled, else 0. */
static int follow_up_of(cairn_report_data_t *d, const cairn_report_set_t *ps,
                        const cairn_report_set_t *people, const long *latest,
                        const cairn_report_rec_t *r, cairn_report_follow_up_t *f) {
  const char *pid = cairn_report_text(d, r, "partner");
  const char *date = cairn_report_text(d, r, "date");
  const char *due = cairn_report_text(d, r, "follow_up");
  const cairn_report_rec_t *p = pid != NULL ? cairn_report_find(ps, pid) : NULL;
  long days, due_in;
  int ok;
  if (p == NULL || due == NULL || !days_before(d, date, &days))
    return 0;
  due_in = cairn_report_days(cairn_report_data_date(d), due, &ok);
  if (!ok || due_in > CAIRN_REPORT_FOLLOW_UP_DAYS || latest[p - ps->v] < days)
    return 0; /* not due within the week, or a later interaction answered it */
  memset(f, 0, sizeof *f);
  f->rec = r;
  f->partner = pid;
  f->partner_name = cairn_report_label(d, p);
  f->person_name = ref_label(d, people, cairn_report_text(d, r, "person"));
  f->date = date;
  f->kind = cairn_report_text(d, r, "kind");
  f->follow_up = due;
  f->due_in = due_in;
  f->overdue = due_in < 0;
  return 1;
}

static int follow_ups(cairn_report_data_t *d, cairn_report_partners_t *m,
                      const cairn_report_set_t *ps, const cairn_report_set_t *people,
                      const cairn_report_set_t *ints) {
  long *latest = latest_interactions(d, ps, ints);
  if (latest == NULL)
    return CAIRN_ENOMEM;
  if (ints->n > 0 && (m->follow_ups = calloc(ints->n, sizeof *m->follow_ups)) == NULL) {
    free(latest);
    return CAIRN_ENOMEM;
  }
  for (size_t i = 0; i < ints->n; i++)
    if (follow_up_of(d, ps, people, latest, &ints->v[i], &m->follow_ups[m->nfollow_ups])) {
      m->overdue += m->follow_ups[m->nfollow_ups].overdue;
      m->nfollow_ups++;
    }
  free(latest);
  if (m->nfollow_ups > 1)
    qsort(m->follow_ups, m->nfollow_ups, sizeof *m->follow_ups, follow_up_cmp);
  return 0;
}

/* ---- the model ---- */

static int row_cmp(const void *a, const void *b) {
  const cairn_report_partner_t *x = a, *y = b;
  int c = label_cmp(x->name, y->name);
  return c != 0 ? c : strcmp(x->rec->id, y->rec->id);
}

/* Never contacted first, then the longest since, then by name. */
static int quiet_cmp(const void *a, const void *b) {
  const cairn_report_partner_t *x = *(const cairn_report_partner_t *const *)a;
  const cairn_report_partner_t *y = *(const cairn_report_partner_t *const *)b;
  long dx = x->last_contact ? x->days_since : LONG_MAX;
  long dy = y->last_contact ? y->days_since : LONG_MAX;
  if (dx != dy)
    return dx > dy ? -1 : 1;
  return row_cmp(x, y);
}

static void fill_row(cairn_report_data_t *d, const cairn_report_set_t *people,
                     const cairn_report_rec_t *r, cairn_report_partner_t *p) {
  memset(p, 0, sizeof *p);
  p->rec = r;
  p->name = cairn_report_label(d, r);
  p->kind = cairn_report_text(d, r, "kind");
  p->stage = cairn_report_text(d, r, "stage");
  p->contact = cairn_report_text(d, r, "contact");
  p->contact_name = ref_label(d, people, p->contact);
  p->days_since = -1;
}

static int quiet_list(cairn_report_partners_t *m) {
  if (m->n > 0 && (m->quiet = calloc(m->n, sizeof *m->quiet)) == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->n; i++) {
    cairn_report_partner_t *p = &m->rows[i];
    p->not_contacted = p->last_contact == NULL || p->days_since > (long)m->days;
    if (p->not_contacted)
      m->quiet[m->nquiet++] = p;
  }
  if (m->nquiet > 1)
    qsort(m->quiet, m->nquiet, sizeof *m->quiet, quiet_cmp);
  return 0;
}

int cairn_report_partners(cairn_report_data_t *d, unsigned days, cairn_report_partners_t **out) {
  const cairn_report_set_t *ps, *people, *ints, *ms;
  cairn_report_partners_t *m = calloc(1, sizeof *m);
  int rc;
  *out = NULL;
  if (m == NULL)
    return CAIRN_ENOMEM;
  m->days = days ? days : DEFAULT_DAYS;
  if ((rc = cairn_report_set(d, "partner", &ps)) != 0 ||
      (rc = cairn_report_set(d, "person", &people)) != 0 ||
      (rc = cairn_report_set(d, "interaction", &ints)) != 0 ||
      (rc = cairn_report_set(d, "meeting", &ms)) != 0)
    goto fail;
  if (ps->n > 0 && (m->rows = calloc(ps->n, sizeof *m->rows)) == NULL) {
    rc = CAIRN_ENOMEM;
    goto fail;
  }
  for (size_t i = 0; i < ps->n; i++)
    fill_row(d, people, &ps->v[i], &m->rows[m->n++]);
  interactions_contact(d, m, ps, ints);
  meetings_contact(d, m, ms);
  if ((rc = follow_ups(d, m, ps, people, ints)) != 0)
    goto fail;
  if (m->n > 1) /* row_of needed the set's order: done with it */
    qsort(m->rows, m->n, sizeof *m->rows, row_cmp);
  if ((rc = pipeline(m, cairn_report_data_schema(d))) != 0 || (rc = quiet_list(m)) != 0)
    goto fail;
  *out = m;
  return 0;
fail:
  cairn_report_partners_free(m);
  return rc;
}

void cairn_report_partners_free(cairn_report_partners_t *m) {
  if (m == NULL)
    return;
  free(m->rows);
  free(m->stages);
  free(m->quiet);
  free(m->follow_ups);
  free(m);
}

/* ---- the document ---- */

static int count_fact(cairn_report_section_t *sec, const char *id, const char *label, size_t n,
                      cairn_report_tone_t tone) {
  char text[32];
  snprintf(text, sizeof text, "%zu", n);
  return cairn_report_fact_add(sec, id, label, text, 1, (double)n, tone);
}

static int facts(cairn_report_section_t *sec, const cairn_report_partners_t *m) {
  char label[64];
  cairn_report_tone_t due = m->overdue         ? CAIRN_TONE_BAD
                            : m->nfollow_ups > 0 ? CAIRN_TONE_WARN
                                                 : CAIRN_TONE_PLAIN;
  int rc;
  snprintf(label, sizeof label, "Not contacted in %u days", m->days);
  if ((rc = count_fact(sec, "partners", "Partners", m->n, 0)) != 0 ||
      (rc = count_fact(sec, "engaged", "Engaged or committed", m->engaged, 0)) != 0 ||
      (rc = count_fact(sec, "not_contacted", label, m->nquiet,
                       m->nquiet ? CAIRN_TONE_BAD : CAIRN_TONE_GOOD)) != 0)
    return rc;
  return count_fact(sec, "follow_ups_due", "Follow-ups due", m->nfollow_ups, due);
}

static int pipeline_table(cairn_report_section_t *sec, const cairn_report_partners_t *m) {
  const char *ids[] = {"stage", "partners", "share"};
  const char *labels[] = {"Stage", "Partners", "Share"};
  const int numeric[] = {0, 1, 1};
  cairn_report_table_t *t = cairn_report_table_add(sec, "pipeline", "Pipeline by stage", ids,
                                                   labels, numeric, 3, "No stages.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->nstages; i++) {
    const cairn_report_stage_t *s = &m->stages[i];
    cairn_report_row_t *row = cairn_report_row_add(t, NULL, NULL);
    int rc = row == NULL ? CAIRN_ENOMEM
                         : cairn_report_cell_text(row, 0, s->stage ? s->stage : "(no stage)",
                                                  s->stage ? 0 : CAIRN_TONE_MUTED);
    if (rc == 0)
      rc = cairn_report_cell_number(row, 1, s->count, 0, NULL, s->count ? 0 : CAIRN_TONE_MUTED);
    if (rc == 0)
      rc = cairn_report_cell_number(row, 2, m->n ? 100.0 * s->count / (double)m->n : NAN, 0,
                                    "%", 0);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* Last contact and days since into cells col and col + 1. */
static int contact_cells(cairn_report_row_t *row, size_t col, const cairn_report_partner_t *p) {
  cairn_report_tone_t tone = p->not_contacted ? CAIRN_TONE_BAD : 0;
  int rc = cairn_report_cell_text(row, col, p->last_contact ? p->last_contact : "never", tone);
  if (rc == 0)
    rc = cairn_report_cell_number(row, col + 1, p->last_contact ? (double)p->days_since : NAN,
                                  0, NULL, tone);
  return rc;
}

static int quiet_table(cairn_report_section_t *sec, const cairn_report_partners_t *m) {
  const char *ids[] = {"partner", "stage", "last_contact", "days_since"};
  const char *labels[] = {"Partner", "Stage", "Last contact", "Days since"};
  const int numeric[] = {0, 0, 0, 1};
  char title[80];
  snprintf(title, sizeof title, "Not contacted in %u days", m->days);
  cairn_report_table_t *t = cairn_report_table_add(sec, "not_contacted", title, ids, labels,
                                                   numeric, 4, "Every partner was contacted.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->nquiet; i++) {
    const cairn_report_partner_t *p = m->quiet[i];
    cairn_report_row_t *row = cairn_report_row_add(t, "partner", p->rec->id);
    int rc = row == NULL ? CAIRN_ENOMEM : cairn_report_cell_text(row, 0, p->name, 0);
    if (rc == 0)
      rc = cairn_report_cell_text(row, 1, p->stage ? p->stage : "", 0);
    if (rc == 0)
      rc = contact_cells(row, 2, p);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int follow_up_row(cairn_report_table_t *t, const cairn_report_follow_up_t *f) {
  cairn_report_tone_t tone = f->overdue ? CAIRN_TONE_BAD : CAIRN_TONE_WARN;
  cairn_report_row_t *row = cairn_report_row_add(t, "interaction", f->rec->id);
  const char *cells[] = {f->partner_name, f->date, f->kind, f->person_name};
  int rc = row == NULL ? CAIRN_ENOMEM : 0;
  for (size_t k = 0; rc == 0 && k < 4; k++)
    rc = cairn_report_cell_text(row, k, cells[k] ? cells[k] : "", 0);
  if (rc == 0)
    rc = cairn_report_cell_text(row, 4, f->follow_up, tone);
  if (rc == 0)
    rc = cairn_report_cell_number(row, 5, (double)f->due_in, 0, NULL, tone);
  if (rc == 0)
    rc = cairn_report_cell_text(row, 6, f->overdue ? "overdue" : "due", tone);
  return rc;
}

static int follow_up_table(cairn_report_section_t *sec, const cairn_report_partners_t *m) {
  const char *ids[] = {"partner", "date", "kind", "person", "follow_up", "due_in", "state"};
  const char *labels[] = {"Partner", "Contact", "Kind", "Person", "Follow up by",
                          "Due in (days)", "State"};
  const int numeric[] = {0, 0, 0, 0, 0, 1, 0};
  cairn_report_table_t *t =
      cairn_report_table_add(sec, "follow_ups", "Follow-ups due", ids, labels, numeric, 7,
                             "No follow-up due this week.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->nfollow_ups; i++) {
    int rc = follow_up_row(t, &m->follow_ups[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int every_table(cairn_report_section_t *sec, const cairn_report_partners_t *m) {
  const char *ids[] = {"name", "kind", "stage", "last_contact", "days_since", "contact"};
  const char *labels[] = {"Partner", "Kind", "Stage", "Last contact", "Days since",
                          "Main contact"};
  const int numeric[] = {0, 0, 0, 0, 1, 0};
  cairn_report_table_t *t = cairn_report_table_add(sec, "partners", "Every partner", ids,
                                                   labels, numeric, 6,
                                                   "No partners recorded yet.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->n; i++) {
    const cairn_report_partner_t *p = &m->rows[i];
    cairn_report_row_t *row = cairn_report_row_add(t, "partner", p->rec->id);
    const char *cells[] = {p->name, p->kind, p->stage};
    int rc = row == NULL ? CAIRN_ENOMEM : 0;
    for (size_t k = 0; rc == 0 && k < 3; k++)
      rc = cairn_report_cell_text(row, k, cells[k] ? cells[k] : "", 0);
    if (rc == 0)
      rc = contact_cells(row, 3, p);
    if (rc == 0)
      rc = cairn_report_cell_text(row, 5, p->contact_name ? p->contact_name : "", 0);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int cairn_report_partners_doc(const cairn_report_partners_t *m, cairn_report_data_t *d,
                              cairn_report_doc_t *doc) {
  char intro[400];
  int rc;
  (void)d;
  snprintf(intro, sizeof intro,
           "A contact is an interaction with the partner or a meeting it attended. Not "
           "contacted: never, or more than %u days ago. A follow-up is due when its date is "
           "within the next %d days and no later interaction with the partner answered it; "
           "overdue when its date has passed.",
           m->days, CAIRN_REPORT_FOLLOW_UP_DAYS);
  cairn_report_section_t *sec = cairn_report_section_add(doc, "partners", "Partners", intro);
  if (sec == NULL)
    return CAIRN_ENOMEM;
  if ((rc = facts(sec, m)) != 0 || (rc = pipeline_table(sec, m)) != 0 ||
      (rc = quiet_table(sec, m)) != 0 || (rc = follow_up_table(sec, m)) != 0)
    return rc;
  return every_table(sec, m);
}

int cairn__report_partners(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                           cairn_report_doc_t *doc) {
  cairn_report_partners_t *m;
  int rc = cairn_report_partners(d, opts->days, &m);
  if (rc == 0)
    rc = cairn_report_partners_doc(m, d, doc);
  cairn_report_partners_free(m);
  return rc;
}
