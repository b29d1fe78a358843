/*
 * badpeer.c — a misbehaving peer for the relay's bad-peer tests
 * (tests/integration/relay_badpeers.sh, docs/design.md "Bad input, faults and limits").
 *
 * It connects to 127.0.0.1:PORT, does one misbehaviour, and prints one line saying
 * what the relay did (closed, or the `error` it sent, decrypted through the
 * channel once a handshake is done). Exit 0 when the relay behaved as expected,
 * 1 when it did not, 2 on a usage or local error. Every wait is bounded.
 *
 *   badpeer PORT random                      random bytes: the relay closes (having
 *                                            sent at most its prologue)
 *   badpeer PORT halfhs                      half of msg1, then silence: closed by
 *                                            the handshake timeout (prints the ms)
 *   badpeer PORT msg1garbage                 a valid msg1, then garbage: closed
 *   badpeer PORT bigframe RELAYKEY NET LEN [STORE]
 *                                            a real handshake (a fresh key, or
 *                                            STORE's key, then waiting for hello),
 *                                            then a frame header announcing LEN
 *                                            bytes: error -14 (CAIRN_ETOOBIG)
 *   badpeer PORT idle N SECS                 N connections that never speak, held
 *                                            up to SECS: all closed by the relay
 *   badpeer PORT flood M SECS MAXCONNS       M connections at once: at least
 *                                            M - MAXCONNS closed at once (the relay
 *                                            evicts its oldest handshakes), the rest
 *                                            closed by the handshake timeout
 *   badpeer PORT push RELAYKEY STORE KIND EXPECT
 *                                            a real handshake as STORE's key, then
 *                                            one `entries` message of KIND: next (a
 *                                            valid next entry of STORE's key), badsig
 *                                            (the same with a flipped signature
 *                                            byte), fork (another entry at STORE's
 *                                            head seq), replay (an entry of another
 *                                            author that STORE holds), big (an entry
 *                                            of 40000 bytes); EXPECT is `ack` or the
 *                                            error code the relay must send.
 *
 * STORE must not be open in another process meanwhile (LMDB, one opener).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <msgpack.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "channel.h"
#include "entry.h"
#include "keyfile.h"
#include "session.h"
#include "cairn.h"

#define EXIT_BAD 1
#define EXIT_USAGE 2
#define WAIT_MS 10000 /* the longest any single wait lasts */
#define MAX_CONNS 4096

static int port;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int die(const char *what) {
  fprintf(stderr, "badpeer: %s%s%s\n", what, errno ? ": " : "", errno ? strerror(errno) : "");
  exit(EXIT_USAGE);
}

static int connect_relay(void) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0)
    die("socket");
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
    die("connect");
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* Write everything; false if the relay has closed meanwhile. */
static bool send_all(int fd, const void *buf, size_t len) {
  const char *p = buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    p += n;
    len -= (size_t)n;
  }
  return true;
}

/* Read what arrives within ms: >0 bytes read, 0 the peer closed (or reset),
 * -1 nothing arrived in time. */
static ssize_t recv_for(int fd, void *buf, size_t cap, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  int r;
  while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR) {
  }
  if (r == 0)
    return -1;
  ssize_t n = recv(fd, buf, cap, 0);
  return n < 0 ? 0 : n; /* ECONNRESET counts as closed */
}

/* Wait for the relay to close, discarding what it sends: the ms it took, or -1. */
static long wait_close(int fd, int ms, size_t *received) {
  char buf[4096];
  uint64_t t0 = now_ms();
  for (;;) {
    long left = ms - (long)(now_ms() - t0);
    if (left <= 0)
      return -1;
    ssize_t n = recv_for(fd, buf, sizeof buf, (int)left);
    if (n == 0)
      return (long)(now_ms() - t0);
    if (n > 0 && received)
      *received += (size_t)n;
  }
}

static void parse_hex(const char *hex, uint8_t *out, size_t n, const char *what) {
  if (strlen(hex) != 2 * n || cairn_unhex(hex, out, n) != 0) {
    fprintf(stderr, "badpeer: %s must be %zu hex characters\n", what, 2 * n);
    exit(EXIT_USAGE);
  }
}

/* ---- a client session over a blocking socket ---- */

typedef struct peer {
  int fd;
  cairn_session_t sess;
  msgpack_sbuffer out;
  bool hello, ack, closed;
  uint64_t head_seq, acked_seq;
  int error;              /* the relay's error code, 0 if none */
  char text[CAIRN_MSG_TEXT_MAX + 1];
} peer_t;

static int on_event(void *ud, const cairn_event_t *ev) {
  peer_t *p = ud;
  switch (ev->type) {
  case CAIRN_EV_HELLO:
    p->hello = true;
    p->head_seq = ev->msg.u.hello.head_seq;
    break;
  case CAIRN_EV_ACK:
    p->ack = true;
    p->acked_seq = ev->msg.u.ack.own_seq;
    break;
  case CAIRN_EV_ERROR:
    p->error = ev->msg.u.error.code;
    snprintf(p->text, sizeof p->text, "%.*s", (int)ev->msg.u.error.text_len,
             ev->msg.u.error.text);
    return 1;
  default:
    break;
  }
  return 0;
}

static void peer_flush(peer_t *p) {
  if (p->out.size > 0 && !send_all(p->fd, p->out.data, p->out.size))
    p->closed = true;
  p->out.size = 0;
}

/* Read and handle until done(p) holds, the relay closes or errs, or ms pass. */
static void peer_run(peer_t *p, bool (*done)(const peer_t *), int ms) {
  uint8_t buf[65536];
  cairn_error_t err;
  uint64_t t0 = now_ms();
  while (!p->closed && p->error == 0 && !(done && done(p))) {
    long left = ms - (long)(now_ms() - t0);
    if (left <= 0)
      return;
    ssize_t n = recv_for(p->fd, buf, sizeof buf, (int)left);
    if (n < 0)
      return;
    if (n == 0) {
      p->closed = true;
      return;
    }
    int rc = cairn_session_input(&p->sess, buf, (size_t)n, &p->out, on_event, p, &err);
    peer_flush(p);
    if (rc < 0 && p->error == 0) {
      fprintf(stderr, "badpeer: the relay's bytes broke the session: %s\n", err.msg);
      exit(EXIT_BAD);
    }
  }
}

static bool got_hello(const peer_t *p) {
  return p->hello;
}

static bool got_ack(const peer_t *p) {
  return p->ack;
}

/* Connect and send msg1; with send_now false the caller sends it. */
static void peer_start(peer_t *p, const uint8_t sk[CAIRN_SECRET_BYTES],
                       const uint8_t relay_pk[CAIRN_KEY_BYTES],
                       const uint8_t net[CAIRN_KEY_BYTES]) {
  memset(p, 0, sizeof *p);
  msgpack_sbuffer_init(&p->out);
  if (cairn_session_client(&p->sess, sk, relay_pk, net, NULL, 0, 0, 0, &p->out) != 0)
    die("cannot start a handshake");
  p->fd = connect_relay();
}

/* Until the handshake is done on our side (msg3 left in p->out, not sent). */
static void peer_handshake(peer_t *p) {
  uint8_t buf[4096];
  cairn_error_t err;
  peer_flush(p); /* msg1 */
  uint64_t t0 = now_ms();
  while (!cairn_session_closed(&p->sess)) {
    ssize_t n = recv_for(p->fd, buf, sizeof buf, WAIT_MS);
    if (n <= 0 || now_ms() - t0 > WAIT_MS) {
      printf("handshake: the relay %s\n", n == 0 ? "closed" : "did not answer");
      exit(EXIT_BAD);
    }
    if (cairn_session_feed(&p->sess, buf, (size_t)n, &p->out, &err) != 0) {
      printf("handshake: failed: %s\n", err.msg);
      exit(EXIT_BAD);
    }
    if (p->out.size > 0) /* msg3: the handshake is done */
      return;
  }
}

static void peer_free(peer_t *p) {
  cairn_session_free(&p->sess);
  msgpack_sbuffer_destroy(&p->out);
  close(p->fd);
}

/* "error -14 (CAIRN_ETOOBIG: text), closed" and whether code was expected. */
static int report(const char *mode, peer_t *p, int want) {
  if (!p->closed && p->error != 0)
    p->closed = wait_close(p->fd, WAIT_MS, NULL) >= 0;
  if (p->error != 0)
    printf("%s: error %d (%s: %s), %s\n", mode, p->error, cairn_err_name(p->error), p->text,
           p->closed ? "closed" : "left open");
  else
    printf("%s: %s%s\n", mode, p->ack ? "ack " : "no error, ", p->closed ? "closed" : "open");
  return p->error == want && p->closed ? 0 : EXIT_BAD;
}

/* ---- misbehaviours ---- */

static int do_random(void) {
  uint8_t junk[4096];
  size_t got = 0;
  randombytes_buf(junk, sizeof junk);
  int fd = connect_relay();
  (void)send_all(fd, junk, sizeof junk);
  long ms = wait_close(fd, WAIT_MS, &got);
  close(fd);
  if (ms < 0) {
    printf("random: still open after %d ms\n", WAIT_MS);
    return EXIT_BAD;
  }
  /* the relay may answer with its prologue alone, so that a peer of another
   * version can say which (docs/protocol.md, "Handshake") */
  printf("random: closed after %ld ms, %zu bytes received\n", ms, got);
  return got <= CAIRN_PROLOGUE_BYTES ? 0 : EXIT_BAD;
}

static int do_halfhs(void) {
  uint8_t sk[CAIRN_SECRET_BYTES], pk[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES] = {0};
  cairn_hs_t hs;
  msgpack_sbuffer out;
  size_t got = 0;
  crypto_sign_keypair(pk, sk);
  msgpack_sbuffer_init(&out);
  if (cairn_hs_client(&hs, sk, pk, net, NULL, 0, 0, &out) != 0)
    die("cannot start a handshake");
  int fd = connect_relay();
  (void)send_all(fd, out.data, out.size / 2);
  long ms = wait_close(fd, WAIT_MS, &got);
  close(fd);
  cairn_hs_free(&hs);
  msgpack_sbuffer_destroy(&out);
  if (ms < 0) {
    printf("halfhs: still open after %d ms\n", WAIT_MS);
    return EXIT_BAD;
  }
  printf("halfhs: closed after %ld ms, %zu bytes received\n", ms, got);
  return got == 0 ? 0 : EXIT_BAD;
}

static int do_msg1garbage(void) {
  uint8_t sk[CAIRN_SECRET_BYTES], pk[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES] = {0}, junk[600];
  cairn_hs_t hs;
  msgpack_sbuffer out;
  size_t got = 0;
  crypto_sign_keypair(pk, sk);
  randombytes_buf(junk, sizeof junk);
  msgpack_sbuffer_init(&out);
  if (cairn_hs_client(&hs, sk, pk, net, NULL, 0, 0, &out) != 0)
    die("cannot start a handshake");
  int fd = connect_relay();
  (void)send_all(fd, out.data, out.size);
  (void)send_all(fd, junk, sizeof junk);
  long ms = wait_close(fd, WAIT_MS, &got);
  close(fd);
  cairn_hs_free(&hs);
  msgpack_sbuffer_destroy(&out);
  if (ms < 0) {
    printf("msg1garbage: still open after %d ms\n", WAIT_MS);
    return EXIT_BAD;
  }
  printf("msg1garbage: closed after %ld ms, %zu bytes received (msg2)\n", ms, got);
  return 0;
}

/* The secret key of a store, its network, and the store itself (open). */
static cairn_store_t *open_store(const char *dir, uint8_t sk[CAIRN_SECRET_BYTES],
                                 uint8_t net[CAIRN_KEY_BYTES]) {
  char path[4096];
  cairn_error_t err;
  cairn_store_t *s;
  snprintf(path, sizeof path, "%s/key", dir);
  if (cairn_keyfile_read(path, sk, &err) != 0 || cairn_open(dir, NULL, &s, &err) != 0 ||
      cairn_store_network(s, net) != 0) {
    fprintf(stderr, "badpeer: cannot open the store %s: %s\n", dir, err.msg);
    exit(EXIT_USAGE);
  }
  return s;
}

static int do_bigframe(int argc, char **argv) {
  uint8_t sk[CAIRN_SECRET_BYTES], pk[CAIRN_KEY_BYTES], rk[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES];
  uint8_t hdr[4];
  peer_t p;
  if (argc < 6)
    die("bigframe RELAYKEY NET LEN [STORE]");
  parse_hex(argv[3], rk, sizeof rk, "RELAYKEY");
  parse_hex(argv[4], net, sizeof net, "NET");
  unsigned long len = strtoul(argv[5], NULL, 10);
  if (argc > 6)
    cairn_close(open_store(argv[6], sk, net));
  else
    crypto_sign_keypair(pk, sk);
  peer_start(&p, sk, rk, net);
  peer_handshake(&p);
  hdr[0] = (uint8_t)(len >> 24);
  hdr[1] = (uint8_t)(len >> 16);
  hdr[2] = (uint8_t)(len >> 8);
  hdr[3] = (uint8_t)len;
  if (argc > 6) {
    /* a member: wait for hello, then the header alone */
    peer_flush(&p);
    peer_run(&p, got_hello, WAIT_MS);
    if (!p.hello) {
      printf("bigframe: no hello (error %d: %s)\n", p.error, p.text);
      return EXIT_BAD;
    }
  }
  /* a fresh key: the header rides with msg3, before the relay can refuse the key */
  if (msgpack_sbuffer_write(&p.out, (const char *)hdr, sizeof hdr) != 0)
    die("out of memory");
  peer_flush(&p);
  peer_run(&p, NULL, WAIT_MS);
  int rc = report("bigframe", &p, CAIRN_ETOOBIG);
  peer_free(&p);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

/* Open n connections; closed[i] gets the ms the relay took to close it (or -1). */
static int hold(int n, int secs, int *fds, long *closed) {
  struct pollfd *pf = calloc((size_t)n, sizeof *pf);
  char buf[256];
  int open = n;
  if (pf == NULL)
    die("out of memory");
  uint64_t t0 = now_ms();
  for (int i = 0; i < n; i++) {
    fds[i] = connect_relay();
    closed[i] = -1;
    pf[i].fd = fds[i];
    pf[i].events = POLLIN;
  }
  printf("holding %d\n", n);
  fflush(stdout);
  while (open > 0) {
    long left = secs * 1000L - (long)(now_ms() - t0);
    if (left <= 0)
      break;
    int r = poll(pf, (nfds_t)n, (int)left);
    if (r < 0 && errno != EINTR)
      die("poll");
    for (int i = 0; r > 0 && i < n; i++) {
      if (pf[i].fd < 0 || pf[i].revents == 0)
        continue;
      ssize_t got = recv(fds[i], buf, sizeof buf, 0);
      if (got <= 0) {
        closed[i] = (long)(now_ms() - t0);
        pf[i].fd = -1;
        open--;
      }
    }
  }
  for (int i = 0; i < n; i++)
    close(fds[i]);
  free(pf);
  return open;
}

static int parse_count(const char *s, int max, const char *what) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 1 || v > max) {
    fprintf(stderr, "badpeer: %s is 1 to %d\n", what, max);
    exit(EXIT_USAGE);
  }
  return (int)v;
}

static int do_idle(int argc, char **argv) {
  static int fds[MAX_CONNS];
  static long closed[MAX_CONNS];
  if (argc != 5)
    die("idle N SECS");
  int n = parse_count(argv[3], MAX_CONNS, "N"), secs = parse_count(argv[4], 60, "SECS");
  int open = hold(n, secs, fds, closed);
  long lo = -1, hi = -1;
  for (int i = 0; i < n; i++)
    if (closed[i] >= 0) {
      lo = lo < 0 || closed[i] < lo ? closed[i] : lo;
      hi = closed[i] > hi ? closed[i] : hi;
    }
  printf("idle: %d held, %d closed by the relay after %ld..%ld ms, %d still open\n", n, n - open,
         lo, hi, open);
  return open == 0 ? 0 : EXIT_BAD;
}

static int do_flood(int argc, char **argv) {
  static int fds[MAX_CONNS];
  static long closed[MAX_CONNS];
  if (argc != 6)
    die("flood M SECS MAXCONNS");
  int m = parse_count(argv[3], MAX_CONNS, "M"), secs = parse_count(argv[4], 60, "SECS");
  int max = parse_count(argv[5], MAX_CONNS, "MAXCONNS");
  int open = hold(m, secs, fds, closed), refused = 0, later = 0;
  for (int i = 0; i < m; i++) {
    if (closed[i] >= 0 && closed[i] < 1000)
      refused++;
    else if (closed[i] >= 0)
      later++;
  }
  printf("flood: %d opened, %d closed at once, %d closed later (handshake timeout), %d still "
         "open\n",
         m, refused, later, open);
  return open == 0 && refused >= m - max && later <= max ? 0 : EXIT_BAD;
}

/* ---- pushing forged entries ---- */

typedef struct found {
  const uint8_t *me;
  uint64_t want_seq;   /* own entry at this seq: its hash and hlc */
  uint8_t hash[CAIRN_HASH_BYTES];
  uint64_t hlc, max_hlc;
  bool have;
  uint8_t *other;      /* replay: an entry of another author */
  size_t other_len;
} found_t;

static int find_cb(const cairn_entry_t *e, void *ud) {
  found_t *f = ud;
  if (e->hlc > f->max_hlc)
    f->max_hlc = e->hlc;
  if (memcmp(e->author, f->me, CAIRN_KEY_BYTES) == 0) {
    if (e->seq == f->want_seq) {
      cairn_entry_hash(e, f->hash);
      f->hlc = e->hlc;
      f->have = true;
    }
  } else if (f->other == NULL && e->seq > 1) {
    f->other = malloc(e->len);
    if (f->other == NULL)
      die("out of memory");
    memcpy(f->other, e->bytes, e->len);
    f->other_len = e->len;
  }
  return 0;
}

/* One put [1, "note", id, {"text": [text, []]}] as a one-op array. */
static void pack_ops(msgpack_sbuffer *b, const char *id, size_t text_len) {
  msgpack_packer pk;
  char *text = malloc(text_len + 1);
  if (text == NULL)
    die("out of memory");
  memset(text, 'x', text_len);
  msgpack_packer_init(&pk, b, msgpack_sbuffer_write);
  if (msgpack_pack_array(&pk, 1) || msgpack_pack_array(&pk, 4) || msgpack_pack_uint8(&pk, 1) ||
      msgpack_pack_str_with_body(&pk, "note", 4) ||
      msgpack_pack_str_with_body(&pk, id, strlen(id)) || msgpack_pack_map(&pk, 1) ||
      msgpack_pack_str_with_body(&pk, "text", 4) || msgpack_pack_array(&pk, 2) ||
      msgpack_pack_str_with_body(&pk, text, text_len) || msgpack_pack_array(&pk, 0))
    die("cannot pack");
  free(text);
}

static int do_push(int argc, char **argv) {
  uint8_t sk[CAIRN_SECRET_BYTES], rk[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES];
  uint8_t *entry = NULL;
  size_t entry_len = 0;
  found_t f;
  msgpack_sbuffer ops;
  cairn_error_t err;
  peer_t p;
  uint64_t head = 0;
  if (argc != 7)
    die("push RELAYKEY STORE KIND EXPECT");
  parse_hex(argv[3], rk, sizeof rk, "RELAYKEY");
  const char *kind = argv[5], *expect = argv[6];
  int want = strcmp(expect, "ack") == 0 ? 0 : (int)strtol(expect, NULL, 10);
  cairn_store_t *s = open_store(argv[4], sk, net);
  memset(&f, 0, sizeof f);
  f.me = sk + 32;
  if (cairn_store_head_seq(s, f.me, &head) != 0)
    die("cannot read the head");
  bool fork = strcmp(kind, "fork") == 0;
  if (fork && head == 0)
    die("fork needs a store with entries of its own");
  f.want_seq = fork ? head - 1 : head;
  if (cairn_store_log(s, find_cb, &f) != 0)
    die("cannot read the log");
  cairn_close(s);

  msgpack_sbuffer_init(&ops);
  char id[64];
  snprintf(id, sizeof id, "badpeer-%s-%llu", kind, (unsigned long long)wall_ms());
  pack_ops(&ops, id, strcmp(kind, "big") == 0 ? 40000 : 20);
  uint64_t hlc = wall_ms() << 16;
  if (hlc <= f.max_hlc)
    hlc = f.max_hlc + 1;
  uint64_t seq = fork ? head : head + 1;
  if (strcmp(kind, "replay") == 0) {
    if (f.other == NULL)
      die("replay needs a store holding another author's entry past its genesis");
    entry = f.other;
    entry_len = f.other_len;
    f.other = NULL;
  } else if (strcmp(kind, "next") == 0 || strcmp(kind, "badsig") == 0 || fork ||
             strcmp(kind, "big") == 0) {
    if (cairn_entry_build(sk, net, seq, seq > 1 && f.have ? f.hash : NULL, hlc,
                          (const uint8_t *)ops.data, ops.size, &entry, &entry_len) != 0)
      die("cannot build the entry");
    if (strcmp(kind, "badsig") == 0) {
      cairn_entry_t e;
      if (cairn_entry_decode(entry, entry_len, SIZE_MAX, &e, &err) != 0)
        die("cannot decode the built entry");
      entry[e.sig - entry + 10] ^= 0x01;
    }
  } else {
    die("KIND is next, badsig, fork, replay or big");
  }
  msgpack_sbuffer_destroy(&ops);
  free(f.other);

  peer_start(&p, sk, rk, net);
  peer_handshake(&p);
  peer_flush(&p);
  peer_run(&p, got_hello, WAIT_MS);
  if (!p.hello) {
    printf("push %s: no hello (error %d: %s)\n", kind, p.error, p.text);
    return EXIT_BAD;
  }
  cairn_entry_batch_t b = {0};
  if (cairn_entry_batch_add(&b, entry, entry_len) != 0 ||
      cairn_session_send_entries(&p.sess, 0, &b, &p.out) != 0 ||
      cairn_session_caught_up(&p.sess, 0, &p.out) != 0)
    die("cannot send");
  cairn_entry_batch_free(&b);
  peer_flush(&p);
  peer_run(&p, want == 0 ? got_ack : NULL, WAIT_MS);
  char mode[64];
  snprintf(mode, sizeof mode, "push %s (head %llu, seq %llu)", kind,
           (unsigned long long)p.head_seq, (unsigned long long)seq);
  int rc;
  if (want == 0) {
    printf("%s: %s%s, own seq %llu acked\n", mode, p.ack ? "ack" : "no ack",
           p.error ? " but an error" : "", (unsigned long long)p.acked_seq);
    if (p.error)
      printf("  error %d: %s\n", p.error, p.text);
    rc = p.ack && p.error == 0 ? 0 : EXIT_BAD;
  } else {
    rc = report(mode, &p, want);
  }
  peer_free(&p);
  free(entry);
  sodium_memzero(sk, sizeof sk);
  return rc;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: badpeer PORT MODE [ARGS...] (see tests/tools/badpeer.c)\n");
    return EXIT_USAGE;
  }
  if (cairn_core_init() != 0)
    die("cannot initialise libsodium");
  port = parse_count(argv[1], 65535, "PORT");
  alarm(60); /* whatever happens, never hang a test */
  const char *mode = argv[2];
  if (strcmp(mode, "random") == 0)
    return do_random();
  if (strcmp(mode, "halfhs") == 0)
    return do_halfhs();
  if (strcmp(mode, "msg1garbage") == 0)
    return do_msg1garbage();
  if (strcmp(mode, "bigframe") == 0)
    return do_bigframe(argc, argv);
  if (strcmp(mode, "idle") == 0)
    return do_idle(argc, argv);
  if (strcmp(mode, "flood") == 0)
    return do_flood(argc, argv);
  if (strcmp(mode, "push") == 0)
    return do_push(argc, argv);
  fprintf(stderr, "badpeer: unknown mode %s\n", mode);
  return EXIT_USAGE;
}
