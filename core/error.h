/*
 * error.h — cairn's error codes and the detailed error record.
 *
 * Every fallible function returns 0 or a negative CAIRN_E* code. Functions that
 * can say more (which author, which seq, which position in a bundle) also fill a
 * caller-supplied cairn_error_t. The codes are defined once, in CAIRN_ERR_MAP,
 * which generates the enum, cairn_strerror() and cairn_err_name().
 *
 * Thread safety: all functions here are safe to call from any thread.
 */
#ifndef CAIRN_ERROR_H
#define CAIRN_ERROR_H

#include <stddef.h>

#if defined(__GNUC__)
#define CAIRN_EXTERN __attribute__((visibility("default")))
#define CAIRN_WUR __attribute__((warn_unused_result))
#define CAIRN_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CAIRN_EXTERN
#define CAIRN_WUR
#define CAIRN_PRINTF(a, b)
#endif

/* XX(name, number, text) */
#define CAIRN_ERR_MAP(XX)                                                           \
  XX(EINVAL, 1, "invalid argument")                                                 \
  XX(ENOMEM, 2, "out of memory")                                                    \
  XX(EIO, 3, "input/output error")                                                  \
  XX(ENOSPC, 4, "no space left on device")                                          \
  XX(ENOENT, 5, "not found")                                                        \
  XX(EEXIST, 6, "already exists")                                                   \
  XX(EMALFORMED, 7, "malformed data")                                               \
  XX(EBADSIG, 8, "bad signature")                                                   \
  XX(EBADHASH, 9, "hash does not match")                                            \
  XX(ENETWORK, 10, "entry belongs to another network")                              \
  XX(EGAP, 11, "entry does not follow its author's head (gap)")                     \
  XX(EFORK, 12, "a different entry exists at this seq (fork)")                      \
  XX(ESKEW, 13, "entry clock too far ahead")                                        \
  XX(ETOOBIG, 14, "too large")                                                      \
  XX(EFORBIDDEN, 15, "the author's role forbids this write")                        \
  XX(ENOTMEMBER, 16, "not a member of the network")                                 \
  XX(EKEYPERM, 17, "key file is readable by others")                                \
  XX(ENONETWORK, 18, "store has no network yet")                                    \
  XX(EHASNETWORK, 19, "store already has a network")                                \
  XX(EVERSION, 20, "unsupported version")                                           \
  XX(ECORRUPT, 21, "store is corrupt")                                              \
  XX(EBUSY, 22, "store is in use")                                                  \
  XX(EPURGED, 23, "record was purged")                                              \
  XX(ECANCELED, 24, "operation canceled")                                           \
  XX(EBADTXN, 25, "transaction failed earlier; only abort is allowed")              \
  XX(EDELETED, 26, "record is deleted")                                             \
  XX(EMAPFULL, 27, "store map is full (internal: the store grows and retries)")     \
  XX(EAUTH, 28, "peer authentication failed")                                       \
  XX(EPROTO, 29, "protocol violation")                                              \
  XX(EREADONLY, 30, "store is open read-only")                                     \
  XX(ESCHEMA, 31, "the value breaks the network's schema")

typedef enum {
  CAIRN_OK = 0,
#define CAIRN_ERR_ENUM(name, num, text) CAIRN_##name = -(num),
  CAIRN_ERR_MAP(CAIRN_ERR_ENUM)
#undef CAIRN_ERR_ENUM
} cairn_errcode_t;

/* Longest message a cairn_error_t carries, including the terminating NUL. */
#define CAIRN_ERRMSG_MAX 512

/*
 * A detailed error: the code and a one-line message meant for people (it names
 * the author and seq of a rejected entry, the position of a bad bundle entry...).
 */
typedef struct cairn_error {
  int code;
  char msg[CAIRN_ERRMSG_MAX];
} cairn_error_t;

/* Text for a code; never NULL. Unknown codes give "unknown error". */
CAIRN_EXTERN const char *cairn_strerror(int code);

/* Symbolic name for a code ("CAIRN_EBADSIG"); never NULL. */
CAIRN_EXTERN const char *cairn_err_name(int code);

/*
 * Fill err (which may be NULL) with code and a printf-style message, and return
 * code, so callers write `return cairn__error(err, CAIRN_EGAP, "...", ...)`.
 * An err already holding an error is overwritten.
 */
int cairn__error(cairn_error_t *err, int code, const char *fmt, ...) CAIRN_PRINTF(3, 4);

/* Clear err (which may be NULL). */
void cairn__error_clear(cairn_error_t *err);

/*
 * SQLite's ALWAYS/NEVER: conditions that cannot happen but are handled anyway.
 * Debug builds assert; release builds take the error path.
 */
#ifdef NDEBUG
#define ALWAYS(x) (x)
#define NEVER(x) (x)
#else
#include <assert.h>
#define ALWAYS(x) ((x) ? 1 : (assert(0), 0))
#define NEVER(x) ((x) ? (assert(0), 1) : 0)
#endif

#endif
