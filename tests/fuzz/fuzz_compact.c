/*
 * fuzz_compact.c — fuzz target for the compact entry decoder (core/compact.c): the
 * items of a compact `entries` message or of a version 2 bundle.
 *
 * The input is a run of items for the network of fuzzkit.h's preset (key 0's
 * genesis). Items are decoded one after another, as a receiver does, with a
 * large entry limit and again with a small one, until the first error or the
 * end. Invariants checked:
 *   - an error is CAIRN_EMALFORMED or CAIRN_ETOOBIG with a message, and leaves
 *     the reader where it was;
 *   - a decoded item lies inside the input and rebuilds an entry of at most the
 *     limit; one that was not sent whole decodes as an entry of the preset
 *     network, in the canonical encoding, whose ops hash to its ops_root and
 *     whose hash is the one the decoder gave (the next item's prev);
 *   - encoding the rebuilt entries again (cairn_compact_encode, one run state as
 *     the sender keeps) and decoding that gives the same entries byte for byte
 *     (those a store could hold: entries sent whole that do not decode, whose
 *     ops do not match their root, or that do not chain to the entry before
 *     them of their author, end the list, as no store gives them to it).
 * A broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "compact.h"
#include "fuzzcheck.h"
#include "fuzzkit.h"

#define MAX_ENTRY 65536
#define SMALL_ENTRY 300
#define MAX_ITEMS 64

static uint8_t network[CAIRN_KEY_BYTES];

static int inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len) {
  return p != NULL && p >= base && n <= len && (size_t)(p - base) <= len - n;
}

/* The rebuilt entries of one pass, back to back. */
typedef struct rebuilt {
  uint8_t *bytes;
  size_t len[MAX_ITEMS], off[MAX_ITEMS], used, n;
} rebuilt_t;

/* What a store would hold: the last entry of each of the preset's keys seen. */
typedef struct chain {
  uint8_t author[CAIRN_KEY_BYTES], hash[CAIRN_HASH_BYTES];
  uint64_t seq;
  int have;
} chain_t;

/* Whether a whole entry e (decoded) could come after the list's entries in a
 * store: well formed, its ops matching its root, chained to its author's entry
 * before it when that is the list's last. */
static int storable(const cairn_entry_t *d, chain_t *last) {
  if (cairn_entry_check_ops(d) != 0)
    return 0;
  return !(last->have && memcmp(last->author, d->author, CAIRN_KEY_BYTES) == 0 &&
           d->seq == last->seq + 1 &&
           (d->prev == NULL || memcmp(d->prev, last->hash, CAIRN_HASH_BYTES) != 0));
}

/* Check a rebuilt entry; 1 when a store could hold it after the list's entries
 * (what the encoder takes), last then moved on to it. */
static int check_entry(const cairn_compact_entry_t *ce, const uint8_t *e, chain_t *last) {
  cairn_entry_t d;
  uint8_t h[CAIRN_HASH_BYTES];
  int rc = cairn_entry_decode(e, ce->len, MAX_ENTRY, &d, NULL);
  if (ce->whole == NULL) { /* a whole one is checked by the receiver (fuzz_entry) */
    CHECK(rc == 0);
    CHECK(memcmp(d.network, network, CAIRN_KEY_BYTES) == 0);
    CHECK(cairn__entry_canonical(&d));
    CHECK(cairn_entry_check_ops(&d) == 0);
    cairn_entry_hash(&d, h);
    CHECK(memcmp(h, ce->hash, CAIRN_HASH_BYTES) == 0);
  }
  if (rc != 0 || !storable(&d, last))
    return 0;
  cairn_entry_hash(&d, last->hash);
  memcpy(last->author, d.author, CAIRN_KEY_BYTES);
  last->seq = d.seq;
  last->have = 1;
  return 1;
}

/* Decode the items of data; the entries go into out (NULL: not kept). */
static void decode_all(const uint8_t *data, size_t size, size_t max_entry, rebuilt_t *out) {
  cairn_compact_t c;
  cairn_compact_entry_t ce;
  cairn_mpr_t r;
  chain_t last = {{0}, {0}, 0, 0};
  int listing = 1; /* entries still go to out: the list is what a store could hold */
  cairn_compact_init(&c, network);
  cairn_mpr_init(&r, data, size);
  for (size_t i = 0; i < MAX_ITEMS && cairn_mpr_left(&r) > 0; i++) {
    cairn_error_t err = {0, ""};
    const uint8_t *at = r.p;
    int rc = cairn_compact_decode(&c, &r, max_entry, &ce, &err);
    if (rc != 0) {
      CHECK(rc == CAIRN_EMALFORMED || rc == CAIRN_ETOOBIG);
      CHECK(err.code == rc && err.msg[0] != '\0');
      CHECK(r.p == at);
      return;
    }
    CHECK(r.p > at && ce.len >= 1 && ce.len <= max_entry);
    if (ce.whole != NULL)
      CHECK(inside(ce.whole, ce.whole_len, at, (size_t)(r.p - at)) && ce.whole_len == ce.len);
    else
      CHECK(inside(ce.sig, CAIRN_SIG_BYTES, at, (size_t)(r.p - at)) &&
            inside(ce.ops, ce.ops_len, at, (size_t)(r.p - at)));
    uint8_t *e = malloc(ce.len);
    CHECK(e != NULL);
    cairn_compact_entry_write(&ce, e);
    listing = check_entry(&ce, e, &last) && listing;
    if (listing && out != NULL) {
      uint8_t *b = realloc(out->bytes, out->used + ce.len);
      CHECK(b != NULL);
      out->bytes = b;
      memcpy(b + out->used, e, ce.len);
      out->off[out->n] = out->used;
      out->len[out->n++] = ce.len;
      out->used += ce.len;
    }
    free(e);
  }
}

/* Encode the rebuilt entries again and decode them: the same entries. */
static void round_trip(const rebuilt_t *a) {
  cairn_compact_t c;
  msgpack_sbuffer sb;
  rebuilt_t b;
  memset(&b, 0, sizeof b);
  msgpack_sbuffer_init(&sb);
  cairn_compact_init(&c, network);
  for (size_t i = 0; i < a->n; i++)
    CHECK(cairn_compact_encode(&c, a->bytes + a->off[i], a->len[i], &sb) == 0);
  if (sb.data != NULL)
    decode_all((const uint8_t *)sb.data, sb.size, MAX_ENTRY, &b);
  CHECK(b.n == a->n && b.used == a->used);
  CHECK(a->used == 0 || memcmp(a->bytes, b.bytes, a->used) == 0);
  free(b.bytes);
  msgpack_sbuffer_destroy(&sb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  if (!ready) {
    cairn_test_key_t keys[FUZZ_NKEYS];
    uint8_t *pre[FUZZ_PRESET_ENTRIES];
    size_t lens[FUZZ_PRESET_ENTRIES];
    if (cairn_core_init() != 0)
      abort();
    for (int i = 0; i < FUZZ_NKEYS; i++)
      fuzz_key_init(&keys[i], i);
    if (fuzz_preset(keys, pre, lens) != 0)
      abort();
    for (int i = 0; i < FUZZ_PRESET_ENTRIES; i++)
      free(pre[i]);
    memcpy(network, keys[0].network, CAIRN_KEY_BYTES);
    ready = 1;
  }
  rebuilt_t a;
  memset(&a, 0, sizeof a);
  decode_all(data, size, MAX_ENTRY, &a);
  round_trip(&a);
  free(a.bytes);
  decode_all(data, size, SMALL_ENTRY, NULL);
  return 0;
}
