/* window.h: the output side of a sliding window (convolutions, pooling), one rule for the
 * graph builder and the ops that launch it. */
#ifndef IRV2_WINDOW_H
#define IRV2_WINDOW_H

#include <limits.h>

/* Positions of a window of side k moved by stride s over x, padded by p on each side:
 * (x + 2p - k) / s + 1. 0 where the window does not fit (x + 2p < k) or there is no window
 * to speak of (k or s below 1, x or p negative, a result beyond an int). */
static inline int window_out(int x, int k, int s, int p)
{
    if (x < 0 || p < 0 || k < 1 || s < 1) return 0;
    const long long span = (long long)x + 2LL * p - k;
    if (span < 0) return 0;
    const long long out = span / s + 1;
    return out <= INT_MAX ? (int)out : 0;
}

#endif
