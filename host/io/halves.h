/* halves.h: float to the 16-bit float types of safetensors files (F16: IEEE binary16;
 * BF16), rounded to nearest even, for writing checkpoints. */
#ifndef IRV2_HALVES_H
#define IRV2_HALVES_H

#include <stdint.h>

/* Subnormals kept, overflow to infinity, NaN stays NaN. */
uint16_t half_from_float(float f);
uint16_t bf16_from_float(float f);

#endif
