/*
 * relay_sim.c — the relay's connections over a test's transport (relay_sim.h):
 * a conn_io_t that hands bytes to the caller, and the calls that feed it.
 */
#include "relay_sim.h"

#ifdef CAIRN_TEST_HOOKS

#include <stdlib.h>
#include <string.h>

static int sim_write(conn_t *c, char *data, size_t len) {
  relay_sim_io_t *io = conn_io_data(c);
  return io->write(io, data, len);
}

static void sim_read_stop(conn_t *c) {
  (void)c; /* relay_sim_input drops what arrives once the connection is closing */
}

static void sim_read_start(conn_t *c) {
  (void)c; /* the simulation delivers whenever it likes: a pause holds nothing back */
}

static void sim_close(conn_t *c) {
  relay_sim_io_t *io = conn_io_data(c);
  io->close(io);
}

static void sim_timer(conn_t *c, uint64_t ms) {
  (void)c; /* no timeouts: the simulation breaks connections itself */
  (void)ms;
}

static const conn_io_t sim_io = {sim_write, sim_read_stop, sim_read_start, sim_close,
                                 sim_timer};

int relay_sim_open(const char *dir, const relay_opts_t *opts, relay_t **out,
                   cairn_error_t *err) {
  relay_t *r = calloc(1, sizeof *r);
  int rc;
  *out = NULL;
  if (r == NULL)
    return cairn__error(err, CAIRN_ENOMEM, "out of memory");
  if ((rc = relay_open(r, dir, opts, err)) != 0) {
    relay_close(r);
    free(r);
    return rc;
  }
  *out = r;
  return 0;
}

void relay_sim_close(relay_t *r) {
  if (r == NULL)
    return;
  commit_discard(r);
  relay_close(r);
  free(r);
}

conn_t *relay_sim_connect(relay_t *r, relay_sim_io_t *io) {
  return conn_new(r, &sim_io, io);
}

void relay_sim_input(conn_t *c, const uint8_t *data, size_t len) {
  if (!conn_closing(c))
    conn_input(c, data, len);
}

void relay_sim_written(conn_t *c, size_t len, int status) {
  conn_written(c, len, status);
}

void relay_sim_drop(conn_t *c) {
  conn_broken(c);
}

void relay_sim_release(conn_t *c) {
  conn_unref(c);
  conn_unref(c);
}

int relay_sim_commit(relay_t *r) {
  if (!r->commit_armed)
    return 0;
  r->commit_armed = false;
  commit_run(r);
  return 1;
}

#endif
