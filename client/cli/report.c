/*
 * report.c — how the command line reports failures: exactly one line on
 * stderr, `cairn: <what went wrong and what to do>`, and the exit code of docs/cli.md.
 * Messages can quote user input and text from other people's entries, so
 * control characters are replaced before printing: the one line stays one line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define LINE_MAX_BYTES 1024

/* Replace control characters (newlines, tabs, escapes) by spaces. */
static void one_line(char *s) {
  for (; *s != '\0'; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      *s = ' ';
}

static void print_line(const char *prefix, const char *msg, const char *suffix) {
  char line[LINE_MAX_BYTES];
  snprintf(line, sizeof line, "%s%s%s", prefix, msg, suffix);
  one_line(line);
  fflush(stdout);
  fprintf(stderr, "%s\n", line);
  fflush(stderr);
}

static int vfail(int code, const char *fmt, va_list ap) {
  char msg[LINE_MAX_BYTES];
  vsnprintf(msg, sizeof msg, fmt, ap);
  print_line("cairn: ", msg, "");
  return code;
}

int cli_fail(cli_t *cli, const char *fmt, ...) {
  va_list ap;
  int rc;
  (void)cli;
  va_start(ap, fmt);
  rc = vfail(CLI_FAIL, fmt, ap);
  va_end(ap);
  return rc;
}

int cli_fail_code(cli_t *cli, int code, const char *fmt, ...) {
  va_list ap;
  int rc;
  (void)cli;
  va_start(ap, fmt);
  rc = vfail(code, fmt, ap);
  va_end(ap);
  return rc;
}

void cli_warn(cli_t *cli, const char *fmt, ...) {
  char msg[LINE_MAX_BYTES];
  va_list ap;
  (void)cli;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  print_line("cairn: warning: ", msg, "");
}

/* What to do about a failure, when the library's message does not say. */
static const char *hint(int rc) {
  switch (rc) {
  case CAIRN_ENOTMEMBER:
    return "; ask an admin to run `cairn grant KEY --role editor` with this device's "
           "`cairn id`, then apply a bundle from them";
  case CAIRN_EFORBIDDEN:
    return "; ask an owner or admin to make this change or to grant a role that may";
  case CAIRN_EBUSY:
    return "; another process holds the store, try again when it is done";
  case CAIRN_ENOSPC:
    return "; free some disk space and try again";
  case CAIRN_ECORRUPT:
  case CAIRN_EVERSION:
    return "; restore the store from a backup or make a new one with `cairn init`";
  case CAIRN_ENOMEM:
    return "; close other programs and try again";
  case CAIRN_EREADONLY:
    return "; this command writes: copy the store to a writable disk first";
  default:
    return "";
  }
}

int cli_fail_rc(cli_t *cli, int rc, const cairn_error_t *err, const char *what) {
  char msg[LINE_MAX_BYTES];
  (void)cli;
  if (err != NULL && err->code != 0 && err->msg[0] != '\0') {
    /* a schema error names the record, the field and the value already */
    if (what != NULL && what[0] != '\0' && rc != CAIRN_ESCHEMA)
      snprintf(msg, sizeof msg, "%s: %s", what, err->msg);
    else
      snprintf(msg, sizeof msg, "%s", err->msg);
  } else {
    snprintf(msg, sizeof msg, "%s: %s", what != NULL ? what : "failed", cairn_strerror(rc));
  }
  print_line("cairn: ", msg, strstr(msg, "run ") != NULL ? "" : hint(rc));
  return CLI_FAIL;
}

int cli_usage(cli_t *cli, const char *fmt, ...) {
  char msg[LINE_MAX_BYTES], usage[LINE_MAX_BYTES];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (cli != NULL && cli->cmd != NULL)
    snprintf(usage, sizeof usage, "; usage: cairn %s%s%s", cli->cmd->name,
             cli->cmd->usage[0] ? " " : "", cli->cmd->usage);
  else
    snprintf(usage, sizeof usage, "; usage: cairn [--store DIR] COMMAND ... (see cairn --help)");
  print_line("cairn: ", msg, usage);
  return CLI_USAGE;
}
