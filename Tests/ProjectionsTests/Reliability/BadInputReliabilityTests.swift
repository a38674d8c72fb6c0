import EventStore
import Foundation
import XCTest

/// Bad input through the built binary (issue 7): every case is refused with exit 1 and a
/// message that names the place (the member, the option, or FILE:LINE of an import), and
/// the log's files are byte for byte what they were, attachments included. Then the
/// directories that are not a log, or not one this build can read.
///
/// Where a format allows a byte order mark or CRLF, that is decided per format: an import
/// file may start with a BOM and end its lines with CRLF (what spreadsheet programs
/// write); a BOM anywhere else is refused. `--data` is one JSON text: a BOM before it is
/// refused (RFC 8259 §8.1 lets a parser refuse it), while CR and LF between tokens are
/// JSON white space and vanish in the canonical line.
final class BadInputReliabilityTests: XCTestCase {
    private var log: CLILog!

    override func setUpWithError() throws {
        try super.setUpWithError()
        log = try CLILog(in: makeTemporaryDirectory(prefix: "reliability-input"))
        log.must(["append", "unit.registered", "unit=u1", "name=Unit one"])
        log.must(["append", "body.established", "body=board", "name=Board", "kind=steering-group"])
        log.must(["append", "meeting.held", "meeting=m1", "body=board"])
        log.must(["append", "minutes.recorded", "meeting=m1", "text=Minutes with no names."])
    }

    /// One refused input: the arguments, files to write first (relative to the test
    /// directory), and what the first line of stderr must start with after `Error: `.
    private struct Refusal {
        var name: String
        var arguments: [String]
        var files: [String: [UInt8]] = [:]
        var env: [String: String] = [:]
        var place: String
        /// Text that must not appear in the output (a CPR number is never repeated).
        var secret: String?
    }

    private func check(_ cases: [Refusal], file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        for refusal in cases {
            for (name, bytes) in refusal.files {
                try Data(bytes).write(to: log.root.appendingPathComponent(name))
            }
            let before = log.snapshot()
            let result = log.run(refusal.arguments, env: refusal.env)
            XCTAssertEqual(result.status, 1, "\(refusal.name): \(result.stderr)", file: file, line: line)
            XCTAssertTrue(result.stderr.hasPrefix("Error: \(refusal.place)"),
                          "\(refusal.name): expected 'Error: \(refusal.place)…', got \(result.stderr)", file: file, line: line)
            XCTAssertEqual(result.stdout, "", refusal.name, file: file, line: line)
            if let secret = refusal.secret {
                XCTAssertFalse(result.stderr.contains(secret) || result.stdout.contains(secret), "\(refusal.name) repeats the number", file: file, line: line)
            }
            let after = log.snapshot()
            XCTAssertEqual(after.keys.sorted(), before.keys.sorted(), "\(refusal.name): files appeared or vanished", file: file, line: line)
            XCTAssertEqual(after, before, "\(refusal.name): something was written", file: file, line: line)
        }
        return cases.count
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    // MARK: --data and key=value

    func testMalformedOrMistypedDataIsRefusedNamingTheMember() throws {
        let checked = try check([
            Refusal(name: "truncated JSON", arguments: ["append", "unit.registered", "unit=u5", "--data", #"{"name":"#],
                    place: "--data: not valid JSON: line 1, column 9: unexpected end of input"),
            Refusal(name: "not an object", arguments: ["append", "unit.registered", "unit=u5", "--data", "[1]"], place: "--data: must be a JSON object"),
            Refusal(name: "duplicate member", arguments: ["append", "unit.registered", "unit=u5", "--data", #"{"name":"a","name":"b"}"#],
                    place: "--data: not valid JSON: line 1, column"),
            Refusal(name: "string expected", arguments: ["append", "unit.registered", "unit=u5", "--data", #"{"name":5}"#],
                    place: "data.name: must be a string, found 5"),
            Refusal(name: "integer expected", arguments: ["append", "unit.registered", "unit=u5", "name=N", "headcount=abc"],
                    place: #"data.headcount: must be an integer, found "abc""#),
            Refusal(name: "negative count", arguments: ["append", "unit.registered", "unit=u5", "name=N", "headcount=-1"],
                    place: "data.headcount: must be at least 0, found -1"),
            Refusal(name: "list expected", arguments: ["append", "team.established", "team=t1", "name=T", "kind=peer-team", "units=u1"],
                    place: "data.units: must be JSON"),
            Refusal(name: "slug expected", arguments: ["append", "unit.registered", "unit=Not A Slug", "name=N"], place: "data.unit: \"Not A Slug\" is not a slug"),
            Refusal(name: "unknown member", arguments: ["append", "unit.registered", "unit=u5", "name=N", "colour=red"],
                    place: "data.colour: unknown member for unit.registered"),
            Refusal(name: "unknown nested member", arguments: ["append", "team.established", "team=t1", "name=T", "kind=peer-team", #"units=["u1"]"#, #"plan={"peers":1,"cats":2}"#],
                    place: "data.plan.cats: unknown member"),
            Refusal(name: "unknown type", arguments: ["append", "unit.registred", "unit=u5", "name=N"], place: #"type: unknown event type "unit.registred""#),
            Refusal(name: "store-only type", arguments: ["append", "log.tail-quarantined", "file=x", "offset=1", "bytes=1", "quarantine=x"],
                    place: "type: log.tail-quarantined is written by the store only"),
            Refusal(name: "missing member", arguments: ["append", "unit.registered", "unit=u5"], place: "data.name: missing"),
            Refusal(name: "reference to nothing", arguments: ["append", "minutes.recorded", "meeting=nope", "text=Refused minutes."],
                    place: "data.meeting: meeting nope does not exist"),
            Refusal(name: "note about nothing", arguments: ["append", "note.recorded", "about=unit/nope", "text=Refused note."],
                    place: "data.about: no event in the log is about unit/nope"),
            Refusal(name: "bad id", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--id", "3F2C9A4E-8B1D-4C6E-9F0A-1B2C3D4E5F60"],
                    place: "id: "),
        ])
        Figures.record("input.data", ["refused": checked])
    }

    func testInvalidDatesAndPeriodsAreRefused() throws {
        let checked = try check([
            Refusal(name: "30 February", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--occurred", "2021-02-30"],
                    place: #"occurred: "2021-02-30" is not a real date"#),
            Refusal(name: "29 February of a common year", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--occurred", "2021-02-29"],
                    place: #"occurred: "2021-02-29""#),
            Refusal(name: "month 13", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--occurred", "2021-13-01"], place: "occurred: "),
            Refusal(name: "hour 25", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--occurred", "2021-06-01T25:00:00Z"], place: "occurred: "),
            Refusal(name: "no zone", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--occurred", "2021-06-01T10:00:00"], place: "occurred: "),
            Refusal(name: "not a date", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--occurred", "yesterday"], place: "occurred: "),
            Refusal(name: "quarter 5", arguments: ["append", "attendance.counted", "offer=o", "venue=u1", "period=2021-Q5", "contacts=1"],
                    place: #"data.period: "2021-Q5" is not a period"#),
            Refusal(name: "correction to a non-date", arguments: ["correct", "1", "--occurred", "2021-02-30", "--reason", "typo"], place: "data.occurred: "),
        ])
        Figures.record("input.dates", ["refused": checked])
    }

    /// Integers within ±(2^53−1) only, from every way in: --data, key=value, import, CSV.
    func testNumbersBeyondTheSafeRangeAndFractionsAreRefused() throws {
        let checked = try check([
            Refusal(name: "2^53 in --data", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--data", #"{"headcount":9007199254740992}"#],
                    place: "--data: not valid JSON: line 1, column 14: number 9007199254740992 is not an integer within ±(2^53−1)"),
            Refusal(name: "fraction in --data", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--data", #"{"headcount":1.5}"#],
                    place: "--data: not valid JSON: line 1, column 14: number 1.5"),
            Refusal(name: "exponent in --data", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--data", #"{"headcount":1e3}"#],
                    place: "--data: not valid JSON: line 1, column 14: number 1e3"),
            Refusal(name: "2^53 as key=value", arguments: ["append", "unit.registered", "unit=u5", "name=N", "headcount=9007199254740992"],
                    place: "data.headcount: must be an integer within ±(2^53−1), found 9007199254740992"),
            Refusal(name: "-(2^53) as key=value", arguments: ["append", "target.set", "kpi=peers.employed", "scope=project", "value=-9007199254740992"],
                    place: "data.value: must be an integer within ±(2^53−1), found -9007199254740992"),
            Refusal(name: "Int.min as key=value", arguments: ["append", "target.set", "kpi=peers.employed", "scope=project", "value=-9223372036854775808"],
                    place: "data.value: must be an integer within ±(2^53−1)"),
            Refusal(name: "beyond Int64 as key=value", arguments: ["append", "target.set", "kpi=peers.employed", "scope=project", "value=99999999999999999999"],
                    place: "data.value: must be an integer"),
            Refusal(name: "fraction as key=value", arguments: ["append", "unit.registered", "unit=u5", "name=N", "headcount=1.5"],
                    place: #"data.headcount: must be an integer, found "1.5""#),
            Refusal(name: "2^53 in a list", arguments: ["append", "team.established", "team=t1", "name=T", "kind=peer-team", #"units=["u1"]"#, #"plan={"peers":9007199254740992}"#],
                    place: "data.plan: must be JSON"),
            Refusal(name: "2^53 in an import row", arguments: ["import", "big.jsonl"],
                    files: ["big.jsonl": bytes(#"{"type":"unit.registered","data":{"unit":"u5","name":"N","headcount":9007199254740992}}"# + "\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  big.jsonl:1: not valid JSON: line 1, column 70: number 9007199254740992"),
            Refusal(name: "2^53 in a CSV field", arguments: ["import", "big.csv", "--type", "unit.registered"],
                    files: ["big.csv": bytes("unit,name,headcount\nu5,N,9007199254740992\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  big.csv:2: data.headcount: must be an integer within ±(2^53−1)"),
            Refusal(name: "the largest integer plus a fraction in a CSV field", arguments: ["import", "frac.csv", "--type", "unit.registered"],
                    files: ["frac.csv": bytes("unit,name,headcount\nu5,N,3.0\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  frac.csv:2: data.headcount: must be an integer"),
        ])
        // The largest safe integer itself goes in, and reads back.
        log.must(["append", "target.set", "kpi=peers.employed", "scope=project", "value=9007199254740991"])
        log.must(["append", "target.set", "kpi=peers.employed", "scope=project", "value=-9007199254740991"])
        XCTAssertEqual(log.verify().report?["ok"], .bool(true))
        Figures.record("input.numbers", ["refused": checked])
    }

    // MARK: encodings

    func testInvalidUTF8AndLoneSurrogatesAreRefusedWhereverTheyCome() throws {
        let checked = try check([
            Refusal(name: "invalid UTF-8 in a --data file", arguments: ["append", "unit.registered", "unit=u5", "--data", "@bad.json"],
                    files: ["bad.json": bytes(#"{"name":""#) + [0xFF] + bytes(#""}"#)], place: "--data: bad.json is not valid UTF-8"),
            Refusal(name: "an encoded surrogate in a --data file", arguments: ["append", "unit.registered", "unit=u5", "--data", "@sur.json"],
                    files: ["sur.json": bytes(#"{"name":""#) + [0xED, 0xA0, 0x80] + bytes(#""}"#)], place: "--data: sur.json is not valid UTF-8"),
            Refusal(name: "a lone high surrogate escape in --data", arguments: ["append", "unit.registered", "unit=u5", "--data", #"{"name":"\ud800"}"#],
                    place: #"--data: not valid JSON: line 1, column 10: lone high surrogate \uD800"#),
            Refusal(name: "a lone low surrogate escape in --data", arguments: ["append", "unit.registered", "unit=u5", "--data", #"{"name":"x\udc00"}"#],
                    place: "--data: not valid JSON: line 1, column 11: lone low surrogate"),
            Refusal(name: "invalid UTF-8 in a text file", arguments: ["append", "note.recorded", "about=unit/u1", "text=@note.txt"],
                    files: ["note.txt": bytes("Hello ") + [0xC3, 0x28]], place: "data.text: note.txt is not valid UTF-8"),
            Refusal(name: "invalid UTF-8 in an import file", arguments: ["import", "bad.jsonl"],
                    files: ["bad.jsonl": bytes(#"{"type":"unit.registered","data":{"unit":"u5","name":"N"}}"# + "\n" + #"{"type":"unit.registered","data":{"unit":"u6","name":""#) + [0xC3, 0x28] + bytes("\"}}\n")],
                    place: "bad.jsonl:2: not valid UTF-8; nothing was written"),
            Refusal(name: "a lone surrogate escape in an import file", arguments: ["import", "sur.jsonl"],
                    files: ["sur.jsonl": bytes(#"{"type":"unit.registered","data":{"unit":"u5","name":"\udc00"}}"# + "\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  sur.jsonl:1: not valid JSON: line 1, column"),
            Refusal(name: "invalid UTF-8 in a CSV file", arguments: ["import", "bad.csv", "--type", "unit.registered"],
                    files: ["bad.csv": bytes("unit,name\nu5,") + [0xFF] + bytes("\n")], place: "bad.csv:2: not valid UTF-8"),
        ])
        Figures.record("input.encodings", ["refused": checked])
    }

    /// Command-line arguments reach the program as bytes; invalid UTF-8 in them must be
    /// refused, not replaced by U+FFFD and written.
    func testInvalidUTF8InAnArgumentIsRefusedNotReplaced() throws {
        let script = "exec \(shellQuoted(CLILog.binary)) --log \(shellQuoted(log.path)) append unit.registered unit=u5 name=$'A\\xff\\xfeB'"
        let before = log.snapshot()
        let result = runProcess(["/bin/bash", "-c", script], env: ["RECOVERY_ACTOR": "tester"])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("Error: argument 6 (\"name=A\u{FFFD}\u{FFFD}B\""), result.stderr)
        XCTAssertEqual(log.snapshot(), before)
    }

    /// The actor can come from the environment (`RECOVERY_ACTOR`), which is bytes too.
    func testInvalidUTF8InTheActorFromTheEnvironmentIsRefusedNotReplaced() throws {
        let script = "RECOVERY_ACTOR=$'clerk\\xff' exec \(shellQuoted(CLILog.binary)) --log \(shellQuoted(log.path)) append unit.registered unit=u5 name=N"
        let before = log.snapshot()
        let result = runProcess(["/bin/bash", "-c", script])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("Error: RECOVERY_ACTOR is not valid UTF-8"), result.stderr)
        XCTAssertEqual(log.snapshot(), before)
    }

    func testByteOrderMarksAndCRLFAreAllowedWhereTheFormatAllowsThem() throws {
        // Refused: a BOM before --data, and a BOM at the start of any import line but the first.
        let checked = try check([
            Refusal(name: "BOM before --data", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--data", "\u{FEFF}{}"],
                    place: "--data: not valid JSON: line 1, column 1: byte order mark (U+FEFF) before the JSON text; remove it"),
            Refusal(name: "BOM before a --data file", arguments: ["append", "unit.registered", "unit=u5", "--data", "@bom.json"],
                    files: ["bom.json": [0xEF, 0xBB, 0xBF] + bytes(#"{"name":"N"}"#)], place: "--data: not valid JSON: line 1, column 1: byte order mark"),
            Refusal(name: "BOM on the second import line", arguments: ["import", "bom2.jsonl"],
                    files: ["bom2.jsonl": bytes(#"{"type":"unit.registered","data":{"unit":"u5","name":"N"}}"# + "\n") + [0xEF, 0xBB, 0xBF]
                                + bytes(#"{"type":"unit.registered","data":{"unit":"u6","name":"N"}}"# + "\n")],
                    place: "1 of 2 rows refused; nothing was written:\n  bom2.jsonl:2: not valid JSON: line 1, column 1: byte order mark"),
            Refusal(name: "a bare CR ending an import line", arguments: ["import", "cr.jsonl"],
                    files: ["cr.jsonl": bytes(#"{"type":"unit.registered","data":{"unit":"u5","name":"N"}}"# + "\r" + #"{"type":"unit.registered","data":{"unit":"u6","name":"N"}}"# + "\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  cr.jsonl:1: not valid JSON"),
        ])

        // Allowed: CR LF between --data tokens, a BOM and CRLF in JSON lines and in CSV.
        log.must(["append", "unit.registered", "unit=crlf", "--data", "{\"name\":\r\n\"CRLF\"}"])
        try Data([0xEF, 0xBB, 0xBF] + bytes(#"{"type":"unit.registered","data":{"unit":"j1","name":"J one"}}"# + "\r\n" + #"{"type":"unit.registered","data":{"unit":"j2","name":"J two"}}"# + "\r\n"))
            .write(to: log.root.appendingPathComponent("ok.jsonl"))
        log.must(["import", "ok.jsonl"])
        try Data([0xEF, 0xBB, 0xBF] + bytes("unit,name\r\nc1,C one\r\nc2,\"C, two\"\r\n")).write(to: log.root.appendingPathComponent("ok.csv"))
        log.must(["import", "ok.csv", "--type", "unit.registered"])
        let events = try log.events().events.suffix(5)
        XCTAssertEqual(events.map { $0.data["name"] }, ["CRLF", "J one", "J two", "C one", "C, two"].map { .string($0) })
        let segment = try XCTUnwrap(FileManager.default.contents(atPath: log.segmentPath()))
        XCTAssertFalse(segment.contains(0x0D), "a CR reached a line")
        XCTAssertNil(segment.range(of: Data([0xEF, 0xBB, 0xBF])), "a BOM reached a line")
        Figures.record("input.bom-crlf", ["refused": checked, "accepted": 3])
    }

    // MARK: import as a whole

    func testAnImportWithADuplicateIdOrAnOverlongRowWritesNothing() throws {
        let id = "0f0f0f0f-0000-4000-8000-000000000001"
        let agenda = "[" + Array(repeating: "\"" + String(repeating: "x", count: 1000) + "\"", count: 1100).joined(separator: ",") + "]"
        let longRows = bytes(#"{"type":"meeting.held","data":{"meeting":"m2","body":"board"}}"# + "\n"
                                 + #"{"type":"meeting.held","data":{"meeting":"m3","body":"board","agenda":\#(agenda)}}"# + "\n")
        let checked = try check([
            Refusal(name: "duplicate ids", arguments: ["import", "dup.jsonl"],
                    files: ["dup.jsonl": bytes(#"{"type":"unit.registered","id":"\#(id)","data":{"unit":"u5","name":"N"}}"# + "\n"
                                                + #"{"type":"unit.registered","id":"\#(id)","data":{"unit":"u6","name":"M"}}"# + "\n")],
                    place: "1 of 2 rows refused; nothing was written:\n  dup.jsonl:2: id: \(id) is also the id of line 1; an id names one fact"),
            Refusal(name: "duplicate ids in CSV", arguments: ["import", "dup.csv", "--type", "unit.registered"],
                    files: ["dup.csv": bytes("unit,name,id\nu5,N,\(id)\nu6,M,\(id)\n")],
                    place: "1 of 2 rows refused; nothing was written:\n  dup.csv:3: id: \(id) is also the id of line 2"),
            Refusal(name: "a row over 1 MiB", arguments: ["import", "long.jsonl"], files: ["long.jsonl": longRows],
                    place: "1 of 2 rows refused; nothing was written:\n  long.jsonl:2: data: the event would be a line of "),
            // A dry run refuses what the import would: it once called this file valid.
            Refusal(name: "a row over 1 MiB, in a dry run", arguments: ["import", "long.jsonl", "--dry-run"], files: ["long.jsonl": longRows],
                    place: "1 of 2 rows refused; nothing was written:\n  long.jsonl:2: data: the event would be a line of "),
            Refusal(name: "an append over 1 MiB", arguments: ["append", "meeting.held", "meeting=m3", "body=board", "--data", "@long.json"],
                    files: ["long.json": bytes(#"{"agenda":\#(agenda)}"#)], place: "data: the event would be a line of "),
            Refusal(name: "a refused minutes row leaves no text behind", arguments: ["import", "minutes.jsonl"],
                    files: ["minutes.jsonl": bytes(#"{"type":"minutes.recorded","data":{"meeting":"m1","text":"Kept only if written."}}"# + "\n"
                                                    + #"{"type":"minutes.recorded","data":{"meeting":"nope","text":"Refused."}}"# + "\n")],
                    place: "1 of 2 rows refused; nothing was written:\n  minutes.jsonl:2: data.meeting: meeting nope does not exist"),
        ])
        Figures.record("input.import", ["refused": checked])
    }

    // MARK: CPR numbers

    /// SPEC §3: no CPR number anywhere a caller writes, in any of its forms; the message
    /// names the place and never repeats the number.
    func testEveryCPRVariantIsRefusedEverywhere() throws {
        let dash = "010190-1234", space = "010190 1234", none = "0101901234"
        let checked = try check([
            Refusal(name: "with a dash", arguments: ["append", "unit.registered", "unit=u5", "name=Borger \(dash)"], place: "data.name: holds what looks like a CPR number", secret: dash),
            Refusal(name: "with a space", arguments: ["append", "unit.registered", "unit=u5", "name=Borger \(space)"], place: "data.name: holds what looks like a CPR number", secret: space),
            Refusal(name: "without a separator", arguments: ["append", "unit.registered", "unit=u5", "name=\(none)"], place: "data.name: holds what looks like a CPR number", secret: none),
            Refusal(name: "a slug that is one", arguments: ["append", "unit.registered", "unit=\(none)", "name=N"], place: "data.unit: holds what looks like a CPR number", secret: none),
            Refusal(name: "inside minutes", arguments: ["append", "minutes.recorded", "meeting=m1", "text=Mødet med \(none) blev holdt."], place: "data.text: holds what looks like a CPR number", secret: none),
            Refusal(name: "inside a text file", arguments: ["append", "note.recorded", "about=meeting/m1", "text=@cpr.txt"],
                    files: ["cpr.txt": bytes("Noter\nBorger: \(dash)\n")], place: "data.text: holds what looks like a CPR number", secret: dash),
            Refusal(name: "in a list", arguments: ["append", "meeting.held", "meeting=m2", "body=board", #"agenda=["budget","sag \#(space)"]"#],
                    place: "data.agenda[1]: holds what looks like a CPR number", secret: space),
            Refusal(name: "as a member name", arguments: ["append", "training.held", "training=t1", "title=T", "kind=course", #"participants={"\#(none)":3}"#],
                    place: "data.participants.…: holds what looks like a CPR number", secret: none),
            Refusal(name: "in --data", arguments: ["append", "unit.registered", "unit=u5", "--data", #"{"name":"x\#(dash)x"}"#],
                    place: "data.name: holds what looks like a CPR number", secret: dash),
            Refusal(name: "in source", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--source", "journal \(none)"], place: "source: holds what looks like a CPR number", secret: none),
            Refusal(name: "in --actor", arguments: ["append", "unit.registered", "unit=u5", "name=N", "--actor", dash], place: "actor: holds what looks like a CPR number", secret: dash),
            Refusal(name: "in RECOVERY_ACTOR", arguments: ["append", "unit.registered", "unit=u5", "name=N"], env: ["RECOVERY_ACTOR": space],
                    place: "actor: holds what looks like a CPR number", secret: space),
            Refusal(name: "in a correction's reason", arguments: ["correct", "1", "name=Unit 1", "--reason", "per \(none)"], place: "data.reason: holds what looks like a CPR number", secret: none),
            Refusal(name: "in a correction's change", arguments: ["correct", "1", "name=\(dash)", "--reason", "typo"], place: "data.changes.name: holds what looks like a CPR number", secret: dash),
            Refusal(name: "in an import row", arguments: ["import", "cpr.jsonl"],
                    files: ["cpr.jsonl": bytes(#"{"type":"unit.registered","data":{"unit":"u5","name":"\#(none)"}}"# + "\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  cpr.jsonl:1: data.name: holds what looks like a CPR number", secret: none),
            Refusal(name: "in an import row's source", arguments: ["import", "cprsource.jsonl"],
                    files: ["cprsource.jsonl": bytes(#"{"type":"unit.registered","source":"ref \#(dash)","data":{"unit":"u5","name":"N"}}"# + "\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  cprsource.jsonl:1: source: holds what looks like a CPR number", secret: dash),
            Refusal(name: "in a CSV field", arguments: ["import", "cpr.csv", "--type", "unit.registered"], files: ["cpr.csv": bytes("unit,name\nu5,\(space)\n")],
                    place: "1 of 1 rows refused; nothing was written:\n  cpr.csv:2: data.name: holds what looks like a CPR number", secret: space),
            Refusal(name: "born in 2007 (seventh digit 4, no modulus 11)", arguments: ["append", "unit.registered", "unit=u5", "name=2902084000"],
                    place: "data.name: holds what looks like a CPR number", secret: "2902084000"),
        ])
        // Numbers that only look alike pass: no valid date, a digit next to them, two spaces.
        log.must(["append", "unit.registered", "unit=u6", "name=Tlf 3201901234 / 010190  1234 / 10101901234"])
        Figures.record("input.cpr", ["refused": checked])
    }

    // MARK: directories that are not a log

    func testADirectoryThatIsNotALogOrNotThisFormatIsAClearError() throws {
        let root = log.root
        let empty = root.appendingPathComponent("empty").path
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        let notALog = CLILog(existing: empty, root: root)
        for arguments in [["append", "unit.registered", "unit=u5", "name=N"], ["log"], ["verify"]] {
            let result = notALog.run(arguments)
            XCTAssertEqual(result.status, 5, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.hasPrefix("Error: no log at \(empty): it has no manifest.json\n"), result.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: empty), [], "a command wrote into a directory that is not a log")

        let file = root.appendingPathComponent("plain-file").path
        _ = FileManager.default.createFile(atPath: file, contents: Data("not a log".utf8))
        let onFile = CLILog(existing: file, root: root).run(["log"])
        XCTAssertEqual(onFile.status, 5)
        XCTAssertTrue(onFile.stderr.hasPrefix("Error: no log at \(file): it is not a directory"), onFile.stderr)

        // A manifest of a newer format: refused before anything else is read.
        let newer = root.appendingPathComponent("newer").path
        try FileManager.default.copyItem(atPath: log.path, toPath: newer)
        let manifest = "\(newer)/manifest.json"
        let text = try String(contentsOfFile: manifest, encoding: .utf8).replacingOccurrences(of: "recovery-log/1", with: "recovery-log/2")
        try text.write(toFile: manifest, atomically: true, encoding: .utf8)
        let before = CLILog(existing: newer, root: root).snapshot()
        for arguments in [["append", "unit.registered", "unit=u5", "name=N"], ["verify"]] {
            let result = CLILog(existing: newer, root: root).run(arguments)
            XCTAssertEqual(result.status, 5)
            XCTAssertTrue(result.stderr.hasPrefix(#"Error: the log at \#(newer) has format "recovery-log/2"; this recoveryctl reads "recovery-log/1" only"#), result.stderr)
        }
        XCTAssertEqual(CLILog(existing: newer, root: root).snapshot(), before)

        // A segment missing from the middle: an integrity failure naming the gap.
        let gap = root.appendingPathComponent("gap").path
        try FileManager.default.copyItem(atPath: log.path, toPath: gap)
        try FileManager.default.copyItem(atPath: "\(gap)/events-000001.jsonl", toPath: "\(gap)/events-000003.jsonl")
        let gapped = CLILog(existing: gap, root: root)
        let gapBefore = gapped.snapshot()
        let appended = gapped.run(["append", "unit.registered", "unit=u5", "name=N"])
        XCTAssertEqual(appended.status, 4)
        XCTAssertTrue(appended.stderr.contains("segment events-000002.jsonl is missing (found events-000003.jsonl after it)"), appended.stderr)
        let verdict = gapped.verify()
        XCTAssertEqual(verdict.status, 4)
        XCTAssertEqual(verdict.report?.object("error")?.string("file"), "events-000002.jsonl")
        XCTAssertEqual(verdict.report?.object("error")?.string("message"),
                       "segment events-000002.jsonl is missing (found events-000003.jsonl after it); segments must be numbered 1, 2, 3 … without a gap")
        XCTAssertEqual(gapped.snapshot(), gapBefore)
    }
}
