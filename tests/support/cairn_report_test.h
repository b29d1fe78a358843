/*
 * cairn_report_test.h — helpers for the tests of the reports (client/report/):
 * a store whose network has the default schema, the process's clock put at a
 * time, records written from text as `cairn put` writes them, and a document
 * rendered into a string. Plain functions (no cmocka): each returns 0 or a
 * negative CAIRN_E* code; wrap them in CAIRN_PASS.
 */
#ifndef CAIRN_REPORT_TEST_H
#define CAIRN_REPORT_TEST_H

#include <stdint.h>

#include "cairn_test.h"
#include "report.h"

/*
 * Put this process's clock at ms (ms since 1970): cairn_now_ms() says ms from
 * now on, and goes on from there. Test builds only (CAIRN_TEST_HOOKS, through
 * CAIRN_TEST_CLOCK_OFFSET_MS); elsewhere CAIRN_EINVAL and nothing changes.
 * cairn_test_clock_reset() gives back the real clock.
 */
int cairn_test_clock_at(uint64_t ms);
void cairn_test_clock_reset(void);

/*
 * A store for member `name` (as cairn_test_store) owning a new network titled
 * title with the default collective-impact schema. err may be NULL. On failure
 * nothing is left behind and *out, *dir are NULL.
 */
int cairn_test_schema_store(const char *name, const char *title, cairn_store_t **out,
                            char **dir, cairn_error_t *err);

/*
 * One change on s writing record (type, id) from "field=text" arguments, ended
 * by NULL, each text typed by the field's kind as `cairn put TYPE ID
 * field=text` does (cairn_change_put_text). err may be NULL; it says why a
 * write was refused.
 */
int cairn_test_put_texts(cairn_store_t *s, const char *type, const char *id, cairn_error_t *err,
                         ...);

/* doc rendered in fmt into *out (malloc'd, NUL-terminated: free it). */
int cairn_test_render(const cairn_report_doc_t *doc, cairn_report_format_t fmt, char **out);

#endif
