/*
 * export.c — the records of a type, or of every type, to CSV, JSON or an XLSX
 * workbook (cairn.h, "Import and export"; docs/design.md, "Import and export").
 *
 * A table is the type's records in id order with its columns: `_id`, the
 * schema's fields in order, then any field the records hold that the schema
 * does not know. CSV and XLSX write the table; JSON writes each record as
 * `cairn list --json` does. Every value goes out in the form import.c reads
 * back (cairn_value_text), so that an export imports unchanged. A file is
 * written under a temporary name beside it, made durable and renamed over the
 * path at the end.
 */
#include "cairn.h"
#include "lib_internal.h"
#include "mpread.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <xlsxwriter.h>

#define SHEET_NAME_MAX 31 /* Excel's limit */
#define XLSX_CELL_MAX 32767
#define EXACT_INT_MAX 9007199254740992.0 /* 2^53: larger integers lose digits as numbers */


/* ---- values as text ---- */

/* The shortest decimal form of d that reads back as d. */
static int number_text(double d, char **out) {
  char buf[40];
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, d);
    if (strtod(buf, NULL) == d)
      break;
  }
  return (*out = strdup(buf)) != NULL ? 0 : CAIRN_ENOMEM;
}

/* ids separated by ", " when v is an array of strings; 0 when it is not. */
static int refs_text(const json_t *v, char **out, bool *done) {
  size_t n = 0, i;
  json_t *e;
  *done = false;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e))
      return 0;
    n += json_string_length(e) + 2;
  }
  if ((*out = malloc(n + 1)) == NULL)
    return CAIRN_ENOMEM;
  n = 0;
  json_array_foreach(v, i, e) {
    if (i > 0)
      memcpy(*out + n, ", ", 2), n += 2;
    memcpy(*out + n, json_string_value(e), json_string_length(e));
    n += json_string_length(e);
  }
  (*out)[n] = '\0';
  *done = true;
  return 0;
}

static int json_text(const json_t *v, const cairn_schema_field_t *f, char **out) {
  bool done;
  int rc;
  char num[32];
  if (json_is_string(v))
    *out = strndup(json_string_value(v), json_string_length(v));
  else if (json_is_integer(v))
    *out = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) > 0
               ? strdup(num) : NULL;
  else if (json_is_real(v))
    return number_text(json_real_value(v), out);
  else if (json_is_boolean(v))
    *out = strdup(json_is_true(v) ? "true" : "false");
  else if (json_is_array(v) && f != NULL && f->kind == CAIRN_KIND_REFS &&
           ((rc = refs_text(v, out, &done)) != 0 || done))
    return rc;
  else
    *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  return *out != NULL ? 0 : CAIRN_ENOMEM;
}

int cairn_value_text(const cairn_schema_field_t *f, const uint8_t *mp, size_t len, char **out) {
  json_t *v;
  int rc;
  *out = NULL;
  if ((rc = cairn_value_to_json(mp, len, &v)) != 0)
    return rc;
  if (json_is_null(v))
    rc = (*out = strdup("")) != NULL ? 0 : CAIRN_ENOMEM;
  else
    rc = json_text(v, f, out);
  json_decref(v);
  return rc;
}

/* ---- the table of one type ---- */

typedef struct table {
  cairn_store_t *s;
  const cairn_schema_t *sc;
  const char *type;
  const cairn_schema_type_t *t; /* NULL: every field is one the schema does not know */
  char **cols;                  /* after `_id`: field names */
  const cairn_schema_field_t **fields; /* per column; NULL for a field not in the schema */
  size_t ncols, cap;
  size_t records;
  int rc;
} table_t;

static int table_add(table_t *tb, const char *name, size_t n, const cairn_schema_field_t *f) {
  if (tb->ncols == tb->cap) {
    size_t cap = tb->cap ? 2 * tb->cap : 16;
    char **cols = realloc(tb->cols, cap * sizeof *cols);
    const cairn_schema_field_t **fields = cols ? realloc(tb->fields, cap * sizeof *fields) : NULL;
    if (cols != NULL)
      tb->cols = cols;
    if (fields == NULL)
      return CAIRN_ENOMEM;
    tb->fields = fields;
    tb->cap = cap;
  }
  if ((tb->cols[tb->ncols] = strndup(name, n)) == NULL)
    return CAIRN_ENOMEM;
  tb->fields[tb->ncols++] = f;
  return 0;
}

/* The column of a field shown under name, or ncols. */
static size_t table_col(const table_t *tb, const char *name, size_t n) {
  for (size_t i = 0; i < tb->ncols; i++)
    if (strncmp(tb->cols[i], name, n) == 0 && tb->cols[i][n] == '\0')
      return i;
  return tb->ncols;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A field the schema does not know: a column of its own (sorted later). */
static int note_field(const cairn_record_field_t *f, void *ud) {
  table_t *tb = ud;
  if (table_col(tb, f->name, f->name_len) < tb->ncols)
    return 0;
  return (tb->rc = table_add(tb, f->name, f->name_len, NULL)) != 0;
}

static int note_record(const cairn_record_t *r, void *ud) {
  table_t *tb = ud;
  tb->records++;
  cairn_schema_fields(tb->sc, r, note_field, tb);
  return tb->rc != 0;
}

static void table_free(table_t *tb) {
  for (size_t i = 0; i < tb->ncols; i++)
    free(tb->cols[i]);
  free(tb->cols);
  free(tb->fields);
}

static int any_record(const cairn_record_t *r, void *ud) {
  (void)r;
  *(bool *)ud = true;
  return 1;
}

/* A type to export: one of the schema's, or any on a free-form network, or
 * one the store holds records of (written by a device with a newer schema). */
static int check_type(cairn_store_t *s, const cairn_schema_t *sc, const char *type,
                      cairn_error_t *err) {
  const cairn_schema_type_t *t = cairn_schema_type(sc, type);
  const cairn_schema_field_t *f;
  bool any = false;
  int rc;
  if (type[0] == '\0' || strlen(type) > CAIRN_TYPE_MAX)
    return cairn__error(err, CAIRN_EINVAL, "a record type has 1 to %d bytes", CAIRN_TYPE_MAX);
  if (sc->ntypes == 0 || (t != NULL && !t->hidden))
    return 0;
  if ((rc = cairn_list(s, type, NULL, 0, any_record, &any)) != 0)
    return cairn__error(err, rc, "cannot read the %s records: %s", type, cairn_strerror(rc));
  return any ? 0 : cairn_schema_field_for(sc, type, "x", &t, &f, err); /* with did you mean */
}

/* The columns of type: the schema's fields, then the others the records hold. */
static int table_open(table_t *tb, cairn_store_t *s, const cairn_schema_t *sc, const char *type,
                      cairn_error_t *err) {
  const cairn_schema_type_t *t = cairn_schema_type(sc, type);
  int rc;
  memset(tb, 0, sizeof *tb);
  if ((rc = check_type(s, sc, type, err)) != 0)
    return rc;
  tb->s = s;
  tb->sc = sc;
  tb->type = type;
  tb->t = t != NULL && !t->hidden ? t : NULL;
  for (size_t i = 0; tb->t != NULL && i < t->nfields; i++)
    if (!t->fields[i].hidden &&
        (rc = table_add(tb, t->fields[i].name, strlen(t->fields[i].name), &t->fields[i])) != 0)
      return cairn__error(err, rc, "out of memory");
  size_t known = tb->ncols;
  if ((rc = cairn_list(s, type, NULL, 0, note_record, tb)) != 0 || (rc = tb->rc) != 0)
    return cairn__error(err, rc, "cannot read the %s records: %s", type, cairn_strerror(rc));
  if (tb->ncols > known) /* cols may be NULL: no arithmetic on it */
    cairn_sort(tb->cols + known, tb->ncols - known, sizeof *tb->cols, cmp_str);
  return 0;
}

/* One record's cells as text (NULL where it has no value), column by column. */
typedef struct cells {
  const table_t *tb;
  char **text;
  const uint8_t **mp; /* the values themselves, for XLSX */
  size_t *len;
  int rc;
} cells_t;

static int cell_of(const cairn_record_field_t *f, void *ud) {
  cells_t *c = ud;
  size_t i = table_col(c->tb, f->name, f->name_len);
  if (i == c->tb->ncols)
    return 0;
  c->mp[i] = f->value;
  c->len[i] = f->value_len;
  c->rc = cairn_value_text(c->tb->fields[i], f->value, f->value_len, &c->text[i]);
  return c->rc != 0;
}

static int cells_init(cells_t *c, const table_t *tb) {
  memset(c, 0, sizeof *c);
  c->tb = tb;
  c->text = calloc(tb->ncols + 1, sizeof *c->text);
  c->mp = calloc(tb->ncols + 1, sizeof *c->mp);
  c->len = calloc(tb->ncols + 1, sizeof *c->len);
  return c->text && c->mp && c->len ? 0 : CAIRN_ENOMEM;
}

static void cells_clear(cells_t *c) {
  for (size_t i = 0; i < c->tb->ncols; i++) {
    free(c->text[i]);
    c->text[i] = NULL;
    c->mp[i] = NULL;
  }
}

/* Fill the cells of r (views valid during the walk's callback). */
static int cells_fill(cells_t *c, const cairn_record_t *r) {
  cells_clear(c);
  cairn_schema_fields(c->tb->sc, r, cell_of, c);
  return c->rc;
}

static void cells_free(cells_t *c) {
  if (c->text != NULL)
    cells_clear(c);
  free(c->text);
  free(c->mp);
  free(c->len);
}

/* ---- CSV ---- */

/* One cell (n bytes of s), quoted when it must be (RFC 4180), or when spaces
 * at either end would be dropped on reading. */
static int csv_put(FILE *f, const char *s, size_t n) {
  bool quote = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
  for (size_t i = 0; i < n && !quote; i++)
    quote = s[i] == ',' || s[i] == '"' || s[i] == '\r' || s[i] == '\n';
  if (!quote)
    return fwrite(s, 1, n, f) == n ? 0 : CAIRN_EIO;
  if (fputc('"', f) == EOF)
    return CAIRN_EIO;
  for (size_t i = 0; i < n; i++)
    if ((s[i] == '"' && fputc('"', f) == EOF) || fputc(s[i], f) == EOF)
      return CAIRN_EIO;
  return fputc('"', f) == EOF ? CAIRN_EIO : 0;
}

typedef struct csv_out {
  FILE *f;
  cells_t cells;
  int rc;
} csv_out_t;

static int csv_record(const cairn_record_t *r, void *ud) {
  csv_out_t *o = ud;
  if ((o->rc = cells_fill(&o->cells, r)) != 0 || (o->rc = csv_put(o->f, r->id, r->id_len)) != 0)
    return 1;
  for (size_t i = 0; i < o->cells.tb->ncols; i++) {
    const char *t = o->cells.text[i] ? o->cells.text[i] : "";
    if (fputc(',', o->f) == EOF || (o->rc = csv_put(o->f, t, strlen(t))) != 0)
      return o->rc = CAIRN_EIO, 1;
  }
  if (fputs("\r\n", o->f) == EOF)
    return o->rc = CAIRN_EIO, 1;
  return 0;
}

static int write_csv(const table_t *tb, FILE *f) {
  csv_out_t o = {f, {0}, 0};
  int rc = fputs("_id", f) == EOF ? CAIRN_EIO : 0;
  for (size_t i = 0; rc == 0 && i < tb->ncols; i++)
    if (fputc(',', f) == EOF || (rc = csv_put(f, tb->cols[i], strlen(tb->cols[i]))) != 0)
      rc = CAIRN_EIO;
  if (rc == 0 && fputs("\r\n", f) == EOF)
    rc = CAIRN_EIO;
  if (rc == 0 && (rc = cells_init(&o.cells, tb)) == 0 &&
      (rc = cairn_list(tb->s, tb->type, NULL, 0, csv_record, &o)) == 0)
    rc = o.rc;
  cells_free(&o.cells);
  return rc;
}

/* ---- JSON ---- */

typedef struct json_out {
  FILE *f;
  const cairn_schema_t *sc;
  json_t *o; /* the record being built */
  size_t n;  /* records written */
  int rc;
} json_out_t;

static int json_field(const cairn_record_field_t *f, void *ud) {
  json_out_t *j = ud;
  json_t *v;
  if ((j->rc = cairn_value_to_json(f->value, f->value_len, &v)) != 0)
    return 1;
  if (json_object_setn_new(j->o, f->name, f->name_len, v) != 0)
    return j->rc = CAIRN_ENOMEM, 1;
  return 0;
}

/* A record as `cairn list --json` prints it, one line; records separated by ",\n". */
static int json_record(const cairn_record_t *r, void *ud) {
  json_out_t *j = ud;
  if ((j->o = json_object()) == NULL ||
      json_object_set_new(j->o, "_type", cairn__name_json(r->type, r->type_len)) != 0 ||
      json_object_set_new(j->o, "_id", cairn__name_json(r->id, r->id_len)) != 0)
    j->rc = CAIRN_ENOMEM;
  if (j->rc == 0)
    cairn_schema_fields(j->sc, r, json_field, j);
  if (j->rc == 0 && (fputs(j->n++ > 0 ? ",\n" : "\n", j->f) == EOF ||
                     json_dumpf(j->o, j->f, JSON_COMPACT | JSON_PRESERVE_ORDER) != 0))
    j->rc = CAIRN_EIO;
  json_decref(j->o);
  j->o = NULL;
  return j->rc != 0;
}

/* The records of type as a JSON array. */
static int write_json_array(cairn_store_t *s, const cairn_schema_t *sc, const char *type,
                            FILE *f, size_t *count) {
  json_out_t j = {f, sc, NULL, 0, 0};
  int rc = fputc('[', f) == EOF ? CAIRN_EIO : cairn_list(s, type, NULL, 0, json_record, &j);
  if (rc == 0 && (rc = j.rc) == 0 && fputs(j.n > 0 ? "\n]" : "]", f) == EOF)
    rc = CAIRN_EIO;
  *count = j.n;
  return rc;
}

/* ---- XLSX ---- */

typedef struct xlsx_out {
  lxw_workbook *wb;
  lxw_worksheet *ws;
  lxw_format *bold, *date;
  cells_t cells;
  lxw_row_t row;
  int rc;
  cairn_error_t *err;
} xlsx_out_t;

static int lxw_rc(xlsx_out_t *x, lxw_error e, const char *what) {
  if (e == LXW_NO_ERROR)
    return 0;
  if (e == LXW_ERROR_MAX_STRING_LENGTH_EXCEEDED)
    return cairn__error(x->err, CAIRN_ETOOBIG, "%s is longer than a spreadsheet cell holds (%d "
                        "characters): export it as CSV or JSON", what, XLSX_CELL_MAX);
  return cairn__error(x->err, e == LXW_ERROR_MEMORY_MALLOC_FAILED ? CAIRN_ENOMEM : CAIRN_EIO,
                      "cannot write the workbook: %s", lxw_strerror(e));
}

/* A date of the kind date (YYYY-MM-DD, years Excel knows): 1 with *d set. */
static int xlsx_date(const char *s, lxw_datetime *d) {
  char tail;
  memset(d, 0, sizeof *d);
  return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &d->year, &d->month, &d->day, &tail) == 3 &&
         d->year >= 1900 && d->year <= 9999 && d->month >= 1 && d->month <= 12 && d->day >= 1 &&
         d->day <= 31;
}

/* One cell: a number, bool or date where its kind says so and the value is one;
 * else its text form. */
static lxw_error xlsx_cell(xlsx_out_t *x, lxw_col_t col, const cairn_schema_field_t *f,
                           const uint8_t *mp, size_t len, const char *text) {
  cairn_mpr_t m;
  lxw_datetime d;
  double v;
  int64_t i;
  int b;
  cairn_mpr_init(&m, mp, len);
  if (f != NULL && (f->kind == CAIRN_KIND_NUMBER || f->kind == CAIRN_KIND_INTEGER)) {
    if (cairn_mpr_int(&m, &i) == 0 && (double)i < EXACT_INT_MAX && (double)i > -EXACT_INT_MAX)
      return worksheet_write_number(x->ws, x->row, col, (double)i, NULL);
    cairn_mpr_init(&m, mp, len);
    if (cairn_mpr_float(&m, &v) == 0 && isfinite(v))
      return worksheet_write_number(x->ws, x->row, col, v, NULL);
  } else if (f != NULL && f->kind == CAIRN_KIND_BOOL && cairn_mpr_bool(&m, &b) == 0) {
    return worksheet_write_boolean(x->ws, x->row, col, b, NULL);
  } else if (f != NULL && f->kind == CAIRN_KIND_DATE && xlsx_date(text, &d)) {
    return worksheet_write_datetime(x->ws, x->row, col, &d, x->date);
  }
  return text[0] ? worksheet_write_string(x->ws, x->row, col, text, NULL) : LXW_NO_ERROR;
}

static int xlsx_record(const cairn_record_t *r, void *ud) {
  xlsx_out_t *x = ud;
  const table_t *tb = x->cells.tb;
  char what[CAIRN_TYPE_MAX + CAIRN_ID_MAX + CAIRN_FIELD_MAX + 8], *id;
  if (++x->row >= LXW_ROW_MAX)
    return x->rc = cairn__error(x->err, CAIRN_ETOOBIG, "more %s records than a sheet holds "
                                "(%d rows): export them as CSV or JSON", tb->type,
                                LXW_ROW_MAX - 1), 1;
  if ((x->rc = cells_fill(&x->cells, r)) != 0 || (id = strndup(r->id, r->id_len)) == NULL)
    return x->rc = x->rc ? x->rc : CAIRN_ENOMEM, 1;
  snprintf(what, sizeof what, "%s %s", tb->type, id);
  x->rc = lxw_rc(x, worksheet_write_string(x->ws, x->row, 0, id, NULL), what);
  free(id);
  for (size_t i = 0; x->rc == 0 && i < tb->ncols; i++) {
    if (x->cells.text[i] == NULL)
      continue;
    snprintf(what, sizeof what, "%s %.*s %s", tb->type, (int)r->id_len, r->id, tb->cols[i]);
    x->rc = lxw_rc(x, xlsx_cell(x, (lxw_col_t)(i + 1), tb->fields[i], x->cells.mp[i],
                                x->cells.len[i], x->cells.text[i]), what);
  }
  return x->rc != 0;
}

/* A sheet's name: the type's, cut to Excel's 31 characters, made distinct. */
static void sheet_name(lxw_workbook *wb, const char *type, char out[SHEET_NAME_MAX + 1]) {
  snprintf(out, SHEET_NAME_MAX + 1, "%s", type);
  for (int k = 2; workbook_get_worksheet_by_name(wb, out) != NULL && k < 1000; k++)
    snprintf(out, SHEET_NAME_MAX + 1, "%.*s~%d", SHEET_NAME_MAX - 4, type, k);
}

static int write_sheet(xlsx_out_t *x, const table_t *tb) {
  char name[SHEET_NAME_MAX + 1];
  int rc;
  sheet_name(x->wb, tb->type, name);
  if ((x->ws = workbook_add_worksheet(x->wb, name)) == NULL)
    return cairn__error(x->err, CAIRN_EIO, "cannot add a sheet for %s", tb->type);
  x->row = 0;
  worksheet_freeze_panes(x->ws, 1, 0);
  worksheet_set_column(x->ws, 0, (lxw_col_t)tb->ncols, 16, NULL);
  if ((rc = lxw_rc(x, worksheet_write_string(x->ws, 0, 0, "_id", x->bold), "_id")) != 0)
    return rc;
  for (size_t i = 0; i < tb->ncols; i++)
    if ((rc = lxw_rc(x, worksheet_write_string(x->ws, 0, (lxw_col_t)(i + 1), tb->cols[i],
                                               x->bold), tb->cols[i])) != 0)
      return rc;
  if ((rc = cells_init(&x->cells, tb)) == 0 &&
      (rc = cairn_list(tb->s, tb->type, NULL, 0, xlsx_record, x)) == 0)
    rc = x->rc;
  cells_free(&x->cells);
  return rc;
}

/* ---- files ---- */

/* The types to export: type, or every visible type of the schema. */
static int export_types(const cairn_schema_t *sc, const char *type, const char ***out, size_t *n,
                        cairn_error_t *err) {
  *n = 0;
  if ((*out = calloc(sc->ntypes + 1, sizeof **out)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if (type != NULL) {
    (*out)[(*n)++] = type;
    return 0;
  }
  for (size_t i = 0; i < sc->ntypes; i++)
    if (!sc->types[i].hidden)
      (*out)[(*n)++] = sc->types[i].name;
  if (*n == 0)
    return cairn__error(err, CAIRN_EINVAL, "this network has no schema, so there is no list of "
                        "its types: export each type by name");
  return 0;
}

/* One table: its columns, checked against the schema, then written by fn. */
static int with_table(cairn_store_t *s, const cairn_schema_t *sc, const char *type,
                      cairn_export_result_t *res, int (*fn)(const table_t *, void *), void *ud,
                      cairn_error_t *err) {
  table_t tb;
  int rc = table_open(&tb, s, sc, type, err);
  if (rc == 0 && (rc = fn(&tb, ud)) != 0 && (err == NULL || err->code != rc))
    rc = cairn__error(err, rc, "cannot export the %s records: %s", type, cairn_strerror(rc));
  if (rc == 0) {
    res->types++;
    res->records += tb.records;
  }
  table_free(&tb);
  return rc;
}

static int csv_table(const table_t *tb, void *ud) {
  return write_csv(tb, ud);
}

static int xlsx_table(const table_t *tb, void *ud) {
  return write_sheet(ud, tb);
}

/* JSON of the types: one array, or an object type -> array. */
static int write_json(cairn_store_t *s, const cairn_schema_t *sc, const char *const *types,
                      size_t n, bool all, FILE *f, cairn_export_result_t *res,
                      cairn_error_t *err) {
  int rc = all && fputs("{\n", f) == EOF ? CAIRN_EIO : 0;
  for (size_t i = 0; rc == 0 && i < n; i++) {
    size_t count = 0;
    if ((rc = check_type(s, sc, types[i], err)) != 0)
      break;
    if (all) {
      json_t *name = json_string(types[i]);
      if (name == NULL || (i > 0 && fputs(",\n", f) == EOF) ||
          json_dumpf(name, f, JSON_ENCODE_ANY) != 0 || fputs(": ", f) == EOF)
        rc = CAIRN_EIO;
      json_decref(name);
    }
    if (rc == 0 && (rc = write_json_array(s, sc, types[i], f, &count)) == 0) {
      res->types++;
      res->records += count;
    }
    if (rc != 0 && (err == NULL || err->code != rc))
      rc = cairn__error(err, rc, "cannot export the %s records: %s", types[i],
                        cairn_strerror(rc));
  }
  if (rc == 0 && fputs(all ? "\n}\n" : "\n", f) == EOF)
    rc = cairn__error(err, CAIRN_EIO, "cannot write the export");
  return rc;
}

static int export_to(cairn_store_t *s, const char *type, cairn_format_t fmt, FILE *f,
                     const char *xlsx_path, cairn_export_result_t *res, cairn_error_t *err) {
  cairn_schema_t *sc = NULL;
  const char **types = NULL;
  size_t n = 0;
  int rc;
  memset(res, 0, sizeof *res);
  if (fmt == CAIRN_FORMAT_CSV && type == NULL)
    return cairn__error(err, CAIRN_EINVAL, "a CSV file holds one type: name it, or export "
                        "every type to a .json or .xlsx file");
  if ((rc = cairn_schema_load(s, &sc)) != 0)
    return cairn__error(err, rc, "cannot read the network's schema: %s", cairn_strerror(rc));
  if ((rc = export_types(sc, type, &types, &n, err)) != 0)
    goto done;
  if (fmt == CAIRN_FORMAT_CSV) {
    rc = with_table(s, sc, type, res, csv_table, f, err);
  } else if (fmt == CAIRN_FORMAT_JSON) {
    rc = write_json(s, sc, types, n, type == NULL, f, res, err);
  } else {
    lxw_workbook_options o = {LXW_TRUE, NULL, LXW_FALSE};
    xlsx_out_t x;
    memset(&x, 0, sizeof x);
    x.err = err;
    if ((x.wb = workbook_new_opt(xlsx_path, &o)) == NULL ||
        (x.bold = workbook_add_format(x.wb)) == NULL ||
        (x.date = workbook_add_format(x.wb)) == NULL) {
      rc = cairn__error(err, CAIRN_ENOMEM, "cannot start the workbook");
    } else {
      format_set_bold(x.bold);
      format_set_num_format(x.date, "yyyy-mm-dd");
      for (size_t i = 0; rc == 0 && i < n; i++)
        rc = with_table(s, sc, types[i], res, xlsx_table, &x, err);
    }
    lxw_error e = x.wb != NULL ? workbook_close(x.wb) : LXW_NO_ERROR;
    if (rc == 0 && e != LXW_NO_ERROR)
      rc = lxw_rc(&x, e, "the workbook");
  }
done:
  free(types);
  cairn_schema_free(sc);
  return rc;
}

int cairn_export_stream(cairn_store_t *s, const char *type, cairn_format_t format, FILE *f,
                        cairn_export_result_t *out, cairn_error_t *err) {
  cairn_export_result_t res;
  int rc;
  if (s == NULL || f == NULL || (format != CAIRN_FORMAT_CSV && format != CAIRN_FORMAT_JSON))
    return cairn__error(err, CAIRN_EINVAL, "a stream takes CSV or JSON");
  rc = export_to(s, type, format, f, NULL, &res, err);
  if (out != NULL)
    *out = res;
  return rc;
}

/* A new file beside path (O_EXCL, mode 0666 less the umask); *tmp malloc'd. */
static int temp_beside(const char *path, char **tmp, int *fd, cairn_error_t *err) {
  size_t n = strlen(path) + 24;
  if ((*tmp = malloc(n)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  for (int tries = 0; tries < 16; tries++) {
    snprintf(*tmp, n, "%s.tmp%08x", path, (unsigned)randombytes_random());
    if ((*fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) >= 0)
      return 0;
    if (errno != EEXIST)
      break;
  }
  int rc = cairn__error(err, CAIRN_EIO, "cannot write beside %s: %s", path, strerror(errno));
  free(*tmp);
  *tmp = NULL;
  return rc;
}

/* Make the file at tmp durable and put it at path. */
static int file_finish(const char *tmp, const char *path, cairn_error_t *err) {
  int fd = open(tmp, O_RDONLY | O_CLOEXEC), rc = 0;
  if (fd < 0 || fsync(fd) != 0 || rename(tmp, path) != 0)
    rc = cairn__error(err, CAIRN_EIO, "cannot write %s: %s", path, strerror(errno));
  if (fd >= 0)
    close(fd);
  return rc;
}

int cairn_export_file(cairn_store_t *s, const char *type, const char *path,
                      cairn_export_result_t *out, cairn_error_t *err) {
  cairn_export_result_t res = {0, 0};
  cairn_format_t fmt;
  char *tmp = NULL;
  FILE *f = NULL;
  int fd = -1, rc;
  if (s == NULL || (rc = cairn_format_of(path, &fmt, err)) != 0) {
    rc = s == NULL ? CAIRN_EINVAL : rc;
    goto done;
  }
  if (fmt == CAIRN_FORMAT_CSV && type == NULL) {
    rc = export_to(s, type, fmt, NULL, NULL, &res, err); /* says why */
    goto done;
  }
  if ((rc = temp_beside(path, &tmp, &fd, err)) != 0)
    goto done;
  if (fmt == CAIRN_FORMAT_XLSX) {
    close(fd); /* libxlsxwriter writes the file by its name */
    fd = -1;
    rc = export_to(s, type, fmt, NULL, tmp, &res, err);
  } else if ((f = fdopen(fd, "w")) == NULL) {
    rc = cairn__error(err, CAIRN_EIO, "cannot write %s: %s", path, strerror(errno));
  } else {
    fd = -1;
    rc = export_to(s, type, fmt, f, NULL, &res, err);
    if (fclose(f) != 0 && rc == 0)
      rc = cairn__error(err, CAIRN_EIO, "cannot write %s: %s", path, strerror(errno));
  }
  if (rc == 0)
    rc = file_finish(tmp, path, err);
  if (rc != 0)
    unlink(tmp);
done:
  if (fd >= 0)
    close(fd);
  free(tmp);
  if (out != NULL)
    *out = res;
  return rc;
}
