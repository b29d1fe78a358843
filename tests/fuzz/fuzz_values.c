/*
 * fuzz_values.c — fuzz target for client/lib/values.c.
 *
 * Every input is tried three ways:
 *   1. as an untrusted MessagePack value: cairn_value_to_json must accept only
 *      what the core's validator accepts, and what it returns must pack again and
 *      read back equal, and match its own text in cairn_value_matches;
 *   2. as a command-line field argument (up to its first NUL):
 *      cairn_value_parse_arg must either fail with a one-line message or give a
 *      valid name and one valid value;
 *   3. as JSON text: what jansson parses must survive JSON -> MessagePack -> JSON.
 * A broken invariant aborts, which libFuzzer and the replay driver report.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzzcheck.h"
#include "entry.h"
#include "mpread.h"
#include "values.h"

/* JSON -> MessagePack -> JSON gives back an equal value, unless too deep. */
static void check_repack(const json_t *j) {
  uint8_t *mp = NULL;
  size_t n = 0;
  json_t *back = NULL;
  char *a, *b;
  cairn_error_t err;
  int rc = cairn_value_from_json(j, &mp, &n, &err);
  if (rc != 0) {
    /* only the depth limit can refuse what jansson holds (an ext read as
     * {"_ext":..} is one level deeper than it was) */
    CHECK(rc == CAIRN_EINVAL && err.code == rc && mp == NULL);
    return;
  }
  CHECK(cairn_mp_validate(mp, n, CAIRN_VALUE_DEPTH_MAX) == 0);
  CHECK(cairn_value_to_json(mp, n, &back) == 0);
  /* compared as text: json_equal stops object keys at a NUL, and values may
   * hold "a\u0000b" keys; key order is kept both ways */
  a = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
  b = json_dumps(back, JSON_ENCODE_ANY | JSON_COMPACT);
  CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
  free(a);
  free(b);
  json_decref(back);
  free(mp);
}

static void fuzz_msgpack(const uint8_t *data, size_t size) {
  json_t *j = NULL;
  char *text = NULL;
  int rc = cairn_value_to_json(data, size, &j);
  if (rc != 0) {
    CHECK(rc == CAIRN_EMALFORMED && j == NULL);
    CHECK(cairn_value_matches(data, size, "") == 0);
    return;
  }
  /* never more lenient than the core */
  CHECK(cairn_mp_validate(data, size, CAIRN_VALUE_DEPTH_MAX) == 0);
  text = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
  CHECK(text != NULL);
  check_repack(j);

  /* a stored value matches its own text */
  cairn_mpr_t r;
  cairn_mpr_init(&r, data, size);
  if (cairn_mpr_peek(&r) == CAIRN_MP_STR) {
    const char *s;
    uint32_t n;
    CHECK(cairn_mpr_str(&r, &s, &n) == 0);
    if (memchr(s, '\0', n) == NULL) {
      char *raw = malloc((size_t)n + 1);
      CHECK(raw != NULL);
      memcpy(raw, s, n);
      raw[n] = '\0';
      CHECK(cairn_value_matches(data, size, raw) == 1);
      free(raw);
    }
  } else if (json_is_string(j)) {
    CHECK(cairn_value_matches(data, size, json_string_value(j)) == 1);
  } else {
    CHECK(cairn_value_matches(data, size, text) == 1);
  }
  free(text);
  json_decref(j);
}

static void fuzz_arg(const uint8_t *data, size_t size) {
  size_t n = strnlen((const char *)data, size);
  char *arg = malloc(n + 1);
  char *name = NULL;
  uint8_t *value = NULL;
  size_t len = 0;
  json_t *j = NULL;
  cairn_error_t err;
  CHECK(arg != NULL);
  memcpy(arg, data, n);
  arg[n] = '\0';
  int rc = cairn_value_parse_arg(arg, &name, &value, &len, &err);
  if (rc != 0) {
    CHECK(rc == CAIRN_EINVAL && err.code == rc && name == NULL && value == NULL);
    CHECK(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL);
  } else {
    const char *eq = strchr(arg, '=');
    CHECK(eq != NULL && cairn__field_name_ok(name, strlen(name)));
    CHECK(cairn_mp_validate(value, len, CAIRN_VALUE_DEPTH_MAX) == 0);
    CHECK(cairn_value_to_json(value, len, &j) == 0);
    if (eq[-1] != ':') {
      /* name=text is the text, as a string */
      CHECK(json_is_string(j) && strcmp(json_string_value(j), eq + 1) == 0);
      CHECK(cairn_value_matches(value, len, eq + 1) == 1);
    }
    json_decref(j);
  }
  free(name);
  free(value);
  free(arg);
}

static void fuzz_json(const uint8_t *data, size_t size) {
  json_t *j =
      json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
  if (j == NULL)
    return;
  check_repack(j);
  json_decref(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_msgpack(data, size);
  fuzz_arg(data, size);
  fuzz_json(data, size);
  return 0;
}
