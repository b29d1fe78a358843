/*
 * mpread.c — bounded MessagePack cursor reader (see mpread.h).
 */
#include "mpread.h"

#include <string.h>

#include "error.h"

static uint64_t load_be(const uint8_t *p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; i++)
    v = (v << 8) | p[i];
  return v;
}

/* Take n bytes after a one-byte tag, returning a pointer to them. */
static const uint8_t *take(cairn_mpr_t *r, size_t n) {
  if (cairn_mpr_left(r) < n)
    return NULL;
  const uint8_t *p = r->p;
  r->p += n;
  return p;
}

cairn_mp_type_t cairn_mpr_peek(const cairn_mpr_t *r) {
  if (r->p >= r->end)
    return CAIRN_MP_INVALID;
  uint8_t c = *r->p;
  if (c <= 0x7f || c == 0xcc || c == 0xcd || c == 0xce || c == 0xcf)
    return CAIRN_MP_UINT;
  if (c >= 0xe0 || (c >= 0xd0 && c <= 0xd3))
    return CAIRN_MP_INT;
  if ((c & 0xf0) == 0x80 || c == 0xde || c == 0xdf)
    return CAIRN_MP_MAP;
  if ((c & 0xf0) == 0x90 || c == 0xdc || c == 0xdd)
    return CAIRN_MP_ARRAY;
  if ((c & 0xe0) == 0xa0 || c == 0xd9 || c == 0xda || c == 0xdb)
    return CAIRN_MP_STR;
  switch (c) {
  case 0xc0:
    return CAIRN_MP_NIL;
  case 0xc2:
  case 0xc3:
    return CAIRN_MP_BOOL;
  case 0xc4:
  case 0xc5:
  case 0xc6:
    return CAIRN_MP_BIN;
  case 0xca:
  case 0xcb:
    return CAIRN_MP_FLOAT;
  case 0xc7:
  case 0xc8:
  case 0xc9:
  case 0xd4:
  case 0xd5:
  case 0xd6:
  case 0xd7:
  case 0xd8:
    return CAIRN_MP_EXT;
  default:
    return CAIRN_MP_INVALID; /* 0xc1 is never used */
  }
}

/* Read a container header: fix range [fix_lo, fix_lo+15], 16-bit tag, 32-bit tag. */
static int read_count(cairn_mpr_t *r, uint8_t fix_lo, uint8_t t16, uint8_t t32,
                      uint32_t *n) {
  cairn_mpr_t s = *r;
  const uint8_t *c = take(&s, 1);
  const uint8_t *q;
  if (c == NULL)
    return CAIRN_EMALFORMED;
  if (*c >= fix_lo && *c <= fix_lo + 15)
    *n = *c & 0x0fu;
  else if (*c == t16 && (q = take(&s, 2)) != NULL)
    *n = (uint32_t)load_be(q, 2);
  else if (*c == t32 && (q = take(&s, 4)) != NULL)
    *n = (uint32_t)load_be(q, 4);
  else
    return CAIRN_EMALFORMED;
  *r = s;
  return 0;
}

int cairn_mpr_array(cairn_mpr_t *r, uint32_t *n) {
  cairn_mpr_t s = *r;
  if (read_count(&s, 0x90, 0xdc, 0xdd, n) != 0 || *n > cairn_mpr_left(&s))
    return CAIRN_EMALFORMED;
  *r = s;
  return 0;
}

int cairn_mpr_map(cairn_mpr_t *r, uint32_t *n) {
  cairn_mpr_t s = *r;
  if (read_count(&s, 0x80, 0xde, 0xdf, n) != 0 || (uint64_t)*n * 2 > cairn_mpr_left(&s))
    return CAIRN_EMALFORMED;
  *r = s;
  return 0;
}

int cairn_mpr_nil(cairn_mpr_t *r) {
  if (r->p >= r->end || *r->p != 0xc0)
    return CAIRN_EMALFORMED;
  r->p++;
  return 0;
}

int cairn_mpr_bool(cairn_mpr_t *r, int *v) {
  if (r->p >= r->end || (*r->p != 0xc2 && *r->p != 0xc3))
    return CAIRN_EMALFORMED;
  *v = *r->p == 0xc3;
  r->p++;
  return 0;
}

static int tag_width(uint8_t c, uint8_t first) {
  /* 0xcc..0xcf / 0xd0..0xd3: 1, 2, 4, 8 bytes */
  return 1 << (c - first);
}

int cairn_mpr_uint(cairn_mpr_t *r, uint64_t *v) {
  cairn_mpr_t s = *r;
  const uint8_t *c = take(&s, 1);
  const uint8_t *q;
  if (c == NULL)
    return CAIRN_EMALFORMED;
  if (*c <= 0x7f) {
    *v = *c;
  } else if (*c >= 0xcc && *c <= 0xcf) {
    int w = tag_width(*c, 0xcc);
    if ((q = take(&s, (size_t)w)) == NULL)
      return CAIRN_EMALFORMED;
    *v = load_be(q, w);
  } else {
    int64_t i;
    s = *r; /* re-read from the tag: a signed encoding of a value >= 0 */
    if (cairn_mpr_int(&s, &i) != 0 || i < 0)
      return CAIRN_EMALFORMED;
    *v = (uint64_t)i;
  }
  *r = s;
  return 0;
}

int cairn_mpr_int(cairn_mpr_t *r, int64_t *v) {
  cairn_mpr_t s = *r;
  const uint8_t *c = take(&s, 1);
  const uint8_t *q;
  if (c == NULL)
    return CAIRN_EMALFORMED;
  if (*c <= 0x7f) {
    *v = *c;
  } else if (*c >= 0xe0) {
    *v = (int8_t)*c;
  } else if (*c >= 0xcc && *c <= 0xcf) {
    int w = tag_width(*c, 0xcc);
    if ((q = take(&s, (size_t)w)) == NULL)
      return CAIRN_EMALFORMED;
    uint64_t u = load_be(q, w);
    if (u > INT64_MAX)
      return CAIRN_EMALFORMED;
    *v = (int64_t)u;
  } else if (*c >= 0xd0 && *c <= 0xd3) {
    int w = tag_width(*c, 0xd0);
    if ((q = take(&s, (size_t)w)) == NULL)
      return CAIRN_EMALFORMED;
    uint64_t u = load_be(q, w);
    int shift = 64 - 8 * w;
    /* sign-extend from w bytes */
    *v = shift ? (int64_t)(u << shift) >> shift : (int64_t)u;
  } else {
    return CAIRN_EMALFORMED;
  }
  *r = s;
  return 0;
}

int cairn_mpr_float(cairn_mpr_t *r, double *v) {
  cairn_mpr_t s = *r;
  const uint8_t *c = take(&s, 1);
  const uint8_t *q;
  if (c == NULL)
    return CAIRN_EMALFORMED;
  if (*c == 0xca && (q = take(&s, 4)) != NULL) {
    uint32_t u = (uint32_t)load_be(q, 4);
    float f;
    memcpy(&f, &u, sizeof f);
    *v = f;
  } else if (*c == 0xcb && (q = take(&s, 8)) != NULL) {
    uint64_t u = load_be(q, 8);
    memcpy(v, &u, sizeof *v);
  } else {
    return CAIRN_EMALFORMED;
  }
  *r = s;
  return 0;
}

/* Length of a str (is_str) or bin body, then the body itself. */
static int read_blob(cairn_mpr_t *r, int is_str, const uint8_t **b, uint32_t *len) {
  cairn_mpr_t s = *r;
  const uint8_t *c = take(&s, 1);
  const uint8_t *q;
  uint8_t t8 = is_str ? 0xd9 : 0xc4;
  if (c == NULL)
    return CAIRN_EMALFORMED;
  if (is_str && (*c & 0xe0) == 0xa0)
    *len = *c & 0x1fu;
  else if (*c >= t8 && *c <= t8 + 2) {
    int w = 1 << (*c - t8);
    if ((q = take(&s, (size_t)w)) == NULL)
      return CAIRN_EMALFORMED;
    *len = (uint32_t)load_be(q, w);
  } else
    return CAIRN_EMALFORMED;
  if ((*b = take(&s, *len)) == NULL)
    return CAIRN_EMALFORMED;
  *r = s;
  return 0;
}

int cairn_mpr_str(cairn_mpr_t *r, const char **str, uint32_t *len) {
  const uint8_t *b;
  int rc = read_blob(r, 1, &b, len);
  if (rc == 0)
    *str = (const char *)b;
  return rc;
}

int cairn_mpr_bin(cairn_mpr_t *r, const uint8_t **b, uint32_t *len) {
  return read_blob(r, 0, b, len);
}

int cairn_mpr_bin_exact(cairn_mpr_t *r, const uint8_t **b, uint32_t len) {
  cairn_mpr_t s = *r;
  uint32_t got;
  if (cairn_mpr_bin(&s, b, &got) != 0 || got != len)
    return CAIRN_EMALFORMED;
  *r = s;
  return 0;
}

int cairn_mpr_ext(cairn_mpr_t *r, int8_t *type, const uint8_t **b, uint32_t *len) {
  cairn_mpr_t s = *r;
  const uint8_t *c = take(&s, 1);
  const uint8_t *q;
  if (c == NULL)
    return CAIRN_EMALFORMED;
  if (*c >= 0xd4 && *c <= 0xd8) {
    *len = 1u << (*c - 0xd4);
  } else if (*c >= 0xc7 && *c <= 0xc9) {
    int w = 1 << (*c - 0xc7);
    if ((q = take(&s, (size_t)w)) == NULL)
      return CAIRN_EMALFORMED;
    *len = (uint32_t)load_be(q, w);
  } else {
    return CAIRN_EMALFORMED;
  }
  if ((q = take(&s, 1)) == NULL)
    return CAIRN_EMALFORMED;
  *type = (int8_t)*q;
  if ((*b = take(&s, *len)) == NULL)
    return CAIRN_EMALFORMED;
  *r = s;
  return 0;
}

int cairn_mpr_skip(cairn_mpr_t *r, int max_depth) {
  cairn_mpr_t s = *r;
  uint32_t n;
  const uint8_t *b;
  const char *str;
  uint64_t u;
  int64_t i;
  double d;
  int8_t et;
  int bv;
  int rc;
  switch (cairn_mpr_peek(&s)) {
  case CAIRN_MP_NIL:
    rc = cairn_mpr_nil(&s);
    break;
  case CAIRN_MP_BOOL:
    rc = cairn_mpr_bool(&s, &bv);
    break;
  case CAIRN_MP_UINT:
    rc = cairn_mpr_uint(&s, &u);
    break;
  case CAIRN_MP_INT:
    rc = cairn_mpr_int(&s, &i);
    break;
  case CAIRN_MP_FLOAT:
    rc = cairn_mpr_float(&s, &d);
    break;
  case CAIRN_MP_STR:
    rc = cairn_mpr_str(&s, &str, &n);
    break;
  case CAIRN_MP_BIN:
    rc = cairn_mpr_bin(&s, &b, &n);
    break;
  case CAIRN_MP_EXT:
    rc = cairn_mpr_ext(&s, &et, &b, &n);
    break;
  case CAIRN_MP_ARRAY:
  case CAIRN_MP_MAP: {
    int is_map = cairn_mpr_peek(&s) == CAIRN_MP_MAP;
    if (max_depth <= 0)
      return CAIRN_EMALFORMED;
    rc = is_map ? cairn_mpr_map(&s, &n) : cairn_mpr_array(&s, &n);
    uint64_t items = is_map ? (uint64_t)n * 2 : n;
    for (uint64_t k = 0; rc == 0 && k < items; k++)
      rc = cairn_mpr_skip(&s, max_depth - 1);
    break;
  }
  default:
    rc = CAIRN_EMALFORMED;
  }
  if (rc != 0)
    return CAIRN_EMALFORMED;
  *r = s;
  return 0;
}

int cairn_mp_validate(const void *buf, size_t len, int max_depth) {
  cairn_mpr_t r;
  cairn_mpr_init(&r, buf, len);
  if (cairn_mpr_skip(&r, max_depth) != 0 || cairn_mpr_left(&r) != 0)
    return CAIRN_EMALFORMED;
  return 0;
}
