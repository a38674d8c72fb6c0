import EventStore
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Crash safety (issue 7): writers killed with SIGKILL at random moments, and segments
/// cut and zeroed the way a power loss leaves the bytes that were never fsynced.
///
/// The promise checked after every round: `verify` passes (a torn tail at most), and every
/// append whose seq was printed is in the log, byte for byte as printed.
final class CrashReliabilityTests: XCTestCase {
    // MARK: SIGKILL during an append loop

    /// A shell loop appends (single events, and every fifth time a three-row import) and
    /// is killed with SIGKILL after a seeded random delay; rounds continue on the same log.
    /// Rounds: `RELIABILITY_ROUNDS` (default 20).
    func testAppendLoopKilledAtRandomMomentsLosesNothingAcknowledged() throws {
        let rounds = Knobs.int("RELIABILITY_ROUNDS", 20)
        var random = SplitMix64(seed: Knobs.seed ^ 0x01)
        let directory = try makeTemporaryDirectory(prefix: "reliability-kill")
        // Small segments, so kills also land while a new segment is being started.
        let log = try CLILog(in: directory, segmentSize: 8192)
        log.must(["append", "unit.registered", "unit=venue", "name=Venue", "--occurred", "2021-01-01"])
        let work = directory.appending("work").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let script = directory.appending("loop.sh").path
        try Self.loopScript.write(toFile: script, atomically: true, encoding: .utf8)

        var next = 1
        var tornSeen: [(file: String, offset: Int, bytes: [UInt8])] = []
        var acknowledged = 0, batchesAcknowledged = 0, writtenUnacknowledged = 0
        for round in 0..<rounds {
            let delay = Double.random(in: 0.02...0.4, using: &random)
            let stderrPath = "\(work)/stderr-\(round)"
            let child = try Child(["/bin/bash", script, CLILog.binary, log.path, work, String(next), String(round)],
                                  environment: ["RECOVERY_ACTOR": "crash-loop"], stderr: stderrPath)
            sleepSeconds(delay)
            child.signalGroup(SIGKILL)
            let status = child.wait()
            let problems = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
            for line in problems.split(separator: "\n") where !line.hasPrefix("Note: moved ") {
                XCTFail("round \(round): the loop reported \(line)")
            }
            XCTAssertTrue(status == 128 + SIGKILL || status == 0, "round \(round): loop ended with \(status)")

            // verify passes, with a torn tail at most.
            let verdict = log.verify()
            XCTAssertEqual(verdict.status, 0, "round \(round): \(verdict.stderr)")
            XCTAssertEqual(verdict.report?["ok"], .bool(true), "round \(round): \(String(describing: verdict.report))")
            if let torn = verdict.report?.object("tornTail"), let file = torn.string("file"), let offset = torn.int("offset"), let count = torn.int("bytes") {
                let segment = [UInt8](FileManager.default.contents(atPath: "\(log.path)/\(file)") ?? Data())
                tornSeen.append((file, offset, Array(segment[offset..<min(segment.count, offset + count)])))
            }

            // Every acknowledged append is in the log as printed.
            let checked = try checkAcknowledged(log: log, work: work)
            acknowledged = checked.appends
            batchesAcknowledged = checked.batches
            // In the log but never printed: the kill came after the write; the next round
            // retries with the same id, which must find it instead of writing it twice.
            writtenUnacknowledged += checked.unacknowledged
            next = checked.nextIteration
        }
        // One more append quarantines a torn tail the last round left.
        log.must(["append", "attendance.counted", "offer=final", "venue=venue", "period=2021", "contacts=1", "--occurred", "2021-06-01"])
        XCTAssertEqual(log.verify().report?["tornTail"], .null)
        assertEveryTornTailIsInQuarantine(tornSeen, log: log)
        let events = try log.events().events
        XCTAssertGreaterThan(acknowledged, rounds, "the loop should get some appends done in most rounds")
        Figures.record("crash.kill-loop", ["rounds": rounds, "kills": rounds, "acknowledgedAppends": acknowledged,
                                           "acknowledgedBatches": batchesAcknowledged, "writtenNotAcknowledged": writtenUnacknowledged,
                                           "tornTails": tornSeen.count, "events": events.count, "lost": 0])
    }

    /// The loop: iteration `i` appends `contacts=i` with id `uuid(i, family: 1)`; every fifth
    /// iteration instead imports three rows with ids `uuid(10i+k, family: 2)`. Appends print
    /// their event (`--json`) to `acks.jsonl`; an import prints its summary to
    /// `import-i.json`. A failure (not a kill) stops the loop with a line on stderr.
    static let loopScript = #"""
        BIN=$1; LOG=$2; WORK=$3; i=$4; ROUND=$5
        hex() { printf '%08x-0000-4000-8000-%012x' "$1" "$2"; }
        while :; do
          if [ $((i % 5)) -eq 4 ]; then
            batch="$WORK/batch-$i.jsonl"
            : > "$batch"
            for k in 0 1 2; do
              n=$((i * 10 + k))
              printf '{"type":"attendance.counted","id":"%s","occurred":"2021-06-01","data":{"offer":"batch","venue":"venue","period":"2021","contacts":%d}}\n' "$(hex 2 $n)" "$n" >> "$batch"
            done
            "$BIN" --log "$LOG" --json import "$batch" >> "$WORK/import-$i.json"
          else
            "$BIN" --log "$LOG" --json append attendance.counted offer=loop venue=venue period=2021 contacts=$i \
              --occurred 2021-06-01 --id "$(hex 1 $i)" >> "$WORK/acks.jsonl"
          fi
          status=$?
          if [ $status -ne 0 ]; then echo "FAILED iteration $i round $ROUND: exit $status" >&2; exit 1; fi
          i=$((i + 1))
        done
        """#

    /// Checks every acknowledgement written so far against the log; returns how many there
    /// were and the first iteration not acknowledged.
    private func checkAcknowledged(log: CLILog, work: String, file: StaticString = #filePath, line: UInt = #line) throws
        -> (appends: Int, batches: Int, unacknowledged: Int, nextIteration: Int)
    {
        let (lines, _) = log.lines()
        let events = try log.events().events
        let byID = Dictionary(events.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var appends = 0, batches = 0, last = 0
        var acknowledgedIDs = Set<String>()

        // Single appends: the printed event is the line at its seq, byte for byte.
        let acks = (try? String(contentsOfFile: "\(work)/acks.jsonl", encoding: .utf8)) ?? ""
        for ack in acks.split(separator: "\n", omittingEmptySubsequences: true) {
            // A line cut by the kill was never fully printed: not acknowledged.
            guard let event = parseJSONObject(String(ack)), let seq = event.int("seq"), let id = event.string("id") else { continue }
            XCTAssertTrue(seq >= 1 && seq <= lines.count, "acknowledged seq \(seq) is not in the log (\(lines.count) lines)", file: file, line: line)
            guard seq >= 1 && seq <= lines.count else { continue }
            XCTAssertEqual(String(decoding: lines[seq - 1], as: UTF8.self), String(ack), "acknowledged seq \(seq) differs in the log", file: file, line: line)
            let iteration = Int(id.suffix(12), radix: 16) ?? -1
            XCTAssertEqual(event.object("data")?.int("contacts"), iteration, "the event printed for \(id) holds other data", file: file, line: line)
            acknowledgedIDs.insert(id)
            appends += 1
            last = max(last, iteration)
        }
        // Imports: every row of an acknowledged batch is in the log, in one run of seqs.
        let imports = (try? FileManager.default.contentsOfDirectory(atPath: work)) ?? []
        for name in imports where name.hasPrefix("import-") {
            guard let iteration = Int(name.dropFirst(7).dropLast(5)),
                  let text = try? String(contentsOfFile: "\(work)/\(name)", encoding: .utf8),
                  let summary = parseJSONObject(text.trimmingCharacters(in: .newlines)) else { continue }
            batches += 1
            last = max(last, iteration)
            var seqs: [Int] = []
            for k in 0..<3 {
                let n = iteration * 10 + k
                let event = byID[uuid(n, family: 2)]
                XCTAssertEqual(event?.data["contacts"], .integer(n), "acknowledged import row \(n) is not in the log", file: file, line: line)
                if let event { seqs.append(event.seq) }
                acknowledgedIDs.insert(uuid(n, family: 2))
            }
            XCTAssertEqual(seqs, seqs.first.map { Array($0..<($0 + 3)) }, "a batch is one run of seqs", file: file, line: line)
            if summary.int("existing") != 3 {
                XCTAssertEqual(summary.int("written"), 3)
                XCTAssertEqual(summary.int("first"), seqs.first)
            }
        }
        // Nothing else got in: every event is the setup, one the loop asked for, or a quarantine note.
        for event in events.dropFirst() {
            switch event.type {
            case EventLog.tailQuarantinedType:
                XCTAssertEqual(event.actor, "recoveryctl")
            case "attendance.counted":
                let family = Int(event.id.prefix(8), radix: 16), n = Int(event.id.suffix(12), radix: 16)
                XCTAssertTrue(family == 1 || family == 2, "unexpected event \(event.id)", file: file, line: line)
                XCTAssertEqual(event.data["contacts"], n.map { .integer($0) }, "event \(event.id) holds other data than asked", file: file, line: line)
                XCTAssertEqual(event.actor, "crash-loop")
            default:
                XCTFail("unexpected event type \(event.type) at seq \(event.seq)", file: file, line: line)
            }
        }
        let unacknowledged = events.filter { $0.type == "attendance.counted" && !acknowledgedIDs.contains($0.id) }.count
        return (appends, batches, unacknowledged, last + 1)
    }

    private func assertEveryTornTailIsInQuarantine(_ torn: [(file: String, offset: Int, bytes: [UInt8])], log: CLILog,
                                                  file: StaticString = #filePath, line: UInt = #line) {
        let directory = "\(log.path)/\(EventLog.quarantineName)"
        let copies = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).map {
            [UInt8](FileManager.default.contents(atPath: "\(directory)/\($0)") ?? Data())
        }
        for (index, tail) in torn.enumerated() {
            XCTAssertTrue(copies.contains(tail.bytes),
                          "torn tail \(index + 1) (\(tail.bytes.count) bytes at \(tail.file):\(tail.offset)) is not in quarantine/ any more",
                          file: file, line: line)
        }
    }

    // MARK: SIGKILL in the middle of a large write

    /// Large appends (about 900 KB, so the kernel copies them page by page) are killed
    /// right as the segment starts to grow, which tears the line: the torn tail must never
    /// count, the next writer must quarantine it, and no quarantined bytes may be lost,
    /// including when the append that quarantines is itself torn at the same offset.
    /// Rounds: `RELIABILITY_LARGE_ROUNDS` (default 12), four to a log.
    func testLargeAppendsKilledMidWriteLeaveOnlyATornTailAndQuarantineKeepsEveryTear() throws {
        let rounds = Knobs.int("RELIABILITY_LARGE_ROUNDS", 12)
        var random = SplitMix64(seed: Knobs.seed ^ 0x02)
        let directory = try makeTemporaryDirectory(prefix: "reliability-tear")
        let agenda = directory.appending("agenda.json").path
        let item = String(repeating: "x", count: 999)
        try ("{\"agenda\":[" + Array(repeating: "\"\(item)\"", count: 900).joined(separator: ",") + "]}")
            .write(toFile: agenda, atomically: true, encoding: .utf8)

        var log: CLILog?
        var tornSeen: [(file: String, offset: Int, bytes: [UInt8])] = []
        var acknowledged: [String: String] = [:]  // seq → printed line
        var tears = 0, killed = 0, completed = 0, logs = 0, pendingTorn = 0
        for round in 0..<rounds {
            if round % 4 == 0 {
                if let log { try finish(log, acknowledged: acknowledged, torn: tornSeen) }
                log = try CLILog(in: directory, name: "log-\(round)")
                log!.must(["append", "body.established", "body=board", "name=Board", "kind=steering-group"])
                acknowledged = [:]
                tornSeen = []
                pendingTorn = 0
                logs += 1
            }
            guard let log else { break }
            // Measured from the last whole line: a torn tail left by the last round is cut
            // first, so kills also land while it is being quarantined.
            let before = log.segments().map { fileSize(atPath: "\(log.path)/\($0)") }.reduce(0, +) - pendingTorn
            let threshold = Int.random(in: 1...600_000, using: &random)
            let out = directory.appending("out-\(round)").path
            let child = try Child([CLILog.binary, "--log", log.path, "--json", "append", "meeting.held", "meeting=m\(round)", "body=board",
                                   "--data", "@\(agenda)", "--occurred", "2021-06-01"],
                                  environment: ["RECOVERY_ACTOR": "tester"], stdout: out)
            // Kill once the log has grown by `threshold` bytes: in the middle of the write.
            let deadline = monotonicSeconds() + 30
            while child.poll() == nil && monotonicSeconds() < deadline {
                let now = log.segments().map { fileSize(atPath: "\(log.path)/\($0)") }.reduce(0, +)
                if now - before >= threshold {
                    child.signalGroup(SIGKILL)
                    break
                }
            }
            let status = child.wait()
            if status == 128 + SIGKILL { killed += 1 } else {
                XCTAssertEqual(status, 0, "round \(round)")
                completed += 1
            }
            if let printed = try? String(contentsOfFile: out, encoding: .utf8), let event = parseJSONObject(printed), let seq = event.int("seq") {
                acknowledged[String(seq)] = printed.trimmingCharacters(in: .newlines)
            }
            let verdict = log.verify()
            XCTAssertEqual(verdict.report?["ok"], .bool(true), "round \(round): \(String(describing: verdict.report))")
            pendingTorn = 0
            if let torn = verdict.report?.object("tornTail"), let file = torn.string("file"), let offset = torn.int("offset"), let count = torn.int("bytes") {
                let segment = [UInt8](FileManager.default.contents(atPath: "\(log.path)/\(file)") ?? Data())
                tornSeen.append((file, offset, Array(segment[offset..<min(segment.count, offset + count)])))
                pendingTorn = count
                tears += 1
            }
            try checkPrinted(acknowledged, log: log)
        }
        if let log { try finish(log, acknowledged: acknowledged, torn: tornSeen) }
        XCTAssertGreaterThan(tears, 0, "no kill tore a line; the test did not test what it claims")
        Figures.record("crash.large-write-kills", ["rounds": rounds, "logs": logs, "killed": killed, "completed": completed,
                                                   "tornTails": tears, "lost": 0])
    }

    // MARK: power loss: the bytes after the last fsync cut short or zeroed

    /// What a power loss can leave of writes that were never fsynced: the last segment cut
    /// at a random offset after the last acknowledged line, and its last bytes zeroed (a
    /// file system that grew the file before it wrote the data). Sometimes the lost lines
    /// were one batch, with its journal still in `LOCK`.
    ///
    /// The store's answer, asserted exactly: every line whose newline survives before the
    /// first damaged byte is kept, and everything after the last such newline is one torn
    /// tail (zeros hold no newline, so a line whose end was zeroed is torn with them); a
    /// batch whose journal is in `LOCK` is kept whole or, if any of it is missing, torn from
    /// its first byte. `verify` passes and names the tail; the next append moves exactly
    /// those bytes to `quarantine/` and leaves every kept line as it was.
    /// Cases: `RELIABILITY_CUTS` (default 60).
    func testCutAndZeroedTailsKeepEveryWholeLineAndQuarantineTheRest() throws {
        let cases = Knobs.int("RELIABILITY_CUTS", 60)
        var random = SplitMix64(seed: Knobs.seed ^ 0x03)
        let directory = try makeTemporaryDirectory(prefix: "reliability-cut")
        let base = try CLILog(in: directory, name: "base", segmentSize: 4096)
        base.must(["append", "unit.registered", "unit=venue", "name=Venue"])
        for n in 1...24 {
            base.must(["append", "attendance.counted", "offer=o", "venue=venue", "period=2021", "contacts=\(n)", "--occurred", "2021-06-01"])
        }
        let segments = base.segments()
        let last = segments.last!
        let original = [UInt8](FileManager.default.contents(atPath: "\(base.path)/\(last)")!)
        let ends = original.indices.filter { original[$0] == 0x0A }.map { $0 + 1 }  // offset after each newline
        let linesBefore = base.lines().lines.count - ends.count
        XCTAssertGreaterThan(segments.count, 1)
        XCTAssertGreaterThan(ends.count, 3)

        var torn = 0, journaled = 0, zeroed = 0, clean = 0
        for index in 0..<cases {
            let acknowledged = Int.random(in: 0...ends.count, using: &random)
            let start = acknowledged == 0 ? 0 : ends[acknowledged - 1]
            let cut = Int.random(in: start...original.count, using: &random)
            let zeros = Bool.random(using: &random) ? 0 : Int.random(in: 0...(cut - start), using: &random)
            let withJournal = ends.count - acknowledged >= 2 && Int.random(in: 0..<3, using: &random) == 0
            var damaged = Array(original[..<cut])
            for i in (cut - zeros)..<cut { damaged[i] = 0 }

            // What the store must make of it.
            let kept: Int
            if withJournal {
                kept = cut == original.count && zeros == 0 ? ends.count : acknowledged
            } else {
                kept = ends.filter { $0 <= cut - zeros }.count
            }
            let keptEnd = kept == 0 ? 0 : ends[kept - 1]
            let tornBytes = Array(damaged[keptEnd...])

            let name = "case-\(index)"
            try FileManager.default.copyItem(atPath: base.path, toPath: directory.appending(name).path)
            let log = CLILog(existing: directory.appending(name).path, root: directory.url)
            _ = FileManager.default.createFile(atPath: "\(log.path)/\(last)", contents: Data(damaged))
            if withJournal {
                let journal = #"{"length":\#(start),"lines":\#(ends.count - acknowledged),"segment":\#(segments.count)}"# + "\n"
                try journal.write(toFile: "\(log.path)/\(EventLog.lockName)", atomically: false, encoding: .utf8)
            }
            let label = "case \(index): \(acknowledged) acknowledged lines, cut at \(cut), \(zeros) zeros, journal \(withJournal)"

            let verdict = log.verify()
            XCTAssertEqual(verdict.status, 0, label)
            XCTAssertEqual(verdict.report?["ok"], .bool(true), label)
            XCTAssertEqual(verdict.report?.int("events"), linesBefore + kept, label)
            if tornBytes.isEmpty {
                XCTAssertEqual(verdict.report?["tornTail"], .null, label)
            } else {
                XCTAssertEqual(verdict.report?.object("tornTail"),
                               JSONObject(["file": .string(last), "offset": .integer(keptEnd), "bytes": .integer(tornBytes.count)]), label)
            }
            let listed = log.run(["--json", "log"])
            XCTAssertEqual(listed.stdout.split(separator: "\n").count, linesBefore + kept, label)

            let appended = log.run(["append", "attendance.counted", "offer=after", "venue=venue", "period=2021", "contacts=0"])
            XCTAssertEqual(appended.status, 0, "\(label): \(appended.stderr)")
            if !tornBytes.isEmpty {
                XCTAssertTrue(appended.stderr.contains("moved \(tornBytes.count) torn bytes"), "\(label): \(appended.stderr)")
                let copy = FileManager.default.contents(atPath: "\(log.path)/quarantine/\(last).\(keptEnd).torn")
                XCTAssertEqual(copy.map { [UInt8]($0) }, tornBytes, label)
            }
            let after = log.verify()
            XCTAssertEqual(after.report?["ok"], .bool(true), label)
            XCTAssertEqual(after.report?["tornTail"], .null, label)
            XCTAssertEqual(after.report?.int("events"), linesBefore + kept + (tornBytes.isEmpty ? 1 : 2), label)
            let now = [UInt8](FileManager.default.contents(atPath: "\(log.path)/\(last)") ?? Data())
            XCTAssertEqual(Array(now.prefix(keptEnd)), Array(original.prefix(keptEnd)), "\(label): a kept line changed")
            for earlier in segments.dropLast() {
                XCTAssertEqual(FileManager.default.contents(atPath: "\(log.path)/\(earlier)"),
                               FileManager.default.contents(atPath: "\(base.path)/\(earlier)"), label)
            }

            if !tornBytes.isEmpty { torn += 1 } else { clean += 1 }
            if withJournal { journaled += 1 }
            if zeros > 0 { zeroed += 1 }
            try? FileManager.default.removeItem(atPath: log.path)
        }
        Figures.record("crash.cut-and-zero", ["cases": cases, "tornTails": torn, "cleanCuts": clean, "zeroed": zeroed,
                                              "journaledBatches": journaled, "lost": 0])
    }

    /// Zeros followed by bytes that end in a newline (a file system that wrote a later
    /// block of the unsynced region but not an earlier one) make a whole line that is not
    /// JSON. The store cannot tell that from damage, so it says integrity failure, names
    /// the line, keeps reading nothing after it, and no writer appends; every line before
    /// it is intact and counted.
    func testZerosInsideTheLastWholeLineAreAnIntegrityFailureNotATornTail() throws {
        let directory = try makeTemporaryDirectory(prefix: "reliability-hole")
        let log = try CLILog(in: directory)
        for n in 1...4 { log.must(["append", "unit.registered", "unit=u\(n)", "name=U\(n)"]) }
        var bytes = [UInt8](FileManager.default.contents(atPath: log.segmentPath())!)
        let ends = bytes.indices.filter { bytes[$0] == 0x0A }
        for i in (ends[2] + 1)..<(ends[2] + 101) { bytes[i] = 0 }  // the first 100 bytes of line 4
        _ = FileManager.default.createFile(atPath: log.segmentPath(), contents: Data(bytes))
        let before = log.snapshot()

        let verdict = log.verify()
        XCTAssertEqual(verdict.status, 4)
        XCTAssertEqual(verdict.report?.int("events"), 3)
        let error = verdict.report?.object("error")
        XCTAssertEqual(error?.int("seq"), 4)
        XCTAssertEqual(error?.int("line"), 4)
        XCTAssertEqual(error?.string("file"), "events-000001.jsonl")
        XCTAssertTrue(error?.string("message")?.hasPrefix("the line is not valid JSON") ?? false, String(describing: error))

        let appended = log.run(["append", "unit.registered", "unit=u5", "name=U5"])
        XCTAssertEqual(appended.status, 4)
        XCTAssertTrue(appended.stderr.hasPrefix("""
            Error: integrity failure: seq 4 in events-000001.jsonl:4: the line is not valid JSON \
            (line 1, column 1: unexpected control character U+0000; expected a value)
            Nothing was written.
            """), appended.stderr)
        XCTAssertEqual(log.snapshot(), before, "a writer wrote after a damaged last line")
    }

    private func checkPrinted(_ acknowledged: [String: String], log: CLILog, file: StaticString = #filePath, line: UInt = #line) throws {
        let (lines, _) = log.lines()
        for (seq, printed) in acknowledged {
            let index = Int(seq)! - 1
            XCTAssertTrue(index < lines.count && String(decoding: lines[index], as: UTF8.self) == printed,
                          "acknowledged seq \(seq) is not in the log as printed", file: file, line: line)
        }
    }

    private func finish(_ log: CLILog, acknowledged: [String: String], torn: [(file: String, offset: Int, bytes: [UInt8])]) throws {
        log.must(["append", "meeting.held", "meeting=last", "body=board", "--occurred", "2021-06-01"])
        XCTAssertEqual(log.verify().report?["tornTail"], .null)
        try checkPrinted(acknowledged, log: log)
        assertEveryTornTailIsInQuarantine(torn, log: log)
    }
}
