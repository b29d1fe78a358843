/*
 * schema.h — the network's schema: record types and their fields, kept as
 * `_schema` records in the network itself, and the checks a write must pass
 * where a person types it (schema.c; docs/design.md, "Schema").
 *
 * A `_schema` record with id TYPE describes a type (label, help, hidden,
 * order); one with id TYPE.FIELD describes a field (kind, required, label,
 * help, unit, values, ref, aliases, hidden, order). Owners and admins write
 * them (member.h). A network without any is free-form: every type and field is
 * accepted, as text or JSON, and nothing is checked.
 *
 * Validation happens only where a change is made on this device
 * (cairn_change_commit checks every put before it signs): receivers never
 * refuse a signed entry for its content, since its author may have been behind
 * on the schema. cairn_schema_check lists the records that break the current
 * schema instead.
 *
 * Values by kind (MessagePack, as stored):
 *   text      str                    number   int or float (finite)
 *   integer   int                    bool     bool
 *   date      str YYYY-MM-DD         datetime str YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH:MM]
 *   period    str YYYY, YYYY-Qn (n 1-4) or YYYY-MM
 *   enum      str, one of the field's values
 *   ref       str, the id of a visible record of the field's ref type
 *   refs      array of such ids      json     any value
 * nil is an absent field (`cairn unset`): a required field must not be nil.
 */
#ifndef CAIRN_SCHEMA_H
#define CAIRN_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "query.h"
#include "store.h"

#define CAIRN_SCHEMA_TYPE "_schema"

typedef enum cairn_kind {
  CAIRN_KIND_TEXT = 1,
  CAIRN_KIND_NUMBER,
  CAIRN_KIND_INTEGER,
  CAIRN_KIND_BOOL,
  CAIRN_KIND_DATE,
  CAIRN_KIND_DATETIME,
  CAIRN_KIND_PERIOD,
  CAIRN_KIND_ENUM,
  CAIRN_KIND_REF,
  CAIRN_KIND_REFS,
  CAIRN_KIND_JSON
} cairn_kind_t;

/* The kind's name ("text", "refs"...), a static string; "json" for an unknown
 * value. */
CAIRN_EXTERN const char *cairn_kind_name(cairn_kind_t kind);
/* The kind named name (n bytes): 1 with *out set, 0 if no kind has that name. */
CAIRN_EXTERN int cairn_kind_parse(const char *name, size_t n, cairn_kind_t *out);

/* One field of a type. Strings are NUL-terminated, owned by the schema; label,
 * help, unit and ref are "" when unset. A kind unknown to this version (a newer
 * device's) reads as json: anything is accepted. */
typedef struct cairn_schema_field {
  char *name;
  cairn_kind_t kind;
  int required;
  int hidden;      /* removed from the schema: kept in records, never shown or written */
  char *label, *help, *unit;
  char *ref;       /* ref and refs: the type referred to */
  char **values;   /* enum: the allowed values, in order */
  size_t nvalues;
  char **aliases;  /* former names (renames): a record's value under an alias is
                      this field's when the field itself is absent */
  size_t naliases;
  int64_t order;
} cairn_schema_field_t;

typedef struct cairn_schema_type {
  char *name;
  char *label, *help;
  int hidden;
  int64_t order;
  cairn_schema_field_t *fields; /* in display order (order, then name) */
  size_t nfields;
} cairn_schema_type_t;

/* A schema read from a store: its types in display order. Read-only once
 * returned; it may be shared (a reference count). */
typedef struct cairn_schema {
  cairn_schema_type_t *types;
  size_t ntypes;
  unsigned refs_; /* internal */
} cairn_schema_t;

/*
 * Read the schema from the store's `_schema` records. The store keeps the last
 * schema read and hands it out again, shared, until a `_schema` record changes
 * (in any process): a call costs a read transaction and one lookup then.
 * @param[out] out  a reference: release it with cairn_schema_free (any thread);
 *                  never modify it. A free-form network gives a schema with
 *                  ntypes 0.
 * @return 0, CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_schema_load(cairn_store_t *s, cairn_schema_t **out) CAIRN_WUR;
/* Release a reference (NULL is fine); the last one frees the schema. */
CAIRN_EXTERN void cairn_schema_free(cairn_schema_t *sc);

/* The type named name (hidden ones too), or NULL. */
CAIRN_EXTERN const cairn_schema_type_t *cairn_schema_type(const cairn_schema_t *sc,
                                                          const char *name);
/* The field named name, or whose aliases hold name (hidden ones too), or NULL. */
CAIRN_EXTERN const cairn_schema_field_t *cairn_schema_field(const cairn_schema_type_t *t,
                                                            const char *name);

/*
 * The field a local write may set on type: *t and *f found, or both NULL when
 * nothing is checked (a free-form network, a type of cairn's own such as
 * `_member`).
 * @return 0, or CAIRN_ESCHEMA (an unknown or hidden type or field, an old name
 *         of a renamed field; err says so, with "did you mean"), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_schema_field_for(const cairn_schema_t *sc, const char *type,
                                        const char *field, const cairn_schema_type_t **t,
                                        const cairn_schema_field_t **f,
                                        cairn_error_t *err) CAIRN_WUR;

/*
 * A record's value of field f: the field itself, or else its value under the
 * newest of its aliases. 1 with *out set, 0 when absent (or nil).
 */
CAIRN_EXTERN int cairn_schema_value(const cairn_record_t *r, const cairn_schema_field_t *f,
                                    cairn_record_field_t *out);

/*
 * The fields of r as people see them: with a schema that knows r's type, its
 * fields in display order, each under its current name (a value written under
 * an alias shows under the new name), hidden fields left out, then any field
 * the schema does not know (a newer device's) in name order; without one (sc
 * NULL, or a type it does not know), every field in name order. nil values
 * (absent fields) are left out. cb gets each field with name set to the name
 * shown; it returns nonzero to stop.
 */
typedef int (*cairn_field_cb)(const cairn_record_field_t *f, void *ud);
CAIRN_EXTERN void cairn_schema_fields(const cairn_schema_t *sc, const cairn_record_t *r,
                                      cairn_field_cb cb, void *ud);

/*
 * Check one value against a field's kind (refs are checked for form only; see
 * cairn_schema_check for whether they name a record). nil passes.
 * @param[out] err  on failure: `TYPE ID: FIELD "VALUE" is not ...`, with "did
 *                  you mean" for a near enum value. type and id may be NULL
 *                  (the message then names the field only).
 * @return 0 or CAIRN_ESCHEMA.
 */
CAIRN_EXTERN int cairn_schema_check_value(const cairn_schema_type_t *t,
                                          const cairn_schema_field_t *f, const char *id,
                                          const uint8_t *mp, size_t len,
                                          cairn_error_t *err) CAIRN_WUR;

/*
 * A value typed as text by a person (`cairn put TYPE ID field=text`, a CSV
 * cell) as the MessagePack value the field's kind stores: numbers and integers
 * parsed ("40" -> 40, "2.5" -> 2.5), bools from true/false/yes/no, refs split
 * at commas, the rest as the string itself. Empty text is nil (no value) for
 * every kind but text. The value is then checked (cairn_schema_check_value).
 * @param[out] mp   malloc'd, *len bytes; free with free().
 * @return 0, CAIRN_ESCHEMA (err says what was expected), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_schema_parse_text(const cairn_schema_type_t *t,
                                         const cairn_schema_field_t *f, const char *id,
                                         const char *text, uint8_t **mp, size_t *len,
                                         cairn_error_t *err) CAIRN_WUR;

/*
 * The records that break the current schema, ordered by type and id: cb gets
 * each problem (one line in why, naming the record, the field and what is
 * wrong). A free-form network has none.
 * @return 0, CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT.
 */
typedef int (*cairn_schema_problem_cb)(const cairn_record_t *r, const char *field,
                                       const char *why, void *ud);
CAIRN_EXTERN int cairn_schema_check(cairn_store_t *s, cairn_schema_problem_cb cb,
                                    void *ud) CAIRN_WUR;

/*
 * "Did you mean" for a reference that names no record: among n records (ids[i]
 * and their names or titles, names[i] NULL when none), the closest id, else
 * the closest name, else the first whose name has a word close to word. Writes
 * "; did you mean ID (NAME)?" (or "; did you mean ID?") to out, or "" when none
 * is close.
 */
CAIRN_EXTERN void cairn_suggest_record(const char *word, const char *const *ids,
                                       const char *const *names, size_t n, char *out,
                                       size_t cap);

/*
 * "Did you mean": the candidate closest to word (case-insensitive edit
 * distance, at most a third of the word's length, at least 1), or NULL.
 */
CAIRN_EXTERN const char *cairn_suggest(const char *word, const char *const *candidates,
                                       size_t n);

#endif
