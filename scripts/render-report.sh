#!/usr/bin/env bash
# Render the shipped log's evaluation report (SPEC §7) to a picture a person can
# look at: docs/report.html, and docs/report.png taken by headless Chromium from
# Debian's packages (installed when missing and we are root).
#
#   scripts/render-report.sh                      # Danish, valid at 2022-09-30
#   scripts/render-report.sh --lang en            # any `report` option but --out;
#                                                 # later ones win
#
# Environment:
#   RECOVERYCTL    a built recoveryctl to use (default: swift build -c release)
#   REPORT_LOG     the log to read (default: log/ if it holds a log, else one
#                  built in a temporary directory from log-source/randers.jsonl)
#   REPORT_WINDOW  the browser window, WIDTH,HEIGHT in pixels (default: 1200,3000);
#                  the picture is the top of the page that fits in it
#   SOURCE_DATE_EPOCH  stamps the report with that time instead of now
#
# The valid time defaults to 30 September 2022, the end of the project period and
# of its final evaluation, so the picture does not change with the calendar.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$(pwd)
out_dir=docs
window=${REPORT_WINDOW:-1200,3000}

scratch=$(mktemp -d)
trap 'rm -rf -- "$scratch"' EXIT

# The tool.
bin=${RECOVERYCTL:-}
if [ -z "$bin" ]; then
    swift build -c release --product recoveryctl >&2
    bin="$(swift build -c release --show-bin-path)/recoveryctl"
fi

# The log: the shipped one, or one built from its readable source.
log=${REPORT_LOG:-}
if [ -z "$log" ]; then
    if [ -f log/manifest.json ]; then
        log=log
    else
        log="$scratch/log"
        RECOVERY_ACTOR=render-report "$bin" --log "$log" init >&2
        RECOVERY_ACTOR=render-report "$bin" --log "$log" import log-source/randers.jsonl >&2
    fi
fi

# The browser.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        echo "render-report: installing chromium from Debian's packages" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
    else
        echo "render-report: chromium is not installed; run: sudo apt-get install chromium" >&2
        exit 1
    fi
fi

mkdir -p "$out_dir"
rm -f "$out_dir/report.png"
"$bin" --log "$log" report --format html --lang da --valid-at 2022-09-30 "$@" -o "$out_dir/report.html" >&2

# Chromium writes a PNG of the window; it talks to D-Bus and the GPU on stderr,
# which is shown only when the screenshot fails.
if ! chromium --headless --no-sandbox --disable-gpu --hide-scrollbars \
        --screenshot="$root/$out_dir/report.png" --window-size="$window" \
        "file://$root/$out_dir/report.html" >"$scratch/chromium.log" 2>&1 \
        || [ ! -s "$out_dir/report.png" ]; then
    cat "$scratch/chromium.log" >&2
    echo "render-report: chromium did not write $out_dir/report.png" >&2
    exit 1
fi
echo "Wrote $out_dir/report.html and $out_dir/report.png ($(wc -c <"$out_dir/report.png") bytes)"
