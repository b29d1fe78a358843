/*
 * sync_bench.c — the sync workloads of cairn's benchmark (docs/design.md, "Performance
 * targets"), against a real relay: `cairnd serve` runs as a child process of the
 * benchmark on 127.0.0.1, on a port chosen at run time, and is stopped (SIGTERM,
 * then SIGKILL) whatever happens; it also dies with the benchmark (PDEATHSIG).
 *
 *   setup       an owner's store (the author) with sync_entries one-op entries,
 *               made with no_sync; a device granted editor that expects the
 *               network (its genesis comes from the relay); a viewer key for the
 *               raw connections. The relay hosts the network.
 *   push        the author's cairn_sync_once: every entry to the relay, which
 *               verifies every first-hop signature on its thread pool and group
 *               commits (entries/s vs two cores of ed25519 verify; target 0.80)
 *   pull        the device's first cairn_sync_once: everything, into a durable
 *               store (entries/s vs the LMDB put floor; target 0.20); and its
 *               bytes on the wire per entry (target: at most 110), beside the
 *               same run's in whole, uncompressed forms (push and reconnect
 *               report both too)
 *   reconnect   the author adds and pushes 1% more; the device syncs again: its
 *               time and wire bytes as ratios of the full pull's
 *   idle        idle_conns connections (handshake and hello, one viewer key)
 *               held open: the relay's RssAnon (target: at most half of 1 GiB;
 *               VmRSS, which counts LMDB's mapped pages too, in the note).
 *               Push and pull report the relay's and the syncing process's
 *               RssAnon too (relay_rss_anon_kb, rss_anon_kb)
 *   fan-out     fanout_conns connections streaming (since sent, caught up); the
 *               device pushes one entry: p50 and p99 from the start of its
 *               cairn_sync_once to each connection decrypting the `entries`
 *
 * Each workload runs in a child of its own (run_child), so its peak RSS is its
 * own; the raw connections of idle and fan-out are libuv TCP handles driven by
 * protocol/session.h directly, in that child, with one shared read buffer.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include "bench.h"
#include "cairn.h"
#include "session.h"

#ifndef CAIRN_BENCH_CAIRND
#define CAIRN_BENCH_CAIRND "cairnd"
#endif

#define SYNC_TIMEOUT_MS 600000u /* one cairn_sync_once */
#define SWARM_INFLIGHT 128      /* raw connections between connect and hello */
#define SWARM_READ_BUF (64 * 1024)
#define RELAY_START_MS 10000
#define RELAY_STOP_MS 20000
#define GIB (1024.0 * 1024.0 * 1024.0)

static const char *cairnd_path(void) {
  const char *p = getenv("CAIRN_BENCH_CAIRND");
  return p != NULL && p[0] != '\0' ? p : CAIRN_BENCH_CAIRND;
}

/* A failed row in the parent, for a setup step that is not a workload. */
CAIRN_PRINTF(3, 4)
static int setup_failed(bench_t *b, const char *name, const char *fmt, ...) {
  va_list ap;
  if (b->nrows >= MAX_ROWS)
    return 1;
  row_t *r = row_init(&b->rows[b->nrows++], name, NULL);
  va_start(ap, fmt);
  vsnprintf(r->note, sizeof r->note, fmt, ap);
  va_end(ap);
  r->failed = 1;
  return 1;
}

/* ---- processes ---- */

/* Run argv (no shell), its stdout into out (NUL-terminated), its stderr appended
 * to the file log; 0 if it exited 0. */
static int run_cmd(char *const argv[], const char *log, char *out, size_t cap) {
  int fd, status = 0;
  size_t got = 0;
  pid_t pid = fork_piped(&fd);
  if (pid < 0)
    return -1;
  if (pid == 0) {
    int lf = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (lf >= 0) {
      dup2(lf, STDERR_FILENO);
      close(lf);
    }
    dup2(fd, STDOUT_FILENO);
    close(fd);
    execv(argv[0], argv);
    _exit(127);
  }
  read_all(fd, out, cap - 1, &got);
  out[got] = '\0';
  close(fd);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* A port free on 127.0.0.1 right now (the kernel's pick). */
static int free_port(void) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
  if (fd < 0)
    return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
      getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
    port = ntohs(sa.sin_port);
  close(fd);
  return port;
}

static bool port_open(int port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  bool ok;
  if (fd < 0)
    return false;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((uint16_t)port);
  ok = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Wait up to ms for pid to exit; true if it did (and was reaped). */
static bool reap_within(pid_t pid, long ms) {
  for (long waited = 0;; waited += 10) {
    pid_t w = waitpid(pid, NULL, WNOHANG);
    if (w == pid || (w < 0 && errno == ECHILD))
      return true;
    if (waited >= ms)
      return false;
    sleep_ms(10);
  }
}

static void relay_stop(bench_t *b) {
  if (b->relay_pid <= 0)
    return;
  kill(b->relay_pid, SIGTERM);
  if (!reap_within(b->relay_pid, RELAY_STOP_MS)) {
    progress("the relay (pid %ld) did not stop on SIGTERM: killing it", (long)b->relay_pid);
    kill(b->relay_pid, SIGKILL);
    reap_within(b->relay_pid, RELAY_STOP_MS);
  }
  b->relay_pid = 0;
}

/* `cairnd serve` on a free port, its log in root/relay.log; tries a few ports. */
static int relay_start(bench_t *b, const char *dir) {
  char listen[32], log[PATH_MAX + 32];
  pid_t parent = getpid();
  path_of(log, sizeof log, b, "relay.log");
  for (int attempt = 0; attempt < 5 && !stop_signal; attempt++) {
    int port = free_port();
    if (port <= 0)
      break;
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    char *argv[] = {(char *)cairnd_path(), "serve",        (char *)dir, "--listen", listen,
                    "--max-conns",         "20000",        "--log-level", "warn",   NULL};
    pid_t pid = fork();
    if (pid < 0)
      break;
    if (pid == 0) {
      int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
      prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the benchmark */
      if (getppid() != parent)
        _exit(1);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
      }
      execv(argv[0], argv);
      _exit(127);
    }
    b->relay_pid = pid;
    for (long waited = 0; waited < RELAY_START_MS && !stop_signal; waited += 20) {
      if (port_open(port)) {
        b->relay_port = port;
        progress("relay: cairnd pid %ld on 127.0.0.1:%d (log %s)", (long)pid, port, log);
        return 0;
      }
      if (waitpid(pid, NULL, WNOHANG) == pid) {
        b->relay_pid = 0;
        break;
      }
      sleep_ms(20);
    }
    relay_stop(b);
  }
  return -1;
}

/* A field of /proc/PID/status in kB ("VmRSS:", "RssAnon:"); -1 if it cannot be
 * read. pid 0: this process. RssAnon is a process's own memory; VmRSS adds the
 * pages of files it maps (LMDB's, which grow with the history). */
static long proc_kb(pid_t pid, const char *field) {
  char p[64], line[256];
  size_t n = strlen(field);
  long kb = -1;
  if (pid == 0)
    snprintf(p, sizeof p, "/proc/self/status");
  else
    snprintf(p, sizeof p, "/proc/%ld/status", (long)pid);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, field, n) == 0) {
      kb = strtol(line + n, NULL, 10);
      break;
    }
  fclose(f);
  return kb;
}

/* After a sync workload: the relay's and this process's anonymous memory. */
static void anon_of(const bench_t *b, row_t *r) {
  r->relay_anon_kb = proc_kb(b->relay_pid, "RssAnon:");
  r->anon_kb = proc_kb(0, "RssAnon:");
}

/* ---- stores ---- */

static int store_open_at(const bench_t *b, const char *name, bool fast, cairn_store_t **s,
                         row_t *r) {
  char dir[PATH_MAX + 32];
  cairn_store_opts_t o = {0};
  cairn_error_t err = {0, ""};
  o.no_sync = fast;
  path_of(dir, sizeof dir, b, name);
  if (cairn_open(dir, &o, s, &err) != 0)
    return row_fail(r, "open %s: %s", name, err.msg);
  return 0;
}

static int set_remote(const bench_t *b, cairn_store_t *s, row_t *r) {
  char addr[32];
  cairn_error_t err = {0, ""};
  snprintf(addr, sizeof addr, "127.0.0.1:%d", b->relay_port);
  if (cairn_sync_set_remote(s, addr, b->relay_pk, &err) != 0)
    return row_fail(r, "set remote: %s", err.msg);
  return 0;
}

/* n one-op entries (a note with a line of text) by s's own key. */
static int add_notes(cairn_store_t *s, const char *prefix, uint64_t n, row_t *r) {
  static const char *const names[] = {"text"};
  uint8_t val[96];
  const uint8_t *vals[1] = {val};
  size_t lens[1];
  char id[48], text[80];
  for (uint64_t i = 0; i < n; i++) {
    snprintf(id, sizeof id, "%s-%llu", prefix, (unsigned long long)i);
    snprintf(text, sizeof text, "entry %llu of %s, a few words", (unsigned long long)i, prefix);
    lens[0] = mp_str(val, text);
    if (put_change(s, "note", id, 1, names, vals, lens, r) != 0)
      return -1;
  }
  return 0;
}

static int sync_once(cairn_store_t *s, cairn_sync_stats_t *st, double *secs, row_t *r) {
  cairn_error_t err = {0, ""};
  double t0 = now_s();
  int rc = cairn_sync_once(s, NULL, SYNC_TIMEOUT_MS, st, &err);
  *secs = now_s() - t0;
  if (rc != 0)
    return row_fail(r, "sync: %s (%s)", err.msg, cairn_strerror(rc));
  return 0;
}

/*
 * The author (an owner with a network), the device (granted editor, expecting
 * the network) and the viewer key's grant; then the author's entries, made with
 * no_sync, up to sync_entries in all. The network id goes to root/sync_network.
 */
static int work_sync_setup(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "setup_sync_author_no_sync", NULL);
  cairn_store_opts_t fast = {0};
  cairn_store_t *a = NULL, *d = NULL;
  cairn_error_t err = {0, ""};
  char hex[2 * CAIRN_KEY_BYTES + 1], p[PATH_MAX + 32];
  uint64_t head = 0;
  double t0;
  int rc = -1;
  fast.no_sync = 1;
  if (store_new(b, "sync_author", &fast, true, &a, r) != 0 ||
      store_new(b, "sync_device", &fast, false, &d, r) != 0)
    goto done;
  const uint8_t *editor[1] = {cairn_store_key(d)}, *viewer[1] = {b->viewer_pk};
  if (grant_keys(a, editor, 1, "editor", r) != 0 || grant_keys(a, viewer, 1, "viewer", r) != 0)
    goto done;
  if (cairn_store_network(a, b->net) != 0 || cairn_store_expect_network(d, b->net, &err) != 0) {
    row_fail(r, "expect network: %s", err.msg);
    goto done;
  }
  if (cairn_store_head_seq(a, cairn_store_key(a), &head) != 0 || head >= b->sync_entries) {
    row_fail(r, "cannot read the author's head");
    goto done;
  }
  t0 = now_s();
  if (add_notes(a, "n", b->sync_entries - head, r) != 0)
    goto done;
  row_set(r, b->sync_entries - head, now_s() - t0);
  path_of(p, sizeof p, b, "sync_network");
  FILE *f = fopen(p, "w");
  if (f == NULL || fprintf(f, "%s\n", cairn_hex(b->net, CAIRN_KEY_BYTES, hex)) < 0 ||
      fclose(f) != 0) {
    row_fail(r, "cannot write %s", p);
    goto done;
  }
  snprintf(r->note, sizeof r->note,
           "the author's %llu one-op entries (genesis and grants included); rate = no_sync "
           "local changes",
           (unsigned long long)b->sync_entries);
  rc = 0;
done:
  cairn_close(a);
  cairn_close(d);
  return rc;
}

/* ---- push, pull, reconnect ---- */

/* A store's first sync with the relay: open it (durable), point it at the relay,
 * sync once, note its and the relay's anonymous memory, close it. */
static int first_sync(const bench_t *b, const char *name, cairn_sync_stats_t *st, double *t,
                      row_t *r) {
  cairn_store_t *s;
  if (store_open_at(b, name, false, &s, r) != 0)
    return -1;
  int rc = set_remote(b, s, r) == 0 ? sync_once(s, st, t, r) : -1;
  anon_of(b, r);
  cairn_close(s);
  return rc;
}

/* A sync's bytes on the wire, and in whole, uncompressed forms. */
static void wire_bytes(row_t *r, const cairn_sync_stats_t *st) {
  r->bytes = st->bytes_sent + st->bytes_received;
  r->bytes_plain = st->bytes_plain_sent + st->bytes_plain_received;
}

static int work_push(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "sync_push_first_hop", "floor_ed25519_verify_2cores");
  cairn_sync_stats_t st;
  double t;
  r->target = r->target_min = 0.80;
  if (first_sync(b, "sync_author", &st, &t, r) != 0)
    return -1;
  if (st.pushed != b->sync_entries || st.acked_seq != b->sync_entries)
    return row_fail(r, "pushed %llu, acknowledged up to %llu, not %llu",
                    (unsigned long long)st.pushed, (unsigned long long)st.acked_seq,
                    (unsigned long long)b->sync_entries);
  row_set(r, st.pushed, t);
  wire_bytes(r, &st);
  snprintf(r->note, sizeof r->note,
           "the author's cairn_sync_once to cairnd (a child process): every signature "
           "verified on the relay's thread pool, group commits, acked; %.1f MB sent "
           "(%.1f MB uncompressed, whole entries)",
           (double)st.bytes_sent / 1e6, (double)st.bytes_plain_sent / 1e6);
  return 0;
}

static int work_pull(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "sync_pull_fresh", "floor_lmdb_put_1txn");
  row_t *w = row_init(&rows[(*nrows)++], "sync_pull_fresh_wire_bytes_per_entry", NULL);
  cairn_sync_stats_t st;
  double t;
  r->target = r->target_min = 0.20;
  w->target = 110;
  w->target_max = true;
  if (first_sync(b, "sync_device", &st, &t, r) != 0)
    return row_fail(w, "%s", r->note);
  if (st.applied != b->sync_entries) {
    row_fail(w, "no full pull");
    return row_fail(r, "applied %llu entries, not %llu", (unsigned long long)st.applied,
                    (unsigned long long)b->sync_entries);
  }
  row_set(r, st.applied, t);
  wire_bytes(r, &st);
  snprintf(r->note, sizeof r->note,
           "a new device's first cairn_sync_once (genesis from the relay) into a durable "
           "store: handshake, since by heads, one transaction per `entries` message");
  row_set(w, st.applied, t);
  wire_bytes(w, &st);
  w->relay_anon_kb = r->relay_anon_kb;
  w->anon_kb = r->anon_kb;
  w->ratio = (double)w->bytes / (double)st.applied;
  snprintf(w->note, sizeof w->note,
           "ratio = bytes on the wire per entry of that pull, both ways, handshake "
           "included (compact entries, zstd); %.1f in whole, uncompressed forms "
           "(what an older relay sends)",
           (double)r->bytes_plain / (double)st.applied);
  return 0;
}

static int work_reconnect(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "sync_reconnect_1pct", "sync_pull_fresh:seconds");
  row_t *rb = row_init(&rows[(*nrows)++], "sync_reconnect_1pct_bytes", "sync_pull_fresh:bytes");
  row_t *full = find_row(b, "sync_pull_fresh");
  uint64_t delta = b->sync_entries / 100 ? b->sync_entries / 100 : 1;
  cairn_sync_stats_t st, ast;
  cairn_store_t *s;
  double t, ta;
  /* "proportional to the delta": at most 5x the delta's 1% share of the full pull */
  r->target = rb->target = 0.05;
  r->target_max = rb->target_max = true;
  if (full == NULL) {
    row_fail(rb, "no full pull to compare with");
    return row_fail(r, "no full pull to compare with");
  }
  if (store_open_at(b, "sync_author", true, &s, r) != 0)
    return -1;
  int rc = add_notes(s, "delta", delta, r) == 0 ? sync_once(s, &ast, &ta, r) : -1;
  cairn_close(s);
  if (rc != 0)
    return row_fail(rb, "%s", r->note);
  if (store_open_at(b, "sync_device", false, &s, r) != 0)
    return row_fail(rb, "%s", r->note);
  rc = sync_once(s, &st, &t, r);
  cairn_close(s);
  if (rc != 0)
    return row_fail(rb, "%s", r->note);
  if (st.applied != delta)
    return row_fail(r, "applied %llu entries, not %llu", (unsigned long long)st.applied,
                    (unsigned long long)delta);
  uint64_t bytes = st.bytes_sent + st.bytes_received;
  row_set(r, st.applied, t);
  wire_bytes(r, &st);
  r->ratio = full->seconds > 0 ? t / full->seconds : NAN;
  snprintf(r->note, sizeof r->note,
           "the author pushed %llu new entries (%.3f s), then the device's cairn_sync_once "
           "(kept cursor); ratio = its time / the full pull's (%.3f s)",
           (unsigned long long)delta, ta, full->seconds);
  row_set(rb, st.applied, t);
  wire_bytes(rb, &st);
  rb->ratio = full->bytes > 0 ? (double)bytes / (double)full->bytes : NAN;
  snprintf(rb->note, sizeof rb->note,
           "wire bytes of that sync (%llu sent, %llu received) / the full pull's (%llu)",
           (unsigned long long)st.bytes_sent, (unsigned long long)st.bytes_received,
           (unsigned long long)full->bytes);
  return 0;
}

/* ---- raw connections: idle and fan-out ---- */

typedef struct swarm swarm_t;

typedef struct rconn {
  uv_tcp_t tcp;
  uv_connect_t req;
  cairn_session_t sess;
  msgpack_sbuffer out;
  swarm_t *sw;
  bool started, hello, caught_up, got, failed;
  double t_got;
} rconn_t;

struct swarm {
  uv_loop_t loop;
  const bench_t *b;
  struct sockaddr_in sa;
  rconn_t *c;
  size_t n, started, inflight, hello, caught_up, got, failed;
  bool since; /* fan-out: send since after hello and wait for caught_up */
  int phase;  /* 1: connecting; 2: waiting for entries */
  bool timed_out;
  uv_timer_t deadline;
  char err[160];
};

static char swarm_rbuf[SWARM_READ_BUF]; /* one loop, one read at a time */

static void sw_check(swarm_t *sw) {
  size_t done = sw->phase == 1 ? (sw->since ? sw->caught_up : sw->hello) : sw->got;
  if (done + sw->failed >= sw->n)
    uv_stop(&sw->loop);
}

static void sw_start_more(swarm_t *sw);

static void sw_fail(rconn_t *c, const char *fmt, ...) CAIRN_PRINTF(2, 3);
static void sw_fail(rconn_t *c, const char *fmt, ...) {
  swarm_t *sw = c->sw;
  va_list ap;
  if (c->failed)
    return;
  c->failed = true;
  sw->failed++;
  if (sw->err[0] == '\0') {
    va_start(ap, fmt);
    vsnprintf(sw->err, sizeof sw->err, fmt, ap);
    va_end(ap);
  }
  uv_read_stop((uv_stream_t *)&c->tcp);
  if (!c->hello) {
    sw->inflight--;
    sw_start_more(sw);
  }
  sw_check(sw);
}

static void sw_written(uv_write_t *req, int status) {
  (void)status;
  free(req->data);
  free(req);
}

static void sw_flush(rconn_t *c) {
  if (c->out.size == 0)
    return;
  uv_write_t *w = malloc(sizeof *w);
  size_t len = c->out.size;
  if (w == NULL) {
    sw_fail(c, "out of memory");
    return;
  }
  w->data = msgpack_sbuffer_release(&c->out);
  uv_buf_t buf = uv_buf_init(w->data, (unsigned)len);
  if (uv_write(w, (uv_stream_t *)&c->tcp, &buf, 1, sw_written) != 0) {
    free(w->data);
    free(w);
    sw_fail(c, "cannot write");
  }
}

static int sw_event(void *ud, const cairn_event_t *ev) {
  rconn_t *c = ud;
  swarm_t *sw = c->sw;
  cairn_cursor_t cur;
  switch (ev->type) {
  case CAIRN_EV_HELLO:
    c->hello = true;
    sw->hello++;
    sw->inflight--;
    if (sw->since) {
      /* a cursor past the end: the relay starts at its last arrival */
      memcpy(cur.epoch, ev->msg.u.hello.epoch, CAIRN_EPOCH_BYTES);
      cur.arrival = UINT64_MAX;
      if (cairn_session_since(&c->sess, &cur, NULL, NULL, 0, &c->out) != 0)
        sw_fail(c, "cannot send since");
    }
    sw_start_more(sw);
    break;
  case CAIRN_EV_CAUGHT_UP:
    if (!c->caught_up) {
      c->caught_up = true;
      sw->caught_up++;
    }
    break;
  case CAIRN_EV_ENTRIES:
    if (ev->msg.u.entries.count > 0 && !c->got) {
      c->t_got = now_s();
      c->got = true;
      sw->got++;
    }
    break;
  case CAIRN_EV_ERROR:
    sw_fail(c, "the relay refused: %.*s", (int)ev->msg.u.error.text_len, ev->msg.u.error.text);
    return 1;
  default:
    break;
  }
  sw_check(sw);
  return c->failed;
}

static void sw_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)h;
  (void)hint;
  *buf = uv_buf_init(swarm_rbuf, sizeof swarm_rbuf);
}

static void sw_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
  rconn_t *c = st->data;
  cairn_error_t err = {0, ""};
  if (nread == 0 || c->failed)
    return;
  if (nread < 0) {
    sw_fail(c, "the relay closed a connection: %s", uv_strerror((int)nread));
    return;
  }
  int rc = cairn_session_input(&c->sess, (const uint8_t *)buf->base, (size_t)nread, &c->out,
                               sw_event, c, &err);
  sw_flush(c);
  if (rc < 0)
    sw_fail(c, "session: %s", err.msg);
}

static void sw_connected(uv_connect_t *req, int status) {
  rconn_t *c = req->data;
  if (status != 0) {
    sw_fail(c, "connect: %s", uv_strerror(status));
    return;
  }
  if (uv_read_start((uv_stream_t *)&c->tcp, sw_alloc, sw_read) != 0) {
    sw_fail(c, "cannot read");
    return;
  }
  sw_flush(c); /* msg1 */
}

static void sw_start(swarm_t *sw, rconn_t *c) {
  const bench_t *b = sw->b;
  c->sw = sw;
  msgpack_sbuffer_init(&c->out);
  sw->inflight++;
  if (uv_tcp_init(&sw->loop, &c->tcp) != 0) {
    sw_fail(c, "cannot open a socket");
    return;
  }
  c->started = true;
  c->tcp.data = c->req.data = c;
  if (cairn_session_client(&c->sess, b->viewer_sk, b->relay_pk, b->net, NULL, 0, 0, 0, &c->out) !=
      0) {
    sw_fail(c, "cannot start a handshake");
    return;
  }
  int rc = uv_tcp_connect(&c->req, &c->tcp, (const struct sockaddr *)&sw->sa, sw_connected);
  if (rc != 0)
    sw_fail(c, "connect: %s", uv_strerror(rc));
}

static void sw_start_more(swarm_t *sw) {
  while (sw->inflight < SWARM_INFLIGHT && sw->started < sw->n) {
    rconn_t *c = &sw->c[sw->started++];
    sw_start(sw, c);
  }
}

static void sw_timeout(uv_timer_t *t) {
  swarm_t *sw = t->data;
  sw->timed_out = true;
  uv_stop(&sw->loop);
}

/* Run the loop until the phase is done or secs pass; false on timeout. */
static bool sw_run(swarm_t *sw, int phase, double secs) {
  sw->phase = phase;
  sw->timed_out = false;
  uv_timer_start(&sw->deadline, sw_timeout, (uint64_t)(secs * 1000), 0);
  if (phase == 1)
    sw_start_more(sw);
  sw_check(sw);
  uv_run(&sw->loop, UV_RUN_DEFAULT);
  uv_timer_stop(&sw->deadline);
  return !sw->timed_out;
}

static int sw_init(swarm_t *sw, const bench_t *b, size_t n, bool since) {
  memset(sw, 0, sizeof *sw);
  sw->b = b;
  sw->n = n;
  sw->since = since;
  if ((sw->c = calloc(n, sizeof *sw->c)) == NULL)
    return -1;
  if (uv_loop_init(&sw->loop) != 0) {
    free(sw->c);
    return -1;
  }
  uv_ip4_addr("127.0.0.1", b->relay_port, &sw->sa);
  uv_timer_init(&sw->loop, &sw->deadline);
  sw->deadline.data = sw;
  return 0;
}

static void sw_close(swarm_t *sw) {
  for (size_t i = 0; i < sw->started; i++)
    if (sw->c[i].started)
      uv_close((uv_handle_t *)&sw->c[i].tcp, NULL);
  uv_close((uv_handle_t *)&sw->deadline, NULL);
  uv_run(&sw->loop, UV_RUN_DEFAULT); /* the closes, and the writes they cancel */
  for (size_t i = 0; i < sw->started; i++) {
    if (sw->c[i].started)
      cairn_session_free(&sw->c[i].sess);
    msgpack_sbuffer_destroy(&sw->c[i].out);
  }
  (void)uv_loop_close(&sw->loop);
  free(sw->c);
}

/* Room for n more open files (the soft limit raised to the hard one); or why not. */
static bool nofile_room(uint64_t n, char *why, size_t cap) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
    snprintf(why, cap, "getrlimit: %s", strerror(errno));
    return false;
  }
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < n + 64) {
    snprintf(why, cap,
             "skipped: %llu connections need %llu open files, the limit is %llu (raise the "
             "hard limit: ulimit -Hn)",
             (unsigned long long)n, (unsigned long long)(n + 64),
             (unsigned long long)rl.rlim_cur);
    return false;
  }
  return true;
}

/* 10,000 idle connections: the relay's own memory for them. RssAnon, not VmRSS:
 * VmRSS also counts the pages of LMDB's map the relay has read, which grow with
 * the history (1 GiB after a push of 1,000,000 entries) and say nothing of the
 * connections. */
static int work_idle(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "sync_idle_conns_relay_rss", "1 GiB");
  swarm_t sw;
  long before = proc_kb(b->relay_pid, "RssAnon:"), vm_before = proc_kb(b->relay_pid, "VmRSS:");
  long anon, vm;
  double t0, t;
  if (!nofile_room(b->idle_conns, r->note, sizeof r->note))
    return 0; /* a note, no pass mark */
  r->target = 0.5; /* "well under 1 GiB" */
  r->target_max = true;
  if (before < 0 || vm_before < 0)
    return row_fail(r, "cannot read /proc/%ld/status", (long)b->relay_pid);
  if (sw_init(&sw, b, b->idle_conns, false) != 0)
    return row_fail(r, "out of memory");
  t0 = now_s();
  bool ok = sw_run(&sw, 1, 300);
  t = now_s() - t0;
  anon = proc_kb(b->relay_pid, "RssAnon:");
  vm = proc_kb(b->relay_pid, "VmRSS:");
  size_t hello = sw.hello, failed = sw.failed;
  char err[sizeof sw.err];
  memcpy(err, sw.err, sizeof err);
  sw_close(&sw);
  if (!ok || failed > 0 || hello != b->idle_conns)
    return row_fail(r, "%zu of %llu connections got hello%s; %zu failed: %s", hello,
                    (unsigned long long)b->idle_conns, ok ? "" : " (timed out)", failed, err);
  if (anon < 0 || vm < 0)
    return row_fail(r, "cannot read the relay's RssAnon");
  row_set(r, hello, t);
  r->relay_rss_kb = vm;
  r->relay_anon_kb = anon;
  r->bytes = (uint64_t)anon * 1024;
  r->ratio = (double)anon * 1024 / GIB;
  snprintf(r->note, sizeof r->note,
           "relay RssAnon %.1f MiB with %zu connections open (handshake + hello, one viewer "
           "key; %.1f MiB before, %.1f KiB each; VmRSS %.1f MiB, %.1f before); rate = "
           "handshakes/s, %d in flight; bytes = RssAnon",
           (double)anon / 1024, hello, (double)before / 1024,
           (double)(anon - before) / (double)hello, (double)vm / 1024, (double)vm_before / 1024,
           SWARM_INFLIGHT);
  return 0;
}

typedef struct pusher {
  const bench_t *b;
  double t0;
  int rc;
  row_t r; /* for errors */
} pusher_t;

/* On its own thread: the device makes one entry, then pushes it (timed from here). */
static void push_one(void *arg) {
  pusher_t *p = arg;
  static const char *const names[] = {"text"};
  uint8_t val[32];
  const uint8_t *vals[1] = {val};
  size_t lens[1] = {mp_str(val, "fan me out")};
  cairn_sync_stats_t st;
  cairn_store_t *s;
  double t;
  p->rc = -1;
  if (store_open_at(p->b, "sync_device", false, &s, &p->r) != 0)
    return;
  if (put_change(s, "note", "fan-out", 1, names, vals, lens, &p->r) == 0) {
    p->t0 = now_s();
    p->rc = sync_once(s, &st, &t, &p->r);
  }
  cairn_close(s);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static int work_fanout(bench_t *b, row_t *rows, size_t *nrows) {
  row_t *r = row_init(&rows[(*nrows)++], "sync_fanout_1entry", NULL);
  swarm_t sw;
  pusher_t p;
  uv_thread_t tid;
  double *lat = NULL;
  int rc = -1;
  if (!nofile_room(b->fanout_conns, r->note, sizeof r->note))
    return 0;
  if (sw_init(&sw, b, b->fanout_conns, true) != 0)
    return row_fail(r, "out of memory");
  if (!sw_run(&sw, 1, 300) || sw.failed > 0) {
    row_fail(r, "%zu of %llu connections caught up; %zu failed: %s", sw.caught_up,
             (unsigned long long)b->fanout_conns, sw.failed, sw.err);
    goto done;
  }
  memset(&p, 0, sizeof p);
  p.b = b;
  row_init(&p.r, "push", NULL);
  if (uv_thread_create(&tid, push_one, &p) != 0) {
    row_fail(r, "cannot start a thread");
    goto done;
  }
  bool ok = sw_run(&sw, 2, 60);
  uv_thread_join(&tid);
  if (p.rc != 0) {
    row_fail(r, "the device's push: %s", p.r.note);
    goto done;
  }
  if (!ok || sw.failed > 0 || sw.got != sw.n) {
    row_fail(r, "%zu of %zu connections received the entry%s; %zu failed: %s", sw.got, sw.n,
             ok ? "" : " (timed out)", sw.failed, sw.err);
    goto done;
  }
  if ((lat = malloc(sw.n * sizeof *lat)) == NULL) {
    row_fail(r, "out of memory");
    goto done;
  }
  for (size_t i = 0; i < sw.n; i++)
    lat[i] = sw.c[i].t_got - p.t0;
  qsort(lat, sw.n, sizeof *lat, cmp_double);
  r->p50_s = lat[(sw.n - 1) / 2];
  r->p99_s = lat[(size_t)ceil(0.99 * (double)sw.n) - 1];
  row_set(r, sw.n, lat[sw.n - 1]);
  snprintf(r->note, sizeof r->note,
           "p50 %.1f ms, p99 %.1f ms, last %.1f ms: from the start of the pushing device's "
           "cairn_sync_once (its handshake included) to each of %zu live connections "
           "decrypting the `entries` message; rate = deliveries/s",
           r->p50_s * 1e3, r->p99_s * 1e3, lat[sw.n - 1] * 1e3, sw.n);
  rc = 0;
done:
  free(lat);
  sw_close(&sw);
  return rc;
}

/* ---- running them ---- */

/* Two cores of ed25519 verify: what the relay's thread pool can verify at most. */
static void add_verify_2cores_row(bench_t *b) {
  row_t *v = find_row(b, "floor_ed25519_verify");
  if (v == NULL || b->nrows >= MAX_ROWS)
    return;
  row_t *r = row_init(&b->rows[b->nrows++], "floor_ed25519_verify_2cores", NULL);
  r->n = 2 * v->n;
  r->seconds = v->seconds;
  r->rate = 2 * v->rate;
  snprintf(r->note, sizeof r->note,
           "2 x the one-core verify rate (this machine has %ld cores; the relay, the pushing "
           "client and the verify threads share them)",
           sysconf(_SC_NPROCESSORS_ONLN));
}

int sync_bench_run(bench_t *b) {
  char relay[PATH_MAX + 32], p[PATH_MAX + 32], log[PATH_MAX + 32], out[256];
  char hex[2 * CAIRN_KEY_BYTES + 2];
  int failures = 0;
  b->sync_entries = b->quick ? 5000 : b->history;
  b->idle_conns = b->quick ? 500 : 10000;
  b->fanout_conns = b->quick ? 100 : 1000;
  crypto_sign_keypair(b->viewer_pk, b->viewer_sk);
  add_verify_2cores_row(b);
  path_of(relay, sizeof relay, b, "relay");
  path_of(log, sizeof log, b, "relay.log");

  char *init[] = {(char *)cairnd_path(), "init", relay, NULL};
  if (run_cmd(init, log, out, sizeof out) != 0 || strlen(out) < 2 * CAIRN_KEY_BYTES ||
      cairn_unhex((out[2 * CAIRN_KEY_BYTES] = '\0', out), b->relay_pk, CAIRN_KEY_BYTES) != 0) {
    failures += setup_failed(b, "setup_sync_relay", "`%s init` failed (built? set "
                             "CAIRN_BENCH_CAIRND to cairnd's path)", cairnd_path());
    goto done;
  }
  if (run_child(b, work_sync_setup, "sync: setting up the author and the device") != 0) {
    failures++;
    goto done;
  }
  path_of(p, sizeof p, b, "sync_network");
  FILE *f = fopen(p, "r");
  bool got = f != NULL && fgets(hex, sizeof hex, f) != NULL &&
             cairn_unhex((hex[2 * CAIRN_KEY_BYTES] = '\0', hex), b->net, CAIRN_KEY_BYTES) == 0;
  if (f != NULL)
    fclose(f);
  char *host[] = {(char *)cairnd_path(), "host", relay, hex, NULL};
  if (!got || run_cmd(host, log, out, sizeof out) != 0) {
    failures += setup_failed(b, "setup_sync_relay", "`cairnd host` failed");
    goto done;
  }
  if (relay_start(b, relay) != 0) {
    failures += setup_failed(b, "setup_sync_relay", "cannot start `cairnd serve` (see %s/relay.log)",
                             b->root);
    goto done;
  }
  if (run_child(b, work_push, "sync: push to the relay") != 0 ||
      run_child(b, work_pull, "sync: fresh pull by a new device") != 0) {
    failures++;
    goto done;
  }
  failures += run_child(b, work_reconnect, "sync: reconnect after 1% new entries") != 0;
  failures += run_child(b, work_idle, "sync: idle connections") != 0;
  failures += run_child(b, work_fanout, "sync: fan-out of one entry") != 0;
done:
  relay_stop(b);
  sodium_memzero(b->viewer_sk, sizeof b->viewer_sk);
  return failures;
}
