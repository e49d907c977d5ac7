#!/bin/sh
# install-deps.sh: installs the Debian 12 packages irv2 needs to build and test (as root),
# skipping the download when they are all present already. clang and libclang-rt-14-dev
# (libFuzzer) build the fuzz targets (fuzz/run.sh); valgrind runs tools/valgrind.sh;
# python3-numpy and python3-pytest run the Python package's tests (tests/python/run.sh);
# help2man writes the irv2(1) man page from irv2 --help; oclgrind is the simulated device of
# tools/oclgrind.sh, and python3-pip downloads the Intel runtimes (tools/opencl-runtime.sh);
# libopenmpi-dev and openmpi-bin build the CLI with MPI and run tests/mpi/run.sh; llvm-14,
# libclc-14 and intel-opencl-icd (ocloc) compile the GPU kernels offline for tools/gpu-static.
set -eu
PACKAGES="build-essential cmake pkg-config ocl-icd-opencl-dev opencl-headers pocl-opencl-icd \
clinfo libclblast-dev libjansson-dev libcmocka-dev libjpeg-dev libpng-dev \
clang libclang-rt-14-dev valgrind python3-numpy python3-pytest help2man oclgrind python3-pip \
libopenmpi-dev openmpi-bin llvm-14 libclc-14 intel-opencl-icd"
missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing
fi
