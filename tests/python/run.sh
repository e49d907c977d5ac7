#!/bin/sh
# run.sh: the Python test (ctest test_python). CI builds libirv2 static, and the Python package
# (python/) loads the shared library, so this configures and builds a shared libirv2 and its
# irv2 CLI in IRV2_BUILD_DIR/python-shared (-DBUILD_SHARED_LIBS=ON, Release, no tests, nice'd,
# -j2; incremental after the first run), then runs python/tests with pytest against them:
# IRV2_LIBRARY is that library, IRV2_CLI that CLI (the logits and classify records are compared
# with its output), IRV2_TUNE=0, and a private IRV2_CACHE_DIR (python-shared/cache).
# IRV2_KERNELS is unset: these tests check the bindings, not the kernel families (the C suite
# does), and the work-group family forced on a CPU runs at batch 1 in 8 s instead of 0.2 s.
# The shared build is never instrumented, even when the calling build is (IRV2_SANITIZE).
# Python: IRV2_PYTHON, else /usr/bin/python3, else python3 on PATH, whichever imports numpy and
# pytest; where none does, python3-numpy and python3-pytest are installed with apt-get (as
# root). Exit 77 (ctest: skipped) only when that fails too, or without a source tree to build.
# Environment (set by tests/CMakeLists.txt): IRV2_SOURCE_DIR, IRV2_BUILD_DIR, CMAKE_COMMAND, CC.
set -eu
src=${IRV2_SOURCE_DIR:?} build=${IRV2_BUILD_DIR:?}
cmake=${CMAKE_COMMAND:-cmake}
shared=$build/python-shared
say() { echo "test_python: $*"; }
if [ ! -f "$src/CMakeLists.txt" ] || [ ! -d "$src/python/tests" ] ||
    ! command -v "$cmake" >/dev/null; then
    say "skipped: no source tree with python/tests in $src (or no cmake)"
    exit 77
fi

find_python() {
    for p in ${IRV2_PYTHON:-} /usr/bin/python3 python3; do
        if command -v "$p" >/dev/null 2>&1 && "$p" -c "import numpy, pytest" 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
if ! python=$(find_python); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing python3-numpy python3-pytest"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends python3 python3-numpy python3-pytest \
            >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
                apt-get install -y -qq --no-install-recommends python3 python3-numpy \
                    python3-pytest >/dev/null 2>&1; } || true
    fi
    if ! python=$(find_python); then
        say "skipped: no python3 with numpy and pytest, and they could not be installed"
        exit 77
    fi
fi

mkdir -p "$shared"
log=$shared/build.log
start=$(date +%s)
set -- -DBUILD_SHARED_LIBS=ON -DIRV2_TESTS=OFF -DIRV2_BENCH=OFF -DIRV2_INSTALL=OFF \
    -DIRV2_SANITIZE=OFF -DCMAKE_BUILD_TYPE=Release
if [ -n "${CC:-}" ]; then set -- "$@" -DCMAKE_C_COMPILER="$CC"; fi
if ! { nice -n 5 "$cmake" -S "$src" -B "$shared" "$@" &&
    nice -n 5 "$cmake" --build "$shared" --target irv2lib irv2 -j2; } >"$log" 2>&1; then
    cat "$log"
    say "FAIL: building the shared library in $shared"
    exit 1
fi
lib=$shared/libirv2.so.0
[ -f "$lib" ] || { say "FAIL: the build made no $lib"; exit 1; }
say "built $lib in $(($(date +%s) - start)) s; $python -m pytest python/tests"

unset IRV2_KERNELS
IRV2_LIBRARY=$lib
IRV2_CLI=$shared/irv2
IRV2_TUNE=0
IRV2_CACHE_DIR=$shared/cache
PYTHONPATH=$src/python${PYTHONPATH:+:$PYTHONPATH}
# Nothing written into the source tree: no __pycache__, no .pytest_cache.
PYTHONDONTWRITEBYTECODE=1
export IRV2_LIBRARY IRV2_CLI IRV2_TUNE IRV2_CACHE_DIR PYTHONPATH PYTHONDONTWRITEBYTECODE
cd "$shared"
exec "$python" -m pytest -q -p no:cacheprovider "$src/python/tests"
