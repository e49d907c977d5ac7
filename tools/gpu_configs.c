/* gpu_configs.c: irv2-gpu-configs, every GPU program the tuner can offer, listed without a
 * device: for an NVIDIA-, AMD- and Intel-like GPU profile (ops/conv_family.h record mode), the
 * programs (cl/ file, -D options, kernel) that the conv families' candidates and refinements,
 * pooling, the head and the fused pool and classifier (at batch 1 and its largest batch)
 * would build for the layers of both variants at batch 1 (where split reductions are offered)
 * and 64. Convs are listed with the bias+ReLU epilogue only: the
 * epilogue runs once per output, after the loops, so its variants add programs but not
 * configurations. tools/gpu-static compiles what it prints.
 *
 * Usage: irv2-gpu-configs            TSV on stdout: vendor, file, kernel, options, label.
 *        irv2-gpu-configs --steps [BATCH,...]   the plan's steps for the NVIDIA profile
 *            (tools/gpu-static --model): per variant and batch (default 1,8,64), a TSV line
 *            per step, its layers
 *            stacked as plan.c stacks sibling 1x1 convs: variant, batch, name, kind, cin, cout,
 *            kh, kw, stride, ph, pw, n, h, w (the conv's shape as run), residual, then per
 *            candidate or refinement form of the conv families "text|launches|file|options"
 *            (the file and options of its first program, with the bias+ReLU epilogue as
 *            listed), joined by ';'. Where the plan fuses the global average pool and the
 *            classifier (classifier_offered: batches up to CLASSIFIER_MAX_BATCH), one step
 *            of kind "pool+classifier" in their place, named as the plan names it: cin the
 *            features, cout the classes, h and w the pool's input, its one form
 *            "classifier|1|file|options", which also writes the network's output: no
 *            "head" step follows it (otherwise one ends the listing). Pooling steps have
 *            one more field: the conv step whose launch can run the pool (net_rider_host,
 *            where its form takes riders, as the SIMT family's do), or nothing. */
#include "net/graph.h"
#include "ops/classifier.h"
#include "ops/conv_family.h"
#include "ops/head.h"
#include "ops/pool.h"
#include "plan/plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINES 4096

/* The programs recorded so far, one "vendor\tfile\tkernel\toptions\tlabel" each, unique. */
typedef struct listing {
    char *lines[MAX_LINES];
    size_t count;
    const char *vendor;
    char label[96];
    int overflow;
} listing;

static void record(void *user, const char *file, const char *options, const char *kernel)
{
    listing *l = user;
    char line[512];
    snprintf(line, sizeof line, "%s\t%s\t%s\t%s\t%s", l->vendor, file, kernel, options,
             l->label);
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->lines[i], line) == 0) return;
    char *copy = l->count < MAX_LINES ? malloc(strlen(line) + 1) : NULL;
    if (!copy) {
        l->overflow = 1;
        return;
    }
    strcpy(copy, line);
    l->lines[l->count++] = copy;
}

/* The GPUs: as their OpenCL drivers report them (an H100, an MI250X GCD, a Max 1550 stack). */
static device_profile gpu(device_vendor vendor, cl_uint units, size_t group, cl_ulong local)
{
    device_profile p = {.type = DEVICE_GPU, .vendor = vendor, .compute_units = units,
                        .float_width = 1, .max_group = group, .max_items = {group, group, 64},
                        .local_mem = local, .local_dedicated = 1, .global_mem = 64ull << 30,
                        .max_alloc = 16ull << 30};
    device_profile_derive(&p);
    return p;
}

/* A conv's shape as the plan runs it (plan_conv_shape), finished. */
static int conv_shape_at(const net *n, const net_layer *l, int batch, conv_shape *s)
{
    *s = plan_conv_shape(n, l, (unsigned)batch);
    return conv_shape_finish(s) == IRV2_OK;
}

/* Every candidate and refinement of the conv, launched in record mode; with a rider (a max
 * pool in its launch), those of the families that take one. */
static void record_conv(irv2_context *ctx, listing *l, const conv_shape *s,
                        const conv_rider *rider)
{
    conv_form c[128];
    size_t n = conv_candidates(ctx, s, 1, ROWS_OWN, 0, c, 64);
    for (size_t i = 0, end = n; i < end; i++) n += conv_refinements(s, &c[i], 0, c + n, 128 - n);
    snprintf(l->label, sizeof l->label, "k%dx%d s%d p%dx%d%s%s", s->kh, s->kw, s->stride, s->ph,
             s->pw, conv_is_gemm(s) ? " gemm" : "", rider ? " rider" : "");
    for (size_t i = 0; i < n; i++) {
        op_launch ops[OP_MAX_LAUNCHES];
        int nops = 0;
        conv_bufs b = {.out = {NULL, 1, {0}, {0}}, .rider = rider};
        if (rider && !conv_takes_rider(&c[i])) continue;
        if (conv_launches(ctx, s, &c[i], (op_epilogue){1, 0, 0, 0}, &b, ops, &nops) == IRV2_OK)
            while (nops > 0) op_release(&ops[--nops]);
        irv2_clear_error();
    }
}

/* The classifier that layer i, a global average pool, runs with where the plan fuses them
 * (plan.c fused_classifier, which the plan keeps to itself), or -1: the next layer is a
 * bias-only 1x1 conv writing the logits from the pool's output, which nothing else reads,
 * and neither has an epilogue. */
static int fused_classifier(const net *n, int i)
{
    const net_layer *pool = &n->layers[i], *fc = i + 1 < n->nlayers ? pool + 1 : NULL;
    if (pool->kind != LAYER_GLOBAL_AVGPOOL || !fc || fc->kind != LAYER_CONV ||
        fc->in != pool->out || fc->out != n->logits || fc->kh != 1 || fc->kw != 1 ||
        fc->ph != 0 || fc->pw != 0 || pool->epi.affine || pool->epi.relu2 || fc->epi.relu1 ||
        fc->epi.residual || fc->epi.affine || fc->epi.relu2)
        return -1;
    for (int j = 0; j < n->nlayers; j++)
        if (j != i + 1 && n->layers[j].in == pool->out) return -1;
    return i + 1;
}

/* The fused global average pool and classifier (ops/classifier.h) where the plan fuses
 * them, at batch 1 and the largest batch it runs, in record mode. */
static void record_classifier(irv2_context *ctx, listing *l, const net *n)
{
    const op_buf none = {NULL, 0};
    for (int i = 0; i + 1 < n->nlayers; i++) {
        const net_layer *y = &n->layers[i], *fc = &n->layers[i + 1];
        if (fused_classifier(n, i) < 0) continue;
        const net_tensor *x = &n->tensors[y->in];
        const classifier_form f = classifier_form_for(ctx);
        static const int batches[] = {1, CLASSIFIER_MAX_BATCH};
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            const classifier_shape s = {x->c, x->h, x->w, fc->cout, batches[b]};
            op_launch op;
            snprintf(l->label, sizeof l->label, "pool+classifier");
            for (int what = CLASSIFIER_LOGITS; what <= CLASSIFIER_SOFTMAX; what++) {
                if (classifier_op(ctx, &s, &f, (classifier_out)what, none, NULL, NULL, NULL,
                                  none, &op) == IRV2_OK)
                    op_release(&op);
                irv2_clear_error();
            }
        }
    }
}

/* The pooling layers and the head of the network in record mode. */
static void record_small(irv2_context *ctx, listing *l, const net *n, int batch)
{
    op_launch op;
    const op_buf none = {NULL, 0};
    for (int i = 0; i < n->nlayers; i++) {
        const net_layer *y = &n->layers[i];
        const net_tensor *x = &n->tensors[y->in];
        if (y->kind == LAYER_CONV) continue;
        const pool_kind k = y->kind == LAYER_MAXPOOL   ? POOL_MAX3S2
                            : y->kind == LAYER_AVGPOOL ? POOL_AVG3S1
                                                       : POOL_GLOBAL_AVG;
        snprintf(l->label, sizeof l->label, "%s", net_layer_kind_name(y));
        const op_epilogue epi = {y->epi.relu1, 0, y->epi.affine, y->epi.relu2};
        if (pool_op(ctx, k, x->c, batch, x->h, x->w, epi, none, NULL, NULL, none, &op) == IRV2_OK)
            op_release(&op);
        irv2_clear_error();
    }
    for (int softmax = 0; softmax < 2; softmax++) {
        snprintf(l->label, sizeof l->label, "%s", softmax ? "head softmax" : "head");
        if (head_op(ctx, n->classes, batch, softmax, none, NULL, &op) == IRV2_OK) op_release(&op);
        irv2_clear_error();
    }
}

/* The form's launches in record mode: how many, and its first program's file and options. */
typedef struct first_program {
    char file[64], options[384];
    int seen;
} first_program;

static void record_first(void *user, const char *file, const char *options, const char *kernel)
{
    first_program *f = user;
    (void)kernel;
    if (f->seen++) return;
    snprintf(f->file, sizeof f->file, "%s", file);
    snprintf(f->options, sizeof f->options, "%s", options);
}

/* One step: the shape as run and every form the families offer it, as described above. */
static void print_step(irv2_context *ctx, const char *variant, int batch, const char *name,
                       const conv_shape *s, op_epilogue epi)
{
    printf("%s\t%d\t%s\tconv\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t", variant, batch, name,
           s->cin, s->cout, s->kh, s->kw, s->stride, s->ph, s->pw, s->n, s->h, s->w,
           epi.residual);
    conv_form c[128];
    size_t n = conv_candidates(ctx, s, 1, ROWS_OWN, 0, c, 64);
    for (size_t i = 0, end = n; i < end; i++) n += conv_refinements(s, &c[i], 0, c + n, 128 - n);
    for (size_t i = 0, printed = 0; i < n; i++) {
        first_program f = {.seen = 0};
        op_launch ops[OP_MAX_LAUNCHES];
        int nops = 0;
        conv_bufs b = {.out = {NULL, 1, {0}, {0}}};
        char text[64];
        ctx->record_program = record_first, ctx->record_user = &f;
        /* with the listing's bias+ReLU epilogue, so that the options name a listed program
         * (the epilogue's flags do not change the loops) */
        irv2_status st = conv_launches(ctx, s, &c[i], (op_epilogue){1, 0, 0, 0}, &b, ops, &nops);
        irv2_clear_error();
        if (st != IRV2_OK) continue;
        const int launches = nops;
        while (nops > 0) op_release(&ops[--nops]);
        conv_form_format(&c[i], text, sizeof text);
        printf("%s%s|%d|%s|%s", printed++ ? ";" : "", text, launches, f.file, f.options);
    }
    printf("\n");
}

/* The fused pool and classifier step (plan.c make_steps' "pool+classifier"), printed with
 * its one launch's program; 0 where classifier_op refuses the shape. */
static int print_classifier(irv2_context *ctx, const char *variant, int batch, const net *n,
                            const net_layer *pool, const net_layer *fc)
{
    const net_tensor *x = &n->tensors[pool->in];
    const classifier_shape s = {x->c, x->h, x->w, fc->cout, batch};
    const classifier_form f = classifier_form_for(ctx);
    const op_buf none = {NULL, 0};
    first_program first = {.seen = 0};
    op_launch op;
    ctx->record_program = record_first, ctx->record_user = &first;
    irv2_status st = classifier_op(ctx, &s, &f, CLASSIFIER_LOGITS, none, NULL, NULL, NULL,
                                   none, &op);
    if (st != IRV2_OK) {
        fprintf(stderr, "irv2-gpu-configs: %s\n", irv2_last_error());
        irv2_clear_error();
        return 0;
    }
    op_release(&op);
    printf("%s\t%d\t%s+%s\tpool+classifier\t%d\t%d\t0\t0\t0\t0\t0\t%d\t%d\t%d\t0\t"
           "classifier|1|%s|%s\n",
           variant, batch, pool->name, fc->name, x->c, fc->cout, batch, x->h, x->w, first.file,
           first.options);
    return 1;
}

/* The plan's steps of a variant at a batch size (plan.c make_steps), printed. */
static int print_steps(irv2_context *ctx, net_variant v, int batch)
{
    net n;
    if (net_build(v, 1000, &n) != IRV2_OK) {
        fprintf(stderr, "irv2-gpu-configs: %s\n", irv2_last_error());
        return 0;
    }
    int *lead = malloc((size_t)n.nlayers * sizeof *lead);
    if (!lead) {
        net_free(&n);
        return 0;
    }
    net_siblings(&n, OUT_MAX_PARTS, lead);
    const char *variant = v == NET_SEED ? "seed" : "tf";
    const int fuse = classifier_offered(ctx, (unsigned)batch);
    int ok = 1, head = 1;
    for (int i = 0; ok && i < n.nlayers; i++) {
        const net_layer *l = &n.layers[i];
        const net_tensor *x = &n.tensors[l->in];
        const int fc = fuse ? fused_classifier(&n, i) : -1;
        conv_shape s;
        if (lead[i] != i) continue; /* stacked into its lead's step */
        if (fc >= 0) {
            ok = print_classifier(ctx, variant, batch, &n, l, &n.layers[fc]);
            lead[fc] = i, head = 0; /* run with the pool; it writes the output too */
            continue;
        }
        if (l->kind != LAYER_CONV) {
            const int host = net_rider_host(&n, lead, i, NULL, NULL);
            printf("%s\t%d\t%s\t%s\t%d\t%d\t0\t0\t0\t0\t0\t%d\t%d\t%d\t0\t\t%s\n", variant,
                   batch, l->name, net_layer_kind_name(l), x->c, x->c, batch, x->h, x->w,
                   host >= 0 ? n.layers[host].name : "");
            continue;
        }
        if (!conv_shape_at(&n, l, batch, &s)) continue;
        for (int j = i + 1; j < n.nlayers; j++)
            if (lead[j] == i) s.cout += n.layers[j].cout;
        const op_epilogue epi = {l->epi.relu1, l->epi.residual, l->epi.affine, l->epi.relu2};
        print_step(ctx, variant, batch, l->name, &s, epi);
    }
    if (ok && head)
        printf("%s\t%d\thead\thead\t%d\t%d\t0\t0\t0\t0\t0\t%d\t1\t1\t0\t\n", variant,
               batch, n.classes, n.classes, batch);
    free(lead);
    net_free(&n);
    return ok;
}

static int record_vendor(const char *name, device_profile p, listing *l)
{
    irv2_context *ctx = calloc(1, sizeof *ctx);
    if (!ctx) return 0;
    ctx->profile = p, ctx->kernels = KERNELS_BOTH;
    snprintf(ctx->info.name, sizeof ctx->info.name, "%s", name);
    ctx->record_program = record, ctx->record_user = l;
    l->vendor = name;
    int ok = 1;
    for (int v = NET_SEED; ok && v <= NET_TF; v++) {
        net n;
        if (net_build((net_variant)v, 1000, &n) != IRV2_OK) {
            fprintf(stderr, "irv2-gpu-configs: %s\n", irv2_last_error());
            ok = 0;
            break;
        }
        int *lead = malloc((size_t)n.nlayers * sizeof *lead);
        if (!lead) {
            net_free(&n);
            ok = 0;
            break;
        }
        net_siblings(&n, OUT_MAX_PARTS, lead);
        static const int batches[] = {1, 64};
        for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
            for (int i = 0; i < n.nlayers; i++) {
                conv_shape s;
                if (n.layers[i].kind == LAYER_CONV &&
                    conv_shape_at(&n, &n.layers[i], batches[b], &s))
                    record_conv(ctx, l, &s, NULL);
                /* the conv a max pool can ride, with it (as plan.c attaches riders) */
                const int host = net_rider_host(&n, lead, i, NULL, NULL);
                const net_tensor *x = &n.tensors[n.layers[i].in];
                const conv_rider rider = {.c = x->c, .n = batches[b], .h = x->h, .w = x->w};
                if (host >= 0 && conv_shape_at(&n, &n.layers[host], batches[b], &s))
                    record_conv(ctx, l, &s, &rider);
            }
            record_small(ctx, l, &n, batches[b]);
        }
        record_classifier(ctx, l, &n);
        free(lead);
        net_free(&n);
    }
    free(ctx);
    return ok;
}

int main(int argc, char **argv)
{
    const int steps = argc >= 2 && argc <= 3 && strcmp(argv[1], "--steps") == 0;
    int batches[16], nb = 0;
    for (char *b = steps && argc == 3 ? argv[2] : "1,8,64", *end; nb < 16; b = end + 1) {
        long v = strtol(b, &end, 10);
        if (end == b || v < 1 || v > 4096 || (*end != ',' && *end != '\0')) break;
        batches[nb++] = (int)v;
        if (*end == '\0') break;
    }
    if ((argc > 1 && !steps) || nb == 0) {
        fprintf(stderr, "usage: %s [--steps [BATCH,...]]: TSV of the programs (or the plan's "
                        "steps at those batch sizes, default 1,8,64) on stdout\n", argv[0]);
        return 2;
    }
    if (steps) {
        irv2_context *ctx = calloc(1, sizeof *ctx);
        if (!ctx) return 1;
        ctx->profile = gpu(VENDOR_NVIDIA, 132, 1024, 48 << 10), ctx->kernels = KERNELS_BOTH;
        snprintf(ctx->info.name, sizeof ctx->info.name, "nvidia");
        int ok = 1;
        for (int v = NET_SEED; ok && v <= NET_TF; v++)
            for (int b = 0; ok && b < nb; b++) ok = print_steps(ctx, (net_variant)v, batches[b]);
        free(ctx);
        return ok ? 0 : 1;
    }
    static listing l;
    const struct {
        const char *name;
        device_profile p;
    } gpus[] = {{"nvidia", gpu(VENDOR_NVIDIA, 132, 1024, 48 << 10)},
                {"amd", gpu(VENDOR_AMD, 110, 256, 64 << 10)},
                {"intel", gpu(VENDOR_INTEL, 448, 1024, 128 << 10)}};
    int ok = 1;
    for (size_t g = 0; ok && g < sizeof gpus / sizeof gpus[0]; g++)
        ok = record_vendor(gpus[g].name, gpus[g].p, &l);
    if (l.overflow) fprintf(stderr, "irv2-gpu-configs: more than %d programs\n", MAX_LINES);
    for (size_t i = 0; i < l.count; i++) {
        if (ok && !l.overflow) printf("%s\n", l.lines[i]);
        free(l.lines[i]);
    }
    return ok && !l.overflow ? 0 : 1;
}
