/* halves.h: the 16-bit float types of safetensors files (F16: IEEE binary16; BF16) to and
 * from float: rounded to nearest even for writing checkpoints, exact for reading them. */
#ifndef IRV2_HALVES_H
#define IRV2_HALVES_H

#include <stdint.h>

/* Subnormals kept, overflow to infinity, NaN stays NaN. */
uint16_t half_from_float(float f);
uint16_t bf16_from_float(float f);

/* Exact: every F16 and BF16 value is a float; NaN payloads are kept. */
float half_to_float(uint16_t h);
float bf16_to_float(uint16_t b);

#endif
