/* halves.c: float to IEEE binary16 and to bfloat16, rounded to nearest even, and back
 * (halves.h). */
#include "io/halves.h"

#include <string.h>

static uint32_t bits_of_float(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    return x;
}

static float float_from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* float -> IEEE binary16, rounded to nearest even (subnormals kept, overflow to inf). */
uint16_t half_from_float(float f)
{
    const uint32_t x = bits_of_float(f);
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
    const uint32_t x = bits_of_float(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* IEEE 754 binary16 -> binary32; every half value is exactly representable. */
float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31;
    uint32_t exponent = (h >> 10) & 0x1f;
    uint32_t mantissa = h & 0x3ff;
    if (exponent == 0) {
        /* zero or subnormal: mantissa x 2^-24, exact in float arithmetic */
        float magnitude = (float)mantissa * 0x1p-24f;
        return sign ? -magnitude : magnitude;
    }
    if (exponent == 31) /* inf, or nan with its payload kept */
        return float_from_bits(sign | 0x7f800000u | (mantissa << 13));
    return float_from_bits(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

/* bfloat16 -> binary32: the top half of the float's bits. */
float bf16_to_float(uint16_t b) { return float_from_bits((uint32_t)b << 16); }
