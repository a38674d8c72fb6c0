import EventStore
import Foundation
import XCTest

/// A chain the store wrote checks out with `scripts/verify_chain.py`, an independent
/// reading of the format in another language (SPEC §2: "an auditor can check the whole
/// chain with a short script in any language"), and the script refuses what the store
/// refuses, at the same place.
final class IndependentChainCheckTests: TemporaryDirectoryTestCase {
    private static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/verify_chain.py").path

    private struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    private func runScript(_ arguments: [String]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", IndependentChainCheckTests.script] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONIOENCODING"] = "utf-8"
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both before waiting: a full pipe would block the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    private func check(_ path: String) throws -> Run { try runScript([path]) }

    override func setUpWithError() throws {
        try super.setUpWithError()
        let probe = try runScript(["--help"])
        guard probe.status == 2, probe.stderr.contains("usage: verify_chain.py") else {
            throw XCTSkip("python3 cannot run \(IndependentChainCheckTests.script): \(probe.stderr)")
        }
    }

    /// Strings that test the escaping and the UTF-8: Danish letters, an emoji outside the
    /// BMP, quotes, backslashes, control characters, DEL, U+2028, a slash.
    private let awkward = [
        "Æblegrød på Østerbro, Åse og Søren",
        "🎉 fejring 👩‍👩‍👧",
        "quote \" backslash \\ slash / tab \t newline \n return \r",
        "control \u{01}\u{1F} bell \u{07} backspace \u{08} formfeed \u{0C} del \u{7F}",
        "line separator \u{2028} paragraph \u{2029} bom \u{FEFF}",
        "e\u{301} (decomposed) and é (composed)",
    ]

    /// Writes a log across three segments with awkward strings, integers at the limits,
    /// nested values and member names whose UTF-16 order differs from their code point
    /// order. Returns its head.
    @discardableResult
    private func writeAwkwardLog() throws -> LogHead {
        let log = try makeLog(segmentSize: 4096)
        var head = LogHead.empty
        var n = 0
        while !exists(segmentPath(3)) {
            n += 1
            let text = awkward[n % awkward.count]
            var data = JSONObject([
                "n": .integer(n),
                "text": .string(text),
                "limits": .array([.integer(JSONValue.maxSafeInteger), .integer(-JSONValue.maxSafeInteger), .integer(0), .integer(-1)]),
                "flags": .object(JSONObject(["yes": .bool(true), "no": .bool(false), "none": .null])),
                "list": .array([.string("å"), .array([]), .object(JSONObject())]),
            ])
            // U+E000 sorts after U+1F600 by UTF-16 code units (0xE000 > 0xD83D), before it by code point.
            data["\u{E000}"] = .integer(1)
            data["😀"] = .integer(2)
            data["Z"] = .integer(3)
            data["a"] = .integer(4)
            let drafts = [EventDraft(type: "note.recorded", stream: "unit/æøå", occurred: "2021-03-31T23:59:59.5+02:00",
                                     actor: "Søren Ærø", source: n.isMultiple(of: 2) ? "referat § \(n) “citat”" : nil, data: data)]
            head = try log.append { _ in drafts }.head
        }
        let report = try log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.head, head)
        return head
    }

    func testTheScriptAgreesWithTheStoreOnAChainItWrote() throws {
        let head = try writeAwkwardLog()
        XCTAssertTrue(try text(segmentPath(1)).contains(#""control \u0001\u001f bell \u0007 backspace \b formfeed \f del "# + "\u{7F}\""),
                      "control characters are escaped the JCS way")
        XCTAssertTrue(try text(segmentPath(1)).contains("{\"Z\":3,\"a\":4,\"flags\":"), "upper case before lower case")
        XCTAssertTrue(try text(segmentPath(1)).contains("\"😀\":2,\"\u{E000}\":1}"), "members are sorted by UTF-16 code units")

        let run = try check(logPath)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(run.stdout, "ok \(head.seq) \(head.seq):\(head.hash)\n")
        XCTAssertEqual(run.stderr, "")
    }

    func testTheScriptAgreesOnAnEmptyLog() throws {
        try makeLog()
        let run = try check(logPath)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(run.stdout, "ok 0 0:\(Event.genesisHash)\n")
    }

    func testTheScriptLeavesATornTailOutAsTheStoreDoes() throws {
        let head = try writeAwkwardLog()
        let whole = try bytes(segmentPath(3)).count
        try appendBytes(Array(#"{"actor":"Søren"#.utf8), to: segmentPath(3))
        let run = try check(logPath)
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        XCTAssertEqual(run.stdout, "ok \(head.seq) \(head.seq):\(head.hash)\n")
        XCTAssertEqual(run.stderr, "torn tail: 16 bytes at offset \(whole) of events-000003.jsonl, left out\n")
    }

    // MARK: tampered copies

    /// Each kind of damage, made to a fresh copy of the same log: the script fails, and
    /// names the same seq, file and line as `verify`.
    func testTheScriptFailsOnATamperedCopyAtTheSamePlaceAsVerify() throws {
        try writeAwkwardLog()
        let tampering: [(String, (inout [[UInt8]]) -> Void)] = [
            ("a byte flipped", { lines in
                let i = lines[2].firstRange(of: Array(#""n":"#.utf8))!.upperBound
                lines[2][i] = lines[2][i] == UInt8(ascii: "9") ? UInt8(ascii: "8") : lines[2][i] + 1
            }),
            ("a line deleted", { lines in lines.remove(at: 2) }),
            ("two lines swapped", { lines in lines.swapAt(2, 3) }),
            ("a line inserted", { lines in lines.insert(lines[0], at: 2) }),
            ("a line re-serialised", { lines in
                lines[2] = Array(String(decoding: lines[2], as: UTF8.self).replacingOccurrences(of: "\",\"", with: "\", \"").utf8)
            }),
            ("an escape spelled differently", { lines in
                // Same string, spelled with a needless escape: \/ for /, or \u00e6 for æ.
                let text = String(decoding: lines[2], as: UTF8.self)
                lines[2] = Array((text.contains("/") ? text.replacingOccurrences(of: "/", with: "\\/")
                                                     : text.replacingOccurrences(of: "æ", with: "\\u00e6")).utf8)
            }),
        ]
        for (kind, tamper) in tampering {
            let copy = "\(directory)/copy-\(kind.filter(\.isLetter))"
            try FileManager.default.copyItem(atPath: logPath, toPath: copy)
            let path = segmentPath(2, in: copy)
            var lines = try lines(path)
            tamper(&lines)
            try writeLines(lines, to: path)

            let failure = try XCTUnwrap(EventLog(path: copy).verify().failure, kind)
            XCTAssertEqual(failure.place.file, "events-000002.jsonl", kind)
            XCTAssertEqual(failure.place.line, 3, kind)
            let run = try check(copy)
            XCTAssertEqual(run.status, 1, "\(kind): \(run.stdout)\(run.stderr)")
            XCTAssertTrue(run.stdout.hasPrefix("FAIL seq \(failure.place.seq) file events-000002.jsonl line 3: "),
                          "\(kind): script says \(run.stdout), verify says \(failure)")
        }
    }

    func testTheScriptFailsWhenTheLastLinesAreRechainedWithADifferentValue() throws {
        try writeAwkwardLog()
        var lines = try lines(segmentPath(3))
        var event = try event(lines[lines.count - 1])
        event.data["n"] = .integer(-1)
        // Changed without recomputing the hash: both refuse it.
        lines[lines.count - 1] = Array(event.lineBytes().dropLast())
        try writeLines(lines, to: segmentPath(3))
        let run = try check(logPath)
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stdout.hasPrefix("FAIL seq \(event.seq) file events-000003.jsonl line \(lines.count): hash is \(event.hash) but the event hashes to "), run.stdout)
        XCTAssertEqual(try EventLog(path: logPath).verify().failure?.place, LogPlace(seq: event.seq, file: "events-000003.jsonl", line: lines.count))

        // With the hash recomputed, the change is invisible to both: only a seal catches it.
        event.hash = event.computedHash()
        lines[lines.count - 1] = Array(event.lineBytes().dropLast())
        try writeLines(lines, to: segmentPath(3))
        XCTAssertEqual(try check(logPath).stdout, "ok \(event.seq) \(event.seq):\(event.hash)\n")
    }

    func testTheScriptFailsOnAMissingSegmentAndOnDuplicateMembers() throws {
        let head = try writeAwkwardLog()
        let copy = "\(directory)/gap"
        try FileManager.default.copyItem(atPath: logPath, toPath: copy)
        let firstSegmentLines = try lines(segmentPath(1)).count
        try FileManager.default.removeItem(atPath: segmentPath(2, in: copy))
        let gap = try check(copy)
        XCTAssertEqual(gap.status, 1)
        XCTAssertEqual(gap.stdout, "FAIL seq \(firstSegmentLines + 1) file events-000002.jsonl line 1: the segment is missing\n")

        // A member given twice: the duplicate is what a lenient parser would silently drop.
        var lines = try lines(segmentPath(1))
        lines[0] = Array(String(decoding: lines[0], as: UTF8.self).replacingOccurrences(of: #"{"actor":"#, with: #"{"actor":"x","actor":"#).utf8)
        try writeLines(lines, to: segmentPath(1))
        let duplicate = try check(logPath)
        XCTAssertEqual(duplicate.status, 1)
        XCTAssertEqual(duplicate.stdout, "FAIL seq 1 file events-000001.jsonl line 1: member \"actor\" appears twice\n")
        XCTAssertEqual(try EventLog(path: logPath).verify().failure?.place, LogPlace(seq: 1, file: "events-000001.jsonl", line: 1))
        XCTAssertGreaterThan(head.seq, firstSegmentLines)
    }

    func testTheScriptRefusesFractionsAndNumbersBeyondTheSafeRange() throws {
        try makeLog()
        for (number, reason) in [("1.0", "the number 1.0 is not an integer"), ("9007199254740992", "the integer 9007199254740992 is beyond")] {
            try write(Array(#"{"seq":\#(number)}"#.utf8) + [0x0A], to: segmentPath())
            let run = try check(logPath)
            XCTAssertEqual(run.status, 1)
            XCTAssertTrue(run.stdout.hasPrefix("FAIL seq 1 file events-000001.jsonl line 1: \(reason)"), run.stdout)
        }
    }
}
