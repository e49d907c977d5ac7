#!/bin/sh
# check-layers.sh: checks the #include lines of host/ and cli/ against the layer order below,
# and that no module (x.c with x.h) depends on itself through others.
# Usage: tools/check-layers.sh [ROOT]   (ROOT: the source tree, default: this repository)
#
# The layers, lowest first; a file in host/<layer>/ may include "irv2.h" and headers of its
# own layer or of lower ones, always written as "<layer>/<name>.h". cli/ (the command-line
# tool) sits on top and includes only the public "irv2.h" and its own headers.
LAYERS="runtime io net ops plan"

set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"
status=0
fail() {
    echo "check-layers: $*" >&2
    status=1
}

rank() { # rank LAYER -> its position in LAYERS, or nothing
    i=0
    for l in $LAYERS; do
        i=$((i + 1))
        if [ "$l" = "$1" ]; then echo "$i"; fi
    done
}

edges=$(mktemp)
trap 'rm -f "$edges"' EXIT

for dir in host/*/; do
    layer=$(basename "$dir")
    [ -n "$(rank "$layer")" ] || fail "host/$layer/ is not a layer (LAYERS: $LAYERS)"
done

for file in host/*/*.c host/*/*.h; do
    [ -e "$file" ] || continue
    layer=$(basename "$(dirname "$file")")
    mine=$(rank "$layer")
    [ -n "$mine" ] || continue
    module="$layer/$(basename "$file" | sed 's/\.[ch]$//')"
    echo "$module $module" >>"$edges"
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file"); do
        [ "$inc" = irv2.h ] && continue
        case "$inc" in
        */*.h) ;;
        *) fail "$file: #include \"$inc\" does not name its layer (\"<layer>/$inc\")"; continue ;;
        esac
        theirs=$(rank "${inc%%/*}")
        if [ -z "$theirs" ] || [ ! -f "host/$inc" ]; then
            fail "$file: #include \"$inc\": no such header in host/"
        elif [ "$theirs" -gt "$mine" ]; then
            fail "$file: #include \"$inc\": layer $layer may not include the higher layer ${inc%%/*}"
        else
            echo "${inc%.h} $module" >>"$edges"
        fi
    done
done

for file in cli/*.c cli/*.h; do
    [ -e "$file" ] || continue
    for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file"); do
        [ "$inc" = irv2.h ] || [ -f "cli/$inc" ] ||
            fail "$file: #include \"$inc\": the CLI uses only irv2.h and its own headers"
    done
done

# A cycle among modules: tsort names the modules on it.
if ! tsort "$edges" >/dev/null 2>"$edges.err"; then
    fail "include cycle: $(grep -v 'input contains a loop' "$edges.err" | sed 's/^tsort: //' | tr '\n' ' ')"
fi
rm -f "$edges.err"

if [ "$status" -eq 0 ]; then
    echo "check-layers: $(wc -l <"$edges") module edges, layers $LAYERS (+ cli): ok"
fi
exit "$status"
