/*
 * cairn.h — libcairn, the one header an application includes to keep a replica
 * of a cairn network, edit it offline and sync it with the network's relay
 * (docs/design.md, "The client library").
 *
 * A store is a directory holding this device's key and an LMDB replica of one
 * network. An application opens it, writes changes (many puts and dels signed as
 * one entry), reads records, their history and their conflicts, and syncs: once
 * (blocking, on a private event loop) or live (on the application's own libuv
 * loop, with a callback after each batch of entries received).
 *
 * This header declares the client API and includes the headers it builds on,
 * installed beside it, whose functions are part of the API too, each documented
 * where it is declared:
 *   error.h       error codes, cairn_strerror(), cairn_error_t
 *   entry.h       signed entries and their ops (views)
 *   store.h       cairn_create(), cairn_open(), cairn_close(), the device's identity
 *   change.h      changes: many puts and dels signed as one entry
 *   query.h       cairn_get(), cairn_history(), cairn_conflicts(), the log, heads
 *   index.h       values compared by kind, record walks, the secondary indexes
 *   member.h      roles, members, invites' terms: the network's rules
 *   schema.h      the network's schema: types, fields, kinds, checks
 *   apply.h       applying received entries (prepare, then apply)
 *   sync_store.h  what sync keeps in a store
 *   bundle.h      sync on a file
 *   values.h      field values between JSON and MessagePack (uses jansson)
 *   heads.h       another replica's heads file
 * Build with `pkg-config --cflags --libs libcairn`.
 *
 * Conventions (those of libuv and LMDB):
 *   - Every function that can fail returns 0 or a negative CAIRN_E* code
 *     (error.h); cairn_strerror(code) turns it into text. Functions that can
 *     say more (which entry, which address) also fill a caller-supplied
 *     cairn_error_t *err, which may be NULL; its msg is one line for people.
 *   - Outputs go in the last parameters. Destructors return void and accept NULL.
 *   - Views handed to callbacks (records, entries, field values) point into the
 *     store's memory map and are valid only until the callback returns; copy what
 *     you keep. Memory a function returns through a char ** or uint8_t ** is
 *     malloc'd: release it with cairn_free().
 *   - No function prints, exits or aborts.
 *
 * Threads: call cairn_init() once before anything else. A store handle is not
 * thread-safe: use it (and any change or live sync on it) from one thread at a
 * time; live sync runs on its loop's thread, so do your reads and writes on that
 * thread too (from loop callbacks, or before the loop runs). Open a given store
 * directory once per process (an LMDB rule); other processes may open it at the
 * same time. Functions that touch no store (cairn_strerror, cairn_value_json,
 * cairn_value_from_json_text, cairn_free) may be called from any thread.
 */
#ifndef CAIRN_H
#define CAIRN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <uv.h>

#include "apply.h"
#include "bundle.h"
#include "bytes.h"
#include "change.h"
#include "entry.h"
#include "error.h"
#include "heads.h"
#include "index.h"
#include "member.h"
#include "query.h"
#include "schema.h"
#include "store.h"
#include "sync_store.h"
#include "values.h"

/* ======================================================================
 * Library
 * ====================================================================== */

/*
 * Initialise the library (libsodium). Call once, before any other function;
 * calling it again is harmless.
 * @return 0, or CAIRN_EIO if the crypto library cannot start.
 */
CAIRN_EXTERN int cairn_init(void) CAIRN_WUR;

/* The library's version, "MAJOR.MINOR.PATCH"; a static string. */
CAIRN_EXTERN const char *cairn_version(void);

/*
 * Text for an error code (declared in error.h): never NULL, a static string;
 * unknown codes give "unknown error". cairn_err_name(code) gives "CAIRN_EBADSIG".
 *
 * const char *cairn_strerror(int code);
 */

/* Release memory that a cairn_* function returned (NULL is fine). */
CAIRN_EXTERN void cairn_free(void *p);

/* ======================================================================
 * Changes (change.h declares the rest)
 * ====================================================================== */

/*
 * Set one field from JSON text: the value is the JSON document `json` (any JSON
 * value: "42", "true", "null", "\"text\"", "[1,2]", "{\"k\":1}"), stored as
 * MessagePack as cairn_value_from_json_text() describes. Otherwise as
 * cairn_change_put().
 *
 * @return 0, or CAIRN_EINVAL (json is not one JSON value, nests deeper than 16
 *         levels, or a name is bad), CAIRN_ETOOBIG, CAIRN_ENOMEM. On error the
 *         change is unchanged and may still be committed or aborted.
 */
CAIRN_EXTERN int cairn_change_put_json(cairn_change_t *c, const char *type, const char *id,
                                       const char *field, const char *json, int resolve,
                                       cairn_error_t *err) CAIRN_WUR;

/*
 * Set one field from text typed by a person, the way `cairn put TYPE ID
 * field=text` does: on a network with a schema, as the field's kind stores it
 * (cairn_schema_parse_text: "40" is the number 40 in a number field, "a, b" two
 * ids in a refs field, "" no value); a field or type the schema does not know
 * is refused at once, with "did you mean". On a free-form network, or for
 * cairn's own types (`_member`...), the text as a string. Reads the schema on
 * each call: for many rows, load it once (cairn_schema_load) and use
 * cairn_schema_parse_text and cairn_change_put. Otherwise (resolve too) as
 * cairn_change_put().
 * @param[out] err  may be NULL; on CAIRN_ESCHEMA, what was wrong.
 * @return 0, or CAIRN_ESCHEMA, CAIRN_EINVAL (text is not UTF-8, or a name is
 *         bad), CAIRN_ETOOBIG, CAIRN_ENOMEM, CAIRN_EIO.
 */
CAIRN_EXTERN int cairn_change_put_text(cairn_change_t *c, const char *type, const char *id,
                                       const char *field, const char *text, int resolve,
                                       cairn_error_t *err) CAIRN_WUR;

/*
 * Set one field from a JSON value as a form or the web app sends it: a string
 * in a field whose schema kind is neither text nor json (number, integer,
 * bool, date, datetime, period, enum, ref, refs) is what a person typed, and
 * is typed as cairn_change_put_text types it ("40" is the number 40 in a number
 * field; "forty" is refused with the message `cairn put TYPE ID count=forty`
 * prints); any other value (a string in a text or json field, or in a field
 * the schema does not know; a number, bool, array, object) is stored as the
 * JSON value it is, as cairn_change_put_json stores it; null unsets the field.
 * Reads the schema on each call. value is borrowed.
 * @return as cairn_change_put_text.
 */
CAIRN_EXTERN int cairn_change_put_value(cairn_change_t *c, const char *type, const char *id,
                                        const char *field, const json_t *value, int resolve,
                                        cairn_error_t *err) CAIRN_WUR;

/* ======================================================================
 * Schema documents (schema_doc.c; schema.h declares the schema itself)
 * ======================================================================
 *
 * A schema document is JSON: {"types": [TYPE...]}, TYPE = {"name", "label",
 * "help", "hidden", "fields": [FIELD...]}, FIELD = {"name", "kind", "required",
 * "label", "help", "unit", "ref", "values", "hidden", "renamed_from"} (docs/cli.md,
 * "Schema documents"). Names are a lowercase letter then lowercase letters,
 * digits, '_' or '-'.
 */

/* The default collective-impact schema document (a static string). */
CAIRN_EXTERN const char *cairn_schema_default(void);

/* What cairn_schema_apply wrote. */
typedef struct cairn_schema_changes {
  unsigned types_added, types_changed, fields_added, fields_changed, renamed, hidden;
} cairn_schema_changes_t;

/*
 * Apply a schema document to the network as one signed entry of `_schema`
 * puts (an owner or admin): types and fields it names are added or changed;
 * those it does not name, and attributes it does not give, stay as they are. A
 * field's kind and ref never change and enum values are never removed (a
 * record may hold them); "renamed_from": "old" renames a field (the old name
 * stays an alias, the old field is hidden); "hidden": true removes a field or a
 * type from view without erasing anything. Nothing is written when nothing
 * changes. With s NULL, only checks the document as if it were applied to a
 * network without a schema, and writes nothing (out says what would be).
 * @param[out] out  may be NULL; what was written.
 * @return 0, CAIRN_ESCHEMA (a bad document or change: err says where and why),
 *         or an error of cairn_change_commit (CAIRN_EFORBIDDEN: not an owner or
 *         admin).
 */
CAIRN_EXTERN int cairn_schema_apply(cairn_store_t *s, const char *json, cairn_schema_changes_t *out,
                                    cairn_error_t *err) CAIRN_WUR;

/* The schema as a document (every type, or only `type` when not NULL), hidden
 * types and fields marked "hidden", renamed fields with their "aliases".
 * Applying it back changes nothing. NULL when out of memory; json_decref it. */
CAIRN_EXTERN json_t *cairn_schema_to_json(const cairn_schema_t *sc, const char *type);

/* ======================================================================
 * Reading
 * ======================================================================
 *
 * Each read runs in one LMDB read transaction: it sees the store as of its
 * start, whatever commits meanwhile. A callback returns 0 to go on and nonzero
 * to stop the walk (the walk then returns 0). The record, entry and value views
 * it receives are valid until it returns.
 *
 * cairn_get(), cairn_history() and cairn_conflicts() are declared in query.h.
 * A record (cairn_record_t, query.h) has its type, id and fields; walk the
 * fields, in name order, with
 *
 *   cairn_record_iter_t it; cairn_record_field_t f;
 *   cairn_record_iter_init(r, &it);
 *   while (cairn_record_field_next(&it, &f)) ... f.name, f.name_len, f.value, f.value_len
 *
 * where f.value is one MessagePack object (cairn_value_json() makes it JSON), or
 * look one field up with cairn_record_field(r, "title", &f).
 */

/* ---- typed queries (list.c) ----
 *
 * A query on the records of one type, built from the text a person types:
 * conditions (`cairn list --where`), an order (`--sort`), the fields to show
 * (`--fields`), a limit and whether deleted records come too. Names and values
 * are checked against the network's schema as they are added, so a mistake is
 * an error with "did you mean", never an empty result. Running it reads in one
 * read transaction and calls back with each record; it may be run again.
 *
 * Conditions (EXPR), all of which a record must meet:
 *   FIELD=V  FIELD!=V  FIELD<V  FIELD<=V  FIELD>V  FIELD>=V
 *   FIELD~TEXT    the value's text holds TEXT, in any case (ASCII and Latin-1
 *                 letters fold; a list: any of its ids; other values: their JSON)
 *   FIELD=in:A,B  equal to any of A, B
 *   FIELD=  / FIELD!=   (no value) the record has no value for FIELD / has one
 * V is typed by the field's kind (cairn_schema_parse_text): "40" is a number in
 * a number field, "2026-Q2" a period; a value not of the kind is an error
 * saying what was expected. Values compare in the kind's order (index.h): dates
 * and datetimes in time, periods by their first day then the longer first,
 * numbers as numbers, text, enums and refs bytewise, bools false before true;
 * on a refs field, = and in: ask whether the list holds the id, and <, >
 * are refused. A record without the field (or whose value is not of the
 * field's kind) matches only !=. FIELD may be a former name of a renamed field;
 * `_id` is the record's id (text).
 *
 * On a free-form network (no schema) and for cairn's own types (`_member`),
 * FIELD=V is as cairn_value_matches (a string equal to V, or a value equal to V
 * read as JSON: "42" finds 42 and "42"); the order compares numbers as numbers
 * when both the value and V are numbers, strings with V bytewise otherwise, and
 * other values do not compare.
 *
 * Order: by the --sort fields in turn, each in its kind's order with values
 * not of the kind after the others (free-form: numbers, then strings, then
 * other values); '-' reverses one field's order, but records without the field
 * come last either way; then by id. Without --sort, by id.
 *
 * Indexes (index.h): with an `=` on an index's leading field (its schema field
 * under that exact name, with no former names), the query reads that index's
 * rows, narrowed by the conditions on its second field, instead of every
 * record of the type; the result is the same.
 */
typedef struct cairn_query cairn_query_t;

/*
 * A query on the records of type.
 * @param[in]  sc   the network's schema (cairn_schema_load), borrowed: it must
 *                  outlive the query; NULL to have it read here (kept by q).
 * @param[out] out  free with cairn_query_free.
 * @param[out] err  may be NULL; why it failed.
 * @return 0, CAIRN_ESCHEMA (the schema has no such type: err says so, with "did
 *         you mean"), CAIRN_EINVAL (type empty or too long), CAIRN_ENOMEM, or a
 *         store error reading the schema.
 */
CAIRN_EXTERN int cairn_query_new(cairn_store_t *s, const cairn_schema_t *sc, const char *type,
                                 cairn_query_t **out, cairn_error_t *err) CAIRN_WUR;

/*
 * Add a condition (EXPR above, e.g. "due<2026-06-01", "status=in:planned,at-risk").
 * @return 0, CAIRN_EINVAL (not an expression: no operator, no field name, or a
 *         value missing after <, >, ~), CAIRN_ESCHEMA (a field the schema does
 *         not know, with "did you mean"; a value not of the field's kind, saying
 *         what was expected; <, > on a refs field), CAIRN_ENOMEM. On error the
 *         query is as it was.
 */
CAIRN_EXTERN int cairn_query_where(cairn_query_t *q, const char *expr,
                                   cairn_error_t *err) CAIRN_WUR;

/* Add sort fields: "FIELD,-FIELD,..." ('-' for descending; `_id` allowed).
 * @return 0, CAIRN_EINVAL (an empty name), CAIRN_ESCHEMA (a field the schema
 *         does not know), CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_query_sort(cairn_query_t *q, const char *spec,
                                  cairn_error_t *err) CAIRN_WUR;

/* Choose the fields to show, in order: "FIELD,...". Only recorded here (the
 * caller prints; see cairn_query_value). @return as cairn_query_sort. */
CAIRN_EXTERN int cairn_query_fields(cairn_query_t *q, const char *list,
                                    cairn_error_t *err) CAIRN_WUR;

/*
 * Add a search: the record must have some field, among those people see
 * (cairn_schema_fields: hidden fields left out), whose text holds text in any
 * case, as `FIELD~TEXT` matches one field (`cairn list --search TEXT`). The id
 * is not searched (`_id~TEXT` does that). May be called again: every search
 * must match.
 * @return 0, CAIRN_EINVAL (text NULL or empty), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_query_search(cairn_query_t *q, const char *text,
                                    cairn_error_t *err) CAIRN_WUR;

/* At most n records (0: no limit), the first ones in the query's order. */
CAIRN_EXTERN void cairn_query_limit(cairn_query_t *q, size_t n);
/* Include deleted records (cairn_record_t.deleted says which); default 0. */
CAIRN_EXTERN void cairn_query_deleted(cairn_query_t *q, int with_deleted);
/* Allow the indexes (default 1). 0 reads every record: for tests and
 * benchmarks, which compare the two. */
CAIRN_EXTERN void cairn_query_use_index(cairn_query_t *q, int use);

/*
 * Run the query: cb gets each matching record in order (a view valid until it
 * returns; nonzero stops). The store is read in one read transaction; records
 * to sort are copied out of it first, so cb then runs after it has ended.
 * @return 0, CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_query_run(cairn_query_t *q, cairn_record_cb cb, void *ud) CAIRN_WUR;

/* After a run: 1 when it read an index rather than every record. */
CAIRN_EXTERN int cairn_query_used_index(const cairn_query_t *q);

/* The fields chosen with cairn_query_fields: how many, and the name of the
 * i-th as shown (a renamed field's current name), owned by q. */
CAIRN_EXTERN size_t cairn_query_nfields(const cairn_query_t *q);
CAIRN_EXTERN const char *cairn_query_field_name(const cairn_query_t *q, size_t i);

#define CAIRN_QUERY_IDBUF (CAIRN_ID_MAX + 2)
/* The value of the i-th chosen field in r (through the schema: a value under a
 * former name counts): 1 with *out set (out->value may point into idbuf, which
 * must live as long as it is used), 0 when r has no value for it. */
CAIRN_EXTERN int cairn_query_value(const cairn_query_t *q, const cairn_record_t *r, size_t i,
                                   uint8_t idbuf[CAIRN_QUERY_IDBUF], cairn_record_field_t *out);

/* Free a query (NULL is fine). */
CAIRN_EXTERN void cairn_query_free(cairn_query_t *q);

/*
 * A record as `cairn list --json` prints it and the web app receives it: a flat
 * object, "_type" and "_id" first, then the fields q chose (cairn_query_fields)
 * when q (may be NULL) chose some, else every field as people see it through
 * sc (cairn_schema_fields: current names, hidden ones left out; sc may be NULL
 * for every field), values converted as cairn_value_to_json does; and
 * "_deleted": true for a deleted record.
 * @return a new object (json_decref it), or NULL when out of memory or a value
 *         does not decode.
 */
CAIRN_EXTERN json_t *cairn_record_object(const cairn_schema_t *sc, const cairn_query_t *q,
                                         const cairn_record_t *r);

/* A type of this store and how many visible records it has. */
typedef struct cairn_type_count {
  char *type;
  char *label;     /* the schema's label; "" for none */
  uint64_t count;  /* visible (not deleted) records */
  int in_schema;   /* the schema names it */
} cairn_type_count_t;

/*
 * The types of this store: every type of the schema sc (may be NULL), in its
 * order, with its label, even without records (a hidden one only when it has
 * some); then every other type that has visible records, by name. cairn's own
 * types (`_member`...) are left out. Counts are read in one read transaction.
 * @param[out] out  malloc'd array of *n; free with cairn_types_free.
 * @return 0, CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_types(cairn_store_t *s, const cairn_schema_t *sc,
                             cairn_type_count_t **out, size_t *n) CAIRN_WUR;
CAIRN_EXTERN void cairn_types_free(cairn_type_count_t *v, size_t n);

/* ---- untyped filters ---- */

/* A field filter for cairn_list: the record's field `field` matches `value`. */
typedef struct cairn_where {
  const char *field; /* a field name */
  const char *value; /* text, compared as `cairn list --where FIELD=VALUE` does */
} cairn_where_t;

/*
 * The visible (not deleted) records of a type, in id order (bytewise), that
 * match every filter, without a schema (see cairn_query for typed
 * conditions, order and limits): cb is called for each. A filter matches a string field
 * whose bytes equal value, and any other field whose value equals value read as
 * JSON, numbers by value (so value "42" matches 42, 42.0 and "42"); a record
 * without the field does not match. nwhere may be 0 (where then may be NULL).
 * @return 0, CAIRN_EINVAL (a filter with a NULL field or value), CAIRN_EIO,
 *         CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_list(cairn_store_t *s, const char *type, const cairn_where_t *where,
                            size_t nwhere, cairn_record_cb cb, void *ud);

/*
 * A record as compact JSON text: a flat object with "_type" and "_id" first,
 * then its fields (values converted as cairn_value_json does).
 * @param[out] out  on success, malloc'd NUL-terminated text; free with
 *                  cairn_free(). NULL on error.
 * @return 0, CAIRN_EMALFORMED (a value that does not decode), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_record_json(const cairn_record_t *r, char **out) CAIRN_WUR;

/*
 * The conflicts of one visible record, as `cairn get` marks them: cb is called
 * once per conflicted field, in field order (bytewise), with every head of the
 * field, the visible one first and the others greatest stamp first (as
 * cairn_conflicts gives them, query.h; a head's value may be nil: that author
 * unset the field). A delete concurrent with an edit is the pseudo-field
 * CAIRN_DELETED_FIELD ("_deleted", in its place in that order): its first head
 * is `false` (the latest edit no delete saw), the others `true`, one per delete
 * no edit saw (who deleted the record, and when). cb is not called when the
 * record has no conflict. The views are valid until cb returns; its return value
 * stops the walk as usual. Name the heads' authors from their `_member` records
 * (cairn_member_get).
 * @return 0, CAIRN_ENOENT (no such record), CAIRN_EDELETED (it is deleted),
 *         CAIRN_EINVAL (a NULL argument, names too long), CAIRN_EIO,
 *         CAIRN_ECORRUPT, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_record_conflicts(cairn_store_t *s, const char *type, const char *id,
                                        cairn_conflict_cb cb, void *ud);

/*
 * One MessagePack value (len bytes, untrusted) as compact JSON text: nil, bool,
 * numbers, strings, arrays and maps as themselves; binary data as
 * "base64:...", integers above INT64_MAX as decimal strings, NaN and infinities
 * as strings; invalid UTF-8 is repaired with U+FFFD.
 * @param[out] out  malloc'd text; free with cairn_free(). NULL on error.
 * @return 0, CAIRN_EMALFORMED, CAIRN_EINVAL (NULL argument), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_value_json(const uint8_t *mp, size_t len, char **out) CAIRN_WUR;

/*
 * JSON text (one JSON value) as one MessagePack value, ready for
 * cairn_change_put(): null/true/false as themselves, integers in their smallest
 * encoding, other numbers as float 64, strings as str, arrays and objects as
 * arrays and maps (duplicate object keys are refused).
 * @param[out] out      malloc'd, *out_len bytes; free with cairn_free().
 * @param[out] err      may be NULL; on error, why (with the position in json).
 * @return 0, CAIRN_EINVAL (not one JSON value, nesting deeper than 16),
 *         CAIRN_ETOOBIG, CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_value_from_json_text(const char *json, uint8_t **out, size_t *out_len,
                                            cairn_error_t *err) CAIRN_WUR;

/* ======================================================================
 * Import and export (import.c, export.c; docs/cli.md, "Import and export")
 * ======================================================================
 *
 * Records of one type come in from CSV or JSON and go out to CSV, JSON or an
 * XLSX workbook. An export of a type imports back unchanged into a store with
 * the same schema. A cell's text form by kind (CSV, and text cells of XLSX):
 * text, date, datetime, period, enum and ref as themselves; number and integer
 * in decimal (the shortest form that reads back to the same number); bool as
 * true/false; refs as ids separated by ", "; json as JSON text. An empty cell
 * is no value.
 */

typedef enum cairn_format {
  CAIRN_FORMAT_CSV = 1, /* RFC 4180, UTF-8, a header row naming the fields */
  CAIRN_FORMAT_JSON,    /* an array of records as `cairn list --json` prints them */
  CAIRN_FORMAT_XLSX     /* export only: a workbook, one sheet per type */
} cairn_format_t;

/* The format a file name's extension names: .csv, .json or .xlsx, in any case.
 * @return 0 with *out set, or CAIRN_EINVAL (err says which are known). */
CAIRN_EXTERN int cairn_format_of(const char *path, cairn_format_t *out,
                                 cairn_error_t *err) CAIRN_WUR;

#define CAIRN_IMPORT_ERRORS_MAX 50 /* errors reported by default; the rest counted */

typedef struct cairn_import_opts {
  const char *id_column; /* the column (CSV) or key (JSON) holding the ids; NULL:
                            "_id" when the file has it, else "id" when the type
                            has no field of that name. A row without an id gets
                            a new one, made as `cairn add` makes them */
  int dry_run;           /* nonzero: check everything, sign nothing, write nothing */
  size_t max_errors;     /* errors given to the callback; 0: CAIRN_IMPORT_ERRORS_MAX */
} cairn_import_opts_t;

/* One error of an import, with its place. The strings are valid during the
 * callback only. */
typedef struct cairn_import_error {
  size_t line;        /* CSV: the line of the file (1: the first; a row is at the
                         line it starts on); JSON: the element's index in the
                         array (from 0), or for a file that is not JSON at all,
                         the line of the fault */
  const char *column; /* the column (CSV) or key (JSON) at fault; NULL for a
                         whole row or the file */
  const char *why;    /* what is wrong, in the schema's words: `commitment c14:
                         status "plannned" is not one of ...; did you mean
                         planned?` */
  const char *text;   /* the place and why, one line for people: `line 14,
                         column status: ...` or `element [3], key status: ...` */
} cairn_import_error_t;

typedef void (*cairn_import_error_cb)(const cairn_import_error_t *e, void *ud);

/* What an import did (or, on a dry run, would do). */
typedef struct cairn_import_result {
  size_t rows;      /* rows read (blank rows left out) */
  size_t created;   /* of those, records the store does not hold (or holds deleted) */
  size_t updated;   /* records held, with at least one value the file changes */
  size_t unchanged; /* records held whose values are as the file says: not written */
  size_t entries;   /* entries signed, one or more (the entry size limit decides) */
  uint64_t first_seq, last_seq; /* their seqs in this device's log */
  size_t errors;    /* every error found, those past max_errors too */
} cairn_import_result_t;

/*
 * Import the rows of a CSV or JSON text as records of type, all or none.
 *
 * CSV: the first row names the fields (by name, or by label in any case); a
 * byte order mark, CRLF line ends, quoted cells holding commas, quotes and line
 * breaks are read as RFC 4180 says; spaces around an unquoted cell are
 * dropped; a row shorter than the header has empty cells; a row of empty cells
 * is skipped. Each cell is typed by its field's kind as cairn_schema_parse_text
 * types text; an empty cell is no value and writes nothing (a held record keeps
 * the value it has). JSON: an array of objects (or an object whose member
 * `type` is that array, as an export of every type writes), each a record:
 * "_id", "_type" (must be type when present), and fields; a string in a field
 * of kind number, integer, bool or refs is typed as text is, any other value
 * is taken as it is; null is no value.
 *
 * Everything is checked before anything is written: unknown columns (with "did
 * you mean"), values of the wrong kind, duplicate ids, references (to a record
 * of the store or to a row of the file, in any order), required fields (from
 * the row, or the record held). Each error goes to on_error with its line and
 * column, up to opts->max_errors; then nothing is written. Otherwise every row
 * that creates a record or changes one becomes a put of its given fields, all
 * in one change committed as cairn_change_commit_split does: as few entries as
 * the size limit allows, in one transaction. A row naming a held record with
 * the same values writes nothing.
 *
 * @param[in]  type      a type of the network's schema (any on a free-form
 *                       network, where every value is text); never one of
 *                       cairn's own (`_member`...).
 * @param[in]  data      the file's bytes (len of them); borrowed.
 * @param[in]  opts      may be NULL for the defaults.
 * @param[in]  on_error  may be NULL; called for each error, in file order.
 * @param[out] out       may be NULL; what was done, filled whatever the result.
 * @param[out] err       may be NULL; on error, the code and one line.
 * @return 0, or nothing is written and
 *   - CAIRN_ESCHEMA      rows break the schema (on_error has them; err counts them),
 *                        or type is unknown (err says so, with "did you mean");
 *   - CAIRN_EMALFORMED   not CSV or not JSON (on_error has the line);
 *   - CAIRN_EINVAL       a bad type or format;
 *   - an error of cairn_change_commit_split (CAIRN_EFORBIDDEN for a viewer,
 *     CAIRN_EPURGED; when one row is to blame, on_error has its line),
 *     CAIRN_ENOMEM, CAIRN_EIO.
 */
CAIRN_EXTERN int cairn_import(cairn_store_t *s, const char *type, cairn_format_t format,
                              const char *data, size_t len, const cairn_import_opts_t *opts,
                              cairn_import_error_cb on_error, void *ud,
                              cairn_import_result_t *out, cairn_error_t *err) CAIRN_WUR;

/* The same from a file, its format told by its extension (.csv or .json; an
 * .xlsx is refused: save it as CSV). Also CAIRN_ENOENT (no such file),
 * CAIRN_ETOOBIG (over 256 MiB). */
CAIRN_EXTERN int cairn_import_file(cairn_store_t *s, const char *type, const char *path,
                                   const cairn_import_opts_t *opts,
                                   cairn_import_error_cb on_error, void *ud,
                                   cairn_import_result_t *out, cairn_error_t *err) CAIRN_WUR;

/* What an export wrote. */
typedef struct cairn_export_result {
  size_t types;   /* types written (sheets of a workbook, members of an object) */
  size_t records; /* records written, over every type */
} cairn_export_result_t;

/*
 * Export the visible records of type (or, type NULL, of every type of the
 * schema) to a file whose extension says the format. Records go in id order,
 * their fields as people see them (cairn_schema_fields): the schema's in order
 * under their current names, hidden ones left out, then any field the schema
 * does not know.
 *   CSV:  a header `_id` then the schema's fields in order, then any other
 *         field the records hold (in name order); values in their text form;
 *         quoted as RFC 4180 says when they hold a comma, a quote, a line
 *         break or spaces at either end. Only one type: type NULL is
 *         CAIRN_EINVAL (err says to use .json or .xlsx).
 *   JSON: an array of records as `cairn list --json` prints them ("_type",
 *         "_id", fields), one per line; for every type, an object type -> array.
 *   XLSX: one sheet per type, named after it, with a bold header row as in CSV;
 *         numbers as numbers, bools as bools, dates as dates (shown
 *         YYYY-MM-DD, so that a copy saved as CSV imports again), everything
 *         else in its text form.
 * The file is written whole under a temporary name beside it and renamed over
 * path at the end: a failed export leaves no part of a file.
 * @param[out] out  may be NULL; what was written.
 * @return 0, CAIRN_EINVAL (format, or CSV of every type), CAIRN_ESCHEMA (type is
 *         not in the schema: err says so), CAIRN_ETOOBIG (a value longer than a
 *         spreadsheet cell holds, or more rows than a sheet), CAIRN_EIO (err
 *         names the file), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_export_file(cairn_store_t *s, const char *type, const char *path,
                                   cairn_export_result_t *out, cairn_error_t *err) CAIRN_WUR;

/*
 * The same to a stream (CSV or JSON; an HTTP response, a pipe): written as it
 * is read, nothing renamed, the stream neither flushed nor closed.
 * @return as cairn_export_file (CAIRN_EINVAL for XLSX).
 */
CAIRN_EXTERN int cairn_export_stream(cairn_store_t *s, const char *type, cairn_format_t format,
                                     FILE *f, cairn_export_result_t *out,
                                     cairn_error_t *err) CAIRN_WUR;

/*
 * One value as text in the form a CSV cell holds for a field of kind f (NULL:
 * strings as they are, anything else as JSON text), the form cairn_import
 * reads back.
 * @param[out] out  malloc'd, NUL-terminated; free with cairn_free().
 * @return 0, CAIRN_EMALFORMED (mp is not one value), CAIRN_ENOMEM.
 */
CAIRN_EXTERN int cairn_value_text(const cairn_schema_field_t *f, const uint8_t *mp, size_t len,
                                  char **out) CAIRN_WUR;

/* ======================================================================
 * Sync with a relay
 * ======================================================================
 *
 * The store keeps its relay (address and key) and the position of the last
 * entry applied from it, so every sync asks only for what arrived since. A
 * relay that cannot prove the kept key is refused (CAIRN_EAUTH). Sync pushes
 * this device's entries the relay lacks and pulls everyone else's; the entries
 * received are verified and merged exactly as local ones, in one write
 * transaction per batch.
 */

#define CAIRN_ADDR_MAX 256 /* longest relay address, HOST:PORT, with its NUL */

/*
 * Keep the relay's address and its key in the store, and forget the sync
 * position kept for the previous relay. The address is HOST:PORT: HOST a name
 * (resolved when a sync starts), an IPv4 address, or an IPv6 address in brackets
 * ([2001:db8::1]:7070). Only the form is checked here; see
 * cairn_sync_check_remote for the name.
 * @return 0, CAIRN_EINVAL (not HOST:PORT), CAIRN_EIO.
 */
CAIRN_EXTERN int cairn_sync_set_remote(cairn_store_t *s, const char *addr,
                                       const uint8_t relay_key[CAIRN_KEY_BYTES],
                                       cairn_error_t *err) CAIRN_WUR;

/*
 * Whether addr (HOST:PORT, as above) resolves now: 0, CAIRN_EINVAL (the form),
 * CAIRN_ENOENT (the name does not resolve; err says so). Blocks while the name
 * is looked up. Any thread.
 */
CAIRN_EXTERN int cairn_sync_check_remote(const char *addr, cairn_error_t *err) CAIRN_WUR;

/*
 * The relay kept in the store: addr (NUL-terminated; addr_cap should be
 * CAIRN_ADDR_MAX) and its key. CAIRN_ENOENT if none was set, CAIRN_ETOOBIG if
 * addr_cap is too small, CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_sync_remote(cairn_store_t *s, char *addr, size_t addr_cap,
                                   uint8_t relay_key[CAIRN_KEY_BYTES]) CAIRN_WUR;

/* What a sync did. Counters add up over the connections of a live sync. */
typedef struct cairn_sync_stats {
  uint64_t pushed;    /* own entries sent */
  uint64_t acked_seq; /* own entries stored at the relay up to this seq */
  uint64_t pulled;    /* entries received */
  uint64_t applied;   /* of those, new here */
  uint64_t bytes_sent, bytes_received;
  uint64_t bytes_plain_sent, bytes_plain_received; /* the same messages in the forms
                              every relay reads: whole entries, uncompressed (what
                              compact entries and compression saved: the difference) */
  uint64_t resigned;       /* this device's changes signed again on top of the
                              relay's copy of its log: a store restored from a
                              backup or copied and written, or a clock the relay
                              refused (a caller may tell the user) */
  uint64_t refused_forwards; /* others' entries (from bundles) this device sent and the
                              relay refused: the sync was run again without them,
                              and they stay here (a caller may tell the user) */
  int rekeyed;             /* a new key took over (cairn_rekey) */
  int rekey_lost;          /* the waiting new key was given up: a copy of this store
                              signs with it already (run cairn_rekey again) */
  uint64_t forks_dropped;  /* others' entries dropped for the relay's: a copy of an
                              author's log that reached here (by bundle) before the
                              author signed it again; kept in DIR/forked.entries */
  int clock_known;         /* the relay said its time (every hello does) */
  int64_t clock_offset_ms; /* the relay's clock minus this device's: > 0 when this
                              device is behind. Kept in the store
                              (cairn_store_clock_offset) and used to stamp
                              changes; a caller may tell the user to fix the
                              clock when it is more than a minute either way */
} cairn_sync_stats_t;

/*
 * A sentence for people when this device's clock is more than a minute off the
 * relay's (offset_ms as cairn_sync_stats_t.clock_offset_ms and
 * cairn_store_clock_offset give it): "this device's clock is 3 days ahead of
 * the relay's; set the date and time (changes are stamped with the relay's time
 * meanwhile)", rounded to minutes, hours or days. Written into out (cap bytes;
 * 200 hold it); out is "" when the clock is within a minute.
 * @return 1 when a warning was written, else 0. Any thread.
 */
CAIRN_EXTERN int cairn_clock_warning(int64_t offset_ms, char *out, size_t cap);

/*
 * Sync once, blocking: connect, push this device's entries the relay lacks, pull
 * what arrived since the last sync, and return once both directions are caught
 * up. Runs its own event loop; the caller's thread blocks meanwhile.
 *
 * @param[in]  invite      may be NULL; an invite code sent in the handshake (a
 *                         device joining a network).
 * @param[in]  timeout_ms  give up after this long; 0 for no limit.
 * @param[out] stats       may be NULL; filled whatever the result (what was done
 *                         before a failure).
 * @param[out] err         may be NULL; on error, the code and a message.
 * @return 0 once caught up both ways (the time is kept: cairn_sync_status), or
 *   - CAIRN_ENOENT      no relay set (cairn_sync_set_remote), or its name does
 *                       not resolve;
 *   - CAIRN_ENONETWORK  the store has no network yet;
 *   - CAIRN_EIO         cannot connect, or the connection broke;
 *   - CAIRN_ECANCELED   timed out;
 *   - CAIRN_EAUTH       the relay did not prove the kept key;
 *   - the relay's refusal (CAIRN_ENOTMEMBER, CAIRN_ENETWORK, CAIRN_EFORBIDDEN...)
 *     with its text in err;
 *   - an entry received that fails verification (CAIRN_EBADSIG, CAIRN_EGAP...):
 *     the entries before it are kept.
 */
CAIRN_EXTERN int cairn_sync_once(cairn_store_t *s, const char *invite, unsigned timeout_ms,
                                 cairn_sync_stats_t *stats, cairn_error_t *err) CAIRN_WUR;

/*
 * Join a network with an invite code (`cairn invite` printed it), on a store made
 * by cairn_open/`cairn init` that has no network yet: keep the relay the code
 * names, pull the whole network (the relay admits this device on the invite's
 * proof), sign as the invite key the entry that grants this device the invite's
 * role, name and organization (when it names one), push it, and return once the
 * relay has stored it. Blocking.
 *
 * @param[in]  code        the invite code (text, "cairn1:...").
 * @param[in]  timeout_ms  for each of the two syncs; 0 for no limit.
 * @param[out] network     may be NULL; the network id joined.
 * @param[out] err         may be NULL; on error, the code and a message.
 * On a store that already holds that network it is idempotent: a member the relay
 * knows syncs once and is done; a join cut short (its grant never stored by the
 * relay) is finished.
 *
 * @return 0, or CAIRN_EMALFORMED (a damaged code), CAIRN_EHASNETWORK (the store
 *   belongs to another network), the relay's refusal (CAIRN_ENOTMEMBER: the
 *   invite is unknown, expired or used up), CAIRN_EFORBIDDEN (the invite may not
 *   grant this device), or any error of cairn_sync_once.
 */
CAIRN_EXTERN int cairn_join(cairn_store_t *s, const char *code, unsigned timeout_ms,
                            uint8_t network[CAIRN_KEY_BYTES], cairn_error_t *err) CAIRN_WUR;

#define CAIRN_INVITE_TEXT_MAX 512 /* longest invite code, with its NUL */

/*
 * Check an invite's terms as cairn_invite does, before anything is read or
 * written: role editor, viewer or admin; a name of 1-200 bytes of UTF-8; an
 * organization (may be NULL) of 1-CAIRN_ID_MAX bytes without control
 * characters; 1-365 days; 1-CAIRN_INVITE_USES_MAX uses.
 * @return 0, or CAIRN_EINVAL with err saying which term is wrong. Any thread.
 */
CAIRN_EXTERN int cairn_invite_terms_check(cairn_role_t role, const char *name,
                                          const char *organization, unsigned long expires_days,
                                          unsigned long uses, cairn_error_t *err) CAIRN_WUR;

/* The invite key that a code (cairn_invite) names: the key its `_member`
 * record, and `cairn members`, list it under. 0 or CAIRN_EMALFORMED. Any thread. */
CAIRN_EXTERN int cairn_invite_key(const char *code, uint8_t key[CAIRN_KEY_BYTES],
                                  cairn_error_t *err) CAIRN_WUR;

/*
 * Make an invite (an owner or admin; an admin invite needs an owner or admin):
 * a fresh invite key whose `_member` record holds the terms, committed as one
 * signed entry of this device, and its code, which carries the relay's address
 * and key (cairn_sync_set_remote), the network id and the invite key's seed. The
 * relay admits the joiner once this entry has reached it (sync first).
 *
 * @param[in]  role          the role it grants: CAIRN_ROLE_EDITOR, _VIEWER or _ADMIN.
 * @param[in]  name          the new member's name, 1-200 bytes.
 * @param[in]  organization  may be NULL; the new member's organization, the id of
 *                           a partner record (cairn_change_member_org), kept with
 *                           the terms and written into the grant by cairn_join.
 * @param[in]  expires_days  1-365: it grants nothing after that.
 * @param[in]  uses          1-CAIRN_INVITE_USES_MAX: how many devices it may admit.
 * @param[out] code          cap >= CAIRN_INVITE_TEXT_MAX bytes; the code, NUL-terminated.
 * @param[out] err           may be NULL; on error, the code and a message.
 * @return 0, CAIRN_EINVAL (terms cairn_invite_terms_check refuses, with its message),
 *         CAIRN_ENONETWORK, CAIRN_ENOENT (no relay set), or any error of
 *         cairn_change_commit (CAIRN_EFORBIDDEN: this device may not invite).
 */
CAIRN_EXTERN int cairn_invite(cairn_store_t *s, cairn_role_t role, const char *name,
                              const char *organization, unsigned expires_days, unsigned uses,
                              char *code, size_t cap, cairn_error_t *err) CAIRN_WUR;

/* ---- a new device key for a copied store (rekey.c) ---- */

typedef enum {
  CAIRN_REKEY_NONE = 0,
  CAIRN_REKEY_AWAITING, /* the new key waits for its grant (`cairn grant NEWKEY` by
                           an admin) to reach this store */
  CAIRN_REKEY_GRANTED   /* granted here: it takes over at the end of a sync once the
                           relay has acknowledged every change of the old key */
} cairn_rekey_stage_t;

typedef struct cairn_rekey_info {
  cairn_rekey_stage_t stage;
  uint8_t old_key[CAIRN_KEY_BYTES]; /* the key in use until then */
  uint8_t new_key[CAIRN_KEY_BYTES];
  cairn_role_t role;                /* the old key's role */
  uint64_t unacknowledged;          /* changes of the old key the relay has not
                                       acknowledged (as cairn_sync_status) */
} cairn_rekey_info_t;

/*
 * Give this device a key of its own: for a store copied to a second machine,
 * where both copies would otherwise sign with one key. A new key pair waits in
 * DIR/key.next while this device goes on working with the old key (nothing
 * stops; the sync keeps merging the two copies' changes meanwhile). An owner or
 * admin grants the new key its own name and role at once (a change of the old
 * key, delivered by the next sync); anyone else needs an admin to run `cairn grant
 * NEWKEY` with the same name and role. The new key takes over at the end of a
 * sync (cairn_sync_once) once this store holds its grant and the relay has
 * acknowledged every change of the old key; changes signed from then on are the
 * new key's.
 *
 * @param[out] out  what is pending now (new_key is the key to grant).
 * @return 0, CAIRN_EBUSY (a new key is already waiting), CAIRN_ENOTMEMBER (this
 *         device has no role), CAIRN_EREADONLY, or an error of the store.
 */
CAIRN_EXTERN int cairn_rekey(cairn_store_t *s, cairn_rekey_info_t *out,
                             cairn_error_t *err) CAIRN_WUR;

/* What is pending of a move to a new key: 1 (out filled), 0 (none), or a
 * negative code of the store. */
CAIRN_EXTERN int cairn_rekey_status(cairn_store_t *s, cairn_rekey_info_t *out) CAIRN_WUR;

/* Where this device stands with its relay, from what the store keeps. */
typedef struct cairn_sync_status {
  int has_remote;                      /* 0: no relay set (remote, relay_key empty) */
  char remote[CAIRN_ADDR_MAX];         /* HOST:PORT */
  uint8_t relay_key[CAIRN_KEY_BYTES];
  uint64_t last_sync_ms;               /* wall clock (ms since 1970) of the last time
                                          both directions were caught up; 0: never */
  uint64_t head_seq;                   /* this device's own entries */
  uint64_t acked_seq;                  /* of those, acknowledged by the relay */
  uint64_t unacknowledged;             /* head_seq - acked_seq */
} cairn_sync_status_t;

/* Fill *out. 0, CAIRN_EIO, CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_sync_status(cairn_store_t *s, cairn_sync_status_t *out) CAIRN_WUR;

/* ---- live sync on the caller's loop ---- */

typedef struct cairn_sync_live cairn_sync_live_t;

/* After each batch of entries from the relay that added `applied` (> 0) new
 * entries to the store, in the loop's thread. The store may be read and
 * written from the callback, and cairn_sync_live_stop() called. */
typedef void (*cairn_sync_change_cb)(void *ud, uint64_t applied);

/* States reported to a cairn_sync_live_on_status() callback. */
typedef enum cairn_sync_state {
  CAIRN_SYNC_CONNECTED = 1, /* the relay accepted the connection (err: NULL) */
  CAIRN_SYNC_RETRYING = 2,  /* the connection failed or was lost (err says why);
                               the next attempt is in retry_ms */
  CAIRN_SYNC_FAILED = 3     /* a refusal that retrying cannot cure (err says which:
                               revoked, not a member, wrong relay key, a bad entry);
                               nothing more happens until cairn_sync_live_stop() */
} cairn_sync_state_t;

typedef void (*cairn_sync_state_cb)(void *ud, cairn_sync_state_t state,
                                    const cairn_error_t *err, unsigned retry_ms);

/* Called once stop has closed everything, just before the handle is freed. */
typedef void (*cairn_sync_stop_cb)(void *ud);

/*
 * Start live sync of s on loop: stay connected to the relay, push this device's
 * new entries, apply the relay's entries as it forwards them (it does so right
 * after each group commit) and call on_change after each batch that added any.
 *
 * The first connection is made when the loop next runs, so
 * cairn_sync_live_on_status() and cairn_sync_live_set_timing() called right after
 * this function apply from the start. Then:
 *   - own entries: every poll_ms the store's own head is checked and new entries
 *     are pushed (0: no polling; call cairn_sync_live_push() after each commit);
 *     this also picks up entries committed by other processes on the store;
 *   - keepalive: a ping when nothing was sent for ping_ms (default 60 s, under
 *     the relay's 300 s idle timeout); a relay silent for twice that is taken as
 *     lost;
 *   - a lost or failed connection is retried after a backoff that starts at
 *     250 ms and doubles (with jitter) up to backoff_max_ms (default 30 s), and
 *     starts over once a connection is accepted. Errors that retrying cannot
 *     cure end the attempts (CAIRN_SYNC_FAILED).
 *
 * @param[in]  s          the store; it must stay open until the stop callback
 *                        has run (or the loop has ended after stop).
 * @param[in]  loop       the caller's loop; every callback runs on its thread.
 * @param[in]  poll_ms    see above.
 * @param[in]  on_change  may be NULL.
 * @param[in]  ud         passed to every callback.
 * @param[out] out        the handle, owned by the library: the caller must call
 *                        cairn_sync_live_stop() exactly once, after which the
 *                        library frees it (on_stop runs, then the handle is
 *                        freed, on the loop, once its handles are closed).
 * @param[out] err        may be NULL; on error, the code and a message.
 * @return 0, or (no callback is ever called then, and *out is NULL)
 *   - CAIRN_ENOENT      no relay set, or its name does not resolve (a name is
 *                       looked up once, here: reconnections reuse the address);
 *   - CAIRN_ENONETWORK  the store has no network yet;
 *   - CAIRN_EINVAL      the kept relay address is not HOST:PORT;
 *   - CAIRN_ENOMEM, CAIRN_EIO.
 */
CAIRN_EXTERN int cairn_sync_live(cairn_store_t *s, uv_loop_t *loop, unsigned poll_ms,
                                 cairn_sync_change_cb on_change, void *ud,
                                 cairn_sync_live_t **out, cairn_error_t *err) CAIRN_WUR;

/* Report connection states to cb (NULL: stop reporting). */
CAIRN_EXTERN void cairn_sync_live_on_status(cairn_sync_live_t *h, cairn_sync_state_cb cb);

/* Change the keepalive interval and the backoff cap, in ms (0 keeps the current
 * value). Applies from the next connection attempt. */
CAIRN_EXTERN void cairn_sync_live_set_timing(cairn_sync_live_t *h, unsigned ping_ms,
                                             unsigned backoff_max_ms);

/* Push this device's new entries now (when the loop next runs) rather than at
 * the next poll. Harmless while disconnected: a new connection pushes them. */
CAIRN_EXTERN void cairn_sync_live_push(cairn_sync_live_t *h);

/* What the live sync did so far, over all its connections. */
CAIRN_EXTERN void cairn_sync_live_stats(const cairn_sync_live_t *h, cairn_sync_stats_t *out);

/*
 * Stop live sync: close the connection and the timers. Returns at once; on_stop
 * (may be NULL) runs on the loop once every handle is closed, and the handle is
 * freed right after it. No on_change or status callback runs after this call.
 * Call it exactly once (NULL is fine), from the loop's thread (a callback of the
 * live sync included); the loop must run for the close to complete.
 */
CAIRN_EXTERN void cairn_sync_live_stop(cairn_sync_live_t *h, cairn_sync_stop_cb on_stop);

/* ======================================================================
 * The changes feed (changes.c)
 * ======================================================================
 *
 * Who changed what, network-wide, from this replica's log: every op of every
 * entry held (this device's and everyone else's), oldest first, with its
 * author's member name. What `cairn changes` prints; the web app and reports
 * read the same calls.
 */

/* cairn_changes_opts_t.flags: also report ops on cairn's own records (types
 * starting with '_': `_member`, `_network`, `_schema`, `_invite`), left out
 * by default. */
#define CAIRN_CHANGES_RESERVED 1u
/* cairn_changes_opts_t.flags: hand the changes out in this replica's arrival
 * order instead of by stamp, each entry as the walk reaches it, nothing copied
 * or sorted: for counting a window of any size in time and memory in
 * proportion to what the callback keeps. Each author's entries still come in
 * seq order (and an entry's ops in their order), but authors interleave as
 * their entries arrived. cb then runs inside the walk's read transaction: it
 * may read the store, and must not write to it. */
#define CAIRN_CHANGES_UNORDERED 2u

/* Which changes to report; a zeroed struct (or NULL) reports every one. */
typedef struct cairn_changes_opts {
  uint64_t since_ms; /* only changes stamped at or after this wall-clock time (ms
                        since 1970, the HLC's top 48 bits); 0: from the start */
  uint64_t until_ms; /* only changes stamped before this time; 0: no bound */
  unsigned flags;    /* CAIRN_CHANGES_* */
} cairn_changes_opts_t;

/*
 * One change: one op of one entry. Every pointer is a view valid until the
 * callback returns.
 *
 * kind is CAIRN_OP_PUT, _DEL or _PURGE, with the record's type and id (not
 * NUL-terminated); or CAIRN_OP_REDACTED for an op a purge erased: its content is
 * gone (type and id are NULL, lengths 0) and only its author and time remain. A
 * purge op itself keeps its type and id. Walk a put's fields (name and value,
 * one MessagePack object each) with cairn_field_iter_init(op, ...) and
 * cairn_field_next() (entry.h), and make a value JSON with cairn_value_json().
 */
typedef struct cairn_changes_item {
  const cairn_entry_t *entry; /* the whole entry the op belongs to */
  uint64_t hlc;               /* the entry's hybrid logical clock */
  uint64_t time_ms;           /* hlc >> 16: its wall-clock time, ms since 1970 */
  const uint8_t *author;      /* CAIRN_KEY_BYTES: the author's device key */
  const char *author_name;    /* NUL-terminated: the `name` of the author's
                                 `_member` record (this device's own name, given
                                 at cairn_create, when its record has none);
                                 NULL when the author has no name */
  uint64_t seq;               /* the entry's seq in its author's log */
  uint32_t index;             /* the op's position in the entry, from 0 */
  cairn_op_kind_t kind;
  const char *type;
  uint32_t type_len;
  const char *id;
  uint32_t id_len;
  const cairn_op_t *op;       /* the op itself */
  const char *refused;        /* NULL, or, for an entry held as evidence only (its
                                 author's roles refuse it: cairn_entry_refused), the
                                 reason; its ops are in no record */
} cairn_changes_item_t;

/* Called with each change: 0 goes on, > 0 stops (cairn_changes returns 0), < 0
 * stops and cairn_changes returns that code. */
typedef int (*cairn_changes_cb)(const cairn_changes_item_t *c, void *ud);

/*
 * Every change within opts' window, ordered by stamp (the entry's HLC, then its
 * author's key bytewise: the order of cairn_history), oldest first; an entry's
 * ops in their order in the entry. Ops on cairn's own records are left out
 * unless opts->flags has CAIRN_CHANGES_RESERVED; erased ops are always reported.
 *
 * Runs in one read transaction. Entries stamped outside the window are skipped
 * from their header alone, their ops never read; the others are copied out of
 * the store (memory in proportion to their bytes) to be sorted before the first
 * call of cb (unless opts->flags has CAIRN_CHANGES_UNORDERED). Each entry's ops
 * are checked as they are handed out: an entry found corrupt makes the call
 * return CAIRN_ECORRUPT after its ops before the bad one were handed out.
 *
 * @param[in] opts  may be NULL: every change.
 * @return 0 (also when there is nothing to report: cb is never called),
 *         CAIRN_EINVAL (s or cb NULL), CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT, or
 *         the negative code cb returned.
 */
CAIRN_EXTERN int cairn_changes(cairn_store_t *s, const cairn_changes_opts_t *opts,
                               cairn_changes_cb cb, void *ud) CAIRN_WUR;

/*
 * Read a since time as people write it, for cairn_changes_opts_t.since_ms:
 *   - "YYYY-MM-DD": that day's midnight, UTC;
 *   - "YYYY-MM-DDTHH:MM[:SS[.fff]]" with "Z", "+HH:MM" or "-HH:MM" after it (no
 *     zone: UTC), as ISO 8601 writes a time;
 *   - "Nd" (N of 0-99999): N days of 24 hours before now_ms.
 * Years from 1970 on. Any thread.
 * @param[out] since_ms  ms since 1970.
 * @return 0, or CAIRN_EINVAL when text is none of these (or an impossible date).
 */
CAIRN_EXTERN int cairn_changes_parse_since(const char *text, uint64_t now_ms,
                                           uint64_t *since_ms) CAIRN_WUR;

/* ======================================================================
 * JSON views (journal.c, members.c)
 * ======================================================================
 *
 * The JSON the CLI prints with --json and the web app receives, built once
 * here for both. A time is ISO 8601 UTC with milliseconds
 * ("2026-10-01T09:30:00.000Z"); an author is named as cairn_changes names it
 * (the `name` of its `_member` record, or this device's own name when its
 * record has none; null when unnamed). Every function returns new references
 * (json_decref them).
 */

#define CAIRN_TIME_TEXT_MAX 32 /* a time as text, with its NUL */

/* ms since 1970 as "YYYY-MM-DDTHH:MM:SS.mmmZ" (or "@MS" for a time gmtime
 * cannot show) into out; returns out. Any thread. */
CAIRN_EXTERN char *cairn_time_text(uint64_t ms, char out[CAIRN_TIME_TEXT_MAX]);

/* Set "author" (the device key in hex), "name" (name, or null when NULL),
 * "time" (of hlc >> 16) and "hlc" on o. 0 or CAIRN_ENOMEM. */
CAIRN_EXTERN int cairn_stamp_json(json_t *o, const uint8_t author[CAIRN_KEY_BYTES],
                                  const char *name, uint64_t hlc) CAIRN_WUR;

/* The heads of a conflicted field (as cairn_conflicts gives them, the visible
 * one first) as [{"value", "author", "name", "time", "hlc"}]; the authors'
 * names are read from s. NULL when out of memory or a value does not decode. */
CAIRN_EXTERN json_t *cairn_heads_json(cairn_store_t *s, const cairn_head_t *heads, size_t n);

/* Every open conflict, as `cairn conflicts --json` prints it: an array of
 * {"_type", "_id", "field", "heads": cairn_heads_json}, by type, id, field.
 * @param[out] out  the array. @return 0, CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT. */
CAIRN_EXTERN int cairn_conflicts_json(cairn_store_t *s, json_t **out) CAIRN_WUR;

/* One change of the feed as `cairn changes --json` prints it: {"author",
 * "name", "time", "hlc", "seq", "op" ("put", "del", "purge", "erased"),
 * "refused" (only for an entry held as evidence), "_type", "_id" (null for an
 * erased op), "fields" (a put's fields and values)}. NULL when out of memory or
 * a value does not decode. */
CAIRN_EXTERN json_t *cairn_changes_item_json(const cairn_changes_item_t *ch);

/*
 * Every change to one record, oldest first, as `cairn history --json` prints
 * it: an array of changes shaped as cairn_changes_item_json's without "_type"
 * and "_id" (a put with no fields, "fields": {}, only kept the record).
 * @param[out] out  the array.
 * @return 0, CAIRN_ENOENT (no history: the record never existed here, or was
 *         purged; err says so), CAIRN_EINVAL, CAIRN_ENOMEM, CAIRN_EIO,
 *         CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_history_json(cairn_store_t *s, const char *type, const char *id,
                                    json_t **out, cairn_error_t *err) CAIRN_WUR;

/*
 * Whether a resolve of record type/id writes only what is in conflict, as
 * `cairn resolve` requires: every one of fields (nfields names) is a field in
 * conflict, and keep (nonzero: the change keeps the record, cairn_change_keep)
 * only for a record in a delete/edit conflict. Write the resolve afterwards
 * with resolve = 1.
 * @return 0, CAIRN_ENOENT (no such record), CAIRN_EDELETED (it is deleted),
 *         CAIRN_EINVAL (a field not in conflict, or keep without a delete/edit
 *         conflict: err names the record and the field), or a store error.
 */
CAIRN_EXTERN int cairn_resolve_check(cairn_store_t *s, const char *type, const char *id,
                                     const char *const *fields, size_t nfields, int keep,
                                     cairn_error_t *err) CAIRN_WUR;

/*
 * The network's people, as `cairn members --json` prints it:
 * {"members": [MEMBER...], "invites": [INVITE...]}.
 *   MEMBER {"key", "name", "role", "organization" (a partner id),
 *           "organization_name" (that partner's `name` when its record is here),
 *           "other_keys" (the keys of the other members of the same name: one
 *           person's devices)}, ordered by name (unnamed last), then key;
 *   INVITE {"key" (the invite key), "name" (the new member's), "role" (the role
 *           it grants), "organization", "organization_name", "status"
 *           ("pending", "used": every use taken, "expired", "revoked"),
 *           "expires" (a time), "uses", "used" (devices it admitted)}, ordered
 *           the same way.
 * Absent values are null.
 * @param[out] out  the document.
 * @return 0, CAIRN_EINVAL (s NULL), CAIRN_ENOMEM, CAIRN_EIO, CAIRN_ECORRUPT.
 */
CAIRN_EXTERN int cairn_members_json(cairn_store_t *s, json_t **out) CAIRN_WUR;

/*
 * Revoke a member's key (an owner or admin), as `cairn revoke` does: one
 * change making its role revoked, accepting its entries up to the last one this
 * replica holds; any later entry of the key is refused everywhere, whatever its
 * stamp (cairn_change_revoke).
 * @return 0, CAIRN_ENOENT (the key is not a member here: err says so), or an
 *         error of cairn_change_commit (CAIRN_EFORBIDDEN: this device's role may
 *         not; err has the reason).
 */
CAIRN_EXTERN int cairn_revoke(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES],
                              cairn_error_t *err) CAIRN_WUR;

#endif
