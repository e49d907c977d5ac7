/* context.h: the internals of irv2_context (device, queue, compiled programs) and the
 * checked-OpenCL-call helpers every op uses. */
#ifndef IRV2_CONTEXT_H
#define IRV2_CONTEXT_H

#include "runtime/error.h"
#include "runtime/profile.h"
#include "irv2.h"

typedef struct program_entry {
    char *key;           /* file name + '\n' + build options */
    cl_program program;
    uint64_t hash;       /* of source, options, device, driver: names the cached binary */
    int saved;           /* its binary is in the on-disk cache */
} program_entry;

typedef struct table table;

/* The convolution kernel families a context uses (irv2_context_options.kernels): irv2's vector kernels with
 * one work-item per work-group (the CPU shape), or the work-group tiled family (the GPU shape,
 * cl/conv_wg.cl); pooling and the other small kernels follow. */
typedef enum ctx_kernels {
    KERNELS_VEC = 1,    /* vec */
    KERNELS_WG = 2,     /* wg */
    KERNELS_BOTH = 3,   /* auto on a GPU: both timed, wg by default */
    KERNELS_COMPACT = 6 /* compact: the work-group family as a compact kernel set,
                         * one program per cl/ file: shapes and epilogues are kernel
                         * arguments instead of -D flags, one tile (devices whose programs
                         * are compiled offline: see runtime/binaries.h) */
} ctx_kernels;
/* The bit that KERNELS_COMPACT adds to KERNELS_WG. */
#define KERNELS_COMPACT_BIT 4

typedef struct binaries binaries;

/* Record mode, for tools: where a context carries a recorder, op_kernel (ops/op.h) calls it
 * with the program a launch would build (its cl/ file, its -D options, the kernel's name)
 * instead of building it, and leaves the launch with no kernel (op_launch.kernel NULL): the
 * launchers then set up everything else as usual, without an OpenCL device. Such launches
 * are for listing, never for op_enqueue; op_release takes them. */
typedef void (*ctx_recorder)(void *user, const char *file, const char *options,
                             const char *kernel);

struct irv2_context {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    int profiling;              /* the queue was created with CL_QUEUE_PROFILING_ENABLE */
    irv2_device_info info;
    cl_int last_cl_error;
    char *build_log;
    char *cache_dir;            /* the on-disk cache folder, or NULL for none (cache.h) */
    irv2_progress_fn progress;  /* plan-building reports (irv2_context_options) */
    void *progress_user;
    program_entry *programs;
    size_t nprograms, programs_cap;
    table *choices;             /* kernel choices measured on this device (plan/tune.c) */
    char clblast_tuning[17];    /* hash of the CLBlast tuner results applied, or "" */
    int clblast_used;           /* a CLBlast routine ran on this context (irv2_context_free) */
    ctx_kernels kernels;        /* the families offered (ctx_kernels_choose) */
    device_profile profile;     /* the device, read once (ctx_read_profile) */
    binaries *binaries;         /* the folder programs come from (irv2_context_load_binaries) */
    size_t live_buffers;        /* made by ctx_buffer, not yet released by ctx_buffer_release */
    ctx_recorder record_program; /* set: record mode (below); NULL: programs are built */
    void *record_user;           /* passed to record_program */
    /* Tests only: 0, or 1 + a Winograd family (CONV_WINOGRAD, _1D, _2D): every conv
     * that has a form of it takes it, untimed, where the model's exclude bits allow
     * (plan/tune.c); winograd_forced counts the convs it was given to. */
    int winograd_everywhere;
    int winograd_refined; /* tests only: with winograd_everywhere, its first refinement in
                             the family where there is one (winograd1d: F(6, 3)) */
    unsigned winograd_forced;
};

/* Sets ctx->kernels from the setting and the device: auto is KERNELS_BOTH on a device with the
 * GPU type bit, KERNELS_VEC elsewhere (on CPUs the vector family wins every layer, and timing
 * the other would only lengthen the first run). */
void ctx_kernels_choose(irv2_context *ctx, irv2_kernels kernels);
/* Reads ctx->profile from the device; fails naming the query that failed. */
irv2_status ctx_read_profile(irv2_context *ctx);
/* The family a conv uses when nothing is measured: wg where it is offered and the device is
 * a GPU (or it is the only one), else vec. Pooling and the head follow it. */
int ctx_prefers_wg(const irv2_context *ctx);

/* Records err in the context and fails with IRV2_ERR_OPENCL (or IRV2_ERR_DEVICE_MEMORY for
 * allocation failures), naming the call and the device. Returns IRV2_OK for CL_SUCCESS. */
irv2_status ctx_cl_check(irv2_context *ctx, cl_int err, const char *what);

/* A device buffer of bytes (> 0); errors name the device and the purpose. */
irv2_status ctx_buffer(irv2_context *ctx, size_t bytes, cl_mem_flags flags, const char *purpose,
                       cl_mem *out);

/* Releases *mem (if any) and sets it to NULL; every buffer made by ctx_buffer goes back this
 * way, so ctx->live_buffers says what is still held (a leak check that, unlike
 * CL_CONTEXT_REFERENCE_COUNT, does not depend on the OpenCL implementation). */
void ctx_buffer_release(irv2_context *ctx, cl_mem *mem);

const char *cl_error_name(cl_int err);

#endif
