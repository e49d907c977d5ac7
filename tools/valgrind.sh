#!/bin/sh
# valgrind.sh: the irv2 CLI's success and error paths under valgrind memcheck, with the
# runtime's suppressions (tools/valgrind.supp). A case fails when memcheck reports an error (a
# leak definitely or possibly lost, an invalid access, a use of uninitialised memory) or the
# CLI's exit status is not the expected one. Logs go to <build>/valgrind/<case>.log.
# Usage: sh tools/valgrind.sh [build-dir (build)] [--quick: error paths only]
# The success path takes about 10 minutes on a 2-core CPU (PoCL's LLVM loading the program
# binaries runs under valgrind too); the caches are warmed without valgrind first.
set -eu
cd "$(dirname "$0")/.."
build=build
quick=0
for a in "$@"; do
    case $a in
    --quick) quick=1 ;;
    *) build=$a ;;
    esac
done
cli="$build/irv2"
out="$build/valgrind"
mkdir -p "$out"
export IRV2_TUNE=0

# A 1 x 3 x 299 x 299 float32 input of zeros (a .npy v1.0 header padded to 128 bytes).
input="$out/input.npy"
dict="{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 299, 299), }"
{
    printf '\223NUMPY\001\000\166\000%s' "$dict"
    printf '%*s\n' $((118 - ${#dict} - 1)) ''
    head -c $((3 * 299 * 299 * 4)) /dev/zero
} >"$input"
printf 'not an image\n' >"$out/bad.png"
printf 'P3\n1 1 255\n0 0 0\n' >"$out/bad.npy"
rm -f "$out/out.npy"

status=0
# check NAME EXPECTED_EXIT ARGS...
check() {
    name=$1 want=$2
    shift 2
    t0=$(date +%s)
    rc=0
    valgrind --leak-check=full --error-exitcode=99 --suppressions=tools/valgrind.supp \
        --log-file="$out/$name.log" "$cli" "$@" >/dev/null 2>"$out/$name.stderr" || rc=$?
    errors=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$out/$name.log" | tail -n 1)
    lost=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$out/$name.log" | tail -n 1)
    result=ok
    if [ "$rc" = 99 ] || [ "${errors:-x}" != 0 ]; then result="MEMCHECK ERRORS"; status=1;
    elif [ "$rc" != "$want" ]; then result="EXIT $rc, expected $want"; status=1; fi
    printf '%-16s exit %s  memcheck errors %s  definitely lost %s bytes  %4ss  %s\n' "$name" \
        "$rc" "${errors:-?}" "${lost:-0}" $(($(date +%s) - t0)) "$result"
}

check missing-weights 1 run --weights "$out/absent.safetensors" --input "$input" --output "$out/out.npy"
check bad-npy 1 run --weights synthetic:1 --input "$out/bad.npy" --output "$out/out.npy"
check bad-device 1 run --weights synthetic:1 --input "$input" --output "$out/out.npy" --device nosuch
check bad-option 2 run --weights synthetic:1 --input "$input" --output "$out/out.npy" --frobnicate 1
check bad-image 1 classify --weights synthetic:1 "$out/bad.png"
# injected device faults (host/runtime/fault.h): an allocation, then a kernel build, fails
IRV2_FAULT=alloc:5 && export IRV2_FAULT
check alloc-fault 1 run --weights synthetic:1 --input "$input" --output "$out/out.npy"
IRV2_FAULT=build:1
check build-fault 1 run --weights synthetic:1 --input "$input" --output "$out/out.npy"
unset IRV2_FAULT
if [ "$quick" = 0 ]; then
    "$cli" run --weights synthetic:1 --input "$input" --output "$out/out.npy"  # warm the caches
    rm -f "$out/out.npy"
    check run-success 0 run --weights synthetic:1 --input "$input" --output "$out/out.npy"
fi
exit $status
