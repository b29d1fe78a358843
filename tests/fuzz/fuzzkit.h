/*
 * fuzzkit.h — what the fuzz targets and the seed generator (seeds.c) share:
 * deterministic signing keys with a fixed clock, and the ops of a genesis and of
 * a grant packed as core/change.c writes them.
 *
 * Everything is a function of the input: keys come from fixed seeds and HLCs from
 * FUZZ_HLC_BASE, never from the wall clock, so an input replays to the same
 * entries in any process (a crasher found today still crashes next year; the base
 * is in the past, so the receiver's skew check never refuses these entries).
 *
 * Header-only (static functions) because tests/fuzz/CMakeLists.txt builds every
 * fuzz_*.c as one standalone target.
 */
#ifndef CAIRN_FUZZKIT_H
#define CAIRN_FUZZKIT_H

#define CAIRN_TEST_NO_CMOCKA
#include <msgpack.h>
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_test.h"
#include "entry.h"

/* 2024-01-01T00:00:00Z in HLC form (ms << 16). */
#define FUZZ_HLC_BASE ((uint64_t)1704067200000 << 16)
#define FUZZ_NKEYS 4

/* fuzz_apply's input format (see fuzz_apply.c): the flags byte and chunk tags. */
#define FUZZ_APPLY_PRESET 0x01
#define FUZZ_APPLY_VERIFY_ALL 0x02
#define FUZZ_APPLY_RAW 0x80
#define FUZZ_APPLY_END_BATCH 0x40

/* Key i (0..FUZZ_NKEYS-1) of every fuzz target: seed bytes all i + 1. */
static inline void fuzz_key_init(cairn_test_key_t *k, int i) {
  uint8_t seed[32];
  memset(seed, i + 1, sizeof seed);
  cairn_test_key_init(k, seed);
}

static inline int fuzz_pack_str(msgpack_packer *pk, const char *s) {
  return msgpack_pack_str_with_body(pk, s, strlen(s));
}

/*
 * The genesis ops of owner's network (nonce 32 bytes): sets owner->network to
 * BLAKE2b-256("cairn network v1" || pk || nonce) and packs into sb the ops
 * [put _network <id> {nonce, title}, put _member <owner> {name, role: owner}].
 */
static inline int fuzz_genesis_ops(cairn_test_key_t *owner, const uint8_t nonce[32],
                                   const char *title, msgpack_sbuffer *sb) {
  static const char label[] = "cairn network v1";
  crypto_generichash_state st;
  msgpack_packer pk;
  char hex[2 * CAIRN_KEY_BYTES + 1];
  int rc;
  crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
  crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
  crypto_generichash_update(&st, owner->pk, CAIRN_KEY_BYTES);
  crypto_generichash_update(&st, nonce, 32);
  crypto_generichash_final(&st, owner->network, CAIRN_KEY_BYTES);
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  rc = msgpack_pack_array(&pk, 2);
  rc |= msgpack_pack_array(&pk, 4) | msgpack_pack_uint8(&pk, CAIRN_OP_PUT);
  rc |= fuzz_pack_str(&pk, "_network");
  rc |= fuzz_pack_str(&pk, cairn_hex(owner->network, CAIRN_KEY_BYTES, hex));
  rc |= msgpack_pack_map(&pk, 2);
  rc |= fuzz_pack_str(&pk, "nonce") | msgpack_pack_array(&pk, 2);
  rc |= msgpack_pack_bin_with_body(&pk, nonce, 32) | msgpack_pack_array(&pk, 0);
  rc |= fuzz_pack_str(&pk, "title") | msgpack_pack_array(&pk, 2);
  rc |= fuzz_pack_str(&pk, title) | msgpack_pack_array(&pk, 0);
  rc |= msgpack_pack_array(&pk, 4) | msgpack_pack_uint8(&pk, CAIRN_OP_PUT);
  rc |= fuzz_pack_str(&pk, "_member");
  rc |= fuzz_pack_str(&pk, cairn_hex(owner->pk, CAIRN_KEY_BYTES, hex));
  rc |= msgpack_pack_map(&pk, 2);
  rc |= fuzz_pack_str(&pk, "name") | msgpack_pack_array(&pk, 2);
  rc |= fuzz_pack_str(&pk, "owner") | msgpack_pack_array(&pk, 0);
  rc |= fuzz_pack_str(&pk, "role") | msgpack_pack_array(&pk, 2);
  rc |= fuzz_pack_str(&pk, "owner") | msgpack_pack_array(&pk, 0);
  return rc ? CAIRN_ENOMEM : 0;
}

/* The ops [put _member <member hex> {role: [role, []]}] into sb. */
static inline int fuzz_grant_ops(const uint8_t member[CAIRN_KEY_BYTES], const char *role,
                                 msgpack_sbuffer *sb) {
  msgpack_packer pk;
  char hex[2 * CAIRN_KEY_BYTES + 1];
  int rc;
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  rc = msgpack_pack_array(&pk, 1) | msgpack_pack_array(&pk, 4);
  rc |= msgpack_pack_uint8(&pk, CAIRN_OP_PUT) | fuzz_pack_str(&pk, "_member");
  rc |= fuzz_pack_str(&pk, cairn_hex(member, CAIRN_KEY_BYTES, hex));
  rc |= msgpack_pack_map(&pk, 1) | fuzz_pack_str(&pk, "role") | msgpack_pack_array(&pk, 2);
  rc |= fuzz_pack_str(&pk, role) | msgpack_pack_array(&pk, 0);
  return rc ? CAIRN_ENOMEM : 0;
}

/*
 * The preset network of fuzz_apply: key 0 signs the genesis (nonce all 0x4e, title
 * "fuzz") at FUZZ_HLC_BASE + 1, then grants admin to key 1, editor to key 2 and
 * viewer to key 3 (hlc + 2, 3, 4). Every key's network is set. entries[0..3]
 * receive the four entries (malloc'd, free them).
 */
#define FUZZ_PRESET_ENTRIES 4
static inline int fuzz_preset(cairn_test_key_t keys[FUZZ_NKEYS],
                              uint8_t *entries[FUZZ_PRESET_ENTRIES],
                              size_t lens[FUZZ_PRESET_ENTRIES]) {
  static const char *const roles[] = {"admin", "editor", "viewer"};
  uint8_t nonce[32];
  msgpack_sbuffer sb;
  int rc;
  memset(nonce, 0x4e, sizeof nonce);
  msgpack_sbuffer_init(&sb);
  rc = fuzz_genesis_ops(&keys[0], nonce, "fuzz", &sb);
  if (rc == 0)
    rc = cairn_test_key_sign_at(&keys[0], FUZZ_HLC_BASE + 1, (const uint8_t *)sb.data, sb.size,
                   &entries[0], &lens[0]);
  for (int i = 1; rc == 0 && i < FUZZ_NKEYS; i++) {
    memcpy(keys[i].network, keys[0].network, CAIRN_KEY_BYTES);
    msgpack_sbuffer_clear(&sb);
    rc = fuzz_grant_ops(keys[i].pk, roles[i - 1], &sb);
    if (rc == 0)
      rc = cairn_test_key_sign_at(&keys[0], FUZZ_HLC_BASE + 1 + (uint64_t)i, (const uint8_t *)sb.data,
                     sb.size, &entries[i], &lens[i]);
  }
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

#endif
