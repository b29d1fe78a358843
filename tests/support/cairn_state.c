/*
 * cairn_state.c — a store's whole visible state as text (see cairn_test.h), so
 * that tests can say "these replicas agree" by comparing bytes: convergence,
 * merge cases and crash recovery all judge stores this way. No cmocka here.
 */
#define CAIRN_TEST_NO_CMOCKA
#include "cairn_test.h"

#include <stdlib.h>
#include <string.h>

/* The ids a walk of one type saw, to read their histories after it. */
typedef struct idlist {
  char (*id)[CAIRN_ID_MAX + 1];
  size_t n, cap;
} idlist_t;

typedef struct state_ctx {
  cairn_test_text_t *t;
  idlist_t ids;
  int rc;
} state_ctx_t;

static void text_stamp(cairn_test_text_t *t, const cairn_stamp_t *st) {
  cairn_test_text_printf(t, "%016llx:", (unsigned long long)st->hlc);
  cairn_test_text_hex(t, st->author, 8);
}

static int ids_push(idlist_t *l, const char *id, size_t len) {
  if (len > CAIRN_ID_MAX)
    return CAIRN_EINVAL;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char(*p)[CAIRN_ID_MAX + 1] = realloc(l->id, cap * sizeof *l->id);
    if (p == NULL)
      return CAIRN_ENOMEM;
    l->id = p;
    l->cap = cap;
  }
  memcpy(l->id[l->n], id, len);
  l->id[l->n++][len] = '\0';
  return 0;
}

static int state_rec_cb(const cairn_record_t *r, void *ud) {
  state_ctx_t *c = ud;
  cairn_record_iter_t it;
  cairn_record_field_t f;
  cairn_test_text_printf(c->t, "record %.*s/%.*s\n", (int)r->type_len, r->type,
                         (int)r->id_len, r->id);
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f)) {
    cairn_test_text_printf(c->t, "  %.*s = ", (int)f.name_len, f.name);
    cairn_test_text_hex(c->t, f.value, f.value_len);
    cairn_test_text_printf(c->t, " @");
    text_stamp(c->t, &f.stamp);
    cairn_test_text_printf(c->t, "\n");
  }
  c->rc = ids_push(&c->ids, r->id, r->id_len);
  return c->rc != 0;
}

static int state_hist_cb(const cairn_entry_t *e, const cairn_op_t *op, void *ud) {
  cairn_test_text_t *t = ud;
  cairn_test_text_printf(t, "  history ");
  cairn_test_text_hex(t, e->author, 8);
  cairn_test_text_printf(t, "#%llu ", (unsigned long long)e->seq);
  cairn_test_text_hex(t, op->raw, op->raw_len);
  cairn_test_text_printf(t, "\n");
  return 0;
}

static int state_conf_cb(const char *type, size_t tl, const char *id, size_t il,
                         const char *field, size_t fl, const cairn_head_t *h, size_t nh,
                         void *ud) {
  cairn_test_text_t *t = ud;
  cairn_test_text_printf(t, "conflict %.*s/%.*s.%.*s %zu heads\n", (int)tl, type, (int)il, id,
                         (int)fl, field, nh);
  for (size_t i = 0; i < nh; i++) {
    cairn_test_text_printf(t, "  head ");
    cairn_test_text_hex(t, h[i].value, h[i].value_len);
    cairn_test_text_printf(t, " @");
    text_stamp(t, &h[i].stamp);
    cairn_test_text_printf(t, "\n");
  }
  return 0;
}

static int state_head_cb(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                         const uint8_t hash[CAIRN_HASH_BYTES], void *ud) {
  cairn_test_text_t *t = ud;
  cairn_test_text_printf(t, "head ");
  cairn_test_text_hex(t, author, 8);
  cairn_test_text_printf(t, " %llu ", (unsigned long long)seq);
  cairn_test_text_hex(t, hash, CAIRN_HASH_BYTES);
  cairn_test_text_printf(t, "\n");
  return 0;
}

/* Records of one type, then (with history) each one's history. */
static int state_type(cairn_store_t *s, const char *type, unsigned flags,
                      cairn_test_text_t *out) {
  state_ctx_t c = {out, {0}, 0};
  int rc = cairn_list(s, type, NULL, 0, state_rec_cb, &c);
  if (rc == 0)
    rc = c.rc;
  for (size_t i = 0; rc == 0 && (flags & CAIRN_TEST_STATE_HISTORY) && i < c.ids.n; i++) {
    cairn_test_text_printf(out, "history %s/%s\n", type, c.ids.id[i]);
    rc = cairn_history(s, type, c.ids.id[i], state_hist_cb, out);
  }
  free(c.ids.id);
  return rc;
}

int cairn_test_state(cairn_store_t *s, const char *const *types, size_t ntypes,
                     unsigned flags, cairn_test_text_t *out) {
  int rc = 0;
  cairn_test_text_reset(out);
  cairn_test_text_printf(out, "%s", ""); /* out->p is a string even for an empty state */
  for (size_t i = 0; rc == 0 && i < ntypes; i++)
    rc = state_type(s, types[i], flags, out);
  if (rc == 0)
    rc = cairn_conflicts(s, state_conf_cb, out);
  if (rc == 0)
    rc = cairn_store_heads(s, state_head_cb, out);
  return rc != 0 ? rc : out->err;
}

typedef struct scan {
  const char *type, *id;
  size_t hits, redacted;
} scan_t;

static int scan_cb(const cairn_entry_t *e, void *ud) {
  scan_t *sc = ud;
  cairn_op_iter_t it;
  cairn_op_t op;
  cairn_op_iter_init(e, &it);
  while (cairn_op_next(&it, &op)) {
    if (op.kind == CAIRN_OP_REDACTED)
      sc->redacted++;
    else if ((op.kind == CAIRN_OP_PUT || op.kind == CAIRN_OP_DEL) &&
             op.type_len == strlen(sc->type) && memcmp(op.type, sc->type, op.type_len) == 0 &&
             op.id_len == strlen(sc->id) && memcmp(op.id, sc->id, op.id_len) == 0)
      sc->hits++;
  }
  return 0;
}

int cairn_test_log_scan(cairn_store_t *s, const char *type, const char *id, size_t *hits,
                        size_t *redacted) {
  scan_t sc = {type, id, 0, 0};
  int rc = cairn_store_log(s, scan_cb, &sc);
  *hits = sc.hits;
  if (redacted != NULL)
    *redacted = sc.redacted;
  return rc;
}
