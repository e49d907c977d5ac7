/* synthetic.c: deterministic pseudo-random tensors (see synthetic.h for the exact rule). */
#include "net/synthetic.h"

#include "runtime/cache.h"

#include <math.h>
#include <string.h>

/* FNV-1a (64-bit) of the name's bytes, its terminating NUL left out. */
static uint64_t fnv1a64(const char *s) { return cache_hash(CACHE_HASH_INIT, s, strlen(s)); }

static uint64_t splitmix64(uint64_t x)
{
    uint64_t z = x + 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void synthetic_fill(const char *name, uint64_t seed, double lo, double hi, float *dst, size_t n)
{
    uint64_t key = fnv1a64(name) ^ (seed * 0x9E3779B97F4A7C15ull);
    for (size_t i = 0; i < n; i++) {
        double u = (double)(splitmix64(key + i) >> 40) * (1.0 / 16777216.0);
        dst[i] = (float)(lo + (hi - lo) * u);
    }
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

void synthetic_range(const char *name, size_t fan_in, double *lo, double *hi)
{
    double a;
    if (ends_with(name, "bn.weight")) {
        *lo = 0.8, *hi = 1.2;
        return;
    }
    if (ends_with(name, "bn.running_var")) {
        *lo = 1.0, *hi = 1.25;
        return;
    }
    if (ends_with(name, "bn.bias") || ends_with(name, "bn.running_mean")) {
        *lo = -0.1, *hi = 0.1;
        return;
    }
    if (ends_with(name, ".bias")) {
        *lo = -0.05, *hi = 0.05;
        return;
    }
    if (strstr(name, "concat_proj.") || strstr(name, ".conv2d.")) {
        /* Residual projections: small, so 20 blocks of x + proj(x) do not grow without bound. */
        a = 0.3 * sqrt(3.0 / (double)fan_in);
    } else if (strstr(name, "classifier.") || strstr(name, "classif.")) {
        a = sqrt(3.0 / (double)fan_in);
    } else {
        a = sqrt(6.0 / (double)fan_in); /* He-uniform: keeps the second moment through ReLU */
    }
    *lo = -a, *hi = a;
}
