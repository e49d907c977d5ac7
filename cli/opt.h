/* opt.h: the table every subcommand's options are declared in, and what is made from it: the
 * parser (--opt value, --opt=value, -o value, -ovalue, -- before operands), each command's
 * --help, `irv2 --help` and the irv2(1) man page. */
#ifndef IRV2_CLI_OPT_H
#define IRV2_CLI_OPT_H

#include "cli.h"

#include <stddef.h>
#include <stdio.h>

typedef enum cli_opt_kind {
    OPT_FLAG,       /* int field set to 1; takes no value */
    OPT_STRING,     /* const char * field */
    OPT_COUNT,      /* unsigned field, min..max */
    OPT_SECONDS,    /* double field, 0..max seconds */
    OPT_CHOICE,     /* int (or enum) field, one of choices */
    OPT_SETTING,    /* int (or enum) field of a library setting, parsed by the library */
    OPT_BATCHES,    /* batches / nbatches: a list like 1,8 */
    OPT_HELP        /* -h, --help */
} cli_opt_kind;

typedef struct cli_choice {
    const char *name;
    int value;
    int hidden;     /* accepted, not listed (an alias such as "0" for "off") */
} cli_choice;

/* A library setting's parser and its values' names (irv2.h "Settings"), values 0..count-1. */
typedef struct cli_setting {
    irv2_status (*parse)(const char *text, int *out);
    const char *(*name)(int value);
    int count;
} cli_setting;

typedef struct cli_option {
    const char *name;        /* long name, without "--" */
    char letter;             /* short name, or 0 */
    cli_opt_kind kind;
    size_t offset;           /* the field of cli_args */
    const char *metavar;     /* the value's name in the help */
    const char *def;         /* the default, applied as if given (NULL: the field's zero) */
    const char *def_doc;     /* the default as the help words it, where def cannot say it */
    unsigned min, max;       /* OPT_COUNT's range */
    const cli_choice *choices; /* OPT_CHOICE: ends with a NULL name */
    const cli_setting *setting; /* OPT_SETTING */
    int required;
    const char *help;
} cli_option;

typedef struct cli_command {
    const char *name;
    const char *summary;     /* one line for `irv2 --help` */
    const char *synopsis;    /* after "irv2 NAME " */
    const char *description; /* paragraphs separated by "\n\n" */
    const cli_option *options; /* ends with a NULL name */
    const char *operands;    /* "IMAGE..." or NULL when the command takes none */
    const char *operands_noun; /* "images", for the message when none is given */
    size_t min_operands;
    int environment;         /* reads the model's environment variables */
    int shares_ranks;        /* under mpirun, shares its work among the ranks (cli/ranks.h);
                                the others refuse to run as more than one process */
    const char *examples;    /* lines separated by "\n" */
    int (*run)(cli_args *a);
} cli_command;

/* Every subcommand, in the order help lists them; ends with a NULL name. */
extern const cli_command cli_commands[];

/* Finds a subcommand by name; NULL when there is none. */
const cli_command *cli_find_command(const char *name);

/* Parses argv[1..argc) of cmd (argv[0] is its name) into a (zeroed first, then the defaults
 * applied). Returns 0 to run the command, CLI_EXIT_USAGE after printing a usage error, or
 * -1 when --help was asked for and printed (the command then exits 0). */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a);

/* One command's help (usage, description, options with defaults, environment, exit status). */
void cli_help_command(const cli_command *cmd, FILE *f);
/* `irv2 --help`: the commands, the global options, the environment and the exit statuses. */
void cli_help_main(FILE *f);
/* The irv2(1) man page in roff, from the same tables. */
void cli_man_page(FILE *f);

#endif
