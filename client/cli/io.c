/*
 * io.c — `cairn import` and `cairn export` (docs/cli.md, "Import and
 * export"). The library does the work (cairn_import_file, cairn_export_file);
 * this file parses the command line and prints: each error of an import on a
 * line of its own, `cairn: line 14, column status: ...`, then what was done.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- import ---- */

typedef struct import_ctx {
  cli_t *cli;
} import_ctx_t;

static void print_error(const cairn_import_error_t *e, void *ud) {
  import_ctx_t *c = ud;
  cli_fail(c->cli, "%s", e->text);
}

static const char *plural(size_t n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

/* `imported 12 partner records (10 new, 2 updated) in 1 entry` */
static void print_imported(const char *type, const cairn_import_result_t *r, int dry_run) {
  printf("%s %zu %s %s (%zu new, %zu updated", dry_run ? "would import" : "imported", r->rows,
         type, plural(r->rows, "record", "records"), r->created, r->updated);
  if (r->unchanged > 0)
    printf(", %zu unchanged", r->unchanged);
  printf(")");
  if (r->entries > 0)
    printf(" in %zu %s", r->entries, plural(r->entries, "entry", "entries"));
  if (dry_run)
    printf("; nothing was written (--dry-run)");
  putchar('\n');
}

static const char *const import_opts[] = {"id-column=", "dry-run", NULL};

int cmd_import(cli_t *cli, int argc, char **argv) {
  cairn_import_opts_t opts = {NULL, 0, 0};
  cairn_import_result_t res;
  cairn_error_t err = {0, ""};
  cairn_format_t fmt;
  import_ctx_t ctx = {cli};
  cli_args_t a;
  int rc = cli_args_parse(cli, argc, argv, import_opts, 2, 2, &a);
  if (rc != 0)
    return rc;
  opts.id_column = cli_opt(&a, "id-column");
  opts.dry_run = cli_flag(&a, "dry-run");
  if ((rc = cli_check_name(cli, "record type", a.pos[0], CAIRN_TYPE_MAX)) != 0)
    goto done;
  if (cairn_format_of(a.pos[1], &fmt, &err) != 0) {
    rc = cli_usage(cli, "%s", err.msg);
    goto done;
  }
  if (fmt == CAIRN_FORMAT_XLSX) {
    rc = cli_usage(cli, "import reads .csv or .json files: save the workbook as CSV (UTF-8) "
                        "and import that");
    goto done;
  }
  if ((rc = cli_open(cli)) != 0)
    goto done;
  rc = cairn_import_file(cli->store, a.pos[0], a.pos[1], &opts, print_error, &ctx, &res, &err);
  if (rc == 0) {
    print_imported(a.pos[0], &res, opts.dry_run);
  } else if (res.errors > CAIRN_IMPORT_ERRORS_MAX) {
    rc = cli_fail(cli, "%zu errors in %s (the first %d above); nothing was imported", res.errors,
                  a.pos[1], CAIRN_IMPORT_ERRORS_MAX);
  } else if (res.errors > 0) {
    rc = cli_fail(cli, "%zu %s in %s; nothing was imported", res.errors,
                  plural(res.errors, "error", "errors"), a.pos[1]);
  } else {
    rc = cli_fail_rc(cli, rc, &err, "cannot import");
  }
done:
  cli_args_free(&a);
  return rc;
}

/* ---- export ---- */

static const char *const export_opts[] = {"all", NULL};

int cmd_export(cli_t *cli, int argc, char **argv) {
  cairn_export_result_t res;
  cairn_error_t err = {0, ""};
  cairn_format_t fmt;
  cli_args_t a;
  const char *type, *path;
  int rc = cli_args_parse(cli, argc, argv, export_opts, 1, 2, &a);
  if (rc != 0)
    return rc;
  int all = cli_flag(&a, "all");
  type = all ? NULL : a.pos[0];
  path = a.pos[a.npos - 1];
  if (all != (a.npos == 1)) {
    rc = cli_usage(cli, all ? "--all takes no TYPE" : "name a TYPE and a FILE, or --all FILE");
    goto done;
  }
  if (!all && (rc = cli_check_name(cli, "record type", type, CAIRN_TYPE_MAX)) != 0)
    goto done;
  if (cairn_format_of(path, &fmt, &err) != 0) {
    rc = cli_usage(cli, "%s", err.msg);
    goto done;
  }
  if (all && fmt == CAIRN_FORMAT_CSV) {
    rc = cli_usage(cli, "a CSV file holds one type: export every type to a .json or .xlsx file, "
                        "or one TYPE to .csv");
    goto done;
  }
  if ((rc = cli_open(cli)) != 0)
    goto done;
  if ((rc = cairn_export_file(cli->store, type, path, &res, &err)) != 0) {
    rc = cli_fail_rc(cli, rc, &err, "cannot export");
    goto done;
  }
  if (all)
    printf("exported %zu %s of %zu %s to %s\n", res.records,
           plural(res.records, "record", "records"), res.types,
           plural(res.types, "type", "types"), path);
  else
    printf("exported %zu %s %s to %s\n", res.records, type,
           plural(res.records, "record", "records"), path);
done:
  cli_args_free(&a);
  return rc;
}
