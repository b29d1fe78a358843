/*
 * compact.c — the compact form of runs of entries (compact.h, docs/protocol.md
 * "Compact entries"): items written from stored entries, entries rebuilt from
 * items.
 */
#include "compact.h"

#include <string.h>

#define ITEM_CONTINUES 3 /* [sig, hlc delta, ops] */
#define ITEM_STARTS 6    /* [sig, hlc, ops, author, seq, prev] */

void cairn_compact_init(cairn_compact_t *c, const uint8_t network[CAIRN_KEY_BYTES]) {
  memset(c, 0, sizeof *c);
  memcpy(c->network, network, CAIRN_KEY_BYTES);
}

/* The run goes on from this entry; hash is NULL when encoding (not needed). */
static void state_set(cairn_compact_t *c, const uint8_t *author, uint64_t seq, uint64_t hlc,
                      const uint8_t *hash) {
  c->have = true;
  memmove(c->author, author, CAIRN_KEY_BYTES); /* author may be c->author */
  c->seq = seq;
  c->hlc = hlc;
  if (hash != NULL)
    memcpy(c->hash, hash, CAIRN_HASH_BYTES);
}

/* ---- encoding ---- */

/* A stored entry's parts, with no op parsed: 1 when it is canonical, of c's
 * network and its ops array holds op_count ops, so that the receiver rebuilds it
 * exactly from its item. */
static bool compactable(const cairn_compact_t *c, const uint8_t *b, size_t len,
                        cairn_entry_t *e) {
  cairn_mpr_t r, ops;
  uint32_t n, hlen, nops;
  memset(e, 0, sizeof *e);
  cairn_mpr_init(&r, b, len);
  if (cairn_mpr_array(&r, &n) != 0 || n != 3 || cairn_mpr_bin(&r, &e->header, &hlen) != 0)
    return false;
  e->header_len = hlen;
  if (cairn__entry_decode_header(e) != 0 ||
      cairn_mpr_bin_exact(&r, &e->sig, CAIRN_SIG_BYTES) != 0)
    return false;
  ops = r;
  if (cairn_mpr_array(&ops, &nops) != 0 || nops != e->op_count)
    return false;
  e->bytes = b;
  e->len = len;
  e->ops = r.p;
  e->ops_len = cairn_mpr_left(&r);
  return memcmp(e->network, c->network, CAIRN_KEY_BYTES) == 0 && cairn__entry_canonical(e);
}

static int pack_bin(msgpack_packer *pk, const uint8_t *b, size_t n) {
  return msgpack_pack_bin(pk, n) | msgpack_pack_bin_body(pk, b, n);
}

int cairn_compact_encode(cairn_compact_t *c, const uint8_t *entry, size_t len,
                         msgpack_sbuffer *out) {
  msgpack_packer pk;
  cairn_entry_t e;
  int rc;
  msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
  if (!compactable(c, entry, len, &e)) {
    c->have = false;
    return pack_bin(&pk, entry, len) ? CAIRN_ENOMEM : 0;
  }
  /* a store chains each author's entries (prev = the hash of the one before),
   * so the next of the author's seqs continues the run without hashing here */
  bool continues = c->have && memcmp(c->author, e.author, CAIRN_KEY_BYTES) == 0 &&
                   e.seq == c->seq + 1 && e.hlc > c->hlc && e.prev != NULL;
  rc = msgpack_pack_array(&pk, continues ? ITEM_CONTINUES : ITEM_STARTS);
  rc |= pack_bin(&pk, e.sig, CAIRN_SIG_BYTES);
  rc |= msgpack_pack_uint64(&pk, continues ? e.hlc - c->hlc : e.hlc);
  rc |= msgpack_sbuffer_write(out, (const char *)e.ops, e.ops_len);
  if (!continues) {
    rc |= pack_bin(&pk, e.author, CAIRN_KEY_BYTES);
    rc |= msgpack_pack_uint64(&pk, e.seq);
    rc |= e.prev ? pack_bin(&pk, e.prev, CAIRN_HASH_BYTES) : msgpack_pack_nil(&pk);
  }
  state_set(c, e.author, e.seq, e.hlc, NULL);
  return rc ? CAIRN_ENOMEM : 0;
}

/* ---- decoding ---- */

/* A whole entry: the run ends with it. */
static int decode_whole(cairn_compact_t *c, cairn_mpr_t *q, size_t max_entry,
                        cairn_compact_entry_t *out, cairn_error_t *err) {
  uint32_t n;
  if (cairn_mpr_bin(q, &out->whole, &n) != 0 || n == 0)
    return cairn__error(err, CAIRN_EMALFORMED, "malformed compact entry (an empty entry)");
  if (n > max_entry)
    return cairn__error(err, CAIRN_ETOOBIG, "entry of %lu bytes exceeds the limit of %zu",
                        (unsigned long)n, max_entry);
  out->whole_len = out->len = n;
  c->have = false;
  return 0;
}

/* The author, seq and prev of an item: named by one that starts a run, else
 * those that follow the run's previous entry. */
static int run_fields(cairn_compact_t *c, cairn_mpr_t *q, uint32_t n, uint64_t *hlc,
                      const uint8_t **author, uint64_t *seq, const uint8_t **prev,
                      cairn_error_t *err) {
  if (n == ITEM_CONTINUES) {
    if (!c->have)
      return cairn__error(err, CAIRN_EMALFORMED,
                          "malformed compact entry (it continues a run that nothing started)");
    if (*hlc == 0 || *hlc > UINT64_MAX - c->hlc || c->seq == UINT64_MAX)
      return cairn__error(err, CAIRN_EMALFORMED,
                          "malformed compact entry (its hlc or seq does not follow the run's)");
    *hlc += c->hlc;
    *author = c->author;
    *seq = c->seq + 1;
    *prev = c->hash;
    return 0;
  }
  *prev = NULL;
  if (cairn_mpr_bin_exact(q, author, CAIRN_KEY_BYTES) != 0 || cairn_mpr_uint(q, seq) != 0 ||
      *seq == 0 ||
      (cairn_mpr_nil(q) != 0 && cairn_mpr_bin_exact(q, prev, CAIRN_HASH_BYTES) != 0) ||
      (*seq == 1) != (*prev == NULL))
    return cairn__error(err, CAIRN_EMALFORMED,
                        "malformed compact entry (its author, seq or prev)");
  return 0;
}

int cairn_compact_decode(cairn_compact_t *c, cairn_mpr_t *r, size_t max_entry,
                         cairn_compact_entry_t *out, cairn_error_t *err) {
  cairn_mpr_t q = *r;
  uint32_t n, count;
  uint64_t hlc, seq;
  const uint8_t *author, *prev;
  uint8_t root[CAIRN_HASH_BYTES];
  int rc;
  out->whole = NULL;
  if (cairn_mpr_peek(&q) == CAIRN_MP_BIN) {
    if ((rc = decode_whole(c, &q, max_entry, out, err)) == 0)
      *r = q;
    return rc;
  }
  if (cairn_mpr_array(&q, &n) != 0 || (n != ITEM_CONTINUES && n != ITEM_STARTS) ||
      cairn_mpr_bin_exact(&q, &out->sig, CAIRN_SIG_BYTES) != 0 ||
      cairn_mpr_uint(&q, &hlc) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "malformed compact entry");
  out->ops = q.p;
  if (cairn__ops_root(q.p, cairn_mpr_left(&q), &out->ops_len, &count, root) != 0 ||
      count == 0)
    return cairn__error(err, CAIRN_EMALFORMED, "malformed compact entry (its ops)");
  q.p += out->ops_len;
  if ((rc = run_fields(c, &q, n, &hlc, &author, &seq, &prev, err)) != 0)
    return rc;
  out->header_len = cairn__entry_header(out->header, c->network, author, seq, prev, hlc, root,
                                        count);
  out->len = cairn__entry_size(out->header_len, out->ops_len);
  if (out->len > max_entry)
    return cairn__error(err, CAIRN_ETOOBIG, "entry of %zu bytes exceeds the limit of %zu",
                        out->len, max_entry);
  cairn__entry_hash_of(out->header, out->header_len, out->sig, out->hash);
  state_set(c, author, seq, hlc, out->hash);
  *r = q;
  return 0;
}

void cairn_compact_entry_write(const cairn_compact_entry_t *ce, uint8_t *dst) {
  if (ce->whole != NULL)
    memcpy(dst, ce->whole, ce->whole_len);
  else
    cairn__entry_write(dst, ce->header, ce->header_len, ce->sig, ce->ops, ce->ops_len);
}
