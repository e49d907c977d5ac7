/* main.c: the irv2 command-line tool: `irv2 COMMAND [options]` dispatched through the command
 * table (commands.c), `irv2 help [COMMAND]`, `irv2 --version`, and the errors every command
 * prints the same way. */
#include "multidev.h"
#include "opt.h"
#include "ranks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IRV2_GIT_COMMIT
#define IRV2_GIT_COMMIT "unknown"
#endif

const char *cli_commit(void) { return IRV2_GIT_COMMIT; }

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("irv2: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_fail(irv2_status st, const char *context)
{
    const char *msg = irv2_last_error();
    if (context && *context)
        cli_error("%s: %s", context, *msg ? msg : irv2_status_string(st));
    else
        cli_error("%s", *msg ? msg : irv2_status_string(st));
    return CLI_EXIT_FAILURE;
}

/* `irv2 help [COMMAND | --man]` (`irv2 help --help` is the main help too) */
static int help(int argc, char **argv)
{
    if (argc < 2 || (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))) {
        cli_help_main(stdout);
        return CLI_EXIT_OK;
    }
    if (argc > 2) {
        cli_error("help: expected one command, got '%s' and more (see 'irv2 --help')", argv[1]);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--man") == 0) {
        cli_man_page(stdout);
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = cli_find_command(argv[1]);
    if (!cmd) {
        cli_error("help: no command '%s' (see 'irv2 --help')", argv[1]);
        return CLI_EXIT_USAGE;
    }
    cli_help_command(cmd, stdout);
    return CLI_EXIT_OK;
}

/* A command that does not share its work among MPI ranks refuses to run under several: the
 * line names the ones that do (cli_command.shares_ranks). */
static int refuse_ranks(const cli_command *cmd)
{
    char names[256] = "";
    size_t n = 0, total = 0;
    for (const cli_command *c = cli_commands; c->name; c++) total += c->shares_ranks != 0;
    for (const cli_command *c = cli_commands; c->name; c++) {
        if (!c->shares_ranks) continue;
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s",
                 n == 0 ? "" : n + 1 == total ? " and " : ", ", c->name);
        n++;
    }
    if (cli_world.rank == 0)
        cli_error("%s: does not share its work among MPI ranks (%s do): run it as one process",
                  cmd->name, names);
    return CLI_EXIT_USAGE;
}

/* A command that opens devices has its device list (--device, else IRV2_DEVICE) checked
 * before any work, so that a malformed one is a usage error whatever the command. Under MPI
 * every rank stops when one's list names no device there. */
static int check_devices(const cli_command *cmd, const cli_args *a)
{
    const cli_option *o = cmd->options;
    while (o->name && !(o->kind == OPT_STRING && o->offset == offsetof(cli_args, context.device)))
        o++;
    if (!o->name) return 0;
    size_t n = 0;
    int rc = cli_device_specs(a, NULL, 0, &n);
    if (cli_mpi_all(rc == 0)) return 0;
    if (rc == 0 && cli_world.rank == 0)
        cli_error("%s: another MPI rank's device list names no device there", cmd->name);
    return rc ? rc : CLI_EXIT_FAILURE;
}

static int run_main(int argc, char **argv)
{
    if (argc < 2) {
        cli_help_main(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0)
        return help(argc - 1, argv + 1);
    if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
        printf("irv2 %s\n", irv2_version());
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = cli_find_command(name);
    if (!cmd) {
        if (name[0] == '-') cli_error("unknown option '%s' (see 'irv2 --help')", name);
        else cli_error("unknown command '%s' (see 'irv2 --help')", name);
        return CLI_EXIT_USAGE;
    }
    cli_args a;
    int rc = cli_parse(cmd, argc - 1, argv + 1, &a);
    if (rc == -1) { /* --help */
        free(a.operands);
        return CLI_EXIT_OK;
    }
    if (rc == 0 && cmd->environment) cli_check_cache_dir(&a);
    if (rc == 0 && cli_world.size > 1 && !cmd->shares_ranks) rc = refuse_ranks(cmd);
    if (rc == 0) rc = check_devices(cmd, &a);
    if (rc == 0) rc = cmd->run(&a);
    free(a.operands);
    return rc;
}

int main(int argc, char **argv)
{
    /* Line by line even into a pipe or a file, so that a CI log shows each result as it comes
     * rather than everything at exit. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    cli_mpi_init(&argc, &argv);
    int rc = run_main(argc, argv);
    cli_mpi_finalize();
    return rc;
}
