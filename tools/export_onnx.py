#!/usr/bin/python3
"""Exports the PyTorch reference network to ONNX, for the ONNX Runtime and OpenVINO columns of
bench/compare.

The model is tools/irv2_reference.py's InceptionResNetV2Seed with the synthetic weights that
`irv2 bench` runs (fill_synthetic(model, SEED), seed 1 by default), float32, in eval mode
(batch norms folded into the convolutions by the exporter), exported by torch.onnx.export with
opset 17, the input named "input" (N x 3 x 299 x 299) and the output "logits" (N x 1000), the
batch axis dynamic. torch.onnx.export of torch 1.13 (Debian's python3-torch) needs no `onnx`
package.

Beside FILE.onnx it writes FILE.json: the opset, torch version, seed, the SHA-256 of the
.onnx file and of the two Python sources the network and weights come from, and PyTorch's
logits (float32, batch 1) on irv2 bench's input, which bench/compare checks the peers against.
A later run with the same sources, seed and opset reuses both files without importing torch,
so bench/compare finds a cached model on a machine where torch is gone.

Usage:
  /usr/bin/python3 tools/export_onnx.py                 # export (or reuse) the default file
  /usr/bin/python3 tools/export_onnx.py --out m.onnx --force
  tools/export_onnx.py --print-path                     # print only the .onnx path (stdout)

Default file: ${XDG_CACHE_HOME:-~/.cache}/irv2/peers/irv2-seed-synthetic<SEED>-opset<OPSET>.onnx.
Exit status 0 when the file is there and current, 1 when it cannot be made (no torch, no
disk space), 2 on bad arguments.
"""

import argparse
import datetime
import hashlib
import json
import os
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
SOURCES = ("irv2_reference.py", "synthetic.py")  # where the network and the weights come from
DEFAULT_OPSET = 17
DEFAULT_SEED = 1
FORMAT = "irv2-onnx-export-1"


def cache_root():
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(xdg, "irv2", "peers")


def default_path(seed, opset):
    return os.path.join(cache_root(), "irv2-seed-synthetic%d-opset%d.onnx" % (seed, opset))


def sidecar(path):
    return os.path.splitext(path)[0] + ".json"


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_hashes():
    return {name: sha256_file(os.path.join(TOOLS, name)) for name in SOURCES}


def bench_input(batch):
    """The input `irv2 bench` feeds (cli/bench.c): value i = ((i * 2654435761) mod 2001) / 1000 - 1."""
    import numpy as np
    i = np.arange(batch * 3 * 299 * 299, dtype=np.uint64)
    v = (i * np.uint64(2654435761)) % np.uint64(2001)
    return (v.astype(np.float32) / np.float32(1000.0) - np.float32(1.0)).reshape(batch, 3, 299, 299)


def current(path, seed, opset):
    """The sidecar's contents when path and its sidecar match the sources, seed and opset, else None."""
    try:
        with open(sidecar(path)) as f:
            meta = json.load(f)
        ok = (meta.get("format") == FORMAT and meta.get("seed") == seed and meta.get("opset") == opset
              and meta.get("sources") == source_hashes()
              and os.path.getsize(path) == meta.get("bytes") and sha256_file(path) == meta.get("sha256"))
        return meta if ok else None
    except (OSError, ValueError):
        return None


def export(path, seed, opset, log):
    try:
        import torch
        sys.path.insert(0, TOOLS)
        import irv2_reference as ref
    except ImportError as e:
        raise SystemExit("export_onnx: needs torch and numpy (Debian: /usr/bin/python3 with "
                         "python3-torch): %s" % e)
    t0 = time.perf_counter()
    model = ref.InceptionResNetV2Seed().eval().float()
    ref.fill_synthetic(model, seed)
    x = torch.from_numpy(bench_input(1))
    with torch.no_grad():
        logits = model(x)[0].tolist()
    log("export_onnx: model built, synthetic weights (seed %d) loaded, reference logits computed "
        "in %.1f s" % (seed, time.perf_counter() - t0))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = "%s.tmp-%d" % (path, os.getpid())
    t0 = time.perf_counter()
    try:
        torch.onnx.export(model, x, tmp, opset_version=opset, input_names=["input"],
                          output_names=["logits"], do_constant_folding=True,
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
        meta = {
            "format": FORMAT,
            "onnx": os.path.basename(path),
            "bytes": os.path.getsize(tmp),
            "sha256": sha256_file(tmp),
            "opset": opset,
            "seed": seed,
            "network": "tools/irv2_reference.py InceptionResNetV2Seed, float32, eval",
            "sources": source_hashes(),
            "torch": torch.__version__,
            "created": datetime.datetime.now().isoformat(timespec="seconds"),
            "input": "irv2 bench's: value i = ((i * 2654435761) mod 2001) / 1000 - 1, N x 3 x 299 x 299",
            "reference_logits_batch1": logits,
        }
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    side_tmp = "%s.tmp-%d" % (sidecar(path), os.getpid())
    with open(side_tmp, "w") as f:
        json.dump(meta, f)
    os.replace(side_tmp, sidecar(path))
    log("export_onnx: wrote %s (%.1f MB, opset %d, torch %s) in %.1f s"
        % (path, meta["bytes"] / 1e6, opset, torch.__version__, time.perf_counter() - t0))
    return meta


def main(argv=None):
    p = argparse.ArgumentParser(description="Export InceptionResNetV2Seed with synthetic weights to ONNX "
                                            "(cached; reused while its sources are unchanged).")
    p.add_argument("--out", default=None, metavar="FILE.onnx",
                   help="where to write (default %s)" % default_path(DEFAULT_SEED, DEFAULT_OPSET))
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help="synthetic weights' seed (default 1)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help="ONNX opset (default 17)")
    p.add_argument("--force", action="store_true", help="export even when the file is current")
    p.add_argument("--print-path", action="store_true",
                   help="print only the .onnx path on stdout (messages go to stderr)")
    a = p.parse_args(argv)
    path = os.path.abspath(a.out or default_path(a.seed, a.opset))

    def log(msg):
        print(msg, file=sys.stderr if a.print_path else sys.stdout, flush=True)

    meta = None if a.force else current(path, a.seed, a.opset)
    if meta:
        log("export_onnx: %s is current (torch %s, %s)" % (path, meta.get("torch"), meta.get("created")))
    else:
        export(path, a.seed, a.opset, log)
    if a.print_path:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
