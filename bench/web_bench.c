/*
 * web_bench.c — (i) the local HTTP API of `cairn ui` (client/web/web.h) beside
 * the library calls it makes, measured in the same run on the same store:
 *
 *   web_lib_get         cairn_get of a partner record by id
 *   web_api_get         GET /api/records/partner/ID over one keep-alive connection
 *   web_api_get_4conn   the same over four connections at once
 *   web_lib_change      a change of two fields of a partner (stage, notes):
 *                       cairn_change_begin, cairn_change_put of each, and
 *                       cairn_change_commit, durable (what the API's PUT calls)
 *   web_api_put         PUT /api/records/partner/ID with {"stage":..,"notes":..}
 *   web_api_put_4conn   the same over four connections at once
 *
 * Each api row's ratio is to its lib row. The server (cairn_web_start, its own
 * thread, one request at a time) serves the store this process opened; the load
 * loop is plain blocking sockets on 127.0.0.1, HTTP/1.1 keep-alive, the token
 * as `Authorization: Bearer`, Host the listening address, one request in flight
 * per connection, one thread per connection. Every reply must be a 200 with a
 * Content-Length and name the record asked for (a PUT's reply, the record as
 * committed, must carry the notes just written).
 *
 * A durable commit's cost drifts with the disk within seconds, so the phases
 * are interleaved: each round measures the library's gets and changes, then
 * starts the server (the store is used from its thread only while it runs),
 * measures the API, and stops it. Every phase is bounded in time and count.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "bench.h"
#include "web.h"

#define WB_RECORDS 3000
#define WB_RECORDS_QUICK 500
#define WB_ROUNDS 5
#define WB_ROUNDS_QUICK 2
#define WB_PHASE_S 0.4        /* seconds of each phase in a round */
#define WB_PHASE_S_QUICK 0.05
#define WB_PHASE_MAX 100000   /* calls or requests of one phase, at most */
#define WB_CONNS 4
#define WB_TIMEOUT_S 10       /* a reply slower than this fails the row */
#define WB_REPLY_MAX 65536
#define WB_STRIDE 7919        /* a prime: records visited all over the id range */
#define WB_BATCH 1000         /* records to a change when filling */

static const char *const stages[] = {"lead", "contacted", "engaged", "committed", "lapsed"};

/* Latencies of one row, in seconds. */
typedef struct lat {
  double *v;
  size_t n, cap;
} lat_t;

/* What a row has gathered over the rounds. */
typedef struct meas {
  uint64_t n;
  double secs;
  lat_t lat;
} meas_t;

enum { M_LIB_GET, M_API_GET, M_API_GET4, M_LIB_CHANGE, M_API_PUT, M_API_PUT4, M_COUNT };

/* The server being measured, as a client sees it. */
typedef struct target {
  struct sockaddr_in addr;
  char host[64];
  char token[CAIRN_WEB_TOKEN_CHARS + 1];
} target_t;

typedef struct wb {
  cairn_store_t *s;
  char dir[PATH_MAX + 32];
  uint64_t records, rounds, cursor;
  double phase_s;
  meas_t m[M_COUNT];
  row_t *rows[M_COUNT];
  char last_id[24], last_notes[48]; /* the last PUT of a round */
  uint64_t sum;                      /* bytes read by the library's gets */
} wb_t;

/* One connection of the load loop and its thread's results. */
typedef struct client {
  const target_t *t;
  int fd, put;
  uint64_t next, step, max, n;
  double end;
  lat_t lat;
  char id[24], notes[48];
  char err[200];
  char req[1024];
  char buf[WB_REPLY_MAX];
} client_t;

static int lat_add(lat_t *l, double v) {
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 4096;
    double *nv = realloc(l->v, cap * sizeof *nv);
    if (nv == NULL)
      return -1;
    l->v = nv;
    l->cap = cap;
  }
  l->v[l->n++] = v;
  return 0;
}

static int lat_merge(lat_t *to, const lat_t *from) {
  for (size_t i = 0; i < from->n; i++)
    if (lat_add(to, from->v[i]) != 0)
      return -1;
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Record k of the walk: the records in a scattered order, the same for every row. */
static void id_at(const wb_t *wb, uint64_t k, char *id, size_t size) {
  snprintf(id, size, "p%05llu", (unsigned long long)(k * WB_STRIDE % wb->records));
}

static void notes_at(uint64_t k, char *notes, size_t size) {
  snprintf(notes, size, "follow-up %llu", (unsigned long long)k);
}

/* ---- the store ---- */

static int fill(wb_t *wb, row_t *r) {
  static const char *const kinds[] = {"school", "nonprofit", "clinic", "agency", "funder"};
  cairn_error_t err = {0, ""};
  cairn_change_t *c = NULL;
  char id[24], name[48];
  int rc;
  if (cairn_schema_apply(wb->s, cairn_schema_default(), NULL, &err) != 0)
    return row_fail(r, "schema apply: %s", err.msg);
  for (uint64_t i = 0; i < wb->records; i++) {
    if (c == NULL && (rc = cairn_change_begin(wb->s, &c)) != 0)
      return row_fail(r, "change begin: %s", cairn_strerror(rc));
    snprintf(id, sizeof id, "p%05llu", (unsigned long long)i);
    snprintf(name, sizeof name, "Partner organization %llu", (unsigned long long)i);
    if (cairn_change_put_text(c, "partner", id, "name", name, 0, &err) != 0 ||
        cairn_change_put_text(c, "partner", id, "kind", kinds[i % 5], 0, &err) != 0 ||
        cairn_change_put_text(c, "partner", id, "stage", stages[i % 5], 0, &err) != 0 ||
        cairn_change_put_text(c, "partner", id, "notes", "first contact", 0, &err) != 0) {
      cairn_change_abort(c);
      return row_fail(r, "partner %s: %s", id, err.msg);
    }
    if ((i + 1) % WB_BATCH == 0 || i + 1 == wb->records) {
      rc = cairn_change_commit(c, NULL, &err);
      c = NULL;
      if (rc != 0)
        return row_fail(r, "commit: %s", err.msg);
    }
  }
  return 0;
}

/* ---- the library ---- */

static int read_name(const cairn_record_t *rec, void *ud) {
  cairn_record_field_t f;
  if (cairn_record_field(rec, "name", &f))
    *(uint64_t *)ud += f.value_len;
  return 0;
}

/* One call of the library on record id (walk position k); 0 or -1 with its row failed. */
typedef int (*lib_call_fn)(wb_t *wb, const char *id, uint64_t k);

static int lib_get(wb_t *wb, const char *id, uint64_t k) {
  int rc = cairn_get(wb->s, "partner", id, read_name, &wb->sum);
  (void)k;
  return rc != 0 ? row_fail(wb->rows[M_LIB_GET], "get %s: %s", id, cairn_strerror(rc)) : 0;
}

/* The change record_put (client/web/api.c) makes of {"stage":..,"notes":..}. */
static int lib_change(wb_t *wb, const char *id, uint64_t k) {
  static const char *const names[] = {"stage", "notes"};
  uint8_t stage[32], notes[64];
  const uint8_t *vals[] = {stage, notes};
  char text[48];
  size_t lens[2];
  notes_at(k, text, sizeof text);
  lens[0] = mp_str(stage, stages[k % 5]);
  lens[1] = mp_str(notes, text);
  return put_change(wb->s, "partner", id, 2, names, vals, lens, wb->rows[M_LIB_CHANGE]);
}

/* One phase of a library row: calls on the next records of the walk, each timed. */
static int lib_phase(wb_t *wb, int which, lib_call_fn call) {
  meas_t *m = &wb->m[which];
  char id[24];
  double t0 = now_s(), end = t0 + wb->phase_s, t = t0;
  for (uint64_t i = 0; i < WB_PHASE_MAX && t < end; i++) {
    uint64_t k = wb->cursor++;
    id_at(wb, k, id, sizeof id);
    double a = now_s();
    if (call(wb, id, k) != 0)
      return -1;
    t = now_s();
    if (lat_add(&m->lat, t - a) != 0)
      return row_fail(wb->rows[which], "out of memory");
    m->n++;
  }
  m->secs += t - t0;
  return 0;
}

/* ---- the load loop ---- */

CAIRN_PRINTF(2, 3)
static int client_fail(client_t *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->err, sizeof c->err, fmt, ap);
  va_end(ap);
  return -1;
}

static int client_connect(client_t *c) {
  struct timeval tv = {WB_TIMEOUT_S, 0};
  int one = 1;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    return client_fail(c, "socket: %s", strerror(errno));
  if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
    return client_fail(c, "setsockopt: %s", strerror(errno));
  if (connect(c->fd, (const struct sockaddr *)&c->t->addr, sizeof c->t->addr) != 0)
    return client_fail(c, "connect to %s: %s", c->t->host, strerror(errno));
  return 0;
}

/* The request for record k in c->req; its length, 0 if it does not fit. */
static size_t request_text(client_t *c, const wb_t *wb, uint64_t k) {
  char body[128];
  int n, blen;
  id_at(wb, k, c->id, sizeof c->id);
  if (!c->put) {
    n = snprintf(c->req, sizeof c->req,
                 "GET /api/records/partner/%s HTTP/1.1\r\nHost: %s\r\n"
                 "Authorization: Bearer %s\r\n\r\n",
                 c->id, c->t->host, c->t->token);
    return n > 0 && (size_t)n < sizeof c->req ? (size_t)n : 0;
  }
  notes_at(k, c->notes, sizeof c->notes);
  blen = snprintf(body, sizeof body, "{\"stage\":\"%s\",\"notes\":\"%s\"}", stages[k % 5],
                  c->notes);
  n = snprintf(c->req, sizeof c->req,
               "PUT /api/records/partner/%s HTTP/1.1\r\nHost: %s\r\n"
               "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n%s",
               c->id, c->t->host, c->t->token, blen, body);
  return n > 0 && (size_t)n < sizeof c->req ? (size_t)n : 0;
}

static int send_all(client_t *c, size_t len) {
  size_t off = 0;
  while (off < len) {
    ssize_t k = send(c->fd, c->req + off, len - off, MSG_NOSIGNAL);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      return client_fail(c, "send: %s", strerror(errno));
    off += (size_t)k;
  }
  return 0;
}

/* The status line and headers (head bytes of c->buf): the status and the body's
 * length, which must be there. */
static int parse_head(client_t *c, size_t head, long *status, size_t *body) {
  const char *p = strstr(c->buf, "\r\n"), *end = c->buf + head - 2;
  int have_len = 0;
  *status = strncmp(c->buf, "HTTP/1.1 ", 9) == 0 ? strtol(c->buf + 9, NULL, 10) : 0;
  if (*status == 0)
    return client_fail(c, "not an HTTP/1.1 reply: %.80s", c->buf);
  for (p += 2; p < end; p += 2) {
    const char *eol = strstr(p, "\r\n");
    if (strncasecmp(p, "Content-Length:", 15) == 0) {
      *body = (size_t)strtoull(p + 15, NULL, 10);
      have_len = 1;
    } else if (strncasecmp(p, "Connection: close", 17) == 0) {
      return client_fail(c, "the server closes the connection after each reply");
    }
    p = eol;
  }
  if (!have_len)
    return client_fail(c, "a reply without Content-Length");
  if (head + *body >= sizeof c->buf)
    return client_fail(c, "a reply of %zu bytes, more than %d", head + *body, WB_REPLY_MAX);
  return 0;
}

/* Read one reply into c->buf and check it: a 200 that names the record (and the
 * notes just written). */
static int read_reply(client_t *c) {
  size_t got = 0, head = 0, body = 0;
  long status = 0;
  char want[64];
  while (head == 0 || got < head + body) {
    ssize_t k = recv(c->fd, c->buf + got, sizeof c->buf - 1 - got, 0);
    if (k < 0 && errno == EINTR)
      continue;
    if (k == 0)
      return client_fail(c, "the server closed the connection");
    if (k < 0)
      return client_fail(c, "recv: %s", errno == EAGAIN ? "no reply in time" : strerror(errno));
    got += (size_t)k;
    c->buf[got] = '\0';
    const char *e = head == 0 ? strstr(c->buf, "\r\n\r\n") : NULL;
    if (e != NULL && parse_head(c, head = (size_t)(e + 4 - c->buf), &status, &body) != 0)
      return -1;
    if (head == 0 && got == sizeof c->buf - 1)
      return client_fail(c, "headers of more than %d bytes", WB_REPLY_MAX);
  }
  if (got != head + body)
    return client_fail(c, "%zu bytes after the reply", got - head - body);
  if (status != 200)
    return client_fail(c, "%s %s: %ld %.150s", c->put ? "PUT" : "GET", c->id, status,
                       c->buf + head);
  snprintf(want, sizeof want, "\"%s\"", c->put ? c->notes : c->id);
  if (strstr(c->buf + head, want) == NULL)
    return client_fail(c, "the reply to %s %s lacks %s", c->put ? "PUT" : "GET", c->id, want);
  return 0;
}

typedef struct client_job {
  client_t *c;
  const wb_t *wb;
} client_job_t;

static void *client_run(void *ud) {
  client_job_t *j = ud;
  client_t *c = j->c;
  double t = now_s();
  for (uint64_t i = 0; i < c->max && t < c->end; i++, c->next += c->step) {
    size_t len = request_text(c, j->wb, c->next);
    if (len == 0) {
      client_fail(c, "the request does not fit");
      break;
    }
    double a = now_s();
    if (send_all(c, len) != 0 || read_reply(c) != 0)
      break;
    t = now_s();
    if (lat_add(&c->lat, t - a) != 0) {
      client_fail(c, "out of memory");
      break;
    }
    c->n++;
  }
  return NULL;
}

/* Run conns clients at once, each in its thread, for one phase. */
static int api_phase(wb_t *wb, const target_t *t, int put, size_t conns, int which) {
  client_t *cl = calloc(conns, sizeof *cl);
  client_job_t jobs[WB_CONNS];
  pthread_t th[WB_CONNS];
  row_t *r = wb->rows[which];
  size_t started = 0;
  int rc = 0;
  if (conns > WB_CONNS || cl == NULL) {
    free(cl);
    return row_fail(r, conns > WB_CONNS ? "too many connections" : "out of memory");
  }
  for (size_t j = 0; j < conns; j++) {
    cl[j].t = t;
    cl[j].fd = -1;
    cl[j].put = put;
    if (client_connect(&cl[j]) != 0) {
      rc = row_fail(r, "%s", cl[j].err);
      goto done;
    }
  }
  double t0 = now_s();
  for (; started < conns; started++) {
    cl[started].next = wb->cursor + started;
    cl[started].step = conns;
    cl[started].max = WB_PHASE_MAX / conns;
    cl[started].end = t0 + wb->phase_s;
    jobs[started] = (client_job_t){&cl[started], wb};
    if (pthread_create(&th[started], NULL, client_run, &jobs[started]) != 0) {
      rc = row_fail(r, "cannot start a client thread");
      break;
    }
  }
  for (size_t j = 0; j < started; j++)
    pthread_join(th[j], NULL);
  wb->m[which].secs += now_s() - t0;
  for (size_t j = 0; j < started && rc == 0; j++) {
    if (cl[j].err[0] != '\0')
      rc = row_fail(r, "%s", cl[j].err);
    else if (lat_merge(&wb->m[which].lat, &cl[j].lat) != 0)
      rc = row_fail(r, "out of memory");
    wb->m[which].n += cl[j].n;
    if (cl[j].next > wb->cursor) /* the next record no client has used */
      wb->cursor = cl[j].next;
  }
  if (rc == 0 && put && conns == 1) {
    snprintf(wb->last_id, sizeof wb->last_id, "%s", cl[0].id);
    snprintf(wb->last_notes, sizeof wb->last_notes, "%s", cl[0].notes);
  }
done:
  for (size_t j = 0; j < conns; j++) {
    if (cl[j].fd >= 0)
      close(cl[j].fd);
    free(cl[j].lat.v);
  }
  free(cl);
  return rc;
}

/* Where w listens and its token, as a client needs them. */
static int target_of(const cairn_web_t *w, target_t *t, row_t *r) {
  const char *addr = cairn_web_address(w), *tok = strstr(cairn_web_url(w), "?token=");
  const char *colon = strrchr(addr, ':');
  char ip[48];
  memset(t, 0, sizeof *t);
  if (colon == NULL || (size_t)(colon - addr) >= sizeof ip || tok == NULL ||
      strlen(tok + 7) != CAIRN_WEB_TOKEN_CHARS)
    return row_fail(r, "cannot read the server's address and token (%s)", addr);
  memcpy(ip, addr, (size_t)(colon - addr));
  ip[colon - addr] = '\0';
  t->addr.sin_family = AF_INET;
  t->addr.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
  if (inet_pton(AF_INET, ip, &t->addr.sin_addr) != 1)
    return row_fail(r, "not an IPv4 address: %s", addr);
  snprintf(t->host, sizeof t->host, "%s", addr);
  memcpy(t->token, tok + 7, CAIRN_WEB_TOKEN_CHARS);
  return 0;
}

typedef struct want {
  uint8_t v[64];
  size_t len;
  int found;
} want_t;

/* cairn_get ignores what its callback returns: the answer goes in want. */
static int notes_match(const cairn_record_t *rec, void *ud) {
  want_t *w = ud;
  cairn_record_field_t f;
  w->found = cairn_record_field(rec, "notes", &f) && f.value_len == w->len &&
             memcmp(f.value, w->v, w->len) == 0;
  return 0;
}

/* The last PUT is in the store as the library reads it. */
static int check_last_put(wb_t *wb) {
  want_t w;
  w.found = 0;
  w.len = mp_str(w.v, wb->last_notes); /* last_notes: < 48 bytes */
  int rc = cairn_get(wb->s, "partner", wb->last_id, notes_match, &w);
  if (rc != 0 || !w.found)
    return row_fail(wb->rows[M_API_PUT], "partner %s after the PUTs: %s", wb->last_id,
                    rc != 0 ? cairn_strerror(rc) : "not the notes the last PUT wrote");
  return 0;
}

/* Start the server on the store, run the API phases, stop it, and check that the
 * last PUT (one connection: nothing wrote after it) is in the store. */
static int api_round(wb_t *wb) {
  cairn_web_opts_t opts = {"127.0.0.1:0", wb->dir, 0, NULL};
  cairn_error_t err = {0, ""};
  cairn_web_t *w;
  target_t t;
  if (cairn_web_start(wb->s, &opts, &w, &err) != 0)
    return row_fail(wb->rows[M_API_GET], "cairn_web_start: %s", err.msg);
  int rc = target_of(w, &t, wb->rows[M_API_GET]);
  if (rc == 0)
    rc = api_phase(wb, &t, 0, 1, M_API_GET) || api_phase(wb, &t, 0, WB_CONNS, M_API_GET4) ||
                 api_phase(wb, &t, 1, WB_CONNS, M_API_PUT4) ||
                 api_phase(wb, &t, 1, 1, M_API_PUT)
             ? -1
             : 0;
  cairn_web_stop(w);
  return rc != 0 ? rc : check_last_put(wb);
}

/* ---- the rows ---- */

/* A latency for people: microseconds under a millisecond, else milliseconds. */
static void fmt_latency(char *out, size_t size, double s) {
  if (s < 1e-3)
    snprintf(out, size, "%.1f us", s * 1e6);
  else
    snprintf(out, size, "%.2f ms", s * 1e3);
}

static int row_finish(wb_t *wb, int which, const char *what) {
  char p50[24], p99[24];
  row_t *r = wb->rows[which];
  meas_t *m = &wb->m[which];
  if (m->lat.n == 0)
    return row_fail(r, "nothing measured");
  qsort(m->lat.v, m->lat.n, sizeof m->lat.v[0], cmp_double);
  row_set(r, m->n, m->secs);
  r->p50_s = m->lat.v[(m->lat.n - 1) / 2];
  r->p99_s = m->lat.v[(size_t)ceil(0.99 * (double)m->lat.n) - 1];
  fmt_latency(p50, sizeof p50, r->p50_s);
  fmt_latency(p99, sizeof p99, r->p99_s);
  snprintf(r->note, sizeof r->note, "%s; p50 %s, p99 %s (%llu rounds)", what, p50, p99,
           (unsigned long long)wb->rounds);
  return 0;
}

static int rows_finish(wb_t *wb) {
  int rc = 0;
  rc |= row_finish(wb, M_LIB_GET, "cairn_get of a partner by id, the records in a scattered "
                                  "order");
  rc |= row_finish(wb, M_API_GET, "requests/s; GET /api/records/partner/ID, one keep-alive "
                                  "connection (reads the schema, the record, its conflicts; "
                                  "JSON)");
  rc |= row_finish(wb, M_API_GET4, "requests/s; the same GET over 4 connections at once (one "
                                   "server thread)");
  rc |= row_finish(wb, M_LIB_CHANGE, "change begin, put stage and notes, commit (durable): "
                                     "the calls of the API's PUT");
  rc |= row_finish(wb, M_API_PUT, "requests/s; PUT /api/records/partner/ID {stage, notes}, "
                                  "one connection; reply: the record as committed");
  rc |= row_finish(wb, M_API_PUT4, "requests/s; the same PUT over 4 connections at once");
  return rc ? -1 : 0;
}

int work_web(bench_t *b, row_t *rows, size_t *nrows) {
  static const char *const names[M_COUNT][2] = {
      {"web_lib_get", NULL},           {"web_api_get", "web_lib_get"},
      {"web_api_get_4conn", "web_lib_get"}, {"web_lib_change", NULL},
      {"web_api_put", "web_lib_change"},  {"web_api_put_4conn", "web_lib_change"}};
  row_t *first = &rows[*nrows];
  wb_t *wb = calloc(1, sizeof *wb);
  int rc = 0;
  for (int i = 0; i < M_COUNT; i++)
    row_init(&rows[(*nrows)++], names[i][0], names[i][1]);
  if (wb == NULL) {
    for (int i = 0; i < M_COUNT; i++)
      row_fail(&first[i], "out of memory");
    return -1;
  }
  for (int i = 0; i < M_COUNT; i++)
    wb->rows[i] = &first[i];
  wb->records = b->quick ? WB_RECORDS_QUICK : WB_RECORDS;
  wb->rounds = b->quick ? WB_ROUNDS_QUICK : WB_ROUNDS;
  wb->phase_s = b->quick ? WB_PHASE_S_QUICK : WB_PHASE_S;
  path_of(wb->dir, sizeof wb->dir, b, "web");
  if (store_new(b, "web", NULL, true, &wb->s, wb->rows[M_LIB_GET]) != 0) {
    free(wb);
    return -1;
  }
  rc = fill(wb, wb->rows[M_LIB_GET]);
  for (uint64_t i = 0; i < wb->rounds && rc == 0; i++)
    rc = lib_phase(wb, M_LIB_GET, lib_get) || lib_phase(wb, M_LIB_CHANGE, lib_change) ||
                 api_round(wb)
             ? -1
             : 0;
  if (rc == 0 && wb->sum == 0)
    rc = row_fail(wb->rows[M_LIB_GET], "the gets read no names");
  if (rc == 0)
    rc = rows_finish(wb);
  cairn_close(wb->s);
  for (int i = 0; i < M_COUNT; i++) {
    free(wb->m[i].lat.v);
    if (rc != 0 && !wb->rows[i]->failed)
      row_fail(wb->rows[i], "not measured: the web workload failed");
  }
  free(wb);
  return rc;
}
