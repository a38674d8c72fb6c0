#!/usr/bin/env python3
"""The replay peer of BENCHMARKS.md: parse every line of a log's segments with orjson,
count events per type and sum training participants per unit. Much less than
`recoveryctl kpi` does (no chain, no corrections, no fold), on the same bytes.

    replay_orjson.py LOGDIR
"""
import glob
import os
import sys
from collections import Counter, defaultdict

import orjson


def main(log):
    types = Counter()
    participants = defaultdict(int)
    for path in sorted(glob.glob(os.path.join(log, "events-*.jsonl"))):
        with open(path, "rb") as f:
            for line in f:
                event = orjson.loads(line)
                kind = event["type"]
                types[kind] += 1
                if kind == "training.held":
                    for unit, n in event["data"]["participants"].items():
                        participants[unit] += n
    sys.stdout.buffer.write(orjson.dumps({"types": types, "participants": participants}, option=orjson.OPT_SORT_KEYS))
    sys.stdout.buffer.write(b"\n")


if __name__ == "__main__":
    main(sys.argv[1])
