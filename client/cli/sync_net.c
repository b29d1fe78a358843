/*
 * sync_net.c — sync with a relay (CLI.md, "Sync"): `remote` keeps the relay's
 * address and key, `sync` runs one sync (client/lib/sync.c), `status` says where
 * this device stands.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bytes.h"
#include "cli.h"
#include "sync.h"

#define SETTING_LAST_SYNC "last_sync"
#define SETTING_ACKED "acked_seq"

static const char *const remote_opts[] = {"key=", NULL};

int cmd_remote(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  uint8_t key[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES];
  char id[2 * CAIRN_KEY_BYTES + 1];
  cairn_error_t err;
  cairn_role_t role = CAIRN_ROLE_NONE;
  int rc = cli_args_parse(cli, argc, argv, remote_opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  if (cli_opt(&a, "key") == NULL)
    rc = cli_usage(cli, "--key RELAYKEY is required (`cairnd init` printed it)");
  else if ((rc = cli_parse_key(cli, cli_opt(&a, "key"), key)) == 0 && (rc = cli_open(cli)) == 0 &&
           cairn_sync_set_remote(cli->store, a.pos[0], key, &err) != 0)
    rc = cli_fail(cli, "%s", err.msg);
  if (rc == 0 && cairn_store_network(cli->store, net) == 0 &&
      cairn_store_role(cli->store, cairn_store_key(cli->store), &role) == 0 &&
      (role == CAIRN_ROLE_OWNER || role == CAIRN_ROLE_ADMIN)) {
    cairn_role_t now = CAIRN_ROLE_NONE;
    if (cairn_store_role(cli->store, key, &now) == 0 && now != CAIRN_ROLE_RELAY)
      rc = cli_write_member(cli, cairn_hex(key, CAIRN_KEY_BYTES, id), "relay", "relay");
  }
  cli_args_free(&a);
  return rc;
}

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Status only: a failure to keep it does not fail the sync. */
static void save_u64(cli_t *cli, const char *name, uint64_t v) {
  uint8_t b[8];
  cairn__put_be64(b, v);
  if (cairn_store_setting_set(cli->store, name, b, sizeof b) != 0)
    return;
}

static int load_u64(cli_t *cli, const char *name, uint64_t *v) {
  uint8_t b[8];
  size_t n;
  int rc = cairn_store_setting_get(cli->store, name, b, sizeof b, &n);
  if (rc == 0 && n == 8)
    *v = cairn__get_be64(b);
  return rc == 0 && n == 8 ? 0 : CAIRN_ENOENT;
}

static const char *const sync_opts[] = {"timeout=", NULL};

int cmd_sync(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err;
  cairn_sync_stats_t st;
  unsigned long timeout = 60;
  int rc = cli_args_parse(cli, argc, argv, sync_opts, 0, 0, &a);
  if (rc != 0)
    return rc;
  const char *t = cli_opt(&a, "timeout");
  if (t != NULL) {
    char *end;
    timeout = strtoul(t, &end, 10);
    if (*t < '0' || *t > '9' || *end != '\0' || timeout == 0 || timeout > 86400)
      rc = cli_usage(cli, "--timeout takes 1 to 86400 seconds");
  }
  cli_args_free(&a);
  if (rc != 0 || (rc = cli_open(cli)) != 0)
    return rc;
  rc = cairn_sync_once(cli->store, NULL, (unsigned)(timeout * 1000), &st, &err);
  if (rc != 0)
    return cli_fail(cli, "sync failed: %s", err.msg);
  save_u64(cli, SETTING_LAST_SYNC, wall_ms());
  save_u64(cli, SETTING_ACKED, st.acked_seq);
  printf("pushed %llu, pulled %llu, applied %llu, bytes sent %llu, received %llu\n",
         (unsigned long long)st.pushed, (unsigned long long)st.pulled,
         (unsigned long long)st.applied, (unsigned long long)st.bytes_sent,
         (unsigned long long)st.bytes_received);
  return 0;
}

static const char *const json_opt[] = {"json", NULL};

int cmd_status(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  char addr[256], key[2 * CAIRN_KEY_BYTES + 1], when[CLI_TIME_MAX] = "never";
  uint8_t rk[CAIRN_KEY_BYTES];
  uint64_t last = 0, acked = 0, head = 0;
  int rc = cli_args_parse(cli, argc, argv, json_opt, 0, 0, &a);
  if (rc != 0)
    return rc;
  int json = cli_flag(&a, "json");
  cli_args_free(&a);
  if ((rc = cli_open(cli)) != 0)
    return rc;
  bool has_remote = cairn_sync_remote(cli->store, addr, sizeof addr, rk) == 0;
  bool synced = load_u64(cli, SETTING_LAST_SYNC, &last) == 0;
  (void)load_u64(cli, SETTING_ACKED, &acked);
  if ((rc = cairn_store_head_seq(cli->store, cairn_store_key(cli->store), &head)) != 0)
    return cli_fail_rc(cli, rc, NULL, "cannot read this device's head");
  if (synced)
    cli_time(last << 16, when);
  uint64_t pending = head > acked ? head - acked : 0;
  if (!json) {
    printf("relay\t%s\nrelay_key\t%s\nlast_sync\t%s\nunacknowledged\t%llu\n",
           has_remote ? addr : "none", has_remote ? cairn_hex(rk, CAIRN_KEY_BYTES, key) : "none",
           when, (unsigned long long)pending);
    return 0;
  }
  json_t *o = json_object();
  if (o == NULL ||
      json_object_set_new(o, "relay", has_remote ? json_string(addr) : json_null()) != 0 ||
      json_object_set_new(o, "relay_key",
                          has_remote ? json_string(cairn_hex(rk, CAIRN_KEY_BYTES, key))
                                     : json_null()) != 0 ||
      json_object_set_new(o, "last_sync", synced ? json_string(when) : json_null()) != 0 ||
      json_object_set_new(o, "unacknowledged", json_integer((json_int_t)pending)) != 0) {
    json_decref(o);
    return cli_fail(cli, "out of memory");
  }
  return cli_print_json(cli, o);
}
