/*
 * purge.c — erasing a record and its history (docs/design.md, "Purge").
 *
 * Each op on a purged record is replaced, in every logged entry, by its
 * redaction [0, op_hash]: ops_root still matches, so chains and signatures stay
 * valid. The record, its conflicts, pending rows, history rows and index rows are
 * deleted and a marker in `purged` makes entries that arrive later be redacted on
 * arrival. After
 * the transaction the store file is compacted, because LMDB leaves freed pages as
 * they were.
 */
#include <msgpack.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

int cairn__is_purged(MDB_txn *txn, cairn_store_t *s, const char *type, size_t tlen,
                     const char *id, size_t ilen, bool *purged) {
  keybuf_t k;
  MDB_val key, val;
  int rc = cairn__key_record(&k, type, tlen, id, ilen);
  if (rc != 0)
    return rc;
  key = mval(k.b, k.len);
  rc = mdb_get(txn, s->dbi[DB_PURGED], &key, &val);
  *purged = rc == 0;
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

/* Pack the entry's ops with every op on a purged record redacted. */
static int pack_redacted(MDB_txn *txn, cairn_store_t *s, const cairn_entry_t *e,
                         msgpack_sbuffer *sb, bool *changed) {
  msgpack_packer pk;
  cairn_op_iter_t it;
  cairn_op_t op;
  uint8_t h[CAIRN_HASH_BYTES];
  bool purged;
  int rc = 0;
  *changed = false;
  msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
  if (msgpack_pack_array(&pk, e->op_count) != 0)
    return CAIRN_ENOMEM;
  cairn_op_iter_init(e, &it);
  while (cairn_op_next(&it, &op)) {
    purged = false;
    if ((op.kind == CAIRN_OP_PUT || op.kind == CAIRN_OP_DEL) &&
        (rc = cairn__is_purged(txn, s, op.type, op.type_len, op.id, op.id_len, &purged)) != 0)
      return rc;
    if (purged) {
      cairn__op_hash(op.raw, op.raw_len, h);
      rc = msgpack_pack_array(&pk, 2) | msgpack_pack_uint8(&pk, CAIRN_OP_REDACTED) |
           msgpack_pack_bin_with_body(&pk, h, sizeof h);
      *changed = true;
    } else {
      rc = msgpack_sbuffer_write(sb, (const char *)op.raw, op.raw_len);
    }
    if (rc != 0)
      return CAIRN_ENOMEM;
  }
  return 0;
}

int cairn__entry_redact_purged(MDB_txn *txn, cairn_store_t *s, const uint8_t *author,
                               uint64_t seq) {
  uint8_t kb[40], *out = NULL, *copy = NULL;
  size_t out_len;
  MDB_val k, v;
  cairn_entry_t e;
  msgpack_sbuffer sb;
  bool changed;
  int rc;
  cairn__key_log(kb, author, seq);
  k = mval(kb, sizeof kb);
  if ((rc = mdb_get(txn, s->dbi[DB_LOG], &k, &v)) != 0)
    return rc == MDB_NOTFOUND ? CAIRN_ECORRUPT : cairn__mdb_err(rc);
  /* copy: the write below may reuse the page the view points into */
  if ((copy = malloc(v.mv_size)) == NULL)
    return CAIRN_ENOMEM;
  memcpy(copy, v.mv_data, v.mv_size);
  if (cairn_entry_decode(copy, v.mv_size, SIZE_MAX, &e, NULL) != 0) {
    free(copy);
    return CAIRN_ECORRUPT;
  }
  msgpack_sbuffer_init(&sb);
  rc = pack_redacted(txn, s, &e, &sb, &changed);
  if (rc == 0 && changed &&
      (rc = cairn__entry_with_ops(&e, (const uint8_t *)sb.data, sb.size, &out, &out_len)) == 0) {
    v = mval(out, out_len);
    rc = cairn__mdb_err(mdb_put(txn, s->dbi[DB_LOG], &k, &v, 0));
  }
  free(out);
  free(copy);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

int cairn__rows_del_prefix(MDB_txn *txn, MDB_dbi dbi, const keybuf_t *prefix) {
  MDB_cursor *cur;
  MDB_val k = mval(prefix->b, prefix->len), v;
  int rc = mdb_cursor_open(txn, dbi, &cur);
  if (rc != 0)
    return cairn__mdb_err(rc);
  for (;;) {
    k = mval(prefix->b, prefix->len);
    if ((rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) != 0)
      break;
    if (k.mv_size < prefix->len || memcmp(k.mv_data, prefix->b, prefix->len) != 0)
      break;
    if ((rc = mdb_cursor_del(cur, 0)) != 0)
      break;
  }
  mdb_cursor_close(cur);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}

/* Redact the ops on the record in every entry its history rows name. */
static int redact_history(MDB_txn *txn, cairn_store_t *s, const keybuf_t *prefix) {
  MDB_cursor *cur;
  MDB_val k = mval(prefix->b, prefix->len), v;
  uint8_t (*refs)[40] = NULL;
  size_t n = 0, cap = 0;
  int rc = mdb_cursor_open(txn, s->dbi[DB_HISTORY], &cur);
  if (rc != 0)
    return cairn__mdb_err(rc);
  for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
       rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size != prefix->len + 8 + CAIRN_KEY_BYTES ||
        memcmp(k.mv_data, prefix->b, prefix->len) != 0 || v.mv_size != 8)
      break;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      void *nr = realloc(refs, cap * sizeof *refs);
      if (nr == NULL) {
        rc = ENOMEM;
        break;
      }
      refs = nr;
    }
    cairn__key_log(refs[n++], (const uint8_t *)k.mv_data + prefix->len + 8,
                   cairn_get_be64(v.mv_data));
  }
  mdb_cursor_close(cur);
  rc = rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = cairn__entry_redact_purged(txn, s, refs[i], cairn_get_be64(refs[i] + CAIRN_KEY_BYTES));
  free(refs);
  return rc;
}

/* Remove the record's index rows. */
static int unindex(MDB_txn *txn, cairn_store_t *s, const keybuf_t *rk) {
  rec_t r = {0};
  ixkeys_t rows, none = {.n = 0};
  int rc = cairn__rec_load(txn, s, NULL, rk, &r);
  if (rc == 0) {
    cairn__index_keys(rk, &r, &rows);
    rc = cairn__index_update(txn, s, NULL, &rows, &none);
  }
  cairn__rec_free(&r);
  return rc;
}

int cairn__purge_record(MDB_txn *txn, cairn_store_t *s, const cairn_op_t *op,
                        const cairn_stamp_t *st) {
  keybuf_t rk, prefix;
  uint8_t mark[8 + CAIRN_KEY_BYTES];
  MDB_val k, v;
  int rc = cairn__key_record(&rk, op->type, op->type_len, op->id, op->id_len);
  if (rc != 0)
    return rc;
  cairn_put_be64(mark, st->hlc);
  memcpy(mark + 8, st->author, CAIRN_KEY_BYTES);
  k = mval(rk.b, rk.len);
  v = mval(mark, sizeof mark);
  rc = mdb_put(txn, s->dbi[DB_PURGED], &k, &v, MDB_NOOVERWRITE);
  if (rc == MDB_KEYEXIST)
    return 0; /* purged before: nothing of it is left */
  if (rc != 0)
    return cairn__mdb_err(rc);
  prefix = rk;
  prefix.b[prefix.len++] = 0;
  if ((rc = redact_history(txn, s, &prefix)) != 0 ||
      (rc = cairn__rows_del_prefix(txn, s->dbi[DB_HISTORY], &prefix)) != 0 ||
      (rc = cairn__rows_del_prefix(txn, s->dbi[DB_CONFLICTS], &prefix)) != 0 ||
      (rc = cairn__rows_del_prefix(txn, s->dbi[DB_PENDING], &prefix)) != 0)
    return rc;
  if ((rc = unindex(txn, s, &rk)) != 0)
    return rc;
  rc = mdb_del(txn, s->dbi[DB_RECORDS], &k, NULL);
  return rc == 0 || rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
}
