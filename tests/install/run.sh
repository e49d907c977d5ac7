#!/bin/sh
# run.sh: the install test (ctest test_install). Installs the build tree into a temporary prefix
# (cmake --install), builds tests/install/consumer.c against it once with find_package(irv2)
# and once with pkg-config, runs both on synthetic weights (IRV2_TUNE=0) and checks that they
# print the same sane line; then configures this source tree as a subdirectory of a parent
# CMake project with a shared libirv2 (-DBUILD_SHARED_LIBS=ON), builds the consumer there
# against irv2::irv2, runs it, and checks that the shared library exports the API of irv2.h
# and nothing else (tests/install/symbols.sh); last, where cpack and dpkg are installed, it
# makes the .deb (cpack -G DEB) and checks with dpkg -c that the library, irv2.pc and the CMake
# package are in the multiarch folder /usr/lib/<arch>. The consumer is the README's C example:
# the README's ```c block must be this file, byte for byte.
# Environment (set by tests/CMakeLists.txt): IRV2_SOURCE_DIR, IRV2_BUILD_DIR, CMAKE_COMMAND,
# CPACK_COMMAND, CC, IRV2_BUILD_CONFIG, IRV2_MULTIARCH (CMAKE_LIBRARY_ARCHITECTURE, empty on a
# system without multiarch), IRV2_SANITIZE (1: the library is instrumented, so the consumers are
# linked with the sanitizers too). Its files go to IRV2_BUILD_DIR/test_install.tmp, removed
# when the test passes. Exit 77 (ctest: skipped) only where there is no CMake build tree to
# install from (the test binaries copied elsewhere, as tools/gpu-check.sh does).
set -eu
src=${IRV2_SOURCE_DIR:?} build=${IRV2_BUILD_DIR:?}
cmake=${CMAKE_COMMAND:-cmake}
cc=${CC:-cc}
if [ ! -f "$build/cmake_install.cmake" ] || ! command -v "$cmake" >/dev/null; then
    echo "test_install: skipped: no CMake build tree in $build (or no cmake) to install from"
    exit 77
fi
tmp=$build/test_install.tmp
jobs=$(nproc 2>/dev/null || echo 2)
rm -rf "$tmp"
mkdir -p "$tmp"
export IRV2_TUNE=0
cflags="-Wall -Wextra -Werror"
ldflags=
if [ "${IRV2_SANITIZE:-0}" = 1 ]; then
    cflags="$cflags -fsanitize=address,undefined -fno-omit-frame-pointer"
    ldflags="-fsanitize=address,undefined"
fi

step() { echo "test_install: $*"; }
die() {
    echo "test_install: FAIL: $*" >&2
    exit 1
}
quiet() { # runs a command, showing its output only when it fails
    "$@" >"$tmp/step.log" 2>&1 || { cat "$tmp/step.log"; die "$*"; }
}

step "cmake --install into $tmp/prefix"
set -- --prefix "$tmp/prefix"
if [ -n "${IRV2_BUILD_CONFIG:-}" ]; then set -- "$@" --config "$IRV2_BUILD_CONFIG"; fi
quiet "$cmake" --install "$build" "$@"
prefix=$tmp/prefix
pc=$(find "$prefix" -name irv2.pc)
[ -n "$pc" ] || die "no irv2.pc installed"
[ -f "$prefix/include/irv2.h" ] || die "no include/irv2.h installed"
if [ -f "$build/irv2.1" ]; then # generated where help2man is installed (cmake/install.cmake)
    man=$(find "$prefix" -path '*/man1/irv2.1')
    [ -n "$man" ] || die "no man1/irv2.1 installed"
    grep -q '^\.TH IRV2 "1"' "$man" || die "$man is not an irv2(1) man page"
    grep -q 'classify' "$man" || die "$man does not list the classify command"
fi
multiarch=${IRV2_MULTIARCH:-}
if [ -n "$multiarch" ]; then
    [ -n "$(find "$prefix/lib/$multiarch" -maxdepth 1 -name 'libirv2.*')" ] ||
        die "no libirv2 installed in $prefix/lib/$multiarch (the multiarch folder)"
fi
config=$(find "$prefix" -name irv2Config.cmake)
if [ -z "$config" ] || [ ! -f "$(dirname "$config")/irv2ConfigVersion.cmake" ]; then
    die "no irv2Config.cmake / irv2ConfigVersion.cmake installed"
fi
PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
export PKG_CONFIG_PATH
version=$(pkg-config --modversion irv2)
cli_version=$("$prefix/bin/irv2" --version)
[ "$cli_version" = "irv2 $version" ] || die "irv2 --version says '$cli_version', irv2.pc '$version'"
[ "$("$prefix/bin/irv2" -V)" = "$cli_version" ] || die "irv2 -V differs from irv2 --version"
step "installed irv2 $version; irv2 --version: $cli_version"

step "the README's C example is tests/install/consumer.c"
awk '/^```c$/ {on = 1; next} on && /^```$/ {exit} on' "$src/README.md" >"$tmp/readme.c"
cmp -s "$tmp/readme.c" "$src/tests/install/consumer.c" ||
    die "README.md's \`\`\`c block differs from tests/install/consumer.c"

step "consumer with find_package(irv2)"
quiet "$cmake" -S "$src/tests/install" -B "$tmp/consumer-cmake" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_FLAGS="$cflags" -DCMAKE_EXE_LINKER_FLAGS="$ldflags"
quiet "$cmake" --build "$tmp/consumer-cmake"
out_cmake=$("$tmp/consumer-cmake/consumer") || die "the find_package consumer failed"
step "  $out_cmake"

step "consumer with pkg-config: $cc consumer.c \$(pkg-config --cflags --libs irv2)"
libdir=$(pkg-config --variable=libdir irv2)
# shellcheck disable=SC2046,SC2086 # pkg-config's output and the flags are split into words
quiet "$cc" -std=c11 $cflags -o "$tmp/consumer-pc" \
    "$src/tests/install/consumer.c" $(pkg-config --cflags --libs irv2) -lm $ldflags \
    -Wl,-rpath,"$libdir"
out_pc=$("$tmp/consumer-pc") || die "the pkg-config consumer failed"
step "  $out_pc"

[ "$out_cmake" = "$out_pc" ] || die "the two consumers disagree: '$out_cmake' vs '$out_pc'"
# "irv2 VERSION classes N top1 K logit X" with 0 <= K < N.
# shellcheck disable=SC2086 # the line is split into its fields
set -- $out_pc
case "$#:$1:$2:$3:$4:$5:$6:$7" in
8:irv2:"$version":classes:[1-9]*:top1:[0-9]*:logit) ;;
*) die "unexpected consumer output: '$out_pc'" ;;
esac
if [ "$6" -ge "$4" ]; then die "top-1 class $6 is not below the class count $4"; fi

step "this tree as a subdirectory of a parent project (add_subdirectory), shared"
mkdir -p "$tmp/parent"
cat >"$tmp/parent/CMakeLists.txt" <<PARENT
cmake_minimum_required(VERSION 3.16)
project(parent LANGUAGES C)
add_subdirectory("$src" irv2)
add_executable(app "$src/tests/install/consumer.c")
target_link_libraries(app PRIVATE irv2::irv2 m)
PARENT
quiet "$cmake" -S "$tmp/parent" -B "$tmp/parent/build" -DCMAKE_BUILD_TYPE=Release -DIRV2_WERROR=ON \
    -DBUILD_SHARED_LIBS=ON
[ ! -e "$tmp/parent/build/irv2/tests" ] || die "a subdirectory build configured irv2's tests"
quiet "$cmake" --build "$tmp/parent/build" --target app --parallel "$jobs"
[ -x "$tmp/parent/build/app" ] || die "the parent project built no app"
shared=$tmp/parent/build/irv2/libirv2.so.0
[ -f "$shared" ] || die "the parent project's shared build made no $shared"
out_app=$("$tmp/parent/build/app") || die "the app on the shared libirv2 failed"
[ "$out_app" = "$out_cmake" ] ||
    die "the app on the shared libirv2 says '$out_app', not '$out_cmake'"
step "  built and ran app against irv2::irv2 from add_subdirectory: $out_app"
sh "$src/tests/install/symbols.sh" "$shared" "$src/include/irv2.h" ||
    die "the shared library's symbols"

cpack=${CPACK_COMMAND:-cpack}
if ! command -v "$cpack" >/dev/null || ! command -v dpkg >/dev/null ||
    ! command -v dpkg-shlibdeps >/dev/null || [ -z "$multiarch" ]; then
    step "no .deb check: it needs cpack, dpkg, dpkg-shlibdeps and a multiarch system"
else
    step "the .deb: cpack -G DEB, then dpkg -c"
    set -- -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/deb"
    if [ -n "${IRV2_BUILD_CONFIG:-}" ]; then set -- "$@" -C "$IRV2_BUILD_CONFIG"; fi
    quiet "$cpack" "$@"
    deb=$(find "$tmp/deb" -maxdepth 1 -name 'irv2_*.deb')
    [ -n "$deb" ] || die "cpack made no irv2_*.deb in $tmp/deb"
    dpkg -c "$deb" | awk '{print $6}' | sed 's,^\./,/,' >"$tmp/deb.list"
    deblib=/usr/lib/$multiarch
    for f in /usr/bin/irv2 /usr/include/irv2.h "$deblib/pkgconfig/irv2.pc" \
        "$deblib/cmake/irv2/irv2Config.cmake"; do
        grep -qx "$f" "$tmp/deb.list" || die "the .deb has no $f: $(cat "$tmp/deb.list")"
    done
    grep -qE "^$deblib/libirv2\.(a|so\.[0-9]+)$" "$tmp/deb.list" ||
        die "the .deb has no libirv2 in $deblib: $(cat "$tmp/deb.list")"
    if grep -E '^/usr/lib/[^/]*$' "$tmp/deb.list" | grep -v '/$' | grep -q .; then
        die "the .deb puts files in /usr/lib, outside $deblib: $(cat "$tmp/deb.list")"
    fi
    # Its irv2.pc names that folder too (configured for /usr when cpack installs).
    mkdir -p "$tmp/deb-pc"
    dpkg-deb --fsys-tarfile "$deb" | tar -xO ".$deblib/pkgconfig/irv2.pc" >"$tmp/deb-pc/irv2.pc"
    pc_libdir=$(PKG_CONFIG_PATH=$tmp/deb-pc pkg-config --variable=libdir irv2)
    [ "$pc_libdir" = "$deblib" ] || die "the .deb's irv2.pc has libdir $pc_libdir, not $deblib"
    step "  $(basename "$deb"): $(grep -c "^$deblib/." "$tmp/deb.list") entries in $deblib"
fi

rm -rf "$tmp"
step "ok"
