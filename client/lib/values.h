/*
 * values.h — field values between the command line, JSON and MessagePack.
 *
 * A field value in an entry is one MessagePack object (docs/design.md, "Operations").
 * People and scripts see and write values as JSON: the CLI takes them as httpie
 * field arguments (`title=text`, `count:=42`, docs/cli.md) and prints them with
 * `--json`. This module converts between the three:
 *
 *   "name=text" / "name:=JSON"  --cairn_value_parse_arg-->  name + MessagePack
 *   json_t                      --cairn_value_from_json-->  MessagePack
 *   MessagePack (untrusted)     --cairn_value_to_json---->  json_t
 *
 * and answers `cairn list --where FIELD=VALUE` with cairn_value_matches.
 *
 * MessagePack is packed with msgpack-c and read back only with the bounded
 * reader of core/mpread.h: values come from other people's entries, and
 * msgpack-c's unpacker trusts the counts it reads (docs/design.md, "Bad input, faults and limits").
 * Nesting is capped at CAIRN_VALUE_DEPTH_MAX (16) containers in both
 * directions, the same limit cairn_entry_decode applies, so every value this
 * module packs is one an entry accepts.
 *
 * JSON -> MessagePack:
 *   null, true, false       -> nil, true, false
 *   integer                 -> the smallest int encoding (positive ones as uint)
 *   real                    -> float 64
 *   string                  -> str (may hold U+0000)
 *   array, object           -> array, map with str keys, in the object's order
 *
 * MessagePack -> JSON:
 *   nil, bool               -> null, true/false
 *   int, uint <= INT64_MAX  -> integer
 *   uint > INT64_MAX        -> string of its decimal digits ("18446744073709551615"):
 *                              jansson integers are int64 and a real would round
 *                              the value silently; the string keeps every digit
 *   float 32/64             -> real; NaN, +inf, -inf (JSON has none) -> the
 *                              strings "NaN", "Infinity", "-Infinity"
 *   str                     -> string; invalid UTF-8 is replaced, each maximal
 *                              ill-formed subsequence by one U+FFFD (Unicode's
 *                              recommended practice), so a bad value written by
 *                              some other client still displays
 *   bin                     -> string "base64:" + standard base64 with padding
 *                              (RFC 4648 section 4, libsodium's ORIGINAL variant)
 *   ext                     -> object {"_ext": type, "base64": data in base64}
 *   array                   -> array
 *   map                     -> object; a str key is used as is (UTF-8 repaired as
 *                              above), a key that becomes a JSON string (bin, huge
 *                              uint) uses that string, any other key its compact
 *                              JSON text (1 -> "1", [1,2] -> "[1,2]", nil -> "null").
 *                              Two keys that end up equal make the map
 *                              CAIRN_EMALFORMED rather than one value being lost.
 *
 * Thread safety: every function is reentrant and may be called from any thread
 * on distinct arguments. No function prints, exits or aborts.
 */
#ifndef CAIRN_VALUES_H
#define CAIRN_VALUES_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"

/*
 * Parse one command-line field argument in the httpie convention (docs/cli.md).
 *
 * The argument is split at its first '='. If the byte before it is ':', the
 * argument is `name:=JSON` and the value is the JSON text after ":=" (any JSON
 * value: number, true, false, null, string, array, object; duplicate object keys
 * are refused; nesting at most CAIRN_VALUE_DEPTH_MAX). Otherwise it is
 * `name=text` and the value is always a MessagePack str holding text as given
 * (`count=42` is the string "42"); text may be empty and must be valid UTF-8.
 * Consequently a name cannot contain '=' and a string field cannot be named
 * something ending in ':'. No other httpie separator (`==`, `@`, `:`) is
 * recognised: `a==b` sets field "a" to the string "=b".
 *
 * The name must be a valid field name: 1 to CAIRN_FIELD_MAX (64) bytes of valid
 * UTF-8, not starting with '_' (names starting with '_' are reserved for cairn).
 *
 * @param[in]  arg        the NUL-terminated argument, e.g. "count:=42".
 * @param[out] name       on success, a malloc'd NUL-terminated copy of the field
 *                        name; the caller frees it with free(). NULL on error.
 * @param[out] value      on success, a malloc'd buffer holding exactly one
 *                        MessagePack object; the caller frees it with free().
 *                        NULL on error.
 * @param[out] value_len  on success, the size of *value in bytes; 0 on error.
 * @param[out] err        may be NULL; on error, filled with the code and a
 *                        one-line message naming the argument, e.g.
 *                        "bad field argument 'count:=4x': invalid JSON (...)" or
 *                        "field name '_x' is reserved".
 * @return 0 on success, or
 *   - CAIRN_EINVAL   missing '=', empty, too long, reserved or non-UTF-8 name,
 *                    non-UTF-8 text, invalid JSON, nesting too deep, a NULL
 *                    argument;
 *   - CAIRN_ETOOBIG  a string, array or object too large for MessagePack;
 *   - CAIRN_ENOMEM   out of memory.
 */
CAIRN_EXTERN int cairn_value_parse_arg(const char *arg, char **name, uint8_t **value,
                                       size_t *value_len, cairn_error_t *err) CAIRN_WUR;

/*
 * Pack a JSON value as one MessagePack object (mapping in the file comment).
 *
 * @param[in]  j        the value; borrowed, not modified.
 * @param[out] out      on success, a malloc'd buffer of exactly *out_len bytes
 *                      holding one MessagePack object; the caller frees it with
 *                      free(). NULL on error.
 * @param[out] out_len  on success, the size of *out; 0 on error.
 * @param[out] err      may be NULL; on error, filled with the code and a message
 *                      ("nesting deeper than 16 levels").
 * @return 0 on success, or
 *   - CAIRN_EINVAL   j is NULL, or arrays/objects nest deeper than
 *                    CAIRN_VALUE_DEPTH_MAX;
 *   - CAIRN_ETOOBIG  a string, array or object of 2^32 or more bytes/items;
 *   - CAIRN_ENOMEM   out of memory.
 */
CAIRN_EXTERN int cairn_value_from_json(const json_t *j, uint8_t **out, size_t *out_len,
                                       cairn_error_t *err) CAIRN_WUR;

/*
 * Convert one MessagePack object, read from untrusted bytes, to JSON (mapping in
 * the file comment).
 *
 * The bytes are read with the bounded reader (core/mpread.h): every array or map
 * count is checked against the bytes left before anything is allocated, so the
 * memory used is proportional to len, whatever the input claims.
 *
 * @param[in]  mp   the bytes; borrowed, need not outlive the call.
 * @param[in]  len  their length; must be exactly one object.
 * @param[out] out  on success, a new reference the caller releases with
 *                  json_decref(); it shares nothing with mp. NULL on error.
 * @return 0 on success, or
 *   - CAIRN_EMALFORMED  not exactly one well-formed object (empty, truncated,
 *                       trailing bytes, a count larger than the bytes left, a
 *                       reserved tag), nesting deeper than CAIRN_VALUE_DEPTH_MAX,
 *                       or a map with two keys that convert to the same string;
 *   - CAIRN_EINVAL      mp or out is NULL;
 *   - CAIRN_ENOMEM      out of memory.
 */
CAIRN_EXTERN int cairn_value_to_json(const uint8_t *mp, size_t len,
                                     json_t **out) CAIRN_WUR;

/*
 * Whether a stored value matches the value of a `--where FIELD=VALUE` filter.
 *
 * text is the raw filter text after the first '='. The stored value is converted
 * as cairn_value_to_json does; then:
 *   - a str value matches when its bytes equal text exactly (no UTF-8 repair);
 *   - any other value that converts to a JSON string (bin, huge uint, NaN...)
 *     matches when that string equals text ("base64:AAE=", "NaN");
 *   - every other value matches when text parses as JSON to an equal value, with
 *     numbers compared by value: stored 42 matches "42" and "42.0", true matches
 *     "true", null matches "null", [1,2] matches "[1, 2]", {"a":1} matches
 *     "{\"a\":1}" whatever the key order; text that does not load as JSON
 *     matches when it equals the value's compact JSON text (jansson cannot load
 *     an object key holding U+0000, but such a value still matches its text).
 * So `--where count=42` finds both the string "42" and the integer 42.
 *
 * @param[in] mp    the stored value (untrusted bytes), len bytes.
 * @param[in] len   its length.
 * @param[in] text  the NUL-terminated filter text.
 * @return 1 on a match; 0 otherwise, including when mp is malformed, an argument
 *         is NULL or memory runs out.
 */
CAIRN_EXTERN int cairn_value_matches(const uint8_t *mp, size_t len, const char *text);

#endif
