/*
 * keyfile.h — an ed25519 secret key kept in a file of its own, mode 0600: a store's
 * device key and a relay's identity.
 */
#ifndef CAIRN_KEYFILE_H
#define CAIRN_KEYFILE_H

#include <stdint.h>

#include "entry.h"
#include "error.h"

/* Read the key at path: CAIRN_ENOENT if absent, CAIRN_EKEYPERM if group or others
 * may read or write it (the message names the chmod that fixes it), CAIRN_EIO if
 * it is not a whole key. */
CAIRN_EXTERN int cairn_keyfile_read(const char *path, uint8_t sk[CAIRN_SECRET_BYTES],
                                    cairn_error_t *err) CAIRN_WUR;

/* Write sk to a new file at path, mode 0600, fsync'd; CAIRN_EEXIST if it exists. */
CAIRN_EXTERN int cairn_keyfile_write(const char *path, const uint8_t sk[CAIRN_SECRET_BYTES],
                                     cairn_error_t *err) CAIRN_WUR;

#endif
