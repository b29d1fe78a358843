/*
 * web.h — `cairn ui`: the local HTTP server of a store, with its JSON API
 * (docs/http.md). Built on libmicrohttpd, with one internal thread that serves
 * every request, one at a time: the store handle is used from that thread only
 * while the server runs (cairn.h, "Threads"). Other processes may write the
 * same store meanwhile (LMDB allows it); each request reads the store as it is
 * then, schema included.
 *
 * Safety (docs/http.md, "Access"): the server binds to the address given
 * (127.0.0.1 unless told otherwise), refuses a Host header that is not that
 * address (DNS rebinding), asks every /api/ request for the random access token
 * (header `Authorization: Bearer TOKEN` or the cookie `cairn_token`, which the
 * page at /?token=TOKEN sets), and refuses a change (PUT, POST, DELETE) from a
 * cross-site Origin or with the token in the cookie only (CSRF).
 *
 * Nothing here prints, exits or aborts; calls return 0 or a negative CAIRN_E*
 * code and fill a cairn_error_t.
 */
#ifndef CAIRN_WEB_H
#define CAIRN_WEB_H

#include "cairn.h"

/* Characters of the access token: 32 random bytes as lowercase hex. */
#define CAIRN_WEB_TOKEN_CHARS 64
/* The name of the token file in the store directory (mode 0600). */
#define CAIRN_WEB_TOKEN_FILE "ui.token"
/* The largest request body accepted (a larger one is refused with 413). */
#define CAIRN_WEB_BODY_MAX (1024u * 1024u)

typedef struct cairn_web cairn_web_t;

typedef struct cairn_web_opts {
  const char *listen;        /* "ADDRESS:PORT", an IPv4 address; port 0 picks a free
                                one. NULL: "127.0.0.1:0" */
  const char *store_dir;     /* the store's directory: the token file goes there */
  unsigned sync_timeout_ms;  /* POST /api/sync gives up after this; 0: 30 s */
  const char *const *sync_argv; /* NULL, or the command (argv[0] a path, NULL-ended)
                                   that syncs this store once, run as a child
                                   process for POST /api/sync?background=true;
                                   borrowed: it must outlive the server */
} cairn_web_opts_t;

/*
 * Start serving store s: make the token, write it to STORE_DIR/ui.token (mode
 * 0600), bind, and start the server's thread. From then until cairn_web_stop
 * returns, use s from no other thread.
 * @param[in]  s     an open store, borrowed: it must outlive the server.
 * @param[out] out   the server; stop and free it with cairn_web_stop.
 * @param[out] err   may be NULL; why it failed.
 * @return 0, CAIRN_EINVAL (listen is not ADDRESS:PORT), CAIRN_EIO (cannot write
 *         the token file, or cannot bind: the port is taken or the address is
 *         not this machine's), CAIRN_ENOMEM.
 */
int cairn_web_start(cairn_store_t *s, const cairn_web_opts_t *opts, cairn_web_t **out,
                    cairn_error_t *err) CAIRN_WUR;

/* The URL to open: "http://ADDRESS:PORT/?token=TOKEN", owned by w. */
const char *cairn_web_url(const cairn_web_t *w);

/* The address served, "ADDRESS:PORT" (the port the system chose for port 0),
 * owned by w. */
const char *cairn_web_address(const cairn_web_t *w);

/* Stop serving (a request under way finishes first), remove the token file,
 * and free w. NULL is fine. */
void cairn_web_stop(cairn_web_t *w);

#endif
