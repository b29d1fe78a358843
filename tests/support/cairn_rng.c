/*
 * cairn_rng.c — a seeded generator for random workloads (see cairn_test.h).
 * splitmix64: tiny, fast, and the same sequence everywhere, so a failing seed
 * reproduces on any machine.
 */
#define CAIRN_TEST_NO_CMOCKA
#include "cairn_test.h"

uint64_t cairn_test_rng_next(cairn_test_rng_t *r) {
  uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

size_t cairn_test_rng_below(cairn_test_rng_t *r, size_t n) {
  return n ? (size_t)(cairn_test_rng_next(r) % n) : 0;
}

size_t cairn_test_rng_range(cairn_test_rng_t *r, size_t lo, size_t hi) {
  return lo + cairn_test_rng_below(r, hi - lo + 1);
}

size_t cairn_test_rng_pick(cairn_test_rng_t *r, const size_t *left, size_t total) {
  size_t k = cairn_test_rng_below(r, total), i = 0;
  while (k >= left[i]) {
    k -= left[i];
    i++;
  }
  return i;
}
