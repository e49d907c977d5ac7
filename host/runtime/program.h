/* program.h: the embedded cl/ sources built into programs and kernels, one program per
 * (file, -D options), kept in the context and as device binaries in the on-disk cache. */
#ifndef IRV2_PROGRAM_H
#define IRV2_PROGRAM_H

#include "runtime/binaries.h"

/* The program built from the embedded cl/<file> with the given -D options (cached). */
irv2_status ctx_program(irv2_context *ctx, const char *file, const char *options,
                        cl_program *out);
/* A new kernel from that program; the caller releases it. */
irv2_status ctx_kernel(irv2_context *ctx, const char *file, const char *options,
                       const char *kernel_name, cl_kernel *out);

/* Writes the binaries of the programs u lists (a model's plans', not the candidates only the
 * tuner timed) that are not in the on-disk cache yet, calling saved (if not NULL) after each;
 * ctx_unsaved_binaries counts them. PoCL's binaries hold only the kernel variants launched so
 * far, so this runs after a first full run; making one compiles every kernel of the program
 * once more, which on a CPU takes seconds each. */
size_t ctx_unsaved_binaries(const irv2_context *ctx, const binaries_usage *u);
void ctx_save_binaries(irv2_context *ctx, const binaries_usage *u,
                       void (*saved)(void *user, const char *file), void *user);

/* The device binary of a built program (malloc'ed into *bin, *size bytes). */
irv2_status program_binary(irv2_context *ctx, cl_program prog, unsigned char **bin,
                           size_t *size);

/* The line of a build log (NULL: empty) that says what failed, copied into buf (cap bytes):
 * the first line mentioning an error, else the first non-empty line. */
const char *build_log_headline(const char *log, char *buf, size_t cap);

/* The embedded source of cl/<file>, NULL if there is none. */
const char *cl_source(const char *file);

#endif
