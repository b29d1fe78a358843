/*
 * world.c — the simulated network's devices and relay: setting them up as the
 * CLI does (a network created by the first device, the others granted editor and
 * given the first entries on a bundle, every store's relay set), local changes,
 * crashes, backups and restores, bundles between devices.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sim.h"

#define SIM_NOTES 5
#define SIM_FIELDS 3

int sim_fail(sim_t *m, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(m->why, sizeof m->why, fmt, ap);
  va_end(ap);
  return CAIRN_EINVAL;
}

static int path(char *out, const char *a, const char *b) {
  int n = snprintf(out, SIM_PATH_MAX, "%s/%s", a, b);
  return n > 0 && n < SIM_PATH_MAX ? 0 : CAIRN_EINVAL;
}

static const cairn_store_opts_t store_opts = {0, 0, 0, 1, 0, 0};

static int device_open(device_t *d) {
  cairn_error_t err;
  sim_as_device(d->sim, d);
  if (cairn_open(d->dir, &store_opts, &d->s, &err) != 0)
    return sim_fail(d->sim, "device %d cannot open its store: %s", d->id, err.msg);
  return 0;
}

/* ---- copying a store directory (a backup, a copy to another device) ---- */

static int copy_file(const char *from, const char *to) {
  char buf[65536];
  size_t n;
  int rc = 0;
  FILE *in = fopen(from, "rb"), *out = in ? fopen(to, "wb") : NULL;
  if (in == NULL || out == NULL)
    rc = CAIRN_EIO;
  while (rc == 0 && (n = fread(buf, 1, sizeof buf, in)) > 0)
    if (fwrite(buf, 1, n, out) != n)
      rc = CAIRN_EIO;
  if (in != NULL && ferror(in))
    rc = CAIRN_EIO;
  if (in != NULL)
    fclose(in);
  if (out != NULL && fclose(out) != 0)
    rc = CAIRN_EIO;
  if (rc == 0 && chmod(to, 0600) != 0)
    rc = CAIRN_EIO;
  return rc;
}

/* Every file of a store directory but LMDB's lock file (readers, remade at open). */
static int copy_store(const char *from, const char *to) {
  char a[SIM_PATH_MAX], b[SIM_PATH_MAX];
  struct dirent *e;
  int rc = 0;
  if (cairn_test_rmrf(to) != 0 || mkdir(to, 0700) != 0)
    return CAIRN_EIO;
  DIR *dh = opendir(from);
  if (dh == NULL)
    return CAIRN_EIO;
  while (rc == 0 && (e = readdir(dh)) != NULL) {
    if (e->d_name[0] == '.' || strcmp(e->d_name, "lock.mdb") == 0)
      continue;
    if (path(a, from, e->d_name) != 0 || path(b, to, e->d_name) != 0)
      rc = CAIRN_EINVAL;
    else
      rc = copy_file(a, b);
  }
  closedir(dh);
  return rc;
}

/* ---- setting up ---- */

static int device_create(sim_t *m, unsigned i) {
  device_t *d = &m->dev[i];
  cairn_error_t err;
  char name[16], bak[24];
  d->sim = m;
  d->id = (int)i;
  d->wire = sim_wire_of(m->o.seed, i);
  d->io = (cairn_sim_io_t){net_connect, net_write, net_close, d};
  snprintf(name, sizeof name, "d%u", i);
  snprintf(bak, sizeof bak, "d%u.bak", i);
  if (path(d->dir, m->root, name) != 0 || path(d->backup, m->root, bak) != 0)
    return sim_fail(m, "path too long");
  sim_as_device(m, d);
  if (cairn_create(d->dir, name, &store_opts, &d->s, &err) != 0)
    return sim_fail(m, "cannot create device %u: %s", i, err.msg);
  return 0;
}

/* The first device grants every other editor, in one change. */
static int grant_all(sim_t *m) {
  cairn_change_t *c;
  cairn_error_t err;
  char name[16];
  int rc;
  sim_as_device(m, &m->dev[0]);
  if ((rc = cairn_change_begin(m->dev[0].s, &c)) != 0)
    return sim_fail(m, "cannot begin a change: %s", cairn_strerror(rc));
  for (unsigned i = 1; i < m->ndev && rc == 0; i++) {
    snprintf(name, sizeof name, "d%u", i);
    rc = cairn_change_member(c, cairn_store_key(m->dev[i].s), CAIRN_ROLE_EDITOR, name, NULL);
  }
  if (rc != 0) {
    cairn_change_abort(c);
    return sim_fail(m, "cannot grant: %s", cairn_strerror(rc));
  }
  if (cairn_change_commit(c, NULL, &err) != 0)
    return sim_fail(m, "cannot grant: %s", err.msg);
  return 0;
}

/* Every other device gets the network's first entries on a bundle. */
static int hand_out_start(sim_t *m) {
  char bdl[SIM_PATH_MAX];
  cairn_error_t err;
  if (path(bdl, m->root, "start.bdl") != 0)
    return sim_fail(m, "path too long");
  sim_as_device(m, &m->dev[0]);
  if (cairn_bundle_create(m->dev[0].s, bdl, NULL, NULL, NULL, &err) != 0)
    return sim_fail(m, "cannot write the first bundle: %s", err.msg);
  for (unsigned i = 1; i < m->ndev; i++) {
    sim_as_device(m, &m->dev[i]);
    if (cairn_bundle_apply(m->dev[i].s, bdl, 0, NULL, &err) != 0)
      return sim_fail(m, "device %u cannot apply the first bundle: %s", i, err.msg);
  }
  return 0;
}

static int relay_start(sim_t *m) {
  cairn_error_t err;
  sim_as_relay(m);
  if (relay_sim_open(m->relay_dir, &m->ropts, &m->relay, &err) != 0)
    return sim_fail(m, "cannot open the relay: %s", err.msg);
  return 0;
}

static const char *sim_base(void) {
  const char *t = getenv("CAIRN_SIM_DIR");
  struct stat st;
  if (t != NULL && t[0] != '\0')
    return t;
  return stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
}

int world_new(sim_t *m) {
  cairn_error_t err;
  int n = snprintf(m->root, sizeof m->root, "%s/cairn-sim-XXXXXX", sim_base());
  if (n <= 0 || (size_t)n >= sizeof m->root || mkdtemp(m->root) == NULL) {
    m->root[0] = '\0';
    return sim_fail(m, "cannot make a temporary directory");
  }
  if (path(m->relay_dir, m->root, "relay") != 0)
    return sim_fail(m, "path too long");
  m->relay_wire = sim_wire_of(m->o.seed, SIM_DEVICES_MAX);
  sim_as_relay(m);
  if (relay_init_dir(m->relay_dir, m->relay_pk, &err) != 0)
    return sim_fail(m, "cannot make the relay: %s", err.msg);
  for (unsigned i = 0; i < m->ndev; i++)
    if (device_create(m, i) != 0)
      return CAIRN_EINVAL;
  sim_as_device(m, &m->dev[0]);
  if (cairn_store_network_create(m->dev[0].s, "simulation", m->net, &err) != 0)
    return sim_fail(m, "cannot create the network: %s", err.msg);
  if (relay_host(m->relay_dir, m->net, &err) != 0)
    return sim_fail(m, "the relay cannot host the network: %s", err.msg);
  if (grant_all(m) != 0 || hand_out_start(m) != 0)
    return CAIRN_EINVAL;
  for (unsigned i = 0; i < m->ndev; i++)
    if (cairn_sync_set_remote(m->dev[i].s, "127.0.0.1:9", m->relay_pk, &err) != 0)
      return sim_fail(m, "cannot set the relay: %s", err.msg);
  return relay_start(m);
}

void world_free(sim_t *m) {
  if (m->relay != NULL)
    net_free_all(m);
  for (unsigned i = 0; i < m->ndev; i++) {
    cairn_close(m->dev[i].s);
    m->dev[i].s = NULL;
  }
  relay_sim_close(m->relay);
  m->relay = NULL;
  if (m->root[0] != '\0' && getenv("CAIRN_SIM_KEEP") == NULL)
    (void)cairn_test_rmrf(m->root);
  free(m->edits);
  free(m->highs);
}

/* ---- syncing ---- */

int device_sync_start(device_t *d) {
  cairn_error_t err;
  int rc;
  if (d->link != NULL)
    return 0;
  sim_as_device(d->sim, d);
  if ((rc = cairn_sim_sync_start(d->s, &d->io, &d->link, &err)) != 0)
    return sim_fail(d->sim, "device %d cannot start a sync: %s", d->id, err.msg);
  return device_check_link(d);
}

/* When the device's sync is over: keep its result, free it. */
int device_check_link(device_t *d) {
  cairn_error_t err;
  int rc;
  if (d->link == NULL || !cairn_sim_sync_done(d->link, &rc, &err, &d->last_stats))
    return 0;
  d->last_rc = rc;
  if (d->sim->o.verbose)
    fprintf(stderr, "  step %llu: device %d sync: %s%s%s\n", (unsigned long long)d->sim->step,
            d->id, rc == 0 ? "ok" : cairn_err_name(rc), rc ? ": " : "", rc ? err.msg : "");
  cairn_sim_sync_free(d->link);
  d->link = NULL;
  return 0;
}

/* ---- local changes ---- */

/* A MessagePack string of fewer than 32 bytes. */
static size_t pack_str(uint8_t *out, const char *s) {
  size_t n = strlen(s);
  out[0] = (uint8_t)(0xa0 | n);
  memcpy(out + 1, s, n);
  return n + 1;
}

static int edit_ops(device_t *d, cairn_change_t *c, const char *value) {
  sim_t *m = d->sim;
  uint8_t v[32];
  char id[8], field[8];
  size_t len = pack_str(v, value);
  int rc = 0;
  for (size_t k = cairn_test_rng_range(&m->rng, 1, 2); k > 0 && rc == 0; k--) {
    snprintf(id, sizeof id, "n%zu", cairn_test_rng_below(&m->rng, SIM_NOTES));
    snprintf(field, sizeof field, "f%zu", cairn_test_rng_below(&m->rng, SIM_FIELDS));
    if (cairn_test_rng_below(&m->rng, 8) == 0)
      rc = cairn_change_del(c, "note", id);
    else
      rc = cairn_change_put(c, "note", id, field, v, len, 0);
  }
  return rc;
}

static int edit_remember(sim_t *m, const device_t *d, const char *id) {
  if (m->nedits == m->edits_cap) {
    size_t cap = m->edits_cap ? 2 * m->edits_cap : 64;
    edit_t *e = realloc(m->edits, cap * sizeof *e);
    if (e == NULL)
      return sim_fail(m, "out of memory");
    m->edits = e;
    m->edits_cap = cap;
  }
  edit_t *e = &m->edits[m->nedits++];
  snprintf(e->id, sizeof e->id, "%s", id);
  e->dev = d->id;
  memcpy(e->key, cairn_store_key(d->s), CAIRN_KEY_BYTES);
  e->step = m->step;
  return 0;
}

/* One change: one or two ops on a few shared notes (so that edits conflict) and
 * a mark record of its own, by which it is found at the end. */
int device_edit(device_t *d) {
  sim_t *m = d->sim;
  cairn_change_t *c;
  cairn_error_t err;
  char mark[32];
  uint8_t v[32];
  int rc;
  snprintf(mark, sizeof mark, "e%llu.d%d", (unsigned long long)++m->edit_no, d->id);
  sim_as_device(m, d);
  if ((rc = cairn_change_begin(d->s, &c)) != 0)
    return sim_fail(m, "device %d cannot begin a change: %s", d->id, cairn_strerror(rc));
  if ((rc = edit_ops(d, c, mark)) != 0 ||
      (rc = cairn_change_put(c, "mark", mark, "by", v, pack_str(v, mark), 0)) != 0) {
    cairn_change_abort(c);
    return sim_fail(m, "device %d cannot make a change: %s", d->id, cairn_strerror(rc));
  }
  /* a revoked device goes on writing until it learns of it; then it may not */
  if ((rc = cairn_change_commit(c, NULL, &err)) != 0 && !(d->revoked && rc == CAIRN_EFORBIDDEN))
    return sim_fail(m, "device %d cannot save a change: %s", d->id, err.msg);
  return d->revoked ? 0 : edit_remember(m, d, mark);
}

/* ---- a store copied to a second device ---- */

/* d's store is copied to a new device, which goes on writing with the same key. */
int device_twin(device_t *d) {
  sim_t *m = d->sim;
  device_t *t = &m->dev[m->ndev];
  char name[16], bak[24];
  if (m->ndev >= SIM_DEVICES_MAX || d->revoked || d->s == NULL)
    return 0;
  memset(t, 0, sizeof *t);
  t->sim = m;
  t->id = (int)m->ndev;
  t->io = (cairn_sim_io_t){net_connect, net_write, net_close, t};
  t->clock_off = d->clock_off;
  snprintf(name, sizeof name, "d%u", m->ndev);
  snprintf(bak, sizeof bak, "d%u.bak", m->ndev);
  if (path(t->dir, m->root, name) != 0 || path(t->backup, m->root, bak) != 0)
    return sim_fail(m, "path too long");
  if (copy_store(d->dir, t->dir) != 0)
    return sim_fail(m, "cannot copy device %d's store", d->id);
  m->ndev++;
  return device_open(t);
}

/* d moves to a key of its own (cairn_rekey); one already moving stays as it is. */
int device_rekey(device_t *d) {
  cairn_rekey_info_t r;
  cairn_error_t err;
  int rc;
  if (d->revoked || d->s == NULL)
    return 0;
  sim_as_device(d->sim, d);
  rc = cairn_rekey(d->s, &r, &err);
  if (rc != 0 && rc != CAIRN_EBUSY)
    return sim_fail(d->sim, "device %d cannot move to a new key: %s", d->id, err.msg);
  return 0;
}

/* The owner grants every new key that waits for an admin (same name and role). */
int owner_grants_keys(sim_t *m) {
  device_t *owner = &m->dev[0];
  for (unsigned i = 1; i < m->ndev; i++) {
    device_t *d = &m->dev[i];
    cairn_rekey_info_t r;
    cairn_change_t *c;
    cairn_error_t err;
    cairn_role_t role = CAIRN_ROLE_NONE;
    int rc;
    if (d->revoked || cairn_rekey_status(d->s, &r) != 1 || r.stage != CAIRN_REKEY_AWAITING ||
        r.role == CAIRN_ROLE_NONE || r.role == CAIRN_ROLE_REVOKED)
      continue;
    sim_as_device(m, owner);
    if ((rc = cairn_store_role(owner->s, r.new_key, &role)) != 0 || role != CAIRN_ROLE_NONE)
      continue;
    if ((rc = cairn_change_begin(owner->s, &c)) != 0)
      return sim_fail(m, "the owner cannot begin a grant: %s", cairn_strerror(rc));
    if ((rc = cairn_change_member(c, r.new_key, r.role, cairn_store_name(d->s), NULL)) != 0) {
      cairn_change_abort(c);
      return sim_fail(m, "the owner cannot grant a new key: %s", cairn_strerror(rc));
    }
    if (cairn_change_commit(c, NULL, &err) != 0)
      return sim_fail(m, "the owner cannot save a grant: %s", err.msg);
  }
  return 0;
}

/* ---- members ---- */

static int has_mark(cairn_store_t *s, const char *id, bool *found);
static int forget_lost(sim_t *m);

int device_revoke(device_t *owner, device_t *d) {
  sim_t *m = owner->sim;
  cairn_change_t *c;
  cairn_error_t err;
  uint64_t last = 0;
  int rc;
  if (d == owner || d->revoked ||
      memcmp(cairn_store_key(d->s), cairn_store_key(owner->s), CAIRN_KEY_BYTES) == 0)
    return 0;
  sim_as_device(m, owner);
  if ((rc = cairn_store_head_seq(owner->s, cairn_store_key(d->s), &last)) != 0 ||
      (rc = cairn_change_begin(owner->s, &c)) != 0)
    return sim_fail(m, "the owner cannot begin a revocation: %s", cairn_strerror(rc));
  if ((rc = cairn_change_revoke(c, cairn_store_key(d->s), last)) != 0) {
    cairn_change_abort(c);
    return sim_fail(m, "the owner cannot revoke device %d: %s", d->id, cairn_strerror(rc));
  }
  if (cairn_change_commit(c, NULL, &err) != 0)
    return sim_fail(m, "the owner cannot save a revocation: %s", err.msg);
  uint8_t key[CAIRN_KEY_BYTES];
  memcpy(key, cairn_store_key(d->s), CAIRN_KEY_BYTES);
  for (unsigned i = 0; i < m->ndev; i++) /* a copy of its store has its key */
    if (m->dev[i].s != NULL && memcmp(cairn_store_key(m->dev[i].s), key, CAIRN_KEY_BYTES) == 0)
      m->dev[i].revoked = true;
  return forget_refused(m, key);
}

int forget_refused(sim_t *m, const uint8_t key[CAIRN_KEY_BYTES]) {
  size_t k = 0;
  int rc;
  /* what the owner holds of the key is accepted; the rest is refused everywhere */
  for (size_t i = 0; i < m->nedits; i++) {
    bool held = true;
    if (memcmp(m->edits[i].key, key, CAIRN_KEY_BYTES) == 0 &&
        (rc = has_mark(m->dev[0].s, m->edits[i].id, &held)) != 0)
      return sim_fail(m, "cannot read the owner's store: %s", cairn_strerror(rc));
    if (held)
      m->edits[k++] = m->edits[i];
  }
  m->nedits = k;
  return forget_lost(m) != 0 ? CAIRN_EINVAL : 0;
}

/* ---- faults ---- */

/* The device's process dies: its link vanishes where it stands, its store is
 * closed without anything more written, and it starts again from what LMDB
 * committed. */
int device_crash(device_t *d) {
  cairn_sim_sync_free(d->link);
  d->link = NULL;
  net_break_device(d->sim, d);
  cairn_close(d->s);
  d->s = NULL;
  return device_open(d);
}

int device_backup(device_t *d) {
  if (d->link != NULL)
    return 0; /* copied between syncs, as a person would */
  cairn_close(d->s);
  d->s = NULL;
  if (copy_store(d->dir, d->backup) != 0)
    return sim_fail(d->sim, "cannot copy device %d's store", d->id);
  d->has_backup = true;
  d->backup_step = d->sim->step;
  return device_open(d);
}

/* Whether an edit lives on somewhere it can still be sent from: in the records
 * of the relay or of a device not revoked, or in such a device's entries waiting
 * to be signed again or set aside. */
static int kept_somewhere(sim_t *m, const char *id, bool *found) {
  int rc = has_mark(m->relay->nets[0]->store, id, found);
  for (unsigned i = 0; rc == 0 && !*found && i < m->ndev; i++)
    if (!m->dev[i].revoked)
      rc = has_mark(m->dev[i].s, id, found);
  if (rc == 0 && !*found)
    *found = sim_set_aside(m, id, "taken-back.entries") || sim_set_aside(m, id, "forked.entries");
  return rc;
}

/* After a disk was replaced by its backup, or a device revoked: the edits, of
 * any device, that lived only there are gone with it, and no longer expected. */
static int forget_lost(sim_t *m) {
  size_t k = 0;
  int rc = 0;
  for (size_t i = 0; i < m->nedits; i++) {
    bool found = true;
    rc = rc ? rc : kept_somewhere(m, m->edits[i].id, &found);
    if (found)
      m->edits[k++] = m->edits[i];
  }
  m->nedits = k;
  return rc != 0 ? sim_fail(m, "cannot read a store: %s", cairn_strerror(rc)) : 0;
}

/* The device's disk is replaced by its backup. */
int device_restore(device_t *d) {
  if (!d->has_backup)
    return 0;
  cairn_sim_sync_free(d->link);
  d->link = NULL;
  net_break_device(d->sim, d);
  cairn_close(d->s);
  d->s = NULL;
  if (copy_store(d->backup, d->dir) != 0)
    return sim_fail(d->sim, "cannot restore device %d's store", d->id);
  int rc = device_open(d);
  if (rc == 0 && forget_lost(d->sim) != 0)
    return CAIRN_EINVAL;
  return rc;
}

static int mark_cb(const cairn_record_t *r, void *ud) {
  (void)r;
  *(bool *)ud = true;
  return 0;
}

static int has_mark(cairn_store_t *s, const char *id, bool *found) {
  int rc;
  *found = false;
  rc = cairn_get(s, "mark", id, mark_cb, found);
  return rc == CAIRN_ENOENT ? 0 : rc;
}

/* Entries carried by hand: a bundle of all from's entries, applied on to. */
int device_bundle(device_t *from, device_t *to) {
  sim_t *m = from->sim;
  char bdl[SIM_PATH_MAX];
  cairn_error_t err;
  int rc;
  if (path(bdl, m->root, "carry.bdl") != 0)
    return sim_fail(m, "path too long");
  sim_as_device(m, from);
  if ((rc = cairn_bundle_create(from->s, bdl, NULL, NULL, NULL, &err)) != 0)
    return sim_fail(m, "device %d cannot write a bundle: %s", from->id, err.msg);
  sim_as_device(m, to);
  rc = cairn_bundle_apply(to->s, bdl, 0, NULL, &err);
  if (m->o.verbose && rc != 0)
    fprintf(stderr, "  step %llu: bundle %d -> %d: %s\n", (unsigned long long)m->step,
            from->id, to->id, err.msg);
  /* refusing entries is the receiver's right (a clock, a role); failing is not */
  if (rc == CAIRN_EIO || rc == CAIRN_ECORRUPT || rc == CAIRN_ENOMEM || rc == CAIRN_ENOSPC)
    return sim_fail(m, "device %d cannot apply a bundle: %s", to->id, err.msg);
  return 0;
}

/* The relay's process dies: every connection breaks, batches not committed are
 * lost, and it starts again from its stores. */
int relay_crash(sim_t *m) {
  while (m->pipes != NULL)
    net_break(m, m->pipes);
  relay_sim_close(m->relay);
  m->relay = NULL;
  return relay_start(m);
}
