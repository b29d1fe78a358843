/*
 * change.c — local changes (change.h): many puts and dels become one signed
 * entry (or, split by the size limit, several consecutive ones), checked like a
 * received entry and committed durably in one transaction. Also the network's
 * genesis.
 */
#include <msgpack.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "schema.h"
#include "store_internal.h"

typedef struct chg_field {
  char *name;
  uint8_t *value;
  size_t len;
  int resolve;
} chg_field_t;

typedef struct chg_op {
  cairn_op_kind_t kind;
  char *type;
  char *id;
  chg_field_t *f;
  size_t n;
  bool keep; /* a put that may have no field: it keeps the record */
} chg_op_t;

struct cairn_change {
  cairn_store_t *s;
  chg_op_t *ops;
  size_t n, cap;
  size_t *slot; /* open addressing over (type, id): op index + 1, 0 empty */
  size_t slot_mask;
};

static void op_clear_fields(chg_op_t *op) {
  for (size_t i = 0; i < op->n; i++) {
    free(op->f[i].name);
    free(op->f[i].value);
  }
  free(op->f);
  op->f = NULL;
  op->n = 0;
  op->keep = false;
}

void cairn_change_abort(cairn_change_t *c) {
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n; i++) {
    op_clear_fields(&c->ops[i]);
    free(c->ops[i].type);
    free(c->ops[i].id);
  }
  free(c->ops);
  free(c->slot);
  free(c);
}

cairn_store_t *cairn_change_store(const cairn_change_t *c) {
  return c->s;
}

int cairn_change_begin(cairn_store_t *s, cairn_change_t **out) {
  cairn_change_t *c = calloc(1, sizeof *c);
  if (c == NULL)
    return CAIRN_ENOMEM;
  c->s = s;
  *out = c;
  return 0;
}

static bool type_ok(const char *type) {
  return type != NULL && cairn__name_ok(type, strlen(type), CAIRN_TYPE_MAX);
}

static bool id_ok(const char *id) {
  return id != NULL && cairn__name_ok(id, strlen(id), CAIRN_ID_MAX);
}

static size_t target_hash(const char *type, const char *id) {
  uint64_t h = 1469598103934665603u; /* FNV-1a over type \0 id */
  for (const char *p = type; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211u;
  h *= 1099511628211u;
  for (const char *p = id; *p; p++)
    h = (h ^ (uint8_t)*p) * 1099511628211u;
  return (size_t)(h ^ h >> 29);
}

/* The slot of (type, id): empty, or holding its op. */
static size_t *target_slot(cairn_change_t *c, const char *type, const char *id) {
  for (size_t k = target_hash(type, id) & c->slot_mask;; k = (k + 1) & c->slot_mask) {
    chg_op_t *op = c->slot[k] ? &c->ops[c->slot[k] - 1] : NULL;
    if (op == NULL || (strcmp(op->type, type) == 0 && strcmp(op->id, id) == 0))
      return &c->slot[k];
  }
}

/* Room for one more op, in the array and in the index. */
static int ops_reserve(cairn_change_t *c) {
  if (c->n == c->cap) {
    size_t cap = c->cap ? 2 * c->cap : 8;
    chg_op_t *ops = realloc(c->ops, cap * sizeof *ops);
    if (ops == NULL)
      return CAIRN_ENOMEM;
    c->ops = ops;
    c->cap = cap;
  }
  if (c->slot == NULL || 2 * (c->n + 1) > c->slot_mask + 1) {
    size_t size = c->slot ? 2 * (c->slot_mask + 1) : 16;
    size_t *slot = calloc(size, sizeof *slot);
    if (slot == NULL)
      return CAIRN_ENOMEM;
    free(c->slot);
    c->slot = slot;
    c->slot_mask = size - 1;
    for (size_t i = 0; i < c->n; i++)
      *target_slot(c, c->ops[i].type, c->ops[i].id) = i + 1;
  }
  return 0;
}

/* The op on (type, id) in this change, made with kind if absent. A put after a
 * del (or the reverse) replaces the earlier op: one op per record per entry. */
static int find_op(cairn_change_t *c, const char *type, const char *id, cairn_op_kind_t kind,
                   chg_op_t **out) {
  size_t *slot = NULL;
  chg_op_t *last = c->n > 0 ? &c->ops[c->n - 1] : NULL;
  int rc;
  /* fields of one record usually come one after another: no lookup then */
  if (last == NULL || strcmp(last->id, id) != 0 || strcmp(last->type, type) != 0) {
    if ((rc = ops_reserve(c)) != 0)
      return rc;
    slot = target_slot(c, type, id);
    last = *slot != 0 ? &c->ops[*slot - 1] : NULL;
  }
  if (last != NULL) {
    chg_op_t *op = last;
    if (op->kind != kind || kind != CAIRN_OP_PUT)
      op_clear_fields(op);
    op->kind = kind;
    *out = op;
    return 0;
  }
  chg_op_t *op = &c->ops[c->n];
  memset(op, 0, sizeof *op);
  op->kind = kind;
  op->type = strdup(type);
  op->id = strdup(id);
  if (op->type == NULL || op->id == NULL) {
    free(op->type);
    free(op->id);
    return CAIRN_ENOMEM;
  }
  *slot = ++c->n;
  *out = op;
  return 0;
}

int cairn_change_put(cairn_change_t *c, const char *type, const char *id, const char *field,
                     const uint8_t *value, size_t value_len, int resolve) {
  chg_op_t *op;
  chg_field_t *f = NULL;
  int rc;
  if (!type_ok(type) || !id_ok(id) || field == NULL ||
      !cairn__field_name_ok(field, strlen(field)) || value == NULL ||
      cairn_mp_validate(value, value_len, CAIRN_VALUE_DEPTH_MAX) != 0)
    return CAIRN_EINVAL;
  if ((rc = find_op(c, type, id, CAIRN_OP_PUT, &op)) != 0)
    return rc;
  for (size_t i = 0; i < op->n; i++)
    if (strcmp(op->f[i].name, field) == 0)
      f = &op->f[i];
  /* the value first, so that a failure leaves no field without one */
  uint8_t *v = malloc(value_len ? value_len : 1);
  if (v == NULL)
    return CAIRN_ENOMEM;
  memcpy(v, value, value_len);
  if (f == NULL) {
    chg_field_t *nf = realloc(op->f, (op->n + 1) * sizeof *nf);
    char *name = nf != NULL ? strdup(field) : NULL;
    if (nf != NULL)
      op->f = nf;
    if (name == NULL) {
      free(v);
      return CAIRN_ENOMEM;
    }
    f = &op->f[op->n++];
    f->name = name;
    f->value = NULL;
  }
  free(f->value);
  f->value = v;
  f->len = value_len;
  f->resolve = resolve;
  return 0;
}

static int change_target(cairn_change_t *c, const char *type, const char *id,
                         cairn_op_kind_t kind) {
  chg_op_t *op;
  if (!type_ok(type) || !id_ok(id))
    return CAIRN_EINVAL;
  return find_op(c, type, id, kind, &op);
}

int cairn_change_del(cairn_change_t *c, const char *type, const char *id) {
  return change_target(c, type, id, CAIRN_OP_DEL);
}

int cairn_change_purge(cairn_change_t *c, const char *type, const char *id) {
  return change_target(c, type, id, CAIRN_OP_PURGE);
}

int cairn_change_keep(cairn_change_t *c, const char *type, const char *id) {
  chg_op_t *op;
  if (!type_ok(type) || !id_ok(id))
    return CAIRN_EINVAL;
  int rc = find_op(c, type, id, CAIRN_OP_PUT, &op);
  if (rc == 0)
    op->keep = true;
  return rc;
}

/* ---- packing ---- */

static int pack_stamps(msgpack_packer *pk, const cairn_stamp_t *st, size_t n) {
  int rc = msgpack_pack_array(pk, n);
  for (size_t i = 0; i < n; i++) {
    rc |= msgpack_pack_array(pk, 2);
    rc |= msgpack_pack_uint64(pk, st[i].hlc);
    rc |= msgpack_pack_bin_with_body(pk, st[i].author, CAIRN_KEY_BYTES);
  }
  return rc ? CAIRN_ENOMEM : 0;
}

/* One field: name -> [value, base], base read from what this replica shows. */
static int pack_field(MDB_txn *txn, cairn_store_t *s, msgpack_packer *pk, const chg_op_t *op,
                      const chg_field_t *f) {
  cairn_stamp_t *heads;
  size_t n;
  /* a plain put saw the visible value only; a resolving one every head */
  int rc = cairn__field_heads(txn, s, op->type, op->id, f->name, f->resolve != 0, &heads, &n);
  if (rc != 0)
    return rc;
  rc = msgpack_pack_str_with_body(pk, f->name, strlen(f->name)) | msgpack_pack_array(pk, 2);
  rc |= msgpack_sbuffer_write(pk->data, (const char *)f->value, f->len);
  rc = rc ? CAIRN_ENOMEM : pack_stamps(pk, heads, n);
  free(heads);
  return rc;
}

static int field_cmp(const void *a, const void *b) {
  return strcmp(((const chg_field_t *)a)->name, ((const chg_field_t *)b)->name);
}

/* Fields go out in ascending bytewise order of name, as decode demands. A del
 * carries what it saw of the record, a put the dels it saw (docs/design.md,
 * "Merge"). */
static int pack_op(MDB_txn *txn, cairn_store_t *s, msgpack_packer *pk, chg_op_t *op,
                   cairn_error_t *err) {
  cairn_stamp_t seen[CAIRN_SEEN_MAX];
  uint32_t nseen = 0;
  bool put = op->kind == CAIRN_OP_PUT;
  int rc = 0;
  if ((put || op->kind == CAIRN_OP_DEL) &&
      (rc = cairn__record_seen(txn, s, op->type, op->id, put, seen, &nseen)) != 0)
    return rc;
  if (put && op->n == 0 && nseen == 0)
    return cairn__error(err, CAIRN_EINVAL,
                        "%s %s has no delete in effect here: nothing to keep", op->type,
                        op->id);
  rc = msgpack_pack_array(pk, put ? 4u + (nseen > 0) : op->kind == CAIRN_OP_DEL ? 4 : 3);
  rc |= msgpack_pack_uint8(pk, (uint8_t)op->kind);
  rc |= msgpack_pack_str_with_body(pk, op->type, strlen(op->type));
  rc |= msgpack_pack_str_with_body(pk, op->id, strlen(op->id));
  if (rc != 0)
    return CAIRN_ENOMEM;
  if (op->kind == CAIRN_OP_DEL)
    return pack_stamps(pk, seen, nseen);
  if (!put)
    return 0;
  if (msgpack_pack_map(pk, op->n) != 0)
    return CAIRN_ENOMEM;
  cairn_sort(op->f, op->n, sizeof *op->f, field_cmp);
  for (size_t i = 0; i < op->n; i++)
    if ((rc = pack_field(txn, s, pk, op, &op->f[i])) != 0)
      return rc;
  return nseen > 0 ? pack_stamps(pk, seen, nseen) : 0;
}

/* Whether the change makes record (type, id): a reference to it is good
 * (validate.c). */
static bool change_makes(void *ud, const char *type, const char *id, size_t ilen) {
  cairn_change_t *c = ud;
  char buf[CAIRN_ID_MAX + 1];
  size_t *slot;
  if (ilen > CAIRN_ID_MAX || memchr(id, '\0', ilen) != NULL || c->slot == NULL)
    return false;
  memcpy(buf, id, ilen);
  buf[ilen] = '\0';
  slot = target_slot(c, type, buf);
  return *slot != 0 && c->ops[*slot - 1].kind == CAIRN_OP_PUT;
}

/* Check a put against the schema (loaded once per commit, on the first put
 * that needs it): where a person types, before anything is signed. */
static int check_put(MDB_txn *txn, cairn_change_t *c, const chg_op_t *op, cairn_schema_t **sc,
                     cairn_error_t *err) {
  const char **names;
  const uint8_t **values;
  size_t *lens;
  int rc;
  if (op->type[0] == '_' && strcmp(op->type, CAIRN_SCHEMA_TYPE) != 0)
    return 0;
  if (*sc == NULL && (rc = cairn__schema_cached(txn, c->s, sc)) != 0)
    return rc;
  names = calloc(op->n + 1, sizeof *names);
  values = calloc(op->n + 1, sizeof *values);
  lens = calloc(op->n + 1, sizeof *lens);
  if (names == NULL || values == NULL || lens == NULL) {
    rc = CAIRN_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < op->n; i++) {
    names[i] = op->f[i].name;
    values[i] = op->f[i].value;
    lens[i] = op->f[i].len;
  }
  rc = cairn__schema_check_put(txn, c->s, *sc, op->type, op->id, names, values, lens, op->n,
                               change_makes, c, err);
done:
  free(names);
  free(values);
  free(lens);
  return rc;
}

/* ---- commit ---- */

/* An entry's bytes besides its ops: the header (at most 164 bytes with its bin
 * prefix), the signature (66) and the outer array, rounded up. */
#define ENTRY_OVERHEAD_MAX 256

/* One commit of a change, run by cairn__txn_write (again after the map grew). */
typedef struct commit {
  cairn_change_t *c;
  const uint8_t *sk; /* signs, its public key at sk + 32: the author */
  bool split;        /* the ops may become several entries */
  bool dry_run;      /* check and sign everything, then write nothing */
  bool checked;      /* dry run: everything passed (the abort is ours) */
  bool purged;       /* a purge was applied: compact the store after */
  cairn_schema_t *sc;
  cairn_commit_info_t info;
  cairn_error_t *err;
} commit_t;

/* Sign ops (count ops packed one after another, body_len bytes) as the author's
 * next entry and apply it inside txn. first: the index of its first op. */
static int sign_apply(MDB_txn *txn, commit_t *k, const uint8_t *body, size_t body_len,
                      size_t count, size_t first) {
  cairn_store_t *s = k->c->s;
  msgpack_sbuffer ops;
  msgpack_packer pk;
  head_t h;
  uint8_t *entry = NULL;
  size_t len;
  bool purged = false;
  int rc;
  msgpack_sbuffer_init(&ops);
  msgpack_packer_init(&pk, &ops, msgpack_sbuffer_write);
  if (msgpack_pack_array(&pk, count) != 0 ||
      msgpack_sbuffer_write(&ops, (const char *)body, body_len) != 0) {
    rc = CAIRN_ENOMEM;
    goto done;
  }
  if ((rc = cairn__head_get(txn, s, k->sk + 32, &h)) != 0)
    goto done;
  uint64_t hlc = cairn__now_corrected(s) << 16;
  if (hlc <= s->hlc)
    hlc = s->hlc + 1;
  if (hlc <= h.hlc)
    hlc = h.hlc + 1;
  rc = cairn_entry_build(k->sk, s->network, h.seq + 1, h.seq ? h.hash : NULL, hlc,
                         (const uint8_t *)ops.data, ops.size, &entry, &len);
  if (rc != 0)
    goto done;
  if (len > s->opts.max_entry) {
    const chg_op_t *op = &k->c->ops[first];
    if (count == 1 && k->split) {
      k->info.failed_op = first;
      rc = cairn__error(k->err, CAIRN_ETOOBIG,
                        "%s %s alone makes an entry of %zu bytes; the limit is %zu", op->type,
                        op->id, len, s->opts.max_entry);
    } else {
      rc = cairn__error(k->err, CAIRN_ETOOBIG,
                        "the change makes an entry of %zu bytes; the limit is %zu", len,
                        s->opts.max_entry);
    }
    goto done;
  }
  if ((rc = cairn__apply_local(txn, s, entry, len, &purged, k->err)) != 0) {
    k->info.failed_op = first; /* the entry's: a role, a limit */
    goto done;
  }
  k->purged |= purged;
  if (k->info.entries++ == 0)
    k->info.first_seq = h.seq + 1;
  k->info.last_seq = h.seq + 1;
  k->info.bytes += len;
done:
  free(entry);
  msgpack_sbuffer_destroy(&ops);
  return rc;
}

/* What an op must pass before it is packed: a put has fields, the record was
 * never purged, the schema. */
static int op_precheck(MDB_txn *txn, commit_t *k, const chg_op_t *op, bool any_purged) {
  bool purged = false;
  int rc;
  if (op->kind == CAIRN_OP_PUT && op->n == 0 && !op->keep)
    return cairn__error(k->err, CAIRN_EINVAL, "a put needs at least one field");
  if (any_purged && (rc = cairn__is_purged(txn, k->c->s, op->type, strlen(op->type), op->id,
                                           strlen(op->id), &purged)) != 0)
    return rc;
  if (purged)
    return cairn__error(k->err, CAIRN_EPURGED, "%s %s was purged; its id cannot be used again",
                        op->type, op->id);
  return op->kind == CAIRN_OP_PUT ? check_put(txn, k->c, op, &k->sc, k->err) : 0;
}

/* Move the last op packed (from mark on) out of body, into *tail. */
static int take_tail(msgpack_sbuffer *body, size_t mark, uint8_t **tail, size_t *len) {
  *len = body->size - mark;
  if ((*tail = malloc(*len ? *len : 1)) == NULL)
    return CAIRN_ENOMEM;
  memcpy(*tail, body->data + mark, *len);
  body->size = mark;
  return 0;
}

/* Check, pack, sign and apply every op of the change: one entry, or (split) as
 * many as the size limit asks, each holding whole ops in order. Each op's
 * base is read before any entry of the change is applied; ops touch distinct
 * records, so applying the earlier entries changes no later op's base. */
static int commit_ops(MDB_txn *txn, commit_t *k) {
  cairn_change_t *c = k->c;
  size_t budget = k->c->s->opts.max_entry, count = 0, first = 0;
  msgpack_sbuffer body;
  msgpack_packer pk;
  MDB_stat ps;
  int rc;
  budget = budget > ENTRY_OVERHEAD_MAX + 5 ? budget - ENTRY_OVERHEAD_MAX - 5 : 1;
  msgpack_sbuffer_init(&body);
  msgpack_packer_init(&pk, &body, msgpack_sbuffer_write);
  /* no record was ever purged (the usual case): no lookups */
  if ((rc = mdb_stat(txn, c->s->dbi[DB_PURGED], &ps)) != 0) {
    rc = cairn__mdb_err(rc);
    goto done;
  }
  for (size_t i = 0; i < c->n; i++) {
    size_t mark = body.size;
    if ((rc = op_precheck(txn, k, &c->ops[i], ps.ms_entries > 0)) != 0 ||
        (rc = pack_op(txn, c->s, &pk, &c->ops[i], k->err)) != 0) {
      k->info.failed_op = i;
      goto done;
    }
    if (k->split && count > 0 && body.size > budget) {
      uint8_t *tail;
      size_t tail_len;
      if ((rc = take_tail(&body, mark, &tail, &tail_len)) != 0)
        goto done;
      rc = sign_apply(txn, k, (const uint8_t *)body.data, body.size, count, first);
      body.size = 0;
      if (rc == 0 && msgpack_sbuffer_write(&body, (const char *)tail, tail_len) != 0)
        rc = CAIRN_ENOMEM;
      free(tail);
      if (rc != 0)
        goto done;
      count = 0;
      first = i;
    }
    count++;
  }
  rc = sign_apply(txn, k, (const uint8_t *)body.data, body.size, count, first);
done:
  msgpack_sbuffer_destroy(&body);
  return rc;
}

static int commit_fn(MDB_txn *txn, void *ud) {
  commit_t *k = ud;
  int rc;
  memset(&k->info, 0, sizeof k->info);
  k->info.failed_op = SIZE_MAX;
  k->purged = false;
  cairn_schema_free(k->sc);
  k->sc = NULL;
  rc = commit_ops(txn, k);
  if (rc == 0 && k->dry_run) {
    k->checked = true;
    return CAIRN_ECANCELED; /* everything passed: abort, nothing is written */
  }
  return rc;
}

/* Run the commit in a durable transaction (growing the map when it is full). */
static int commit_run(commit_t *k) {
  cairn_store_t *s = k->c->s;
  int rc = cairn__txn_write(s, commit_fn, k);
  cairn_schema_free(k->sc);
  k->sc = NULL;
  if (rc == CAIRN_ECANCELED && k->checked)
    return 0;
  if (rc != 0)
    return k->err && k->err->code == rc
               ? rc
               : cairn__error(k->err, rc, "cannot commit the change: %s", cairn_strerror(rc));
  if (k->purged && (rc = cairn__store_compact(s)) != 0)
    return cairn__error(k->err, rc, "purged, but compacting the store failed: %s",
                        cairn_strerror(rc));
  return 0;
}

/* Commit c signed with sk; c is freed whatever the result. */
static int commit_change(cairn_change_t *c, const uint8_t *sk, bool split, bool dry_run,
                         cairn_commit_info_t *info, cairn_error_t *err) {
  commit_t k = {c, sk, split, dry_run, false, false, NULL, {0, 0, 0, 0, SIZE_MAX}, err};
  int rc;
  if (!c->s->has_network)
    rc = cairn__error(err, CAIRN_ENONETWORK,
                      "this store has no network: create one with `cairn network create TITLE`, "
                      "join one with `cairn join CODE`, or apply a bundle from the network");
  else if (c->n == 0)
    rc = cairn__error(err, CAIRN_EINVAL, "the change is empty");
  else
    rc = commit_run(&k);
  if (info != NULL)
    *info = k.info;
  cairn_change_abort(c);
  return rc;
}

int cairn_change_commit_as(cairn_change_t *c, const uint8_t sk[CAIRN_SECRET_BYTES],
                           uint64_t *seq, cairn_error_t *err) {
  cairn_commit_info_t info;
  int rc = commit_change(c, sk, false, false, &info, err);
  if (rc == 0 && seq != NULL)
    *seq = info.last_seq;
  return rc;
}

int cairn_change_commit(cairn_change_t *c, uint64_t *seq, cairn_error_t *err) {
  return cairn_change_commit_as(c, c->s->sk, seq, err);
}

int cairn_change_commit_split(cairn_change_t *c, int dry_run, cairn_commit_info_t *info,
                              cairn_error_t *err) {
  return commit_change(c, c->s->sk, true, dry_run != 0, info, err);
}

/* ---- genesis ---- */

/* The genesis: the `_network` record (its nonce and title) and this device's
 * `_member` record as owner, as one change. */
static int genesis_change(cairn_store_t *s, const char *title, const uint8_t *nonce,
                          cairn_change_t **out) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  uint8_t bin[2 + NONCE_BYTES] = {0xc4, NONCE_BYTES}; /* bin 8 */
  cairn_change_t *c;
  msgpack_sbuffer b;
  msgpack_packer pk;
  int rc = cairn_change_begin(s, &c);
  if (rc != 0)
    return rc;
  memcpy(bin + 2, nonce, NONCE_BYTES);
  cairn_hex(s->network, CAIRN_KEY_BYTES, id);
  msgpack_sbuffer_init(&b);
  msgpack_packer_init(&pk, &b, msgpack_sbuffer_write);
  rc = msgpack_pack_str_with_body(&pk, title, strlen(title)) != 0 ? CAIRN_ENOMEM : 0;
  if (rc == 0 && (rc = cairn_change_put(c, NETWORK_TYPE, id, "nonce", bin, sizeof bin, 0)) == 0 &&
      (rc = cairn_change_put(c, NETWORK_TYPE, id, "title", (const uint8_t *)b.data, b.size,
                             0)) == 0)
    rc = cairn_change_member(c, cairn_store_key(s), CAIRN_ROLE_OWNER,
                             cairn_store_name(s)[0] ? cairn_store_name(s) : NULL, NULL);
  msgpack_sbuffer_destroy(&b);
  if (rc != 0) {
    cairn_change_abort(c);
    return rc;
  }
  *out = c;
  return 0;
}

int cairn_store_network_create(cairn_store_t *s, const char *title,
                               uint8_t out[CAIRN_KEY_BYTES], cairn_error_t *err) {
  uint8_t nonce[NONCE_BYTES];
  crypto_generichash_state st;
  cairn_change_t *c;
  int rc;
  if (s->has_network)
    return cairn__error(err, CAIRN_EHASNETWORK, "this store already belongs to a network");
  if (title == NULL || title[0] == '\0' || strlen(title) > 1000)
    return cairn__error(err, CAIRN_EINVAL, "a network title of 1 to 1000 bytes is required");
  randombytes_buf(nonce, sizeof nonce);
  crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
  crypto_generichash_update(&st, (const uint8_t *)NETWORK_LABEL, strlen(NETWORK_LABEL));
  crypto_generichash_update(&st, cairn_store_key(s), CAIRN_KEY_BYTES);
  crypto_generichash_update(&st, nonce, NONCE_BYTES);
  crypto_generichash_final(&st, s->network, CAIRN_HASH_BYTES);
  if ((rc = genesis_change(s, title, nonce, &c)) != 0)
    return cairn__error(err, rc, "cannot make the network's first entry: %s",
                        cairn_strerror(rc));
  /* has_network stays false: the genesis is adopted as a received one would be */
  commit_t k = {c, s->sk, false, false, false, false, NULL, {0, 0, 0, 0, SIZE_MAX}, err};
  rc = commit_run(&k);
  cairn_change_abort(c);
  if (rc != 0)
    return rc;
  memcpy(out, s->network, CAIRN_KEY_BYTES);
  return 0;
}

/* ---- signing taken-back entries again ---- */

/* A name from an entry (len bytes, checked at decode) as a C string. */
static void cstr(char *out, size_t cap, const char *p, size_t len) {
  size_t n = len < cap - 1 ? len : cap - 1;
  memcpy(out, p, n);
  out[n] = '\0';
}

/* One taken entry's ops as a new change (redacted ops are gone for good). */
static int resign_one(cairn_store_t *s, const cairn_entry_t *e, bool *signed_one,
                      cairn_error_t *err) {
  char type[CAIRN_TYPE_MAX + 1], id[CAIRN_ID_MAX + 1], field[CAIRN_FIELD_MAX + 1];
  cairn_change_t *c;
  cairn_op_iter_t it;
  cairn_op_t op;
  int rc = cairn_change_begin(s, &c);
  *signed_one = false;
  if (rc != 0)
    return cairn__error(err, rc, "out of memory");
  cairn_op_iter_init(e, &it);
  while (rc == 0 && cairn_op_next(&it, &op)) {
    if (op.kind == CAIRN_OP_REDACTED)
      continue;
    cstr(type, sizeof type, op.type, op.type_len);
    cstr(id, sizeof id, op.id, op.id_len);
    if (op.kind == CAIRN_OP_DEL) {
      rc = cairn_change_del(c, type, id);
    } else if (op.kind == CAIRN_OP_PURGE) {
      rc = cairn_change_purge(c, type, id);
    } else if (op.nfields == 0) {
      rc = cairn_change_keep(c, type, id);
    } else {
      cairn_field_iter_t fi;
      cairn_field_t f;
      cairn_field_iter_init(&op, &fi);
      while (rc == 0 && cairn_field_next(&fi, &f)) {
        cstr(field, sizeof field, f.name, f.name_len);
        rc = cairn_change_put(c, type, id, field, f.value, f.value_len, 0);
      }
    }
  }
  if (rc != 0) {
    cairn_change_abort(c);
    return cairn__error(err, rc, "cannot sign again the change of seq %llu: %s",
                        (unsigned long long)e->seq, cairn_strerror(rc));
  }
  if (c->n == 0) { /* nothing but redactions */
    cairn_change_abort(c);
    return 0;
  }
  if ((rc = cairn_change_commit(c, NULL, err)) == 0)
    *signed_one = true;
  return rc;
}

/* Keep in DIR/taken-back.entries only the taken entries from the ith on (the
 * ones before are signed again). Best effort: on failure the whole file stays,
 * and signing it again later repeats edits rather than losing any. */
static void keep_rest(cairn_store_t *s, const cairn_taken_t *t, size_t i) {
  size_t n = cairn_taken_count(t) - i;
  const uint8_t **parts = malloc((n ? n : 1) * sizeof *parts);
  size_t *lens = malloc((n ? n : 1) * sizeof *lens);
  if (parts != NULL && lens != NULL) {
    for (size_t k = 0; k < n; k++)
      parts[k] = cairn_taken_entry(t, i + k, &lens[k]);
    (void)cairn__side_file_write(s, TAKEN_FILE, parts, lens, n);
  }
  free(parts);
  free(lens);
}

int cairn_store_resign(cairn_store_t *s, const cairn_taken_t *t, size_t *count,
                       cairn_error_t *err) {
  size_t len;
  *count = 0;
  for (size_t i = 0; i < cairn_taken_count(t); i++) {
    cairn_entry_t e;
    bool one;
    const uint8_t *p = cairn_taken_entry(t, i, &len);
    int rc;
    uint8_t mine[CAIRN_HASH_BYTES], held[CAIRN_HASH_BYTES];
    if (cairn_entry_decode(p, len, SIZE_MAX, &e, NULL) != 0) {
      keep_rest(s, t, i); /* those before are signed: not again */
      return cairn__error(err, CAIRN_ECORRUPT, "a change taken back is damaged");
    }
    /* the very entry came back (the relay held it too): nothing to sign again */
    cairn_entry_hash(&e, mine);
    if (cairn_store_entry_hash(s, e.author, e.seq, held) == 0 &&
        memcmp(mine, held, CAIRN_HASH_BYTES) == 0)
      continue;
    rc = resign_one(s, &e, &one, err);
    /* this key may not make that change (its role changed): set aside */
    if ((rc == CAIRN_EFORBIDDEN || rc == CAIRN_ENOTMEMBER) &&
        cairn__side_file_append(s, FORKED_FILE, p, len) == 0)
      continue;
    if (rc != 0) {
      keep_rest(s, t, i); /* signed again later from DIR/taken-back.entries */
      return rc;
    }
    *count += one;
  }
  if (cairn_taken_count(t) > 0)
    cairn__side_file_remove(s, TAKEN_FILE);
  return 0;
}
