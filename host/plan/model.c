/* model.c: the public model API: load (checkpoint -> folded host weights), run (a plan for the
 * batch size, then enqueue), and the figures benchmarks read. */
#include "plan/model.h"

#include "plan/tune.h"
#include "runtime/fault.h"
#include "runtime/settings.h"

#include <stdlib.h>
#include <string.h>

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
    irv2_status st = settings_model(options, &m->options);
    if (st == IRV2_OK && !options) st = irv2_model_options_from_env(&m->options);
    if (m->options.tune == IRV2_TUNE_DEFAULT) m->options.tune = IRV2_TUNE_FAST;
    if (st != IRV2_OK) {
        free(m);
        return st;
    }
    st = weights_load(weights, m->options.variant, &m->net, &m->weights);
    if (st != IRV2_OK) {
        irv2_model_free(m);
        return st;
    }
    *out = m;
    return IRV2_OK;
}

irv2_status irv2_model_save_binaries(irv2_model *m, const char *dir, unsigned *programs)
{
    irv2_clear_error();
    if (programs) *programs = 0;
    if (!m) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_save_binaries: NULL model");
    return binaries_save(m->ctx, &m->used, dir, programs);
}

void irv2_model_free(irv2_model *m)
{
    if (!m) return;
    plan_free(m->plan);
    usage_free(&m->used);
    weights_free(m->weights, m->net.nlayers);
    net_free(&m->net);
    free(m);
}

unsigned irv2_model_num_classes(const irv2_model *m) { return m ? (unsigned)m->net.classes : 0; }

irv2_variant irv2_model_variant(const irv2_model *m)
{
    return m && m->net.variant == NET_TF ? IRV2_VARIANT_TF : IRV2_VARIANT_SEED;
}

unsigned irv2_model_class_offset(const irv2_model *m) { return m && m->net.classes == 1001; }

double irv2_model_flops_per_image(const irv2_model *m) { return m ? net_flops(&m->net) : 0.0; }

static irv2_status ensure_plan(irv2_model *m, unsigned batch)
{
    if (m->plan && plan_batch(m->plan) == batch) return IRV2_OK;
    plan_free(m->plan);
    m->plan = NULL;
    irv2_status st = plan_create(m->ctx, &m->net, m->weights, &m->options, batch, &m->used,
                                 &m->plan);
    if (st == IRV2_OK) plan_set_profiling(m->plan, m->profiling);
    return st;
}

/* A batch too big for the device's largest buffer runs in chunks of the largest batch that
 * fits, the last one padded with zero images, so that one plan serves them all. */
static irv2_status run_chunked(irv2_model *m, const float *input, unsigned batch,
                               unsigned chunk, float *output, int softmax)
{
    const size_t image = 3 * 299 * 299, classes = (size_t)m->net.classes;
    float *in = calloc((size_t)chunk * image, sizeof(float));
    float *out = malloc((size_t)chunk * classes * sizeof(float));
    irv2_status st = in && out ? ensure_plan(m, chunk)
                               : irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    for (unsigned first = 0; st == IRV2_OK && first < batch; first += chunk) {
        unsigned n = batch - first < chunk ? batch - first : chunk;
        memcpy(in, input + first * image, n * image * sizeof(float));
        if (n < chunk) memset(in + n * image, 0, (chunk - n) * image * sizeof(float));
        st = plan_run(m->plan, in, out, softmax);
        if (st == IRV2_OK) memcpy(output + first * classes, out, n * classes * sizeof(float));
    }
    free(in);
    free(out);
    return st;
}

irv2_status irv2_model_run(irv2_model *m, const float *input, unsigned batch, float *output,
                           int softmax)
{
    irv2_clear_error();
    if (!m || !input || !output)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_run: NULL argument");
    if (batch == 0) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_run: batch is 0");
    if (fault_hit(FAULT_RUN))
        return irv2_fail(IRV2_ERR_OPENCL, "device '%s': lost (injected: IRV2_FAULT=run)",
                         m->ctx->info.name);
    unsigned fits = batch;
    irv2_status st = IRV2_OK;
    if (!m->plan || plan_batch(m->plan) != batch)
        st = plan_fit_batch(m->ctx, &m->net, m->options.gemm, m->options.tune, batch, &fits);
    if (st != IRV2_OK) return st;
    if (fits < batch) return run_chunked(m, input, batch, fits, output, softmax);
    st = ensure_plan(m, batch);
    if (st != IRV2_OK) return st;
    return plan_run(m->plan, input, output, softmax);
}

irv2_status irv2_model_max_batch(irv2_model *m, unsigned batch, unsigned *fits)
{
    irv2_clear_error();
    if (!m || !fits) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_max_batch: NULL");
    return plan_fit_batch(m->ctx, &m->net, m->options.gemm, m->options.tune,
                          batch ? batch : 1u << 16, fits);
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
    if (m->plan) plan_set_profiling(m->plan, m->profiling);
    return IRV2_OK;
}

static irv2_status profile(const irv2_model *m, int by_layer, irv2_layer_profile *out,
                           size_t capacity, size_t *count)
{
    irv2_clear_error();
    if (!m || !count || (capacity && !out))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_model_profile: NULL argument");
    *count = 0;
    return m->plan ? plan_profile(m->plan, by_layer, out, capacity, count) : IRV2_OK;
}

irv2_status irv2_model_profile(const irv2_model *m, irv2_layer_profile *out, size_t capacity,
                               size_t *count)
{
    return profile(m, 0, out, capacity, count);
}

irv2_status irv2_model_profile_layers(const irv2_model *m, irv2_layer_profile *out,
                                      size_t capacity, size_t *count)
{
    return profile(m, 1, out, capacity, count);
}

uint64_t irv2_model_device_bytes(const irv2_model *m)
{
    return m && m->plan ? plan_weight_bytes(m->plan) + plan_activation_bytes(m->plan) : 0;
}

uint64_t irv2_model_weight_bytes(const irv2_model *m)
{
    return m && m->plan ? plan_weight_bytes(m->plan) : 0;
}
