#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer driver (fuzz/Sources) in its own scratch path and runs each
# target for FUZZ_SECONDS. Crash inputs go to fuzz/artifacts/<target>/ (gitignored), new corpus
# entries to .build/fuzz/corpus/<target>/ (the committed corpus in fuzz/corpus/ is only read).
# Prints executions, exec/s and crashes per target; exits non-zero if any target crashed.
# FUZZ_JOBS=2 fuzzes two targets at once (one core each).
set -uo pipefail
cd "$(dirname "$0")/.."

SWIFT=${SWIFT:-swift}
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}
FUZZ_TIMEOUT=${FUZZ_TIMEOUT:-10}
FUZZ_SANITIZE=${FUZZ_SANITIZE:-fuzzer,address}
SCRATCH=.build/fuzz
BIN=$SCRATCH/release/bottleneck-fuzz

# Only the fuzz build declares the target (Package.swift) and instruments every module.
BOTTLENECK_FUZZ=1 "$SWIFT" build -c release --scratch-path "$SCRATCH" --product bottleneck-fuzz \
    -Xswiftc "-sanitize=$FUZZ_SANITIZE" -Xswiftc -parse-as-library -Xswiftc -use-ld=lld \
    -Xswiftc -enforce-exclusivity=unchecked || exit 1

TARGETS=${FUZZ_TARGETS:-$("$BIN" --list)}
export SWIFT_BACKTRACE=enable=no   # libFuzzer's own handler reports the crash and writes the input
# No leak check, per input or at exit: Foundation's and the Swift runtime's caches read as leaks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
FUZZ_JOBS=${FUZZ_JOBS:-1}   # targets fuzzed at once: one core each
# One target: its run, then one summary line in $SCRATCH/result-<target> (first word: ok or crashed).
fuzz_target() {
    local target=$1
    mkdir -p "fuzz/artifacts/$target" "$SCRATCH/corpus/$target"
    local log="fuzz/artifacts/$target/fuzz.log" marker=$SCRATCH/corpus/$target.start
    touch "$marker"
    FUZZ_TARGET=$target "$BIN" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb="$FUZZ_RSS_MB" \
        -timeout="$FUZZ_TIMEOUT" -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$target/" "$SCRATCH/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1
    local rc=$?
    local runs rate crashes
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    crashes=$(find "fuzz/artifacts/$target" -maxdepth 1 -newer "$marker" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | wc -l)
    if [ "$rc" -ne 0 ]; then
        grep -E "ERROR|Fatal error|==[0-9]+== |Test unit written" "$log" | head -5
    fi
    printf '%s %-16s %12s executions %8s exec/s  %s\n' "$([ "$rc" -eq 0 ] && echo ok || echo crashed)" "$target" \
        "${runs:-?}" "${rate:-?}" "$([ "$rc" -eq 0 ] && echo "0 crashes" || echo "CRASHED (exit $rc, $crashes new artifact(s), log $log)")" \
        >"$SCRATCH/result-$target"
}
for target in $TARGETS; do
    rm -f "$SCRATCH/result-$target"
    echo "== $target: ${FUZZ_SECONDS}s"
    fuzz_target "$target" &
    while [ "$(jobs -rp | wc -l)" -ge "$FUZZ_JOBS" ]; do wait -n; done
done
wait
failed=()
summary=()
for target in $TARGETS; do
    line=$(cat "$SCRATCH/result-$target" 2>/dev/null || echo "crashed $target: no result")
    [ "${line%% *}" = ok ] || failed+=("$target")
    summary+=("${line#* }")
done
echo
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}; inputs in fuzz/artifacts/<target>/" >&2
    exit 1
fi
echo "fuzz: $(echo $TARGETS | wc -w) targets, ${FUZZ_SECONDS}s each, 0 crashes"
