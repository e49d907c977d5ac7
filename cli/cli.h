/* cli.h: the irv2 command-line tool: the parsed arguments every subcommand reads, the
 * subcommands, and the helpers they share (errors, model loading, output checks, progress). */
#ifndef IRV2_CLI_H
#define IRV2_CLI_H

#include "irv2.h"

#include <stddef.h>
#include <stdio.h>

#define CLI_MAX_BATCHES 16

/* Exit statuses (documented in every --help and in irv2(1)). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAILURE = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_REDONE = 3 };

/* Every option of every subcommand: one command's table (opt.h) names the fields it fills;
 * the others keep their zero value. */
typedef struct cli_args {
    const char *command;                /* "run", "bench", ... */
    /* the model */
    const char *weights;
    irv2_context_options context;       /* the settings: the library's defaults, then the */
    irv2_model_options model;           /* environment, then the options given; device is a */
                                        /* device list (irv2_device_list) for every command */
    int device_given;                   /* --device set context.device (else IRV2_DEVICE did) */
    int exact, quiet;
    /* run */
    const char *input, *output;
    int softmax;
    /* bench, compile */
    unsigned batches[CLI_MAX_BATCHES];
    int nbatches;
    unsigned iters, warmup;
    double min_time;
    int peak, cold, layers, format;
    const char *json_path;
    /* compile */
    const char *out;
    /* classify, eval */
    const char *labels, *data, *results_file;
    unsigned top, batch, crops, limit;
    int json;
    /* export-synthetic */
    unsigned seed, classes;
    int dtype;
    /* operands (classify's images) */
    const char **operands;
    size_t noperands;
} cli_args;

/* bench --format */
enum { CLI_FORMAT_TABLE, CLI_FORMAT_MD, CLI_FORMAT_CSV, CLI_FORMAT_JSON, CLI_FORMAT_JSONL };

int cmd_devices(cli_args *a);
int cmd_run(cli_args *a);
int cmd_bench(cli_args *a);
int cmd_classify(cli_args *a);
int cmd_eval(cli_args *a);
int cmd_compile(cli_args *a);
int cmd_preprocess(cli_args *a);
int cmd_export_synthetic(cli_args *a);

/* irv2's version and the git commit the CLI was built from ("unknown" outside a git tree). */
const char *cli_commit(void);

/* Prints "irv2: <context>: <message>" (the library's last error, else the status's name) and
 * returns CLI_EXIT_FAILURE. */
int cli_fail(irv2_status st, const char *context);
/* Prints "irv2: <formatted>" as one line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Warns when the cache folder given (--cache-dir or IRV2_CACHE_DIR) cannot be written:
 * nothing is cached then, which only costs time. */
void cli_check_cache_dir(const cli_args *a);

/* Creates the context and loads the model with the arguments' device, weights and options
 * (progress on stderr unless --quiet). On failure prints one line (with a hint when the file
 * given is of another kind, and the build log for a build failure), frees what was made and
 * returns CLI_EXIT_FAILURE; 0 on success. */
int cli_open_model(const cli_args *a, irv2_context **ctx, irv2_model **model);
/* The same failure report for a status from a later call on the model (a run). */
int cli_fail_model(irv2_status st, const irv2_context *ctx);

/* s as a CSV field (RFC 4180): quoted, quotes doubled, when it holds a comma, a quote or a
 * line break. */
void cli_csv_field(FILE *f, const char *s);

/* An output file's path is usable before any device work: its folder exists and is writable
 * and the path is not a folder. Prints the error and returns -1 otherwise. */
int cli_check_output(const char *command, const char *option, const char *path);

/* What kind of file path holds, from its first bytes, when it is one irv2 knows ("a JPEG
 * image", "a .npy array", "a safetensors checkpoint", "a folder"), else NULL. */
const char *cli_file_kind(const char *path);

/* Model-building progress (tuning, compiling) on stderr: one updating line on a terminal,
 * else a line every few seconds and the last of each stage. */
void cli_progress(void *user, const irv2_progress *p);

/* s (a file name, a label) as valid UTF-8 for JSON, malloc'ed: bytes that are not part of a
 * UTF-8 sequence become U+FFFD, and *lossy (if not NULL) says whether any did. NULL when out
 * of memory. */
char *cli_utf8(const char *s, int *lossy);
/* The bytes of s in base64 (RFC 4648), malloc'ed; NULL when out of memory. */
char *cli_base64(const char *s);

#endif
