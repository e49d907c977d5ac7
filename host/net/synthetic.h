/* synthetic.h: deterministic pseudo-random tensors, identical on every machine.
 *
 * Value i of the tensor named NAME with seed SEED (i over the tensor in C order):
 *   key  = fnv1a64(NAME) XOR (SEED * 0x9E3779B97F4A7C15)          (64-bit wrap-around)
 *   u    = (splitmix64(key + i) >> 40) / 2^24                     (in [0, 1))
 *   v    = (float)(lo + (hi - lo) * u)                             (computed in double)
 * splitmix64(x): z = x + 0x9E3779B97F4A7C15; z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
 *                z = (z ^ (z >> 27)) * 0x94D049BB133111EB; return z ^ (z >> 31).
 * tools/synthetic.py reproduces this in NumPy so PyTorch references see the same weights.
 */
#ifndef IRV2_SYNTHETIC_H
#define IRV2_SYNTHETIC_H

#include <stddef.h>
#include <stdint.h>

void synthetic_fill(const char *name, uint64_t seed, double lo, double hi, float *dst, size_t n);

/* The range [-a, a) used for a synthetic checkpoint tensor, by its name's role, so that
 * activations stay of order 1 through all residual blocks. fan_in is Cin*KH*KW for weights. */
void synthetic_range(const char *name, size_t fan_in, double *lo, double *hi);

#endif
