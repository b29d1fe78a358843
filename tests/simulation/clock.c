/*
 * clock.c — the simulated wall clock and randomness, so that a seed decides
 * everything. The simulation binary is linked with --wrap=clock_gettime: every
 * wall-clock read of the library (cairn_now_ms, HLC stamps, the relay's time in
 * hello) returns the scheduler's time as seen by the device or relay acting now;
 * other clocks are the real ones. libsodium's randomness (keys, nonces, epochs)
 * is a seeded generator installed before cairn_init.
 */
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sim.h"

int __real_clock_gettime(clockid_t id, struct timespec *ts);
int __wrap_clock_gettime(clockid_t id, struct timespec *ts);

static uint64_t sim_ms;
static cairn_test_rng_t sim_rng;

int __wrap_clock_gettime(clockid_t id, struct timespec *ts) {
  if (id != CLOCK_REALTIME)
    return __real_clock_gettime(id, ts);
  ts->tv_sec = (time_t)(sim_ms / 1000);
  ts->tv_nsec = (long)(sim_ms % 1000) * 1000000L;
  return 0;
}

void sim_clock_set(uint64_t ms) {
  sim_ms = ms;
}

static uint64_t clock_with(uint64_t now, int64_t off) {
  int64_t t = (int64_t)now + off;
  return t > 0 ? (uint64_t)t : 1;
}

/* Code runs as one process of the network: its clock, its build's features. */
void sim_as_device(sim_t *m, const device_t *d) {
  sim_clock_set(clock_with(m->now_ms, d->clock_off));
  cairn__wire_features_set(d->wire);
}

void sim_as_relay(sim_t *m) {
  sim_clock_set(clock_with(m->now_ms, m->relay_clock_off));
  cairn__wire_features_set(m->relay_wire);
}

int sim_wire_of(uint64_t seed, unsigned who) {
  static const int older[] = {0, CAIRN_WIRE_COMPACT, CAIRN_WIRE_ZSTD};
  cairn_test_rng_t r = {seed ^ (0x77697265ull * (who + 1))};
  size_t k = cairn_test_rng_below(&r, 8);
  return k < 5 ? CAIRN_WIRE_ALL : older[k - 5];
}

/* ---- randomness ---- */

void sim_random_seed(uint64_t seed) {
  sim_rng.state = seed ^ 0x5eed5eed5eed5eedull;
}

static const char *rnd_name(void) {
  return "cairn-sim";
}

static uint32_t rnd_random(void) {
  return (uint32_t)cairn_test_rng_next(&sim_rng);
}

static void rnd_buf(void *const buf, const size_t size) {
  uint8_t *p = buf;
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = cairn_test_rng_next(&sim_rng);
    memcpy(p + i, &v, size - i < 8 ? size - i : 8);
  }
}

static randombytes_implementation sim_random = {rnd_name, rnd_random, NULL, NULL, rnd_buf, NULL};

/* Before cairn_init (sodium_init). */
int sim_random_install(void) {
  return randombytes_set_implementation(&sim_random) == 0 ? 0 : CAIRN_EINVAL;
}
