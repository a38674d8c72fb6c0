#!/usr/bin/env bash
# Rebuild log/, the shipped log of SPEC §8, from its readable source
# log-source/randers.jsonl (see log-source/README.md).
#
# The log's transaction time (`recorded`) is the time of this build; the valid
# time (`occurred`) of every event comes from the source file.
set -euo pipefail

cd "$(dirname "$0")/.."

export RECOVERY_ACTOR=shipped-log-builder
source_file=log-source/randers.jsonl
bin=.build/release/recoveryctl

# Static check of the source against the catalog, when python3 is at hand.
if command -v python3 >/dev/null 2>&1; then
    python3 log-source/check.py "$source_file"
else
    echo "build-shipped-log: python3 not found; skipping log-source/check.py" >&2
fi

# Remove the old log, but only if it is a recovery log.
if [ -e log ] || [ -L log ]; then
    if [ -d log ] && [ ! -L log ] && [ -f log/manifest.json ]; then
        rm -rf -- log
    else
        echo "build-shipped-log: log/ exists but is not a recovery log (no log/manifest.json); not removing it" >&2
        exit 1
    fi
fi

swift build -c release
"$bin" --log log init
"$bin" --log log import "$source_file" --actor build-shipped-log
"$bin" --log log verify
