#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A place between two lines of the log, from which a reader can resume: the segment,
/// the byte offset in it, and the event just before.
public struct LogPosition: Sendable, Equatable, Codable {
    public var segment: Int
    public var offset: Int
    /// Lines of `segment` before `offset`.
    public var linesBefore: Int
    /// The seq and hash of the last event before this position (0 and 64 zeros at the start).
    public var seq: Int
    public var hash: String

    public static let start = LogPosition(segment: 1, offset: 0, linesBefore: 0, seq: 0, hash: Event.genesisHash)

    public init(segment: Int, offset: Int, linesBefore: Int, seq: Int, hash: String) {
        self.segment = segment
        self.offset = offset
        self.linesBefore = linesBefore
        self.seq = seq
        self.hash = hash
    }
}

/// How much a read checks of each line beyond parsing it and linking `seq` and `prev`.
public struct ReadChecks: Sendable, OptionSet {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// Recompute `hash` and confirm the line is its own canonical form (what `verify` does).
    public static let hashes = ReadChecks(rawValue: 1)
}

/// What a read saw besides the events.
public struct ReadSummary: Sendable, Equatable {
    /// The last event read and where reading may resume.
    public var end: LogPosition
    public var tornTail: TornTail?
    public var head: LogHead { LogHead(seq: end.seq, hash: end.hash, recorded: lastRecorded) }
    public var lastRecorded: String?
}

extension EventLog {
    /// Calls `body` with every event in `seq` order from `position`. `body` returns
    /// false to stop. The events are those of `readLines`, built from their lines.
    ///
    /// Every line must parse, be a well-formed envelope, carry the next `seq`, link to
    /// the previous `hash` by `prev` and not go back in `recorded`; with `.hashes` it
    /// must also be canonical and hash to its `hash`. Anything else throws
    /// `LogError.integrity` naming seq, file and line. A torn tail is returned in the
    /// summary, not thrown.
    @discardableResult
    public func read(from position: LogPosition = .start, checks: ReadChecks = [], _ body: (Event) throws -> Bool) throws -> ReadSummary {
        try readLines(from: position, checks: checks) { line in try body(line.event()) }
    }

    /// Calls `body` with every line in `seq` order from `position`, checked as `read`
    /// checks it, for callers that need a few members of each line rather than an
    /// `Event`. `body` returns false to stop.
    ///
    /// The lines are gathered in batches and each batch prechecked (scanned, and hashed
    /// with `.hashes`: what needs nothing of the line before) on both cores; this thread
    /// then links them in order (seq, prev, recorded) and gives them to `body`. A long
    /// read (more than `pipelineThreshold` bytes) gathers and prechecks on a second
    /// thread meanwhile. Either way `body` sees the same lines, and the same error at
    /// the same place.
    @discardableResult
    public func readLines(from position: LogPosition = .start, checks: ReadChecks = [], _ body: (LogLine) throws -> Bool) throws -> ReadSummary {
        var cursor = ChainCursor(position: position)
        func consume(_ batch: PrecheckBatch) throws -> Bool {
            try batch.withLines { line in
                // The last line linked in place whose place and hash the cursor does not
                // hold yet: made into strings once a batch, not once a line.
                var pending: Int?
                func settle() {
                    guard let index = pending else { return }
                    cursor.advance(past: batch.checks[index]!, line: line(index), location: batch.locations[index])
                    pending = nil
                }
                defer { settle() }
                for index in 0..<batch.count {
                    let bytes = line(index), location = batch.locations[index]
                    var canonical = batch.checks[index]
                    var strict: Event?
                    var linked = false
                    if let c = canonical {
                        // The line before it in this batch was checked to lead to it where it was prechecked.
                        linked = pending == index - 1 && batch.continuesPrevious[index]
                        if !linked {
                            settle()
                            linked = cursor.links(c, line: bytes)
                        }
                    }
                    if linked {
                        pending = index
                    } else {
                        // Not canonical, or not linking: the strict path reads it, or names what is wrong.
                        settle()
                        canonical = nil
                        strict = try cursor.accept(line: bytes, place: location, checks: checks)
                    }
                    let logLine = LogLine(bytes: bytes, location: location, canonical: canonical, strict: strict)
                    if try !body(logLine) { return false }
                }
                return true
            }
        }
        let tornTail: TornTail?
        if Parallel.cores > 1, (try? bytesToRead(from: position)) ?? 0 > EventLog.pipelineThreshold {
            tornTail = try readPipelined(from: position, checks: checks, consume)
        } else {
            tornTail = try precheckedBatches(from: position, checks: checks, deliver: consume)
        }
        // A read that `body` stopped reports no torn tail: it did not reach the end.
        return ReadSummary(end: cursor.position, tornTail: tornTail, lastRecorded: cursor.lastRecorded)
    }

    /// Lines prechecked together: about a megabyte.
    static let linesPerBatch = 2048

    /// Reads longer than this many bytes are prechecked on a second thread. Changed only
    /// by the tests that compare the two ways of reading.
    nonisolated(unsafe) static var pipelineThreshold = 4 << 20

    /// The bytes of the segments from `position` on.
    func bytesToRead(from position: LogPosition) throws -> Int {
        try segmentNumbers().filter { $0 >= position.segment }.reduce(0) { total, number in
            total + max(0, (FileIO.size(ofPath: segmentPath(number)) ?? 0) - (number == position.segment ? position.offset : 0))
        }
    }

    /// `precheckedBatches` on a second thread, handing each batch to `consume` on this one.
    private func readPipelined(from position: LogPosition, checks: ReadChecks, _ consume: (PrecheckBatch) throws -> Bool) throws -> TornTail? {
        let pipe = ReadPipeline<PrecheckBatch>()
        let log = self
        DetachedThread.start {
            do {
                let tornTail = try log.precheckedBatches(from: position, checks: checks) { pipe.put($0) }
                pipe.finish(tornTail: tornTail, error: nil)
            } catch {
                pipe.finish(tornTail: nil, error: error)
            }
        }
        defer { pipe.cancelAndWait() }
        while let batch = pipe.take() {
            if try !consume(batch) { return nil }
        }
        let (tornTail, failure) = pipe.outcome()
        if let failure { throw failure }
        return tornTail
    }

    /// Scans the lines from `position` and prechecks them in batches on both cores,
    /// giving each batch to `deliver` (false stops). What the scan refuses (a line over
    /// 1 MiB, a missing segment) is thrown after the lines before it were delivered.
    private func precheckedBatches(from position: LogPosition, checks: ReadChecks, deliver: (PrecheckBatch) throws -> Bool) throws -> TornTail? {
        var gathered = GatheredLines(capacity: EventLog.linesPerBatch)
        var stopped = false
        func flush() throws -> Bool {
            guard gathered.count > 0 else { return true }
            // Taken out before it is delivered: a failure found in it must not deliver it again.
            var taken = GatheredLines(capacity: EventLog.linesPerBatch)
            swap(&taken, &gathered)
            let full = PrecheckBatch(taken, hashing: checks.contains(.hashes))
            stopped = try !deliver(full)
            return !stopped
        }
        var tornTail: TornTail?
        do {
            try scanLines(from: position) { line, location in
                gathered.append(line, location)
                return gathered.count >= EventLog.linesPerBatch ? try flush() : true
            } tail: { tornTail = $0 }
        } catch {
            // The lines gathered before what the scan refused come first, and so do their failures.
            if !stopped, try flush() { throw error }
            return nil
        }
        // A consumer that stopped did not read to the end: no torn tail to report.
        guard !stopped, try flush() else { return nil }
        return tornTail
    }

    /// Calls `body` with every whole line of the log (without its newline) and the seq
    /// it must carry, in order, checking nothing: for a cheap first pass (such as finding
    /// the corrections) whose findings the caller confirms through `read`. `body`
    /// returns false to stop. The lines are those `read` would see: a torn tail and the
    /// lines of an unfinished batch are left out.
    public func forEachRawLine(_ body: (UnsafeRawBufferPointer, Int) throws -> Bool) throws {
        var seq = 0
        try scanLines(from: .start) { line, _ in
            seq += 1
            return try body(line, seq)
        } tail: { _ in }
    }

    /// The lines of `forEachRawLine` that `pick` makes something of, in log order, for a
    /// first pass that keeps few of them: `pick` runs on every core, a segment at a time,
    /// so it may run on several threads at once. A log that `forEachRawLine` would refuse
    /// (a line over 1 MiB, a segment cut short before the last) is read its way, which
    /// throws what is wrong.
    public func pickRawLines<Picked>(_ pick: (UnsafeRawBufferPointer) -> Picked?) throws -> [Picked] {
        try pickRawLinesWithSeqs(pick).map(\.picked)
    }

    /// `pickRawLines`, each picked with the seq its line must carry (as `forEachRawLine`
    /// gives it).
    public func pickRawLinesWithSeqs<Picked>(_ pick: (UnsafeRawBufferPointer) -> Picked?) throws -> [(seq: Int, picked: Picked)] {
        let numbers = try segmentNumbers()
        let unfinished = try unfinishedBatch(numbers)
        // Per segment: its lines, and what was picked with the line's number in it.
        let parts = Parallel.map(count: numbers.count, threshold: 2) { index -> (lines: Int, picked: [(line: Int, picked: Picked)])? in
            let number = numbers[index]
            var picked: [(line: Int, picked: Picked)] = []
            var lines = 0
            var tooLong = false
            let ending = try? SegmentReader.forEachLine(
                path: segmentPath(number), to: unfinished?.segment == number ? unfinished!.length : Int.max,
                maxLine: EventLog.maxLineBytes, tooLong: { _, _ in tooLong = true }
            ) { bytes, line, _ in
                lines = line
                if let one = pick(bytes) { picked.append((line, one)) }
                return true
            }
            guard let ending, !tooLong else { return nil }
            // Only the last segment may end without a newline (a torn tail, left out).
            if case .unterminated = ending, number != numbers.last, unfinished?.segment != number { return nil }
            return (lines, picked)
        }
        var picked: [(seq: Int, picked: Picked)] = []
        guard parts.allSatisfy({ $0 != nil }) else {
            try forEachRawLine { line, seq in
                if let one = pick(line) { picked.append((seq, one)) }
                return true
            }
            return picked
        }
        var linesBefore = 0
        for part in parts {
            picked += part!.picked.map { (linesBefore + $0.line, $0.picked) }
            linesBefore += part!.lines
        }
        return picked
    }

    /// The journal of a batch still being written to the last segment (or cut short by
    /// a crash): its lines are not yet in the log.
    private func unfinishedBatch(_ numbers: [Int]) throws -> BatchJournal? {
        guard let journal = BatchJournal.current(logPath: path), journal.segment == numbers.last,
              try !batchIsComplete(journal, path: segmentPath(journal.segment)) else { return nil }
        return journal
    }

    /// Streams raw lines with their places, across segments, from `position`.
    /// `tail` receives the torn tail of the last segment, if any.
    func scanLines(
        from position: LogPosition,
        _ body: (UnsafeRawBufferPointer, LineLocation) throws -> Bool,
        tail: (TornTail) -> Void
    ) throws {
        let numbers = try segmentNumbers()
        guard numbers.contains(position.segment) else {
            throw LogError.integrity(IntegrityFailure(place: LogPlace(seq: position.seq + 1, file: EventLog.segmentName(position.segment), line: position.linesBefore + 1),
                                                      reason: "the segment is missing"))
        }
        let unfinished = try unfinishedBatch(numbers)
        var seq = position.seq
        for number in numbers where number >= position.segment {
            let file = EventLog.segmentName(number)
            let startOffset = number == position.segment ? position.offset : 0
            let firstLine = number == position.segment ? position.linesBefore + 1 : 1
            var stopped = false
            var lastLine = firstLine - 1
            let ending = try SegmentReader.forEachLine(
                path: segmentPath(number), from: startOffset, to: unfinished?.segment == number ? unfinished!.length : Int.max,
                firstLine: firstLine, maxLine: EventLog.maxLineBytes,
                tooLong: { line, _ in
                    throw LogError.integrity(IntegrityFailure(place: LogPlace(seq: seq + 1, file: file, line: line),
                                                              reason: "the line is longer than 1 MiB"))
                }
            ) { bytes, line, offset in
                seq += 1
                lastLine = line
                let keepGoing = try body(bytes, LineLocation(segment: number, line: line, offset: offset, length: bytes.count + 1))
                if !keepGoing { stopped = true }
                return keepGoing
            }
            if stopped { return }
            if let unfinished, unfinished.segment == number {
                let size = FileIO.size(ofPath: segmentPath(number)) ?? unfinished.length
                if size > unfinished.length { tail(TornTail(file: file, offset: unfinished.length, length: size - unfinished.length)) }
            } else if case .unterminated(let offset, let length) = ending {
                if number == numbers.last {
                    tail(TornTail(file: file, offset: offset, length: length))
                } else {
                    throw LogError.integrity(IntegrityFailure(place: LogPlace(seq: seq + 1, file: file, line: lastLine + 1),
                                                              reason: "segment does not end with a newline, yet a later segment exists"))
                }
            }
        }
    }
}

/// Where one line lies.
struct LineLocation {
    var segment: Int
    /// The segment's file name, made when asked for: a string shared by every line would
    /// be retained and released by every thread that copies a line's place.
    var file: String { EventLog.segmentName(segment) }
    var line: Int
    var offset: Int
    /// Bytes of the line including its newline.
    var length: Int

    /// Where the log stands just after this line, which carries `seq` and `hash`.
    func positionAfter(seq: Int, hash: String) -> LogPosition {
        LogPosition(segment: segment, offset: offset + length, linesBefore: line, seq: seq, hash: hash)
    }
}

/// Follows the chain line by line: seq, prev and recorded, and optionally the hash.
struct ChainCursor {
    var position: LogPosition
    var lastRecorded: String?

    init(position: LogPosition) { self.position = position }

    /// The strict path: a line the precheck refused or that did not link in place,
    /// parsed in full; throws what is wrong with it, naming its place.
    mutating func accept(line: UnsafeRawBufferPointer, place location: LineLocation, checks: ReadChecks) throws -> Event {
        let place = LogPlace(seq: position.seq + 1, file: location.file, line: location.line)
        func fail(_ reason: String) -> LogError { .integrity(IntegrityFailure(place: place, reason: reason)) }

        let value: JSONValue
        do { value = try JSONParser.parse(line, integersOnly: true) } catch {
            throw fail("the line is not valid JSON (\(error))")
        }
        guard case .object(let object) = value else { throw fail("the line is not a JSON object") }
        let event: Event
        do { event = try Event(json: object) } catch { throw fail(error.description) }
        try link(event, fail: fail)
        if checks.contains(.hashes) {
            let canonical = CanonicalJSON.encode(value)
            guard canonical.elementsEqual(line) else {
                throw fail("the line is not in canonical form (RFC 8785); it was re-serialised or edited after it was written")
            }
            let computed = event.computedHash()
            guard computed == event.hash else {
                throw fail("hash does not match (expected \(computed.prefix(12))…, found \(event.hash.prefix(12))…); the line was changed after it was written")
            }
        }
        advance(past: event, at: location)
        return event
    }

    /// Checks that `event` continues the chain: the next seq, `prev` the hash before it,
    /// `recorded` not lower than the one before.
    private func link(_ event: Event, fail: (String) -> LogError) throws {
        guard event.seq == position.seq + 1 else {
            throw fail("seq is \(event.seq) where \(position.seq + 1) was expected; a line was deleted, inserted or moved")
        }
        guard event.prev == position.hash else {
            throw fail("prev does not match the hash of seq \(position.seq) (expected \(position.hash.prefix(12))…, found \(event.prev.prefix(12))…); a line before it was changed, deleted or inserted")
        }
        if let last = lastRecorded, event.recorded < last {
            throw fail("recorded \(event.recorded) is earlier than the previous event's \(last)")
        }
    }

    private mutating func advance(past event: Event, at location: LineLocation) {
        position = location.positionAfter(seq: event.seq, hash: event.hash)
        lastRecorded = event.recorded
    }
}

extension Event {
    /// `data.text` when it is a text reference, and `data.ref` of a `text.erased`.
    public var textReferences: (text: String?, erased: String?) {
        let text = data["text"]?.stringValue.flatMap { EventLog.isTextReference($0) ? $0 : nil }
        return (text, type == EventLog.textErasedType ? data["ref"]?.stringValue : nil)
    }
}

/// Searching bytes.
public enum Bytes {
    /// The C library's `memmem`, looked up once. It skips ahead by pairs of bytes, where
    /// a search by the first byte stops at every quote of a line.
    private static let memmem = CLibrary.function("memmem", as: (@convention(c) (UnsafeRawPointer?, Int, UnsafeRawPointer?, Int) -> UnsafeMutableRawPointer?).self)

    /// Whether `needle` occurs in `haystack`.
    public static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        contains(haystack, UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount))
    }

    /// Where `needle` first occurs in `haystack` at or after `from`.
    static func firstRange(of needle: StaticString, in haystack: UnsafeRawBufferPointer, from: Int) -> Range<Int>? {
        firstRange(of: UnsafeRawBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount), in: haystack, from: from)
    }

    /// Whether `needle` occurs in `haystack`.
    public static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        needle.isEmpty || firstRange(of: needle, in: haystack, from: 0) != nil
    }

    /// The C library's `memmem` where it has one; else `firstRangeByFirstByte`.
    private static func firstRange(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from start: Int) -> Range<Int>? {
        guard let memmem = Bytes.memmem else { return firstRangeByFirstByte(of: needle, in: haystack, from: start) }
        let n = needle.count
        guard n > 0, let base = haystack.baseAddress, let first = needle.baseAddress, start + n <= haystack.count,
              let found = memmem(base + start, haystack.count - start, first, n) else { return nil }
        let at = base.distance(to: UnsafeRawPointer(found))
        return at..<(at + n)
    }

    /// `firstRange` without `memmem`: `memchr` for the needle's first byte, then `memcmp`.
    static func firstRangeByFirstByte(of needle: UnsafeRawBufferPointer, in haystack: UnsafeRawBufferPointer, from start: Int) -> Range<Int>? {
        let n = needle.count
        guard n > 0, let base = haystack.baseAddress, let first = needle.baseAddress else { return nil }
        var from = start
        while from + n <= haystack.count {
            guard let found = memchr(base + from, Int32(needle[0]), haystack.count - n + 1 - from) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(found))
            if memcmp(found, first, n) == 0 { return at..<(at + n) }
            from = at + 1
        }
        return nil
    }
}

/// One line of the log, checked and linked, as `readLines` hands it over: read in
/// place when it is canonical (the usual case), else through the strict parser.
///
/// Valid only during the call that gave it: its bytes are the reader's buffer.
public struct LogLine {
    /// The line, without its newline.
    public let bytes: UnsafeRawBufferPointer
    let location: LineLocation
    /// Nil when the strict parser read the line; `strict` holds its event then.
    let canonical: CanonicalLine?
    let strict: Event?

    public var seq: Int { canonical?.seq ?? strict!.seq }
    /// Made into a string when asked for: most readers never ask.
    public var hash: String { member(\.hash, \.hash) }
    public var recorded: String { member(\.recorded, \.recorded) }

    /// `recorded` in milliseconds, read in place.
    public var recordedMillis: Int64? {
        if let canonical { return Timestamp.millis(ofRecorded: UnsafeRawBufferPointer(rebasing: bytes[canonical.recorded])) }
        return Timestamp.millis(ofRecorded: strict!.recorded)
    }

    /// The whole event, built from the line.
    public func event() throws -> Event {
        if let strict { return strict }
        // The precheck checked the envelope already (`ChainCursor.precheck`).
        if let canonical, let event = Event(line: bytes, checkedEnvelope: canonical) { return event }
        // Not reached: the precheck accepted the same members this reads.
        throw LogError.integrity(IntegrityFailure(place: LogPlace(seq: seq, file: location.file, line: location.line),
                                                  reason: "the line's envelope could not be read"))
    }

    /// `data` read in place; nil when the line went through the strict parser.
    public var data: CanonicalObject? {
        canonical.map { CanonicalObject(UnsafeRawBufferPointer(rebasing: bytes[$0.data])) }
    }

    public func withType<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withMember(\.type, \.type, body) }

    /// `body` with the UTF-8 of `stream`, without a string made of it.
    public func withStream<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try withMember(\.stream, \.stream, body) }

    private func withMember<R>(_ range: KeyPath<CanonicalLine, Range<Int>>, _ member: KeyPath<Event, String>,
                               _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let canonical { return try body(UnsafeRawBufferPointer(rebasing: bytes[canonical[keyPath: range]])) }
        var value = strict![keyPath: member]
        return try value.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }

    public var id: UUIDKey {
        if let canonical { return UUIDKey(bytes: UnsafeRawBufferPointer(rebasing: bytes[canonical.id])) }
        return UUIDKey(strict!.id)
    }

    public var idString: String { member(\.id, \.id) }

    /// Where the log stands just after this line, as a read that ends there reports it.
    public var positionAfter: LogPosition { location.positionAfter(seq: seq, hash: hash) }
    public var stream: String { member(\.stream, \.stream) }

    /// `Event.textReferences`, read in place: what `verify` checks against `attachments/`
    /// and a writer keeps.
    public func textReferences() throws -> (text: String?, erased: String?) {
        if let canonical, let data {
            let erasure = withType { $0.count == EventLog.textErasedType.utf8.count && $0.elementsEqual(EventLog.textErasedType.utf8) }
            // Most lines name no text: a byte search decides before any member is read.
            let needle: StaticString = #""text":"sha256-"#
            guard erasure || Bytes.contains(UnsafeRawBufferPointer(rebasing: bytes[canonical.data]), needle) else { return (nil, nil) }
            let text = data.string("text").flatMap { EventLog.isTextReference($0) ? $0 : nil }
            return (text, erasure ? data.string("ref") : nil)
        }
        return try event().textReferences
    }

    public var occurred: String { member(\.occurred, \.occurred) }

    private func member(_ range: KeyPath<CanonicalLine, Range<Int>>, _ member: KeyPath<Event, String>) -> String {
        if let canonical { return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[canonical[keyPath: range]]), as: UTF8.self) }
        return strict![keyPath: member]
    }
}

/// The queue between the thread that checks a long read and the one that consumes it:
/// a reference type because both threads share it; every field is guarded by `condition`.
final class ReadPipeline<Chunk>: @unchecked Sendable {
    /// Batches in flight (of `EventLog.linesPerBatch` lines each): a few MB.
    static var maxChunks: Int { 4 }

    private let condition = ConditionLock()
    private var chunks: [Chunk] = []
    private var cancelled = false
    /// The producer has left: no chunk comes after those queued.
    private var producerDone = false
    private var tornTail: TornTail?
    private var failure: (any Error)?

    /// Queues a chunk, waiting for room; false once the consumer stopped.
    func put(_ chunk: Chunk) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while chunks.count >= ReadPipeline.maxChunks && !cancelled { condition.wait() }
        if cancelled { return false }
        chunks.append(chunk)
        condition.broadcast()
        return true
    }
    func finish(tornTail: TornTail?, error: (any Error)?) {
        condition.lock()
        self.tornTail = tornTail
        failure = error
        producerDone = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next chunk in order; nil once the producer finished and all were taken.
    func take() -> Chunk? {
        condition.lock()
        defer { condition.unlock() }
        while chunks.isEmpty && !producerDone { condition.wait() }
        if chunks.isEmpty { return nil }
        let chunk = chunks.removeFirst()
        condition.broadcast()
        return chunk
    }

    func outcome() -> (TornTail?, (any Error)?) {
        condition.lock()
        defer { condition.unlock() }
        return (tornTail, failure)
    }

    /// Stops the producer (if it still runs) and waits until it has left.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while !producerDone { condition.wait() }
        condition.unlock()
    }
}

extension ChainCursor {
    /// What can be checked of a canonical line without knowing the line before it:
    /// its envelope's form and its hash. Nil sends the line to the strict path.
    static func precheck(_ line: UnsafeRawBufferPointer, hashing: Bool = true) -> CanonicalLine? {
        guard let c = CanonicalLine.scan(line), c.hasWellFormedEnvelope(in: line),
              !hashing || c.hashMatches(c.computedDigest(of: line), in: line) else { return nil }
        return c
    }

    /// Whether a prechecked line continues the chain where the cursor stands, without
    /// building its event: the next seq, `prev` the hash before it, `recorded` not lower.
    /// When it does not, the strict path names the failure.
    func links(_ c: CanonicalLine, line: UnsafeRawBufferPointer) -> Bool {
        c.seq == position.seq + 1 && ChainCursor.equal(line, c.prev, position.hash)
            && lastRecorded.map({ !ChainCursor.precedes(line, c.recorded, $0) }) ?? true
    }

    /// `links` between two prechecked lines: whether `c` continues the chain after
    /// `before` (the next seq, `prev` its hash, `recorded` not lower).
    static func follows(_ c: CanonicalLine, in line: UnsafeRawBufferPointer, after before: CanonicalLine, in previous: UnsafeRawBufferPointer) -> Bool {
        c.seq == before.seq + 1
            && c.prev.count == before.hash.count
            && memcmp(line.baseAddress! + c.prev.lowerBound, previous.baseAddress! + before.hash.lowerBound, c.prev.count) == 0
            && !UnsafeRawBufferPointer(rebasing: line[c.recorded]).lexicographicallyPrecedes(UnsafeRawBufferPointer(rebasing: previous[before.recorded]))
    }

    /// Moves the cursor past a prechecked line that links.
    mutating func advance(past c: CanonicalLine, line: UnsafeRawBufferPointer, location: LineLocation) {
        position = location.positionAfter(seq: c.seq, hash: String(decoding: UnsafeRawBufferPointer(rebasing: line[c.hash]), as: UTF8.self))
        lastRecorded = String(decoding: UnsafeRawBufferPointer(rebasing: line[c.recorded]), as: UTF8.self)
    }

    static func equal(_ line: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
        let fast = text.utf8.withContiguousStorageIfAvailable { utf8 in
            utf8.count == range.count && memcmp(utf8.baseAddress!, line.baseAddress! + range.lowerBound, range.count) == 0
        }
        return fast ?? text.utf8.elementsEqual(UnsafeRawBufferPointer(rebasing: line[range]))
    }

    /// Whether the bytes at `range` sort before `text` (`String`'s `<` for ASCII).
    static func precedes(_ line: UnsafeRawBufferPointer, _ range: Range<Int>, _ text: String) -> Bool {
        UnsafeRawBufferPointer(rebasing: line[range]).lexicographicallyPrecedes(text.utf8)
    }
}

/// Lines gathered for a batch, before it is prechecked: a value, so that adding one
/// (for every line of a read) retains and releases nothing.
struct GatheredLines {
    fileprivate var bytes: [UInt8] = []
    fileprivate var starts: [Int] = []
    fileprivate var locations: [LineLocation] = []

    var count: Int { locations.count }

    init(capacity: Int) {
        bytes.reserveCapacity(capacity * 512)
        starts.reserveCapacity(capacity)
        locations.reserveCapacity(capacity)
    }

    mutating func append(_ line: UnsafeRawBufferPointer, _ location: LineLocation) {
        starts.append(bytes.count)
        bytes.append(contentsOf: line)
        locations.append(location)
    }
}

/// Lines gathered for a read and prechecked on every core. A reference type: a
/// pipelined read hands it from the thread that fills it to the one that reads it.
final class PrecheckBatch: @unchecked Sendable {
    let bytes: [UInt8]
    let starts: [Int]
    let locations: [LineLocation]
    /// Each line's precheck (without hashing, the hashes are left to the strict path).
    let checks: [CanonicalLine?]
    /// Whether each line continues the one before it in the batch, both prechecked: the
    /// next seq, `prev` its hash, `recorded` not lower. The first line's is false.
    let continuesPrevious: [Bool]

    var count: Int { locations.count }

    /// Prechecks `lines` on every core.
    init(_ lines: consuming GatheredLines, hashing: Bool) {
        bytes = lines.bytes
        starts = lines.starts
        locations = lines.locations
        let checks = PrecheckBatch.withLines(bytes, starts) { line in
            Parallel.map(count: lines.count, threshold: 256) { ChainCursor.precheck(line($0), hashing: hashing) }
        }
        continuesPrevious = PrecheckBatch.withLines(bytes, starts) { line in
            (0..<checks.count).map { index in
                guard index > 0, let c = checks[index], let before = checks[index - 1] else { return false }
                return ChainCursor.follows(c, in: line(index), after: before, in: line(index - 1))
            }
        }
        self.checks = checks
    }

    /// Gives `body` the lines by index, reaching the buffers once (not for every line,
    /// from every core).
    func withLines<T>(_ body: ((Int) -> UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try PrecheckBatch.withLines(bytes, starts, body)
    }

    private static func withLines<T>(_ bytes: [UInt8], _ starts: [Int], _ body: ((Int) -> UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try bytes.withUnsafeBytes { raw in
            try body { index in
                UnsafeRawBufferPointer(rebasing: raw[starts[index]..<(index + 1 < starts.count ? starts[index + 1] : raw.count)])
            }
        }
    }
}
