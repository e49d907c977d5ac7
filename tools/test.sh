#!/bin/sh
# test.sh: installs what is missing, builds with warnings as errors and runs the whole test
# suite (ctest). Usage: tools/test.sh [build-dir] (default build-test).
set -eu
cd "$(dirname "$0")/.."
sh tools/install-deps.sh
dir=${1:-build-test}
cmake -B "$dir" -DCMAKE_BUILD_TYPE=Release -DIRV2_WERROR=ON >/dev/null
cmake --build "$dir" -j"$(nproc)"
cd "$dir" && ctest --output-on-failure
