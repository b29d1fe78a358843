/*
 * store.c — creating, opening and closing a store (store.h), its identity, the
 * named databases, write transactions that grow the map when it is full, and the
 * small helpers the other store files share (keys, meta, heads).
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "keyfile.h"
#include "schema.h"
#include "store_internal.h"

#define KEY_NEXT "key.next" /* a new device key waiting (cairn_store_key_next) */

static const char *const db_names[DB_COUNT] = {
    "log", "heads", "arrivals", "records", "conflicts", "pending", "history",
    "purged", "roles", "meta", "refused", "index"};

int cairn__mdb_err(int rc) {
  switch (rc) {
  case 0:
    return 0;
  case MDB_NOTFOUND:
    return CAIRN_ENOENT;
  case ENOSPC:
  case EFBIG:
    return CAIRN_ENOSPC;
  case MDB_MAP_FULL:
    return CAIRN_EMAPFULL;
  case ENOMEM:
    return CAIRN_ENOMEM;
  case MDB_CORRUPTED:
  case MDB_PAGE_NOTFOUND:
  case MDB_INVALID:
  case MDB_VERSION_MISMATCH:
    return CAIRN_ECORRUPT;
  case MDB_BAD_TXN:
    return CAIRN_EBADTXN;
  case EACCES:
  case EAGAIN:
  case MDB_READERS_FULL:
    return CAIRN_EBUSY;
  default:
    return CAIRN_EIO;
  }
}

/* ---- keys ---- */

int cairn__key_record(keybuf_t *k, const char *type, size_t tlen, const char *id,
                      size_t ilen) {
  if (tlen + ilen + 1 > sizeof k->b)
    return CAIRN_EINVAL;
  memcpy(k->b, type, tlen);
  k->b[tlen] = 0;
  memcpy(k->b + tlen + 1, id, ilen);
  k->len = tlen + 1 + ilen;
  return 0;
}

int cairn__key_field(keybuf_t *k, const char *type, size_t tlen, const char *id, size_t ilen,
                     const char *field, size_t flen) {
  if (cairn__key_record(k, type, tlen, id, ilen) != 0 ||
      k->len + flen + 2 + 8 + CAIRN_KEY_BYTES > sizeof k->b)
    return CAIRN_EINVAL;
  k->b[k->len++] = 0;
  memcpy(k->b + k->len, field, flen);
  k->len += flen;
  k->b[k->len++] = 0;
  return 0;
}

void cairn__key_add_stamp(keybuf_t *k, const cairn_stamp_t *st) {
  cairn_put_be64(k->b + k->len, st->hlc);
  memcpy(k->b + k->len + 8, st->author, CAIRN_KEY_BYTES);
  k->len += 8 + CAIRN_KEY_BYTES;
}

void cairn__key_stamp(const uint8_t *key, size_t len, cairn_stamp_t *st) {
  const uint8_t *p = key + len - 8 - CAIRN_KEY_BYTES;
  st->hlc = cairn_get_be64(p);
  memcpy(st->author, p + 8, CAIRN_KEY_BYTES);
}

void cairn__key_log(uint8_t out[40], const uint8_t *author, uint64_t seq) {
  memcpy(out, author, CAIRN_KEY_BYTES);
  cairn_put_be64(out + CAIRN_KEY_BYTES, seq);
}

/* ---- write transactions: cursors kept open, buffers reused ---- */

int cairn__bbuf_reserve(bbuf_t *b, size_t n) {
  if (b->cap - b->len >= n)
    return 0;
  size_t cap = b->cap ? b->cap : 256;
  while (cap - b->len < n)
    cap *= 2;
  uint8_t *p = realloc(b->p, cap);
  if (p == NULL)
    return CAIRN_ENOMEM;
  b->p = p;
  b->cap = cap;
  return 0;
}

void cairn__wtxn_init(wtxn_t *w, MDB_txn *txn, cairn_store_t *s) {
  memset(w, 0, sizeof *w);
  w->txn = txn;
  w->s = s;
}

int cairn__wtxn_cursor(wtxn_t *w, int db, MDB_cursor **out) {
  if (w->cur[db] == NULL) {
    int rc = mdb_cursor_open(w->txn, w->s->dbi[db], &w->cur[db]);
    if (rc != 0) {
      w->cur[db] = NULL;
      return rc;
    }
  }
  *out = w->cur[db];
  return 0;
}

void cairn__wtxn_drop_cursors(wtxn_t *w) {
  for (int i = 0; i < DB_COUNT; i++) {
    if (w->cur[i] != NULL)
      mdb_cursor_close(w->cur[i]);
    w->cur[i] = NULL;
  }
}

void cairn__wtxn_close(wtxn_t *w) {
  if (w == NULL)
    return;
  cairn__wtxn_drop_cursors(w);
  cairn__rec_free(&w->rec);
  free(w->enc.p);
  w->enc.p = NULL;
  w->enc.len = w->enc.cap = 0;
}

int cairn__wtxn_put(wtxn_t *w, int db, MDB_val *k, MDB_val *v, unsigned flags) {
  MDB_cursor *cur;
  int rc = cairn__wtxn_cursor(w, db, &cur);
  return rc != 0 ? rc : mdb_cursor_put(cur, k, v, flags);
}

int cairn__wtxn_get(wtxn_t *w, int db, MDB_val *k, MDB_val *v) {
  MDB_cursor *cur;
  int rc = cairn__wtxn_cursor(w, db, &cur);
  return rc != 0 ? rc : mdb_cursor_get(cur, k, v, MDB_SET);
}

/* ---- meta, heads ---- */

int cairn__meta_get(MDB_txn *txn, cairn_store_t *s, const char *key, MDB_val *val) {
  MDB_val k = mval(key, strlen(key));
  return cairn__mdb_err(mdb_get(txn, s->dbi[DB_META], &k, val));
}

int cairn__meta_put(MDB_txn *txn, cairn_store_t *s, const char *key, const void *p, size_t n) {
  MDB_val k = mval(key, strlen(key)), v = mval(p, n);
  return cairn__mdb_err(mdb_put(txn, s->dbi[DB_META], &k, &v, 0));
}

#define HEAD_BYTES (8 + CAIRN_HASH_BYTES + 8)

int cairn__head_get(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, head_t *h) {
  MDB_val k = mval(author, CAIRN_KEY_BYTES), v;
  int rc = mdb_get(txn, s->dbi[DB_HEADS], &k, &v);
  if (rc == MDB_NOTFOUND) {
    memset(h, 0, sizeof *h);
    return 0;
  }
  if (rc != 0)
    return cairn__mdb_err(rc);
  if (v.mv_size != HEAD_BYTES)
    return CAIRN_ECORRUPT;
  const uint8_t *p = v.mv_data;
  h->seq = cairn_get_be64(p);
  memcpy(h->hash, p + 8, CAIRN_HASH_BYTES);
  h->hlc = cairn_get_be64(p + 8 + CAIRN_HASH_BYTES);
  return 0;
}

int cairn__head_put(MDB_txn *txn, cairn_store_t *s, const uint8_t *author, const head_t *h) {
  uint8_t b[HEAD_BYTES];
  cairn_put_be64(b, h->seq);
  memcpy(b + 8, h->hash, CAIRN_HASH_BYTES);
  cairn_put_be64(b + 8 + CAIRN_HASH_BYTES, h->hlc);
  MDB_val k = mval(author, CAIRN_KEY_BYTES), v = mval(b, sizeof b);
  return cairn__mdb_err(mdb_put(txn, s->dbi[DB_HEADS], &k, &v, 0));
}

/* ---- the environment ---- */

int cairn__txn_begin(cairn_store_t *s, unsigned flags, MDB_txn **txn) {
  if (s->opts.read_only && !(flags & MDB_RDONLY))
    return CAIRN_EREADONLY;
  return cairn__mdb_err(mdb_txn_begin(s->env, NULL, flags, txn));
}

/* What a commit's failure means. LMDB reports a write cut short as EIO, without
 * a reason: when the disk is full, or the data file is at the process's file
 * size limit, that is CAIRN_ENOSPC (which of the two depends only on where the
 * last pages fell). */
static int commit_err(cairn_store_t *s, int rc) {
  const uint64_t margin = 1u << 20;
  struct statvfs fs;
  struct rlimit rl;
  struct stat st;
  mdb_filehandle_t fd;
  if (rc != EIO)
    return cairn__mdb_err(rc);
  if (statvfs(s->dir, &fs) == 0 && (uint64_t)fs.f_bavail * fs.f_frsize < margin)
    return CAIRN_ENOSPC;
  if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
      mdb_env_get_fd(s->env, &fd) == 0 && fstat(fd, &st) == 0 &&
      (uint64_t)st.st_size + margin >= (uint64_t)rl.rlim_cur)
    return CAIRN_ENOSPC;
  return CAIRN_EIO;
}

int cairn__txn_write(cairn_store_t *s, cairn__txn_fn fn, void *ud) {
  uint64_t hlc = s->hlc;
  bool had_network = s->has_network;
  for (;;) {
    MDB_txn *txn;
    int rc = cairn__txn_begin(s, 0, &txn);
    if (rc != 0)
      return rc;
    if ((rc = fn(txn, ud)) == 0)
      rc = commit_err(s, mdb_txn_commit(txn));
    else
      mdb_txn_abort(txn);
    if (rc == 0)
      return 0;
    s->hlc = hlc;
    s->has_network = had_network;
    if (rc != CAIRN_EMAPFULL || (rc = cairn__store_grow(s)) != 0)
      return rc;
  }
}

int cairn__store_grow(cairn_store_t *s) {
  size_t next = s->map_size * 2;
  MDB_envinfo info;
  if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_size)
    next = info.me_mapsize * 2; /* another process grew it already */
  int rc = mdb_env_set_mapsize(s->env, next);
  if (rc != 0)
    return cairn__mdb_err(rc);
  s->map_size = next;
  return 0;
}

static char *path_join(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  if (p != NULL)
    snprintf(p, n, "%s/%s", dir, name);
  return p;
}

static int env_open(cairn_store_t *s, cairn_error_t *err) {
  bool ro = s->opts.read_only != 0;
  /* read-only: LMDB takes no lock on a read-only file system, so a store on a USB
   * copy or a mounted backup can still be read */
  unsigned flags = MDB_NOTLS | (s->opts.no_sync ? MDB_NOSYNC : 0) | (ro ? MDB_RDONLY : 0);
  MDB_txn *txn = NULL;
  int rc, dead;
  if ((rc = mdb_env_create(&s->env)) != 0 ||
      (rc = mdb_env_set_maxdbs(s->env, DB_COUNT)) != 0 ||
      (rc = mdb_env_set_mapsize(s->env, s->map_size)) != 0)
    goto fail;
  if ((rc = mdb_env_open(s->env, s->dir, flags, 0600)) != 0)
    goto fail;
  /* a reader killed by SIGKILL leaves a slot that pins old pages: clear them */
  mdb_reader_check(s->env, &dead);
  MDB_envinfo info;
  if (mdb_env_info(s->env, &info) == 0 && info.me_mapsize > s->map_size)
    s->map_size = info.me_mapsize;
  if ((rc = mdb_txn_begin(s->env, NULL, ro ? MDB_RDONLY : 0, &txn)) != 0)
    goto fail;
  s->has_refused_db = true;
  s->has_index_db = true;
  for (int i = 0; i < DB_COUNT; i++) {
    rc = mdb_dbi_open(txn, db_names[i], ro ? 0 : MDB_CREATE, &s->dbi[i]);
    /* a store written before `refused` existed, opened read-only: none refused */
    if (rc == MDB_NOTFOUND && ro && i == DB_REFUSED) {
      s->has_refused_db = false;
      continue;
    }
    /* a store of format 1 opened read-only: queries read the records instead */
    if (rc == MDB_NOTFOUND && ro && i == DB_INDEX) {
      s->has_index_db = false;
      continue;
    }
    if (rc != 0)
      goto fail;
  }
  rc = mdb_txn_commit(txn);
  txn = NULL;
  if (rc != 0)
    goto fail;
  return 0;
fail:
  if (txn != NULL)
    mdb_txn_abort(txn);
  return cairn__error(err, cairn__mdb_err(rc), "cannot open the store in %s: %s", s->dir,
                      mdb_strerror(rc));
}

/* A store of format 1 becomes one of format 2: its `index` is built from the
 * records, in the transaction that writes the new version. */
static int format_step_fn(MDB_txn *txn, void *ud) {
  cairn_store_t *s = ud;
  uint8_t version = STORE_FORMAT_VERSION;
  int rc = cairn__index_build(txn, s);
  return rc != 0 ? rc : cairn__meta_put(txn, s, "version", &version, 1);
}

/* The format version: the current one, or an older one this program reads (made
 * current now unless the store is open read-only). */
static int check_format(cairn_store_t *s, cairn_error_t *err) {
  MDB_txn *txn;
  MDB_val v;
  int rc = cairn__txn_begin(s, MDB_RDONLY, &txn);
  if (rc != 0)
    return cairn__error(err, rc, "cannot read the store in %s", s->dir);
  rc = cairn__meta_get(txn, s, "version", &v);
  uint8_t version = rc == 0 && v.mv_size == 1 ? *(uint8_t *)v.mv_data : 0;
  mdb_txn_abort(txn);
  if (version < 1 || version > STORE_FORMAT_VERSION)
    return cairn__error(err, rc == CAIRN_ENOENT ? CAIRN_ENOENT : CAIRN_EVERSION,
                        "%s is not a cairn store of a version this program reads", s->dir);
  if (version == STORE_FORMAT_VERSION || s->opts.read_only)
    return 0;
  if ((rc = cairn__txn_write(s, format_step_fn, s)) != 0)
    return cairn__error(err, rc, "cannot bring the store in %s to this program's format: %s",
                        s->dir, cairn_strerror(rc));
  return 0;
}

/* Load meta: format version, name, network id, clock. */
static int load_meta(cairn_store_t *s, cairn_error_t *err) {
  MDB_txn *txn;
  MDB_val v;
  int rc = cairn__txn_begin(s, MDB_RDONLY, &txn);
  if (rc != 0)
    return cairn__error(err, rc, "cannot read the store in %s", s->dir);
  if (cairn__meta_get(txn, s, "name", &v) == 0 &&
      (s->name = strndup(v.mv_data, v.mv_size)) == NULL) {
    rc = CAIRN_ENOMEM;
    goto done;
  }
  if (cairn__meta_get(txn, s, "network", &v) == 0 && v.mv_size == CAIRN_KEY_BYTES) {
    memcpy(s->network, v.mv_data, CAIRN_KEY_BYTES);
    s->has_network = true;
  }
  if (cairn__meta_get(txn, s, "hlc", &v) == 0 && v.mv_size == 8)
    s->hlc = cairn_get_be64(v.mv_data);
  if (cairn__meta_get(txn, s, META_CLOCK_OFFSET, &v) == 0 && v.mv_size == 8)
    s->clock_offset_ms = (int64_t)cairn_get_be64(v.mv_data);
  rc = 0;
done:
  mdb_txn_abort(txn);
  return rc;
}

static int fsync_path(const char *path);

/* A key switch cut short between its two renames (cairn_store_key_switch) left
 * DIR/key.old and DIR/key.next and no DIR/key: finish it. */
static int key_recover(cairn_store_t *s, const char *key) {
  char *old = path_join(s->dir, "key.old"), *next = path_join(s->dir, KEY_NEXT);
  int rc = CAIRN_ENOENT;
  if (old != NULL && next != NULL && access(old, F_OK) == 0 && access(next, F_OK) == 0 &&
      !s->opts.read_only && rename(next, key) == 0)
    rc = fsync_path(s->dir);
  free(old);
  free(next);
  return rc;
}

/* Read (or, with write, write) the device key in DIR/key (core/keyfile.c); a
 * missing one means no store. */
static int key_file(cairn_store_t *s, bool write, cairn_error_t *err) {
  char *path = path_join(s->dir, "key");
  int rc;
  if (path == NULL)
    return CAIRN_ENOMEM;
  rc = write ? cairn_keyfile_write(path, s->sk, err) : cairn_keyfile_read(path, s->sk, err);
  if (!write && rc == CAIRN_ENOENT && key_recover(s, path) == 0)
    rc = cairn_keyfile_read(path, s->sk, err);
  if (!write && rc == CAIRN_ENOENT)
    rc = cairn__error(err, rc, "no store in %s (run `cairn init --name NAME`)", s->dir);
  free(path);
  return rc;
}

static int store_alloc(const char *dir, const cairn_store_opts_t *opts, cairn_store_t **out) {
  cairn_store_t *s = calloc(1, sizeof *s);
  if (s == NULL)
    return CAIRN_ENOMEM;
  if (opts != NULL)
    s->opts = *opts;
  if (s->opts.max_entry == 0)
    s->opts.max_entry = CAIRN_ENTRY_MAX_DEFAULT;
  if (s->opts.max_skew_ms == 0)
    s->opts.max_skew_ms = DEFAULT_SKEW_MS;
  s->map_size = s->opts.map_size ? s->opts.map_size : DEFAULT_MAP_SIZE;
  s->dir = strdup(dir);
  s->sk = sodium_malloc(CAIRN_SECRET_BYTES);
  if (s->dir == NULL || s->sk == NULL) {
    cairn_close(s);
    return CAIRN_ENOMEM;
  }
  *out = s;
  return 0;
}

void cairn_close(cairn_store_t *s) {
  if (s == NULL)
    return;
  if (s->env != NULL)
    mdb_env_close(s->env);
  cairn_schema_free(s->schema);
  if (s->sk != NULL)
    sodium_free(s->sk); /* sodium_free wipes the memory */
  free(s->dir);
  free(s->name);
  free(s);
}

int cairn_open(const char *dir, const cairn_store_opts_t *opts, cairn_store_t **out,
                     cairn_error_t *err) {
  cairn_store_t *s;
  char *data;
  int rc = store_alloc(dir, opts, &s);
  if (rc != 0)
    return cairn__error(err, rc, "out of memory");
  if ((rc = key_file(s, false, err)) != 0)
    goto fail;
  data = path_join(dir, "data.mdb");
  if (data == NULL || access(data, F_OK) != 0) {
    free(data);
    rc = cairn__error(err, CAIRN_ENOENT, "no store in %s (run `cairn init --name NAME`)", dir);
    goto fail;
  }
  free(data);
  if ((rc = env_open(s, err)) != 0 || (rc = check_format(s, err)) != 0 ||
      (rc = load_meta(s, err)) != 0)
    goto fail;
  *out = s;
  return 0;
fail:
  cairn_close(s);
  return rc;
}

/* Write the meta of a new store. */
static int init_meta_fn(MDB_txn *txn, void *ud) {
  cairn_store_t *s = ud;
  uint8_t version = STORE_FORMAT_VERSION;
  int rc = cairn__meta_put(txn, s, "version", &version, 1);
  return rc != 0 ? rc : cairn__meta_put(txn, s, "name", s->name, strlen(s->name));
}

static int init_meta(cairn_store_t *s, cairn_error_t *err) {
  int rc = cairn__txn_write(s, init_meta_fn, s);
  return rc ? cairn__error(err, rc, "cannot initialise the store in %s", s->dir) : 0;
}

int cairn_create(const char *dir, const char *name, const cairn_store_opts_t *opts,
                       cairn_store_t **out, cairn_error_t *err) {
  cairn_store_t *s;
  uint8_t pk[CAIRN_KEY_BYTES];
  int rc;
  if (name == NULL || name[0] == '\0' || strlen(name) > 200)
    return cairn__error(err, CAIRN_EINVAL, "a member name of 1 to 200 bytes is required");
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return cairn__error(err, CAIRN_EIO, "cannot create %s: %s", dir, strerror(errno));
  rc = store_alloc(dir, opts, &s);
  if (rc != 0)
    return cairn__error(err, rc, "out of memory");
  if ((s->name = strdup(name)) == NULL) {
    rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
    goto fail;
  }
  crypto_sign_keypair(pk, s->sk);
  if ((rc = key_file(s, true, err)) != 0) {
    if (rc == CAIRN_EEXIST)
      cairn__error(err, rc, "%s already holds a store", dir);
    goto fail;
  }
  if ((rc = env_open(s, err)) != 0 || (rc = init_meta(s, err)) != 0)
    goto fail;
  *out = s;
  return 0;
fail:
  cairn_close(s);
  return rc;
}

const uint8_t *cairn_store_key(const cairn_store_t *s) {
  return s->sk + 32;
}

const uint8_t *cairn_store_secret(const cairn_store_t *s) {
  return s->sk;
}

const char *cairn_store_name(const cairn_store_t *s) {
  return s->name ? s->name : "";
}

int cairn_store_network(cairn_store_t *s, uint8_t out[CAIRN_KEY_BYTES]) {
  if (!s->has_network)
    return CAIRN_ENONETWORK;
  memcpy(out, s->network, CAIRN_KEY_BYTES);
  return 0;
}

uint64_t cairn_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
#ifdef CAIRN_TEST_HOOKS
  /* test builds only: a device whose clock is wrong, without faketime */
  const char *off = getenv("CAIRN_TEST_CLOCK_OFFSET_MS");
  if (off != NULL && off[0] != '\0')
    ms = (uint64_t)((int64_t)ms + strtoll(off, NULL, 10));
#endif
  return ms;
}

uint64_t cairn__now_corrected(const cairn_store_t *s) {
  int64_t t = (int64_t)cairn_now_ms() + s->clock_offset_ms;
  return t > 0 ? (uint64_t)t : 0;
}

int cairn__side_file_write(cairn_store_t *s, const char *name, const uint8_t *const *parts,
                           const size_t *lens, size_t n) {
  char *path = path_join(s->dir, name), *tmp = path != NULL ? malloc(strlen(path) + 5) : NULL;
  FILE *f = NULL;
  int rc = CAIRN_EIO;
  if (tmp != NULL) /* DIR/name.tmp: one per side file */
    snprintf(tmp, strlen(path) + 5, "%s.tmp", path);
  if (path == NULL || tmp == NULL) {
    rc = CAIRN_ENOMEM;
    goto done;
  }
  if ((f = fopen(tmp, "wb")) == NULL)
    goto done;
  for (size_t i = 0; i < n; i++) {
    uint8_t be[4];
    cairn_put_be32(be, (uint32_t)lens[i]);
    if (fwrite(be, 1, 4, f) != 4 || fwrite(parts[i], 1, lens[i], f) != lens[i])
      goto done;
  }
  if (fflush(f) != 0 || fsync(fileno(f)) != 0)
    goto done;
  if (fclose(f) != 0) {
    f = NULL;
    goto done;
  }
  f = NULL;
  /* the rename durable too: the entries are in the log or in the file */
  rc = rename(tmp, path) == 0 && fsync_path(s->dir) == 0 ? 0 : CAIRN_EIO;
done:
  if (f != NULL)
    fclose(f);
  if (rc != 0 && tmp != NULL)
    unlink(tmp);
  free(path);
  free(tmp);
  return rc;
}

int cairn__side_file_append(cairn_store_t *s, const char *name, const uint8_t *entry,
                            size_t len) {
  char *path = path_join(s->dir, name);
  FILE *f = path != NULL ? fopen(path, "ab") : NULL;
  uint8_t be[4];
  int rc = CAIRN_EIO;
  cairn_put_be32(be, (uint32_t)len);
  if (f != NULL && fwrite(be, 1, 4, f) == 4 && fwrite(entry, 1, len, f) == len &&
      fflush(f) == 0 && fsync(fileno(f)) == 0)
    rc = 0;
  if (f != NULL && fclose(f) != 0)
    rc = CAIRN_EIO;
  if (rc == 0 && fsync_path(s->dir) != 0) /* a file it made: its name durable too */
    rc = CAIRN_EIO;
  free(path);
  return path == NULL ? CAIRN_ENOMEM : rc;
}

FILE *cairn__side_file_open(cairn_store_t *s, const char *name) {
  char *path = path_join(s->dir, name);
  FILE *f = path != NULL ? fopen(path, "rb") : NULL;
  if (path == NULL)
    errno = ENOMEM;
  free(path);
  return f;
}

void cairn__side_file_remove(cairn_store_t *s, const char *name) {
  char *path = path_join(s->dir, name);
  if (path != NULL)
    unlink(path);
  free(path);
}

/* fsync a file by path, so that a rename over the old one is durable. */
static int fsync_path(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  int rc = fd >= 0 && fsync(fd) == 0 ? 0 : CAIRN_EIO;
  if (fd >= 0)
    close(fd);
  return rc;
}

/* ---- a new device key (store.h, cairn_store_key_next) ---- */

/* The secret of the waiting key into sk (sodium_malloc'd by the caller). */
static int key_next_read(cairn_store_t *s, uint8_t *sk, cairn_error_t *err) {
  char *path = path_join(s->dir, KEY_NEXT);
  int rc = path == NULL ? CAIRN_ENOMEM : cairn_keyfile_read(path, sk, err);
  free(path);
  return rc;
}

int cairn_store_key_waiting(cairn_store_t *s, uint8_t pk[CAIRN_KEY_BYTES]) {
  uint8_t *sk = sodium_malloc(CAIRN_SECRET_BYTES);
  int rc = sk == NULL ? CAIRN_ENOMEM : key_next_read(s, sk, NULL);
  if (rc == 0)
    memcpy(pk, sk + 32, CAIRN_KEY_BYTES);
  sodium_free(sk);
  return rc == 0 ? 1 : rc == CAIRN_ENOENT ? 0 : rc;
}

int cairn_store_key_next(cairn_store_t *s, uint8_t pk[CAIRN_KEY_BYTES], cairn_error_t *err) {
  uint8_t *sk;
  char *path;
  int rc = cairn_store_key_waiting(s, pk);
  if (rc != 0)
    return rc < 0 ? cairn__error(err, rc, "cannot read %s/%s", s->dir, KEY_NEXT) : 0;
  if (s->opts.read_only)
    return cairn__error(err, CAIRN_EREADONLY, "the store is open read-only");
  if ((sk = sodium_malloc(CAIRN_SECRET_BYTES)) == NULL ||
      (path = path_join(s->dir, KEY_NEXT)) == NULL) {
    sodium_free(sk);
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  }
  crypto_sign_keypair(sk + 32, sk);
  if ((rc = cairn_keyfile_write(path, sk, err)) == 0 && (rc = fsync_path(s->dir)) != 0)
    cairn__error(err, rc, "cannot write %s", path);
  if (rc == 0)
    memcpy(pk, sk + 32, CAIRN_KEY_BYTES);
  sodium_free(sk);
  free(path);
  return rc;
}

int cairn_store_key_discard(cairn_store_t *s) {
  char *next = path_join(s->dir, KEY_NEXT);
  int rc = next == NULL ? CAIRN_ENOMEM : 0;
  if (rc == 0 && s->opts.read_only)
    rc = CAIRN_EREADONLY;
  else if (rc == 0 && unlink(next) != 0 && errno != ENOENT)
    rc = CAIRN_EIO;
  if (rc == 0)
    rc = fsync_path(s->dir);
  free(next);
  return rc;
}

int cairn_store_key_switch(cairn_store_t *s, cairn_error_t *err) {
  char *key = path_join(s->dir, "key"), *old = path_join(s->dir, "key.old"),
       *next = path_join(s->dir, KEY_NEXT);
  uint8_t *sk = sodium_malloc(CAIRN_SECRET_BYTES);
  int rc = key == NULL || old == NULL || next == NULL || sk == NULL ? CAIRN_ENOMEM : 0;
  if (rc == 0 && s->opts.read_only)
    rc = cairn__error(err, CAIRN_EREADONLY, "the store is open read-only");
  else if (rc == 0)
    rc = key_next_read(s, sk, err);
  /* key -> key.old, then key.next -> key: a crash between leaves key.old and
   * key.next, which cairn_open puts back (key_recover); a second rename that
   * fails puts the old key back */
  if (rc == 0 && rename(key, old) != 0)
    rc = CAIRN_EIO;
  else if (rc == 0 && rename(next, key) != 0) {
    rc = CAIRN_EIO;
    (void)rename(old, key);
  }
  if (rc == 0 && fsync_path(s->dir) != 0)
    rc = CAIRN_EIO;
  if (rc == CAIRN_EIO)
    cairn__error(err, rc, "cannot put the new key in place in %s: %s", s->dir, strerror(errno));
  if (rc == 0)
    memcpy(s->sk, sk, CAIRN_SECRET_BYTES);
  else if (rc == CAIRN_ENOMEM)
    cairn__error(err, rc, "out of memory");
  sodium_free(sk);
  free(key);
  free(old);
  free(next);
  return rc;
}

/* Rewrite data.mdb without free pages, so that purged content leaves the file:
 * LMDB keeps freed pages as they were. Copy compacted, fsync, swap, reopen. */
int cairn__store_compact(cairn_store_t *s) {
  char *tmp = path_join(s->dir, "compact.tmp");
  char *src = NULL, *dst = NULL;
  cairn_error_t e;
  int rc;
  if (tmp == NULL)
    return CAIRN_ENOMEM;
  src = path_join(tmp, "data.mdb");
  dst = path_join(s->dir, "data.mdb");
  if (src == NULL || dst == NULL) {
    rc = CAIRN_ENOMEM;
    goto done;
  }
  unlink(src);
  rmdir(tmp);
  if (mkdir(tmp, 0700) != 0) {
    rc = CAIRN_EIO;
    goto done;
  }
  rc = cairn__mdb_err(mdb_env_copy2(s->env, tmp, MDB_CP_COMPACT));
  if (rc == 0)
    rc = fsync_path(src);
  if (rc != 0) {
    unlink(src);
    rmdir(tmp);
    goto done;
  }
  mdb_env_close(s->env);
  s->env = NULL;
  if (rename(src, dst) != 0)
    rc = CAIRN_EIO;
  rmdir(tmp);
  int rc2 = env_open(s, &e);
  if (rc == 0)
    rc = rc2;
done:
  free(tmp);
  free(src);
  free(dst);
  return rc;
}
