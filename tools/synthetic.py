#!/usr/bin/python3
"""NumPy re-implementation of host/net/synthetic.c: deterministic synthetic tensors, bit-exact.

Value i of the tensor named NAME with seed SEED (i over the tensor in C order):
  key = fnv1a64(NAME) XOR (SEED * 0x9E3779B97F4A7C15)          (64-bit wrap-around)
  u   = (splitmix64(key + i) >> 40) / 2^24                     (in [0, 1))
  v   = float32(lo + (hi - lo) * u)                            (computed in float64)

synthetic_range(name, fan_in) gives the per-tensor (lo, hi) by the tensor name's role, exactly
as host/net/synthetic.c does.

Command line (for cross-checking against the C implementation):
  synthetic.py NAME SEED N [--lo LO --hi HI | --fan-in F]
prints the first 8 values with their float32 bit patterns and a checksum (sum of the bit
patterns as uint32, modulo 2^64, and the float64 sum of the values in index order).
With --dump FILE it also writes the raw float32 values (little-endian) to FILE.
"""

import argparse
import math
import sys

import numpy as np

MASK64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
_CHUNK = 1 << 22


def fnv1a64(name):
    """FNV-1a 64-bit hash of the UTF-8 bytes of name (as a Python int)."""
    h = 0xCBF29CE484222325
    for b in name.encode("utf-8"):
        h ^= b
        h = (h * 0x100000001B3) & MASK64
    return h


def _splitmix64(x):
    """splitmix64 on a uint64 NumPy array (wrap-around arithmetic)."""
    z = x + np.uint64(GOLDEN)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def synthetic_key(name, seed):
    return fnv1a64(name) ^ ((int(seed) * GOLDEN) & MASK64)


def synthetic_fill(name, seed, lo, hi, n):
    """Return a float32 array of n values, identical bit for bit to host/net/synthetic.c."""
    n = int(n)
    key = np.uint64(synthetic_key(name, seed))
    lo = float(lo)
    span = float(hi) - lo
    out = np.empty(n, dtype=np.float32)
    with np.errstate(over="ignore"):
        for start in range(0, n, _CHUNK):
            stop = min(n, start + _CHUNK)
            idx = np.arange(start, stop, dtype=np.uint64)
            z = _splitmix64(idx + key)
            u = (z >> np.uint64(40)).astype(np.float64) * (1.0 / 16777216.0)
            out[start:stop] = (lo + span * u).astype(np.float32)
    return out


def synthetic_range(name, fan_in):
    """The (lo, hi) range host/net/synthetic.c uses for the tensor named name."""
    if name.endswith("bn.weight"):
        return 0.8, 1.2
    if name.endswith("bn.running_var"):
        return 1.0, 1.25
    if name.endswith("bn.bias") or name.endswith("bn.running_mean"):
        return -0.1, 0.1
    if name.endswith(".bias"):
        return -0.05, 0.05
    if "concat_proj." in name or ".conv2d." in name:
        a = 0.3 * math.sqrt(3.0 / float(fan_in))
    elif "classifier." in name or "classif." in name:
        a = math.sqrt(3.0 / float(fan_in))
    else:
        a = math.sqrt(6.0 / float(fan_in))
    return -a, a


def fan_in_of(shape):
    """Cin*KH*KW for weights (ndim >= 2), 0 otherwise."""
    shape = tuple(int(s) for s in shape)
    if len(shape) < 2:
        return 0
    f = 1
    for s in shape[1:]:
        f *= s
    return f


def synthetic_tensor(name, seed, shape):
    """The synthetic checkpoint tensor named name with the given shape (float32, C order)."""
    shape = tuple(int(s) for s in shape)
    lo, hi = synthetic_range(name, fan_in_of(shape))
    n = 1
    for s in shape:
        n *= s
    return synthetic_fill(name, seed, lo, hi, n).reshape(shape)


def checksum(values):
    """(sum of float32 bit patterns mod 2^64, float64 sum of values added in index order)."""
    values = np.ascontiguousarray(values, dtype=np.float32).ravel()
    bits = values.view(np.uint32).astype(np.uint64)
    fsum = float(np.cumsum(values.astype(np.float64))[-1]) if values.size else 0.0
    return int(bits.sum(dtype=np.uint64)), fsum


def main(argv=None):
    p = argparse.ArgumentParser(description="Print synthetic_fill values for cross-checking with C.")
    p.add_argument("name")
    p.add_argument("seed", type=int)
    p.add_argument("n", type=int)
    p.add_argument("--lo", type=float, default=None)
    p.add_argument("--hi", type=float, default=None)
    p.add_argument("--fan-in", type=int, default=None,
                   help="take (lo, hi) from synthetic_range(name, fan_in) instead of --lo/--hi")
    p.add_argument("--dump", default=None, help="write the raw float32 values to this file")
    a = p.parse_args(argv)
    if a.fan_in is not None:
        lo, hi = synthetic_range(a.name, a.fan_in)
    else:
        lo = -1.0 if a.lo is None else a.lo
        hi = 1.0 if a.hi is None else a.hi
    v = synthetic_fill(a.name, a.seed, lo, hi, a.n)
    print("name=%s seed=%d n=%d lo=%.17g hi=%.17g" % (a.name, a.seed, a.n, lo, hi))
    for i in range(min(8, a.n)):
        print("  [%d] %.9g 0x%08x" % (i, v[i], int(v[i:i + 1].view(np.uint32)[0])))
    bsum, fsum = checksum(v)
    print("  bitsum=%d sum=%.17g" % (bsum, fsum))
    if a.dump:
        v.astype("<f4").tofile(a.dump)
    return 0


if __name__ == "__main__":
    sys.exit(main())
