/* settings.c: the options structs of irv2.h: their defaults, their text forms, and the checked
 * copies the library keeps (a caller built against an older irv2.h passes a shorter struct). */
#include "runtime/settings.h"

#include "runtime/error.h"

#include <stdio.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* A text form of a setting's value. */
typedef struct setting_name {
    const char *text;
    int value;
} setting_name;

/* The first text of each value is its name; later ones are accepted spellings. */
static const setting_name kernels_names[] = {{"auto", IRV2_KERNELS_AUTO},
                                             {"wg", IRV2_KERNELS_WG},
                                             {"vec", IRV2_KERNELS_VEC},
                                             {"compact", IRV2_KERNELS_COMPACT}};
static const setting_name tune_names[] = {{"off", IRV2_TUNE_OFF},   {"fast", IRV2_TUNE_FAST},
                                          {"full", IRV2_TUNE_FULL}, {"0", IRV2_TUNE_OFF},
                                          {"1", IRV2_TUNE_FULL},    {"default", IRV2_TUNE_DEFAULT}};
static const setting_name gemm_names[] = {
    {"auto", IRV2_GEMM_AUTO}, {"clblast", IRV2_GEMM_CLBLAST}, {"native", IRV2_GEMM_NATIVE}};
static const setting_name variant_names[] = {
    {"auto", IRV2_VARIANT_AUTO}, {"seed", IRV2_VARIANT_SEED}, {"tf", IRV2_VARIANT_TF}};

static irv2_status settings_parse(const setting_name *names, size_t n, const char *text, int *out,
                           const char *label)
{
    for (size_t i = 0; text && i < n; i++)
        if (strcmp(text, names[i].text) == 0) return *out = names[i].value, IRV2_OK;
    const char *listed[8]; /* each value's name, not its other spellings */
    size_t count = 0, len = 0;
    for (size_t i = 0; i < n && count < 8; i++) {
        int first = strcmp(names[i].text, "default") != 0;
        for (size_t k = 0; k < i; k++) first &= names[k].value != names[i].value;
        if (first) listed[count++] = names[i].text;
    }
    char list[160] = "";
    for (size_t k = 0; k < count && len < sizeof list; k++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s",
                                k == 0 ? "" : k + 1 == count ? " or " : ", ", listed[k]);
    return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "%s: expected %s", label, list);
}

irv2_status settings_parse_kernels(const char *text, int *out, const char *label)
{
    return settings_parse(kernels_names, COUNT(kernels_names), text, out, label);
}

irv2_status settings_parse_tune(const char *text, int *out, const char *label)
{
    return settings_parse(tune_names, COUNT(tune_names), text, out, label);
}

static const char *name_of(const setting_name *names, size_t n, int value)
{
    for (size_t i = 0; i < n; i++)
        if (names[i].value == value) return names[i].text;
    return "";
}

/* One parser and one name function per setting. */
#define SETTING(type, fn, names, what)                                                        \
    irv2_status irv2_##fn##_parse(const char *text, type *out)                                \
    {                                                                                         \
        irv2_clear_error();                                                                   \
        char label[96];                                                                       \
        snprintf(label, sizeof label, "%s '%.60s'", what, text ? text : "");                  \
        int v = 0;                                                                            \
        if (!out) return irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_" #fn "_parse: NULL out"); \
        irv2_status st = settings_parse(names, COUNT(names), text, &v, label);                \
        if (st == IRV2_OK) *out = (type)v;                                                    \
        return st;                                                                            \
    }                                                                                         \
    const char *irv2_##fn##_name(type value) { return name_of(names, COUNT(names), (int)value); }

SETTING(irv2_kernels, kernels, kernels_names, "kernel families")
SETTING(irv2_tune_mode, tune_mode, tune_names, "tuning mode")
SETTING(irv2_gemm_backend, gemm, gemm_names, "GEMM backend")
SETTING(irv2_variant, variant, variant_names, "variant")

void irv2_context_options_init(irv2_context_options *options)
{
    if (options) *options = (irv2_context_options){.size = sizeof *options};
}

void irv2_model_options_init(irv2_model_options *options)
{
    if (options) *options = (irv2_model_options){.size = sizeof *options};
}

/* Copies the first src_size bytes of src over dst (already the defaults) when src_size is at
 * least the first version's size and at most this one's. */
static irv2_status overlay(void *dst, const void *src, size_t src_size, size_t first,
                           size_t size, const char *what)
{
    if (src_size < first || src_size > size)
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "%s.size is %zu, not one irv2.h gives (initialise it with %s_init)",
                         what, src_size, what);
    memcpy(dst, src, src_size);
    return IRV2_OK;
}

irv2_status settings_context(const irv2_context_options *src, irv2_context_options *dst)
{
    irv2_context_options_init(dst);
    if (!src) return IRV2_OK;
    irv2_status st = overlay(dst, src, src->size, sizeof *src, sizeof *src,
                             "irv2_context_options");
    dst->size = sizeof *dst;
    if (st == IRV2_OK && (unsigned)dst->kernels > IRV2_KERNELS_COMPACT)
        st = irv2_fail(IRV2_ERR_INVALID_ARGUMENT, "irv2_context_options.kernels: unknown value %d",
                       (int)dst->kernels);
    if (st == IRV2_OK && (!dst->cl_context) != (!dst->cl_queue))
        st = irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                       "irv2_context_options: cl_context and cl_queue go together");
    return st;
}

irv2_status settings_model(const irv2_model_options *src, irv2_model_options *dst)
{
    irv2_model_options_init(dst);
    if (!src) return IRV2_OK;
    irv2_status st = overlay(dst, src, src->size, sizeof *src, sizeof *src, "irv2_model_options");
    dst->size = sizeof *dst;
    if (st != IRV2_OK) return st;
    if ((unsigned)dst->gemm > IRV2_GEMM_NATIVE || (unsigned)dst->variant > IRV2_VARIANT_TF ||
        (unsigned)dst->tune > IRV2_TUNE_FULL || (dst->exclude & ~IRV2_EXCLUDE_WINOGRAD))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "irv2_model_options: unknown value (gemm %d, variant %d, tune %d, "
                         "exclude 0x%x)",
                         (int)dst->gemm, (int)dst->variant, (int)dst->tune, dst->exclude);
    return IRV2_OK;
}
