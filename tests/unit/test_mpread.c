/*
 * test_mpread.c — the bounded MessagePack reader (core/mpread.c).
 *
 * Every type in every width it can be encoded in, read by its reader and refused
 * by the others; every encoding cut short at every length is refused without the
 * cursor moving; counts that claim more elements than bytes remain (the 5 bytes
 * `dd ff ff ff ff` that make msgpack-c allocate ~96 GB) are refused at once;
 * nesting is capped; cairn_mp_validate wants exactly one well-formed object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cairn_test.h"
#include "mpread.h"

/* ---- helpers ---- */

/* Read one object of type t with its own reader; 0 or CAIRN_EMALFORMED. Arrays and
 * maps are read whole (header, then every element skipped). */
static int read_as(cairn_mpr_t *r, cairn_mp_type_t t) {
  uint64_t u;
  int64_t i;
  double d;
  int bv;
  const char *s;
  const uint8_t *b;
  uint32_t n;
  int8_t et;
  switch (t) {
  case CAIRN_MP_NIL:
    return cairn_mpr_nil(r);
  case CAIRN_MP_BOOL:
    return cairn_mpr_bool(r, &bv);
  case CAIRN_MP_UINT:
    return cairn_mpr_uint(r, &u);
  case CAIRN_MP_INT:
    return cairn_mpr_int(r, &i);
  case CAIRN_MP_FLOAT:
    return cairn_mpr_float(r, &d);
  case CAIRN_MP_STR:
    return cairn_mpr_str(r, &s, &n);
  case CAIRN_MP_BIN:
    return cairn_mpr_bin(r, &b, &n);
  case CAIRN_MP_EXT:
    return cairn_mpr_ext(r, &et, &b, &n);
  case CAIRN_MP_ARRAY:
  case CAIRN_MP_MAP: {
    cairn_mpr_t s2 = *r;
    int rc = t == CAIRN_MP_MAP ? cairn_mpr_map(&s2, &n) : cairn_mpr_array(&s2, &n);
    uint64_t items = t == CAIRN_MP_MAP ? 2 * (uint64_t)n : n;
    for (uint64_t k = 0; rc == 0 && k < items; k++)
      rc = cairn_mpr_skip(&s2, CAIRN_MP_MAX_DEPTH);
    if (rc == 0)
      *r = s2;
    return rc;
  }
  default:
    return CAIRN_EMALFORMED;
  }
}

static const cairn_mp_type_t all_types[] = {
    CAIRN_MP_NIL, CAIRN_MP_BOOL, CAIRN_MP_UINT, CAIRN_MP_INT,   CAIRN_MP_FLOAT,
    CAIRN_MP_STR, CAIRN_MP_BIN,  CAIRN_MP_EXT,  CAIRN_MP_ARRAY, CAIRN_MP_MAP};

/* Which readers other than t's own may accept an object of type t (with the value
 * at hand): an int reader reads non-negative uints, the uint reader non-negative
 * ints. */
static int may_cross(cairn_mp_type_t t, cairn_mp_type_t other) {
  return (t == CAIRN_MP_UINT && other == CAIRN_MP_INT) ||
         (t == CAIRN_MP_INT && other == CAIRN_MP_UINT);
}

/* The uint reader is checked against every first byte on its own, in
 * test_uint_reader_refuses_other_types, so that one fault there is reported once
 * and does not hide the checks of the other types. */
static int checked_alone(cairn_mp_type_t other) {
  return other == CAIRN_MP_UINT;
}

/*
 * The common checks for one complete encoding of type t: peek, its reader consumes
 * exactly the buffer, readers of other types refuse it without moving, skip and
 * validate accept it, and every shorter prefix is refused by all of them without
 * the cursor moving.
 */
static void check_encoding(const uint8_t *p, size_t len, cairn_mp_type_t t) {
  cairn_mpr_t r;
  cairn_mpr_init(&r, p, len);
  assert_int_equal(cairn_mpr_left(&r), len);
  assert_int_equal(cairn_mpr_peek(&r), t);
  assert_int_equal(read_as(&r, t), 0);
  assert_ptr_equal(r.p, p + len);
  for (size_t k = 0; k < sizeof all_types / sizeof all_types[0]; k++) {
    if (all_types[k] == t || may_cross(t, all_types[k]) || checked_alone(all_types[k]))
      continue;
    cairn_mpr_init(&r, p, len);
    if (read_as(&r, all_types[k]) == 0)
      fail_msg("type %d read as type %d (first byte %02x)", t, all_types[k], p[0]);
    assert_ptr_equal(r.p, p);
  }
  cairn_mpr_init(&r, p, len);
  assert_int_equal(cairn_mpr_skip(&r, CAIRN_MP_MAX_DEPTH), 0);
  assert_ptr_equal(r.p, p + len);
  assert_int_equal(cairn_mp_validate(p, len, CAIRN_MP_MAX_DEPTH), 0);
  /* cut short at every length; copy so that ASan sees any read past the cut */
  for (size_t cut = 0; cut < len; cut++) {
    uint8_t *q = malloc(cut ? cut : 1);
    assert_non_null(q);
    memcpy(q, p, cut);
    cairn_mpr_init(&r, q, cut);
    if (read_as(&r, t) == 0)
      fail_msg("first byte %02x: %zu of %zu bytes read as a whole object", p[0], cut, len);
    assert_ptr_equal(r.p, q);
    assert_int_equal(cairn_mpr_skip(&r, CAIRN_MP_MAX_DEPTH), CAIRN_EMALFORMED);
    assert_ptr_equal(r.p, q);
    assert_int_equal(cairn_mp_validate(q, cut, CAIRN_MP_MAX_DEPTH), CAIRN_EMALFORMED);
    free(q);
  }
  /* one byte too many: a reader still reads one object, validate refuses */
  {
    uint8_t *q = malloc(len + 1);
    assert_non_null(q);
    memcpy(q, p, len);
    q[len] = 0xc0;
    assert_int_equal(cairn_mp_validate(q, len + 1, CAIRN_MP_MAX_DEPTH), CAIRN_EMALFORMED);
    cairn_mpr_init(&r, q, len + 1);
    assert_int_equal(read_as(&r, t), 0);
    assert_int_equal(cairn_mpr_left(&r), 1);
    free(q);
  }
}

static void check_hex(const char *hex, cairn_mp_type_t t) {
  cairn_test_bytes_t b = bytes_from_hex(hex);
  check_encoding(b.p, b.len, t);
  bytes_free(&b);
}

/* ---- scalars ---- */

static void test_nil_bool(void **state) {
  cairn_mpr_t r;
  int v = -1;
  (void)state;
  check_hex("c0", CAIRN_MP_NIL);
  check_hex("c2", CAIRN_MP_BOOL);
  check_hex("c3", CAIRN_MP_BOOL);
  cairn_mpr_init(&r, "\xc2", 1);
  assert_int_equal(cairn_mpr_bool(&r, &v), 0);
  assert_int_equal(v, 0);
  cairn_mpr_init(&r, "\xc3", 1);
  assert_int_equal(cairn_mpr_bool(&r, &v), 0);
  assert_int_equal(v, 1);
  /* 0xc1 is never used */
  cairn_mpr_init(&r, "\xc1", 1);
  assert_int_equal(cairn_mpr_peek(&r), CAIRN_MP_INVALID);
  assert_int_equal(cairn_mpr_skip(&r, 4), CAIRN_EMALFORMED);
  assert_int_equal(cairn_mp_validate("\xc1", 1, 4), CAIRN_EMALFORMED);
  /* an empty cursor */
  cairn_mpr_init(&r, "", 0);
  assert_int_equal(cairn_mpr_peek(&r), CAIRN_MP_INVALID);
  assert_int_equal(cairn_mpr_nil(&r), CAIRN_EMALFORMED);
  assert_int_equal(cairn_mp_validate("", 0, 4), CAIRN_EMALFORMED);
}

typedef struct uvec {
  const char *hex;
  uint64_t v;
  int int_ok; /* fits in int64_t */
} uvec_t;

static void test_uint_widths(void **state) {
  static const uvec_t vec[] = {
      {"00", 0, 1},
      {"01", 1, 1},
      {"7f", 127, 1},
      {"cc 00", 0, 1},
      {"cc 80", 128, 1},
      {"cc ff", 255, 1},
      {"cd 01 00", 256, 1},
      {"cd ff ff", 65535, 1},
      {"ce 00 01 00 00", 65536, 1},
      {"ce ff ff ff ff", 4294967295u, 1},
      {"cf 00 00 00 01 00 00 00 00", 4294967296u, 1},
      {"cf 7f ff ff ff ff ff ff ff", INT64_MAX, 1},
      {"cf 80 00 00 00 00 00 00 00", (uint64_t)INT64_MAX + 1, 0},
      {"cf ff ff ff ff ff ff ff ff", UINT64_MAX, 0},
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    cairn_test_bytes_t b = bytes_from_hex(vec[i].hex);
    cairn_mpr_t r;
    uint64_t u = 12345;
    int64_t s = 12345;
    check_encoding(b.p, b.len, CAIRN_MP_UINT);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_uint(&r, &u), 0);
    assert_true(u == vec[i].v);
    cairn_mpr_init(&r, b.p, b.len);
    if (vec[i].int_ok) {
      assert_int_equal(cairn_mpr_int(&r, &s), 0);
      assert_true(s == (int64_t)vec[i].v);
    } else {
      assert_int_equal(cairn_mpr_int(&r, &s), CAIRN_EMALFORMED);
      assert_ptr_equal(r.p, b.p);
    }
    bytes_free(&b);
  }
}

/*
 * cairn_mpr_uint reads only integer encodings: positive fixint, uint 8..64, and
 * the signed encodings (negative fixint, int 8..64) when they hold a value >= 0.
 * Every other first byte is refused and the cursor stays; a signed encoding is read
 * whole (its value and its width), never as its tag plus the next object.
 */
static void test_uint_reader_refuses_other_types(void **state) {
  (void)state;
  for (int c = 0x80; c < 0x100; c++) {
    if (c >= 0xcc && c <= 0xd3)
      continue; /* integer encodings, below */
    if (c >= 0xe0)
      continue; /* negative fixint: refused for being negative, checked below */
    /* the tag followed by a positive fixint and padding, so that a reader that
     * skipped the tag would find a valid uint right after it */
    uint8_t b[40];
    memset(b, 0x05, sizeof b);
    b[0] = (uint8_t)c;
    cairn_mpr_t r;
    uint64_t u = 0;
    cairn_mpr_init(&r, b, sizeof b);
    int rc = cairn_mpr_uint(&r, &u);
    if (rc == 0)
      fail_msg("cairn_mpr_uint read first byte %02x (not an integer) as %llu, "
               "consuming %zu bytes", c, (unsigned long long)u, (size_t)(r.p - b));
    assert_ptr_equal(r.p, b);
  }
  /* signed encodings of values >= 0: read whole */
  static const struct {
    const char *hex;
    uint64_t v;
  } ok[] = {
      {"d0 7f", 127},
      {"d1 7f ff", 32767},
      {"d1 00 05", 5},
      {"d2 7f ff ff ff", 2147483647},
      {"d2 00 00 00 05", 5},
      {"d3 7f ff ff ff ff ff ff ff", INT64_MAX},
      {"d3 00 00 00 00 00 00 00 05", 5},
  };
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    cairn_test_bytes_t b = bytes_from_hex(ok[i].hex);
    cairn_mpr_t r;
    uint64_t u = 0;
    cairn_mpr_init(&r, b.p, b.len);
    int rc = cairn_mpr_uint(&r, &u);
    if (rc != 0 || u != ok[i].v || cairn_mpr_left(&r) != 0)
      fail_msg("cairn_mpr_uint(%s) = %d, value %llu, %zu bytes left; want %llu, 0 left",
               ok[i].hex, rc, (unsigned long long)u, cairn_mpr_left(&r),
               (unsigned long long)ok[i].v);
    bytes_free(&b);
  }
  /* negative values in every signed width: refused */
  static const char *const neg[] = {"ff", "e0", "d0 ff", "d1 ff ff", "d2 ff ff ff ff",
                                    "d3 ff ff ff ff ff ff ff ff"};
  for (size_t i = 0; i < sizeof neg / sizeof neg[0]; i++) {
    cairn_test_bytes_t b = bytes_from_hex(neg[i]);
    cairn_mpr_t r;
    uint64_t u;
    bytes_fill(&b, 0x05, 8);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_uint(&r, &u), CAIRN_EMALFORMED);
    assert_ptr_equal(r.p, b.p);
    bytes_free(&b);
  }
}

typedef struct ivec {
  const char *hex;
  int64_t v;
} ivec_t;

static void test_int_widths(void **state) {
  static const ivec_t vec[] = {
      {"ff", -1},
      {"e0", -32},
      {"d0 80", -128},
      {"d0 ff", -1},
      {"d0 7f", 127},
      {"d1 80 00", -32768},
      {"d1 ff 7f", -129},
      {"d1 7f ff", 32767},
      {"d2 80 00 00 00", INT32_MIN},
      {"d2 ff ff 7f ff", -32769},
      {"d2 7f ff ff ff", INT32_MAX},
      {"d3 80 00 00 00 00 00 00 00", INT64_MIN},
      {"d3 ff ff ff ff 7f ff ff ff", -2147483649LL},
      {"d3 7f ff ff ff ff ff ff ff", INT64_MAX},
      {"d3 00 00 00 00 00 00 00 00", 0},
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    cairn_test_bytes_t b = bytes_from_hex(vec[i].hex);
    cairn_mpr_t r;
    int64_t s = 12345;
    check_encoding(b.p, b.len, CAIRN_MP_INT);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_int(&r, &s), 0);
    if (s != vec[i].v)
      fail_msg("%s read as %lld, want %lld", vec[i].hex, (long long)s, (long long)vec[i].v);
    /* (how the uint reader takes signed encodings: the test above) */
    bytes_free(&b);
  }
}

static void test_float_widths(void **state) {
  static const struct {
    const char *hex;
    double v;
  } vec[] = {
      {"ca 3f 80 00 00", 1.0},
      {"ca c0 00 00 00", -2.0},
      {"ca 00 00 00 00", 0.0},
      {"cb 3f f0 00 00 00 00 00 00", 1.0},
      {"cb 40 09 21 fb 54 44 2d 18", 3.141592653589793},
      {"cb c0 8f 40 00 00 00 00 00", -1000.0},
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    cairn_test_bytes_t b = bytes_from_hex(vec[i].hex);
    cairn_mpr_t r;
    double d = 99;
    check_encoding(b.p, b.len, CAIRN_MP_FLOAT);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_float(&r, &d), 0);
    assert_true(d == vec[i].v);
    bytes_free(&b);
  }
}

/* ---- strings, binaries, ext ---- */

/* A str or bin with a given header and body length n (body bytes 'a' + i % 26). */
static cairn_test_bytes_t blob(const char *header_hex, size_t n) {
  cairn_test_bytes_t b = bytes_from_hex(header_hex);
  for (size_t i = 0; i < n; i++) {
    uint8_t c = (uint8_t)('a' + i % 26);
    bytes_put(&b, &c, 1);
  }
  return b;
}

typedef struct bvec {
  const char *header;
  size_t len;
} bvec_t;

static void test_str_widths(void **state) {
  static const bvec_t vec[] = {
      {"a0", 0},          {"a1", 1},          {"a3", 3},           {"bf", 31},
      {"d9 00", 0},       {"d9 20", 32},      {"d9 ff", 255},      {"da 00 00", 0},
      {"da 01 00", 256},  {"da ff ff", 65535}, {"db 00 00 00 00", 0}, {"db 00 01 00 00", 65536},
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    cairn_test_bytes_t b = blob(vec[i].header, vec[i].len);
    size_t hl = b.len - vec[i].len;
    cairn_mpr_t r;
    const char *s;
    uint32_t n;
    /* the long ones: check the truncation loop on the short ones only */
    if (b.len <= 300)
      check_encoding(b.p, b.len, CAIRN_MP_STR);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_peek(&r), CAIRN_MP_STR);
    assert_int_equal(cairn_mpr_str(&r, &s, &n), 0);
    assert_int_equal(n, vec[i].len);
    assert_ptr_equal(s, (const char *)b.p + hl); /* a view, not a copy */
    assert_int_equal(cairn_mpr_left(&r), 0);
    /* one byte short of the body */
    if (vec[i].len > 0) {
      cairn_mpr_init(&r, b.p, b.len - 1);
      assert_int_equal(cairn_mpr_str(&r, &s, &n), CAIRN_EMALFORMED);
      assert_ptr_equal(r.p, b.p);
    }
    /* a bin reader refuses a str */
    const uint8_t *bp;
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_bin(&r, &bp, &n), CAIRN_EMALFORMED);
    bytes_free(&b);
  }
}

static void test_bin_widths(void **state) {
  static const bvec_t vec[] = {
      {"c4 00", 0},      {"c4 01", 1},          {"c4 20", 32},          {"c4 ff", 255},
      {"c5 00 00", 0},   {"c5 01 00", 256},     {"c5 ff ff", 65535},    {"c6 00 00 00 00", 0},
      {"c6 00 00 01 00", 256}, {"c6 00 01 00 00", 65536},
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    cairn_test_bytes_t b = blob(vec[i].header, vec[i].len);
    size_t hl = b.len - vec[i].len;
    cairn_mpr_t r;
    const uint8_t *p;
    const char *s;
    uint32_t n;
    if (b.len <= 300)
      check_encoding(b.p, b.len, CAIRN_MP_BIN);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_bin(&r, &p, &n), 0);
    assert_int_equal(n, vec[i].len);
    assert_ptr_equal(p, b.p + hl);
    /* exact length: right, one less, one more */
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_bin_exact(&r, &p, (uint32_t)vec[i].len), 0);
    assert_int_equal(cairn_mpr_left(&r), 0);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_bin_exact(&r, &p, (uint32_t)vec[i].len + 1), CAIRN_EMALFORMED);
    assert_ptr_equal(r.p, b.p);
    if (vec[i].len > 0) {
      assert_int_equal(cairn_mpr_bin_exact(&r, &p, (uint32_t)vec[i].len - 1),
                       CAIRN_EMALFORMED);
      assert_ptr_equal(r.p, b.p);
    }
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_str(&r, &s, &n), CAIRN_EMALFORMED);
    bytes_free(&b);
  }
  /* a str of 32 bytes is not a bin32 */
  {
    cairn_test_bytes_t b = blob("d9 20", 32);
    cairn_mpr_t r;
    const uint8_t *p;
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_bin_exact(&r, &p, 32), CAIRN_EMALFORMED);
    bytes_free(&b);
  }
}

static void test_ext_widths(void **state) {
  static const struct {
    const char *header; /* up to and including the type byte */
    size_t len;
    int8_t type;
  } vec[] = {
      {"d4 01", 1, 1},          {"d5 02", 2, 2},         {"d6 ff", 4, -1},
      {"d7 05", 8, 5},          {"d8 80", 16, -128},     {"c7 00 07", 0, 7},
      {"c7 03 7f", 3, 127},     {"c7 ff 01", 255, 1},    {"c8 01 00 02", 256, 2},
      {"c9 00 00 00 00 03", 0, 3}, {"c9 00 00 01 00 04", 256, 4},
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    cairn_test_bytes_t b = blob(vec[i].header, vec[i].len);
    size_t hl = b.len - vec[i].len;
    cairn_mpr_t r;
    const uint8_t *p;
    uint32_t n;
    int8_t t;
    check_encoding(b.p, b.len, CAIRN_MP_EXT);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(cairn_mpr_ext(&r, &t, &p, &n), 0);
    assert_int_equal(n, vec[i].len);
    assert_int_equal(t, vec[i].type);
    assert_ptr_equal(p, b.p + hl);
    bytes_free(&b);
  }
}

/* ---- containers ---- */

/* One container header per vec entry, filled with its elements (nils for an array,
 * uint -> true pairs for a map): read by its reader, refused by the other one. */
static void check_containers(const bvec_t *vec, size_t n, cairn_mp_type_t t) {
  int is_map = t == CAIRN_MP_MAP;
  for (size_t i = 0; i < n; i++) {
    cairn_test_bytes_t b = bytes_from_hex(vec[i].header);
    size_t hl = b.len;
    cairn_mpr_t r;
    uint32_t got;
    for (size_t k = 0; k < vec[i].len; k++) {
      uint8_t pair[2] = {(uint8_t)(k & 0x7f), 0xc3}; /* uint -> true */
      if (is_map)
        bytes_put(&b, pair, 2);
      else
        bytes_fill(&b, 0xc0, 1); /* nil */
    }
    check_encoding(b.p, b.len, t);
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(is_map ? cairn_mpr_map(&r, &got) : cairn_mpr_array(&r, &got), 0);
    assert_int_equal(got, vec[i].len);
    assert_ptr_equal(r.p, b.p + hl);
    /* the other container reader refuses the header */
    cairn_mpr_init(&r, b.p, b.len);
    assert_int_equal(is_map ? cairn_mpr_array(&r, &got) : cairn_mpr_map(&r, &got),
                     CAIRN_EMALFORMED);
    assert_ptr_equal(r.p, b.p);
    bytes_free(&b);
  }
}

static void test_array_widths(void **state) {
  static const bvec_t vec[] = {
      {"90", 0},        {"91", 1},        {"9f", 15},       {"dc 00 00", 0},
      {"dc 00 10", 16}, {"dc 01 00", 256}, {"dd 00 00 00 00", 0}, {"dd 00 00 00 11", 17},
  };
  (void)state;
  check_containers(vec, sizeof vec / sizeof vec[0], CAIRN_MP_ARRAY);
}

static void test_map_widths(void **state) {
  static const bvec_t vec[] = {
      {"80", 0},        {"81", 1},        {"8f", 15},       {"de 00 00", 0},
      {"de 00 10", 16}, {"de 01 00", 256}, {"df 00 00 00 00", 0}, {"df 00 00 00 11", 17},
  };
  (void)state;
  check_containers(vec, sizeof vec / sizeof vec[0], CAIRN_MP_MAP);
}

/* Composite objects, cut at every length too. */
static void test_nested_truncated(void **state) {
  static const struct {
    const char *hex;
    cairn_mp_type_t t;
  } vec[] = {
      {"93 01 a1 61 c4 02 00 01", CAIRN_MP_ARRAY},
      {"82 a1 61 91 cb 3f f0 00 00 00 00 00 00 a1 62 80", CAIRN_MP_MAP},
      {"92 d4 01 05 c7 02 03 aa bb", CAIRN_MP_ARRAY},
      {"81 c0 92 dc 00 01 90 de 00 01 c2 c3", CAIRN_MP_MAP},
      {"dd 00 00 00 02 cd 01 00 d3 80 00 00 00 00 00 00 00", CAIRN_MP_ARRAY},
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++)
    check_hex(vec[i].hex, vec[i].t);
}

/* Counts must fit in the bytes that remain: one per element, two per map pair. */
static void test_counts_against_bytes_left(void **state) {
  cairn_mpr_t r;
  uint32_t n;
  (void)state;
  cairn_mpr_init(&r, "\x93\xc0\xc0\xc0", 4);
  assert_int_equal(cairn_mpr_array(&r, &n), 0);
  assert_int_equal(n, 3);
  cairn_mpr_init(&r, "\x94\xc0\xc0\xc0", 4);
  assert_int_equal(cairn_mpr_array(&r, &n), CAIRN_EMALFORMED);
  cairn_mpr_init(&r, "\xdd\x00\x00\x00\x03\xc0\xc0\xc0", 8);
  assert_int_equal(cairn_mpr_array(&r, &n), 0);
  cairn_mpr_init(&r, "\xdd\x00\x00\x00\x04\xc0\xc0\xc0", 8);
  assert_int_equal(cairn_mpr_array(&r, &n), CAIRN_EMALFORMED);
  cairn_mpr_init(&r, "\x81\xc0\xc0", 3);
  assert_int_equal(cairn_mpr_map(&r, &n), 0);
  cairn_mpr_init(&r, "\x82\xc0\xc0\xc0", 4);
  assert_int_equal(cairn_mpr_map(&r, &n), CAIRN_EMALFORMED);
  cairn_mpr_init(&r, "\xde\x00\x02\xc0\xc0\xc0", 6);
  assert_int_equal(cairn_mpr_map(&r, &n), CAIRN_EMALFORMED);
}

/* Hostile headers claiming about 4 GB: refused at once, before any element. */
static void test_huge_counts(void **state) {
  static const char *const hostile[] = {
      "dd ff ff ff ff",    /* array of 4G elements */
      "dd ff 00 00 00",    /* docs/design.md's example */
      "df ff ff ff ff",    /* map of 4G pairs */
      "df 80 00 00 00",    /* 2G pairs: 2 * n overflows 32 bits */
      "dc ff ff",          /* array16 */
      "de ff ff",          /* map16 */
      "db ff ff ff ff",    /* str32 */
      "c6 ff ff ff ff",    /* bin32 */
      "c9 ff ff ff ff 01", /* ext32 */
      "91 dd ff ff ff ff", /* nested */
  };
  (void)state;
  clock_t t0 = clock();
  for (int rep = 0; rep < 1000; rep++) {
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
      cairn_test_bytes_t b = bytes_from_hex(hostile[i]);
      cairn_mpr_t r;
      uint32_t n;
      cairn_mpr_init(&r, b.p, b.len);
      assert_int_equal(cairn_mpr_skip(&r, CAIRN_MP_MAX_DEPTH), CAIRN_EMALFORMED);
      assert_ptr_equal(r.p, b.p);
      assert_int_equal(cairn_mp_validate(b.p, b.len, CAIRN_MP_MAX_DEPTH), CAIRN_EMALFORMED);
      if (rep == 0 && b.p[0] != 0x91) { /* the nested one has a sound outer header */
        cairn_mpr_init(&r, b.p, b.len);
        assert_int_equal(cairn_mpr_array(&r, &n), CAIRN_EMALFORMED);
        assert_int_equal(cairn_mpr_map(&r, &n), CAIRN_EMALFORMED);
      }
      bytes_free(&b);
    }
  }
  /* the same header followed by a megabyte of nils: still refused, still instant */
  {
    cairn_test_bytes_t b = bytes_from_hex("dd ff ff ff ff");
    bytes_fill(&b, 0xc0, 1u << 20);
    assert_int_equal(cairn_mp_validate(b.p, b.len, CAIRN_MP_MAX_DEPTH), CAIRN_EMALFORMED);
    bytes_free(&b);
  }
  double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
  if (secs > 2.0)
    fail_msg("10,000 hostile headers took %.2f s", secs);
}

/* Nesting: depth d needs max_depth >= d; deep inputs fail without exhausting the
 * stack. */
static void test_depth(void **state) {
  (void)state;
  for (int d = 0; d <= CAIRN_MP_MAX_DEPTH + 2; d++) {
    cairn_test_bytes_t arr = {0}, map = {0};
    bytes_fill(&arr, 0x91, (size_t)d);
    bytes_fill(&arr, 0xc0, 1);
    for (int k = 0; k < d; k++)
      bytes_hex(&map, "81 c0"); /* {nil: {nil: ... nil}} */
    bytes_fill(&map, 0xc0, 1);
    for (int max = 0; max <= CAIRN_MP_MAX_DEPTH + 2; max++) {
      int want = d <= max ? 0 : CAIRN_EMALFORMED;
      assert_int_equal(cairn_mp_validate(arr.p, arr.len, max), want);
      assert_int_equal(cairn_mp_validate(map.p, map.len, max), want);
    }
    bytes_free(&arr);
    bytes_free(&map);
  }
  /* a key that is itself nested counts too */
  {
    cairn_test_bytes_t b = bytes_from_hex("81 91 91 c0 c0");
    assert_int_equal(cairn_mp_validate(b.p, b.len, 3), 0);
    assert_int_equal(cairn_mp_validate(b.p, b.len, 2), CAIRN_EMALFORMED);
    bytes_free(&b);
  }
  /* a million levels */
  {
    cairn_test_bytes_t b = {0};
    bytes_fill(&b, 0x91, 1000000);
    bytes_fill(&b, 0xc0, 1);
    assert_int_equal(cairn_mp_validate(b.p, b.len, CAIRN_MP_MAX_DEPTH), CAIRN_EMALFORMED);
    bytes_free(&b);
  }
  /* scalars need no depth */
  assert_int_equal(cairn_mp_validate("\x01", 1, 0), 0);
}

/* Exactly one well-formed object. */
static void test_validate(void **state) {
  static const struct {
    const char *hex;
    int ok;
  } vec[] = {
      {"c0", 1},
      {"c0 c0", 0},               /* two objects */
      {"93 01 02 03", 1},
      {"93 01 02 03 04", 0},      /* trailing byte */
      {"92 01 c1", 0},            /* the never-used byte inside an array */
      {"81 a1 61 c1", 0},
      {"82 a1 61 01 a1 62", 0},   /* a key without its value */
      {"a2 61", 0},               /* a str shorter than its length */
      {"d4 01", 0},               /* fixext 1 without its data */
      {"c7 01 01 00", 1},
      {"c7 01", 0},               /* ext without its type */
  };
  (void)state;
  for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
    cairn_test_bytes_t b = bytes_from_hex(vec[i].hex);
    int rc = cairn_mp_validate(b.p, b.len, CAIRN_MP_MAX_DEPTH);
    if (rc != (vec[i].ok ? 0 : CAIRN_EMALFORMED))
      fail_msg("validate(%s) = %d", vec[i].hex, rc);
    bytes_free(&b);
  }
}

/* peek classifies every first byte as the MessagePack spec does. */
static void test_peek_every_byte(void **state) {
  (void)state;
  for (int c = 0; c < 256; c++) {
    cairn_mp_type_t want;
    if (c <= 0x7f)
      want = CAIRN_MP_UINT;
    else if (c <= 0x8f)
      want = CAIRN_MP_MAP;
    else if (c <= 0x9f)
      want = CAIRN_MP_ARRAY;
    else if (c <= 0xbf)
      want = CAIRN_MP_STR;
    else if (c >= 0xe0)
      want = CAIRN_MP_INT;
    else
      switch (c) {
      case 0xc0: want = CAIRN_MP_NIL; break;
      case 0xc2: case 0xc3: want = CAIRN_MP_BOOL; break;
      case 0xc4: case 0xc5: case 0xc6: want = CAIRN_MP_BIN; break;
      case 0xc7: case 0xc8: case 0xc9: want = CAIRN_MP_EXT; break;
      case 0xca: case 0xcb: want = CAIRN_MP_FLOAT; break;
      case 0xcc: case 0xcd: case 0xce: case 0xcf: want = CAIRN_MP_UINT; break;
      case 0xd0: case 0xd1: case 0xd2: case 0xd3: want = CAIRN_MP_INT; break;
      case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: want = CAIRN_MP_EXT; break;
      case 0xd9: case 0xda: case 0xdb: want = CAIRN_MP_STR; break;
      case 0xdc: case 0xdd: want = CAIRN_MP_ARRAY; break;
      case 0xde: case 0xdf: want = CAIRN_MP_MAP; break;
      default: want = CAIRN_MP_INVALID; break; /* 0xc1 */
      }
    uint8_t byte = (uint8_t)c;
    cairn_mpr_t r;
    cairn_mpr_init(&r, &byte, 1);
    if (cairn_mpr_peek(&r) != want)
      fail_msg("peek(%02x) = %d, want %d", c, cairn_mpr_peek(&r), want);
    assert_ptr_equal(r.p, &byte); /* peek does not consume */
  }
}

/* Any single byte, and any two bytes, either validate or fail cleanly; what
 * validates is exactly one object (checked against skip). */
static void test_all_short_inputs(void **state) {
  uint8_t b[3];
  (void)state;
  for (int x = 0; x < 256; x++)
    for (int y = 0; y < 256; y++) {
      b[0] = (uint8_t)x;
      b[1] = (uint8_t)y;
      for (size_t len = 1; len <= 2; len++) {
        cairn_mpr_t r;
        cairn_mpr_init(&r, b, len);
        int v = cairn_mp_validate(b, len, CAIRN_MP_MAX_DEPTH);
        int s = cairn_mpr_skip(&r, CAIRN_MP_MAX_DEPTH);
        assert_int_equal(v == 0, s == 0 && cairn_mpr_left(&r) == 0);
      }
    }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nil_bool),
      cmocka_unit_test(test_uint_widths),
      cmocka_unit_test(test_uint_reader_refuses_other_types),
      cmocka_unit_test(test_int_widths),
      cmocka_unit_test(test_float_widths),
      cmocka_unit_test(test_str_widths),
      cmocka_unit_test(test_bin_widths),
      cmocka_unit_test(test_ext_widths),
      cmocka_unit_test(test_array_widths),
      cmocka_unit_test(test_map_widths),
      cmocka_unit_test(test_nested_truncated),
      cmocka_unit_test(test_counts_against_bytes_left),
      cmocka_unit_test(test_huge_counts),
      cmocka_unit_test(test_depth),
      cmocka_unit_test(test_validate),
      cmocka_unit_test(test_peek_every_byte),
      cmocka_unit_test(test_all_short_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
