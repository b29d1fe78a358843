/*
 * fuzz_apply.c — fuzz target for cairn_store_apply (core/apply.c and what it
 * calls: merge, roles, purge), fed sequences of entries most of which are
 * correctly signed, so the fuzzer gets past the signature check.
 *
 * Input:
 *
 *   input = flags (1 byte) chunk...
 *   flags   bit 0: apply the preset network first (fuzzkit.h: genesis by key 0,
 *                  then admin, editor, viewer grants to keys 1, 2, 3)
 *           bit 1: the store verifies every signature (opts.verify_all)
 *           Every key signs for the preset's network, so without bit 0 a first
 *           chunk holding the genesis ops (or the genesis entry) starts it.
 *   chunk = tag (1 byte) length (2 bytes, big-endian) body (a short last chunk
 *           takes what is left)
 *   tag     bit 7: body is a whole entry, applied as it is
 *           else:  body is an ops array, signed here as the next entry of key
 *                  (tag & 3) with the next tick of a fixed clock; ops that
 *                  cairn_entry_build refuses go in as a raw entry instead
 *           bit 6: end the batch after this chunk (batches also end at the input's
 *                  end)
 *
 * Each input runs on a fresh store (in $TMPDIR, else /dev/shm; no_sync), so a run depends on
 * nothing but its bytes. After each batch: the result is 0 or an error with a
 * message, stats add up (everything before failed_at applied or skipped, nothing
 * after), and the store stays consistent: its heads walk works, each head agrees
 * with cairn_store_head_seq, the log holds exactly seq 1..head of each author in
 * order, every logged entry still hashes to its ops_root (purges redact, never
 * break it), records and conflicts can be read, and applying the whole log again
 * skips every entry. A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzzcheck.h"
#include "fuzzkit.h"
#include "mpread.h"
#include "cairn.h"

#define MAX_CHUNKS 64
#define MAX_AUTHORS 16

/* ---- consistency of the store ---- */

typedef struct author_seq {
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t head;  /* from cairn_store_heads */
  uint64_t next;  /* next seq expected in the log */
} author_seq_t;

typedef struct walk {
  cairn_store_t *s;
  author_seq_t a[MAX_AUTHORS];
  size_t n;
  int overflow; /* more authors than the table holds: skip the per-author checks */
  uint64_t sum, logged;
  cairn_buf_t *log; /* copies of the logged entries, to apply again */
  size_t nlog, caplog;
} walk_t;

static author_seq_t *find_author(walk_t *w, const uint8_t author[CAIRN_KEY_BYTES]) {
  for (size_t i = 0; i < w->n; i++)
    if (memcmp(w->a[i].author, author, CAIRN_KEY_BYTES) == 0)
      return &w->a[i];
  return NULL;
}

static int on_head(const uint8_t author[CAIRN_KEY_BYTES], uint64_t seq,
                   const uint8_t hash[CAIRN_HASH_BYTES], void *ud) {
  walk_t *w = ud;
  uint64_t held = 0;
  (void)hash;
  CHECK(seq >= 1);
  CHECK(cairn_store_head_seq(w->s, author, &held) == 0 && held == seq);
  CHECK(find_author(w, author) == NULL); /* each author once */
  if (w->n == MAX_AUTHORS) {
    w->overflow = 1;
  } else {
    memcpy(w->a[w->n].author, author, CAIRN_KEY_BYTES);
    w->a[w->n].head = seq;
    w->a[w->n].next = 1;
    w->n++;
  }
  w->sum += seq;
  return 0;
}

static int on_entry(const cairn_entry_t *e, void *ud) {
  walk_t *w = ud;
  author_seq_t *a = find_author(w, e->author);
  uint8_t *copy;
  CHECK(cairn_entry_check_ops(e) == 0);
  if (!w->overflow) {
    CHECK(a != NULL && e->seq == a->next && e->seq <= a->head);
    a->next++;
  }
  w->logged++;
  if (w->nlog == w->caplog) {
    w->caplog = w->caplog ? 2 * w->caplog : 16;
    w->log = realloc(w->log, w->caplog * sizeof *w->log);
    CHECK(w->log != NULL);
  }
  copy = malloc(e->len);
  CHECK(copy != NULL);
  memcpy(copy, e->bytes, e->len);
  w->log[w->nlog].data = copy;
  w->log[w->nlog].len = e->len;
  w->nlog++;
  return 0;
}

static int on_record(const cairn_record_t *r, void *ud) {
  cairn_record_iter_t it;
  cairn_record_field_t f;
  (void)ud;
  CHECK(!r->deleted);
  cairn_record_iter_init(r, &it);
  while (cairn_record_field_next(&it, &f) == 1)
    CHECK(cairn_mp_validate(f.value, f.value_len, CAIRN_VALUE_DEPTH_MAX) == 0);
  return 0;
}

static int on_conflict(const char *type, size_t type_len, const char *id, size_t id_len,
                       const char *field, size_t field_len, const cairn_head_t *heads,
                       size_t nheads, void *ud) {
  (void)type, (void)type_len, (void)id, (void)id_len, (void)ud;
  CHECK(nheads >= 2);
  if (field_len == strlen(CAIRN_DELETED_FIELD) &&
      memcmp(field, CAIRN_DELETED_FIELD, field_len) == 0) {
    /* a delete/edit conflict: the edit kept (false), then each live delete (true),
     * greatest first */
    CHECK(heads[0].value_len == 1 && heads[0].value[0] == 0xc2);
    for (size_t i = 1; i < nheads; i++)
      CHECK(heads[i].value_len == 1 && heads[i].value[0] == 0xc3 &&
            (i == 1 || cairn_stamp_cmp(&heads[i - 1].stamp, &heads[i].stamp) > 0));
    return 0;
  }
  for (size_t i = 1; i < nheads; i++)
    CHECK(cairn_stamp_cmp(&heads[0].stamp, &heads[i].stamp) > 0);
  return 0;
}

static void check_store(cairn_store_t *s, const cairn_test_key_t *keys) {
  static const char *const types[] = {"_member", "_network", "t", "a"};
  walk_t w;
  cairn_role_t role;
  memset(&w, 0, sizeof w);
  w.s = s;
  CHECK(cairn_store_heads(s, on_head, &w) == 0);
  CHECK(cairn_store_log(s, on_entry, &w) == 0);
  CHECK(w.logged == w.sum);
  for (size_t i = 0; !w.overflow && i < w.n; i++)
    CHECK(w.a[i].next == w.a[i].head + 1);
  for (size_t i = 0; i < sizeof types / sizeof *types; i++)
    CHECK(cairn_list(s, types[i], NULL, 0, on_record, NULL) == 0);
  CHECK(cairn_conflicts(s, on_conflict, NULL) == 0);
  for (int i = 0; i < FUZZ_NKEYS; i++)
    CHECK(cairn_store_role(s, keys[i].pk, &role) == 0);
  /* applying what the store holds again changes nothing */
  if (w.nlog > 0) {
    cairn_apply_stats_t st = {0};
    cairn_error_t err = {0, ""};
    int rc = cairn_store_apply(s, w.log, w.nlog, &st, &err);
    if (rc != 0)
      fprintf(stderr, "fuzz_apply: re-apply of the log: %s\n", err.msg);
    CHECK(rc == 0 && st.applied == 0 && st.skipped == w.nlog);
  }
  for (size_t i = 0; i < w.nlog; i++)
    free((void *)w.log[i].data);
  free(w.log);
}

/* ---- one batch ---- */

/* FUZZ_APPLY_VERBOSE set: say what each batch did (to check new seeds). */
static int verbose;

static void apply_batch(cairn_store_t *s, cairn_buf_t *b, size_t n,
                        const cairn_test_key_t *keys) {
  cairn_apply_stats_t st = {0};
  cairn_error_t err = {0, ""};
  int rc;
  if (n == 0)
    return;
  rc = cairn_store_apply(s, b, n, &st, &err);
  if (verbose)
    fprintf(stderr, "batch of %zu: applied %zu, skipped %zu%s%s\n", n, st.applied, st.skipped,
            rc ? ": " : "", rc ? err.msg : "");
  if (rc == 0) {
    CHECK(st.applied + st.skipped == n);
  } else {
    CHECK(rc < 0 && err.code == rc && err.msg[0] != '\0');
    CHECK(rc != CAIRN_ECORRUPT && rc != CAIRN_EBADTXN && rc != CAIRN_EIO &&
          rc != CAIRN_EMAPFULL && rc != CAIRN_EINVAL);
    CHECK(st.failed_batch == 0 && st.failed_at < n && st.applied + st.skipped == st.failed_at);
  }
  check_store(s, keys);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  static uint8_t *preset[FUZZ_PRESET_ENTRIES];
  static size_t preset_len[FUZZ_PRESET_ENTRIES];
  static cairn_test_key_t before[FUZZ_NKEYS], after[FUZZ_NKEYS];
  cairn_test_key_t keys[FUZZ_NKEYS];
  cairn_buf_t batch[MAX_CHUNKS + FUZZ_PRESET_ENTRIES];
  uint8_t *owned[MAX_CHUNKS];
  size_t nbatch = 0, nowned = 0, pos;
  uint64_t clock = FUZZ_HLC_BASE + 16;
  cairn_store_opts_t opts = {0};
  cairn_store_t *s = NULL;
  char *dir = NULL;
  uint8_t flags;

  if (!ready) {
    /* the preset is the same in every run: sign it once, keep the keys as they are
     * before it (with the network set) and after it */
    for (int i = 0; i < FUZZ_NKEYS; i++)
      fuzz_key_init(&after[i], i);
    CHECK(fuzz_preset(after, preset, preset_len) == 0);
    for (int i = 0; i < FUZZ_NKEYS; i++) {
      fuzz_key_init(&before[i], i);
      memcpy(before[i].network, after[0].network, CAIRN_KEY_BYTES);
    }
    verbose = getenv("FUZZ_APPLY_VERBOSE") != NULL;
    /* a store per input: in memory if we may, five times the executions per second
     * of a disk under ASan */
    if (getenv("TMPDIR") == NULL && access("/dev/shm", W_OK | X_OK) == 0)
      setenv("TMPDIR", "/dev/shm", 0);
    ready = 1;
  }
  if (size == 0)
    return 0;
  flags = data[0];
  memcpy(keys, (flags & FUZZ_APPLY_PRESET) ? after : before, sizeof keys);
  opts.verify_all = (flags & FUZZ_APPLY_VERIFY_ALL) != 0;
  CHECK(cairn_test_store_opts("fuzz", &opts, &s, &dir) == 0);
  if (flags & FUZZ_APPLY_PRESET) {
    for (int i = 0; i < FUZZ_PRESET_ENTRIES; i++) {
      batch[nbatch].data = preset[i];
      batch[nbatch].len = preset_len[i];
      nbatch++;
    }
  }

  pos = 1;
  while (pos < size && nowned < MAX_CHUNKS) {
    uint8_t tag = data[pos++];
    size_t len = 0, body;
    if (pos + 2 <= size)
      len = (size_t)data[pos] << 8 | data[pos + 1];
    pos = pos + 2 <= size ? pos + 2 : size;
    if (len > size - pos)
      len = size - pos;
    body = pos;
    pos += len;
    uint8_t *entry = NULL;
    size_t elen = 0;
    if (!(tag & FUZZ_APPLY_RAW) && len > 0) {
      cairn_test_key_t *k = &keys[tag & 3];
      if (cairn_test_key_sign_at(k, clock, data + body, len, &entry, &elen) == 0)
        clock++;
      else
        entry = NULL;
    }
    if (entry == NULL) {
      /* a raw entry: copied, so ASan sees reads past its end */
      entry = malloc(len ? len : 1);
      CHECK(entry != NULL);
      memcpy(entry, data + body, len);
      elen = len;
    }
    owned[nowned++] = entry;
    batch[nbatch].data = entry;
    batch[nbatch].len = elen;
    nbatch++;
    if (tag & FUZZ_APPLY_END_BATCH) {
      apply_batch(s, batch, nbatch, keys);
      nbatch = 0;
    }
  }
  apply_batch(s, batch, nbatch, keys);

  for (size_t i = 0; i < nowned; i++)
    free(owned[i]);
  cairn_close(s);
  CHECK(cairn_test_rmrf(dir) == 0);
  free(dir);
  return 0;
}
