/* binaries.h: a folder of program binaries compiled ahead of time for one device (`irv2
 * compile`, irv2_model_save_binaries), and a context that takes its programs from one
 * (irv2_context_load_binaries, IRV2_BINARIES) instead of compiling them.
 *
 * The folder holds one file per program and manifest.json: the format, irv2's version, the
 * device (name, vendor, driver, OpenCL version, platform), the kernel set (IRV2_KERNELS), the
 * batch sizes compiled, each program's cl/ file, build options, source hash, binary file,
 * size and hash, and the kernel choices the plans made (the tuner's keys and values). */
#ifndef IRV2_BINARIES_H
#define IRV2_BINARIES_H

#include "runtime/context.h"
#include "runtime/table.h"

#define BINARIES_FORMAT "irv2-binaries-1"
#define MANIFEST "manifest.json"
/* The manifest's names of the kernel sets (ctx_kernels). */
extern const char *const binaries_kernel_sets[KERNELS_COMPACT + 1];

void binaries_free(binaries *b);

/* The program of cl/<file> built with options (as ctx_program got them; build_options is
 * what the compiler got), from the context's folder: fails naming the program when the folder
 * lacks it, it was compiled from another source (src is today's), its file is missing or
 * damaged, or the device rejects it. */
irv2_status binaries_program(irv2_context *ctx, const char *file, const char *options,
                             const char *build_options, const char *src, cl_program *out);

/* The kernel choice the folder records for a tuner key, or NULL. */
const char *binaries_choice(const binaries *b, const char *key);

/* What the plans of a model used, for irv2_model_save_binaries and the cache: the batch sizes
 * planned (the first 16), the kernel choices they made (tuner key -> form) and the programs
 * their launches take. Filled by plan_create; zero-initialised when empty. */
typedef struct binaries_usage {
    unsigned batches[16];
    size_t nbatches;
    table *choices;
    cl_program *programs;
    size_t nprograms, cap;
} binaries_usage;

irv2_status usage_add_batch(binaries_usage *u, unsigned batch);
irv2_status usage_add_choice(binaries_usage *u, const char *key, const char *form);
/* Adds the program of a kernel (nothing for NULL). */
irv2_status usage_add_kernel(irv2_context *ctx, binaries_usage *u, cl_kernel kernel);
void usage_free(binaries_usage *u);

/* Writes the binaries of the programs u lists (how many into *programs, if not NULL) and the
 * manifest, last and atomically, into dir (created if needed). */
irv2_status binaries_save(irv2_context *ctx, const binaries_usage *u, const char *dir,
                          unsigned *programs);

#endif
