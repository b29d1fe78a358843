/*
 * report_internal.h — what the files of client/report share and nothing else
 * sees: the JSON tree of a document, the HTML renderer, and the builders the
 * reports are dispatched to.
 */
#ifndef CAIRN_REPORT_INTERNAL_H
#define CAIRN_REPORT_INTERNAL_H

#include "report.h"

/* A document as the JSON tree render_json writes (NULL on out of memory). */
json_t *cairn__report_json(const cairn_report_doc_t *doc);

/* A document as one self-contained HTML page (render_html.c). 0, CAIRN_EIO or
 * CAIRN_ENOMEM. */
int cairn__report_html(const cairn_report_doc_t *doc, FILE *f);

/* n bytes from the blocks at *arena (NULL: none yet), at a multiple of align
 * (a power of two up to alignof(max_align_t)): from the newest block, else a
 * new one of size bytes (n when larger). Valid until cairn__arena_free. NULL
 * when out of memory. */
void *cairn__arena_alloc(void **arena, size_t n, size_t align, size_t size);
/* Free every block (arena may be NULL). */
void cairn__arena_free(void *arena);

/* Room in the array *v (of *cap elements of size bytes) for need elements:
 * its capacity doubled (from 16) until it holds them. 0 or CAIRN_ENOMEM (*v
 * left as it was). */
int cairn__report_grow(void **v, size_t *cap, size_t need, size_t size);

/*
 * Several fields of many records of one type, read together (data.c): each
 * name's schema field looked up once, then each record's fields found in one
 * walk of its decoded fields. What cairn_report_text and cairn_report_number
 * would read, for a report that reads the same fields of thousands of records.
 */
#define CAIRN__FIELDS_MAX 16
#define CAIRN__FIELDS_LENS 32 /* names by length: lengths from this on share one */

typedef struct cairn__fields {
  size_t n;
  const char *names[CAIRN__FIELDS_MAX]; /* borrowed */
  size_t lens[CAIRN__FIELDS_MAX];
  const cairn_schema_field_t *sf[CAIRN__FIELDS_MAX]; /* NULL: not in the schema */
  unsigned char nby_len[CAIRN__FIELDS_LENS + 1];    /* names of each length */
  unsigned char by_len[CAIRN__FIELDS_LENS + 1][CAIRN__FIELDS_MAX]; /* their k */
} cairn__fields_t;

/* The fields names[0..n) (at most CAIRN__FIELDS_MAX) of records of type. */
void cairn__fields_init(cairn_report_data_t *d, const char *type, const char *const *names,
                        size_t n, cairn__fields_t *out);
/* out[k]: r's field stored under names[k] (as cairn_report_number reads it),
 * NULL when it has none. r is of the type fs was made for. */
void cairn__fields_find(const cairn__fields_t *fs, const cairn_report_rec_t *r,
                        const cairn_report_field_t **out);
/* For a field r has not under names[k]: its value under a former name (the
 * newest written), NULL when none. */
const cairn_report_field_t *cairn__fields_renamed(const cairn__fields_t *fs, size_t k,
                                                  const cairn_report_rec_t *r);
/* What cairn_report_text(d, r, names[k]) returns, given f, r's field under
 * names[k] (from cairn__fields_find, may be NULL). */
const char *cairn__fields_text(cairn_report_data_t *d, const cairn__fields_t *fs, size_t k,
                               const cairn_report_rec_t *r, const cairn_report_field_t *f);

/* A report's builder: its sections added to doc, from d (report.c dispatches). */
typedef int (*cairn__report_fn)(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                                cairn_report_doc_t *doc);

/* The builders, one per report (their files). */
int cairn__report_commitments(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                              cairn_report_doc_t *doc);
int cairn__report_measures(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                           cairn_report_doc_t *doc);
int cairn__report_goals(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                        cairn_report_doc_t *doc);
int cairn__report_partners(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                           cairn_report_doc_t *doc);
int cairn__report_changes(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                          cairn_report_doc_t *doc);

int cairn__report_meeting(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                          cairn_report_doc_t *doc);
/* The builder of the report named name, or NULL (report.c). */
cairn__report_fn cairn__report_builder(const char *name);

#endif
