/*
 * import_bench.c — (h): `cairn import` of a CSV file of many rows into a fresh
 * store with the default schema, as a ratio to (c), the bundle apply rate of
 * the same run (docs/design.md, "Performance targets"; target >= 0.3).
 *
 * The file is what a partnership would bring in from a spreadsheet: people,
 * each with a name, a partner (a reference, to one of 100 partners the store
 * holds), a role, an email and a phone, and the ids an export writes. The
 * import reads it with libcsv, types and checks every cell, checks every
 * reference, and commits the rows as a few 1 MiB entries in one durable
 * transaction: the same calls `cairn import` makes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define IMPORT_PARTNERS 100

/* The CSV text of n people (malloc'd, *len bytes). */
static char *people_csv(uint64_t n, size_t *len) {
  size_t cap = 64 + (size_t)n * 128, used;
  char *csv = malloc(cap);
  if (csv == NULL)
    return NULL;
  used = (size_t)snprintf(csv, cap, "_id,name,partner,role,email,phone\r\n");
  for (uint64_t i = 0; i < n; i++)
    used += (size_t)snprintf(csv + used, cap - used,
                             "h%07llu,Person %llu,p%03llu,\"Coordinator, site %llu\","
                             "person%llu@example.org,555-%04llu\r\n",
                             (unsigned long long)i, (unsigned long long)i,
                             (unsigned long long)(i % IMPORT_PARTNERS),
                             (unsigned long long)(i % 40), (unsigned long long)i,
                             (unsigned long long)(i % 10000));
  *len = used;
  return csv;
}

/* The default schema and the partners the people refer to. */
static int import_setup(cairn_store_t *s, row_t *r) {
  cairn_error_t err = {0, ""};
  cairn_change_t *c;
  char id[16], name[32];
  int rc;
  if (cairn_schema_apply(s, cairn_schema_default(), NULL, &err) != 0)
    return row_fail(r, "schema apply: %s", err.msg);
  if ((rc = cairn_change_begin(s, &c)) != 0)
    return row_fail(r, "change begin: %s", cairn_strerror(rc));
  for (int i = 0; i < IMPORT_PARTNERS && rc == 0; i++) {
    snprintf(id, sizeof id, "p%03d", i);
    snprintf(name, sizeof name, "Partner %d", i);
    rc = cairn_change_put_text(c, "partner", id, "name", name, 0, &err);
  }
  if (rc != 0) {
    cairn_change_abort(c);
    return row_fail(r, "partner: %s", err.msg);
  }
  if (cairn_change_commit(c, NULL, &err) != 0)
    return row_fail(r, "partners: %s", err.msg);
  return 0;
}

int work_import(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "h_import_csv", "c_apply_bundle");
  cairn_import_result_t res;
  cairn_error_t err = {0, ""};
  cairn_store_t *s;
  size_t len;
  char *csv;
  double t0, t;
  int rc;
  r->target = 0.3;
  r->target_min = 0.3;
  if ((csv = people_csv(b->history, &len)) == NULL)
    return row_fail(r, "out of memory");
  if (store_new(b, "import", NULL, true, &s, r) != 0 || import_setup(s, r) != 0) {
    free(csv);
    cairn_close(s);
    return -1;
  }
  t0 = now_s();
  rc = cairn_import(s, "person", CAIRN_FORMAT_CSV, csv, len, NULL, NULL, NULL, &res, &err);
  t = now_s() - t0;
  cairn_close(s);
  free(csv);
  if (rc != 0)
    return row_fail(r, "import: %s", err.msg);
  if (res.created != b->history)
    return row_fail(r, "imported %zu records, not %llu", res.created,
                    (unsigned long long)b->history);
  row_set(r, res.created, t);
  r->bytes = len;
  snprintf(r->note, sizeof r->note,
           "rows/s of a %zu-byte CSV (5 fields, a reference each), checked and committed as "
           "%zu entries in one durable transaction; ratio to (c)",
           len, res.entries);
  return 0;
}
