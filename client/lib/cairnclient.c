/* cairnclient.c — the client library's version string. */
#include "values.h"

const char *cairn_client_version(void);

const char *cairn_client_version(void) {
  return "0.1.0";
}
