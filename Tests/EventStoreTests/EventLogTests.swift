@testable import EventStore
import Foundation
import XCTest

/// The log directory, append, read, torn-tail recovery and the batch journal (SPEC §1–2),
/// checked through the bytes on disk.
final class EventLogTests: TemporaryDirectoryTestCase {

    // MARK: create


    func testAWholeFileIsReadToItsEndAlsoWhenItHoldsMoreThanItsSizeSaid() throws {
        // A regular file; a pipe (size 0) that holds 200 KB, written meanwhile.
        let path = "\(directory)/whole"
        let bytes = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        XCTAssertEqual(try WholeFile.read(fd, path: path), bytes)

        var ends: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&ends), 0)
        let piped = Array(bytes.prefix(200_000))
        let writeEnd = ends[1]
        let writer = Thread {
            piped.withUnsafeBytes { raw in
                var sent = 0
                while sent < raw.count { sent += max(0, Glibc.write(writeEnd, raw.baseAddress! + sent, raw.count - sent)) }
            }
            close(writeEnd)
        }
        writer.start()
        XCTAssertEqual(try WholeFile.read(ends[0], path: "pipe"), piped)
        close(ends[0])
    }

    func testRandomBytesAndIDsComeFreshEachTimeInTheirForms() {
        XCTAssertEqual(RandomBytes.make(16).count, 16)
        XCTAssertEqual(RandomBytes.make(5).count, 5)
        XCTAssertNotEqual(RandomBytes.make(16), RandomBytes.make(16))
        let ids = (0..<200).map { _ in EventID.random() }
        XCTAssertEqual(Set(ids).count, ids.count)
        for id in ids {
            XCTAssertTrue(EventID.isValid(id), id)
            let version = id[id.index(id.startIndex, offsetBy: 14)], variant = id[id.index(id.startIndex, offsetBy: 19)]
            XCTAssertEqual(version, "4", id)
            XCTAssertTrue("89ab".contains(variant), id)
        }
    }

    func testAnIDsKeyIsTheSameFromItsStringAndFromItsBytesAndOnlyAValidIDHasOne() throws {
        var random = SplitMix64(seed: 36)
        for _ in 0..<500 {
            let id = Hex.uuid((0..<16).map { _ in UInt8(truncatingIfNeeded: random.next()) })
            let key = try XCTUnwrap(UUIDKey(validID: id), id)
            XCTAssertEqual(Array(id.utf8).withUnsafeBytes { UUIDKey(bytes: $0) }, key, id)
            XCTAssertEqual(UUIDKey(id), key, id)
        }
        let a = "0f8fad5b-d9cb-469f-a165-70867728950e"
        XCTAssertNotEqual(UUIDKey(a), UUIDKey("0f8fad5b-d9cb-469f-a165-70867728950f"))
        for notAnID in ["", "x", a.uppercased(), a.replacingOccurrences(of: "-", with: ""), "0f8fad5b-d9cb-469f-a165-70867728950", a + "0",
                        "0f8fad5bXd9cb-469f-a165-70867728950e", "0f8fad5b-d9cb-469f-a165-70867728950g"] {
            XCTAssertNil(UUIDKey(validID: notAnID), notAnID)
        }
        // Any other string has a key too (a forged line's target), without trapping.
        for other in ["", "Z", " !", "ÆØÅ", a.uppercased(), "target-" + a] { _ = UUIDKey(other) }
        XCTAssertEqual(UUIDKey("0f8f"), UUIDKey("0f-8f"), "dashes are skipped")
        XCTAssertNotEqual(UUIDKey("0f8f"), UUIDKey("0f8e"))
    }
    func testCreateWritesTheManifestAnEmptyFirstSegmentAndLock() throws {
        let log = try makeLog()
        XCTAssertEqual(try entries(logPath), ["LOCK", "events-000001.jsonl", "manifest.json"])
        assertBytes(try bytes(segmentPath()), [])
        assertBytes(try bytes("\(logPath)/LOCK"), [])

        let created = log.manifest.created
        XCTAssertNotNil(Timestamp.millis(ofRecorded: created), created)
        XCTAssertEqual(try text("\(logPath)/manifest.json"),
                       #"{"created":"\#(created)","format":"recovery-log/1","segmentSize":67108864,"timeZone":"Europe/Copenhagen"}"# + "\n")
        XCTAssertEqual(log.manifest, Manifest(created: created))
        XCTAssertEqual(try EventLog(path: logPath).manifest, log.manifest)
        XCTAssertEqual(log.timeZone.identifier, "Europe/Copenhagen")
    }

    func testCreateRecordsTheSegmentSizeAndTimeZoneAsked() throws {
        try EventLog.create(at: logPath, timeZone: "UTC", segmentSize: 4096)
        let manifest = try text("\(logPath)/manifest.json")
        XCTAssertTrue(manifest.hasSuffix(#""format":"recovery-log/1","segmentSize":4096,"timeZone":"UTC"}"# + "\n"), manifest)
    }

    func testCreateRefusesAnUnknownTimeZoneAndATinySegmentSize() throws {
        XCTAssertThrowsError(try EventLog.create(at: logPath, timeZone: "Europe/Aarhus")) { error in
            guard case LogError.invalidInput(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("Europe/Aarhus"), message)
        }
        XCTAssertThrowsError(try EventLog.create(at: logPath, segmentSize: 4095)) { error in
            guard case LogError.invalidInput = error else { return XCTFail("\(error)") }
        }
        XCTAssertFalse(exists("\(logPath)/manifest.json"))
    }

    /// SPEC §1: files 0640, directories 0750, whatever the umask of the person running it.
    func testFilesAre0640AndDirectories0750WhateverTheUmask() throws {
        for mask: mode_t in [0o077, 0o000, 0o022] {
            let old = umask(mask)
            defer { umask(old) }
            let path = "\(directory)/umask-\(String(mask, radix: 8))"
            let log = try EventLog.create(at: path, segmentSize: 4096)
            // Fill one segment so a second is created by append, tear the tail so
            // quarantine/ is made, and store a text so attachments/ is made.
            while FileManager.default.fileExists(atPath: "\(path)/events-000002.jsonl") == false {
                _ = try log.append { _ in [self.draft(1)] }
            }
            try appendBytes(Array(#"{"seq":"#.utf8), to: "\(path)/events-000002.jsonl")
            let outcome = try log.append { _ in [self.draft(2)] }
            let copy = try XCTUnwrap(outcome.quarantined?.copy)
            let reference = try log.storeText("minutes")

            let umaskText = "umask \(String(mask, radix: 8))"
            XCTAssertEqual(mode(path), 0o750, umaskText)
            for sub in ["quarantine", "attachments"] {
                XCTAssertEqual(mode("\(path)/\(sub)"), 0o750, "\(sub), \(umaskText)")
            }
            for file in ["manifest.json", "LOCK", "events-000001.jsonl", "events-000002.jsonl", copy, "attachments/\(reference)"] {
                XCTAssertEqual(mode("\(path)/\(file)"), 0o640, "\(file), \(umaskText)")
            }
        }
    }

    func testCreateRefusesAnExistingLogAndLeavesItAlone() throws {
        let log = try makeLog()
        try appendNotes(log, count: 2)
        let before = try bytes(segmentPath())
        let manifest = try bytes("\(logPath)/manifest.json")
        XCTAssertThrowsError(try EventLog.create(at: logPath)) { error in
            XCTAssertEqual(error as? LogError, .alreadyExists(path: self.logPath))
            XCTAssertEqual((error as? LogError)?.exitCode, 5)
        }
        assertBytes(try bytes(segmentPath()), before)
        assertBytes(try bytes("\(logPath)/manifest.json"), manifest)
    }

    func testCreateRefusesADirectoryThatIsNotEmpty() throws {
        try FileManager.default.createDirectory(atPath: logPath, withIntermediateDirectories: false)
        try write(Array("keep me".utf8), to: "\(logPath)/notes.txt")
        XCTAssertThrowsError(try EventLog.create(at: logPath)) { error in
            guard case LogError.notALog(let path, let reason) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, self.logPath)
            XCTAssertTrue(reason.contains("not empty"), reason)
        }
        XCTAssertEqual(try entries(logPath), ["notes.txt"])
    }

    func testCreateRefusesAPathThatIsAFile() throws {
        try write([], to: logPath)
        XCTAssertThrowsError(try EventLog.create(at: logPath)) { error in
            guard case LogError.notALog = error else { return XCTFail("\(error)") }
        }
    }

    func testCreateAcceptsAnEmptyExistingDirectory() throws {
        try FileManager.default.createDirectory(atPath: logPath, withIntermediateDirectories: false)
        try makeLog()
        XCTAssertEqual(try entries(logPath), ["LOCK", "events-000001.jsonl", "manifest.json"])
        XCTAssertEqual(mode(logPath), 0o750)
    }

    func testOpeningAMissingDirectoryIsNotALog() {
        XCTAssertThrowsError(try EventLog(path: logPath)) { error in
            XCTAssertEqual(error as? LogError, .notALog(path: self.logPath, reason: "the directory does not exist"))
        }
    }

    // MARK: append: the envelope

    func testAppendAssignsSeqPrevHashAndRecorded() throws {
        let log = try makeLog()
        let first = try log.append { _ in [self.draft(1)] }
        let second = try log.append { _ in [self.draft(2), self.draft(3)] }

        let events = first.events + second.events
        XCTAssertEqual(events.map(\.seq), [1, 2, 3])
        XCTAssertEqual(events[0].prev, String(repeating: "0", count: 64))
        XCTAssertEqual(events[1].prev, events[0].hash)
        XCTAssertEqual(events[2].prev, events[1].hash)
        for event in events {
            XCTAssertEqual(event.hash, event.computedHash())
            XCTAssertTrue(Hex.isSHA256(event.hash))
            XCTAssertTrue(EventID.isValid(event.id), event.id)
            XCTAssertNotNil(Timestamp.millis(ofRecorded: event.recorded), event.recorded)
        }
        XCTAssertEqual(Set(events.map(\.id)).count, 3)
        XCTAssertEqual(second.head, LogHead(seq: 3, hash: events[2].hash, recorded: events[2].recorded))
        XCTAssertNil(first.quarantined)
        XCTAssertEqual(try readAll(log, checks: .hashes).events, events)
    }

    /// SPEC §2: a line is exactly `JCS(event) + "\n"`, and `hash` is the SHA-256 of the
    /// canonical JSON without `hash`. Spelled out here by hand, not through the encoder.
    func testTheLineIsExactlyTheCanonicalJSONAndANewline() throws {
        let log = try makeLog()
        let id = "3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60"
        let draft = EventDraft(id: id, type: "unit.registered", stream: "unit/cpi", occurred: "2021-03-31T10:00:00+02:00",
                               actor: "Åse", source: "plan §2", data: JSONObject(["unit": .string("cpi"), "name": .string("Café \"Ø\""), "headcount": .integer(12)]))
        let event = try XCTUnwrap(log.append { _ in [draft] }.events.first)
        let withoutHash = #"{"actor":"Åse","data":{"headcount":12,"name":"Café \"Ø\"","unit":"cpi"},"id":"\#(id)","occurred":"2021-03-31T10:00:00+02:00","prev":"\#(Event.genesisHash)","recorded":"\#(event.recorded)","seq":1,"source":"plan §2","stream":"unit/cpi","type":"unit.registered","v":1}"#
        XCTAssertEqual(event.hash, SHA256.hex(Array(withoutHash.utf8)))
        let line = #"{"actor":"Åse","data":{"headcount":12,"name":"Café \"Ø\"","unit":"cpi"},"hash":"\#(event.hash)","id":"\#(id)","occurred":"2021-03-31T10:00:00+02:00","prev":"\#(Event.genesisHash)","recorded":"\#(event.recorded)","seq":1,"source":"plan §2","stream":"unit/cpi","type":"unit.registered","v":1}"# + "\n"
        XCTAssertEqual(try text(segmentPath()), line)
        XCTAssertEqual(event.lineBytes(), Array(line.utf8))
    }

    func testASourceIsAbsentFromTheLineWhenNotGiven() throws {
        let log = try makeLog()
        try appendNotes(log, count: 1)
        XCTAssertFalse(try text(segmentPath()).contains("\"source\""))
    }

    func testABatchIsWrittenAsConsecutiveLinesWithOneRecordedTime() throws {
        let log = try makeLog()
        let outcome = try log.append { _ in (1...5).map { self.draft($0) } }
        XCTAssertEqual(outcome.events.map(\.seq), [1, 2, 3, 4, 5])
        XCTAssertEqual(Set(outcome.events.map(\.recorded)).count, 1)
        assertBytes(try bytes(segmentPath()), outcome.events.flatMap { $0.lineBytes() })
        assertBytes(try bytes("\(logPath)/LOCK"), [], "the batch journal is cleared after the fsync")
    }

    func testABatchOfSeveralSealingRoundsIsOneChainInOrder() throws {
        // Line prefixes are encoded on every core, a round at a time; the chain must not show it.
        let log = try makeLog()
        try appendNotes(log, count: 1)
        let count = LinePrefixes.draftsPerGroup + 3
        let outcome = try log.append { _ in (2...(count + 1)).map { self.draft($0, extra: ["text": .string(String(repeating: "æ", count: $0 % 97))]) } }
        XCTAssertEqual(outcome.events.map(\.seq), Array(2...(count + 1)))
        let (read, _) = try readAll(log, checks: .hashes)
        XCTAssertEqual(read.count, count + 1)
        XCTAssertEqual(Array(read.dropFirst()), outcome.events)
        for (before, event) in zip(read, read.dropFirst()) { XCTAssertEqual(event.prev, before.hash, "seq \(event.seq)") }
        XCTAssertEqual(outcome.events.map { $0.data["n"] }, (2...(count + 1)).map { JSONValue.integer($0) })
        assertBytes(try bytes(segmentPath()), read.flatMap { $0.lineBytes() })
        XCTAssertTrue(try log.verify().ok)
    }

    func testTheFirstBadDraftOfALargeBatchIsTheOneNamed() throws {
        // Ids, numbers and lengths are checked in parts, on every core, before any line is
        // sealed: whichever draft comes first is named.
        let log = try makeLog()
        let part = LinePrefixes.draftsPerPart
        let overlong: KeyValuePairs<String, JSONValue> = ["pad": .string(String(repeating: "x", count: EventLog.maxLineBytes))]
        let fraction: KeyValuePairs<String, JSONValue> = ["x": .number(0.5)]
        let cases: [(bad: [Int: KeyValuePairs<String, JSONValue>], badIDs: Set<Int>, expected: String)] = [
            ([part + 10: overlong], [2 * part + 5], "would be a line of"),
            ([2 * part + 5: overlong], [part + 10], "is not a lower-case UUID"),
            ([part - 1: fraction], [3 * part], "holds a fraction"),
            ([3 * part: fraction], [part + 1], "is not a lower-case UUID"),
        ]
        for (bad, badIDs, expected) in cases {
            XCTAssertThrowsError(try log.append { _ in
                (0..<(4 * part)).map { self.draft($0, id: badIDs.contains($0) ? "not-a-uuid" : nil, extra: bad[$0] ?? [:]) }
            }, expected) { error in
                guard case LogError.invalidInput(let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains(expected), "expected '\(expected)', got: \(message)")
            }
        }
        assertBytes(try bytes(segmentPath()), [])
    }

    func testRecordedNeverGoesBelowThePreviousEvent() throws {
        let log = try makeLog()
        var last = ""
        for n in 1...20 {
            let event = try XCTUnwrap(log.append { _ in [self.draft(n)] }.events.first)
            XCTAssertGreaterThanOrEqual(event.recorded, last)
            last = event.recorded
        }
        // A clock that ran ahead wrote the last event: later appends keep its time rather than go back.
        let head = try readAll(log).summary.head
        var future = try XCTUnwrap(readAll(log).events.last)
        future.seq = head.seq + 1
        future.id = EventID.random()
        future.recorded = "2999-01-01T00:00:00.000Z"
        future = rechain([future], after: head.hash)[0]
        try appendBytes(future.lineBytes(), to: segmentPath())

        let next = try log.append { _ in [self.draft(99), self.draft(100)] }
        XCTAssertEqual(next.events.map(\.recorded), ["2999-01-01T00:00:00.000Z", "2999-01-01T00:00:00.000Z"])
        XCTAssertTrue(try log.verify().ok)
    }

    func testALineOfExactly1MiBIsAcceptedAndOneByteMoreRefused() throws {
        func line(padding: Int, at path: String) throws -> Int {
            let log = try EventLog.create(at: path)
            _ = try log.append { _ in [self.draft(1, extra: ["pad": .string(String(repeating: "x", count: padding))])] }
            return try bytes("\(path)/events-000001.jsonl").count
        }
        let base = try line(padding: 0, at: "\(directory)/probe")
        let padding = EventLog.maxLineBytes - base
        XCTAssertEqual(try line(padding: padding, at: "\(directory)/exact"), 1 << 20)
        let exact = try EventLog(path: "\(directory)/exact")
        XCTAssertEqual(try readAll(exact, checks: .hashes).events.count, 1)
        XCTAssertTrue(try exact.verify().ok)

        XCTAssertThrowsError(try line(padding: padding + 1, at: "\(directory)/over")) { error in
            guard case LogError.invalidInput(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("1048577 bytes"), message)
        }
        assertBytes(try bytes("\(directory)/over/events-000001.jsonl"), [])
    }

    /// A line whose text is under 1 MiB but whose escapes take it over is refused too:
    /// the store's bound counts six bytes for each control character.
    func testALineOverTheLimitOnlyOnceEscapedIsRefused() throws {
        let log = try makeLog()
        let escaped = draft(1, extra: ["pad": .string(String(repeating: "\u{01}", count: EventLog.maxLineBytes / 5))])
        XCTAssertThrowsError(try log.append { _ in [escaped] }) { error in
            guard case LogError.invalidInput(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("would be a line of"), message)
        }
        assertBytes(try bytes(segmentPath()), [])
    }

    func testABatchWithOneOverlongLineWritesNothing() throws {
        let log = try makeLog()
        try appendNotes(log, count: 2)
        let before = try bytes(segmentPath())
        let huge = draft(4, extra: ["pad": .string(String(repeating: "ø", count: EventLog.maxLineBytes / 2))])
        XCTAssertThrowsError(try log.append { _ in [self.draft(3), huge, self.draft(5)] }) { error in
            guard case LogError.invalidInput = error else { return XCTFail("\(error)") }
            XCTAssertEqual((error as? LogError)?.exitCode, 1)
        }
        assertBytes(try bytes(segmentPath()), before)
        assertBytes(try bytes("\(logPath)/LOCK"), [])
        XCTAssertEqual(try log.append { _ in [self.draft(3)] }.events.map(\.seq), [3])
    }

    func testExpectSeqConflictWritesNothing() throws {
        let log = try makeLog()
        XCTAssertEqual(try log.append(expectSeq: 0) { _ in [self.draft(1)] }.events.map(\.seq), [1])
        let before = try bytes(segmentPath())
        XCTAssertThrowsError(try log.append(expectSeq: 0) { _ in
            XCTFail("prepare must not run on a conflict")
            return [self.draft(2)]
        }) { error in
            guard case LogError.conflict(let message) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(message.contains("head is seq 1, not 0"), message)
            XCTAssertEqual((error as? LogError)?.exitCode, 3)
        }
        assertBytes(try bytes(segmentPath()), before)
        XCTAssertEqual(try log.append(expectSeq: 1) { _ in [self.draft(2)] }.events.map(\.seq), [2])
    }

    func testACallerGivenIdIsKept() throws {
        let log = try makeLog()
        let id = "0e7c1a2b-3d4f-4a5b-8c6d-7e8f9a0b1c2d"
        let event = try XCTUnwrap(log.append { _ in [self.draft(1, id: id)] }.events.first)
        XCTAssertEqual(event.id, id)
        XCTAssertTrue(try text(segmentPath()).contains(#""id":"\#(id)""#))
    }

    func testAnInvalidIdRefusesTheWholeBatch() throws {
        let log = try makeLog()
        try appendNotes(log, count: 1)
        let before = try bytes(segmentPath())
        for bad in ["0E7C1A2B-3D4F-4A5B-8C6D-7E8F9A0B1C2D", "not-a-uuid", "0e7c1a2b3d4f4a5b8c6d7e8f9a0b1c2d", ""] {
            XCTAssertThrowsError(try log.append { _ in [self.draft(2), self.draft(3, id: bad)] }, bad) { error in
                guard case LogError.invalidInput(let message) = error else { return XCTFail("\(error)") }
                XCTAssertTrue(message.contains("\"\(bad)\""), message)
            }
            assertBytes(try bytes(segmentPath()), before, bad)
        }
    }

    func testPrepareSeesTheHeadAndWritesNothingWhenItThrows() throws {
        struct Refused: Error {}
        let log = try makeLog()
        let written = try appendNotes(log, count: 2)
        let before = try bytes(segmentPath())
        var seen: LogHead?
        XCTAssertThrowsError(try log.append { head in
            seen = head
            throw Refused()
        }) { error in XCTAssertTrue(error is Refused, "\(error)") }
        XCTAssertEqual(seen, LogHead(seq: 2, hash: written[1].hash, recorded: written[1].recorded))
        assertBytes(try bytes(segmentPath()), before)
        assertBytes(try bytes("\(logPath)/LOCK"), [])

        let nothing = try log.append { _ in [] }
        XCTAssertEqual(nothing.events, [])
        XCTAssertEqual(nothing.head.seq, 2)
        assertBytes(try bytes(segmentPath()), before)
    }

    func testTheFirstPrepareSeesTheEmptyHead() throws {
        let log = try makeLog()
        var seen: LogHead?
        _ = try log.append { head in seen = head; return [] }
        XCTAssertEqual(seen, LogHead.empty)
        XCTAssertEqual(seen?.description, "0:" + String(repeating: "0", count: 64))
    }

    // MARK: the writers' lock

    func testWritersInThreadsTakeTurnsAndMakeOneChain() throws {
        let log = try makeLog(segmentSize: 4096)
        let failures = FailureList()
        DispatchQueue.concurrentPerform(iterations: 4) { writer in
            for n in 0..<15 {
                do {
                    _ = try log.append { _ in
                        [EventDraft(type: "note.recorded", stream: "unit/w\(writer)", occurred: "2021-03-31", actor: "writer \(writer)",
                                    data: JSONObject(["n": .integer(n)]))]
                    }
                } catch {
                    failures.add("\(error)")
                }
            }
        }
        XCTAssertEqual(failures.all, [])
        let (events, _) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events.map(\.seq), Array(1...60))
        XCTAssertEqual(Dictionary(grouping: events, by: \.actor).mapValues(\.count),
                       ["writer 0": 15, "writer 1": 15, "writer 2": 15, "writer 3": 15])
        XCTAssertTrue(try log.verify().ok)
    }

    func testAWriterThatCannotGetTheLockWritesNothing() throws {
        let log = try makeLog()
        try appendNotes(log, count: 1)
        let before = try bytes(segmentPath())
        let holder = open("\(logPath)/LOCK", O_RDWR)
        XCTAssertEqual(flock(holder, LOCK_EX), 0)
        defer { close(holder) }
        XCTAssertThrowsError(try log.append(lockTimeout: 0.2) { _ in
            XCTFail("prepare runs only under the lock")
            return [self.draft(2)]
        }) { error in
            XCTAssertEqual(error as? LogError, .lockTimeout(path: "\(self.logPath)/LOCK", seconds: 0.2))
            XCTAssertEqual((error as? LogError)?.exitCode, 5)
        }
        assertBytes(try bytes(segmentPath()), before)
        // Readers take no lock.
        XCTAssertEqual(try readAll(log).events.count, 1)
        flock(holder, LOCK_UN)
        XCTAssertEqual(try log.append(lockTimeout: 0.2) { _ in [self.draft(2)] }.events.map(\.seq), [2])
    }

    // MARK: segments

    func testSegmentsRollOverAtTheManifestSizeAndNeverSplitABatch() throws {
        let log = try makeLog(segmentSize: 4096)
        var written = [Event]()
        while !exists(segmentPath(4)) {
            written += try log.append { _ in [self.draft(written.count + 1), self.draft(written.count + 2)] }.events
        }
        for number in 1...3 {
            let lines = try lines(segmentPath(number))
            let size = try bytes(segmentPath(number)).count
            XCTAssertGreaterThanOrEqual(size, 4096, "segment \(number) is full before the next starts")
            // The segment was below the size when its last batch (two lines) was written.
            XCTAssertLessThan(size - lines.suffix(2).reduce(0) { $0 + $1.count + 1 }, 4096, "segment \(number)")
            XCTAssertEqual(lines.count % 2, 0, "a batch stays in one segment")
        }
        // The files concatenated in name order are the whole log.
        let concatenated = try (1...4).flatMap { try bytes(segmentPath($0)) }
        XCTAssertEqual(concatenated, written.flatMap { $0.lineBytes() })

        let (events, summary) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events, written)
        XCTAssertEqual(events.map(\.seq), Array(1...written.count))
        XCTAssertNil(summary.tornTail)
        XCTAssertEqual(summary.end.segment, 4)
        XCTAssertEqual(summary.end.offset, try bytes(segmentPath(4)).count)
        XCTAssertEqual(summary.end.linesBefore, try lines(segmentPath(4)).count)
        let report = try log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.events, written.count)
        XCTAssertEqual(report.head, LogHead(seq: written.count, hash: written.last!.hash, recorded: written.last!.recorded))
    }

    func testReadingResumesFromAnyPositionAcrossSegments() throws {
        let log = try makeLog(segmentSize: 4096)
        while !exists(segmentPath(3)) { try appendNotes(log, count: 1, from: 1) }
        let all = try readAll(log).events
        // Stop after every k events and resume from the summary's position.
        for k in [1, 7, all.count / 2, all.count - 1, all.count] {
            var firstPart = [Event]()
            let stop = try log.read { event in firstPart.append(event); return firstPart.count < k }
            XCTAssertEqual(firstPart, Array(all.prefix(k)))
            XCTAssertEqual(stop.end.seq, k)
            XCTAssertEqual(stop.end.hash, all[k - 1].hash)
            var rest = [Event]()
            let end = try log.read(from: stop.end) { rest.append($0); return true }
            XCTAssertEqual(rest, Array(all.dropFirst(k)), "resume after \(k)")
            XCTAssertEqual(end.end.seq, all.count)
        }
    }

    func testAnEmptyLogReadsAsNothing() throws {
        let log = try makeLog()
        let (events, summary) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events, [])
        XCTAssertEqual(summary.end, .start)
        XCTAssertEqual(summary.head, .empty)
        let report = try log.verify()
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.events, 0)
        XCTAssertEqual(report.head, .empty)
    }

    func testAnEmptyNewSegmentLeftByACrashIsUsedByTheNextAppend() throws {
        let log = try makeLog(segmentSize: 4096)
        while !exists(segmentPath(2)) { try appendNotes(log, count: 1) }
        // Back to one full segment and an empty second, as a crash after creating it leaves them.
        try write([], to: segmentPath(2))
        let before = try readAll(log)
        XCTAssertNil(before.summary.tornTail)
        let next = try XCTUnwrap(log.append { _ in [self.draft(1000)] }.events.first)
        XCTAssertEqual(next.seq, before.events.count + 1)
        XCTAssertEqual(next.prev, before.events.last?.hash)
        assertBytes(try bytes(segmentPath(2)), next.lineBytes())
        XCTAssertFalse(exists(segmentPath(3)))
        XCTAssertTrue(try log.verify().ok)
    }

    // MARK: torn tail

    func testATornTailIsReturnedByReadNotThrown() throws {
        let log = try makeLog()
        let written = try appendNotes(log, count: 3)
        let whole = try bytes(segmentPath()).count
        let garbage = Array(#"{"actor":"tester","data":{"n":4"#.utf8)
        try appendBytes(garbage, to: segmentPath())

        for checks: ReadChecks in [[], .hashes] {
            let (events, summary) = try readAll(log, checks: checks)
            XCTAssertEqual(events, written)
            XCTAssertEqual(summary.tornTail, TornTail(file: "events-000001.jsonl", offset: whole, length: garbage.count))
            XCTAssertEqual(summary.head.seq, 3)
        }
        let report = try log.verify()
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.events, 3)
        XCTAssertEqual(report.tornTail, TornTail(file: "events-000001.jsonl", offset: whole, length: garbage.count))
    }

    func testAppendAfterTornTailQuarantinesTheBytes() throws {
        let log = try makeLog()
        let written = try appendNotes(log, count: 3)
        let whole = try bytes(segmentPath())
        let garbage = Array(#"{"actor":"tester","data":{"n":4,"text":"ø"#.utf8)
        try appendBytes(garbage, to: segmentPath())

        let outcome = try log.append { head in
            XCTAssertEqual(head.seq, 3, "prepare sees the last whole line")
            return [self.draft(4)]
        }
        let copy = "quarantine/events-000001.jsonl.\(whole.count).torn"
        let quarantine = try XCTUnwrap(outcome.quarantined)
        XCTAssertEqual(quarantine.copy, copy)
        XCTAssertEqual(quarantine.tornTail, TornTail(file: "events-000001.jsonl", offset: whole.count, length: garbage.count))
        XCTAssertEqual(try entries("\(logPath)/quarantine"), ["events-000001.jsonl.\(whole.count).torn"])
        assertBytes(try bytes("\(logPath)/\(copy)"), garbage)

        // The torn bytes are cut; the quarantine event comes first, then the caller's.
        let notice = quarantine.event
        XCTAssertEqual(notice.seq, 4)
        XCTAssertEqual(notice.prev, written[2].hash)
        XCTAssertEqual(notice.type, "log.tail-quarantined")
        XCTAssertEqual(notice.stream, "log/events-000001.jsonl")
        XCTAssertEqual(notice.data, JSONObject(["file": .string("events-000001.jsonl"), "offset": .integer(whole.count),
                                                "bytes": .integer(garbage.count), "quarantine": .string(copy)]))
        XCTAssertEqual(outcome.events.map(\.seq), [5])
        XCTAssertEqual(outcome.events[0].prev, notice.hash)
        XCTAssertEqual(outcome.events[0].data["n"], .integer(4))
        assertBytes(try bytes(segmentPath()), whole + notice.lineBytes() + outcome.events[0].lineBytes())
        assertBytes(try bytes("\(logPath)/LOCK"), [])

        let report = try log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertNil(report.tornTail)
        XCTAssertEqual(report.events, 5)
        XCTAssertEqual(try readAll(log, checks: .hashes).events.prefix(3), written[...])
    }

    func testAnAppendOfNothingStillQuarantinesATornTail() throws {
        let log = try makeLog()
        try appendNotes(log, count: 1)
        let whole = try bytes(segmentPath()).count
        try appendBytes([0x7B], to: segmentPath())
        let outcome = try log.append { _ in [] }
        XCTAssertEqual(outcome.events, [])
        XCTAssertEqual(outcome.quarantined?.event.seq, 2)
        XCTAssertEqual(outcome.head.seq, 2)
        assertBytes(try bytes("\(logPath)/quarantine/events-000001.jsonl.\(whole).torn"), [0x7B])
        XCTAssertTrue(try log.verify().ok)
    }

    func testATornTailOfAWholeFirstLineIsQuarantined() throws {
        let log = try makeLog()
        try appendBytes(Array(#"{"seq":1"#.utf8), to: segmentPath())
        let (events, summary) = try readAll(log)
        XCTAssertEqual(events, [])
        XCTAssertEqual(summary.tornTail, TornTail(file: "events-000001.jsonl", offset: 0, length: 8))
        let outcome = try log.append { _ in [self.draft(1)] }
        XCTAssertEqual(outcome.quarantined?.event.seq, 1)
        XCTAssertEqual(outcome.quarantined?.event.prev, Event.genesisHash)
        XCTAssertEqual(outcome.events.map(\.seq), [2])
        assertBytes(try bytes("\(logPath)/quarantine/events-000001.jsonl.0.torn"), Array(#"{"seq":1"#.utf8))
        XCTAssertTrue(try log.verify().ok)
    }

    func testATornTailInTheLatestSegmentIsQuarantinedFromThatSegment() throws {
        let log = try makeLog(segmentSize: 4096)
        while !exists(segmentPath(2)) { try appendNotes(log, count: 1) }
        let segmentOne = try bytes(segmentPath(1))
        let whole = try bytes(segmentPath(2)).count
        try appendBytes(Array("{\"se".utf8), to: segmentPath(2))
        let outcome = try log.append { _ in [self.draft(7)] }
        XCTAssertEqual(outcome.quarantined?.copy, "quarantine/events-000002.jsonl.\(whole).torn")
        assertBytes(try bytes(segmentPath(1)), segmentOne)
        XCTAssertTrue(try log.verify().ok)
    }

    /// A torn tail after a segment that is already full: the torn bytes must be cut from
    /// that segment before the next one starts, or the log would hold a segment without
    /// a final newline followed by another one, which is corruption.
    func testATornTailAtTheEndOfAFullSegmentIsCutBeforeTheNextSegmentStarts() throws {
        let log = try makeLog(segmentSize: 4096)
        var written = [Event]()
        while try bytes(segmentPath(1)).count < 4096 {
            written += try log.append { _ in [self.draft(written.count + 1)] }.events
        }
        XCTAssertFalse(exists(segmentPath(2)))
        let whole = try bytes(segmentPath(1))
        try appendBytes(Array("{\"seq\":".utf8), to: segmentPath(1))

        let outcome = try log.append { _ in [self.draft(1000)] }
        XCTAssertEqual(outcome.quarantined?.tornTail, TornTail(file: "events-000001.jsonl", offset: whole.count, length: 7))
        assertBytes(try bytes(segmentPath(1)), whole, "the torn bytes are cut from the full segment")
        let notice = try XCTUnwrap(outcome.quarantined?.event)
        assertBytes(try bytes(segmentPath(2)), notice.lineBytes() + outcome.events[0].lineBytes())
        let report = try log.verify()
        XCTAssertTrue(report.ok, "\(String(describing: report.failure))")
        XCTAssertEqual(report.events, written.count + 2)
    }

    // MARK: the batch journal

    /// The journal a writer keeps in `LOCK` while a batch is written (FileIO/WriterLock.swift).
    private func journal(segment: Int, length: Int, lines: Int) -> [UInt8] {
        Array(#"{"length":\#(length),"lines":\#(lines),"segment":\#(segment)}"#.utf8) + [0x0A]
    }

    /// Events `after` would have got from a batch of `count` drafts: sealed by hand.
    private func batch(after head: Event, count: Int) -> [Event] {
        rechain((1...count).map { n in
            Event(seq: head.seq + n, id: EventID.random(), type: "note.recorded", v: 1, stream: "unit/b\(n)", occurred: "2021-04-01",
                  recorded: head.recorded, actor: "tester", source: nil, data: JSONObject(["b": .integer(n)]), prev: "", hash: "")
        }, after: head.hash)
    }

    func testACrashMidBatchLeavesItsWholeLinesAsATornTail() throws {
        let log = try makeLog()
        let written = try appendNotes(log, count: 2)
        let length = try bytes(segmentPath()).count
        let lines = batch(after: written[1], count: 3)
        // The writer fsynced its journal, wrote two of the three lines, and died.
        try write(journal(segment: 1, length: length, lines: 3), to: "\(logPath)/LOCK")
        let partial = lines[0].lineBytes() + lines[1].lineBytes()
        try appendBytes(partial, to: segmentPath())

        let (events, summary) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events, written, "lines of an unfinished batch are not events")
        XCTAssertEqual(summary.tornTail, TornTail(file: "events-000001.jsonl", offset: length, length: partial.count))
        let report = try log.verify()
        XCTAssertTrue(report.ok)
        XCTAssertEqual(report.events, 2)
        XCTAssertEqual(report.tornTail, summary.tornTail)

        let outcome = try log.append { head in
            XCTAssertEqual(head.seq, 2)
            return [self.draft(3)]
        }
        let copy = "quarantine/events-000001.jsonl.\(length).torn"
        XCTAssertEqual(outcome.quarantined?.copy, copy)
        assertBytes(try bytes("\(logPath)/\(copy)"), partial)
        XCTAssertEqual(outcome.quarantined?.event.seq, 3)
        XCTAssertEqual(outcome.quarantined?.event.data["bytes"], .integer(partial.count))
        XCTAssertEqual(outcome.events.map(\.seq), [4])
        assertBytes(try bytes("\(logPath)/LOCK"), [], "the journal is gone once the log is whole again")
        let after = try log.verify()
        XCTAssertTrue(after.ok, "\(String(describing: after.failure))")
        XCTAssertNil(after.tornTail)
        XCTAssertEqual(after.events, 4)
    }

    func testACrashMidBatchWithAPartLineCountsFromTheBatchStart() throws {
        let log = try makeLog()
        let written = try appendNotes(log, count: 1)
        let length = try bytes(segmentPath()).count
        let lines = batch(after: written[0], count: 2)
        try write(journal(segment: 1, length: length, lines: 2), to: "\(logPath)/LOCK")
        let partial = lines[0].lineBytes() + lines[1].lineBytes().prefix(20)
        try appendBytes(partial, to: segmentPath())

        XCTAssertEqual(try readAll(log).summary.tornTail, TornTail(file: "events-000001.jsonl", offset: length, length: partial.count))
        let outcome = try log.append { _ in [self.draft(2)] }
        assertBytes(try bytes("\(logPath)/\(try XCTUnwrap(outcome.quarantined?.copy))"), partial)
        XCTAssertTrue(try log.verify().ok)
    }

    func testAJournalLeftAfterACompleteBatchIsIgnored() throws {
        let log = try makeLog()
        let written = try appendNotes(log, count: 2)
        let length = try bytes(segmentPath()).count
        let lines = batch(after: written[1], count: 3)
        // Crash after the fsync, before the journal was emptied: the batch is whole.
        try write(journal(segment: 1, length: length, lines: 3), to: "\(logPath)/LOCK")
        try appendBytes(lines.flatMap { $0.lineBytes() }, to: segmentPath())

        let (events, summary) = try readAll(log, checks: .hashes)
        XCTAssertEqual(events, written + lines)
        XCTAssertNil(summary.tornTail)
        let next = try log.append { _ in [self.draft(6)] }
        XCTAssertNil(next.quarantined)
        XCTAssertEqual(next.events.map(\.seq), [6])
        XCTAssertEqual(try readAll(log).events.count, 6)
        XCTAssertTrue(try log.verify().ok)
    }

    /// A journal whose batch never wrote a line (the writer died right after fsyncing it,
    /// or its write failed and was cut back) must not turn later, acknowledged appends
    /// into a torn tail.
    func testAJournalOfABatchThatWroteNothingDoesNotHideLaterAppends() throws {
        let log = try makeLog()
        try appendNotes(log, count: 2)
        let length = try bytes(segmentPath()).count
        try write(journal(segment: 1, length: length, lines: 3), to: "\(logPath)/LOCK")

        let acknowledged = try XCTUnwrap(log.append { _ in [self.draft(3)] }.events.first)
        XCTAssertEqual(acknowledged.seq, 3)
        let (events, summary) = try readAll(log)
        XCTAssertEqual(events.last, acknowledged)
        XCTAssertNil(summary.tornTail)
        let report = try log.verify()
        XCTAssertEqual(report.events, 3)
        XCTAssertNil(report.tornTail)
        // And the next writer must not quarantine it.
        let next = try log.append { _ in [self.draft(4)] }
        XCTAssertNil(next.quarantined)
        XCTAssertEqual(next.events.map(\.seq), [4])
    }
}

/// Errors collected from several threads. `@unchecked Sendable`: the list is guarded by `lock`.
private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [String] = []

    func add(_ failure: String) {
        lock.lock()
        failures.append(failure)
        lock.unlock()
    }

    var all: [String] {
        lock.lock()
        defer { lock.unlock() }
        return failures
    }
}
