#!/bin/sh
# oclgrind.sh: runs the work-group family's kernel tests on Oclgrind's simulated device, with
# its data-race and uninitialised-value checks: conv_wg (every "wg" row of test_kernels) and
# the pooling, epilogue and head kernels in their work-group shape (IRV2_KERNELS=wg). Fails on
# a failed test or on any Oclgrind report. Slow (Oclgrind interprets every work-item): about
# 10 minutes on 2 cores, so it is a developer's check, not part of CI.
# Usage: tools/oclgrind.sh [build-dir]   (default build-test; builds it if needed)
#
# Debian's oclgrind installs no ICD file: a private vendors folder points the ICD loader at
# its runtime, so Oclgrind is the only platform (device 0). Its uninitialised-value check
# does not support LLVM's `freeze` instruction, which optimisation introduces
# (OCLGRIND FATAL ERROR "Unsupported instruction: freeze"): the kernels are built with
# -cl-opt-disable here (OCLGRIND_BUILD_OPTIONS).
set -eu
cd "$(dirname "$0")/.."
dir=${1:-build-test}
icd=/usr/lib/oclgrind/liboclgrind-rt-icd.so
if [ ! -f "$icd" ]; then
    echo "oclgrind.sh: $icd not found: apt-get install oclgrind" >&2
    exit 1
fi
[ -x "$dir/tests/test_kernels" ] || {
    cmake -B "$dir" -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$dir" -j"$(nproc)" --target test_kernels
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/vendors" "$work/cache"
echo "$icd" >"$work/vendors/oclgrind.icd"

status=0
for filter in '*wg*' 'maxpool*' 'avgpool*' 'global avg*' 'channel epilogue*' 'test_head*'; do
    log="$work/log"
    rc=0
    OCL_ICD_VENDORS="$work/vendors" IRV2_DEVICE=0 IRV2_CACHE_DIR="$work/cache" \
        IRV2_KERNELS=wg IRV2_TEST_FILTER="$filter" OCLGRIND_DATA_RACES=1 \
        OCLGRIND_UNINITIALIZED=1 OCLGRIND_CHECK_API=1 OCLGRIND_BUILD_OPTIONS=-cl-opt-disable \
        "$dir/tests/test_kernels" >"$log" 2>&1 || rc=$?
    # Every Oclgrind report names the kernel on a line of its own.
    reports=$(grep -c '^[[:space:]]*Kernel: ' "$log" || true)
    tests=$(grep -c '^\[       OK \]' "$log" || true)
    echo "oclgrind: '$filter': $tests tests passed, exit $rc, $reports Oclgrind reports"
    if [ "$rc" -ne 0 ] || [ "$reports" -ne 0 ] || [ "$tests" -eq 0 ]; then
        grep -B2 -A6 '^[[:space:]]*Kernel: \|FAILED\|ERROR' "$log" | head -60
        status=1
    fi
done
[ "$status" -eq 0 ] && echo "oclgrind: no findings"
exit "$status"
