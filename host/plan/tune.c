/* tune.c: choosing each convolution's form: the candidates of every kernel family (CLBlast's,
 * then irv2's own), filtered by the GEMM mode and the tuning mode (fast: a short list), each
 * timed on the tuner's own buffers, the closest timed twice; the fastest is kept in the
 * context's decision table and saved to tuning.txt at once. */
#include "plan/tune.h"

#include "plan/progress.h"
#include "plan/timing.h"
#include "runtime/binaries.h"
#include "runtime/table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Part of every key: bump it when the candidates or the kernels change, so that decisions
 * measured on other code are measured again. */
#define TUNER_VERSION "28"

#define MAX_CANDIDATES 64

/* Device buffers the candidates run on, grown to the largest conv seen. */
typedef struct workspace {
    cl_mem mem;
    size_t floats;
} workspace;

enum { WS_IN, WS_OUT, WS_SCRATCH, WS_WEIGHTS, WS_BIAS, WS_COUNT };

struct tuner {
    irv2_context *ctx;
    binaries_usage *used;      /* where the choices made are noted, or NULL */
    workspace ws[WS_COUNT];
    progress *progress;        /* where each candidate timed is reported, or NULL */
    const char *layer;
};

void tuner_report_to(tuner *t, progress *pr, const char *layer)
{
    t->progress = pr, t->layer = layer;
}

/* Times one candidate and reports it. */
static double measure_reported(tuner *t, const tune_job *job, const conv_form *f);

irv2_status tuner_create(irv2_context *ctx, binaries_usage *used, tuner **out)
{
    *out = calloc(1, sizeof **out);
    if (!*out) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    (*out)->ctx = ctx, (*out)->used = used;
    if (!ctx->choices && !(ctx->choices = table_new(ctx->cache_dir, "tuning.txt"))) {
        free(*out);
        *out = NULL;
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    }
    return IRV2_OK;
}

void tuner_free(tuner *t)
{
    if (!t) return;
    table_save(t->ctx->choices);
    for (int i = 0; i < WS_COUNT; i++) ctx_buffer_release(t->ctx, &t->ws[i].mem);
    free(t);
}

/* Makes workspace i hold at least floats floats (zeros when new: finite, like a fresh arena). */
static irv2_status reserve(tuner *t, int i, size_t floats)
{
    static const char *const what[WS_COUNT] = {"tuning input", "tuning output", "tuning scratch",
                                               "tuning weights", "tuning bias"};
    workspace *w = &t->ws[i];
    if (floats <= w->floats) return IRV2_OK;
    ctx_buffer_release(t->ctx, &w->mem);
    w->floats = 0;
    irv2_status st = ctx_buffer(t->ctx, floats * sizeof(float), CL_MEM_READ_WRITE, what[i], &w->mem);
    float zero = 0.0f;
    if (st == IRV2_OK)
        st = ctx_cl_check(t->ctx, clEnqueueFillBuffer(t->ctx->queue, w->mem, &zero, sizeof zero, 0,
                                                      floats * sizeof(float), 0, NULL, NULL),
                          "clEnqueueFillBuffer");
    if (st == IRV2_OK) w->floats = floats;
    return st;
}

/* The candidates the mode allows, in timing order (the table's, conv_family.h): CLBlast's
 * (AUTO), then irv2's own families, each only where the context offers it; in fast mode,
 * those each family keeps for fast tuning. A conv left with no candidate takes
 * conv_default_form. */
static size_t candidates(const irv2_context *ctx, const tune_job *job, conv_form *out)
{
    const conv_rows rows = job->mode == IRV2_GEMM_AUTO ? ROWS_ALL : ROWS_OWN;
    size_t n = conv_candidates(ctx, &job->shape, job->parts, rows, job->tune == IRV2_TUNE_FAST,
                               out, MAX_CANDIDATES);
    return conv_exclude(out, n, job->exclude);
}

/* Guard floats around the workspace's tensors: enough for every form. */
static size_t workspace_guard(const conv_shape *s) { return conv_guard_bound(s); }

/* Buffers for every candidate of the job: input and scratch with guards, the output, the
 * largest packed weights, the bias (also read as scale and shift). */
static irv2_status reserve_for(tuner *t, const tune_job *job, const conv_form *c, size_t n)
{
    const conv_shape *s = &job->shape;
    size_t guard = workspace_guard(s), scratch = 0, weights = 0;
    for (size_t i = 0; i < n; i++) {
        size_t sc = conv_scratch(s, &c[i]), w = conv_packed_count(s, &c[i]);
        if (sc > scratch) scratch = sc;
        if (w > weights) weights = w;
    }
    size_t in = (size_t)s->cin * s->n * s->h * s->w, out = (size_t)s->cout * s->n * s->ho * s->wo;
    irv2_status st = reserve(t, WS_IN, in + 2 * guard);
    if (st == IRV2_OK) st = reserve(t, WS_OUT, out + 2 * guard);
    if (st == IRV2_OK && scratch) st = reserve(t, WS_SCRATCH, scratch + 2 * guard);
    if (st == IRV2_OK) st = reserve(t, WS_WEIGHTS, weights);
    if (st == IRV2_OK) st = reserve(t, WS_BIAS, (size_t)s->cout);
    if (st == IRV2_OK)
        st = ctx_cl_check(t->ctx, clEnqueueWriteBuffer(t->ctx->queue, t->ws[WS_BIAS].mem, CL_TRUE,
                                                       0, (size_t)s->cout * sizeof(float),
                                                       job->bias, 0, NULL, NULL),
                          "writing tuning bias");
    return st;
}

/* The conv's buffers in the workspace: the output parts contiguous, one after another. */
static conv_bufs workspace_bufs(const tuner *t, const tune_job *job, size_t guard)
{
    const conv_shape *s = &job->shape;
    size_t plane = (size_t)s->n * s->ho * s->wo;
    cl_mem bias = t->ws[WS_BIAS].mem;
    conv_bufs b = {{t->ws[WS_IN].mem, guard}, {t->ws[WS_SCRATCH].mem, guard}, 0,
                   t->ws[WS_WEIGHTS].mem, bias, bias, bias,
                   {t->ws[WS_OUT].mem, job->parts, {0}, {0}}, NULL};
    for (int k = 0; k < job->parts; k++)
        b.out.from[k] = job->from[k], b.out.off[k] = guard + (size_t)job->from[k] * plane;
    return b;
}

/* Seconds per run of the job in form f: weights packed and uploaded, launches built and
 * timed; -1 when the form cannot run here (not an error: it is simply not chosen). */
static double measure(tuner *t, const tune_job *job, const conv_form *f)
{
    irv2_context *ctx = t->ctx;
    const conv_shape *s = &job->shape;
    size_t count = conv_packed_count(s, f), guard = workspace_guard(s);
    float *packed = malloc(count * sizeof(float));
    op_launch ops[OP_MAX_LAUNCHES];
    int nops = 0;
    double secs = -1;
    if (packed) {
        conv_pack(s, f, job->weights, packed);
        conv_bufs b = workspace_bufs(t, job, guard);
        irv2_status st = ctx_cl_check(ctx, clEnqueueWriteBuffer(ctx->queue, b.weights, CL_TRUE, 0,
                                                                count * sizeof(float), packed, 0,
                                                                NULL, NULL),
                                      "writing tuning weights");
        if (st == IRV2_OK) st = conv_launches(ctx, s, f, job->epi, &b, ops, &nops);
        /* Each launch timed on its own, and the times added. */
        double sum = 0;
        int k = 0;
        for (; st == IRV2_OK && k < nops; k++) {
            double one = time_ops(ctx, &ops[k], 1);
            if (one < 0) break;
            sum += one;
        }
        if (st == IRV2_OK && nops > 0 && k == nops) secs = sum;
    }
    while (nops > 0) op_release(&ops[--nops]);
    free(packed);
    irv2_clear_error();
    return secs;
}

static double measure_reported(tuner *t, const tune_job *job, const conv_form *f)
{
    double s = measure(t, job, f);
    if (t->progress) progress_measured(t->progress, t->layer);
    return s;
}

/* A remembered decision, if it names one of today's candidates or their refinements. */
static int parse_form(const char *text, const conv_form *c, size_t n, const conv_shape *s,
                      conv_form *out)
{
    conv_form known;
    if (!conv_form_parse(text, &known)) return 0;
    for (size_t i = 0; i < n; i++) {
        conv_form derived[OP_MAX_LAUNCHES + 1];
        size_t nd = conv_refinements(s, &c[i], 0, derived + 1, OP_MAX_LAUNCHES);
        derived[0] = c[i];
        for (size_t k = 0; k <= nd; k++)
            if (conv_form_equal(&derived[k], &known)) return *out = derived[k], 1;
    }
    return 0;
}

/* The decision table's key for the job: device, driver, version, families, shape, epilogue,
 * GEMM mode; a fast-mode decision ends in "|fast" (a full one has no suffix, and fast mode
 * takes it when there is one: it was chosen from more). */
static void make_key(const irv2_context *ctx, const tune_job *job, int vs_clblast, int fast,
                     char *dst, size_t cap)
{
    const conv_shape *s = &job->shape;
    /* A choice against CLBlast also depends on the CLBlast tuning applied; every choice on
     * the kernel families offered (f1 vector, f2 work-group, f3 both, f6 compact). */
    snprintf(dst, cap, "%s|%s|%s.%s f%d|k%dx%d s%d p%dx%d c%d>%d n%d %dx%d e%d%d%d%d|%s%s%s%s%s",
             ctx->info.name, ctx->info.driver, IRV2_VERSION, TUNER_VERSION, (int)ctx->kernels, s->kh, s->kw,
             s->stride, s->ph, s->pw, s->cin, s->cout, s->n, s->h, s->w, job->epi.relu1,
             job->epi.residual, job->epi.affine, job->epi.relu2, vs_clblast ? "auto" : "native",
             vs_clblast && ctx->clblast_tuning[0] ? " clblast-tuning " : "",
             vs_clblast ? ctx->clblast_tuning : "", fast ? "|fast" : "",
             job->exclude & IRV2_EXCLUDE_WINOGRAD ? "|exact" : "");
}

/* Forms timed a second time, the fastest first timings' (see search). */
#define SECOND_LOOK 3

typedef struct timed_form {
    conv_form f;
    double s;
} timed_form;

/* The fastest `k` of seen[0..n) moved to its front, in increasing time. */
static void fastest_first(timed_form *seen, size_t n, size_t k)
{
    for (size_t i = 0; i < k && i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (seen[j].s < seen[i].s) {
                const timed_form swap = seen[i];
                seen[i] = seen[j], seen[j] = swap;
            }
}

/* Times the candidates, then the refinements of the fastest, then the SECOND_LOOK fastest
 * again, slowest of them first, each keeping the lower of its two times: on a shared machine
 * a burst of load during one form's timing would otherwise decide between forms a few
 * percent apart. *best keeps the default when nothing could be measured. Returns whether
 * anything was. */
static irv2_status search(tuner *t, const tune_job *job, const conv_form *c, size_t n,
                          conv_form *best, int *found)
{
    timed_form seen[MAX_CANDIDATES + OP_MAX_LAUNCHES];
    size_t nseen = 0;
    irv2_status st = reserve_for(t, job, c, n);
    *found = 0;
    for (size_t i = 0; st == IRV2_OK && i < n && nseen < MAX_CANDIDATES; i++) {
        double s = measure_reported(t, job, &c[i]);
        if (s > 0) seen[nseen++] = (timed_form){c[i], s};
    }
    fastest_first(seen, nseen, 1);
    conv_form more[OP_MAX_LAUNCHES];
    /* fast mode refines only the families that ask for it (conv_family.fast_refines) */
    size_t nmore = nseen ? conv_refinements(&job->shape, &seen[0].f,
                                            job->tune != IRV2_TUNE_FULL, more, OP_MAX_LAUNCHES)
                         : 0;
    if (st == IRV2_OK && nmore) st = reserve_for(t, job, more, nmore);
    for (size_t i = 0; st == IRV2_OK && i < nmore; i++) {
        double s = measure_reported(t, job, &more[i]);
        if (s > 0) seen[nseen++] = (timed_form){more[i], s};
    }
    const size_t look = nseen < SECOND_LOOK ? nseen : SECOND_LOOK;
    fastest_first(seen, nseen, look);
    for (size_t i = look; st == IRV2_OK && look > 1 && i-- > 0;) {
        double s = measure(t, job, &seen[i].f);
        if (s > 0 && s < seen[i].s) seen[i].s = s;
    }
    fastest_first(seen, look, 1);
    if (nseen) *best = seen[0].f;
    *found = nseen > 0;
    return st;
}

/* Notes the choice made for key where the tuner's user keeps them (binaries_usage). */
static irv2_status note_choice(tuner *t, const char *key, const conv_form *form)
{
    char value[64];
    conv_form_format(form, value, sizeof value);
    return t->used ? usage_add_choice(t->used, key, value) : IRV2_OK;
}

/* The decision remembered for the job (from a binaries folder, else the table), if it names
 * one of today's candidates: in fast mode (and from a folder) a full decision first, read
 * against the full list, then a fast one. key is left as the job's own mode's key. */
static int remembered(irv2_context *ctx, const tune_job *job, int vs_clblast, const conv_form *c,
                      size_t n, conv_form *form, char *key, size_t cap)
{
    const int fast = job->tune == IRV2_TUNE_FAST || ctx->binaries;
    for (int pass = fast ? 0 : 1; pass < 2; pass++) {
        const int fast_key = fast && pass == 1;
        tune_job full = *job;
        conv_form all[MAX_CANDIDATES];
        full.tune = IRV2_TUNE_FULL;
        const size_t nall = fast && !fast_key ? candidates(ctx, &full, all) : 0;
        make_key(ctx, job, vs_clblast, fast_key, key, cap);
        const char *known = ctx->binaries ? binaries_choice(ctx->binaries, key)
                                          : table_get(ctx->choices, key);
        if (known && parse_form(known, nall ? all : c, nall ? nall : n, &job->shape, form))
            return 1;
    }
    return 0;
}

/* Tests only (ctx->winograd_everywhere): the first form of the full candidate list in the
 * family it names (with ctx->winograd_refined, its first refinement in the family where it
 * has one), untimed; 0 where there is none (another shape, no vector kernels, or excluded). */
static int winograd_everywhere(irv2_context *ctx, const tune_job *job, conv_form *form)
{
    conv_form c[MAX_CANDIDATES], more[OP_MAX_LAUNCHES];
    tune_job full = *job;
    full.tune = IRV2_TUNE_FULL;
    const size_t n = candidates(ctx, &full, c);
    for (size_t i = 0; i < n; i++)
        if ((int)c[i].family == ctx->winograd_everywhere - 1) {
            ctx->winograd_forced++;
            *form = c[i];
            if (ctx->winograd_refined &&
                conv_refinements(&job->shape, &c[i], 0, more, OP_MAX_LAUNCHES) > 0 &&
                more[0].family == c[i].family)
                *form = more[0];
            return 1;
        }
    return 0;
}

irv2_status tune_choose(tuner *t, const tune_job *request, conv_form *form)
{
    irv2_context *ctx = t->ctx;
    conv_form c[MAX_CANDIDATES], clblast;
    tune_job resolved = *request, *job = &resolved;
    if ((unsigned)request->tune > IRV2_TUNE_FULL)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "unknown tuning mode %d", (int)request->tune);
    if (request->tune == IRV2_TUNE_DEFAULT) resolved.tune = IRV2_TUNE_FAST;
    *form = conv_default_form(ctx, &job->shape);
    int has_clblast =
        conv_candidates(ctx, &job->shape, job->parts, ROWS_LIBRARY, 0, &clblast, 1) > 0;
    /* --gemm clblast: the 1x1 convs (and the classifier) through the library's GEMM */
    if (job->mode == IRV2_GEMM_CLBLAST && has_clblast && conv_is_gemm(&job->shape))
        return *form = clblast, IRV2_OK;
    if (ctx->winograd_everywhere && winograd_everywhere(ctx, job, form)) return IRV2_OK;
    /* From a binaries folder: its plans' choices, nothing timed (its programs only). */
    if (job->tune == IRV2_TUNE_OFF && !ctx->binaries) return IRV2_OK;
    size_t n = candidates(ctx, job, c);
    char key[512];
    const int vs_clblast = job->mode == IRV2_GEMM_AUTO && has_clblast;
    if (remembered(ctx, job, vs_clblast, c, n, form, key, sizeof key))
        return note_choice(t, key, form);
    if (ctx->binaries) return IRV2_OK;
    if (t->progress) progress_timing(t->progress, t->layer);
    int found;
    irv2_status st = search(t, job, c, n, form, &found);
    if (st != IRV2_OK || !found) return st; /* nothing measurable: keep the default */
    char value[64];
    conv_form_format(form, value, sizeof value);
    /* replacing an entry that did not parse, so that it is not measured again at every start;
     * saved at once, so that an interrupted first run keeps what it measured */
    if (table_set(ctx->choices, key, value) != 0)
        return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    table_save(ctx->choices);
    return note_choice(t, key, form);
}
