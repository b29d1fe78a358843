/*
 * reports.c — `cairn report NAME`: a report of the partnership as of a date, as
 * text, JSON, CSV or one HTML file (docs/cli.md, "Reports"; the reports
 * themselves are client/report/).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

#define DAY_MS 86400000ull

/* --as-of DATE: the end of that day (UTC), or the time given; 0 for now. */
static int parse_as_of(cli_t *cli, const char *text, uint64_t *out) {
  *out = 0;
  if (text == NULL)
    return 0;
  if (cairn_changes_parse_since(text, cairn_now_ms(), out) != 0)
    return cli_usage(cli, "--as-of takes a date (2026-10-31), a time (2026-10-31T18:00Z) or "
                          "a number of days ago (30d), not '%s'",
                     text);
  if (strlen(text) == 10)
    *out += DAY_MS - 1; /* the whole of that day */
  return 0;
}

/* The format: --format, else the output file's extension, else text. */
static int pick_format(cli_t *cli, const char *name, const char *file,
                       cairn_report_format_t *out) {
  const char *dot = file != NULL ? strrchr(file, '.') : NULL;
  *out = CAIRN_REPORT_TEXT;
  if (name != NULL && !cairn_report_format_parse(name, out))
    return cli_usage(cli, "--format is text, json, csv or html, not '%s'", name);
  if (name == NULL && dot != NULL && !cairn_report_format_parse(dot + 1, out))
    *out = CAIRN_REPORT_TEXT;
  return 0;
}

static int write_report(cli_t *cli, const cairn_report_doc_t *doc, cairn_report_format_t fmt,
                        const char *file) {
  FILE *f = file != NULL ? fopen(file, "w") : stdout;
  int rc;
  if (f == NULL)
    return cli_fail(cli, "cannot write %s: %s", file, strerror(errno));
  rc = cairn_report_render(doc, fmt, f);
  if (file != NULL && fclose(f) != 0 && rc == 0)
    rc = CAIRN_EIO;
  if (rc != 0)
    return cli_fail(cli, "cannot write the report%s%s: %s", file ? " to " : "",
                    file ? file : "", cairn_strerror(rc));
  return 0;
}

static const char *const report_opts[] = {"as-of=", "format=", "o=", "output=", "since=",
                                          "days=", NULL};

int cmd_report(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_report_opts_t opts = {0, 0, 0};
  cairn_report_format_t fmt;
  cairn_report_doc_t *doc = NULL;
  cairn_error_t err = {0, ""};
  const char *file, *since;
  unsigned long days;
  int rc = cli_args_parse(cli, argc, argv, report_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  file = cli_opt(&a, "o") ? cli_opt(&a, "o") : cli_opt(&a, "output");
  since = cli_opt(&a, "since");
  if ((rc = parse_as_of(cli, cli_opt(&a, "as-of"), &opts.as_of_ms)) != 0 ||
      (rc = pick_format(cli, cli_opt(&a, "format"), file, &fmt)) != 0 ||
      (rc = cli_opt_number(cli, &a, "days", 1, 3650, 60, &days)) != 0)
    goto done;
  opts.days = (unsigned)days;
  /* --since Nd counts back from the report's time */
  if (since != NULL &&
      cairn_changes_parse_since(since, opts.as_of_ms ? opts.as_of_ms : cairn_now_ms(),
                                &opts.since_ms) != 0) {
    rc = cli_usage(cli, "--since takes a date (2026-10-01), a time or a number of days ago "
                        "(30d), not '%s'", since);
    goto done;
  }
  if ((rc = cli_open(cli)) != 0)
    goto done;
  if ((rc = cairn_report_build(cli->store, a.pos[0], &opts, &doc, &err)) != 0) {
    rc = rc == CAIRN_EINVAL ? cli_usage(cli, "%s", err.msg) : cli_fail_rc(cli, rc, &err, NULL);
    goto done;
  }
  rc = write_report(cli, doc, fmt, file);
done:
  cairn_report_doc_free(doc);
  cli_args_free(&a);
  return rc;
}
