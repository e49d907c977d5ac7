/* plan.c: building a plan in one direction (steps, forms, panel sharing, memory, weights,
 * launches) and running it: the input uploaded, every launch enqueued, the output read. */
#include "plan/plan.h"

#include "ops/classifier.h"
#include "ops/conv.h"
#include "ops/head.h"
#include "ops/pool.h"
#include "plan/memory.h"
#include "plan/progress.h"
#include "plan/tune.h"
#include "runtime/program.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One step of the run: a layer, stacked sibling 1x1 convs computed as one, or the global
 * average pool with the classifier after it (fused_classifier). */
typedef struct plan_step {
    const net_layer *layer;      /* the first layer it computes */
    const char *kind;            /* for profiles: "conv1x1", "maxpool", ... */
    char name[2 * NET_NAME_MAX]; /* the layer's, or "a.x+y+z" for stacked siblings a.x, a.y, a.z */
    int members[OUT_MAX_PARTS]; /* the layers it computes */
    int nmembers;
    conv_shape shape;            /* convs: as run, stacked couts summed */
    conv_form form;
    int shared_panels;           /* its input's panels are in scratch already */
    int host, rider;             /* a max pool run by the launch of step host - 1; the step
                                    rider - 1 run by this conv's launch (0: none) */
    int ends_net;                /* the fused classifier writing the output: ops[0] logits,
                                    ops[1] probabilities, one of them run */
    double flops;                /* for the whole batch */
    cl_mem w, bias, scale, shift;
    cl_mem work;                 /* the fused classifier's partial sums */
    op_launch ops[OP_MAX_LAUNCHES];
    int nops;
    cl_event events[OP_MAX_LAUNCHES]; /* per op, when profiling */
} plan_step;

struct plan {
    irv2_context *ctx;
    const irv2_model_options *opt; /* gemm, tune (resolved); during plan_create */
    binaries_usage *used;          /* the model's record of what its plans use */
    progress progress;
    const net *net;
    const layer_weights *weights;
    unsigned batch;
    plan_step *steps;
    int nsteps;
    int *time;                 /* per layer: when it runs (the first layer of its step) */
    size_t *root_off;          /* per root tensor: its offset in the arena */
    cl_mem arena, scratch, out;
    size_t arena_floats, scratch_floats, scratch_guard, out_floats;
    uint64_t weight_bytes;
    op_launch head[2];         /* logits, probabilities (none where a step ends_net) */
    int head_fused;            /* a step ends_net: no head launch */
    cl_event head_event;       /* the head's, when profiling */
    float *staging;            /* input transposed to [3][N][299][299] */
    int profiling, have_events, binaries_saved;
};

unsigned plan_batch(const plan *p) { return p->batch; }

uint64_t plan_weight_bytes(const plan *p) { return p->weight_bytes; }

uint64_t plan_activation_bytes(const plan *p)
{
    return ((uint64_t)p->arena_floats + p->scratch_floats + p->out_floats) * sizeof(float);
}

void plan_set_profiling(plan *p, int enable) { p->profiling = enable != 0; }

/* ---- steps ------------------------------------------------------------------------------ */

/* The classifier that layer i, a global average pool, runs with in one launch
 * (ops/classifier.h), or -1: the next layer is a bias-only 1x1 conv writing the logits from
 * the pool's output, which nothing else reads, and neither has an epilogue. */
static int fused_classifier(const net *n, int i)
{
    const net_layer *pool = &n->layers[i], *fc = i + 1 < n->nlayers ? pool + 1 : NULL;
    const net_epilogue *a = &pool->epi, *b = fc ? &fc->epi : NULL;
    if (pool->kind != LAYER_GLOBAL_AVGPOOL || !fc || fc->kind != LAYER_CONV ||
        fc->in != pool->out || fc->out != n->logits || fc->kh != 1 ||
        fc->kw != 1 || fc->ph != 0 || fc->pw != 0 || a->affine || a->relu2 || b->relu1 ||
        b->residual || b->affine || b->relu2)
        return -1;
    for (int j = 0; j < n->nlayers; j++)
        if (j != i + 1 && n->layers[j].in == pool->out) return -1;
    return i + 1;
}

/* When each layer runs: stacked siblings (net_siblings) at their group's first layer; no
 * stacking when CLBlast is forced (its GEMM writes one contiguous output). Where the device
 * takes the fused classifier at this batch (and CLBlast is not forced), the classifier at its
 * pool's time: the logits are then live while the pool's input is read. */
static irv2_status layer_times(const irv2_context *ctx, const net *n, irv2_gemm_backend gemm,
                               unsigned batch, int **time)
{
    *time = malloc((size_t)(n->nlayers > 0 ? n->nlayers : 1) * sizeof **time);
    if (!*time) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory planning steps");
    net_siblings(n, gemm == IRV2_GEMM_CLBLAST ? 1 : OUT_MAX_PARTS, *time);
    if (gemm == IRV2_GEMM_CLBLAST || !classifier_offered(ctx, batch)) return IRV2_OK;
    for (int i = 0; i < n->nlayers; i++) {
        const int fc = fused_classifier(n, i);
        if (fc >= 0) (*time)[fc] = (*time)[i];
    }
    return IRV2_OK;
}

conv_shape plan_conv_shape(const net *n, const net_layer *l, unsigned batch)
{
    const net_tensor *x = &n->tensors[l->in];
    conv_shape s = {.cin = l->cin, .cout = l->cout, .kh = l->kh, .kw = l->kw, .stride = l->sh,
                    .ph = l->ph, .pw = l->pw, .n = (int)batch, .h = x->h, .w = x->w};
    if (conv_is_gemm(&s)) s.n = 1, s.h = 1, s.w = (int)batch * x->h * x->w;
    return s;
}

static void name_step(const net *n, plan_step *s)
{
    const char *lead = n->layers[s->members[0]].name, *dot = strrchr(lead, '.');
    size_t prefix = dot ? (size_t)(dot - lead) + 1 : 0;
    snprintf(s->name, sizeof s->name, "%s", lead);
    for (int k = 1; k < s->nmembers; k++) {
        const char *other = n->layers[s->members[k]].name;
        size_t used = strlen(s->name);
        snprintf(s->name + used, sizeof s->name - used, "+%s",
                 strncmp(other, lead, prefix) == 0 ? other + prefix : other);
    }
}

/* One step per group of layers with the same time, in order, with its conv shape. */
static irv2_status make_steps(plan *p)
{
    const net *n = p->net;
    for (int i = 0; i < n->nlayers; i++) {
        if (p->time[i] != i) { /* a later sibling: joins its group's step */
            plan_step *s = &p->steps[p->nsteps - 1];
            while (s->members[0] != p->time[i]) s--;
            s->members[s->nmembers++] = i;
            if (s->layer->kind == LAYER_CONV) s->shape.cout += n->layers[i].cout;
            else s->kind = "pool+classifier"; /* layer_times fused it */
            continue;
        }
        plan_step *s = &p->steps[p->nsteps++];
        s->layer = &n->layers[i];
        s->kind = net_layer_kind_name(s->layer);
        s->members[0] = i, s->nmembers = 1;
        if (s->layer->kind == LAYER_CONV) s->shape = plan_conv_shape(n, s->layer, p->batch);
    }
    for (int k = 0; k < p->nsteps; k++) {
        plan_step *s = &p->steps[k];
        name_step(n, s);
        if (s->nmembers == 2 && s->layer->kind != LAYER_CONV) { /* pool and classifier */
            const net_layer *fc = &n->layers[s->members[1]];
            const net_tensor *x = &n->tensors[s->layer->in];
            s->flops = (double)p->batch * (2.0 * fc->cin * fc->cout + (double)x->c * x->h * x->w);
        }
        if (s->layer->kind != LAYER_CONV) continue;
        irv2_status st = conv_shape_finish(&s->shape);
        if (st != IRV2_OK) return st;
        const conv_shape *c = &s->shape;
        s->flops = 2.0 * c->cout * c->cin * c->kh * c->kw * (double)c->n * c->ho * c->wo;
    }
    return IRV2_OK;
}

/* The step's weights [cout][cin][kh][kw] and bias, stacked along cout into *stack for
 * siblings (NULL for a single layer, whose own arrays are used). */
static irv2_status step_params(const plan *p, const plan_step *s, const float **w,
                               const float **bias, float **stack)
{
    const conv_shape *cs = &s->shape;
    size_t wcount = (size_t)cs->cout * cs->cin * cs->kh * cs->kw, w_at = 0, b_at = wcount;
    *stack = NULL;
    *w = p->weights[s->members[0]].w, *bias = p->weights[s->members[0]].bias;
    if (s->nmembers == 1) return IRV2_OK;
    *stack = malloc((wcount + (size_t)cs->cout) * sizeof(float));
    if (!*stack) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory stacking %s", s->name);
    for (int k = 0; k < s->nmembers; k++) {
        const net_layer *l = &p->net->layers[s->members[k]];
        const layer_weights *lw = &p->weights[s->members[k]];
        size_t count = (size_t)l->cout * l->cin * l->kh * l->kw;
        memcpy(*stack + w_at, lw->w, count * sizeof(float));
        memcpy(*stack + b_at, lw->bias, (size_t)l->cout * sizeof(float));
        w_at += count, b_at += (size_t)l->cout;
    }
    *w = *stack, *bias = *stack + wcount;
    return IRV2_OK;
}

static op_epilogue epi_of(const net_layer *l)
{
    return (op_epilogue){l->epi.relu1, l->epi.residual, l->epi.affine, l->epi.relu2};
}

/* ---- forms ------------------------------------------------------------------------------ */

static irv2_status choose_form(const plan *p, tuner *t, plan_step *s)
{
    const float *w, *bias;
    float *stack;
    irv2_status st = step_params(p, s, &w, &bias, &stack);
    if (st != IRV2_OK) return st;
    tune_job job = {p->opt->gemm, p->opt->tune, p->opt->exclude, s->shape, epi_of(s->layer),
                    s->nmembers, {0}, w, bias};
    for (int k = 1; k < s->nmembers; k++)
        job.from[k] = job.from[k - 1] + p->net->layers[s->members[k - 1]].cout;
    st = tune_choose(t, &job, &s->form);
    free(stack);
    return st;
}

static irv2_status choose_forms(plan *p)
{
    tuner *t;
    unsigned convs = 0;
    for (int k = 0; k < p->nsteps; k++) convs += p->steps[k].layer->kind == LAYER_CONV;
    progress_stage(&p->progress, "tuning", convs);
    irv2_status st = tuner_create(p->ctx, p->used, &t);
    for (int k = 0; st == IRV2_OK && k < p->nsteps; k++) {
        if (p->steps[k].layer->kind != LAYER_CONV) continue;
        tuner_report_to(t, &p->progress, p->steps[k].name);
        st = choose_form(p, t, &p->steps[k]);
        if (st == IRV2_OK) progress_step(&p->progress, p->steps[k].name);
    }
    tuner_free(t);
    return st;
}

/* Sibling convs read the same input: a step whose form packs its input into scratch in a
 * reusable layout (conv_reuse_key) skips packing when scratch still holds that input in that
 * layout (packed by an earlier step, with no step since writing to scratch or to that
 * input). */
static void share_panels(plan *p)
{
    const net *n = p->net;
    int panels_of = -1, panels_key = 0;
    for (int k = 0; k < p->nsteps; k++) {
        plan_step *s = &p->steps[k];
        int conv = s->layer->kind == LAYER_CONV;
        int key = conv ? conv_reuse_key(&s->shape, &s->form) : 0;
        if (key) {
            s->shared_panels = panels_of == s->layer->in && panels_key == key;
            panels_of = s->layer->in, panels_key = key;
        } else if (conv && conv_scratch(&s->shape, &s->form) > 0) {
            panels_of = -1; /* another form's scratch overwrites the panels */
        }
        for (int m = 0; m < s->nmembers && panels_of >= 0; m++)
            if (net_root(n, n->layers[s->members[m]].out, NULL) == net_root(n, panels_of, NULL))
                panels_of = -1;
    }
}

/* The step whose first layer is `lead`. */
static plan_step *step_led_by(plan *p, int lead)
{
    for (int k = 0; k < p->nsteps; k++)
        if (p->steps[k].members[0] == lead) return &p->steps[k];
    return NULL;
}

/* A conv step takes a rider where its form runs one and it has none yet. */
static int takes_rider(void *user, int lead)
{
    const plan_step *h = step_led_by(user, lead);
    return h && !h->rider && conv_takes_rider(&h->form);
}

/* Each max pool that can ride the launch of a conv step next to it (net_rider_host) is run
 * by that launch (conv_bufs.rider): one launch fewer. Its time becomes the conv's, which
 * moves no tensor's lifetime. */
static void attach_riders(plan *p)
{
    for (int k = 0; k < p->nsteps; k++) {
        const int pool = p->steps[k].members[0];
        const int lead = net_rider_host(p->net, p->time, pool, takes_rider, p);
        if (lead < 0) continue;
        plan_step *h = step_led_by(p, lead);
        p->steps[k].host = (int)(h - p->steps) + 1, h->rider = k + 1;
        p->time[pool] = lead;
    }
}

/* ---- memory ----------------------------------------------------------------------------- */

/* Guard floats around the arena's tensors for the chosen forms (at least 64). */
static size_t arena_guard(const plan *p)
{
    size_t g = 64;
    for (int k = 0; k < p->nsteps; k++) {
        const plan_step *s = &p->steps[k];
        if (s->layer->kind != LAYER_CONV) continue;
        size_t need = conv_guard(&s->shape, &s->form);
        if (need > g) g = need;
    }
    return g;
}

/* The one scratch buffer, shared by the steps in turn: the largest need, with guards. */
static void size_scratch(plan *p)
{
    size_t need = 0, guard = 0;
    for (int k = 0; k < p->nsteps; k++) {
        const plan_step *s = &p->steps[k];
        if (s->layer->kind != LAYER_CONV) continue;
        size_t floats = conv_scratch(&s->shape, &s->form);
        if (floats == 0) continue;
        size_t g = conv_guard(&s->shape, &s->form);
        if (floats > need) need = floats;
        if (g > guard) guard = g;
    }
    p->scratch_guard = guard;
    p->scratch_floats = need ? need + 2 * guard : 0;
}

/* A device buffer of floats, zero-filled: guard space is read (and masked) by shifted loads,
 * so it must hold finite values. */
static irv2_status zeroed_buffer(irv2_context *ctx, size_t floats, const char *what, cl_mem *out)
{
    irv2_status st = ctx_buffer(ctx, floats * sizeof(float), CL_MEM_READ_WRITE, what, out);
    float zero = 0.0f;
    if (st == IRV2_OK)
        st = ctx_cl_check(ctx, clEnqueueFillBuffer(ctx->queue, *out, &zero, sizeof zero, 0,
                                                   floats * sizeof(float), 0, NULL, NULL),
                          "clEnqueueFillBuffer");
    return st;
}

static irv2_status place_memory(plan *p)
{
    const net *n = p->net;
    irv2_status st = memory_place(n, p->time, p->batch, arena_guard(p), p->root_off,
                                  &p->arena_floats);
    size_scratch(p);
    p->out_floats = (size_t)p->batch * n->classes;
    if (st == IRV2_OK) st = zeroed_buffer(p->ctx, p->arena_floats, "activations", &p->arena);
    if (st == IRV2_OK && p->scratch_floats)
        st = zeroed_buffer(p->ctx, p->scratch_floats, "scratch", &p->scratch);
    /* read-write and zero-filled: the fused classifier's softmax reads the logits it wrote
     * there back, by atomics */
    if (st == IRV2_OK) st = zeroed_buffer(p->ctx, p->out_floats, "output", &p->out);
    return st;
}

static op_buf view(const plan *p, int t)
{
    return (op_buf){p->arena, memory_offset(p->net, p->root_off, p->batch, t)};
}

/* ---- weights and launches --------------------------------------------------------------- */

/* Read-write: a family may keep state its kernels reset after its packed weights (the split
 * counters of ops/conv_simt.c). */
static irv2_status upload(plan *p, const char *what, const float *data, size_t count, cl_mem *out)
{
    irv2_status st = ctx_buffer(p->ctx, count * sizeof(float), CL_MEM_READ_WRITE, what, out);
    if (st != IRV2_OK) return st;
    p->weight_bytes += count * sizeof(float);
    cl_int err = clEnqueueWriteBuffer(p->ctx->queue, *out, CL_TRUE, 0, count * sizeof(float),
                                      data, 0, NULL, NULL);
    return ctx_cl_check(p->ctx, err, what);
}

/* The conv's weights packed for its form, and its bias. */
static irv2_status upload_conv(plan *p, plan_step *s)
{
    const float *w, *bias;
    float *stack, *packed = NULL;
    size_t count = conv_packed_count(&s->shape, &s->form);
    irv2_status st = step_params(p, s, &w, &bias, &stack);
    if (st == IRV2_OK) st = upload(p, s->name, bias, (size_t)s->shape.cout, &s->bias);
    if (st == IRV2_OK && !(packed = malloc(count * sizeof(float))))
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory packing %s", s->name);
    if (st == IRV2_OK) {
        conv_pack(&s->shape, &s->form, w, packed);
        st = upload(p, s->name, packed, count, &s->w);
    }
    free(packed);
    free(stack);
    return st;
}

/* Where the step's output goes: one part per layer it computes. */
static conv_out step_out(const plan *p, const plan_step *s)
{
    conv_out o = {p->arena, s->nmembers, {0}, {0}};
    for (int k = 0, from = 0; k < s->nmembers; k++) {
        const net_layer *l = &p->net->layers[s->members[k]];
        o.from[k] = from, o.off[k] = view(p, l->out).off;
        from += l->cout;
    }
    return o;
}

/* The global average pool and the classifier in one launch, which also writes the network's
 * output (the head's work; two launches prepared: logits, probabilities): the classifier's
 * weights packed with its counters, its bias, and its own buffer for the partial sums. */
static irv2_status prepare_classifier(plan *p, plan_step *s)
{
    const net_layer *fc = &p->net->layers[s->members[1]];
    const net_tensor *x = &p->net->tensors[s->layer->in];
    const layer_weights *lw = &p->weights[s->members[1]];
    const classifier_shape shape = {x->c, x->h, x->w, fc->cout, (int)p->batch};
    const classifier_form form = classifier_form_for(p->ctx);
    const size_t count = classifier_packed_count(&shape, &form);
    float *packed = malloc(count * sizeof *packed);
    if (!packed) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory packing %s", s->name);
    classifier_pack(&shape, &form, lw->w, packed);
    irv2_status st = upload(p, s->name, packed, count, &s->w);
    free(packed);
    if (st == IRV2_OK) st = upload(p, s->name, lw->bias, (size_t)fc->cout, &s->bias);
    /* zero-filled: only atomics touch them, and an exchange reads the old value */
    if (st == IRV2_OK)
        st = zeroed_buffer(p->ctx, classifier_partials(&shape, &form),
                           "classifier partial sums", &s->work);
    for (int k = 0; st == IRV2_OK && k < 2; k++) {
        st = classifier_op(p->ctx, &shape, &form, k ? CLASSIFIER_SOFTMAX : CLASSIFIER_LOGITS,
                           view(p, s->layer->in), s->w, s->bias, s->work,
                           (op_buf){p->out, 0}, &s->ops[k]);
        if (st == IRV2_OK) s->nops = k + 1;
    }
    s->ends_net = 1, p->head_fused = 1;
    return st;
}

/* The step's affine epilogue (a BN after a sum or a concatenation), once. */
static irv2_status upload_affine(plan *p, plan_step *s)
{
    const net_layer *l = s->layer;
    const layer_weights *lw = &p->weights[s->members[0]];
    irv2_status st = IRV2_OK;
    if (lw->scale && !s->scale) st = upload(p, l->name, lw->scale, (size_t)l->cout, &s->scale);
    if (st == IRV2_OK && lw->shift && !s->shift)
        st = upload(p, l->name, lw->shift, (size_t)l->cout, &s->shift);
    return st;
}

/* The max pool of step `rider` as its host's launch runs it. */
static irv2_status rider_of(plan *p, plan_step *pool, conv_rider *r)
{
    const net_layer *l = pool->layer;
    const net_tensor *x = &p->net->tensors[l->in];
    irv2_status st = upload_affine(p, pool);
    op_epilogue epi = epi_of(l);
    epi.relu1 = epi.residual = 0;
    *r = (conv_rider){view(p, l->in), view(p, l->out), pool->scale, pool->shift, epi,
                      x->c, (int)p->batch, x->h, x->w};
    return st;
}

static irv2_status prepare_step(plan *p, plan_step *s)
{
    const net_layer *l = s->layer;
    const net_tensor *x = &p->net->tensors[l->in];
    irv2_status st = upload_affine(p, s);
    if (st != IRV2_OK || s->host) return st; /* a rider: its host's launch runs it */
    if (l->kind != LAYER_CONV && s->nmembers == 2) return prepare_classifier(p, s);
    if (l->kind != LAYER_CONV) {
        pool_kind pk = l->kind == LAYER_MAXPOOL   ? POOL_MAX3S2
                       : l->kind == LAYER_AVGPOOL ? POOL_AVG3S1
                                                  : POOL_GLOBAL_AVG;
        s->nops = 1;
        return pool_op(p->ctx, pk, x->c, (int)p->batch, x->h, x->w, epi_of(l), view(p, l->in),
                       s->scale, s->shift, view(p, l->out), &s->ops[0]);
    }
    conv_rider rider;
    st = upload_conv(p, s);
    if (st == IRV2_OK && s->rider) st = rider_of(p, &p->steps[s->rider - 1], &rider);
    if (st != IRV2_OK) return st;
    conv_bufs b = {view(p, l->in), {p->scratch, p->scratch_guard}, s->shared_panels, s->w,
                   s->bias, s->scale, s->shift, step_out(p, s), s->rider ? &rider : NULL};
    return conv_launches(p->ctx, &s->shape, &s->form, epi_of(l), &b, s->ops, &s->nops);
}

static irv2_status prepare_launches(plan *p)
{
    irv2_status st = IRV2_OK;
    progress_stage(&p->progress, "compiling", (unsigned)p->nsteps + 1);
    for (int k = 0; st == IRV2_OK && k < p->nsteps; k++)
        if ((st = prepare_step(p, &p->steps[k])) == IRV2_OK)
            progress_step(&p->progress, p->steps[k].name);
    for (int k = 0; st == IRV2_OK && k < 2 && !p->head_fused; k++)
        st = head_op(p->ctx, p->net->classes, (int)p->batch, k, view(p, p->net->logits), p->out,
                     &p->head[k]);
    if (st == IRV2_OK) progress_step(&p->progress, "head");
    return st;
}

/* ---- create, fit, free ------------------------------------------------------------------ */

/* Notes the batch and the programs of every launch in p->used. */
static irv2_status note_usage(plan *p)
{
    irv2_status st = usage_add_batch(p->used, p->batch);
    for (int i = 0; st == IRV2_OK && i < p->nsteps; i++)
        for (int k = 0; st == IRV2_OK && k < p->steps[i].nops; k++)
            st = usage_add_kernel(p->ctx, p->used, p->steps[i].ops[k].kernel);
    for (int k = 0; st == IRV2_OK && k < 2 && !p->head_fused; k++)
        st = usage_add_kernel(p->ctx, p->used, p->head[k].kernel);
    return st;
}

irv2_status plan_create(irv2_context *ctx, const net *n, const layer_weights *w,
                        const irv2_model_options *options, unsigned batch, binaries_usage *used,
                        plan **out)
{
    *out = NULL;
    irv2_model_options opt = *options;
    /* A binaries folder holds irv2's own programs, built for the plans of native GEMMs. */
    if (ctx->binaries) opt.gemm = IRV2_GEMM_NATIVE;
    plan *p = calloc(1, sizeof *p);
    if (!p) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    p->ctx = ctx, p->net = n, p->weights = w, p->batch = batch, p->opt = &opt, p->used = used;
    progress_begin(&p->progress, ctx->progress, ctx->progress_user, batch);
    p->root_off = calloc((size_t)n->ntensors, sizeof *p->root_off);
    p->steps = calloc((size_t)n->nlayers, sizeof *p->steps);
    p->staging = malloc(memory_tensor_floats(&n->tensors[n->input], batch) * sizeof(float));
    irv2_status st = IRV2_OK;
    if (!p->root_off || !p->steps || !p->staging)
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory for a batch of %u", batch);
    if (st == IRV2_OK) st = layer_times(ctx, n, opt.gemm, batch, &p->time);
    if (st == IRV2_OK) st = make_steps(p);
    if (st == IRV2_OK) st = choose_forms(p);
    if (st == IRV2_OK) share_panels(p), attach_riders(p);
    if (st == IRV2_OK) st = place_memory(p);
    if (st == IRV2_OK) st = prepare_launches(p);
    if (st == IRV2_OK) st = ctx_cl_check(ctx, clFinish(ctx->queue), "clFinish");
    if (st == IRV2_OK) st = note_usage(p);
    if (st != IRV2_OK) {
        plan_free(p);
        return st;
    }
    p->opt = NULL; /* the options were plan_create's */
    *out = p;
    return IRV2_OK;
}

/* Floats of the largest buffer a plan for batch may allocate, whatever forms it chooses:
 * the arena with the largest guards any form needs, or scratch for the largest any form the
 * device may choose needs. */
static irv2_status largest_buffer(const irv2_context *ctx, const net *n, const int *time,
                                  int untuned, unsigned batch, size_t *floats)
{
    size_t guard = 64, scratch = 0, arena = 0;
    for (int i = 0; i < n->nlayers; i++) {
        if (n->layers[i].kind != LAYER_CONV) continue;
        conv_shape s = plan_conv_shape(n, &n->layers[i], batch);
        if (conv_shape_finish(&s) != IRV2_OK) continue;
        const conv_form d = conv_default_form(ctx, &s);
        size_t g = conv_guard_bound(&s);
        size_t need = untuned ? conv_scratch(&s, &d) : conv_scratch_offered(ctx, &s);
        if (g > guard) guard = g;
        if (need + 2 * g > scratch) scratch = need + 2 * g;
    }
    size_t *off = calloc((size_t)n->ntensors, sizeof *off);
    if (!off) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory planning buffers");
    irv2_status st = memory_place(n, time, batch, guard, off, &arena);
    free(off);
    *floats = arena > scratch ? arena : scratch;
    return st;
}

irv2_status plan_fit_batch(irv2_context *ctx, const net *n, irv2_gemm_backend gemm,
                           irv2_tune_mode tune, unsigned batch, unsigned *fits)
{
    const int untuned = tune == IRV2_TUNE_OFF && !ctx->binaries;
    /* The kernels take buffer offsets as 32-bit arguments: no buffer beyond 2^32 - 1 floats,
     * whatever the device allows (141 GB GPUs allow more, from about batch 1,500). */
    const uint64_t offsets = (uint64_t)UINT32_MAX * sizeof(float);
    uint64_t limit = ctx->info.max_alloc_bytes;
    if (limit == 0 || limit > offsets) limit = offsets;
    size_t floats;
    int *time = NULL;
    *fits = 0;
    /* batch 1's times: the fused classifier, where the device takes it, keeps the logits live
     * one step longer, so its arena bounds every batch's */
    irv2_status st = layer_times(ctx, n, gemm, 1, &time);
    if (st == IRV2_OK) st = largest_buffer(ctx, n, time, untuned, 1, &floats);
    if (st == IRV2_OK && (uint64_t)floats * sizeof(float) > limit)
        st = irv2_fail(IRV2_ERR_DEVICE_MEMORY,
                       "device '%s': one image needs a %llu-byte buffer, above the largest "
                       "allocation the device allows and 32-bit offsets address (%llu bytes)",
                       ctx->info.name, (unsigned long long)floats * sizeof(float),
                       (unsigned long long)limit);
    /* Buffer sizes grow with the batch: the largest batch that fits, by bisection. */
    unsigned lo = 1, hi = batch;
    while (st == IRV2_OK && lo < hi) {
        unsigned mid = lo + (hi - lo + 1) / 2;
        st = largest_buffer(ctx, n, time, untuned, mid, &floats);
        if ((uint64_t)floats * sizeof(float) <= limit) lo = mid;
        else hi = mid - 1;
    }
    free(time);
    if (st == IRV2_OK) *fits = lo;
    return st;
}

static void release_events(plan *p)
{
    if (!p->have_events) return;
    for (int i = 0; i < p->nsteps; i++)
        for (int k = 0; k < OP_MAX_LAUNCHES; k++)
            if (p->steps[i].events[k]) clReleaseEvent(p->steps[i].events[k]), p->steps[i].events[k] = NULL;
    if (p->head_event) clReleaseEvent(p->head_event), p->head_event = NULL;
    p->have_events = 0;
}

void plan_free(plan *p)
{
    if (!p) return;
    release_events(p);
    for (int i = 0; p->steps && i < p->nsteps; i++) {
        plan_step *s = &p->steps[i];
        for (int k = 0; k < s->nops; k++) op_release(&s->ops[k]);
        cl_mem *mems[5] = {&s->w, &s->bias, &s->scale, &s->shift, &s->work};
        for (int k = 0; k < 5; k++) ctx_buffer_release(p->ctx, mems[k]);
    }
    op_release(&p->head[0]);
    op_release(&p->head[1]);
    ctx_buffer_release(p->ctx, &p->arena);
    ctx_buffer_release(p->ctx, &p->scratch);
    ctx_buffer_release(p->ctx, &p->out);
    free(p->time);
    free(p->root_off);
    free(p->steps);
    free(p->staging);
    free(p);
}

/* ---- run -------------------------------------------------------------------------------- */

/* NCHW input -> [3][N][H][W] staging, then one write into the arena. */
static irv2_status upload_input(plan *p, const float *input)
{
    const net_tensor *x = &p->net->tensors[p->net->input];
    size_t plane = (size_t)x->h * x->w;
    for (unsigned b = 0; b < p->batch; b++)
        for (int c = 0; c < x->c; c++)
            memcpy(p->staging + ((size_t)c * p->batch + b) * plane,
                   input + ((size_t)b * x->c + c) * plane, plane * sizeof(float));
    op_buf dst = view(p, p->net->input);
    cl_int err = clEnqueueWriteBuffer(p->ctx->queue, dst.mem, CL_FALSE, dst.off * sizeof(float),
                                      memory_tensor_floats(x, p->batch) * sizeof(float),
                                      p->staging, 0, NULL, NULL);
    return ctx_cl_check(p->ctx, err, "writing the input");
}

static void binary_saved(void *user, const char *file)
{
    progress_step(user, file);
}

irv2_status plan_run(plan *p, const float *input, float *output, int softmax)
{
    irv2_context *ctx = p->ctx;
    release_events(p);
    irv2_status st = upload_input(p, input);
    for (int i = 0; st == IRV2_OK && i < p->nsteps; i++) {
        plan_step *s = &p->steps[i];
        for (int k = 0; st == IRV2_OK && k < s->nops; k++)
            if (!s->ends_net || k == (softmax != 0))
                st = op_enqueue(ctx, &s->ops[k], p->profiling ? &s->events[k] : NULL);
        p->have_events |= p->profiling;
    }
    if (st == IRV2_OK && !p->head_fused)
        st = op_enqueue(ctx, &p->head[softmax ? 1 : 0], p->profiling ? &p->head_event : NULL);
    if (st == IRV2_OK)
        st = ctx_cl_check(ctx, clEnqueueReadBuffer(ctx->queue, p->out, CL_TRUE, 0,
                                                   p->out_floats * sizeof(float), output, 0,
                                                   NULL, NULL),
                          "reading the output");
    if (st != IRV2_OK) {
        clFinish(ctx->queue); /* leave nothing in flight on failure */
        return st;
    }
    if (!p->binaries_saved) { /* every kernel variant has now been launched once */
        progress_stage(&p->progress, "caching", (unsigned)ctx_unsaved_binaries(ctx, p->used));
        ctx_save_binaries(ctx, p->used, binary_saved, &p->progress);
        p->binaries_saved = 1;
    }
    return IRV2_OK;
}

static double event_ms(cl_event e)
{
    cl_ulong t0 = 0, t1 = 0;
    if (!e || clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_START, sizeof t0, &t0, NULL) !=
                  CL_SUCCESS ||
        clGetEventProfilingInfo(e, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) != CL_SUCCESS)
        return 0.0;
    return t1 > t0 ? (double)(t1 - t0) * 1e-6 : 0.0;
}

irv2_status plan_profile(const plan *p, int by_layer, irv2_layer_profile *out, size_t capacity,
                         size_t *count)
{
    size_t nk = 0;
    if (!p->have_events) return IRV2_OK;
    for (int i = 0; i < p->nsteps; i++) {
        const plan_step *s = &p->steps[i];
        const char *key = by_layer ? s->name : s->kind;
        size_t k = 0;
        while (k < nk && strcmp(out[k].kind, key) != 0) k++;
        if (k == nk) {
            if (nk == capacity) continue;
            out[nk++] = (irv2_layer_profile){.kind = key};
        }
        for (int e = 0; e < s->nops; e++) out[k].ms += event_ms(s->events[e]);
        out[k].gflop += s->flops * 1e-9;
        out[k].launches += s->ends_net ? 1u : (unsigned)s->nops;
    }
    if (!p->head_fused && nk < capacity) /* the output's own launch */
        out[nk++] = (irv2_layer_profile){"head", event_ms(p->head_event), 0.0, 1};
    *count = nk;
    return IRV2_OK;
}
