#!/usr/bin/env bash
# The long run of the reliability tests (issue 7), whose figures RELIABILITY.md reports.
#
#   scripts/reliability-long.sh [FUZZ_SECONDS]      (default 300 per fuzz target)
#
# Runs every *ReliabilityTests test with the long sizes below (CI runs the short
# defaults), then both libFuzzer targets, and prints one line of figures per test.
# Override any size through the environment, e.g. RELIABILITY_ROUNDS=1000. The figures
# are also kept in .build-rel/reliability-figures.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_seconds=${1:-300}
export RELIABILITY_ROUNDS=${RELIABILITY_ROUNDS:-300}            # SIGKILL rounds of the append loop
export RELIABILITY_LARGE_ROUNDS=${RELIABILITY_LARGE_ROUNDS:-60}  # SIGKILL rounds during large writes
export RELIABILITY_CUTS=${RELIABILITY_CUTS:-1000}                # power-loss cuts and zeroed tails
export RELIABILITY_WRITERS=${RELIABILITY_WRITERS:-8}             # concurrent writer processes…
export RELIABILITY_APPENDS=${RELIABILITY_APPENDS:-500}           # …appending this many each
export RELIABILITY_MUTATIONS=${RELIABILITY_MUTATIONS:-100000}    # damaged segments read
figures=.build-rel/reliability-figures.jsonl
mkdir -p .build-rel
: > "$figures"
export RELIABILITY_FIGURES=$PWD/$figures

started=$(date +%s)
echo "reliability-long: building"
swift build --scratch-path .build-rel --build-tests 2>&1 | tail -n 1
echo "reliability-long: tests (rounds=$RELIABILITY_ROUNDS large=$RELIABILITY_LARGE_ROUNDS cuts=$RELIABILITY_CUTS" \
     "writers=${RELIABILITY_WRITERS}x$RELIABILITY_APPENDS mutations=$RELIABILITY_MUTATIONS)"
set +e
swift test --scratch-path .build-rel --skip-build --filter Reliability 2>&1 | tee .build-rel/reliability-long.log \
    | grep -E "^Test Case .*(passed|failed|skipped)|error:|Executed .* tests" | grep -v "^Test Case .* passed"
tests=${PIPESTATUS[0]}
set -e
grep -E "Executed [0-9]+ tests" .build-rel/reliability-long.log | tail -n 1

echo "reliability-long: fuzzing ${fuzz_seconds}s per target"
set +e
scripts/fuzz.sh "$fuzz_seconds" | tee .build-rel/reliability-fuzz.log | grep -E "^fuzz: .*runs="
fuzz=${PIPESTATUS[0]}
set -e
grep -E "^fuzz: .*runs=" .build-rel/reliability-fuzz.log | sed 's/^fuzz: \([^ ]*\) runs=\([0-9]*\) seconds=\([0-9]*\) crashes=\([0-9]*\).*/{"test":"fuzz.\1","runs":\2,"seconds":\3,"crashes":\4}/' >> "$figures"

echo "reliability-long: figures"
cat "$figures"
echo "reliability-long: $(( $(date +%s) - started )) s; tests exit $tests, fuzz exit $fuzz"
[ "$tests" -eq 0 ] && [ "$fuzz" -eq 0 ]
