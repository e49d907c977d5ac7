#!/usr/bin/python3
"""Writes tests/data/seed_golden.npy: float64 PyTorch reference logits of the `seed` variant with synthetic weights.

The logits (float32, shape (batch, classes)) are those of tools/irv2_reference.py with the
synthetic checkpoint of --seed (host/net/synthetic.c's rule) applied to the synthetic input of
--input-seed (synthetic_fill("input", input_seed, -1, 1) as (batch, 3, 299, 299)), computed in
float64 and stored as float32.

It also prints per-stage activation statistics (to check that activations stay of order 1
through the residual blocks), the top-5 classes per image, and how well the 5th logit is
separated from the 6th. --compare-f32 additionally runs the model in float32 and reports how
far that is from the float64 reference.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irv2_reference as ref  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stats(t):
    t = t.double()
    return t.mean().item(), t.std().item(), t.abs().max().item()


def run(model, x, dtype):
    """Returns (logits, trace, proj_ratio) with model and input in dtype. proj_ratio[label] is
    rms(concat_proj output) / rms(block input) for every residual block."""
    model = model.to(dtype)
    x = torch.from_numpy(x).to(dtype)
    block_in = {}
    proj_ratio = {}
    handles = []
    for label, m in model.stages():
        if hasattr(m, "concat_proj"):
            handles.append(m.register_forward_pre_hook(
                lambda mod, inp, lab=label: block_in.__setitem__(lab, inp[0])))
            handles.append(m.concat_proj.register_forward_hook(
                lambda mod, inp, out, lab=label: proj_ratio.__setitem__(
                    lab, (out.double().pow(2).mean().sqrt() /
                          block_in[lab].double().pow(2).mean().sqrt()).item())))
    trace = []
    with torch.no_grad():
        logits = model(x, trace=trace)
    for h in handles:
        h.remove()
    return logits, trace, proj_ratio


def report_and_save(a, model, x, logits64, run):
    """Prints the top-5 and their separation, optionally the float32 error, and writes a.out."""
    logits = logits64.numpy().astype("<f4")
    if not np.all(np.isfinite(logits)):
        print("ERROR: non-finite logits")
        return 1

    print()
    print("top-5 per image (class: logit), and the 5th-6th gap relative to max|logit|:")
    min_rel_gap = float("inf")
    for i in range(a.batch):
        row = logits64[i].numpy()
        order = np.argsort(-row, kind="stable")
        top = ", ".join("%d: %.6f" % (c, row[c]) for c in order[:5])
        maxabs = np.abs(row).max()
        gap5 = row[order[4]] - row[order[5]]
        gaps = [row[order[k]] - row[order[k + 1]] for k in range(5)]
        rel = gap5 / maxabs
        min_rel_gap = min(min_rel_gap, rel)
        print("  image %d: %s" % (i, top))
        print("    max|logit| %.6f; gap 5th-6th %.6f = %.4f of max|logit|; min gap within top-6 %.6f = %.4f"
              % (maxabs, gap5, rel, min(gaps), min(gaps) / maxabs))
    if a.batch > 1:
        same = all(np.argsort(-logits64[i].numpy())[0] == np.argsort(-logits64[0].numpy())[0] for i in range(a.batch))
        print("  top-1 identical across the batch: %s" % same)
        print("  max |logits[0] - logits[1]|: %.6f" % np.abs(logits[0] - logits[1]).max())

    if a.compare_f32:
        t0 = time.time()
        logits32, _, _ = run(model, x, torch.float32)
        d = (logits32.double() - logits64).abs()
        print()
        print("float32 forward: %.1f s; max |f32 - f64| = %.3e (%.3e of max|logit|); top-5 same: %s" % (
            time.time() - t0, d.max().item(), d.max().item() / logits64.abs().max().item(),
            all(np.array_equal(np.argsort(-logits32[i].numpy())[:5], np.argsort(-logits64[i].numpy())[:5])
                for i in range(a.batch))))

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.save(a.out, np.ascontiguousarray(logits, dtype="<f4"))
    back = np.load(a.out)
    print()
    print("wrote %s: dtype %s shape %s, %d bytes; logits mean %.6f std %.6f" % (
        a.out, back.dtype.str, back.shape, os.path.getsize(a.out), float(back.mean()), float(back.std())))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description="Write the seed-variant golden logits (float64 reference, stored float32).")
    p.add_argument("--seed", type=int, default=1, help="synthetic weight seed (default 1)")
    p.add_argument("--input-seed", type=int, default=7, help="synthetic input seed (default 7)")
    p.add_argument("--batch", type=int, default=2, help="batch size (default 2)")
    p.add_argument("--classes", type=int, default=1000, help="classifier outputs (default 1000)")
    p.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "seed_golden.npy"),
                   help="output .npy path (default tests/data/seed_golden.npy)")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--compare-f32", action="store_true",
                   help="also run in float32 and report its deviation from the float64 reference")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    print("parameters: variant=seed seed=%d input_seed=%d batch=%d classes=%d precision=float64 out=%s threads=%d"
          % (a.seed, a.input_seed, a.batch, a.classes, a.out, a.threads))

    t0 = time.time()
    model = ref.InceptionResNetV2Seed(a.classes).eval()
    ref.fill_synthetic(model, a.seed)
    x = ref.synthetic_input(a.batch, a.input_seed)
    print("synthetic weights and input: %.1f s" % (time.time() - t0))

    t0 = time.time()
    logits64, trace, proj_ratio = run(model, x, torch.float64)
    print("float64 forward: %.1f s" % (time.time() - t0))

    print()
    print("per-stage activation statistics (float64, whole batch):")
    print("  %-12s %-12s %11s %11s %11s %11s" % ("stage", "shape", "mean", "std", "max|x|", "proj/in rms"))
    for label, t in [("input", torch.from_numpy(x))] + trace:
        m, s, mx = stats(t)
        r = proj_ratio.get(label)
        print("  %-12s %-12s %11.5f %11.5f %11.5f %11s" % (
            label, "x".join(str(d) for d in t.shape[1:]), m, s, mx, "" if r is None else "%.5f" % r))

    return report_and_save(a, model, x, logits64, run)


if __name__ == "__main__":
    sys.exit(main())
