/* op.h: prepared launches. Each op is created once (kernel built, arguments set, NDRange
 * computed, or a library call described) and enqueued any number of times; plus the helpers
 * the launchers in host/ops/ share. */
#ifndef IRV2_OP_H
#define IRV2_OP_H

#include "runtime/context.h"

/* A buffer region: elements from offset. */
typedef struct op_buf {
    cl_mem mem;
    size_t off;
} op_buf;

/* The fused epilogue (net.h): v = acc + bias; relu1; old output + v (residual); v * scale +
 * shift (affine); relu2. */
typedef struct op_epilogue {
    int relu1, residual, affine, relu2;
} op_epilogue;

typedef struct op_launch op_launch;
typedef irv2_status (*op_call)(irv2_context *ctx, const op_launch *op, cl_event *event);

/* C[m][n] = A[m][k] B[k][n] + beta C, row-major, on buffer offsets (CLBlast's SGEMM); C's
 * rows ldc floats apart (0: n, contiguous). */
typedef struct op_sgemm {
    int m, n, k;
    op_buf a, b, c;
    float beta;
    int ldc;
} op_sgemm;

/* One image convolved, as CNNs do (cross-correlation, zero padding ph/pw on both sides):
 * out[cout][ho][wo] = sum over ci, ky, kx of w[cout][ci][ky][kx] * in[ci][y][x], the image
 * in [cin][h][w] (NCHW with N = 1), all on buffer offsets (CLBlast's convgemm). The output is
 * overwritten (convgemm has no beta). */
typedef struct op_convgemm {
    int cin, h, w, kh, kw, stride, ph, pw, cout;
    op_buf in, weights, out;
} op_convgemm;

/* A library call's arguments, tagged with the call they are for. */
typedef enum op_library_kind { OP_LIB_NONE, OP_LIB_SGEMM, OP_LIB_CONVGEMM } op_library_kind;
typedef struct op_library {
    op_library_kind kind;
    union {
        op_sgemm sgemm;       /* OP_LIB_SGEMM */
        op_convgemm convgemm; /* OP_LIB_CONVGEMM */
    } u;
} op_library;

/* A kernel with its arguments set, its NDRange and local size (lws[0] == 0: the OpenCL
 * implementation chooses); or, when call is set, a library call with its arguments in lib
 * (gemm_clblast.h makes them). */
struct op_launch {
    cl_kernel kernel;
    unsigned dims;
    size_t gws[3], lws[3];
    op_call call;
    op_library lib;
};

irv2_status op_enqueue(irv2_context *ctx, const op_launch *op, cl_event *event);
void op_release(op_launch *op);

/* ---- for the launchers ---- */
typedef struct kernel_arg {
    size_t size;
    const void *value;
} kernel_arg;

#define ARG(x) ((kernel_arg){sizeof(x), &(x)})

/* " -DRELU1 -DAFFINE ..." for the epilogue's flags. */
void epilogue_flags(op_epilogue epi, char *dst, size_t cap);
/* The epilogue's options for a kernel that also takes its bits as the argument `epi`
 * (cl/epilogue.h): the flags, or " -DEPI_ARG" in the compact kernel set, where one program
 * serves every epilogue. */
void epilogue_options(const irv2_context *ctx, op_epilogue epi, char *dst, size_t cap);
/* The bits of cl/epilogue.h: relu1 1, residual 2, affine 4, relu2 8. */
cl_int epilogue_bits(op_epilogue epi);
/* Builds kernel `name` of cl/<file> with options and sets its arguments; on failure op is
 * left released. In record mode (ctx->record_program, runtime/context.h) it reports the
 * program instead and leaves op with no kernel; the launchers then fill in the rest. */
irv2_status op_kernel(irv2_context *ctx, const char *file, const char *options,
                      const char *name, unsigned nargs, const kernel_arg *args, op_launch *op);
irv2_status set_args(irv2_context *ctx, cl_kernel k, const char *what, unsigned count,
                     const kernel_arg *args);
/* Sets argument index of op's kernel to bytes of local memory (nothing in record mode). */
irv2_status op_local_arg(irv2_context *ctx, op_launch *op, unsigned index, size_t bytes);
/* Sets local size (1, 1, 1): the CPU kernels' shape, one work-item per work-group. */
void op_local_one(op_launch *op);
/* The largest power of two <= want that kernel k (CL_KERNEL_WORK_GROUP_SIZE; with no kernel,
 * in record mode, the device's largest work-group) and the device
 * (CL_DEVICE_MAX_WORK_ITEM_SIZES[0]) accept as a 1-D local size: the work-group shape of the
 * small kernels. */
irv2_status op_local_pow2(irv2_context *ctx, cl_kernel k, size_t want, size_t *out);
/* Fails (IRV2_ERR_UNSUPPORTED, naming the kernel and the device) unless kernel k, as built,
 * runs work-groups of `group` work-items (CL_KERNEL_WORK_GROUP_SIZE); OK with no kernel (record
 * mode). */
irv2_status op_check_group(irv2_context *ctx, cl_kernel k, const char *name, size_t group);

#endif
