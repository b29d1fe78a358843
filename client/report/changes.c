/*
 * changes.c — the changes report: who changed what from a time to the data's
 * time, read from the changes feed (cairn_changes), with a count per person
 * (report.h, "changes"; docs/design.md, "Reports"). Not the feed itself: that
 * is client/lib/changes.c.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mpread.h"
#include "report_internal.h"

#define DAY_MS 86400000ull
#define DEFAULT_SINCE_DAYS 30
#define HISTORY_LABELS 100 /* deleted records named from their history, at most */

const char *cairn_report_change_op_name(cairn_report_change_op_t op) {
  static const char *const names[] = {"added", "changed", "deleted", "purged", "erased"};
  return op < CAIRN_CHANGE_NOPS ? names[op] : "?";
}

static cairn_report_tone_t op_tone(cairn_report_change_op_t op) {
  static const cairn_report_tone_t tones[] = {CAIRN_TONE_GOOD, CAIRN_TONE_PLAIN,
                                              CAIRN_TONE_WARN, CAIRN_TONE_BAD,
                                              CAIRN_TONE_MUTED};
  return tones[op];
}

static char *dup_n(const char *s, size_t n) {
  char *out = malloc(n + 1);
  if (out == NULL)
    return NULL;
  memcpy(out, s, n);
  out[n] = 0;
  return out;
}

static void row_free(cairn_report_change_t *r) {
  free(r->author);
  free(r->type);
  free(r->type_label);
  free(r->id);
  free(r->label);
  free(r->fields);
}

/* ---- reading the feed ---- */

typedef struct feed {
  cairn_report_changes_t *m;
  const cairn_schema_t *sc;
  size_t cap;
  size_t skip; /* changes to pass over first, unread */
} feed_t;

/* name with its text appended (", " between), reallocated; NULL on out of memory
 * (list freed). */
static char *append(char *list, const char *name, size_t n) {
  size_t len = strlen(list);
  char *out = realloc(list, len + n + 3);
  if (out == NULL) {
    free(list);
    return NULL;
  }
  if (len > 0)
    memcpy(out + len, ", ", 2), len += 2;
  memcpy(out + len, name, n);
  out[len + n] = 0;
  return out;
}

/* A field name as the schema shows it now (a renamed field's new name). */
static const char *shown_name(const cairn_schema_type_t *t, const cairn_field_t *f,
                              char name[CAIRN_FIELD_MAX + 1]) {
  snprintf(name, CAIRN_FIELD_MAX + 1, "%.*s", (int)f->name_len, f->name);
  const cairn_schema_field_t *sf = cairn_schema_field(t, name);
  return sf != NULL ? sf->name : name;
}

/* A put's field names joined by ", " into *fields. 0 or CAIRN_ENOMEM. */
static int put_fields(const cairn_schema_type_t *t, const cairn_op_t *op, char **fields) {
  cairn_field_iter_t it;
  cairn_field_t f;
  char name[CAIRN_FIELD_MAX + 1];
  cairn_field_iter_init(op, &it);
  while (cairn_field_next(&it, &f)) {
    const char *shown = shown_name(t, &f, name);
    if ((*fields = append(*fields, shown, strlen(shown))) == NULL)
      return CAIRN_ENOMEM;
  }
  return 0;
}

/* The name (else title) a put wrote into *label, replacing what it held; left
 * as it is when the put wrote neither. 0 or CAIRN_ENOMEM. */
static int put_label(const cairn_schema_type_t *t, const cairn_op_t *op, char **label) {
  cairn_field_iter_t it;
  cairn_field_t f;
  char name[CAIRN_FIELD_MAX + 1];
  int named = 0;
  cairn_field_iter_init(op, &it);
  while (cairn_field_next(&it, &f)) {
    const char *shown = shown_name(t, &f, name), *s;
    int is_name = strcmp(shown, "name") == 0;
    cairn_mpr_t m;
    uint32_t n;
    cairn_mpr_init(&m, f.value, f.value_len);
    if ((is_name || (strcmp(shown, "title") == 0 && !named)) &&
        cairn_mpr_str(&m, &s, &n) == 0 && n > 0) {
      free(*label);
      if ((*label = dup_n(s, n)) == NULL)
        return CAIRN_ENOMEM;
      named |= is_name;
    }
  }
  return 0;
}

/* Whether a put reads as creating its record: it writes every field the
 * schema requires of its type (there is at least one), and either replaces no
 * value (each field's base is empty: the writer's replica held none of them)
 * or makes a deleted record again (its dseen names a delete no put had seen). */
static int creates(const cairn_schema_type_t *t, const cairn_op_t *op) {
  cairn_field_iter_t it;
  cairn_field_t f;
  char name[CAIRN_FIELD_MAX + 1];
  size_t required = 0, written = 0;
  for (size_t i = 0; t != NULL && i < t->nfields; i++)
    required += t->fields[i].required && !t->fields[i].hidden;
  if (required == 0)
    return 0;
  cairn_field_iter_init(op, &it);
  while (cairn_field_next(&it, &f)) {
    const cairn_schema_field_t *sf = cairn_schema_field(t, shown_name(t, &f, name));
    if (f.nbase != 0 && op->nseen == 0)
      return 0;
    written += sf != NULL && sf->required && !sf->hidden;
  }
  return written == required;
}

static cairn_report_change_op_t op_of(cairn_op_kind_t kind) {
  switch (kind) {
  case CAIRN_OP_PUT: return CAIRN_CHANGE_CHANGED;
  case CAIRN_OP_DEL: return CAIRN_CHANGE_DELETED;
  case CAIRN_OP_PURGE: return CAIRN_CHANGE_PURGED;
  default: return CAIRN_CHANGE_ERASED;
  }
}

static int fill_row(feed_t *f, const cairn_changes_item_t *c, cairn_report_change_t *r) {
  char type[CAIRN_TYPE_MAX + 1];
  memset(r, 0, sizeof *r);
  r->time_ms = c->time_ms;
  r->seq = c->seq;
  r->op = op_of(c->kind);
  cairn_hex(c->author, CAIRN_KEY_BYTES, r->author_key);
  if (c->author_name != NULL)
    r->author = strdup(c->author_name);
  else if ((r->author = malloc(21)) != NULL)
    snprintf(r->author, 21, "key %.16s", r->author_key);
  r->fields = strdup("");
  if (r->author == NULL || r->fields == NULL)
    return CAIRN_ENOMEM;
  if (r->op == CAIRN_CHANGE_ERASED)
    return 0;
  snprintf(type, sizeof type, "%.*s", (int)c->type_len, c->type);
  const cairn_schema_type_t *t = cairn_schema_type(f->sc, type);
  r->type = strdup(type);
  r->type_label = strdup(t != NULL && t->label != NULL && t->label[0] ? t->label : type);
  r->id = dup_n(c->id, c->id_len);
  if (r->type == NULL || r->type_label == NULL || r->id == NULL)
    return CAIRN_ENOMEM;
  if (c->kind != CAIRN_OP_PUT)
    return 0;
  if (creates(t, c->op))
    r->op = CAIRN_CHANGE_ADDED;
  int rc = put_fields(t, c->op, &r->fields);
  return rc != 0 ? rc : put_label(t, c->op, &r->label);
}

static int feed_one(const cairn_changes_item_t *c, void *ud) {
  feed_t *f = ud;
  cairn_report_changes_t *m = f->m;
  int rc;
  if (c->refused != NULL)
    return 0; /* held as evidence only: it changed nothing */
  if (f->skip > 0) {
    f->skip--;
    return 0;
  }
  if (cairn__report_grow((void **)&m->rows, &f->cap, m->n + 1, sizeof *m->rows) != 0)
    return CAIRN_ENOMEM;
  rc = fill_row(f, c, &m->rows[m->n]);
  m->n++; /* freed with the model even when half filled */
  return rc;
}

/* ---- labels ---- */

/* Whether records of type t may have a name or title (a type the schema does
 * not know may). */
static int has_label(const cairn_schema_type_t *t) {
  return t == NULL || cairn_schema_field(t, "name") != NULL ||
         cairn_schema_field(t, "title") != NULL;
}

typedef struct named {
  const cairn_schema_type_t *t;
  char *label;
  int rc;
} named_t;

static int history_label(const cairn_entry_t *e, const cairn_op_t *op, void *ud) {
  named_t *n = ud;
  (void)e;
  if (op->kind == CAIRN_OP_PUT)
    n->rc = put_label(n->t, op, &n->label);
  return n->rc != 0;
}

/* The latest name or title in the history of record r (type t) into *out
 * (malloc'd; left NULL when it has none). */
static int history_name(cairn_report_data_t *d, const cairn_schema_type_t *t,
                        const cairn_report_change_t *r, char **out) {
  named_t n = {t, NULL, 0};
  int rc = cairn_history(cairn_report_data_store(d), r->type, r->id, history_label, &n);
  if (rc == 0)
    rc = n.rc;
  if (rc != 0)
    free(n.label);
  *out = rc == 0 ? n.label : NULL;
  return rc;
}

/* The label of all the rows v[i..end) of a record: its name or title as of the
 * data's time; else the latest one its puts here wrote; else, for a record no
 * longer there (deleted), the latest one its history holds (for the first
 * HISTORY_LABELS such records: each costs a read of its history); else its id.
 * *out is malloc'd. */
static int record_label(cairn_report_data_t *d, cairn_report_change_t **v, size_t i,
                        size_t end, size_t *histories, char **out) {
  const cairn_schema_type_t *t = cairn_schema_type(cairn_report_data_schema(d), v[i]->type);
  const cairn_report_set_t *set;
  const cairn_report_rec_t *rec;
  const char *now;
  int rc;
  *out = NULL;
  if (!has_label(t))
    return (*out = strdup(v[i]->id)) != NULL ? 0 : CAIRN_ENOMEM;
  if ((rc = cairn_report_set(d, v[i]->type, &set)) != 0)
    return rc;
  rec = cairn_report_find(set, v[i]->id);
  if (rec != NULL && (now = cairn_report_label(d, rec)) != rec->id)
    return (*out = strdup(now)) != NULL ? 0 : CAIRN_ENOMEM;
  for (size_t k = end; k-- > i;)
    if (v[k]->label != NULL)
      return (*out = strdup(v[k]->label)) != NULL ? 0 : CAIRN_ENOMEM;
  if (rec == NULL && (*histories)++ < HISTORY_LABELS &&
      (rc = history_name(d, t, v[i], out)) != 0)
    return rc;
  if (*out == NULL)
    *out = strdup(v[i]->id);
  return *out != NULL ? 0 : CAIRN_ENOMEM;
}

/* Give all the rows v[i..end) of a record its label. */
static int label_record(cairn_report_data_t *d, cairn_report_change_t **v, size_t i,
                        size_t end, size_t *histories) {
  char *label;
  int rc = record_label(d, v, i, end, histories, &label);
  for (size_t k = i; rc == 0 && k < end; k++) {
    free(v[k]->label);
    if ((v[k]->label = strdup(label)) == NULL)
      rc = CAIRN_ENOMEM;
  }
  free(label);
  return rc;
}

/* ---- per record ---- */

static int same_record(const cairn_report_change_t *a, const cairn_report_change_t *b) {
  return strcmp(a->type, b->type) == 0 && strcmp(a->id, b->id) == 0;
}

/* Rows by record (type, id), then in the feed's order. */
static int by_record(const void *a, const void *b) {
  const cairn_report_change_t *x = *(cairn_report_change_t *const *)a;
  const cairn_report_change_t *y = *(cairn_report_change_t *const *)b;
  int c = strcmp(x->type, y->type);
  if (c == 0)
    c = strcmp(x->id, y->id);
  return c != 0 ? c : (x > y) - (x < y);
}

/* Of the puts of one entry on one record, only the first is "added": the
 * others were written from the same state (v[i..end): one record's rows). */
static void one_added_per_entry(cairn_report_change_t **v, size_t i, size_t end) {
  for (size_t k = i + 1; k < end; k++)
    if (v[k]->op == CAIRN_CHANGE_ADDED && v[k - 1]->seq == v[k]->seq &&
        strcmp(v[k - 1]->author_key, v[k]->author_key) == 0)
      v[k]->op = CAIRN_CHANGE_CHANGED;
}

/* Label each record's rows and count the records. */
static int per_record(cairn_report_data_t *d, cairn_report_changes_t *m,
                      cairn_report_change_t **v, size_t nv) {
  size_t histories = 0; /* deleted records named from their history so far */
  int rc = 0;
  qsort(v, nv, sizeof *v, by_record);
  for (size_t i = 0, end; rc == 0 && i < nv; i = end) {
    for (end = i + 1; end < nv && same_record(v[i], v[end]); end++)
      ;
    one_added_per_entry(v, i, end);
    rc = label_record(d, v, i, end, &histories);
  }
  return rc;
}

/* ---- people and records: counted over every change ---- */

/* FNV-1a of a record's type and id: records touched are counted by it, and by
 * it mixed with a person's number (a collision between two records, or two
 * pairs, of one window is left to chance: 2^-64). */
static uint64_t record_hash(const char *type, size_t tl, const char *id, size_t il) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < tl; i++)
    h = (h ^ (uint8_t)type[i]) * 1099511628211ull;
  h = (h ^ 0xff) * 1099511628211ull;
  for (size_t i = 0; i < il; i++)
    h = (h ^ (uint8_t)id[i]) * 1099511628211ull;
  return h;
}

/*
 * A set of 64-bit keys, each with the number of who added it first: open
 * addressing, at most half full, key 0 kept apart. The records touched are
 * one such set (who: the first person to touch each); the records a second
 * person touched as well, another (keys: the record mixed with the person).
 * One look a change, then, for the common record touched by one person.
 */
typedef struct keyset {
  uint64_t *keys; /* 0: empty */
  size_t *who;    /* beside the keys: a look reads only the keys */
  size_t cap, n;  /* cap: a power of two */
  int has_zero;
  size_t zero_who;
} keyset_t;

static size_t key_slot(const keyset_t *t, uint64_t key) {
  uint64_t h = key; /* splitmix64's finish: keys of one record's pairs spread */
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  size_t i = (size_t)(h ^ (h >> 31)) & (t->cap - 1);
  while (t->keys[i] != 0 && t->keys[i] != key)
    i = (i + 1) & (t->cap - 1);
  return i;
}

static void keyset_free(keyset_t *t) {
  free(t->keys);
  free(t->who);
}

static int keyset_grow(keyset_t *t) {
  keyset_t bigger = {NULL, NULL, t->cap ? 2 * t->cap : 4096, t->n, t->has_zero, t->zero_who};
  bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
  bigger.who = malloc(bigger.cap * sizeof *bigger.who);
  if (bigger.keys == NULL || bigger.who == NULL) {
    keyset_free(&bigger);
    return CAIRN_ENOMEM;
  }
  for (size_t i = 0; i < t->cap; i++)
    if (t->keys[i] != 0) {
      size_t j = key_slot(&bigger, t->keys[i]);
      bigger.keys[j] = t->keys[i];
      bigger.who[j] = t->who[i];
    }
  keyset_free(t);
  *t = bigger;
  return 0;
}

/* Add key for who: 1 when it is new, 0 when it was there (*first: who added
 * it), or CAIRN_ENOMEM. */
static int keyset_add(keyset_t *t, uint64_t key, size_t who, size_t *first) {
  if (key == 0) {
    int added = !t->has_zero;
    if (added)
      t->zero_who = who;
    t->has_zero = 1;
    *first = t->zero_who;
    return added;
  }
  if (2 * (t->n + 1) > t->cap && keyset_grow(t) != 0)
    return CAIRN_ENOMEM;
  size_t i = key_slot(t, key);
  if (t->keys[i] != 0) {
    *first = t->who[i];
    return 0;
  }
  t->keys[i] = key;
  t->who[i] = who;
  t->n++;
  *first = who;
  return 1;
}

/* One entry of the window as the count saw it: its stamp and its changes. */
typedef struct counted {
  uint64_t hlc;
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq;
  size_t changes;
  size_t person;
} counted_t;

typedef struct count {
  cairn_report_changes_t *m;
  counted_t *entries; /* in arrival order, then by stamp */
  size_t nentries, cap;
  keyset_t records; /* the records touched, with who touched each first */
  keyset_t pairs;   /* the records a person touched after someone else */
  int rc;
} count_t;

static size_t person_of(cairn_report_changes_t *m, const cairn_changes_item_t *c) {
  char key[2 * CAIRN_KEY_BYTES + 1];
  cairn_hex(c->author, CAIRN_KEY_BYTES, key);
  for (size_t i = 0; i < m->npeople; i++)
    if (strcmp(m->people[i].author_key, key) == 0)
      return i;
  cairn_report_changer_t *v = realloc(m->people, (m->npeople + 1) * sizeof *v);
  if (v == NULL)
    return SIZE_MAX;
  m->people = v;
  cairn_report_changer_t *p = &v[m->npeople];
  memset(p, 0, sizeof *p);
  memcpy(p->author_key, key, sizeof key);
  if (c->author_name != NULL)
    p->author = strdup(c->author_name);
  else if ((p->author = malloc(21)) != NULL)
    snprintf(p->author, 21, "key %.16s", key);
  if (p->author == NULL)
    return SIZE_MAX;
  return m->npeople++;
}

/* The count's record of c's entry: the last one, or a new one at its first
 * change (an entry's changes come together). NULL when out of memory. */
static counted_t *entry_of(count_t *k, const cairn_changes_item_t *c) {
  counted_t *e = k->nentries ? &k->entries[k->nentries - 1] : NULL;
  if (e != NULL && e->seq == c->seq && memcmp(e->author, c->author, CAIRN_KEY_BYTES) == 0)
    return e;
  if (cairn__report_grow((void **)&k->entries, &k->cap, k->nentries + 1, sizeof *k->entries) != 0)
    return NULL;
  e = &k->entries[k->nentries];
  e->hlc = c->hlc;
  memcpy(e->author, c->author, CAIRN_KEY_BYTES);
  e->seq = c->seq;
  e->changes = 0;
  if ((e->person = person_of(k->m, c)) == SIZE_MAX)
    return NULL;
  k->nentries++;
  return e;
}

static int count_one(const cairn_changes_item_t *c, void *ud) {
  count_t *k = ud;
  counted_t *e;
  if (c->refused != NULL)
    return 0; /* held as evidence only: it changed nothing */
  if ((e = entry_of(k, c)) == NULL)
    return k->rc = CAIRN_ENOMEM, -1;
  e->changes++;
  k->m->total++;
  k->m->people[e->person].changes++;
  if (c->kind == CAIRN_OP_REDACTED)
    return 0; /* erased: no record to count */
  uint64_t record = record_hash(c->type, c->type_len, c->id, c->id_len);
  size_t first;
  int added = keyset_add(&k->records, record, e->person, &first);
  if (added > 0) /* a record nobody touched yet */
    k->m->records++;
  else if (added == 0 && first != e->person) /* touched by someone else first */
    added = keyset_add(&k->pairs, record ^ ((e->person + 1) * 0x9e3779b97f4a7c15ull),
                       e->person, &first);
  if (added < 0)
    return k->rc = CAIRN_ENOMEM, -1;
  k->m->people[e->person].records += (unsigned)added;
  return 0;
}

static int changer_cmp(const void *a, const void *b) {
  const cairn_report_changer_t *x = a, *y = b;
  if (x->changes != y->changes)
    return x->changes > y->changes ? -1 : 1;
  int c = strcmp(x->author, y->author);
  return c != 0 ? c : strcmp(x->author_key, y->author_key);
}


static int counted_cmp(const void *a, const void *b) {
  const counted_t *x = a, *y = b;
  if (x->hlc != y->hlc)
    return x->hlc < y->hlc ? -1 : 1;
  return memcmp(x->author, y->author, CAIRN_KEY_BYTES);
}

/* Where the latest kept changes start, in the feed's order: the time of the
 * kept-th last change (since_ms when there are no more), and how many changes
 * from that time come before it (*skip: those of its millisecond). */
static uint64_t latest_from(count_t *k, size_t kept, size_t *skip) {
  cairn_report_changes_t *m = k->m;
  size_t after = 0;
  *skip = 0;
  if (m->total <= kept)
    return m->since_ms;
  cairn_sort(k->entries, k->nentries, sizeof *k->entries, counted_cmp);
  size_t i = k->nentries;
  while (i-- > 0 && (after += k->entries[i].changes) < kept)
    ;
  uint64_t from = k->entries[i].hlc >> 16;
  while (i-- > 0 && k->entries[i].hlc >> 16 == from)
    after += k->entries[i].changes;
  *skip = after - kept;
  return from;
}

/* ---- the model ---- */

static int summarise(cairn_report_data_t *d, cairn_report_changes_t *m) {
  cairn_report_change_t **v = malloc((m->n + 1) * sizeof *v);
  size_t nv = 0;
  int rc;
  if (v == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->n; i++)
    if (m->rows[i].type != NULL)
      v[nv++] = &m->rows[i];
  rc = per_record(d, m, v, nv);
  free(v);
  return rc;
}

/* Rows of the latest changes: the feed read again from the time of the
 * CAIRN_REPORT_CHANGES_KEPT-th last, the ones before it that share that
 * millisecond passed over unread, and (should the log have grown since the
 * count) any beyond the kept dropped from the front. */
static int latest_rows(cairn_report_data_t *d, cairn_report_changes_t *m, count_t *k) {
  feed_t f = {m, cairn_report_data_schema(d), 0, 0};
  size_t kept = CAIRN_REPORT_CHANGES_KEPT;
  uint64_t from = latest_from(k, kept, &f.skip);
  cairn_changes_opts_t o = {from, m->until_ms + 1, 0};
  int rc = cairn_changes(cairn_report_data_store(d), &o, feed_one, &f);
  if (rc != 0 || m->n <= kept)
    return rc;
  size_t extra = m->n - kept;
  for (size_t i = 0; i < extra; i++)
    row_free(&m->rows[i]);
  memmove(m->rows, m->rows + extra, kept * sizeof *m->rows);
  m->n = kept;
  return 0;
}

int cairn_report_changes(cairn_report_data_t *d, uint64_t since_ms,
                         cairn_report_changes_t **out) {
  cairn_report_changes_t *m = calloc(1, sizeof *m);
  count_t k = {m, NULL, 0, 0, {NULL, NULL, 0, 0, 0, 0}, {NULL, NULL, 0, 0, 0, 0}, 0};
  uint64_t now = cairn_report_data_time(d);
  int rc = 0;
  *out = NULL;
  if (m == NULL)
    return CAIRN_ENOMEM;
  m->until_ms = now;
  m->since_ms = since_ms ? since_ms
                : now > DEFAULT_SINCE_DAYS * DAY_MS ? now - DEFAULT_SINCE_DAYS * DAY_MS
                                                    : 1;
  /* one pass counts every change, in the order the log holds them; a second
   * reads the latest in full, in time order */
  cairn_changes_opts_t o = {m->since_ms, m->until_ms + 1, CAIRN_CHANGES_UNORDERED};
  if (m->since_ms <= m->until_ms) {
    rc = cairn_changes(cairn_report_data_store(d), &o, count_one, &k);
    if (rc == 0)
      rc = k.rc;
    if (rc == 0) {
      cairn_sort(m->people, m->npeople, sizeof *m->people, changer_cmp);
      rc = latest_rows(d, m, &k);
    }
  }
  free(k.entries);
  keyset_free(&k.records);
  keyset_free(&k.pairs);
  if (rc == 0)
    rc = summarise(d, m);
  if (rc != 0) {
    cairn_report_changes_free(m);
    return rc;
  }
  *out = m;
  return 0;
}

void cairn_report_changes_free(cairn_report_changes_t *m) {
  if (m == NULL)
    return;
  for (size_t i = 0; i < m->n; i++)
    row_free(&m->rows[i]);
  free(m->rows);
  for (size_t i = 0; i < m->npeople; i++)
    free(m->people[i].author);
  free(m->people);
  free(m);
}

/* ---- the document ---- */

/* "YYYY-MM-DD HH:MM" (UTC) of ms since 1970. */
static void time_text(uint64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  if (gmtime_r(&t, &tm) == NULL || strftime(out, 32, "%Y-%m-%d %H:%M", &tm) == 0)
    snprintf(out, 32, "@%llu", (unsigned long long)ms);
}

static int count_fact(cairn_report_section_t *sec, const char *id, const char *label,
                      size_t n) {
  char text[32];
  snprintf(text, sizeof text, "%zu", n);
  return cairn_report_fact_add(sec, id, label, text, 1, (double)n, 0);
}

static int people_table(cairn_report_section_t *sec, const cairn_report_changes_t *m) {
  const char *ids[] = {"person", "changes", "records"};
  const char *labels[] = {"Person", "Changes", "Records"};
  const int numeric[] = {0, 1, 1};
  cairn_report_table_t *t = cairn_report_table_add(sec, "by_person", "By person", ids, labels,
                                                   numeric, 3, "Nobody changed anything.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = 0; i < m->npeople; i++) {
    const cairn_report_changer_t *p = &m->people[i];
    cairn_report_row_t *row = cairn_report_row_add(t, "_member", p->author_key);
    int rc = row == NULL ? CAIRN_ENOMEM : cairn_report_cell_text(row, 0, p->author, 0);
    if (rc == 0)
      rc = cairn_report_cell_number(row, 1, p->changes, 0, NULL, 0);
    if (rc == 0)
      rc = cairn_report_cell_number(row, 2, p->records, 0, NULL, 0);
    if (rc != 0)
      return rc;
  }
  return 0;
}

/* The field names of a row as people read them: each field's label from the
 * schema (its name when it has none), joined by ", ". */
static void field_labels(const cairn_schema_t *sc, const cairn_report_change_t *r, char *out,
                         size_t cap) {
  const cairn_schema_type_t *t = r->type != NULL ? cairn_schema_type(sc, r->type) : NULL;
  char name[CAIRN_FIELD_MAX + 1];
  size_t len = 0;
  out[0] = 0;
  for (const char *p = r->fields; *p && len + 1 < cap;) {
    size_t n = strcspn(p, ",");
    snprintf(name, sizeof name, "%.*s", (int)n, p);
    const cairn_schema_field_t *f = cairn_schema_field(t, name);
    int w = snprintf(out + len, cap - len, "%s%s", len ? ", " : "",
                     f != NULL && f->label[0] ? f->label : name);
    len = w < 0 || (size_t)w >= cap - len ? cap - 1 : len + (size_t)w;
    p += n;
    p += strspn(p, ", ");
  }
}

static int change_row(cairn_report_table_t *t, const cairn_schema_t *sc,
                      const cairn_report_change_t *r) {
  char when[32], fields[600];
  cairn_report_row_t *row = cairn_report_row_add(t, r->type, r->id);
  const char *erased = r->op == CAIRN_CHANGE_ERASED ? "(erased by a purge)" : "";
  const char *cells[] = {when, r->author, cairn_report_change_op_name(r->op),
                         r->type_label ? r->type_label : "", r->label ? r->label : erased,
                         fields};
  int rc = row == NULL ? CAIRN_ENOMEM : 0;
  field_labels(sc, r, fields, sizeof fields);
  time_text(r->time_ms, when);
  for (size_t k = 0; rc == 0 && k < 6; k++)
    rc = cairn_report_cell_text(row, k, cells[k], k == 2 ? op_tone(r->op) : 0);
  return rc;
}

static int changes_table(cairn_report_section_t *sec, const cairn_schema_t *sc,
                         const cairn_report_changes_t *m) {
  const char *ids[] = {"time", "person", "op", "type", "record", "fields"};
  const char *labels[] = {"When (UTC)", "Person", "Did", "Type", "Record", "Fields"};
  char title[96];
  size_t from = 0;
  if (m->total > m->n)
    snprintf(title, sizeof title, "The latest %zu of %zu changes (all: cairn changes --since)",
             m->n, m->total);
  else
    snprintf(title, sizeof title, "Every change");
  cairn_report_table_t *t = cairn_report_table_add(sec, "changes", title, ids, labels, NULL, 6,
                                                   "No changes in this time.");
  if (t == NULL)
    return CAIRN_ENOMEM;
  for (size_t i = from; i < m->n; i++) {
    int rc = change_row(t, sc, &m->rows[i]);
    if (rc != 0)
      return rc;
  }
  return 0;
}

int cairn_report_changes_doc(const cairn_report_changes_t *m, cairn_report_data_t *d,
                             cairn_report_doc_t *doc) {
  char since[32], until[32], intro[200];
  int rc;
  time_text(m->since_ms, since);
  time_text(m->until_ms, until);
  snprintf(intro, sizeof intro,
           "Who changed what from %s to %s (UTC): added, changed, deleted, purged, or erased "
           "by a purge.",
           since, until);
  cairn_report_section_t *sec = cairn_report_section_add(doc, "changes", "Changes", intro);
  if (sec == NULL)
    return CAIRN_ENOMEM;
  if ((rc = count_fact(sec, "changes", "Changes", m->total)) != 0 ||
      (rc = count_fact(sec, "people", "People who made them", m->npeople)) != 0 ||
      (rc = count_fact(sec, "records", "Records touched", m->records)) != 0 ||
      (rc = people_table(sec, m)) != 0)
    return rc;
  return changes_table(sec, cairn_report_data_schema(d), m);
}

int cairn__report_changes(cairn_report_data_t *d, const cairn_report_opts_t *opts,
                          cairn_report_doc_t *doc) {
  cairn_report_changes_t *m;
  int rc = cairn_report_changes(d, opts->since_ms, &m);
  if (rc == 0)
    rc = cairn_report_changes_doc(m, d, doc);
  cairn_report_changes_free(m);
  return rc;
}
