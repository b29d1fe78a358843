/*
 * storefill.c — write many local entries into a store quickly, for the fault
 * tests (tests/integration/relay_faults.sh): `cairn put` costs a process per
 * entry.
 *
 *   storefill STORE N PREFIX    N entries, each one put of note PREFIX-<i>
 *
 * Commits are not fsync'd (no_sync): the tests crash the relay and the syncing
 * clients, never the machine, and the store stays consistent either way.
 * Prints the store's head seq for its own key when done.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn.h"

int main(int argc, char **argv) {
  cairn_store_opts_t o = {0};
  cairn_error_t err;
  cairn_store_t *s;
  msgpack_sbuffer v;
  msgpack_packer pk;
  char id[128], text[128];
  uint64_t seq = 0;
  int rc = 0;
  if (argc != 4) {
    fprintf(stderr, "usage: storefill STORE N PREFIX\n");
    return 2;
  }
  long n = strtol(argv[2], NULL, 10);
  if (n < 1 || n > 1000000 || cairn_core_init() != 0) {
    fprintf(stderr, "storefill: N is 1 to 1000000\n");
    return 2;
  }
  o.no_sync = 1;
  if (cairn_open(argv[1], &o, &s, &err) != 0) {
    fprintf(stderr, "storefill: %s\n", err.msg);
    return 1;
  }
  msgpack_sbuffer_init(&v);
  msgpack_packer_init(&pk, &v, msgpack_sbuffer_write);
  for (long i = 1; rc == 0 && i <= n; i++) {
    cairn_change_t *c;
    snprintf(id, sizeof id, "%s-%ld", argv[3], i);
    int len = snprintf(text, sizeof text, "entry %ld of %s, a few words of text", i, argv[3]);
    v.size = 0;
    if ((rc = msgpack_pack_str_with_body(&pk, text, (size_t)len)) != 0)
      break;
    if ((rc = cairn_change_begin(s, &c)) != 0)
      break;
    if ((rc = cairn_change_put(c, "note", id, "text", (const uint8_t *)v.data, v.size, 0)) != 0) {
      cairn_change_abort(c);
      break;
    }
    if ((rc = cairn_change_commit(c, &seq, &err)) != 0)
      fprintf(stderr, "storefill: %s\n", err.msg);
  }
  msgpack_sbuffer_destroy(&v);
  cairn_close(s);
  if (rc != 0) {
    fprintf(stderr, "storefill: failed: %s\n", cairn_strerror(rc));
    return 1;
  }
  printf("%llu\n", (unsigned long long)seq);
  return 0;
}
