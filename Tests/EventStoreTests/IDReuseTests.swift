@testable import EventStore
import Foundation
import XCTest

/// `verify` proves ids unique with a Bloom filter (`IDFilter`) and checks exactly, in a
/// second look at the log, only the ids it flags: it must miss no id used again, and
/// fail no log for an id the filter only doubted.
final class IDReuseTests: TemporaryDirectoryTestCase {
    override func tearDownWithError() throws {
        IDFilter.doubtsEveryIDForTests = false
        try super.tearDownWithError()
    }

    func testTheFilterNeverMissesAnIDItWasGivenAndRarelyDoubtsANewOne() throws {
        var filter = IDFilter(expectedIDs: 300_000)
        let keys = try (0..<300_000).map { _ in try XCTUnwrap(UUIDKey(validID: EventID.random())) }
        var doubted = 0
        for key in keys where !filter.insert(key) { doubted += 1 }
        // Far below one is expected at this size: five would be a broken filter, not bad luck.
        XCTAssertLessThan(doubted, 5, "new ids the filter said it may have seen")
        XCTAssertTrue(keys.allSatisfy { !filter.insert($0) }, "an id given before is always flagged")

        // Forged ids need not be random: ids that differ in a few digits only spread as well.
        var forged = IDFilter(expectedIDs: 10_000)
        let similar = try (0..<10_000).map { n in
            try XCTUnwrap(UUIDKey(validID: "00000000-0000-4000-8000-" + String(format: "%012x", n)))
        }
        XCTAssertEqual(similar.count { !forged.insert($0) }, 0)
    }

    /// Sixty notes (or `count`), some forged by the caller (the chain recomputed), written back.
    private func forgedLog(count: Int = 60, _ forge: (inout [Event]) -> Void) throws -> (EventLog, [Event]) {
        let log = try makeLog()
        let written = try log.append { _ in (1...count).map { self.draft($0) } }.events
        var forged = written
        forge(&forged)
        try writeLines(rechain(forged, after: Event.genesisHash).map { Array($0.lineBytes().dropLast()) }, to: segmentPath())
        return (log, written)
    }

    /// A line that no longer matches its hash: `tester` changed in it.
    private func damage(lineOfSeq seq: Int) throws {
        var lines = try lines(segmentPath())
        lines[seq - 1] = Array(String(decoding: lines[seq - 1], as: UTF8.self).replacingOccurrences(of: "tester", with: "tfster").utf8)
        try writeLines(lines, to: segmentPath())
    }

    /// `verify` fails at `seq` for `reason`, with every id in doubt and without.
    private func assertVerifyFails(_ log: EventLog, at seq: Int, _ reason: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for doubting in [false, true] {
            IDFilter.doubtsEveryIDForTests = doubting
            let report = try log.verify()
            XCTAssertEqual(report.failure?.place, LogPlace(seq: seq, file: "events-000001.jsonl", line: seq), "doubting every id: \(doubting)", file: file, line: line)
            XCTAssertTrue(report.failure?.reason.contains(reason) ?? false, "reason: \(report.failure?.reason ?? "none")", file: file, line: line)
            XCTAssertEqual(report.events, seq - 1, "events checked before the failure", file: file, line: line)
            XCTAssertEqual(report.head.seq, seq - 1, "the head the lines before it reached", file: file, line: line)
        }
    }

    func testEveryIDInDoubtAndNoneUsedTwicePasses() throws {
        let (log, written) = try forgedLog { events in
            // A member of `data` named "id" holding a later event's id is not a use of it.
            events[40].data["id"] = .string(events[50].id)
        }
        IDFilter.doubtsEveryIDForTests = true
        let report = try log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.events, written.count)
        XCTAssertEqual(report.head.seq, written.count)
    }

    func testTheFirstIDUsedAgainIsNamedWhereItWasUsedAgain() throws {
        let (log, written) = try forgedLog { events in
            events[49].id = events[4].id
            events[39].id = events[9].id
        }
        try assertVerifyFails(log, at: 40, "id \(written[9].id) was already used by an earlier event")
    }

    /// `verify` adds ids to the filter a batch at a time (`IDFilter.Pending`): an id
    /// used again in the last, partly filled batch is named all the same...
    func testAnIDUsedAgainInTheFiltersLastBatchIsNamed() throws {
        let count = 2 * IDFilter.Pending.capacity + 100
        let (log, written) = try forgedLog(count: count) { events in events[count - 1].id = events[600].id }
        try assertVerifyFails(log, at: count, "id \(written[600].id) was already used by an earlier event")
    }

    /// ... and so is one in the batch still pending when damage ends the pass.
    func testAnIDUsedAgainInTheBatchPendingAtDamageIsNamedFirst() throws {
        let reusedAt = 2 * IDFilter.Pending.capacity + 6
        let (log, written) = try forgedLog(count: reusedAt + 100) { events in events[reusedAt - 1].id = events[4].id }
        try damage(lineOfSeq: reusedAt + 50)
        try assertVerifyFails(log, at: reusedAt, "id \(written[4].id) was already used by an earlier event")
    }

    func testDamageBeforeAReusedIDIsNamedFirst() throws {
        let (log, _) = try forgedLog { events in events[39].id = events[9].id }
        try damage(lineOfSeq: 30)
        try assertVerifyFails(log, at: 30, "hash")
    }

    func testAReusedIDBeforeDamageIsNamedFirst() throws {
        let (log, written) = try forgedLog { events in events[19].id = events[2].id }
        try damage(lineOfSeq: 45)
        try assertVerifyFails(log, at: 20, "id \(written[2].id) was already used by an earlier event")
    }
}
