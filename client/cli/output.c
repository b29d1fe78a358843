/*
 * output.c — how values, records and times are printed (docs/cli.md, "Output").
 *
 * JSON goes through jansson, compact, one document per command followed by a
 * newline. Text output is tab-separated; a value prints as it is when it is a
 * printable string, otherwise as compact JSON, so a tab or newline inside a
 * value can never split a line. Values are converted from MessagePack with
 * client/lib/values.h, which reads them with the bounded reader: they come from
 * other people's entries.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

char *cli_time(uint64_t hlc, char out[CLI_TIME_MAX]) {
  return cairn_time_text(hlc >> 16, out);
}

/* A string that prints as it is: no control characters or NUL, not empty, and not
 * starting with a quote (so that JSON-printed strings stay recognisable). */
static int plain_string(const json_t *v) {
  const char *s = json_string_value(v);
  size_t n = json_string_length(v);
  if (n == 0 || s[0] == '"' || strlen(s) != n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return 0;
  return 1;
}

int cli_json_text(const json_t *v, char **out) {
  if (json_is_string(v) && plain_string(v))
    *out = strdup(json_string_value(v));
  else
    *out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  return *out != NULL ? 0 : CAIRN_ENOMEM;
}

int cli_value_text(const uint8_t *mp, size_t len, char **out) {
  json_t *v = NULL;
  int rc = cairn_value_to_json(mp, len, &v);
  *out = NULL;
  if (rc == 0)
    rc = cli_json_text(v, out);
  json_decref(v);
  return rc;
}

int cli_print_field(const char *name, size_t name_len, const uint8_t *value, size_t len) {
  char *text;
  int rc = cli_value_text(value, len, &text);
  if (rc != 0)
    return rc;
  printf("\t%.*s=%s", (int)name_len, name, text);
  free(text);
  return 0;
}

/* The schema records are shown through (cli_open sets it). */
static const cairn_schema_t *view_schema;

void cli_output_schema(const cairn_schema_t *sc) {
  view_schema = sc;
}

static int print_one(const cairn_record_field_t *f, void *ud) {
  int *rc = ud;
  *rc = cli_print_field(f->name, f->name_len, f->value, f->value_len);
  return *rc != 0;
}

int cli_print_record_fields(const cairn_record_t *r) {
  int rc = 0;
  cairn_schema_fields(view_schema, r, print_one, &rc);
  return rc;
}

/* A MessagePack str header and body for n bytes of s (malloc'd). */
static uint8_t *pack_str(const char *s, size_t n, size_t *len) {
  uint8_t *p = malloc(n + 5);
  size_t h;
  if (p == NULL)
    return NULL;
  if (n < 32) {
    p[0] = (uint8_t)(0xa0 | n);
    h = 1;
  } else if (n < 256) {
    p[0] = 0xd9;
    p[1] = (uint8_t)n;
    h = 2;
  } else if (n < 65536) {
    p[0] = 0xda;
    p[1] = (uint8_t)(n >> 8);
    p[2] = (uint8_t)n;
    h = 3;
  } else {
    p[0] = 0xdb;
    for (int i = 0; i < 4; i++)
      p[1 + i] = (uint8_t)(n >> (24 - 8 * i));
    h = 5;
  }
  memcpy(p + h, s, n);
  *len = h + n;
  return p;
}

json_t *cli_json_str(const char *s, size_t n) {
  json_t *j;
  uint8_t *mp;
  size_t len;
  if (s == NULL)
    return json_null();
  if ((j = json_stringn(s, n)) != NULL)
    return j;
  /* not UTF-8 (written by some other client): repaired as values.h does */
  if ((mp = pack_str(s, n, &len)) == NULL)
    return NULL;
  if (cairn_value_to_json(mp, len, &j) != 0)
    j = NULL;
  free(mp);
  return j;
}

json_t *cli_record_json(const cairn_record_t *r) {
  return cairn_record_object(view_schema, NULL, r);
}

int cli_print_json(cli_t *cli, json_t *j) {
  int rc;
  if (j == NULL)
    return cli_fail(cli, "cannot build the JSON output (out of memory)");
  rc = json_dumpf(j, stdout, JSON_COMPACT | JSON_ENCODE_ANY);
  json_decref(j);
  if (rc != 0 || fputc('\n', stdout) == EOF)
    return cli_fail(cli, "cannot write the output");
  return 0;
}
