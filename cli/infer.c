/* infer.c: decode, crop, batch and run images for `classify` and `eval` (see infer.h). */
#include "infer.h"

#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMAGE_FLOATS ((size_t)3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE)

unsigned infer_classes(const irv2_model *model)
{
    return irv2_model_num_classes(model) - irv2_model_class_offset(model);
}

/* An image whose crops are being run: where its scores accumulate. */
typedef struct pending {
    size_t index;
    unsigned total, done;    /* crops queued in all, crops whose results are in */
    int failed;
} pending;

typedef struct state {
    const infer_job *job;
    unsigned classes, offset, reported;
    float *input, *output;
    double *acc;             /* (batch + 1) rows of reported scores */
    float *mean;
    pending *pend;           /* batch + 1 entries */
    unsigned npend;
    unsigned *slot_pend;     /* batch entries: the pending image of each queued crop */
    /* The image being cut into crops. */
    irv2_image img;
    irv2_crop_box boxes[IRV2_MAX_CROPS];
    unsigned nboxes, next_box, cur;
    int have_img;
    size_t next_image;
} state;

/* Loads the next image that decodes, reporting the ones that do not; 0 when none is left. */
static int next_image(state *s)
{
    const infer_job *job = s->job;
    while (s->next_image < job->count) {
        size_t i = s->next_image++;
        irv2_status st = irv2_image_load(job->paths[i], &s->img);
        if (st == IRV2_OK)
            st = irv2_crop_boxes(s->img.width, s->img.height, job->crops, s->boxes, &s->nboxes);
        if (st != IRV2_OK) {
            irv2_image_free(&s->img);
            job->on_image(job->user, i, NULL, irv2_last_error());
            continue;
        }
        s->cur = s->npend++;
        s->pend[s->cur] = (pending){i, s->nboxes, 0, 0};
        memset(s->acc + (size_t)s->cur * s->reported, 0, s->reported * sizeof(double));
        s->next_box = 0;
        s->have_img = 1;
        return 1;
    }
    return 0;
}

/* Fills up to batch crop slots; returns how many. */
static unsigned fill_batch(state *s)
{
    unsigned n = 0;
    while (n < s->job->batch) {
        if (!s->have_img && !next_image(s)) break;
        pending *p = &s->pend[s->cur];
        float *dst = s->input + n * IMAGE_FLOATS;
        irv2_status st = irv2_image_crop(&s->img, &s->boxes[s->next_box], dst);
        if (st != IRV2_OK) {
            s->job->on_image(s->job->user, p->index, NULL, irv2_last_error());
            if (s->next_box == 0) {
                s->npend--; /* nothing queued: forget it, so each entry holds a slot */
            } else {
                p->failed = 1;
                p->total = s->next_box; /* the crops already queued still come back */
            }
            s->next_box = s->nboxes;
        } else {
            s->slot_pend[n++] = s->cur;
            s->next_box++;
        }
        if (s->next_box == s->nboxes) {
            irv2_image_free(&s->img);
            s->have_img = 0;
        }
    }
    return n;
}

/* Adds a run's results to their images, reports the finished ones in order and keeps the
 * unfinished one (at most the last) as pending entry 0. */
static void collect(state *s, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        pending *p = &s->pend[s->slot_pend[k]];
        double *acc = s->acc + (size_t)s->slot_pend[k] * s->reported;
        const float *out = s->output + (size_t)k * s->classes + s->offset;
        for (unsigned c = 0; c < s->reported; c++) acc[c] += out[c];
        p->done++;
    }
    unsigned kept = 0;
    for (unsigned i = 0; i < s->npend; i++) {
        pending *p = &s->pend[i];
        double *acc = s->acc + (size_t)i * s->reported;
        if (p->done < p->total) {
            if (kept != i) {
                s->pend[kept] = *p;
                memcpy(s->acc + (size_t)kept * s->reported, acc, s->reported * sizeof(double));
                if (s->have_img && s->cur == i) s->cur = kept;
            }
            kept++;
        } else if (!p->failed) {
            for (unsigned c = 0; c < s->reported; c++) s->mean[c] = (float)(acc[c] / p->total);
            s->job->on_image(s->job->user, p->index, s->mean, NULL);
        }
    }
    s->npend = kept;
}

irv2_status infer_run(const infer_job *job)
{
    state s = {.job = job};
    s.classes = irv2_model_num_classes(job->model);
    s.offset = irv2_model_class_offset(job->model);
    s.reported = s.classes - s.offset;
    unsigned b = job->batch;
    s.input = malloc(b * IMAGE_FLOATS * sizeof(float));
    s.output = malloc((size_t)b * s.classes * sizeof(float));
    s.acc = malloc((size_t)(b + 1) * s.reported * sizeof(double));
    s.mean = malloc(s.reported * sizeof(float));
    s.pend = malloc((b + 1) * sizeof *s.pend);
    s.slot_pend = malloc(b * sizeof *s.slot_pend);
    irv2_status st = IRV2_OK;
    if (!s.input || !s.output || !s.acc || !s.mean || !s.pend || !s.slot_pend) {
        cli_error("out of host memory for a batch of %u crops", b);
        st = IRV2_ERR_HOST_MEMORY;
    }
    int planned = 0; /* the model has a plan for b crops */
    while (st == IRV2_OK) {
        unsigned n = fill_batch(&s);
        if (n == 0) break;
        /* A partial batch (the last one, or the only one) runs padded with zero crops on the
         * plan for b, when that plan is made already or the padding at most doubles the
         * work, rather than making (and tuning) a plan for a batch size seen once. */
        const unsigned run = planned || 2 * n > b ? b : n;
        if (run > n)
            memset(s.input + (size_t)n * IMAGE_FLOATS, 0,
                   (run - n) * IMAGE_FLOATS * sizeof(float));
        st = irv2_model_run(job->model, s.input, run, s.output, 1);
        if (st == IRV2_OK) collect(&s, n);
        planned |= n == b;
    }
    irv2_image_free(&s.img);
    free(s.input);
    free(s.output);
    free(s.acc);
    free(s.mean);
    free(s.pend);
    free(s.slot_pend);
    return st;
}
