/* tune.h: choosing each convolution's form by timing the candidates of every kernel family
 * on the device at first use, on the tuner's own buffers; decisions are remembered in the
 * context and on disk (tuning.txt in the cache folder), keyed by device, driver, engine
 * version and shape. */
#ifndef IRV2_TUNE_H
#define IRV2_TUNE_H

#include "ops/conv.h"
#include "runtime/binaries.h"

/* What is being chosen for: the conv as the plan runs it, its epilogue, its output parts
 * (stacked siblings: part k starts at channel from[k]), its canonical weights
 * [cout][cin][kh][kw] and bias [cout]. */
typedef struct tune_job {
    irv2_gemm_backend mode;
    irv2_tune_mode tune;       /* off, fast or full (default: fast) */
    unsigned exclude;          /* IRV2_EXCLUDE_* bits: forms never chosen */
    conv_shape shape;
    op_epilogue epi;
    int parts;
    int from[OUT_MAX_PARTS];
    const float *weights, *bias;
} tune_job;

typedef struct tuner tuner;

/* A tuner for ctx's device; used (NULL: none) gets every choice made (usage_add_choice). */
irv2_status tuner_create(irv2_context *ctx, binaries_usage *used, tuner **out);
/* Reports each candidate timed to pr (progress.h) as a candidate of layer; NULL: none. */
typedef struct progress progress;
void tuner_report_to(tuner *t, progress *pr, const char *layer);
/* The form to run the job with. IRV2_GEMM_CLBLAST: CLBlast where it has a form; otherwise
 * (and for IRV2_GEMM_NATIVE and IRV2_GEMM_AUTO, which also times CLBlast) the fastest measured
 * candidate, or the one measured before (saved to disk at once). IRV2_TUNE_OFF skips
 * measuring: conv_default_form. IRV2_TUNE_FAST times a short list (conv_candidates with fast set). */
irv2_status tune_choose(tuner *t, const tune_job *job, conv_form *form);
/* Saves the new decisions to disk and releases the tuner's buffers. */
void tuner_free(tuner *t);

#endif
