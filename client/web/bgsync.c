/*
 * bgsync.c — a sync in the background for `POST /api/sync?background=true`: the
 * command the caller gave (cairn_web_opts_t.sync_argv: `cairn --store DIR sync`)
 * run as a child process, which opens the store on its own (LMDB lets another
 * process write it), so the server's one thread never waits for a relay. Its
 * output (stdout and stderr) comes back on a pipe read without blocking; the
 * child is reaped when the status is next asked for, and stopped with the
 * server.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "web_internal.h"

extern char **environ;

void web_bgsync_init(web_bgsync_t *b, const char *const *argv) {
  memset(b, 0, sizeof *b);
  b->argv = argv;
  b->fd = -1;
}

/* Spawn argv with its output on a pipe (read end non-blocking, not inherited)
 * and no signal blocked (the server's threads block SIGINT and SIGTERM). */
static int spawn(web_bgsync_t *b) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none;
  int p[2], rc;
  if (pipe(p) != 0)
    return errno;
  /* no other thread of this process spawns anything: no race to close */
  fcntl(p[0], F_SETFD, FD_CLOEXEC);
  fcntl(p[1], F_SETFD, FD_CLOEXEC);
  sigemptyset(&none);
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, p[1], 2);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
  rc = posix_spawn(&b->pid, b->argv[0], &fa, &at, (char *const *)b->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(p[1]);
  if (rc != 0) {
    close(p[0]);
    b->pid = 0;
    return rc;
  }
  fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
  b->fd = p[0];
  return 0;
}

int web_bgsync_start(web_bgsync_t *b, cairn_error_t *err) {
  int e;
  web_bgsync_poll(b);
  if (b->argv == NULL) {
    snprintf(err->msg, sizeof err->msg, "this server cannot sync in the background: "
                                        "use POST /api/sync without background=true");
    return err->code = CAIRN_EINVAL;
  }
  if (b->pid != 0) {
    snprintf(err->msg, sizeof err->msg, "a sync is already running; its result will show "
                                        "in /api/status");
    return err->code = CAIRN_EBUSY;
  }
  if ((e = spawn(b)) != 0) {
    snprintf(err->msg, sizeof err->msg, "cannot start the sync: %s", strerror(e));
    return err->code = CAIRN_EIO;
  }
  /* only now: a sync that could not start leaves the last one's result whole */
  b->out_len = 0;
  b->started_ms = cairn_now_ms();
  b->done = 0;
  return 0;
}

/* Read what the child wrote so far (what does not fit is dropped: the last
 * line is what counts, and a sync writes one or two). */
static void drain(web_bgsync_t *b) {
  char buf[512];
  ssize_t n;
  while (b->fd >= 0 && (n = read(b->fd, buf, sizeof buf)) > 0) {
    size_t room = sizeof b->out - 1 - b->out_len;
    if ((size_t)n > room) { /* keep the latest bytes */
      size_t drop = (size_t)n - room;
      if (drop > b->out_len)
        drop = b->out_len;
      memmove(b->out, b->out + drop, b->out_len - drop);
      b->out_len -= drop;
      room += drop;
    }
    memcpy(b->out + b->out_len, buf, (size_t)n < room ? (size_t)n : room);
    b->out_len += (size_t)n < room ? (size_t)n : room;
  }
  b->out[b->out_len] = '\0';
}

/* The child's last line, without the CLI's "cairn: " prefix, as its result. */
static void last_line(web_bgsync_t *b) {
  char *end = b->out + b->out_len, *start;
  while (end > b->out && (end[-1] == '\n' || end[-1] == '\r'))
    end--;
  *end = '\0';
  start = end;
  while (start > b->out && start[-1] != '\n')
    start--;
  if (strncmp(start, "cairn: ", 7) == 0)
    start += 7;
  snprintf(b->message, sizeof b->message, "%s", start);
}

void web_bgsync_poll(web_bgsync_t *b) {
  int status;
  pid_t got;
  if (b->pid == 0)
    return;
  drain(b);
  got = waitpid(b->pid, &status, WNOHANG);
  if (got == 0 || (got < 0 && errno == EINTR))
    return;
  drain(b);
  close(b->fd);
  b->fd = -1;
  b->pid = 0;
  b->done = 1;
  b->ok = got > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  b->finished_ms = cairn_now_ms();
  last_line(b);
  if (b->message[0] == '\0')
    snprintf(b->message, sizeof b->message, "%s", b->ok ? "done" : "the sync failed");
}

/* Text as JSON: the child's output should be UTF-8, but nothing checks it. */
static json_t *text_json(const char *s) {
  json_t *j = json_string(s);
  return j != NULL ? j : json_string("(the sync's output is not UTF-8)");
}

json_t *web_bgsync_json(web_bgsync_t *b) {
  web_bgsync_poll(b);
  return json_pack("{s:b, s:o, s:o, s:o, s:o}", "running", b->pid != 0, "started_ms",
                   b->started_ms ? json_integer((json_int_t)b->started_ms) : json_null(),
                   "finished_ms",
                   b->done ? json_integer((json_int_t)b->finished_ms) : json_null(), "ok",
                   b->done ? json_boolean(b->ok) : json_null(), "message",
                   b->done ? text_json(b->message) : json_null());
}

void web_bgsync_stop(web_bgsync_t *b) {
  if (b->pid != 0) {
    /* SIGTERM, 5 s to end (a sync stops at once), then SIGKILL */
    pid_t got = 0;
    kill(b->pid, SIGTERM);
    for (int i = 0; i < 500 && (got = waitpid(b->pid, NULL, WNOHANG)) == 0; i++)
      usleep(10000);
    if (got == 0 && kill(b->pid, SIGKILL) == 0)
      while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    b->pid = 0;
  }
  if (b->fd >= 0)
    close(b->fd);
  b->fd = -1;
}
