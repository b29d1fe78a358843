/*
 * main.c — `cairnd`, the relay: init, host, serve, stats (docs/cli.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairnd.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: cairnd COMMAND DIR [ARGS...]\n"
    "\n"
    "commands:\n"
    "  init DIR                         Create a relay: its key and directories; print the key.\n"
    "  host DIR NETWORK_ID              Let this relay host a network (before or after its genesis).\n"
    "  serve DIR --listen HOST:PORT [options]\n"
    "                                   Run until SIGINT or SIGTERM, then exit 0.\n"
    "  stats DIR                        Print the counters of the running relay (JSON).\n"
    "\n"
    "serve options (defaults in brackets):\n"
    "  --max-conns N             connections held at once [10000]\n"
    "  --max-frame BYTES         largest message [4194304]\n"
    "  --max-entry BYTES         largest entry [1048576]\n"
    "  --max-batch N             entries per message sent [4096]\n"
    "  --write-queue BYTES       bytes queued to one connection before it is paused [4194304]\n"
    "  --read-queue BYTES        a client's entries read and not yet stored before the relay\n"
    "                            stops reading it [16777216]\n"
    "  --handshake-timeout SECS  from connect to hello [10]\n"
    "  --idle-timeout SECS       without a byte from the peer [300]\n"
    "  --log-level LEVEL         debug, info, warn or error [info]\n";

static int usage(const char *why) {
  if (why != NULL)
    fprintf(stderr, "cairnd: %s\n", why);
  fputs(usage_text, stderr);
  return EXIT_USAGE;
}

static int failed(const cairn_error_t *err) {
  fprintf(stderr, "cairnd: %s\n", err->msg);
  return EXIT_FAIL;
}

/* A number in [min, max]; 0 on success. */
static int parse_num(const char *s, uint64_t min, uint64_t max, uint64_t *out) {
  char *end;
  errno = 0;
  if (s == NULL || *s < '0' || *s > '9')
    return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max)
    return -1;
  *out = v;
  return 0;
}

typedef struct num_opt {
  const char *name;
  uint64_t min, max, scale;
} num_opt_t;

static const num_opt_t num_opts[] = {
    {"--max-conns", 1, 1000000, 1},
    {"--max-frame", 4096, CAIRN_FRAME_MAX_LIMIT, 1},
    {"--max-entry", 1024, CAIRN_FRAME_MAX_LIMIT, 1},
    {"--max-batch", 1, 65536, 1},
    {"--write-queue", 65536, (uint64_t)1 << 34, 1},
    {"--read-queue", 65536, (uint64_t)1 << 34, 1},
    {"--handshake-timeout", 1, 3600, 1000},
    {"--idle-timeout", 1, 86400 * 7, 1000},
};

static void set_num(relay_opts_t *o, size_t which, uint64_t v) {
  switch (which) {
  case 0: o->max_conns = (unsigned)v; break;
  case 1: o->max_frame = (size_t)v; break;
  case 2: o->max_entry = (size_t)v; break;
  case 3: o->max_batch = (unsigned)v; break;
  case 4: o->write_queue = (size_t)v; break;
  case 5: o->read_queue = (size_t)v; break;
  case 6: o->handshake_ms = v; break;
  case 7: o->idle_ms = v; break;
  }
}

static int cmd_serve(int argc, char **argv) {
  relay_opts_t o = {NULL, 10000, CAIRN_FRAME_MAX_DEFAULT, CAIRN_ENTRY_MAX_DEFAULT, 4096,
                    4u << 20, 16u << 20, 10000, 300000};
  cairn_error_t err;
  log_level_t level;
  for (int i = 3; i < argc; i += 2) {
    const char *name = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
    size_t k;
    uint64_t v;
    if (val == NULL)
      return usage("an option needs a value");
    if (strcmp(name, "--listen") == 0) {
      o.listen = val;
      continue;
    }
    if (strcmp(name, "--log-level") == 0) {
      if (relay_log_parse(val, &level) != 0)
        return usage("--log-level is debug, info, warn or error");
      relay_log_level(level);
      continue;
    }
    for (k = 0; k < sizeof num_opts / sizeof *num_opts; k++)
      if (strcmp(name, num_opts[k].name) == 0)
        break;
    if (k == sizeof num_opts / sizeof *num_opts) {
      fprintf(stderr, "cairnd: unknown option %s\n", name);
      return usage(NULL);
    }
    if (parse_num(val, num_opts[k].min, num_opts[k].max, &v) != 0) {
      fprintf(stderr, "cairnd: %s takes a number from %llu to %llu\n", name,
              (unsigned long long)num_opts[k].min, (unsigned long long)num_opts[k].max);
      return EXIT_USAGE;
    }
    set_num(&o, k, v * num_opts[k].scale);
  }
  if (o.listen == NULL)
    return usage("serve needs --listen HOST:PORT");
  if (o.max_entry + 64 > o.max_frame)
    return usage("--max-entry must be smaller than --max-frame");
  return relay_serve(argv[2], &o, &err) == 0 ? 0 : failed(&err);
}

int main(int argc, char **argv) {
  cairn_error_t err;
  uint8_t key[CAIRN_KEY_BYTES];
  char hex[2 * CAIRN_KEY_BYTES + 1];
  if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
    fputs(usage_text, stdout);
    return 0;
  }
  if (argc < 3)
    return usage(argc < 2 ? "a command is needed" : "a relay directory is needed");
  for (int i = 2; i < argc; i++)
    if (strcmp(argv[i], "--help") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
  if (cairn_core_init() != 0) {
    fprintf(stderr, "cairnd: cannot initialise libsodium\n");
    return EXIT_FAIL;
  }
  const char *cmd = argv[1], *dir = argv[2];
  if (strcmp(cmd, "init") == 0) {
    if (argc != 3)
      return usage("init takes only DIR");
    if (relay_init_dir(dir, key, &err) != 0)
      return failed(&err);
    printf("%s\n", cairn_hex(key, sizeof key, hex));
    return 0;
  }
  if (strcmp(cmd, "host") == 0) {
    if (argc != 4)
      return usage("host takes DIR NETWORK_ID");
    if (strlen(argv[3]) != 2 * CAIRN_KEY_BYTES || cairn_unhex(argv[3], key, sizeof key) != 0)
      return usage("NETWORK_ID is 64 hex characters (`cairn network create` prints it)");
    return relay_host(dir, key, &err) == 0 ? 0 : failed(&err);
  }
  if (strcmp(cmd, "serve") == 0)
    return cmd_serve(argc, argv);
  if (strcmp(cmd, "stats") == 0) {
    if (argc != 3)
      return usage("stats takes only DIR");
    return relay_print_stats(dir, &err) == 0 ? 0 : failed(&err);
  }
  fprintf(stderr, "cairnd: unknown command '%s'\n", cmd);
  return usage(NULL);
}
