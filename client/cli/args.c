/*
 * args.c — a command's arguments: positionals and `--options`, in any order
 * (`cairn list commitment --json --where partner=p1`), and the checks of names
 * and keys that can be made before the store is touched. Mistakes here are
 * usage errors (exit 2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The entry of allowed matching "--name" (n bytes); *takes_value set. */
static const char *find_allowed(const char *const *allowed, const char *name, size_t n,
                                int *takes_value) {
  for (; allowed != NULL && *allowed != NULL; allowed++) {
    size_t len = strlen(*allowed);
    int tv = len > 0 && (*allowed)[len - 1] == '=';
    if (len - (size_t)tv == n && memcmp(*allowed, name, n) == 0) {
      *takes_value = tv;
      return *allowed;
    }
  }
  return NULL;
}

/* Whether arg is a one-letter option allowed here ("-o" for "o="). */
static int short_opt(const char *arg, const char *const *allowed) {
  int tv;
  return arg[0] == '-' && arg[1] != '\0' && arg[1] != '-' && arg[2] == '\0' &&
         find_allowed(allowed, arg + 1, 1, &tv) != NULL;
}

/* Parse one option at argv[*i]; advances *i past its value. */
static int parse_opt(cli_t *cli, int argc, char **argv, int *i, const char *const *allowed,
                     cli_opt_t *out) {
  /* "--name" or, for a one-letter option such as "-o", "-o" */
  const char *arg = argv[*i] + (argv[*i][1] == '-' ? 2 : 1), *eq = strchr(arg, '=');
  size_t n = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
  int takes_value = 0;
  const char *spec = find_allowed(allowed, arg, n, &takes_value);
  if (spec == NULL)
    return cli_usage(cli, "unknown option '%.*s'", (int)(n + 2), argv[*i]);
  out->name = spec;
  out->value = NULL;
  if (!takes_value) {
    if (eq != NULL)
      return cli_usage(cli, "option %s%.*s takes no value", arg - argv[*i] == 2 ? "--" : "-",
                       (int)n, arg);
    return 0;
  }
  if (eq != NULL) {
    out->value = eq + 1;
  } else if (*i + 1 < argc) {
    out->value = argv[++*i];
  } else {
    return cli_usage(cli, "option %s%.*s needs a value", arg - argv[*i] == 2 ? "--" : "-",
                     (int)n, arg);
  }
  return 0;
}

/*
 * The name of positional argument i in a usage string ("ID" for i = 1 in "TYPE ID
 * FIELD=VALUE..."): words in brackets and options with their values are skipped.
 * Written to out (size n); "arguments" when the usage does not say.
 */
static void positional_name(const char *usage, int i, char *out, size_t n) {
  int depth = 0, skip_value = 0;
  snprintf(out, n, "arguments");
  for (const char *p = usage; *p != '\0';) {
    size_t len = strcspn(p, " ");
    int opens = p[0] == '[', closes = len > 0 && p[len - 1] == ']';
    if (opens || depth > 0) {
      depth += opens - closes;
    } else if (p[0] == '-') {
      skip_value = 1;
    } else if (skip_value) {
      skip_value = 0;
    } else if (i-- == 0) {
      if (len > 3 && strncmp(p + len - 3, "...", 3) == 0)
        len -= 3;
      snprintf(out, n, "%.*s", (int)len, p);
      return;
    }
    p += len;
    p += strspn(p, " ");
  }
}

int cli_args_parse(cli_t *cli, int argc, char **argv, const char *const *allowed, int min_pos,
                   int max_pos, cli_args_t *a) {
  int rc, options = 1;
  memset(a, 0, sizeof *a);
  a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
  a->opt = calloc((size_t)argc + 1, sizeof *a->opt);
  if (a->pos == NULL || a->opt == NULL) {
    cli_args_free(a);
    return cli_fail(cli, "out of memory");
  }
  for (int i = 0; i < argc; i++) {
    if (options && strcmp(argv[i], "--") == 0) {
      options = 0;
    } else if (options && (strncmp(argv[i], "--", 2) == 0 || short_opt(argv[i], allowed))) {
      if ((rc = parse_opt(cli, argc, argv, &i, allowed, &a->opt[a->nopt])) != 0) {
        cli_args_free(a);
        return rc;
      }
      a->nopt++;
    } else {
      a->pos[a->npos++] = argv[i];
    }
  }
  if (a->npos < min_pos || (max_pos >= 0 && a->npos > max_pos)) {
    char name[64];
    positional_name(cli->cmd != NULL ? cli->cmd->usage : "", a->npos, name, sizeof name);
    rc = a->npos < min_pos ? cli_usage(cli, "missing %s", name)
                           : cli_usage(cli, "unexpected argument '%s'", a->pos[max_pos]);
    cli_args_free(a);
    return rc;
  }
  return 0;
}

void cli_args_free(cli_args_t *a) {
  free(a->pos);
  free(a->opt);
  memset(a, 0, sizeof *a);
}

/* Whether an option entry (spec, possibly ending in '=') is called name. */
static int opt_is(const cli_opt_t *o, const char *name) {
  size_t n = strlen(name);
  return strncmp(o->name, name, n) == 0 && (o->name[n] == '\0' || o->name[n] == '=');
}

int cli_flag(const cli_args_t *a, const char *name) {
  for (int i = 0; i < a->nopt; i++)
    if (opt_is(&a->opt[i], name))
      return 1;
  return 0;
}

const char *cli_opt(const cli_args_t *a, const char *name) {
  const char *v = NULL;
  for (int i = 0; i < a->nopt; i++)
    if (opt_is(&a->opt[i], name))
      v = a->opt[i].value;
  return v;
}

int cli_opt_number(cli_t *cli, const cli_args_t *a, const char *name, unsigned long min,
                   unsigned long max, unsigned long def, unsigned long *out) {
  const char *v = cli_opt(a, name);
  char *end;
  *out = def;
  if (v == NULL)
    return 0;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (*v < '0' || *v > '9' || *end != '\0' || errno != 0 || n < min || n > max)
    return cli_usage(cli, "--%s takes a whole number from %lu to %lu", name, min, max);
  *out = n;
  return 0;
}

int cli_check_name(cli_t *cli, const char *what, const char *s, size_t max) {
  size_t n = strlen(s);
  if (n == 0)
    return cli_usage(cli, "the %s is empty", what);
  if (n > max)
    return cli_usage(cli, "the %s is longer than %zu bytes", what, max);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return cli_usage(cli, "the %s contains a control character", what);
  return 0;
}

int cli_parse_key(cli_t *cli, const char *hex, uint8_t key[CAIRN_KEY_BYTES]) {
  if (cairn_unhex(hex, key, CAIRN_KEY_BYTES) != 0)
    return cli_usage(cli, "'%s' is not a device key (64 hex characters, as printed by "
                          "`cairn id`)", hex);
  return 0;
}
