/*
 * report_sample.h — a report document made by hand (report_sample.c), with
 * what the measures report draws: fact cards with tones, a table of trends,
 * line charts with several series, a gap, a target and a baseline, many
 * periods, and a chart with no value yet. The HTML renderer's unit test checks
 * it, tests/tools/reportdoc writes it for the browser test, and its screenshot
 * is docs/report-chart.png.
 */
#ifndef CAIRN_REPORT_SAMPLE_H
#define CAIRN_REPORT_SAMPLE_H

#include "report.h"

/* The series each chart of the sample draws, in page order (its length is
 * CAIRN_SAMPLE_NCHARTS). */
#define CAIRN_SAMPLE_NCHARTS 4
extern const size_t cairn_test_sample_series[CAIRN_SAMPLE_NCHARTS];

/* The sample document. @param[out] out  free with cairn_report_doc_free.
 * @return 0 or CAIRN_ENOMEM. */
int cairn_test_report_sample(cairn_report_doc_t **out);

#endif
