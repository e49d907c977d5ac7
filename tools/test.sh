#!/bin/sh
# test.sh: installs what is missing, builds and runs the whole test suite (ctest).
# Usage: tools/test.sh [--sanitize] [build-dir]
#   default      Release build with warnings as errors, in build-test; the suite runs twice:
#                as the device chooses, then with the work-group family forced
#                (IRV2_KERNELS=wg).
#   --sanitize   the same suite built with AddressSanitizer + UndefinedBehaviorSanitizer
#                (-DIRV2_SANITIZE=ON, RelWithDebInfo), in build-asan: any memory error, leak
#                or undefined behaviour fails the test that shows it (the CLI the tests spawn is
#                instrumented too). PoCL and CLBlast are not instrumented, but their
#                allocations go through ASan's malloc and LeakSanitizer checks them as well;
#                they need no leak suppressions today. Should a runtime leak ever need one,
#                put it in tools/lsan.supp (LeakSanitizer's format, one `leak:function` per
#                line, with a comment saying why): it is used when present.
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
sanitize=
if [ "${1:-}" = --sanitize ]; then
    shift
    sanitize=1
    dir=${1:-build-asan}
    # Warnings are errors in the Release build; sanitizer instrumentation makes GCC warn
    # spuriously (maybe-uninitialized), so not here.
    cmake -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIRV2_SANITIZE=ON >/dev/null
    ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1"
    ASAN_OPTIONS="$ASAN_OPTIONS:strict_init_order=1:strict_string_checks=1:abort_on_error=0"
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    LSAN_OPTIONS="print_suppressions=0"
    if [ -f tools/lsan.supp ]; then LSAN_OPTIONS="$LSAN_OPTIONS:suppressions=$PWD/tools/lsan.supp"; fi
    export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
else
    dir=${1:-build-test}
    cmake -B "$dir" -DCMAKE_BUILD_TYPE=Release -DIRV2_WERROR=ON >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
cd "$dir"
if [ -z "$sanitize" ]; then
    ctest --output-on-failure
    # The same suite with the work-group family (the GPU kernels) forced on this device.
    # Untuned where the tests leave that to the environment: tuning would time six tiles per
    # conv of a family that loses every layer on a CPU (the kernel tests cover every tile).
    # test_python checks the bindings on a shared build of its own, without IRV2_KERNELS: once.
    echo "test.sh: the suite again with IRV2_KERNELS=wg IRV2_TUNE=0"
    IRV2_KERNELS=wg IRV2_TUNE=0 exec ctest --output-on-failure -E '^test_python$'
fi
# LeakSanitizer's stop-the-world tracer itself sometimes crashes as a process exits, after
# every test in it passed ("Tracer caught signal 11 ... LeakSanitizer has encountered a fatal
# error", google/sanitizers#1353): that is no leak report. When a run fails with that message
# and without any sanitizer report, its failed tests are run once more, and must pass.
status=0
# test_python builds an uninstrumented shared library of its own: the first pass ran it.
ctest --output-on-failure -E '^test_python$' >ctest.log 2>&1 || status=$?
cat ctest.log
if [ "$status" -eq 0 ]; then exit 0; fi
if grep -q "Tracer caught signal" ctest.log &&
    ! grep -q "ERROR: LeakSanitizer: detected memory leaks\|ERROR: AddressSanitizer\|runtime error:" ctest.log; then
    echo "test.sh: LeakSanitizer's tracer crashed (no leak report): running the failed tests again"
    exec ctest --rerun-failed --output-on-failure
fi
exit 1
