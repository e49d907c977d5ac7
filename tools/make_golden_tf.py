#!/usr/bin/python3
"""Writes tests/data/tf_golden.npy: float64 PyTorch reference logits of the `tf` variant with synthetic weights.

The tf counterpart of tools/make_golden.py (which writes seed_golden.npy and is left as it is).
The logits (float32, shape (batch, classes)) are those of tools/irv2_reference_tf.py (timm's
inception_resnet_v2 layout and key names) with the synthetic checkpoint of --seed
(host/net/synthetic.c's rule, applied to every timm state_dict key but num_batches_tracked) on the
synthetic input of --input-seed (synthetic_fill("input", input_seed, -1, 1) as
(batch, 3, 299, 299)), computed in float64 and stored as float32.

It also prints per-stage activation statistics (to check that activations stay of order 1
through the 40 residual blocks), for every residual block the rms of its scaled projection
(scale * conv2d) relative to the rms of its input, the top-5 classes per image, and how well
the 5th logit is separated from the 6th. --compare-f32 additionally runs the model in float32
and reports how far that is from the float64 reference.
"""

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irv2_reference_tf as ref  # noqa: E402
from make_golden import report_and_save  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stats(t):
    t = t.double()
    return t.mean().item(), t.std().item(), t.abs().max().item()


def rms(t):
    return t.double().pow(2).mean().sqrt().item()


def run(model, x, dtype):
    """Returns (logits, trace, proj_ratio) with model and input in dtype. proj_ratio[label] is
    rms(scale * conv2d output) / rms(block input) for every residual block."""
    model = model.to(dtype)
    x = torch.from_numpy(x).to(dtype)
    block_in = {}
    proj_ratio = {}
    handles = []
    for label, m in model.stages():
        if hasattr(m, "conv2d"):
            handles.append(m.register_forward_pre_hook(
                lambda mod, inp, lab=label: block_in.__setitem__(lab, inp[0])))
            handles.append(m.conv2d.register_forward_hook(
                lambda mod, inp, out, lab=label, blk=m: proj_ratio.__setitem__(
                    lab, rms(out * blk.scale) / rms(block_in[lab]))))
    trace = []
    with torch.no_grad():
        logits = model(x, trace=trace)
    for h in handles:
        h.remove()
    return logits, trace, proj_ratio


def main(argv=None):
    p = argparse.ArgumentParser(description="Write the tf-variant golden logits (float64 reference, stored float32).")
    p.add_argument("--seed", type=int, default=1, help="synthetic weight seed (default 1)")
    p.add_argument("--input-seed", type=int, default=7, help="synthetic input seed (default 7)")
    p.add_argument("--batch", type=int, default=2, help="batch size (default 2)")
    p.add_argument("--classes", type=int, default=1000, help="classifier outputs (default 1000)")
    p.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "tf_golden.npy"),
                   help="output .npy path (default tests/data/tf_golden.npy)")
    p.add_argument("--input-out", default=None,
                   help="also write the synthetic input (batch, 3, 299, 299) float32 to this .npy path")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--compare-f32", action="store_true",
                   help="also run in float32 and report its deviation from the float64 reference")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    print("parameters: variant=tf seed=%d input_seed=%d batch=%d classes=%d precision=float64 out=%s threads=%d"
          % (a.seed, a.input_seed, a.batch, a.classes, a.out, a.threads))

    t0 = time.time()
    model = ref.InceptionResNetV2TF(a.classes).eval()
    ref.fill_synthetic(model, a.seed)
    x = ref.synthetic_input(a.batch, a.input_seed)
    print("synthetic weights and input: %.1f s" % (time.time() - t0))
    if a.input_out:
        np.save(a.input_out, np.ascontiguousarray(x, dtype="<f4"))
        print("wrote input %s: shape %s" % (a.input_out, x.shape))

    t0 = time.time()
    logits64, trace, proj_ratio = run(model, x, torch.float64)
    print("float64 forward: %.1f s" % (time.time() - t0))

    print()
    print("per-stage activation statistics (float64, whole batch):")
    print("  %-12s %-12s %11s %11s %11s %11s %13s" % (
        "stage", "shape", "mean", "std", "max|x|", "rms", "s*proj/in rms"))
    for label, t in [("input", torch.from_numpy(x))] + trace:
        m, s, mx = stats(t)
        r = proj_ratio.get(label)
        print("  %-12s %-12s %11.5f %11.5f %11.5f %11.5f %13s" % (
            label, "x".join(str(d) for d in t.shape[1:]), m, s, mx, rms(t),
            "" if r is None else "%.5f" % r))
    rmss = [rms(t) for label, t in trace if label not in ("pool", "logits")]
    print("  stage rms range: %.4f .. %.4f" % (min(rmss), max(rmss)))

    return report_and_save(a, model, x, logits64, run)


if __name__ == "__main__":
    sys.exit(main())
