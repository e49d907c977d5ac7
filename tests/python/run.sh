#!/bin/sh
# run.sh: the Python test (ctest test_python): the package as a user installs it. In a fresh
# virtual environment (python3 -m venv, IRV2_BUILD_DIR/test_python.tmp/venv), `pip install
# ./python` alone builds libirv2 with this project's CMake (scikit-build-core, which pip fetches
# from PyPI for the build) into a wheel that holds it, and installs it with numpy; then, with
# no IRV2_LIBRARY, no LD_LIBRARY_PATH and no PYTHONPATH, `import irv2` must load the library
# from the installed package, that library must export the API alone (tests/install/symbols.sh),
# and python/tests (pytest, installed into the venv too) must pass against it, with
# IRV2_TEST_WHEEL=1 (test_package.py then checks that it tests the installed copy), IRV2_CLI
# the build tree's CLI (the logits and classify records are compared with its output),
# IRV2_TUNE=0 and a private IRV2_CACHE_DIR. IRV2_KERNELS is unset: these tests check the
# bindings, not the kernel families (the C suite does), and the work-group family forced on a
# CPU runs at batch 1 in 8 s instead of 0.2 s.
# Needs PyPI (scikit-build-core, numpy, pytest) the first time; pip's cache (~/.cache/pip)
# after. Python: IRV2_PYTHON, else /usr/bin/python3, else python3 on PATH, whichever makes a
# venv with pip; where none does, python3-venv is installed with apt-get (as root). Exit 77
# (ctest: skipped) only when that fails too, or without a source tree and a CMake build tree
# (the test binaries copied elsewhere, as tools/gpu-check.sh does). The temporary folder is
# removed when the test passes.
# Environment (set by tests/CMakeLists.txt): IRV2_SOURCE_DIR, IRV2_BUILD_DIR, IRV2_CLI.
set -eu
src=${IRV2_SOURCE_DIR:?} build=${IRV2_BUILD_DIR:?}
tmp=$build/test_python.tmp
say() { echo "test_python: $*"; }
die() {
    echo "test_python: FAIL: $*" >&2
    exit 1
}
if [ ! -f "$src/python/pyproject.toml" ] || [ ! -d "$src/python/tests" ] ||
    [ ! -f "$build/CMakeCache.txt" ]; then
    say "skipped: no source tree with python/ in $src, or no CMake build tree in $build"
    exit 77
fi

makes_venv() { # makes_venv PYTHON DIR: a venv with pip in DIR
    rm -rf "$2"
    "$1" -m venv "$2" >/dev/null 2>&1 && "$2/bin/python" -m pip --version >/dev/null 2>&1
}
find_python() {
    for p in ${IRV2_PYTHON:-} /usr/bin/python3 python3; do
        if command -v "$p" >/dev/null 2>&1 && makes_venv "$p" "$tmp/venv"; then
            echo "$p"
            return 0
        fi
    done
    return 1
}
rm -rf "$tmp"
mkdir -p "$tmp"
if ! python=$(find_python); then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends python3-venv >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
                apt-get install -y -qq --no-install-recommends python3-venv >/dev/null 2>&1; } ||
            true
    fi
    if ! python=$(find_python); then
        say "skipped: no python3 that makes a venv with pip (apt-get install python3-venv)"
        exit 77
    fi
fi
venv=$tmp/venv
py=$venv/bin/python
# What the user has set must not help: the package finds its library by itself.
unset IRV2_LIBRARY LD_LIBRARY_PATH PYTHONPATH IRV2_KERNELS
pip() { "$py" -m pip --disable-pip-version-check "$@"; }

start=$(date +%s)
say "$python -m venv $venv; pip install $src/python"
if ! pip install "$src/python" >"$tmp/pip.log" 2>&1; then
    tail -n 40 "$tmp/pip.log"
    die "pip install ./python (it needs PyPI, or pip's cache, for scikit-build-core and numpy)"
fi
wheel=$(grep -o 'irv2-[^ ]*\.whl' "$tmp/pip.log" | head -n 1)
say "  $wheel built and installed in $(($(date +%s) - start)) s"

# Outside the source tree, so that `import irv2` cannot find python/irv2.
cd "$tmp"
where=$("$py" -c 'import irv2, irv2._lib as l; print(irv2.__file__); print(l.load()._name)') ||
    die "import irv2 in the venv"
package=$(dirname "$(echo "$where" | sed -n 1p)")
lib=$(echo "$where" | sed -n 2p)
case $package in "$venv"/*) ;; *) die "irv2 was imported from $package, not from the venv" ;; esac
[ "$lib" = "$package/libirv2.so.0" ] || die "irv2 loaded $lib, not the library in its package"
say "  import irv2: $package, library $lib"
sh "$src/tests/install/symbols.sh" "$lib" "$src/include/irv2.h" || die "the wheel's library"

if ! pip install pytest >"$tmp/pip-pytest.log" 2>&1; then
    cat "$tmp/pip-pytest.log"
    die "pip install pytest"
fi
say "$py -m pytest $src/python/tests"
IRV2_TEST_WHEEL=1
IRV2_TUNE=0
IRV2_CACHE_DIR=$tmp/cache
# Nothing written into the source tree: no __pycache__, no .pytest_cache.
PYTHONDONTWRITEBYTECODE=1
export IRV2_TEST_WHEEL IRV2_TUNE IRV2_CACHE_DIR PYTHONDONTWRITEBYTECODE
"$py" -m pytest -q -p no:cacheprovider "$src/python/tests" || die "python/tests"
cd "$build"
rm -rf "$tmp"
say "ok"
