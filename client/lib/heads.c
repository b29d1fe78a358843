/*
 * heads.c — parse another replica's heads file (heads.h): JSON through jansson,
 * then each key and value checked before it is used. Rows are sorted so that
 * cairn_heads_seq, called once per author by the bundle writer, is a bsearch.
 */
#include "bytes.h"
#include "heads.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define HINT "give the output of `cairn heads --json` from the other replica"

static int row_cmp(const void *a, const void *b) {
  return memcmp(((const cairn_heads_row_t *)a)->author,
                ((const cairn_heads_row_t *)b)->author, CAIRN_KEY_BYTES);
}

/* Fill h from the JSON value j; what names the input in messages. */
static int heads_from_json(const char *what, json_t *j, cairn_heads_t *h, cairn_error_t *err) {
  const char *key;
  json_t *v;
  if (!json_is_object(j))
    return cairn__error(err, CAIRN_EINVAL, "%s is not a heads file: expected the JSON object "
                        "printed by `cairn heads --json`", what);
  if ((h->v = calloc(json_object_size(j) + 1, sizeof *h->v)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  json_object_foreach(j, key, v) {
    cairn_heads_row_t *r = &h->v[h->n];
    if (cairn_unhex(key, r->author, CAIRN_KEY_BYTES) != 0 || !json_is_integer(v) ||
        json_integer_value(v) < 0)
      return cairn__error(err, CAIRN_EINVAL, "%s is not a heads file: '%.80s' should map a "
                          "64-hex author key to a seq (as `cairn heads --json` prints)",
                          what, key);
    r->seq = (uint64_t)json_integer_value(v);
    h->n++;
  }
  cairn_sort(h->v, h->n, sizeof *h->v, row_cmp);
  /* keys differing only in case name the same author: which seq would hold? */
  for (size_t i = 1; i < h->n; i++)
    if (row_cmp(&h->v[i - 1], &h->v[i]) == 0) {
      char hex[2 * CAIRN_KEY_BYTES + 1];
      return cairn__error(err, CAIRN_EINVAL, "%s is not a heads file: author %s is listed "
                          "twice", what, cairn_hex(h->v[i].author, CAIRN_KEY_BYTES, hex));
    }
  return 0;
}

/* Shared tail of parse and load: j is the loaded JSON or NULL with jerr. */
static int heads_finish(const char *what, json_t *j, const json_error_t *jerr,
                        cairn_heads_t *out, cairn_error_t *err) {
  int rc;
  if (j == NULL && jerr->line < 1)
    return cairn__error(err, CAIRN_EINVAL, "cannot read heads file %s: %s; " HINT, what,
                        jerr->text);
  if (j == NULL)
    return cairn__error(err, CAIRN_EINVAL, "cannot read heads file %s: %s (line %d); " HINT,
                        what, jerr->text, jerr->line);
  rc = heads_from_json(what, j, out, err);
  json_decref(j);
  if (rc != 0)
    cairn_heads_free(out);
  return rc;
}

int cairn_heads_parse(const char *text, size_t len, cairn_heads_t *out, cairn_error_t *err) {
  json_error_t jerr;
  json_t *j;
  if (out == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no output heads");
  memset(out, 0, sizeof *out);
  if (text == NULL && len > 0)
    return cairn__error(err, CAIRN_EINVAL, "no heads text");
  j = json_loadb(text != NULL ? text : "", len, JSON_REJECT_DUPLICATES, &jerr);
  return heads_finish("(text)", j, &jerr, out, err);
}

int cairn_heads_load(const char *path, cairn_heads_t *out, cairn_error_t *err) {
  json_error_t jerr;
  json_t *j;
  if (out == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no output heads");
  memset(out, 0, sizeof *out);
  if (path == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no heads file path");
  j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
  return heads_finish(path, j, &jerr, out, err);
}

uint64_t cairn_heads_seq(const uint8_t author[CAIRN_KEY_BYTES], void *ud) {
  const cairn_heads_t *h = ud;
  cairn_heads_row_t key = {{0}, 0};
  const cairn_heads_row_t *hit;
  if (h == NULL || h->n == 0)
    return 0;
  memcpy(key.author, author, CAIRN_KEY_BYTES);
  hit = bsearch(&key, h->v, h->n, sizeof *h->v, row_cmp);
  return hit != NULL ? hit->seq : 0;
}

void cairn_heads_free(cairn_heads_t *h) {
  if (h == NULL)
    return;
  free(h->v);
  h->v = NULL;
  h->n = 0;
}
