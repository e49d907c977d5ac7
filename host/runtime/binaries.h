/* binaries.h: a folder of program binaries compiled ahead of time for one device (`irv2
 * compile`, irv2_context_save_binaries), and a context that takes its programs from one
 * (irv2_context_load_binaries, IRV2_BINARIES) instead of compiling them.
 *
 * The folder holds one file per program and manifest.json: the format, irv2's version, the
 * device (name, vendor, driver, OpenCL version, platform), the kernel set (IRV2_KERNELS), the
 * batch sizes compiled, each program's cl/ file, build options, source hash, binary file,
 * size and hash, and the kernel choices the plans made (the tuner's keys and values). */
#ifndef IRV2_BINARIES_H
#define IRV2_BINARIES_H

#include "runtime/context.h"

#define BINARIES_FORMAT "irv2-binaries-1"
#define MANIFEST "manifest.json"
/* The manifest's names of the kernel sets (ctx_kernels). */
extern const char *const binaries_kernel_sets[KERNELS_COMPACT + 1];

/* irv2_context_load_binaries($IRV2_BINARIES) when that is set and not empty. */
irv2_status binaries_from_env(irv2_context *ctx);
void binaries_free(binaries *b);

/* The program of cl/<file> built with options (as ctx_program got them; build_options is
 * what the compiler got), from the context's folder: fails naming the program when the folder
 * lacks it, it was compiled from another source (src is today's), its file is missing or
 * damaged, or the device rejects it. */
irv2_status binaries_program(irv2_context *ctx, const char *file, const char *options,
                             const char *build_options, const char *src, cl_program *out);

/* The kernel choice the folder records for a tuner key, or NULL. */
const char *binaries_choice(const binaries *b, const char *key);

#endif
