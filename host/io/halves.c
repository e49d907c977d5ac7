/* halves.c: float to IEEE binary16 and to bfloat16, rounded to nearest even (halves.h). */
#include "io/halves.h"

#include <string.h>

/* float -> IEEE binary16, rounded to nearest even (subnormals kept, overflow to inf). */
uint16_t half_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u, exp = (x >> 23) & 0xffu, mant = x & 0x7fffffu;
    if (exp == 0xff) return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u : 0));
    const int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    uint32_t shift = 13, m = mant, half;
    if (e <= 0) {
        if (e < -10) return (uint16_t)sign;
        m = mant | 0x800000u;
        shift = (uint32_t)(14 - e);
        half = m >> shift;
    } else {
        half = ((uint32_t)e << 10) | (m >> 13);
    }
    const uint32_t rem = m & ((1u << shift) - 1), halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

/* float -> bfloat16, rounded to nearest even (NaN stays NaN). */
uint16_t bf16_from_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
