#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer driver (fuzz/Sources) in its own scratch path and runs each
# target for FUZZ_SECONDS. Crash inputs go to fuzz/artifacts/<target>/ (gitignored), new corpus
# entries to .build/fuzz/corpus/<target>/ (the committed corpus in fuzz/corpus/ is only read).
# Prints executions, exec/s and crashes per target; exits non-zero if any target crashed.
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
failed=()
summary=()
for target in $TARGETS; do
    mkdir -p "fuzz/artifacts/$target" "$SCRATCH/corpus/$target"
    log="fuzz/artifacts/$target/fuzz.log"
    echo "== $target: ${FUZZ_SECONDS}s"
    marker=$SCRATCH/corpus/$target.start
    touch "$marker"
    FUZZ_TARGET=$target "$BIN" -max_total_time="$FUZZ_SECONDS" -rss_limit_mb="$FUZZ_RSS_MB" \
        -timeout="$FUZZ_TIMEOUT" -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="fuzz/artifacts/$target/" "$SCRATCH/corpus/$target" "fuzz/corpus/$target" >"$log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    crashes=$(find "fuzz/artifacts/$target" -maxdepth 1 -newer "$marker" \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | wc -l)
    if [ "$rc" -ne 0 ]; then
        failed+=("$target")
        grep -E "ERROR|Fatal error|==[0-9]+== |Test unit written" "$log" | head -5
    fi
    summary+=("$(printf '%-16s %12s executions %8s exec/s  %s' "$target" "${runs:-?}" "${rate:-?}" \
        "$([ "$rc" -eq 0 ] && echo "0 crashes" || echo "CRASHED (exit $rc, $crashes new artifact(s), log $log)")")")
done
echo
printf '%s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]}; inputs in fuzz/artifacts/<target>/" >&2
    exit 1
fi
echo "fuzz: $(echo $TARGETS | wc -w) targets, ${FUZZ_SECONDS}s each, 0 crashes"
