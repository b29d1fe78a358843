/*
 * importkit.h — what the two import targets share (fuzz_import_csv.c,
 * fuzz_import_json.c): one store for the whole run, with the default schema
 * and a few records to refer to and update, and the invariants of a dry run.
 *
 * An input is one byte that picks the type (its two low bits: 0 commitment:
 * references, enums, dates, a required field; 1 indicator: numbers and
 * periods; 2 meeting: a list of references; 3 partner, its ids taken from the
 * name column; seeds start with '0' to '3'), then the file, imported as a dry
 * run (one type per input: each import reads the schema, which instrumented
 * builds make slow). It must end in 0 or a refusal that names each error's
 * place, never write anything, and count what it did consistently:
 *   - rc is 0, CAIRN_ESCHEMA or CAIRN_EMALFORMED (CAIRN_ETOOBIG for a row over
 *     the entry size limit); 0 exactly when no error was found;
 *   - each error's text starts with its place ("line N" or "element [N]") and
 *     says why; at most max_errors of them are given, all are counted;
 *   - on success every row is new, updated or unchanged;
 *   - the store's own log does not grow.
 */
#ifndef CAIRN_FUZZ_IMPORTKIT_H
#define CAIRN_FUZZ_IMPORTKIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "fuzzcheck.h"

#define CAIRN_TEST_NO_CMOCKA
#include "cairn_test.h"

static cairn_store_t *import_store;
static char *import_dir;

static void import_store_close(void) {
  cairn_close(import_store);
  cairn_test_rmrf(import_dir);
  free(import_dir);
}

/* The store, made at the first input. */
static cairn_store_t *import_store_get(void) {
  static const char *const records[][4] = {
      {"partner", "p1", "name", "Acme School"}, {"partner", "p2", "name", "Beta Clinic"},
      {"plan", "pl1", "title", "Read by third grade"}, {"commitment", "c1", "partner", "p1"},
      {"indicator", "i1", "title", "Reading"}};
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_error_t err;
  if (import_store != NULL)
    return import_store;
  CHECK(cairn_init() == 0);
  CHECK(cairn_test_store("fuzz", &import_store, &import_dir) == 0);
  CHECK(cairn_store_network_create(import_store, "Fuzz", net, &err) == 0);
  CHECK(cairn_schema_apply(import_store, cairn_schema_default(), NULL, &err) == 0);
  for (size_t i = 0; i < sizeof records / sizeof records[0]; i++) {
    cairn_change_t *c;
    CHECK(cairn_change_begin(import_store, &c) == 0);
    CHECK(cairn_change_put_text(c, records[i][0], records[i][1], records[i][2], records[i][3], 0,
                                &err) == 0);
    CHECK(cairn_change_commit(c, NULL, &err) == 0);
  }
  atexit(import_store_close);
  return import_store;
}

typedef struct import_seen {
  size_t given;
  cairn_format_t fmt;
} import_seen_t;

static void import_check_error(const cairn_import_error_t *e, void *ud) {
  import_seen_t *seen = ud;
  seen->given++;
  CHECK(e->text != NULL && e->why != NULL && e->why[0] != '\0');
  CHECK(strncmp(e->text, "line ", 5) == 0 ||
        (seen->fmt == CAIRN_FORMAT_JSON && strncmp(e->text, "element [", 9) == 0));
  CHECK(strstr(e->text, e->why) != NULL);
  /* the place names the column (cut at 100 bytes) */
  char cut[101];
  snprintf(cut, sizeof cut, "%s", e->column ? e->column : "");
  CHECK(strstr(e->text, cut) != NULL);
}

/* Import data (after its first byte, the type) as a dry run and check the
 * invariants. */
static void import_check(cairn_format_t fmt, const uint8_t *data, size_t size) {
  static const char *const types[] = {"commitment", "indicator", "meeting", "partner"};
  cairn_store_t *s = import_store_get();
  uint64_t before, after;
  if (size == 0)
    return;
  size_t t = data[0] & 3u;
  cairn_import_opts_t opts = {t == 3 ? "name" : NULL, 1, 5};
  cairn_import_result_t res;
  cairn_error_t err = {0, ""};
  import_seen_t seen = {0, fmt};
  CHECK(cairn_store_head_seq(s, cairn_store_key(s), &before) == 0);
  int rc = cairn_import(s, types[t], fmt, (const char *)data + 1, size - 1, &opts,
                        import_check_error, &seen, &res, &err);
  CHECK(rc == 0 || rc == CAIRN_ESCHEMA || rc == CAIRN_EMALFORMED || rc == CAIRN_ETOOBIG);
  CHECK(seen.given <= opts.max_errors && seen.given <= res.errors);
  CHECK((rc == 0) == (res.errors == 0) || rc == CAIRN_ETOOBIG);
  CHECK(rc == 0 || err.code == rc);
  if (rc == 0)
    CHECK(res.created + res.updated + res.unchanged == res.rows);
  CHECK(cairn_store_head_seq(s, cairn_store_key(s), &after) == 0 && after == before);
}

#endif
