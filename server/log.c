/*
 * log.c — one line per event on stderr: UTC time, level, message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cairnd.h"

static log_level_t min_level = LOG_INFO;
static const char *const names[] = {"debug", "info", "warn", "error"};

void relay_log_level(log_level_t level) {
  min_level = level;
}

int relay_log_parse(const char *s, log_level_t *out) {
  for (int i = 0; i < 4; i++)
    if (strcmp(s, names[i]) == 0) {
      *out = (log_level_t)i;
      return 0;
    }
  return CAIRN_EINVAL;
}

void relay_log(log_level_t level, const char *fmt, ...) {
  char when[32], line[1024];
  struct timespec ts;
  struct tm tm;
  va_list ap;
  if (level < min_level)
    return;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000, names[level], line);
}
