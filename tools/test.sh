#!/bin/sh
# test.sh: installs what is missing, builds and runs the whole test suite (ctest).
# Usage: tools/test.sh [--sanitize] [build-dir]
#   default      Release build with warnings as errors, in build-test.
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
if [ "${1:-}" = --sanitize ]; then
    shift
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
cd "$dir" && ctest --output-on-failure
