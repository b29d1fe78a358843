/*
 * import.c — rows of a CSV or JSON file into records of one type, all or none
 * (cairn.h, "Import and export"; docs/design.md, "Import and export").
 *
 * An import runs in three steps, and writes only in the last:
 *   1. read: the file becomes a table, one row per record with the line (CSV)
 *      or element index (JSON) it came from, each cell typed by its field's
 *      kind (cairn_schema_parse_text for text, the JSON value for JSON);
 *      a header that names no field, a cell the kind refuses, a duplicate id
 *      are errors of their row and column;
 *   2. check: every reference names a record of the store or a row of the file,
 *      every required field has a value, rows naming existing records are
 *      compared with them (a value already held is not written again);
 *   3. write: one change holding every row, committed by
 *      cairn_change_commit_split as as few entries as the size limit allows,
 *      in one transaction (a dry run aborts it), which checks every put once
 *      more before anything is signed.
 * Every error goes to the caller's callback with its place, up to a cap, and
 * the import then stops before step 3: nothing is written.
 */
#include "cairn.h"
#include "mpread.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define IMPORT_FILE_MAX ((size_t)256 << 20) /* largest file cairn_import_file reads */
#define NO_INDEX SIZE_MAX
#define SUGGEST_MAX 20000 /* ids looked at for a reference's "did you mean" */

/* ---- a set of strings, each with a number ---- */

typedef struct strmap {
  char **keys;
  size_t *vals;
  size_t mask, n;
} strmap_t;

static size_t str_hash(const char *s, size_t n) {
  uint64_t h = 1469598103934665603u; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)s[i]) * 1099511628211u;
  return (size_t)(h ^ h >> 29);
}

/* The slot of key (n bytes): empty, or holding key. */
static size_t strmap_slot(const strmap_t *m, const char *key, size_t n) {
  size_t k = str_hash(key, n) & m->mask;
  while (m->keys[k] != NULL && (strncmp(m->keys[k], key, n) != 0 || m->keys[k][n] != 0))
    k = (k + 1) & m->mask;
  return k;
}

/* The number of key (n bytes), or NO_INDEX. */
static size_t strmap_get(const strmap_t *m, const char *key, size_t n) {
  if (m->keys == NULL)
    return NO_INDEX;
  size_t k = strmap_slot(m, key, n);
  return m->keys[k] != NULL ? m->vals[k] : NO_INDEX;
}

static int strmap_grow(strmap_t *m) {
  size_t size = m->keys ? 2 * (m->mask + 1) : 64;
  strmap_t g = {calloc(size, sizeof(char *)), calloc(size, sizeof(size_t)), size - 1, m->n};
  if (g.keys == NULL || g.vals == NULL) {
    free(g.keys);
    free(g.vals);
    return CAIRN_ENOMEM;
  }
  for (size_t i = 0; m->keys != NULL && i <= m->mask; i++) {
    if (m->keys[i] == NULL)
      continue;
    size_t k = strmap_slot(&g, m->keys[i], strlen(m->keys[i]));
    g.keys[k] = m->keys[i];
    g.vals[k] = m->vals[i];
  }
  free(m->keys);
  free(m->vals);
  *m = g;
  return 0;
}

/* Add key with val; *old gets the number it had (NO_INDEX when new: then
 * added). */
static int strmap_put(strmap_t *m, const char *key, size_t val, size_t *old) {
  int rc;
  *old = strmap_get(m, key, strlen(key));
  if (*old != NO_INDEX)
    return 0;
  if ((m->keys == NULL || 2 * (m->n + 1) > m->mask + 1) && (rc = strmap_grow(m)) != 0)
    return rc;
  size_t k = strmap_slot(m, key, strlen(key));
  if ((m->keys[k] = strdup(key)) == NULL)
    return CAIRN_ENOMEM;
  m->vals[k] = val;
  m->n++;
  return 0;
}

static void strmap_free(strmap_t *m) {
  for (size_t i = 0; m->keys != NULL && i <= m->mask; i++)
    free(m->keys[i]);
  free(m->keys);
  free(m->vals);
  memset(m, 0, sizeof *m);
}

/* ---- the records of one type held in the store ---- */

/* Their ids (the number is the index in names) and names or titles. */
typedef struct known {
  char *type;
  strmap_t ids;
  char **names; /* NULL where the record has none */
  size_t n, cap;
  int rc;       /* out of memory while listing */
} known_t;

static int known_add(const cairn_record_t *r, void *ud) {
  known_t *k = ud;
  cairn_record_field_t f;
  char id[CAIRN_ID_MAX + 1];
  size_t old;
  if (k->n == k->cap) {
    size_t cap = k->cap ? 2 * k->cap : 64;
    char **names = realloc(k->names, cap * sizeof *names);
    if (names == NULL)
      return k->rc = CAIRN_ENOMEM, 1;
    k->names = names;
    k->cap = cap;
  }
  k->names[k->n] = NULL;
  if (cairn_record_field(r, "name", &f) || cairn_record_field(r, "title", &f)) {
    cairn_mpr_t m;
    const char *s;
    uint32_t n;
    cairn_mpr_init(&m, f.value, f.value_len);
    if (cairn_mpr_str(&m, &s, &n) == 0 && n > 0 && (k->names[k->n] = strndup(s, n)) == NULL)
      return k->rc = CAIRN_ENOMEM, 1;
  }
  snprintf(id, sizeof id, "%.*s", (int)r->id_len, r->id);
  if ((k->rc = strmap_put(&k->ids, id, k->n, &old)) != 0) {
    free(k->names[k->n]);
    return 1;
  }
  k->n++;
  return 0;
}

static void known_free(known_t *k) {
  for (size_t i = 0; i < k->n; i++)
    free(k->names[i]);
  free(k->names);
  free(k->type);
  strmap_free(&k->ids);
}

/* ---- the import ---- */

/* One row of the file. */
typedef struct irow {
  size_t line;      /* CSV: the line it starts on; JSON: its index */
  char *id;
  bool generated;   /* the id was made here (no id column, or an empty cell) */
  bool exists;      /* the store holds a visible record with this id */
  uint8_t **vals;   /* per column: one MessagePack value, or NULL (no value) */
  size_t *lens;
  bool *bad;        /* per column: the cell had an error (reported) */
} irow_t;

/* An error kept until the passes are merged. */
typedef struct ierr {
  size_t line;
  size_t order; /* within the line: the row first, then its columns in order */
  size_t seq;   /* then as found */
  bool by_line;
  char *column, *why;
} ierr_t;

typedef struct errlist {
  ierr_t *v;
  size_t n, cap;
} errlist_t;

typedef struct importer {
  cairn_store_t *s;
  const char *type;
  cairn_format_t fmt;
  cairn_schema_t *sc;
  const cairn_schema_type_t *t; /* NULL: a free-form network, nothing is checked */
  const char *id_column;        /* asked for, or NULL */
  cairn_import_error_cb on_error;
  void *ud;
  size_t max_errors;
  cairn_import_result_t *res;
  /* the columns */
  char **cols;
  size_t ncols;
  const cairn_schema_field_t **fields; /* per column; NULL on a free-form network */
  bool *use;                           /* per column: a field to write */
  size_t id_col;                       /* NO_INDEX: ids are generated */
  /* the rows */
  irow_t *rows;
  size_t nrows, cap;
  strmap_t ids;   /* id -> row */
  known_t **known; /* the store's records of each type referred to, and of type */
  size_t nknown;
  uint64_t id_ms;   /* generated ids: the clock, and a counter from a random start */
  uint32_t id_next;
  int rc;           /* a failure that ends the import (out of memory) */
  errlist_t found[2]; /* the errors of reading, and of checking against the store */
  int pass;
} importer_t;

/* *out = the formatted text (malloc'd). 0 or CAIRN_ENOMEM. */
static int vasprintf_ok(char **out, const char *fmt, va_list ap) {
  char buf[CAIRN_ERRMSG_MAX];
  vsnprintf(buf, sizeof buf, fmt, ap);
  return (*out = strdup(buf)) != NULL ? 0 : CAIRN_ENOMEM;
}

/* Report an error at (line, column); column may be NULL. by_line: the place is
 * a line of the file (CSV, or JSON that does not parse), else an element of
 * the JSON array. Each pass over the rows finds errors in file order and keeps
 * the first max_errors of them; past that they are only counted. */
static void vreport(importer_t *im, bool by_line, size_t line, const char *column,
                    const char *fmt, va_list ap) {
  errlist_t *l = &im->found[im->pass];
  ierr_t *e;
  im->res->errors++;
  if (l->n >= im->max_errors || im->on_error == NULL)
    return;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    ierr_t *v = realloc(l->v, cap * sizeof *v);
    if (v == NULL) {
      im->rc = CAIRN_ENOMEM;
      return;
    }
    l->v = v;
    l->cap = cap;
  }
  e = &l->v[l->n];
  e->line = line;
  e->order = 0;
  for (size_t i = 0; column != NULL && i <= im->ncols; i++)
    if (i == im->ncols || strcmp(im->cols[i], column) == 0)
      e->order = i + 1, i = im->ncols;
  e->seq = im->found[0].n + im->found[1].n;
  e->by_line = by_line;
  e->column = column ? strdup(column) : NULL;
  if (vasprintf_ok(&e->why, fmt, ap) != 0 || (column != NULL && e->column == NULL)) {
    free(e->column);
    im->rc = CAIRN_ENOMEM;
    return;
  }
  l->n++;
}

static void errors_free(importer_t *im);

static int ierr_cmp(const void *x, const void *y) {
  const ierr_t *a = x, *b = y;
  if (a->line != b->line)
    return a->line < b->line ? -1 : 1;
  if (a->order != b->order)
    return a->order < b->order ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* Give the errors kept to the callback in file order (line, then column): each
 * pass kept the first of its own, so the first of both are among them. */
static void emit_errors(importer_t *im) {
  errlist_t *a = &im->found[0], *b = &im->found[1];
  char text[CAIRN_ERRMSG_MAX + 160], place[150];
  ierr_t *all = malloc((a->n + b->n + 1) * sizeof *all);
  if (all == NULL) {
    im->rc = CAIRN_ENOMEM;
    errors_free(im);
    return;
  }
  if (a->n > 0)
    memcpy(all, a->v, a->n * sizeof *all);
  if (b->n > 0)
    memcpy(all + a->n, b->v, b->n * sizeof *all);
  cairn_sort(all, a->n + b->n, sizeof *all, ierr_cmp);
  for (size_t k = 0; k < a->n + b->n && k < im->max_errors; k++) {
    const ierr_t *e = &all[k];
    if (e->column == NULL)
      snprintf(place, sizeof place, e->by_line ? "line %zu" : "element [%zu]", e->line);
    else
      snprintf(place, sizeof place,
               e->by_line ? "line %zu, column %.100s" : "element [%zu], key %.100s", e->line,
               e->column);
    snprintf(text, sizeof text, "%s: %s", place, e->why);
    cairn_import_error_t ce = {e->line, e->column, e->why, text};
    im->on_error(&ce, im->ud);
  }
  free(all);
  errors_free(im);
}

static void errors_free(importer_t *im) {
  for (int p = 0; p < 2; p++) {
    for (size_t k = 0; k < im->found[p].n; k++) {
      free(im->found[p].v[k].column);
      free(im->found[p].v[k].why);
    }
    free(im->found[p].v);
    memset(&im->found[p], 0, sizeof im->found[p]);
  }
}

static void report(importer_t *im, size_t line, const char *column, const char *fmt, ...)
    CAIRN_PRINTF(4, 5);
static void report(importer_t *im, size_t line, const char *column, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(im, im->fmt != CAIRN_FORMAT_JSON, line, column, fmt, ap);
  va_end(ap);
}

/* An error at a line of the file, whatever its format. */
static void report_line(importer_t *im, size_t line, const char *fmt, ...) CAIRN_PRINTF(3, 4);
static void report_line(importer_t *im, size_t line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vreport(im, true, line, NULL, fmt, ap);
  va_end(ap);
}

/* "line N" or "element [N]": where row r is, for messages. */
static void place_of(const importer_t *im, size_t line, char *out, size_t cap) {
  snprintf(out, cap, im->fmt == CAIRN_FORMAT_JSON ? "element [%zu]" : "line %zu", line);
}

/* Whether past the cap: what follows is only counted (no suggestions looked for). */
static bool quiet(const importer_t *im) {
  return im->found[im->pass].n >= im->max_errors;
}

static bool utf8_ok(const char *s, size_t n) {
  const uint8_t *p = (const uint8_t *)s, *end = p + n;
  while (p < end) {
    size_t k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                                                      : (*p & 0xf8) == 0xf0 ? 4 : 0;
    uint32_t cp = k == 1 ? *p : k == 2 ? *p & 0x1fu : k == 3 ? *p & 0x0fu : *p & 0x07u;
    if (k == 0 || (size_t)(end - p) < k)
      return false;
    for (size_t i = 1; i < k; i++) {
      if ((p[i] & 0xc0) != 0x80)
        return false;
      cp = cp << 6 | (p[i] & 0x3fu);
    }
    /* shortest form only; no surrogates; at most U+10FFFF */
    if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return false;
    p += k;
  }
  return true;
}

/* ---- columns ---- */

/* The field a header names: its name, else its label (any case). */
static const cairn_schema_field_t *field_named(const cairn_schema_type_t *t, const char *name) {
  for (size_t i = 0; i < t->nfields; i++)
    if (!t->fields[i].hidden && strcmp(t->fields[i].name, name) == 0)
      return &t->fields[i];
  for (size_t i = 0; i < t->nfields; i++)
    if (!t->fields[i].hidden && t->fields[i].label[0] && strcasecmp(t->fields[i].label, name) == 0)
      return &t->fields[i];
  return NULL;
}

/* The column named name, or NO_INDEX. */
static size_t column_named(const importer_t *im, const char *name) {
  for (size_t i = 0; i < im->ncols; i++)
    if (strcmp(im->cols[i], name) == 0)
      return i;
  return NO_INDEX;
}

/* Where the ids are: the column asked for, else `_id` when there is one, else
 * `id` when the type has no field of that name. */
static void find_id_column(importer_t *im, size_t line) {
  const char *want = im->id_column ? im->id_column : "_id";
  im->id_col = column_named(im, want);
  if (im->id_col == NO_INDEX && im->id_column == NULL &&
      (im->t == NULL || field_named(im->t, "id") == NULL))
    im->id_col = column_named(im, "id");
  if (im->id_col != NO_INDEX || im->id_column == NULL)
    return;
  const char *near = cairn_suggest(want, (const char *const *)im->cols, im->ncols);
  report(im, line, NULL, "no column %s for the ids (--id-column)%s%s%s", want,
         near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
}

/* One column of the header: the field it names, or an error (at line: CSV, the
 * header's; JSON, the first element with that key). */
static void add_column(importer_t *im, size_t line, size_t i) {
  const char *name = im->cols[i];
  cairn_error_t err = {0, ""};
  const cairn_schema_type_t *t;
  const cairn_schema_field_t *f = NULL;
  for (size_t j = 0; j < i; j++)
    if (strcmp(im->cols[j], name) == 0) {
      report(im, line, name, "the column is named twice");
      return;
    }
  if (name[0] == '\0') {
    report(im, line, NULL, "column %zu has no name in the header", i + 1);
    return;
  }
  if (im->fmt == CAIRN_FORMAT_JSON && (strcmp(name, "_type") == 0 ||
                                       strcmp(name, "_conflicts") == 0))
    return; /* checked by the JSON reader; shown by `get --json` */
  if (im->t != NULL && (f = field_named(im->t, name)) != NULL) {
    for (size_t j = 0; j < i; j++)
      if (im->fields[j] == f) {
        report(im, line, name, "this is field %s, which column %zu (%s) gives already", f->name,
               j + 1, im->cols[j]);
        return;
      }
    im->fields[i] = f;
    im->use[i] = true;
    return;
  }
  if (i == im->id_col)
    return;
  if (name[0] == '_' || strlen(name) > CAIRN_FIELD_MAX || !utf8_ok(name, strlen(name))) {
    report(im, line, name, "no field of %s is named so (field names do not start with _, and "
                           "have 1 to %d bytes of UTF-8)", im->type, CAIRN_FIELD_MAX);
    return;
  }
  if (im->t == NULL) { /* free-form: any field */
    im->use[i] = true;
    return;
  }
  /* the schema's words for a name it does not take: renamed, removed, unknown
   * (with "did you mean"); a name it takes was found above */
  if (cairn_schema_field_for(im->sc, im->type, name, &t, &f, &err) != 0)
    report(im, line, name, "%s", err.msg);
}

/* The header: the column names (copied); lines[i] is where column i is first
 * seen (NULL: all on line). */
static int set_columns(importer_t *im, size_t line, const size_t *lines, char *const *names,
                       size_t n) {
  im->cols = calloc(n + 1, sizeof *im->cols);
  im->fields = calloc(n + 1, sizeof *im->fields);
  im->use = calloc(n + 1, sizeof *im->use);
  if (im->cols == NULL || im->fields == NULL || im->use == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++, im->ncols++)
    if ((im->cols[i] = strdup(names[i])) == NULL)
      return CAIRN_ENOMEM;
  find_id_column(im, line);
  for (size_t i = 0; i < n; i++)
    add_column(im, lines ? lines[i] : line, i);
  return 0;
}

/* ---- rows ---- */

/* A new id as `cairn add` makes them: 12 hex digits of the clock in ms, then 8
 * more; within one import the 8 count up from a random start, so that ids are
 * distinct and sort in the file's order. */
static void new_id(importer_t *im, char out[21]) {
  snprintf(out, 21, "%012llx%08lx", (unsigned long long)(im->id_ms & 0xffffffffffffULL),
           (unsigned long)im->id_next++);
  if (im->id_next == 0) /* wrapped: a later millisecond */
    im->id_ms++;
}

static int row_add(importer_t *im, size_t line, irow_t **out) {
  irow_t *r;
  if (im->nrows == im->cap) {
    size_t cap = im->cap ? 2 * im->cap : 256;
    irow_t *rows = realloc(im->rows, cap * sizeof *rows);
    if (rows == NULL)
      return CAIRN_ENOMEM;
    im->rows = rows;
    im->cap = cap;
  }
  r = &im->rows[im->nrows];
  memset(r, 0, sizeof *r);
  r->line = line;
  r->vals = calloc(im->ncols + 1, sizeof *r->vals);
  r->lens = calloc(im->ncols + 1, sizeof *r->lens);
  r->bad = calloc(im->ncols + 1, sizeof *r->bad);
  if (r->vals == NULL || r->lens == NULL || r->bad == NULL) {
    free(r->vals);
    free(r->lens);
    free(r->bad);
    return CAIRN_ENOMEM;
  }
  im->nrows++;
  *out = r;
  return 0;
}

/* The row's id: the cell given (n bytes, may be NULL), or a new one. */
static int row_id(importer_t *im, irow_t *r, const char *cell, size_t n) {
  char gen[21];
  size_t old;
  int rc;
  if (cell == NULL || n == 0) {
    new_id(im, gen);
    r->generated = true;
    cell = gen;
    n = strlen(gen);
  } else if (n > CAIRN_ID_MAX || memchr(cell, '\0', n) != NULL || !utf8_ok(cell, n)) {
    report(im, r->line, im->cols[im->id_col], "an id has 1 to %d bytes of UTF-8", CAIRN_ID_MAX);
    return 0;
  }
  if ((r->id = strndup(cell, n)) == NULL)
    return CAIRN_ENOMEM;
  if ((rc = strmap_put(&im->ids, r->id, (size_t)(r - im->rows), &old)) != 0)
    return rc;
  if (old != NO_INDEX) {
    char at[40];
    place_of(im, im->rows[old].line, at, sizeof at);
    report(im, r->line, im->id_col != NO_INDEX ? im->cols[im->id_col] : NULL,
           "%s %s is also on %s", im->type, r->id, at);
  }
  return 0;
}

/* The id a message names: none for a generated one (people do not know it). */
static const char *shown_id(const irow_t *r) {
  return r->generated || r->id == NULL ? NULL : r->id;
}

/* Keep mp (len bytes, from a packer whose buffer is larger) as the value of
 * column i, in memory of its own size: a file holds many. */
static int keep_value(irow_t *r, size_t i, uint8_t *mp, size_t len) {
  uint8_t *v = realloc(mp, len ? len : 1);
  if (v == NULL) {
    free(mp);
    return CAIRN_ENOMEM;
  }
  r->vals[i] = v;
  r->lens[i] = len;
  return 0;
}

/* n bytes of s (UTF-8, checked) as a MessagePack str, in memory of its own
 * size. */
static int pack_text(const char *s, size_t n, uint8_t **mp, size_t *len) {
  size_t h = n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
  uint8_t *p = malloc(h + n);
  if (p == NULL)
    return CAIRN_ENOMEM;
  if (h == 1) {
    p[0] = (uint8_t)(0xa0 | n);
  } else {
    p[0] = h == 2 ? 0xd9 : h == 3 ? 0xda : 0xdb;
    for (size_t i = 1; i < h; i++)
      p[i] = (uint8_t)(n >> (8 * (h - 1 - i)));
  }
  memcpy(p + h, s, n);
  *mp = p;
  *len = h + n;
  return 0;
}

/* A text cell (CSV) as the value of column i, typed by its field's kind. */
static int text_value(importer_t *im, irow_t *r, size_t i, const char *cell, size_t n) {
  const cairn_schema_field_t *f = im->fields[i];
  cairn_error_t err = {0, ""};
  uint8_t *mp = NULL;
  size_t len = 0;
  int rc = 0;
  if (n == 0)
    return 0; /* an empty cell: no value, nothing written */
  if (memchr(cell, '\0', n) != NULL || !utf8_ok(cell, n)) {
    report(im, r->line, im->cols[i], "not UTF-8 text (save the file as UTF-8)");
    r->bad[i] = true;
    return 0;
  }
  if (f == NULL) {
    rc = pack_text(cell, n, &mp, &len); /* free-form: the text itself */
  } else if (f->kind == CAIRN_KIND_JSON) {
    /* JSON text where it parses, else the text as a string */
    if (cairn_value_from_json_text(cell, &mp, &len, NULL) != 0)
      rc = pack_text(cell, n, &mp, &len);
  } else {
    rc = cairn_schema_parse_text(im->t, f, shown_id(r), cell, &mp, &len, &err);
    if (rc == CAIRN_ESCHEMA) {
      report(im, r->line, im->cols[i], "%s", err.msg);
      r->bad[i] = true;
      return 0;
    }
  }
  if (rc != 0)
    return rc;
  if (len == 1 && mp[0] == 0xc0) { /* nil: no value */
    free(mp);
    return 0;
  }
  return keep_value(r, i, mp, len);
}

/* A JSON value as the value of column i: strings typed by the kind as text is,
 * anything else as itself, then checked; null is no value. */
static int json_value(importer_t *im, irow_t *r, size_t i, const json_t *v) {
  const cairn_schema_field_t *f = im->fields[i];
  cairn_error_t err = {0, ""};
  uint8_t *mp = NULL;
  size_t len = 0;
  int rc;
  if (json_is_null(v))
    return 0;
  if (f != NULL && f->kind != CAIRN_KIND_JSON && json_is_string(v) &&
      strlen(json_string_value(v)) == json_string_length(v))
    rc = cairn_schema_parse_text(im->t, f, shown_id(r), json_string_value(v), &mp, &len, &err);
  else if ((rc = cairn_value_from_json(v, &mp, &len, &err)) == 0 && f != NULL)
    rc = cairn_schema_check_value(im->t, f, shown_id(r), mp, len, &err);
  if (rc == CAIRN_ESCHEMA || rc == CAIRN_EINVAL) {
    free(mp);
    report(im, r->line, im->cols[i], "%s", err.msg);
    r->bad[i] = true;
    return 0;
  }
  if (rc != 0) {
    free(mp);
    return rc;
  }
  if (len == 1 && mp[0] == 0xc0) {
    free(mp);
    return 0;
  }
  return keep_value(r, i, mp, len);
}

static void row_free(irow_t *r, size_t ncols) {
  for (size_t i = 0; i < ncols; i++)
    free(r->vals[i]);
  free(r->vals);
  free(r->lens);
  free(r->bad);
  free(r->id);
}

/* ---- the CSV reader (libcsv) ---- */

typedef struct csv_rd {
  importer_t *im;
  size_t line;     /* the line the row being read starts on */
  size_t nl;       /* line breaks inside its quoted cells */
  bool after_cr;   /* the last row ended at a CR (its LF is no new line) */
  bool header;     /* the header was read */
  char *buf;       /* the row's cells, each followed by a NUL */
  size_t used, cap;
  size_t *off, *len;
  size_t ncells, cells_cap;
  int rc;
} csv_rd_t;

/* Line breaks in a quoted cell: LF, CR LF or a lone CR, each one. */
static size_t breaks(const char *s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    k += s[i] == '\n' || (s[i] == '\r' && (i + 1 == n || s[i + 1] != '\n'));
  return k;
}

static void csv_cell(void *s, size_t n, void *ud) {
  csv_rd_t *c = ud;
  if (c->rc != 0)
    return;
  if (c->ncells == c->cells_cap) {
    size_t cap = c->cells_cap ? 2 * c->cells_cap : 32;
    size_t *off = realloc(c->off, cap * sizeof *off), *len;
    if (off != NULL)
      c->off = off;
    if (off == NULL || (len = realloc(c->len, cap * sizeof *len)) == NULL) {
      c->rc = CAIRN_ENOMEM;
      return;
    }
    c->len = len;
    c->cells_cap = cap;
  }
  if (c->used + n + 1 > c->cap) {
    size_t cap = 2 * (c->used + n + 1);
    char *buf = realloc(c->buf, cap);
    if (buf == NULL) {
      c->rc = CAIRN_ENOMEM;
      return;
    }
    c->buf = buf;
    c->cap = cap;
  }
  if (n > 0)
    memcpy(c->buf + c->used, s, n);
  c->buf[c->used + n] = '\0';
  c->off[c->ncells] = c->used;
  c->len[c->ncells++] = n;
  c->used += n + 1;
  c->nl += breaks(s, n);
}

static bool all_empty(const csv_rd_t *c) {
  for (size_t i = 0; i < c->ncells; i++)
    if (c->len[i] > 0)
      return false;
  return true;
}

static int csv_header(csv_rd_t *c, size_t line) {
  char **names = calloc(c->ncells + 1, sizeof *names);
  int rc;
  if (names == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < c->ncells; i++) {
    names[i] = c->buf + c->off[i];
    if (memchr(names[i], '\0', c->len[i]) != NULL || !utf8_ok(names[i], c->len[i]))
      names[i] = "";
  }
  /* a spreadsheet may end the header with empty cells: dropped */
  size_t n = c->ncells;
  while (n > 0 && names[n - 1][0] == '\0')
    n--;
  rc = set_columns(c->im, line, NULL, names, n);
  free(names);
  c->header = true;
  return rc;
}

static int csv_row(csv_rd_t *c, size_t line) {
  importer_t *im = c->im;
  irow_t *r;
  int rc;
  if (all_empty(c))
    return 0; /* a blank row (",,,"): nothing */
  if (c->ncells > im->ncols) {
    size_t last = c->ncells;
    while (last > im->ncols && c->len[last - 1] == 0)
      last--;
    if (last > im->ncols)
      report(im, line, NULL, "%zu cells, but the header names %zu columns", last, im->ncols);
  }
  if ((rc = row_add(im, line, &r)) != 0)
    return rc;
  bool has_id = im->id_col != NO_INDEX && im->id_col < c->ncells;
  if ((rc = row_id(im, r, has_id ? c->buf + c->off[im->id_col] : NULL,
                   has_id ? c->len[im->id_col] : 0)) != 0)
    return rc;
  for (size_t i = 0; i < im->ncols && i < c->ncells; i++)
    if (im->use[i] && (rc = text_value(im, r, i, c->buf + c->off[i], c->len[i])) != 0)
      return rc;
  return 0;
}

/* The end of a row: c is the character that ended it (-1 at the end). */
static void csv_row_end(int ch, void *ud) {
  csv_rd_t *c = ud;
  size_t line = c->line;
  if (ch == '\n' && c->ncells == 0 && c->after_cr) { /* the LF of a CR LF */
    c->after_cr = false;
    return;
  }
  c->line += c->nl + (ch == '\n' || ch == '\r');
  c->nl = 0;
  c->after_cr = ch == '\r';
  if (c->rc == 0 && c->ncells > 0 && !(!c->header && all_empty(c)))
    c->rc = c->header ? csv_row(c, line) : csv_header(c, line);
  c->ncells = 0;
  c->used = 0;
}

/* The line of byte offset at in data (len bytes). */
static size_t line_at(const char *data, size_t len, size_t at) {
  size_t line = 1;
  for (size_t i = 0; i < at && i < len; i++)
    line += data[i] == '\n' || (data[i] == '\r' && (i + 1 == len || data[i + 1] != '\n'));
  return line;
}

static int read_csv(importer_t *im, const char *data, size_t len, cairn_error_t *err) {
  struct csv_parser p;
  csv_rd_t c;
  size_t skip = 0, done;
  memset(&c, 0, sizeof c);
  c.im = im;
  c.line = 1;
  if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL) != 0)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
    skip = 3; /* a byte order mark, as spreadsheets write it */
  done = csv_parse(&p, data + skip, len - skip, csv_cell, csv_row_end, &c);
  int bad = done < len - skip ? 1 : csv_fini(&p, csv_cell, csv_row_end, &c) != 0 ? 2 : 0;
  if (bad != 0 && csv_error(&p) == CSV_ENOMEM)
    c.rc = CAIRN_ENOMEM;
  csv_free(&p);
  free(c.buf);
  free(c.off);
  free(c.len);
  if (c.rc != 0)
    return cairn__error(err, c.rc, "%s", cairn_strerror(c.rc));
  if (bad == 1) {
    size_t line = line_at(data, len, skip + done);
    report(im, line, NULL, "a quote inside a cell that is not quoted, or text after a closing "
           "quote: quote the whole cell and double its quotes (\"\")");
    return cairn__error(err, CAIRN_EMALFORMED, "the file is not CSV (line %zu)", line);
  }
  if (bad == 2) {
    report(im, c.line, NULL, "a quoted cell is not closed: a \" is missing");
    return cairn__error(err, CAIRN_EMALFORMED, "the file is not CSV (line %zu)", c.line);
  }
  if (!c.header) {
    report(im, 1, NULL, "the file is empty: the first line names the fields (a header row)");
    return cairn__error(err, CAIRN_EMALFORMED, "the file has no header row");
  }
  return 0;
}

/* ---- the JSON reader (jansson) ---- */

/* The columns: every key of every element, in the order first seen. */
static int json_columns(importer_t *im, json_t *a) {
  strmap_t seen = {0};
  char **names = NULL;
  size_t *first = NULL, n = 0, cap = 0, i, old;
  json_t *el;
  int rc = 0;
  json_array_foreach(a, i, el) {
    const char *key;
    json_t *v;
    json_object_foreach(el, key, v) {
      (void)v;
      if ((rc = strmap_put(&seen, key, n, &old)) != 0)
        goto done;
      if (old != NO_INDEX)
        continue;
      if (n == cap) {
        char **nn = realloc(names, (cap ? 2 * cap : 16) * sizeof *nn);
        size_t *nf = nn ? realloc(first, (cap ? 2 * cap : 16) * sizeof *nf) : NULL;
        if (nn != NULL)
          names = nn;
        if (nf == NULL) {
          rc = CAIRN_ENOMEM;
          goto done;
        }
        first = nf;
        cap = cap ? 2 * cap : 16;
      }
      first[n] = i;
      names[n++] = (char *)key;
    }
  }
  rc = set_columns(im, 0, first, names, n);
done:
  free(names);
  free(first);
  strmap_free(&seen);
  return rc;
}

static int json_row(importer_t *im, size_t index, json_t *el) {
  json_t *v, *idv = NULL;
  irow_t *r;
  int rc;
  if (!json_is_object(el)) {
    report(im, index, NULL, "not an object: each element is one record, {\"field\": value...}");
    return 0;
  }
  if ((v = json_object_get(el, "_type")) != NULL &&
      (!json_is_string(v) || strcmp(json_string_value(v), im->type) != 0))
    report(im, index, "_type", "a record of another type (this import is of %s)", im->type);
  if ((rc = row_add(im, index, &r)) != 0)
    return rc;
  if (im->id_col != NO_INDEX && (idv = json_object_get(el, im->cols[im->id_col])) != NULL &&
      !json_is_string(idv) && !json_is_null(idv)) {
    report(im, index, im->cols[im->id_col], "an id is a string");
    idv = NULL;
  }
  if ((rc = row_id(im, r, idv && json_is_string(idv) ? json_string_value(idv) : NULL,
                   idv && json_is_string(idv) ? json_string_length(idv) : 0)) != 0)
    return rc;
  for (size_t i = 0; i < im->ncols; i++)
    if (im->use[i] && (v = json_object_get(el, im->cols[i])) != NULL &&
        (rc = json_value(im, r, i, v)) != 0)
      return rc;
  return 0;
}

static int read_json(importer_t *im, const char *data, size_t len, cairn_error_t *err) {
  json_error_t je;
  json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je), *a;
  size_t i;
  int rc;
  if (doc == NULL) {
    report_line(im, (size_t)(je.line > 0 ? je.line : 1), "not JSON (column %d): %s", je.column,
                je.text);
    return cairn__error(err, CAIRN_EMALFORMED, "the file is not JSON (line %d)", je.line);
  }
  /* an array of records, or an export of every type: {"type": [records]} */
  a = json_is_object(doc) ? json_object_get(doc, im->type) : doc;
  if (!json_is_array(a)) {
    if (json_is_object(doc))
      report_line(im, 1, "the object has no array \"%s\" (of an export of every type)",
                  im->type);
    else
      report_line(im, 1, "not an array of records ([{\"field\": value...}, ...])");
    json_decref(doc);
    return cairn__error(err, CAIRN_EMALFORMED, "the file holds no %s records", im->type);
  }
  if ((rc = json_columns(im, a)) == 0)
    for (i = 0; i < json_array_size(a) && rc == 0; i++)
      rc = json_row(im, i, json_array_get(a, i));
  json_decref(doc);
  return rc != 0 ? cairn__error(err, rc, "%s", cairn_strerror(rc)) : 0;
}

/* ---- checks against the store ---- */

/* The store's records of type, listed once. NULL when out of memory or on a
 * store error (im->rc says which). */
static known_t *known_of(importer_t *im, const char *type) {
  for (size_t i = 0; i < im->nknown; i++)
    if (strcmp(im->known[i]->type, type) == 0)
      return im->known[i];
  known_t **all = realloc(im->known, (im->nknown + 1) * sizeof *all), *k;
  if (all != NULL)
    im->known = all;
  if (all == NULL || (k = calloc(1, sizeof *k)) == NULL) {
    im->rc = CAIRN_ENOMEM;
    return NULL;
  }
  im->known[im->nknown++] = k;
  if ((k->type = strdup(type)) == NULL) {
    im->rc = CAIRN_ENOMEM;
    return NULL;
  }
  int rc = cairn_list(im->s, type, NULL, 0, known_add, k);
  if (rc == 0)
    rc = k->rc;
  if (rc != 0) {
    im->rc = rc;
    return NULL;
  }
  return k;
}

/* "; did you mean ID (NAME)?" for a reference to no record: the closest id of
 * the store or the file, else the record whose name is closest. */
static void ref_hint(importer_t *im, const known_t *k, bool same, const char *word, char *out,
                     size_t cap) {
  size_t n = 0, total = k->n + (same ? im->nrows : 0);
  const char **ids = calloc(total + 1, sizeof *ids), **names = calloc(total + 1, sizeof *names);
  out[0] = 0;
  for (size_t i = 0; ids && names && i <= k->ids.mask && k->ids.keys && n < SUGGEST_MAX; i++)
    if (k->ids.keys[i] != NULL) {
      ids[n] = k->ids.keys[i];
      names[n++] = k->names[k->ids.vals[i]];
    }
  for (size_t i = 0; ids && names && same && i < im->nrows && n < SUGGEST_MAX; i++)
    if (im->rows[i].id != NULL && !im->rows[i].generated)
      ids[n++] = im->rows[i].id;
  if (ids != NULL && names != NULL)
    cairn_suggest_record(word, ids, names, n, out, cap);
  free(ids);
  free(names);
}

/* One id a reference names: a visible record of the store, or a row of the
 * file (when the field refers to the type imported). */
static void check_ref(importer_t *im, const irow_t *r, size_t col, const char *ref, size_t n) {
  const cairn_schema_field_t *f = im->fields[col];
  bool same = strcmp(f->ref, im->type) == 0;
  known_t *k = known_of(im, f->ref);
  char hint[300] = "";
  if (k == NULL || strmap_get(&k->ids, ref, n) != NO_INDEX ||
      (same && strmap_get(&im->ids, ref, n) != NO_INDEX))
    return;
  char word[CAIRN_ID_MAX + 1];
  snprintf(word, sizeof word, "%.*s", (int)(n < CAIRN_ID_MAX ? n : CAIRN_ID_MAX), ref);
  if (!quiet(im))
    ref_hint(im, k, same, word, hint, sizeof hint);
  if (shown_id(r) != NULL)
    report(im, r->line, im->cols[col], "%s %s: %s \"%.80s\" names no %s%s", im->type, r->id,
           f->name, word, f->ref, hint);
  else
    report(im, r->line, im->cols[col], "%s: %s \"%.80s\" names no %s%s", im->type, f->name,
           word, f->ref, hint);
}

static void check_refs(importer_t *im, const irow_t *r, size_t col) {
  const cairn_schema_field_t *f = im->fields[col];
  cairn_mpr_t m;
  const char *s;
  uint32_t count = 1, n;
  if (f == NULL || r->vals[col] == NULL || f->ref[0] == 0 ||
      (f->kind != CAIRN_KIND_REF && f->kind != CAIRN_KIND_REFS))
    return;
  cairn_mpr_init(&m, r->vals[col], r->lens[col]);
  if (f->kind == CAIRN_KIND_REFS && cairn_mpr_array(&m, &count) != 0)
    return;
  for (uint32_t i = 0; i < count && im->rc == 0; i++)
    if (cairn_mpr_str(&m, &s, &n) == 0)
      check_ref(im, r, col, s, n);
}

/* A record read from the store for the row that names it. */
typedef struct held {
  importer_t *im;
  irow_t *r;
  size_t changed; /* values the row changes */
} held_t;

/* Drop the row's values the record holds already; count the rest. */
static int compare_held(const cairn_record_t *rec, void *ud) {
  held_t *h = ud;
  importer_t *im = h->im;
  cairn_record_field_t f;
  for (size_t i = 0; i < im->ncols; i++) {
    if (h->r->vals[i] == NULL)
      continue;
    bool has = im->fields[i] ? cairn_schema_value(rec, im->fields[i], &f)
                             : cairn_record_field(rec, im->cols[i], &f);
    if (has && f.value_len == h->r->lens[i] &&
        memcmp(f.value, h->r->vals[i], f.value_len) == 0) {
      free(h->r->vals[i]);
      h->r->vals[i] = NULL;
    } else {
      h->changed++;
    }
  }
  /* required fields: the row's value, else the record's */
  for (size_t i = 0; im->t != NULL && i < im->t->nfields; i++) {
    const cairn_schema_field_t *rf = &im->t->fields[i];
    cairn_record_field_t v;
    bool given = false;
    for (size_t c = 0; c < im->ncols && !given; c++)
      given = im->fields[c] == rf && (h->r->vals[c] != NULL || h->r->bad[c]);
    if (rf->required && !rf->hidden && !given && !cairn_schema_value(rec, rf, &v))
      report(im, h->r->line, rf->name, "%s %s: %s is required; give it a value", im->type,
             h->r->id, rf->name);
  }
  return 0;
}

/* A new record: every required field has a value in the row. */
static void check_required(importer_t *im, const irow_t *r) {
  for (size_t i = 0; im->t != NULL && i < im->t->nfields; i++) {
    const cairn_schema_field_t *f = &im->t->fields[i];
    bool given = false;
    for (size_t c = 0; c < im->ncols && !given; c++)
      given = im->fields[c] == f && (r->vals[c] != NULL || r->bad[c]);
    if (!f->required || f->hidden || given)
      continue;
    if (shown_id(r) != NULL)
      report(im, r->line, f->name, "%s %s: %s is required; give it a value", im->type, r->id,
             f->name);
    else
      report(im, r->line, f->name, "%s: %s is required; give it a value", im->type, f->name);
  }
}

/* Whether the row gives any value (bad: or a cell with an error). */
static bool row_has_values(const importer_t *im, const irow_t *r, bool bad) {
  for (size_t i = 0; i < im->ncols; i++)
    if (r->vals[i] != NULL || (bad && r->bad[i]))
      return true;
  return false;
}

/* Step 2: references, required fields, existing records. */
static int check_rows(importer_t *im) {
  known_t *own = known_of(im, im->type);
  if (own == NULL)
    return im->rc;
  for (size_t k = 0; k < im->nrows && im->rc == 0; k++) {
    irow_t *r = &im->rows[k];
    if (r->id == NULL)
      continue; /* a bad id, reported */
    for (size_t i = 0; i < im->ncols; i++)
      check_refs(im, r, i);
    r->exists = !r->generated && strmap_get(&own->ids, r->id, strlen(r->id)) != NO_INDEX;
    if (!r->exists) {
      if (!row_has_values(im, r, true))
        report(im, r->line, NULL, "no values for a new %s", im->type);
      else
        check_required(im, r);
      im->res->created++;
      continue;
    }
    held_t h = {im, r, 0};
    int rc = cairn_get(im->s, im->type, r->id, compare_held, &h);
    if (rc != 0)
      return rc;
    if (h.changed > 0)
      im->res->updated++;
    else
      im->res->unchanged++;
  }
  return im->rc;
}

/* ---- writing ---- */

/* Step 3: one change of every row with something to write, committed as as few
 * entries as fit. A failure the commit blames on one op is reported at its
 * row. */
static int write_rows(importer_t *im, int dry_run, cairn_error_t *err) {
  cairn_commit_info_t info;
  cairn_change_t *c;
  size_t *op_row = calloc(im->nrows + 1, sizeof *op_row), nops = 0;
  int rc = op_row ? cairn_change_begin(im->s, &c) : CAIRN_ENOMEM;
  if (rc != 0) {
    free(op_row);
    return cairn__error(err, rc, "%s", cairn_strerror(rc));
  }
  for (size_t k = 0; k < im->nrows && rc == 0; k++) {
    irow_t *r = &im->rows[k];
    if (!row_has_values(im, r, false))
      continue;
    op_row[nops++] = k;
    for (size_t i = 0; i < im->ncols && rc == 0; i++) {
      if (r->vals[i] == NULL)
        continue;
      rc = cairn_change_put(c, im->type, r->id, im->fields[i] ? im->fields[i]->name : im->cols[i],
                            r->vals[i], r->lens[i], 0);
      free(r->vals[i]); /* the change holds a copy */
      r->vals[i] = NULL;
    }
  }
  if (rc != 0) {
    cairn_change_abort(c);
    free(op_row);
    return cairn__error(err, rc, "cannot build the change: %s", cairn_strerror(rc));
  }
  if (nops == 0) {
    cairn_change_abort(c);
    free(op_row);
    return 0;
  }
  rc = cairn_change_commit_split(c, dry_run, &info, err);
  if (rc == 0) {
    im->res->entries = info.entries;
    im->res->first_seq = info.first_seq;
    im->res->last_seq = info.last_seq;
  } else if (info.failed_op < nops && err != NULL) {
    report(im, im->rows[op_row[info.failed_op]].line, NULL, "%s", err->msg);
  }
  free(op_row);
  return rc;
}

/* ---- the API ---- */

static void importer_free(importer_t *im) {
  for (size_t k = 0; k < im->nrows; k++)
    row_free(&im->rows[k], im->ncols);
  free(im->rows);
  for (size_t i = 0; i < im->ncols; i++)
    free(im->cols[i]);
  free(im->cols);
  free(im->fields);
  free(im->use);
  for (size_t i = 0; i < im->nknown; i++) {
    known_free(im->known[i]);
    free(im->known[i]);
  }
  free(im->known);
  strmap_free(&im->ids);
  cairn_schema_free(im->sc);
  errors_free(im);
}

/* The type imported: one the schema has (or any on a free-form network), never
 * one of cairn's own. */
static int check_type(importer_t *im, cairn_error_t *err) {
  const cairn_schema_type_t *t;
  const cairn_schema_field_t *f;
  if (im->type == NULL || im->type[0] == '\0' || strlen(im->type) > CAIRN_TYPE_MAX ||
      im->type[0] == '_')
    return cairn__error(err, CAIRN_EINVAL, "records of type \"%s\" cannot be imported (types "
                        "starting with _ are cairn's own)", im->type ? im->type : "");
  if (im->sc->ntypes == 0)
    return 0; /* free-form: any type, any field */
  if ((t = cairn_schema_type(im->sc, im->type)) != NULL && !t->hidden) {
    im->t = t;
    return 0;
  }
  /* the schema's own words for an unknown type, with "did you mean" */
  return cairn_schema_field_for(im->sc, im->type, "x", &t, &f, err);
}

int cairn_import(cairn_store_t *s, const char *type, cairn_format_t format, const char *data,
                 size_t len, const cairn_import_opts_t *opts, cairn_import_error_cb on_error,
                 void *ud, cairn_import_result_t *out, cairn_error_t *err) {
  importer_t im;
  cairn_import_result_t res;
  int rc;
  memset(&im, 0, sizeof im);
  memset(&res, 0, sizeof res);
  im.s = s;
  im.type = type;
  im.fmt = format;
  im.id_column = opts && opts->id_column && opts->id_column[0] ? opts->id_column : NULL;
  im.on_error = on_error;
  im.ud = ud;
  im.max_errors = opts && opts->max_errors ? opts->max_errors : CAIRN_IMPORT_ERRORS_MAX;
  im.res = &res;
  im.id_col = NO_INDEX;
  im.id_ms = cairn_now_ms();
  im.id_next = randombytes_random();
  if (s == NULL || data == NULL || (format != CAIRN_FORMAT_CSV && format != CAIRN_FORMAT_JSON)) {
    rc = cairn__error(err, CAIRN_EINVAL, "import reads CSV or JSON");
    goto done;
  }
  if ((rc = cairn_schema_load(s, &im.sc)) != 0) {
    rc = cairn__error(err, rc, "cannot read the network's schema: %s", cairn_strerror(rc));
    goto done;
  }
  if ((rc = check_type(&im, err)) != 0)
    goto done;
  rc = format == CAIRN_FORMAT_CSV ? read_csv(&im, data, len, err) : read_json(&im, data, len, err);
  im.pass = 1;
  if (rc == 0 && im.rc == 0 && (rc = check_rows(&im)) != 0)
    rc = cairn__error(err, rc, "cannot read the store: %s", cairn_strerror(rc));
  if (rc == 0 && im.rc != 0)
    rc = cairn__error(err, im.rc, "%s", cairn_strerror(im.rc));
  res.rows = im.nrows;
  if (rc == 0 && res.errors > 0)
    rc = cairn__error(err, CAIRN_ESCHEMA, "%zu error%s in the file; nothing was imported",
                      res.errors, res.errors == 1 ? "" : "s");
  emit_errors(&im);
  if (rc == 0)
    rc = write_rows(&im, opts != NULL && opts->dry_run, err);
  emit_errors(&im); /* a row the commit refused */
done:
  importer_free(&im);
  if (out != NULL)
    *out = res;
  return rc;
}

/* The whole file (its size checked first). */
static int read_file(const char *path, char **out, size_t *len, cairn_error_t *err) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  size_t got = 0;
  *out = NULL;
  if (fd < 0)
    return cairn__error(err, errno == ENOENT ? CAIRN_ENOENT : CAIRN_EIO, "cannot open %s: %s",
                        path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > IMPORT_FILE_MAX) {
    close(fd);
    return cairn__error(err, CAIRN_ETOOBIG, "%s is not a file of at most %zu MiB", path,
                        IMPORT_FILE_MAX >> 20);
  }
  if ((*out = malloc((size_t)st.st_size + 1)) == NULL) {
    close(fd);
    return cairn__error(err, CAIRN_ENOMEM, "out of memory reading %s", path);
  }
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, *out + got, (size_t)st.st_size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  if (got != (size_t)st.st_size) {
    free(*out);
    *out = NULL;
    return cairn__error(err, CAIRN_EIO, "cannot read %s", path);
  }
  (*out)[got] = '\0';
  *len = got;
  return 0;
}

int cairn_import_file(cairn_store_t *s, const char *type, const char *path,
                      const cairn_import_opts_t *opts, cairn_import_error_cb on_error, void *ud,
                      cairn_import_result_t *out, cairn_error_t *err) {
  cairn_format_t fmt;
  char *data;
  size_t len = 0;
  int rc;
  if (out != NULL)
    memset(out, 0, sizeof *out);
  if ((rc = cairn_format_of(path, &fmt, err)) != 0)
    return rc;
  if (fmt == CAIRN_FORMAT_XLSX)
    return cairn__error(err, CAIRN_EINVAL, "cannot import a spreadsheet (.xlsx): save it as CSV "
                        "(UTF-8) and import that");
  if ((rc = read_file(path, &data, &len, err)) != 0)
    return rc;
  rc = cairn_import(s, type, fmt, data, len, opts, on_error, ud, out, err);
  free(data);
  return rc;
}

int cairn_format_of(const char *path, cairn_format_t *out, cairn_error_t *err) {
  static const struct {
    const char *ext;
    cairn_format_t fmt;
  } exts[] = {{".csv", CAIRN_FORMAT_CSV}, {".json", CAIRN_FORMAT_JSON},
              {".xlsx", CAIRN_FORMAT_XLSX}};
  const char *dot = path ? strrchr(path, '.') : NULL;
  for (size_t i = 0; dot != NULL && i < sizeof exts / sizeof exts[0]; i++)
    if (strcasecmp(dot, exts[i].ext) == 0 && strchr(dot, '/') == NULL) {
      *out = exts[i].fmt;
      return 0;
    }
  return cairn__error(err, CAIRN_EINVAL, "%s: the file name must end in .csv, .json or .xlsx "
                      "(the format is told by it)", path ? path : "(no file)");
}
