/*
 * device.c — the device and its network: `init`, `id`, `network create`
 * (docs/cli.md, "Device and network"). A store holds one device key and, once it has
 * created or joined one, one network.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const init_opts[] = {"name=", NULL};

int cmd_init(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  char hex[2 * CAIRN_KEY_BYTES + 1];
  const char *name;
  int rc = cli_args_parse(cli, argc, argv, init_opts, 0, 0, &a);
  if (rc != 0)
    return rc;
  name = cli_opt(&a, "name");
  cli_args_free(&a);
  if (name == NULL)
    return cli_usage(cli, "--name is required");
  if (name[0] == '\0')
    return cli_usage(cli, "the name is empty");
  rc = cairn_create(cli->store_dir, name, NULL, &cli->store, &err);
  if (rc == CAIRN_EEXIST)
    return cli_fail(cli, "%s already holds a store; use another --store DIR (or CAIRN_STORE)",
                    cli->store_dir);
  if (rc != 0) {
    cli->store = NULL;
    return cli_fail_rc(cli, rc, &err, "cannot create the store");
  }
  printf("%s\n", cairn_hex(cairn_store_key(cli->store), CAIRN_KEY_BYTES, hex));
  return 0;
}

int cmd_id(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  char hex[2 * CAIRN_KEY_BYTES + 1];
  int rc = cli_args_parse(cli, argc, argv, NULL, 0, 0, &a);
  if (rc != 0)
    return rc;
  cli_args_free(&a);
  if ((rc = cli_open(cli)) != 0)
    return rc;
  printf("%s\n", cairn_hex(cairn_store_key(cli->store), CAIRN_KEY_BYTES, hex));
  return 0;
}

int cmd_network_create(cli_t *cli, int argc, char **argv) {
  cli_args_t a;
  cairn_error_t err = {0, ""};
  uint8_t net[CAIRN_KEY_BYTES];
  char hex[2 * CAIRN_KEY_BYTES + 1];
  const char *title, *schema;
  static const char *const opts[] = {"schema=", NULL};
  int rc = cli_args_parse(cli, argc, argv, opts, 1, 1, &a);
  if (rc != 0)
    return rc;
  title = a.pos[0];
  schema = cli_opt(&a, "schema");
  cli_args_free(&a);
  if (title[0] == '\0')
    return cli_usage(cli, "the title is empty");
  if ((rc = cli_network_schema_check(cli, schema)) != 0 || (rc = cli_open(cli)) != 0)
    return rc;
  rc = cairn_store_network_create(cli->store, title, net, &err);
  if (rc == 0 && (rc = cli_network_schema(cli, schema)) != 0)
    return rc;
  if (rc == CAIRN_EHASNETWORK)
    return cli_fail(cli, "this store already belongs to a network (one store holds one "
                         "network: use another --store DIR)");
  if (rc != 0)
    return cli_fail_rc(cli, rc, &err, "cannot create the network");
  printf("%s\n", cairn_hex(net, CAIRN_KEY_BYTES, hex));
  return 0;
}
