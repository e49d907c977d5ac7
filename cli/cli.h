/* cli.h: the irv2 command-line tool's subcommands and shared option helpers. */
#ifndef IRV2_CLI_H
#define IRV2_CLI_H

#include "irv2.h"

int cmd_devices(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_compile(int argc, char **argv);

/* Prints "irv2: <context>: <message>" for a failed status and returns 1. */
int cli_fail(irv2_status st, const char *context);
/* Parses a list of batch sizes like "1,8" (each 1 to 4096, at most cap) into out[0..*n);
 * returns 0 on success. */
int cli_parse_batches(const char *s, unsigned *out, int cap, int *n);
/* The options every command that loads a model takes: --gemm, --variant, and --binaries
 * (which sets IRV2_BINARIES, read when the context is created). Returns 1 when
 * option was one of them and value is valid, 0 when it is another option, -1 (after printing
 * the error) when value is invalid. */
int cli_model_option(const char *cmd, const char *option, const char *value,
                     irv2_model_options *opt);

#endif
