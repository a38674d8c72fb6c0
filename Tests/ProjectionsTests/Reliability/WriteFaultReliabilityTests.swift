import EventStore
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Write faults from the real kernel (issue 7), through the built binary: a file-size limit
/// (`ulimit -f`, SIGXFSZ ignored, so `write` fails with EFBIG after a short write) and a
/// full file system (a small tmpfs, when the tests may mount one). The seam-driven faults
/// (short writes, EIO, a failing fsync, ENOSPC) are in `EventStoreTests/FaultInjectionTests`.
///
/// `/dev/full` is not used: every file the store appends to is read first (a segment for
/// its tail, `LOCK` for its journal), and `/dev/full` reads as endless zeros, so it would
/// test the reader on an endless file rather than the writer on a full disk; the files
/// the store writes whole are new temporary files renamed into place, which no link can
/// stand in for. The tmpfs gives a real ENOSPC instead.
final class WriteFaultReliabilityTests: XCTestCase {
    /// Runs `recoveryctl --log LOG ARGUMENTS…` under `ulimit -f BLOCKS` (1024-byte blocks).
    private func runLimited(_ log: CLILog, blocks: Int, _ arguments: [String]) -> (status: Int32, stdout: String, stderr: String) {
        let command = ([CLILog.binary, "--log", log.path] + arguments).map(shellQuoted).joined(separator: " ")
        return runProcess(["/bin/bash", "-c", "ulimit -f \(blocks); trap '' XFSZ; exec \(command)"], env: ["RECOVERY_ACTOR": "tester"])
    }

    /// Appends until the next line of about `lineGuess` bytes would cross a 1 KiB boundary;
    /// returns the limit in blocks that falls inside that line.
    private func fillToJustBeforeABoundary(_ log: CLILog, lineGuess: Int = 420) -> Int {
        var n = 0
        while true {
            let size = fileSize(atPath: log.segmentPath())
            let room = 1024 - size % 1024
            if room > 40 && room < lineGuess - 40 { return size / 1024 + 1 }
            n += 1
            log.must(["append", "attendance.counted", "offer=fill", "venue=venue", "period=2021", "contacts=\(n)"])
        }
    }

    private func makeLog(_ name: String) throws -> CLILog {
        let log = try CLILog(in: makeTemporaryDirectory(prefix: "reliability-\(name)"))
        log.must(["append", "unit.registered", "unit=venue", "name=Venue"])
        return log
    }

    func testAFileSizeLimitInsideTheLineFailsWithExit5AndCutsTheLineBack() throws {
        let log = try makeLog("ulimit")
        let blocks = fillToJustBeforeABoundary(log)
        let before = log.snapshot()
        let events = try log.events().events.count

        let refused = runLimited(log, blocks: blocks, ["append", "attendance.counted", "offer=big", "venue=venue", "period=2021", "contacts=7"])
        XCTAssertEqual(refused.status, 5, refused.stderr)
        XCTAssertEqual(refused.stderr, "Error: write \(log.segmentPath()): File too large\n")
        XCTAssertEqual(refused.stdout, "", "nothing may be acknowledged")
        XCTAssertEqual(log.snapshot(), before, "the part of the line written before the limit was not cut back")
        XCTAssertEqual(log.verify().report?["tornTail"], .null)

        log.must(["append", "attendance.counted", "offer=big", "venue=venue", "period=2021", "contacts=7"])
        let after = log.verify()
        XCTAssertEqual(after.report?["ok"], .bool(true))
        XCTAssertEqual(after.report?.int("events"), events + 1)
        Figures.record("faults.ulimit-inside-line", ["limitBytes": blocks * 1024, "segmentBytes": fileSize(atPath: log.segmentPath()), "lost": 0])
    }

    /// A limit below the segment's size: the first `write` already fails. (The limit is at
    /// least one block: it also bounds the file the test sends stderr to.)
    func testAFileSizeLimitBelowTheSegmentFailsAtTheFirstByte() throws {
        let log = try makeLog("ulimit-below")
        let blocks = fillPastOneBlock(log)
        let before = log.snapshot()
        let refused = runLimited(log, blocks: blocks, ["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=1"])
        XCTAssertEqual(refused.status, 5)
        XCTAssertEqual(refused.stderr, "Error: write \(log.segmentPath()): File too large\n")
        XCTAssertEqual(log.snapshot(), before)
        log.must(["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=1"])
        XCTAssertEqual(log.verify().report?["ok"], .bool(true))
    }

    /// Appends until the segment is over 1 KiB; returns a limit in blocks below its size.
    private func fillPastOneBlock(_ log: CLILog) -> Int {
        var n = 0
        while fileSize(atPath: log.segmentPath()) < 1100 {
            n += 1
            log.must(["append", "attendance.counted", "offer=fill", "venue=venue", "period=2021", "contacts=\(n)"])
        }
        return fileSize(atPath: log.segmentPath()) / 1024
    }

    /// An import is one batch: its journal goes into `LOCK` first, then the lines. The
    /// limit stops the lines; none of them may stay, and the journal left behind must not
    /// hide the next append.
    func testAFileSizeLimitDuringAnImportWritesNoneOfItsRows() throws {
        let log = try makeLog("ulimit-import")
        let blocks = fillToJustBeforeABoundary(log, lineGuess: 3 * 420)
        let rows = (1...3).map { #"{"type":"attendance.counted","occurred":"2021-06-01","data":{"offer":"batch","venue":"venue","period":"2021","contacts":\#($0)}}"# }
        let file = log.root.appendingPathComponent("rows.jsonl").path
        try (rows.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let segmentBefore = FileManager.default.contents(atPath: log.segmentPath())
        let events = try log.events().events.count

        let refused = runLimited(log, blocks: blocks, ["import", file])
        XCTAssertEqual(refused.status, 5, refused.stderr)
        XCTAssertEqual(refused.stderr, "Error: write \(log.segmentPath()): File too large\n")
        XCTAssertEqual(FileManager.default.contents(atPath: log.segmentPath()), segmentBefore)
        XCTAssertEqual(try log.events().events.count, events)

        log.must(["append", "attendance.counted", "offer=after", "venue=venue", "period=2021", "contacts=1"])
        log.must(["import", file])
        let after = log.verify()
        XCTAssertEqual(after.report?["ok"], .bool(true))
        XCTAssertEqual(after.report?["tornTail"], .null)
        XCTAssertEqual(after.report?.int("events"), events + 4)
    }

    /// A writer that moves a torn tail aside and then fails to write its lines leaves the
    /// log ending where the tail began; a later crash tears the log at that same offset.
    /// Both torn tails must survive in `quarantine/` (SPEC §1: never deleted by the tool).
    func testATornTailAtAnOffsetAlreadyQuarantinedDoesNotReplaceTheEarlierCopy() throws {
        let log = try makeLog("requarantine")
        let blocks = fillPastOneBlock(log)
        let offset = fileSize(atPath: log.segmentPath())
        let first = Array(#"{"first":"torn tail"#.utf8)
        let second = Array(#"{"second":"torn tail, longer"#.utf8)
        try appendBytes(first, to: log.segmentPath())

        // The copy into quarantine/ is small enough for the limit; the lines are not.
        let refused = runLimited(log, blocks: blocks, ["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=1"])
        XCTAssertEqual(refused.status, 5, refused.stderr)
        XCTAssertEqual(fileSize(atPath: log.segmentPath()), offset, "the torn tail was cut off before the write")
        try appendBytes(second, to: log.segmentPath())
        log.must(["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=1"])

        let directory = "\(log.path)/quarantine"
        let copies = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
            .map { [UInt8](FileManager.default.contents(atPath: "\(directory)/\($0)")!) }
        XCTAssertTrue(copies.contains(second), "the second torn tail is not in quarantine/")
        XCTAssertTrue(copies.contains(first), "the first torn tail was overwritten in quarantine/")
        XCTAssertEqual(log.verify().report?["ok"], .bool(true))
    }

    // MARK: a full file system

    /// A 256 KiB tmpfs filled by appends: the append that finds no room fails with exit 5
    /// and the disk-full hint, the log ends at its last whole line, and once space is freed
    /// the next append works. Needs permission to mount (root in CI containers); skipped
    /// otherwise.
    func testAFullFileSystemLeavesTheLogAtItsLastWholeLineAndTheNextAppendAfterSpaceReturnsWorks() throws {
        let directory = try makeTemporaryDirectory(prefix: "reliability-full")
        let mountPoint = directory.appending("fs").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        let mounted = runProcess(["/bin/bash", "-c", "mount -t tmpfs -o size=256k,mode=0755 tmpfs \(shellQuoted(mountPoint)) 2>&1"])
        guard mounted.status == 0 else {
            throw XCTSkip("cannot mount a tmpfs here (\(mounted.stdout.trimmingCharacters(in: .whitespacesAndNewlines))); FaultInjectionTests covers ENOSPC through the seam")
        }
        addTeardownBlock { _ = runProcess(["/bin/umount", "-l", mountPoint]) }

        let log = CLILog(existing: "\(mountPoint)/log", root: directory.url)
        log.must(["init"])
        log.must(["append", "unit.registered", "unit=venue", "name=Venue"])
        // Fill most of the space with another file, so the log meets the limit soon.
        let filler = "\(mountPoint)/filler"
        _ = FileManager.default.createFile(atPath: filler, contents: Data(count: 200 * 1024))

        var acknowledged = 0
        var failure: (status: Int32, stdout: String, stderr: String)?
        var before: [String: Data] = [:]
        for n in 1...400 {
            before = log.snapshot()
            let result = log.run(["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=\(n)"])
            if result.status != 0 {
                failure = result
                break
            }
            acknowledged += 1
        }
        let refused = try XCTUnwrap(failure, "the file system never filled up")
        XCTAssertEqual(refused.status, 5)
        XCTAssertTrue(refused.stderr.hasSuffix("No space left on device\nThe disk is full; the log still ends at its last whole line. Free space and try again.\n"),
                      refused.stderr)
        XCTAssertEqual(log.snapshot().filter { $0.key.hasPrefix("events-") }, before.filter { $0.key.hasPrefix("events-") })
        let full = log.verify()
        XCTAssertEqual(full.report?["ok"], .bool(true))
        XCTAssertEqual(full.report?["tornTail"], .null)
        XCTAssertEqual(full.report?.int("events"), 1 + acknowledged)

        try FileManager.default.removeItem(atPath: filler)
        log.must(["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=0"])
        let after = log.verify()
        XCTAssertEqual(after.report?["ok"], .bool(true))
        XCTAssertEqual(after.report?.int("events"), 2 + acknowledged)
        Figures.record("faults.full-tmpfs", ["appendsBeforeFull": acknowledged, "lost": 0])
    }

    private func appendBytes(_ bytes: [UInt8], to path: String) throws {
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(bytes))
        try handle.close()
    }
}
