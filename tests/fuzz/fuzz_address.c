/*
 * fuzz_address.c — fuzz target for the relay address parser (client/lib/address.c),
 * the HOST:PORT that `cairn remote` takes from the command line and an invite
 * code carries.
 *
 * Invariants: cairn__addr_split returns 0 or CAIRN_EINVAL with a message; on
 * success the host is non-empty, NUL-terminated within its buffer, holds no
 * ']' unless the address was bracketed, and the port is 1-65535 and is the
 * digits after the last ':'. Only the form is checked: nothing is resolved. A
 * broken invariant aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "address.h"
#include "fuzzcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char addr[CAIRN_ADDR_MAX + 8], host[CAIRN_ADDR_MAX];
  cairn_error_t err = {0, ""};
  int port = 0;
  if (size >= sizeof addr)
    return 0;
  memcpy(addr, data, size);
  addr[size] = '\0';
  int rc = cairn__addr_split(addr, host, sizeof host, &port, &err);
  if (rc != 0) {
    CHECK(rc == CAIRN_EINVAL && err.code == CAIRN_EINVAL && err.msg[0] != '\0');
    return 0;
  }
  size_t hl = strnlen(host, sizeof host);
  CHECK(hl > 0 && hl < sizeof host);
  CHECK(port >= 1 && port <= 65535);
  const char *colon = strrchr(addr, ':');
  CHECK(colon != NULL && strtol(colon + 1, NULL, 10) == port);
  CHECK(addr[0] == '[' || strchr(host, ']') == NULL || strchr(addr, ']') != NULL);
  return 0;
}
