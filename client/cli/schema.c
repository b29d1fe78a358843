/*
 * schema.c — the schema commands: `schema [TYPE]`, `schema apply FILE.json`,
 * `check` (docs/cli.md, "Schema, import and export"), and the schema a new
 * network starts with (`network create --schema`).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A whole file as NUL-terminated text (malloc'd), or NULL after printing. */
char *cli_read_file(cli_t *cli, const char *path, size_t max) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;
  if (f == NULL) {
    cli_fail(cli, "cannot open %s: %s", path, strerror(errno));
    return NULL;
  }
  for (;;) {
    if (n + 4096 + 1 > cap) {
      char *nb = cap + 8192 > max + 1 ? NULL : realloc(buf, cap + 8192);
      if (nb == NULL) {
        cli_fail(cli, "%s is larger than %zu bytes", path, max);
        break;
      }
      buf = nb;
      cap += 8192;
    }
    size_t got = fread(buf + n, 1, 4096, f);
    n += got;
    if (got < 4096) {
      if (ferror(f)) {
        cli_fail(cli, "cannot read %s: %s", path, strerror(errno));
        break;
      }
      buf[n] = 0;
      fclose(f);
      return buf;
    }
  }
  free(buf);
  fclose(f);
  return NULL;
}

/* ---- cairn schema [TYPE] ---- */

static void print_field(const cairn_schema_field_t *f) {
  printf("  %-18s %-8s", f->name, cairn_kind_name(f->kind));
  if (f->ref[0])
    printf(" -> %s", f->ref);
  if (f->required)
    printf("  required");
  if (f->nvalues) {
    printf("  (");
    for (size_t i = 0; i < f->nvalues; i++)
      printf("%s%s", i ? ", " : "", f->values[i]);
    printf(")");
  }
  if (f->unit[0])
    printf("  unit: %s", f->unit);
  if (f->label[0] && strcmp(f->label, f->name) != 0)
    printf("  \"%s\"", f->label);
  if (f->naliases) {
    printf("  formerly ");
    for (size_t i = 0; i < f->naliases; i++)
      printf("%s%s", i ? ", " : "", f->aliases[i]);
  }
  putchar('\n');
}

static void print_type(const cairn_schema_type_t *t) {
  printf("%s", t->name);
  if (t->label[0])
    printf(" — %s", t->label);
  if (t->help[0])
    printf(": %s", t->help);
  putchar('\n');
  for (size_t i = 0; i < t->nfields; i++)
    if (!t->fields[i].hidden)
      print_field(&t->fields[i]);
}

/* A type the schema does not know: the usage-free error with a suggestion. */
static int no_type(cli_t *cli, const cairn_schema_t *sc, const char *type) {
  const char **names = calloc(sc->ntypes + 1, sizeof *names);
  const char *near;
  if (names == NULL)
    return cli_fail(cli, "out of memory");
  for (size_t i = 0; i < sc->ntypes; i++)
    names[i] = sc->types[i].name;
  near = cairn_suggest(type, names, sc->ntypes);
  free(names);
  if (near != NULL)
    return cli_fail(cli, "no record type \"%s\" in this network's schema; did you mean %s?",
                    type, near);
  return cli_fail(cli, "no record type \"%s\" in this network's schema (`cairn schema` lists "
                       "them)", type);
}

static const char *const json_opt[] = {"json", NULL};

int cmd_schema(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_schema_t *sc = NULL;
  const char *type;
  int rc = cli_args_parse(cli, argc, argv, json_opt, 0, 1, &a);
  if (rc != 0)
    return rc;
  type = a.npos ? a.pos[0] : NULL;
  if ((rc = cli_open(cli)) != 0)
    goto done;
  if ((rc = cairn_schema_load(cli->store, &sc)) != 0) {
    rc = cli_fail_rc(cli, rc, NULL, "cannot read the schema");
    goto done;
  }
  if (type != NULL && cairn_schema_type(sc, type) == NULL) {
    rc = sc->ntypes ? no_type(cli, sc, type)
                    : cli_fail(cli, "this network has no schema: any type and field is accepted");
    goto done;
  }
  if (cli_flag(&a, "json")) {
    json_t *j = cairn_schema_to_json(sc, type);
    rc = j != NULL ? cli_print_json(cli, j) : cli_fail(cli, "out of memory");
    goto done;
  }
  if (sc->ntypes == 0)
    printf("this network has no schema: any type and field is accepted\n");
  for (size_t i = 0; i < sc->ntypes; i++)
    if ((type == NULL && !sc->types[i].hidden) ||
        (type != NULL && strcmp(type, sc->types[i].name) == 0)) {
      if (type == NULL && i > 0)
        putchar('\n');
      print_type(&sc->types[i]);
    }
done:
  cairn_schema_free(sc);
  cli_args_free(&a);
  return rc;
}

/* ---- cairn schema apply FILE.json ---- */

#define SCHEMA_FILE_MAX (4u << 20)

/* Apply a schema document; print what changed when print is set. */
int cli_schema_apply(cli_t *cli, const char *json, int print) {
  cairn_error_t err = {0, ""};
  cairn_schema_changes_t ch;
  int rc = cairn_schema_apply(cli->store, json, &ch, &err);
  if (rc != 0)
    return cli_fail_rc(cli, rc, &err, "cannot apply the schema");
  if (print)
    printf("types added %u, changed %u; fields added %u, changed %u, renamed %u, hidden %u\n",
           ch.types_added, ch.types_changed, ch.fields_added, ch.fields_changed, ch.renamed,
           ch.hidden);
  return 0;
}

int cmd_schema_apply(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  char *json = NULL;
  int rc = cli_args_parse(cli, argc, argv, NULL, 1, 1, &a);
  if (rc != 0)
    return rc;
  if ((json = cli_read_file(cli, a.pos[0], SCHEMA_FILE_MAX)) == NULL)
    rc = CLI_FAIL;
  else if ((rc = cli_open(cli)) == 0)
    rc = cli_schema_apply(cli, json, 1);
  free(json);
  cli_args_free(&a);
  return rc;
}

/* ---- cairn check ---- */

typedef struct check_ctx {
  int json;
  size_t count;
  json_t *out;
} check_ctx_t;

static int one_problem(const cairn_record_t *r, const char *field, const char *why, void *ud) {
  check_ctx_t *c = ud;
  c->count++;
  if (!c->json) {
    printf("%s\n", why);
    return 0;
  }
  json_t *o = json_object();
  if (o == NULL || json_object_set_new(o, "_type", cli_json_str(r->type, r->type_len)) != 0 ||
      json_object_set_new(o, "_id", cli_json_str(r->id, r->id_len)) != 0 ||
      json_object_set_new(o, "field", field ? json_string(field) : json_null()) != 0 ||
      json_object_set_new(o, "problem", json_string(why)) != 0 ||
      json_array_append_new(c->out, o) != 0)
    return 1;
  return 0;
}

int cmd_check(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  check_ctx_t c = {0, 0, NULL};
  int rc = cli_args_parse(cli, argc, argv, json_opt, 0, 0, &a);
  if (rc != 0)
    return rc;
  c.json = cli_flag(&a, "json");
  cli_args_free(&a);
  if ((rc = cli_open(cli)) != 0)
    return rc;
  if (c.json && (c.out = json_array()) == NULL)
    return cli_fail(cli, "out of memory");
  if ((rc = cairn_schema_check(cli->store, one_problem, &c)) != 0) {
    json_decref(c.out);
    return cli_fail_rc(cli, rc, NULL, "cannot check the records");
  }
  if (c.json && (rc = cli_print_json(cli, c.out)) != 0)
    return rc;
  if (c.count > 0)
    return cli_fail(cli, "%zu problem%s: records that break the schema (written by a device "
                         "behind on the schema, or before a change); fix them with `cairn put`",
                    c.count, c.count == 1 ? "" : "s");
  if (!c.json)
    printf("every record fits the schema\n");
  return 0;
}

/* ---- the schema of a new network ---- */

/* The document `network create --schema WHICH` names: the default one for
 * NULL or collective-impact, none for none, else a file's text (malloc'd). 0
 * with *doc NULL for none, or the exit code after printing. */
static int network_doc(cli_t *cli, const char *which, char **doc) {
  *doc = NULL;
  if (which != NULL && strcmp(which, "none") == 0)
    return 0;
  if (which == NULL || strcmp(which, "collective-impact") == 0)
    *doc = strdup(cairn_schema_default());
  else if ((*doc = cli_read_file(cli, which, SCHEMA_FILE_MAX)) == NULL)
    return CLI_FAIL;
  return *doc != NULL ? 0 : cli_fail(cli, "out of memory");
}

int cli_network_schema_check(cli_t *cli, const char *which) {
  cairn_error_t err = {0, ""};
  char *doc;
  int rc = network_doc(cli, which, &doc);
  if (rc == 0 && doc != NULL && (rc = cairn_schema_apply(NULL, doc, NULL, &err)) != 0)
    rc = cli_fail_rc(cli, rc, &err, "cannot use the schema");
  free(doc);
  return rc;
}

int cli_network_schema(cli_t *cli, const char *which) {
  char *doc;
  int rc = network_doc(cli, which, &doc);
  if (rc == 0 && doc != NULL)
    rc = cli_schema_apply(cli, doc, 0);
  free(doc);
  return rc;
}
