/*
 * apply.c — checking and applying batches of signed entries (docs/design.md, "Entry",
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
 * done for the whole batch before the transaction (cairn_prepare, apply.h: the
 * relay runs it on its thread pool, bundle.c on a second thread). The checks read
 * the results at the same point and in the same order as they would compute
 * them, so outcomes and errors are the same. Several prepared batches (the
 * relay's group commit) apply as one sequence, each author's runs vouched for
 * within their batch. In the transaction, the databases written for every entry are written
 * through cursors kept open for the batch (wtxn_t), so neighbouring keys skip the
 * descent from the root.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
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
  uint32_t cutoff_gen;     /* 0: cutoff not read */
  uint64_t cutoff;         /* entries above this seq are refused (revocations) */
  bool has_fixed_cut;      /* recomputing: the cut-off found by the first pass */
  uint64_t fixed_cut;
} author_state_t;

/* Where check_roles takes revocations' cut-offs from. */
enum { CUT_INDEX, CUT_NONE, CUT_FIXED };

/* Per-batch context. */
typedef struct apply_ctx apply_ctx_t;
struct apply_ctx {
  cairn_store_t *s;
  MDB_txn *txn;
  uint64_t next_arrival;
  bool purged_any;   /* a purge was applied: compact after commit */
  bool purged_rows;  /* `purged` may hold rows: look ops up */
  bool members;      /* a role was written */
  bool replaying;    /* rebuilding the records from the log: heads start empty and
                        move in memory only */
  const cairn_apply_opts_t *opts; /* a setting to write with the entries, or NULL */
  bool strict;       /* local changes: a role refusal is an error, never evidence */
  bool recompute;    /* a role row landed below entries already judged */
  int cut_mode;      /* CUT_* */
  merge_env_t merge;
  uint32_t role_gen; /* bumped whenever a role row is written */
  author_state_t *authors;
  size_t authors_mask, authors_used;
  size_t applied, skipped, refused;
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
static int parse_ops(cairn_prepared_t *b, prep_t *p) {
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

/* The first hop takes only entries in the canonical encoding (entry.h), which
 * every later receiver can rebuild from their compact form. */
static int not_canonical(const cairn_entry_t *e, cairn_error_t *err) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  return cairn__error(err, CAIRN_EMALFORMED,
                      "author %s seq %llu: the entry is not in the canonical encoding",
                      cairn_hex(e->author, CAIRN_KEY_BYTES, hex), (unsigned long long)e->seq);
}

/* Which signatures prep_fill verifies ahead. */
enum { SIG_NONE, SIG_NEWEST, SIG_ALL };

/* cairn_prepare; sigs is one of SIG_*, and every signature of first_hop's entries
 * (may be NULL) is verified too; hashes (may be NULL) as cairn_prepare_opts_t's. */
static int prep_fill(cairn_prepared_t *b, const cairn_buf_t *entries, size_t n,
                     size_t max_entry, int sigs, const uint8_t *first_hop,
                     const uint8_t (*hashes)[CAIRN_HASH_BYTES]) {
  b->n = n;
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
    if (rc == 0 && first_hop != NULL &&
        memcmp(p->e.author, first_hop, CAIRN_KEY_BYTES) == 0 && !cairn__entry_canonical(&p->e))
      rc = not_canonical(&p->e, &b->err);
    if (rc != 0) {
      b->rc = rc;
      break;
    }
    if ((rc = parse_ops(b, p)) != 0)
      return rc;
    if (hashes != NULL) { /* computed where the entry was rebuilt */
      memcpy(p->hash, hashes[i], CAIRN_HASH_BYTES);
    } else {
      if (p->ops_ok)
        p->ops_ok = ops_match_root(&p->e, b->ops + p->op0);
      cairn_entry_hash(&p->e, p->hash);
    }
    p->sig_checked = false;
    b->limit = i + 1;
  }
  if (b->limit > 0) {
    memset(b->newest, 0, b->limit * sizeof *b->newest);
    if (mark_newest(b->p, b->limit, b->newest) != 0)
      return CAIRN_ENOMEM;
  }
  for (size_t i = 0; i < b->limit; i++) {
    prep_t *p = &b->p[i];
    bool hop = first_hop != NULL && memcmp(p->e.author, first_hop, CAIRN_KEY_BYTES) == 0;
    p->first_hop = hop;
    if (sigs == SIG_ALL || (sigs == SIG_NEWEST && b->newest[i]) || hop) {
      p->sig_ok = cairn_entry_verify_sig(&p->e) == 0;
      p->sig_checked = true;
    }
  }
  return 0;
}

int cairn_prepare(cairn_prepared_t *p, const cairn_buf_t *entries, size_t n,
                  const cairn_prepare_opts_t *opts) {
  cairn_prepare_opts_t o = {0, false, NULL, NULL};
  if (opts != NULL)
    o = *opts;
  return prep_fill(p, entries, n, o.max_entry ? o.max_entry : CAIRN_ENTRY_MAX_DEFAULT,
                   o.verify_all ? SIG_ALL : SIG_NEWEST, o.first_hop, o.hashes);
}

int cairn_prepared_new(cairn_prepared_t **out) {
  *out = calloc(1, sizeof **out);
  return *out != NULL ? 0 : CAIRN_ENOMEM;
}

size_t cairn_prepared_count(const cairn_prepared_t *p) {
  return p->limit;
}

/* Whether e's signature verifies (verified ahead, or now). */
static bool sig_ok(const prep_t *p) {
  return p->sig_checked ? p->sig_ok : cairn_entry_verify_sig(&p->e) == 0;
}

static void prep_release(cairn_prepared_t *b) {
  free(b->p);
  free(b->ops);
  free(b->newest);
  memset(b, 0, sizeof *b);
}

void cairn_prepared_free(cairn_prepared_t *p) {
  if (p == NULL)
    return;
  prep_release(p);
  free(p);
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
  if (c->replaying)
    memset(&a->head, 0, sizeof a->head);
  else if ((rc = cairn__head_get(c->txn, c->s, author, &a->head)) != 0)
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
    if ((rc = cairn__role_terms(c->txn, c->s, author, st, &a->role, NULL, &a->role_to,
                                &a->role_bounded)) != 0)
      return rc;
    a->role_from = *st;
    a->role_gen = c->role_gen;
  }
  *role = a->role;
  return 0;
}

/* The seq above which an author's entries are refused (a revocation's cut-off),
 * cached until a role row is written. */
static int author_cutoff(apply_ctx_t *c, const uint8_t *author, uint64_t *cut) {
  author_state_t *a;
  int rc = author_get(c, author, &a);
  if (rc != 0)
    return rc;
  if (a->cutoff_gen != c->role_gen) {
    if ((rc = cairn__member_cutoff(c->txn, c->s, author, &a->cutoff)) != 0)
      return rc;
    a->cutoff_gen = c->role_gen;
  }
  *cut = a->cutoff;
  return 0;
}

/* The cut-off that applies to author's entries in the current mode. */
static int role_cutoff(apply_ctx_t *c, const uint8_t *author, uint64_t *cut) {
  author_state_t *a;
  int rc;
  *cut = UINT64_MAX;
  if (c->cut_mode == CUT_INDEX)
    return author_cutoff(c, author, cut);
  if (c->cut_mode == CUT_NONE)
    return 0;
  if ((rc = author_get(c, author, &a)) != 0)
    return rc;
  if (a->has_fixed_cut)
    *cut = a->fixed_cut;
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

/* Check the author's role for every op, judged at the entry's stamp. */
static int check_roles(apply_ctx_t *c, const cairn_entry_t *e, cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  cairn_stamp_t st;
  cairn_role_t role;
  uint64_t cut;
  int rc;
  st.hlc = e->hlc;
  memcpy(st.author, e->author, CAIRN_KEY_BYTES);
  if (is_genesis(e))
    role = CAIRN_ROLE_OWNER;
  else if ((rc = author_role(c, e->author, &st, &role)) != 0)
    return cairn__error(err, rc, "cannot read roles");
  if ((rc = role_cutoff(c, e->author, &cut)) != 0)
    return cairn__error(err, rc, "cannot read roles");
  if (e->seq > cut)
    return ENTRY_ERR(err, CAIRN_EFORBIDDEN, e,
                     "the author's key was revoked, accepting its entries up to seq %llu only",
                     (unsigned long long)cut);
  if (role == CAIRN_ROLE_INVITE)
    return cairn__member_check_invite_use(c->txn, c->s, e, c->ops, c->nops, err);
  for (size_t i = 0; i < c->nops; i++) {
    cairn_error_t why;
    if ((rc = cairn_role_may_write(role, &c->ops[i], &why)) != 0)
      return ENTRY_ERR(err, rc, e, "%s", why.msg);
  }
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

/* Chain, hashes and signature of a new entry (its clock: check_entry_skewed). */
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
  if ((newest || c->s->opts.verify_all || p->sig_checked) && !sig_ok(p))
    return ENTRY_ERR(err, CAIRN_EBADSIG, e, "bad signature");
  return 0;
}

/* Whether e is stamped beyond the skew limit of this device's clock. A device
 * never refuses its own entries for skew: its clock may have been wrong when it
 * wrote them, and refusing would lock it out of its own log. */
static bool check_entry_skewed(apply_ctx_t *c, const cairn_entry_t *e) {
  return (e->hlc >> 16) > cairn__now_corrected(c->s) + c->s->opts.max_skew_ms &&
         memcmp(e->author, cairn_store_key(c->s), CAIRN_KEY_BYTES) != 0;
}

/* ---- writing ---- */

static bool arrived(void *ud, const cairn_stamp_t *b) {
  apply_ctx_t *c = ud;
  author_state_t *a;
  if (author_get(c, b->author, &a) != 0)
    return false;
  return a->head.seq > 0 && a->head.hlc >= b->hlc;
}

/*
 * A role row for key (stamped st, naming cut-off last) was just written. Entries
 * of key already judged were judged without it: when any of them is stamped
 * after it, or lies beyond its cut-off, the verdicts are computed again at the
 * end of the batch (recompute).
 */
static int role_row_landed(apply_ctx_t *c, const uint8_t *key, const cairn_stamp_t *st,
                           uint64_t last) {
  author_state_t *a;
  cairn_stamp_t top;
  int rc;
  if (c->replaying)
    return 0;
  if ((rc = author_get(c, key, &a)) != 0)
    return rc;
  if (a->head.seq == 0)
    return 0;
  top.hlc = a->head.hlc;
  memcpy(top.author, key, CAIRN_KEY_BYTES);
  if (cairn_stamp_cmp(&top, st) > 0 || last < a->head.seq)
    c->recompute = true;
  return 0;
}

/* Merge one op, and index it when it sets a role. */
static int merge_one(apply_ctx_t *c, const cairn_entry_t *e, const cairn_op_t *op,
                     const cairn_stamp_t *st) {
  uint8_t key[CAIRN_KEY_BYTES];
  uint64_t last;
  bool indexed = false;
  int rc = cairn__merge_op(c->txn, c->s, e, op, st, &c->merge);
  if (rc == 0)
    rc = cairn__member_index(c->txn, c->s, op, st, &indexed, key, &last);
  if (rc != 0 || !indexed)
    return rc;
  c->role_gen++; /* cached roles may be stale now */
  c->members = true;
  return role_row_landed(c, key, st, last);
}

/* Merge every op (parsed in c->ops); ops on purged records are redacted instead.
 * An entry its author's roles refuse (refused) only leaves its history rows. */
static int merge_entry(apply_ctx_t *c, const cairn_entry_t *e, bool refused) {
  cairn_stamp_t st;
  bool redact = false, purged;
  int rc = 0;
  st.hlc = e->hlc;
  memcpy(st.author, e->author, CAIRN_KEY_BYTES);
  for (size_t i = 0; rc == 0 && i < c->nops; i++) {
    const cairn_op_t *op = &c->ops[i];
    if (op->kind == CAIRN_OP_REDACTED || (refused && op->kind == CAIRN_OP_PURGE))
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
    rc = refused ? cairn__merge_history(e, op, &st, &c->merge) : merge_one(c, e, op, &st);
  }
  if (rc == 0 && redact) {
    cairn__wtxn_drop_cursors(&c->w);
    rc = cairn__entry_redact_purged(c->txn, c->s, e->author, e->seq);
  }
  return rc;
}

/* Keep the reason an entry of the log is refused. */
static int refused_put(apply_ctx_t *c, const uint8_t log_key[40], const cairn_error_t *why) {
  MDB_val k = mval(log_key, 40), v = mval(why->msg, strlen(why->msg));
  return cairn__mdb_err(mdb_put(c->txn, c->s->dbi[DB_REFUSED], &k, &v, 0));
}

/* Append to the log, record the arrival, move the head, merge; or, for an entry
 * its author's roles refuse (refused not NULL), keep it as evidence: in the log
 * and the history, with its reason, and nothing merged. */
static int write_entry(apply_ctx_t *c, const prep_t *p, const cairn_error_t *refused) {
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
  if (e->hlc > c->s->hlc && refused == NULL)
    c->s->hlc = e->hlc;
  if (refused != NULL && (rc = refused_put(c, kb, refused)) != 0)
    return rc;
  return merge_entry(c, e, refused != NULL);
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
  if (c->opts != NULL && c->opts->setting != NULL &&
      (rc = cairn__setting_put(c->txn, c->s, c->opts->setting, c->opts->value,
                               c->opts->value_len)) != 0)
    return rc;
  /* nothing new (a batch of entries already held): the transaction stays clean
   * but for the setting, so its commit writes and syncs nothing more */
  if (c->applied == 0)
    return 0;
  cairn_put_be64(b, c->next_arrival);
  if ((rc = cairn__meta_put(c->txn, c->s, "arrival", b, 8)) != 0)
    return rc;
  cairn_put_be64(b, c->s->hlc);
  return cairn__meta_put(c->txn, c->s, "hlc", b, 8);
}

/* Whether an error is the store's (I/O, space, memory) rather than an entry's. */
static bool storage_error(int rc) {
  return rc == CAIRN_EIO || rc == CAIRN_ENOSPC || rc == CAIRN_ENOMEM || rc == CAIRN_ECORRUPT ||
         rc == CAIRN_EMAPFULL || rc == CAIRN_EBUSY || rc == CAIRN_EBADTXN;
}

/*
 * Whether an entry that its author's roles refuse (rc from check_roles) is kept
 * as evidence rather than refused: it is not from the key pushing it (nor a
 * change made here), and its author is or was a member. So every replica holds
 * the same entries whatever order the roles reached it in, and a revocation
 * learnt late refuses the same entries everywhere (recompute).
 */
static int keep_as_evidence(apply_ctx_t *c, const prep_t *p, int rc, bool *keep) {
  *keep = false;
  if (c->strict || p->first_hop || (rc != CAIRN_EFORBIDDEN && rc != CAIRN_ENOTMEMBER))
    return 0;
  return cairn__member_known(c->txn, c->s, p->e.author, keep);
}

/* One entry, checked and written; *dup when already held. */
static int apply_one(apply_ctx_t *c, const cairn_prepared_t *b, size_t i, bool newest,
                     cairn_error_t *err) {
  char hx[2 * CAIRN_KEY_BYTES + 1];
  const prep_t *p = &b->p[i];
  const cairn_entry_t *e = &p->e;
  cairn_error_t why;
  bool dup, keep = false;
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
  cairn__error_clear(&why);
  int role_rc = check_roles(c, e, &why);
  if (role_rc != 0 && (rc = keep_as_evidence(c, p, role_rc, &keep)) != 0)
    return cairn__error(err, rc, "cannot read roles");
  /* stamped too far ahead: refused, unless its roles refuse it anyway and it is
   * kept as evidence, which merges nothing and moves no clock */
  if (!keep && check_entry_skewed(c, e))
    return ENTRY_ERR(err, CAIRN_ESKEW, e, "clock %llu ms ahead of this device's",
                     (unsigned long long)((e->hlc >> 16) - cairn__now_corrected(c->s)));
  if (role_rc != 0 && !keep) {
    if (err != NULL)
      *err = why;
    return role_rc;
  }
  if ((rc = write_entry(c, p, role_rc != 0 ? &why : NULL)) != 0)
    return ENTRY_ERR(err, rc, e, "cannot store the entry: %s", cairn_strerror(rc));
  c->applied++;
  c->refused += role_rc != 0;
  return 0;
}

static int recompute(apply_ctx_t *c);

int cairn__apply_local(MDB_txn *txn, cairn_store_t *s, const uint8_t *entry, size_t len,
                       bool *purged_any, cairn_error_t *err) {
  apply_ctx_t c;
  cairn_prepared_t b;
  cairn_buf_t buf = {entry, len};
  memset(&b, 0, sizeof b);
  /* our own fresh signature: checked only with verify_all, as for any entry */
  int rc = prep_fill(&b, &buf, 1, s->opts.max_entry, SIG_NONE, NULL, NULL);
  if (rc != 0) {
    rc = cairn__error(err, rc, "out of memory");
  } else if (b.limit == 0) {
    rc = b.rc;
    if (err != NULL)
      *err = b.err;
  } else {
    if ((rc = ctx_begin(&c, s, txn)) == 0) {
      c.strict = true; /* a change made here that its roles refuse is an error */
      rc = apply_one(&c, &b, 0, false, err);
    }
    if (rc == 0 && c.recompute && (rc = recompute(&c)) != 0)
      rc = cairn__error(err, rc, "cannot judge the entries again: %s", cairn_strerror(rc));
    if (rc == 0 && (rc = ctx_end(&c)) == 0)
      *purged_any = c.purged_any;
    ctx_free(&c);
  }
  prep_release(&b);
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

/* ---- applying prepared batches ---- */

/* A batch as one transaction applies it: its first n entries, with the newest
 * entry of each author among them marked. */
typedef struct seg {
  const cairn_prepared_t *b;
  size_t n;
  const bool *newest; /* b->newest, or own marks over a prefix */
  bool *own;
} seg_t;

/* One attempt at applying segs in a transaction (run by cairn__txn_write). */
typedef struct attempt {
  cairn_store_t *s;
  seg_t *segs;
  size_t nsegs;
  const cairn_apply_opts_t *opts; /* NULL once a bad entry cut the batches short */
  apply_ctx_t c;                  /* of the last attempt: counts, purges */
  bool bad;                       /* an entry failed ... */
  size_t bad_seg, bad_i;          /* ... this one */
  cairn_error_t err;
} attempt_t;

static int attempt_fn(MDB_txn *txn, void *ud) {
  attempt_t *a = ud;
  apply_ctx_t *c = &a->c;
  int rc;
  a->bad = false;
  cairn__error_clear(&a->err);
  if ((rc = ctx_begin(c, a->s, txn)) != 0) {
    ctx_free(c);
    return cairn__error(&a->err, rc, "cannot begin applying: %s", cairn_strerror(rc));
  }
  c->opts = a->opts;
  for (size_t k = 0; k < a->nsegs; k++) {
    const seg_t *g = &a->segs[k];
    for (size_t i = 0; i < g->n; i++) {
      if ((rc = apply_one(c, g->b, i, g->newest[i], &a->err)) == 0)
        continue;
      if (!storage_error(rc)) {
        a->bad = true;
        a->bad_seg = k;
        a->bad_i = rc == CAIRN_EBADSIG && g->newest[i] ? first_bad_sig(g->b->p, i) : i;
      }
      ctx_free(c);
      return rc;
    }
  }
  if ((c->recompute && (rc = recompute(c)) != 0) || (rc = ctx_end(c)) != 0)
    rc = cairn__error(&a->err, rc, "cannot finish applying: %s", cairn_strerror(rc));
  ctx_free(c);
  return rc;
}

/* Cut the segments short before entry i of segment k: later segments go, and k
 * keeps entries [0, i) with its own newest marks. */
static int segs_cut(attempt_t *a, size_t k, size_t i) {
  seg_t *g = &a->segs[k];
  a->nsegs = k + 1;
  g->n = i;
  if (i == 0) {
    a->nsegs = k;
    return 0;
  }
  free(g->own);
  if ((g->own = calloc(i, sizeof *g->own)) == NULL || mark_newest(g->b->p, i, g->own) != 0)
    return CAIRN_ENOMEM;
  g->newest = g->own;
  return 0;
}

static void segs_free(seg_t *segs, size_t n) {
  for (size_t k = 0; segs != NULL && k < n; k++)
    free(segs[k].own);
  free(segs);
}

/* Fill stats; the first failure (if any) is a->err at (fk, fi). */
static void fill_stats(cairn_apply_stats_t *stats, const attempt_t *a, size_t fk, size_t fi) {
  if (stats == NULL)
    return;
  stats->applied = a->c.applied;
  stats->skipped = a->c.skipped;
  stats->refused = a->c.refused;
  stats->members = a->c.members;
  stats->failed_batch = fk;
  stats->failed_at = fi;
}

int cairn_store_apply_prepared(cairn_store_t *s, const cairn_prepared_t *const *batches,
                               size_t nbatches, const cairn_apply_opts_t *opts,
                               cairn_apply_stats_t *stats, cairn_error_t *err) {
  attempt_t a;
  cairn_error_t first = {0, ""};
  size_t fk = nbatches, fi = 0, all = nbatches;
  int rc = 0, first_rc = 0;
  memset(&a, 0, sizeof a);
  a.s = s;
  a.opts = opts;
  if (stats != NULL)
    memset(stats, 0, sizeof *stats);
  if ((a.segs = calloc(nbatches ? nbatches : 1, sizeof *a.segs)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  a.nsegs = nbatches;
  for (size_t k = 0; k < nbatches; k++) {
    a.segs[k].b = batches[k];
    a.segs[k].n = batches[k]->limit;
    a.segs[k].newest = batches[k]->newest;
  }
  /* an entry that did not decode: the batches end before it */
  for (size_t k = 0; k < nbatches; k++) {
    if (batches[k]->limit == batches[k]->n)
      continue;
    first_rc = batches[k]->rc;
    first = batches[k]->err;
    fk = k;
    fi = batches[k]->limit;
    a.nsegs = k + 1; /* its newest marks already cover [0, limit) */
    a.opts = NULL;
    break;
  }
  for (;;) {
    a.bad = false; /* a transaction that fails to begin runs no attempt */
    cairn__error_clear(&a.err);
    rc = cairn__txn_write(s, attempt_fn, &a);
    if (rc == 0 || !a.bad) {
      if (rc != 0) { /* not an entry's fault: I/O, disk full */
        first = a.err.code ? a.err : (cairn_error_t){rc, ""};
        first_rc = rc;
        fk = all;
        fi = 0;
      }
      break;
    }
    first = a.err;
    first_rc = rc;
    fk = a.bad_seg;
    fi = a.bad_i;
    a.opts = NULL;
    if ((rc = segs_cut(&a, fk, fi)) != 0) {
      first = (cairn_error_t){rc, "out of memory"};
      first_rc = rc;
      break;
    }
  }
  if (rc != 0) /* the last attempt stored nothing */
    memset(&a.c, 0, sizeof a.c);
  fill_stats(stats, &a, first_rc ? fk : all, first_rc ? fi : 0);
  segs_free(a.segs, nbatches);
  if (rc == 0 && a.c.purged_any && (rc = cairn__store_compact(s)) != 0 && first_rc == 0)
    return cairn__error(err, rc, "applied, but compacting the store failed: %s",
                        cairn_strerror(rc));
  if (first_rc != 0) {
    if (err != NULL)
      *err = first;
    if (first.msg[0] == '\0')
      cairn__error(err, first_rc, "%s", cairn_strerror(first_rc));
    return first_rc;
  }
  return 0;
}

int cairn_store_apply(cairn_store_t *s, const cairn_buf_t *entries, size_t n,
                      cairn_apply_stats_t *stats, cairn_error_t *err) {
  cairn_prepared_t b;
  const cairn_prepared_t *one = &b;
  int rc;
  memset(&b, 0, sizeof b);
  if (stats != NULL)
    memset(stats, 0, sizeof *stats);
  if (prep_fill(&b, entries, n, s->opts.max_entry, s->opts.verify_all ? SIG_ALL : SIG_NEWEST,
                NULL, NULL) != 0)
    rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
  else
    rc = cairn_store_apply_prepared(s, &one, 1, NULL, stats, err);
  prep_release(&b);
  return rc;
}

/* ---- taking back this device's unacknowledged tail ---- */

struct cairn_taken {
  uint8_t **entries; /* copies of the entries taken back, oldest first */
  size_t *lens;
  size_t n, cap;
};

size_t cairn_taken_count(const cairn_taken_t *t) {
  return t != NULL ? t->n : 0;
}

const uint8_t *cairn_taken_entry(const cairn_taken_t *t, size_t i, size_t *len) {
  *len = t->lens[i];
  return t->entries[i];
}

void cairn_taken_free(cairn_taken_t *t) {
  if (t == NULL)
    return;
  for (size_t i = 0; i < t->n; i++)
    free(t->entries[i]);
  free(t->entries);
  free(t->lens);
  free(t);
}

static int taken_add(cairn_taken_t *t, const void *p, size_t len) {
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 8;
    uint8_t **e = realloc(t->entries, cap * sizeof *e);
    if (e != NULL)
      t->entries = e;
    size_t *l = e ? realloc(t->lens, cap * sizeof *l) : NULL;
    if (l == NULL)
      return CAIRN_ENOMEM;
    t->lens = l;
    t->cap = cap;
  }
  if ((t->entries[t->n] = malloc(len ? len : 1)) == NULL)
    return CAIRN_ENOMEM;
  memcpy(t->entries[t->n], p, len);
  t->lens[t->n++] = len;
  return 0;
}

/* ---- judging every entry again ---- */

/* An entry of the log, placed by its stamp. */
typedef struct stamped {
  uint64_t hlc;
  uint8_t key[40]; /* its log key: author, seq */
} stamped_t;

static int stamped_cmp(const void *a, const void *b) {
  const stamped_t *x = a, *y = b;
  if (x->hlc != y->hlc)
    return x->hlc < y->hlc ? -1 : 1;
  return memcmp(x->key, y->key, sizeof x->key);
}

/* Every entry of the log in stamp order (hlc, then author): *out malloc'd. */
static int log_by_stamp(apply_ctx_t *c, stamped_t **out, size_t *n) {
  MDB_cursor *cur;
  MDB_stat st;
  MDB_val k, v;
  cairn_entry_t e;
  size_t cap;
  int rc = cairn__mdb_err(mdb_stat(c->txn, c->s->dbi[DB_LOG], &st)), mrc;
  *out = NULL;
  *n = 0;
  if (rc != 0)
    return rc;
  cap = st.ms_entries ? st.ms_entries : 1;
  if ((*out = malloc(cap * sizeof **out)) == NULL)
    return CAIRN_ENOMEM;
  if ((rc = cairn__mdb_err(mdb_cursor_open(c->txn, c->s->dbi[DB_LOG], &cur))) != 0)
    return rc;
  for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
       mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
    if (k.mv_size != 40 || *n == cap ||
        cairn_entry_decode(v.mv_data, v.mv_size, SIZE_MAX, &e, NULL) != 0) {
      rc = CAIRN_ECORRUPT;
      break;
    }
    (*out)[*n].hlc = e.hlc;
    memcpy((*out)[*n].key, k.mv_data, 40);
    (*n)++;
  }
  mdb_cursor_close(cur);
  if (rc == 0 && mrc != MDB_NOTFOUND && mrc != 0)
    rc = cairn__mdb_err(mrc);
  if (rc == 0)
    cairn_sort(*out, *n, sizeof **out, stamped_cmp);
  return rc;
}

/* Empty what is derived from the log: records, conflicts, pending, history,
 * roles, the refused entries and the indexes. */
static int derived_drop(apply_ctx_t *c) {
  static const int derived[] = {DB_RECORDS, DB_CONFLICTS, DB_PENDING, DB_HISTORY,
                                DB_ROLES,   DB_REFUSED,   DB_INDEX};
  int rc = 0;
  cairn__wtxn_drop_cursors(&c->w);
  for (size_t i = 0; rc == 0 && i < sizeof derived / sizeof derived[0]; i++)
    rc = cairn__mdb_err(mdb_drop(c->txn, c->s->dbi[derived[i]], 0));
  c->merge.pending_any = false;
  c->merge.conflicts_any = false;
  c->role_gen++;
  return rc;
}

/* Judge and merge one logged entry (its log key) as if it arrived now. */
static int judge_logged(apply_ctx_t *c, cairn_prepared_t *b, bbuf_t *copy,
                        const stamped_t *at, uint64_t *hlc) {
  author_state_t *a;
  cairn_error_t why;
  MDB_val lk = mval(at->key, 40), ev;
  int rc = cairn__mdb_err(mdb_get(c->txn, c->s->dbi[DB_LOG], &lk, &ev));
  /* a copy: merging writes, which may move the page the entry is on */
  copy->len = 0;
  if (rc != 0 || (rc = cairn__bbuf_reserve(copy, ev.mv_size)) != 0)
    return rc;
  memcpy(copy->p, ev.mv_data, ev.mv_size);
  cairn_buf_t one = {copy->p, ev.mv_size};
  if ((rc = prep_fill(b, &one, 1, SIZE_MAX, SIG_NONE, NULL, NULL)) != 0)
    return rc;
  if (b->limit != 1)
    return CAIRN_ECORRUPT;
  const cairn_entry_t *e = &b->p[0].e;
  c->ops = b->ops + b->p[0].op0;
  c->nops = e->op_count;
  if ((rc = author_get(c, e->author, &a)) != 0)
    return rc;
  a->head.seq = e->seq;
  a->head.hlc = e->hlc;
  cairn__error_clear(&why);
  int role_rc = check_roles(c, e, &why);
  if (storage_error(role_rc))
    return role_rc;
  /* evidence moves no clock; an accepted entry does (this device's next change
   * is stamped after every role it holds) */
  if (role_rc == 0 && e->hlc > *hlc)
    *hlc = e->hlc;
  if (role_rc != 0 && (rc = refused_put(c, at->key, &why)) != 0)
    return rc;
  return merge_entry(c, e, role_rc != 0);
}

/* One pass over the log in stamp order, into emptied derived tables. */
static int judge_all(apply_ctx_t *c, const stamped_t *order, size_t n, uint64_t *hlc) {
  cairn_prepared_t b;
  bbuf_t copy = {NULL, 0, 0};
  int rc = derived_drop(c);
  memset(&b, 0, sizeof b);
  *hlc = 0;
  for (size_t i = 0; rc == 0 && i < n; i++)
    rc = judge_logged(c, &b, &copy, &order[i], hlc);
  prep_release(&b);
  free(copy.p);
  return rc;
}

/* Forget every author's place (all: the whole map; else keep the cut-offs). */
static void authors_reset(apply_ctx_t *c, bool all) {
  if (all) {
    free(c->authors);
    c->authors = NULL;
    c->authors_mask = c->authors_used = 0;
    return;
  }
  for (size_t i = 0; i <= c->authors_mask; i++)
    memset(&c->authors[i].head, 0, sizeof c->authors[i].head);
}

/* After a first pass: fix each author's cut-off as its revocations name it;
 * *again when one refuses entries that the pass accepted. */
static int fix_cutoffs(apply_ctx_t *c, bool *again) {
  int rc = 0;
  *again = false;
  for (size_t i = 0; rc == 0 && c->authors != NULL && i <= c->authors_mask; i++) {
    author_state_t *a = &c->authors[i];
    if (!a->used || (rc = cairn__member_cutoff(c->txn, c->s, a->author, &a->fixed_cut)) != 0)
      continue;
    a->has_fixed_cut = true;
    if (a->fixed_cut < a->head.seq)
      *again = true;
  }
  return rc;
}

/*
 * Judge every entry of the log again and rebuild what derives from it, so that
 * the records depend only on the set of entries held, whatever order they and
 * the roles arrived in (docs/design.md, "Membership and roles"). Entries are
 * taken in stamp order, each judged by its author's role at its stamp from the
 * roles that earlier entries set; those refused stay in the log as evidence.
 * Revocations' cut-offs refuse entries whatever their stamp, so when the first
 * pass finds a cut-off below entries it accepted, a second pass applies every
 * cut-off from the start. The clock becomes the greatest HLC of the entries
 * accepted (evidence moves none).
 */
static int recompute(apply_ctx_t *c) {
  stamped_t *order = NULL;
  uint64_t hlc = 0;
  size_t n = 0;
  bool again = false;
  int rc = authors_flush(c); /* heads moved by this batch, kept before forgetting */
  if (rc == 0)
    rc = log_by_stamp(c, &order, &n);
  if (rc == 0) {
    authors_reset(c, true);
    c->replaying = true;
    c->cut_mode = CUT_NONE;
    rc = judge_all(c, order, n, &hlc);
  }
  if (rc == 0 && (rc = fix_cutoffs(c, &again)) == 0 && again) {
    authors_reset(c, false);
    c->cut_mode = CUT_FIXED;
    rc = judge_all(c, order, n, &hlc);
  }
  free(order);
  c->cut_mode = CUT_INDEX;
  c->recompute = false;
  c->replaying = false;
  if (rc == 0) {
    uint8_t be[8];
    c->s->hlc = hlc;
    cairn_put_be64(be, hlc);
    rc = cairn__meta_put(c->txn, c->s, "hlc", be, 8);
  }
  return rc;
}

/* Remove author's entries above keep from the log and the arrivals, copying
 * them into t, and set its head to keep. */
static int cut_log(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, uint64_t keep,
                   uint64_t head, cairn_taken_t *t) {
  MDB_cursor *cur;
  MDB_val k, v;
  uint8_t kb[40];
  int rc = 0, mrc;
  for (uint64_t seq = keep + 1; rc == 0 && seq <= head; seq++) {
    cairn__key_log(kb, author, seq);
    k = mval(kb, sizeof kb);
    if ((rc = cairn__mdb_err(mdb_get(txn, s->dbi[DB_LOG], &k, &v))) == 0 &&
        (rc = taken_add(t, v.mv_data, v.mv_size)) == 0)
      rc = cairn__mdb_err(mdb_del(txn, s->dbi[DB_LOG], &k, NULL));
  }
  if (rc != 0 || (rc = cairn__mdb_err(mdb_cursor_open(txn, s->dbi[DB_ARRIVALS], &cur))) != 0)
    return rc;
  for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
       mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
    if (v.mv_size == 40 && memcmp(v.mv_data, author, CAIRN_KEY_BYTES) == 0 &&
        cairn_get_be64((const uint8_t *)v.mv_data + CAIRN_KEY_BYTES) > keep)
      rc = cairn__mdb_err(mdb_cursor_del(cur, 0));
  mdb_cursor_close(cur);
  if (rc != 0)
    return rc;
  head_t h = {0, {0}, 0};
  if (keep == 0) {
    k = mval(author, CAIRN_KEY_BYTES);
    rc = mdb_del(txn, s->dbi[DB_HEADS], &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : cairn__mdb_err(rc);
  }
  cairn_entry_t e;
  cairn__key_log(kb, author, keep);
  k = mval(kb, sizeof kb);
  if ((rc = cairn__mdb_err(mdb_get(txn, s->dbi[DB_LOG], &k, &v))) != 0)
    return rc;
  if (cairn_entry_decode(v.mv_data, v.mv_size, SIZE_MAX, &e, NULL) != 0)
    return CAIRN_ECORRUPT;
  h.seq = keep;
  h.hlc = e.hlc;
  cairn_entry_hash(&e, h.hash);
  return cairn__head_put(txn, s, author, &h);
}

#define TAKEN_ENTRY_MAX ((size_t)64 << 20) /* more is a damaged file, not an entry */

/* Append the entries of DIR/name (none when it is absent). */
static int taken_read(cairn_store_t *s, const char *name, cairn_taken_t *t) {
  uint8_t be[4], *buf = NULL;
  int rc = 0;
  FILE *f = cairn__side_file_open(s, name);
  if (f == NULL)
    return errno == ENOENT ? 0 : CAIRN_EIO;
  size_t got;
  while (rc == 0 && (got = fread(be, 1, 4, f)) > 0) {
    if (got != 4) {
      rc = CAIRN_ECORRUPT; /* a length cut short */
      break;
    }
    size_t len = cairn_get_be32(be);
    if (len > TAKEN_ENTRY_MAX || (buf = malloc(len ? len : 1)) == NULL)
      rc = len > TAKEN_ENTRY_MAX ? CAIRN_ECORRUPT : CAIRN_ENOMEM;
    else if (fread(buf, 1, len, f) != len)
      rc = CAIRN_ECORRUPT;
    else
      rc = taken_add(t, buf, len);
    free(buf);
    buf = NULL;
  }
  if (rc == 0 && ferror(f))
    rc = CAIRN_EIO;
  fclose(f);
  return rc;
}

int cairn_store_taken_pending(cairn_store_t *s, cairn_taken_t **out, cairn_error_t *err) {
  cairn_taken_t *t = calloc(1, sizeof *t);
  int rc = t == NULL ? CAIRN_ENOMEM : taken_read(s, TAKEN_FILE, t);
  *out = NULL;
  if (rc == 0 && t->n > 0) {
    *out = t;
    return 0;
  }
  cairn_taken_free(t);
  return rc == 0 ? 0
                 : cairn__error(err, rc, "cannot read %s/%s: %s", s->dir, TAKEN_FILE,
                                cairn_strerror(rc));
}

/* *keep becomes 1 when author's entry at seq 1 is the genesis of the network. */
static int keeps_genesis(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, uint64_t *keep) {
  uint8_t kb[40];
  MDB_val k, v;
  cairn_entry_t e;
  cairn__key_log(kb, author, 1);
  k = mval(kb, sizeof kb);
  int rc = mdb_get(txn, s->dbi[DB_LOG], &k, &v);
  if (rc == MDB_NOTFOUND)
    return 0;
  if (rc != 0)
    return cairn__mdb_err(rc);
  if (cairn_entry_decode(v.mv_data, v.mv_size, SIZE_MAX, &e, NULL) != 0)
    return CAIRN_ECORRUPT;
  if (is_genesis(&e))
    *keep = 1;
  return 0;
}

typedef struct take_back {
  cairn_store_t *s;
  const uint8_t *author;
  uint64_t keep;
  const char *file; /* where the entries taken are kept */
  cairn_taken_t *t; /* the file's entries (read once, before), then the ones cut */
  size_t before;    /* how many t held from the file */
} take_back_t;

static int take_back_fn(MDB_txn *txn, void *ud) {
  take_back_t *tb = ud;
  cairn_store_t *s = tb->s;
  apply_ctx_t c;
  head_t h;
  int rc;
  /* a retry after a full map starts over from the file's entries (the file may
   * have been rewritten by the attempt that failed) */
  for (size_t i = tb->before; i < tb->t->n; i++)
    free(tb->t->entries[i]);
  tb->t->n = tb->before;
  if ((rc = cairn__head_get(txn, s, tb->author, &h)) != 0)
    return rc;
  /* the network's genesis is never taken back: no other history of it can exist,
   * and without it the owner would be no member until the relay sent it again */
  if (tb->keep == 0 && h.seq > 0 && (rc = keeps_genesis(txn, s, tb->author, &tb->keep)) != 0)
    return rc;
  if (h.seq <= tb->keep)
    return 0;
  if ((rc = cut_log(txn, s, tb->author, tb->keep, h.seq, tb->t)) != 0)
    return rc;
  /* on disk before the log lets go of them */
  if ((rc = cairn__side_file_write(s, tb->file, (const uint8_t *const *)tb->t->entries,
                                   tb->t->lens, tb->t->n)) != 0)
    return rc;
  if ((rc = ctx_begin(&c, s, txn)) == 0)
    rc = recompute(&c);
  ctx_free(&c);
  return rc;
}

/* Take back author's entries above keep into tb->t, after the entries already
 * in tb->file (read once here: the file is rewritten with them and the new ones). */
static int take_back(take_back_t *tb, cairn_error_t *err) {
  int rc;
  if ((tb->t = calloc(1, sizeof *tb->t)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if ((rc = taken_read(tb->s, tb->file, tb->t)) != 0)
    return cairn__error(err, rc, "cannot read %s/%s", tb->s->dir, tb->file);
  tb->before = tb->t->n;
  if ((rc = cairn__txn_write(tb->s, take_back_fn, tb)) != 0)
    return cairn__error(err, rc, "cannot take back entries: %s", cairn_strerror(rc));
  return 0;
}

int cairn_store_drop_fork(cairn_store_t *s, const uint8_t author[CAIRN_KEY_BYTES],
                          uint64_t keep, size_t *dropped, cairn_error_t *err) {
  take_back_t tb = {s, author, keep, FORKED_FILE, NULL, 0};
  *dropped = 0;
  if (memcmp(author, cairn_store_key(s), CAIRN_KEY_BYTES) == 0)
    return cairn__error(err, CAIRN_EINVAL, "this device's own entries are taken back, not dropped");
  int rc = take_back(&tb, err);
  if (rc == 0)
    *dropped = tb.t->n - tb.before;
  cairn_taken_free(tb.t);
  return rc;
}

int cairn_store_take_back(cairn_store_t *s, uint64_t keep, cairn_taken_t **out,
                          cairn_error_t *err) {
  take_back_t tb = {s, cairn_store_key(s), keep, TAKEN_FILE, NULL, 0};
  int rc = take_back(&tb, err);
  *out = NULL;
  if (rc != 0) {
    cairn_taken_free(tb.t);
    return rc;
  }
  *out = tb.t;
  return 0;
}
