/*
 * invite.h — invite codes and the proof a joining device shows the relay
 * (docs/protocol.md, "Invites").
 *
 * An invite is a key pair made from a random 32-byte seed. The inviting admin
 * writes the public key into the network as a member with role `invite` and its
 * terms, and hands out a code holding the seed with what a new device needs to
 * reach the network:
 *
 *   code = "cairn1:" base64url(no padding) of
 *          network id (32) || relay key (32) || seed (32) || relay address (1-200 bytes)
 *          || check (4: the first bytes of BLAKE2b-256 of what precedes it)
 *
 * The joining device shows the relay, in the handshake's invite field, that it
 * holds the seed: proof = invite key (32) || Ed25519 signature by the invite key
 * over "cairn invite v1" || device key (32) || network id (32).
 */
#ifndef CAIRN_INVITE_H
#define CAIRN_INVITE_H

#include <stddef.h>
#include <stdint.h>

#include "entry.h"
#include "error.h"

#define CAIRN_INVITE_SEED_BYTES 32
#define CAIRN_INVITE_PROOF_BYTES (CAIRN_KEY_BYTES + CAIRN_SIG_BYTES)
#define CAIRN_INVITE_ADDR_MAX 200
#define CAIRN_INVITE_CODE_MAX 512 /* longest code, with its NUL */

typedef struct cairn_invite_code {
  uint8_t network[CAIRN_KEY_BYTES];
  uint8_t relay_key[CAIRN_KEY_BYTES];
  uint8_t seed[CAIRN_INVITE_SEED_BYTES];
  char addr[CAIRN_INVITE_ADDR_MAX + 1];
} cairn_invite_code_t;

/* The invite key pair of a seed. */
CAIRN_EXTERN void cairn_invite_keys(const uint8_t seed[CAIRN_INVITE_SEED_BYTES],
                                    uint8_t pk[CAIRN_KEY_BYTES], uint8_t sk[CAIRN_SECRET_BYTES]);

/* Write the code as text (NUL-terminated) into out. */
CAIRN_EXTERN int cairn_invite_encode(const cairn_invite_code_t *c, char *out,
                                     size_t cap) CAIRN_WUR;

/* Read a code: CAIRN_EMALFORMED with a message saying what is wrong. */
CAIRN_EXTERN int cairn_invite_decode(const char *text, cairn_invite_code_t *out,
                                     cairn_error_t *err) CAIRN_WUR;

/* The proof for the handshake's invite field. */
CAIRN_EXTERN void cairn_invite_proof(const uint8_t seed[CAIRN_INVITE_SEED_BYTES],
                                     const uint8_t device[CAIRN_KEY_BYTES],
                                     const uint8_t network[CAIRN_KEY_BYTES],
                                     uint8_t out[CAIRN_INVITE_PROOF_BYTES]);

/* Check a proof: 0 and the invite key in invite_key, or CAIRN_EAUTH. */
CAIRN_EXTERN int cairn_invite_check(const uint8_t *proof, size_t len,
                                    const uint8_t device[CAIRN_KEY_BYTES],
                                    const uint8_t network[CAIRN_KEY_BYTES],
                                    uint8_t invite_key[CAIRN_KEY_BYTES]) CAIRN_WUR;

#endif
