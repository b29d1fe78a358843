/*
 * sync_net.c — sync with a relay (docs/cli.md, "Sync with a relay"), each command a thin layer
 * over client/cairn.h: `remote` keeps the relay's address and key, `sync` runs
 * one sync, `sync --live` stays connected on a libuv loop until SIGINT/SIGTERM,
 * `status` says where this device stands.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"
#include "cli.h"

static const char *const remote_opts[] = {"key=", NULL};

int cmd_remote(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  uint8_t key[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES];
  cairn_error_t err;
  cairn_role_t role = CAIRN_ROLE_NONE;
  int rc = cli_args_parse(cli, argc, argv, remote_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  if (cli_opt(&a, "key") == NULL)
    rc = cli_usage(cli, "--key RELAYKEY is required (`cairnd init` printed it)");
  else if ((rc = cli_parse_key(cli, cli_opt(&a, "key"), key)) == 0 && (rc = cli_open(cli)) == 0 &&
           cairn_sync_set_remote(cli->store, a.pos[0], key, &err) != 0)
    rc = err.code == CAIRN_EINVAL ? cli_usage(cli, "%s", err.msg) : cli_fail(cli, "%s", err.msg);
  /* kept either way: a field device may set its relay while offline */
  if (rc == 0 && cairn_sync_check_remote(a.pos[0], &err) != 0)
    cli_warn(cli, "%s; the address is kept and looked up again at each sync", err.msg);
  if (rc == 0 && cairn_store_network(cli->store, net) == 0 &&
      cairn_store_role(cli->store, cairn_store_key(cli->store), &role) == 0 &&
      (role == CAIRN_ROLE_OWNER || role == CAIRN_ROLE_ADMIN)) {
    cairn_role_t now = CAIRN_ROLE_NONE;
    if (cairn_store_role(cli->store, key, &now) == 0 && now != CAIRN_ROLE_RELAY)
      rc = cli_write_member(cli, key, CAIRN_ROLE_RELAY, "relay");
  }
  cli_args_free(&a);
  return rc;
}

/* ---- sync --live ---- */

typedef struct live_cli {
  cli_t *cli;
  cairn_sync_live_t *live;
  uv_signal_t sigint, sigterm;
  int rc;
} live_cli_t;

static void on_applied(void *ud, uint64_t applied) {
  (void)ud;
  printf("applied %llu\n", (unsigned long long)applied);
  fflush(stdout);
}

static void on_signal_closed(uv_handle_t *h) {
  (void)h;
}

/* Stop live sync; the loop ends once it is closed. The signal watchers stay
 * installed (unreferenced, so they do not hold the loop) until the loop has
 * ended: a second SIGTERM, which `timeout` and process groups send, must not find
 * the default action and kill the process mid-close. */
static void live_stop(live_cli_t *lc) {
  cairn_sync_live_stop(lc->live, NULL);
  lc->live = NULL;
  uv_unref((uv_handle_t *)&lc->sigint);
  uv_unref((uv_handle_t *)&lc->sigterm);
}

static void on_state(void *ud, cairn_sync_state_t state, const cairn_error_t *err,
                     unsigned retry_ms) {
  live_cli_t *lc = ud;
  if (state == CAIRN_SYNC_CONNECTED) {
    char addr[CAIRN_ADDR_MAX];
    uint8_t key[CAIRN_KEY_BYTES];
    if (cairn_sync_remote(lc->cli->store, addr, sizeof addr, key) != 0)
      snprintf(addr, sizeof addr, "the relay");
    fprintf(stderr, "cairn: connected to %s; syncing live (Ctrl-C to stop)\n", addr);
  } else if (state == CAIRN_SYNC_RETRYING) {
    /* not a failure: stderr keeps a trace, the exit code is unaffected */
    fprintf(stderr, "cairn: lost the relay (%s); retrying in %u ms\n", err->msg, retry_ms);
  } else if (state == CAIRN_SYNC_FAILED) {
    lc->rc = cli_fail(lc->cli, "live sync stopped: %s", err->msg);
    live_stop(lc);
  }
}

static void on_signal(uv_signal_t *sig, int signum) {
  (void)signum;
  live_stop(sig->data);
}

/* Stay connected until SIGINT/SIGTERM, printing `applied N` per batch. */
static int sync_live(cli_t *cli, unsigned long ping) {
  live_cli_t lc = {cli, NULL, {0}, {0}, 0};
  cairn_error_t err;
  uv_loop_t loop;
  int rc;
  if (uv_loop_init(&loop) != 0)
    return cli_fail(cli, "cannot start an event loop");
  if ((rc = cairn_sync_live(cli->store, &loop, 1000, on_applied, &lc, &lc.live, &err)) != 0) {
    (void)uv_loop_close(&loop);
    return cli_fail_rc(cli, rc, &err, "cannot start live sync");
  }
  cairn_sync_live_on_status(lc.live, on_state);
  cairn_sync_live_set_timing(lc.live, (unsigned)(ping * 1000), 0);
  uv_signal_init(&loop, &lc.sigint);
  uv_signal_init(&loop, &lc.sigterm);
  lc.sigint.data = lc.sigterm.data = &lc;
  uv_signal_start(&lc.sigint, on_signal, SIGINT);
  uv_signal_start(&lc.sigterm, on_signal, SIGTERM);
  uv_run(&loop, UV_RUN_DEFAULT);
  /* closing the watchers restores the default action: a late SIGTERM or SIGINT
   * is held back while they close, then discarded, so it neither kills the
   * process nor stays pending at exit */
  sigset_t late;
  sigemptyset(&late);
  sigaddset(&late, SIGTERM);
  sigaddset(&late, SIGINT);
  sigprocmask(SIG_BLOCK, &late, NULL);
  uv_close((uv_handle_t *)&lc.sigint, on_signal_closed);
  uv_close((uv_handle_t *)&lc.sigterm, on_signal_closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  signal(SIGTERM, SIG_IGN); /* discards one that is pending */
  signal(SIGINT, SIG_IGN);
  sigprocmask(SIG_UNBLOCK, &late, NULL);
  if (uv_loop_close(&loop) != 0 && lc.rc == 0)
    lc.rc = cli_fail(cli, "live sync left handles open");
  return lc.rc;
}

static const char *const sync_opts[] = {"timeout=", "live", "ping=", NULL};

/* The warning of cairn_clock_warning when the relay said its time, else "". */
static void clock_words(const cairn_sync_stats_t *st, char *out, size_t cap) {
  out[0] = '\0';
  if (st->clock_known)
    cairn_clock_warning(st->clock_offset_ms, out, cap);
}

int cmd_sync(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err;
  cairn_sync_stats_t st;
  unsigned long timeout = 60, ping = 0;
  int rc = cli_args_parse(cli, argc, argv, sync_opts, 0, 0, &a);
  if (rc != 0)
    return rc;
  int live = cli_flag(&a, "live");
  if ((rc = cli_opt_number(cli, &a, "timeout", 1, 86400, 60, &timeout)) == 0 &&
      (rc = cli_opt_number(cli, &a, "ping", 1, 86400, 0, &ping)) == 0) {
    if (live && cli_opt(&a, "timeout") != NULL)
      rc = cli_usage(cli, "--timeout is for a one-shot sync, not --live");
    else if (!live && cli_opt(&a, "ping") != NULL)
      rc = cli_usage(cli, "--ping goes with --live");
  }
  cli_args_free(&a);
  if (rc != 0 || (rc = cli_open(cli)) != 0)
    return rc;
  if (live)
    return sync_live(cli, ping);
  rc = cairn_sync_once(cli->store, NULL, (unsigned)(timeout * 1000), &st, &err);
  char clock[160] = "";
  clock_words(&st, clock, sizeof clock);
  if (rc != 0)
    return clock[0] ? cli_fail(cli, "sync failed: %s; also, %s", err.msg, clock)
                    : cli_fail(cli, "sync failed: %s", err.msg);
  if (clock[0])
    cli_warn(cli, "%s", clock);
  if (st.refused_forwards > 0)
    cli_warn(cli,
             "the relay refused %llu entr%s written by others that reached this device by "
             "bundle (their author's role no longer allows them); they stay here and are "
             "not sent again",
             (unsigned long long)st.refused_forwards, st.refused_forwards == 1 ? "y" : "ies");
  if (st.rekeyed) {
    char key[2 * CAIRN_KEY_BYTES + 1];
    cli_warn(cli, "this device now signs with its new key %s (`cairn rekey`)",
             cairn_hex(cairn_store_key(cli->store), CAIRN_KEY_BYTES, key));
  }
  if (st.rekey_lost)
    cli_warn(cli, "another copy of this store already signs with the new key that was waiting "
                  "here, so this device keeps its current key: run `cairn rekey` again");
  if (st.forks_dropped > 0)
    cli_warn(cli,
             "%llu entr%s of another device, which reached this one by bundle, %s replaced by "
             "the relay's: that device's store was restored or copied and written again. %s "
             "kept in %s/forked.entries in case that device lost %s",
             (unsigned long long)st.forks_dropped, st.forks_dropped == 1 ? "y" : "ies",
             st.forks_dropped == 1 ? "was" : "were", st.forks_dropped == 1 ? "It is" : "They are",
             cli->store_dir, st.forks_dropped == 1 ? "it" : "them");
  if (st.resigned > 0)
    cli_warn(cli,
             "%llu change%s made on this device %s signed again on top of the relay's copy "
             "of its log (a store restored from a backup or copied, or changes stamped by a "
             "wrong clock); nothing was lost. If this store was copied to another machine "
             "that also writes, run `cairn rekey` on one of them",
             (unsigned long long)st.resigned, st.resigned == 1 ? "" : "s",
             st.resigned == 1 ? "was" : "were");
  printf("pushed %llu, pulled %llu, applied %llu, bytes sent %llu, received %llu\n",
         (unsigned long long)st.pushed, (unsigned long long)st.pulled,
         (unsigned long long)st.applied, (unsigned long long)st.bytes_sent,
         (unsigned long long)st.bytes_received);
  return 0;
}

static const char *const json_opt[] = {"json", NULL};

static const char *rekey_stage(cairn_rekey_stage_t stage) {
  switch (stage) {
  case CAIRN_REKEY_GRANTED:
    return "granted";
  case CAIRN_REKEY_AWAITING:
    return "awaiting-grant";
  default:
    return "none";
  }
}

/* A move to a new key pending: its JSON (null when none), or NULL on error. */
static json_t *rekey_json(const cairn_rekey_info_t *r, int pending) {
  char key[2 * CAIRN_KEY_BYTES + 1];
  if (!pending)
    return json_null();
  return json_pack("{s:s, s:s}", "stage", rekey_stage(r->stage), "new_key",
                   cairn_hex(r->new_key, CAIRN_KEY_BYTES, key));
}

int cmd_status(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_sync_status_t st;
  char key[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX] = "never";
  int rc = cli_args_parse(cli, argc, argv, json_opt, 0, 0, &a);
  if (rc != 0)
    return rc;
  int json = cli_flag(&a, "json");
  cli_args_free(&a);
  if ((rc = cli_open(cli)) != 0)
    return rc;
  if ((rc = cairn_sync_status(cli->store, &st)) != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot read the sync status");
  cairn_rekey_info_t rk;
  int pending = cairn_rekey_status(cli->store, &rk);
  if (pending < 0)
    return cli_fail_rc(cli, pending, NULL, "cannot read this store's key");
  if (st.last_sync_ms != 0)
    cli_time(st.last_sync_ms << 16, when);
  if (st.has_remote)
    cairn_hex(st.relay_key, CAIRN_KEY_BYTES, key);
  if (!json) {
    printf("relay\t%s\nrelay_key\t%s\nlast_sync\t%s\nunacknowledged\t%llu\n",
           st.has_remote ? st.remote : "none", st.has_remote ? key : "none", when,
           (unsigned long long)st.unacknowledged);
    if (pending)
      printf("rekey\t%s\t%s\n", rekey_stage(rk.stage),
             cairn_hex(rk.new_key, CAIRN_KEY_BYTES, key));
    return 0;
  }
  json_t *o = json_object();
  if (o == NULL ||
      json_object_set_new(o, "relay", st.has_remote ? json_string(st.remote) : json_null()) != 0 ||
      json_object_set_new(o, "relay_key", st.has_remote ? json_string(key) : json_null()) != 0 ||
      json_object_set_new(o, "last_sync", st.last_sync_ms ? json_string(when) : json_null()) !=
          0 ||
      json_object_set_new(o, "unacknowledged", json_integer((json_int_t)st.unacknowledged)) !=
          0 ||
      json_object_set_new(o, "rekey", rekey_json(&rk, pending)) != 0) {
    json_decref(o);
    return cli_fail(cli, "out of memory");
  }
  return cli_print_json(cli, o);
}

/* ---- join ---- */

static const char *const join_opts[] = {"timeout=", NULL};

int cmd_join(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err;
  uint8_t net[CAIRN_KEY_BYTES];
  char hex[2 * CAIRN_KEY_BYTES + 1];
  unsigned long timeout;
  int rc = cli_args_parse(cli, argc, argv, join_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  if ((rc = cli_opt_number(cli, &a, "timeout", 1, 86400, 60, &timeout)) == 0 &&
      (rc = cli_open(cli)) == 0) {
    if (cairn_join(cli->store, a.pos[0], (unsigned)(timeout * 1000), net, &err) != 0)
      rc = cli_fail(cli, "cannot join: %s", err.msg);
    else
      printf("%s\n", cairn_hex(net, CAIRN_KEY_BYTES, hex));
  }
  cli_args_free(&a);
  return rc;
}
