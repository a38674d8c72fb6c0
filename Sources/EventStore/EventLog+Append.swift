#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What an append did.
public struct AppendOutcome: Sendable, Equatable {
    /// The caller's events as written, in order (empty when `prepare` returned none, or
    /// when the caller did not keep them).
    public var events: [Event]
    /// How many of the caller's events were written.
    public var count = 0
    /// The seqs of the caller's events written; nil for none.
    public var seqs: ClosedRange<Int>? { count > 0 ? (head.seq - count + 1)...head.seq : nil }
    /// The torn tail this writer found and moved aside before appending, if any.
    public var quarantined: Quarantine?
    /// The head after the append.
    public var head: LogHead
    /// Where the lines went: the segment, and the offsets in it where they start and end
    /// (both the head's when nothing was written).
    public var segment: Int = 1
    public var startOffset: Int = 0
    public var endOffset: Int = 0
}

extension AppendOutcome {
    /// Nothing written, at `head` (a dry run's outcome).
    public init(nothingAfter head: LogHead) {
        self.init(events: [], head: head)
    }
}

/// A torn tail moved into `quarantine/`, and the `log.tail-quarantined` event that says so.
public struct Quarantine: Sendable, Equatable {
    public var tornTail: TornTail
    /// Path of the copy, relative to the log directory.
    public var copy: String
    public var event: Event
}

extension EventLog {
    public static let tailQuarantinedType = "log.tail-quarantined"

    /// How long a writer waits for the lock: `RECOVERY_LOCK_TIMEOUT` seconds, else 10.
    public static var defaultLockTimeout: Double {
        getenv("RECOVERY_LOCK_TIMEOUT").flatMap { Double(String(cString: $0)) } ?? 10
    }

    /// Appends the events `prepare` returns, all or nothing, durably.
    ///
    /// Under the exclusive lock, from reading the tail to the fsync: finds the head
    /// (the last whole line, whose hash is checked), checks `expectSeq` against the
    /// head's seq, and calls `prepare` with the head so the caller validates against
    /// exactly what it appends to. Then it moves a torn tail aside (SPEC §2), assigns
    /// `seq`, `id`, `recorded`, `prev` and `hash`, writes every line whole and fsyncs
    /// once (a batch of several lines also fsyncs its journal in `LOCK` first, so a crash
    /// leaves all of it or none). Returns only once the bytes are on disk.
    ///
    /// - Throws: `LogError.conflict` when `expectSeq` differs from the head's seq; what
    ///   `prepare` throws, and `.invalidInput` for a draft that can never be a line
    ///   (nothing is written); `.integrity` when the last line is damaged;
    ///   `.lockTimeout`; `.io` for a failed write (the file is cut back) or a failed
    ///   fsync (never retried: the outcome is unknown, nothing is acknowledged).
    ///
    /// `beforeWriting`, when given, runs after the drafts are checked and before the
    /// first byte of the log changes (the torn tail cut, the journal, the lines); what it
    /// throws stops the append with nothing written. The caller makes the texts its
    /// events name durable there. The lines are written while they are sealed; without
    /// `keepingEvents` the outcome holds none of the events (a large import counts them).
    public func append(
        expectSeq: Int? = nil,
        lockTimeout: Double = EventLog.defaultLockTimeout,
        keepingEvents: Bool = true,
        prepare: (LogHead) throws -> [EventDraft],
        beforeWriting: (() throws -> Void)? = nil
    ) throws -> AppendOutcome {
        try withLockedTail(expectSeq: expectSeq, lockTimeout: lockTimeout) { lock, journal, tail in
            try append(after: tail, lock: lock, journal: journal, keepingEvents: keepingEvents, prepare: prepare, beforeWriting: beforeWriting)
        }
    }

    /// `append` under the lock, after `tail`, which `journal` (if any) announced.
    private func append(after tail: Tail, lock: WriterLock, journal: BatchJournal?, keepingEvents: Bool,
                        prepare: (LogHead) throws -> [EventDraft], beforeWriting: (() throws -> Void)?) throws -> AppendOutcome {
        let drafts = try prepare(tail.head)
        if drafts.isEmpty && tail.torn == nil {
            return AppendOutcome(events: [], quarantined: nil, head: tail.head, segment: tail.segment,
                                 startOffset: tail.wholeLength, endOffset: tail.wholeLength)
        }

        var segment = tail.segment
        var length = tail.wholeLength
        var quarantineCopy: String?
        var allDrafts = drafts
        if let torn = tail.torn {
            let copy = try quarantineBytes(torn)
            quarantineCopy = copy
            allDrafts.insert(EventDraft(
                type: EventLog.tailQuarantinedType, stream: "log/\(torn.file)",
                occurred: Timestamp.recordedString(millis: Timestamp.nowMillis()), actor: "recoveryctl",
                data: JSONObject(["file": .string(torn.file), "offset": .integer(torn.offset),
                                  "bytes": .integer(torn.length), "quarantine": .string(copy)])), at: 0)
        }

        let sealer = LineSealer(after: tail.head)
        // Every reason a draft cannot be a line is found before the log changes, so that
        // the lines can be written while they are sealed: no batch is ever held whole.
        try sealer.check(allDrafts, limitingLength: true)
        try beforeWriting?()

        if tail.torn != nil {
            // The torn bytes are safe in quarantine/; cut them off the segment that holds
            // them (which may be full, so the lines below go to a new one), durably, so
            // that no crash can bring them back next to a new journal.
            try cutTornTail(segment: segment, at: length)
        }
        if length >= manifest.segmentSize {
            segment += 1
            length = 0
            try createSegment(segment)
        }
        let segmentPath = segmentPath(segment)
        let fd = try FileIO.open(segmentPath, O_WRONLY | O_APPEND, operation: "open for append")
        defer { close(fd) }
        // A journal left by an earlier writer (dead, or whose write failed and was cut
        // back) is replaced even for one line: left alone, it would count these lines
        // as part of its unfinished batch and hide them as a torn tail.
        let journaled = allDrafts.count > 1 || journal != nil
        if journaled { try lock.writeJournal(segment: segment, length: length, lines: allDrafts.count, using: fileOperations) }
        // A failed write cuts the segment back to `length`: every chunk of the batch.
        let sealed = try sealer.seal(allDrafts, keepingEvents: keepingEvents) { chunk throws(LogError) in
            try FileIO.writeAll(fd, chunk, path: segmentPath, originalLength: length, using: fileOperations)
        }
        try FileIO.fsync(fd, path: segmentPath, using: fileOperations)
        if journaled { lock.clearJournal(using: fileOperations) }

        var quarantine: Quarantine?
        var events = sealed.events
        if let torn = tail.torn, let quarantineCopy, let first = sealed.first {
            quarantine = Quarantine(tornTail: torn, copy: quarantineCopy, event: first)
            if keepingEvents { events.removeFirst() }
        }
        return AppendOutcome(events: events, count: drafts.count, quarantined: quarantine, head: sealed.head,
                             segment: segment, startOffset: length, endOffset: length + sealed.byteCount)
    }

    /// Calls `body` under the exclusive lock with the head and the torn tail after it, if
    /// any, as `append` finds them, and writes nothing: for a dry run, which validates
    /// against exactly what an append would append to and must not change the log, not
    /// even by moving a torn tail aside (an append would, and record it first).
    ///
    /// - Throws: what `append` throws before `prepare` runs, and what `body` throws.
    public func withLockedHead<T>(expectSeq: Int? = nil, lockTimeout: Double = EventLog.defaultLockTimeout,
                                  _ body: (LogHead, TornTail?) throws -> T) throws -> T {
        try withLockedTail(expectSeq: expectSeq, lockTimeout: lockTimeout) { _, _, tail in try body(tail.head, tail.torn) }
    }

    /// `body` under the exclusive lock with the journal of an unfinished batch (if any)
    /// and the tail it leaves, once the head is the one `expectSeq` names.
    private func withLockedTail<T>(expectSeq: Int?, lockTimeout: Double, _ body: (WriterLock, BatchJournal?, Tail) throws -> T) throws -> T {
        let lock = try WriterLock(path: "\(path)/\(EventLog.lockName)", timeout: lockTimeout)
        defer { lock.release() }
        let journal = BatchJournal.current(logPath: path)
        let tail = try findTail(unfinishedBatch: journal)
        if let expectSeq, expectSeq != tail.head.seq {
            throw LogError.conflict("the log's head is seq \(tail.head.seq), not \(expectSeq) as expected; someone appended in between. Read the head again ('recoveryctl head') and retry.")
        }
        return try body(lock, journal, tail)
    }

    /// The drafts whose lines, appended after `head`, would be over 1 MiB, each with its
    /// line's length: what `append` refuses, found without writing (for a dry run, and to
    /// name every one).
    public func overlongLines(_ drafts: [EventDraft], after head: LogHead) -> [(index: Int, length: Int)] {
        let sealer = LineSealer(after: head)
        return drafts.indices.compactMap { index in
            sealer.overlongLength(of: drafts[index], seq: head.seq + index + 1).map { (index, $0) }
        }
    }

    /// Throws what `append` would for `drafts` appended after `head` but for their
    /// lengths (`overlongLines`): an `id` that is not one, a number a reader would refuse.
    public func checkLines(_ drafts: [EventDraft], after head: LogHead) throws(LogError) {
        try LineSealer(after: head).check(drafts, limitingLength: false)
    }

    /// The events `drafts` would become if appended after `head` now (checked as
    /// `checkLines` checks them); writes nothing.
    public func sealForPreview(_ drafts: [EventDraft], after head: LogHead) throws -> [Event] {
        let sealer = LineSealer(after: head)
        try sealer.check(drafts, limitingLength: false)
        return try sealer.seal(drafts, keepingEvents: true) { _ in }.events
    }

    static let lineChunkBytes = 4 << 20

    /// Whether every number in `value` is an integer within ±(2^53−1), as readers require (SPEC §2).
    static func holdsOnlyReadableNumbers(_ value: JSONValue) -> Bool {
        switch value {
        case .number: false
        case .integer(let i): (-JSONValue.maxSafeInteger...JSONValue.maxSafeInteger).contains(i)
        case .array(let items): items.allSatisfy(holdsOnlyReadableNumbers)
        case .object(let object): object.members.allSatisfy { holdsOnlyReadableNumbers($0.value) }
        case .null, .bool, .string: true
        }
    }

    // MARK: the tail

    struct Tail {
        var head: LogHead
        var segment: Int
        /// Length of the segment up to and including its last newline.
        var wholeLength: Int
        var torn: TornTail?
    }

    /// Finds the last whole line of the log and checks it, and any bytes after it.
    ///
    /// A batch whose journal is still in `LOCK` and whose lines are not all on disk
    /// counts as torn from its first byte, so a batch is in the log whole or not at all.
    func findTail(unfinishedBatch journal: BatchJournal? = nil) throws -> Tail {
        let numbers = try segmentNumbers()
        var segment = numbers.last!
        let lastSegment = segment
        var torn: TornTail?
        var wholeLength = 0
        while true {
            let path = segmentPath(segment)
            let fd = try FileIO.open(path, O_RDONLY)
            defer { close(fd) }
            let size = try FileIO.size(of: fd, path: path)
            var whole = try findLastNewline(fd: fd, size: size, path: path).map { $0 + 1 } ?? 0
            if segment == lastSegment {
                if let journal, journal.segment == segment, journal.length < whole,
                   try !batchIsComplete(journal, path: path) {
                    whole = journal.length
                }
                wholeLength = whole
                if whole < size { torn = TornTail(file: EventLog.segmentName(segment), offset: whole, length: size - whole) }
            } else if whole < size {
                let line = try countLines(segment: segment, upTo: whole) + 1
                throw LogError.integrity(IntegrityFailure(place: LogPlace(seq: try countLines(before: segment) + line, file: EventLog.segmentName(segment), line: line),
                                                          reason: "segment does not end with a newline, yet a later segment exists"))
            }
            if whole > 0 {
                let lineStart = try findLastNewline(fd: fd, size: whole - 1, path: path).map { $0 + 1 } ?? 0
                let line = try FileIO.readBytes(fd, count: whole - 1 - lineStart, at: lineStart, path: path)
                let head = try checkedHead(line: line, segment: segment, start: lineStart)
                return Tail(head: head, segment: lastSegment, wholeLength: wholeLength, torn: torn)
            }
            if segment == 1 { return Tail(head: .empty, segment: lastSegment, wholeLength: wholeLength, torn: torn) }
            segment -= 1
        }
    }

    private func checkedHead(line: [UInt8], segment: Int, start: Int) throws -> LogHead {
        let file = EventLog.segmentName(segment)
        func fail(_ reason: String) throws -> LogError {
            // Only on failure: count the lines to name the place.
            let lineNumber = try countLines(segment: segment, upTo: start) + 1
            let seq = try countLines(before: segment) + lineNumber
            return .integrity(IntegrityFailure(place: LogPlace(seq: seq, file: file, line: lineNumber), reason: "the last line \(reason)"))
        }
        let value: JSONValue
        do { value = try line.withUnsafeBytes { (b) throws(JSONParseError) in try JSONParser.parse(b, integersOnly: true) } } catch {
            throw try fail("is not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw try fail("is not a JSON object") }
        let event: Event
        do { event = try Event(json: object) } catch { throw try fail(error.description) }
        guard CanonicalJSON.encode(value) == line else { throw try fail("is not in canonical form") }
        guard event.computedHash() == event.hash else { throw try fail("does not hash to its hash member; it was changed after it was written") }
        return LogHead(seq: event.seq, hash: event.hash, recorded: event.recorded)
    }

    /// Newlines in a segment before `offset`.
    func countLines(segment: Int, upTo offset: Int) throws -> Int {
        try SegmentReader.countNewlines(path: segmentPath(segment), upTo: offset)
    }

    /// Lines in all segments before `segment`.
    func countLines(before segment: Int) throws -> Int {
        try (1..<max(segment, 1)).reduce(0) { $0 + (try countLines(segment: $1, upTo: Int.max)) }
    }

    /// The line (without its newline) whose newline is the byte before `offset`.
    func readLine(endingAt offset: Int, segment: Int) throws -> [UInt8]? {
        let path = segmentPath(segment)
        let fd = try FileIO.open(path, O_RDONLY)
        defer { close(fd) }
        guard offset <= (try FileIO.size(of: fd, path: path)) else { return nil }
        let last = try FileIO.readBytes(fd, count: 1, at: offset - 1, path: path)
        guard last[0] == 0x0A else { return nil }
        let start = try findLastNewline(fd: fd, size: offset - 1, path: path).map { $0 + 1 } ?? 0
        guard offset - 1 - start <= EventLog.maxLineBytes else { return nil }
        return try FileIO.readBytes(fd, count: offset - 1 - start, at: start, path: path)
    }

    /// Offset of the last `\n` before `size`, reading backwards in blocks.
    private func findLastNewline(fd: Int32, size: Int, path: String) throws -> Int? {
        var end = size
        while end > 0 {
            let start = max(0, end - 65_536)
            let block = try FileIO.readBytes(fd, count: end - start, at: start, path: path)
            if let index = block.lastIndex(of: 0x0A) { return start + index }
            end = start
        }
        return nil
    }

    // MARK: segments and quarantine

    private func createSegment(_ number: Int) throws {
        let path = segmentPath(number)
        let fd = try FileIO.open(path, O_WRONLY | O_CREAT | O_EXCL, operation: "create")
        defer { close(fd) }
        _ = fchmod(fd, FileIO.fileMode)
        try FileIO.fsync(fd, path: path, using: fileOperations)
        try FileIO.fsyncDirectory(self.path, using: fileOperations)
    }

    /// Truncates a segment to `length` and fsyncs it.
    private func cutTornTail(segment: Int, at length: Int) throws {
        let path = segmentPath(segment)
        let fd = try FileIO.open(path, O_WRONLY, operation: "open for truncate")
        defer { close(fd) }
        guard fileOperations.ftruncate(fd, length) == 0 else { throw LogError.io(operation: "truncate", path: path, errno: errno) }
        try FileIO.fsync(fd, path: path, using: fileOperations)
    }

    /// Copies torn bytes into `quarantine/FILE.OFFSET.torn` (`FILE.OFFSET.N.torn` when that
    /// name holds other bytes), fsynced with its directory.
    /// Returns the copy's path relative to the log.
    func quarantineBytes(_ torn: TornTail) throws -> String {
        let directory = "\(path)/\(EventLog.quarantineName)"
        if !FileIO.isDirectory(directory) {
            try FileIO.makeDirectory(directory)
            try FileIO.fsyncDirectory(path, using: fileOperations)
        }
        let fd = try FileIO.open("\(path)/\(torn.file)", O_RDONLY)
        defer { close(fd) }
        let bytes = try FileIO.readBytes(fd, count: torn.length, at: torn.offset, path: "\(path)/\(torn.file)")
        // Never replace an earlier copy: a writer that moved a tail aside and then failed
        // leaves the log ending at the same offset, where the next torn tail starts too.
        var name = "\(torn.file).\(torn.offset).torn"
        var attempt = 1
        while FileIO.exists("\(directory)/\(name)") {
            // The same bytes already safe (a writer died after copying, before cutting).
            if (try? FileIO.readFile("\(directory)/\(name)")) == bytes { return "\(EventLog.quarantineName)/\(name)" }
            attempt += 1
            name = "\(torn.file).\(torn.offset).\(attempt).torn"
        }
        try FileIO.writeFileAtomically(bytes, to: "\(directory)/\(name)", directory: directory, using: fileOperations)
        return "\(EventLog.quarantineName)/\(name)"
    }

    /// Whether every line the journal announced is on disk after its start.
    func batchIsComplete(_ journal: BatchJournal, path: String) throws -> Bool {
        var complete = 0
        _ = try SegmentReader.forEachLine(path: path, from: journal.length, maxLine: EventLog.maxLineBytes, tooLong: { _, _ in }) { _, _, _ in
            complete += 1
            return complete < journal.lines
        }
        return complete >= journal.lines
    }
}

/// Seals drafts into the lines that follow a head: gives each its `seq`, `id`,
/// `recorded`, `prev` and `hash`, and encodes each line once.
///
/// A canonical line holds its members sorted (`actor`, `data`, `hash`, `id`, `occurred`,
/// `prev`, `recorded`, `seq`, `source`, `stream`, `type`, `v`), so the bytes before `hash`
/// and those after it are encoded apart, hashed together (the event without `hash`), and
/// the line is the first part, the `hash` member and the second. The first part
/// (`{"actor":…,"data":{…}`) depends on nothing before it, so a large batch encodes it,
/// and hashes it as far as it goes, on every core (`LinePrefixes`); what chains the lines
/// (`prev`, `seq`) is encoded and hashed in order.
struct LineSealer {
    let head: LogHead
    /// The batch's one time: now, or the head's when the clock is behind it.
    let recorded: String

    init(after head: LogHead) {
        self.head = head
        var millis = Timestamp.nowMillis()
        if let last = head.recorded.flatMap(Timestamp.millis(ofRecorded:)), last > millis { millis = last }
        recorded = Timestamp.recordedString(millis: millis)
    }

    /// Throws for the first draft, in order, that can never be a line: an `id` that is
    /// not one, a number a reader would refuse (SPEC §2), or, `limitingLength`, a line
    /// over 1 MiB. Checked on every core for a large batch.
    func check(_ drafts: [EventDraft], limitingLength: Bool) throws(LogError) {
        let perPart = LinePrefixes.draftsPerPart
        let refusals = Parallel.map(count: (drafts.count + perPart - 1) / perPart, threshold: 2) { part -> LogError? in
            for index in (part * perPart)..<min(drafts.count, (part + 1) * perPart) {
                if let refusal = refusal(of: drafts[index], seq: head.seq + index + 1, limitingLength: limitingLength) { return refusal }
            }
            return nil
        }
        if let first = refusals.first(where: { $0 != nil }) { throw first! }
    }

    private func refusal(of draft: EventDraft, seq: Int, limitingLength: Bool) -> LogError? {
        if let id = draft.id, !EventID.isValid(id) {
            return .invalidInput("id \"\(id)\" is not a lower-case UUID (like 3f2c9a4e-8b1d-4c6e-9f0a-1b2c3d4e5f60)")
        }
        // A line a reader would refuse must never be written: it would stop every reader and writer.
        guard EventLog.holdsOnlyReadableNumbers(.object(draft.data)) else {
            return .invalidInput("the data of the \(draft.type) event holds a fraction or an integer beyond ±(2^53−1); numbers in an event are integers within that range")
        }
        guard limitingLength, let length = overlongLength(of: draft, seq: seq) else { return nil }
        return .invalidInput("the event of type \(draft.type) would be a line of \(length) bytes; a line holds at most 1 MiB (1048576 bytes)")
    }

    /// The length of `draft`'s line, with its newline, when that is over 1 MiB; nil when
    /// the line fits. Nearly every line is far below the limit by a bound that encodes
    /// nothing; the others are measured by encoding them (a hash is as long as any other).
    func overlongLength(of draft: EventDraft, seq: Int) -> Int? {
        guard LineSealer.lengthBound(of: draft) > EventLog.maxLineBytes else { return nil }
        let placeholder = String(repeating: "0", count: 64)
        let length = event(of: draft, id: draft.id ?? EventID.random(), seq: seq, prev: placeholder, hash: placeholder).lineBytes().count
        return length > EventLog.maxLineBytes ? length : nil
    }

    /// At least the length of `draft`'s line: its strings' bounds (`CanonicalJSON.lengthBound`)
    /// and, for the member names, the hashes, the time and the integers, 512 bytes.
    static func lengthBound(of draft: EventDraft) -> Int {
        let strings = [draft.actor, draft.occurred, draft.stream, draft.type].reduce(0) { $0 + $1.utf8.count }
            + (draft.id?.utf8.count ?? 36) + (draft.source?.utf8.count ?? 0)
        return 6 * strings + CanonicalJSON.lengthBound(of: .object(draft.data)) + 512
    }

    /// What `seal` did.
    struct Sealed {
        /// Every event, with `keepingEvents`; else none.
        var events: [Event] = []
        /// The first event, always.
        var first: Event?
        var head: LogHead
        /// The bytes of all the lines.
        var byteCount = 0
    }

    /// Seals `drafts`, which `check` passed, handing `write` the lines in order in chunks
    /// of a few MiB: the caller writes them while the next are sealed, and no batch is
    /// held whole.
    func seal(_ drafts: [EventDraft], keepingEvents: Bool, write: ([UInt8]) throws(LogError) -> Void) throws(LogError) -> Sealed {
        var sealed = Sealed(head: head)
        if keepingEvents { sealed.events.reserveCapacity(drafts.count) }
        var prev = head.hash
        var seq = head.seq
        var chunk = [UInt8]()
        // A chunk's worth for a large batch; a one-event append needs a line's worth.
        chunk.reserveCapacity(min(EventLog.lineChunkBytes, drafts.count * 1024) + 4096)
        var after = [UInt8]()
        after.reserveCapacity(512)
        for groupStart in stride(from: 0, to: drafts.count, by: LinePrefixes.draftsPerGroup) {
            let group = groupStart..<min(drafts.count, groupStart + LinePrefixes.draftsPerGroup)
            for part in LinePrefixes.encode(drafts[group]) {
                for offset in part.hashers.indices {
                    let draft = drafts[part.drafts.lowerBound + offset]
                    seq += 1
                    let id = draft.id ?? EventID.random()
                    after.removeAll(keepingCapacity: true)
                    LineSealer.encodeMembersAfterHash(of: draft, id: id, prev: prev, recorded: recorded, seq: seq, into: &after)
                    var hasher = part.hashers[offset]
                    after.withUnsafeBytes { hasher.update($0) }
                    let hash = Hex.encode(hasher.finalize())
                    let start = chunk.count
                    chunk.append(contentsOf: part.bytes[part.starts[offset]..<part.starts[offset + 1]])
                    LinePrefixes.append(#","hash":""#, to: &chunk)
                    chunk.append(contentsOf: hash.utf8)
                    chunk.append(UInt8(ascii: "\""))
                    chunk.append(contentsOf: after)
                    chunk.append(UInt8(ascii: "\n"))
                    assert(chunk[start...].elementsEqual(event(of: draft, id: id, seq: seq, prev: prev, hash: hash).lineBytes()),
                           "a sealed line differs from the event's canonical form")
                    if keepingEvents || sealed.first == nil {
                        let event = event(of: draft, id: id, seq: seq, prev: prev, hash: hash)
                        if sealed.first == nil { sealed.first = event }
                        if keepingEvents { sealed.events.append(event) }
                    }
                    prev = hash
                    if chunk.count >= EventLog.lineChunkBytes {
                        try write(chunk)
                        sealed.byteCount += chunk.count
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
            }
        }
        if !chunk.isEmpty {
            try write(chunk)
            sealed.byteCount += chunk.count
        }
        if seq > head.seq { sealed.head = LogHead(seq: seq, hash: prev, recorded: recorded) }
        return sealed
    }

    private func event(of draft: EventDraft, id: String, seq: Int, prev: String, hash: String) -> Event {
        Event(seq: seq, id: id, type: draft.type, v: draft.v, stream: draft.stream, occurred: draft.occurred,
              recorded: recorded, actor: draft.actor, source: draft.source, data: draft.data, prev: prev, hash: hash)
    }

    /// The members of a line after `hash`, from `id` to `v` and the closing brace.
    private static func encodeMembersAfterHash(of draft: EventDraft, id: String, prev: String, recorded: String, seq: Int, into out: inout [UInt8]) {
        LinePrefixes.append(#","id":"#, to: &out)
        CanonicalJSON.encode(.string(id), into: &out)
        LinePrefixes.append(#","occurred":"#, to: &out)
        CanonicalJSON.encode(.string(draft.occurred), into: &out)
        LinePrefixes.append(#","prev":"#, to: &out)
        CanonicalJSON.encode(.string(prev), into: &out)
        LinePrefixes.append(#","recorded":"#, to: &out)
        CanonicalJSON.encode(.string(recorded), into: &out)
        LinePrefixes.append(#","seq":"#, to: &out)
        CanonicalJSON.encode(.integer(seq), into: &out)
        if let source = draft.source {
            LinePrefixes.append(#","source":"#, to: &out)
            CanonicalJSON.encode(.string(source), into: &out)
        }
        LinePrefixes.append(#","stream":"#, to: &out)
        CanonicalJSON.encode(.string(draft.stream), into: &out)
        LinePrefixes.append(#","type":"#, to: &out)
        CanonicalJSON.encode(.string(draft.type), into: &out)
        LinePrefixes.append(#","v":"#, to: &out)
        CanonicalJSON.encode(.integer(draft.v), into: &out)
        out.append(UInt8(ascii: "}"))
    }
}

/// The first parts of some drafts' lines, `{"actor":…,"data":{…}`, encoded one after
/// the other into `bytes`, and the SHA-256 of each so far.
struct LinePrefixes {
    /// The drafts' indices, in order.
    var drafts: Range<Int>
    var bytes: [UInt8] = []
    /// Where each draft's part starts in `bytes`, and (last) where the final one ends.
    var starts: [Int] = [0]
    var hashers: [SHA256] = []

    /// Drafts sealed per round: their parts are encoded on every core, then chained here.
    static let draftsPerGroup = 16384
    /// Drafts per part of a round, encoded by one thread.
    static let draftsPerPart = 512

    /// The parts of `drafts`, in order, encoded on every core when there are several.
    static func encode(_ drafts: ArraySlice<EventDraft>) -> [LinePrefixes] {
        let partCount = (drafts.count + draftsPerPart - 1) / draftsPerPart
        return Parallel.map(count: partCount, threshold: 2) { part in
            let first = drafts.startIndex + part * draftsPerPart
            var prefixes = LinePrefixes(drafts: first..<min(drafts.endIndex, first + draftsPerPart))
            prefixes.encode(drafts[prefixes.drafts])
            return prefixes
        }
    }

    private mutating func encode(_ drafts: ArraySlice<EventDraft>) {
        bytes.reserveCapacity(drafts.count * 512)
        hashers.reserveCapacity(drafts.count)
        for draft in drafts {
            let start = bytes.count
            LinePrefixes.append(#"{"actor":"#, to: &bytes)
            CanonicalJSON.encode(.string(draft.actor), into: &bytes)
            LinePrefixes.append(#","data":"#, to: &bytes)
            CanonicalJSON.encode(.object(draft.data), into: &bytes)
            var hasher = SHA256()
            bytes.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[start...])) }
            hashers.append(hasher)
            starts.append(bytes.count)
        }
    }

    static func append(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
