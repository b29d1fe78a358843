/*
 * api_people.c — the network's people (docs/http.md, "Members"): the members
 * document as `cairn members --json` prints it, making an invite as `cairn
 * invite` does, and revoking a key as `cairn revoke` does, over the same
 * library calls (cairn_members_json, cairn_invite_terms_check, cairn_invite,
 * cairn_revoke).
 */
#include <string.h>

#include "web_internal.h"

void web_route_members(const web_call_t *call, web_reply_t *r) {
  json_t *doc;
  int rc;
  if (web_unknown_param(call, NULL, r))
    return;
  if ((rc = cairn_members_json(call->store, &doc)) != 0)
    web_fail(r, rc, NULL, "cannot list the members");
  else
    web_reply_json(r, 200, doc);
}

/* The row of key in the members document (members or invites), a new
 * reference; NULL when it is not there or out of memory. */
static json_t *member_row(cairn_store_t *s, const uint8_t key[CAIRN_KEY_BYTES]) {
  static const char *const parts[] = {"members", "invites"};
  char hex[2 * CAIRN_KEY_BYTES + 1];
  json_t *doc, *row = NULL, *o;
  size_t i;
  if (cairn_members_json(s, &doc) != 0)
    return NULL;
  cairn_hex(key, CAIRN_KEY_BYTES, hex);
  for (size_t k = 0; row == NULL && k < 2; k++)
    json_array_foreach(json_object_get(doc, parts[k]), i, o) {
      if (row == NULL && strcmp(json_string_value(json_object_get(o, "key")), hex) == 0)
        row = json_incref(o);
    }
  json_decref(doc);
  return row;
}

/* ---- invites ---- */

/* An invite's terms, as the body gives them. */
typedef struct terms {
  cairn_role_t role;
  const char *name, *org;
  unsigned long days, uses;
} terms_t;

/* A whole number of the body (def when absent): 1, or 0 with a 400 in r. */
static int body_number(json_t *obj, const char *key, unsigned long max, unsigned long def,
                       unsigned long *out, web_reply_t *r) {
  json_t *v = json_object_get(obj, key);
  *out = def;
  if (v == NULL)
    return 1;
  if (!json_is_integer(v) || json_integer_value(v) < 1 ||
      (unsigned long long)json_integer_value(v) > max) {
    web_error(r, 400, "%s takes a whole number from 1 to %lu", key, max);
    return 0;
  }
  *out = (unsigned long)json_integer_value(v);
  return 1;
}

/* The terms of the body, checked as `cairn invite` checks them: 1, or 0 with a
 * 400 in r. */
static int terms_of(json_t *obj, terms_t *t, web_reply_t *r) {
  static const char *const keys[] = {"role", "name", "organization", "expires_days", "uses"};
  cairn_error_t err = {0, ""};
  const char *key, *role;
  json_t *v;
  json_object_foreach(obj, key, v) {
    size_t k = 0;
    while (k < 5 && strcmp(keys[k], key) != 0)
      k++;
    if (k == 5 || (k < 3 && !json_is_string(v))) {
      web_error(r, 400, k == 5 ? "unknown field '%s' (an invite takes role, name, organization, "
                                 "expires_days, uses)"
                               : "%s takes a string",
                key);
      return 0;
    }
  }
  role = json_string_value(json_object_get(obj, "role"));
  t->role = role ? cairn_role_parse(role, strlen(role)) : CAIRN_ROLE_NONE;
  t->name = json_string_value(json_object_get(obj, "name"));
  t->org = json_string_value(json_object_get(obj, "organization"));
  if (!body_number(obj, "expires_days", 365, 7, &t->days, r) ||
      !body_number(obj, "uses", CAIRN_INVITE_USES_MAX, 1, &t->uses, r))
    return 0;
  if (cairn_invite_terms_check(t->role, t->name, t->org, t->days, t->uses, &err) != 0) {
    web_error(r, 400, "%s", err.msg);
    return 0;
  }
  return 1;
}

void web_route_invites(const web_call_t *call, web_reply_t *r) {
  char code[CAIRN_INVITE_TEXT_MAX];
  uint8_t key[CAIRN_KEY_BYTES];
  cairn_error_t err = {0, ""};
  json_t *obj, *row = NULL;
  terms_t t;
  int rc;
  if (web_unknown_param(call, NULL, r) || (obj = web_body_object(call, r)) == NULL)
    return;
  if (!terms_of(obj, &t, r))
    goto done;
  rc = cairn_invite(call->store, t.role, t.name, t.org, (unsigned)t.days, (unsigned)t.uses,
                    code, sizeof code, &err);
  if (rc != 0) {
    /* no relay set is the store's state, not the request's fault */
    web_fail(r, rc == CAIRN_ENOENT ? CAIRN_ENONETWORK : rc, &err, "cannot make the invite");
    goto done;
  }
  if ((rc = cairn_invite_key(code, key, &err)) != 0 || (row = member_row(call->store, key)) == NULL ||
      json_object_set_new(row, "code", json_string(code)) != 0) {
    web_error(r, 500, "the invite was made, but cannot be read back");
    goto done;
  }
  web_reply_json(r, 201, json_incref(row));
done:
  json_decref(row);
  json_decref(obj);
}

/* ---- revoke ---- */

void web_route_revoke(const web_call_t *call, const char *hex, web_reply_t *r) {
  cairn_error_t err = {0, ""};
  uint8_t key[CAIRN_KEY_BYTES];
  json_t *row;
  int rc;
  if (web_unknown_param(call, NULL, r))
    return;
  if (cairn_unhex(hex, key, CAIRN_KEY_BYTES) != 0) {
    web_error(r, 400, "'%s' is not a device key (64 hex characters, as printed by `cairn id`)",
              hex);
    return;
  }
  if ((rc = cairn_revoke(call->store, key, &err)) != 0) {
    web_fail(r, rc, &err, "the change was not saved");
    return;
  }
  row = member_row(call->store, key);
  web_reply_json(r, 200, row);
}
