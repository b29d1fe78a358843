/*
 * relay.c — the relay directory (init, host), serving (listener, hosted networks,
 * signals, stats) and `cairnd stats`.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cairnd.h"
#include "keyfile.h"

#define PATH_MAX_LEN 4096

static int path(char *out, const char *dir, const char *a, const char *b) {
  int n = b ? snprintf(out, PATH_MAX_LEN, "%s/%s/%s", dir, a, b)
            : snprintf(out, PATH_MAX_LEN, "%s/%s", dir, a);
  return n > 0 && n < PATH_MAX_LEN ? 0 : CAIRN_EINVAL;
}

/* ---- init and host ---- */

int relay_init_dir(const char *dir, uint8_t pk[CAIRN_KEY_BYTES], cairn_error_t *err) {
  char p[PATH_MAX_LEN];
  uint8_t sk[CAIRN_SECRET_BYTES];
  int rc;
  if (mkdir(dir, 0700) != 0 && errno != EEXIST)
    return cairn__error(err, CAIRN_EIO, "cannot create %s: %s", dir, strerror(errno));
  if (path(p, dir, "key", NULL) != 0)
    return cairn__error(err, CAIRN_EINVAL, "path too long: %s", dir);
  if (access(p, F_OK) == 0)
    return cairn__error(err, CAIRN_EEXIST, "%s already holds a relay", dir);
  crypto_sign_keypair(pk, sk);
  rc = cairn_keyfile_write(p, sk, err);
  sodium_memzero(sk, sizeof sk);
  if (rc != 0)
    return rc;
  if (path(p, dir, "networks", NULL) != 0 || (mkdir(p, 0700) != 0 && errno != EEXIST))
    return cairn__error(err, CAIRN_EIO, "cannot create %s: %s", p, strerror(errno));
  return 0;
}

static int load_key(const char *dir, uint8_t sk[CAIRN_SECRET_BYTES], cairn_error_t *err) {
  char p[PATH_MAX_LEN];
  if (path(p, dir, "key", NULL) != 0)
    return cairn__error(err, CAIRN_EINVAL, "path too long: %s", dir);
  int rc = cairn_keyfile_read(p, sk, err);
  if (rc == CAIRN_ENOENT)
    return cairn__error(err, rc, "no relay in %s (run `cairnd init %s`)", dir, dir);
  return rc;
}

int relay_host(const char *dir, const uint8_t id[CAIRN_KEY_BYTES], cairn_error_t *err) {
  char p[PATH_MAX_LEN], hex[2 * CAIRN_KEY_BYTES + 1];
  uint8_t sk[CAIRN_SECRET_BYTES];
  cairn_store_t *s;
  int rc = load_key(dir, sk, err);
  sodium_memzero(sk, sizeof sk);
  if (rc != 0)
    return rc;
  if (path(p, dir, "networks", cairn_hex(id, CAIRN_KEY_BYTES, hex)) != 0)
    return cairn__error(err, CAIRN_EINVAL, "path too long: %s", dir);
  if (access(p, F_OK) == 0)
    return 0; /* hosting it already: nothing to do */
  if ((rc = cairn_create(p, "relay", NULL, &s, err)) != 0)
    return rc;
  if ((rc = cairn_store_expect_network(s, id, err)) == 0)
    relay_log(LOG_INFO, "hosting network %s", hex);
  cairn_close(s);
  return rc;
}

/* ---- serving ---- */

/* Open the hosted network in networks/<name>; 0 also for a name that is not a
 * network id (skipped). */
static int open_network(relay_t *r, const char *name, cairn_error_t *err) {
  char p[PATH_MAX_LEN];
  cairn_store_opts_t o = {0};
  uint8_t id[CAIRN_KEY_BYTES];
  network_t *n;
  int rc;
  if (strlen(name) != 2 * CAIRN_KEY_BYTES || cairn_unhex(name, id, CAIRN_KEY_BYTES) != 0)
    return 0; /* not a network directory */
  if (path(p, r->dir, "networks", name) != 0)
    return cairn__error(err, CAIRN_EINVAL, "path too long");
  if (r->nnets == r->ncap) {
    size_t cap = r->ncap ? 2 * r->ncap : 8;
    network_t **nn = realloc(r->nets, cap * sizeof *nn);
    if (nn == NULL)
      return cairn__error(err, CAIRN_ENOMEM, "out of memory");
    r->nets = nn;
    r->ncap = cap;
  }
  if ((n = calloc(1, sizeof *n)) == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  memcpy(n->id, id, CAIRN_KEY_BYTES);
  o.max_entry = r->opts.max_entry;
  if ((rc = cairn_open(p, &o, &n->store, err)) != 0) {
    free(n);
    return rc;
  }
  if ((rc = cairn_store_epoch(n->store, n->epoch)) != 0 ||
      (rc = cairn_store_last_arrival(n->store, &n->last_arrival)) != 0) {
    cairn_close(n->store);
    free(n);
    return cairn__error(err, rc, "cannot read network %s: %s", name, cairn_strerror(rc));
  }
  memcpy(n->hex, name, sizeof n->hex);
  n->relay = r;
  n->verifying_tail = &n->verifying;
  n->pending_tail = &n->pending;
  r->nets[r->nnets++] = n;
  relay_log(LOG_INFO, "network %s: %llu entries", name, (unsigned long long)n->last_arrival);
  return 0;
}

/* The hosted network id, opened on first use when `cairnd host` added it while
 * the relay runs; NULL if this relay does not host it. */
network_t *relay_network(relay_t *r, const uint8_t id[CAIRN_KEY_BYTES]) {
  char hex[2 * CAIRN_KEY_BYTES + 1], p[PATH_MAX_LEN];
  cairn_error_t err;
  for (size_t i = 0; i < r->nnets; i++)
    if (memcmp(r->nets[i]->id, id, CAIRN_KEY_BYTES) == 0)
      return r->nets[i];
  cairn_hex(id, CAIRN_KEY_BYTES, hex);
  if (r->stopping || path(p, r->dir, "networks", hex) != 0 || access(p, F_OK) != 0)
    return NULL;
  if (open_network(r, hex, &err) != 0) {
    relay_log(LOG_ERROR, "cannot open network %s: %s", hex, err.msg);
    return NULL;
  }
  return r->nets[r->nnets - 1];
}

static int open_networks(relay_t *r, cairn_error_t *err) {
  char p[PATH_MAX_LEN];
  struct dirent *d;
  DIR *dh;
  int rc = 0;
  if (path(p, r->dir, "networks", NULL) != 0 || (dh = opendir(p)) == NULL)
    return cairn__error(err, CAIRN_ENOENT, "no relay in %s (run `cairnd init %s`)", r->dir,
                        r->dir);
  while (rc == 0 && (d = readdir(dh)) != NULL)
    if (d->d_name[0] != '.')
      rc = open_network(r, d->d_name, err);
  closedir(dh);
  return rc;
}

static void on_connection(uv_stream_t *server, int status) {
  relay_t *r = server->data;
  if (status != 0) {
    relay_log(LOG_WARN, "accept failed: %s", uv_strerror(status));
    return;
  }
  conn_accept(r);
}

/* Split HOST:PORT and bind the listener. */
static int listen_on(relay_t *r, cairn_error_t *err) {
  char host[256];
  const char *colon = strrchr(r->opts.listen, ':');
  struct sockaddr_storage addr;
  int rc;
  if (colon == NULL || (size_t)(colon - r->opts.listen) >= sizeof host)
    return cairn__error(err, CAIRN_EINVAL, "--listen takes HOST:PORT, not %s", r->opts.listen);
  memcpy(host, r->opts.listen, (size_t)(colon - r->opts.listen));
  host[colon - r->opts.listen] = '\0';
  char *end;
  long port = strtol(colon + 1, &end, 10);
  if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
    return cairn__error(err, CAIRN_EINVAL, "bad port in %s", r->opts.listen);
  if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr) != 0 &&
      uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr) != 0)
    return cairn__error(err, CAIRN_EINVAL, "bad address %s", host);
  uv_tcp_init(r->loop, &r->listener);
  r->listener.data = r;
  if ((rc = uv_tcp_bind(&r->listener, (const struct sockaddr *)&addr, 0)) != 0 ||
      (rc = uv_listen((uv_stream_t *)&r->listener, 1024, on_connection)) != 0)
    return cairn__error(err, CAIRN_EIO, "cannot listen on %s: %s", r->opts.listen,
                        uv_strerror(rc));
  return 0;
}

/* Raise the soft limit on open files to the hard limit; say what it allows. */
static void raise_nofile(relay_t *r) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  unsigned long fit = rl.rlim_cur > 64 ? (unsigned long)rl.rlim_cur - 64 : 0;
  relay_log(fit < r->opts.max_conns ? LOG_WARN : LOG_INFO,
            "open files limit %lu: room for about %lu connections (--max-conns %u)",
            (unsigned long)rl.rlim_cur, fit, r->opts.max_conns);
}

/* stats.json, written to a temporary file and renamed. */
static void write_stats(relay_t *r) {
  char p[PATH_MAX_LEN], tmp[PATH_MAX_LEN];
  const relay_stats_t *s = &r->stats;
  if (path(p, r->dir, "stats.json", NULL) != 0 || path(tmp, r->dir, "stats.json.tmp", NULL) != 0)
    return;
  FILE *f = fopen(tmp, "w");
  if (f == NULL)
    return;
  fprintf(f,
          "{\"pid\":%ld,\"time_ms\":%llu,\"networks\":%zu,\"connections\":%llu,"
          "\"connections_total\":%llu,\"connections_refused\":%llu,\"entries_in\":%llu,"
          "\"entries_out\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu,\"commits\":%llu,"
          "\"commit_entries\":%llu,\"commit_us_avg\":%llu,\"commit_us_max\":%llu,"
          "\"verify_batches\":%llu,\"verify_us_avg\":%llu,\"verify_us_max\":%llu,"
          "\"errors_sent\":%llu}\n",
          (long)getpid(), (unsigned long long)(uv_now(r->loop)), r->nnets,
          (unsigned long long)s->conns_now, (unsigned long long)s->conns_total,
          (unsigned long long)s->conns_refused, (unsigned long long)s->entries_in,
          (unsigned long long)s->entries_out, (unsigned long long)s->bytes_in,
          (unsigned long long)s->bytes_out, (unsigned long long)s->commits,
          (unsigned long long)s->commit_entries,
          (unsigned long long)(s->commits ? s->commit_us_total / s->commits : 0),
          (unsigned long long)s->commit_us_max, (unsigned long long)s->verify_batches,
          (unsigned long long)(s->verify_batches ? s->verify_us_total / s->verify_batches : 0),
          (unsigned long long)s->verify_us_max, (unsigned long long)s->errors_sent);
  if (fclose(f) == 0)
    (void)rename(tmp, p);
}

static void on_stats(uv_timer_t *t) {
  write_stats(t->data);
}

static void close_cb(uv_handle_t *h) {
  (void)h;
}

/* Everything stops once no verification is in flight: the last commit runs, the
 * connections close, the handles close, and the loop ends. */
void relay_maybe_finish(relay_t *r) {
  if (!r->stopping || r->verify_in_flight > 0 || r->finished)
    return;
  r->finished = true;
  commit_run(r);
  conn_stop_all(r);
  write_stats(r);
  uv_close((uv_handle_t *)&r->stats_timer, close_cb);
  uv_close((uv_handle_t *)&r->committer, close_cb);
  uv_close((uv_handle_t *)&r->sigint, close_cb);
  uv_close((uv_handle_t *)&r->sigterm, close_cb);
}

static void on_signal(uv_signal_t *sig, int signum) {
  relay_t *r = sig->data;
  if (r->stopping)
    return;
  relay_log(LOG_INFO, "signal %d: no new connections; finishing the commit in flight", signum);
  r->stopping = true;
  uv_close((uv_handle_t *)&r->listener, close_cb);
  relay_maybe_finish(r);
}

static void on_commit(uv_idle_t *idle) {
  relay_t *r = idle->data;
  uv_idle_stop(idle);
  r->commit_armed = false;
  commit_run(r);
}

int relay_open(relay_t *r, const char *dir, const relay_opts_t *opts, cairn_error_t *err) {
  int rc;
  r->dir = dir;
  r->opts = *opts;
  if ((rc = load_key(r->dir, r->sk, err)) != 0 || (rc = open_networks(r, err)) != 0)
    return rc;
  memcpy(r->pk, r->sk + 32, CAIRN_KEY_BYTES);
  return 0;
}

void relay_close(relay_t *r) {
  for (size_t i = 0; i < r->nnets; i++) {
    cairn_close(r->nets[i]->store);
    free(r->nets[i]);
  }
  free(r->nets);
  r->nets = NULL;
  r->nnets = r->ncap = 0;
  sodium_memzero(r->sk, sizeof r->sk);
}

static int serve_start(relay_t *r, cairn_error_t *err) {
  int rc;
  raise_nofile(r);
  if ((rc = listen_on(r, err)) != 0)
    return rc;
  uv_idle_init(r->loop, &r->committer);
  r->committer.data = r;
  uv_signal_init(r->loop, &r->sigint);
  uv_signal_init(r->loop, &r->sigterm);
  r->sigint.data = r->sigterm.data = r;
  uv_signal_start(&r->sigint, on_signal, SIGINT);
  uv_signal_start(&r->sigterm, on_signal, SIGTERM);
  uv_timer_init(r->loop, &r->stats_timer);
  r->stats_timer.data = r;
  uv_timer_start(&r->stats_timer, on_stats, 0, 1000);
  char hex[2 * CAIRN_KEY_BYTES + 1];
  relay_log(LOG_INFO, "relay %s listening on %s, %zu networks",
            cairn_hex(r->pk, CAIRN_KEY_BYTES, hex), r->opts.listen, r->nnets);
  return 0;
}

void commit_arm(relay_t *r) {
  if (r->loop == NULL) { /* driven by a test: it commits when it chooses */
    r->commit_armed = true;
    return;
  }
  if (!r->commit_armed && !uv_is_closing((uv_handle_t *)&r->committer)) {
    r->commit_armed = true;
    uv_idle_start(&r->committer, on_commit);
  }
}

int relay_serve(const char *dir, const relay_opts_t *opts, cairn_error_t *err) {
  relay_t r;
  int rc;
  memset(&r, 0, sizeof r);
  r.loop = uv_default_loop();
  signal(SIGPIPE, SIG_IGN);
  if ((rc = relay_open(&r, dir, opts, err)) == 0 && (rc = serve_start(&r, err)) == 0) {
    uv_run(r.loop, UV_RUN_DEFAULT);
    relay_log(LOG_INFO, "stopped");
  }
  relay_close(&r);
  (void)uv_loop_close(r.loop);
  return rc;
}

int relay_print_stats(const char *dir, cairn_error_t *err) {
  char p[PATH_MAX_LEN], buf[4096];
  if (path(p, dir, "stats.json", NULL) != 0)
    return cairn__error(err, CAIRN_EINVAL, "path too long: %s", dir);
  FILE *f = fopen(p, "r");
  if (f == NULL)
    return cairn__error(err, CAIRN_ENOENT, "no stats in %s: is `cairnd serve %s` running?", dir,
                        dir);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  fputs(buf, stdout);
  return 0;
}
