/* timing.c: wall-clock timing of prepared launches: warm-up, calibration, best of groups. */
#include "plan/timing.h"

#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Seconds per run over reps runs, with one wait at the end; -1 on failure. */
static double timed_group(irv2_context *ctx, const op_launch *ops, int nops, int reps)
{
    double t0 = now_s();
    for (int r = 0; r < reps; r++)
        for (int k = 0; k < nops; k++)
            if (op_enqueue(ctx, &ops[k], NULL) != IRV2_OK) return -1;
    if (ctx_cl_check(ctx, clFinish(ctx->queue), "clFinish") != IRV2_OK) return -1;
    return (now_s() - t0) / reps;
}

double time_ops(irv2_context *ctx, const op_launch *ops, int nops)
{
    double per = timed_group(ctx, ops, nops, 1);
    if (per < 0) return -1;
    int reps = per > 0.005 ? 1 : per > 0.0005 ? (int)(0.005 / per) + 1 : 10;
    double best = -1;
    for (int g = 0, groups = 3; g < groups; g++) {
        double t = timed_group(ctx, ops, nops, reps);
        if (t < 0) return -1;
        if (best < 0 || t < best) best = t;
        if (t > 0.02) groups = 2; /* slow runs vary less: the best of two is enough */
    }
    return best;
}
