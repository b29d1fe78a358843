/*
 * report.c — the reports by name: cairn_report_build loads the data as of the
 * date asked and has the report add its sections to a new document (report.h,
 * "Reports").
 */
#include <string.h>

#include "report_internal.h"

typedef struct report_def {
  const char *name, *title;
  cairn__report_fn build;
} report_def_t;

static const report_def_t reports[] = {
    {"meeting", "Accountability meeting", cairn__report_meeting},
    {"commitments", "Commitments", cairn__report_commitments},
    {"measures", "Measures", cairn__report_measures},
    {"partners", "Partners", cairn__report_partners},
    {"goals", "Soft goals", cairn__report_goals},
    {"changes", "Changes", cairn__report_changes},
};
#define NREPORTS (sizeof reports / sizeof reports[0])

cairn__report_fn cairn__report_builder(const char *name) {
  for (size_t i = 0; i < NREPORTS; i++)
    if (strcmp(reports[i].name, name) == 0)
      return reports[i].build;
  return NULL;
}

const char *const *cairn_report_names(void) {
  static const char *names[NREPORTS + 1];
  for (size_t i = 0; i < NREPORTS; i++)
    names[i] = reports[i].name;
  return names;
}

static const report_def_t *find(const char *name, cairn_error_t *err) {
  char list[200] = "";
  for (size_t i = 0; i < NREPORTS; i++) {
    if (strcmp(reports[i].name, name) == 0)
      return &reports[i];
    strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
    strncat(list, reports[i].name, sizeof list - strlen(list) - 1);
  }
  const char *near = cairn_suggest(name, cairn_report_names(), NREPORTS);
  if (near != NULL)
    cairn__error(err, CAIRN_EINVAL, "no report \"%s\"; did you mean %s?", name, near);
  else
    cairn__error(err, CAIRN_EINVAL, "no report \"%s\" (reports: %s)", name, list);
  return NULL;
}

int cairn_report_build(cairn_store_t *s, const char *name, const cairn_report_opts_t *opts,
                       cairn_report_doc_t **out, cairn_error_t *err) {
  static const cairn_report_opts_t none = {0, 0, 0};
  const report_def_t *def = find(name, err);
  cairn_report_data_t *d = NULL;
  int rc;
  *out = NULL;
  if (def == NULL)
    return CAIRN_EINVAL;
  if (opts == NULL)
    opts = &none;
  if ((rc = cairn_report_data_open(s, opts->as_of_ms, &d)) != 0)
    return cairn__error(err, rc, "cannot read the records: %s", cairn_strerror(rc));
  cairn_report_doc_t *doc = cairn_report_doc_new(def->name, def->title, d);
  if (doc == NULL)
    rc = CAIRN_ENOMEM;
  else
    rc = def->build(d, opts, doc);
  cairn_report_data_free(d);
  if (rc != 0) {
    cairn_report_doc_free(doc);
    return cairn__error(err, rc, "cannot build the %s report: %s", name, cairn_strerror(rc));
  }
  *out = doc;
  return 0;
}
