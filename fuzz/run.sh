#!/bin/sh
# run.sh: builds the libFuzzer targets (clang -fsanitize=fuzzer,address,undefined) against the
# library's own sources, replays each target's seed corpus (fuzz/corpus/<target>/) and kept
# regression inputs (fuzz/regressions/<target>/: inputs that once crashed, kept after the fix),
# then fuzzes each target for a bounded time. Any crash, hang (-timeout), leak or sanitizer
# report fails the script and leaves the input under <build>/artifacts/<target>/.
#
# Usage: sh fuzz/run.sh [SECONDS [TARGET...]]
#   SECONDS per target, default 60; 0 builds and replays only. TARGETs: safetensors npy image
#   labels (default: all). IRV2_FUZZ_BUILD sets the build folder (default build-fuzz), CC_FUZZ
#   the compiler (default clang: Debian's clang 14 with libclang-rt-14-dev).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-60}
[ $# -gt 0 ] && shift
targets=${*:-safetensors npy image labels}
out=${IRV2_FUZZ_BUILD:-build-fuzz}
cc=${CC_FUZZ:-clang}
mkdir -p "$out"

cflags="-g -O1 -std=c11 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
-fno-omit-frame-pointer -Wall -Wextra -D_POSIX_C_SOURCE=200809L -DCL_TARGET_OPENCL_VERSION=120 \
-Iinclude -Ihost -Icli -Ifuzz"

# The library sources each target needs, and their libraries.
sources() {
    case $1 in
    safetensors) echo "host/io/checkpoint.c host/io/halves.c host/runtime/error.c" ;;
    npy) echo "host/io/npy.c host/runtime/atomic_file.c host/runtime/error.c" ;;
    image) echo "host/io/image.c host/io/image_jpeg.c host/io/image_png.c host/io/resize.c host/io/crop.c host/runtime/error.c" ;;
    labels) echo "cli/files.c" ;;
    *) echo "fuzz/run.sh: unknown target '$1'" >&2; exit 2 ;;
    esac
}
libs() {
    case $1 in
    safetensors) pkg-config --cflags --libs jansson ;;
    image) echo "$(pkg-config --cflags --libs libjpeg libpng) -lm" ;;
    *) echo "" ;;
    esac
}

status=0
for t in $targets; do
    bin="$out/fuzz_$t"
    # shellcheck disable=SC2046
    $cc $cflags -o "$bin" "fuzz/fuzz_$t.c" $(sources "$t") $(libs "$t")
    mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
    log="$out/$t.log"
    # Replay: every seed and every kept regression input, once each.
    files=$(find "fuzz/corpus/$t" "fuzz/regressions/$t" -type f 2>/dev/null | sort)
    # shellcheck disable=SC2086
    if ! "$bin" -runs=0 $files >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "fuzz/run.sh: $t: a seed or regression input fails (log: $log)" >&2
        status=1
        continue
    fi
    n=$(echo "$files" | grep -c . || true)
    if [ "$secs" = 0 ]; then
        echo "fuzz $t: replayed $n seed and regression inputs"
        continue
    fi
    extra=""
    [ -f "fuzz/$t.dict" ] && extra="-dict=fuzz/$t.dict"
    # The CLI's readers print each refusal on stderr: closed (sanitizer reports still show).
    [ "$t" = labels ] && extra="$extra -close_fd_mask=2"
    # -timeout: one input taking longer is a hang; -rss_limit_mb / -malloc_limit_mb: a larger
    # allocation (or RSS) is reported as a failure, so unbounded allocations are found too.
    # shellcheck disable=SC2086
    if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2560 -malloc_limit_mb=1024 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/artifacts/$t/" $extra \
        "$out/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        echo "fuzz $t: $runs inputs in ${secs}s, $cov, replayed $n seeds/regressions: no failure"
    else
        tail -n 60 "$log"
        echo "fuzz/run.sh: $t: failure; input in $out/artifacts/$t/ (log: $log). Fix it and" \
             "keep the input in fuzz/regressions/$t/." >&2
        status=1
    fi
done
exit $status
