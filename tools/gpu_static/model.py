"""model.py: a performance MODEL (not a measurement) of the whole network on an H100 SXM from
tools/gpu-static's sm_90 slice bounds and the plan's steps, per step and in all, at several
batch sizes.

The steps and, per conv, the forms to choose from are the library's (`irv2-gpu-configs
--steps`: siblings stacked as plan.c stacks them, the global average pool and the classifier
as one step where the plan fuses them, each conv's shape as run, every form the families offer
the H100 profile with its launch count and program). Per conv and form of the conv families
modelled (by default every one in the library's listing that the tool bounds: the tuner times
each family's forms per layer and keeps the fastest; --family restricts it to one):
    compute = 2 * M_pad * N_pad * K_pad / (peak * slice_bound(program) * waves_eff)
    memory  = (input + weights + output [+ residual read] [+ split partials written and read])
              / DRAM bandwidth
    time    = max(compute, memory) + launches * launch cost
with M_pad, N_pad, K_pad the output channels, positions and reduction rows rounded up to the
tile and the slice, waves_eff = groups / (SMs * ceil(groups / SMs)) (each SM runs its share of
work-groups one after another at its bound; occupancy and latency are not modelled); the
tuner is taken to pick the fastest form over those families. Families the tool has no bound
for (direct, gemm, winograd, CLBlast) are not candidates. The fused pool and classifier is
one launch: memory = (features read once + packed weights + split partials written and read
+ logits) / DRAM bandwidth, compute at its program's slice bound where the tool has one (the
classifier has no FMA loop it bounds, so it is memory-bound). Pooling, the global average and
the head cost their bytes at DRAM bandwidth plus a launch; concatenation is free (convs write
their channel slices)."""

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


# irv2-gpu-configs' step kinds (net_layer_kind_name, plan.c's "pool+classifier") as
# other_time() and classifier_time() name them.
STEP_KINDS = {"maxpool": "maxpool", "avgpool3x3": "avgpool", "global_avgpool": "gap",
              "head": "head", "pool+classifier": "classifier"}


def parse_forms(field):
    """A step's forms, "text|launches|file|options" joined by ';'."""
    out = []
    for item in filter(None, field.split(";")):
        text, launches, file, options = item.split("|")
        out.append({"text": text, "launches": int(launches), "file": file, "options": options})
    return out


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
            l = other(STEP_KINDS.get(kind, "head"), name, cin, h, w)
            l["classes"], l["forms"] = cout, parse_forms(f[15])
            l["host"] = f[16] if len(f) > 16 else ""
            out.append(l)
            continue
        l = conv(name, cin, cout, kh, kw, st, ph, pw, h, w, bool(res))
        l["n"], l["forms"] = n, parse_forms(f[15])
        out.append(l)
    return out


def conv_families(cfgs):
    """The conv families of the configurations (the library's listing), the tuner's choice."""
    return sorted({c.family for c in cfgs if c.family.startswith("conv_")})


def form_time(l, bounds, families):
    """A conv step's time: the fastest of the forms the library offers it over the families,
    each with its own program's bound and its own launch count, as the tuner picks."""
    n = l["n"]
    ho, wo = out_hw(l)
    npos, M, K = n * ho * wo, l["cout"], l["kh"] * l["kw"] * l["cin"]
    flops = 2.0 * npos * M * K
    best = None
    for f in l["forms"]:
        c, whole, split = bounds.get((f["file"], f["options"]), (None, 0, 0))
        if c is None or c.family not in families:
            continue
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
            best = {"tile": f"{c.family.replace('conv_', '')} {c.tile or f'{tn}x{tm}'}",
                    "family": c.family, "split": s, "bound": b,
                    "eff": eff * flops / padded, "compute": compute, "memory": mem,
                    "launches": f["launches"], "time": t, "flops": flops}
    return best


def _flag(options, name, default):
    for word in options.split():
        if word.startswith(f"-D{name}="):
            return int(word.split("=", 1)[1])
    return default


def classifier_time(l, n, bounds):
    """The fused global average pool and classifier: one launch reading the features once,
    the packed weights ([features][classes padded to GROUP]) and writing the logits, with the
    split partials (one per class slot, slice and image) written and read; compute at its
    program's bound where the tool has one, else memory-bound."""
    feats, classes, hw = l["c"], l["classes"], l["h"] * l["w"]
    f = l["forms"][0] if l["forms"] else {"file": "", "options": "", "launches": 1}
    group, slice_ = _flag(f["options"], "GROUP", 128), _flag(f["options"], "SLICE", 64)
    padded = math.ceil(classes / group) * group
    slices = math.ceil(feats / slice_)
    byts = 4.0 * (feats * n * hw + feats * padded + classes * n)
    if slices > 1:
        byts += 4.0 * 2 * slices * padded * n
    flops = 2.0 * feats * classes * n
    _c, b, _s = bounds.get((f["file"], f["options"]), (None, 0, 0))
    compute = (flops + feats * n * hw) / (PEAK * b) if b > 0 else 0
    mem = byts / DRAM
    return {"tile": "classifier", "family": "classifier", "split": slices, "bound": b,
            "eff": 0, "compute": compute, "memory": mem, "launches": f["launches"],
            "time": max(compute, mem) + f["launches"] * LAUNCH, "flops": flops}


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
    # a max pool next to a conv writing the same tensor runs in that conv's launch (a rider:
    # the SIMT family, the model's pick, takes them): its bytes, no launch of its own
    launches = 0 if l.get("host") else 1
    return {"tile": f"in {l['host']}" if l.get("host") else "-", "family": "", "split": 0,
            "bound": 0, "eff": 0, "compute": 0, "memory": mem, "launches": launches,
            "time": mem + launches * LAUNCH, "flops": 0}


def step_time(l, n, bounds, families):
    if l["kind"] == "conv":
        r = form_time(l, bounds, families)
        if r is None:  # no form of the families: a launch, marked
            r = {**other_time({**l, "kind": "head", "c": 0}, n), "tile": "none"}
        return r
    if l["kind"] == "classifier":
        return classifier_time(l, n, bounds)
    return other_time(l, n)


def predict(cfgs, results, batches, variant, families, steps):
    """[(variant, batch, [(step, its time)])] over the plan's steps."""
    bounds = program_bounds(cfgs, results)
    variants = ["seed", "tf"] if variant == "both" else [variant]
    return [(v, n, [(l, step_time(l, n, bounds, families)) for l in library_steps(steps, v, n)])
            for v in variants for n in batches]


# The model's goals (issue 23): batch -> fraction of FP32 peak of the whole network.
GOALS = {64: 0.65, 1: 0.20}


def totals(rows):
    """(predicted seconds, fraction of FP32 peak) of a pass."""
    total = sum(r["time"] * l["count"] for l, r in rows)
    return total, sum(r["flops"] * l["count"] for l, r in rows) / total / PEAK


def pick_text(families):
    return (f"tuner's pick over {', '.join(families)}" if len(families) > 1
            else f"{families[0]} only" if families else "no conv family")


def goal_fails(cfgs, results, variant, families, steps):
    """The model's goals missed, one line each (--ci); steps at the goals' batches."""
    fails = []
    for v, n, rows in predict(cfgs, results, sorted(GOALS), variant, families, steps):
        _t, p = totals(rows)
        if p < GOALS[n]:
            fails.append(f"MODEL {v} batch {n}: {100 * p:.0f}% of H100 FP32 peak < goal "
                         f"{100 * GOALS[n]:.0f}% ({pick_text(families)})")
    return fails


def report(cfgs, results, batches, variant, families, steps):
    """The model's lines; families: the conv families the tuner picks from; steps:
    `irv2-gpu-configs --steps` output (the plan's steps and the forms the library offers
    them)."""
    pick = pick_text(families)
    out = [f"MODEL (not a measurement): {pick} on an H100 SXM: {SMS} SMs x {LANES} FP32 lanes "
           f"x {CLOCK_GHZ} GHz = {PEAK / 1e12:.1f} TFLOP/s FP32 peak, {DRAM / 1e12:.1f} TB/s "
           f"DRAM, {LAUNCH * 1e6:.0f} us per launch; per conv the fastest family, tile and split "
           f"by max(compute at the sm_90 slice bound, memory) + launches"]
    if not program_bounds(cfgs, results):
        return out + ["MODEL: no sm_90 bounds (NVIDIA toolchain missing or compile failed)"]
    summary = []
    for v, n, rows in predict(cfgs, results, batches, variant, families, steps):
        total, frac = totals(rows)
        flops = sum(r["flops"] * l["count"] for l, r in rows)
        conv_t = sum(r["time"] * l["count"] for l, r in rows if l["kind"] == "conv")
        launches = sum(r["launches"] * l["count"] for l, r in rows)
        picks = {}
        for l, r in rows:
            if l["kind"] == "conv" and r.get("family"):
                picks[r["family"]] = picks.get(r["family"], 0) + l["count"]
        picked = ", ".join(f"{f} {k}" for f, k in sorted(picks.items()))
        out.append(f"\nMODEL {v} batch {n}: {total * 1e3:.3f} ms predicted, "
                   f"{flops / n / 1e9:.2f} GFLOP/image, {100 * frac:.0f}% of "
                   f"FP32 peak (convs {conv_t * 1e3:.3f} ms, {launches} launches; convs per "
                   f"family picked: {picked})")
        out.append(f"  {'layer':26} {'x':>2} {'out':>14} {'picked':16} {'split':>5} "
                   f"{'bound':>5} {'pad*wave':>8} {'comp us':>8} {'mem us':>7} "
                   f"{'MODEL us':>8} {'%peak':>5}")
        for l, r in rows:
            if l["kind"] == "conv":
                ho, wo = out_hw(l)
                shape = f"{l['cout']}x{ho}x{wo}"
            elif l["kind"] == "classifier":
                shape = f"{l['classes']}x{n}"
            else:
                shape = f"{l['c']}x{l['h']}x{l['w']}"
            p = 100 * r["flops"] / r["time"] / PEAK if r["flops"] else 0
            out.append(f"  {l['name'][:26]:26} {l['count']:2} {shape:>14} {r['tile'][:16]:16} "
                       f"{r['split']:5} {pct(r['bound'])} {100 * r['eff']:7.0f}% "
                       f"{r['compute'] * 1e6:8.1f} {r['memory'] * 1e6:7.1f} "
                       f"{r['time'] * 1e6:8.1f} {p:4.0f}%")
        summary.append((v, n, total, 100 * frac))
    goals = ", ".join(f"batch {n} >= {100 * g:.0f}%" for n, g in sorted(GOALS.items(),
                                                                         reverse=True))
    out.append(f"\nMODEL summary ({pick}; predicted, not measured; goals: {goals} of FP32 "
               f"peak)")
    for v, n, t, p in summary:
        goal = GOALS.get(n)
        verdict = "" if goal is None else (" meets" if p >= 100 * goal else " misses") + \
            f" {100 * goal:.0f}%"
        out.append(f"  {v:4} batch {n:3}: {t * 1e3:8.3f} ms  {p:4.0f}% of peak{verdict}")
    return out


def pct(x):
    return f"{100 * x:4.0f}%" if x else "   - "
