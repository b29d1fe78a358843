/*
 * cairn_test.c — shared test helpers (see cairn_test.h): temporary stores and
 * nodes, one-field commits, and keys that sign their own chains. Plain C over the
 * public core API and msgpack-c: no cmocka here, so fuzz targets may link it.
 */
#define CAIRN_TEST_NO_CMOCKA
#include "cairn_test.h"

#include <dirent.h>
#include <errno.h>
#include <msgpack.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temporary stores ---- */

int cairn_test_store_exact(const char *name, const cairn_store_opts_t *opts,
                           cairn_store_t **out, char **dir) {
  const char *tmp = getenv("TMPDIR");
  cairn_store_opts_t o = {0};
  char *d;
  size_t n;
  int rc;
  *out = NULL;
  *dir = NULL;
  if ((rc = cairn_core_init()) != 0)
    return rc;
  if (tmp == NULL || tmp[0] == '\0')
    tmp = "/tmp";
  n = strlen(tmp) + sizeof "/cairn-test-XXXXXX";
  if ((d = malloc(n)) == NULL)
    return CAIRN_ENOMEM;
  snprintf(d, n, "%s/cairn-test-XXXXXX", tmp);
  if (mkdtemp(d) == NULL) {
    free(d);
    return CAIRN_EIO;
  }
  if (opts != NULL)
    o = *opts;
  if ((rc = cairn_create(d, name, &o, out, NULL)) != 0) {
    cairn_test_rmrf(d);
    free(d);
    *out = NULL;
    return rc;
  }
  *dir = d;
  return 0;
}

int cairn_test_store_opts(const char *name, const cairn_store_opts_t *opts,
                          cairn_store_t **out, char **dir) {
  cairn_store_opts_t o = {0};
  if (opts != NULL)
    o = *opts;
  o.no_sync = 1;
  return cairn_test_store_exact(name, &o, out, dir);
}

int cairn_test_store(const char *name, cairn_store_t **out, char **dir) {
  return cairn_test_store_opts(name, NULL, out, dir);
}

int cairn_test_node_new(cairn_test_node_t *n, const char *name, const cairn_store_opts_t *opts) {
  memset(n, 0, sizeof *n);
  if (strlen(name) >= sizeof n->name)
    return CAIRN_EINVAL;
  memcpy(n->name, name, strlen(name) + 1);
  return cairn_test_store_opts(name, opts, &n->s, &n->dir);
}

int cairn_test_node_reopen(cairn_test_node_t *n, const cairn_store_opts_t *opts) {
  cairn_store_opts_t o = {0};
  if (opts != NULL)
    o = *opts;
  o.no_sync = 1;
  cairn_close(n->s);
  n->s = NULL;
  return cairn_open(n->dir, &o, &n->s, NULL);
}

void cairn_test_node_free(cairn_test_node_t *n) {
  cairn_close(n->s);
  n->s = NULL;
  cairn_test_rmrf(n->dir);
  free(n->dir);
  n->dir = NULL;
}

int cairn_test_rmrf(const char *dir) {
  struct stat st;
  DIR *d;
  struct dirent *de;
  int rc = 0;
  if (dir == NULL)
    return 0;
  if (lstat(dir, &st) != 0)
    return errno == ENOENT ? 0 : CAIRN_EIO;
  if (!S_ISDIR(st.st_mode))
    return unlink(dir) == 0 ? 0 : CAIRN_EIO;
  if ((d = opendir(dir)) == NULL)
    return CAIRN_EIO;
  while (rc == 0 && (de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    size_t n = strlen(dir) + strlen(de->d_name) + 2;
    char *sub = malloc(n);
    if (sub == NULL) {
      rc = CAIRN_ENOMEM;
      break;
    }
    snprintf(sub, n, "%s/%s", dir, de->d_name);
    rc = cairn_test_rmrf(sub);
    free(sub);
  }
  closedir(d);
  if (rc == 0 && rmdir(dir) != 0)
    rc = CAIRN_EIO;
  return rc;
}

int cairn_test_put(cairn_store_t *s, const char *type, const char *id, const char *field,
                   const char *strvalue) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  cairn_change_t *c;
  int rc;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  if (msgpack_pack_str_with_body(&pk, strvalue, strlen(strvalue)) != 0) {
    msgpack_sbuffer_destroy(&sb);
    return CAIRN_ENOMEM;
  }
  if ((rc = cairn_change_begin(s, &c)) == 0) {
    rc = cairn_change_put(c, type, id, field, (const uint8_t *)sb.data, sb.size, 0);
    if (rc == 0)
      rc = cairn_change_commit(c, NULL, NULL); /* frees c */
    else
      cairn_change_abort(c);
  }
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

/* cairn_test_field_text's lookup: the field's string value into the buffer. */
typedef struct field_text {
  const char *field;
  char *out;
  size_t cap;
} field_text_t;

static int field_text_cb(const cairn_record_t *r, void *ud) {
  field_text_t *t = ud;
  cairn_record_field_t f;
  msgpack_object_str str;
  msgpack_unpacked u;
  size_t off = 0;
  msgpack_unpacked_init(&u);
  if (cairn_record_field(r, t->field, &f) == 1 &&
      msgpack_unpack_next(&u, (const char *)f.value, f.value_len, &off) == MSGPACK_UNPACK_SUCCESS &&
      u.data.type == MSGPACK_OBJECT_STR && u.data.via.str.size < t->cap) {
    str = u.data.via.str;
    memcpy(t->out, str.ptr, str.size);
    t->out[str.size] = '\0';
  }
  msgpack_unpacked_destroy(&u);
  return 0;
}

const char *cairn_test_field_text(cairn_store_t *s, const char *type, const char *id,
                                  const char *field) {
  static char buf[1024];
  field_text_t t = {field, buf, sizeof buf};
  buf[0] = '\0';
  if (cairn_get(s, type, id, field_text_cb, &t) != 0)
    return "";
  return buf;
}

/* ---- entries without a store ---- */

uint64_t cairn_test_hlc(void) {
  static uint64_t last;
  uint64_t now = cairn_now_ms() << 16;
  last = now > last ? now : last + 1;
  return last;
}

void cairn_test_key_init(cairn_test_key_t *k, const uint8_t *seed) {
  memset(k, 0, sizeof *k);
  if (cairn_core_init() != 0)
    return; /* libsodium unusable: every later call fails */
  if (seed != NULL)
    crypto_sign_seed_keypair(k->pk, k->sk, seed);
  else
    crypto_sign_keypair(k->pk, k->sk);
}

int cairn_test_key_sign(cairn_test_key_t *k, const uint8_t *ops, size_t ops_len,
                        uint8_t **out, size_t *out_len) {
  return cairn_test_key_sign_at(k, cairn_test_hlc(), ops, ops_len, out, out_len);
}

int cairn_test_key_sign_at(cairn_test_key_t *k, uint64_t hlc, const uint8_t *ops,
                           size_t ops_len, uint8_t **out, size_t *out_len) {
  cairn_entry_t e;
  int rc = cairn_entry_build(k->sk, k->network, k->seq + 1, k->seq ? k->head : NULL, hlc,
                             ops, ops_len, out, out_len);
  if (rc != 0)
    return rc;
  if ((rc = cairn_entry_decode(*out, *out_len, SIZE_MAX, &e, NULL)) != 0) {
    free(*out);
    *out = NULL;
    return rc;
  }
  cairn_entry_hash(&e, k->head);
  k->seq++;
  k->hlc = hlc;
  return 0;
}

static int pack_str(msgpack_packer *pk, const char *s) {
  return msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* The ops of a genesis, as pack_genesis in core/change.c writes them. */
static int pack_genesis_ops(msgpack_packer *pk, const cairn_test_key_t *k,
                            const uint8_t *nonce, const char *title) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  int rc = msgpack_pack_array(pk, 2);
  rc |= msgpack_pack_array(pk, 4) | msgpack_pack_uint8(pk, CAIRN_OP_PUT);
  rc |= pack_str(pk, "_network") | pack_str(pk, cairn_hex(k->network, CAIRN_KEY_BYTES, hex));
  rc |= msgpack_pack_map(pk, 2);
  rc |= pack_str(pk, "nonce") | msgpack_pack_array(pk, 2);
  rc |= msgpack_pack_bin_with_body(pk, nonce, 32) | msgpack_pack_array(pk, 0);
  rc |= pack_str(pk, "title") | msgpack_pack_array(pk, 2);
  rc |= pack_str(pk, title) | msgpack_pack_array(pk, 0);
  rc |= msgpack_pack_array(pk, 4) | msgpack_pack_uint8(pk, CAIRN_OP_PUT);
  rc |= pack_str(pk, "_member") | pack_str(pk, cairn_hex(k->pk, CAIRN_KEY_BYTES, hex));
  rc |= msgpack_pack_map(pk, 2);
  rc |= pack_str(pk, "name") | msgpack_pack_array(pk, 2);
  rc |= pack_str(pk, "owner") | msgpack_pack_array(pk, 0);
  rc |= pack_str(pk, "role") | msgpack_pack_array(pk, 2);
  rc |= pack_str(pk, "owner") | msgpack_pack_array(pk, 0);
  return rc ? CAIRN_ENOMEM : 0;
}

int cairn_test_genesis(cairn_test_key_t *k, const uint8_t *nonce, const char *title,
                       uint8_t **out, size_t *out_len) {
  static const char label[] = "cairn network v1";
  uint8_t rnd[32];
  crypto_generichash_state st;
  msgpack_sbuffer sb;
  msgpack_packer pk;
  int rc;
  if (k->seq != 0)
    return CAIRN_EINVAL;
  if (nonce == NULL) {
    randombytes_buf(rnd, sizeof rnd);
    nonce = rnd;
  }
  crypto_generichash_init(&st, NULL, 0, CAIRN_HASH_BYTES);
  crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
  crypto_generichash_update(&st, k->pk, CAIRN_KEY_BYTES);
  crypto_generichash_update(&st, nonce, 32);
  crypto_generichash_final(&st, k->network, CAIRN_KEY_BYTES);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  rc = pack_genesis_ops(&pk, k, nonce, title);
  if (rc == 0)
    rc = cairn_test_key_sign(k, (const uint8_t *)sb.data, sb.size, out, out_len);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

int cairn_test_grant(cairn_test_key_t *k, const uint8_t member[CAIRN_KEY_BYTES],
                     const char *role, uint8_t **out, size_t *out_len) {
  char hex[2 * CAIRN_KEY_BYTES + 1];
  msgpack_sbuffer sb;
  msgpack_packer pk;
  int rc;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  rc = msgpack_pack_array(&pk, 1) | msgpack_pack_array(&pk, 4);
  rc |= msgpack_pack_uint8(&pk, CAIRN_OP_PUT) | pack_str(&pk, "_member");
  rc |= pack_str(&pk, cairn_hex(member, CAIRN_KEY_BYTES, hex)) | msgpack_pack_map(&pk, 1);
  rc |= pack_str(&pk, "role") | msgpack_pack_array(&pk, 2);
  rc |= pack_str(&pk, role) | msgpack_pack_array(&pk, 0);
  rc = rc ? CAIRN_ENOMEM
          : cairn_test_key_sign(k, (const uint8_t *)sb.data, sb.size, out, out_len);
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

int cairn_test_ops_put(const char *type, const char *id, const char *field,
                       const char *strvalue, uint8_t **out, size_t *out_len) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  int rc;
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  rc = msgpack_pack_array(&pk, 1) | msgpack_pack_array(&pk, 4);
  rc |= msgpack_pack_uint8(&pk, CAIRN_OP_PUT) | pack_str(&pk, type) | pack_str(&pk, id);
  rc |= msgpack_pack_map(&pk, 1) | pack_str(&pk, field) | msgpack_pack_array(&pk, 2);
  rc |= pack_str(&pk, strvalue) | msgpack_pack_array(&pk, 0);
  if (rc != 0 || sb.data == NULL) {
    msgpack_sbuffer_destroy(&sb);
    return CAIRN_ENOMEM;
  }
  *out = (uint8_t *)sb.data; /* msgpack_sbuffer's data is malloc'd */
  *out_len = sb.size;
  return 0;
}

int cairn_test_apply1(cairn_store_t *s, const uint8_t *entry, size_t len, cairn_error_t *err) {
  cairn_buf_t b = {entry, len};
  return cairn_store_apply(s, &b, 1, NULL, err);
}
