/*
 * static.c — what `cairn ui` serves outside /api/: the app's files, compiled
 * in from client/web/assets/ (cmake/embed.cmake), and each report as its own
 * HTML page (the report renderers' self-contained HTML), which the app's
 * dashboard frames.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "web_internal.h"

#define DAY_MS 86400000ull

/* Written by cmake/embed.cmake from client/web/assets/. */
extern const char web_asset_index_html[], web_asset_app_css[], web_asset_app_js[],
    web_asset_favicon_svg[];
extern const unsigned long web_asset_index_html_len, web_asset_app_css_len,
    web_asset_app_js_len, web_asset_favicon_svg_len;

static const web_asset_t assets[] = {
    {"/", "text/html; charset=utf-8", web_asset_index_html, &web_asset_index_html_len},
    {"/app.css", "text/css; charset=utf-8", web_asset_app_css, &web_asset_app_css_len},
    {"/app.js", "text/javascript; charset=utf-8", web_asset_app_js, &web_asset_app_js_len},
    {"/favicon.svg", "image/svg+xml", web_asset_favicon_svg, &web_asset_favicon_svg_len},
};

const web_asset_t *web_asset_find(const char *path) {
  for (size_t i = 0; i < sizeof assets / sizeof assets[0]; i++)
    if (strcmp(assets[i].path, path) == 0)
      return &assets[i];
  return NULL;
}

/* Report options for as_of (NULL or "" for now): a date means the end of that
 * day, as `cairn report --as-of`. */
static int report_opts(const char *as_of, cairn_report_opts_t *opts, cairn_error_t *err) {
  memset(opts, 0, sizeof *opts);
  if (as_of == NULL || as_of[0] == '\0')
    return 0;
  if (cairn_changes_parse_since(as_of, cairn_now_ms(), &opts->as_of_ms) != 0) {
    snprintf(err->msg, sizeof err->msg, "as_of takes a date (2026-10-31), a time "
                                        "(2026-10-31T18:00Z) or a number of days ago (30d), "
                                        "not '%s'", as_of);
    return err->code = CAIRN_EINVAL;
  }
  if (strlen(as_of) == 10)
    opts->as_of_ms += DAY_MS - 1; /* the whole of that day */
  return 0;
}

int web_report_build(cairn_store_t *s, const char *name, const char *as_of,
                     cairn_report_doc_t **doc, cairn_error_t *err) {
  cairn_report_opts_t opts;
  int rc = report_opts(as_of, &opts, err);
  *doc = NULL;
  if (rc != 0)
    return rc;
  rc = cairn_report_build(s, name, &opts, doc, err);
  return rc == CAIRN_EINVAL ? CAIRN_ENOENT : rc; /* its only EINVAL: an unknown name */
}

int web_report_page(cairn_store_t *s, const char *name, const char *as_of, char **html,
                    size_t *len, cairn_error_t *err) {
  cairn_report_doc_t *doc = NULL;
  FILE *f;
  int rc;
  *html = NULL;
  *len = 0;
  if ((rc = web_report_build(s, name, as_of, &doc, err)) != 0)
    return rc;
  f = open_memstream(html, len);
  rc = f == NULL ? CAIRN_ENOMEM : cairn_report_render(doc, CAIRN_REPORT_HTML, f);
  if (f != NULL && fclose(f) != 0 && rc == 0)
    rc = CAIRN_ENOMEM;
  cairn_report_doc_free(doc);
  if (rc != 0) {
    free(*html);
    *html = NULL;
  }
  return rc;
}
