/* checkpoint.h: reading a safetensors checkpoint, validated in full when opened. */
#ifndef IRV2_CHECKPOINT_H
#define IRV2_CHECKPOINT_H

#include "irv2.h"

#include <stddef.h>
#include <stdint.h>

typedef enum ckpt_dtype { CKPT_F32, CKPT_F16, CKPT_BF16, CKPT_OTHER } ckpt_dtype;

#define CKPT_MAX_DIMS 8

typedef struct ckpt_tensor {
    char *name;
    ckpt_dtype dtype;
    char dtype_name[16];         /* as written in the header, e.g. "F32", "I64" */
    unsigned ndim;
    uint64_t shape[CKPT_MAX_DIMS];
    uint64_t begin, end;         /* byte offsets relative to the data section */
} ckpt_tensor;

typedef struct checkpoint checkpoint;

/* Opens and validates: file size, header length within the file, JSON well formed, every
 * entry with dtype/shape/data_offsets, offsets inside the data section, consistent with
 * dtype x shape, non-overlapping. Tensors of other dtypes (I64, ...) are accepted here and
 * refused only when read. Errors name the file (and the tensor). */
irv2_status checkpoint_open(const char *path, checkpoint **out);
void checkpoint_close(checkpoint *ck);

const char *checkpoint_path(const checkpoint *ck);
size_t checkpoint_count(const checkpoint *ck);
const ckpt_tensor *checkpoint_at(const checkpoint *ck, size_t i);
/* NULL when absent. */
const ckpt_tensor *checkpoint_find(const checkpoint *ck, const char *name);

/* Converts a F32/F16/BF16 tensor to float32 into dst (count must equal the element count).
 * Other dtypes give IRV2_ERR_DTYPE naming the tensor. */
irv2_status checkpoint_read_f32(const checkpoint *ck, const ckpt_tensor *t, float *dst,
                                size_t count);

/* Element count of a tensor (product of its shape; 1 for a scalar). */
uint64_t ckpt_tensor_numel(const ckpt_tensor *t);

#endif
