#!/usr/bin/env python3
"""The import peer of BENCHMARKS.md: python3's sqlite3 inserting the lines of an import
file (`{"data","id","occurred","type"}` per line) into a table, in one transaction, in a
WAL database with synchronous=FULL. It parses each line to split out its columns, and
checks nothing else: no catalog, no references, no hash chain.

    import_sqlite.py DB FILE
"""
import json
import sqlite3
import sys


def main(db_path, file_path):
    db = sqlite3.connect(db_path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("""CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL,
        occurred TEXT NOT NULL, data TEXT NOT NULL)""")

    def rows():
        with open(file_path, "rb") as f:
            for line in f:
                event = json.loads(line)
                yield (event["id"], event["type"], event["occurred"], json.dumps(event["data"], separators=(",", ":"), sort_keys=True))

    db.execute("BEGIN")
    db.executemany("INSERT INTO events(id, type, occurred, data) VALUES (?, ?, ?, ?)", rows())
    db.execute("COMMIT")
    print(db.execute("SELECT count(*) FROM events").fetchone()[0])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
