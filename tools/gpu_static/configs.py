"""configs.py: the GPU kernel configurations tools/gpu-static compiles: one table per kernel
family (file, kernels, -D options per tile and layer geometry), which families are the GPU
families under test, and the --configs TSV override.

A configuration is one program (a .cl file and its -D options) and the kernels analysed in
it. `meta` says what the instruction-mix analysis needs to scale a loop to a whole
local-memory slice: the work-group size, the FMAs per work-item per slice (slice_fma) and
the floats each work-item stages into local memory per slice, per operand in source order
(staged)."""

import dataclasses
import re
import subprocess

# The epilogue of the tables' conv configurations: bias + ReLU (cl/epilogue.h; the bias is an
# argument, RELU1 the flag).
CONV_EPILOGUE = "-DRELU1"

# Representative layer geometries: label -> (KH, KW, SH, PH, PW).
GEOMETRIES = {
    "1x1": (1, 1, 1, 0, 0),
    "3x3s1": (3, 3, 1, 1, 1),
    "3x3s2": (3, 3, 2, 0, 0),
    "1x7": (1, 7, 1, 0, 3),
    "7x1": (7, 1, 1, 3, 0),
    "1x3": (1, 3, 1, 0, 1),
    "3x1": (3, 1, 1, 1, 0),
}


# Intel's ocloc is the slowest compiler (about 2 s a program per device): conv families are
# compiled for Intel at these geometries only (register pressure is the tile's; the gather's
# index arithmetic is at its simplest in 1x1 and its most in 3x3).
INTEL_GEOMETRIES = ("1x1", "3x3s1")


@dataclasses.dataclass
class Config:
    family: str          # conv_wg, conv_simt, pool, head, or the file's stem for --configs
    file: str            # under cl/
    kernels: list        # kernels analysed in the program
    options: str         # -D flags
    label: str           # e.g. "128x128 3x3s1"
    tile: str = ""       # "positions x channels", conv families only
    geometry: str = ""   # a GEOMETRIES key, conv families only
    meta: dict = dataclasses.field(default_factory=dict)
    hot: tuple = ()      # kernels whose FMA loop is analysed (mix and bounds)
    vendors: tuple = ()  # the vendors whose profile offers it (--library); () every vendor

    def wants(self, target):
        """Whether this configuration is compiled for target: offered to its vendor, and for
        Intel at INTEL_GEOMETRIES only."""
        if self.vendors and target_vendor(target) not in self.vendors:
            return False
        return not (target.startswith("intel") and self.geometry and
                    self.geometry not in INTEL_GEOMETRIES)

    def large(self):
        """Large tile: at least 64 x 128 outputs per work-group (the goal applies to them)."""
        t = self.meta.get("outputs", 0)
        return t >= 64 * 128


def target_vendor(target):
    return "nvidia" if target.startswith("sm_") else "amd" if target.startswith("gfx") else "intel"


def geometry_flags(g):
    kh, kw, sh, ph, pw = GEOMETRIES[g]
    return f"-DKH={kh} -DKW={kw} -DSH={sh} -DPH={ph} -DPW={pw}"


# --- conv_wg.cl (host/ops/conv_wg.c wg_tiles): (positions TN, channels TM), 16x16 groups, TK 16.
WG_TILES = [(64, 64), (32, 32), (32, 64), (64, 128), (128, 64), (128, 128)]
WG_TK, WG_SIDE = 16, 16


def wg_meta(tn, tm, tk=WG_TK, wx=WG_SIDE, wy=WG_SIDE):
    group = wx * wy
    return {"group": group, "slice_fma": tk * (tm // wy) * (tn // wx),
            "staged": [tk * tm / group, tk * tn / group], "outputs": tm * tn, "tk": tk,
            "tn": tn, "tm": tm}


def conv_wg_configs():
    out = []
    for tn, tm in WG_TILES:
        for g in GEOMETRIES:
            opts = (f"-DTM={tm} -DTN={tn} -DTK={WG_TK} -DWX={WG_SIDE} -DWY={WG_SIDE} "
                    f"{geometry_flags(g)} {CONV_EPILOGUE}")
            out.append(Config("conv_wg", "conv_wg.cl", ["conv_wg", "conv_wg_split",
                                                         "conv_wg_reduce"], opts,
                              f"{tn}x{tm} {g}", f"{tn}x{tm}", g, wg_meta(tn, tm),
                              ("conv_wg", "conv_wg_split")))
    return out


# --- conv_simt.cl: (BN positions, BM channels, RN, RM), BK 8; 1x1 also with VECX=1.
SIMT_TILES = [(128, 128, 8, 8), (64, 128, 8, 8), (128, 64, 8, 8), (64, 64, 4, 8),
              (64, 64, 8, 4), (32, 64, 4, 4)]
SIMT_BK = 8


def simt_meta(bn, bm, rn, rm, bk=SIMT_BK):
    group = (bm // rm) * (bn // rn)
    return {"group": group, "slice_fma": bk * rm * rn,
            "staged": [bk * bm / group, bk * bn / group], "outputs": bm * bn, "tk": bk,
            "tn": bn, "tm": bm}


def conv_simt_configs():
    out = []
    for bn, bm, rn, rm in SIMT_TILES:
        for g in GEOMETRIES:
            group = (bm // rm) * (bn // rn)
            vec_ok = g == "1x1" and group % (bn // 4) == 0 and SIMT_BK % (group // (bn // 4)) == 0
            for vecx in ([0, 1] if vec_ok else [0]):
                opts = (f"-DBM={bm} -DBN={bn} -DBK={SIMT_BK} -DRM={rm} -DRN={rn} "
                        f"-DVECX={vecx} {geometry_flags(g)} {CONV_EPILOGUE}")
                tile = f"{bn}x{bm}/{rn}x{rm}"
                label = f"{tile} {g}" + (" vecx" if vecx else "")
                out.append(Config("conv_simt", "conv_simt.cl", ["conv_simt", "conv_simt_split"],
                                  opts, label, tile, g, simt_meta(bn, bm, rn, rm),
                                  ("conv_simt", "conv_simt_split")))
    return out


def small_kernel_configs():
    """Pooling, the head and the fused pool and classifier in their work-group shape
    (ops/pool.c, ops/head.c, ops/classifier.c: its device form, batch 1 and the largest)."""
    return [
        Config("pool", "pool.cl", ["maxpool_wg", "global_avgpool_wg", "avgpool"], "", "plain"),
        Config("pool", "pool.cl", ["maxpool_wg", "global_avgpool_wg", "avgpool"],
               "-DAFFINE -DRELU2", "affine+relu2"),
        Config("head", "head.cl", ["head_wg"], "", "logits"),
        Config("head", "head.cl", ["head_wg"], "-DSOFTMAX", "softmax"),
    ] + [Config("classifier", "classifier.cl", ["classifier"],
                f"-DGROUP=128 -DSLICE=64 -DNB={nb} -DSPLIT=1", f"batch {nb}") for nb in (1, 16)]


# The families: name -> (cl file, configurations, mode). "checked": a spill, a stack frame or a
# bound under --goal/--min fails CI; "report": printed only (conv_wg, whose tiles are bounded
# below --min on NVIDIA and AMD, where the library offers the SIMT family instead; under
# --library a configuration offered to an NVIDIA or AMD profile is checked all the same);
# "spills": only spills and stack frames fail (no FMA loop to bound).
# A family whose file is absent is skipped.
FAMILIES = {
    "conv_wg": ("conv_wg.cl", conv_wg_configs, "report"),
    "conv_simt": ("conv_simt.cl", conv_simt_configs, "checked"),
    "pool": ("pool.cl", lambda: [c for c in small_kernel_configs() if c.family == "pool"],
             "spills"),
    "head": ("head.cl", lambda: [c for c in small_kernel_configs() if c.family == "head"],
             "spills"),
    "classifier": ("classifier.cl",
                   lambda: [c for c in small_kernel_configs() if c.family == "classifier"],
                   "spills"),
}


def default_configs(cl_dir, families=None):
    out = []
    for name, (file, make, _mode) in FAMILIES.items():
        if families and name not in families:
            continue
        if (cl_dir / file).exists():
            out += make()
    return out


def _flag(options, name, default):
    m = re.search(rf"-D{name}=(\d+)", options)
    return int(m.group(1)) if m else default


def meta_from_options(file, options):
    """The slice figures of a --configs line from its -D flags and the file's defaults."""
    if file == "conv_wg.cl":
        return wg_meta(_flag(options, "TN", 64), _flag(options, "TM", 64), _flag(options, "TK", 16),
                       _flag(options, "WX", 16), _flag(options, "WY", 16))
    if file == "conv_simt.cl":
        return simt_meta(_flag(options, "BN", 128), _flag(options, "BM", 128),
                         _flag(options, "RN", 8), _flag(options, "RM", 8), _flag(options, "BK", 8))
    return {}


def read_tsv(path):
    """--configs FILE: lines file<TAB>kernel<TAB>options<TAB>label ('#' comments); lines with
    the same file, options and label form one program."""
    progs = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                raise SystemExit(f"gpu-static: {path}:{n}: expected 4 tab-separated fields")
            file, kernel, options, label = parts
            key = (file, options, label)
            if key not in progs:
                fam = file[:-3] if file.endswith(".cl") else file
                geo = next((g for g in GEOMETRIES if geometry_flags(g) in options), "")
                meta = meta_from_options(file, options)
                tile = f"{meta['tn']}x{meta['tm']}" if meta else ""
                progs[key] = Config(fam, file, [], options, label, tile, geo, meta)
            c = progs[key]
            c.kernels.append(kernel)
            if c.meta and "reduce" not in kernel:
                c.hot = tuple(c.hot) + (kernel,)
    return list(progs.values())


# irv2-gpu-configs' labels of the network's conv geometries, as GEOMETRIES names them (the
# stem's unpadded stride-1 3x3 and the tf variant's 5x5 beside them).
LIBRARY_GEOMETRIES = {
    "k1x1 s1 p0x0": "1x1", "k3x3 s1 p1x1": "3x3s1", "k3x3 s2 p0x0": "3x3s2",
    "k1x7 s1 p0x3": "1x7", "k7x1 s1 p3x0": "7x1", "k1x3 s1 p0x1": "1x3", "k3x1 s1 p1x0": "3x1",
    "k3x3 s1 p0x0": "3x3s1p0", "k5x5 s1 p2x2": "5x5",
}


def read_library(binary, families=None):
    """--library BIN: the programs the library's own candidates build, as irv2-gpu-configs
    (tools/gpu_configs.c) lists them in record mode for an NVIDIA, an AMD and an Intel GPU
    profile: TSV lines vendor, file, kernel, options, label. Programs of the families in
    FAMILIES are kept, each with the vendors that are offered it."""
    try:
        text = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"gpu-static: {binary}: {e}")
    progs = {}
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split("\t")
        if len(parts) != 5:
            raise SystemExit(f"gpu-static: {binary}: line {n}: expected 5 tab-separated fields")
        vendor, file, kernel, options, label = parts
        fam = file[:-3] if file.endswith(".cl") else file
        if fam not in FAMILIES or (families and fam not in families):
            continue
        key = (file, options)
        if key not in progs:
            meta = meta_from_options(file, options)
            geo = LIBRARY_GEOMETRIES.get(label.replace(" gemm", "").replace(" rider", ""), "")
            tile = f"{meta['tn']}x{meta['tm']}" if meta else ""
            if fam == "conv_simt":
                tile += f"/{_flag(options, 'RN', 8)}x{_flag(options, 'RM', 8)}"
            name = (f"{tile} {geo}" + (" vecx" if "-DVECX=1" in options else "") +
                    (" rider" if "-DRIDER=1" in options else "") if meta else label)
            progs[key] = Config(fam, file, [], options, name, tile, geo, meta)
        c = progs[key]
        if kernel not in c.kernels:
            c.kernels.append(kernel)
            if c.meta and "reduce" not in kernel:
                c.hot = tuple(c.hot) + (kernel,)
        if vendor not in c.vendors:
            c.vendors = tuple(c.vendors) + (vendor,)
    return list(progs.values())


def library_steps(binary, batches):
    """`BIN --steps BATCHES`: the plan's steps and the forms the library offers them (the
    model)."""
    try:
        return subprocess.run([str(binary), "--steps", batches], capture_output=True, text=True,
                              check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"gpu-static: {binary} --steps: {e}")


def family_mode(name):
    return FAMILIES[name][2] if name in FAMILIES else "checked"
