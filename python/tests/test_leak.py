"""No leak: the process's resident memory stays flat over 200 inferences after a warm-up, and
over repeated model loads and frees. RSS is read after glibc's malloc_trim(0), so that memory
the allocator keeps for reuse (tens of MiB after freeing a model's 124 MiB of weights) is not
taken for a leak. The bounds leave room for allocator noise and are far below what leaking an
input (1 MiB per call at batch 1), an output per call or a model's weights would add up to.
The loads test names the growth after each load when it fails: one step of about 15 MiB that
the next load gives back is a model's buffers freed late, after irv2_model_free returned (PoCL's
worker thread dropping a finished command's references; host/runtime/context.c waits for that
before its release), while a rise at every load is memory kept per load."""
import ctypes
import ctypes.util
import os

import numpy as np

import irv2

PAGE = os.sysconf("SC_PAGE_SIZE")
RUN_BOUND = 4 << 20       # bytes of RSS growth allowed over 200 calls (leaked inputs: 200 MiB)
LOAD_BOUND = 8 << 20      # over 10 loads and frees (leaked weights: 1.2 GiB)

try:
    _trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    _trim.argtypes = [ctypes.c_size_t]
except (OSError, AttributeError):  # not glibc
    _trim = None


def rss():
    if _trim is not None:
        _trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def test_no_leak_over_200_calls(model):
    x = np.random.default_rng(3).standard_normal((1, 3, 299, 299)).astype(np.float32)
    first = model(x)
    for _ in range(10):
        model(x)
    base = rss()
    for i in range(200):
        y = model(x)
        if i % 50 == 0:
            assert np.array_equal(y, first)
    grown = rss() - base
    assert grown < RUN_BOUND, "RSS grew by %.1f MiB over 200 calls" % (grown / 2**20)


def test_no_leak_over_loads(batch2):
    def cycle():
        with irv2.Model("synthetic:1") as m:
            m(batch2[:1])
        try:
            irv2.Model("synthetic:bad")
        except irv2.Error:
            pass

    for _ in range(2):
        cycle()
    base = rss()
    steps = []
    for _ in range(10):
        cycle()
        steps.append(rss() - base)
    grown = steps[-1]
    assert grown < LOAD_BOUND, "RSS grew by %.1f MiB over 10 loads (after each, MiB: %s)" % (
        grown / 2**20, " ".join("%+.1f" % (g / 2**20) for g in steps))
