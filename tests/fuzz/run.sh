#!/bin/sh
# run.sh BUILD SECONDS TARGET...: each libFuzzer target BUILD/fuzz_<target> for SECONDS on its
# corpus — tests/fuzz/corpus/<target> (committed: hand-written inputs and every input that
# once crashed), BUILD/seed/<target> (seed.sh) and BUILD/corpus/<target> (what earlier runs
# found; new finds go there). A crash, leak, sanitizer report or timeout fails the target; its
# input is left as BUILD/crash-<target>-* and the log as BUILD/<target>.log.
set -eu
build=${1:?usage: run.sh BUILD SECONDS TARGET...}
secs=${2:?}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
"$here/seed.sh" "$build/seed"
# the load and unpack targets write files for every input: on tmpfs they run ten times faster
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm
fi
passed=0
failed=0
for t in "$@"; do
    mkdir -p "$build/corpus/$t"
    log=$build/$t.log
    # git keeps no empty directory: a target may have no committed corpus yet
    committed=$here/corpus/$t
    [ -d "$committed" ] || committed=
    if "$build/fuzz_$t" -max_total_time="$secs" -timeout=25 -print_final_stats=1 \
        -artifact_prefix="$build/crash-$t-" \
        "$build/corpus/$t" ${committed:+"$committed"} "$build/seed/$t" >"$log" 2>&1; then
        passed=$((passed + 1))
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.*\(cov: [0-9]*\).*/\1/p')
        echo "fuzz $t: ok, ${runs:-?} inputs in ${secs}s, $cov"
    else
        failed=$((failed + 1))
        echo "fuzz $t: FAILED (log $log)"
        grep -A 30 -E '^==[0-9]+==ERROR|runtime error|ERROR: libFuzzer' "$log" | head -n 40 || tail -n 40 "$log"
    fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
