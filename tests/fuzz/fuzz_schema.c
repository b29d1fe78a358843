/*
 * fuzz_schema.c — fuzz target for schema documents (client/lib/schema_doc.c)
 * and text typed by a field's kind (core/schema.c).
 *
 * An input whose first byte is '{' or '[' is a schema document: checking it
 * alone (cairn_schema_apply with no store) must give 0 or CAIRN_ESCHEMA with a
 * message; a document it accepts must apply to a real store too, and the
 * schema read back, printed as a document and applied again, must change
 * nothing (applying is idempotent). Any other input is a kind (its first byte)
 * and text (the rest, up to a NUL): cairn_schema_parse_text must refuse it
 * with a message or give a value that cairn_schema_check_value accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_test.h"
#include "fuzzcheck.h"

static cairn_store_t *store;
static char *store_dir;

static void drop_store(void) {
  cairn_close(store);
  cairn_test_rmrf(store_dir);
  free(store_dir);
}

/* One store for the whole run, with a network and no schema at first. */
static cairn_store_t *the_store(void) {
  uint8_t net[CAIRN_KEY_BYTES];
  if (store == NULL) {
    CHECK(cairn_init() == 0);
    CHECK(cairn_test_store("fuzz", &store, &store_dir) == 0);
    CHECK(cairn_store_network_create(store, "Fuzz", net, NULL) == 0);
    atexit(drop_store);
  }
  return store;
}

static void fuzz_document(const char *doc) {
  cairn_error_t err = {0, ""};
  cairn_schema_changes_t ch;
  cairn_schema_t *sc;
  int rc = cairn_schema_apply(NULL, doc, &ch, &err);
  if (rc != 0) {
    CHECK(rc == CAIRN_ESCHEMA && err.code == rc && err.msg[0] != 0);
    return;
  }
  rc = cairn_schema_apply(the_store(), doc, &ch, &err);
  /* against what the store holds already, a change may be refused (a kind that
   * cannot change...), never with anything but a schema error */
  CHECK(rc == 0 || (rc == CAIRN_ESCHEMA && err.msg[0] != 0) || rc == CAIRN_ETOOBIG);
  CHECK(cairn_schema_load(store, &sc) == 0);
  json_t *back = cairn_schema_to_json(sc, NULL);
  char *text = json_dumps(back, JSON_COMPACT);
  CHECK(text != NULL);
  CHECK(cairn_schema_apply(store, text, &ch, &err) == 0);
  CHECK(ch.types_added + ch.types_changed + ch.fields_added + ch.fields_changed + ch.renamed ==
        0);
  free(text);
  json_decref(back);
  cairn_schema_free(sc);
}

static void fuzz_text(uint8_t kind, const char *text) {
  cairn_schema_field_t f;
  cairn_schema_type_t t;
  char *values[] = {"planned", "done"};
  cairn_error_t err = {0, ""};
  uint8_t *mp;
  size_t len;
  memset(&f, 0, sizeof f);
  memset(&t, 0, sizeof t);
  f.name = "f";
  f.label = f.help = f.unit = "";
  f.ref = "partner";
  f.kind = (cairn_kind_t)(1 + kind % CAIRN_KIND_JSON);
  f.values = values;
  f.nvalues = 2;
  t.name = "thing";
  int rc = cairn_schema_parse_text(&t, &f, "id1", text, &mp, &len, &err);
  if (rc != 0) {
    CHECK(rc == CAIRN_ESCHEMA && err.msg[0] != 0 && mp == NULL);
    return;
  }
  CHECK(cairn_schema_check_value(&t, &f, "id1", mp, len, &err) == 0);
  free(mp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text;
  if (size == 0 || size > 65536)
    return 0;
  text = malloc(size + 1);
  CHECK(text != NULL);
  memcpy(text, data, size);
  text[size] = 0;
  if (data[0] == '{' || data[0] == '[')
    fuzz_document(text);
  else
    fuzz_text(data[0], text + 1);
  free(text);
  return 0;
}
