/*
 * address.c — a relay's address: its form and its resolution (address.h). A
 * name is looked up with getaddrinfo and one of its addresses is used, IPv4
 * first; trying each in turn is not done yet.
 */
#include "address.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

int cairn__addr_split(const char *addr, char *host, size_t cap, int *port, cairn_error_t *err) {
  const char *colon = strrchr(addr, ':'), *h = addr, *he;
  char *end;
  if (colon == NULL || colon[1] == '\0')
    goto bad;
  he = colon;
  if (addr[0] == '[') { /* [IPv6]:PORT */
    h = addr + 1;
    he = strchr(h, ']');
    if (he == NULL || he + 1 != colon)
      goto bad;
  }
  if (he == h || (size_t)(he - h) >= cap)
    goto bad;
  memcpy(host, h, (size_t)(he - h));
  host[he - h] = '\0';
  long p = strtol(colon + 1, &end, 10);
  if (*end != '\0' || p <= 0 || p > 65535 || colon[1] == '+' || colon[1] == '-')
    goto bad;
  *port = (int)p;
  return 0;
bad:
  return cairn__error(err, CAIRN_EINVAL,
                      "the relay address is HOST:PORT (a name, an IPv4 address, or an IPv6 "
                      "address in brackets, and a port 1-65535), not '%s'",
                      addr);
}

int cairn__addr_resolve(const char *addr, struct sockaddr_storage *sa, cairn_error_t *err) {
  char host[CAIRN_ADDR_MAX], service[8];
  struct addrinfo hints, *res = NULL;
  int port = 0, rc = cairn__addr_split(addr, host, sizeof host, &port, err);
  if (rc != 0)
    return rc;
  memset(sa, 0, sizeof *sa);
  if (uv_ip4_addr(host, port, (struct sockaddr_in *)sa) == 0 ||
      uv_ip6_addr(host, port, (struct sockaddr_in6 *)sa) == 0)
    return 0;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(service, sizeof service, "%d", port);
  if ((rc = getaddrinfo(host, service, &hints, &res)) != 0 || res == NULL)
    return cairn__error(err, CAIRN_ENOENT,
                        "the relay's name %s does not resolve (%s): check the name, or this "
                        "device's network",
                        host, rc != 0 ? gai_strerror(rc) : "no address");
  /* one address is tried: an IPv4 one when the name has any, as most relays
   * listen on IPv4 (a name like localhost often lists ::1 first) */
  const struct addrinfo *pick = res;
  for (const struct addrinfo *a = res; a != NULL; a = a->ai_next)
    if (a->ai_family == AF_INET) {
      pick = a;
      break;
    }
  memcpy(sa, pick->ai_addr, pick->ai_addrlen);
  freeaddrinfo(res);
  return 0;
}

int cairn_sync_check_remote(const char *addr, cairn_error_t *err) {
  struct sockaddr_storage sa;
  if (addr == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no relay address");
  return cairn__addr_resolve(addr, &sa, err);
}
