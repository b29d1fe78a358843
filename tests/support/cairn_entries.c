/*
 * cairn_entries.c — signed entries copied out of stores, and sync between stores
 * as a relay would do it: export what the other side lacks, apply it as a batch
 * (see cairn_test.h). No cmocka here.
 */
#define CAIRN_TEST_NO_CMOCKA
#include "cairn_test.h"

#include <stdlib.h>
#include <string.h>

int cairn_test_entries_push(cairn_test_entries_t *l, const cairn_test_entry_t *x) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    cairn_test_entry_t *e = realloc(l->e, cap * sizeof *e);
    if (e == NULL)
      return CAIRN_ENOMEM;
    l->e = e;
    l->cap = cap;
  }
  l->e[l->n++] = *x;
  return 0;
}

void cairn_test_entries_free(cairn_test_entries_t *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->e[i].data);
  free(l->e);
  memset(l, 0, sizeof *l);
}

typedef struct collect {
  cairn_test_entries_t *l;
  cairn_store_t *dst;    /* for since_dst */
  const uint8_t *author; /* only this author's entries; NULL for all */
  int rc;                /* the first error, which stops the walk */
} collect_t;

static int collect_cb(const cairn_entry_t *e, void *ud) {
  collect_t *c = ud;
  cairn_test_entry_t x;
  if (c->author != NULL && memcmp(e->author, c->author, CAIRN_KEY_BYTES) != 0)
    return 0;
  if ((x.data = malloc(e->len)) == NULL) {
    c->rc = CAIRN_ENOMEM;
    return 1;
  }
  memcpy(x.data, e->bytes, e->len);
  x.len = e->len;
  memcpy(x.author, e->author, CAIRN_KEY_BYTES);
  x.seq = e->seq;
  if ((c->rc = cairn_test_entries_push(c->l, &x)) != 0) {
    free(x.data);
    return 1;
  }
  return 0;
}

static uint64_t since_dst(const uint8_t author[CAIRN_KEY_BYTES], void *ud) {
  collect_t *c = ud;
  uint64_t seq = 0;
  int rc = cairn_store_head_seq(c->dst, author, &seq);
  if (rc != 0 && c->rc == 0)
    c->rc = rc; /* reported when the export returns */
  return seq;
}

int cairn_test_lacking(cairn_store_t *dst, cairn_store_t *src, const uint8_t *author,
                       cairn_test_entries_t *out) {
  collect_t c = {out, dst, author, 0};
  memset(out, 0, sizeof *out);
  int rc = cairn_store_export(src, dst ? since_dst : NULL, collect_cb, &c);
  return rc != 0 ? rc : c.rc;
}

int cairn_test_apply_range(cairn_store_t *dst, const cairn_test_entries_t *l, size_t from,
                           size_t to, cairn_apply_stats_t *st, cairn_error_t *err) {
  cairn_buf_t *b = calloc(to > from ? to - from : 1, sizeof *b);
  if (b == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = from; i < to; i++)
    b[i - from] = (cairn_buf_t){l->e[i].data, l->e[i].len};
  int rc = cairn_store_apply(dst, b, to - from, st, err);
  free(b);
  return rc;
}

int cairn_test_sync(cairn_store_t *dst, cairn_store_t *src, const uint8_t *author,
                    cairn_error_t *err) {
  cairn_test_entries_t l;
  int rc = cairn_test_lacking(dst, src, author, &l);
  if (rc == 0)
    rc = cairn_test_apply_range(dst, &l, 0, l.n, NULL, err);
  cairn_test_entries_free(&l);
  return rc;
}

int cairn_test_grant_all(cairn_store_t *owner, cairn_store_t *const *members, size_t n,
                         const char *role, cairn_error_t *err) {
  uint8_t v[32];
  size_t len = strlen(role);
  cairn_change_t *c;
  int rc;
  if (len > 31)
    return CAIRN_EINVAL;
  v[0] = (uint8_t)(0xa0 | len); /* fixstr */
  memcpy(v + 1, role, len);
  if ((rc = cairn_change_begin(owner, &c)) != 0)
    return rc;
  for (size_t i = 0; i < n && rc == 0; i++) {
    char hex[2 * CAIRN_KEY_BYTES + 1];
    cairn_hex(cairn_store_key(members[i]), CAIRN_KEY_BYTES, hex);
    rc = cairn_change_put(c, "_member", hex, "role", v, len + 1, 0);
  }
  if (rc != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cairn_change_commit(c, NULL, err); /* frees c */
}

int cairn_test_network_keys(const char *owner, const char *title, cairn_test_key_t *keys,
                            const char *const *names, size_t n, cairn_store_t **out,
                            char **dir) {
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_change_t *c = NULL;
  int rc = cairn_test_store(owner, out, dir);
  if (rc == 0)
    rc = cairn_store_network_create(*out, title, net, NULL);
  for (size_t i = 0; i < n && rc == 0; i++) {
    cairn_test_key_init(&keys[i], NULL);
    memcpy(keys[i].network, net, CAIRN_KEY_BYTES);
    if ((rc = cairn_change_begin(*out, &c)) != 0)
      break;
    if ((rc = cairn_change_member(c, keys[i].pk, CAIRN_ROLE_EDITOR, names[i], NULL)) != 0) {
      cairn_change_abort(c);
      break;
    }
    rc = cairn_change_commit(c, NULL, NULL); /* frees c */
  }
  if (rc != 0 && *out != NULL) {
    cairn_close(*out);
    cairn_test_rmrf(*dir);
    free(*dir);
    *out = NULL;
    *dir = NULL;
  }
  return rc;
}
