/*
 * bundle.c — sync on a file (bundle.h): write a store's entries into one zstd
 * frame, read them back one at a time, apply them in batches.
 *
 * The writer streams cairn_store_export straight into a ZSTD_CStream, so a bundle
 * of any size is written with fixed memory. It writes to PATH.tmp, fsyncs, renames
 * over PATH and fsyncs the directory: a reader of PATH sees either the old file or
 * the whole new bundle, never a partial one.
 *
 * The reader decompresses with a ZSTD_DStream directly into the buffer of the one
 * entry it holds, so its memory is one entry (at most max_entry) plus zstd's own
 * buffers (the window is capped by BUNDLE_WINDOW_LOG_MAX, so a hostile frame cannot
 * ask for more). Every length is checked against max_entry before anything is
 * allocated for it. Errors name the entry (1-based: the one being read when the
 * stream failed) and the offset in the decompressed stream where that entry's
 * length prefix starts; for errors in the end marker, the entry number is the
 * count read so far + 1 and the offset is that of the marker. A reader that failed
 * keeps failing with the same error; one that reached the end keeps returning 0.
 *
 * Applying copies each entry into memory owned by the batch (the reader's view is
 * invalidated by the next read), prepares it (decodes and hashes it, apply.c) and
 * applies full batches as cairn_store_apply does, one transaction each. A second
 * thread reads and prepares the next batch while the current one is written; with
 * two batches alternating, memory is two batches. A batch is also cut when it
 * holds BATCH_BYTES_MAX bytes, so a batch of large entries stays bounded. When the
 * stream breaks mid-batch, the entries read before the break are applied first
 * (each is valid on its own), then the stream's error is returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "bundle.h"
#include "bytes.h"
#include "compact.h"
#include "store_internal.h"

#define MAGIC_LEN 8
#define HEADER_LEN (MAGIC_LEN + 1)
#define BUNDLE_WHOLE 1 /* the version whose items are whole entries */
#define ITEM_SLACK 5   /* a whole entry as an item: its bin header */
#define LEN_BYTES 4
#define COUNT_BYTES 8
#define ZSTD_LEVEL 3
/* Largest zstd window a reader accepts (16 MiB). Level 3 writes windows of at
 * most 2 MiB; this only stops a hostile frame from asking for zstd's 128 MiB. */
#define BUNDLE_WINDOW_LOG_MAX 24
#define DEFAULT_BATCH 4096
#define BATCH_BYTES_MAX ((size_t)32 << 20)

_Static_assert(sizeof(CAIRN_BUNDLE_MAGIC) - 1 == MAGIC_LEN, "bundle magic is 8 bytes");

/* ==== reader ==== */

struct cairn_bundle_reader {
  FILE *f;              /* file source, or NULL for memory */
  uint8_t *inbuf;       /* file source: compressed bytes read ahead */
  size_t inbuf_cap;
  ZSTD_inBuffer in;     /* what zstd has not consumed yet */
  ZSTD_DStream *zd;
  int frame_done;       /* zstd has seen the end of the frame */
  uint8_t *entry;       /* the one entry held */
  size_t entry_cap;
  size_t max_entry;
  uint64_t count;       /* entries returned */
  uint64_t offset;      /* decompressed bytes consumed */
  uint64_t entry_off;   /* where the entry being read (or last returned) starts */
  int version;          /* BUNDLE_WHOLE, or CAIRN_BUNDLE_VERSION: compact items */
  bool have_network;    /* compact: the network id (the stream's first bytes) is read */
  cairn_compact_t compact; /* compact: the run the next item continues */
  uint8_t *item;        /* compact: the item being read */
  size_t item_cap;
  bool hashed;          /* compact: the entry last returned was rebuilt, its hash ... */
  uint8_t hash[CAIRN_HASH_BYTES]; /* ... this (apply hands it to prepare) */
  int state;            /* 0 reading, 1 at the verified end, < 0 failed */
  cairn_error_t fail;   /* the error a failed reader repeats */
};

/* Record a stream error (sticky) and fill err. */
#define READ_ERR(r, err, code, fmt, ...)                                                  \
  read_fail(r, err, code, "bundle entry %llu at byte %llu: " fmt,                         \
            (unsigned long long)((r)->count + 1), (unsigned long long)(r)->entry_off,     \
            ##__VA_ARGS__)

static int read_fail(cairn_bundle_reader_t *r, cairn_error_t *err, int code, const char *fmt,
                     ...) CAIRN_PRINTF(4, 5);

static int read_fail(cairn_bundle_reader_t *r, cairn_error_t *err, int code, const char *fmt,
                     ...) {
  va_list ap;
  r->state = code;
  r->fail.code = code;
  va_start(ap, fmt);
  vsnprintf(r->fail.msg, sizeof r->fail.msg, fmt, ap);
  va_end(ap);
  if (err != NULL)
    *err = r->fail;
  return code;
}

/* More compressed input from the file; 0 with in.size == 0 at its end. */
static int refill(cairn_bundle_reader_t *r, cairn_error_t *err) {
  size_t n;
  r->in.src = r->inbuf;
  r->in.size = 0;
  r->in.pos = 0;
  if (r->f == NULL)
    return 0;
  n = fread(r->inbuf, 1, r->inbuf_cap, r->f);
  if (n == 0 && ferror(r->f))
    return READ_ERR(r, err, CAIRN_EIO, "read error: %s", strerror(errno));
  r->in.size = n;
  return 0;
}

/*
 * Decompress exactly n bytes into dst. For the truncation message, the bytes are
 * part done..done+n of an item of total bytes named what ("entry length"...).
 */
static int read_exact(cairn_bundle_reader_t *r, uint8_t *dst, size_t n, const char *what,
                      size_t done, size_t total, cairn_error_t *err) {
  ZSTD_outBuffer out = {dst, n, 0};
  int rc;
  while (out.pos < n) {
    size_t in_before = r->in.pos, out_before = out.pos, ret;
    if (r->frame_done)
      return READ_ERR(r, err, CAIRN_EMALFORMED, "truncated: the compressed frame ends "
                      "inside the %s (%zu of %zu bytes)", what, done + out.pos, total);
    ret = ZSTD_decompressStream(r->zd, &out, &r->in);
    if (ZSTD_isError(ret))
      return READ_ERR(r, err, CAIRN_EMALFORMED, "corrupt compressed data (zstd: %s)",
                      ZSTD_getErrorName(ret));
    if (ret == 0) {
      r->frame_done = 1;
      continue;
    }
    if (out.pos > out_before || r->in.pos > in_before)
      continue;
    /* no progress: zstd needs more input */
    if (r->in.pos < r->in.size)
      return READ_ERR(r, err, CAIRN_EMALFORMED, "corrupt compressed data (no progress)");
    if ((rc = refill(r, err)) != 0)
      return rc;
    if (r->in.size == 0)
      return READ_ERR(r, err, CAIRN_EMALFORMED, "truncated: the data ends inside the %s "
                      "(%zu of %zu bytes)", what, done + out.pos, total);
  }
  r->offset += n;
  return 0;
}

/* After the end marker: the frame must end there and nothing may follow it. */
static int check_trailing(cairn_bundle_reader_t *r, cairn_error_t *err) {
  uint8_t byte;
  int rc;
  while (!r->frame_done) {
    ZSTD_outBuffer out = {&byte, 1, 0};
    size_t in_before = r->in.pos, ret;
    ret = ZSTD_decompressStream(r->zd, &out, &r->in);
    if (ZSTD_isError(ret))
      return READ_ERR(r, err, CAIRN_EMALFORMED, "corrupt compressed data after the end "
                      "marker (zstd: %s)", ZSTD_getErrorName(ret));
    if (out.pos > 0)
      return READ_ERR(r, err, CAIRN_EMALFORMED, "trailing data after the end marker");
    if (ret == 0) {
      r->frame_done = 1;
      break;
    }
    if (r->in.pos > in_before)
      continue;
    if (r->in.pos < r->in.size)
      return READ_ERR(r, err, CAIRN_EMALFORMED, "corrupt compressed data (no progress)");
    if ((rc = refill(r, err)) != 0)
      return rc;
    if (r->in.size == 0)
      return READ_ERR(r, err, CAIRN_EMALFORMED,
                      "truncated: the compressed frame ends early (checksum missing)");
  }
  if (r->in.pos < r->in.size)
    return READ_ERR(r, err, CAIRN_EMALFORMED, "trailing data after the compressed frame");
  if (r->f != NULL) {
    size_t n = fread(&byte, 1, 1, r->f);
    if (n == 0 && ferror(r->f))
      return READ_ERR(r, err, CAIRN_EIO, "read error: %s", strerror(errno));
    if (n != 0)
      return READ_ERR(r, err, CAIRN_EMALFORMED, "trailing data after the compressed frame");
  }
  return 0;
}

/* The 9-byte header: magic and version (1 or 2). */
static int check_header(const uint8_t *h, size_t n, cairn_error_t *err) {
  if (n == 0)
    return cairn__error(err, CAIRN_EMALFORMED, "not a cairn bundle: the file is empty");
  if (n < MAGIC_LEN || memcmp(h, CAIRN_BUNDLE_MAGIC, MAGIC_LEN) != 0)
    return cairn__error(err, CAIRN_EMALFORMED, "not a cairn bundle (bad magic)");
  if (n < HEADER_LEN)
    return cairn__error(err, CAIRN_EMALFORMED, "truncated bundle header");
  if (h[MAGIC_LEN] != BUNDLE_WHOLE && h[MAGIC_LEN] != CAIRN_BUNDLE_VERSION)
    return cairn__error(err, CAIRN_EMALFORMED, "unsupported bundle version %u (this build "
                        "reads versions %u and %u)", h[MAGIC_LEN], BUNDLE_WHOLE,
                        CAIRN_BUNDLE_VERSION);
  return 0;
}

static int reader_alloc(size_t max_entry, cairn_bundle_reader_t **out, cairn_error_t *err) {
  cairn_bundle_reader_t *r = calloc(1, sizeof *r);
  size_t ret;
  *out = NULL;
  if (r == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  r->max_entry = max_entry ? max_entry : CAIRN_ENTRY_MAX_DEFAULT;
  if (r->max_entry > UINT32_MAX)
    r->max_entry = UINT32_MAX;
  if ((r->zd = ZSTD_createDStream()) == NULL) {
    free(r);
    return cairn__error(err, CAIRN_ENOMEM, "out of memory (zstd)");
  }
  ret = ZSTD_DCtx_setParameter(r->zd, ZSTD_d_windowLogMax, BUNDLE_WINDOW_LOG_MAX);
  if (ZSTD_isError(ret)) {
    cairn_bundle_reader_close(r);
    return cairn__error(err, CAIRN_EIO, "zstd: %s", ZSTD_getErrorName(ret));
  }
  *out = r;
  return 0;
}

/* Open path for a reader holding entries of at most max_entry bytes. */
static int reader_open(const char *path, size_t max_entry, cairn_bundle_reader_t **out,
                       cairn_error_t *err) {
  cairn_bundle_reader_t *r = NULL;
  uint8_t h[HEADER_LEN];
  size_t n;
  int rc;
  *out = NULL;
  if (path == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no bundle path");
  if ((rc = reader_alloc(max_entry, &r, err)) != 0)
    return rc;
  if ((r->f = fopen(path, "rb")) == NULL) {
    rc = cairn__error(err, errno == ENOENT ? CAIRN_ENOENT : CAIRN_EIO, "cannot open %s: %s",
                      path, strerror(errno));
    goto fail;
  }
  r->inbuf_cap = ZSTD_DStreamInSize();
  if ((r->inbuf = malloc(r->inbuf_cap)) == NULL) {
    rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
    goto fail;
  }
  n = fread(h, 1, sizeof h, r->f);
  if (n < sizeof h && ferror(r->f)) {
    rc = cairn__error(err, CAIRN_EIO, "cannot read %s: %s", path, strerror(errno));
    goto fail;
  }
  if ((rc = check_header(h, n, err)) != 0)
    goto fail;
  r->version = h[MAGIC_LEN];
  r->in.src = r->inbuf;
  *out = r;
  return 0;
fail:
  cairn_bundle_reader_close(r);
  return rc;
}

int cairn_bundle_reader_open(const char *path, cairn_bundle_reader_t **out,
                             cairn_error_t *err) {
  if (out == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no output reader");
  return reader_open(path, CAIRN_ENTRY_MAX_DEFAULT, out, err);
}

int cairn_bundle_reader_mem(const uint8_t *buf, size_t len, size_t max_entry,
                            cairn_bundle_reader_t **out, cairn_error_t *err) {
  cairn_bundle_reader_t *r;
  int rc;
  if (out == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no output reader");
  *out = NULL;
  if (buf == NULL && len > 0)
    return cairn__error(err, CAIRN_EINVAL, "no bundle buffer");
  if ((rc = check_header(buf, len, err)) != 0)
    return rc;
  if ((rc = reader_alloc(max_entry, &r, err)) != 0)
    return rc;
  r->version = buf[MAGIC_LEN];
  r->in.src = buf + HEADER_LEN;
  r->in.size = len - HEADER_LEN;
  r->in.pos = 0;
  *out = r;
  return 0;
}

/*
 * Read n bytes (n <= max_entry + ITEM_SLACK, checked by the caller) into *buf (of
 * *cap bytes), what being "entry" or "compact entry". The buffer grows with the
 * bytes that actually arrive, never ahead of them by more than double, so a
 * length that lies costs no more memory than the data behind it.
 */
static int read_item(cairn_bundle_reader_t *r, uint8_t **buf, size_t *cap, size_t n,
                     const char *what, cairn_error_t *err) {
  size_t got = 0;
  int rc;
  while (got < n) {
    size_t chunk;
    if (*cap == got) {
      size_t c = *cap < 4096 ? 4096 : *cap * 2;
      uint8_t *p;
      if (c > n)
        c = n;
      if ((p = realloc(*buf, c)) == NULL)
        return READ_ERR(r, err, CAIRN_ENOMEM, "out of memory for an entry of %zu bytes", n);
      *buf = p;
      *cap = c;
    }
    chunk = (*cap < n ? *cap : n) - got;
    if ((rc = read_exact(r, *buf + got, chunk, what, got, n, err)) != 0)
      return rc;
    got += chunk;
  }
  return 0;
}

/* Compact: the entry the item of n bytes (read into r->item) rebuilds, into
 * r->entry; *len its size. */
static int rebuild_entry(cairn_bundle_reader_t *r, size_t n, size_t *len, cairn_error_t *err) {
  cairn_compact_entry_t ce;
  cairn_error_t why = {0, ""};
  cairn_mpr_t m;
  int rc;
  cairn_mpr_init(&m, r->item, n);
  if ((rc = cairn_compact_decode(&r->compact, &m, r->max_entry, &ce, &why)) != 0)
    return READ_ERR(r, err, rc, "%s", why.msg);
  if (cairn_mpr_left(&m) != 0)
    return READ_ERR(r, err, CAIRN_EMALFORMED, "malformed compact entry (bytes after it)");
  if (r->entry_cap < ce.len) {
    uint8_t *p = realloc(r->entry, ce.len);
    if (p == NULL)
      return READ_ERR(r, err, CAIRN_ENOMEM, "out of memory for an entry of %zu bytes", ce.len);
    r->entry = p;
    r->entry_cap = ce.len;
  }
  cairn_compact_entry_write(&ce, r->entry);
  *len = ce.len;
  r->hashed = ce.whole == NULL;
  memcpy(r->hash, ce.hash, CAIRN_HASH_BYTES);
  return 0;
}

/* Compact: the network id that starts the stream (what every item's entry is of). */
static int read_network(cairn_bundle_reader_t *r, cairn_error_t *err) {
  uint8_t net[CAIRN_KEY_BYTES];
  int rc;
  r->entry_off = r->offset;
  if ((rc = read_exact(r, net, sizeof net, "network id", 0, sizeof net, err)) != 0)
    return rc;
  cairn_compact_init(&r->compact, net);
  r->have_network = true;
  return 0;
}

/* The end marker's count, then the end of the frame and of the input. */
static int read_end(cairn_bundle_reader_t *r, cairn_error_t *err) {
  uint8_t b[COUNT_BYTES];
  uint64_t count;
  int rc;
  if ((rc = read_exact(r, b, sizeof b, "end marker", 0, sizeof b, err)) != 0)
    return rc;
  count = cairn_get_be64(b);
  if (count != r->count)
    return READ_ERR(r, err, CAIRN_EMALFORMED,
                    "the end marker counts %llu entries but the bundle holds %llu",
                    (unsigned long long)count, (unsigned long long)r->count);
  if ((rc = check_trailing(r, err)) != 0)
    return rc;
  r->state = 1;
  return 0;
}

int cairn_bundle_next(cairn_bundle_reader_t *r, const uint8_t **entry, size_t *len,
                      cairn_error_t *err) {
  uint8_t b[LEN_BYTES];
  uint32_t n;
  int rc;
  if (r == NULL || entry == NULL || len == NULL)
    return cairn__error(err, CAIRN_EINVAL, "invalid argument to cairn_bundle_next");
  *entry = NULL;
  *len = 0;
  if (r->state < 0) {
    if (err != NULL)
      *err = r->fail;
    return r->state;
  }
  if (r->state == 1)
    return 0;
  bool compact = r->version != BUNDLE_WHOLE;
  if (compact && !r->have_network && (rc = read_network(r, err)) != 0)
    return rc;
  r->entry_off = r->offset;
  r->hashed = false;
  if ((rc = read_exact(r, b, sizeof b, "entry length", 0, sizeof b, err)) != 0)
    return rc;
  n = cairn_get_be32(b);
  if (n == 0)
    return read_end(r, err);
  if (n > r->max_entry + (compact ? ITEM_SLACK : 0))
    return READ_ERR(r, err, CAIRN_ETOOBIG, "entry of %lu bytes is larger than the limit "
                    "of %zu", (unsigned long)n, r->max_entry);
  if (!compact) {
    if ((rc = read_item(r, &r->entry, &r->entry_cap, n, "entry", err)) != 0)
      return rc;
    *len = n;
  } else if ((rc = read_item(r, &r->item, &r->item_cap, n, "compact entry", err)) != 0 ||
             (rc = rebuild_entry(r, n, len, err)) != 0) {
    return rc;
  }
  r->count++;
  *entry = r->entry;
  return 1;
}

uint64_t cairn_bundle_count(const cairn_bundle_reader_t *r) {
  return r != NULL ? r->count : 0;
}

void cairn_bundle_reader_close(cairn_bundle_reader_t *r) {
  if (r == NULL)
    return;
  if (r->f != NULL)
    fclose(r->f); /* read-only: nothing to lose on a close error */
  ZSTD_freeDStream(r->zd);
  free(r->inbuf);
  free(r->entry);
  free(r->item);
  free(r);
}

/* ==== writer ==== */

typedef struct writer {
  int fd;
  const char *tmp;
  ZSTD_CCtx *cctx;
  uint8_t *obuf;
  size_t ocap;
  uint64_t count;
  int rc;              /* first error inside the export callback */
  cairn_error_t *err;
  cairn_since_fn since; /* the caller's filter and its ud */
  void *since_ud;
  cairn_compact_t compact; /* the run the next item continues */
  msgpack_sbuffer item;    /* the item being written */
} writer_t;

/* cairn_store_export hands one ud to both callbacks: ours is the writer, so the
 * caller's filter is called through it with the caller's ud. */
static uint64_t writer_since(const uint8_t author[CAIRN_KEY_BYTES], void *ud) {
  writer_t *w = ud;
  return w->since(author, w->since_ud);
}

static int write_all(writer_t *w, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(w->fd, p, n);
    if (k < 0) {
      if (errno == EINTR)
        continue;
      return cairn__error(w->err, errno == ENOSPC ? CAIRN_ENOSPC : CAIRN_EIO,
                          "cannot write %s: %s", w->tmp, strerror(errno));
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Compress n bytes (mode ZSTD_e_continue) or finish the frame (ZSTD_e_end). */
static int zwrite(writer_t *w, const void *p, size_t n, ZSTD_EndDirective mode) {
  ZSTD_inBuffer in = {p, n, 0};
  int rc;
  for (;;) {
    ZSTD_outBuffer out = {w->obuf, w->ocap, 0};
    size_t ret = ZSTD_compressStream2(w->cctx, &out, &in, mode);
    if (ZSTD_isError(ret))
      return cairn__error(w->err, CAIRN_EIO, "zstd: %s", ZSTD_getErrorName(ret));
    if ((rc = write_all(w, w->obuf, out.pos)) != 0)
      return rc;
    if (mode == ZSTD_e_end ? ret == 0 : in.pos == in.size)
      return 0;
  }
}

static int write_entry(const cairn_entry_t *e, void *ud) {
  writer_t *w = ud;
  uint8_t b[LEN_BYTES];
  if (e->len == 0 || e->len > UINT32_MAX) {
    w->rc = cairn__error(w->err, CAIRN_ETOOBIG, "entry %llu of the store has %zu bytes, "
                         "which a bundle cannot hold", (unsigned long long)(w->count + 1),
                         e->len);
    return 1;
  }
  w->item.size = 0;
  if (cairn_compact_encode(&w->compact, e->bytes, e->len, &w->item) != 0) {
    w->rc = cairn__error(w->err, CAIRN_ENOMEM, "out of memory");
    return 1;
  }
  cairn_put_be32(b, (uint32_t)w->item.size);
  if ((w->rc = zwrite(w, b, sizeof b, ZSTD_e_continue)) != 0 ||
      (w->rc = zwrite(w, w->item.data, w->item.size, ZSTD_e_continue)) != 0)
    return 1;
  w->count++;
  return 0;
}

/* fsync the directory holding path, so that the rename is durable. */
static int sync_dir(const char *path, cairn_error_t *err) {
  const char *slash = strrchr(path, '/');
  char *dir;
  int fd, rc = 0;
  if (slash == NULL)
    dir = strdup(".");
  else if (slash == path)
    dir = strdup("/");
  else
    dir = strndup(path, (size_t)(slash - path));
  if (dir == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
    rc = cairn__error(err, CAIRN_EIO, "cannot open %s: %s", dir, strerror(errno));
    goto cleanup;
  }
  /* some file systems cannot fsync a directory (EINVAL): nothing more to do there */
  if (fsync(fd) != 0 && errno != EINVAL)
    rc = cairn__error(err, CAIRN_EIO, "cannot fsync %s: %s", dir, strerror(errno));
  if (close(fd) != 0 && rc == 0)
    rc = cairn__error(err, CAIRN_EIO, "cannot close %s: %s", dir, strerror(errno));
cleanup:
  free(dir);
  return rc;
}

int cairn_bundle_create(cairn_store_t *s, const char *path, cairn_since_fn since, void *ud,
                        uint64_t *count, cairn_error_t *err) {
  static const uint8_t header[HEADER_LEN] = {'C', 'A', 'I', 'R', 'N', 'B', 'D', 'L',
                                             CAIRN_BUNDLE_VERSION};
  writer_t w = {.fd = -1, .err = err, .since = since, .since_ud = ud};
  uint8_t end[LEN_BYTES + COUNT_BYTES], net[CAIRN_KEY_BYTES] = {0};
  char *tmp = NULL;
  size_t ret, plen;
  int rc;
  if (count != NULL)
    *count = 0;
  if (s == NULL || path == NULL || path[0] == '\0')
    return cairn__error(err, CAIRN_EINVAL, "a store and a bundle path are required");
  plen = strlen(path);
  if ((tmp = malloc(plen + sizeof ".tmp")) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  memcpy(tmp, path, plen);
  memcpy(tmp + plen, ".tmp", sizeof ".tmp");
  w.tmp = tmp;
  w.ocap = ZSTD_CStreamOutSize();
  if ((w.obuf = malloc(w.ocap)) == NULL || (w.cctx = ZSTD_createCCtx()) == NULL) {
    rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
    goto cleanup;
  }
  ret = ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
  if (!ZSTD_isError(ret))
    ret = ZSTD_CCtx_setParameter(w.cctx, ZSTD_c_checksumFlag, 1);
  if (ZSTD_isError(ret)) {
    rc = cairn__error(err, CAIRN_EIO, "zstd: %s", ZSTD_getErrorName(ret));
    goto cleanup;
  }
  /* 0600: a bundle holds the network's records, which may concern children */
  w.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (w.fd < 0) {
    rc = cairn__error(err, errno == ENOSPC ? CAIRN_ENOSPC : CAIRN_EIO, "cannot create %s: %s",
                      tmp, strerror(errno));
    goto cleanup;
  }
  /* a store with no network has no entries: its bundle names none (zeros) */
  if (cairn_store_network(s, net) != 0)
    memset(net, 0, sizeof net);
  cairn_compact_init(&w.compact, net);
  msgpack_sbuffer_init(&w.item);
  if ((rc = write_all(&w, header, sizeof header)) != 0 ||
      (rc = zwrite(&w, net, sizeof net, ZSTD_e_continue)) != 0)
    goto cleanup;
  rc = cairn_store_export(s, since != NULL ? writer_since : NULL, write_entry, &w);
  if (rc != 0) {
    if (w.rc == 0)
      rc = cairn__error(err, rc, "cannot read the store's log: %s", cairn_strerror(rc));
    goto cleanup;
  }
  if ((rc = w.rc) != 0)
    goto cleanup;
  cairn_put_be32(end, 0);
  cairn_put_be64(end + LEN_BYTES, w.count);
  if ((rc = zwrite(&w, end, sizeof end, ZSTD_e_continue)) != 0 ||
      (rc = zwrite(&w, NULL, 0, ZSTD_e_end)) != 0)
    goto cleanup;
  if (fsync(w.fd) != 0) {
    rc = cairn__error(err, errno == ENOSPC ? CAIRN_ENOSPC : CAIRN_EIO, "cannot fsync %s: %s",
                      tmp, strerror(errno));
    goto cleanup;
  }
  rc = close(w.fd);
  w.fd = -1;
  if (rc != 0) {
    rc = cairn__error(err, errno == ENOSPC ? CAIRN_ENOSPC : CAIRN_EIO, "cannot close %s: %s",
                      tmp, strerror(errno));
    goto cleanup;
  }
  if (rename(tmp, path) != 0) {
    rc = cairn__error(err, CAIRN_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    goto cleanup;
  }
  free(tmp);
  tmp = NULL; /* renamed: nothing to remove any more */
  if ((rc = sync_dir(path, err)) != 0)
    goto cleanup;
  if (count != NULL)
    *count = w.count;
cleanup:
  if (w.fd >= 0)
    (void)close(w.fd); /* failing anyway; the file is removed below */
  if (tmp != NULL && rc != 0)
    (void)unlink(tmp); /* best effort: the error already says what went wrong */
  free(tmp);
  ZSTD_freeCCtx(w.cctx);
  free(w.obuf);
  msgpack_sbuffer_destroy(&w.item);
  return rc;
}

/* ==== apply ==== */

/* A batch read from the bundle and prepared (decoded, hashed) for apply. */
typedef struct batch {
  cairn_buf_t *bufs;
  size_t *off;         /* each entry's offset into data */
  uint64_t *pos;       /* each entry's byte offset in the bundle stream */
  uint8_t (*hash)[CAIRN_HASH_BYTES]; /* each entry's hash, when all were rebuilt */
  bool hashed;         /* every entry of the batch was rebuilt: hash holds theirs */
  size_t n, max;
  uint8_t *data;       /* the entries' bytes, back to back */
  size_t used, cap;
  cairn_prepared_t *prep;
  int prep_rc;         /* 0, or CAIRN_ENOMEM if preparing failed */
  uint64_t read;       /* entries read from the stream into this batch */
  int end;             /* 0: more follows; 1: the stream's end; < 0: the error in end_err */
  cairn_error_t end_err;
} batch_t;

static int batch_alloc(batch_t *b, size_t max) {
  memset(b, 0, sizeof *b);
  b->max = max;
  b->bufs = calloc(max, sizeof *b->bufs);
  b->off = calloc(max, sizeof *b->off);
  b->pos = calloc(max, sizeof *b->pos);
  b->hash = calloc(max, sizeof *b->hash);
  if (b->bufs == NULL || b->off == NULL || b->pos == NULL || b->hash == NULL)
    return CAIRN_ENOMEM;
  return cairn_prepared_new(&b->prep);
}

static void batch_free(batch_t *b) {
  free(b->bufs);
  free(b->off);
  free(b->pos);
  free(b->hash);
  free(b->data);
  cairn_prepared_free(b->prep);
}

static int batch_add(batch_t *b, const uint8_t *p, size_t len, uint64_t pos) {
  if (b->cap - b->used < len) {
    size_t cap = b->cap ? b->cap : 65536;
    uint8_t *d;
    while (cap - b->used < len)
      cap *= 2;
    if ((d = realloc(b->data, cap)) == NULL)
      return CAIRN_ENOMEM;
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->used, p, len);
  b->off[b->n] = b->used;
  b->bufs[b->n].len = len;
  b->pos[b->n] = pos;
  b->used += len;
  b->n++;
  return 0;
}

/* Prepare b's entries from the kth on, with the hashes their rebuilding gave. */
static int batch_prepare(batch_t *b, size_t k, const cairn_prepare_opts_t *opts) {
  cairn_prepare_opts_t o = *opts;
  o.hashes = b->hashed ? (const uint8_t(*)[CAIRN_HASH_BYTES])b->hash + k : NULL;
  return cairn_prepare(b->prep, b->bufs + k, b->n - k, &o);
}

/*
 * Read the next batch: up to b->max entries or BATCH_BYTES_MAX bytes, or to the
 * stream's end or error (b->end); then prepare it. Touches only b and r.
 */
static void batch_fill(cairn_bundle_reader_t *r, batch_t *b, const cairn_prepare_opts_t *opts) {
  b->n = 0;
  b->used = 0;
  b->read = 0;
  b->end = 0;
  b->hashed = true;
  cairn__error_clear(&b->end_err);
  for (;;) {
    const uint8_t *p;
    size_t len;
    int nrc = cairn_bundle_next(r, &p, &len, &b->end_err);
    if (nrc != 1) {
      /* the end, or a broken stream: what was read before is valid */
      b->end = nrc == 0 ? 1 : nrc;
      break;
    }
    b->read++;
    if (batch_add(b, p, len, r->entry_off) != 0) {
      /* the entries copied so far are valid: keep them, as for a broken stream */
      b->end = cairn__error(&b->end_err, CAIRN_ENOMEM,
                            "bundle entry %llu at byte %llu: out of memory",
                            (unsigned long long)cairn_bundle_count(r),
                            (unsigned long long)r->entry_off);
      break;
    }
    b->hashed = b->hashed && r->hashed;
    memcpy(b->hash[b->n - 1], r->hash, CAIRN_HASH_BYTES);
    if (b->n == b->max || b->used >= BATCH_BYTES_MAX)
      break;
  }
  for (size_t i = 0; i < b->n; i++)
    b->bufs[i].data = b->data + b->off[i];
  b->prep_rc = batch_prepare(b, 0, opts);
}

/*
 * Whether an entry this store refused (rc) is another device's, validly signed,
 * that forks from what this store holds of its log: at a seq held (CAIRN_EFORK),
 * naming another predecessor than the one held (CAIRN_EBADHASH), or the next of
 * an author after an entry set aside (CAIRN_EGAP; last is updated). A copy of a
 * log that its author took back and signed again (restored or copied, then
 * written): it is set aside, and the author's repair brings the changes anew.
 */
/* The last entry set aside: the next of its author chains on it (a gap here). */
typedef struct aside {
  bool any;
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq;
} aside_t;

static bool forks_here(cairn_store_t *s, const cairn_buf_t *buf, int rc, aside_t *last) {
  uint8_t held[CAIRN_HASH_BYTES];
  cairn_entry_t e;
  if ((rc != CAIRN_EFORK && rc != CAIRN_EBADHASH && rc != CAIRN_EGAP) ||
      cairn_entry_decode(buf->data, buf->len, SIZE_MAX, &e, NULL) != 0 ||
      memcmp(e.author, cairn_store_key(s), CAIRN_KEY_BYTES) == 0)
    return false;
  if (cairn_entry_verify_sig(&e) != 0) /* a chain error is found before the signature */
    return false;
  bool fork;
  if (rc == CAIRN_EGAP)
    fork = last->any && memcmp(last->author, e.author, CAIRN_KEY_BYTES) == 0 &&
           e.seq == last->seq + 1;
  else
    fork = rc == CAIRN_EFORK ||
           (e.seq > 1 && cairn_store_entry_hash(s, e.author, e.seq - 1, held) == 0 &&
            memcmp(held, e.prev, CAIRN_HASH_BYTES) != 0);
  if (fork) {
    memcpy(last->author, e.author, CAIRN_KEY_BYTES);
    last->seq = e.seq;
    last->any = true;
  }
  return fork;
}

/* Apply b's entries from the kth on; as and aerr say how it went. */
static int batch_apply_from(cairn_store_t *s, batch_t *b, size_t k,
                            const cairn_prepare_opts_t *opts, cairn_apply_stats_t *as,
                            cairn_error_t *aerr) {
  const cairn_prepared_t *one = b->prep;
  memset(as, 0, sizeof *as);
  if (k > 0)
    b->prep_rc = batch_prepare(b, k, opts);
  if (b->prep_rc != 0)
    return cairn__error(aerr, b->prep_rc, "out of memory");
  return cairn_store_apply_prepared(s, &one, 1, NULL, as, aerr);
}

/* Apply the batch; *before counts the bundle's entries in earlier batches. An
 * entry that forks from this store's copy of its author's log is set aside in
 * DIR/forked.entries (forks_here) and the rest applied. */
static int batch_flush(cairn_store_t *s, batch_t *b, const cairn_prepare_opts_t *opts,
                       aside_t *last, uint64_t *before, cairn_bundle_stats_t *st,
                       cairn_error_t *err) {
  cairn_apply_stats_t as;
  cairn_error_t aerr = {0, ""};
  size_t k = 0; /* the batch's first entry not yet applied or set aside */
  int rc;
  if (b->n == 0)
    return 0;
  for (;;) {
    rc = batch_apply_from(s, b, k, opts, &as, &aerr);
    st->applied += as.applied;
    st->skipped += as.skipped;
    st->refused += as.refused;
    if (rc == 0 || b->prep_rc != 0 || as.failed_batch != 0 ||
        !forks_here(s, &b->bufs[k + as.failed_at], rc, last))
      break;
    const cairn_buf_t *f = &b->bufs[k + as.failed_at];
    if ((rc = cairn__side_file_append(s, FORKED_FILE, f->data, f->len)) != 0) {
      cairn__error(&aerr, rc, "cannot set aside a forked entry: %s", cairn_strerror(rc));
      as.failed_batch = 1; /* the store's failure, not an entry's */
      break;
    }
    st->set_aside++;
    if ((k += as.failed_at + 1) == b->n)
      break;
  }
  if (rc != 0) {
    if (b->prep_rc == 0 && as.failed_batch == 0)
      rc = cairn__error(err, rc, "bundle entry %llu at byte %llu: %s",
                        (unsigned long long)(*before + k + as.failed_at + 1),
                        (unsigned long long)b->pos[k + as.failed_at], aerr.msg);
    else
      rc = cairn__error(err, rc, "bundle entries %llu to %llu: %s",
                        (unsigned long long)(*before + 1),
                        (unsigned long long)(*before + b->n), aerr.msg);
  }
  *before += b->n;
  return rc;
}

/*
 * Reading and preparing the next batch (zstd, copies, decoding, BLAKE2b) is pure
 * work on the bundle's bytes, so a second thread does it while this one applies
 * the previous batch in its transaction. Two batches alternate: the reader fills
 * one whose `full` is 0 and sets it; the applier applies one whose `full` is 1 and
 * clears it. Each batch is applied exactly as it would be without the thread, in
 * the same order, so results and errors do not depend on the timing.
 */
typedef struct pipeline {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  batch_t b[2];
  int full[2];
  bool stop; /* the applier is done: the reader stops */
  cairn_bundle_reader_t *r;
  cairn_prepare_opts_t opts;
} pipeline_t;

static void *reader_main(void *arg) {
  pipeline_t *pl = arg;
  for (int i = 0;; i ^= 1) {
    pthread_mutex_lock(&pl->mu);
    while (pl->full[i] && !pl->stop)
      pthread_cond_wait(&pl->cv, &pl->mu);
    bool stop = pl->stop;
    pthread_mutex_unlock(&pl->mu);
    if (stop)
      break;
    batch_fill(pl->r, &pl->b[i], &pl->opts);
    int end = pl->b[i].end; /* the batch is the applier's once it is full */
    pthread_mutex_lock(&pl->mu);
    pl->full[i] = 1;
    pthread_cond_broadcast(&pl->cv);
    pthread_mutex_unlock(&pl->mu);
    if (end != 0)
      break;
  }
  return NULL;
}

int cairn_bundle_apply(cairn_store_t *s, const char *path, size_t batch,
                       cairn_bundle_stats_t *stats, cairn_error_t *err) {
  cairn_bundle_reader_t *r = NULL;
  cairn_bundle_stats_t st = {0, 0, 0, 0, 0};
  pipeline_t pl;
  pthread_t reader;
  bool threaded = false;
  uint64_t before = 0;
  aside_t aside = {false, {0}, 0};
  size_t max = batch ? batch : DEFAULT_BATCH;
  int rc;
  if (stats != NULL)
    memset(stats, 0, sizeof *stats);
  if (s == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no store");
  memset(&pl, 0, sizeof pl);
  if ((rc = reader_open(path, s->opts.max_entry, &r, err)) != 0)
    goto cleanup;
  if (batch_alloc(&pl.b[0], max) != 0 || batch_alloc(&pl.b[1], max) != 0) {
    rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
    goto cleanup;
  }
  pl.r = r;
  pl.opts = (cairn_prepare_opts_t){s->opts.max_entry, s->opts.verify_all != 0, NULL, NULL};
  if (pthread_mutex_init(&pl.mu, NULL) == 0) {
    if (pthread_cond_init(&pl.cv, NULL) == 0) {
      threaded = pthread_create(&reader, NULL, reader_main, &pl) == 0;
      if (!threaded)
        pthread_cond_destroy(&pl.cv);
    }
    if (!threaded)
      pthread_mutex_destroy(&pl.mu);
  }
  for (int i = 0;; i ^= 1) {
    batch_t *b = &pl.b[i];
    if (threaded) {
      pthread_mutex_lock(&pl.mu);
      while (!pl.full[i])
        pthread_cond_wait(&pl.cv, &pl.mu);
      pthread_mutex_unlock(&pl.mu);
    } else {
      batch_fill(r, b, &pl.opts); /* no second thread: read here */
    }
    st.read += b->read;
    if ((rc = batch_flush(s, b, &pl.opts, &aside, &before, &st, err)) != 0)
      break;
    if (b->end < 0) {
      rc = b->end;
      if (err != NULL)
        *err = b->end_err;
    }
    if (b->end != 0)
      break;
    if (threaded) {
      pthread_mutex_lock(&pl.mu);
      pl.full[i] = 0;
      pthread_cond_broadcast(&pl.cv);
      pthread_mutex_unlock(&pl.mu);
    }
  }
  if (threaded) {
    pthread_mutex_lock(&pl.mu);
    pl.stop = true;
    pthread_cond_broadcast(&pl.cv);
    pthread_mutex_unlock(&pl.mu);
    pthread_join(reader, NULL);
    pthread_cond_destroy(&pl.cv);
    pthread_mutex_destroy(&pl.mu);
  }
cleanup:
  if (stats != NULL)
    *stats = st;
  cairn_bundle_reader_close(r);
  batch_free(&pl.b[0]);
  batch_free(&pl.b[1]);
  return rc;
}
