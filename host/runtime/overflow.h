/* overflow.h: 64-bit size arithmetic that says when it overflows instead of wrapping, for the
 * sizes files give (shapes, byte counts); GCC's and Clang's checked-arithmetic builtins. */
#ifndef IRV2_OVERFLOW_H
#define IRV2_OVERFLOW_H

#include <stddef.h>
#include <stdint.h>

/* *r = a * b; 1 when the product does not fit 64 bits (*r is then the wrapped value). */
static inline int u64_mul_overflows(uint64_t a, uint64_t b, uint64_t *r)
{
    return __builtin_mul_overflow(a, b, r);
}

/* *r = a + b; 1 when the sum does not fit 64 bits (*r is then the wrapped value). */
static inline int u64_add_overflows(uint64_t a, uint64_t b, uint64_t *r)
{
    return __builtin_add_overflow(a, b, r);
}

/* *r = first * v[0] * ... * v[n - 1]; 1 as soon as a partial product overflows, even where
 * a later zero would bring the whole to 0 (a shape that large is refused either way). */
static inline int u64_product_overflows(uint64_t first, const uint64_t *v, size_t n, uint64_t *r)
{
    uint64_t p = first;
    for (size_t i = 0; i < n; i++)
        if (__builtin_mul_overflow(p, v[i], &p)) return 1;
    *r = p;
    return 0;
}

#endif
