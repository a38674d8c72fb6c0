#!/usr/bin/env python3
"""Static check of log-source/randers.jsonl against the catalog of SPEC section 3.

Usage: python3 log-source/check.py [FILE]   (default: randers.jsonl next to this script)

Checks what can be checked without the store: the JSON-lines import shape of
SPEC section 6, known types, required and optional data members (no unknown
members), slugs, periods, enums, integer ranges, that every unit, team, body,
person and stream an event names was created by an earlier line (and not later
in valid time), that `occurred` never goes backwards, no CPR-like numbers, no
e-mail addresses, none of the personal names that occur in the seeds, and that
the Tabel 4 rows add up (2018-H2 = 711, 2019-H1 = 670; 2018-H1 with the
unsplit remainder = Tabel 3's 569). Exit 0 when clean, 1 with one line per
problem otherwise. Python 3 standard library only.
"""
import datetime
import hashlib
import json
import os
import re
import sys

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
PERIOD = re.compile(r"^(\d{4})(-H[12]|-Q[1-4])?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
CPR = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})[- ]?(\d)(\d{3})(?!\d)")
MAX_INT = 2**53 - 1

# SHA-256 prefixes of the lower-cased personal names (officials, speakers, cited
# authors) that occur in shared/seeds/. Stored as hashes so that this file does
# not itself carry the names.
NAME_HASHES = {
    "908633ac9e50b22d", "b41fdd430ede7b9c", "ccb1ef5715f0cf9e",
    "3f5f8b021a767bdb", "c21a2dd112b6352e", "54b3cc365051676b",
    "6bea0147015afcbe", "62483c0ee800d951", "2ce2c277148ffa4b",
}

KPIS = {
    "peers.employed": "team", "professionals.employed": "team",
    "units.with-peer": "project", "training.participants": "unit",
    "training.held": "training-kind", "meetings.held": "body",
    "handovers.started": "pair", "handovers.completed": "pair",
    "handovers.open": "pair", "handovers.with-peer": "pair",
    "handovers.median-days": "pair", "attendance.contacts": "offer-or-venue",
    "milestones.reached": "project",
}
TEAM_KINDS = {"peer-team", "shared-post", "school-boost", "working-group", "peer-staff", "project-management"}
ROLES = {"peer", "professional", "project-leader"}
TRAINING_KINDS = {"theme-day", "course", "joint-competence-development", "peer-education"}
OUTCOMES = {"accepted", "declined", "redirected"}
BODY_KINDS = {"steering-group", "implementation-team", "local-implementation-team", "leaders-meeting",
              "political-committee", "dialogue-forum", "network", "advisory-board"}
CADENCES = {"quarterly", "half-yearly", "yearly", "4-per-year", "as-needed"}

# type -> (required members, optional members, stream kind, key member)
CATALOG = {
    "unit.registered": ({"unit", "name"}, {"headcount", "parent"}, "unit", "unit"),
    "unit.updated": ({"unit"}, {"name", "headcount", "parent"}, "unit", "unit"),
    "team.established": ({"team", "name", "kind", "units"}, {"plan"}, "team", "team"),
    "team.closed": ({"team"}, {"reason"}, "team", "team"),
    "staff.hired": ({"person", "role", "team"}, {"hoursPerWeek"}, "person", "person"),
    "staff.left": ({"person"}, {"reason"}, "person", "person"),
    "training.held": ({"training", "title", "kind", "participants"}, {"provider", "teachers", "hours"}, "training", "training"),
    "handover.started": ({"case", "from", "to"}, {"peer", "ageBand"}, "handover", "case"),
    "handover.completed": ({"case"}, {"outcome"}, "handover", "case"),
    "handover.cancelled": ({"case"}, {"reason"}, "handover", "case"),
    "body.established": ({"body", "name", "kind"}, {"cadence"}, "body", "body"),
    "meeting.held": ({"meeting", "body"}, {"attendees", "agenda"}, "meeting", "meeting"),
    "minutes.recorded": ({"meeting", "text"}, {"decisions", "seal"}, "meeting", "meeting"),
    "evaluation.milestone": ({"milestone", "title"}, {"by", "findings"}, "evaluation", "milestone"),
    "target.set": ({"kpi", "scope", "value"}, {"period"}, "target", None),
    "attendance.counted": ({"offer", "venue", "period", "contacts"}, {"citizens"}, "attendance", None),
    "note.recorded": ({"about", "text"}, set(), None, None),
    "event.corrected": ({"target", "reason"}, {"changes", "occurred"}, None, None),
    "event.retracted": ({"target", "reason"}, set(), None, None),
    "text.erased": ({"ref", "reason"}, set(), "text", "ref"),
    "log.tail-quarantined": ({"file", "offset", "bytes", "quarantine"}, set(), "log", "file"),
}
TOP_REQUIRED = {"type", "data"}
TOP_ALLOWED = {"type", "data", "occurred", "id", "source"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool) and -MAX_INT <= v <= MAX_INT


def valid_cpr_date(dd, mm, yy, d7):
    day, month, yy = int(dd), int(mm), int(yy)
    if d7 <= 3:
        century = 1900
    elif d7 in (4, 9):
        century = 2000 if yy <= 36 else 1900
    else:  # 5-8
        century = 2000 if yy <= 57 else 1800
    try:
        datetime.date(century + yy, month, day)
        return True
    except ValueError:
        return False


def cpr_like(s):
    for m in CPR.finditer(s):
        if valid_cpr_date(m.group(1), m.group(2), m.group(3), int(m.group(4))):
            return m.group(0)
    return None


def has_name(s):
    for word in re.findall(r"[^\W\d_]+", s.lower()):
        if hashlib.sha256(word.encode("utf-8")).hexdigest()[:16] in NAME_HASHES:
            return word
    return None


def strings_in(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, list):
        for x in v:
            yield from strings_in(x)
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings_in(x)


def numbers_ok(v):
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return True
    if isinstance(v, float):
        return False
    if isinstance(v, int):
        return is_int(v)
    if isinstance(v, list):
        return all(numbers_ok(x) for x in v)
    if isinstance(v, dict):
        return all(numbers_ok(x) for x in v.values())
    return False


def no_duplicates(pairs):
    seen = set()
    for k, _ in pairs:
        if k in seen:
            raise ValueError(f"duplicate member {k!r}")
        seen.add(k)
    return dict(pairs)


class Checker:
    def __init__(self):
        self.problems = []
        self.units, self.teams, self.bodies, self.trainings = {}, {}, {}, {}
        self.meetings, self.milestones, self.cases = {}, {}, {}
        self.employed = {}          # person -> occurred of the hire
        self.persons_ever = set()
        self.streams = {}           # stream -> occurred of its first event
        self.last_occurred = None
        self.attendance = {}        # (venue, period) -> sum of contacts
        self.counts = {}

    def bad(self, n, msg):
        self.problems.append(f"line {n}: {msg}")

    def need(self, n, registry, kind, key, occurred):
        if not isinstance(key, str) or key not in registry:
            self.bad(n, f"{kind} {key!r} does not exist on an earlier line")
        elif registry[key] > occurred:
            self.bad(n, f"{kind} {key!r} exists only from {registry[key]}, after this event's occurred {occurred}")

    def slug(self, n, member, v):
        if not isinstance(v, str) or not SLUG.match(v):
            self.bad(n, f"data.{member} {v!r} is not a slug ^[a-z0-9][a-z0-9-]{{0,63}}$")
            return False
        return True

    def text(self, n, member, v):
        if not isinstance(v, str) or not v.strip():
            self.bad(n, f"data.{member} must be a non-empty string")

    def enum(self, n, member, v, allowed):
        if v not in allowed:
            self.bad(n, f"data.{member} {v!r} is not one of {sorted(allowed)}")

    def nonneg(self, n, member, v):
        if not is_int(v) or v < 0:
            self.bad(n, f"data.{member} must be an integer >= 0, got {v!r}")

    def period(self, n, member, v):
        if not isinstance(v, str) or not PERIOD.match(v):
            self.bad(n, f"data.{member} {v!r} is not a period YYYY, YYYY-H1|H2 or YYYY-Q1..Q4")

    def line(self, n, raw):
        if raw.strip() == "" or raw.lstrip().startswith("#"):
            self.bad(n, "blank lines and comment lines are not allowed in JSON lines import")
            return
        if len(raw.encode("utf-8")) > 1 << 20:
            self.bad(n, "line longer than 1 MiB")
        try:
            ev = json.loads(raw, object_pairs_hook=no_duplicates)
        except ValueError as err:
            self.bad(n, f"not JSON: {err}")
            return
        if not isinstance(ev, dict):
            self.bad(n, "not a JSON object")
            return
        for k in TOP_REQUIRED - ev.keys():
            self.bad(n, f"missing member {k!r}")
        for k in ev.keys() - TOP_ALLOWED:
            self.bad(n, f"unknown top-level member {k!r}")
        if "id" in ev:
            self.bad(n, "the shipped source sets no ids (the store chooses them)")
        source = ev.get("source")
        if not isinstance(source, str) or not source.strip():
            self.bad(n, "every event of the shipped log needs a non-empty source naming document and section")
        elif not re.match(r"^00[0-4]_[0-9a-f]{16}\.txt, ", source):
            self.bad(n, f"source must start with a seed file name and a comma: {source[:40]!r}")
        occurred = ev.get("occurred")
        if not isinstance(occurred, str) or not DATE.match(occurred):
            self.bad(n, f"occurred {occurred!r} is not YYYY-MM-DD")
            occurred = self.last_occurred or "0000-00-00"
        else:
            try:
                datetime.date.fromisoformat(occurred)
            except ValueError:
                self.bad(n, f"occurred {occurred!r} is not a calendar date")
            if self.last_occurred and occurred < self.last_occurred:
                self.bad(n, f"occurred {occurred} goes back before {self.last_occurred}: keep the file chronological")
            self.last_occurred = occurred
        for s in strings_in(ev):
            hit = cpr_like(s)
            if hit:
                self.bad(n, f"CPR-like number {hit!r}")
            if EMAIL.search(s):
                self.bad(n, "e-mail address")
            word = has_name(s)
            if word:
                self.bad(n, "a personal name from the seeds")
            if any(ord(c) < 0x20 for c in s):
                self.bad(n, "control character in a string")
        if not numbers_ok(ev):
            self.bad(n, "numbers must be integers within +-(2^53-1)")
        t, data = ev.get("type"), ev.get("data")
        if t not in CATALOG:
            self.bad(n, f"unknown type {t!r}")
            return
        if not isinstance(data, dict):
            self.bad(n, "data must be an object")
            return
        req, opt, _, _ = CATALOG[t]
        for k in sorted(req - data.keys()):
            self.bad(n, f"{t}: missing data.{k}")
        for k in sorted(data.keys() - req - opt):
            self.bad(n, f"{t}: unknown member data.{k}")
        for k in data:
            if not k.isascii():
                self.bad(n, f"member name {k!r} is not ASCII")
        self.counts[t] = self.counts.get(t, 0) + 1
        getattr(self, "t_" + t.replace(".", "_").replace("-", "_"))(n, occurred, data)

    # --- one method per type -------------------------------------------------
    def created(self, n, registry, kind, key, occurred, stream_kind):
        if key in registry:
            self.bad(n, f"{kind} {key!r} exists already")
        registry[key] = occurred
        self.streams.setdefault(f"{stream_kind}/{key}", occurred)

    def t_unit_registered(self, n, occ, d):
        if self.slug(n, "unit", d.get("unit")):
            if "parent" in d:
                self.need(n, self.units, "unit", d["parent"], occ)
            self.created(n, self.units, "unit", d["unit"], occ, "unit")
        self.text(n, "name", d.get("name"))
        if "headcount" in d:
            self.nonneg(n, "headcount", d["headcount"])

    def t_unit_updated(self, n, occ, d):
        self.need(n, self.units, "unit", d.get("unit"), occ)
        if not ({"name", "headcount", "parent"} & d.keys()):
            self.bad(n, "unit.updated changes nothing")
        if "name" in d:
            self.text(n, "name", d["name"])
        if "headcount" in d:
            self.nonneg(n, "headcount", d["headcount"])
        if "parent" in d:
            self.need(n, self.units, "unit", d["parent"], occ)

    def t_team_established(self, n, occ, d):
        self.text(n, "name", d.get("name"))
        self.enum(n, "kind", d.get("kind"), TEAM_KINDS)
        units = d.get("units")
        if not isinstance(units, list) or not units:
            self.bad(n, "data.units must be a non-empty list of units")
        else:
            if len(set(map(str, units))) != len(units):
                self.bad(n, "data.units lists a unit twice")
            for u in units:
                self.need(n, self.units, "unit", u, occ)
        if "plan" in d:
            p = d["plan"]
            if not isinstance(p, dict) or set(p) != {"peers", "professionals"}:
                self.bad(n, "data.plan must be {peers: int, professionals: int}")
            else:
                self.nonneg(n, "plan.peers", p["peers"])
                self.nonneg(n, "plan.professionals", p["professionals"])
        if self.slug(n, "team", d.get("team")):
            self.created(n, self.teams, "team", d["team"], occ, "team")

    def t_team_closed(self, n, occ, d):
        self.need(n, self.teams, "team", d.get("team"), occ)

    def t_staff_hired(self, n, occ, d):
        if self.slug(n, "person", d.get("person")):
            if d["person"] in self.employed:
                self.bad(n, f"person {d['person']!r} is employed already")
            self.employed[d["person"]] = occ
            self.persons_ever.add(d["person"])
            self.streams.setdefault(f"person/{d['person']}", occ)
        self.enum(n, "role", d.get("role"), ROLES)
        self.need(n, self.teams, "team", d.get("team"), occ)
        if "hoursPerWeek" in d and not is_int(d["hoursPerWeek"]):
            self.bad(n, "data.hoursPerWeek must be an integer")

    def t_staff_left(self, n, occ, d):
        p = d.get("person")
        if p not in self.employed:
            self.bad(n, f"staff.left for {p!r}, who is not employed")
        else:
            del self.employed[p]

    def t_training_held(self, n, occ, d):
        self.text(n, "title", d.get("title"))
        self.enum(n, "kind", d.get("kind"), TRAINING_KINDS)
        parts = d.get("participants")
        if not isinstance(parts, dict) or not parts:
            self.bad(n, "data.participants must be an object unit -> int with at least one unit")
        else:
            for u, c in parts.items():
                self.need(n, self.units, "unit", u, occ)
                self.nonneg(n, f"participants.{u}", c)
        self.need(n, self.units, "unit", d.get("provider", "recoveryskolen"), occ)
        if "teachers" in d:
            tt = d["teachers"]
            if not isinstance(tt, dict) or set(tt) != {"professionals", "peers"}:
                self.bad(n, "data.teachers must be {professionals: int, peers: int}")
            else:
                self.nonneg(n, "teachers.professionals", tt["professionals"])
                self.nonneg(n, "teachers.peers", tt["peers"])
        if "hours" in d:
            self.nonneg(n, "hours", d["hours"])
        if self.slug(n, "training", d.get("training")):
            self.created(n, self.trainings, "training", d["training"], occ, "training")

    def t_handover_started(self, n, occ, d):
        self.need(n, self.units, "unit", d.get("from"), occ)
        self.need(n, self.units, "unit", d.get("to"), occ)
        if "peer" in d and d["peer"] not in self.employed:
            self.bad(n, f"peer {d['peer']!r} is not employed")
        if "ageBand" in d and not re.match(r"^\d{1,3}-\d{1,3}$", str(d["ageBand"])):
            self.bad(n, "data.ageBand must look like 18-23")
        if self.slug(n, "case", d.get("case")):
            self.created(n, self.cases, "case", d["case"], occ, "handover")

    def t_handover_completed(self, n, occ, d):
        self.need(n, self.cases, "case", d.get("case"), occ)
        if "outcome" in d:
            self.enum(n, "outcome", d["outcome"], OUTCOMES)
        self.cases.pop(d.get("case"), None)

    def t_handover_cancelled(self, n, occ, d):
        self.need(n, self.cases, "case", d.get("case"), occ)
        self.cases.pop(d.get("case"), None)

    def t_body_established(self, n, occ, d):
        self.text(n, "name", d.get("name"))
        self.enum(n, "kind", d.get("kind"), BODY_KINDS)
        if "cadence" in d:
            self.enum(n, "cadence", d["cadence"], CADENCES)
        if self.slug(n, "body", d.get("body")):
            self.created(n, self.bodies, "body", d["body"], occ, "body")

    def t_meeting_held(self, n, occ, d):
        self.need(n, self.bodies, "body", d.get("body"), occ)
        if "attendees" in d:
            self.nonneg(n, "attendees", d["attendees"])
        if "agenda" in d and not (isinstance(d["agenda"], list) and all(isinstance(x, str) for x in d["agenda"])):
            self.bad(n, "data.agenda must be a list of strings")
        if self.slug(n, "meeting", d.get("meeting")):
            self.created(n, self.meetings, "meeting", d["meeting"], occ, "meeting")

    def t_minutes_recorded(self, n, occ, d):
        self.need(n, self.meetings, "meeting", d.get("meeting"), occ)
        self.text(n, "text", d.get("text"))
        if "decisions" in d and not (isinstance(d["decisions"], list) and all(isinstance(x, str) for x in d["decisions"])):
            self.bad(n, "data.decisions must be a list of strings")
        if "seal" in d and not re.match(r"^\d+:[0-9a-f]{64}$", str(d["seal"])):
            self.bad(n, "data.seal must be SEQ:HASH")

    def t_evaluation_milestone(self, n, occ, d):
        self.text(n, "title", d.get("title"))
        if "by" in d:
            self.text(n, "by", d["by"])
        if "findings" in d and not (isinstance(d["findings"], list) and all(isinstance(x, str) and x for x in d["findings"])):
            self.bad(n, "data.findings must be a list of strings")
        if self.slug(n, "milestone", d.get("milestone")):
            self.created(n, self.milestones, "milestone", d["milestone"], occ, "evaluation")

    def t_target_set(self, n, occ, d):
        kpi, scope = d.get("kpi"), d.get("scope")
        if kpi not in KPIS:
            self.bad(n, f"unknown kpi {kpi!r}")
        else:
            want = KPIS[kpi]
            if want == "team":
                self.need(n, self.teams, "team", scope, occ)
            elif want == "unit":
                self.need(n, self.units, "unit", scope, occ)
            elif want == "body":
                self.need(n, self.bodies, "body", scope, occ)
            elif want == "project" and scope != "project":
                self.bad(n, f"kpi {kpi} has scope 'project'")
            elif want == "training-kind":
                self.enum(n, "scope", scope, TRAINING_KINDS)
            elif want == "pair":
                parts = str(scope).split("->")
                if len(parts) != 2:
                    self.bad(n, "handover scope must be FROM->TO")
                else:
                    for u in parts:
                        self.need(n, self.units, "unit", u, occ)
            else:
                self.slug(n, "scope", scope)
        if not is_int(d.get("value")):
            self.bad(n, "data.value must be an integer")
        if "period" in d:
            self.period(n, "period", d["period"])
        self.streams.setdefault(f"target/{kpi}/{scope}", occ)

    def t_attendance_counted(self, n, occ, d):
        self.slug(n, "offer", d.get("offer"))
        self.need(n, self.units, "unit", d.get("venue"), occ)
        self.period(n, "period", d.get("period"))
        self.nonneg(n, "contacts", d.get("contacts"))
        if "citizens" in d:
            self.nonneg(n, "citizens", d["citizens"])
        key = (d.get("venue"), d.get("period"))
        if is_int(d.get("contacts")):
            self.attendance[key] = self.attendance.get(key, 0) + d["contacts"]
        self.streams.setdefault(f"attendance/{d.get('venue')}/{d.get('offer')}", occ)

    def t_note_recorded(self, n, occ, d):
        about = d.get("about")
        if about not in self.streams:
            self.bad(n, f"note about {about!r}, a stream with no earlier event")
        elif self.streams[about] > occ:
            self.bad(n, f"note about {about!r} before that stream begins ({self.streams[about]})")
        self.text(n, "text", d.get("text"))

    def t_event_corrected(self, n, occ, d):
        self.bad(n, "corrections need event ids; the shipped source sets none")

    def t_event_retracted(self, n, occ, d):
        self.bad(n, "retractions need event ids; the shipped source sets none")

    def t_text_erased(self, n, occ, d):
        self.bad(n, "text.erased is written by 'recoveryctl erase', not imported")

    def t_log_tail_quarantined(self, n, occ, d):
        self.bad(n, "log.tail-quarantined is written by the store only")

    # --- the figures of Tabel 3 and 4 -----------------------------------------
    def finish(self):
        expect = {("psykiatriens-hus", "2018-H1"): 569,   # Tabel 3 (Tabel 4 splits only 70 of it)
                  ("psykiatriens-hus", "2018-H2"): 711,   # Tabel 3 and Tabel 4 "I alt"
                  ("psykiatriens-hus", "2019-H1"): 670}
        for key, total in expect.items():
            got = self.attendance.get(key, 0)
            if got != total:
                self.problems.append(f"attendance {key[0]} {key[1]}: rows add up to {got}, the document says {total}")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "randers.jsonl")
    with open(path, "rb") as f:
        blob = f.read()
    try:
        text = blob.decode("utf-8")
    except UnicodeDecodeError as err:
        print(f"{path}: not UTF-8: {err}")
        return 1
    if text and not text.endswith("\n"):
        print(f"{path}: the last line has no newline")
        return 1
    c = Checker()
    for n, raw in enumerate(text.split("\n")[:-1], start=1):
        c.line(n, raw)
    c.finish()
    for p in c.problems:
        print(f"{path}: {p}")
    if c.problems:
        print(f"{len(c.problems)} problem(s)")
        return 1
    total = sum(c.counts.values())
    print(f"{path}: {total} events, OK")
    for t in sorted(c.counts):
        print(f"  {c.counts[t]:3d}  {t}")
    for key in sorted(c.attendance):
        print(f"  attendance {key[0]} {key[1]}: {c.attendance[key]} contacts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
