#!/bin/sh
# oclgrind.sh: irv2's kernels under Oclgrind's race, bounds and uninitialised-value checks.
# Usage: tools/oclgrind.sh [--ci] [build-dir]   (default build-test; builds what it lacks)
#   1. tests/test_kernels with OCLGRIND_DATA_RACES=1 OCLGRIND_UNINITIALIZED=1
#      OCLGRIND_CHECK_API=1 (out-of-bounds accesses are always checked). Oclgrind's device is a
#      GPU to irv2, so every kernel family runs: each conv case names its family and form (the
#      work-group cases also run in the compact kernel set), and the pooling, epilogue and
#      head cases run in every shape. All cases but CLBlast's (SKIP: CLBlast's own kernels,
#      not irv2's, and many minutes each when interpreted). With --ci, only CI_CASES.
#   2. one image through the whole network (`irv2 run --weights synthetic:1`, untuned:
#      IRV2_TUNE=0) with the vector family (IRV2_KERNELS=vec), in Oclgrind's quick mode
#      (OCLGRIND_QUICK=1: the first and the last work-group of each launch) with the race
#      and bounds checks; the weights need 1 GiB of simulated global memory.
# Fails on a failed test, a failed run or any Oclgrind report.
# Slow, as Oclgrind interprets every work-item: on 2 shared cores (load average 3 to 5) the
# whole run took 39 minutes (test_kernels 35, nearly all of it the work-group conv cases, of
# 256 work-items a group; the network 3.5), --ci 5 (test_kernels 1, the network 4).
#
# tools/opencl-runtime.sh makes Oclgrind the only platform (device 0). Kernels are built
# with -cl-opt-disable (OCLGRIND_BUILD_OPTIONS): optimisation introduces LLVM's `freeze`,
# which the uninitialised-value checker does not support ("OCLGRIND FATAL ERROR:
# Unsupported instruction: freeze"), and with -DSIMT_FN=static: conv_simt.cl's helpers are
# always_inline, which at -O0 leaves llvm.experimental.noalias.scope.decl calls that
# Oclgrind cannot run ("Undefined external function"). IRV2_CACHE_DIR is a fresh folder, so that no program
# built with optimisation comes from a cache. OCLGRIND_MAX_ERRORS is lifted from its 1000,
# so that every report is counted.
#
# What Oclgrind 21.10 gets wrong, and how this script deals with it:
# - The uninitialised-value checker gives each buffer one shadow, replaced by every host
#   write with one the size of that write, at the buffer's start: memory filled by
#   clEnqueueFillBuffer (a host write per 4-byte pattern) and memory after a host write at a
#   non-zero offset read as uninitialised. The network fills its activations and scratch
#   with zeros (host/plan/plan.c) and writes its input into the activations at an offset, so
#   every value it computes is flagged: 776,186 reports in the first two minutes of a
#   quick-mode run, with no real one to tell apart. The network run therefore leaves that
#   check off; the kernel tests, whose buffers are written whole from offset 0, keep it.
# - With the work-group family the quick-mode network run did not finish in 21 minutes
#   (12 GB of memory and growing), so it runs the vector family only; the kernel tests
#   check the work-group kernels.
set -eu
cd "$(dirname "$0")/.."
ci=
if [ "${1:-}" = --ci ]; then
    ci=1
    shift
fi
dir=${1:-build-test}
env_file=$(sh tools/opencl-runtime.sh oclgrind)
# shellcheck source=/dev/null
. "$env_file"
if [ ! -x "$dir/tests/test_kernels" ] || [ ! -x "$dir/irv2" ]; then
    cmake -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$dir" -j"$(nproc)" --target test_kernels irv2
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/cache"
IRV2_DEVICE=0 IRV2_CACHE_DIR=$work/cache OCLGRIND_DATA_RACES=1 OCLGRIND_CHECK_API=1
OCLGRIND_BUILD_OPTIONS="-cl-opt-disable -DSIMT_FN=static" OCLGRIND_MAX_ERRORS=100000000
export IRV2_DEVICE IRV2_CACHE_DIR OCLGRIND_DATA_RACES OCLGRIND_CHECK_API OCLGRIND_BUILD_OPTIONS
export OCLGRIND_MAX_ERRORS
unset IRV2_KERNELS IRV2_TEST_FILTER IRV2_TEST_SKIP

# CLBlast's cases (see above).
SKIP='*clblast*|test_gemm_*|test_sgemm_peak'
# The --ci subset: every kernel in cl/ at least once, each -D variant that changes which
# code runs at least once (vw 8 and 16, tm 24, stride 2 rows, parity planes, chunks of the
# reduction, residual and epilogue flags, the Winograd transforms, a max pool riding a conv's
# launch in either shape), and each pooling kernel in every shape.
CI_CASES='test_conv_output_parts|conv 1x1 7x9 n1 cin17 cout13 T8|conv 1x1 on 1x1 n3 cin3 cout5 T16'
CI_CASES="$CI_CASES|conv 1x1 flat 7x9 n3 cin17 cout21 T8 res|conv 3x3 p1 13x13 n1 cin17 cout21 T16"
CI_CASES="$CI_CASES|conv 3x3 p2 (rows) 7x9 n3 cin3 cout5 T8|conv 3x3 s2 p0 17x17 n3 cin3 cout21 T8"
CI_CASES="$CI_CASES|conv 3x3 s2 p0 35x35 n1 cin17 cout5 T16|conv 3x3 s2 p1 phase 9x10 n2 cin3 cout5 T8"
CI_CASES="$CI_CASES|conv 1x1 flat 7x9 n3 cin17 cout21 T8 chunks of 5"
CI_CASES="$CI_CASES|conv 1x1 panels 7x9 n3 cin17 cout21 T8|conv 3x3 s2 p1 im2col 9x10 n2 cin3 cout13 T8"
CI_CASES="$CI_CASES|conv 1x1 fused 7x9 n3 cin17 cout21 T8|conv 3x3 s2 p1 fused 9x10 n2 cin3 cout13 T8"
CI_CASES="$CI_CASES|conv 3x3 p1 13x13 n2 cin17 cout50 T24 bn"
CI_CASES="$CI_CASES|conv 1x1 panels pair 5x5 n1 cin9 cout13 TP8 bn|conv 3x3 s2 p0 fused pair 9x10 n1 cin3 cout29 TP8 res"
CI_CASES="$CI_CASES|conv 1x1 fused 4 panels 7x9 n3 cin17 cout21 T8 (partial last)"
CI_CASES="$CI_CASES|conv 1x1 fused pair 8 panels 4x4 n1 cin5 cout7 TP8 (one short panel)"
CI_CASES="$CI_CASES|conv 3x3 s2 p1 wg 9x10 n2 cin3 cout13 TW32|conv 1x1 wg 3x3 n1 cin40 cout5 TW32 res 2 slices"
CI_CASES="$CI_CASES|conv 3x3 p1 winograd 7x9 n3 cin17 cout29 T24 res"
CI_CASES="$CI_CASES|conv 3x3 p0 wino1d 8x9 n2 cin3 cout13 T16 bn|conv 7x1 p3x0 wino1d 8x8 n1 cin3 cout5 T8"
CI_CASES="$CI_CASES|conv 1x7 p0x3 wino1d 9x41 n2 cin5 cout13 T16|conv 3x1 p1x0 wino1d pair 5x3 n1 cin3 cout5 TP8"
CI_CASES="$CI_CASES|conv 3x3 p1 wino2d 9x40 n1 cin3 cout5 T8 res|conv 3x3 p0 wino2d 8x9 n2 cin3 cout13 T16 bn"
CI_CASES="$CI_CASES|conv 3x3 p1 wino1d F63 9x5 n2 cin3 cout5 T8 (lane by lane)"
CI_CASES="$CI_CASES|conv 3x1 p1x0 wino1d F63 8x8 n3 cin17 cout13 T16"
CI_CASES="$CI_CASES|conv 3x3 s2 p1 simt 9x10 n2 cin3 cout13 TW64 bn|conv 3x3 p1 simt 9x9 n2 cin33 cout37 TS32 bn 3 parts"
CI_CASES="$CI_CASES|rider: maxpool 17x17 n3 c5 affine relu2 on conv 3x3 s2 p0 17x17 n3 cin3 cout21 T8"
CI_CASES="$CI_CASES|rider: maxpool 9x19 n2 c3 on conv 3x3 p1 simt 9x9 n2 cin33 cout37 TS32 bn 3 parts"
CI_CASES="$CI_CASES|maxpool 17x17 n3 c5 affine relu2|avgpool 8x9 n2 c3 affine relu2"
CI_CASES="$CI_CASES|global avg 17x17 n1 c7 affine relu2|channel epilogue relu1 affine relu2"
CI_CASES="$CI_CASES|test_head_plain|test_head_softmax|test_im2col_rows"

status=0
# Oclgrind prints each report as a paragraph: a blank line, the message, then indented lines
# (Kernel:, Entity:, the instruction, its source line). reports FILE counts them.
reports() { grep -c '^[[:space:]]*Kernel: ' "$1" || true; }

log=$work/kernels.log
rc=0
start=$(date +%s)
IRV2_TEST_FILTER=${ci:+$CI_CASES} IRV2_TEST_SKIP=$SKIP OCLGRIND_UNINITIALIZED=1 \
    "$dir/tests/test_kernels" >"$log" 2>&1 || rc=$?
tests=$(grep -c '^\[       OK \]' "$log" || true)
n=$(reports "$log")
echo "oclgrind: test_kernels: $tests tests passed, exit $rc, $n Oclgrind reports," \
    "$(($(date +%s) - start)) s"
if [ "$rc" -ne 0 ] || [ "$n" -ne 0 ] || [ "$tests" -eq 0 ]; then
    grep -B2 -A6 '^[[:space:]]*Kernel: \|FAILED\|ERROR\|FATAL' "$log" | head -80
    status=1
fi

# One image: the pattern of tests/install/consumer.c, in [-1, 1], as a .npy file.
python3 - "$work/x.npy" <<'EOF'
import sys
from array import array
n = 3 * 299 * 299
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 299, 299), }"
header += " " * (63 - (10 + len(header)) % 64) + "\n"
data = array("f", (((i * 2654435761) >> 13) % 2001 / 1000.0 - 1.0 for i in range(n)))
if sys.byteorder == "big":
    data.byteswap()
with open(sys.argv[1], "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1"))
    data.tofile(f)
EOF
log=$work/network.log
rc=0
start=$(date +%s)
IRV2_TUNE=0 IRV2_KERNELS=vec OCLGRIND_QUICK=1 OCLGRIND_GLOBAL_MEM_SIZE=1073741824 \
    "$dir/irv2" run --weights synthetic:1 --input "$work/x.npy" --output "$work/y.npy" \
    >"$log" 2>&1 || rc=$?
n=$(reports "$log")
echo "oclgrind: network (quick mode, vector family): exit $rc, $n Oclgrind reports," \
    "$(($(date +%s) - start)) s"
if [ "$rc" -ne 0 ] || [ "$n" -ne 0 ] || [ ! -f "$work/y.npy" ]; then
    grep -B2 -A6 '^[[:space:]]*Kernel: \|^irv2: ' "$log" | head -80
    status=1
fi
[ "$status" -eq 0 ] && echo "oclgrind: no findings"
exit "$status"
