#!/bin/sh
# tests/mpi/run.sh: the CLI across MPI ranks (cli/ranks.c): `mpirun -n 2` and `-n 3` of
# classify (text, and JSON with an image that fails) and eval (with --results-file) print
# exactly what one process prints (eval's images/s aside) and exit with the same status; bench
# gathers every rank's entries into one JSON document; a rank that cannot open its device ends
# the job with one clear line (a failed entry for bench), not a hang; commands that do not
# share their work refuse to run under mpirun.
# Environment (from ctest): IRV2_CLI, IRV2_TEST_DATA, IRV2_TEST_TMP. Exit 77 (skipped) without
# mpirun.
set -u
cli=${IRV2_CLI:?}
data=$(cd "${IRV2_TEST_DATA:?}" && pwd)
command -v mpirun >/dev/null 2>&1 || { echo "mpi: no mpirun: skipped"; exit 77; }
work=$(mktemp -d "${IRV2_TEST_TMP:-/tmp}/mpi.XXXXXX")
trap 'rm -rf "$work"' EXIT
# Untuned, and with the vector family even in the suite's work-group pass: what is checked
# here is how the work is shared, which no kernel family changes, and the work-group kernels
# on a CPU would make this test take many minutes there.
export IRV2_TUNE=0 IRV2_CACHE_DIR="$work/cache" IRV2_KERNELS=vec
# Open MPI keeps allocations until exit that LeakSanitizer would report in an instrumented
# build; the same commands run as one process above keep leak checking.
mpi_asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
mpi() { ASAN_OPTIONS=$mpi_asan timeout 300 mpirun --allow-run-as-root --oversubscribe -x IRV2_TUNE \
    -x IRV2_CACHE_DIR -x IRV2_KERNELS -x ASAN_OPTIONS "$@"; }
fail=0
check() { # name, then a command that must succeed
    name=$1; shift
    if "$@"; then echo "ok: $name"; else echo "FAILED: $name"; fail=1; fi
}

images=$(ls "$data"/images/*.jpg "$data"/images/*.png | head -9)
# shellcheck disable=SC2086
"$cli" classify -q --weights synthetic:1 --batch 2 $images >"$work/one.txt"
one_rc=$?
# shellcheck disable=SC2086
"$cli" classify -q --json --weights synthetic:1 --batch 2 $images "$work/missing.jpg" \
    >"$work/one.jsonl" 2>/dev/null
one_json_rc=$?
i=0
for f in $images; do echo "$f $((i % 3))"; i=$((i + 1)); done >"$work/list.txt"
"$cli" eval -q --weights synthetic:1 --data "$work/list.txt" --batch 4 \
    --results-file "$work/one.csv" | grep -v '^images/s' >"$work/eval-one.txt"

for n in 2 3; do
    # shellcheck disable=SC2086
    mpi -n $n "$cli" classify -q --weights synthetic:1 --batch 2 $images >"$work/$n.txt" 2>"$work/$n.err"
    rc=$?
    check "classify, $n ranks: the same lines" cmp "$work/one.txt" "$work/$n.txt"
    check "classify, $n ranks: the same status ($one_rc)" test "$rc" -eq "$one_rc"
    # shellcheck disable=SC2086
    mpi -n $n "$cli" classify -q --json --weights synthetic:1 --batch 2 $images "$work/missing.jpg" \
        >"$work/$n.jsonl" 2>"$work/$n.jerr"
    rc=$?
    check "classify --json with a missing image, $n ranks: the same records" \
        cmp "$work/one.jsonl" "$work/$n.jsonl"
    check "classify --json, $n ranks: the same status ($one_json_rc)" test "$rc" -eq "$one_json_rc"
    check "classify --json, $n ranks: one error line" test "$(grep -c 'missing.jpg' "$work/$n.jerr")" -eq 1
    mpi -n $n "$cli" eval -q --weights synthetic:1 --data "$work/list.txt" --batch 4 \
        --results-file "$work/$n.csv" >"$work/eval-$n.raw" 2>"$work/eval-$n.err"
    rc=$?
    grep -v '^images/s' "$work/eval-$n.raw" >"$work/eval-$n.txt"
    check "eval, $n ranks: exit 0" test "$rc" -eq 0
    check "eval, $n ranks: the same report" cmp "$work/eval-one.txt" "$work/eval-$n.txt"
    check "eval, $n ranks: the same --results-file" cmp "$work/one.csv" "$work/$n.csv"
done

# Rank 1 with IRV2_DEVICE=$3 and rank 0 with device 0 run eval: every rank stops, rank 1's
# line names $4 and rank 0's says $5, and nothing is reported. $1 names the case, $2 its files.
one_rank_stops() {
    mpi -n 1 -x IRV2_DEVICE=0 "$cli" eval -q --weights synthetic:1 --data "$work/list.txt" : \
        -n 1 -x IRV2_DEVICE="$3" "$cli" eval -q --weights synthetic:1 --data "$work/list.txt" \
        >"$work/$2.txt" 2>"$work/$2.err"
    rc=$?
    check "$1: a failure, not a hang (status $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
    check "$1: named" grep -q "$4" "$work/$2.err"
    check "$1: rank 0 says so" grep -q "$5" "$work/$2.err"
    check "$1: no report" test ! -s "$work/$2.txt"
}
# rank 1 cannot open its device (7:7, well formed but not there)
one_rank_stops "a rank without its device" bad 7:7 7:7 "another MPI rank could not open its device"
# rank 1's device list is malformed: checked before any work
one_rank_stops "a rank with a malformed device list" bad-list nosuch \
    "IRV2_DEVICE: device list 'nosuch'" "another MPI rank's device list"

# bench: one JSON document with every rank's entries, each with its host and rank; a rank
# whose device does not exist is a failed entry of the same document, and the job exits 1
mpi -n 2 "$cli" bench -q --batch 1 --iters 1 --json "$work/bench.json" >"$work/bench.txt" 2>&1
rc=$?
check "bench, 2 ranks: exit 0" test "$rc" -eq 0
check "bench, 2 ranks: one document, an entry per rank" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ranks"] == 2 and d["failures"] == 0, d
assert sorted(r["rank"] for r in d["results"]) == [0, 1], d["results"]
assert all(r["host"] and r["batch"] == 1 and r["images_per_s"] > 0 for r in d["results"])
assert sorted(x["rank"] for x in d["devices"]) == [0, 1]
' "$work/bench.json"
mpi -n 1 "$cli" bench -q --batch 1 --iters 1 --json "$work/bench-bad.json" : \
    -n 1 -x IRV2_DEVICE=7:7 "$cli" bench -q --batch 1 --iters 1 >/dev/null 2>"$work/bench-bad.err"
rc=$?
check "bench with a rank's device missing: exit 1 (status $rc)" test "$rc" -eq 1
check "bench with a rank's device missing: the failure is an entry" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["failures"] == 1, d
bad = [r for r in d["results"] if r.get("error")]
assert len(bad) == 1 and bad[0]["rank"] == 1 and "7:7" in bad[0]["error"], d["results"]
' "$work/bench-bad.json"

mpi -n 2 "$cli" run --weights synthetic:1 --input "$work/x.npy" --output "$work/y.npy" \
    >/dev/null 2>"$work/run.err"
rc=$?
check "run under mpirun: a usage error" test "$rc" -ne 0
check "run under mpirun: says why" grep -q "does not share its work among MPI ranks" "$work/run.err"

[ "$fail" -eq 0 ] && echo "mpi: all checks passed"
exit "$fail"
