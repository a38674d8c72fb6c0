#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each for SECONDS (default 60).
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]     TARGET: JSONRoundTrip, LineReader (default both)
#
# SwiftPM test targets cannot be built with -sanitize=fuzzer, so each target is one
# swiftc invocation over the EventStore sources plus its Fuzz/*.swift file (one module,
# internal API reachable), linked with the C SHA-256 code built by clang. Needs Linux and
# a Swift toolchain with libFuzzer (swift.org toolchains have it).
#
# Output: .build-fuzz/ (binaries, corpora, crash-* files). A crash stops the run and
# exits non-zero; the last line of each target's run is printed, and a summary line
# "fuzz: TARGET runs=N seconds=S crashes=0" per target that RELIABILITY.md quotes.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(JSONRoundTrip LineReader)

out=.build-fuzz
mkdir -p "$out/corpus"

sources=()
while IFS= read -r file; do sources+=("$file"); done < <(find Sources/EventStore -name '*.swift' | sort)

seed_corpus() {
    local target=$1 corpus=$2
    [ -n "$(ls -A "$corpus" 2>/dev/null)" ] && return
    mkdir -p "$corpus"
    case $target in
        JSONRoundTrip)
            # Every JSONTestSuite file, and the lines of the shipped log.
            if [ -d ../shared/testdata/JSONTestSuite/test_parsing ]; then
                cp ../shared/testdata/JSONTestSuite/test_parsing/*.json "$corpus/" 2>/dev/null || true
            fi
            if [ -f log/events-000001.jsonl ]; then
                head -n 50 log/events-000001.jsonl | split -l 1 - "$corpus/line-"
            fi
            ;;
        LineReader)
            # Whole segments: the start of the shipped log, cut at a few places.
            if [ -f log/events-000001.jsonl ]; then
                for n in 1 2 3 5 8; do head -n $n log/events-000001.jsonl > "$corpus/segment-$n"; done
                head -c 1500 log/events-000001.jsonl > "$corpus/segment-torn"
            fi
            ;;
    esac
}

status=0
for target in "${targets[@]}"; do
    echo "fuzz: building $target"
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name EventStore \
        "${sources[@]}" "Fuzz/$target.swift" \
        -o "$out/$target" 2> >(grep -v "Cannot export local symbol" >&2)
    corpus="$out/corpus/$target"
    seed_corpus "$target" "$corpus"
    log_file="$out/$target.log"
    echo "fuzz: running $target for ${seconds}s"
    scratch=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo /tmp )/recoveryctl-fuzz-XXXXXX")
    set +e
    (cd "$out" && FUZZ_LOG_DIR="$scratch" "./$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -max_len=65536 \
        -print_final_stats=1 "corpus/$target") > "$log_file" 2>&1
    result=$?
    set -e
    rm -rf "$scratch"
    runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log_file" | grep -Eo '[0-9]+$' || echo 0)
    crashes=$( (ls "$out"/crash-* "$out"/timeout-* "$out"/oom-* 2>/dev/null || true) | wc -l)
    tail -n 3 "$log_file" | sed "s/^/  /"
    echo "fuzz: $target runs=$runs seconds=$seconds crashes=$crashes exit=$result"
    if [ $result -ne 0 ]; then
        status=1
        grep -E "ERROR|Fatal error|SUMMARY" "$log_file" | head -n 5
    fi
done
exit $status
