/*
 * error.c — text for the codes of CAIRN_ERR_MAP and the detailed error record.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

const char *cairn_strerror(int code) {
  switch (code) {
  case CAIRN_OK:
    return "success";
#define CAIRN_ERR_TEXT(name, num, text)                                             \
  case CAIRN_##name:                                                                \
    return text;
    CAIRN_ERR_MAP(CAIRN_ERR_TEXT)
#undef CAIRN_ERR_TEXT
  default:
    return "unknown error";
  }
}

const char *cairn_err_name(int code) {
  switch (code) {
  case CAIRN_OK:
    return "CAIRN_OK";
#define CAIRN_ERR_NAME(name, num, text)                                             \
  case CAIRN_##name:                                                                \
    return "CAIRN_" #name;
    CAIRN_ERR_MAP(CAIRN_ERR_NAME)
#undef CAIRN_ERR_NAME
  default:
    return "CAIRN_EUNKNOWN";
  }
}

int cairn__error(cairn_error_t *err, int code, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}

void cairn__error_clear(cairn_error_t *err) {
  if (err != NULL) {
    err->code = 0;
    err->msg[0] = '\0';
  }
}
