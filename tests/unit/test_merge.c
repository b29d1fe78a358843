/*
 * test_merge.c — targeted, deterministic cases of merge, conflicts, delete,
 * purge and roles (docs/design.md, "Merge", "Conflicts", "Purge", "Membership and roles").
 *
 * Deletes concurrent with edits: a del names what it saw of the record, a put
 * the dels it saw; whatever no op of the other kind saw is live, and live dels
 * beside live puts are a delete/edit conflict (the record stays, listed as the
 * pseudo-field `_deleted`), resolved by keeping the record or deleting it again.
 * A del written before dels named what they saw is ordered by stamp. A nil value
 * (an unset field) is an absent field.
 *
 * Every case builds a small network of real stores in temporary directories: an
 * owner and one or more editors, exchanging entries with cairn_store_export and
 * cairn_store_apply exactly as a sync would. After each exchange both sides must
 * show the same state, compared as a serialized text of every visible record
 * (fields, values, stamps), every conflict with its heads and the version vector.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cairn_test.h"

typedef cairn_test_node_t node_t;
typedef cairn_test_entries_t elist_t;

/* ---- values ---- */

/* A fixstr MessagePack value for a short string. */
typedef struct val {
  uint8_t b[32];
  size_t len;
} val_t;

static val_t str_val(const char *s) {
  val_t v;
  size_t n = strlen(s);
  assert_true(n < 31);
  v.b[0] = (uint8_t)(0xa0 | n);
  memcpy(v.b + 1, s, n);
  v.len = n + 1;
  return v;
}

/* ---- entries ---- */

/* Entries of src that dst lacks (all if dst is NULL), in src's arrival order.
 * Only those of author when author is not NULL. */
static void lacking(node_t *dst, node_t *src, const uint8_t *author, elist_t *out) {
  CAIRN_PASS(cairn_test_lacking(dst ? dst->s : NULL, src->s, author, out));
}

static int apply_list(node_t *dst, const elist_t *l, cairn_apply_stats_t *st,
                      cairn_error_t *err) {
  return cairn_test_apply_range(dst->s, l, 0, l->n, st, err);
}

static void apply_ok(node_t *dst, const elist_t *l) {
  cairn_apply_stats_t st;
  cairn_error_t err = {0, ""};
  int rc = apply_list(dst, l, &st, &err);
  if (rc != 0)
    fail_msg("apply to %s: %s (%s)", dst->name, cairn_err_name(rc), err.msg);
}

/* Apply to dst everything src holds that dst lacks (only author's if not NULL). */
static void sync_from(node_t *dst, node_t *src, const uint8_t *author) {
  cairn_error_t err = {0, ""};
  int rc = cairn_test_sync(dst->s, src->s, author, &err);
  if (rc != 0)
    fail_msg("sync %s <- %s: %s (%s)", dst->name, src->name, cairn_err_name(rc), err.msg);
}

/* ---- changes ---- */

/* Commit c on n; what names the change in the failure message. */
static void commit_ok(node_t *n, cairn_change_t *c, const char *what) {
  cairn_error_t err = {0, ""};
  int rc = cairn_change_commit(c, NULL, &err);
  if (rc != 0)
    fail_msg("%s on %s: %s (%s)", what, n->name, cairn_err_name(rc), err.msg);
}

static void put_ex(node_t *n, const char *type, const char *id, const char *field,
                   const char *value, int resolve) {
  cairn_change_t *c;
  val_t v = str_val(value);
  assert_int_equal(cairn_change_begin(n->s, &c), 0);
  assert_int_equal(cairn_change_put(c, type, id, field, v.b, v.len, resolve), 0);
  commit_ok(n, c, "put");
}

static void put(node_t *n, const char *id, const char *field, const char *value) {
  put_ex(n, "task", id, field, value, 0);
}

/* A put of task/id.field on n that must be refused with code. */
static void put_refused(node_t *n, const char *id, const char *field, const char *value,
                        int code) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  val_t v = str_val(value);
  assert_int_equal(cairn_change_begin(n->s, &c), 0);
  assert_int_equal(cairn_change_put(c, "task", id, field, v.b, v.len, 0), 0);
  CAIRN_FAIL(cairn_change_commit(c, NULL, &err), code);
}

static void del(node_t *n, const char *id) {
  cairn_change_t *c;
  assert_int_equal(cairn_change_begin(n->s, &c), 0);
  assert_int_equal(cairn_change_del(c, "task", id), 0);
  commit_ok(n, c, "del");
}

/* Keep task/id (ends a delete/edit conflict); returns the commit's result. */
static int keep(node_t *n, const char *id) {
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  assert_int_equal(cairn_change_begin(n->s, &c), 0);
  assert_int_equal(cairn_change_keep(c, "task", id), 0);
  return cairn_change_commit(c, NULL, &err);
}

/* Unset task/id.field: write it nil. */
static void unset(node_t *n, const char *id, const char *field) {
  cairn_change_t *c;
  static const uint8_t nil = 0xc0;
  assert_int_equal(cairn_change_begin(n->s, &c), 0);
  assert_int_equal(cairn_change_put(c, "task", id, field, &nil, 1, 0), 0);
  commit_ok(n, c, "unset");
}

static void key_hex(const node_t *n, char out[2 * CAIRN_KEY_BYTES + 1]) {
  cairn_hex(cairn_store_key(n->s), CAIRN_KEY_BYTES, out);
}

/* The owner grants a role to member's key; returns the commit's result. */
static int grant(node_t *owner, node_t *member, const char *role, cairn_error_t *err) {
  cairn_change_t *c;
  char hex[2 * CAIRN_KEY_BYTES + 1];
  val_t r = str_val(role), nm = str_val(member->name);
  key_hex(member, hex);
  assert_int_equal(cairn_change_begin(owner->s, &c), 0);
  assert_int_equal(cairn_change_put(c, "_member", hex, "role", r.b, r.len, 0), 0);
  assert_int_equal(cairn_change_put(c, "_member", hex, "name", nm.b, nm.len, 0), 0);
  return cairn_change_commit(c, NULL, err);
}

/* owner creates a network and grants each member `editor`; members get the
 * owner's entries. */
static void network(node_t *owner, node_t *members, size_t n) {
  uint8_t net[CAIRN_KEY_BYTES];
  cairn_error_t err = {0, ""};
  if (cairn_store_network_create(owner->s, "test network", net, &err) != 0)
    fail_msg("network create: %s", err.msg);
  for (size_t i = 0; i < n; i++)
    if (grant(owner, &members[i], "editor", &err) != 0)
      fail_msg("grant: %s", err.msg);
  for (size_t i = 0; i < n; i++)
    sync_from(&members[i], owner, NULL);
}

/* ---- reading state ---- */

static const char *const TYPES[] = {"_network", "_member", "task", "note"};

/* Both stores show the same whole visible state (records, histories, conflicts,
 * version vector). */
static void assert_same_state(node_t *a, node_t *b) {
  cairn_test_text_t x = {0}, y = {0};
  char what[64];
  CAIRN_PASS(cairn_test_state(a->s, TYPES, 4, CAIRN_TEST_STATE_HISTORY, &x));
  CAIRN_PASS(cairn_test_state(b->s, TYPES, 4, CAIRN_TEST_STATE_HISTORY, &y));
  snprintf(what, sizeof what, "%s and %s differ", a->name, b->name);
  cairn_test_assert_same_text(&x, &y, what);
  cairn_test_text_free(&x);
  cairn_test_text_free(&y);
}

/* One field of a visible record. */
typedef struct got {
  int found;
  uint8_t value[64];
  size_t len;
  cairn_stamp_t stamp;
  const char *field;
  size_t nfields;
} got_t;

static int got_cb(const cairn_record_t *r, void *ud) {
  got_t *g = ud;
  cairn_record_iter_t it;
  cairn_record_field_t f;
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f)) {
    g->nfields++;
    if (f.name_len == strlen(g->field) && memcmp(f.name, g->field, f.name_len) == 0) {
      assert_true(f.value_len <= sizeof g->value);
      memcpy(g->value, f.value, f.value_len);
      g->len = f.value_len;
      g->stamp = f.stamp;
      g->found = 1;
    }
  }
  return 0;
}

/* The rc of cairn_get, and the field's value in g. */
static int get_field(node_t *n, const char *id, const char *field, got_t *g) {
  memset(g, 0, sizeof *g);
  g->field = field;
  return cairn_get(n->s, "task", id, got_cb, g);
}

static void assert_value(node_t *n, const char *id, const char *field, const char *want) {
  got_t g;
  val_t v = str_val(want);
  int rc = get_field(n, id, field, &g);
  if (rc != 0)
    fail_msg("%s: task/%s: %s", n->name, id, cairn_err_name(rc));
  if (!g.found)
    fail_msg("%s: task/%s has no field %s", n->name, id, field);
  if (g.len != v.len || memcmp(g.value, v.b, v.len) != 0)
    fail_msg("%s: task/%s.%s is not \"%s\" (got %.*s)", n->name, id, field, want,
             (int)(g.len ? g.len - 1 : 0), (const char *)g.value + 1);
}

/* Conflicts, as a list of (field, heads). */
typedef struct conf {
  char field[CAIRN_FIELD_MAX + 1];
  char id[CAIRN_ID_MAX + 1];
  size_t nheads;
  val_t heads[8];
  cairn_stamp_t stamps[8];
} conf_t;

typedef struct confs {
  conf_t c[16];
  size_t n;
} confs_t;

static int confs_cb(const char *type, size_t tl, const char *id, size_t il, const char *field,
                    size_t fl, const cairn_head_t *h, size_t nh, void *ud) {
  confs_t *cs = ud;
  (void)type;
  (void)tl;
  assert_true(cs->n < 16);
  conf_t *c = &cs->c[cs->n++];
  memset(c, 0, sizeof *c);
  memcpy(c->field, field, fl);
  memcpy(c->id, id, il);
  c->nheads = nh;
  for (size_t i = 0; i < nh && i < 8; i++) {
    assert_true(h[i].value_len <= sizeof c->heads[i].b);
    memcpy(c->heads[i].b, h[i].value, h[i].value_len);
    c->heads[i].len = h[i].value_len;
    c->stamps[i] = h[i].stamp;
  }
  return 0;
}

static void conflicts_of(node_t *n, confs_t *cs) {
  memset(cs, 0, sizeof *cs);
  assert_int_equal(cairn_conflicts(n->s, confs_cb, cs), 0);
}

static bool val_is(const val_t *v, const char *s) {
  val_t w = str_val(s);
  return v->len == w.len && memcmp(v->b, w.b, w.len) == 0;
}

/* One record's conflicts through the library call (cairn_record_conflicts). */
static int record_conflicts_of(node_t *n, const char *id, confs_t *cs) {
  memset(cs, 0, sizeof *cs);
  return cairn_record_conflicts(n->s, "task", id, confs_cb, cs);
}

/* The delete/edit conflict of task/id on n: the `false` head stamped by the
 * edit `put`, then one `true` head per live del (ndel, greatest stamp first). */
static void assert_del_conflict(node_t *n, const char *id, const cairn_stamp_t *put,
                                const cairn_stamp_t *dels, size_t ndel) {
  confs_t cs;
  assert_int_equal(record_conflicts_of(n, id, &cs), 0);
  assert_true(cs.n >= 1);
  assert_string_equal(cs.c[0].field, CAIRN_DELETED_FIELD);
  assert_int_equal(cs.c[0].nheads, 1 + ndel);
  assert_int_equal(cs.c[0].heads[0].len, 1);
  assert_int_equal(cs.c[0].heads[0].b[0], 0xc2);
  assert_int_equal(cairn_stamp_cmp(&cs.c[0].stamps[0], put), 0);
  for (size_t i = 0; i < ndel; i++) {
    assert_int_equal(cs.c[0].heads[1 + i].b[0], 0xc3);
    assert_int_equal(cairn_stamp_cmp(&cs.c[0].stamps[1 + i], &dels[i]), 0);
  }
}

/* The stamp of author's newest entry (the stamp of its last write). */
typedef struct last_stamp {
  const uint8_t *author;
  cairn_stamp_t st;
} last_stamp_t;

static int last_cb(const cairn_entry_t *e, void *ud) {
  last_stamp_t *l = ud;
  if (memcmp(e->author, l->author, CAIRN_KEY_BYTES) == 0 && e->hlc > l->st.hlc) {
    l->st.hlc = e->hlc;
    memcpy(l->st.author, e->author, CAIRN_KEY_BYTES);
  }
  return 0;
}

static cairn_stamp_t last_write(node_t *n) {
  last_stamp_t l = {cairn_store_key(n->s), {0, {0}}};
  assert_int_equal(cairn_store_log(n->s, last_cb, &l), 0);
  return l.st;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* ---- fixtures ---- */

#define NNODES 5

typedef struct world {
  node_t n[NNODES];
} world_t;

/* n[0] is the owner; n[1..members] are editors. */
static world_t *world_new(size_t members) {
  world_t *w = calloc(1, sizeof *w);
  static const char *const names[NNODES] = {"A", "B", "C", "D", "E"};
  assert_non_null(w);
  for (size_t i = 0; i < NNODES; i++)
    CAIRN_PASS(cairn_test_node_new(&w->n[i], names[i], NULL));
  network(&w->n[0], &w->n[1], members);
  return w;
}

static void world_free(world_t *w) {
  for (size_t i = 0; i < NNODES; i++)
    cairn_test_node_free(&w->n[i]);
  free(w);
}

/* ---- tests ---- */

/* Sequential writes: the later write wins and names the earlier in its base, so
 * there is no conflict, on either side, whatever arrives first. */
static void test_last_writer_wins(void **state) {
  (void)state;
  world_t *w = world_new(2);
  node_t *a = &w->n[0], *b = &w->n[1];
  put(a, "t1", "title", "one");
  put(a, "t1", "title", "two");
  assert_value(a, "t1", "title", "two");
  sync_from(b, a, NULL);
  put(b, "t1", "title", "three");
  put(b, "t1", "owner", "bob");
  put(a, "t1", "due", "monday"); /* another field, concurrent: no conflict */
  cairn_stamp_t sb = last_write(b);
  sync_from(a, b, NULL);
  sync_from(b, a, NULL);
  for (int i = 0; i < 2; i++) {
    node_t *x = &w->n[i];
    got_t g;
    confs_t cs;
    assert_value(x, "t1", "title", "three");
    assert_value(x, "t1", "owner", "bob");
    assert_value(x, "t1", "due", "monday");
    assert_int_equal(get_field(x, "t1", "owner", &g), 0);
    assert_int_equal(cairn_stamp_cmp(&g.stamp, &sb), 0);
    assert_int_equal(g.nfields, 3);
    conflicts_of(x, &cs);
    assert_int_equal(cs.n, 0);
  }
  assert_same_state(a, b);
  world_free(w);
}

/* From a shared base, a and b each write task/t1.title ("from-a", "from-b")
 * without seeing the other, then exchange: both hold the conflict. *win is the
 * value with the greater stamp, *lose the other. */
static void concurrent_titles(node_t *a, node_t *b, const char **win, const char **lose) {
  put(a, "t1", "title", "base");
  sync_from(b, a, NULL);
  put(a, "t1", "title", "from-a");
  put(b, "t1", "title", "from-b");
  cairn_stamp_t sa = last_write(a), sbb = last_write(b);
  *win = cairn_stamp_cmp(&sa, &sbb) > 0 ? "from-a" : "from-b";
  *lose = cairn_stamp_cmp(&sa, &sbb) > 0 ? "from-b" : "from-a";
  sync_from(a, b, NULL);
  sync_from(b, a, NULL);
}

/* Two stores edit one field without seeing each other: one conflict with two
 * heads on both sides, the greater stamp visible and listed first. */
static void test_concurrent_edits_conflict(void **state) {
  (void)state;
  world_t *w = world_new(2);
  node_t *a = &w->n[0], *b = &w->n[1];
  const char *win, *lose;
  concurrent_titles(a, b, &win, &lose);
  for (int i = 0; i < 2; i++) {
    node_t *x = &w->n[i];
    confs_t cs;
    assert_value(x, "t1", "title", win);
    conflicts_of(x, &cs);
    assert_int_equal(cs.n, 1);
    assert_string_equal(cs.c[0].field, "title");
    assert_string_equal(cs.c[0].id, "t1");
    assert_int_equal(cs.c[0].nheads, 2);
    assert_true(val_is(&cs.c[0].heads[0], win));
    assert_true(val_is(&cs.c[0].heads[1], lose));
    assert_true(cairn_stamp_cmp(&cs.c[0].stamps[0], &cs.c[0].stamps[1]) > 0);
  }
  assert_same_state(a, b);

  /* a third store receiving them in the other order shows the same */
  node_t *c = &w->n[2];
  sync_from(c, a, NULL);
  assert_same_state(a, c);
  world_free(w);
}

/* A plain put on a conflicted field names only the visible head: the other head
 * stays, so the conflict stays. A resolving put names every head: it clears the
 * conflict on every replica. */
static void test_plain_put_keeps_conflict_resolve_clears(void **state) {
  (void)state;
  world_t *w = world_new(2);
  node_t *a = &w->n[0], *b = &w->n[1];
  confs_t cs;
  const char *win, *lose;
  concurrent_titles(a, b, &win, &lose);

  put(a, "t1", "title", "plain");
  sync_from(b, a, NULL);
  for (int i = 0; i < 2; i++) {
    node_t *x = &w->n[i];
    assert_value(x, "t1", "title", "plain");
    conflicts_of(x, &cs);
    assert_int_equal(cs.n, 1);
    assert_int_equal(cs.c[0].nheads, 2);
    assert_true(val_is(&cs.c[0].heads[0], "plain"));
    assert_true(val_is(&cs.c[0].heads[1], lose));
  }
  assert_same_state(a, b);

  put_ex(b, "task", "t1", "title", "resolved", 1);
  sync_from(a, b, NULL);
  for (int i = 0; i < 2; i++) {
    node_t *x = &w->n[i];
    assert_value(x, "t1", "title", "resolved");
    conflicts_of(x, &cs);
    assert_int_equal(cs.n, 0);
  }
  assert_same_state(a, b);
  /* a fresh member receiving everything at once agrees */
  node_t *c = &w->n[2];
  sync_from(c, b, NULL);
  assert_same_state(a, c);
  world_free(w);
}

/* Delete hides a record; a later put revives it, on both sides. */
static void test_del_then_put_revives(void **state) {
  (void)state;
  world_t *w = world_new(1);
  node_t *a = &w->n[0], *b = &w->n[1];
  got_t g;
  put(a, "t1", "title", "one");
  del(a, "t1");
  assert_int_equal(get_field(a, "t1", "title", &g), CAIRN_EDELETED);
  assert_int_equal(get_field(a, "nope", "title", &g), CAIRN_ENOENT);
  sync_from(b, a, NULL);
  assert_int_equal(get_field(b, "t1", "title", &g), CAIRN_EDELETED);
  assert_same_state(a, b);
  put(b, "t1", "title", "two");
  assert_value(b, "t1", "title", "two");
  sync_from(a, b, NULL);
  assert_value(a, "t1", "title", "two");
  {
    confs_t cs; /* the put saw the del: a revival, not a conflict */
    conflicts_of(a, &cs);
    assert_int_equal(cs.n, 0);
  }
  assert_same_state(a, b);
  /* deleting a record that does not exist yet is fine and hides later-stamped
   * nothing: a put after it revives it */
  del(a, "t2");
  assert_int_equal(get_field(a, "t2", "title", &g), CAIRN_EDELETED);
  put(a, "t2", "title", "x");
  assert_value(a, "t2", "title", "x");
  sync_from(b, a, NULL);
  assert_same_state(a, b);
  world_free(w);
}

/*
 * A delete concurrent with a put: a delete/edit conflict whichever is stamped
 * later. The record stays with the edit; the conflict names the edit and the
 * delete. Keeping it (b) or deleting it again having seen the edit (a) ends it
 * on both sides.
 */
static void del_vs_put(int del_first, int resolve_by_del) {
  world_t *w = world_new(1);
  node_t *a = &w->n[0], *b = &w->n[1];
  got_t g;
  confs_t cs;
  put(a, "t1", "title", "one");
  sync_from(b, a, NULL);
  /* the later one in wall time gets the greater stamp: HLCs are milliseconds */
  if (del_first) {
    del(a, "t1");
    sleep_ms(3);
    put(b, "t1", "title", "two");
  } else {
    put(b, "t1", "title", "two");
    sleep_ms(3);
    del(a, "t1");
  }
  cairn_stamp_t sd = last_write(a), sp = last_write(b);
  assert_true(del_first ? cairn_stamp_cmp(&sp, &sd) > 0 : cairn_stamp_cmp(&sd, &sp) > 0);
  sync_from(a, b, NULL);
  sync_from(b, a, NULL);
  for (int i = 0; i < 2; i++) {
    assert_value(&w->n[i], "t1", "title", "two");
    assert_del_conflict(&w->n[i], "t1", &sp, &sd, 1);
    conflicts_of(&w->n[i], &cs);
    assert_int_equal(cs.n, 1);
  }
  assert_same_state(a, b);
  if (resolve_by_del)
    del(a, "t1");
  else
    assert_int_equal(keep(b, "t1"), 0);
  sync_from(a, b, NULL);
  sync_from(b, a, NULL);
  for (int i = 0; i < 2; i++) {
    node_t *x = &w->n[i];
    if (resolve_by_del) {
      assert_int_equal(get_field(x, "t1", "title", &g), CAIRN_EDELETED);
      assert_int_equal(record_conflicts_of(x, "t1", &cs), CAIRN_EDELETED);
    } else {
      assert_value(x, "t1", "title", "two");
      assert_int_equal(record_conflicts_of(x, "t1", &cs), 0);
      assert_int_equal(cs.n, 0);
    }
    conflicts_of(x, &cs);
    assert_int_equal(cs.n, 0);
  }
  assert_same_state(a, b);
  world_free(w);
}

static void test_del_concurrent_with_put(void **state) {
  (void)state;
  del_vs_put(1, 0);
  del_vs_put(0, 0);
  del_vs_put(1, 1);
  del_vs_put(0, 1);
}

/* A del that saw every put deletes, with no conflict, even when a put of the
 * record is stamped after the del (a clock behind): only what it saw counts. */
static void test_del_saw_put(void **state) {
  (void)state;
  world_t *w = world_new(2);
  node_t *a = &w->n[0], *b = &w->n[1], *c = &w->n[2];
  got_t g;
  confs_t cs;
  put(a, "t1", "title", "one");
  put(b, "t1", "owner", "bob");
  sync_from(c, a, NULL);
  sync_from(c, b, NULL);
  del(c, "t1");
  /* a and b get c's del before or after each other's put */
  sync_from(a, c, cairn_store_key(c->s));
  sync_from(a, b, NULL);
  sync_from(b, c, NULL);
  for (int i = 0; i < 3; i++) {
    assert_int_equal(get_field(&w->n[i], "t1", "title", &g), CAIRN_EDELETED);
    conflicts_of(&w->n[i], &cs);
    assert_int_equal(cs.n, 0);
  }
  assert_same_state(a, b);
  assert_same_state(a, c);
  world_free(w);
}

/*
 * Two dels, and a put that saw one of them. b and c delete the same record (each
 * having seen a's put): deleted, no conflict. d holds c's del but not b's (the
 * earlier one) and revives the record: its put saw c's del, not b's, and b's del
 * did not see it, so b's del and d's put are in conflict. Once d holds b's del,
 * keeping the record ends it.
 */
static void test_two_dels_and_a_revival(void **state) {
  (void)state;
  world_t *w = world_new(3);
  node_t *a = &w->n[0], *b = &w->n[1], *c = &w->n[2], *d = &w->n[3];
  got_t g;
  confs_t cs;
  put(a, "t1", "title", "one");
  sync_from(b, a, NULL);
  sync_from(c, a, NULL);
  sync_from(d, a, NULL);
  del(b, "t1");
  sleep_ms(3);
  del(c, "t1");
  cairn_stamp_t db = last_write(b);
  sync_from(a, b, NULL);
  sync_from(a, c, NULL);
  assert_int_equal(get_field(a, "t1", "title", &g), CAIRN_EDELETED);
  conflicts_of(a, &cs);
  assert_int_equal(cs.n, 0);

  sync_from(d, c, cairn_store_key(c->s));
  assert_int_equal(get_field(d, "t1", "title", &g), CAIRN_EDELETED);
  put(d, "t1", "title", "back");
  cairn_stamp_t pd = last_write(d);
  assert_value(d, "t1", "title", "back");
  sync_from(a, d, NULL);
  sync_from(d, a, NULL);
  for (int i = 0; i < 4; i += 3) {
    assert_value(&w->n[i], "t1", "title", "back");
    assert_del_conflict(&w->n[i], "t1", &pd, &db, 1);
  }
  assert_same_state(a, d);

  assert_int_equal(keep(d, "t1"), 0);
  sync_from(a, d, NULL);
  assert_value(a, "t1", "title", "back");
  conflicts_of(a, &cs);
  assert_int_equal(cs.n, 0);
  assert_same_state(a, d);
  world_free(w);
}

/* Keeping a record that never had a delete is refused; keeping a deleted one
 * brings it back with the fields it had. */
static void test_keep(void **state) {
  (void)state;
  world_t *w = world_new(1);
  node_t *a = &w->n[0], *b = &w->n[1];
  got_t g;
  cairn_change_t *c;
  cairn_error_t err = {0, ""};
  put(a, "t1", "title", "one");
  assert_int_equal(keep(a, "t1"), CAIRN_EINVAL);
  assert_int_equal(cairn_change_begin(a->s, &c), 0);
  assert_int_equal(cairn_change_keep(c, "task", "t1"), 0);
  assert_int_equal(cairn_change_commit(c, NULL, &err), CAIRN_EINVAL);
  assert_contains(err.msg, "nothing to keep");
  del(a, "t1");
  assert_int_equal(get_field(a, "t1", "title", &g), CAIRN_EDELETED);
  assert_int_equal(keep(a, "t1"), 0);
  assert_value(a, "t1", "title", "one");
  sync_from(b, a, NULL);
  assert_value(b, "t1", "title", "one");
  assert_same_state(a, b);
  world_free(w);
}

/* A nil value is an absent field: not in the record's fields, not found by
 * name, and a conflict whose every head is nil is not listed; one between a
 * value and nil is. */
static void test_unset(void **state) {
  (void)state;
  world_t *w = world_new(1);
  node_t *a = &w->n[0], *b = &w->n[1];
  got_t g;
  confs_t cs;
  put(a, "t1", "title", "one");
  put(a, "t1", "owner", "ana");
  unset(a, "t1", "owner");
  assert_int_equal(get_field(a, "t1", "owner", &g), 0);
  assert_false(g.found);
  assert_int_equal(g.nfields, 1);
  sync_from(b, a, NULL);
  unset(a, "t1", "title");
  unset(b, "t1", "title");
  sync_from(a, b, NULL);
  sync_from(b, a, NULL);
  conflicts_of(a, &cs);
  assert_int_equal(cs.n, 0); /* both unset it: nothing to choose */
  put(a, "t1", "title", "again"); /* saw both unsets: no conflict left */
  conflicts_of(a, &cs);
  assert_int_equal(cs.n, 0);
  sync_from(b, a, NULL);
  unset(a, "t1", "title");
  put(b, "t1", "title", "kept");
  sync_from(a, b, NULL);
  sync_from(b, a, NULL);
  conflicts_of(a, &cs);
  assert_int_equal(cs.n, 1);
  assert_int_equal(cs.c[0].nheads, 2);
  assert_same_state(a, b);
  world_free(w);
}

/* The library call for one record: ENOENT, its own conflicts only. */
static void test_record_conflicts(void **state) {
  (void)state;
  world_t *w = world_new(2);
  node_t *a = &w->n[0], *b = &w->n[1];
  confs_t cs;
  const char *win, *lose;
  assert_int_equal(record_conflicts_of(a, "t1", &cs), CAIRN_ENOENT);
  concurrent_titles(a, b, &win, &lose);
  put(a, "t10", "title", "other");
  assert_int_equal(record_conflicts_of(a, "t10", &cs), 0);
  assert_int_equal(cs.n, 0);
  assert_int_equal(record_conflicts_of(a, "t1", &cs), 0);
  assert_int_equal(cs.n, 1);
  assert_string_equal(cs.c[0].field, "title");
  assert_true(val_is(&cs.c[0].heads[0], win));
  assert_true(val_is(&cs.c[0].heads[1], lose));
  CAIRN_FAIL(cairn_record_conflicts(a->s, NULL, "t1", confs_cb, &cs), CAIRN_EINVAL);
  world_free(w);
}

/* Sign ops (hex) as k's next entry, into *out (a copy the caller frees). */
static cairn_test_bytes_t signed_ops(cairn_test_key_t *k, const char *hexops) {
  cairn_test_bytes_t ops = {0}, out = {0};
  uint8_t *e;
  size_t len;
  CAIRN_PASS(cairn_test_bytes_hex(&ops, hexops));
  CAIRN_PASS(cairn_test_key_sign(k, ops.p, ops.len, &e, &len));
  CAIRN_PASS(cairn_test_bytes_put(&out, e, len));
  free(e);
  cairn_test_bytes_free(&ops);
  return out;
}

static void apply_bytes(node_t *to, const cairn_test_bytes_t *e) {
  cairn_error_t err = {0, ""};
  int rc = cairn_test_apply1(to->s, e->p, e->len, &err);
  if (rc != 0)
    fail_msg("apply to %s: %s", to->name, err.msg);
}

/* Sign ops (hex) as k's next entry and apply it to `to`. */
static void sign_ops(cairn_test_key_t *k, const char *hexops, node_t *to) {
  cairn_test_bytes_t e = signed_ops(k, hexops);
  apply_bytes(to, &e);
  cairn_test_bytes_free(&e);
}

/*
 * A del without `seen` (written before dels named what they saw) keeps its old
 * meaning, last writer wins: it hides the puts stamped before it, and a put
 * stamped after it brings the record back, with no conflict either way.
 */
static void test_legacy_del(void **state) {
  (void)state;
  node_t a;
  cairn_test_key_t k;
  uint8_t *e;
  size_t len;
  got_t g;
  confs_t cs;
  static const char put1[] = "91 94 01 a4 7461736b a2 7431 81 a5 7469746c65 92 a3 6f6e65 90";
  static const char legacy_del[] = "91 93 02 a4 7461736b a2 7431";
  static const char put2[] = "91 94 01 a4 7461736b a2 7431 81 a4 646f6e65 92 a3 74776f 90";
  CAIRN_PASS(cairn_test_node_new(&a, "A", NULL));
  cairn_test_key_init(&k, NULL);
  CAIRN_PASS(cairn_test_genesis(&k, NULL, "legacy", &e, &len));
  CAIRN_PASS(cairn_test_apply1(a.s, e, len, NULL));
  free(e);
  sign_ops(&k, put1, &a);
  sign_ops(&k, legacy_del, &a);
  assert_int_equal(get_field(&a, "t1", "title", &g), CAIRN_EDELETED);
  sign_ops(&k, put2, &a);
  assert_value(&a, "t1", "done", "two");
  assert_value(&a, "t1", "title", "one");
  conflicts_of(&a, &cs);
  assert_int_equal(cs.n, 0);
  cairn_test_node_free(&a);
}

/*
 * An entry holding two ops on one record (which a change never writes: the
 * history row names the first) is judged by its first op whatever the record
 * held when it arrived: before another author's del of the record, or after.
 */
static void test_two_ops_one_entry(void **state) {
  (void)state;
  node_t a, b;
  cairn_test_key_t o, k;
  cairn_test_bytes_t e[5];
  uint8_t *g;
  size_t len;
  static const char put1[] = "91 94 01 a4 7461736b a2 7431 81 a5 7469746c65 92 a3 6f6e65 90";
  static const char del1[] = "91 94 02 a4 7461736b a2 7431 90";
  static const char put_del[] =
      "92 94 01 a4 7461736b a2 7431 81 a4 646f6e65 92 a1 78 90 94 02 a4 7461736b a2 7431 90";
  CAIRN_PASS(cairn_test_node_new(&a, "A", NULL));
  CAIRN_PASS(cairn_test_node_new(&b, "B", NULL));
  cairn_test_key_init(&o, NULL);
  cairn_test_key_init(&k, NULL);
  CAIRN_PASS(cairn_test_genesis(&o, NULL, "two ops", &g, &len));
  e[0] = (cairn_test_bytes_t){0};
  CAIRN_PASS(cairn_test_bytes_put(&e[0], g, len));
  free(g);
  memcpy(k.network, o.network, CAIRN_KEY_BYTES);
  CAIRN_PASS(cairn_test_grant(&o, k.pk, "editor", &g, &len));
  e[1] = (cairn_test_bytes_t){0};
  CAIRN_PASS(cairn_test_bytes_put(&e[1], g, len));
  free(g);
  e[2] = signed_ops(&o, put1);
  e[3] = signed_ops(&k, put_del);
  e[4] = signed_ops(&o, del1);
  static const int order_a[5] = {0, 1, 2, 4, 3}, order_b[5] = {0, 1, 2, 3, 4};
  for (int i = 0; i < 5; i++) {
    apply_bytes(&a, &e[order_a[i]]);
    apply_bytes(&b, &e[order_b[i]]);
  }
  assert_same_state(&a, &b);
  for (int i = 0; i < 5; i++)
    cairn_test_bytes_free(&e[i]);
  cairn_test_node_free(&a);
  cairn_test_node_free(&b);
}

/*
 * Out of causal order: A writes, B sees it and overwrites, C sees B's and
 * overwrites. D receives C's entry, then B's, then A's; E receives them in
 * causal order. Neither shows a conflict and both show the same state.
 */
static void test_out_of_causal_order(void **state) {
  (void)state;
  world_t *w = world_new(4);
  node_t *a = &w->n[0], *b = &w->n[1], *c = &w->n[2], *d = &w->n[3], *e = &w->n[4];
  confs_t cs;
  put(a, "t1", "title", "from-a");
  sync_from(b, a, NULL);
  put(b, "t1", "title", "from-b");
  sync_from(c, b, NULL);
  put(c, "t1", "title", "from-c");
  sync_from(c, a, NULL);

  /* D: C's entries first (only C's), then B's, then A's */
  sync_from(d, c, cairn_store_key(c->s));
  assert_value(d, "t1", "title", "from-c");
  conflicts_of(d, &cs);
  assert_int_equal(cs.n, 0);
  sync_from(d, b, cairn_store_key(b->s));
  assert_value(d, "t1", "title", "from-c");
  conflicts_of(d, &cs);
  assert_int_equal(cs.n, 0);
  sync_from(d, a, cairn_store_key(a->s));
  assert_value(d, "t1", "title", "from-c");
  conflicts_of(d, &cs);
  assert_int_equal(cs.n, 0);

  /* E: everything in C's arrival order (causal), after the prefix */
  sync_from(e, a, NULL);
  sync_from(e, c, NULL);
  assert_same_state(d, e);
  assert_same_state(c, e);

  /* and B's write first, then A's: B named A's write, so no conflict either */
  node_t f;
  CAIRN_PASS(cairn_test_node_new(&f, "F", NULL));
  elist_t pre;
  lacking(NULL, a, NULL, &pre);
  /* A's log holds: genesis, 4 grants, its write; apply the 5 prefix entries */
  assert_true(pre.n >= 6);
  elist_t first = pre;
  first.n = 5;
  apply_ok(&f, &first);
  sync_from(&f, b, cairn_store_key(b->s));
  sync_from(&f, a, NULL);
  conflicts_of(&f, &cs);
  assert_int_equal(cs.n, 0);
  assert_value(&f, "t1", "title", "from-b");
  cairn_test_entries_free(&pre);
  cairn_test_node_free(&f);
  world_free(w);
}

static int count_hist_cb(const cairn_entry_t *e, const cairn_op_t *op, void *ud) {
  (void)e;
  (void)op;
  ++*(size_t *)ud;
  return 0;
}

static void assert_purged(node_t *n, const char *id) {
  got_t g;
  size_t nh = 0;
  confs_t cs;
  size_t hits, redacted;
  assert_int_equal(get_field(n, id, "title", &g), CAIRN_ENOENT);
  assert_int_equal(cairn_history(n->s, "task", id, count_hist_cb, &nh), 0);
  assert_int_equal(nh, 0);
  conflicts_of(n, &cs);
  for (size_t i = 0; i < cs.n; i++)
    assert_string_not_equal(cs.c[i].id, id);
  CAIRN_PASS(cairn_test_log_scan(n->s, "task", id, &hits, &redacted));
  if (hits != 0)
    fail_msg("%s: %zu logged ops on purged task/%s", n->name, hits, id);
  assert_true(redacted > 0);
}

/*
 * Purge: the record, its conflicts and history are gone and every op on it in
 * the log is redacted; the log still verifies (a fresh store checking every
 * signature accepts it); a put from a member who had not seen the purge is
 * redacted on arrival; the purger cannot reuse the id.
 */
static void test_purge(void **state) {
  (void)state;
  world_t *w = world_new(2);
  node_t *a = &w->n[0], *b = &w->n[1];
  cairn_error_t err = {0, ""};
  cairn_change_t *ch;
  put(a, "t1", "title", "secret");
  put(a, "t2", "title", "keep");
  sync_from(b, a, NULL);
  put(a, "t1", "title", "secret-a");
  put(b, "t1", "title", "secret-b"); /* a conflict on the purged record */
  put(b, "t1", "child", "name");
  put(b, "t2", "note", "stays");
  sync_from(a, b, NULL);
  sync_from(b, a, NULL);
  {
    confs_t cs;
    conflicts_of(a, &cs);
    assert_int_equal(cs.n, 1);
  }

  assert_int_equal(cairn_change_begin(a->s, &ch), 0);
  assert_int_equal(cairn_change_purge(ch, "task", "t1"), 0);
  if (cairn_change_commit(ch, NULL, &err) != 0)
    fail_msg("purge: %s", err.msg);
  assert_purged(a, "t1");
  assert_value(a, "t2", "title", "keep");
  assert_value(a, "t2", "note", "stays");

  /* the purger cannot use the id again */
  put_refused(a, "t1", "title", "again", CAIRN_EPURGED);

  /* the redacted log still verifies, entry by entry, in a fresh store */
  {
    node_t f;
    cairn_store_opts_t o = {0};
    CAIRN_PASS(cairn_test_node_new(&f, "F", NULL));
    o.verify_all = 1;
    CAIRN_PASS(cairn_test_node_reopen(&f, &o));
    sync_from(&f, a, NULL);
    assert_purged(&f, "t1");
    assert_same_state(a, &f);
    cairn_test_node_free(&f);
  }

  /* B had not seen the purge: its put on t1 is redacted on arrival at A */
  put(b, "t1", "title", "late");
  put(b, "t2", "title", "edited");
  assert_value(b, "t1", "title", "late");
  sync_from(a, b, NULL);
  assert_purged(a, "t1");
  assert_value(a, "t2", "title", "edited");

  /* B gets the purge: its own copy goes too */
  sync_from(b, a, NULL);
  assert_purged(b, "t1");
  assert_same_state(a, b);

  /* a third store, fresh: B's log (redacted after the purge) applies and agrees */
  node_t *c = &w->n[2];
  sync_from(c, b, NULL);
  assert_purged(c, "t1");
  assert_same_state(a, c);
  world_free(w);
}

/* An editor may neither purge nor write `_member`; owner-only grants. */
static void test_editor_forbidden(void **state) {
  (void)state;
  world_t *w = world_new(2);
  node_t *a = &w->n[0], *b = &w->n[1], *c = &w->n[2];
  cairn_error_t err = {0, ""};
  cairn_change_t *ch;
  put(a, "t1", "title", "x");
  sync_from(b, a, NULL);

  assert_int_equal(cairn_change_begin(b->s, &ch), 0);
  assert_int_equal(cairn_change_purge(ch, "task", "t1"), 0);
  assert_int_equal(cairn_change_commit(ch, NULL, &err), CAIRN_EFORBIDDEN);
  assert_int_equal(err.code, CAIRN_EFORBIDDEN);

  assert_int_equal(grant(b, c, "editor", &err), CAIRN_EFORBIDDEN);
  assert_int_equal(grant(b, b, "admin", &err), CAIRN_EFORBIDDEN);

  /* nothing was written: B's head did not move, and the record is intact */
  uint64_t seq = 1;
  assert_int_equal(cairn_store_head_seq(b->s, cairn_store_key(b->s), &seq), 0);
  assert_int_equal(seq, 0);
  assert_value(b, "t1", "title", "x");
  /* B still works */
  put(b, "t1", "title", "y");
  sync_from(a, b, NULL);
  assert_same_state(a, b);
  world_free(w);
}

/* A minimal signed put of a key that nobody granted. */
static void forge_entry(node_t *signer, const uint8_t net[CAIRN_KEY_BYTES], uint8_t **out,
                        size_t *len) {
  char path[96];
  uint8_t sk[CAIRN_SECRET_BYTES];
  /* [[1, "task", "t9", {"title": ["x"(a1 78), []]}]] */
  static const uint8_t ops[] = {0x91, 0x94, 0x01, 0xa4, 't', 'a', 's', 'k', 0xa2, 't', '9',
                                0x81, 0xa5, 't',  'i',  't', 'l', 'e', 0x92, 0xa1, 'x', 0x90};
  snprintf(path, sizeof path, "%s/key", signer->dir);
  int fd = open(path, O_RDONLY);
  assert_true(fd >= 0);
  assert_int_equal(read(fd, sk, sizeof sk), (ssize_t)sizeof sk);
  close(fd);
  assert_int_equal(cairn_entry_build(sk, net, 1, NULL, cairn_now_ms() << 16, ops,
                                     sizeof ops, out, len),
                   0);
}

/* An entry from a key that is not a member is refused, with the valid entries
 * before it in the batch kept. */
static void test_not_member(void **state) {
  (void)state;
  world_t *w = world_new(1);
  node_t *a = &w->n[0], *b = &w->n[1], *x = &w->n[4];
  uint8_t net[CAIRN_KEY_BYTES], *forged;
  size_t flen;
  cairn_error_t err = {0, ""};
  cairn_apply_stats_t st;
  confs_t cs;
  assert_int_equal(cairn_store_network(a->s, net), 0);

  /* x has no network: its own commit is refused */
  put_refused(x, "t9", "title", "x", CAIRN_ENONETWORK);
  /* with the network but no grant, x's own commit is refused too */
  sync_from(x, a, NULL);
  put_refused(x, "t9", "title", "x", CAIRN_ENOTMEMBER);

  /* a forged entry signed with x's key: valid signature, no membership */
  forge_entry(x, net, &forged, &flen);
  put(b, "t1", "title", "good");
  elist_t l;
  lacking(a, b, NULL, &l);
  assert_int_equal(l.n, 1);
  CAIRN_PASS(cairn_test_entries_push(&l, &(cairn_test_entry_t){forged, flen, {0}, 1}));
  err.code = 0;
  assert_int_equal(apply_list(a, &l, &st, &err), CAIRN_ENOTMEMBER);
  assert_int_equal(err.code, CAIRN_ENOTMEMBER);
  assert_int_equal(st.failed_at, 1);
  assert_non_null(strstr(err.msg, "seq 1"));
  assert_value(a, "t1", "title", "good"); /* the valid prefix was kept */
  {
    got_t g;
    assert_int_equal(get_field(a, "t9", "title", &g), CAIRN_ENOENT);
  }
  cairn_test_entries_free(&l);
  conflicts_of(a, &cs);
  assert_int_equal(cs.n, 0);
  assert_same_state(a, b);
  world_free(w);
}

/* An entry judged by the role at its stamp: a member's entry arriving before
 * its grant is refused, and accepted once the grant is there. */
static void test_entry_before_grant(void **state) {
  (void)state;
  world_t *w = world_new(1);
  node_t *a = &w->n[0], *c = &w->n[2], *d = &w->n[3];
  cairn_error_t err = {0, ""};
  cairn_apply_stats_t st;
  elist_t ce;
  /* d holds the prefix before c's grant */
  sync_from(d, a, NULL);
  if (grant(a, c, "editor", &err) != 0)
    fail_msg("grant: %s", err.msg);
  sync_from(c, a, NULL);
  put(c, "t1", "title", "by-c");
  lacking(d, c, cairn_store_key(c->s), &ce);
  assert_int_equal(ce.n, 1);
  assert_int_equal(apply_list(d, &ce, &st, &err), CAIRN_ENOTMEMBER);
  assert_int_equal(st.failed_at, 0);
  sync_from(d, a, NULL);
  apply_ok(d, &ce);
  assert_value(d, "t1", "title", "by-c");
  assert_same_state(c, d);
  cairn_test_entries_free(&ce);
  world_free(w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_last_writer_wins),
      cmocka_unit_test(test_concurrent_edits_conflict),
      cmocka_unit_test(test_plain_put_keeps_conflict_resolve_clears),
      cmocka_unit_test(test_del_then_put_revives),
      cmocka_unit_test(test_del_concurrent_with_put),
      cmocka_unit_test(test_del_saw_put),
      cmocka_unit_test(test_two_dels_and_a_revival),
      cmocka_unit_test(test_keep),
      cmocka_unit_test(test_unset),
      cmocka_unit_test(test_record_conflicts),
      cmocka_unit_test(test_legacy_del),
      cmocka_unit_test(test_two_ops_one_entry),
      cmocka_unit_test(test_out_of_causal_order),
      cmocka_unit_test(test_purge),
      cmocka_unit_test(test_editor_forbidden),
      cmocka_unit_test(test_not_member),
      cmocka_unit_test(test_entry_before_grant),
  };
  return cmocka_run_group_tests(tests, cairn_test_setup, NULL);
}
