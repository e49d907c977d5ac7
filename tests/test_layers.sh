#!/bin/sh
# test_layers.sh: tools/check-layers.sh passes on a tree that keeps the layer rules and fails,
# naming the file or the cycle, on trees that break each rule.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

tree() { # a minimal tree that keeps the rules
    rm -rf "$tmp/t" && mkdir -p "$tmp/t/host/runtime" "$tmp/t/host/plan" "$tmp/t/cli"
    printf '#include "irv2.h"\n' >"$tmp/t/host/runtime/error.h"
    printf '#include "runtime/error.h"\n' >"$tmp/t/host/runtime/error.c"
    printf '#include "runtime/error.h"\n' >"$tmp/t/host/plan/plan.h"
    printf '#include "plan/plan.h"\n' >"$tmp/t/host/plan/plan.c"
    printf '#include "irv2.h"\n#include "cli.h"\n' >"$tmp/t/cli/main.c"
    printf '#include "irv2.h"\n' >"$tmp/t/cli/cli.h"
}

expect() { # expect pass|fail MESSAGE-FRAGMENT DESCRIPTION
    rc=0
    sh "$here/tools/check-layers.sh" "$tmp/t" >"$tmp/out" 2>&1 || rc=$?
    if [ "$1" = pass ] && [ "$rc" -ne 0 ]; then
        echo "FAIL: $3: expected to pass:"; cat "$tmp/out"; failures=$((failures + 1))
    elif [ "$1" = fail ] && { [ "$rc" -eq 0 ] || ! grep -q "$2" "$tmp/out"; }; then
        echo "FAIL: $3: expected a failure naming '$2':"; cat "$tmp/out"; failures=$((failures + 1))
    else
        echo "ok: $3"
    fi
}

tree
expect pass "" "a tree that keeps the rules"

tree
printf '#include "plan/plan.h"\n' >>"$tmp/t/host/runtime/error.c"
expect fail "runtime/error.c: #include \"plan/plan.h\": layer runtime may not include" "an upward include"

tree
printf '#include "runtime/other.h"\n' >"$tmp/t/host/runtime/error.c"
printf '#include "runtime/error.h"\n' >"$tmp/t/host/runtime/other.c"
printf '#include "irv2.h"\n' >"$tmp/t/host/runtime/other.h"
expect fail "include cycle: .*runtime/error" "a cycle between two modules of one layer"

tree
printf '#include "error.h"\n' >>"$tmp/t/host/plan/plan.c"
expect fail "does not name its layer" "an include without its layer"

tree
printf '#include "runtime/missing.h"\n' >>"$tmp/t/host/plan/plan.c"
expect fail "no such header" "an include of a header that does not exist"

tree
printf '#include "plan/plan.h"\n' >>"$tmp/t/cli/main.c"
expect fail "the CLI uses only irv2.h" "the CLI including an internal header"

tree
mkdir -p "$tmp/t/host/extra" && printf '\n' >"$tmp/t/host/extra/x.c"
expect fail "host/extra/ is not a layer" "a folder that is not a layer"

sh "$here/tools/check-layers.sh" "$here"
exit "$failures"
