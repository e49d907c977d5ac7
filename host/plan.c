/* plan.c: model -> plan for one batch size: activation storage by liveness in one arena
 * (with guard space for the convolutions' shifted vector reads), one prepared launch per
 * layer; and enqueueing the whole network with a single wait. */
#include "model.h"
#include "tune.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct plan_step {
    const net_layer *layer;
    const char *kind;
    char name[2 * NET_NAME_MAX]; /* the layer's, or "a.x+y+z" for stacked siblings a.x, a.y, a.z */
    int members[CONV_MAX_PARTS]; /* the layers this step computes (stacked siblings) */
    int nmembers;                /* 0: computed by an earlier step */
    double flops;            /* for the whole batch */
    int gemm;                /* first a CLBlast SGEMM of m x n x k (then ops: its epilogue) */
    int m, n, k;
    op_buf a_in, c_out;
    float beta;
    op_launch ops[CONV_MAX_LAUNCHES]; /* the kernels, in order */
    int nops;
    cl_event events[CONV_MAX_LAUNCHES + 1]; /* per op, then the GEMM's; when profiling */
} plan_step;

/* Device copies of one layer's parameters, packed for the kernel chosen for it. */
typedef struct layer_device {
    conv_choice choice;
    cl_mem w, bias, scale, shift;
} layer_device;

struct plan {
    unsigned batch;
    layer_device *dev;       /* per layer */
    uint64_t weight_bytes;
    int binaries_saved;
    cl_mem arena;
    size_t arena_floats;
    cl_mem scratch;          /* parity planes (phase form) or input panels (panel form) */
    size_t scratch_floats, scratch_guard;
    int panels_of, panels_vw; /* while building: the tensor whose panels scratch holds, or -1 */
    size_t *root_off;        /* per tensor: element offset of its root (roots only) */
    cl_mem out;              /* batch x classes */
    size_t out_floats;
    plan_step *steps;
    int nsteps;
    op_launch head[2];       /* logits, probabilities */
    float *staging;          /* input transposed to [3][N][299][299] */
    int have_events;
};

unsigned plan_batch(const plan *p) { return p->batch; }

uint64_t plan_weight_bytes(const plan *p) { return p->weight_bytes; }

uint64_t plan_activation_bytes(const plan *p)
{
    return ((uint64_t)p->arena_floats + (p->scratch ? p->scratch_floats : 0) +
            (p->out ? p->out_floats : 0)) *
           sizeof(float);
}

static size_t tensor_floats(const net_tensor *t, unsigned batch)
{
    return (size_t)t->c * batch * t->h * t->w;
}

/* Liveness of each root: first and last step touching it (input: -1, logits: nlayers);
 * layer i runs at step lead[i]. */
static void root_lifetimes(const net *n, const int *lead, int *first, int *last)
{
    for (int t = 0; t < n->ntensors; t++) first[t] = n->nlayers + 1, last[t] = -2;
    for (int i = 0; i < n->nlayers; i++) {
        int ids[2] = {net_root(n, n->layers[i].in, NULL), net_root(n, n->layers[i].out, NULL)};
        for (int k = 0; k < 2; k++) {
            if (lead[i] < first[ids[k]]) first[ids[k]] = lead[i];
            if (lead[i] > last[ids[k]]) last[ids[k]] = lead[i];
        }
    }
    first[n->input] = -1;
    last[net_root(n, n->logits, NULL)] = n->nlayers;
}

/* Greedy placement, largest first, at the lowest offset free over the root's lifetime. */
static irv2_status place_roots(const net *n, const int *lead, unsigned batch, size_t guard,
                               size_t *off, size_t *total)
{
    int nt = n->ntensors;
    int *first = malloc(nt * sizeof *first), *last = malloc(nt * sizeof *last);
    int *order = malloc(nt * sizeof *order);
    irv2_status st = IRV2_OK;
    if (!first || !last || !order) {
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory planning buffers");
        goto done;
    }
    root_lifetimes(n, lead, first, last);
    int count = 0;
    for (int t = 0; t < nt; t++)
        if (n->tensors[t].parent < 0 && last[t] >= first[t]) order[count++] = t;
    for (int i = 1; i < count; i++) /* insertion sort by size, descending */
        for (int j = i; j > 0 && tensor_floats(&n->tensors[order[j]], 1) >
                                     tensor_floats(&n->tensors[order[j - 1]], 1); j--) {
            int tmp = order[j];
            order[j] = order[j - 1], order[j - 1] = tmp;
        }
    *total = guard;
    for (int i = 0; i < count; i++) {
        int t = order[i];
        size_t size = tensor_floats(&n->tensors[t], batch), candidate = guard;
        for (int moved = 1; moved;) {
            moved = 0;
            for (int j = 0; j < i; j++) {
                int u = order[j];
                if (first[u] > last[t] || first[t] > last[u]) continue;
                size_t us = off[u], ue = us + tensor_floats(&n->tensors[u], batch);
                if (candidate < ue && us < candidate + size) candidate = ue, moved = 1;
            }
        }
        off[t] = candidate;
        if (candidate + size > *total) *total = candidate + size;
    }
    *total += guard;
done:
    free(first);
    free(last);
    free(order);
    return st;
}

static op_buf view(const net *n, const plan *p, int t)
{
    int coff, root = net_root(n, t, &coff);
    const net_tensor *r = &n->tensors[root];
    return (op_buf){p->arena, p->root_off[root] + (size_t)coff * p->batch * r->h * r->w};
}

static op_epilogue epi_of(const net_layer *l)
{
    return (op_epilogue){l->epi.relu1, l->epi.residual, l->epi.affine, l->epi.relu2};
}

/* A 1x1 stride-1 conv runs as one GEMM over all N*H*W positions. */
static conv_shape conv_shape_of(const net *n, const net_layer *l, unsigned batch)
{
    const net_tensor *x = &n->tensors[l->in];
    conv_shape s = {.cin = l->cin, .cout = l->cout, .kh = l->kh, .kw = l->kw, .stride = l->sh,
                    .ph = l->ph, .pw = l->pw, .n = (int)batch, .h = x->h, .w = x->w};
    if (l->kh == 1 && l->kw == 1 && l->sh == 1) s.n = 1, s.h = 1, s.w = (int)batch * x->h * x->w;
    return s;
}

static int is_gemm_shaped(const net_layer *l)
{
    return l->kind == LAYER_CONV && l->kh == 1 && l->kw == 1 && l->sh == 1 && l->ph == 0 &&
           l->pw == 0;
}

static irv2_status upload(irv2_context *ctx, plan *p, const char *what, const float *data,
                          size_t count, cl_mem *out)
{
    irv2_status st = ctx_buffer(ctx, count * sizeof(float), CL_MEM_READ_ONLY, what, out);
    if (st != IRV2_OK) return st;
    p->weight_bytes += count * sizeof(float);
    cl_int err = clEnqueueWriteBuffer(ctx->queue, *out, CL_TRUE, 0, count * sizeof(float), data,
                                      0, NULL, NULL);
    return ctx_cl_check(ctx, err, what);
}

/* Where the step's output goes: one part per layer it computes. */
static conv_out step_out(const net *n, const plan *p, const plan_step *s)
{
    conv_out o = {p->arena, s->nmembers, {0}, {0}};
    for (int k = 0, from = 0; k < s->nmembers; k++) {
        const net_layer *l = &n->layers[s->members[k]];
        o.from[k] = from, o.off[k] = view(n, p, l->out).off;
        from += l->cout;
    }
    return o;
}

/* The weights [cout][cin][kh][kw] and bias of the step's layers, stacked along cout into
 * *stack (NULL for a single layer, whose own arrays are used). */
static irv2_status stack_params(const irv2_model *m, const plan_step *s, const conv_shape *cs,
                                const float **w, const float **bias, float **stack)
{
    size_t wcount = (size_t)cs->cout * cs->cin * cs->kh * cs->kw, w_at = 0, b_at = wcount;
    *stack = NULL;
    *w = m->weights[s->members[0]].w, *bias = m->weights[s->members[0]].bias;
    if (s->nmembers == 1) return IRV2_OK;
    *stack = malloc((wcount + (size_t)cs->cout) * sizeof(float));
    if (!*stack) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory stacking %s", s->name);
    for (int k = 0; k < s->nmembers; k++) {
        const net_layer *l = &m->net.layers[s->members[k]];
        const layer_weights *lw = &m->weights[s->members[k]];
        size_t count = (size_t)l->cout * l->cin * l->kh * l->kw;
        memcpy(*stack + w_at, lw->w, count * sizeof(float));
        memcpy(*stack + b_at, lw->bias, (size_t)l->cout * sizeof(float));
        w_at += count, b_at += (size_t)l->cout;
    }
    *w = *stack, *bias = *stack + wcount;
    return IRV2_OK;
}

/* Chooses the conv's kernel (measuring if need be) and uploads its weights packed for it.
 * Stacked siblings run native: a CLBlast GEMM writes one contiguous output. */
static irv2_status upload_conv(irv2_model *m, plan *p, int i, const conv_shape *cs)
{
    const net_layer *l = &m->net.layers[i];
    const plan_step *s = &p->steps[i];
    layer_device *d = &p->dev[i];
    size_t count = (size_t)cs->cout * cs->cin * cs->kh * cs->kw;
    cl_mem canonical = NULL;
    const float *w, *bias;
    float *stack;
    irv2_status st = stack_params(m, s, cs, &w, &bias, &stack);
    if (st == IRV2_OK) st = upload(m->ctx, p, s->name, bias, (size_t)cs->cout, &d->bias);
    if (st == IRV2_OK && is_gemm_shaped(l) && s->nmembers == 1 &&
        m->options.gemm != IRV2_GEMM_NATIVE)
        st = upload(m->ctx, p, s->name, w, count, &canonical);
    if (st != IRV2_OK) {
        free(stack);
        return st;
    }
    tune_job job = {m->options.gemm, *cs, epi_of(l), w, d->bias, canonical,
                    view(&m->net, p, l->in), step_out(&m->net, p, s),
                    {p->scratch, p->scratch_guard}};
    st = tune_choose(m->ctx, &job, &d->choice);
    if (st == IRV2_OK && d->choice.clblast) {
        d->w = canonical;
        free(stack);
        return IRV2_OK;
    }
    if (canonical) {
        clReleaseMemObject(canonical);
        p->weight_bytes -= count * sizeof(float);
    }
    float *packed = NULL;
    if (st == IRV2_OK) {
        size_t packed_count = conv_packed_count(cs, d->choice.form.tiling);
        packed = malloc(packed_count * sizeof(float));
        if (!packed)
            st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory packing %s", s->name);
        else {
            conv_pack(cs, d->choice.form.tiling, w, packed);
            st = upload(m->ctx, p, s->name, packed, packed_count, &d->w);
        }
    }
    free(packed);
    free(stack);
    return st;
}

/* Sibling 1x1 convs read the same input: when scratch still holds that input's panels
 * (packed by an earlier step, at the same width, with no step since writing to that input or
 * to scratch), a panel-form step drops its own packing launch. Called for every step in order. */
static void share_panels(const net *n, plan *p, int i)
{
    const net_layer *l = &n->layers[i];
    const conv_choice *c = &p->dev[i].choice;
    plan_step *s = &p->steps[i];
    if (s->nmembers == 0) return; /* computed by an earlier step */
    int writes_scratch = l->kind == LAYER_CONV && !c->clblast && (c->form.phase || c->form.panels == 1);
    if (writes_scratch && c->form.panels == 1 && is_gemm_shaped(l)) {
        if (p->panels_of == l->in && p->panels_vw == c->form.tiling.vw && s->nops == 2) {
            op_release(&s->ops[0]);
            s->ops[0] = s->ops[1];
            memset(&s->ops[1], 0, sizeof s->ops[1]);
            s->nops = 1;
        }
        p->panels_of = l->in, p->panels_vw = c->form.tiling.vw;
    } else if (writes_scratch) { /* parity planes or im2col panels: not shareable */
        p->panels_of = -1;
    }
    for (int k = 0; k < s->nmembers && p->panels_of >= 0; k++)
        if (net_root(n, n->layers[s->members[k]].out, NULL) == net_root(n, p->panels_of, NULL))
            p->panels_of = -1;
}

/* Each step's layers (net_siblings: stacked 1x1 siblings run at the first one's step) and
 * the name its profile shows. */
static void group_steps(const net *n, const int *lead, plan *p)
{
    for (int i = 0; i < n->nlayers; i++) {
        plan_step *s = &p->steps[lead[i]];
        p->steps[i].layer = &n->layers[i];
        p->steps[i].kind = net_layer_kind_name(&n->layers[i]);
        if (s->nmembers < CONV_MAX_PARTS) s->members[s->nmembers++] = i;
    }
    for (int i = 0; i < n->nlayers; i++) {
        plan_step *s = &p->steps[i];
        snprintf(s->name, sizeof s->name, "%s", n->layers[i].name);
        const char *dot = strrchr(n->layers[i].name, '.');
        size_t prefix = dot ? (size_t)(dot - n->layers[i].name) + 1 : 0;
        for (int k = 1; k < s->nmembers; k++) {
            const char *other = n->layers[s->members[k]].name;
            size_t used = strlen(s->name);
            const char *tail =
                strncmp(other, n->layers[i].name, prefix) == 0 ? other + prefix : other;
            snprintf(s->name + used, sizeof s->name - used, "+%s", tail);
        }
    }
}

static irv2_status prepare_step(irv2_model *m, plan *p, int i)
{
    const net *n = &m->net;
    const net_layer *l = &n->layers[i];
    const layer_weights *lw = &m->weights[i];
    layer_device *d = &p->dev[i];
    plan_step *s = &p->steps[i];
    const net_tensor *x = &n->tensors[l->in];
    irv2_status st = IRV2_OK;
    if (s->nmembers == 0) return IRV2_OK; /* computed by an earlier step */
    if (lw->scale) st = upload(m->ctx, p, l->name, lw->scale, (size_t)l->cout, &d->scale);
    if (st == IRV2_OK && lw->shift)
        st = upload(m->ctx, p, l->name, lw->shift, (size_t)l->cout, &d->shift);
    if (st != IRV2_OK) return st;
    if (l->kind != LAYER_CONV) {
        pool_kind pk = l->kind == LAYER_MAXPOOL   ? POOL_MAX3S2
                       : l->kind == LAYER_AVGPOOL ? POOL_AVG3S1
                                                  : POOL_GLOBAL_AVG;
        return pool_op(m->ctx, pk, x->c, (int)p->batch, x->h, x->w, epi_of(l), view(n, p, l->in),
                       d->scale, d->shift, view(n, p, l->out), &s->ops[s->nops++]);
    }
    conv_shape cs = conv_shape_of(n, l, p->batch);
    for (int k = 1; k < s->nmembers; k++) cs.cout += n->layers[s->members[k]].cout;
    st = conv_shape_finish(&cs);
    if (st == IRV2_OK) st = upload_conv(m, p, i, &cs);
    if (st != IRV2_OK) return st;
    s->flops = 2.0 * cs.cout * cs.cin * cs.kh * cs.kw * (double)cs.n * cs.ho * cs.wo;
    if (d->choice.clblast) {
        s->gemm = 1;
        s->m = l->cout, s->k = l->cin, s->n = (int)p->batch * x->h * x->w;
        s->a_in = view(n, p, l->in), s->c_out = view(n, p, l->out);
        s->beta = l->epi.residual ? 1.0f : 0.0f;
        st = channel_epilogue_op(m->ctx, l->cout, s->n, epi_of(l), s->c_out, d->bias, d->scale,
                                 d->shift, &s->ops[0]);
        s->nops = st == IRV2_OK;
        return st;
    }
    conv_out out = step_out(n, p, s);
    return conv_launches(m->ctx, &cs, &d->choice.form, epi_of(l), view(n, p, l->in),
                         (op_buf){p->scratch, p->scratch_guard}, d->w, d->bias, d->scale, d->shift,
                         &out, s->ops, &s->nops);
}

/* Floats (and guard) of the one scratch buffer, sized for the largest parity planes or
 * panels any conv may be given: layers run one after another on the in-order queue, so they
 * share it. */
static size_t scratch_need(const irv2_model *m, unsigned batch, size_t *guard)
{
    size_t need = 0;
    *guard = 0;
    for (int i = 0; i < m->net.nlayers; i++) {
        const net_layer *l = &m->net.layers[i];
        if (l->kind != LAYER_CONV) continue;
        conv_shape cs = conv_shape_of(&m->net, l, batch);
        if (conv_shape_finish(&cs) != IRV2_OK) continue;
        size_t phase = conv_phase_scratch(&cs), panels = conv_panel_scratch(&cs, (conv_tiling){16, 16});
        size_t floats = phase > panels ? phase : panels, g = conv_guard(&cs, (conv_tiling){16, 16});
        if (floats == 0) continue;
        if (floats > need) need = floats;
        if (g > *guard) *guard = g;
    }
    return need ? need + 2 * *guard : 0;
}

static irv2_status alloc_scratch(irv2_model *m, plan *p)
{
    p->scratch_floats = scratch_need(m, p->batch, &p->scratch_guard);
    if (p->scratch_floats == 0) return IRV2_OK;
    irv2_status st = ctx_buffer(m->ctx, p->scratch_floats * sizeof(float), CL_MEM_READ_WRITE,
                                "scratch", &p->scratch);
    if (st != IRV2_OK) return st;
    float zero = 0.0f;
    return ctx_cl_check(m->ctx, clEnqueueFillBuffer(m->ctx->queue, p->scratch, &zero, sizeof zero,
                                                    0, p->scratch_floats * sizeof(float), 0, NULL,
                                                    NULL),
                        "clEnqueueFillBuffer");
}

/* Drops the scratch buffer when no layer chose the parity-plane or panel form. */
static void trim_scratch(plan *p)
{
    for (int i = 0; i < p->nsteps; i++)
        if (p->dev[i].choice.form.phase || p->dev[i].choice.form.panels == 1) return;
    if (p->scratch) clReleaseMemObject(p->scratch);
    p->scratch = NULL;
}

/* Room for the widest tiling any conv may be given (the choice comes later). */
static size_t guard_floats(const irv2_model *m, unsigned batch)
{
    size_t g = 64;
    for (int i = 0; i < m->net.nlayers; i++) {
        const net_layer *l = &m->net.layers[i];
        if (l->kind != LAYER_CONV) continue;
        conv_shape cs = conv_shape_of(&m->net, l, batch);
        size_t need = conv_guard(&cs, (conv_tiling){16, 16});
        if (need > g) g = need;
    }
    return g;
}

/* Which layers run stacked (net_siblings); none when CLBlast is forced. */
static irv2_status sibling_leads(const irv2_model *m, int **lead)
{
    *lead = malloc((size_t)(m->net.nlayers > 0 ? m->net.nlayers : 1) * sizeof **lead);
    if (!*lead) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory planning steps");
    net_siblings(&m->net, m->options.gemm == IRV2_GEMM_CLBLAST ? 1 : CONV_MAX_PARTS, *lead);
    return IRV2_OK;
}

/* Bytes of the largest single buffer a plan for this batch size allocates. */
static irv2_status largest_buffer(const irv2_model *m, const int *lead, unsigned batch,
                                  uint64_t *bytes)
{
    size_t *off = calloc((size_t)m->net.ntensors, sizeof *off), arena = 0, guard;
    *bytes = 0;
    if (!off) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory planning buffers");
    irv2_status st = place_roots(&m->net, lead, batch, guard_floats(m, batch), off, &arena);
    free(off);
    size_t scratch = scratch_need(m, batch, &guard);
    size_t floats = arena > scratch ? arena : scratch;
    *bytes = (uint64_t)floats * sizeof(float);
    return st;
}

irv2_status plan_fit_batch(const irv2_model *m, unsigned batch, unsigned *fits)
{
    uint64_t limit = m->ctx->info.max_alloc_bytes, bytes;
    int *lead = NULL;
    *fits = 0;
    if (limit == 0) return *fits = batch, IRV2_OK; /* the device states no limit */
    irv2_status st = sibling_leads(m, &lead);
    if (st == IRV2_OK) st = largest_buffer(m, lead, 1, &bytes);
    if (st == IRV2_OK && bytes > limit)
        st = irv2_fail(IRV2_ERR_DEVICE_MEMORY,
                       "device '%s': one image needs a %llu-byte buffer, above the largest "
                       "allocation the device allows (%llu bytes)",
                       m->ctx->info.name, (unsigned long long)bytes, (unsigned long long)limit);
    /* Buffer sizes grow with the batch: the largest batch that fits, by bisection. */
    unsigned lo = 1, hi = batch;
    while (st == IRV2_OK && lo < hi) {
        unsigned mid = lo + (hi - lo + 1) / 2;
        st = largest_buffer(m, lead, mid, &bytes);
        if (bytes <= limit) lo = mid;
        else hi = mid - 1;
    }
    free(lead);
    if (st == IRV2_OK) *fits = lo;
    return st;
}

irv2_status plan_create(irv2_model *m, unsigned batch, plan **out)
{
    const net *n = &m->net;
    irv2_context *ctx = m->ctx;
    *out = NULL;
    plan *p = calloc(1, sizeof *p);
    if (!p) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    p->batch = batch;
    p->nsteps = n->nlayers;
    p->root_off = calloc((size_t)n->ntensors, sizeof *p->root_off);
    p->steps = calloc((size_t)n->nlayers, sizeof *p->steps);
    p->dev = calloc((size_t)n->nlayers, sizeof *p->dev);
    p->staging = malloc(tensor_floats(&n->tensors[n->input], batch) * sizeof(float));
    irv2_status st = IRV2_OK;
    int *lead = NULL; /* per layer: the step that computes it */
    if (!p->root_off || !p->steps || !p->dev || !p->staging)
        st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory for a batch of %u", batch);
    if (st == IRV2_OK) st = sibling_leads(m, &lead);
    if (st == IRV2_OK) group_steps(n, lead, p);
    if (st == IRV2_OK)
        st = place_roots(n, lead, batch, guard_floats(m, batch), p->root_off, &p->arena_floats);
    free(lead);
    if (st == IRV2_OK)
        st = ctx_buffer(ctx, p->arena_floats * sizeof(float), CL_MEM_READ_WRITE, "activations",
                        &p->arena);
    if (st == IRV2_OK) {
        /* Guard space is read (and masked) by shifted loads: keep it finite. */
        float zero = 0.0f;
        st = ctx_cl_check(ctx, clEnqueueFillBuffer(ctx->queue, p->arena, &zero, sizeof zero, 0,
                                                   p->arena_floats * sizeof(float), 0, NULL, NULL),
                          "clEnqueueFillBuffer");
    }
    p->out_floats = (size_t)batch * n->classes;
    if (st == IRV2_OK)
        st = ctx_buffer(ctx, p->out_floats * sizeof(float), CL_MEM_WRITE_ONLY, "output", &p->out);
    if (st == IRV2_OK) st = alloc_scratch(m, p);
    p->panels_of = -1;
    for (int i = 0; st == IRV2_OK && i < n->nlayers; i++) {
        st = prepare_step(m, p, i);
        if (st == IRV2_OK) share_panels(n, p, i);
    }
    tune_save(ctx);
    if (st == IRV2_OK) trim_scratch(p);
    for (int k = 0; st == IRV2_OK && k < 2; k++)
        st = head_op(ctx, n->classes, (int)batch, k, view(n, p, n->logits), p->out, &p->head[k]);
    if (st == IRV2_OK) st = ctx_cl_check(ctx, clFinish(ctx->queue), "clFinish");
    if (st != IRV2_OK) {
        plan_free(p);
        return st;
    }
    *out = p;
    return IRV2_OK;
}

static void release_events(plan *p)
{
    if (!p->have_events) return;
    for (int i = 0; i < p->nsteps; i++)
        for (int k = 0; k <= CONV_MAX_LAUNCHES; k++)
            if (p->steps[i].events[k]) clReleaseEvent(p->steps[i].events[k]), p->steps[i].events[k] = NULL;
    p->have_events = 0;
}

void plan_free(plan *p)
{
    if (!p) return;
    release_events(p);
    for (int i = 0; p->steps && i < p->nsteps; i++) {
        for (int k = 0; k < p->steps[i].nops; k++) op_release(&p->steps[i].ops[k]);
    }
    op_release(&p->head[0]);
    op_release(&p->head[1]);
    for (int i = 0; p->dev && i < p->nsteps; i++) {
        cl_mem mems[4] = {p->dev[i].w, p->dev[i].bias, p->dev[i].scale, p->dev[i].shift};
        for (int k = 0; k < 4; k++)
            if (mems[k]) clReleaseMemObject(mems[k]);
    }
    free(p->dev);
    if (p->arena) clReleaseMemObject(p->arena);
    if (p->scratch) clReleaseMemObject(p->scratch);
    if (p->out) clReleaseMemObject(p->out);
    free(p->root_off);
    free(p->steps);
    free(p->staging);
    free(p);
}

/* NCHW input -> [3][N][H][W] staging, then one write into the arena. */
static irv2_status upload_input(irv2_model *m, plan *p, const float *input)
{
    const net_tensor *x = &m->net.tensors[m->net.input];
    size_t plane = (size_t)x->h * x->w;
    for (unsigned b = 0; b < p->batch; b++)
        for (int c = 0; c < x->c; c++)
            memcpy(p->staging + ((size_t)c * p->batch + b) * plane,
                   input + ((size_t)b * x->c + c) * plane, plane * sizeof(float));
    op_buf dst = view(&m->net, p, m->net.input);
    cl_int err = clEnqueueWriteBuffer(m->ctx->queue, dst.mem, CL_FALSE, dst.off * sizeof(float),
                                      tensor_floats(x, p->batch) * sizeof(float), p->staging, 0,
                                      NULL, NULL);
    return ctx_cl_check(m->ctx, err, "writing the input");
}

irv2_status plan_run(irv2_model *m, plan *p, const float *input, float *output, int softmax)
{
    irv2_context *ctx = m->ctx;
    release_events(p);
    irv2_status st = upload_input(m, p, input);
    for (int i = 0; st == IRV2_OK && i < p->nsteps; i++) {
        plan_step *s = &p->steps[i];
        int prof = m->profiling;
        if (s->gemm)
            st = gemm_clblast(ctx, s->m, s->n, s->k, p->dev[i].w, 0, s->a_in, s->c_out, s->beta,
                              prof ? &s->events[CONV_MAX_LAUNCHES] : NULL);
        for (int k = 0; st == IRV2_OK && k < s->nops; k++)
            st = op_enqueue(ctx, &s->ops[k], prof ? &s->events[k] : NULL);
        p->have_events |= m->profiling;
    }
    if (st == IRV2_OK) st = op_enqueue(ctx, &p->head[softmax ? 1 : 0], NULL);
    if (st == IRV2_OK) {
        size_t bytes = (size_t)p->batch * m->net.classes * sizeof(float);
        st = ctx_cl_check(ctx, clEnqueueReadBuffer(ctx->queue, p->out, CL_TRUE, 0, bytes, output,
                                                   0, NULL, NULL),
                          "reading the output");
    }
    if (st != IRV2_OK) {
        clFinish(ctx->queue); /* leave nothing in flight on failure */
        return st;
    }
    if (!p->binaries_saved) { /* every kernel variant has now been launched once */
        ctx_save_binaries(ctx);
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
        if (s->nmembers == 0) continue; /* computed by an earlier step */
        const char *key = by_layer ? s->name : s->kind;
        size_t k = 0;
        while (k < nk && strcmp(out[k].kind, key) != 0) k++;
        if (k == nk) {
            if (nk == capacity) continue;
            out[nk++] = (irv2_layer_profile){.kind = key};
        }
        for (int e = 0; e <= CONV_MAX_LAUNCHES; e++) out[k].ms += event_ms(s->events[e]);
        out[k].gflop += s->flops * 1e-9;
        out[k].launches += (unsigned)(s->gemm + s->nops);
    }
    *count = nk;
    return IRV2_OK;
}
