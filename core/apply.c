/*
 * apply.c — checking and applying batches of signed entries (DESIGN.md, "Entry",
 * "Verifying a run by its newest signature", "Membership and roles").
 *
 * A batch is applied in one write transaction: check each entry, append it to the
 * log, move its author's head, record its arrival, merge its ops. A crash leaves
 * all of a batch or none of it. When an entry is bad the transaction is dropped
 * and the entries before it are applied again on their own, so the valid prefix
 * is kept and nothing at or after the bad entry is.
 *
 * Signatures: within a batch, each author's entries must chain to each other and
 * to the head this store holds; then the newest signature of the author's run
 * vouches for all of them (prev hashes the previous header and signature). When
 * that signature fails, the run is checked entry by entry to name the first bad
 * one.
 *
 * Preparation: decoding, parsing and hashing the ops, hashing the entry and
 * verifying the signatures that will be needed are pure work on the entry's bytes,
 * done for the whole batch before the transaction (cairn__prep_batch; bundle.c
 * runs it on a second thread). The checks read the results at the same point and
 * in the same order as they would compute them, so outcomes and errors are the
 * same. In the transaction, the databases written for every entry are written
 * through cursors kept open for the batch (wtxn_t), so neighbouring keys skip the
 * descent from the root.
 */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "mpread.h"
#include "store_internal.h"

/* What a batch knows of one author: its head (written back at the end of the
 * batch) and its role over a span of stamps. */
typedef struct author_state {
  uint8_t author[CAIRN_KEY_BYTES];
  bool used;
  bool dirty; /* head moved in this batch */
  head_t head;
  uint32_t role_gen; /* 0: no role cached */
  cairn_role_t role;
  cairn_stamp_t role_from; /* the role holds for stamps from role_from ... */
  cairn_stamp_t role_to;   /* ... up to role_to, if role_bounded */
  bool role_bounded;
} author_state_t;

/* Per-batch context. */
struct apply_ctx {
  cairn_store_t *s;
  MDB_txn *txn;
  uint64_t next_arrival;
  bool purged_any;   /* a purge was applied: compact after commit */
  bool purged_rows;  /* `purged` may hold rows: look ops up */
  merge_env_t merge;
  uint32_t role_gen; /* bumped whenever a role row is written */
  author_state_t *authors;
  size_t authors_mask, authors_used;
  size_t applied, skipped;
  wtxn_t w;               /* cursors and buffers of the transaction */
  const cairn_op_t *ops;  /* the ops of the entry being applied (prepared) */
  size_t nops;
};

/* ---- which entry of each author carries the run's signature ---- */

/* An open-addressing map author -> index of an entry (slot 0: empty). */
typedef struct author_set {
  size_t *slot; /* entry index + 1 */
  size_t mask;
} author_set_t;

static int aset_init(author_set_t *a, size_t n) {
  size_t cap = 16;
  while (cap < 2 * n)
    cap *= 2;
  a->slot = calloc(cap, sizeof *a->slot);
  a->mask = cap - 1;
  return a->slot ? 0 : CAIRN_ENOMEM;
}

/* The slot of p[i]'s author: empty, or holding one of its entries. */
static size_t *aset_slot(author_set_t *a, const prep_t *p, size_t i) {
  uint64_t h;
  memcpy(&h, p[i].e.author, sizeof h);
  for (size_t k = (size_t)h & a->mask;; k = (k + 1) & a->mask)
    if (a->slot[k] == 0 ||
        memcmp(p[a->slot[k] - 1].e.author, p[i].e.author, CAIRN_KEY_BYTES) == 0)
      return &a->slot[k];
}

/*
 * newest[i] = entry i is the first, by position, of its author's entries with
 * the highest seq in entries[0..n). Its signature is checked and vouches for
 * every new entry of the author applied before it: a new entry must chain to
 * the head, so those entries are exactly the links below it. No new entry of
 * the author can follow it (its seq would exceed the head), and if it is itself
 * already held then none came before it either. Choosing by position alone
 * would let a forged entry followed by a copy of a held one slip in unchecked.
 */
static int mark_newest(const prep_t *p, size_t n, bool *newest) {
  author_set_t a;
  if (aset_init(&a, n) != 0)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    size_t *slot = aset_slot(&a, p, i);
    if (*slot == 0 || p[i].e.seq > p[*slot - 1].e.seq)
      *slot = i + 1;
  }
  for (size_t k = 0; k <= a.mask; k++)
    if (a.slot[k] != 0)
      newest[a.slot[k] - 1] = true;
  free(a.slot);
  return 0;
}

/* ---- entries prepared ahead of the transaction ---- */

/* Parse entry i's ops into b->ops (decode has checked their form and number). */
static int parse_ops(prep_batch_t *b, prep_t *p) {
  const cairn_entry_t *e = &p->e;
  cairn_op_iter_t it;
  size_t n = 0;
  if (b->ops_cap - b->nops < e->op_count) {
    size_t cap = b->ops_cap ? b->ops_cap : 64;
    while (cap - b->nops < e->op_count)
      cap *= 2;
    cairn_op_t *ops = realloc(b->ops, cap * sizeof *ops);
    if (ops == NULL)
      return CAIRN_ENOMEM;
    b->ops = ops;
    b->ops_cap = cap;
  }
  p->op0 = b->nops;
  cairn_op_iter_init(e, &it);
  while (n < e->op_count && cairn_op_next(&it, &b->ops[b->nops + n]))
    n++;
  b->nops += n;
  /* ops_root covers exactly op_count ops: fewer parsed is a mismatch */
  p->ops_ok = n == e->op_count;
  return 0;
}

/* Whether the parsed ops hash to the signed ops_root: cairn_entry_check_ops
 * without parsing the ops again. */
static bool ops_match_root(const cairn_entry_t *e, const cairn_op_t *ops) {
  crypto_generichash_state st;
  uint8_t h[CAIRN_HASH_BYTES], root[CAIRN_HASH_BYTES];
  crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
  for (size_t i = 0; i < e->op_count; i++) {
    if (ops[i].kind == CAIRN_OP_REDACTED)
      memcpy(h, ops[i].redacted_hash, CAIRN_HASH_BYTES);
    else
      cairn__op_hash(ops[i].raw, ops[i].raw_len, h);
    crypto_generichash_update(&st, h, sizeof h);
  }
  crypto_generichash_final(&st, root, CAIRN_HASH_BYTES);
  return sodium_memcmp(root, e->ops_root, CAIRN_HASH_BYTES) == 0;
}

int cairn__prep_batch(prep_batch_t *b, const cairn_buf_t *entries, size_t n, size_t max_entry,
                      int sigs) {
  b->limit = 0;
  b->rc = 0;
  b->nops = 0;
  cairn__error_clear(&b->err);
  if (b->cap < n) {
    prep_t *p = realloc(b->p, n * sizeof *p);
    bool *newest = p != NULL ? realloc(b->newest, n * sizeof *newest) : NULL;
    if (p != NULL)
      b->p = p;
    if (newest == NULL)
      return CAIRN_ENOMEM;
    b->newest = newest;
    b->cap = n;
  }
  for (size_t i = 0; i < n; i++) {
    prep_t *p = &b->p[i];
    int rc = cairn_entry_decode(entries[i].data, entries[i].len, max_entry, &p->e, &b->err);
    if (rc != 0) {
      b->rc = rc;
      break;
    }
    if ((rc = parse_ops(b, p)) != 0)
      return rc;
    if (p->ops_ok)
      p->ops_ok = ops_match_root(&p->e, b->ops + p->op0);
    cairn_entry_hash(&p->e, p->hash);
    p->sig_checked = false;
    b->limit = i + 1;
  }
  if (b->limit > 0) {
    memset(b->newest, 0, b->limit * sizeof *b->newest);
    if (mark_newest(b->p, b->limit, b->newest) != 0)
      return CAIRN_ENOMEM;
  }
  for (size_t i = 0; sigs != PREP_SIG_NONE && i < b->limit; i++) {
    prep_t *p = &b->p[i];
    if (sigs == PREP_SIG_ALL || b->newest[i]) {
      p->sig_ok = cairn_entry_verify_sig(&p->e) == 0;
      p->sig_checked = true;
    }
  }
  return 0;
}

/* Whether e's signature verifies (verified ahead, or now). */
static bool sig_ok(const prep_t *p) {
  return p->sig_checked ? p->sig_ok : cairn_entry_verify_sig(&p->e) == 0;
}

void cairn__prep_free(prep_batch_t *b) {
  if (b == NULL)
    return;
  free(b->p);
  free(b->ops);
  free(b->newest);
  memset(b, 0, sizeof *b);
}

/* ---- the batch's authors ---- */

static int authors_grow(apply_ctx_t *c) {
  size_t cap = c->authors ? 2 * (c->authors_mask + 1) : 8;
  author_state_t *old = c->authors, *t = calloc(cap, sizeof *t);
  size_t old_cap = old ? c->authors_mask + 1 : 0;
  if (t == NULL)
    return CAIRN_ENOMEM;
  c->authors = t;
  c->authors_mask = cap - 1;
  for (size_t i = 0; i < old_cap; i++) {
    if (!old[i].used)
      continue;
    uint64_t h;
    memcpy(&h, old[i].author, sizeof h);
    size_t j = (size_t)h & c->authors_mask;
    while (t[j].used)
      j = (j + 1) & c->authors_mask;
    t[j] = old[i];
  }
  free(old);
  return 0;
}

/* The state of author, loaded from `heads` on first use. */
static int author_get(apply_ctx_t *c, const uint8_t *author, author_state_t **out) {
  uint64_t h;
  int rc;
  if ((c->authors_used + 1) * 2 > (c->authors ? c->authors_mask + 1 : 0) &&
      (rc = authors_grow(c)) != 0)
    return rc;
  memcpy(&h, author, sizeof h);
  size_t i = (size_t)h & c->authors_mask;
  for (; c->authors[i].used; i = (i + 1) & c->authors_mask) {
    if (memcmp(c->authors[i].author, author, CAIRN_KEY_BYTES) == 0) {
      *out = &c->authors[i];
      return 0;
    }
  }
  author_state_t *a = &c->authors[i];
  if ((rc = cairn__head_get(c->txn, c->s, author, &a->head)) != 0)
    return rc;
  memcpy(a->author, author, CAIRN_KEY_BYTES);
  a->used = true;
  c->authors_used++;
  *out = a;
  return 0;
}

/* Write back the heads that moved. */
static int authors_flush(apply_ctx_t *c) {
  int rc;
  for (size_t i = 0; c->authors && i <= c->authors_mask; i++) {
    author_state_t *a = &c->authors[i];
    if (a->used && a->dirty && (rc = cairn__head_put(c->txn, c->s, a->author, &a->head)) != 0)
      return rc;
  }
  return 0;
}

/* The role of an author for a write stamped st, cached over the span in which no
 * other role row of that author lies. */
static int author_role(apply_ctx_t *c, const uint8_t *author, const cairn_stamp_t *st,
                       cairn_role_t *role) {
  author_state_t *a;
  int rc = author_get(c, author, &a);
  if (rc != 0)
    return rc;
  if (a->role_gen != c->role_gen || cairn_stamp_cmp(st, &a->role_from) < 0 ||
      (a->role_bounded && cairn_stamp_cmp(st, &a->role_to) > 0)) {
    if ((rc = cairn__role_span(c->txn, c->s, author, st, &a->role, &a->role_to,
                               &a->role_bounded)) != 0)
      return rc;
    a->role_from = *st;
    a->role_gen = c->role_gen;
  }
  *role = a->role;
  return 0;
}

/* ---- checks ---- */

static const char *hexkey(const uint8_t *k, char buf[2 * CAIRN_KEY_BYTES + 1]) {
  return cairn_hex(k, CAIRN_KEY_BYTES, buf);
}

#define ENTRY_ERR(err, code, e, fmt, ...)                                                 \
  cairn__error(err, code, "author %s seq %llu: " fmt, hexkey((e)->author, hx),             \
               (unsigned long long)(e)->seq, ##__VA_ARGS__)

/* Whether e is a valid genesis: seq 1 with a `_network` put whose nonce proves that
 * its author made the network id. */
static bool is_genesis(const cairn_entry_t *e) {
  cairn_op_iter_t it;
  cairn_op_t op;
  char hex[2 * CAIRN_KEY_BYTES + 1];
  if (e->seq != 1)
    return false;
  cairn_hex(e->network, CAIRN_KEY_BYTES, hex);
  cairn_op_iter_init(e, &it);
  while (cairn_op_next(&it, &op)) {
    cairn_field_iter_t fi;
    cairn_field_t f;
    if (op.kind != CAIRN_OP_PUT || op.type_len != strlen(NETWORK_TYPE) ||
        memcmp(op.type, NETWORK_TYPE, op.type_len) != 0 || op.id_len != 64 ||
        memcmp(op.id, hex, 64) != 0)
      continue;
    cairn_field_iter_init(&op, &fi);
    while (cairn_field_next(&fi, &f)) {
      uint8_t id[CAIRN_HASH_BYTES];
      crypto_generichash_state st;
      /* nonce is bin 32: c4 20 + 32 bytes */
      if (f.name_len != 5 || memcmp(f.name, "nonce", 5) != 0 || f.value_len != 34 ||
          f.value[0] != 0xc4 || f.value[1] != NONCE_BYTES)
        continue;
      crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
      crypto_generichash_update(&st, (const uint8_t *)NETWORK_LABEL, strlen(NETWORK_LABEL));
      crypto_generichash_update(&st, e->author, CAIRN_KEY_BYTES);
      crypto_generichash_update(&st, f.value + 2, NONCE_BYTES);
      crypto_generichash_final(&st, id, sizeof id);
      return memcmp(id, e->network, CAIRN_HASH_BYTES) == 0;
    }
  }
  return false;
}

static bool reserved_type(const cairn_op_t *op) {
  return op->type_len > 0 && op->type[0] == '_';
}

static bool is_member_op(const cairn_op_t *op) {
  return op->type_len == strlen(MEMBER_TYPE) && memcmp(op->type, MEMBER_TYPE, op->type_len) == 0;
}

/* A fixstr or str8 field value as a role name. */
static cairn_role_t role_value(const cairn_field_t *f) {
  cairn_mpr_t r;
  const char *str;
  uint32_t len;
  cairn_mpr_init(&r, f->value, f->value_len);
  if (cairn_mpr_str(&r, &str, &len) != 0 || cairn_mpr_left(&r) != 0)
    return CAIRN_ROLE_NONE;
  return cairn_role_parse(str, len);
}

/* The role a _member put grants, or NONE when it sets no role field. */
static int member_role(const cairn_op_t *op, cairn_role_t *role) {
  cairn_field_iter_t it;
  cairn_field_t f;
  *role = CAIRN_ROLE_NONE;
  cairn_field_iter_init(op, &it);
  while (cairn_field_next(&it, &f))
    if (f.name_len == 4 && memcmp(f.name, "role", 4) == 0) {
      *role = role_value(&f);
      return *role == CAIRN_ROLE_NONE ? CAIRN_EMALFORMED : 0;
    }
  return 0;
}

/* The terms a `_member` put making an invite key must carry. */
static int invite_terms(const cairn_op_t *op, cairn_invite_terms_t *t) {
  cairn_field_iter_t it;
  cairn_field_t f;
  cairn_mpr_t r;
  uint64_t v;
  int have = 0;
  cairn_field_iter_init(op, &it);
  while (cairn_field_next(&it, &f)) {
    cairn_mpr_init(&r, f.value, f.value_len);
    if (f.name_len == 6 && memcmp(f.name, "grants", 6) == 0) {
      t->grants = role_value(&f);
      have |= 1;
    } else if (f.name_len == 7 && memcmp(f.name, "expires", 7) == 0) {
      if (cairn_mpr_uint(&r, &t->expires_ms) != 0)
        return CAIRN_EMALFORMED;
      have |= 2;
    } else if (f.name_len == 4 && memcmp(f.name, "uses", 4) == 0) {
      if (cairn_mpr_uint(&r, &v) != 0 || v == 0 || v > CAIRN_INVITE_USES_MAX)
        return CAIRN_EMALFORMED;
      t->uses = (uint32_t)v;
      have |= 4;
    }
  }
  if (have != 7 || (t->grants != CAIRN_ROLE_ADMIN && t->grants != CAIRN_ROLE_EDITOR &&
                    t->grants != CAIRN_ROLE_VIEWER))
    return CAIRN_EMALFORMED;
  return 0;
}

/* The member key a `_member` op is about. */
static int member_key(const cairn_op_t *op, uint8_t key[CAIRN_KEY_BYTES]) {
  char id[2 * CAIRN_KEY_BYTES + 1];
  if (op->id_len != 2 * CAIRN_KEY_BYTES)
    return CAIRN_EMALFORMED;
  memcpy(id, op->id, op->id_len);
  id[op->id_len] = '\0';
  return cairn_unhex(id, key, CAIRN_KEY_BYTES) == 0 ? 0 : CAIRN_EMALFORMED;
}

/* May an author of this role write op? */
static int check_op(const cairn_entry_t *e, const cairn_op_t *op, cairn_role_t role,
                    cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  cairn_role_t grant;
  if (op->kind == CAIRN_OP_REDACTED)
    return 0;
  switch (role) {
  case CAIRN_ROLE_NONE:
    return ENTRY_ERR(err, CAIRN_ENOTMEMBER, e, "the author is not a member of the network");
  case CAIRN_ROLE_REVOKED:
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "the author's key was revoked");
  case CAIRN_ROLE_VIEWER:
  case CAIRN_ROLE_RELAY:
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "role %s may not write records",
                     cairn_role_name(role));
  case CAIRN_ROLE_EDITOR:
    if (op->kind == CAIRN_OP_PURGE || reserved_type(op))
      return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e,
                       "role editor may not %s %.*s records", op->kind == CAIRN_OP_PURGE ?
                       "purge" : "write", (int)op->type_len, op->type);
    break;
  default:
    break;
  }
  if (op->kind == CAIRN_OP_PURGE && reserved_type(op))
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "%.*s records cannot be purged",
                     (int)op->type_len, op->type);
  if (op->kind == CAIRN_OP_PUT && is_member_op(op)) {
    uint8_t key[CAIRN_KEY_BYTES];
    if (member_key(op, key) != 0)
      return ENTRY_ERR(err, CAIRN_EMALFORMED, e, "a _member id must be a 64-hex key");
    if (member_role(op, &grant) != 0)
      return ENTRY_ERR(err, CAIRN_EMALFORMED, e, "malformed _member record");
    if (grant == CAIRN_ROLE_OWNER && role != CAIRN_ROLE_OWNER)
      return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "only the owner may grant the owner role");
    cairn_invite_terms_t t;
    if (grant == CAIRN_ROLE_INVITE && invite_terms(op, &t) != 0)
      return ENTRY_ERR(err, CAIRN_EMALFORMED, e,
                       "an invite needs grants (admin, editor or viewer), expires and uses");
    if (grant == CAIRN_ROLE_INVITE && t.grants == CAIRN_ROLE_ADMIN && role != CAIRN_ROLE_OWNER &&
        role != CAIRN_ROLE_ADMIN)
      return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "only an owner or admin may invite an admin");
  }
  return 0;
}

/*
 * An entry by an invite key: its one op grants the invite's role to a key that is
 * not a member yet, before the invite expires, within its uses (the invite key's
 * seq counts them: one grant per entry).
 */
static int check_invite_use(apply_ctx_t *c, const cairn_entry_t *e, const cairn_stamp_t *st,
                            cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  cairn_invite_terms_t t;
  cairn_role_t role, grant, now;
  cairn_stamp_t next;
  bool has_next;
  uint8_t key[CAIRN_KEY_BYTES];
  int rc = cairn__role_terms(c->txn, c->s, e->author, st, &role, &t, &next, &has_next);
  if (rc != 0)
    return cairn__error(err, rc, "cannot read roles");
  const cairn_op_t *op = &c->ops[0];
  if (c->nops != 1 || op->kind != CAIRN_OP_PUT || !is_member_op(op) || member_key(op, key) != 0 ||
      memcmp(key, e->author, CAIRN_KEY_BYTES) == 0 || member_role(op, &grant) != 0)
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e,
                     "an invite key may only write one _member record for a new key");
  if (grant != t.grants)
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "this invite grants %s, not %s",
                     cairn_role_name(t.grants), grant ? cairn_role_name(grant) : "no role");
  if ((e->hlc >> 16) > t.expires_ms)
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "the invite expired");
  if (e->seq > t.uses)
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "the invite was already used (%u use%s)",
                     (unsigned)t.uses, t.uses == 1 ? "" : "s");
  if ((rc = cairn__role_at(c->txn, c->s, key, st, &now)) != 0)
    return cairn__error(err, rc, "cannot read roles");
  if (now != CAIRN_ROLE_NONE)
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e, "an invite may only add a new member");
  return 0;
}

/* Check the author's role for every op, judged at the entry's stamp. */
static int check_roles(apply_ctx_t *c, const cairn_entry_t *e, cairn_error_t *err) {
  cairn_stamp_t st;
  cairn_role_t role;
  int rc;
  st.hlc = e->hlc;
  memcpy(st.author, e->author, CAIRN_KEY_BYTES);
  if (is_genesis(e))
    role = CAIRN_ROLE_OWNER;
  else if ((rc = author_role(c, e->author, &st, &role)) != 0)
    return cairn__error(err, rc, "cannot read roles");
  if (role == CAIRN_ROLE_INVITE)
    return check_invite_use(c, e, &st, err);
  for (size_t i = 0; i < c->nops; i++)
    if ((rc = check_op(e, &c->ops[i], role, err)) != 0)
      return rc;
  return 0;
}

/* The network: this store's, or adopted from a genesis when it has none yet. */
static int check_network(apply_ctx_t *c, const cairn_entry_t *e, cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1], net[2 * CAIRN_KEY_BYTES + 1];
  cairn_store_t *s = c->s;
  int rc;
  if (s->has_network) {
    if (memcmp(e->network, s->network, CAIRN_KEY_BYTES) != 0)
      return ENTRY_ERR(err, CAIRN_ENETWORK, e, "entry belongs to network %s, not this one",
                       hexkey(e->network, net));
    return 0;
  }
  if (!is_genesis(e))
    return ENTRY_ERR(err, CAIRN_ENONETWORK, e,
                     "this store has no network yet and the entry is not a network's genesis");
  MDB_val want;
  if ((rc = cairn__meta_get(c->txn, s, "expect", &want)) != 0 && rc != CAIRN_ENOENT)
    return cairn__error(err, rc, "cannot read the network this store waits for");
  if (rc == 0 && (want.mv_size != CAIRN_KEY_BYTES ||
                  memcmp(want.mv_data, e->network, CAIRN_KEY_BYTES) != 0))
    return ENTRY_ERR(err, CAIRN_ENETWORK, e,
                     "the genesis of network %s, not of the network this store waits for",
                     hexkey(e->network, net));
  if ((rc = cairn__meta_put(c->txn, s, "network", e->network, CAIRN_KEY_BYTES)) != 0 ||
      (rc = cairn__meta_put(c->txn, s, "owner", e->author, CAIRN_KEY_BYTES)) != 0)
    return cairn__error(err, rc, "cannot record the network");
  memcpy(s->network, e->network, CAIRN_KEY_BYTES);
  s->has_network = true;
  return 0;
}

/* The stored entry of author at seq, decoded (a view into the map). */
static int load_logged(apply_ctx_t *c, const uint8_t *author, uint64_t seq, cairn_entry_t *out) {
  uint8_t kb[40];
  MDB_val k, v;
  int rc;
  cairn__key_log(kb, author, seq);
  k = mval(kb, sizeof kb);
  if ((rc = mdb_get(c->txn, c->s->dbi[DB_LOG], &k, &v)) != 0)
    return rc == MDB_NOTFOUND ? CAIRN_ECORRUPT : cairn__mdb_err(rc);
  return cairn_entry_decode(v.mv_data, v.mv_size, SIZE_MAX, out, NULL) ? CAIRN_ECORRUPT : 0;
}

/* An entry at a seq this store holds: the same one (skip) or a fork. */
static int check_known(apply_ctx_t *c, const prep_t *p, bool *dup, cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  uint8_t mine[CAIRN_HASH_BYTES];
  const cairn_entry_t *e = &p->e;
  cairn_entry_t held;
  int rc = load_logged(c, e->author, e->seq, &held);
  if (rc != 0)
    return cairn__error(err, rc, "cannot read the log");
  cairn_entry_hash(&held, mine);
  if (memcmp(mine, p->hash, CAIRN_HASH_BYTES) == 0) {
    *dup = true;
    return 0;
  }
  if (cairn_entry_verify_sig(e) != 0)
    return ENTRY_ERR(err, CAIRN_EBADSIG, e, "bad signature (the store holds another entry at this seq)");
  return ENTRY_ERR(err, CAIRN_EFORK,
                   e, "fork: the author signed a different entry at a seq this store holds");
}

/* Chain, hashes, signature and clock of a new entry. */
static int check_entry(apply_ctx_t *c, const prep_t *p, bool newest, bool *dup,
                       cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  const cairn_entry_t *e = &p->e;
  author_state_t *a;
  head_t h;
  int rc;
  *dup = false;
  if ((rc = check_network(c, e, err)) != 0)
    return rc;
  if ((rc = author_get(c, e->author, &a)) != 0)
    return cairn__error(err, rc, "cannot read heads");
  h = a->head;
  if (e->seq <= h.seq)
    return check_known(c, p, dup, err);
  if (e->seq > h.seq + 1)
    return ENTRY_ERR(err, CAIRN_EGAP, e, "gap: this store holds the author's entries up to seq %llu",
                     (unsigned long long)h.seq);
  if (e->seq > 1 && memcmp(e->prev, h.hash, CAIRN_HASH_BYTES) != 0)
    return ENTRY_ERR(err, CAIRN_EBADHASH, e,
                     "does not chain to the author's entry at seq %llu (tampered or forked)",
                     (unsigned long long)h.seq);
  if (e->seq > 1 && e->hlc <= h.hlc)
    return ENTRY_ERR(err, CAIRN_EMALFORMED, e, "clock does not advance along the chain");
  if (!p->ops_ok)
    return ENTRY_ERR(err, CAIRN_EBADHASH, e, "ops do not match the signed ops_root");
  if ((newest || c->s->opts.verify_all) && !sig_ok(p))
    return ENTRY_ERR(err, CAIRN_EBADSIG, e, "bad signature");
  if ((e->hlc >> 16) > cairn_now_ms() + c->s->opts.max_skew_ms)
    return ENTRY_ERR(err, CAIRN_ESKEW, e, "clock %llu ms ahead of this device's",
                     (unsigned long long)((e->hlc >> 16) - cairn_now_ms()));
  return check_roles(c, e, err);
}

/* ---- writing ---- */

static bool arrived(void *ud, const cairn_stamp_t *b) {
  apply_ctx_t *c = ud;
  author_state_t *a;
  if (author_get(c, b->author, &a) != 0)
    return false;
  return a->head.seq > 0 && a->head.hlc >= b->hlc;
}

static int add_role_row(apply_ctx_t *c, const cairn_op_t *op, const cairn_stamp_t *st) {
  uint8_t kb[CAIRN_KEY_BYTES + 8 + CAIRN_KEY_BYTES];
  cairn_role_t role;
  uint8_t r;
  if (!is_member_op(op) || member_role(op, &role) != 0 || role == CAIRN_ROLE_NONE ||
      member_key(op, kb) != 0)
    return 0;
  cairn_put_be64(kb + CAIRN_KEY_BYTES, st->hlc);
  memcpy(kb + CAIRN_KEY_BYTES + 8, st->author, CAIRN_KEY_BYTES);
  uint8_t row[CAIRN__INVITE_ROW];
  cairn_invite_terms_t t;
  r = (uint8_t)role;
  MDB_val k = mval(kb, sizeof kb), v = mval(&r, 1);
  if (role == CAIRN_ROLE_INVITE && invite_terms(op, &t) == 0) {
    cairn__invite_row(row, &t);
    v = mval(row, sizeof row);
  }
  c->role_gen++;
  return cairn__mdb_err(mdb_put(c->txn, c->s->dbi[DB_ROLES], &k, &v, 0));
}

/* Merge every op (parsed in c->ops); ops on purged records are redacted instead. */
static int merge_entry(apply_ctx_t *c, const cairn_entry_t *e) {
  cairn_stamp_t st;
  bool redact = false, purged;
  int rc = 0;
  st.hlc = e->hlc;
  memcpy(st.author, e->author, CAIRN_KEY_BYTES);
  for (size_t i = 0; rc == 0 && i < c->nops; i++) {
    const cairn_op_t *op = &c->ops[i];
    if (op->kind == CAIRN_OP_REDACTED)
      continue;
    if (op->kind == CAIRN_OP_PURGE) {
      /* the purge deletes rows without our cursors: reopen them afterwards */
      cairn__wtxn_drop_cursors(&c->w);
      rc = cairn__purge_record(c->txn, c->s, op, &st);
      c->purged_any = c->purged_rows = true;
      continue;
    }
    purged = false;
    if (c->purged_rows && (rc = cairn__is_purged(c->txn, c->s, op->type, op->type_len, op->id,
                                                 op->id_len, &purged)) != 0)
      break;
    if (purged) {
      redact = true;
      continue;
    }
    if ((rc = cairn__merge_op(c->txn, c->s, e, op, &st, &c->merge)) == 0)
      rc = add_role_row(c, op, &st);
  }
  if (rc == 0 && redact) {
    cairn__wtxn_drop_cursors(&c->w);
    rc = cairn__entry_redact_purged(c->txn, c->s, e->author, e->seq);
  }
  return rc;
}

/* Append to the log, record the arrival, move the head, merge. */
static int write_entry(apply_ctx_t *c, const prep_t *p) {
  const cairn_entry_t *e = &p->e;
  uint8_t kb[40], arr[8];
  author_state_t *a;
  MDB_val k, v;
  int rc;
  cairn__key_log(kb, e->author, e->seq);
  k = mval(kb, sizeof kb);
  v = mval(e->bytes, e->len);
  if ((rc = cairn__wtxn_put(&c->w, DB_LOG, &k, &v, MDB_NOOVERWRITE)) != 0)
    return cairn__mdb_err(rc);
  cairn_put_be64(arr, c->next_arrival++);
  k = mval(arr, sizeof arr);
  v = mval(kb, sizeof kb);
  if ((rc = cairn__wtxn_put(&c->w, DB_ARRIVALS, &k, &v, MDB_APPEND)) != 0)
    return cairn__mdb_err(rc);
  if ((rc = author_get(c, e->author, &a)) != 0)
    return rc;
  a->head.seq = e->seq;
  a->head.hlc = e->hlc;
  memcpy(a->head.hash, p->hash, CAIRN_HASH_BYTES);
  a->dirty = true;
  if (e->hlc > c->s->hlc)
    c->s->hlc = e->hlc;
  return merge_entry(c, e);
}

/* Whether a database holds any row. */
static int db_any(MDB_txn *txn, MDB_dbi dbi, bool *any) {
  MDB_stat st;
  int rc = mdb_stat(txn, dbi, &st);
  *any = rc != 0 || st.ms_entries > 0;
  return cairn__mdb_err(rc);
}

static int ctx_begin(apply_ctx_t *c, cairn_store_t *s, MDB_txn *txn) {
  MDB_val v;
  memset(c, 0, sizeof *c);
  c->s = s;
  c->txn = txn;
  c->role_gen = 1;
  cairn__wtxn_init(&c->w, txn, s);
  c->merge.arrived = arrived;
  c->merge.ud = c;
  c->merge.w = &c->w;
  int rc = db_any(txn, s->dbi[DB_PENDING], &c->merge.pending_any);
  if (rc == 0)
    rc = db_any(txn, s->dbi[DB_CONFLICTS], &c->merge.conflicts_any);
  if (rc == 0)
    rc = db_any(txn, s->dbi[DB_PURGED], &c->purged_rows);
  if (rc != 0)
    return rc;
  rc = cairn__meta_get(txn, s, "arrival", &v);
  if (rc == 0 && v.mv_size == 8)
    c->next_arrival = cairn_get_be64(v.mv_data);
  else if (rc != 0 && rc != CAIRN_ENOENT)
    return rc;
  return 0;
}

/* Free what the context holds; its cursors are closed, so call it before the
 * transaction ends. */
static void ctx_free(apply_ctx_t *c) {
  cairn__wtxn_close(&c->w);
  free(c->authors);
  c->authors = NULL;
}

static int ctx_end(apply_ctx_t *c) {
  uint8_t b[8];
  int rc;
  if ((rc = authors_flush(c)) != 0)
    return rc;
  /* nothing new (a batch of entries already held): the transaction stays clean,
   * so its commit writes and syncs nothing */
  if (c->applied == 0)
    return 0;
  cairn_put_be64(b, c->next_arrival);
  if ((rc = cairn__meta_put(c->txn, c->s, "arrival", b, 8)) != 0)
    return rc;
  cairn_put_be64(b, c->s->hlc);
  return cairn__meta_put(c->txn, c->s, "hlc", b, 8);
}

/* One entry, checked and written; *dup when already held. */
static int apply_one(apply_ctx_t *c, const prep_batch_t *b, size_t i, bool newest,
                     cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  const prep_t *p = &b->p[i];
  const cairn_entry_t *e = &p->e;
  bool dup;
  int rc;
  c->ops = b->ops + p->op0;
  c->nops = e->op_count;
  rc = check_entry(c, p, newest, &dup, err);
  if (rc != 0)
    return rc;
  if (dup) {
    c->skipped++;
    return 0;
  }
  if ((rc = write_entry(c, p)) != 0)
    return ENTRY_ERR(err, rc, e, "cannot store the entry: %s", cairn_strerror(rc));
  c->applied++;
  return 0;
}

int cairn__apply_local(MDB_txn *txn, cairn_store_t *s, const uint8_t *entry, size_t len,
                       bool *purged_any, cairn_error_t *err) {
  apply_ctx_t c;
  prep_batch_t b = {0};
  cairn_buf_t buf = {entry, len};
  /* our own fresh signature: checked only with verify_all, as for any entry */
  int rc = cairn__prep_batch(&b, &buf, 1, s->opts.max_entry, PREP_SIG_NONE);
  if (rc != 0) {
    rc = cairn__error(err, rc, "out of memory");
  } else if (b.limit == 0) {
    rc = b.rc;
    if (err != NULL)
      *err = b.err;
  } else {
    if ((rc = ctx_begin(&c, s, txn)) == 0 && (rc = apply_one(&c, &b, 0, false, err)) == 0 &&
        (rc = ctx_end(&c)) == 0)
      *purged_any = c.purged_any;
    ctx_free(&c);
  }
  cairn__prep_free(&b);
  return rc;
}

/* The first entry of author among p[0..i] whose own signature fails (the run's
 * newest signature failed at i). */
static size_t first_bad_sig(const prep_t *p, size_t i) {
  for (size_t j = 0; j < i; j++)
    if (memcmp(p[j].e.author, p[i].e.author, CAIRN_KEY_BYTES) == 0 && !sig_ok(&p[j]))
      return j;
  return i;
}

/*
 * Apply entries [0..n) of b in one transaction. On an entry's error: *bad = its
 * index, the transaction is aborted. When the map is full, *map_full is set instead.
 */
static int apply_range(cairn_store_t *s, const prep_batch_t *b, size_t n, size_t *bad,
                       bool *map_full, apply_ctx_t *out, cairn_error_t *err) {
  MDB_txn *txn;
  apply_ctx_t c;
  bool *own = NULL;
  const bool *newest = b->newest; /* marked over [0, limit) while preparing */
  size_t i = 0;
  int rc;
  *bad = n;
  *map_full = false;
  if (n != b->limit) { /* a prefix, after a bad entry: its own newest entries */
    if ((own = calloc(n ? n : 1, sizeof *own)) == NULL || mark_newest(b->p, n, own) != 0) {
      free(own);
      return cairn__error(err, CAIRN_ENOMEM, "out of memory");
    }
    newest = own;
  }
  if ((rc = cairn__txn_begin(s, 0, &txn)) != 0) {
    free(own);
    return cairn__error(err, rc, "cannot begin a write transaction: %s", cairn_strerror(rc));
  }
  bool had_network = s->has_network;
  if ((rc = ctx_begin(&c, s, txn)) != 0)
    goto fail;
  for (i = 0; i < n; i++) {
    if ((rc = apply_one(&c, b, i, newest[i], err)) != 0) {
      if (rc == CAIRN_EBADSIG && newest[i])
        *bad = first_bad_sig(b->p, i);
      else
        *bad = i;
      goto fail;
    }
  }
  i = n;
  if ((rc = ctx_end(&c)) != 0)
    goto fail;
  ctx_free(&c);
  rc = mdb_txn_commit(txn);
  txn = NULL;
  if (rc != 0) {
    rc = cairn__error(err, cairn__mdb_err(rc), "cannot commit: %s", mdb_strerror(rc));
    goto fail;
  }
  free(own);
  *out = c;
  return 0;
fail:
  ctx_free(&c);
  if (txn != NULL)
    mdb_txn_abort(txn);
  free(own);
  s->has_network = had_network;
  if (rc == CAIRN_EMAPFULL) {
    /* the map is full: not the entry's fault; grow and try again */
    *map_full = true;
    *bad = n;
  }
  return rc;
}

/* Reload the clock after an aborted transaction moved it. */
static void reload_hlc(cairn_store_t *s) {
  MDB_txn *txn;
  MDB_val v;
  if (cairn__txn_begin(s, MDB_RDONLY, &txn) != 0)
    return;
  if (cairn__meta_get(txn, s, "hlc", &v) == 0 && v.mv_size == 8)
    s->hlc = cairn_get_be64(v.mv_data);
  mdb_txn_abort(txn);
}

int cairn__apply_prepared(cairn_store_t *s, const prep_batch_t *b, size_t n,
                          cairn_apply_stats_t *stats, cairn_error_t *err) {
  cairn_error_t first = {0, ""}, tmp;
  apply_ctx_t c = {0};
  size_t limit = n, bad;
  bool map_full;
  int rc = 0, first_rc = 0;
  if (stats != NULL)
    memset(stats, 0, sizeof *stats);
  if (b->limit < n) {
    first_rc = b->rc;
    first = b->err;
    limit = b->limit;
  }
  for (;;) {
    if (limit == 0) {
      rc = 0;
      break;
    }
    cairn__error_clear(&tmp);
    rc = apply_range(s, b, limit, &bad, &map_full, &c, &tmp);
    if (rc == 0)
      break;
    reload_hlc(s);
    if (map_full) {
      if ((rc = cairn__store_grow(s)) != 0)
        break;
      continue;
    }
    if (bad >= limit) { /* not an entry's fault: I/O, disk full */
      first = tmp;
      first_rc = rc;
      limit = 0;
      break;
    }
    first = tmp;
    first_rc = rc;
    limit = bad;
  }
  if (stats != NULL) {
    stats->applied = c.applied;
    stats->skipped = c.skipped;
    stats->failed_at = first_rc ? limit : n;
  }
  if (rc == 0 && c.purged_any)
    rc = cairn__store_compact(s);
  if (first_rc != 0) {
    if (err != NULL)
      *err = first;
    return first_rc;
  }
  if (rc != 0)
    return cairn__error(err, rc, "%s", cairn_strerror(rc));
  return 0;
}

int cairn_store_apply(cairn_store_t *s, const cairn_buf_t *entries, size_t n,
                      cairn_apply_stats_t *stats, cairn_error_t *err) {
  prep_batch_t b = {0};
  int rc;
  if (stats != NULL)
    memset(stats, 0, sizeof *stats);
  if (cairn__prep_batch(&b, entries, n, s->opts.max_entry,
                        s->opts.verify_all ? PREP_SIG_ALL : PREP_SIG_NEWEST) != 0)
    rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
  else
    rc = cairn__apply_prepared(s, &b, n, stats, err);
  cairn__prep_free(&b);
  return rc;
}
