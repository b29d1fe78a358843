/*
 * index.h — values compared by a field's kind, walks over a type's records, and
 * the secondary indexes kept in the apply transaction (index.c; docs/design.md,
 * "Queries and indexes"; docs/storage.md, `index`).
 *
 * The order of values of each kind is the one queries (`cairn list --where`,
 * `--sort`) use and the indexes keep:
 *   text, enum, ref   strings, bytewise (UTF-8 code point order)
 *   number, integer   numerically (integers exactly, others as 64-bit floats)
 *   bool              false before true
 *   date              chronologically (YYYY-MM-DD)
 *   datetime          by the instant: an offset is applied, none means UTC;
 *                     fractions of a second count to the nanosecond
 *   period            by the first day, then the longer first: 2026 <
 *                     2026-Q1 < 2026-01 < 2026-02 < 2026-03 < 2026-Q2 < 2026-04;
 *                     2026-q2 and 2026-Q2 are equal
 *   refs              lists of ids, element by element (a shorter list that is
 *                     a prefix of a longer one first)
 *   json              not ordered (queries compare such fields as free-form
 *                     ones)
 * A value that is not of the kind (written by a device behind on the schema, or
 * before the field had it) is not comparable.
 *
 * Indexes. Each is a list of (leading field, second field) pairs of one type,
 * ordered by the second field's kind, kept for every visible record whose
 * leading field holds a string of 1 to CAIRN_ID_MAX bytes:
 *   CAIRN_INDEX_VALUE_INDICATOR     value: indicator, period
 *   CAIRN_INDEX_VALUE_MEASURE       value: measure, period
 *   CAIRN_INDEX_COMMITMENT_PARTNER  commitment: partner, due (date)
 *   CAIRN_INDEX_INTERACTION_PARTNER interaction: partner, date (date)
 * The rows follow the stored field names (not the schema's renames) and are
 * written in the same transaction as the records they describe, rebuilt when
 * every entry is judged again, and removed by a purge. A store made before the
 * indexes existed has them built when it is first opened for writing; opened
 * read-only it has none, and cairn_index_walk reads the records instead (the
 * same results, slower).
 *
 * Thread-safety: as store.h (one thread at a time per store handle).
 */
#ifndef CAIRN_INDEX_H
#define CAIRN_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "query.h"
#include "schema.h"
#include "store.h"

/*
 * Compare two values (MessagePack, untrusted) in the order of kind (above).
 * @param[out] order  <0, 0 or >0 when a is before, equal to or after b.
 * @return 1 when both are values of that kind (*order set), 0 when either is
 *         not (or kind is json): they are not comparable.
 */
CAIRN_EXTERN int cairn_value_compare(cairn_kind_t kind, const uint8_t *a, size_t alen,
                                     const uint8_t *b, size_t blen, int *order);

/*
 * Every record of a type, deleted ones too when with_deleted, in id order
 * (bytewise), in one read transaction; type NULL walks every type, in type then
 * id order. cb gets each record (a view valid until it returns) and returns
 * nonzero to stop.
 * @return 0, CAIRN_EINVAL (type longer than CAIRN_TYPE_MAX), CAIRN_EIO,
 *         CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_records_walk(cairn_store_t *s, const char *type, int with_deleted,
                                    cairn_record_cb cb, void *ud);

typedef enum cairn_index {
  CAIRN_INDEX_VALUE_INDICATOR = 1,
  CAIRN_INDEX_VALUE_MEASURE = 2,
  CAIRN_INDEX_COMMITMENT_PARTNER = 3,
  CAIRN_INDEX_INTERACTION_PARTNER = 4
} cairn_index_t;

/* What an index holds: a type, its leading field (a string), its second field
 * and the kind that orders it. Static strings. */
typedef struct cairn_index_def {
  cairn_index_t ix;
  const char *type;
  const char *lead;
  const char *second;
  cairn_kind_t second_kind;
} cairn_index_def_t;

/* The definition of ix, or NULL for a number that names no index. */
CAIRN_EXTERN const cairn_index_def_t *cairn_index_def(cairn_index_t ix);

/* The index of type whose leading field is lead: its definition, or NULL. */
CAIRN_EXTERN const cairn_index_def_t *cairn_index_find(const char *type, const char *lead);

/*
 * The visible records of ix's type whose leading field is the string lead and
 * whose second field lies between from and to, both included, in the order of
 * the second field's kind, then by id; in one read transaction. from and to are
 * text in the second field's form ("2026-Q1", "2026-05-01") or NULL for no
 * bound. With no bound at all, records whose second field is absent or not of
 * its kind come too, after the others; with a bound they do not.
 *
 * Example: every value of indicator "ind-1" for a period within 2026, in time
 * order (the year first, its last month last: 2026-Q4 sorts before 2026-10):
 *   cairn_index_walk(s, CAIRN_INDEX_VALUE_INDICATOR, "ind-1", "2026", "2026-12", cb, ud)
 *
 * cb gets each record (a view valid until it returns) and returns nonzero to
 * stop.
 * @return 0, CAIRN_EINVAL (ix names no index, lead is empty or too long, a bound
 *         is not of the second field's form), CAIRN_EIO, CAIRN_ECORRUPT,
 *         CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_index_walk(cairn_store_t *s, cairn_index_t ix, const char *lead,
                                  const char *from, const char *to, cairn_record_cb cb,
                                  void *ud);

#endif
