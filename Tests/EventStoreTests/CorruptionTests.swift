import EventStore
import Foundation
import XCTest

/// The corruption table (after etcd's `wal/repair_test.go`): each row damages a log the
/// way a disk, a person with an editor or a forger would, and asserts the exact place
/// `verify` names, and that `read` refuses at the same place where it can see the damage.
///
/// `read` without `.hashes` follows the links only (seq, prev, recorded); damage that
/// leaves the links intact (a changed value, a re-serialised line) is found by
/// `read(checks: .hashes)` and `verify`.
final class CorruptionTests: TemporaryDirectoryTestCase {
    private var log: EventLog!
    private var written: [Event] = []
    private let file = "events-000001.jsonl"

    /// Five events, lines 1–5 of the first segment.
    override func setUpWithError() throws {
        try super.setUpWithError()
        log = try makeLog()
        written = try appendNotes(log, count: 5)
    }

    // MARK: helpers

    private func editLines(_ edit: (inout [[UInt8]]) throws -> Void) throws {
        var lines = try lines(segmentPath())
        try edit(&lines)
        try writeLines(lines, to: segmentPath())
    }

    /// Asserts `verify` fails at `place` with a reason holding `reason`, and reports the
    /// events before it as checked.
    private func assertVerifyFails(at place: LogPlace, _ reason: String, expectHead: LogHead? = nil, eventsBefore: Int? = nil,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try log.verify(expectHead: expectHead)
        XCTAssertFalse(report.ok, "verify passed", file: file, line: line)
        XCTAssertEqual(report.failure?.place, place, file: file, line: line)
        XCTAssertTrue(report.failure?.reason.contains(reason) ?? false, "reason: \(report.failure?.reason ?? "none")", file: file, line: line)
        XCTAssertEqual(report.events, eventsBefore ?? place.seq - 1, "events checked before the failure", file: file, line: line)
        // The head those events reach, as it stands in the log now.
        var head = LogHead.empty
        _ = try? log.read { event in
            guard event.seq <= report.events else { return false }
            head = LogHead(seq: event.seq, hash: event.hash, recorded: event.recorded)
            return true
        }
        XCTAssertEqual(report.head, head, "the head before the failure", file: file, line: line)
        XCTAssertEqual(report.head.seq, report.events, file: file, line: line)
    }

    private func assertReadFails(at place: LogPlace, checks: ReadChecks, _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        let failure = integrityFailure({ _ = try self.readAll(self.log, checks: checks) }, file: file, line: line)
        XCTAssertEqual(failure?.place, place, "read(checks: \(checks.rawValue))", file: file, line: line)
        XCTAssertTrue(failure?.reason.contains(reason) ?? false, "reason: \(failure?.reason ?? "none")", file: file, line: line)
    }

    private func assertReadPasses(checks: ReadChecks = [], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNoThrow(try readAll(log, checks: checks), file: file, line: line)
    }

    private func place(_ seq: Int, line: Int? = nil, file name: String? = nil) -> LogPlace {
        LogPlace(seq: seq, file: name ?? file, line: line ?? seq)
    }

    // MARK: damage to one line

    func testAByteFlippedInTheMiddleLineIsAHashMismatchAtThatLine() throws {
        try editLines { lines in
            // "tester" → "tfster": one bit, still valid JSON, still a well-formed envelope.
            let range = try XCTUnwrap(lines[2].firstRange(of: Array(#""actor":"te"#.utf8)))
            lines[2][range.upperBound - 1] ^= 0x03
        }
        try assertVerifyFails(at: place(3), "hash does not match")
        assertReadFails(at: place(3), checks: .hashes, "hash does not match")
        assertReadPasses(checks: [])  // the links are intact: only the hash sees it
    }

    func testAByteFlippedInTheHashMemberIsCaughtAtThatLineNotTheNext() throws {
        try editLines { lines in
            let range = try XCTUnwrap(lines[2].firstRange(of: Array(#""hash":""#.utf8)))
            lines[2][range.upperBound] = lines[2][range.upperBound] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        }
        try assertVerifyFails(at: place(3), "hash does not match")
        assertReadFails(at: place(3), checks: .hashes, "hash does not match")
        // Following links only, the break shows where seq 4 no longer links to it.
        assertReadFails(at: place(4), checks: [], "prev does not match the hash of seq 3")
    }

    func testAByteFlippedIntoTheSyntaxIsNotValidJSONAtThatLine() throws {
        try editLines { lines in
            let range = try XCTUnwrap(lines[2].firstRange(of: Array(#""data":{"#.utf8)))
            lines[2][range.upperBound - 1] = UInt8(ascii: "[")
        }
        try assertVerifyFails(at: place(3), "not valid JSON")
        assertReadFails(at: place(3), checks: [], "not valid JSON")
        assertReadFails(at: place(3), checks: .hashes, "not valid JSON")
    }

    func testALineReserialisedWithSpacesIsNotCanonical() throws {
        try editLines { lines in
            var text = String(decoding: lines[2], as: UTF8.self)
            text = text.replacingOccurrences(of: "\":", with: "\": ").replacingOccurrences(of: ",\"", with: ", \"")
            lines[2] = Array(text.utf8)
            // Same members, same values: the hash over the canonical form still matches.
            XCTAssertEqual(try self.event(lines[2]), self.written[2])
        }
        try assertVerifyFails(at: place(3), "not in canonical form")
        assertReadFails(at: place(3), checks: .hashes, "not in canonical form")
        assertReadPasses(checks: [])
    }

    func testALineReserialisedWithMembersOutOfOrderIsNotCanonical() throws {
        try editLines { lines in
            let text = String(decoding: lines[2], as: UTF8.self)
            // Move "actor" from first to last: {"data":…,"v":1,"actor":"tester"}
            let actor = #""actor":"tester","#
            XCTAssertTrue(text.hasPrefix("{" + actor))
            lines[2] = Array(("{" + text.dropFirst(1 + actor.count).dropLast() + #","actor":"tester"}"#).utf8)
        }
        try assertVerifyFails(at: place(3), "not in canonical form")
    }

    func testRecordedMovedBackwardsWithTheChainRecomputedBreaksOnlyTheTimeRule() throws {
        var forged = written
        forged[2].recorded = "2000-01-01T00:00:00.000Z"
        forged = Array(written.prefix(2)) + rechain(Array(forged.suffix(3)), after: written[1].hash)
        try writeLines(forged.map { Array($0.lineBytes().dropLast()) }, to: segmentPath())

        try assertVerifyFails(at: place(3), "recorded 2000-01-01T00:00:00.000Z is earlier than the previous event's \(written[1].recorded)")
        assertReadFails(at: place(3), checks: [], "is earlier than the previous event's")
        assertReadFails(at: place(3), checks: .hashes, "is earlier than the previous event's")
    }

    func testAnIdUsedTwiceWithTheChainRecomputedIsCaughtByVerify() throws {
        var forged = written
        forged[3].id = written[1].id
        forged = Array(written.prefix(3)) + rechain(Array(forged.suffix(2)), after: written[2].hash)
        try writeLines(forged.map { Array($0.lineBytes().dropLast()) }, to: segmentPath())
        try assertVerifyFails(at: place(4), "id \(written[1].id) was already used")
        assertReadPasses(checks: .hashes)  // reads do not keep the set of ids
    }

    // MARK: lines deleted, swapped, inserted

    func testALineDeletedIsCaughtWhereItWas() throws {
        try editLines { $0.remove(at: 2) }
        try assertVerifyFails(at: place(3), "seq is 4 where 3 was expected")
        assertReadFails(at: place(3), checks: [], "seq is 4 where 3 was expected")
        assertReadFails(at: place(3), checks: .hashes, "seq is 4 where 3 was expected")
    }

    func testTwoLinesSwappedAreCaughtAtTheFirst() throws {
        try editLines { $0.swapAt(2, 3) }
        try assertVerifyFails(at: place(3), "seq is 4 where 3 was expected")
        assertReadFails(at: place(3), checks: [], "seq is 4 where 3 was expected")
    }

    func testALineInsertedAsACopyOfAnotherIsCaughtWhereItWasInserted() throws {
        try editLines { lines in lines.insert(lines[1], at: 3) }
        try assertVerifyFails(at: place(4), "seq is 2 where 4 was expected")
        assertReadFails(at: place(4), checks: [], "seq is 2 where 4 was expected")
    }

    func testALineRechainedWithAWrongSeqIsCaught() throws {
        // Renumbering after a deletion hides the gap from seq but not from prev.
        var rest = Array(written.suffix(2))
        rest[0].seq = 3
        rest[1].seq = 4
        try writeLines((Array(written.prefix(2)) + rest).map { Array($0.lineBytes().dropLast()) }, to: segmentPath())
        try assertVerifyFails(at: place(3), "prev does not match the hash of seq 2")
    }

    func testDamageInALaterSegmentNamesThatSegmentAndItsOwnLineNumber() throws {
        let path = "\(directory)/segmented"
        log = try EventLog.create(at: path, segmentSize: 4096)
        while !exists(segmentPath(2, in: path)) { try appendNotes(log, count: 1) }
        try appendNotes(log, count: 3)
        let firstSegmentLines = try lines(segmentPath(1, in: path)).count
        var lines = try lines(segmentPath(2, in: path))
        lines.remove(at: 1)
        try writeLines(lines, to: segmentPath(2, in: path))
        let expected = LogPlace(seq: firstSegmentLines + 2, file: "events-000002.jsonl", line: 2)
        try assertVerifyFails(at: expected, "seq is \(firstSegmentLines + 3) where \(firstSegmentLines + 2) was expected")
        assertReadFails(at: expected, checks: [], "where \(firstSegmentLines + 2) was expected")
    }

    func testAFirstLineThatIsNotTheFirstEventIsCaught() throws {
        try editLines { $0.removeFirst() }
        try assertVerifyFails(at: place(1), "seq is 2 where 1 was expected")
    }

    // MARK: attachments

    /// Replaces the log with three events, the third naming a text; returns its reference.
    private func logWithText() throws -> String {
        log = try EventLog.create(at: "\(directory)/texts")
        try appendNotes(log, count: 2)
        let reference = try log.storeText("Mødereferat: Åse og Øjvind")
        _ = try log.append { _ in [self.draft(3, extra: ["text": .string(reference)])] }
        XCTAssertEqual(log.readText(reference), .text("Mødereferat: Åse og Øjvind"))
        XCTAssertTrue(try log.verify().ok)
        return reference
    }

    private func place3(_ seq: Int = 3) -> LogPlace { LogPlace(seq: seq, file: file, line: seq) }

    func testAnAlteredAttachmentIsCaughtAtTheEventNamingIt() throws {
        let reference = try logWithText()
        let path = "\(log.path)/attachments/\(reference)"
        var bytes = try bytes(path)
        bytes[bytes.count - 1] ^= 0x01
        try write(bytes, to: path)
        XCTAssertEqual(log.readText(reference), .altered)
        let report = try log.verify()
        XCTAssertEqual(report.failure?.place, place3())
        XCTAssertEqual(report.failure?.reason, "attachment \(reference) no longer hashes to its reference; it was changed after it was written")
    }

    func testADeletedAttachmentIsCaughtAtTheEventNamingIt() throws {
        let reference = try logWithText()
        try FileManager.default.removeItem(atPath: "\(log.path)/attachments/\(reference)")
        XCTAssertEqual(log.readText(reference), .missing)
        let report = try log.verify()
        XCTAssertEqual(report.failure?.place, place3())
        XCTAssertEqual(report.failure?.reason, "attachment \(reference) is missing and no text.erased event erased it")
    }

    func testAnAttachmentErasedWithTextErasedFirstVerifies() throws {
        let reference = try logWithText()
        _ = try log.append { _ in
            [EventDraft(type: "text.erased", stream: "text/\(reference)", occurred: "2021-04-01", actor: "tester",
                        data: JSONObject(["ref": .string(reference), "reason": .string("a name slipped in")]))]
        }
        try log.deleteText(reference)
        XCTAssertFalse(exists("\(log.path)/attachments/\(reference)"))
        XCTAssertEqual(log.readText(reference), .missing)
        let report = try log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.erasedTexts, 1)
        XCTAssertEqual(report.events, 4)
    }

    func testAStoredTextStartsWithASaltLineAndIsNamedByItsHash() throws {
        let reference = try logWithText()
        let bytes = try bytes("\(log.path)/attachments/\(reference)")
        XCTAssertEqual(reference, "sha256-" + SHA256.hex(bytes))
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.hasSuffix("\nMødereferat: Åse og Øjvind"), text)
        let salt = try XCTUnwrap(text.split(separator: "\n").first)
        XCTAssertTrue(salt.hasPrefix("salt ") && salt.count == 5 + 32, String(salt))
        // The same text stored twice gets two references: the salt differs.
        XCTAssertNotEqual(try log.storeText("Mødereferat: Åse og Øjvind"), reference)
    }

    // MARK: the end of the log, and seals

    func testTheLastLinesCutAtALineBoundaryAreCaughtOnlyByTheSeal() throws {
        let seal = LogHead(seq: 5, hash: written[4].hash, recorded: nil)
        try editLines { $0.removeLast(2) }
        let plain = try log.verify()
        XCTAssertTrue(plain.ok, "without a seal a shorter log is a valid log")
        XCTAssertEqual(plain.events, 3)
        XCTAssertEqual(plain.head.seq, 3)

        try assertVerifyFails(at: place(4), "names seq 5, but the log ends at seq 3", expectHead: seal, eventsBefore: 3)
        XCTAssertTrue(try log.verify(expectHead: LogHead(seq: 3, hash: written[2].hash, recorded: nil)).ok)
    }

    /// A forger who rewrites the last line and recomputes its hash (and every hash after
    /// it) makes a chain that verifies; only a seal read out before the change catches it.
    /// A seal `SEQ:HASH` proves that the log up to SEQ is the one that was sealed; it
    /// says nothing about what came after (later appends are the log's normal life).
    func testAForgedTailLineIsCaughtOnlyByAnEarlierSeal() throws {
        let seal5 = LogHead(seq: 5, hash: written[4].hash, recorded: nil)
        let seal4 = LogHead(seq: 4, hash: written[3].hash, recorded: nil)
        var forged = written[4]
        forged.data = JSONObject(["n": .integer(500)])
        forged = rechain([forged], after: written[3].hash)[0]
        try editLines { $0[4] = Array(forged.lineBytes().dropLast()) }

        XCTAssertTrue(try log.verify().ok, "a recomputed chain verifies on its own")
        XCTAssertTrue(try log.verify(expectHead: seal4).ok, "seq 1–4 are still what was sealed")
        try assertVerifyFails(at: place(5), "does not match the event now at seq 5", expectHead: seal5, eventsBefore: 5)
    }

    func testALogRewrittenAndMadeLongerIsCaughtAtTheSealedSeq() throws {
        let seal = LogHead(seq: 5, hash: written[4].hash, recorded: nil)
        // From seq 4 on, a different history, one event longer.
        var forged = (4...6).map { n -> Event in
            var event = written[3]
            event.seq = n
            event.id = EventID.random()
            event.data = JSONObject(["n": .integer(n * 100)])
            return event
        }
        forged = rechain(forged, after: written[2].hash)
        try writeLines((Array(written.prefix(3)) + forged).map { Array($0.lineBytes().dropLast()) }, to: segmentPath())
        XCTAssertTrue(try log.verify().ok)
        try assertVerifyFails(at: place(5), "does not match the event now at seq 5", expectHead: seal, eventsBefore: 6)
    }

    func testLaterAppendsDoNotBreakAnEarlierSeal() throws {
        let seal = LogHead(seq: 5, hash: written[4].hash, recorded: nil)
        try appendNotes(log, count: 2, from: 6)
        let report = try log.verify(expectHead: seal)
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.events, 7)
        XCTAssertEqual(LogHead(seal: seal.description), seal)
    }

    func testADamagedLastLineStopsEveryWriter() throws {
        try editLines { lines in
            let range = try XCTUnwrap(lines[4].firstRange(of: Array(#""actor":"te"#.utf8)))
            lines[4][range.upperBound - 1] ^= 0x03
        }
        let before = try bytes(segmentPath())
        let failure = integrityFailure { _ = try self.log.append { _ in [self.draft(6)] } }
        XCTAssertEqual(failure?.place.seq, 5)
        XCTAssertEqual(failure?.place.file, file)
        XCTAssertTrue(failure?.reason.contains("does not hash to its hash member") ?? false, failure?.reason ?? "")
        assertBytes(try bytes(segmentPath()), before)
        try assertVerifyFails(at: place(5), "hash does not match")
    }

    // MARK: segments and manifest

    /// Three segments, then the middle one removed: a whole file of events gone.
    func testASegmentMissingFromTheMiddleIsCaught() throws {
        log = try EventLog.create(at: "\(directory)/segmented", segmentSize: 4096)
        while !exists(segmentPath(3, in: log.path)) { try appendNotes(log, count: 1) }
        try FileManager.default.removeItem(atPath: segmentPath(2, in: log.path))

        // The place names the missing file; no seq can be given before reading it.
        let expected = LogPlace(seq: 0, file: "events-000002.jsonl", line: 1)
        let report = try log.verify()
        XCTAssertEqual(report.failure?.place, expected)
        XCTAssertEqual(report.failure?.reason.contains("segment events-000002.jsonl is missing (found events-000003.jsonl after it)"), true,
                       report.failure?.reason ?? "")
        XCTAssertEqual(integrityFailure { _ = try self.readAll(self.log) }?.place, expected)
        XCTAssertEqual(integrityFailure { _ = try self.log.append { _ in [self.draft(1)] } }?.place, expected)
    }

    func testAnEarlierSegmentWithoutItsFinalNewlineIsCorruptionNotATornTail() throws {
        log = try EventLog.create(at: "\(directory)/segmented", segmentSize: 4096)
        while !exists(segmentPath(2, in: log.path)) { try appendNotes(log, count: 1) }
        let count = try lines(segmentPath(1, in: log.path)).count
        try appendBytes(Array(#"{"seq":"#.utf8), to: segmentPath(1, in: log.path))

        let report = try log.verify()
        XCTAssertEqual(report.failure?.place.seq, count + 1)
        XCTAssertEqual(report.failure?.place.file, "events-000001.jsonl")
        XCTAssertEqual(report.failure?.reason, "segment does not end with a newline, yet a later segment exists")
        XCTAssertNil(report.tornTail)
        XCTAssertEqual(integrityFailure { _ = try self.readAll(self.log) }?.place.seq, count + 1)
    }

    func testAManifestOfAnotherFormatIsRefused() throws {
        let manifest = try text("\(logPath)/manifest.json").replacingOccurrences(of: "recovery-log/1", with: "recovery-log/2")
        try write(Array(manifest.utf8), to: "\(logPath)/manifest.json")
        XCTAssertThrowsError(try EventLog(path: logPath)) { error in
            XCTAssertEqual(error as? LogError, .unsupportedFormat(path: self.logPath, format: "recovery-log/2"))
            XCTAssertEqual((error as? LogError)?.exitCode, 5)
        }
    }

    func testADirectoryWithoutAManifestIsNotALog() throws {
        try FileManager.default.removeItem(atPath: "\(logPath)/manifest.json")
        XCTAssertThrowsError(try EventLog(path: logPath)) { error in
            XCTAssertEqual(error as? LogError, .notALog(path: self.logPath, reason: "it has no manifest.json"))
        }
    }

    func testAManifestThatIsNotJSONIsNotALog() throws {
        try write(Array("format: recovery-log/1\n".utf8), to: "\(logPath)/manifest.json")
        XCTAssertThrowsError(try EventLog(path: logPath)) { error in
            guard case LogError.notALog(_, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix("manifest.json is not JSON"), reason)
        }
    }

    func testALogWithoutItsFirstSegmentIsNotALog() throws {
        try FileManager.default.removeItem(atPath: segmentPath())
        let opened = try EventLog(path: logPath)
        XCTAssertThrowsError(try opened.verify()) { error in
            XCTAssertEqual(error as? LogError, .notALog(path: self.logPath, reason: "it has no events-000001.jsonl"))
        }
    }
}
