/*
 * fuzz_heads.c — fuzz target for the heads-file parser (client/lib/heads.c), the
 * JSON that `cairn bundle create --since HEADS_FILE` reads from another replica.
 *
 * Invariants: cairn_heads_parse returns 0, CAIRN_EINVAL or CAIRN_ENOMEM, with a
 * message on failure and nothing left allocated; on success the rows are strictly
 * ascending by author, their number is the object's size, and every key of the
 * object (as jansson reads it) maps to its row through cairn_heads_seq, while an
 * author absent from the file gives 0. A broken invariant aborts.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "entry.h"
#include "heads.h"

static void check_rows(const uint8_t *data, size_t size, const cairn_heads_t *h) {
  json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
  const char *key;
  json_t *v;
  uint8_t author[CAIRN_KEY_BYTES];
  CHECK(j != NULL && json_is_object(j) && json_object_size(j) == h->n);
  CHECK(h->n == 0 || h->v != NULL);
  for (size_t i = 1; i < h->n; i++)
    CHECK(memcmp(h->v[i - 1].author, h->v[i].author, CAIRN_KEY_BYTES) < 0);
  json_object_foreach(j, key, v) {
    CHECK(cairn_unhex(key, author, CAIRN_KEY_BYTES) == 0);
    CHECK(json_is_integer(v) && json_integer_value(v) >= 0);
    CHECK(cairn_heads_seq(author, (void *)h) == (uint64_t)json_integer_value(v));
  }
  json_decref(j);
  /* an author the file does not name: flip the first row's key */
  if (h->n > 0) {
    memcpy(author, h->v[0].author, CAIRN_KEY_BYTES);
    author[CAIRN_KEY_BYTES - 1] ^= 1;
    int named = 0;
    for (size_t i = 0; i < h->n; i++)
      named |= memcmp(h->v[i].author, author, CAIRN_KEY_BYTES) == 0;
    if (!named)
      CHECK(cairn_heads_seq(author, (void *)h) == 0);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cairn_heads_t h = {(cairn_heads_row_t *)1, 7}; /* garbage: parse must reset it */
  cairn_error_t err = {0, ""};
  int rc = cairn_heads_parse((const char *)data, size, &h, &err);
  if (rc != 0) {
    CHECK(rc == CAIRN_EINVAL || rc == CAIRN_ENOMEM);
    CHECK(err.code == rc && err.msg[0] != '\0');
    CHECK(h.v == NULL && h.n == 0);
    return 0;
  }
  check_rows(data, size, &h);
  cairn_heads_free(&h);
  CHECK(h.v == NULL && h.n == 0);
  return 0;
}
