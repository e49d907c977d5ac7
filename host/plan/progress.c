/* progress.c: progress reports of a plan (progress.h); the estimate is the stage's time per
 * layer so far times the layers left. */
#include "plan/progress.h"

#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void progress_begin(progress *pr, irv2_progress_fn fn, void *user, unsigned batch)
{
    *pr = (progress){fn, user, {"", batch, 0, 0, "", 0.0, -1.0, 0}, now_s(), 0.0};
    pr->stage_t0 = pr->t0;
}

void progress_stage(progress *pr, const char *stage, unsigned total)
{
    pr->p.stage = stage;
    pr->p.done = 0, pr->p.total = total;
    pr->stage_t0 = now_s();
}

/* Reports the stage as it stands, after layer; eta from the layers done so far. */
static void report(progress *pr, const char *layer)
{
    const double t = now_s(), spent = t - pr->stage_t0;
    pr->p.layer = layer;
    pr->p.elapsed_s = t - pr->t0;
    pr->p.eta_s = pr->p.done == 0             ? -1.0
                  : pr->p.done < pr->p.total ? spent / pr->p.done * (pr->p.total - pr->p.done)
                                             : 0.0;
    pr->fn(pr->user, &pr->p);
}

void progress_step(progress *pr, const char *layer)
{
    if (!pr->fn) return;
    pr->p.done++;
    report(pr, layer);
}

void progress_measured(progress *pr, const char *layer)
{
    if (!pr->fn) return;
    pr->p.measured++;
    report(pr, layer);
}

void progress_timing(progress *pr, const char *layer)
{
    if (pr->fn) report(pr, layer);
}
