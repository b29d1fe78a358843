/*
 * invite.c — invite codes and proofs (invite.h).
 */
#include "invite.h"

#include <sodium.h>
#include <string.h>

#define CODE_PREFIX "cairn1:"
#define FIXED_BYTES (2 * CAIRN_KEY_BYTES + CAIRN_INVITE_SEED_BYTES)
#define B64 sodium_base64_VARIANT_URLSAFE_NO_PADDING
#define CHECK_BYTES 4 /* the first bytes of BLAKE2b-256(the rest): catches a damaged code */

static void checksum(const uint8_t *raw, size_t n, uint8_t out[CHECK_BYTES]) {
  uint8_t h[32];
  crypto_generichash(h, sizeof h, raw, n, NULL, 0);
  memcpy(out, h, CHECK_BYTES);
}

static const char proof_ctx[] = "cairn invite v1";

void cairn_invite_keys(const uint8_t seed[CAIRN_INVITE_SEED_BYTES], uint8_t pk[CAIRN_KEY_BYTES],
                       uint8_t sk[CAIRN_SECRET_BYTES]) {
  crypto_sign_seed_keypair(pk, sk, seed);
}

int cairn_invite_encode(const cairn_invite_code_t *c, char *out, size_t cap) {
  uint8_t raw[FIXED_BYTES + CAIRN_INVITE_ADDR_MAX + CHECK_BYTES];
  size_t alen = strlen(c->addr), plen = strlen(CODE_PREFIX);
  if (alen == 0 || alen > CAIRN_INVITE_ADDR_MAX)
    return CAIRN_EINVAL;
  size_t n = FIXED_BYTES + alen + CHECK_BYTES;
  if (cap < plen + sodium_base64_ENCODED_LEN(n, B64))
    return CAIRN_ETOOBIG;
  memcpy(raw, c->network, CAIRN_KEY_BYTES);
  memcpy(raw + CAIRN_KEY_BYTES, c->relay_key, CAIRN_KEY_BYTES);
  memcpy(raw + 2 * CAIRN_KEY_BYTES, c->seed, CAIRN_INVITE_SEED_BYTES);
  memcpy(raw + FIXED_BYTES, c->addr, alen);
  checksum(raw, FIXED_BYTES + alen, raw + FIXED_BYTES + alen);
  memcpy(out, CODE_PREFIX, plen);
  sodium_bin2base64(out + plen, cap - plen, raw, n, B64);
  sodium_memzero(raw, sizeof raw);
  return 0;
}

int cairn_invite_decode(const char *text, cairn_invite_code_t *out, cairn_error_t *err) {
  uint8_t raw[FIXED_BYTES + CAIRN_INVITE_ADDR_MAX + CHECK_BYTES + 1], sum[CHECK_BYTES];
  size_t n, plen = strlen(CODE_PREFIX), tlen;
  const char *end;
  /* a pasted code often brings spaces or a line break around it */
  while (*text == ' ' || *text == '\t' || *text == '\r' || *text == '\n')
    text++;
  tlen = strlen(text);
  while (tlen > 0 && (text[tlen - 1] == ' ' || text[tlen - 1] == '\t' ||
                      text[tlen - 1] == '\r' || text[tlen - 1] == '\n'))
    tlen--;
  if (tlen < plen || memcmp(text, CODE_PREFIX, plen) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "not an invite code (it starts with %s)",
                        CODE_PREFIX);
  if (tlen - plen > sodium_base64_ENCODED_LEN(sizeof raw, B64) ||
      sodium_base642bin(raw, sizeof raw, text + plen, tlen - plen, NULL, &n, &end, B64) != 0 ||
      end != text + tlen)
    return cairn__error(err, CAIRN_EMALFORMED, "the invite code is damaged (copy it whole)");
  if (n <= FIXED_BYTES + CHECK_BYTES || n > FIXED_BYTES + CAIRN_INVITE_ADDR_MAX + CHECK_BYTES)
    return cairn__error(err, CAIRN_EMALFORMED, "the invite code is damaged (wrong length)");
  n -= CHECK_BYTES;
  checksum(raw, n, sum);
  if (memcmp(sum, raw + n, CHECK_BYTES) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "the invite code is damaged (copy it whole)");
  memcpy(out->network, raw, CAIRN_KEY_BYTES);
  memcpy(out->relay_key, raw + CAIRN_KEY_BYTES, CAIRN_KEY_BYTES);
  memcpy(out->seed, raw + 2 * CAIRN_KEY_BYTES, CAIRN_INVITE_SEED_BYTES);
  memcpy(out->addr, raw + FIXED_BYTES, n - FIXED_BYTES);
  out->addr[n - FIXED_BYTES] = '\0';
  sodium_memzero(raw, sizeof raw);
  if (strlen(out->addr) != n - FIXED_BYTES || strchr(out->addr, ':') == NULL)
    return cairn__error(err, CAIRN_EMALFORMED, "the invite code names no relay address");
  return 0;
}

static void proof_message(const uint8_t device[CAIRN_KEY_BYTES],
                          const uint8_t network[CAIRN_KEY_BYTES], uint8_t *m, size_t *len) {
  size_t c = sizeof proof_ctx - 1;
  memcpy(m, proof_ctx, c);
  memcpy(m + c, device, CAIRN_KEY_BYTES);
  memcpy(m + c + CAIRN_KEY_BYTES, network, CAIRN_KEY_BYTES);
  *len = c + 2 * CAIRN_KEY_BYTES;
}

void cairn_invite_proof(const uint8_t seed[CAIRN_INVITE_SEED_BYTES],
                        const uint8_t device[CAIRN_KEY_BYTES],
                        const uint8_t network[CAIRN_KEY_BYTES],
                        uint8_t out[CAIRN_INVITE_PROOF_BYTES]) {
  uint8_t sk[CAIRN_SECRET_BYTES], m[sizeof proof_ctx + 2 * CAIRN_KEY_BYTES];
  size_t len;
  cairn_invite_keys(seed, out, sk);
  proof_message(device, network, m, &len);
  crypto_sign_detached(out + CAIRN_KEY_BYTES, NULL, m, len, sk);
  sodium_memzero(sk, sizeof sk);
}

int cairn_invite_check(const uint8_t *proof, size_t len, const uint8_t device[CAIRN_KEY_BYTES],
                       const uint8_t network[CAIRN_KEY_BYTES],
                       uint8_t invite_key[CAIRN_KEY_BYTES]) {
  uint8_t m[sizeof proof_ctx + 2 * CAIRN_KEY_BYTES];
  size_t mlen;
  if (len != CAIRN_INVITE_PROOF_BYTES)
    return CAIRN_EAUTH;
  proof_message(device, network, m, &mlen);
  if (crypto_sign_verify_detached(proof + CAIRN_KEY_BYTES, m, mlen, proof) != 0)
    return CAIRN_EAUTH;
  memcpy(invite_key, proof, CAIRN_KEY_BYTES);
  return 0;
}
