/*
 * cairn_report_test.c — helpers for the tests of the reports (see
 * cairn_report_test.h). Plain C: no cmocka here.
 */
#define CAIRN_TEST_NO_CMOCKA
#include "cairn_report_test.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOCK_ENV "CAIRN_TEST_CLOCK_OFFSET_MS"

int cairn_test_clock_at(uint64_t ms) {
#ifdef CAIRN_TEST_HOOKS
  char off[32];
  unsetenv(CLOCK_ENV);
  snprintf(off, sizeof off, "%lld", (long long)ms - (long long)cairn_now_ms());
  return setenv(CLOCK_ENV, off, 1) == 0 ? 0 : CAIRN_ENOMEM;
#else
  (void)ms;
  return CAIRN_EINVAL;
#endif
}

void cairn_test_clock_reset(void) {
  unsetenv(CLOCK_ENV);
}

int cairn_test_schema_store(const char *name, const char *title, cairn_store_t **out,
                            char **dir, cairn_error_t *err) {
  uint8_t net[CAIRN_KEY_BYTES];
  int rc = cairn_test_store(name, out, dir);
  if (rc == 0)
    rc = cairn_store_network_create(*out, title, net, err);
  if (rc == 0)
    rc = cairn_schema_apply(*out, cairn_schema_default(), NULL, err);
  if (rc != 0 && *out != NULL) {
    cairn_close(*out);
    cairn_test_rmrf(*dir);
    free(*dir);
    *out = NULL;
    *dir = NULL;
  }
  return rc;
}

int cairn_test_put_texts(cairn_store_t *s, const char *type, const char *id, cairn_error_t *err,
                         ...) {
  cairn_change_t *c;
  va_list ap;
  const char *arg;
  char field[CAIRN_FIELD_MAX + 1];
  int rc = cairn_change_begin(s, &c);
  if (rc != 0)
    return rc;
  va_start(ap, err);
  while (rc == 0 && (arg = va_arg(ap, const char *)) != NULL) {
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq - arg > CAIRN_FIELD_MAX) {
      rc = CAIRN_EINVAL;
      break;
    }
    snprintf(field, sizeof field, "%.*s", (int)(eq - arg), arg);
    rc = cairn_change_put_text(c, type, id, field, eq + 1, 0, err);
  }
  va_end(ap);
  if (rc != 0) {
    cairn_change_abort(c);
    return rc;
  }
  return cairn_change_commit(c, NULL, err);
}

int cairn_test_render(const cairn_report_doc_t *doc, cairn_report_format_t fmt, char **out) {
  size_t len = 0;
  FILE *f;
  int rc;
  *out = NULL;
  if ((f = open_memstream(out, &len)) == NULL)
    return CAIRN_ENOMEM;
  rc = cairn_report_render(doc, fmt, f);
  if (fclose(f) != 0 && rc == 0)
    rc = CAIRN_EIO;
  if (rc != 0) {
    free(*out);
    *out = NULL;
  }
  return rc;
}
