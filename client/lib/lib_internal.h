/*
 * lib_internal.h — what the files of client/lib share that is not part of the
 * API (cairn.h): names and values as JSON, and the member name shown for an
 * author.
 */
#ifndef CAIRN_LIB_INTERNAL_H
#define CAIRN_LIB_INTERNAL_H

#include "cairn.h"

/* The longest member name, with its NUL (cairn_change_member takes 1-200 bytes). */
#define CAIRN__NAME_MAX 201

/* n bytes of a record's type, id or a member's name as a JSON string: as they
 * are when UTF-8, else repaired as values.h repairs strings. NULL when out of
 * memory (cairn.c). */
json_t *cairn__name_json(const char *s, size_t n);

/* Add field (name, MessagePack value) to obj, the value made JSON as values.h
 * says. 0, CAIRN_EMALFORMED, CAIRN_ENOMEM (journal.c). */
int cairn__json_set_value(json_t *obj, const char *name, size_t name_len, const uint8_t *mp,
                          size_t len);

/* The name shown for key: its `_member` record's name, or this device's own
 * name when that record has none (as everywhere authors are named). Copied into
 * out; NULL when unnamed or unreadable (members.c). */
const char *cairn__member_name(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                               char out[CAIRN__NAME_MAX]);

/* This device's own name when key is this device's and it has one; NULL
 * otherwise. Owned by s (members.c). */
const char *cairn__self_name(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES]);

#endif
