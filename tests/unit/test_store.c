/*
 * test_store.c — the store's life cycle: create, reopen, key file permissions, the
 * map growing when full, and a full disk leaving the store as it was.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cairn.h"

static char *tmpdir(void) {
  char tmpl[] = "/tmp/cairn-store-XXXXXX";
  char *d = mkdtemp(tmpl);
  assert_non_null(d);
  return strdup(d);
}

static void rmrf(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static char *sub(const char *dir, const char *name) {
  size_t n = strlen(dir) + strlen(name) + 2;
  char *p = malloc(n);
  snprintf(p, n, "%s/%s", dir, name);
  return p;
}

/* Commit n changes of one field each, value "v<i>" padded to pad bytes. */
static int put_many(cairn_store_t *s, int from, int n, size_t pad) {
  uint8_t val[300];
  char id[32];
  cairn_error_t err;
  assert_true(pad >= 4 && pad < 250);
  for (int i = from; i < from + n; i++) {
    cairn_change_t *c;
    val[0] = 0xd9; /* str 8 */
    val[1] = (uint8_t)pad;
    memset(val + 2, 'a' + i % 26, pad);
    snprintf(id, sizeof id, "r%06d", i);
    if (cairn_change_begin(s, &c) != 0)
      return -1;
    if (cairn_change_put(c, "note", id, "text", val, pad + 2, 0) != 0) {
      cairn_change_abort(c);
      return -1;
    }
    int rc = cairn_change_commit(c, NULL, &err);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int count_cb(const cairn_record_t *r, void *ud) {
  (void)r;
  (*(int *)ud)++;
  return 0;
}

static int count(cairn_store_t *s, const char *type) {
  int n = 0;
  assert_int_equal(cairn_list(s, type, NULL, 0, count_cb, &n), 0);
  return n;
}

static void test_create_reopen(void **state) {
  char *dir = tmpdir(), *path = sub(dir, "s");
  cairn_store_opts_t o = {.no_sync = 1};
  cairn_store_t *s;
  cairn_error_t err;
  uint8_t key[CAIRN_KEY_BYTES], net[CAIRN_KEY_BYTES], net2[CAIRN_KEY_BYTES];
  assert_int_equal(cairn_create(path, "Ana", &o, &s, &err), 0);
  memcpy(key, cairn_store_key(s), sizeof key);
  assert_int_equal(cairn_store_network(s, net), CAIRN_ENONETWORK);
  assert_int_equal(cairn_store_network_create(s, "Northside", net, &err), 0);
  assert_int_equal(cairn_store_network_create(s, "Again", net2, &err), CAIRN_EHASNETWORK);
  assert_int_equal(put_many(s, 0, 10, 8), 0);
  cairn_close(s);
  /* a second create on the same directory is refused */
  assert_int_equal(cairn_create(path, "Bob", &o, &s, &err), CAIRN_EEXIST);
  assert_int_equal(cairn_open(path, &o, &s, &err), 0);
  assert_memory_equal(cairn_store_key(s), key, sizeof key);
  assert_string_equal(cairn_store_name(s), "Ana");
  assert_int_equal(cairn_store_network(s, net2), 0);
  assert_memory_equal(net, net2, sizeof net);
  assert_int_equal(count(s, "note"), 10);
  cairn_role_t role;
  assert_int_equal(cairn_store_role(s, key, &role), 0);
  assert_int_equal(role, CAIRN_ROLE_OWNER);
  cairn_close(s);
  free(path);
  rmrf(dir);
  free(dir);
}

static void test_missing_store(void **state) {
  cairn_store_t *s;
  cairn_error_t err;
  assert_int_equal(cairn_open("/nonexistent/cairn/store", NULL, &s, &err), CAIRN_ENOENT);
  assert_non_null(strstr(err.msg, "cairn init"));
}

static void test_key_permissions(void **state) {
  char *dir = tmpdir(), *path = sub(dir, "s"), *key;
  cairn_store_t *s;
  cairn_error_t err;
  struct stat st;
  assert_int_equal(cairn_create(path, "Ana", NULL, &s, &err), 0);
  cairn_close(s);
  key = sub(path, "key");
  assert_int_equal(stat(key, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  assert_int_equal(chmod(key, 0644), 0);
  assert_int_equal(cairn_open(path, NULL, &s, &err), CAIRN_EKEYPERM);
  assert_non_null(strstr(err.msg, "chmod 600"));
  assert_int_equal(chmod(key, 0600), 0);
  assert_int_equal(cairn_open(path, NULL, &s, &err), 0);
  cairn_close(s);
  free(key);
  free(path);
  rmrf(dir);
  free(dir);
}

/* A 1 MiB map fills quickly: the store must grow it and lose nothing. */
static void test_map_grows(void **state) {
  char *dir = tmpdir(), *path = sub(dir, "s");
  cairn_store_opts_t o = {.no_sync = 1, .map_size = 1 << 20};
  cairn_store_t *s;
  cairn_error_t err;
  uint8_t net[CAIRN_KEY_BYTES];
  assert_int_equal(cairn_create(path, "Ana", &o, &s, &err), 0);
  assert_int_equal(cairn_store_network_create(s, "Grow", net, &err), 0);
  assert_int_equal(put_many(s, 0, 3000, 200), 0);
  assert_int_equal(count(s, "note"), 3000);
  cairn_close(s);
  assert_int_equal(cairn_open(path, &o, &s, &err), 0);
  assert_int_equal(count(s, "note"), 3000);
  cairn_close(s);
  free(path);
  rmrf(dir);
  free(dir);
}

/*
 * A full disk: in a child, limit the size of files it may write (RLIMIT_FSIZE; with
 * SIGXFSZ ignored writes fail with EFBIG, as on a full disk) and keep writing until
 * a commit fails. The failure must be a clean CAIRN_ENOSPC, and the store must
 * reopen holding exactly the changes committed before it.
 */
static void test_disk_full(void **state) {
  char *dir = tmpdir(), *path = sub(dir, "s");
  cairn_store_opts_t o = {.no_sync = 0};
  cairn_store_t *s;
  cairn_error_t err;
  uint8_t net[CAIRN_KEY_BYTES];
  int fds[2];
  assert_int_equal(cairn_create(path, "Ana", &o, &s, &err), 0);
  assert_int_equal(cairn_store_network_create(s, "Full", net, &err), 0);
  cairn_close(s);
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    struct rlimit rl = {2 << 20, 2 << 20};
    int done = 0, rc = 0;
    signal(SIGXFSZ, SIG_IGN);
    if (cairn_open(path, &o, &s, &err) != 0 || setrlimit(RLIMIT_FSIZE, &rl) != 0)
      _exit(10);
    for (done = 0; done < 100000; done += 50) {
      if ((rc = put_many(s, done, 50, 200)) != 0)
        break;
    }
    /* report how many changes were committed before the failure, and the code */
    cairn_close(s);
    int out[2] = {rc, done};
    if (write(fds[1], out, sizeof out) != sizeof out)
      _exit(11);
    _exit(0);
  }
  close(fds[1]);
  int res[2] = {0, 0}, status;
  assert_int_equal(read(fds[0], res, sizeof res), (ssize_t)sizeof res);
  close(fds[0]);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(res[0], CAIRN_ENOSPC);
  assert_true(res[1] > 0);
  assert_int_equal(cairn_open(path, &o, &s, &err), 0);
  /* the last batch of 50 may be partly committed: changes are one per commit */
  int n = count(s, "note");
  assert_true(n >= res[1] && n < res[1] + 50);
  /* and it still takes writes once there is room again */
  assert_int_equal(put_many(s, 200000, 5, 8), 0);
  assert_int_equal(count(s, "note"), n + 5);
  cairn_close(s);
  free(path);
  rmrf(dir);
  free(dir);
}

/* A version vector kept in author order: raise inserts in place, finds and raises
 * existing authors, and never lowers a seq. */
static void test_vv(void **state) {
  cairn_vv_t v = {0};
  uint8_t a[4][32];
  const uint8_t *h;
  (void)state;
  for (int i = 0; i < 4; i++)
    memset(a[i], 0x10 * (i + 1), 32);
  assert_int_equal(cairn_vv_add(&v, a[1], 5, NULL), 0);
  assert_int_equal(cairn_vv_add(&v, a[3], 9, a[0]), 0);
  assert_int_equal(cairn_vv_raise(&v, a[0], 2), 0); /* before all */
  assert_int_equal(cairn_vv_raise(&v, a[2], 7), 0); /* in the middle */
  assert_int_equal(cairn_vv_raise(&v, a[1], 3), 0); /* lower: unchanged */
  assert_int_equal(cairn_vv_raise(&v, a[3], 11), 0);
  assert_int_equal(v.n, 4);
  for (size_t i = 1; i < v.n; i++)
    assert_true(memcmp(v.authors[i - 1], v.authors[i], 32) < 0);
  assert_int_equal(cairn_vv_seq(&v, a[0], NULL), 2);
  assert_int_equal(cairn_vv_seq(&v, a[1], NULL), 5);
  assert_int_equal(cairn_vv_seq(&v, a[2], NULL), 7);
  assert_int_equal(cairn_vv_seq(&v, a[3], &h), 11);
  uint8_t zero[32] = {0};
  assert_memory_equal(h, zero, 32); /* raised: the old hash no longer applies */
  uint8_t absent[32];
  memset(absent, 0x05, 32);
  assert_int_equal(cairn_vv_seq(&v, absent, NULL), 0);
  cairn_vv_free(&v);
  assert_int_equal(v.n, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_reopen),
      cmocka_unit_test(test_missing_store),
      cmocka_unit_test(test_key_permissions),
      cmocka_unit_test(test_map_grows),
      cmocka_unit_test(test_disk_full),
      cmocka_unit_test(test_vv),
  };
  assert_int_equal(cairn_core_init(), 0);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
