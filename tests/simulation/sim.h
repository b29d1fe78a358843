/*
 * sim.h — the deterministic simulation (docs/design.md, "Simulation").
 *
 * One process, one thread: N devices, each a real store with the real one-shot
 * sync (client/lib/sync_sim.h), and one relay running its real connection and
 * commit code (server/relay_sim.h), with a seeded scheduler in place of the
 * network and the clock. Every choice comes from the seed, the clock included
 * (clock.c), so a failing seed runs the same way again.
 */
#ifndef CAIRN_SIM_H
#define CAIRN_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "cairn.h"
#include "cairn_test.h"
#include "relay_sim.h"
#include "sync_sim.h"

#define SIM_DEVICES_MAX 8
#define SIM_PATH_MAX 512

/* Fault kinds; a run turns each on or off (sim_opts_t.faults). */
enum {
  FAULT_DROP = 1u << 0,      /* a connection breaks at a random point */
  FAULT_PARTITION = 1u << 1, /* a device cannot connect for a while */
  FAULT_CRASH = 1u << 2,     /* a device or the relay dies and starts again */
  FAULT_GARBLE = 1u << 3,    /* bytes duplicated or reordered inside a stream */
  FAULT_RESTORE = 1u << 4,   /* a device's store replaced by an old copy of it */
  FAULT_BUNDLE = 1u << 5,    /* entries carried between devices on a bundle */
  FAULT_CLOCK = 1u << 6,     /* a device's clock jumps by minutes to years */
  FAULT_MEMBERS = 1u << 7,   /* grants and revocations race with writes */
  FAULT_TWIN = 1u << 8,      /* a store copied to a second device, both writing */
};
/* The default run: every fault. */
#define FAULTS_DEFAULT                                                                    \
  (FAULT_DROP | FAULT_PARTITION | FAULT_CRASH | FAULT_GARBLE | FAULT_BUNDLE | FAULT_RESTORE |      \
   FAULT_CLOCK | FAULT_MEMBERS | FAULT_TWIN)

typedef struct sim_opts {
  uint64_t seed;
  unsigned devices; /* 0: chosen by the seed, 2 to 6 */
  unsigned steps;
  unsigned faults;
  const char *faults_arg; /* as given, to repeat it */
  bool verbose;
} sim_opts_t;

typedef struct sim sim_t;
typedef struct pipe pipe_t;

/* Bytes in flight one way. A chunk the relay wrote is completed (relay_sim_written)
 * once delivered or lost. */
typedef struct chunk {
  struct chunk *next;
  uint8_t *data;
  size_t len, off;
  bool from_relay;
} chunk_t;

typedef struct device {
  sim_t *sim;
  int id;
  char dir[SIM_PATH_MAX], backup[SIM_PATH_MAX];
  bool has_backup;
  uint64_t backup_step;
  cairn_store_t *s;
  cairn_sim_sync_t *link; /* a sync in progress */
  cairn_sim_io_t io;
  pipe_t *pipe;           /* the link's current connection */
  unsigned partitioned;   /* steps left cut off */
  int64_t clock_off;      /* ms this device's clock is off */
  int last_rc;
  cairn_sync_stats_t last_stats;
  bool revoked;           /* the owner revoked its key: it syncs no more */
  int wire;               /* the wire features its build offers (CAIRN_WIRE_*) */
} device_t;

/* One connection: the device's end (its link) and the relay's (conn). */
struct pipe {
  sim_t *sim;
  device_t *dev;  /* NULL once the device's link has let go of it */
  conn_t *conn;   /* NULL once released */
  relay_sim_io_t rio;
  chunk_t *up, *down; /* device -> relay, relay -> device */
  bool dev_closed, relay_closed;
  pipe_t *next;
};

/* An edit a device saved: its mark record must reach the relay. */
typedef struct edit {
  char id[32];
  int dev;
  uint64_t step;
  uint8_t key[CAIRN_KEY_BYTES]; /* the key it was signed with */
} edit_t;

/* The highest entry of each author the relay ever committed. */
typedef struct high {
  uint8_t author[CAIRN_KEY_BYTES];
  uint64_t seq;
  uint8_t hash[CAIRN_HASH_BYTES];
} high_t;

struct sim {
  sim_opts_t o;
  cairn_test_rng_t rng;
  char root[SIM_PATH_MAX], relay_dir[SIM_PATH_MAX];
  relay_opts_t ropts;
  relay_t *relay;
  uint8_t relay_pk[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES];
  int64_t relay_clock_off;
  int relay_wire;   /* the wire features the relay's build offers */
  device_t dev[SIM_DEVICES_MAX];
  unsigned ndev;
  pipe_t *pipes;
  edit_t *edits;
  size_t nedits, edits_cap;
  size_t set_aside; /* edits found only in a device's forked.entries */
  high_t *highs;
  size_t nhighs, highs_cap;
  uint64_t now_ms; /* the simulated time */
  uint64_t step, edit_no;
  char why[512];   /* what failed */
  bool heal;       /* faults are off */
};

/* The wire features a build offers (CAIRN_WIRE_*), picked by the seed apart from
 * the scheduler's draws: most builds offer every one, some are older builds. */
int sim_wire_of(uint64_t seed, unsigned who);

/* clock.c: the simulated wall clock and randomness */
void sim_clock_set(uint64_t ms);
void sim_random_seed(uint64_t seed);
int sim_random_install(void);
void sim_as_device(sim_t *m, const device_t *d);
void sim_as_relay(sim_t *m);

/* net.c: connections */
void net_connect(void *ud);
int net_write(void *ud, const uint8_t *data, size_t len);
void net_close(void *ud);
bool net_busy(const sim_t *m);
int net_deliver(sim_t *m, pipe_t *p, bool up, size_t max, bool garble);
pipe_t *net_pick(sim_t *m, bool *up);
void net_break(sim_t *m, pipe_t *p);
void net_break_device(sim_t *m, device_t *d);
int net_settle(sim_t *m);
void net_free_all(sim_t *m);
int relay_commit(sim_t *m);

/* world.c: the network of devices and the relay */
int world_new(sim_t *m);
void world_free(sim_t *m);
int device_sync_start(device_t *d);
int device_check_link(device_t *d);
int device_edit(device_t *d);
/* The owner (device 0) revokes d's key, accepting its entries up to the last one
 * the owner holds; d's edits the owner does not hold are no longer expected. */
int device_revoke(device_t *owner, device_t *d);
/* The edits signed with a revoked key that the owner does not hold are refused
 * everywhere, and what lived only on revoked devices is gone: neither is expected. */
int forget_refused(sim_t *m, const uint8_t key[CAIRN_KEY_BYTES]);
/* d's store copied to a new device (while there is room), which goes on writing
 * with the same key; a device moving to a key of its own (cairn_rekey); the owner
 * granting each new key that waits for an admin. */
int device_twin(device_t *d);
int device_rekey(device_t *d);
int owner_grants_keys(sim_t *m);
int device_crash(device_t *d);
int device_backup(device_t *d);
int device_restore(device_t *d);
int device_bundle(device_t *from, device_t *to);
int relay_crash(sim_t *m);
int sim_fail(sim_t *m, const char *fmt, ...) CAIRN_PRINTF(2, 3);

/* check.c: healing and what must then hold */
int check_heal(sim_t *m);
int check_all(sim_t *m);
/* Whether mark id is in a file of entries (4-byte big-endian length, then the
 * entry; taken-back.entries and forked.entries have this form). */
bool sim_in_entries_file(const char *path, const char *id);
/* Whether mark id is in DIR/file of some device not revoked: set aside there (forked.entries:
 * a copy of its author's log that the author replaced), or waiting to be signed
 * again (taken-back.entries). */
bool sim_set_aside(sim_t *m, const char *id, const char *file);
int check_note_highs(sim_t *m);

#endif
