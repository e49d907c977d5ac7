#!/bin/sh
# gpu-check.sh (POSIX sh): irv2 on an NVIDIA GPU in one short, prepared run, with PyTorch on the
# same GPU as the yardstick. The GPU machine has the driver and CUDA PyTorch but no OpenCL
# packages, no ICD file, no internet and maybe no cmake, so everything irv2 needs is built here.
#
#   sh tools/gpu-check.sh pack             (here) Release build in build-gpucheck (reused), then
#       gpu-bundle/ (ignored): irv2, the test binaries, tests.sh (ctest's test list as a plain
#       script), input8.npy (the correctness input) and lib/: every shared library ldd shows
#       beyond glibc/libstdc++/libgcc (ocl-icd's libOpenCL.so.1, CLBlast, jansson, jpeg, png,
#       zlib, cmocka), with libstdc++/libgcc_s in lib/fallback, used only if the target's are
#       missing or too old. Prints its size (about 19 MiB).
#   sh tools/gpu-check.sh run RESULTS_DIR  (there, in the repository root, gpu-bundle/ carried)
#       1. devices: finds libnvidia-opencl.so.1 (driver folders, LD_LIBRARY_PATH, ldconfig -p,
#          then a bounded find), writes it into a private nvidia.icd (OCL_ICD_VENDORS, so no
#          system ICD is used), runs `irv2 devices`, says whether NVIDIA's OpenCL is usable and
#          stops (exit 1) if not. Also nvidia-smi, the driver version and the load.
#       2. correctness: `irv2 run --weights synthetic:1` on input8.npy (8 images, the golden
#          input's seed), then tools/gpu_torch.py check: the logits against the committed
#          float64 golden (first 2 images) and against PyTorch on the GPU (float64, and float32
#          with TF32 off); pass = max |diff| <= 1e-3 from the float64 references and identical
#          top-5 for every image.
#       3. bench: `irv2 bench --device gpu --batch 1,8,32,64,128 --iters 10 --layers --json`.
#       4. torch: the same network (tools/irv2_reference.py) in PyTorch at the same batch sizes,
#          fp32 (TF32 off) and PyTorch's defaults, cudnn.benchmark on, NCHW and channels_last.
#       5. tests: every ctest test from gpu-bundle/tests.sh with IRV2_DEVICE=gpu.
#       Then the table (irv2 img/s, torch fp32 and default img/s, ratios) and a verdict.
#   sh tools/gpu-check.sh local RESULTS_DIR  (here) pack, then run with PoCL's libpocl.so.2 in
#       the ICD file instead of NVIDIA's, device cpu, batches 1,2, PyTorch on the CPU (Debian's
#       python3-torch, installed if missing) and every cap x4: checks this script without a GPU.
#
# RESULTS_DIR gets 8 files: summary.txt (steps, table, verdict; also printed), devices.txt
# (ICD search, irv2 devices, nvidia-smi, driver, OS, load), correctness.txt, bench.txt (with the
# tuning decisions), bench.json, torch.txt, torch.json, tests.log (per test: status and the tail
# of its output). Exit status 0 only when every step passed.
#
# Time budget (run): everything ends within GPUCHECK_DEADLINE seconds (default 440, so under 8
# minutes with start-up; each step runs under `timeout`, capped by what is left; a step that
# fails or times out is recorded and the next one runs; one with under 5 s left is skipped).
# Caps: devices 40 s; irv2 run 150 s (the first run tunes batch 8 and compiles every kernel
# variant, cached in a private IRV2_CACHE_DIR that later steps reuse); check 60 s; bench 150 s;
# torch 120 s; tests whatever is left, at most 90 s each. Tuning stays on (irv2's real
# configuration on a GPU); where a tuned irv2 run or bench times out, it is run again once with
# IRV2_TUNE=0 (the untuned default forms, no measuring; 45 / 60 s) and the summary says so.
# GPUCHECK_PYTHON picks the interpreter; GPUCHECK_TESTS="test_a test_b" runs only those tests.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=$ROOT/build-gpucheck
B=$ROOT/gpu-bundle

die() { echo "gpu-check: $*" >&2; exit 1; }

# The first interpreter that imports $1 (e.g. "torch, numpy"); fails when none does.
pick_python() {
    for py in ${GPUCHECK_PYTHON:-} python3 /usr/bin/python3 python; do
        if command -v "$py" >/dev/null 2>&1 && "$py" -c "import $1" >/dev/null 2>&1; then
            echo "$py"; return 0
        fi
    done
    return 1
}

pack() {
    command -v cmake >/dev/null || die "pack: cmake not found (sh tools/install-deps.sh)"
    nice -n 10 cmake -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null || die "pack: cmake configure failed"
    nice -n 10 cmake --build "$BUILD" -j2 >"$BUILD/gpucheck-build.log" 2>&1 ||
        { tail -30 "$BUILD/gpucheck-build.log"; die "pack: build failed (log: $BUILD/gpucheck-build.log)"; }
    py=$(pick_python numpy) || die "pack: no python3 with numpy (apt-get install python3-numpy)"
    rm -rf "$B"
    mkdir -p "$B/tests" "$B/lib/fallback"
    cp "$BUILD/irv2" "$B/"
    for t in "$BUILD"/tests/test_*; do
        if [ -x "$t" ] && [ -f "$t" ]; then cp "$t" "$B/tests/"; fi
    done
    (cd "$BUILD" && ctest --show-only=json-v1) >"$BUILD/ctest.json" || die "pack: ctest --show-only failed"
    "$py" tools/gpu_torch.py ctest-script build-gpucheck . <"$BUILD/ctest.json" >"$B/tests.sh" ||
        die "pack: cannot turn ctest's test list into gpu-bundle/tests.sh"
    # shellcheck disable=SC2016 # a literal $B
    for f in $(grep -o '"\$B/[^"]*"' "$B/tests.sh" | tr -d '"' | sed 's|^\$B/||' | sort -u); do
        [ -f "$B/$f" ] || die "pack: tests.sh needs gpu-bundle/$f, which is not in the bundle"
    done
    # Every library the binaries load, except the C/C++ runtime every Linux has.
    libs=$(ldd "$B/irv2" "$B"/tests/test_* | awk '/not found/ {print "MISSING:" $1} /=> \// {print $3}' | sort -u)
    case "$libs" in *MISSING:*) die "pack: ldd finds no $(echo "$libs" | grep MISSING: | head -1)";; esac
    for l in $libs; do
        case ${l##*/} in
        libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|libresolv.so.*|ld-linux*) ;;
        libstdc++.so.*|libgcc_s.so.*) cp -L "$l" "$B/lib/fallback/" ;;
        *) cp -L "$l" "$B/lib/" ;;
        esac
    done
    "$py" tools/gpu_torch.py input "$B/input8.npy" --batch 8 >/dev/null || die "pack: cannot write the input"
    glibc=$(objdump -T "$B/irv2" "$B"/lib/*.so* 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -uV | tail -1)
    {
        echo "built $(date -u +%FT%TZ) on $(uname -n) from $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD 2>/dev/null || echo ' + uncommitted changes')"
        echo "needs ${glibc:-glibc ?} or newer on the target"
        (cd "$B" && ls -l irv2 tests lib lib/fallback input8.npy)
    } >"$B/MANIFEST"
    ok_size=$(du -sm "$B" | cut -f1)
    echo "gpu-check: gpu-bundle/ ready: $(du -sh "$B" | cut -f1), $(set -- "$B"/lib/*.so*; echo $#) libraries, $(grep -c '^t ' "$B/tests.sh") tests; needs ${glibc:-?}"
    [ "$ok_size" -le 60 ] || die "pack: gpu-bundle/ is ${ok_size} MiB, over the 64 MiB that can be carried"
}

# ---- run ----------------------------------------------------------------------------------

left() { echo $((T0 + DEADLINE - $(date +%s))); }

# step NAME CAP LOG CMD...: runs CMD under timeout (CAP x SCALE, at most what is left minus 5 s),
# appending its output to LOG; records "NAME STATUS SECONDS"; returns CMD's status (124: timeout).
step() {
    name=$1 cap=$(($2 * SCALE)) log=$3
    shift 3
    lim=$(($(left) - 5))
    [ "$cap" -lt "$lim" ] && lim=$cap
    if [ "$lim" -lt 5 ]; then
        echo "$name SKIPPED 0 no time left" >>"$WORK/steps"
        echo "== $name: skipped, no time left" >>"$log"
        return 3
    fi
    echo "== $name (limit ${lim} s): $*" >>"$log"
    s=$(date +%s) rc=0
    timeout -k 5 "$lim" "$@" >>"$log" 2>&1 || rc=$?
    dt=$(($(date +%s) - s))
    case $rc in
    0) st=OK ;;
    124|137) st=TIMEOUT ;;
    *) st=FAILED ;;
    esac
    echo "== $name: $st (exit $rc) after ${dt} s" >>"$log"
    echo "$name $st $dt exit $rc" >>"$WORK/steps"
    return $rc
}

# The absolute path of the 64-bit library $1.so* (e.g. libnvidia-opencl): in the usual folders
# (its .so.1/.so.2 soname first), then ldconfig -p, then a find over / bounded to 20 s.
find_lib() {
    dirs="/usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib"
    for d in /usr/lib/nvidia* /usr/lib/x86_64-linux-gnu/nvidia*; do
        if [ -d "$d" ]; then dirs="$dirs $d"; fi
    done
    dirs="$dirs $(echo "$ORIG_LD" | tr ':' ' ') /usr/lib /lib64 /lib/x86_64-linux-gnu"
    echo "searching $dirs, then ldconfig -p, then find / -maxdepth 6" >>"$RES/devices.txt"
    for how in dirs ldconfig find; do
        case $how in
        dirs) found=$(for d in $dirs; do ls "$d/$1".so.[12] "$d/$1".so.[0-9]* 2>/dev/null || true; done) ;;
        ldconfig) found=$( (ldconfig -p 2>/dev/null || true) | awk -v n="$1" 'index($1, n) == 1 && /x86-64/ {print $NF}') ;;
        find) found=$(timeout 20 find / -maxdepth 6 \( -path /proc -o -path /sys -o -path /dev \) -prune \
            -o -name "$1.so*" -print 2>/dev/null || true) ;;
        esac
        for f in $found; do # ELF class byte 2: 64-bit
            if [ -f "$f" ] && [ "$(od -An -tx1 -j4 -N1 "$f" 2>/dev/null | tr -d ' ')" = 02 ]; then
                echo "found by $how: $f" >>"$RES/devices.txt"
                echo "$f"
                return 0
            fi
        done
    done
    return 1
}

# Writes the summary (steps, table, verdict) to summary.txt and prints it.
summary() {
    {
        echo "gpu-check $MODE on $(uname -n) at $(date -u +%FT%TZ); $(head -1 "$B/MANIFEST" 2>/dev/null)"
        echo "OpenCL: $OPENCL"
        echo "GPU: $GPUINFO"
        echo "load: start $LOAD0; end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
        echo "steps (total $(($(date +%s) - T0)) s of $DEADLINE s):"
        while read -r n st dt rest; do printf '  %-16s %-16s %5s s %s\n' "$n" "$st" "$dt" "$rest"; done <"$WORK/steps"
        [ -n "$NOTES" ] && printf '%b' "$NOTES"
        if [ -s "$RES/bench.json" ] || [ -s "$RES/bench.txt" ]; then
            echo
            if [ -n "$PY" ]; then
                env "LD_LIBRARY_PATH=$ORIG_LD" "$PY" tools/gpu_torch.py table --bench "$RES/bench.json" \
                    --bench-txt "$RES/bench.txt" --torch "$RES/torch.json" 2>&1 || true
            else
                echo "(no python3: table not made; see bench.json and torch.json)"
            fi
        fi
        grep '^correctness:\|PASS:\|FAIL:' "$RES/correctness.txt" 2>/dev/null | sed 's/^/  /' || true
        echo
        if awk '$2 != "OK" {bad = 1} END {exit !bad}' "$WORK/steps"; then
            echo "verdict: NOT all steps passed (see above)"
        else
            echo "verdict: all steps passed"
        fi
    } >"$RES/summary.txt"
    cat "$RES/summary.txt"
}

run() {
    [ $# -eq 1 ] || die "usage: sh tools/gpu-check.sh run RESULTS_DIR"
    [ -x "$B/irv2" ] && [ -f "$B/tests.sh" ] && [ -f "$B/input8.npy" ] ||
        die "run: gpu-bundle/ is missing or incomplete: run 'sh tools/gpu-check.sh pack' and carry gpu-bundle"
    command -v timeout >/dev/null || die "run: 'timeout' (coreutils) not found"
    mkdir -p "$1" || die "run: cannot create $1"
    RES=$(cd "$1" && pwd)
    rm -f "$RES/summary.txt" "$RES/devices.txt" "$RES/correctness.txt" "$RES/bench.txt" "$RES/bench.json" \
        "$RES/torch.txt" "$RES/torch.json" "$RES/tests.log"
    T0=$(date +%s)
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpucheck.XXXXXX")
    case "$ROOT$WORK" in *[[:space:]]*) die "run: paths with spaces are not supported: $ROOT, $WORK" ;; esac
    : >"$WORK/steps"
    NOTES="" PY="" OPENCL="not checked" GPUINFO="no nvidia-smi"
    if command -v nvidia-smi >/dev/null; then
        GPUINFO=$(timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.used,memory.total,utilization.gpu \
            --format=csv,noheader 2>&1 | head -1)
        GPUINFO="$GPUINFO (name, driver, memory used/total, utilisation)"
    fi
    LOAD0=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '?')
    # shellcheck disable=SC2034 # R: the repository root in gpu-bundle/tests.sh
    ORIG_LD=${LD_LIBRARY_PATH:-} R=$ROOT
    if [ "$MODE" = gpu ]; then
        DEADLINE=${GPUCHECK_DEADLINE:-440} SCALE=1 DEV=gpu TDEV=cuda BATCHES=1,8,32,64,128 ITERS=10
        ICDLIB=libnvidia-opencl ICDNAME=nvidia WANT=nvidia
        export IRV2_CACHE_DIR="$WORK/irv2-cache"
    else
        DEADLINE=${GPUCHECK_DEADLINE:-1760} SCALE=4 DEV=cpu TDEV=cpu BATCHES=1,2 ITERS=3
        ICDLIB=libpocl ICDNAME=pocl WANT="Portable Computing Language"
        # Persistent but private: a second local run skips the CPU's minutes of tuning.
        export IRV2_CACHE_DIR="$BUILD/local-cache"
    fi
    export IRV2_DEVICE=$DEV CUDA_CACHE_PATH="$WORK/cuda-cache"

    # 1. devices ------------------------------------------------------------------------------
    {
        echo "== machine"
        uname -a
        grep PRETTY_NAME /etc/os-release 2>/dev/null || true
        ldd --version 2>/dev/null | head -1 || true
        echo "cpus $(nproc), load $LOAD0"
        free -m 2>/dev/null || true
        echo "== nvidia-smi"
        if command -v nvidia-smi >/dev/null; then
            timeout 20 nvidia-smi 2>&1 || true
            timeout 20 nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,utilization.gpu,temperature.gpu,clocks.sm,clocks.max.sm,power.draw,power.limit --format=csv 2>&1 || true
            timeout 20 nvidia-smi --query-compute-apps=pid,process_name,used_memory --format=csv 2>&1 || true
        else
            echo "nvidia-smi: not found"
        fi
        cat /proc/driver/nvidia/version 2>/dev/null || echo "/proc/driver/nvidia/version: absent"
        echo "== OpenCL ICD: $ICDLIB.so"
    } >"$RES/devices.txt" 2>&1
    if ! lib=$(find_lib "$ICDLIB"); then
        OPENCL="NOT usable: no 64-bit $ICDLIB.so* found (driver folders, LD_LIBRARY_PATH, ldconfig, find /)"
    else
        mkdir -p "$WORK/vendors"
        echo "$lib" >"$WORK/vendors/$ICDNAME.icd"
        export OCL_ICD_VENDORS="$WORK/vendors"
        export LD_LIBRARY_PATH="$B/lib:${lib%/*}${ORIG_LD:+:$ORIG_LD}"
        echo "ICD file $WORK/vendors/$ICDNAME.icd: $lib; LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >>"$RES/devices.txt"
        # The bundled libraries load (else retry with the bundled libstdc++/libgcc_s)?
        if ! "$B/irv2" help >/dev/null 2>"$WORK/load.err"; then
            export LD_LIBRARY_PATH="$B/lib:$B/lib/fallback:${lib%/*}${ORIG_LD:+:$ORIG_LD}"
            echo "irv2 does not load ($(head -1 "$WORK/load.err")): using lib/fallback" >>"$RES/devices.txt"
        fi
        step devices 40 "$WORK/devices.out" "$B/irv2" devices || true
        cat "$WORK/devices.out" >>"$RES/devices.txt"
        dev=$(awk -v w="$WANT" '/^\[/ {d = $0; next}
            d != "" && index(tolower(d " " $0), tolower(w)) {print d ";" $0; exit} {d = ""}' "$WORK/devices.out" | tr -s ' ')
        if [ -n "$dev" ]; then
            OPENCL="usable: $dev (through $lib)"
        elif grep -q '^\[' "$WORK/devices.out"; then
            OPENCL="NOT usable: irv2 devices lists no '$WANT' device with $lib"
        else
            OPENCL="NOT usable: irv2 devices failed with $lib ($(tail -1 "$WORK/steps")): $(grep -v '^==' "$WORK/devices.out" | head -1)"
        fi
    fi
    echo "$ICDNAME OpenCL: $OPENCL" | tee -a "$RES/devices.txt"
    case $OPENCL in NOT*)
        echo "opencl FAILED 0 $OPENCL" >>"$WORK/steps"
        summary
        exit 1
    esac

    # Python: with torch if there is one; else any python3 (golden check and table only).
    if PY=$(pick_python "torch, numpy"); then :
    elif [ "$MODE" = local ] && command -v apt-get >/dev/null; then
        echo "installing python3-torch (Debian) for the local run"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-torch >/dev/null 2>&1 || true
        PY=$(pick_python "torch, numpy") || PY=$(pick_python json) || PY=""
    else
        PY=$(pick_python json) || PY=""
        NOTES="${NOTES}  note: no python with torch and numpy: PyTorch steps skipped\n"
    fi

    # 2. correctness --------------------------------------------------------------------------
    logits=$WORK/irv2-logits.npy
    runcmd="$B/irv2 run --weights synthetic:1 --input $B/input8.npy --output $logits --device $DEV"
    # shellcheck disable=SC2086
    if ! step irv2-run 150 "$RES/correctness.txt" $runcmd && [ "$(tail -1 "$WORK/steps" | cut -d' ' -f2)" = TIMEOUT ]; then
        NOTES="${NOTES}  note: the tuned irv2 run timed out; correctness is that of IRV2_TUNE=0 (untuned forms)\n"
        # shellcheck disable=SC2086
        step irv2-run-untuned 45 "$RES/correctness.txt" env IRV2_TUNE=0 $runcmd || true
    fi
    if [ -z "$PY" ]; then
        echo "check SKIPPED 0 no python3" >>"$WORK/steps"
    else
        step check 60 "$RES/correctness.txt" env "LD_LIBRARY_PATH=$ORIG_LD" "$PY" tools/gpu_torch.py check \
            --device "$TDEV" --threads "$(nproc)" --input "$B/input8.npy" --irv2 "$logits" \
            --golden tests/data/seed_golden.npy --json "$WORK/check.json" || true
        cat "$WORK/check.json" >>"$RES/correctness.txt" 2>/dev/null || true
    fi

    # 3. irv2 bench ---------------------------------------------------------------------------
    bench="$B/irv2 bench --device $DEV --batch $BATCHES --iters $ITERS --layers --json $RES/bench.json"
    # shellcheck disable=SC2086
    if ! step bench 150 "$RES/bench.txt" $bench && [ "$(tail -1 "$WORK/steps" | cut -d' ' -f2)" = TIMEOUT ]; then
        NOTES="${NOTES}  note: the tuned bench timed out; bench.json is IRV2_TUNE=0's (untuned forms)\n"
        # shellcheck disable=SC2086
        step bench-untuned 60 "$RES/bench.txt" env IRV2_TUNE=0 $bench || true
    fi
    {
        echo "== tuning decisions ($IRV2_CACHE_DIR/tuning.txt), $(find "$IRV2_CACHE_DIR" -name 'program-*' 2>/dev/null | wc -l) program binaries cached"
        cat "$IRV2_CACHE_DIR/tuning.txt" 2>/dev/null || echo "(none)"
    } >>"$RES/bench.txt"

    # 4. PyTorch bench ------------------------------------------------------------------------
    if [ -z "$PY" ]; then
        echo "torch SKIPPED 0 no python3" >>"$WORK/steps"
    else
        step torch 120 "$RES/torch.txt" env "LD_LIBRARY_PATH=$ORIG_LD" "$PY" tools/gpu_torch.py bench \
            --device "$TDEV" --threads "$(nproc)" --batch "$BATCHES" --json "$RES/torch.json" \
            --deadline "$(( $(left) < 120 * SCALE ? $(left) - 20 : 120 * SCALE - 15 ))" || true
    fi

    # 5. tests --------------------------------------------------------------------------------
    mkdir -p "$WORK/tests-tmp" "$WORK/tests-out"
    W=$WORK/tests-tmp
    : >"$RES/tests.log"
    passed=0 total=0 failed=""
    t() { # NAME TIMEOUT [VAR=VALUE...] CMD...
        n=$1 tmo=$2
        shift 2
        case " ${GPUCHECK_TESTS:-$n} " in *" $n "*) ;; *) return 0 ;; esac
        total=$((total + 1))
        [ "$tmo" -gt $((90 * SCALE)) ] && tmo=$((90 * SCALE))
        lim=$(($(left) - 5))
        [ "$tmo" -lt "$lim" ] && lim=$tmo
        if [ "$lim" -lt 5 ]; then
            echo "== $n: SKIPPED (no time left)" >>"$RES/tests.log"
            failed="$failed $n(skipped)"
            return 0
        fi
        s=$(date +%s) rc=0
        (cd "$W" && timeout -k 5 "$lim" env "$@") >"$WORK/tests-out/$n" 2>&1 || rc=$?
        dt=$(($(date +%s) - s))
        # 77: the test skips itself (test_install needs the build tree, which is not carried)
        case $rc in
        0) st=passed passed=$((passed + 1)) ;;
        77) st="skipped (exit 77)" total=$((total - 1)) ;;
        124|137) st="TIMEOUT (${lim} s)" ;;
        *) st="FAILED (exit $rc)" ;;
        esac
        case $rc in 0|77) ;; *) failed="$failed $n" ;; esac
        echo "== $n: $st in ${dt} s" >>"$RES/tests.log"
        if [ "$rc" -eq 0 ]; then tail -5 "$WORK/tests-out/$n"; else tail -300 "$WORK/tests-out/$n"; fi >>"$RES/tests.log"
    }
    s0=$(date +%s)
    # shellcheck disable=SC1091
    . "$B/tests.sh"
    if [ "$total" -gt 0 ] && [ "$passed" -eq "$total" ]; then st=OK; else st=FAILED; fi
    echo "tests $st $(($(date +%s) - s0)) $passed/$total passed${failed:+; not passed:$failed}" >>"$WORK/steps"

    summary
    rc=0
    awk '$2 != "OK" {bad = 1} END {exit !bad}' "$WORK/steps" && rc=1
    rm -rf "$WORK"
    return $rc
}

case ${1:-} in
pack) pack ;;
run) MODE=gpu; shift; run "$@" ;;
local)
    [ $# -eq 2 ] || die "usage: sh tools/gpu-check.sh local RESULTS_DIR"
    pack
    MODE=local
    run "$2"
    ;;
*) die "usage: sh tools/gpu-check.sh pack | run RESULTS_DIR | local RESULTS_DIR" ;;
esac
