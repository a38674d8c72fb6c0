#!/usr/bin/env python3
"""Check the hash chain of a recoveryctl log without recoveryctl.

    python3 scripts/verify_chain.py LOGDIR

An independent reading of the log format (README, "The log on disk"; SPEC section 2),
in the Python standard library only. For the segments events-NNNNNN.jsonl in order, for
each line: parse it as JSON, confirm the line is exactly its own canonical form (RFC 8785),
recompute the SHA-256 of the canonical JSON of the event without "hash" and compare it
with "hash", compare "prev" with the hash before it (64 zeros for the first), and "seq"
with the count of lines so far.

Prints "ok N SEQ:HASH" (N events, the last one's seq and hash) and exits 0, or prints
"FAIL seq S file F line L: reason" for the first bad line and exits 1. Usage errors exit 2.

Bytes after the last newline of the last segment are a torn tail (a write that never
finished): left out, as recoveryctl leaves them out, and mentioned on stderr.

What this script does not check (recoveryctl verify does): that ids are unique, that
"recorded" never decreases, the envelope's members and forms, and the attachments.
It does not read the batch journal in LOCK either: run it on a log no writer is writing
to, since the lines of a batch that a crash cut short are whole lines here but a torn
tail to recoveryctl until the next append moves them to quarantine/.
"""

import hashlib
import json
import os
import re
import sys

GENESIS = "0" * 64
MAX_SAFE_INTEGER = 2**53 - 1
SEGMENT = re.compile(r"^events-([0-9]{6,})\.jsonl$")


class Bad(Exception):
    """Why a line is not what the format says."""


def canonical(value):
    """The RFC 8785 (JCS) form of a parsed value, as text.

    For our events, json.dumps(obj, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False) gives the same text, but ONLY while every member name is ASCII
    and every number an integer: sort_keys orders names by code point where JCS orders
    them by UTF-16 code units (they differ for names mixing U+E000..U+FFFF with
    characters above U+FFFF), and JCS writes fractions in a form json.dumps does not.
    So this sorts by UTF-16 code units itself, and refuses anything but integers.
    json.dumps of a single string escapes exactly what JCS escapes: quote, backslash,
    \\b \\f \\n \\r \\t, and the other control characters as lower-case \\u00xx.
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        names = sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(json.dumps(name, ensure_ascii=False) + ":" + canonical(value[name]) for name in names) + "}"
    raise Bad("a %s has no canonical form in an event" % type(value).__name__)


def unique_members(pairs):
    """Builds an object, refusing a member name given twice (compared exactly, code point by code point)."""
    result = {}
    for name, value in pairs:
        if name in result:
            raise Bad('member "%s" appears twice' % name)
        result[name] = value
    return result


def integer(text):
    number = int(text)
    if abs(number) > MAX_SAFE_INTEGER:
        raise Bad("the integer %s is beyond +/-(2^53-1)" % text)
    return number


def refuse_fraction(text):
    raise Bad("the number %s is not an integer" % text)


def refuse_constant(text):
    raise Bad("%s is not JSON" % text)


def parse(line):
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Bad("not UTF-8 (%s)" % error.reason)
    try:
        value = json.loads(text, object_pairs_hook=unique_members, parse_int=integer,
                           parse_float=refuse_fraction, parse_constant=refuse_constant)
    except json.JSONDecodeError as error:
        raise Bad("not JSON (%s at column %d)" % (error.msg, error.colno))
    if not isinstance(value, dict):
        raise Bad("not a JSON object")
    return value


def utf8(text):
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        raise Bad("holds a lone surrogate, which has no UTF-8 form")


def check_line(line, seq, prev):
    """Checks one line against the event before it; returns its hash."""
    event = parse(line)
    if utf8(canonical(event)) != line:
        raise Bad("the line is not in canonical form (RFC 8785)")
    if type(event.get("seq")) is not int or event["seq"] != seq:
        raise Bad("seq is %r where %d was expected" % (event.get("seq"), seq))
    if event.get("prev") != prev:
        raise Bad("prev is %r, not the hash of seq %d (%s)" % (event.get("prev"), seq - 1, prev))
    claimed = event.pop("hash", None)
    if not isinstance(claimed, str):
        raise Bad('no "hash" member')
    computed = hashlib.sha256(utf8(canonical(event))).hexdigest()
    if computed != claimed:
        raise Bad("hash is %s but the event hashes to %s" % (claimed, computed))
    return claimed


def segments(directory):
    """The segment files in order, refusing a gap in their numbering.

    Sorted by number: that is name order while the numbers have six digits, and stays
    right after events-999999.jsonl.
    """
    found = sorted((int(m.group(1)), name) for name in os.listdir(directory) for m in [SEGMENT.match(name)] if m)
    for expected, (number, name) in enumerate(found, start=1):
        if number != expected:
            yield None, "events-%06d.jsonl" % expected
            return
        yield os.path.join(directory, name), name


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print("usage: verify_chain.py LOGDIR", file=sys.stderr)
        return 2
    directory = argv[1]
    if not os.path.isfile(os.path.join(directory, "manifest.json")):
        print("%s is not a log: it has no manifest.json" % directory, file=sys.stderr)
        return 2

    seq, prev = 0, GENESIS
    files = list(segments(directory))
    if not files:
        print("%s is not a log: it has no events-000001.jsonl" % directory, file=sys.stderr)
        return 2
    for index, (path, name) in enumerate(files):
        if path is None:
            print("FAIL seq %d file %s line 1: the segment is missing" % (seq + 1, name))
            return 1
        last = index == len(files) - 1
        with open(path, "rb") as segment:
            offset = 0
            for number, line in enumerate(segment, start=1):
                if not line.endswith(b"\n"):
                    if last:
                        print("torn tail: %d bytes at offset %d of %s, left out" % (len(line), offset, name), file=sys.stderr)
                        break
                    print("FAIL seq %d file %s line %d: the segment does not end with a newline, yet a later one exists"
                          % (seq + 1, name, number))
                    return 1
                try:
                    prev = check_line(line[:-1], seq + 1, prev)
                except Bad as error:
                    print("FAIL seq %d file %s line %d: %s" % (seq + 1, name, number, error))
                    return 1
                seq += 1
                offset += len(line)
    print("ok %d %d:%s" % (seq, seq, prev))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
