import EventStore
import Foundation
@testable import Projections
import XCTest

/// How a batch stores its texts (SPEC §3, texts; §2, durability): the texts of a batch are
/// written while it is validated and sealed, and all of them are made durable together
/// (one `syncfs`, no fsync per text) before the first line that names one is written. A
/// refused batch, or one whose texts could not be made durable, leaves no text and no
/// line. And the checkpoint an import leaves is the one a replay
/// of the log gives, though the batch is not read back to make it.
final class AttachmentBatchTests: XCTestCase {
    /// A log with a body and a meeting, written through `operations`.
    private func makeLog(_ operations: RecordingFileOperations, segmentSize: Int = Manifest.defaultSegmentSize) throws -> (EventLog, Ledger) {
        let directory = try makeTemporaryDirectory(prefix: "attachment-batch")
        let path = directory.appending("log").path
        try EventLog.create(at: path, segmentSize: segmentSize)
        let log = try EventLog(path: path, fileOperations: operations)
        let ledger = Ledger(log: log)
        _ = try ledger.append([
            fact("body.established", ["body": "styregruppe", "name": "Styregruppen", "kind": "steering-group", "cadence": "quarterly"], on: "2020-01-15"),
            fact("meeting.held", ["meeting": "sg-2020-1", "body": "styregruppe", "attendees": 6], on: "2020-03-10"),
        ])
        operations.reset()
        return (log, ledger)
    }

    private func attachments(_ log: EventLog) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(log.path)/\(EventLog.attachmentsName)")) ?? []).sorted()
    }

    private func segment(_ log: EventLog) throws -> [UInt8] {
        try FileIO_bytes("\(log.path)/\(EventLog.segmentName(1))")
    }

    private func minutes(_ n: Int) -> NewEvent {
        fact("minutes.recorded", ["meeting": "sg-2020-1", "text": "Referat nr. \(n): status og næste skridt."], on: "2020-03-10")
    }

    func testTextsAreMadeDurableTogetherBeforeTheFirstLineNamingThem() throws {
        let operations = RecordingFileOperations()
        let (log, ledger) = try makeLog(operations)
        let report = try ledger.append((1...5).map(minutes) + [fact("note.recorded", ["about": "body/styregruppe", "text": "En note"], on: "2020-03-11")])

        let calls = operations.calls
        let syncs = calls.enumerated().filter { $0.element.call == "syncfs" }
        XCTAssertEqual(syncs.count, 1, "one sync for all six texts: \(calls)")
        XCTAssertTrue(syncs.first?.element.file.hasSuffix("/\(EventLog.attachmentsName)") == true, "the sync is made through attachments/")
        XCTAssertEqual(calls.filter { $0.call == "fsync" && $0.file.contains("/\(EventLog.attachmentsName)") }, [], "no fsync per text")
        let firstLineWrite = try XCTUnwrap(calls.firstIndex { $0.call == "write" && $0.file.hasSuffix(EventLog.segmentName(1)) })
        XCTAssertLessThan(try XCTUnwrap(syncs.first?.offset), firstLineWrite, "the texts are durable before a line names them")
        let lastTextWrite = try XCTUnwrap(calls.lastIndex { $0.call == "write" && $0.file.contains("/\(EventLog.attachmentsName)/") })
        XCTAssertLessThan(lastTextWrite, try XCTUnwrap(syncs.first?.offset), "every text is written before the sync")

        // Each text is stored whole under its reference, with mode 0640, and no temporary file is left.
        let references = report.events.compactMap { $0.event.data["text"]?.stringValue }
        XCTAssertEqual(references.count, 6)
        XCTAssertEqual(attachments(log), references.sorted())
        XCTAssertEqual(log.readText(references[0]), .text("Referat nr. 1: status og næste skridt."))
        XCTAssertEqual(log.readText(references[5]), .text("En note"))
        var info = stat()
        XCTAssertEqual(stat("\(log.path)/\(EventLog.attachmentsName)/\(references[0])", &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o640)
        XCTAssertTrue(try log.verify().ok)
    }

    func testAFailedSyncOfTheTextsWritesNoLineAndLeavesNoText() throws {
        let operations = RecordingFileOperations()
        let (log, ledger) = try makeLog(operations)
        let before = try segment(log)
        operations.syncfsErrno = EIO
        XCTAssertThrowsError(try ledger.append((1...3).map(minutes))) { error in
            XCTAssertEqual(error as? LogError, .io(operation: "syncfs", path: "\(log.path)/\(EventLog.attachmentsName)", errno: EIO))
        }
        XCTAssertEqual(try segment(log), before, "no line was written")
        XCTAssertEqual(attachments(log), [], "the texts written were removed again")
        XCTAssertFalse(operations.calls.contains { $0.file.hasSuffix(EventLog.segmentName(1)) }, "the segment was not touched")

        operations.syncfsErrno = nil
        let report = try ledger.append((1...3).map(minutes))
        XCTAssertEqual(report.events.map(\.event.seq), [3, 4, 5])
        XCTAssertEqual(attachments(log).count, 3)
        XCTAssertTrue(try log.verify().ok)
    }

    func testWithoutSyncfsEachTextIsFsyncedThenTheirDirectoryBeforeTheFirstLine() throws {
        let operations = RecordingFileOperations()
        let (log, ledger) = try makeLog(operations)
        operations.syncfsErrno = ENOSYS  // a system without syncfs
        let report = try ledger.append((1...3).map(minutes))

        let calls = operations.calls
        let references = report.events.compactMap { $0.event.data["text"]?.stringValue }
        XCTAssertEqual(references.count, 3)
        let firstLineWrite = try XCTUnwrap(calls.firstIndex { $0.call == "write" && $0.file.hasSuffix(EventLog.segmentName(1)) })
        for reference in references {
            let sync = try XCTUnwrap(calls.firstIndex { $0.call == "fsync" && $0.file.hasSuffix("/\(reference)") }, "an fsync of \(reference)")
            XCTAssertLessThan(sync, firstLineWrite, "\(reference) is durable before a line names it")
        }
        let directorySync = try XCTUnwrap(calls.firstIndex { $0.call == "fsync" && $0.file.hasSuffix("/\(EventLog.attachmentsName)") },
                                          "an fsync of attachments/")
        XCTAssertLessThan(directorySync, firstLineWrite, "the texts' names are durable before a line names them")
        XCTAssertEqual(attachments(log), references.sorted())
        XCTAssertEqual(log.readText(references[2]), .text("Referat nr. 3: status og næste skridt."))
        XCTAssertTrue(try log.verify().ok)
    }

    func testARefusedBatchLeavesNoText() throws {
        let operations = RecordingFileOperations()
        let (log, ledger) = try makeLog(operations)
        let before = try segment(log)
        // Texts before and after the refused event: none of them stays.
        let batch = (1...3).map(minutes) + [fact("meeting.held", ["meeting": "sg-2020-2", "body": "no-such-body"], on: "2020-06-10")] + (4...5).map(minutes)
        XCTAssertThrowsError(try ledger.append(batch)) { error in
            XCTAssertEqual((error as? Ledger.BatchRefused)?.refusals.map(\.index), [3])
        }
        XCTAssertEqual(try segment(log), before)
        XCTAssertEqual(attachments(log), [])
    }

    func testALineOverTheLimitAfterTheTextsWereStoredLeavesNoText() throws {
        let operations = RecordingFileOperations()
        let (log, ledger) = try makeLog(operations)
        let before = try segment(log)
        let long = fact("meeting.held", ["meeting": "sg-2020-2", "body": "styregruppe",
                                         "agenda": (1...9).map { _ in String(repeating: "punkt ", count: 20_000) }], on: "2020-06-10")
        XCTAssertThrowsError(try ledger.append((1...2).map(minutes) + [long])) { error in
            XCTAssertEqual((error as? Ledger.BatchRefused)?.refusals.map(\.index), [2])
        }
        XCTAssertEqual(try segment(log), before)
        XCTAssertEqual(attachments(log), [], "the texts stored for the batch were deleted again")
    }

    /// Corrections, retractions, texts, and new things, as an import brings them.
    private func largeBatch(_ round: Int, count: Int) -> [NewEvent] {
        var events: [NewEvent] = []
        for i in 0..<count {
            let unit = "u\(round)-\(i)"
            let id = fixtureID(round * 100_000 + i)
            events.append(fact("unit.registered", ["unit": unit, "name": "Enhed \(i)", "headcount": i], on: "2020-01-01", id: id))
            if i % 7 == 3 {
                events.append(fact("event.corrected", ["target": id, "changes": ["headcount": i + 1], "reason": "talt igen"], on: "2020-02-01"))
            }
            if i % 11 == 5 {
                events.append(fact("event.retracted", ["target": id, "reason": "fejl"], on: "2020-02-01"))
            }
            if i % 5 == 0 { events.append(minutes(i)) }
        }
        return events
    }

    func testTheCheckpointAnImportLeavesIsTheOneAReplayGives() throws {
        let operations = RecordingFileOperations()
        let (log, ledger) = try makeLog(operations)
        _ = try ledger.append(largeBatch(1, count: 300))
        XCTAssertNotNil(Checkpoint.load(log), "a batch of more than \(Checkpoint.rewriteDistance) events leaves a checkpoint")
        XCTAssertEqual(try ledger.checkCheckpoint(), .matches)

        // The next batch starts from it, and leaves one that matches again.
        _ = try ledger.append(largeBatch(2, count: 300))
        XCTAssertEqual(try ledger.checkCheckpoint(), .matches)
        // A unit retracted in the first batch can be registered again; one that stands cannot.
        XCTAssertNoThrow(try ledger.append([fact("unit.registered", ["unit": "u1-5", "name": "Igen"], on: "2021-01-01")]))
        XCTAssertThrowsError(try ledger.append([fact("unit.registered", ["unit": "u1-6", "name": "Igen"], on: "2021-01-01")]))
        XCTAssertTrue(try log.verify().ok)
    }

    func testTheCheckpointOfABatchThatStartsANewSegmentMatchesAReplay() throws {
        let operations = RecordingFileOperations()
        let (log, ledger) = try makeLog(operations, segmentSize: 4096)
        _ = try ledger.append(largeBatch(1, count: 280))
        _ = try ledger.append(largeBatch(2, count: 280))
        // The first batch went into segment 1 (it was not full), the second into a new one.
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(log.path)/\(EventLog.segmentName(2))"))
        let checkpoint = try XCTUnwrap(Checkpoint.load(log))
        XCTAssertEqual(checkpoint.position.segment, 2)
        XCTAssertEqual(try ledger.checkCheckpoint(), .matches)
        XCTAssertTrue(try log.verify().ok)
    }
}

private func FileIO_bytes(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// The kernel's calls, recorded with the file each was made on, and `syncfs` failing on demand.
final class RecordingFileOperations: FileOperations, @unchecked Sendable {
    struct Call: Equatable {
        var call: String
        var file: String
    }

    private let lock = NSLock()
    private let system = SystemFileOperations()
    private var _calls: [Call] = []
    private var _syncfsErrno: Int32?

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    var calls: [Call] { locked { _calls } }
    var syncfsErrno: Int32? {
        get { locked { _syncfsErrno } }
        set { locked { _syncfsErrno = newValue } }
    }

    func reset() { locked { _calls = [] } }

    private func record(_ call: String, _ fd: Int32) {
        let file = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
        locked { _calls.append(Call(call: call, file: file)) }
    }

    func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        record("write", fd)
        return system.write(fd, buffer, count)
    }

    func fsync(_ fd: Int32) -> Int32 {
        record("fsync", fd)
        return system.fsync(fd)
    }

    func ftruncate(_ fd: Int32, _ length: Int) -> Int32 {
        record("ftruncate", fd)
        return system.ftruncate(fd, length)
    }

    func syncfs(_ fd: Int32) -> Int32 {
        record("syncfs", fd)
        if let code = syncfsErrno {
            errno = code
            return -1
        }
        return system.syncfs(fd)
    }
}
