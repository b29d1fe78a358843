/*
 * render.c — a report's document as text for a terminal, JSON or CSV, and the
 * dispatch to the HTML renderer (report.h, "Renderers"; docs/design.md,
 * "Reports").
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_internal.h"

int cairn_report_format_parse(const char *name, cairn_report_format_t *out) {
  static const char *const names[] = {NULL, "text", "json", "csv", "html"};
  for (int i = 1; i <= CAIRN_REPORT_HTML; i++)
    if (strcmp(name, names[i]) == 0) {
      *out = (cairn_report_format_t)i;
      return 1;
    }
  return 0;
}

/* ---- text ---- */

/* Columns a string takes on a terminal: its code points (no wide characters
 * among the report's words). */
static size_t width(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xc0) != 0x80;
  return n;
}

static void pad(FILE *f, size_t n) {
  while (n-- > 0)
    fputc(' ', f);
}

static void text_cell(FILE *f, const char *s, size_t w, int right, int last) {
  size_t n = width(s);
  if (right && !(last && n == 0))
    pad(f, w - n);
  fputs(s, f);
  if (!right && !last)
    pad(f, w - n);
}

static void text_table(FILE *f, const cairn_report_table_t *t) {
  size_t *w = calloc(t->ncols + 1, sizeof *w);
  if (w == NULL)
    return;
  if (t->title[0])
    fprintf(f, "\n%s\n", t->title);
  if (t->nrows == 0) {
    fprintf(f, "  %s\n", t->empty[0] ? t->empty : "(none)");
    free(w);
    return;
  }
  for (size_t c = 0; c < t->ncols; c++) {
    w[c] = width(t->col_labels[c]);
    for (size_t r = 0; r < t->nrows; r++)
      if (width(t->rows[r].cells[c].text) > w[c])
        w[c] = width(t->rows[r].cells[c].text);
  }
  fputs("  ", f);
  for (size_t c = 0; c < t->ncols; c++) {
    text_cell(f, t->col_labels[c], w[c], t->col_numeric[c], c + 1 == t->ncols);
    fputs(c + 1 < t->ncols ? "  " : "\n", f);
  }
  for (size_t r = 0; r < t->nrows; r++) {
    fputs("  ", f);
    for (size_t c = 0; c < t->ncols; c++) {
      text_cell(f, t->rows[r].cells[c].text, w[c], t->col_numeric[c], c + 1 == t->ncols);
      fputs(c + 1 < t->ncols ? "  " : "\n", f);
    }
  }
  free(w);
}

static void text_number(FILE *f, double v) {
  if (isnan(v))
    fputs("-", f);
  else
    fprintf(f, "%.4g", v);
}

/* A chart as its values: one line per period, one column per series. */
static void text_chart(FILE *f, const cairn_report_chart_t *c) {
  fprintf(f, "\n%s%s%s%s\n", c->title, c->unit[0] ? " (" : "", c->unit, c->unit[0] ? ")" : "");
  if (c->has_baseline)
    fprintf(f, "  baseline %.4g\n", c->baseline);
  if (c->has_target)
    fprintf(f, "  %s\n", c->target_label[0] ? c->target_label : "target");
  for (size_t s = 0; s < c->nseries; s++) {
    fprintf(f, "  %s:", c->series[s].name);
    for (size_t i = 0; i < c->nx; i++)
      if (!isnan(c->series[s].y[i])) {
        fprintf(f, " %s ", c->x[i]);
        text_number(f, c->series[s].y[i]);
      }
    fputc('\n', f);
  }
  if (c->caption[0])
    fprintf(f, "  %s\n", c->caption);
}

static void render_text(const cairn_report_doc_t *doc, FILE *f) {
  fprintf(f, "%s\n%s\n", doc->title, doc->subtitle);
  for (size_t i = 0; i < doc->nsections; i++) {
    const cairn_report_section_t *s = doc->sections[i];
    fprintf(f, "\n== %s ==\n", s->title);
    if (s->intro[0])
      fprintf(f, "%s\n", s->intro);
    for (size_t k = 0; k < s->nfacts; k++)
      fprintf(f, "  %s: %s\n", s->facts[k].label, s->facts[k].text);
    for (size_t k = 0; k < s->ntables; k++)
      text_table(f, s->tables[k]);
    for (size_t k = 0; k < s->ncharts; k++)
      text_chart(f, s->charts[k]);
  }
}

/* ---- JSON ---- */

/* A number in JSON: an integer when it is whole (counts read as counts). */
static json_t *num_json(double v) {
  if (isnan(v))
    return json_null();
  if (v == floor(v) && fabs(v) < 9007199254740992.0)
    return json_integer((json_int_t)v);
  return json_real(v);
}

static json_t *num_or_null(double v) {
  return num_json(v);
}

static json_t *cell_json(const cairn_report_cell_t *c) {
  if (c->is_number)
    return c->text[0] ? num_json(c->num) : json_null();
  return json_string(c->text);
}

static int set(json_t *o, const char *k, json_t *v) {
  return v == NULL || json_object_set_new(o, k, v) != 0;
}

static json_t *table_json(const cairn_report_table_t *t) {
  json_t *o = json_object(), *cols = json_array(), *rows = json_array();
  int bad = o == NULL || cols == NULL || rows == NULL;
  for (size_t c = 0; !bad && c < t->ncols; c++) {
    json_t *col = json_object();
    bad = col == NULL || set(col, "id", json_string(t->col_ids[c])) ||
          set(col, "label", json_string(t->col_labels[c])) || json_array_append_new(cols, col);
  }
  for (size_t r = 0; !bad && r < t->nrows; r++) {
    const cairn_report_row_t *row = &t->rows[r];
    json_t *x = json_object();
    bad = x == NULL || json_array_append_new(rows, x);
    if (!bad && row->type != NULL)
      bad = set(x, "_type", json_string(row->type)) || set(x, "_id", json_string(row->id));
    for (size_t c = 0; !bad && c < t->ncols; c++)
      bad = set(x, t->col_ids[c], cell_json(&row->cells[c]));
  }
  if (bad || set(o, "id", json_string(t->id)) || set(o, "title", json_string(t->title)) ||
      set(o, "columns", json_incref(cols)) || set(o, "rows", json_incref(rows)))
    bad = 1;
  json_decref(cols);
  json_decref(rows);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *chart_json(const cairn_report_chart_t *c) {
  json_t *o = json_object(), *x = json_array(), *series = json_array();
  int bad = o == NULL || x == NULL || series == NULL;
  for (size_t i = 0; !bad && i < c->nx; i++)
    bad = json_array_append_new(x, json_string(c->x[i])) != 0;
  for (size_t s = 0; !bad && s < c->nseries; s++) {
    json_t *one = json_object(), *y = json_array();
    bad = one == NULL || y == NULL;
    for (size_t i = 0; !bad && i < c->nx; i++)
      bad = json_array_append_new(y, num_or_null(c->series[s].y[i])) != 0;
    bad = bad || set(one, "name", json_string(c->series[s].name)) || set(one, "y", y) ||
          json_array_append_new(series, one);
    if (bad)
      json_decref(one);
  }
  bad = bad || set(o, "id", json_string(c->id)) || set(o, "title", json_string(c->title)) ||
        set(o, "unit", json_string(c->unit)) || set(o, "x", json_incref(x)) ||
        set(o, "series", json_incref(series)) ||
        set(o, "target", c->has_target ? num_json(c->target) : json_null()) ||
        set(o, "baseline", c->has_baseline ? num_json(c->baseline) : json_null()) ||
        set(o, "caption", json_string(c->caption));
  json_decref(x);
  json_decref(series);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static json_t *section_json(const cairn_report_section_t *s) {
  json_t *o = json_object(), *facts = json_object(), *tables = json_array(),
         *charts = json_array();
  int bad = o == NULL || facts == NULL || tables == NULL || charts == NULL;
  for (size_t i = 0; !bad && i < s->nfacts; i++) {
    const cairn_report_fact_t *f = &s->facts[i];
    bad = set(facts, f->id, f->is_number ? num_or_null(f->num) : json_string(f->text));
  }
  for (size_t i = 0; !bad && i < s->ntables; i++)
    bad = json_array_append_new(tables, table_json(s->tables[i])) != 0;
  for (size_t i = 0; !bad && i < s->ncharts; i++)
    bad = json_array_append_new(charts, chart_json(s->charts[i])) != 0;
  bad = bad || set(o, "id", json_string(s->id)) || set(o, "title", json_string(s->title)) ||
        set(o, "intro", json_string(s->intro)) || set(o, "facts", json_incref(facts)) ||
        set(o, "tables", json_incref(tables)) || set(o, "charts", json_incref(charts));
  json_decref(facts);
  json_decref(tables);
  json_decref(charts);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

json_t *cairn__report_json(const cairn_report_doc_t *doc) {
  json_t *o = json_object(), *sections = json_array();
  int bad = o == NULL || sections == NULL;
  for (size_t i = 0; !bad && i < doc->nsections; i++)
    bad = json_array_append_new(sections, section_json(doc->sections[i])) != 0;
  bad = bad || set(o, "report", json_string(doc->name)) ||
        set(o, "title", json_string(doc->title)) ||
        set(o, "subtitle", json_string(doc->subtitle)) ||
        set(o, "as_of", json_string(doc->as_of)) || set(o, "sections", json_incref(sections));
  json_decref(sections);
  if (bad) {
    json_decref(o);
    return NULL;
  }
  return o;
}

static int render_json(const cairn_report_doc_t *doc, FILE *f) {
  json_t *j = cairn__report_json(doc);
  if (j == NULL)
    return CAIRN_ENOMEM;
  int rc = json_dumpf(j, f, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) != 0 || fputc('\n', f) == EOF;
  json_decref(j);
  return rc ? CAIRN_EIO : 0;
}

/* ---- CSV ---- */

static void csv_field(FILE *f, const char *s) {
  if (strpbrk(s, ",\"\r\n") == NULL) {
    fputs(s, f);
    return;
  }
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', f);
    fputc(*s, f);
  }
  fputc('"', f);
}

static void csv_table(FILE *f, const cairn_report_table_t *t) {
  csv_field(f, t->title[0] ? t->title : t->id);
  fputs("\r\n_type,_id", f);
  for (size_t c = 0; c < t->ncols; c++) {
    fputc(',', f);
    csv_field(f, t->col_ids[c]);
  }
  fputs("\r\n", f);
  for (size_t r = 0; r < t->nrows; r++) {
    const cairn_report_row_t *row = &t->rows[r];
    csv_field(f, row->type ? row->type : "");
    fputc(',', f);
    csv_field(f, row->id ? row->id : "");
    for (size_t c = 0; c < t->ncols; c++) {
      char num[64];
      const cairn_report_cell_t *cell = &row->cells[c];
      fputc(',', f);
      if (cell->is_number && cell->text[0]) {
        snprintf(num, sizeof num, "%.10g", cell->num);
        csv_field(f, num);
      } else {
        csv_field(f, cell->text);
      }
    }
    fputs("\r\n", f);
  }
  fputs("\r\n", f);
}

static void render_csv(const cairn_report_doc_t *doc, FILE *f) {
  for (size_t i = 0; i < doc->nsections; i++)
    for (size_t k = 0; k < doc->sections[i]->ntables; k++)
      csv_table(f, doc->sections[i]->tables[k]);
}

int cairn_report_render(const cairn_report_doc_t *doc, cairn_report_format_t format, FILE *f) {
  int rc = 0;
  switch (format) {
  case CAIRN_REPORT_TEXT:
    render_text(doc, f);
    break;
  case CAIRN_REPORT_JSON:
    rc = render_json(doc, f);
    break;
  case CAIRN_REPORT_CSV:
    render_csv(doc, f);
    break;
  case CAIRN_REPORT_HTML:
    rc = cairn__report_html(doc, f);
    break;
  default:
    return CAIRN_EINVAL;
  }
  if (rc == 0 && (fflush(f) != 0 || ferror(f)))
    rc = CAIRN_EIO;
  return rc;
}
