"""model.py: a performance MODEL (not a measurement) of the whole network on an H100 SXM from
tools/gpu-static's sm_90 slice bounds and the plan's steps, per step and in all, at several
batch sizes.

The steps and, per conv, the forms to choose from are the library's (`irv2-gpu-configs
--steps`: siblings stacked as plan.c stacks them, each conv's shape as run, every form the
families offer the H100 profile with its launch count and program). Per conv and form of the
family modelled:
    compute = 2 * M_pad * N_pad * K_pad / (peak * slice_bound(program) * waves_eff)
    memory  = (input + weights + output [+ residual read] [+ split partials written and read])
              / DRAM bandwidth
    time    = max(compute, memory) + launches * launch cost
with M_pad, N_pad, K_pad the output channels, positions and reduction rows rounded up to the
tile and the slice, waves_eff = groups / (SMs * ceil(groups / SMs)) (each SM runs its share of
work-groups one after another at its bound; occupancy and latency are not modelled); the
tuner is taken to pick the fastest form. Pooling, the global average and the head cost their
bytes at DRAM bandwidth plus a launch; concatenation is free (convs write their channel
slices)."""

import math

SMS, CLOCK_GHZ, LANES = 132, 1.98, 128
PEAK = SMS * LANES * 2 * CLOCK_GHZ * 1e9          # FP32 FLOP/s: 66.9 T
DRAM = 3.0e12                                      # B/s, a device-to-device copy, read + write
LAUNCH = 5e-6                                      # s per kernel launch


def conv(name, cin, cout, kh, kw, s, ph, pw, h, w, residual=False, count=1):
    return {"kind": "conv", "name": name, "cin": cin, "cout": cout, "kh": kh, "kw": kw,
            "s": s, "ph": ph, "pw": pw, "h": h, "w": w, "residual": residual, "count": count}


def other(kind, name, c, h, w, count=1):
    return {"kind": kind, "name": name, "c": c, "h": h, "w": w, "count": count}


def out_hw(l):
    return ((l["h"] + 2 * l["ph"] - l["kh"]) // l["s"] + 1,
            (l["w"] + 2 * l["pw"] - l["kw"]) // l["s"] + 1)


def program_bounds(cfgs, results):
    """{(file, options): (cfg, whole-kernel slice bound, split-kernel slice bound)} on sm_90."""
    out = {}
    for i, c in enumerate(cfgs):
        r = results.get((i, "sm_90")) or {}
        hot = [k for k in c.hot if r.get(k, {}).get("mix")]
        if hot:
            out[(c.file, c.options)] = (c, r[hot[0]]["mix"]["slice_bound"]["bound"],
                                        r[hot[-1]]["mix"]["slice_bound"]["bound"])
    return out


# irv2-gpu-configs' step kinds (net_layer_kind_name) as other_time() names them.
STEP_KINDS = {"maxpool": "maxpool", "avgpool3x3": "avgpool", "global_avgpool": "gap",
              "head": "head"}


def library_steps(text, variant, batch):
    """The plan's steps of a variant at a batch size from `irv2-gpu-configs --steps`: conv
    steps with their shape as run and the forms the families offer (text, launches, program),
    the rest by kind and input size."""
    out = []
    for line in text.splitlines():
        f = line.split("\t")
        if f[0] != variant or int(f[1]) != batch:
            continue
        name, kind = f[2], f[3]
        cin, cout, kh, kw, st, ph, pw, n, h, w, res = (int(x) for x in f[4:15])
        if kind != "conv":
            out.append(other(STEP_KINDS.get(kind, "head"), name, cin, h, w))
            continue
        forms = []
        for item in filter(None, f[15].split(";")):
            text_, launches, file, options = item.split("|")
            forms.append({"text": text_, "launches": int(launches), "file": file,
                          "options": options})
        l = conv(name, cin, cout, kh, kw, st, ph, pw, h, w, bool(res))
        l["n"], l["forms"] = n, forms
        out.append(l)
    return out


def form_time(l, bounds, family):
    """conv_time for a library step: the fastest of the family's forms the library offers it,
    each with its own program's bound and its own launch count."""
    n = l["n"]
    ho, wo = out_hw(l)
    npos, M, K = n * ho * wo, l["cout"], l["kh"] * l["kw"] * l["cin"]
    flops = 2.0 * npos * M * K
    best = None
    prefix = family.replace("conv_", "") + " "
    for f in l["forms"]:
        if not f["text"].startswith(prefix) or (f["file"], f["options"]) not in bounds:
            continue
        c, whole, split = bounds[(f["file"], f["options"])]
        tn, tm, parts = (int(x) for x in f["text"].split()[1:4])
        s = max(parts, 1)
        b = whole if s == 1 else split
        if b <= 0:
            continue
        tk = c.meta["tk"]
        tiles = math.ceil(npos / tn) * math.ceil(M / tm)
        kpad = math.ceil(K / (s * tk)) * tk * s
        groups = tiles * s
        eff = groups / (SMS * math.ceil(groups / SMS))
        padded = 2.0 * math.ceil(npos / tn) * tn * math.ceil(M / tm) * tm * kpad
        compute = padded / (PEAK * b * eff)
        byts = 4.0 * (l["cin"] * n * l["h"] * l["w"] + K * M +
                      npos * M * (2 if l["residual"] else 1))
        if s > 1:
            byts += 4.0 * 2 * s * M * npos
        mem = byts / DRAM
        t = max(compute, mem) + f["launches"] * LAUNCH
        if best is None or t < best["time"]:
            best = {"tile": f"{tn}x{tm}", "split": s, "bound": b,
                    "eff": eff * flops / padded, "compute": compute, "memory": mem,
                    "launches": f["launches"], "time": t, "flops": flops}
    return best


def pick_family(cfgs):
    fams = {c.family for c in cfgs}
    return "conv_wg" if "conv_wg" in fams else next(iter(sorted(fams)))


def other_time(l, n):
    c, h, w = l["c"], l["h"], l["w"]
    if l["kind"] == "maxpool":
        ho, wo = (h - 3) // 2 + 1, (w - 3) // 2 + 1
        byts = 4.0 * c * n * (h * w + ho * wo)
    elif l["kind"] == "avgpool":
        byts = 4.0 * c * n * 2 * h * w
    elif l["kind"] == "gap":
        byts = 4.0 * c * n * (h * w + 1)
    else:
        byts = 4.0 * c * n * 2
    mem = byts / DRAM
    return {"tile": "-", "split": 0, "bound": 0, "eff": 0, "compute": 0, "memory": mem,
            "launches": 1, "time": mem + LAUNCH, "flops": 0}


def report(cfgs, results, batches, variant, family, steps):
    """The model's lines; steps: `irv2-gpu-configs --steps` output (the plan's steps and the
    forms the library offers them)."""
    bounds = program_bounds(cfgs, results)
    out = [f"MODEL (not a measurement): {family} on an H100 SXM: {SMS} SMs x {LANES} FP32 lanes "
           f"x {CLOCK_GHZ} GHz = {PEAK / 1e12:.1f} TFLOP/s FP32 peak, {DRAM / 1e12:.1f} TB/s "
           f"DRAM, {LAUNCH * 1e6:.0f} us per launch; per conv the fastest tile and split by "
           f"max(compute at the sm_90 slice bound, memory) + launches"]
    if not bounds:
        return out + ["MODEL: no sm_90 bounds (NVIDIA toolchain missing or compile failed)"]
    variants = ["seed", "tf"] if variant == "both" else [variant]
    summary = []
    for v in variants:
        for n in batches:
            rows = []
            for l in library_steps(steps, v, n):
                r = form_time(l, bounds, family) if l["kind"] == "conv" else other_time(l, n)
                if r is None:
                    r = other_time({**l, "kind": "head", "c": 0}, n)
                rows.append((l, r))
            total = sum(r["time"] * l["count"] for l, r in rows)
            flops = sum(r["flops"] * l["count"] for l, r in rows)
            conv_t = sum(r["time"] * l["count"] for l, r in rows if l["kind"] == "conv")
            launches = sum(r["launches"] * l["count"] for l, r in rows)
            out.append(f"\nMODEL {v} batch {n}: {total * 1e3:.3f} ms predicted, "
                       f"{flops / n / 1e9:.2f} GFLOP/image, {100 * flops / total / PEAK:.0f}% of "
                       f"FP32 peak (convs {conv_t * 1e3:.3f} ms, {launches} launches)")
            out.append(f"  {'layer':26} {'x':>2} {'out':>14} {'tile':8} {'split':>5} "
                       f"{'bound':>5} {'pad*wave':>8} {'comp us':>8} {'mem us':>7} "
                       f"{'MODEL us':>8} {'%peak':>5}")
            for l, r in rows:
                if l["kind"] == "conv":
                    ho, wo = out_hw(l)
                    shape = f"{l['cout']}x{ho}x{wo}"
                else:
                    shape = f"{l['c']}x{l['h']}x{l['w']}"
                p = 100 * r["flops"] / r["time"] / PEAK if r["flops"] else 0
                out.append(f"  {l['name'][:26]:26} {l['count']:2} {shape:>14} {r['tile']:8} "
                           f"{r['split']:5} {pct(r['bound'])} {100 * r['eff']:7.0f}% "
                           f"{r['compute'] * 1e6:8.1f} {r['memory'] * 1e6:7.1f} "
                           f"{r['time'] * 1e6:8.1f} {p:4.0f}%")
            summary.append((v, n, total, 100 * flops / total / PEAK))
    out.append("\nMODEL summary (predicted, not measured; goals: batch 64 >= 65%, batch 1 >= 20% "
               "of FP32 peak)")
    for v, n, t, p in summary:
        goal = {64: 65, 1: 20}.get(n)
        verdict = "" if goal is None else (" meets" if p >= goal else " misses") + f" {goal}%"
        out.append(f"  {v:4} batch {n:3}: {t * 1e3:8.3f} ms  {p:4.0f}% of peak{verdict}")
    return out


def pct(x):
    return f"{100 * x:4.0f}%" if x else "   - "
