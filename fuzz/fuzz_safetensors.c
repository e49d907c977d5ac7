/* fuzz_safetensors.c: libFuzzer target for the safetensors reader (host/io/checkpoint.c).
 * The input is written to a file and opened with checkpoint_open(); a refusal must come with a
 * one-line message naming the file; an accepted file must satisfy everything the reader
 * promises (sorted, non-overlapping ranges inside the data section, byte size = dtype x shape,
 * lookup by name finds every tensor), and every F32/F16/BF16 tensor must read. */
#include "fuzz_common.h"

#include "io/checkpoint.h"

#include <string.h>

static unsigned dtype_size(const ckpt_tensor *t)
{
    switch (t->dtype) {
    case CKPT_F32: return 4;
    case CKPT_F16:
    case CKPT_BF16: return 2;
    default: return 0;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(data, size);
    checkpoint *ck = NULL;
    irv2_status st = checkpoint_open(path, &ck);
    if (st != IRV2_OK) {
        const char *msg = irv2_last_error();
        FUZZ_CHECK(ck == NULL);
        FUZZ_CHECK(strstr(msg, path) == msg);
        FUZZ_CHECK(strchr(msg, '\n') == NULL);
        return 0;
    }
    uint64_t file_bytes = size, prev_end = 0, prev_begin = 0;
    for (size_t i = 0; i < checkpoint_count(ck); i++) {
        const ckpt_tensor *t = checkpoint_at(ck, i);
        FUZZ_CHECK(t && t->name && t->ndim <= CKPT_MAX_DIMS);
        FUZZ_CHECK(t->begin <= t->end && t->end <= file_bytes);
        FUZZ_CHECK(t->begin >= prev_begin); /* in file order */
        if (t->end > t->begin) {
            FUZZ_CHECK(t->begin >= prev_end); /* non-empty ranges do not overlap */
            prev_end = t->end;
        }
        prev_begin = t->begin;
        FUZZ_CHECK(checkpoint_find(ck, t->name) == t);
        unsigned es = dtype_size(t);
        uint64_t numel = ckpt_tensor_numel(t);
        if (es) FUZZ_CHECK(numel * es == t->end - t->begin);
        if (!es) {
            float dummy;
            FUZZ_CHECK(checkpoint_read_f32(ck, t, &dummy, 1) != IRV2_OK);
            continue;
        }
        /* the right count reads (the data is inside the file, so this is bounded by size) */
        float *dst = malloc(numel ? numel * sizeof(float) : 1);
        FUZZ_CHECK(dst != NULL);
        FUZZ_CHECK(checkpoint_read_f32(ck, t, dst, (size_t)numel) == IRV2_OK);
        /* a wrong count is refused with the tensor's name */
        FUZZ_CHECK(checkpoint_read_f32(ck, t, dst, (size_t)numel + 1) == IRV2_ERR_SHAPE);
        FUZZ_CHECK(strstr(irv2_last_error(), path) != NULL);
        free(dst);
    }
    FUZZ_CHECK(checkpoint_find(ck, "\x01no such tensor") == NULL);
    checkpoint_close(ck);
    return 0;
}
