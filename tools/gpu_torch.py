#!/usr/bin/env python3
"""Python side of tools/gpu-check.sh: PyTorch on the same device as irv2, and the reports.

  gpu_torch.py input OUT.npy --batch N
      the correctness input: synthetic_fill("input", 7, -1, 1) as N x 3 x 299 x 299 float32
      (tests/data/seed_golden.npy holds the float64 reference logits of its first 2 images).
  gpu_torch.py ctest-script BUILD SRC < ctest.json > tests.sh
      ctest --show-only=json-v1 as a plain sh list: one `t NAME TIMEOUT [VAR=VALUE...] CMD...`
      line per test, with $B (the bundle, shipped binaries), $R (the repository) and $W (the
      tests' work folder) in place of the build and source paths.
  gpu_torch.py check --device cuda|cpu --input X.npy --irv2 LOGITS.npy --golden G.npy --json OUT
      irv2's logits against the committed float64 golden (first 2 rows; no torch needed) and
      against PyTorch (tools/irv2_reference.py, synthetic seed 1, as `irv2 run --weights
      synthetic:1`) in float64 and in float32 with TF32 off, on the device. Passes when the max
      |difference| from each float64 reference is <= 1e-3 and every image's top-5 is identical.
  gpu_torch.py bench --device cuda|cpu --batch 1,8 --json OUT [--deadline S] [--threads T]
      images/s of the same network on the input `irv2 bench` feeds, at each batch size, in two
      modes: fp32 (TF32 off for convs and matmuls) and PyTorch's defaults, each with
      cudnn.benchmark on, in NCHW and channels_last; 3 warm-up runs, then timed runs (at least 3,
      at least 0.5 s on a GPU), torch.cuda.synchronize around them. OUT is rewritten after every
      measurement, so a run stopped by its deadline keeps what it measured.
  gpu_torch.py table --bench bench.json [--bench-txt bench.txt] --torch torch.json
      the side-by-side table (irv2 images/s from bench.json, else the rows printed in bench.txt).
Exit status: 0 when the requested work was done (check: when it passed), 1 otherwise.
"""

import argparse
import ast
import json
import os
import struct
import sys
import time

TOOLS = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-3
SEED = 1          # `irv2 run/bench --weights synthetic` is seed 1
INPUT_SEED = 7    # the golden input (tools/make_golden.py)


# ---- stdlib helpers (check and table work without numpy or torch) -----------------------------

def read_npy_f32(path):
    """(shape, flat list of floats) of a little-endian float32 C-order .npy file."""
    with open(path, "rb") as f:
        if f.read(6) != b"\x93NUMPY":
            raise ValueError("%s: not a .npy file" % path)
        major = f.read(2)[0]
        n = struct.unpack("<H" if major == 1 else "<I", f.read(2 if major == 1 else 4))[0]
        hdr = ast.literal_eval(f.read(n).decode("latin1"))  # a dict literal
        if hdr["descr"] != "<f4" or hdr["fortran_order"]:
            raise ValueError("%s: expected little-endian float32 in C order" % path)
        count = 1
        for d in hdr["shape"]:
            count *= d
        data = f.read(4 * count)
        if len(data) != 4 * count:
            raise ValueError("%s: truncated" % path)
    return tuple(hdr["shape"]), list(struct.unpack("<%df" % count, data))


def rows(shape, flat):
    n, c = shape
    return [flat[i * c:(i + 1) * c] for i in range(n)]


def top5(row):
    return sorted(range(len(row)), key=lambda i: -row[i])[:5]


def compare(got, ref, what):
    """One report line and pass/fail: max |got - ref|, relative to max|ref|, top-5 per image."""
    d = max(abs(a - b) for g, r in zip(got, ref) for a, b in zip(g, r))
    m = max(abs(b) for r in ref for b in r)
    same = [top5(g) == top5(r) for g, r in zip(got, ref)]
    ok = d <= TOL and all(same)
    line = "%-44s %s: max|diff| %.3e (%.2e of max|ref| %.3f), top-5 identical %d/%d" % (
        what, "PASS" if ok else "FAIL", d, d / m if m else d, m, sum(same), len(same))
    return ok, line, {"max_abs_diff": d, "max_abs_ref": m, "top5_identical": sum(same),
                      "images": len(same), "pass": ok}


def write_json(path, doc):
    tmp = path + ".tmp.%d" % os.getpid()
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def load_torch(device, threads):
    """(torch, reference module, None) or (None, None, why not)."""
    try:
        import numpy  # noqa: F401
        import torch
    except ImportError as e:
        return None, None, "no torch/numpy in %s (%s)" % (sys.executable, e)
    if device == "cuda" and not torch.cuda.is_available():
        return None, None, "torch %s: CUDA not available" % torch.__version__
    if threads:
        torch.set_num_threads(threads)
    sys.path.insert(0, TOOLS)
    import irv2_reference
    return torch, irv2_reference, None


def torch_info(torch, device):
    info = {"torch": torch.__version__, "python": sys.version.split()[0], "device": device}
    if device == "cuda":
        info.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    default_cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                    default_matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32)
    else:
        info["threads"] = torch.get_num_threads()
    return info


def build_model(ref):
    """The seed variant with the synthetic weights of seed 1 (float32, on the CPU), and seconds."""
    t0 = time.time()
    m = ref.InceptionResNetV2Seed(1000).eval()
    ref.fill_synthetic(m, SEED)
    return m, time.time() - t0


# ---- subcommands ------------------------------------------------------------------------------

def cmd_input(a):
    import numpy as np
    sys.path.insert(0, TOOLS)
    import synthetic
    n = a.batch * 3 * 299 * 299
    x = synthetic.synthetic_fill("input", INPUT_SEED, -1.0, 1.0, n).reshape(a.batch, 3, 299, 299)
    np.save(a.out, np.ascontiguousarray(x, dtype="<f4"))
    print("wrote %s: synthetic input seed %d, %d x 3 x 299 x 299" % (a.out, INPUT_SEED, a.batch))
    return 0


def cmd_ctest_script(a):
    doc = json.load(sys.stdin)
    build, src = os.path.realpath(a.build), os.path.realpath(a.src)

    def esc(s):
        return "".join("\\" + ch if ch in '$`"\\' else ch for ch in s)

    def sh(s):
        return '"%s"' % esc(s)

    def path(p, workdir):
        """p in the bundle's terms; files of the build tree are shipped under the same name."""
        rp = os.path.realpath(p) if os.path.isabs(p) else p
        if rp == workdir:
            return '"$W"'
        for root, var in ((build, "$B"), (src, "$R")):
            if rp == root or rp.startswith(root + "/"):
                if var == "$B" and not os.path.isfile(rp):
                    sys.exit("ctest-script: %s needs %s from the build tree" % (name, p))
                return '"%s%s"' % (var, esc(rp[len(root):]))
        return sh(p)

    print("# Generated by tools/gpu-check.sh pack from `ctest --show-only=json-v1` in %s." % a.build)
    print("# t NAME TIMEOUT_S [VAR=VALUE...] COMMAND [ARGS...], run in \"$W\"; $B is the bundle,")
    print("# $R the repository root, $W the tests' work folder (ctest's WORKING_DIRECTORY).")
    for t in doc["tests"]:
        name = t["name"]
        props = {p["name"]: p["value"] for p in t.get("properties", [])}
        workdir = os.path.realpath(props.get("WORKING_DIRECTORY", build))
        words = []
        for kv in props.get("ENVIRONMENT", []):
            k, v = kv.split("=", 1)
            words.append("%s=%s" % (k, path(v, workdir) if os.path.isabs(v) else sh(v)))
        cmd = t["command"]
        exe = cmd[0]
        rx = os.path.realpath(exe)
        if not (rx.startswith(build + "/") or rx.startswith(src + "/")):
            exe = os.path.basename(exe)  # a system tool such as sh: found in PATH
        words.append(path(exe, workdir) if os.path.isabs(exe) else sh(exe))
        words += [path(w, workdir) if os.path.isabs(w) else sh(w) for w in cmd[1:]]
        print("t %s %d %s" % (name, int(props.get("TIMEOUT", 1500)), " ".join(words)))
    return 0


def cmd_check(a):
    doc = {"tolerance_abs": TOL, "input": a.input, "weights": "synthetic:%d" % SEED, "checks": {}}
    ok_all = True

    def say(line):
        print(line, flush=True)  # as it comes: a check stopped by its time limit keeps these

    try:
        shape, flat = read_npy_f32(a.irv2)
        got = rows(shape, flat)
    except (OSError, ValueError, KeyError) as e:
        say("check: irv2's logits %s: %s" % (a.irv2, e))
        write_json(a.json, dict(doc, error="no irv2 logits: %s" % e))
        return 1
    gshape, gflat = read_npy_f32(a.golden)
    ok, line, res = compare(got[:gshape[0]], rows(gshape, gflat),
                            "irv2 vs committed float64 golden (%d images)" % gshape[0])
    ok_all &= ok
    say(line)
    doc["checks"]["golden"] = res
    torch, ref, why = load_torch(a.device, a.threads)
    if not torch:
        say("PyTorch reference: SKIPPED: %s" % why)
        doc["torch_skipped"] = why
    else:
        import copy
        import numpy as np
        doc["torch_info"] = torch_info(torch, a.device)
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        x = np.load(a.input)
        base, build_s = build_model(ref)
        doc["torch_info"]["model_build_s"] = build_s
        for dtype, key, label in ((torch.float64, "torch_f64", "float64"),
                                  (torch.float32, "torch_f32", "float32, TF32 off")):
            model = copy.deepcopy(base).to(a.device, dtype)
            t0 = time.time()
            with torch.inference_mode():
                want = model(torch.from_numpy(x).to(a.device, dtype)).double().cpu().tolist()
            ok, line, res = compare(got, want, "irv2 vs torch %s on %s (%d images)" % (label, a.device, len(want)))
            res["forward_s"] = time.time() - t0
            doc["checks"][key] = res
            say(line)
            if dtype == torch.float64:
                ok_all &= ok
                ref64 = want
            else:  # context: how far PyTorch's own float32 is from float64
                _, line, res = compare(want, ref64, "  (torch float32 vs torch float64)")
                doc["checks"]["torch_f32_vs_f64"] = res
                say(line)
            del model
    doc["pass"] = ok_all
    say("correctness: %s (tolerance %.0e absolute, identical top-5; gate: the float64 references)"
        % ("PASS" if ok_all else "FAIL", TOL))
    write_json(a.json, doc)
    return 0 if ok_all else 1


def bench_input(np, batch):
    """The input `irv2 bench` feeds (cli/bench.c): ((i * 2654435761) mod 2001) / 1000 - 1."""
    i = np.arange(batch * 3 * 299 * 299, dtype=np.uint64)
    v = (i * np.uint64(2654435761)) % np.uint64(2001)
    return (v.astype(np.float32) / np.float32(1000.0) - np.float32(1.0)).reshape(batch, 3, 299, 299)


def cmd_bench(a):
    t_start = time.time()
    batches = [int(b) for b in a.batch.split(",")]
    torch, ref, why = load_torch(a.device, a.threads)
    doc = {"batches": batches, "results": []}
    if not torch:
        print("torch bench: SKIPPED: %s" % why)
        write_json(a.json, dict(doc, skipped=why))
        return 0
    import numpy as np
    doc["info"] = torch_info(torch, a.device)
    defaults = (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    torch.backends.cudnn.benchmark = True
    model, build_s = build_model(ref)
    model = model.to(a.device)
    doc["info"]["model_build_s"] = build_s
    print("torch %s on %s; model built in %.1f s; defaults: cudnn.allow_tf32=%s matmul.allow_tf32=%s"
          % (torch.__version__, doc["info"].get("gpu", a.device), build_s, *defaults), flush=True)
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    min_s = 0.5 if a.device == "cuda" else 0.0
    modes = (("fp32", (False, False)), ("default", defaults))
    layouts = (("nchw", torch.contiguous_format), ("channels_last", torch.channels_last))
    for batch in batches:
        x0 = torch.from_numpy(bench_input(np, batch)).to(a.device)
        for mode, (conv_tf32, mm_tf32) in modes:
            torch.backends.cudnn.allow_tf32 = conv_tf32
            torch.backends.cuda.matmul.allow_tf32 = mm_tf32
            for layout, fmt in layouts:
                if time.time() - t_start > a.deadline:
                    doc["stopped"] = "deadline of %.0f s reached before batch %d %s %s" % (a.deadline, batch, mode, layout)
                    print(doc["stopped"])
                    write_json(a.json, doc)
                    return 1
                m = model.to(memory_format=fmt)
                x = x0.contiguous(memory_format=fmt)
                with torch.inference_mode():
                    t0 = time.perf_counter()
                    for _ in range(3):
                        m(x)
                    sync()
                    warm = time.perf_counter() - t0
                    iters, t0 = 0, time.perf_counter()
                    while iters < 3 or time.perf_counter() - t0 < min_s:
                        m(x)
                        iters += 1
                        if a.device == "cuda" and iters % 5 == 0:
                            sync()
                    sync()
                    total = time.perf_counter() - t0
                r = {"batch": batch, "mode": mode, "layout": layout, "iters": iters,
                     "images_per_s": batch * iters / total, "ms_per_batch": 1e3 * total / iters,
                     "warmup_s": warm}
                doc["results"].append(r)
                print("batch %4d  %-7s %-13s %10.2f img/s  %9.3f ms/batch  (%d runs, warm-up %.2f s)"
                      % (batch, mode, layout, r["images_per_s"], r["ms_per_batch"], iters, warm), flush=True)
                write_json(a.json, doc)
    if a.device == "cuda":
        doc["info"]["max_memory_allocated_mib"] = torch.cuda.max_memory_allocated() / 2**20
    write_json(a.json, doc)
    return 0


def irv2_rows(bench_json, bench_txt):
    """{batch: images/s} of irv2: bench.json's results, else the table rows bench.txt printed."""
    try:
        with open(bench_json) as f:
            res = json.load(f)["results"]
        return {r["batch"]: r["images_per_s"] for r in res}, res[0]["device"] if res else "?", "bench.json"
    except (OSError, ValueError, KeyError, IndexError):
        pass
    out, dev = {}, "?"
    try:
        with open(bench_txt) as f:
            for line in f:
                w = line.split()
                if len(w) >= 8 and not line.startswith(" "):
                    try:
                        nums = [float(v) for v in w[-7:]]
                    except ValueError:
                        continue
                    out.setdefault(int(nums[0]), nums[1])
                    dev = " ".join(w[:-7])
    except OSError:
        pass
    return out, dev, "bench.txt rows (bench.json missing)"


def cmd_table(a):
    irv2, dev, src = irv2_rows(a.bench, a.bench_txt)
    best, info, note = {}, {}, ""
    try:
        with open(a.torch) as f:
            t = json.load(f)
        info = t.get("info", {})
        note = t.get("skipped", "") or t.get("stopped", "")
        for r in t.get("results", []):
            k = (r["batch"], r["mode"])
            if k not in best or r["images_per_s"] > best[k]["images_per_s"]:
                best[k] = r
    except (OSError, ValueError) as e:
        note = "no torch results (%s)" % e
    batches = sorted(set(irv2) | {b for b, _ in best})
    if not batches:
        print("no irv2 or torch figures for the table (%s)" % (note or "bench.json and bench.txt hold none"))
        return 1
    print("irv2 on %s (%s); torch %s on %s; torch columns: the faster of NCHW and channels_last (CL)"
          % (dev, src, info.get("torch", "-"), info.get("gpu", info.get("device", "-"))))
    if note:
        print("torch note: %s" % note)
    print("%6s %12s %15s %18s %11s %14s" % ("batch", "irv2 img/s", "torch fp32", "torch default",
                                           "irv2/fp32", "irv2/default"))

    def cell(k):
        r = best.get(k)
        return ("%.1f (%s)" % (r["images_per_s"], "CL" if r["layout"] == "channels_last" else "NCHW")) if r else "-"

    def ratio(b, mode):
        r = best.get((b, mode))
        return "%.3f" % (irv2[b] / r["images_per_s"]) if r and b in irv2 else "-"

    for b in batches:
        print("%6d %12s %15s %18s %11s %14s" % (b, "%.1f" % irv2[b] if b in irv2 else "-", cell((b, "fp32")),
                                               cell((b, "default")), ratio(b, "fp32"), ratio(b, "default")))
    return 0 if irv2 else 1


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("input")
    s.add_argument("out")
    s.add_argument("--batch", type=int, default=8)
    s = sub.add_parser("ctest-script")
    s.add_argument("build")
    s.add_argument("src")
    for name in ("check", "bench"):
        s = sub.add_parser(name)
        s.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
        s.add_argument("--json", required=True)
        s.add_argument("--threads", type=int, default=0)
    s = sub.choices["check"]
    s.add_argument("--input", required=True)
    s.add_argument("--irv2", required=True)
    s.add_argument("--golden", required=True)
    s = sub.choices["bench"]
    s.add_argument("--batch", default="1,8")
    s.add_argument("--deadline", type=float, default=1e9, help="seconds; stop measuring after it")
    s = sub.add_parser("table")
    s.add_argument("--bench", required=True)
    s.add_argument("--bench-txt", default="")
    s.add_argument("--torch", required=True)
    a = p.parse_args(argv)
    return {"input": cmd_input, "ctest-script": cmd_ctest_script, "check": cmd_check,
            "bench": cmd_bench, "table": cmd_table}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
