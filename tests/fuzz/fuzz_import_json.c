/*
 * fuzz_import_json.c — fuzz target for the JSON reader of cairn_import
 * (client/lib/import.c over jansson): any bytes as a JSON file (an array of
 * records, or an object of arrays by type), imported as a dry run into types
 * of the default schema on a store holding a few records. The invariants are
 * in importkit.h.
 */
#include "importkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  import_check(CAIRN_FORMAT_JSON, data, size);
  return 0;
}
