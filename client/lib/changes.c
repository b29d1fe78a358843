/*
 * changes.c — the network-wide changes feed (cairn.h, cairn_changes; docs/design.md,
 * "The changes feed"): every op of every entry this replica holds, in time order,
 * with its author's member name, for `cairn changes`, the web app and reports.
 *
 * One read transaction walks the log in arrival order (cairn_store_arrivals),
 * which is not time order: each author's entries come in seq order, but authors
 * interleave as they arrived. So the walk reads each entry's HLC from its header
 * bytes first and skips, undecoded, every entry outside the time window; the
 * others are copied into an arena whose blocks never move (the views decoded
 * from them stay valid), sorted by stamp (HLC, then author: the order of
 * history and merge) and only then handed out, op by op. A walk that only
 * counts (CAIRN_CHANGES_UNORDERED) hands each entry out where it lies in the
 * store, in arrival order: nothing copied, nothing sorted.
 *
 * An entry handed out is read once: its header decoded, then its ops parsed
 * one at a time as they are handed out (each checked as cairn_entry_decode
 * checks it, their number and the bytes after them checked at the end).
 */
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "lib_internal.h"
#include "mpread.h"

#define ARENA_BLOCK ((size_t)1 << 20)
#define MS_PER_DAY 86400000ull

/* ---- member names, looked up by key ---- */

typedef struct name_row {
  uint8_t key[CAIRN_KEY_BYTES];
  char *name;
} name_row_t;

typedef struct names {
  name_row_t *v;
  size_t n, cap;
  int rc;
} names_t;

static int name_row_cmp(const void *a, const void *b) {
  return memcmp(((const name_row_t *)a)->key, ((const name_row_t *)b)->key, CAIRN_KEY_BYTES);
}

static int names_add(const cairn_member_t *m, void *ud) {
  names_t *t = ud;
  if (m->name == NULL)
    return 0;
  if (t->n == t->cap) {
    size_t cap = t->cap ? 2 * t->cap : 16;
    name_row_t *v = realloc(t->v, cap * sizeof *v);
    if (v == NULL)
      return t->rc = CAIRN_ENOMEM;
    t->v = v;
    t->cap = cap;
  }
  name_row_t *r = &t->v[t->n];
  if ((r->name = malloc((size_t)m->name_len + 1)) == NULL)
    return t->rc = CAIRN_ENOMEM;
  memcpy(r->key, m->key, CAIRN_KEY_BYTES);
  memcpy(r->name, m->name, m->name_len);
  r->name[m->name_len] = '\0';
  t->n++;
  return 0;
}

static void names_free(names_t *t) {
  for (size_t i = 0; i < t->n; i++)
    free(t->v[i].name);
  free(t->v);
}

/* cairn_members hands out records in key order: the table is sorted already. */
static int names_load(cairn_store_t *s, names_t *t) {
  int rc = cairn_members(s, names_add, t);
  return rc != 0 ? rc : t->rc;
}

/* The member name of key; this device's own name when its record has none (as
 * everywhere names are shown); NULL when unnamed. */
static const char *names_find(const names_t *t, cairn_store_t *s, const uint8_t *key) {
  name_row_t probe;
  memcpy(probe.key, key, CAIRN_KEY_BYTES);
  const name_row_t *r = bsearch(&probe, t->v, t->n, sizeof *t->v, name_row_cmp);
  return r != NULL ? r->name : cairn__self_name(s, key);
}

/* ---- an arena of copied entries ---- */

typedef struct block {
  struct block *next;
  size_t used, cap;
  uint8_t data[];
} block_t;

typedef struct arena {
  block_t *head;
} arena_t;

/* A copy of n bytes that stays where it is until the arena is freed. */
static uint8_t *arena_copy(arena_t *a, const uint8_t *p, size_t n) {
  block_t *b = a->head;
  if (b == NULL || b->cap - b->used < n) {
    size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
    if ((b = malloc(sizeof *b + cap)) == NULL)
      return NULL;
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  uint8_t *out = b->data + b->used;
  memcpy(out, p, n);
  b->used += n;
  return out;
}

static void arena_free(arena_t *a) {
  while (a->head != NULL) {
    block_t *next = a->head->next;
    free(a->head);
    a->head = next;
  }
}

/* ---- the walk ---- */

/* An entry kept for the feed: its stamp and its copied bytes. */
typedef struct ref {
  uint64_t hlc;
  const uint8_t *author; /* inside bytes */
  const uint8_t *bytes;
  size_t len;
} ref_t;

/* The header fields of a stored entry (8: version, network, author, seq,
 * prev, hlc, ops_root, op_count) as cairn_entry_decode reads them. */
static int view_header(cairn_entry_t *e) {
  cairn_mpr_t r;
  uint32_t n;
  uint64_t version, count;
  cairn_mpr_init(&r, e->header, e->header_len);
  if (cairn_mpr_array(&r, &n) != 0 || n != 8 || cairn_mpr_uint(&r, &version) != 0 ||
      version != CAIRN_ENTRY_VERSION ||
      cairn_mpr_bin_exact(&r, &e->network, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_bin_exact(&r, &e->author, CAIRN_KEY_BYTES) != 0 ||
      cairn_mpr_uint(&r, &e->seq) != 0 || e->seq == 0)
    return CAIRN_ECORRUPT;
  if (cairn_mpr_peek(&r) == CAIRN_MP_NIL
          ? cairn_mpr_nil(&r) != 0 || e->seq != 1
          : cairn_mpr_bin_exact(&r, &e->prev, CAIRN_HASH_BYTES) != 0 || e->seq == 1)
    return CAIRN_ECORRUPT;
  if (cairn_mpr_uint(&r, &e->hlc) != 0 ||
      cairn_mpr_bin_exact(&r, &e->ops_root, CAIRN_HASH_BYTES) != 0 ||
      cairn_mpr_uint(&r, &count) != 0 || count == 0 || count > UINT32_MAX ||
      cairn_mpr_left(&r) != 0)
    return CAIRN_ECORRUPT;
  e->op_count = (uint32_t)count;
  return 0;
}

/* A stored entry [header, sig, ops] with its header decoded and its ops not
 * yet read (emit_entry checks them as it reads them). */
static int view_entry(const uint8_t *p, size_t len, cairn_entry_t *e) {
  cairn_mpr_t r;
  uint32_t n, hlen;
  memset(e, 0, sizeof *e);
  cairn_mpr_init(&r, p, len);
  if (cairn_mpr_array(&r, &n) != 0 || n != 3 || cairn_mpr_bin(&r, &e->header, &hlen) != 0)
    return CAIRN_ECORRUPT;
  e->header_len = hlen;
  if (view_header(e) != 0 || cairn_mpr_bin_exact(&r, &e->sig, CAIRN_SIG_BYTES) != 0)
    return CAIRN_ECORRUPT;
  e->ops = r.p;
  e->ops_len = cairn_mpr_left(&r);
  e->bytes = p;
  e->len = len;
  return 0;
}

typedef struct feed {
  cairn_store_t *s;
  cairn_changes_opts_t opts;
  const names_t *names;
  cairn_changes_cb cb;
  void *ud;
  arena_t arena;
  ref_t *refs;
  size_t n, cap;
} feed_t;

static int in_window(const cairn_changes_opts_t *o, uint64_t hlc) {
  uint64_t ms = hlc >> 16;
  return ms >= o->since_ms && (o->until_ms == 0 || ms < o->until_ms);
}

static int reported(const cairn_changes_opts_t *o, const cairn_op_t *op) {
  return op->kind == CAIRN_OP_REDACTED || (o->flags & CAIRN_CHANGES_RESERVED) != 0 ||
         op->type[0] != '_';
}

/* Hand out the reported ops of the entry e (its header read), parsing each op
 * once: 0, > 0 to stop, or an error. Whether the entry is refused and its
 * author's name are looked up at its first reported op. A malformed op, a
 * count of ops other than the header's or bytes after the last op make the
 * entry corrupt (the ops before it were handed out). */
static int emit_entry(feed_t *f, const cairn_entry_t *e) {
  cairn_op_iter_t it;
  cairn_op_t op;
  cairn_error_t why = {0, ""};
  uint32_t index = 0;
  int rc, refused = -1;
  cairn_changes_item_t c = {.entry = e,
                            .hlc = e->hlc,
                            .time_ms = e->hlc >> 16,
                            .author = e->author,
                            .author_name = NULL,
                            .seq = e->seq,
                            .index = 0,
                            .kind = CAIRN_OP_REDACTED,
                            .type = NULL,
                            .type_len = 0,
                            .id = NULL,
                            .id_len = 0,
                            .op = &op,
                            .refused = NULL};
  cairn_op_iter_init(e, &it);
  if (it.left != e->op_count)
    return CAIRN_ECORRUPT;
  for (; cairn_op_next(&it, &op); index++) {
    if (!reported(&f->opts, &op))
      continue;
    if (refused < 0) {
      if ((refused = cairn_entry_refused(f->s, e->author, e->seq, &why)) < 0)
        return refused;
      c.refused = refused ? why.msg : NULL;
      c.author_name = names_find(f->names, f->s, e->author);
    }
    c.index = index;
    c.kind = op.kind;
    c.type = op.kind == CAIRN_OP_REDACTED ? NULL : op.type;
    c.type_len = op.kind == CAIRN_OP_REDACTED ? 0 : op.type_len;
    c.id = op.kind == CAIRN_OP_REDACTED ? NULL : op.id;
    c.id_len = op.kind == CAIRN_OP_REDACTED ? 0 : op.id_len;
    if ((rc = f->cb(&c, f->ud)) != 0)
      return rc;
  }
  return it.left != 0 || it.p != it.end ? CAIRN_ECORRUPT : 0;
}

/* Each entry within the window: handed out where it lies (unordered), or
 * copied to be sorted. */
static int keep_entry(const cairn_stored_t *st, uint64_t position, void *ud) {
  feed_t *f = ud;
  cairn_entry_t e;
  (void)position;
  int rc = view_entry(st->bytes, st->len, &e);
  if (rc != 0 || !in_window(&f->opts, e.hlc))
    return rc;
  if (f->opts.flags & CAIRN_CHANGES_UNORDERED)
    return emit_entry(f, &e);
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 1024;
    ref_t *v = realloc(f->refs, cap * sizeof *v);
    if (v == NULL)
      return CAIRN_ENOMEM;
    f->refs = v;
    f->cap = cap;
  }
  uint8_t *copy = arena_copy(&f->arena, st->bytes, st->len);
  if (copy == NULL)
    return CAIRN_ENOMEM;
  f->refs[f->n++] = (ref_t){e.hlc, copy + (e.author - st->bytes), copy, st->len};
  return 0;
}

static int ref_cmp(const void *a, const void *b) {
  const ref_t *x = a, *y = b;
  if (x->hlc != y->hlc)
    return x->hlc < y->hlc ? -1 : 1;
  return memcmp(x->author, y->author, CAIRN_KEY_BYTES);
}

/* The copied entries, by stamp. */
static int emit_sorted(feed_t *f) {
  cairn_entry_t e;
  int rc = 0;
  cairn_sort(f->refs, f->n, sizeof *f->refs, ref_cmp);
  for (size_t i = 0; i < f->n && rc == 0; i++)
    rc = view_entry(f->refs[i].bytes, f->refs[i].len, &e) != 0 ? CAIRN_ECORRUPT
                                                                : emit_entry(f, &e);
  return rc;
}

int cairn_changes(cairn_store_t *s, const cairn_changes_opts_t *opts, cairn_changes_cb cb,
                  void *ud) {
  names_t names = {NULL, 0, 0, 0};
  feed_t f = {.s = s, .opts = {0, 0, 0}, .names = &names, .cb = cb, .ud = ud,
              .arena = {NULL}, .refs = NULL, .n = 0, .cap = 0};
  int rc;
  if (s == NULL || cb == NULL)
    return CAIRN_EINVAL;
  if (opts != NULL)
    f.opts = *opts;
  if (f.opts.until_ms != 0 && f.opts.until_ms <= f.opts.since_ms)
    return 0;
  if ((rc = names_load(s, &names)) == 0 && (rc = cairn_store_arrivals(s, 0, keep_entry, &f)) == 0)
    rc = emit_sorted(&f); /* nothing was kept when unordered */
  if (rc > 0)
    rc = 0;
  free(f.refs);
  arena_free(&f.arena);
  names_free(&names);
  return rc;
}

/* ---- --since ---- */

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m) {
  static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : days[m - 1];
}

/* n digits at *p as a number; advances *p. -1 if they are not all digits. */
static long digits(const char **p, int n) {
  long v = 0;
  for (int i = 0; i < n; i++, (*p)++) {
    if (**p < '0' || **p > '9')
      return -1;
    v = v * 10 + (**p - '0');
  }
  return v;
}

/* HH:MM[:SS[.fff...]] at *p into ms of the day; advances *p. */
static int parse_clock(const char **p, int64_t *ms) {
  long h = digits(p, 2), mi = -1, sec = 0, frac = 0;
  if (h >= 0 && **p == ':') {
    (*p)++;
    mi = digits(p, 2);
  }
  if (mi >= 0 && **p == ':') {
    (*p)++;
    sec = digits(p, 2);
    if (sec >= 0 && **p == '.') {
      int n = 0;
      (*p)++;
      for (; **p >= '0' && **p <= '9'; (*p)++, n++)
        if (n < 3)
          frac = frac * 10 + (**p - '0');
      if (n == 0)
        return CAIRN_EINVAL;
      for (; n < 3; n++)
        frac *= 10;
    }
  }
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59)
    return CAIRN_EINVAL;
  *ms = ((h * 60 + mi) * 60 + sec) * 1000 + frac;
  return 0;
}

/* Z, +HH:MM or -HH:MM (or nothing: UTC) at p, the whole rest of the text, as the
 * ms to subtract from the local time. */
static int parse_zone(const char *p, int64_t *ms) {
  *ms = 0;
  if (*p == '\0' || (p[0] == 'Z' && p[1] == '\0'))
    return 0;
  if (*p != '+' && *p != '-')
    return CAIRN_EINVAL;
  int sign = *p++ == '-' ? -1 : 1;
  long h = digits(&p, 2), m = -1;
  if (h >= 0 && *p == ':')
    p++;
  if (h >= 0)
    m = digits(&p, 2);
  if (h < 0 || h > 23 || m < 0 || m > 59 || *p != '\0')
    return CAIRN_EINVAL;
  *ms = sign * (h * 60 + m) * 60000;
  return 0;
}

/* YYYY-MM-DD[THH:MM[:SS[.fff]][Z|±HH:MM]] as ms since 1970. */
static int parse_date(const char *p, uint64_t *out) {
  long y = digits(&p, 4), m = -1, d = -1;
  int64_t clock = 0, zone = 0;
  if (y >= 0 && *p == '-') {
    p++;
    m = digits(&p, 2);
  }
  if (m >= 1 && m <= 12 && *p == '-') {
    p++;
    d = digits(&p, 2);
  }
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > (long)days_in_month((unsigned)y, (unsigned)m))
    return CAIRN_EINVAL;
  if (*p == 'T' || *p == 't' || *p == ' ') {
    p++;
    if (parse_clock(&p, &clock) != 0 || parse_zone(p, &zone) != 0)
      return CAIRN_EINVAL;
  } else if (*p != '\0') {
    return CAIRN_EINVAL;
  }
  int64_t ms = days_from_civil(y, (unsigned)m, (unsigned)d) * (int64_t)MS_PER_DAY + clock - zone;
  *out = ms < 0 ? 0 : (uint64_t)ms;
  return 0;
}

int cairn_changes_parse_since(const char *text, uint64_t now_ms, uint64_t *since_ms) {
  size_t n = text != NULL ? strlen(text) : 0;
  if (n >= 2 && n <= 6 && (text[n - 1] == 'd' || text[n - 1] == 'D')) {
    uint64_t days = 0;
    for (size_t i = 0; i + 1 < n; i++) {
      if (text[i] < '0' || text[i] > '9')
        return CAIRN_EINVAL;
      days = days * 10 + (uint64_t)(text[i] - '0');
    }
    *since_ms = days * MS_PER_DAY >= now_ms ? 0 : now_ms - days * MS_PER_DAY;
    return 0;
  }
  return n == 0 ? CAIRN_EINVAL : parse_date(text, since_ms);
}
