/* progress.h: a plan's progress reported through irv2_model_options.progress: per stage
 * ("tuning", "compiling"), after each layer, with the time spent and an estimate of what is
 * left. Nothing is reported without a callback. */
#ifndef IRV2_PROGRESS_H
#define IRV2_PROGRESS_H

#include "irv2.h"

typedef struct progress {
    irv2_progress_fn fn;
    void *user;
    irv2_progress p;
    double t0, stage_t0;
} progress;

/* Starts the reports of a plan for batch images (fn may be NULL: no reports). */
void progress_begin(progress *pr, irv2_progress_fn fn, void *user, unsigned batch);
/* Starts a stage of total layers. */
void progress_stage(progress *pr, const char *stage, unsigned total);
/* One more layer of the stage is done: reports it. */
void progress_step(progress *pr, const char *layer);
/* The tuner is about to time the candidates of layer: reports it (done unchanged). */
void progress_timing(progress *pr, const char *layer);
/* A candidate of the layer being tuned (named layer) was timed: reports it. */
void progress_measured(progress *pr, const char *layer);

#endif
