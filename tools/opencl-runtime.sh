#!/bin/sh
# opencl-runtime.sh: sets up one OpenCL platform, cached, as the only one a process sees.
# Usage: tools/opencl-runtime.sh pocl|intel-cpu|intel-fpga-emu|oclgrind
#   Prints the path of an env file to source; in it, OCL_ICD_VENDORS names a folder holding
#   that platform's ICD alone (so the platform is 0 and its device 0: IRV2_DEVICE=0), plus
#   what the Intel runtimes need: LD_LIBRARY_PATH for their libraries, and
#   CL_CONFIG_CPU_TBB_NUM_WORKERS, their worker threads, set to nproc unless already set.
#   Progress goes to stderr.
#     env=$(sh tools/opencl-runtime.sh intel-cpu) && . "$env" && build/irv2 devices
#
#   pocl            Debian's PoCL (pocl-opencl-icd: /etc/OpenCL/vendors/pocl.icd).
#   oclgrind        Debian's Oclgrind simulator (package oclgrind), whose package installs no
#                   ICD file: /usr/lib/oclgrind/liboclgrind-rt-icd.so.
#   intel-cpu       Intel's OpenCL CPU runtime 2026.2, from PyPI wheels: intel-opencl-rt
#                   2026.2.0, intel-cmplr-lib-rt 2026.2.0 (libimf, libsvml, libirng,
#                   libintlc), tbb 2023.2.0.
#   intel-fpga-emu  Intel's FPGA emulator 2025.0.5 (device type ACCELERATOR), from PyPI
#                   wheels: intel-opencl-fpga-emu-rt 2025.0.5, intel-opencl-rt 2025.0.5 (the
#                   libcommon_clang 2024.18 compiler the emulator links), intel-cmplr-lib-rt
#                   2025.0.5 (also its libonnxruntime), tbb 2023.2.0.
#
# Cache: ${IRV2_RUNTIMES:-${XDG_CACHE_HOME:-$HOME/.cache}/irv2-runtimes}; PLATFORM/ holds the
# vendors folder, the env file and (Intel) lib/, the wheels' libraries unpacked; wheels/ the
# downloaded wheels (about 550 MB; 0.8 GB unpacked for intel-cpu, 1.0 GB for intel-fpga-emu).
# A platform's set-up is complete once PLATFORM/complete exists, written last with what it
# was made from (its folder, the wheel list, the ICD file): a set-up that was interrupted, or
# made from other versions or in another folder, is redone from the start. Wheels are downloaded with pip (`python3 -m pip download`) only when
# missing, each checked against its sha256 below; no network means a failure within about a
# minute (pip's connection timeout and retries) naming the wheel, not a hang. The wheels'
# own libOpenCL.so is deleted: Debian's ocl-icd loader (which honours OCL_ICD_VENDORS) stays
# the one the process loads. A lock (flock) serialises set-ups of the same cache.
set -eu
root=${IRV2_RUNTIMES:-${XDG_CACHE_HOME:-$HOME/.cache}/irv2-runtimes}
platform=${1:-}
say() { echo "opencl-runtime: $*" >&2; }
die() {
    say "$*"
    exit 1
}

# name version sha256 of every wheel a platform is made of (PyPI, manylinux_2_28_x86_64)
wheels_intel_cpu="intel-opencl-rt 2026.2.0 6b6215a420598b4999ee01caca6d5cbe106aa4155c46c52377619c5aafce9f67
intel-cmplr-lib-rt 2026.2.0 9f713083073a820d2496a6da8e8d4f3482aba6640f74521d25ea48dcebe72748
tbb 2023.2.0 7d80615b6e970f11671fa05b6eaa9483ac864fbfe525ac280271a78b37870b7c"
wheels_intel_fpga_emu="intel-opencl-fpga-emu-rt 2025.0.5 4b823db6a4508c92626d1aba0aac81bfebe264a4330634501fe8145655242d96
intel-opencl-rt 2025.0.5 c2966550e4ad9078e401dbff486d31e3b86645e91a9832a04889226bbf57e9d0
intel-cmplr-lib-rt 2025.0.5 c6dbc09545927d334a0c5c1d4cbbfe940ea6ff12ae956479f68605489119783b
tbb 2023.2.0 7d80615b6e970f11671fa05b6eaa9483ac864fbfe525ac280271a78b37870b7c"

case $platform in
pocl)
    icd_src=/etc/OpenCL/vendors/pocl.icd
    [ -f "$icd_src" ] ||
        die "$icd_src not found: apt-get install pocl-opencl-icd (tools/install-deps.sh)"
    ;;
oclgrind)
    icd_lib=/usr/lib/oclgrind/liboclgrind-rt-icd.so
    [ -f "$icd_lib" ] || die "$icd_lib not found: apt-get install oclgrind (tools/install-deps.sh)"
    ;;
intel-cpu)
    icd_lib=libintelocl.so
    wheels=$wheels_intel_cpu
    ;;
intel-fpga-emu)
    icd_lib=libintelocl_emu.so
    wheels=$wheels_intel_fpga_emu
    ;;
*) die "usage: opencl-runtime.sh pocl|intel-cpu|intel-fpga-emu|oclgrind (got '$platform')" ;;
esac

dir=$root/$platform
# What the set-up is made from (and where: the env file names its own folder); a stamp that
# says otherwise means a set-up to redo.
case $platform in
pocl) made_of=$(cat "$icd_src") ;;
oclgrind) made_of=$icd_lib ;;
*) made_of=$wheels ;;
esac
stamp_text="irv2 opencl-runtime 1 $platform $dir
$made_of"
mkdir -p "$root"
exec 9>"$root/.lock"
flock 9
if [ -f "$dir/complete" ] && [ "$(cat "$dir/complete")" = "$stamp_text" ]; then
    echo "$dir/env.sh"
    exit 0
fi
say "setting up $platform in $dir"
rm -rf "$dir"
mkdir -p "$dir/vendors"

# The wheel file of `name version` in $root/wheels, downloaded when absent and checked.
wheel_file() {
    file=$root/wheels/$(echo "$1" | tr - _)-$2-py2.py3-none-manylinux_2_28_x86_64.whl
    if [ ! -f "$file" ] || [ "$(sha256sum <"$file" | cut -d' ' -f1)" != "$3" ]; then
        rm -f "$file"
        mkdir -p "$root/wheels"
        python3 -m pip --version >/dev/null 2>&1 ||
            die "pip is needed to download $1 $2: apt-get install python3-pip"
        say "downloading $1 $2 from PyPI"
        req=$root/wheels/.req
        echo "$1==$2 --hash=sha256:$3" >"$req"
        # --timeout/--retries: without network pip gives up in about a minute.
        python3 -m pip download -q --no-deps --only-binary=:all: --require-hashes \
            --timeout 20 --retries 2 -d "$root/wheels" -r "$req" >&2 ||
            die "could not download $1==$2 from PyPI (no network?)"
        rm -f "$req"
        [ -f "$file" ] || die "pip downloaded $1==$2, but not as $file"
    fi
    echo "$file"
}

# Unpacks the libraries of a wheel (its *.data/data/lib/) into $dir/lib.
unpack() {
    tmp=$dir/unpack
    rm -rf "$tmp"
    python3 -m zipfile -e "$1" "$tmp"
    for lib in "$tmp"/*.data/data/lib; do
        [ -d "$lib" ] || die "$1 holds no *.data/data/lib folder"
        cp -R "$lib/." "$dir/lib/"
    done
    rm -rf "$tmp"
}

env_file=$dir/env.sh
{
    echo "# env.sh: the OpenCL platform '$platform' alone (tools/opencl-runtime.sh); source it."
    echo "OCL_ICD_VENDORS='$dir/vendors'; export OCL_ICD_VENDORS"
    echo "unset OCL_ICD_FILENAMES"
} >"$env_file"
case $platform in
pocl) cp "$icd_src" "$dir/vendors/pocl.icd" ;;
oclgrind) echo "$icd_lib" >"$dir/vendors/oclgrind.icd" ;;
intel-*)
    command -v python3 >/dev/null || die "python3 is needed to unpack the wheels"
    mkdir -p "$dir/lib"
    while read -r name version sha; do
        file=$(wheel_file "$name" "$version" "$sha") || exit 1
        unpack "$file"
    done <<EOF
$wheels
EOF
    rm -f "$dir"/lib/libOpenCL.so*
    [ -f "$dir/lib/$icd_lib" ] || die "$dir/lib/$icd_lib missing after unpacking"
    echo "$dir/lib/$icd_lib" >"$dir/vendors/$platform.icd"
    {
        # The runtime's dependencies (libtbb, libimf, libsvml, ...) are found here.
        echo "LD_LIBRARY_PATH='$dir/lib'\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
        echo "export LD_LIBRARY_PATH"
        echo "CL_CONFIG_CPU_TBB_NUM_WORKERS=\${CL_CONFIG_CPU_TBB_NUM_WORKERS:-\$(nproc)}"
        echo "export CL_CONFIG_CPU_TBB_NUM_WORKERS"
    } >>"$env_file"
    ;;
esac
echo "$stamp_text" >"$dir/complete"
say "$platform ready"
echo "$env_file"
