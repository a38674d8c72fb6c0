import EventStore
import Foundation
import XCTest

/// The tampering table of SPEC §2 through the built binary (issue 7): each row changes a
/// copy of one log the way a person with an editor or a forger would, and asserts the
/// exact verdict of `recoveryctl --json verify` (seq, file, line, message) and its exit
/// code. The rows a hash chain cannot see (a cut at a line boundary, a rewrite with every
/// hash recomputed) are caught by `--expect-head` with the seal read into the minutes.
///
/// The library-level table is `EventStoreTests/CorruptionTests`; this one checks what a
/// user sees.
final class TamperingReliabilityTests: XCTestCase {
    private var directory: TemporaryDirectory!
    private var original: CLILog!
    /// The seal read out at the meeting and recorded in the minutes (seq 8): the head at seq 6.
    private var sealInMinutes = ""
    /// `recoveryctl head` after the last event (seq 9), read out at a later meeting.
    private var finalSeal = ""
    private let file = "events-000001.jsonl"

    /// Nine events: units, a body, meetings, minutes with texts (attachments), a count, and
    /// minutes carrying the seal of seq 6.
    override func setUpWithError() throws {
        try super.setUpWithError()
        directory = try makeTemporaryDirectory(prefix: "reliability-tamper")
        original = try CLILog(in: directory, name: "original")
        original.must(["append", "unit.registered", "unit=u1", "name=Unit one", "--occurred", "2021-01-01"])
        original.must(["append", "body.established", "body=board", "name=Board", "kind=steering-group", "cadence=quarterly"])
        original.must(["append", "meeting.held", "meeting=m1", "body=board", "--occurred", "2021-03-01"])
        original.must(["append", "minutes.recorded", "meeting=m1", "text=The board met and agreed the plan."])
        original.must(["append", "unit.registered", "unit=u2", "name=Unit two"])
        original.must(["append", "attendance.counted", "offer=cafe", "venue=u1", "period=2021", "contacts=5"])
        sealInMinutes = original.head()
        original.must(["append", "meeting.held", "meeting=m2", "body=board", "--occurred", "2021-06-01"])
        original.must(["append", "minutes.recorded", "meeting=m2", "text=Seal read out.", "seal=\(sealInMinutes)"])
        original.must(["append", "unit.registered", "unit=u3", "name=Unit three"])
        finalSeal = original.head()
        XCTAssertEqual(original.verify().report?["ok"], .bool(true))
    }

    // MARK: helpers

    private var tampered = 0

    /// A copy of the log with its lines edited.
    private func copy(editing edit: (inout [[UInt8]]) throws -> Void) throws -> CLILog {
        tampered += 1
        let path = directory.appending("copy-\(tampered)").path
        try FileManager.default.copyItem(atPath: original.path, toPath: path)
        let log = CLILog(existing: path, root: directory.url)
        var lines = original.lines().lines
        try edit(&lines)
        try Data(lines.flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: log.segmentPath()))
        return log
    }

    private func event(_ line: [UInt8]) throws -> Event {
        guard case .object(let object) = try JSONParser.parse(line) else { throw CLILog.CLILogError(message: "not an object") }
        return try Event(json: object)
    }

    /// The events of `lines` from `index` on given fresh hashes, each linked to the one before.
    private func rechain(_ lines: inout [[UInt8]], from index: Int) throws {
        var prev = index == 0 ? Event.genesisHash : try event(lines[index - 1]).hash
        for i in index..<lines.count {
            var e = try event(lines[i])
            e.seq = i + 1
            e.prev = prev
            e.hash = e.computedHash()
            prev = e.hash
            lines[i] = Array(e.lineBytes().dropLast())
        }
    }

    private func hash(_ seq: Int) throws -> String { try event(original.lines().lines[seq - 1]).hash }

    /// Asserts the exact `verify --json` document and exit code 4.
    private func assertVerdict(_ log: CLILog, _ extra: [String] = [], events: Int, head: Int, error: (seq: Int, line: Int, message: String),
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let verdict = log.verify(extra)
        XCTAssertEqual(verdict.status, 4, verdict.stderr, file: file, line: line)
        let expected = JSONObject([
            "ok": .bool(false), "events": .integer(events), "head": .string("\(head):\(try hash(head))"), "tornTail": .null, "erasedTexts": .integer(0),
            "error": .object(JSONObject(["seq": .integer(error.seq), "file": .string(self.file), "line": .integer(error.line), "message": .string(error.message)])),
        ])
        XCTAssertEqual(verdict.report.map { CanonicalJSON.string(.object($0)) }, CanonicalJSON.string(.object(expected)), file: file, line: line)
    }

    private func assertPasses(_ log: CLILog, _ extra: [String] = [], events: Int, file: StaticString = #filePath, line: UInt = #line) {
        let verdict = log.verify(extra)
        XCTAssertEqual(verdict.status, 0, verdict.stderr, file: file, line: line)
        XCTAssertEqual(verdict.report?["ok"], .bool(true), file: file, line: line)
        XCTAssertEqual(verdict.report?.int("events"), events, file: file, line: line)
    }

    // MARK: the table

    func testAnEditedValueIsAHashMismatchAtItsLine() throws {
        var edited = try event(original.lines().lines[4])
        let log = try copy { lines in
            lines[4] = Array(String(decoding: lines[4], as: UTF8.self).replacingOccurrences(of: "Unit two", with: "Unit 2!!").utf8)
        }
        edited.data["name"] = .string("Unit 2!!")
        let computed = edited.computedHash()
        try assertVerdict(log, events: 4, head: 4, error: (5, 5, "hash does not match (expected \(computed.prefix(12))…, found \(try hash(5).prefix(12))…); the line was changed after it was written"))

        // The human report names the same place, and exit 4.
        let human = log.run(["verify"])
        XCTAssertEqual(human.status, 4)
        XCTAssertTrue(human.stderr.hasPrefix("Error: integrity failure at seq 5 in events-000001.jsonl:5: hash does not match"), human.stderr)
        // No writer appends after damage it can see.
        XCTAssertEqual(log.run(["append", "unit.registered", "unit=u9", "name=Nine"]).status, 4)
    }

    func testADeletedLineIsCaughtWhereItWas() throws {
        let log = try copy { $0.remove(at: 4) }
        try assertVerdict(log, events: 4, head: 4, error: (5, 5, "seq is 6 where 5 was expected; a line was deleted, inserted or moved"))
    }

    func testAnInsertedCopyIsCaughtWhereItWasInserted() throws {
        let log = try copy { $0.insert($0[1], at: 5) }
        try assertVerdict(log, events: 5, head: 5, error: (6, 6, "seq is 2 where 6 was expected; a line was deleted, inserted or moved"))
    }

    /// A forged line inserted with a correct hash, linked to the line before it: the line
    /// after it no longer follows.
    func testAnInsertedForgedLineIsCaughtAtTheLineAfterIt() throws {
        var forged = try event(original.lines().lines[4])
        forged.id = uuid(1, family: 0xf0f0)
        forged.seq = 6
        forged.prev = try hash(5)
        forged.data = JSONObject(["unit": .string("forged"), "name": .string("Forged")])
        forged.stream = "unit/forged"
        forged.hash = forged.computedHash()
        let log = try copy { $0.insert(Array(forged.lineBytes().dropLast()), at: 5) }
        let verdict = log.verify()
        XCTAssertEqual(verdict.status, 4)
        XCTAssertEqual(verdict.report?.int("events"), 6)
        XCTAssertEqual(verdict.report?.object("error"), JSONObject([
            "seq": .integer(7), "file": .string(file), "line": .integer(7),
            "message": .string("seq is 6 where 7 was expected; a line was deleted, inserted or moved"),
        ]))
    }

    func testTwoLinesSwappedAreCaughtAtTheFirst() throws {
        let log = try copy { $0.swapAt(4, 5) }
        try assertVerdict(log, events: 4, head: 4, error: (5, 5, "seq is 6 where 5 was expected; a line was deleted, inserted or moved"))
    }

    /// The same JSON written another way: with spaces, with members in another order, with
    /// a needless escape. Each is still valid JSON with the same values, and still refused.
    func testALineReserialisedAnyWayIsNotCanonical() throws {
        let canonical = String(decoding: original.lines().lines[4], as: UTF8.self)
        XCTAssertTrue(canonical.hasPrefix(#"{"actor":"tester","#))
        let variants = [
            canonical.replacingOccurrences(of: "\":", with: "\": "),
            "{" + canonical.dropFirst(#"{"actor":"tester","#.count).dropLast() + #","actor":"tester"}"#,
            canonical.replacingOccurrences(of: "Unit two", with: #"\u0055nit two"#),
            canonical + " ",
        ]
        for (index, variant) in variants.enumerated() {
            XCTAssertNotNil(try? JSONParser.parse(Array(variant.utf8)), "variant \(index) is not JSON")
            let log = try copy { $0[4] = Array(variant.utf8) }
            try assertVerdict(log, events: 4, head: 4, error: (5, 5, "the line is not in canonical form (RFC 8785); it was re-serialised or edited after it was written"))
        }
    }

    /// A rewrite from seq 5 on with every hash recomputed is a valid chain: `verify` alone
    /// cannot see it. The seal read into the minutes (the head at seq 6) can.
    func testARewriteWithRecomputedHashesIsCaughtOnlyByTheSealInTheMinutes() throws {
        let log = try copy { lines in
            lines[5] = Array(String(decoding: lines[5], as: UTF8.self).replacingOccurrences(of: #""contacts":5"#, with: #""contacts":50"#).utf8)
            try rechain(&lines, from: 5)
        }
        assertPasses(log, events: 9)
        // The forger kept the minutes (seq 8) and the seal in them: it no longer matches
        // seq 6, but only a check against the seal shows it.
        XCTAssertEqual(try event(log.lines().lines[7]).data["seal"], .string(sealInMinutes))
        let verdict = log.verify(["--expect-head", sealInMinutes])
        XCTAssertEqual(verdict.status, 4)
        XCTAssertEqual(verdict.report?.object("error"), JSONObject([
            "seq": .integer(6), "file": .string(file), "line": .integer(6),
            "message": .string("the seal \(sealInMinutes) does not match the event now at seq 6; the log was rewritten since the seal was read out"),
        ]))
        XCTAssertEqual(verdict.report?.int("events"), 9)
    }

    /// Cutting the last lines at a line boundary leaves a valid, shorter chain; a seal read
    /// out after them names a seq the log no longer has.
    func testTheLastLinesCutAtALineBoundaryAreCaughtOnlyByALaterSeal() throws {
        let log = try copy { $0.removeLast(3) }
        assertPasses(log, events: 6)
        assertPasses(log, ["--expect-head", sealInMinutes], events: 6)
        let verdict = log.verify(["--expect-head", finalSeal])
        XCTAssertEqual(verdict.status, 4)
        XCTAssertEqual(verdict.report?.object("error"), JSONObject([
            "seq": .integer(7), "file": .string(file), "line": .integer(7),
            "message": .string("the seal \(finalSeal) names seq 9, but the log ends at seq 6; events after it were removed"),
        ]))
    }

    /// A forged event added after the chain, its hash computed correctly, is a valid
    /// continuation: neither `verify` nor a seal read out before it can tell. This is the
    /// limit of a hash chain without signatures, and why only the tool's user may write the
    /// files (0640, 0750); `actor` and `recorded` are what an auditor has left.
    func testAForgedLineAfterTheChainIsAValidContinuation() throws {
        var forged = try event(original.lines().lines[8])
        forged.seq = 10
        forged.id = uuid(2, family: 0xf0f0)
        forged.prev = finalSeal.components(separatedBy: ":")[1]
        forged.data = JSONObject(["unit": .string("ghost"), "name": .string("Ghost unit")])
        forged.stream = "unit/ghost"
        forged.hash = forged.computedHash()
        let log = try copy { $0.append(Array(forged.lineBytes().dropLast())) }
        assertPasses(log, events: 10)
        assertPasses(log, ["--expect-head", finalSeal], events: 10)
        XCTAssertEqual(log.head(), "10:\(forged.hash)")
    }

    func testAnAlteredAttachmentIsCaughtAtTheEventNamingIt() throws {
        let log = try copy { _ in }
        let reference = try XCTUnwrap(try event(original.lines().lines[3]).data["text"]?.stringValue)
        let path = "\(log.path)/attachments/\(reference)"
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: path))
        bytes[bytes.count - 2] ^= 0x20
        try bytes.write(to: URL(fileURLWithPath: path))
        // Every line is checked first, so events and head are the whole log's.
        try assertVerdict(log, events: 9, head: 9, error: (4, 4, "attachment \(reference) no longer hashes to its reference; it was changed after it was written"))
    }

    func testADeletedAttachmentIsCaughtAtTheEventNamingIt() throws {
        let log = try copy { _ in }
        let reference = try XCTUnwrap(try event(original.lines().lines[7]).data["text"]?.stringValue)
        try FileManager.default.removeItem(atPath: "\(log.path)/attachments/\(reference)")
        try assertVerdict(log, events: 9, head: 9, error: (8, 8, "attachment \(reference) is missing and no text.erased event erased it"))
    }

    /// The lawful way to remove a text: `erase` appends `text.erased`, and the log verifies.
    func testAnErasedAttachmentVerifies() throws {
        let log = try copy { _ in }
        let reference = try XCTUnwrap(try event(original.lines().lines[3]).data["text"]?.stringValue)
        log.must(["erase", reference, "--reason", "a name slipped into the minutes"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(log.path)/attachments/\(reference)"))
        let verdict = log.verify()
        XCTAssertEqual(verdict.report?["ok"], .bool(true))
        XCTAssertEqual(verdict.report?.int("erasedTexts"), 1)
        assertPasses(log, ["--expect-head", finalSeal], events: 10)
    }
}
