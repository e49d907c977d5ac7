/* cli.h: the irv2 command-line tool's subcommands and shared option helpers. */
#ifndef IRV2_CLI_H
#define IRV2_CLI_H

#include "irv2.h"

int cmd_devices(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_eval(int argc, char **argv);

/* Prints "irv2: <context>: <message>" for a failed status and returns 1. */
int cli_fail(irv2_status st, const char *context);
/* Parses "clblast" | "native" into options; returns 0 on success. */
int cli_parse_gemm(const char *s, irv2_model_options *opt);
/* Parses "auto" | "seed" | "tf" into options; returns 0 on success. */
int cli_parse_variant(const char *s, irv2_model_options *opt);

#endif
