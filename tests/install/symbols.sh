#!/bin/sh
# symbols.sh: checks that a shared libirv2 exports its API and nothing else. The names
# `nm -D --defined-only LIB` lists must be exactly the functions HEADER (include/irv2.h)
# declares IRV2_API: none missing (a public function the library does not export) and none
# more (an internal function or variable left visible: the library is built with
# -fvisibility=hidden, CMakeLists.txt). The only others allowed are the symbols that the linker
# and the C runtime define in every shared library (_init, _fini, _edata, _end, __bss_start):
# some linkers put them in the dynamic symbol table, though Debian 12's (binutils 2.40) does
# not; they are not irv2's code and name nothing a program could call by mistake.
# Usage: symbols.sh LIB HEADER. Called by tests/install/run.sh (on the shared library of the
# subdirectory build), by tests/python/venv.sh (on the library the wheel holds) and by ctest's
# test_symbols in a shared build.
set -eu
lib=${1:?usage: symbols.sh LIB HEADER} header=${2:?usage: symbols.sh LIB HEADER}
die() {
    echo "symbols: FAIL: $*" >&2
    exit 1
}
[ -f "$lib" ] || die "no library $lib"
command -v nm >/dev/null || die "no nm (binutils) to list $lib's symbols"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The identifier before the first '(' of each line that opens with IRV2_API.
sed -n 's/^IRV2_API[^(]*[^A-Za-z0-9_]\([A-Za-z_][A-Za-z0-9_]*\)(.*/\1/p' "$header" |
    sort -u >"$tmp/api"
[ -s "$tmp/api" ] || die "$header declares no IRV2_API function"
nm -D --defined-only "$lib" >"$tmp/nm" || die "nm -D --defined-only $lib failed"
awk '{print $NF}' "$tmp/nm" | grep -vxE '_init|_fini|_edata|_end|__bss_start' |
    sort -u >"$tmp/exported" || true
extra=$(comm -13 "$tmp/api" "$tmp/exported")
missing=$(comm -23 "$tmp/api" "$tmp/exported")
# shellcheck disable=SC2086 # the names are listed on one line
{
    [ -z "$extra" ] ||
        echo "symbols: FAIL: $lib exports what $header does not declare IRV2_API:" $extra
    [ -z "$missing" ] ||
        echo "symbols: FAIL: $lib lacks these IRV2_API functions of $header:" $missing
} >&2
[ -z "$extra$missing" ] || exit 1
echo "symbols: $lib exports the $(wc -l <"$tmp/api") IRV2_API functions of $header and nothing else"
