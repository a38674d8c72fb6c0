#!/usr/bin/env python3
"""A reference for the replay peer of BENCHMARKS.md (the standard library json): parse every line of a log's segments with the standard library json,
count events per type and sum training participants per unit. Much less than
`recoveryctl kpi` does (no chain, no corrections, no fold), on the same bytes.

    replay_json.py LOGDIR
"""
import glob
import os
import sys
from collections import Counter, defaultdict

import json


def main(log):
    types = Counter()
    participants = defaultdict(int)
    for path in sorted(glob.glob(os.path.join(log, "events-*.jsonl"))):
        with open(path, "rb") as f:
            for line in f:
                event = json.loads(line)
                kind = event["type"]
                types[kind] += 1
                if kind == "training.held":
                    for unit, n in event["data"]["participants"].items():
                        participants[unit] += n
    print(json.dumps({"types": types, "participants": participants}, sort_keys=True, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1])
