import EventStore
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Several writers and readers at once, through the built binary (issue 7).
final class ConcurrencyReliabilityTests: XCTestCase {
    /// `RELIABILITY_WRITERS` processes (default 8) each append `RELIABILITY_APPENDS` events
    /// (default 30 in CI; `scripts/reliability-long.sh` runs 8 × 500) one `recoveryctl
    /// append` at a time, all at once, while this test reads the log again and again with
    /// `log --json` and `verify --json` (pausing `RELIABILITY_READ_PAUSE_MS` between reads). Every append succeeds,
    /// the seqs are 1…N without a gap, each writer's events are all there in its own order,
    /// the log verifies, and no read ever saw a partial line or an integrity failure.
    func testWritersAtOnceMakeOneContiguousChainAndReadersNeverSeeAPartialLine() throws {
        let writers = Knobs.int("RELIABILITY_WRITERS", 8)
        let appends = Knobs.int("RELIABILITY_APPENDS", 30)
        let pause = Double(Knobs.int("RELIABILITY_READ_PAUSE_MS", 100)) / 1000
        let directory = try makeTemporaryDirectory(prefix: "reliability-writers")
        let log = try CLILog(in: directory)
        log.must(["append", "unit.registered", "unit=venue", "name=Venue"])
        let script = #"""
            BIN=$1; LOG=$2; W=$3; N=$4
            i=1
            while [ $i -le $N ]; do
              "$BIN" --log "$LOG" append attendance.counted offer=w$W venue=venue period=2021 contacts=$i \
                --occurred 2021-06-01 --actor writer-$W > /dev/null || echo "writer $W append $i: exit $?" >&2
              i=$((i + 1))
            done
            """#
        let started = monotonicSeconds()
        let children = try (1...writers).map { writer in
            try Child(["/bin/bash", "-c", script, "writers", CLILog.binary, log.path, String(writer), String(appends)],
                      environment: ["RECOVERY_LOCK_TIMEOUT": "60"], stderr: directory.appending("writer-\(writer).err").path)
        }

        var reads = 0, verifies = 0, tornSeen = 0, longestRead = 0
        while children.contains(where: { $0.poll() == nil }) {
            // A full listing: every line a whole event, seqs 1…n, nothing but torn-tail notes on stderr.
            let listing = log.run(["--json", "log"])
            XCTAssertEqual(listing.status, 0, listing.stderr)
            var expected = 1
            for line in listing.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                guard let event = parseJSONObject(String(line)), event.int("seq") == expected, event.string("hash")?.count == 64 else {
                    XCTFail("read \(reads): line \(expected) is not a whole event: \(line.prefix(120))")
                    break
                }
                expected += 1
            }
            XCTAssertTrue(listing.stdout.isEmpty || listing.stdout.hasSuffix("\n"))
            if listing.stderr.contains("never finished") { tornSeen += 1 }
            for line in listing.stderr.split(separator: "\n") where !line.hasPrefix("Note: ") && !line.hasPrefix("they are not part") {
                XCTFail("read \(reads): \(line)")
            }
            longestRead = max(longestRead, expected - 1)
            reads += 1

            let verdict = log.verify()
            XCTAssertEqual(verdict.status, 0, verdict.stderr)
            XCTAssertEqual(verdict.report?["ok"], .bool(true), String(describing: verdict.report))
            if verdict.report?["tornTail"] != .null { tornSeen += 1 }
            verifies += 1
            sleepSeconds(pause)
        }
        let seconds = monotonicSeconds() - started
        for (index, child) in children.enumerated() {
            XCTAssertEqual(child.wait(), 0)
            let problems = (try? String(contentsOfFile: directory.appending("writer-\(index + 1).err").path, encoding: .utf8)) ?? ""
            XCTAssertEqual(problems, "", "writer \(index + 1)")
        }

        let verdict = log.verify()
        XCTAssertEqual(verdict.report?["ok"], .bool(true))
        XCTAssertEqual(verdict.report?["tornTail"], .null)
        XCTAssertEqual(verdict.report?.int("events"), 1 + writers * appends)
        let events = try log.events().events
        XCTAssertEqual(events.map(\.seq), Array(1...(1 + writers * appends)))
        for writer in 1...writers {
            let own = events.filter { $0.actor == "writer-\(writer)" }.map { $0.data["contacts"] }
            XCTAssertEqual(own, (1...appends).map { .integer($0) }, "writer \(writer): its appends, each once, in its order")
        }
        Figures.record("concurrency.writers", ["writers": writers, "appendsEach": appends, "events": events.count,
                                               "seconds": Int(seconds.rounded()), "readsDuringWrites": reads,
                                               "verifiesDuringWrites": verifies, "transientTornTailsSeen": tornSeen, "lost": 0])
    }

    // MARK: the lock

    /// Holds the writers' lock from this process, as a stuck writer would.
    private func holdLock(_ log: CLILog) throws -> Int32 {
        let fd = open("\(log.path)/\(EventLog.lockName)", O_RDWR)
        guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            throw CLILog.CLILogError(message: "cannot take the lock: \(String(cString: strerror(errno)))")
        }
        return fd
    }

    func testAWriterHeldUpByALockHolderGivesUpWithExit5AndAClearMessage() throws {
        let log = try CLILog(in: makeTemporaryDirectory(prefix: "reliability-lock"))
        log.must(["append", "unit.registered", "unit=venue", "name=Venue"])
        let fd = try holdLock(log)
        defer { close(fd) }
        let before = log.snapshot()

        let started = monotonicSeconds()
        let refused = log.run(["append", "unit.registered", "unit=late", "name=Late"], env: ["RECOVERY_LOCK_TIMEOUT": "1.5"], timeout: 30)
        let waited = monotonicSeconds() - started
        XCTAssertEqual(refused.status, 5)
        XCTAssertEqual(refused.stderr, """
            Error: another writer held \(log.path)/LOCK for more than 1.5 s; nothing was written
            Try again when the other writer is done; RECOVERY_LOCK_TIMEOUT sets the wait in seconds.

            """)
        XCTAssertGreaterThanOrEqual(waited, 1.5, "it gave up before the wait was over")
        XCTAssertLessThan(waited, 10, "it waited far longer than asked")
        XCTAssertEqual(log.snapshot(), before)

        // Readers take no lock: they answer at once while a writer holds it.
        let readStarted = monotonicSeconds()
        XCTAssertEqual(log.run(["--json", "log"]).status, 0)
        XCTAssertEqual(log.verify().report?["ok"], .bool(true))
        XCTAssertLessThan(monotonicSeconds() - readStarted, 5)
    }

    /// Without `RECOVERY_LOCK_TIMEOUT` a writer waits 10 s, then gives up: it never hangs.
    func testTheDefaultLockWaitIsTenSecondsNotForever() throws {
        let log = try CLILog(in: makeTemporaryDirectory(prefix: "reliability-lock-default"))
        let fd = try holdLock(log)
        defer { close(fd) }
        let started = monotonicSeconds()
        let refused = log.run(["append", "unit.registered", "unit=late", "name=Late"], timeout: 60)
        let waited = monotonicSeconds() - started
        XCTAssertEqual(refused.status, 5)
        XCTAssertTrue(refused.stderr.hasPrefix("Error: another writer held \(log.path)/LOCK for more than 10 s; nothing was written\n"), refused.stderr)
        XCTAssertGreaterThanOrEqual(waited, 10)
        XCTAssertLessThan(waited, 20)
    }

    func testAWriterWaitsForALockHolderThatLetsGoInTime() throws {
        let log = try CLILog(in: makeTemporaryDirectory(prefix: "reliability-lock-wait"))
        log.must(["append", "unit.registered", "unit=venue", "name=Venue"])
        let fd = try holdLock(log)
        let out = log.root.appendingPathComponent("waiting.out").path
        let started = monotonicSeconds()
        let waiting = try Child([CLILog.binary, "--log", log.path, "append", "unit.registered", "unit=patient", "name=Patient"],
                                environment: ["RECOVERY_LOCK_TIMEOUT": "20", "RECOVERY_ACTOR": "tester"], stdout: out)
        sleepSeconds(1.0)
        XCTAssertNil(waiting.poll(), "the writer did not wait for the lock")
        flock(fd, LOCK_UN)
        close(fd)
        XCTAssertEqual(waiting.wait(), 0)
        XCTAssertGreaterThanOrEqual(monotonicSeconds() - started, 1.0)
        XCTAssertTrue(((try? String(contentsOfFile: out, encoding: .utf8)) ?? "").hasPrefix("seq 2 hash "))
        XCTAssertEqual(log.verify().report?.int("events"), 2)
    }
}
