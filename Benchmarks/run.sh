#!/usr/bin/env bash
# Benchmarks of recoveryctl against the tools people would otherwise use (issue 6).
#
#     Benchmarks/run.sh [--with-3m] [--runs N] [--sizes "10k 100k 1m"] [--fresh] [--no-report]
#
# Builds both packages in release mode, generates synthetic logs of 10k, 100k and 1M
# events (3M with --with-3m) into bench-data/ (gitignored; kept between runs unless
# --fresh), measures every figure as the median of --runs runs (hyperfine) and the peak
# memory of each command (/usr/bin/time -v, "Maximum resident set size"), prints one
# table and writes BENCHMARKS.md. Installs hyperfine, jq and sqlite3 from Debian and
# orjson from PyPI when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

runs=5
sizes="10k 100k 1m"
fresh=0
report=1
while [ $# -gt 0 ]; do
    case "$1" in
        --with-3m) sizes="$sizes 3m" ;;
        --runs) runs=$2; shift ;;
        --sizes) sizes=$2; shift ;;
        --fresh) fresh=1 ;;
        --no-report) report=0 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

# --- tools ------------------------------------------------------------------
missing=()
for tool in hyperfine jq sqlite3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== installing ${missing[*]}" >&2
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python3 -c 'import orjson' 2>/dev/null || python3 -m pip install -q orjson
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

# --- build ------------------------------------------------------------------
# The commit measured (with "+changes" when the working tree differs from it).
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+changes"
echo "== building (release)" >&2
swift build -c release --scratch-path .build-bench/main >&2
(cd Benchmarks && swift build -c release --scratch-path ../.build-bench/generator >&2)
recoveryctl=$root/.build-bench/main/release/recoveryctl
generate=$root/.build-bench/generator/release/generate-log
peers=$root/Benchmarks/peers

data=$root/bench-data
mkdir -p "$data"
results=$data/results.jsonl
: > "$results"
rm -f "$data/run.json"
export RECOVERY_ACTOR=bench

count_of() { case "$1" in *k) echo $(( ${1%k} * 1000 )) ;; *m) echo $(( ${1%m} * 1000000 )) ;; *) echo "$1" ;; esac; }

# --- measuring --------------------------------------------------------------
# measure NAME SIZE COMMAND [PREPARE] [RUNS] [WARMUP]: hyperfine's median of RUNS
# (default $runs) runs, then the peak memory of one more run (after PREPARE) under
# /usr/bin/time -v.
measure() {
    local name=$1 size=$2 command=$3 prepare=${4:-} count=${5:-$runs} warmup=${6:-1}
    local json=$data/hf.json
    local args=(--runs "$count" --warmup "$warmup" --export-json "$json" --style none --shell=bash)
    [ -n "$prepare" ] && args+=(--prepare "$prepare")
    hyperfine "${args[@]}" "$command" >/dev/null
    [ -n "$prepare" ] && bash -c "$prepare"
    local rss
    /usr/bin/time -v -o "$data/time.txt" bash -c "$command" >/dev/null 2>&1 || true
    rss=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$data/time.txt")
    jq -c --arg name "$name" --arg size "$size" --argjson rss "${rss:-0}" \
        '.results[0] | {name: $name, size: $size, median: .median, min: .min, max: .max, runs: (.times | length), rssKB: $rss}' "$json" >> "$results"
    printf '  %-28s %-5s %9.4f s %8.1f MB\n' "$name" "$size" "$(jq '.results[0].median' "$json")" "$(echo "${rss:-0} / 1024" | bc -l)" >&2
}

# --- the logs ---------------------------------------------------------------
seed=20260601
for size in $sizes; do
    n=$(count_of "$size")
    dir=$data/log-$size
    if [ $fresh = 1 ] || [ ! -f "$dir/manifest.json" ] || [ ! -f "$data/import-$size.jsonl" ]; then
        rm -rf "$dir" "$data/import-$size.jsonl" "$data"/work-*-"$size"
        echo "== generating $size events (seed $seed)" >&2
        /usr/bin/time -f "   generated in %e s, peak %M KB" "$generate" "$dir" "$n" "$seed" --jsonl "$data/import-$size.jsonl" >&2
    fi
    rm -f "$dir/checkpoint.bin" "$dir/kpi-checkpoint.json"
done

# The generator's claim that every event is valid by the catalog: import its file of
# the 10k events into a fresh log through recoveryctl (which validates each one), and
# compare the KPIs of both logs.
first=${sizes%% *}
check=$data/work-check-$first
rm -rf "$check"; "$recoveryctl" --log "$check" init >/dev/null
"$recoveryctl" --log "$check" import "$data/import-$first.jsonl" >/dev/null
if ! cmp -s <("$recoveryctl" --log "$check" kpi --json | jq -c .rows) <("$recoveryctl" --log "$data/log-$first" kpi --json | jq -c .rows); then
    echo "run.sh: the imported $first log has other KPIs than the generated one; the generator is wrong" >&2
    exit 1
fi
"$recoveryctl" --log "$data/log-$first" verify >/dev/null
echo "== generator check: the $first events import cleanly and give the same KPIs" >&2

# The generator's claim that a seed decides the events: generate the first size again
# with the same seed. The events (ids, data, occurred) must come out byte for byte the
# same; only the store's `recorded` times, and so the hashes, differ between runs.
again=$data/work-again-$first
rm -rf "$again" "$again.jsonl" "$again.err"
"$generate" "$again" "$(count_of "$first")" "$seed" --jsonl "$again.jsonl" >/dev/null 2>"$again.err" \
    || { cat "$again.err" >&2; echo "run.sh: generating $first events again failed" >&2; exit 1; }
if ! cmp -s "$again.jsonl" "$data/import-$first.jsonl" \
    || ! cmp -s <("$recoveryctl" --log "$again" kpi --json | jq -c .rows) <("$recoveryctl" --log "$data/log-$first" kpi --json | jq -c .rows); then
    echo "run.sh: generating $first events twice with seed $seed gave different events; the generator is not deterministic" >&2
    exit 1
fi
rm -rf "$again" "$again.jsonl" "$again.err"
echo "== generator check: the same seed gives the same $first events" >&2

# --- 1. replay and 2. verify, per size --------------------------------------
for size in $sizes; do
    dir=$data/log-$size
    segments=$(ls "$dir"/events-*.jsonl | tr '\n' ' ')
    echo "== $size: replay and verify" >&2
    measure "kpi (cold)" "$size" "$recoveryctl --log $dir kpi --json >/dev/null" "rm -f $dir/kpi-checkpoint.json"
    # The warm-up run leaves the KPI checkpoint that the measured runs read.
    measure "kpi (warm)" "$size" "$recoveryctl --log $dir kpi --json >/dev/null"
    measure "orjson peer" "$size" "python3 $peers/replay_orjson.py $dir >/dev/null"
    measure "python json" "$size" "python3 $peers/replay_json.py $dir >/dev/null"
    # jq takes about 20 s a million events: one run on the large logs.
    if [ "$size" = 1m ] || [ "$size" = 3m ]; then
        measure "jq" "$size" "cat $segments | jq -n -c -f $peers/replay.jq >/dev/null" "" 1 0
    else
        measure "jq" "$size" "cat $segments | jq -n -c -f $peers/replay.jq >/dev/null"
    fi
    measure "wc -l" "$size" "wc -l $segments >/dev/null"
    measure "verify" "$size" "$recoveryctl --log $dir verify >/dev/null"
    # The same without the CPU's SHA instructions, for machines that lack them.
    measure "verify (portable SHA-256)" "$size" "RECOVERY_SHA256=portable $recoveryctl --log $dir verify >/dev/null"
    measure "sha256sum" "$size" "sha256sum $segments >/dev/null"
done

# --- 3. one append, and 4. import, per size ---------------------------------
imports=$data/work-imports
mkdir -p "$imports"
for size in $sizes; do
    dir=$data/log-$size
    work=$data/work-append-$size
    echo "== $size: append and import" >&2
    rm -rf "$work"; cp -r "$dir" "$work"
    unit=$(head -n 1 "$dir/events-000001.jsonl" | jq -r .data.unit)
    # The first append after a copy reads the whole log once and writes the checkpoint.
    "$recoveryctl" --log "$work" append attendance.counted offer=bench venue="$unit" period=2025-Q4 contacts=1 >/dev/null
    # One append and one insert take a few ms, most of it an fsync whose latency on this
    # shared disk jumps now and then: five runs let one jump move the median.
    quick_runs=$(( runs * 5 ))
    measure "append" "$size" "$recoveryctl --log $work append attendance.counted offer=bench venue=$unit period=2025-Q4 contacts=1 >/dev/null" "" "$quick_runs"
    # What an auditor's verify meets on a log in use: the checkpoint an append leaves,
    # which verify compares with a replay of the log.
    measure "verify (checkpoint beside)" "$size" "$recoveryctl --log $work verify >/dev/null"
    # Without the validation checkpoint (deleted, or never written): the append reads the whole log.
    measure "append (no checkpoint)" "$size" "$recoveryctl --log $work append attendance.counted offer=bench venue=$unit period=2025-Q4 contacts=1 >/dev/null" \
        "rm -f $work/checkpoint.bin" "$(( runs < 3 ? runs : 3 ))" 0

    db=$data/work-sqlite-$size.db
    rm -f "$db" "$db"-wal "$db"-shm
    python3 "$peers/import_sqlite.py" "$db" "$data/import-$size.jsonl" >/dev/null
    sqlite3 "$db" 'PRAGMA journal_mode=WAL;' >/dev/null
    sql=$data/work-insert-$size.sql
    printf '%s\n' "PRAGMA synchronous=FULL;" \
        "INSERT INTO events(id, type, occurred, data) VALUES (lower(hex(randomblob(16))), 'attendance.counted', '2025-12-31', '{\"contacts\":1,\"offer\":\"bench\",\"period\":\"2025-Q4\",\"venue\":\"$unit\"}');" > "$sql"
    measure "sqlite3 insert" "$size" "sqlite3 $db < $sql >/dev/null" "" "$quick_runs"

    # Each import goes into a new log directory (`$imp` points to it); they are all deleted
    # at the end. Deleting the last one just before would slow this one down: on an ext4
    # without a journal (this machine's) a new inode skips those freed in the last minutes,
    # and an import creates a file per text (PROFILE.md, finding 21).
    imp=$imports/current
    # Imports of the large logs take long: at most 3 runs, no warm-up.
    import_runs=$(( runs < 3 ? runs : 3 ))
    measure "import" "$size" "$recoveryctl --log $imp import $data/import-$size.jsonl >/dev/null" \
        "rm -f $imp && ln -s \$(mktemp -d $imports/$size.XXXXXX) $imp && $recoveryctl --log $imp init >/dev/null" "$import_runs" 0
    measure "python sqlite3 import" "$size" "python3 $peers/import_sqlite.py $db.import $data/import-$size.jsonl >/dev/null" \
        "rm -f $db.import $db.import-wal $db.import-shm" "$import_runs" 0
    rm -rf "$work" "$db.import" "$db.import-wal" "$db.import-shm"
done

# --- 5. time travel on the 1M log --------------------------------------------
# The targets are the issue's, on the 1M log; 3M (--with-3m) shows how the costs grow
# beyond it. Without 1m among the sizes, the largest stands in.
judged=${sizes##* }
case " $sizes " in *" 1m "*) judged=1m ;; esac
dir=$data/log-$judged
middle=$(( $(count_of "$judged") / 2 ))
asof=$(cat "$dir"/events-*.jsonl | sed -n "${middle}p" | jq -r .recorded)
echo "== $judged: time travel (--as-of $asof, the recorded time of seq $middle)" >&2
measure "kpi --as-of middle" "$judged" "$recoveryctl --log $dir kpi --json --as-of $asof >/dev/null"
measure "kpi --valid-at 2022-06-30" "$judged" "$recoveryctl --log $dir kpi --json --valid-at 2022-06-30 >/dev/null"

# What starting the process costs, the floor under one append: ours (the Swift runtime
# linked into the release binary, no Foundation) and sqlite3's.
measure "process start" "$judged" "$recoveryctl --version >/dev/null" "" "$(( runs * 5 ))"
measure "sqlite3 start" "$judged" "sqlite3 :memory: 'select 1' >/dev/null" "" "$(( runs * 5 ))"

# The imported logs, deleted once nothing is measured any more (see the imports above).
rm -rf "$imports"

# What the table's header says of this run, so that the table can be written again
# from these results later (report.py), with new notes, and still name this run.
printf '{"commit":"%s","date":"%s","load":"%s"}\n' "$commit" "$(date -u '+%Y-%m-%d %H:%M UTC')" \
    "$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo '? ? ?')" > "$data/run.json"

# --- the table --------------------------------------------------------------
if [ $report = 1 ]; then
    python3 "$root/Benchmarks/report.py" "$results" "$root/BENCHMARKS.md" "$judged"
fi
