/*
 * fuzz_import_csv.c — fuzz target for the CSV reader of cairn_import
 * (client/lib/import.c over libcsv): any bytes as a CSV file, imported as a dry
 * run into types of the default schema on a store holding a few records. The
 * invariants are in importkit.h.
 */
#include "importkit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  import_check(CAIRN_FORMAT_CSV, data, size);
  return 0;
}
