/* timing.h: timing prepared launches on the device, for the tuner and the SGEMM peak. */
#ifndef IRV2_TIMING_H
#define IRV2_TIMING_H

#include "ops/op.h"

/* Seconds per run of the nops launches in order: one untimed warm-up run (which also
 * compiles), then the best of three timed groups of runs (two once a group runs slower than
 * 20 ms per run), each group sized from the warm-up to about 5 ms. -1 when a launch fails (the error
 * is left set). */
double time_ops(irv2_context *ctx, const op_launch *ops, int nops);

#endif
