/* multidev.c: the devices --device names (every command), one model per device for `classify`,
 * `eval` and `run`, and the images of an infer_job shared among the devices through one queue
 * (a device takes the next batch's images when it is free, so a slow one takes fewer), results
 * reported in input order, and the images of a device that fails given to the others. */
#include "multidev.h"

#include "cli.h"
#include "ranks.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the device list ---- */

int cli_device_specs(const cli_args *a, char specs[][IRV2_DEVICE_SPEC_SIZE], size_t cap,
                     size_t *n)
{
    const char *list = a->context.device;
    char by_rank[16];
    unsigned count = 0;
    /* MPI ranks without --device or IRV2_DEVICE: the machine's devices in turn, by the rank's
     * place among the ranks of this machine */
    if ((!list || !*list) && cli_world.size > 1 && irv2_device_count(&count) == IRV2_OK &&
        count > 0) {
        snprintf(by_rank, sizeof by_rank, "%u", (unsigned)cli_world.local_rank % count);
        list = by_rank;
    }
    irv2_status st = irv2_device_list(list, specs, cap, n);
    if (st == IRV2_OK) return 0;
    cli_error("%s: %s: %s%s", a->command, a->device_given ? "--device" : "IRV2_DEVICE",
              irv2_last_error(),
              st == IRV2_ERR_DEVICE_SPEC ? " ('irv2 devices' lists the devices)" : "");
    return st == IRV2_ERR_INVALID_ARGUMENT ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
}

/* ---- sharing an infer_job ---- */

typedef struct result {
    int done;
    float *probs;   /* NULL for an image that failed */
    char *error;
} result;

typedef struct worker worker;

/* An array batch shared among the devices (`run`): images of input, logits into output. */
typedef struct array_job {
    const float *input;
    float *output;
    unsigned classes;
    int softmax;
} array_job;

typedef struct share {
    const infer_job *job;     /* images from files (classify, eval), or NULL */
    const array_job *array;   /* an array (run), or NULL */
    size_t count;             /* images */
    irv2_status (*run_chunk)(worker *w, void *scratch);
    const multi_models *mm;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t next;              /* the next image not handed out yet */
    size_t *given_back;       /* images of a failed device, handed out first */
    size_t ngiven_back;
    result *results;
    unsigned classes;         /* reported per image */
    unsigned running;         /* workers still taking images */
    unsigned busy;            /* workers running a chunk (which may yet come back) */
    unsigned chunk;           /* images handed out at a time */
    irv2_status failure;      /* the last device failure's status */
    multi_report *report;
} share;

struct worker {
    share *s;
    size_t device;
    size_t *images;           /* the chunk being run: its global indices */
    size_t n;
    pthread_t thread;
};

/* Up to chunk images to run, given-back ones first; 0 when none is left and no other device
 * is running a chunk (whose images would come back if it failed). */
static size_t take(share *s, size_t *out)
{
    size_t n = 0;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (n < s->chunk && s->ngiven_back > 0) out[n++] = s->given_back[--s->ngiven_back];
        while (n < s->chunk && s->next < s->count) out[n++] = s->next++;
        if (n > 0 || s->busy == 0) break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    s->busy += n > 0;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* The chunk ran: the device is free again. */
static void chunk_done(share *s)
{
    pthread_mutex_lock(&s->mu);
    s->busy--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* A result of the chunk (index local to it), kept until it can be reported in order. */
static void on_chunk_image(void *user, size_t index, const float *probs, const char *error)
{
    worker *w = user;
    share *s = w->s;
    result r = {1, NULL, NULL};
    if (probs && (r.probs = malloc(s->classes * sizeof(float))))
        memcpy(r.probs, probs, s->classes * sizeof(float));
    else if (!probs || !r.probs) r.error = strdup(probs ? "out of host memory" : error);
    pthread_mutex_lock(&s->mu);
    s->results[w->images[index]] = r;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* The device failed on its chunk: its images without a result go back to the queue. */
static void give_back(worker *w, irv2_status st)
{
    share *s = w->s;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", irv2_last_error());
    pthread_mutex_lock(&s->mu);
    size_t back = 0;
    for (size_t k = 0; k < w->n; k++)
        if (!s->results[w->images[k]].done) s->given_back[s->ngiven_back++] = w->images[k], back++;
    s->busy--;
    s->failure = st;
    s->report->failed_devices++;
    s->report->redone += back;
    cli_error("device %s failed: %s; its %zu image(s) go to the other devices",
              s->mm->names[w->device], *msg ? msg : irv2_status_string(st), back);
    pthread_mutex_unlock(&s->mu);
}

/* One chunk of image files through infer_run on the worker's model (scratch: chunk paths). */
static irv2_status run_files(worker *w, void *scratch)
{
    share *s = w->s;
    const char **paths = scratch;
    for (size_t k = 0; k < w->n; k++) paths[k] = s->job->paths[w->images[k]];
    infer_job sub = *s->job;
    sub.model = s->mm->models[w->device];
    sub.paths = paths, sub.count = w->n;
    sub.on_image = on_chunk_image, sub.user = w;
    return infer_run(&sub);
}

/* One chunk of an array: its images gathered, run as one batch, their logits scattered
 * (scratch: chunk images, then chunk outputs). */
static irv2_status run_array(worker *w, void *scratch)
{
    share *s = w->s;
    const array_job *a = s->array;
    const size_t image = (size_t)3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    float *in = scratch, *out = in + s->chunk * image;
    for (size_t k = 0; k < w->n; k++)
        memcpy(in + k * image, a->input + w->images[k] * image, image * sizeof(float));
    irv2_status st = irv2_model_run(s->mm->models[w->device], in, (unsigned)w->n, out, a->softmax);
    if (st != IRV2_OK) return st;
    pthread_mutex_lock(&s->mu);
    for (size_t k = 0; k < w->n; k++) {
        memcpy(a->output + w->images[k] * a->classes, out + k * a->classes,
               a->classes * sizeof(float));
        s->results[w->images[k]].done = 1;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return IRV2_OK;
}

static void *work(void *arg)
{
    worker *w = arg;
    share *s = w->s;
    const size_t image = (size_t)3 * IRV2_INPUT_SIZE * IRV2_INPUT_SIZE;
    void *scratch = s->array ? malloc(s->chunk * (image + s->array->classes) * sizeof(float))
                             : malloc(s->chunk * sizeof(const char *));
    irv2_status st = scratch ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    if (!scratch) cli_error("out of host memory for device %s", s->mm->names[w->device]);
    while (st == IRV2_OK && (w->n = take(s, w->images)) > 0)
        if ((st = s->run_chunk(w, scratch)) == IRV2_OK) chunk_done(s);
    if (st != IRV2_OK && w->n > 0) give_back(w, st);
    free(scratch);
    pthread_mutex_lock(&s->mu);
    s->running--;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Reports the results in input order as they come; returns when every image is reported or
 * no device is left. */
static size_t report_in_order(share *s)
{
    size_t reported = 0;
    pthread_mutex_lock(&s->mu);
    while (reported < s->count) {
        result *r = &s->results[reported];
        if (!r->done) {
            if (s->running == 0) break;
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        if (!s->job) { /* an array: the logits are in place */
            reported++;
            continue;
        }
        result got = *r;
        r->probs = NULL, r->error = NULL;
        pthread_mutex_unlock(&s->mu);
        s->job->on_image(s->job->user, reported, got.probs,
                         got.probs ? NULL : got.error ? got.error : "out of host memory");
        free(got.probs);
        free(got.error);
        reported++;
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return reported;
}

/* Runs s's images on every model of mm (s->count, s->chunk, s->run_chunk set). */
static irv2_status share_run(share *s, const multi_models *mm, multi_report *report)
{
    s->mm = mm, s->report = report, s->failure = IRV2_OK;
    *report = (multi_report){0, 0};
    s->results = calloc(s->count ? s->count : 1, sizeof *s->results);
    s->given_back = calloc(s->count ? s->count : 1, sizeof *s->given_back);
    worker *w = calloc(mm->n, sizeof *w);
    irv2_status st = s->results && s->given_back && w ? IRV2_OK : IRV2_ERR_HOST_MEMORY;
    for (size_t d = 0; st == IRV2_OK && d < mm->n; d++)
        if (!(w[d].images = malloc(s->chunk * sizeof *w[d].images))) st = IRV2_ERR_HOST_MEMORY;
    if (st != IRV2_OK) cli_error("out of host memory for %zu images", s->count);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    size_t started = 0;
    for (; st == IRV2_OK && started < mm->n; started++) {
        w[started] = (worker){s, started, w[started].images, 0, 0};
        pthread_mutex_lock(&s->mu);
        s->running++;
        pthread_mutex_unlock(&s->mu);
        if (pthread_create(&w[started].thread, NULL, work, &w[started]) != 0) {
            pthread_mutex_lock(&s->mu);
            s->running--;
            pthread_mutex_unlock(&s->mu);
            cli_error("cannot start a thread for device %s", mm->names[started]);
            st = IRV2_ERR_HOST_MEMORY;
            break;
        }
    }
    size_t reported = started ? report_in_order(s) : 0;
    for (size_t d = 0; d < started; d++) pthread_join(w[d].thread, NULL);
    if (st == IRV2_OK && reported < s->count) {
        st = s->failure != IRV2_OK ? s->failure : IRV2_ERR_OPENCL;
        cli_error("every device failed; %zu of %zu images done", reported, s->count);
    }
    for (size_t i = 0; s->results && i < s->count; i++)
        free(s->results[i].probs), free(s->results[i].error);
    for (size_t d = 0; w && d < mm->n; d++) free(w[d].images);
    free(w);
    free(s->results);
    free(s->given_back);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    return st;
}

irv2_status infer_run_multi(const infer_job *job, const multi_models *mm, multi_report *report)
{
    share s = {.job = job, .count = job->count, .run_chunk = run_files};
    s.classes = infer_classes(mm->models[0]);
    s.chunk = job->batch >= job->crops ? job->batch / job->crops : 1;
    return share_run(&s, mm, report);
}

int cli_devices_run_array(multi_models *mm, const float *input, unsigned n, float *output,
                          int softmax)
{
    if (mm->n == 1) {
        irv2_status st = irv2_model_run(mm->models[0], input, n, output, softmax);
        return st == IRV2_OK ? CLI_EXIT_OK : cli_fail_model(st, mm->ctxs[0]);
    }
    const array_job a = {input, output, irv2_model_num_classes(mm->models[0]), softmax};
    share s = {.array = &a, .count = n, .run_chunk = run_array};
    /* about four chunks per device, so that a fast one can take more */
    s.chunk = (unsigned)((n + 4 * mm->n - 1) / (4 * mm->n));
    multi_report report;
    if (share_run(&s, mm, &report) != IRV2_OK) return CLI_EXIT_FAILURE;
    return report.failed_devices ? CLI_EXIT_REDONE : CLI_EXIT_OK;
}

/* ---- opening the models ---- */

int cli_open_models(const cli_args *a, char specs[][IRV2_DEVICE_SPEC_SIZE], size_t n,
                    multi_models *mm)
{
    memset(mm, 0, sizeof *mm);
    for (size_t i = 0; i < n && i < CLI_MAX_DEVICES; i++) {
        cli_args one = *a;
        one.context.device = specs[i];
        one.quiet = a->quiet || i > 0; /* the progress printer serves one device */
        if (cli_open_model(&one, &mm->ctxs[i], &mm->models[i]) != 0) {
            multi_models_free(mm);
            return CLI_EXIT_FAILURE;
        }
        const char *name = irv2_context_device(mm->ctxs[i])->name;
        if (n > 1) snprintf(mm->names[i], sizeof mm->names[i], "%s (%s)", specs[i], name);
        else snprintf(mm->names[i], sizeof mm->names[i], "%s", name);
        mm->n = i + 1;
    }
    return 0;
}

void multi_models_free(multi_models *mm)
{
    for (size_t i = 0; i < CLI_MAX_DEVICES; i++) {
        irv2_model_free(mm->models[i]);
        irv2_context_free(mm->ctxs[i]);
        mm->models[i] = NULL, mm->ctxs[i] = NULL;
    }
    mm->n = 0;
}

int cli_devices_open(const cli_args *a, multi_models *mm)
{
    char specs[CLI_MAX_DEVICES][IRV2_DEVICE_SPEC_SIZE];
    size_t n = 0;
    memset(mm, 0, sizeof *mm);
    int rc = cli_device_specs(a, specs, CLI_MAX_DEVICES, &n);
    return rc ? rc : cli_open_models(a, specs, n, mm);
}

int cli_devices_infer(multi_models *mm, infer_job *job)
{
    multi_report report = {0, 0};
    job->model = mm->models[0];
    if (mm->n == 1) {
        irv2_status st = infer_run(job);
        return st == IRV2_OK ? CLI_EXIT_OK : cli_fail_model(st, mm->ctxs[0]);
    }
    if (infer_run_multi(job, mm, &report) != IRV2_OK) return CLI_EXIT_FAILURE;
    return report.failed_devices ? CLI_EXIT_REDONE : CLI_EXIT_OK;
}
