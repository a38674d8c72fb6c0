#!/usr/bin/env python3
"""Turns the measurements of Benchmarks/run.sh into one table and BENCHMARKS.md.

    report.py RESULTS.jsonl BENCHMARKS.md JUDGED_SIZE

RESULTS.jsonl holds one object per measurement: name, size, median/min/max seconds,
runs, rssKB (peak resident memory of one more run). The targets are those of issue 6,
judged on the log JUDGED_SIZE names (1m; a larger one shows how the costs grow). Benchmarks/PROFILE.md (what the profiles showed) is copied
in after the table. run.json beside RESULTS.jsonl (written by run.sh) names the run's
commit, date and load average, so that the document can be written again later from the
same results with new notes.
"""
import datetime
import json
import os
import subprocess
import sys

ORDER = ["10k", "100k", "1m", "3m"]


def load(path):
    results = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                results[(r["name"], r["size"])] = r
    return results


def fmt_time(seconds):
    if seconds is None:
        return "–"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.3f} s"


def fmt_mb(kb):
    return "–" if kb is None else f"{kb / 1024:.0f} MB"


def machine():
    model, cores, memory = "unknown", os.cpu_count(), "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    # Whether our SHA-256 runs on the CPU's instructions here.
                    model += ", SHA extensions" if "sha_ni" in line.split() else ", no SHA extensions"
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    return model, cores, memory


def main(results_path, out_path, judged):
    results = load(results_path)
    sizes = [s for s in ORDER if any(k[1] == s for k in results)]
    names = []
    for (name, _size) in results:
        if name not in names:
            names.append(name)

    def median(name, size):
        r = results.get((name, size))
        return r["median"] if r else None

    def rss(name, size):
        r = results.get((name, size))
        return r["rssKB"] if r else None

    # The table of absolute times (median) and peak memory.
    header = "| measurement | " + " | ".join(f"{s} median" for s in sizes) + " | " + " | ".join(f"{s} peak" for s in sizes) + " |"
    lines = [header, "|" + "---|" * (1 + 2 * len(sizes))]
    for name in names:
        cells = [fmt_time(median(name, s)) for s in sizes] + [fmt_mb(rss(name, s)) for s in sizes]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)

    # Ratios, per size.
    def ratio(a, b, size):
        x, y = median(a, size), median(b, size)
        return None if x is None or y is None or y == 0 else x / y

    ratio_rows = [
        ("orjson peer ÷ kpi (cold)", "orjson peer", "kpi (cold)"),
        ("kpi (cold) ÷ wc -l", "kpi (cold)", "wc -l"),
        ("verify ÷ sha256sum", "verify", "sha256sum"),
        ("verify (portable SHA-256) ÷ sha256sum", "verify (portable SHA-256)", "sha256sum"),
        ("verify (checkpoint beside) ÷ sha256sum", "verify (checkpoint beside)", "sha256sum"),
        ("append ÷ sqlite3 insert", "append", "sqlite3 insert"),
        ("process start ÷ sqlite3 start", "process start", "sqlite3 start"),
        ("import ÷ python sqlite3 import", "import", "python sqlite3 import"),
        ("kpi (warm) ÷ kpi (cold)", "kpi (warm)", "kpi (cold)"),
        ("python json ÷ kpi (cold)", "python json", "kpi (cold)"),
        ("jq ÷ kpi (cold)", "jq", "kpi (cold)"),
    ]
    rlines = ["| ratio | " + " | ".join(sizes) + " |", "|" + "---|" * (1 + len(sizes))]
    for label, a, b in ratio_rows:
        cells = []
        for s in sizes:
            r = ratio(a, b, s)
            cells.append("–" if r is None else f"{r:.2f}×")
        rlines.append(f"| {label} | " + " | ".join(cells) + " |")
    # Cost per event, to show how each grows with the log.
    counts = {"10k": 1e4, "100k": 1e5, "1m": 1e6, "3m": 3e6}
    rlines.append("")
    rlines.append("| µs per event | " + " | ".join(sizes) + " |")
    rlines.append("|" + "---|" * (1 + len(sizes)))
    for name in ["kpi (cold)", "verify", "import", "orjson peer", "sha256sum"]:
        cells = []
        for s in sizes:
            m = median(name, s)
            cells.append("–" if m is None else f"{m / counts[s] * 1e6:.2f}")
        rlines.append(f"| {name} | " + " | ".join(cells) + " |")
    ratios = "\n".join(rlines)

    # The targets of issue 6, on the judged log (1m; run.sh passes it).
    L = judged
    mid = "100k" if "100k" in sizes else sizes[0]
    targets = []

    def target(text, value, ok, gap):
        if value is None:
            targets.append(f"- **not measured** — {text}")
        else:
            targets.append(f"- **{'met' if ok else 'not met'}** — {text}: {gap}")

    r = ratio("orjson peer", "kpi (cold)", L)
    target("replay (`kpi --json`, cold) at least 3× faster than the orjson peer", r, r is not None and r >= 3,
           f"{r:.2f}× faster" if r and r >= 1 else (f"{1 / r:.2f}× slower" if r else ""))
    r = ratio("kpi (cold)", "wc -l", L)
    target("replay within 10× of `wc -l` on the same bytes", r, r is not None and r <= 10, f"{r:.1f}× `wc -l`" if r else "")
    r = ratio("verify", "sha256sum", L)
    target("verify within 2× of `sha256sum` over the segments", r, r is not None and r <= 2, f"{r:.2f}× `sha256sum`" if r else "")
    r = ratio("append", "sqlite3 insert", L)
    target("one append at most 2.5× one `sqlite3` insert (WAL, synchronous=FULL)", r, r is not None and r <= 2.5, f"{r:.1f}× the insert" if r else "")
    a_small, a_large = median("append", sizes[0]), median("append", L)
    g = None if a_small is None or a_large is None else a_large / a_small
    target(f"one append not growing with the log ({sizes[0]} → {L})", g, g is not None and g <= 1.5, f"{g:.1f}× from {sizes[0]} to {L}" if g else "")
    r = ratio("import", "python sqlite3 import", L)
    target("import at least as fast as python3's sqlite3 in one transaction", r, r is not None and r <= 1, f"{r:.2f}× the peer's time" if r else "")
    r = ratio("kpi (warm)", "kpi (cold)", L)
    target("`kpi` at the head with a warm checkpoint under 10% of the cold replay", r, r is not None and r < 0.10, f"{r * 100:.1f}%" if r else "")
    for name in ["kpi (cold)", "verify"]:
        m_large, m_mid = rss(name, L), rss(name, mid)
        ok = m_large is not None and m_large < 100 * 1024 and m_mid is not None and m_large <= 1.5 * m_mid
        target(f"peak memory of {name} under 100 MB, flat from {mid} to {L}", m_large, ok,
               f"{fmt_mb(m_mid)} at {mid}, {fmt_mb(m_large)} at {L}")
    # Linear up to the judged log, and beyond it where a larger one was measured.
    larger = [s for s in sizes if counts[s] >= counts[L]]
    per = []
    for name in ["kpi (cold)", "verify", "import"]:
        for s in larger:
            a, b = median(name, mid), median(name, s)
            if a and b:
                per.append(f"{name} {'' if s == L else s + ' '}{b / a / (counts[s] / counts[mid]):.2f}")
    beyond = "".join(f" (and at {s})" for s in larger if s != L)
    target(f"every cost linear in the log's length (time per event at {L}{beyond} ÷ at {mid}; 1.00 is linear)", per or None,
           all(float(p.split()[-1]) <= 1.3 for p in per), ", ".join(per))

    model, cores, memory = machine()
    # The run's commit, date and load (run.sh writes them beside the results); without
    # them, those of now.
    run_path = os.path.join(os.path.dirname(os.path.abspath(results_path)), "run.json")
    run = json.load(open(run_path)) if os.path.exists(run_path) else {}
    try:
        commit = run.get("commit") or subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    # Runs per measurement: the usual count, and where another was taken.
    counts = [r.get("runs", 0) for r in results.values()]
    runs = max(set(counts), key=counts.count, default=0)
    sizes_by = {}
    for (name, size), r in results.items():
        if r.get("runs", 0) != runs:
            sizes_by.setdefault((r.get("runs", 0), name), []).append(size)
    all_sizes = {}
    for (name, size) in results:
        all_sizes.setdefault(name, []).append(size)
    others = "; ".join(f"{count} for {name}" + ("" if len(found) == len(all_sizes[name]) else f" at {', '.join(found)}")
                       for (count, name), found in sorted(sizes_by.items()))
    runs_text = f"{runs} runs" + (f" ({others})" if others else "")
    now = run.get("date") or datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        load_avg = run["load"].split() if "load" in run else open("/proc/loadavg").read().split()[:3]
    except OSError:
        load_avg = ["?"] * 3

    profile_path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "PROFILE.md")
    profile = open(profile_path).read().strip() if os.path.exists(profile_path) else ""

    doc = f"""# Benchmarks

Written by `Benchmarks/run.sh` (issue 6); do not edit by hand, edit `Benchmarks/PROFILE.md`
for the notes at the end. Every figure is the median of {runs_text} (hyperfine), wall
clock, process start to exit; peak memory is the maximum resident set size of one more
run (`/usr/bin/time -v`).

- machine: {model}, {cores} cores, {memory} memory; load average at the end {' '.join(load_avg)}
- date: {now}
- commit: {commit}
- logs: generated by `Benchmarks/Sources/generate-log` (seed in `run.sh`), written through the store

## Times and peak memory

{table}

## Ratios

{ratios}

## Targets (issue 6, on the {L} log)

{chr(10).join(targets)}

## What was measured

- **kpi (cold)**: `recoveryctl kpi --json` with no checkpoint beside the log (reads and
  hash-checks every line, folds every fact, computes the rows, writes the KPI checkpoint).
- **kpi (warm)**: the same command again, answered from the KPI checkpoint.
- **orjson peer**: `peers/replay_orjson.py`: parses every line with orjson, counts
  events per type and sums training participants per unit. **python json** and **jq**:
  the same with the standard library and with jq (jq only where it finishes in time).
- **wc -l**, **sha256sum**: over the same segment files.
- **verify**: `recoveryctl verify`: every line canonical, hashed, chained, ids unique,
  every attachment hashed. Every SHA-256 of ours runs on the CPU's SHA extensions where
  CPUID reports them (`recoveryctl --version` says so); **verify (portable SHA-256)** is
  the same with `RECOVERY_SHA256=portable`, what a CPU without them gets.
  **verify (checkpoint beside)**: `verify` of the append's copy of the log, with the
  `checkpoint.bin` an append leaves, which `verify` compares with a replay of the log (as
  on any log in use).
- **append**: one `recoveryctl append attendance.counted …` on a copy of the log (lock,
  tail check, checkpoint, validation, write, fsync). **sqlite3 insert**: one `sqlite3`
  command-line insert with `PRAGMA synchronous=FULL` into a WAL database holding the
  same events. **append (no checkpoint)**: the same with `checkpoint.bin` deleted first,
  so the append reads the whole log (what the first append after a copy or an upgrade does).
- **process start**: `recoveryctl --version`; **sqlite3 start**: `sqlite3 :memory: 'select 1'`.
  The floor under one append of each.
- **import**: `recoveryctl import` of the generator's JSON lines of the same events into
  a new log (every event validated against the catalog and the log, one batch, one
  fsync, texts stored as attachments). **python sqlite3 import**: `peers/import_sqlite.py`
  inserting the same lines in one transaction.
- **kpi --as-of middle**: `kpi --json --as-of` the recorded time of the middle event;
  **kpi --valid-at 2022-06-30**: a valid time in the middle of the generated years.

{profile}
"""
    with open(out_path, "w") as f:
        f.write(doc)
    print(table)
    print()
    print(ratios)
    print()
    print("\n".join(targets))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
