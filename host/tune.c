/* tune.c: choosing each convolution's kernel (CLBlast or cl/conv.cl, and its tiling) by
 * timing the candidates on the device at first use; decisions are kept in the context and on
 * disk (tuning.txt in the cache folder), keyed by device, driver, engine version and shape. */
#include "tune.h"

#include "cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct tune_table {
    char **keys, **values;
    size_t count, cap;
    int loaded, dirty;
};

/* Tilings (lanes, output channels) timed for each conv. More than 8 channels of 16 lanes needs
 * more than 16 vector registers: offered only where the device's native float vector is 16
 * wide (AVX-512, whose 32 registers hold 24 accumulators), as they would spill elsewhere. */
static const conv_tiling candidates[] = {{8, 8},   {8, 12},  {16, 4},  {16, 6},
                                         {16, 8},  {16, 12}, {16, 16}, {16, 24}};

_Static_assert(sizeof candidates / sizeof candidates[0] <= TUNE_MAX_TILINGS,
               "TUNE_MAX_TILINGS must hold every candidate");

/* The device's native float vector is 16 wide (AVX-512): it gets the wide tilings and, for
 * 1x1 convs, the fused panel form. */
static int wide_vectors(const irv2_context *ctx) { return conv_default_tiling(ctx).vw >= 16; }

size_t tune_tilings(const irv2_context *ctx, conv_tiling *out, size_t cap)
{
    int wide = wide_vectors(ctx);
    size_t n = 0;
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && n < cap; i++)
        if (wide || candidates[i].vw < 16 || candidates[i].tm <= 8) out[n++] = candidates[i];
    return n;
}

/* Part of every key: bump it when the candidates or the kernels change, so that decisions
 * measured on other code are measured again. */
#define TUNER_VERSION "16"

void tune_table_free(tune_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->count; i++) free(t->keys[i]), free(t->values[i]);
    free(t->keys);
    free(t->values);
    free(t);
}

/* The index of key in the table, or count if it is not there. */
static size_t find(const tune_table *t, const char *key)
{
    size_t i = 0;
    while (i < t->count && strcmp(t->keys[i], key) != 0) i++;
    return i;
}

static const char *lookup(const tune_table *t, const char *key)
{
    size_t i = find(t, key);
    return i < t->count ? t->values[i] : NULL;
}

/* Adds key with value; with replace, a value already there is overwritten, else kept. */
static int insert(tune_table *t, const char *key, const char *value, int replace)
{
    size_t i = find(t, key);
    if (i < t->count) {
        if (!replace) return 0;
        char *vd = strdup(value);
        if (!vd) return -1;
        free(t->values[i]);
        t->values[i] = vd;
        return 0;
    }
    if (t->count == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        char **k = realloc(t->keys, cap * sizeof *k);
        if (!k) return -1;
        t->keys = k;
        char **v = realloc(t->values, cap * sizeof *v);
        if (!v) return -1;
        t->values = v;
        t->cap = cap;
    }
    char *kd = strdup(key), *vd = strdup(value);
    if (!kd || !vd) {
        free(kd), free(vd);
        return -1;
    }
    t->keys[t->count] = kd, t->values[t->count] = vd;
    t->count++;
    return 0;
}

/* Adds the "key\tvalue" lines of the on-disk table (entries already present win). */
static void merge_file(tune_table *t)
{
    char path[4096];
    size_t len;
    if (cache_path("tuning.txt", path, sizeof path) != 0) return;
    char *text = cache_read(path, &len);
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        else next = line + strlen(line);
        char *tab = strchr(line, '\t');
        if (!tab) continue;
        *tab = '\0';
        insert(t, line, tab + 1, 0);
    }
    free(text);
}

void tune_save(irv2_context *ctx)
{
    tune_table *t = ctx->tune;
    char path[4096];
    if (!t || !t->dirty || cache_path("tuning.txt", path, sizeof path) != 0) return;
    t->dirty = 0;
    merge_file(t); /* keep what other processes wrote meanwhile */
    size_t cap = 1;
    for (size_t i = 0; i < t->count; i++) cap += strlen(t->keys[i]) + strlen(t->values[i]) + 2;
    char *text = malloc(cap), *p = text;
    if (!text) return;
    for (size_t i = 0; i < t->count; i++) p += sprintf(p, "%s\t%s\n", t->keys[i], t->values[i]);
    cache_write(path, text, (size_t)(p - text));
    free(text);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Seconds per run: the best of three timed groups after a warm-up (which also compiles);
 * -1 on failure. */
static double measure(irv2_context *ctx, const tune_job *job, const conv_choice *c,
                      const op_launch *op)
{
    double best = -1;
    int reps = 1, rounds = 4;
    for (int round = 0; round < rounds; round++) {
        double t0 = now_s();
        for (int r = 0; r < (round ? reps : 1); r++) {
            irv2_status st = c->clblast
                                 ? gemm_clblast(ctx, job->shape.cout, job->shape.w, job->shape.cin,
                                                job->clblast_w, 0, job->in,
                                                (op_buf){job->out.mem, job->out.off[0]}, 0.0f,
                                                NULL)
                                 : op_enqueue(ctx, op, NULL);
            if (st != IRV2_OK) return -1;
        }
        if (clFinish(ctx->queue) != CL_SUCCESS) return -1;
        double per = (now_s() - t0) / (round ? reps : 1);
        if (round == 0) { /* warm-up: size the groups to about 5 ms */
            reps = per > 0.005 ? 1 : per > 0.0005 ? (int)(0.005 / per) + 1 : 10;
            continue;
        }
        if (best < 0 || per < best) best = per;
        if (per > 0.02) rounds = 3; /* slow layers vary less: best of two is enough */
    }
    return best;
}

static double measure_native(irv2_context *ctx, const tune_job *job, const conv_choice *c)
{
    size_t count = conv_packed_count(&job->shape, c->form.tiling);
    float *packed = malloc(count * sizeof(float));
    cl_mem w = NULL;
    op_launch ops[CONV_MAX_LAUNCHES];
    int nops = 0;
    double t = -1;
    if (packed && ctx_buffer(ctx, count * sizeof(float), CL_MEM_READ_ONLY, "tuning", &w) == IRV2_OK) {
        conv_pack(&job->shape, c->form.tiling, job->weights, packed);
        irv2_status st = ctx_cl_check(ctx, clEnqueueWriteBuffer(ctx->queue, w, CL_TRUE, 0,
                                                                count * sizeof(float), packed, 0,
                                                                NULL, NULL),
                                      "tuning");
        if (st == IRV2_OK)
            st = conv_launches(ctx, &job->shape, &c->form, job->epi, job->in, job->scratch, w,
                               job->bias, job->bias, job->bias, &job->out, ops, &nops);
        t = 0;
        for (int k = 0; st == IRV2_OK && k < nops && t >= 0; k++) {
            double s = measure(ctx, job, c, &ops[k]);
            t = s < 0 ? -1 : t + s;
        }
        if (st != IRV2_OK) t = -1;
    }
    while (nops > 0) op_release(&ops[--nops]);
    if (w) clReleaseMemObject(w);
    free(packed);
    irv2_clear_error(); /* a candidate that cannot run is simply not chosen */
    return t;
}

static void format_choice(const conv_choice *c, char *dst, size_t cap)
{
    if (c->clblast) snprintf(dst, cap, "clblast");
    else
        snprintf(dst, cap, "native %d %d %d %d %d", c->form.tiling.vw, c->form.tiling.tm,
                 c->form.phase, c->form.kchunk, c->form.panels);
}

static int parse_choice(const char *s, conv_choice *c)
{
    memset(c, 0, sizeof *c);
    if (strcmp(s, "clblast") == 0) return c->clblast = 1, 0;
    conv_form *f = &c->form;
    int used = 0;
    if (sscanf(s, "native %d %d %d %d %d%n", &f->tiling.vw, &f->tiling.tm, &f->phase, &f->kchunk,
               &f->panels, &used) != 5 || s[used] != '\0')
        return -1;
    return (f->tiling.vw == 8 || f->tiling.vw == 16) && f->tiling.tm >= 1 && f->tiling.tm <= 32 &&
                   (f->phase == 0 || f->phase == 1) && f->kchunk >= 0 &&
                   f->panels >= 0 && f->panels <= 2 && !(f->phase && f->panels)
               ? 0
               : -1;
}

static void make_key(const irv2_context *ctx, const tune_job *job, char *dst, size_t cap)
{
    const conv_shape *s = &job->shape;
    /* A choice against CLBlast also depends on the CLBlast tuning applied. */
    int vs_clblast = job->mode == IRV2_GEMM_AUTO && job->clblast_w;
    snprintf(dst, cap, "%s|%s|%s.%s|k%dx%d s%d p%dx%d c%d>%d n%d %dx%d e%d%d%d%d|%s%s%s",
             ctx->info.name, ctx->info.driver, IRV2_VERSION, TUNER_VERSION, s->kh, s->kw,
             s->stride, s->ph, s->pw, s->cin, s->cout, s->n, s->h, s->w, job->epi.relu1,
             job->epi.residual, job->epi.affine, job->epi.relu2, vs_clblast ? "auto" : "native",
             vs_clblast && ctx->clblast_tuning[0] ? " clblast-tuning " : "",
             vs_clblast ? ctx->clblast_tuning : "");
}

static int tuning_enabled(void)
{
    const char *v = getenv("IRV2_TUNE");
    return !(v && strcmp(v, "0") == 0);
}

/* The fused panel form is offered to KxK convs, and to 1x1 convs only on 16-wide devices. On
 * the 8-wide (AVX2) CPU measured, 1x1 convs kept their panels in scratch: in the network that
 * beat packing per work-group (batch 8: 1x1 time 6-7% lower), though a conv measured alone,
 * its input warm in cache, often showed the opposite. On the AVX-512 CPU measured, fused 1x1
 * convs win in the network too (batch 8: 2.5-4% more images/s side by side). */
static int fused_offered(irv2_context *ctx, const conv_shape *s, conv_tiling t)
{
    return (s->kh > 1 || s->kw > 1 || wide_vectors(ctx)) && conv_fused_fits(ctx, s, t);
}

irv2_status tune_choose(irv2_context *ctx, const tune_job *job, conv_choice *choice)
{
    memset(choice, 0, sizeof *choice);
    choice->form.tiling = conv_default_tiling(ctx);
    /* Untuned, on every device: KxK convs fused, 1x1 convs over panels in scratch (so an
     * untuned run exercises both forms). */
    const conv_shape *shape = &job->shape;
    if ((shape->kh > 1 || shape->kw > 1) && conv_fused_fits(ctx, shape, choice->form.tiling))
        choice->form.panels = 2;
    else if (job->scratch.mem && conv_panel_scratch(shape, choice->form.tiling))
        choice->form.panels = 1;
    int gemm_ok = job->clblast_w != NULL;
    if (job->mode == IRV2_GEMM_CLBLAST && gemm_ok) return choice->clblast = 1, IRV2_OK;
    if (!tuning_enabled()) return IRV2_OK;
    if (!ctx->tune) {
        ctx->tune = calloc(1, sizeof *ctx->tune);
        if (!ctx->tune) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    }
    tune_table *t = ctx->tune;
    if (!t->loaded) merge_file(t), t->loaded = 1;
    char key[512], value[64];
    make_key(ctx, job, key, sizeof key);
    const char *known = lookup(t, key);
    conv_choice c;
    if (known && parse_choice(known, &c) == 0) {
        *choice = c;
        return IRV2_OK;
    }
    double best = -1;
    if (job->mode == IRV2_GEMM_AUTO && gemm_ok) {
        c = (conv_choice){.clblast = 1};
        best = measure(ctx, job, &c, NULL);
        if (best > 0) *choice = c;
        irv2_clear_error();
    }
    /* Each tiling plain, through parity planes (stride 2) or over packed panels (where
     * conv_panel_scratch offers them). */
    int phases = job->scratch.mem && conv_phase_scratch(&job->shape) ? 2 : 1;
    conv_tiling tilings[TUNE_MAX_TILINGS];
    size_t ntilings = tune_tilings(ctx, tilings, TUNE_MAX_TILINGS);
    int scratch_panels = job->scratch.mem && conv_panel_scratch(&job->shape, tilings[0]);
    for (size_t i = 0; i < ntilings; i++)
        for (int phase = 0; phase < phases; phase++)
            for (int panel = 0; panel < 3; panel++) {
                if ((panel && phase) || (panel == 1 && !scratch_panels) ||
                    (panel == 2 && !fused_offered(ctx, &job->shape, tilings[i])))
                    continue;
                c = (conv_choice){.form = {tilings[i], phase, 0, panel}};
                double s = measure_native(ctx, job, &c);
                if (s > 0 && (best < 0 || s < best)) best = s, *choice = c;
            }
    /* Then the best native form in chunks of about 512 and 256 reduction terms. */
    int taps = job->shape.kh * job->shape.kw;
    for (int terms = 512; !choice->clblast && !choice->form.panels && best > 0 && terms >= 256;
         terms /= 2) {
        c = *choice;
        c.form.kchunk = terms / taps > 0 ? terms / taps : 1;
        int chunks = conv_chunks(&job->shape, c.form.kchunk);
        if (chunks < 2 || chunks + 1 > CONV_MAX_LAUNCHES) continue;
        double s = measure_native(ctx, job, &c);
        if (s > 0 && s < best) best = s, *choice = c;
    }
    if (best < 0) return IRV2_OK; /* nothing measurable: keep the default */
    format_choice(choice, value, sizeof value);
    /* replacing an entry that did not parse, so that it is not measured again at every start */
    if (insert(t, key, value, 1) == 0) t->dirty = 1;
    return IRV2_OK;
}
