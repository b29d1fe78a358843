/*
 * fuzz_invite.c — fuzz target for invite codes and proofs (protocol/invite.c).
 *
 * The input (up to its first NUL) is decoded as an invite code: a decoded code
 * must encode back to a code that decodes to the same fields. The input's bytes
 * are also checked as a proof against a fixed device key and network: only a
 * proof made with the seed may pass, so a fuzzed one never does. A broken
 * invariant aborts.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "invite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const uint8_t device[32] = {1}, network[32] = {2};
  char text[2048], again[CAIRN_INVITE_CODE_MAX];
  cairn_invite_code_t c, d;
  cairn_error_t err;
  uint8_t ik[32];
  if (sodium_init() < 0)
    abort();
  size_t n = size < sizeof text - 1 ? size : sizeof text - 1;
  memcpy(text, data, n);
  text[n] = '\0';
  if (cairn_invite_decode(text, &c, &err) == 0) {
    CHECK(strlen(c.addr) > 0 && strlen(c.addr) <= CAIRN_INVITE_ADDR_MAX);
    CHECK(cairn_invite_encode(&c, again, sizeof again) == 0);
    CHECK(cairn_invite_decode(again, &d, &err) == 0);
    CHECK(memcmp(c.network, d.network, 32) == 0 && memcmp(c.relay_key, d.relay_key, 32) == 0 &&
          memcmp(c.seed, d.seed, 32) == 0 && strcmp(c.addr, d.addr) == 0);
  } else {
    CHECK(err.code == CAIRN_EMALFORMED && err.msg[0] != '\0');
  }
  CHECK(cairn_invite_check(data, size, device, network, ik) == CAIRN_EAUTH);
  return 0;
}
