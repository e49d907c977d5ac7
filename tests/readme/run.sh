#!/bin/sh
# run.sh: the README test (ctest test_readme): every command in README.md's ```sh blocks runs,
# one after another in one scratch folder, and each must exit 0. A command spread over lines
# with a trailing backslash is one command; lines that are only a comment are dropped.
#
# `build` in a command is this test's build folder: `./build/X` runs IRV2_BUILD_DIR/X, and
# `cmake -B build`, `cmake --build build`, `cmake --install build` act on IRV2_BUILD_DIR (the
# configure step with -S the source tree, so the tree keeps its source folder). The other
# paths of the checkout (tools/, bench/, tests/, python/) are links to the source tree.
#
# What the commands read, as the README names it, is made first in the scratch folder:
# cat.jpg and dog.png (test images), photos/*.jpg, a class-per-folder set `val/` and a list
# `val_list.txt`, and stand-ins for the two downloads (irv2.safetensors: synthetic weights in
# timm's tf layout from `irv2 export-synthetic`; imagenet_classes.txt: 1000 names).
#
# Skipped, each for the reason given; the test fails if an entry matches no command (so the
# list cannot outlive the README) or if a block is fenced as bash, shell or console (so no
# shell command escapes this test):
#   sh tools/test.sh           the whole suite, this test included; .ci/run runs it.
#   curl ...                   downloads; the stand-ins above take the files' places.
#   python3 -m venv ...,       the Python section's install: tests/python/run.sh (ctest
#   pip install ./python       test_python) runs the same two commands, and
#                              python/tests/test_readme.py checks that they are these.
#   bench/compare ...          minutes of measuring per round, ONNX Runtime and OpenVINO from
#                              PyPI and PyTorch; the figures it makes are measurements, not
#                              checks (bench/README.md).
#   sh tools/install-deps.sh   only when not root: it installs with apt-get as root (where
#                              every package is present it only checks, and then it runs).
#
# Settings, so that the whole file runs in about a minute on 2 quiet cores: IRV2_TUNE=off (the
# first tuned run of each batch size takes half a minute; test_tune checks the tuner),
# IRV2_KERNELS unset (the suite's forced work-group pass would make every command many times
# slower on a CPU; the kernel families have their own tests), a private IRV2_CACHE_DIR, HOME a
# scratch folder (for `~` and "$HOME" in commands) with XDG_CACHE_HOME kept, so that the
# OpenCL runtime's compiler cache stays the user's. Open MPI is allowed to run as root and to
# put more ranks than cores on this machine. Under the sanitizers (IRV2_SANITIZE=1) CFLAGS and
# LDFLAGS carry them to the programs the commands build against the instrumented library, and
# leak checks are off under mpirun, as in tests/mpi/run.sh.
#
# Environment (set by tests/CMakeLists.txt): IRV2_SOURCE_DIR, IRV2_BUILD_DIR, IRV2_SANITIZE.
# The scratch folder, IRV2_BUILD_DIR/test_readme.tmp, is removed when the test passes. Exit 77
# (ctest: skipped) only without a source tree and a CMake build tree.
set -u
src=${IRV2_SOURCE_DIR:?} build=${IRV2_BUILD_DIR:?}
src=$(cd "$src" && pwd) build=$(cd "$build" && pwd)
readme=$src/README.md
if [ ! -f "$readme" ] || [ ! -f "$build/CMakeCache.txt" ] || [ ! -x "$build/irv2" ]; then
    echo "test_readme: skipped: no README.md in $src or no built CMake tree in $build"
    exit 77
fi
say() { printf 'test_readme: %s\n' "$*"; }
die() {
    echo "test_readme: FAIL: $*" >&2
    exit 1
}

tmp=$build/test_readme.tmp
rm -rf "$tmp"
mkdir -p "$tmp/work" "$tmp/home" || die "cannot make $tmp"
work=$tmp/work

# The commands, one per line: ```sh blocks only, continuations joined, comment lines dropped.
awk '
    /^```/ { if (on) { on = 0; next } if ($0 == "```sh") { on = 1; next } }
    !on { next }
    { line = (cont == "" ? $0 : cont " " $0) }
    /\\$/ { sub(/[ \t]*\\$/, "", line); cont = line; next }
    { cont = "" }
    line ~ /^[ \t]*(#|$)/ { next }
    { print line }
' "$readme" >"$tmp/commands" || die "cannot read $readme"
[ -s "$tmp/commands" ] || die "README.md has no \`\`\`sh block"
if grep -nE '^```(bash|shell|console|sh-session|zsh)[[:space:]]*$' "$readme"; then
    die "README.md fences the blocks above as another shell: fence commands as \`\`\`sh"
fi

# The skip list (see the top of this file): a pattern on the command's start, then its reason.
skips='sh tools/test.sh|the whole suite, run by .ci/run
curl |a download; its stand-in is made first
python3 -m venv |tests/python/run.sh (test_python) runs the Python install
pip install ./python|tests/python/run.sh (test_python) runs the Python install
bench/compare |minutes of measuring, with PyPI downloads and PyTorch'
skip_reason() { # skip_reason COMMAND: prints the reason when COMMAND is skipped
    echo "$skips" | while IFS='|' read -r pattern reason; do
        case $1 in "$pattern"*)
            echo "$reason"
            break
            ;;
        esac
    done
}
echo "$skips" | while IFS='|' read -r pattern reason; do
    grep -q "^$pattern" "$tmp/commands" || die "the skip entry '$pattern' matches no README command"
done || exit 1

# The files the commands read.
images=$src/tests/data/images
make_inputs() {
    mkdir -p "$work/photos" "$work/val/a" "$work/val/b" || return 1
    cp "$images/pattern_160x120.jpg" "$work/cat.jpg" || return 1
    cp "$images/pattern_375x500.png" "$work/dog.png" || return 1
    cp "$images/pattern_160x120.jpg" "$work/photos/one.jpg" || return 1
    cp "$images/cmyk_64x48.jpg" "$work/photos/two.jpg" || return 1
    cp "$images/pattern_160x120.jpg" "$images/pattern_299x299.png" "$work/val/a/" || return 1
    cp "$images/pattern_375x500.png" "$images/pattern_500x375.png" "$work/val/b/" || return 1
    printf '%s\n' 'val/a/pattern_299x299.png 0' 'val/b/pattern_500x375.png 1' \
        >"$work/val_list.txt" || return 1
    awk 'BEGIN { for (i = 0; i < 1000; i++) print "class " i }' >"$work/imagenet_classes.txt"
}
make_inputs || die "cannot make the commands' input files in $work"
"$build/irv2" export-synthetic --variant tf --output "$work/irv2.safetensors" >/dev/null ||
    die "irv2 export-synthetic could not make the stand-in irv2.safetensors"
for f in "$src"/*; do
    [ "${f##*/}" = build ] || ln -s "$f" "$work/${f##*/}"
done

XDG_CACHE_HOME=${XDG_CACHE_HOME:-${HOME:-/root}/.cache}
export XDG_CACHE_HOME HOME="$tmp/home"
export IRV2_TUNE=off IRV2_CACHE_DIR="$tmp/cache"
unset IRV2_KERNELS IRV2_BINARIES IRV2_EXACT IRV2_FAULT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
if [ "${IRV2_SANITIZE:-0}" = 1 ]; then
    export CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer"
    export LDFLAGS="-fsanitize=address,undefined"
fi
mpi_asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"

# `build` is the test's build folder (see the top of this file).
rewrite() {
    sed -e "s#cmake -B build#cmake -S '$src' -B '$build'#g" \
        -e "s#cmake --build build#cmake --build '$build'#g" \
        -e "s#cmake --install build#cmake --install '$build'#g" \
        -e "s#\./build/#'$build'/#g"
}

ran=0 skipped=0 failed=0 n=0
while IFS= read -r command; do
    n=$((n + 1))
    reason=$(skip_reason "$command")
    if [ -z "$reason" ] && [ "$(id -u)" != 0 ]; then
        case $command in "sh tools/install-deps.sh && "*)
            say "[$n] not root: without 'sh tools/install-deps.sh', which installs as root"
            command=${command#"sh tools/install-deps.sh && "}
            ;;
        esac
    fi
    if [ -n "$reason" ]; then
        say "[$n] skipped ($reason): $command"
        skipped=$((skipped + 1))
        continue
    fi
    run=$(printf '%s\n' "$command" | rewrite)
    asan=${ASAN_OPTIONS:-}
    case $command in mpirun*) asan=$mpi_asan ;; esac
    start=$(date +%s)
    (cd "$work" && ASAN_OPTIONS=$asan timeout 600 sh -c "$run") >"$tmp/out" 2>&1 </dev/null
    rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        say "[$n] ok (${secs} s): $command"
        ran=$((ran + 1))
    else
        say "[$n] FAILED (exit $rc, ${secs} s): $command"
        sed 's/^/    /' "$tmp/out" | tail -n 40
        failed=$((failed + 1))
    fi
done <"$tmp/commands"

say "$ran commands ran, $skipped skipped, $failed failed"
[ "$failed" -eq 0 ] || die "$failed README command(s) failed"
[ "$ran" -gt 0 ] || die "no README command ran"
rm -rf "$tmp"
say "ok"
