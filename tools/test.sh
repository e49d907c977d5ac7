#!/bin/sh
# test.sh: installs what is missing, builds and runs the whole test suite (ctest).
# Usage: tools/test.sh [--sanitize] [build-dir]
#        tools/test.sh --platform pocl|intel-cpu|intel-fpga-emu|oclgrind [--ci] [build-dir]
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
#   --platform P the default build (build-test), then the suite on one OpenCL platform alone:
#                tools/opencl-runtime.sh sets P up (cached; the Intel runtimes are
#                downloaded from PyPI on first use) and makes it the only platform the
#                processes see, IRV2_DEVICE=0 selects its device, and `irv2 devices` prints
#                which device that is before the tests run.
#                pocl, intel-cpu, intel-fpga-emu: the whole suite but test_python and
#                test_install, which check the Python bindings and the installed package,
#                not the device, and need not run once per platform (the default run has
#                them); with --ci, test_e2e, test_cli and test_binaries only (what CI runs
#                on the Intel runtimes: the whole network, tuned and untuned, through the
#                library and the CLI, and from offline binaries with the compiler disabled).
#                oclgrind: tools/oclgrind.sh (the kernel tests and a quick-mode network run
#                under Oclgrind's race, bounds and uninitialised-value checks); --ci there
#                runs a subset of the kernel tests that still covers every kernel.
#                On 2 shared cores: intel-cpu 5 minutes (--ci 1), intel-fpga-emu 6 (--ci
#                1.5), oclgrind 39 (--ci 5).
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
sanitize=
platform=
ci=
if [ "${1:-}" = --platform ]; then
    platform=${2:-}
    shift
    if [ $# -gt 0 ]; then shift; fi
    case $platform in
    pocl | intel-cpu | intel-fpga-emu | oclgrind) ;;
    *)
        echo "test.sh: --platform pocl|intel-cpu|intel-fpga-emu|oclgrind (got '$platform')" >&2
        exit 2
        ;;
    esac
    if [ "${1:-}" = --ci ]; then
        shift
        ci=1
    fi
fi
if [ -z "$platform" ] && [ "${1:-}" = --sanitize ]; then
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
    # PoCL alone: another driver the ICD loader would load (Intel's GPU driver, which Debian's
    # intel-opencl-icd installs beside ocloc, tools/gpu-static's compiler) dlopens a library
    # with RTLD_DEEPBIND, which AddressSanitizer refuses, failing every test that opens OpenCL.
    env_file=$(sh tools/opencl-runtime.sh pocl)
    # shellcheck source=/dev/null
    . "$env_file"
else
    dir=${1:-build-test}
    cmake -B "$dir" -DCMAKE_BUILD_TYPE=Release -DIRV2_WERROR=ON >/dev/null
fi
cmake --build "$dir" -j"$(nproc)"
if [ -n "$platform" ]; then
    env_file=$(sh tools/opencl-runtime.sh "$platform")
    # shellcheck source=/dev/null
    . "$env_file"
    IRV2_DEVICE=0
    export IRV2_DEVICE
    echo "test.sh: on platform $platform, IRV2_DEVICE=0:"
    "$dir/irv2" devices
    if [ "$platform" = oclgrind ]; then
        exec sh tools/oclgrind.sh ${ci:+--ci} "$dir"
    fi
    cd "$dir"
    if [ -n "$ci" ]; then
        exec ctest --output-on-failure -R '^(test_e2e|test_cli|test_binaries)$'
    fi
    exec ctest --output-on-failure -E '^(test_python|test_install)$'
fi
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
