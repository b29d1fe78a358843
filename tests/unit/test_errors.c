/*
 * test_errors.c — the error codes of CAIRN_ERR_MAP (core/error.h): each has a
 * distinct number, name and text; names and texts come from the map; unknown
 * codes give "unknown error"; cairn__error fills and truncates the record.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cairn_test.h"

typedef struct code_info {
  int code;
  int num;
  const char *name; /* "CAIRN_E..." as the map spells it */
  const char *text;
} code_info_t;

static const code_info_t codes[] = {
#define XX(name, num, text) {CAIRN_##name, num, "CAIRN_" #name, text},
    CAIRN_ERR_MAP(XX)
#undef XX
};
#define NCODES (sizeof codes / sizeof codes[0])

static void test_every_code_named(void **state) {
  (void)state;
  assert_true(NCODES >= 27);
  for (size_t i = 0; i < NCODES; i++) {
    assert_int_equal(codes[i].code, -codes[i].num);
    assert_true(codes[i].code < 0);
    assert_string_equal(cairn_err_name(codes[i].code), codes[i].name);
    assert_string_equal(cairn_strerror(codes[i].code), codes[i].text);
    assert_true(strlen(codes[i].text) > 0);
    assert_string_not_equal(cairn_strerror(codes[i].code), "unknown error");
    assert_string_not_equal(cairn_err_name(codes[i].code), "CAIRN_EUNKNOWN");
  }
}

static void test_codes_distinct(void **state) {
  (void)state;
  for (size_t i = 0; i < NCODES; i++)
    for (size_t j = i + 1; j < NCODES; j++) {
      if (codes[i].code == codes[j].code)
        fail_msg("%s and %s share number %d", codes[i].name, codes[j].name, codes[i].num);
      if (strcmp(cairn_err_name(codes[i].code), cairn_err_name(codes[j].code)) == 0)
        fail_msg("%s and %s share a name", codes[i].name, codes[j].name);
      if (strcmp(cairn_strerror(codes[i].code), cairn_strerror(codes[j].code)) == 0)
        fail_msg("%s and %s share the text \"%s\"", codes[i].name, codes[j].name,
                 codes[i].text);
    }
}

static void test_success(void **state) {
  (void)state;
  assert_int_equal(CAIRN_OK, 0);
  assert_string_equal(cairn_strerror(0), "success");
  assert_string_equal(cairn_err_name(0), "CAIRN_OK");
  for (size_t i = 0; i < NCODES; i++)
    assert_string_not_equal(cairn_strerror(codes[i].code), "success");
}

static int is_known(int code) {
  for (size_t i = 0; i < NCODES; i++)
    if (codes[i].code == code)
      return 1;
  return code == 0;
}

static void test_unknown_codes(void **state) {
  static const int probes[] = {1, 7, 100, -100, -1000, INT_MIN, INT_MAX, -(int)NCODES - 1};
  (void)state;
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    assert_false(is_known(probes[i]));
    assert_string_equal(cairn_strerror(probes[i]), "unknown error");
    assert_string_equal(cairn_err_name(probes[i]), "CAIRN_EUNKNOWN");
  }
  /* every number in a wide range is either in the map or unknown, never NULL */
  for (int c = -300; c <= 300; c++) {
    const char *t = cairn_strerror(c), *n = cairn_err_name(c);
    assert_non_null(t);
    assert_non_null(n);
    if (!is_known(c)) {
      assert_string_equal(t, "unknown error");
      assert_string_equal(n, "CAIRN_EUNKNOWN");
    }
  }
}

static void test_error_record(void **state) {
  cairn_error_t err;
  char longmsg[CAIRN_ERRMSG_MAX * 2];
  (void)state;
  assert_int_equal(cairn__error(&err, CAIRN_EGAP, "author %s seq %d", "ab", 3), CAIRN_EGAP);
  assert_int_equal(err.code, CAIRN_EGAP);
  assert_string_equal(err.msg, "author ab seq 3");
  /* NULL record: only the code comes back */
  assert_int_equal(cairn__error(NULL, CAIRN_EFORK, "x"), CAIRN_EFORK);
  /* an earlier error is overwritten */
  assert_int_equal(cairn__error(&err, CAIRN_EIO, "second"), CAIRN_EIO);
  assert_int_equal(err.code, CAIRN_EIO);
  assert_string_equal(err.msg, "second");
  /* long messages are truncated, always NUL-terminated */
  memset(longmsg, 'x', sizeof longmsg - 1);
  longmsg[sizeof longmsg - 1] = '\0';
  cairn__error(&err, CAIRN_EINVAL, "%s", longmsg);
  assert_int_equal(strlen(err.msg), CAIRN_ERRMSG_MAX - 1);
  cairn__error_clear(&err);
  assert_int_equal(err.code, 0);
  assert_string_equal(err.msg, "");
  cairn__error_clear(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_code_named), cmocka_unit_test(test_codes_distinct),
      cmocka_unit_test(test_success),          cmocka_unit_test(test_unknown_codes),
      cmocka_unit_test(test_error_record),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
