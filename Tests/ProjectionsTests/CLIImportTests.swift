import Foundation
import XCTest

/// `recoveryctl import` end to end: JSON lines and CSV in the forms spreadsheets and
/// scripts write them, every bad row reported in one run, all or nothing.
final class CLIImportTests: XCTestCase {
    private var sandbox: CLISandbox!

    override func setUpWithError() throws {
        sandbox = CLISandbox(try makeTemporaryDirectory(prefix: "cli-import"))
        sandbox.initLog()
    }

    private func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: sandbox.directory.appending(name))
    }

    private func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: sandbox.directory.appending(name))
    }

    private func events() throws -> [[String: Any]] {
        try sandbox.segmentLines().map { try sandbox.object($0) }
    }

    private func data(_ event: [String: Any]) -> [String: Any] { event["data"] as? [String: Any] ?? [:] }

    // MARK: JSON lines

    func testJSONLinesAreImportedInOrderWithTheirEnvelope() throws {
        let id = "0b8c1c57-2a0e-4d0e-9a7f-1c2d3e4f5a6b"
        try write("history.jsonl", """
            {"type":"unit.registered","data":{"unit":"cpi","name":"Center for Psykiatri","headcount":42},"occurred":"2020-01-01","source":"Projektbeskrivelse, s. 3","id":"\(id)"}
            {"type":"unit.registered","data":{"unit":"ungecenteret","name":"UngeCenteret"},"occurred":"2020-01-01"}
            {"type":"team.established","data":{"team":"unge-peers","name":"Unge","kind":"peer-team","units":["cpi","ungecenteret"],"plan":{"peers":2,"professionals":0}},"occurred":"2020-02-01"}

            """)
        let result = sandbox.run(["import", "history.jsonl"], env: ["RECOVERY_ACTOR": "importer"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        XCTAssertEqual(result.stdout, "Imported 3 events (seq 1–3). Head \(try sandbox.head()).\n")

        let written = try events()
        XCTAssertEqual(written.map { $0["type"] as? String }, ["unit.registered", "unit.registered", "team.established"])
        XCTAssertEqual(written[0]["id"] as? String, id)
        XCTAssertEqual(written[0]["source"] as? String, "Projektbeskrivelse, s. 3")
        XCTAssertEqual(written[0]["occurred"] as? String, "2020-01-01")
        XCTAssertNil(written[1]["source"])
        XCTAssertTrue(written.allSatisfy { $0["actor"] as? String == "importer" })
        XCTAssertEqual(Set(written.map { $0["recorded"] as? String }).count, 1, "one batch, one recorded time")
        XCTAssertTrue(sandbox.segmentLines()[2].contains(#""plan":{"peers":2,"professionals":0}"#))
        XCTAssertEqual(sandbox.ok(["verify"]), "ok: 3 events, head \(try sandbox.head())\n")

        // Again: every id already there with the same content is a no-op, the others are new.
        let again = sandbox.run(["import", "history.jsonl"])
        XCTAssertEqual(again.status, 1, "rows without an id are new events, refused as their unit and team exist: \(again.stderr)")
        XCTAssertTrue(again.stderr.hasPrefix("Error: 2 of 3 rows refused; nothing was written:\n  history.jsonl:2: data.unit: "), again.stderr)
        try write("first.jsonl", String(String(decoding: try Data(contentsOf: sandbox.directory.appending("history.jsonl")), as: UTF8.self).split(separator: "\n")[0]) + "\n")
        // A dry run of a row already in the log says it would not be written (it used to say "seq 0–0").
        XCTAssertEqual(sandbox.ok(["import", "first.jsonl", "--dry-run"]),
                       "1 event is valid; nothing was written (--dry-run). It is already in the log; it would not be written again.\n")
        let retry = sandbox.run(["import", "first.jsonl", "--json"])
        XCTAssertEqual(retry.status, 0, retry.stderr)
        let summary = try sandbox.object(retry.stdout)
        XCTAssertEqual(summary["events"] as? Int, 1)
        XCTAssertEqual(summary["written"] as? Int, 0)
        XCTAssertEqual(summary["existing"] as? Int, 1)
        XCTAssertEqual(sandbox.segmentLines().count, 3)

        // One row already there, two new: the summary counts each and names the new seqs.
        let first = String(decoding: try Data(contentsOf: sandbox.directory.appending("first.jsonl")), as: UTF8.self)
        try write("mixed.jsonl", first + """
            {"type":"unit.registered","data":{"unit":"bosteder","name":"Bosteder"},"occurred":"2020-03-01"}
            {"type":"unit.registered","data":{"unit":"misbrug","name":"Misbrug"},"occurred":"2020-03-01"}

            """)
        XCTAssertEqual(sandbox.ok(["import", "mixed.jsonl", "--dry-run"]),
                       "3 events are valid; nothing was written (--dry-run). 2 new events would be seq 4–5; 1 already in the log.\n")
        let dry = try sandbox.object(sandbox.ok(["import", "mixed.jsonl", "--dry-run", "--json"]))
        XCTAssertEqual([dry["events"], dry["written"], dry["existing"], dry["first"], dry["last"]] as? [Int], [3, 0, 1, 4, 5])
        XCTAssertEqual(sandbox.segmentLines().count, 3)
        let mixed = sandbox.run(["import", "mixed.jsonl"])
        XCTAssertEqual(mixed.status, 0, mixed.stderr)
        XCTAssertEqual(mixed.stdout, "Imported 2 events (seq 4–5); 1 already in the log. Head \(try sandbox.head()).\n")
        XCTAssertEqual(sandbox.segmentLines().count, 5)
        try write("identified.jsonl", """
            {"type":"unit.registered","data":{"unit":"u1","name":"U1"},"occurred":"2020-03-01","id":"1b8c1c57-2a0e-4d0e-9a7f-1c2d3e4f5a6b"}
            {"type":"unit.registered","data":{"unit":"u2","name":"U2"},"occurred":"2020-03-01","id":"2b8c1c57-2a0e-4d0e-9a7f-1c2d3e4f5a6b"}

            """)
        sandbox.ok(["import", "identified.jsonl"])
        XCTAssertEqual(sandbox.ok(["import", "identified.jsonl", "--dry-run"]),
                       "2 events are valid; nothing was written (--dry-run). All are already in the log; none would be written.\n")
    }

    func testJSONLinesFromStandardInput() throws {
        let input = #"{"type":"unit.registered","data":{"unit":"cpi","name":"CPI"}}"# + "\n"
        let result = sandbox.run(["import", "-"], stdin: Data(input.utf8))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(sandbox.segmentLines().count, 1)
    }

    func testEveryBadJSONLineIsReportedAndNothingIsWritten() throws {
        sandbox.ok(["append", "unit.registered", "unit=cpi", "name=CPI"])
        let before = try sandbox.segmentBytes()
        try write("bad.jsonl", """
            {"type":"unit.registered","data":{"unit":"a","name":"A"}}
            {"type":"unit.registered","data":{"unit":"b","name":"B"},"colour":"red"}
            not json at all
            {"type":"unit.registered","data":{"unit":"c","name":"C"}}
            {"data":{"unit":"d","name":"D"}}
            {"type":"unit.registered","data":{"unit":"e","name":"E"},"occurred":20210101}

            {"type":"unit.registered","data":"f"}
            [1,2]

            """)
        let result = sandbox.run(["import", "bad.jsonl"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "Error: 7 of 9 rows refused; nothing was written:")
        XCTAssertEqual(Array(lines.dropFirst()), [
            "  bad.jsonl:2: colour: unknown member (a line holds type, data, occurred, id, source)",
            lines.first { $0.hasPrefix("  bad.jsonl:3: not valid JSON: ") } ?? "line 3 missing",
            "  bad.jsonl:5: type: missing, or not a string",
            "  bad.jsonl:6: occurred: must be a string",
            "  bad.jsonl:7: an empty line; every line must hold one event",
            "  bad.jsonl:8: data: missing, or not an object",
            "  bad.jsonl:9: not a JSON object",
        ])
        XCTAssertEqual(try sandbox.segmentBytes(), before, "the good rows 1 and 4 were not written either")
    }

    func testRefusalsAgainstTheLogAreReportedForEveryRow() throws {
        sandbox.ok(["append", "unit.registered", "unit=cpi", "name=CPI"])
        let before = try sandbox.segmentBytes()
        // Row 3 uses the team row 2 establishes; rows 4, 5 and 6 are refused by the log.
        try write("rows.jsonl", """
            {"type":"unit.registered","data":{"unit":"bosteder","name":"Bosteder"}}
            {"type":"team.established","data":{"team":"t1","name":"T1","kind":"peer-team","units":["cpi","bosteder"]}}
            {"type":"staff.hired","data":{"person":"peer-01","role":"peer","team":"t1"}}
            {"type":"unit.registered","data":{"unit":"cpi","name":"CPI again"}}
            {"type":"staff.hired","data":{"person":"peer-02","role":"peer","team":"nowhere"}}
            {"type":"staff.hired","data":{"person":"peer-01","role":"peer","team":"t1"}}

            """)
        let result = sandbox.run(["import", "rows.jsonl"])
        XCTAssertEqual(result.status, 1)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "Error: 3 of 6 rows refused; nothing was written:")
        XCTAssertEqual(lines.dropFirst().map { $0.split(separator: ":").prefix(3).joined(separator: ":") }, [
            "  rows.jsonl:4: data.unit", "  rows.jsonl:5: data.team", "  rows.jsonl:6: data.person",
        ])
        XCTAssertTrue(lines[2].contains("team nowhere does not exist"), lines[2])
        XCTAssertEqual(try sandbox.segmentBytes(), before)
    }

    func testTwoRowsWithOneIDAreRefused() throws {
        let id = "1b4e28ba-2fa1-4d3b-a3f5-ef19b5a7633b"
        try write("dup.jsonl", """
            {"type":"unit.registered","data":{"unit":"a","name":"A"},"id":"\(id)"}
            {"type":"unit.registered","data":{"unit":"b","name":"B"}}
            {"type":"unit.registered","data":{"unit":"a","name":"A"},"id":"\(id)"}

            """)
        let result = sandbox.run(["import", "dup.jsonl"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, """
            Error: 1 of 3 rows refused; nothing was written:
              dup.jsonl:3: id: \(id) is also the id of line 1; an id names one fact

            """)
        XCTAssertEqual(try sandbox.segmentBytes(), Data())

        // An id that is no UUID is refused as such, and a second use of it as well.
        try write("odd.jsonl", """
            {"type":"unit.registered","data":{"unit":"a","name":"A"},"id":"kbh-1"}
            {"type":"unit.registered","data":{"unit":"b","name":"B"},"id":"\(id)"}
            {"type":"unit.registered","data":{"unit":"c","name":"C"},"id":"kbh-1"}

            """)
        let odd = sandbox.run(["import", "odd.jsonl"])
        XCTAssertEqual(odd.status, 1)
        XCTAssertTrue(odd.stderr.contains("odd.jsonl:3: id: kbh-1 is also the id of line 1; an id names one fact"), odd.stderr)
        XCTAssertTrue(odd.stderr.contains("odd.jsonl:1: id:"), odd.stderr)
        XCTAssertFalse(odd.stderr.contains("odd.jsonl:2:"), odd.stderr)
        XCTAssertEqual(try sandbox.segmentBytes(), Data())

        try write("dup.csv", "id,unit,name\n\(id),a,A\n\(id),b,B\n")
        let csv = sandbox.run(["import", "dup.csv", "--type", "unit.registered"])
        XCTAssertEqual(csv.status, 1)
        XCTAssertTrue(csv.stderr.contains("  dup.csv:3: id: \(id) is also the id of line 2"), csv.stderr)
        XCTAssertEqual(try sandbox.segmentBytes(), Data())
    }

    // MARK: CSV

    private let expectedNames = ["Team, med komma", #"Citat "Ø" i navnet"#, "Æblegården"]

    /// Three units, one with a comma, one with doubled quotes, one with Danish letters.
    private func csv(lineEnd: String, bom: Bool) -> [UInt8] {
        let rows = [
            "unit,name,headcount,occurred,source",
            #"a1,"Team, med komma",3,2021-01-01,"Notat ""A"", s. 2""#,
            #"a2,"Citat ""Ø"" i navnet",,2021-01-02,"#,
            "a3,Æblegården,0,,",
        ]
        return (bom ? [0xEF, 0xBB, 0xBF] : []) + Array((rows.joined(separator: lineEnd) + lineEnd).utf8)
    }

    func testCSVWithOrWithoutBOMAndWithCRLFOrLFImportsTheSame() throws {
        var imported: [[String]] = []
        for (lineEnd, bom) in [("\n", false), ("\r\n", false), ("\n", true), ("\r\n", true)] {
            let logName = "log-\(lineEnd == "\n" ? "lf" : "crlf")-\(bom ? "bom" : "plain")"
            sandbox.ok(["init", "--log", logName])
            try write("units.csv", bytes: csv(lineEnd: lineEnd, bom: bom))
            let result = sandbox.run(["import", "units.csv", "--type", "unit.registered", "--log", logName])
            XCTAssertEqual(result.status, 0, "\(logName): \(result.stderr)")
            XCTAssertTrue(result.stdout.hasPrefix("Imported 3 events (seq 1–3). Head 3:"), result.stdout)
            let lines = try sandbox.jsonLines(sandbox.ok(["log", "--json", "--log", logName]))
            XCTAssertEqual(lines.map { data($0)["name"] as? String }, expectedNames, logName)
            XCTAssertEqual(lines.map { data($0)["unit"] as? String }, ["a1", "a2", "a3"], "the BOM is not part of the first column: \(logName)")
            XCTAssertEqual(data(lines[0])["headcount"] as? Int, 3)
            XCTAssertNil(data(lines[1])["headcount"], "an empty field is left out")
            XCTAssertEqual(data(lines[2])["headcount"] as? Int, 0)
            XCTAssertEqual(lines[0]["source"] as? String, #"Notat "A", s. 2"#)
            XCTAssertEqual(lines[1]["occurred"] as? String, "2021-01-02")
            XCTAssertNil(lines[1]["source"])
            imported.append(lines.map { try! JSONSerialization.data(withJSONObject: data($0), options: [.sortedKeys]) }.map { String(decoding: $0, as: UTF8.self) })
        }
        XCTAssertEqual(Set(imported.map { $0.joined(separator: "|") }).count, 1, "the same data whatever the encoding")
    }

    func testQuotedCSVFieldsMayHoldNewlines() throws {
        try write("notes.csv", "unit,name\nb1,\"Første linje\nanden linje\"\nb2,\"Slut\"\"\"\n")
        let result = sandbox.run(["import", "notes.csv", "--type", "unit.registered"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try events()
        XCTAssertEqual(data(lines[0])["name"] as? String, "Første linje\nanden linje")
        XCTAssertEqual(data(lines[1])["name"] as? String, "Slut\"")
    }

    func testEveryBadCSVRowIsNamedByItsLineAndNothingIsWritten() throws {
        sandbox.ok(["append", "unit.registered", "unit=cpi", "name=CPI"])
        let before = try sandbox.segmentBytes()
        // Line 2's quoted name runs over two lines, so the rows after it start a line later.
        try write("units.csv", """
            unit,name,headcount
            b1,"To
            linjer",1
            b2,B2,abc
            b3,B3,2
            B4,B4,3
            b5,Borger 010203-1234,1
            b6,B6
            b7,B7,-1
            b8,B8,8

            """)
        let result = sandbox.run(["import", "units.csv", "--type", "unit.registered"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stdout, "")
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "Error: 5 of 8 rows refused; nothing was written:")
        XCTAssertEqual(lines.count, 6, result.stderr)
        XCTAssertEqual(lines.dropFirst().map { $0.split(separator: ":").prefix(3).joined(separator: ":") }, [
            "  units.csv:4: data.headcount", "  units.csv:6: data.unit", "  units.csv:7: data.name",
            "  units.csv:8: 2 fields where the header has 3", "  units.csv:9: data.headcount",
        ])
        XCTAssertTrue(lines[1].hasSuffix(#"must be an integer, found "abc""#), lines[1])
        XCTAssertTrue(lines[3].contains("CPR number"), lines[3])
        XCTAssertTrue(lines[5].contains("must be at least 0"), lines[5])
        XCTAssertEqual(try sandbox.segmentBytes(), before, "the segment's bytes are unchanged")
        XCTAssertEqual(try sandbox.head(), "1:" + (try sandbox.headHash()))
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: sandbox.logURL.appendingPathComponent("attachments").path)) ?? [], [])
    }

    func testCSVHeaderMistakesAreReportedAgainstTheFirstLine() throws {
        try write("units.csv", "unit,name,colour\nx,X,red\n")
        let unknown = sandbox.run(["import", "units.csv", "--type", "unit.registered"])
        XCTAssertEqual(unknown.status, 1)
        XCTAssertTrue(
            unknown.stderr.contains(#"  units.csv:1: column 3 "colour": unit.registered has no member colour (it takes: headcount, name, parent, unit)"#),
            unknown.stderr)

        try write("twice.csv", "unit,name,name\nx,X,Y\n")
        XCTAssertTrue(sandbox.run(["import", "twice.csv", "--type", "unit.registered"]).stderr.contains("twice.csv:1: the header names a column twice"))

        try write("open.csv", "unit,name\nx,\"never closed\n")
        let open = sandbox.run(["import", "open.csv", "--type", "unit.registered"])
        XCTAssertEqual(open.status, 1)
        XCTAssertTrue(open.stderr.contains("open.csv:2: a quoted field is not closed"), open.stderr)

        let noType = sandbox.run(["import", "units.csv"])
        XCTAssertEqual(noType.status, 2, "a .csv needs --type")
        let unknownType = sandbox.run(["import", "units.csv", "--type", "unit.registerd"])
        XCTAssertEqual(unknownType.status, 1)
        XCTAssertTrue(unknownType.stderr.contains("(unknown type)"), unknownType.stderr)
        XCTAssertEqual(try sandbox.segmentBytes(), Data())
    }

    func testInvalidUTF8IsReportedWithItsLine() throws {
        try write("latin1.csv", bytes: Array("unit,name\nx,X\n".utf8) + [0x79, 0x2C, 0xC6, 0x62, 0x6C, 0x65, 0x0A])
        let result = sandbox.run(["import", "latin1.csv", "--type", "unit.registered"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("Error: latin1.csv:3: not valid UTF-8; nothing was written"), result.stderr)
        XCTAssertEqual(try sandbox.segmentBytes(), Data())
    }

    // MARK: --dry-run, progress

    func testDryRunChecksEverythingAndWritesNothing() throws {
        try write("units.csv", "unit,name\na,A\nb,B\n")
        let result = sandbox.run(["import", "units.csv", "--type", "unit.registered", "--dry-run"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "2 events are valid; nothing was written (--dry-run). 2 new events would be seq 1–2.\n")
        XCTAssertEqual(try sandbox.segmentBytes(), Data())
        XCTAssertEqual(try sandbox.head(), "0:" + String(repeating: "0", count: 64))

        let json = try sandbox.object(sandbox.ok(["import", "units.csv", "--type", "unit.registered", "--dry-run", "--json"]))
        XCTAssertEqual(json["dryRun"] as? Bool, true)
        XCTAssertEqual(json["written"] as? Int, 0)
        XCTAssertEqual(json["first"] as? Int, 1)
        XCTAssertEqual(json["last"] as? Int, 2)

        try write("bad.csv", "unit,name\na,A\nB,B\n")
        let bad = sandbox.run(["import", "bad.csv", "--type", "unit.registered", "--dry-run"])
        XCTAssertEqual(bad.status, 1, "a dry run reports the refusals too")
        XCTAssertTrue(bad.stderr.contains("bad.csv:3: data.unit"), bad.stderr)

        try write("notes.jsonl", #"{"type":"note.recorded","data":{"about":"unit/x","text":"En tekst"}}"# + "\n")
        sandbox.ok(["append", "unit.registered", "unit=x", "name=X"])
        XCTAssertEqual(sandbox.run(["import", "notes.jsonl", "--dry-run"]).status, 0)
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: sandbox.logURL.appendingPathComponent("attachments").path)) ?? [], [],
                       "a dry run stores no text")
        XCTAssertEqual(sandbox.segmentLines().count, 1)
    }

    /// A torn tail is what an append moves aside first, recording it; a dry run leaves
    /// it, says so, and counts the seq that record would take. So does the check of the
    /// rows that were read when others could not be.
    func testADryRunLeavesATornTailWhereItIs() throws {
        sandbox.ok(["append", "unit.registered", "unit=x", "name=X"])
        let segment = sandbox.logURL.appendingPathComponent("events-000001.jsonl")
        let handle = try FileHandle(forWritingTo: segment)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(#"{"seq":2,"id"#.utf8))
        try handle.close()
        let before = try sandbox.segmentBytes()
        try write("units.jsonl", #"{"type":"unit.registered","data":{"unit":"y","name":"Y"}}"# + "\n")
        try write("half.jsonl", #"{"type":"unit.registered","data":{"unit":"z","name":"Z"}}"# + "\nnot json\n")

        let dry = sandbox.run(["import", "units.jsonl", "--dry-run"])
        XCTAssertEqual(dry.status, 0, dry.stderr)
        XCTAssertEqual(dry.stdout, """
            1 event is valid; nothing was written (--dry-run). 1 new event would be seq 3.
            The log ends in a torn tail (12 bytes at offset \(before.count - 12) of events-000001.jsonl): the import would first move it to quarantine/ and record that as seq 2.

            """)
        let json = try sandbox.object(sandbox.ok(["import", "units.jsonl", "--dry-run", "--json"]))
        XCTAssertEqual(json["first"] as? Int, 3)
        let torn = try XCTUnwrap(json["tornTail"] as? [String: Any])
        XCTAssertEqual([torn["file"] as? String, "\(torn["offset"] as? Int ?? 0)", "\(torn["bytes"] as? Int ?? 0)"],
                       ["events-000001.jsonl", "\(before.count - 12)", "12"])
        XCTAssertEqual(sandbox.run(["import", "half.jsonl"]).status, 1)
        XCTAssertEqual(try sandbox.segmentBytes(), before, "no dry run moved the torn tail")
        XCTAssertFalse(FileManager.default.fileExists(atPath: sandbox.logURL.appendingPathComponent("quarantine").path))

        let imported = sandbox.run(["import", "units.jsonl"])
        XCTAssertEqual(imported.status, 0, imported.stderr)
        XCTAssertTrue(imported.stdout.hasPrefix("Imported 1 event (seq 3)."), "as the dry run said: \(imported.stdout)")
        XCTAssertTrue(imported.stderr.contains("recorded as seq 2"), imported.stderr)
    }

    /// 2,500 rows: long enough for the progress bar, which must not show when stderr is
    /// not a terminal.
    private func writeLongCSV() throws {
        var text = "unit,name,headcount\n"
        for i in 1...2_500 { text += "u-\(i),Enhed \(i),\(i % 50)\n" }
        try write("long.csv", text)
    }

    func testALongImportPrintsNoProgressWhenStderrIsNotATerminal() throws {
        try writeLongCSV()
        let result = sandbox.run(["import", "long.csv", "--type", "unit.registered"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "", "no progress bar into a pipe or file")
        XCTAssertEqual(result.stdout, "Imported 2500 events (seq 1–2500). Head \(try sandbox.head()).\n")
        XCTAssertEqual(sandbox.segmentLines().count, 2_500)
        XCTAssertEqual(sandbox.ok(["verify"]), "ok: 2500 events, head \(try sandbox.head())\n")
    }

    func testALongImportShowsProgressOnATerminal() throws {
        let script = URL(fileURLWithPath: "/usr/bin/script")
        guard FileManager.default.isExecutableFile(atPath: script.path), let binary = CLIExecutable.url else {
            throw XCTSkip("needs util-linux 'script' to give recoveryctl a terminal")
        }
        try writeLongCSV()
        let command = "'\(binary.path)' import long.csv --type unit.registered"
        let process = Process()
        process.executableURL = script
        process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        process.currentDirectoryURL = sandbox.directory.url
        let output = sandbox.directory.appending("terminal.out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let seen = String(decoding: try Data(contentsOf: output), as: UTF8.self)
        if process.terminationStatus != 0, !seen.contains("Imported") {
            throw XCTSkip("'script' could not run recoveryctl on a terminal here: \(seen)")
        }
        XCTAssertTrue(seen.contains("reading ["), "a progress bar on the terminal: \(seen.suffix(300))")
        XCTAssertTrue(seen.contains("100%"), String(seen.suffix(300)))
        XCTAssertTrue(seen.contains("Imported 2500 events (seq 1–2500)."), String(seen.suffix(300)))
        XCTAssertEqual(sandbox.segmentLines().count, 2_500)
    }
}
