import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What `verify` found (SPEC §6: `{"ok","events","head","tornTail","erasedTexts","error"}`).
public struct VerifyReport: Sendable, Equatable {
    public var ok: Bool { failure == nil }
    /// Events checked before the first failure (all of them when there is none).
    public var events: Int
    public var head: LogHead
    public var tornTail: TornTail?
    public var erasedTexts: Int
    public var failure: IntegrityFailure?
}

extension EventLog {
    /// Checks the whole log as SPEC §2–3 asks: every line parses, is its own canonical
    /// form, hashes to its `hash`, links by `prev`, continues `seq`, has an id not seen
    /// before and a `recorded` not lower than the one before; every text reference
    /// names an attachment that hashes to it, unless a `text.erased` erased it. With
    /// `expectHead`, the event at that seq must still carry that hash.
    ///
    /// Reports the first failure with seq, file and line rather than throwing it; throws
    /// only when the log cannot be read at all (`.io`, `.notALog`).
    ///
    /// Complexity: one pass over the log; memory grows with the number of ids (16 bytes
    /// each) and text references, not with the size of the events.
    public func verify(expectHead: LogHead? = nil) throws -> VerifyReport {
        var report = VerifyReport(events: 0, head: .empty, tornTail: nil, erasedTexts: 0, failure: nil)
        var ids = Set<UUIDKey>()
        // About one id per 300 bytes of log: growing the set was a tenth of the time.
        ids.reserveCapacity(((try? bytesToRead(from: .start)) ?? 0) / 300)
        var textReferences: [(reference: String, place: LogPlace)] = []
        var erased = Set<String>()
        var sealedHashMatches: Bool?
        var sealedPlace: LogPlace?
        var lastPlace = LogPlace(seq: 1, file: EventLog.segmentName(1), line: 1)

        do {
            // Verify needs a few members of each line, not an `Event`: canonical lines are
            // checked in place (`ChainCursor.acceptFacts`), others through the strict path.
            // Lines are gathered in batches; each batch is prechecked (parsed and hashed)
            // on both cores, then linked in order on this thread.
            var cursor = ChainCursor(position: .start)
            let batch = VerifyBatch()
            func link(_ line: UnsafeRawBufferPointer, _ location: LineLocation, _ checked: ChainCursor.Precheck??) throws {
                let facts = try cursor.acceptFacts(line: line, place: location, checked: checked)
                let place = LogPlace(seq: facts.seq, file: location.file, line: location.line)
                guard ids.insert(facts.id).inserted else {
                    throw LogError.integrity(IntegrityFailure(place: place, reason: "id \(facts.idText()) was already used by an earlier event"))
                }
                if let reference = facts.textReference { textReferences.append((reference, place)) }
                if let reference = facts.erasedReference { erased.insert(reference) }
                if let expectHead, expectHead.seq == facts.seq {
                    sealedHashMatches = expectHead.hash == cursor.position.hash
                    sealedPlace = place
                }
                report.events = facts.seq
                report.head = LogHead(seq: facts.seq, hash: cursor.position.hash, recorded: cursor.lastRecorded)
                lastPlace = LogPlace(seq: facts.seq + 1, file: location.file, line: location.line + 1)
            }
            func flush() throws {
                try batch.precheckAll()
                for index in 0..<batch.count { try batch.withLine(index) { try link($0, batch.locations[index], .some(batch.checks[index])) } }
                batch.removeAll()
            }
            do {
                try scanLines(from: .start) { line, location in
                    batch.append(line, location)
                    if batch.isFull { try flush() }
                    return true
                } tail: { report.tornTail = $0 }
            } catch {
                // The lines gathered before what the scan refused come first, and so do their failures.
                try flush()
                throw error
            }
            try flush()
        } catch LogError.integrity(let failure) {
            report.failure = failure
            return report
        }

        for (reference, place) in textReferences where !erased.contains(reference) {
            switch readText(reference) {
            case .text: continue
            case .missing:
                report.failure = IntegrityFailure(place: place, reason: "attachment \(reference) is missing and no text.erased event erased it")
            case .altered:
                report.failure = IntegrityFailure(place: place, reason: "attachment \(reference) no longer hashes to its reference; it was changed after it was written")
            }
            return report
        }
        report.erasedTexts = erased.count

        if let expectHead {
            if expectHead.seq > report.events {
                report.failure = IntegrityFailure(place: lastPlace, reason: "the seal \(expectHead) names seq \(expectHead.seq), but the log ends at seq \(report.events); events after it were removed")
            } else if sealedHashMatches == false {
                report.failure = IntegrityFailure(place: sealedPlace ?? lastPlace, reason: "the seal \(expectHead) does not match the event now at seq \(expectHead.seq); the log was rewritten since the seal was read out")
            }
        }
        return report
    }
}

/// An event id as 16 bytes, so a million of them fit in a set of modest size.
public struct UUIDKey: Hashable, Sendable {
    var high: UInt64 = 0
    var low: UInt64 = 0

    /// From the 36 bytes of a valid id.
    init(bytes: UnsafeRawBufferPointer) {
        // '0'…'9' and 'a'…'f' to 0…15 without a branch; the dashes sit at 8, 13, 18, 23.
        @inline(__always) func nibble(_ b: UInt8) -> UInt64 { UInt64((b & 0x0F) &+ 9 &* (b >> 6)) }
        for i in 0..<36 where i != 8 && i != 13 && i != 18 && i != 23 {
            if i < 19 { high = high << 4 | nibble(bytes[i]) } else { low = low << 4 | nibble(bytes[i]) }
        }
    }

    public init(_ id: String) {
        var nibbles = 0
        for byte in id.utf8 where byte != UInt8(ascii: "-") {
            let value = UInt64(byte <= UInt8(ascii: "9") ? byte - UInt8(ascii: "0") : byte - UInt8(ascii: "a") + 10)
            if nibbles < 16 { high = high << 4 | value } else { low = low << 4 | value }
            nibbles += 1
        }
    }
}

/// What `verify` needs of one line.
struct LineFacts {
    var seq: Int
    var id: UUIDKey
    /// The id as written, kept only when the line went through the strict path.
    var idString: String?
    /// `data.text`, when it is a text reference.
    var textReference: String?
    /// `data.ref` of a `text.erased`.
    var erasedReference: String?

    func idText() -> String {
        if let idString { return idString }
        return Hex.uuid(withUnsafeBytes(of: id.high.bigEndian, Array.init) + withUnsafeBytes(of: id.low.bigEndian, Array.init))
    }
}

extension ChainCursor {
    /// What can be checked of a canonical line without knowing the line before it:
    /// its envelope's form and its hash. Nil sends the line to the strict path.
    struct Precheck {
        var canonical: CanonicalLine
        var id: UUIDKey
        /// `data` may name a text, or the event erases one: parse it.
        var readData: Bool
        var erasure: Bool
    }

    static func precheck(_ line: UnsafeRawBufferPointer, hashing: Bool = true) -> Precheck? {
        guard let c = CanonicalLine.scan(line), c.hasWellFormedEnvelope(in: line),
              !hashing || c.hashMatches(c.computedDigest(of: line), in: line) else { return nil }
        let erasure = UnsafeRawBufferPointer(rebasing: line[c.type]).elementsEqual(EventLog.textErasedType.utf8)
        let readData = erasure || ChainCursor.contains(UnsafeRawBufferPointer(rebasing: line[c.data]), #""text":"sha256-"#)
        return Precheck(canonical: c, id: UUIDKey(bytes: UnsafeRawBufferPointer(rebasing: line[c.id])), readData: readData, erasure: erasure)
    }

    /// `accept(line:place:checks: .hashes)` for `verify`, without building an `Event`
    /// when the line is canonical and continues the chain. Anything else (including
    /// every failure) goes through `accept`, which throws the same errors as before.
    /// `checked` is `precheck(line)`, when it was already done (on another thread).
    mutating func acceptFacts(line: UnsafeRawBufferPointer, place location: LineLocation, checked: Precheck?? = nil) throws -> LineFacts {
        if let p = checked ?? ChainCursor.precheck(line), linkInPlace(p, line: line, location: location) {
            let c = p.canonical
            var facts = LineFacts(seq: c.seq, id: p.id)
            if p.readData {
                guard case .object(let object)? = try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: line[c.data]), integersOnly: true) else {
                    return try factsOfEvent(line: line, place: location)
                }
                if case .string(let reference)? = object["text"], EventLog.isTextReference(reference) { facts.textReference = reference }
                if p.erasure, case .string(let reference)? = object["ref"] { facts.erasedReference = reference }
            }
            return facts
        }
        return try factsOfEvent(line: line, place: location)
    }

    /// Links a prechecked line to the chain without building its event: the next seq,
    /// `prev` the hash before it, `recorded` not lower. False (and nothing changed) when
    /// it does not link; the strict path then names the failure.
    mutating func linkInPlace(_ checked: Precheck, line: UnsafeRawBufferPointer, location: LineLocation) -> Bool {
        let c = checked.canonical
        guard c.seq == position.seq + 1, ChainCursor.equal(line, c.prev, position.hash),
              lastRecorded.map({ !ChainCursor.precedes(line, c.recorded, $0) }) ?? true else { return false }
        position = LogPosition(segment: location.segment, offset: location.offset + location.length, linesBefore: location.line,
                               seq: c.seq, hash: String(decoding: UnsafeRawBufferPointer(rebasing: line[c.hash]), as: UTF8.self))
        lastRecorded = String(decoding: UnsafeRawBufferPointer(rebasing: line[c.recorded]), as: UTF8.self)
        return true
    }

    private mutating func factsOfEvent(line: UnsafeRawBufferPointer, place location: LineLocation) throws -> LineFacts {
        let event = try accept(line: line, place: location, checks: .hashes)
        var facts = LineFacts(seq: event.seq, id: UUIDKey(event.id), idString: event.id)
        if case .string(let reference)? = event.data["text"], EventLog.isTextReference(reference) { facts.textReference = reference }
        if event.type == EventLog.textErasedType, case .string(let reference)? = event.data["ref"] { facts.erasedReference = reference }
        return facts
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

    static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: StaticString) -> Bool {
        let n = needle.utf8CodeUnitCount
        guard haystack.count >= n else { return false }
        let first = needle.utf8Start[0]
        var i = 0
        while i + n <= haystack.count {
            if haystack[i] == first {
                var k = 1
                while k < n && haystack[i + k] == needle.utf8Start[k] { k += 1 }
                if k == n { return true }
            }
            i += 1
        }
        return false
    }
}

/// Lines gathered for `verify`, prechecked on two threads at once. A reference type
/// (its storage is shared with the worker threads, each writing its own half of `checks`).
final class VerifyBatch: @unchecked Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [Int] = []
    private(set) var locations: [LineLocation] = []
    private(set) var checks: [ChainCursor.Precheck?] = []
    /// Lines it holds before it is full.
    let capacity: Int

    var count: Int { locations.count }
    var isFull: Bool { count >= capacity }

    init(capacity: Int = 8192) {
        self.capacity = capacity
        bytes.reserveCapacity(capacity * 512)
    }

    func append(_ line: UnsafeRawBufferPointer, _ location: LineLocation) {
        starts.append(bytes.count)
        bytes.append(contentsOf: line)
        locations.append(location)
    }

    func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        locations.removeAll(keepingCapacity: true)
        checks.removeAll(keepingCapacity: true)
    }

    func withLine<T>(_ index: Int, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        let end = index + 1 < starts.count ? starts[index + 1] : bytes.count
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[starts[index]..<end])) }
    }

    /// Fills `checks`, the two halves of the batch on two threads; without `hashing`,
    /// the hashes are left to the strict path.
    func precheckAll(hashing: Bool = true) throws {
        let n = count
        checks = Array(repeating: nil, count: n)
        guard n > 0 else { return }
        let halves = n >= 256 && ProcessInfo.processInfo.activeProcessorCount > 1 ? 2 : 1
        bytes.withUnsafeBytes { raw in
            checks.withUnsafeMutableBufferPointer { out in
                let shared = SharedBuffers(raw: raw, out: out, starts: starts)
                DispatchQueue.concurrentPerform(iterations: halves) { half in
                    let range = half == 0 ? 0..<(n / halves) : (n / halves)..<n
                    for index in range {
                        let end = index + 1 < shared.starts.count ? shared.starts[index + 1] : shared.raw.count
                        shared.out[index] = ChainCursor.precheck(UnsafeRawBufferPointer(rebasing: shared.raw[shared.starts[index]..<end]), hashing: hashing)
                    }
                }
            }
        }
    }

    /// The buffers the worker threads read (the lines) and write (each its own indices).
    private struct SharedBuffers: @unchecked Sendable {
        let raw: UnsafeRawBufferPointer
        let out: UnsafeMutableBufferPointer<ChainCursor.Precheck?>
        let starts: [Int]
    }
}
