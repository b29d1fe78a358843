/*
 * ui.c — `cairn ui`: serve this store's web app and JSON API (client/web/web.h,
 * docs/http.md) until SIGINT or SIGTERM. The signals are blocked before the
 * server's thread starts, so that thread inherits the mask and this one takes
 * them with sigwait; the store is used by the server's thread only meanwhile.
 * The app's "Sync now" runs `cairn --store DIR sync` (this program, found by
 * /proc/self/exe) as a child process, so that the server never waits for a
 * relay.
 */
#include <signal.h>
#include <stdlib.h>

#include "cli.h"
#include "web.h"

static const char *const ui_opts[] = {"listen=", NULL};

int cmd_ui(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_web_opts_t opts = {NULL, NULL, 0, NULL};
  cairn_web_t *w = NULL;
  cairn_error_t err = {0, ""};
  sigset_t set, old;
  int rc = cli_args_parse(cli, argc, argv, ui_opts, 0, 0, &a), sig = 0;
  if (rc != 0)
    return rc;
  opts.listen = cli_opt(&a, "listen");
  opts.store_dir = cli->store_dir;
  /* the app's Sync now: this same program, on this store, in a child process */
  const char *const sync_argv[] = {"/proc/self/exe", "--store", cli->store_dir, "sync",
                                   "--timeout", "30", NULL};
  opts.sync_argv = sync_argv;
  if ((rc = cli_open(cli)) != 0)
    goto done;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0) {
    rc = cli_fail(cli, "cannot set up the signals");
    goto done;
  }
  if ((rc = cairn_web_start(cli->store, &opts, &w, &err)) != 0) {
    rc = rc == CAIRN_EINVAL ? cli_usage(cli, "%s", err.msg) : cli_fail_rc(cli, rc, &err, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    goto done;
  }
  printf("%s\n", cairn_web_url(w));
  fflush(stdout);
  fprintf(stderr, "cairn: serving this store on %s until Ctrl-C; open the URL above (its "
                  "token is also in %s/%s)\n",
          cairn_web_address(w), cli->store_dir, CAIRN_WEB_TOKEN_FILE);
  while (sigwait(&set, &sig) != 0)
    ;
  cairn_web_stop(w);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
done:
  cli_args_free(&a);
  return rc;
}
