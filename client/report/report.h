/*
 * report.h — the partnership's reports for its monthly accountability meeting
 * (client/report/; docs/design.md, "Reports"): each report computes a plain
 * model from the local replica once, as of a date, and renderers turn it into
 * text for a terminal, JSON, CSV, or one self-contained HTML file.
 *
 * Three layers, each usable alone:
 *
 *   cairn_report_data_t   the records a report reads, loaded once as of a time
 *                         (data.c): types of the collective-impact schema
 *                         (report.h's names are the default schema's)
 *   models                one typed model per report (commitments.c,
 *                         measures.c, partners.c, goals.c, changes.c,
 *                         meeting.c): what unit tests check
 *   cairn_report_doc_t    a document every model becomes (doc.c): a title,
 *                         sections of facts, tables and charts; the renderers
 *                         (render_text.c, render_json.c, render_csv.c,
 *                         render_html.c) know only it
 *
 * cairn_report_build() does the three for a report named as `cairn report NAME`
 * takes it. Nothing here prints, exits or aborts; every function that can fail
 * returns 0 or a negative CAIRN_E* code. A report reads a store through
 * cairn.h only. Strings are UTF-8, NUL-terminated and owned by their model or
 * document.
 */
#ifndef CAIRN_REPORT_H
#define CAIRN_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cairn.h"

/* ======================================================================
 * Data: records as of a time
 * ====================================================================== */

/* One record copied out of the store: its id and fields (use cairn.h's record
 * calls on rec, which points into this copy). */
/* A field of a copied record, decoded once when it was loaded (internal: use
 * cairn_report_text and cairn_report_number). */
typedef struct cairn_report_field {
  const char *name;
  uint32_t name_len;
  uint32_t is_number; /* 1: v.num holds the value; 0: v.text */
  union {
    const char *text; /* a string value, NUL-terminated; NULL for other kinds */
    double num;
  } v;                /* 32 bytes a field: a report holds hundreds of thousands */
  uint64_t hlc;       /* its stamp's */
} cairn_report_field_t;

typedef struct cairn_report_rec {
  char *id;
  cairn_record_t rec;
  uint64_t updated_ms; /* the time of its latest field write (ms since 1970) */
  cairn_report_field_t *fields_; /* internal: the non-nil fields, by name */
  uint32_t nfields_;
} cairn_report_rec_t;

/* Every visible record of one type as of the data's time, in id order. */
typedef struct cairn_report_set {
  char *type;
  cairn_report_rec_t *v;
  size_t n;
  void *arena_; /* internal: the blocks the records' copies live in */
} cairn_report_set_t;

typedef struct cairn_report_data cairn_report_data_t;

/*
 * Load what reports read, as of as_of_ms (ms since 1970; 0: now, the records as
 * they are). A time in the past replays the records' history up to its end
 * (cairn_records_as_of): what the replica held then, so a report of a past
 * date reads the same as it did on that date.
 * @param[out] out  free with cairn_report_data_free.
 * @return 0, CAIRN_ENOMEM, or a store error.
 */
CAIRN_EXTERN int cairn_report_data_open(cairn_store_t *s, uint64_t as_of_ms,
                                        cairn_report_data_t **out) CAIRN_WUR;
CAIRN_EXTERN void cairn_report_data_free(cairn_report_data_t *d);

/* The time the data stands at (ms since 1970), and its date "YYYY-MM-DD" (UTC). */
CAIRN_EXTERN uint64_t cairn_report_data_time(const cairn_report_data_t *d);
CAIRN_EXTERN const char *cairn_report_data_date(const cairn_report_data_t *d);
/* The store and its schema (borrowed). */
CAIRN_EXTERN cairn_store_t *cairn_report_data_store(const cairn_report_data_t *d);
CAIRN_EXTERN const cairn_schema_t *cairn_report_data_schema(const cairn_report_data_t *d);
/* The network's title ("" when unknown). */
CAIRN_EXTERN const char *cairn_report_data_title(const cairn_report_data_t *d);

/* The records of type (loaded on first use and kept). @return 0, or an error
 * of the store; *out is never NULL on success (an empty set for no records). */
CAIRN_EXTERN int cairn_report_set(cairn_report_data_t *d, const char *type,
                                  const cairn_report_set_t **out) CAIRN_WUR;
/* The record of set with id, or NULL. */
CAIRN_EXTERN const cairn_report_rec_t *cairn_report_find(const cairn_report_set_t *set,
                                                         const char *id);

/* A field of a record as text (a string as it is, a number as it prints, a
 * list of ids joined by ", "), through the schema (renamed fields under their
 * new name); NULL when absent. Valid until the data is freed. */
CAIRN_EXTERN const char *cairn_report_text(cairn_report_data_t *d, const cairn_report_rec_t *r,
                                           const char *field);
/* A field as a number, by its stored name (not through a rename's former
 * names, as cairn_report_text reads): 1 with *out set, 0 when absent or not a
 * number. */
CAIRN_EXTERN int cairn_report_number(const cairn_report_rec_t *r, const char *field,
                                     double *out);
/* The name people know a record by: its name, else title, else id. */
CAIRN_EXTERN const char *cairn_report_label(cairn_report_data_t *d, const cairn_report_rec_t *r);
/* Whether a refs field of r holds id. */
CAIRN_EXTERN int cairn_report_refs_hold(const cairn_report_rec_t *r, const char *field,
                                        const char *id);

/* Days from date a to date b ("YYYY-MM-DD" each): b - a; 0 with *ok 0 when
 * either is not a date. */
CAIRN_EXTERN long cairn_report_days(const char *a, const char *b, int *ok);

/* ======================================================================
 * The document every report becomes
 * ====================================================================== */

/* How a cell reads: the renderers colour it (HTML) or mark it (text). */
typedef enum cairn_report_tone {
  CAIRN_TONE_PLAIN = 0,
  CAIRN_TONE_GOOD, /* done, on track */
  CAIRN_TONE_WARN, /* at risk, too slow, due soon */
  CAIRN_TONE_BAD,  /* overdue, going the wrong way, not contacted */
  CAIRN_TONE_MUTED /* dropped, no data */
} cairn_report_tone_t;

typedef struct cairn_report_cell {
  char *text;     /* as shown; "" for nothing */
  int is_number;  /* JSON writes num (or null when text is "") */
  double num;
  cairn_report_tone_t tone;
} cairn_report_cell_t;

/* A table: columns with ids (JSON keys, CSV header) and labels (people's
 * words), rows of cells, each row naming the record it shows (its _type and
 * _id in JSON; NULL for a row of totals). */
typedef struct cairn_report_row {
  char *type, *id;
  cairn_report_cell_t *cells; /* ncols */
  struct cairn_report_table *table_; /* internal: the table it is in */
} cairn_report_row_t;

typedef struct cairn_report_table {
  char *id, *title;
  char **col_ids, **col_labels;
  int *col_numeric; /* right-aligned */
  size_t ncols;
  cairn_report_row_t *rows;
  size_t nrows, cap;
  char *empty; /* what to say when there are no rows */
  void *blocks_; /* internal: where its rows' cells and texts live */
} cairn_report_table_t;

/* A line chart: x labels (periods in time order), one series per line (y per x,
 * NAN where there is no value), an optional target line. */
typedef struct cairn_report_series {
  char *name;
  double *y; /* nx values */
} cairn_report_series_t;

typedef struct cairn_report_chart {
  char *id, *title, *unit;
  char **x;
  size_t nx;
  cairn_report_series_t *series;
  size_t nseries;
  int has_target;
  double target;       /* drawn as a dashed line */
  char *target_label;  /* "target 60 by 2027" */
  int has_baseline;
  double baseline;
  char *caption;       /* one line under the chart, e.g. the trend */
} cairn_report_chart_t;

/* A headline number: "Overdue commitments  12". */
typedef struct cairn_report_fact {
  char *id, *label, *text;
  int is_number;
  double num;
  cairn_report_tone_t tone;
} cairn_report_fact_t;

typedef struct cairn_report_section {
  char *id, *title, *intro; /* intro: one paragraph, may be "" */
  cairn_report_fact_t *facts;
  size_t nfacts;
  cairn_report_table_t **tables;
  size_t ntables;
  cairn_report_chart_t **charts;
  size_t ncharts;
} cairn_report_section_t;

typedef struct cairn_report_doc {
  char *name;     /* "commitments" */
  char *title;    /* "Commitments" */
  char *subtitle; /* "Northside Cradle to Career — as of 2026-11-30" */
  char *as_of;    /* "2026-11-30" */
  cairn_report_section_t **sections;
  size_t nsections;
} cairn_report_doc_t;

/* Building a document (doc.c). Each returns NULL or nonzero on out of memory;
 * the document owns what is added. Text is copied. */
CAIRN_EXTERN cairn_report_doc_t *cairn_report_doc_new(const char *name, const char *title,
                                                      const cairn_report_data_t *d);
CAIRN_EXTERN void cairn_report_doc_free(cairn_report_doc_t *doc);
CAIRN_EXTERN cairn_report_section_t *cairn_report_section_add(cairn_report_doc_t *doc,
                                                              const char *id, const char *title,
                                                              const char *intro);
CAIRN_EXTERN int cairn_report_fact_add(cairn_report_section_t *sec, const char *id,
                                       const char *label, const char *text, int is_number,
                                       double num, cairn_report_tone_t tone);
/* A table with ncols columns: ids[i] and labels[i]; numeric: may be NULL. */
CAIRN_EXTERN cairn_report_table_t *cairn_report_table_add(cairn_report_section_t *sec,
                                                          const char *id, const char *title,
                                                          const char *const *ids,
                                                          const char *const *labels,
                                                          const int *numeric, size_t ncols,
                                                          const char *empty);
/* A row (type and id may be NULL); its cells are set with cairn_report_cell_*. */
CAIRN_EXTERN cairn_report_row_t *cairn_report_row_add(cairn_report_table_t *t, const char *type,
                                                      const char *id);
CAIRN_EXTERN int cairn_report_cell_text(cairn_report_row_t *row, size_t col, const char *text,
                                        cairn_report_tone_t tone);
/* A number cell shown with decimals places (and unit after it when not NULL). */
CAIRN_EXTERN int cairn_report_cell_number(cairn_report_row_t *row, size_t col, double v,
                                          int decimals, const char *unit,
                                          cairn_report_tone_t tone);
CAIRN_EXTERN cairn_report_chart_t *cairn_report_chart_add(cairn_report_section_t *sec,
                                                          const char *id, const char *title,
                                                          const char *unit,
                                                          const char *const *x, size_t nx);
/* A series of nx values (NAN: none), copied. */
CAIRN_EXTERN int cairn_report_series_add(cairn_report_chart_t *c, const char *name,
                                         const double *y);

/* ======================================================================
 * Renderers
 * ====================================================================== */

typedef enum cairn_report_format {
  CAIRN_REPORT_TEXT = 1,
  CAIRN_REPORT_JSON,
  CAIRN_REPORT_CSV,
  CAIRN_REPORT_HTML
} cairn_report_format_t;

/* The format named "text", "json", "csv" or "html": 1 with *out, 0 if none. */
CAIRN_EXTERN int cairn_report_format_parse(const char *name, cairn_report_format_t *out);

/*
 * Write doc to f in a format:
 *   text  headings, facts, aligned tables (tones as words where colour is
 *         absent), charts as their values per period;
 *   json  {"report", "title", "subtitle", "as_of", "sections": [{"id", "title",
 *         "intro", "facts": {id: value}, "tables": [{"id", "title", "columns":
 *         [{"id", "label"}], "rows": [{"_type", "_id", col: value...}]}],
 *         "charts": [{"id", "title", "unit", "x": [...], "series": [{"name",
 *         "y": [...]}], "target", "baseline"}]}]};
 *   csv   every table: a line with its title, a header of column ids, its rows
 *         (RFC 4180 quoting, `_type` and `_id` first), then an empty line;
 *   html  one self-contained page: inline CSS (print-friendly), inline SVG
 *         charts, no script, nothing loaded from elsewhere.
 * @return 0, CAIRN_EIO (a write failed), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_report_render(const cairn_report_doc_t *doc, cairn_report_format_t format,
                                     FILE *f) CAIRN_WUR;

/* ======================================================================
 * Reports
 * ====================================================================== */

typedef struct cairn_report_opts {
  uint64_t as_of_ms; /* 0: now */
  uint64_t since_ms; /* changes: from this time; 0: 30 days before as_of */
  unsigned days;     /* partners: not contacted in this many days; 0: 60 */
} cairn_report_opts_t;

/* The report names, NULL-terminated: meeting, commitments, measures,
 * partners, goals, changes. */
CAIRN_EXTERN const char *const *cairn_report_names(void);

/*
 * Build report `name` as a document.
 * @param[out] out  free with cairn_report_doc_free.
 * @param[out] err  may be NULL; why it failed (an unknown name, with "did you
 *                  mean").
 * @return 0, CAIRN_EINVAL (no such report), CAIRN_ENOMEM, or a store error.
 */
CAIRN_EXTERN int cairn_report_build(cairn_store_t *s, const char *name,
                                    const cairn_report_opts_t *opts, cairn_report_doc_t **out,
                                    cairn_error_t *err) CAIRN_WUR;

/* ---- commitments (commitments.c) ---- */

/* A commitment's state as of the data's date:
 *   done      status done;
 *   dropped   status dropped;
 *   overdue   open (any other status, or none) and due before the date;
 *   at-risk   status at-risk and not yet due (due on or after the date, or none);
 *   on-time   open, not at risk, not yet due (or no due date). */
typedef enum cairn_commitment_state {
  CAIRN_COMMIT_DONE = 0,
  CAIRN_COMMIT_ON_TIME,
  CAIRN_COMMIT_OVERDUE,
  CAIRN_COMMIT_AT_RISK,
  CAIRN_COMMIT_DROPPED,
  CAIRN_COMMIT_NSTATES
} cairn_commitment_state_t;

/* "done", "on-time", "overdue", "at-risk", "dropped". */
CAIRN_EXTERN const char *cairn_commitment_state_name(cairn_commitment_state_t st);

typedef struct cairn_report_commitment {
  const cairn_report_rec_t *rec;
  const char *title, *partner, *partner_name, *plan, *plan_title, *due, *status; /* NULL: none */
  cairn_commitment_state_t state;
  long days_late; /* overdue: days past due; else 0 */
} cairn_report_commitment_t;

/* Counts of one partner's or plan's commitments by state. */
typedef struct cairn_report_tally {
  const char *id;    /* the partner's or plan's id; NULL for none */
  const char *label; /* its name or title */
  unsigned count[CAIRN_COMMIT_NSTATES];
  unsigned total;
  double on_time_share; /* of commitments not dropped, the share not overdue;
                           -1 when all are dropped */
} cairn_report_tally_t;

typedef struct cairn_report_commitments {
  cairn_report_commitment_t *rows; /* by partner label, then due date, then id */
  size_t n;
  cairn_report_tally_t *by_partner; /* by label */
  size_t npartners;
  cairn_report_tally_t *by_plan;
  size_t nplans;
  cairn_report_tally_t all;
} cairn_report_commitments_t;

CAIRN_EXTERN int cairn_report_commitments(cairn_report_data_t *d,
                                          cairn_report_commitments_t **out) CAIRN_WUR;
CAIRN_EXTERN void cairn_report_commitments_free(cairn_report_commitments_t *m);
/* Add the model's sections to doc. */
CAIRN_EXTERN int cairn_report_commitments_doc(const cairn_report_commitments_t *m,
                                              cairn_report_data_t *d,
                                              cairn_report_doc_t *doc) CAIRN_WUR;

/* ---- measures (measures.c) ---- */

/*
 * Whether each indicator and each performance measure is moving toward its
 * target, per site and group (docs/design.md, "Reports", "measures").
 *
 * A period is the schema's: "2026", "2026-Q2" or "2026-05". Its position in
 * time is its first month; periods sort by it, then the longer first
 * (2026 < 2026-Q1 < 2026-01), as index.h orders them.
 */
typedef struct cairn_report_period {
  long month; /* its first month: 12 * year + (month - 1) */
  int months; /* its length: 12, 3 or 1 */
} cairn_report_period_t;

/* Read text as a period: 1 with *out set, 0 when it is not one. */
CAIRN_EXTERN int cairn_report_period_parse(const char *text, cairn_report_period_t *out);
/* Period order: <0, 0 or >0 as a comes before, with or after b. */
CAIRN_EXTERN int cairn_report_period_cmp(const cairn_report_period_t *a,
                                         const cairn_report_period_t *b);
/* Whether p has begun on date ("YYYY-MM-DD"): its first day is on or before
 * it. 0 when date is not a date. */
CAIRN_EXTERN int cairn_report_period_started(const cairn_report_period_t *p, const char *date);

/*
 * A series' trend, where better is up or down (the record's direction):
 *   on-track   at or ahead of the target; or at or ahead of the line from
 *              baseline to target at the latest period; or moving the right
 *              way at least as fast as needed to reach the target by the
 *              target period; or, with no target or no target period,
 *              moving the right way;
 *   too-slow   moving the right way, slower than needed (or the target
 *              period has passed without reaching it), or not moving at all;
 *   wrong-way  moving away from better;
 *   no-data    fewer than two periods with an actual.
 * "Moving" is the least-squares slope of the actuals (report.h's
 * cairn_report_measure_series_t).
 */
typedef enum cairn_trend {
  CAIRN_TREND_ON_TRACK = 0,
  CAIRN_TREND_TOO_SLOW,
  CAIRN_TREND_WRONG_WAY,
  CAIRN_TREND_NO_DATA,
  CAIRN_TREND_N
} cairn_trend_t;

/* "on-track", "too-slow", "wrong-way", "no-data". */
CAIRN_EXTERN const char *cairn_trend_name(cairn_trend_t t);

/* One period of a series: what the value records for it say. Several
 * records for the same indicator, site, group and period merge field by
 * field, the latest written winning. */
typedef struct cairn_report_point {
  const cairn_report_rec_t *rec; /* the value whose actual is shown (else the
                                    latest written) */
  const char *period;
  cairn_report_period_t at;
  double actual; /* NAN: none, or its period begins after the data's date */
  double target, forecast; /* NAN: none */
} cairn_report_point_t;

/*
 * The values of one indicator or measure at one site for one group. Slopes
 * are per period of the series' own length (per_months: the length of its
 * latest actual's period, so a quarterly series gives its slope per quarter):
 *   slope     least squares over (position, actual), positions in months
 *             from each period's first month, times per_months;
 *   needed    (target - latest) / periods left, the periods left being
 *             (target period's first month - latest actual's first month) /
 *             per_months: the slope that reaches the target in the target
 *             period from where the series is now; 0 when the target is
 *             already reached; NAN without a target, a target period, a
 *             latest actual, or when the target period is not after the
 *             latest actual's;
 *   expected  the line from (baseline period, baseline) to (target period,
 *             target) at the latest actual's position, held at the baseline
 *             before and at the target after; NAN when the record lacks any
 *             of the four or the target period is not after the baseline's.
 */
typedef struct cairn_report_measure_series {
  const char *site;      /* the site's id; NULL: all sites */
  const char *site_name; /* its name (its id when it is not here), "All sites" */
  const char *group;     /* NULL: all */
  cairn_report_point_t *points; /* one per period, in period order */
  size_t npoints;
  size_t nactuals;                    /* points with an actual */
  const cairn_report_point_t *latest; /* the latest with an actual; NULL: none */
  int per_months;                     /* 12, 3 or 1 */
  double slope, needed, expected;     /* NAN: not known (above) */
  cairn_trend_t trend;
} cairn_report_measure_series_t;

/* An indicator (population level) or a performance measure (a program's). */
typedef struct cairn_report_measure {
  const cairn_report_rec_t *rec;
  const char *type;        /* "indicator" or "measure" */
  const char *title;       /* its title, else its id */
  const char *unit;        /* NULL: none */
  const char *context;     /* the indicator's result or the measure's program,
                              by title; NULL: none */
  const char *kind;        /* a measure's kind (how-much...); NULL: none */
  int direction;           /* +1: higher is better, -1: lower. The record's
                              direction; without one, -1 when the target is
                              below the baseline, else +1 */
  double baseline, target; /* NAN: none (a measure has no baseline) */
  const char *baseline_period, *target_period; /* NULL: none */
  cairn_report_measure_series_t *series;       /* all sites first, then by site
                                                  name; all groups first, then
                                                  by group */
  size_t nseries;
  unsigned count[CAIRN_TREND_N]; /* series by trend */
} cairn_report_measure_t;

/*
 * The model. Values that name no indicator or measure here, or whose period
 * is not a period, are left out; a value naming both counts for both.
 * Actuals count only when their period began on or before the data's date;
 * targets and forecasts count for any period. Strings and records are the
 * data's (valid until it is freed).
 */
typedef struct cairn_report_measures {
  cairn_report_measure_t *indicators; /* by title, then id */
  size_t nindicators;
  cairn_report_measure_t *measures; /* by title, then id */
  size_t nmeasures;
  unsigned count[CAIRN_TREND_N]; /* all series by trend */
  size_t nseries;
} cairn_report_measures_t;

CAIRN_EXTERN int cairn_report_measures(cairn_report_data_t *d,
                                       cairn_report_measures_t **out) CAIRN_WUR;
CAIRN_EXTERN void cairn_report_measures_free(cairn_report_measures_t *m);
/* Add the model's sections to doc: a summary (facts by trend, a table of the
 * series of indicators and one of measures), then one section per indicator
 * and measure with its chart (x: every period of its values, a line per
 * series, the target and baseline) and a table of its values. */
CAIRN_EXTERN int cairn_report_measures_doc(const cairn_report_measures_t *m,
                                           cairn_report_data_t *d,
                                           cairn_report_doc_t *doc) CAIRN_WUR;

/* ---- partners (partners.c) ---- */

/*
 * The partners report, as of the data's date A (docs/design.md, "Reports"):
 *
 *   contact       an interaction with the partner (its `partner`) or a meeting
 *                 it attended (its id in the meeting's `attendees`), dated on or
 *                 before A; interactions and meetings dated after A have not
 *                 happened yet and count for nothing, nor do those without a
 *                 valid date;
 *   last contact  the latest contact's date; days since: A minus it;
 *   not contacted in N days
 *                 never contacted, or last contacted more than N days before A
 *                 (contacted exactly N days ago still counts as contacted);
 *   follow-up due an interaction of a partner in the records, dated on or before
 *                 A, whose `follow_up` date F is on or before A + 7 days and that
 *                 no later interaction answered: an interaction with the same
 *                 partner dated after the first one's date and on or before A
 *                 (a meeting does not answer it; record the contact as an
 *                 interaction). Overdue when F is before A; due when F is A to
 *                 A + 7.
 */

#define CAIRN_REPORT_FOLLOW_UP_DAYS 7 /* follow-ups due this many days ahead are listed */

typedef struct cairn_report_partner {
  const cairn_report_rec_t *rec;
  const char *name, *kind, *stage; /* NULL: none */
  const char *contact;             /* the main contact's id; NULL: none */
  const char *contact_name;        /* that person's name (the id when not in the records) */
  const char *last_contact;        /* "YYYY-MM-DD"; NULL: never contacted */
  long days_since;                 /* A - last_contact; -1 when never contacted */
  int not_contacted;               /* never, or more than `days` days ago */
} cairn_report_partner_t;

/* One stage of the pipeline and its partners. */
typedef struct cairn_report_stage {
  const char *stage; /* NULL: partners without a stage */
  unsigned count;
} cairn_report_stage_t;

typedef struct cairn_report_follow_up {
  const cairn_report_rec_t *rec; /* the interaction */
  const char *partner, *partner_name;
  const char *person_name; /* NULL: no person */
  const char *date, *kind, *follow_up; /* kind NULL: none */
  long due_in;                         /* F - A in days: < 0 overdue */
  int overdue;
} cairn_report_follow_up_t;

typedef struct cairn_report_partners {
  unsigned days; /* N */
  cairn_report_partner_t *rows; /* every partner, by name, then id */
  size_t n;
  /* the schema's stages of partner.stage in its order (each, even with no
   * partner), then stages the schema does not list (by name), then, when any
   * partner has none, the partners without a stage (stage NULL) */
  cairn_report_stage_t *stages;
  size_t nstages;
  /* the partners not contacted in N days (pointers into rows): never
   * contacted first, then the longest since, then by name */
  const cairn_report_partner_t **quiet;
  size_t nquiet;
  cairn_report_follow_up_t *follow_ups; /* by follow-up date, then partner name, then id */
  size_t nfollow_ups;
  unsigned engaged;   /* partners at stage engaged or committed */
  unsigned overdue;   /* follow-ups overdue */
} cairn_report_partners_t;

/*
 * Compute the model from d (its partner, person, interaction and meeting
 * records). days: N (0: 60). Strings point into d: free the model before d.
 * @param[out] out  free with cairn_report_partners_free.
 * @return 0, CAIRN_ENOMEM, or a store error.
 */
CAIRN_EXTERN int cairn_report_partners(cairn_report_data_t *d, unsigned days,
                                       cairn_report_partners_t **out) CAIRN_WUR;
CAIRN_EXTERN void cairn_report_partners_free(cairn_report_partners_t *m);
/* Add the model's section to doc: facts (partners, engaged or committed, not
 * contacted in N days, follow-ups due) and tables (pipeline, not_contacted,
 * follow_ups, partners). */
CAIRN_EXTERN int cairn_report_partners_doc(const cairn_report_partners_t *m,
                                           cairn_report_data_t *d,
                                           cairn_report_doc_t *doc) CAIRN_WUR;

/* ---- goals (goals.c) ---- */

/* One rating in a partner's run. */
typedef struct cairn_report_score {
  const cairn_report_rec_t *rec; /* the rating (the latest written when several
                                    share a period) */
  const char *period;
  cairn_report_period_t at;
  double score;
} cairn_report_score_t;

/* One partner's ratings on one soft goal. */
typedef struct cairn_report_rated {
  const char *partner;      /* the partner's id; NULL: ratings naming none */
  const char *partner_name; /* its name (its id when it is not here), or
                               "Whole partnership" */
  cairn_report_score_t *scores; /* one per period, in period order */
  size_t n;
  const cairn_report_score_t *latest, *previous; /* the last two periods rated;
                                                    previous NULL with one */
  double change; /* latest score - previous score; NAN with one rating */
  int direction; /* the sign of change: +1, 0, -1 (0 with one rating) */
} cairn_report_rated_t;

typedef struct cairn_report_goal {
  const cairn_report_rec_t *rec;
  const char *title;
  double scale_min, scale_max; /* NAN: none */
  cairn_report_rated_t *partners; /* by name; "Whole partnership" first */
  size_t npartners;
} cairn_report_goal_t;

/*
 * The model: each goal (by title, then id) with each partner's ratings over
 * time. Ratings of a goal not here, without a score, whose period is not a
 * period, or whose period begins after the data's date are left out.
 */
typedef struct cairn_report_goals {
  cairn_report_goal_t *goals;
  size_t n;
  unsigned up, down, same; /* partners whose latest rating rose, fell, held */
} cairn_report_goals_t;

CAIRN_EXTERN int cairn_report_goals(cairn_report_data_t *d, cairn_report_goals_t **out) CAIRN_WUR;
CAIRN_EXTERN void cairn_report_goals_free(cairn_report_goals_t *m);
/* Add the model's sections to doc: a summary, then per goal a table (partner,
 * latest period, score, previous period and score, change, direction) and a
 * line chart (a line per partner). */
CAIRN_EXTERN int cairn_report_goals_doc(const cairn_report_goals_t *m, cairn_report_data_t *d,
                                        cairn_report_doc_t *doc) CAIRN_WUR;

/* ---- changes (changes.c) ---- */

/*
 * The changes report: who changed what from a time to the data's time, from
 * the changes feed (cairn_changes), oldest first. Ops on cairn's own records
 * (`_member`...) and entries held as evidence only (their author's roles
 * refused them: they changed nothing) are left out.
 */

/* What a change did. */
typedef enum cairn_report_change_op {
  CAIRN_CHANGE_ADDED = 0, /* a put that reads as creating the record, told from
                             the op alone: it writes every field the schema
                             requires of the type (at least one), and replaces
                             no value or makes a deleted record again */
  CAIRN_CHANGE_CHANGED,   /* any other put */
  CAIRN_CHANGE_DELETED,   /* a del */
  CAIRN_CHANGE_PURGED,    /* a purge: the record erased, everywhere */
  CAIRN_CHANGE_ERASED,    /* an op a purge erased: its author and time remain,
                             no type, id or fields */
  CAIRN_CHANGE_NOPS
} cairn_report_change_op_t;

/* "added", "changed", "deleted", "purged", "erased". */
CAIRN_EXTERN const char *cairn_report_change_op_name(cairn_report_change_op_t op);

typedef struct cairn_report_change {
  uint64_t time_ms;                  /* its entry's wall-clock time */
  char author_key[2 * CAIRN_KEY_BYTES + 1]; /* the author's key, hex */
  uint64_t seq;                      /* the entry's seq in its author's log */
  char *author;                      /* the author's member name, else "key " and
                                        the key's first 16 hex digits */
  cairn_report_change_op_t op;
  char *type;       /* the record's type; NULL when erased */
  char *type_label; /* the schema's label for it (the type when none); NULL when erased */
  char *id;         /* NULL when erased */
  char *label;      /* the record's name or title as of the data's time, else
                       the latest one its puts in the window wrote, else (a
                       deleted record; for the first 100 of them) the latest
                       one in its history, else its id; the same on all its
                       rows; NULL when erased */
  char *fields;     /* a put's field names (current names through renames),
                       joined by ", "; "" for other ops */
} cairn_report_change_t;

/* One person's changes. */
typedef struct cairn_report_changer {
  char *author;     /* as in the rows */
  char author_key[2 * CAIRN_KEY_BYTES + 1]; /* hex */
  unsigned changes;
  unsigned records; /* distinct records touched (erased ops not counted) */
} cairn_report_changer_t;

/* The model keeps rows for the latest changes only: a month that holds an
 * import of thousands of rows is counted, not listed. */
#define CAIRN_REPORT_CHANGES_KEPT 200

typedef struct cairn_report_changes {
  uint64_t since_ms, until_ms; /* the window: since <= time <= until */
  size_t total;                /* changes in the window */
  cairn_report_change_t *rows; /* the latest CAIRN_REPORT_CHANGES_KEPT of them (all
                                  when there are no more), oldest first (the
                                  feed's order) */
  size_t n;
  cairn_report_changer_t *people; /* most changes first, then by name */
  size_t npeople;
  size_t records; /* distinct records touched (erased ops not counted) */
} cairn_report_changes_t;

/*
 * Compute the model: the changes from since_ms (ms since 1970; 0: 30 days
 * before the data's time) up to the data's time (cairn_report_data_time).
 * @param[out] out  free with cairn_report_changes_free; owns its strings.
 * @return 0, CAIRN_ENOMEM, or a store error.
 */
CAIRN_EXTERN int cairn_report_changes(cairn_report_data_t *d, uint64_t since_ms,
                                      cairn_report_changes_t **out) CAIRN_WUR;
CAIRN_EXTERN void cairn_report_changes_free(cairn_report_changes_t *m);
/* Add the model's section to doc: facts (changes, people, records) and tables
 * (by_person, changes). */
CAIRN_EXTERN int cairn_report_changes_doc(const cairn_report_changes_t *m,
                                          cairn_report_data_t *d,
                                          cairn_report_doc_t *doc) CAIRN_WUR;

/* ---- meeting (meeting.c) ---- */

/*
 * The accountability score, in the spirit of Clear Impact's: how current the
 * partnership keeps its data and notes (engagement) and how its measures move
 * (performance), each 0-100 (NAN when there is nothing to score).
 *   data_current         of indicators and measures with any actual, those with
 *                        an actual for the latest period: a period that
 *                        overlaps the latest period any series has an actual
 *                        for (2026-09 and 2026 overlap 2026-Q3);
 *   stories_current      of indicators, those with a story behind the curve
 *                        written or changed in the last 90 days;
 *   commitments_updated  of open commitments (not done, not dropped), those
 *                        changed in the last 30 days;
 *   engagement           the mean of those three that are known;
 *   performance          of series with data (trend not no-data), those on
 *                        track;
 *   score                the mean of engagement and performance, those known.
 * "In the last N days" counts back from the data's time.
 */
typedef struct cairn_report_accountability {
  char latest_period[16]; /* "" when no series has an actual */
  unsigned measures_with_data, measures_current;
  unsigned indicators, indicators_with_story;
  unsigned open_commitments, commitments_recent;
  unsigned series_with_data, series_on_track;
  double data_current, stories_current, commitments_updated;
  double engagement, performance, score;
} cairn_report_accountability_t;

CAIRN_EXTERN int cairn_report_accountability(cairn_report_data_t *d, const cairn_report_measures_t *mm,
                                    const cairn_report_commitments_t *cm,
                                    cairn_report_accountability_t *out) CAIRN_WUR;
/* Add the score's section to doc. */
CAIRN_EXTERN int cairn_report_accountability_doc(const cairn_report_accountability_t *sc,
                                        cairn_report_doc_t *doc) CAIRN_WUR;

#endif
