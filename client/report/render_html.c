/*
 * render_html.c — a report's document as one self-contained HTML page: inline
 * CSS that prints well, no script, nothing loaded from elsewhere (report.h,
 * "Renderers"; docs/design.md, "Reports").
 */
#include <math.h>
#include <string.h>

#include "report_internal.h"

/* Text with &, <, >, " escaped. */
static void esc(FILE *f, const char *s) {
  for (; *s; s++)
    switch (*s) {
    case '&': fputs("&amp;", f); break;
    case '<': fputs("&lt;", f); break;
    case '>': fputs("&gt;", f); break;
    case '"': fputs("&quot;", f); break;
    default: fputc(*s, f);
    }
}

static const char *tone_class(cairn_report_tone_t t) {
  static const char *const names[] = {"", "good", "warn", "bad", "muted"};
  return t >= CAIRN_TONE_PLAIN && t <= CAIRN_TONE_MUTED ? names[t] : "";
}

static const char css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933;"
    "margin:2rem auto;max-width:64rem;padding:0 1rem;line-height:1.45}"
    "h1{margin:0;font-size:1.8rem}.sub{color:#52606d;margin:.2rem 0 1.5rem}"
    "h2{border-bottom:2px solid #d9e2ec;padding-bottom:.3rem;margin-top:2rem}"
    "h3{margin:1.2rem 0 .4rem;font-size:1.05rem}"
    ".facts{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}"
    ".fact{border:1px solid #d9e2ec;border-radius:6px;padding:.5rem .9rem;min-width:9rem}"
    ".fact .v{font-size:1.5rem;font-weight:600}.fact .l{color:#52606d;font-size:.85rem}"
    "table{border-collapse:collapse;width:100%;margin:.3rem 0 1rem;font-size:.92rem}"
    "th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e4e7eb}"
    "th{background:#f5f7fa;font-weight:600}td.n,th.n{text-align:right}"
    ".good{color:#1e7b34}.warn{color:#a05a00}.bad{color:#b42318;font-weight:600}"
    ".muted{color:#8a94a0}.empty{color:#52606d;font-style:italic}"
    "@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}";

static void html_table(FILE *f, const cairn_report_table_t *t) {
  if (t->title[0]) {
    fputs("<h3>", f);
    esc(f, t->title);
    fputs("</h3>\n", f);
  }
  if (t->nrows == 0) {
    fputs("<p class=\"empty\">", f);
    esc(f, t->empty[0] ? t->empty : "None.");
    fputs("</p>\n", f);
    return;
  }
  fputs("<table><thead><tr>", f);
  for (size_t c = 0; c < t->ncols; c++) {
    fprintf(f, "<th%s>", t->col_numeric[c] ? " class=\"n\"" : "");
    esc(f, t->col_labels[c]);
    fputs("</th>", f);
  }
  fputs("</tr></thead><tbody>\n", f);
  for (size_t r = 0; r < t->nrows; r++) {
    fputs("<tr>", f);
    for (size_t c = 0; c < t->ncols; c++) {
      const cairn_report_cell_t *cell = &t->rows[r].cells[c];
      fprintf(f, "<td class=\"%s%s\">", t->col_numeric[c] ? "n " : "", tone_class(cell->tone));
      esc(f, cell->text);
      fputs("</td>", f);
    }
    fputs("</tr>\n", f);
  }
  fputs("</tbody></table>\n", f);
}

int cairn__report_html(const cairn_report_doc_t *doc, FILE *f) {
  fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>", f);
  esc(f, doc->title);
  fprintf(f, "</title><style>%s</style></head><body>\n<h1>", css);
  esc(f, doc->title);
  fputs("</h1><p class=\"sub\">", f);
  esc(f, doc->subtitle);
  fputs("</p>\n", f);
  for (size_t i = 0; i < doc->nsections; i++) {
    const cairn_report_section_t *s = doc->sections[i];
    fprintf(f, "<section id=\"%s\"><h2>", s->id);
    esc(f, s->title);
    fputs("</h2>\n", f);
    if (s->intro[0]) {
      fputs("<p>", f);
      esc(f, s->intro);
      fputs("</p>\n", f);
    }
    if (s->nfacts)
      fputs("<div class=\"facts\">", f);
    for (size_t k = 0; k < s->nfacts; k++) {
      fprintf(f, "<div class=\"fact\"><div class=\"v %s\">", tone_class(s->facts[k].tone));
      esc(f, s->facts[k].text);
      fputs("</div><div class=\"l\">", f);
      esc(f, s->facts[k].label);
      fputs("</div></div>", f);
    }
    if (s->nfacts)
      fputs("</div>\n", f);
    for (size_t k = 0; k < s->ntables; k++)
      html_table(f, s->tables[k]);
    fputs("</section>\n", f);
  }
  fputs("</body></html>\n", f);
  return ferror(f) ? CAIRN_EIO : 0;
}
