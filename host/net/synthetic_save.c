/* synthetic_save.c: irv2_synthetic_save(): the synthetic weights written as a safetensors
 * checkpoint in either layout, so that the checkpoint path can be tried without PyTorch. */
#include "io/halves.h"
#include "net/graph.h"
#include "net/synthetic.h"
#include "net/weights.h"
#include "runtime/atomic_file.h"
#include "runtime/error.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors data is little-endian: this writer stores host floats as they are"
#endif

/* Every tensor of the network once (a BN shared by several layers is written once). */
typedef struct tensor_list {
    layer_tensors *lt;
    int nlayers;
} tensor_list;

static int listed_before(const tensor_list *tl, int layer, int k)
{
    const char *name = tl->lt[layer].name[k];
    for (int i = 0; i <= layer; i++)
        for (int j = 0; j < (i == layer ? k : tl->lt[i].count); j++)
            if (strcmp(tl->lt[i].name[j], name) == 0) return 1;
    return 0;
}

static uint64_t numel(const layer_tensors *lt, int k)
{
    uint64_t n = 1;
    for (unsigned d = 0; d < lt->ndim[k]; d++) n *= lt->shape[k][d];
    return n;
}

/* The header: metadata, then each tensor's dtype, shape and byte range, padded with spaces to
 * a multiple of 8 bytes. */
static char *header_of(const tensor_list *tl, const char *dtype, size_t width, size_t *len,
                       uint64_t *largest)
{
    json_t *h = json_object(), *meta = json_pack("{s:s, s:s}", "format", "pt", "written_by",
                                                 "irv2_synthetic_save");
    uint64_t off = 0;
    json_object_set_new(h, "__metadata__", meta);
    for (int i = 0; i < tl->nlayers; i++)
        for (int k = 0; k < tl->lt[i].count; k++) {
            if (listed_before(tl, i, k)) continue;
            const layer_tensors *lt = &tl->lt[i];
            json_t *shape = json_array();
            for (unsigned d = 0; d < lt->ndim[k]; d++)
                json_array_append_new(shape, json_integer((json_int_t)lt->shape[k][d]));
            const uint64_t n = numel(lt, k);
            if (n > *largest) *largest = n;
            json_object_set_new(h, lt->name[k],
                                json_pack("{s:s, s:o, s:[I, I]}", "dtype", dtype, "shape", shape,
                                          "data_offsets", (json_int_t)off,
                                          (json_int_t)(off + n * width)));
            off += n * width;
        }
    char *text = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(h);
    if (!text) return NULL;
    size_t n = strlen(text), padded = (n + 7) / 8 * 8;
    char *out = realloc(text, padded + 1);
    if (!out) return free(text), NULL;
    memset(out + n, ' ', padded - n);
    out[padded] = '\0';
    *len = padded;
    return out;
}

/* The values of every tensor, in header order, converted to the dtype. */
static int write_data(FILE *f, const tensor_list *tl, uint64_t seed, int kind, uint64_t largest)
{
    float *v = malloc((size_t)largest * sizeof *v);
    uint16_t *h = malloc((size_t)largest * sizeof *h);
    int ok = v && h;
    for (int i = 0; ok && i < tl->nlayers; i++)
        for (int k = 0; ok && k < tl->lt[i].count; k++) {
            if (listed_before(tl, i, k)) continue;
            const layer_tensors *lt = &tl->lt[i];
            const size_t n = (size_t)numel(lt, k);
            double lo, hi;
            synthetic_range(lt->name[k], lt->ndim[k] >= 2 ? n / lt->shape[k][0] : 0, &lo, &hi);
            synthetic_fill(lt->name[k], seed, lo, hi, v, n);
            if (kind == 0) {
                ok = fwrite(v, 4, n, f) == n;
                continue;
            }
            for (size_t j = 0; j < n; j++) h[j] = kind == 1 ? half_from_float(v[j]) : bf16_from_float(v[j]);
            ok = fwrite(h, 2, n, f) == n;
        }
    free(v);
    free(h);
    return ok ? 0 : -1;
}

/* What the file holds: the length of the header, the header, then the data. */
typedef struct file_parts {
    const char *header;
    size_t len;
    const tensor_list *tl;
    uint64_t seed;
    int kind;
    uint64_t largest;
} file_parts;

static int write_file(FILE *f, void *arg)
{
    const file_parts *p = arg;
    unsigned char le[8];
    for (int i = 0; i < 8; i++) le[i] = (unsigned char)((uint64_t)p->len >> (8 * i));
    if (fwrite(le, 1, 8, f) != 8 || fwrite(p->header, 1, p->len, f) != p->len) return -1;
    return write_data(f, p->tl, p->seed, p->kind, p->largest);
}

irv2_status irv2_synthetic_save(const char *path, uint64_t seed, irv2_variant variant,
                                unsigned classes, const char *dtype)
{
    static const char *const dtypes[] = {"F32", "F16", "BF16"};
    irv2_clear_error();
    int kind = -1;
    for (int i = 0; dtype && i < 3; i++)
        if (strcmp(dtype, dtypes[i]) == 0) kind = i;
    if (!path || kind < 0 || (variant != IRV2_VARIANT_SEED && variant != IRV2_VARIANT_TF))
        return irv2_fail(IRV2_ERR_INVALID_ARGUMENT,
                         "irv2_synthetic_save: a path, the seed or tf variant and F32, F16 or "
                         "BF16 are needed");
    net n;
    irv2_status st = net_build(variant == IRV2_VARIANT_TF ? NET_TF : NET_SEED, (int)classes, &n);
    if (st != IRV2_OK) return st;
    tensor_list tl = {calloc((size_t)n.nlayers, sizeof(layer_tensors)), n.nlayers};
    size_t len = 0;
    uint64_t largest = 0;
    char *header = NULL;
    if (tl.lt) {
        for (int i = 0; i < n.nlayers; i++) layer_tensor_list(&n.layers[i], &tl.lt[i]);
        header = header_of(&tl, dtype, kind == 0 ? 4 : 2, &len, &largest);
    }
    if (!header) st = irv2_fail(IRV2_ERR_HOST_MEMORY, "out of host memory");
    file_parts parts = {header, len, &tl, seed, kind, largest};
    if (st == IRV2_OK) st = atomic_write(path, 0, write_file, &parts);
    free(header);
    free(tl.lt);
    net_free(&n);
    return st;
}
