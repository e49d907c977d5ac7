/* model.c: the public model API: load (checkpoint -> folded weights -> device), run (plan
 * for the batch size, then enqueue), and the figures benchmarks read. */
#include "model.h"

#include <stdlib.h>
#include <string.h>

static int is_gemm_shaped(const net_layer *l)
{
    return l->kind == LAYER_CONV && l->kh == 1 && l->kw == 1 && l->sh == 1 && l->ph == 0 &&
           l->pw == 0;
}

static irv2_status upload(irv2_model *m, const char *what, const float *data, size_t count,
                          cl_mem *out)
{
    irv2_status st = ctx_buffer(m->ctx, count * sizeof(float), CL_MEM_READ_ONLY, what, out);
    if (st != IRV2_OK) return st;
    cl_int err = clEnqueueWriteBuffer(m->ctx->queue, *out, CL_TRUE, 0, count * sizeof(float), data,
                                      0, NULL, NULL);
    m->weight_bytes += count * sizeof(float);
    return ctx_cl_check(m->ctx, err, what);
}

static irv2_status upload_layer(irv2_model *m, const net_layer *l, const layer_weights *lw,
                                layer_device *d)
{
    irv2_status st = IRV2_OK;
    if (l->kind == LAYER_CONV) {
        d->gemm_clblast = m->options.gemm == IRV2_GEMM_CLBLAST && is_gemm_shaped(l);
        size_t count = (size_t)l->cout * l->cin * l->kh * l->kw;
        if (d->gemm_clblast) {
            st = upload(m, l->name, lw->w, count, &d->w);
        } else {
            conv_shape s = {.cin = l->cin, .cout = l->cout, .kh = l->kh, .kw = l->kw};
            d->tiling = conv_default_tiling(m->ctx);
            size_t packed_count = conv_packed_count(&s, d->tiling);
            float *packed = malloc(packed_count * sizeof(float));
            if (!packed) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory packing %s", l->name);
            conv_pack(&s, d->tiling, lw->w, packed);
            st = upload(m, l->name, packed, packed_count, &d->w);
            free(packed);
        }
        if (st == IRV2_OK) st = upload(m, l->name, lw->bias, (size_t)l->cout, &d->bias);
    }
    if (st == IRV2_OK && lw->scale) st = upload(m, l->name, lw->scale, (size_t)l->cout, &d->scale);
    if (st == IRV2_OK && lw->shift) st = upload(m, l->name, lw->shift, (size_t)l->cout, &d->shift);
    return st;
}

irv2_status model_upload(irv2_model *m)
{
    m->dev = calloc((size_t)m->net.nlayers, sizeof *m->dev);
    if (!m->dev) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    for (int i = 0; i < m->net.nlayers; i++) {
        irv2_status st = upload_layer(m, &m->net.layers[i], &m->weights[i], &m->dev[i]);
        if (st != IRV2_OK) return st;
    }
    return IRV2_OK;
}

static void release_device(irv2_model *m)
{
    if (!m->dev) return;
    for (int i = 0; i < m->net.nlayers; i++) {
        cl_mem mems[4] = {m->dev[i].w, m->dev[i].bias, m->dev[i].scale, m->dev[i].shift};
        for (int k = 0; k < 4; k++)
            if (mems[k]) clReleaseMemObject(mems[k]);
    }
    free(m->dev);
    m->dev = NULL;
}

irv2_status irv2_model_load(irv2_context *ctx, const char *weights,
                            const irv2_model_options *options, irv2_model **out)
{
    irv2_clear_error();
    if (!ctx || !weights || !out)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_load: NULL argument");
    *out = NULL;
    irv2_model *m = calloc(1, sizeof *m);
    if (!m) return irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    m->ctx = ctx;
    if (options) m->options = *options;
    if (m->options.gemm != IRV2_GEMM_CLBLAST && m->options.gemm != IRV2_GEMM_NATIVE) {
        free(m);
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_load: unknown GEMM backend %d",
                         (int)options->gemm);
    }
    irv2_status st = model_load_weights(m, weights);
    if (st == IRV2_OK) st = model_upload(m);
    if (st != IRV2_OK) {
        irv2_model_free(m);
        return st;
    }
    *out = m;
    return IRV2_OK;
}

void irv2_model_free(irv2_model *m)
{
    if (!m) return;
    plan_free(m->plan);
    release_device(m);
    model_free_weights(m);
    free(m);
}

unsigned irv2_model_num_classes(const irv2_model *m) { return m ? (unsigned)m->net.classes : 0; }

double irv2_model_flops_per_image(const irv2_model *m) { return m ? net_flops(&m->net) : 0.0; }

irv2_status irv2_model_run(irv2_model *m, const float *input, unsigned batch, float *output,
                           int softmax)
{
    irv2_clear_error();
    if (!m || !input || !output)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_run: NULL argument");
    if (batch == 0) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_run: batch is 0");
    if (!m->plan || plan_batch(m->plan) != batch) {
        plan_free(m->plan);
        m->plan = NULL;
        irv2_status st = plan_create(m, batch, &m->plan);
        if (st != IRV2_OK) return st;
    }
    return plan_run(m, m->plan, input, output, softmax);
}

irv2_status irv2_model_set_profiling(irv2_model *m, int enable)
{
    irv2_clear_error();
    if (!m) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_set_profiling: NULL model");
    if (enable && !m->ctx->profiling)
        return irv2_fail(IRV2_ERR_UNSUPPORTED,
                         "device '%s': the queue was created without profiling",
                         m->ctx->info.name);
    m->profiling = enable != 0;
    return IRV2_OK;
}

irv2_status irv2_model_profile(const irv2_model *m, irv2_layer_profile *out, size_t capacity,
                               size_t *count)
{
    irv2_clear_error();
    if (!m || !count) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_profile: NULL argument");
    *count = 0;
    if (!m->plan) return IRV2_OK;
    return plan_profile(m, m->plan, out, capacity, count);
}

uint64_t irv2_model_device_bytes(const irv2_model *m)
{
    return m ? m->weight_bytes + (m->plan ? plan_device_bytes(m->plan) : 0) : 0;
}

uint64_t irv2_model_weight_bytes(const irv2_model *m) { return m ? m->weight_bytes : 0; }
