/*
 * server.c — the HTTP side of `cairn ui`: libmicrohttpd with one internal
 * thread, the access checks of docs/http.md ("Access"), request bodies, the
 * page at / that turns the URL's token into a cookie, and the replies. The API
 * itself is api.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "web.h"
#include "web_internal.h"

#define PARAMS_MAX 64

struct cairn_web {
  struct MHD_Daemon *daemon;
  cairn_store_t *store;
  unsigned sync_timeout_ms;
  web_bgsync_t bgsync;
  char token[CAIRN_WEB_TOKEN_CHARS + 1];
  char address[64];  /* "127.0.0.1:PORT": the Host header must be this */
  char origin[80];   /* "http://127.0.0.1:PORT" */
  char url[160];
  char *token_path;
};

/* One request while its body arrives. */
typedef struct web_req {
  char *body;
  size_t len, cap;
  int too_big;
} web_req_t;

/* ---- replies ---- */

/* How a reply is sent besides its body. */
typedef struct reply_head {
  const char *type;   /* Content-Type */
  const char *cookie; /* Set-Cookie, or NULL */
  const char *allow;  /* Allow (405), or NULL */
  int framed;         /* a report page, which the app's own pages may frame */
  const char *filename; /* an attachment's file name, or NULL */
} reply_head_t;

/* Send len bytes of data (freed here when mode is MHD_RESPMEM_MUST_FREE, even
 * on failure); NULL data (out of memory) drops the connection. */
static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned status, char *data,
                                 size_t len, enum MHD_ResponseMemoryMode mode,
                                 const reply_head_t *h) {
  struct MHD_Response *resp;
  enum MHD_Result ok;
  if (data == NULL)
    return MHD_NO;
  resp = MHD_create_response_from_buffer(len, data, mode);
  if (resp == NULL) {
    if (mode == MHD_RESPMEM_MUST_FREE)
      free(data);
    return MHD_NO;
  }
  MHD_add_response_header(resp, "Content-Type", h->type);
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  if (h->framed) {
    /* the report's own CSS is inline; it has no script */
    MHD_add_response_header(resp, "X-Frame-Options", "SAMEORIGIN");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                            "frame-ancestors 'self'");
  } else {
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; frame-ancestors 'none'");
  }
  if (h->cookie != NULL)
    MHD_add_response_header(resp, "Set-Cookie", h->cookie);
  if (h->allow != NULL)
    MHD_add_response_header(resp, "Allow", h->allow);
  if (h->filename != NULL && h->filename[0] != '\0') {
    char disposition[WEB_FILENAME_MAX + 40];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", h->filename);
    MHD_add_response_header(resp, "Content-Disposition", disposition);
  }
  ok = MHD_queue_response(conn, status, resp);
  MHD_destroy_response(resp);
  return ok;
}

static enum MHD_Result send_text(struct MHD_Connection *conn, unsigned status, char *text,
                                 const char *type, const char *cookie, const char *allow) {
  reply_head_t h = {type, cookie, allow, 0, NULL};
  return send_body(conn, status, text, text != NULL ? strlen(text) : 0, MHD_RESPMEM_MUST_FREE,
                   &h);
}

/* Send r (a file when r->raw is set, else its JSON) and release it. */
static enum MHD_Result send_reply(struct MHD_Connection *conn, web_reply_t *r) {
  char *text;
  if (r->raw != NULL) {
    char *raw = r->raw;
    r->raw = NULL;
    json_decref(r->body);
    r->body = NULL;
    reply_head_t h = {r->raw_type, NULL, NULL, 0, r->filename};
    return send_body(conn, r->status, raw, r->raw_len, MHD_RESPMEM_MUST_FREE, &h);
  }
  text = r->body ? json_dumps(r->body, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("");
  json_decref(r->body);
  r->body = NULL;
  if (text != NULL && text[0] != '\0') {
    size_t n = strlen(text);
    char *nl = realloc(text, n + 2); /* a newline, as the CLI prints JSON */
    if (nl != NULL) {
      text = nl;
      memcpy(text + n, "\n", 2);
    }
  }
  return send_text(conn, r->status, text, "application/json; charset=utf-8", NULL, r->allow);
}

static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
                                  const char *fmt, ...) CAIRN_PRINTF(3, 4);
static enum MHD_Result send_error(struct MHD_Connection *conn, unsigned status,
                                  const char *fmt, ...) {
  char msg[256];
  web_reply_t r;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  web_reply_init(&r);
  web_error(&r, status, "%s", msg);
  return send_reply(conn, &r);
}

/* ---- access ---- */

static int token_equal(const cairn_web_t *w, const char *t) {
  return t != NULL && strlen(t) == CAIRN_WEB_TOKEN_CHARS &&
         sodium_memcmp(t, w->token, CAIRN_WEB_TOKEN_CHARS) == 0;
}

/* Where the request's valid token came from. */
enum { TOKEN_NONE, TOKEN_HEADER, TOKEN_COOKIE };

static int token_of(const cairn_web_t *w, struct MHD_Connection *conn) {
  const char *auth = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
  if (auth != NULL && strncmp(auth, "Bearer ", 7) == 0 && token_equal(w, auth + 7))
    return TOKEN_HEADER;
  if (token_equal(w, MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, "cairn_token")))
    return TOKEN_COOKIE;
  return TOKEN_NONE;
}

static int changes_state(const char *method) {
  return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
         strcmp(method, "OPTIONS") != 0;
}

/* The checks of docs/http.md, "Access", for an /api/ request: 0 when it may
 * go on, else the status it was refused with (already queued). */
static unsigned check_api_access(const cairn_web_t *w, struct MHD_Connection *conn,
                                 const char *method, enum MHD_Result *sent) {
  const char *origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
  int from = token_of(w, conn);
  if (from == TOKEN_NONE) {
    *sent = send_error(conn, 401, "this needs the access token that `cairn ui` printed: "
                                  "send `Authorization: Bearer TOKEN` (the token is also in "
                                  "the store's ui.token file)");
    return 401;
  }
  if (!changes_state(method))
    return 0;
  if (origin != NULL && strcmp(origin, w->origin) != 0) {
    *sent = send_error(conn, 403, "a change from another site (Origin %s) is refused", origin);
    return 403;
  }
  if (from != TOKEN_HEADER) {
    *sent = send_error(conn, 403, "a change needs the token in the Authorization header, "
                                  "not only in the cookie");
    return 403;
  }
  return 0;
}

/* ---- the app's pages ---- */

/* The page at / with this server's token in it (for the app's own calls); a
 * request that came with ?token= also gets the cookie. */
static enum MHD_Result serve_index(const cairn_web_t *w, struct MHD_Connection *conn,
                                   const web_asset_t *a, int set_cookie) {
  static const char mark[] = "{{TOKEN}}";
  char cookie[CAIRN_WEB_TOKEN_CHARS + 80];
  const char *at = strstr(a->data, mark);
  size_t head = at != NULL ? (size_t)(at - a->data) : *a->len;
  size_t n = *a->len - (at != NULL ? sizeof mark - 1 : 0) + (at != NULL ? CAIRN_WEB_TOKEN_CHARS : 0);
  char *page = malloc(n + 1);
  reply_head_t h = {a->type, set_cookie ? cookie : NULL, NULL, 0, NULL};
  if (page != NULL) {
    memcpy(page, a->data, head);
    if (at != NULL) {
      memcpy(page + head, w->token, CAIRN_WEB_TOKEN_CHARS);
      memcpy(page + head + CAIRN_WEB_TOKEN_CHARS, at + sizeof mark - 1,
             *a->len - head - (sizeof mark - 1));
    }
    page[n] = '\0';
  }
  snprintf(cookie, sizeof cookie, "cairn_token=%s; Path=/; HttpOnly; SameSite=Strict",
           w->token);
  return send_body(conn, 200, page, n, MHD_RESPMEM_MUST_FREE, &h);
}

/* A report as its own page: /reports/NAME.html[?as_of=DATE]. */
static enum MHD_Result serve_report(const cairn_web_t *w, struct MHD_Connection *conn,
                                    const char *url) {
  const char *as_of = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "as_of");
  const char *name = url + strlen("/reports/");
  size_t nl = strlen(name);
  char report[32];
  cairn_error_t err = {0, ""};
  char *html;
  size_t len;
  reply_head_t h = {"text/html; charset=utf-8", NULL, NULL, 1, NULL};
  int rc;
  if (nl <= 5 || nl - 5 >= sizeof report || strcmp(name + nl - 5, ".html") != 0)
    return send_error(conn, 404, "no such page: %s (reports are /reports/NAME.html)", url);
  memcpy(report, name, nl - 5);
  report[nl - 5] = '\0';
  rc = web_report_page(w->store, report, as_of, &html, &len, &err);
  if (rc != 0)
    return send_error(conn, web_status_of(rc), "%s",
                      err.msg[0] ? err.msg : cairn_strerror(rc));
  return send_body(conn, 200, html, len, MHD_RESPMEM_MUST_FREE, &h);
}

/* Everything outside /api/: the app's files, and the report pages. The files
 * hold nothing of the store's; the page at / and the reports need the token
 * (in the URL, the cookie or the header). */
static enum MHD_Result serve_page(const cairn_web_t *w, struct MHD_Connection *conn,
                                  const char *url, const char *method) {
  const char *given = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "token");
  const web_asset_t *a = web_asset_find(url);
  int is_report = strncmp(url, "/reports/", 9) == 0;
  if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
    web_reply_t r;
    web_reply_init(&r);
    r.allow = "GET";
    web_error(&r, 405, "%s is not allowed here: use GET", method);
    return send_reply(conn, &r);
  }
  if (a == NULL && !is_report)
    return send_error(conn, 404, "no such page: %s", url);
  if (a != NULL && strcmp(url, "/") != 0) {
    reply_head_t h = {a->type, NULL, NULL, 0, NULL};
    return send_body(conn, 200, (char *)a->data, *a->len, MHD_RESPMEM_PERSISTENT, &h);
  }
  if (given != NULL && !token_equal(w, given))
    return send_text(conn, 401, strdup("This link's token is not this server's: open the "
                                       "URL `cairn ui` printed last.\n"),
                     "text/plain; charset=utf-8", NULL, NULL);
  if (given == NULL && token_of(w, conn) == TOKEN_NONE)
    return send_text(conn, 401, strdup("Open the URL `cairn ui` printed, with its token.\n"),
                     "text/plain; charset=utf-8", NULL, NULL);
  if (is_report)
    return serve_report(w, conn, url);
  return serve_index(w, conn, a, given != NULL);
}

/* ---- requests ---- */

typedef struct params {
  web_param_t v[PARAMS_MAX];
  size_t n;
  int too_many;
} params_t;

static enum MHD_Result param_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value) {
  params_t *p = cls;
  if (p->n == PARAMS_MAX) {
    p->too_many = 1;
    return MHD_NO;
  }
  p->v[p->n].name = key;
  p->v[p->n].value = value != NULL ? value : "";
  p->n++;
  return MHD_YES;
}

static enum MHD_Result serve_api(cairn_web_t *w, struct MHD_Connection *conn, const char *url,
                                 const char *method, web_req_t *req) {
  params_t p;
  web_reply_t r;
  web_call_t call = {w->store, method, url + 5,           NULL, 0, "",
                     0,        NULL,   w->sync_timeout_ms, &w->bgsync};
  call.content_type = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
  p.n = 0;
  p.too_many = 0;
  MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, param_one, &p);
  if (p.too_many)
    return send_error(conn, 400, "more than %d query parameters", PARAMS_MAX);
  if (req->too_big)
    return send_error(conn, 413, "the body is larger than %u bytes", CAIRN_WEB_BODY_MAX);
  call.params = p.v;
  call.nparams = p.n;
  if (req->body != NULL) {
    call.body = req->body;
    call.body_len = req->len;
  }
  web_api(&call, &r);
  return send_reply(conn, &r);
}

/* Append a piece of the body (NUL-terminated as it grows). */
static void body_add(web_req_t *req, const char *data, size_t n) {
  if (req->too_big || n == 0)
    return;
  if (req->len + n > CAIRN_WEB_BODY_MAX) {
    req->too_big = 1;
    return;
  }
  if (req->len + n + 1 > req->cap) {
    size_t cap = req->cap ? req->cap * 2 : 4096;
    while (cap < req->len + n + 1)
      cap *= 2;
    char *b = realloc(req->body, cap);
    if (b == NULL) {
      req->too_big = 1; /* refused as too large rather than half read */
      return;
    }
    req->body = b;
    req->cap = cap;
  }
  memcpy(req->body + req->len, data, n);
  req->len += n;
  req->body[req->len] = '\0';
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
  cairn_web_t *w = cls;
  web_req_t *req = *con_cls;
  const char *host;
  enum MHD_Result sent = MHD_NO;
  if (req == NULL) {
    if ((req = calloc(1, sizeof *req)) == NULL)
      return MHD_NO;
    *con_cls = req;
    return MHD_YES; /* headers only so far: the body (if any) comes next */
  }
  if (*upload_data_size != 0) {
    body_add(req, upload_data, *upload_data_size);
    *upload_data_size = 0;
    return MHD_YES;
  }
  host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
  if (host == NULL || strcmp(host, w->address) != 0)
    return send_error(conn, 403, "this server answers only to the address %s (Host was %s)",
                      w->address, host ? host : "missing");
  if (strncmp(url, "/api/", 5) != 0)
    return serve_page(w, conn, url, method);
  if (check_api_access(w, conn, method, &sent) != 0)
    return sent;
  return serve_api(w, conn, url, method, req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
  web_req_t *req = *con_cls;
  if (req != NULL) {
    free(req->body);
    free(req);
    *con_cls = NULL;
  }
}

/* ---- start and stop ---- */

/* Fill err (may be NULL) with code and a message; returns code. */
static int set_error(cairn_error_t *err, int code, const char *fmt, ...) CAIRN_PRINTF(3, 4);
static int set_error(cairn_error_t *err, int code, const char *fmt, ...) {
  va_list ap;
  if (err == NULL)
    return code;
  err->code = code;
  va_start(ap, fmt);
  vsnprintf(err->msg, sizeof err->msg, fmt, ap);
  va_end(ap);
  return code;
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, cairn_error_t *err) {
  const char *colon = strrchr(listen, ':');
  char host[INET_ADDRSTRLEN];
  char *end;
  unsigned long port;
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  if (colon == NULL || (size_t)(colon - listen) >= sizeof host || colon[1] == '\0')
    goto bad;
  memcpy(host, listen, (size_t)(colon - listen));
  host[colon - listen] = '\0';
  port = strtoul(colon + 1, &end, 10);
  if (*end != '\0' || colon[1] < '0' || colon[1] > '9' || port > 65535 ||
      inet_pton(AF_INET, host, &sa->sin_addr) != 1)
    goto bad;
  if (sa->sin_addr.s_addr == htonl(INADDR_ANY))
    return set_error(err, CAIRN_EINVAL, "--listen needs the address to serve on (such "
                                              "as 127.0.0.1 or this machine's LAN address), "
                                              "not 0.0.0.0");
  sa->sin_port = htons((uint16_t)port);
  return 0;
bad:
  return set_error(err, CAIRN_EINVAL, "--listen takes ADDRESS:PORT (an IPv4 address, "
                                            "such as 127.0.0.1:8080), not '%s'", listen);
}

/* Write the token to STORE_DIR/ui.token, mode 0600. */
static int write_token(cairn_web_t *w, const char *dir, cairn_error_t *err) {
  size_t n = strlen(dir) + sizeof "/" CAIRN_WEB_TOKEN_FILE;
  char line[CAIRN_WEB_TOKEN_CHARS + 1];
  int fd, ok;
  if ((w->token_path = malloc(n)) == NULL)
    return set_error(err, CAIRN_ENOMEM, "out of memory");
  snprintf(w->token_path, n, "%s/%s", dir, CAIRN_WEB_TOKEN_FILE);
  fd = open(w->token_path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_error(err, CAIRN_EIO, "cannot write %s: %s", w->token_path,
                           strerror(errno));
  memcpy(line, w->token, CAIRN_WEB_TOKEN_CHARS);
  line[CAIRN_WEB_TOKEN_CHARS] = '\n';
  ok = fchmod(fd, 0600) == 0 && write(fd, line, sizeof line) == (ssize_t)sizeof line;
  if (close(fd) != 0 || !ok) {
    unlink(w->token_path);
    free(w->token_path);
    w->token_path = NULL;
    return set_error(err, CAIRN_EIO, "cannot write %s: %s", w->token_path,
                           strerror(errno));
  }
  return 0;
}

/* Remove the token file if it still holds this server's token (a later
 * `cairn ui` on the same store may have written its own). */
static void remove_token(const cairn_web_t *w) {
  char line[CAIRN_WEB_TOKEN_CHARS + 1];
  int fd = w->token_path != NULL ? open(w->token_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC) : -1;
  ssize_t n;
  if (fd < 0)
    return;
  n = read(fd, line, sizeof line);
  close(fd);
  if (n == (ssize_t)sizeof line && sodium_memcmp(line, w->token, CAIRN_WEB_TOKEN_CHARS) == 0)
    unlink(w->token_path);
}

static int start_daemon(cairn_web_t *w, struct sockaddr_in *sa, cairn_error_t *err) {
  char host[INET_ADDRSTRLEN];
  const union MHD_DaemonInfo *info;
  w->daemon = MHD_start_daemon(
      MHD_USE_AUTO_INTERNAL_THREAD, ntohs(sa->sin_port), NULL, NULL, on_request, w,
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)sa, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
      w, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_CONNECTION_LIMIT,
      (unsigned)128, MHD_OPTION_END);
  inet_ntop(AF_INET, &sa->sin_addr, host, sizeof host);
  if (w->daemon == NULL)
    return set_error(err, CAIRN_EIO, "cannot serve on %s:%u: the port is taken, or the "
                                           "address is not this machine's",
                           host, (unsigned)ntohs(sa->sin_port));
  info = MHD_get_daemon_info(w->daemon, MHD_DAEMON_INFO_BIND_PORT);
  snprintf(w->address, sizeof w->address, "%s:%u", host,
           (unsigned)(info != NULL ? info->port : ntohs(sa->sin_port)));
  snprintf(w->origin, sizeof w->origin, "http://%s", w->address);
  snprintf(w->url, sizeof w->url, "http://%s/?token=%s", w->address, w->token);
  return 0;
}

int cairn_web_start(cairn_store_t *s, const cairn_web_opts_t *opts, cairn_web_t **out,
                    cairn_error_t *err) {
  uint8_t raw[CAIRN_WEB_TOKEN_CHARS / 2];
  struct sockaddr_in sa;
  cairn_web_t *w;
  int rc;
  *out = NULL;
  if ((rc = parse_listen(opts->listen ? opts->listen : "127.0.0.1:0", &sa, err)) != 0)
    return rc;
  if ((w = calloc(1, sizeof *w)) == NULL)
    return set_error(err, CAIRN_ENOMEM, "out of memory");
  w->store = s;
  w->sync_timeout_ms = opts->sync_timeout_ms ? opts->sync_timeout_ms : 30000;
  web_bgsync_init(&w->bgsync, opts->sync_argv);
  randombytes_buf(raw, sizeof raw);
  sodium_bin2hex(w->token, sizeof w->token, raw, sizeof raw);
  sodium_memzero(raw, sizeof raw);
  /* bind first: a server that cannot start leaves another's token file alone */
  if ((rc = start_daemon(w, &sa, err)) != 0 ||
      (rc = write_token(w, opts->store_dir, err)) != 0) {
    cairn_web_stop(w);
    return rc;
  }
  *out = w;
  return 0;
}

const char *cairn_web_url(const cairn_web_t *w) {
  return w->url;
}

const char *cairn_web_address(const cairn_web_t *w) {
  return w->address;
}

void cairn_web_stop(cairn_web_t *w) {
  if (w == NULL)
    return;
  if (w->daemon != NULL)
    MHD_stop_daemon(w->daemon);
  web_bgsync_stop(&w->bgsync);
  remove_token(w);
  free(w->token_path);
  sodium_memzero(w->token, sizeof w->token);
  free(w);
}
