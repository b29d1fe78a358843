/*
 * reportdoc — write the hand-made report document of tests/support/
 * report_sample.h (charts with several series, gaps, targets) as html, json,
 * text or csv, for the browser test while no report of the CLI draws charts
 * of every kind.
 *
 * Usage: reportdoc FORMAT FILE
 */
#include <stdio.h>
#include <string.h>

#include "report_sample.h"

int main(int argc, char **argv) {
  cairn_report_format_t fmt;
  cairn_report_doc_t *doc;
  if (argc != 3 || !cairn_report_format_parse(argv[1], &fmt)) {
    fprintf(stderr, "usage: reportdoc html|json|text|csv FILE\n");
    return 2;
  }
  FILE *f = fopen(argv[2], "w");
  if (f == NULL) {
    perror(argv[2]);
    return 1;
  }
  int rc = cairn_test_report_sample(&doc);
  if (rc == 0)
    rc = cairn_report_render(doc, fmt, f);
  cairn_report_doc_free(doc);
  if (fclose(f) != 0 && rc == 0)
    rc = CAIRN_EIO;
  if (rc != 0)
    fprintf(stderr, "reportdoc: %s\n", cairn_strerror(rc));
  return rc != 0;
}
