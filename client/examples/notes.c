/*
 * notes.c — a small program embedding libcairn (client/cairn.h).
 *
 *   notes STORE [TEXT] [--live] [--ping SECONDS]
 *
 * Opens the store (made by `cairn init`, with a network), writes one `note`
 * record holding TEXT, and lists the notes. Then, if a relay is set, it syncs:
 * once, or with --live it stays connected on its own libuv loop, printing every
 * change that arrives, until SIGINT or SIGTERM. --ping sets the keepalive
 * interval of live sync (default 60 seconds).
 *
 * Output, one line each: `note ID JSON` for the listing, `synced: ...` after a
 * one-shot sync, and with --live `applied N` after each batch received, then
 * `change AUTHOR SEQ put TYPE ID JSON` (or `del TYPE ID`) for each op it brought.
 * Connection states go to stderr. Exit 0, or 1 with a message on stderr.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cairn.h>

typedef struct app {
  cairn_store_t *store;
  cairn_sync_live_t *live;
  uv_signal_t sigint, sigterm;
  uint64_t seen; /* the store's last arrival already printed */
  int rc;
} app_t;

static int print_note(const cairn_record_t *r, void *ud) {
  char *json;
  (void)ud;
  if (cairn_record_json(r, &json) != 0)
    return 1;
  printf("note %.*s %s\n", (int)r->id_len, r->id, json);
  cairn_free(json);
  return 0;
}

/* Write one note: its id from this device's key and the clock; a text field
 * and a number given as JSON. */
static int write_note(cairn_store_t *s, const char *text) {
  char key[2 * CAIRN_KEY_BYTES + 1], id[64], len[32];
  cairn_change_t *c;
  cairn_error_t err;
  struct timespec ts;
  int rc;
  clock_gettime(CLOCK_REALTIME, &ts);
  cairn_hex(cairn_store_key(s), CAIRN_KEY_BYTES, key);
  snprintf(id, sizeof id, "%.8s-%lld%03ld", key, (long long)ts.tv_sec, ts.tv_nsec / 1000000);
  snprintf(len, sizeof len, "%zu", strlen(text));
  if ((rc = cairn_change_begin(s, &c)) != 0)
    return rc;
  if ((rc = cairn_change_put_text(c, "note", id, "text", text, 0, NULL)) != 0 ||
      (rc = cairn_change_put_json(c, "note", id, "length", len, 0, &err)) != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cairn_change_commit(c, NULL, &err);
}

/* ---- live ---- */

static int print_op(const cairn_stored_t *stored, uint64_t position, void *ud) {
  app_t *a = ud;
  char author[2 * CAIRN_KEY_BYTES + 1];
  cairn_entry_t entry, *e = &entry;
  cairn_op_iter_t it;
  cairn_op_t op;
  a->seen = position;
  if (cairn_entry_decode(stored->bytes, stored->len, stored->len, e, NULL) != 0)
    return CAIRN_ECORRUPT; /* the store checked it when it arrived */
  cairn_hex(e->author, CAIRN_KEY_BYTES, author);
  cairn_op_iter_init(e, &it);
  while (cairn_op_next(&it, &op) == 1) {
    printf("change %.8s %llu %s %.*s %.*s", author, (unsigned long long)e->seq,
           op.kind == CAIRN_OP_PUT ? "put" : op.kind == CAIRN_OP_DEL ? "del" : "other",
           (int)op.type_len, op.type ? op.type : "", (int)op.id_len, op.id ? op.id : "");
    if (op.kind == CAIRN_OP_PUT) {
      cairn_field_iter_t fi;
      cairn_field_t f;
      cairn_field_iter_init(&op, &fi);
      while (cairn_field_next(&fi, &f) == 1) {
        char *v = NULL;
        if (cairn_value_json(f.value, f.value_len, &v) == 0)
          printf(" %.*s=%s", (int)f.name_len, f.name, v);
        cairn_free(v);
      }
    }
    putchar('\n');
  }
  return 0;
}

static void on_change(void *ud, uint64_t applied) {
  app_t *a = ud;
  printf("applied %llu\n", (unsigned long long)applied);
  if (cairn_store_arrivals(a->store, a->seen, print_op, a) != 0)
    fprintf(stderr, "notes: cannot read the new entries\n");
  fflush(stdout);
}

static void on_closed(uv_handle_t *h) {
  (void)h;
}

/* Stop live sync (freed once closed, on this loop). The signal watchers stay
 * installed but no longer hold the loop, so a second SIGTERM while closing does
 * not kill the program; they are closed when the loop has ended. */
static void stop(app_t *a) {
  cairn_sync_live_stop(a->live, NULL);
  a->live = NULL;
  uv_unref((uv_handle_t *)&a->sigint);
  uv_unref((uv_handle_t *)&a->sigterm);
}

static void on_state(void *ud, cairn_sync_state_t state, const cairn_error_t *err,
                     unsigned retry_ms) {
  app_t *a = ud;
  if (state == CAIRN_SYNC_CONNECTED) {
    fprintf(stderr, "notes: connected\n");
  } else if (state == CAIRN_SYNC_RETRYING) {
    fprintf(stderr, "notes: lost the relay (%s); retrying in %u ms\n", err->msg, retry_ms);
  } else {
    fprintf(stderr, "notes: %s\n", err->msg);
    a->rc = 1;
    stop(a);
  }
}

static void on_signal(uv_signal_t *sig, int signum) {
  (void)signum;
  stop(sig->data);
}

static int run_live(app_t *a, unsigned ping_ms) {
  uv_loop_t loop;
  cairn_error_t err;
  int rc;
  if ((rc = cairn_store_last_arrival(a->store, &a->seen)) != 0) {
    fprintf(stderr, "notes: cannot read the store: %s\n", cairn_strerror(rc));
    return 1;
  }
  if (uv_loop_init(&loop) != 0) {
    fprintf(stderr, "notes: cannot start an event loop\n");
    return 1;
  }
  /* poll the store every second: picks up notes written by other processes */
  if ((rc = cairn_sync_live(a->store, &loop, 1000, on_change, a, &a->live, &err)) != 0) {
    fprintf(stderr, "notes: %s\n", err.msg);
    (void)uv_loop_close(&loop);
    return 1;
  }
  cairn_sync_live_on_status(a->live, on_state);
  cairn_sync_live_set_timing(a->live, ping_ms, 0);
  uv_signal_init(&loop, &a->sigint);
  uv_signal_init(&loop, &a->sigterm);
  a->sigint.data = a->sigterm.data = a;
  uv_signal_start(&a->sigint, on_signal, SIGINT);
  uv_signal_start(&a->sigterm, on_signal, SIGTERM);
  printf("live\n");
  fflush(stdout);
  uv_run(&loop, UV_RUN_DEFAULT); /* until stop has closed live sync */
  /* closing the watchers restores the default action: a late SIGTERM or SIGINT
   * is held back while they close, then discarded, so it neither kills the
   * process nor stays pending at exit */
  sigset_t late;
  sigemptyset(&late);
  sigaddset(&late, SIGTERM);
  sigaddset(&late, SIGINT);
  sigprocmask(SIG_BLOCK, &late, NULL);
  uv_close((uv_handle_t *)&a->sigint, on_closed);
  uv_close((uv_handle_t *)&a->sigterm, on_closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  signal(SIGTERM, SIG_IGN); /* discards one that is pending */
  signal(SIGINT, SIG_IGN);
  sigprocmask(SIG_UNBLOCK, &late, NULL);
  if (uv_loop_close(&loop) != 0) {
    fprintf(stderr, "notes: handles left open\n");
    return 1;
  }
  return a->rc;
}

int main(int argc, char **argv) {
  app_t a;
  const char *dir = NULL, *text = "hello from notes";
  char addr[CAIRN_ADDR_MAX];
  uint8_t relay[CAIRN_KEY_BYTES];
  cairn_error_t err;
  unsigned ping_ms = 0;
  int live = 0, rc;
  memset(&a, 0, sizeof a);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--live") == 0)
      live = 1;
    else if (strcmp(argv[i], "--ping") == 0 && i + 1 < argc)
      ping_ms = (unsigned)strtoul(argv[++i], NULL, 10) * 1000;
    else if (dir == NULL)
      dir = argv[i];
    else
      text = argv[i];
  }
  if (dir == NULL) {
    fprintf(stderr, "usage: notes STORE [TEXT] [--live] [--ping SECONDS]\n");
    return 2;
  }
  if (cairn_init() != 0 || cairn_open(dir, NULL, &a.store, &err) != 0) {
    fprintf(stderr, "notes: %s\n", a.store == NULL ? err.msg : "cannot start");
    return 1;
  }
  if ((rc = write_note(a.store, text)) != 0) {
    fprintf(stderr, "notes: cannot write a note: %s\n", cairn_strerror(rc));
    cairn_close(a.store);
    return 1;
  }
  if ((rc = cairn_list(a.store, "note", NULL, 0, print_note, NULL)) != 0)
    fprintf(stderr, "notes: cannot list the notes: %s\n", cairn_strerror(rc));
  fflush(stdout);
  if (rc == 0 && cairn_sync_remote(a.store, addr, sizeof addr, relay) == 0) {
    if (live) {
      rc = run_live(&a, ping_ms);
    } else {
      cairn_sync_stats_t st;
      if ((rc = cairn_sync_once(a.store, NULL, 30000, &st, &err)) != 0)
        fprintf(stderr, "notes: sync failed: %s\n", err.msg);
      else
        printf("synced: pushed %llu, applied %llu\n", (unsigned long long)st.pushed,
               (unsigned long long)st.applied);
    }
  }
  cairn_close(a.store);
  return rc == 0 ? 0 : 1;
}
