/*
 * doc.c — building the document every report becomes (report.h, "The document
 * every report becomes").
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "out.h"
#include "report_internal.h"

static char *dup(const char *s) {
  return strdup(s != NULL ? s : "");
}

/* Append one pointer to a growing array of pointers. 0 or CAIRN_ENOMEM. */
static int push(void ***v, size_t *n, void *p) {
  void **nv = p != NULL ? realloc(*v, (*n + 1) * sizeof *nv) : NULL;
  if (nv == NULL)
    return CAIRN_ENOMEM;
  nv[(*n)++] = p;
  *v = nv;
  return 0;
}

cairn_report_doc_t *cairn_report_doc_new(const char *name, const char *title,
                                         const cairn_report_data_t *d) {
  cairn_report_doc_t *doc = calloc(1, sizeof *doc);
  char sub[600];
  const char *net = d != NULL ? cairn_report_data_title(d) : "";
  const char *date = d != NULL ? cairn_report_data_date(d) : "";
  if (doc == NULL)
    return NULL;
  snprintf(sub, sizeof sub, "%s%sas of %s", net, net[0] ? " — " : "", date);
  doc->name = dup(name);
  doc->title = dup(title);
  doc->subtitle = dup(sub);
  doc->as_of = dup(date);
  if (doc->name == NULL || doc->title == NULL || doc->subtitle == NULL || doc->as_of == NULL) {
    cairn_report_doc_free(doc);
    return NULL;
  }
  return doc;
}

/* ---- a table's rows ---- */

/* A table's rows' cells and texts live in blocks the table owns, freed with
 * it (a meeting's tables hold tens of thousands of cells). A text replaced
 * stays in its block until then. */
#define TABLE_BLOCK ((size_t)4 << 10)

/* n bytes from t's blocks, aligned for any type; NULL when out of memory. */
static void *table_alloc(cairn_report_table_t *t, size_t n) {
  return cairn__arena_alloc(&t->blocks_, n, sizeof(max_align_t), TABLE_BLOCK);
}

/* A copy of s in t's blocks (texts packed, unaligned). */
static char *table_text(cairn_report_table_t *t, const char *s) {
  size_t n = strlen(s) + 1;
  char *p = cairn__arena_alloc(&t->blocks_, n, 1, TABLE_BLOCK);
  return p != NULL ? memcpy(p, s, n) : NULL;
}

static void table_free(cairn_report_table_t *t) {
  if (t == NULL)
    return;
  cairn__arena_free(t->blocks_);
  for (size_t c = 0; c < t->ncols; c++) {
    free(t->col_ids[c]);
    free(t->col_labels[c]);
  }
  free(t->col_ids);
  free(t->col_labels);
  free(t->col_numeric);
  free(t->rows);
  free(t->id);
  free(t->title);
  free(t->empty);
  free(t);
}

static void chart_free(cairn_report_chart_t *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->nx; i++)
    free(c->x[i]);
  for (size_t i = 0; i < c->nseries; i++) {
    free(c->series[i].name);
    free(c->series[i].y);
  }
  free(c->x);
  free(c->series);
  free(c->id);
  free(c->title);
  free(c->unit);
  free(c->target_label);
  free(c->caption);
  free(c);
}

static void section_free(cairn_report_section_t *s) {
  if (s == NULL)
    return;
  for (size_t i = 0; i < s->nfacts; i++) {
    free(s->facts[i].id);
    free(s->facts[i].label);
    free(s->facts[i].text);
  }
  for (size_t i = 0; i < s->ntables; i++)
    table_free(s->tables[i]);
  for (size_t i = 0; i < s->ncharts; i++)
    chart_free(s->charts[i]);
  free(s->facts);
  free(s->tables);
  free(s->charts);
  free(s->id);
  free(s->title);
  free(s->intro);
  free(s);
}

void cairn_report_doc_free(cairn_report_doc_t *doc) {
  if (doc == NULL)
    return;
  for (size_t i = 0; i < doc->nsections; i++)
    section_free(doc->sections[i]);
  free(doc->sections);
  free(doc->name);
  free(doc->title);
  free(doc->subtitle);
  free(doc->as_of);
  free(doc);
}

cairn_report_section_t *cairn_report_section_add(cairn_report_doc_t *doc, const char *id,
                                                 const char *title, const char *intro) {
  cairn_report_section_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return NULL;
  s->id = dup(id);
  s->title = dup(title);
  s->intro = dup(intro);
  if (s->id == NULL || s->title == NULL || s->intro == NULL ||
      push((void ***)&doc->sections, &doc->nsections, s) != 0) {
    section_free(s);
    return NULL;
  }
  return s;
}

int cairn_report_fact_add(cairn_report_section_t *sec, const char *id, const char *label,
                          const char *text, int is_number, double num,
                          cairn_report_tone_t tone) {
  cairn_report_fact_t *v = realloc(sec->facts, (sec->nfacts + 1) * sizeof *v);
  if (v == NULL)
    return CAIRN_ENOMEM;
  sec->facts = v;
  cairn_report_fact_t *f = &v[sec->nfacts];
  f->id = dup(id);
  f->label = dup(label);
  f->text = dup(text);
  f->is_number = is_number;
  f->num = num;
  f->tone = tone;
  if (f->id == NULL || f->label == NULL || f->text == NULL) {
    free(f->id);
    free(f->label);
    free(f->text);
    return CAIRN_ENOMEM;
  }
  sec->nfacts++;
  return 0;
}

cairn_report_table_t *cairn_report_table_add(cairn_report_section_t *sec, const char *id,
                                             const char *title, const char *const *ids,
                                             const char *const *labels, const int *numeric,
                                             size_t ncols, const char *empty) {
  cairn_report_table_t *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NULL;
  t->id = dup(id);
  t->title = dup(title);
  t->empty = dup(empty);
  t->col_ids = calloc(ncols + 1, sizeof *t->col_ids);
  t->col_labels = calloc(ncols + 1, sizeof *t->col_labels);
  t->col_numeric = calloc(ncols + 1, sizeof *t->col_numeric);
  int bad = t->id == NULL || t->title == NULL || t->empty == NULL || t->col_ids == NULL ||
            t->col_labels == NULL || t->col_numeric == NULL;
  for (size_t c = 0; !bad && c < ncols; c++) {
    t->col_ids[c] = dup(ids[c]);
    t->col_labels[c] = dup(labels[c]);
    t->col_numeric[c] = numeric != NULL && numeric[c];
    t->ncols = c + 1;
    bad = t->col_ids[c] == NULL || t->col_labels[c] == NULL;
  }
  if (bad || push((void ***)&sec->tables, &sec->ntables, t) != 0) {
    table_free(t);
    return NULL;
  }
  return t;
}

cairn_report_row_t *cairn_report_row_add(cairn_report_table_t *t, const char *type,
                                         const char *id) {
  static char none[] = ""; /* every cell's text until it is set */
  if (cairn__report_grow((void **)&t->rows, &t->cap, t->nrows + 1, sizeof *t->rows) != 0)
    return NULL;
  cairn_report_row_t *row = &t->rows[t->nrows];
  memset(row, 0, sizeof *row);
  row->table_ = t;
  row->cells = table_alloc(t, (t->ncols + 1) * sizeof *row->cells);
  if (row->cells == NULL || (type != NULL && (row->type = table_text(t, type)) == NULL) ||
      (id != NULL && (row->id = table_text(t, id)) == NULL))
    return NULL;
  memset(row->cells, 0, (t->ncols + 1) * sizeof *row->cells);
  for (size_t c = 0; c < t->ncols; c++)
    row->cells[c].text = none;
  t->nrows++;
  return row;
}

int cairn_report_cell_text(cairn_report_row_t *row, size_t col, const char *text,
                           cairn_report_tone_t tone) {
  char *s = table_text(row->table_, text != NULL ? text : "");
  if (s == NULL)
    return CAIRN_ENOMEM;
  row->cells[col].text = s;
  row->cells[col].is_number = 0;
  row->cells[col].tone = tone;
  return 0;
}

int cairn_report_cell_number(cairn_report_row_t *row, size_t col, double v, int decimals,
                             const char *unit, cairn_report_tone_t tone) {
  char buf[96];
  buf[0] = 0;
  if (!isnan(v)) { /* "%.*f%s%s" of v, " " (but before "%"), unit */
    size_t len = (size_t)cairn__fixed(buf, sizeof buf, v, decimals);
    if (unit != NULL && unit[0] != 0)
      cairn__cat(buf, sizeof buf, cairn__cat(buf, sizeof buf, len, unit[0] == '%' ? "" : " "),
                 unit);
  }
  int rc = cairn_report_cell_text(row, col, buf, tone);
  if (rc == 0) {
    row->cells[col].is_number = 1;
    row->cells[col].num = v;
  }
  return rc;
}

cairn_report_chart_t *cairn_report_chart_add(cairn_report_section_t *sec, const char *id,
                                             const char *title, const char *unit,
                                             const char *const *x, size_t nx) {
  cairn_report_chart_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return NULL;
  c->id = dup(id);
  c->title = dup(title);
  c->unit = dup(unit);
  c->target_label = dup("");
  c->caption = dup("");
  c->x = calloc(nx + 1, sizeof *c->x);
  int bad = c->id == NULL || c->title == NULL || c->unit == NULL || c->x == NULL ||
            c->target_label == NULL || c->caption == NULL;
  for (size_t i = 0; !bad && i < nx; i++) {
    bad = (c->x[i] = dup(x[i])) == NULL;
    c->nx = i + 1;
  }
  if (bad || push((void ***)&sec->charts, &sec->ncharts, c) != 0) {
    chart_free(c);
    return NULL;
  }
  return c;
}

int cairn_report_series_add(cairn_report_chart_t *c, const char *name, const double *y) {
  cairn_report_series_t *v = realloc(c->series, (c->nseries + 1) * sizeof *v);
  if (v == NULL)
    return CAIRN_ENOMEM;
  c->series = v;
  cairn_report_series_t *s = &v[c->nseries];
  s->name = dup(name);
  s->y = malloc((c->nx + 1) * sizeof *s->y);
  if (s->name == NULL || s->y == NULL) {
    free(s->name);
    free(s->y);
    return CAIRN_ENOMEM;
  }
  memcpy(s->y, y, c->nx * sizeof *s->y);
  c->nseries++;
  return 0;
}
