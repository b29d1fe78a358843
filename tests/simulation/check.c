/*
 * check.c — what must hold. While the run goes on: the relay never loses an
 * entry it committed (check_note_highs after each commit). After healing (every
 * fault off, every clock right, every device syncing until nothing moves): all
 * replicas show the same records, conflicts and heads; every entry the relay
 * ever committed is there; every edit a device saved reached the relay, or was
 * set aside by a device that held a copy its author replaced (forked.entries).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define HEAL_ROUNDS 8
#define HEAL_STEPS 100000

static const char *const types[] = {"_network", "_member", "note", "mark"};

static cairn_store_t *relay_store(sim_t *m) {
  return m->relay->nets[0]->store;
}

static high_t *high_find(sim_t *m, const uint8_t *author) {
  for (size_t i = 0; i < m->nhighs; i++)
    if (memcmp(m->highs[i].author, author, CAIRN_KEY_BYTES) == 0)
      return &m->highs[i];
  if (m->nhighs == m->highs_cap) {
    size_t cap = m->highs_cap ? 2 * m->highs_cap : 16;
    high_t *h = realloc(m->highs, cap * sizeof *h);
    if (h == NULL)
      return NULL;
    m->highs = h;
    m->highs_cap = cap;
  }
  high_t *h = &m->highs[m->nhighs++];
  memset(h, 0, sizeof *h);
  memcpy(h->author, author, CAIRN_KEY_BYTES);
  return h;
}

/* The relay still holds, unchanged, the newest entry of each author it ever
 * committed. */
static int highs_kept(sim_t *m) {
  uint8_t hash[CAIRN_HASH_BYTES];
  for (size_t i = 0; i < m->nhighs; i++) {
    high_t *h = &m->highs[i];
    int rc = cairn_store_entry_hash(relay_store(m), h->author, h->seq, hash);
    if (rc != 0 || memcmp(hash, h->hash, CAIRN_HASH_BYTES) != 0) {
      char hex[17];
      return sim_fail(m, "the relay lost entry %s#%llu it had committed (%s)",
                      cairn_hex(h->author, 8, hex), (unsigned long long)h->seq,
                      rc ? cairn_err_name(rc) : "another entry in its place");
    }
  }
  return 0;
}

/* After a commit: what the relay holds now is what it must never lose. */
int check_note_highs(sim_t *m) {
  cairn_vv_t v = {0};
  int rc = highs_kept(m);
  if (rc == 0 && (rc = cairn_store_vv(relay_store(m), &v)) != 0)
    rc = sim_fail(m, "cannot read the relay's heads: %s", cairn_strerror(rc));
  for (size_t i = 0; rc == 0 && i < v.n; i++) {
    high_t *h = high_find(m, v.authors[i]);
    if (h == NULL)
      rc = sim_fail(m, "out of memory");
    else if (v.seqs[i] > h->seq &&
             (rc = cairn_store_entry_hash(relay_store(m), h->author, v.seqs[i], h->hash)) == 0)
      h->seq = v.seqs[i];
    else if (rc != 0)
      rc = sim_fail(m, "cannot read the relay's entry: %s", cairn_strerror(rc));
  }
  cairn_vv_free(&v);
  return rc;
}

/* ---- healing ---- */

/* One sync of d over a network that never fails, to its end. */
static int sync_clean(sim_t *m, device_t *d) {
  bool up;
  pipe_t *p;
  int rc;
  if ((rc = device_sync_start(d)) != 0)
    return rc;
  for (unsigned n = 0; d->link != NULL; n++) {
    if (n == HEAL_STEPS)
      return sim_fail(m, "device %d is stuck: its sync neither ends nor moves", d->id);
    if ((p = net_pick(m, &up)) != NULL)
      rc = net_deliver(m, p, up, SIZE_MAX, false);
    else if (relay_commit(m) == 0 && !m->relay->commit_armed && d->link != NULL &&
             m->pipes == NULL)
      return sim_fail(m, "device %d is stuck: its sync waits with nothing in flight", d->id);
    if (rc != 0 || (rc = relay_commit(m)) != 0 || (rc = net_settle(m)) != 0)
      return rc;
  }
  return 0;
}

/* A device whose key the relay knows as revoked, though the revocation named
 * another device: a copy made while a new key waited switched to it after its
 * twin did and was revoked (the simulation's accounting, not a failure). */
static bool key_revoked(sim_t *m, device_t *d) {
  cairn_role_t role = CAIRN_ROLE_NONE;
  if (cairn_store_role(relay_store(m), cairn_store_key(d->s), &role) != 0 ||
      role != CAIRN_ROLE_REVOKED)
    return false;
  d->revoked = true;
  return forget_refused(m, cairn_store_key(d->s)) == 0;
}

int check_heal(sim_t *m) {
  m->heal = true;
  while (m->pipes != NULL) /* the links in flight end as after a broken connection */
    net_break(m, m->pipes);
  m->relay_clock_off = 0;
  for (unsigned i = 0; i < m->ndev; i++) {
    m->dev[i].partitioned = 0;
    m->dev[i].clock_off = 0;
  }
  if (owner_grants_keys(m) != 0) /* an admin answers every device that moved keys */
    return CAIRN_EINVAL;
  for (unsigned round = 0; round < HEAL_ROUNDS; round++) {
    uint64_t moved = 0;
    m->now_ms += 1000;
    for (unsigned i = 0; i < m->ndev; i++) {
      device_t *d = &m->dev[i];
      if (sync_clean(m, d) != 0)
        return CAIRN_EINVAL;
      if (d->last_rc != 0 && round > 0 && !d->revoked && !key_revoked(m, d))
        return sim_fail(m, "device %d cannot sync after healing: %s", d->id,
                        cairn_err_name(d->last_rc));
      if (d->revoked) /* refused by the relay, as it should be */
        continue;
      moved += d->last_stats.applied + d->last_stats.pushed + d->last_stats.resigned +
               (d->last_rc != 0);
    }
    if (moved == 0)
      return 0;
  }
  return sim_fail(m, "the replicas did not settle in %d rounds of syncs", HEAL_ROUNDS);
}

/* ---- the end state ---- */

static int state_of(sim_t *m, cairn_store_t *s, const char *who, cairn_test_text_t *t) {
  int rc = cairn_test_state(s, types, sizeof types / sizeof *types, 0, t);
  return rc != 0 ? sim_fail(m, "cannot read %s's state: %s", who, cairn_strerror(rc)) : 0;
}

/* The first line where a and b differ, for the failure message. */
static int differ(sim_t *m, const char *who, const cairn_test_text_t *a,
                  const cairn_test_text_t *b) {
  size_t i = 0, line = 0;
  while (i < a->n && i < b->n && a->p[i] == b->p[i])
    i++;
  while (i > 0 && a->p[i - 1] != '\n')
    i--;
  const char *pa = a->p + i, *pb = b->p + i;
  size_t la = strcspn(pa, "\n"), lb = strcspn(pb, "\n");
  for (size_t k = 0; k < i; k++)
    line += a->p[k] == '\n';
  return sim_fail(m, "%s differs from the relay at line %zu: relay has \"%.*s\", it has \"%.*s\"",
                  who, line + 1, (int)(la > 120 ? 120 : la), pa, (int)(lb > 120 ? 120 : lb), pb);
}

static int same_everywhere(sim_t *m) {
  cairn_test_text_t want = {0}, got = {0};
  char who[32];
  int rc = state_of(m, relay_store(m), "the relay", &want);
  for (unsigned i = 0; rc == 0 && i < m->ndev; i++) {
    if (m->dev[i].revoked) /* cut off: it cannot pull what happened since */
      continue;
    snprintf(who, sizeof who, "device %u", i);
    if ((rc = state_of(m, m->dev[i].s, who, &got)) == 0 &&
        (got.n != want.n || memcmp(got.p, want.p, got.n) != 0))
      rc = differ(m, who, &want, &got);
  }
  cairn_test_text_free(&want);
  cairn_test_text_free(&got);
  return rc;
}

static int found_cb(const cairn_record_t *r, void *ud) {
  (void)r;
  *(bool *)ud = true;
  return 0;
}

/* Whether entry e holds an op on mark id. */
static bool marks(const cairn_entry_t *e, const char *id) {
  cairn_op_iter_t it;
  cairn_op_t op;
  cairn_op_iter_init(e, &it);
  while (cairn_op_next(&it, &op))
    if (op.kind != CAIRN_OP_REDACTED && op.type_len == 4 && memcmp(op.type, "mark", 4) == 0 &&
        op.id_len == strlen(id) && memcmp(op.id, id, op.id_len) == 0)
      return true;
  return false;
}

/* Whether mark id is in a file of entries (4-byte big-endian length, bytes). */
bool sim_in_entries_file(const char *path, const char *id) {
  FILE *f = fopen(path, "rb");
  uint8_t be[4], *buf;
  bool found = false;
  while (f != NULL && !found && fread(be, 1, 4, f) == 4) {
    size_t len = (size_t)be[0] << 24 | (size_t)be[1] << 16 | (size_t)be[2] << 8 | be[3];
    cairn_entry_t e;
    if ((buf = malloc(len ? len : 1)) == NULL || fread(buf, 1, len, f) != len) {
      free(buf);
      break;
    }
    found = cairn_entry_decode(buf, len, SIZE_MAX, &e, NULL) == 0 && marks(&e, id);
    free(buf);
  }
  if (f != NULL)
    fclose(f);
  return found;
}

bool sim_set_aside(sim_t *m, const char *id, const char *file) {
  char path[SIM_PATH_MAX + 32];
  for (unsigned i = 0; i < m->ndev; i++) {
    if (m->dev[i].revoked) /* it sends nothing any more */
      continue;
    snprintf(path, sizeof path, "%s/%s", m->dev[i].dir, file);
    if (sim_in_entries_file(path, id))
      return true;
  }
  return false;
}

static int edits_reached(sim_t *m) {
  for (size_t i = 0; i < m->nedits; i++) {
    bool found = false;
    int rc = cairn_get(relay_store(m), "mark", m->edits[i].id, found_cb, &found);
    if (rc != 0 && rc != CAIRN_ENOENT)
      return sim_fail(m, "cannot read the relay: %s", cairn_strerror(rc));
    if (!found && sim_set_aside(m, m->edits[i].id, "forked.entries"))
      m->set_aside++;
    else if (!found)
      return sim_fail(m, "edit %s, saved by device %d at step %llu, never reached the relay",
                      m->edits[i].id, m->edits[i].dev, (unsigned long long)m->edits[i].step);
  }
  return 0;
}

int check_all(sim_t *m) {
  int rc = highs_kept(m);
  if (rc == 0)
    rc = edits_reached(m);
  if (rc == 0)
    rc = same_everywhere(m);
  return rc;
}
