"""model.py: a performance MODEL (not a measurement) of the whole network on an H100 SXM from
tools/gpu-static's sm_90 slice bounds, per layer and in all, at several batch sizes.

Per conv layer, for each tile of the family and each split of the reduction the launcher
offers (1, 4 or 16 slices where a conv has under 256 tiles and at least 64 rows per slice):
    compute = 2 * M_pad * N_pad * K_pad / (peak * slice_bound(tile, geometry) * waves_eff)
    memory  = (input + weights + output [+ residual read] [+ split scratch written and read])
              / DRAM bandwidth
    time    = max(compute, memory) + launches * launch cost
with M_pad, N_pad, K_pad the output channels, positions and reduction rows rounded up to the
tile and the slice, waves_eff = tiles / (SMs * ceil(tiles / SMs)) (each SM runs its share of
work-groups one after another at its bound; occupancy and latency are not modelled); the
tuner is taken to pick the fastest. Pooling, the BN+ReLU passes after the reductions and the
head cost their bytes at DRAM bandwidth plus a launch; concatenation is free (convs write
their channel slices). Sibling 1x1 convs on one input run stacked, as plan.c does."""

import math

SMS, CLOCK_GHZ, LANES = 132, 1.98, 128
PEAK = SMS * LANES * 2 * CLOCK_GHZ * 1e9          # FP32 FLOP/s: 66.9 T
DRAM = 3.0e12                                      # B/s, a device-to-device copy, read + write
LAUNCH = 5e-6                                      # s per kernel launch
FEW_TILES = 256                                    # ops/conv_wg.c WG_FEW_TILES


def conv(name, cin, cout, kh, kw, s, ph, pw, h, w, residual=False, count=1):
    return {"kind": "conv", "name": name, "cin": cin, "cout": cout, "kh": kh, "kw": kw,
            "s": s, "ph": ph, "pw": pw, "h": h, "w": w, "residual": residual, "count": count}


def other(kind, name, c, h, w, count=1):
    return {"kind": kind, "name": name, "c": c, "h": h, "w": w, "count": count}


def seed_layers():
    L = [conv("stem.conv1", 3, 32, 3, 3, 2, 0, 0, 299, 299),
         conv("stem.conv2", 32, 32, 3, 3, 1, 0, 0, 149, 149),
         conv("stem.conv3", 32, 64, 3, 3, 1, 1, 1, 147, 147),
         conv("stem.conv4", 64, 96, 3, 3, 2, 0, 0, 147, 147),
         other("maxpool", "stem.pool4", 64, 147, 147),
         conv("stem.conv5 reduce a+b", 160, 128, 1, 1, 1, 0, 0, 73, 73),
         conv("stem.conv5_3x3_a", 64, 96, 3, 3, 1, 0, 0, 73, 73),
         conv("stem.conv5_1x7_b", 64, 64, 1, 7, 1, 0, 3, 73, 73),
         conv("stem.conv5_7x1_b", 64, 64, 7, 1, 1, 3, 0, 73, 73),
         conv("stem.conv5_3x3_b", 64, 96, 3, 3, 1, 0, 0, 73, 73),
         conv("stem.conv6", 192, 192, 3, 3, 2, 0, 0, 71, 71),
         other("maxpool", "stem.pool6", 192, 71, 71)]
    L += [conv("block_a 1x1 x3", 384, 96, 1, 1, 1, 0, 0, 35, 35, count=5),
          conv("block_a 3x3_a", 32, 32, 3, 3, 1, 1, 1, 35, 35, count=5),
          conv("block_a 3x3_b1", 32, 48, 3, 3, 1, 1, 1, 35, 35, count=5),
          conv("block_a 3x3_b2", 48, 64, 3, 3, 1, 1, 1, 35, 35, count=5),
          conv("block_a proj", 128, 384, 1, 1, 1, 0, 0, 35, 35, True, count=5)]
    L += [other("maxpool", "reduction_a.pool", 384, 35, 35),
          conv("reduction_a 3x3_a", 384, 384, 3, 3, 2, 0, 0, 35, 35),
          conv("reduction_a b_reduce", 384, 256, 1, 1, 1, 0, 0, 35, 35),
          conv("reduction_a b1", 256, 256, 3, 3, 1, 1, 1, 35, 35),
          conv("reduction_a b2", 256, 384, 3, 3, 2, 0, 0, 35, 35),
          other("eltwise", "reduction_a bn+relu", 1152, 17, 17)]
    L += [conv("block_b 1x1 x2", 1152, 320, 1, 1, 1, 0, 0, 17, 17, count=10),
          conv("block_b 1x7", 128, 160, 1, 7, 1, 0, 3, 17, 17, count=10),
          conv("block_b 7x1", 160, 192, 7, 1, 1, 3, 0, 17, 17, count=10),
          conv("block_b proj", 384, 1152, 1, 1, 1, 0, 0, 17, 17, True, count=10)]
    L += [conv("reduction_b 1x1 x3", 1152, 768, 1, 1, 1, 0, 0, 17, 17),
          conv("reduction_b a", 256, 384, 3, 3, 2, 0, 0, 17, 17),
          conv("reduction_b b1", 256, 288, 3, 3, 1, 1, 1, 17, 17),
          conv("reduction_b b2", 288, 320, 3, 3, 2, 0, 0, 17, 17),
          conv("reduction_b c", 256, 288, 3, 3, 2, 0, 0, 17, 17),
          other("maxpool", "reduction_b.pool", 1152, 17, 17),
          other("eltwise", "reduction_b bn+relu", 2144, 8, 8)]
    L += [conv("block_c 1x1 x2", 2144, 384, 1, 1, 1, 0, 0, 8, 8, count=5),
          conv("block_c 1x3", 192, 224, 1, 3, 1, 0, 1, 8, 8, count=5),
          conv("block_c 3x1", 224, 256, 3, 1, 1, 1, 0, 8, 8, count=5),
          conv("block_c proj", 448, 2144, 1, 1, 1, 0, 0, 8, 8, True, count=5),
          other("gap", "avgpool 8x8", 2144, 8, 8),
          conv("classifier", 2144, 1000, 1, 1, 1, 0, 0, 1, 1),
          other("head", "head", 1000, 1, 1)]
    return L


def tf_layers():
    L = [conv("conv2d_1a", 3, 32, 3, 3, 2, 0, 0, 299, 299),
         conv("conv2d_2a", 32, 32, 3, 3, 1, 0, 0, 149, 149),
         conv("conv2d_2b", 32, 64, 3, 3, 1, 1, 1, 147, 147),
         other("maxpool", "maxpool_3a", 64, 147, 147),
         conv("conv2d_3b", 64, 80, 1, 1, 1, 0, 0, 73, 73),
         conv("conv2d_4a", 80, 192, 3, 3, 1, 0, 0, 73, 73),
         other("maxpool", "maxpool_5a", 192, 71, 71),
         conv("mixed_5b 1x1 x3", 192, 208, 1, 1, 1, 0, 0, 35, 35),
         conv("mixed_5b 5x5", 48, 64, 5, 5, 1, 2, 2, 35, 35),
         conv("mixed_5b 3x3 a", 64, 96, 3, 3, 1, 1, 1, 35, 35),
         conv("mixed_5b 3x3 b", 96, 96, 3, 3, 1, 1, 1, 35, 35),
         other("avgpool", "mixed_5b avgpool", 192, 35, 35),
         conv("mixed_5b pool 1x1", 192, 64, 1, 1, 1, 0, 0, 35, 35)]
    L += [conv("block35 1x1 x3", 320, 96, 1, 1, 1, 0, 0, 35, 35, count=10),
          conv("block35 3x3_a", 32, 32, 3, 3, 1, 1, 1, 35, 35, count=10),
          conv("block35 3x3_b1", 32, 48, 3, 3, 1, 1, 1, 35, 35, count=10),
          conv("block35 3x3_b2", 48, 64, 3, 3, 1, 1, 1, 35, 35, count=10),
          conv("block35 proj", 128, 320, 1, 1, 1, 0, 0, 35, 35, True, count=10)]
    L += [conv("mixed_6a 3x3", 320, 384, 3, 3, 2, 0, 0, 35, 35),
          conv("mixed_6a 1x1", 320, 256, 1, 1, 1, 0, 0, 35, 35),
          conv("mixed_6a b1", 256, 256, 3, 3, 1, 1, 1, 35, 35),
          conv("mixed_6a b2", 256, 384, 3, 3, 2, 0, 0, 35, 35),
          other("maxpool", "mixed_6a pool", 320, 35, 35)]
    L += [conv("block17 1x1 x2", 1088, 320, 1, 1, 1, 0, 0, 17, 17, count=20),
          conv("block17 1x7", 128, 160, 1, 7, 1, 0, 3, 17, 17, count=20),
          conv("block17 7x1", 160, 192, 7, 1, 1, 3, 0, 17, 17, count=20),
          conv("block17 proj", 384, 1088, 1, 1, 1, 0, 0, 17, 17, True, count=20)]
    L += [conv("mixed_7a 1x1 x3", 1088, 768, 1, 1, 1, 0, 0, 17, 17),
          conv("mixed_7a a", 256, 384, 3, 3, 2, 0, 0, 17, 17),
          conv("mixed_7a b", 256, 288, 3, 3, 2, 0, 0, 17, 17),
          conv("mixed_7a c1", 256, 288, 3, 3, 1, 1, 1, 17, 17),
          conv("mixed_7a c2", 288, 320, 3, 3, 2, 0, 0, 17, 17),
          other("maxpool", "mixed_7a pool", 1088, 17, 17)]
    L += [conv("block8 1x1 x2", 2080, 384, 1, 1, 1, 0, 0, 8, 8, count=10),
          conv("block8 1x3", 192, 224, 1, 3, 1, 0, 1, 8, 8, count=10),
          conv("block8 3x1", 224, 256, 3, 1, 1, 1, 0, 8, 8, count=10),
          conv("block8 proj", 448, 2080, 1, 1, 1, 0, 0, 8, 8, True, count=10),
          conv("conv2d_7b", 2080, 1536, 1, 1, 1, 0, 0, 8, 8),
          other("gap", "avgpool 8x8", 1536, 8, 8),
          conv("classifier", 1536, 1000, 1, 1, 1, 0, 0, 1, 1),
          other("head", "head", 1000, 1, 1)]
    return L


def out_hw(l):
    return ((l["h"] + 2 * l["ph"] - l["kh"]) // l["s"] + 1,
            (l["w"] + 2 * l["pw"] - l["kw"]) // l["s"] + 1)


def geometry(l):
    kh, kw, s = l["kh"], l["kw"], l["s"]
    if (kh, kw) == (1, 1):
        return "1x1"
    if s == 2:
        return "3x3s2"
    if kh == 1 or kw == 1:
        return f"{kh}x{kw}" if f"{kh}x{kw}" in ("1x7", "7x1", "1x3", "3x1") else "1x7"
    return "3x3s1"


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


def tile_bounds(cfgs, results):
    """{(tile, geometry): (cfg, whole-kernel slice bound, split-kernel slice bound)}."""
    out = {}
    for i, c in enumerate(cfgs):
        r = results.get((i, "sm_90")) or {}
        hot = [k for k in c.hot if r.get(k, {}).get("mix")]
        if not hot:
            continue
        whole = r[hot[0]]["mix"]["slice_bound"]["bound"]
        split = r[hot[-1]]["mix"]["slice_bound"]["bound"]
        out[(c.tile, c.geometry)] = (c, whole, split)
    return out


def conv_time(l, n, bounds, family):
    ho, wo = out_hw(l)
    npos, M, K = n * ho * wo, l["cout"], l["kh"] * l["kw"] * l["cin"]
    flops = 2.0 * npos * M * K
    geo = geometry(l)
    best = None
    for (tile, g), (c, whole, split) in bounds.items():
        if g != geo:
            continue
        tn, tm, tk = c.meta["tn"], c.meta["tm"], c.meta["tk"]
        tiles = math.ceil(npos / tn) * math.ceil(M / tm)
        splits = [1] + [s for s in (4, 16) if tiles < FEW_TILES and K >= s * 4 * tk]
        for s in splits:
            b = whole if s == 1 else split
            if b <= 0:
                continue
            kpad = math.ceil(K / (s * tk)) * tk * s
            groups = tiles * s
            eff = groups / (SMS * math.ceil(groups / SMS))
            padded = 2.0 * math.ceil(npos / tn) * tn * math.ceil(M / tm) * tm * kpad
            compute = padded / (PEAK * b * eff)
            byts = 4.0 * (l["cin"] * n * l["h"] * l["w"] + K * M + npos * M *
                          (2 if l["residual"] else 1))
            launches = 1
            if s > 1:
                byts += 4.0 * 2 * s * M * npos
                launches += 1 if family == "conv_wg" else 0
            mem = byts / DRAM
            t = max(compute, mem) + launches * LAUNCH
            row = {"tile": tile, "split": s, "bound": b, "eff": eff * npos * M * K * 2 / padded,
                   "compute": compute, "memory": mem, "launches": launches, "time": t,
                   "flops": flops}
            if best is None or t < best["time"]:
                best = row
    return best


def other_time(l, n):
    c, h, w = l["c"], l["h"], l["w"]
    if l["kind"] == "maxpool":
        ho, wo = (h - 3) // 2 + 1, (w - 3) // 2 + 1
        byts = 4.0 * c * n * (h * w + ho * wo)
    elif l["kind"] == "avgpool":
        byts = 4.0 * c * n * 2 * h * w
    elif l["kind"] == "gap":
        byts = 4.0 * c * n * (h * w + 1)
    elif l["kind"] == "eltwise":
        byts = 4.0 * c * n * 2 * h * w
    else:
        byts = 4.0 * c * n * 2
    mem = byts / DRAM
    return {"tile": "-", "split": 0, "bound": 0, "eff": 0, "compute": 0, "memory": mem,
            "launches": 1, "time": mem + LAUNCH, "flops": 0}


def report(cfgs, results, batches, variant, family, steps=None):
    """The model's lines; steps: `irv2-gpu-configs --steps` output (the plan's steps and the
    forms the library offers), else the layer tables above and the split rule of conv_time."""
    bounds = program_bounds(cfgs, results) if steps else tile_bounds(cfgs, results)
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
            layers = (library_steps(steps, v, n) if steps else
                      seed_layers() if v == "seed" else tf_layers())
            for l in layers:
                if l["kind"] != "conv":
                    r = other_time(l, n)
                elif steps:
                    r = form_time(l, bounds, family)
                else:
                    r = conv_time(l, n, bounds, family)
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
