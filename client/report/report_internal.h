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

/* A document as one self-contained HTML page (render_html.c). 0 or CAIRN_EIO. */
int cairn__report_html(const cairn_report_doc_t *doc, FILE *f);

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
