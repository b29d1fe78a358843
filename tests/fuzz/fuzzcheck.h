/*
 * fuzzcheck.h — what every fuzz target shares: libFuzzer's entry point and CHECK,
 * which aborts on a broken invariant so that libFuzzer and the replay driver
 * report the input.
 */
#ifndef CAIRN_FUZZCHECK_H
#define CAIRN_FUZZCHECK_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                 \
  do {                                                                              \
    if (!(cond))                                                                    \
      abort();                                                                      \
  } while (0)

#endif
