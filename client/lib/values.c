/*
 * values.c — field values between httpie-style arguments, JSON and MessagePack
 * (see values.h for the mappings and the reasons behind them).
 *
 * Packing goes through msgpack-c. Reading never does: untrusted bytes are walked
 * with the bounded cursor reader of core/mpread.h, which checks every count
 * against the bytes left before this file allocates anything for it, and the
 * recursion is capped at CAIRN_VALUE_DEPTH_MAX containers.
 */
#include "values.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include <sodium.h>

#include "entry.h"
#include "mpread.h"

/* How much of a bad argument an error message quotes. */
#define SHOW_MAX 60

static const char base64_prefix[] = "base64:";

/* ---- UTF-8 ---- */

/*
 * Length (1..4) of the well-formed UTF-8 sequence at s (n > 0 bytes), or 0 with
 * *bad set to the length of the maximal ill-formed subpart starting there, the
 * unit that one U+FFFD replaces (Unicode 15, section 3.9, table 3-7).
 */
static size_t utf8_seq(const uint8_t *s, size_t n, size_t *bad) {
  uint8_t c = s[0], lo = 0x80, hi = 0xbf;
  size_t need;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 1;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    if (c == 0xe0)
      lo = 0xa0; /* no overlong forms */
    else if (c == 0xed)
      hi = 0x9f; /* no surrogates */
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    if (c == 0xf0)
      lo = 0x90; /* no overlong forms */
    else if (c == 0xf4)
      hi = 0x8f; /* nothing above U+10FFFF */
  } else {
    *bad = 1;
    return 0;
  }
  for (size_t i = 1; i <= need; i++) {
    if (i >= n || s[i] < lo || s[i] > hi) {
      *bad = i;
      return 0;
    }
    lo = 0x80;
    hi = 0xbf;
  }
  return need + 1;
}

static int utf8_valid(const char *str, size_t n) {
  const uint8_t *s = (const uint8_t *)str;
  size_t i = 0, bad;
  while (i < n) {
    size_t k = utf8_seq(s + i, n - i, &bad);
    if (k == 0)
      return 0;
    i += k;
  }
  return 1;
}

/* A JSON string of s, with each ill-formed subpart replaced by U+FFFD. NULL
 * when out of memory. */
static json_t *string_repaired(const char *str, size_t n) {
  const uint8_t *s = (const uint8_t *)str;
  char *buf;
  size_t i = 0, o = 0, bad;
  json_t *j;
  if (utf8_valid(str, n))
    return json_stringn(str, n);
  /* each replaced subpart is at least one byte and becomes three */
  if (n > SIZE_MAX / 3 || (buf = malloc(n * 3)) == NULL)
    return NULL;
  while (i < n) {
    size_t k = utf8_seq(s + i, n - i, &bad);
    if (k > 0) {
      memcpy(buf + o, s + i, k);
      o += k;
      i += k;
    } else {
      memcpy(buf + o, "\xef\xbf\xbd", 3);
      o += 3;
      i += bad;
    }
  }
  j = json_stringn(buf, o);
  free(buf);
  return j;
}

/* ---- error messages ---- */

/* Copy at most SHOW_MAX bytes of s into out for quoting in a one-line message:
 * control characters and ill-formed UTF-8 become '?', and a cut, marked with
 * "...", never splits a character. */
static void show(const char *str, size_t n, char out[SHOW_MAX + 4]) {
  const uint8_t *s = (const uint8_t *)str;
  size_t i = 0, o = 0, bad;
  while (i < n) {
    size_t k = utf8_seq(s + i, n - i, &bad);
    if (o + (k > 0 ? k : 1) > SHOW_MAX)
      break;
    if (k == 0) {
      out[o++] = '?';
      i += bad;
    } else if (k == 1 && (s[i] < 0x20 || s[i] == 0x7f)) {
      out[o++] = '?';
      i++;
    } else {
      memcpy(out + o, s + i, k);
      o += k;
      i += k;
    }
  }
  memcpy(out + o, i < n ? "..." : "", i < n ? 4 : 1);
}

/* ---- JSON -> MessagePack ---- */

static int no_memory(cairn_error_t *err) {
  return cairn__error(err, CAIRN_ENOMEM, "out of memory");
}

static int pack_str(msgpack_packer *pk, const char *s, size_t n, cairn_error_t *err) {
  if (n > UINT32_MAX)
    return cairn__error(err, CAIRN_ETOOBIG, "string of %zu bytes is too long", n);
  if (msgpack_pack_str(pk, n) != 0 || msgpack_pack_str_body(pk, s, n) != 0)
    return no_memory(err);
  return 0;
}

static int too_deep(cairn_error_t *err) {
  return cairn__error(err, CAIRN_EINVAL, "nesting deeper than %d levels",
                      CAIRN_VALUE_DEPTH_MAX);
}

/* Pack j, which sits inside `level` containers. msgpack-c's pack calls return
 * -1 only when the buffer cannot grow. */
static int pack_json(msgpack_packer *pk, const json_t *j, int level, cairn_error_t *err) {
  int failed;
  int rc;
  switch (json_typeof(j)) {
  case JSON_NULL:
    failed = msgpack_pack_nil(pk);
    break;
  case JSON_TRUE:
    failed = msgpack_pack_true(pk);
    break;
  case JSON_FALSE:
    failed = msgpack_pack_false(pk);
    break;
  case JSON_INTEGER:
    failed = msgpack_pack_int64(pk, (int64_t)json_integer_value(j));
    break;
  case JSON_REAL:
    failed = msgpack_pack_double(pk, json_real_value(j));
    break;
  case JSON_STRING:
    return pack_str(pk, json_string_value(j), json_string_length(j), err);
  case JSON_ARRAY: {
    size_t n = json_array_size(j);
    if (level >= CAIRN_VALUE_DEPTH_MAX)
      return too_deep(err);
    if (n > UINT32_MAX)
      return cairn__error(err, CAIRN_ETOOBIG, "array of %zu items is too long", n);
    if (msgpack_pack_array(pk, n) != 0)
      return no_memory(err);
    for (size_t i = 0; i < n; i++)
      if ((rc = pack_json(pk, json_array_get(j, i), level + 1, err)) != 0)
        return rc;
    return 0;
  }
  case JSON_OBJECT: {
    /* jansson's iterators take a non-const object; nothing is modified */
    json_t *obj = (json_t *)j;
    size_t n = json_object_size(obj);
    if (level >= CAIRN_VALUE_DEPTH_MAX)
      return too_deep(err);
    if (n > UINT32_MAX)
      return cairn__error(err, CAIRN_ETOOBIG, "object of %zu keys is too large", n);
    if (msgpack_pack_map(pk, n) != 0)
      return no_memory(err);
    for (void *it = json_object_iter(obj); it != NULL;
         it = json_object_iter_next(obj, it))
      if ((rc = pack_str(pk, json_object_iter_key(it), json_object_iter_key_len(it),
                         err)) != 0 ||
          (rc = pack_json(pk, json_object_iter_value(it), level + 1, err)) != 0)
        return rc;
    return 0;
  }
  default:
    return cairn__error(err, CAIRN_EINVAL, "unknown JSON type");
  }
  return failed != 0 ? no_memory(err) : 0;
}

/* Move what sb holds into a malloc'd block of exactly its size. sb grows in
 * 8 KiB steps, so the rest is given back; a failed shrink keeps the larger
 * block, which is still valid. */
static void sbuffer_take(msgpack_sbuffer *sb, uint8_t **out, size_t *len) {
  uint8_t *small;
  *len = sb->size;
  *out = (uint8_t *)msgpack_sbuffer_release(sb);
  small = realloc(*out, *len);
  if (small != NULL)
    *out = small;
}

int cairn_value_from_json(const json_t *j, uint8_t **out, size_t *out_len,
                          cairn_error_t *err) {
  msgpack_sbuffer sb;
  msgpack_packer pk;
  int rc;
  if (out != NULL)
    *out = NULL;
  if (out_len != NULL)
    *out_len = 0;
  if (j == NULL || out == NULL || out_len == NULL)
    return cairn__error(err, CAIRN_EINVAL, "no JSON value");
  cairn__error_clear(err);
  msgpack_sbuffer_init(&sb);
  msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
  if ((rc = pack_json(&pk, j, 0, err)) != 0)
    goto cleanup;
  if (NEVER(sb.size == 0 || sb.data == NULL)) {
    rc = cairn__error(err, CAIRN_ENOMEM, "nothing packed");
    goto cleanup;
  }
  sbuffer_take(&sb, out, out_len);
  rc = 0;
cleanup:
  msgpack_sbuffer_destroy(&sb);
  return rc;
}

/* ---- MessagePack -> JSON ---- */

/* "base64:..." (with_prefix) or plain base64 of n bytes, as a JSON string. */
static json_t *base64_string(const uint8_t *b, size_t n, int with_prefix) {
  size_t pre = with_prefix ? sizeof base64_prefix - 1 : 0;
  size_t enc;
  char *buf;
  json_t *j;
  if (n > (SIZE_MAX - 8) / 4 * 3)
    return NULL;
  enc = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
  if ((buf = malloc(pre + enc)) == NULL)
    return NULL;
  memcpy(buf, base64_prefix, pre);
  if (sodium_bin2base64(buf + pre, enc, b, n, sodium_base64_VARIANT_ORIGINAL) == NULL) {
    free(buf);
    return NULL;
  }
  j = json_stringn(buf, pre + enc - 1);
  free(buf);
  return j;
}

/* Free what json_dumps returned, with the allocator jansson used for it (a
 * caller may have set its own with json_set_alloc_funcs). */
static void dump_free(char *s) {
  json_malloc_t m;
  json_free_t f;
  if (s == NULL)
    return;
  json_get_alloc_funcs(&m, &f);
  f(s);
}

static json_t *nonfinite_string(double d) {
  if (isnan(d))
    return json_string("NaN");
  return json_string(d > 0 ? "Infinity" : "-Infinity");
}

static int read_value(cairn_mpr_t *r, int depth, json_t **out);

/* A map of n pairs at r into a new object. */
static int read_map(cairn_mpr_t *r, uint32_t n, int depth, json_t **out) {
  json_t *obj = json_object();
  json_t *k = NULL, *v = NULL;
  char *dump = NULL;
  int rc = CAIRN_ENOMEM;
  if (obj == NULL)
    goto cleanup;
  for (uint32_t i = 0; i < n; i++) {
    const char *key;
    size_t klen;
    if ((rc = read_value(r, depth, &k)) != 0 || (rc = read_value(r, depth, &v)) != 0)
      goto cleanup;
    if (json_is_string(k)) {
      key = json_string_value(k);
      klen = json_string_length(k);
    } else {
      rc = CAIRN_ENOMEM;
      if ((dump = json_dumps(k, JSON_ENCODE_ANY | JSON_COMPACT)) == NULL)
        goto cleanup;
      key = dump;
      klen = strlen(dump);
    }
    /* a second value for a key would silently replace the first */
    if (json_object_getn(obj, key, klen) != NULL) {
      rc = CAIRN_EMALFORMED;
      goto cleanup;
    }
    rc = json_object_setn_new(obj, key, klen, v) == 0 ? 0 : CAIRN_ENOMEM;
    v = NULL; /* stolen, even on failure */
    if (rc != 0)
      goto cleanup;
    json_decref(k);
    k = NULL;
    dump_free(dump);
    dump = NULL;
  }
  *out = obj;
  obj = NULL;
  rc = 0;
cleanup:
  json_decref(obj);
  json_decref(k);
  json_decref(v);
  dump_free(dump);
  return rc;
}

static int read_array(cairn_mpr_t *r, uint32_t n, int depth, json_t **out) {
  json_t *arr = json_array();
  json_t *v = NULL;
  int rc = CAIRN_ENOMEM;
  if (arr == NULL)
    goto cleanup;
  for (uint32_t i = 0; i < n; i++) {
    if ((rc = read_value(r, depth, &v)) != 0)
      goto cleanup;
    rc = json_array_append_new(arr, v) == 0 ? 0 : CAIRN_ENOMEM;
    v = NULL; /* stolen, even on failure */
    if (rc != 0)
      goto cleanup;
  }
  *out = arr;
  arr = NULL;
  rc = 0;
cleanup:
  json_decref(arr);
  return rc;
}

/* One object at r into *out; depth is how many more containers may open. */
static int read_value(cairn_mpr_t *r, int depth, json_t **out) {
  json_t *j = NULL;
  const uint8_t *b;
  const char *s;
  uint32_t n;
  uint64_t u;
  int64_t i;
  double d;
  int8_t et;
  int bv;
  *out = NULL;
  switch (cairn_mpr_peek(r)) {
  case CAIRN_MP_NIL:
    if (cairn_mpr_nil(r) != 0)
      return CAIRN_EMALFORMED;
    j = json_null();
    break;
  case CAIRN_MP_BOOL:
    if (cairn_mpr_bool(r, &bv) != 0)
      return CAIRN_EMALFORMED;
    j = json_boolean(bv);
    break;
  case CAIRN_MP_UINT:
    if (cairn_mpr_uint(r, &u) != 0)
      return CAIRN_EMALFORMED;
    if (u <= INT64_MAX) {
      j = json_integer((json_int_t)u);
    } else {
      char digits[24];
      snprintf(digits, sizeof digits, "%" PRIu64, u);
      j = json_string(digits);
    }
    break;
  case CAIRN_MP_INT:
    if (cairn_mpr_int(r, &i) != 0)
      return CAIRN_EMALFORMED;
    j = json_integer((json_int_t)i);
    break;
  case CAIRN_MP_FLOAT:
    if (cairn_mpr_float(r, &d) != 0)
      return CAIRN_EMALFORMED;
    j = isfinite(d) ? json_real(d) : nonfinite_string(d);
    break;
  case CAIRN_MP_STR:
    if (cairn_mpr_str(r, &s, &n) != 0)
      return CAIRN_EMALFORMED;
    j = string_repaired(s, n);
    break;
  case CAIRN_MP_BIN:
    if (cairn_mpr_bin(r, &b, &n) != 0)
      return CAIRN_EMALFORMED;
    j = base64_string(b, n, 1);
    break;
  case CAIRN_MP_EXT:
    if (cairn_mpr_ext(r, &et, &b, &n) != 0)
      return CAIRN_EMALFORMED;
    /* set_new steals its value even on failure; on a first failure the second
     * value is never made */
    if ((j = json_object()) != NULL &&
        (json_object_set_new(j, "_ext", json_integer(et)) != 0 ||
         json_object_set_new(j, "base64", base64_string(b, n, 0)) != 0)) {
      json_decref(j);
      j = NULL;
    }
    break;
  case CAIRN_MP_ARRAY:
    /* the count is checked against the bytes left before anything is allocated */
    if (depth <= 0 || cairn_mpr_array(r, &n) != 0)
      return CAIRN_EMALFORMED;
    return read_array(r, n, depth - 1, out);
  case CAIRN_MP_MAP:
    if (depth <= 0 || cairn_mpr_map(r, &n) != 0)
      return CAIRN_EMALFORMED;
    return read_map(r, n, depth - 1, out);
  default:
    return CAIRN_EMALFORMED;
  }
  if (j == NULL)
    return CAIRN_ENOMEM;
  *out = j;
  return 0;
}

int cairn_value_to_json(const uint8_t *mp, size_t len, json_t **out) {
  cairn_mpr_t r;
  json_t *j = NULL;
  int rc;
  if (out == NULL)
    return CAIRN_EINVAL;
  *out = NULL;
  if (mp == NULL)
    return CAIRN_EINVAL;
  cairn_mpr_init(&r, mp, len);
  if ((rc = read_value(&r, CAIRN_VALUE_DEPTH_MAX, &j)) != 0)
    goto cleanup;
  if (cairn_mpr_left(&r) != 0) {
    rc = CAIRN_EMALFORMED;
    goto cleanup;
  }
  *out = j;
  j = NULL;
cleanup:
  json_decref(j);
  return rc;
}

/* ---- command-line arguments ---- */

/* Whether a ':=' value that failed to parse looks like a bare word meant as a
 * string, so the error can point at NAME=TEXT. */
static int looks_bare(const char *text) {
  return text[0] != '\0' && strchr("[{\"-0123456789 \t\r\n", text[0]) == NULL &&
         strncmp(text, "true", 4) != 0 && strncmp(text, "false", 5) != 0 &&
         strncmp(text, "null", 4) != 0;
}

int cairn_value_parse_arg(const char *arg, char **name, uint8_t **value,
                          size_t *value_len, cairn_error_t *err) {
  char shown[SHOW_MAX + 4];
  char *nm = NULL;
  uint8_t *val = NULL;
  size_t vlen = 0, nlen;
  json_t *j = NULL;
  const char *eq, *text;
  int typed, rc;
  if (name != NULL)
    *name = NULL;
  if (value != NULL)
    *value = NULL;
  if (value_len != NULL)
    *value_len = 0;
  if (arg == NULL || name == NULL || value == NULL || value_len == NULL)
    return cairn__error(err, CAIRN_EINVAL, "bad field argument: none given");
  cairn__error_clear(err);
  show(arg, strlen(arg), shown);

  if ((eq = strchr(arg, '=')) == NULL) {
    rc = cairn__error(err, CAIRN_EINVAL,
                      "bad field argument '%s': missing '=' (write NAME=TEXT for a "
                      "string or NAME:=JSON for a typed value)",
                      shown);
    goto cleanup;
  }
  typed = eq > arg && eq[-1] == ':';
  nlen = (size_t)(eq - arg) - (typed ? 1u : 0u);
  text = eq + 1;
  if (nlen == 0) {
    rc = cairn__error(err, CAIRN_EINVAL, "bad field argument '%s': empty field name",
                      shown);
    goto cleanup;
  }
  if (arg[0] == '_') {
    char nshown[SHOW_MAX + 4];
    show(arg, nlen, nshown);
    rc = cairn__error(err, CAIRN_EINVAL,
                      "field name '%s' is reserved (names starting with '_' belong to "
                      "cairn)",
                      nshown);
    goto cleanup;
  }
  if (nlen > CAIRN_FIELD_MAX) {
    rc = cairn__error(err, CAIRN_EINVAL,
                      "bad field argument '%s': field name longer than %d bytes", shown,
                      CAIRN_FIELD_MAX);
    goto cleanup;
  }
  if (!utf8_valid(arg, nlen)) {
    rc = cairn__error(err, CAIRN_EINVAL,
                      "bad field argument '%s': field name is not valid UTF-8", shown);
    goto cleanup;
  }
  /* the core's rule is the authority; the checks above only explain it */
  if (!cairn__field_name_ok(arg, nlen)) {
    rc = cairn__error(err, CAIRN_EINVAL, "bad field argument '%s': invalid field name",
                      shown);
    goto cleanup;
  }
  if ((nm = malloc(nlen + 1)) == NULL) {
    rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
    goto cleanup;
  }
  memcpy(nm, arg, nlen);
  nm[nlen] = '\0';

  if (typed) {
    json_error_t jerr;
    cairn_error_t sub;
    j = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
                   &jerr);
    if (j == NULL) {
      if (json_error_code(&jerr) == json_error_out_of_memory)
        rc = cairn__error(err, CAIRN_ENOMEM, "out of memory");
      else
        rc = cairn__error(
            err, CAIRN_EINVAL, "bad field argument '%s': invalid JSON (%s)%s", shown,
            jerr.text, looks_bare(text) ? "; for a string write NAME=TEXT" : "");
      goto cleanup;
    }
    cairn__error_clear(&sub);
    if ((rc = cairn_value_from_json(j, &val, &vlen, &sub)) != 0) {
      rc = cairn__error(err, rc, "bad field argument '%s': %s", shown, sub.msg);
      goto cleanup;
    }
  } else {
    size_t tlen = strlen(text);
    cairn_error_t sub;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    if (!utf8_valid(text, tlen)) {
      rc = cairn__error(err, CAIRN_EINVAL,
                        "bad field argument '%s': text is not valid UTF-8", shown);
      goto cleanup;
    }
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    cairn__error_clear(&sub);
    if ((rc = pack_str(&pk, text, tlen, &sub)) == 0)
      sbuffer_take(&sb, &val, &vlen);
    msgpack_sbuffer_destroy(&sb);
    if (rc != 0) {
      rc = cairn__error(err, rc, "bad field argument '%s': %s", shown, sub.msg);
      goto cleanup;
    }
  }
  *name = nm;
  *value = val;
  *value_len = vlen;
  nm = NULL;
  val = NULL;
  rc = 0;
cleanup:
  free(nm);
  free(val);
  json_decref(j);
  return rc;
}

/* ---- --where ---- */

/* JSON equality with numbers compared by value (42 == 42.0). */
static int json_same(const json_t *a, const json_t *b) {
  if (json_is_number(a) && json_is_number(b)) {
    if (json_is_integer(a) && json_is_integer(b))
      return json_integer_value(a) == json_integer_value(b);
    if (json_is_real(a) && json_is_real(b))
      return json_real_value(a) == json_real_value(b);
    const json_t *ij = json_is_integer(a) ? a : b;
    double r = json_real_value(json_is_real(a) ? a : b);
    json_int_t iv = json_integer_value(ij);
    /* -2^63 <= r < 2^63 so the cast back is defined */
    return r >= -9223372036854775808.0 && r < 9223372036854775808.0 && r == (double)iv &&
           (json_int_t)r == iv;
  }
  if (json_typeof(a) != json_typeof(b))
    return 0;
  switch (json_typeof(a)) {
  case JSON_STRING:
    return json_string_length(a) == json_string_length(b) &&
           memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
  case JSON_ARRAY:
    if (json_array_size(a) != json_array_size(b))
      return 0;
    for (size_t i = 0; i < json_array_size(a); i++)
      if (!json_same(json_array_get(a, i), json_array_get(b, i)))
        return 0;
    return 1;
  case JSON_OBJECT: {
    json_t *oa = (json_t *)a; /* jansson's iterators are not const */
    if (json_object_size(a) != json_object_size(b))
      return 0;
    for (void *it = json_object_iter(oa); it != NULL;
         it = json_object_iter_next(oa, it)) {
      json_t *w =
          json_object_getn(b, json_object_iter_key(it), json_object_iter_key_len(it));
      if (w == NULL || !json_same(json_object_iter_value(it), w))
        return 0;
    }
    return 1;
  }
  default: /* null, true, false: equal types are equal values */
    return 1;
  }
}

int cairn_value_matches(const uint8_t *mp, size_t len, const char *text) {
  json_t *v = NULL, *t = NULL;
  char *dump = NULL;
  cairn_mpr_t r;
  const char *s;
  uint32_t n;
  size_t tlen;
  int m = 0;
  if (mp == NULL || text == NULL)
    return 0;
  tlen = strlen(text);
  /* validates the whole value, whatever its type */
  if (cairn_value_to_json(mp, len, &v) != 0)
    goto cleanup;
  cairn_mpr_init(&r, mp, len);
  if (cairn_mpr_peek(&r) == CAIRN_MP_STR) {
    /* compare the stored bytes, not their UTF-8 repair */
    m = cairn_mpr_str(&r, &s, &n) == 0 && n == tlen && memcmp(s, text, n) == 0;
    goto cleanup;
  }
  if (json_is_string(v)) {
    m = json_string_length(v) == tlen && memcmp(json_string_value(v), text, tlen) == 0;
    goto cleanup;
  }
  if ((t = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)) != NULL) {
    m = json_same(v, t);
    goto cleanup;
  }
  /* text that jansson cannot load may still be the value's own JSON text (a
   * key holding U+0000 is one) */
  if ((dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT)) != NULL)
    m = strcmp(dump, text) == 0;
cleanup:
  json_decref(v);
  json_decref(t);
  dump_free(dump);
  return m;
}
