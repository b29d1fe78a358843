/*
 * test_values.c — field values: httpie arguments, JSON <-> MessagePack, --where.
 *
 * Checks exact bytes for known values, round trips JSON -> MessagePack -> JSON,
 * every documented mapping of the MessagePack -> JSON direction, every error
 * case, that hostile counts are refused before anything is allocated, and that
 * a failed allocation at any point ends in CAIRN_ENOMEM with nothing leaked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "entry.h"
#include "mpread.h"
#include "values.h"

/* ---- helpers ---- */

static size_t unhex(const char *hex, uint8_t *out, size_t cap) {
  size_t n = 0;
  for (const char *p = hex; *p != '\0';) {
    unsigned v;
    if (*p == ' ') {
      p++;
      continue;
    }
    assert_true(sscanf(p, "%2x", &v) == 1);
    assert_true(n < cap);
    out[n++] = (uint8_t)v;
    p += 2;
  }
  return n;
}

static void assert_hex(const uint8_t *got, size_t got_len, const char *hex) {
  uint8_t want[256];
  size_t n = unhex(hex, want, sizeof want);
  if (got_len != n || memcmp(got, want, n) != 0) {
    char buf[600];
    size_t o = 0;
    for (size_t i = 0; i < got_len && o + 4 < sizeof buf; i++)
      o += (size_t)snprintf(buf + o, sizeof buf - o, "%02x ", got[i]);
    buf[o] = '\0';
    fail_msg("bytes differ: got [%s], want [%s]", buf, hex);
  }
}

static json_t *load(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
  if (j == NULL)
    fail_msg("test JSON '%s' does not parse: %s", text, e.text);
  return j;
}

/* JSON text -> MessagePack, which must succeed. */
static uint8_t *pack(const char *text, size_t *len) {
  json_t *j = load(text);
  uint8_t *mp = NULL;
  cairn_error_t err;
  int rc = cairn_value_from_json(j, &mp, len, &err);
  if (rc != 0)
    fail_msg("from_json '%s': %s", text, err.msg);
  json_decref(j);
  return mp;
}

/* MessagePack given in hex -> compact JSON text (caller frees), which must
 * succeed. */
static char *hex_to_text(const char *hex) {
  uint8_t mp[256];
  size_t n = unhex(hex, mp, sizeof mp);
  json_t *j = NULL;
  char *s;
  int rc = cairn_value_to_json(mp, n, &j);
  if (rc != 0)
    fail_msg("to_json [%s]: %s", hex, cairn_err_name(rc));
  s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_ENSURE_ASCII);
  assert_non_null(s);
  json_decref(j);
  return s;
}

static void assert_to_json_text(const char *hex, const char *want) {
  char *got = hex_to_text(hex);
  if (strcmp(got, want) != 0)
    fail_msg("to_json [%s]: got %s, want %s", hex, got, want);
  free(got);
}

static void assert_to_json_fails(const uint8_t *mp, size_t n, int code) {
  json_t *j = (json_t *)1;
  int rc = cairn_value_to_json(mp, n, &j);
  if (rc != code)
    fail_msg("to_json: got %s, want %s", cairn_err_name(rc), cairn_err_name(code));
  assert_null(j);
}

static void assert_to_json_hex_fails(const char *hex) {
  uint8_t mp[256];
  size_t n = unhex(hex, mp, sizeof mp);
  assert_to_json_fails(mp, n, CAIRN_EMALFORMED);
}

/* Nested arrays (or objects {"k": ...}) around 0, depth containers deep. */
static char *nested_json(int depth, int objects) {
  char *s = malloc((size_t)depth * 8 + 8);
  size_t o = 0;
  assert_non_null(s);
  for (int i = 0; i < depth; i++) {
    memcpy(s + o, objects ? "{\"k\":" : "[", objects ? 5 : 1);
    o += objects ? 5 : 1;
  }
  s[o++] = '0';
  for (int i = 0; i < depth; i++)
    s[o++] = objects ? '}' : ']';
  s[o] = '\0';
  return s;
}

/* ---- JSON -> MessagePack: exact bytes ---- */

static void test_from_json_bytes(void **state) {
  static const struct {
    const char *json, *hex;
  } cases[] = {
      {"0", "00"},
      {"42", "2a"},
      {"127", "7f"},
      {"128", "cc 80"},
      {"300", "cd 01 2c"},
      {"70000", "ce 00 01 11 70"},
      {"4294967296", "cf 00 00 00 01 00 00 00 00"},
      {"9223372036854775807", "cf 7f ff ff ff ff ff ff ff"},
      {"-1", "ff"},
      {"-32", "e0"},
      {"-33", "d0 df"},
      {"-129", "d1 ff 7f"},
      {"-9223372036854775808", "d3 80 00 00 00 00 00 00 00"},
      {"1.5", "cb 3f f8 00 00 00 00 00 00"},
      {"1.0", "cb 3f f0 00 00 00 00 00 00"},
      {"true", "c3"},
      {"false", "c2"},
      {"null", "c0"},
      {"\"\"", "a0"},
      {"\"hi\"", "a2 68 69"},
      {"\"\\u00e9\"", "a2 c3 a9"},
      {"\"a\\u0000b\"", "a3 61 00 62"},
      {"[]", "90"},
      {"{}", "80"},
      {"[1,null]", "92 01 c0"},
      {"{\"a\":[1,null],\"b\":true}", "82 a1 61 92 01 c0 a1 62 c3"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n;
    uint8_t *mp = pack(cases[i].json, &n);
    assert_hex(mp, n, cases[i].hex);
    free(mp);
  }
}

static void test_from_json_sizes(void **state) {
  /* str 8/16/32, array 16, map 16 headers */
  char *s = malloc(70010);
  size_t n;
  uint8_t *mp;
  assert_non_null(s);
  s[0] = '"';
  memset(s + 1, 'x', 70000);
  memcpy(s + 70001, "\"", 2);
  mp = pack(s, &n);
  assert_int_equal(n, 5 + 70000);
  assert_hex(mp, 5, "db 00 01 11 70");
  free(mp);
  memcpy(s + 301, "\"", 2);
  mp = pack(s, &n);
  assert_int_equal(n, 3 + 300);
  assert_hex(mp, 3, "da 01 2c");
  free(mp);
  memcpy(s + 41, "\"", 2);
  mp = pack(s, &n);
  assert_int_equal(n, 2 + 40);
  assert_hex(mp, 2, "d9 28");
  free(mp);
  free(s);

  json_t *a = json_array(), *o = json_object();
  for (int i = 0; i < 20; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%d", i);
    assert_int_equal(json_array_append_new(a, json_integer(i)), 0);
    assert_int_equal(json_object_set_new(o, k, json_integer(i)), 0);
  }
  assert_int_equal(cairn_value_from_json(a, &mp, &n, NULL), 0);
  assert_hex(mp, 3, "dc 00 14");
  assert_int_equal(n, 3 + 20);
  free(mp);
  assert_int_equal(cairn_value_from_json(o, &mp, &n, NULL), 0);
  assert_hex(mp, 6, "de 00 14 a2 6b 30");
  free(mp);
  json_decref(a);
  json_decref(o);
}

/* ---- round trips JSON -> MessagePack -> JSON ---- */

static void roundtrip(const char *text) {
  json_t *orig = load(text), *back = NULL;
  uint8_t *mp = NULL;
  size_t n;
  cairn_error_t err;
  char *a, *b;
  if (cairn_value_from_json(orig, &mp, &n, &err) != 0)
    fail_msg("from_json %s: %s", text, err.msg);
  /* every packed value is one an entry accepts */
  assert_int_equal(cairn_mp_validate(mp, n, CAIRN_VALUE_DEPTH_MAX), 0);
  assert_int_equal(cairn_value_to_json(mp, n, &back), 0);
  if (!json_equal(orig, back)) {
    a = json_dumps(orig, JSON_ENCODE_ANY);
    b = json_dumps(back, JSON_ENCODE_ANY);
    fail_msg("round trip changed %s into %s", a, b);
  }
  /* same text too: same types, same key order */
  a = json_dumps(orig, JSON_ENCODE_ANY | JSON_COMPACT);
  b = json_dumps(back, JSON_ENCODE_ANY | JSON_COMPACT);
  assert_non_null(a);
  assert_non_null(b);
  assert_string_equal(a, b);
  free(a);
  free(b);
  free(mp);
  json_decref(orig);
  json_decref(back);
}

static void test_roundtrip(void **state) {
  static const char *values[] = {
      "0",
      "1",
      "-1",
      "127",
      "128",
      "255",
      "256",
      "65535",
      "65536",
      "4294967295",
      "4294967296",
      "-32",
      "-33",
      "-128",
      "-129",
      "-32768",
      "-32769",
      "-2147483648",
      "-2147483649",
      "9223372036854775807",
      "-9223372036854775808",
      "0.0",
      "-0.0",
      "1.5",
      "-2.25",
      "3.141592653589793",
      "1e300",
      "-1e-300",
      "5e-324",
      "1.7976931348623157e308",
      "true",
      "false",
      "null",
      "\"\"",
      "\"a\"",
      "\"h\\u00e9llo w\\u00f6rld\"",
      "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\"",
      "\"emoji \xf0\x9f\x98\x80\"",
      "\"\\u0000nul\"",
      "\"quote \\\" backslash \\\\ tab \\t\"",
      "[]",
      "{}",
      "[[]]",
      "[{}]",
      "{\"a\":{}}",
      "{\"a\":[]}",
      "[1,\"two\",3.0,null,true,[false]]",
      "{\"name\":\"Ana\",\"tags\":[\"x\",\"y\"],\"n\":{\"deep\":[1,{\"k\":-5}]}}",
      "{\"z\":1,\"a\":2,\"m\":3}",
      "{\"\xc3\xa9t\xc3\xa9\":\"\xe2\x82\xac\"}",
      "{\"_ext\":1,\"base64\":\"AA==\"}",
      "[9223372036854775807,-9223372036854775808,0.5]",
  };
  for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
    roundtrip(values[i]);

  /* 16 levels, the most allowed, of arrays, objects and a mix */
  char *s = nested_json(CAIRN_VALUE_DEPTH_MAX, 0);
  roundtrip(s);
  free(s);
  s = nested_json(CAIRN_VALUE_DEPTH_MAX, 1);
  roundtrip(s);
  free(s);
  roundtrip("[{\"a\":[{\"b\":[{\"c\":[{\"d\":[{\"e\":[{\"f\":[{\"g\":[{\"h\":1}]}]}]}]}]}"
            "]}]}]");

  /* long values: str 16/32, array 16/32, map 16 */
  json_t *big = json_object(), *arr = json_array();
  char *str = malloc(70001);
  assert_non_null(str);
  memset(str, 'q', 70000);
  str[70000] = '\0';
  for (int i = 0; i < 70000; i++)
    assert_int_equal(json_array_append_new(arr, json_integer(i - 35000)), 0);
  assert_int_equal(json_object_set_new(big, "s", json_string(str)), 0);
  assert_int_equal(json_object_set_new(big, "a", arr), 0);
  for (int i = 0; i < 100; i++) {
    char k[8];
    snprintf(k, sizeof k, "k%d", i);
    assert_int_equal(json_object_set_new(big, k, json_real(i / 4.0)), 0);
  }
  char *text = json_dumps(big, JSON_COMPACT);
  assert_non_null(text);
  roundtrip(text);
  free(text);
  free(str);
  json_decref(big);
}

/* ---- MessagePack -> JSON: the documented mappings ---- */

static void test_to_json_mappings(void **state) {
  /* integers in every encoding */
  assert_to_json_text("d0 01", "1");
  assert_to_json_text("d0 80", "-128");
  assert_to_json_text("cc ff", "255");
  assert_to_json_text("d2 ff ff ff ff", "-1");
  assert_to_json_text("cf 7f ff ff ff ff ff ff ff", "9223372036854775807");
  /* uint64 above INT64_MAX: a string of its exact digits */
  assert_to_json_text("cf 80 00 00 00 00 00 00 00", "\"9223372036854775808\"");
  assert_to_json_text("cf ff ff ff ff ff ff ff ff", "\"18446744073709551615\"");
  /* floats: float 32 widens exactly; non-finite become strings */
  assert_to_json_text("ca 3f c0 00 00", "1.5");
  assert_to_json_text("cb 7f f8 00 00 00 00 00 00", "\"NaN\"");
  assert_to_json_text("ca 7f c0 00 00", "\"NaN\"");
  assert_to_json_text("cb 7f f0 00 00 00 00 00 00", "\"Infinity\"");
  assert_to_json_text("ca ff 80 00 00", "\"-Infinity\"");
  /* str 8/16/32 encodings of a short string */
  assert_to_json_text("d9 02 68 69", "\"hi\"");
  assert_to_json_text("da 00 02 68 69", "\"hi\"");
  assert_to_json_text("db 00 00 00 02 68 69", "\"hi\"");
  /* bin: "base64:" + padded standard base64 */
  assert_to_json_text("c4 00", "\"base64:\"");
  assert_to_json_text("c4 02 00 01", "\"base64:AAE=\"");
  assert_to_json_text("c5 00 03 fb ff fe", "\"base64:+//+\"");
  assert_to_json_text("c6 00 00 00 01 ff", "\"base64:/w==\"");
  /* ext: fixext and ext 8, negative type */
  assert_to_json_text("d4 05 07", "{\"_ext\":5,\"base64\":\"Bw==\"}");
  assert_to_json_text("c7 00 ff", "{\"_ext\":-1,\"base64\":\"\"}");
  assert_to_json_text("d6 ff 00 00 00 01", "{\"_ext\":-1,\"base64\":\"AAAAAQ==\"}");
  /* map keys: str as is, others by their JSON text; order kept */
  assert_to_json_text("83 a1 7a 01 a1 61 02 a1 6d 03", "{\"z\":1,\"a\":2,\"m\":3}");
  assert_to_json_text("81 01 a1 61", "{\"1\":\"a\"}");
  assert_to_json_text("81 ff c0", "{\"-1\":null}");
  assert_to_json_text("82 c0 01 c3 02", "{\"null\":1,\"true\":2}");
  assert_to_json_text("81 cb 3f f8 00 00 00 00 00 00 01", "{\"1.5\":1}");
  assert_to_json_text("81 92 01 02 a1 78", "{\"[1,2]\":\"x\"}");
  assert_to_json_text("81 81 a1 61 01 a1 78", "{\"{\\\"a\\\":1}\":\"x\"}");
  assert_to_json_text("81 c4 01 00 01", "{\"base64:AA==\":1}");
  assert_to_json_text("81 a3 61 00 62 01", "{\"a\\u0000b\":1}");
  /* containers in their 16 and 32 bit forms */
  assert_to_json_text("dc 00 02 01 02", "[1,2]");
  assert_to_json_text("dd 00 00 00 01 c0", "[null]");
  assert_to_json_text("de 00 01 a1 61 90", "{\"a\":[]}");
  assert_to_json_text("df 00 00 00 00", "{}");
}

static void test_to_json_utf8_repair(void **state) {
  /* each maximal ill-formed subpart becomes one U+FFFD (\ufffd) */
  assert_to_json_text("a2 c3 28", "\"\\uFFFD(\"");                 /* bad continuation */
  assert_to_json_text("a2 e2 82", "\"\\uFFFD\"");                  /* truncated 3-byte */
  assert_to_json_text("a3 f0 9f 98", "\"\\uFFFD\"");               /* truncated 4-byte */
  assert_to_json_text("a2 c0 af", "\"\\uFFFD\\uFFFD\"");           /* overlong */
  assert_to_json_text("a3 ed a0 80", "\"\\uFFFD\\uFFFD\\uFFFD\""); /* surrogate */
  assert_to_json_text("a4 f4 90 80 80",
                      "\"\\uFFFD\\uFFFD\\uFFFD\\uFFFD\""); /* > U+10FFFF */
  assert_to_json_text("a1 ff", "\"\\uFFFD\"");
  assert_to_json_text("a5 61 80 62 e2 82", "\"a\\uFFFDb\\uFFFD\"");
  /* valid sequences next to bad ones are kept */
  assert_to_json_text("a4 ff e2 82 ac", "\"\\uFFFD\\u20AC\"");
  /* keys are repaired the same way */
  assert_to_json_text("81 a1 ff 01", "{\"\\uFFFD\":1}");
}

static void test_to_json_malformed(void **state) {
  static const char *bad[] = {
      "",                        /* nothing */
      "c1",                      /* never used */
      "c0 c0",                   /* trailing bytes */
      "a1 61 00",                /* trailing bytes */
      "a5 61",                   /* truncated str */
      "d9",                      /* str 8 without its length */
      "da 00",                   /* str 16 length cut */
      "cd 01",                   /* truncated uint 16 */
      "cf 00 00 00",             /* truncated uint 64 */
      "d3 00",                   /* truncated int 64 */
      "ca 00 00",                /* truncated float 32 */
      "cb 00 00 00 00 00 00 00", /* truncated float 64 */
      "c4 05 00",                /* truncated bin */
      "c6 ff ff ff ff 00",       /* bin claiming 4 GiB */
      "d4 05",                   /* fixext without data */
      "c7 02 01 00",             /* ext 8 short */
      "92 01",                   /* array short of an element */
      "82 a1 61 01",             /* map short of a pair */
      "81 a1 61",                /* key without value */
      "dd ff ff ff ff",          /* array claiming 4 billion */
      "df ff ff ff ff",          /* map claiming 4 billion */
      "dc ff ff c0 c0 c0",       /* array 16 claiming too many */
      "de 00 02 a1 61 01",       /* map 16 claiming too many */
      "91 dd ff ff ff ff",       /* the same, nested */
      "82 a1 61 01 a1 61 02",    /* duplicate key */
      "82 01 c0 a1 31 c0",       /* 1 and "1" collide */
      "82 a1 ff 01 a1 fe 02",    /* keys collide after UTF-8 repair */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_to_json_hex_fails(bad[i]);

  /* NULL arguments */
  json_t *j;
  uint8_t nil = 0xc0;
  assert_int_equal(cairn_value_to_json(NULL, 0, &j), CAIRN_EINVAL);
  assert_null(j);
  assert_int_equal(cairn_value_to_json(&nil, 1, NULL), CAIRN_EINVAL);
}

static void test_to_json_depth(void **state) {
  uint8_t mp[64];
  json_t *j = NULL;
  /* 16 nested arrays around nil: accepted */
  memset(mp, 0x91, CAIRN_VALUE_DEPTH_MAX);
  mp[CAIRN_VALUE_DEPTH_MAX] = 0xc0;
  assert_int_equal(cairn_value_to_json(mp, CAIRN_VALUE_DEPTH_MAX + 1, &j), 0);
  json_decref(j);
  /* 17: refused, like cairn_entry_decode refuses it */
  memset(mp, 0x91, CAIRN_VALUE_DEPTH_MAX + 1);
  mp[CAIRN_VALUE_DEPTH_MAX + 1] = 0xc0;
  assert_to_json_fails(mp, CAIRN_VALUE_DEPTH_MAX + 2, CAIRN_EMALFORMED);
  assert_int_equal(
      cairn_mp_validate(mp, CAIRN_VALUE_DEPTH_MAX + 2, CAIRN_VALUE_DEPTH_MAX),
      CAIRN_EMALFORMED);
  /* maps count too, and so do containers used as keys */
  size_t n = 0;
  for (int i = 0; i < CAIRN_VALUE_DEPTH_MAX; i++) {
    mp[n++] = 0x81;
    mp[n++] = 0xa1;
    mp[n++] = 'k';
  }
  mp[n++] = 0x90; /* a 17th container as the innermost value */
  assert_to_json_fails(mp, n, CAIRN_EMALFORMED);
  mp[n - 1] = 0xc0;
  assert_int_equal(cairn_value_to_json(mp, n, &j), 0);
  json_decref(j);
  /* {{{...{K: nil}...: nil}: nil}: each map's key is the next map */
  n = 0;
  for (int i = 0; i < CAIRN_VALUE_DEPTH_MAX; i++)
    mp[n++] = 0x81;
  mp[n++] = 0x90; /* K, a 17th container */
  memset(mp + n, 0xc0, CAIRN_VALUE_DEPTH_MAX);
  n += CAIRN_VALUE_DEPTH_MAX;
  assert_to_json_fails(mp, n, CAIRN_EMALFORMED);
  mp[CAIRN_VALUE_DEPTH_MAX] = 0xc0; /* K = nil: 16 levels */
  assert_int_equal(cairn_value_to_json(mp, n, &j), 0);
  json_decref(j);
  /* a hostile depth far beyond the limit is refused without deep recursion */
  uint8_t deep[100000];
  memset(deep, 0x91, sizeof deep - 1);
  deep[sizeof deep - 1] = 0xc0;
  assert_to_json_fails(deep, sizeof deep, CAIRN_EMALFORMED);
}

/* ---- allocation accounting through jansson's allocator hook ---- */

static long allocs, frees, fail_at;

static void *counting_malloc(size_t n) {
  if (fail_at > 0 && allocs + 1 == fail_at)
    return NULL;
  allocs++;
  return malloc(n);
}

static void counting_free(void *p) {
  if (p != NULL)
    frees++;
  free(p);
}

static void hook_allocs(long fail) {
  allocs = frees = 0;
  fail_at = fail;
  json_set_alloc_funcs(counting_malloc, counting_free);
}

static void unhook_allocs(void) { json_set_alloc_funcs(malloc, free); }

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_huge_claims_rejected_without_allocating(void **state) {
  static const char *claims[] = {
      "dd ff ff ff ff", "df ff ff ff ff", "dd 00 01 00 00 c0 c0", "dc ff ff",
      "db ff ff ff ff", "c6 ff ff ff ff", "c9 ff ff ff ff 01"};
  for (size_t i = 0; i < sizeof claims / sizeof claims[0]; i++) {
    uint8_t mp[16];
    size_t n = unhex(claims[i], mp, sizeof mp);
    json_t *j = NULL;
    double t0 = now();
    hook_allocs(0);
    int rc = cairn_value_to_json(mp, n, &j);
    unhook_allocs();
    assert_int_equal(rc, CAIRN_EMALFORMED);
    assert_null(j);
    assert_int_equal(allocs, 0);
    assert_true(now() - t0 < 0.1);
  }
  /* a claim inside a valid prefix: what was built is freed again */
  uint8_t mp[] = {0x93, 0xa1, 'x', 0x81, 0xa1, 'k', 0xdd, 0xff, 0xff, 0xff, 0xff};
  json_t *j = NULL;
  hook_allocs(0);
  int rc = cairn_value_to_json(mp, sizeof mp, &j);
  unhook_allocs();
  assert_int_equal(rc, CAIRN_EMALFORMED);
  assert_null(j);
  assert_true(allocs > 0);
  assert_int_equal(allocs, frees);
}

static void test_to_json_alloc_failures(void **state) {
  /* touches every allocating path: arrays, maps, str, repaired str, bin, ext,
   * big uint, non-finite float, non-str keys */
  uint8_t mp[256];
  size_t n = unhex("8a a1 61 93 01 a2 c3 28 c4 02 00 01"
                   " 01 d4 05 07"
                   " 92 01 02 cf ff ff ff ff ff ff ff ff"
                   " a1 62 cb 7f f8 00 00 00 00 00 00"
                   " c4 01 00 ca 3f c0 00 00"
                   " a1 ff 80"
                   " c3 90"
                   " a2 6b 32 81 01 81 01 02"
                   " a2 6b 33 a3 61 62 63"
                   " a2 6b 34 d0 80",
                   mp, sizeof mp);
  json_t *j = NULL;
  long needed;
  hook_allocs(0);
  assert_int_equal(cairn_value_to_json(mp, n, &j), 0);
  unhook_allocs();
  needed = allocs;
  assert_true(needed > 10);
  json_decref(j);
  for (long k = 1; k <= needed; k++) {
    hook_allocs(k);
    int rc = cairn_value_to_json(mp, n, &j);
    unhook_allocs();
    if (rc != CAIRN_ENOMEM)
      fail_msg("allocation %ld of %ld failed: got %s", k, needed, cairn_err_name(rc));
    assert_null(j);
    if (allocs != frees)
      fail_msg("allocation %ld of %ld failed: %ld blocks leaked", k, needed,
               allocs - frees);
  }
}

/* ---- depth limit, JSON side ---- */

static void test_from_json_depth(void **state) {
  for (int objects = 0; objects <= 1; objects++) {
    char *ok = nested_json(CAIRN_VALUE_DEPTH_MAX, objects);
    char *deep = nested_json(CAIRN_VALUE_DEPTH_MAX + 1, objects);
    json_t *j = load(ok);
    uint8_t *mp = (uint8_t *)1;
    size_t n = 1;
    cairn_error_t err;
    assert_int_equal(cairn_value_from_json(j, &mp, &n, &err), 0);
    assert_int_equal(cairn_mp_validate(mp, n, CAIRN_VALUE_DEPTH_MAX), 0);
    free(mp);
    json_decref(j);
    j = load(deep);
    assert_int_equal(cairn_value_from_json(j, &mp, &n, &err), CAIRN_EINVAL);
    assert_int_equal(err.code, CAIRN_EINVAL);
    assert_string_equal(err.msg, "nesting deeper than 16 levels");
    assert_null(mp);
    assert_int_equal(n, 0);
    json_decref(j);
    free(ok);
    free(deep);
  }
  uint8_t *mp;
  size_t n;
  cairn_error_t err;
  assert_int_equal(cairn_value_from_json(NULL, &mp, &n, &err), CAIRN_EINVAL);
  assert_null(mp);
}

/* ---- httpie arguments ---- */

static void parse_ok(const char *arg, const char *want_name, const char *want_hex) {
  char *name = NULL;
  uint8_t *value = NULL;
  size_t len = 0;
  cairn_error_t err;
  int rc = cairn_value_parse_arg(arg, &name, &value, &len, &err);
  if (rc != 0)
    fail_msg("parse_arg '%s': %s", arg, err.msg);
  assert_string_equal(name, want_name);
  assert_hex(value, len, want_hex);
  assert_int_equal(cairn_mp_validate(value, len, CAIRN_VALUE_DEPTH_MAX), 0);
  free(name);
  free(value);
}

static void test_parse_arg_ok(void **state) {
  parse_ok("title=Tutor 40", "title", "a8 54 75 74 6f 72 20 34 30");
  /* '=' is always a string, even when it looks like something else */
  parse_ok("count=42", "count", "a2 34 32");
  parse_ok("done=true", "done", "a4 74 72 75 65");
  parse_ok("x=null", "x", "a4 6e 75 6c 6c");
  parse_ok("empty=", "empty", "a0");
  /* ':=' is JSON */
  parse_ok("count:=42", "count", "2a");
  parse_ok("neg:=-3", "neg", "fd");
  parse_ok("done:=true", "done", "c3");
  parse_ok("off:=false", "off", "c2");
  parse_ok("x:=null", "x", "c0");
  parse_ok("ratio:=0.5", "ratio", "cb 3f e0 00 00 00 00 00 00");
  parse_ok("tags:=[\"a\",\"b\"]", "tags", "92 a1 61 a1 62");
  parse_ok("s:=\"quoted\"", "s", "a6 71 75 6f 74 65 64");
  parse_ok("obj:={\"k\":1}", "obj", "81 a1 6b 01");
  parse_ok("ws:= [ 1 ,2 ] ", "ws", "92 01 02");
  parse_ok("e:=[]", "e", "90");
  /* only the first '=' splits */
  parse_ok("url=http://x/?a=b", "url", "ad 68 74 74 70 3a 2f 2f 78 2f 3f 61 3d 62");
  parse_ok("a==b", "a", "a2 3d 62");
  parse_ok("a:b=c", "a:b", "a1 63");
  parse_ok("eq:=\"=\"", "eq", "a1 3d");
  /* UTF-8 names and text */
  parse_ok("a\xc3\xb1o=\xe2\x82\xac", "a\xc3\xb1o", "a3 e2 82 ac");
  /* a 64-byte name is the longest allowed */
  char arg[128];
  memset(arg, 'n', 64);
  memcpy(arg + 64, "=v", 3);
  char want[65];
  memset(want, 'n', 64);
  want[64] = '\0';
  parse_ok(arg, want, "a1 76");
}

static void parse_fails(const char *arg, int code, const char *msg_part) {
  char *name = (char *)1;
  uint8_t *value = (uint8_t *)1;
  size_t len = 1;
  cairn_error_t err;
  int rc = cairn_value_parse_arg(arg, &name, &value, &len, &err);
  if (rc != code)
    fail_msg("parse_arg '%s': got %s, want %s", arg, cairn_err_name(rc),
             cairn_err_name(code));
  assert_int_equal(err.code, code);
  if (strstr(err.msg, msg_part) == NULL)
    fail_msg("parse_arg '%s': message '%s' lacks '%s'", arg, err.msg, msg_part);
  assert_null(strchr(err.msg, '\n'));
  assert_null(name);
  assert_null(value);
  assert_int_equal(len, 0);
}

static void test_parse_arg_errors(void **state) {
  parse_fails("count", CAIRN_EINVAL, "bad field argument 'count': missing '='");
  parse_fails("", CAIRN_EINVAL, "missing '='");
  parse_fails("=x", CAIRN_EINVAL, "bad field argument '=x': empty field name");
  parse_fails(":=1", CAIRN_EINVAL, "empty field name");
  parse_fails("_x=1", CAIRN_EINVAL, "field name '_x' is reserved");
  parse_fails("_type:=1", CAIRN_EINVAL, "field name '_type' is reserved");
  parse_fails("count:=4x", CAIRN_EINVAL,
              "bad field argument 'count:=4x': invalid JSON (");
  parse_fails("count:=", CAIRN_EINVAL, "invalid JSON");
  parse_fails("x:=[1,2", CAIRN_EINVAL, "invalid JSON");
  parse_fails("x:=nul", CAIRN_EINVAL, "invalid JSON");
  parse_fails("x:={\"a\":1,\"a\":2}", CAIRN_EINVAL, "duplicate");
  parse_fails("x:='a'", CAIRN_EINVAL, "invalid JSON");
  parse_fails("name:=hello", CAIRN_EINVAL, "for a string write NAME=TEXT");
  parse_fails("x:=18446744073709551615", CAIRN_EINVAL, "invalid JSON");
  parse_fails("bad\xff=x", CAIRN_EINVAL, "'bad?=x': field name is not valid UTF-8");
  parse_fails("x=\xc3\x28", CAIRN_EINVAL, "text is not valid UTF-8");

  char arg[200];
  memset(arg, 'n', 65);
  memcpy(arg + 65, "=v", 3);
  parse_fails(arg, CAIRN_EINVAL, "field name longer than 64 bytes");

  /* too deep after ':=' */
  char *deep = nested_json(CAIRN_VALUE_DEPTH_MAX + 1, 0);
  snprintf(arg, sizeof arg, "d:=%s", deep);
  parse_fails(arg, CAIRN_EINVAL, "nesting deeper than 16 levels");
  parse_fails(arg, CAIRN_EINVAL, "bad field argument 'd:=[[[[");
  free(deep);

  /* messages stay on one line and within bounds, whatever the argument */
  parse_fails("a\nb", CAIRN_EINVAL, "'a?b': missing");
  memset(arg, 'y', 150);
  arg[150] = '\0';
  parse_fails(arg, CAIRN_EINVAL, "yyy...': missing '='");
  /* a cut never splits a character: 30 two-byte letters fill the 60 bytes */
  for (int i = 0; i < 40; i++)
    memcpy(arg + 1 + 2 * i, "\xc3\xa9", 2);
  arg[0] = 'x';
  arg[81] = '\0';
  parse_fails(arg, CAIRN_EINVAL, "\xc3\xa9\xc3\xa9...': missing");
  parse_fails(arg, CAIRN_EINVAL, "'x\xc3\xa9");

  /* NULL arguments */
  char *name;
  uint8_t *value;
  size_t len;
  cairn_error_t err;
  assert_int_equal(cairn_value_parse_arg(NULL, &name, &value, &len, &err), CAIRN_EINVAL);
  assert_null(name);
  assert_int_equal(cairn_value_parse_arg("a=b", NULL, &value, &len, NULL), CAIRN_EINVAL);
  assert_null(value);
}

/* ---- --where ---- */

static int matches_json(const char *json, const char *text) {
  size_t n;
  uint8_t *mp = pack(json, &n);
  int m = cairn_value_matches(mp, n, text);
  free(mp);
  return m;
}

static int matches_hex(const char *hex, const char *text) {
  uint8_t mp[64];
  size_t n = unhex(hex, mp, sizeof mp);
  return cairn_value_matches(mp, n, text);
}

static void test_matches(void **state) {
  /* strings compare as text, exactly */
  assert_int_equal(matches_json("\"42\"", "42"), 1);
  assert_int_equal(matches_json("\"42\"", "42.0"), 0);
  assert_int_equal(matches_json("\"Ana\"", "Ana"), 1);
  assert_int_equal(matches_json("\"Ana\"", "ana"), 0);
  assert_int_equal(matches_json("\"Ana\"", "Ana "), 0);
  assert_int_equal(matches_json("\"Ana\"", "\"Ana\""), 0);
  assert_int_equal(matches_json("\"\"", ""), 1);
  assert_int_equal(matches_json("\"true\"", "true"), 1);
  assert_int_equal(matches_json("\"h\\u00e9\"", "h\xc3\xa9"), 1);
  assert_int_equal(matches_json("\"a\\u0000b\"", "a"), 0);
  assert_int_equal(matches_hex("a2 c3 28", "\xc3\x28"), 1); /* raw bytes, not repaired */
  /* numbers compare by value */
  assert_int_equal(matches_json("42", "42"), 1);
  assert_int_equal(matches_json("42", "42.0"), 1);
  assert_int_equal(matches_json("42", " 42 "), 1);
  assert_int_equal(matches_json("42", "43"), 0);
  assert_int_equal(matches_json("42", "abc"), 0);
  assert_int_equal(matches_json("42", ""), 0);
  assert_int_equal(matches_json("42", "\"42\""), 0);
  assert_int_equal(matches_json("-7", "-7"), 1);
  assert_int_equal(matches_json("1.5", "1.5"), 1);
  assert_int_equal(matches_json("1.5", "1.50"), 1);
  assert_int_equal(matches_json("1.5", "1"), 0);
  assert_int_equal(matches_json("2.0", "2"), 1);
  assert_int_equal(matches_json("9223372036854775807", "9223372036854775807"), 1);
  assert_int_equal(matches_json("9223372036854775807", "9223372036854775806"), 0);
  /* 2^53 + 1 is not equal to the double 2^53 it rounds to */
  assert_int_equal(matches_json("9007199254740993", "9007199254740992.0"), 0);
  assert_int_equal(matches_json("9007199254740992", "9007199254740992.0"), 1);
  assert_int_equal(matches_json("9223372036854775807", "9.3e18"), 0);
  /* true, false, null */
  assert_int_equal(matches_json("true", "true"), 1);
  assert_int_equal(matches_json("true", "1"), 0);
  assert_int_equal(matches_json("false", "false"), 1);
  assert_int_equal(matches_json("false", "true"), 0);
  assert_int_equal(matches_json("null", "null"), 1);
  assert_int_equal(matches_json("null", ""), 0);
  /* arrays and maps by value */
  assert_int_equal(matches_json("[1,2]", "[1, 2]"), 1);
  assert_int_equal(matches_json("[1,2]", "[1,2.0]"), 1);
  assert_int_equal(matches_json("[1,2]", "[2,1]"), 0);
  assert_int_equal(matches_json("[1,2]", "[1,2,3]"), 0);
  assert_int_equal(matches_json("[\"a\"]", "[\"a\"]"), 1);
  assert_int_equal(matches_json("[\"a\"]", "[a]"), 0);
  assert_int_equal(matches_json("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"), 1);
  assert_int_equal(matches_json("{\"a\":1,\"b\":2}", "{\"a\":1}"), 0);
  assert_int_equal(matches_json("{\"a\":1}", "{\"a\":1,\"b\":2}"), 0);
  assert_int_equal(matches_json("{\"a\":1}", "{\"b\":1}"), 0);
  assert_int_equal(matches_json("{}", "{}"), 1);
  assert_int_equal(matches_json("[]", "{}"), 0);
  /* jansson cannot load a key holding U+0000; the value's own text still matches */
  assert_int_equal(matches_hex("81 a3 61 00 62 01", "{\"a\\u0000b\":1}"), 1);
  assert_int_equal(matches_hex("81 a3 61 00 62 01", "{\"a\\u0000b\":2}"), 0);
  /* values that display as strings match that string */
  assert_int_equal(matches_hex("c4 02 00 01", "base64:AAE="), 1);
  assert_int_equal(matches_hex("c4 02 00 01", "\"base64:AAE=\""), 0);
  assert_int_equal(matches_hex("cf ff ff ff ff ff ff ff ff", "18446744073709551615"), 1);
  assert_int_equal(matches_hex("cb 7f f8 00 00 00 00 00 00", "NaN"), 1);
  /* malformed stored values and NULLs never match */
  assert_int_equal(matches_hex("a1 61 00", "a"), 0);
  assert_int_equal(matches_hex("c0 c0", "null"), 0);
  assert_int_equal(matches_hex("dd ff ff ff ff", "[]"), 0);
  assert_int_equal(matches_hex("", ""), 0);
  assert_int_equal(cairn_value_matches(NULL, 0, "x"), 0);
  uint8_t nil = 0xc0;
  assert_int_equal(cairn_value_matches(&nil, 1, NULL), 0);
}

/* Arguments parsed from the command line match the same text in --where. */
static void test_parse_then_match(void **state) {
  static const struct {
    const char *arg, *where;
    int want;
  } cases[] = {
      {"n=42", "42", 1},      {"n:=42", "42", 1},      {"n:=42", "42.0", 1},
      {"n=42", "42.0", 0},    {"t=hello", "hello", 1}, {"t:=\"hello\"", "hello", 1},
      {"b:=true", "true", 1}, {"b:=true", "false", 0}, {"z:=null", "null", 1},
      {"l:=[1]", "[1]", 1},   {"e=", "", 1},           {"e:=\"\"", "", 1},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *name;
    uint8_t *value;
    size_t len;
    assert_int_equal(cairn_value_parse_arg(cases[i].arg, &name, &value, &len, NULL), 0);
    if (cairn_value_matches(value, len, cases[i].where) != cases[i].want)
      fail_msg("'%s' --where '%s': want %d", cases[i].arg, cases[i].where, cases[i].want);
    free(name);
    free(value);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_from_json_bytes),
      cmocka_unit_test(test_from_json_sizes),
      cmocka_unit_test(test_roundtrip),
      cmocka_unit_test(test_to_json_mappings),
      cmocka_unit_test(test_to_json_utf8_repair),
      cmocka_unit_test(test_to_json_malformed),
      cmocka_unit_test(test_to_json_depth),
      cmocka_unit_test(test_huge_claims_rejected_without_allocating),
      cmocka_unit_test(test_to_json_alloc_failures),
      cmocka_unit_test(test_from_json_depth),
      cmocka_unit_test(test_parse_arg_ok),
      cmocka_unit_test(test_parse_arg_errors),
      cmocka_unit_test(test_matches),
      cmocka_unit_test(test_parse_then_match),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
