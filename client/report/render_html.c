/*
 * render_html.c — a report's document as one self-contained HTML page, the
 * page a backbone puts on the screen in its monthly accountability meeting
 * and prints for the packet (report.h, "Renderers"; docs/design.md, "Reports").
 *
 * One file: inline CSS, inline SVG charts (svg.c), no script, no font, image
 * or link loaded from anywhere. The page opens with the report's title and
 * date, a table of contents when there are several sections, then each
 * section: its headline facts as cards, its charts, its tables. A tone is
 * never colour alone: a toned word is a badge that keeps the word, a toned
 * number keeps its column's name. Laptop, tablet and projector widths reflow;
 * wide tables scroll inside their box. Printing drops the screen margins and
 * never splits a table row, a card or a chart across pages.
 *
 * Every text from the document goes through cairn__out_esc; the markup around
 * it is static strings. The page is written through a buffer (out.h).
 */
#include <stdlib.h>
#include <string.h>

#include "report_internal.h"
#include "svg.h"

static void text(cairn__out_t *f, const char *open, const char *s, const char *close) {
  cairn__out_str(f, open);
  cairn__out_esc(f, s);
  cairn__out_str(f, close);
}

static const char *tone_class(cairn_report_tone_t t) {
  static const char *const names[] = {"plain", "good", "warn", "bad", "muted"};
  return t >= CAIRN_TONE_PLAIN && t <= CAIRN_TONE_MUTED ? names[t] : "plain";
}

static const char css[] =
    ":root{--ink:#1f2933;--soft:#52606d;--line:#d9e2ec;--faint:#f5f7fa;"
    "--good:#1a7f37;--good-bg:#e7f5eb;--warn:#8a5300;--warn-bg:#fff3dc;"
    "--bad:#b42318;--bad-bg:#fdecea;--muted:#66717d;--muted-bg:#eef1f4;--accent:#0b5cad}"
    "*{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%}"
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','DejaVu Sans',"
    "sans-serif;color:var(--ink);background:#fff;margin:0;line-height:1.45;font-size:1rem}"
    "main{max-width:76rem;margin:0 auto;padding:1.5rem clamp(.8rem,3vw,2.5rem) 2rem}"
    "header.top{border-bottom:3px solid var(--ink);padding-bottom:.8rem;margin-bottom:1.2rem}"
    "h1{margin:0;font-size:clamp(1.6rem,3.2vw,2.3rem);line-height:1.15}"
    ".sub{color:var(--soft);margin:.3rem 0 0;font-size:1.05rem}"
    "h2{font-size:1.45rem;margin:2.2rem 0 .6rem;padding-bottom:.3rem;"
    "border-bottom:2px solid var(--line)}"
    "section:first-of-type h2{margin-top:1rem}"
    "h2.hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
    "white-space:nowrap;margin:0;padding:0;border:0}"
    "h3{margin:1.6rem 0 .5rem;font-size:1.1rem}"
    ".intro{margin:.2rem 0 1rem;max-width:52rem;color:#323f4b}"
    "nav.toc{background:var(--faint);border:1px solid var(--line);border-radius:8px;"
    "padding:.6rem 1rem;margin:0 0 1rem}"
    "nav.toc p{margin:0 0 .2rem;font-weight:600;font-size:.85rem;text-transform:uppercase;"
    "letter-spacing:.04em;color:var(--soft)}"
    "nav.toc ol{margin:0;padding-left:1.3rem;columns:2 16rem}"
    "nav.toc a{color:var(--accent)}"
    ".facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,8.75rem),1fr));"
    "gap:.75rem;margin:1rem 0 1.2rem}"
    ".fact{border:1px solid var(--line);border-left:6px solid #9aa5b1;border-radius:8px;"
    "padding:.6rem .9rem;background:#fff}"
    ".fact .v{font-size:2rem;font-weight:700;line-height:1.1;font-variant-numeric:tabular-nums}"
    ".fact .l{color:var(--soft);font-size:.9rem;margin-top:.15rem}"
    ".fact.good{border-left-color:var(--good)}.fact.good .v{color:var(--good)}"
    ".fact.warn{border-left-color:#d08a00}.fact.warn .v{color:var(--warn)}"
    ".fact.bad{border-left-color:var(--bad)}.fact.bad .v{color:var(--bad)}"
    ".fact.muted .v{color:var(--muted)}"
    ".scroll{overflow-x:auto;margin:.3rem 0 1rem;border:1px solid var(--line);"
    "border-radius:8px}"
    "table{border-collapse:collapse;width:100%;font-size:.95rem}"
    "th,td{text-align:left;padding:.45rem .7rem;border-bottom:1px solid #e4e7eb;"
    "vertical-align:top}"
    "tbody tr:last-child td{border-bottom:0}"
    "tbody tr:nth-child(even){background:#fafbfc}"
    "th{background:var(--faint);font-weight:600;white-space:nowrap;color:#323f4b;"
    "border-bottom:2px solid var(--line)}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    "td.nw{white-space:nowrap}"
    "td.good{color:var(--good);font-weight:600}td.warn{color:var(--warn);font-weight:600}"
    "td.bad{color:var(--bad);font-weight:700}td.muted{color:#8a94a0}"
    ".badge{display:inline-block;padding:.05rem .55rem;border-radius:999px;font-size:.85rem;"
    "font-weight:600;white-space:nowrap;border:1px solid}"
    ".badge.good{color:var(--good);background:var(--good-bg);border-color:#a6d9b4}"
    ".badge.warn{color:var(--warn);background:var(--warn-bg);border-color:#f0c674}"
    ".badge.bad{color:var(--bad);background:var(--bad-bg);border-color:#f3aca4}"
    ".badge.muted{color:var(--muted);background:var(--muted-bg);border-color:#d3d9df}"
    ".badge.plain{color:#323f4b;background:#fff;border-color:#cbd2d9;font-weight:500}"
    ".empty{color:var(--soft);font-style:italic}"
    ".charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,31rem),1fr));"
    "gap:1rem 1.5rem;margin:1rem 0}"
    "figure.chart-box{margin:0;border:1px solid var(--line);border-radius:8px;"
    "padding:.6rem .8rem .7rem;max-width:46rem}"
    "figure.chart-box h3{margin:0 0 .3rem;font-size:1.02rem}"
    "svg.chart{display:block;width:100%;height:auto;font-family:inherit;fill:#3e4c59}"
    "svg.chart .unit,svg.chart .ref{font-weight:600}"
    "svg.chart .ref{paint-order:stroke;stroke:#fff;stroke-width:4px;stroke-linejoin:round}"
    "svg.chart .note{fill:var(--soft);font-style:italic}"
    ".legend{list-style:none;display:flex;flex-wrap:wrap;gap:.2rem 1rem;margin:.3rem 0 0;"
    "padding:0;font-size:.9rem}"
    ".legend li{display:flex;align-items:center;gap:.35rem}"
    "figcaption{margin-top:.4rem;color:#323f4b;font-size:.92rem}"
    "footer{margin-top:2.5rem;padding-top:.6rem;border-top:1px solid var(--line);"
    "color:var(--soft);font-size:.85rem}"
    "@media (max-width:64rem){th,td{padding:.4rem .45rem}th{white-space:normal}"
    "table{font-size:.9rem}}"
    "@media (max-width:40rem){html{font-size:15px}.fact .v{font-size:1.6rem}}"
    "@media print{"
    "@page{margin:12mm 10mm}"
    "html{font-size:10pt}"
    "body{font-size:1rem;-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "main{max-width:none;padding:0}"
    "nav.toc{display:none}"
    "h2,h3{break-after:avoid}"
    "tr,.fact,figure.chart-box{break-inside:avoid}"
    ".scroll{overflow:visible;border:0}"
    "th,td{padding:.3rem .45rem}th{white-space:normal}"
    "thead{display:table-header-group}"
    "a{color:inherit;text-decoration:none}"
    ".charts{display:block}figure.chart-box{margin:0 0 .8rem}"
    "svg.chart{max-width:16cm}}";

/* The top of the page up to the report's heading. */
static void head(cairn__out_t *f, const cairn_report_doc_t *doc) {
  cairn__out_str(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n");
  text(f, "<title>", doc->title, "");
  text(f, " \xe2\x80\x94 ", doc->subtitle, "</title>\n");
  cairn__out_str(f, "<style>");
  cairn__out_mem(f, css, sizeof css - 1);
  cairn__out_str(f, "</style>\n</head><body><main>\n");
  text(f, "<header class=\"top\"><h1>", doc->title, "</h1>");
  text(f, "<p class=\"sub\">", doc->subtitle, "</p></header>\n");
}

/* Links to each section, when there is more than one. */
static void toc(cairn__out_t *f, const cairn_report_doc_t *doc) {
  if (doc->nsections < 2)
    return;
  cairn__out_str(f, "<nav class=\"toc\" aria-label=\"Contents\"><p>Contents</p><ol>");
  for (size_t i = 0; i < doc->nsections; i++) {
    text(f, "<li><a href=\"#", doc->sections[i]->id, "\">");
    text(f, "", doc->sections[i]->title, "</a></li>");
  }
  cairn__out_str(f, "</ol></nav>\n");
}

static void facts(cairn__out_t *f, const cairn_report_section_t *s) {
  if (s->nfacts == 0)
    return;
  cairn__out_str(f, "<div class=\"facts\">");
  for (size_t k = 0; k < s->nfacts; k++) {
    cairn__out_str(f, "<div class=\"fact ");
    cairn__out_str(f, tone_class(s->facts[k].tone));
    cairn__out_str(f, "\">");
    text(f, "<div class=\"v\">", s->facts[k].text, "</div>");
    text(f, "<div class=\"l\">", s->facts[k].label, "</div></div>");
  }
  cairn__out_str(f, "</div>\n");
}

/* Short text without a space (a date, a state, a number) or a short one
 * starting with a digit (a time, a quantity) never wraps: a "2026-10-31" or
 * "in-progress" broken at its hyphen misreads. */
static int keep_whole(const char *s) {
  size_t n = strlen(s);
  return (strchr(s, ' ') == NULL && n <= 24) || (n <= 20 && s[0] >= '0' && s[0] <= '9');
}

/* A cell: numbers right-aligned and coloured by tone (the column says what
 * they count); a toned word as a badge, and a plain word as a plain badge in
 * a column of badges (a state column reads as one). */
static void cell(cairn__out_t *f, const cairn_report_cell_t *c, int numeric, int badges) {
  const char *tone = c->tone != CAIRN_TONE_PLAIN ? tone_class(c->tone) : "";
  if (numeric || c->is_number) { /* "-0.81 per quarter" may wrap on a tablet */
    cairn__out_str(f, strlen(c->text) <= 12 ? "<td class=\"n nw " : "<td class=\"n ");
    cairn__out_str(f, tone);
    cairn__out_str(f, "\">");
    text(f, "", c->text, "</td>");
  } else if ((tone[0] || badges) && c->text[0]) {
    cairn__out_str(f, "<td class=\"nw\"><span class=\"badge ");
    cairn__out_str(f, tone[0] ? tone : "plain");
    cairn__out_str(f, "\">");
    text(f, "", c->text, "</span></td>");
  } else {
    cairn__out_str(f, keep_whole(c->text) ? "<td class=\"nw\">" : "<td>");
    text(f, "", c->text, "</td>");
  }
}

/* Whether column c holds a toned word (its words are shown as badges). */
static int badge_column(const cairn_report_table_t *t, size_t c) {
  if (t->col_numeric[c])
    return 0;
  for (size_t r = 0; r < t->nrows; r++)
    if (t->rows[r].cells[c].tone != CAIRN_TONE_PLAIN && !t->rows[r].cells[c].is_number)
      return 1;
  return 0;
}

static void table(cairn__out_t *f, const cairn_report_table_t *t) {
  if (t->title[0])
    text(f, "<h3>", t->title, "</h3>\n");
  if (t->nrows == 0) {
    text(f, "<p class=\"empty\">", t->empty[0] ? t->empty : "None.", "</p>\n");
    return;
  }
  cairn__out_str(f, "<div class=\"scroll\"><table><thead><tr>");
  for (size_t c = 0; c < t->ncols; c++)
    text(f, t->col_numeric[c] ? "<th class=\"n\" scope=\"col\">" : "<th scope=\"col\">",
         t->col_labels[c], "</th>");
  cairn__out_str(f, "</tr></thead>\n<tbody>\n");
  unsigned char *badges = calloc(t->ncols + 1, 1); /* NULL: plain words stay plain */
  for (size_t c = 0; badges != NULL && c < t->ncols; c++)
    badges[c] = (unsigned char)badge_column(t, c);
  for (size_t r = 0; r < t->nrows; r++) {
    cairn__out_str(f, "<tr>");
    for (size_t c = 0; c < t->ncols; c++)
      cell(f, &t->rows[r].cells[c], t->col_numeric[c], badges != NULL && badges[c]);
    cairn__out_str(f, "</tr>\n");
  }
  free(badges);
  cairn__out_str(f, "</tbody></table></div>\n");
}

/* A section: intro, facts, charts (what the meeting looks at first), then the
 * tables with the detail; *nchart numbers the charts of the page. A section named like the
 * report (a report of one section) keeps its heading for screen readers and
 * the outline, not on screen under the same words. */
static void section(cairn__out_t *f, const cairn_report_doc_t *doc, const cairn_report_section_t *s,
                    size_t *nchart) {
  text(f, "<section id=\"", s->id, "\">");
  text(f, strcmp(s->title, doc->title) == 0 ? "<h2 class=\"hidden\">" : "<h2>", s->title,
       "</h2>\n");
  if (s->intro[0])
    text(f, "<p class=\"intro\">", s->intro, "</p>\n");
  facts(f, s);
  if (s->ncharts)
    cairn__out_str(f, "<div class=\"charts\">\n");
  for (size_t k = 0; k < s->ncharts; k++)
    cairn__svg_chart(f, s->charts[k], (*nchart)++);
  if (s->ncharts)
    cairn__out_str(f, "</div>\n");
  for (size_t k = 0; k < s->ntables; k++)
    table(f, s->tables[k]);
  cairn__out_str(f, "</section>\n");
}

static void page(cairn__out_t *f, const cairn_report_doc_t *doc) {
  size_t nchart = 0;
  head(f, doc);
  toc(f, doc);
  for (size_t i = 0; i < doc->nsections; i++)
    section(f, doc, doc->sections[i], &nchart);
  text(f, "<footer>Made by cairn from the partnership's shared records: <code>cairn report ",
       doc->name, "");
  text(f, " --as-of ", doc->as_of, " --format html</code>.</footer>\n");
  cairn__out_str(f, "</main></body></html>\n");
}

int cairn__report_html(const cairn_report_doc_t *doc, FILE *f) {
  cairn__out_t *o = malloc(sizeof *o);
  if (o == NULL)
    return CAIRN_ENOMEM;
  cairn__out_init(o, f);
  page(o, doc);
  int rc = cairn__out_flush(o);
  free(o);
  return rc;
}
