"""mix.py: the hot loop of a compiled kernel (NVIDIA SASS from nvdisasm, AMDGPU assembly from
llc), its instruction mix, and the bound it puts on the fraction of FP32 peak.

The bound (docs/gpu-static.md): per work-item, F = FMAs, N = instructions issued, B = bytes of
local (shared) memory moved per lane, over the innermost FMA loop or over one whole
local-memory slice (the inner loop times its trips plus the staging: global loads, local
stores, barriers). With p = FMAs per issue slot at peak and b = local-memory bytes per lane
per issue slot at peak:
    bound = (F / p) / max(N, B / b)
NVIDIA sm_80/sm_90: p = 1 (4 schedulers x 32 lanes = 128 FP32 lanes, FFMA in every slot),
b = 1 (128 B/clock/SM), N = every instruction. AMD: N = VALU instructions only (SALU, LDS,
memory and branches issue from other slots); gfx90a p = 2 (packed v_pk_fma_f32 is its peak),
b = 2 (128 B/clock/CU, 64 lanes); gfx1030 p = 1, b = 2 (wave32, 64 lanes/CU, 128 B/clock/CU).
"""

import re

# ---- parsing -------------------------------------------------------------------------------

SASS_INSN = re.compile(r"^\s+/\*([0-9a-f]{4,})\*/\s+(@!?U?P[T0-9]+\s+)?([A-Z][A-Z0-9_.]*)\s*([^;]*);")
SASS_LABEL = re.compile(r"^(\.L_\w+):")
SASS_SECTION = re.compile(r"^\s*\.section\s+\.text\.(\w+),")


def sass_functions(text):
    """{kernel: (insns [(op, args)], labels {name: index})} from `nvdisasm -c`."""
    funcs, cur = {}, None
    for line in text.splitlines():
        m = SASS_SECTION.match(line)
        if m:
            cur = funcs.setdefault(m.group(1), ([], {}))
            continue
        if cur is None:
            continue
        m = SASS_LABEL.match(line)
        if m:
            cur[1][m.group(1)] = len(cur[0])
            continue
        m = SASS_INSN.match(line)
        if m:
            cur[0].append((m.group(3), (m.group(2) or "") + m.group(4)))
    return funcs


def sass_flow(op, args):
    """(branch target label or None, whether control can fall through)."""
    pred = args.startswith("@")
    if op.startswith("BRA"):
        m = re.search(r"`\((\.L_\w+)\)", args)
        return (m.group(1) if m else None), pred
    if op.startswith(("EXIT", "RET")):
        return None, pred
    return None, True


AMD_LABEL = re.compile(r"^(\.?\w+):")
AMD_INSN = re.compile(r"^\s+([a-z][a-z0-9_]*)\b\s*(.*)$")


def amd_functions(text, kernels):
    """{kernel: (insns, labels)} from llc's AMDGPU assembly."""
    funcs, cur = {}, None
    for line in text.splitlines():
        line = line.split(";")[0].rstrip()
        if not line:
            continue
        m = AMD_LABEL.match(line)
        if m:
            name = m.group(1)
            if name in kernels:
                cur = funcs.setdefault(name, ([], {}))
            elif name.startswith(".Lfunc_end"):
                cur = None
            elif cur is not None:
                cur[1][name] = len(cur[0])
            continue
        if cur is None or line.lstrip().startswith("."):
            continue
        m = AMD_INSN.match(line)
        if m:
            cur[0].append((m.group(1), m.group(2)))
    return funcs


def amd_flow(op, args):
    if op == "s_branch":
        return args.split(",")[0].strip() or None, False
    if op.startswith("s_cbranch"):
        return args.split(",")[0].strip() or None, True
    if op == "s_endpgm":
        return None, False
    return None, True


# ---- classification ------------------------------------------------------------------------

def _width(op):
    for w, b in ((".128", 16), (".64", 8), (".U8", 4), (".S8", 4), (".U16", 4), (".S16", 4)):
        if w in op:
            return b
    return 4


SASS_INT = ("IADD", "IMAD", "LEA", "SHF", "LOP", "ISETP", "IABS", "VIADD", "IMNMX", "VIMNMX",
            "SEL", "PRMT", "SHL", "SHR", "UIADD", "UIMAD", "ULEA", "USHF", "ULOP", "UISETP",
            "USEL", "IDP", "BMSK", "FLO", "POPC", "UPRMT", "I2F", "F2I", "UFLO", "VIADDMNMX")
SASS_MOV = ("MOV", "UMOV", "CS2R", "S2R", "S2UR", "LDC", "ULDC", "IMAD.MOV")


def sass_class(op):
    """(kind, fma, lds_bytes, sts_bytes) of one SASS instruction."""
    if op.startswith("FFMA"):
        return "fma", 1, 0, 0
    if op.startswith("LDSM"):
        return "lds", 0, 16, 0
    if op.startswith("LDS"):
        return f"lds{_width(op) * 8}", 0, _width(op), 0
    if op.startswith("STS"):
        return "sts", 0, 0, _width(op)
    if op.startswith(("LDG", "LD.")) or op == "LD":
        return "ldg", 0, 0, 0
    if op.startswith(("STG", "ST.")) or op == "ST":
        return "stg", 0, 0, 0
    if op.startswith(("LDL", "STL")):
        return "stack", 0, 0, 0
    if op.startswith("BAR"):
        return "bar", 0, 0, 0
    if op.startswith(SASS_MOV):
        return "mov", 0, 0, 0
    if op.startswith(SASS_INT):
        return "int", 0, 0, 0
    if op.startswith(("BRA", "EXIT", "BSSY", "BSYNC", "WARPSYNC", "NOP", "PLOP3", "YIELD")):
        return "ctl", 0, 0, 0
    return "other", 0, 0, 0


AMD_DS_BYTES = {"b8": 4, "u8": 4, "i8": 4, "b16": 4, "u16": 4, "i16": 4, "b32": 4, "b64": 8,
                "b96": 12, "b128": 16}


def _ds_bytes(op):
    m = re.match(r"ds_(?:read|write|load|store)(2st64|2)?_([a-z]+\d+)", op)
    if not m:
        return 4
    b = AMD_DS_BYTES.get(m.group(2), 4)
    return 2 * b if m.group(1) else b


def amd_class(op):
    """(kind, fma, lds_bytes, sts_bytes) of one AMDGPU instruction; kind 'fma', 'valu*' and
    'int' are VALU (they take an issue slot in the bound)."""
    base = re.sub(r"_e(32|64)$|_sdwa$|_dpp$", "", op)
    if base in ("v_pk_fma_f32",):
        return "fma", 2, 0, 0
    if base in ("v_fma_f32", "v_fmac_f32", "v_mac_f32", "v_fmaak_f32", "v_fmamk_f32",
                "v_mad_f32", "v_madak_f32", "v_madmk_f32", "v_fma_legacy_f32", "v_fmac_legacy_f32"):
        return "fma", 1, 0, 0
    if base.startswith(("ds_read", "ds_load")):
        b = _ds_bytes(base)
        return f"lds{b * 8}", 0, b, 0
    if base.startswith(("ds_write", "ds_store")):
        return "sts", 0, 0, _ds_bytes(base)
    if base.startswith(("global_load", "buffer_load", "flat_load")):
        return "ldg", 0, 0, 0
    if base.startswith(("global_store", "buffer_store", "flat_store")):
        return "stg", 0, 0, 0
    if base.startswith(("scratch_", "buffer_")):
        return "stack", 0, 0, 0
    if base == "s_barrier":
        return "bar", 0, 0, 0
    if base.startswith("v_mov") or base.startswith("v_accvgpr"):
        return "valu_mov", 0, 0, 0
    if base.startswith("v_"):
        fp = re.search(r"_f(16|32|64)\b|_f(16|32|64)_", base + "_")
        return ("valu_fp" if fp else "int"), 0, 0, 0
    if base.startswith("s_"):
        return "salu", 0, 0, 0
    return "other", 0, 0, 0


VENDORS = {
    "nvidia": (sass_class, sass_flow, lambda kind: True),
    "amd": (amd_class, amd_flow, lambda kind: kind in ("fma", "int") or kind.startswith("valu")),
}


# ---- loops ---------------------------------------------------------------------------------

def natural_loops(insns, labels, flow):
    """The natural loops of the control-flow graph, each a frozenset of instruction indices
    (blocks laid out anywhere: a loop is what its back edges reach, not an address range)."""
    n = len(insns)
    starts = {0} | {i for i in labels.values() if i < n}
    for i, (op, args) in enumerate(insns):
        t, _ = flow(op, args)
        if t is not None or not flow(op, args)[1]:
            if i + 1 < n:
                starts.add(i + 1)
    starts = sorted(starts)
    block_of, blocks = {}, []
    for b, s0 in enumerate(starts):
        e = starts[b + 1] if b + 1 < len(starts) else n
        blocks.append(range(s0, e))
        block_of[s0] = b
    succ = [[] for _ in blocks]
    for b, r in enumerate(blocks):
        if not len(r):
            continue
        op, args = insns[r[-1]]
        t, falls = flow(op, args)
        if t is not None and t in labels and labels[t] in block_of:
            succ[b].append(block_of[labels[t]])
        if falls and b + 1 < len(blocks):
            succ[b].append(b + 1)
    pred = [[] for _ in blocks]
    for b, ss in enumerate(succ):
        for x in ss:
            pred[x].append(b)
    every = set(range(len(blocks)))
    dom = [every.copy() for _ in blocks]
    dom[0] = {0}
    changed = True
    while changed:
        changed = False
        for b in range(1, len(blocks)):
            ps = [dom[p] for p in pred[b]]
            new = (set.intersection(*ps) if ps else set()) | {b}
            if new != dom[b]:
                dom[b], changed = new, True
    loops = {}
    for u, ss in enumerate(succ):
        for h in ss:
            if h in dom[u]:  # back edge u -> h
                body, stack = {h}, [u]
                while stack:
                    x = stack.pop()
                    if x not in body:
                        body.add(x)
                        stack.extend(pred[x])
                loops.setdefault(h, set()).update(body)
    return [frozenset(i for b in body for i in blocks[b]) for body in loops.values()]


def count(insns, where, classify, issues):
    """The mix of the instructions at the indices in where."""
    c = {"n": 0, "fma": 0, "lds_bytes": 0, "sts_bytes": 0, "kinds": {}}
    for i in where:
        op = insns[i][0]
        kind, fma, lb, sb = classify(op)
        c["kinds"][kind] = c["kinds"].get(kind, 0) + 1
        if issues(kind):
            c["n"] += 1
        c["fma"] += fma
        c["lds_bytes"] += lb
        c["sts_bytes"] += sb
    return c


def _add(a, b, k=1.0):
    a["n"] += k * b["n"]
    a["fma"] += k * b["fma"]
    a["lds_bytes"] += k * b["lds_bytes"]
    a["sts_bytes"] += k * b["sts_bytes"]
    for key, v in b["kinds"].items():
        a["kinds"][key] = a["kinds"].get(key, 0) + k * v


def _empty():
    return {"n": 0, "fma": 0, "lds_bytes": 0, "sts_bytes": 0, "kinds": {}}


def bound(c, p, b):
    """(F/p) / max(N, B/b), with its two parts."""
    if not c["fma"] or not c["n"]:
        return {"bound": 0.0, "issue": 0.0, "shared": 0.0}
    bytes_ = c["lds_bytes"] + c["sts_bytes"]
    issue = c["fma"] / p / c["n"]
    shared = c["fma"] / p / (bytes_ / b) if bytes_ else float("inf")
    return {"bound": min(issue, shared), "issue": issue, "shared": min(shared, 99.0)}


def analyse(vendor, insns, labels, meta, p, b):
    """The hot loop's mix and bound, and one whole slice's, for a kernel with meta's slice
    figures; None where there is no FMA loop."""
    classify, flow, issues = VENDORS[vendor]
    loops = natural_loops(insns, labels, flow)
    stats = {L: count(insns, L, classify, issues) for L in loops}
    with_fma = [L for L in loops if stats[L]["fma"]]
    if not with_fma:
        return None
    innermost = [L for L in with_fma if not any(M < L for M in with_fma)]
    hot = max(innermost, key=lambda L: (stats[L]["fma"], -len(L)))
    inner = stats[hot]
    # the slice loop: the smallest loop around the hot loop (or the hot loop) with a barrier
    around = sorted((L for L in loops if hot <= L), key=len)
    sl = next((L for L in around if stats[L]["kinds"].get("bar")), hot)
    inside = [L for L in loops if L < sl]
    children = [L for L in inside if not any(L < M for M in inside)]
    rest = set(sl)
    for L in children:
        rest -= L
    own = count(insns, sorted(rest), classify, issues)
    slice_ = _empty()
    _add(slice_, own)
    staged = list(meta.get("staged", []))
    hot_child = next((L for L in children if hot <= L), None)
    if hot_child is not None:
        outside = own["fma"] + sum(stats[L]["fma"] for L in children if L != hot_child)
        trips = max(1.0, (meta["slice_fma"] - outside) / stats[hot_child]["fma"])
        _add(slice_, stats[hot_child], trips)
    stagers = sorted((L for L in children if L != hot_child and stats[L]["sts_bytes"]), key=min)
    others = [L for L in children if L != hot_child and L not in stagers]
    for L in others:
        _add(slice_, stats[L])
    if stagers:
        left = max(0.0, sum(staged) - own["sts_bytes"] / 4)
        if len(stagers) == len(staged) and not own["sts_bytes"]:
            for L, e in zip(stagers, staged):
                _add(slice_, stats[L], e / (stats[L]["sts_bytes"] / 4))
        else:
            per = sum(stats[L]["sts_bytes"] for L in stagers) / 4
            for L in stagers:
                _add(slice_, stats[L], left / per)
    # one slice exactly: the loop may hold several (unrolled) or the FMA count may differ
    scale = meta["slice_fma"] / slice_["fma"] if slice_["fma"] else 1.0
    norm = _empty()
    _add(norm, slice_, scale)
    return {"inner": inner, "inner_bound": bound(inner, p, b),
            "slice": norm, "slice_bound": bound(norm, p, b),
            "hot_is_slice": hot == sl}
