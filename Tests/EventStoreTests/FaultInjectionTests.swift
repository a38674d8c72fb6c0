import EventStore
import Foundation
import XCTest

/// The durability rules of SPEC §2 under failing system calls, injected through
/// `FileOperations`: short and interrupted writes, a write failing midway (EIO), a full
/// disk (ENOSPC), a failing fsync, a failing cut-back.
final class FaultInjectionTests: TemporaryDirectoryTestCase {
    // MARK: short and interrupted writes

    func testOneByteWritesStillWriteWholeLinesEverywhere() throws {
        let faults = FaultyFileOperations()
        faults.maxBytesPerWrite = 1  // every file: segments, the journal in LOCK, quarantine, manifest
        let log = try makeLog(fileOperations: faults)
        let outcome = try log.append { _ in (1...3).map { self.draft($0) } }
        let lines = outcome.events.flatMap { $0.lineBytes() }
        assertBytes(try bytes(segmentPath()), lines)
        XCTAssertGreaterThanOrEqual(faults.segmentWrites, lines.count, "one call per byte")

        // A torn tail is copied into quarantine/ one byte at a time as well.
        try appendBytes(Array(#"{"seq":4,"id""#.utf8), to: segmentPath())
        let recovered = try log.append { _ in [self.draft(4)] }
        assertBytes(try bytes("\(logPath)/\(try XCTUnwrap(recovered.quarantined?.copy))"), Array(#"{"seq":4,"id""#.utf8))
        let report = try log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.events, 5)
    }

    func testInterruptedWritesAreRetried() throws {
        let faults = FaultyFileOperations()
        faults.interruptEveryOtherWrite = true
        faults.maxBytesPerWrite = 7
        let log = try makeLog(fileOperations: faults)
        let outcome = try log.append { _ in [self.draft(1), self.draft(2)] }
        assertBytes(try bytes(segmentPath()), outcome.events.flatMap { $0.lineBytes() })
        XCTAssertTrue(try log.verify().ok)
    }

    // MARK: a write failing midway

    func testAWriteFailingMidwayIsCutBackAndTheNextAppendWorks() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        let written = try appendNotes(log, count: 2)
        let before = try bytes(segmentPath())

        faults.failSegmentWrites(afterBytes: 10, errno: EIO)
        XCTAssertThrowsError(try log.append { _ in [self.draft(3)] }) { error in
            XCTAssertEqual(error as? LogError, .io(operation: "write", path: self.segmentPath(), errno: EIO))
        }
        XCTAssertEqual(faults.segmentBytesWritten, 10, "the failure came after part of the line was on disk")
        assertBytes(try bytes(segmentPath()), before, "cut back to its length before the write")
        let (events, summary) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events, written)
        XCTAssertNil(summary.tornTail)

        faults.heal()
        let next = try log.append { _ in [self.draft(3)] }
        XCTAssertEqual(next.events.map(\.seq), [3])
        XCTAssertNil(next.quarantined)
        XCTAssertTrue(try log.verify().ok)
    }

    func testABatchWhoseWriteFailsWritesNothingAndLaterAppendsAreNotHidden() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        try appendNotes(log, count: 2)
        let before = try bytes(segmentPath())

        // Two whole lines of the three reach the file before the error.
        let probe = try XCTUnwrap(readAll(log).events.last).lineBytes().count
        faults.failSegmentWrites(afterBytes: probe * 2 + 5, errno: EIO)
        XCTAssertThrowsError(try log.append { _ in (3...5).map { self.draft($0) } }) { error in
            XCTAssertEqual(error as? LogError, .io(operation: "write", path: self.segmentPath(), errno: EIO))
        }
        assertBytes(try bytes(segmentPath()), before)
        XCTAssertEqual(try readAll(log).events.count, 2)

        faults.heal()
        let acknowledged = try XCTUnwrap(log.append { _ in [self.draft(3)] }.events.first)
        XCTAssertEqual(acknowledged.seq, 3)
        let (events, summary) = try readAll(log)
        XCTAssertEqual(events.last, acknowledged, "an acknowledged event is never hidden by the failed batch's journal")
        XCTAssertNil(summary.tornTail)
        let report = try log.verify()
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.events, 3)
    }

    /// A batch's lines are written while the next are sealed, in chunks of a few MiB:
    /// every reason a draft cannot be a line is found before the first byte, and a write
    /// failing after some chunks are on disk cuts all of them back.
    func testABatchOfSeveralChunksIsWrittenAllOrNothing() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        try appendNotes(log, count: 2)
        let before = try bytes(segmentPath())
        let pad: KeyValuePairs<String, JSONValue> = ["pad": .string(String(repeating: "x", count: 300_000))]
        let drafts = (3...40).map { self.draft($0, extra: pad) }  // about 11 MiB of lines: three chunks
        let overlong = draft(41, extra: ["pad": .string(String(repeating: "x", count: EventLog.maxLineBytes))])
        let writesBefore = faults.segmentWrites
        let chunk = 4 << 20  // EventLog.lineChunkBytes

        XCTAssertThrowsError(try log.append(keepingEvents: false) { _ in drafts + [overlong] }) { error in
            guard case LogError.invalidInput(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("would be a line of"), message)
        }
        XCTAssertEqual(faults.segmentWrites, writesBefore, "the last draft was refused before any line was written")
        assertBytes(try bytes(segmentPath()), before)

        faults.failSegmentWrites(afterBytes: 2 * chunk + 100, errno: EIO)
        XCTAssertThrowsError(try log.append(keepingEvents: false) { _ in drafts }) { error in
            XCTAssertEqual(error as? LogError, .io(operation: "write", path: self.segmentPath(), errno: EIO))
        }
        XCTAssertGreaterThan(faults.segmentBytesWritten, 2 * chunk, "two chunks were on disk before the error")
        assertBytes(try bytes(segmentPath()), before, "cut back to its length before the batch")

        faults.heal()
        let outcome = try log.append(keepingEvents: false) { _ in drafts }
        XCTAssertEqual(outcome.events, [], "the events were not kept")
        XCTAssertEqual(outcome.count, drafts.count)
        XCTAssertEqual(outcome.seqs, 3...40)
        let (events, summary) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events.map(\.seq), Array(1...40))
        XCTAssertEqual(summary.head, outcome.head)
        XCTAssertEqual(outcome.endOffset - outcome.startOffset, events.dropFirst(2).reduce(0) { $0 + $1.lineBytes().count })
        assertBytes(try bytes(segmentPath()), before + events.dropFirst(2).flatMap { $0.lineBytes() })
        XCTAssertTrue(try log.verify().ok)
    }

    func testAWriteOfZeroBytesIsAnErrorAndIsCutBack() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        try appendNotes(log, count: 1)
        let before = try bytes(segmentPath())
        faults.failSegmentWrites(afterBytes: 3, errno: 0)  // 0: the write returns 0 instead of -1
        XCTAssertThrowsError(try log.append { _ in [self.draft(2)] }) { error in
            XCTAssertEqual(error as? LogError, .io(operation: "write", path: self.segmentPath(), errno: EIO))
        }
        assertBytes(try bytes(segmentPath()), before)
    }

    /// When even the cut-back fails, the part line stays as a torn tail: never read as
    /// an event, and quarantined by the next writer.
    func testWhenTheCutBackFailsTooThePartLineIsATornTail() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        let written = try appendNotes(log, count: 2)
        let before = try bytes(segmentPath())
        faults.failSegmentWrites(afterBytes: 10, errno: EIO)
        faults.failSegmentTruncates = true
        XCTAssertThrowsError(try log.append { _ in [self.draft(3)] })

        let after = try bytes(segmentPath())
        XCTAssertEqual(after.count, before.count + 10)
        let (events, summary) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events, written)
        XCTAssertEqual(summary.tornTail, TornTail(file: "events-000001.jsonl", offset: before.count, length: 10))

        faults.heal()
        let next = try log.append { _ in [self.draft(3)] }
        assertBytes(try bytes("\(logPath)/\(try XCTUnwrap(next.quarantined?.copy))"), Array(after.suffix(10)))
        XCTAssertEqual(next.events.map(\.seq), [4])
        XCTAssertTrue(try log.verify().ok)
    }

    // MARK: fsync

    func testAFailedFsyncIsReportedOnceAndNothingIsAcknowledged() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        try appendNotes(log, count: 2)
        faults.failSegmentFsyncs(errno: EIO)
        let fsyncsBefore = faults.segmentFsyncs

        var acknowledged: AppendOutcome?
        XCTAssertThrowsError(acknowledged = try log.append { _ in [self.draft(3)] }) { error in
            XCTAssertEqual(error as? LogError, .io(operation: "fsync", path: self.segmentPath(), errno: EIO))
            XCTAssertEqual((error as? LogError)?.exitCode, 5)
        }
        XCTAssertNil(acknowledged, "no outcome, no seq: the append is not acknowledged")
        XCTAssertEqual(faults.segmentFsyncs - fsyncsBefore, 1, "a failed fsync is never retried")

        // Whether the line survives is unknown; here it is still in the page cache. Either
        // way the log is whole and the next writer continues after what is there.
        faults.heal()
        let report = try log.verify()
        XCTAssertTrue(report.ok)
        let next = try log.append { _ in [self.draft(4)] }
        XCTAssertEqual(next.events.first?.seq, report.events + 1)
        XCTAssertTrue(try log.verify().ok)
    }

    func testAFailedFsyncOfABatchJournalWritesNoLine() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        try appendNotes(log, count: 1)
        let before = try bytes(segmentPath())
        faults.failFsyncs(errno: EIO) { ($0 as NSString).lastPathComponent == "LOCK" }
        XCTAssertThrowsError(try log.append { _ in [self.draft(2), self.draft(3)] }) { error in
            XCTAssertEqual(error as? LogError, .io(operation: "fsync", path: "\(self.logPath)/LOCK", errno: EIO))
        }
        assertBytes(try bytes(segmentPath()), before, "no line is written before its journal is durable")
        faults.heal()
        XCTAssertEqual(try log.append { _ in [self.draft(2)] }.events.map(\.seq), [2])
        XCTAssertEqual(try readAll(log).events.count, 2)
        XCTAssertTrue(try log.verify().ok)
    }

    // MARK: a full disk

    func testAFullDiskLeavesTheLogAtItsLastWholeLine() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        let written = try appendNotes(log, count: 3)
        let before = try bytes(segmentPath())

        faults.failSegmentWrites(afterBytes: 100, errno: ENOSPC)
        for drafts in [[draft(4)], [draft(4), draft(5), draft(6)]] {
            XCTAssertThrowsError(try log.append { _ in drafts }) { error in
                XCTAssertEqual(error as? LogError, .io(operation: "write", path: self.segmentPath(), errno: ENOSPC))
                XCTAssertTrue((error as? LogError)?.hint?.contains("The disk is full; the log still ends at its last whole line") ?? false)
            }
            assertBytes(try bytes(segmentPath()), before)
            faults.failSegmentWrites(afterBytes: 100, errno: ENOSPC)
        }
        let report = try log.verify()
        XCTAssertTrue(report.ok)
        XCTAssertNil(report.tornTail)
        XCTAssertEqual(report.head.hash, written[2].hash)

        faults.heal()  // space returns
        let next = try log.append { _ in [self.draft(4)] }
        XCTAssertEqual(next.events.map(\.seq), [4])
        XCTAssertNil(next.quarantined)
        let after = try log.verify()
        XCTAssertTrue(after.ok)
        XCTAssertEqual(after.events, 4)
    }

    func testAFullDiskWhileQuarantiningLeavesTheTornTailForTheNextWriter() throws {
        let faults = FaultyFileOperations()
        let log = try makeLog(fileOperations: faults)
        try appendNotes(log, count: 2)
        let torn = Array(#"{"seq":3,"#.utf8)
        try appendBytes(torn, to: segmentPath())
        let before = try bytes(segmentPath())

        faults.failWrites(afterBytes: 2, errno: ENOSPC) { $0.contains("/quarantine/") }
        XCTAssertThrowsError(try log.append { _ in [self.draft(3)] }) { error in
            guard case LogError.io(let operation, _, let code) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(operation, "write")
            XCTAssertEqual(code, ENOSPC)
        }
        assertBytes(try bytes(segmentPath()), before, "the torn bytes stay until their copy is safe")
        XCTAssertEqual(try entries("\(logPath)/quarantine"), [], "no half copy is left behind")

        faults.heal()
        let next = try log.append { _ in [self.draft(3)] }
        assertBytes(try bytes("\(logPath)/\(try XCTUnwrap(next.quarantined?.copy))"), torn)
        XCTAssertTrue(try log.verify().ok)
    }

    // MARK: create

    func testCreateReportsAFailedFsync() throws {
        let faults = FaultyFileOperations()
        faults.failFsyncs(errno: EIO) { _ in true }
        XCTAssertThrowsError(try makeLog(fileOperations: faults)) { error in
            guard case LogError.io(let operation, _, let code) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(operation, "fsync")
            XCTAssertEqual(code, EIO)
        }
        XCTAssertFalse(exists("\(logPath)/manifest.json"), "without a manifest it is not a log")
    }
}

/// `FileOperations` that fail on demand, for the files a predicate picks by path
/// (found through `/proc/self/fd`), and count what they were asked to do.
///
/// `@unchecked Sendable`: the fault plan and counters are mutable and guarded by `lock`.
final class FaultyFileOperations: FileOperations, @unchecked Sendable {
    private let lock = NSLock()
    private let system = SystemFileOperations()

    private var _maxBytesPerWrite = Int.max
    private var _interruptEveryOtherWrite = false
    private var interruptNext = false
    private var writeFault: (budget: Int, errno: Int32, applies: @Sendable (String) -> Bool)?
    private var fsyncFault: (errno: Int32, applies: @Sendable (String) -> Bool)?
    private var _failSegmentTruncates = false
    private var _segmentWrites = 0
    private var _segmentBytesWritten = 0
    private var _segmentFsyncs = 0

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// At most this many bytes per `write`, for every file.
    var maxBytesPerWrite: Int {
        get { locked { _maxBytesPerWrite } }
        set { locked { _maxBytesPerWrite = newValue } }
    }
    /// Every other `write` fails with EINTR before writing anything.
    var interruptEveryOtherWrite: Bool {
        get { locked { _interruptEveryOtherWrite } }
        set { locked { _interruptEveryOtherWrite = newValue } }
    }
    var failSegmentTruncates: Bool {
        get { locked { _failSegmentTruncates } }
        set { locked { _failSegmentTruncates = newValue } }
    }
    var segmentWrites: Int { locked { _segmentWrites } }
    var segmentBytesWritten: Int { locked { _segmentBytesWritten } }
    var segmentFsyncs: Int { locked { _segmentFsyncs } }

    /// Writes to matching files succeed for `afterBytes` more bytes, then fail with
    /// `errno` (or return 0 when `errno` is 0).
    func failWrites(afterBytes: Int, errno: Int32, where applies: @escaping @Sendable (String) -> Bool) {
        locked {
            writeFault = (afterBytes, errno, applies)
            _segmentBytesWritten = 0
        }
    }

    func failSegmentWrites(afterBytes: Int, errno: Int32) {
        failWrites(afterBytes: afterBytes, errno: errno, where: FaultyFileOperations.isSegment)
    }

    func failFsyncs(errno: Int32, where applies: @escaping @Sendable (String) -> Bool) {
        locked { fsyncFault = (errno, applies) }
    }

    func failSegmentFsyncs(errno: Int32) {
        failFsyncs(errno: errno, where: FaultyFileOperations.isSegment)
    }

    /// Every call succeeds again.
    func heal() {
        locked {
            writeFault = nil
            fsyncFault = nil
            _failSegmentTruncates = false
            _maxBytesPerWrite = .max
            _interruptEveryOtherWrite = false
        }
    }

    @Sendable static func isSegment(_ path: String) -> Bool {
        (path as NSString).lastPathComponent.hasPrefix("events-")
    }

    static func path(of fd: Int32) -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)")) ?? ""
    }

    // MARK: FileOperations

    func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        let path = FaultyFileOperations.path(of: fd)
        let segment = FaultyFileOperations.isSegment(path)
        lock.lock()
        if _interruptEveryOtherWrite {
            interruptNext.toggle()
            if interruptNext {
                lock.unlock()
                errno = EINTR
                return -1
            }
        }
        var allowed = min(count, _maxBytesPerWrite)
        if let fault = writeFault, fault.applies(path) {
            if fault.budget == 0 {
                lock.unlock()
                if fault.errno == 0 { return 0 }
                errno = fault.errno
                return -1
            }
            allowed = min(allowed, fault.budget)
            writeFault!.budget -= allowed
        }
        lock.unlock()
        let written = system.write(fd, buffer, allowed)
        if segment, written > 0 {
            locked {
                _segmentWrites += 1
                _segmentBytesWritten += written
            }
        }
        return written
    }

    func fsync(_ fd: Int32) -> Int32 {
        let path = FaultyFileOperations.path(of: fd)
        let fault: Int32? = locked {
            if FaultyFileOperations.isSegment(path) { _segmentFsyncs += 1 }
            guard let fault = fsyncFault, fault.applies(path) else { return nil }
            return fault.errno
        }
        if let fault {
            errno = fault
            return -1
        }
        return system.fsync(fd)
    }

    func ftruncate(_ fd: Int32, _ length: Int) -> Int32 {
        let path = FaultyFileOperations.path(of: fd)
        if locked({ _failSegmentTruncates }) && FaultyFileOperations.isSegment(path) {
            errno = EIO
            return -1
        }
        return system.ftruncate(fd, length)
    }
}
