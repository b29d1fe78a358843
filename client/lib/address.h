/*
 * address.h — inside client/lib: a relay's address, HOST:PORT, as `cairn remote`
 * keeps it and sync connects to it (address.c). HOST is a name (resolved with
 * getaddrinfo when sync starts), an IPv4 address, or an IPv6 address in
 * brackets ([::1]:7070; a bare IPv6 address before the last colon is read too).
 */
#ifndef CAIRN_ADDRESS_H
#define CAIRN_ADDRESS_H

#include <stddef.h>
#include <sys/socket.h>

#include "cairn.h"

/* Split addr into host (cap bytes) and port 1-65535: 0 or CAIRN_EINVAL with a
 * message saying what the form is. */
int cairn__addr_split(const char *addr, char *host, size_t cap, int *port, cairn_error_t *err);

/* Resolve addr to a socket address (the first of the name's addresses):
 * 0, CAIRN_EINVAL (the form), CAIRN_ENOENT (the name does not resolve). */
int cairn__addr_resolve(const char *addr, struct sockaddr_storage *sa, cairn_error_t *err);

#endif
