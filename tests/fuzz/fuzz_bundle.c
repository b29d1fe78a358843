/*
 * fuzz_bundle.c — fuzz target for the bundle reader (core/bundle.c).
 *
 * Every input is read two ways, with no store involved:
 *   1. as a whole bundle file (magic, version, zstd frame), through
 *      cairn_bundle_reader_mem, to the end or the first error;
 *   2. as the decompressed stream of a bundle of each version: it is wrapped in a
 *      valid header and a valid zstd frame first, so that the fuzzer reaches the
 *      framing rules (lengths, end marker, count, trailing data) and, for version
 *      2, the network id and the compact items (core/compact.c) without having to
 *      forge zstd.
 * Invariants checked: next returns 1 (with an entry of 1..max bytes), 0 or a
 * negative code with a message; after 0 or an error it keeps returning the same;
 * the count is the number of entries returned. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "fuzzcheck.h"
#include "bundle.h"
#include "entry.h"

#define MAX_ENTRY 65536
#define FUZZ_INPUT_MAX (1u << 20)

static void read_all(const uint8_t *buf, size_t len) {
  cairn_bundle_reader_t *r = NULL;
  cairn_error_t err = {0, ""};
  const uint8_t *e;
  size_t elen;
  uint64_t n = 0;
  int rc = cairn_bundle_reader_mem(buf, len, MAX_ENTRY, &r, &err);
  if (rc != 0) {
    CHECK(rc < 0 && r == NULL && err.code == rc && err.msg[0] != '\0');
    return;
  }
  while ((rc = cairn_bundle_next(r, &e, &elen, &err)) == 1) {
    CHECK(e != NULL && elen >= 1 && elen <= MAX_ENTRY);
    /* touch every byte, so ASan sees a view that is too short */
    volatile uint8_t x = 0;
    for (size_t i = 0; i < elen; i++)
      x ^= e[i];
    (void)x;
    n++;
    CHECK(cairn_bundle_count(r) == n);
  }
  CHECK(cairn_bundle_count(r) == n);
  if (rc < 0) {
    cairn_error_t again = {0, ""};
    CHECK(err.code == rc && err.msg[0] != '\0');
    CHECK(rc == CAIRN_EMALFORMED || rc == CAIRN_ETOOBIG);
    CHECK(cairn_bundle_next(r, &e, &elen, &again) == rc && again.code == rc);
  } else {
    CHECK(rc == 0);
    CHECK(cairn_bundle_next(r, &e, &elen, &err) == 0);
  }
  cairn_bundle_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  static ZSTD_CCtx *cctx;
  static uint8_t *wrapped;
  static size_t wrapped_cap;
  if (!ready) {
    if (cairn_core_init() != 0)
      abort();
    cctx = ZSTD_createCCtx();
    wrapped_cap = 9 + ZSTD_compressBound(FUZZ_INPUT_MAX);
    wrapped = malloc(wrapped_cap);
    if (cctx == NULL || wrapped == NULL)
      abort();
    ready = 1;
  }
  if (size > FUZZ_INPUT_MAX)
    return 0;
  read_all(data, size);

  memcpy(wrapped, CAIRN_BUNDLE_MAGIC, 8);
  size_t z = ZSTD_compressCCtx(cctx, wrapped + 9, wrapped_cap - 9, data, size, 1);
  CHECK(!ZSTD_isError(z));
  for (uint8_t version = 1; version <= CAIRN_BUNDLE_VERSION; version++) {
    wrapped[8] = version;
    read_all(wrapped, 9 + z);
  }
  return 0;
}
